//! Decoding and eager validation of a module binary into a [`ModuleInfo`].
//!
//! Module-level sections are validated in order as they are read. Function bodies are
//! collected first and validated afterwards, in parallel when there are enough of them to pay
//! for the threads: a module with one invalid body is rejected here, before anything runs.

use crate::module::*;
use crate::types::*;
use crate::{Features, ParseError};
use std::sync::Arc;
use wasmparser::{
    FuncToValidate, FuncValidatorAllocations, Parser, Payload, Validator, ValidatorResources,
};

/// Below this many bytes of code, validating on one thread is faster than starting others.
/// Measured on 2 cores with `cargo bench -p kestrel-benches --bench translate -- validate`,
/// forcing each mode: erc20 (7 KB) takes 56 µs on one thread and 130 µs on two; bz2 (150 KB)
/// 441 µs and 376 µs; spidermonkey (4.2 MB) 23.7 ms and 13.3 ms.
const PARALLEL_VALIDATION_MIN_CODE_BYTES: usize = 64 * 1024;

/// Decodes and validates `bytes`.
pub fn parse(bytes: impl Into<Arc<[u8]>>, features: &Features) -> Result<ModuleInfo, ParseError> {
    let bytes: Arc<[u8]> = bytes.into();
    let mut validator = Validator::new_with_features(features.to_wasmparser());
    let mut builder = Builder::new(bytes.clone());
    let mut pending_bodies: Vec<(FuncToValidate<ValidatorResources>, std::ops::Range<usize>)> =
        Vec::new();

    let mut parser = Parser::new(0);
    // The decoder needs the features too: without memory64, over-long limit encodings are
    // malformed.
    parser.set_features(features.to_wasmparser());
    for payload in parser.parse_all(&bytes) {
        let payload = payload?;
        match validator.payload(&payload)? {
            wasmparser::ValidPayload::Func(func, body) => {
                let range = body.range();
                let range = range.start as usize..range.end as usize;
                builder.info.function_bodies.push(FunctionBody {
                    range: range.clone(),
                });
                pending_bodies.push((func, range));
                continue;
            }
            wasmparser::ValidPayload::End(_) => break,
            _ => {}
        }
        builder.payload(payload)?;
    }
    validate_bodies(&bytes, pending_bodies)?;
    Ok(builder.finish())
}

/// The host's parallelism, asked once per process: `available_parallelism` reads the
/// cgroup files on every call (about 10 µs, as long as validating a small module).
fn host_threads() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

fn validate_bodies(
    bytes: &[u8],
    bodies: Vec<(FuncToValidate<ValidatorResources>, std::ops::Range<usize>)>,
) -> Result<(), ParseError> {
    let code_bytes: usize = bodies.iter().map(|(_, range)| range.len()).sum();
    if code_bytes < PARALLEL_VALIDATION_MIN_CODE_BYTES {
        return validate_chunk(bytes, bodies);
    }
    let threads = host_threads();
    if threads == 1 {
        return validate_chunk(bytes, bodies);
    }
    // Chunks of similar byte size, so one thread does not get all the big functions.
    let per_thread = code_bytes.div_ceil(threads);
    let mut chunks: Vec<Vec<_>> = vec![Vec::new()];
    let mut chunk_bytes = 0;
    for body in bodies {
        if chunk_bytes >= per_thread {
            chunks.push(Vec::new());
            chunk_bytes = 0;
        }
        chunk_bytes += body.1.len();
        chunks
            .last_mut()
            .expect("chunks starts non-empty")
            .push(body);
    }
    let results: Vec<Result<(), ParseError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| scope.spawn(move || validate_chunk(bytes, chunk)))
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|payload| std::panic::resume_unwind(payload))
            })
            .collect()
    });
    // Report the error at the lowest offset, as a sequential validator would.
    let mut first_error: Option<ParseError> = None;
    for error in results.into_iter().filter_map(Result::err) {
        if first_error
            .as_ref()
            .is_none_or(|first| error.offset < first.offset)
        {
            first_error = Some(error);
        }
    }
    first_error.map_or(Ok(()), Err)
}

fn validate_chunk(
    bytes: &[u8],
    bodies: Vec<(FuncToValidate<ValidatorResources>, std::ops::Range<usize>)>,
) -> Result<(), ParseError> {
    let mut allocations = FuncValidatorAllocations::default();
    for (func, range) in bodies {
        let mut validator = func.into_validator(allocations);
        let body = wasmparser::FunctionBody::new(wasmparser::BinaryReader::new(
            &bytes[range.clone()],
            range.start as u64,
        ));
        validator.validate(&body)?;
        allocations = validator.into_allocations();
    }
    Ok(())
}

struct Builder {
    info: ModuleInfo,
}

impl Builder {
    fn new(bytes: Arc<[u8]>) -> Builder {
        Builder {
            info: ModuleInfo {
                bytes,
                types: Vec::new(),
                imports: Vec::new(),
                functions: Vec::new(),
                num_imported_functions: 0,
                tables: Vec::new(),
                num_imported_tables: 0,
                table_definitions: Vec::new(),
                memories: Vec::new(),
                num_imported_memories: 0,
                globals: Vec::new(),
                num_imported_globals: 0,
                global_definitions: Vec::new(),
                tags: Vec::new(),
                exports: Vec::new(),
                start: None,
                elements: Vec::new(),
                data: Vec::new(),
                function_bodies: Vec::new(),
                names: Names::default(),
            },
        }
    }

    fn finish(self) -> ModuleInfo {
        self.info
    }

    fn payload(&mut self, payload: Payload<'_>) -> Result<(), ParseError> {
        let info = &mut self.info;
        match payload {
            Payload::TypeSection(reader) => {
                for group in reader.into_iter_with_offsets() {
                    let (offset, group) = group?;
                    for sub_type in group.into_types() {
                        match &sub_type.composite_type.inner {
                            wasmparser::CompositeInnerType::Func(func_type) => {
                                info.types.push(convert_func_type(func_type)?);
                            }
                            _ => {
                                return Err(ParseError::unsupported(
                                    "struct, array and continuation types (GC) are not supported yet",
                                    offset,
                                ));
                            }
                        }
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for imports in reader {
                    for import in imports? {
                        let (_, import) = import?;
                        let kind = match import.ty {
                            wasmparser::TypeRef::Func(index)
                            | wasmparser::TypeRef::FuncExact(index) => {
                                info.functions.push(index);
                                info.num_imported_functions += 1;
                                ImportKind::Func(index)
                            }
                            wasmparser::TypeRef::Table(ty) => {
                                let ty = convert_table_type(&ty)?;
                                info.tables.push(ty);
                                info.num_imported_tables += 1;
                                ImportKind::Table(ty)
                            }
                            wasmparser::TypeRef::Memory(ty) => {
                                let ty = convert_memory_type(&ty);
                                info.memories.push(ty);
                                info.num_imported_memories += 1;
                                ImportKind::Memory(ty)
                            }
                            wasmparser::TypeRef::Global(ty) => {
                                let ty = convert_global_type(&ty)?;
                                info.globals.push(ty);
                                info.num_imported_globals += 1;
                                ImportKind::Global(ty)
                            }
                            wasmparser::TypeRef::Tag(tag) => {
                                info.tags.push(tag.func_type_idx);
                                ImportKind::Tag(tag.func_type_idx)
                            }
                        };
                        info.imports.push(Import {
                            module: import.module.to_owned(),
                            name: import.name.to_owned(),
                            kind,
                        });
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                for type_index in reader {
                    info.functions.push(type_index?);
                }
            }
            Payload::TableSection(reader) => {
                for table in reader {
                    let table = table?;
                    let ty = convert_table_type(&table.ty)?;
                    let init = match table.init {
                        wasmparser::TableInit::RefNull => None,
                        wasmparser::TableInit::Expr(expr) => Some(convert_const_expr(&expr)?),
                    };
                    info.tables.push(ty);
                    info.table_definitions.push(TableDefinition { ty, init });
                }
            }
            Payload::MemorySection(reader) => {
                for memory in reader {
                    info.memories.push(convert_memory_type(&memory?));
                }
            }
            Payload::TagSection(reader) => {
                for tag in reader {
                    info.tags.push(tag?.func_type_idx);
                }
            }
            Payload::GlobalSection(reader) => {
                for global in reader {
                    let global = global?;
                    let ty = convert_global_type(&global.ty)?;
                    info.globals.push(ty);
                    info.global_definitions.push(GlobalDefinition {
                        ty,
                        init: convert_const_expr(&global.init_expr)?,
                    });
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export?;
                    let kind = match export.kind {
                        wasmparser::ExternalKind::Func | wasmparser::ExternalKind::FuncExact => {
                            ExternKind::Func
                        }
                        wasmparser::ExternalKind::Table => ExternKind::Table,
                        wasmparser::ExternalKind::Memory => ExternKind::Memory,
                        wasmparser::ExternalKind::Global => ExternKind::Global,
                        wasmparser::ExternalKind::Tag => ExternKind::Tag,
                    };
                    info.exports.push(Export {
                        name: export.name.to_owned(),
                        kind,
                        index: export.index,
                    });
                }
            }
            Payload::StartSection { func, .. } => info.start = Some(func),
            Payload::ElementSection(reader) => {
                for element in reader {
                    let element = element?;
                    let mode = match element.kind {
                        wasmparser::ElementKind::Passive => ElementMode::Passive,
                        wasmparser::ElementKind::Declared => ElementMode::Declared,
                        wasmparser::ElementKind::Active {
                            table_index,
                            offset_expr,
                        } => ElementMode::Active {
                            table: table_index.unwrap_or(0),
                            offset: convert_const_expr(&offset_expr)?,
                        },
                    };
                    let (element_type, items) = match element.items {
                        wasmparser::ElementItems::Functions(reader) => {
                            let functions =
                                reader.into_iter().collect::<Result<Box<[u32]>, _>>()?;
                            (
                                RefType {
                                    nullable: false,
                                    heap_type: HeapType::Func,
                                },
                                ElementItems::Functions(functions),
                            )
                        }
                        wasmparser::ElementItems::Expressions(ty, reader) => {
                            let mut expressions = Vec::new();
                            for expr in reader {
                                expressions.push(convert_const_expr(&expr?)?);
                            }
                            (
                                convert_ref_type(ty)?,
                                ElementItems::Expressions(expressions.into()),
                            )
                        }
                    };
                    info.elements.push(ElementSegment {
                        mode,
                        element_type,
                        items,
                    });
                }
            }
            Payload::DataSection(reader) => {
                for data in reader {
                    let data = data?;
                    let mode = match data.kind {
                        wasmparser::DataKind::Passive => DataMode::Passive,
                        wasmparser::DataKind::Active {
                            memory_index,
                            offset_expr,
                        } => DataMode::Active {
                            memory: memory_index,
                            offset: convert_const_expr(&offset_expr)?,
                        },
                    };
                    // `data.data` borrows from `bytes`; recover its range in the binary.
                    let start = data.data.as_ptr() as usize - info.bytes.as_ptr() as usize;
                    info.data.push(DataSegment {
                        mode,
                        range: start..start + data.data.len(),
                    });
                }
            }
            Payload::CustomSection(reader) => {
                if let wasmparser::KnownCustom::Name(names) = reader.as_known() {
                    // A malformed name section is not an error (the spec says custom
                    // sections never invalidate a module); keep what was readable.
                    let _ = read_names(names, &mut info.names);
                }
            }
            _ => {}
        }
        Ok(())
    }
}

fn read_names(
    reader: wasmparser::NameSectionReader<'_>,
    names: &mut Names,
) -> Result<(), ParseError> {
    for name in reader {
        match name? {
            wasmparser::Name::Module { name, .. } => names.module = Some(name.to_owned()),
            wasmparser::Name::Function(map) => {
                for naming in map {
                    let naming = naming?;
                    names.functions.insert(naming.index, naming.name.to_owned());
                }
            }
            _ => {}
        }
    }
    Ok(())
}

pub(crate) fn convert_val_type(ty: wasmparser::ValType) -> Result<ValType, ParseError> {
    Ok(match ty {
        wasmparser::ValType::I32 => ValType::I32,
        wasmparser::ValType::I64 => ValType::I64,
        wasmparser::ValType::F32 => ValType::F32,
        wasmparser::ValType::F64 => ValType::F64,
        wasmparser::ValType::V128 => ValType::V128,
        wasmparser::ValType::Ref(ref_type) => ValType::Ref(convert_ref_type(ref_type)?),
    })
}

pub(crate) fn convert_ref_type(ty: wasmparser::RefType) -> Result<RefType, ParseError> {
    Ok(RefType {
        nullable: ty.is_nullable(),
        heap_type: convert_heap_type(ty.heap_type())?,
    })
}

pub(crate) fn convert_heap_type(ty: wasmparser::HeapType) -> Result<HeapType, ParseError> {
    use wasmparser::AbstractHeapType as Abstract;
    Ok(match ty {
        wasmparser::HeapType::Abstract { shared: false, ty } => match ty {
            Abstract::Func => HeapType::Func,
            Abstract::Extern => HeapType::Extern,
            Abstract::Any => HeapType::Any,
            Abstract::None => HeapType::None,
            Abstract::NoExtern => HeapType::NoExtern,
            Abstract::NoFunc => HeapType::NoFunc,
            Abstract::Eq => HeapType::Eq,
            Abstract::Struct => HeapType::Struct,
            Abstract::Array => HeapType::Array,
            Abstract::I31 => HeapType::I31,
            Abstract::Exn => HeapType::Exn,
            Abstract::NoExn => HeapType::NoExn,
            other => return Err(ParseError::unsupported(format!("heap type {other:?}"), 0)),
        },
        wasmparser::HeapType::Concrete(index) | wasmparser::HeapType::Exact(index) => {
            match index.as_module_index() {
                Some(index) => HeapType::Concrete(index),
                None => return Err(ParseError::unsupported("canonicalised type index", 0)),
            }
        }
        wasmparser::HeapType::Abstract { shared: true, .. } => {
            return Err(ParseError::unsupported("shared heap types", 0));
        }
    })
}

fn convert_func_type(ty: &wasmparser::FuncType) -> Result<FuncType, ParseError> {
    let params = ty
        .params()
        .iter()
        .map(|ty| convert_val_type(*ty))
        .collect::<Result<Vec<_>, _>>()?;
    let results = ty
        .results()
        .iter()
        .map(|ty| convert_val_type(*ty))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(FuncType::new(params, results))
}

fn convert_table_type(ty: &wasmparser::TableType) -> Result<TableType, ParseError> {
    Ok(TableType {
        element_type: convert_ref_type(ty.element_type)?,
        limits: Limits {
            minimum: ty.initial,
            maximum: ty.maximum,
        },
        table64: ty.table64,
    })
}

fn convert_memory_type(ty: &wasmparser::MemoryType) -> MemoryType {
    MemoryType {
        limits: Limits {
            minimum: ty.initial,
            maximum: ty.maximum,
        },
        memory64: ty.memory64,
        shared: ty.shared,
        page_size_log2: ty.page_size_log2() as u8,
    }
}

fn convert_global_type(ty: &wasmparser::GlobalType) -> Result<GlobalType, ParseError> {
    Ok(GlobalType {
        content: convert_val_type(ty.content_type)?,
        mutable: ty.mutable,
    })
}

fn convert_const_expr(expr: &wasmparser::ConstExpr<'_>) -> Result<ConstExpr, ParseError> {
    let mut ops = Vec::with_capacity(1);
    let mut reader = expr.get_operators_reader();
    while !reader.eof() {
        let offset = reader.original_position();
        let op = match reader.read()? {
            wasmparser::Operator::I32Const { value } => ConstOp::I32Const(value),
            wasmparser::Operator::I64Const { value } => ConstOp::I64Const(value),
            wasmparser::Operator::F32Const { value } => ConstOp::F32Const(value.bits()),
            wasmparser::Operator::F64Const { value } => ConstOp::F64Const(value.bits()),
            wasmparser::Operator::V128Const { value } => ConstOp::V128Const(value.i128() as u128),
            wasmparser::Operator::RefNull { hty } => ConstOp::RefNull(convert_heap_type(hty)?),
            wasmparser::Operator::RefFunc { function_index } => ConstOp::RefFunc(function_index),
            wasmparser::Operator::GlobalGet { global_index } => ConstOp::GlobalGet(global_index),
            wasmparser::Operator::I32Add => ConstOp::I32Add,
            wasmparser::Operator::I32Sub => ConstOp::I32Sub,
            wasmparser::Operator::I32Mul => ConstOp::I32Mul,
            wasmparser::Operator::I64Add => ConstOp::I64Add,
            wasmparser::Operator::I64Sub => ConstOp::I64Sub,
            wasmparser::Operator::I64Mul => ConstOp::I64Mul,
            wasmparser::Operator::End => continue,
            other => {
                return Err(ParseError::unsupported(
                    format!("constant expression operator {other:?}"),
                    offset,
                ));
            }
        };
        ops.push(op);
    }
    Ok(ConstExpr { ops: ops.into() })
}
