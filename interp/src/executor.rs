//! The dispatch loop.
//!
//! One `match` over [`Op`] in a loop. The running frame's hot state lives in locals the
//! optimiser can keep in registers: `ip` (a pointer to the next instruction, stored into
//! the frame only when it calls), `registers` (its first slot) and the base and length of
//! memory 0. Everything else about the frame (its function, instance, base) is read from
//! its [`Frame`], the top of a heap-allocated frame stack, only by calls, returns and
//! traps. Calls between Wasm functions push a `Frame` there, never on the host stack, so
//! recursion depth is bounded by configuration only and deep recursion traps with "call
//! stack exhausted" instead of overflowing the host.
//!
//! # Tiered execution
//!
//! When the store has `StoreOpaque::tiering`, [`call`] runs `run::<true>`, a second copy of
//! the loop that counts each function's entries and taken backward branches in the
//! module's [`ModuleCode`] and reports a function reaching a threshold to
//! `TierUp::hot`. Every call it makes (within the instance, through an import or a
//! table) first checks the callee's `TierSlots::native_ready` flag and, when set, runs
//! the callee through `TierUp::call_native` like a host call, its trap's backtrace
//! continuing with the interpreted frames. `run::<false>` compiles the counting away, so
//! the plain interpreter pays nothing. This crate never names the JIT: it only sees the vm
//! hooks and flags.
//!
//! On-stack replacement: when a function's backward branches reach the threshold, the
//! loop being branched to is reported too (`TierUp::loop_hot`). Once its entry is ready
//! (`TierSlots::osr_ready`), the next backward branch to that loop's header hands the
//! frame's state — the locals, and the operand stack as the translator recorded it for
//! the header ([`LoopHeader`]) — to `TierUp::enter_loop`, which runs the rest of the call
//! in compiled code; the interpreter then returns from the frame with the results as if it
//! had run the call to its end. A trap's compiled frames include the replaced one, so the
//! interpreted frame itself is left out of the backtrace.
//!
//! # Safety invariants
//!
//! - While a frame runs, `slots.len() >= base + frame_size` of its function, and every slot
//!   an instruction names is below `frame_size` (the translator guarantees it), as are the
//!   slots after it that the instruction reads or writes with it: the second half of a
//!   `v128`, and the rest of a group of consecutive operands (`operands`). The value
//!   stack only reallocates when a frame is entered, after which `registers` is recomputed.
//! - `ip` and a frame's `func` point into a `CompiledFunc` owned by a `ModuleCode` in the
//!   instance's `RuntimeModule`, which the store keeps alive for as long as the store
//!   lives; the executor borrows the store for the whole call. `ip` stays inside its
//!   function's code: every path ends with a return, branch or trap, and a branch's
//!   relative target (`ir::Target`) names an instruction of the same function.
//! - `globals` points at the instance's `global_cells`, a boxed slice that lives as long as
//!   the instance (and so the store); each cell is a separate allocation owned by the store.
//! - `memory` points at the `VMMemoryDefinition` of the instance's memory 0, boxed inside
//!   the store's `LinearMemory` (a stable address); base and length are reloaded after
//!   everything that can grow or move memory (calls, `memory.grow`).

use crate::ir::{Op, Slot, Target};
use crate::translate::{CompiledFunc, LoopHeader, TranslationError, translate};
use kestrel_vm::numeric;
use kestrel_vm::offsets::VMMemoryDefinition;
use kestrel_vm::simd;
use kestrel_vm::value::{decode_func_ref, encode_func_ref, slot_count};
use kestrel_vm::{
    FrameInfo, FuncId, GlobalCell, HostFunc, InstanceId, RuntimeModule, StoreOpaque, Tiering, Trap,
    TrapCode,
};
use std::any::Any;
use std::ptr::NonNull;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// The interpreter's code for one module: each defined function translated on first call,
/// and, for tiered execution, how often each was entered and looped.
pub struct ModuleCode {
    functions: Box<[OnceLock<Result<CompiledFunc, TranslationError>>]>,
    /// Entries per defined function; counted only by stores with tiering.
    calls: Box<[AtomicU32]>,
    /// Backward branches taken per defined function; counted only by stores with tiering.
    back_edges: Box<[AtomicU32]>,
}

impl ModuleCode {
    fn of(module: &RuntimeModule) -> &ModuleCode {
        module
            .tiers
            .interpreter
            .get_or_init(|| {
                let count = module.info.function_bodies.len();
                Box::new(ModuleCode {
                    functions: (0..count).map(|_| OnceLock::new()).collect(),
                    calls: (0..count).map(|_| AtomicU32::new(0)).collect(),
                    back_edges: (0..count).map(|_| AtomicU32::new(0)).collect(),
                })
            })
            .downcast_ref::<ModuleCode>()
            .expect("only the interpreter fills the interpreter slot")
    }

    /// The translation of function `index` (a function index of a defined function).
    #[inline]
    fn function(&self, module: &RuntimeModule, index: u32) -> Result<&CompiledFunc, Trap> {
        let defined = (index - module.info.num_imported_functions) as usize;
        // Every call within an instance asks: the translated case stays inline.
        match self.functions[defined].get() {
            Some(Ok(func)) => Ok(func),
            _ => self.translate_function(module, defined),
        }
    }

    /// [`Self::function`] when the function is not translated yet (or failed to).
    #[cold]
    #[inline(never)]
    fn translate_function(
        &self,
        module: &RuntimeModule,
        defined: usize,
    ) -> Result<&CompiledFunc, Trap> {
        let index = defined as u32 + module.info.num_imported_functions;
        self.functions[defined]
            .get_or_init(|| translate(&module.info, index, module.instrumentation))
            .as_ref()
            .map_err(|error| Trap::host(error.0.clone().into()))
    }
}

/// Translates every function of `module` now instead of on first call.
pub fn translate_all(module: &RuntimeModule) -> Result<(), String> {
    let code = ModuleCode::of(module);
    for index in module.info.num_imported_functions..module.info.functions.len() as u32 {
        code.function(module, index)
            .map_err(|trap| trap.to_string())?;
    }
    Ok(())
}

#[derive(Clone, Copy)]
#[repr(C)]
struct Frame {
    func: *const CompiledFunc,
    module_code: *const ModuleCode,
    module: *const RuntimeModule,
    memory: *const VMMemoryDefinition,
    /// The instance's global cells (`InstanceEntity::global_cells`).
    globals: *const GlobalCell,
    instance: InstanceId,
    func_index: u32,
    base: usize,
    /// Where the frame continues: its next instruction, written when it calls (the running
    /// frame's instruction pointer lives in the dispatch loop's `ip`). Last, and never copied
    /// with the other fields when a callee's frame is made from its caller's, so no wide
    /// copy reads it right after it was written (a store that cannot be forwarded).
    ip: *const Op,
}

/// Reused between calls: the value stack and the frame stack.
#[derive(Default)]
struct Stacks {
    slots: Vec<u64>,
    /// Every frame of the running `run`, the running one on top.
    frames: Vec<Frame>,
}

// SAFETY: `frames` is empty whenever `Stacks` is parked in a store (`call` clears it), and
// a frame's pointers are only dereferenced during the call that pushed it, while the store
// is exclusively borrowed; the value slots are plain integers.
unsafe impl Send for Stacks {}

/// Calls `func` with the parameters in `values`; results are left in `values`.
pub fn call(
    store: &mut StoreOpaque,
    data: &mut dyn Any,
    func: FuncId,
    values: &mut [u64],
) -> Result<(), Trap> {
    if let Some(host) = store.host_func(func) {
        let host = NonNull::from(host);
        // SAFETY: `host` is a host function of `store`, just looked up.
        return unsafe { store.call_host(host, data, None, values) };
    }
    let Some((instance, index)) = store.wasm_func(func) else {
        panic!("function {} is not in this store", func.0)
    };
    if store.reentrancy >= store.stack_limits.max_reentrancy {
        return Err(Trap::code(TrapCode::StackOverflow));
    }
    let mut stacks = match store
        .interpreter_stack
        .take()
        .map(|stack| stack.downcast::<Stacks>())
    {
        Some(Ok(stacks)) => stacks,
        _ => Box::default(),
    };
    store.reentrancy += 1;
    // Two copies of the dispatch loop: counting for tier-up costs the plain interpreter
    // nothing.
    let result = if store.tiering.is_some() {
        run::<true>(store, data, &mut stacks, instance, index, values)
    } else {
        run::<false>(store, data, &mut stacks, instance, index, values)
    };
    store.reentrancy -= 1;
    stacks.frames.clear();
    if store.interpreter_stack.is_none() {
        store.interpreter_stack = Some(stacks);
    }
    result
}

struct Entry {
    frame: Frame,
}

fn enter(
    store: &StoreOpaque,
    instance: InstanceId,
    func_index: u32,
    base: usize,
) -> Result<Entry, Trap> {
    let instance_entity = store.instance(instance);
    let module: &RuntimeModule = &instance_entity.module;
    let module_code = ModuleCode::of(module);
    let func = module_code.function(module, func_index)?;
    let memory = match instance_entity.memories.first() {
        Some(id) => store.memory(*id).definition() as *const VMMemoryDefinition,
        None => std::ptr::null(),
    };
    Ok(Entry {
        frame: Frame {
            func,
            module_code,
            module,
            memory,
            globals: instance_entity.global_cells.as_ptr(),
            instance,
            func_index,
            ip: func.code.as_ptr(),
            base,
        },
    })
}

/// Grows the value stack to at least `end` slots, at most `limit` (doubling, to make
/// growth rare).
#[cold]
#[inline(never)]
fn grow_value_stack(stacks: &mut Stacks, limit: usize, end: usize) -> Result<(), TrapCode> {
    if end > limit {
        return Err(TrapCode::StackOverflow);
    }
    let new_len = end
        .max(stacks.slots.len() * 2)
        .max(MIN_SLOTS)
        .min(limit.max(end));
    stacks.slots.resize(new_len, 0);
    Ok(())
}

/// The value stack's first size, in slots: small, because every store that has run Wasm
/// keeps its stack (1 KiB here; it doubles as calls need more).
const MIN_SLOTS: usize = 128;

/// Prepares the frame's slots: grows the value stack if needed, zeroes the non-parameter
/// locals and copies in the constants.
#[inline(always)]
fn initialize_frame(stacks: &mut Stacks, limit: usize, frame: Frame) -> Result<(), TrapCode> {
    // SAFETY: `frame.func` points into a live `ModuleCode` (see the module invariants).
    let func = unsafe { &*frame.func };
    let end = frame.base + func.frame_size as usize;
    if end > stacks.slots.len() {
        grow_value_stack(stacks, limit, end)?;
    }
    let (params, locals) = (func.num_params as usize, func.num_locals as usize);
    debug_assert!(params <= locals && locals + func.constants.len() <= func.frame_size as usize);
    // Loops, not `fill`/`copy_from_slice`: locals and constant pools are a handful of
    // values, below the break-even of a `memset`/`memcpy` call.
    // SAFETY: `base + frame_size <= slots.len()` (ensured above), and the translator lays a
    // frame out as parameters, other locals, constants, temporaries, so every slot written
    // here is below `base + frame_size`.
    unsafe {
        let frame_slots = stacks.slots.as_mut_ptr().add(frame.base);
        for slot in params..locals {
            *frame_slots.add(slot) = 0;
        }
        let constants = frame_slots.add(locals);
        for (index, constant) in func.constants.iter().enumerate() {
            *constants.add(index) = *constant;
        }
    }
    Ok(())
}

/// Every frame on the frame stack, innermost (the running one) first.
fn backtrace(frames: &[Frame]) -> Vec<FrameInfo> {
    backtrace_of(frames).collect()
}

/// The frames below the running one, innermost first.
fn backtrace_of_callers(frames: &[Frame]) -> impl Iterator<Item = FrameInfo> + '_ {
    backtrace_of(&frames[..frames.len().saturating_sub(1)])
}

fn backtrace_of(frames: &[Frame]) -> impl Iterator<Item = FrameInfo> + '_ {
    frames.iter().rev().map(|frame| FrameInfo {
        instance: frame.instance,
        func_index: frame.func_index,
    })
}

/// The running frame: the top of the frame stack, which `run` keeps from its start to its
/// return.
#[inline(always)]
fn running(frames: &[Frame]) -> &Frame {
    match frames.last() {
        Some(frame) => frame,
        None => unreachable!("the running frame is on the frame stack"),
    }
}

/// [`running`], to record where it continues.
#[inline(always)]
fn running_mut(frames: &mut [Frame]) -> &mut Frame {
    match frames.last_mut() {
        Some(frame) => frame,
        None => unreachable!("the running frame is on the frame stack"),
    }
}

/// How many frames are below the running one.
fn callers(stacks: &Stacks) -> usize {
    stacks.frames.len().saturating_sub(1)
}

/// An instruction's 32-bit immediate as an operand type: sign-extended for the 64-bit
/// ones, as the translator chose it (`ir::for_each_binary_imm`).
trait FromImm {
    fn from_imm(imm: i32) -> Self;
}

impl FromImm for i32 {
    #[inline(always)]
    fn from_imm(imm: i32) -> Self {
        imm
    }
}

impl FromImm for u32 {
    #[inline(always)]
    fn from_imm(imm: i32) -> Self {
        imm as u32
    }
}

impl FromImm for i64 {
    #[inline(always)]
    fn from_imm(imm: i32) -> Self {
        i64::from(imm)
    }
}

impl FromImm for u64 {
    #[inline(always)]
    fn from_imm(imm: i32) -> Self {
        i64::from(imm) as u64
    }
}

trait FromSlot {
    fn from_slot(bits: u64) -> Self;
}

trait IntoSlot {
    fn into_slot(self) -> u64;
}

macro_rules! slot_conversions {
    ($($ty:ty => |$bits:ident| $from:expr, |$value:ident| $into:expr;)*) => {$(
        impl FromSlot for $ty {
            #[inline(always)]
            fn from_slot($bits: u64) -> Self { $from }
        }
        impl IntoSlot for $ty {
            #[inline(always)]
            fn into_slot(self) -> u64 { let $value = self; $into }
        }
    )*};
}

slot_conversions! {
    i32 => |bits| bits as u32 as i32, |value| value as u32 as u64;
    u32 => |bits| bits as u32, |value| value as u64;
    i64 => |bits| bits as i64, |value| value as u64;
    u64 => |bits| bits, |value| value;
    f32 => |bits| f32::from_bits(bits as u32), |value| value.to_bits() as u64;
    f64 => |bits| f64::from_bits(bits), |value| value.to_bits();
    bool => |bits| bits != 0, |value| value as u64;
}

/// Adds one to a tiering counter and says whether it just reached `threshold`.
///
/// Counters are shared by every store running the module, possibly on several threads:
/// a plain load and store (no read-modify-write) may lose counts under contention, which
/// only delays a tier-up, and never skips a value, so the threshold is still seen.
#[inline]
fn count(counter: &AtomicU32, threshold: u32) -> bool {
    let count = counter.load(Ordering::Relaxed).wrapping_add(1);
    counter.store(count, Ordering::Relaxed);
    count == threshold
}

/// Tiering: counts an entry into defined function `function` of `instance` (reporting it
/// when hot) and says whether the call should run in compiled code instead.
fn tiering_entry(
    store: &mut StoreOpaque,
    tiering: &Option<Tiering>,
    module_code: &ModuleCode,
    module: &RuntimeModule,
    instance: InstanceId,
    function: u32,
) -> bool {
    let Some(tiering) = tiering else {
        return false;
    };
    let defined = (function - module.info.num_imported_functions) as usize;
    if module.tiers.is_native_ready(defined) {
        return true;
    }
    if count(&module_code.calls[defined], tiering.call_threshold) {
        tiering.hooks.hot(store, instance, function);
        // A synchronous compilation makes this very call native.
        return module.tiers.is_native_ready(defined);
    }
    false
}

/// Tiering: counts a backward branch to `target` taken in the current function, reports the
/// function hot at the threshold (with on-stack replacement, the loop instead), and says
/// whether the loop at `target` has an on-stack-replacement entry to continue in.
#[inline]
fn back_edge<'a>(
    store: &mut StoreOpaque,
    tiering: &Option<Tiering>,
    frame: Frame,
    target: Target,
) -> Option<&'a LoopHeader> {
    let tiering = tiering.as_ref()?;
    // SAFETY: the frame's module and code are live (module invariants); the store, which
    // keeps them alive, outlives the returned reference's use in the dispatch loop.
    let (module, module_code, func) =
        unsafe { (&*frame.module, &*frame.module_code, &*frame.func) };
    let defined = (frame.func_index - module.info.num_imported_functions) as usize;
    let counter = &module_code.back_edges[defined];
    let count = counter.load(Ordering::Relaxed).wrapping_add(1);
    counter.store(count, Ordering::Relaxed);
    if count < tiering.back_edge_threshold || !tiering.on_stack_replacement {
        if count == tiering.back_edge_threshold {
            // This frame stays interpreted; later calls switch.
            tiering.hooks.hot(store, frame.instance, frame.func_index);
        }
        return None;
    }
    if count == tiering.back_edge_threshold {
        // The running call needs the loop's entry; the function's own entry only helps
        // later calls, whose count makes it hot if there are enough of them (a big
        // function called once, a program's main, would otherwise be compiled twice).
        match func.loop_at(target) {
            Some(header) => {
                tiering
                    .hooks
                    .loop_hot(store, frame.instance, frame.func_index, header.ordinal);
            }
            None => tiering.hooks.hot(store, frame.instance, frame.func_index),
        }
    }
    let ready = module.tiers.osr_loop(defined)?;
    func.loop_at(target)
        .filter(|header| header.ordinal == ready)
}

/// Tiering: continues the current call in compiled code from the header of `header`'s loop
/// (on-stack replacement), with the frame's locals and operand stack as its state. On
/// success the function's results are in `stacks.slots[frame.base..]`, where a return
/// leaves them.
fn enter_loop(
    store: &mut StoreOpaque,
    data: &mut dyn Any,
    stacks: &mut Stacks,
    frame: Frame,
    tiering: &Option<Tiering>,
    header: &LoopHeader,
) -> Result<(), Trap> {
    let Some(tiering) = tiering else {
        unreachable!("on-stack replacement only happens with tiering")
    };
    // SAFETY: the frame's code is live (module invariants).
    let func = unsafe { &*frame.func };
    let registers = &stacks.slots[frame.base..frame.base + func.frame_size as usize];
    let mut state: Vec<u64> = registers[..func.num_locals as usize].to_vec();
    state.extend(header.stack.iter().map(|slot| registers[slot.0 as usize]));
    let results = func.num_results as usize;
    if state.len() < results {
        state.resize(results, 0);
    }
    // Compiled frames below count against the interpreter's depth, as for a native call;
    // the compiled frame replaces this one.
    let saved_depth = store.call_depth;
    store.call_depth += callers(stacks) as u32;
    store.on_stack_replacements += 1;
    let result = tiering.hooks.enter_loop(
        store,
        data,
        frame.instance,
        frame.func_index,
        header.ordinal,
        &mut state,
    );
    store.call_depth = saved_depth;
    result?;
    stacks.slots[frame.base..frame.base + results].copy_from_slice(&state[..results]);
    Ok(())
}

/// Tiering: whether a call to `callee` (reached through an import or a table) should run
/// in compiled code; counts the entry of a Wasm callee.
fn wants_native(store: &mut StoreOpaque, tiering: &Option<Tiering>, callee: FuncId) -> bool {
    // Not `store.func`, which would clone a host callee's `Arc` on every call.
    let Some((instance, index)) = store.wasm_func(callee) else {
        return false;
    };
    let module: *const RuntimeModule = std::sync::Arc::as_ptr(&store.instance(instance).module);
    // SAFETY: the store keeps every instance's `RuntimeModule` alive for as long as it
    // lives (module invariants), so the module outlives this call although the tier-up
    // hook borrows the store mutably; a pointer, not an `Arc` clone, on this per-call path.
    let module = unsafe { &*module };
    tiering_entry(
        store,
        tiering,
        ModuleCode::of(module),
        module,
        instance,
        index,
    )
}

/// Tiering: runs Wasm function `callee` in compiled code through the embedding layer's
/// hook, with its arguments and results in the caller's slots from `args`, like a host
/// call. Frames of this `run` count against the call depth meanwhile.
fn call_native(
    store: &mut StoreOpaque,
    data: &mut dyn Any,
    stacks: &mut Stacks,
    frame: Frame,
    tiering: &Option<Tiering>,
    callee: FuncId,
    args: Slot,
) -> Result<(), Trap> {
    let Some(tiering) = tiering else {
        unreachable!("native calls are only made with tiering")
    };
    // The callee's type from its module, not the engine's registry (a lock and an `Arc`
    // per call).
    let Some((instance, index)) = store.wasm_func(callee) else {
        unreachable!("only Wasm functions have compiled code")
    };
    let ty = store.instance(instance).module.info.function_type(index);
    let count = slot_count(ty.params()).max(slot_count(ty.results()));
    let args_start = frame.base + args.0 as usize;
    let saved_depth = store.call_depth;
    store.call_depth += callers(stacks) as u32 + 1;
    let result = tiering.hooks.call_native(
        store,
        data,
        callee,
        &mut stacks.slots[args_start..args_start + count],
    );
    store.call_depth = saved_depth;
    result
}

#[allow(clippy::too_many_lines)]
fn run<const TIERING: bool>(
    store: &mut StoreOpaque,
    data: &mut dyn Any,
    stacks: &mut Stacks,
    instance: InstanceId,
    func_index: u32,
    values: &mut [u64],
) -> Result<(), Trap> {
    let value_limit = store.stack_limits.max_value_stack;
    let depth_limit = store
        .stack_limits
        .max_call_depth
        .saturating_sub(store.call_depth) as usize;
    let tiering = if TIERING { store.tiering.clone() } else { None };
    let frame = enter(store, instance, func_index, 0)?.frame;
    if TIERING {
        // SAFETY: the frame's module and code are live (module invariants).
        let (module, module_code) = unsafe { (&*frame.module, &*frame.module_code) };
        // The embedding layer chose this tier for the entry; the count may still make the
        // function hot for later calls.
        tiering_entry(store, &tiering, module_code, module, instance, func_index);
    }
    {
        // SAFETY: `frame.func` was just obtained from a live `ModuleCode`.
        let func = unsafe { &*frame.func };
        initialize_frame(stacks, value_limit, frame).map_err(Trap::code)?;
        let params = func.num_params as usize;
        stacks.slots[..params].copy_from_slice(&values[..params]);
    }
    stacks.frames.push(frame);

    // The running frame is the top of `stacks.frames`, read from there by calls, returns
    // and traps only: a local copy's nine fields would take the registers the loop's hot
    // state needs.
    macro_rules! frame {
        () => {
            *running(&stacks.frames)
        };
    }

    // The running frame's hot state. `ip` is the next instruction; it is written to the
    // frame only when the frame calls, so the loop keeps it in a register.
    let mut ip: *const Op = frame!().ip;
    let mut registers: *mut u64;
    let mut memory_base: *mut u8;
    let mut memory_length: usize;

    macro_rules! load_frame_state {
        () => {{
            // SAFETY: `initialize_frame` made `slots.len() >= base + frame_size`.
            registers = unsafe { stacks.slots.as_mut_ptr().add(frame!().base) };
            load_memory!();
        }};
    }
    macro_rules! load_memory {
        () => {{
            if frame!().memory.is_null() {
                memory_base = std::ptr::null_mut();
                memory_length = 0;
            } else {
                // SAFETY: `frame!().memory` points at a boxed definition owned by the store.
                let definition = unsafe { &*frame!().memory };
                memory_base = definition.base;
                memory_length = definition.current_length;
            }
        }};
    }
    load_frame_state!();

    macro_rules! get {
        ($slot:expr) => {{
            let slot: Slot = $slot;
            // SAFETY: slots named by instructions are below `frame_size` (module invariants).
            unsafe { *registers.add(slot.0 as usize) }
        }};
    }
    macro_rules! set {
        ($slot:expr, $value:expr) => {{
            let value: u64 = $value;
            let slot: Slot = $slot;
            // SAFETY: as in `get!`.
            unsafe { *registers.add(slot.0 as usize) = value }
        }};
    }
    // A `v128` in two consecutive slots, low half first (`kestrel_vm::value`); the
    // translator names the first, and both are below `frame_size`.
    macro_rules! get_v128 {
        ($slot:expr) => {{
            let slot: Slot = $slot;
            kestrel_vm::value::v128_from_slots(get!(slot), get!(Slot(slot.0 + 1)))
        }};
    }
    macro_rules! set_v128 {
        ($slot:expr, $value:expr) => {{
            let slot: Slot = $slot;
            let [low, high] = kestrel_vm::value::v128_to_slots($value);
            set!(slot, low);
            set!(Slot(slot.0 + 1), high);
        }};
    }
    macro_rules! trap {
        ($code:expr) => {{
            let mut trap = Trap::code($code);
            trap.backtrace = backtrace(&stacks.frames);
            return Err(trap);
        }};
    }
    macro_rules! effective_address {
        ($addr:expr, $offset:expr, $size:expr) => {{
            let address = get!($addr) as u32 as u64 + $offset as u64;
            if address + $size as u64 > memory_length as u64 {
                trap!(TrapCode::MemoryOutOfBounds);
            }
            address as usize
        }};
    }
    // Runs a Wasm function in compiled code (tiering); the trap's frames go on top of ours.
    macro_rules! native_call {
        ($callee:expr, $args:expr) => {{
            let callee: FuncId = $callee;
            if let Err(mut error) =
                call_native(store, data, stacks, frame!(), &tiering, callee, $args)
            {
                error.backtrace.extend(backtrace(&stacks.frames));
                return Err(error);
            }
            load_frame_state!();
        }};
    }
    // Saves `ip` in the running frame and makes `callee`, whose slots are ready, the
    // running frame.
    macro_rules! enter_callee {
        ($callee:expr) => {{
            let callee: Frame = $callee;
            running_mut(&mut stacks.frames).ip = ip;
            // SAFETY: the callee's code is live (module invariants).
            ip = unsafe { (*callee.func).code.as_ptr() };
            stacks.frames.push(callee);
        }};
    }
    // Leaves the running frame with its results in its slots from 0 on.
    macro_rules! return_from_frame {
        () => {{
            let returning = frame!();
            stacks.frames.pop();
            match stacks.frames.last() {
                Some(caller) => {
                    ip = caller.ip;
                    load_frame_state!();
                }
                None => {
                    // SAFETY: `returning.func` is live (module invariants).
                    let results = unsafe { (*returning.func).num_results } as usize;
                    values[..results].copy_from_slice(&stacks.slots[..results]);
                    return Ok(());
                }
            }
        }};
    }
    // Takes a branch; with tiering, a backward one counts towards a tier-up, and may
    // continue the call in compiled code from the loop's header (on-stack replacement).
    macro_rules! jump {
        ($target:expr) => {{
            let offset: Target = $target;
            // SAFETY: `ip` is one past the branch, and the branch's destination is an
            // instruction of the same function (the translator resolved it).
            let destination = unsafe { ip.offset(offset as isize - 1) };
            if TIERING && offset <= 0 {
                let func = frame!().func;
                // SAFETY: `func` is live, and `destination` points into its code.
                let target = unsafe { destination.offset_from((*func).code.as_ptr()) } as Target;
                if let Some(header) = back_edge(store, &tiering, frame!(), target) {
                    if let Err(mut error) =
                        enter_loop(store, data, stacks, frame!(), &tiering, header)
                    {
                        // The compiled frames include this function's own.
                        error.backtrace.extend(backtrace_of_callers(&stacks.frames));
                        return Err(error);
                    }
                    return_from_frame!();
                    continue;
                }
            }
            ip = destination;
        }};
    }
    // Calls a function that is not a defined function of the current instance (reached
    // through an import or a table): a host function through `call_host`, a Wasm
    // function of any instance by switching to its frame (`enter_function`), or with
    // tiering, compiled code.
    macro_rules! call_other {
        ($callee:expr, $args:expr) => {{
            let callee: FuncId = $callee;
            if let Some(host) = store.host_func(callee).map(NonNull::from) {
                let args_start = frame!().base + $args.0 as usize;
                let caller = frame!().instance;
                if let Err(mut error) = call_host(store, data, stacks, caller, host, args_start) {
                    if error.backtrace.is_empty() {
                        error.backtrace = backtrace(&stacks.frames);
                    }
                    return Err(error);
                }
                load_frame_state!();
            } else if TIERING && wants_native(store, &tiering, callee) {
                native_call!(callee, $args);
            } else {
                match enter_function(
                    store,
                    stacks,
                    frame!().base + $args.0 as usize,
                    callee,
                    depth_limit,
                    value_limit,
                ) {
                    Ok(callee_frame) => enter_callee!(callee_frame),
                    Err(mut error) => {
                        if error.backtrace.is_empty() {
                            error.backtrace = backtrace(&stacks.frames);
                        }
                        return Err(error);
                    }
                }
                load_frame_state!();
            }
        }};
    }
    // The three operands of a bulk instruction, in consecutive slots, as 32-bit indices.
    macro_rules! three_operands {
        ($operands:expr) => {{
            let operands: Slot = $operands;
            (
                get!(operands) as u32 as u64,
                get!(Slot(operands.0 + 1)) as u32 as u64,
                get!(Slot(operands.0 + 2)) as u32 as u64,
            )
        }};
    }
    macro_rules! instance_entity {
        () => {
            store.instance(frame!().instance)
        };
    }

    loop {
        // A reference, not a copy: each arm reads the fields it needs, so the fields of
        // every instruction are not decoded into registers before the dispatch.
        // SAFETY: translation ends every path with a return, branch or trap, so `ip` stays
        // inside the function's code (module invariants).
        let op = unsafe { &*ip };
        // SAFETY: as above; at worst one past the last instruction, never read.
        ip = unsafe { ip.add(1) };

        // The lists of `ir.rs` are gathered by chained macros into one `match`, so
        // dispatch is a single jump table.
        macro_rules! gather_trapping_binary { ($($t:tt)*) => { crate::for_each_trapping_binary!(gather_unary $($t)*) } }
        macro_rules! gather_unary { ($($t:tt)*) => { crate::for_each_unary!(gather_trapping_unary $($t)*) } }
        macro_rules! gather_trapping_unary { ($($t:tt)*) => { crate::for_each_trapping_unary!(gather_load $($t)*) } }
        macro_rules! gather_load { ($($t:tt)*) => { crate::for_each_load!(gather_store $($t)*) } }
        macro_rules! gather_store { ($($t:tt)*) => { crate::for_each_store!(gather_branch_compare $($t)*) } }
        macro_rules! gather_branch_compare { ($($t:tt)*) => { crate::for_each_branch_compare!(gather_branch_compare_imm $($t)*) } }
        macro_rules! gather_branch_compare_imm { ($($t:tt)*) => { crate::for_each_branch_compare_imm!(gather_binary_imm $($t)*) } }
        macro_rules! gather_binary_imm { ($($t:tt)*) => { crate::for_each_binary_imm!(gather_simd_binary $($t)*) } }
        macro_rules! gather_simd_binary { ($($t:tt)*) => { crate::for_each_simd_binary!(gather_simd_unary $($t)*) } }
        macro_rules! gather_simd_unary { ($($t:tt)*) => { crate::for_each_simd_unary!(gather_simd_ternary $($t)*) } }
        macro_rules! gather_simd_ternary { ($($t:tt)*) => { crate::for_each_simd_ternary!(gather_simd_shift $($t)*) } }
        macro_rules! gather_simd_shift { ($($t:tt)*) => { crate::for_each_simd_shift!(gather_simd_splat $($t)*) } }
        macro_rules! gather_simd_splat { ($($t:tt)*) => { crate::for_each_simd_splat!(gather_simd_test $($t)*) } }
        macro_rules! gather_simd_test { ($($t:tt)*) => { crate::for_each_simd_test!(gather_simd_extract_lane $($t)*) } }
        macro_rules! gather_simd_extract_lane { ($($t:tt)*) => { crate::for_each_simd_extract_lane!(gather_simd_replace_lane $($t)*) } }
        macro_rules! gather_simd_replace_lane { ($($t:tt)*) => { crate::for_each_simd_replace_lane!(gather_simd_load $($t)*) } }
        macro_rules! gather_simd_load { ($($t:tt)*) => { crate::for_each_simd_load!(gather_simd_load_lane $($t)*) } }
        macro_rules! gather_simd_load_lane { ($($t:tt)*) => { crate::for_each_simd_load_lane!(gather_simd_store_lane $($t)*) } }
        macro_rules! gather_simd_store_lane { ($($t:tt)*) => { crate::for_each_simd_store_lane!(dispatch $($t)*) } }
        macro_rules! dispatch {
            (
                binary: { $($bname:ident $bty:ident |$ba:ident, $bb:ident| $bbody:expr;)* }
                trapping_binary: { $($tbname:ident $tbty:ident $tbfunction:path;)* }
                unary: { $($uname:ident $uty:ident |$ua:ident| $ubody:expr;)* }
                trapping_unary: { $($tuname:ident $tuty:ident $tufunction:path;)* }
                load: { $($lname:ident $lty:ident |$lv:ident| $lconvert:expr;)* }
                store: { $($sname:ident $sty:ident;)* }
                branch_compare: { $($brname:ident $brty:ident |$bra:ident, $brb:ident| $brbody:expr;)* }
                branch_compare_imm: { $($biname:ident $bity:ident |$bia:ident, $bib:ident| $bibody:expr;)* }
                binary_imm: { $($bmname:ident $bmty:ident |$bma:ident, $bmb:ident| $bmbody:expr;)* }
                simd_binary: { $($sbname:ident $sbfunction:path;)* }
                simd_unary: { $($suname:ident $sufunction:path;)* }
                simd_ternary: { $($stname:ident $stfunction:path;)* }
                simd_shift: { $($ssname:ident $ssfunction:path;)* }
                simd_splat: { $($spname:ident $spty:ident $spfunction:path;)* }
                simd_test: { $($sqname:ident $sqfunction:path;)* }
                simd_extract_lane: { $($sename:ident $sety:ident $sefunction:path;)* }
                simd_replace_lane: { $($srname:ident $srty:ident $srfunction:path;)* }
                simd_load: { $($slname:ident $slty:ident |$slv:ident| $slconvert:expr;)* }
                simd_load_lane: { $($sllname:ident $sllty:ident;)* }
                simd_store_lane: { $($sslname:ident $sslty:ident;)* }
            ) => {
                match *op {
                    Op::Copy { dst, src } => set!(dst, get!(src)),
                    Op::CopyV128 { dst, src } => set_v128!(dst, get_v128!(src)),
                    Op::Branch { target } => jump!(target),
                    Op::BranchIfNonZero { condition, target } => {
                        if get!(condition) as u32 != 0 {
                            jump!(target);
                        }
                    }
                    Op::BranchIfZero { condition, target } => {
                        if get!(condition) as u32 == 0 {
                            jump!(target);
                        }
                    }
                    $( Op::$brname { lhs, rhs, target } => {
                        let $bra = <$brty as FromSlot>::from_slot(get!(lhs));
                        let $brb = <$brty as FromSlot>::from_slot(get!(rhs));
                        if $brbody {
                            jump!(target);
                        }
                    } )*
                    $( Op::$biname { lhs, imm, target } => {
                        let $bia = <$bity as FromSlot>::from_slot(get!(lhs));
                        let $bib = <$bity as FromImm>::from_imm(imm);
                        if $bibody {
                            jump!(target);
                        }
                    } )*
                    $( Op::$bmname { dst, lhs, imm } => {
                        let $bma = <$bmty as FromSlot>::from_slot(get!(lhs));
                        let $bmb = <$bmty as FromImm>::from_imm(imm);
                        set!(dst, IntoSlot::into_slot($bmbody));
                    } )*
                    $( Op::$bname { dst, lhs, rhs } => {
                        let $ba = <$bty as FromSlot>::from_slot(get!(lhs));
                        let $bb = <$bty as FromSlot>::from_slot(get!(rhs));
                        set!(dst, IntoSlot::into_slot($bbody));
                    } )*
                    $( Op::$tbname { dst, lhs, rhs } => {
                        let a = <$tbty as FromSlot>::from_slot(get!(lhs));
                        let b = <$tbty as FromSlot>::from_slot(get!(rhs));
                        match $tbfunction(a, b) {
                            Ok(value) => set!(dst, IntoSlot::into_slot(value)),
                            Err(code) => trap!(code),
                        }
                    } )*
                    $( Op::$uname { dst, src } => {
                        let $ua = <$uty as FromSlot>::from_slot(get!(src));
                        set!(dst, IntoSlot::into_slot($ubody));
                    } )*
                    $( Op::$tuname { dst, src } => {
                        let a = <$tuty as FromSlot>::from_slot(get!(src));
                        match $tufunction(a) {
                            Ok(value) => set!(dst, IntoSlot::into_slot(value)),
                            Err(code) => trap!(code),
                        }
                    } )*
                    $( Op::$lname { dst, addr, offset } => {
                        let address = effective_address!(addr, offset, size_of::<$lty>());
                        // SAFETY: `address + size <= memory_length` was checked, and
                        // `memory_base..+memory_length` is the accessible memory.
                        let $lv = <$lty>::from_le(unsafe {
                            std::ptr::read_unaligned(memory_base.add(address).cast::<$lty>())
                        });
                        set!(dst, $lconvert);
                    } )*
                    $( Op::$sname { addr, value, offset } => {
                        let address = effective_address!(addr, offset, size_of::<$sty>());
                        let value = (get!(value) as $sty).to_le();
                        // SAFETY: as for loads.
                        unsafe { std::ptr::write_unaligned(memory_base.add(address).cast::<$sty>(), value) };
                    } )*
                    $( Op::$sbname { dst, lhs, rhs } => {
                        set_v128!(dst, $sbfunction(get_v128!(lhs), get_v128!(rhs)));
                    } )*
                    $( Op::$suname { dst, src } => set_v128!(dst, $sufunction(get_v128!(src))), )*
                    $( Op::$stname { dst, operands } => {
                        let a = get_v128!(operands);
                        let b = get_v128!(Slot(operands.0 + 2));
                        let c = get_v128!(Slot(operands.0 + 4));
                        set_v128!(dst, $stfunction(a, b, c));
                    } )*
                    $( Op::$ssname { dst, lhs, rhs } => {
                        let count = <i32 as FromSlot>::from_slot(get!(rhs));
                        set_v128!(dst, $ssfunction(get_v128!(lhs), count));
                    } )*
                    $( Op::$spname { dst, src } => {
                        set_v128!(dst, $spfunction(<$spty as FromSlot>::from_slot(get!(src))));
                    } )*
                    $( Op::$sqname { dst, src } => {
                        set!(dst, IntoSlot::into_slot($sqfunction(get_v128!(src))));
                    } )*
                    $( Op::$sename { dst, src, lane } => {
                        let value: $sety = $sefunction(get_v128!(src), lane);
                        set!(dst, IntoSlot::into_slot(value));
                    } )*
                    $( Op::$srname { dst, src, value, lane } => {
                        let value = <$srty as FromSlot>::from_slot(get!(value));
                        set_v128!(dst, $srfunction(get_v128!(src), lane, value));
                    } )*
                    $( Op::$slname { dst, addr, offset } => {
                        let address = effective_address!(addr, offset, size_of::<$slty>());
                        // SAFETY: as for the scalar loads.
                        let $slv = <$slty>::from_le(unsafe {
                            std::ptr::read_unaligned(memory_base.add(address).cast::<$slty>())
                        });
                        set_v128!(dst, $slconvert);
                    } )*
                    $( Op::$sllname { dst, operands, offset, lane } => {
                        let address = effective_address!(operands, offset, size_of::<$sllty>());
                        let vector = get_v128!(Slot(operands.0 + 1));
                        // SAFETY: as for the scalar loads.
                        let bits = <$sllty>::from_le(unsafe {
                            std::ptr::read_unaligned(memory_base.add(address).cast::<$sllty>())
                        });
                        let size = size_of::<$sllty>() as u32;
                        set_v128!(dst, simd::replace_lane(vector, size, lane, bits as u64));
                    } )*
                    $( Op::$sslname { operands, offset, lane } => {
                        let address = effective_address!(operands, offset, size_of::<$sslty>());
                        let vector = get_v128!(Slot(operands.0 + 1));
                        let size = size_of::<$sslty>() as u32;
                        let value = (simd::extract_lane(vector, size, lane) as $sslty).to_le();
                        // SAFETY: as for the scalar stores.
                        unsafe { std::ptr::write_unaligned(memory_base.add(address).cast::<$sslty>(), value) };
                    } )*
                    Op::V128Store { addr, value, offset } => {
                        let address = effective_address!(addr, offset, 16);
                        let value = get_v128!(value).to_le();
                        // SAFETY: as for the scalar stores; a `v128` access is 16 bytes, checked.
                        unsafe { std::ptr::write_unaligned(memory_base.add(address).cast::<u128>(), value) };
                    }
                    Op::I8x16Shuffle { dst, operands, lanes } => {
                        let a = get_v128!(operands);
                        let b = get_v128!(Slot(operands.0 + 2));
                        set_v128!(dst, simd::i8x16_shuffle(a, b, get_v128!(lanes)));
                    }
                    Op::Trap { code } => {
                        let code = TrapCode::ALL
                            .get(code as usize)
                            .copied()
                            .unwrap_or(TrapCode::Unreachable);
                        trap!(code);
                    }
                    Op::ConsumeFuel { amount } => {
                        if !store.consume_fuel(u64::from(amount)) {
                            trap!(TrapCode::OutOfFuel);
                        }
                    }
                    Op::CheckEpoch {} => {
                        if store.epoch_deadline_reached() {
                            trap!(TrapCode::Interrupt);
                        }
                    }
                    Op::Select {
                        dst,
                        condition,
                        if_true,
                    } => {
                        // SAFETY: the translator always emits a `SelectOperand` after a `Select`.
                        let Op::SelectOperand { if_false } = (unsafe { *ip }) else {
                            unreachable!("a Select is followed by its SelectOperand")
                        };
                        // SAFETY: the `SelectOperand` is followed by more code.
                        ip = unsafe { ip.add(1) };
                        let value = if get!(condition) as u32 != 0 {
                            get!(if_true)
                        } else {
                            get!(if_false)
                        };
                        set!(dst, value);
                    }
                    Op::SelectV128 {
                        dst,
                        condition,
                        if_true,
                    } => {
                        // SAFETY: as for `Select`.
                        let Op::SelectOperand { if_false } = (unsafe { *ip }) else {
                            unreachable!("a SelectV128 is followed by its SelectOperand")
                        };
                        // SAFETY: as for `Select`.
                        ip = unsafe { ip.add(1) };
                        let value = if get!(condition) as u32 != 0 {
                            get_v128!(if_true)
                        } else {
                            get_v128!(if_false)
                        };
                        set_v128!(dst, value);
                    }
                    Op::CopyMany { dst, src, count } => {
                        for offset in 0..count {
                            set!(Slot(dst.0 + offset), get!(Slot(src.0 + offset)));
                        }
                    }
                    Op::BranchTable { index, len } => {
                        let index = (get!(index) as u32).min(len);
                        // SAFETY: `len + 1` entries follow the `BranchTable`.
                        ip = unsafe { ip.add(index as usize) };
                    }
                    Op::Return {} | Op::ReturnOne { .. } | Op::ReturnMany { .. } => {
                        match *op {
                            Op::ReturnOne { src } => set!(Slot(0), get!(src)),
                            Op::ReturnMany { first, count } => {
                                for offset in 0..count {
                                    set!(Slot(offset), get!(Slot(first.0 + offset)));
                                }
                            }
                            _ => {}
                        }
                        return_from_frame!();
                    }
                    Op::Call { function, args } => {
                        // SAFETY: `frame!().module` is live (module invariants).
                        let module = unsafe { &*frame!().module };
                        let callee = if function < module.info.num_imported_functions {
                            instance_entity!().funcs.get(function)
                        } else if TIERING
                            && tiering_entry(
                                store,
                                &tiering,
                                // SAFETY: the frame's code is live (module invariants).
                                unsafe { &*frame!().module_code },
                                module,
                                frame!().instance,
                                function,
                            )
                        {
                            native_call!(instance_entity!().funcs.get(function), args);
                            continue;
                        } else {
                            // Calls within the instance skip the store's function table.
                            if callers(stacks) >= depth_limit {
                                trap!(TrapCode::StackOverflow);
                            }
                            // SAFETY: `frame!().module_code` is live.
                            let module_code = unsafe { &*frame!().module_code };
                            let func = match module_code.function(module, function) {
                                Ok(func) => func as *const CompiledFunc,
                                Err(mut error) => {
                                    error.backtrace = backtrace(&stacks.frames);
                                    return Err(error);
                                }
                            };
                            // Field by field, leaving out the caller's `ip` (see `Frame::ip`).
                            let caller = running(&stacks.frames);
                            let callee_frame = Frame {
                                func,
                                module_code: caller.module_code,
                                module: caller.module,
                                memory: caller.memory,
                                globals: caller.globals,
                                instance: caller.instance,
                                func_index: function,
                                base: caller.base + args.0 as usize,
                                ip: std::ptr::null(),
                            };
                            if let Err(code) = initialize_frame(stacks, value_limit, callee_frame) {
                                trap!(code);
                            }
                            enter_callee!(callee_frame);
                            load_frame_state!();
                            continue;
                        };
                        call_other!(callee, args);
                    }
                    Op::CallIndirect {
                        type_index,
                        args,
                        table,
                    } => {
                        // SAFETY: `frame!().module` is live.
                        let module = unsafe { &*frame!().module };
                        let expected = module.type_ids[type_index as usize];
                        let num_params =
                            slot_count(module.info.types[type_index as usize].params()) as u32;
                        let element_index = get!(Slot(args.0 + num_params)) as u32;
                        let table_id = instance_entity!().tables[table as usize];
                        let element = match store.table(table_id).get(element_index as u64) {
                            Ok(element) => element,
                            Err(_) => trap!(TrapCode::UndefinedElement),
                        };
                        let Some(callee) = decode_func_ref(element) else {
                            trap!(TrapCode::IndirectCallToNull);
                        };
                        if store.func_type_id(callee) != expected {
                            trap!(TrapCode::BadSignature);
                        }
                        call_other!(callee, args);
                    }
                    Op::GlobalGet { dst, global } => {
                        let cell = frame!().globals.wrapping_add(global as usize);
                        // SAFETY: validation bounds `global` by the instance's globals, and
                        // their cells live as long as the store (module invariants).
                        let value = unsafe { (*(*cell).as_ptr()).get_u64() };
                        set!(dst, value);
                    }
                    Op::GlobalSet { src, global } => {
                        let value = get!(src);
                        let cell = frame!().globals.wrapping_add(global as usize);
                        // SAFETY: as for `GlobalGet`; validation guarantees the global is
                        // mutable, and nothing else accesses the cell during the write.
                        unsafe { (*(*cell).as_ptr()).set_u64(value) };
                    }
                    Op::GlobalGetV128 { dst, global } => {
                        let cell = frame!().globals.wrapping_add(global as usize);
                        // SAFETY: as for `GlobalGet`.
                        let value = unsafe { (*(*cell).as_ptr()).bits };
                        set_v128!(dst, value);
                    }
                    Op::GlobalSetV128 { src, global } => {
                        let value = get_v128!(src);
                        let cell = frame!().globals.wrapping_add(global as usize);
                        // SAFETY: as for `GlobalSet`.
                        unsafe { (*(*cell).as_ptr()).bits = value };
                    }
                    Op::MemorySize { dst, memory } => {
                        let id = instance_entity!().memories[memory as usize];
                        let memory = store.memory(id);
                        let pages = memory.size_in_pages();
                        set!(
                            dst,
                            if memory.ty().memory64 {
                                pages
                            } else {
                                pages as u32 as u64
                            }
                        );
                    }
                    Op::MemoryGrow { dst, delta, memory } => {
                        let id = instance_entity!().memories[memory as usize];
                        let memory64 = store.memory(id).ty().memory64;
                        let delta = if memory64 {
                            get!(delta)
                        } else {
                            get!(delta) as u32 as u64
                        };
                        let result = match store.grow_memory(data, id, delta) {
                            Some(old) => old,
                            None if memory64 => u64::MAX,
                            None => u32::MAX as u64,
                        };
                        set!(dst, result);
                        load_memory!();
                    }
                    Op::MemoryFill { operands, memory } => {
                        let (destination, value, len) = three_operands!(operands);
                        let result = store.memory_fill(
                            frame!().instance,
                            memory,
                            destination,
                            value as u8,
                            len,
                        );
                        if let Err(code) = result {
                            trap!(code);
                        }
                    }
                    Op::MemoryCopy {
                        operands,
                        destination_memory,
                        source_memory,
                    } => {
                        let (destination, source, len) = three_operands!(operands);
                        let result = store.memory_copy(
                            frame!().instance,
                            destination_memory,
                            source_memory,
                            destination,
                            source,
                            len,
                        );
                        if let Err(code) = result {
                            trap!(code);
                        }
                    }
                    Op::MemoryInit {
                        operands,
                        memory,
                        segment,
                    } => {
                        let (destination, source, len) = three_operands!(operands);
                        let result = store.memory_init(
                            frame!().instance,
                            memory,
                            segment,
                            destination,
                            source,
                            len,
                        );
                        if let Err(code) = result {
                            trap!(code);
                        }
                    }
                    Op::DataDrop { segment } => store.data_drop(frame!().instance, segment),
                    Op::TableGet { dst, index, table } => {
                        let id = instance_entity!().tables[table as usize];
                        match store.table(id).get(get!(index) as u32 as u64) {
                            Ok(value) => set!(dst, value),
                            Err(code) => trap!(code),
                        }
                    }
                    Op::TableSet {
                        index,
                        value,
                        table,
                    } => {
                        let id = instance_entity!().tables[table as usize];
                        if let Err(code) = store
                            .table_mut(id)
                            .set(get!(index) as u32 as u64, get!(value))
                        {
                            trap!(code);
                        }
                    }
                    Op::TableSize { dst, table } => {
                        let id = instance_entity!().tables[table as usize];
                        set!(dst, store.table(id).size());
                    }
                    Op::TableGrow {
                        dst,
                        operands,
                        table,
                    } => {
                        let id = instance_entity!().tables[table as usize];
                        let (init, delta) =
                            (get!(operands), get!(Slot(operands.0 + 1)) as u32 as u64);
                        let result = store.grow_table(data, id, delta, init);
                        set!(dst, result.map_or(u32::MAX as u64, |old| old));
                    }
                    Op::TableFill { operands, table } => {
                        let start = get!(operands) as u32 as u64;
                        let value = get!(Slot(operands.0 + 1));
                        let len = get!(Slot(operands.0 + 2)) as u32 as u64;
                        if let Err(code) =
                            store.table_fill(frame!().instance, table, start, value, len)
                        {
                            trap!(code);
                        }
                    }
                    Op::TableCopy {
                        operands,
                        destination_table,
                        source_table,
                    } => {
                        let (destination, source, len) = three_operands!(operands);
                        let result = store.table_copy(
                            frame!().instance,
                            destination_table,
                            source_table,
                            destination,
                            source,
                            len,
                        );
                        if let Err(code) = result {
                            trap!(code);
                        }
                    }
                    Op::TableInit {
                        operands,
                        table,
                        segment,
                    } => {
                        let (destination, source, len) = three_operands!(operands);
                        let result = store.table_init(
                            frame!().instance,
                            table,
                            segment,
                            destination,
                            source,
                            len,
                        );
                        if let Err(code) = result {
                            trap!(code);
                        }
                    }
                    Op::ElemDrop { segment } => store.elem_drop(frame!().instance, segment),
                    Op::RefFunc { dst, function } => {
                        let id = instance_entity!().funcs.get(function);
                        set!(dst, encode_func_ref(Some(id)));
                    }
                    Op::RefIsNull { dst, src } => set!(dst, (get!(src) == 0) as u64),
                    Op::SelectOperand { .. } => {
                        unreachable!("a SelectOperand is read by the Select before it")
                    }
                }
            };
        }

        crate::for_each_binary!(gather_trapping_binary);
    }
}

/// Prepares the frame of Wasm function `callee`, of any instance (reached through an
/// import or a table), whose arguments start at slot `args_start` of the value stack, for
/// the dispatch loop to switch to. Host functions are called through [`call_host`].
fn enter_function(
    store: &StoreOpaque,
    stacks: &mut Stacks,
    args_start: usize,
    callee: FuncId,
    depth_limit: usize,
    value_limit: usize,
) -> Result<Frame, Trap> {
    let Some((instance, index)) = store.wasm_func(callee) else {
        unreachable!("the dispatch loop calls host functions itself")
    };
    if callers(stacks) >= depth_limit {
        return Err(Trap::code(TrapCode::StackOverflow));
    }
    // The dispatch loop switches to the callee; its return restores the caller.
    let callee_frame = enter(store, instance, index, args_start)?.frame;
    initialize_frame(stacks, value_limit, callee_frame).map_err(Trap::code)?;
    Ok(callee_frame)
}

/// Calls host function `host` of `store` for a frame of `caller`, with its arguments and
/// results in the value stack's slots from `args_start` on. Frames of this `run` count
/// against the call depth meanwhile.
fn call_host(
    store: &mut StoreOpaque,
    data: &mut dyn Any,
    stacks: &mut Stacks,
    caller: InstanceId,
    host: NonNull<HostFunc>,
    args_start: usize,
) -> Result<(), Trap> {
    // SAFETY: the caller passes a host function of `store`; it is borrowed, not cloned (an
    // `Arc` clone costs two atomic operations per call).
    let count = unsafe { host.as_ref() }.slots();
    let saved_depth = store.call_depth;
    store.call_depth += callers(stacks) as u32 + 1;
    let caller = Some(caller);
    // SAFETY: as above.
    let result = unsafe {
        store.call_host(
            host,
            data,
            caller,
            &mut stacks.slots[args_start..args_start + count],
        )
    };
    store.call_depth = saved_depth;
    result
}
