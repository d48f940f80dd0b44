//! `v128` across every boundary of compiled code, on the runtime core alone: the entry
//! trampolines (parameters and results in vm's raw slots, a `v128` in two, low half
//! first), globals (16-byte cells), host functions and functions of other tiers called
//! from compiled code (the values buffer compiled code builds), the on-stack-replacement
//! state buffer, and the bounds checks of every kind of vector memory access.

use kestrel_parser::{Features, FuncType, GlobalType, ValType};
use kestrel_vm::value::{slot_count, slot_offset, v128_from_slots, v128_to_slots};
use kestrel_vm::{
    Extern, FuncEntity, FuncId, GlobalEntity, HostContext, HostFunc, InstanceId, MemoryConfig,
    RuntimeModule, StackLimits, StoreOpaque, Trap, TrapCode, TypeRegistry, instantiate,
};
use std::any::Any;
use std::sync::Arc;

struct Harness {
    registry: Arc<TypeRegistry>,
    store: StoreOpaque,
}

fn no_other_tier(
    _: &mut StoreOpaque,
    _: &mut dyn Any,
    _: FuncId,
    _: &mut [u64],
) -> Result<(), Trap> {
    Err(Trap::host("no other tier in these tests".into()))
}

/// Whether this host compiles SIMD; where it does not (RISC-V without V), checks that a
/// module using it is refused with the reason, which is all these tests can check there.
fn simd_host() -> bool {
    if kestrel_jit::supports_simd() {
        return true;
    }
    let module = RuntimeModule::new(
        parse("(module (func (param v128) (result v128) (local.get 0)))"),
        &TypeRegistry::default(),
    );
    let message = kestrel_jit::compile(&module).unwrap_err();
    assert!(message.contains("V (vector) extension"), "{message}");
    assert!(!kestrel_jit::is_compiled(&module));
    false
}

fn parse(wat: &str) -> Arc<kestrel_parser::ModuleInfo> {
    let bytes = wat::parse_str(wat).unwrap();
    Arc::new(kestrel_parser::parse(bytes, &Features::wasm3()).unwrap())
}

impl Harness {
    fn new() -> Harness {
        let registry = Arc::new(TypeRegistry::default());
        let store = StoreOpaque::new(
            registry.clone(),
            MemoryConfig::default(),
            StackLimits::default(),
        );
        Harness { registry, store }
    }

    /// Instantiates `wat` compiled whole by the JIT.
    fn instantiate(&mut self, wat: &str, imports: &[Extern]) -> InstanceId {
        let module = Arc::new(RuntimeModule::new(parse(wat), &self.registry));
        kestrel_jit::compile(&module).unwrap();
        let info = module.info.clone();
        for index in info.num_imported_functions..info.functions.len() as u32 {
            assert!(
                kestrel_jit::is_function_compiled(&module, index),
                "function {index}"
            );
        }
        let instance = instantiate(&mut self.store, &module, imports).unwrap();
        kestrel_jit::link_instance(&mut self.store, instance);
        instance
    }

    fn func(&self, instance: InstanceId, name: &str) -> FuncId {
        let info = &self.store.instance(instance).module.info;
        let index = info
            .export(name)
            .unwrap_or_else(|| panic!("no export {name}"))
            .index;
        self.store.instance(instance).funcs.get(index)
    }

    /// Calls export `name` with `args` already in raw slots; returns the results' slots.
    fn call_slots(
        &mut self,
        instance: InstanceId,
        name: &str,
        args: &[u64],
        hook: kestrel_jit::CallHook,
    ) -> Result<Vec<u64>, Trap> {
        let func = self.func(instance, name);
        let ty = self.store.func_type(func).clone();
        assert_eq!(
            args.len(),
            slot_count(ty.params()),
            "{name}: argument slots"
        );
        let results = slot_count(ty.results());
        let mut values = vec![0xdead_beef_dead_beef_u64; args.len().max(results).max(1)];
        values[..args.len()].copy_from_slice(args);
        kestrel_jit::call(&mut self.store, &mut (), func, &mut values, hook)?;
        values.truncate(results);
        Ok(values)
    }

    fn call(&mut self, instance: InstanceId, name: &str, args: &[u64]) -> Result<Vec<u64>, Trap> {
        self.call_slots(instance, name, args, no_other_tier)
    }

    fn host(&mut self, ty: FuncType, callback: Box<kestrel_vm::store::HostCallback>) -> FuncId {
        let type_id = self.registry.register(&ty);
        self.store
            .push_func(FuncEntity::Host(Arc::new(HostFunc::new(
                Arc::new(ty),
                type_id,
                callback,
            ))))
    }
}

const A: u128 = 0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100;
const B: u128 = 0x8000_0001_7fff_ffff_ffff_fffe_0000_0003;

fn slots(value: u128) -> [u64; 2] {
    v128_to_slots(value)
}

/// Lane-wise `i32x4.add`, the reference for the tests' arithmetic.
fn i32x4_add(a: u128, b: u128) -> u128 {
    (0..4).fold(0, |acc, lane| {
        let x = (a >> (32 * lane)) as u32;
        let y = (b >> (32 * lane)) as u32;
        acc | u128::from(x.wrapping_add(y)) << (32 * lane)
    })
}

#[test]
fn v128_parameters_and_results_cross_the_trampoline_in_two_slots_each() {
    if !simd_host() {
        return;
    }
    let mut harness = Harness::new();
    let instance = harness.instantiate(
        r#"(module
             (func (export "identity") (param v128) (result v128) (local.get 0))
             (func (export "mixed") (param i32 v128 f64 v128) (result v128 i32 v128 f64)
               (i32x4.add (local.get 1) (local.get 3))
               (i32.add (local.get 0) (i32.const 1))
               (local.get 1)
               (f64.neg (local.get 2))))"#,
        &[],
    );
    for value in [0, u128::MAX, A, B, 1 << 64, (1 << 64) - 1] {
        let result = harness.call(instance, "identity", &slots(value)).unwrap();
        assert_eq!(v128_from_slots(result[0], result[1]), value, "{value:#x}");
    }

    let params = [ValType::I32, ValType::V128, ValType::F64, ValType::V128];
    let results = [ValType::V128, ValType::I32, ValType::V128, ValType::F64];
    let mut args = vec![0; slot_count(&params)];
    args[slot_offset(&params, 0)] = 41;
    args[slot_offset(&params, 1)..][..2].copy_from_slice(&slots(A));
    args[slot_offset(&params, 2)] = 2.5f64.to_bits();
    args[slot_offset(&params, 3)..][..2].copy_from_slice(&slots(B));
    let out = harness.call(instance, "mixed", &args).unwrap();
    assert_eq!(out.len(), slot_count(&results));
    let at = |i: usize| slot_offset(&results, i);
    assert_eq!(v128_from_slots(out[at(0)], out[at(0) + 1]), i32x4_add(A, B));
    assert_eq!(out[at(1)] as u32, 42);
    assert_eq!(v128_from_slots(out[at(2)], out[at(2) + 1]), A);
    assert_eq!(f64::from_bits(out[at(3)]), -2.5);
}

#[test]
fn v128_globals_use_the_whole_16_byte_cell() {
    if !simd_host() {
        return;
    }
    let mut harness = Harness::new();
    let imported = harness.store.push_global(GlobalEntity::new(
        GlobalType {
            content: ValType::V128,
            mutable: true,
        },
        B,
    ));
    let instance = harness.instantiate(
        r#"(module
             (import "env" "g" (global $imported (mut v128)))
             (global $own (mut v128) (v128.const i64x2 0x0706050403020100 0x0f0e0d0c0b0a0908))
             (global $constant v128 (v128.const i32x4 1 2 3 4))
             (func (export "get_own") (result v128) (global.get $own))
             (func (export "get_constant") (result v128) (global.get $constant))
             (func (export "get_imported") (result v128) (global.get $imported))
             (func (export "set_own") (param v128) (global.set $own (local.get 0)))
             (func (export "bump_imported") (param v128)
               (global.set $imported (i32x4.add (global.get $imported) (local.get 0)))))"#,
        &[Extern::Global(imported)],
    );
    let get = |harness: &mut Harness, name: &str| {
        let out = harness.call(instance, name, &[]).unwrap();
        v128_from_slots(out[0], out[1])
    };
    assert_eq!(get(&mut harness, "get_own"), A);
    assert_eq!(
        get(&mut harness, "get_constant"),
        4 << 96 | 3 << 64 | 2 << 32 | 1
    );
    assert_eq!(get(&mut harness, "get_imported"), B);

    harness.call(instance, "set_own", &slots(B)).unwrap();
    assert_eq!(get(&mut harness, "get_own"), B);
    let own = harness.store.instance(instance).globals[1];
    assert_eq!(
        harness.store.global(own).bits(),
        B,
        "the store sees all 16 bytes"
    );

    harness.call(instance, "bump_imported", &slots(A)).unwrap();
    assert_eq!(harness.store.global(imported).bits(), i32x4_add(B, A));
    // A write from the host is seen by compiled code, upper half included.
    harness.store.global_mut(imported).set_bits(u128::MAX - 5);
    assert_eq!(get(&mut harness, "get_imported"), u128::MAX - 5);
}

#[test]
fn host_functions_get_and_return_v128_in_the_slot_layout() {
    if !simd_host() {
        return;
    }
    let mut harness = Harness::new();
    let params = [ValType::V128, ValType::I32, ValType::V128];
    let results = [ValType::I64, ValType::V128];
    let host = harness.host(
        FuncType::new(params, results),
        Box::new(move |context: HostContext<'_>, values: &mut [u64]| {
            assert!(context.caller.is_some(), "called from Wasm");
            assert!(values.len() >= slot_count(&params).max(slot_count(&results)));
            let a = v128_from_slots(values[0], values[1]);
            let n = values[2] as u32;
            let b = v128_from_slots(values[3], values[4]);
            // Results: an i64 in slot 0, then the v128 in slots 1 and 2.
            values[0] = u64::from(n) * 3;
            let sum = (0..4).fold(0u128, |acc, lane| {
                let x = (a >> (32 * lane)) as u32;
                let y = (b >> (32 * lane)) as u32;
                acc | u128::from(x.wrapping_add(y).wrapping_add(n)) << (32 * lane)
            });
            [values[1], values[2]] = v128_to_slots(sum);
            Ok(())
        }),
    );
    let instance = harness.instantiate(
        r#"(module
             (type $t (func (param v128 i32 v128) (result i64 v128)))
             (import "host" "f" (func $f (type $t)))
             (table 1 funcref)
             (elem (i32.const 0) $f)
             (func (export "direct") (param v128 i32 v128) (result i64 v128)
               (call $f (local.get 0) (local.get 1) (local.get 2))
               (local.set 2)
               (i64.add (i64.const 1000))
               (local.get 2))
             (func (export "indirect") (param v128 i32 v128) (result i64 v128)
               (call_indirect (type $t) (local.get 0) (local.get 1) (local.get 2) (i32.const 0))
               (local.set 2)
               (i64.add (i64.const 2000))
               (local.get 2)))"#,
        &[Extern::Func(host)],
    );
    let mut args = Vec::new();
    args.extend(slots(A));
    args.push(7);
    args.extend(slots(B));
    let expected = (0..4).fold(0u128, |acc, lane| {
        let x = (A >> (32 * lane)) as u32;
        let y = (B >> (32 * lane)) as u32;
        acc | u128::from(x.wrapping_add(y).wrapping_add(7)) << (32 * lane)
    });
    for (name, add) in [("direct", 1000), ("indirect", 2000)] {
        let out = harness.call(instance, name, &args).unwrap();
        assert_eq!(out[0], 21 + add, "{name}");
        assert_eq!(v128_from_slots(out[1], out[2]), expected, "{name}");
    }
}

#[test]
fn a_compiled_function_reaches_another_tier_with_v128_in_slots() {
    if !simd_host() {
        return;
    }
    // Compiled function by function (tiered): `caller` is compiled, `callee` is not, so the
    // call goes through the runtime to the hook, as it would to the interpreter.
    let mut harness = Harness::new();
    let module = Arc::new(RuntimeModule::new(
        parse(
            r#"(module
                 (func $callee (param f32 v128) (result v128 i32) unreachable)
                 (func (export "caller") (param v128) (result v128 i32)
                   (call $callee (f32.const 1.5) (local.get 0))))"#,
        ),
        &harness.registry,
    ));
    kestrel_jit::compile_function(&module, 1).unwrap();
    assert!(kestrel_jit::is_function_compiled(&module, 1));
    assert!(!kestrel_jit::is_function_compiled(&module, 0));
    let instance = instantiate(&mut harness.store, &module, &[]).unwrap();
    kestrel_jit::link_instance(&mut harness.store, instance);
    fn hook(
        store: &mut StoreOpaque,
        _: &mut dyn Any,
        func: FuncId,
        values: &mut [u64],
    ) -> Result<(), Trap> {
        let ty = store.func_type(func).clone();
        assert_eq!(ty.params(), [ValType::F32, ValType::V128]);
        assert!(values.len() >= 3);
        assert_eq!(f32::from_bits(values[0] as u32), 1.5);
        let v = v128_from_slots(values[1], values[2]);
        // Results: the v128 reversed byte-wise in slots 0 and 1, then an i32 in slot 2.
        [values[0], values[1]] = v128_to_slots(v.swap_bytes());
        values[2] = 0x1234;
        Ok(())
    }
    let out = harness
        .call_slots(instance, "caller", &slots(A), hook)
        .unwrap();
    assert_eq!(v128_from_slots(out[0], out[1]), A.swap_bytes());
    assert_eq!(out[2] as u32, 0x1234);
}

#[test]
fn calls_between_compiled_instances_pass_v128_natively() {
    if !simd_host() {
        return;
    }
    let mut harness = Harness::new();
    let callee = harness.instantiate(
        r#"(module (func (export "add") (param v128 v128) (result v128)
             (i32x4.add (local.get 0) (local.get 1))))"#,
        &[],
    );
    let add = harness.func(callee, "add");
    let caller = harness.instantiate(
        r#"(module
             (import "m" "add" (func $add (param v128 v128) (result v128)))
             (func (export "twice") (param v128 v128) (result v128)
               (call $add (call $add (local.get 0) (local.get 1)) (local.get 1))))"#,
        &[Extern::Func(add)],
    );
    let mut args = slots(A).to_vec();
    args.extend(slots(B));
    let out = harness.call(caller, "twice", &args).unwrap();
    assert_eq!(
        v128_from_slots(out[0], out[1]),
        i32x4_add(i32x4_add(A, B), B)
    );
}

#[test]
fn the_osr_state_holds_v128_locals_and_operands_in_two_slots() {
    if !simd_host() {
        return;
    }
    let mut harness = Harness::new();
    let module = Arc::new(RuntimeModule::new(
        parse(
            r#"(module
                 (func (export "f") (param $v v128) (param $n i32) (result v128)
                   (local $acc v128)
                   (local.get $v)
                   (loop $l
                     (local.set $acc (i32x4.add (local.get $acc) (local.get $v)))
                     (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                     (br_if $l (local.get $n)))
                   (local.get $acc)
                   (i32x4.add)))"#,
        ),
        &harness.registry,
    ));
    kestrel_jit::compile_osr_entry(&module, 0, 0).unwrap();
    let instance = instantiate(&mut harness.store, &module, &[]).unwrap();
    // The state: locals $v (slots 0-1), $n (2), $acc (3-4), then the operand stack at the
    // header: the v128 beneath the loop (5-6).
    let (v, acc, beneath) = (A, B, 0x1111_2222_3333_4444_5555_6666_7777_8888_u128);
    let mut state = vec![0u64; 7];
    state[0..2].copy_from_slice(&slots(v));
    state[2] = 3;
    state[3..5].copy_from_slice(&slots(acc));
    state[5..7].copy_from_slice(&slots(beneath));
    kestrel_jit::call_osr_entry(
        &mut harness.store,
        &mut (),
        instance,
        0,
        0,
        &mut state,
        no_other_tier,
    )
    .unwrap();
    // Three more iterations add $v three times to $acc; the result is beneath + $acc.
    let acc = i32x4_add(i32x4_add(i32x4_add(acc, v), v), v);
    assert_eq!(v128_from_slots(state[0], state[1]), i32x4_add(beneath, acc));
}

#[test]
fn vector_accesses_are_bounds_checked_at_their_last_byte() {
    if !simd_host() {
        return;
    }
    const PAGE: u64 = 65536;
    let mut harness = Harness::new();
    let instance = harness.instantiate(
        r#"(module
             (memory 1)
             (func (export "load") (param i32) (result v128) (v128.load (local.get 0)))
             (func (export "load_offset") (param i32) (result v128)
               (v128.load offset=0xfffffff0 (local.get 0)))
             (func (export "store") (param i32 v128) (v128.store (local.get 0) (local.get 1)))
             (func (export "load8x8") (param i32) (result v128) (v128.load8x8_u (local.get 0)))
             (func (export "splat32") (param i32) (result v128) (v128.load32_splat (local.get 0)))
             (func (export "zero64") (param i32) (result v128) (v128.load64_zero (local.get 0)))
             (func (export "lane16") (param i32 v128) (result v128)
               (v128.load16_lane 7 (local.get 0) (local.get 1)))
             (func (export "store_lane64") (param i32 v128)
               (v128.store64_lane 1 (local.get 0) (local.get 1))))"#,
        &[],
    );
    // Each access: its size, and its arguments after the address.
    let accesses: [(&str, u64, &[u64]); 7] = [
        ("load", 16, &[]),
        ("store", 16, &slots(A)),
        ("load8x8", 8, &[]),
        ("splat32", 4, &[]),
        ("zero64", 8, &[]),
        ("lane16", 2, &slots(A)),
        ("store_lane64", 8, &slots(A)),
    ];
    for (name, size, rest) in accesses {
        let with = |address: u64| [&[address][..], rest].concat();
        harness.call(instance, name, &with(PAGE - size)).unwrap();
        for address in [PAGE - size + 1, PAGE - 1, PAGE, u32::MAX as u64 - 1] {
            let trap = harness.call(instance, name, &with(address)).unwrap_err();
            assert_eq!(
                trap.trap_code(),
                Some(TrapCode::MemoryOutOfBounds),
                "{name} at {address:#x}"
            );
        }
    }
    // 0xfffffff0 + 0x10 is 2^32, past the end, not address 0.
    let trap = harness.call(instance, "load_offset", &[0x10]).unwrap_err();
    assert_eq!(trap.trap_code(), Some(TrapCode::MemoryOutOfBounds));

    // A store straddling the end writes nothing.
    for address in [PAGE - 32, PAGE - 16] {
        harness
            .call(instance, "store", &[&[address][..], &slots(0)].concat())
            .unwrap();
    }
    let trap = harness
        .call(
            instance,
            "store",
            &[&[PAGE - 8][..], &slots(u128::MAX)].concat(),
        )
        .unwrap_err();
    assert_eq!(trap.trap_code(), Some(TrapCode::MemoryOutOfBounds));
    for address in [PAGE - 32, PAGE - 16] {
        let out = harness.call(instance, "load", &[address]).unwrap();
        assert_eq!(v128_from_slots(out[0], out[1]), 0, "bytes at {address:#x}");
    }
    // The lane stores write their lane's bytes only.
    harness
        .call(
            instance,
            "store_lane64",
            &[&[PAGE - 8][..], &slots(A)].concat(),
        )
        .unwrap();
    let out = harness.call(instance, "load", &[PAGE - 16]).unwrap();
    assert_eq!(v128_from_slots(out[0], out[1]), A >> 64 << 64);
}

#[test]
fn a_host_function_panicking_with_v128_arguments_unwinds_cleanly() {
    if !simd_host() {
        return;
    }
    let mut harness = Harness::new();
    let host = harness.host(
        FuncType::new([ValType::V128], []),
        Box::new(|_: HostContext<'_>, values: &mut [u64]| {
            if v128_from_slots(values[0], values[1]) == u128::MAX {
                return Err("all ones".into());
            }
            Ok(())
        }),
    );
    let instance = harness.instantiate(
        r#"(module
             (import "host" "f" (func $f (param v128)))
             (func (export "g") (param v128) (call $f (local.get 0))))"#,
        &[Extern::Func(host)],
    );
    harness.call(instance, "g", &slots(A)).unwrap();
    let trap = harness.call(instance, "g", &slots(u128::MAX)).unwrap_err();
    assert_eq!(trap.to_string(), "all ones");
    assert_eq!(trap.backtrace.len(), 1);
}
