//! The engine-wide registry that gives every distinct function signature one [`TypeId`].
//!
//! Signatures from different modules are compared by id, so `call_indirect` and import
//! matching are one integer comparison. Registered types are never removed: their number
//! is bounded by the distinct signatures an engine has ever seen.

use kestrel_parser::FuncType;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// A canonical function signature, unique within one engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TypeId(pub u32);

#[derive(Debug, Default)]
struct Registry {
    ids: HashMap<Arc<FuncType>, TypeId>,
    types: Vec<Arc<FuncType>>,
}

/// Shared by an engine and every store and module made with it.
#[derive(Debug, Default)]
pub struct TypeRegistry {
    inner: RwLock<Registry>,
}

impl TypeRegistry {
    /// The id of `ty`, registering it on first sight.
    pub fn register(&self, ty: &FuncType) -> TypeId {
        if let Some(id) = self
            .inner
            .read()
            .unwrap_or_else(|poison| poison.into_inner())
            .ids
            .get(ty)
        {
            return *id;
        }
        let mut registry = self
            .inner
            .write()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(id) = registry.ids.get(ty) {
            return *id;
        }
        let id = TypeId(u32::try_from(registry.types.len()).expect("fewer than 2^32 signatures"));
        let ty = Arc::new(ty.clone());
        registry.types.push(ty.clone());
        registry.ids.insert(ty, id);
        id
    }

    /// The signature behind `id`.
    pub fn get(&self, id: TypeId) -> Arc<FuncType> {
        self.inner
            .read()
            .unwrap_or_else(|poison| poison.into_inner())
            .types[id.0 as usize]
            .clone()
    }
}
