//! What the `execute` group runs on each engine: the wasmi-benchmarks micro-kernels,
//! CoreMark, and the Sightglass programs. Kestrel runs on each of its engines
//! (`kestrel-interp`, `kestrel-jit`, `kestrel-tiered`); with the `peers` feature Wasmtime
//! (Cranelift) and wasmi (its default: lazy translation) run the same bytes.
//!
//! Each runner returns what the work produced — a kernel's result, CoreMark's score, a
//! program's output — so the benchmark checks every engine against the others, or against
//! the corpus's expected output, before timing it: a figure of an engine that computed the
//! wrong thing is never reported.

use kestrel_spec_tests::sightglass::Program;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The argument of a kernel's `run` export, whose type is the result's type too.
#[derive(Debug, Clone, Copy)]
pub enum KernelInput {
    I32(i32),
    I64(i64),
}

/// One engine's way to run something: `make` sets it up (compiles, instantiates) and
/// returns the closure that runs it once. Set-up is deferred so a benchmark the filter does
/// not select costs nothing.
pub struct Runner<R> {
    pub name: &'static str,
    pub make: Box<dyn FnOnce() -> R>,
}

/// Calls a kernel's `run` once; returns its result.
pub type KernelRun = Box<dyn FnMut() -> i64>;
/// Calls CoreMark's `run` once; returns its score (0 when its self-check failed).
pub type CoreMarkRun = Box<dyn FnMut() -> f32>;
/// Runs a program once, from instantiation to exit.
pub type ProgramRun = Box<dyn FnMut() -> ProgramOutcome>;

/// What one run of a Sightglass program did.
pub struct ProgramOutcome {
    /// Time between `bench.start` and `bench.end`, summed over the pairs of calls.
    pub measured: Duration,
    /// How many `bench.start` → `bench.end` intervals the program went through.
    pub intervals: u32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// How many milliseconds the CoreMark clock advances per reading.
///
/// CoreMark decides how many iterations to run from the clock: it calibrates (10
/// iterations, then 100, ... until one batch takes a second or more), then runs enough for
/// ten seconds. The benchmark gives it a clock that advances 10 s per reading, so each
/// `run` call does exactly 30 iterations, whatever the engine's speed: a calibration batch
/// of 10 "takes" 10 s, so the timed batch is 10 × (10 s / 10 s, plus 1) = 20 iterations,
/// which also "take" 10 s: the score is 2.0 (see the test below). Criterion times the call.
/// The score is then no rate; the benchmark compares it between engines only to check that
/// each passed CoreMark's self-check (the score is 0 otherwise). The real CoreMark score,
/// with a real clock, is the `coremark` example's.
pub const COREMARK_CLOCK_STEP_MS: u32 = 10_000;
/// CoreMark iterations per `run` call with [`COREMARK_CLOCK_STEP_MS`].
pub const COREMARK_ITERATIONS_PER_CALL: u64 = 30;
/// The score CoreMark returns with [`COREMARK_CLOCK_STEP_MS`]: 20 timed iterations in 10 s.
pub const COREMARK_STEPPED_SCORE: f32 = 2.0;

/// A clock for CoreMark's `env.clock_ms` import that advances [`COREMARK_CLOCK_STEP_MS`]
/// per reading.
fn stepping_clock() -> impl Fn() -> u32 + Send + Sync + 'static {
    let now = Arc::new(AtomicU32::new(0));
    move || now.fetch_add(COREMARK_CLOCK_STEP_MS, Ordering::Relaxed)
}

/// Kestrel's engines, then the peers, on a kernel (text or binary).
pub fn kernel_runners(kernel: &[u8], input: KernelInput) -> Vec<Runner<KernelRun>> {
    let binary = crate::subjects::to_binary(kernel);
    #[allow(unused_mut)]
    let mut runners: Vec<Runner<KernelRun>> = kestrel::ENGINES
        .iter()
        .map(|&(name, strategy)| {
            let binary = binary.clone();
            Runner {
                name,
                make: Box::new(move || kestrel::kernel(strategy, &binary, input)) as Box<_>,
            }
        })
        .collect();
    #[cfg(feature = "peers")]
    {
        let for_wasmtime = binary.clone();
        runners.push(Runner {
            name: "wasmtime",
            make: Box::new(move || wasmtime::kernel(&for_wasmtime, input)),
        });
        runners.push(Runner {
            name: "wasmi",
            make: Box::new(move || wasmi::kernel(&binary, input)),
        });
    }
    runners
}

pub fn coremark_runners(binary: &[u8]) -> Vec<Runner<CoreMarkRun>> {
    #[allow(unused_mut)]
    let mut runners: Vec<Runner<CoreMarkRun>> = kestrel::ENGINES
        .iter()
        .map(|&(name, strategy)| {
            let binary = binary.to_vec();
            Runner {
                name,
                make: Box::new(move || kestrel::coremark(strategy, &binary)) as Box<_>,
            }
        })
        .collect();
    #[cfg(feature = "peers")]
    {
        let (for_wasmtime, for_wasmi) = (binary.to_vec(), binary.to_vec());
        runners.push(Runner {
            name: "wasmtime",
            make: Box::new(move || wasmtime::coremark(&for_wasmtime)),
        });
        runners.push(Runner {
            name: "wasmi",
            make: Box::new(move || wasmi::coremark(&for_wasmi)),
        });
    }
    runners
}

/// Engines that compile before running (Kestrel's JIT, Wasmtime) compile the program once
/// and reuse the module, since their compilation happens before `bench.start` anyway.
/// Engines that translate or compile lazily (the interpreter, tiered execution, wasmi)
/// load the module afresh for every run, so each run pays, inside the measured interval,
/// the translation and tier-up work a fresh process pays; loading (validation) itself
/// stays outside the interval, as for the others.
pub fn program_runners(program: &Program) -> Vec<Runner<ProgramRun>> {
    #[allow(unused_mut)]
    let mut runners: Vec<Runner<ProgramRun>> = kestrel::ENGINES
        .iter()
        .map(|&(name, strategy)| {
            let program = program.clone();
            Runner {
                name,
                make: Box::new(move || kestrel::program(strategy, &program)) as Box<_>,
            }
        })
        .collect();
    #[cfg(feature = "peers")]
    {
        let (for_wasmtime, for_wasmi) = (program.clone(), program.clone());
        runners.push(Runner {
            name: "wasmtime",
            make: Box::new(move || wasmtime::program(&for_wasmtime)),
        });
        runners.push(Runner {
            name: "wasmi",
            make: Box::new(move || wasmi::program(&for_wasmi)),
        });
    }
    runners
}

fn read_program(program: &Program) -> Vec<u8> {
    std::fs::read(&program.path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", program.path.display()))
}

/// The store data of a Sightglass run: the engine's WASI context and the `bench` module's
/// clock.
struct Harness<W> {
    wasi: W,
    started: Option<Instant>,
    measured: Duration,
    intervals: u32,
}

impl<W> Harness<W> {
    fn new(wasi: W) -> Harness<W> {
        Harness {
            wasi,
            started: None,
            measured: Duration::ZERO,
            intervals: 0,
        }
    }

    fn start(&mut self) {
        self.started = Some(Instant::now());
    }

    fn end(&mut self) {
        if let Some(started) = self.started.take() {
            self.measured += started.elapsed();
            self.intervals += 1;
        }
    }
}

/// The program's argv\[0\], as the command line gives it.
fn program_file(program: &Program) -> String {
    program
        .path
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

pub mod kestrel {
    //! Kestrel's side, on each of its engines.
    use super::*;
    use ::kestrel::*;
    use kestrel_wasi::{I32Exit, MemoryOutputPipe, WasiCtx, WasiCtxBuilder};

    /// Kestrel's engines, by benchmark name.
    pub const ENGINES: &[(&str, Strategy)] = &[
        ("kestrel-interp", Strategy::Interpreter),
        ("kestrel-jit", Strategy::Jit),
        ("kestrel-tiered", Strategy::Tiered),
    ];

    pub fn engine(strategy: Strategy) -> Engine {
        let mut config = Config::new();
        config.strategy(strategy);
        Engine::new(&config).expect("valid configuration")
    }

    pub fn kernel(strategy: Strategy, binary: &[u8], input: KernelInput) -> KernelRun {
        let engine = engine(strategy);
        let module = Module::new(&engine, binary).expect("valid kernel");
        let mut store = Store::new(&engine, ());
        let instance = Linker::new(&engine)
            .instantiate(&mut store, &module)
            .expect("kernel instantiates");
        match input {
            KernelInput::I32(input) => {
                let run = instance
                    .get_typed_func::<i32, i32>(&mut store, "run")
                    .expect("kernel exports run: i32 -> i32");
                Box::new(move || i64::from(run.call(&mut store, input).expect("kernel runs")))
            }
            KernelInput::I64(input) => {
                let run = instance
                    .get_typed_func::<i64, i64>(&mut store, "run")
                    .expect("kernel exports run: i64 -> i64");
                Box::new(move || run.call(&mut store, input).expect("kernel runs"))
            }
        }
    }

    pub fn coremark(strategy: Strategy, binary: &[u8]) -> CoreMarkRun {
        let engine = engine(strategy);
        let module = Module::new(&engine, binary).expect("valid CoreMark");
        let mut linker = Linker::new(&engine);
        linker
            .func_wrap("env", "clock_ms", stepping_clock())
            .expect("defines clock_ms");
        let mut store = Store::new(&engine, ());
        let instance = linker
            .instantiate(&mut store, &module)
            .expect("CoreMark instantiates");
        let run = instance
            .get_typed_func::<(), f32>(&mut store, "run")
            .expect("CoreMark exports run");
        Box::new(move || run.call(&mut store, ()).expect("CoreMark runs"))
    }

    pub fn program(strategy: Strategy, program: &Program) -> ProgramRun {
        let binary = read_program(program);
        let engine = engine(strategy);
        let compiled_once = strategy == Strategy::Jit;
        let module = Module::new(&engine, &binary).expect("valid program");
        let mut linker: Linker<Harness<WasiCtx>> = Linker::new(&engine);
        kestrel_wasi::add_to_linker(&mut linker, |harness| &mut harness.wasi)
            .expect("defines WASI");
        linker
            .func_wrap(
                "bench",
                "start",
                |mut caller: Caller<'_, Harness<WasiCtx>>| caller.data_mut().start(),
            )
            .expect("defines bench.start");
        linker
            .func_wrap(
                "bench",
                "end",
                |mut caller: Caller<'_, Harness<WasiCtx>>| caller.data_mut().end(),
            )
            .expect("defines bench.end");
        let (file, folder, name) = (
            program_file(program),
            program.folder.clone(),
            program.name.clone(),
        );
        Box::new(move || {
            let module = if compiled_once {
                module.clone()
            } else {
                Module::new(&engine, &binary).expect("valid program")
            };
            let (stdout, stderr) = (MemoryOutputPipe::new(), MemoryOutputPipe::new());
            let wasi = WasiCtxBuilder::new()
                .arg(&file)
                .stdout(stdout.clone())
                .stderr(stderr.clone())
                .preopened_dir(&folder, ".")
                .expect("the program's folder opens")
                .build();
            let mut store = Store::new(&engine, Harness::new(wasi));
            let instance = linker
                .instantiate(&mut store, &module)
                .expect("program instantiates");
            let start = instance
                .get_typed_func::<(), ()>(&mut store, "_start")
                .expect("program exports _start");
            match start.call(&mut store, ()) {
                Ok(()) => {}
                Err(error) if error.downcast_ref::<I32Exit>() == Some(&I32Exit(0)) => {}
                Err(error) => panic!("{name} failed: {error}"),
            }
            let harness = store.into_data();
            ProgramOutcome {
                measured: harness.measured,
                intervals: harness.intervals,
                stdout: stdout.contents(),
                stderr: stderr.contents(),
            }
        })
    }
}

#[cfg(feature = "peers")]
pub mod wasmtime {
    //! Wasmtime's side (Cranelift, default configuration; WASI from `wasmtime-wasi`).
    use super::*;
    use ::wasmtime::*;
    use wasmtime_wasi::p1::WasiP1Ctx;
    use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
    use wasmtime_wasi::{FsPerms, I32Exit, WasiCtxBuilder};

    pub fn kernel(binary: &[u8], input: KernelInput) -> KernelRun {
        let engine = Engine::default();
        let module = Module::new(&engine, binary).expect("valid kernel");
        let mut store = Store::new(&engine, ());
        let instance = Linker::new(&engine)
            .instantiate(&mut store, &module)
            .expect("kernel instantiates");
        match input {
            KernelInput::I32(input) => {
                let run = instance
                    .get_typed_func::<i32, i32>(&mut store, "run")
                    .expect("kernel exports run: i32 -> i32");
                Box::new(move || i64::from(run.call(&mut store, input).expect("kernel runs")))
            }
            KernelInput::I64(input) => {
                let run = instance
                    .get_typed_func::<i64, i64>(&mut store, "run")
                    .expect("kernel exports run: i64 -> i64");
                Box::new(move || run.call(&mut store, input).expect("kernel runs"))
            }
        }
    }

    pub fn coremark(binary: &[u8]) -> CoreMarkRun {
        let engine = Engine::default();
        let module = Module::new(&engine, binary).expect("valid CoreMark");
        let mut linker = Linker::new(&engine);
        linker
            .func_wrap("env", "clock_ms", stepping_clock())
            .expect("defines clock_ms");
        let mut store = Store::new(&engine, ());
        let instance = linker
            .instantiate(&mut store, &module)
            .expect("CoreMark instantiates");
        let run = instance
            .get_typed_func::<(), f32>(&mut store, "run")
            .expect("CoreMark exports run");
        Box::new(move || run.call(&mut store, ()).expect("CoreMark runs"))
    }

    pub fn program(program: &Program) -> ProgramRun {
        let engine = Engine::default();
        let module = Module::new(&engine, read_program(program)).expect("valid program");
        let mut linker: Linker<Harness<WasiP1Ctx>> = Linker::new(&engine);
        wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |harness| &mut harness.wasi)
            .expect("defines WASI");
        linker
            .func_wrap(
                "bench",
                "start",
                |mut caller: Caller<'_, Harness<WasiP1Ctx>>| caller.data_mut().start(),
            )
            .expect("defines bench.start");
        linker
            .func_wrap(
                "bench",
                "end",
                |mut caller: Caller<'_, Harness<WasiP1Ctx>>| caller.data_mut().end(),
            )
            .expect("defines bench.end");
        let (file, folder, name) = (
            program_file(program),
            program.folder.clone(),
            program.name.clone(),
        );
        Box::new(move || {
            let (stdout, stderr) = (
                MemoryOutputPipe::new(usize::MAX),
                MemoryOutputPipe::new(usize::MAX),
            );
            let wasi = WasiCtxBuilder::new()
                .arg(&file)
                .stdout(stdout.clone())
                .stderr(stderr.clone())
                .preopened_dir(&folder, ".", FsPerms::ReadWrite)
                .expect("the program's folder opens")
                .build_p1();
            let mut store = Store::new(&engine, Harness::new(wasi));
            let instance = linker
                .instantiate(&mut store, &module)
                .expect("program instantiates");
            let start = instance
                .get_typed_func::<(), ()>(&mut store, "_start")
                .expect("program exports _start");
            match start.call(&mut store, ()) {
                Ok(()) => {}
                Err(error)
                    if error
                        .downcast_ref::<I32Exit>()
                        .is_some_and(|exit| exit.0 == 0) => {}
                Err(error) => panic!("{name} failed under Wasmtime: {error:?}"),
            }
            let harness = store.into_data();
            ProgramOutcome {
                measured: harness.measured,
                intervals: harness.intervals,
                stdout: stdout.contents().to_vec(),
                stderr: stderr.contents().to_vec(),
            }
        })
    }
}

#[cfg(feature = "peers")]
pub mod wasmi {
    //! wasmi's side (default configuration: eager validation, lazy translation; WASI from
    //! `wasmi_wasi`).
    use super::*;
    use ::wasmi::*;
    use std::io::Cursor;
    use std::sync::RwLock;
    use wasmi_wasi::WasiCtx;
    use wasmi_wasi::wasi_common::pipe::WritePipe;

    pub fn kernel(binary: &[u8], input: KernelInput) -> KernelRun {
        let engine = Engine::default();
        let module = Module::new(&engine, binary).expect("valid kernel");
        let mut store = Store::new(&engine, ());
        let instance = Linker::new(&engine)
            .instantiate_and_start(&mut store, &module)
            .expect("kernel instantiates");
        match input {
            KernelInput::I32(input) => {
                let run = instance
                    .get_typed_func::<i32, i32>(&store, "run")
                    .expect("kernel exports run: i32 -> i32");
                Box::new(move || i64::from(run.call(&mut store, input).expect("kernel runs")))
            }
            KernelInput::I64(input) => {
                let run = instance
                    .get_typed_func::<i64, i64>(&store, "run")
                    .expect("kernel exports run: i64 -> i64");
                Box::new(move || run.call(&mut store, input).expect("kernel runs"))
            }
        }
    }

    pub fn coremark(binary: &[u8]) -> CoreMarkRun {
        let engine = Engine::default();
        let module = Module::new(&engine, binary).expect("valid CoreMark");
        let mut linker = Linker::new(&engine);
        linker
            .func_wrap("env", "clock_ms", stepping_clock())
            .expect("defines clock_ms");
        let mut store = Store::new(&engine, ());
        let instance = linker
            .instantiate_and_start(&mut store, &module)
            .expect("CoreMark instantiates");
        let run = instance
            .get_typed_func::<(), f32>(&store, "run")
            .expect("CoreMark exports run");
        Box::new(move || run.call(&mut store, ()).expect("CoreMark runs"))
    }

    type Buffer = Arc<RwLock<Cursor<Vec<u8>>>>;

    fn contents(buffer: &Buffer) -> Vec<u8> {
        buffer
            .read()
            .unwrap_or_else(|poison| poison.into_inner())
            .get_ref()
            .clone()
    }

    pub fn program(program: &Program) -> ProgramRun {
        let binary = read_program(program);
        let engine = Engine::default();
        let mut linker: Linker<Harness<WasiCtx>> = Linker::new(&engine);
        wasmi_wasi::add_to_linker(&mut linker, |harness| &mut harness.wasi).expect("defines WASI");
        linker
            .func_wrap(
                "bench",
                "start",
                |mut caller: Caller<'_, Harness<WasiCtx>>| caller.data_mut().start(),
            )
            .expect("defines bench.start");
        linker
            .func_wrap(
                "bench",
                "end",
                |mut caller: Caller<'_, Harness<WasiCtx>>| caller.data_mut().end(),
            )
            .expect("defines bench.end");
        let (file, folder, name) = (
            program_file(program),
            program.folder.clone(),
            program.name.clone(),
        );
        Box::new(move || {
            let module = Module::new(&engine, &binary[..]).expect("valid program");
            let stdout: Buffer = Arc::default();
            let stderr: Buffer = Arc::default();
            let dir = wasmi_wasi::Dir::open_ambient_dir(&folder, wasmi_wasi::ambient_authority())
                .expect("the program's folder opens");
            let wasi = wasmi_wasi::WasiCtxBuilder::new()
                .arg(&file)
                .expect("argument fits")
                .stdout(Box::new(WritePipe::from_shared(stdout.clone())))
                .stderr(Box::new(WritePipe::from_shared(stderr.clone())))
                .preopened_dir(dir, ".")
                .expect("preopens the folder")
                .build();
            let mut store = Store::new(&engine, Harness::new(wasi));
            let instance = linker
                .instantiate_and_start(&mut store, &module)
                .expect("program instantiates");
            let start = instance
                .get_typed_func::<(), ()>(&store, "_start")
                .expect("program exports _start");
            match start.call(&mut store, ()) {
                Ok(()) => {}
                Err(error) if error.i32_exit_status() == Some(0) => {}
                Err(error) => panic!("{name} failed under wasmi: {error}"),
            }
            let harness = store.into_data();
            ProgramOutcome {
                measured: harness.measured,
                intervals: harness.intervals,
                stdout: contents(&stdout),
                stderr: contents(&stderr),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The iteration count the `execute/coremark` figures rest on: with the stepping clock,
    /// CoreMark reads the clock four times (around the calibration batch and the timed
    /// batch) and scores 20 iterations in 10 s.
    #[test]
    fn the_stepping_clock_makes_coremark_run_a_fixed_count() {
        use ::kestrel::{Engine, Linker, Module, Store};
        let engine = Engine::default();
        let module = Module::new(&engine, crate::wasm("coremark")).expect("valid CoreMark");
        let readings = Arc::new(AtomicU32::new(0));
        let counted = readings.clone();
        let clock = stepping_clock();
        let mut linker = Linker::new(&engine);
        linker
            .func_wrap("env", "clock_ms", move || {
                counted.fetch_add(1, Ordering::Relaxed);
                clock()
            })
            .expect("defines clock_ms");
        let mut store = Store::new(&engine, ());
        let instance = linker
            .instantiate(&mut store, &module)
            .expect("instantiates");
        let run = instance
            .get_typed_func::<(), f32>(&mut store, "run")
            .expect("exports run");
        for call in 1..=2 {
            assert_eq!(
                run.call(&mut store, ()).expect("runs"),
                COREMARK_STEPPED_SCORE
            );
            assert_eq!(readings.load(Ordering::Relaxed), 4 * call);
        }
    }
}
