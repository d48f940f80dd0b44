//! Execution speed of the interpreter on the wasmi-benchmarks micro-kernels and CoreMark.
//!
//! The inputs follow the wasmi-benchmarks suite so figures compare with wasmi's and
//! wasm3's: fibonacci-rec with n = 30, the iterative kernels with n = 1,000,000.
//! `fibonacci-tail` needs tail calls (Wasm 3.0) and joins when they land.

use criterion::{Criterion, criterion_group, criterion_main};
use kestrel::{Engine, Linker, Module, Store};
use kestrel_benches::{wasm, wat};
use std::time::Instant;

fn kernel<P, R>(criterion: &mut Criterion, name: &str, input: P)
where
    P: kestrel::WasmParams + Copy,
    R: kestrel::WasmResults,
{
    let engine = Engine::default();
    let module = Module::new(&engine, wat(name)).expect("valid kernel");
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .expect("kernel instantiates");
    let run = instance
        .get_typed_func::<P, R>(&mut store, "run")
        .expect("kernel exports run");
    criterion.bench_function(name, |bencher| {
        bencher.iter(|| run.call(&mut store, input).expect("kernel runs"))
    });
}

fn kernels(criterion: &mut Criterion) {
    kernel::<i64, i64>(criterion, "fibonacci-rec", 30);
    kernel::<i64, i64>(criterion, "fibonacci-iter", 1_000_000);
    kernel::<i32, i32>(criterion, "counter-local", 1_000_000);
    kernel::<i32, i32>(criterion, "counter-global", 1_000_000);
    kernel::<i32, i32>(criterion, "counter-param", 1_000_000);
}

/// CoreMark reports its own score (iterations per second, higher is better); criterion
/// times the whole run.
fn coremark(criterion: &mut Criterion) {
    let engine = Engine::default();
    let module = Module::new(&engine, wasm("coremark")).expect("valid coremark");
    let mut linker = Linker::new(&engine);
    let start = Instant::now();
    linker
        .func_wrap("env", "clock_ms", move || {
            start.elapsed().as_millis() as u32
        })
        .expect("clock_ms is defined once");
    let mut store = Store::new(&engine, ());
    let instance = linker
        .instantiate(&mut store, &module)
        .expect("coremark instantiates");
    let run = instance
        .get_typed_func::<(), f32>(&mut store, "run")
        .expect("coremark exports run");
    let score = run.call(&mut store, ()).expect("coremark runs");
    println!("CoreMark score (interpreter): {score:.1}");
    let mut group = criterion.benchmark_group("coremark");
    group.sample_size(10);
    group.bench_function("run", |bencher| {
        bencher.iter(|| run.call(&mut store, ()).expect("coremark runs"))
    });
    group.finish();
}

criterion_group!(benches, kernels, coremark);
criterion_main!(benches);
