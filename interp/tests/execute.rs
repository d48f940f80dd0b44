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
