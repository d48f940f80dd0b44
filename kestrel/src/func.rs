//! [`Func`]: functions in a store, whether defined by Wasm or by the host, and how host
//! closures become vm `HostFunc`s ([`IntoFunc`] for typed closures, [`Func::new`] for
//! dynamically typed ones).
//!
//! A host function is stored as vm's type-erased callback over raw values. The wrapper made
//! here downcasts the store data back to `T`, builds a [`Caller`], decodes the parameters,
//! calls the closure and encodes its results; an error the closure returns is boxed into a
//! vm `HostError` and unboxed by `Error::from_trap` when it leaves the tier.

use crate::store::assert_same_store;
use crate::typed::{MAX_TYPED_VALUES, WasmParams, WasmResults, WasmRet, WasmTy, for_each_tuple};
use crate::values::{read_slots, representable, write_slots};
use crate::{AsContext, AsContextMut, Caller, Error, FuncType, Result, TypedFunc, Val, ValType};
use kestrel_vm::value::slot_count;
use kestrel_vm::{
    FuncEntity, FuncId, HostCallback, HostContext, HostError, HostFunc, RuntimeModule, StoreId,
    StoreOpaque, TypeRegistry,
};
use std::sync::Arc;

/// A function in a store: a handle (`Copy`), valid only with the store that made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Func {
    pub(crate) store: StoreId,
    pub(crate) id: FuncId,
}

impl Func {
    /// Makes a host function from a closure whose parameters and results are Rust types
    /// standing for Wasm types ([`WasmTy`]). The closure may take a [`Caller`] first, and may
    /// return a `Result` to fail the call with its error.
    ///
    /// ```
    /// use kestrel::{Caller, Engine, Func, Store};
    ///
    /// let engine = Engine::default();
    /// let mut store = Store::new(&engine, 10);
    /// let add = Func::wrap(&mut store, |caller: Caller<'_, i32>, x: i32| x + *caller.data());
    /// let add = add.typed::<i32, i32>(&store)?;
    /// assert_eq!(add.call(&mut store, 5)?, 15);
    /// # Ok::<(), kestrel::Error>(())
    /// ```
    pub fn wrap<T: 'static, Params, Results>(
        mut store: impl AsContextMut<Data = T>,
        func: impl IntoFunc<T, Params, Results>,
    ) -> Func {
        let context = store.as_context_mut();
        let (ty, callback) = func.into_host_func();
        let host = host_func(&context.opaque.registry, Arc::new(ty), callback);
        Func::push_host(context.opaque, host)
    }

    /// Makes a host function of type `ty` from a closure over dynamically typed values: it
    /// receives the parameters and fills in the results (initialised to zeros and nulls).
    ///
    /// Returning a result of the wrong type fails the call with
    /// [`ErrorKind::Usage`](crate::ErrorKind::Usage). GC and exception references
    /// cannot cross the API yet: calling a function with such a type fails with
    /// [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported).
    pub fn new<T: 'static>(
        mut store: impl AsContextMut<Data = T>,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Func {
        let context = store.as_context_mut();
        let ty = Arc::new(ty);
        let callback = dynamic_callback(ty.clone(), func);
        let host = host_func(&context.opaque.registry, ty, callback);
        Func::push_host(context.opaque, host)
    }

    pub(crate) fn push_host(store: &mut StoreOpaque, host: Arc<HostFunc>) -> Func {
        Func {
            store: store.id(),
            id: store.push_func(FuncEntity::Host(host)),
        }
    }

    /// The function's type.
    ///
    /// # Panics
    ///
    /// If `store` is not the function's store (as for every method taking a store).
    pub fn ty(&self, store: impl AsContext) -> FuncType {
        let context = store.as_context();
        assert_same_store(self.store, context.opaque.id());
        Signature::of(context.opaque, self.id).ty().clone()
    }

    /// Checks the function's type against `Params` and `Results` once and returns a
    /// [`TypedFunc`] whose calls need no further checks.
    ///
    /// Fails with [`ErrorKind::Usage`](crate::ErrorKind::Usage) when the types differ.
    pub fn typed<Params: WasmParams, Results: WasmResults>(
        &self,
        store: impl AsContext,
    ) -> Result<TypedFunc<Params, Results>> {
        let context = store.as_context();
        assert_same_store(self.store, context.opaque.id());
        let signature = Signature::of(context.opaque, self.id);
        let ty = signature.ty();
        if !Params::fit_params(ty.params()) || !Results::fit_results(ty.results()) {
            let mut params = Vec::new();
            let mut results = Vec::new();
            Params::push_types(&mut params);
            Results::push_types(&mut results);
            return Err(Error::usage(format!(
                "type mismatch: the function has type {ty}, but {} was asked for",
                FuncType::new(params, results)
            )));
        }
        Ok(TypedFunc::new_unchecked(*self))
    }

    /// Calls the function with dynamically typed values.
    ///
    /// Fails with [`ErrorKind::Usage`](crate::ErrorKind::Usage) when `params` or `results`
    /// do not have the function's arity or `params` do not have its parameter types, when
    /// Wasm traps ([`ErrorKind::Trap`](crate::ErrorKind::Trap)), or with the error a host
    /// function returned.
    ///
    /// # Panics
    ///
    /// If `store` is not the function's store, or a reference parameter belongs to another
    /// store.
    pub fn call(
        &self,
        mut store: impl AsContextMut,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<()> {
        let context = store.as_context_mut();
        let store_id = context.opaque.id();
        assert_same_store(self.store, store_id);
        let signature = Signature::of(context.opaque, self.id);
        let ty = signature.ty();
        check_call(context.opaque, ty, signature.module(), params, results)?;

        let len = slot_count(ty.params()).max(slot_count(ty.results()));
        let mut stack = [0u64; MAX_TYPED_VALUES];
        let mut heap = Vec::new();
        let raw = if len <= MAX_TYPED_VALUES {
            &mut stack[..len]
        } else {
            heap.resize(len, 0);
            &mut heap[..]
        };
        write_slots(store_id, params, raw);
        crate::tier::call_raw(context.opaque, context.data, self.id, raw)
            .map_err(|trap| Error::from_trap(context.opaque, trap))?;
        read_slots(store_id, ty.results(), raw, results);
        Ok(())
    }
}

/// Arity, types and representability of a dynamic call.
fn check_call(
    store: &StoreOpaque,
    ty: &FuncType,
    module: Option<&RuntimeModule>,
    params: &[Val],
    results: &[Val],
) -> Result<()> {
    if params.len() != ty.params().len() {
        return Err(Error::usage(format!(
            "expected {} arguments, got {}",
            ty.params().len(),
            params.len()
        )));
    }
    if results.len() != ty.results().len() {
        return Err(Error::usage(format!(
            "expected {} results, got {}",
            ty.results().len(),
            results.len()
        )));
    }
    if let Some(unsupported) = ty
        .params()
        .iter()
        .chain(ty.results())
        .find(|ty| !representable(**ty))
    {
        return Err(unsupported_at_boundary(*unsupported));
    }
    for (index, (param, expected)) in params.iter().zip(ty.params()).enumerate() {
        if !param.matches(store, *expected, module) {
            return Err(Error::usage(format!(
                "argument type mismatch: argument {index} should be {expected}, found {}",
                param.ty()
            )));
        }
    }
    Ok(())
}

#[cold]
fn unsupported_at_boundary(ty: ValType) -> Error {
    Error::unsupported(format!(
        "values of type {ty} cannot be passed to or returned from functions through the API yet"
    ))
}

/// A function's signature, kept alive without borrowing the store.
pub(crate) enum Signature {
    Host(Arc<HostFunc>),
    Wasm(Arc<RuntimeModule>, u32),
}

impl Signature {
    pub(crate) fn of(store: &StoreOpaque, id: FuncId) -> Signature {
        match store.func(id) {
            FuncEntity::Host(host) => Signature::Host(host),
            FuncEntity::Wasm {
                instance, index, ..
            } => Signature::Wasm(store.instance(instance).module.clone(), index),
        }
    }

    pub(crate) fn ty(&self) -> &FuncType {
        match self {
            Signature::Host(host) => &host.ty,
            Signature::Wasm(module, index) => module.info.function_type(*index),
        }
    }

    /// The module whose type indices the signature's concrete reference types refer to.
    fn module(&self) -> Option<&RuntimeModule> {
        match self {
            Signature::Host(_) => None,
            Signature::Wasm(module, _) => Some(module),
        }
    }
}

/// Registers `ty` and packages a host function.
pub(crate) fn host_func(
    registry: &TypeRegistry,
    ty: Arc<FuncType>,
    callback: Box<HostCallback>,
) -> Arc<HostFunc> {
    Arc::new(HostFunc::new(ty.clone(), registry.register(&ty), callback))
}

/// The raw callback of a dynamically typed host function.
pub(crate) fn dynamic_callback<T: 'static>(
    ty: Arc<FuncType>,
    func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
) -> Box<HostCallback> {
    let unsupported = ty
        .params()
        .iter()
        .chain(ty.results())
        .copied()
        .find(|ty| !representable(*ty));
    Box::new(
        move |context: HostContext<'_>, raw: &mut [u64]| -> Result<(), HostError> {
            if let Some(ty) = unsupported {
                return Err(unsupported_at_boundary(ty).into_host());
            }
            let store_id = context.store.id();
            let data = downcast_data::<T>(context.data)?;
            let (param_types, result_types) = (ty.params(), ty.results());

            let mut param_stack = [Val::I32(0); MAX_TYPED_VALUES];
            let mut param_heap = Vec::new();
            let params = stack_or_heap(&mut param_stack, &mut param_heap, param_types.len());
            read_slots(store_id, param_types, raw, params);
            let mut result_stack = [Val::I32(0); MAX_TYPED_VALUES];
            let mut result_heap = Vec::new();
            let results = stack_or_heap(&mut result_stack, &mut result_heap, result_types.len());
            for (result, ty) in results.iter_mut().zip(result_types) {
                *result = Val::default_for(*ty);
            }

            let caller = Caller {
                opaque: &mut *context.store,
                data,
                instance: context.caller,
            };
            func(caller, params, results).map_err(Error::into_host)?;

            for (index, (result, ty)) in results.iter().zip(result_types).enumerate() {
                if !result.matches(context.store, *ty, None) {
                    return Err(Error::usage(format!(
                        "host function result type mismatch: result {index} should be {ty}, \
                         found {}",
                        result.ty()
                    ))
                    .into_host());
                }
            }
            write_slots(store_id, results, raw);
            Ok(())
        },
    )
}

fn stack_or_heap<'a>(
    stack: &'a mut [Val; MAX_TYPED_VALUES],
    heap: &'a mut Vec<Val>,
    len: usize,
) -> &'a mut [Val] {
    if len <= MAX_TYPED_VALUES {
        &mut stack[..len]
    } else {
        heap.resize(len, Val::I32(0));
        heap
    }
}

/// The store data as the `T` of the `Store<T>` the host function was made for.
#[inline]
fn downcast_data<T: 'static>(data: &mut dyn std::any::Any) -> Result<&mut T, HostError> {
    data.downcast_mut::<T>().ok_or_else(|| {
        Error::usage("host function called with the data of a store of another type").into_host()
    })
}

/// A closure that can become a host function: `Fn([Caller<'_, T>,] A0, A1, ...) -> R` where
/// each `A` is a [`WasmTy`] (at most 16) and `R` is a [`WasmRet`].
///
/// Implemented for such closures only; the `Params` type parameter keeps the impls apart.
pub trait IntoFunc<T, Params, Results>: Send + Sync + 'static {
    #[doc(hidden)]
    fn into_host_func(self) -> (FuncType, Box<HostCallback>);
}

/// The function type of a closure with parameters `P` and results `R`.
fn closure_type<P: WasmParams, R: WasmResults>() -> FuncType {
    let mut params = Vec::with_capacity(P::COUNT);
    let mut results = Vec::with_capacity(R::COUNT);
    P::push_types(&mut params);
    R::push_types(&mut results);
    FuncType::new(params, results)
}

macro_rules! into_func {
    ($count:literal $($arg:ident $index:tt)*) => {
        impl<T, F, $($arg,)* R> IntoFunc<T, (Caller<'_, T>, $($arg,)*), R> for F
        where
            T: 'static,
            F: Fn(Caller<'_, T>, $($arg),*) -> R + Send + Sync + 'static,
            $($arg: WasmTy,)*
            R: WasmRet,
        {
            fn into_host_func(self) -> (FuncType, Box<HostCallback>) {
                let ty = closure_type::<($($arg,)*), R::Results>();
                let callback: Box<HostCallback> = Box::new(
                    move |context: HostContext<'_>, raw: &mut [u64]| -> Result<(), HostError> {
                        let store = context.store.id();
                        let data = downcast_data::<T>(context.data)?;
                        #[allow(unused_variables, clippy::let_unit_value)]
                        let args = <($($arg,)*) as WasmResults>::load_raw(store, raw);
                        let caller = Caller {
                            opaque: context.store,
                            data,
                            instance: context.caller,
                        };
                        let results = self(caller, $(args.$index),*)
                            .into_result()
                            .map_err(Error::into_host)?;
                        results.store_raw(store, raw);
                        Ok(())
                    },
                );
                (ty, callback)
            }
        }

        impl<T, F, $($arg,)* R> IntoFunc<T, ($($arg,)*), R> for F
        where
            F: Fn($($arg),*) -> R + Send + Sync + 'static,
            $($arg: WasmTy,)*
            R: WasmRet,
        {
            fn into_host_func(self) -> (FuncType, Box<HostCallback>) {
                let ty = closure_type::<($($arg,)*), R::Results>();
                let callback: Box<HostCallback> = Box::new(
                    move |context: HostContext<'_>, raw: &mut [u64]| -> Result<(), HostError> {
                        let store = context.store.id();
                        #[allow(unused_variables, clippy::let_unit_value)]
                        let args = <($($arg,)*) as WasmResults>::load_raw(store, raw);
                        let results = self($(args.$index),*)
                            .into_result()
                            .map_err(Error::into_host)?;
                        results.store_raw(store, raw);
                        Ok(())
                    },
                );
                (ty, callback)
            }
        }
    };
}

for_each_tuple!(into_func);
