//! The same programs on every execution strategy: results, trap codes and backtraces must
//! be identical, and calls must cross between compiled code and the host in both directions.

use kestrel::{Caller, Config, Engine, Linker, Module, Store, Strategy, Trap, Val};

fn strategies() -> Vec<Strategy> {
    let mut strategies = vec![Strategy::Interpreter];
    if kestrel_jit_supported() {
        strategies.push(Strategy::Jit);
        strategies.push(Strategy::Tiered);
    }
    strategies
}

fn kestrel_jit_supported() -> bool {
    let mut config = Config::new();
    config.strategy(Strategy::Jit);
    Engine::new(&config).is_ok()
}

fn engine(strategy: Strategy) -> Engine {
    let mut config = Config::new();
    config.strategy(strategy);
    if strategy == Strategy::Tiered {
        // Compile at the second entry or third loop iteration, synchronously, so that the
        // tests' calls and recursions cross the switch at a fixed point.
        config.tiering_thresholds(2, 3).tiering_in_background(false);
    }
    Engine::new(&config).unwrap()
}

/// What a call produced, in a form comparable across strategies.
#[derive(Debug, PartialEq)]
enum Outcome {
    Values(Vec<String>),
    Trap {
        code: Option<Trap>,
        message: String,
        frames: Vec<u32>,
    },
}

fn outcome(result: kestrel::Result<Vec<Val>>) -> Outcome {
    match result {
        Ok(values) => Outcome::Values(values.iter().map(|value| format!("{value:?}")).collect()),
        Err(error) => Outcome::Trap {
            code: error.trap_code(),
            message: error.to_string(),
            frames: error
                .backtrace()
                .map(|backtrace| {
                    backtrace
                        .frames()
                        .iter()
                        .map(|frame| frame.func_index())
                        .collect()
                })
                .unwrap_or_default(),
        },
    }
}

/// Runs `calls` on a fresh instance of `wat` under every strategy and checks they agree.
fn agree(wat: &str, calls: &[(&str, &[Val])]) -> Vec<Outcome> {
    let mut per_strategy = Vec::new();
    for strategy in strategies() {
        let engine = engine(strategy);
        let module = Module::new(&engine, wat).unwrap();
        let mut store = Store::new(&engine, 0u32);
        let mut linker = Linker::new(&engine);
        linker
            .func_wrap(
                "host",
                "count",
                |mut caller: Caller<'_, u32>, x: i32| -> i32 {
                    *caller.data_mut() += 1;
                    x + 1
                },
            )
            .unwrap();
        linker
            .func_wrap(
                "host",
                "fail",
                |_: Caller<'_, u32>, x: i32| -> kestrel::Result<i32> {
                    if x < 0 {
                        Err(kestrel::Error::msg("negative"))
                    } else {
                        Ok(x)
                    }
                },
            )
            .unwrap();
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let mut outcomes = Vec::new();
        for (name, params) in calls {
            let func = instance.get_func(&mut store, name).unwrap();
            let ty = func.ty(&store);
            let mut results = vec![Val::I32(0); ty.results().len()];
            let result = func
                .call(&mut store, params, &mut results)
                .map(|()| results);
            outcomes.push(outcome(result));
        }
        outcomes.push(Outcome::Values(vec![format!(
            "host calls: {}",
            store.data()
        )]));
        per_strategy.push((strategy, outcomes));
    }
    let (first_strategy, first) = per_strategy.remove(0);
    for (strategy, outcomes) in per_strategy {
        assert_eq!(
            first, outcomes,
            "{first_strategy:?} and {strategy:?} disagree"
        );
    }
    first
}

const PROGRAM: &str = r#"
(module $program
  (import "host" "count" (func $count (param i32) (result i32)))
  (import "host" "fail" (func $fail (param i32) (result i32)))
  (memory 1)
  (table 3 funcref)
  (elem (i32.const 0) $leaf $count)
  (func $leaf (param i32) (result i32) (i32.div_s (i32.const 100) (local.get 0)))
  (func $middle (param i32) (result i32) (call $leaf (local.get 0)))
  (func (export "direct") (param i32) (result i32) (call $middle (local.get 0)))
  (func (export "indirect") (param i32 i32) (result i32)
    (call_indirect (param i32) (result i32) (local.get 1) (local.get 0)))
  (func (export "host") (param i32) (result i32) (call $fail (call $count (local.get 0))))
  (func (export "memory") (param i32) (result i32)
    (i32.store (local.get 0) (i32.const 7))
    (i32.load (local.get 0)))
  (func $forever (export "forever") (param i32) (result i32)
    (call $forever (i32.add (local.get 0) (i32.const 1))))
  (func (export "multi") (param i64 f64) (result f64 i64 i32)
    (local.get 1) (local.get 0) (i32.wrap_i64 (local.get 0)))
)"#;

#[test]
fn results_traps_and_backtraces_agree() {
    let outcomes = agree(
        PROGRAM,
        &[
            ("direct", &[Val::I32(5)]),
            ("direct", &[Val::I32(0)]),
            ("indirect", &[Val::I32(0), Val::I32(4)]),
            ("indirect", &[Val::I32(0), Val::I32(0)]),
            ("indirect", &[Val::I32(1), Val::I32(4)]),
            ("indirect", &[Val::I32(2), Val::I32(4)]),
            ("indirect", &[Val::I32(3), Val::I32(4)]),
            ("host", &[Val::I32(1)]),
            ("host", &[Val::I32(-5)]),
            ("memory", &[Val::I32(16)]),
            ("memory", &[Val::I32(65534)]),
            ("multi", &[Val::I64(-3), Val::F64(2.5f64.to_bits())]),
        ],
    );
    assert_eq!(outcomes[0], Outcome::Values(vec!["I32(20)".into()]));
    let Outcome::Trap { code, frames, .. } = &outcomes[1] else {
        panic!("division by zero must trap: {:?}", outcomes[1]);
    };
    assert_eq!(*code, Some(Trap::IntegerDivisionByZero));
    // $leaf, $middle, direct: innermost first, function indices counting the imports.
    assert_eq!(frames, &[2, 3, 4]);
}

#[test]
fn stack_exhaustion_traps_on_every_strategy() {
    for strategy in strategies() {
        let engine = engine(strategy);
        let module = Module::new(&engine, PROGRAM).unwrap();
        let mut store = Store::new(&engine, 0u32);
        let mut linker = Linker::new(&engine);
        linker.func_wrap("host", "count", |x: i32| x).unwrap();
        linker.func_wrap("host", "fail", |x: i32| x).unwrap();
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let forever = instance
            .get_typed_func::<i32, i32>(&mut store, "forever")
            .unwrap();
        let error = forever.call(&mut store, 0).unwrap_err();
        assert_eq!(error.trap_code(), Some(Trap::StackOverflow), "{strategy:?}");
        let direct = instance
            .get_typed_func::<i32, i32>(&mut store, "direct")
            .unwrap();
        assert_eq!(direct.call(&mut store, 10).unwrap(), 10, "{strategy:?}");
    }
}

#[test]
fn host_functions_reenter_compiled_code() {
    for strategy in strategies() {
        let engine = engine(strategy);
        let module = Module::new(
            &engine,
            r#"(module
                 (import "host" "reenter" (func $reenter (param i32) (result i32)))
                 (func (export "countdown") (param i32) (result i32)
                   (if (result i32) (i32.eqz (local.get 0))
                     (then (i32.const 0))
                     (else (i32.add (call $reenter (i32.sub (local.get 0) (i32.const 1)))
                                    (i32.const 1))))))"#,
        )
        .unwrap();
        let mut store = Store::new(&engine, ());
        let mut linker = Linker::new(&engine);
        linker
            .func_wrap("host", "reenter", |mut caller: Caller<'_, ()>, n: i32| {
                let Some(kestrel::Extern::Func(countdown)) = caller.get_export("countdown") else {
                    panic!("the caller exports countdown");
                };
                let countdown = countdown.typed::<i32, i32>(&caller).unwrap();
                countdown.call(&mut caller, n)
            })
            .unwrap();
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let countdown = instance
            .get_typed_func::<i32, i32>(&mut store, "countdown")
            .unwrap();
        assert_eq!(countdown.call(&mut store, 50).unwrap(), 50, "{strategy:?}");
        // Past the re-entrancy limit the nested entry traps and the error unwinds all.
        let error = countdown.call(&mut store, 1000).unwrap_err();
        assert!(
            error.to_string().contains("call stack exhausted"),
            "{strategy:?}: {error}"
        );
        assert_eq!(countdown.call(&mut store, 3).unwrap(), 3, "{strategy:?}");
    }
}

#[test]
fn modules_link_across_instances() {
    for strategy in strategies() {
        let engine = engine(strategy);
        let mut store = Store::new(&engine, ());
        let mut linker = Linker::new(&engine);
        let provider = Module::new(
            &engine,
            r#"(module
                 (memory (export "memory") 1)
                 (global (export "counter") (mut i32) (i32.const 0))
                 (table (export "table") 2 funcref)
                 (elem (i32.const 0) $bump)
                 (func $bump (export "bump") (result i32)
                   (global.set 0 (i32.add (global.get 0) (i32.const 1)))
                   (i32.store (i32.const 0) (global.get 0))
                   (global.get 0)))"#,
        )
        .unwrap();
        let provider = linker.instantiate(&mut store, &provider).unwrap();
        linker.instance(&mut store, "provider", provider).unwrap();
        let user = Module::new(
            &engine,
            r#"(module
                 (import "provider" "bump" (func $bump (result i32)))
                 (import "provider" "memory" (memory 1))
                 (import "provider" "counter" (global (mut i32)))
                 (import "provider" "table" (table 2 funcref))
                 (func (export "run") (result i32)
                   (drop (call $bump))
                   (drop (call_indirect (result i32) (i32.const 0)))
                   (i32.add (i32.load (i32.const 0)) (global.get 0))))"#,
        )
        .unwrap();
        let user = linker.instantiate(&mut store, &user).unwrap();
        let run = user.get_typed_func::<(), i32>(&mut store, "run").unwrap();
        assert_eq!(run.call(&mut store, ()).unwrap(), 4, "{strategy:?}");
        assert_eq!(run.call(&mut store, ()).unwrap(), 8, "{strategy:?}");
    }
}

/// Under `Strategy::Tiered` (thresholds 2 calls / 3 back-edges, see `engine`), the first
/// entry of `$down` runs interpreted and its recursive call compiles the module, so the
/// trap's backtrace spans both tiers; a loop makes a function hot by back-edges alone.
#[test]
fn tier_switches_mid_call_keep_traps_and_backtraces() {
    const SWITCHING: &str = r#"
(module
  (func $down (export "down") (param i32) (result i32)
    (if (i32.eqz (local.get 0)) (then (unreachable)))
    (i32.add (i32.const 1) (call $down (i32.sub (local.get 0) (i32.const 1)))))
  (func $sum (export "sum") (param i32) (result i32) (local i32)
    (block (loop
      (br_if 1 (i32.eqz (local.get 0)))
      (local.set 1 (i32.add (local.get 1) (local.get 0)))
      (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
      (br 0)))
    (local.get 1))
  (func (export "sum_twice") (param i32) (result i32)
    (i32.add (call $sum (local.get 0)) (call $sum (local.get 0))))
)"#;
    let outcomes = agree(
        SWITCHING,
        &[
            ("down", &[Val::I32(4)]),
            ("down", &[Val::I32(3)]),
            ("sum", &[Val::I32(10)]),
            ("sum_twice", &[Val::I32(100)]),
        ],
    );
    let Outcome::Trap { code, frames, .. } = &outcomes[0] else {
        panic!("`down` must trap: {:?}", outcomes[0]);
    };
    assert_eq!(*code, Some(Trap::Unreachable));
    assert_eq!(frames, &[0, 0, 0, 0, 0]);
    assert_eq!(outcomes[2], Outcome::Values(vec!["I32(55)".into()]));
    assert_eq!(outcomes[3], Outcome::Values(vec!["I32(10100)".into()]));
}

/// A mutual recursion: `$even` calls `$odd` calls `$even`.
const MUTUAL: &str = r#"
(module
  (func $even (export "even") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 1))
      (else (call $odd (i32.sub (local.get 0) (i32.const 1))))))
  (func $odd (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else (call $even (i32.sub (local.get 0) (i32.const 1))))))
)"#;

/// Makes `$even` of [`MUTUAL`] hot with 300 shallow calls (`$odd` is never called), then
/// recurses deeply through both, `rounds` times.
fn deep_mutual_recursion(background: bool, rounds: usize) {
    if !kestrel_jit_supported() {
        return;
    }
    let mut config = Config::new();
    config
        .strategy(Strategy::Tiered)
        .tiering_thresholds(300, 1_000_000)
        .tiering_in_background(background);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, MUTUAL).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    let even = instance
        .get_typed_func::<i32, i32>(&mut store, "even")
        .unwrap();
    for _ in 0..300 {
        assert_eq!(even.call(&mut store, 0).unwrap(), 1);
    }
    for _ in 0..rounds {
        assert_eq!(even.call(&mut store, 5001).unwrap(), 0);
        assert_eq!(even.call(&mut store, 5000).unwrap(), 1);
    }
}

/// A function compiled before its callee (here `$even`, hot from shallow calls, while
/// `$odd` was never called) must not turn a deep mutual recursion into nested entries
/// between the tiers, each costing host stack and a unit of `max_reentrancy`: compiled
/// code compiles the interpreted functions it calls.
#[test]
fn deep_recursion_across_a_partial_tier_up() {
    deep_mutual_recursion(false, 1);
}

#[test]
fn long_loops_leave_the_interpreter_mid_call() {
    const LOOPS: &str = r#"
(module
  (func (export "sum") (param $n i32) (result i64) (local $i i32) (local $acc i64)
    (i64.const 7)
    (loop $l
      (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (i64.add (local.get $acc)))
  (func $countdown (param $n i32) (result i32)
    (loop $l
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (drop (i32.div_u (i32.const 1) (local.get $n)))
      (br $l))
    (unreachable))
  (func (export "trap_after_switch") (param i32) (result i32)
    (i32.add (i32.const 1) (call $countdown (local.get 0))))
)"#;
    let outcomes = agree(
        LOOPS,
        &[
            ("sum", &[Val::I32(100_000)]),
            ("trap_after_switch", &[Val::I32(50)]),
        ],
    );
    assert_eq!(outcomes[0], Outcome::Values(vec!["I64(4999950007)".into()]));
    let Outcome::Trap { code, frames, .. } = &outcomes[1] else {
        panic!("`trap_after_switch` must trap: {:?}", outcomes[1]);
    };
    assert_eq!(*code, Some(Trap::IntegerDivisionByZero));
    assert_eq!(
        frames,
        &[1, 2],
        "the replaced frame appears once, then its caller"
    );

    if !kestrel_jit_supported() {
        return;
    }
    for on_stack_replacement in [true, false] {
        let mut config = Config::new();
        config
            .strategy(Strategy::Tiered)
            .tiering_thresholds(1_000_000, 100)
            .tiering_in_background(false)
            .on_stack_replacement(on_stack_replacement);
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(&engine, LOOPS).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Linker::new(&engine)
            .instantiate(&mut store, &module)
            .unwrap();
        let sum = instance
            .get_typed_func::<i32, i64>(&mut store, "sum")
            .unwrap();
        assert_eq!(sum.call(&mut store, 100_000).unwrap(), 4_999_950_007);
        assert_eq!(
            store.on_stack_replacements(),
            u64::from(on_stack_replacement),
            "on-stack replacement {on_stack_replacement}"
        );
    }
}

/// With background compilation (the default), compiled code calling a still-interpreted
/// function only requests its compilation; a deep mutual recursion must still not trap
/// early from nested entries between the tiers, whenever the compiler thread finishes.
#[test]
fn deep_recursion_across_a_background_tier_up() {
    deep_mutual_recursion(true, 20);
}

#[test]
fn typed_v128_calls_and_wrapped_closures_on_every_strategy() {
    use kestrel::V128;
    // A `v128` takes two raw slots: the scalars around it must keep their places both in
    // typed calls and in a wrapped closure's arguments and results.
    let wat = r#"(module
        (import "host" "swap" (func $swap (param v128 i32 v128) (result i64 v128 v128)))
        (func (export "through_host") (param i32 v128 i64 v128) (result v128 i64 i32 v128)
            (local $a i64) (local $b v128) (local $c v128)
            (call $swap (local.get 1) (local.get 0) (local.get 3))
            (local.set $c) (local.set $b) (local.set $a)
            (local.get $c) (i64.add (local.get $a) (local.get 2)) (local.get 0) (local.get $b))
        (func (export "hot") (param v128) (result v128)
            (local $i i32)
            (loop $again
                (local.set 0 (i64x2.add (local.get 0) (v128.const i64x2 1 2)))
                (br_if $again (i32.lt_u
                    (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 10))))
            (local.get 0)))"#;
    let x = V128::from(0x0011_2233_4455_6677_8899_aabb_ccdd_eeffu128);
    let y = V128::from(0xffee_ddcc_bbaa_9988_7766_5544_3322_1100u128);
    for strategy in strategies() {
        let engine = engine(strategy);
        let module = Module::new(&engine, wat).unwrap();
        let mut linker = Linker::new(&engine);
        linker
            .func_wrap("host", "swap", |a: V128, n: i32, b: V128| {
                (i64::from(n) * 10, b, a)
            })
            .unwrap();
        let mut store = Store::new(&engine, ());
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let through_host = instance
            .get_typed_func::<(i32, V128, i64, V128), (V128, i64, i32, V128)>(
                &mut store,
                "through_host",
            )
            .unwrap();
        for _ in 0..4 {
            let results = through_host.call(&mut store, (7, x, 5, y)).unwrap();
            assert_eq!(results, (x, 75, 7, y), "{strategy:?}");
        }
        let hot = instance
            .get_typed_func::<V128, V128>(&mut store, "hot")
            .unwrap();
        for _ in 0..4 {
            let result = hot.call(&mut store, V128::from(0)).unwrap();
            assert_eq!(result.as_u128(), 10 | 20 << 64, "{strategy:?}");
        }
        // The type check counts values, not slots.
        assert!(
            instance
                .get_typed_func::<(i32, i64), V128>(&mut store, "hot")
                .is_err()
        );
    }
}

/// Every value type crosses a Wasm → host call unchanged: through an import and through a
/// table, to a typed (`Func::wrap`) and a dynamic (`Func::new`) host function, on the
/// first call (which links a host function for compiled code) and on later ones (which
/// take the linked path). The results come back reversed, so every value changes slots
/// (a `v128` takes two).
#[test]
fn host_calls_round_trip_every_value_type() {
    use kestrel::{ExternRef, Func, FuncType, V128, ValType};
    const SIGNATURE: &str = "(param i32 i64 f32 f64 v128 funcref externref) \
                             (result externref funcref v128 f64 f32 i64 i32)";
    let wat = format!(
        r#"(module
          (import "host" "typed" (func $typed {SIGNATURE}))
          (import "host" "dynamic" (func $dynamic {SIGNATURE}))
          (type $sig (func {SIGNATURE}))
          (table (export "table") 3 funcref)
          (elem (i32.const 0) $typed $dynamic)
          (func (export "typed") {SIGNATURE}
            (call $typed (local.get 0) (local.get 1) (local.get 2) (local.get 3)
                         (local.get 4) (local.get 5) (local.get 6)))
          (func (export "dynamic") {SIGNATURE}
            (call $dynamic (local.get 0) (local.get 1) (local.get 2) (local.get 3)
                           (local.get 4) (local.get 5) (local.get 6)))
          (func (export "indirect")
            (param i32 i64 f32 f64 v128 funcref externref i32)
            (result externref funcref v128 f64 f32 i64 i32)
            (call_indirect (type $sig)
              (local.get 0) (local.get 1) (local.get 2) (local.get 3)
              (local.get 4) (local.get 5) (local.get 6) (local.get 7))))"#
    );
    let params = [
        ValType::I32,
        ValType::I64,
        ValType::F32,
        ValType::F64,
        ValType::V128,
        ValType::FUNCREF,
        ValType::EXTERNREF,
    ];
    let results: Vec<ValType> = params.iter().rev().copied().collect();
    for strategy in strategies() {
        let engine = engine(strategy);
        let module = Module::new(&engine, &wat).unwrap();
        let mut store = Store::new(&engine, ());
        let mut linker = Linker::new(&engine);
        linker
            .func_wrap(
                "host",
                "typed",
                |a: i32,
                 b: i64,
                 c: f32,
                 d: f64,
                 e: V128,
                 f: Option<Func>,
                 g: Option<kestrel::ExternRef>| (g, f, e, d, c, b, a),
            )
            .unwrap();
        let dynamic = Func::new(
            &mut store,
            FuncType::new(params, results.clone()),
            |_caller, params, results| {
                for (result, param) in results.iter_mut().zip(params.iter().rev()) {
                    *result = *param;
                }
                Ok(())
            },
        );
        linker.define(&store, "host", "dynamic", dynamic).unwrap();
        let instance = linker.instantiate(&mut store, &module).unwrap();
        // A host function made after the instance was linked, reached through the table.
        let late = Func::new(
            &mut store,
            FuncType::new(params, results.clone()),
            |_caller, params, results| {
                for (result, param) in results.iter_mut().zip(params.iter().rev()) {
                    *result = *param;
                }
                Ok(())
            },
        );
        let table = instance.get_table(&mut store, "table").unwrap();
        table.set(&mut store, 2, Val::FuncRef(Some(late))).unwrap();

        let extern_ref = ExternRef::new(&mut store, 42u32);
        let value_sets = [
            [
                Val::I32(-7),
                Val::I64(i64::MIN + 3),
                // NaNs with payloads: the bits must survive, not just the NaN-ness.
                Val::F32(0x7fa0_0001),
                Val::F64(0xfff0_0000_0000_0abc),
                Val::V128(0x0011_2233_4455_6677_8899_aabb_ccdd_eeff),
                Val::FuncRef(Some(late)),
                Val::ExternRef(Some(extern_ref)),
            ],
            [
                Val::I32(i32::MAX),
                Val::I64(-1),
                Val::F32(1.5f32.to_bits()),
                Val::F64((-0.0f64).to_bits()),
                Val::V128(u128::MAX),
                Val::FuncRef(None),
                Val::ExternRef(None),
            ],
        ];
        for values in &value_sets {
            let expected: Vec<String> = values.iter().rev().map(|v| format!("{v:?}")).collect();
            let mut calls: Vec<(&str, Vec<Val>)> =
                vec![("typed", values.to_vec()), ("dynamic", values.to_vec())];
            for slot in 0..3 {
                let mut with_slot = values.to_vec();
                with_slot.push(Val::I32(slot));
                calls.push(("indirect", with_slot));
            }
            for (name, params) in &calls {
                let func = instance.get_func(&mut store, name).unwrap();
                // The first call links a host function for compiled code, later calls take
                // the linked path.
                for round in 0..3 {
                    let mut out = vec![Val::I32(0); 7];
                    func.call(&mut store, params, &mut out).unwrap();
                    let got: Vec<String> = out.iter().map(|v| format!("{v:?}")).collect();
                    assert_eq!(
                        got, expected,
                        "{strategy:?}: {name} {params:?}, round {round}"
                    );
                }
            }
        }
        let data = extern_ref.data(&store).downcast_ref::<u32>();
        assert_eq!(data, Some(&42), "{strategy:?}");
    }
}

/// A host function's error, trap or panic reaches the embedder exactly as before the first
/// call linked it for compiled code, and as in the interpreter: errors with their payload
/// and the Wasm frames below the host call (innermost first), traps with their code, and
/// panics resumed with their payload once the Wasm frames are gone, leaving the store
/// usable.
#[test]
fn host_errors_traps_and_panics_cross_every_tier_unchanged() {
    use kestrel::{Error, ErrorKind};
    #[derive(Debug, PartialEq)]
    struct Refused(i32);
    impl std::fmt::Display for Refused {
        fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(formatter, "refused {}", self.0)
        }
    }
    impl std::error::Error for Refused {}

    let wat = r#"(module
      (import "host" "check" (func $check (param i32) (result i32)))
      (table 1 funcref)
      (elem (i32.const 0) $check)
      (func $inner (param i32) (result i32) (call $check (local.get 0)))
      (func (export "direct") (param i32) (result i32) (call $inner (local.get 0)))
      (func (export "indirect") (param i32) (result i32)
        (call_indirect (param i32) (result i32) (local.get 0) (i32.const 0))))"#;
    let mut per_strategy = Vec::new();
    for strategy in strategies() {
        let engine = engine(strategy);
        let module = Module::new(&engine, wat).unwrap();
        let mut store = Store::new(&engine, 0u32);
        let mut linker = Linker::new(&engine);
        linker
            .func_wrap(
                "host",
                "check",
                |mut caller: Caller<'_, u32>, x: i32| -> kestrel::Result<i32> {
                    *caller.data_mut() += 1;
                    match x {
                        1 => Err(Error::new(Refused(x))),
                        2 => Err(Error::new(Trap::Unreachable)),
                        3 => panic!("host panic {x}"),
                        _ => Ok(x * 2),
                    }
                },
            )
            .unwrap();
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let mut outcomes = Vec::new();
        for name in ["direct", "indirect"] {
            let func = instance
                .get_typed_func::<i32, i32>(&mut store, name)
                .unwrap();
            // Round 0 is the first call from compiled code (which links the host function),
            // the later rounds take the linked path.
            for round in 0..3 {
                assert_eq!(func.call(&mut store, 21).unwrap(), 42, "{strategy:?}");

                let error = func.call(&mut store, 1).unwrap_err();
                assert_eq!(error.kind(), ErrorKind::Host, "{strategy:?} {name} {round}");
                assert_eq!(error.downcast_ref::<Refused>(), Some(&Refused(1)));
                let frames: Vec<u32> = error
                    .backtrace()
                    .expect("Wasm frames were live")
                    .frames()
                    .iter()
                    .map(|frame| frame.func_index())
                    .collect();
                outcomes.push((name, frames));

                let error = func.call(&mut store, 2).unwrap_err();
                assert_eq!(error.kind(), ErrorKind::Trap, "{strategy:?} {name} {round}");
                assert_eq!(error.trap_code(), Some(Trap::Unreachable));

                let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let _ = func.call(&mut store, 3);
                }))
                .expect_err("the host function's panic is resumed");
                assert_eq!(
                    panic.downcast_ref::<String>().map(String::as_str),
                    Some("host panic 3"),
                    "{strategy:?} {name} {round}"
                );
                // The store is usable after the panic unwound past the Wasm frames.
                assert_eq!(func.call(&mut store, 5).unwrap(), 10, "{strategy:?}");
            }
        }
        assert_eq!(
            *store.data(),
            2 * 3 * 5,
            "{strategy:?}: every call reached the host"
        );
        per_strategy.push((strategy, outcomes));
    }
    let (first_strategy, first) = per_strategy.remove(0);
    // $inner (1) then direct (2); the indirect call has only its caller (3).
    assert_eq!(first[0], ("direct", vec![1, 2]));
    assert_eq!(first[3], ("indirect", vec![3]));
    for (strategy, outcomes) in per_strategy {
        assert_eq!(
            first, outcomes,
            "{first_strategy:?} and {strategy:?} disagree"
        );
    }
}

/// A host function of one store that calls into another store's compiled code, which calls
/// its own host function: each call from compiled code reaches the host function of its own
/// store, with that store's data, before and after both are linked.
#[test]
fn host_calls_nest_across_stores() {
    use std::sync::{Arc, Mutex};
    let wat = r#"(module
      (import "host" "f" (func $f (param i32) (result i32)))
      (func (export "run") (param i32) (result i32)
        (i32.add (call $f (local.get 0)) (i32.const 1))))"#;
    for strategy in strategies() {
        let engine = engine(strategy);
        let module = Module::new(&engine, wat).unwrap();

        let mut inner_linker = Linker::new(&engine);
        inner_linker
            .func_wrap("host", "f", |mut caller: Caller<'_, u32>, x: i32| {
                *caller.data_mut() += 1;
                x * 10
            })
            .unwrap();
        let mut inner_store = Store::new(&engine, 0u32);
        let inner_instance = inner_linker.instantiate(&mut inner_store, &module).unwrap();
        let inner_run = inner_instance
            .get_typed_func::<i32, i32>(&mut inner_store, "run")
            .unwrap();
        let inner_store = Arc::new(Mutex::new(inner_store));

        let mut outer_linker = Linker::new(&engine);
        let shared = inner_store.clone();
        outer_linker
            .func_wrap("host", "f", move |mut caller: Caller<'_, u32>, x: i32| {
                *caller.data_mut() += 1;
                let mut inner = shared.lock().unwrap();
                inner_run.call(&mut *inner, x).unwrap() * 2
            })
            .unwrap();
        let mut outer_store = Store::new(&engine, 0u32);
        let outer_instance = outer_linker.instantiate(&mut outer_store, &module).unwrap();
        let outer_run = outer_instance
            .get_typed_func::<i32, i32>(&mut outer_store, "run")
            .unwrap();
        for round in 1..=4 {
            // inner: 3 * 10 + 1 = 31; outer: 31 * 2 + 1 = 63.
            assert_eq!(
                outer_run.call(&mut outer_store, 3).unwrap(),
                63,
                "{strategy:?}"
            );
            assert_eq!(*outer_store.data(), round, "{strategy:?}");
            assert_eq!(*inner_store.lock().unwrap().data(), round, "{strategy:?}");
        }
    }
}
