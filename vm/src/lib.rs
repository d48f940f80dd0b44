//! The runtime core that every execution tier shares.
//!
//! It owns the store and its entities (functions, instances, memories, tables, globals,
//! host references), instantiation, the one trap enum, Wasm's exact numeric semantics, and
//! the `#[repr(C)]` layouts compiled code may touch. It executes no Wasm code itself.
//!
//! Architecture invariant: this crate depends on no tier. Tiers attach their per-module
//! code through [`store::TierSlots`] and their per-store state through
//! [`store::StoreOpaque::interpreter_stack`].

pub mod bulk;
pub mod funcs;
pub mod instance;
pub mod instrument;
pub mod memory;
pub mod numeric;
pub mod offsets;
pub mod plan;
pub mod simd;
pub mod store;
pub mod table;
pub mod trap;
pub mod types;
pub mod value;

pub use instance::{Extern, InstantiationError, instantiate};
pub use instrument::Instrumentation;
pub use memory::{LinearMemory, MemoryConfig, MemoryImage, MemoryPool};
pub use store::*;
pub use table::Table;
pub use trap::{FrameInfo, Trap, TrapCode, TrapReason};
pub use types::{TypeId, TypeRegistry};
