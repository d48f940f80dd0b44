//! The `#[repr(C)]` structures that execution tiers read and write directly, and the one
//! table of their field offsets.
//!
//! The JIT emits loads and stores at these offsets, so they are computed here once, with
//! `offset_of!`, and the tests pin them: changing a layout is a deliberate act that shows up
//! as a failing test, never a silent miscompilation.
//!
//! What compiled code reaches, and from where:
//!
//! ```text
//! VMContext (one per instance, InstanceEntity::context)
//!   store ──────▶ VMStoreContext (one per store, StoreOpaque::vm_store)
//!   │               stack_limit          lowest stack address compiled code may use
//!   │               func_refs[FuncId] ─▶ VMFuncRef { native_call, vmctx, type_id, array_call }
//!   │                                    (vmctx: a host function's `HostFunc`, once linked)
//!   │               fuel                 fuel left (fuel metering, see `instrument`)
//!   │               epoch_counter ─────▶ the engine's epoch (an AtomicU64)
//!   │               epoch_deadline       the epoch at which Wasm is interrupted
//!   memories[i] ─▶ VMMemoryDefinition { base, current_length }   (LinearMemory, boxed)
//!   tables[i] ───▶ VMTableDefinition { base, current_elements }   (Table, boxed)
//!   globals[i] ──▶ VMGlobal { bits }                               (GlobalCell)
//!   func_ids[i]    FuncId of function i of the instance (imports first)
//!   instance       the InstanceId
//! ```
//!
//! Invariants: every pointer above stays valid, at the same address, for as long as the
//! store lives (the pointees are boxed and owned by the store); the arrays behind
//! `memories`, `tables`, `globals` and `func_ids` never change after instantiation, so
//! compiled code may treat their loads as read-only. `VMStoreContext::func_refs` moves when
//! the store gains a function, so compiled code reloads it at every use.
//!
//! `func_refs` and `func_ids` are built lazily, per store: instantiation reserves an
//! instance's function ids without creating anything per function, and the store builds
//! both (one `VMFuncRef` per function of the store, one `func_ids` array per instance)
//! the first time compiled code is about to run in it
//! (`StoreOpaque::vm_store_context_ptr`, through which every entry into compiled code
//! goes), then keeps them complete as functions and instances are added. Until then
//! `func_refs_len` is 0 and `func_ids` is null, and no compiled code can observe either.

use std::mem::offset_of;

/// A linear memory's base address and current length in bytes.
#[repr(C)]
#[derive(Debug)]
pub struct VMMemoryDefinition {
    pub base: *mut u8,
    pub current_length: usize,
}

/// A global's value: 16 bytes so that `v128` fits. Scalars live in the low bytes in the
/// encoding of [`crate::value`].
#[repr(C, align(16))]
#[derive(Debug, Clone, Copy, Default)]
pub struct VMGlobal {
    pub bits: u128,
}

impl VMGlobal {
    pub fn get_u64(&self) -> u64 {
        self.bits as u64
    }

    pub fn set_u64(&mut self, value: u64) {
        self.bits = value as u128;
    }
}

/// A table's elements (the raw reference encoding of [`crate::value`]) and their number.
/// Kept up to date by [`crate::Table`], boxed so its address never changes; valid for
/// every table of a store once the store prepared for compiled code (tables made lazily
/// from a template are built then, see [`crate::table`]).
#[repr(C)]
#[derive(Debug)]
pub struct VMTableDefinition {
    pub base: *mut u64,
    pub current_elements: u64,
}

/// How compiled code calls a function of the store; `VMStoreContext::func_refs` holds one per
/// [`FuncId`](crate::FuncId), in the same order as `StoreOpaque::funcs`.
///
/// Three states, told apart by the two code pointers:
///
/// - `native_call` set: a compiled Wasm function. Compiled code calls `native_call` with
///   `vmctx`; the host enters it through `array_call`.
/// - `native_call` null, `array_call` set: a host function linked for compiled code
///   (`StoreOpaque::link_host_call`). `vmctx` is then not a `VMContext` but the address of
///   the function's [`HostFunc`](crate::HostFunc), and compiled code calls `array_call`, the
///   tier's host-call entry, with it (the JIT's `HostCall` convention): one indirect call
///   from the caller's code to the host closure, no lookup by id.
/// - both null: a function without either (a Wasm function not compiled, or not linked
///   yet; a host function not linked yet): compiled code calls it through the runtime,
///   which may link it for the next call.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VMFuncRef {
    /// Entry point with the compiled-code calling convention (see the JIT's docs), or null
    /// when the function has no compiled code (host functions, functions of modules not
    /// compiled).
    pub native_call: *const u8,
    /// The context of the function's instance (null until the instance exists); for a
    /// linked host function, the function's `HostFunc`, an opaque pointer compiled code only
    /// passes on; otherwise null for a host function.
    pub vmctx: *mut VMContext,
    /// The function's signature ([`TypeId`](crate::TypeId)), checked by `call_indirect`.
    pub type_id: u32,
    /// For a Wasm function, the array-call trampoline of its signature (how the host
    /// enters `native_call` with a buffer of values), set with `native_call` when the
    /// function compiled without error and null while `native_call` is. For a linked host
    /// function, the tier's host-call entry, which compiled code calls when `native_call`
    /// is null.
    pub array_call: *const u8,
}

/// The per-store state compiled code reads. Owned by the store (boxed, stable address).
#[repr(C)]
#[derive(Debug)]
pub struct VMStoreContext {
    /// The lowest stack address compiled code may grow down to: Cranelift's stack limit.
    /// Set by the tier on each entry into compiled code.
    pub stack_limit: usize,
    /// `StoreOpaque::func_refs`, refreshed whenever a function is added.
    pub func_refs: *const VMFuncRef,
    pub func_refs_len: usize,
    /// Fuel left, when the engine meters fuel (see [`crate::instrument`]): each metered
    /// region subtracts its cost before it runs, and traps instead when the result would be
    /// negative. Never negative.
    pub fuel: i64,
    /// The engine's epoch counter (or the store's own when the engine gave none); always a
    /// valid pointer, read with an atomic load.
    pub epoch_counter: *const std::sync::atomic::AtomicU64,
    /// With epoch interruption, Wasm traps with `Interrupt` at a check when
    /// `*epoch_counter >= epoch_deadline`.
    pub epoch_deadline: u64,
}

/// The per-instance context compiled code receives as its first argument. Owned by the
/// instance ([`crate::store::InstanceContext`]).
#[repr(C)]
#[derive(Debug)]
pub struct VMContext {
    pub store: *mut VMStoreContext,
    /// `memories[i]` is memory `i` of the instance (imports first).
    pub memories: *const *mut VMMemoryDefinition,
    /// `tables[i]` is table `i` of the instance (imports first).
    pub tables: *const *mut VMTableDefinition,
    /// `globals[i]` is the cell of global `i` (imports first): `InstanceEntity::global_cells`.
    pub globals: *const *mut VMGlobal,
    /// `func_ids[i]` is the store index of function `i` (imports first), i.e.
    /// `InstanceEntity::funcs.get(i)`; null until the store prepares for compiled code
    /// (see the module docs).
    pub func_ids: *const u32,
    /// The instance's [`InstanceId`](crate::InstanceId).
    pub instance: u32,
}

// SAFETY: these layouts only hold addresses of data owned by the store they belong to, and
// a store is used by one thread at a time (exclusively for writes); moving or sharing the
// addresses between threads together with the store is sound.
unsafe impl Send for VMTableDefinition {}
// SAFETY: as above.
unsafe impl Sync for VMTableDefinition {}
// SAFETY: as above.
unsafe impl Send for VMFuncRef {}
// SAFETY: as above.
unsafe impl Sync for VMFuncRef {}
// SAFETY: as above.
unsafe impl Send for VMStoreContext {}
// SAFETY: as above.
unsafe impl Sync for VMStoreContext {}
// SAFETY: as above.
unsafe impl Send for VMContext {}
// SAFETY: as above.
unsafe impl Sync for VMContext {}

/// Offsets of the fields above, for code generators.
pub mod offset {
    use super::*;

    pub const MEMORY_BASE: usize = offset_of!(VMMemoryDefinition, base);
    pub const MEMORY_CURRENT_LENGTH: usize = offset_of!(VMMemoryDefinition, current_length);
    pub const GLOBAL_BITS: usize = offset_of!(VMGlobal, bits);
    pub const TABLE_BASE: usize = offset_of!(VMTableDefinition, base);
    pub const TABLE_CURRENT_ELEMENTS: usize = offset_of!(VMTableDefinition, current_elements);
    pub const FUNC_REF_NATIVE_CALL: usize = offset_of!(VMFuncRef, native_call);
    pub const FUNC_REF_VMCTX: usize = offset_of!(VMFuncRef, vmctx);
    pub const FUNC_REF_TYPE_ID: usize = offset_of!(VMFuncRef, type_id);
    pub const FUNC_REF_ARRAY_CALL: usize = offset_of!(VMFuncRef, array_call);
    pub const FUNC_REF_SIZE: usize = size_of::<VMFuncRef>();
    pub const STORE_STACK_LIMIT: usize = offset_of!(VMStoreContext, stack_limit);
    pub const STORE_FUNC_REFS: usize = offset_of!(VMStoreContext, func_refs);
    pub const STORE_FUNC_REFS_LEN: usize = offset_of!(VMStoreContext, func_refs_len);
    pub const STORE_FUEL: usize = offset_of!(VMStoreContext, fuel);
    pub const STORE_EPOCH_COUNTER: usize = offset_of!(VMStoreContext, epoch_counter);
    pub const STORE_EPOCH_DEADLINE: usize = offset_of!(VMStoreContext, epoch_deadline);
    pub const VMCTX_STORE: usize = offset_of!(VMContext, store);
    pub const VMCTX_MEMORIES: usize = offset_of!(VMContext, memories);
    pub const VMCTX_TABLES: usize = offset_of!(VMContext, tables);
    pub const VMCTX_GLOBALS: usize = offset_of!(VMContext, globals);
    pub const VMCTX_FUNC_IDS: usize = offset_of!(VMContext, func_ids);
    pub const VMCTX_INSTANCE: usize = offset_of!(VMContext, instance);
}

#[cfg(all(test, target_pointer_width = "64"))]
mod tests {
    use super::*;

    #[test]
    fn layouts_are_pinned() {
        assert_eq!(offset::MEMORY_BASE, 0);
        assert_eq!(offset::MEMORY_CURRENT_LENGTH, 8);
        assert_eq!(std::mem::size_of::<VMMemoryDefinition>(), 16);
        assert_eq!(offset::GLOBAL_BITS, 0);
        assert_eq!(std::mem::size_of::<VMGlobal>(), 16);
        assert_eq!(std::mem::align_of::<VMGlobal>(), 16);
    }

    #[test]
    fn compiled_code_layouts_are_pinned() {
        assert_eq!(offset::TABLE_BASE, 0);
        assert_eq!(offset::TABLE_CURRENT_ELEMENTS, 8);
        assert_eq!(std::mem::size_of::<VMTableDefinition>(), 16);
        assert_eq!(offset::FUNC_REF_NATIVE_CALL, 0);
        assert_eq!(offset::FUNC_REF_VMCTX, 8);
        assert_eq!(offset::FUNC_REF_TYPE_ID, 16);
        assert_eq!(offset::FUNC_REF_ARRAY_CALL, 24);
        assert_eq!(offset::FUNC_REF_SIZE, 32);
        assert_eq!(offset::STORE_STACK_LIMIT, 0);
        assert_eq!(offset::STORE_FUNC_REFS, 8);
        assert_eq!(offset::STORE_FUNC_REFS_LEN, 16);
        assert_eq!(offset::STORE_FUEL, 24);
        assert_eq!(offset::STORE_EPOCH_COUNTER, 32);
        assert_eq!(offset::STORE_EPOCH_DEADLINE, 40);
        assert_eq!(std::mem::size_of::<VMStoreContext>(), 48);
        assert_eq!(offset::VMCTX_STORE, 0);
        assert_eq!(offset::VMCTX_MEMORIES, 8);
        assert_eq!(offset::VMCTX_TABLES, 16);
        assert_eq!(offset::VMCTX_GLOBALS, 24);
        assert_eq!(offset::VMCTX_FUNC_IDS, 32);
        assert_eq!(offset::VMCTX_INSTANCE, 40);
        assert_eq!(std::mem::size_of::<VMContext>(), 48);
    }

    #[test]
    fn ids_and_cells_have_the_layout_compiled_code_reads() {
        // `VMContext::func_ids` points at a `[FuncId]`, `globals` at a `[GlobalCell]`.
        assert_eq!(std::mem::size_of::<crate::FuncId>(), 4);
        assert_eq!(std::mem::align_of::<crate::FuncId>(), 4);
        assert_eq!(
            std::mem::size_of::<crate::GlobalCell>(),
            std::mem::size_of::<*mut VMGlobal>()
        );
    }
}
