//! `TypedFunc::call` and `Func::call` must not allocate for up to 16 values.
//!
//! A separate test binary because it installs a counting global allocator; it counts only
//! the allocations of the thread that enables counting.

use kestrel::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every method forwards to the system allocator unchanged; the counter is a
// thread-local `Cell` with const initialisation, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.with(|count| count.set(count.get() + 1));
        }
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which we pass on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: `pointer` was allocated by `System` with `layout` (see `alloc`).
        unsafe { System.dealloc(pointer, layout) }
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.with(|count| count.set(count.get() + 1));
        }
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract, which we pass on.
        unsafe { System.realloc(pointer, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// How many allocations `f` makes on this thread.
fn allocations(f: impl FnOnce()) -> usize {
    ALLOCATIONS.with(|count| count.set(0));
    COUNTING.with(|counting| counting.set(true));
    f();
    COUNTING.with(|counting| counting.set(false));
    ALLOCATIONS.with(Cell::get)
}

type Sixteen = (
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
);

#[test]
fn host_calls_do_not_allocate() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, 0u64);
    let sum = Func::wrap(
        &mut store,
        |mut caller: Caller<'_, u64>,
         a: i64,
         b: i64,
         c: i64,
         d: i64,
         e: i64,
         f: i64,
         g: i64,
         h: i64,
         i: i64,
         j: i64,
         k: i64,
         l: i64,
         m: i64,
         n: i64,
         o: i64,
         p: i64| {
            *caller.data_mut() += 1;
            let total = a + b + c + d + e + f + g + h + i + j + k + l + m + n + o + p;
            (
                total, total, total, total, total, total, total, total, total, total, total, total,
                total, total, total, total,
            )
        },
    );
    let typed = sum.typed::<Sixteen, Sixteen>(&store).unwrap();
    let params = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
    typed.call(&mut store, params).unwrap();

    let mut result = 0;
    assert_eq!(
        allocations(|| result = typed.call(&mut store, params).unwrap().15),
        0
    );
    assert_eq!(result, 136);

    let params: Vec<Val> = (1..=16).map(Val::I64).collect();
    let mut results = [Val::I64(0); 16];
    assert_eq!(
        allocations(|| sum.call(&mut store, &params, &mut results).unwrap()),
        0
    );
    assert_eq!(results[0].unwrap_i64(), 136);
    assert_eq!(*store.data(), 3);
}

#[test]
fn wasm_calls_do_not_allocate() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (func (export "add") (param i32 i32) (result i32)
            local.get 0 local.get 1 i32.add))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let add = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, "add")
        .unwrap();
    // The first call translates the function and sets up the interpreter's stack.
    add.call(&mut store, (1, 2)).unwrap();
    let mut result = 0;
    assert_eq!(
        allocations(|| result = add.call(&mut store, (40, 2)).unwrap()),
        0
    );
    assert_eq!(result, 42);
}

#[test]
fn jit_calls_do_not_allocate() {
    let mut config = Config::new();
    config.strategy(Strategy::Jit);
    let Ok(engine) = Engine::new(&config) else {
        return; // The JIT does not support this host.
    };
    let module = Module::new(
        &engine,
        r#"(module
             (import "host" "double" (func $double (param i32) (result i32)))
             (func $add (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
             (func (export "run") (param i32 i32) (result i32)
               (call $double (call $add (local.get 0) (local.get 1)))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let double = Func::wrap(&mut store, |x: i32| x * 2);
    let instance = Instance::new(&mut store, &module, &[double.into()]).unwrap();
    let run = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, "run")
        .unwrap();
    run.call(&mut store, (1, 2)).unwrap();
    let mut result = 0;
    assert_eq!(
        allocations(|| result = run.call(&mut store, (20, 1)).unwrap()),
        0
    );
    assert_eq!(result, 42);
}
