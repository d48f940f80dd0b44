//! Property tests of `kestrel_vm::numeric` against reference implementations written here
//! independently of it: integer ops through `i128`/`u128` arithmetic (no `checked_*`,
//! `wrapping_*` or `rotate_*`), float rounding through integer conversion of the exact
//! fraction, min/max through explicit NaN and signed-zero cases, truncations through exact
//! power-of-two bounds. A shared mistake would need the same wrong reasoning twice.
//!
//! Floats are drawn from all bit patterns (so NaNs with any payload and sign, subnormals
//! and infinities all occur) mixed with values near the interesting edges (halves, the
//! integer limits, the point where floats stop having fractions).

use kestrel_vm::TrapCode;
use kestrel_vm::numeric as n;
use proptest::prelude::*;

// ---------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------

/// Any `f64`, with edge cases over-represented.
fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => any::<u64>().prop_map(f64::from_bits),
        2 => (-1e4f64..1e4).prop_map(|x| x),
        // Exact halves: the ties of `nearest`.
        2 => (-20_000i64..20_000).prop_map(|k| k as f64 / 2.0),
        // Near the i32/u32/i64/u64 limits and the last fractional floats.
        2 => (prop::sample::select(vec![
            2f64.powi(31), 2f64.powi(32), 2f64.powi(63), 2f64.powi(64),
            2f64.powi(52), 2f64.powi(53), 2f64.powi(23), 2f64.powi(24), 1.0, 0.0,
        ]), -3i64..=3, any::<bool>())
            .prop_map(|(base, ulps, neg)| {
                let x = f64::from_bits((base.to_bits() as i64 + ulps) as u64);
                if neg { -x } else { x }
            }),
        1 => prop::sample::select(vec![
            f64::NAN, -f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0,
            f64::MIN_POSITIVE, f64::MAX, f64::MIN, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5,
            f64::from_bits(0x7ff0_0000_0000_0001), // signalling NaN
            f64::from_bits(0xfff4_0000_0000_0000), // negative signalling NaN
        ]),
    ]
}

/// Any `f32`, with edge cases over-represented.
fn any_f32() -> impl Strategy<Value = f32> {
    prop_oneof![
        3 => any::<u32>().prop_map(f32::from_bits),
        2 => (-1e4f32..1e4).prop_map(|x| x),
        2 => (-20_000i32..20_000).prop_map(|k| k as f32 / 2.0),
        2 => (prop::sample::select(vec![
            2f32.powi(31), 2f32.powi(32), 2f32.powi(63), 2f32.powi(64),
            2f32.powi(23), 2f32.powi(24), 1.0, 0.0,
        ]), -3i32..=3, any::<bool>())
            .prop_map(|(base, ulps, neg)| {
                let x = f32::from_bits((base.to_bits() as i32 + ulps) as u32);
                if neg { -x } else { x }
            }),
        1 => prop::sample::select(vec![
            f32::NAN, -f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 0.0, -0.0,
            f32::MIN_POSITIVE, f32::MAX, f32::MIN, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5,
            f32::from_bits(0x7f80_0001), // signalling NaN
            f32::from_bits(0xffa0_0000), // negative signalling NaN
        ]),
    ]
}

/// Integers with 0, ±1 and the extremes over-represented (division's edge cases).
fn any_i32() -> impl Strategy<Value = i32> {
    prop_oneof![
        3 => any::<i32>(),
        1 => prop::sample::select(vec![0, 1, -1, 2, -2, i32::MIN, i32::MAX, i32::MIN + 1]),
        1 => -40i32..40,
    ]
}

fn any_i64() -> impl Strategy<Value = i64> {
    prop_oneof![
        3 => any::<i64>(),
        1 => prop::sample::select(vec![0, 1, -1, 2, -2, i64::MIN, i64::MAX, i64::MIN + 1]),
        1 => -70i64..70,
    ]
}

// ---------------------------------------------------------------------------
// Integer references
// ---------------------------------------------------------------------------

/// Signed division of `bits`-bit integers: divide by zero, then overflow if the exact
/// quotient (truncated toward zero, which `i128` division does) does not fit.
fn ref_div_s(a: i128, b: i128, bits: u32) -> Result<i128, TrapCode> {
    if b == 0 {
        return Err(TrapCode::IntegerDivisionByZero);
    }
    let q = a / b;
    let (lo, hi) = (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1);
    if q < lo || q > hi {
        return Err(TrapCode::IntegerOverflow);
    }
    Ok(q)
}

/// Signed remainder: the sign of the dividend, never overflows.
fn ref_rem_s(a: i128, b: i128) -> Result<i128, TrapCode> {
    if b == 0 {
        return Err(TrapCode::IntegerDivisionByZero);
    }
    Ok(a - (a / b) * b)
}

// Spelled out rather than `checked_div`, as the implementation under test uses that.
#[allow(clippy::manual_checked_ops)]
fn ref_div_u(a: u128, b: u128) -> Result<u128, TrapCode> {
    if b == 0 {
        Err(TrapCode::IntegerDivisionByZero)
    } else {
        Ok(a / b)
    }
}

fn ref_rem_u(a: u128, b: u128) -> Result<u128, TrapCode> {
    if b == 0 {
        Err(TrapCode::IntegerDivisionByZero)
    } else {
        Ok(a % b)
    }
}

/// The unsigned `bits`-bit value of `x` (two's complement), as `u128`.
fn unsigned(x: i128, bits: u32) -> u128 {
    (x as u128) & ((1u128 << bits) - 1)
}

/// The signed `bits`-bit value of the low `bits` bits of `x`.
fn signed(x: u128, bits: u32) -> i128 {
    let x = x & ((1u128 << bits) - 1);
    if x >> (bits - 1) == 1 {
        x as i128 - (1i128 << bits)
    } else {
        x as i128
    }
}

/// The shift count: `b` modulo the bit width, by arithmetic rather than masking.
fn count(b: i128, bits: u32) -> u32 {
    b.rem_euclid(bits as i128) as u32
}

/// `shl`: multiply by 2^k, keep the low bits.
fn ref_shl(a: i128, b: i128, bits: u32) -> i128 {
    signed(unsigned(a, bits) * (1u128 << count(b, bits)), bits)
}

/// `shr_s`: floor division by 2^k.
fn ref_shr_s(a: i128, b: i128, bits: u32) -> i128 {
    a.div_euclid(1i128 << count(b, bits))
}

/// `shr_u`: division of the unsigned value by 2^k.
fn ref_shr_u(a: i128, b: i128, bits: u32) -> i128 {
    signed(unsigned(a, bits) / (1u128 << count(b, bits)), bits)
}

/// `rotl`, bit by bit: bit `i` moves to `(i + k) mod bits`.
fn ref_rotl(a: i128, b: i128, bits: u32) -> i128 {
    let (x, k) = (unsigned(a, bits), count(b, bits));
    let mut r = 0u128;
    for i in 0..bits {
        if x & (1 << i) != 0 {
            r |= 1 << ((i + k) % bits);
        }
    }
    signed(r, bits)
}

/// `rotr` by `k` is `rotl` by `bits - k`.
fn ref_rotr(a: i128, b: i128, bits: u32) -> i128 {
    ref_rotl(a, bits as i128 - count(b, bits) as i128, bits)
}

// ---------------------------------------------------------------------------
// Float references (all on f64: every f32 is exactly an f64, and every result below is
// exactly representable back in f32)
// ---------------------------------------------------------------------------

/// Whether `result` is a NaN Wasm allows for an op on the NaN inputs `inputs`: an
/// arithmetic NaN (quiet bit set), and the canonical payload if every NaN input had it.
fn allowed_nan_f64(result: f64, inputs: &[f64]) -> bool {
    const QUIET: u64 = 1 << 51;
    const PAYLOAD: u64 = (1 << 52) - 1;
    let bits = result.to_bits();
    if !result.is_nan() || bits & QUIET == 0 {
        return false;
    }
    let canonical_in = inputs
        .iter()
        .filter(|x| x.is_nan())
        .all(|x| x.to_bits() & PAYLOAD == QUIET);
    !canonical_in || bits & PAYLOAD == QUIET
}

fn allowed_nan_f32(result: f32, inputs: &[f32]) -> bool {
    const QUIET: u32 = 1 << 22;
    const PAYLOAD: u32 = (1 << 23) - 1;
    let bits = result.to_bits();
    if !result.is_nan() || bits & QUIET == 0 {
        return false;
    }
    let canonical_in = inputs
        .iter()
        .filter(|x| x.is_nan())
        .all(|x| x.to_bits() & PAYLOAD == QUIET);
    !canonical_in || bits & PAYLOAD == QUIET
}

/// A rounding op under test and the mode its reference uses.
type RoundOp<F> = (fn(F) -> F, Round);

#[derive(Clone, Copy)]
enum Round {
    Trunc,
    Floor,
    Ceil,
    Nearest,
}

/// Rounds a non-NaN `x` whose format has `mantissa` fraction bits. Values of magnitude at
/// least 2^mantissa (and infinities) are already integers. Below that the truncation
/// `x as i64` is exact, so the fraction `x - t` is too, and the rounding direction follows
/// from its sign and size; a zero result takes `x`'s sign (`ceil(-0.5) = -0`).
fn ref_round(x: f64, mantissa: i32, mode: Round) -> f64 {
    if x.abs() >= 2f64.powi(mantissa) || x == 0.0 {
        return x;
    }
    let t = x as i64;
    let frac = x - t as f64;
    let r = match mode {
        Round::Trunc => t,
        Round::Floor => {
            if frac < 0.0 {
                t - 1
            } else {
                t
            }
        }
        Round::Ceil => {
            if frac > 0.0 {
                t + 1
            } else {
                t
            }
        }
        Round::Nearest => {
            let away = if x < 0.0 { t - 1 } else { t + 1 };
            let half = frac.abs();
            if half > 0.5 || (half == 0.5 && away % 2 == 0) {
                away
            } else {
                t
            }
        }
    };
    let r = r as f64;
    if r == 0.0 { 0f64.copysign(x) } else { r }
}

/// `min` of two non-NaN values: the smaller, `-0` for mixed zeros.
fn ref_min(a: f64, b: f64) -> f64 {
    if a == 0.0 && b == 0.0 {
        if a.is_sign_negative() || b.is_sign_negative() {
            -0.0
        } else {
            0.0
        }
    } else if a < b {
        a
    } else {
        b
    }
}

/// `max` of two non-NaN values: the larger, `+0` for mixed zeros.
fn ref_max(a: f64, b: f64) -> f64 {
    if a == 0.0 && b == 0.0 {
        if a.is_sign_positive() || b.is_sign_positive() {
            0.0
        } else {
            -0.0
        }
    } else if a > b {
        a
    } else {
        b
    }
}

/// Trapping truncation of `x` to a `bits`-bit integer: NaN is a bad conversion; otherwise
/// the truncated value must lie in `[lo, hi)` with exact power-of-two bounds.
fn ref_trunc(x: f64, bits: u32, is_signed: bool) -> Result<i128, TrapCode> {
    if x.is_nan() {
        return Err(TrapCode::BadConversionToInteger);
    }
    let (lo, hi) = bounds(bits, is_signed);
    let t = ref_round(x, 52, Round::Trunc);
    if t < lo || t >= hi {
        return Err(TrapCode::IntegerOverflow);
    }
    Ok(t as i128)
}

/// Saturating truncation: NaN is 0, out-of-range values clamp.
fn ref_trunc_sat(x: f64, bits: u32, is_signed: bool) -> i128 {
    let (lo, hi) = bounds(bits, is_signed);
    if x.is_nan() {
        0
    } else if x < lo {
        lo as i128
    } else if ref_round(x, 52, Round::Trunc) >= hi {
        hi as i128 - 1
    } else {
        ref_round(x, 52, Round::Trunc) as i128
    }
}

/// `[lo, hi)` of the integer type, as exact `f64` powers of two.
fn bounds(bits: u32, is_signed: bool) -> (f64, f64) {
    if is_signed {
        (-(2f64.powi(bits as i32 - 1)), 2f64.powi(bits as i32 - 1))
    } else {
        (0.0, 2f64.powi(bits as i32))
    }
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    fn i32_div_rem(a in any_i32(), b in any_i32()) {
        let (wa, wb) = (a as i128, b as i128);
        prop_assert_eq!(n::i32_div_s(a, b).map(i128::from), ref_div_s(wa, wb, 32));
        prop_assert_eq!(n::i32_rem_s(a, b).map(i128::from), ref_rem_s(wa, wb));
        let (ua, ub) = (a as u32, b as u32);
        prop_assert_eq!(n::i32_div_u(ua, ub).map(u128::from), ref_div_u(ua.into(), ub.into()));
        prop_assert_eq!(n::i32_rem_u(ua, ub).map(u128::from), ref_rem_u(ua.into(), ub.into()));
    }

    #[test]
    fn i64_div_rem(a in any_i64(), b in any_i64()) {
        let (wa, wb) = (a as i128, b as i128);
        prop_assert_eq!(n::i64_div_s(a, b).map(i128::from), ref_div_s(wa, wb, 64));
        prop_assert_eq!(n::i64_rem_s(a, b).map(i128::from), ref_rem_s(wa, wb));
        let (ua, ub) = (a as u64, b as u64);
        prop_assert_eq!(n::i64_div_u(ua, ub).map(u128::from), ref_div_u(ua.into(), ub.into()));
        prop_assert_eq!(n::i64_rem_u(ua, ub).map(u128::from), ref_rem_u(ua.into(), ub.into()));
    }

    #[test]
    fn i32_shifts_rotates(a in any_i32(), b in any_i32()) {
        let (wa, wb) = (a as i128, b as i128);
        prop_assert_eq!(n::i32_shl(a, b) as i128, ref_shl(wa, wb, 32));
        prop_assert_eq!(n::i32_shr_s(a, b) as i128, ref_shr_s(wa, wb, 32));
        prop_assert_eq!(n::i32_shr_u(a, b) as i128, ref_shr_u(wa, wb, 32));
        prop_assert_eq!(n::i32_rotl(a, b) as i128, ref_rotl(wa, wb, 32));
        prop_assert_eq!(n::i32_rotr(a, b) as i128, ref_rotr(wa, wb, 32));
    }

    #[test]
    fn i64_shifts_rotates(a in any_i64(), b in any_i64()) {
        let (wa, wb) = (a as i128, b as i128);
        prop_assert_eq!(n::i64_shl(a, b) as i128, ref_shl(wa, wb, 64));
        prop_assert_eq!(n::i64_shr_s(a, b) as i128, ref_shr_s(wa, wb, 64));
        prop_assert_eq!(n::i64_shr_u(a, b) as i128, ref_shr_u(wa, wb, 64));
        prop_assert_eq!(n::i64_rotl(a, b) as i128, ref_rotl(wa, wb, 64));
        prop_assert_eq!(n::i64_rotr(a, b) as i128, ref_rotr(wa, wb, 64));
    }

    #[test]
    fn f64_min_max(a in any_f64(), b in any_f64()) {
        for (got, want) in [(n::f64_min(a, b), ref_min as fn(f64, f64) -> f64), (n::f64_max(a, b), ref_max)] {
            if a.is_nan() || b.is_nan() {
                prop_assert!(allowed_nan_f64(got, &[a, b]), "{a:?} {b:?} -> {:#x}", got.to_bits());
            } else {
                prop_assert_eq!(got.to_bits(), want(a, b).to_bits(), "{:?} {:?}", a, b);
            }
        }
    }

    #[test]
    fn f32_min_max(a in any_f32(), b in any_f32()) {
        for (got, want) in [(n::f32_min(a, b), ref_min as fn(f64, f64) -> f64), (n::f32_max(a, b), ref_max)] {
            if a.is_nan() || b.is_nan() {
                prop_assert!(allowed_nan_f32(got, &[a, b]), "{a:?} {b:?} -> {:#x}", got.to_bits());
            } else {
                prop_assert_eq!(got.to_bits(), (want(a.into(), b.into()) as f32).to_bits(), "{:?} {:?}", a, b);
            }
        }
    }

    #[test]
    fn f64_rounding(x in any_f64()) {
        let ops: [RoundOp<f64>; 4] = [
            (n::f64_trunc, Round::Trunc),
            (n::f64_floor, Round::Floor),
            (n::f64_ceil, Round::Ceil),
            (n::f64_nearest, Round::Nearest),
        ];
        for (op, mode) in ops {
            let got = op(x);
            if x.is_nan() {
                prop_assert!(allowed_nan_f64(got, &[x]), "{:#x} -> {:#x}", x.to_bits(), got.to_bits());
            } else {
                prop_assert_eq!(got.to_bits(), ref_round(x, 52, mode).to_bits(), "{:?}", x);
            }
        }
    }

    #[test]
    fn f32_rounding(x in any_f32()) {
        let ops: [RoundOp<f32>; 4] = [
            (n::f32_trunc, Round::Trunc),
            (n::f32_floor, Round::Floor),
            (n::f32_ceil, Round::Ceil),
            (n::f32_nearest, Round::Nearest),
        ];
        for (op, mode) in ops {
            let got = op(x);
            if x.is_nan() {
                prop_assert!(allowed_nan_f32(got, &[x]), "{:#x} -> {:#x}", x.to_bits(), got.to_bits());
            } else {
                let want = ref_round(x.into(), 23, mode) as f32;
                prop_assert_eq!(got.to_bits(), want.to_bits(), "{:?}", x);
            }
        }
    }

    #[test]
    fn truncations_from_f64(x in any_f64()) {
        prop_assert_eq!(n::i32_trunc_f64_s(x).map(i128::from), ref_trunc(x, 32, true));
        prop_assert_eq!(n::i32_trunc_f64_u(x).map(i128::from), ref_trunc(x, 32, false));
        prop_assert_eq!(n::i64_trunc_f64_s(x).map(i128::from), ref_trunc(x, 64, true));
        prop_assert_eq!(n::i64_trunc_f64_u(x).map(i128::from), ref_trunc(x, 64, false));
        prop_assert_eq!(i128::from(n::i32_trunc_sat_f64_s(x)), ref_trunc_sat(x, 32, true));
        prop_assert_eq!(i128::from(n::i32_trunc_sat_f64_u(x)), ref_trunc_sat(x, 32, false));
        prop_assert_eq!(i128::from(n::i64_trunc_sat_f64_s(x)), ref_trunc_sat(x, 64, true));
        prop_assert_eq!(i128::from(n::i64_trunc_sat_f64_u(x)), ref_trunc_sat(x, 64, false));
    }

    #[test]
    fn truncations_from_f32(x in any_f32()) {
        let w = f64::from(x);
        prop_assert_eq!(n::i32_trunc_f32_s(x).map(i128::from), ref_trunc(w, 32, true));
        prop_assert_eq!(n::i32_trunc_f32_u(x).map(i128::from), ref_trunc(w, 32, false));
        prop_assert_eq!(n::i64_trunc_f32_s(x).map(i128::from), ref_trunc(w, 64, true));
        prop_assert_eq!(n::i64_trunc_f32_u(x).map(i128::from), ref_trunc(w, 64, false));
        prop_assert_eq!(i128::from(n::i32_trunc_sat_f32_s(x)), ref_trunc_sat(w, 32, true));
        prop_assert_eq!(i128::from(n::i32_trunc_sat_f32_u(x)), ref_trunc_sat(w, 32, false));
        prop_assert_eq!(i128::from(n::i64_trunc_sat_f32_s(x)), ref_trunc_sat(w, 64, true));
        prop_assert_eq!(i128::from(n::i64_trunc_sat_f32_u(x)), ref_trunc_sat(w, 64, false));
    }
}
