//! Running compiled code: the entry from the host ([`call`]), the per-call state
//! ([`Activation`]), and the runtime helpers compiled code calls (the libcalls of
//! [`crate::abi`]).
//!
//! # Ownership and invariants
//!
//! - [`call`] holds the store exclusively (`&mut StoreOpaque`) for the whole call. It turns
//!   that borrow into a raw pointer kept in an [`Activation`] on its own stack frame, and
//!   from then until compiled code returns, the store is reached only through that pointer:
//!   by compiled code (through `VMContext` pointers into store-owned, boxed data) and by the
//!   libcalls, which rebuild a `&mut StoreOpaque` for their own duration only. Compiled code
//!   is suspended while a libcall runs, so no two accesses overlap.
//! - The current activation is found through a thread-local pointer. Activations nest (Wasm
//!   calls a host function that calls Wasm, maybe in another store) strictly in stack order:
//!   each [`call`] saves the previous pointer and restores it before returning.
//! - Libcalls are `extern "C"`; a panic must not unwind through compiled frames. Host
//!   functions run under `catch_unwind`, the payload is parked in the activation, the
//!   compiled frames return [`Status::Panic`], and [`call`] resumes the panic once back in
//!   Rust. The same holds for [`call_host`], the entry compiled code calls a linked host
//!   function through (`VMFuncRef::array_call`, see [`crate::abi`]): a libcall reached by
//!   an indirect call, whose first argument is the function itself. [`call_func`] links a
//!   host function on its first call from compiled code.
//! - The native stack: [`call`] sets `VMStoreContext::stack_limit`, which the prologue of
//!   every compiled function checks (Cranelift's stack limit). The limit lies
//!   [`StackLimits::max_wasm_stack`](kestrel_vm::StackLimits) below the entry, and never
//!   closer than [`HOST_STACK_RESERVE`] to the end of the thread's stack, so the runtime and
//!   host functions called from the deepest compiled frame still have room.

use crate::abi::{HostCall, Status, Trampoline};
use crate::compiler::CompiledModule;
use kestrel_vm::offsets::VMContext;
use kestrel_vm::value::slot_count;
use kestrel_vm::{FrameInfo, FuncId, HostFunc, InstanceId, StoreOpaque, Trap, TrapCode};
use std::any::Any;
use std::cell::Cell;
use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::ptr::NonNull;

/// How compiled code calls a function it has no native entry for (a function of a module
/// the JIT did not compile): the embedding layer's tier dispatch. Same contract as a call
/// from the API: parameters in `values`, results left there.
pub type CallHook = fn(&mut StoreOpaque, &mut dyn Any, FuncId, &mut [u64]) -> Result<(), Trap>;

/// Stack kept free below the compiled-code stack limit for the runtime and host functions.
pub const HOST_STACK_RESERVE: usize = 256 << 10;

/// The state of one entry into compiled code.
struct Activation {
    store: *mut StoreOpaque,
    data: *mut dyn Any,
    hook: CallHook,
    /// A trap object to report (host errors, traps of calls made through `hook`).
    pending: Option<Trap>,
    /// A host function's panic, resumed when compiled code has returned.
    panic: Option<Box<dyn Any + Send>>,
    /// Frames recorded while unwinding, innermost first.
    frames: Vec<FrameInfo>,
    previous: *mut c_void,
}

thread_local! {
    static CURRENT: Cell<*mut c_void> = const { Cell::new(std::ptr::null_mut()) };
}

/// The innermost activation of this thread.
///
/// # Safety
///
/// Only callable from a libcall, i.e. while compiled code entered through [`call`] on this
/// thread is suspended in the call; the reference must not outlive the libcall.
unsafe fn current<'a>() -> &'a mut Activation {
    let pointer = CURRENT.get();
    assert!(!pointer.is_null(), "a libcall ran outside compiled code");
    // SAFETY: `call` stores a pointer to its live `Activation` here and removes it before
    // the activation dies; compiled code (and so this libcall) only runs in between. The
    // lifetime is erased: the data pointer is only used during this libcall.
    unsafe { &mut *pointer.cast::<Activation>() }
}

/// Calls function `func` (a Wasm function of a compiled module, or a host function) with
/// the parameters in `values`; its results are left in `values`.
///
/// `values` holds the parameters in vm's raw slots (a `v128` takes two, low half first;
/// `kestrel_vm::value::slot_offset`); its length must be at least the larger of the slots
/// the parameters and the results take, and the parameters must match the function's type
/// (the embedding layer checks both).
pub fn call(
    store: &mut StoreOpaque,
    data: &mut dyn Any,
    func: FuncId,
    values: &mut [u64],
    hook: CallHook,
) -> Result<(), Trap> {
    if let Some(host) = store.host_func(func) {
        let host = NonNull::from(host);
        // SAFETY: `host` is a host function of `store`, just looked up.
        return unsafe { store.call_host(host, data, None, values) };
    }
    let Some((instance, index)) = store.wasm_func(func) else {
        panic!("function {} is not in this store", func.0)
    };
    let instance_entity = store.instance(instance);
    let module = &*instance_entity.module;
    let Some(compiled) = CompiledModule::containing(module, index) else {
        return hook(store, data, func, values);
    };
    let Some((code, trampoline)) = compiled.entry(&module.info, index) else {
        return Err(Trap::host(
            format!("function {index} has no compiled entry point").into(),
        ));
    };
    let vmctx = instance_entity.context.vmctx_ptr();
    let ty = module.info.function_type(index);
    assert!(
        values.len() >= slot_count(ty.params()).max(slot_count(ty.results())),
        "the values buffer is too short for the function's type"
    );
    let values = values.as_mut_ptr();
    // SAFETY: `trampoline` and `code` belong to the module of `instance` (kept alive by the
    // store) and have the signature of function `index`; `vmctx` is that instance's
    // context; `values` is long enough (checked above).
    enter(store, data, hook, || unsafe {
        trampoline(code, vmctx, values)
    })
}

/// Calls a compiled function through the entry its store's `VMFuncRef` records
/// (`StoreOpaque::array_call`): the host → Wasm fast path, which skips the lookups of
/// [`call`]; traps, stack limits and re-entrancy are handled the same way.
///
/// # Safety
///
/// `array_call`, `native_call` and `vmctx` must be the values `StoreOpaque::array_call`
/// returned for a function of `store`, and `values` must hold at least the slots of the
/// function's parameters and of its results, the parameters type-checked against its
/// signature (the embedding layer guarantees both).
pub unsafe fn call_array(
    store: &mut StoreOpaque,
    data: &mut dyn Any,
    array_call: *const u8,
    native_call: *const u8,
    vmctx: *mut VMContext,
    values: &mut [u64],
    hook: CallHook,
) -> Result<(), Trap> {
    // SAFETY: a non-null `array_call` is a trampoline compiled with the `Trampoline`
    // signature (`jit::link_instance` records only those).
    let trampoline = unsafe { std::mem::transmute::<*const u8, Trampoline>(array_call) };
    let values = values.as_mut_ptr();
    // SAFETY: the caller passes the entry, trampoline and context the store recorded for
    // one function (its module's code is kept alive by the store) and a values buffer
    // that fits its type.
    enter(store, data, hook, || unsafe {
        trampoline(native_call, vmctx, values)
    })
}

/// Continues a call of defined function `index` of `instance` in its on-stack-replacement
/// entry for loop `loop_ordinal` (compiled by [`crate::compile_osr_entry`]), with the
/// frame's state in `state` (the locals, then the operand stack at the loop header, each
/// value in its raw slots, a `v128` in two, low half first); the function's results are
/// left in `state` the same way, which must be at least as long as the state and the
/// results.
pub fn call_osr_entry(
    store: &mut StoreOpaque,
    data: &mut dyn Any,
    instance: InstanceId,
    index: kestrel_parser::FuncIndex,
    loop_ordinal: u32,
    state: &mut [u64],
    hook: CallHook,
) -> Result<(), Trap> {
    let instance_entity = store.instance(instance);
    let module = &*instance_entity.module;
    let Some(entry) = crate::compiler::osr_entry(module, index, loop_ordinal) else {
        return Err(Trap::host(
            format!("function {index} has no compiled entry for loop {loop_ordinal}").into(),
        ));
    };
    let vmctx = instance_entity.context.vmctx_ptr();
    let state = state.as_mut_ptr();
    // SAFETY: `entry` belongs to the module of `instance` (kept alive by the store) and
    // continues function `index` at the loop the caller's state describes; `vmctx` is that
    // instance's context; the caller sized `state` for the state and the results.
    enter(store, data, hook, || unsafe { entry(vmctx, state) })
}

/// Enters compiled code through `invoke` (which returns a status) with the activation,
/// stack limit and re-entrancy count set up, and turns the status into a result.
fn enter(
    store: &mut StoreOpaque,
    data: &mut dyn Any,
    hook: CallHook,
    invoke: impl FnOnce() -> u32,
) -> Result<(), Trap> {
    if store.reentrancy >= store.stack_limits.max_reentrancy {
        return Err(Trap::code(TrapCode::StackOverflow));
    }
    let Some(stack_limit) = stack_limit(store.stack_limits.max_wasm_stack) else {
        return Err(Trap::code(TrapCode::StackOverflow));
    };
    let vm_store = store.vm_store_context_ptr();
    store.reentrancy += 1;
    let store: *mut StoreOpaque = store;
    let mut activation = Activation {
        store,
        data,
        hook,
        pending: None,
        panic: None,
        frames: Vec::new(),
        previous: CURRENT.get(),
    };
    // SAFETY: `vm_store` is the store's boxed `VMStoreContext` (stable, live for the call).
    let saved_limit = unsafe { std::mem::replace(&mut (*vm_store).stack_limit, stack_limit) };
    CURRENT.set((&raw mut activation).cast());
    // The store is reached only through the activation until the call returns (module
    // docs).
    let status = invoke();
    CURRENT.set(activation.previous);
    // SAFETY: compiled code has returned, so the raw pointers are ours again.
    unsafe {
        (*vm_store).stack_limit = saved_limit;
        (*store).reentrancy -= 1;
    }
    if let Some(payload) = activation.panic.take() {
        resume_unwind(payload);
    }
    match Status::decode(status) {
        Some(Status::Ok) => Ok(()),
        Some(Status::Trap(code)) => Err(Trap {
            reason: kestrel_vm::TrapReason::Code(code),
            backtrace: activation.frames,
        }),
        Some(Status::Pending) => {
            let mut trap = activation.pending.take().unwrap_or_else(|| {
                Trap::host("compiled code reported a trap that was not recorded".into())
            });
            trap.backtrace.extend(activation.frames);
            Err(trap)
        }
        Some(Status::Panic) | None => Err(Trap::host(
            format!("compiled code returned an unknown status {status:#x}").into(),
        )),
    }
}

/// The stack limit for an entry made now, or `None` when the stack is already too deep.
fn stack_limit(max_wasm_stack: usize) -> Option<usize> {
    let here = approximate_stack_pointer();
    let floor = thread_stack_low().map_or(0, |low| low.saturating_add(HOST_STACK_RESERVE));
    let limit = here.saturating_sub(max_wasm_stack).max(floor);
    (limit < here).then_some(limit)
}

#[inline(never)]
fn approximate_stack_pointer() -> usize {
    let marker = 0u8;
    std::hint::black_box(&raw const marker) as usize
}

/// The lowest address of the current thread's stack, cached per thread.
fn thread_stack_low() -> Option<usize> {
    thread_local! {
        static LOW: Cell<Option<Option<usize>>> = const { Cell::new(None) };
    }
    if let Some(low) = LOW.get() {
        return low;
    }
    let low = query_thread_stack_low();
    LOW.set(Some(low));
    low
}

#[cfg(target_os = "linux")]
fn query_thread_stack_low() -> Option<usize> {
    // SAFETY: `attr` is initialised by `pthread_getattr_np` before use and destroyed once;
    // the out-pointers are valid locals.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return None;
        }
        let mut address = std::ptr::null_mut();
        let mut size = 0;
        let result = libc::pthread_attr_getstack(&attr, &mut address, &mut size);
        libc::pthread_attr_destroy(&mut attr);
        (result == 0 && !address.is_null()).then_some(address as usize)
    }
}

#[cfg(not(target_os = "linux"))]
fn query_thread_stack_low() -> Option<usize> {
    None
}

// ----- libcalls -----
//
// Each runs while compiled code is suspended in the call (see `current`). `vmctx` is the
// calling instance's context, valid for the store's life.

/// The calling instance.
///
/// # Safety
///
/// `vmctx` must be a live instance context.
unsafe fn instance_of(vmctx: *mut VMContext) -> InstanceId {
    // SAFETY: guaranteed by the caller.
    InstanceId(unsafe { (*vmctx).instance })
}

/// Runs `body` with the store, turning a panic (a runtime bug) into `on_panic` and parking
/// the payload so [`call`] resumes it.
///
/// # Safety
///
/// Only from a libcall (see [`current`]).
unsafe fn with_store<R>(on_panic: R, body: impl FnOnce(&mut StoreOpaque) -> R) -> R {
    // SAFETY: we are in a libcall.
    let activation = unsafe { current() };
    // SAFETY: the activation's store pointer is exclusively ours while compiled code is
    // suspended (module docs).
    let store = unsafe { &mut *activation.store };
    match catch_unwind(AssertUnwindSafe(|| body(store))) {
        Ok(result) => result,
        Err(payload) => {
            activation.panic.get_or_insert(payload);
            on_panic
        }
    }
}

/// Like [`with_store`], with the embedder's data too (for the store's limiter).
///
/// # Safety
///
/// As for [`with_store`].
unsafe fn with_store_and_data<R>(
    on_panic: R,
    body: impl FnOnce(&mut StoreOpaque, &mut dyn Any) -> R,
) -> R {
    // SAFETY: we are in a libcall.
    let activation = unsafe { current() };
    // SAFETY: the activation's store and data pointers are exclusively ours while compiled
    // code is suspended (module docs), and they point at distinct objects.
    let (store, data) = unsafe { (&mut *activation.store, &mut *activation.data) };
    match catch_unwind(AssertUnwindSafe(|| body(store, data))) {
        Ok(result) => result,
        Err(payload) => {
            activation.panic.get_or_insert(payload);
            on_panic
        }
    }
}

fn status_of(result: Result<(), TrapCode>) -> u32 {
    match result {
        Ok(()) => Status::Ok.encode(),
        Err(code) => Status::Trap(code).encode(),
    }
}

pub(crate) unsafe extern "C" fn memory_grow(vmctx: *mut VMContext, memory: u32, delta: u64) -> u64 {
    // SAFETY: called by compiled code with its own context.
    let instance = unsafe { instance_of(vmctx) };
    // SAFETY: a libcall.
    unsafe {
        with_store_and_data(u64::MAX, |store, data| {
            let id = store.instance(instance).memories[memory as usize];
            store.grow_memory(data, id, delta).unwrap_or(u64::MAX)
        })
    }
}

pub(crate) unsafe extern "C" fn memory_fill(
    vmctx: *mut VMContext,
    memory: u32,
    destination: u64,
    value: u32,
    len: u64,
) -> u32 {
    // SAFETY: called by compiled code with its own context.
    let instance = unsafe { instance_of(vmctx) };
    // SAFETY: a libcall.
    unsafe {
        with_store(Status::Panic.encode(), |store| {
            status_of(store.memory_fill(instance, memory, destination, value as u8, len))
        })
    }
}

pub(crate) unsafe extern "C" fn memory_copy(
    vmctx: *mut VMContext,
    destination_memory: u32,
    source_memory: u32,
    destination: u64,
    source: u64,
    len: u64,
) -> u32 {
    // SAFETY: called by compiled code with its own context.
    let instance = unsafe { instance_of(vmctx) };
    // SAFETY: a libcall.
    unsafe {
        with_store(Status::Panic.encode(), |store| {
            status_of(store.memory_copy(
                instance,
                destination_memory,
                source_memory,
                destination,
                source,
                len,
            ))
        })
    }
}

pub(crate) unsafe extern "C" fn memory_init(
    vmctx: *mut VMContext,
    memory: u32,
    segment: u32,
    destination: u64,
    source: u64,
    len: u64,
) -> u32 {
    // SAFETY: called by compiled code with its own context.
    let instance = unsafe { instance_of(vmctx) };
    // SAFETY: a libcall.
    unsafe {
        with_store(Status::Panic.encode(), |store| {
            status_of(store.memory_init(instance, memory, segment, destination, source, len))
        })
    }
}

pub(crate) unsafe extern "C" fn data_drop(vmctx: *mut VMContext, segment: u32) {
    // SAFETY: called by compiled code with its own context.
    let instance = unsafe { instance_of(vmctx) };
    // SAFETY: a libcall.
    unsafe { with_store((), |store| store.data_drop(instance, segment)) }
}

pub(crate) unsafe extern "C" fn table_grow(
    vmctx: *mut VMContext,
    table: u32,
    init: u64,
    delta: u64,
) -> u64 {
    // SAFETY: called by compiled code with its own context.
    let instance = unsafe { instance_of(vmctx) };
    // SAFETY: a libcall.
    unsafe {
        with_store_and_data(u64::MAX, |store, data| {
            let id = store.instance(instance).tables[table as usize];
            store.grow_table(data, id, delta, init).unwrap_or(u64::MAX)
        })
    }
}

pub(crate) unsafe extern "C" fn table_fill(
    vmctx: *mut VMContext,
    table: u32,
    start: u64,
    value: u64,
    len: u64,
) -> u32 {
    // SAFETY: called by compiled code with its own context.
    let instance = unsafe { instance_of(vmctx) };
    // SAFETY: a libcall.
    unsafe {
        with_store(Status::Panic.encode(), |store| {
            status_of(store.table_fill(instance, table, start, value, len))
        })
    }
}

pub(crate) unsafe extern "C" fn table_copy(
    vmctx: *mut VMContext,
    destination_table: u32,
    source_table: u32,
    destination: u64,
    source: u64,
    len: u64,
) -> u32 {
    // SAFETY: called by compiled code with its own context.
    let instance = unsafe { instance_of(vmctx) };
    // SAFETY: a libcall.
    unsafe {
        with_store(Status::Panic.encode(), |store| {
            status_of(store.table_copy(
                instance,
                destination_table,
                source_table,
                destination,
                source,
                len,
            ))
        })
    }
}

pub(crate) unsafe extern "C" fn table_init(
    vmctx: *mut VMContext,
    table: u32,
    segment: u32,
    destination: u64,
    source: u64,
    len: u64,
) -> u32 {
    // SAFETY: called by compiled code with its own context.
    let instance = unsafe { instance_of(vmctx) };
    // SAFETY: a libcall.
    unsafe {
        with_store(Status::Panic.encode(), |store| {
            status_of(store.table_init(instance, table, segment, destination, source, len))
        })
    }
}

pub(crate) unsafe extern "C" fn elem_drop(vmctx: *mut VMContext, segment: u32) {
    // SAFETY: called by compiled code with its own context.
    let instance = unsafe { instance_of(vmctx) };
    // SAFETY: a libcall.
    unsafe { with_store((), |store| store.elem_drop(instance, segment)) }
}

pub(crate) unsafe extern "C" fn call_func(
    vmctx: *mut VMContext,
    func: u32,
    values: *mut u64,
    len: u64,
) -> u32 {
    // SAFETY: called by compiled code with its own context.
    let instance = unsafe { instance_of(vmctx) };
    // SAFETY: a libcall.
    let activation = unsafe { current() };
    // SAFETY: compiled code passes a stack slot of `len` slots that it does not touch until
    // this returns.
    let values = unsafe { std::slice::from_raw_parts_mut(values, len as usize) };
    let (store, data, hook) = (activation.store, activation.data, activation.hook);
    let func = FuncId(func);
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the store and data pointers are exclusively ours while compiled code is
        // suspended (module docs).
        let (store, data) = unsafe { (&mut *store, &mut *data) };
        match store.host_func(func).map(NonNull::from) {
            Some(host) => {
                // Later calls from compiled code go straight to `call_host`.
                store.link_host_call(func, HOST_CALL as *const u8);
                // SAFETY: `host` is a host function of `store`, just looked up.
                unsafe { store.call_host(host, data, Some(instance), values) }
            }
            None => hook(store, data, func, values),
        }
    }));
    call_status(activation, result)
}

/// [`call_host`] as the [`HostCall`] it is recorded as (checks the signature).
const HOST_CALL: HostCall = call_host;

/// The host-call entry of linked host functions (see [`HostCall`]): what compiled code
/// calls, through the function's `VMFuncRef::array_call`, instead of [`call_func`]. It
/// does only what every host call needs: find the activation (the store and the
/// embedder's data), call the function with its caller, catch a panic (which must not
/// unwind through compiled frames), and park an error or panic in the activation.
pub(crate) unsafe extern "C" fn call_host(
    host: *const HostFunc,
    caller: *mut VMContext,
    values: *mut u64,
    len: usize,
) -> u32 {
    // SAFETY: compiled code passes its own context as `caller`.
    let instance = unsafe { instance_of(caller) };
    // SAFETY: called by compiled code, as a libcall is.
    let activation = unsafe { current() };
    // SAFETY: compiled code passes a stack slot of `len` slots that it does not touch until
    // this returns.
    let values = unsafe { std::slice::from_raw_parts_mut(values, len) };
    // SAFETY: compiled code passes the `vmctx` of a `VMFuncRef` whose `array_call` is this
    // entry, which `StoreOpaque::link_host_call` sets only with the address of one of the
    // store's host functions: non-null. That store is the activation's: compiled code
    // reads `VMFuncRef`s only through its own `VMStoreContext`, and the innermost
    // activation is the entry into the store whose code is running (an entry into another
    // store from a host function is its own activation, gone by the time it returns).
    let host = unsafe { NonNull::new_unchecked(host.cast_mut()) };
    let (store, data) = (activation.store, activation.data);
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the store and data pointers are exclusively ours while compiled code is
        // suspended (module docs), and `host` is one of the store's host functions (above).
        unsafe { (*store).call_host(host, &mut *data, Some(instance), values) }
    }));
    call_status(activation, result)
}

/// The status a call made for compiled code returns: its error or panic is parked in the
/// activation, for the compiled frames to unwind to [`call`].
#[inline]
fn call_status(activation: &mut Activation, result: std::thread::Result<Result<(), Trap>>) -> u32 {
    match result {
        Ok(Ok(())) => Status::Ok.encode(),
        Ok(Err(trap)) => {
            activation.pending = Some(trap);
            Status::Pending.encode()
        }
        Err(payload) => {
            activation.panic = Some(payload);
            Status::Panic.encode()
        }
    }
}

pub(crate) unsafe extern "C" fn record_frame(vmctx: *mut VMContext, func_index: u32) {
    // SAFETY: called by compiled code with its own context.
    let instance = unsafe { instance_of(vmctx) };
    // SAFETY: a libcall.
    let activation = unsafe { current() };
    activation.frames.push(FrameInfo {
        instance,
        func_index,
    });
}

pub(crate) unsafe extern "C" fn compile_error(vmctx: *mut VMContext, func_index: u32) -> u32 {
    // SAFETY: called by compiled code with its own context.
    let instance = unsafe { instance_of(vmctx) };
    // SAFETY: a libcall.
    let message = unsafe {
        with_store(None, |store| {
            let module = &store.instance(instance).module;
            CompiledModule::containing(module, func_index)
                .and_then(|compiled| compiled.error(&module.info, func_index))
                .map(str::to_owned)
        })
    };
    // SAFETY: a libcall.
    let activation = unsafe { current() };
    activation.pending = Some(Trap::host(
        message
            .unwrap_or_else(|| format!("function {func_index} failed to compile"))
            .into(),
    ));
    Status::Pending.encode()
}
