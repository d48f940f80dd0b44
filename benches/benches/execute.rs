//! Execution speed of the interpreter on the wasmi-benchmarks micro-kernels. CoreMark,
//! which times itself, is `cargo run --release -p kestrel-benches --example coremark`.
//!
//! The inputs follow the wasmi-benchmarks suite so figures compare with wasmi's and
//! wasm3's: fibonacci-rec with n = 30, the iterative kernels with n = 1,000,000.
//! `fibonacci-tail` needs tail calls (Wasm 3.0) and joins when they land.

use criterion::{Criterion, criterion_group, criterion_main};
use kestrel::{Engine, Linker, Module, Store};
use kestrel_benches::wat;

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

criterion_group!(benches, kernels);
criterion_main!(benches);
