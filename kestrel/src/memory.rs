//! [`Memory`]: linear memories, seen from the host.
//!
//! The memory itself is vm's `LinearMemory` (reservation, growth, bounds); this module checks
//! a host-made memory's type, and lends the bytes for as long as the store is borrowed.

use crate::store::assert_same_store;
use crate::{AsContext, AsContextMut, Error, MemoryType, Result, StoreContext, StoreContextMut};
use kestrel_vm::{LinearMemory, MemoryId, StoreId};

/// A linear memory: a handle (`Copy`), valid only with the store that made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Memory {
    pub(crate) store: StoreId,
    pub(crate) id: MemoryId,
}

impl Memory {
    /// Creates a memory of `ty.limits.minimum` zeroed pages.
    ///
    /// Fails with [`ErrorKind::Usage`](crate::ErrorKind::Usage) for an invalid type (minimum
    /// above maximum, limits beyond what the index type addresses, a page size other than 1
    /// or 64 KiB), [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported) for a shared
    /// memory, and [`ErrorKind::Resource`](crate::ErrorKind::Resource) when the host cannot
    /// provide it.
    pub fn new(mut store: impl AsContextMut, ty: MemoryType) -> Result<Memory> {
        let context = store.as_context_mut();
        check_type(&ty)?;
        context
            .opaque
            .check_memory_limits(context.data, &ty)
            .map_err(Error::resource)?;
        let memory = LinearMemory::new(ty, &context.opaque.memory_config)
            .map_err(|error| Error::resource(error.0))?;
        Ok(Memory {
            store: context.opaque.id(),
            id: context.opaque.push_memory(memory),
        })
    }

    /// The memory's type, with its current size as the minimum (which is what import
    /// matching compares).
    ///
    /// # Panics
    ///
    /// If `store` is not the memory's store (as for every method taking a store).
    pub fn ty(&self, store: impl AsContext) -> MemoryType {
        let memory = self.get(store.as_context());
        let mut ty = memory.ty();
        ty.limits.minimum = memory.size_in_pages();
        ty
    }

    /// The current size in pages.
    pub fn size(&self, store: impl AsContext) -> u64 {
        self.get(store.as_context()).size_in_pages()
    }

    /// The current size in bytes.
    pub fn data_size(&self, store: impl AsContext) -> usize {
        self.get(store.as_context()).size_in_bytes()
    }

    /// The memory's bytes, borrowed as long as the store is.
    pub fn data<'a, T: 'static>(&self, store: impl Into<StoreContext<'a, T>>) -> &'a [u8] {
        self.get(store.into()).data()
    }

    /// The memory's bytes, mutably, borrowed as long as the store is.
    pub fn data_mut<'a, T: 'static>(
        &self,
        store: impl Into<StoreContextMut<'a, T>>,
    ) -> &'a mut [u8] {
        self.data_and_store_mut(store).0
    }

    /// The memory's bytes and the store's data, both mutably: what a host function needs to
    /// copy between Wasm memory and its own state.
    pub fn data_and_store_mut<'a, T: 'static>(
        &self,
        store: impl Into<StoreContextMut<'a, T>>,
    ) -> (&'a mut [u8], &'a mut T) {
        let StoreContextMut { opaque, data } = store.into();
        assert_same_store(self.store, opaque.id());
        (opaque.memory_mut(self.id).data_mut(), data)
    }

    /// Copies `buffer.len()` bytes at `offset` into `buffer`.
    ///
    /// Fails with [`ErrorKind::Usage`](crate::ErrorKind::Usage) ("out of bounds memory
    /// access"), copying nothing, when any of them lie outside the memory.
    pub fn read(&self, store: impl AsContext, offset: usize, buffer: &mut [u8]) -> Result<()> {
        self.get(store.as_context())
            .read(offset as u64, buffer)
            .map_err(out_of_bounds)
    }

    /// Copies `bytes` to `offset`.
    ///
    /// Fails with [`ErrorKind::Usage`](crate::ErrorKind::Usage) ("out of bounds memory
    /// access"), copying nothing, when any of them would fall outside the memory.
    pub fn write(&self, mut store: impl AsContextMut, offset: usize, bytes: &[u8]) -> Result<()> {
        let context = store.as_context_mut();
        assert_same_store(self.store, context.opaque.id());
        context
            .opaque
            .memory_mut(self.id)
            .write(offset as u64, bytes)
            .map_err(out_of_bounds)
    }

    /// Grows the memory by `delta` zeroed pages and returns the old size in pages.
    ///
    /// Fails with [`ErrorKind::Resource`](crate::ErrorKind::Resource) past the maximum or when
    /// the host refuses the memory; the memory is then unchanged.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64) -> Result<u64> {
        let context = store.as_context_mut();
        assert_same_store(self.store, context.opaque.id());
        assert_same_store(self.store, context.opaque.id());
        context
            .opaque
            .grow_memory(context.data, self.id, delta)
            .ok_or_else(|| Error::resource(format!("failed to grow memory by {delta} pages")))
    }

    fn get<'a, T: 'static>(&self, context: StoreContext<'a, T>) -> &'a LinearMemory {
        assert_same_store(self.store, context.opaque.id());
        context.opaque.memory(self.id)
    }
}

#[cold]
fn out_of_bounds(code: kestrel_vm::TrapCode) -> Error {
    Error::usage(code.message())
}

/// What the validator would check of a memory type in a module.
fn check_type(ty: &MemoryType) -> Result<()> {
    if ty.shared {
        return Err(Error::unsupported("shared memories are not supported yet"));
    }
    if ty.page_size_log2 != 0 && ty.page_size_log2 != 16 {
        return Err(Error::usage(format!(
            "invalid page size: 2^{} bytes (must be 1 or 65536)",
            ty.page_size_log2
        )));
    }
    let limits = ty.limits;
    let absolute = ty.absolute_maximum_pages();
    if limits
        .maximum
        .is_some_and(|maximum| maximum < limits.minimum)
    {
        return Err(Error::usage(
            "memory size minimum must not be greater than maximum",
        ));
    }
    if limits.minimum > absolute || limits.maximum.is_some_and(|maximum| maximum > absolute) {
        return Err(Error::usage(format!(
            "memory size must be at most {absolute} pages"
        )));
    }
    Ok(())
}
