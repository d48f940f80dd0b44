//! The `spectest` host module the spec scripts import.
//!
//! It matches the reference interpreter's (`interpreter/host/spectest.ml`): `print*`
//! functions that print nothing here, four constant globals holding 666 / 666.6, a funcref
//! table of 10 elements (maximum 20) and a memory of 1 page (maximum 2), plus the 3.0
//! additions `table64` and `shared_memory` where the engine supports them.

use kestrel::{
    Global, GlobalType, Limits, Linker, Memory, MemoryType, RefType, Store, Table, TableType, Val,
    ValType,
};

/// Defines every `spectest` export in `linker`, creating its globals, table and memory in
/// `store`.
pub fn define_spectest<T: 'static>(
    linker: &mut Linker<T>,
    store: &mut Store<T>,
) -> kestrel::Result<()> {
    linker.func_wrap("spectest", "print", || {})?;
    linker.func_wrap("spectest", "print_i32", |_: i32| {})?;
    linker.func_wrap("spectest", "print_i64", |_: i64| {})?;
    linker.func_wrap("spectest", "print_f32", |_: f32| {})?;
    linker.func_wrap("spectest", "print_f64", |_: f64| {})?;
    linker.func_wrap("spectest", "print_i32_f32", |_: i32, _: f32| {})?;
    linker.func_wrap("spectest", "print_f64_f64", |_: f64, _: f64| {})?;

    let globals = [
        ("global_i32", ValType::I32, Val::I32(666)),
        ("global_i64", ValType::I64, Val::I64(666)),
        ("global_f32", ValType::F32, Val::F32(666.6f32.to_bits())),
        ("global_f64", ValType::F64, Val::F64(666.6f64.to_bits())),
    ];
    for (name, content, value) in globals {
        let ty = GlobalType {
            content,
            mutable: false,
        };
        let global = Global::new(&mut *store, ty, value)?;
        linker.define(&*store, "spectest", name, global)?;
    }

    let table_type = TableType {
        element_type: RefType::FUNCREF,
        limits: Limits {
            minimum: 10,
            maximum: Some(20),
        },
        table64: false,
    };
    let table = Table::new(&mut *store, table_type, Val::FuncRef(None))?;
    linker.define(&*store, "spectest", "table", table)?;

    let memory_type = MemoryType {
        limits: Limits {
            minimum: 1,
            maximum: Some(2),
        },
        memory64: false,
        shared: false,
        page_size_log2: 16,
    };
    let memory = Memory::new(&mut *store, memory_type)?;
    linker.define(&*store, "spectest", "memory", memory)?;

    // The 3.0 reference interpreter adds these two. They need memory64 and threads: when
    // the engine's features lack them they are left undefined, so a module importing them
    // fails to link (a failure of that directive), and every other module still runs.
    let table64_type = TableType {
        table64: true,
        ..table_type
    };
    if let Ok(table64) = Table::new(&mut *store, table64_type, Val::FuncRef(None)) {
        linker.define(&*store, "spectest", "table64", table64)?;
    }
    let shared_memory_type = MemoryType {
        shared: true,
        ..memory_type
    };
    if let Ok(shared_memory) = Memory::new(&mut *store, shared_memory_type) {
        linker.define(&*store, "spectest", "shared_memory", shared_memory)?;
    }
    Ok(())
}
