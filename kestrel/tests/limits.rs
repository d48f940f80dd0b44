//! Resource limits on every execution strategy: fuel (the same consumption, and so the same
//! point of exhaustion, everywhere), epoch interruption (from a host function and from
//! another thread), and store limits on memories, tables and instances.

use kestrel::{
    Caller, Config, Engine, ErrorKind, Instance, Linker, Module, Store, StoreLimits,
    StoreLimitsBuilder, Strategy, Trap, Val,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

fn strategies() -> Vec<Strategy> {
    let mut strategies = vec![Strategy::Interpreter];
    let mut config = Config::new();
    config.strategy(Strategy::Jit);
    if Engine::new(&config).is_ok() {
        strategies.push(Strategy::Jit);
        strategies.push(Strategy::Tiered);
    }
    strategies
}

fn engine(strategy: Strategy, configure: impl FnOnce(&mut Config)) -> Engine {
    let mut config = Config::new();
    config.strategy(strategy);
    if strategy == Strategy::Tiered {
        // Compile at the second entry or third loop iteration, synchronously, so that
        // calls and recursions cross between the tiers mid-run.
        config.tiering_thresholds(2, 3).tiering_in_background(false);
    }
    configure(&mut config);
    Engine::new(&config).unwrap()
}

/// The host functions every program may import: `host.count` adds one to the store's
/// data and returns its argument plus one.
fn linker(engine: &Engine) -> Linker<u32> {
    let mut linker = Linker::new(engine);
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
}

fn call(
    store: &mut Store<u32>,
    instance: &Instance,
    name: &str,
    params: &[Val],
) -> kestrel::Result<Vec<Val>> {
    let func = instance.get_func(&mut *store, name).unwrap();
    let mut results = vec![Val::I32(0); func.ty(&*store).results().len()];
    func.call(&mut *store, params, &mut results)?;
    Ok(results)
}

const FUEL_PROGRAM: &str = r#"
(module
  (import "host" "count" (func $count (param i32) (result i32)))
  (global $steps (export "steps") (mut i32) (i32.const 0))
  (memory 1)
  (table 2 funcref)
  (elem (i32.const 0) $double $count)
  (func $step (global.set $steps (i32.add (global.get $steps) (i32.const 1))))
  (func $double (param i32) (result i32) (call $step) (i32.mul (local.get 0) (i32.const 2)))
  ;; A counted loop whose body calls a function and stores to memory.
  (func (export "loop") (param $n i32) (result i32) (local $sum i32)
    (block $done
      (loop $again
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $sum (i32.add (local.get $sum) (call $double (local.get $n))))
        (i32.store (i32.const 0) (local.get $sum))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $again)))
    (local.get $sum))
  ;; Recursion, with nop, drop and a nested block that cost nothing.
  (func $fib (export "fib") (param $n i32) (result i32)
    (call $step)
    (nop) (drop (i32.const 0))
    (block (result i32)
      (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
        (then (local.get $n))
        (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1)))
                       (call $fib (i32.sub (local.get $n) (i32.const 2))))))))
  ;; A state machine driven by br_table, with indirect and host calls.
  (func (export "machine") (param $n i32) (result i32) (local $acc i32)
    (loop $next
      (call $step)
      (block $host
        (block $indirect
          (block $add
            (br_table $add $indirect $host (i32.rem_u (local.get $n) (i32.const 3))))
          (local.set $acc (i32.add (local.get $acc) (i32.const 3)))
          (br $host))
        (local.set $acc
          (call_indirect (param i32) (result i32) (local.get $acc) (i32.const 0))))
      (local.set $acc (call $count (local.get $acc)))
      (local.tee $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $next))
    (local.get $acc))
  ;; Traps with a division by zero once $n reaches 0 (if fuel lasts that long).
  (func (export "trap") (param $n i32) (result i32)
    (loop $again
      (call $step)
      (drop (i32.div_u (i32.const 100) (local.get $n)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $again))
    (unreachable)))
"#;

/// Everything observable after a call with some fuel.
#[derive(Debug, PartialEq, Eq, Clone)]
struct FuelRun {
    outcome: Result<String, Option<Trap>>,
    fuel_left: u64,
    steps: i32,
    memory: i32,
    host_calls: u32,
}

fn run_with_fuel(
    engine: &Engine,
    module: &Module,
    name: &str,
    argument: i32,
    fuel: u64,
) -> FuelRun {
    let mut store = Store::new(engine, 0u32);
    let instance = linker(engine).instantiate(&mut store, module).unwrap();
    store.set_fuel(fuel).unwrap();
    let outcome = match call(&mut store, &instance, name, &[Val::I32(argument)]) {
        Ok(values) => Ok(format!("{values:?}")),
        Err(error) => Err(error.trap_code()),
    };
    let steps = instance
        .get_global(&mut store, "steps")
        .unwrap()
        .get(&mut store)
        .i32()
        .unwrap();
    let memory = instance
        .get_memory(&mut store, "memory")
        .map_or(0, |memory| {
            let bytes = &memory.data(&store)[..4];
            i32::from_le_bytes(bytes.try_into().unwrap())
        });
    FuelRun {
        outcome,
        fuel_left: store.get_fuel().unwrap(),
        steps,
        memory,
        host_calls: *store.data(),
    }
}

#[test]
fn fuel_runs_out_at_the_same_point_on_every_engine() {
    let engines: Vec<(Strategy, Engine)> = strategies()
        .into_iter()
        .map(|strategy| {
            (
                strategy,
                engine(strategy, |config| {
                    config.consume_fuel(true);
                }),
            )
        })
        .collect();
    let modules: Vec<Module> = engines
        .iter()
        .map(|(_, engine)| Module::new(engine, FUEL_PROGRAM).unwrap())
        .collect();
    for (name, argument) in [("loop", 6), ("fib", 7), ("machine", 9), ("trap", 4)] {
        let mut completed_with = None;
        let mut out_of_fuel = 0;
        for fuel in (0..400).chain([1_000, 10_000]) {
            let mut runs = engines
                .iter()
                .zip(&modules)
                .map(|((strategy, engine), module)| {
                    (
                        *strategy,
                        run_with_fuel(engine, module, name, argument, fuel),
                    )
                });
            let (first_strategy, first) = runs.next().unwrap();
            for (strategy, run) in runs {
                assert_eq!(
                    first, run,
                    "`{name}` with {fuel} fuel: {first_strategy:?} and {strategy:?} disagree"
                );
            }
            assert!(first.fuel_left <= fuel);
            match first.outcome {
                Err(Some(Trap::OutOfFuel)) => {
                    out_of_fuel += 1;
                    assert!(
                        completed_with.is_none(),
                        "`{name}` ran out with {fuel} fuel after completing with less"
                    );
                }
                _ => {
                    // Enough fuel: more leaves the same run with more fuel left.
                    let used = fuel - first.fuel_left;
                    if let Some((previous, previous_used)) = &completed_with {
                        assert_eq!(used, *previous_used, "`{name}` used different fuel");
                        assert_eq!(first.outcome, *previous);
                    }
                    completed_with = Some((first.outcome.clone(), used));
                }
            }
        }
        assert!(out_of_fuel > 10, "`{name}` never ran out of fuel");
        assert!(completed_with.is_some(), "`{name}` never completed");
    }
}

#[test]
fn fuel_costs_one_per_operator_and_is_charged_before_a_region_runs() {
    for strategy in strategies() {
        let engine = engine(strategy, |config| {
            config.consume_fuel(true);
        });
        let module = Module::new(
            &engine,
            r#"(module
                 (global $g (export "g") (mut i32) (i32.const 0))
                 (func (export "three") (result i32)
                   nop (i32.add (i32.const 1) (i32.const 2)))
                 (func (export "loop") (param $n i32)
                   ;; Entry region: local.get, i32.eqz, br_if = 3.
                   (block $done
                     (br_if $done (i32.eqz (local.get $n)))
                     ;; Loop region: 10 per iteration.
                     (loop $again
                       (global.set $g (i32.add (global.get $g) (i32.const 1)))
                       (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                       (br_if $again (local.get $n))))))"#,
        )
        .unwrap();
        let mut store = Store::new(&engine, 0u32);
        let instance = linker(&engine).instantiate(&mut store, &module).unwrap();
        let three = instance
            .get_typed_func::<(), i32>(&mut store, "three")
            .unwrap();
        store.set_fuel(3).unwrap();
        assert_eq!(three.call(&mut store, ()).unwrap(), 3, "{strategy:?}");
        assert_eq!(store.get_fuel().unwrap(), 0, "{strategy:?}");
        store.set_fuel(2).unwrap();
        let error = three.call(&mut store, ()).unwrap_err();
        assert_eq!(error.trap_code(), Some(Trap::OutOfFuel), "{strategy:?}");
        assert_eq!(
            error.to_string().lines().next().unwrap(),
            "all fuel consumed by WebAssembly",
            "{strategy:?}"
        );
        assert_eq!(store.get_fuel().unwrap(), 2, "unchanged by a failed charge");

        let looping = instance
            .get_typed_func::<i32, ()>(&mut store, "loop")
            .unwrap();
        let global = instance.get_global(&mut store, "g").unwrap();
        // 3 + 4 * 10 = 43 runs four iterations; 42 stops before the fourth.
        store.set_fuel(3 + 4 * 10).unwrap();
        looping.call(&mut store, 4).unwrap();
        assert_eq!(store.get_fuel().unwrap(), 0, "{strategy:?}");
        assert_eq!(global.get(&mut store).i32(), Some(4));
        store.set_fuel(3 + 4 * 10 - 1).unwrap();
        let error = looping.call(&mut store, 4).unwrap_err();
        assert_eq!(error.trap_code(), Some(Trap::OutOfFuel), "{strategy:?}");
        assert_eq!(global.get(&mut store).i32(), Some(4 + 3), "{strategy:?}");
        assert_eq!(store.get_fuel().unwrap(), 9, "{strategy:?}");
    }
}

#[test]
fn fuel_is_an_error_unless_configured_and_visible_to_host_functions() {
    let mut store = Store::new(&Engine::default(), 0u32);
    assert_eq!(store.get_fuel().unwrap_err().kind(), ErrorKind::Usage);
    assert_eq!(store.set_fuel(1).unwrap_err().kind(), ErrorKind::Usage);

    for strategy in strategies() {
        let engine = engine(strategy, |config| {
            config.consume_fuel(true);
        });
        let mut linker = Linker::new(&engine);
        // The host sees the fuel left after the caller's charge (`call` included), and
        // can refill it.
        linker
            .func_wrap("host", "refuel", |mut caller: Caller<'_, u64>| {
                *caller.data_mut() = caller.get_fuel().unwrap();
                caller.set_fuel(100).unwrap();
            })
            .unwrap();
        let module = Module::new(
            &engine,
            r#"(module
                 (import "host" "refuel" (func $refuel))
                 (func (export "run") (result i32)
                   (drop (i32.const 1)) (call $refuel) (i32.const 5)))"#,
        )
        .unwrap();
        let mut store = Store::new(&engine, 0u64);
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let run = instance
            .get_typed_func::<(), i32>(&mut store, "run")
            .unwrap();
        store.set_fuel(10).unwrap();
        assert_eq!(run.call(&mut store, ()).unwrap(), 5);
        assert_eq!(*store.data(), 10 - 2, "{strategy:?}");
        assert_eq!(store.get_fuel().unwrap(), 100 - 1, "{strategy:?}");
    }
}

const SPIN: &str = r#"
(module
  (import "host" "count" (func $count (param i32) (result i32)))
  (func (export "spin") (loop $forever (br $forever)))
  (func (export "spin_host") (local $x i32)
    (loop $forever
      (local.set $x (call $count (local.get $x)))
      (br $forever)))
  (func (export "answer") (result i32) (i32.const 42)))
"#;

#[test]
fn epoch_deadline_interrupts_from_a_host_function_at_the_same_point() {
    for strategy in strategies() {
        let engine = engine(strategy, |config| {
            config.epoch_interruption(true);
        });
        let mut linker = Linker::new(&engine);
        let ticker = engine.clone();
        linker
            .func_wrap(
                "host",
                "count",
                move |mut caller: Caller<'_, u32>, x: i32| -> i32 {
                    *caller.data_mut() += 1;
                    ticker.increment_epoch();
                    x + 1
                },
            )
            .unwrap();
        let module = Module::new(&engine, SPIN).unwrap();
        let mut store = Store::new(&engine, 0u32);
        let instance = linker.instantiate(&mut store, &module).unwrap();
        // No deadline: runs.
        assert_eq!(
            call(&mut store, &instance, "answer", &[]).unwrap()[0].i32(),
            Some(42)
        );
        store.set_epoch_deadline(3);
        let error = call(&mut store, &instance, "spin_host", &[]).unwrap_err();
        assert_eq!(error.trap_code(), Some(Trap::Interrupt), "{strategy:?}");
        assert_eq!(error.to_string().lines().next().unwrap(), "interrupt");
        // The third tick reaches the deadline, seen at the next loop header.
        assert_eq!(*store.data(), 3, "{strategy:?}");
        // A deadline already reached interrupts at function entry.
        store.set_epoch_deadline(0);
        let error = call(&mut store, &instance, "answer", &[]).unwrap_err();
        assert_eq!(error.trap_code(), Some(Trap::Interrupt), "{strategy:?}");
        store.set_epoch_deadline(1);
        assert_eq!(
            call(&mut store, &instance, "answer", &[]).unwrap()[0].i32(),
            Some(42)
        );
    }
}

/// Runs `name` (which never returns by itself) while another thread advances the epoch
/// until the call has returned; returns the call's trap code. As a backstop against a
/// missing check, the guest also has fuel, which would end the run with `OutOfFuel`.
fn interrupt_from_another_thread(
    engine: &Engine,
    store: &mut Store<u32>,
    instance: &Instance,
    name: &str,
) -> Option<Trap> {
    store.set_epoch_deadline(1);
    store.set_fuel(2_000_000_000).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let ticker = {
        let engine = engine.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(5));
                engine.increment_epoch();
            }
        })
    };
    let result = call(store, instance, name, &[]);
    done.store(true, Ordering::Relaxed);
    ticker.join().unwrap();
    result.unwrap_err().trap_code()
}

#[test]
fn epoch_interrupts_infinite_loops_from_another_thread() {
    for strategy in strategies() {
        let engine = engine(strategy, |config| {
            config.epoch_interruption(true).consume_fuel(true);
        });
        let module = Module::new(&engine, SPIN).unwrap();
        let mut store = Store::new(&engine, 0u32);
        let instance = linker(&engine).instantiate(&mut store, &module).unwrap();
        for name in ["spin", "spin_host"] {
            let code = interrupt_from_another_thread(&engine, &mut store, &instance, name);
            assert_eq!(code, Some(Trap::Interrupt), "{strategy:?} {name}");
            // The store stays usable once given a new deadline.
            store.set_epoch_deadline(1_000_000);
            let answer = call(&mut store, &instance, "answer", &[]).unwrap();
            assert_eq!(answer[0].i32(), Some(42), "{strategy:?}");
        }
        assert!(*store.data() > 0, "spin_host called the host");
    }
}

#[derive(Default)]
struct Limited {
    limits: StoreLimits,
}

fn limited_store(engine: &Engine, limits: StoreLimits) -> Store<Limited> {
    let mut store = Store::new(engine, Limited { limits });
    store.limiter(|data| &mut data.limits);
    store
}

#[test]
fn memory_and_table_growth_stop_at_the_store_limits_on_every_engine() {
    for strategy in strategies() {
        let engine = engine(strategy, |_| {});
        let module = Module::new(
            &engine,
            r#"(module
                 (memory (export "memory") 1)
                 (table (export "table") 1 funcref)
                 (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
                 (func (export "grow_table") (param i32) (result i32)
                   (table.grow (ref.null func) (local.get 0))))"#,
        )
        .unwrap();
        let limits = StoreLimitsBuilder::new()
            .memory_size(3 * 65536)
            .table_elements(5)
            .build();
        let mut store = limited_store(&engine, limits);
        let instance = Linker::new(&engine)
            .instantiate(&mut store, &module)
            .unwrap();
        let grow = instance
            .get_typed_func::<i32, i32>(&mut store, "grow")
            .unwrap();
        let grow_table = instance
            .get_typed_func::<i32, i32>(&mut store, "grow_table")
            .unwrap();
        assert_eq!(
            grow.call(&mut store, 3).unwrap(),
            -1,
            "{strategy:?}: past the limit"
        );
        assert_eq!(
            grow.call(&mut store, 2).unwrap(),
            1,
            "{strategy:?}: up to the limit"
        );
        assert_eq!(grow.call(&mut store, 1).unwrap(), -1, "{strategy:?}");
        assert_eq!(grow.call(&mut store, 0).unwrap(), 3, "{strategy:?}");
        assert_eq!(grow_table.call(&mut store, 5).unwrap(), -1, "{strategy:?}");
        assert_eq!(grow_table.call(&mut store, 4).unwrap(), 1, "{strategy:?}");
        assert_eq!(grow_table.call(&mut store, 1).unwrap(), -1, "{strategy:?}");
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        assert_eq!(
            memory.grow(&mut store, 1).unwrap_err().kind(),
            ErrorKind::Resource
        );
        // Raising the limit in the store's data takes effect at once.
        store.data_mut().limits.memory_size = Some(4 * 65536);
        assert_eq!(grow.call(&mut store, 1).unwrap(), 3, "{strategy:?}");
    }
}

#[test]
fn instantiation_past_the_store_limits_fails() {
    let engine = Engine::default();
    let big = Module::new(&engine, "(module (memory 4))").unwrap();
    let small = Module::new(&engine, "(module (memory 1) (table 2 funcref))").unwrap();
    let limits = StoreLimitsBuilder::new()
        .memory_size(2 * 65536)
        .table_elements(2)
        .instances(2)
        .memories(2)
        .tables(1)
        .build();

    let mut store = limited_store(&engine, limits);
    let error = Instance::new(&mut store, &big, &[]).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Resource);
    assert!(error.to_string().contains("memory minimum size"), "{error}");
    Instance::new(&mut store, &small, &[]).unwrap();
    let error = Instance::new(&mut store, &small, &[]).unwrap_err();
    assert!(error.to_string().contains("table count"), "{error}");

    let mut store = limited_store(&engine, StoreLimitsBuilder::new().instances(1).build());
    let empty = Module::new(&engine, "(module)").unwrap();
    Instance::new(&mut store, &empty, &[]).unwrap();
    let error = Instance::new(&mut store, &empty, &[]).unwrap_err();
    assert!(error.to_string().contains("instance count"), "{error}");

    let mut store = limited_store(&engine, StoreLimitsBuilder::new().table_elements(1).build());
    let error = Instance::new(&mut store, &small, &[]).unwrap_err();
    assert!(error.to_string().contains("table minimum size"), "{error}");
    let mut store = limited_store(
        &engine,
        StoreLimitsBuilder::new().memory_size(65536).build(),
    );
    let ty = |minimum| kestrel::MemoryType {
        limits: kestrel::Limits {
            minimum,
            maximum: None,
        },
        memory64: false,
        shared: false,
        page_size_log2: 16,
    };
    let error = kestrel::Memory::new(&mut store, ty(2)).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Resource);
    let memory = kestrel::Memory::new(&mut store, ty(1)).unwrap();
    assert_eq!(
        memory.grow(&mut store, 1).unwrap_err().kind(),
        ErrorKind::Resource
    );
}
