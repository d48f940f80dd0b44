//! Kestrel's own vocabulary of Wasm types, independent of `wasmparser`'s.
//!
//! Every later stage (runtime core, both tiers, the embedding API) speaks these types, so a
//! `wasmparser` upgrade touches only this crate. They already carry what Wasm 3.0 needs:
//! nullable and concrete reference types, 64-bit memory and table indices, custom page sizes.

use std::fmt;

/// A value type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValType {
    I32,
    I64,
    F32,
    F64,
    V128,
    Ref(RefType),
}

impl ValType {
    /// `funcref`, the nullable reference to any function.
    pub const FUNCREF: ValType = ValType::Ref(RefType::FUNCREF);
    /// `externref`, the nullable reference to any host value.
    pub const EXTERNREF: ValType = ValType::Ref(RefType::EXTERNREF);

    /// Whether values of this type are references.
    pub fn is_ref(self) -> bool {
        matches!(self, ValType::Ref(_))
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValType::I32 => formatter.write_str("i32"),
            ValType::I64 => formatter.write_str("i64"),
            ValType::F32 => formatter.write_str("f32"),
            ValType::F64 => formatter.write_str("f64"),
            ValType::V128 => formatter.write_str("v128"),
            ValType::Ref(ref_type) => write!(formatter, "{ref_type}"),
        }
    }
}

/// A reference type: a heap type plus whether `null` is a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RefType {
    pub nullable: bool,
    pub heap_type: HeapType,
}

impl RefType {
    pub const FUNCREF: RefType = RefType {
        nullable: true,
        heap_type: HeapType::Func,
    };
    pub const EXTERNREF: RefType = RefType {
        nullable: true,
        heap_type: HeapType::Extern,
    };

    /// Whether every value of `self` is also a value of `other`.
    ///
    /// Concrete types are compared by module-local index, which is exact for the function
    /// references of one module; cross-module subtyping of concrete types comes with GC.
    pub fn matches(self, other: RefType) -> bool {
        (other.nullable || !self.nullable) && self.heap_type.matches(other.heap_type)
    }
}

impl fmt::Display for RefType {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.nullable, self.heap_type) {
            (true, HeapType::Func) => formatter.write_str("funcref"),
            (true, HeapType::Extern) => formatter.write_str("externref"),
            (nullable, heap_type) => {
                let null = if nullable { "null " } else { "" };
                write!(formatter, "(ref {null}{heap_type:?})")
            }
        }
    }
}

/// The kind of object a reference points to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HeapType {
    Func,
    Extern,
    /// The bottom of the function hierarchy: only `null`.
    NoFunc,
    /// The bottom of the extern hierarchy: only `null`.
    NoExtern,
    Any,
    Eq,
    I31,
    Struct,
    Array,
    None,
    Exn,
    NoExn,
    /// A type defined in the module, by type index.
    Concrete(u32),
}

impl HeapType {
    /// Whether this heap type is `other` or one of its subtypes (abstract hierarchy only).
    pub fn matches(self, other: HeapType) -> bool {
        use HeapType::*;
        if self == other {
            return true;
        }
        matches!(
            (self, other),
            (NoFunc, Func | Concrete(_))
                | (Concrete(_), Func)
                | (NoExtern, Extern)
                | (None, Any | Eq | I31 | Struct | Array)
                | (Eq | I31 | Struct | Array, Any)
                | (I31 | Struct | Array, Eq)
                | (NoExn, Exn)
        )
    }

    /// Whether references of this type point at functions.
    pub fn is_func(self) -> bool {
        matches!(
            self,
            HeapType::Func | HeapType::NoFunc | HeapType::Concrete(_)
        )
    }
}

/// A function signature.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FuncType {
    params: Box<[ValType]>,
    results: Box<[ValType]>,
}

impl FuncType {
    pub fn new(
        params: impl IntoIterator<Item = ValType>,
        results: impl IntoIterator<Item = ValType>,
    ) -> FuncType {
        FuncType {
            params: params.into_iter().collect(),
            results: results.into_iter().collect(),
        }
    }

    pub fn params(&self) -> &[ValType] {
        &self.params
    }

    pub fn results(&self) -> &[ValType] {
        &self.results
    }
}

impl fmt::Display for FuncType {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("(func")?;
        if !self.params.is_empty() {
            formatter.write_str(" (param")?;
            for param in self.params.iter() {
                write!(formatter, " {param}")?;
            }
            formatter.write_str(")")?;
        }
        if !self.results.is_empty() {
            formatter.write_str(" (result")?;
            for result in self.results.iter() {
                write!(formatter, " {result}")?;
            }
            formatter.write_str(")")?;
        }
        formatter.write_str(")")
    }
}

/// Size limits of a memory or table, in pages or elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limits {
    pub minimum: u64,
    pub maximum: Option<u64>,
}

impl Limits {
    /// Import matching: `self` (the provided entity's current limits) fits `required`.
    pub fn matches(self, required: Limits) -> bool {
        self.minimum >= required.minimum
            && match (self.maximum, required.maximum) {
                (_, None) => true,
                (Some(provided), Some(required)) => provided <= required,
                (None, Some(_)) => false,
            }
    }
}

/// A linear memory's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MemoryType {
    pub limits: Limits,
    /// Addresses are `i64` (memory64) instead of `i32`.
    pub memory64: bool,
    pub shared: bool,
    /// log2 of the page size: 16 unless the custom-page-sizes proposal says otherwise.
    pub page_size_log2: u8,
}

impl MemoryType {
    /// Bytes per page.
    pub fn page_size(&self) -> u64 {
        1 << self.page_size_log2
    }

    /// The largest number of pages the index type can address.
    pub fn absolute_maximum_pages(&self) -> u64 {
        if self.memory64 {
            u64::MAX >> self.page_size_log2
        } else {
            (1u64 << 32) >> self.page_size_log2
        }
    }
}

/// A table's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TableType {
    pub element_type: RefType,
    pub limits: Limits,
    /// Indices are `i64` (memory64's table extension) instead of `i32`.
    pub table64: bool,
}

/// A global's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GlobalType {
    pub content: ValType,
    pub mutable: bool,
}

/// What an import or export refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExternKind {
    Func,
    Table,
    Memory,
    Global,
    Tag,
}

impl fmt::Display for ExternKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            ExternKind::Func => "function",
            ExternKind::Table => "table",
            ExternKind::Memory => "memory",
            ExternKind::Global => "global",
            ExternKind::Tag => "tag",
        })
    }
}
