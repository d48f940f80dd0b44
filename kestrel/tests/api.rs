//! Tests of the embedding API.
//!
//! Compiling, linking, instantiating, calling Wasm and host functions in both directions,
//! traps and backtraces, memories, tables, globals and references.

use kestrel::*;
use std::fmt;

fn engine() -> Engine {
    Engine::default()
}

/// The error a test's host functions return, to check it comes back out unchanged.
#[derive(Debug, PartialEq)]
struct Exit(i32);

impl fmt::Display for Exit {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "exit with code {}", self.0)
    }
}

impl std::error::Error for Exit {}

fn i32_limits(minimum: u64, maximum: Option<u64>) -> Limits {
    Limits { minimum, maximum }
}

fn memory_type(minimum: u64, maximum: Option<u64>) -> MemoryType {
    MemoryType {
        limits: i32_limits(minimum, maximum),
        memory64: false,
        shared: false,
        page_size_log2: 16,
    }
}

fn funcref_table(minimum: u64, maximum: Option<u64>) -> TableType {
    TableType {
        element_type: RefType::FUNCREF,
        limits: i32_limits(minimum, maximum),
        table64: false,
    }
}

// ---------------------------------------------------------------------------------------
// Static properties

#[test]
fn thread_safety_and_sizes() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    send::<Engine>();
    sync::<Engine>();
    send::<Module>();
    sync::<Module>();
    send::<Store<()>>();
    send::<Linker<()>>();
    sync::<Linker<()>>();
    send::<Error>();
    sync::<Error>();
    send::<Func>();
    sync::<Val>();
    assert_eq!(size_of::<Error>(), size_of::<usize>());
    assert_eq!(size_of::<Result<()>>(), size_of::<usize>());
}

// ---------------------------------------------------------------------------------------
// Compiling

#[test]
fn compiles_text_and_binary() {
    let engine = engine();
    let text = r#"(module $calc (func (export "id") (param i32) (result i32) local.get 0))"#;
    let module = Module::new(&engine, text).unwrap();
    assert_eq!(module.name(), Some("calc"));
    assert!(Engine::same(module.engine(), &engine));

    let binary = b"\0asm\x01\0\0\0";
    let module = Module::new(&engine, binary).unwrap();
    assert_eq!(module.name(), None);
    assert_eq!(module.imports().len(), 0);
    Module::from_binary(&engine, binary).unwrap();
    Module::validate(&engine, text).unwrap();
}

#[test]
fn malformed_binary_is_a_parse_error_with_offset() {
    // A type section that promises one entry and ends after the form byte.
    let bytes = b"\0asm\x01\0\0\0\x01\x04\x01\x60\x00";
    let error = Module::new(&engine(), bytes).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Parse);
    assert_eq!(error.offset(), Some(10));
    assert!(
        error.to_string().contains("unexpected end-of-file"),
        "{error}"
    );
    assert_eq!(error.downcast_ref::<ParseError>().unwrap().offset(), 10);

    let error = Module::new(&engine(), b"\0asm\x02\0\0\0").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Parse);
    assert_eq!(error.offset(), Some(4));
    assert!(Module::validate(&engine(), b"\0asm\x02\0\0\0").is_err());
}

#[test]
fn invalid_function_body_is_a_parse_error_with_offset() {
    let error = Module::new(&engine(), "(module (func (result i32) i64.const 1))").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Parse);
    assert_eq!(error.offset(), Some(0x1a));
    assert!(
        error
            .to_string()
            .starts_with("type mismatch: expected i32, found i64"),
        "{error}"
    );
}

#[test]
fn text_syntax_error_is_a_parse_error_without_offset() {
    let error = Module::new(&engine(), "(module (func (result i32) i32.const))").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Parse);
    assert_eq!(error.offset(), None);
    assert!(error.to_string().contains("expected a i32"), "{error}");
}

#[test]
fn disabled_and_unsupported_features() {
    // SIMD and relaxed SIMD are on by default; switched off, the validator rejects them.
    Module::new(&engine(), "(module (func (param v128)))").unwrap();
    let mut config = Config::new();
    config.wasm_simd(false);
    let error = Module::new(
        &Engine::new(&config).unwrap(),
        "(module (func (param v128)))",
    )
    .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Parse);
    assert!(error.to_string().contains("SIMD support is not enabled"));

    let mut config = Config::new();
    config.wasm_features(Features::wasm3());
    let engine = Engine::new(&config).unwrap();
    let error = Module::new(&engine, "(module (type (struct)))").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unsupported);
    assert_eq!(error.offset(), Some(11));

    // Valid and supported by the parser, but no `Val` can hold an anyref.
    let error = Module::new(
        &engine,
        r#"(module (global (export "g") anyref (ref.null any)))"#,
    )
    .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unsupported);
    assert!(error.to_string().contains("export `g`"), "{error}");
}

#[test]
fn engine_rejects_zero_limits() {
    let mut config = Config::new();
    config.max_call_depth(0);
    assert_eq!(Engine::new(&config).unwrap_err().kind(), ErrorKind::Usage);
    let mut config = Config::new();
    config
        .wasm_simd(true)
        .wasm_tail_call(true)
        .wasm_multi_memory(true)
        .wasm_memory64(true)
        .wasm_extended_const(true)
        .max_value_stack(1024)
        .memory_reservation(1 << 20)
        .strategy(Strategy::Interpreter);
    let engine = Engine::new(&config).unwrap();
    Module::new(
        &engine,
        "(module (func (param v128)) (memory 1) (memory i64 1))",
    )
    .unwrap();
}

#[test]
fn from_file_reads_text_and_reports_io_errors() {
    let path = std::env::temp_dir().join(format!("kestrel-api-{}.wat", std::process::id()));
    std::fs::write(&path, "(module (memory (export \"m\") 1))").unwrap();
    let module = Module::from_file(&engine(), &path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(module.exports().len(), 1);

    let error = Module::from_file(&engine(), &path).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Io);
    assert!(error.downcast_ref::<std::io::Error>().is_some());
}

#[test]
fn imports_and_exports_have_types() {
    let module = Module::new(
        &engine(),
        r#"(module
            (import "env" "log" (func (param i32 i64) (result f32)))
            (import "env" "mem" (memory 1 2))
            (import "env" "tab" (table 3 funcref))
            (import "env" "g" (global (mut f64)))
            (func $f (export "f") (param externref) (result funcref) ref.null func)
            (table (export "t") 1 5 externref)
            (export "m" (memory 0))
            (global (export "c") i32 (i32.const 7)))"#,
    )
    .unwrap();

    let imports: Vec<_> = module
        .imports()
        .map(|import| (import.module(), import.name(), import.ty()))
        .collect();
    assert_eq!(
        imports,
        vec![
            (
                "env",
                "log",
                ExternType::Func(FuncType::new([ValType::I32, ValType::I64], [ValType::F32]))
            ),
            ("env", "mem", ExternType::Memory(memory_type(1, Some(2)))),
            ("env", "tab", ExternType::Table(funcref_table(3, None))),
            (
                "env",
                "g",
                ExternType::Global(GlobalType {
                    content: ValType::F64,
                    mutable: true
                })
            ),
        ]
    );

    let exports: Vec<_> = module
        .exports()
        .map(|export| (export.name(), export.ty()))
        .collect();
    assert_eq!(exports.len(), 4);
    assert_eq!(
        exports[0],
        (
            "f",
            ExternType::Func(FuncType::new([ValType::EXTERNREF], [ValType::FUNCREF]))
        )
    );
    assert_eq!(
        exports[1].1.table().unwrap().element_type,
        RefType::EXTERNREF
    );
    assert_eq!(exports[1].1.table().unwrap().limits, i32_limits(1, Some(5)));
    assert_eq!(
        exports[2],
        ("m", ExternType::Memory(memory_type(1, Some(2))))
    );
    assert_eq!(
        exports[3].1.global(),
        Some(&GlobalType {
            content: ValType::I32,
            mutable: false
        })
    );
}

// ---------------------------------------------------------------------------------------
// Linking and instantiating (no Wasm code runs)

#[test]
fn linker_reports_a_missing_import() {
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module (import "env" "foo" (func)) (import "env" "bar" (func)))"#,
    )
    .unwrap();
    let mut linker = Linker::<()>::new(&engine);
    linker.func_wrap("env", "bar", || {}).unwrap();
    let mut store = Store::new(&engine, ());
    let error = linker.instantiate(&mut store, &module).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Link);
    assert_eq!(
        error.to_string(),
        "unknown import: `env::foo` has not been defined"
    );
}

#[test]
fn import_type_mismatch_is_a_link_error() {
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module (import "env" "f" (func (param i32) (result i32))))"#,
    )
    .unwrap();
    let mut linker = Linker::<()>::new(&engine);
    linker.func_wrap("env", "f", |x: i64| x).unwrap();
    let mut store = Store::new(&engine, ());
    let error = linker.instantiate(&mut store, &module).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Link);
    assert_eq!(
        error.to_string(),
        "incompatible import type for `env::f`: expected (func (param i32) (result i32)), \
         found (func (param i64) (result i64))"
    );

    // The wrong kind of item, through `Instance::new`.
    let memory = Memory::new(&mut store, memory_type(1, None)).unwrap();
    let error = Instance::new(&mut store, &module, &[memory.into()]).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Link);
    assert!(error.to_string().contains("expected a function"), "{error}");

    // The wrong number of imports.
    let error = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Link);
}

#[test]
fn linker_rejects_duplicates_unless_shadowing() {
    let engine = engine();
    let mut linker = Linker::<()>::new(&engine);
    linker.func_wrap("env", "f", || 1i32).unwrap();
    let error = linker.func_wrap("env", "f", || 2i32).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Link);
    assert_eq!(error.to_string(), "import of `env::f` defined twice");

    linker.allow_shadowing(true);
    linker.func_wrap("env", "f", || 3i32).unwrap();
    let mut store = Store::new(&engine, ());
    let f = linker
        .get(&mut store, "env", "f")
        .unwrap()
        .into_func()
        .unwrap();
    assert_eq!(
        f.typed::<(), i32>(&store)
            .unwrap()
            .call(&mut store, ())
            .unwrap(),
        3
    );
    assert!(linker.get(&mut store, "env", "g").is_none());
}

#[test]
fn instantiation_initialises_memories_tables_and_globals() {
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "seven" (func $seven (result i32)))
            (memory (export "memory") 1 3)
            (data (i32.const 16) "hello")
            (global (export "answer") i32 (i32.const 42))
            (global (export "counter") (mut i64) (i64.const -1))
            (table (export "table") 2 funcref)
            (elem (i32.const 1) $seven)
            (export "seven" (func $seven)))"#,
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("host", "seven", |caller: Caller<'_, i32>| {
            *caller.data() + 7
        })
        .unwrap();
    let mut store = Store::new(&engine, 0);
    let instance = linker.instantiate(&mut store, &module).unwrap();

    let memory = instance.get_memory(&mut store, "memory").unwrap();
    assert_eq!(memory.size(&store), 1);
    assert_eq!(&memory.data(&store)[16..21], b"hello");

    let answer = instance.get_global(&mut store, "answer").unwrap();
    assert_eq!(answer.get(&store).i32(), Some(42));
    assert_eq!(
        answer.set(&mut store, Val::I32(1)).unwrap_err().kind(),
        ErrorKind::Usage
    );
    let counter = instance.get_global(&mut store, "counter").unwrap();
    counter.set(&mut store, Val::I64(5)).unwrap();
    assert_eq!(counter.get(&store).unwrap_i64(), 5);

    // The imported host function, re-exported and placed in the table, runs today.
    let seven = instance
        .get_typed_func::<(), i32>(&mut store, "seven")
        .unwrap();
    *store.data_mut() = 1;
    assert_eq!(seven.call(&mut store, ()).unwrap(), 8);
    let table = instance.get_table(&mut store, "table").unwrap();
    assert!(table.get(&store, 0).unwrap().unwrap_func_ref().is_none());
    let from_table = table.get(&store, 1).unwrap().unwrap_func_ref().unwrap();
    assert_eq!(from_table, *seven.func());
    assert!(table.get(&store, 2).is_none());

    let exports = instance.exports(&mut store);
    let names: Vec<_> = exports.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["memory", "answer", "counter", "table", "seven"]);
    assert_eq!(
        exports[0].1.ty(&store),
        ExternType::Memory(memory_type(1, Some(3)))
    );
    assert!(instance.get_export(&mut store, "missing").is_none());
    assert!(instance.get_func(&mut store, "memory").is_none());
    let error = instance
        .get_typed_func::<(), i32>(&mut store, "missing")
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Usage);
    let error = instance
        .get_typed_func::<i32, i32>(&mut store, "seven")
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Usage);
}

#[test]
fn data_segment_out_of_bounds_traps_instantiation() {
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module (memory 1) (data (i32.const 65535) "ab"))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let error = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Trap);
    assert_eq!(error.trap_code(), Some(Trap::MemoryOutOfBounds));
    assert_eq!(error.to_string(), "out of bounds memory access");
    assert_eq!(error.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds));
}

#[test]
fn linker_defines_items_and_instances() {
    let engine = engine();
    let provider = Module::new(
        &engine,
        r#"(module (memory (export "memory") 1) (global (export "base") i32 (i32.const 8)))"#,
    )
    .unwrap();
    let consumer = Module::new(
        &engine,
        r#"(module
            (import "provider" "memory" (memory 1))
            (import "provider" "base" (global $base i32))
            (import "host" "limit" (global i64))
            (data (global.get $base) "xyz"))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let provider = linker.instantiate(&mut store, &provider).unwrap();
    linker.instance(&mut store, "provider", provider).unwrap();
    let limit = Global::new(
        &mut store,
        GlobalType {
            content: ValType::I64,
            mutable: false,
        },
        Val::I64(99),
    )
    .unwrap();
    linker.define(&store, "host", "limit", limit).unwrap();
    linker.instantiate(&mut store, &consumer).unwrap();

    let memory = provider.get_memory(&mut store, "memory").unwrap();
    let mut buffer = [0; 3];
    memory.read(&store, 8, &mut buffer).unwrap();
    assert_eq!(&buffer, b"xyz");
    assert_eq!(
        linker.get(&mut store, "host", "limit"),
        Some(Extern::Global(limit))
    );
}

#[test]
fn cross_engine_instantiation_is_a_usage_error() {
    let module = Module::new(&engine(), "(module)").unwrap();
    let other = engine();
    let mut store = Store::new(&other, ());
    let error = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Usage);
    let error = Linker::new(&other)
        .instantiate(&mut store, &module)
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Usage);
}

#[test]
#[should_panic(expected = "object used with the wrong store")]
fn handles_of_another_store_panic() {
    let engine = engine();
    let mut first = Store::new(&engine, ());
    let second = Store::new(&engine, ());
    let memory = Memory::new(&mut first, memory_type(1, None)).unwrap();
    memory.size(&second);
}

// ---------------------------------------------------------------------------------------
// Memories, tables, globals

#[test]
fn memory_create_read_write_grow() {
    let engine = engine();
    let mut store = Store::new(&engine, "data");
    let memory = Memory::new(&mut store, memory_type(1, Some(2))).unwrap();
    assert_eq!(memory.size(&store), 1);
    assert_eq!(memory.data_size(&store), 65536);
    assert_eq!(memory.ty(&store), memory_type(1, Some(2)));

    memory.write(&mut store, 100, &[1, 2, 3]).unwrap();
    let mut buffer = [0; 3];
    memory.read(&store, 100, &mut buffer).unwrap();
    assert_eq!(buffer, [1, 2, 3]);
    memory.data_mut(&mut store)[65535] = 9;
    assert_eq!(memory.data(&store)[65535], 9);
    let (bytes, data) = memory.data_and_store_mut(&mut store);
    bytes[0] = data.len() as u8;
    assert_eq!(memory.data(&store)[0], 4);

    let error = memory.write(&mut store, 65535, &[1, 2]).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Usage);
    assert_eq!(error.to_string(), "out of bounds memory access");
    assert_eq!(
        memory.data(&store)[65535],
        9,
        "a failed write copies nothing"
    );
    assert!(memory.read(&store, usize::MAX, &mut buffer).is_err());

    assert_eq!(memory.grow(&mut store, 1).unwrap(), 1);
    assert_eq!(memory.size(&store), 2);
    assert_eq!(memory.ty(&store).limits, i32_limits(2, Some(2)));
    assert_eq!(memory.data(&store)[65535], 9, "growing keeps the contents");
    let error = memory.grow(&mut store, 1).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Resource);
    assert_eq!(memory.grow(&mut store, 0).unwrap(), 2);
}

#[test]
fn memory_types_are_checked() {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let error = Memory::new(&mut store, memory_type(2, Some(1))).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Usage);
    let error = Memory::new(&mut store, memory_type(65537, None)).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Usage);
    let mut shared = memory_type(1, Some(1));
    shared.shared = true;
    assert_eq!(
        Memory::new(&mut store, shared).unwrap_err().kind(),
        ErrorKind::Unsupported
    );
    let mut odd_pages = memory_type(1, None);
    odd_pages.page_size_log2 = 12;
    assert_eq!(
        Memory::new(&mut store, odd_pages).unwrap_err().kind(),
        ErrorKind::Usage
    );
}

#[test]
fn table_create_get_set_grow() {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let func = Func::wrap(&mut store, || 1i32);
    let table = Table::new(
        &mut store,
        funcref_table(2, Some(4)),
        Val::FuncRef(Some(func)),
    )
    .unwrap();
    assert_eq!(table.size(&store), 2);
    assert_eq!(table.get(&store, 1).unwrap().unwrap_func_ref(), Some(func));

    table.set(&mut store, 0, Val::null_func_ref()).unwrap();
    assert_eq!(table.get(&store, 0).unwrap().unwrap_func_ref(), None);
    let error = table.set(&mut store, 0, Val::I32(1)).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Usage);
    let error = table.set(&mut store, 2, Val::null_func_ref()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Usage);
    assert_eq!(error.to_string(), "out of bounds table access");

    assert_eq!(table.grow(&mut store, 2, Val::null_func_ref()).unwrap(), 2);
    assert_eq!(table.size(&store), 4);
    assert_eq!(table.ty(&store).limits, i32_limits(4, Some(4)));
    assert_eq!(
        table
            .grow(&mut store, 1, Val::null_func_ref())
            .unwrap_err()
            .kind(),
        ErrorKind::Resource
    );

    let externs = TableType {
        element_type: RefType::EXTERNREF,
        limits: i32_limits(1, None),
        table64: false,
    };
    let value = ExternRef::new(&mut store, String::from("held"));
    let table = Table::new(&mut store, externs, value.into()).unwrap();
    let held = table.get(&store, 0).unwrap().unwrap_extern_ref().unwrap();
    assert_eq!(
        held.data(&store)
            .downcast_ref::<String>()
            .map(String::as_str),
        Some("held")
    );
    let error = Table::new(&mut store, externs, Val::null_func_ref()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Usage);
    let error =
        Table::new(&mut store, funcref_table(3, Some(2)), Val::null_func_ref()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Usage);
}

#[test]
fn global_create_get_set() {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let mutable_f32 = GlobalType {
        content: ValType::F32,
        mutable: true,
    };
    let global = Global::new(&mut store, mutable_f32, Val::from(1.5f32)).unwrap();
    assert_eq!(global.ty(&store), mutable_f32);
    assert_eq!(global.get(&store).f32(), Some(1.5));
    let nan_bits = 0x7fc0_0001;
    global.set(&mut store, Val::F32(nan_bits)).unwrap();
    assert_eq!(global.get(&store).f32().map(f32::to_bits), Some(nan_bits));

    let error = global.set(&mut store, Val::I32(0)).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Usage);
    let error = Global::new(&mut store, mutable_f32, Val::F64(0)).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Usage);

    let constant = GlobalType {
        content: ValType::V128,
        mutable: false,
    };
    let wide = Global::new(&mut store, constant, Val::V128(u128::MAX - 1)).unwrap();
    assert_eq!(wide.get(&store).unwrap_v128(), u128::MAX - 1);
    let error = wide.set(&mut store, Val::V128(0)).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Usage);
    assert_eq!(error.to_string(), "immutable global cannot be set");

    let func_global = GlobalType {
        content: ValType::FUNCREF,
        mutable: true,
    };
    let global = Global::new(&mut store, func_global, Val::null_func_ref()).unwrap();
    let func = Func::wrap(&mut store, || {});
    global.set(&mut store, func.into()).unwrap();
    assert_eq!(global.get(&store).unwrap_func_ref(), Some(func));
    assert_eq!(
        Extern::from(global).ty(&store),
        ExternType::Global(func_global)
    );
}

// ---------------------------------------------------------------------------------------
// Host functions called from the host

#[test]
fn wrapped_host_function_through_call_and_typed_call() {
    let engine = engine();
    let mut store = Store::new(&engine, 0u32);
    let func = Func::wrap(
        &mut store,
        |mut caller: Caller<'_, u32>, a: i32, b: i64, c: f32, d: f64| {
            *caller.data_mut() += 1;
            (a as i64 + b, c as f64 * d)
        },
    );
    assert_eq!(
        func.ty(&store),
        FuncType::new(
            [ValType::I32, ValType::I64, ValType::F32, ValType::F64],
            [ValType::I64, ValType::F64]
        )
    );

    let mut results = [Val::I32(0), Val::I32(0)];
    func.call(
        &mut store,
        &[Val::I32(-2), Val::I64(10), 1.5f32.into(), 4.0f64.into()],
        &mut results,
    )
    .unwrap();
    assert_eq!(results[0].unwrap_i64(), 8);
    assert_eq!(results[1].unwrap_f64(), 6.0);

    let typed = func
        .typed::<(i32, i64, f32, f64), (i64, f64)>(&store)
        .unwrap();
    assert_eq!(typed.call(&mut store, (1, 2, 0.5, 3.0)).unwrap(), (3, 1.5));
    assert_eq!(*store.data(), 2);

    // Unsigned Rust types stand for the same Wasm types.
    let typed = func
        .typed::<(u32, u64, f32, f64), (u64, f64)>(&store)
        .unwrap();
    assert_eq!(
        typed.call(&mut store, (u32::MAX, 1, 0.0, 0.0)).unwrap(),
        (0, 0.0)
    );
}

#[test]
fn sixteen_parameters_and_results() {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    type Sixteen = (
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
        i32,
    );
    let reverse = Func::wrap(
        &mut store,
        |a: i32,
         b: i32,
         c: i32,
         d: i32,
         e: i32,
         f: i32,
         g: i32,
         h: i32,
         i: i32,
         j: i32,
         k: i32,
         l: i32,
         m: i32,
         n: i32,
         o: i32,
         p: i32| { (p, o, n, m, l, k, j, i, h, g, f, e, d, c, b, a) },
    );
    let typed = reverse.typed::<Sixteen, Sixteen>(&store).unwrap();
    let output = typed
        .call(
            &mut store,
            (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        )
        .unwrap();
    let (a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p) = output;
    assert_eq!(
        [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p],
        [15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]
    );
}

#[test]
fn dynamic_host_function() {
    let engine = engine();
    let mut store = Store::new(&engine, 10i64);
    let ty = FuncType::new([ValType::I64, ValType::EXTERNREF], [ValType::I64]);
    let func = Func::new(&mut store, ty.clone(), |caller, params, results| {
        let is_null = params[1].unwrap_extern_ref().is_none();
        results[0] = Val::I64(params[0].unwrap_i64() * *caller.data() + is_null as i64);
        Ok(())
    });
    assert_eq!(func.ty(&store), ty);
    let mut results = [Val::I64(0)];
    func.call(
        &mut store,
        &[Val::I64(4), Val::null_extern_ref()],
        &mut results,
    )
    .unwrap();
    assert_eq!(results[0].unwrap_i64(), 41);
    let typed = func.typed::<(i64, Option<ExternRef>), i64>(&store).unwrap();
    assert_eq!(typed.call(&mut store, (1, None)).unwrap(), 11);

    // A result of the wrong type fails the call.
    let liar = Func::new(
        &mut store,
        FuncType::new([], [ValType::I32]),
        |_caller, _params, results| {
            results[0] = Val::F32(0);
            Ok(())
        },
    );
    let error = liar.call(&mut store, &[], &mut [Val::I32(0)]).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Usage);
}

#[test]
fn host_errors_come_back_unchanged() {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let exit = Func::wrap(&mut store, |code: i32| -> Result<()> {
        Err(Error::new(Exit(code)))
    });
    let error = exit.call(&mut store, &[Val::I32(3)], &mut []).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Host);
    assert_eq!(error.downcast_ref::<Exit>(), Some(&Exit(3)));
    assert_eq!(error.to_string(), "exit with code 3");
    assert!(error.backtrace().is_none(), "no Wasm frames were live");

    let typed = exit.typed::<i32, ()>(&store).unwrap();
    let error = typed.call(&mut store, 7).unwrap_err();
    assert!(error.is::<Exit>());
    assert_eq!(error.downcast_ref::<Exit>(), Some(&Exit(7)));

    // `Error::msg` payloads come back too, and a host function can trap.
    let fail = Func::wrap(&mut store, |trap: i32| -> Result<i32> {
        if trap != 0 {
            Err(Error::new(Trap::Unreachable))
        } else {
            Err(Error::msg("plain message"))
        }
    });
    let fail = fail.typed::<i32, i32>(&store).unwrap();
    let error = fail.call(&mut store, 0).unwrap_err();
    assert_eq!(error.downcast_ref::<&str>(), Some(&"plain message"));
    let error = fail.call(&mut store, 1).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Trap);
    assert_eq!(error.trap_code(), Some(Trap::Unreachable));

    // And `kestrel::Error` converts to `anyhow::Error` with the payload reachable.
    let error: anyhow::Error = exit
        .typed::<i32, ()>(&store)
        .unwrap()
        .call(&mut store, 9)
        .unwrap_err()
        .into();
    assert_eq!(
        error
            .downcast_ref::<Error>()
            .unwrap()
            .downcast_ref::<Exit>(),
        Some(&Exit(9))
    );
}

#[test]
fn wrong_arity_and_types_are_usage_errors() {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let func = Func::wrap(&mut store, |x: i32| x);

    let error = func.call(&mut store, &[], &mut [Val::I32(0)]).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Usage);
    assert_eq!(error.to_string(), "expected 1 arguments, got 0");
    let error = func.call(&mut store, &[Val::I32(1)], &mut []).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Usage);
    assert_eq!(error.to_string(), "expected 1 results, got 0");
    let error = func
        .call(&mut store, &[Val::I64(1)], &mut [Val::I32(0)])
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Usage);
    assert!(
        error
            .to_string()
            .contains("argument 0 should be i32, found i64")
    );

    let error = func.typed::<i64, i32>(&store).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Usage);
    assert!(
        error
            .to_string()
            .contains("(func (param i32) (result i32))")
    );
    assert!(func.typed::<(i32, i32), i32>(&store).is_err());
    assert!(func.typed::<i32, ()>(&store).is_err());
    assert!(func.typed::<i32, i32>(&store).is_ok());
}

#[test]
fn references_through_host_functions() {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let target = Func::wrap(&mut store, || 5i32);
    let identity = Func::wrap(&mut store, |func: Option<Func>| func);
    let identity = identity
        .typed::<Option<Func>, Option<Func>>(&store)
        .unwrap();
    let returned = identity.call(&mut store, Some(target)).unwrap().unwrap();
    assert_eq!(returned, target);
    assert_eq!(
        returned
            .typed::<(), i32>(&store)
            .unwrap()
            .call(&mut store, ())
            .unwrap(),
        5
    );
    assert_eq!(identity.call(&mut store, None).unwrap(), None);

    let value = ExternRef::new(&mut store, 17u64);
    let unwrap = Func::wrap(
        &mut store,
        |caller: Caller<'_, ()>, value: Option<ExternRef>| {
            value.map_or(0, |value| {
                *value.data(&caller).downcast_ref::<u64>().unwrap()
            })
        },
    );
    let unwrap = unwrap.typed::<Option<ExternRef>, u64>(&store).unwrap();
    assert_eq!(unwrap.call(&mut store, Some(value)).unwrap(), 17);
    assert_eq!(unwrap.call(&mut store, None).unwrap(), 0);
}

#[test]
fn host_function_calls_back_through_the_caller() {
    let engine = engine();
    let mut store = Store::new(&engine, Vec::<i32>::new());
    let inner = Func::wrap(&mut store, |mut caller: Caller<'_, Vec<i32>>, x: i32| {
        caller.data_mut().push(x);
    });
    let outer = Func::wrap(
        &mut store,
        move |mut caller: Caller<'_, Vec<i32>>, x: i32| -> Result<i32> {
            let inner = inner.typed::<i32, ()>(&caller)?;
            inner.call(&mut caller, x)?;
            inner.call(&mut caller, x + 1)?;
            assert!(
                caller.get_export("memory").is_none(),
                "called from the host"
            );
            Ok(caller.data().len() as i32)
        },
    );
    let outer = outer.typed::<i32, i32>(&store).unwrap();
    assert_eq!(outer.call(&mut store, 4).unwrap(), 2);
    assert_eq!(store.into_data(), [4, 5]);
}

#[test]
fn v128_crosses_the_host_boundary_between_scalars() {
    // A v128 takes two slots of the raw buffer: the scalars around it must not move.
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let ty = FuncType::new(
        [ValType::I32, ValType::V128, ValType::I64],
        [ValType::V128, ValType::I32, ValType::V128],
    );
    let func = Func::new(&mut store, ty, |_, params, results| {
        let (a, v, b) = (
            params[0].unwrap_i32(),
            params[1].unwrap_v128(),
            params[2].unwrap_i64(),
        );
        results[0] = Val::V128(v.rotate_left(64));
        results[1] = Val::I32(a + b as i32);
        results[2] = Val::V128(!v);
        Ok(())
    });
    let v = 0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10u128;
    let mut results = [Val::I32(0), Val::I32(0), Val::I32(0)];
    func.call(
        &mut store,
        &[Val::I32(40), Val::V128(v), Val::I64(2)],
        &mut results,
    )
    .unwrap();
    assert_eq!(results[0].unwrap_v128(), v.rotate_left(64));
    assert_eq!(results[1].unwrap_i32(), 42);
    assert_eq!(results[2].unwrap_v128(), !v);
}

// ---------------------------------------------------------------------------------------
// Running Wasm code: needs the interpreter.

#[test]
fn calls_a_wasm_export() {
    let engine = engine();
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
    assert_eq!(add.call(&mut store, (2, 40)).unwrap(), 42);
    let mut results = [Val::I32(0)];
    add.func()
        .call(&mut store, &[Val::I32(-1), Val::I32(1)], &mut results)
        .unwrap();
    assert_eq!(results[0].unwrap_i32(), 0);
}

#[test]
fn wasm_calls_an_imported_host_function() {
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "double" (func $double (param i32) (result i32)))
            (func (export "run") (param i32) (result i32)
              local.get 0 call $double i32.const 1 i32.add))"#,
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("host", "double", |mut caller: Caller<'_, u32>, x: i32| {
            *caller.data_mut() += 1;
            x * 2
        })
        .unwrap();
    let mut store = Store::new(&engine, 0u32);
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let run = instance
        .get_typed_func::<i32, i32>(&mut store, "run")
        .unwrap();
    assert_eq!(run.call(&mut store, 20).unwrap(), 41);
    assert_eq!(*store.data(), 1);
}

#[test]
fn traps_carry_a_named_backtrace() {
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module $m
            (func $boom unreachable)
            (func (export "run") call $boom))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let run = instance
        .get_typed_func::<(), ()>(&mut store, "run")
        .unwrap();
    let error = run.call(&mut store, ()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Trap);
    assert_eq!(error.trap_code(), Some(Trap::Unreachable));
    assert_eq!(error.to_string(), "unreachable");
    let frames = error.backtrace().unwrap().frames();
    assert_eq!(frames[0].func_name(), Some("boom"));
    assert_eq!(frames[0].module_name(), Some("m"));
    assert_eq!(frames[1].func_index(), 1);
    assert_eq!(
        format!("{error:#}"),
        "unreachable\nwasm backtrace:\n    0: m!boom\n    1: m!<wasm function 1>"
    );
}

#[test]
fn host_error_unwinds_wasm_unchanged() {
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module
            (import "wasi" "exit" (func $exit (param i32)))
            (func (export "_start") i32.const 3 call $exit unreachable))"#,
    )
    .unwrap();
    let mut linker = Linker::<()>::new(&engine);
    linker
        .func_wrap("wasi", "exit", |code: i32| -> Result<()> {
            Err(Error::new(Exit(code)))
        })
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let start = instance
        .get_typed_func::<(), ()>(&mut store, "_start")
        .unwrap();
    let error = start.call(&mut store, ()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Host);
    assert_eq!(error.downcast_ref::<Exit>(), Some(&Exit(3)));
    assert!(error.backtrace().is_some());
}

#[test]
fn start_function_runs_at_instantiation() {
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module
            (global (export "g") (mut i32) (i32.const 0))
            (func $start i32.const 7 global.set 0)
            (start $start))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let global = instance.get_global(&mut store, "g").unwrap();
    assert_eq!(global.get(&store).unwrap_i32(), 7);

    let trapping = Module::new(&engine, "(module (func $s unreachable) (start $s))").unwrap();
    let error = Instance::new(&mut store, &trapping, &[]).unwrap_err();
    assert_eq!(error.trap_code(), Some(Trap::Unreachable));
}

#[test]
fn host_function_reads_the_callers_memory() {
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "print" (func $print (param i32 i32)))
            (memory (export "memory") 1)
            (data (i32.const 0) "hello")
            (func (export "run") i32.const 0 i32.const 5 call $print))"#,
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap(
            "host",
            "print",
            |mut caller: Caller<'_, String>, pointer: i32, len: i32| -> Result<()> {
                let memory = caller
                    .get_export("memory")
                    .and_then(Extern::into_memory)
                    .ok_or_else(|| Error::msg("no memory"))?;
                let (bytes, output) = memory.data_and_store_mut(&mut caller);
                let bytes = &bytes[pointer as usize..][..len as usize];
                output.push_str(std::str::from_utf8(bytes).map_err(Error::new)?);
                Ok(())
            },
        )
        .unwrap();
    let mut store = Store::new(&engine, String::new());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let run = instance
        .get_typed_func::<(), ()>(&mut store, "run")
        .unwrap();
    run.call(&mut store, ()).unwrap();
    assert_eq!(store.data(), "hello");
}

#[test]
fn reentry_and_stack_overflow() {
    let engine = engine();
    let mut config = Config::new();
    config.max_call_depth(1000);
    let limited = Engine::new(&config).unwrap();
    let module = Module::new(
        &limited,
        r#"(module
            (import "host" "again" (func $again (param i32) (result i32)))
            (func (export "count") (param i32) (result i32)
              local.get 0
              if (result i32)
                local.get 0 i32.const 1 i32.sub call $again i32.const 1 i32.add
              else
                i32.const 0
              end)
            (func $forever (export "forever") call $forever))"#,
    )
    .unwrap();
    let mut linker = Linker::new(&limited);
    linker
        .func_wrap(
            "host",
            "again",
            |mut caller: Caller<'_, Option<Func>>, n: i32| -> Result<i32> {
                let count = caller.data().expect("set before the call");
                count.typed::<i32, i32>(&caller)?.call(&mut caller, n)
            },
        )
        .unwrap();
    let mut store = Store::new(&limited, None);
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let count = instance.get_func(&mut store, "count").unwrap();
    *store.data_mut() = Some(count);
    let count = count.typed::<i32, i32>(&store).unwrap();
    assert_eq!(count.call(&mut store, 10).unwrap(), 10);

    let forever = instance
        .get_typed_func::<(), ()>(&mut store, "forever")
        .unwrap();
    let error = forever.call(&mut store, ()).unwrap_err();
    assert_eq!(error.trap_code(), Some(Trap::StackOverflow));
    // The store is still usable after a trap.
    assert_eq!(count.call(&mut store, 3).unwrap(), 3);
    let _ = engine;
}
