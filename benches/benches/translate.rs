//! Start-up cost: validation (parse), and translation of every function into interpreter
//! code, for the real programs of the wasmi-benchmarks corpus. Throughput is in module bytes.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kestrel_benches::wasm;
use kestrel_parser::Features;
use kestrel_vm::{RuntimeModule, TypeRegistry};
use std::sync::Arc;

const PROGRAMS: &[&str] = &["bz2", "pulldown-cmark", "erc20", "coremark", "spidermonkey"];

fn validate(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("validate");
    group.sample_size(10);
    for name in PROGRAMS {
        let bytes: Arc<[u8]> = wasm(name).into();
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(*name, |bencher| {
            bencher.iter(|| {
                kestrel_parser::parse(bytes.clone(), &Features::default())
                    .expect("valid benchmark program")
            })
        });
    }
    group.finish();
}

fn translate(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("translate");
    group.sample_size(10);
    let registry = TypeRegistry::default();
    for name in PROGRAMS {
        let bytes: Arc<[u8]> = wasm(name).into();
        let info = Arc::new(
            kestrel_parser::parse(bytes.clone(), &Features::default())
                .expect("valid benchmark program"),
        );
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(*name, |bencher| {
            bencher.iter(|| {
                // A fresh module each time: translations are cached per module.
                let module = RuntimeModule::new(info.clone(), &registry);
                kestrel_interp::translate_all(&module).expect("translatable benchmark program");
            })
        });
    }
    group.finish();
}

criterion_group!(benches, validate, translate);
criterion_main!(benches);
