//! The interpreter tier (being written).

use kestrel_vm::{FuncId, StoreOpaque, Trap};
use std::any::Any;

/// Calls `func` with the parameters in `values` (raw encoding of `kestrel_vm::value`);
/// on success the results are in `values[..results]`. `values.len()` must be at least
/// `max(params, results)` of the function's type.
pub fn call(
    store: &mut StoreOpaque,
    data: &mut dyn Any,
    func: FuncId,
    values: &mut [u64],
) -> Result<(), Trap> {
    let _ = (store, data, func, values);
    todo!()
}
