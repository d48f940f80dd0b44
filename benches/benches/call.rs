//! `call`: host → Wasm calls of an empty export and of `add`, typed (`TypedFunc`) and
//! untyped (`Func::call` with `Val`s), and Wasm → host calls (a loop in Wasm calling an
//! empty host function 1,000 times; the figure is per call).
//!
//! Kestrel runs with its interpreter (`kestrel`) and its JIT (`kestrel-jit`); with the
//! `peers` feature, Wasmtime (Cranelift) and wasmi (interpreter) run the same module.
//!
//! `cargo bench -p kestrel-benches --bench call [--features peers] -- call/`

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};

const HOST_CALLS: i32 = 1_000;

fn kestrel_calls(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    strategy: kestrel::Strategy,
) {
    use kestrel::*;
    let mut config = Config::new();
    config.strategy(strategy);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, kestrel_benches::CALLS).unwrap();
    let mut linker = Linker::new(&engine);
    linker.func_wrap("host", "nop", || {}).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let empty = instance.get_func(&mut store, "empty").unwrap();
    let empty_typed = empty.typed::<(), ()>(&store).unwrap();
    let add = instance.get_func(&mut store, "add").unwrap();
    let add_typed = add.typed::<(i32, i32), i32>(&store).unwrap();
    let call_host = instance
        .get_typed_func::<i32, ()>(&mut store, "call_host")
        .unwrap();
    group.throughput(Throughput::Elements(1));
    group.bench_function(format!("empty/typed/{name}"), |bencher| {
        bencher.iter(|| empty_typed.call(&mut store, ()).unwrap())
    });
    group.bench_function(format!("empty/untyped/{name}"), |bencher| {
        bencher.iter(|| empty.call(&mut store, &[], &mut []).unwrap())
    });
    group.bench_function(format!("add/typed/{name}"), |bencher| {
        bencher.iter(|| add_typed.call(&mut store, (1, 2)).unwrap())
    });
    group.bench_function(format!("add/untyped/{name}"), |bencher| {
        let mut results = [Val::I32(0)];
        bencher.iter(|| {
            add.call(&mut store, &[Val::I32(1), Val::I32(2)], &mut results)
                .unwrap()
        })
    });
    group.throughput(Throughput::Elements(HOST_CALLS as u64));
    group.bench_function(format!("wasm-to-host/{name}"), |bencher| {
        bencher.iter(|| call_host.call(&mut store, HOST_CALLS).unwrap())
    });
}

#[cfg(feature = "peers")]
fn wasmtime_calls(group: &mut BenchmarkGroup<'_, WallTime>) {
    use wasmtime::*;
    let engine = Engine::default();
    let module = Module::new(&engine, wat::parse_str(kestrel_benches::CALLS).unwrap()).unwrap();
    let mut linker = Linker::new(&engine);
    linker.func_wrap("host", "nop", || {}).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let empty = instance.get_func(&mut store, "empty").unwrap();
    let empty_typed = empty.typed::<(), ()>(&store).unwrap();
    let add = instance.get_func(&mut store, "add").unwrap();
    let add_typed = add.typed::<(i32, i32), i32>(&store).unwrap();
    let call_host = instance
        .get_typed_func::<i32, ()>(&mut store, "call_host")
        .unwrap();
    let name = "wasmtime";
    group.throughput(Throughput::Elements(1));
    group.bench_function(format!("empty/typed/{name}"), |bencher| {
        bencher.iter(|| empty_typed.call(&mut store, ()).unwrap())
    });
    group.bench_function(format!("empty/untyped/{name}"), |bencher| {
        bencher.iter(|| empty.call(&mut store, &[], &mut []).unwrap())
    });
    group.bench_function(format!("add/typed/{name}"), |bencher| {
        bencher.iter(|| add_typed.call(&mut store, (1, 2)).unwrap())
    });
    group.bench_function(format!("add/untyped/{name}"), |bencher| {
        let mut results = [Val::I32(0)];
        bencher.iter(|| {
            add.call(&mut store, &[Val::I32(1), Val::I32(2)], &mut results)
                .unwrap()
        })
    });
    group.throughput(Throughput::Elements(HOST_CALLS as u64));
    group.bench_function(format!("wasm-to-host/{name}"), |bencher| {
        bencher.iter(|| call_host.call(&mut store, HOST_CALLS).unwrap())
    });
}

#[cfg(feature = "peers")]
fn wasmi_calls(group: &mut BenchmarkGroup<'_, WallTime>) {
    use wasmi::*;
    let engine = Engine::default();
    let module = Module::new(&engine, wat::parse_str(kestrel_benches::CALLS).unwrap()).unwrap();
    let mut linker = Linker::new(&engine);
    linker.func_wrap("host", "nop", || {}).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate_and_start(&mut store, &module).unwrap();
    let empty = instance.get_func(&store, "empty").unwrap();
    let empty_typed = empty.typed::<(), ()>(&store).unwrap();
    let add = instance.get_func(&store, "add").unwrap();
    let add_typed = add.typed::<(i32, i32), i32>(&store).unwrap();
    let call_host = instance
        .get_typed_func::<i32, ()>(&store, "call_host")
        .unwrap();
    let name = "wasmi";
    group.throughput(Throughput::Elements(1));
    group.bench_function(format!("empty/typed/{name}"), |bencher| {
        bencher.iter(|| empty_typed.call(&mut store, ()).unwrap())
    });
    group.bench_function(format!("empty/untyped/{name}"), |bencher| {
        bencher.iter(|| empty.call(&mut store, &[], &mut []).unwrap())
    });
    group.bench_function(format!("add/typed/{name}"), |bencher| {
        bencher.iter(|| add_typed.call(&mut store, (1, 2)).unwrap())
    });
    group.bench_function(format!("add/untyped/{name}"), |bencher| {
        let mut results = [Val::I32(0)];
        bencher.iter(|| {
            add.call(&mut store, &[Val::I32(1), Val::I32(2)], &mut results)
                .unwrap()
        })
    });
    group.throughput(Throughput::Elements(HOST_CALLS as u64));
    group.bench_function(format!("wasm-to-host/{name}"), |bencher| {
        bencher.iter(|| call_host.call(&mut store, HOST_CALLS).unwrap())
    });
}

fn call(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("call");
    kestrel_calls(&mut group, "kestrel", kestrel::Strategy::Interpreter);
    kestrel_calls(&mut group, "kestrel-jit", kestrel::Strategy::Jit);
    #[cfg(feature = "peers")]
    {
        wasmtime_calls(&mut group);
        wasmi_calls(&mut group);
    }
    group.finish();
}

criterion_group!(benches, call);
criterion_main!(benches);
