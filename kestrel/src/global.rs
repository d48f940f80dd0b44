//! [`Global`]: global variables, seen from the host.
//!
//! A global's value lives in vm's `VMGlobal` in the raw encoding; this module converts it to
//! and from [`Val`], checking type and mutability.

use crate::store::assert_same_store;
use crate::values::representable;
use crate::{AsContext, AsContextMut, Error, GlobalType, Result, Val};
use kestrel_vm::{GlobalEntity, GlobalId, StoreId, StoreOpaque};

/// A global: a handle (`Copy`), valid only with the store that made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Global {
    pub(crate) store: StoreId,
    pub(crate) id: GlobalId,
}

impl Global {
    /// Creates a global of type `ty` holding `value`.
    ///
    /// Fails with [`ErrorKind::Usage`](crate::ErrorKind::Usage) when `value` is not of the
    /// content type, and [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported) for content
    /// types the API cannot represent.
    ///
    /// # Panics
    ///
    /// If `value` is a reference from another store.
    pub fn new(mut store: impl AsContextMut, ty: GlobalType, value: Val) -> Result<Global> {
        let context = store.as_context_mut();
        if !representable(ty.content) {
            return Err(Error::unsupported(format!(
                "globals of type {} cannot be created through the API yet",
                ty.content
            )));
        }
        let bits = content_raw(context.opaque, ty, value)?;
        let id = context.opaque.push_global(GlobalEntity::new(ty, bits));
        Ok(Global {
            store: context.opaque.id(),
            id,
        })
    }

    /// The global's type.
    ///
    /// # Panics
    ///
    /// If `store` is not the global's store (as for every method taking a store).
    pub fn ty(&self, store: impl AsContext) -> GlobalType {
        self.entity(store.as_context().opaque).ty
    }

    /// The current value.
    pub fn get(&self, store: impl AsContext) -> Val {
        let global = self.entity(store.as_context().opaque);
        Val::from_raw(self.store, global.bits(), global.ty.content)
    }

    /// Sets the value.
    ///
    /// Fails with [`ErrorKind::Usage`](crate::ErrorKind::Usage) when the global is immutable
    /// or `value` is not of its content type.
    ///
    /// # Panics
    ///
    /// If `value` is a reference from another store.
    pub fn set(&self, mut store: impl AsContextMut, value: Val) -> Result<()> {
        let context = store.as_context_mut();
        let ty = self.entity(context.opaque).ty;
        if !ty.mutable {
            return Err(Error::usage("immutable global cannot be set"));
        }
        let bits = content_raw(context.opaque, ty, value)?;
        context.opaque.global_mut(self.id).set_bits(bits);
        Ok(())
    }

    fn entity<'a>(&self, store: &'a StoreOpaque) -> &'a GlobalEntity {
        assert_same_store(self.store, store.id());
        store.global(self.id)
    }
}

/// `value` as the raw contents of a global of type `ty`.
fn content_raw(store: &StoreOpaque, ty: GlobalType, value: Val) -> Result<u128> {
    if !value.matches(store, ty.content, None) {
        return Err(Error::usage(format!(
            "type mismatch: a global of type {} cannot hold a {} value",
            ty.content,
            value.ty()
        )));
    }
    Ok(value.to_raw(store.id()))
}
