//! Kestrel's embedding API: compile WebAssembly modules, link them with host functions,
//! instantiate them in stores and call them. Shaped like Wasmtime's API.
//!
//! ```
//! use kestrel::{Caller, Engine, Linker, Module, Store};
//!
//! fn main() -> kestrel::Result<()> {
//!     let engine = Engine::default();
//!     let module = Module::new(
//!         &engine,
//!         r#"
//!         (module
//!           (import "host" "double" (func $double (param i32) (result i32)))
//!           (func (export "run") (param i32) (result i32)
//!             local.get 0
//!             call $double
//!             i32.const 1
//!             i32.add))
//!         "#,
//!     )?;
//!
//!     // The store's data (here a call counter) is what host functions see through `Caller`.
//!     let mut linker = Linker::new(&engine);
//!     linker.func_wrap("host", "double", |mut caller: Caller<'_, u32>, x: i32| {
//!         *caller.data_mut() += 1;
//!         x * 2
//!     })?;
//!     let mut store = Store::new(&engine, 0u32);
//!     let instance = linker.instantiate(&mut store, &module)?;
//!
//!     let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
//!     assert_eq!(run.call(&mut store, 20)?, 41);
//!     assert_eq!(*store.data(), 1);
//!     Ok(())
//! }
//! ```
//!
//! | Type | What it is |
//! | --- | --- |
//! | [`Config`], [`Engine`] | Settings (Wasm features, stack limits, memory reservation), and the shared context built from them. |
//! | [`Module`] | A validated module (from binary or text), shareable across threads and stores. |
//! | [`Store<T>`] | Owner of all runtime objects, plus your data `T`. Nothing is freed before the store. |
//! | [`Linker<T>`], [`InstancePre<T>`] | Definitions by `(module, name)`; resolves imports and instantiates, or resolves once for many fast instantiations. |
//! | [`Instance`] | An instantiated module; its exports. |
//! | [`Func`], [`TypedFunc`] | A function (Wasm or host); a statically typed view of one for fast calls. |
//! | [`Caller`] | What a host function gets: the store (and your data) and the calling instance. |
//! | [`Memory`], [`Table`], [`Global`] | Linear memories, reference tables and globals. |
//! | [`Extern`], [`ExternType`] | Any importable/exportable item, and its type. |
//! | [`Val`], [`ExternRef`] | A dynamically typed value; a host value Wasm can hold. |
//! | [`Error`], [`ErrorKind`], [`Trap`] | The one error type, its broad kind, and trap codes. |
//! | [`StoreLimits`], [`StoreLimitsBuilder`] | How much memory, how many tables and instances a store may have ([`Store::limiter`]); fuel ([`Store::set_fuel`]) and epoch deadlines ([`Store::set_epoch_deadline`]) bound how long Wasm runs. |
//!
//! Handles ([`Func`], [`Memory`], [`Table`], [`Global`], [`Instance`], [`ExternRef`]) are
//! small `Copy` values that are valid only with the store that made them; using one with
//! another store panics. Every other misuse (wrong arity or types, cross-engine use) is an
//! [`Error`] of kind [`ErrorKind::Usage`].

mod engine;
mod error;
mod externals;
mod func;
mod global;
mod instance;
mod limits;
mod linker;
mod memory;
mod module;
mod store;
mod table;
mod tier;
mod typed;
mod values;

pub use engine::{Config, Engine, InstanceAllocationStrategy, PoolingConfig, Strategy};
pub use error::{Error, ErrorKind, FrameInfo, Result, WasmBacktrace};
pub use externals::Extern;
pub use func::{Func, IntoFunc};
pub use global::Global;
pub use instance::Instance;
pub use limits::{StoreLimits, StoreLimitsBuilder};
pub use linker::{InstancePre, Linker};
pub use memory::Memory;
pub use module::{ExportType, ExternType, ImportType, Module};
pub use store::{AsContext, AsContextMut, Caller, Store, StoreContext, StoreContextMut};
pub use table::Table;
pub use typed::{TypedFunc, V128, WasmParams, WasmResults, WasmRet, WasmTy};
pub use values::{ExternRef, Val};

pub use kestrel_parser::{
    Features, FuncType, GlobalType, HeapType, Limits, MemoryType, ParseError, RefType, TableType,
    ValType,
};
/// Why Wasm trapped (named like Wasmtime's trap-code enum). A trap's [`Error`] yields it
/// through [`Error::trap_code`] or `downcast_ref::<Trap>()`.
pub use kestrel_vm::TrapCode as Trap;
