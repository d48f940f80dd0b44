//! Start-up cost, split: validation, and translation of every function into interpreter
//! code, for the real programs of the wasmi-benchmarks corpus. Throughput is in module
//! bytes.
//!
//! - `validate/PROGRAM/ENGINE`: parse and validate the whole module (Kestrel's
//!   `kestrel_parser::parse`, which also builds its `ModuleInfo`; with `peers`, Wasmtime's
//!   and wasmi's `Module::validate`).
//! - `translate/PROGRAM/kestrel`: translation alone of every function of an already
//!   validated module into interpreter code (what lazy translation spreads over first calls).
//! - `translate-eager/PROGRAM/ENGINE`: bytes to every function translated — Kestrel's parse
//!   then translation of everything, and with `peers` wasmi's `Module::new` in
//!   `CompilationMode::Eager` — the same work on both sides.
//!
//! `cargo bench -p kestrel-benches --bench translate [--features peers] -- translate-eager/`

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use kestrel_benches::wasm;
use kestrel_parser::Features;
use kestrel_vm::{RuntimeModule, TypeRegistry};
use std::sync::Arc;

const PROGRAMS: &[&str] = &["bz2", "pulldown-cmark", "erc20", "coremark", "spidermonkey"];

fn group<'a>(criterion: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut group = criterion.benchmark_group(name);
    group.sample_size(10);
    group
}

fn validate(criterion: &mut Criterion) {
    let mut group = group(criterion, "validate");
    for name in PROGRAMS {
        let bytes: Arc<[u8]> = wasm(name).into();
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(format!("{name}/kestrel"), |bencher| {
            bencher.iter(|| {
                kestrel_parser::parse(bytes.clone(), &Features::default())
                    .expect("valid benchmark program")
            })
        });
        #[cfg(feature = "peers")]
        {
            let engine = wasmtime::Engine::default();
            group.bench_function(format!("{name}/wasmtime"), |bencher| {
                bencher.iter(|| {
                    wasmtime::Module::validate(&engine, &bytes).expect("valid benchmark program")
                })
            });
            let engine = wasmi::Engine::default();
            group.bench_function(format!("{name}/wasmi"), |bencher| {
                bencher.iter(|| {
                    wasmi::Module::validate(&engine, &bytes).expect("valid benchmark program")
                })
            });
        }
    }
    group.finish();
}

fn translate(criterion: &mut Criterion) {
    let mut group = group(criterion, "translate");
    let registry = TypeRegistry::default();
    for name in PROGRAMS {
        let bytes: Arc<[u8]> = wasm(name).into();
        let info = Arc::new(
            kestrel_parser::parse(bytes.clone(), &Features::default())
                .expect("valid benchmark program"),
        );
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(format!("{name}/kestrel"), |bencher| {
            bencher.iter(|| {
                // A fresh module each time: translations are cached per module.
                let module = RuntimeModule::new(info.clone(), &registry);
                kestrel_interp::translate_all(&module).expect("translatable benchmark program");
            })
        });
    }
    group.finish();
}

fn translate_eager(criterion: &mut Criterion) {
    let mut group = group(criterion, "translate-eager");
    let registry = TypeRegistry::default();
    for name in PROGRAMS {
        let bytes: Arc<[u8]> = wasm(name).into();
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(format!("{name}/kestrel"), |bencher| {
            bencher.iter(|| {
                let info = kestrel_parser::parse(bytes.clone(), &Features::default())
                    .expect("valid benchmark program");
                let module = RuntimeModule::new(Arc::new(info), &registry);
                kestrel_interp::translate_all(&module).expect("translatable benchmark program");
            })
        });
        #[cfg(feature = "peers")]
        {
            let mut config = wasmi::Config::default();
            config.compilation_mode(wasmi::CompilationMode::Eager);
            let engine = wasmi::Engine::new(&config);
            group.bench_function(format!("{name}/wasmi"), |bencher| {
                bencher.iter(|| wasmi::Module::new(&engine, &bytes).expect("valid program"))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, validate, translate, translate_eager);
criterion_main!(benches);
