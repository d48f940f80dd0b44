//! WebAssembly's fixed-width SIMD (`v128`) and relaxed SIMD, exact and portable, written once.
//!
//! One pure function per instruction that computes a value, named after the instruction
//! (`i8x16_add_sat_s` is `i8x16.add_sat_s`). A `v128` is a `u128` whose least significant
//! bits are lane 0 (the lowest-addressed bytes in memory), so on Kestrel's little-endian
//! hosts `u128::from_le_bytes` of 16 memory bytes is the loaded vector. The memory
//! instructions themselves are the caller's (bounds check and access); what they do to the
//! loaded bits is here ([`v128_load8x8_s`], [`v128_load32_zero`], [`v128_load8_splat`], ...,
//! and [`replace_lane`]/[`extract_lane`] for the lane variants).
//!
//! Invariants:
//! - Float lanes follow [`crate::numeric`]: `min`/`max` propagate NaN and order `-0 < +0`;
//!   `ceil`/`floor`/`trunc`/`nearest` return a quiet NaN for NaN; `abs`/`neg` touch only
//!   the sign bit. `pmin`/`pmax` are `b < a ? b : a` and `a < b ? b : a` (a NaN `b` never
//!   wins, a NaN `a` is kept). Other float arithmetic is plain Rust, whose NaN results are
//!   Wasm's.
//! - Integer lanes wrap unless the instruction says `sat`; shift counts are taken modulo
//!   the lane width; lane-index operands of `swizzle` that are out of range give 0.
//! - Relaxed SIMD has one deterministic behaviour per instruction, fixed by the tiers'
//!   shared contract (both tiers must agree bit for bit): `relaxed_swizzle` = `swizzle`,
//!   `relaxed_trunc*` = `trunc_sat*`, `relaxed_madd`/`nmadd` unfused (`a * b + c` and
//!   `-(a * b) + c`, each step rounded), `relaxed_laneselect` = `bitselect`,
//!   `relaxed_min`/`max` = `min`/`max`, `relaxed_q15mulr_s` = `q15mulr_sat_s`, and the
//!   relaxed dot products treat both operands as signed and wrap their sums.
//!
//! Nothing here traps.

use crate::numeric;

// ---------------------------------------------------------------------------
// Lanes
// ---------------------------------------------------------------------------

macro_rules! lane_shape {
    ($($split:ident $join:ident $map:ident $zip:ident $cmp:ident: $ty:ty, $n:literal;)*) => {$(
        #[doc = concat!("The ", stringify!($n), " `", stringify!($ty), "` lanes of a `v128`, lane 0 first.")]
        #[inline]
        pub fn $split(v: u128) -> [$ty; $n] {
            const SIZE: usize = 16 / $n;
            let bytes = v.to_le_bytes();
            std::array::from_fn(|i| {
                let mut lane = [0u8; SIZE];
                lane.copy_from_slice(&bytes[i * SIZE..(i + 1) * SIZE]);
                <$ty>::from_le_bytes(lane)
            })
        }

        #[doc = concat!("A `v128` from its `", stringify!($ty), "` lanes, lane 0 first.")]
        #[inline]
        pub fn $join(lanes: [$ty; $n]) -> u128 {
            const SIZE: usize = 16 / $n;
            let mut bytes = [0u8; 16];
            for (i, lane) in lanes.iter().enumerate() {
                bytes[i * SIZE..(i + 1) * SIZE].copy_from_slice(&lane.to_le_bytes());
            }
            u128::from_le_bytes(bytes)
        }

        #[allow(dead_code)] // generated for every shape; not every shape needs each helper
        #[inline]
        fn $map(a: u128, f: impl Fn($ty) -> $ty) -> u128 {
            $join($split(a).map(f))
        }

        #[allow(dead_code)]
        #[inline]
        fn $zip(a: u128, b: u128, f: impl Fn($ty, $ty) -> $ty) -> u128 {
            let (a, b) = ($split(a), $split(b));
            $join(std::array::from_fn(|i| f(a[i], b[i])))
        }

        /// A lane-wise comparison: all ones where `f` holds, zero elsewhere.
        #[allow(dead_code)]
        #[inline]
        fn $cmp(a: u128, b: u128, f: impl Fn($ty, $ty) -> bool) -> u128 {
            const BITS: u32 = 128 / $n;
            let (a, b) = ($split(a), $split(b));
            let mut result = 0u128;
            for i in 0..$n {
                if f(a[i], b[i]) {
                    result |= (u128::MAX >> (128 - BITS)) << (i as u32 * BITS);
                }
            }
            result
        }
    )*};
}

lane_shape! {
    lanes_i8 from_lanes_i8 map_i8 zip_i8 cmp_i8: i8, 16;
    lanes_u8 from_lanes_u8 map_u8 zip_u8 cmp_u8: u8, 16;
    lanes_i16 from_lanes_i16 map_i16 zip_i16 cmp_i16: i16, 8;
    lanes_u16 from_lanes_u16 map_u16 zip_u16 cmp_u16: u16, 8;
    lanes_i32 from_lanes_i32 map_i32 zip_i32 cmp_i32: i32, 4;
    lanes_u32 from_lanes_u32 map_u32 zip_u32 cmp_u32: u32, 4;
    lanes_i64 from_lanes_i64 map_i64 zip_i64 cmp_i64: i64, 2;
    lanes_u64 from_lanes_u64 map_u64 zip_u64 cmp_u64: u64, 2;
    lanes_f32 from_lanes_f32 map_f32 zip_f32 cmp_f32: f32, 4;
    lanes_f64 from_lanes_f64 map_f64 zip_f64 cmp_f64: f64, 2;
}

// Generates `pub fn $name(a: u128, b: u128) -> u128` (or one operand) from a lane-wise
// closure over a lane shape's helper.
macro_rules! lanewise {
    ($($(#[$doc:meta])* $name:ident = $helper:ident |$a:ident $(, $b:ident)?| $body:expr;)*) => {$(
        $(#[$doc])*
        #[inline]
        pub fn $name($a: u128 $(, $b: u128)?) -> u128 {
            $helper($a $(, $b)?, |$a $(, $b)?| $body)
        }
    )*};
}

// ---------------------------------------------------------------------------
// Bitwise
// ---------------------------------------------------------------------------

/// `v128.not`.
#[inline]
pub fn v128_not(a: u128) -> u128 {
    !a
}

/// `v128.and`.
#[inline]
pub fn v128_and(a: u128, b: u128) -> u128 {
    a & b
}

/// `v128.andnot`: `a & !b`.
#[inline]
pub fn v128_andnot(a: u128, b: u128) -> u128 {
    a & !b
}

/// `v128.or`.
#[inline]
pub fn v128_or(a: u128, b: u128) -> u128 {
    a | b
}

/// `v128.xor`.
#[inline]
pub fn v128_xor(a: u128, b: u128) -> u128 {
    a ^ b
}

/// `v128.bitselect`: bits of `a` where `mask` is 1, of `b` where it is 0.
#[inline]
pub fn v128_bitselect(a: u128, b: u128, mask: u128) -> u128 {
    (a & mask) | (b & !mask)
}

/// `v128.any_true`.
#[inline]
pub fn v128_any_true(a: u128) -> i32 {
    (a != 0) as i32
}

// ---------------------------------------------------------------------------
// Splat, lanes, shuffles
// ---------------------------------------------------------------------------

/// `i8x16.splat` (the low 8 bits of `x`).
#[inline]
pub fn i8x16_splat(x: i32) -> u128 {
    from_lanes_i8([x as i8; 16])
}

/// `i16x8.splat` (the low 16 bits of `x`).
#[inline]
pub fn i16x8_splat(x: i32) -> u128 {
    from_lanes_i16([x as i16; 8])
}

/// `i32x4.splat`.
#[inline]
pub fn i32x4_splat(x: i32) -> u128 {
    from_lanes_i32([x; 4])
}

/// `i64x2.splat`.
#[inline]
pub fn i64x2_splat(x: i64) -> u128 {
    from_lanes_i64([x; 2])
}

/// `f32x4.splat` (the bits, NaN payloads included).
#[inline]
pub fn f32x4_splat(x: f32) -> u128 {
    i32x4_splat(x.to_bits() as i32)
}

/// `f64x2.splat` (the bits, NaN payloads included).
#[inline]
pub fn f64x2_splat(x: f64) -> u128 {
    i64x2_splat(x.to_bits() as i64)
}

/// The raw bits of lane `lane` of width `bytes` (1, 2, 4 or 8), zero-extended. Lane
/// indices are validated, so `lane < 16 / bytes`.
#[inline]
pub fn extract_lane(v: u128, bytes: u32, lane: u8) -> u64 {
    debug_assert!(matches!(bytes, 1 | 2 | 4 | 8) && (lane as u32) < 16 / bytes);
    let bits = bytes * 8;
    ((v >> (lane as u32 * bits)) as u64) & (u64::MAX >> (64 - bits))
}

/// `v` with lane `lane` of width `bytes` (1, 2, 4 or 8) replaced by the low bits of `x`.
#[inline]
pub fn replace_lane(v: u128, bytes: u32, lane: u8, x: u64) -> u128 {
    debug_assert!(matches!(bytes, 1 | 2 | 4 | 8) && (lane as u32) < 16 / bytes);
    let bits = bytes * 8;
    let shift = lane as u32 * bits;
    let mask = (u128::MAX >> (128 - bits)) << shift;
    (v & !mask) | (((x as u128) << shift) & mask)
}

/// `i8x16.extract_lane_s`.
#[inline]
pub fn i8x16_extract_lane_s(v: u128, lane: u8) -> i32 {
    extract_lane(v, 1, lane) as i8 as i32
}

/// `i8x16.extract_lane_u`.
#[inline]
pub fn i8x16_extract_lane_u(v: u128, lane: u8) -> i32 {
    extract_lane(v, 1, lane) as i32
}

/// `i16x8.extract_lane_s`.
#[inline]
pub fn i16x8_extract_lane_s(v: u128, lane: u8) -> i32 {
    extract_lane(v, 2, lane) as i16 as i32
}

/// `i16x8.extract_lane_u`.
#[inline]
pub fn i16x8_extract_lane_u(v: u128, lane: u8) -> i32 {
    extract_lane(v, 2, lane) as i32
}

/// `i32x4.extract_lane`.
#[inline]
pub fn i32x4_extract_lane(v: u128, lane: u8) -> i32 {
    extract_lane(v, 4, lane) as i32
}

/// `i64x2.extract_lane`.
#[inline]
pub fn i64x2_extract_lane(v: u128, lane: u8) -> i64 {
    extract_lane(v, 8, lane) as i64
}

/// `f32x4.extract_lane` (the bits, NaN payloads included).
#[inline]
pub fn f32x4_extract_lane(v: u128, lane: u8) -> f32 {
    f32::from_bits(extract_lane(v, 4, lane) as u32)
}

/// `f64x2.extract_lane` (the bits, NaN payloads included).
#[inline]
pub fn f64x2_extract_lane(v: u128, lane: u8) -> f64 {
    f64::from_bits(extract_lane(v, 8, lane))
}

/// `i8x16.replace_lane`.
#[inline]
pub fn i8x16_replace_lane(v: u128, lane: u8, x: i32) -> u128 {
    replace_lane(v, 1, lane, x as u32 as u64)
}

/// `i16x8.replace_lane`.
#[inline]
pub fn i16x8_replace_lane(v: u128, lane: u8, x: i32) -> u128 {
    replace_lane(v, 2, lane, x as u32 as u64)
}

/// `i32x4.replace_lane`.
#[inline]
pub fn i32x4_replace_lane(v: u128, lane: u8, x: i32) -> u128 {
    replace_lane(v, 4, lane, x as u32 as u64)
}

/// `i64x2.replace_lane`.
#[inline]
pub fn i64x2_replace_lane(v: u128, lane: u8, x: i64) -> u128 {
    replace_lane(v, 8, lane, x as u64)
}

/// `f32x4.replace_lane`.
#[inline]
pub fn f32x4_replace_lane(v: u128, lane: u8, x: f32) -> u128 {
    replace_lane(v, 4, lane, x.to_bits() as u64)
}

/// `f64x2.replace_lane`.
#[inline]
pub fn f64x2_replace_lane(v: u128, lane: u8, x: f64) -> u128 {
    replace_lane(v, 8, lane, x.to_bits())
}

/// `i8x16.shuffle`: lane `i` of the result is byte `lanes[i]` of `a ++ b` (indices are
/// validated to be below 32, and the function masks them to 0..32 anyway). `lanes` is the
/// immediate read as a `v128` (lane index `i` in byte `i`).
#[inline]
pub fn i8x16_shuffle(a: u128, b: u128, lanes: u128) -> u128 {
    let (a, b, lanes) = (lanes_u8(a), lanes_u8(b), lanes_u8(lanes));
    from_lanes_u8(lanes.map(|index| {
        let index = (index & 31) as usize;
        if index < 16 { a[index] } else { b[index - 16] }
    }))
}

/// `i8x16.swizzle`: lane `i` is `a[s[i]]`, or 0 when `s[i] >= 16`.
#[inline]
pub fn i8x16_swizzle(a: u128, s: u128) -> u128 {
    let a = lanes_u8(a);
    map_u8(s, |index| a.get(index as usize).copied().unwrap_or(0))
}

// ---------------------------------------------------------------------------
// Integer arithmetic
// ---------------------------------------------------------------------------

lanewise! {
    /// `i8x16.add`.
    i8x16_add = zip_i8 |a, b| a.wrapping_add(b);
    /// `i8x16.sub`.
    i8x16_sub = zip_i8 |a, b| a.wrapping_sub(b);
    /// `i8x16.neg`.
    i8x16_neg = map_i8 |a| a.wrapping_neg();
    /// `i8x16.abs` (`abs(-128) = -128`).
    i8x16_abs = map_i8 |a| a.wrapping_abs();
    /// `i8x16.add_sat_s`.
    i8x16_add_sat_s = zip_i8 |a, b| a.saturating_add(b);
    /// `i8x16.add_sat_u`.
    i8x16_add_sat_u = zip_u8 |a, b| a.saturating_add(b);
    /// `i8x16.sub_sat_s`.
    i8x16_sub_sat_s = zip_i8 |a, b| a.saturating_sub(b);
    /// `i8x16.sub_sat_u`.
    i8x16_sub_sat_u = zip_u8 |a, b| a.saturating_sub(b);
    /// `i8x16.min_s`.
    i8x16_min_s = zip_i8 |a, b| a.min(b);
    /// `i8x16.min_u`.
    i8x16_min_u = zip_u8 |a, b| a.min(b);
    /// `i8x16.max_s`.
    i8x16_max_s = zip_i8 |a, b| a.max(b);
    /// `i8x16.max_u`.
    i8x16_max_u = zip_u8 |a, b| a.max(b);
    /// `i8x16.avgr_u`: `(a + b + 1) / 2` without overflow.
    i8x16_avgr_u = zip_u8 |a, b| ((a as u16 + b as u16 + 1) >> 1) as u8;
    /// `i8x16.popcnt`.
    i8x16_popcnt = map_u8 |a| a.count_ones() as u8;

    /// `i16x8.add`.
    i16x8_add = zip_i16 |a, b| a.wrapping_add(b);
    /// `i16x8.sub`.
    i16x8_sub = zip_i16 |a, b| a.wrapping_sub(b);
    /// `i16x8.mul`.
    i16x8_mul = zip_i16 |a, b| a.wrapping_mul(b);
    /// `i16x8.neg`.
    i16x8_neg = map_i16 |a| a.wrapping_neg();
    /// `i16x8.abs`.
    i16x8_abs = map_i16 |a| a.wrapping_abs();
    /// `i16x8.add_sat_s`.
    i16x8_add_sat_s = zip_i16 |a, b| a.saturating_add(b);
    /// `i16x8.add_sat_u`.
    i16x8_add_sat_u = zip_u16 |a, b| a.saturating_add(b);
    /// `i16x8.sub_sat_s`.
    i16x8_sub_sat_s = zip_i16 |a, b| a.saturating_sub(b);
    /// `i16x8.sub_sat_u`.
    i16x8_sub_sat_u = zip_u16 |a, b| a.saturating_sub(b);
    /// `i16x8.min_s`.
    i16x8_min_s = zip_i16 |a, b| a.min(b);
    /// `i16x8.min_u`.
    i16x8_min_u = zip_u16 |a, b| a.min(b);
    /// `i16x8.max_s`.
    i16x8_max_s = zip_i16 |a, b| a.max(b);
    /// `i16x8.max_u`.
    i16x8_max_u = zip_u16 |a, b| a.max(b);
    /// `i16x8.avgr_u`.
    i16x8_avgr_u = zip_u16 |a, b| ((a as u32 + b as u32 + 1) >> 1) as u16;
    /// `i16x8.q15mulr_sat_s`: `(a * b + 2^14) >> 15`, saturated.
    i16x8_q15mulr_sat_s = zip_i16 |a, b| q15mulr_sat(a, b);

    /// `i32x4.add`.
    i32x4_add = zip_i32 |a, b| a.wrapping_add(b);
    /// `i32x4.sub`.
    i32x4_sub = zip_i32 |a, b| a.wrapping_sub(b);
    /// `i32x4.mul`.
    i32x4_mul = zip_i32 |a, b| a.wrapping_mul(b);
    /// `i32x4.neg`.
    i32x4_neg = map_i32 |a| a.wrapping_neg();
    /// `i32x4.abs`.
    i32x4_abs = map_i32 |a| a.wrapping_abs();
    /// `i32x4.min_s`.
    i32x4_min_s = zip_i32 |a, b| a.min(b);
    /// `i32x4.min_u`.
    i32x4_min_u = zip_u32 |a, b| a.min(b);
    /// `i32x4.max_s`.
    i32x4_max_s = zip_i32 |a, b| a.max(b);
    /// `i32x4.max_u`.
    i32x4_max_u = zip_u32 |a, b| a.max(b);

    /// `i64x2.add`.
    i64x2_add = zip_i64 |a, b| a.wrapping_add(b);
    /// `i64x2.sub`.
    i64x2_sub = zip_i64 |a, b| a.wrapping_sub(b);
    /// `i64x2.mul`.
    i64x2_mul = zip_i64 |a, b| a.wrapping_mul(b);
    /// `i64x2.neg`.
    i64x2_neg = map_i64 |a| a.wrapping_neg();
    /// `i64x2.abs`.
    i64x2_abs = map_i64 |a| a.wrapping_abs();
}

#[inline]
fn q15mulr_sat(a: i16, b: i16) -> i16 {
    let product = (a as i32 * b as i32 + 0x4000) >> 15;
    product.clamp(i16::MIN as i32, i16::MAX as i32) as i16
}

// ---------------------------------------------------------------------------
// Shifts (the count is taken modulo the lane width)
// ---------------------------------------------------------------------------

macro_rules! shifts {
    ($($shl:ident $shr_s:ident $shr_u:ident: $map_s:ident $map_u:ident $bits:literal;)*) => {$(
        #[doc = concat!("`", stringify!($shl), "` (count modulo ", stringify!($bits), ").")]
        #[inline]
        pub fn $shl(a: u128, count: i32) -> u128 {
            $map_u(a, |x| x << (count as u32 % $bits))
        }

        #[doc = concat!("`", stringify!($shr_s), "` (count modulo ", stringify!($bits), ").")]
        #[inline]
        pub fn $shr_s(a: u128, count: i32) -> u128 {
            $map_s(a, |x| x >> (count as u32 % $bits))
        }

        #[doc = concat!("`", stringify!($shr_u), "` (count modulo ", stringify!($bits), ").")]
        #[inline]
        pub fn $shr_u(a: u128, count: i32) -> u128 {
            $map_u(a, |x| x >> (count as u32 % $bits))
        }
    )*};
}

shifts! {
    i8x16_shl i8x16_shr_s i8x16_shr_u: map_i8 map_u8 8;
    i16x8_shl i16x8_shr_s i16x8_shr_u: map_i16 map_u16 16;
    i32x4_shl i32x4_shr_s i32x4_shr_u: map_i32 map_u32 32;
    i64x2_shl i64x2_shr_s i64x2_shr_u: map_i64 map_u64 64;
}

// ---------------------------------------------------------------------------
// Reductions
// ---------------------------------------------------------------------------

macro_rules! reductions {
    ($($all_true:ident $bitmask:ident: $split:ident;)*) => {$(
        #[doc = concat!("`", stringify!($all_true), "`: 1 when no lane is zero.")]
        #[inline]
        pub fn $all_true(a: u128) -> i32 {
            $split(a).iter().all(|lane| *lane != 0) as i32
        }

        #[doc = concat!("`", stringify!($bitmask), "`: bit `i` is the sign bit of lane `i`.")]
        #[inline]
        pub fn $bitmask(a: u128) -> i32 {
            $split(a)
                .iter()
                .enumerate()
                .fold(0, |mask, (i, lane)| mask | (((*lane < 0) as i32) << i))
        }
    )*};
}

reductions! {
    i8x16_all_true i8x16_bitmask: lanes_i8;
    i16x8_all_true i16x8_bitmask: lanes_i16;
    i32x4_all_true i32x4_bitmask: lanes_i32;
    i64x2_all_true i64x2_bitmask: lanes_i64;
}

// ---------------------------------------------------------------------------
// Comparisons (all ones where true)
// ---------------------------------------------------------------------------

lanewise! {
    /// `i8x16.eq`.
    i8x16_eq = cmp_i8 |a, b| a == b;
    /// `i8x16.ne`.
    i8x16_ne = cmp_i8 |a, b| a != b;
    /// `i8x16.lt_s`.
    i8x16_lt_s = cmp_i8 |a, b| a < b;
    /// `i8x16.lt_u`.
    i8x16_lt_u = cmp_u8 |a, b| a < b;
    /// `i8x16.gt_s`.
    i8x16_gt_s = cmp_i8 |a, b| a > b;
    /// `i8x16.gt_u`.
    i8x16_gt_u = cmp_u8 |a, b| a > b;
    /// `i8x16.le_s`.
    i8x16_le_s = cmp_i8 |a, b| a <= b;
    /// `i8x16.le_u`.
    i8x16_le_u = cmp_u8 |a, b| a <= b;
    /// `i8x16.ge_s`.
    i8x16_ge_s = cmp_i8 |a, b| a >= b;
    /// `i8x16.ge_u`.
    i8x16_ge_u = cmp_u8 |a, b| a >= b;

    /// `i16x8.eq`.
    i16x8_eq = cmp_i16 |a, b| a == b;
    /// `i16x8.ne`.
    i16x8_ne = cmp_i16 |a, b| a != b;
    /// `i16x8.lt_s`.
    i16x8_lt_s = cmp_i16 |a, b| a < b;
    /// `i16x8.lt_u`.
    i16x8_lt_u = cmp_u16 |a, b| a < b;
    /// `i16x8.gt_s`.
    i16x8_gt_s = cmp_i16 |a, b| a > b;
    /// `i16x8.gt_u`.
    i16x8_gt_u = cmp_u16 |a, b| a > b;
    /// `i16x8.le_s`.
    i16x8_le_s = cmp_i16 |a, b| a <= b;
    /// `i16x8.le_u`.
    i16x8_le_u = cmp_u16 |a, b| a <= b;
    /// `i16x8.ge_s`.
    i16x8_ge_s = cmp_i16 |a, b| a >= b;
    /// `i16x8.ge_u`.
    i16x8_ge_u = cmp_u16 |a, b| a >= b;

    /// `i32x4.eq`.
    i32x4_eq = cmp_i32 |a, b| a == b;
    /// `i32x4.ne`.
    i32x4_ne = cmp_i32 |a, b| a != b;
    /// `i32x4.lt_s`.
    i32x4_lt_s = cmp_i32 |a, b| a < b;
    /// `i32x4.lt_u`.
    i32x4_lt_u = cmp_u32 |a, b| a < b;
    /// `i32x4.gt_s`.
    i32x4_gt_s = cmp_i32 |a, b| a > b;
    /// `i32x4.gt_u`.
    i32x4_gt_u = cmp_u32 |a, b| a > b;
    /// `i32x4.le_s`.
    i32x4_le_s = cmp_i32 |a, b| a <= b;
    /// `i32x4.le_u`.
    i32x4_le_u = cmp_u32 |a, b| a <= b;
    /// `i32x4.ge_s`.
    i32x4_ge_s = cmp_i32 |a, b| a >= b;
    /// `i32x4.ge_u`.
    i32x4_ge_u = cmp_u32 |a, b| a >= b;

    /// `i64x2.eq`.
    i64x2_eq = cmp_i64 |a, b| a == b;
    /// `i64x2.ne`.
    i64x2_ne = cmp_i64 |a, b| a != b;
    /// `i64x2.lt_s`.
    i64x2_lt_s = cmp_i64 |a, b| a < b;
    /// `i64x2.gt_s`.
    i64x2_gt_s = cmp_i64 |a, b| a > b;
    /// `i64x2.le_s`.
    i64x2_le_s = cmp_i64 |a, b| a <= b;
    /// `i64x2.ge_s`.
    i64x2_ge_s = cmp_i64 |a, b| a >= b;

    /// `f32x4.eq` (NaN is unequal to everything).
    f32x4_eq = cmp_f32 |a, b| a == b;
    /// `f32x4.ne` (true when either is NaN).
    f32x4_ne = cmp_f32 |a, b| a != b;
    /// `f32x4.lt`.
    f32x4_lt = cmp_f32 |a, b| a < b;
    /// `f32x4.gt`.
    f32x4_gt = cmp_f32 |a, b| a > b;
    /// `f32x4.le`.
    f32x4_le = cmp_f32 |a, b| a <= b;
    /// `f32x4.ge`.
    f32x4_ge = cmp_f32 |a, b| a >= b;

    /// `f64x2.eq`.
    f64x2_eq = cmp_f64 |a, b| a == b;
    /// `f64x2.ne`.
    f64x2_ne = cmp_f64 |a, b| a != b;
    /// `f64x2.lt`.
    f64x2_lt = cmp_f64 |a, b| a < b;
    /// `f64x2.gt`.
    f64x2_gt = cmp_f64 |a, b| a > b;
    /// `f64x2.le`.
    f64x2_le = cmp_f64 |a, b| a <= b;
    /// `f64x2.ge`.
    f64x2_ge = cmp_f64 |a, b| a >= b;
}

// ---------------------------------------------------------------------------
// Float arithmetic
// ---------------------------------------------------------------------------

lanewise! {
    /// `f32x4.add`.
    f32x4_add = zip_f32 |a, b| a + b;
    /// `f32x4.sub`.
    f32x4_sub = zip_f32 |a, b| a - b;
    /// `f32x4.mul`.
    f32x4_mul = zip_f32 |a, b| a * b;
    /// `f32x4.div`.
    f32x4_div = zip_f32 |a, b| a / b;
    /// `f32x4.min`: NaN-propagating, `-0 < +0`.
    f32x4_min = zip_f32 |a, b| numeric::f32_min(a, b);
    /// `f32x4.max`: NaN-propagating, `-0 < +0`.
    f32x4_max = zip_f32 |a, b| numeric::f32_max(a, b);
    /// `f32x4.pmin`: `b < a ? b : a`.
    f32x4_pmin = zip_f32 |a, b| if b < a { b } else { a };
    /// `f32x4.pmax`: `a < b ? b : a`.
    f32x4_pmax = zip_f32 |a, b| if a < b { b } else { a };
    /// `f32x4.abs` (sign bit only).
    f32x4_abs = map_f32 |a| numeric::f32_abs(a);
    /// `f32x4.neg` (sign bit only).
    f32x4_neg = map_f32 |a| numeric::f32_neg(a);
    /// `f32x4.sqrt`.
    f32x4_sqrt = map_f32 |a| a.sqrt();
    /// `f32x4.ceil`.
    f32x4_ceil = map_f32 |a| numeric::f32_ceil(a);
    /// `f32x4.floor`.
    f32x4_floor = map_f32 |a| numeric::f32_floor(a);
    /// `f32x4.trunc`.
    f32x4_trunc = map_f32 |a| numeric::f32_trunc(a);
    /// `f32x4.nearest` (ties to even).
    f32x4_nearest = map_f32 |a| numeric::f32_nearest(a);

    /// `f64x2.add`.
    f64x2_add = zip_f64 |a, b| a + b;
    /// `f64x2.sub`.
    f64x2_sub = zip_f64 |a, b| a - b;
    /// `f64x2.mul`.
    f64x2_mul = zip_f64 |a, b| a * b;
    /// `f64x2.div`.
    f64x2_div = zip_f64 |a, b| a / b;
    /// `f64x2.min`: NaN-propagating, `-0 < +0`.
    f64x2_min = zip_f64 |a, b| numeric::f64_min(a, b);
    /// `f64x2.max`: NaN-propagating, `-0 < +0`.
    f64x2_max = zip_f64 |a, b| numeric::f64_max(a, b);
    /// `f64x2.pmin`: `b < a ? b : a`.
    f64x2_pmin = zip_f64 |a, b| if b < a { b } else { a };
    /// `f64x2.pmax`: `a < b ? b : a`.
    f64x2_pmax = zip_f64 |a, b| if a < b { b } else { a };
    /// `f64x2.abs` (sign bit only).
    f64x2_abs = map_f64 |a| numeric::f64_abs(a);
    /// `f64x2.neg` (sign bit only).
    f64x2_neg = map_f64 |a| numeric::f64_neg(a);
    /// `f64x2.sqrt`.
    f64x2_sqrt = map_f64 |a| a.sqrt();
    /// `f64x2.ceil`.
    f64x2_ceil = map_f64 |a| numeric::f64_ceil(a);
    /// `f64x2.floor`.
    f64x2_floor = map_f64 |a| numeric::f64_floor(a);
    /// `f64x2.trunc`.
    f64x2_trunc = map_f64 |a| numeric::f64_trunc(a);
    /// `f64x2.nearest` (ties to even).
    f64x2_nearest = map_f64 |a| numeric::f64_nearest(a);
}

// ---------------------------------------------------------------------------
// Narrowing, widening, pairwise and dot products
// ---------------------------------------------------------------------------

/// Concatenates the lanes of two halves: lanes of `a` first.
#[inline]
fn concat<T: Copy + Default, const N: usize, const M: usize>(a: [T; N], b: [T; N]) -> [T; M] {
    debug_assert_eq!(2 * N, M);
    std::array::from_fn(|i| if i < N { a[i] } else { b[i - N] })
}

/// `i8x16.narrow_i16x8_s`: lanes of `a` then `b`, signed-saturated to `i8`.
#[inline]
pub fn i8x16_narrow_i16x8_s(a: u128, b: u128) -> u128 {
    let lanes: [i16; 16] = concat(lanes_i16(a), lanes_i16(b));
    from_lanes_i8(lanes.map(|x| x.clamp(i8::MIN as i16, i8::MAX as i16) as i8))
}

/// `i8x16.narrow_i16x8_u`: signed lanes of `a` then `b`, saturated to `u8`.
#[inline]
pub fn i8x16_narrow_i16x8_u(a: u128, b: u128) -> u128 {
    let lanes: [i16; 16] = concat(lanes_i16(a), lanes_i16(b));
    from_lanes_u8(lanes.map(|x| x.clamp(0, u8::MAX as i16) as u8))
}

/// `i16x8.narrow_i32x4_s`.
#[inline]
pub fn i16x8_narrow_i32x4_s(a: u128, b: u128) -> u128 {
    let lanes: [i32; 8] = concat(lanes_i32(a), lanes_i32(b));
    from_lanes_i16(lanes.map(|x| x.clamp(i16::MIN as i32, i16::MAX as i32) as i16))
}

/// `i16x8.narrow_i32x4_u`.
#[inline]
pub fn i16x8_narrow_i32x4_u(a: u128, b: u128) -> u128 {
    let lanes: [i32; 8] = concat(lanes_i32(a), lanes_i32(b));
    from_lanes_u16(lanes.map(|x| x.clamp(0, u16::MAX as i32) as u16))
}

// Widening ops: `$name(a)` takes the low or high half of the narrow lanes, converts each
// with `as` (sign or zero extension by the narrow type's signedness) to the wide type.
macro_rules! extend {
    ($($name:ident: $split:ident $join:ident $wide:ty, $n:literal, $start:literal;)*) => {$(
        #[doc = concat!("`", stringify!($name), "`.")]
        #[inline]
        pub fn $name(a: u128) -> u128 {
            let narrow = $split(a);
            $join(std::array::from_fn(|i| narrow[$start + i] as $wide))
        }
    )*};
}

extend! {
    i16x8_extend_low_i8x16_s: lanes_i8 from_lanes_i16 i16, 8, 0;
    i16x8_extend_high_i8x16_s: lanes_i8 from_lanes_i16 i16, 8, 8;
    i16x8_extend_low_i8x16_u: lanes_u8 from_lanes_u16 u16, 8, 0;
    i16x8_extend_high_i8x16_u: lanes_u8 from_lanes_u16 u16, 8, 8;
    i32x4_extend_low_i16x8_s: lanes_i16 from_lanes_i32 i32, 4, 0;
    i32x4_extend_high_i16x8_s: lanes_i16 from_lanes_i32 i32, 4, 4;
    i32x4_extend_low_i16x8_u: lanes_u16 from_lanes_u32 u32, 4, 0;
    i32x4_extend_high_i16x8_u: lanes_u16 from_lanes_u32 u32, 4, 4;
    i64x2_extend_low_i32x4_s: lanes_i32 from_lanes_i64 i64, 2, 0;
    i64x2_extend_high_i32x4_s: lanes_i32 from_lanes_i64 i64, 2, 2;
    i64x2_extend_low_i32x4_u: lanes_u32 from_lanes_u64 u64, 2, 0;
    i64x2_extend_high_i32x4_u: lanes_u32 from_lanes_u64 u64, 2, 2;
}

// Extended multiplication: both halves widened, then multiplied (the product of two
// widened lanes always fits, except `u32 * u32` and `i32 * i32`, which fit in 64 bits too;
// `wrapping_mul` only documents that no overflow check is wanted).
macro_rules! extmul {
    ($($name:ident: $split:ident $join:ident $wide:ty, $n:literal, $start:literal;)*) => {$(
        #[doc = concat!("`", stringify!($name), "`.")]
        #[inline]
        pub fn $name(a: u128, b: u128) -> u128 {
            let (a, b) = ($split(a), $split(b));
            $join(std::array::from_fn(|i| {
                (a[$start + i] as $wide).wrapping_mul(b[$start + i] as $wide)
            }))
        }
    )*};
}

extmul! {
    i16x8_extmul_low_i8x16_s: lanes_i8 from_lanes_i16 i16, 8, 0;
    i16x8_extmul_high_i8x16_s: lanes_i8 from_lanes_i16 i16, 8, 8;
    i16x8_extmul_low_i8x16_u: lanes_u8 from_lanes_u16 u16, 8, 0;
    i16x8_extmul_high_i8x16_u: lanes_u8 from_lanes_u16 u16, 8, 8;
    i32x4_extmul_low_i16x8_s: lanes_i16 from_lanes_i32 i32, 4, 0;
    i32x4_extmul_high_i16x8_s: lanes_i16 from_lanes_i32 i32, 4, 4;
    i32x4_extmul_low_i16x8_u: lanes_u16 from_lanes_u32 u32, 4, 0;
    i32x4_extmul_high_i16x8_u: lanes_u16 from_lanes_u32 u32, 4, 4;
    i64x2_extmul_low_i32x4_s: lanes_i32 from_lanes_i64 i64, 2, 0;
    i64x2_extmul_high_i32x4_s: lanes_i32 from_lanes_i64 i64, 2, 2;
    i64x2_extmul_low_i32x4_u: lanes_u32 from_lanes_u64 u64, 2, 0;
    i64x2_extmul_high_i32x4_u: lanes_u32 from_lanes_u64 u64, 2, 2;
}

macro_rules! extadd_pairwise {
    ($($name:ident: $split:ident $join:ident $wide:ty, $n:literal;)*) => {$(
        #[doc = concat!("`", stringify!($name), "`: lane `i` is `a[2i] + a[2i+1]`, widened.")]
        #[inline]
        pub fn $name(a: u128) -> u128 {
            let a = $split(a);
            $join(std::array::from_fn::<$wide, $n, _>(|i| a[2 * i] as $wide + a[2 * i + 1] as $wide))
        }
    )*};
}

extadd_pairwise! {
    i16x8_extadd_pairwise_i8x16_s: lanes_i8 from_lanes_i16 i16, 8;
    i16x8_extadd_pairwise_i8x16_u: lanes_u8 from_lanes_u16 u16, 8;
    i32x4_extadd_pairwise_i16x8_s: lanes_i16 from_lanes_i32 i32, 4;
    i32x4_extadd_pairwise_i16x8_u: lanes_u16 from_lanes_u32 u32, 4;
}

/// `i32x4.dot_i16x8_s`: lane `i` is `a[2i]*b[2i] + a[2i+1]*b[2i+1]`, wrapping (only
/// `(-32768)^2 * 2` overflows, to `i32::MIN`).
#[inline]
pub fn i32x4_dot_i16x8_s(a: u128, b: u128) -> u128 {
    let (a, b) = (lanes_i16(a), lanes_i16(b));
    from_lanes_i32(std::array::from_fn(|i| {
        let low = a[2 * i] as i32 * b[2 * i] as i32;
        let high = a[2 * i + 1] as i32 * b[2 * i + 1] as i32;
        low.wrapping_add(high)
    }))
}

// ---------------------------------------------------------------------------
// Conversions
// ---------------------------------------------------------------------------

lanewise! {
    /// `f32x4.convert_i32x4_s` (round to nearest, ties to even).
    f32x4_convert_i32x4_s = map_u32 |a| (a as i32 as f32).to_bits();
    /// `f32x4.convert_i32x4_u`.
    f32x4_convert_i32x4_u = map_u32 |a| (a as f32).to_bits();
    /// `i32x4.trunc_sat_f32x4_s` (NaN to 0, saturating).
    i32x4_trunc_sat_f32x4_s = map_u32 |a| numeric::i32_trunc_sat_f32_s(f32::from_bits(a)) as u32;
    /// `i32x4.trunc_sat_f32x4_u`.
    i32x4_trunc_sat_f32x4_u = map_u32 |a| numeric::i32_trunc_sat_f32_u(f32::from_bits(a));
}

/// `f64x2.convert_low_i32x4_s`.
#[inline]
pub fn f64x2_convert_low_i32x4_s(a: u128) -> u128 {
    let a = lanes_i32(a);
    from_lanes_f64([a[0] as f64, a[1] as f64])
}

/// `f64x2.convert_low_i32x4_u`.
#[inline]
pub fn f64x2_convert_low_i32x4_u(a: u128) -> u128 {
    let a = lanes_u32(a);
    from_lanes_f64([a[0] as f64, a[1] as f64])
}

/// `i32x4.trunc_sat_f64x2_s_zero`: two saturated lanes, then two zero lanes.
#[inline]
pub fn i32x4_trunc_sat_f64x2_s_zero(a: u128) -> u128 {
    let a = lanes_f64(a);
    from_lanes_i32([
        numeric::i32_trunc_sat_f64_s(a[0]),
        numeric::i32_trunc_sat_f64_s(a[1]),
        0,
        0,
    ])
}

/// `i32x4.trunc_sat_f64x2_u_zero`.
#[inline]
pub fn i32x4_trunc_sat_f64x2_u_zero(a: u128) -> u128 {
    let a = lanes_f64(a);
    from_lanes_u32([
        numeric::i32_trunc_sat_f64_u(a[0]),
        numeric::i32_trunc_sat_f64_u(a[1]),
        0,
        0,
    ])
}

/// `f32x4.demote_f64x2_zero`: two rounded lanes, then two `+0.0` lanes.
#[inline]
pub fn f32x4_demote_f64x2_zero(a: u128) -> u128 {
    let a = lanes_f64(a);
    from_lanes_f32([a[0] as f32, a[1] as f32, 0.0, 0.0])
}

/// `f64x2.promote_low_f32x4` (exact).
#[inline]
pub fn f64x2_promote_low_f32x4(a: u128) -> u128 {
    let a = lanes_f32(a);
    from_lanes_f64([a[0] as f64, a[1] as f64])
}

// ---------------------------------------------------------------------------
// What the memory instructions do to the loaded bits
// ---------------------------------------------------------------------------

/// `v128.load8x8_s`: the 8 loaded bytes (`bits`, first byte least significant), each
/// sign-extended to 16 bits.
#[inline]
pub fn v128_load8x8_s(bits: u64) -> u128 {
    i16x8_extend_low_i8x16_s(bits as u128)
}

/// `v128.load8x8_u`.
#[inline]
pub fn v128_load8x8_u(bits: u64) -> u128 {
    i16x8_extend_low_i8x16_u(bits as u128)
}

/// `v128.load16x4_s`.
#[inline]
pub fn v128_load16x4_s(bits: u64) -> u128 {
    i32x4_extend_low_i16x8_s(bits as u128)
}

/// `v128.load16x4_u`.
#[inline]
pub fn v128_load16x4_u(bits: u64) -> u128 {
    i32x4_extend_low_i16x8_u(bits as u128)
}

/// `v128.load32x2_s`.
#[inline]
pub fn v128_load32x2_s(bits: u64) -> u128 {
    i64x2_extend_low_i32x4_s(bits as u128)
}

/// `v128.load32x2_u`.
#[inline]
pub fn v128_load32x2_u(bits: u64) -> u128 {
    i64x2_extend_low_i32x4_u(bits as u128)
}

/// `v128.load8_splat` (the loaded byte in the low bits of `bits`).
#[inline]
pub fn v128_load8_splat(bits: u64) -> u128 {
    i8x16_splat(bits as i32)
}

/// `v128.load16_splat`.
#[inline]
pub fn v128_load16_splat(bits: u64) -> u128 {
    i16x8_splat(bits as i32)
}

/// `v128.load32_splat`.
#[inline]
pub fn v128_load32_splat(bits: u64) -> u128 {
    i32x4_splat(bits as i32)
}

/// `v128.load64_splat`.
#[inline]
pub fn v128_load64_splat(bits: u64) -> u128 {
    i64x2_splat(bits as i64)
}

/// `v128.load32_zero`: the loaded 32 bits in lane 0, zeros elsewhere.
#[inline]
pub fn v128_load32_zero(bits: u64) -> u128 {
    bits as u32 as u128
}

/// `v128.load64_zero`.
#[inline]
pub fn v128_load64_zero(bits: u64) -> u128 {
    bits as u128
}

// ---------------------------------------------------------------------------
// Relaxed SIMD (one deterministic choice each; see the module docs)
// ---------------------------------------------------------------------------

/// `i8x16.relaxed_swizzle` = `i8x16.swizzle`.
#[inline]
pub fn i8x16_relaxed_swizzle(a: u128, s: u128) -> u128 {
    i8x16_swizzle(a, s)
}

/// `i32x4.relaxed_trunc_f32x4_s` = `i32x4.trunc_sat_f32x4_s`.
#[inline]
pub fn i32x4_relaxed_trunc_f32x4_s(a: u128) -> u128 {
    i32x4_trunc_sat_f32x4_s(a)
}

/// `i32x4.relaxed_trunc_f32x4_u` = `i32x4.trunc_sat_f32x4_u`.
#[inline]
pub fn i32x4_relaxed_trunc_f32x4_u(a: u128) -> u128 {
    i32x4_trunc_sat_f32x4_u(a)
}

/// `i32x4.relaxed_trunc_f64x2_s_zero` = `i32x4.trunc_sat_f64x2_s_zero`.
#[inline]
pub fn i32x4_relaxed_trunc_f64x2_s_zero(a: u128) -> u128 {
    i32x4_trunc_sat_f64x2_s_zero(a)
}

/// `i32x4.relaxed_trunc_f64x2_u_zero` = `i32x4.trunc_sat_f64x2_u_zero`.
#[inline]
pub fn i32x4_relaxed_trunc_f64x2_u_zero(a: u128) -> u128 {
    i32x4_trunc_sat_f64x2_u_zero(a)
}

/// `f32x4.relaxed_madd`: `a * b + c`, unfused (the product is rounded first).
#[inline]
pub fn f32x4_relaxed_madd(a: u128, b: u128, c: u128) -> u128 {
    f32x4_add(f32x4_mul(a, b), c)
}

/// `f32x4.relaxed_nmadd`: `-(a * b) + c`, unfused.
#[inline]
pub fn f32x4_relaxed_nmadd(a: u128, b: u128, c: u128) -> u128 {
    f32x4_add(f32x4_neg(f32x4_mul(a, b)), c)
}

/// `f64x2.relaxed_madd`: `a * b + c`, unfused.
#[inline]
pub fn f64x2_relaxed_madd(a: u128, b: u128, c: u128) -> u128 {
    f64x2_add(f64x2_mul(a, b), c)
}

/// `f64x2.relaxed_nmadd`: `-(a * b) + c`, unfused.
#[inline]
pub fn f64x2_relaxed_nmadd(a: u128, b: u128, c: u128) -> u128 {
    f64x2_add(f64x2_neg(f64x2_mul(a, b)), c)
}

/// `i8x16.relaxed_laneselect` = `v128.bitselect`.
#[inline]
pub fn i8x16_relaxed_laneselect(a: u128, b: u128, mask: u128) -> u128 {
    v128_bitselect(a, b, mask)
}

/// `i16x8.relaxed_laneselect` = `v128.bitselect`.
#[inline]
pub fn i16x8_relaxed_laneselect(a: u128, b: u128, mask: u128) -> u128 {
    v128_bitselect(a, b, mask)
}

/// `i32x4.relaxed_laneselect` = `v128.bitselect`.
#[inline]
pub fn i32x4_relaxed_laneselect(a: u128, b: u128, mask: u128) -> u128 {
    v128_bitselect(a, b, mask)
}

/// `i64x2.relaxed_laneselect` = `v128.bitselect`.
#[inline]
pub fn i64x2_relaxed_laneselect(a: u128, b: u128, mask: u128) -> u128 {
    v128_bitselect(a, b, mask)
}

/// `f32x4.relaxed_min` = `f32x4.min`.
#[inline]
pub fn f32x4_relaxed_min(a: u128, b: u128) -> u128 {
    f32x4_min(a, b)
}

/// `f32x4.relaxed_max` = `f32x4.max`.
#[inline]
pub fn f32x4_relaxed_max(a: u128, b: u128) -> u128 {
    f32x4_max(a, b)
}

/// `f64x2.relaxed_min` = `f64x2.min`.
#[inline]
pub fn f64x2_relaxed_min(a: u128, b: u128) -> u128 {
    f64x2_min(a, b)
}

/// `f64x2.relaxed_max` = `f64x2.max`.
#[inline]
pub fn f64x2_relaxed_max(a: u128, b: u128) -> u128 {
    f64x2_max(a, b)
}

/// `i16x8.relaxed_q15mulr_s` = `i16x8.q15mulr_sat_s`.
#[inline]
pub fn i16x8_relaxed_q15mulr_s(a: u128, b: u128) -> u128 {
    i16x8_q15mulr_sat_s(a, b)
}

/// `i16x8.relaxed_dot_i8x16_i7x16_s`: lane `i` is `a[2i]*b[2i] + a[2i+1]*b[2i+1]`, both
/// operands signed, the sum wrapping to 16 bits.
#[inline]
pub fn i16x8_relaxed_dot_i8x16_i7x16_s(a: u128, b: u128) -> u128 {
    let (a, b) = (lanes_i8(a), lanes_i8(b));
    from_lanes_i16(std::array::from_fn(|i| {
        let low = a[2 * i] as i16 * b[2 * i] as i16;
        let high = a[2 * i + 1] as i16 * b[2 * i + 1] as i16;
        low.wrapping_add(high)
    }))
}

/// `i32x4.relaxed_dot_i8x16_i7x16_add_s`: lane `i` is
/// `c[i] + sum(a[4i+k] * b[4i+k] for k in 0..4)`, both operands signed, wrapping to 32 bits.
#[inline]
pub fn i32x4_relaxed_dot_i8x16_i7x16_add_s(a: u128, b: u128, c: u128) -> u128 {
    let (a, b, c) = (lanes_i8(a), lanes_i8(b), lanes_i32(c));
    from_lanes_i32(std::array::from_fn(|i| {
        let dot: i32 = (0..4)
            .map(|k| a[4 * i + k] as i32 * b[4 * i + k] as i32)
            .sum();
        dot.wrapping_add(c[i])
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn i8s(l: [i8; 16]) -> u128 {
        from_lanes_i8(l)
    }
    fn u8s(l: [u8; 16]) -> u128 {
        from_lanes_u8(l)
    }
    fn i16s(l: [i16; 8]) -> u128 {
        from_lanes_i16(l)
    }
    fn u16s(l: [u16; 8]) -> u128 {
        from_lanes_u16(l)
    }
    fn i32s(l: [i32; 4]) -> u128 {
        from_lanes_i32(l)
    }
    fn u32s(l: [u32; 4]) -> u128 {
        from_lanes_u32(l)
    }
    fn i64s(l: [i64; 2]) -> u128 {
        from_lanes_i64(l)
    }
    fn f32s(l: [f32; 4]) -> u128 {
        from_lanes_f32(l)
    }
    fn f64s(l: [f64; 2]) -> u128 {
        from_lanes_f64(l)
    }
    fn f32_bits(v: u128) -> [u32; 4] {
        lanes_u32(v)
    }
    fn f64_bits(v: u128) -> [u64; 2] {
        lanes_u64(v)
    }

    const F32_CANON: u32 = 0x7fc0_0000;
    const F32_SNAN: u32 = 0x7fa0_0001;
    const F64_CANON: u64 = 0x7ff8_0000_0000_0000;
    const F64_SNAN: u64 = 0x7ff4_0000_0000_0001;
    const NEG_ZERO_32: u32 = 0x8000_0000;
    const NEG_ZERO_64: u64 = 0x8000_0000_0000_0000;

    fn is_quiet_nan32(bits: u32) -> bool {
        f32::from_bits(bits).is_nan() && bits & 0x0040_0000 != 0
    }
    fn is_quiet_nan64(bits: u64) -> bool {
        f64::from_bits(bits).is_nan() && bits & 0x0008_0000_0000_0000 != 0
    }

    #[test]
    fn lane_order_is_little_endian() {
        let v = 0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100u128;
        assert_eq!(
            lanes_u8(v),
            [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
        );
        assert_eq!(lanes_u16(v)[0], 0x0100);
        assert_eq!(lanes_u16(v)[7], 0x0f0e);
        assert_eq!(
            lanes_u32(v),
            [0x0302_0100, 0x0706_0504, 0x0b0a_0908, 0x0f0e_0d0c]
        );
        assert_eq!(lanes_u64(v), [0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908]);
        assert_eq!(from_lanes_u32(lanes_u32(v)), v);
        assert_eq!(from_lanes_f64(lanes_f64(v)), v);
        // NaN payloads survive a float round trip of the lanes.
        let nans = u32s([F32_SNAN, 0xffc0_1234, 1, NEG_ZERO_32]);
        assert_eq!(from_lanes_f32(lanes_f32(nans)), nans);
    }

    #[test]
    fn bitwise() {
        let a = 0xff00_ff00_0000_0000_ffff_ffff_0f0f_0f0fu128;
        let b = 0x0ff0_0ff0_1234_5678_0000_ffff_ff00_ff00u128;
        assert_eq!(v128_not(0), u128::MAX);
        assert_eq!(v128_and(a, b), 0x0f00_0f00_0000_0000_0000_ffff_0f00_0f00);
        assert_eq!(v128_andnot(a, b), 0xf000_f000_0000_0000_ffff_0000_000f_000f);
        assert_eq!(v128_or(a, b), 0xfff0_fff0_1234_5678_ffff_ffff_ff0f_ff0f);
        assert_eq!(v128_xor(a, b), 0xf0f0_f0f0_1234_5678_ffff_0000_f00f_f00f);
        // bitselect: a where the mask is 1.
        assert_eq!(
            v128_bitselect(u128::MAX, 0, 0x8000_0000_0000_0000_0000_0000_0000_0001),
            0x8000_0000_0000_0000_0000_0000_0000_0001
        );
        assert_eq!(v128_bitselect(a, b, 0), b);
        assert_eq!(v128_bitselect(a, b, u128::MAX), a);
        assert_eq!(v128_any_true(0), 0);
        assert_eq!(v128_any_true(1 << 127), 1);
        for select in [
            i8x16_relaxed_laneselect,
            i16x8_relaxed_laneselect,
            i32x4_relaxed_laneselect,
            i64x2_relaxed_laneselect,
        ] {
            assert_eq!(select(a, b, 0x00ff), (a & 0xff) | (b & !0xff));
        }
    }

    #[test]
    fn splat_extract_replace() {
        assert_eq!(i8x16_splat(0x1ff), u128::MAX);
        assert_eq!(i8x16_splat(0x7f), 0x7f7f_7f7f_7f7f_7f7f_7f7f_7f7f_7f7f_7f7f);
        assert_eq!(
            i16x8_splat(0x1_8001),
            0x8001_8001_8001_8001_8001_8001_8001_8001
        );
        assert_eq!(i32x4_splat(-2), i32s([-2; 4]));
        assert_eq!(i64x2_splat(1), 1 | 1 << 64);
        assert_eq!(f32x4_splat(f32::from_bits(F32_SNAN)), u32s([F32_SNAN; 4]));
        assert_eq!(
            f64x2_splat(-0.0),
            NEG_ZERO_64 as u128 | (NEG_ZERO_64 as u128) << 64
        );

        let v = i8s([0, -1, 2, -128, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 127]);
        assert_eq!(i8x16_extract_lane_s(v, 1), -1);
        assert_eq!(i8x16_extract_lane_u(v, 1), 255);
        assert_eq!(i8x16_extract_lane_s(v, 3), -128);
        assert_eq!(i8x16_extract_lane_u(v, 3), 128);
        assert_eq!(i8x16_extract_lane_s(v, 15), 127);
        let v = i16s([0, -1, 2, i16::MIN, 4, 5, 6, 7]);
        assert_eq!(i16x8_extract_lane_s(v, 3), -32768);
        assert_eq!(i16x8_extract_lane_u(v, 3), 32768);
        assert_eq!(i16x8_extract_lane_u(v, 1), 65535);
        assert_eq!(i16x8_extract_lane_s(v, 7), 7);
        let v = i32s([1, -2, 3, i32::MIN]);
        assert_eq!(i32x4_extract_lane(v, 1), -2);
        assert_eq!(i32x4_extract_lane(v, 3), i32::MIN);
        assert_eq!(i64x2_extract_lane(i64s([5, -6]), 1), -6);
        let v = u32s([0, F32_SNAN, 0, 0]);
        assert_eq!(f32x4_extract_lane(v, 1).to_bits(), F32_SNAN);
        let v = f64s([1.5, f64::from_bits(F64_SNAN)]);
        assert_eq!(f64x2_extract_lane(v, 0), 1.5);
        assert_eq!(f64x2_extract_lane(v, 1).to_bits(), F64_SNAN);

        // Replacement takes the low bits of the scalar and touches only its lane.
        assert_eq!(i8x16_replace_lane(0, 15, 0x1ab), 0xab << 120);
        assert_eq!(i8x16_replace_lane(u128::MAX, 0, 0), u128::MAX << 8);
        assert_eq!(i16x8_replace_lane(0, 1, -1), 0xffff_0000);
        assert_eq!(
            i32x4_replace_lane(u128::MAX, 2, 0),
            !(0xffff_ffffu128 << 64)
        );
        assert_eq!(i64x2_replace_lane(0, 1, -1), u128::MAX << 64);
        assert_eq!(f32x4_replace_lane(0, 3, -0.0), (NEG_ZERO_32 as u128) << 96);
        assert_eq!(
            f64x2_replace_lane(0, 0, f64::from_bits(F64_SNAN)),
            F64_SNAN as u128
        );
    }

    #[test]
    fn shuffle_and_swizzle() {
        let a = u8s(std::array::from_fn(|i| i as u8));
        let b = u8s(std::array::from_fn(|i| 0x10 + i as u8));
        let lanes = u8s([31, 0, 16, 15, 1, 17, 2, 18, 30, 29, 3, 3, 3, 3, 20, 5]);
        assert_eq!(
            lanes_u8(i8x16_shuffle(a, b, lanes)),
            [
                0x1f, 0, 0x10, 15, 1, 0x11, 2, 0x12, 0x1e, 0x1d, 3, 3, 3, 3, 0x14, 5
            ]
        );
        let a = u8s(std::array::from_fn(|i| 0xa0 + i as u8));
        // Indices 16, 0x80 and 0xff are out of range: 0.
        let s = u8s([0, 15, 16, 0x80, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 17, 14]);
        let expected = [
            0xa0, 0xaf, 0, 0, 0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0, 0xae,
        ];
        assert_eq!(lanes_u8(i8x16_swizzle(a, s)), expected);
        assert_eq!(lanes_u8(i8x16_relaxed_swizzle(a, s)), expected);
    }

    #[test]
    fn integer_arithmetic() {
        let a = i8s([127, -128, 1, -1, 100, -100, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0]);
        let b = i8s([1, -1, 1, -1, 100, -100, 0, -7, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            lanes_i8(i8x16_add(a, b))[..8],
            [-128, 127, 2, -2, -56, 56, 0, -2]
        );
        assert_eq!(
            lanes_i8(i8x16_sub(a, b))[..8],
            [126, -127, 0, 0, 0, 0, 0, 12]
        );
        assert_eq!(
            lanes_i8(i8x16_add_sat_s(a, b))[..8],
            [127, -128, 2, -2, 127, -128, 0, -2]
        );
        assert_eq!(
            lanes_i8(i8x16_sub_sat_s(a, b))[..8],
            [126, -127, 0, 0, 0, 0, 0, 12]
        );
        assert_eq!(
            lanes_i8(i8x16_sub_sat_s(i8s([-128; 16]), i8s([1; 16]))),
            [-128; 16]
        );
        assert_eq!(lanes_i8(i8x16_neg(a))[..4], [-127, -128, -1, 1]);
        assert_eq!(lanes_i8(i8x16_abs(a))[..6], [127, -128, 1, 1, 100, 100]);

        let a = u8s([255, 200, 0, 1, 128, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255]);
        let b = u8s([1, 100, 1, 2, 128, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255]);
        assert_eq!(
            lanes_u8(i8x16_add_sat_u(a, b))[..6],
            [255, 255, 1, 3, 255, 7]
        );
        assert_eq!(lanes_u8(i8x16_sub_sat_u(a, b))[..6], [254, 100, 0, 0, 0, 0]);
        assert_eq!(lanes_u8(i8x16_avgr_u(a, b))[..6], [128, 150, 1, 2, 128, 4]);
        assert_eq!(lanes_u8(i8x16_avgr_u(a, b))[15], 255);
        assert_eq!(lanes_u8(i8x16_min_u(a, b))[..4], [1, 100, 0, 1]);
        assert_eq!(lanes_u8(i8x16_max_u(a, b))[..4], [255, 200, 1, 2]);
        // The same bits read as signed: 255 is -1, 200 is -56.
        assert_eq!(lanes_i8(i8x16_min_s(a, b))[..4], [-1, -56, 0, 1]);
        assert_eq!(lanes_i8(i8x16_max_s(a, b))[..4], [1, 100, 1, 2]);
        assert_eq!(
            lanes_u8(i8x16_popcnt(u8s([
                0, 1, 3, 0xff, 0x80, 0x55, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7
            ])))[..6],
            [0, 1, 2, 8, 1, 4]
        );

        let a = i16s([i16::MAX, i16::MIN, -1, 300, 2, 0, 0, 0]);
        let b = i16s([1, 1, -1, 300, -3, 0, 0, 0]);
        assert_eq!(
            lanes_i16(i16x8_add(a, b))[..5],
            [i16::MIN, -32767, -2, 600, -1]
        );
        assert_eq!(
            lanes_i16(i16x8_mul(a, b))[..5],
            [i16::MAX, i16::MIN, 1, 24464, -6]
        );
        assert_eq!(lanes_i16(i16x8_add_sat_s(a, b))[..2], [i16::MAX, -32767]);
        assert_eq!(lanes_i16(i16x8_sub_sat_s(a, b))[..2], [32766, i16::MIN]);
        assert_eq!(lanes_u16(i16x8_add_sat_u(a, b))[..3], [32768, 32769, 65535]);
        assert_eq!(lanes_u16(i16x8_sub_sat_u(a, b))[..3], [32766, 32767, 0]);
        assert_eq!(
            lanes_u16(i16x8_avgr_u(
                u16s([65535, 1, 2, 0, 0, 0, 0, 0]),
                u16s([65535, 2, 2, 1, 0, 0, 0, 0])
            ))[..4],
            [65535, 2, 2, 1]
        );
        assert_eq!(lanes_i16(i16x8_neg(a))[..3], [-32767, i16::MIN, 1]);
        assert_eq!(lanes_i16(i16x8_abs(a))[..3], [i16::MAX, i16::MIN, 1]);
        assert_eq!(
            lanes_i16(i16x8_min_s(a, b))[..5],
            [1, i16::MIN, -1, 300, -3]
        );
        assert_eq!(lanes_u16(i16x8_min_u(a, b))[..5], [1, 1, 65535, 300, 2]);
        assert_eq!(lanes_i16(i16x8_max_s(a, b))[..5], [i16::MAX, 1, -1, 300, 2]);
        assert_eq!(
            lanes_u16(i16x8_max_u(a, b))[..5],
            [32767, 32768, 65535, 300, 65533]
        );

        let a = i32s([i32::MAX, i32::MIN, -5, 70000]);
        let b = i32s([1, -1, 3, 70000]);
        assert_eq!(lanes_i32(i32x4_add(a, b)), [i32::MIN, i32::MAX, -2, 140000]);
        assert_eq!(
            lanes_i32(i32x4_sub(a, b)),
            [i32::MAX - 1, i32::MIN + 1, -8, 0]
        );
        assert_eq!(
            lanes_i32(i32x4_mul(a, b)),
            [i32::MAX, i32::MIN, -15, 605032704]
        );
        assert_eq!(lanes_i32(i32x4_neg(a)), [-i32::MAX, i32::MIN, 5, -70000]);
        assert_eq!(lanes_i32(i32x4_abs(a)), [i32::MAX, i32::MIN, 5, 70000]);
        assert_eq!(lanes_i32(i32x4_min_s(a, b)), [1, i32::MIN, -5, 70000]);
        assert_eq!(lanes_i32(i32x4_max_s(a, b)), [i32::MAX, -1, 3, 70000]);
        assert_eq!(lanes_u32(i32x4_min_u(a, b)), [1, 0x8000_0000, 3, 70000]);
        assert_eq!(
            lanes_u32(i32x4_max_u(a, b)),
            [0x7fff_ffff, u32::MAX, (-5i32) as u32, 70000]
        );

        let a = i64s([i64::MAX, i64::MIN]);
        let b = i64s([2, -1]);
        assert_eq!(lanes_i64(i64x2_add(a, b)), [i64::MIN + 1, i64::MAX]);
        assert_eq!(lanes_i64(i64x2_sub(a, b)), [i64::MAX - 2, i64::MIN + 1]);
        assert_eq!(lanes_i64(i64x2_mul(a, b)), [-2, i64::MIN]);
        assert_eq!(lanes_i64(i64x2_neg(a)), [-i64::MAX, i64::MIN]);
        assert_eq!(lanes_i64(i64x2_abs(i64s([-3, i64::MIN]))), [3, i64::MIN]);
    }

    #[test]
    fn q15mulr() {
        let a = i16s([i16::MIN, i16::MIN, 16384, -16384, 1, -1, 0x4000, 3]);
        let b = i16s([i16::MIN, i16::MAX, 16384, 16384, 1, 1, 1, -3]);
        // (-32768)^2 >> 15 = 32768 saturates; 16384^2 = 2^28, (2^28 + 2^14) >> 15 = 8192;
        // 1*1 + 0x4000 >> 15 = 0; -1 + 0x4000 >> 15 = 0; 0x4000 + 0x4000 >> 15 = 1;
        // -9 + 0x4000 >> 15 = 0.
        let expected = [i16::MAX, -32767, 8192, -8192, 0, 0, 1, 0];
        assert_eq!(lanes_i16(i16x8_q15mulr_sat_s(a, b)), expected);
        assert_eq!(lanes_i16(i16x8_relaxed_q15mulr_s(a, b)), expected);
    }

    #[test]
    fn shifts_take_the_count_modulo_the_width() {
        let v = i8s([-128, 1, 0x40, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(lanes_i8(i8x16_shl(v, 1))[..4], [0, 2, -128, -2]);
        assert_eq!(lanes_i8(i8x16_shl(v, 9))[..4], [0, 2, -128, -2]);
        assert_eq!(lanes_i8(i8x16_shl(v, 8)), lanes_i8(v));
        assert_eq!(lanes_i8(i8x16_shr_s(v, 7))[..4], [-1, 0, 0, -1]);
        assert_eq!(lanes_i8(i8x16_shr_s(v, -1))[..4], [-1, 0, 0, -1]); // -1 % 8 = 7
        assert_eq!(lanes_u8(i8x16_shr_u(v, 7))[..4], [1, 0, 0, 1]);
        assert_eq!(lanes_u8(i8x16_shr_u(v, 15))[..4], [1, 0, 0, 1]);

        let v = i16s([i16::MIN, 1, -2, 0x100, 0, 0, 0, 0]);
        assert_eq!(lanes_i16(i16x8_shl(v, 17))[..4], [0, 2, -4, 0x200]);
        assert_eq!(lanes_i16(i16x8_shr_s(v, 16)), lanes_i16(v));
        assert_eq!(lanes_i16(i16x8_shr_s(v, 1))[..4], [-16384, 0, -1, 0x80]);
        assert_eq!(lanes_u16(i16x8_shr_u(v, 1))[..4], [16384, 0, 32767, 0x80]);

        let v = i32s([i32::MIN, 1, -1, 0x10]);
        assert_eq!(lanes_i32(i32x4_shl(v, 33)), [0, 2, -2, 0x20]);
        assert_eq!(lanes_i32(i32x4_shr_s(v, 31)), [-1, 0, -1, 0]);
        assert_eq!(lanes_u32(i32x4_shr_u(v, 31)), [1, 0, 1, 0]);
        assert_eq!(lanes_u32(i32x4_shr_u(v, 32)), lanes_u32(v));

        let v = i64s([i64::MIN, -1]);
        assert_eq!(lanes_i64(i64x2_shl(v, 65)), [0, -2]);
        assert_eq!(lanes_i64(i64x2_shr_s(v, 63)), [-1, -1]);
        assert_eq!(lanes_i64(i64x2_shr_u(v, 63)), [1, 1]);
        assert_eq!(lanes_i64(i64x2_shr_u(v, 64)), [i64::MIN, -1]);
    }

    #[test]
    fn reductions() {
        assert_eq!(i8x16_all_true(u128::MAX), 1);
        assert_eq!(i8x16_all_true(i8x16_splat(1)), 1);
        assert_eq!(i8x16_all_true(i8x16_replace_lane(u128::MAX, 9, 0)), 0);
        assert_eq!(i16x8_all_true(i8x16_splat(1)), 1);
        assert_eq!(i16x8_all_true(0xffff_0000), 0);
        assert_eq!(i32x4_all_true(i32s([1, 1 << 31, 0x100, 2])), 1);
        assert_eq!(i32x4_all_true(i32s([1, 1, 1, 0])), 0);
        assert_eq!(i64x2_all_true(i64s([1 << 40, 1])), 1);
        assert_eq!(i64x2_all_true(i64s([1 << 40, 0])), 0);

        assert_eq!(i8x16_bitmask(u128::MAX), 0xffff);
        assert_eq!(
            i8x16_bitmask(i8s([-1, 1, 0, -128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -2])),
            0x8009
        );
        assert_eq!(i16x8_bitmask(i16s([0, -1, 0, 0, 0, 0, 0, i16::MIN])), 0x82);
        assert_eq!(i32x4_bitmask(i32s([-1, 0, i32::MAX, i32::MIN])), 0b1001);
        assert_eq!(i64x2_bitmask(i64s([1, -1])), 0b10);
    }

    #[test]
    fn integer_comparisons() {
        let a = i8s([-1, 0, 1, 127, -128, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        let b = i8s([1, 0, -1, -128, 127, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        let t = -1i8;
        assert_eq!(lanes_i8(i8x16_eq(a, b))[..6], [0, t, 0, 0, 0, t]);
        assert_eq!(lanes_i8(i8x16_ne(a, b))[..6], [t, 0, t, t, t, 0]);
        assert_eq!(lanes_i8(i8x16_lt_s(a, b))[..6], [t, 0, 0, 0, t, 0]);
        assert_eq!(lanes_i8(i8x16_lt_u(a, b))[..6], [0, 0, t, t, 0, 0]);
        assert_eq!(lanes_i8(i8x16_gt_s(a, b))[..6], [0, 0, t, t, 0, 0]);
        assert_eq!(lanes_i8(i8x16_gt_u(a, b))[..6], [t, 0, 0, 0, t, 0]);
        assert_eq!(lanes_i8(i8x16_le_s(a, b))[..6], [t, t, 0, 0, t, t]);
        assert_eq!(lanes_i8(i8x16_le_u(a, b))[..6], [0, t, t, t, 0, t]);
        assert_eq!(lanes_i8(i8x16_ge_s(a, b))[..6], [0, t, t, t, 0, t]);
        assert_eq!(lanes_i8(i8x16_ge_u(a, b))[..6], [t, t, 0, 0, t, t]);

        let a = i16s([-1, 0, 1, 7, 0, 0, 0, 0]);
        let b = i16s([1, 0, -1, 7, 0, 0, 0, 0]);
        assert_eq!(lanes_i16(i16x8_lt_s(a, b))[..4], [-1, 0, 0, 0]);
        assert_eq!(lanes_i16(i16x8_lt_u(a, b))[..4], [0, 0, -1, 0]);
        assert_eq!(lanes_i16(i16x8_ge_u(a, b))[..4], [-1, -1, 0, -1]);
        assert_eq!(lanes_i16(i16x8_gt_s(a, b))[..4], [0, 0, -1, 0]);
        assert_eq!(lanes_i16(i16x8_gt_u(a, b))[..4], [-1, 0, 0, 0]);
        assert_eq!(lanes_i16(i16x8_le_s(a, b))[..4], [-1, -1, 0, -1]);
        assert_eq!(lanes_i16(i16x8_le_u(a, b))[..4], [0, -1, -1, -1]);
        assert_eq!(lanes_i16(i16x8_ge_s(a, b))[..4], [0, -1, -1, -1]);
        assert_eq!(lanes_i16(i16x8_eq(a, b))[..4], [0, -1, 0, -1]);
        assert_eq!(lanes_i16(i16x8_ne(a, b))[..4], [-1, 0, -1, 0]);

        let a = i32s([-1, 0, 1, 7]);
        let b = i32s([1, 0, -1, 7]);
        assert_eq!(lanes_i32(i32x4_eq(a, b)), [0, -1, 0, -1]);
        assert_eq!(lanes_i32(i32x4_ne(a, b)), [-1, 0, -1, 0]);
        assert_eq!(lanes_i32(i32x4_lt_s(a, b)), [-1, 0, 0, 0]);
        assert_eq!(lanes_i32(i32x4_lt_u(a, b)), [0, 0, -1, 0]);
        assert_eq!(lanes_i32(i32x4_gt_s(a, b)), [0, 0, -1, 0]);
        assert_eq!(lanes_i32(i32x4_gt_u(a, b)), [-1, 0, 0, 0]);
        assert_eq!(lanes_i32(i32x4_le_s(a, b)), [-1, -1, 0, -1]);
        assert_eq!(lanes_i32(i32x4_le_u(a, b)), [0, -1, -1, -1]);
        assert_eq!(lanes_i32(i32x4_ge_s(a, b)), [0, -1, -1, -1]);
        assert_eq!(lanes_i32(i32x4_ge_u(a, b)), [-1, -1, 0, -1]);

        let (a, b) = (i64s([-1, 3]), i64s([1, 3]));
        assert_eq!(lanes_i64(i64x2_eq(a, b)), [0, -1]);
        assert_eq!(lanes_i64(i64x2_ne(a, b)), [-1, 0]);
        assert_eq!(lanes_i64(i64x2_lt_s(a, b)), [-1, 0]);
        assert_eq!(lanes_i64(i64x2_gt_s(a, b)), [0, 0]);
        assert_eq!(lanes_i64(i64x2_le_s(a, b)), [-1, -1]);
        assert_eq!(lanes_i64(i64x2_ge_s(a, b)), [0, -1]);
    }

    #[test]
    fn float_comparisons() {
        let nan = f32::from_bits(F32_CANON);
        let a = f32s([nan, -0.0, 1.0, 2.0]);
        let b = f32s([nan, 0.0, 2.0, 1.0]);
        assert_eq!(lanes_i32(f32x4_eq(a, b)), [0, -1, 0, 0]);
        assert_eq!(lanes_i32(f32x4_ne(a, b)), [-1, 0, -1, -1]);
        assert_eq!(lanes_i32(f32x4_lt(a, b)), [0, 0, -1, 0]);
        assert_eq!(lanes_i32(f32x4_gt(a, b)), [0, 0, 0, -1]);
        assert_eq!(lanes_i32(f32x4_le(a, b)), [0, -1, -1, 0]);
        assert_eq!(lanes_i32(f32x4_ge(a, b)), [0, -1, 0, -1]);
        let nan = f64::from_bits(F64_SNAN);
        let a = f64s([nan, -0.0]);
        let b = f64s([1.0, 0.0]);
        assert_eq!(lanes_i64(f64x2_eq(a, b)), [0, -1]);
        assert_eq!(lanes_i64(f64x2_ne(a, b)), [-1, 0]);
        assert_eq!(lanes_i64(f64x2_lt(a, b)), [0, 0]);
        assert_eq!(lanes_i64(f64x2_gt(a, b)), [0, 0]);
        assert_eq!(lanes_i64(f64x2_le(a, b)), [0, -1]);
        assert_eq!(lanes_i64(f64x2_ge(a, b)), [0, -1]);
        assert_eq!(
            lanes_i64(f64x2_lt(f64s([1.0, -2.0]), f64s([2.0, -3.0]))),
            [-1, 0]
        );
    }

    #[test]
    fn float_arithmetic() {
        assert_eq!(
            lanes_f32(f32x4_add(
                f32s([1.5, -1.0, 3e38, 0.1]),
                f32s([2.25, 1.0, 3e38, 0.2])
            )),
            [3.75, 0.0, f32::INFINITY, f32::from_bits(0x3e99_999a)]
        );
        assert_eq!(
            lanes_f32(f32x4_sub(f32s([1.0; 4]), f32s([0.5, 2.0, 1.0, -1.0]))),
            [0.5, -1.0, 0.0, 2.0]
        );
        assert_eq!(
            lanes_f32(f32x4_mul(
                f32s([3.0, -2.0, 0.0, 1e30]),
                f32s([0.5, 2.0, -1.0, 1e30])
            )),
            [1.5, -4.0, -0.0, f32::INFINITY]
        );
        assert_eq!(
            f32_bits(f32x4_mul(f32s([0.0; 4]), f32s([-1.0; 4])))[0],
            NEG_ZERO_32
        );
        assert_eq!(
            lanes_f32(f32x4_div(
                f32s([1.0, -1.0, 1.0, 9.0]),
                f32s([0.0, 0.0, 4.0, 3.0])
            )),
            [f32::INFINITY, f32::NEG_INFINITY, 0.25, 3.0]
        );
        assert!(lanes_f32(f32x4_div(f32s([0.0; 4]), f32s([0.0; 4])))[0].is_nan());
        assert_eq!(
            lanes_f32(f32x4_sqrt(f32s([4.0, 2.25, 0.0, 1.0]))),
            [2.0, 1.5, 0.0, 1.0]
        );
        assert!(lanes_f32(f32x4_sqrt(f32s([-1.0; 4])))[0].is_nan());
        assert_eq!(
            lanes_f64(f64x2_add(f64s([0.1, 1.0]), f64s([0.2, -1.0]))),
            [0.30000000000000004, 0.0]
        );
        assert_eq!(
            lanes_f64(f64x2_sub(f64s([1.0, 0.0]), f64s([3.0, 0.0]))),
            [-2.0, 0.0]
        );
        assert_eq!(
            lanes_f64(f64x2_mul(f64s([1.5, -0.0]), f64s([-2.0, 5.0]))),
            [-3.0, -0.0]
        );
        assert_eq!(
            f64_bits(f64x2_mul(f64s([1.5, -0.0]), f64s([-2.0, 5.0])))[1],
            NEG_ZERO_64
        );
        assert_eq!(
            lanes_f64(f64x2_div(f64s([1.0, -3.0]), f64s([8.0, 0.0]))),
            [0.125, f64::NEG_INFINITY]
        );
        assert_eq!(lanes_f64(f64x2_sqrt(f64s([9.0, 0.25]))), [3.0, 0.5]);
        // Sign operations never touch a NaN's payload.
        let v = u32s([F32_SNAN, 0xffc0_1234, 0, NEG_ZERO_32]);
        assert_eq!(f32_bits(f32x4_abs(v)), [F32_SNAN, 0x7fc0_1234, 0, 0]);
        assert_eq!(
            f32_bits(f32x4_neg(v)),
            [F32_SNAN | 1 << 31, 0x7fc0_1234, NEG_ZERO_32, 0]
        );
        let v = f64s([f64::from_bits(F64_SNAN), -2.0]);
        assert_eq!(f64_bits(f64x2_abs(v)), [F64_SNAN, 2.0f64.to_bits()]);
        assert_eq!(
            f64_bits(f64x2_neg(v)),
            [F64_SNAN | 1 << 63, 2.0f64.to_bits()]
        );
    }

    #[test]
    fn float_min_max() {
        let nan = f32::from_bits(F32_CANON);
        let a = f32s([-0.0, 0.0, nan, 1.0]);
        let b = f32s([0.0, -0.0, 1.0, nan]);
        let min = f32_bits(f32x4_min(a, b));
        assert_eq!(min[..2], [NEG_ZERO_32, NEG_ZERO_32]);
        assert!(is_quiet_nan32(min[2]) && is_quiet_nan32(min[3]));
        let max = f32_bits(f32x4_max(a, b));
        assert_eq!(max[..2], [0, 0]);
        assert!(is_quiet_nan32(max[2]) && is_quiet_nan32(max[3]));
        assert_eq!(
            f32_bits(f32x4_relaxed_min(a, b))[..2],
            [NEG_ZERO_32, NEG_ZERO_32]
        );
        assert_eq!(f32_bits(f32x4_relaxed_max(a, b))[..2], [0, 0]);
        assert!(is_quiet_nan32(f32_bits(f32x4_relaxed_max(a, b))[3]));
        // A signalling NaN operand gives a quiet NaN.
        let s = f32x4_splat(f32::from_bits(F32_SNAN));
        assert!(is_quiet_nan32(f32_bits(f32x4_min(s, f32s([1.0; 4])))[0]));
        assert_eq!(
            lanes_f32(f32x4_min(
                f32s([1.0, -5.0, 3.0, 0.0]),
                f32s([2.0, 5.0, -3.0, 0.0])
            )),
            [1.0, -5.0, -3.0, 0.0]
        );
        assert_eq!(
            lanes_f32(f32x4_max(
                f32s([1.0, -5.0, 3.0, 0.0]),
                f32s([2.0, 5.0, -3.0, 0.0])
            )),
            [2.0, 5.0, 3.0, 0.0]
        );

        // pmin/pmax: `b < a ? b : a`, `a < b ? b : a` — the first operand wins ties and NaNs
        // in `b`, and a NaN `a` is returned unchanged.
        let a = u32s([NEG_ZERO_32, 0, F32_SNAN, 1.0f32.to_bits()]);
        let b = u32s([0, NEG_ZERO_32, 1.0f32.to_bits(), F32_SNAN]);
        assert_eq!(
            f32_bits(f32x4_pmin(a, b)),
            [NEG_ZERO_32, 0, F32_SNAN, 1.0f32.to_bits()]
        );
        assert_eq!(
            f32_bits(f32x4_pmax(a, b)),
            [NEG_ZERO_32, 0, F32_SNAN, 1.0f32.to_bits()]
        );
        assert_eq!(
            lanes_f32(f32x4_pmin(
                f32s([2.0, 1.0, 0.0, 0.0]),
                f32s([1.0, 2.0, 0.0, 0.0])
            ))[..2],
            [1.0, 1.0]
        );
        assert_eq!(
            lanes_f32(f32x4_pmax(
                f32s([2.0, 1.0, 0.0, 0.0]),
                f32s([1.0, 2.0, 0.0, 0.0])
            ))[..2],
            [2.0, 2.0]
        );

        let nan = f64::from_bits(F64_CANON);
        let min = f64_bits(f64x2_min(f64s([-0.0, nan]), f64s([0.0, 1.0])));
        assert_eq!(min[0], NEG_ZERO_64);
        assert!(is_quiet_nan64(min[1]));
        let max = f64_bits(f64x2_max(f64s([-0.0, 1.0]), f64s([0.0, nan])));
        assert_eq!(max[0], 0);
        assert!(is_quiet_nan64(max[1]));
        assert_eq!(
            f64_bits(f64x2_relaxed_min(f64s([-0.0, 1.0]), f64s([0.0, 2.0]))),
            [NEG_ZERO_64, 1.0f64.to_bits()]
        );
        assert_eq!(
            f64_bits(f64x2_relaxed_max(f64s([-0.0, 1.0]), f64s([0.0, 2.0]))),
            [0, 2.0f64.to_bits()]
        );
        let a = f64s([f64::from_bits(F64_SNAN), 0.0]);
        let b = f64s([1.0, -0.0]);
        assert_eq!(f64_bits(f64x2_pmin(a, b)), [F64_SNAN, 0]);
        assert_eq!(f64_bits(f64x2_pmax(a, b)), [F64_SNAN, 0]);
        assert_eq!(
            lanes_f64(f64x2_pmin(f64s([3.0, -1.0]), f64s([2.0, 1.0]))),
            [2.0, -1.0]
        );
        assert_eq!(
            lanes_f64(f64x2_pmax(f64s([3.0, -1.0]), f64s([2.0, 1.0]))),
            [3.0, 1.0]
        );
    }

    #[test]
    fn float_rounding() {
        let v = f32s([-0.5, 2.5, -1.5, 0.49999997]);
        assert_eq!(
            f32_bits(f32x4_nearest(v)),
            [NEG_ZERO_32, 2.0f32.to_bits(), (-2.0f32).to_bits(), 0]
        );
        assert_eq!(
            f32_bits(f32x4_ceil(v)),
            [
                NEG_ZERO_32,
                3.0f32.to_bits(),
                (-1.0f32).to_bits(),
                1.0f32.to_bits()
            ]
        );
        assert_eq!(lanes_f32(f32x4_floor(v)), [-1.0, 2.0, -2.0, 0.0]);
        assert_eq!(
            f32_bits(f32x4_trunc(v)),
            [NEG_ZERO_32, 2.0f32.to_bits(), (-1.0f32).to_bits(), 0]
        );
        for op in [
            f32x4_ceil,
            f32x4_floor,
            f32x4_trunc,
            f32x4_nearest,
            f32x4_sqrt,
        ] {
            assert!(is_quiet_nan32(f32_bits(op(u32s([F32_SNAN; 4])))[0]));
        }
        let v = f64s([-0.5, 4.5]);
        assert_eq!(f64_bits(f64x2_nearest(v)), [NEG_ZERO_64, 4.0f64.to_bits()]);
        assert_eq!(f64_bits(f64x2_ceil(v)), [NEG_ZERO_64, 5.0f64.to_bits()]);
        assert_eq!(lanes_f64(f64x2_floor(v)), [-1.0, 4.0]);
        assert_eq!(f64_bits(f64x2_trunc(v)), [NEG_ZERO_64, 4.0f64.to_bits()]);
        for op in [
            f64x2_ceil,
            f64x2_floor,
            f64x2_trunc,
            f64x2_nearest,
            f64x2_sqrt,
        ] {
            let snan = F64_SNAN as u128 | (F64_SNAN as u128) << 64;
            assert!(is_quiet_nan64(f64_bits(op(snan))[1]));
        }
    }

    #[test]
    fn narrowing_saturates() {
        let a = i16s([127, 128, -128, -129, 300, -300, 0, -1]);
        let b = i16s([1, 2, 3, 4, 5, 6, 7, 255]);
        assert_eq!(
            lanes_i8(i8x16_narrow_i16x8_s(a, b)),
            [
                127, 127, -128, -128, 127, -128, 0, -1, 1, 2, 3, 4, 5, 6, 7, 127
            ]
        );
        assert_eq!(
            lanes_u8(i8x16_narrow_i16x8_u(a, b)),
            [127, 128, 0, 0, 255, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 255]
        );
        let a = i32s([32767, 32768, -32769, -1]);
        let b = i32s([65535, 65536, 7, i32::MIN]);
        assert_eq!(
            lanes_i16(i16x8_narrow_i32x4_s(a, b)),
            [32767, 32767, -32768, -1, 32767, 32767, 7, -32768]
        );
        assert_eq!(
            lanes_u16(i16x8_narrow_i32x4_u(a, b)),
            [32767, 32768, 0, 0, 65535, 65535, 7, 0]
        );
    }

    #[test]
    fn widening() {
        let v = i8s([-1, 2, -128, 127, 0, 1, 2, 3, -5, 6, 7, 8, 9, 10, 11, -12]);
        assert_eq!(
            lanes_i16(i16x8_extend_low_i8x16_s(v)),
            [-1, 2, -128, 127, 0, 1, 2, 3]
        );
        assert_eq!(
            lanes_i16(i16x8_extend_high_i8x16_s(v)),
            [-5, 6, 7, 8, 9, 10, 11, -12]
        );
        assert_eq!(
            lanes_u16(i16x8_extend_low_i8x16_u(v)),
            [255, 2, 128, 127, 0, 1, 2, 3]
        );
        assert_eq!(
            lanes_u16(i16x8_extend_high_i8x16_u(v)),
            [251, 6, 7, 8, 9, 10, 11, 244]
        );
        let v = i16s([-1, 2, -3, 4, i16::MIN, 6, 7, 8]);
        assert_eq!(lanes_i32(i32x4_extend_low_i16x8_s(v)), [-1, 2, -3, 4]);
        assert_eq!(lanes_i32(i32x4_extend_high_i16x8_s(v)), [-32768, 6, 7, 8]);
        assert_eq!(lanes_u32(i32x4_extend_low_i16x8_u(v)), [65535, 2, 65533, 4]);
        assert_eq!(lanes_u32(i32x4_extend_high_i16x8_u(v)), [32768, 6, 7, 8]);
        let v = i32s([-1, 2, i32::MIN, 4]);
        assert_eq!(lanes_i64(i64x2_extend_low_i32x4_s(v)), [-1, 2]);
        assert_eq!(
            lanes_i64(i64x2_extend_high_i32x4_s(v)),
            [i32::MIN as i64, 4]
        );
        assert_eq!(lanes_u64(i64x2_extend_low_i32x4_u(v)), [0xffff_ffff, 2]);
        assert_eq!(lanes_u64(i64x2_extend_high_i32x4_u(v)), [0x8000_0000, 4]);

        let a = i8s([-128, 127, -1, 2, 0, 0, 0, 0, -128, 0, 0, 0, 0, 0, 0, 3]);
        let b = i8s([-128, 127, 1, -1, 0, 0, 0, 0, 127, 0, 0, 0, 0, 0, 0, -3]);
        assert_eq!(
            lanes_i16(i16x8_extmul_low_i8x16_s(a, b))[..4],
            [16384, 16129, -1, -2]
        );
        assert_eq!(
            lanes_i16(i16x8_extmul_high_i8x16_s(a, b)),
            [-16256, 0, 0, 0, 0, 0, 0, -9]
        );
        assert_eq!(
            lanes_u16(i16x8_extmul_low_i8x16_u(a, b))[..4],
            [16384, 16129, 255, 510]
        );
        assert_eq!(lanes_u16(i16x8_extmul_high_i8x16_u(a, b))[7], 3 * 253);
        assert_eq!(
            lanes_u16(i16x8_extmul_low_i8x16_u(i8x16_splat(-1), i8x16_splat(-1)))[0],
            65025
        );

        let a = i16s([i16::MIN, -1, 3, 0, 0, 0, 0, i16::MAX]);
        let b = i16s([i16::MIN, 2, -3, 0, 0, 0, 0, i16::MAX]);
        assert_eq!(
            lanes_i32(i32x4_extmul_low_i16x8_s(a, b)),
            [1 << 30, -2, -9, 0]
        );
        assert_eq!(
            lanes_i32(i32x4_extmul_high_i16x8_s(a, b)),
            [0, 0, 0, 32767 * 32767]
        );
        assert_eq!(
            lanes_u32(i32x4_extmul_low_i16x8_u(a, b)),
            [1 << 30, 131070, 3 * 65533, 0]
        );
        assert_eq!(
            lanes_u32(i32x4_extmul_low_i16x8_u(i16x8_splat(-1), i16x8_splat(-1)))[0],
            0xfffe_0001
        );
        assert_eq!(lanes_u32(i32x4_extmul_high_i16x8_u(a, b))[3], 32767 * 32767);

        let a = i32s([i32::MIN, -1, 0, 0]);
        let b = i32s([i32::MIN, 5, -1, -1]);
        assert_eq!(lanes_i64(i64x2_extmul_low_i32x4_s(a, b)), [1 << 62, -5]);
        assert_eq!(lanes_i64(i64x2_extmul_high_i32x4_s(a, b)), [0, 0]);
        assert_eq!(
            lanes_u64(i64x2_extmul_low_i32x4_u(a, b)),
            [1 << 62, 0xffff_ffff * 5]
        );
        let m = u32::MAX as u64;
        assert_eq!(
            lanes_u64(i64x2_extmul_high_i32x4_u(i32x4_splat(-1), i32x4_splat(-1))),
            [m * m; 2]
        );
    }

    #[test]
    fn pairwise_and_dot() {
        let v = i8s([-128, -128, 127, 127, -1, 1, 0, 5, 1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(
            lanes_i16(i16x8_extadd_pairwise_i8x16_s(v)),
            [-256, 254, 0, 5, 3, 7, 11, 15]
        );
        assert_eq!(
            lanes_u16(i16x8_extadd_pairwise_i8x16_u(v)),
            [256, 254, 256, 5, 3, 7, 11, 15]
        );
        let v = i16s([i16::MIN, i16::MIN, i16::MAX, i16::MAX, -1, 1, 0, 5]);
        assert_eq!(
            lanes_i32(i32x4_extadd_pairwise_i16x8_s(v)),
            [-65536, 65534, 0, 5]
        );
        assert_eq!(
            lanes_u32(i32x4_extadd_pairwise_i16x8_u(v)),
            [65536, 65534, 65536, 5]
        );

        let a = i16s([i16::MIN, i16::MIN, 1, 2, -3, 4, 100, 0]);
        let b = i16s([i16::MIN, i16::MIN, 3, 4, 5, 6, 100, 7]);
        // 2 * 2^30 wraps to i32::MIN; 1*3 + 2*4 = 11; -15 + 24 = 9; 10000.
        assert_eq!(lanes_i32(i32x4_dot_i16x8_s(a, b)), [i32::MIN, 11, 9, 10000]);
    }

    #[test]
    fn conversions() {
        assert_eq!(
            lanes_f32(f32x4_convert_i32x4_s(i32s([-1, i32::MIN, 16777217, 3]))),
            [-1.0, -2147483648.0, 16777216.0, 3.0]
        );
        assert_eq!(
            lanes_f32(f32x4_convert_i32x4_u(i32s([-1, i32::MIN, 16777219, 3]))),
            [4294967296.0, 2147483648.0, 16777220.0, 3.0]
        );
        assert_eq!(
            lanes_f64(f64x2_convert_low_i32x4_s(i32s([-1, i32::MIN, 9, 9]))),
            [-1.0, -2147483648.0]
        );
        assert_eq!(
            lanes_f64(f64x2_convert_low_i32x4_u(i32s([-1, i32::MIN, 9, 9]))),
            [4294967295.0, 2147483648.0]
        );

        let nan = f32::from_bits(F32_CANON);
        let v = f32s([nan, 3e9, -3e9, -1.9]);
        for op in [i32x4_trunc_sat_f32x4_s, i32x4_relaxed_trunc_f32x4_s] {
            assert_eq!(lanes_i32(op(v)), [0, i32::MAX, i32::MIN, -1]);
        }
        let v = f32s([nan, 5e9, -1.0, 4294967040.0]);
        for op in [i32x4_trunc_sat_f32x4_u, i32x4_relaxed_trunc_f32x4_u] {
            assert_eq!(lanes_u32(op(v)), [0, u32::MAX, 0, 4294967040]);
        }
        for op in [
            i32x4_trunc_sat_f64x2_s_zero,
            i32x4_relaxed_trunc_f64x2_s_zero,
        ] {
            assert_eq!(
                lanes_i32(op(f64s([-2147483648.9, 2147483647.9]))),
                [i32::MIN, i32::MAX, 0, 0]
            );
            assert_eq!(
                lanes_i32(op(f64s([f64::from_bits(F64_SNAN), -3e10]))),
                [0, i32::MIN, 0, 0]
            );
        }
        for op in [
            i32x4_trunc_sat_f64x2_u_zero,
            i32x4_relaxed_trunc_f64x2_u_zero,
        ] {
            assert_eq!(
                lanes_u32(op(f64s([-0.9, 4294967295.9]))),
                [0, u32::MAX, 0, 0]
            );
            assert_eq!(lanes_u32(op(f64s([f64::NAN, 1e20]))), [0, u32::MAX, 0, 0]);
        }

        // Demotion rounds to nearest even, overflows to infinity, zeroes the high lanes.
        let demoted = f32_bits(f32x4_demote_f64x2_zero(f64s([
            f64::from_bits(0x3ff0_0000_1000_0000),
            f64::MAX,
        ])));
        assert_eq!(demoted, [1.0f32.to_bits(), f32::INFINITY.to_bits(), 0, 0]);
        let demoted = f32_bits(f32x4_demote_f64x2_zero(f64s([
            f64::from_bits(F64_CANON),
            -0.0,
        ])));
        assert_eq!(demoted[0] & 0x7fff_ffff, F32_CANON);
        assert_eq!(demoted[1], NEG_ZERO_32);
        let promoted = f64_bits(f64x2_promote_low_f32x4(f32s([0.1, -0.0, 7.0, 7.0])));
        assert_eq!(promoted, [(0.1f32 as f64).to_bits(), NEG_ZERO_64]);
        assert_eq!(promoted[0], 0x3fb9_9999_a000_0000);
    }

    #[test]
    fn loaded_bits() {
        let bits = 0x8007_0605_0403_02ffu64;
        assert_eq!(
            lanes_i16(v128_load8x8_s(bits)),
            [-1, 2, 3, 4, 5, 6, 7, -128]
        );
        assert_eq!(
            lanes_u16(v128_load8x8_u(bits)),
            [255, 2, 3, 4, 5, 6, 7, 128]
        );
        assert_eq!(
            lanes_i32(v128_load16x4_s(bits)),
            [0x02ff, 0x0403, 0x0605, -32761]
        );
        assert_eq!(
            lanes_u32(v128_load16x4_u(bits)),
            [0x02ff, 0x0403, 0x0605, 0x8007]
        );
        assert_eq!(
            lanes_i64(v128_load32x2_s(bits)),
            [0x0403_02ff, 0x8007_0605u32 as i32 as i64]
        );
        assert_eq!(lanes_u64(v128_load32x2_u(bits)), [0x0403_02ff, 0x8007_0605]);
        assert_eq!(v128_load8_splat(0x1ff), u128::MAX);
        assert_eq!(lanes_u16(v128_load16_splat(0xabcd)), [0xabcd; 8]);
        assert_eq!(lanes_u32(v128_load32_splat(bits)), [0x0403_02ff; 4]);
        assert_eq!(lanes_u64(v128_load64_splat(bits)), [bits; 2]);
        assert_eq!(v128_load32_zero(bits), 0x0403_02ff);
        assert_eq!(v128_load64_zero(bits), bits as u128);
        // The lane forms are extract_lane/replace_lane of the loaded or stored width.
        assert_eq!(extract_lane(u128::MAX, 1, 15), 0xff);
        assert_eq!(extract_lane(1 << 64, 8, 1), 1);
        assert_eq!(extract_lane(0xabcd_0000, 2, 1), 0xabcd);
        assert_eq!(
            replace_lane(0, 4, 3, 0xdead_beef_1234),
            0xbeef_1234u128 << 96
        );
        assert_eq!(replace_lane(u128::MAX, 2, 0, 0), u128::MAX << 16);
    }

    #[test]
    fn relaxed_fma_is_unfused() {
        // (1 + 2^-23) * (1 - 2^-23) = 1 - 2^-46 rounds to 1.0 in f32; unfused, adding -1
        // gives exactly 0, where a fused multiply-add would give -2^-46.
        let a = f32x4_splat(1.0 + f32::EPSILON);
        let b = f32x4_splat(1.0 - f32::EPSILON);
        let c = f32x4_splat(-1.0);
        assert_eq!(lanes_f32(f32x4_relaxed_madd(a, b, c)), [0.0; 4]);
        assert_eq!(
            lanes_f32(f32x4_relaxed_nmadd(a, b, f32x4_splat(1.0))),
            [0.0; 4]
        );
        assert_eq!(
            lanes_f32(f32x4_relaxed_madd(
                f32s([2.0, 3.0, -1.0, 0.5]),
                f32s([3.0, 0.5, 4.0, 0.5]),
                f32s([1.0, 1.0, 1.0, -0.25])
            )),
            [7.0, 2.5, -3.0, 0.0]
        );
        assert_eq!(
            lanes_f32(f32x4_relaxed_nmadd(
                f32s([2.0, 3.0, -1.0, 0.5]),
                f32s([3.0, 0.5, 4.0, 0.5]),
                f32s([1.0, 1.0, 1.0, -0.25])
            )),
            [-5.0, -0.5, 5.0, -0.5]
        );
        // Overflow of the product is not rescued by the addend.
        assert_eq!(
            lanes_f32(f32x4_relaxed_madd(
                f32x4_splat(f32::MAX),
                f32x4_splat(2.0),
                f32x4_splat(f32::MIN)
            ))[0],
            f32::INFINITY
        );

        let e = f64::EPSILON;
        let a = f64x2_splat(1.0 + e);
        let b = f64x2_splat(1.0 - e);
        assert_eq!(
            lanes_f64(f64x2_relaxed_madd(a, b, f64x2_splat(-1.0))),
            [0.0; 2]
        );
        assert_eq!(
            lanes_f64(f64x2_relaxed_nmadd(a, b, f64x2_splat(1.0))),
            [0.0; 2]
        );
        assert_eq!(
            lanes_f64(f64x2_relaxed_madd(
                f64s([2.0, -2.0]),
                f64s([4.0, 4.0]),
                f64s([0.5, 0.5])
            )),
            [8.5, -7.5]
        );
        assert_eq!(
            lanes_f64(f64x2_relaxed_nmadd(
                f64s([2.0, -2.0]),
                f64s([4.0, 4.0]),
                f64s([0.5, 0.5])
            )),
            [-7.5, 8.5]
        );
    }

    #[test]
    fn relaxed_dot_products_are_signed_and_wrap() {
        let a = i8s([-128, -128, 1, 2, 127, 127, -1, -1, 3, 4, 0, 0, 0, 0, 5, -6]);
        let b = i8s([
            -128, -128, 3, 4, 127, 127, -128, 1, -1, -1, 0, 0, 0, 0, 7, 7,
        ]);
        // 16384 * 2 = 32768 wraps to -32768; 3 + 8 = 11; 16129 * 2 = 32258;
        // 128 - 1 = 127 (b = 0x80 read as -128); -3 - 4 = -7; 0; 0; 35 - 42 = -7.
        assert_eq!(
            lanes_i16(i16x8_relaxed_dot_i8x16_i7x16_s(a, b)),
            [i16::MIN, 11, 32258, 127, -7, 0, 0, -7]
        );
        let c = i32s([1, -1, i32::MAX, 0]);
        // 32768 + 11 + 1; 32258 + 127 - 1; -7 + 0 + MAX; 0 - 7 + 0.
        assert_eq!(
            lanes_i32(i32x4_relaxed_dot_i8x16_i7x16_add_s(a, b, c)),
            [32780, 32384, i32::MAX - 7, -7]
        );
        // Four (-128)^2 products plus MAX wrap.
        let m = i8x16_splat(-128);
        assert_eq!(
            lanes_i32(i32x4_relaxed_dot_i8x16_i7x16_add_s(
                m,
                m,
                i32x4_splat(i32::MAX)
            ))[0],
            i32::MAX.wrapping_add(65536)
        );
    }
}
