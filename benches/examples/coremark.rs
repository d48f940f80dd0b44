//! Runs CoreMark (`wasm/coremark.wasm` of the wasmi-benchmarks corpus) and prints its score:
//! CoreMark iterations per second, higher is better. CoreMark times itself through the
//! `env.clock_ms` import, so this is not a criterion benchmark; one run takes 10-20 s.
//!
//! `cargo run --release -p kestrel-benches --example coremark [interp|jit]`

use kestrel::{Config, Engine, Linker, Module, Store, Strategy};
use std::time::Instant;

fn main() -> kestrel::Result<()> {
    let (strategy, name) = match std::env::args().nth(1).as_deref() {
        Some("jit") => (Strategy::Jit, "JIT"),
        _ => (Strategy::Interpreter, "interpreter"),
    };
    let mut config = Config::new();
    config.strategy(strategy);
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, kestrel_benches::wasm("coremark"))?;
    let mut linker = Linker::new(&engine);
    let start = Instant::now();
    linker.func_wrap("env", "clock_ms", move || {
        start.elapsed().as_millis() as u32
    })?;
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<(), f32>(&mut store, "run")?;
    let began = Instant::now();
    let score = run.call(&mut store, ())?;
    println!(
        "CoreMark score ({name}): {score:.1} ({:.1?} wall time)",
        began.elapsed()
    );
    Ok(())
}
