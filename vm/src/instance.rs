//! Instantiation: import matching, entity allocation, constant expressions, and segment
//! initialisation.
//!
//! Per-function and per-element work is avoided: the defined functions get one run of
//! store ids, reserved in O(1) (see [`crate::funcs`]); when the module's table templates
//! hold its element segments, its tables are made lazily from them (see
//! [`crate::table`]) and no segment is written; otherwise function-index segments are
//! written straight into their table (one add per element from the module's element
//! template, or one id lookup per element). Copy-on-write memory images and the other
//! per-module facts come from the module's [`crate::plan::InstancePlan`].
//!
//! The start function is not run here: running code is a tier's job, so the embedding
//! layer calls it once [`instantiate`] returns.
//!
//! As the spec requires, active segments are applied in order and a trap stops
//! instantiation without undoing the writes already made to imported tables and memories;
//! the half-made instance stays in the store so references to its functions remain valid.

use crate::memory::LinearMemory;
use crate::store::*;
use crate::table::Table;
use crate::trap::TrapCode;
use crate::value::{encode_extern_ref, encode_func_ref};
use kestrel_parser::{ConstExpr, ConstOp, DataMode, ElementItems, ElementMode, ImportKind};
use std::fmt;
use std::sync::Arc;

/// An entity provided to satisfy an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extern {
    Func(FuncId),
    Table(TableId),
    Memory(MemoryId),
    Global(GlobalId),
}

/// Why instantiation failed.
#[derive(Debug, Clone)]
pub enum InstantiationError {
    /// An import was missing or of the wrong type (`assert_unlinkable`).
    Link(String),
    /// Initialising a segment trapped (`assert_trap` on a module).
    Trap(TrapCode),
    /// A memory or table could not be allocated.
    Resource(String),
}

impl fmt::Display for InstantiationError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstantiationError::Link(message) => write!(formatter, "{message}"),
            InstantiationError::Trap(code) => write!(formatter, "{code}"),
            InstantiationError::Resource(message) => write!(formatter, "{message}"),
        }
    }
}

impl std::error::Error for InstantiationError {}

/// Creates an instance of `module` in `store` with `imports` given in the module's import
/// order.
pub fn instantiate(
    store: &mut StoreOpaque,
    module: &Arc<RuntimeModule>,
    imports: &[Extern],
) -> Result<InstanceId, InstantiationError> {
    let info = &module.info;
    if imports.len() != info.imports.len() {
        return Err(InstantiationError::Link(format!(
            "expected {} imports, found {}",
            info.imports.len(),
            imports.len()
        )));
    }
    let mut funcs = Vec::with_capacity(info.num_imported_functions as usize);
    let mut tables = Vec::with_capacity(info.tables.len());
    let mut memories = Vec::with_capacity(info.memories.len());
    let mut globals = Vec::with_capacity(info.globals.len());

    for (import, provided) in info.imports.iter().zip(imports) {
        let mismatch = |detail: String| {
            InstantiationError::Link(format!(
                "incompatible import type for `{}::{}`: {detail}",
                import.module, import.name
            ))
        };
        match (import.kind, *provided) {
            (ImportKind::Func(type_index), Extern::Func(id)) => {
                let expected = module.type_ids[type_index as usize];
                if store.func_type_id(id) != expected {
                    return Err(mismatch(format!(
                        "expected {}, found {}",
                        info.types[type_index as usize],
                        store.func_type(id)
                    )));
                }
                funcs.push(id);
            }
            (ImportKind::Table(expected), Extern::Table(id)) => {
                let table = store.table(id);
                let actual = table.ty();
                let limits = kestrel_parser::Limits {
                    minimum: table.size(),
                    maximum: actual.limits.maximum,
                };
                if actual.element_type != expected.element_type
                    || actual.table64 != expected.table64
                    || !limits.matches(expected.limits)
                {
                    return Err(mismatch("table types differ".into()));
                }
                tables.push(id);
            }
            (ImportKind::Memory(expected), Extern::Memory(id)) => {
                let memory = store.memory(id);
                let actual = memory.ty();
                let limits = kestrel_parser::Limits {
                    minimum: memory.size_in_pages(),
                    maximum: actual.limits.maximum,
                };
                if actual.memory64 != expected.memory64
                    || actual.shared != expected.shared
                    || actual.page_size_log2 != expected.page_size_log2
                    || !limits.matches(expected.limits)
                {
                    return Err(mismatch("memory types differ".into()));
                }
                memories.push(id);
            }
            (ImportKind::Global(expected), Extern::Global(id)) => {
                let actual = store.global(id).ty;
                let content_matches = if expected.mutable {
                    actual.content == expected.content
                } else {
                    match (actual.content, expected.content) {
                        (
                            kestrel_parser::ValType::Ref(actual),
                            kestrel_parser::ValType::Ref(expected),
                        ) => actual.matches(expected),
                        (actual, expected) => actual == expected,
                    }
                };
                if actual.mutable != expected.mutable || !content_matches {
                    return Err(mismatch("global types differ".into()));
                }
                globals.push(id);
            }
            (ImportKind::Tag(_), _) => {
                return Err(mismatch(
                    "tags (exception handling) are not supported yet".into(),
                ));
            }
            (expected, _) => {
                return Err(mismatch(format!("expected a {}", expected.extern_kind())));
            }
        }
    }

    let plan = module.plan();
    let instance_id = InstanceId(store.instances.len() as u32);
    let Some(first_defined) = store.push_wasm_funcs(instance_id, module) else {
        return Err(InstantiationError::Resource(
            "too many functions in the store".into(),
        ));
    };
    let funcs = InstanceFuncs {
        imported: funcs.into(),
        first_defined,
    };
    // Copy-on-write images replace the data segments only when all of them are in images.
    let use_images = store.memory_config.memory_init_cow && plan.data_in_images;
    for (defined, ty) in info.memories[info.num_imported_memories as usize..]
        .iter()
        .enumerate()
    {
        let image = if use_images {
            plan.memory_images[defined].as_ref()
        } else {
            None
        };
        let memory = LinearMemory::with_image(*ty, &store.memory_config, image)
            .map_err(|error| InstantiationError::Resource(error.0))?;
        memories.push(store.push_memory(memory));
    }
    for definition in &info.global_definitions {
        let value = evaluate(store, &definition.init, &globals, &funcs);
        globals.push(store.push_global(GlobalEntity::new(definition.ty, value)));
    }
    for (definition, template) in info.table_definitions.iter().zip(&plan.table_templates) {
        let table = match template {
            // The element segments, applied ahead of time (`plan.elements_in_templates`).
            // Lazy: built from the template when first written (see `crate::table`).
            Some(template) => Table::from_template(definition.ty, template, first_defined.0),
            None => {
                let initial = match &definition.init {
                    Some(expr) => evaluate(store, expr, &globals, &funcs) as u64,
                    None => 0,
                };
                Table::new(definition.ty, initial)
            }
        }
        .map_err(InstantiationError::Resource)?;
        tables.push(store.push_table(table));
    }

    let global_cells: Box<[GlobalCell]> =
        globals.iter().map(|id| store.global(*id).cell()).collect();
    let context = InstanceContext::new(store, instance_id, &memories, &tables, &global_cells);
    let vmctx = context.vmctx_ptr();
    store.instances.push(InstanceEntity {
        module: module.clone(),
        funcs,
        tables: tables.into(),
        memories: memories.into(),
        globals: globals.into(),
        global_cells,
        dropped_data: vec![false; info.data.len()].into(),
        dropped_elements: vec![false; info.elements.len()].into(),
        context,
    });
    store.finish_instance_funcs(
        instance_id,
        first_defined,
        plan.defined_func_types.len(),
        vmctx,
    );

    initialize_segments(store, instance_id, use_images)?;
    Ok(instance_id)
}

/// Applies the active element segments, then the active data segments (unless
/// `data_in_images`: the defined memories were created from images holding them).
fn initialize_segments(
    store: &mut StoreOpaque,
    instance_id: InstanceId,
    data_in_images: bool,
) -> Result<(), InstantiationError> {
    let module = store.instance(instance_id).module.clone();
    let info = &module.info;
    let plan = module.plan();
    if plan.elements_in_templates {
        // The tables were created with the segments applied, and none could trap.
        store.instances[instance_id.index()]
            .dropped_elements
            .copy_from_slice(&plan.elements_dropped_after_init);
    }
    for (segment_index, segment) in info.elements.iter().enumerate() {
        if plan.elements_in_templates {
            break;
        }
        match &segment.mode {
            ElementMode::Passive => continue,
            ElementMode::Declared => {}
            ElementMode::Active { table, offset } => {
                let offset = evaluate_in_instance(store, instance_id, offset) as u64;
                let table_id = store.instance(instance_id).tables[*table as usize];
                let written = match (&segment.items, &plan.element_templates[segment_index]) {
                    // The common case: the module's template, moved to this instance's
                    // function ids (one add per element).
                    (_, Some(template)) => {
                        let base =
                            u64::from(store.instances[instance_id.index()].funcs.first_defined.0)
                                + 1;
                        store.tables[table_id.index()].write_with(
                            offset,
                            template.len() as u64,
                            |slots| {
                                for (slot, defined) in slots.iter_mut().zip(template.iter()) {
                                    *slot = defined + base;
                                }
                            },
                        )
                    }
                    // Written in place: no vector of values.
                    (ElementItems::Functions(indices), None) => {
                        let funcs = &store.instances[instance_id.index()].funcs;
                        store.tables[table_id.index()].write_with(
                            offset,
                            indices.len() as u64,
                            |slots| {
                                for (slot, index) in slots.iter_mut().zip(indices.iter()) {
                                    *slot = encode_func_ref(Some(funcs.get(*index)));
                                }
                            },
                        )
                    }
                    (items, None) => {
                        let values = element_values(store, instance_id, items);
                        store.table_mut(table_id).write(offset, &values)
                    }
                };
                if let Err(trap) = written {
                    if data_in_images {
                        // The data segments must not appear written: they come after.
                        unapply_images(store, instance_id)?;
                    }
                    return Err(InstantiationError::Trap(trap));
                }
            }
        }
        store.instances[instance_id.index()].dropped_elements[segment_index] = true;
    }
    if data_in_images {
        // Nothing to write and nothing can trap: every active segment is applied.
        store.instances[instance_id.index()]
            .dropped_data
            .copy_from_slice(&plan.data_dropped_after_init);
        return Ok(());
    }
    for (segment_index, segment) in info.data.iter().enumerate() {
        let DataMode::Active { memory, offset } = &segment.mode else {
            continue;
        };
        let offset = match plan.data_offsets[segment_index] {
            Some(offset) => offset as u128,
            None => evaluate_in_instance(store, instance_id, offset),
        };
        let memory_id = store.instance(instance_id).memories[*memory as usize];
        let memory = store.memory_mut(memory_id);
        let offset = if memory.ty().memory64 {
            offset as u64
        } else {
            offset as u32 as u64
        };
        memory
            .write(offset, info.data_bytes(segment))
            .map_err(InstantiationError::Trap)?;
        store.instances[instance_id.index()].dropped_data[segment_index] = true;
    }
    Ok(())
}

/// Zeroes the defined memories of an instance whose memories came from images.
fn unapply_images(
    store: &mut StoreOpaque,
    instance_id: InstanceId,
) -> Result<(), InstantiationError> {
    let instance = store.instance(instance_id);
    let imported = instance.module.info.num_imported_memories as usize;
    let defined: Vec<_> = instance.memories[imported..].to_vec();
    for id in defined {
        store
            .memory_mut(id)
            .reset_to_zero()
            .map_err(|error| InstantiationError::Resource(error.0))?;
    }
    Ok(())
}

/// The raw references an element segment holds, evaluated in `instance_id`.
pub fn element_values(
    store: &StoreOpaque,
    instance_id: InstanceId,
    items: &ElementItems,
) -> Vec<u64> {
    let instance = store.instance(instance_id);
    match items {
        ElementItems::Functions(indices) => indices
            .iter()
            .map(|index| encode_func_ref(Some(instance.funcs.get(*index))))
            .collect(),
        ElementItems::Expressions(expressions) => expressions
            .iter()
            .map(|expr| evaluate(store, expr, &instance.globals, &instance.funcs) as u64)
            .collect(),
    }
}

fn evaluate_in_instance(store: &StoreOpaque, instance_id: InstanceId, expr: &ConstExpr) -> u128 {
    let instance = store.instance(instance_id);
    evaluate(store, expr, &instance.globals, &instance.funcs)
}

/// Evaluates a validated constant expression; integers wrap as Wasm arithmetic does.
pub fn evaluate(
    store: &StoreOpaque,
    expr: &ConstExpr,
    globals: &[GlobalId],
    funcs: &InstanceFuncs,
) -> u128 {
    // The common case, a single instruction, needs no stack.
    match *expr.ops {
        [ConstOp::I32Const(value)] => return value as u32 as u128,
        [ConstOp::I64Const(value)] => return value as u64 as u128,
        [ConstOp::GlobalGet(index)] => return store.global(globals[index as usize]).bits(),
        [ConstOp::RefFunc(index)] => return encode_func_ref(Some(funcs.get(index))) as u128,
        _ => {}
    }
    let mut stack: Vec<u128> = Vec::new();
    let binary = |stack: &mut Vec<u128>, op: fn(u64, u64) -> u64| {
        let rhs = stack.pop().unwrap_or_default() as u64;
        let lhs = stack.pop().unwrap_or_default() as u64;
        stack.push(op(lhs, rhs) as u128);
    };
    for op in expr.ops.iter() {
        match *op {
            ConstOp::I32Const(value) => stack.push(value as u32 as u128),
            ConstOp::I64Const(value) => stack.push(value as u64 as u128),
            ConstOp::F32Const(bits) => stack.push(bits as u128),
            ConstOp::F64Const(bits) => stack.push(bits as u128),
            ConstOp::V128Const(bits) => stack.push(bits),
            ConstOp::RefNull(_) => stack.push(encode_extern_ref(None) as u128),
            ConstOp::RefFunc(index) => stack.push(encode_func_ref(Some(funcs.get(index))) as u128),
            ConstOp::GlobalGet(index) => stack.push(store.global(globals[index as usize]).bits()),
            ConstOp::I32Add => binary(&mut stack, |a, b| (a as u32).wrapping_add(b as u32) as u64),
            ConstOp::I32Sub => binary(&mut stack, |a, b| (a as u32).wrapping_sub(b as u32) as u64),
            ConstOp::I32Mul => binary(&mut stack, |a, b| (a as u32).wrapping_mul(b as u32) as u64),
            ConstOp::I64Add => binary(&mut stack, u64::wrapping_add),
            ConstOp::I64Sub => binary(&mut stack, u64::wrapping_sub),
            ConstOp::I64Mul => binary(&mut stack, u64::wrapping_mul),
        }
    }
    stack.pop().unwrap_or_default()
}
