//! Translation of one validated Wasm function body into Cranelift IR.
//!
//! One pass over wasmparser's operators with two stacks, as in the interpreter's
//! translator: a *value stack* of Cranelift SSA values standing for the Wasm operand stack,
//! and a *control stack* of open blocks. Wasm locals are `cranelift-frontend` variables, so
//! SSA construction (block parameters at merges) is the frontend's job. Every Wasm block
//! has a continuation block whose parameters are the block's results; a loop also has a
//! header block whose parameters are the loop's parameters. Code after an unconditional
//! branch is unreachable and skipped, counting only the nesting of its blocks.
//!
//! Semantics that Cranelift does not give exactly, or gives with a hardware trap, are
//! emitted as explicit checks that branch to a per-function trap block:
//!
//! - memory accesses: `address + offset + size <= current_length`, computed without
//!   overflow (64-bit arithmetic for 32-bit memories, an overflow check for memory64). A
//!   memory never shrinks, so a check that passed stays true: a later access through the
//!   same SSA address value that ends no further than an access already checked at a
//!   dominating point needs no check (see `Translator::bounds`);
//! - integer division: zero divisor, and `MIN / -1` for `div_s` (`rem_s` by -1 is 0);
//! - float-to-int truncation: NaN, then the exact range of the target type;
//! - tables and `call_indirect`: index below the table's length, non-null element, and the
//!   callee's `TypeId` equal to the expected one (an immediate: compiled code is per
//!   module, and a module's type ids are fixed by its engine).
//!
//! A trap branches to a cold block of its own that jumps to the function's *unwind block*
//! with the trap's status; the unwind block records this frame (`RecordFrame`) and returns
//! the status. After every call the status is checked and, when not 0, goes the same way
//! (see [`crate::abi`]). Each check gets its own small cold block rather than branching
//! straight to one shared block: a block with thousands of predecessors (and a parameter)
//! makes register allocation superlinear on large functions (seconds instead of tenths).
//!
//! With fuel metering or epoch interruption, `kestrel_vm::instrument::Meter` says before
//! which operators to charge fuel (an inline check and subtract, trapping `OutOfFuel`
//! before the region runs, on a variable that holds the fuel left in a register: it is
//! loaded from `VMStoreContext::fuel` on entry and after every call, and stored back
//! before every call and return and on every path that unwinds) and check the epoch (an atomic load through
//! `VMStoreContext::epoch_counter`, trapping `Interrupt`): the same places as the
//! interpreter, so both tiers consume exactly the same fuel.
//!
//! SIMD (`simd`): every `v128` value has one Cranelift type, `abi::V128` (`i8x16`), in
//! the value stack, variables, block parameters and signatures; each SIMD instruction
//! bitcasts to the lane type it needs and back. Vector memory accesses take the same
//! bounds check as scalar ones, with their own size (16 bytes for a whole vector).
//!
//! Instance state is read only through `VMContext` (see `kestrel_vm::offsets`). Loads of
//! pointers that never change after instantiation are marked read-only so Cranelift can
//! share and hoist them; memory and table definitions are reloaded after every call.
//!
//! The function was validated when its module was loaded; a malformed body here is a bug,
//! reported as an error rather than a panic.

use crate::abi::{self, Libcall, Status};
use crate::compiler::{NAMESPACE_FUNCTION, NAMESPACE_LIBCALL};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::immediates::{Ieee32, Ieee64};
use cranelift_codegen::ir::{
    self, AliasRegionData, BlockArg, Endianness, ExtFuncData, ExternalName, FuncRef, Function,
    GlobalValueData, InstBuilder, JumpTableData, MemFlagsData, SigRef, StackSlotData,
    StackSlotKind, Type, UserExternalName, UserFuncName, Value, types,
};
use cranelift_codegen::isa::{CallConv, TargetFrontendConfig};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use kestrel_parser::wasmparser::{self, BlockType, MemArg, Operator};
use kestrel_parser::{FuncIndex, ModuleInfo};
use kestrel_vm::instrument::{Instrumentation, Meter, Probe};
use kestrel_vm::offsets::offset;
use kestrel_vm::{TrapCode, TypeId};
use std::collections::HashMap;

mod simd;

/// What translation needs to know about the module.
pub(crate) struct ModuleEnv<'a> {
    pub info: &'a ModuleInfo,
    /// The engine-wide id of each type index.
    pub type_ids: &'a [TypeId],
    pub pointer_type: Type,
    pub call_conv: CallConv,
    pub frontend_config: TargetFrontendConfig,
    /// Calls between defined functions are direct (PC-relative, the whole module is linked
    /// together); when false (one function compiled alone, for a tier-up) they go through
    /// the store's `VMFuncRef`, as calls to imports do (except its calls to itself).
    pub direct_calls: bool,
    /// Translate an on-stack-replacement entry for the loop with this ordinal instead of
    /// the function's normal entry (see [`translate`]).
    pub osr_loop: Option<u32>,
    /// Fuel charges and epoch checks to add (the module's `RuntimeModule::instrumentation`).
    pub instrumentation: Instrumentation,
}

/// Fails when function `func` uses vectors (`v128`) and the host ISA cannot run vector
/// code (`crate::host::vector_support`).
pub(crate) fn check_vectors(
    func: &Function,
    isa: &dyn cranelift_codegen::isa::TargetIsa,
) -> Result<(), String> {
    if func
        .dfg
        .values()
        .any(|value| func.dfg.value_type(value).is_vector())
    {
        crate::host::vector_support(isa)?;
    }
    Ok(())
}

/// Translates defined function `index` into `func`.
///
/// With `env.osr_loop`, the result is the function's *on-stack-replacement entry* for that
/// loop (its position among the body's `loop` instructions, counted from 0 in body order,
/// dead code included — as the interpreter counts them): a function
/// `(vmctx, state) -> status` ([`abi::OsrEntry`]) that loads every local from the raw
/// slots at `state`, then the operand stack at the loop header (bottom to top), each value
/// in its slots (a `v128` in two, low half first: `kestrel_vm::value::slot_offset`), jumps
/// to the loop's header, and when the function returns stores its results in `state`'s
/// first slots the same way. The body is translated as usual, so the code before the loop becomes
/// unreachable and is dropped by Cranelift; the loop header takes the whole operand stack
/// as block parameters (the enclosing blocks' values too, which otherwise would be SSA
/// values defined before the loop), and branches back to it pass them unchanged.
pub(crate) fn translate(
    env: &ModuleEnv<'_>,
    index: FuncIndex,
    func: &mut Function,
    builder_context: &mut FunctionBuilderContext,
) -> Result<(), String> {
    let info = env.info;
    let ty = info.function_type(index);
    func.signature = match env.osr_loop {
        None => abi::wasm_signature(ty, env.call_conv, env.pointer_type)?,
        Some(_) => abi::osr_signature(env.call_conv, env.pointer_type),
    };
    func.name = UserFuncName::user(NAMESPACE_FUNCTION, index);
    let body = info.function_body(index);
    let body = wasmparser::FunctionBody::new(wasmparser::BinaryReader::new(
        &info.bytes[body.range.clone()],
        body.range.start as u64,
    ));

    let mut builder = FunctionBuilder::new(func, builder_context);
    let entry = builder.create_block();
    builder.append_block_params_for_function_params(entry);
    builder.switch_to_block(entry);
    builder.seal_block(entry);
    let vmctx = builder.block_params(entry)[0];

    // Cranelift's stack-limit check reads `vmctx.store.stack_limit` in every prologue.
    let trusted = builder
        .func
        .dfg
        .mem_flags
        .insert_unchecked(MemFlagsData::trusted());
    let vmctx_gv = builder.create_global_value(GlobalValueData::VMContext);
    let store_gv = builder.create_global_value(GlobalValueData::Load {
        base: vmctx_gv,
        offset: (offset::VMCTX_STORE as i32).into(),
        global_type: env.pointer_type,
        flags: trusted,
    });
    let limit_gv = builder.create_global_value(GlobalValueData::Load {
        base: store_gv,
        offset: (offset::STORE_STACK_LIMIT as i32).into(),
        global_type: env.pointer_type,
        flags: trusted,
    });
    builder.func.stack_limit = Some(limit_gv);

    let region = |builder: &mut FunctionBuilder<'_>, user_id: u32, name: &'static str| {
        builder.func.dfg.alias_regions.insert(AliasRegionData {
            user_id,
            description: name.into(),
        })
    };
    let heap_region = region(&mut builder, 0, "heap");
    let vmctx_region = region(&mut builder, 1, "vmctx");
    let table_region = region(&mut builder, 2, "tables");
    let global_region = region(&mut builder, 3, "globals");

    let mut locals = Vec::new();
    let mut local_types = Vec::new();
    for param in ty.params() {
        local_types.push(abi::value_type(*param));
    }
    let mut locals_reader = body.get_locals_reader().map_err(error)?;
    for _ in 0..locals_reader.get_count() {
        let (count, ty) = locals_reader.read().map_err(error)?;
        let ty = wasm_value_type(ty)?;
        if local_types.len() as u64 + u64::from(count) > 50_000 {
            return Err("more than 50000 locals".into());
        }
        local_types.extend(std::iter::repeat_n(ty, count as usize));
    }
    let osr = match env.osr_loop {
        None => {
            let params: Vec<Value> = builder.block_params(entry)[1..].to_vec();
            for (position, ty) in local_types.iter().enumerate() {
                let var = builder.declare_var(*ty);
                let value = match params.get(position) {
                    Some(param) => *param,
                    None => zero(&mut builder, *ty),
                };
                builder.def_var(var, value);
                locals.push(var);
            }
            None
        }
        Some(ordinal) => {
            // The entry loads the locals, then goes to the dispatch block, which
            // `open_loop` fills with the operand stack's loads and the jump to the
            // header. The normal start follows in a block nothing reaches.
            let state = builder.block_params(entry)[1];
            let (offsets, locals_slots) = abi::slot_layout(&local_types);
            for (ty, offset) in local_types.iter().zip(offsets) {
                let var = builder.declare_var(*ty);
                let value = builder
                    .ins()
                    .load(*ty, STATE_FLAGS, state, slot_offset(offset)?);
                builder.def_var(var, value);
                locals.push(var);
            }
            let dispatch = builder.create_block();
            builder.ins().jump(dispatch, &[]);
            builder.seal_block(dispatch);
            let normal_start = builder.create_block();
            builder.switch_to_block(normal_start);
            builder.seal_block(normal_start);
            for (var, ty) in locals.iter().zip(&local_types) {
                let zero = zero(&mut builder, *ty);
                builder.def_var(*var, zero);
            }
            Some(OsrTarget {
                ordinal,
                state,
                locals_slots,
                dispatch,
                entered: false,
            })
        }
    };

    let results: Vec<Type> = ty.results().iter().map(|ty| abi::value_type(*ty)).collect();
    let function_exit = builder.create_block();
    for ty in &results {
        builder.append_block_param(function_exit, *ty);
    }
    let mut translator = Translator {
        builder,
        env,
        func_index: index,
        vmctx,
        locals,
        osr,
        loops_seen: 0,
        stack: Vec::new(),
        control: vec![Control {
            kind: ControlKind::Function,
            next: function_exit,
            header: None,
            else_block: None,
            height: 0,
            num_params: 0,
            num_results: results.len(),
            next_reachable: false,
            bounds_mark: 0,
            header_prefix: Vec::new(),
        }],
        reachable: true,
        dead_depth: 0,
        unwind: None,
        trap_sites: Vec::new(),
        status_sites: Vec::new(),
        signatures: HashMap::new(),
        host_call_signature: None,
        functions: HashMap::new(),
        libcalls: HashMap::new(),
        heap: MemFlagsData::new()
            .with_notrap()
            .with_endianness(Endianness::Little)
            .with_alias_region(Some(heap_region)),
        vmctx_flags: MemFlagsData::trusted().with_alias_region(Some(vmctx_region)),
        table_flags: MemFlagsData::trusted().with_alias_region(Some(table_region)),
        global_flags: MemFlagsData::trusted().with_alias_region(Some(global_region)),
        readonly: MemFlagsData::trusted().with_readonly().with_can_move(),
        bounds: HashMap::new(),
        bounds_log: Vec::new(),
        fuel: None,
    };
    translator.load_fuel_on_entry();

    let mut meter = Meter::new(env.instrumentation, &body).map_err(error)?;
    let mut operators = body.get_operators_reader().map_err(error)?;
    while !translator.control.is_empty() {
        let operator = operators.read().map_err(error)?;
        let probe = meter.before(&operator);
        if probe != Probe::default() && translator.reachable {
            translator.probe(probe);
        }
        translator.operator(operator)?;
    }
    if translator.osr.as_ref().is_some_and(|osr| !osr.entered) {
        return Err(format!(
            "function {index} has no reachable loop {}",
            env.osr_loop.unwrap_or_default()
        ));
    }
    let results = if translator.osr.is_some() {
        Vec::new()
    } else {
        results
    };
    translator.finish(&results);
    Ok(())
}

/// A byte offset in an on-stack-replacement state buffer, as an immediate.
fn slot_offset(offset: usize) -> Result<i32, String> {
    i32::try_from(offset).map_err(|_| "too many values for an on-stack replacement".into())
}

/// Accesses to a buffer of raw slots (an on-stack-replacement state, a values buffer):
/// 8-byte aligned only, so not `aligned`, which would let Cranelift fold a `v128` load into
/// an instruction that needs 16-byte alignment.
const STATE_FLAGS: MemFlagsData = MemFlagsData::new().with_notrap();

/// An on-stack-replacement entry under translation.
struct OsrTarget {
    /// The loop's ordinal.
    ordinal: u32,
    /// The state buffer (the entry's second parameter).
    state: Value,
    /// How many raw slots the locals take at the start of the state buffer.
    locals_slots: usize,
    /// Reached from the entry block once the locals are loaded; filled when the loop opens.
    dispatch: ir::Block,
    /// The loop was reached and the dispatch block filled.
    entered: bool,
}

fn error(error: wasmparser::BinaryReaderError) -> String {
    error.to_string()
}

fn unsupported(what: impl std::fmt::Debug) -> String {
    format!("the JIT does not support {what:?} yet")
}

fn wasm_value_type(ty: wasmparser::ValType) -> Result<Type, String> {
    match ty {
        wasmparser::ValType::I32 => Ok(types::I32),
        wasmparser::ValType::I64 => Ok(types::I64),
        wasmparser::ValType::F32 => Ok(types::F32),
        wasmparser::ValType::F64 => Ok(types::F64),
        wasmparser::ValType::Ref(_) => Ok(types::I64),
        wasmparser::ValType::V128 => Ok(abi::V128),
    }
}

/// The zero value of `ty` (the initial value of a local; a placeholder result).
pub(crate) fn zero(builder: &mut FunctionBuilder<'_>, ty: Type) -> Value {
    match ty {
        types::F32 => builder.ins().f32const(Ieee32::with_bits(0)),
        types::F64 => builder.ins().f64const(Ieee64::with_bits(0)),
        ty if ty.is_vector() => {
            let zeros = builder.func.dfg.constants.insert(vec![0u8; 16].into());
            builder.ins().vconst(ty, zeros)
        }
        _ => builder.ins().iconst(ty, 0),
    }
}

/// Declares libcall `libcall` in the function being built.
pub(crate) fn import_libcall(
    builder: &mut FunctionBuilder<'_>,
    env: &ModuleEnv<'_>,
    libcall: Libcall,
) -> FuncRef {
    let signature = builder.import_signature(libcall.signature(env.call_conv, env.pointer_type));
    let position = Libcall::ALL
        .iter()
        .position(|candidate| *candidate == libcall)
        .expect("every libcall is listed") as u32;
    let name = builder
        .func
        .declare_imported_user_function(UserExternalName::new(NAMESPACE_LIBCALL, position));
    builder.import_function(ExtFuncData {
        name: ExternalName::user(name),
        signature,
        colocated: false,
        patchable: false,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ControlKind {
    Block,
    Loop,
    /// An `if` whose `else` has not been seen (`else_block` is its false branch).
    If,
    Else,
    Function,
}

#[derive(Debug)]
struct Control {
    kind: ControlKind,
    /// Where the block's end continues; its parameters are the block's results.
    next: ir::Block,
    /// A loop's header; its parameters are the loop's parameters.
    header: Option<ir::Block>,
    /// An `if`'s false branch until `else` is seen; its parameters are the block's.
    else_block: Option<ir::Block>,
    /// Value-stack height below the block's parameters.
    height: usize,
    num_params: usize,
    num_results: usize,
    /// Some branch or fall-through goes to `next`.
    next_reachable: bool,
    /// Length of `Translator::bounds_log` when the block opened: the bounds known there hold
    /// everywhere in the block and after it.
    bounds_mark: usize,
    /// For the loop of an on-stack-replacement entry: the header's first parameters, the
    /// values of the enclosing blocks, which every branch to the header passes on.
    header_prefix: Vec<Value>,
}

struct Translator<'a, 'b> {
    builder: FunctionBuilder<'b>,
    env: &'a ModuleEnv<'a>,
    func_index: FuncIndex,
    vmctx: Value,
    locals: Vec<Variable>,
    /// Set when translating an on-stack-replacement entry.
    osr: Option<OsrTarget>,
    /// `loop` instructions read so far, reachable or not.
    loops_seen: u32,
    stack: Vec<Value>,
    control: Vec<Control>,
    reachable: bool,
    /// Blocks opened in unreachable code, skipped whole.
    dead_depth: u32,
    /// The unwind block (one `i32` parameter, the status), made on first use.
    unwind: Option<ir::Block>,
    /// The cold block of each trap site, filled in by `finish`.
    trap_sites: Vec<(ir::Block, TrapCode)>,
    /// The cold block of each status check (one `i32` parameter), filled in by `finish`.
    status_sites: Vec<ir::Block>,
    signatures: HashMap<u32, SigRef>,
    host_call_signature: Option<SigRef>,
    functions: HashMap<FuncIndex, FuncRef>,
    libcalls: HashMap<Libcall, FuncRef>,
    /// Wasm linear-memory accesses.
    heap: MemFlagsData,
    /// Mutable runtime state: memory and table definitions, function references.
    vmctx_flags: MemFlagsData,
    /// Table elements.
    table_flags: MemFlagsData,
    /// Global values.
    global_flags: MemFlagsData,
    /// Pointers that never change after instantiation.
    readonly: MemFlagsData,
    /// Bounds checks that passed at a point dominating the current one: for (memory, SSA
    /// address value), the largest `offset + size` known to be in bounds. Valid because
    /// memories never shrink. Entries made inside a Wasm block are undone at its `else` and
    /// `end` (which other paths reach too), through `bounds_log`.
    bounds: HashMap<(u32, Value), u64>,
    /// Undo log of `bounds`: each entry's key and previous value.
    bounds_log: Vec<((u32, Value), Option<u64>)>,
    /// With fuel metering: the fuel left, kept in a variable (a register) while this
    /// function runs. `VMStoreContext::fuel` is the truth whenever other code may run or
    /// look: the variable is stored there before every call and return and on every path
    /// that unwinds, and reloaded after every call.
    fuel: Option<Variable>,
}

impl Translator<'_, '_> {
    // ----- stacks -----

    fn push(&mut self, value: Value) {
        self.stack.push(value);
    }

    fn pop(&mut self) -> Value {
        self.stack
            .pop()
            .expect("validated: the operand stack is not empty")
    }

    fn pop2(&mut self) -> (Value, Value) {
        let b = self.pop();
        let a = self.pop();
        (a, b)
    }

    fn pop3(&mut self) -> (Value, Value, Value) {
        let c = self.pop();
        let (a, b) = self.pop2();
        (a, b, c)
    }

    /// The top `n` values, in stack order.
    fn top(&self, n: usize) -> &[Value] {
        &self.stack[self.stack.len() - n..]
    }

    fn pop_n(&mut self, n: usize) -> Vec<Value> {
        let values = self.top(n).to_vec();
        self.stack.truncate(self.stack.len() - n);
        values
    }

    fn block_args(values: &[Value]) -> Vec<BlockArg> {
        values.iter().map(|value| BlockArg::Value(*value)).collect()
    }

    fn block_types(&self, block_type: BlockType) -> Result<(Vec<Type>, Vec<Type>), String> {
        match block_type {
            BlockType::Empty => Ok((Vec::new(), Vec::new())),
            BlockType::Type(ty) => Ok((Vec::new(), vec![wasm_value_type(ty)?])),
            BlockType::FuncType(index) => {
                let ty = &self.env.info.types[index as usize];
                let params = ty.params().iter().map(|ty| abi::value_type(*ty)).collect();
                let results = ty.results().iter().map(|ty| abi::value_type(*ty)).collect();
                Ok((params, results))
            }
        }
    }

    fn block_with_params(&mut self, types: &[Type]) -> ir::Block {
        let block = self.builder.create_block();
        for ty in types {
            self.builder.append_block_param(block, *ty);
        }
        block
    }

    /// Forgets the bounds checks made since `mark`.
    fn restore_bounds(&mut self, mark: usize) {
        while self.bounds_log.len() > mark {
            let (key, previous) = self.bounds_log.pop().expect("checked length");
            match previous {
                Some(end) => self.bounds.insert(key, end),
                None => self.bounds.remove(&key),
            };
        }
    }

    fn remember_bounds(&mut self, key: (u32, Value), end: u64) {
        let previous = self.bounds.insert(key, end);
        self.bounds_log.push((key, previous));
    }

    // ----- traps and status -----

    fn unwind_block(&mut self) -> ir::Block {
        if let Some(block) = self.unwind {
            return block;
        }
        let block = self.builder.create_block();
        self.builder.append_block_param(block, types::I32);
        self.builder.set_cold_block(block);
        self.unwind = Some(block);
        block
    }

    /// A new cold block that traps with `code`.
    fn trap_block(&mut self, code: TrapCode) -> ir::Block {
        let block = self.builder.create_block();
        self.builder.set_cold_block(block);
        self.trap_sites.push((block, code));
        block
    }

    /// Traps with `code` when `condition` is non-zero.
    fn trap_if(&mut self, condition: Value, code: TrapCode) {
        let trap = self.trap_block(code);
        let next = self.builder.create_block();
        self.builder.ins().brif(condition, trap, &[], next, &[]);
        self.builder.switch_to_block(next);
        self.builder.seal_block(next);
    }

    fn trap(&mut self, code: TrapCode) {
        let trap = self.trap_block(code);
        self.builder.ins().jump(trap, &[]);
        self.reachable = false;
    }

    /// Unwinds when a callee's status is not 0.
    fn check_status(&mut self, status: Value) {
        let unwind = self.builder.create_block();
        self.builder.set_cold_block(unwind);
        self.builder.append_block_param(unwind, types::I32);
        self.status_sites.push(unwind);
        let next = self.builder.create_block();
        self.builder
            .ins()
            .brif(status, unwind, &[BlockArg::Value(status)], next, &[]);
        self.builder.switch_to_block(next);
        self.builder.seal_block(next);
    }

    /// Emits the trap and unwind blocks and seals everything.
    fn finish(mut self, results: &[Type]) {
        for (block, code) in std::mem::take(&mut self.trap_sites) {
            self.builder.switch_to_block(block);
            self.builder.seal_block(block);
            self.store_fuel();
            let status = self
                .builder
                .ins()
                .iconst(types::I32, i64::from(Status::Trap(code).encode()));
            let unwind = self.unwind_block();
            self.builder.ins().jump(unwind, &[BlockArg::Value(status)]);
        }
        for block in std::mem::take(&mut self.status_sites) {
            self.builder.switch_to_block(block);
            self.builder.seal_block(block);
            // After a call the variable was reloaded, so this keeps the callee's count;
            // after a trapping libcall it records this function's charges.
            self.store_fuel();
            let status = self.builder.block_params(block)[0];
            let unwind = self.unwind_block();
            self.builder.ins().jump(unwind, &[BlockArg::Value(status)]);
        }
        if let Some(unwind) = self.unwind {
            self.builder.switch_to_block(unwind);
            let status = self.builder.block_params(unwind)[0];
            let record = self.libcall(Libcall::RecordFrame);
            let index = self.iconst32(self.func_index);
            self.builder.ins().call(record, &[self.vmctx, index]);
            let mut returns = vec![status];
            for ty in results {
                returns.push(zero(&mut self.builder, *ty));
            }
            self.builder.ins().return_(&returns);
        }
        self.builder.seal_all_blocks();
        self.builder.finalize(self.env.frontend_config);
    }

    // ----- fuel and epochs (see `kestrel_vm::instrument`) -----

    /// Emits an epoch check and a fuel charge, in that order, exactly where the interpreter
    /// does.
    fn probe(&mut self, probe: Probe) {
        if probe.check_epoch {
            self.check_epoch();
        }
        if probe.fuel > 0 {
            self.consume_fuel(probe.fuel);
        }
    }

    /// Traps with `Interrupt` when `*store.epoch_counter >= store.epoch_deadline`.
    fn check_epoch(&mut self) {
        let store = self.vmctx_field(offset::VMCTX_STORE);
        let pointer = self.pointer();
        let counter = self.builder.ins().load(
            pointer,
            self.readonly,
            store,
            offset::STORE_EPOCH_COUNTER as i32,
        );
        // Atomic, so that it is never hoisted out of a loop or merged with an earlier read:
        // another thread advances the epoch.
        let epoch = self
            .builder
            .ins()
            .atomic_load(types::I64, MemFlagsData::trusted(), counter);
        let deadline = self.builder.ins().load(
            types::I64,
            self.vmctx_flags,
            store,
            offset::STORE_EPOCH_DEADLINE as i32,
        );
        let reached = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, epoch, deadline);
        self.trap_if(reached, TrapCode::Interrupt);
    }

    /// Subtracts `cost` from the fuel left, or traps with `OutOfFuel` (the fuel unchanged)
    /// when less is left.
    fn consume_fuel(&mut self, cost: u64) {
        let var = self
            .fuel
            .expect("fuel metering declares the variable on entry");
        let fuel = self.builder.use_var(var);
        let cost = cost as i64;
        let short = self
            .builder
            .ins()
            .icmp_imm_s(IntCC::SignedLessThan, fuel, cost);
        self.trap_if(short, TrapCode::OutOfFuel);
        let left = self.builder.ins().iadd_imm_s(fuel, -cost);
        self.builder.def_var(var, left);
    }

    /// With fuel metering, declares the fuel variable and loads it from the store.
    fn load_fuel_on_entry(&mut self) {
        if self.env.instrumentation.fuel {
            self.fuel = Some(self.builder.declare_var(types::I64));
            self.reload_fuel();
        }
    }

    /// Reloads the fuel variable from `VMStoreContext::fuel` (after a call, whose callee
    /// may have charged fuel or a host function set it).
    fn reload_fuel(&mut self) {
        if let Some(var) = self.fuel {
            let store = self.vmctx_field(offset::VMCTX_STORE);
            let fuel = self.builder.ins().load(
                types::I64,
                self.vmctx_flags,
                store,
                offset::STORE_FUEL as i32,
            );
            self.builder.def_var(var, fuel);
        }
    }

    /// Stores the fuel variable to `VMStoreContext::fuel` (before a call or return, and
    /// when unwinding).
    fn store_fuel(&mut self) {
        if let Some(var) = self.fuel {
            let store = self.vmctx_field(offset::VMCTX_STORE);
            let fuel = self.builder.use_var(var);
            self.builder
                .ins()
                .store(self.vmctx_flags, fuel, store, offset::STORE_FUEL as i32);
        }
    }

    // ----- references to other code -----

    fn libcall(&mut self, libcall: Libcall) -> FuncRef {
        if let Some(func) = self.libcalls.get(&libcall) {
            return *func;
        }
        let func = import_libcall(&mut self.builder, self.env, libcall);
        self.libcalls.insert(libcall, func);
        func
    }

    /// Calls a libcall and returns its results.
    fn call_libcall(&mut self, libcall: Libcall, args: &[Value]) -> Vec<Value> {
        let func = self.libcall(libcall);
        let mut all = vec![self.vmctx];
        all.extend_from_slice(args);
        let call = self.builder.ins().call(func, &all);
        self.builder.inst_results(call).to_vec()
    }

    /// Calls a libcall that returns a status, and unwinds when it is not 0.
    fn call_trapping_libcall(&mut self, libcall: Libcall, args: &[Value]) {
        let status = self.call_libcall(libcall, args)[0];
        self.check_status(status);
    }

    fn wasm_signature(&mut self, type_index: u32) -> Result<SigRef, String> {
        if let Some(signature) = self.signatures.get(&type_index) {
            return Ok(*signature);
        }
        let ty = &self.env.info.types[type_index as usize];
        let signature = self.builder.import_signature(abi::wasm_signature(
            ty,
            self.env.call_conv,
            self.env.pointer_type,
        )?);
        self.signatures.insert(type_index, signature);
        Ok(signature)
    }

    /// The signature of a host function's host-call entry ([`abi::HostCall`]).
    fn host_call_signature(&mut self) -> SigRef {
        if let Some(signature) = self.host_call_signature {
            return signature;
        }
        let signature = self.builder.import_signature(abi::host_call_signature(
            self.env.call_conv,
            self.env.pointer_type,
        ));
        self.host_call_signature = Some(signature);
        signature
    }

    fn defined_function(&mut self, index: FuncIndex) -> Result<FuncRef, String> {
        if let Some(func) = self.functions.get(&index) {
            return Ok(*func);
        }
        let signature = self.wasm_signature(self.env.info.functions[index as usize])?;
        let name = self
            .builder
            .func
            .declare_imported_user_function(UserExternalName::new(NAMESPACE_FUNCTION, index));
        let func = self.builder.import_function(ExtFuncData {
            name: ExternalName::user(name),
            signature,
            colocated: true,
            patchable: false,
        });
        self.functions.insert(index, func);
        Ok(func)
    }

    // ----- constants and loads -----

    fn iconst32(&mut self, value: u32) -> Value {
        self.builder.ins().iconst(types::I32, i64::from(value))
    }

    fn iconst64(&mut self, value: u64) -> Value {
        self.builder.ins().iconst(types::I64, value as i64)
    }

    fn pointer(&self) -> Type {
        self.env.pointer_type
    }

    /// A read-only pointer field of the `VMContext`.
    fn vmctx_field(&mut self, field: usize) -> Value {
        let pointer = self.pointer();
        self.builder
            .ins()
            .load(pointer, self.readonly, self.vmctx, field as i32)
    }

    /// Entry `index` of the read-only pointer array at `VMContext` field `field`.
    fn vmctx_array_entry(&mut self, field: usize, index: u32) -> Value {
        let array = self.vmctx_field(field);
        let pointer = self.pointer();
        self.builder
            .ins()
            .load(pointer, self.readonly, array, (index as usize * 8) as i32)
    }

    /// The store index of function `index` of the instance, as an `i64`.
    fn func_id(&mut self, index: FuncIndex) -> Value {
        let array = self.vmctx_field(offset::VMCTX_FUNC_IDS);
        let id = self.builder.ins().load(
            types::I32,
            self.readonly,
            array,
            (index as usize * 4) as i32,
        );
        self.builder.ins().uextend(types::I64, id)
    }

    /// Widens a Wasm address or length to 64 bits (32-bit memories and tables).
    fn extend_index(&mut self, value: Value, is_64: bool) -> Value {
        if is_64 {
            value
        } else {
            self.builder.ins().uextend(types::I64, value)
        }
    }

    fn bool_to_i32(&mut self, condition: Value) -> Value {
        self.builder.ins().uextend(types::I32, condition)
    }

    // ----- control -----

    fn open_block(&mut self, block_type: BlockType) -> Result<(), String> {
        let (params, results) = self.block_types(block_type)?;
        let next = self.block_with_params(&results);
        self.control.push(Control {
            kind: ControlKind::Block,
            next,
            header: None,
            else_block: None,
            height: self.stack.len() - params.len(),
            num_params: params.len(),
            num_results: results.len(),
            next_reachable: false,
            bounds_mark: self.bounds_log.len(),
            header_prefix: Vec::new(),
        });
        Ok(())
    }

    fn open_loop(&mut self, block_type: BlockType) -> Result<(), String> {
        let ordinal = self.loops_seen - 1;
        if self
            .osr
            .as_ref()
            .is_some_and(|osr| osr.ordinal == ordinal && !osr.entered)
        {
            return self.open_osr_loop(block_type);
        }
        let (params, results) = self.block_types(block_type)?;
        let header = self.block_with_params(&params);
        let next = self.block_with_params(&results);
        let args = Self::block_args(&self.pop_n(params.len()));
        self.builder.ins().jump(header, &args);
        self.builder.switch_to_block(header);
        let header_params = self.builder.block_params(header).to_vec();
        self.control.push(Control {
            kind: ControlKind::Loop,
            next,
            header: Some(header),
            else_block: None,
            height: self.stack.len(),
            num_params: params.len(),
            num_results: results.len(),
            next_reachable: false,
            bounds_mark: self.bounds_log.len(),
            header_prefix: Vec::new(),
        });
        self.stack.extend(header_params);
        Ok(())
    }

    /// Opens the loop an on-stack-replacement entry enters: its header takes the whole
    /// operand stack, from the code before it and from the state buffer.
    fn open_osr_loop(&mut self, block_type: BlockType) -> Result<(), String> {
        let (params, results) = self.block_types(block_type)?;
        // Inside an outer loop, the code before this one is reachable again through the
        // outer loop's back edge, and its jump here would pass values defined before the
        // outer loop: the interpreter only offers loops with nothing beneath them there
        // (`osr_can_enter` in `interp/src/translate.rs`).
        let beneath = self.stack.len() - params.len();
        let in_outer_loop = self
            .control
            .iter()
            .any(|frame| frame.kind == ControlKind::Loop);
        if beneath > 0 && in_outer_loop {
            return Err(
                "on-stack replacement needs an empty operand stack beneath a loop \
                        inside another loop"
                    .into(),
            );
        }
        let types: Vec<Type> = self
            .stack
            .iter()
            .map(|value| self.builder.func.dfg.value_type(*value))
            .collect();
        let header = self.block_with_params(&types);
        let next = self.block_with_params(&results);
        let args = Self::block_args(&self.stack);
        self.builder.ins().jump(header, &args);

        let osr = self.osr.as_mut().expect("checked by the caller");
        osr.entered = true;
        let (state, dispatch, locals_slots) = (osr.state, osr.dispatch, osr.locals_slots);
        self.builder.switch_to_block(dispatch);
        // The fuel variable was loaded in the unreachable normal start; this path loads
        // it too.
        self.reload_fuel();
        let (offsets, _) = abi::slot_layout(&types);
        let mut loaded = Vec::with_capacity(types.len());
        for (ty, offset) in types.iter().zip(offsets) {
            let offset = slot_offset(locals_slots * 8 + offset)?;
            loaded.push(self.builder.ins().load(*ty, STATE_FLAGS, state, offset));
        }
        let args = Self::block_args(&loaded);
        self.builder.ins().jump(header, &args);

        self.builder.switch_to_block(header);
        let header_params = self.builder.block_params(header).to_vec();
        let height = header_params.len() - params.len();
        // Bounds checked before the loop no longer dominate it (the entry skips them),
        // and no block around it may restore them either.
        self.restore_bounds(0);
        for frame in &mut self.control {
            frame.bounds_mark = 0;
        }
        self.control.push(Control {
            kind: ControlKind::Loop,
            next,
            header: Some(header),
            else_block: None,
            height,
            num_params: params.len(),
            num_results: results.len(),
            next_reachable: false,
            bounds_mark: 0,
            header_prefix: header_params[..height].to_vec(),
        });
        self.stack = header_params;
        Ok(())
    }

    fn open_if(&mut self, block_type: BlockType) -> Result<(), String> {
        let condition = self.pop();
        let (params, results) = self.block_types(block_type)?;
        let then_block = self.builder.create_block();
        let else_block = self.block_with_params(&params);
        let next = self.block_with_params(&results);
        let args = Self::block_args(self.top(params.len()));
        self.builder
            .ins()
            .brif(condition, then_block, &[], else_block, &args);
        self.builder.switch_to_block(then_block);
        self.builder.seal_block(then_block);
        self.control.push(Control {
            kind: ControlKind::If,
            next,
            header: None,
            else_block: Some(else_block),
            height: self.stack.len() - params.len(),
            num_params: params.len(),
            num_results: results.len(),
            next_reachable: false,
            bounds_mark: self.bounds_log.len(),
            header_prefix: Vec::new(),
        });
        Ok(())
    }

    fn else_(&mut self) {
        let frame = self
            .control
            .last_mut()
            .expect("validated: else matches an if");
        let (next, num_results, height) = (frame.next, frame.num_results, frame.height);
        let else_block = frame.else_block.take().expect("validated: one else per if");
        frame.kind = ControlKind::Else;
        let bounds_mark = frame.bounds_mark;
        if self.reachable {
            let args = Self::block_args(self.top(num_results));
            self.builder.ins().jump(next, &args);
            self.control
                .last_mut()
                .expect("checked above")
                .next_reachable = true;
        }
        self.builder.switch_to_block(else_block);
        self.builder.seal_block(else_block);
        self.restore_bounds(bounds_mark);
        self.stack.truncate(height);
        let params = self.builder.block_params(else_block).to_vec();
        self.stack.extend(params);
        self.reachable = true;
    }

    fn end(&mut self) {
        let frame = self
            .control
            .last_mut()
            .expect("validated: end matches a block");
        let (next, num_results, height) = (frame.next, frame.num_results, frame.height);
        let mut frame = self.control.pop().expect("checked above");
        if self.reachable {
            let args = Self::block_args(self.top(num_results));
            self.builder.ins().jump(next, &args);
            frame.next_reachable = true;
        }
        if let Some(else_block) = frame.else_block {
            // An `if` without `else`: the false branch passes the parameters through.
            self.builder.switch_to_block(else_block);
            self.builder.seal_block(else_block);
            let args = Self::block_args(self.builder.block_params(else_block));
            self.builder.ins().jump(next, &args);
        }
        let next_reachable = frame.next_reachable || frame.else_block.is_some();
        if let Some(header) = frame.header {
            self.builder.seal_block(header);
        }
        self.restore_bounds(frame.bounds_mark);
        self.stack.truncate(height);
        if next_reachable {
            self.builder.switch_to_block(next);
            self.builder.seal_block(next);
            let results = self.builder.block_params(next).to_vec();
            self.stack.extend(results);
            self.reachable = true;
        } else {
            self.reachable = false;
        }
        if frame.kind == ControlKind::Function && self.reachable {
            let values = self.pop_n(num_results);
            self.return_values(&values);
        }
    }

    fn return_values(&mut self, values: &[Value]) {
        self.store_fuel();
        let mut returns = vec![self.iconst32(Status::Ok.encode())];
        match &self.osr {
            None => returns.extend_from_slice(values),
            Some(osr) => {
                // An on-stack-replacement entry returns its results in the state buffer,
                // stored as the entry trampolines store them.
                let state = osr.state;
                let types: Vec<Type> = values
                    .iter()
                    .map(|value| self.builder.func.dfg.value_type(*value))
                    .collect();
                let (offsets, _) = abi::slot_layout(&types);
                for (value, offset) in values.iter().zip(offsets) {
                    // The results are at most the function's, far below 2^31 bytes.
                    let offset = offset as i32;
                    self.builder.ins().store(STATE_FLAGS, *value, state, offset);
                }
            }
        }
        self.builder.ins().return_(&returns);
        self.reachable = false;
    }

    /// The block a branch to `depth` goes to, and the values it carries.
    fn branch_target(&mut self, depth: u32) -> (ir::Block, Vec<BlockArg>) {
        let index = self.control.len() - 1 - depth as usize;
        let frame = &mut self.control[index];
        let (target, arity, prefix) = match frame.header {
            Some(header) => (header, frame.num_params, frame.header_prefix.as_slice()),
            None => {
                frame.next_reachable = true;
                (frame.next, frame.num_results, &[][..])
            }
        };
        let mut args = Self::block_args(prefix);
        args.extend(Self::block_args(&self.stack[self.stack.len() - arity..]));
        (target, args)
    }

    fn br(&mut self, depth: u32) {
        let (target, args) = self.branch_target(depth);
        self.builder.ins().jump(target, &args);
        self.reachable = false;
    }

    fn br_if(&mut self, depth: u32) {
        let condition = self.pop();
        let (target, args) = self.branch_target(depth);
        let next = self.builder.create_block();
        self.builder.ins().brif(condition, target, &args, next, &[]);
        self.builder.switch_to_block(next);
        self.builder.seal_block(next);
    }

    fn br_table(&mut self, targets: wasmparser::BrTable<'_>) -> Result<(), String> {
        let index = self.pop();
        let mut calls = Vec::new();
        let mut depths: Vec<u32> = targets.targets().collect::<Result<_, _>>().map_err(error)?;
        depths.push(targets.default());
        for depth in depths {
            let (target, args) = self.branch_target(depth);
            calls.push(self.builder.func.dfg.block_call(target, &args));
        }
        let default = calls.pop().expect("a br_table has a default");
        let table = self
            .builder
            .create_jump_table(JumpTableData::new(default, &calls));
        self.builder.ins().br_table(index, table);
        self.reachable = false;
        Ok(())
    }

    /// Skips operators in unreachable code; `true` when `operator` was skipped.
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

    // ----- calls -----

    fn call(&mut self, index: FuncIndex) -> Result<(), String> {
        let info = self.env.info;
        let type_index = info.functions[index as usize];
        let num_params = info.types[type_index as usize].params().len();
        let args = self.pop_n(num_params);
        // A function compiled alone (a tier-up) still calls itself directly: it is in the
        // same code allocation. Not an on-stack-replacement entry, whose recursive calls
        // need the function's normal entry.
        let direct = !info.is_imported_function(index)
            && (self.env.direct_calls || (index == self.func_index && self.env.osr_loop.is_none()));
        let results = if !direct {
            let func_id = self.func_id(index);
            let func_ref = self.func_ref_address(func_id);
            self.call_func_ref(func_ref, func_id, type_index, &args)?
        } else {
            let callee = self.defined_function(index)?;
            let mut all = vec![self.vmctx];
            all.extend_from_slice(&args);
            self.store_fuel();
            let call = self.builder.ins().call(callee, &all);
            let results = self.builder.inst_results(call).to_vec();
            self.reload_fuel();
            self.check_status(results[0]);
            results[1..].to_vec()
        };
        self.stack.extend(results);
        Ok(())
    }

    /// The address of `VMStoreContext::func_refs[func_id]`, trapping (defensively) when
    /// the id is out of range.
    fn func_ref_address(&mut self, func_id: Value) -> Value {
        let store = self.vmctx_field(offset::VMCTX_STORE);
        let pointer = self.pointer();
        let length = self.builder.ins().load(
            types::I64,
            self.vmctx_flags,
            store,
            offset::STORE_FUNC_REFS_LEN as i32,
        );
        let out_of_range =
            self.builder
                .ins()
                .icmp(IntCC::UnsignedGreaterThanOrEqual, func_id, length);
        self.trap_if(out_of_range, TrapCode::UndefinedElement);
        let refs = self.builder.ins().load(
            pointer,
            self.vmctx_flags,
            store,
            offset::STORE_FUNC_REFS as i32,
        );
        let scaled = self
            .builder
            .ins()
            .imul_imm_u(func_id, offset::FUNC_REF_SIZE as i64);
        self.builder.ins().iadd(refs, scaled)
    }

    /// Calls the function described by the `VMFuncRef` at `func_ref` (whose type is
    /// `type_index`): natively when it has compiled code, else through the runtime.
    fn call_func_ref(
        &mut self,
        func_ref: Value,
        func_id: Value,
        type_index: u32,
        args: &[Value],
    ) -> Result<Vec<Value>, String> {
        let ty = &self.env.info.types[type_index as usize];
        let result_types: Vec<Type> = ty.results().iter().map(|ty| abi::value_type(*ty)).collect();
        let param_types: Vec<Type> = ty.params().iter().map(|ty| abi::value_type(*ty)).collect();
        let pointer = self.pointer();
        let code = self.builder.ins().load(
            pointer,
            self.vmctx_flags,
            func_ref,
            offset::FUNC_REF_NATIVE_CALL as i32,
        );
        let native = self.builder.create_block();
        let slow = self.builder.create_block();
        let merge = self.block_with_params(&result_types);
        self.store_fuel();
        self.builder.ins().brif(code, native, &[], slow, &[]);

        self.builder.switch_to_block(native);
        self.builder.seal_block(native);
        let callee_vmctx = self.builder.ins().load(
            pointer,
            self.vmctx_flags,
            func_ref,
            offset::FUNC_REF_VMCTX as i32,
        );
        let signature = self.wasm_signature(type_index)?;
        let mut all = vec![callee_vmctx];
        all.extend_from_slice(args);
        let call = self.builder.ins().call_indirect(signature, code, &all);
        let results = self.builder.inst_results(call).to_vec();
        self.reload_fuel();
        self.check_status(results[0]);
        let merge_args = Self::block_args(&results[1..]);
        self.builder.ins().jump(merge, &merge_args);

        self.builder.switch_to_block(slow);
        self.builder.seal_block(slow);
        // The values buffer in vm's raw slots (a `v128` in two, low half first, so only
        // 8-byte aligned: accessed with `STATE_FLAGS`).
        let (param_offsets, param_slots) = abi::slot_layout(&param_types);
        let (result_offsets, result_slots) = abi::slot_layout(&result_types);
        let slots = param_slots.max(result_slots).max(1);
        let size = u32::try_from(slots * 8).map_err(|_| "too many parameters or results")?;
        let slot = self.builder.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            size,
            3,
        ));
        let values = self.builder.ins().stack_addr(pointer, slot, 0);
        for (arg, offset) in args.iter().zip(&param_offsets) {
            self.builder
                .ins()
                .store(STATE_FLAGS, *arg, values, *offset as i32);
        }
        // A linked host function: its host-call entry, with the function itself as
        // context (see `abi`). Otherwise the runtime, which finds out what `func_id` is.
        let host_call = self.builder.ins().load(
            pointer,
            self.vmctx_flags,
            func_ref,
            offset::FUNC_REF_ARRAY_CALL as i32,
        );
        let host = self.builder.create_block();
        let runtime = self.builder.create_block();
        let called = self.block_with_params(&[types::I32]);
        self.builder.ins().brif(host_call, host, &[], runtime, &[]);

        self.builder.switch_to_block(host);
        self.builder.seal_block(host);
        let host_func = self.builder.ins().load(
            pointer,
            self.vmctx_flags,
            func_ref,
            offset::FUNC_REF_VMCTX as i32,
        );
        let signature = self.host_call_signature();
        let len = self.builder.ins().iconst(pointer, slots as i64);
        let call = self.builder.ins().call_indirect(
            signature,
            host_call,
            &[host_func, self.vmctx, values, len],
        );
        let status = self.builder.inst_results(call)[0];
        self.builder.ins().jump(called, &[BlockArg::Value(status)]);

        self.builder.switch_to_block(runtime);
        self.builder.seal_block(runtime);
        let func_id = self.builder.ins().ireduce(types::I32, func_id);
        let len = self.iconst64(slots as u64);
        let status = self.call_libcall(Libcall::CallFunc, &[func_id, values, len])[0];
        self.builder.ins().jump(called, &[BlockArg::Value(status)]);

        self.builder.switch_to_block(called);
        self.builder.seal_block(called);
        let status = self.builder.block_params(called)[0];
        self.reload_fuel();
        self.check_status(status);
        let mut results = Vec::new();
        for (ty, offset) in result_types.iter().zip(&result_offsets) {
            results.push(
                self.builder
                    .ins()
                    .load(*ty, STATE_FLAGS, values, *offset as i32),
            );
        }
        let merge_args = Self::block_args(&results);
        self.builder.ins().jump(merge, &merge_args);

        self.builder.switch_to_block(merge);
        self.builder.seal_block(merge);
        Ok(self.builder.block_params(merge).to_vec())
    }

    fn call_indirect(&mut self, type_index: u32, table: u32) -> Result<(), String> {
        let table64 = self.env.info.tables[table as usize].table64;
        let element_index = self.pop();
        let num_params = self.env.info.types[type_index as usize].params().len();
        let args = self.pop_n(num_params);
        let element_index = self.extend_index(element_index, table64);
        let element = self.table_element_address(table, element_index, TrapCode::UndefinedElement);
        let raw = self
            .builder
            .ins()
            .load(types::I64, self.table_flags, element, 0);
        let is_null = self.builder.ins().icmp_imm_s(IntCC::Equal, raw, 0);
        self.trap_if(is_null, TrapCode::IndirectCallToNull);
        let func_id = self.builder.ins().iadd_imm_s(raw, -1);
        let func_ref = self.func_ref_address(func_id);
        let type_id = self.builder.ins().load(
            types::I32,
            self.vmctx_flags,
            func_ref,
            offset::FUNC_REF_TYPE_ID as i32,
        );
        let expected = self.env.type_ids[type_index as usize].0;
        let mismatch = self
            .builder
            .ins()
            .icmp_imm_s(IntCC::NotEqual, type_id, i64::from(expected));
        self.trap_if(mismatch, TrapCode::BadSignature);
        let results = self.call_func_ref(func_ref, func_id, type_index, &args)?;
        self.stack.extend(results);
        Ok(())
    }

    // ----- memories -----

    /// The `VMMemoryDefinition` of memory `index`.
    fn memory_definition(&mut self, index: u32) -> Value {
        self.vmctx_array_entry(offset::VMCTX_MEMORIES, index)
    }

    /// Pops an address and returns the native address of the `size`-byte access at
    /// `memarg`, after the bounds check.
    fn heap_address(&mut self, memarg: &MemArg, size: u64) -> Result<Value, String> {
        let wasmparser::MemArgTarget::Memory(memory) = memarg.target else {
            return Err(unsupported(memarg.target));
        };
        if memarg.ordering.is_some() {
            return Err(unsupported("atomic memory orderings"));
        }
        let wasm_index = self.pop();
        let memory64 = self.env.info.memories[memory as usize].memory64;
        let definition = self.memory_definition(memory);
        let index = self.extend_index(wasm_index, memory64);
        let end_offset = memarg.offset.checked_add(size);
        let known = self.bounds.get(&(memory, wasm_index)).copied();
        match end_offset {
            Some(end_offset) if known.is_some_and(|known| end_offset <= known) => {}
            Some(end_offset) if !memory64 => {
                let length = self.load_memory_length(definition);
                // index < 2^32 and end_offset < 2^32 + 8: no overflow in 64 bits.
                let end = self.builder.ins().iadd_imm_u(index, end_offset as i64);
                let out = self
                    .builder
                    .ins()
                    .icmp(IntCC::UnsignedGreaterThan, end, length);
                self.trap_if(out, TrapCode::MemoryOutOfBounds);
                self.remember_bounds((memory, wasm_index), end_offset);
            }
            Some(end_offset) => {
                let length = self.load_memory_length(definition);
                let end_constant = self.iconst64(end_offset);
                let (end, overflow) = self.builder.ins().uadd_overflow(index, end_constant);
                self.trap_if(overflow, TrapCode::MemoryOutOfBounds);
                let out = self
                    .builder
                    .ins()
                    .icmp(IntCC::UnsignedGreaterThan, end, length);
                self.trap_if(out, TrapCode::MemoryOutOfBounds);
                self.remember_bounds((memory, wasm_index), end_offset);
            }
            None => {
                // offset + size overflows: every access is out of bounds.
                let always = self.iconst32(1);
                self.trap_if(always, TrapCode::MemoryOutOfBounds);
            }
        }
        let pointer = self.pointer();
        let base = self.builder.ins().load(
            pointer,
            self.vmctx_flags,
            definition,
            offset::MEMORY_BASE as i32,
        );
        let address = self.builder.ins().iadd(base, index);
        Ok(if memarg.offset == 0 {
            address
        } else {
            self.builder.ins().iadd_imm_u(address, memarg.offset as i64)
        })
    }

    fn load_memory_length(&mut self, definition: Value) -> Value {
        self.builder.ins().load(
            types::I64,
            self.vmctx_flags,
            definition,
            offset::MEMORY_CURRENT_LENGTH as i32,
        )
    }

    fn load(&mut self, memarg: &MemArg, ty: Type, kind: LoadKind) -> Result<(), String> {
        let size = match kind {
            LoadKind::Full => u64::from(ty.bytes()),
            LoadKind::U8 | LoadKind::S8 => 1,
            LoadKind::U16 | LoadKind::S16 => 2,
            LoadKind::U32 | LoadKind::S32 => 4,
        };
        let address = self.heap_address(memarg, size)?;
        let flags = self.heap;
        let ins = self.builder.ins();
        let value = match kind {
            LoadKind::Full => ins.load(ty, flags, address, 0),
            LoadKind::U8 => ins.uload8(ty, flags, address, 0),
            LoadKind::S8 => ins.sload8(ty, flags, address, 0),
            LoadKind::U16 => ins.uload16(ty, flags, address, 0),
            LoadKind::S16 => ins.sload16(ty, flags, address, 0),
            LoadKind::U32 => ins.uload32(flags, address, 0),
            LoadKind::S32 => ins.sload32(flags, address, 0),
        };
        self.push(value);
        Ok(())
    }

    fn store(&mut self, memarg: &MemArg, size: u64) -> Result<(), String> {
        let value = self.pop();
        let is_i64 = self.builder.func.dfg.value_type(value) == types::I64;
        let address = self.heap_address(memarg, size)?;
        let flags = self.heap;
        let ins = self.builder.ins();
        match size {
            1 => ins.istore8(flags, value, address, 0),
            2 => ins.istore16(flags, value, address, 0),
            4 if is_i64 => ins.istore32(flags, value, address, 0),
            _ => ins.store(flags, value, address, 0),
        };
        Ok(())
    }

    fn memory_size(&mut self, memory: u32) {
        let ty = self.env.info.memories[memory as usize];
        let definition = self.memory_definition(memory);
        let length = self.builder.ins().load(
            types::I64,
            self.vmctx_flags,
            definition,
            offset::MEMORY_CURRENT_LENGTH as i32,
        );
        let pages = self
            .builder
            .ins()
            .ushr_imm_u(length, i64::from(ty.page_size_log2));
        let pages = if ty.memory64 {
            pages
        } else {
            self.builder.ins().ireduce(types::I32, pages)
        };
        self.push(pages);
    }

    fn memory_grow(&mut self, memory: u32) {
        let memory64 = self.env.info.memories[memory as usize].memory64;
        let delta = self.pop();
        let delta = self.extend_index(delta, memory64);
        let memory = self.iconst32(memory);
        let old = self.call_libcall(Libcall::MemoryGrow, &[memory, delta])[0];
        let old = if memory64 {
            old
        } else {
            self.builder.ins().ireduce(types::I32, old)
        };
        self.push(old);
    }

    fn is_memory64(&self, memory: u32) -> bool {
        self.env.info.memories[memory as usize].memory64
    }

    fn is_table64(&self, table: u32) -> bool {
        self.env.info.tables[table as usize].table64
    }

    // ----- tables -----

    /// The address of element `index` (an `i64`) of table `table`, trapping with `code`
    /// when it is out of bounds.
    fn table_element_address(&mut self, table: u32, index: Value, code: TrapCode) -> Value {
        let definition = self.vmctx_array_entry(offset::VMCTX_TABLES, table);
        let length = self.builder.ins().load(
            types::I64,
            self.vmctx_flags,
            definition,
            offset::TABLE_CURRENT_ELEMENTS as i32,
        );
        let out = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, index, length);
        self.trap_if(out, code);
        let pointer = self.pointer();
        let base = self.builder.ins().load(
            pointer,
            self.vmctx_flags,
            definition,
            offset::TABLE_BASE as i32,
        );
        let scaled = self.builder.ins().ishl_imm_u(index, 3);
        self.builder.ins().iadd(base, scaled)
    }

    fn table_size(&mut self, table: u32) {
        let definition = self.vmctx_array_entry(offset::VMCTX_TABLES, table);
        let length = self.builder.ins().load(
            types::I64,
            self.vmctx_flags,
            definition,
            offset::TABLE_CURRENT_ELEMENTS as i32,
        );
        let length = if self.is_table64(table) {
            length
        } else {
            self.builder.ins().ireduce(types::I32, length)
        };
        self.push(length);
    }

    // ----- globals -----

    fn global_cell(&mut self, index: u32) -> Value {
        self.vmctx_array_entry(offset::VMCTX_GLOBALS, index)
    }

    fn global_get(&mut self, index: u32) -> Result<(), String> {
        let global = self.env.info.globals[index as usize];
        let ty = abi::value_type(global.content);
        let cell = self.global_cell(index);
        let flags = if global.mutable {
            self.global_flags
        } else {
            self.readonly
        };
        let value = self
            .builder
            .ins()
            .load(ty, flags, cell, offset::GLOBAL_BITS as i32);
        self.push(value);
        Ok(())
    }

    fn global_set(&mut self, index: u32) {
        let value = self.pop();
        let cell = self.global_cell(index);
        self.builder
            .ins()
            .store(self.global_flags, value, cell, offset::GLOBAL_BITS as i32);
    }

    // ----- numerics -----

    fn binary(&mut self, op: impl FnOnce(&mut FunctionBuilder<'_>, Value, Value) -> Value) {
        let (a, b) = self.pop2();
        let value = op(&mut self.builder, a, b);
        self.push(value);
    }

    fn unary(&mut self, op: impl FnOnce(&mut FunctionBuilder<'_>, Value) -> Value) {
        let a = self.pop();
        let value = op(&mut self.builder, a);
        self.push(value);
    }

    fn icmp(&mut self, cc: IntCC) {
        let (a, b) = self.pop2();
        let condition = self.builder.ins().icmp(cc, a, b);
        let value = self.bool_to_i32(condition);
        self.push(value);
    }

    fn fcmp(&mut self, cc: FloatCC) {
        let (a, b) = self.pop2();
        let condition = self.builder.ins().fcmp(cc, a, b);
        let value = self.bool_to_i32(condition);
        self.push(value);
    }

    fn eqz(&mut self) {
        let a = self.pop();
        let condition = self.builder.ins().icmp_imm_s(IntCC::Equal, a, 0);
        let value = self.bool_to_i32(condition);
        self.push(value);
    }

    fn div(&mut self, signed: bool, remainder: bool) {
        let (a, b) = self.pop2();
        let ty = self.builder.func.dfg.value_type(a);
        let zero_divisor = self.builder.ins().icmp_imm_s(IntCC::Equal, b, 0);
        self.trap_if(zero_divisor, TrapCode::IntegerDivisionByZero);
        let value = match (signed, remainder) {
            (false, false) => self.builder.ins().udiv(a, b),
            (false, true) => self.builder.ins().urem(a, b),
            (true, false) => {
                let min = if ty == types::I32 {
                    i64::from(i32::MIN as u32)
                } else {
                    i64::MIN
                };
                let minus_one = self.builder.ins().icmp_imm_s(IntCC::Equal, b, -1);
                let is_min = self.builder.ins().icmp_imm_s(IntCC::Equal, a, min);
                let overflow = self.builder.ins().band(minus_one, is_min);
                self.trap_if(overflow, TrapCode::IntegerOverflow);
                self.builder.ins().sdiv(a, b)
            }
            (true, true) => {
                // x rem_s -1 is 0 for every x (MIN included); divide by 1 instead.
                let minus_one = self.builder.ins().icmp_imm_s(IntCC::Equal, b, -1);
                let one = self.builder.ins().iconst(ty, 1);
                let divisor = self.builder.ins().select(minus_one, one, b);
                self.builder.ins().srem(a, divisor)
            }
        };
        self.push(value);
    }

    /// A trapping float-to-int truncation: NaN traps "invalid conversion", a value whose
    /// truncation does not fit `to` traps "integer overflow"; valid inputs are those with
    /// `lower < x < upper` (bounds exact in the source type).
    fn trunc(&mut self, to: Type, signed: bool) {
        let x = self.pop();
        let from = self.builder.func.dfg.value_type(x);
        let is_nan = self.builder.ins().fcmp(FloatCC::Unordered, x, x);
        self.trap_if(is_nan, TrapCode::BadConversionToInteger);
        let (lower, upper): (f64, f64) = match (signed, to == types::I64, from == types::F64) {
            (true, false, false) => (-2147483904.0, 2147483648.0),
            (true, false, true) => (-2147483649.0, 2147483648.0),
            (true, true, false) => (-9223373136366403584.0, 9223372036854775808.0),
            (true, true, true) => (-9223372036854777856.0, 9223372036854775808.0),
            (false, false, _) => (-1.0, 4294967296.0),
            (false, true, _) => (-1.0, 18446744073709551616.0),
        };
        let (lower, upper) = if from == types::F64 {
            (
                self.builder.ins().f64const(lower),
                self.builder.ins().f64const(upper),
            )
        } else {
            (
                self.builder.ins().f32const(lower as f32),
                self.builder.ins().f32const(upper as f32),
            )
        };
        let too_small = self.builder.ins().fcmp(FloatCC::LessThanOrEqual, x, lower);
        let too_large = self
            .builder
            .ins()
            .fcmp(FloatCC::GreaterThanOrEqual, x, upper);
        let out = self.builder.ins().bor(too_small, too_large);
        self.trap_if(out, TrapCode::IntegerOverflow);
        let value = if signed {
            self.builder.ins().fcvt_to_sint_sat(to, x)
        } else {
            self.builder.ins().fcvt_to_uint_sat(to, x)
        };
        self.push(value);
    }

    fn extend_signed(&mut self, ty: Type, from: Type) {
        let a = self.pop();
        let narrow = self.builder.ins().ireduce(from, a);
        let value = self.builder.ins().sextend(ty, narrow);
        self.push(value);
    }

    fn bitcast(&mut self, to: Type) {
        let a = self.pop();
        let value = self.builder.ins().bitcast(to, MemFlagsData::new(), a);
        self.push(value);
    }

    // ----- bulk memory and tables -----

    /// Pops `(destination, source, len)` of a bulk operation, each widened to 64 bits.
    fn pop_bulk_operands(
        &mut self,
        destination_64: bool,
        source_64: bool,
        len_64: bool,
    ) -> [Value; 3] {
        let (destination, source, len) = self.pop3();
        [
            self.extend_index(destination, destination_64),
            self.extend_index(source, source_64),
            self.extend_index(len, len_64),
        ]
    }

    // ----- the operator -----

    #[allow(clippy::too_many_lines)]
    fn operator(&mut self, operator: Operator<'_>) -> Result<(), String> {
        if let Operator::Loop { .. } = operator {
            self.loops_seen += 1;
        }
        if self.skip_dead(&operator) {
            return Ok(());
        }
        use Operator as O;
        match operator {
            O::Unreachable => self.trap(TrapCode::Unreachable),
            O::Nop => {}
            O::Block { blockty } => self.open_block(blockty)?,
            O::Loop { blockty } => self.open_loop(blockty)?,
            O::If { blockty } => self.open_if(blockty)?,
            O::Else => self.else_(),
            O::End => self.end(),
            O::Br { relative_depth } => self.br(relative_depth),
            O::BrIf { relative_depth } => self.br_if(relative_depth),
            O::BrTable { targets } => self.br_table(targets)?,
            O::Return => {
                let arity = self.control[0].num_results;
                let values = self.pop_n(arity);
                self.return_values(&values);
            }
            O::Call { function_index } => self.call(function_index)?,
            O::CallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(type_index, table_index)?,
            O::Drop => {
                self.pop();
            }
            O::Select | O::TypedSelect { .. } => {
                let (a, b, condition) = self.pop3();
                let value = self.builder.ins().select(condition, a, b);
                self.push(value);
            }
            O::LocalGet { local_index } => {
                let value = self.builder.use_var(self.locals[local_index as usize]);
                self.push(value);
            }
            O::LocalSet { local_index } => {
                let value = self.pop();
                self.builder
                    .def_var(self.locals[local_index as usize], value);
            }
            O::LocalTee { local_index } => {
                let value = *self.stack.last().expect("validated: a value to tee");
                self.builder
                    .def_var(self.locals[local_index as usize], value);
            }
            O::GlobalGet { global_index } => self.global_get(global_index)?,
            O::GlobalSet { global_index } => self.global_set(global_index),

            O::I32Load { memarg } => self.load(&memarg, types::I32, LoadKind::Full)?,
            O::I64Load { memarg } => self.load(&memarg, types::I64, LoadKind::Full)?,
            O::F32Load { memarg } => self.load(&memarg, types::F32, LoadKind::Full)?,
            O::F64Load { memarg } => self.load(&memarg, types::F64, LoadKind::Full)?,
            O::I32Load8S { memarg } => self.load(&memarg, types::I32, LoadKind::S8)?,
            O::I32Load8U { memarg } => self.load(&memarg, types::I32, LoadKind::U8)?,
            O::I32Load16S { memarg } => self.load(&memarg, types::I32, LoadKind::S16)?,
            O::I32Load16U { memarg } => self.load(&memarg, types::I32, LoadKind::U16)?,
            O::I64Load8S { memarg } => self.load(&memarg, types::I64, LoadKind::S8)?,
            O::I64Load8U { memarg } => self.load(&memarg, types::I64, LoadKind::U8)?,
            O::I64Load16S { memarg } => self.load(&memarg, types::I64, LoadKind::S16)?,
            O::I64Load16U { memarg } => self.load(&memarg, types::I64, LoadKind::U16)?,
            O::I64Load32S { memarg } => self.load(&memarg, types::I64, LoadKind::S32)?,
            O::I64Load32U { memarg } => self.load(&memarg, types::I64, LoadKind::U32)?,
            O::I32Store { memarg } | O::F32Store { memarg } => self.store(&memarg, 4)?,
            O::I64Store { memarg } | O::F64Store { memarg } => self.store(&memarg, 8)?,
            O::I32Store8 { memarg } | O::I64Store8 { memarg } => self.store(&memarg, 1)?,
            O::I32Store16 { memarg } | O::I64Store16 { memarg } => self.store(&memarg, 2)?,
            O::I64Store32 { memarg } => self.store(&memarg, 4)?,
            O::MemorySize { mem } => self.memory_size(mem),
            O::MemoryGrow { mem } => self.memory_grow(mem),

            O::I32Const { value } => {
                let value = self.iconst32(value as u32);
                self.push(value);
            }
            O::I64Const { value } => {
                let value = self.iconst64(value as u64);
                self.push(value);
            }
            O::F32Const { value } => {
                let value = self.builder.ins().f32const(Ieee32::with_bits(value.bits()));
                self.push(value);
            }
            O::F64Const { value } => {
                let value = self.builder.ins().f64const(Ieee64::with_bits(value.bits()));
                self.push(value);
            }

            O::I32Eqz | O::I64Eqz => self.eqz(),
            O::I32Eq | O::I64Eq => self.icmp(IntCC::Equal),
            O::I32Ne | O::I64Ne => self.icmp(IntCC::NotEqual),
            O::I32LtS | O::I64LtS => self.icmp(IntCC::SignedLessThan),
            O::I32LtU | O::I64LtU => self.icmp(IntCC::UnsignedLessThan),
            O::I32GtS | O::I64GtS => self.icmp(IntCC::SignedGreaterThan),
            O::I32GtU | O::I64GtU => self.icmp(IntCC::UnsignedGreaterThan),
            O::I32LeS | O::I64LeS => self.icmp(IntCC::SignedLessThanOrEqual),
            O::I32LeU | O::I64LeU => self.icmp(IntCC::UnsignedLessThanOrEqual),
            O::I32GeS | O::I64GeS => self.icmp(IntCC::SignedGreaterThanOrEqual),
            O::I32GeU | O::I64GeU => self.icmp(IntCC::UnsignedGreaterThanOrEqual),
            O::F32Eq | O::F64Eq => self.fcmp(FloatCC::Equal),
            O::F32Ne | O::F64Ne => self.fcmp(FloatCC::NotEqual),
            O::F32Lt | O::F64Lt => self.fcmp(FloatCC::LessThan),
            O::F32Gt | O::F64Gt => self.fcmp(FloatCC::GreaterThan),
            O::F32Le | O::F64Le => self.fcmp(FloatCC::LessThanOrEqual),
            O::F32Ge | O::F64Ge => self.fcmp(FloatCC::GreaterThanOrEqual),

            O::I32Clz | O::I64Clz => self.unary(|b, a| b.ins().clz(a)),
            O::I32Ctz | O::I64Ctz => self.unary(|b, a| b.ins().ctz(a)),
            O::I32Popcnt | O::I64Popcnt => self.unary(|b, a| b.ins().popcnt(a)),
            O::I32Add | O::I64Add => self.binary(|b, x, y| b.ins().iadd(x, y)),
            O::I32Sub | O::I64Sub => self.binary(|b, x, y| b.ins().isub(x, y)),
            O::I32Mul | O::I64Mul => self.binary(|b, x, y| b.ins().imul(x, y)),
            O::I32DivS | O::I64DivS => self.div(true, false),
            O::I32DivU | O::I64DivU => self.div(false, false),
            O::I32RemS | O::I64RemS => self.div(true, true),
            O::I32RemU | O::I64RemU => self.div(false, true),
            O::I32And | O::I64And => self.binary(|b, x, y| b.ins().band(x, y)),
            O::I32Or | O::I64Or => self.binary(|b, x, y| b.ins().bor(x, y)),
            O::I32Xor | O::I64Xor => self.binary(|b, x, y| b.ins().bxor(x, y)),
            // Cranelift takes shift and rotate amounts modulo the width, as Wasm does.
            O::I32Shl | O::I64Shl => self.binary(|b, x, y| b.ins().ishl(x, y)),
            O::I32ShrS | O::I64ShrS => self.binary(|b, x, y| b.ins().sshr(x, y)),
            O::I32ShrU | O::I64ShrU => self.binary(|b, x, y| b.ins().ushr(x, y)),
            O::I32Rotl | O::I64Rotl => self.binary(|b, x, y| b.ins().rotl(x, y)),
            O::I32Rotr | O::I64Rotr => self.binary(|b, x, y| b.ins().rotr(x, y)),

            // Cranelift's float operations follow IEEE 754 and Wasm's NaN rules; `fmin` and
            // `fmax` are defined with Wasm's semantics (NaN-propagating, -0 < +0).
            O::F32Abs | O::F64Abs => self.unary(|b, a| b.ins().fabs(a)),
            O::F32Neg | O::F64Neg => self.unary(|b, a| b.ins().fneg(a)),
            O::F32Ceil | O::F64Ceil => self.unary(|b, a| b.ins().ceil(a)),
            O::F32Floor | O::F64Floor => self.unary(|b, a| b.ins().floor(a)),
            O::F32Trunc | O::F64Trunc => self.unary(|b, a| b.ins().trunc(a)),
            O::F32Nearest | O::F64Nearest => self.unary(|b, a| b.ins().nearest(a)),
            O::F32Sqrt | O::F64Sqrt => self.unary(|b, a| b.ins().sqrt(a)),
            O::F32Add | O::F64Add => self.binary(|b, x, y| b.ins().fadd(x, y)),
            O::F32Sub | O::F64Sub => self.binary(|b, x, y| b.ins().fsub(x, y)),
            O::F32Mul | O::F64Mul => self.binary(|b, x, y| b.ins().fmul(x, y)),
            O::F32Div | O::F64Div => self.binary(|b, x, y| b.ins().fdiv(x, y)),
            O::F32Min | O::F64Min => self.binary(|b, x, y| b.ins().fmin(x, y)),
            O::F32Max | O::F64Max => self.binary(|b, x, y| b.ins().fmax(x, y)),
            O::F32Copysign | O::F64Copysign => self.binary(|b, x, y| b.ins().fcopysign(x, y)),

            O::I32WrapI64 => self.unary(|b, a| b.ins().ireduce(types::I32, a)),
            O::I64ExtendI32S => self.unary(|b, a| b.ins().sextend(types::I64, a)),
            O::I64ExtendI32U => self.unary(|b, a| b.ins().uextend(types::I64, a)),
            O::I32Extend8S => self.extend_signed(types::I32, types::I8),
            O::I32Extend16S => self.extend_signed(types::I32, types::I16),
            O::I64Extend8S => self.extend_signed(types::I64, types::I8),
            O::I64Extend16S => self.extend_signed(types::I64, types::I16),
            O::I64Extend32S => self.extend_signed(types::I64, types::I32),
            O::I32TruncF32S | O::I32TruncF64S => self.trunc(types::I32, true),
            O::I32TruncF32U | O::I32TruncF64U => self.trunc(types::I32, false),
            O::I64TruncF32S | O::I64TruncF64S => self.trunc(types::I64, true),
            O::I64TruncF32U | O::I64TruncF64U => self.trunc(types::I64, false),
            O::I32TruncSatF32S | O::I32TruncSatF64S => {
                self.unary(|b, a| b.ins().fcvt_to_sint_sat(types::I32, a))
            }
            O::I32TruncSatF32U | O::I32TruncSatF64U => {
                self.unary(|b, a| b.ins().fcvt_to_uint_sat(types::I32, a))
            }
            O::I64TruncSatF32S | O::I64TruncSatF64S => {
                self.unary(|b, a| b.ins().fcvt_to_sint_sat(types::I64, a))
            }
            O::I64TruncSatF32U | O::I64TruncSatF64U => {
                self.unary(|b, a| b.ins().fcvt_to_uint_sat(types::I64, a))
            }
            O::F32ConvertI32S | O::F32ConvertI64S => {
                self.unary(|b, a| b.ins().fcvt_from_sint(types::F32, a))
            }
            O::F32ConvertI32U | O::F32ConvertI64U => {
                self.unary(|b, a| b.ins().fcvt_from_uint(types::F32, a))
            }
            O::F64ConvertI32S | O::F64ConvertI64S => {
                self.unary(|b, a| b.ins().fcvt_from_sint(types::F64, a))
            }
            O::F64ConvertI32U | O::F64ConvertI64U => {
                self.unary(|b, a| b.ins().fcvt_from_uint(types::F64, a))
            }
            O::F32DemoteF64 => self.unary(|b, a| b.ins().fdemote(types::F32, a)),
            O::F64PromoteF32 => self.unary(|b, a| b.ins().fpromote(types::F64, a)),
            O::I32ReinterpretF32 => self.bitcast(types::I32),
            O::I64ReinterpretF64 => self.bitcast(types::I64),
            O::F32ReinterpretI32 => self.bitcast(types::F32),
            O::F64ReinterpretI64 => self.bitcast(types::F64),

            O::RefNull { .. } => {
                let value = self.iconst64(0);
                self.push(value);
            }
            O::RefIsNull => self.eqz(),
            O::RefFunc { function_index } => {
                let id = self.func_id(function_index);
                let value = self.builder.ins().iadd_imm_s(id, 1);
                self.push(value);
            }

            O::MemoryFill { mem } => {
                let is_64 = self.is_memory64(mem);
                let (destination, value, len) = self.pop3();
                let destination = self.extend_index(destination, is_64);
                let len = self.extend_index(len, is_64);
                let memory = self.iconst32(mem);
                self.call_trapping_libcall(Libcall::MemoryFill, &[memory, destination, value, len]);
            }
            O::MemoryCopy { dst_mem, src_mem } => {
                let (destination_64, source_64) =
                    (self.is_memory64(dst_mem), self.is_memory64(src_mem));
                let [destination, source, len] =
                    self.pop_bulk_operands(destination_64, source_64, destination_64 && source_64);
                let destination_memory = self.iconst32(dst_mem);
                let source_memory = self.iconst32(src_mem);
                self.call_trapping_libcall(
                    Libcall::MemoryCopy,
                    &[destination_memory, source_memory, destination, source, len],
                );
            }
            O::MemoryInit { data_index, mem } => {
                let is_64 = self.is_memory64(mem);
                let [destination, source, len] = self.pop_bulk_operands(is_64, false, false);
                let memory = self.iconst32(mem);
                let segment = self.iconst32(data_index);
                self.call_trapping_libcall(
                    Libcall::MemoryInit,
                    &[memory, segment, destination, source, len],
                );
            }
            O::DataDrop { data_index } => {
                let segment = self.iconst32(data_index);
                self.call_libcall(Libcall::DataDrop, &[segment]);
            }
            O::TableGet { table } => {
                let is_64 = self.is_table64(table);
                let index = self.pop();
                let index = self.extend_index(index, is_64);
                let address = self.table_element_address(table, index, TrapCode::TableOutOfBounds);
                let value = self
                    .builder
                    .ins()
                    .load(types::I64, self.table_flags, address, 0);
                self.push(value);
            }
            O::TableSet { table } => {
                let is_64 = self.is_table64(table);
                let (index, value) = self.pop2();
                let index = self.extend_index(index, is_64);
                let address = self.table_element_address(table, index, TrapCode::TableOutOfBounds);
                self.builder
                    .ins()
                    .store(self.table_flags, value, address, 0);
            }
            O::TableSize { table } => self.table_size(table),
            O::TableGrow { table } => {
                let is_64 = self.is_table64(table);
                let (init, delta) = self.pop2();
                let delta = self.extend_index(delta, is_64);
                let table_index = self.iconst32(table);
                let old = self.call_libcall(Libcall::TableGrow, &[table_index, init, delta])[0];
                let old = if is_64 {
                    old
                } else {
                    self.builder.ins().ireduce(types::I32, old)
                };
                self.push(old);
            }
            O::TableFill { table } => {
                let is_64 = self.is_table64(table);
                let (start, value, len) = self.pop3();
                let start = self.extend_index(start, is_64);
                let len = self.extend_index(len, is_64);
                let table_index = self.iconst32(table);
                self.call_trapping_libcall(Libcall::TableFill, &[table_index, start, value, len]);
            }
            O::TableCopy {
                dst_table,
                src_table,
            } => {
                let (destination_64, source_64) =
                    (self.is_table64(dst_table), self.is_table64(src_table));
                let [destination, source, len] =
                    self.pop_bulk_operands(destination_64, source_64, destination_64 && source_64);
                let destination_table = self.iconst32(dst_table);
                let source_table = self.iconst32(src_table);
                self.call_trapping_libcall(
                    Libcall::TableCopy,
                    &[destination_table, source_table, destination, source, len],
                );
            }
            O::TableInit { elem_index, table } => {
                let is_64 = self.is_table64(table);
                let [destination, source, len] = self.pop_bulk_operands(is_64, false, false);
                let table_index = self.iconst32(table);
                let segment = self.iconst32(elem_index);
                self.call_trapping_libcall(
                    Libcall::TableInit,
                    &[table_index, segment, destination, source, len],
                );
            }
            O::ElemDrop { elem_index } => {
                let segment = self.iconst32(elem_index);
                self.call_libcall(Libcall::ElemDrop, &[segment]);
            }
            other => self.simd_operator(other)?,
        }
        Ok(())
    }
}

/// How a load widens what it reads.
#[derive(Debug, Clone, Copy)]
enum LoadKind {
    Full,
    U8,
    S8,
    U16,
    S16,
    U32,
    S32,
}
