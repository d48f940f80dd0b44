//! [`Extern`]: any item an instance can import or export, and its conversion to vm's
//! `Extern` (where the handle's store is checked).

use crate::store::assert_same_store;
use crate::{AsContext, ExternType, Func, Global, Memory, Table};
use kestrel_vm::StoreId;

/// A function, memory, table or global: what an import takes and an export gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Extern {
    Func(Func),
    Memory(Memory),
    Table(Table),
    Global(Global),
}

impl Extern {
    /// The function, if this is one.
    pub fn into_func(self) -> Option<Func> {
        match self {
            Extern::Func(func) => Some(func),
            _ => None,
        }
    }

    /// The memory, if this is one.
    pub fn into_memory(self) -> Option<Memory> {
        match self {
            Extern::Memory(memory) => Some(memory),
            _ => None,
        }
    }

    /// The table, if this is one.
    pub fn into_table(self) -> Option<Table> {
        match self {
            Extern::Table(table) => Some(table),
            _ => None,
        }
    }

    /// The global, if this is one.
    pub fn into_global(self) -> Option<Global> {
        match self {
            Extern::Global(global) => Some(global),
            _ => None,
        }
    }

    /// The item's current type.
    ///
    /// # Panics
    ///
    /// If `store` is not the item's store.
    pub fn ty(&self, store: impl AsContext) -> ExternType {
        match self {
            Extern::Func(func) => ExternType::Func(func.ty(store)),
            Extern::Memory(memory) => ExternType::Memory(memory.ty(store)),
            Extern::Table(table) => ExternType::Table(table.ty(store)),
            Extern::Global(global) => ExternType::Global(global.ty(store)),
        }
    }

    /// The store the item belongs to.
    pub(crate) fn store(&self) -> StoreId {
        match self {
            Extern::Func(func) => func.store,
            Extern::Memory(memory) => memory.store,
            Extern::Table(table) => table.store,
            Extern::Global(global) => global.store,
        }
    }

    /// The vm entity, checking that it belongs to store `store`.
    #[track_caller]
    pub(crate) fn to_vm(self, store: StoreId) -> kestrel_vm::Extern {
        assert_same_store(self.store(), store);
        match self {
            Extern::Func(func) => kestrel_vm::Extern::Func(func.id),
            Extern::Memory(memory) => kestrel_vm::Extern::Memory(memory.id),
            Extern::Table(table) => kestrel_vm::Extern::Table(table.id),
            Extern::Global(global) => kestrel_vm::Extern::Global(global.id),
        }
    }
}

impl From<Func> for Extern {
    fn from(func: Func) -> Extern {
        Extern::Func(func)
    }
}

impl From<Memory> for Extern {
    fn from(memory: Memory) -> Extern {
        Extern::Memory(memory)
    }
}

impl From<Table> for Extern {
    fn from(table: Table) -> Extern {
        Extern::Table(table)
    }
}

impl From<Global> for Extern {
    fn from(global: Global) -> Extern {
        Extern::Global(global)
    }
}
