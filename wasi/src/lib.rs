//! WASI preview1 (`wasi_snapshot_preview1`) for Kestrel: what programs compiled from C,
//! Rust, Go or Zig for `wasm32-wasip1` import to reach the world. Built on Kestrel's public
//! embedding API only, in Wasmtime's shape.
//!
//! ```
//! use kestrel::{Engine, Linker, Module, Store};
//! use kestrel_wasi::{I32Exit, MemoryOutputPipe, WasiCtx, WasiCtxBuilder};
//!
//! fn main() -> kestrel::Result<()> {
//!     let engine = Engine::default();
//!     // Writes "hi\n" to stdout, then exits with status 3.
//!     let module = Module::new(
//!         &engine,
//!         r#"
//!         (module
//!           (import "wasi_snapshot_preview1" "fd_write"
//!             (func $fd_write (param i32 i32 i32 i32) (result i32)))
//!           (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
//!           (memory (export "memory") 1)
//!           (data (i32.const 16) "hi\n")
//!           (func (export "_start")
//!             (i32.store (i32.const 0) (i32.const 16))
//!             (i32.store (i32.const 4) (i32.const 3))
//!             (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
//!             (call $proc_exit (i32.const 3))))
//!         "#,
//!     )?;
//!
//!     let mut linker: Linker<WasiCtx> = Linker::new(&engine);
//!     kestrel_wasi::add_to_linker(&mut linker, |ctx| ctx)?;
//!     let stdout = MemoryOutputPipe::new();
//!     let ctx = WasiCtxBuilder::new().arg("hello.wasm").stdout(stdout.clone()).build();
//!     let mut store = Store::new(&engine, ctx);
//!     let instance = linker.instantiate(&mut store, &module)?;
//!     let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
//!     let error = start.call(&mut store, ()).unwrap_err();
//!     assert_eq!(error.downcast_ref::<I32Exit>(), Some(&I32Exit(3)));
//!     assert_eq!(stdout.contents(), b"hi\n");
//!     Ok(())
//! }
//! ```
//!
//! | Item | What it is |
//! | --- | --- |
//! | [`WasiCtxBuilder`], [`WasiCtx`] | What the program may see: arguments, environment, stdio, preopened directories and sockets. |
//! | [`add_to_linker`] | Defines every preview1 function in a [`Linker`](kestrel::Linker). |
//! | [`MemoryInputPipe`], [`MemoryOutputPipe`] | Stdin from bytes; stdout/stderr captured in memory. |
//! | [`I32Exit`], [`Raised`] | The errors a call fails with when the program exits or raises a terminating signal. |
//! | [`Errno`] | Preview1's error numbers. |
//!
//! # Capability security
//!
//! The program sees only the directories preopened for it. Every path it passes is
//! resolved by [cap-std](https://docs.rs/cap-std) inside the directory descriptor it is
//! relative to: absolute paths, `..` that would climb out, and symlinks whose target lies
//! outside are refused with `notcapable`, never followed. Each descriptor also carries
//! preview1 rights: descriptors opened through a directory get at most the rights it
//! passes on, `fd_fdstat_set_rights` can only drop rights, and a call that needs a missing
//! right fails with `notcapable`.
//!
//! # Bad input
//!
//! Pointers and lengths outside the guest's memory are `fault`, misaligned structure
//! pointers `inval`, non-UTF-8 paths `ilseq`, unknown descriptors `badf`, unknown flag
//! bits `inval`. A function checks its output pointers before acting, so a call with a bad
//! result pointer has no effect. No guest input makes the host panic.

mod abi;
mod ctx;
mod error;
mod memory;
mod preview1;
mod stdio;
mod table;

pub use abi::Errno;
pub use ctx::{WasiCtx, WasiCtxBuilder};
pub use error::{I32Exit, Raised};
pub use preview1::{FUNCTIONS_WITH_MEMORY, MODULE, add_to_linker};
pub use stdio::{MemoryInputPipe, MemoryOutputPipe};
