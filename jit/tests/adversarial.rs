//! Adversarial checks of compiled code on the runtime core alone (no embedding API): the
//! bounds checks at every edge, address overflow, `call_indirect` type confusion, deep
//! recursion (including huge frames and small host stacks), and the exactness of the
//! inline numeric checks against `kestrel_vm::numeric`. Compiled code is where a sandbox
//! escape would come from, so every check here is one an attacker would probe.

use kestrel_parser::{Features, FuncType, ValType};
use kestrel_vm::{
    Extern, FuncEntity, FuncId, HostContext, HostFunc, InstanceId, MemoryConfig, RuntimeModule,
    StackLimits, StoreOpaque, Trap, TrapCode, TypeRegistry, instantiate,
};
use std::any::Any;
use std::sync::Arc;

/// A store with instances of JIT-compiled modules.
struct Harness {
    registry: Arc<TypeRegistry>,
    store: StoreOpaque,
}

/// The call hook: in these tests every Wasm function is compiled, so it is never needed.
fn no_other_tier(
    _: &mut StoreOpaque,
    _: &mut dyn Any,
    _: FuncId,
    _: &mut [u64],
) -> Result<(), Trap> {
    Err(Trap::host("no other tier in these tests".into()))
}

impl Harness {
    fn new() -> Harness {
        Harness::with_limits(StackLimits::default())
    }

    fn with_limits(limits: StackLimits) -> Harness {
        Harness::with_config(MemoryConfig::default(), limits)
    }

    fn with_config(memory: MemoryConfig, limits: StackLimits) -> Harness {
        let registry = Arc::new(TypeRegistry::default());
        let store = StoreOpaque::new(registry.clone(), memory, limits);
        Harness { registry, store }
    }

    fn instantiate(&mut self, wat: &str, imports: &[Extern]) -> InstanceId {
        let bytes = wat::parse_str(wat).unwrap();
        let info = Arc::new(kestrel_parser::parse(bytes, &Features::default()).unwrap());
        let module = Arc::new(RuntimeModule::new(info, &self.registry));
        kestrel_jit::compile(&module).unwrap();
        assert!(kestrel_jit::is_compiled(&module));
        let instance = instantiate(&mut self.store, &module, imports).unwrap();
        kestrel_jit::link_instance(&mut self.store, instance);
        instance
    }

    fn export(&self, instance: InstanceId, name: &str) -> u32 {
        let info = &self.store.instance(instance).module.info;
        info.export(name)
            .unwrap_or_else(|| panic!("no export {name}"))
            .index
    }

    fn func(&self, instance: InstanceId, name: &str) -> FuncId {
        self.store
            .instance(instance)
            .funcs
            .get(self.export(instance, name))
    }

    fn call(&mut self, instance: InstanceId, name: &str, args: &[u64]) -> Result<Vec<u64>, Trap> {
        let func = self.func(instance, name);
        let results = self.store.func_type(func).results().len();
        let mut values = vec![0u64; args.len().max(results).max(1)];
        values[..args.len()].copy_from_slice(args);
        kestrel_jit::call(&mut self.store, &mut (), func, &mut values, no_other_tier)?;
        values.truncate(results);
        Ok(values)
    }

    fn trap(&mut self, instance: InstanceId, name: &str, args: &[u64]) -> Option<TrapCode> {
        match self.call(instance, name, args) {
            Ok(values) => panic!("{name}{args:?} returned {values:?} instead of trapping"),
            Err(trap) => trap.trap_code(),
        }
    }
}

const PAGE: u64 = 65536;

const MEMORY: &str = r#"
(module
  (memory (export "memory") 1 3)
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "load16") (param i32) (result i32) (i32.load16_u (local.get 0)))
  (func (export "load32") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "load64") (param i32) (result i64) (i64.load (local.get 0)))
  (func (export "store8") (param i32) (i32.store8 (local.get 0) (i32.const 0x5a)))
  (func (export "store16") (param i32) (i32.store16 (local.get 0) (i32.const 0x5a5a)))
  (func (export "store32") (param i32) (i32.store (local.get 0) (i32.const 0x5a5a5a5a)))
  (func (export "store64") (param i32) (i64.store (local.get 0) (i64.const 0x5a5a5a5a5a5a5a5a)))
  (func (export "load_max_offset") (param i32) (result i32)
    (i32.load8_u offset=0xffffffff (local.get 0)))
  (func (export "load_offset_16") (param i32) (result i32)
    (i32.load offset=16 (local.get 0)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
)"#;

#[test]
fn every_access_size_is_checked_at_the_last_byte() {
    let mut harness = Harness::new();
    let instance = harness.instantiate(MEMORY, &[]);
    for (size, load, store) in [
        (1, "load8", "store8"),
        (2, "load16", "store16"),
        (4, "load32", "store32"),
        (8, "load64", "store64"),
    ] {
        let last = PAGE - size;
        harness.call(instance, store, &[last]).unwrap();
        harness.call(instance, load, &[last]).unwrap();
        for address in [
            last + 1,
            PAGE,
            PAGE + 1,
            u32::MAX as u64 - 3,
            u32::MAX as u64,
        ] {
            assert_eq!(
                harness.trap(instance, load, &[address]),
                Some(TrapCode::MemoryOutOfBounds),
                "{load} at {address:#x}"
            );
            assert_eq!(
                harness.trap(instance, store, &[address]),
                Some(TrapCode::MemoryOutOfBounds),
                "{store} at {address:#x}"
            );
        }
    }
}

#[test]
fn a_trapping_store_writes_nothing() {
    let mut harness = Harness::new();
    let instance = harness.instantiate(MEMORY, &[]);
    harness.call(instance, "store32", &[PAGE - 8]).unwrap();
    assert_eq!(
        harness.trap(instance, "store64", &[PAGE - 4]),
        Some(TrapCode::MemoryOutOfBounds)
    );
    // The four bytes before the end still hold what the first store wrote, the last four
    // bytes are still zero.
    assert_eq!(
        harness.call(instance, "load32", &[PAGE - 8]).unwrap(),
        vec![0x5a5a5a5a]
    );
    assert_eq!(
        harness.call(instance, "load32", &[PAGE - 4]).unwrap(),
        vec![0]
    );
}

#[test]
fn address_plus_offset_never_wraps() {
    let mut harness = Harness::new();
    let instance = harness.instantiate(MEMORY, &[]);
    // 0xffffffff + 0xffffffff would be 0x1_ffff_fffe, or 0xfffffffe if wrapped to 32 bits.
    for address in [0, 1, 0xffff_ffff, 0x8000_0000] {
        assert_eq!(
            harness.trap(instance, "load_max_offset", &[address]),
            Some(TrapCode::MemoryOutOfBounds)
        );
    }
    // 0xfffffff0 + 16 is 2^32: past the end, not address 0.
    assert_eq!(
        harness.trap(instance, "load_offset_16", &[0xffff_fff0]),
        Some(TrapCode::MemoryOutOfBounds)
    );
    assert_eq!(
        harness
            .call(instance, "load_offset_16", &[PAGE - 20])
            .unwrap(),
        vec![0]
    );
    assert_eq!(
        harness.trap(instance, "load_offset_16", &[PAGE - 19]),
        Some(TrapCode::MemoryOutOfBounds)
    );
    // Upper bits of the i32 argument slot must not leak into the address.
    assert_eq!(
        harness
            .call(instance, "load8", &[0xffff_ffff_0000_0000])
            .unwrap()[0] as u32,
        0
    );
}

#[test]
fn growing_moves_the_bound_and_never_past_the_maximum() {
    let mut harness = Harness::new();
    let instance = harness.instantiate(MEMORY, &[]);
    assert_eq!(
        harness.trap(instance, "load8", &[PAGE]),
        Some(TrapCode::MemoryOutOfBounds)
    );
    assert_eq!(harness.call(instance, "grow", &[1]).unwrap(), vec![1]);
    assert_eq!(harness.call(instance, "size", &[]).unwrap(), vec![2]);
    harness.call(instance, "store64", &[2 * PAGE - 8]).unwrap();
    assert_eq!(
        harness.trap(instance, "load64", &[2 * PAGE - 7]),
        Some(TrapCode::MemoryOutOfBounds)
    );
    assert_eq!(
        harness.call(instance, "grow", &[2]).unwrap(),
        vec![u32::MAX as u64]
    );
    assert_eq!(harness.call(instance, "grow", &[1]).unwrap(), vec![2]);
    assert_eq!(
        harness.call(instance, "grow", &[1]).unwrap(),
        vec![u32::MAX as u64]
    );
    harness.call(instance, "load8", &[3 * PAGE - 1]).unwrap();
    assert_eq!(
        harness.trap(instance, "load8", &[3 * PAGE]),
        Some(TrapCode::MemoryOutOfBounds)
    );
}

#[test]
fn bulk_memory_operations_check_the_whole_range() {
    let mut harness = Harness::new();
    let instance = harness.instantiate(MEMORY, &[]);
    harness.call(instance, "fill", &[PAGE - 4, 7, 4]).unwrap();
    assert_eq!(
        harness.trap(instance, "fill", &[PAGE - 4, 7, 5]),
        Some(TrapCode::MemoryOutOfBounds)
    );
    assert_eq!(
        harness.trap(instance, "fill", &[1, 7, u32::MAX as u64]),
        Some(TrapCode::MemoryOutOfBounds)
    );
    assert_eq!(
        harness.trap(instance, "copy", &[0, PAGE - 1, 2]),
        Some(TrapCode::MemoryOutOfBounds)
    );
    assert_eq!(
        harness.trap(instance, "copy", &[u32::MAX as u64, 0, 2]),
        Some(TrapCode::MemoryOutOfBounds)
    );
    harness.call(instance, "copy", &[0, PAGE - 4, 4]).unwrap();
    assert_eq!(
        harness.call(instance, "load32", &[0]).unwrap(),
        vec![0x07070707]
    );
}

#[test]
fn an_empty_memory_rejects_every_access() {
    let mut harness = Harness::new();
    let instance = harness.instantiate(
        r#"(module (memory 0 0)
             (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0))))"#,
        &[],
    );
    for address in [0, 1, u32::MAX as u64] {
        assert_eq!(
            harness.trap(instance, "load", &[address]),
            Some(TrapCode::MemoryOutOfBounds)
        );
    }
}

const TABLES: &str = r#"
(module
  (type $i32 (func (param i32) (result i32)))
  (type $i64 (func (param i64) (result i64)))
  (type $none (func))
  (table (export "table") 4 8 funcref)
  (elem (i32.const 0) $double $wide $nothing)
  (func $double (type $i32) (i32.mul (local.get 0) (i32.const 2)))
  (func $wide (type $i64) (i64.add (local.get 0) (i64.const 1)))
  (func $nothing (type $none))
  (func (export "call_i32") (param i32 i32) (result i32)
    (call_indirect (type $i32) (local.get 1) (local.get 0)))
  (func (export "call_i64") (param i64 i32) (result i64)
    (call_indirect (type $i64) (local.get 0) (local.get 1)))
  (func (export "get") (param i32) (result funcref) (table.get (local.get 0)))
  (func (export "set_null") (param i32) (table.set (local.get 0) (ref.null func)))
  (func (export "grow") (param i32) (result i32) (table.grow (ref.null func) (local.get 0)))
)"#;

#[test]
fn call_indirect_checks_index_null_and_signature() {
    let mut harness = Harness::new();
    let instance = harness.instantiate(TABLES, &[]);
    assert_eq!(
        harness.call(instance, "call_i32", &[0, 21]).unwrap(),
        vec![42]
    );
    assert_eq!(
        harness.call(instance, "call_i64", &[41, 1]).unwrap(),
        vec![42]
    );
    // Type confusion: an i64 function through an i32 signature and the other way round,
    // and a function with no parameters at all. `call_i32` takes (element, argument),
    // `call_i64` (argument, element).
    for (name, args) in [
        ("call_i32", [1, 5]),
        ("call_i32", [2, 5]),
        ("call_i64", [5, 0]),
        ("call_i64", [5, 2]),
    ] {
        assert_eq!(
            harness.trap(instance, name, &args),
            Some(TrapCode::BadSignature),
            "{name}{args:?}"
        );
    }
    assert_eq!(
        harness.trap(instance, "call_i32", &[3, 0]),
        Some(TrapCode::IndirectCallToNull)
    );
    for index in [4, 5, 8, u32::MAX as u64] {
        assert_eq!(
            harness.trap(instance, "call_i32", &[index, 0]),
            Some(TrapCode::UndefinedElement),
            "element {index}"
        );
    }
    // Growing the table moves the bound.
    assert_eq!(harness.call(instance, "grow", &[2]).unwrap(), vec![4]);
    assert_eq!(
        harness.trap(instance, "call_i32", &[5, 0]),
        Some(TrapCode::IndirectCallToNull)
    );
    assert_eq!(
        harness.trap(instance, "call_i32", &[6, 0]),
        Some(TrapCode::UndefinedElement)
    );
    assert_eq!(
        harness.call(instance, "grow", &[3]).unwrap(),
        vec![u32::MAX as u64]
    );
    harness.call(instance, "set_null", &[0]).unwrap();
    assert_eq!(
        harness.trap(instance, "call_i32", &[0, 0]),
        Some(TrapCode::IndirectCallToNull)
    );
}

#[test]
fn table_accesses_are_checked_at_the_edge() {
    let mut harness = Harness::new();
    let instance = harness.instantiate(TABLES, &[]);
    assert_ne!(harness.call(instance, "get", &[0]).unwrap(), vec![0]);
    assert_eq!(harness.call(instance, "get", &[3]).unwrap(), vec![0]);
    for index in [4, 5, u32::MAX as u64] {
        assert_eq!(
            harness.trap(instance, "get", &[index]),
            Some(TrapCode::TableOutOfBounds),
            "get {index:#x}"
        );
    }
    // Only the low 32 bits of an i32 index count: this is element 0.
    assert_eq!(
        harness.call(instance, "get", &[0x1_0000_0000]).unwrap(),
        harness.call(instance, "get", &[0]).unwrap()
    );
    assert_eq!(
        harness.trap(instance, "set_null", &[4]),
        Some(TrapCode::TableOutOfBounds)
    );
}

#[test]
fn call_indirect_across_instances_compares_engine_wide_type_ids() {
    let mut harness = Harness::new();
    let owner = harness.instantiate(TABLES, &[]);
    let table = harness.store.instance(owner).tables[0];
    // Another module, with its types declared in another order, calls through the table.
    let user = harness.instantiate(
        r#"(module
             (type $none (func))
             (type $i64 (func (param i64) (result i64)))
             (type $i32 (func (param i32) (result i32)))
             (import "m" "table" (table 4 funcref))
             (func (export "call_i32") (param i32 i32) (result i32)
               (call_indirect (type $i32) (local.get 1) (local.get 0)))
             (func (export "call_f32") (param f32 i32) (result f32)
               (call_indirect (param f32) (result f32) (local.get 0) (local.get 1))))"#,
        &[Extern::Table(table)],
    );
    assert_eq!(harness.call(user, "call_i32", &[0, 8]).unwrap(), vec![16]);
    assert_eq!(
        harness.trap(user, "call_i32", &[1, 8]),
        Some(TrapCode::BadSignature)
    );
    assert_eq!(
        harness.trap(user, "call_f32", &[0, 0]),
        Some(TrapCode::BadSignature)
    );
    assert_eq!(
        harness.trap(user, "call_f32", &[1.5f32.to_bits() as u64, 1]),
        Some(TrapCode::BadSignature)
    );
}

#[test]
fn runaway_recursion_traps_and_the_store_stays_usable() {
    let mut harness = Harness::new();
    let instance = harness.instantiate(
        r#"(module
             (func $down (export "down") (param i64) (result i64)
               (i64.add (call $down (i64.add (local.get 0) (i64.const 1))) (i64.const 1)))
             (func $ping (export "ping") (param i32) (result i32)
               (call $pong (local.get 0)))
             (func $pong (param i32) (result i32)
               (call $ping (local.get 0)))
             (func (export "fine") (result i32) (i32.const 7)))"#,
        &[],
    );
    for _ in 0..3 {
        let trap = harness.call(instance, "down", &[0]).unwrap_err();
        assert_eq!(trap.trap_code(), Some(TrapCode::StackOverflow));
        assert!(
            trap.backtrace.len() > 1000,
            "{} frames",
            trap.backtrace.len()
        );
        assert!(trap.backtrace.iter().all(|frame| frame.func_index == 0));
        assert_eq!(
            harness.trap(instance, "ping", &[0]),
            Some(TrapCode::StackOverflow)
        );
        assert_eq!(harness.call(instance, "fine", &[]).unwrap(), vec![7]);
    }
}

/// A function whose frame is far larger than a guard page, recursing: the stack check must
/// account for the frame before it is touched (`skip-stack-guard-page.wast`, harder).
fn huge_frame_module() -> String {
    let locals: String = (0..4000).map(|_| "(local i64)").collect();
    let sets: String = (0..4000)
        .map(|i| {
            format!(
                "(local.set {} (i64.add (local.get 0) (i64.const {i})))",
                i + 1
            )
        })
        .collect();
    let sum: String = (1..4000)
        .map(|i| format!("(local.get {i}) i64.add "))
        .collect();
    format!(
        r#"(module
             (func $huge (export "huge") (param i64) (result i64) {locals}
               {sets}
               (i64.add (call $huge (local.get 0)) (local.get 4000) {sum})))"#
    )
}

#[test]
fn recursion_with_huge_frames_traps() {
    let mut harness = Harness::new();
    let instance = harness.instantiate(&huge_frame_module(), &[]);
    assert_eq!(
        harness.trap(instance, "huge", &[1]),
        Some(TrapCode::StackOverflow)
    );
}

#[test]
fn small_host_stacks_and_small_limits_trap_instead_of_crashing() {
    let module = r#"(module
      (func $down (export "down") (param i32) (result i32)
        (if (result i32) (i32.eqz (local.get 0))
          (then (i32.const 0))
          (else (i32.add (call $down (i32.sub (local.get 0) (i32.const 1))) (i32.const 1))))))"#;
    // A thread with little stack: the JIT must stop short of its end.
    let result = std::thread::Builder::new()
        .stack_size(512 << 10)
        .spawn(move || {
            let mut harness = Harness::new();
            let instance = harness.instantiate(module, &[]);
            (
                harness
                    .call(instance, "down", &[100])
                    .map_err(|trap| trap.trap_code()),
                harness
                    .call(instance, "down", &[10_000_000])
                    .map_err(|trap| trap.trap_code()),
            )
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(result, (Ok(vec![100]), Err(Some(TrapCode::StackOverflow))));

    // A configured limit well below the thread's stack.
    let mut harness = Harness::with_limits(StackLimits {
        max_wasm_stack: 64 << 10,
        ..StackLimits::default()
    });
    let instance = harness.instantiate(module, &[]);
    assert_eq!(harness.call(instance, "down", &[50]).unwrap(), vec![50]);
    assert_eq!(
        harness.trap(instance, "down", &[100_000]),
        Some(TrapCode::StackOverflow)
    );
}

#[test]
fn float_to_int_truncation_matches_the_runtime_core_at_every_edge() {
    let mut harness = Harness::new();
    let instance = harness.instantiate(
        r#"(module
          (func (export "i32_f32_s") (param f32) (result i32) (i32.trunc_f32_s (local.get 0)))
          (func (export "i32_f32_u") (param f32) (result i32) (i32.trunc_f32_u (local.get 0)))
          (func (export "i32_f64_s") (param f64) (result i32) (i32.trunc_f64_s (local.get 0)))
          (func (export "i32_f64_u") (param f64) (result i32) (i32.trunc_f64_u (local.get 0)))
          (func (export "i64_f32_s") (param f32) (result i64) (i64.trunc_f32_s (local.get 0)))
          (func (export "i64_f32_u") (param f32) (result i64) (i64.trunc_f32_u (local.get 0)))
          (func (export "i64_f64_s") (param f64) (result i64) (i64.trunc_f64_s (local.get 0)))
          (func (export "i64_f64_u") (param f64) (result i64) (i64.trunc_f64_u (local.get 0))))"#,
        &[],
    );
    use kestrel_vm::numeric as n;
    let mut f64s: Vec<f64> = vec![
        0.0,
        -0.0,
        0.5,
        -0.5,
        -0.9999,
        -1.0,
        1.0,
        f64::NAN,
        -f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
    ];
    for edge in [2f64.powi(31), 2f64.powi(32), 2f64.powi(63), 2f64.powi(64)] {
        for value in [edge, -edge] {
            f64s.extend([
                value,
                value.next_up(),
                value.next_down(),
                value - 1.0,
                value + 1.0,
            ]);
            let single = value as f32;
            f64s.extend([f64::from(single.next_up()), f64::from(single.next_down())]);
        }
    }
    let encode_f32 = |x: f64| (x as f32).to_bits() as u64;
    let encode_f64 = |x: f64| x.to_bits();
    type Check = (&'static str, fn(f64) -> Result<u64, TrapCode>, bool);
    let checks: [Check; 8] = [
        (
            "i32_f32_s",
            |x| n::i32_trunc_f32_s(x as f32).map(|v| v as u32 as u64),
            true,
        ),
        (
            "i32_f32_u",
            |x| n::i32_trunc_f32_u(x as f32).map(u64::from),
            true,
        ),
        (
            "i32_f64_s",
            |x| n::i32_trunc_f64_s(x).map(|v| v as u32 as u64),
            false,
        ),
        ("i32_f64_u", |x| n::i32_trunc_f64_u(x).map(u64::from), false),
        (
            "i64_f32_s",
            |x| n::i64_trunc_f32_s(x as f32).map(|v| v as u64),
            true,
        ),
        ("i64_f32_u", |x| n::i64_trunc_f32_u(x as f32), true),
        (
            "i64_f64_s",
            |x| n::i64_trunc_f64_s(x).map(|v| v as u64),
            false,
        ),
        ("i64_f64_u", |x| n::i64_trunc_f64_u(x), false),
    ];
    for (name, reference, single) in checks {
        for x in &f64s {
            let arg = if single {
                encode_f32(*x)
            } else {
                encode_f64(*x)
            };
            let expected = reference(*x);
            let got = harness
                .call(instance, name, &[arg])
                .map(|values| {
                    if name.starts_with("i32") {
                        values[0] as u32 as u64
                    } else {
                        values[0]
                    }
                })
                .map_err(|trap| trap.trap_code().unwrap());
            assert_eq!(got, expected, "{name}({x:e})");
        }
    }
}

#[test]
fn integer_division_edges() {
    let mut harness = Harness::new();
    let instance = harness.instantiate(
        r#"(module
          (func (export "div_s") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
          (func (export "rem_s") (param i32 i32) (result i32) (i32.rem_s (local.get 0) (local.get 1)))
          (func (export "div_u") (param i64 i64) (result i64) (i64.div_u (local.get 0) (local.get 1)))
          (func (export "rem_s64") (param i64 i64) (result i64) (i64.rem_s (local.get 0) (local.get 1)))
          (func (export "div_s64") (param i64 i64) (result i64) (i64.div_s (local.get 0) (local.get 1))))"#,
        &[],
    );
    let min32 = i32::MIN as u32 as u64;
    let minus_one32 = u32::MAX as u64;
    assert_eq!(
        harness.trap(instance, "div_s", &[min32, minus_one32]),
        Some(TrapCode::IntegerOverflow)
    );
    assert_eq!(
        harness.trap(instance, "div_s", &[1, 0]),
        Some(TrapCode::IntegerDivisionByZero)
    );
    assert_eq!(
        harness
            .call(instance, "rem_s", &[min32, minus_one32])
            .unwrap(),
        vec![0]
    );
    assert_eq!(
        harness.call(instance, "rem_s", &[7, minus_one32]).unwrap(),
        vec![0]
    );
    assert_eq!(
        harness.trap(instance, "rem_s", &[7, 0]),
        Some(TrapCode::IntegerDivisionByZero)
    );
    assert_eq!(
        harness.trap(instance, "div_u", &[7, 0]),
        Some(TrapCode::IntegerDivisionByZero)
    );
    assert_eq!(
        harness.call(instance, "div_u", &[u64::MAX, 2]).unwrap(),
        vec![u64::MAX / 2]
    );
    assert_eq!(
        harness.trap(instance, "div_s64", &[i64::MIN as u64, u64::MAX]),
        Some(TrapCode::IntegerOverflow)
    );
    assert_eq!(
        harness
            .call(instance, "rem_s64", &[i64::MIN as u64, u64::MAX])
            .unwrap(),
        vec![0]
    );
    // The upper half of an i32 slot is not part of the value.
    assert_eq!(
        harness
            .call(
                instance,
                "div_s",
                &[0xdead_0000_0000_0006, 0xbeef_0000_0000_0003]
            )
            .unwrap()[0] as u32,
        2
    );
}

fn host(
    harness: &mut Harness,
    ty: FuncType,
    callback: Box<kestrel_vm::store::HostCallback>,
) -> FuncId {
    let type_id = harness.registry.register(&ty);
    harness
        .store
        .push_func(FuncEntity::Host(Arc::new(HostFunc::new(
            Arc::new(ty),
            type_id,
            callback,
        ))))
}

#[test]
fn host_calls_errors_and_panics_cross_compiled_code() {
    let mut harness = Harness::new();
    let add = host(
        &mut harness,
        FuncType::new([ValType::I32, ValType::I32], [ValType::I32]),
        Box::new(|context: HostContext<'_>, values: &mut [u64]| {
            assert!(context.caller.is_some(), "called from Wasm");
            let sum = (values[0] as u32).wrapping_add(values[1] as u32);
            if sum == 13 {
                return Err("unlucky".into());
            }
            if sum == 666 {
                panic!("host panic");
            }
            values[0] = sum as u64;
            Ok(())
        }),
    );
    let instance = harness.instantiate(
        r#"(module
             (import "host" "add" (func $add (param i32 i32) (result i32)))
             (table 1 funcref)
             (elem (i32.const 0) $add)
             (func $inner (param i32) (result i32) (call $add (local.get 0) (i32.const 1)))
             (func (export "outer") (param i32) (result i32) (call $inner (local.get 0)))
             (func (export "indirect") (param i32) (result i32)
               (call_indirect (param i32 i32) (result i32) (local.get 0) (i32.const 2) (i32.const 0))))"#,
        &[Extern::Func(add)],
    );
    assert_eq!(harness.call(instance, "outer", &[41]).unwrap(), vec![42]);
    assert_eq!(harness.call(instance, "indirect", &[40]).unwrap(), vec![42]);
    let trap = harness.call(instance, "outer", &[12]).unwrap_err();
    assert_eq!(trap.to_string(), "unlucky");
    let frames: Vec<u32> = trap
        .backtrace
        .iter()
        .map(|frame| frame.func_index)
        .collect();
    assert_eq!(frames, vec![1, 2], "innermost first: $inner, then outer");
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = harness.call(instance, "outer", &[665]);
    }))
    .unwrap_err();
    assert_eq!(panic.downcast_ref::<&str>(), Some(&"host panic"));
    // The store is still usable after the panic unwound through compiled code's callers.
    assert_eq!(harness.call(instance, "outer", &[1]).unwrap(), vec![2]);
}

#[test]
fn traps_record_every_frame_innermost_first() {
    let mut harness = Harness::new();
    let instance = harness.instantiate(
        r#"(module
             (func $a (export "a") (call $b))
             (func $b (call $c))
             (func $c unreachable))"#,
        &[],
    );
    let trap = harness.call(instance, "a", &[]).unwrap_err();
    assert_eq!(trap.trap_code(), Some(TrapCode::Unreachable));
    let frames: Vec<u32> = trap
        .backtrace
        .iter()
        .map(|frame| frame.func_index)
        .collect();
    assert_eq!(frames, vec![2, 1, 0]);
    assert!(
        trap.backtrace
            .iter()
            .all(|frame| frame.instance == instance)
    );
}

/// The translator skips a bounds check when a dominating access through the same address
/// value already covered it; accesses on paths that did not pass that check must still be
/// checked.
#[test]
fn elided_bounds_checks_never_cover_other_paths() {
    let mut harness = Harness::new();
    let instance = harness.instantiate(
        r#"(module
          (memory 1)
          ;; Only the `then` branch checks [p, p+8); the `else` branch must check again.
          (func (export "if_else") (param $p i32) (param $c i32) (result i64)
            (if (result i64) (local.get $c)
              (then (i64.load (local.get $p)))
              (else (i64.load (local.get $p)))))
          ;; The check inside the `if` does not cover the access after it.
          (func (export "after_if") (param $p i32) (param $c i32) (result i64)
            (if (local.get $c) (then (drop (i64.load (local.get $p)))))
            (i64.load (local.get $p)))
          ;; The branch leaves the block before the check.
          (func (export "after_block") (param $p i32) (param $c i32) (result i64)
            (block $out
              (br_if $out (local.get $c))
              (drop (i64.load (local.get $p))))
            (i64.load (local.get $p)))
          ;; A narrower access first does not cover a wider one.
          (func (export "wider") (param $p i32) (result i64)
            (drop (i32.load8_u (local.get $p)))
            (i64.load (local.get $p)))
          ;; Nor does a smaller offset cover a larger one.
          (func (export "further") (param $p i32) (result i32)
            (drop (i32.load offset=0 (local.get $p)))
            (i32.load offset=4 (local.get $p)))
          ;; Within one straight line, covered accesses stay correct after memory.grow.
          (func (export "grow_between") (param $p i32) (result i32)
            (drop (i32.load (local.get $p)))
            (drop (memory.grow (i32.const 1)))
            (i32.load (local.get $p))))"#,
        &[],
    );
    let last = PAGE - 8;
    for (name, args) in [
        ("if_else", [PAGE - 4, 1]),
        ("if_else", [PAGE - 4, 0]),
        ("after_if", [PAGE - 4, 0]),
        ("after_if", [PAGE - 4, 1]),
        ("after_block", [PAGE - 4, 1]),
        ("after_block", [PAGE - 4, 0]),
    ] {
        assert_eq!(
            harness.trap(instance, name, &args),
            Some(TrapCode::MemoryOutOfBounds),
            "{name}{args:?}"
        );
        assert_eq!(
            harness.call(instance, name, &[last, args[1]]).unwrap()[0],
            0
        );
    }
    assert_eq!(
        harness.trap(instance, "wider", &[PAGE - 1]),
        Some(TrapCode::MemoryOutOfBounds)
    );
    assert_eq!(
        harness.trap(instance, "further", &[PAGE - 4]),
        Some(TrapCode::MemoryOutOfBounds)
    );
    assert_eq!(
        harness.call(instance, "grow_between", &[PAGE - 4]).unwrap()[0] as u32,
        0
    );
}

/// With a small reservation, growing moves the memory to a new mapping and unmaps the old
/// one: compiled code must not keep using the old base after `memory.grow`, a host call or
/// any other call. Likewise a table's elements move when it grows.
#[test]
fn memories_and_tables_that_move_are_reloaded_after_calls() {
    let mut harness = Harness::with_config(
        MemoryConfig {
            reservation_bytes: PAGE,
            ..MemoryConfig::default()
        },
        StackLimits::default(),
    );
    let grow_host = host(
        &mut harness,
        FuncType::new([], []),
        Box::new(|context: HostContext<'_>, _: &mut [u64]| {
            let caller = context.caller.expect("called from Wasm");
            let memory = context.store.instance(caller).memories[0];
            assert!(context.store.memory_mut(memory).grow(4).is_some());
            Ok(())
        }),
    );
    let instance = harness.instantiate(
        r#"(module
          (import "host" "grow" (func $grow))
          (memory 1)
          (table 1 funcref)
          (elem (i32.const 0) $seven)
          (func $seven (result i32) (i32.const 7))
          (func (export "grow_in_wasm") (result i32)
            (i32.store (i32.const 100) (i32.const 42))
            (drop (memory.grow (i32.const 3)))
            (i32.store (i32.const 196604) (i32.const 1))
            (i32.add (i32.load (i32.const 100)) (i32.load (i32.const 196604))))
          (func (export "grow_in_host") (result i32)
            (i32.store (i32.const 200) (i32.const 5))
            (call $grow)
            (i32.store (i32.const 458748) (i32.const 2))
            (i32.add (i32.load (i32.const 200)) (i32.load (i32.const 458748))))
          (func (export "grow_table") (result i32)
            (drop (table.grow (ref.null func) (i32.const 10000)))
            (table.set (i32.const 9999) (table.get (i32.const 0)))
            (call_indirect (result i32) (i32.const 9999))))"#,
        &[Extern::Func(grow_host)],
    );
    assert_eq!(
        harness.call(instance, "grow_in_wasm", &[]).unwrap()[0] as u32,
        43
    );
    assert_eq!(
        harness.call(instance, "grow_in_host", &[]).unwrap()[0] as u32,
        7
    );
    assert_eq!(
        harness.call(instance, "grow_table", &[]).unwrap()[0] as u32,
        7
    );
}
