//! Statically typed calls: [`TypedFunc`], and the traits mapping Rust types to Wasm types
//! ([`WasmTy`] for one value, [`WasmParams`] / [`WasmResults`] for lists of up to 16,
//! [`WasmRet`] for what a host closure returns).
//!
//! The signature is checked once, when the `TypedFunc` is made; a call then writes the
//! parameters straight into a fixed array of raw slots on the stack, hands it to the tier,
//! and reads the results back from it: no allocation, no per-call type check.
//!
//! All four traits are sealed: their hidden methods speak vm's raw encoding, in which a
//! `v128` ([`V128`]) takes two slots; the slot positions of a tuple's values are sums of
//! constants, folded at compile time.

use crate::store::assert_same_store;
use crate::{AsContextMut, Error, ExternRef, Func, Result, ValType};
use kestrel_vm::StoreId;
use kestrel_vm::value::{
    decode_extern_ref, decode_func_ref, encode_extern_ref, encode_func_ref, v128_from_slots,
    v128_to_slots,
};
use std::fmt;
use std::marker::PhantomData;

/// The most parameters or results a [`TypedFunc`] or a wrapped closure may have.
pub(crate) const MAX_TYPED_VALUES: usize = 16;

/// The most raw slots their values can take (every one a `v128`).
pub(crate) const MAX_TYPED_SLOTS: usize = 2 * MAX_TYPED_VALUES;

mod sealed {
    pub trait Ty {}
    pub trait Params {}
    pub trait Ret {}
}

/// A Rust type that stands for one Wasm value type: `i32`, `u32` (both `i32`), `i64`, `u64`
/// (both `i64`), `f32`, `f64`, [`V128`] (`v128`), `Option<Func>` (`funcref`) and
/// `Option<ExternRef>` (`externref`).
pub trait WasmTy: sealed::Ty + Sized {
    /// The raw slots one value takes (2 for `v128`).
    #[doc(hidden)]
    const SLOTS: usize = 1;
    #[doc(hidden)]
    fn valtype() -> ValType;
    /// Writes the value to `raw[..SLOTS]`.
    #[doc(hidden)]
    fn store_slots(self, store: StoreId, raw: &mut [u64]);
    /// Reads a value from `raw[..SLOTS]`.
    #[doc(hidden)]
    fn load_slots(store: StoreId, raw: &[u64]) -> Self;
}

macro_rules! numeric_wasm_ty {
    ($($ty:ty => $valtype:ident, |$value:ident| $into:expr, |$raw:ident| $from:expr;)*) => {$(
        impl sealed::Ty for $ty {}

        impl WasmTy for $ty {
            #[inline]
            fn valtype() -> ValType {
                ValType::$valtype
            }

            #[inline]
            fn store_slots(self, _store: StoreId, raw: &mut [u64]) {
                let $value = self;
                raw[0] = $into;
            }

            #[inline]
            fn load_slots(_store: StoreId, raw: &[u64]) -> Self {
                let $raw = raw[0];
                $from
            }
        }
    )*};
}

numeric_wasm_ty! {
    i32 => I32, |value| value as u32 as u64, |raw| raw as u32 as i32;
    u32 => I32, |value| value as u64, |raw| raw as u32;
    i64 => I64, |value| value as u64, |raw| raw as i64;
    u64 => I64, |value| value, |raw| raw;
    f32 => F32, |value| value.to_bits() as u64, |raw| f32::from_bits(raw as u32);
    f64 => F64, |value| value.to_bits(), |raw| f64::from_bits(raw);
}

impl sealed::Ty for Option<Func> {}

impl WasmTy for Option<Func> {
    #[inline]
    fn valtype() -> ValType {
        ValType::FUNCREF
    }

    #[inline]
    #[track_caller]
    fn store_slots(self, store: StoreId, raw: &mut [u64]) {
        raw[0] = encode_func_ref(self.map(|func| {
            assert_same_store(func.store, store);
            func.id
        }));
    }

    #[inline]
    fn load_slots(store: StoreId, raw: &[u64]) -> Self {
        decode_func_ref(raw[0]).map(|id| Func { store, id })
    }
}

impl sealed::Ty for Option<ExternRef> {}

impl WasmTy for Option<ExternRef> {
    #[inline]
    fn valtype() -> ValType {
        ValType::EXTERNREF
    }

    #[inline]
    #[track_caller]
    fn store_slots(self, store: StoreId, raw: &mut [u64]) {
        raw[0] = encode_extern_ref(self.map(|value| {
            assert_same_store(value.store, store);
            value.id
        }));
    }

    #[inline]
    fn load_slots(store: StoreId, raw: &[u64]) -> Self {
        decode_extern_ref(raw[0]).map(|id| ExternRef { store, id })
    }
}

/// A `v128` value for typed calls and wrapped closures: its 128 bits, lane 0 in the least
/// significant bits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct V128(u128);

impl V128 {
    /// The 128 bits.
    pub fn as_u128(self) -> u128 {
        self.0
    }
}

impl From<u128> for V128 {
    fn from(bits: u128) -> V128 {
        V128(bits)
    }
}

impl From<V128> for u128 {
    fn from(value: V128) -> u128 {
        value.0
    }
}

impl sealed::Ty for V128 {}

impl WasmTy for V128 {
    const SLOTS: usize = 2;

    #[inline]
    fn valtype() -> ValType {
        ValType::V128
    }

    #[inline]
    fn store_slots(self, _store: StoreId, raw: &mut [u64]) {
        raw[..2].copy_from_slice(&v128_to_slots(self.0));
    }

    #[inline]
    fn load_slots(_store: StoreId, raw: &[u64]) -> Self {
        V128(v128_from_slots(raw[0], raw[1]))
    }
}

/// Whether a value of Rust type `A` may be passed where `expected` is wanted.
fn param_fits<A: WasmTy>(expected: ValType) -> bool {
    subtype(A::valtype(), expected)
}

/// Whether a value of type `actual` may be read as Rust type `A`.
fn result_fits<A: WasmTy>(actual: ValType) -> bool {
    subtype(actual, A::valtype())
}

fn subtype(sub: ValType, sup: ValType) -> bool {
    match (sub, sup) {
        (ValType::Ref(sub), ValType::Ref(sup)) => sub.matches(sup),
        (sub, sup) => sub == sup,
    }
}

/// The parameters of a [`TypedFunc`] or a wrapped closure: `()`, one [`WasmTy`], or a tuple
/// of up to 16.
pub trait WasmParams: sealed::Params + Sized {
    #[doc(hidden)]
    const COUNT: usize;
    /// The raw slots the values take together.
    #[doc(hidden)]
    const SLOTS: usize;
    #[doc(hidden)]
    fn push_types(types: &mut Vec<ValType>);
    /// Whether these Rust types may be passed as parameters of types `types`.
    #[doc(hidden)]
    fn fit_params(types: &[ValType]) -> bool;
    #[doc(hidden)]
    fn store_raw(self, store: StoreId, raw: &mut [u64]);
}

/// The results of a [`TypedFunc`] or a wrapped closure: `()`, one [`WasmTy`], or a tuple of
/// up to 16.
pub trait WasmResults: WasmParams {
    /// Whether results of types `types` may be read as these Rust types.
    #[doc(hidden)]
    fn fit_results(types: &[ValType]) -> bool;
    #[doc(hidden)]
    fn load_raw(store: StoreId, raw: &[u64]) -> Self;
}

impl<A: WasmTy> sealed::Params for A {}

impl<A: WasmTy> WasmParams for A {
    const COUNT: usize = 1;
    const SLOTS: usize = A::SLOTS;

    fn push_types(types: &mut Vec<ValType>) {
        types.push(A::valtype());
    }

    fn fit_params(types: &[ValType]) -> bool {
        matches!(types, [ty] if param_fits::<A>(*ty))
    }

    #[inline]
    #[track_caller]
    fn store_raw(self, store: StoreId, raw: &mut [u64]) {
        self.store_slots(store, raw);
    }
}

impl<A: WasmTy> WasmResults for A {
    fn fit_results(types: &[ValType]) -> bool {
        matches!(types, [ty] if result_fits::<A>(*ty))
    }

    #[inline]
    fn load_raw(store: StoreId, raw: &[u64]) -> Self {
        A::load_slots(store, raw)
    }
}

macro_rules! tuple_wasm_params {
    ($count:literal $($ty:ident $index:tt)*) => {
        impl<$($ty: WasmTy,)*> sealed::Params for ($($ty,)*) {}

        impl<$($ty: WasmTy,)*> WasmParams for ($($ty,)*) {
            const COUNT: usize = $count;
            const SLOTS: usize = 0 $(+ $ty::SLOTS)*;

            #[allow(unused_variables)]
            fn push_types(types: &mut Vec<ValType>) {
                $(types.push($ty::valtype());)*
            }

            #[allow(unused_variables)]
            fn fit_params(types: &[ValType]) -> bool {
                types.len() == $count $(&& param_fits::<$ty>(types[$index]))*
            }

            #[inline]
            #[track_caller]
            #[allow(unused_variables, unused_mut, unused_assignments)]
            fn store_raw(self, store: StoreId, raw: &mut [u64]) {
                let mut slot = 0;
                $(
                    self.$index.store_slots(store, &mut raw[slot..]);
                    slot += $ty::SLOTS;
                )*
            }
        }

        impl<$($ty: WasmTy,)*> WasmResults for ($($ty,)*) {
            #[allow(unused_variables)]
            fn fit_results(types: &[ValType]) -> bool {
                types.len() == $count $(&& result_fits::<$ty>(types[$index]))*
            }

            #[inline]
            #[allow(unused_variables, unused_mut, unused_assignments, clippy::unused_unit)]
            fn load_raw(store: StoreId, raw: &[u64]) -> Self {
                let mut slot = 0;
                ($({
                    let value = $ty::load_slots(store, &raw[slot..]);
                    slot += $ty::SLOTS;
                    value
                },)*)
            }
        }
    };
}

/// Invokes `$mac!(count A0 0 A1 1 ...)` for every tuple length from 0 to 16.
macro_rules! for_each_tuple {
    ($mac:ident) => {
        $mac!(0);
        $mac!(1 A0 0);
        $mac!(2 A0 0 A1 1);
        $mac!(3 A0 0 A1 1 A2 2);
        $mac!(4 A0 0 A1 1 A2 2 A3 3);
        $mac!(5 A0 0 A1 1 A2 2 A3 3 A4 4);
        $mac!(6 A0 0 A1 1 A2 2 A3 3 A4 4 A5 5);
        $mac!(7 A0 0 A1 1 A2 2 A3 3 A4 4 A5 5 A6 6);
        $mac!(8 A0 0 A1 1 A2 2 A3 3 A4 4 A5 5 A6 6 A7 7);
        $mac!(9 A0 0 A1 1 A2 2 A3 3 A4 4 A5 5 A6 6 A7 7 A8 8);
        $mac!(10 A0 0 A1 1 A2 2 A3 3 A4 4 A5 5 A6 6 A7 7 A8 8 A9 9);
        $mac!(11 A0 0 A1 1 A2 2 A3 3 A4 4 A5 5 A6 6 A7 7 A8 8 A9 9 A10 10);
        $mac!(12 A0 0 A1 1 A2 2 A3 3 A4 4 A5 5 A6 6 A7 7 A8 8 A9 9 A10 10 A11 11);
        $mac!(13 A0 0 A1 1 A2 2 A3 3 A4 4 A5 5 A6 6 A7 7 A8 8 A9 9 A10 10 A11 11 A12 12);
        $mac!(14 A0 0 A1 1 A2 2 A3 3 A4 4 A5 5 A6 6 A7 7 A8 8 A9 9 A10 10 A11 11 A12 12 A13 13);
        $mac!(15 A0 0 A1 1 A2 2 A3 3 A4 4 A5 5 A6 6 A7 7 A8 8 A9 9 A10 10 A11 11 A12 12 A13 13 A14 14);
        $mac!(16 A0 0 A1 1 A2 2 A3 3 A4 4 A5 5 A6 6 A7 7 A8 8 A9 9 A10 10 A11 11 A12 12 A13 13 A14 14 A15 15);
    };
}

pub(crate) use for_each_tuple;

for_each_tuple!(tuple_wasm_params);

/// What a host closure may return: its results ([`WasmResults`]), or
/// `Result<results, Error>` to fail the call.
pub trait WasmRet: sealed::Ret {
    #[doc(hidden)]
    type Results: WasmResults;
    #[doc(hidden)]
    fn into_result(self) -> Result<Self::Results>;
}

impl<R: WasmResults> sealed::Ret for R {}

impl<R: WasmResults> WasmRet for R {
    type Results = R;

    #[inline]
    fn into_result(self) -> Result<R> {
        Ok(self)
    }
}

impl<R: WasmResults> sealed::Ret for Result<R> {}

impl<R: WasmResults> WasmRet for Result<R> {
    type Results = R;

    #[inline]
    fn into_result(self) -> Result<R> {
        self
    }
}

/// A [`Func`] whose signature was checked against `Params` and `Results` once, so calls
/// neither check types nor allocate. Made by [`Func::typed`] or
/// [`Instance::get_typed_func`](crate::Instance::get_typed_func).
pub struct TypedFunc<Params, Results> {
    func: Func,
    _signature: PhantomData<fn(Params) -> Results>,
}

impl<Params, Results> Clone for TypedFunc<Params, Results> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<Params, Results> Copy for TypedFunc<Params, Results> {}

impl<Params, Results> fmt::Debug for TypedFunc<Params, Results> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("TypedFunc")
            .field("func", &self.func)
            .finish()
    }
}

impl<Params: WasmParams, Results: WasmResults> TypedFunc<Params, Results> {
    /// `func`, whose type the caller has checked against `Params` and `Results`.
    pub(crate) fn new_unchecked(func: Func) -> Self {
        const {
            assert!(Params::COUNT <= MAX_TYPED_VALUES && Results::COUNT <= MAX_TYPED_VALUES);
        }
        TypedFunc {
            func,
            _signature: PhantomData,
        }
    }

    /// The untyped function.
    pub fn func(&self) -> &Func {
        &self.func
    }

    /// Calls the function.
    ///
    /// Fails when Wasm traps ([`ErrorKind::Trap`](crate::ErrorKind::Trap)) or a host
    /// function returns an error (that very error).
    ///
    /// # Panics
    ///
    /// If `store` is not the function's store, or a reference parameter belongs to another
    /// store.
    #[inline]
    pub fn call(&self, mut store: impl AsContextMut, params: Params) -> Result<Results> {
        let context = store.as_context_mut();
        let store_id = context.opaque.id();
        assert_same_store(self.func.store, store_id);
        let mut raw = [0u64; MAX_TYPED_SLOTS];
        params.store_raw(store_id, &mut raw);
        let len = if Params::SLOTS > Results::SLOTS {
            Params::SLOTS
        } else {
            Results::SLOTS
        };
        match crate::tier::call_raw(context.opaque, context.data, self.func.id, &mut raw[..len]) {
            Ok(()) => Ok(Results::load_raw(store_id, &raw)),
            Err(trap) => Err(Error::from_trap(context.opaque, trap)),
        }
    }
}
