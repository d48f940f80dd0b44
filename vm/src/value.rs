//! The raw encoding of Wasm values in 64-bit slots, shared by every tier and the API.
//!
//! - `i32`, `f32`: the low 32 bits (bit pattern for floats); the upper 32 bits are
//!   unspecified, so readers truncate and writers may leave garbage there.
//! - `i64`, `f64`: all 64 bits.
//! - references: 0 is null; otherwise the store index of the function ([`FuncId`]) or host
//!   value ([`ExternRefId`]) plus one. The encoding needs no allocation and makes a table a
//!   plain array of `u64`.
//! - `v128` occupies 128 bits where it is stored (globals); the tiers give it two slots.

use crate::store::{ExternRefId, FuncId};

#[inline]
pub fn encode_func_ref(func: Option<FuncId>) -> u64 {
    func.map_or(0, |func| func.0 as u64 + 1)
}

#[inline]
pub fn decode_func_ref(raw: u64) -> Option<FuncId> {
    (raw != 0).then(|| FuncId((raw - 1) as u32))
}

#[inline]
pub fn encode_extern_ref(value: Option<ExternRefId>) -> u64 {
    value.map_or(0, |value| value.0 as u64 + 1)
}

#[inline]
pub fn decode_extern_ref(raw: u64) -> Option<ExternRefId> {
    (raw != 0).then(|| ExternRefId((raw - 1) as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_round_trip_and_null_is_zero() {
        assert_eq!(encode_func_ref(None), 0);
        assert_eq!(
            decode_func_ref(encode_func_ref(Some(FuncId(0)))),
            Some(FuncId(0))
        );
        assert_eq!(
            decode_func_ref(encode_func_ref(Some(FuncId(u32::MAX - 1)))),
            Some(FuncId(u32::MAX - 1))
        );
        assert_eq!(decode_extern_ref(0), None);
        assert_eq!(
            decode_extern_ref(encode_extern_ref(Some(ExternRefId(7)))),
            Some(ExternRefId(7))
        );
    }
}
