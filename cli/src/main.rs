//! `kestrel`: the command-line runner.
//!
//! - `kestrel run [--dir HOST[::GUEST]]... [--env NAME[=VALUE]]... FILE [ARGS...]` runs a
//!   WASI program (`_start`) with `ARGS` after its name, or with `--invoke NAME` calls the
//!   export `NAME` with `ARGS` and prints its results, one per line. WASI preview1 is always
//!   linked (`kestrel-wasi`), with the host's stdio inherited; the flags mean what
//!   Wasmtime's do. `--fuel N`, `--timeout DURATION` and `--max-memory BYTES` bound the
//!   program's work, time and memory.
//! - `kestrel validate FILE` checks a module and prints nothing when it is valid.
//! - `kestrel wast FILE...` runs spec scripts through the `kestrel-spec-tests` harness.
//!
//! Every failure is reported as `error: ...` on stderr with a non-zero exit status; a
//! trap also prints the Wasm backtrace and exits with 134 on Unix, as Wasmtime does. A WASI
//! program's `proc_exit` status becomes the process's.

use clap::{Args, Parser, Subcommand};
use kestrel::{
    Config, Engine, ErrorKind, ExternType, Func, Linker, Module, Store, StoreLimits,
    StoreLimitsBuilder, Trap, Val, ValType,
};
use kestrel_spec_tests::{EngineKind, RunOptions, ScriptFile, Suite, Totals, run_files};
use kestrel_wasi::{I32Exit, Raised, WasiCtx, WasiCtxBuilder};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const EXIT_STATUS_HELP: &str = "\
Exit status:
  0    success
  1    an error: unreadable, malformed or invalid module, link error, bad arguments,
       failed spec directives
  2    wrong command-line usage
  134  the WebAssembly program trapped (Unix; 3 on Windows). Like Wasmtime, a trap exits
       as an abort would (128 + SIGABRT), so scripts can tell it from an ordinary error.
  N    a WASI program called proc_exit(N) (N < 126), or raised signal S with proc_raise
       (N = 128 + S, as a shell reports a process killed by S).";

/// Kestrel, a WebAssembly runtime.
#[derive(Debug, Parser)]
#[command(name = "kestrel", version, after_help = EXIT_STATUS_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs a WebAssembly module (binary `.wasm` or text `.wat`).
    ///
    /// Without --invoke, instantiates the module (running its start function) and calls
    /// its `_start` export if it has one: a WASI program, which sees ARGS after its name.
    /// With --invoke, calls that export with ARGS converted to its parameter types
    /// (i32/i64: decimal or 0x hex; f32/f64: decimal, `nan`, `inf`, `-inf`) and prints each
    /// result on its own line. Either way, a module exporting `_initialize` (a WASI reactor)
    /// has it called first.
    ///
    /// WASI preview1 (`wasi_snapshot_preview1`) is provided: the program inherits stdin,
    /// stdout and stderr, sees only the directories granted with --dir and the variables
    /// set with --env, and its proc_exit status becomes kestrel's exit status.
    ///
    /// Limits: --fuel N stops the program with a trap once it has executed about N
    /// WebAssembly operators (exactly the same count on every engine); --timeout DURATION
    /// stops it with a trap once that much time has passed; --max-memory BYTES makes any
    /// memory growth beyond BYTES fail (memory.grow returns -1) and refuses modules whose
    /// memories start larger.
    #[command(after_help = EXIT_STATUS_HELP)]
    Run(RunArgs),
    /// Validates a module; prints nothing and exits 0 when it is valid.
    #[command(after_help = EXIT_STATUS_HELP)]
    Validate {
        /// The module (binary `.wasm` or text `.wat`).
        file: PathBuf,
    },
    /// Runs `.wast` spec test scripts and prints one line per file and a summary.
    #[command(after_help = EXIT_STATUS_HELP)]
    Wast(WastArgs),
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Calls this exported function instead of `_start` and prints its results.
    #[arg(long, value_name = "NAME")]
    invoke: Option<String>,
    /// Grants the program the host directory HOST, which it sees as GUEST (default: HOST
    /// as written). Paths are resolved inside it: the program cannot leave it through
    /// `..`, absolute paths or symlinks.
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    dirs: Vec<String>,
    /// Sets an environment variable of the program; NAME alone passes on the host's value
    /// (if it is set). Nothing else of the host's environment is passed.
    #[arg(long = "env", value_name = "NAME[=VALUE]")]
    envs: Vec<String>,
    /// The program name the program sees as its first argument (default: FILE's file name).
    #[arg(long, value_name = "NAME")]
    argv0: Option<String>,
    /// Instantiates the module FILE first (with WASI) and lets the program import its
    /// exports from module NAME (e.g. a benchmark harness's `bench`).
    #[arg(long = "preload", value_name = "NAME=FILE")]
    preloads: Vec<String>,
    /// The execution engine. `tiered` (the default where the JIT runs: Linux on x86-64,
    /// AArch64 and RISC-V 64) starts in the interpreter and compiles hot functions and loops
    /// with the JIT in the background; elsewhere the default is `interp`.
    #[arg(long, value_enum, default_value_t = EngineKind::default_for_programs())]
    engine: EngineKind,
    /// With `--engine tiered`: print to stderr when each function tiers up and how long
    /// its compilation took.
    #[arg(long)]
    trace_tiering: bool,
    /// With `--engine tiered`: no on-stack replacement, so a running call never leaves
    /// the interpreter (only later calls of a hot function run compiled code).
    #[arg(long)]
    no_osr: bool,
    /// Gives the program N units of fuel: each WebAssembly operator costs one (nop, drop,
    /// block, loop, end, else, return and unreachable are free), and running out traps.
    #[arg(long, value_name = "N")]
    fuel: Option<u64>,
    /// Interrupts the program with a trap once DURATION has passed (e.g. `2s`, `500ms`,
    /// `1m`; a bare number is seconds).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    timeout: Option<std::time::Duration>,
    /// The most bytes any one linear memory may have.
    #[arg(long, value_name = "BYTES")]
    max_memory: Option<usize>,
    /// The module to run.
    file: PathBuf,
    /// The program's arguments (after its name), or those of the function called with
    /// --invoke.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    args: Vec<String>,
}

#[derive(Debug, Args)]
struct WastArgs {
    /// The execution engine.
    #[arg(long, value_enum, default_value_t = EngineKind::Interp)]
    engine: EngineKind,
    /// Which specification's features the scripts may use.
    #[arg(long, value_enum, default_value_t = Suite::Spec2_0)]
    spec: Suite,
    /// Print at most this many failing directives per file (default: all).
    #[arg(long)]
    max_details: Option<usize>,
    /// The scripts to run.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

/// Why the command failed, which decides the exit status.
enum Failure {
    /// A one-line error message.
    Error(String),
    /// The program trapped: the message and the Wasm backtrace.
    Trap(String),
    /// A WASI program exited with this status (`proc_exit`); nothing to print.
    Exit(u8),
    /// A WASI program raised a terminating signal: the message and the exit status.
    Raised(String, u8),
    /// Spec directives failed; the report is already printed.
    Silent,
}

impl Failure {
    fn error(message: impl Into<String>) -> Failure {
        Failure::Error(message.into())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::Validate { file } => validate(&file),
        Command::Wast(args) => wast(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Error(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
        Err(Failure::Trap(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(TRAP_EXIT_STATUS)
        }
        Err(Failure::Exit(status)) => ExitCode::from(status),
        Err(Failure::Raised(message, status)) => {
            eprintln!("error: {message}");
            ExitCode::from(status)
        }
        Err(Failure::Silent) => ExitCode::FAILURE,
    }
}

/// Wasmtime's exit status for a trap: an abort's status on Unix (128 + SIGABRT), and the
/// status of `abort()` on Windows.
#[cfg(not(windows))]
const TRAP_EXIT_STATUS: u8 = 134;
#[cfg(windows)]
const TRAP_EXIT_STATUS: u8 = 3;

/// Reads `path` and returns the module binary, translating text format.
fn read_module(path: &Path) -> Result<Vec<u8>, Failure> {
    let bytes = std::fs::read(path)
        .map_err(|error| Failure::error(format!("cannot read `{}`: {error}", path.display())))?;
    if bytes.starts_with(b"\0asm") {
        return Ok(bytes);
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        Failure::error(format!(
            "`{}` is neither a WebAssembly binary nor UTF-8 text",
            path.display()
        ))
    })?;
    let text_error = |error: wast::Error| {
        let (line, column) = error.span().linecol_in(text);
        Failure::error(format!(
            "{}:{}:{}: {}",
            path.display(),
            line + 1,
            column + 1,
            error.message()
        ))
    };
    let buffer = wast::parser::ParseBuffer::new(text).map_err(text_error)?;
    let mut wat = wast::parser::parse::<wast::Wat<'_>>(&buffer).map_err(text_error)?;
    if matches!(wat, wast::Wat::Component(_)) {
        return Err(Failure::error(format!(
            "`{}` is a component; Kestrel runs core modules only",
            path.display()
        )));
    }
    wat.encode().map_err(text_error)
}

/// Parses `--timeout`: a number with an optional unit (`ms`, `s`, `m`, `h`; seconds when
/// none), possibly fractional.
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 2s or 500ms"))?;
    let seconds = match unit {
        "ms" => number / 1000.0,
        "" | "s" => number,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        _ => return Err(format!("`{text}`: the unit must be ms, s, m or h")),
    };
    std::time::Duration::try_from_secs_f64(seconds).map_err(|error| format!("`{text}`: {error}"))
}

/// What a `kestrel run` store holds: the WASI context and the store's limits.
struct Host {
    wasi: WasiCtx,
    limits: StoreLimits,
}

/// Tiered-mode settings of `kestrel run`.
#[derive(Debug, Clone, Copy, Default)]
struct TieringOptions {
    trace: bool,
    no_osr: bool,
}

fn engine(kind: EngineKind, tiering: TieringOptions) -> Result<Engine, Failure> {
    engine_with(kind, tiering, |_| {})
}

fn engine_with(
    kind: EngineKind,
    tiering: TieringOptions,
    configure: impl FnOnce(&mut Config),
) -> Result<Engine, Failure> {
    let mut config = Config::new();
    configure(&mut config);
    if kind == EngineKind::Tiered {
        // The spec harness's tiered engine compiles at the first call, for tests; programs
        // get the default thresholds and background compilation.
        config
            .strategy(kestrel::Strategy::Tiered)
            .trace_tiering(tiering.trace)
            .on_stack_replacement(!tiering.no_osr);
    } else {
        kind.configure(&mut config);
    }
    Engine::new(&config)
        .map_err(|error| Failure::error(format!("cannot create the engine: {error}")))
}

fn compile(engine: &Engine, path: &Path) -> Result<Module, Failure> {
    let binary = read_module(path)?;
    Module::new(engine, binary)
        .map_err(|error| Failure::error(format!("invalid module `{}`: {error}", path.display())))
}

fn validate(path: &Path) -> Result<(), Failure> {
    let binary = read_module(path)?;
    let engine = engine(EngineKind::Interp, TieringOptions::default())?;
    Module::validate(&engine, &binary)
        .map_err(|error| Failure::error(format!("invalid module `{}`: {error}", path.display())))
}

/// The error of a call or instantiation: traps exit with [`TRAP_EXIT_STATUS`], a WASI
/// program's exit with its status.
fn execution_failure(path: &Path, error: kestrel::Error) -> Failure {
    if let Some(I32Exit(status)) = error.downcast_ref::<I32Exit>() {
        // `proc_exit` only accepts statuses below 126.
        return Failure::Exit(u8::try_from(*status).unwrap_or(1));
    }
    if let Some(raised) = error.downcast_ref::<Raised>() {
        return Failure::Raised(
            format!("failed to run main module `{}`: {raised}", path.display()),
            128u8.saturating_add(raised.0),
        );
    }
    if error.trap_code() == Some(Trap::Interrupt) {
        return Failure::Trap(format!(
            "failed to run main module `{}`: the time limit was reached (--timeout): {error:#}",
            path.display()
        ));
    }
    if error.kind() == ErrorKind::Trap || error.trap_code().is_some() {
        // `{:#}` appends the Wasm backtrace.
        Failure::Trap(format!(
            "failed to run main module `{}`: {error:#}",
            path.display()
        ))
    } else {
        Failure::error(format!(
            "failed to run main module `{}`: {error:#}",
            path.display()
        ))
    }
}

fn run(args: RunArgs) -> Result<(), Failure> {
    let path = args.file.as_path();
    let tiering = TieringOptions {
        trace: args.trace_tiering,
        no_osr: args.no_osr,
    };
    let engine = engine_with(args.engine, tiering, |config| {
        config
            .consume_fuel(args.fuel.is_some())
            .epoch_interruption(args.timeout.is_some());
    })?;
    let module = compile(&engine, path)?;

    // Check the call before instantiating, so a usage error never runs the start function.
    let target = match &args.invoke {
        Some(name) => Some((name.as_str(), export_func_type(&module, name)?)),
        None => {
            let start = module.exports().find(|export| export.name() == "_start");
            if start.is_none() && !args.args.is_empty() {
                return Err(Failure::error(format!(
                    "`{}` has no `_start` function to pass the arguments to; use --invoke \
                     NAME to call a function with arguments",
                    path.display()
                )));
            }
            start.map(|export| ("_start", export.ty()))
        }
    };
    let params = match &target {
        Some((name, ExternType::Func(func_type))) if args.invoke.is_some() => {
            parse_args(name, func_type, &args.args)?
        }
        // `_start` takes nothing: the arguments are the WASI program's.
        Some((_, ExternType::Func(_))) => Vec::new(),
        Some((name, _)) => {
            return Err(Failure::error(format!("export `{name}` is not a function")));
        }
        None => Vec::new(),
    };

    let wasi = wasi_context(&args)?;
    let mut limits = StoreLimitsBuilder::new();
    if let Some(bytes) = args.max_memory {
        limits = limits.memory_size(bytes);
    }
    let host = Host {
        wasi,
        limits: limits.build(),
    };
    let mut store = Store::new(&engine, host);
    store.limiter(|host| &mut host.limits);
    if let Some(fuel) = args.fuel {
        store
            .set_fuel(fuel)
            .map_err(|error| Failure::error(format!("--fuel: {error}")))?;
    }
    if let Some(timeout) = args.timeout {
        // The deadline is the next tick, which a timer thread makes when the time is up;
        // the thread dies with the process.
        store.set_epoch_deadline(1);
        let engine = engine.clone();
        std::thread::spawn(move || {
            std::thread::sleep(timeout);
            engine.increment_epoch();
        });
    }
    let mut linker: Linker<Host> = Linker::new(&engine);
    kestrel_wasi::add_to_linker(&mut linker, |host| &mut host.wasi)
        .map_err(|error| Failure::error(format!("cannot define WASI: {error}")))?;
    for preload in &args.preloads {
        let (name, file) = preload
            .split_once('=')
            .ok_or_else(|| Failure::error(format!("--preload `{preload}`: expected NAME=FILE")))?;
        let file = Path::new(file);
        let preloaded = compile(&engine, file)?;
        let instance = instantiate(&linker, &mut store, &preloaded, file)?;
        linker
            .instance(&mut store, name, instance)
            .map_err(|error| Failure::error(format!("--preload `{preload}`: {error}")))?;
    }
    let instance = instantiate(&linker, &mut store, &module, path)?;
    if let Some(initialize) = instance.get_func(&mut store, "_initialize") {
        let initialize = initialize
            .typed::<(), ()>(&store)
            .map_err(|error| Failure::error(format!("`_initialize`: {error}")))?;
        initialize
            .call(&mut store, ())
            .map_err(|error| execution_failure(path, error))?;
    }
    let Some((name, _)) = target else {
        return Ok(());
    };
    let func: Func = instance
        .get_func(&mut store, name)
        .ok_or_else(|| Failure::error(format!("export `{name}` is not a function")))?;
    let ty = func.ty(&store);
    let mut results: Vec<Val> = ty.results().iter().map(|_| Val::I32(0)).collect();
    func.call(&mut store, &params, &mut results)
        .map_err(|error| execution_failure(path, error))?;
    if args.invoke.is_some() {
        let mut out = std::io::stdout().lock();
        for result in &results {
            let _ = writeln!(out, "{}", display_result(result));
        }
    }
    Ok(())
}

/// Instantiates `module` (read from `path`): link errors are one clean line, traps in its
/// start function exit as traps.
fn instantiate(
    linker: &Linker<Host>,
    store: &mut Store<Host>,
    module: &Module,
    path: &Path,
) -> Result<kestrel::Instance, Failure> {
    linker.instantiate(store, module).map_err(|error| {
        if error.kind() == ErrorKind::Link {
            Failure::error(format!("cannot link `{}`: {error}", path.display()))
        } else {
            execution_failure(path, error)
        }
    })
}

/// What `run`'s flags grant the program, as Wasmtime's mean: the program name (FILE's
/// file name unless --argv0), ARGS unless they are --invoke's, --env variables, --dir
/// directories, and the host's stdio.
fn wasi_context(args: &RunArgs) -> Result<WasiCtx, Failure> {
    let mut builder = WasiCtxBuilder::new();
    builder.inherit_stdio();
    let program = match &args.argv0 {
        Some(name) => name.clone(),
        None => args
            .file
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    builder.arg(program);
    if args.invoke.is_none() {
        builder.args(&args.args);
    }
    for variable in &args.envs {
        match variable.split_once('=') {
            Some(("", _)) => {
                return Err(Failure::error(format!(
                    "--env `{variable}`: the name is empty"
                )));
            }
            Some((name, value)) => {
                builder.env(name, value);
            }
            // A variable the host does not have stays unset, as in Wasmtime.
            None => {
                if let Some(value) = std::env::var_os(variable) {
                    let value = value.into_string().map_err(|_| {
                        Failure::error(format!("--env `{variable}`: the host's value is not UTF-8"))
                    })?;
                    builder.env(variable, value);
                }
            }
        }
    }
    for dir in &args.dirs {
        let (host, guest) = dir.split_once("::").unwrap_or((dir, dir));
        builder
            .preopened_dir(host, guest)
            .map_err(|error| Failure::error(format!("--dir `{dir}`: {error}")))?;
    }
    Ok(builder.build())
}

fn export_func_type(module: &Module, name: &str) -> Result<ExternType, Failure> {
    if let Some(export) = module.exports().find(|export| export.name() == name) {
        return Ok(export.ty());
    }
    let functions: Vec<String> = module
        .exports()
        .filter(|export| matches!(export.ty(), ExternType::Func(_)))
        .map(|export| format!("`{}`", export.name()))
        .collect();
    let available = if functions.is_empty() {
        "it exports no functions".to_owned()
    } else {
        format!("exported functions: {}", functions.join(", "))
    };
    Err(Failure::error(format!(
        "the module has no export named `{name}` ({available})"
    )))
}

fn parse_args(
    name: &str,
    func_type: &kestrel::FuncType,
    args: &[String],
) -> Result<Vec<Val>, Failure> {
    let params = func_type.params();
    if params.len() != args.len() {
        let types: Vec<String> = params.iter().map(ToString::to_string).collect();
        return Err(Failure::error(format!(
            "`{name}` takes {} argument{} ({}), but {} {} given",
            params.len(),
            if params.len() == 1 { "" } else { "s" },
            if types.is_empty() {
                "none".to_owned()
            } else {
                types.join(", ")
            },
            args.len(),
            if args.len() == 1 { "was" } else { "were" },
        )));
    }
    params
        .iter()
        .zip(args)
        .enumerate()
        .map(|(index, (ty, arg))| {
            parse_arg(*ty, arg).ok_or_else(|| {
                Failure::error(format!(
                    "argument {} of `{name}`: `{arg}` is not a valid {ty}",
                    index + 1
                ))
            })
        })
        .collect()
}

/// Parses one command-line argument as a value of type `ty`.
fn parse_arg(ty: ValType, arg: &str) -> Option<Val> {
    match ty {
        ValType::I32 => {
            let value = parse_integer(arg)?;
            (i32::MIN as i128..=u32::MAX as i128)
                .contains(&value)
                .then_some(Val::I32(value as i32))
        }
        ValType::I64 => {
            let value = parse_integer(arg)?;
            (i64::MIN as i128..=u64::MAX as i128)
                .contains(&value)
                .then_some(Val::I64(value as i64))
        }
        ValType::F32 => arg
            .parse::<f32>()
            .ok()
            .map(|value| Val::F32(value.to_bits())),
        ValType::F64 => arg
            .parse::<f64>()
            .ok()
            .map(|value| Val::F64(value.to_bits())),
        // A vector as its 128 bits in hexadecimal, as results are printed.
        ValType::V128 => {
            let digits = arg.replace('_', "");
            let hex = digits
                .strip_prefix("0x")
                .or_else(|| digits.strip_prefix("0X"))?;
            let valid = !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit());
            valid
                .then(|| u128::from_str_radix(hex, 16).ok())
                .flatten()
                .map(Val::V128)
        }
        // References cannot be written on a command line.
        ValType::Ref(_) => None,
    }
}

/// A decimal or `0x` hexadecimal integer with an optional sign, `_` separators allowed.
fn parse_integer(arg: &str) -> Option<i128> {
    let (negative, digits) = match arg.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, arg.strip_prefix('+').unwrap_or(arg)),
    };
    let digits = digits.replace('_', "");
    let magnitude = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) if !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()) => {
            i128::from_str_radix(hex, 16).ok()?
        }
        Some(_) => return None,
        None if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) => {
            digits.parse::<i128>().ok()?
        }
        None => return None,
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// A result as `wasmtime run --invoke` prints it.
fn display_result(value: &Val) -> String {
    match value {
        Val::I32(value) => value.to_string(),
        Val::I64(value) => value.to_string(),
        Val::F32(bits) => f32::from_bits(*bits).to_string(),
        Val::F64(bits) => f64::from_bits(*bits).to_string(),
        Val::V128(bits) => format!("{bits:#034x}"),
        Val::FuncRef(None) => "<null funcref>".to_owned(),
        Val::FuncRef(Some(_)) => "<funcref>".to_owned(),
        Val::ExternRef(None) => "<null externref>".to_owned(),
        Val::ExternRef(Some(_)) => "<externref>".to_owned(),
    }
}

fn wast(args: WastArgs) -> Result<(), Failure> {
    let mut files = Vec::with_capacity(args.files.len());
    for path in &args.files {
        if !path.is_file() {
            return Err(Failure::error(format!(
                "cannot read `{}`: no such file",
                path.display()
            )));
        }
        files.push(ScriptFile::standalone(path));
    }
    let mut options = RunOptions::new(args.engine);
    options.features = args.spec.features_for("");
    let stdout = std::io::stdout();
    let reports = run_files(
        &files,
        &options,
        kestrel_spec_tests::default_jobs(),
        |report| {
            let mut out = stdout.lock();
            let _ = report.write(&mut out, args.max_details);
            let _ = out.flush();
        },
    );
    let totals = Totals::of(&reports);
    println!("{totals}");
    if totals.failed > 0 {
        Err(Failure::Silent)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers() {
        assert_eq!(parse_integer("20"), Some(20));
        assert_eq!(parse_integer("-7"), Some(-7));
        assert_eq!(parse_integer("0xff"), Some(255));
        assert_eq!(parse_integer("-0x10"), Some(-16));
        assert_eq!(parse_integer("1_000"), Some(1000));
        assert_eq!(parse_integer("0x"), None);
        assert_eq!(parse_integer("12a"), None);
        assert_eq!(parse_integer(""), None);
        assert!(matches!(
            parse_arg(ValType::I32, "0xffffffff"),
            Some(Val::I32(-1))
        ));
        assert!(parse_arg(ValType::I32, "0x100000000").is_none());
        assert!(matches!(
            parse_arg(ValType::I64, "-9223372036854775808"),
            Some(Val::I64(i64::MIN))
        ));
    }

    #[test]
    fn floats() {
        assert!(
            matches!(parse_arg(ValType::F32, "1.5"), Some(Val::F32(bits)) if bits == 1.5f32.to_bits())
        );
        assert!(
            matches!(parse_arg(ValType::F64, "-inf"), Some(Val::F64(bits)) if bits == f64::NEG_INFINITY.to_bits())
        );
        assert!(
            matches!(parse_arg(ValType::F64, "nan"), Some(Val::F64(bits)) if f64::from_bits(bits).is_nan())
        );
        assert!(parse_arg(ValType::F32, "one").is_none());
    }

    #[test]
    fn vectors_in_hexadecimal_as_printed() {
        let bits = 0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10u128;
        let printed = display_result(&Val::V128(bits));
        assert!(matches!(parse_arg(ValType::V128, &printed), Some(Val::V128(b)) if b == bits));
        assert!(matches!(
            parse_arg(ValType::V128, "0x_ff"),
            Some(Val::V128(0xff))
        ));
        assert!(parse_arg(ValType::V128, "255").is_none());
        assert!(parse_arg(ValType::V128, "0x").is_none());
        assert!(parse_arg(ValType::V128, &format!("0x1{}", "0".repeat(32))).is_none());
    }
}
