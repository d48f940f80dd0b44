//! The immutable description of a validated module.
//!
//! A [`ModuleInfo`] is built once per module and shared (behind an `Arc`) by every instance
//! in every store and by every tier. Function bodies are not decoded here: each is a byte
//! range into [`ModuleInfo::bytes`], which a tier decodes when it first needs the function.
//!
//! Index spaces follow the spec: imported functions, tables, memories and globals come first,
//! so `functions[i]` is the type of function `i` whether it is imported or defined.

use crate::types::{ExternKind, FuncType, GlobalType, HeapType, MemoryType, RefType, TableType};
use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

/// A type index into [`ModuleInfo::types`].
pub type TypeIndex = u32;
/// A function index (imports first).
pub type FuncIndex = u32;

/// One import.
#[derive(Debug, Clone)]
pub struct Import {
    pub module: String,
    pub name: String,
    pub kind: ImportKind,
}

/// What an import expects.
#[derive(Debug, Clone, Copy)]
pub enum ImportKind {
    Func(TypeIndex),
    Table(TableType),
    Memory(MemoryType),
    Global(GlobalType),
    Tag(TypeIndex),
}

impl ImportKind {
    pub fn extern_kind(&self) -> ExternKind {
        match self {
            ImportKind::Func(_) => ExternKind::Func,
            ImportKind::Table(_) => ExternKind::Table,
            ImportKind::Memory(_) => ExternKind::Memory,
            ImportKind::Global(_) => ExternKind::Global,
            ImportKind::Tag(_) => ExternKind::Tag,
        }
    }
}

/// One export.
#[derive(Debug, Clone)]
pub struct Export {
    pub name: String,
    pub kind: ExternKind,
    pub index: u32,
}

/// One instruction of a constant expression.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ConstOp {
    I32Const(i32),
    I64Const(i64),
    /// Bits of an `f32`.
    F32Const(u32),
    /// Bits of an `f64`.
    F64Const(u64),
    V128Const(u128),
    RefNull(HeapType),
    RefFunc(FuncIndex),
    GlobalGet(u32),
    I32Add,
    I32Sub,
    I32Mul,
    I64Add,
    I64Sub,
    I64Mul,
}

/// A validated constant expression (global initialisers, segment offsets, element items).
#[derive(Debug, Clone, PartialEq)]
pub struct ConstExpr {
    pub ops: Box<[ConstOp]>,
}

/// A defined function: its type and where its body lies in [`ModuleInfo::bytes`].
#[derive(Debug, Clone)]
pub struct FunctionBody {
    /// Byte range of the body (locals and code, without the size prefix).
    pub range: Range<usize>,
}

/// A defined global.
#[derive(Debug, Clone)]
pub struct GlobalDefinition {
    pub ty: GlobalType,
    pub init: ConstExpr,
}

/// A defined table.
#[derive(Debug, Clone)]
pub struct TableDefinition {
    pub ty: TableType,
    /// The initial value of every element: `None` means `ref.null`.
    pub init: Option<ConstExpr>,
}

/// How an element segment is used.
#[derive(Debug, Clone)]
pub enum ElementMode {
    Passive,
    Active { table: u32, offset: ConstExpr },
    Declared,
}

/// The items of an element segment.
#[derive(Debug, Clone)]
pub enum ElementItems {
    Functions(Box<[FuncIndex]>),
    Expressions(Box<[ConstExpr]>),
}

impl ElementItems {
    pub fn len(&self) -> usize {
        match self {
            ElementItems::Functions(functions) => functions.len(),
            ElementItems::Expressions(expressions) => expressions.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An element segment.
#[derive(Debug, Clone)]
pub struct ElementSegment {
    pub mode: ElementMode,
    pub element_type: RefType,
    pub items: ElementItems,
}

/// How a data segment is used.
#[derive(Debug, Clone)]
pub enum DataMode {
    Passive,
    Active { memory: u32, offset: ConstExpr },
}

/// A data segment; its bytes are `ModuleInfo::bytes[range]`.
#[derive(Debug, Clone)]
pub struct DataSegment {
    pub mode: DataMode,
    pub range: Range<usize>,
}

/// Names from the `name` custom section, for backtraces.
#[derive(Debug, Clone, Default)]
pub struct Names {
    pub module: Option<String>,
    pub functions: HashMap<FuncIndex, String>,
}

/// Everything about a module that does not change after validation.
#[derive(Debug)]
pub struct ModuleInfo {
    /// The module's binary; function bodies and data segments are ranges into it.
    pub bytes: Arc<[u8]>,
    /// Function types by type index.
    pub types: Vec<FuncType>,
    pub imports: Vec<Import>,
    /// The type index of every function, imported ones first.
    pub functions: Vec<TypeIndex>,
    pub num_imported_functions: u32,
    /// Every table's type, imported ones first.
    pub tables: Vec<TableType>,
    pub num_imported_tables: u32,
    /// Defined tables' initialisers, parallel to `tables[num_imported_tables..]`.
    pub table_definitions: Vec<TableDefinition>,
    /// Every memory's type, imported ones first.
    pub memories: Vec<MemoryType>,
    pub num_imported_memories: u32,
    /// Every global's type, imported ones first.
    pub globals: Vec<GlobalType>,
    pub num_imported_globals: u32,
    /// Defined globals, parallel to `globals[num_imported_globals..]`.
    pub global_definitions: Vec<GlobalDefinition>,
    /// Tag types (exception handling), imported first; each is a function type index.
    pub tags: Vec<TypeIndex>,
    pub exports: Vec<Export>,
    pub start: Option<FuncIndex>,
    pub elements: Vec<ElementSegment>,
    pub data: Vec<DataSegment>,
    /// Bodies of defined functions, parallel to `functions[num_imported_functions..]`.
    pub function_bodies: Vec<FunctionBody>,
    pub names: Names,
}

impl ModuleInfo {
    /// The signature of function `index`.
    pub fn function_type(&self, index: FuncIndex) -> &FuncType {
        &self.types[self.functions[index as usize] as usize]
    }

    /// Whether function `index` is imported.
    pub fn is_imported_function(&self, index: FuncIndex) -> bool {
        index < self.num_imported_functions
    }

    /// The body of defined function `index` (a function index, not a defined index).
    pub fn function_body(&self, index: FuncIndex) -> &FunctionBody {
        &self.function_bodies[(index - self.num_imported_functions) as usize]
    }

    /// The name the name section gives function `index`, if any.
    pub fn function_name(&self, index: FuncIndex) -> Option<&str> {
        self.names.functions.get(&index).map(String::as_str)
    }

    /// Looks up an export by name.
    pub fn export(&self, name: &str) -> Option<&Export> {
        self.exports.iter().find(|export| export.name == name)
    }

    /// The bytes of a data segment.
    pub fn data_bytes(&self, segment: &DataSegment) -> &[u8] {
        &self.bytes[segment.range.clone()]
    }
}
