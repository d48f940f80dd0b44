//! Density: keeps N instances of a small module (a 64 KiB memory, declared maximum 1 page,
//! one data segment) alive at once, each in its own store, touches each memory (one write
//! through Wasm), and reports instances per second and resident memory per instance.
//!
//! `cargo run --release -p kestrel-benches --example density -- N [--pooling] [--copy]`
//!
//! `--pooling` takes memories from a pool of N 64 KiB slots; `--copy` turns copy-on-write
//! memory initialisation off (`Config::memory_init_cow(false)`): the data segment is then
//! copied into each memory. Each copy-on-write memory is one more mapping of the process
//! (two without pooling), and Linux caps a process's mappings (`vm.max_map_count`, 65,530
//! by default): without pooling, memories past a quarter of that limit copy their data
//! (anonymous pages, which the kernel merges with their neighbours' mappings); with
//! pooling, beyond about 65,000 live instances with data raise that limit or use `--copy`.
//!
//! "Overhead" is the resident memory per instance beyond the one page of linear memory
//! every instance touches (its data segment and the write share one 4 KiB page): store,
//! instance, function entities, contexts, page tables, allocator slack.

use kestrel::{
    Config, Engine, Instance, InstanceAllocationStrategy, Linker, Module, PoolingConfig, Store,
};
use std::time::Instant;

const MODULE: &str = r#"
(module
  (memory (export "memory") 1 1)
  (data (i32.const 0) "density")
  (func (export "touch") (param i32)
    local.get 0
    local.get 0
    i32.store))
"#;

/// Resident set size in bytes (`/proc/self/statm`'s second field, in pages).
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux /proc");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .expect("statm has a resident field");
    // statm counts 4 KiB pages on x86-64 and aarch64 Linux with 4 KiB pages.
    pages * 4096
}

/// Where instance `index` writes (its own value: the address itself).
fn address(index: usize) -> i32 {
    8 + (index as i32 % 1000) * 4
}

fn main() -> kestrel::Result<()> {
    let mut args = std::env::args().skip(1);
    let count: usize = args
        .next()
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(10_000);
    let flags: Vec<String> = args.collect();
    let pooling = flags.iter().any(|arg| arg == "--pooling");
    let copy = flags.iter().any(|arg| arg == "--copy");
    let mut config = Config::new();
    config.memory_init_cow(!copy);
    if pooling {
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(PoolingConfig {
            total_memories: count as u32,
            max_memory_size: 1 << 16,
        }));
    }
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, MODULE)?;
    let pre = Linker::<()>::new(&engine).instantiate_pre(&module)?;

    // Warm up the allocator and the module's plan, so the baseline is fair.
    {
        let mut store = Store::new(&engine, ());
        pre.instantiate(&mut store)?;
    }
    let before = resident_bytes();
    let start = Instant::now();
    let mut live: Vec<(Store<()>, Instance)> = Vec::with_capacity(count);
    for index in 0..count {
        let mut store = Store::new(&engine, ());
        let instance = pre.instantiate(&mut store)?;
        let touch = instance.get_typed_func::<i32, ()>(&mut store, "touch")?;
        touch.call(&mut store, address(index))?;
        live.push((store, instance));
    }
    let elapsed = start.elapsed();
    let after = resident_bytes();
    // Every instance is still alive and isolated: its memory holds its data and its own
    // write only.
    for (index, (store, instance)) in live.iter_mut().enumerate().step_by(997) {
        let memory = instance
            .get_memory(&mut *store, "memory")
            .expect("exported");
        let data = memory.data(&*store);
        let at = address(index) as usize;
        assert_eq!(&data[..7], b"density");
        assert_eq!(data[at..at + 4], address(index).to_le_bytes());
        let others = data[8..4096]
            .chunks(4)
            .enumerate()
            .filter(|(chunk, bytes)| 8 + chunk * 4 != at && bytes.iter().any(|byte| *byte != 0))
            .count();
        assert_eq!(others, 0, "instance {index} sees writes it did not make");
    }
    let per_instance = (after.saturating_sub(before)) as f64 / count as f64;
    println!(
        "{count} live instances ({}, {}): {:.0} instances/s ({:.2?} in all)",
        if pooling { "pooling" } else { "on-demand" },
        if copy {
            "data copied"
        } else {
            "copy-on-write data"
        },
        count as f64 / elapsed.as_secs_f64(),
        elapsed
    );
    println!(
        "resident memory: {:.0} bytes per instance, {:.0} bytes beyond the touched 4 KiB page",
        per_instance,
        per_instance - 4096.0
    );
    drop(live);
    Ok(())
}
