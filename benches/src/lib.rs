//! Shared set-up for Kestrel's criterion benchmarks.
//!
//! The benchmark programs come from the wasmi-benchmarks corpus (see `../shared/README.md`),
//! located like every other test corpus: `KESTREL_WASMI_BENCHMARKS`, then a submodule, then
//! `../shared/`. A missing corpus stops the benchmark with a message saying how to get it.

use kestrel_spec_tests::corpus::Corpus;
use std::path::PathBuf;

/// The wasmi-benchmarks folder (`wasm/`, `wat/`), or a panic explaining how to get it.
pub fn wasmi_benchmarks() -> PathBuf {
    Corpus::WasmiBenchmarks
        .locate()
        .unwrap_or_else(|error| panic!("{error}"))
}

/// The bytes of `wasm/NAME.wasm` in the wasmi-benchmarks corpus.
pub fn wasm(name: &str) -> Vec<u8> {
    let path = wasmi_benchmarks().join("wasm").join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// The text of `wat/NAME.wat` in the wasmi-benchmarks corpus.
pub fn wat(name: &str) -> String {
    let path = wasmi_benchmarks().join("wat").join(format!("{name}.wat"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}
