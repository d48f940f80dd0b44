//! Sandbox properties on both engines: memory accesses of every width at every edge of
//! memory trap exactly when the spec says (including `address + offset` past 2^32) and a
//! trapping store writes nothing; `memory.grow` stops at the maximum; `call_indirect`
//! checks types, nulls and bounds; a trap leaves the store usable; and instances in one
//! store never see each other's memory.

use kestrel::{Config, Engine, Instance, Module, Store, Strategy, Trap, Val};

const PAGE: u64 = 65536;

fn engines() -> Vec<(Strategy, Engine)> {
    [Strategy::Interpreter, Strategy::Jit]
        .into_iter()
        .map(|strategy| {
            let mut config = Config::new();
            config.strategy(strategy);
            (strategy, Engine::new(&config).unwrap())
        })
        .collect()
}

fn instantiate(engine: &Engine, store: &mut Store<()>, wat: &str) -> Instance {
    let module = Module::new(engine, wat).unwrap();
    Instance::new(&mut *store, &module, &[]).unwrap()
}

/// Calls export `name` of `instance`, returning its results or its trap code.
fn call(
    store: &mut Store<()>,
    instance: Instance,
    name: &str,
    params: &[Val],
) -> Result<Vec<Val>, Trap> {
    let func = instance
        .get_func(&mut *store, name)
        .unwrap_or_else(|| panic!("no export {name}"));
    let ty = func.ty(&*store);
    let mut results: Vec<Val> = ty.results().iter().map(|_| Val::I32(0)).collect();
    for (r, t) in results.iter_mut().zip(ty.results()) {
        *r = match t {
            kestrel::ValType::I64 => Val::I64(0),
            kestrel::ValType::F32 => Val::F32(0),
            kestrel::ValType::F64 => Val::F64(0),
            _ => Val::I32(0),
        };
    }
    match func.call(&mut *store, params, &mut results) {
        Ok(()) => Ok(results),
        Err(e) => Err(e
            .trap_code()
            .unwrap_or_else(|| panic!("{name}: not a trap: {e}"))),
    }
}

/// The bits of an integer or float result, as `u64`.
fn bits(v: &Val) -> u64 {
    match *v {
        Val::I32(x) => x as u32 as u64,
        Val::I64(x) => x as u64,
        Val::F32(x) => x as u64,
        Val::F64(x) => x,
        ref other => panic!("unexpected {other:?}"),
    }
}

/// A load: name, result type, bytes read, sign-extended.
const LOADS: &[(&str, &str, u64, bool)] = &[
    ("i32.load", "i32", 4, false),
    ("i64.load", "i64", 8, false),
    ("f32.load", "f32", 4, false),
    ("f64.load", "f64", 8, false),
    ("i32.load8_s", "i32", 1, true),
    ("i32.load8_u", "i32", 1, false),
    ("i32.load16_s", "i32", 2, true),
    ("i32.load16_u", "i32", 2, false),
    ("i64.load8_s", "i64", 1, true),
    ("i64.load8_u", "i64", 1, false),
    ("i64.load16_s", "i64", 2, true),
    ("i64.load16_u", "i64", 2, false),
    ("i64.load32_s", "i64", 4, true),
    ("i64.load32_u", "i64", 4, false),
];

/// A store: name, value type, bytes written.
const STORES: &[(&str, &str, u64)] = &[
    ("i32.store", "i32", 4),
    ("i64.store", "i64", 8),
    ("f32.store", "f32", 4),
    ("f64.store", "f64", 8),
    ("i32.store8", "i32", 1),
    ("i32.store16", "i32", 2),
    ("i64.store8", "i64", 1),
    ("i64.store16", "i64", 2),
    ("i64.store32", "i64", 4),
];

/// Static offsets: none, small, just under and at a page, and the largest.
const OFFSETS: &[u64] = &[0, 1, PAGE - 1, PAGE, 0xffff_ffff];

/// A value of type `ty` whose bits are `0x8182...` (every byte distinct and negative as a
/// signed byte, so sign extension and byte order both show).
fn store_value(ty: &str) -> Val {
    match ty {
        "i32" => Val::I32(0x8483_8281u32 as i32),
        "i64" => Val::I64(0x8887_8685_8483_8281u64 as i64),
        // Not NaN patterns, so the bits survive any float move.
        "f32" => Val::F32(0x4483_8281),
        "f64" => Val::F64(0x4887_8685_8483_8281),
        _ => unreachable!(),
    }
}

fn memory_module() -> String {
    let mut wat = String::from("(module (memory (export \"memory\") 1 2)\n");
    wat.push_str("(func (export \"grow\") (param i32) (result i32) (memory.grow (local.get 0)))\n");
    for (li, (op, ty, _, _)) in LOADS.iter().enumerate() {
        for (oi, offset) in OFFSETS.iter().enumerate() {
            wat.push_str(&format!(
                "(func (export \"load{li}_{oi}\") (param i32) (result {ty}) ({op} offset={offset} (local.get 0)))\n"
            ));
        }
    }
    for (si, (op, ty, _)) in STORES.iter().enumerate() {
        for (oi, offset) in OFFSETS.iter().enumerate() {
            wat.push_str(&format!(
                "(func (export \"store{si}_{oi}\") (param i32 {ty}) ({op} offset={offset} (local.get 0) (local.get 1)))\n"
            ));
        }
    }
    wat.push(')');
    wat
}

/// Addresses around every edge for an access of `width` bytes at `offset` into a memory
/// of `size` bytes: first and last in-bounds, first out, and the 32-bit extremes.
fn addresses(size: u64, width: u64, offset: u64) -> Vec<u32> {
    let edge = size as i64 - width as i64 - offset as i64;
    let mut addrs: Vec<u32> = vec![0, 1, 0x7fff_ffff, 0x8000_0000, 0xffff_fff8, 0xffff_ffff];
    for delta in [-1i64, 0, 1, 2, width as i64] {
        addrs.push((edge + delta) as u32);
    }
    addrs
}

#[test]
fn loads_and_stores_at_every_edge() {
    let wat = memory_module();
    for (strategy, engine) in engines() {
        let mut store = Store::new(&engine, ());
        let instance = instantiate(&engine, &mut store, &wat);
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        for pages in [1u64, 2] {
            if pages == 2 {
                let grown = call(&mut store, instance, "grow", &[Val::I32(1)]).unwrap();
                assert_eq!(bits(&grown[0]), 1);
            }
            let size = pages * PAGE;
            // A known pattern: byte i is i * 7 + 3.
            let pattern: Vec<u8> = (0..size).map(|i| (i * 7 + 3) as u8).collect();
            memory.write(&mut store, 0, &pattern).unwrap();
            for (li, &(_, _, width, signed)) in LOADS.iter().enumerate() {
                for (oi, &offset) in OFFSETS.iter().enumerate() {
                    for addr in addresses(size, width, offset) {
                        let name = format!("load{li}_{oi}");
                        let got = call(&mut store, instance, &name, &[Val::I32(addr as i32)]);
                        let start = addr as u64 + offset;
                        let what = format!(
                            "{strategy:?} {} offset={offset} addr={addr:#x} memory={size:#x}",
                            LOADS[li].0
                        );
                        if start + width > size {
                            assert_eq!(got.err(), Some(Trap::MemoryOutOfBounds), "{what}");
                            continue;
                        }
                        let mut expected = 0u64;
                        for i in (0..width).rev() {
                            expected = (expected << 8) | pattern[(start + i) as usize] as u64;
                        }
                        if signed {
                            let shift = 64 - 8 * width;
                            expected = (((expected << shift) as i64) >> shift) as u64;
                        }
                        let got = bits(&got.unwrap_or_else(|t| panic!("{what}: {t:?}"))[0]);
                        let mask = if LOADS[li].1.ends_with("32") {
                            0xffff_ffff
                        } else {
                            u64::MAX
                        };
                        assert_eq!(got, expected & mask, "{what}");
                    }
                }
            }
            for (si, &(op, ty, width)) in STORES.iter().enumerate() {
                for (oi, &offset) in OFFSETS.iter().enumerate() {
                    for addr in addresses(size, width, offset) {
                        memory.write(&mut store, 0, &pattern).unwrap();
                        let name = format!("store{si}_{oi}");
                        let value = store_value(ty);
                        let got =
                            call(&mut store, instance, &name, &[Val::I32(addr as i32), value]);
                        let start = addr as u64 + offset;
                        let what = format!(
                            "{strategy:?} {op} offset={offset} addr={addr:#x} memory={size:#x}"
                        );
                        let mut expected = pattern.clone();
                        if start + width > size {
                            assert_eq!(got.err(), Some(Trap::MemoryOutOfBounds), "{what}");
                        } else {
                            got.unwrap_or_else(|t| panic!("{what}: {t:?}"));
                            let value = bits(&value).to_le_bytes();
                            expected[start as usize..(start + width) as usize]
                                .copy_from_slice(&value[..width as usize]);
                        }
                        // A trapping store writes nothing, not even its in-bounds bytes.
                        let data = memory.data(&store);
                        if data != expected.as_slice() {
                            let at = data
                                .iter()
                                .zip(&expected)
                                .position(|(a, b)| a != b)
                                .unwrap();
                            panic!(
                                "{what}: memory differs at {at:#x}: {:#x} != {:#x}",
                                data[at], expected[at]
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn memory_grow_stops_at_the_maximum() {
    let wat = r#"(module
      (memory (export "bounded") 1 3)
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
      (func (export "size") (result i32) (memory.size))
      (func (export "last") (result i32) (i32.load8_u (i32.const 196607))))"#;
    let unbounded = r#"(module
      (memory (export "memory") 1)
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#;
    for (strategy, engine) in engines() {
        let mut store = Store::new(&engine, ());
        let i = instantiate(&engine, &mut store, wat);
        let grow = |store: &mut Store<()>, n: i32| {
            bits(&call(store, i, "grow", &[Val::I32(n)]).unwrap()[0]) as i32
        };
        assert_eq!(
            call(&mut store, i, "last", &[]).err(),
            Some(Trap::MemoryOutOfBounds),
            "{strategy:?}"
        );
        assert_eq!(grow(&mut store, 0), 1, "{strategy:?}");
        assert_eq!(
            grow(&mut store, 3),
            -1,
            "{strategy:?}: past the maximum at once"
        );
        assert_eq!(grow(&mut store, 1), 1, "{strategy:?}");
        assert_eq!(grow(&mut store, 1), 2, "{strategy:?}");
        assert_eq!(grow(&mut store, 1), -1, "{strategy:?}: past the maximum");
        assert_eq!(grow(&mut store, -1), -1, "{strategy:?}: 2^32 - 1 pages");
        assert_eq!(grow(&mut store, 0), 3, "{strategy:?}");
        assert_eq!(bits(&call(&mut store, i, "size", &[]).unwrap()[0]), 3);
        // The new pages are zeroed and addressable, the maximum's last byte included.
        assert_eq!(
            bits(&call(&mut store, i, "last", &[]).unwrap()[0]),
            0,
            "{strategy:?}"
        );
        let memory = i.get_memory(&mut store, "bounded").unwrap();
        assert_eq!(memory.data_size(&store), 3 * PAGE as usize);
        assert!(
            memory.grow(&mut store, 1).is_err(),
            "{strategy:?}: host grow past the maximum"
        );
        assert_eq!(memory.size(&store), 3);

        // Without a maximum, the 32-bit limit of 65536 pages (4 GiB) still holds.
        let u = instantiate(&engine, &mut store, unbounded);
        let grow = |store: &mut Store<()>, n: i32| {
            bits(&call(store, u, "grow", &[Val::I32(n)]).unwrap()[0]) as i32
        };
        assert_eq!(grow(&mut store, 65536), -1, "{strategy:?}: to 65537 pages");
        assert_eq!(grow(&mut store, i32::MAX), -1, "{strategy:?}");
        assert_eq!(grow(&mut store, -1), -1, "{strategy:?}");
        assert_eq!(grow(&mut store, 1), 1, "{strategy:?}: still usable");
    }
}

#[test]
fn call_indirect_checks_type_null_and_bounds() {
    let lib = r#"(module
      (func (export "other") (param i32) (result i32) (i32.add (local.get 0) (i32.const 100))))"#;
    let wat = r#"(module
      (type $unary (func (param i32) (result i32)))
      (type $unary2 (func (param i32) (result i32)))
      (type $nullary (func (result i32)))
      (type $i64 (func (param i64) (result i64)))
      (import "lib" "other" (func $other (type $unary)))
      (table (export "table") 5 funcref)
      (elem (i32.const 0) $inc $seven $other)
      (func $inc (type $unary) (i32.add (local.get 0) (i32.const 1)))
      (func $seven (type $nullary) (i32.const 7))
      (func (export "unary") (param i32) (result i32)
        (call_indirect (type $unary) (i32.const 41) (local.get 0)))
      (func (export "unary2") (param i32) (result i32)
        (call_indirect (type $unary2) (i32.const 41) (local.get 0)))
      (func (export "nullary") (param i32) (result i32)
        (call_indirect (type $nullary) (local.get 0)))
      (func (export "wide") (param i32) (result i64)
        (call_indirect (type $i64) (i64.const 1) (local.get 0))))"#;
    for (strategy, engine) in engines() {
        let mut store = Store::new(&engine, ());
        let lib = instantiate(&engine, &mut store, lib);
        let other = lib.get_func(&mut store, "other").unwrap();
        let module = Module::new(&engine, wat).unwrap();
        let i = Instance::new(&mut store, &module, &[other.into()]).unwrap();
        let c = |store: &mut Store<()>, name: &str, index: i32| {
            call(store, i, name, &[Val::I32(index)]).map(|r| bits(&r[0]))
        };
        let s = strategy;
        assert_eq!(c(&mut store, "unary", 0), Ok(42), "{s:?}");
        // Structurally equal types match, whatever their index.
        assert_eq!(c(&mut store, "unary2", 0), Ok(42), "{s:?}");
        // A function of another instance, with an equal type.
        assert_eq!(c(&mut store, "unary", 2), Ok(141), "{s:?}");
        assert_eq!(c(&mut store, "nullary", 1), Ok(7), "{s:?}");
        assert_eq!(c(&mut store, "unary", 1), Err(Trap::BadSignature), "{s:?}");
        assert_eq!(
            c(&mut store, "nullary", 0),
            Err(Trap::BadSignature),
            "{s:?}"
        );
        assert_eq!(
            c(&mut store, "nullary", 2),
            Err(Trap::BadSignature),
            "{s:?}"
        );
        assert_eq!(c(&mut store, "wide", 0), Err(Trap::BadSignature), "{s:?}");
        assert_eq!(
            c(&mut store, "unary", 3),
            Err(Trap::IndirectCallToNull),
            "{s:?}"
        );
        assert_eq!(
            c(&mut store, "nullary", 4),
            Err(Trap::IndirectCallToNull),
            "{s:?}"
        );
        for index in [5, 6, i32::MAX, -1, i32::MIN] {
            assert_eq!(
                c(&mut store, "unary", index),
                Err(Trap::UndefinedElement),
                "{s:?} {index}"
            );
        }
        // Host-side table writes are checked too, and grow the reachable range only
        // up to the table's size.
        let table = i.get_table(&mut store, "table").unwrap();
        assert!(
            table.set(&mut store, 5, Val::FuncRef(None)).is_err(),
            "{s:?}"
        );
        table.set(&mut store, 3, Val::FuncRef(Some(other))).unwrap();
        assert_eq!(c(&mut store, "unary", 3), Ok(141), "{s:?}");
        assert_eq!(
            c(&mut store, "nullary", 3),
            Err(Trap::BadSignature),
            "{s:?}"
        );
    }
}

#[test]
fn a_trap_leaves_the_store_usable() {
    let wat = r#"(module
      (memory (export "memory") 1)
      (global $g (export "g") (mut i32) (i32.const 0))
      (func $recurse (export "recurse") (call $recurse))
      (func (export "unreachable") (global.set $g (i32.const 1)) unreachable)
      (func (export "div") (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0)))
      (func (export "oob") (i32.store (i32.const 65535) (i32.const 1)))
      (func (export "bump") (result i32)
        (global.set $g (i32.add (global.get $g) (i32.const 1)))
        (i32.store (i32.const 0) (global.get $g))
        (global.get $g)))"#;
    let trapping_start = r#"(module (func $s unreachable) (start $s))"#;
    for (strategy, engine) in engines() {
        let s = strategy;
        let mut store = Store::new(&engine, ());
        let i = instantiate(&engine, &mut store, wat);
        for round in 0..3 {
            assert_eq!(
                call(&mut store, i, "recurse", &[]).err(),
                Some(Trap::StackOverflow),
                "{s:?}"
            );
            assert_eq!(
                call(&mut store, i, "unreachable", &[]).err(),
                Some(Trap::Unreachable),
                "{s:?}"
            );
            assert_eq!(
                call(&mut store, i, "div", &[Val::I32(0)]).err(),
                Some(Trap::IntegerDivisionByZero),
                "{s:?}"
            );
            assert_eq!(
                call(&mut store, i, "oob", &[]).err(),
                Some(Trap::MemoryOutOfBounds),
                "{s:?}"
            );
            // Side effects before a trap stay (the spec has no rollback); later calls work.
            let g = bits(&call(&mut store, i, "bump", &[]).unwrap()[0]);
            assert_eq!(g, 2, "{s:?} round {round}");
            assert_eq!(
                bits(&call(&mut store, i, "div", &[Val::I32(1)]).unwrap()[0]),
                1,
                "{s:?}"
            );
            let memory = i.get_memory(&mut store, "memory").unwrap();
            assert_eq!(memory.data(&store)[0], 2, "{s:?}");
        }
        // A start function that traps fails instantiation; the store goes on.
        let module = Module::new(&engine, trapping_start).unwrap();
        let error = Instance::new(&mut store, &module, &[]).unwrap_err();
        assert_eq!(error.trap_code(), Some(Trap::Unreachable), "{s:?}");
        let again = instantiate(&engine, &mut store, wat);
        assert_eq!(
            bits(&call(&mut store, again, "bump", &[]).unwrap()[0]),
            1,
            "{s:?}"
        );
        assert_eq!(
            call(&mut store, again, "recurse", &[]).err(),
            Some(Trap::StackOverflow),
            "{s:?}"
        );
        assert_eq!(
            bits(&call(&mut store, i, "bump", &[]).unwrap()[0]),
            3,
            "{s:?}"
        );
    }
}

#[test]
fn instances_do_not_share_memory() {
    let wat = r#"(module
      (memory (export "memory") 1)
      (global $id (export "id") (mut i32) (i32.const 0))
      (func (export "set") (param i32)
        (global.set $id (local.get 0))
        (memory.fill (i32.const 0) (local.get 0) (i32.const 65536)))
      (func (export "check") (result i32)
        ;; 1 if every byte is the instance's id (mod 256), else 0.
        (local $i i32)
        (block $bad
          (loop $next
            (br_if $bad (i32.ne (i32.load8_u (local.get $i))
                                (i32.and (global.get $id) (i32.const 255))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $next (i32.lt_u (local.get $i) (i32.const 65536))))
          (return (i32.const 1)))
        (i32.const 0)))"#;
    for (strategy, engine) in engines() {
        let mut store = Store::new(&engine, ());
        let module = Module::new(&engine, wat).unwrap();
        let instances: Vec<Instance> = (0..64)
            .map(|_| Instance::new(&mut store, &module, &[]).unwrap())
            .collect();
        for (n, &i) in instances.iter().enumerate() {
            call(&mut store, i, "set", &[Val::I32(n as i32 + 1)]).unwrap();
        }
        for (n, &i) in instances.iter().enumerate() {
            let ok = bits(&call(&mut store, i, "check", &[]).unwrap()[0]);
            assert_eq!(ok, 1, "{strategy:?}: instance {n} sees another's writes");
            let memory = i.get_memory(&mut store, "memory").unwrap();
            assert!(
                memory.data(&store).iter().all(|&b| b == n as u8 + 1),
                "{strategy:?}"
            );
        }
        // A host write into one memory shows in that one only.
        let first = instances[0].get_memory(&mut store, "memory").unwrap();
        first.write(&mut store, 100, &[0xee]).unwrap();
        assert_eq!(
            bits(&call(&mut store, instances[0], "check", &[]).unwrap()[0]),
            0
        );
        assert_eq!(
            bits(&call(&mut store, instances[1], "check", &[]).unwrap()[0]),
            1
        );
    }
}
