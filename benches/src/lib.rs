//! Shared set-up for Kestrel's criterion benchmarks.
//!
//! The benchmark programs come from the wasmi-benchmarks corpus (see `../shared/README.md`),
//! located like every other test corpus: `KESTREL_WASMI_BENCHMARKS`, then a submodule, then
//! `../shared/`. A missing corpus stops the benchmark with a message saying how to get it.
//!
//! The small modules the `instantiate`, `call` and `density` measurements use are defined
//! here as text, so every engine (Kestrel and, with the `peers` feature, its peers) gets
//! exactly the same bytes.

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

/// A module with nothing in it.
pub const EMPTY: &str = "(module)";

/// A small module with one 64 KiB memory (maximum 1 page, so its reservation is 64 KiB) and
/// a few data segments, and a function that reads the memory.
pub const SMALL: &str = r#"
(module
  (memory (export "memory") 1 1)
  (global $counter (mut i32) (i32.const 0))
  (data (i32.const 0) "Kestrel small module: a greeting at address 0")
  (data (i32.const 1024) "\01\02\03\04\05\06\07\08\09\0a\0b\0c\0d\0e\0f\10")
  (data (i32.const 4096) "another page, another segment")
  (func (export "load") (param i32) (result i32)
    local.get 0
    i32.load8_u)
  (func (export "touch") (param i32)
    local.get 0
    global.get $counter
    i32.store
    global.get $counter
    i32.const 1
    i32.add
    global.set $counter))
"#;

/// A small module importing WASI functions (those a typical C program starts with).
pub const SMALL_WASI: &str = r#"
(module
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
  (memory (export "memory") 1 1)
  (data (i32.const 0) "hello, world\n")
  (func (export "_start")))
"#;

/// Functions for the `call` group: an empty export, `add`, and a call out to the host
/// function `host.nop`, `n` times.
pub const CALLS: &str = r#"
(module
  (import "host" "nop" (func $nop))
  (func (export "empty"))
  (func (export "add") (param i32 i32) (result i32)
    local.get 0
    local.get 1
    i32.add)
  (func (export "call_host") (param $n i32)
    (loop $again
      local.get $n
      i32.eqz
      br_if 1
      call $nop
      local.get $n
      i32.const 1
      i32.sub
      local.set $n
      br $again)))
"#;

/// The programs of the `startup` group (`wasm/NAME.wasm`).
pub const STARTUP_PROGRAMS: &[&str] =
    &["erc20", "coremark", "bz2", "pulldown-cmark", "spidermonkey"];

pub mod execution;
pub mod subjects;
