//! Tier dispatch: the one place that knows which engines exist and which runs a call.
//!
//! Every entry into code from the API (`Func::call`, `TypedFunc::call`, start functions)
//! goes through [`call_raw`]; nothing else in this crate names a tier.
//!
//! - [`Strategy::Interpreter`]: the interpreter runs every Wasm function and host function.
//! - [`Strategy::Jit`]: [`prepare_module`] compiles every function of a module when it is
//!   created; [`instantiated`] attaches that code to each new instance's functions in the
//!   store; [`call_raw`] enters compiled code for a Wasm function whose module was compiled
//!   (compiled code then calls other compiled functions natively, host functions through
//!   the JIT's host-call entry, and uncompiled ones back through [`call_raw`], its call
//!   hook).
//! - [`Strategy::Tiered`]: modules start uncompiled, so calls start in the interpreter. Each
//!   store gets a `kestrel_vm::Tiering` ([`store_tiering`]): thresholds, and [`TierUpHooks`],
//!   which the interpreter calls (it knows no other tier) when a function gets hot and when
//!   it calls a function whose `TierSlots::native_ready` flag is set. A hot function is
//!   compiled alone (`kestrel_jit::compile_function`: its own small code allocation, its
//!   calls to other defined functions going through the store's `VMFuncRef`s) on the
//!   process's compiler thread ([`compile_in_background`]; synchronously when
//!   `Config::tiering_in_background(false)`, which the spec harness uses for determinism),
//!   then its `native_ready` flag is set (the atomic switch). From then on every path
//!   reaches native code: [`call_raw`] (the API, and compiled code calling a function
//!   without a native entry) checks the flag; the interpreter's calls (direct, through
//!   imports, through tables) check it and go through [`TierUpHooks::call_native`];
//!   compiled code calls through the store's `VMFuncRef::native_call`, which is filled
//!   lazily ([`ensure_linked`]): the first call a store makes to a function compiled after
//!   its instance was linked takes the runtime path once and links it. Frames already
//!   running finish in their tier: without on-stack replacement, a function entered once
//!   that loops for a long time stays interpreted. Compiled code that calls a function
//!   still interpreted requests its compilation, and waits for it only when calls are
//!   nested deeply across the tiers ([`call_from_compiled`]).
//!
//!   Known costs: an interpreter → compiled call is a full entry ([`kestrel_jit::call`]:
//!   activation, stack limit, trampoline), dearer than an interpreted call, so a hot loop
//!   stuck in the interpreter that calls small compiled functions runs slower than with
//!   the interpreter alone; calls between tiered-up functions go through `VMFuncRef`s,
//!   slower than the whole-module JIT's direct calls.
//!
//! The choice is made per call from the callee's module, not from the engine, so it stays
//! right for any mix of modules.
//!
//! Stack limits (`StoreOpaque::stack_limits`: call depth and value stack for the
//! interpreter, native stack for compiled code, host re-entrancy for both) are enforced by
//! the tiers, which own `StoreOpaque::call_depth` and `reentrancy`: this layer adds no
//! bookkeeping of its own to the call path.

use crate::engine::TieringConfig;
use crate::{Config, Error, Result, Strategy};
use kestrel_vm::{FuncId, InstanceId, RuntimeModule, StoreOpaque, TierUp, Tiering, Trap};
use std::any::Any;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::Instant;

/// Calls `func` with the parameters in `values` (vm's raw encoding); on success the results
/// are in `values[..results]`. `values.len()` must be at least `max(params, results)` of the
/// function's type, and the parameters must have been type-checked against it.
#[inline]
pub(crate) fn call_raw(
    store: &mut StoreOpaque,
    data: &mut dyn Any,
    func: FuncId,
    values: &mut [u64],
) -> Result<(), Trap> {
    // Fast path: a function this store has linked to compiled code (every strategy that
    // links records the entry only once the function may run natively).
    if let Some((array_call, native_call, vmctx)) = store.array_call(func) {
        // SAFETY: the three values come from the store's record for `func`, and the caller
        // sized and type-checked `values` for `func` (this function's contract).
        return unsafe {
            kestrel_jit::call_array(
                store,
                data,
                array_call,
                native_call,
                vmctx,
                values,
                call_from_compiled,
            )
        };
    }
    // Not `store.func`, which clones a host function's `Arc`.
    let compiled = match store.wasm_func(func) {
        Some((instance, index)) => {
            let module = &store.instance(instance).module;
            if store.tiering.is_some() {
                // Tiered: compiled function by function, entered once switched.
                module
                    .tiers
                    .is_native_ready((index - module.info.num_imported_functions) as usize)
            } else {
                kestrel_jit::is_compiled(module)
            }
        }
        None => false,
    };
    if compiled {
        ensure_linked(store, func);
        kestrel_jit::call(store, data, func, values, call_from_compiled)
    } else {
        kestrel_interp::call(store, data, func, values)
    }
}

/// The call hook of compiled code: calls of functions without a native entry (host
/// functions, functions of uncompiled modules, and in a tiered store functions not yet
/// compiled or not yet linked in this store).
///
/// In a tiered store, an interpreted callee of compiled code is warm (its caller got hot),
/// so its compilation is requested at once, in the background; meanwhile it runs in the
/// interpreter. Once calls are nested [`SYNCHRONOUS_TIER_UP_NESTING`] entries deep, the
/// callee is compiled first, on this thread: otherwise a deep recursion through a
/// compiled and an interpreted function would cross the tiers at every call, each
/// crossing a nested entry costing host stack and `max_reentrancy`, and trap long before
/// the interpreter alone would. Compiling every callee synchronously instead would stall
/// short programs on compiles of whole call graphs (sightglass `regex`: 1.7 s instead of
/// 0.3 s).
fn call_from_compiled(
    store: &mut StoreOpaque,
    data: &mut dyn Any,
    func: FuncId,
    values: &mut [u64],
) -> Result<(), Trap> {
    if let (Some(tiering), Some((instance, index))) = (&store.tiering, store.wasm_func(func)) {
        let hooks = tiering.hooks.clone();
        let module = &store.instance(instance).module;
        let defined = (index - module.info.num_imported_functions) as usize;
        if !module.tiers.is_native_ready(defined) {
            if store.reentrancy >= SYNCHRONOUS_TIER_UP_NESTING {
                hooks.compile_now(store, instance, index);
            } else {
                hooks.hot(store, instance, index);
            }
        }
    }
    call_raw(store, data, func, values)
}

/// How many nested entries into the tiers (`StoreOpaque::reentrancy`) a call from
/// compiled code into the interpreter may sit under before the callee is compiled
/// synchronously: well below the default `max_reentrancy` (200), so a cross-tier
/// recursion switches to native calls long before it could exhaust it.
const SYNCHRONOUS_TIER_UP_NESTING: u32 = 16;

/// Attaches compiled code to the functions of `func`'s instance in this store if that has
/// not happened yet: instantiation attaches none (it does no per-function work), and tiered
/// mode compiles functions after their instances were made.
fn ensure_linked(store: &mut StoreOpaque, func: FuncId) {
    if !store.native_call(func).is_null() {
        return;
    }
    if let Some((instance, _)) = store.wasm_func(func) {
        kestrel_jit::link_instance(store, instance);
    }
}

/// The default strategy: tiered where the JIT runs, else the interpreter.
pub(crate) fn default_strategy() -> Strategy {
    if kestrel_jit::is_supported() {
        Strategy::Tiered
    } else {
        Strategy::Interpreter
    }
}

/// Checks that the configured strategy can run on this host.
pub(crate) fn check_config(config: &Config) -> Result<()> {
    let needs_jit = matches!(config.strategy, Strategy::Jit | Strategy::Tiered);
    if needs_jit && !kestrel_jit::is_supported() {
        return Err(Error::unsupported(
            "the JIT (`Strategy::Jit`, `Strategy::Tiered`) supports Linux on x86-64, AArch64 and RISC-V 64 only",
        ));
    }
    Ok(())
}

/// Prepares a new module's code for the configured strategy: compiles all of it for the JIT.
pub(crate) fn prepare_module(config: &Config, module: &RuntimeModule) -> Result<()> {
    match config.strategy {
        Strategy::Interpreter | Strategy::Tiered => Ok(()),
        Strategy::Jit => kestrel_jit::compile(module).map_err(Error::unsupported),
    }
}

/// The tiering state of a new store: `None` unless the strategy is tiered.
pub(crate) fn store_tiering(config: &Config) -> Option<Tiering> {
    (config.strategy == Strategy::Tiered).then(|| Tiering {
        call_threshold: config.tiering.calls,
        back_edge_threshold: config.tiering.back_edges,
        on_stack_replacement: config.tiering.on_stack_replacement,
        hooks: Arc::new(TierUpHooks(config.tiering)),
    })
}

/// What the interpreter calls in tiered mode.
struct TierUpHooks(TieringConfig);

impl TierUpHooks {
    /// Runs a compilation job on the compiler thread, or now when compiling synchronously.
    fn submit(&self, job: Job) {
        if self.0.background {
            compile_in_background(job, self.0.trace);
        } else {
            job();
        }
    }
}

impl TierUp for TierUpHooks {
    fn hot(&self, store: &mut StoreOpaque, instance: InstanceId, func_index: u32) {
        let module = store.instance(instance).module.clone();
        let defined = (func_index - module.info.num_imported_functions) as usize;
        if module.tiers.tier_up_requested[defined].swap(true, Ordering::AcqRel) {
            return;
        }
        let trace = self.0.trace;
        self.submit(Box::new(move || compile_hot(&module, func_index, trace)));
    }

    fn compile_now(&self, store: &mut StoreOpaque, instance: InstanceId, func_index: u32) {
        let module = store.instance(instance).module.clone();
        let defined = (func_index - module.info.num_imported_functions) as usize;
        let first = !module.tiers.tier_up_requested[defined].swap(true, Ordering::AcqRel);
        // Waits for a compilation of the function already under way, else does it (and
        // traces only the first request, so a function that cannot be compiled is reported
        // once).
        compile_hot(&module, func_index, self.0.trace && first);
    }

    fn call_native(
        &self,
        store: &mut StoreOpaque,
        data: &mut dyn Any,
        func: FuncId,
        values: &mut [u64],
    ) -> Result<(), Trap> {
        ensure_linked(store, func);
        kestrel_jit::call(store, data, func, values, call_from_compiled)
    }

    fn loop_hot(
        &self,
        store: &mut StoreOpaque,
        instance: InstanceId,
        func_index: u32,
        loop_ordinal: u32,
    ) {
        let module = store.instance(instance).module.clone();
        let defined = (func_index - module.info.num_imported_functions) as usize;
        if module.tiers.osr_requested[defined].swap(true, Ordering::AcqRel) {
            return;
        }
        let trace = self.0.trace;
        self.submit(Box::new(move || {
            compile_osr_entry(&module, func_index, loop_ordinal, trace);
        }));
    }

    fn enter_loop(
        &self,
        store: &mut StoreOpaque,
        data: &mut dyn Any,
        instance: InstanceId,
        func_index: u32,
        loop_ordinal: u32,
        state: &mut [u64],
    ) -> Result<(), Trap> {
        // The entry calls other functions through the store's `VMFuncRef`s.
        let func = store.instance(instance).funcs.get(func_index);
        ensure_linked(store, func);
        kestrel_jit::call_osr_entry(
            store,
            data,
            instance,
            func_index,
            loop_ordinal,
            state,
            call_from_compiled,
        )
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// Hands `job` to the process's one compiler thread, started on first use: tier-ups queue
/// rather than each taking a core. The thread is detached; modules are `Arc`s held by the
/// jobs, and a process that exits mid-compile loses nothing. If no thread can be made,
/// the function simply stays interpreted.
fn compile_in_background(job: Job, trace: bool) {
    static QUEUE: OnceLock<Option<Mutex<mpsc::Sender<Job>>>> = OnceLock::new();
    let queue = QUEUE.get_or_init(|| {
        let (sender, receiver) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("kestrel-tier-up".into())
            .spawn(move || {
                for job in receiver {
                    job();
                }
            })
            .ok()
            .map(|_| Mutex::new(sender))
    });
    let sent = queue.as_ref().is_some_and(|sender| {
        sender
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .send(job)
            .is_ok()
    });
    if !sent {
        not_compiled(trace, "cannot start the compiler thread");
    }
}

/// Compiles hot function `func_index` alone and switches it to native code.
fn compile_hot(module: &RuntimeModule, func_index: u32, trace: bool) {
    let start = Instant::now();
    let result = kestrel_jit::compile_function(module, func_index);
    let elapsed = start.elapsed();
    if let Err(error) = result {
        return not_compiled(trace, &error);
    }
    // A function compiled without an entry the other tiers can use stays interpreted.
    if !kestrel_jit::is_function_compiled(module, func_index) {
        return not_compiled(trace, &format!("function {func_index} has no entry"));
    }
    let defined = (func_index - module.info.num_imported_functions) as usize;
    module.tiers.native_ready[defined].store(true, Ordering::Release);
    if trace {
        eprintln!(
            "kestrel: tier-up: function {func_index}{} compiled in {:.3} ms",
            function_name(module, func_index),
            elapsed.as_secs_f64() * 1e3,
        );
    }
}

/// Compiles the on-stack-replacement entry of `func_index` for loop `loop_ordinal` and
/// makes it available to the running call.
fn compile_osr_entry(module: &RuntimeModule, func_index: u32, loop_ordinal: u32, trace: bool) {
    let start = Instant::now();
    if let Err(error) = kestrel_jit::compile_osr_entry(module, func_index, loop_ordinal) {
        return not_compiled(trace, &error);
    }
    let defined = (func_index - module.info.num_imported_functions) as usize;
    module.tiers.osr_ready[defined].store(loop_ordinal + 1, Ordering::Release);
    if trace {
        eprintln!(
            "kestrel: tier-up: loop {loop_ordinal} of function {func_index}{} compiled for \
             on-stack replacement in {:.3} ms",
            function_name(module, func_index),
            start.elapsed().as_secs_f64() * 1e3,
        );
    }
}

/// `` `name` `` from the name section, with a leading space, or nothing.
fn function_name(module: &RuntimeModule, func_index: u32) -> String {
    module
        .info
        .function_name(func_index)
        .map(|name| format!(" `{name}`"))
        .unwrap_or_default()
}

fn not_compiled(trace: bool, why: &str) {
    if trace {
        eprintln!("kestrel: tier-up: stays interpreted: {why}");
    }
}
