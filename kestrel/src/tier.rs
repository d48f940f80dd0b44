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
//!
//! The choice is made per call from the callee's module, not from the engine, so it stays
//! right for any mix of modules.
//!
//! Stack limits (`StoreOpaque::stack_limits`: call depth and value stack for the
//! interpreter, native stack for compiled code, host re-entrancy for both) are enforced by
//! the tiers, which own `StoreOpaque::call_depth` and `reentrancy`: this layer adds no
//! bookkeeping of its own to the call path.

use crate::{Config, Error, Result, Strategy};
use kestrel_vm::{FuncEntity, FuncId, InstanceId, RuntimeModule, StoreOpaque, Trap};
use std::any::Any;

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
        FuncEntity::Wasm { instance, .. } => {
            kestrel_jit::is_compiled(&store.instance(*instance).module)
        }
        FuncEntity::Host(_) => false,
    };
    if compiled {
        kestrel_jit::call(store, data, func, values, call_raw)
    } else {
        kestrel_interp::call(store, data, func, values)
    }
}

/// Checks that the configured strategy can run on this host.
pub(crate) fn check_config(config: &Config) -> Result<()> {
    if config.strategy == Strategy::Jit && !kestrel_jit::is_supported() {
        return Err(Error::unsupported(
            "the JIT (`Strategy::Jit`) supports x86-64 Linux only for now",
        ));
    }
    Ok(())
}

/// Prepares a new module's code for the configured strategy: compiles all of it for the JIT.
pub(crate) fn prepare_module(config: &Config, module: &RuntimeModule) -> Result<()> {
    match config.strategy {
        Strategy::Interpreter => Ok(()),
        Strategy::Jit => kestrel_jit::compile(module).map_err(Error::unsupported),
    }
}

/// Attaches the tiers' code to a new instance's functions.
pub(crate) fn instantiated(store: &mut StoreOpaque, instance: InstanceId) {
    kestrel_jit::link_instance(store, instance);
}
