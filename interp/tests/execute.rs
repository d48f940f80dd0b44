//! End-to-end checks of the interpreter on the runtime core alone (no embedding API).

use kestrel_parser::Features;
use kestrel_vm::{
    MemoryConfig, RuntimeModule, StackLimits, StoreOpaque, TrapCode, TypeRegistry, instantiate,
};
use std::sync::Arc;

fn run(
    wat: &str,
    export: &str,
    args: &[u64],
    results: usize,
) -> Result<Vec<u64>, kestrel_vm::Trap> {
    let registry = Arc::new(TypeRegistry::default());
    let bytes = wat::parse_str(wat).unwrap();
    let info = Arc::new(kestrel_parser::parse(bytes, &Features::default()).unwrap());
    let module = Arc::new(RuntimeModule::new(info.clone(), &registry));
    let mut store = StoreOpaque::new(registry, MemoryConfig::default(), StackLimits::default());
    let instance = instantiate(&mut store, &module, &[]).unwrap();
    let index = info.export(export).unwrap().index;
    let func = store.instance(instance).funcs.get(index);
    let mut values = vec![0u64; args.len().max(results)];
    values[..args.len()].copy_from_slice(args);
    kestrel_interp::call(&mut store, &mut (), func, &mut values)?;
    values.truncate(results);
    Ok(values)
}

const FIBONACCI: &str = r#"
(module
  (func $fib (export "fib") (param i64) (result i64)
    (if (result i64) (i64.le_u (local.get 0) (i64.const 1))
      (then (local.get 0))
      (else (i64.add (call $fib (i64.sub (local.get 0) (i64.const 1)))
                     (call $fib (i64.sub (local.get 0) (i64.const 2)))))))
  (func (export "fib_iter") (param $n i32) (result i64)
    (local $a i64) (local $b i64) (local $t i64)
    (local.set $b (i64.const 1))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $t (i64.add (local.get $a) (local.get $b)))
        (local.set $a (local.get $b))
        (local.set $b (local.get $t))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $a))
  (func (export "swap") (param i32 i32) (result i32 i32)
    (local.get 1) (local.get 0))
  (func (export "deep") (param i32) (result i32)
    (call 3 (i32.add (local.get 0) (i32.const 1))))
  (memory 1)
  (func (export "memory") (param i32) (result i32)
    (i32.store (local.get 0) (i32.const 0x01020304))
    (i32.load8_u offset=1 (local.get 0)))
  (func (export "select_table") (param i32) (result i32)
    (block $c (block $b (block $a
      (br_table $a $b $c (local.get 0)))
      (return (i32.const 10)))
      (return (i32.const 20)))
    (i32.const 30))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
)"#;

#[test]
fn recursive_and_iterative_fibonacci() {
    assert_eq!(run(FIBONACCI, "fib", &[20], 1).unwrap(), vec![6765]);
    assert_eq!(
        run(FIBONACCI, "fib_iter", &[50], 1).unwrap(),
        vec![12586269025]
    );
}

#[test]
fn multiple_results_come_back_in_order() {
    assert_eq!(run(FIBONACCI, "swap", &[1, 2], 2).unwrap(), vec![2, 1]);
}

#[test]
fn memory_and_branch_tables() {
    assert_eq!(run(FIBONACCI, "memory", &[8], 1).unwrap(), vec![3]);
    assert_eq!(
        run(FIBONACCI, "memory", &[65533], 1)
            .unwrap_err()
            .trap_code(),
        Some(TrapCode::MemoryOutOfBounds)
    );
    for (index, expected) in [(0, 10), (1, 20), (2, 30), (99, 30)] {
        assert_eq!(
            run(FIBONACCI, "select_table", &[index], 1).unwrap(),
            vec![expected]
        );
    }
}

#[test]
fn traps_carry_their_code_and_backtrace() {
    let trap = run(FIBONACCI, "div", &[1, 0], 1).unwrap_err();
    assert_eq!(trap.trap_code(), Some(TrapCode::IntegerDivisionByZero));
    assert_eq!(trap.backtrace.len(), 1);
    let trap = run(FIBONACCI, "deep", &[0], 1).unwrap_err();
    assert_eq!(trap.trap_code(), Some(TrapCode::StackOverflow));
}

const EQZ_BRANCHES: &str = r#"
(module
  (func (export "br_if_eqz32") (param i32) (result i32)
    (block $zero
      (br_if $zero (i32.eqz (local.get 0)))
      (return (i32.const 1)))
    (i32.const 0))
  (func (export "if_eqz32") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0)) (else (i32.const 1))))
  (func (export "br_if_eqz64") (param i64) (result i32)
    (block $zero
      (br_if $zero (i64.eqz (local.get 0)))
      (return (i32.const 1)))
    (i32.const 0))
  (func (export "if_eqz64") (param i64) (result i32)
    (if (result i32) (i64.eqz (local.get 0)) (then (i32.const 0)) (else (i32.const 1))))
  ;; The tested value is a temporary, and the branch carries a value past another one, so
  ;; it needs moves (the fused branch skips them when not taken).
  (func (export "br_if_eqz_moves") (param i32 i32) (result i32)
    (i32.const 100)
    (block $out (result i32)
      (i32.const 5)
      (local.get 1)
      (br_if $out (i32.eqz (i32.and (local.get 0) (i32.const 0xff))))
      (drop) (drop) (i32.const -1))
    (i32.add))
  ;; A loop left by an `i32.eqz` branch, entered again by a backward one.
  (func (export "count_down") (param i32) (result i32)
    (local $steps i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get 0)))
        (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
        (local.set $steps (i32.add (local.get $steps) (i32.const 1)))
        (br $next)))
    (local.get $steps))
)"#;

#[test]
fn i32_eqz_branches_are_taken_exactly_on_zero() {
    let cases: [(u32, u64); 5] = [
        (0, 0),
        (1, 1),
        (u32::MAX, 1),
        (i32::MIN as u32, 1),
        (i32::MAX as u32, 1),
    ];
    for (value, expected) in cases {
        for export in ["br_if_eqz32", "if_eqz32"] {
            assert_eq!(
                run(EQZ_BRANCHES, export, &[u64::from(value)], 1).unwrap(),
                vec![expected],
                "{export}({value:#x})"
            );
        }
    }
}

#[test]
fn i64_eqz_branches_look_at_all_64_bits() {
    // `1 << 32` has zero low bits: a branch on the low half alone would take it for zero.
    let cases: [(u64, u64); 6] = [
        (0, 0),
        (1, 1),
        (1 << 32, 1),
        (i64::MIN as u64, 1),
        (i64::MAX as u64, 1),
        (u64::MAX, 1),
    ];
    for (value, expected) in cases {
        for export in ["br_if_eqz64", "if_eqz64"] {
            assert_eq!(
                run(EQZ_BRANCHES, export, &[value], 1).unwrap(),
                vec![expected],
                "{export}({value:#x})"
            );
        }
    }
}

#[test]
fn a_fused_eqz_branch_with_moves_carries_its_value_only_when_taken() {
    // Taken: the low byte is zero, the carried 7 arrives; not taken: -1 does.
    assert_eq!(
        run(EQZ_BRANCHES, "br_if_eqz_moves", &[0x100, 7], 1).unwrap(),
        vec![107]
    );
    assert_eq!(
        run(EQZ_BRANCHES, "br_if_eqz_moves", &[0x101, 7], 1).unwrap(),
        vec![99]
    );
}

#[test]
fn loops_run_through_relative_branches() {
    for n in [0u64, 1, 1000] {
        assert_eq!(run(EQZ_BRANCHES, "count_down", &[n], 1).unwrap(), vec![n]);
    }
}

const IMMEDIATES: &str = r#"
(module
  (func (export "add_min") (param i32) (result i32) (i32.add (local.get 0) (i32.const -2147483648)))
  (func (export "sub_max") (param i32) (result i32) (i32.sub (local.get 0) (i32.const 2147483647)))
  (func (export "shl_33") (param i32) (result i32) (i32.shl (local.get 0) (i32.const 33)))
  (func (export "shr_s_31") (param i32) (result i32) (i32.shr_s (local.get 0) (i32.const 31)))
  (func (export "rotl_const") (param i32) (result i32) (i32.rotl (i32.const 0x80000001) (local.get 0)))
  (func (export "rotr_4") (param i32) (result i32) (i32.rotr (local.get 0) (i32.const 4)))
  (func (export "i64_add_minus_1") (param i64) (result i64) (i64.add (local.get 0) (i64.const -1)))
  (func (export "i64_and_min") (param i64) (result i64)
    (i64.and (local.get 0) (i64.const -2147483648)))
  (func (export "i64_shr_u_65") (param i64) (result i64) (i64.shr_u (local.get 0) (i64.const 65)))
  (func (export "i64_mul_const_left") (param i64) (result i64) (i64.mul (i64.const -3) (local.get 0)))
  ;; Compare-and-branch with immediates: 1 when taken.
  (func (export "lt_s_min") (param i32) (result i32)
    (block (br_if 0 (i32.lt_s (local.get 0) (i32.const -2147483648))) (return (i32.const 0)))
    (i32.const 1))
  (func (export "le_s_max") (param i32) (result i32)
    (block (br_if 0 (i32.le_s (local.get 0) (i32.const 2147483647))) (return (i32.const 0)))
    (i32.const 1))
  (func (export "lt_u_all_ones") (param i32) (result i32)
    (block (br_if 0 (i32.lt_u (local.get 0) (i32.const -1))) (return (i32.const 0)))
    (i32.const 1))
  (func (export "i64_lt_u_minus_1") (param i64) (result i32)
    (block (br_if 0 (i64.lt_u (local.get 0) (i64.const -1))) (return (i32.const 0)))
    (i32.const 1))
  (func (export "i64_gt_s_min") (param i64) (result i32)
    (if (result i32) (i64.gt_s (local.get 0) (i64.const -2147483648))
      (then (i32.const 1)) (else (i32.const 0))))
)"#;

#[test]
fn binary_immediates_compute_as_the_constants_did() {
    let cases: &[(&str, u64, u64)] = &[
        ("add_min", 1, 0x8000_0001),
        ("add_min", 0x8000_0000, 0),
        ("sub_max", 0, 0x8000_0001),
        ("sub_max", u64::from(u32::MAX), 0x8000_0000),
        ("shl_33", 3, 6),
        ("shr_s_31", 0x8000_0000, 0xFFFF_FFFF),
        ("shr_s_31", 0x7FFF_FFFF, 0),
        ("rotl_const", 1, 3),
        ("rotr_4", 0x1234_5678, 0x8123_4567),
        ("i64_add_minus_1", 0, u64::MAX),
        ("i64_add_minus_1", 1 << 32, 0xFFFF_FFFF),
        ("i64_and_min", u64::MAX, 0xFFFF_FFFF_8000_0000),
        ("i64_shr_u_65", u64::MAX, u64::MAX >> 1),
        ("i64_mul_const_left", 2, (-6i64) as u64),
    ];
    for &(export, input, expected) in cases {
        assert_eq!(
            run(IMMEDIATES, export, &[input], 1).unwrap(),
            vec![expected],
            "{export}({input:#x})"
        );
    }
}

#[test]
fn compare_branch_immediates_are_taken_exactly_at_the_boundaries() {
    let min = i32::MIN as u32 as u64;
    let max = i32::MAX as u64;
    let all_ones = u64::from(u32::MAX);
    let cases: &[(&str, u64, u64)] = &[
        ("lt_s_min", min, 0),
        ("lt_s_min", max, 0),
        ("le_s_max", max, 1),
        ("le_s_max", min, 1),
        ("lt_u_all_ones", all_ones, 0),
        ("lt_u_all_ones", all_ones - 1, 1),
        ("i64_lt_u_minus_1", u64::MAX, 0),
        ("i64_lt_u_minus_1", u64::MAX - 1, 1),
        ("i64_gt_s_min", (i64::from(i32::MIN)) as u64, 0),
        ("i64_gt_s_min", (i64::from(i32::MIN) + 1) as u64, 1),
        ("i64_gt_s_min", i64::MIN as u64, 0),
        ("i64_gt_s_min", 0xFFFF_FFFF, 1),
    ];
    for &(export, input, expected) in cases {
        assert_eq!(
            run(IMMEDIATES, export, &[input], 1).unwrap(),
            vec![expected],
            "{export}({input:#x})"
        );
    }
}
