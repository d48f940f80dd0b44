//! The interpreter's instruction set: one list, from which the `Op` enum, its slot visitor
//! and (in `executor.rs`) the handlers of the numeric instructions are generated.
//!
//! # The register machine
//!
//! Every function runs in a *frame* of 64-bit slots on the value stack; a `v128` takes two
//! consecutive slots (low half first) wherever it is, and an instruction names its first:
//!
//! ```text
//! slot 0 ..            parameters, then the other locals (zeroed on entry)
//! num_locals ..        the constant pool, copied in on entry
//! then ..              operand-stack temporaries: each value on the Wasm operand stack
//!                      has a "home" here, starting where the values below it end
//! ```
//!
//! Instructions name their operands and result by slot, so `local.get`, constants and
//! most stack traffic cost nothing at run time: `(i32.mul (local.get 0) (local.get 1))`
//! becomes one `I32Mul { dst, lhs: slot 0, rhs: slot 1 }`, and a following `local.set 2`
//! rewrites `dst` to slot 2 instead of emitting a copy. The commonest integer instructions
//! and the fused compare-and-branches also come with an immediate right operand
//! ([`for_each_binary_imm`](crate::for_each_binary_imm),
//! [`for_each_branch_compare_imm`](crate::for_each_branch_compare_imm)), taken for a
//! constant that fits in 32 bits (sign-extended for 64-bit operands): `(i32.add
//! (local.get 0) (i32.const 1))` is `I32AddImm { dst, lhs: slot 0, imm: 1 }`. The
//! translator then drops the constants no instruction names from the pool, since every
//! constant in it is copied into the frame on every call.
//!
//! Calls pass arguments in place: the caller evaluates arguments into consecutive homes
//! `args..args+n`, and the callee's frame starts at `args`, so its parameters are already in
//! slots `0..n`. Results come back in the same slots.
//!
//! Branch targets are resolved at translation and stored relative to the branch
//! instruction ([`Target`]): the executor keeps only an instruction pointer, and a taken
//! branch adds the distance to it. A conditional branch on an integer comparison is one
//! instruction (`BranchI32LtS` and friends); so is one on `i32.eqz` (`BranchIfZero`, or
//! `BranchIfNonZero` for the `if` that skips its `then`) and on `i64.eqz`
//! (`BranchI64EqImm` with 0).

/// A frame-relative slot index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct Slot(pub u32);

/// A branch destination. While the translator builds a function it is an absolute
/// instruction index; in finished code ([`crate::translate::CompiledFunc::code`]) it is the
/// distance from the branch instruction to its destination, in instructions (zero or
/// negative for a backward branch), so the executor moves its instruction pointer without
/// knowing where the code starts.
pub type Target = i32;

/// Lets the generated visitor treat slot fields and immediates uniformly.
pub trait Field {
    fn visit_slot(&mut self, visitor: &mut dyn FnMut(&mut Slot));
}

impl Field for Slot {
    #[inline]
    fn visit_slot(&mut self, visitor: &mut dyn FnMut(&mut Slot)) {
        visitor(self)
    }
}

macro_rules! immediate_fields {
    ($($ty:ty),*) => {$(
        impl Field for $ty {
            #[inline]
            fn visit_slot(&mut self, _: &mut dyn FnMut(&mut Slot)) {}
        }
    )*};
}
immediate_fields!(u8, u32, i32);

// Each `for_each_*` macro calls `$m! { <carried tokens> <list name>: { <list> } }`, so a
// caller can chain them (each step carrying the lists gathered so far) and generate one
// `match` from all of them.

/// Numeric instructions with two operands and a result that cannot trap:
/// `name, operand type, |a, b| expression`.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_binary {
    ($m:ident $($carry:tt)*) => {
        $m! { $($carry)* binary: {
            I32Add i32 |a, b| a.wrapping_add(b);
            I32Sub i32 |a, b| a.wrapping_sub(b);
            I32Mul i32 |a, b| a.wrapping_mul(b);
            I32And i32 |a, b| a & b;
            I32Or i32 |a, b| a | b;
            I32Xor i32 |a, b| a ^ b;
            I32Shl i32 |a, b| numeric::i32_shl(a, b);
            I32ShrS i32 |a, b| numeric::i32_shr_s(a, b);
            I32ShrU i32 |a, b| numeric::i32_shr_u(a, b);
            I32Rotl i32 |a, b| numeric::i32_rotl(a, b);
            I32Rotr i32 |a, b| numeric::i32_rotr(a, b);
            I32Eq i32 |a, b| a == b;
            I32Ne i32 |a, b| a != b;
            I32LtS i32 |a, b| a < b;
            I32LtU u32 |a, b| a < b;
            I32GtS i32 |a, b| a > b;
            I32GtU u32 |a, b| a > b;
            I32LeS i32 |a, b| a <= b;
            I32LeU u32 |a, b| a <= b;
            I32GeS i32 |a, b| a >= b;
            I32GeU u32 |a, b| a >= b;
            I64Add i64 |a, b| a.wrapping_add(b);
            I64Sub i64 |a, b| a.wrapping_sub(b);
            I64Mul i64 |a, b| a.wrapping_mul(b);
            I64And i64 |a, b| a & b;
            I64Or i64 |a, b| a | b;
            I64Xor i64 |a, b| a ^ b;
            I64Shl i64 |a, b| numeric::i64_shl(a, b);
            I64ShrS i64 |a, b| numeric::i64_shr_s(a, b);
            I64ShrU i64 |a, b| numeric::i64_shr_u(a, b);
            I64Rotl i64 |a, b| numeric::i64_rotl(a, b);
            I64Rotr i64 |a, b| numeric::i64_rotr(a, b);
            I64Eq i64 |a, b| a == b;
            I64Ne i64 |a, b| a != b;
            I64LtS i64 |a, b| a < b;
            I64LtU u64 |a, b| a < b;
            I64GtS i64 |a, b| a > b;
            I64GtU u64 |a, b| a > b;
            I64LeS i64 |a, b| a <= b;
            I64LeU u64 |a, b| a <= b;
            I64GeS i64 |a, b| a >= b;
            I64GeU u64 |a, b| a >= b;
            F32Add f32 |a, b| a + b;
            F32Sub f32 |a, b| a - b;
            F32Mul f32 |a, b| a * b;
            F32Div f32 |a, b| a / b;
            F32Min f32 |a, b| numeric::f32_min(a, b);
            F32Max f32 |a, b| numeric::f32_max(a, b);
            F32Copysign f32 |a, b| numeric::f32_copysign(a, b);
            F32Eq f32 |a, b| a == b;
            F32Ne f32 |a, b| a != b;
            F32Lt f32 |a, b| a < b;
            F32Gt f32 |a, b| a > b;
            F32Le f32 |a, b| a <= b;
            F32Ge f32 |a, b| a >= b;
            F64Add f64 |a, b| a + b;
            F64Sub f64 |a, b| a - b;
            F64Mul f64 |a, b| a * b;
            F64Div f64 |a, b| a / b;
            F64Min f64 |a, b| numeric::f64_min(a, b);
            F64Max f64 |a, b| numeric::f64_max(a, b);
            F64Copysign f64 |a, b| numeric::f64_copysign(a, b);
            F64Eq f64 |a, b| a == b;
            F64Ne f64 |a, b| a != b;
            F64Lt f64 |a, b| a < b;
            F64Gt f64 |a, b| a > b;
            F64Le f64 |a, b| a <= b;
            F64Ge f64 |a, b| a >= b;
        } }
    };
}

/// Numeric instructions with an immediate right operand `imm`, emitted for a constant
/// that fits in 32 bits (sign-extended for 64-bit operands), so it takes no slot in the
/// frame's constant pool: `name, operand type, |a, b| expression`.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_binary_imm {
    ($m:ident $($carry:tt)*) => {
        $m! { $($carry)* binary_imm: {
            I32AddImm i32 |a, b| a.wrapping_add(b);
            I32SubImm i32 |a, b| a.wrapping_sub(b);
            I32MulImm i32 |a, b| a.wrapping_mul(b);
            I32AndImm i32 |a, b| a & b;
            I32OrImm i32 |a, b| a | b;
            I32XorImm i32 |a, b| a ^ b;
            I32ShlImm i32 |a, b| numeric::i32_shl(a, b);
            I32ShrSImm i32 |a, b| numeric::i32_shr_s(a, b);
            I32ShrUImm i32 |a, b| numeric::i32_shr_u(a, b);
            I32RotlImm i32 |a, b| numeric::i32_rotl(a, b);
            I32RotrImm i32 |a, b| numeric::i32_rotr(a, b);
            I64AddImm i64 |a, b| a.wrapping_add(b);
            I64SubImm i64 |a, b| a.wrapping_sub(b);
            I64MulImm i64 |a, b| a.wrapping_mul(b);
            I64AndImm i64 |a, b| a & b;
            I64OrImm i64 |a, b| a | b;
            I64XorImm i64 |a, b| a ^ b;
            I64ShlImm i64 |a, b| numeric::i64_shl(a, b);
            I64ShrSImm i64 |a, b| numeric::i64_shr_s(a, b);
            I64ShrUImm i64 |a, b| numeric::i64_shr_u(a, b);
            I64RotlImm i64 |a, b| numeric::i64_rotl(a, b);
            I64RotrImm i64 |a, b| numeric::i64_rotr(a, b);
        } }
    };
}

/// Two-operand instructions that can trap: `name, operand type, function -> Result`.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_trapping_binary {
    ($m:ident $($carry:tt)*) => {
        $m! { $($carry)* trapping_binary: {
            I32DivS i32 numeric::i32_div_s;
            I32DivU u32 numeric::i32_div_u;
            I32RemS i32 numeric::i32_rem_s;
            I32RemU u32 numeric::i32_rem_u;
            I64DivS i64 numeric::i64_div_s;
            I64DivU u64 numeric::i64_div_u;
            I64RemS i64 numeric::i64_rem_s;
            I64RemU u64 numeric::i64_rem_u;
        } }
    };
}

/// One-operand instructions that cannot trap: `name, operand type, |a| expression`.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_unary {
    ($m:ident $($carry:tt)*) => {
        $m! { $($carry)* unary: {
            I32Clz i32 |a| a.leading_zeros() as i32;
            I32Ctz i32 |a| a.trailing_zeros() as i32;
            I32Popcnt i32 |a| a.count_ones() as i32;
            I32Eqz i32 |a| a == 0;
            I64Clz i64 |a| a.leading_zeros() as i64;
            I64Ctz i64 |a| a.trailing_zeros() as i64;
            I64Popcnt i64 |a| a.count_ones() as i64;
            I64Eqz i64 |a| a == 0;
            F32Abs f32 |a| numeric::f32_abs(a);
            F32Neg f32 |a| numeric::f32_neg(a);
            F32Ceil f32 |a| numeric::f32_ceil(a);
            F32Floor f32 |a| numeric::f32_floor(a);
            F32Trunc f32 |a| numeric::f32_trunc(a);
            F32Nearest f32 |a| numeric::f32_nearest(a);
            F32Sqrt f32 |a| a.sqrt();
            F64Abs f64 |a| numeric::f64_abs(a);
            F64Neg f64 |a| numeric::f64_neg(a);
            F64Ceil f64 |a| numeric::f64_ceil(a);
            F64Floor f64 |a| numeric::f64_floor(a);
            F64Trunc f64 |a| numeric::f64_trunc(a);
            F64Nearest f64 |a| numeric::f64_nearest(a);
            F64Sqrt f64 |a| a.sqrt();
            I32WrapI64 i64 |a| a as i32;
            I64ExtendI32S i32 |a| a as i64;
            I64ExtendI32U u32 |a| a as u64;
            F32ConvertI32S i32 |a| a as f32;
            F32ConvertI32U u32 |a| a as f32;
            F32ConvertI64S i64 |a| a as f32;
            F32ConvertI64U u64 |a| a as f32;
            F32DemoteF64 f64 |a| a as f32;
            F64ConvertI32S i32 |a| a as f64;
            F64ConvertI32U u32 |a| a as f64;
            F64ConvertI64S i64 |a| a as f64;
            F64ConvertI64U u64 |a| a as f64;
            F64PromoteF32 f32 |a| a as f64;
            I32ReinterpretF32 f32 |a| a.to_bits() as i32;
            I64ReinterpretF64 f64 |a| a.to_bits() as i64;
            F32ReinterpretI32 u32 |a| f32::from_bits(a);
            F64ReinterpretI64 u64 |a| f64::from_bits(a);
            I32Extend8S i32 |a| numeric::i32_extend8_s(a);
            I32Extend16S i32 |a| numeric::i32_extend16_s(a);
            I64Extend8S i64 |a| numeric::i64_extend8_s(a);
            I64Extend16S i64 |a| numeric::i64_extend16_s(a);
            I64Extend32S i64 |a| numeric::i64_extend32_s(a);
            I32TruncSatF32S f32 |a| numeric::i32_trunc_sat_f32_s(a);
            I32TruncSatF32U f32 |a| numeric::i32_trunc_sat_f32_u(a);
            I32TruncSatF64S f64 |a| numeric::i32_trunc_sat_f64_s(a);
            I32TruncSatF64U f64 |a| numeric::i32_trunc_sat_f64_u(a);
            I64TruncSatF32S f32 |a| numeric::i64_trunc_sat_f32_s(a);
            I64TruncSatF32U f32 |a| numeric::i64_trunc_sat_f32_u(a);
            I64TruncSatF64S f64 |a| numeric::i64_trunc_sat_f64_s(a);
            I64TruncSatF64U f64 |a| numeric::i64_trunc_sat_f64_u(a);
        } }
    };
}

/// One-operand instructions that can trap: `name, operand type, function -> Result`.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_trapping_unary {
    ($m:ident $($carry:tt)*) => {
        $m! { $($carry)* trapping_unary: {
            I32TruncF32S f32 numeric::i32_trunc_f32_s;
            I32TruncF32U f32 numeric::i32_trunc_f32_u;
            I32TruncF64S f64 numeric::i32_trunc_f64_s;
            I32TruncF64U f64 numeric::i32_trunc_f64_u;
            I64TruncF32S f32 numeric::i64_trunc_f32_s;
            I64TruncF32U f32 numeric::i64_trunc_f32_u;
            I64TruncF64S f64 numeric::i64_trunc_f64_s;
            I64TruncF64U f64 numeric::i64_trunc_f64_u;
        } }
    };
}

/// Loads: `name, memory type, value type conversion`. The address operand is `addr`, the
/// static offset `offset`.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_load {
    ($m:ident $($carry:tt)*) => {
        $m! { $($carry)* load: {
            I32Load u32 |v| v as u64;
            I64Load u64 |v| v;
            F32Load u32 |v| v as u64;
            F64Load u64 |v| v;
            I32Load8S i8 |v| v as i32 as u32 as u64;
            I32Load8U u8 |v| v as u64;
            I32Load16S i16 |v| v as i32 as u32 as u64;
            I32Load16U u16 |v| v as u64;
            I64Load8S i8 |v| v as i64 as u64;
            I64Load8U u8 |v| v as u64;
            I64Load16S i16 |v| v as i64 as u64;
            I64Load16U u16 |v| v as u64;
            I64Load32S i32 |v| v as i64 as u64;
            I64Load32U u32 |v| v as u64;
        } }
    };
}

/// Stores: `name, memory type`; the value is truncated to the memory type.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_store {
    ($m:ident $($carry:tt)*) => {
        $m! { $($carry)* store: {
            I32Store u32;
            I64Store u64;
            F32Store u32;
            F64Store u64;
            I32Store8 u8;
            I32Store16 u16;
            I64Store8 u8;
            I64Store16 u16;
            I64Store32 u32;
        } }
    };
}

/// Integer comparisons that fuse with a following conditional branch:
/// `compare op, fused branch op, negated fused branch op`, then the same two with an
/// immediate right operand (for a constant that fits in 32 bits, sign-extended).
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_fused_compare {
    ($m:ident $($carry:tt)*) => {
        $m! { $($carry)* fused_compare: {
            I32Eq BranchI32Eq BranchI32Ne BranchI32EqImm BranchI32NeImm;
            I32Ne BranchI32Ne BranchI32Eq BranchI32NeImm BranchI32EqImm;
            I32LtS BranchI32LtS BranchI32GeS BranchI32LtSImm BranchI32GeSImm;
            I32LtU BranchI32LtU BranchI32GeU BranchI32LtUImm BranchI32GeUImm;
            I32GtS BranchI32GtS BranchI32LeS BranchI32GtSImm BranchI32LeSImm;
            I32GtU BranchI32GtU BranchI32LeU BranchI32GtUImm BranchI32LeUImm;
            I32LeS BranchI32LeS BranchI32GtS BranchI32LeSImm BranchI32GtSImm;
            I32LeU BranchI32LeU BranchI32GtU BranchI32LeUImm BranchI32GtUImm;
            I32GeS BranchI32GeS BranchI32LtS BranchI32GeSImm BranchI32LtSImm;
            I32GeU BranchI32GeU BranchI32LtU BranchI32GeUImm BranchI32LtUImm;
            I64Eq BranchI64Eq BranchI64Ne BranchI64EqImm BranchI64NeImm;
            I64Ne BranchI64Ne BranchI64Eq BranchI64NeImm BranchI64EqImm;
            I64LtS BranchI64LtS BranchI64GeS BranchI64LtSImm BranchI64GeSImm;
            I64LtU BranchI64LtU BranchI64GeU BranchI64LtUImm BranchI64GeUImm;
            I64GtS BranchI64GtS BranchI64LeS BranchI64GtSImm BranchI64LeSImm;
            I64GtU BranchI64GtU BranchI64LeU BranchI64GtUImm BranchI64LeUImm;
            I64LeS BranchI64LeS BranchI64GtS BranchI64LeSImm BranchI64GtSImm;
            I64LeU BranchI64LeU BranchI64GtU BranchI64LeUImm BranchI64GtUImm;
            I64GeS BranchI64GeS BranchI64LtS BranchI64GeSImm BranchI64LtSImm;
            I64GeU BranchI64GeU BranchI64LtU BranchI64GeUImm BranchI64LtUImm;
        } }
    };
}

/// Fused compare-and-branch instructions: `name, operand type, comparison`.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_branch_compare {
    ($m:ident $($carry:tt)*) => {
        $m! { $($carry)* branch_compare: {
            BranchI32Eq i32 |a, b| a == b;
            BranchI32Ne i32 |a, b| a != b;
            BranchI32LtS i32 |a, b| a < b;
            BranchI32LtU u32 |a, b| a < b;
            BranchI32GtS i32 |a, b| a > b;
            BranchI32GtU u32 |a, b| a > b;
            BranchI32LeS i32 |a, b| a <= b;
            BranchI32LeU u32 |a, b| a <= b;
            BranchI32GeS i32 |a, b| a >= b;
            BranchI32GeU u32 |a, b| a >= b;
            BranchI64Eq i64 |a, b| a == b;
            BranchI64Ne i64 |a, b| a != b;
            BranchI64LtS i64 |a, b| a < b;
            BranchI64LtU u64 |a, b| a < b;
            BranchI64GtS i64 |a, b| a > b;
            BranchI64GtU u64 |a, b| a > b;
            BranchI64LeS i64 |a, b| a <= b;
            BranchI64LeU u64 |a, b| a <= b;
            BranchI64GeS i64 |a, b| a >= b;
            BranchI64GeU u64 |a, b| a >= b;
        } }
    };
}

/// Fused compare-and-branch instructions whose right operand is the immediate `imm`
/// (sign-extended for 64-bit operands): `name, operand type, comparison`.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_branch_compare_imm {
    ($m:ident $($carry:tt)*) => {
        $m! { $($carry)* branch_compare_imm: {
            BranchI32EqImm i32 |a, b| a == b;
            BranchI32NeImm i32 |a, b| a != b;
            BranchI32LtSImm i32 |a, b| a < b;
            BranchI32LtUImm u32 |a, b| a < b;
            BranchI32GtSImm i32 |a, b| a > b;
            BranchI32GtUImm u32 |a, b| a > b;
            BranchI32LeSImm i32 |a, b| a <= b;
            BranchI32LeUImm u32 |a, b| a <= b;
            BranchI32GeSImm i32 |a, b| a >= b;
            BranchI32GeUImm u32 |a, b| a >= b;
            BranchI64EqImm i64 |a, b| a == b;
            BranchI64NeImm i64 |a, b| a != b;
            BranchI64LtSImm i64 |a, b| a < b;
            BranchI64LtUImm u64 |a, b| a < b;
            BranchI64GtSImm i64 |a, b| a > b;
            BranchI64GtUImm u64 |a, b| a > b;
            BranchI64LeSImm i64 |a, b| a <= b;
            BranchI64LeUImm u64 |a, b| a <= b;
            BranchI64GeSImm i64 |a, b| a >= b;
            BranchI64GeUImm u64 |a, b| a >= b;
        } }
    };
}

// ---------------------------------------------------------------------------------------
// SIMD (`v128`, two slots, named by the first). Every instruction is named as its
// `wasmparser::Operator` and computed by the `kestrel_vm::simd` function of the same name
// in snake case, which these lists give; `translate.rs` and `executor.rs` generate their
// SIMD arms from them.
// ---------------------------------------------------------------------------------------

/// `v128 x v128 -> v128`: `name function`.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_simd_binary {
    ($m:ident $($carry:tt)*) => {
        $m! { $($carry)* simd_binary: {
            V128And simd::v128_and;
            V128AndNot simd::v128_andnot;
            V128Or simd::v128_or;
            V128Xor simd::v128_xor;
            I8x16Swizzle simd::i8x16_swizzle;
            I8x16Eq simd::i8x16_eq;
            I8x16Ne simd::i8x16_ne;
            I8x16LtS simd::i8x16_lt_s;
            I8x16LtU simd::i8x16_lt_u;
            I8x16GtS simd::i8x16_gt_s;
            I8x16GtU simd::i8x16_gt_u;
            I8x16LeS simd::i8x16_le_s;
            I8x16LeU simd::i8x16_le_u;
            I8x16GeS simd::i8x16_ge_s;
            I8x16GeU simd::i8x16_ge_u;
            I16x8Eq simd::i16x8_eq;
            I16x8Ne simd::i16x8_ne;
            I16x8LtS simd::i16x8_lt_s;
            I16x8LtU simd::i16x8_lt_u;
            I16x8GtS simd::i16x8_gt_s;
            I16x8GtU simd::i16x8_gt_u;
            I16x8LeS simd::i16x8_le_s;
            I16x8LeU simd::i16x8_le_u;
            I16x8GeS simd::i16x8_ge_s;
            I16x8GeU simd::i16x8_ge_u;
            I32x4Eq simd::i32x4_eq;
            I32x4Ne simd::i32x4_ne;
            I32x4LtS simd::i32x4_lt_s;
            I32x4LtU simd::i32x4_lt_u;
            I32x4GtS simd::i32x4_gt_s;
            I32x4GtU simd::i32x4_gt_u;
            I32x4LeS simd::i32x4_le_s;
            I32x4LeU simd::i32x4_le_u;
            I32x4GeS simd::i32x4_ge_s;
            I32x4GeU simd::i32x4_ge_u;
            I64x2Eq simd::i64x2_eq;
            I64x2Ne simd::i64x2_ne;
            I64x2LtS simd::i64x2_lt_s;
            I64x2GtS simd::i64x2_gt_s;
            I64x2LeS simd::i64x2_le_s;
            I64x2GeS simd::i64x2_ge_s;
            F32x4Eq simd::f32x4_eq;
            F32x4Ne simd::f32x4_ne;
            F32x4Lt simd::f32x4_lt;
            F32x4Gt simd::f32x4_gt;
            F32x4Le simd::f32x4_le;
            F32x4Ge simd::f32x4_ge;
            F64x2Eq simd::f64x2_eq;
            F64x2Ne simd::f64x2_ne;
            F64x2Lt simd::f64x2_lt;
            F64x2Gt simd::f64x2_gt;
            F64x2Le simd::f64x2_le;
            F64x2Ge simd::f64x2_ge;
            I8x16NarrowI16x8S simd::i8x16_narrow_i16x8_s;
            I8x16NarrowI16x8U simd::i8x16_narrow_i16x8_u;
            I8x16Add simd::i8x16_add;
            I8x16AddSatS simd::i8x16_add_sat_s;
            I8x16AddSatU simd::i8x16_add_sat_u;
            I8x16Sub simd::i8x16_sub;
            I8x16SubSatS simd::i8x16_sub_sat_s;
            I8x16SubSatU simd::i8x16_sub_sat_u;
            I8x16MinS simd::i8x16_min_s;
            I8x16MinU simd::i8x16_min_u;
            I8x16MaxS simd::i8x16_max_s;
            I8x16MaxU simd::i8x16_max_u;
            I8x16AvgrU simd::i8x16_avgr_u;
            I16x8Q15MulrSatS simd::i16x8_q15mulr_sat_s;
            I16x8NarrowI32x4S simd::i16x8_narrow_i32x4_s;
            I16x8NarrowI32x4U simd::i16x8_narrow_i32x4_u;
            I16x8Add simd::i16x8_add;
            I16x8AddSatS simd::i16x8_add_sat_s;
            I16x8AddSatU simd::i16x8_add_sat_u;
            I16x8Sub simd::i16x8_sub;
            I16x8SubSatS simd::i16x8_sub_sat_s;
            I16x8SubSatU simd::i16x8_sub_sat_u;
            I16x8Mul simd::i16x8_mul;
            I16x8MinS simd::i16x8_min_s;
            I16x8MinU simd::i16x8_min_u;
            I16x8MaxS simd::i16x8_max_s;
            I16x8MaxU simd::i16x8_max_u;
            I16x8AvgrU simd::i16x8_avgr_u;
            I16x8ExtMulLowI8x16S simd::i16x8_extmul_low_i8x16_s;
            I16x8ExtMulHighI8x16S simd::i16x8_extmul_high_i8x16_s;
            I16x8ExtMulLowI8x16U simd::i16x8_extmul_low_i8x16_u;
            I16x8ExtMulHighI8x16U simd::i16x8_extmul_high_i8x16_u;
            I32x4Add simd::i32x4_add;
            I32x4Sub simd::i32x4_sub;
            I32x4Mul simd::i32x4_mul;
            I32x4MinS simd::i32x4_min_s;
            I32x4MinU simd::i32x4_min_u;
            I32x4MaxS simd::i32x4_max_s;
            I32x4MaxU simd::i32x4_max_u;
            I32x4DotI16x8S simd::i32x4_dot_i16x8_s;
            I32x4ExtMulLowI16x8S simd::i32x4_extmul_low_i16x8_s;
            I32x4ExtMulHighI16x8S simd::i32x4_extmul_high_i16x8_s;
            I32x4ExtMulLowI16x8U simd::i32x4_extmul_low_i16x8_u;
            I32x4ExtMulHighI16x8U simd::i32x4_extmul_high_i16x8_u;
            I64x2Add simd::i64x2_add;
            I64x2Sub simd::i64x2_sub;
            I64x2Mul simd::i64x2_mul;
            I64x2ExtMulLowI32x4S simd::i64x2_extmul_low_i32x4_s;
            I64x2ExtMulHighI32x4S simd::i64x2_extmul_high_i32x4_s;
            I64x2ExtMulLowI32x4U simd::i64x2_extmul_low_i32x4_u;
            I64x2ExtMulHighI32x4U simd::i64x2_extmul_high_i32x4_u;
            F32x4Add simd::f32x4_add;
            F32x4Sub simd::f32x4_sub;
            F32x4Mul simd::f32x4_mul;
            F32x4Div simd::f32x4_div;
            F32x4Min simd::f32x4_min;
            F32x4Max simd::f32x4_max;
            F32x4PMin simd::f32x4_pmin;
            F32x4PMax simd::f32x4_pmax;
            F64x2Add simd::f64x2_add;
            F64x2Sub simd::f64x2_sub;
            F64x2Mul simd::f64x2_mul;
            F64x2Div simd::f64x2_div;
            F64x2Min simd::f64x2_min;
            F64x2Max simd::f64x2_max;
            F64x2PMin simd::f64x2_pmin;
            F64x2PMax simd::f64x2_pmax;
            I8x16RelaxedSwizzle simd::i8x16_relaxed_swizzle;
            F32x4RelaxedMin simd::f32x4_relaxed_min;
            F32x4RelaxedMax simd::f32x4_relaxed_max;
            F64x2RelaxedMin simd::f64x2_relaxed_min;
            F64x2RelaxedMax simd::f64x2_relaxed_max;
            I16x8RelaxedQ15mulrS simd::i16x8_relaxed_q15mulr_s;
            I16x8RelaxedDotI8x16I7x16S simd::i16x8_relaxed_dot_i8x16_i7x16_s;
        } }
    };
}

/// `v128 -> v128`: `name function`.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_simd_unary {
    ($m:ident $($carry:tt)*) => {
        $m! { $($carry)* simd_unary: {
            V128Not simd::v128_not;
            I8x16Abs simd::i8x16_abs;
            I8x16Neg simd::i8x16_neg;
            I8x16Popcnt simd::i8x16_popcnt;
            I16x8ExtAddPairwiseI8x16S simd::i16x8_extadd_pairwise_i8x16_s;
            I16x8ExtAddPairwiseI8x16U simd::i16x8_extadd_pairwise_i8x16_u;
            I16x8Abs simd::i16x8_abs;
            I16x8Neg simd::i16x8_neg;
            I16x8ExtendLowI8x16S simd::i16x8_extend_low_i8x16_s;
            I16x8ExtendHighI8x16S simd::i16x8_extend_high_i8x16_s;
            I16x8ExtendLowI8x16U simd::i16x8_extend_low_i8x16_u;
            I16x8ExtendHighI8x16U simd::i16x8_extend_high_i8x16_u;
            I32x4ExtAddPairwiseI16x8S simd::i32x4_extadd_pairwise_i16x8_s;
            I32x4ExtAddPairwiseI16x8U simd::i32x4_extadd_pairwise_i16x8_u;
            I32x4Abs simd::i32x4_abs;
            I32x4Neg simd::i32x4_neg;
            I32x4ExtendLowI16x8S simd::i32x4_extend_low_i16x8_s;
            I32x4ExtendHighI16x8S simd::i32x4_extend_high_i16x8_s;
            I32x4ExtendLowI16x8U simd::i32x4_extend_low_i16x8_u;
            I32x4ExtendHighI16x8U simd::i32x4_extend_high_i16x8_u;
            I64x2Abs simd::i64x2_abs;
            I64x2Neg simd::i64x2_neg;
            I64x2ExtendLowI32x4S simd::i64x2_extend_low_i32x4_s;
            I64x2ExtendHighI32x4S simd::i64x2_extend_high_i32x4_s;
            I64x2ExtendLowI32x4U simd::i64x2_extend_low_i32x4_u;
            I64x2ExtendHighI32x4U simd::i64x2_extend_high_i32x4_u;
            F32x4Ceil simd::f32x4_ceil;
            F32x4Floor simd::f32x4_floor;
            F32x4Trunc simd::f32x4_trunc;
            F32x4Nearest simd::f32x4_nearest;
            F32x4Abs simd::f32x4_abs;
            F32x4Neg simd::f32x4_neg;
            F32x4Sqrt simd::f32x4_sqrt;
            F64x2Ceil simd::f64x2_ceil;
            F64x2Floor simd::f64x2_floor;
            F64x2Trunc simd::f64x2_trunc;
            F64x2Nearest simd::f64x2_nearest;
            F64x2Abs simd::f64x2_abs;
            F64x2Neg simd::f64x2_neg;
            F64x2Sqrt simd::f64x2_sqrt;
            I32x4TruncSatF32x4S simd::i32x4_trunc_sat_f32x4_s;
            I32x4TruncSatF32x4U simd::i32x4_trunc_sat_f32x4_u;
            F32x4ConvertI32x4S simd::f32x4_convert_i32x4_s;
            F32x4ConvertI32x4U simd::f32x4_convert_i32x4_u;
            I32x4TruncSatF64x2SZero simd::i32x4_trunc_sat_f64x2_s_zero;
            I32x4TruncSatF64x2UZero simd::i32x4_trunc_sat_f64x2_u_zero;
            F64x2ConvertLowI32x4S simd::f64x2_convert_low_i32x4_s;
            F64x2ConvertLowI32x4U simd::f64x2_convert_low_i32x4_u;
            F32x4DemoteF64x2Zero simd::f32x4_demote_f64x2_zero;
            F64x2PromoteLowF32x4 simd::f64x2_promote_low_f32x4;
            I32x4RelaxedTruncF32x4S simd::i32x4_relaxed_trunc_f32x4_s;
            I32x4RelaxedTruncF32x4U simd::i32x4_relaxed_trunc_f32x4_u;
            I32x4RelaxedTruncF64x2SZero simd::i32x4_relaxed_trunc_f64x2_s_zero;
            I32x4RelaxedTruncF64x2UZero simd::i32x4_relaxed_trunc_f64x2_u_zero;
        } }
    };
}

/// `v128 x v128 x v128 -> v128`, the operands in consecutive slots from `operands`
/// (two each): `name function`.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_simd_ternary {
    ($m:ident $($carry:tt)*) => {
        $m! { $($carry)* simd_ternary: {
            V128Bitselect simd::v128_bitselect;
            F32x4RelaxedMadd simd::f32x4_relaxed_madd;
            F32x4RelaxedNmadd simd::f32x4_relaxed_nmadd;
            F64x2RelaxedMadd simd::f64x2_relaxed_madd;
            F64x2RelaxedNmadd simd::f64x2_relaxed_nmadd;
            I8x16RelaxedLaneselect simd::i8x16_relaxed_laneselect;
            I16x8RelaxedLaneselect simd::i16x8_relaxed_laneselect;
            I32x4RelaxedLaneselect simd::i32x4_relaxed_laneselect;
            I64x2RelaxedLaneselect simd::i64x2_relaxed_laneselect;
            I32x4RelaxedDotI8x16I7x16AddS simd::i32x4_relaxed_dot_i8x16_i7x16_add_s;
        } }
    };
}

/// `v128 x i32 -> v128` shifts (`lhs` the vector, `rhs` the count): `name function`.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_simd_shift {
    ($m:ident $($carry:tt)*) => {
        $m! { $($carry)* simd_shift: {
            I8x16Shl simd::i8x16_shl;
            I8x16ShrS simd::i8x16_shr_s;
            I8x16ShrU simd::i8x16_shr_u;
            I16x8Shl simd::i16x8_shl;
            I16x8ShrS simd::i16x8_shr_s;
            I16x8ShrU simd::i16x8_shr_u;
            I32x4Shl simd::i32x4_shl;
            I32x4ShrS simd::i32x4_shr_s;
            I32x4ShrU simd::i32x4_shr_u;
            I64x2Shl simd::i64x2_shl;
            I64x2ShrS simd::i64x2_shr_s;
            I64x2ShrU simd::i64x2_shr_u;
        } }
    };
}

/// Scalar `->` v128: `name, scalar type, function`.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_simd_splat {
    ($m:ident $($carry:tt)*) => {
        $m! { $($carry)* simd_splat: {
            I8x16Splat i32 simd::i8x16_splat;
            I16x8Splat i32 simd::i16x8_splat;
            I32x4Splat i32 simd::i32x4_splat;
            I64x2Splat i64 simd::i64x2_splat;
            F32x4Splat f32 simd::f32x4_splat;
            F64x2Splat f64 simd::f64x2_splat;
        } }
    };
}

/// `v128 -> i32`: `name function`.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_simd_test {
    ($m:ident $($carry:tt)*) => {
        $m! { $($carry)* simd_test: {
            V128AnyTrue simd::v128_any_true;
            I8x16AllTrue simd::i8x16_all_true;
            I8x16Bitmask simd::i8x16_bitmask;
            I16x8AllTrue simd::i16x8_all_true;
            I16x8Bitmask simd::i16x8_bitmask;
            I32x4AllTrue simd::i32x4_all_true;
            I32x4Bitmask simd::i32x4_bitmask;
            I64x2AllTrue simd::i64x2_all_true;
            I64x2Bitmask simd::i64x2_bitmask;
        } }
    };
}

/// `extract_lane`, a `u8` lane immediate: `name, result type, function`.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_simd_extract_lane {
    ($m:ident $($carry:tt)*) => {
        $m! { $($carry)* simd_extract_lane: {
            I8x16ExtractLaneS i32 simd::i8x16_extract_lane_s;
            I8x16ExtractLaneU i32 simd::i8x16_extract_lane_u;
            I16x8ExtractLaneS i32 simd::i16x8_extract_lane_s;
            I16x8ExtractLaneU i32 simd::i16x8_extract_lane_u;
            I32x4ExtractLane i32 simd::i32x4_extract_lane;
            I64x2ExtractLane i64 simd::i64x2_extract_lane;
            F32x4ExtractLane f32 simd::f32x4_extract_lane;
            F64x2ExtractLane f64 simd::f64x2_extract_lane;
        } }
    };
}

/// `replace_lane` (`src` the vector, `value` the scalar, a `u8` lane immediate):
/// `name, scalar type, function`.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_simd_replace_lane {
    ($m:ident $($carry:tt)*) => {
        $m! { $($carry)* simd_replace_lane: {
            I8x16ReplaceLane i32 simd::i8x16_replace_lane;
            I16x8ReplaceLane i32 simd::i16x8_replace_lane;
            I32x4ReplaceLane i32 simd::i32x4_replace_lane;
            I64x2ReplaceLane i64 simd::i64x2_replace_lane;
            F32x4ReplaceLane f32 simd::f32x4_replace_lane;
            F64x2ReplaceLane f64 simd::f64x2_replace_lane;
        } }
    };
}

/// Loads of a `v128` result, as [`for_each_load`]: `name, memory type, |bits| v128`.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_simd_load {
    ($m:ident $($carry:tt)*) => {
        $m! { $($carry)* simd_load: {
            V128Load u128 |v| v;
            V128Load8x8S u64 |v| simd::v128_load8x8_s(v);
            V128Load8x8U u64 |v| simd::v128_load8x8_u(v);
            V128Load16x4S u64 |v| simd::v128_load16x4_s(v);
            V128Load16x4U u64 |v| simd::v128_load16x4_u(v);
            V128Load32x2S u64 |v| simd::v128_load32x2_s(v);
            V128Load32x2U u64 |v| simd::v128_load32x2_u(v);
            V128Load8Splat u8 |v| simd::v128_load8_splat(v as u64);
            V128Load16Splat u16 |v| simd::v128_load16_splat(v as u64);
            V128Load32Splat u32 |v| simd::v128_load32_splat(v as u64);
            V128Load64Splat u64 |v| simd::v128_load64_splat(v);
            V128Load32Zero u32 |v| simd::v128_load32_zero(v as u64);
            V128Load64Zero u64 |v| simd::v128_load64_zero(v);
        } }
    };
}

/// `load*_lane`: the address at `operands`, the vector in the two slots after it, a `u8`
/// lane immediate: `name, memory type` (the lane's type).
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_simd_load_lane {
    ($m:ident $($carry:tt)*) => {
        $m! { $($carry)* simd_load_lane: {
            V128Load8Lane u8;
            V128Load16Lane u16;
            V128Load32Lane u32;
            V128Load64Lane u64;
        } }
    };
}

/// `store*_lane`, operands as for [`for_each_simd_load_lane`]: `name, memory type`.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_simd_store_lane {
    ($m:ident $($carry:tt)*) => {
        $m! { $($carry)* simd_store_lane: {
            V128Store8Lane u8;
            V128Store16Lane u16;
            V128Store32Lane u32;
            V128Store64Lane u64;
        } }
    };
}

// `define_ops` lists every instruction name once more, grouped by shape; the executor
// generates its handlers from the `for_each_*` lists above, so a name missing from either
// side is a compile error (a non-exhaustive match or an unknown variant).
macro_rules! define_ops {
    (
        results { $( $(#[$rdoc:meta])* $rname:ident { $($rfield:ident : $rty:ty),* } )* }
        others { $( $(#[$odoc:meta])* $oname:ident { $($ofield:ident : $oty:ty),* } )* }
        binary { $($bname:ident)* }
        unary { $($uname:ident)* }
        load { $($lname:ident)* }
        store { $($sname:ident)* }
        branch { $($brname:ident)* }
        binary_imm { $($biname:ident)* }
        branch_imm { $($bimname:ident)* }
        simd_binary: { $($sbname:ident $sbfunction:path;)* }
        simd_unary: { $($suname:ident $sufunction:path;)* }
        simd_ternary: { $($stname:ident $stfunction:path;)* }
        simd_shift: { $($ssname:ident $ssfunction:path;)* }
        simd_splat: { $($spname:ident $spty:ident $spfunction:path;)* }
        simd_test: { $($sqname:ident $sqfunction:path;)* }
        simd_extract_lane: { $($sename:ident $sety:ident $sefunction:path;)* }
        simd_replace_lane: { $($srname:ident $srty:ident $srfunction:path;)* }
        simd_load: { $($slname:ident $slty:ident |$slv:ident| $slconvert:expr;)* }
        simd_load_lane: { $($sllname:ident $sllty:ident;)* }
        simd_store_lane: { $($sslname:ident $sslty:ident;)* }
    ) => {
        /// One interpreter instruction. See the module docs for the machine model.
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub enum Op {
            $( $(#[$rdoc])* $rname { dst: Slot, $($rfield: $rty),* }, )*
            $( $(#[$odoc])* $oname { $($ofield: $oty),* }, )*
            $( $bname { dst: Slot, lhs: Slot, rhs: Slot }, )*
            $( $uname { dst: Slot, src: Slot }, )*
            $( $lname { dst: Slot, addr: Slot, offset: u32 }, )*
            $( $sname { addr: Slot, value: Slot, offset: u32 }, )*
            $( $brname { lhs: Slot, rhs: Slot, target: Target }, )*
            $( $biname { dst: Slot, lhs: Slot, imm: i32 }, )*
            $( $bimname { lhs: Slot, imm: i32, target: Target }, )*
            $( $sbname { dst: Slot, lhs: Slot, rhs: Slot }, )*
            $( $suname { dst: Slot, src: Slot }, )*
            $( $stname { dst: Slot, operands: Slot }, )*
            $( $ssname { dst: Slot, lhs: Slot, rhs: Slot }, )*
            $( $spname { dst: Slot, src: Slot }, )*
            $( $sqname { dst: Slot, src: Slot }, )*
            $( $sename { dst: Slot, src: Slot, lane: u8 }, )*
            $( $srname { dst: Slot, src: Slot, value: Slot, lane: u8 }, )*
            $( $slname { dst: Slot, addr: Slot, offset: u32 }, )*
            $( $sllname { dst: Slot, operands: Slot, offset: u32, lane: u8 }, )*
            $( $sslname { operands: Slot, offset: u32, lane: u8 }, )*
        }

        impl Op {
            /// Calls `visitor` on every slot the instruction names.
            pub fn visit_slots(&mut self, visitor: &mut dyn FnMut(&mut Slot)) {
                match self {
                    $( Op::$rname { dst, $($rfield),* } => { dst.visit_slot(visitor); $( $rfield.visit_slot(visitor); )* } )*
                    $( Op::$oname { $($ofield),* } => { $( $ofield.visit_slot(visitor); )* } )*
                    $( Op::$bname { dst, lhs, rhs } => { dst.visit_slot(visitor); lhs.visit_slot(visitor); rhs.visit_slot(visitor); } )*
                    $( Op::$uname { dst, src } => { dst.visit_slot(visitor); src.visit_slot(visitor); } )*
                    $( Op::$lname { dst, addr, .. } => { dst.visit_slot(visitor); addr.visit_slot(visitor); } )*
                    $( Op::$sname { addr, value, .. } => { addr.visit_slot(visitor); value.visit_slot(visitor); } )*
                    $( Op::$brname { lhs, rhs, .. } => { lhs.visit_slot(visitor); rhs.visit_slot(visitor); } )*
                    $( Op::$biname { dst, lhs, .. } => { dst.visit_slot(visitor); lhs.visit_slot(visitor); } )*
                    $( Op::$bimname { lhs, .. } => { lhs.visit_slot(visitor); } )*
                    $( Op::$sbname { dst, lhs, rhs } => { dst.visit_slot(visitor); lhs.visit_slot(visitor); rhs.visit_slot(visitor); } )*
                    $( Op::$ssname { dst, lhs, rhs } => { dst.visit_slot(visitor); lhs.visit_slot(visitor); rhs.visit_slot(visitor); } )*
                    $( Op::$suname { dst, src } => { dst.visit_slot(visitor); src.visit_slot(visitor); } )*
                    $( Op::$spname { dst, src } => { dst.visit_slot(visitor); src.visit_slot(visitor); } )*
                    $( Op::$sqname { dst, src } => { dst.visit_slot(visitor); src.visit_slot(visitor); } )*
                    $( Op::$stname { dst, operands } => { dst.visit_slot(visitor); operands.visit_slot(visitor); } )*
                    $( Op::$sename { dst, src, .. } => { dst.visit_slot(visitor); src.visit_slot(visitor); } )*
                    $( Op::$srname { dst, src, value, .. } => { dst.visit_slot(visitor); src.visit_slot(visitor); value.visit_slot(visitor); } )*
                    $( Op::$slname { dst, addr, .. } => { dst.visit_slot(visitor); addr.visit_slot(visitor); } )*
                    $( Op::$sllname { dst, operands, .. } => { dst.visit_slot(visitor); operands.visit_slot(visitor); } )*
                    $( Op::$sslname { operands, .. } => { operands.visit_slot(visitor); } )*
                }
            }

            /// The destination of a branch instruction (`BranchTable` has none of its own:
            /// its entries are `Branch`es).
            pub fn branch_target_mut(&mut self) -> Option<&mut Target> {
                match self {
                    Op::Branch { target }
                    | Op::BranchIfNonZero { target, .. }
                    | Op::BranchIfZero { target, .. } => Some(target),
                    $( Op::$brname { target, .. } => Some(target), )*
                    $( Op::$bimname { target, .. } => Some(target), )*
                    _ => None,
                }
            }

            /// The slot this instruction writes its single result to, if it has one.
            pub fn result_slot_mut(&mut self) -> Option<&mut Slot> {
                match self {
                    $( Op::$rname { dst, .. } => Some(dst), )*
                    $( Op::$bname { dst, .. } => Some(dst), )*
                    $( Op::$biname { dst, .. } => Some(dst), )*
                    $( Op::$uname { dst, .. } => Some(dst), )*
                    $( Op::$lname { dst, .. } => Some(dst), )*
                    $( Op::$sbname { dst, .. } => Some(dst), )*
                    $( Op::$suname { dst, .. } => Some(dst), )*
                    $( Op::$stname { dst, .. } => Some(dst), )*
                    $( Op::$ssname { dst, .. } => Some(dst), )*
                    $( Op::$spname { dst, .. } => Some(dst), )*
                    $( Op::$sqname { dst, .. } => Some(dst), )*
                    $( Op::$sename { dst, .. } => Some(dst), )*
                    $( Op::$srname { dst, .. } => Some(dst), )*
                    $( Op::$slname { dst, .. } => Some(dst), )*
                    $( Op::$sllname { dst, .. } => Some(dst), )*
                    _ => None,
                }
            }
        }
    };
}

// The SIMD groups come from their `for_each_simd_*` lists, gathered by a chain of macros
// (each list's macro passes everything gathered so far to the next).
macro_rules! gather_simd_unary { ($($t:tt)*) => { crate::for_each_simd_unary! { gather_simd_ternary $($t)* } } }
macro_rules! gather_simd_ternary { ($($t:tt)*) => { crate::for_each_simd_ternary! { gather_simd_shift $($t)* } } }
macro_rules! gather_simd_shift { ($($t:tt)*) => { crate::for_each_simd_shift! { gather_simd_splat $($t)* } } }
macro_rules! gather_simd_splat { ($($t:tt)*) => { crate::for_each_simd_splat! { gather_simd_test $($t)* } } }
macro_rules! gather_simd_test { ($($t:tt)*) => { crate::for_each_simd_test! { gather_simd_extract_lane $($t)* } } }
macro_rules! gather_simd_extract_lane { ($($t:tt)*) => { crate::for_each_simd_extract_lane! { gather_simd_replace_lane $($t)* } } }
macro_rules! gather_simd_replace_lane { ($($t:tt)*) => { crate::for_each_simd_replace_lane! { gather_simd_load $($t)* } } }
macro_rules! gather_simd_load { ($($t:tt)*) => { crate::for_each_simd_load! { gather_simd_load_lane $($t)* } } }
macro_rules! gather_simd_load_lane { ($($t:tt)*) => { crate::for_each_simd_load_lane! { gather_simd_store_lane $($t)* } } }
macro_rules! gather_simd_store_lane { ($($t:tt)*) => { crate::for_each_simd_store_lane! { define_ops $($t)* } } }

crate::for_each_simd_binary! { gather_simd_unary
    results {
        /// `dst = src`.
        Copy { src: Slot }
        /// `dst = src` for a `v128`: two slots each.
        CopyV128 { src: Slot }
        /// `dst = if condition != 0 { if_true } else { if_false }`, where `if_false` is in
        /// the `SelectOperand` that always follows.
        Select { condition: Slot, if_true: Slot }
        /// `Select` of `v128` values (two slots each), also followed by a `SelectOperand`.
        SelectV128 { condition: Slot, if_true: Slot }
        /// `dst = globals[global]`.
        GlobalGet { global: u32 }
        /// `dst = globals[global]` for a `v128` global (two slots).
        GlobalGetV128 { global: u32 }
        /// `dst = memory.size` of memory `memory`.
        MemorySize { memory: u32 }
        /// `dst = memory.grow(delta)` of memory `memory`.
        MemoryGrow { delta: Slot, memory: u32 }
        /// `dst = table.get(index)`.
        TableGet { index: Slot, table: u32 }
        /// `dst = table.size`.
        TableSize { table: u32 }
        /// `dst = table.grow(init, delta)`, with `init` and `delta` consecutive from `operands`.
        TableGrow { operands: Slot, table: u32 }
        /// `dst = ref.func function` (a store reference to the instance's function).
        RefFunc { function: u32 }
        /// `dst = (src == null)`.
        RefIsNull { src: Slot }
        /// `i8x16.shuffle` of the vectors at `operands` and `operands + 2`; `lanes` is the
        /// constant holding the 16 lane indices as a `v128` (index `i` in byte `i`).
        I8x16Shuffle { operands: Slot, lanes: Slot }
    }
    others {
        /// The third operand of the `Select` before it; never executed on its own.
        SelectOperand { if_false: Slot }
        /// Stops with a trap.
        Trap { code: u32 }
        /// Charges `amount` fuel (the cost of the region it starts), or traps with
        /// `OutOfFuel` when less is left; see `kestrel_vm::instrument`.
        ConsumeFuel { amount: u32 }
        /// Traps with `Interrupt` when the engine's epoch has reached the store's deadline.
        CheckEpoch {}
        /// Unconditional jump.
        Branch { target: Target }
        /// Jump when `condition != 0`.
        BranchIfNonZero { condition: Slot, target: Target }
        /// Jump when `condition == 0`.
        BranchIfZero { condition: Slot, target: Target }
        /// Jump to `pc + 1 + min(index, len)`; the following `len + 1` instructions are
        /// `Branch`es (the last is the default).
        BranchTable { index: Slot, len: u32 }
        /// Copies `count` slots from `src..` to `dst..` in ascending order (`dst <= src`).
        CopyMany { dst: Slot, src: Slot, count: u32 }
        /// Returns no values.
        Return {}
        /// Returns the value in `src` (to slot 0).
        ReturnOne { src: Slot }
        /// Returns `count` values from `first..` (to slots `0..count`).
        ReturnMany { first: Slot, count: u32 }
        /// Calls defined or imported function `function` of this instance with arguments in
        /// `args..`; results land in `args..`.
        Call { function: u32, args: Slot }
        /// `call_indirect`: the table index is in the slot after the arguments.
        CallIndirect { type_index: u32, args: Slot, table: u32 }
        /// `globals[global] = src`.
        GlobalSet { src: Slot, global: u32 }
        /// `globals[global] = src` for a `v128` global (two slots).
        GlobalSetV128 { src: Slot, global: u32 }
        /// `table.set(index, value)`.
        TableSet { index: Slot, value: Slot, table: u32 }
        /// Bulk operations take their three operands in consecutive slots from `operands`.
        MemoryCopy { operands: Slot, destination_memory: u32, source_memory: u32 }
        MemoryFill { operands: Slot, memory: u32 }
        MemoryInit { operands: Slot, memory: u32, segment: u32 }
        DataDrop { segment: u32 }
        TableCopy { operands: Slot, destination_table: u32, source_table: u32 }
        TableFill { operands: Slot, table: u32 }
        TableInit { operands: Slot, table: u32, segment: u32 }
        ElemDrop { segment: u32 }
        /// `v128.store`: 16 bytes of the vector at `value`.
        V128Store { addr: Slot, value: Slot, offset: u32 }
    }
    binary {
        I32Add I32Sub I32Mul I32And I32Or I32Xor I32Shl I32ShrS I32ShrU I32Rotl I32Rotr
        I32Eq I32Ne I32LtS I32LtU I32GtS I32GtU I32LeS I32LeU I32GeS I32GeU
        I64Add I64Sub I64Mul I64And I64Or I64Xor I64Shl I64ShrS I64ShrU I64Rotl I64Rotr
        I64Eq I64Ne I64LtS I64LtU I64GtS I64GtU I64LeS I64LeU I64GeS I64GeU
        F32Add F32Sub F32Mul F32Div F32Min F32Max F32Copysign F32Eq F32Ne F32Lt F32Gt F32Le F32Ge
        F64Add F64Sub F64Mul F64Div F64Min F64Max F64Copysign F64Eq F64Ne F64Lt F64Gt F64Le F64Ge
        I32DivS I32DivU I32RemS I32RemU I64DivS I64DivU I64RemS I64RemU
    }
    unary {
        I32Clz I32Ctz I32Popcnt I32Eqz I64Clz I64Ctz I64Popcnt I64Eqz
        F32Abs F32Neg F32Ceil F32Floor F32Trunc F32Nearest F32Sqrt
        F64Abs F64Neg F64Ceil F64Floor F64Trunc F64Nearest F64Sqrt
        I32WrapI64 I64ExtendI32S I64ExtendI32U
        F32ConvertI32S F32ConvertI32U F32ConvertI64S F32ConvertI64U F32DemoteF64
        F64ConvertI32S F64ConvertI32U F64ConvertI64S F64ConvertI64U F64PromoteF32
        I32ReinterpretF32 I64ReinterpretF64 F32ReinterpretI32 F64ReinterpretI64
        I32Extend8S I32Extend16S I64Extend8S I64Extend16S I64Extend32S
        I32TruncSatF32S I32TruncSatF32U I32TruncSatF64S I32TruncSatF64U
        I64TruncSatF32S I64TruncSatF32U I64TruncSatF64S I64TruncSatF64U
        I32TruncF32S I32TruncF32U I32TruncF64S I32TruncF64U
        I64TruncF32S I64TruncF32U I64TruncF64S I64TruncF64U
    }
    load {
        I32Load I64Load F32Load F64Load I32Load8S I32Load8U I32Load16S I32Load16U
        I64Load8S I64Load8U I64Load16S I64Load16U I64Load32S I64Load32U
    }
    store {
        I32Store I64Store F32Store F64Store I32Store8 I32Store16 I64Store8 I64Store16 I64Store32
    }
    branch {
        BranchI32Eq BranchI32Ne BranchI32LtS BranchI32LtU BranchI32GtS BranchI32GtU
        BranchI32LeS BranchI32LeU BranchI32GeS BranchI32GeU
        BranchI64Eq BranchI64Ne BranchI64LtS BranchI64LtU BranchI64GtS BranchI64GtU
        BranchI64LeS BranchI64LeU BranchI64GeS BranchI64GeU
    }
    binary_imm {
        I32AddImm I32SubImm I32MulImm I32AndImm I32OrImm I32XorImm
        I32ShlImm I32ShrSImm I32ShrUImm I32RotlImm I32RotrImm
        I64AddImm I64SubImm I64MulImm I64AndImm I64OrImm I64XorImm
        I64ShlImm I64ShrSImm I64ShrUImm I64RotlImm I64RotrImm
    }
    branch_imm {
        BranchI32EqImm BranchI32NeImm BranchI32LtSImm BranchI32LtUImm BranchI32GtSImm
        BranchI32GtUImm BranchI32LeSImm BranchI32LeUImm BranchI32GeSImm BranchI32GeUImm
        BranchI64EqImm BranchI64NeImm BranchI64LtSImm BranchI64LtUImm BranchI64GtSImm
        BranchI64GtUImm BranchI64LeSImm BranchI64LeUImm BranchI64GeSImm BranchI64GeUImm
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instructions_stay_small() {
        // Dispatch speed depends on code density: 16 bytes holds three slots and a tag.
        assert!(
            std::mem::size_of::<Op>() <= 16,
            "Op is {} bytes",
            std::mem::size_of::<Op>()
        );
    }
}
