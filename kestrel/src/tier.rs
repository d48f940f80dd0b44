//! Tier dispatch: the one place that knows which engines exist and which runs a call.
//!
//! Every entry into code from the API (`Func::call`, `TypedFunc::call`, start functions)
//! goes through [`call_raw`]; nothing else in this crate names a tier.
//!
//! - [`Strategy::Interpreter`]: the interpreter runs every Wasm function and host function.
//! - [`Strategy::Jit`]: [`prepare_module`] compiles every function of a module when it is
//!   created; [`instantiated`] attaches that code to each new instance's functions in the
//!   store; [`call_raw`] enters compiled code for a Wasm function whose module was compiled
//!   (compiled code then calls other compiled functions natively, and host functions or
//!   uncompiled ones back through [`call_raw`], its call hook).
//! - [`Strategy::Tiered`]: modules start uncompiled, so calls start in the interpreter. Each
//!   store gets a `kestrel_vm::Tiering` ([`store_tiering`]): thresholds, and [`TierUpHooks`],
//!   which the interpreter calls (it knows no other tier) when a function gets hot and when
//!   it calls a function whose `TierSlots::native_ready` flag is set. A hot function's
//!   module is compiled with the JIT, on a background thread unless configured otherwise,
//!   then its functions' `native_ready` flags are set (the atomic switch). From then on
//!   every path reaches native code: [`call_raw`] (the API, and compiled code calling an
//!   uncompiled function) sees the compiled module; the interpreter's calls (direct,
//!   through imports, through tables) see the flag and go through
//!   [`TierUpHooks::call_native`]; compiled code calls compiled code directly, or through
//!   the store's `VMFuncRef::native_call`, which is filled lazily ([`ensure_linked`]) the
//!   first time a store calls into a module compiled after it was instantiated. Frames
//!   already running finish in their tier: without on-stack replacement, a function entered
//!   once that loops for a long time stays interpreted.
//!
//!   Compilation is per module for now: the first hot function compiles its whole module
//!   (the JIT links calls within a module directly), so one slow tier-up buys every
//!   function of the module.
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
use kestrel_vm::{
    FuncEntity, FuncId, InstanceId, RuntimeModule, StoreOpaque, TierUp, Tiering, Trap,
};
use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::Ordering;
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
    let compiled = match store.func(func) {
        FuncEntity::Wasm {
            instance, index, ..
        } => {
            let module = &store.instance(*instance).module;
            // A tiered store also asks whether this function has code that may be entered
            // (the JIT could translate it): the others of its module stay interpreted.
            kestrel_jit::is_compiled(module)
                && (store.tiering.is_none()
                    || module
                        .tiers
                        .is_native_ready((index - module.info.num_imported_functions) as usize))
        }
        FuncEntity::Host(_) => false,
    };
    if compiled {
        ensure_linked(store, func);
        kestrel_jit::call(store, data, func, values, call_raw)
    } else {
        kestrel_interp::call(store, data, func, values)
    }
}

/// Attaches compiled code to the functions of `func`'s instance in this store if that has
/// not happened yet (tiered mode compiles modules after they were instantiated).
fn ensure_linked(store: &mut StoreOpaque, func: FuncId) {
    if !store.func_refs()[func.index()].native_call.is_null() {
        return;
    }
    if let FuncEntity::Wasm { instance, .. } = *store.func(func) {
        kestrel_jit::link_instance(store, instance);
    }
}

/// Checks that the configured strategy can run on this host.
pub(crate) fn check_config(config: &Config) -> Result<()> {
    let needs_jit = matches!(config.strategy, Strategy::Jit | Strategy::Tiered);
    if needs_jit && !kestrel_jit::is_supported() {
        return Err(Error::unsupported(
            "the JIT (`Strategy::Jit`, `Strategy::Tiered`) supports x86-64 Linux only for now",
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

/// Attaches the tiers' code to a new instance's functions.
pub(crate) fn instantiated(store: &mut StoreOpaque, instance: InstanceId) {
    kestrel_jit::link_instance(store, instance);
}

/// The tiering state of a new store: `None` unless the strategy is tiered.
pub(crate) fn store_tiering(config: &Config) -> Option<Tiering> {
    (config.strategy == Strategy::Tiered).then(|| Tiering {
        call_threshold: config.tiering.calls,
        back_edge_threshold: config.tiering.back_edges,
        hooks: Arc::new(TierUpHooks(config.tiering)),
    })
}

/// What the interpreter calls in tiered mode.
struct TierUpHooks(TieringConfig);

impl TierUp for TierUpHooks {
    fn hot(&self, store: &mut StoreOpaque, instance: InstanceId, func_index: u32) {
        let module = store.instance(instance).module.clone();
        if module.tiers.tier_up_requested.swap(true, Ordering::AcqRel) {
            return;
        }
        let trace = self.0.trace;
        let job = move || compile_hot(&module, func_index, trace);
        if !self.0.background {
            return job();
        }
        // A detached thread: the module (an `Arc`) outlives it whatever the stores do, and
        // a process that exits mid-compile loses nothing. If no thread can be made, the
        // module simply stays interpreted.
        let spawned = std::thread::Builder::new()
            .name("kestrel-tier-up".into())
            .spawn(job);
        if spawned.is_err() {
            module_not_compiled(trace, "cannot start a compiler thread");
        }
    }

    fn call_native(
        &self,
        store: &mut StoreOpaque,
        data: &mut dyn Any,
        func: FuncId,
        values: &mut [u64],
    ) -> Result<(), Trap> {
        ensure_linked(store, func);
        kestrel_jit::call(store, data, func, values, call_raw)
    }
}

/// Compiles the module of hot function `func_index` and switches its functions to native
/// code.
fn compile_hot(module: &RuntimeModule, func_index: u32, trace: bool) {
    let start = Instant::now();
    let result = kestrel_jit::compile(module);
    let elapsed = start.elapsed();
    match result {
        Ok(()) => {
            // Functions the JIT could not translate (or enter from another tier) stay
            // interpreted when called from the interpreter.
            let first = module.info.num_imported_functions;
            for (defined, ready) in module.tiers.native_ready.iter().enumerate() {
                if kestrel_jit::is_function_compiled(module, first + defined as u32) {
                    ready.store(true, Ordering::Release);
                }
            }
            if trace {
                let name = module
                    .info
                    .function_name(func_index)
                    .map(|name| format!(" `{name}`"))
                    .unwrap_or_default();
                eprintln!(
                    "kestrel: tier-up: function {func_index}{name} is hot; compiled its module \
                     ({} functions) in {:.3} ms",
                    module.tiers.native_ready.len(),
                    elapsed.as_secs_f64() * 1e3,
                );
            }
        }
        Err(error) => module_not_compiled(trace, &error),
    }
}

fn module_not_compiled(trace: bool, why: &str) {
    if trace {
        eprintln!("kestrel: tier-up: module stays interpreted: {why}");
    }
}
