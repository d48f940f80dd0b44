//! Instantiates one module in a loop, as the `instantiate` group does (new store,
//! `InstancePre::instantiate`, drop), for profilers: `empty`, `small`, `small-wasi` (the
//! group's text modules) or a program of the wasmi-benchmarks corpus:
//! `cargo run --release -p kestrel-benches --example instantiate_loop -- spidermonkey 200000`
//! then `perf record -g` on the binary. Prints the mean time per iteration.

use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "spidermonkey".into());
    let iterations: u32 = args
        .next()
        .and_then(|count| count.parse().ok())
        .unwrap_or(100_000);
    let pooling = args.next().is_some_and(|mode| mode == "pooling");
    let bytes = match name.as_str() {
        "empty" => kestrel_benches::EMPTY.as_bytes().to_vec(),
        "small" => kestrel_benches::SMALL.as_bytes().to_vec(),
        "small-wasi" => kestrel_benches::SMALL_WASI.as_bytes().to_vec(),
        program => kestrel_benches::wasm(program),
    };
    let action = kestrel_benches::subjects::kestrel::instantiator(&bytes, pooling);
    action();
    let start = Instant::now();
    for _ in 0..iterations {
        action();
    }
    let elapsed = start.elapsed();
    println!(
        "{name}: {:.3} µs per instantiation ({iterations} iterations)",
        elapsed.as_secs_f64() * 1e6 / f64::from(iterations)
    );
}
