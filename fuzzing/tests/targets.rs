//! The fuzz targets' logic run on fixed seeds, so every `cargo test` exercises them on
//! stable (cargo-fuzz needs nightly) and they cannot rot. Each test feeds a few thousand
//! deterministic inputs from [`Seeds`] through `arbitrary::Unstructured`, as libFuzzer
//! would feed its own; `KESTREL_FUZZ_ITERS=N` runs N instead (for a longer local soak).

use arbitrary::Unstructured;
use kestrel_fuzzing::{
    Seeds, differential, differential_with_fuel, execute, generate_module, validate, validate_input,
};
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Panics anywhere in this test process, counted by a hook installed by [`watch_panics`].
/// The engines catch a panic inside Cranelift (the function then stays interpreted, or
/// becomes a stub), so a translator bug shows no divergence: the oracles fail on the count
/// instead.
static PANICS: AtomicUsize = AtomicUsize::new(0);

fn watch_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            report(info);
        }));
    });
}

/// Fails when any panic happened in the process (see [`PANICS`]).
fn assert_no_panics() {
    assert_eq!(
        PANICS.load(Ordering::SeqCst),
        0,
        "a panic was caught inside an engine; its message and backtrace are on stderr"
    );
}

/// Iterations per target: `KESTREL_FUZZ_ITERS` or `default`.
fn iterations(default: u64) -> u64 {
    std::env::var("KESTREL_FUZZ_ITERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// One fuzzer input per seed: a random length (so short inputs, which make small modules,
/// are common) of random bytes.
fn input(seeds: &mut Seeds) -> Vec<u8> {
    let len = 256 + (seeds.next_u64() % 8192) as usize;
    seeds.bytes(len)
}

#[test]
fn validate_never_panics() {
    let mut seeds = Seeds::new(0x7661_6c69_6461_7465);
    for _ in 0..iterations(3000) {
        let data = input(&mut seeds);
        let mut u = Unstructured::new(&data);
        if let Ok(bytes) = validate_input(&mut u) {
            validate(&bytes);
        }
        // The raw bytes too, as the libFuzzer target's first mode does.
        validate(&data);
    }
}

#[test]
fn execute_never_panics() {
    let mut seeds = Seeds::new(0x0065_7865_6375_7465);
    let (mut generated, mut ran, mut calls) = (0, 0, 0);
    for _ in 0..iterations(2000) {
        let data = input(&mut seeds);
        let Ok(bytes) = generate_module(&mut Unstructured::new(&data)) else {
            continue;
        };
        generated += 1;
        if let Some(outcomes) = execute(&bytes) {
            ran += 1;
            calls += outcomes.len();
        }
    }
    eprintln!("execute: {generated} modules, {ran} compiled, {calls} steps");
    assert!(ran > 0, "no generated module compiled");
}

#[test]
fn interp_jit_and_tiered_agree() {
    watch_panics();
    let mut seeds = Seeds::new(0x6469_6666);
    let (mut generated, mut calls) = (0, 0);
    for i in 0..iterations(2000) {
        let data = input(&mut seeds);
        let Ok(bytes) = generate_module(&mut Unstructured::new(&data)) else {
            continue;
        };
        generated += 1;
        match differential(&bytes) {
            Ok(n) => calls += n,
            Err(divergence) => panic!("iteration {i}: {divergence}"),
        }
    }
    eprintln!("differential: {generated} modules, {calls} calls compared");
    assert!(calls > 0, "no call was compared");
    assert_no_panics();
}

#[test]
fn every_engine_consumes_the_same_fuel() {
    watch_panics();
    let mut seeds = Seeds::new(0x6675_656c);
    let (mut generated, mut calls) = (0, 0);
    for i in 0..iterations(1000) {
        let data = input(&mut seeds);
        let Ok(bytes) = generate_module(&mut Unstructured::new(&data)) else {
            continue;
        };
        generated += 1;
        // Little fuel, varying per module, so many runs stop partway.
        let fuel = seeds.next_u64() % 2_000;
        match differential_with_fuel(&bytes, Some(fuel)) {
            Ok(n) => calls += n,
            Err(divergence) => panic!("iteration {i} with {fuel} fuel: {divergence}"),
        }
    }
    eprintln!("differential with fuel: {generated} modules, {calls} calls compared");
    assert!(calls > 0, "no call was compared");
    assert_no_panics();
}
