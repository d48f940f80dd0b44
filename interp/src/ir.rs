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
//! most stack traffic cost nothing at run time: `(i32.add (local.get 0) (i32.const 1))`
//! becomes one `I32Add { dst, lhs: slot 0, rhs: <constant slot> }`, and a following
//! `local.set 2` rewrites `dst` to slot 2 instead of emitting a copy.
//!
//! Calls pass arguments in place: the caller evaluates arguments into consecutive homes
//! `args..args+n`, and the callee's frame starts at `args`, so its parameters are already in
//! slots `0..n`. Results come back in the same slots.
//!
//! Branch targets are absolute instruction indices, resolved at translation. A conditional
//! branch on an integer comparison is one instruction (`BranchI32LtS` and friends).

/// A frame-relative slot index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct Slot(pub u32);

/// An instruction index within a function's code.
pub type Target = u32;

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
immediate_fields!(u32, i32);

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
/// `compare op, fused branch op, negated fused branch op`.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_fused_compare {
    ($m:ident $($carry:tt)*) => {
        $m! { $($carry)* fused_compare: {
            I32Eq BranchI32Eq BranchI32Ne;
            I32Ne BranchI32Ne BranchI32Eq;
            I32LtS BranchI32LtS BranchI32GeS;
            I32LtU BranchI32LtU BranchI32GeU;
            I32GtS BranchI32GtS BranchI32LeS;
            I32GtU BranchI32GtU BranchI32LeU;
            I32LeS BranchI32LeS BranchI32GtS;
            I32LeU BranchI32LeU BranchI32GtU;
            I32GeS BranchI32GeS BranchI32LtS;
            I32GeU BranchI32GeU BranchI32LtU;
            I64Eq BranchI64Eq BranchI64Ne;
            I64Ne BranchI64Ne BranchI64Eq;
            I64LtS BranchI64LtS BranchI64GeS;
            I64LtU BranchI64LtU BranchI64GeU;
            I64GtS BranchI64GtS BranchI64LeS;
            I64GtU BranchI64GtU BranchI64LeU;
            I64LeS BranchI64LeS BranchI64GtS;
            I64LeU BranchI64LeU BranchI64GtU;
            I64GeS BranchI64GeS BranchI64LtS;
            I64GeU BranchI64GeU BranchI64LtU;
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
                }
            }

            /// The jump target of a fused compare-and-branch instruction.
            pub fn compare_branch_target_mut(&mut self) -> Option<&mut Target> {
                match self {
                    $( Op::$brname { target, .. } => Some(target), )*
                    _ => None,
                }
            }

            /// The slot this instruction writes its single result to, if it has one.
            pub fn result_slot_mut(&mut self) -> Option<&mut Slot> {
                match self {
                    $( Op::$rname { dst, .. } => Some(dst), )*
                    $( Op::$bname { dst, .. } => Some(dst), )*
                    $( Op::$uname { dst, .. } => Some(dst), )*
                    $( Op::$lname { dst, .. } => Some(dst), )*
                    _ => None,
                }
            }
        }
    };
}

define_ops! {
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
