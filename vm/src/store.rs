//! The store: owner of every runtime entity, addressed by index.
//!
//! Instances, memories, tables, globals and host references live in vectors of one
//! [`StoreOpaque`] and are referred to by typed indices (`InstanceId`, `MemoryId`, ...).
//! Functions are referred to by [`FuncId`] too, but an instance's defined functions are one
//! run of ids reserved at once, with no per-function entity ([`crate::funcs`]).
//! Entities are never freed before the store is: a table may hold a function of an instance
//! whose instantiation failed halfway, and that reference must stay valid.
//!
//! What compiled code reads per function (`VMFuncRef`s, and each instance's array of
//! function ids) and per table element (tables made from their module's template start
//! lazy, see [`crate::table`]) is built only once compiled code is about to run in the
//! store ([`StoreOpaque::vm_store_context_ptr`]) and kept up to date from then on: stores
//! that only interpret never build the former, and instantiation does no per-function or
//! per-element work in them.
//!
//! The store is untyped: the embedding API's `Store<T>` pairs it with the user's `T`, and
//! host functions receive both as two disjoint borrows ([`HostContext`]), which is how a tier
//! can call a host function while keeping no Rust reference into the store alive.

use crate::funcs::FuncSpace;
use crate::instrument::Instrumentation;
use crate::memory::{LinearMemory, MemoryConfig};
use crate::offsets::{
    VMContext, VMFuncRef, VMGlobal, VMMemoryDefinition, VMStoreContext, VMTableDefinition,
};
use crate::plan::InstancePlan;
use crate::table::Table;
use crate::trap::Trap;
use crate::types::{TypeId, TypeRegistry};
use kestrel_parser::{FuncIndex, FuncType, GlobalType, ModuleInfo};
use std::any::Any;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

macro_rules! entity_ids {
    ($( $(#[$doc:meta])* $name:ident, )*) => {$(
        $(#[$doc])*
        #[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(transparent)]
        pub struct $name(pub u32);

        impl $name {
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    )*};
}

entity_ids! {
    /// A function in a store.
    FuncId,
    /// An instance in a store.
    InstanceId,
    /// A linear memory in a store.
    MemoryId,
    /// A table in a store.
    TableId,
    /// A global in a store.
    GlobalId,
    /// A host value held by an `externref`.
    ExternRefId,
}

/// Identifies a store, so handles from one store are refused by another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StoreId(u64);

impl StoreId {
    fn allocate() -> StoreId {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        StoreId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// An error a host function returns; it unwinds the whole Wasm call.
pub type HostError = Box<dyn std::error::Error + Send + Sync>;

/// What a host function is given: the store, the embedder's data, and the calling instance.
pub struct HostContext<'a> {
    pub store: &'a mut StoreOpaque,
    pub data: &'a mut dyn Any,
    /// The instance whose code made the call, if the call came from Wasm.
    pub caller: Option<InstanceId>,
}

/// The type-erased body of a host function.
///
/// `values` holds the parameters on entry and receives the results; its length is the larger
/// of the two counts. Values use the raw encoding of [`crate::value`].
pub type HostCallback = dyn Fn(HostContext<'_>, &mut [u64]) -> Result<(), HostError> + Send + Sync;

/// A host function with its signature.
pub struct HostFunc {
    pub ty: Arc<FuncType>,
    pub type_id: TypeId,
    pub callback: Box<HostCallback>,
    /// The length of the values buffer a call needs: the larger of the slots the
    /// parameters and the results take (worked out once, not per call).
    slots: usize,
}

impl HostFunc {
    /// A host function of type `ty` (registered as `type_id`) running `callback`.
    pub fn new(ty: Arc<FuncType>, type_id: TypeId, callback: Box<HostCallback>) -> HostFunc {
        let slots =
            crate::value::slot_count(ty.params()).max(crate::value::slot_count(ty.results()));
        HostFunc {
            ty,
            type_id,
            callback,
            slots,
        }
    }

    /// How many raw slots the values buffer of a call takes: the larger of the slots of
    /// the parameters and of the results.
    #[inline]
    pub fn slots(&self) -> usize {
        self.slots
    }

    /// Runs the function on `values` (parameters in, results out); its error becomes the
    /// trap that unwinds the Wasm call. The one way every tier calls a host function.
    #[inline]
    pub fn call(
        &self,
        store: &mut StoreOpaque,
        data: &mut dyn Any,
        caller: Option<InstanceId>,
        values: &mut [u64],
    ) -> Result<(), crate::trap::Trap> {
        (self.callback)(
            HostContext {
                store,
                data,
                caller,
            },
            values,
        )
        .map_err(crate::trap::Trap::host)
    }
}

impl std::fmt::Debug for HostFunc {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("HostFunc")
            .field("ty", &self.ty)
            .finish_non_exhaustive()
    }
}

/// A function in a store.
#[derive(Debug, Clone)]
pub enum FuncEntity {
    /// Function `index` of `instance`'s module (a defined function).
    Wasm {
        instance: InstanceId,
        index: FuncIndex,
        type_id: TypeId,
    },
    Host(Arc<HostFunc>),
}

impl FuncEntity {
    pub fn type_id(&self) -> TypeId {
        match self {
            FuncEntity::Wasm { type_id, .. } => *type_id,
            FuncEntity::Host(host) => host.type_id,
        }
    }
}

/// The heap cell holding a global's value, at an address that never changes, so that the
/// tiers can keep direct pointers to it (an instance lists its globals' cells).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
pub struct GlobalCell(NonNull<VMGlobal>);

// SAFETY: a cell is only read or written through the store that owns it, and the store is
// only used by one thread at a time (`&mut` for writes), so the pointer may move between
// threads with it.
unsafe impl Send for GlobalCell {}
// SAFETY: as above: shared access through `&StoreOpaque` only reads.
unsafe impl Sync for GlobalCell {}

impl GlobalCell {
    /// A pointer to the value, valid as long as the owning store lives.
    pub fn as_ptr(self) -> *mut VMGlobal {
        self.0.as_ptr()
    }
}

/// A global in a store.
#[derive(Debug)]
pub struct GlobalEntity {
    pub ty: GlobalType,
    /// Owned: allocated in `new`, freed in `drop`.
    cell: GlobalCell,
}

impl GlobalEntity {
    pub fn new(ty: GlobalType, bits: u128) -> GlobalEntity {
        let cell = NonNull::from(Box::leak(Box::new(VMGlobal { bits })));
        GlobalEntity {
            ty,
            cell: GlobalCell(cell),
        }
    }

    /// The value, in the raw encoding of [`crate::value`].
    pub fn bits(&self) -> u128 {
        // SAFETY: the cell is a live allocation owned by `self`; no other access runs
        // concurrently because tiers write it only while holding the store exclusively.
        unsafe { (*self.cell.as_ptr()).bits }
    }

    pub fn set_bits(&mut self, bits: u128) {
        // SAFETY: as in `bits`, and `&mut self` excludes other access.
        unsafe { (*self.cell.as_ptr()).bits = bits }
    }

    pub fn cell(&self) -> GlobalCell {
        self.cell
    }
}

impl Drop for GlobalEntity {
    fn drop(&mut self) {
        // SAFETY: the cell came from `Box::leak` in `new` and is freed only here, once; the
        // store drops its instances (which point at cells) together with its globals.
        drop(unsafe { Box::from_raw(self.cell.as_ptr()) });
    }
}

/// Per-module data the tiers attach lazily: translated or compiled code, shared by every
/// instance of the module. Type-erased so the runtime core depends on no tier.
///
/// For tiered execution it also holds, per defined function, the two facts the tiers
/// exchange without naming each other: whether a tier-up was requested, and whether the
/// function has compiled code (set, with `Release`, only once that code is in `compiler`
/// and may be entered).
#[derive(Default)]
pub struct TierSlots {
    pub interpreter: OnceLock<Box<dyn Any + Send + Sync>>,
    pub compiler: OnceLock<Box<dyn Any + Send + Sync>>,
    /// `tier_up_requested[i]`: defined function `i` was reported hot (so it is compiled
    /// once).
    pub tier_up_requested: Box<[AtomicBool]>,
    /// `native_ready[i]`: defined function `i` has compiled code callers may switch to.
    pub native_ready: Box<[AtomicBool]>,
    /// `osr_requested[i]`: an on-stack-replacement entry was requested for a loop of
    /// defined function `i` (one per function, for the first loop reported hot).
    pub osr_requested: Box<[AtomicBool]>,
    /// `osr_ready[i]`: 0, or 1 + the loop ordinal (the loop's position among the `loop`
    /// instructions of the body, in order, counted from 0) of the compiled on-stack
    /// replacement entry of defined function `i`, set with `Release` once it may be entered.
    pub osr_ready: Box<[AtomicU32]>,
}

impl TierSlots {
    fn new(defined_functions: usize) -> TierSlots {
        let flags = || {
            (0..defined_functions)
                .map(|_| AtomicBool::new(false))
                .collect()
        };
        TierSlots {
            tier_up_requested: flags(),
            native_ready: flags(),
            osr_requested: flags(),
            osr_ready: (0..defined_functions).map(|_| AtomicU32::new(0)).collect(),
            ..TierSlots::default()
        }
    }

    /// Whether defined function `defined` has compiled code to switch to.
    #[inline]
    pub fn is_native_ready(&self, defined: usize) -> bool {
        self.native_ready[defined].load(Ordering::Acquire)
    }

    /// The loop ordinal of defined function `defined`'s on-stack-replacement entry, if it
    /// has one ready.
    #[inline]
    pub fn osr_loop(&self, defined: usize) -> Option<u32> {
        self.osr_ready[defined]
            .load(Ordering::Acquire)
            .checked_sub(1)
    }
}

/// The embedding layer's side of tiered execution, called by the interpreter (which knows
/// no other tier). Installed per store in [`StoreOpaque::tiering`].
pub trait TierUp: Send + Sync {
    /// Defined function `func_index` of `instance` reached a threshold: compile it (now or
    /// in the background); when done, its `TierSlots::native_ready` flag is set.
    fn hot(&self, store: &mut StoreOpaque, instance: InstanceId, func_index: FuncIndex);
    /// Compiles defined function `func_index` of `instance` now, on this thread, unless
    /// it has compiled code already (used by the embedding layer when compiled code calls
    /// an interpreted function, so calls do not keep crossing between the tiers).
    fn compile_now(&self, store: &mut StoreOpaque, instance: InstanceId, func_index: FuncIndex);
    /// Runs Wasm function `func`, whose `native_ready` flag is set, in compiled code. Same
    /// contract as a call from the API: parameters in `values`, results left there.
    fn call_native(
        &self,
        store: &mut StoreOpaque,
        data: &mut dyn Any,
        func: FuncId,
        values: &mut [u64],
    ) -> Result<(), Trap>;
    /// A loop of defined function `func_index` of `instance` (`loop_ordinal`: see
    /// [`TierSlots::osr_ready`]) is hot while the function runs: compile an on-stack
    /// replacement entry for it (now or in the background); when done, the function's
    /// `osr_ready` is set. Only the first request per function counts.
    fn loop_hot(
        &self,
        store: &mut StoreOpaque,
        instance: InstanceId,
        func_index: FuncIndex,
        loop_ordinal: u32,
    );
    /// Continues a running call of function `func_index` of `instance` in compiled code
    /// from the header of loop `loop_ordinal`, whose entry is ready (`osr_ready`).
    /// `state` holds the frame's live values in vm's raw encoding: every local (parameters
    /// first), then the operand stack at the loop header, bottom to top (the values of
    /// enclosing blocks, then the loop's parameters). On success the function's results
    /// are in `state[..results]` (`state` is at least that long). A trap's backtrace
    /// includes the function's own frame.
    fn enter_loop(
        &self,
        store: &mut StoreOpaque,
        data: &mut dyn Any,
        instance: InstanceId,
        func_index: FuncIndex,
        loop_ordinal: u32,
        state: &mut [u64],
    ) -> Result<(), Trap>;
}

/// Tiered execution settings of a store: when the interpreter reports a function as hot
/// (its entries, or the backward branches taken in it, reach a threshold), and to whom.
#[derive(Clone)]
pub struct Tiering {
    pub call_threshold: u32,
    pub back_edge_threshold: u32,
    /// Whether a function whose back edges reach `back_edge_threshold` gets an
    /// on-stack-replacement entry for the loop (so the running call leaves the
    /// interpreter) instead of being reported hot as a whole (`TierUp::hot`).
    pub on_stack_replacement: bool,
    pub hooks: Arc<dyn TierUp>,
}

impl std::fmt::Debug for Tiering {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Tiering")
            .field("call_threshold", &self.call_threshold)
            .field("back_edge_threshold", &self.back_edge_threshold)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for TierSlots {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("TierSlots").finish_non_exhaustive()
    }
}

/// A module as the runtime sees it: its description, its signatures as engine-wide ids, and
/// the tiers' code.
#[derive(Debug)]
pub struct RuntimeModule {
    pub info: Arc<ModuleInfo>,
    /// `type_ids[i]` is the canonical id of `info.types[i]`.
    pub type_ids: Box<[TypeId]>,
    pub tiers: TierSlots,
    /// What every tier adds to this module's code (fuel, epoch checks): the engine's
    /// setting, fixed before any code is made.
    pub instrumentation: Instrumentation,
    /// What instantiation precomputes, built on first use (see [`crate::plan`]).
    plan: OnceLock<InstancePlan>,
}

impl RuntimeModule {
    pub fn new(info: Arc<ModuleInfo>, registry: &TypeRegistry) -> RuntimeModule {
        let type_ids = info.types.iter().map(|ty| registry.register(ty)).collect();
        let tiers = TierSlots::new(info.function_bodies.len());
        RuntimeModule {
            info,
            type_ids,
            tiers,
            instrumentation: Instrumentation::default(),
            plan: OnceLock::new(),
        }
    }

    /// The module's instantiation plan, built on the first call.
    pub fn plan(&self) -> &InstancePlan {
        self.plan.get_or_init(|| {
            let defined = (self.info.num_imported_functions..self.info.functions.len() as u32)
                .map(|index| self.function_type_id(index))
                .collect();
            InstancePlan::new(&self.info, defined)
        })
    }

    /// The canonical signature id of function `index`.
    pub fn function_type_id(&self, index: FuncIndex) -> TypeId {
        self.type_ids[self.info.functions[index as usize] as usize]
    }
}

/// One instance: its module and the store entities its index spaces resolve to.
#[derive(Debug)]
pub struct InstanceEntity {
    pub module: Arc<RuntimeModule>,
    /// The functions: the imported ones listed, the defined ones as one run of ids (see
    /// [`InstanceFuncs::get`]).
    pub funcs: InstanceFuncs,
    pub tables: Box<[TableId]>,
    pub memories: Box<[MemoryId]>,
    pub globals: Box<[GlobalId]>,
    /// The value cells of `globals`, in the same order, for direct access by the tiers.
    pub global_cells: Box<[GlobalCell]>,
    /// `data.drop` (or active initialisation) has happened for segment `i`.
    pub dropped_data: Box<[bool]>,
    /// `elem.drop` (or active/declared initialisation) has happened for segment `i`.
    pub dropped_elements: Box<[bool]>,
    /// The context compiled code runs with.
    pub context: InstanceContext,
}

/// The store ids of an instance's functions: function `i` of its module is
/// `imported[i]` for an import, else `first_defined + (i - imported.len())`.
#[derive(Debug, Clone, Default)]
pub struct InstanceFuncs {
    /// The functions provided for the module's function imports, in import order.
    pub imported: Box<[FuncId]>,
    /// The id of the first defined function; the others follow it.
    pub first_defined: FuncId,
}

impl InstanceFuncs {
    /// The store id of function `index` of the instance's module (which must be one of its
    /// functions: validation bounds every index the tiers use).
    #[inline]
    pub fn get(&self, index: FuncIndex) -> FuncId {
        match self.imported.get(index as usize) {
            Some(id) => *id,
            None => FuncId(self.first_defined.0 + (index - self.imported.len() as u32)),
        }
    }

    /// Every function's id, in index order, for `total` functions.
    pub fn to_vec(&self, total: usize) -> Vec<FuncId> {
        let mut ids = Vec::with_capacity(total);
        ids.extend_from_slice(&self.imported);
        let defined = total.saturating_sub(self.imported.len()) as u32;
        ids.extend((0..defined).map(|offset| FuncId(self.first_defined.0 + offset)));
        ids
    }
}

/// An instance's [`VMContext`] and the arrays it points to that the instance does not
/// already hold. Every pointer in it stays valid as long as the store lives (see
/// [`crate::offsets`]).
#[derive(Debug)]
pub struct InstanceContext {
    vmctx: Box<VMContext>,
    _memories: Box<[*mut VMMemoryDefinition]>,
    _tables: Box<[*mut VMTableDefinition]>,
    /// Every function's id, for compiled code (`VMContext::func_ids`); built only once
    /// the store prepares for compiled code (see the module docs).
    func_ids: Option<Box<[FuncId]>>,
}

// SAFETY: the context only holds addresses of data owned by the same store, which is used by
// one thread at a time; see the `Send`/`Sync` impls in `offsets`.
unsafe impl Send for InstanceContext {}
// SAFETY: as above; shared access only reads.
unsafe impl Sync for InstanceContext {}

impl InstanceContext {
    /// The context of the instance `instance`, whose globals' cells are `global_cells` (a
    /// boxed slice the instance keeps for as long as it lives). `func_ids` is null until
    /// [`InstanceContext::set_func_ids`].
    pub(crate) fn new(
        store: &mut StoreOpaque,
        instance: InstanceId,
        memories: &[MemoryId],
        tables: &[TableId],
        global_cells: &[GlobalCell],
    ) -> InstanceContext {
        let memories: Box<[*mut VMMemoryDefinition]> = memories
            .iter()
            .map(|id| store.memory_mut(*id).definition_ptr())
            .collect();
        let tables: Box<[*mut VMTableDefinition]> = tables
            .iter()
            .map(|id| store.table_mut(*id).definition_ptr())
            .collect();
        let vmctx = Box::new(VMContext {
            store: &mut *store.vm_store,
            memories: memories.as_ptr(),
            tables: tables.as_ptr(),
            globals: global_cells.as_ptr().cast(),
            func_ids: std::ptr::null(),
            instance: instance.0,
        });
        InstanceContext {
            vmctx,
            _memories: memories,
            _tables: tables,
            func_ids: None,
        }
    }

    /// Gives compiled code the instance's function ids (every function, in index order).
    fn set_func_ids(&mut self, ids: Box<[FuncId]>) {
        self.vmctx.func_ids = ids.as_ptr().cast();
        self.func_ids = Some(ids);
    }

    fn has_func_ids(&self) -> bool {
        self.func_ids.is_some()
    }

    /// The context's address, stable for the life of the store.
    pub fn vmctx_ptr(&self) -> *mut VMContext {
        &*self.vmctx as *const VMContext as *mut VMContext
    }
}

/// Limits on execution resources, per store.
#[derive(Debug, Clone, Copy)]
pub struct StackLimits {
    /// Most Wasm frames live at once (across host re-entry).
    pub max_call_depth: u32,
    /// Most 64-bit value slots the interpreter's value stack may hold.
    pub max_value_stack: usize,
    /// Most nested entries into Wasm from host functions, each of which costs host stack.
    pub max_reentrancy: u32,
    /// Most bytes of native stack compiled (JIT) code may use from one entry into Wasm; the
    /// JIT also stops short of the end of the thread's stack. Compiled frames are counted
    /// in bytes, not against `max_call_depth`.
    pub max_wasm_stack: usize,
}

impl Default for StackLimits {
    fn default() -> StackLimits {
        StackLimits {
            max_call_depth: 100_000,
            max_value_stack: 1 << 22,
            max_reentrancy: 200,
            max_wasm_stack: 8 << 20,
        }
    }
}

/// The untyped store.
pub struct StoreOpaque {
    id: StoreId,
    pub registry: Arc<TypeRegistry>,
    pub memory_config: MemoryConfig,
    pub stack_limits: StackLimits,
    funcs: FuncSpace,
    pub instances: Vec<InstanceEntity>,
    pub memories: Vec<LinearMemory>,
    pub tables: Vec<Table>,
    pub globals: Vec<GlobalEntity>,
    pub extern_refs: Vec<Box<dyn Any + Send + Sync>>,
    /// How many Wasm frames are live, across nested entries.
    pub call_depth: u32,
    /// How many times Wasm has been entered and not yet left.
    pub reentrancy: u32,
    /// The interpreter's reusable value stack, parked here between calls.
    pub interpreter_stack: Option<Box<dyn Any + Send>>,
    /// Tiered execution: set by the embedding layer when hot interpreted functions should
    /// be compiled; `None` keeps the interpreter free of any counting.
    pub tiering: Option<Tiering>,
    /// Running calls that left the interpreter through on-stack replacement.
    pub on_stack_replacements: u64,
    /// How compiled code calls each function, indexed by [`FuncId`]: empty until compiled
    /// code is about to run (`func_refs_live`), then one per function, kept so as functions
    /// are added; `vm_store` points at it.
    func_refs: Vec<VMFuncRef>,
    /// `func_refs` and every instance's `func_ids` are built and kept up to date, and
    /// every table is materialised (compiled code may run).
    func_refs_live: bool,
    /// The store's state for compiled code; its address never changes.
    vm_store: Box<VMStoreContext>,
    /// The epoch counter `vm_store.epoch_counter` points at (the engine's, once set).
    epoch_counter: Arc<AtomicU64>,
    /// Finds the store's [`StoreLimits`] in the embedder's data, if limits are set.
    pub limiter: Option<Box<LimiterAccessor>>,
    /// The engine's instrumentation setting (which API calls about fuel are allowed).
    pub instrumentation: Instrumentation,
}

/// Lends the [`StoreLimits`] kept in the embedder's data (passed as `&mut dyn Any`).
pub type LimiterAccessor = dyn for<'a> FnMut(&'a mut dyn Any) -> &'a mut StoreLimits + Send + Sync;

/// Limits on what a store may allocate, in the shape of Wasmtime's `StoreLimits`: memory
/// and table growth past a limit fails (`memory.grow` returns -1), and instantiation that
/// would pass a limit fails with an error. `None` or the count's maximum means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreLimits {
    /// Most bytes any one linear memory may have.
    pub memory_size: Option<usize>,
    /// Most elements any one table may have.
    pub table_elements: Option<usize>,
    /// Most instances in the store.
    pub instances: usize,
    /// Most tables in the store (imported ones count where they were made).
    pub tables: usize,
    /// Most memories in the store.
    pub memories: usize,
}

impl Default for StoreLimits {
    /// No limits beyond Wasmtime's default counts (10 000 of each entity).
    fn default() -> StoreLimits {
        StoreLimits {
            memory_size: None,
            table_elements: None,
            instances: 10_000,
            tables: 10_000,
            memories: 10_000,
        }
    }
}

impl std::fmt::Debug for StoreOpaque {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("StoreOpaque")
            .field("funcs", &self.funcs.len())
            .field("instances", &self.instances.len())
            .finish_non_exhaustive()
    }
}

impl StoreOpaque {
    /// A store with its own epoch counter.
    pub fn new(
        registry: Arc<TypeRegistry>,
        memory_config: MemoryConfig,
        stack_limits: StackLimits,
    ) -> StoreOpaque {
        let epoch_counter = Arc::new(AtomicU64::new(0));
        StoreOpaque::with_epoch_counter(registry, memory_config, stack_limits, epoch_counter)
    }

    /// A store reading `epoch_counter` (its engine's), so creating one allocates no
    /// counter of its own.
    pub fn with_epoch_counter(
        registry: Arc<TypeRegistry>,
        memory_config: MemoryConfig,
        stack_limits: StackLimits,
        epoch_counter: Arc<AtomicU64>,
    ) -> StoreOpaque {
        StoreOpaque {
            id: StoreId::allocate(),
            registry,
            memory_config,
            stack_limits,
            funcs: FuncSpace::default(),
            instances: Vec::new(),
            memories: Vec::new(),
            tables: Vec::new(),
            globals: Vec::new(),
            extern_refs: Vec::new(),
            call_depth: 0,
            reentrancy: 0,
            on_stack_replacements: 0,
            interpreter_stack: None,
            tiering: None,
            func_refs: Vec::new(),
            func_refs_live: false,
            vm_store: Box::new(VMStoreContext {
                stack_limit: usize::MAX,
                func_refs: std::ptr::null(),
                func_refs_len: 0,
                fuel: 0,
                epoch_counter: std::ptr::null(),
                epoch_deadline: u64::MAX,
            }),
            epoch_counter,
            limiter: None,
            instrumentation: Instrumentation::default(),
        }
        .pointing_at_epoch_counter()
    }

    fn pointing_at_epoch_counter(mut self) -> StoreOpaque {
        self.vm_store.epoch_counter = Arc::as_ptr(&self.epoch_counter);
        self
    }

    // ----- fuel and epochs (see `crate::instrument`) -----

    /// The fuel left.
    pub fn fuel(&self) -> u64 {
        self.vm_store.fuel as u64
    }

    /// Sets the fuel left; more than `i64::MAX` is `i64::MAX`.
    pub fn set_fuel(&mut self, fuel: u64) {
        self.vm_store.fuel = fuel.min(i64::MAX as u64) as i64;
    }

    /// Charges `cost` units of fuel; `false`, with the fuel unchanged, when less is left.
    /// The interpreter's charge (compiled code does the same inline).
    #[inline]
    pub fn consume_fuel(&mut self, cost: u64) -> bool {
        let left = self.vm_store.fuel as u64;
        if left < cost {
            return false;
        }
        self.vm_store.fuel = (left - cost) as i64;
        true
    }

    /// The current epoch.
    pub fn epoch(&self) -> u64 {
        self.epoch_counter.load(Ordering::Relaxed)
    }

    /// Wasm is interrupted at its next check once the epoch is at least `deadline`.
    pub fn set_epoch_deadline(&mut self, deadline: u64) {
        self.vm_store.epoch_deadline = deadline;
    }

    pub fn epoch_deadline(&self) -> u64 {
        self.vm_store.epoch_deadline
    }

    /// Whether the epoch has reached the deadline: the interpreter's epoch check.
    #[inline]
    pub fn epoch_deadline_reached(&self) -> bool {
        self.epoch_counter.load(Ordering::Relaxed) >= self.vm_store.epoch_deadline
    }

    // ----- resource limits -----

    /// The limits in force, read from the embedder's `data` (defaults without a limiter).
    pub fn limits(&mut self, data: &mut dyn Any) -> StoreLimits {
        match &mut self.limiter {
            Some(limiter) => *limiter(data),
            None => StoreLimits::default(),
        }
    }

    /// Checks that instantiating `module` keeps the store within its limits: one more
    /// instance, the module's own memories and tables, and their initial sizes. The
    /// embedding layer calls it before `instantiate`.
    pub fn check_instantiation_limits(
        &mut self,
        data: &mut dyn Any,
        module: &ModuleInfo,
    ) -> Result<(), String> {
        if self.limiter.is_none() {
            return Ok(());
        }
        let limits = self.limits(data);
        let memories = &module.memories[module.num_imported_memories as usize..];
        let tables = &module.tables[module.num_imported_tables as usize..];
        if self.instances.len() + 1 > limits.instances {
            return Err(format!(
                "resource limit exceeded: instance count too high at {}",
                self.instances.len() + 1
            ));
        }
        if self.memories.len() + memories.len() > limits.memories {
            return Err(format!(
                "resource limit exceeded: memory count too high at {}",
                self.memories.len() + memories.len()
            ));
        }
        if self.tables.len() + tables.len() > limits.tables {
            return Err(format!(
                "resource limit exceeded: table count too high at {}",
                self.tables.len() + tables.len()
            ));
        }
        for ty in memories {
            self.check_new_memory(&limits, ty)?;
        }
        for ty in tables {
            self.check_new_table(&limits, ty)?;
        }
        Ok(())
    }

    /// Checks that a memory of type `ty` may be made in the store (the API's
    /// `Memory::new`).
    pub fn check_memory_limits(
        &mut self,
        data: &mut dyn Any,
        ty: &kestrel_parser::MemoryType,
    ) -> Result<(), String> {
        let limits = self.limits(data);
        if self.memories.len() + 1 > limits.memories {
            return Err("resource limit exceeded: memory count too high".into());
        }
        self.check_new_memory(&limits, ty)
    }

    /// Checks that a table of type `ty` may be made in the store (the API's
    /// `Table::new`).
    pub fn check_table_limits(
        &mut self,
        data: &mut dyn Any,
        ty: &kestrel_parser::TableType,
    ) -> Result<(), String> {
        let limits = self.limits(data);
        if self.tables.len() + 1 > limits.tables {
            return Err("resource limit exceeded: table count too high".into());
        }
        self.check_new_table(&limits, ty)
    }

    fn check_new_memory(
        &self,
        limits: &StoreLimits,
        ty: &kestrel_parser::MemoryType,
    ) -> Result<(), String> {
        let bytes = ty.limits.minimum.saturating_mul(ty.page_size());
        match limits.memory_size {
            Some(limit) if bytes > limit as u64 => Err(format!(
                "resource limit exceeded: memory minimum size of {bytes} bytes exceeds the \
                 limit of {limit} bytes"
            )),
            _ => Ok(()),
        }
    }

    fn check_new_table(
        &self,
        limits: &StoreLimits,
        ty: &kestrel_parser::TableType,
    ) -> Result<(), String> {
        let elements = ty.limits.minimum;
        match limits.table_elements {
            Some(limit) if elements > limit as u64 => Err(format!(
                "resource limit exceeded: table minimum size of {elements} elements exceeds \
                 the limit of {limit} elements"
            )),
            _ => Ok(()),
        }
    }

    /// Grows memory `id` by `delta` pages, within its maximum and the store's limits;
    /// returns the old size in pages, or `None` (the memory unchanged). Every tier's
    /// `memory.grow` and the API's come here.
    pub fn grow_memory(&mut self, data: &mut dyn Any, id: MemoryId, delta: u64) -> Option<u64> {
        if let Some(limit) = self.limits(data).memory_size {
            let memory = self.memory(id);
            let page_size = memory.ty().page_size();
            let desired = memory
                .size_in_pages()
                .checked_add(delta)?
                .checked_mul(page_size)?;
            if desired > limit as u64 {
                return None;
            }
        }
        self.memory_mut(id).grow(delta)
    }

    /// Grows table `id` by `delta` elements set to `init`, within its maximum and the
    /// store's limits; returns the old size, or `None` (the table unchanged).
    pub fn grow_table(
        &mut self,
        data: &mut dyn Any,
        id: TableId,
        delta: u64,
        init: u64,
    ) -> Option<u64> {
        if let Some(limit) = self.limits(data).table_elements {
            let desired = self.table(id).size().checked_add(delta)?;
            if desired > limit as u64 {
                return None;
            }
        }
        self.table_mut(id).grow(delta, init)
    }

    /// The store's [`VMStoreContext`], at an address that never changes, for compiled code
    /// about to run: builds what compiled code reads per function (the `VMFuncRef`s and
    /// each instance's function ids) if that has not happened yet, and keeps it up to date
    /// from then on. Every entry into compiled code goes through here.
    pub fn vm_store_context_ptr(&mut self) -> *mut VMStoreContext {
        self.prepare_for_compiled_code();
        &mut *self.vm_store
    }

    /// Builds the store's `VMFuncRef`s and its instances' function-id arrays, and
    /// materialises its lazy tables (once; see the module docs): O(functions and table
    /// elements in the store), paid once per store that runs compiled code instead of at
    /// every instantiation.
    #[inline]
    pub fn prepare_for_compiled_code(&mut self) {
        if !self.func_refs_live {
            self.build_compiled_code_view();
        }
    }

    #[cold]
    fn build_compiled_code_view(&mut self) {
        self.func_refs_live = true;
        let mut func_refs = Vec::with_capacity(self.funcs.len());
        let instances = &self.instances;
        self.funcs.for_each(|type_id, instance| {
            func_refs.push(VMFuncRef {
                native_call: std::ptr::null(),
                array_call: std::ptr::null(),
                vmctx: instance
                    .and_then(|id| instances.get(id.index()))
                    .map_or(std::ptr::null_mut(), |entity| entity.context.vmctx_ptr()),
                type_id: type_id.0,
            });
        });
        self.func_refs = func_refs;
        self.sync_func_refs();
        for instance in 0..self.instances.len() {
            self.build_func_ids(InstanceId(instance as u32));
        }
        // Compiled code reads tables through their `VMTableDefinition`s.
        for table in &mut self.tables {
            table.materialize();
        }
    }

    /// Gives instance `id`'s compiled code its function-id array, once.
    fn build_func_ids(&mut self, id: InstanceId) {
        let entity = &mut self.instances[id.index()];
        if entity.context.has_func_ids() {
            return;
        }
        let total = entity.module.info.functions.len();
        let ids = entity.funcs.to_vec(total).into_boxed_slice();
        entity.context.set_func_ids(ids);
    }

    fn sync_func_refs(&mut self) {
        self.vm_store.func_refs = self.func_refs.as_ptr();
        self.vm_store.func_refs_len = self.func_refs.len();
    }

    /// How compiled code calls each function, indexed by [`FuncId`]; empty until the store
    /// prepared for compiled code ([`StoreOpaque::prepare_for_compiled_code`]).
    pub fn func_refs(&self) -> &[VMFuncRef] {
        &self.func_refs
    }

    /// The native entry recorded for function `id` ([`StoreOpaque::set_native_call`]), or
    /// null.
    pub fn native_call(&self, id: FuncId) -> *const u8 {
        self.func_refs
            .get(id.index())
            .map_or(std::ptr::null(), |func_ref| func_ref.native_call)
    }

    /// Attaches compiled code to function `id`: `native_call` must be an entry point with
    /// the compiled-code calling convention for the function's signature and instance, and
    /// `array_call` null or the array-call trampoline of that signature; both must stay
    /// valid for as long as the store lives (the tier keeps the code alive through the
    /// instance's module). Prepares the store for compiled code first.
    ///
    /// A Wasm function's `array_call` is kept null while its `native_call` is: compiled
    /// code takes a non-null `array_call` without a `native_call` for a host function's
    /// entry (see [`VMFuncRef`]).
    pub fn set_native_call(&mut self, id: FuncId, native_call: *const u8, array_call: *const u8) {
        self.prepare_for_compiled_code();
        debug_assert!(
            self.funcs.host(id).is_none(),
            "a host function has no native entry"
        );
        if let Some(func_ref) = self.func_refs.get_mut(id.index()) {
            func_ref.native_call = native_call;
            func_ref.array_call = if native_call.is_null() {
                std::ptr::null()
            } else {
                array_call
            };
        }
    }

    /// How the host can enter function `id` directly: its array-call trampoline, native
    /// entry and instance context, when all three are set (the function is compiled
    /// without error and linked in this store). One bounds-checked load: the host → Wasm
    /// fast path. `None` for host functions (whose `array_call` is their host-call entry).
    #[inline]
    pub fn array_call(&self, id: FuncId) -> Option<(*const u8, *const u8, *mut VMContext)> {
        let func_ref = self.func_refs.get(id.index())?;
        (!func_ref.native_call.is_null()
            && !func_ref.array_call.is_null()
            && !func_ref.vmctx.is_null())
        .then_some((func_ref.array_call, func_ref.native_call, func_ref.vmctx))
    }

    /// Links host function `id` for calls from compiled code: its `VMFuncRef` gets
    /// `entry`, the tier's host-call entry, as `array_call`, and the function's address as
    /// `vmctx` (see [`VMFuncRef`]), so compiled code calls the entry directly from then
    /// on. `entry` must have the signature that tier's compiled code calls it with and
    /// stay valid for as long as the store lives. Returns the function's address, or
    /// `None` (and changes nothing) when `id` is not a host function or the store has not
    /// prepared for compiled code.
    pub fn link_host_call(&mut self, id: FuncId, entry: *const u8) -> Option<NonNull<HostFunc>> {
        let host = NonNull::from(self.funcs.host(id)?);
        let func_ref = self.func_refs.get_mut(id.index())?;
        func_ref.array_call = entry;
        func_ref.vmctx = host.as_ptr().cast();
        Some(host)
    }

    /// Records, once the store runs compiled code, the context of the new instance
    /// `instance`, whose defined functions are the `count` from `first` on.
    pub(crate) fn finish_instance_funcs(
        &mut self,
        instance: InstanceId,
        first: FuncId,
        count: usize,
        vmctx: *mut VMContext,
    ) {
        if !self.func_refs_live {
            return;
        }
        for func_ref in &mut self.func_refs[first.index()..first.index() + count] {
            func_ref.vmctx = vmctx;
        }
        self.build_func_ids(instance);
    }

    pub fn id(&self) -> StoreId {
        self.id
    }

    /// What function `id` is. `id` must be a function of this store (the embedding layer
    /// checks handles' stores; the tiers only meet ids the store handed out).
    #[inline]
    pub fn func(&self, id: FuncId) -> FuncEntity {
        match self.funcs.get(id) {
            Some(entity) => entity,
            None => panic!("function {} is not in this store", id.0),
        }
    }

    /// The signature id of function `id` (of this store, as for [`StoreOpaque::func`]).
    #[inline]
    pub fn func_type_id(&self, id: FuncId) -> TypeId {
        match self.funcs.type_id(id) {
            Some(type_id) => type_id,
            None => panic!("function {} is not in this store", id.0),
        }
    }

    /// Function `id` (of this store, as for [`StoreOpaque::func`]) if it is a host
    /// function, borrowed: unlike `func`, which clones the function's `Arc` (two atomic
    /// operations per call on the host-call path), this touches no reference count. To
    /// call it, see [`StoreOpaque::call_host`].
    #[inline]
    pub fn host_func(&self, id: FuncId) -> Option<&HostFunc> {
        self.funcs.host(id)
    }

    /// Function `id` (of this store, as for [`StoreOpaque::func`]) if it is a Wasm
    /// function: its instance and its index in the instance's module. Unlike `func`, clones
    /// nothing when `id` is a host function.
    #[inline]
    pub fn wasm_func(&self, id: FuncId) -> Option<(InstanceId, FuncIndex)> {
        self.funcs.wasm(id)
    }

    /// Calls host function `host` with the store and `data` (see [`HostFunc::call`]): how
    /// the tiers call a host function without holding a borrow of the store across the
    /// call, or cloning an `Arc` to avoid one.
    ///
    /// # Safety
    ///
    /// `host` must be the address of a host function of this store: from
    /// [`StoreOpaque::host_func`] or [`StoreOpaque::link_host_call`] on `self`.
    #[inline]
    pub unsafe fn call_host(
        &mut self,
        host: NonNull<HostFunc>,
        data: &mut dyn Any,
        caller: Option<InstanceId>,
        values: &mut [u64],
    ) -> Result<(), Trap> {
        // SAFETY: the store holds each of its host functions by `Arc` until it is dropped
        // and never removes one (`crate::funcs`), so `host` (one of them, by the caller's
        // contract) stays live and in place while `self` is borrowed, including during the
        // callback, which gets `&mut self` and may add functions (that moves the `Arc`s,
        // not the functions they point at) but cannot drop or replace the store (the
        // embedding API lends a host function the store through `Caller`, which exposes no
        // way to). The function is its own allocation, not part of `*self`, so this shared
        // borrow does not overlap the `&mut self` lent to the callback, and nothing writes
        // to it (cloning its `Arc` writes only the reference counts beside it).
        let host = unsafe { host.as_ref() };
        host.call(self, data, caller, values)
    }

    /// How many functions the store has.
    pub fn func_count(&self) -> usize {
        self.funcs.len()
    }

    pub fn instance(&self, id: InstanceId) -> &InstanceEntity {
        &self.instances[id.index()]
    }

    pub fn memory(&self, id: MemoryId) -> &LinearMemory {
        &self.memories[id.index()]
    }

    pub fn memory_mut(&mut self, id: MemoryId) -> &mut LinearMemory {
        &mut self.memories[id.index()]
    }

    pub fn table(&self, id: TableId) -> &Table {
        &self.tables[id.index()]
    }

    pub fn table_mut(&mut self, id: TableId) -> &mut Table {
        &mut self.tables[id.index()]
    }

    pub fn global(&self, id: GlobalId) -> &GlobalEntity {
        &self.globals[id.index()]
    }

    pub fn global_mut(&mut self, id: GlobalId) -> &mut GlobalEntity {
        &mut self.globals[id.index()]
    }

    /// Adds a function. A [`FuncEntity::Wasm`] must name an existing instance (its
    /// signature is the module's, whatever `type_id` says). Panics only when the store has
    /// no function ids left: for host functions that takes 2^31 of them (see
    /// [`crate::funcs`]).
    pub fn push_func(&mut self, func: FuncEntity) -> FuncId {
        let (id, vmctx, type_id) = match func {
            FuncEntity::Host(host) => {
                let type_id = host.type_id;
                (self.funcs.push_host(host), std::ptr::null_mut(), type_id)
            }
            FuncEntity::Wasm {
                instance, index, ..
            } => {
                let entity = &self.instances[instance.index()];
                let vmctx = entity.context.vmctx_ptr();
                (
                    self.funcs.push_wasm(instance, &entity.module, index, 1),
                    vmctx,
                    entity.module.function_type_id(index),
                )
            }
        };
        let Some(id) = id else {
            panic!("no function id: the store has none left, or the function is not a defined one");
        };
        if self.func_refs_live {
            // Compiled code is attached by the tiers.
            self.func_refs.push(VMFuncRef {
                native_call: std::ptr::null(),
                array_call: std::ptr::null(),
                vmctx,
                type_id: type_id.0,
            });
            self.sync_func_refs();
        }
        id
    }

    /// Reserves the ids of the defined functions of instance `instance` (of `module`):
    /// O(1) unless the store runs compiled code. Returns the first new id (the others
    /// follow it), or `None` when the store has no ids left.
    pub fn push_wasm_funcs(
        &mut self,
        instance: InstanceId,
        module: &Arc<RuntimeModule>,
    ) -> Option<FuncId> {
        let info = &module.info;
        let count = info.function_bodies.len() as u32;
        let first = self
            .funcs
            .push_wasm(instance, module, info.num_imported_functions, count)?;
        if self.func_refs_live {
            let types = &module.plan().defined_func_types;
            // The instance's context is recorded by `finish_instance_funcs`.
            self.func_refs.extend(types.iter().map(|type_id| VMFuncRef {
                native_call: std::ptr::null(),
                array_call: std::ptr::null(),
                vmctx: std::ptr::null_mut(),
                type_id: type_id.0,
            }));
            self.sync_func_refs();
        }
        Some(first)
    }

    pub fn push_memory(&mut self, memory: LinearMemory) -> MemoryId {
        self.memories.push(memory);
        MemoryId(self.memories.len() as u32 - 1)
    }

    pub fn push_table(&mut self, mut table: Table) -> TableId {
        if self.func_refs_live {
            // Compiled code may read it at once.
            table.materialize();
        }
        self.tables.push(table);
        TableId(self.tables.len() as u32 - 1)
    }

    pub fn push_global(&mut self, global: GlobalEntity) -> GlobalId {
        self.globals.push(global);
        GlobalId(self.globals.len() as u32 - 1)
    }

    pub fn push_extern_ref(&mut self, value: Box<dyn Any + Send + Sync>) -> ExternRefId {
        self.extern_refs.push(value);
        ExternRefId(self.extern_refs.len() as u32 - 1)
    }

    /// The signature of a function.
    pub fn func_type(&self, id: FuncId) -> Arc<FuncType> {
        match self.func(id) {
            FuncEntity::Host(host) => host.ty.clone(),
            FuncEntity::Wasm { type_id, .. } => self.registry.get(type_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with_host_function() -> (StoreOpaque, FuncId) {
        let registry = Arc::new(TypeRegistry::default());
        let ty = Arc::new(FuncType::new(
            [kestrel_parser::ValType::I32, kestrel_parser::ValType::V128],
            [kestrel_parser::ValType::I64],
        ));
        let host = HostFunc::new(
            ty.clone(),
            registry.register(&ty),
            Box::new(|context: HostContext<'_>, values: &mut [u64]| {
                assert_eq!(context.caller, Some(InstanceId(7)));
                values[0] = values[0] + values[1] + values[2];
                Ok(())
            }),
        );
        let mut store = StoreOpaque::new(registry, MemoryConfig::default(), StackLimits::default());
        let id = store.push_func(FuncEntity::Host(Arc::new(host)));
        (store, id)
    }

    #[test]
    fn host_functions_are_borrowed_and_called_by_address() {
        let (mut store, id) = store_with_host_function();
        let host = store.host_func(id).expect("a host function");
        // One `i32` and a `v128` in, one `i64` out: three slots.
        assert_eq!(host.slots(), 3);
        let host = NonNull::from(host);
        assert!(store.wasm_func(id).is_none());
        let mut values = [1, 2, 3];
        // SAFETY: `host` is a host function of `store`.
        unsafe { store.call_host(host, &mut (), Some(InstanceId(7)), &mut values) }.unwrap();
        assert_eq!(values[0], 6);
    }

    #[test]
    fn linked_host_functions_record_their_entry_and_address() {
        let (mut store, id) = store_with_host_function();
        let entry = 0x1234 as *const u8;
        // Nothing to link before compiled code may run in the store.
        assert!(store.link_host_call(id, entry).is_none());
        store.prepare_for_compiled_code();
        let host = store.link_host_call(id, entry).expect("a host function");
        assert!(std::ptr::eq(host.as_ptr(), store.host_func(id).unwrap()));
        let func_ref = store.func_refs()[id.index()];
        assert_eq!(func_ref.array_call, entry);
        assert_eq!(func_ref.vmctx.cast::<HostFunc>(), host.as_ptr());
        assert!(func_ref.native_call.is_null());
        // Its `array_call` is no host → Wasm trampoline.
        assert!(store.array_call(id).is_none());
    }
}
