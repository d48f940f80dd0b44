//! [`Linker`]: definitions by `(module, name)`, resolved into a module's imports.
//!
//! A definition is either an item of a store ([`Extern`]) or a host function not yet in any
//! store (vm's `HostFunc`, shared by `Arc`), which is added to the store it is instantiated
//! in. Resolution produces vm `Extern`s in the module's import order; matching their types is
//! vm's job (`kestrel_vm::instantiate`), and so are its error messages.

use crate::func::{dynamic_callback, host_func};
use crate::store::assert_same_store;
use crate::values::representable;
use crate::{
    AsContext, AsContextMut, Caller, Engine, Error, Extern, Func, FuncType, Instance, IntoFunc,
    Module, Result, Val,
};
use kestrel_parser::ImportKind;
use kestrel_vm::HostFunc;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

/// Names items so modules' imports can be resolved, then instantiates modules (or prepares
/// them for fast repeated instantiation: [`Linker::instantiate_pre`]).
///
/// `T` is the data type of the stores it instantiates in (host functions defined here receive
/// a [`Caller<'_, T>`]).
pub struct Linker<T> {
    engine: Engine,
    definitions: HashMap<String, HashMap<String, Definition>>,
    allow_shadowing: bool,
    _data: PhantomData<fn() -> T>,
}

#[derive(Clone)]
enum Definition {
    Extern(Extern),
    HostFunc(Arc<HostFunc>),
}

impl<T> Clone for Linker<T> {
    fn clone(&self) -> Self {
        Linker {
            engine: self.engine.clone(),
            definitions: self.definitions.clone(),
            allow_shadowing: self.allow_shadowing,
            _data: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Linker<T> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Linker")
            .field(
                "definitions",
                &self.definitions.values().map(HashMap::len).sum::<usize>(),
            )
            .field("allow_shadowing", &self.allow_shadowing)
            .finish_non_exhaustive()
    }
}

impl<T: 'static> Linker<T> {
    /// An empty linker for modules and stores of `engine`.
    pub fn new(engine: &Engine) -> Linker<T> {
        Linker {
            engine: engine.clone(),
            definitions: HashMap::new(),
            allow_shadowing: false,
            _data: PhantomData,
        }
    }

    /// The engine this linker was made for.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Whether defining a name twice replaces the first definition (`true`) or fails
    /// (`false`, the default).
    pub fn allow_shadowing(&mut self, allow: bool) -> &mut Self {
        self.allow_shadowing = allow;
        self
    }

    /// Defines a host function from a closure, as [`Func::wrap`] does. It is added to each
    /// store the linker instantiates a module importing it in.
    ///
    /// Fails with [`ErrorKind::Link`](crate::ErrorKind::Link) when the name is taken and
    /// shadowing is not allowed.
    pub fn func_wrap<Params, Results>(
        &mut self,
        module: &str,
        name: &str,
        func: impl IntoFunc<T, Params, Results>,
    ) -> Result<&mut Self> {
        let (ty, callback) = func.into_host_func();
        let host = host_func(self.engine.registry(), Arc::new(ty), callback);
        self.insert(module, name, Definition::HostFunc(host))?;
        Ok(self)
    }

    /// Defines a dynamically typed host function, as [`Func::new`] does.
    ///
    /// Fails with [`ErrorKind::Link`](crate::ErrorKind::Link) when the name is taken and
    /// shadowing is not allowed, and [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported)
    /// when `ty` has values the API cannot pass (GC references).
    pub fn func_new(
        &mut self,
        module: &str,
        name: &str,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Result<&mut Self> {
        if let Some(unsupported) = ty
            .params()
            .iter()
            .chain(ty.results())
            .find(|ty| !representable(**ty))
        {
            return Err(Error::unsupported(format!(
                "host functions with {unsupported} parameters or results are not supported yet"
            )));
        }
        let ty = Arc::new(ty);
        let callback = dynamic_callback(ty.clone(), func);
        let host = host_func(self.engine.registry(), ty, callback);
        self.insert(module, name, Definition::HostFunc(host))?;
        Ok(self)
    }

    /// Defines an item of `store` under `module`/`name`.
    ///
    /// Fails with [`ErrorKind::Link`](crate::ErrorKind::Link) when the name is taken and
    /// shadowing is not allowed.
    ///
    /// # Panics
    ///
    /// If `item` does not belong to `store`.
    pub fn define(
        &mut self,
        store: impl AsContext<Data = T>,
        module: &str,
        name: &str,
        item: impl Into<Extern>,
    ) -> Result<&mut Self> {
        let item = item.into();
        assert_same_store(item.store(), store.as_context().opaque.id());
        self.insert(module, name, Definition::Extern(item))?;
        Ok(self)
    }

    /// Defines every export of `instance` under `module`.
    ///
    /// Fails with [`ErrorKind::Link`](crate::ErrorKind::Link) when a name is taken and
    /// shadowing is not allowed (the exports before it stay defined).
    ///
    /// # Panics
    ///
    /// If `instance` does not belong to `store`.
    pub fn instance(
        &mut self,
        mut store: impl AsContextMut<Data = T>,
        module: &str,
        instance: Instance,
    ) -> Result<&mut Self> {
        for (name, item) in instance.exports(&mut store) {
            self.insert(module, &name, Definition::Extern(item))?;
        }
        Ok(self)
    }

    /// The item defined as `module`/`name`, if any. A host function defined with
    /// [`func_wrap`](Linker::func_wrap) or [`func_new`](Linker::func_new) is added to `store`
    /// (anew on each call).
    ///
    /// # Panics
    ///
    /// If `store` belongs to another engine than the linker.
    pub fn get(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &str,
        name: &str,
    ) -> Option<Extern> {
        let context = store.as_context_mut();
        assert!(
            Arc::ptr_eq(self.engine.registry(), &context.opaque.registry),
            "Linker::get: the store belongs to another engine than the linker"
        );
        Some(match self.definitions.get(module)?.get(name)? {
            Definition::Extern(item) => *item,
            Definition::HostFunc(host) => {
                Extern::Func(Func::push_host(context.opaque, host.clone()))
            }
        })
    }

    /// Resolves `module`'s imports to this linker's definitions and instantiates it, as
    /// [`Instance::new`] does.
    ///
    /// Fails with [`ErrorKind::Link`](crate::ErrorKind::Link) when an import is not defined
    /// ("unknown import: `env::foo` has not been defined") or has the wrong type, and with
    /// [`ErrorKind::Usage`](crate::ErrorKind::Usage) when the linker, module and store do not
    /// share one engine or a definition belongs to another store.
    pub fn instantiate(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &Module,
    ) -> Result<Instance> {
        let context = store.as_context_mut();
        if !Arc::ptr_eq(self.engine.registry(), &context.opaque.registry) {
            return Err(cross_engine());
        }
        let resolved = self.resolve(module)?;
        instantiate_resolved(context, module, &resolved)
    }

    /// Resolves `module`'s imports to this linker's definitions once, for instantiating it
    /// many times with [`InstancePre::instantiate`]. Host functions defined with
    /// [`func_wrap`](Linker::func_wrap) or [`func_new`](Linker::func_new) are type-checked
    /// here; items of a store ([`define`](Linker::define)) are checked at each
    /// instantiation, which must then be in their store.
    ///
    /// Fails with [`ErrorKind::Link`](crate::ErrorKind::Link) when an import is not defined
    /// or a host function has the wrong type, and with
    /// [`ErrorKind::Usage`](crate::ErrorKind::Usage) when the linker and module do not share
    /// one engine.
    pub fn instantiate_pre(&self, module: &Module) -> Result<InstancePre<T>> {
        let resolved = self.resolve(module)?;
        Ok(InstancePre {
            module: module.clone(),
            resolved: resolved.into(),
            _data: PhantomData,
        })
    }

    /// The definition of each of `module`'s imports, in import order, with host functions'
    /// types checked.
    fn resolve(&self, module: &Module) -> Result<Vec<Definition>> {
        if !Engine::same(&self.engine, module.engine()) {
            return Err(cross_engine());
        }
        let info = module.info();
        let runtime = module.runtime();
        let mut resolved = Vec::with_capacity(info.imports.len());
        for import in &info.imports {
            let definition = self
                .definitions
                .get(&import.module)
                .and_then(|names| names.get(&import.name))
                .ok_or_else(|| {
                    Error::link(format!(
                        "unknown import: `{}::{}` has not been defined",
                        import.module, import.name
                    ))
                })?;
            if let Definition::HostFunc(host) = definition {
                let mismatch = |detail: String| {
                    Error::link(format!(
                        "incompatible import type for `{}::{}`: {detail}",
                        import.module, import.name
                    ))
                };
                match import.kind {
                    ImportKind::Func(type_index) => {
                        if runtime.type_ids[type_index as usize] != host.type_id {
                            return Err(mismatch(format!(
                                "expected {}, found {}",
                                info.types[type_index as usize], host.ty
                            )));
                        }
                    }
                    ImportKind::Tag(_) => {
                        return Err(mismatch(
                            "tags (exception handling) are not supported yet".into(),
                        ));
                    }
                    expected => {
                        return Err(mismatch(format!("expected a {}", expected.extern_kind())));
                    }
                }
            }
            resolved.push(definition.clone());
        }
        Ok(resolved)
    }

    fn insert(&mut self, module: &str, name: &str, definition: Definition) -> Result<()> {
        let names = self.definitions.entry(module.to_owned()).or_default();
        if !self.allow_shadowing && names.contains_key(name) {
            return Err(Error::link(format!(
                "import of `{module}::{name}` defined twice"
            )));
        }
        names.insert(name.to_owned(), definition);
        Ok(())
    }
}

fn cross_engine() -> Error {
    Error::usage(
        "cross-engine instantiation is not supported: the linker, module and store \
         must be made with one engine",
    )
}

/// Instantiates `module` in `context` with `resolved` (its imports' definitions in order,
/// host functions already type-checked).
fn instantiate_resolved<T: 'static>(
    context: crate::StoreContextMut<'_, T>,
    module: &Module,
    resolved: &[Definition],
) -> Result<Instance> {
    let store_id = context.opaque.id();
    // Check every store item before adding host functions to the store, so a failure
    // leaves the store as it was.
    for (definition, import) in resolved.iter().zip(&module.info().imports) {
        if let Definition::Extern(item) = definition
            && item.store() != store_id
        {
            return Err(Error::usage(format!(
                "the definition of `{}::{}` belongs to another store",
                import.module, import.name
            )));
        }
    }
    let imports: Vec<kestrel_vm::Extern> = resolved
        .iter()
        .map(|definition| match definition {
            Definition::Extern(item) => item.to_vm(store_id),
            Definition::HostFunc(host) => {
                kestrel_vm::Extern::Func(Func::push_host(context.opaque, host.clone()).id)
            }
        })
        .collect();
    crate::instance::instantiate(context, module, &imports)
}

/// A module whose imports a [`Linker`] has resolved (and, for host functions,
/// type-checked) once, ready to be instantiated many times, in any store of the engine:
/// [`Linker::instantiate_pre`]. Cheap to clone, `Send` and `Sync`.
pub struct InstancePre<T> {
    module: Module,
    resolved: Arc<[Definition]>,
    _data: PhantomData<fn() -> T>,
}

impl<T> Clone for InstancePre<T> {
    fn clone(&self) -> Self {
        InstancePre {
            module: self.module.clone(),
            resolved: self.resolved.clone(),
            _data: PhantomData,
        }
    }
}

impl<T> fmt::Debug for InstancePre<T> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("InstancePre")
            .field("module", &self.module)
            .finish_non_exhaustive()
    }
}

impl<T: 'static> InstancePre<T> {
    /// The module this instantiates.
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// Instantiates the module in `store` and runs its start function, as
    /// [`Linker::instantiate`] does but without resolving names again.
    ///
    /// Fails as [`Linker::instantiate`] does, except that names and host function types were
    /// checked by [`Linker::instantiate_pre`].
    pub fn instantiate(&self, mut store: impl AsContextMut<Data = T>) -> Result<Instance> {
        let context = store.as_context_mut();
        if !Arc::ptr_eq(self.module.engine().registry(), &context.opaque.registry) {
            return Err(cross_engine());
        }
        instantiate_resolved(context, &self.module, &self.resolved)
    }
}
