//! [`Module`]: a validated, compiled module, and the types that describe its imports and
//! exports ([`ImportType`], [`ExportType`], [`ExternType`]).
//!
//! Compilation is the parser's validation plus vm's `RuntimeModule` (signatures registered in
//! the engine); tiers attach their code to the `RuntimeModule` lazily, when functions first
//! run. This module also turns WebAssembly text into a binary (with the `wat` crate) and
//! rejects, as unsupported, modules whose imports or exports carry values the API cannot
//! represent (GC references).

use crate::values::representable;
use crate::{Engine, Error, FuncType, GlobalType, MemoryType, Result, TableType, ValType};
use kestrel_parser::{ExternKind, ImportKind, ModuleInfo};
use kestrel_vm::RuntimeModule;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// A compiled WebAssembly module, ready to be instantiated in any store of its engine.
/// Cheap to clone (one `Arc`), `Send` and `Sync`.
#[derive(Clone)]
pub struct Module {
    inner: Arc<ModuleInner>,
}

struct ModuleInner {
    engine: Engine,
    runtime: Arc<RuntimeModule>,
}

impl Module {
    /// Compiles a module from its binary or its text format: `bytes` is text unless it starts
    /// with the binary magic `\0asm`.
    ///
    /// Fails with [`ErrorKind::Parse`](crate::ErrorKind::Parse) for malformed or invalid
    /// input (with the binary [`offset`](Error::offset)) and
    /// [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported) for valid modules using
    /// something Kestrel does not implement.
    pub fn new(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module> {
        let bytes = bytes.as_ref();
        if bytes.starts_with(b"\0asm") {
            Module::from_binary(engine, bytes)
        } else {
            Module::from_binary(engine, &text_to_binary(bytes)?)
        }
    }

    /// Compiles a module from its binary format only.
    pub fn from_binary(engine: &Engine, binary: &[u8]) -> Result<Module> {
        let info = kestrel_parser::parse(binary, &engine.config().features)?;
        check_boundary_types(&info)?;
        let mut runtime = RuntimeModule::new(Arc::new(info), engine.registry());
        runtime.instrumentation = engine.config().instrumentation;
        crate::tier::prepare_module(engine.config(), &runtime)?;
        Ok(Module {
            inner: Arc::new(ModuleInner {
                engine: engine.clone(),
                runtime: Arc::new(runtime),
            }),
        })
    }

    /// Reads and compiles a `.wasm` or `.wat` file. A read failure is an error of kind
    /// [`ErrorKind::Io`](crate::ErrorKind::Io).
    pub fn from_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Module> {
        Module::new(engine, std::fs::read(path)?)
    }

    /// Checks that `bytes` (binary or text) would compile, without keeping the result.
    pub fn validate(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<()> {
        Module::new(engine, bytes).map(drop)
    }

    /// The engine this module was compiled with.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The module's name from its name section.
    pub fn name(&self) -> Option<&str> {
        self.info().names.module.as_deref()
    }

    /// The imports, in the order instantiation expects them.
    pub fn imports(&self) -> impl ExactSizeIterator<Item = ImportType<'_>> + '_ {
        let info = self.info();
        info.imports.iter().map(move |import| ImportType {
            module: &import.module,
            name: &import.name,
            ty: import_type(info, &import.kind),
        })
    }

    /// The exports, in declaration order.
    pub fn exports(&self) -> impl ExactSizeIterator<Item = ExportType<'_>> + '_ {
        let info = self.info();
        info.exports.iter().map(move |export| ExportType {
            name: &export.name,
            ty: export_type(info, export.kind, export.index),
        })
    }

    pub(crate) fn info(&self) -> &ModuleInfo {
        &self.inner.runtime.info
    }

    pub(crate) fn runtime(&self) -> &Arc<RuntimeModule> {
        &self.inner.runtime
    }
}

impl fmt::Debug for Module {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let info = self.info();
        formatter
            .debug_struct("Module")
            .field("name", &self.name())
            .field("imports", &info.imports.len())
            .field("exports", &info.exports.len())
            .finish_non_exhaustive()
    }
}

#[cold]
fn text_to_binary(text: &[u8]) -> Result<Vec<u8>> {
    match wat::parse_bytes(text) {
        Ok(binary) => Ok(binary.into_owned()),
        Err(error) => Err(Error::wrap(crate::ErrorKind::Parse, error)),
    }
}

/// Rejects modules whose imports or exports carry references the API has no [`Val`] for.
///
/// [`Val`]: crate::Val
fn check_boundary_types(info: &ModuleInfo) -> Result<()> {
    for import in &info.imports {
        let types = match import.kind {
            ImportKind::Func(index) | ImportKind::Tag(index) => {
                BoundaryTypes::Func(&info.types[index as usize])
            }
            ImportKind::Global(ty) => BoundaryTypes::One(ty.content),
            ImportKind::Table(ty) => BoundaryTypes::One(ValType::Ref(ty.element_type)),
            ImportKind::Memory(_) => continue,
        };
        if let Some(ty) = types.first_unrepresentable() {
            return Err(unrepresentable(
                format!("import `{}::{}`", import.module, import.name),
                ty,
            ));
        }
    }
    for export in &info.exports {
        let index = export.index as usize;
        let types = match export.kind {
            ExternKind::Func => BoundaryTypes::Func(info.function_type(export.index)),
            ExternKind::Tag => BoundaryTypes::Func(&info.types[info.tags[index] as usize]),
            ExternKind::Global => BoundaryTypes::One(info.globals[index].content),
            ExternKind::Table => BoundaryTypes::One(ValType::Ref(info.tables[index].element_type)),
            ExternKind::Memory => continue,
        };
        if let Some(ty) = types.first_unrepresentable() {
            return Err(unrepresentable(format!("export `{}`", export.name), ty));
        }
    }
    Ok(())
}

enum BoundaryTypes<'a> {
    Func(&'a FuncType),
    One(ValType),
}

impl BoundaryTypes<'_> {
    fn first_unrepresentable(&self) -> Option<ValType> {
        match self {
            BoundaryTypes::Func(ty) => ty
                .params()
                .iter()
                .chain(ty.results())
                .copied()
                .find(|ty| !representable(*ty)),
            BoundaryTypes::One(ty) => Some(*ty).filter(|ty| !representable(*ty)),
        }
    }
}

#[cold]
fn unrepresentable(what: String, ty: ValType) -> Error {
    Error::unsupported(format!(
        "{what} has type {ty}, which the embedding API cannot represent yet"
    ))
}

fn import_type(info: &ModuleInfo, kind: &ImportKind) -> ExternType {
    match *kind {
        ImportKind::Func(index) => ExternType::Func(info.types[index as usize].clone()),
        ImportKind::Table(ty) => ExternType::Table(ty),
        ImportKind::Memory(ty) => ExternType::Memory(ty),
        ImportKind::Global(ty) => ExternType::Global(ty),
        ImportKind::Tag(index) => ExternType::Tag(info.types[index as usize].clone()),
    }
}

fn export_type(info: &ModuleInfo, kind: ExternKind, index: u32) -> ExternType {
    let index = index as usize;
    match kind {
        ExternKind::Func => ExternType::Func(info.function_type(index as u32).clone()),
        ExternKind::Table => ExternType::Table(info.tables[index]),
        ExternKind::Memory => ExternType::Memory(info.memories[index]),
        ExternKind::Global => ExternType::Global(info.globals[index]),
        ExternKind::Tag => ExternType::Tag(info.types[info.tags[index] as usize].clone()),
    }
}

/// The type of an import or export.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ExternType {
    Func(FuncType),
    Global(GlobalType),
    Table(TableType),
    Memory(MemoryType),
    /// An exception tag (exception-handling proposal), by the function type of its payload.
    /// Kestrel cannot link tags yet.
    Tag(FuncType),
}

impl ExternType {
    /// The function type, if this is one.
    pub fn func(&self) -> Option<&FuncType> {
        match self {
            ExternType::Func(ty) => Some(ty),
            _ => None,
        }
    }

    /// The global type, if this is one.
    pub fn global(&self) -> Option<&GlobalType> {
        match self {
            ExternType::Global(ty) => Some(ty),
            _ => None,
        }
    }

    /// The table type, if this is one.
    pub fn table(&self) -> Option<&TableType> {
        match self {
            ExternType::Table(ty) => Some(ty),
            _ => None,
        }
    }

    /// The memory type, if this is one.
    pub fn memory(&self) -> Option<&MemoryType> {
        match self {
            ExternType::Memory(ty) => Some(ty),
            _ => None,
        }
    }
}

impl From<FuncType> for ExternType {
    fn from(ty: FuncType) -> ExternType {
        ExternType::Func(ty)
    }
}

impl From<GlobalType> for ExternType {
    fn from(ty: GlobalType) -> ExternType {
        ExternType::Global(ty)
    }
}

impl From<TableType> for ExternType {
    fn from(ty: TableType) -> ExternType {
        ExternType::Table(ty)
    }
}

impl From<MemoryType> for ExternType {
    fn from(ty: MemoryType) -> ExternType {
        ExternType::Memory(ty)
    }
}

/// One import of a [`Module`].
#[derive(Debug, Clone)]
pub struct ImportType<'module> {
    module: &'module str,
    name: &'module str,
    ty: ExternType,
}

impl<'module> ImportType<'module> {
    /// The module name the import is resolved in.
    pub fn module(&self) -> &'module str {
        self.module
    }

    /// The field name within that module.
    pub fn name(&self) -> &'module str {
        self.name
    }

    /// The type the provided item must have.
    pub fn ty(&self) -> ExternType {
        self.ty.clone()
    }
}

/// One export of a [`Module`].
#[derive(Debug, Clone)]
pub struct ExportType<'module> {
    name: &'module str,
    ty: ExternType,
}

impl<'module> ExportType<'module> {
    /// The export's name.
    pub fn name(&self) -> &'module str {
        self.name
    }

    /// The exported item's type (for memories and tables, as declared).
    pub fn ty(&self) -> ExternType {
        self.ty.clone()
    }
}
