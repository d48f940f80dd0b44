//! [`StoreLimits`] and [`StoreLimitsBuilder`]: how much a store may allocate, in Wasmtime's
//! shape. The limits live in the store's data and are found through
//! [`Store::limiter`](crate::Store::limiter); vm's `StoreOpaque` consults them wherever a
//! memory or table grows (every tier's `memory.grow` and `table.grow`, and the API's) and
//! before instantiation. Growth past a limit fails the way growth past a maximum does
//! (`memory.grow` returns -1, never a trap); instantiation or creation past one fails with
//! an error of kind [`ErrorKind::Resource`](crate::ErrorKind::Resource).

pub use kestrel_vm::StoreLimits;

/// Builds a [`StoreLimits`]; anything not set is unlimited (counts default to 10 000, as in
/// Wasmtime).
#[derive(Debug, Clone, Default)]
pub struct StoreLimitsBuilder {
    limits: StoreLimits,
}

impl StoreLimitsBuilder {
    /// No limits yet.
    pub fn new() -> StoreLimitsBuilder {
        StoreLimitsBuilder::default()
    }

    /// The most bytes any one linear memory may have.
    pub fn memory_size(mut self, bytes: usize) -> StoreLimitsBuilder {
        self.limits.memory_size = Some(bytes);
        self
    }

    /// The most elements any one table may have.
    pub fn table_elements(mut self, elements: usize) -> StoreLimitsBuilder {
        self.limits.table_elements = Some(elements);
        self
    }

    /// The most instances in the store.
    pub fn instances(mut self, instances: usize) -> StoreLimitsBuilder {
        self.limits.instances = instances;
        self
    }

    /// The most tables in the store.
    pub fn tables(mut self, tables: usize) -> StoreLimitsBuilder {
        self.limits.tables = tables;
        self
    }

    /// The most linear memories in the store.
    pub fn memories(mut self, memories: usize) -> StoreLimitsBuilder {
        self.limits.memories = memories;
        self
    }

    /// The limits.
    pub fn build(self) -> StoreLimits {
        self.limits
    }
}
