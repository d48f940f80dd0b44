//! `instantiate`: an already-compiled module instantiated through a pre-resolved linker
//! (`InstancePre`): an empty module; a small one with a 64 KiB memory and data segments;
//! one importing WASI functions; SpiderMonkey (4.2 MB, 1,721 data segments, WASI
//! imports). Each iteration creates a store, instantiates in it and drops the store (and
//! with it the instance): the whole life of a short-lived instance.
//!
//! `.../2-threads` runs the same on two threads at once, each doing its share of the
//! iterations: the figure is the wall time per instantiation *per thread*, so it equals
//! the sequential figure when instantiation scales perfectly.
//!
//! `startup`: bytes to ready instance (compile, link, instantiate) for the programs of the
//! wasmi-benchmarks corpus.
//!
//! `cargo bench -p kestrel-benches --bench instantiate [--features peers] -- instantiate/`

use criterion::{Criterion, criterion_group, criterion_main};
use kestrel_benches::subjects::{self, Action};
use std::time::{Duration, Instant};

fn on_two_threads(action: &Action, iterations: u64) -> Duration {
    let start = Instant::now();
    std::thread::scope(|scope| {
        for share in [iterations / 2, iterations - iterations / 2] {
            let action = action.clone();
            scope.spawn(move || {
                for _ in 0..share {
                    action();
                }
            });
        }
    });
    // Each thread did half the iterations in this wall time: per thread and instantiation,
    // that is twice the wall time divided by the iterations (criterion divides).
    start.elapsed() * 2
}

fn instantiate(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("instantiate");
    for (name, bytes) in [
        ("empty", kestrel_benches::EMPTY.as_bytes().to_vec()),
        ("small", kestrel_benches::SMALL.as_bytes().to_vec()),
        (
            "small-wasi",
            kestrel_benches::SMALL_WASI.as_bytes().to_vec(),
        ),
        ("spidermonkey", kestrel_benches::wasm("spidermonkey")),
    ] {
        for subject in subjects::instantiators(&bytes) {
            let action = subject.action.clone();
            group.bench_function(format!("{name}/{}", subject.name), |bencher| {
                bencher.iter(|| action())
            });
            let action = subject.action;
            group.bench_function(format!("{name}/{}/2-threads", subject.name), |bencher| {
                bencher.iter_custom(|iterations| on_two_threads(&action, iterations))
            });
        }
    }
    group.finish();
}

fn startup(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("startup");
    group.sample_size(10);
    for name in kestrel_benches::STARTUP_PROGRAMS {
        let bytes = kestrel_benches::wasm(name);
        for subject in subjects::starters(&bytes) {
            let action = subject.action;
            group.bench_function(format!("{name}/{}", subject.name), |bencher| {
                bencher.iter(|| action())
            });
        }
    }
    group.finish();
}

criterion_group!(benches, instantiate, startup);
criterion_main!(benches);
