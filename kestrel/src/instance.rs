//! [`Instance`]: an instantiated module, and the one instantiation path shared by
//! [`Instance::new`] and [`Linker::instantiate`](crate::Linker::instantiate).
//!
//! Import matching, allocation, constant expressions and segment initialisation are vm's
//! (`kestrel_vm::instantiate`); this module checks the engine, then runs the start function
//! through the tier, and maps exports to handles.

use crate::store::assert_same_store;
use crate::typed::{WasmParams, WasmResults};
use crate::{
    AsContextMut, Error, Extern, Func, Global, Memory, Module, Result, StoreContextMut, Table,
    TypedFunc,
};
use kestrel_parser::{Export, ExternKind};
use kestrel_vm::{InstanceId, StoreId, StoreOpaque};

/// An instance of a module in a store: a handle (`Copy`), valid only with that store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Instance {
    pub(crate) store: StoreId,
    pub(crate) id: InstanceId,
}

impl Instance {
    /// Instantiates `module` with `imports` given in the module's import order
    /// ([`Module::imports`]), then runs its start function.
    ///
    /// Fails with [`ErrorKind::Link`](crate::ErrorKind::Link) when the imports do not match,
    /// [`ErrorKind::Trap`](crate::ErrorKind::Trap) when a segment does not fit or the start
    /// function traps, and [`ErrorKind::Usage`](crate::ErrorKind::Usage) when the module
    /// belongs to another engine than the store.
    ///
    /// # Panics
    ///
    /// If an import belongs to another store.
    pub fn new(
        mut store: impl AsContextMut,
        module: &Module,
        imports: &[Extern],
    ) -> Result<Instance> {
        let context = store.as_context_mut();
        let store_id = context.opaque.id();
        let imports: Vec<kestrel_vm::Extern> = imports
            .iter()
            .map(|import| import.to_vm(store_id))
            .collect();
        instantiate(context, module, &imports)
    }

    /// The export called `name`, if any.
    ///
    /// # Panics
    ///
    /// If `store` is not the instance's store (as for every method taking a store).
    pub fn get_export(&self, mut store: impl AsContextMut, name: &str) -> Option<Extern> {
        let context = store.as_context_mut();
        assert_same_store(self.store, context.opaque.id());
        self.export(context.opaque, name)
    }

    /// The exported function called `name`, if any.
    pub fn get_func(&self, store: impl AsContextMut, name: &str) -> Option<Func> {
        self.get_export(store, name)?.into_func()
    }

    /// The exported memory called `name`, if any.
    pub fn get_memory(&self, store: impl AsContextMut, name: &str) -> Option<Memory> {
        self.get_export(store, name)?.into_memory()
    }

    /// The exported table called `name`, if any.
    pub fn get_table(&self, store: impl AsContextMut, name: &str) -> Option<Table> {
        self.get_export(store, name)?.into_table()
    }

    /// The exported global called `name`, if any.
    pub fn get_global(&self, store: impl AsContextMut, name: &str) -> Option<Global> {
        self.get_export(store, name)?.into_global()
    }

    /// The exported function called `name`, with its type checked against `Params` and
    /// `Results`.
    ///
    /// Fails with [`ErrorKind::Usage`](crate::ErrorKind::Usage) when there is no such
    /// function or its type differs.
    pub fn get_typed_func<Params: WasmParams, Results: WasmResults>(
        &self,
        mut store: impl AsContextMut,
        name: &str,
    ) -> Result<TypedFunc<Params, Results>> {
        let func = self
            .get_func(&mut store, name)
            .ok_or_else(|| Error::usage(format!("failed to find function export `{name}`")))?;
        func.typed(&store)
    }

    /// Every export, in declaration order, with its name. (Exception tags, which the API
    /// cannot represent yet, are left out.)
    pub fn exports(&self, mut store: impl AsContextMut) -> Vec<(String, Extern)> {
        let context = store.as_context_mut();
        assert_same_store(self.store, context.opaque.id());
        let module = context.opaque.instance(self.id).module.clone();
        module
            .info
            .exports
            .iter()
            .filter_map(|export| {
                let item = self.export_item(context.opaque, export)?;
                Some((export.name.clone(), item))
            })
            .collect()
    }

    /// The export called `name`; the caller has checked the store.
    pub(crate) fn export(&self, store: &StoreOpaque, name: &str) -> Option<Extern> {
        let export = store.instance(self.id).module.info.export(name)?;
        self.export_item(store, export)
    }

    fn export_item(&self, store: &StoreOpaque, export: &Export) -> Option<Extern> {
        let instance = store.instance(self.id);
        let index = export.index as usize;
        let store = self.store;
        Some(match export.kind {
            ExternKind::Func => Extern::Func(Func {
                store,
                id: instance.funcs.get(export.index),
            }),
            ExternKind::Table => Extern::Table(Table {
                store,
                id: instance.tables[index],
            }),
            ExternKind::Memory => Extern::Memory(Memory {
                store,
                id: instance.memories[index],
            }),
            ExternKind::Global => Extern::Global(Global {
                store,
                id: instance.globals[index],
            }),
            ExternKind::Tag => return None,
        })
    }
}

/// Instantiates `module` with resolved `imports` and runs its start function.
pub(crate) fn instantiate<T: 'static>(
    context: StoreContextMut<'_, T>,
    module: &Module,
    imports: &[kestrel_vm::Extern],
) -> Result<Instance> {
    if !std::sync::Arc::ptr_eq(module.engine().registry(), &context.opaque.registry) {
        return Err(Error::usage(
            "cross-engine instantiation is not supported: the module and the store were made \
             with different engines",
        ));
    }
    context
        .opaque
        .check_instantiation_limits(context.data, module.info())
        .map_err(Error::resource)?;
    // No code is attached here: `tier.rs` links an instance's compiled code when a call
    // first reaches one of its compiled functions, so instantiation does no per-function
    // work whatever the strategy.
    let id = kestrel_vm::instantiate(context.opaque, module.runtime(), imports)?;
    if let Some(start) = module.info().start {
        let func = context.opaque.instance(id).funcs.get(start);
        crate::tier::call_raw(context.opaque, context.data, func, &mut [])
            .map_err(|trap| Error::from_trap(context.opaque, trap))?;
    }
    Ok(Instance {
        store: context.opaque.id(),
        id,
    })
}
