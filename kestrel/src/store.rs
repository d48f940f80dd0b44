//! [`Store`], the borrowed views of it ([`StoreContext`], [`StoreContextMut`], [`Caller`]),
//! and the [`AsContext`] / [`AsContextMut`] traits every API function takes its store through.
//!
//! A store pairs vm's untyped `StoreOpaque` (every function, instance, memory, table, global
//! and host reference) with the embedder's `T`, as two separate fields: a call lends the tier
//! `&mut StoreOpaque` and `&mut T` (as `&mut dyn Any`) as two disjoint borrows, and a host
//! function gets them back as a [`Caller`]. Handles ([`Func`](crate::Func),
//! [`Memory`](crate::Memory), ...) record the id of the store that made them; using one with
//! another store panics, as in Wasmtime.

use crate::{Engine, Extern, Instance};
use kestrel_vm::{InstanceId, StoreId, StoreOpaque};
use std::fmt;

/// Everything Wasm execution owns: instances, functions, memories, tables, globals, and the
/// embedder's data `T`. `Send` when `T` is.
///
/// Nothing is freed before the store is dropped.
pub struct Store<T: 'static> {
    opaque: StoreOpaque,
    data: T,
    engine: Engine,
}

impl<T: 'static> Store<T> {
    /// Creates an empty store holding `data`.
    pub fn new(engine: &Engine, data: T) -> Store<T> {
        let config = engine.config();
        let mut opaque = StoreOpaque::with_epoch_counter(
            engine.registry().clone(),
            engine.memory_config().clone(),
            config.stack_limits,
            engine.epoch_counter().clone(),
        );
        opaque.tiering = engine.store_tiering().clone();
        opaque.instrumentation = config.instrumentation;
        Store {
            opaque,
            data,
            engine: engine.clone(),
        }
    }

    /// The embedder's data.
    pub fn data(&self) -> &T {
        &self.data
    }

    /// The embedder's data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.data
    }

    /// Drops the store and returns its data.
    pub fn into_data(self) -> T {
        self.data
    }

    /// The engine the store was created with.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// How many running calls of this store left the interpreter for compiled code at a
    /// loop's header (on-stack replacement, [`Config::on_stack_replacement`]): 0 unless
    /// the strategy is [`Strategy::Tiered`](crate::Strategy::Tiered). For observing the
    /// tier manager.
    ///
    /// [`Config::on_stack_replacement`]: crate::Config::on_stack_replacement
    pub fn on_stack_replacements(&self) -> u64 {
        self.opaque.on_stack_replacements
    }

    /// Sets the fuel left to `fuel` (at most `i64::MAX`).
    ///
    /// Fails with [`ErrorKind::Usage`](crate::ErrorKind::Usage) unless the engine was
    /// configured with [`Config::consume_fuel`](crate::Config::consume_fuel).
    pub fn set_fuel(&mut self, fuel: u64) -> crate::Result<()> {
        set_fuel(&mut self.opaque, fuel)
    }

    /// The fuel left.
    ///
    /// Fails with [`ErrorKind::Usage`](crate::ErrorKind::Usage) unless the engine was
    /// configured with [`Config::consume_fuel`](crate::Config::consume_fuel).
    pub fn get_fuel(&self) -> crate::Result<u64> {
        get_fuel(&self.opaque)
    }

    /// Makes Wasm trap with [`Trap::Interrupt`](crate::Trap::Interrupt) once the engine's
    /// epoch is `ticks` past its current value (with
    /// [`Config::epoch_interruption`](crate::Config::epoch_interruption)). A trap does not
    /// move the deadline: set a new one before running Wasm in the store again.
    pub fn set_epoch_deadline(&mut self, ticks: u64) {
        let deadline = self.opaque.epoch().saturating_add(ticks);
        self.opaque.set_epoch_deadline(deadline);
    }

    /// Installs the store's resource limits: `limiter` finds them in the store's data, and
    /// is asked whenever a memory or table grows or is made and whenever a module is
    /// instantiated (Wasmtime's `Store::limiter` with [`StoreLimits`](crate::StoreLimits)).
    /// A store without a limiter has no limits beyond the memories' and tables' own
    /// maximums; changes to the limits in the data take effect at the next check.
    ///
    /// ```
    /// use kestrel::{Engine, Store, StoreLimits, StoreLimitsBuilder};
    /// struct State { limits: StoreLimits }
    /// let limits = StoreLimitsBuilder::new().memory_size(1 << 20).instances(4).build();
    /// let mut store = Store::new(&Engine::default(), State { limits });
    /// store.limiter(|state| &mut state.limits);
    /// ```
    pub fn limiter(
        &mut self,
        mut limiter: impl FnMut(&mut T) -> &mut crate::StoreLimits + Send + Sync + 'static,
    ) {
        self.opaque.limiter = Some(Box::new(move |data: &mut dyn std::any::Any| {
            limiter(
                data.downcast_mut::<T>()
                    .expect("a store's data has the store's type"),
            )
        }));
    }
}

fn set_fuel(opaque: &mut StoreOpaque, fuel: u64) -> crate::Result<()> {
    if !opaque.instrumentation.fuel {
        return Err(crate::Error::usage(
            "fuel is not configured in this store's engine (Config::consume_fuel)",
        ));
    }
    opaque.set_fuel(fuel);
    Ok(())
}

fn get_fuel(opaque: &StoreOpaque) -> crate::Result<u64> {
    if !opaque.instrumentation.fuel {
        return Err(crate::Error::usage(
            "fuel is not configured in this store's engine (Config::consume_fuel)",
        ));
    }
    Ok(opaque.fuel())
}

impl<T: fmt::Debug + 'static> fmt::Debug for Store<T> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Store")
            .field("data", &self.data)
            .field("opaque", &self.opaque)
            .finish_non_exhaustive()
    }
}

/// A shared borrow of a store.
pub struct StoreContext<'a, T: 'static> {
    pub(crate) opaque: &'a StoreOpaque,
    pub(crate) data: &'a T,
}

impl<T: 'static> Clone for StoreContext<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: 'static> Copy for StoreContext<'_, T> {}

impl<'a, T: 'static> StoreContext<'a, T> {
    /// The embedder's data.
    pub fn data(&self) -> &'a T {
        self.data
    }
}

/// An exclusive borrow of a store.
pub struct StoreContextMut<'a, T: 'static> {
    pub(crate) opaque: &'a mut StoreOpaque,
    pub(crate) data: &'a mut T,
}

impl<T: 'static> StoreContextMut<'_, T> {
    /// The embedder's data.
    pub fn data(&self) -> &T {
        self.data
    }

    /// The embedder's data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        self.data
    }
}

/// What a host function gets: the store it runs in, and the instance that called it.
///
/// Pass `&mut caller` wherever a store is expected, to call back into Wasm or to access
/// memories.
pub struct Caller<'a, T: 'static> {
    pub(crate) opaque: &'a mut StoreOpaque,
    pub(crate) data: &'a mut T,
    pub(crate) instance: Option<InstanceId>,
}

impl<T: 'static> Caller<'_, T> {
    /// The embedder's data.
    pub fn data(&self) -> &T {
        self.data
    }

    /// The embedder's data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        self.data
    }

    /// The fuel left (see [`Store::get_fuel`]).
    pub fn get_fuel(&self) -> crate::Result<u64> {
        get_fuel(self.opaque)
    }

    /// Sets the fuel left (see [`Store::set_fuel`]).
    pub fn set_fuel(&mut self, fuel: u64) -> crate::Result<()> {
        set_fuel(self.opaque, fuel)
    }

    /// Sets the epoch deadline `ticks` past the current epoch (see
    /// [`Store::set_epoch_deadline`]).
    pub fn set_epoch_deadline(&mut self, ticks: u64) {
        let deadline = self.opaque.epoch().saturating_add(ticks);
        self.opaque.set_epoch_deadline(deadline);
    }

    /// An export of the calling instance (typically its `"memory"`); `None` when the host
    /// function was called from the host rather than from Wasm, or there is no such export.
    pub fn get_export(&mut self, name: &str) -> Option<Extern> {
        let instance = Instance {
            store: self.opaque.id(),
            id: self.instance?,
        };
        instance.export(self.opaque, name)
    }
}

/// Types that can lend a shared borrow of a store: [`Store`], [`StoreContext`],
/// [`StoreContextMut`], [`Caller`], and references to them.
pub trait AsContext {
    /// The store's data type `T`.
    type Data: 'static;

    /// Borrows the store.
    fn as_context(&self) -> StoreContext<'_, Self::Data>;
}

/// Types that can lend an exclusive borrow of a store.
pub trait AsContextMut: AsContext {
    /// Borrows the store exclusively.
    fn as_context_mut(&mut self) -> StoreContextMut<'_, Self::Data>;
}

impl<T: 'static> AsContext for Store<T> {
    type Data = T;

    #[inline]
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext {
            opaque: &self.opaque,
            data: &self.data,
        }
    }
}

impl<T: 'static> AsContextMut for Store<T> {
    #[inline]
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut {
            opaque: &mut self.opaque,
            data: &mut self.data,
        }
    }
}

impl<T: 'static> AsContext for StoreContext<'_, T> {
    type Data = T;

    #[inline]
    fn as_context(&self) -> StoreContext<'_, T> {
        *self
    }
}

impl<T: 'static> AsContext for StoreContextMut<'_, T> {
    type Data = T;

    #[inline]
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext {
            opaque: self.opaque,
            data: self.data,
        }
    }
}

impl<T: 'static> AsContextMut for StoreContextMut<'_, T> {
    #[inline]
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut {
            opaque: self.opaque,
            data: self.data,
        }
    }
}

impl<T: 'static> AsContext for Caller<'_, T> {
    type Data = T;

    #[inline]
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext {
            opaque: self.opaque,
            data: self.data,
        }
    }
}

impl<T: 'static> AsContextMut for Caller<'_, T> {
    #[inline]
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut {
            opaque: self.opaque,
            data: self.data,
        }
    }
}

impl<C: AsContext + ?Sized> AsContext for &C {
    type Data = C::Data;

    #[inline]
    fn as_context(&self) -> StoreContext<'_, C::Data> {
        C::as_context(self)
    }
}

impl<C: AsContext + ?Sized> AsContext for &mut C {
    type Data = C::Data;

    #[inline]
    fn as_context(&self) -> StoreContext<'_, C::Data> {
        C::as_context(self)
    }
}

impl<C: AsContextMut + ?Sized> AsContextMut for &mut C {
    #[inline]
    fn as_context_mut(&mut self) -> StoreContextMut<'_, C::Data> {
        C::as_context_mut(self)
    }
}

// Conversions for the functions that return borrows of store contents (`Memory::data` and
// friends): the returned slice lives as long as the borrow of the store.

impl<'a, T: 'static> From<&'a Store<T>> for StoreContext<'a, T> {
    fn from(store: &'a Store<T>) -> StoreContext<'a, T> {
        store.as_context()
    }
}

impl<'a, T: 'static> From<&'a mut Store<T>> for StoreContext<'a, T> {
    fn from(store: &'a mut Store<T>) -> StoreContext<'a, T> {
        StoreContext {
            opaque: &store.opaque,
            data: &store.data,
        }
    }
}

impl<'a, T: 'static> From<&'a StoreContext<'_, T>> for StoreContext<'a, T> {
    fn from(context: &'a StoreContext<'_, T>) -> StoreContext<'a, T> {
        *context
    }
}

impl<'a, T: 'static> From<StoreContextMut<'a, T>> for StoreContext<'a, T> {
    fn from(context: StoreContextMut<'a, T>) -> StoreContext<'a, T> {
        StoreContext {
            opaque: context.opaque,
            data: context.data,
        }
    }
}

impl<'a, T: 'static> From<&'a StoreContextMut<'_, T>> for StoreContext<'a, T> {
    fn from(context: &'a StoreContextMut<'_, T>) -> StoreContext<'a, T> {
        context.as_context()
    }
}

impl<'a, T: 'static> From<&'a mut StoreContextMut<'_, T>> for StoreContext<'a, T> {
    fn from(context: &'a mut StoreContextMut<'_, T>) -> StoreContext<'a, T> {
        StoreContext {
            opaque: &*context.opaque,
            data: &*context.data,
        }
    }
}

impl<'a, T: 'static> From<&'a Caller<'_, T>> for StoreContext<'a, T> {
    fn from(caller: &'a Caller<'_, T>) -> StoreContext<'a, T> {
        caller.as_context()
    }
}

impl<'a, T: 'static> From<&'a mut Caller<'_, T>> for StoreContext<'a, T> {
    fn from(caller: &'a mut Caller<'_, T>) -> StoreContext<'a, T> {
        StoreContext {
            opaque: &*caller.opaque,
            data: &*caller.data,
        }
    }
}

impl<'a, T: 'static> From<&'a mut Store<T>> for StoreContextMut<'a, T> {
    fn from(store: &'a mut Store<T>) -> StoreContextMut<'a, T> {
        store.as_context_mut()
    }
}

impl<'a, T: 'static> From<&'a mut StoreContextMut<'_, T>> for StoreContextMut<'a, T> {
    fn from(context: &'a mut StoreContextMut<'_, T>) -> StoreContextMut<'a, T> {
        context.as_context_mut()
    }
}

impl<'a, T: 'static> From<&'a mut Caller<'_, T>> for StoreContextMut<'a, T> {
    fn from(caller: &'a mut Caller<'_, T>) -> StoreContextMut<'a, T> {
        caller.as_context_mut()
    }
}

/// Panics unless a handle made in store `owner` is used with store `used`.
#[inline]
#[track_caller]
pub(crate) fn assert_same_store(owner: StoreId, used: StoreId) {
    if owner != used {
        wrong_store();
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn wrong_store() -> ! {
    panic!(
        "object used with the wrong store: Kestrel handles (Func, Memory, Table, Global, \
         Instance, ExternRef) may only be used with the store that created them"
    )
}
