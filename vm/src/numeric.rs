//! WebAssembly's exact numeric semantics (Wasm 2.0 core spec), written once.
//!
//! Every tier (the interpreter now, JIT libcalls later) calls these instead of
//! re-deriving edge cases, so a spec bug is fixed in one place.
//!
//! Invariants:
//! - Traps: integer `div`/`rem` by zero trap [`TrapCode::IntegerDivisionByZero`];
//!   `div_s` of `MIN / -1` traps [`TrapCode::IntegerOverflow`] while `rem_s` of
//!   `MIN % -1` is `0`. Trapping float-to-int truncations trap
//!   [`TrapCode::BadConversionToInteger`] on NaN and [`TrapCode::IntegerOverflow`]
//!   when the truncated value does not fit (the reference interpreter's split).
//!   Nothing else here traps.
//! - NaN: `min`, `max`, `nearest`, `ceil`, `floor` and `trunc` return a NaN
//!   whenever the spec's `nans` rule does, made with a plain Rust float add, whose
//!   NaN rules (canonical inputs give a canonical result, otherwise a quiet
//!   "arithmetic" NaN, sign unspecified) are exactly Wasm's. The rounding ops need
//!   this because Rust's `ceil`/`floor`/`trunc`/`round_ties_even` can return a
//!   signalling NaN unchanged. `abs`, `neg` and `copysign` are pure sign-bit
//!   operations and never alter a NaN's payload. Other float arithmetic (`add`,
//!   `sqrt`, ...) is plain Rust and already conforms.
//! - Signed zeros: `min(-0, +0) = -0`, `max(-0, +0) = +0`, and rounding keeps the
//!   sign of a zero result (`nearest(-0.5) = -0`, `ceil(-0.5) = -0`).
//!
//! Conversions Rust's `as` already gets right are left to callers and not wrapped:
//! int-to-float (`convert_*`) and `f32.demote_f64` round to nearest, ties to even;
//! `f64.promote_f32` is exact; the `trunc_sat` family saturates with NaN to 0 (the
//! wrappers below exist only to name the ops and pin that behaviour with tests).

use crate::trap::TrapCode;

// ---------------------------------------------------------------------------
// Integer division and remainder
// ---------------------------------------------------------------------------

/// `i32.div_s`.
#[inline]
pub fn i32_div_s(a: i32, b: i32) -> Result<i32, TrapCode> {
    match a.checked_div(b) {
        Some(q) => Ok(q),
        // Zero is checked first: `MIN / 0` is a divide-by-zero, not an overflow.
        None if b == 0 => Err(TrapCode::IntegerDivisionByZero),
        None => Err(TrapCode::IntegerOverflow),
    }
}

/// `i32.div_u`.
#[inline]
pub fn i32_div_u(a: u32, b: u32) -> Result<u32, TrapCode> {
    a.checked_div(b).ok_or(TrapCode::IntegerDivisionByZero)
}

/// `i32.rem_s`.
#[inline]
pub fn i32_rem_s(a: i32, b: i32) -> Result<i32, TrapCode> {
    if b == 0 {
        return Err(TrapCode::IntegerDivisionByZero);
    }
    // `MIN % -1` is 0 in Wasm; `wrapping_rem` gives exactly that.
    Ok(a.wrapping_rem(b))
}

/// `i32.rem_u`.
#[inline]
pub fn i32_rem_u(a: u32, b: u32) -> Result<u32, TrapCode> {
    a.checked_rem(b).ok_or(TrapCode::IntegerDivisionByZero)
}

/// `i64.div_s`.
#[inline]
pub fn i64_div_s(a: i64, b: i64) -> Result<i64, TrapCode> {
    match a.checked_div(b) {
        Some(q) => Ok(q),
        None if b == 0 => Err(TrapCode::IntegerDivisionByZero),
        None => Err(TrapCode::IntegerOverflow),
    }
}

/// `i64.div_u`.
#[inline]
pub fn i64_div_u(a: u64, b: u64) -> Result<u64, TrapCode> {
    a.checked_div(b).ok_or(TrapCode::IntegerDivisionByZero)
}

/// `i64.rem_s`.
#[inline]
pub fn i64_rem_s(a: i64, b: i64) -> Result<i64, TrapCode> {
    if b == 0 {
        return Err(TrapCode::IntegerDivisionByZero);
    }
    Ok(a.wrapping_rem(b))
}

/// `i64.rem_u`.
#[inline]
pub fn i64_rem_u(a: u64, b: u64) -> Result<u64, TrapCode> {
    a.checked_rem(b).ok_or(TrapCode::IntegerDivisionByZero)
}

// ---------------------------------------------------------------------------
// Shifts, rotates and sign extension
// ---------------------------------------------------------------------------

// Wasm takes the shift count modulo the bit width; `wrapping_sh*` and
// `rotate_*` do exactly that, and `as u32` keeps the low bits that matter.

/// `i32.shl`.
#[inline]
pub fn i32_shl(a: i32, b: i32) -> i32 {
    a.wrapping_shl(b as u32)
}

/// `i32.shr_s`.
#[inline]
pub fn i32_shr_s(a: i32, b: i32) -> i32 {
    a.wrapping_shr(b as u32)
}

/// `i32.shr_u`.
#[inline]
pub fn i32_shr_u(a: i32, b: i32) -> i32 {
    (a as u32).wrapping_shr(b as u32) as i32
}

/// `i32.rotl`.
#[inline]
pub fn i32_rotl(a: i32, b: i32) -> i32 {
    a.rotate_left(b as u32)
}

/// `i32.rotr`.
#[inline]
pub fn i32_rotr(a: i32, b: i32) -> i32 {
    a.rotate_right(b as u32)
}

/// `i64.shl`.
#[inline]
pub fn i64_shl(a: i64, b: i64) -> i64 {
    a.wrapping_shl(b as u32)
}

/// `i64.shr_s`.
#[inline]
pub fn i64_shr_s(a: i64, b: i64) -> i64 {
    a.wrapping_shr(b as u32)
}

/// `i64.shr_u`.
#[inline]
pub fn i64_shr_u(a: i64, b: i64) -> i64 {
    (a as u64).wrapping_shr(b as u32) as i64
}

/// `i64.rotl`.
#[inline]
pub fn i64_rotl(a: i64, b: i64) -> i64 {
    a.rotate_left(b as u32)
}

/// `i64.rotr`.
#[inline]
pub fn i64_rotr(a: i64, b: i64) -> i64 {
    a.rotate_right(b as u32)
}

/// `i32.extend8_s`.
#[inline]
pub fn i32_extend8_s(x: i32) -> i32 {
    x as i8 as i32
}

/// `i32.extend16_s`.
#[inline]
pub fn i32_extend16_s(x: i32) -> i32 {
    x as i16 as i32
}

/// `i64.extend8_s`.
#[inline]
pub fn i64_extend8_s(x: i64) -> i64 {
    x as i8 as i64
}

/// `i64.extend16_s`.
#[inline]
pub fn i64_extend16_s(x: i64) -> i64 {
    x as i16 as i64
}

/// `i64.extend32_s`.
#[inline]
pub fn i64_extend32_s(x: i64) -> i64 {
    x as i32 as i64
}

// ---------------------------------------------------------------------------
// Float sign-bit operations
// ---------------------------------------------------------------------------

// Done on the bits so a NaN's payload (and signalling-ness) is never touched.

const F32_SIGN: u32 = 1 << 31;
const F64_SIGN: u64 = 1 << 63;

/// `f32.abs`.
#[inline]
pub fn f32_abs(x: f32) -> f32 {
    f32::from_bits(x.to_bits() & !F32_SIGN)
}

/// `f32.neg`.
#[inline]
pub fn f32_neg(x: f32) -> f32 {
    f32::from_bits(x.to_bits() ^ F32_SIGN)
}

/// `f32.copysign`: magnitude of `a`, sign of `b`.
#[inline]
pub fn f32_copysign(a: f32, b: f32) -> f32 {
    f32::from_bits((a.to_bits() & !F32_SIGN) | (b.to_bits() & F32_SIGN))
}

/// `f64.abs`.
#[inline]
pub fn f64_abs(x: f64) -> f64 {
    f64::from_bits(x.to_bits() & !F64_SIGN)
}

/// `f64.neg`.
#[inline]
pub fn f64_neg(x: f64) -> f64 {
    f64::from_bits(x.to_bits() ^ F64_SIGN)
}

/// `f64.copysign`: magnitude of `a`, sign of `b`.
#[inline]
pub fn f64_copysign(a: f64, b: f64) -> f64 {
    f64::from_bits((a.to_bits() & !F64_SIGN) | (b.to_bits() & F64_SIGN))
}

// ---------------------------------------------------------------------------
// Float min and max
// ---------------------------------------------------------------------------

// `f*::min`/`max` return the non-NaN operand and may ignore zero signs, so they
// are not usable. For NaN we return `a + b`: Rust's NaN rules make that a quiet
// NaN that is canonical when the NaN inputs are, which is Wasm's `nans`.
// When `a == b` the bits differ only for zeros of opposite sign, so OR (min)
// picks -0 and AND (max) picks +0.

/// `f32.min`.
#[inline]
pub fn f32_min(a: f32, b: f32) -> f32 {
    if a < b {
        a
    } else if b < a {
        b
    } else if a == b {
        f32::from_bits(a.to_bits() | b.to_bits())
    } else {
        a + b
    }
}

/// `f32.max`.
#[inline]
pub fn f32_max(a: f32, b: f32) -> f32 {
    if a > b {
        a
    } else if b > a {
        b
    } else if a == b {
        f32::from_bits(a.to_bits() & b.to_bits())
    } else {
        a + b
    }
}

/// `f64.min`.
#[inline]
pub fn f64_min(a: f64, b: f64) -> f64 {
    if a < b {
        a
    } else if b < a {
        b
    } else if a == b {
        f64::from_bits(a.to_bits() | b.to_bits())
    } else {
        a + b
    }
}

/// `f64.max`.
#[inline]
pub fn f64_max(a: f64, b: f64) -> f64 {
    if a > b {
        a
    } else if b > a {
        b
    } else if a == b {
        f64::from_bits(a.to_bits() & b.to_bits())
    } else {
        a + b
    }
}

// ---------------------------------------------------------------------------
// Float rounding
// ---------------------------------------------------------------------------

// Rust's rounding functions are exact (`round_ties_even` has no `x + 0.5` double
// rounding) and keep the sign of zero, but without SSE4.1 they go through a
// software libm that returns a signalling NaN unchanged, and Wasm requires a quiet
// one. `x + x` quiets it.

macro_rules! rounding_op {
    ($(#[$doc:meta])* $name:ident, $ty:ty, $method:ident) => {
        $(#[$doc])*
        #[inline]
        pub fn $name(x: $ty) -> $ty {
            if x.is_nan() { x + x } else { x.$method() }
        }
    };
}

rounding_op!(
    /// `f32.nearest`: round to nearest integer, ties to even.
    f32_nearest, f32, round_ties_even
);
rounding_op!(
    /// `f64.nearest`: round to nearest integer, ties to even.
    f64_nearest, f64, round_ties_even
);
rounding_op!(
    /// `f32.ceil`.
    f32_ceil, f32, ceil
);
rounding_op!(
    /// `f64.ceil`.
    f64_ceil, f64, ceil
);
rounding_op!(
    /// `f32.floor`.
    f32_floor, f32, floor
);
rounding_op!(
    /// `f64.floor`.
    f64_floor, f64, floor
);
rounding_op!(
    /// `f32.trunc`.
    f32_trunc, f32, trunc
);
rounding_op!(
    /// `f64.trunc`.
    f64_trunc, f64, trunc
);

// ---------------------------------------------------------------------------
// Trapping float-to-int truncation
// ---------------------------------------------------------------------------

// Each op accepts exactly the `x` whose truncation fits: `lo < x` or `lo <= x`
// and `x < hi`, with bounds that are exact in the source type. Signed lower
// bounds are `MIN - 1` (exclusive) where that is representable, else `MIN`
// (inclusive) because no value of the source type lies strictly between
// `MIN - 1` and `MIN`. Unsigned lower bounds are `-1` exclusive, so `-0.9 -> 0`.
// NaN and infinities fail the range check; only then do we look for NaN.

#[cold]
#[inline(never)]
fn trunc_trap(is_nan: bool) -> TrapCode {
    if is_nan {
        TrapCode::BadConversionToInteger
    } else {
        TrapCode::IntegerOverflow
    }
}

/// `i32.trunc_f32_s`.
#[inline]
pub fn i32_trunc_f32_s(x: f32) -> Result<i32, TrapCode> {
    if (-2147483648.0..2147483648.0).contains(&x) {
        Ok(x as i32)
    } else {
        Err(trunc_trap(x.is_nan()))
    }
}

/// `i32.trunc_f32_u`.
#[inline]
pub fn i32_trunc_f32_u(x: f32) -> Result<u32, TrapCode> {
    if x > -1.0 && x < 4294967296.0 {
        Ok(x as u32)
    } else {
        Err(trunc_trap(x.is_nan()))
    }
}

/// `i32.trunc_f64_s`.
#[inline]
pub fn i32_trunc_f64_s(x: f64) -> Result<i32, TrapCode> {
    if x > -2147483649.0 && x < 2147483648.0 {
        Ok(x as i32)
    } else {
        Err(trunc_trap(x.is_nan()))
    }
}

/// `i32.trunc_f64_u`.
#[inline]
pub fn i32_trunc_f64_u(x: f64) -> Result<u32, TrapCode> {
    if x > -1.0 && x < 4294967296.0 {
        Ok(x as u32)
    } else {
        Err(trunc_trap(x.is_nan()))
    }
}

/// `i64.trunc_f32_s`.
#[inline]
pub fn i64_trunc_f32_s(x: f32) -> Result<i64, TrapCode> {
    if (-9223372036854775808.0..9223372036854775808.0).contains(&x) {
        Ok(x as i64)
    } else {
        Err(trunc_trap(x.is_nan()))
    }
}

/// `i64.trunc_f32_u`.
#[inline]
pub fn i64_trunc_f32_u(x: f32) -> Result<u64, TrapCode> {
    if x > -1.0 && x < 18446744073709551616.0 {
        Ok(x as u64)
    } else {
        Err(trunc_trap(x.is_nan()))
    }
}

/// `i64.trunc_f64_s`.
#[inline]
pub fn i64_trunc_f64_s(x: f64) -> Result<i64, TrapCode> {
    if (-9223372036854775808.0..9223372036854775808.0).contains(&x) {
        Ok(x as i64)
    } else {
        Err(trunc_trap(x.is_nan()))
    }
}

/// `i64.trunc_f64_u`.
#[inline]
pub fn i64_trunc_f64_u(x: f64) -> Result<u64, TrapCode> {
    if x > -1.0 && x < 18446744073709551616.0 {
        Ok(x as u64)
    } else {
        Err(trunc_trap(x.is_nan()))
    }
}

// ---------------------------------------------------------------------------
// Saturating float-to-int truncation
// ---------------------------------------------------------------------------

// Rust's float-to-int `as` truncates toward zero, clamps to the target range and
// maps NaN to 0: precisely `trunc_sat`.

/// `i32.trunc_sat_f32_s`.
#[inline]
pub fn i32_trunc_sat_f32_s(x: f32) -> i32 {
    x as i32
}

/// `i32.trunc_sat_f32_u`.
#[inline]
pub fn i32_trunc_sat_f32_u(x: f32) -> u32 {
    x as u32
}

/// `i32.trunc_sat_f64_s`.
#[inline]
pub fn i32_trunc_sat_f64_s(x: f64) -> i32 {
    x as i32
}

/// `i32.trunc_sat_f64_u`.
#[inline]
pub fn i32_trunc_sat_f64_u(x: f64) -> u32 {
    x as u32
}

/// `i64.trunc_sat_f32_s`.
#[inline]
pub fn i64_trunc_sat_f32_s(x: f32) -> i64 {
    x as i64
}

/// `i64.trunc_sat_f32_u`.
#[inline]
pub fn i64_trunc_sat_f32_u(x: f32) -> u64 {
    x as u64
}

/// `i64.trunc_sat_f64_s`.
#[inline]
pub fn i64_trunc_sat_f64_s(x: f64) -> i64 {
    x as i64
}

/// `i64.trunc_sat_f64_u`.
#[inline]
pub fn i64_trunc_sat_f64_u(x: f64) -> u64 {
    x as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use TrapCode::IntegerOverflow as Overflow;
    use TrapCode::{BadConversionToInteger as Nan, IntegerDivisionByZero as DivZero};
    use std::hint::black_box;

    const F32_QUIET: u32 = 0x0040_0000;
    const F32_CANON: u32 = 0x7fc0_0000;
    const F32_SNAN: u32 = 0x7fa0_0001; // signalling, with payload
    const F32_QNAN_PAYLOAD: u32 = 0xffc0_1234; // negative quiet, with payload
    const F64_QUIET: u64 = 0x0008_0000_0000_0000;
    const F64_CANON: u64 = 0x7ff8_0000_0000_0000;
    const F64_SNAN: u64 = 0x7ff4_0000_0000_0001;
    const F64_QNAN_PAYLOAD: u64 = 0xfff8_0000_0000_1234;

    fn f32n(bits: u32) -> f32 {
        f32::from_bits(bits)
    }

    fn f64n(bits: u64) -> f64 {
        f64::from_bits(bits)
    }

    fn assert_f32_arithmetic_nan(x: f32) {
        assert!(x.is_nan(), "{x}");
        assert_ne!(x.to_bits() & F32_QUIET, 0, "{:#x} not quiet", x.to_bits());
    }

    fn assert_f32_canonical_nan(x: f32) {
        assert_eq!(x.to_bits() & !F32_SIGN, F32_CANON, "{:#x}", x.to_bits());
    }

    fn assert_f64_arithmetic_nan(x: f64) {
        assert!(x.is_nan(), "{x}");
        assert_ne!(x.to_bits() & F64_QUIET, 0, "{:#x} not quiet", x.to_bits());
    }

    fn assert_f64_canonical_nan(x: f64) {
        assert_eq!(x.to_bits() & !F64_SIGN, F64_CANON, "{:#x}", x.to_bits());
    }

    /// Bitwise float equality, so -0 vs +0 and NaN payloads count.
    macro_rules! assert_bits {
        ($left:expr, $right:expr) => {{
            let (l, r) = ($left, $right);
            assert_eq!(l.to_bits(), r.to_bits(), "{l:?} vs {r:?}");
        }};
    }

    // --- integer division ---------------------------------------------------

    #[test]
    fn i32_div_rem() {
        assert_eq!(i32_div_s(7, -2), Ok(-3));
        assert_eq!(i32_div_s(-7, 2), Ok(-3));
        assert_eq!(i32_div_s(i32::MIN, -1), Err(Overflow));
        assert_eq!(i32_div_s(i32::MIN, 1), Ok(i32::MIN));
        assert_eq!(i32_div_s(i32::MIN, 0), Err(DivZero));
        assert_eq!(i32_div_s(1, 0), Err(DivZero));
        assert_eq!(i32_div_s(0, 0), Err(DivZero));

        assert_eq!(i32_div_u(u32::MAX, 2), Ok(0x7fff_ffff));
        assert_eq!(i32_div_u(0x8000_0000, u32::MAX), Ok(0));
        assert_eq!(i32_div_u(1, 0), Err(DivZero));

        assert_eq!(i32_rem_s(i32::MIN, -1), Ok(0));
        assert_eq!(i32_rem_s(-7, 2), Ok(-1));
        assert_eq!(i32_rem_s(7, -2), Ok(1));
        assert_eq!(i32_rem_s(i32::MIN, 0), Err(DivZero));
        assert_eq!(i32_rem_s(1, 0), Err(DivZero));

        assert_eq!(i32_rem_u(u32::MAX, 10), Ok(5));
        assert_eq!(i32_rem_u(0x8000_0000, u32::MAX), Ok(0x8000_0000));
        assert_eq!(i32_rem_u(1, 0), Err(DivZero));
    }

    #[test]
    fn i64_div_rem() {
        assert_eq!(i64_div_s(7, -2), Ok(-3));
        assert_eq!(i64_div_s(i64::MIN, -1), Err(Overflow));
        assert_eq!(i64_div_s(i64::MIN, 2), Ok(i64::MIN / 2));
        assert_eq!(i64_div_s(i64::MIN, 0), Err(DivZero));
        assert_eq!(i64_div_s(1, 0), Err(DivZero));

        assert_eq!(i64_div_u(u64::MAX, 2), Ok(u64::MAX >> 1));
        assert_eq!(i64_div_u(1, 0), Err(DivZero));

        assert_eq!(i64_rem_s(i64::MIN, -1), Ok(0));
        assert_eq!(i64_rem_s(-7, 2), Ok(-1));
        assert_eq!(i64_rem_s(i64::MIN, 0), Err(DivZero));

        assert_eq!(i64_rem_u(u64::MAX, 10), Ok(5));
        assert_eq!(i64_rem_u(1, 0), Err(DivZero));
    }

    #[test]
    fn div_traps_at_runtime_too() {
        // Guard against only const-folded paths being exercised.
        assert_eq!(i32_div_s(black_box(i32::MIN), black_box(-1)), Err(Overflow));
        assert_eq!(i32_rem_s(black_box(i32::MIN), black_box(-1)), Ok(0));
        assert_eq!(i64_div_s(black_box(i64::MIN), black_box(-1)), Err(Overflow));
        assert_eq!(i64_rem_s(black_box(i64::MIN), black_box(-1)), Ok(0));
        assert_eq!(i64_rem_u(black_box(5), black_box(0)), Err(DivZero));
    }

    // --- shifts, rotates, extension -----------------------------------------

    #[test]
    fn i32_shifts_mask_count() {
        assert_eq!(i32_shl(1, 31), i32::MIN);
        assert_eq!(i32_shl(1, 32), 1);
        assert_eq!(i32_shl(1, 33), 2);
        assert_eq!(i32_shl(1, -1), i32::MIN);
        assert_eq!(i32_shr_s(i32::MIN, 31), -1);
        assert_eq!(i32_shr_s(i32::MIN, 32), i32::MIN);
        assert_eq!(i32_shr_s(-8, 1), -4);
        assert_eq!(i32_shr_u(i32::MIN, 31), 1);
        assert_eq!(i32_shr_u(-1, 32), -1);
        assert_eq!(i32_shr_u(-1, 1), i32::MAX);
        assert_eq!(i32_shr_u(-1, -1), 1);
        assert_eq!(i32_rotl(0x8000_0001_u32 as i32, 1), 3);
        assert_eq!(i32_rotl(1, 33), 2);
        assert_eq!(i32_rotl(1, -1), i32::MIN);
        assert_eq!(i32_rotr(1, 1), i32::MIN);
        assert_eq!(i32_rotr(3, 33), 0x8000_0001_u32 as i32);
        assert_eq!(i32_rotr(0x1234_5678, 0), 0x1234_5678);
        assert_eq!(i32_rotr(0x1234_5678, i32::MIN), 0x1234_5678);
    }

    #[test]
    fn i64_shifts_mask_count() {
        assert_eq!(i64_shl(1, 63), i64::MIN);
        assert_eq!(i64_shl(1, 64), 1);
        assert_eq!(i64_shl(1, 65), 2);
        assert_eq!(i64_shl(1, -1), i64::MIN);
        // Only the low six bits count, even when higher bits are set.
        assert_eq!(i64_shl(1, 0x1_0000_0001), 2);
        assert_eq!(i64_shr_s(i64::MIN, 63), -1);
        assert_eq!(i64_shr_s(i64::MIN, 64), i64::MIN);
        assert_eq!(i64_shr_u(i64::MIN, 63), 1);
        assert_eq!(i64_shr_u(-1, 64), -1);
        assert_eq!(i64_shr_u(-1, 1), i64::MAX);
        assert_eq!(i64_rotl(i64::MIN | 1, 1), 3);
        assert_eq!(i64_rotl(1, 65), 2);
        assert_eq!(i64_rotl(1, -1), i64::MIN);
        assert_eq!(i64_rotr(1, 1), i64::MIN);
        assert_eq!(i64_rotr(3, 65), i64::MIN | 1);
        assert_eq!(i64_rotr(0x1234, i64::MIN), 0x1234);
    }

    #[test]
    fn sign_extension() {
        assert_eq!(i32_extend8_s(0x7f), 0x7f);
        assert_eq!(i32_extend8_s(0x80), -128);
        assert_eq!(i32_extend8_s(0x1234_56ff), -1);
        assert_eq!(i32_extend16_s(0x7fff), 0x7fff);
        assert_eq!(i32_extend16_s(0x8000), -32768);
        assert_eq!(i32_extend16_s(0x1234_0000), 0);
        assert_eq!(i64_extend8_s(0x80), -128);
        assert_eq!(i64_extend8_s(0x0123_4567_89ab_cd7f), 0x7f);
        assert_eq!(i64_extend16_s(0xffff), -1);
        assert_eq!(i64_extend16_s(0x7fff), 0x7fff);
        assert_eq!(i64_extend32_s(0x8000_0000), -2147483648);
        assert_eq!(i64_extend32_s(0x7fff_ffff), 0x7fff_ffff);
        assert_eq!(i64_extend32_s(0x0123_4567_ffff_ffff), -1);
    }

    // --- sign-bit ops -------------------------------------------------------

    #[test]
    fn abs_neg_touch_only_sign() {
        for bits in [F32_SNAN, F32_QNAN_PAYLOAD, F32_CANON] {
            assert_eq!(f32_abs(f32n(bits)).to_bits(), bits & !F32_SIGN);
            assert_eq!(f32_neg(f32n(bits)).to_bits(), bits ^ F32_SIGN);
            assert_eq!(f32_abs(black_box(f32n(bits))).to_bits(), bits & !F32_SIGN);
            assert_eq!(f32_neg(black_box(f32n(bits))).to_bits(), bits ^ F32_SIGN);
        }
        for bits in [F64_SNAN, F64_QNAN_PAYLOAD, F64_CANON] {
            assert_eq!(f64_abs(f64n(bits)).to_bits(), bits & !F64_SIGN);
            assert_eq!(f64_neg(f64n(bits)).to_bits(), bits ^ F64_SIGN);
            assert_eq!(f64_abs(black_box(f64n(bits))).to_bits(), bits & !F64_SIGN);
            assert_eq!(f64_neg(black_box(f64n(bits))).to_bits(), bits ^ F64_SIGN);
        }
        assert_bits!(f32_abs(-0.0), 0.0_f32);
        assert_bits!(f32_neg(0.0), -0.0_f32);
        assert_bits!(f32_abs(f32::NEG_INFINITY), f32::INFINITY);
        assert_bits!(f64_abs(-0.0), 0.0_f64);
        assert_bits!(f64_neg(0.0), -0.0_f64);
        assert_bits!(f64_neg(f64::INFINITY), f64::NEG_INFINITY);
        assert_bits!(f64_neg(-1.5), 1.5_f64);
    }

    #[test]
    fn copysign_is_bitwise() {
        assert_eq!(
            f32_copysign(f32n(F32_SNAN), -1.0).to_bits(),
            F32_SNAN | F32_SIGN
        );
        assert_eq!(
            f32_copysign(f32n(F32_QNAN_PAYLOAD), 1.0).to_bits(),
            F32_QNAN_PAYLOAD & !F32_SIGN
        );
        // A NaN sign source contributes only its sign bit.
        assert_bits!(f32_copysign(1.0, f32n(F32_QNAN_PAYLOAD)), -1.0_f32);
        assert_bits!(f32_copysign(-1.0, f32n(F32_SNAN)), 1.0_f32);
        assert_bits!(f32_copysign(0.0, -0.0), -0.0_f32);
        assert_bits!(f32_copysign(-0.0, 0.0), 0.0_f32);
        assert_bits!(f32_copysign(f32::INFINITY, -2.0), f32::NEG_INFINITY);

        assert_eq!(
            f64_copysign(f64n(F64_SNAN), -1.0).to_bits(),
            F64_SNAN | F64_SIGN
        );
        assert_eq!(
            f64_copysign(f64n(F64_QNAN_PAYLOAD), 1.0).to_bits(),
            F64_QNAN_PAYLOAD & !F64_SIGN
        );
        assert_bits!(f64_copysign(1.0, f64n(F64_QNAN_PAYLOAD)), -1.0_f64);
        assert_bits!(f64_copysign(-1.0, f64n(F64_SNAN)), 1.0_f64);
        assert_bits!(f64_copysign(0.0, -0.0), -0.0_f64);
        assert_bits!(f64_copysign(f64::INFINITY, -2.0), f64::NEG_INFINITY);
    }

    // --- min / max ----------------------------------------------------------

    #[test]
    fn f32_min_max_values_and_zeros() {
        assert_bits!(f32_min(1.0, 2.0), 1.0_f32);
        assert_bits!(f32_min(2.0, 1.0), 1.0_f32);
        assert_bits!(f32_max(1.0, 2.0), 2.0_f32);
        assert_bits!(f32_max(-1.0, -2.0), -1.0_f32);
        assert_bits!(f32_min(f32::NEG_INFINITY, f32::MIN), f32::NEG_INFINITY);
        assert_bits!(f32_max(f32::INFINITY, f32::MAX), f32::INFINITY);
        assert_bits!(f32_min(3.5, 3.5), 3.5_f32);
        assert_bits!(f32_max(-3.5, -3.5), -3.5_f32);
        for (a, b) in [(-0.0_f32, 0.0_f32), (0.0, -0.0)] {
            assert_bits!(f32_min(a, b), -0.0_f32);
            assert_bits!(f32_max(a, b), 0.0_f32);
            assert_bits!(f32_min(black_box(a), black_box(b)), -0.0_f32);
            assert_bits!(f32_max(black_box(a), black_box(b)), 0.0_f32);
        }
        assert_bits!(f32_min(0.0, 0.0), 0.0_f32);
        assert_bits!(f32_max(-0.0, -0.0), -0.0_f32);
    }

    #[test]
    fn f64_min_max_values_and_zeros() {
        assert_bits!(f64_min(1.0, 2.0), 1.0_f64);
        assert_bits!(f64_min(2.0, 1.0), 1.0_f64);
        assert_bits!(f64_max(1.0, 2.0), 2.0_f64);
        assert_bits!(f64_max(-1.0, -2.0), -1.0_f64);
        assert_bits!(f64_min(f64::NEG_INFINITY, f64::MIN), f64::NEG_INFINITY);
        assert_bits!(f64_max(f64::INFINITY, f64::MAX), f64::INFINITY);
        for (a, b) in [(-0.0_f64, 0.0_f64), (0.0, -0.0)] {
            assert_bits!(f64_min(a, b), -0.0_f64);
            assert_bits!(f64_max(a, b), 0.0_f64);
            assert_bits!(f64_min(black_box(a), black_box(b)), -0.0_f64);
            assert_bits!(f64_max(black_box(a), black_box(b)), 0.0_f64);
        }
        assert_bits!(f64_min(0.0, 0.0), 0.0_f64);
        assert_bits!(f64_max(-0.0, -0.0), -0.0_f64);
    }

    #[test]
    fn f32_min_max_nan() {
        let canon = f32n(F32_CANON);
        let neg_canon = f32n(F32_CANON | F32_SIGN);
        for op in [f32_min, f32_max] {
            for other in [0.0, -0.0, 1.0, f32::INFINITY, f32::NEG_INFINITY] {
                // Canonical in, canonical out.
                assert_f32_canonical_nan(op(canon, other));
                assert_f32_canonical_nan(op(other, neg_canon));
                assert_f32_canonical_nan(op(black_box(canon), black_box(other)));
                // Payloads (even signalling) give some quiet NaN.
                assert_f32_arithmetic_nan(op(f32n(F32_SNAN), other));
                assert_f32_arithmetic_nan(op(other, f32n(F32_SNAN)));
                assert_f32_arithmetic_nan(op(black_box(other), black_box(f32n(F32_SNAN))));
                assert_f32_arithmetic_nan(op(f32n(F32_QNAN_PAYLOAD), other));
            }
            assert_f32_canonical_nan(op(canon, neg_canon));
            assert_f32_arithmetic_nan(op(f32n(F32_SNAN), f32n(F32_QNAN_PAYLOAD)));
        }
    }

    #[test]
    fn f64_min_max_nan() {
        let canon = f64n(F64_CANON);
        let neg_canon = f64n(F64_CANON | F64_SIGN);
        for op in [f64_min, f64_max] {
            for other in [0.0, -0.0, 1.0, f64::INFINITY, f64::NEG_INFINITY] {
                assert_f64_canonical_nan(op(canon, other));
                assert_f64_canonical_nan(op(other, neg_canon));
                assert_f64_canonical_nan(op(black_box(canon), black_box(other)));
                assert_f64_arithmetic_nan(op(f64n(F64_SNAN), other));
                assert_f64_arithmetic_nan(op(other, f64n(F64_SNAN)));
                assert_f64_arithmetic_nan(op(black_box(other), black_box(f64n(F64_SNAN))));
                assert_f64_arithmetic_nan(op(f64n(F64_QNAN_PAYLOAD), other));
            }
            assert_f64_canonical_nan(op(canon, neg_canon));
            assert_f64_arithmetic_nan(op(f64n(F64_SNAN), f64n(F64_QNAN_PAYLOAD)));
        }
    }

    // --- nearest ------------------------------------------------------------

    #[test]
    fn f32_nearest_ties_to_even() {
        let cases: &[(f32, f32)] = &[
            (0.5, 0.0),
            (1.5, 2.0),
            (2.5, 2.0),
            (3.5, 4.0),
            (-0.5, -0.0),
            (-1.5, -2.0),
            (-2.5, -2.0),
            (0.49999997, 0.0), // largest f32 below 0.5: `floor(x + 0.5)` gets this wrong
            (-0.49999997, -0.0),
            (0.50000006, 1.0),
            (-0.0, -0.0),
            (0.0, 0.0),
            (-0.1, -0.0),
            (1.4, 1.0),
            (4194304.5, 4194304.0), // 2^22 + 0.5
            (4194305.5, 4194306.0), // 2^22 + 1.5
            (8388607.5, 8388608.0), // 2^23 - 0.5
            (-8388607.5, -8388608.0),
            (8388609.0, 8388609.0), // 2^23 + 1: already integral
            (16777216.0, 16777216.0),
            (f32::MAX, f32::MAX),
            (f32::MIN, f32::MIN),
            (f32::INFINITY, f32::INFINITY),
            (f32::NEG_INFINITY, f32::NEG_INFINITY),
            (f32::MIN_POSITIVE, 0.0),
            (-f32::from_bits(1), -0.0), // smallest subnormal
        ];
        for &(x, want) in cases {
            assert_bits!(f32_nearest(x), want);
            assert_bits!(f32_nearest(black_box(x)), want);
        }
        assert_f32_canonical_nan(f32_nearest(black_box(f32n(F32_CANON))));
        assert_f32_arithmetic_nan(f32_nearest(black_box(f32n(F32_SNAN))));
        assert_f32_arithmetic_nan(f32_nearest(f32n(F32_QNAN_PAYLOAD)));
    }

    #[test]
    fn f64_nearest_ties_to_even() {
        let cases: &[(f64, f64)] = &[
            (0.5, 0.0),
            (1.5, 2.0),
            (2.5, 2.0),
            (3.5, 4.0),
            (-0.5, -0.0),
            (-1.5, -2.0),
            (-2.5, -2.0),
            (0.49999999999999994, 0.0), // largest f64 below 0.5
            (-0.49999999999999994, -0.0),
            (-0.0, -0.0),
            (0.0, 0.0),
            (-0.1, -0.0),
            (2251799813685248.5, 2251799813685248.0), // 2^51 + 0.5
            (2251799813685249.5, 2251799813685250.0), // 2^51 + 1.5
            (4503599627370495.5, 4503599627370496.0), // 2^52 - 0.5
            (-4503599627370495.5, -4503599627370496.0),
            (4503599627370497.0, 4503599627370497.0), // 2^52 + 1: already integral
            (9007199254740994.0, 9007199254740994.0), // 2^53 + 2
            (f64::MAX, f64::MAX),
            (f64::MIN, f64::MIN),
            (f64::INFINITY, f64::INFINITY),
            (f64::NEG_INFINITY, f64::NEG_INFINITY),
            (f64::MIN_POSITIVE, 0.0),
            (-f64::from_bits(1), -0.0),
        ];
        for &(x, want) in cases {
            assert_bits!(f64_nearest(x), want);
            assert_bits!(f64_nearest(black_box(x)), want);
        }
        assert_f64_canonical_nan(f64_nearest(black_box(f64n(F64_CANON))));
        assert_f64_arithmetic_nan(f64_nearest(black_box(f64n(F64_SNAN))));
        assert_f64_arithmetic_nan(f64_nearest(f64n(F64_QNAN_PAYLOAD)));
    }

    #[test]
    fn ceil_floor_trunc() {
        // (x, ceil, floor, trunc)
        let cases: &[(f64, f64, f64, f64)] = &[
            (1.5, 2.0, 1.0, 1.0),
            (-1.5, -1.0, -2.0, -1.0),
            (-0.5, -0.0, -1.0, -0.0),
            (0.5, 1.0, 0.0, 0.0),
            (-0.0, -0.0, -0.0, -0.0),
            (0.0, 0.0, 0.0, 0.0),
            (8388607.5, 8388608.0, 8388607.0, 8388607.0), // 2^23 - 0.5
            (-8388607.5, -8388607.0, -8388608.0, -8388607.0),
            (f64::INFINITY, f64::INFINITY, f64::INFINITY, f64::INFINITY),
            (
                f64::NEG_INFINITY,
                f64::NEG_INFINITY,
                f64::NEG_INFINITY,
                f64::NEG_INFINITY,
            ),
        ];
        for &(x, c, f, t) in cases {
            assert_bits!(f64_ceil(black_box(x)), c);
            assert_bits!(f64_floor(black_box(x)), f);
            assert_bits!(f64_trunc(black_box(x)), t);
            // Every case is exact in f32 too.
            let x32 = x as f32;
            assert_eq!(f64::from(x32), x);
            assert_bits!(f32_ceil(black_box(x32)), c as f32);
            assert_bits!(f32_floor(black_box(x32)), f as f32);
            assert_bits!(f32_trunc(black_box(x32)), t as f32);
        }
        for op in [f32_ceil, f32_floor, f32_trunc, f32_nearest] {
            assert_f32_canonical_nan(op(black_box(f32n(F32_CANON))));
            assert_f32_canonical_nan(op(black_box(f32n(F32_CANON | F32_SIGN))));
            assert_f32_arithmetic_nan(op(black_box(f32n(F32_SNAN))));
            assert_f32_arithmetic_nan(op(f32n(F32_SNAN)));
            assert_f32_arithmetic_nan(op(black_box(f32n(F32_QNAN_PAYLOAD))));
        }
        for op in [f64_ceil, f64_floor, f64_trunc, f64_nearest] {
            assert_f64_canonical_nan(op(black_box(f64n(F64_CANON))));
            assert_f64_canonical_nan(op(black_box(f64n(F64_CANON | F64_SIGN))));
            assert_f64_arithmetic_nan(op(black_box(f64n(F64_SNAN))));
            assert_f64_arithmetic_nan(op(f64n(F64_SNAN)));
            assert_f64_arithmetic_nan(op(black_box(f64n(F64_QNAN_PAYLOAD))));
        }
    }

    // --- trapping truncation ------------------------------------------------

    const F32_2_31: f32 = 2147483648.0;
    const F32_2_32: f32 = 4294967296.0;
    const F32_2_63: f32 = 9223372036854775808.0;
    const F32_2_64: f32 = 18446744073709551616.0;
    const F64_2_31: f64 = 2147483648.0;
    const F64_2_32: f64 = 4294967296.0;
    const F64_2_63: f64 = 9223372036854775808.0;
    const F64_2_64: f64 = 18446744073709551616.0;

    #[test]
    fn boundary_constants_are_exact() {
        assert_eq!(F32_2_31.to_bits(), 0x4f00_0000);
        assert_eq!(F32_2_32.to_bits(), 0x4f80_0000);
        assert_eq!(F32_2_63.to_bits(), 0x5f00_0000);
        assert_eq!(F32_2_64.to_bits(), 0x5f80_0000);
        assert_eq!(F64_2_31.to_bits(), 0x41e0_0000_0000_0000);
        assert_eq!(F64_2_32.to_bits(), 0x41f0_0000_0000_0000);
        assert_eq!(F64_2_63.to_bits(), 0x43e0_0000_0000_0000);
        assert_eq!(F64_2_64.to_bits(), 0x43f0_0000_0000_0000);
        assert_eq!((-2147483649.0_f64).to_bits(), 0xc1e0_0000_0020_0000);
    }

    /// Inputs every trapping truncation must reject the same way.
    fn common_f32_traps() -> [(f32, TrapCode); 6] {
        [
            (f32n(F32_CANON), Nan),
            (f32n(F32_CANON | F32_SIGN), Nan),
            (f32n(F32_SNAN), Nan),
            (f32n(F32_QNAN_PAYLOAD), Nan),
            (f32::INFINITY, Overflow),
            (f32::NEG_INFINITY, Overflow),
        ]
    }

    fn common_f64_traps() -> [(f64, TrapCode); 6] {
        [
            (f64n(F64_CANON), Nan),
            (f64n(F64_CANON | F64_SIGN), Nan),
            (f64n(F64_SNAN), Nan),
            (f64n(F64_QNAN_PAYLOAD), Nan),
            (f64::INFINITY, Overflow),
            (f64::NEG_INFINITY, Overflow),
        ]
    }

    #[test]
    fn trunc_common_traps() {
        for (x, code) in common_f32_traps() {
            assert_eq!(i32_trunc_f32_s(x), Err(code));
            assert_eq!(i32_trunc_f32_u(x), Err(code));
            assert_eq!(i64_trunc_f32_s(x), Err(code));
            assert_eq!(i64_trunc_f32_u(x), Err(code));
            assert_eq!(i32_trunc_f32_s(black_box(x)), Err(code));
            assert_eq!(i64_trunc_f32_u(black_box(x)), Err(code));
        }
        for (x, code) in common_f64_traps() {
            assert_eq!(i32_trunc_f64_s(x), Err(code));
            assert_eq!(i32_trunc_f64_u(x), Err(code));
            assert_eq!(i64_trunc_f64_s(x), Err(code));
            assert_eq!(i64_trunc_f64_u(x), Err(code));
            assert_eq!(i32_trunc_f64_s(black_box(x)), Err(code));
            assert_eq!(i64_trunc_f64_u(black_box(x)), Err(code));
        }
    }

    #[test]
    fn i32_trunc_f32_s_bounds() {
        let f = |x: f32| i32_trunc_f32_s(black_box(x));
        assert_eq!(f(-F32_2_31), Ok(i32::MIN));
        assert_eq!(f((-F32_2_31).next_down()), Err(Overflow)); // -2147483904
        assert_eq!(f(F32_2_31.next_down()), Ok(2147483520));
        assert_eq!(f(F32_2_31), Err(Overflow));
        assert_eq!(f(-0.0), Ok(0));
        assert_eq!(f(-0.9), Ok(0));
        assert_eq!(f(-1.9), Ok(-1));
        assert_eq!(f(1.9), Ok(1));
        assert_eq!(f(f32::from_bits(1)), Ok(0));
        assert_eq!(f(f32::MAX), Err(Overflow));
        assert_eq!(f(f32::MIN), Err(Overflow));
    }

    #[test]
    fn i32_trunc_f32_u_bounds() {
        let f = |x: f32| i32_trunc_f32_u(black_box(x));
        assert_eq!(f(-0.0), Ok(0));
        assert_eq!(f(-0.9), Ok(0));
        assert_eq!(f((-1.0_f32).next_up()), Ok(0)); // -0.99999994
        assert_eq!(f(-1.0), Err(Overflow));
        assert_eq!(f(F32_2_31), Ok(0x8000_0000));
        assert_eq!(f(F32_2_32.next_down()), Ok(4294967040));
        assert_eq!(f(F32_2_32), Err(Overflow));
        assert_eq!(f(1.9), Ok(1));
        assert_eq!(f(f32::MIN), Err(Overflow));
    }

    #[test]
    fn i32_trunc_f64_s_bounds() {
        let f = |x: f64| i32_trunc_f64_s(black_box(x));
        assert_eq!(f(-F64_2_31), Ok(i32::MIN));
        assert_eq!(f(-2147483648.9), Ok(i32::MIN));
        assert_eq!(f((-2147483649.0_f64).next_up()), Ok(i32::MIN));
        assert_eq!(f(-2147483649.0), Err(Overflow));
        assert_eq!(f(2147483647.0), Ok(i32::MAX));
        assert_eq!(f(2147483647.9), Ok(i32::MAX));
        assert_eq!(f(F64_2_31.next_down()), Ok(i32::MAX));
        assert_eq!(f(F64_2_31), Err(Overflow));
        assert_eq!(f(-0.0), Ok(0));
        assert_eq!(f(-0.9), Ok(0));
        assert_eq!(f(-1.0), Ok(-1));
        assert_eq!(f(f64::from_bits(1)), Ok(0));
        assert_eq!(f(f64::MAX), Err(Overflow));
    }

    #[test]
    fn i32_trunc_f64_u_bounds() {
        let f = |x: f64| i32_trunc_f64_u(black_box(x));
        assert_eq!(f(-0.0), Ok(0));
        assert_eq!(f(-0.9), Ok(0));
        assert_eq!(f((-1.0_f64).next_up()), Ok(0));
        assert_eq!(f(-1.0), Err(Overflow));
        assert_eq!(f(F64_2_31), Ok(0x8000_0000));
        assert_eq!(f(4294967295.0), Ok(u32::MAX));
        assert_eq!(f(4294967295.9), Ok(u32::MAX));
        assert_eq!(f(F64_2_32.next_down()), Ok(u32::MAX));
        assert_eq!(f(F64_2_32), Err(Overflow));
        assert_eq!(f(f64::MIN), Err(Overflow));
    }

    #[test]
    fn i64_trunc_f32_s_bounds() {
        let f = |x: f32| i64_trunc_f32_s(black_box(x));
        assert_eq!(f(-F32_2_63), Ok(i64::MIN));
        assert_eq!(f((-F32_2_63).next_down()), Err(Overflow));
        assert_eq!(f(F32_2_63.next_down()), Ok(9223371487098961920));
        assert_eq!(f(F32_2_63), Err(Overflow));
        assert_eq!(f(-F32_2_31), Ok(-2147483648));
        assert_eq!(f(F32_2_32), Ok(4294967296));
        assert_eq!(f(-0.0), Ok(0));
        assert_eq!(f(-0.9), Ok(0));
        assert_eq!(f(-1.5), Ok(-1));
        assert_eq!(f(f32::MAX), Err(Overflow));
    }

    #[test]
    fn i64_trunc_f32_u_bounds() {
        let f = |x: f32| i64_trunc_f32_u(black_box(x));
        assert_eq!(f(-0.0), Ok(0));
        assert_eq!(f(-0.9), Ok(0));
        assert_eq!(f((-1.0_f32).next_up()), Ok(0));
        assert_eq!(f(-1.0), Err(Overflow));
        assert_eq!(f(F32_2_63), Ok(1 << 63));
        assert_eq!(f(F32_2_64.next_down()), Ok(18446742974197923840));
        assert_eq!(f(F32_2_64), Err(Overflow));
        assert_eq!(f(f32::MAX), Err(Overflow));
    }

    #[test]
    fn i64_trunc_f64_s_bounds() {
        let f = |x: f64| i64_trunc_f64_s(black_box(x));
        assert_eq!(f(-F64_2_63), Ok(i64::MIN));
        assert_eq!(f((-F64_2_63).next_down()), Err(Overflow)); // -2^63 - 2048
        assert_eq!(f(F64_2_63.next_down()), Ok(9223372036854774784));
        assert_eq!(f(F64_2_63), Err(Overflow));
        assert_eq!(f(-2147483649.0), Ok(-2147483649));
        assert_eq!(f(F64_2_32), Ok(4294967296));
        assert_eq!(f(-0.0), Ok(0));
        assert_eq!(f(-0.9), Ok(0));
        assert_eq!(f(-1.5), Ok(-1));
        assert_eq!(f(f64::MIN), Err(Overflow));
    }

    #[test]
    fn i64_trunc_f64_u_bounds() {
        let f = |x: f64| i64_trunc_f64_u(black_box(x));
        assert_eq!(f(-0.0), Ok(0));
        assert_eq!(f(-0.9), Ok(0));
        assert_eq!(f((-1.0_f64).next_up()), Ok(0));
        assert_eq!(f(-1.0), Err(Overflow));
        assert_eq!(f(F64_2_63), Ok(1 << 63));
        assert_eq!(f(F64_2_64.next_down()), Ok(18446744073709549568));
        assert_eq!(f(F64_2_64), Err(Overflow));
        assert_eq!(f(f64::MAX), Err(Overflow));
    }

    #[test]
    fn trunc_agrees_with_const_folding() {
        // Same boundaries without `black_box`, so the inlined, folded form is checked too.
        assert_eq!(i32_trunc_f32_s(-2147483648.0), Ok(i32::MIN));
        assert_eq!(i32_trunc_f32_s(2147483648.0), Err(Overflow));
        assert_eq!(i32_trunc_f64_s(-2147483648.9), Ok(i32::MIN));
        assert_eq!(i32_trunc_f64_s(-2147483649.0), Err(Overflow));
        assert_eq!(i32_trunc_f64_u(-0.9), Ok(0));
        assert_eq!(i32_trunc_f64_u(4294967296.0), Err(Overflow));
        assert_eq!(i64_trunc_f64_s(-9223372036854775808.0), Ok(i64::MIN));
        assert_eq!(i64_trunc_f64_u(18446744073709551616.0), Err(Overflow));
        assert_eq!(i64_trunc_f32_u(f32::NAN), Err(Nan));
    }

    // --- saturating truncation ----------------------------------------------

    #[test]
    fn trunc_sat_f32() {
        for nan in [f32n(F32_CANON), f32n(F32_SNAN), f32n(F32_QNAN_PAYLOAD)] {
            assert_eq!(i32_trunc_sat_f32_s(black_box(nan)), 0);
            assert_eq!(i32_trunc_sat_f32_u(black_box(nan)), 0);
            assert_eq!(i64_trunc_sat_f32_s(black_box(nan)), 0);
            assert_eq!(i64_trunc_sat_f32_u(black_box(nan)), 0);
        }
        let s32 = |x: f32| i32_trunc_sat_f32_s(black_box(x));
        assert_eq!(s32(f32::INFINITY), i32::MAX);
        assert_eq!(s32(f32::NEG_INFINITY), i32::MIN);
        assert_eq!(s32(F32_2_31), i32::MAX);
        assert_eq!(s32(F32_2_31.next_down()), 2147483520);
        assert_eq!(s32(-F32_2_31), i32::MIN);
        assert_eq!(s32((-F32_2_31).next_down()), i32::MIN);
        assert_eq!(s32(-1.9), -1);
        assert_eq!(s32(-0.0), 0);

        let u32_ = |x: f32| i32_trunc_sat_f32_u(black_box(x));
        assert_eq!(u32_(f32::INFINITY), u32::MAX);
        assert_eq!(u32_(f32::NEG_INFINITY), 0);
        assert_eq!(u32_(F32_2_32), u32::MAX);
        assert_eq!(u32_(F32_2_32.next_down()), 4294967040);
        assert_eq!(u32_(-0.9), 0);
        assert_eq!(u32_(-1.0), 0);
        assert_eq!(u32_(-1e30), 0);

        let s64 = |x: f32| i64_trunc_sat_f32_s(black_box(x));
        assert_eq!(s64(f32::INFINITY), i64::MAX);
        assert_eq!(s64(f32::NEG_INFINITY), i64::MIN);
        assert_eq!(s64(F32_2_63), i64::MAX);
        assert_eq!(s64(F32_2_63.next_down()), 9223371487098961920);
        assert_eq!(s64(-F32_2_63), i64::MIN);
        assert_eq!(s64((-F32_2_63).next_down()), i64::MIN);

        let u64_ = |x: f32| i64_trunc_sat_f32_u(black_box(x));
        assert_eq!(u64_(f32::INFINITY), u64::MAX);
        assert_eq!(u64_(F32_2_64), u64::MAX);
        assert_eq!(u64_(F32_2_64.next_down()), 18446742974197923840);
        assert_eq!(u64_(-0.9), 0);
        assert_eq!(u64_(f32::NEG_INFINITY), 0);
    }

    #[test]
    fn trunc_sat_f64() {
        for nan in [f64n(F64_CANON), f64n(F64_SNAN), f64n(F64_QNAN_PAYLOAD)] {
            assert_eq!(i32_trunc_sat_f64_s(black_box(nan)), 0);
            assert_eq!(i32_trunc_sat_f64_u(black_box(nan)), 0);
            assert_eq!(i64_trunc_sat_f64_s(black_box(nan)), 0);
            assert_eq!(i64_trunc_sat_f64_u(black_box(nan)), 0);
        }
        let s32 = |x: f64| i32_trunc_sat_f64_s(black_box(x));
        assert_eq!(s32(f64::INFINITY), i32::MAX);
        assert_eq!(s32(f64::NEG_INFINITY), i32::MIN);
        assert_eq!(s32(F64_2_31), i32::MAX);
        assert_eq!(s32(2147483647.9), i32::MAX);
        assert_eq!(s32(-2147483648.9), i32::MIN);
        assert_eq!(s32(-2147483649.0), i32::MIN);
        assert_eq!(s32(-0.9), 0);

        let u32_ = |x: f64| i32_trunc_sat_f64_u(black_box(x));
        assert_eq!(u32_(f64::INFINITY), u32::MAX);
        assert_eq!(u32_(f64::NEG_INFINITY), 0);
        assert_eq!(u32_(4294967295.9), u32::MAX);
        assert_eq!(u32_(F64_2_32), u32::MAX);
        assert_eq!(u32_(-0.9), 0);
        assert_eq!(u32_(-1.0), 0);

        let s64 = |x: f64| i64_trunc_sat_f64_s(black_box(x));
        assert_eq!(s64(f64::INFINITY), i64::MAX);
        assert_eq!(s64(f64::NEG_INFINITY), i64::MIN);
        assert_eq!(s64(F64_2_63), i64::MAX);
        assert_eq!(s64(F64_2_63.next_down()), 9223372036854774784);
        assert_eq!(s64(-F64_2_63), i64::MIN);
        assert_eq!(s64((-F64_2_63).next_down()), i64::MIN);

        let u64_ = |x: f64| i64_trunc_sat_f64_u(black_box(x));
        assert_eq!(u64_(f64::INFINITY), u64::MAX);
        assert_eq!(u64_(F64_2_64), u64::MAX);
        assert_eq!(u64_(F64_2_64.next_down()), 18446744073709549568);
        assert_eq!(u64_(-0.9), 0);
        assert_eq!(u64_(-1.0), 0);
    }

    // --- conversions left to `as` --------------------------------------------

    #[test]
    fn as_conversions_round_to_nearest_even() {
        // Pins the claim in the module docs that callers may use `as` directly.
        // 2^24 + 1 ties between 2^24 and 2^24 + 2: even mantissa wins.
        assert_eq!(black_box(16777217_i32) as f32, 16777216.0);
        assert_eq!(black_box(16777219_i32) as f32, 16777220.0);
        assert_eq!(black_box(u32::MAX) as f32, 4294967296.0);
        // 2^53 + 1 and 2^53 + 3 tie: round to even.
        assert_eq!(black_box(9007199254740993_i64) as f64, 9007199254740992.0);
        assert_eq!(black_box(9007199254740995_i64) as f64, 9007199254740996.0);
        assert_eq!(black_box(u64::MAX) as f64, 18446744073709551616.0);
        assert_eq!(black_box(u64::MAX) as f32, 18446744073709551616.0);
        // Just above a tie must round up, not to even: sticky bits must survive.
        // 0x8000_0080_0000_0001 is 2^63 + 2^39 + 1: above the f32 midpoint.
        assert_eq!(
            black_box(0x8000_0080_0000_0001_u64) as f32,
            9223373136366403584.0
        );
        assert_eq!(
            black_box(0x8000_0080_0000_0000_u64) as f32,
            9223372036854775808.0
        );
        assert_eq!(
            black_box(0x0020_0000_2000_0001_i64) as f32,
            9007200328482816.0
        );
        assert_eq!(
            black_box(-0x0020_0000_2000_0001_i64) as f32,
            -9007200328482816.0
        );
        assert_eq!(
            black_box(0x8000_0000_0000_0401_u64) as f64,
            9223372036854777856.0
        );
        // Demotion ties to even and overflows to infinity.
        assert_eq!(black_box(f64::from_bits(0x3ff0_0000_1000_0000)) as f32, 1.0);
        assert_eq!(
            black_box(f64::from_bits(0x3ff0_0000_3000_0000)) as f32,
            f32::from_bits(0x3f80_0002)
        );
        assert_eq!(black_box(f64::MAX) as f32, f32::INFINITY);
    }
}
