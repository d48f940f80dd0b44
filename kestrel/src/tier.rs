//! Tier dispatch: the one place that knows which engine runs a call.
//!
//! Every entry into code from the API (`Func::call`, `TypedFunc::call`, start functions)
//! goes through [`call_raw`]; nothing else in this crate names a tier. Today the only tier is
//! the interpreter, which also runs host functions. A JIT tier will be chosen here.
//!
//! Stack limits (`StoreOpaque::stack_limits`: call depth, value stack, host re-entrancy) are
//! enforced by the tier, which owns `StoreOpaque::call_depth` and `reentrancy`: this layer
//! adds no bookkeeping of its own to the call path.

use kestrel_vm::{FuncId, StoreOpaque, Trap};
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
    kestrel_interp::call(store, data, func, values)
}
