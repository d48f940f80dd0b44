//! Instantiates one module of the wasmi-benchmarks corpus in a loop, as the `instantiate`
//! group does (new store, `InstancePre::instantiate`, drop), for profilers:
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
    let action =
        kestrel_benches::subjects::kestrel::instantiator(&kestrel_benches::wasm(&name), pooling);
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
