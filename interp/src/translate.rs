//! Translation of one validated Wasm function body into interpreter code.
//!
//! One pass over the operators with two stacks, as a compiler would: a *value stack* that
//! says where each Wasm operand currently is (a local's slot, a constant's slot, or its
//! home temporary), and a *control stack* of open blocks with the branches waiting for their
//! end. `local.get` and constants only push a description; instructions read operands from
//! wherever they are. Whenever a local is written, stack entries still naming it are first
//! copied to their homes ("preserved"); at every block boundary all such entries are
//! preserved, so every path into a label agrees on where each value lives.
//!
//! Temporaries' slots depend on the size of the constant pool, known only at the end, so
//! they are emitted with [`TEMPORARY_MARK`] set and relocated in a final pass.
//!
//! A `v128` takes two consecutive slots wherever it lives (`kestrel_vm::value`): a local,
//! a constant, a home. So homes are numbered in slots, not values: each stack entry records
//! its width, and its home starts where the entry below it ends. Values of the same types
//! in the same order have the same homes, which is all a branch needs.
//!
//! Fuel charges (`ConsumeFuel`) and epoch checks (`CheckEpoch`) go where
//! `kestrel_vm::instrument::Meter` says, as in the JIT, so both tiers consume the same fuel.
//!
//! The function was validated when its module was loaded; a malformed body here is a bug,
//! reported as an error rather than a panic.

use crate::ir::{Op, Slot, Target};
use kestrel_parser::wasmparser::{self, BlockType, Operator};
use kestrel_parser::{ModuleInfo, ValType};
use kestrel_vm::TrapCode;
use kestrel_vm::instrument::{Instrumentation, Meter, Probe};
use std::cell::Cell;
use std::collections::HashMap;

/// Temporaries are numbered from this mark until relocation.
const TEMPORARY_MARK: u32 = 1 << 31;

/// A translated function. Counts are in slots (a `v128` counts twice).
#[derive(Debug)]
pub struct CompiledFunc {
    pub code: Box<[Op]>,
    /// Slots of the parameters and other locals.
    pub num_locals: u32,
    /// Slots of the parameters.
    pub num_params: u32,
    /// Slots of the results.
    pub num_results: u32,
    /// Constants, copied on entry to the frame's last slots,
    /// `frame_size - constants.len()..frame_size`.
    pub constants: Box<[u64]>,
    /// Every slot the frame uses.
    pub frame_size: u32,
    /// The loops a running call may leave the interpreter at (on-stack replacement),
    /// ordered by header.
    pub loops: Box<[LoopHeader]>,
}

/// Where the frame's state is at a loop header, for on-stack replacement.
///
/// At a loop header every local is in its own slot and every operand is in its home or a
/// constant's slot (blocks preserve entries naming locals when they open), so the state is
/// fully described by the locals and `stack`.
#[derive(Debug)]
pub struct LoopHeader {
    /// The code position of the header (an absolute instruction index): where branches to
    /// the loop go.
    pub pc: Target,
    /// The loop's position among the function's `loop` instructions in body order,
    /// counted from 0, dead code included: the name the JIT knows the loop by.
    pub ordinal: u32,
    /// The slots of the operand-stack values at the header, bottom to top (the enclosing
    /// blocks' values, then the loop's parameters), two for a `v128`.
    pub stack: Box<[Slot]>,
}

impl CompiledFunc {
    /// The loop whose header is at `pc`, if any.
    pub fn loop_at(&self, pc: Target) -> Option<&LoopHeader> {
        self.loops
            .binary_search_by_key(&pc, |header| header.pc)
            .ok()
            .map(|position| &self.loops[position])
    }
}

/// Why a function could not be translated.
#[derive(Debug, Clone)]
pub struct TranslationError(pub String);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Operand {
    /// A local, by its first slot.
    Local(u32),
    /// A constant, by its first index in the pool.
    Constant(u32),
    Temporary,
}

/// One value on the translator's stack.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Entry {
    operand: Operand,
    /// The first slot of the value's home, counted from the first temporary.
    home: u32,
    /// A `v128`: two slots.
    wide: bool,
}

impl Entry {
    fn slots(self) -> u32 {
        1 + self.wide as u32
    }

    fn end(self) -> u32 {
        self.home + self.slots()
    }
}

/// The values a block takes or produces, without allocating per block: a block type names
/// at most one value type or a function type of the module.
#[derive(Debug, Clone, Copy)]
struct Values<'a> {
    /// The single value of a `BlockType::Type` block: whether it is a `v128`.
    single_wide: Option<bool>,
    types: &'a [ValType],
}

impl<'a> Values<'a> {
    const NONE: Values<'static> = Values {
        single_wide: None,
        types: &[],
    };

    fn of(types: &'a [ValType]) -> Values<'a> {
        Values {
            single_wide: None,
            types,
        }
    }

    fn len(self) -> u32 {
        self.single_wide.is_some() as u32 + self.types.len() as u32
    }

    fn widths(self) -> impl Iterator<Item = bool> + 'a {
        self.single_wide
            .into_iter()
            .chain(self.types.iter().map(|ty| *ty == ValType::V128))
    }

    fn slots(self) -> u32 {
        self.widths().map(|wide| 1 + wide as u32).sum()
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum ControlKind {
    Block,
    Loop,
    If,
    Else,
    Function,
}

#[derive(Debug)]
struct Control<'a> {
    kind: ControlKind,
    /// Stack height (in values) below the block's parameters.
    height: u32,
    params: Values<'a>,
    results: Values<'a>,
    /// Where a loop starts.
    loop_start: Target,
    /// Branches to this block's end, to be patched.
    pending: Vec<usize>,
    /// The `if`'s jump to its `else`, to be patched.
    else_jump: Option<usize>,
}

/// A condition for a conditional branch.
enum Condition {
    /// Taken when the slot's low 32 bits are not zero.
    Value(Slot),
    /// Taken when the slot's low 32 bits are zero: an `i32.eqz` removed from the code.
    Zero(Slot),
    /// A fusable comparison with a constant right operand that fits an immediate.
    CompareImm {
        lhs: Slot,
        imm: i32,
        fused: fn(Slot, i32, Target) -> Op,
        negated: fn(Slot, i32, Target) -> Op,
    },
    /// A fusable comparison that was removed from the code: (fused op, negated fused op).
    Compare {
        lhs: Slot,
        rhs: Slot,
        fused: fn(Slot, Slot, Target) -> Op,
        negated: fn(Slot, Slot, Target) -> Op,
    },
}

struct Translator<'a> {
    info: &'a ModuleInfo,
    code: Vec<Op>,
    stack: Vec<Entry>,
    /// The most slots the temporaries ever need.
    max_height: u32,
    /// Slots of the locals.
    num_locals: u32,
    /// Each local's first slot and whether it is a `v128`, by local index.
    locals: Vec<(u32, bool)>,
    constants: Vec<u64>,
    constant_slots: HashMap<u64, u32>,
    wide_constant_slots: HashMap<u128, u32>,
    control: Vec<Control<'a>>,
    /// Index of the last instruction, if it produced the top stack entry in its home.
    last_result: Option<usize>,
    reachable: bool,
    /// Depth of blocks opened in unreachable code, which are skipped whole.
    dead_depth: u32,
    /// `loop` instructions read so far, reachable or not.
    loops_seen: u32,
    loops: Vec<LoopHeader>,
    /// How many emitted instructions and loop headers name each pool entry; the pool
    /// drops those named by none (they became immediates).
    constant_uses: Vec<Cell<u32>>,
}

/// Translates defined function `index` of `info`, with the fuel charges and epoch checks
/// `instrumentation` asks for.
pub fn translate(
    info: &ModuleInfo,
    index: u32,
    instrumentation: Instrumentation,
) -> Result<CompiledFunc, TranslationError> {
    let body = info.function_body(index);
    let ty = info.function_type(index);
    let bytes = &info.bytes[body.range.clone()];
    let body = wasmparser::FunctionBody::new(wasmparser::BinaryReader::new(
        bytes,
        body.range.start as u64,
    ));
    let mut locals = Vec::with_capacity(ty.params().len());
    for param in ty.params() {
        declare_locals(&mut locals, 1, *param == ValType::V128)?;
    }
    let num_params = local_slots(&locals);
    let mut locals_reader = body.get_locals_reader().map_err(error)?;
    for _ in 0..locals_reader.get_count() {
        let (count, local_type) = locals_reader.read().map_err(error)?;
        declare_locals(&mut locals, count, local_type == wasmparser::ValType::V128)?;
    }
    let num_locals = local_slots(&locals);
    let mut translator = Translator {
        info,
        code: Vec::new(),
        stack: Vec::new(),
        max_height: 0,
        num_locals,
        locals,
        constants: Vec::new(),
        constant_slots: HashMap::new(),
        wide_constant_slots: HashMap::new(),
        control: vec![Control {
            kind: ControlKind::Function,
            height: 0,
            params: Values::NONE,
            results: Values::of(ty.results()),
            loop_start: 0,
            pending: Vec::new(),
            else_jump: None,
        }],
        last_result: None,
        reachable: true,
        dead_depth: 0,
        loops_seen: 0,
        loops: Vec::new(),
        constant_uses: Vec::new(),
    };
    let mut meter = Meter::new(instrumentation, &body).map_err(error)?;
    let mut operators = body.get_operators_reader().map_err(error)?;
    while !operators.eof() {
        let operator = operators.read().map_err(error)?;
        let probe = meter.before(&operator);
        if probe != Probe::default() && translator.reachable {
            translator.probe(probe)?;
        }
        translator.operator(operator)?;
        if translator.control.is_empty() {
            break;
        }
    }
    let num_results = Values::of(ty.results()).slots();
    Ok(translator.finish(num_params, num_results))
}

/// The slots the locals declared so far occupy.
fn local_slots(locals: &[(u32, bool)]) -> u32 {
    locals
        .last()
        .map_or(0, |(slot, wide)| slot + 1 + *wide as u32)
}

/// Declares `count` more locals, each `wide` (a `v128`) or not.
fn declare_locals(
    locals: &mut Vec<(u32, bool)>,
    count: u32,
    wide: bool,
) -> Result<(), TranslationError> {
    let first = u64::from(local_slots(locals));
    let end = first + u64::from(count) * (1 + wide as u64);
    if end >= u64::from(TEMPORARY_MARK / 2) {
        return Err(TranslationError(format!(
            "{end} local slots are more than the interpreter supports"
        )));
    }
    let slots = 1 + wide as u32;
    locals.extend((0..count).map(|index| (first as u32 + index * slots, wide)));
    Ok(())
}

fn error(error: wasmparser::BinaryReaderError) -> TranslationError {
    TranslationError(error.to_string())
}

fn unsupported(what: impl std::fmt::Debug) -> TranslationError {
    TranslationError(format!("the interpreter does not support {what:?} yet"))
}

/// Whether the loop just opened (the last of `control`) may be entered by on-stack
/// replacement. The JIT's entry passes the values beneath the loop into its header; inside
/// an outer loop, the code before this loop is reachable again through the outer loop's
/// back edge and would have to pass them too, so there the loop must have nothing
/// beneath it. The JIT applies the same rule (`jit/src/translate.rs`, `open_osr_loop`).
fn osr_can_enter(control: &[Control]) -> bool {
    let Some((this, enclosing)) = control.split_last() else {
        return false;
    };
    this.height == 0
        || !enclosing
            .iter()
            .any(|frame| frame.kind == ControlKind::Loop)
}

/// A block's parameters and results.
fn block_values(info: &ModuleInfo, block_type: BlockType) -> (Values<'_>, Values<'_>) {
    match block_type {
        BlockType::Empty => (Values::NONE, Values::NONE),
        BlockType::Type(ty) => (
            Values::NONE,
            Values {
                single_wide: Some(ty == wasmparser::ValType::V128),
                types: &[],
            },
        ),
        BlockType::FuncType(index) => {
            let ty = &info.types[index as usize];
            (Values::of(ty.params()), Values::of(ty.results()))
        }
    }
}

impl Translator<'_> {
    fn finish(mut self, num_params: u32, num_results: u32) -> CompiledFunc {
        let (constants, renumber) = self.compact_constants();
        let num_locals = self.num_locals;
        let temporaries_base = num_locals + constants.len() as u32;
        let relocate = |slot: &mut Slot| {
            if slot.0 >= TEMPORARY_MARK {
                slot.0 = slot.0 - TEMPORARY_MARK + temporaries_base;
            } else if let Some(renumber) = &renumber
                && slot.0 >= num_locals
            {
                slot.0 = num_locals + renumber[(slot.0 - num_locals) as usize];
            }
        };
        for op in &mut self.code {
            op.visit_slots(&mut |slot| relocate(slot));
        }
        for header in &mut self.loops {
            header.stack.iter_mut().for_each(relocate);
        }
        CompiledFunc {
            code: self.code.into(),
            num_locals: self.num_locals,
            num_params,
            num_results,
            frame_size: temporaries_base + self.max_height,
            constants: constants.into(),
            loops: self.loops.into(),
        }
    }

    /// The constant pool without the constants no instruction names (those that became
    /// immediates), and how to renumber the kept ones (new index by old index), or the
    /// pool as it is when nothing is dropped. Every pooled constant is copied into the
    /// frame on every call. A pool with a `v128` stays whole: a vector's second half is
    /// named only through its first.
    fn compact_constants(&mut self) -> (Vec<u64>, Option<Vec<u32>>) {
        let constants = std::mem::take(&mut self.constants);
        let uses = std::mem::take(&mut self.constant_uses);
        if !self.wide_constant_slots.is_empty() || uses.iter().all(|uses| uses.get() > 0) {
            return (constants, None);
        }
        let mut kept = Vec::with_capacity(constants.len());
        let renumber = constants
            .iter()
            .zip(&uses)
            .map(|(constant, uses)| {
                let index = kept.len() as u32;
                if uses.get() > 0 {
                    kept.push(*constant);
                }
                index
            })
            .collect();
        (kept, Some(renumber))
    }

    /// Emits an epoch check and a fuel charge, in that order (see
    /// `kestrel_vm::instrument`).
    fn probe(&mut self, probe: Probe) -> Result<(), TranslationError> {
        if probe.check_epoch {
            self.emit(Op::CheckEpoch {});
        }
        if probe.fuel > 0 {
            let amount = u32::try_from(probe.fuel)
                .map_err(|_| unsupported("a straight-line region costing more than 2^32 fuel"))?;
            self.emit(Op::ConsumeFuel { amount });
        }
        Ok(())
    }

    // ----- value stack -----

    /// The stack height in values.
    fn height(&self) -> u32 {
        self.stack.len() as u32
    }

    /// The first home slot of the value at stack position `position`: where the values
    /// below it end.
    fn home_at(&self, position: u32) -> u32 {
        match position {
            0 => 0,
            _ => self.stack[position as usize - 1].end(),
        }
    }

    fn home(first: u32) -> Slot {
        Slot(TEMPORARY_MARK + first)
    }

    /// Where `entry` is, for an instruction (or loop header) about to name it: a constant
    /// named this way stays in the pool.
    fn slot_of(&self, entry: Entry) -> Slot {
        match entry.operand {
            Operand::Local(slot) => Slot(slot),
            Operand::Constant(index) => {
                let uses = &self.constant_uses[index as usize];
                uses.set(uses.get() + 1);
                Slot(self.num_locals + index)
            }
            Operand::Temporary => Self::home(entry.home),
        }
    }

    fn push(&mut self, operand: Operand, wide: bool) {
        let entry = Entry {
            operand,
            home: self.home_at(self.height()),
            wide,
        };
        self.stack.push(entry);
        self.max_height = self.max_height.max(entry.end());
    }

    /// Pushes the home of the next value for an instruction's result and returns it.
    fn push_result(&mut self) -> Slot {
        self.push_result_of_width(false)
    }

    /// As [`Self::push_result`], for a `v128` result: its two slots start at the one
    /// returned.
    fn push_result_v128(&mut self) -> Slot {
        self.push_result_of_width(true)
    }

    fn push_result_of_width(&mut self, wide: bool) -> Slot {
        self.push(Operand::Temporary, wide);
        Self::home(self.stack.last().expect("just pushed").home)
    }

    /// Pushes results in their homes, one per value of `values`.
    fn push_temporaries(&mut self, values: Values<'_>) {
        for wide in values.widths() {
            self.push(Operand::Temporary, wide);
        }
    }

    fn pop_entry(&mut self) -> Entry {
        self.stack.pop().unwrap_or(Entry {
            operand: Operand::Temporary,
            home: 0,
            wide: false,
        })
    }

    /// Pops a value of any width and returns its (first) slot.
    fn pop(&mut self) -> Slot {
        let entry = self.pop_entry();
        self.slot_of(entry)
    }

    fn constant(&mut self, bits: u64) {
        let index = self.constant_index(bits);
        self.push(Operand::Constant(index), false);
    }

    /// The pool index of constant `bits`, added to the pool if new.
    fn constant_index(&mut self, bits: u64) -> u32 {
        let next = self.constants.len() as u32;
        let index = *self.constant_slots.entry(bits).or_insert(next);
        if index == next {
            self.constants.push(bits);
            self.constant_uses.push(Cell::new(0));
        }
        index
    }

    /// The value of `slot` as an instruction's immediate, if it is a scalar constant's slot
    /// and fits: any 32-bit value, a 64-bit one (`wide`) only in the sign-extended range.
    fn immediate_of(&self, slot: Slot, wide: bool) -> Option<i32> {
        // Slots of integer operands: a constant's is a scalar's, never half a `v128`.
        let index = slot.0.checked_sub(self.num_locals)? as usize;
        let bits = *self.constants.get(index)?;
        if wide {
            i32::try_from(bits as i64).ok()
        } else {
            Some(bits as u32 as i32)
        }
    }

    /// Records that an instruction naming the constant at `slot` was removed.
    fn unname_constant(&self, slot: Slot) {
        let uses = &self.constant_uses[(slot.0 - self.num_locals) as usize];
        uses.set(uses.get() - 1);
    }

    /// A binary instruction whose right operand, if it is a constant that fits (or whose
    /// left one, for a `commutative` instruction), becomes an immediate.
    fn binary_imm(
        &mut self,
        make: fn(Slot, Slot, Slot) -> Op,
        make_imm: fn(Slot, Slot, i32) -> Op,
        wide: bool,
        commutative: bool,
    ) {
        let len = self.stack.len();
        let constant = |entry: Entry| match entry.operand {
            Operand::Constant(index) if !entry.wide => Some(Slot(self.num_locals + index)),
            _ => None,
        };
        let (rhs, lhs) = (self.stack[len - 1], self.stack[len - 2]);
        let immediate = constant(rhs)
            .and_then(|slot| self.immediate_of(slot, wide))
            .map(|imm| (imm, false))
            .or_else(|| {
                constant(lhs)
                    .filter(|_| commutative)
                    .and_then(|slot| self.immediate_of(slot, wide))
                    .map(|imm| (imm, true))
            });
        let Some((imm, swapped)) = immediate else {
            return self.binary(make);
        };
        // Only the other operand is named: the constant may leave the pool.
        let rhs = self.pop_entry();
        let lhs = self.pop_entry();
        let operand = self.slot_of(if swapped { rhs } else { lhs });
        let dst = self.push_result();
        self.emit_result(make_imm(dst, operand, imm));
    }

    /// Pushes a `v128` constant: two consecutive pool entries, low half first.
    fn constant_v128(&mut self, bits: u128) {
        let next = self.constants.len() as u32;
        let index = *self.wide_constant_slots.entry(bits).or_insert(next);
        if index == next {
            self.constants
                .extend(kestrel_vm::value::v128_to_slots(bits));
            self.constant_uses.extend([Cell::new(0), Cell::new(0)]);
        }
        self.push(Operand::Constant(index), true);
    }

    /// `dst = src` for a value of either width.
    fn copy_op(dst: Slot, src: Slot, wide: bool) -> Op {
        if wide {
            Op::CopyV128 { dst, src }
        } else {
            Op::Copy { dst, src }
        }
    }

    /// Copies entry `position` to its home if it lives elsewhere.
    fn materialize(&mut self, position: usize) {
        let entry = self.stack[position];
        if entry.operand != Operand::Temporary {
            let src = self.slot_of(entry);
            self.emit(Self::copy_op(Self::home(entry.home), src, entry.wide));
            self.stack[position].operand = Operand::Temporary;
        }
    }

    fn materialize_top(&mut self, count: u32) {
        let len = self.stack.len();
        for position in len - count as usize..len {
            self.materialize(position);
        }
    }

    /// Preserves every entry that names the local at `slot` before the local changes.
    fn preserve_local(&mut self, slot: u32) {
        for position in 0..self.stack.len() {
            if self.stack[position].operand == Operand::Local(slot) {
                self.materialize(position);
            }
        }
    }

    /// Preserves every entry that names any local: done at labels, where control merges.
    fn preserve_all_locals(&mut self) {
        for position in 0..self.stack.len() {
            if matches!(self.stack[position].operand, Operand::Local(_)) {
                self.materialize(position);
            }
        }
    }

    // ----- emission -----

    fn emit(&mut self, op: Op) -> usize {
        self.code.push(op);
        self.last_result = None;
        self.code.len() - 1
    }

    fn emit_result(&mut self, op: Op) {
        self.emit(op);
        self.last_result = Some(self.code.len() - 1);
    }

    fn pc(&self) -> Target {
        self.code.len() as Target
    }

    fn binary(&mut self, make: fn(Slot, Slot, Slot) -> Op) {
        let rhs = self.pop();
        let lhs = self.pop();
        let dst = self.push_result();
        self.emit_result(make(dst, lhs, rhs));
    }

    fn unary(&mut self, make: fn(Slot, Slot) -> Op) {
        let src = self.pop();
        let dst = self.push_result();
        self.emit_result(make(dst, src));
    }

    fn load(
        &mut self,
        memarg: wasmparser::MemArg,
        make: fn(Slot, Slot, u32) -> Op,
    ) -> Result<(), TranslationError> {
        let offset = self.memory_offset(memarg)?;
        let addr = self.pop();
        let dst = self.push_result();
        self.emit_result(make(dst, addr, offset));
        Ok(())
    }

    fn store(
        &mut self,
        memarg: wasmparser::MemArg,
        make: fn(Slot, Slot, u32) -> Op,
    ) -> Result<(), TranslationError> {
        let offset = self.memory_offset(memarg)?;
        let value = self.pop();
        let addr = self.pop();
        self.emit(make(addr, value, offset));
        Ok(())
    }

    fn global_is_v128(&self, global: u32) -> bool {
        self.info.globals[global as usize].content == ValType::V128
    }

    fn memory_offset(&self, memarg: wasmparser::MemArg) -> Result<u32, TranslationError> {
        if memarg.target != wasmparser::MemArgTarget::Memory(0) {
            return Err(unsupported("memory instructions on memories other than 0"));
        }
        u32::try_from(memarg.offset).map_err(|_| unsupported("memory offsets above 4 GiB"))
    }

    /// Pops `count` operands into consecutive homes and returns the first slot.
    fn pop_consecutive(&mut self, count: u32) -> Slot {
        self.materialize_top(count);
        let first = self.height() - count;
        let home = self.home_at(first);
        self.stack.truncate(first as usize);
        Self::home(home)
    }

    // ----- control -----

    fn open(&mut self, kind: ControlKind, block_type: BlockType) {
        let (params, results) = block_values(self.info, block_type);
        self.preserve_all_locals();
        self.materialize_top(params.len());
        self.last_result = None;
        let height = self.height() - params.len();
        self.control.push(Control {
            kind,
            height,
            params,
            results,
            loop_start: self.pc(),
            pending: Vec::new(),
            else_jump: None,
        });
    }

    /// Records the loop just opened for on-stack replacement. Loops whose headers share a
    /// position (nested with nothing in between) are entered through the outermost: the
    /// same state flows into the inner ones.
    fn record_loop_header(&mut self) {
        let pc = self.pc();
        if self.loops.last().is_some_and(|header| header.pc == pc) {
            return;
        }
        if !osr_can_enter(&self.control) {
            return;
        }
        let stack = self
            .stack
            .iter()
            .flat_map(|entry| {
                let first = self.slot_of(*entry);
                std::iter::once(first).chain(entry.wide.then_some(Slot(first.0 + 1)))
            })
            .collect();
        self.loops.push(LoopHeader {
            pc,
            ordinal: self.loops_seen - 1,
            stack,
        });
    }

    /// Moves the top `arity` values to the homes of the values from stack height
    /// `target_height` on. Only for unconditional transfers: the destination homes may hold
    /// live values.
    fn move_values(&mut self, target_height: u32, arity: u32) {
        if arity == 0 {
            return;
        }
        let first = self.height() - arity;
        let target = Self::home(self.home_at(target_height));
        if first == target_height {
            self.materialize_top(arity);
        } else if arity == 1 {
            let entry = self.stack[first as usize];
            let src = self.slot_of(entry);
            self.emit(Self::copy_op(target, src, entry.wide));
        } else {
            self.materialize_top(arity);
            let src = self.home_at(first);
            self.emit(Op::CopyMany {
                dst: target,
                src: Self::home(src),
                count: self.home_at(self.height()) - src,
            });
        }
    }

    /// Whether branching to `target_height` with `arity` values needs any instruction.
    fn needs_moves(&self, target_height: u32, arity: u32) -> bool {
        let first = self.height() - arity;
        first != target_height && arity > 0
    }

    /// The label `depth` levels out: (height, arity, known target).
    fn label(&self, depth: u32) -> (u32, u32, Option<Target>) {
        let frame = &self.control[self.control.len() - 1 - depth as usize];
        match frame.kind {
            ControlKind::Loop => (frame.height, frame.params.len(), Some(frame.loop_start)),
            _ => (frame.height, frame.results.len(), None),
        }
    }

    /// Emits an unconditional branch to label `depth` (values already moved).
    fn jump_to_label(&mut self, depth: u32, make: impl FnOnce(Target) -> Op) {
        let (_, _, known) = self.label(depth);
        let here = self.pc();
        let index = self.emit(make(known.map_or(0, |target| target - here)));
        if known.is_none() {
            let frame_index = self.control.len() - 1 - depth as usize;
            self.control[frame_index].pending.push(index);
        }
    }

    fn branch(&mut self, depth: u32) {
        if self.control.len() - 1 == depth as usize {
            return self.return_();
        }
        let (height, arity, _) = self.label(depth);
        self.move_values(height, arity);
        self.jump_to_label(depth, |target| Op::Branch { target });
        self.reachable = false;
    }

    fn take_condition(&mut self) -> Condition {
        let top_is_last_result = self.stack.last().map(|entry| entry.operand)
            == Some(Operand::Temporary)
            && self.last_result.is_some();
        if top_is_last_result {
            let last = self.last_result.expect("checked above");
            macro_rules! fuse {
                (fused_compare: { $(
                    $compare:ident $fused:ident $negated:ident $fused_imm:ident $negated_imm:ident;
                )* }) => {
                    match self.code[last] {
                        $( Op::$compare { lhs, rhs, .. } => {
                            let wide = stringify!($compare).starts_with("I64");
                            Some(match self.immediate_of(rhs, wide) {
                                Some(imm) => {
                                    // The comparison being replaced named the constant.
                                    self.unname_constant(rhs);
                                    Condition::CompareImm {
                                    lhs,
                                    imm,
                                    fused: |lhs, imm, target| Op::$fused_imm { lhs, imm, target },
                                    negated: |lhs, imm, target| Op::$negated_imm { lhs, imm, target },
                                    }
                                }
                                None => Condition::Compare {
                                    lhs,
                                    rhs,
                                    fused: |lhs, rhs, target| Op::$fused { lhs, rhs, target },
                                    negated: |lhs, rhs, target| Op::$negated { lhs, rhs, target },
                                },
                            })
                        } )*
                        _ => None,
                    }
                };
            }
            let condition = match self.code[last] {
                // `i32.eqz` only inverts the branch. `i64.eqz` compares all 64 bits with zero
                // (the branches on a value look at the low 32 only).
                Op::I32Eqz { src, .. } => Some(Condition::Zero(src)),
                Op::I64Eqz { src, .. } => Some(Condition::CompareImm {
                    lhs: src,
                    imm: 0,
                    fused: |lhs, imm, target| Op::BranchI64EqImm { lhs, imm, target },
                    negated: |lhs, imm, target| Op::BranchI64NeImm { lhs, imm, target },
                }),
                _ => crate::for_each_fused_compare!(fuse),
            };
            if let Some(condition) = condition {
                self.code.pop();
                self.stack.pop();
                self.last_result = None;
                return condition;
            }
        }
        Condition::Value(self.pop())
    }

    fn conditional_branch_op(condition: &Condition, when_true: bool, target: Target) -> Op {
        match (condition, when_true) {
            (Condition::Value(condition), true) => Op::BranchIfNonZero {
                condition: *condition,
                target,
            },
            (Condition::Value(condition), false) | (Condition::Zero(condition), true) => {
                Op::BranchIfZero {
                    condition: *condition,
                    target,
                }
            }
            (Condition::Zero(condition), false) => Op::BranchIfNonZero {
                condition: *condition,
                target,
            },
            (
                Condition::Compare {
                    lhs, rhs, fused, ..
                },
                true,
            ) => fused(*lhs, *rhs, target),
            (
                Condition::Compare {
                    lhs, rhs, negated, ..
                },
                false,
            ) => negated(*lhs, *rhs, target),
            (
                Condition::CompareImm {
                    lhs, imm, fused, ..
                },
                true,
            ) => fused(*lhs, *imm, target),
            (
                Condition::CompareImm {
                    lhs, imm, negated, ..
                },
                false,
            ) => negated(*lhs, *imm, target),
        }
    }

    fn branch_if(&mut self, depth: u32) {
        let condition = self.take_condition();
        let is_function = self.control.len() - 1 == depth as usize;
        let (height, arity, _) = self.label(depth);
        if !is_function && !self.needs_moves(height, arity) {
            self.materialize_top(arity);
            self.jump_to_label(depth, |target| {
                Self::conditional_branch_op(&condition, true, target)
            });
            return;
        }
        // Skip over the moves and the jump when the condition is false.
        let skip = self.emit(Self::conditional_branch_op(&condition, false, 0));
        let saved_stack = self.stack.clone();
        self.branch(depth);
        self.stack = saved_stack;
        self.reachable = true;
        let here = self.pc();
        self.patch(skip, here);
        self.last_result = None;
    }

    fn branch_table(&mut self, targets: wasmparser::BrTable<'_>) -> Result<(), TranslationError> {
        let index = self.pop();
        let depths: Vec<u32> = targets
            .targets()
            .chain(std::iter::once(Ok(targets.default())))
            .collect::<Result<_, _>>()
            .map_err(error)?;
        let (_, arity, _) = self.label(depths[0]);
        self.materialize_top(arity);
        self.emit(Op::BranchTable {
            index,
            len: depths.len() as u32 - 1,
        });
        let entries_start = self.pc();
        for _ in &depths {
            self.emit(Op::Branch { target: 0 });
        }
        let saved_stack = self.stack.clone();
        for (entry, depth) in depths.iter().enumerate() {
            let entry = entries_start as usize + entry;
            self.stack.clone_from(&saved_stack);
            let is_function = self.control.len() - 1 == *depth as usize;
            let (height, arity, _) = self.label(*depth);
            if is_function || self.needs_moves(height, arity) {
                // A stub that moves the values, then jumps.
                let stub = self.pc();
                self.patch(entry, stub);
                self.branch(*depth);
            } else {
                let (_, _, known) = self.label(*depth);
                match known {
                    Some(target) => self.patch(entry, target),
                    None => {
                        let frame_index = self.control.len() - 1 - *depth as usize;
                        self.control[frame_index].pending.push(entry);
                    }
                }
            }
        }
        self.reachable = false;
        Ok(())
    }

    /// Points the branch at `index` to the absolute position `target`.
    fn patch(&mut self, index: usize, target: Target) {
        if let Some(slot) = self.code[index].branch_target_mut() {
            *slot = target - index as Target;
        }
    }

    fn return_(&mut self) {
        let results = self.control[0].results;
        match results.slots() {
            0 => {
                self.emit(Op::Return {});
            }
            1 => {
                let src = self.pop();
                self.emit(Op::ReturnOne { src });
            }
            slots => {
                let first = self.pop_consecutive(results.len());
                self.emit(Op::ReturnMany {
                    first,
                    count: slots,
                });
            }
        }
        self.reachable = false;
    }

    fn end(&mut self) {
        let frame = self.control.last().expect("validated: end matches a block");
        if frame.kind == ControlKind::Function {
            if self.reachable {
                self.return_();
            }
            self.control.pop();
            return;
        }
        if self.reachable {
            let (height, arity) = (frame.height, frame.results.len());
            self.move_values(height, arity);
        }
        let frame = self.control.pop().expect("checked above");
        let here = self.pc();
        for index in frame.pending {
            self.patch(index, here);
        }
        if let Some(index) = frame.else_jump {
            // An `if` without `else`: the false path falls through to here.
            self.patch(index, here);
        }
        self.stack.truncate(frame.height as usize);
        self.push_temporaries(frame.results);
        self.last_result = None;
        self.reachable = true;
    }

    fn else_(&mut self) {
        let frame = self.control.last().expect("validated: else matches an if");
        let (height, params, results) = (frame.height, frame.params, frame.results);
        if self.reachable {
            self.move_values(height, results.len());
            let jump = self.emit(Op::Branch { target: 0 });
            self.control
                .last_mut()
                .expect("checked above")
                .pending
                .push(jump);
        }
        let here = self.pc();
        let frame = self.control.last_mut().expect("checked above");
        frame.kind = ControlKind::Else;
        if let Some(index) = frame.else_jump.take() {
            self.patch(index, here);
        }
        self.stack.truncate(height as usize);
        self.push_temporaries(params);
        self.last_result = None;
        self.reachable = true;
    }

    /// Translates a SIMD operator (the arms are generated from `ir.rs`'s `for_each_simd_*`
    /// lists, whose names are the operators'); anything else is unsupported.
    fn simd(&mut self, operator: Operator<'_>) -> Result<(), TranslationError> {
        use Operator as O;
        macro_rules! gather_simd_unary { ($($t:tt)*) => { crate::for_each_simd_unary!(gather_simd_ternary $($t)*) } }
        macro_rules! gather_simd_ternary { ($($t:tt)*) => { crate::for_each_simd_ternary!(gather_simd_shift $($t)*) } }
        macro_rules! gather_simd_shift { ($($t:tt)*) => { crate::for_each_simd_shift!(gather_simd_splat $($t)*) } }
        macro_rules! gather_simd_splat { ($($t:tt)*) => { crate::for_each_simd_splat!(gather_simd_test $($t)*) } }
        macro_rules! gather_simd_test { ($($t:tt)*) => { crate::for_each_simd_test!(gather_simd_extract_lane $($t)*) } }
        macro_rules! gather_simd_extract_lane { ($($t:tt)*) => { crate::for_each_simd_extract_lane!(gather_simd_replace_lane $($t)*) } }
        macro_rules! gather_simd_replace_lane { ($($t:tt)*) => { crate::for_each_simd_replace_lane!(gather_simd_load $($t)*) } }
        macro_rules! gather_simd_load { ($($t:tt)*) => { crate::for_each_simd_load!(gather_simd_load_lane $($t)*) } }
        macro_rules! gather_simd_load_lane { ($($t:tt)*) => { crate::for_each_simd_load_lane!(gather_simd_store_lane $($t)*) } }
        macro_rules! gather_simd_store_lane { ($($t:tt)*) => { crate::for_each_simd_store_lane!(translate_simd $($t)*) } }
        macro_rules! translate_simd {
            (
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
                match operator {
                    $( O::$sbname => {
                        let rhs = self.pop();
                        let lhs = self.pop();
                        let dst = self.push_result_v128();
                        self.emit_result(Op::$sbname { dst, lhs, rhs });
                    } )*
                    $( O::$suname => {
                        let src = self.pop();
                        let dst = self.push_result_v128();
                        self.emit_result(Op::$suname { dst, src });
                    } )*
                    $( O::$stname => {
                        let operands = self.pop_consecutive(3);
                        let dst = self.push_result_v128();
                        self.emit_result(Op::$stname { dst, operands });
                    } )*
                    $( O::$ssname => {
                        let rhs = self.pop();
                        let lhs = self.pop();
                        let dst = self.push_result_v128();
                        self.emit_result(Op::$ssname { dst, lhs, rhs });
                    } )*
                    $( O::$spname => {
                        let src = self.pop();
                        let dst = self.push_result_v128();
                        self.emit_result(Op::$spname { dst, src });
                    } )*
                    $( O::$sqname => {
                        let src = self.pop();
                        let dst = self.push_result();
                        self.emit_result(Op::$sqname { dst, src });
                    } )*
                    $( O::$sename { lane } => {
                        let src = self.pop();
                        let dst = self.push_result();
                        self.emit_result(Op::$sename { dst, src, lane });
                    } )*
                    $( O::$srname { lane } => {
                        let value = self.pop();
                        let src = self.pop();
                        let dst = self.push_result_v128();
                        self.emit_result(Op::$srname { dst, src, value, lane });
                    } )*
                    $( O::$slname { memarg } => {
                        let offset = self.memory_offset(memarg)?;
                        let addr = self.pop();
                        let dst = self.push_result_v128();
                        self.emit_result(Op::$slname { dst, addr, offset });
                    } )*
                    $( O::$sllname { memarg, lane } => {
                        let offset = self.memory_offset(memarg)?;
                        let operands = self.pop_consecutive(2);
                        let dst = self.push_result_v128();
                        self.emit_result(Op::$sllname { dst, operands, offset, lane });
                    } )*
                    $( O::$sslname { memarg, lane } => {
                        let offset = self.memory_offset(memarg)?;
                        let operands = self.pop_consecutive(2);
                        self.emit(Op::$sslname { operands, offset, lane });
                    } )*
                    O::V128Store { memarg } => {
                        self.store(memarg, |addr, value, offset| Op::V128Store {
                            addr,
                            value,
                            offset,
                        })?;
                    }
                    O::I8x16Shuffle { lanes } => {
                        self.constant_v128(u128::from_le_bytes(lanes));
                        let lanes = self.pop();
                        let operands = self.pop_consecutive(2);
                        let dst = self.push_result_v128();
                        self.emit_result(Op::I8x16Shuffle {
                            dst,
                            operands,
                            lanes,
                        });
                    }
                    other => return Err(unsupported(other)),
                }
            };
        }
        crate::for_each_simd_binary!(gather_simd_unary);
        Ok(())
    }

    fn skip_dead(&mut self, operator: &Operator<'_>) -> bool {
        if self.reachable {
            return false;
        }
        match operator {
            Operator::Block { .. }
            | Operator::Loop { .. }
            | Operator::If { .. }
            | Operator::TryTable { .. } => {
                self.dead_depth += 1;
                true
            }
            Operator::End if self.dead_depth > 0 => {
                self.dead_depth -= 1;
                true
            }
            Operator::Else if self.dead_depth > 0 => true,
            Operator::End | Operator::Else => false,
            _ => true,
        }
    }

    fn local_set(&mut self, local: u32, keep: bool) {
        let (slot, wide) = self.locals[local as usize];
        let value = self.pop_entry();
        if value.operand == Operand::Local(slot) {
            if keep {
                self.push(value.operand, wide);
            }
            return;
        }
        let aliased = self
            .stack
            .iter()
            .any(|entry| entry.operand == Operand::Local(slot));
        if aliased {
            self.preserve_local(slot);
        }
        let retargeted = !aliased
            && value.operand == Operand::Temporary
            && match self.last_result {
                Some(last) => match self.code[last].result_slot_mut() {
                    Some(dst) if *dst == Self::home(value.home) => {
                        *dst = Slot(slot);
                        true
                    }
                    _ => false,
                },
                None => false,
            };
        if !retargeted {
            let src = self.slot_of(value);
            self.emit(Self::copy_op(Slot(slot), src, wide));
        }
        self.last_result = None;
        if keep {
            self.push(Operand::Local(slot), wide);
        }
    }

    fn call(&mut self, function: u32) {
        let ty = self.info.function_type(function);
        let args = self.pop_consecutive(ty.params().len() as u32);
        self.emit(Op::Call { function, args });
        self.push_temporaries(Values::of(ty.results()));
    }

    fn operator(&mut self, operator: Operator<'_>) -> Result<(), TranslationError> {
        if let Operator::Loop { .. } = operator {
            self.loops_seen += 1;
        }
        if self.skip_dead(&operator) {
            return Ok(());
        }
        use Operator as O;
        macro_rules! binary {
            ($name:ident) => {
                self.binary(|dst, lhs, rhs| Op::$name { dst, lhs, rhs })
            };
        }
        macro_rules! binary_imm {
            ($name:ident, $imm:ident, $wide:expr, $commutative:expr) => {
                self.binary_imm(
                    |dst, lhs, rhs| Op::$name { dst, lhs, rhs },
                    |dst, lhs, imm| Op::$imm { dst, lhs, imm },
                    $wide,
                    $commutative,
                )
            };
        }
        macro_rules! unary {
            ($name:ident) => {
                self.unary(|dst, src| Op::$name { dst, src })
            };
        }
        macro_rules! load {
            ($memarg:expr, $name:ident) => {
                self.load($memarg, |dst, addr, offset| Op::$name { dst, addr, offset })?
            };
        }
        macro_rules! store {
            ($memarg:expr, $name:ident) => {
                self.store($memarg, |addr, value, offset| Op::$name {
                    addr,
                    value,
                    offset,
                })?
            };
        }
        match operator {
            O::Unreachable => {
                self.emit(Op::Trap {
                    code: TrapCode::Unreachable as u32,
                });
                self.reachable = false;
            }
            O::Nop => {}
            O::Block { blockty } => self.open(ControlKind::Block, blockty),
            O::Loop { blockty } => {
                self.open(ControlKind::Loop, blockty);
                self.record_loop_header();
            }
            O::If { blockty } => {
                let condition = self.take_condition();
                self.open(ControlKind::If, blockty);
                let jump = self.emit(Self::conditional_branch_op(&condition, false, 0));
                self.control.last_mut().expect("just opened").else_jump = Some(jump);
            }
            O::Else => self.else_(),
            O::End => self.end(),
            O::Br { relative_depth } => self.branch(relative_depth),
            O::BrIf { relative_depth } => self.branch_if(relative_depth),
            O::BrTable { targets } => self.branch_table(targets)?,
            O::Return => self.return_(),
            O::Call { function_index } => self.call(function_index),
            O::CallIndirect {
                type_index,
                table_index,
            } => {
                let ty = &self.info.types[type_index as usize];
                let args = self.pop_consecutive(ty.params().len() as u32 + 1);
                self.emit(Op::CallIndirect {
                    type_index,
                    args,
                    table: table_index,
                });
                self.push_temporaries(Values::of(ty.results()));
            }
            O::Drop => {
                self.stack.pop();
            }
            O::Select | O::TypedSelect { .. } => {
                let condition = self.pop();
                let if_false = self.pop();
                let if_true = self.pop_entry();
                let (wide, if_true) = (if_true.wide, self.slot_of(if_true));
                let dst = self.push_result_of_width(wide);
                self.emit(if wide {
                    Op::SelectV128 {
                        dst,
                        condition,
                        if_true,
                    }
                } else {
                    Op::Select {
                        dst,
                        condition,
                        if_true,
                    }
                });
                self.emit(Op::SelectOperand { if_false });
                // `local.set` may retarget the `Select`'s result.
                self.last_result = Some(self.code.len() - 2);
            }
            O::LocalGet { local_index } => {
                let (slot, wide) = self.locals[local_index as usize];
                self.push(Operand::Local(slot), wide);
            }
            O::LocalSet { local_index } => self.local_set(local_index, false),
            O::LocalTee { local_index } => self.local_set(local_index, true),
            O::GlobalGet { global_index } => {
                let global = global_index;
                if self.global_is_v128(global) {
                    let dst = self.push_result_v128();
                    self.emit_result(Op::GlobalGetV128 { dst, global });
                } else {
                    let dst = self.push_result();
                    self.emit_result(Op::GlobalGet { dst, global });
                }
            }
            O::GlobalSet { global_index } => {
                let global = global_index;
                let src = self.pop();
                self.emit(if self.global_is_v128(global) {
                    Op::GlobalSetV128 { src, global }
                } else {
                    Op::GlobalSet { src, global }
                });
            }
            O::I32Const { value } => self.constant(value as u32 as u64),
            O::I64Const { value } => self.constant(value as u64),
            O::F32Const { value } => self.constant(value.bits() as u64),
            O::F64Const { value } => self.constant(value.bits()),
            O::V128Const { value } => self.constant_v128(value.i128() as u128),
            O::RefNull { .. } => self.constant(0),
            O::RefIsNull => unary!(RefIsNull),
            O::RefFunc { function_index } => {
                let dst = self.push_result();
                self.emit_result(Op::RefFunc {
                    dst,
                    function: function_index,
                });
            }
            O::I32Load { memarg } => load!(memarg, I32Load),
            O::I64Load { memarg } => load!(memarg, I64Load),
            O::F32Load { memarg } => load!(memarg, F32Load),
            O::F64Load { memarg } => load!(memarg, F64Load),
            O::I32Load8S { memarg } => load!(memarg, I32Load8S),
            O::I32Load8U { memarg } => load!(memarg, I32Load8U),
            O::I32Load16S { memarg } => load!(memarg, I32Load16S),
            O::I32Load16U { memarg } => load!(memarg, I32Load16U),
            O::I64Load8S { memarg } => load!(memarg, I64Load8S),
            O::I64Load8U { memarg } => load!(memarg, I64Load8U),
            O::I64Load16S { memarg } => load!(memarg, I64Load16S),
            O::I64Load16U { memarg } => load!(memarg, I64Load16U),
            O::I64Load32S { memarg } => load!(memarg, I64Load32S),
            O::I64Load32U { memarg } => load!(memarg, I64Load32U),
            O::I32Store { memarg } => store!(memarg, I32Store),
            O::I64Store { memarg } => store!(memarg, I64Store),
            O::F32Store { memarg } => store!(memarg, F32Store),
            O::F64Store { memarg } => store!(memarg, F64Store),
            O::I32Store8 { memarg } => store!(memarg, I32Store8),
            O::I32Store16 { memarg } => store!(memarg, I32Store16),
            O::I64Store8 { memarg } => store!(memarg, I64Store8),
            O::I64Store16 { memarg } => store!(memarg, I64Store16),
            O::I64Store32 { memarg } => store!(memarg, I64Store32),
            O::MemorySize { mem } => {
                let dst = self.push_result();
                self.emit_result(Op::MemorySize { dst, memory: mem });
            }
            O::MemoryGrow { mem } => {
                let delta = self.pop();
                let dst = self.push_result();
                self.emit_result(Op::MemoryGrow {
                    dst,
                    delta,
                    memory: mem,
                });
            }
            O::MemoryCopy { dst_mem, src_mem } => {
                let operands = self.pop_consecutive(3);
                self.emit(Op::MemoryCopy {
                    operands,
                    destination_memory: dst_mem,
                    source_memory: src_mem,
                });
            }
            O::MemoryFill { mem } => {
                let operands = self.pop_consecutive(3);
                self.emit(Op::MemoryFill {
                    operands,
                    memory: mem,
                });
            }
            O::MemoryInit { data_index, mem } => {
                let operands = self.pop_consecutive(3);
                self.emit(Op::MemoryInit {
                    operands,
                    memory: mem,
                    segment: data_index,
                });
            }
            O::DataDrop { data_index } => {
                self.emit(Op::DataDrop {
                    segment: data_index,
                });
            }
            O::TableGet { table } => {
                let index = self.pop();
                let dst = self.push_result();
                self.emit_result(Op::TableGet { dst, index, table });
            }
            O::TableSet { table } => {
                let value = self.pop();
                let index = self.pop();
                self.emit(Op::TableSet {
                    index,
                    value,
                    table,
                });
            }
            O::TableSize { table } => {
                let dst = self.push_result();
                self.emit_result(Op::TableSize { dst, table });
            }
            O::TableGrow { table } => {
                let operands = self.pop_consecutive(2);
                let dst = self.push_result();
                self.emit_result(Op::TableGrow {
                    dst,
                    operands,
                    table,
                });
            }
            O::TableCopy {
                dst_table,
                src_table,
            } => {
                let operands = self.pop_consecutive(3);
                self.emit(Op::TableCopy {
                    operands,
                    destination_table: dst_table,
                    source_table: src_table,
                });
            }
            O::TableFill { table } => {
                let operands = self.pop_consecutive(3);
                self.emit(Op::TableFill { operands, table });
            }
            O::TableInit { elem_index, table } => {
                let operands = self.pop_consecutive(3);
                self.emit(Op::TableInit {
                    operands,
                    table,
                    segment: elem_index,
                });
            }
            O::ElemDrop { elem_index } => {
                self.emit(Op::ElemDrop {
                    segment: elem_index,
                });
            }
            O::I32Eqz => unary!(I32Eqz),
            O::I32Eq => binary!(I32Eq),
            O::I32Ne => binary!(I32Ne),
            O::I32LtS => binary!(I32LtS),
            O::I32LtU => binary!(I32LtU),
            O::I32GtS => binary!(I32GtS),
            O::I32GtU => binary!(I32GtU),
            O::I32LeS => binary!(I32LeS),
            O::I32LeU => binary!(I32LeU),
            O::I32GeS => binary!(I32GeS),
            O::I32GeU => binary!(I32GeU),
            O::I64Eqz => unary!(I64Eqz),
            O::I64Eq => binary!(I64Eq),
            O::I64Ne => binary!(I64Ne),
            O::I64LtS => binary!(I64LtS),
            O::I64LtU => binary!(I64LtU),
            O::I64GtS => binary!(I64GtS),
            O::I64GtU => binary!(I64GtU),
            O::I64LeS => binary!(I64LeS),
            O::I64LeU => binary!(I64LeU),
            O::I64GeS => binary!(I64GeS),
            O::I64GeU => binary!(I64GeU),
            O::F32Eq => binary!(F32Eq),
            O::F32Ne => binary!(F32Ne),
            O::F32Lt => binary!(F32Lt),
            O::F32Gt => binary!(F32Gt),
            O::F32Le => binary!(F32Le),
            O::F32Ge => binary!(F32Ge),
            O::F64Eq => binary!(F64Eq),
            O::F64Ne => binary!(F64Ne),
            O::F64Lt => binary!(F64Lt),
            O::F64Gt => binary!(F64Gt),
            O::F64Le => binary!(F64Le),
            O::F64Ge => binary!(F64Ge),
            O::I32Clz => unary!(I32Clz),
            O::I32Ctz => unary!(I32Ctz),
            O::I32Popcnt => unary!(I32Popcnt),
            O::I32Add => binary_imm!(I32Add, I32AddImm, false, true),
            O::I32Sub => binary_imm!(I32Sub, I32SubImm, false, false),
            O::I32Mul => binary_imm!(I32Mul, I32MulImm, false, true),
            O::I32DivS => binary!(I32DivS),
            O::I32DivU => binary!(I32DivU),
            O::I32RemS => binary!(I32RemS),
            O::I32RemU => binary!(I32RemU),
            O::I32And => binary_imm!(I32And, I32AndImm, false, true),
            O::I32Or => binary_imm!(I32Or, I32OrImm, false, true),
            O::I32Xor => binary_imm!(I32Xor, I32XorImm, false, true),
            O::I32Shl => binary_imm!(I32Shl, I32ShlImm, false, false),
            O::I32ShrS => binary_imm!(I32ShrS, I32ShrSImm, false, false),
            O::I32ShrU => binary_imm!(I32ShrU, I32ShrUImm, false, false),
            O::I32Rotl => binary_imm!(I32Rotl, I32RotlImm, false, false),
            O::I32Rotr => binary_imm!(I32Rotr, I32RotrImm, false, false),
            O::I64Clz => unary!(I64Clz),
            O::I64Ctz => unary!(I64Ctz),
            O::I64Popcnt => unary!(I64Popcnt),
            O::I64Add => binary_imm!(I64Add, I64AddImm, true, true),
            O::I64Sub => binary_imm!(I64Sub, I64SubImm, true, false),
            O::I64Mul => binary_imm!(I64Mul, I64MulImm, true, true),
            O::I64DivS => binary!(I64DivS),
            O::I64DivU => binary!(I64DivU),
            O::I64RemS => binary!(I64RemS),
            O::I64RemU => binary!(I64RemU),
            O::I64And => binary_imm!(I64And, I64AndImm, true, true),
            O::I64Or => binary_imm!(I64Or, I64OrImm, true, true),
            O::I64Xor => binary_imm!(I64Xor, I64XorImm, true, true),
            O::I64Shl => binary_imm!(I64Shl, I64ShlImm, true, false),
            O::I64ShrS => binary_imm!(I64ShrS, I64ShrSImm, true, false),
            O::I64ShrU => binary_imm!(I64ShrU, I64ShrUImm, true, false),
            O::I64Rotl => binary_imm!(I64Rotl, I64RotlImm, true, false),
            O::I64Rotr => binary_imm!(I64Rotr, I64RotrImm, true, false),
            O::F32Abs => unary!(F32Abs),
            O::F32Neg => unary!(F32Neg),
            O::F32Ceil => unary!(F32Ceil),
            O::F32Floor => unary!(F32Floor),
            O::F32Trunc => unary!(F32Trunc),
            O::F32Nearest => unary!(F32Nearest),
            O::F32Sqrt => unary!(F32Sqrt),
            O::F32Add => binary!(F32Add),
            O::F32Sub => binary!(F32Sub),
            O::F32Mul => binary!(F32Mul),
            O::F32Div => binary!(F32Div),
            O::F32Min => binary!(F32Min),
            O::F32Max => binary!(F32Max),
            O::F32Copysign => binary!(F32Copysign),
            O::F64Abs => unary!(F64Abs),
            O::F64Neg => unary!(F64Neg),
            O::F64Ceil => unary!(F64Ceil),
            O::F64Floor => unary!(F64Floor),
            O::F64Trunc => unary!(F64Trunc),
            O::F64Nearest => unary!(F64Nearest),
            O::F64Sqrt => unary!(F64Sqrt),
            O::F64Add => binary!(F64Add),
            O::F64Sub => binary!(F64Sub),
            O::F64Mul => binary!(F64Mul),
            O::F64Div => binary!(F64Div),
            O::F64Min => binary!(F64Min),
            O::F64Max => binary!(F64Max),
            O::F64Copysign => binary!(F64Copysign),
            O::I32WrapI64 => unary!(I32WrapI64),
            O::I32TruncF32S => unary!(I32TruncF32S),
            O::I32TruncF32U => unary!(I32TruncF32U),
            O::I32TruncF64S => unary!(I32TruncF64S),
            O::I32TruncF64U => unary!(I32TruncF64U),
            O::I64ExtendI32S => unary!(I64ExtendI32S),
            O::I64ExtendI32U => unary!(I64ExtendI32U),
            O::I64TruncF32S => unary!(I64TruncF32S),
            O::I64TruncF32U => unary!(I64TruncF32U),
            O::I64TruncF64S => unary!(I64TruncF64S),
            O::I64TruncF64U => unary!(I64TruncF64U),
            O::F32ConvertI32S => unary!(F32ConvertI32S),
            O::F32ConvertI32U => unary!(F32ConvertI32U),
            O::F32ConvertI64S => unary!(F32ConvertI64S),
            O::F32ConvertI64U => unary!(F32ConvertI64U),
            O::F32DemoteF64 => unary!(F32DemoteF64),
            O::F64ConvertI32S => unary!(F64ConvertI32S),
            O::F64ConvertI32U => unary!(F64ConvertI32U),
            O::F64ConvertI64S => unary!(F64ConvertI64S),
            O::F64ConvertI64U => unary!(F64ConvertI64U),
            O::F64PromoteF32 => unary!(F64PromoteF32),
            O::I32ReinterpretF32 => unary!(I32ReinterpretF32),
            O::I64ReinterpretF64 => unary!(I64ReinterpretF64),
            O::F32ReinterpretI32 => unary!(F32ReinterpretI32),
            O::F64ReinterpretI64 => unary!(F64ReinterpretI64),
            O::I32Extend8S => unary!(I32Extend8S),
            O::I32Extend16S => unary!(I32Extend16S),
            O::I64Extend8S => unary!(I64Extend8S),
            O::I64Extend16S => unary!(I64Extend16S),
            O::I64Extend32S => unary!(I64Extend32S),
            O::I32TruncSatF32S => unary!(I32TruncSatF32S),
            O::I32TruncSatF32U => unary!(I32TruncSatF32U),
            O::I32TruncSatF64S => unary!(I32TruncSatF64S),
            O::I32TruncSatF64U => unary!(I32TruncSatF64U),
            O::I64TruncSatF32S => unary!(I64TruncSatF32S),
            O::I64TruncSatF32U => unary!(I64TruncSatF32U),
            O::I64TruncSatF64S => unary!(I64TruncSatF64S),
            O::I64TruncSatF64U => unary!(I64TruncSatF64U),
            other => return self.simd(other),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kestrel_parser::Features;

    /// The finished code of function 0 of `wat`.
    fn code_of(wat: &str) -> Box<[Op]> {
        let bytes = wat::parse_str(wat).expect("valid text");
        let info = kestrel_parser::parse(bytes, &Features::default()).expect("valid module");
        translate(&info, 0, Instrumentation::default())
            .expect("translates")
            .code
    }

    #[test]
    fn i32_eqz_before_br_if_becomes_a_branch_on_zero() {
        let code = code_of(
            "(module (func (param i32) (result i32)
               (block $zero (br_if $zero (i32.eqz (local.get 0))) (return (i32.const 1)))
               (i32.const 0)))",
        );
        assert!(matches!(
            code[0],
            Op::BranchIfZero {
                condition: Slot(0),
                target: 2
            }
        ));
        assert!(!code.iter().any(|op| matches!(op, Op::I32Eqz { .. })));
    }

    #[test]
    fn i32_eqz_before_if_jumps_to_else_on_non_zero() {
        let code = code_of(
            "(module (func (param i32) (result i32)
               (if (result i32) (i32.eqz (local.get 0))
                 (then (i32.const 0)) (else (i32.const 1)))))",
        );
        assert!(matches!(
            code[0],
            Op::BranchIfNonZero {
                condition: Slot(0),
                ..
            }
        ));
        assert!(!code.iter().any(|op| matches!(op, Op::I32Eqz { .. })));
    }

    #[test]
    fn i64_eqz_before_br_if_compares_all_64_bits_with_zero() {
        let code = code_of(
            "(module (func (param i64) (result i32)
               (block $zero (br_if $zero (i64.eqz (local.get 0))) (return (i32.const 1)))
               (i32.const 0)))",
        );
        assert!(matches!(
            code[0],
            Op::BranchI64EqImm {
                lhs: Slot(0),
                imm: 0,
                target: 2
            }
        ));
        assert!(!code.iter().any(|op| matches!(op, Op::I64Eqz { .. })));
    }

    #[test]
    fn an_eqz_whose_value_is_kept_is_not_fused() {
        // `local.tee` stores the result: the comparison must stay.
        let code = code_of(
            "(module (func (param i32) (result i32) (local i32)
               (block $zero (br_if $zero (local.tee 1 (i32.eqz (local.get 0)))))
               (local.get 1)))",
        );
        assert!(
            code.iter()
                .any(|op| matches!(op, Op::I32Eqz { dst: Slot(1), .. }))
        );
        assert!(matches!(
            code[1],
            Op::BranchIfNonZero {
                condition: Slot(1),
                ..
            }
        ));
    }

    #[test]
    fn branch_targets_are_relative_to_the_branch() {
        // A loop's back edge goes backwards (zero or less), a block's exit forwards.
        let code = code_of(
            "(module (func (param i32) (result i32)
               (block $done
                 (loop $next
                   (br_if $done (i32.eqz (local.get 0)))
                   (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
                   (br $next)))
               (local.get 0)))",
        );
        let branches: Vec<(usize, Target)> = code
            .iter()
            .enumerate()
            .filter_map(|(index, op)| {
                let mut op = *op;
                op.branch_target_mut().map(|target| (index, *target))
            })
            .collect();
        // `br_if $done` at 0 jumps past the loop's end, to the `return` at 3; `br $next`
        // at 2 goes back to the header at 0.
        assert_eq!(branches, vec![(0, 3), (2, -2)]);
        assert!(matches!(code[3], Op::ReturnOne { .. }));
    }

    /// The finished function 0 of `wat`.
    fn func_of(wat: &str) -> CompiledFunc {
        let bytes = wat::parse_str(wat).expect("valid text");
        let info = kestrel_parser::parse(bytes, &Features::default()).expect("valid module");
        translate(&info, 0, Instrumentation::default()).expect("translates")
    }

    #[test]
    fn constants_that_fit_become_immediates_and_leave_the_pool() {
        // fibonacci-rec: every constant fits, so the frame copies no constants on entry.
        let func = func_of(
            "(module (func $fib (param i64) (result i64)
               (if (i64.le_s (local.get 0) (i64.const 1)) (then (return (local.get 0))))
               (i64.add (call $fib (i64.sub (local.get 0) (i64.const 1)))
                        (call $fib (i64.sub (local.get 0) (i64.const 2))))))",
        );
        assert!(func.constants.is_empty(), "{:?}", func.constants);
        assert!(matches!(
            func.code[0],
            Op::BranchI64GtSImm {
                lhs: Slot(0),
                imm: 1,
                ..
            }
        ));
        // Temporaries start right after the one local.
        assert!(matches!(
            func.code[2],
            Op::I64SubImm {
                dst: Slot(1),
                lhs: Slot(0),
                imm: 1
            }
        ));
    }

    #[test]
    fn immediates_cover_the_32_bit_range_and_64_bit_ones_that_sign_extend() {
        let func = func_of(
            "(module (func (param i32 i64) (result i32 i32 i64 i64 i64)
               (i32.add (local.get 0) (i32.const -2147483648))
               (i32.xor (i32.const 2147483647) (local.get 0))
               (i64.and (local.get 1) (i64.const -2147483648))
               (i64.or (local.get 1) (i64.const 2147483648))
               (i64.sub (i64.const 5) (local.get 1))))",
        );
        let ops: Vec<Op> = func.code.to_vec();
        assert!(matches!(
            ops[0],
            Op::I32AddImm {
                lhs: Slot(0),
                imm: i32::MIN,
                ..
            }
        ));
        // Commutative: the constant on the left becomes the immediate too.
        assert!(matches!(
            ops[1],
            Op::I32XorImm {
                lhs: Slot(0),
                imm: i32::MAX,
                ..
            }
        ));
        assert!(matches!(
            ops[2],
            Op::I64AndImm {
                lhs: Slot(1),
                imm: i32::MIN,
                ..
            }
        ));
        // 2^31 does not sign-extend from 32 bits, and `sub` does not commute: both stay
        // in the pool, which keeps exactly them.
        assert!(matches!(ops[3], Op::I64Or { .. }));
        assert!(matches!(ops[4], Op::I64Sub { .. }));
        assert_eq!(&*func.constants, &[2147483648, 5]);
    }

    #[test]
    fn compare_branches_take_immediates_at_the_boundaries() {
        let code = code_of(
            "(module (func (param i32 i64)
               (block
                 (br_if 0 (i32.lt_u (local.get 0) (i32.const -1)))
                 (br_if 0 (i64.ge_s (local.get 1) (i64.const -2147483648)))
                 (br_if 0 (i64.ne (local.get 1) (i64.const 4294967295))))))",
        );
        assert!(matches!(
            code[0],
            Op::BranchI32LtUImm {
                lhs: Slot(0),
                imm: -1,
                ..
            }
        ));
        assert!(matches!(
            code[1],
            Op::BranchI64GeSImm {
                lhs: Slot(1),
                imm: i32::MIN,
                ..
            }
        ));
        // 2^32 - 1 is not a sign-extended 32-bit value: the pool keeps it.
        assert!(matches!(
            code[2],
            Op::BranchI64Ne {
                lhs: Slot(1),
                rhs: Slot(2),
                ..
            }
        ));
    }
}
