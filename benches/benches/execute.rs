//! `execute`: how fast each engine runs code, per engine (`kestrel-interp`, `kestrel-jit`,
//! `kestrel-tiered`; with `--features peers`, `wasmtime` and `wasmi`).
//!
//! - `execute/KERNEL/ENGINE`: one call of a wasmi-benchmarks micro-kernel's `run`, with
//!   that suite's inputs so figures compare with wasmi's and wasm3's: `fibonacci-rec` with
//!   n = 30, the iterative kernels with n = 1,000,000, `bulk-ops` filling and copying 10,000 bytes 10,000 times.
//!   `fibonacci-tail` is not run: it needs tail calls, which Kestrel validates but does not
//!   execute yet.
//! - `execute/coremark/ENGINE`: one call of CoreMark's `run`, which with the benchmark's
//!   clock is exactly 30 CoreMark iterations (see
//!   `kestrel_benches::execution::COREMARK_CLOCK_STEP_MS`); criterion's `thrpt` line is
//!   CoreMark iterations per second, the CoreMark score.
//! - `execute/sightglass/PROGRAM/ENGINE`: one run of a Sightglass program (a WASI command,
//!   run from its folder like its harness runs it), timed between its `bench.start` and
//!   `bench.end` calls, as Sightglass measures it. Every run's output is checked against
//!   the corpus's expected output.
//!
//! Kernels and CoreMark run in one instance, called again and again: the figures are
//! steady state (tiered execution has tiered up during the warm-up). A Sightglass run is a
//! fresh instance (`_start` runs once per instance); for the lazy engines a fresh module
//! too, so tier-up and translation are inside the interval as in a fresh process (see
//! `program_runners`).
//!
//! Before timing, each engine's kernel result and CoreMark score are compared with the
//! interpreter's (CoreMark's score is 0 when its self-check fails): a wrong answer stops
//! the benchmark.
//!
//! `cargo bench -p kestrel-benches --bench execute [--features peers] -- execute/fibonacci`

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use kestrel_benches::execution::{self, KernelInput, Runner};
use kestrel_spec_tests::corpus::Corpus;
use kestrel_spec_tests::sightglass;
use std::cell::OnceCell;
use std::rc::Rc;
use std::time::Duration;

const KERNELS: &[(&str, KernelInput)] = &[
    ("fibonacci-rec", KernelInput::I64(30)),
    ("fibonacci-iter", KernelInput::I64(1_000_000)),
    ("counter-local", KernelInput::I32(1_000_000)),
    ("counter-global", KernelInput::I32(1_000_000)),
    ("counter-param", KernelInput::I32(1_000_000)),
    ("bulk-ops", KernelInput::I64(10_000)),
];

/// Benchmarks what `runner` makes under `id`, setting it up only when the filter selects
/// it. `check` sees the run closure before timing and panics on a wrong answer.
fn bench_lazily<R, S>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: String,
    runner: Runner<R>,
    check: impl Fn(&str, &mut R) + 'static,
    mut sample: S,
) where
    R: 'static,
    S: FnMut(&str, &mut R, &mut criterion::Bencher<'_>),
{
    let mut make = Some(runner.make);
    let mut made: Option<R> = None;
    let name = runner.name;
    group.bench_function(id, |bencher| {
        let run = made.get_or_insert_with(|| {
            let mut run = (make.take().expect("made once"))();
            check(name, &mut run);
            run
        });
        sample(name, run, bencher)
    });
}

fn kernels(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("execute");
    group.sample_size(20);
    for &(name, input) in KERNELS {
        let kernel = kestrel_benches::wat(name);
        // The interpreter's answer, computed once if any engine of this kernel runs.
        let reference: Rc<OnceCell<i64>> = Rc::default();
        for runner in execution::kernel_runners(kernel.as_bytes(), input) {
            let (reference, kernel) = (reference.clone(), kernel.clone());
            let check = move |engine: &str, run: &mut execution::KernelRun| {
                let expected = *reference.get_or_init(|| {
                    let mut interpreter = (execution::kernel_runners(kernel.as_bytes(), input)
                        .swap_remove(0)
                        .make)();
                    interpreter()
                });
                let got = run();
                assert_eq!(
                    got, expected,
                    "{name} on {engine} disagrees with the interpreter"
                );
            };
            bench_lazily(
                &mut group,
                format!("{name}/{}", runner.name),
                runner,
                check,
                |_, run, bencher| bencher.iter(run),
            );
        }
    }
    group.finish();
}

fn coremark(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("execute");
    group.sample_size(20);
    // Criterion's throughput line is then CoreMark iterations per second: the score.
    group.throughput(Throughput::Elements(
        execution::COREMARK_ITERATIONS_PER_CALL,
    ));
    let binary = kestrel_benches::wasm("coremark");
    let reference: Rc<OnceCell<f32>> = Rc::default();
    for runner in execution::coremark_runners(&binary) {
        let (reference, binary) = (reference.clone(), binary.clone());
        let check = move |engine: &str, run: &mut execution::CoreMarkRun| {
            let expected = *reference.get_or_init(|| {
                let mut interpreter = (execution::coremark_runners(&binary).swap_remove(0).make)();
                interpreter()
            });
            let score = run();
            assert!(score > 0.0, "CoreMark's self-check failed on {engine}");
            assert_eq!(
                score,
                execution::COREMARK_STEPPED_SCORE,
                "CoreMark ran another count"
            );
            assert_eq!(
                score, expected,
                "CoreMark on {engine} disagrees with the interpreter"
            );
        };
        bench_lazily(
            &mut group,
            format!("coremark/{}", runner.name),
            runner,
            check,
            |_, run, bencher| bencher.iter(run),
        );
    }
    group.finish();
}

fn sightglass(criterion: &mut Criterion) {
    let root = Corpus::Sightglass
        .locate()
        .unwrap_or_else(|error| panic!("{error}"));
    let programs = sightglass::programs(&root)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", root.display()));
    let mut group = criterion.benchmark_group("execute");
    // Programs run from milliseconds to a minute (ed25519 on the interpreter): as few
    // samples as criterion allows, one run each for the slow ones.
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.measurement_time(Duration::from_secs(10));
    for program in programs {
        let short = program.short_name();
        for runner in execution::program_runners(&program) {
            let program = program.clone();
            bench_lazily(
                &mut group,
                format!("sightglass/{short}/{}", runner.name),
                runner,
                |_, _| {},
                move |engine, run, bencher| {
                    bencher.iter_custom(|runs| {
                        let mut measured = Duration::ZERO;
                        for _ in 0..runs {
                            let outcome = run();
                            if let Err(problems) =
                                program.check_output(&outcome.stdout, &outcome.stderr)
                            {
                                panic!("{} on {engine}: {problems}", program.name);
                            }
                            assert!(
                                outcome.intervals > 0,
                                "{} never called bench.start and bench.end",
                                program.name
                            );
                            measured += outcome.measured;
                        }
                        measured
                    })
                },
            );
        }
    }
    group.finish();
}

criterion_group!(benches, kernels, coremark, sightglass);
criterion_main!(benches);
