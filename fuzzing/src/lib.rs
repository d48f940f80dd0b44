//! Kestrel's fuzzing logic: input generators and oracles, shared by the cargo-fuzz targets in
//! `fuzz/` (nightly, libFuzzer) and by this crate's ordinary tests (stable, fixed seeds), so
//! the targets are exercised on every `cargo test` and cannot rot.
//!
//! Three oracles, one per fuzz target:
//!
//! - [`validate`]: any bytes through [`Module::new`] and [`Module::validate`] on both
//!   engines. Errors are fine; a panic is a bug.
//! - [`execute`]: a [`wasm-smith`](wasm_smith) module that always terminates, instantiated
//!   with dummy imports on the interpreter, every exported function called with default
//!   arguments. Traps are fine; a panic is a bug.
//! - [`differential`]: the same module and calls on the interpreter and the JIT in lockstep;
//!   results, trap codes, exported globals and memories must agree after every call.
//!
//! [`Seeds`] turns a seed into the byte buffers the oracles' `Unstructured` input reads.

use arbitrary::Unstructured;
use kestrel::{
    Config, Engine, ErrorKind, Extern, ExternType, Func, Global, HeapType, Instance, Memory,
    Module, Store, Strategy, Table, Trap, Val, ValType,
};
use std::fmt;

/// Fuel wasm-smith's termination pass gives each instance: every loop iteration and function
/// entry spends one, and `unreachable` traps when it runs out. Small enough that a test
/// iteration stays in milliseconds and that recursion stays far from either engine's stack
/// limit (which differ, and would otherwise be a false divergence).
const FUEL: u32 = 1_000;

/// The wasm-smith configuration: Wasm 2.0, fixed-width SIMD included, bounded sizes so
/// that one iteration stays cheap, everything exported (so the oracles see every global
/// and memory), and NaNs canonicalised so results are deterministic.
///
/// Relaxed SIMD stays out: wasm-smith does not canonicalise the NaNs of
/// `relaxed_min`/`max`/`madd`/`nmadd`, and which NaN payload a float operation returns is
/// left open by Wasm (the x86-64 JIT returns the canonical NaN where the interpreter
/// passes an operand's through), so the oracle would report legal differences. The spec
/// suite's `relaxed_*` files and the JIT's per-instruction tests cover them.
pub fn smith_config() -> wasm_smith::Config {
    wasm_smith::Config {
        simd_enabled: true,
        relaxed_simd_enabled: false,
        threads_enabled: false,
        tail_call_enabled: false,
        gc_enabled: false,
        exceptions_enabled: false,
        memory64_enabled: false,
        wide_arithmetic_enabled: false,
        custom_page_sizes_enabled: false,
        extended_const_enabled: false,
        shared_everything_threads_enabled: false,
        compact_imports_enabled: false,
        max_memories: 1,
        max_tables: 2,
        reference_types_enabled: true,
        bulk_memory_enabled: true,
        multi_value_enabled: true,
        saturating_float_to_int_enabled: true,
        sign_extension_ops_enabled: true,
        // Bounded resources: memories of at most 16 pages with a declared maximum, so
        // `memory.grow` and bulk operations stay cheap and memories are cheap to compare.
        max_memory32_bytes: 16 * 65536,
        memory_max_size_required: true,
        max_table_elements: 1_000,
        table_max_size_required: true,
        // At least a few functions, so short inputs still make something to call.
        min_types: 1,
        min_funcs: 3,
        max_funcs: 30,
        max_instructions: 200,
        max_exports: 60,
        max_imports: 10,
        max_data_segments: 10,
        max_element_segments: 10,
        max_elements: 50,
        export_everything: true,
        canonicalize_nans: true,
        allow_start_export: true,
        ..wasm_smith::Config::default()
    }
}

/// Generates a module with [`smith_config`] that always terminates: wasm-smith's fuel pass
/// guards every loop and function entry with a global counter ([`FUEL`] per instance).
pub fn generate_module(u: &mut Unstructured<'_>) -> arbitrary::Result<Vec<u8>> {
    generate_module_with(smith_config(), u)
}

/// [`generate_module`] with another wasm-smith configuration (e.g. without SIMD).
pub fn generate_module_with(
    config: wasm_smith::Config,
    u: &mut Unstructured<'_>,
) -> arbitrary::Result<Vec<u8>> {
    let mut module = wasm_smith::Module::new(config, u)?;
    // Fails only for modules with imported functions wasm-smith cannot instrument; those
    // are skipped like any input too short to make a module.
    module
        .ensure_termination(FUEL)
        .map_err(|_| arbitrary::Error::IncorrectFormat)?;
    Ok(module.to_bytes())
}

/// An engine of the given strategy with the default Wasm 2.0 configuration.
pub fn engine(strategy: Strategy) -> Engine {
    engine_with_fuel(strategy, false)
}

/// An engine of the given strategy, metering fuel when `fuel` is set.
///
/// `Strategy::Tiered` gets thresholds of 1 and synchronous compilation: every function
/// switches to compiled code at its first call and every loop at its first backward
/// branch (on-stack replacement), so each run crosses the tiers as often as possible.
pub fn engine_with_fuel(strategy: Strategy, fuel: bool) -> Engine {
    let mut config = Config::new();
    config.strategy(strategy).consume_fuel(fuel);
    if strategy == Strategy::Tiered {
        config.tiering_thresholds(1, 1).tiering_in_background(false);
    }
    Engine::new(&config).expect("the default configuration is valid")
}

// ---------------------------------------------------------------------------
// validate
// ---------------------------------------------------------------------------

/// Feeds `bytes` to [`Module::validate`] and [`Module::new`] on both engines (the JIT also
/// compiles what validates). Any outcome but a panic is fine; a module that validates must
/// also compile, and one that does not must fail to compile.
pub fn validate(bytes: &[u8]) {
    for strategy in [Strategy::Interpreter, Strategy::Jit] {
        let engine = engine(strategy);
        let valid = Module::validate(&engine, bytes);
        let compiled = Module::new(&engine, bytes);
        if let (Ok(()), Err(e)) = (&valid, &compiled) {
            // A valid module may still use something not implemented yet.
            assert_eq!(
                e.kind(),
                ErrorKind::Unsupported,
                "{strategy:?}: validates but does not compile: {e}"
            );
        }
        if let (Err(e), Ok(_)) = (&valid, &compiled) {
            panic!("{strategy:?}: does not validate ({e}) but compiles");
        }
    }
}

/// Turns fuzzer bytes into a validation input: raw bytes, a Wasm header followed by raw
/// bytes, or a wasm-smith module with a few bytes overwritten (which reaches the section
/// and function-body parsers far more often than raw bytes do).
pub fn validate_input(u: &mut Unstructured<'_>) -> arbitrary::Result<Vec<u8>> {
    match u.int_in_range(0..=2u8)? {
        0 => Ok(u.arbitrary::<Vec<u8>>()?),
        1 => {
            let mut bytes = b"\0asm\x01\0\0\0".to_vec();
            bytes.extend(u.arbitrary::<Vec<u8>>()?);
            Ok(bytes)
        }
        _ => {
            let mut bytes = wasm_smith::Module::new(smith_config(), u)?.to_bytes();
            let edits = u.int_in_range(1..=4u8)?;
            for _ in 0..edits {
                if bytes.is_empty() {
                    break;
                }
                let at = u.choose_index(bytes.len())?;
                match u.int_in_range(0..=2u8)? {
                    0 => bytes[at] = u.arbitrary()?,
                    1 => {
                        bytes.remove(at);
                    }
                    _ => bytes.truncate(at),
                }
            }
            Ok(bytes)
        }
    }
}

// ---------------------------------------------------------------------------
// execute and differential
// ---------------------------------------------------------------------------

/// A value with NaN bit patterns canonicalised and references reduced to null or not (a
/// reference's identity differs between stores, so only nullness is comparable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CanonVal {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(u128),
    FuncRef { null: bool },
    ExternRef { null: bool },
}

impl From<&Val> for CanonVal {
    fn from(value: &Val) -> CanonVal {
        match *value {
            Val::I32(x) => CanonVal::I32(x),
            Val::I64(x) => CanonVal::I64(x),
            Val::F32(bits) if f32::from_bits(bits).is_nan() => CanonVal::F32(0x7fc0_0000),
            Val::F32(bits) => CanonVal::F32(bits),
            Val::F64(bits) if f64::from_bits(bits).is_nan() => CanonVal::F64(0x7ff8_0000_0000_0000),
            Val::F64(bits) => CanonVal::F64(bits),
            Val::V128(x) => CanonVal::V128(x),
            Val::FuncRef(f) => CanonVal::FuncRef { null: f.is_none() },
            Val::ExternRef(r) => CanonVal::ExternRef { null: r.is_none() },
        }
    }
}

/// How an instantiation or call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Returned these values.
    Returned(Vec<CanonVal>),
    /// Trapped with this code (`None`: a trap without a code).
    Trapped(Option<Trap>),
    /// Failed otherwise, with this kind (the message is not compared).
    Failed(ErrorKind),
}

impl Outcome {
    fn of_error(error: &kestrel::Error) -> Outcome {
        match error.kind() {
            ErrorKind::Trap => Outcome::Trapped(error.trap_code()),
            kind => Outcome::Failed(kind),
        }
    }
}

/// The zero value (or null reference) of `ty`: the default argument, global value and
/// table element.
fn default_val(ty: &ValType) -> Val {
    match ty {
        ValType::I32 => Val::I32(0),
        ValType::I64 => Val::I64(0),
        ValType::F32 => Val::F32(0),
        ValType::F64 => Val::F64(0),
        ValType::V128 => Val::V128(0),
        ValType::Ref(r) => match r.heap_type {
            HeapType::Extern | HeapType::NoExtern => Val::ExternRef(None),
            _ => Val::FuncRef(None),
        },
    }
}

/// The arguments of a call in `round` to a function with parameters `params`: zeros and
/// nulls in round 0, else edge-case values ([`edge_val`]) picked by the round and the
/// parameter's position, so they follow from the module and the round alone.
pub fn call_args(params: &[ValType], round: usize) -> Vec<Val> {
    params
        .iter()
        .enumerate()
        .map(|(i, ty)| match round {
            0 => default_val(ty),
            _ => edge_val(ty, round * 7 + i),
        })
        .collect()
}

/// The `n`th (modulo the table) edge-case value of `ty`: integer extremes, page and sign
/// boundaries, and float NaNs (canonical and not), infinities, signed zeros and halves.
fn edge_val(ty: &ValType, n: usize) -> Val {
    const INTS: &[i64] = &[
        1,
        -1,
        i32::MIN as i64,
        i32::MAX as i64,
        i64::MIN,
        i64::MAX,
        65535,
        65536,
        0x7fff_fff8,
        255,
        -128,
        31,
        63,
        64,
        0x1_0000_0000,
    ];
    const F64S: &[f64] = &[
        f64::NAN,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        0.5,
        -1.5,
        2147483648.0,
        -2147483649.0,
        9.223_372_036_854_776e18,
        f64::MIN_POSITIVE,
        1e-310,
        4294967296.0,
    ];
    match ty {
        ValType::I32 => Val::I32(INTS[n % INTS.len()] as i32),
        ValType::I64 => Val::I64(INTS[n % INTS.len()]),
        ValType::F32 => Val::F32((F64S[n % F64S.len()] as f32).to_bits()),
        ValType::F64 => Val::F64(F64S[n % F64S.len()].to_bits()),
        _ => default_val(ty),
    }
}

/// One module instantiated in its own store on one engine, with its exports listed in
/// declaration order.
pub struct Harness {
    /// Which engine.
    pub strategy: Strategy,
    store: Store<()>,
    instance: Option<Instance>,
    exports: Vec<(String, Extern)>,
    /// With fuel metering: the fuel given before instantiation and before each call.
    fuel: Option<u64>,
}

impl Harness {
    /// Compiles `bytes` on `strategy` and instantiates it with dummy imports: host functions
    /// returning zeros, globals holding zero, fresh memories and tables of the imported
    /// type. Returns the harness and the instantiation's outcome (which runs the start
    /// function); `Err` when the module does not compile.
    pub fn new(strategy: Strategy, bytes: &[u8]) -> Result<(Harness, Outcome), kestrel::Error> {
        Harness::with_fuel(strategy, bytes, None)
    }

    /// Like [`Harness::new`], with fuel metering when `fuel` is set: the store gets that
    /// much fuel before instantiation and again before every call.
    pub fn with_fuel(
        strategy: Strategy,
        bytes: &[u8],
        fuel: Option<u64>,
    ) -> Result<(Harness, Outcome), kestrel::Error> {
        let engine = engine_with_fuel(strategy, fuel.is_some());
        let module = Module::new(&engine, bytes)?;
        let mut store = Store::new(&engine, ());
        if let Some(fuel) = fuel {
            store.set_fuel(fuel)?;
        }
        let mut imports = Vec::new();
        let mut failed = None;
        for import in module.imports() {
            let item: kestrel::Result<Extern> = match import.ty() {
                ExternType::Func(ty) => Ok(Func::new(&mut store, ty, |_, _, _| Ok(())).into()),
                ExternType::Global(ty) => {
                    Global::new(&mut store, ty, default_val(&ty.content)).map(Extern::from)
                }
                ExternType::Memory(ty) => Memory::new(&mut store, ty).map(Extern::from),
                ExternType::Table(ty) => {
                    let init = default_val(&ValType::Ref(ty.element_type));
                    Table::new(&mut store, ty, init).map(Extern::from)
                }
                ExternType::Tag(_) => Err(kestrel::Error::msg("tags cannot be imported")),
            };
            match item {
                Ok(item) => imports.push(item),
                Err(e) => {
                    failed = Some(Outcome::of_error(&e));
                    break;
                }
            }
        }
        let (instance, outcome) = match failed {
            Some(outcome) => (None, outcome),
            None => match Instance::new(&mut store, &module, &imports) {
                Ok(instance) => (Some(instance), Outcome::Returned(Vec::new())),
                Err(e) => (None, Outcome::of_error(&e)),
            },
        };
        let exports = match instance {
            Some(instance) => instance.exports(&mut store),
            None => Vec::new(),
        };
        let harness = Harness {
            strategy,
            store,
            instance,
            exports,
            fuel,
        };
        Ok((harness, outcome))
    }

    /// Whether instantiation succeeded.
    pub fn instantiated(&self) -> bool {
        self.instance.is_some()
    }

    /// The names of the exported functions, in export order.
    pub fn func_exports(&self) -> Vec<String> {
        let mut names = Vec::new();
        for (name, item) in &self.exports {
            if matches!(item, Extern::Func(_)) {
                names.push(name.clone());
            }
        }
        names
    }

    /// Calls the exported function `name` with default arguments.
    pub fn call(&mut self, name: &str) -> Outcome {
        self.call_with(name, 0)
    }

    /// Calls the exported function `name` with the arguments [`call_args`] gives for
    /// `round`.
    pub fn call_with(&mut self, name: &str, round: usize) -> Outcome {
        let func = self
            .exports
            .iter()
            .find_map(|(n, item)| match item {
                Extern::Func(f) if n == name => Some(*f),
                _ => None,
            })
            .expect("an exported function");
        if let Some(fuel) = self.fuel {
            self.store.set_fuel(fuel).expect("the engine meters fuel");
        }
        let ty = func.ty(&self.store);
        let params = call_args(ty.params(), round);
        let mut results: Vec<Val> = ty.results().iter().map(default_val).collect();
        match func.call(&mut self.store, &params, &mut results) {
            Ok(()) => Outcome::Returned(results.iter().map(CanonVal::from).collect()),
            Err(e) => Outcome::of_error(&e),
        }
    }

    /// The fuel left, with fuel metering.
    pub fn fuel_left(&self) -> Option<u64> {
        self.fuel
            .map(|_| self.store.get_fuel().expect("the engine meters fuel"))
    }

    /// The exported globals' values, by export name.
    pub fn globals(&mut self) -> Vec<(String, CanonVal)> {
        let mut globals = Vec::new();
        for (name, item) in &self.exports {
            if let Extern::Global(g) = item {
                globals.push((name.clone(), CanonVal::from(&g.get(&self.store))));
            }
        }
        globals
    }

    /// The exported memories' contents, by export name.
    pub fn memories(&self) -> Vec<(String, &[u8])> {
        let mut memories = Vec::new();
        for (name, item) in &self.exports {
            if let Extern::Memory(m) = item {
                memories.push((name.clone(), m.data(&self.store)));
            }
        }
        memories
    }

    /// The exported tables' sizes and which entries are null, by export name.
    pub fn tables(&self) -> Vec<(String, Vec<bool>)> {
        let mut tables = Vec::new();
        for (name, item) in &self.exports {
            if let Extern::Table(t) = item {
                let size = t.size(&self.store);
                let nulls = (0..size)
                    .map(|i| t.get(&self.store, i).map(|v| CanonVal::from(&v)))
                    .map(|v| {
                        matches!(
                            v,
                            Some(
                                CanonVal::FuncRef { null: true }
                                    | CanonVal::ExternRef { null: true }
                            )
                        )
                    })
                    .collect();
                tables.push((name.clone(), nulls));
            }
        }
        tables
    }
}

/// Instantiates `bytes` on the interpreter with dummy imports and calls every exported
/// function with default arguments, then again with edge-case ones. Traps and errors are fine (they are returned as
/// outcomes, one per call); a panic is a bug. `None` when the module does not compile.
pub fn execute(bytes: &[u8]) -> Option<Vec<(String, Outcome)>> {
    let (mut harness, outcome) = Harness::new(Strategy::Interpreter, bytes).ok()?;
    let mut outcomes = vec![("<instantiate>".to_string(), outcome)];
    let names = harness.func_exports();
    for round in 0..2 {
        for name in &names {
            let outcome = harness.call_with(name, round);
            outcomes.push((name.clone(), outcome));
        }
    }
    Some(outcomes)
}

/// Where the interpreter and the JIT disagreed, with what each did. `Display` gives a
/// report with the module in text form, enough to reproduce.
#[derive(Debug)]
pub struct Divergence {
    /// What was being compared when they disagreed (`compile`, `instantiate`, `call NAME`,
    /// `global NAME after call NAME`, ...).
    pub step: String,
    /// What the interpreter did.
    pub interp: String,
    /// The engine compared with the interpreter (`jit` or `tiered`).
    pub other_engine: &'static str,
    /// What that engine did.
    pub other: String,
    /// The module.
    pub wasm: Vec<u8>,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "interp and {} diverge at {}",
            self.other_engine, self.step
        )?;
        writeln!(f, "  interp: {}", self.interp)?;
        writeln!(f, "  {}: {}", self.other_engine, self.other)?;
        writeln!(
            f,
            "(after instantiation with dummy imports, every exported function is called in \
             export order with zero/null arguments (round 0), then again with edge-case \
             arguments (round 1, see `Harness::call_with`))"
        )?;
        // Hex, so the report needs no printer dependency: `xxd -r -p | wasm-tools print`
        // turns it back into text.
        write!(f, "module ({} bytes): ", self.wasm.len())?;
        for byte in &self.wasm {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

/// Runs `bytes` on the interpreter and, in turn, on the JIT and on tiered execution with
/// thresholds of 1 (see [`engine_with_fuel`]), each pair in lockstep: compile, instantiate,
/// then each
/// exported function in export order with default arguments, then each again with
/// edge-case arguments ([`Harness::call_with`] round 1), comparing after every call the
/// outcome, every
/// exported global, table (size and nullness) and memory. Returns the number of calls
/// compared over both pairs (0 when neither engine compiled or instantiated the module),
/// or the first divergence.
pub fn differential(bytes: &[u8]) -> Result<usize, Box<Divergence>> {
    differential_with_fuel(bytes, None)
}

/// [`differential`] with fuel metering when `fuel` is set: both engines get `fuel` before
/// instantiation and before every call, and must also agree on the fuel left after each
/// step (so on where a run that exhausts it stops).
pub fn differential_with_fuel(bytes: &[u8], fuel: Option<u64>) -> Result<usize, Box<Divergence>> {
    let mut calls = 0;
    for (other, name) in [(Strategy::Jit, "jit"), (Strategy::Tiered, "tiered")] {
        calls += differential_pair(bytes, fuel, other, name)?;
    }
    Ok(calls)
}

/// [`differential_with_fuel`] for the interpreter and `other` (called `other_engine`).
fn differential_pair(
    bytes: &[u8],
    fuel: Option<u64>,
    other: Strategy,
    other_engine: &'static str,
) -> Result<usize, Box<Divergence>> {
    let divergence = |step: String, interp: String, other: String| {
        Box::new(Divergence {
            step,
            interp,
            other_engine,
            other,
            wasm: bytes.to_vec(),
        })
    };
    let diverge =
        |step: String, interp: String, other: String| Err(divergence(step, interp, other));
    let a = Harness::with_fuel(Strategy::Interpreter, bytes, fuel);
    let b = Harness::with_fuel(other, bytes, fuel);
    let ((mut a, outcome_a), (mut b, outcome_b)) = match (a, b) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(a), Err(b)) if a.kind() == b.kind() => return Ok(0),
        (a, b) => {
            let show = |r: &Result<(Harness, Outcome), kestrel::Error>| match r {
                Ok(_) => "compiled".to_string(),
                Err(e) => format!("{:?}: {e}", e.kind()),
            };
            return diverge("compile".into(), show(&a), show(&b));
        }
    };
    if outcome_a != outcome_b {
        return diverge(
            "instantiate".into(),
            format!("{outcome_a:?}"),
            format!("{outcome_b:?}"),
        );
    }
    if a.fuel_left() != b.fuel_left() {
        return diverge(
            "fuel left after instantiation".into(),
            format!("{:?}", a.fuel_left()),
            format!("{:?}", b.fuel_left()),
        );
    }
    compare_state(&mut a, &mut b, "instantiation")
        .map_err(|(step, x, y)| divergence(step, x, y))?;
    let names = a.func_exports();
    let calls: Vec<(usize, &String)> = (0..2)
        .flat_map(|round| names.iter().map(move |name| (round, name)))
        .collect();
    for &(round, name) in &calls {
        let outcome_a = a.call_with(name, round);
        let outcome_b = b.call_with(name, round);
        let name = format!("{name:?} (round {round})");
        if outcome_a != outcome_b {
            return diverge(
                format!("call {name}"),
                format!("{outcome_a:?}"),
                format!("{outcome_b:?}"),
            );
        }
        if a.fuel_left() != b.fuel_left() {
            return diverge(
                format!("fuel left after call {name}"),
                format!("{:?}", a.fuel_left()),
                format!("{:?}", b.fuel_left()),
            );
        }
        compare_state(&mut a, &mut b, &format!("call {name}"))
            .map_err(|(step, x, y)| divergence(step, x, y))?;
    }
    Ok(calls.len())
}

/// Compares the exported globals, tables and memories of two harnesses; on a difference
/// returns (step, interp's side, the other engine's side).
fn compare_state(
    a: &mut Harness,
    b: &mut Harness,
    after: &str,
) -> Result<(), (String, String, String)> {
    let (ga, gb) = (a.globals(), b.globals());
    for ((name, x), (_, y)) in ga.iter().zip(&gb) {
        if x != y {
            return Err((
                format!("global {name:?} after {after}"),
                format!("{x:?}"),
                format!("{y:?}"),
            ));
        }
    }
    let (ta, tb) = (a.tables(), b.tables());
    for ((name, x), (_, y)) in ta.iter().zip(&tb) {
        if x != y {
            return Err((
                format!("table {name:?} after {after} (size, then first differing entry)"),
                format!(
                    "size {} {:?}",
                    x.len(),
                    first_diff(x, y).map(|i| (i, x.get(i)))
                ),
                format!(
                    "size {} {:?}",
                    y.len(),
                    first_diff(x, y).map(|i| (i, y.get(i)))
                ),
            ));
        }
    }
    for ((name, x), (_, y)) in a.memories().iter().zip(&b.memories()) {
        if x != y {
            let show = |m: &[u8], i: Option<usize>| match i {
                Some(i) => format!(
                    "{} bytes; from byte {i}: {:02x?}",
                    m.len(),
                    &m[i.min(m.len())..(i + 16).min(m.len())]
                ),
                None => format!("{} bytes", m.len()),
            };
            let i = first_diff(x, y);
            return Err((
                format!("memory {name:?} after {after}"),
                show(x, i),
                show(y, i),
            ));
        }
    }
    Ok(())
}

/// The first index where `a` and `b` differ, or the shorter length if one is a prefix.
fn first_diff<T: PartialEq>(a: &[T], b: &[T]) -> Option<usize> {
    if a == b {
        return None;
    }
    Some(
        a.iter()
            .zip(b)
            .position(|(x, y)| x != y)
            .unwrap_or(a.len().min(b.len())),
    )
}

// ---------------------------------------------------------------------------
// Deterministic inputs for the stable tests
// ---------------------------------------------------------------------------

/// A splitmix64 generator: a tiny, well-mixed PRNG, so the stable tests need no `rand` and
/// their inputs never change with a dependency update.
pub struct Seeds(u64);

impl Seeds {
    /// Starts the sequence at `seed`.
    pub fn new(seed: u64) -> Seeds {
        Seeds(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// `len` random bytes: one fuzzer input.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(len + 8);
        while bytes.len() < len {
            bytes.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        bytes.truncate(len);
        bytes
    }
}
