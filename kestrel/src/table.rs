//! [`Table`]: tables of references, seen from the host.
//!
//! The table itself is vm's `Table` of raw references; this module converts between raw
//! elements and [`Val`]s, checking the element type on the way in.

use crate::store::assert_same_store;
use crate::values::representable;
use crate::{AsContext, AsContextMut, Error, Result, TableType, Val, ValType};
use kestrel_vm::{StoreId, StoreOpaque, TableId};

/// A table: a handle (`Copy`), valid only with the store that made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Table {
    pub(crate) store: StoreId,
    pub(crate) id: TableId,
}

impl Table {
    /// Creates a table of `ty.limits.minimum` elements, each `init`.
    ///
    /// Fails with [`ErrorKind::Usage`](crate::ErrorKind::Usage) when `init` is not of the
    /// element type or the minimum exceeds the maximum,
    /// [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported) for element types the API
    /// cannot represent, and [`ErrorKind::Resource`](crate::ErrorKind::Resource) when the
    /// table is too large.
    ///
    /// # Panics
    ///
    /// If `init` is a reference from another store.
    pub fn new(mut store: impl AsContextMut, ty: TableType, init: Val) -> Result<Table> {
        let context = store.as_context_mut();
        let element = ValType::Ref(ty.element_type);
        if !representable(element) {
            return Err(Error::unsupported(format!(
                "tables of {element} cannot be created through the API yet"
            )));
        }
        if ty
            .limits
            .maximum
            .is_some_and(|maximum| maximum < ty.limits.minimum)
        {
            return Err(Error::usage(
                "table size minimum must not be greater than maximum",
            ));
        }
        let init = element_raw(context.opaque, element, init)?;
        context
            .opaque
            .check_table_limits(context.data, &ty)
            .map_err(Error::resource)?;
        let table = kestrel_vm::Table::new(ty, init).map_err(Error::resource)?;
        Ok(Table {
            store: context.opaque.id(),
            id: context.opaque.push_table(table),
        })
    }

    /// The table's type, with its current size as the minimum (which is what import matching
    /// compares).
    ///
    /// # Panics
    ///
    /// If `store` is not the table's store (as for every method taking a store).
    pub fn ty(&self, store: impl AsContext) -> TableType {
        let table = self.entity(store.as_context().opaque);
        let mut ty = table.ty();
        ty.limits.minimum = table.size();
        ty
    }

    /// The number of elements.
    pub fn size(&self, store: impl AsContext) -> u64 {
        self.entity(store.as_context().opaque).size()
    }

    /// The element at `index`, or `None` past the end.
    pub fn get(&self, store: impl AsContext, index: u64) -> Option<Val> {
        let context = store.as_context();
        let table = self.entity(context.opaque);
        let raw = table.get(index).ok()?;
        Some(Val::from_raw(
            self.store,
            raw as u128,
            ValType::Ref(table.ty().element_type),
        ))
    }

    /// Sets the element at `index`.
    ///
    /// Fails with [`ErrorKind::Usage`](crate::ErrorKind::Usage) when `value` is not of the
    /// element type or `index` is past the end.
    ///
    /// # Panics
    ///
    /// If `value` is a reference from another store.
    pub fn set(&self, mut store: impl AsContextMut, index: u64, value: Val) -> Result<()> {
        let context = store.as_context_mut();
        let element = ValType::Ref(self.entity(context.opaque).ty().element_type);
        let raw = element_raw(context.opaque, element, value)?;
        context
            .opaque
            .table_mut(self.id)
            .set(index, raw)
            .map_err(|code| Error::usage(code.message()))
    }

    /// Grows the table by `delta` elements set to `init` and returns the old size.
    ///
    /// Fails with [`ErrorKind::Usage`](crate::ErrorKind::Usage) when `init` is not of the
    /// element type, and [`ErrorKind::Resource`](crate::ErrorKind::Resource) past the maximum;
    /// the table is then unchanged.
    ///
    /// # Panics
    ///
    /// If `init` is a reference from another store.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64, init: Val) -> Result<u64> {
        let context = store.as_context_mut();
        let element = ValType::Ref(self.entity(context.opaque).ty().element_type);
        let raw = element_raw(context.opaque, element, init)?;
        assert_same_store(self.store, context.opaque.id());
        context
            .opaque
            .grow_table(context.data, self.id, delta, raw)
            .ok_or_else(|| Error::resource(format!("failed to grow table by {delta} elements")))
    }

    fn entity<'a>(&self, store: &'a StoreOpaque) -> &'a kestrel_vm::Table {
        assert_same_store(self.store, store.id());
        store.table(self.id)
    }
}

/// `value` as a raw element of type `element`.
fn element_raw(store: &StoreOpaque, element: ValType, value: Val) -> Result<u64> {
    if !value.matches(store, element, None) {
        return Err(Error::usage(format!(
            "type mismatch: a table of {element} cannot hold a {} value",
            value.ty()
        )));
    }
    Ok(value.to_raw(store.id()) as u64)
}
