//! Fixed-width SIMD (`v128`) and relaxed SIMD.
//!
//! Every `v128` value has one Cranelift type, [`abi::V128`] (`i8x16`): on the operand stack,
//! in locals, block parameters, signatures and memory cells. An instruction bitcasts its
//! operands to the lane type it works on (a free reinterpretation, little-endian lane
//! order, so Wasm's lane 0 is the lowest-addressed bytes) and its result back.
//!
//! Memory accesses go through [`Translator::heap_address`] with the access's real size (16
//! bytes for a full vector, 8 for the extending loads, the lane's size for splats, zero
//! loads and lane accesses): the same explicit bounds check as every scalar access.
//!
//! Semantics that differ from Cranelift's instruction or that Wasm leaves open:
//!
//! - `pmin`/`pmax` are `b < a ? b : a` and `a < b ? b : a`, lane by lane (a compare and a
//!   `bitselect`); `min`/`max` are Cranelift's `fmin`/`fmax`, which have Wasm's semantics
//!   (NaN-propagating, -0 < +0).
//! - `i32x4.trunc_sat_f64x2_*_zero` converts to 64-bit lanes with saturation and narrows
//!   with saturation against a zero vector, which leaves every value unchanged (already in
//!   range) and zeroes the upper lanes.
//! - Relaxed SIMD has one behaviour per instruction, the same on every host and in the
//!   interpreter (`/work/notes/simd-contract.md`): the relaxed swizzle, truncations,
//!   min/max and q15 multiply are their non-relaxed instructions; `laneselect` is
//!   `bitselect`; `madd`/`nmadd` are unfused (`fmul` then `fadd`, each rounded); the dot
//!   products multiply signed by signed, the i16 one wrapping its pair sums, the i32 one
//!   summing four exact products in 32 bits.

use super::{Translator, unsupported};
use crate::abi::V128;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    ConstantData, Endianness, InstBuilder, MemFlagsData, Type, Value, types,
};
use cranelift_frontend::FunctionBuilder;
use kestrel_parser::wasmparser::{MemArg, Operator};

/// Flags of the bitcasts between vector types: the byte order makes a change of lane size
/// well defined.
const LANES: MemFlagsData = MemFlagsData::new().with_endianness(Endianness::Little);

const I8X16: Type = types::I8X16;
const I16X8: Type = types::I16X8;
const I32X4: Type = types::I32X4;
const I64X2: Type = types::I64X2;
const F32X4: Type = types::F32X4;
const F64X2: Type = types::F64X2;

/// Reinterprets vector `value` as `ty` (nothing when it has that type already).
fn cast(builder: &mut FunctionBuilder<'_>, ty: Type, value: Value) -> Value {
    if builder.func.dfg.value_type(value) == ty {
        value
    } else {
        builder.ins().bitcast(ty, LANES, value)
    }
}

/// A vector of zeros of type `ty`.
fn zeros(builder: &mut FunctionBuilder<'_>, ty: Type) -> Value {
    let constant = builder.func.dfg.constants.insert(vec![0u8; 16].into());
    builder.ins().vconst(ty, constant)
}

/// Lane `i` of the result is `a[2i] * b[2i] + a[2i + 1] * b[2i + 1]`, in lanes twice as
/// wide as `a`'s and `b`'s (signed, wrapping): the widened products, summed in pairs.
fn dot_pairs(builder: &mut FunctionBuilder<'_>, a: Value, b: Value) -> Value {
    let (a_low, a_high) = (builder.ins().swiden_low(a), builder.ins().swiden_high(a));
    let (b_low, b_high) = (builder.ins().swiden_low(b), builder.ins().swiden_high(b));
    let low = builder.ins().imul(a_low, b_low);
    let high = builder.ins().imul(a_high, b_high);
    builder.ins().iadd_pairwise(low, high)
}

/// How a `v128` load reads memory.
#[derive(Debug, Clone, Copy)]
enum VectorLoad {
    /// All 16 bytes.
    Full,
    /// 8 bytes, each lane widened: `(lanes of the result, signed)`.
    Extend(Type, bool),
    /// One lane of type `ty`, copied to every lane.
    Splat(Type),
    /// One 32- or 64-bit lane, the others zero.
    Zero(Type),
}

impl Translator<'_, '_> {
    /// Pops a `v128` as lane type `ty`.
    fn pop_vector(&mut self, ty: Type) -> Value {
        let value = self.pop();
        cast(&mut self.builder, ty, value)
    }

    /// Pushes a vector of any lane type as a `v128`.
    fn push_vector(&mut self, value: Value) {
        let value = cast(&mut self.builder, V128, value);
        self.push(value);
    }

    fn vector_unary(
        &mut self,
        ty: Type,
        op: impl FnOnce(&mut FunctionBuilder<'_>, Value) -> Value,
    ) {
        let a = self.pop_vector(ty);
        let value = op(&mut self.builder, a);
        self.push_vector(value);
    }

    fn vector_binary(
        &mut self,
        ty: Type,
        op: impl FnOnce(&mut FunctionBuilder<'_>, Value, Value) -> Value,
    ) {
        let b = self.pop_vector(ty);
        let a = self.pop_vector(ty);
        let value = op(&mut self.builder, a, b);
        self.push_vector(value);
    }

    fn vector_ternary(
        &mut self,
        ty: Type,
        op: impl FnOnce(&mut FunctionBuilder<'_>, Value, Value, Value) -> Value,
    ) {
        let c = self.pop_vector(ty);
        let b = self.pop_vector(ty);
        let a = self.pop_vector(ty);
        let value = op(&mut self.builder, a, b, c);
        self.push_vector(value);
    }

    /// A lane-wise comparison: all ones in the lanes where it holds.
    fn vector_icmp(&mut self, ty: Type, cc: IntCC) {
        self.vector_binary(ty, |b, x, y| b.ins().icmp(cc, x, y));
    }

    fn vector_fcmp(&mut self, ty: Type, cc: FloatCC) {
        self.vector_binary(ty, |b, x, y| b.ins().fcmp(cc, x, y));
    }

    /// A shift of every lane of a `ty` vector by an `i32` amount, taken modulo the lane
    /// width (Cranelift masks vector shift amounts to the lane width, as Wasm does).
    fn vector_shift(
        &mut self,
        ty: Type,
        op: impl FnOnce(&mut FunctionBuilder<'_>, Value, Value) -> Value,
    ) {
        let amount = self.pop();
        let a = self.pop_vector(ty);
        let value = op(&mut self.builder, a, amount);
        self.push_vector(value);
    }

    /// Pushes an `i32`: 1 when `condition` (an `i8` truth value) is non-zero, else 0.
    fn push_truth(&mut self, condition: Value) {
        let value = self.builder.ins().uextend(types::I32, condition);
        self.push(value);
    }

    fn splat(&mut self, ty: Type) {
        let scalar = self.pop();
        let lane = ty.lane_type();
        let scalar = if self.builder.func.dfg.value_type(scalar) == lane {
            scalar
        } else {
            self.builder.ins().ireduce(lane, scalar)
        };
        let value = self.builder.ins().splat(ty, scalar);
        self.push_vector(value);
    }

    /// Extracts lane `lane` of a `ty` vector; narrow integer lanes are extended to `i32`.
    fn extract_lane(&mut self, ty: Type, lane: u8, signed: bool) {
        let vector = self.pop_vector(ty);
        let value = self.builder.ins().extractlane(vector, lane);
        let value = match ty.lane_type() {
            types::I8 | types::I16 if signed => self.builder.ins().sextend(types::I32, value),
            types::I8 | types::I16 => self.builder.ins().uextend(types::I32, value),
            _ => value,
        };
        self.push(value);
    }

    fn replace_lane(&mut self, ty: Type, lane: u8) {
        let scalar = self.pop();
        let vector = self.pop_vector(ty);
        let lane_type = ty.lane_type();
        let scalar = if self.builder.func.dfg.value_type(scalar) == lane_type {
            scalar
        } else {
            self.builder.ins().ireduce(lane_type, scalar)
        };
        let value = self.builder.ins().insertlane(vector, scalar, lane);
        self.push_vector(value);
    }

    fn vector_load(&mut self, memarg: &MemArg, kind: VectorLoad) -> Result<(), String> {
        let size = match kind {
            VectorLoad::Full => 16,
            VectorLoad::Extend(..) => 8,
            VectorLoad::Splat(ty) | VectorLoad::Zero(ty) => u64::from(ty.lane_type().bytes()),
        };
        let address = self.heap_address(memarg, size)?;
        let flags = self.heap;
        let ins = self.builder.ins();
        let value = match kind {
            VectorLoad::Full => ins.load(V128, flags, address, 0),
            VectorLoad::Extend(I16X8, true) => ins.sload8x8(flags, address, 0),
            VectorLoad::Extend(I16X8, false) => ins.uload8x8(flags, address, 0),
            VectorLoad::Extend(I32X4, true) => ins.sload16x4(flags, address, 0),
            VectorLoad::Extend(I32X4, false) => ins.uload16x4(flags, address, 0),
            VectorLoad::Extend(I64X2, true) => ins.sload32x2(flags, address, 0),
            VectorLoad::Extend(I64X2, false) => ins.uload32x2(flags, address, 0),
            VectorLoad::Extend(ty, _) => return Err(unsupported(ty)),
            VectorLoad::Splat(ty) => {
                let lane = ins.load(ty.lane_type(), flags, address, 0);
                self.builder.ins().splat(ty, lane)
            }
            VectorLoad::Zero(ty) => {
                let lane = ins.load(ty.lane_type(), flags, address, 0);
                self.builder.ins().scalar_to_vector(ty, lane)
            }
        };
        self.push_vector(value);
        Ok(())
    }

    /// `v128.loadN_lane`: the vector is on top of the address.
    fn load_lane(&mut self, memarg: &MemArg, ty: Type, lane: u8) -> Result<(), String> {
        let vector = self.pop_vector(ty);
        let address = self.heap_address(memarg, u64::from(ty.lane_type().bytes()))?;
        let scalar = self
            .builder
            .ins()
            .load(ty.lane_type(), self.heap, address, 0);
        let value = self.builder.ins().insertlane(vector, scalar, lane);
        self.push_vector(value);
        Ok(())
    }

    /// `v128.storeN_lane`: the vector is on top of the address.
    fn store_lane(&mut self, memarg: &MemArg, ty: Type, lane: u8) -> Result<(), String> {
        let vector = self.pop_vector(ty);
        let address = self.heap_address(memarg, u64::from(ty.lane_type().bytes()))?;
        let scalar = self.builder.ins().extractlane(vector, lane);
        self.builder.ins().store(self.heap, scalar, address, 0);
        Ok(())
    }

    /// `f32x4.pmin` and friends: lane by lane, `b < a ? b : a` (`min`) or `a < b ? b : a`.
    fn pseudo_min_max(&mut self, ty: Type, max: bool) {
        self.vector_binary(ty, |builder, a, b| {
            let take_b = if max {
                builder.ins().fcmp(FloatCC::LessThan, a, b)
            } else {
                builder.ins().fcmp(FloatCC::LessThan, b, a)
            };
            let take_b = cast(builder, ty, take_b);
            builder.ins().bitselect(take_b, b, a)
        });
    }

    /// `i32x4.trunc_sat_f64x2_{s,u}_zero` (and the relaxed ones): saturating conversion to
    /// two 64-bit lanes, then a saturating narrowing that zeroes lanes 2 and 3.
    fn trunc_sat_f64x2_zero(&mut self, signed: bool) {
        self.vector_unary(F64X2, |builder, a| {
            let zero = zeros(builder, I64X2);
            if signed {
                let wide = builder.ins().fcvt_to_sint_sat(I64X2, a);
                builder.ins().snarrow(wide, zero)
            } else {
                let wide = builder.ins().fcvt_to_uint_sat(I64X2, a);
                builder.ins().uunarrow(wide, zero)
            }
        });
    }

    /// Translates SIMD operator `operator`, or fails when it is none the JIT knows.
    #[allow(clippy::too_many_lines)]
    pub(super) fn simd_operator(&mut self, operator: Operator<'_>) -> Result<(), String> {
        use Operator as O;
        use VectorLoad as L;
        match operator {
            O::V128Load { memarg } => self.vector_load(&memarg, L::Full)?,
            O::V128Load8x8S { memarg } => self.vector_load(&memarg, L::Extend(I16X8, true))?,
            O::V128Load8x8U { memarg } => self.vector_load(&memarg, L::Extend(I16X8, false))?,
            O::V128Load16x4S { memarg } => self.vector_load(&memarg, L::Extend(I32X4, true))?,
            O::V128Load16x4U { memarg } => self.vector_load(&memarg, L::Extend(I32X4, false))?,
            O::V128Load32x2S { memarg } => self.vector_load(&memarg, L::Extend(I64X2, true))?,
            O::V128Load32x2U { memarg } => self.vector_load(&memarg, L::Extend(I64X2, false))?,
            O::V128Load8Splat { memarg } => self.vector_load(&memarg, L::Splat(I8X16))?,
            O::V128Load16Splat { memarg } => self.vector_load(&memarg, L::Splat(I16X8))?,
            O::V128Load32Splat { memarg } => self.vector_load(&memarg, L::Splat(I32X4))?,
            O::V128Load64Splat { memarg } => self.vector_load(&memarg, L::Splat(I64X2))?,
            O::V128Load32Zero { memarg } => self.vector_load(&memarg, L::Zero(I32X4))?,
            O::V128Load64Zero { memarg } => self.vector_load(&memarg, L::Zero(I64X2))?,
            O::V128Store { memarg } => self.store(&memarg, 16)?,
            O::V128Load8Lane { memarg, lane } => self.load_lane(&memarg, I8X16, lane)?,
            O::V128Load16Lane { memarg, lane } => self.load_lane(&memarg, I16X8, lane)?,
            O::V128Load32Lane { memarg, lane } => self.load_lane(&memarg, I32X4, lane)?,
            O::V128Load64Lane { memarg, lane } => self.load_lane(&memarg, I64X2, lane)?,
            O::V128Store8Lane { memarg, lane } => self.store_lane(&memarg, I8X16, lane)?,
            O::V128Store16Lane { memarg, lane } => self.store_lane(&memarg, I16X8, lane)?,
            O::V128Store32Lane { memarg, lane } => self.store_lane(&memarg, I32X4, lane)?,
            O::V128Store64Lane { memarg, lane } => self.store_lane(&memarg, I64X2, lane)?,

            O::V128Const { value } => {
                let constant = self
                    .builder
                    .func
                    .dfg
                    .constants
                    .insert(value.bytes().to_vec().into());
                let value = self.builder.ins().vconst(V128, constant);
                self.push(value);
            }
            O::I8x16Shuffle { lanes } => {
                let b = self.pop_vector(I8X16);
                let a = self.pop_vector(I8X16);
                // Validation keeps every index below 32.
                let mask = self
                    .builder
                    .func
                    .dfg
                    .immediates
                    .push(ConstantData::from(lanes.to_vec()));
                let value = self.builder.ins().shuffle(a, b, mask);
                self.push_vector(value);
            }
            O::I8x16Swizzle | O::I8x16RelaxedSwizzle => {
                self.vector_binary(I8X16, |b, x, s| b.ins().swizzle(x, s));
            }

            O::I8x16Splat => self.splat(I8X16),
            O::I16x8Splat => self.splat(I16X8),
            O::I32x4Splat => self.splat(I32X4),
            O::I64x2Splat => self.splat(I64X2),
            O::F32x4Splat => self.splat(F32X4),
            O::F64x2Splat => self.splat(F64X2),
            O::I8x16ExtractLaneS { lane } => self.extract_lane(I8X16, lane, true),
            O::I8x16ExtractLaneU { lane } => self.extract_lane(I8X16, lane, false),
            O::I16x8ExtractLaneS { lane } => self.extract_lane(I16X8, lane, true),
            O::I16x8ExtractLaneU { lane } => self.extract_lane(I16X8, lane, false),
            O::I32x4ExtractLane { lane } => self.extract_lane(I32X4, lane, false),
            O::I64x2ExtractLane { lane } => self.extract_lane(I64X2, lane, false),
            O::F32x4ExtractLane { lane } => self.extract_lane(F32X4, lane, false),
            O::F64x2ExtractLane { lane } => self.extract_lane(F64X2, lane, false),
            O::I8x16ReplaceLane { lane } => self.replace_lane(I8X16, lane),
            O::I16x8ReplaceLane { lane } => self.replace_lane(I16X8, lane),
            O::I32x4ReplaceLane { lane } => self.replace_lane(I32X4, lane),
            O::I64x2ReplaceLane { lane } => self.replace_lane(I64X2, lane),
            O::F32x4ReplaceLane { lane } => self.replace_lane(F32X4, lane),
            O::F64x2ReplaceLane { lane } => self.replace_lane(F64X2, lane),

            O::I8x16Eq => self.vector_icmp(I8X16, IntCC::Equal),
            O::I8x16Ne => self.vector_icmp(I8X16, IntCC::NotEqual),
            O::I8x16LtS => self.vector_icmp(I8X16, IntCC::SignedLessThan),
            O::I8x16LtU => self.vector_icmp(I8X16, IntCC::UnsignedLessThan),
            O::I8x16GtS => self.vector_icmp(I8X16, IntCC::SignedGreaterThan),
            O::I8x16GtU => self.vector_icmp(I8X16, IntCC::UnsignedGreaterThan),
            O::I8x16LeS => self.vector_icmp(I8X16, IntCC::SignedLessThanOrEqual),
            O::I8x16LeU => self.vector_icmp(I8X16, IntCC::UnsignedLessThanOrEqual),
            O::I8x16GeS => self.vector_icmp(I8X16, IntCC::SignedGreaterThanOrEqual),
            O::I8x16GeU => self.vector_icmp(I8X16, IntCC::UnsignedGreaterThanOrEqual),
            O::I16x8Eq => self.vector_icmp(I16X8, IntCC::Equal),
            O::I16x8Ne => self.vector_icmp(I16X8, IntCC::NotEqual),
            O::I16x8LtS => self.vector_icmp(I16X8, IntCC::SignedLessThan),
            O::I16x8LtU => self.vector_icmp(I16X8, IntCC::UnsignedLessThan),
            O::I16x8GtS => self.vector_icmp(I16X8, IntCC::SignedGreaterThan),
            O::I16x8GtU => self.vector_icmp(I16X8, IntCC::UnsignedGreaterThan),
            O::I16x8LeS => self.vector_icmp(I16X8, IntCC::SignedLessThanOrEqual),
            O::I16x8LeU => self.vector_icmp(I16X8, IntCC::UnsignedLessThanOrEqual),
            O::I16x8GeS => self.vector_icmp(I16X8, IntCC::SignedGreaterThanOrEqual),
            O::I16x8GeU => self.vector_icmp(I16X8, IntCC::UnsignedGreaterThanOrEqual),
            O::I32x4Eq => self.vector_icmp(I32X4, IntCC::Equal),
            O::I32x4Ne => self.vector_icmp(I32X4, IntCC::NotEqual),
            O::I32x4LtS => self.vector_icmp(I32X4, IntCC::SignedLessThan),
            O::I32x4LtU => self.vector_icmp(I32X4, IntCC::UnsignedLessThan),
            O::I32x4GtS => self.vector_icmp(I32X4, IntCC::SignedGreaterThan),
            O::I32x4GtU => self.vector_icmp(I32X4, IntCC::UnsignedGreaterThan),
            O::I32x4LeS => self.vector_icmp(I32X4, IntCC::SignedLessThanOrEqual),
            O::I32x4LeU => self.vector_icmp(I32X4, IntCC::UnsignedLessThanOrEqual),
            O::I32x4GeS => self.vector_icmp(I32X4, IntCC::SignedGreaterThanOrEqual),
            O::I32x4GeU => self.vector_icmp(I32X4, IntCC::UnsignedGreaterThanOrEqual),
            O::I64x2Eq => self.vector_icmp(I64X2, IntCC::Equal),
            O::I64x2Ne => self.vector_icmp(I64X2, IntCC::NotEqual),
            O::I64x2LtS => self.vector_icmp(I64X2, IntCC::SignedLessThan),
            O::I64x2GtS => self.vector_icmp(I64X2, IntCC::SignedGreaterThan),
            O::I64x2LeS => self.vector_icmp(I64X2, IntCC::SignedLessThanOrEqual),
            O::I64x2GeS => self.vector_icmp(I64X2, IntCC::SignedGreaterThanOrEqual),
            O::F32x4Eq => self.vector_fcmp(F32X4, FloatCC::Equal),
            O::F32x4Ne => self.vector_fcmp(F32X4, FloatCC::NotEqual),
            O::F32x4Lt => self.vector_fcmp(F32X4, FloatCC::LessThan),
            O::F32x4Gt => self.vector_fcmp(F32X4, FloatCC::GreaterThan),
            O::F32x4Le => self.vector_fcmp(F32X4, FloatCC::LessThanOrEqual),
            O::F32x4Ge => self.vector_fcmp(F32X4, FloatCC::GreaterThanOrEqual),
            O::F64x2Eq => self.vector_fcmp(F64X2, FloatCC::Equal),
            O::F64x2Ne => self.vector_fcmp(F64X2, FloatCC::NotEqual),
            O::F64x2Lt => self.vector_fcmp(F64X2, FloatCC::LessThan),
            O::F64x2Gt => self.vector_fcmp(F64X2, FloatCC::GreaterThan),
            O::F64x2Le => self.vector_fcmp(F64X2, FloatCC::LessThanOrEqual),
            O::F64x2Ge => self.vector_fcmp(F64X2, FloatCC::GreaterThanOrEqual),

            O::V128Not => self.vector_unary(I8X16, |b, a| b.ins().bnot(a)),
            O::V128And => self.vector_binary(I8X16, |b, x, y| b.ins().band(x, y)),
            // `andnot a b` is `a & !b`, Cranelift's `band_not`.
            O::V128AndNot => self.vector_binary(I8X16, |b, x, y| b.ins().band_not(x, y)),
            O::V128Or => self.vector_binary(I8X16, |b, x, y| b.ins().bor(x, y)),
            O::V128Xor => self.vector_binary(I8X16, |b, x, y| b.ins().bxor(x, y)),
            // `bitselect a b mask`: the bits of `a` where `mask` has ones, else `b`'s.
            O::V128Bitselect
            | O::I8x16RelaxedLaneselect
            | O::I16x8RelaxedLaneselect
            | O::I32x4RelaxedLaneselect
            | O::I64x2RelaxedLaneselect => {
                self.vector_ternary(I8X16, |b, x, y, mask| b.ins().bitselect(mask, x, y));
            }
            O::V128AnyTrue => {
                let a = self.pop_vector(I8X16);
                let condition = self.builder.ins().vany_true(a);
                self.push_truth(condition);
            }

            O::I8x16AllTrue | O::I16x8AllTrue | O::I32x4AllTrue | O::I64x2AllTrue => {
                let ty = match operator {
                    O::I8x16AllTrue => I8X16,
                    O::I16x8AllTrue => I16X8,
                    O::I32x4AllTrue => I32X4,
                    _ => I64X2,
                };
                let a = self.pop_vector(ty);
                let condition = self.builder.ins().vall_true(a);
                self.push_truth(condition);
            }
            O::I8x16Bitmask | O::I16x8Bitmask | O::I32x4Bitmask | O::I64x2Bitmask => {
                let ty = match operator {
                    O::I8x16Bitmask => I8X16,
                    O::I16x8Bitmask => I16X8,
                    O::I32x4Bitmask => I32X4,
                    _ => I64X2,
                };
                let a = self.pop_vector(ty);
                let value = self.builder.ins().vhigh_bits(types::I32, a);
                self.push(value);
            }

            O::I8x16Abs => self.vector_unary(I8X16, |b, a| b.ins().iabs(a)),
            O::I16x8Abs => self.vector_unary(I16X8, |b, a| b.ins().iabs(a)),
            O::I32x4Abs => self.vector_unary(I32X4, |b, a| b.ins().iabs(a)),
            O::I64x2Abs => self.vector_unary(I64X2, |b, a| b.ins().iabs(a)),
            O::I8x16Neg => self.vector_unary(I8X16, |b, a| b.ins().ineg(a)),
            O::I16x8Neg => self.vector_unary(I16X8, |b, a| b.ins().ineg(a)),
            O::I32x4Neg => self.vector_unary(I32X4, |b, a| b.ins().ineg(a)),
            O::I64x2Neg => self.vector_unary(I64X2, |b, a| b.ins().ineg(a)),
            O::I8x16Popcnt => self.vector_unary(I8X16, |b, a| b.ins().popcnt(a)),

            O::I8x16NarrowI16x8S => self.vector_binary(I16X8, |b, x, y| b.ins().snarrow(x, y)),
            O::I8x16NarrowI16x8U => self.vector_binary(I16X8, |b, x, y| b.ins().unarrow(x, y)),
            O::I16x8NarrowI32x4S => self.vector_binary(I32X4, |b, x, y| b.ins().snarrow(x, y)),
            O::I16x8NarrowI32x4U => self.vector_binary(I32X4, |b, x, y| b.ins().unarrow(x, y)),
            O::I16x8ExtendLowI8x16S => self.vector_unary(I8X16, |b, a| b.ins().swiden_low(a)),
            O::I16x8ExtendHighI8x16S => self.vector_unary(I8X16, |b, a| b.ins().swiden_high(a)),
            O::I16x8ExtendLowI8x16U => self.vector_unary(I8X16, |b, a| b.ins().uwiden_low(a)),
            O::I16x8ExtendHighI8x16U => self.vector_unary(I8X16, |b, a| b.ins().uwiden_high(a)),
            O::I32x4ExtendLowI16x8S => self.vector_unary(I16X8, |b, a| b.ins().swiden_low(a)),
            O::I32x4ExtendHighI16x8S => self.vector_unary(I16X8, |b, a| b.ins().swiden_high(a)),
            O::I32x4ExtendLowI16x8U => self.vector_unary(I16X8, |b, a| b.ins().uwiden_low(a)),
            O::I32x4ExtendHighI16x8U => self.vector_unary(I16X8, |b, a| b.ins().uwiden_high(a)),
            O::I64x2ExtendLowI32x4S => self.vector_unary(I32X4, |b, a| b.ins().swiden_low(a)),
            O::I64x2ExtendHighI32x4S => self.vector_unary(I32X4, |b, a| b.ins().swiden_high(a)),
            O::I64x2ExtendLowI32x4U => self.vector_unary(I32X4, |b, a| b.ins().uwiden_low(a)),
            O::I64x2ExtendHighI32x4U => self.vector_unary(I32X4, |b, a| b.ins().uwiden_high(a)),

            O::I8x16Shl => self.vector_shift(I8X16, |b, x, y| b.ins().ishl(x, y)),
            O::I8x16ShrS => self.vector_shift(I8X16, |b, x, y| b.ins().sshr(x, y)),
            O::I8x16ShrU => self.vector_shift(I8X16, |b, x, y| b.ins().ushr(x, y)),
            O::I16x8Shl => self.vector_shift(I16X8, |b, x, y| b.ins().ishl(x, y)),
            O::I16x8ShrS => self.vector_shift(I16X8, |b, x, y| b.ins().sshr(x, y)),
            O::I16x8ShrU => self.vector_shift(I16X8, |b, x, y| b.ins().ushr(x, y)),
            O::I32x4Shl => self.vector_shift(I32X4, |b, x, y| b.ins().ishl(x, y)),
            O::I32x4ShrS => self.vector_shift(I32X4, |b, x, y| b.ins().sshr(x, y)),
            O::I32x4ShrU => self.vector_shift(I32X4, |b, x, y| b.ins().ushr(x, y)),
            O::I64x2Shl => self.vector_shift(I64X2, |b, x, y| b.ins().ishl(x, y)),
            O::I64x2ShrS => self.vector_shift(I64X2, |b, x, y| b.ins().sshr(x, y)),
            O::I64x2ShrU => self.vector_shift(I64X2, |b, x, y| b.ins().ushr(x, y)),

            O::I8x16Add => self.vector_binary(I8X16, |b, x, y| b.ins().iadd(x, y)),
            O::I16x8Add => self.vector_binary(I16X8, |b, x, y| b.ins().iadd(x, y)),
            O::I32x4Add => self.vector_binary(I32X4, |b, x, y| b.ins().iadd(x, y)),
            O::I64x2Add => self.vector_binary(I64X2, |b, x, y| b.ins().iadd(x, y)),
            O::I8x16Sub => self.vector_binary(I8X16, |b, x, y| b.ins().isub(x, y)),
            O::I16x8Sub => self.vector_binary(I16X8, |b, x, y| b.ins().isub(x, y)),
            O::I32x4Sub => self.vector_binary(I32X4, |b, x, y| b.ins().isub(x, y)),
            O::I64x2Sub => self.vector_binary(I64X2, |b, x, y| b.ins().isub(x, y)),
            O::I16x8Mul => self.vector_binary(I16X8, |b, x, y| b.ins().imul(x, y)),
            O::I32x4Mul => self.vector_binary(I32X4, |b, x, y| b.ins().imul(x, y)),
            O::I64x2Mul => self.vector_binary(I64X2, |b, x, y| b.ins().imul(x, y)),
            O::I8x16AddSatS => self.vector_binary(I8X16, |b, x, y| b.ins().sadd_sat(x, y)),
            O::I8x16AddSatU => self.vector_binary(I8X16, |b, x, y| b.ins().uadd_sat(x, y)),
            O::I8x16SubSatS => self.vector_binary(I8X16, |b, x, y| b.ins().ssub_sat(x, y)),
            O::I8x16SubSatU => self.vector_binary(I8X16, |b, x, y| b.ins().usub_sat(x, y)),
            O::I16x8AddSatS => self.vector_binary(I16X8, |b, x, y| b.ins().sadd_sat(x, y)),
            O::I16x8AddSatU => self.vector_binary(I16X8, |b, x, y| b.ins().uadd_sat(x, y)),
            O::I16x8SubSatS => self.vector_binary(I16X8, |b, x, y| b.ins().ssub_sat(x, y)),
            O::I16x8SubSatU => self.vector_binary(I16X8, |b, x, y| b.ins().usub_sat(x, y)),
            O::I8x16MinS => self.vector_binary(I8X16, |b, x, y| b.ins().smin(x, y)),
            O::I8x16MinU => self.vector_binary(I8X16, |b, x, y| b.ins().umin(x, y)),
            O::I8x16MaxS => self.vector_binary(I8X16, |b, x, y| b.ins().smax(x, y)),
            O::I8x16MaxU => self.vector_binary(I8X16, |b, x, y| b.ins().umax(x, y)),
            O::I16x8MinS => self.vector_binary(I16X8, |b, x, y| b.ins().smin(x, y)),
            O::I16x8MinU => self.vector_binary(I16X8, |b, x, y| b.ins().umin(x, y)),
            O::I16x8MaxS => self.vector_binary(I16X8, |b, x, y| b.ins().smax(x, y)),
            O::I16x8MaxU => self.vector_binary(I16X8, |b, x, y| b.ins().umax(x, y)),
            O::I32x4MinS => self.vector_binary(I32X4, |b, x, y| b.ins().smin(x, y)),
            O::I32x4MinU => self.vector_binary(I32X4, |b, x, y| b.ins().umin(x, y)),
            O::I32x4MaxS => self.vector_binary(I32X4, |b, x, y| b.ins().smax(x, y)),
            O::I32x4MaxU => self.vector_binary(I32X4, |b, x, y| b.ins().umax(x, y)),
            O::I8x16AvgrU => self.vector_binary(I8X16, |b, x, y| b.ins().avg_round(x, y)),
            O::I16x8AvgrU => self.vector_binary(I16X8, |b, x, y| b.ins().avg_round(x, y)),
            O::I16x8Q15MulrSatS | O::I16x8RelaxedQ15mulrS => {
                self.vector_binary(I16X8, |b, x, y| b.ins().sqmul_round_sat(x, y));
            }

            O::I16x8ExtAddPairwiseI8x16S | O::I32x4ExtAddPairwiseI16x8S => {
                let ty = if matches!(operator, O::I16x8ExtAddPairwiseI8x16S) {
                    I8X16
                } else {
                    I16X8
                };
                self.vector_unary(ty, |b, a| {
                    let (low, high) = (b.ins().swiden_low(a), b.ins().swiden_high(a));
                    b.ins().iadd_pairwise(low, high)
                });
            }
            O::I16x8ExtAddPairwiseI8x16U | O::I32x4ExtAddPairwiseI16x8U => {
                let ty = if matches!(operator, O::I16x8ExtAddPairwiseI8x16U) {
                    I8X16
                } else {
                    I16X8
                };
                self.vector_unary(ty, |b, a| {
                    let (low, high) = (b.ins().uwiden_low(a), b.ins().uwiden_high(a));
                    b.ins().iadd_pairwise(low, high)
                });
            }
            O::I32x4DotI16x8S => self.vector_binary(I16X8, dot_pairs),
            O::I16x8RelaxedDotI8x16I7x16S => self.vector_binary(I8X16, dot_pairs),
            O::I32x4RelaxedDotI8x16I7x16AddS => {
                let c = self.pop_vector(I32X4);
                let b = self.pop_vector(I8X16);
                let a = self.pop_vector(I8X16);
                let builder = &mut self.builder;
                // Exact i16 products of the signed bytes, widened to i32 before any sum.
                let (a_low, a_high) = (builder.ins().swiden_low(a), builder.ins().swiden_high(a));
                let (b_low, b_high) = (builder.ins().swiden_low(b), builder.ins().swiden_high(b));
                let products_low = builder.ins().imul(a_low, b_low);
                let products_high = builder.ins().imul(a_high, b_high);
                let [pairs_low, pairs_high] = [products_low, products_high].map(|products| {
                    let low = builder.ins().swiden_low(products);
                    let high = builder.ins().swiden_high(products);
                    builder.ins().iadd_pairwise(low, high)
                });
                let sums = builder.ins().iadd_pairwise(pairs_low, pairs_high);
                let value = builder.ins().iadd(sums, c);
                self.push_vector(value);
            }
            O::I16x8ExtMulLowI8x16S
            | O::I32x4ExtMulLowI16x8S
            | O::I64x2ExtMulLowI32x4S
            | O::I16x8ExtMulHighI8x16S
            | O::I32x4ExtMulHighI16x8S
            | O::I64x2ExtMulHighI32x4S
            | O::I16x8ExtMulLowI8x16U
            | O::I32x4ExtMulLowI16x8U
            | O::I64x2ExtMulLowI32x4U
            | O::I16x8ExtMulHighI8x16U
            | O::I32x4ExtMulHighI16x8U
            | O::I64x2ExtMulHighI32x4U => self.extended_multiply(&operator),

            O::F32x4Ceil => self.vector_unary(F32X4, |b, a| b.ins().ceil(a)),
            O::F32x4Floor => self.vector_unary(F32X4, |b, a| b.ins().floor(a)),
            O::F32x4Trunc => self.vector_unary(F32X4, |b, a| b.ins().trunc(a)),
            O::F32x4Nearest => self.vector_unary(F32X4, |b, a| b.ins().nearest(a)),
            O::F32x4Abs => self.vector_unary(F32X4, |b, a| b.ins().fabs(a)),
            O::F32x4Neg => self.vector_unary(F32X4, |b, a| b.ins().fneg(a)),
            O::F32x4Sqrt => self.vector_unary(F32X4, |b, a| b.ins().sqrt(a)),
            O::F32x4Add => self.vector_binary(F32X4, |b, x, y| b.ins().fadd(x, y)),
            O::F32x4Sub => self.vector_binary(F32X4, |b, x, y| b.ins().fsub(x, y)),
            O::F32x4Mul => self.vector_binary(F32X4, |b, x, y| b.ins().fmul(x, y)),
            O::F32x4Div => self.vector_binary(F32X4, |b, x, y| b.ins().fdiv(x, y)),
            O::F32x4Min | O::F32x4RelaxedMin => {
                self.vector_binary(F32X4, |b, x, y| b.ins().fmin(x, y));
            }
            O::F32x4Max | O::F32x4RelaxedMax => {
                self.vector_binary(F32X4, |b, x, y| b.ins().fmax(x, y));
            }
            O::F32x4PMin => self.pseudo_min_max(F32X4, false),
            O::F32x4PMax => self.pseudo_min_max(F32X4, true),
            O::F64x2Ceil => self.vector_unary(F64X2, |b, a| b.ins().ceil(a)),
            O::F64x2Floor => self.vector_unary(F64X2, |b, a| b.ins().floor(a)),
            O::F64x2Trunc => self.vector_unary(F64X2, |b, a| b.ins().trunc(a)),
            O::F64x2Nearest => self.vector_unary(F64X2, |b, a| b.ins().nearest(a)),
            O::F64x2Abs => self.vector_unary(F64X2, |b, a| b.ins().fabs(a)),
            O::F64x2Neg => self.vector_unary(F64X2, |b, a| b.ins().fneg(a)),
            O::F64x2Sqrt => self.vector_unary(F64X2, |b, a| b.ins().sqrt(a)),
            O::F64x2Add => self.vector_binary(F64X2, |b, x, y| b.ins().fadd(x, y)),
            O::F64x2Sub => self.vector_binary(F64X2, |b, x, y| b.ins().fsub(x, y)),
            O::F64x2Mul => self.vector_binary(F64X2, |b, x, y| b.ins().fmul(x, y)),
            O::F64x2Div => self.vector_binary(F64X2, |b, x, y| b.ins().fdiv(x, y)),
            O::F64x2Min | O::F64x2RelaxedMin => {
                self.vector_binary(F64X2, |b, x, y| b.ins().fmin(x, y));
            }
            O::F64x2Max | O::F64x2RelaxedMax => {
                self.vector_binary(F64X2, |b, x, y| b.ins().fmax(x, y));
            }
            O::F64x2PMin => self.pseudo_min_max(F64X2, false),
            O::F64x2PMax => self.pseudo_min_max(F64X2, true),
            O::F32x4RelaxedMadd | O::F64x2RelaxedMadd => {
                let ty = if matches!(operator, O::F32x4RelaxedMadd) {
                    F32X4
                } else {
                    F64X2
                };
                self.vector_ternary(ty, |b, x, y, z| {
                    let product = b.ins().fmul(x, y);
                    b.ins().fadd(product, z)
                });
            }
            O::F32x4RelaxedNmadd | O::F64x2RelaxedNmadd => {
                let ty = if matches!(operator, O::F32x4RelaxedNmadd) {
                    F32X4
                } else {
                    F64X2
                };
                self.vector_ternary(ty, |b, x, y, z| {
                    let product = b.ins().fmul(x, y);
                    let negated = b.ins().fneg(product);
                    b.ins().fadd(negated, z)
                });
            }

            O::I32x4TruncSatF32x4S | O::I32x4RelaxedTruncF32x4S => {
                self.vector_unary(F32X4, |b, a| b.ins().fcvt_to_sint_sat(I32X4, a));
            }
            O::I32x4TruncSatF32x4U | O::I32x4RelaxedTruncF32x4U => {
                self.vector_unary(F32X4, |b, a| b.ins().fcvt_to_uint_sat(I32X4, a));
            }
            O::I32x4TruncSatF64x2SZero | O::I32x4RelaxedTruncF64x2SZero => {
                self.trunc_sat_f64x2_zero(true);
            }
            O::I32x4TruncSatF64x2UZero | O::I32x4RelaxedTruncF64x2UZero => {
                self.trunc_sat_f64x2_zero(false);
            }
            O::F32x4ConvertI32x4S => {
                self.vector_unary(I32X4, |b, a| b.ins().fcvt_from_sint(F32X4, a));
            }
            O::F32x4ConvertI32x4U => {
                self.vector_unary(I32X4, |b, a| b.ins().fcvt_from_uint(F32X4, a));
            }
            O::F64x2ConvertLowI32x4S => self.vector_unary(I32X4, |b, a| {
                let wide = b.ins().swiden_low(a);
                b.ins().fcvt_from_sint(F64X2, wide)
            }),
            O::F64x2ConvertLowI32x4U => self.vector_unary(I32X4, |b, a| {
                let wide = b.ins().uwiden_low(a);
                b.ins().fcvt_from_uint(F64X2, wide)
            }),
            O::F32x4DemoteF64x2Zero => self.vector_unary(F64X2, |b, a| b.ins().fvdemote(a)),
            O::F64x2PromoteLowF32x4 => self.vector_unary(F32X4, |b, a| b.ins().fvpromote_low(a)),

            other => return Err(unsupported(other)),
        }
        Ok(())
    }

    /// `extmul_{low,high}_*`: the lanes of one half, widened, multiplied.
    fn extended_multiply(&mut self, operator: &Operator<'_>) {
        use Operator as O;
        let ty = match operator {
            O::I16x8ExtMulLowI8x16S
            | O::I16x8ExtMulHighI8x16S
            | O::I16x8ExtMulLowI8x16U
            | O::I16x8ExtMulHighI8x16U => I8X16,
            O::I32x4ExtMulLowI16x8S
            | O::I32x4ExtMulHighI16x8S
            | O::I32x4ExtMulLowI16x8U
            | O::I32x4ExtMulHighI16x8U => I16X8,
            _ => I32X4,
        };
        let high = matches!(
            operator,
            O::I16x8ExtMulHighI8x16S
                | O::I32x4ExtMulHighI16x8S
                | O::I64x2ExtMulHighI32x4S
                | O::I16x8ExtMulHighI8x16U
                | O::I32x4ExtMulHighI16x8U
                | O::I64x2ExtMulHighI32x4U
        );
        let signed = matches!(
            operator,
            O::I16x8ExtMulLowI8x16S
                | O::I32x4ExtMulLowI16x8S
                | O::I64x2ExtMulLowI32x4S
                | O::I16x8ExtMulHighI8x16S
                | O::I32x4ExtMulHighI16x8S
                | O::I64x2ExtMulHighI32x4S
        );
        self.vector_binary(ty, |b, x, y| {
            let mut widen = |value| match (high, signed) {
                (false, true) => b.ins().swiden_low(value),
                (true, true) => b.ins().swiden_high(value),
                (false, false) => b.ins().uwiden_low(value),
                (true, false) => b.ins().uwiden_high(value),
            };
            let (x, y) = (widen(x), widen(y));
            b.ins().imul(x, y)
        });
    }
}
