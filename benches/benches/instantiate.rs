//! Instantiation of an already-loaded module: an empty module, a small one with a memory
//! and data segments, one importing WASI functions, and SpiderMonkey (4.2 MB, 1,721 data
//! segments, WASI imports). Each iteration creates a store, instantiates in it and drops
//! the store (and with it the instance): the whole life of a short-lived instance.
//!
//! `cargo bench -p kestrel-benches --bench instantiate -- instantiate/`

use criterion::{Criterion, criterion_group, criterion_main};
use kestrel::{Engine, Linker, Module, Store};
use kestrel_wasi::WasiCtx;

fn kestrel_linker(engine: &Engine) -> Linker<Option<WasiCtx>> {
    let mut linker = Linker::new(engine);
    kestrel_wasi::add_to_linker(&mut linker, |cx: &mut Option<WasiCtx>| {
        cx.as_mut().expect("a WASI context")
    })
    .unwrap();
    linker.func_wrap("bench", "start", || {}).unwrap();
    linker.func_wrap("bench", "end", || {}).unwrap();
    linker
}

fn instantiate(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("instantiate");
    let engine = Engine::default();
    let linker = kestrel_linker(&engine);
    for (name, bytes) in [
        ("empty", kestrel_benches::EMPTY.as_bytes().to_vec()),
        ("small", kestrel_benches::SMALL.as_bytes().to_vec()),
        (
            "small-wasi",
            kestrel_benches::SMALL_WASI.as_bytes().to_vec(),
        ),
        ("spidermonkey", kestrel_benches::wasm("spidermonkey")),
    ] {
        let module = Module::new(&engine, &bytes).unwrap();
        let pre = linker.instantiate_pre(&module).unwrap();
        group.bench_function(format!("{name}/kestrel"), |bencher| {
            bencher.iter(|| {
                let mut store = Store::new(&engine, None);
                pre.instantiate(&mut store).unwrap();
            })
        });
    }
    group.finish();
}

criterion_group!(benches, instantiate);
criterion_main!(benches);
