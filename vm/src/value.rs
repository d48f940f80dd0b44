//! The raw encoding of Wasm values in 64-bit slots, shared by every tier and the API.
//!
//! - `i32`, `f32`: the low 32 bits (bit pattern for floats); the upper 32 bits are
//!   unspecified, so readers truncate and writers may leave garbage there.
//! - `i64`, `f64`: all 64 bits.
//! - references: 0 is null; otherwise the store index of the function ([`FuncId`]) or host
//!   value ([`ExternRefId`]) plus one. The encoding needs no allocation and makes a table a
//!   plain array of `u64`.
//! - `v128`: two consecutive slots, the low 64 bits (lanes 0.. in little-endian lane
//!   order) first. Every buffer of values that crosses a boundary — interpreter frames, the
//!   `values` of a call from the API or of a host function, the array-call trampolines, the
//!   on-stack-replacement state — lays its values out this way, so value `i` of a list
//!   starts at slot [`slot_offset`]`(types, i)` and a list needs [`slot_count`] slots.
//!   Where a value is stored in memory of its own (a global's 16-byte cell) it takes 128
//!   bits, and the two-slot form has the same bytes on the little-endian hosts Kestrel runs
//!   on.

use crate::store::{ExternRefId, FuncId};
use kestrel_parser::ValType;

/// How many 64-bit slots one value of `ty` occupies: 2 for `v128`, otherwise 1.
#[inline]
pub fn slots_per_value(ty: ValType) -> usize {
    if ty == ValType::V128 { 2 } else { 1 }
}

/// How many slots the values of `types` occupy together.
#[inline]
pub fn slot_count(types: &[ValType]) -> usize {
    types.iter().map(|ty| slots_per_value(*ty)).sum()
}

/// The first slot of value `index` of a list of values of `types`.
#[inline]
pub fn slot_offset(types: &[ValType], index: usize) -> usize {
    slot_count(&types[..index])
}

/// Splits a `v128` into its two slots, low half first.
#[inline]
pub fn v128_to_slots(bits: u128) -> [u64; 2] {
    [bits as u64, (bits >> 64) as u64]
}

/// Joins two slots (low half first) into a `v128`.
#[inline]
pub fn v128_from_slots(low: u64, high: u64) -> u128 {
    low as u128 | (high as u128) << 64
}

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
    fn v128_slots_round_trip_low_half_first() {
        let bits = 0x0011_2233_4455_6677_8899_aabb_ccdd_eeffu128;
        let slots = v128_to_slots(bits);
        assert_eq!(slots, [0x8899_aabb_ccdd_eeff, 0x0011_2233_4455_6677]);
        assert_eq!(v128_from_slots(slots[0], slots[1]), bits);
        // Same bytes as the 16-byte form on a little-endian host.
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&slots[0].to_le_bytes());
        bytes[8..].copy_from_slice(&slots[1].to_le_bytes());
        assert_eq!(bytes, bits.to_le_bytes());
    }

    #[test]
    fn slot_offsets_count_v128_twice() {
        let types = [ValType::I32, ValType::V128, ValType::F64, ValType::V128];
        assert_eq!(slot_count(&types), 6);
        let offsets: Vec<usize> = (0..types.len()).map(|i| slot_offset(&types, i)).collect();
        assert_eq!(offsets, [0, 1, 3, 4]);
    }

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
