//! [`Val`], a dynamically typed Wasm value, and [`ExternRef`], a host value Wasm can hold.
//!
//! This module owns the API's side of vm's raw value encoding (`kestrel_vm::value`): turning
//! a `Val` into its raw bits and back given its type, and deciding whether a `Val` belongs to
//! a `ValType`. A reference handle's store is checked when it becomes raw bits, so a handle
//! of another store never reaches Wasm.

use crate::store::assert_same_store;
use crate::{AsContextMut, Func, HeapType, RefType, StoreContext, ValType};
use kestrel_vm::value::{
    decode_extern_ref, decode_func_ref, encode_extern_ref, encode_func_ref, v128_from_slots,
    v128_to_slots,
};
use kestrel_vm::{ExternRefId, RuntimeModule, StoreId, StoreOpaque};
use std::any::Any;

/// A WebAssembly value of any type.
#[derive(Debug, Clone, Copy)]
pub enum Val {
    I32(i32),
    I64(i64),
    /// The bits of an `f32` (so NaN payloads survive).
    F32(u32),
    /// The bits of an `f64` (so NaN payloads survive).
    F64(u64),
    V128(u128),
    /// A `funcref`: `None` is null.
    FuncRef(Option<Func>),
    /// An `externref`: `None` is null.
    ExternRef(Option<ExternRef>),
}

impl Val {
    /// The null `funcref`.
    pub fn null_func_ref() -> Val {
        Val::FuncRef(None)
    }

    /// The null `externref`.
    pub fn null_extern_ref() -> Val {
        Val::ExternRef(None)
    }

    /// The value's type; references report their abstract nullable type (`funcref`,
    /// `externref`).
    pub fn ty(&self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::V128(_) => ValType::V128,
            Val::FuncRef(_) => ValType::FUNCREF,
            Val::ExternRef(_) => ValType::EXTERNREF,
        }
    }

    /// The `i32`, if this is one.
    pub fn i32(&self) -> Option<i32> {
        match *self {
            Val::I32(value) => Some(value),
            _ => None,
        }
    }

    /// The `i64`, if this is one.
    pub fn i64(&self) -> Option<i64> {
        match *self {
            Val::I64(value) => Some(value),
            _ => None,
        }
    }

    /// The `f32`, if this is one.
    pub fn f32(&self) -> Option<f32> {
        match *self {
            Val::F32(bits) => Some(f32::from_bits(bits)),
            _ => None,
        }
    }

    /// The `f64`, if this is one.
    pub fn f64(&self) -> Option<f64> {
        match *self {
            Val::F64(bits) => Some(f64::from_bits(bits)),
            _ => None,
        }
    }

    /// The `v128` bits, if this is one.
    pub fn v128(&self) -> Option<u128> {
        match *self {
            Val::V128(bits) => Some(bits),
            _ => None,
        }
    }

    /// The `funcref` (itself `None` when null), if this is one.
    pub fn func_ref(&self) -> Option<Option<Func>> {
        match *self {
            Val::FuncRef(func) => Some(func),
            _ => None,
        }
    }

    /// The `externref` (itself `None` when null), if this is one.
    pub fn extern_ref(&self) -> Option<Option<ExternRef>> {
        match *self {
            Val::ExternRef(value) => Some(value),
            _ => None,
        }
    }

    /// The `i32`; panics if this is another type.
    #[track_caller]
    pub fn unwrap_i32(&self) -> i32 {
        self.i32().unwrap_or_else(|| self.wrong_type("i32"))
    }

    /// The `i64`; panics if this is another type.
    #[track_caller]
    pub fn unwrap_i64(&self) -> i64 {
        self.i64().unwrap_or_else(|| self.wrong_type("i64"))
    }

    /// The `f32`; panics if this is another type.
    #[track_caller]
    pub fn unwrap_f32(&self) -> f32 {
        self.f32().unwrap_or_else(|| self.wrong_type("f32"))
    }

    /// The `f64`; panics if this is another type.
    #[track_caller]
    pub fn unwrap_f64(&self) -> f64 {
        self.f64().unwrap_or_else(|| self.wrong_type("f64"))
    }

    /// The `v128` bits; panics if this is another type.
    #[track_caller]
    pub fn unwrap_v128(&self) -> u128 {
        self.v128().unwrap_or_else(|| self.wrong_type("v128"))
    }

    /// The `funcref`; panics if this is another type.
    #[track_caller]
    pub fn unwrap_func_ref(&self) -> Option<Func> {
        self.func_ref()
            .unwrap_or_else(|| self.wrong_type("funcref"))
    }

    /// The `externref`; panics if this is another type.
    #[track_caller]
    pub fn unwrap_extern_ref(&self) -> Option<ExternRef> {
        self.extern_ref()
            .unwrap_or_else(|| self.wrong_type("externref"))
    }

    #[cold]
    #[track_caller]
    fn wrong_type(&self, expected: &str) -> ! {
        panic!("expected a {expected} value, found {self:?}")
    }

    /// The default value of `ty`: zero, or null. `ty` must be [`representable`].
    pub(crate) fn default_for(ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::V128 => Val::V128(0),
            ValType::Ref(ref_type) => match ref_family(ref_type.heap_type) {
                Some(RefFamily::Func) => Val::FuncRef(None),
                _ => Val::ExternRef(None),
            },
        }
    }

    /// Decodes raw bits of type `ty` (vm's encoding) made in store `store`.
    ///
    /// `ty` must be [`representable`]: callers check before any raw value of an
    /// unrepresentable type can reach here.
    #[inline]
    pub(crate) fn from_raw(store: StoreId, raw: u128, ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(raw as u32 as i32),
            ValType::I64 => Val::I64(raw as u64 as i64),
            ValType::F32 => Val::F32(raw as u32),
            ValType::F64 => Val::F64(raw as u64),
            ValType::V128 => Val::V128(raw),
            ValType::Ref(ref_type) => match ref_family(ref_type.heap_type) {
                Some(RefFamily::Func) => {
                    Val::FuncRef(decode_func_ref(raw as u64).map(|id| Func { store, id }))
                }
                Some(RefFamily::Extern) => {
                    Val::ExternRef(decode_extern_ref(raw as u64).map(|id| ExternRef { store, id }))
                }
                None => {
                    debug_assert!(false, "unrepresentable type {ty} reached Val::from_raw");
                    Val::ExternRef(None)
                }
            },
        }
    }

    /// The raw bits of this value (vm's encoding), for use in store `store`.
    ///
    /// Panics if a reference belongs to another store.
    #[inline]
    #[track_caller]
    pub(crate) fn to_raw(self, store: StoreId) -> u128 {
        match self {
            Val::I32(value) => value as u32 as u128,
            Val::I64(value) => value as u64 as u128,
            Val::F32(bits) => bits as u128,
            Val::F64(bits) => bits as u128,
            Val::V128(bits) => bits,
            Val::FuncRef(func) => encode_func_ref(func.map(|func| {
                assert_same_store(func.store, store);
                func.id
            })) as u128,
            Val::ExternRef(value) => encode_extern_ref(value.map(|value| {
                assert_same_store(value.store, store);
                value.id
            })) as u128,
        }
    }

    /// Whether this value belongs to `ty`. A concrete function type (`(ref $t)`) is checked
    /// against `module`'s type `$t` and fails without a module.
    ///
    /// Panics if a reference belongs to another store than `store`.
    #[track_caller]
    pub(crate) fn matches(
        &self,
        store: &StoreOpaque,
        ty: ValType,
        module: Option<&RuntimeModule>,
    ) -> bool {
        match (*self, ty) {
            (Val::I32(_), ValType::I32)
            | (Val::I64(_), ValType::I64)
            | (Val::F32(_), ValType::F32)
            | (Val::F64(_), ValType::F64)
            | (Val::V128(_), ValType::V128) => true,
            (Val::FuncRef(None), ValType::Ref(ref_type)) => {
                ref_type.nullable && ref_type.heap_type.is_func()
            }
            (Val::FuncRef(Some(func)), ValType::Ref(ref_type)) => {
                assert_same_store(func.store, store.id());
                match ref_type.heap_type {
                    HeapType::Func => true,
                    HeapType::Concrete(index) => module.is_some_and(|module| {
                        module.type_ids.get(index as usize) == Some(&store.func(func.id).type_id())
                    }),
                    _ => false,
                }
            }
            (Val::ExternRef(None), ValType::Ref(ref_type)) => {
                ref_type.nullable && ref_family(ref_type.heap_type) == Some(RefFamily::Extern)
            }
            (Val::ExternRef(Some(value)), ValType::Ref(ref_type)) => {
                assert_same_store(value.store, store.id());
                ref_type.heap_type == HeapType::Extern
            }
            _ => false,
        }
    }
}

impl From<i32> for Val {
    fn from(value: i32) -> Val {
        Val::I32(value)
    }
}

impl From<i64> for Val {
    fn from(value: i64) -> Val {
        Val::I64(value)
    }
}

impl From<f32> for Val {
    fn from(value: f32) -> Val {
        Val::F32(value.to_bits())
    }
}

impl From<f64> for Val {
    fn from(value: f64) -> Val {
        Val::F64(value.to_bits())
    }
}

impl From<u128> for Val {
    fn from(bits: u128) -> Val {
        Val::V128(bits)
    }
}

impl From<Func> for Val {
    fn from(func: Func) -> Val {
        Val::FuncRef(Some(func))
    }
}

impl From<Option<Func>> for Val {
    fn from(func: Option<Func>) -> Val {
        Val::FuncRef(func)
    }
}

impl From<ExternRef> for Val {
    fn from(value: ExternRef) -> Val {
        Val::ExternRef(Some(value))
    }
}

impl From<Option<ExternRef>> for Val {
    fn from(value: Option<ExternRef>) -> Val {
        Val::ExternRef(value)
    }
}

/// A host value that Wasm code can hold as an `externref`. A handle: `Copy`, and valid only
/// in the store that made it. The value lives as long as the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExternRef {
    pub(crate) store: StoreId,
    pub(crate) id: ExternRefId,
}

impl ExternRef {
    /// Moves `value` into the store and returns a reference to it.
    pub fn new(mut store: impl AsContextMut, value: impl Any + Send + Sync) -> ExternRef {
        let context = store.as_context_mut();
        ExternRef {
            store: context.opaque.id(),
            id: context.opaque.push_extern_ref(Box::new(value)),
        }
    }

    /// The host value. Use `downcast_ref` to get at its type.
    ///
    /// # Panics
    ///
    /// If `store` is not the store that made this reference.
    pub fn data<'a, T: 'static>(
        &self,
        store: impl Into<StoreContext<'a, T>>,
    ) -> &'a (dyn Any + Send + Sync) {
        let context = store.into();
        assert_same_store(self.store, context.opaque.id());
        &*context.opaque.extern_refs[self.id.index()]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefFamily {
    Func,
    Extern,
}

fn ref_family(heap_type: HeapType) -> Option<RefFamily> {
    if heap_type.is_func() {
        Some(RefFamily::Func)
    } else if matches!(heap_type, HeapType::Extern | HeapType::NoExtern) {
        Some(RefFamily::Extern)
    } else {
        None
    }
}

/// Whether some [`Val`] can hold values of `ty`: every numeric type, and references to
/// functions or host values (GC and exception references cannot cross the API yet).
pub(crate) fn representable(ty: ValType) -> bool {
    match ty {
        ValType::Ref(RefType { heap_type, .. }) => ref_family(heap_type).is_some(),
        _ => true,
    }
}

/// Writes `values` into `raw` in vm's slot layout (a `v128` takes two slots, low half
/// first; see `kestrel_vm::value`). `raw` must hold `slot_count` of their types.
#[inline]
#[track_caller]
pub(crate) fn write_slots(store: StoreId, values: &[Val], raw: &mut [u64]) {
    let mut slot = 0;
    for value in values {
        let bits = value.to_raw(store);
        if let Val::V128(_) = value {
            raw[slot..slot + 2].copy_from_slice(&v128_to_slots(bits));
            slot += 2;
        } else {
            raw[slot] = bits as u64;
            slot += 1;
        }
    }
}

/// Reads values of `types` from `raw` (vm's slot layout) into `values`.
#[inline]
pub(crate) fn read_slots(store: StoreId, types: &[ValType], raw: &[u64], values: &mut [Val]) {
    let mut slot = 0;
    for (value, ty) in values.iter_mut().zip(types) {
        let bits = if *ty == ValType::V128 {
            slot += 2;
            v128_from_slots(raw[slot - 2], raw[slot - 1])
        } else {
            slot += 1;
            raw[slot - 1] as u128
        };
        *value = Val::from_raw(store, bits, *ty);
    }
}
