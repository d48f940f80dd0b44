//! Decodes and validates WebAssembly binaries into Kestrel's module description.
//!
//! This crate owns the boundary with `wasmparser`: [`parse`] validates a whole module
//! eagerly (the spec rejects a module with any invalid function) and produces a
//! [`ModuleInfo`], the immutable description every instance and tier shares. It knows nothing
//! of execution.
//!
//! Invariant: a `ModuleInfo` exists only for a module that passed validation with the
//! [`Features`] it was parsed with, so later stages may decode function bodies without
//! re-checking types, stack heights or indices.

mod module;
mod parse;
pub mod types;

pub use module::*;
pub use parse::parse;
pub use types::*;

use std::fmt;

/// Which WebAssembly proposals the parser accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Features {
    bits: wasmparser::WasmFeatures,
}

impl Default for Features {
    /// Wasm 2.0 (fixed-width SIMD included) and relaxed SIMD, which both tiers execute
    /// with one deterministic behaviour (see `kestrel_vm::simd`), as Wasmtime enables it.
    fn default() -> Features {
        Features {
            bits: wasmparser::WasmFeatures::WASM2.union(wasmparser::WasmFeatures::RELAXED_SIMD),
        }
    }
}

macro_rules! feature_setters {
    ($( $(#[$doc:meta])* $setter:ident => $flag:ident, )*) => {
        impl Features {
            $(
                $(#[$doc])*
                pub fn $setter(&mut self, enable: bool) -> &mut Features {
                    self.bits.set(wasmparser::WasmFeatures::$flag, enable);
                    self
                }
            )*
        }
    };
}

feature_setters! {
    /// Fixed-width 128-bit SIMD.
    simd => SIMD,
    /// Relaxed SIMD.
    relaxed_simd => RELAXED_SIMD,
    /// `return_call` and friends.
    tail_call => TAIL_CALL,
    /// More than one memory per module.
    multi_memory => MULTI_MEMORY,
    /// 64-bit memory and table indices.
    memory64 => MEMORY64,
    /// Arithmetic in constant expressions.
    extended_const => EXTENDED_CONST,
    /// Exception handling (`try_table`, `throw`).
    exceptions => EXCEPTIONS,
    /// Typed function references.
    function_references => FUNCTION_REFERENCES,
    /// Garbage-collected structs and arrays.
    gc => GC,
    /// Shared memories and atomics.
    threads => THREADS,
    /// Page sizes other than 64 KiB.
    custom_page_sizes => CUSTOM_PAGE_SIZES,
    /// The multi-value proposal (part of Wasm 2.0).
    multi_value => MULTI_VALUE,
    /// Bulk memory operations (part of Wasm 2.0).
    bulk_memory => BULK_MEMORY,
    /// `funcref`/`externref` values and multiple tables (part of Wasm 2.0).
    reference_types => REFERENCE_TYPES,
}

impl Features {
    /// The feature set of the Wasm 2.0 specification, SIMD included.
    pub fn wasm2() -> Features {
        Features {
            bits: wasmparser::WasmFeatures::WASM2,
        }
    }

    /// The feature set of the Wasm 3.0 specification.
    pub fn wasm3() -> Features {
        Features {
            bits: wasmparser::WasmFeatures::WASM3,
        }
    }

    pub(crate) fn to_wasmparser(&self) -> wasmparser::WasmFeatures {
        self.bits
    }
}

/// Why a binary was rejected: malformed, invalid, or using something Kestrel does not
/// support. Carries the byte offset in the binary where the problem was found.
#[derive(Debug, Clone)]
pub struct ParseError {
    message: String,
    offset: u64,
    unsupported: bool,
}

impl ParseError {
    pub(crate) fn unsupported(message: impl Into<String>, offset: u64) -> ParseError {
        ParseError {
            message: message.into(),
            offset,
            unsupported: true,
        }
    }

    /// The message, without the offset.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The byte offset in the module binary.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Whether the module is valid but uses a feature Kestrel does not implement.
    pub fn is_unsupported(&self) -> bool {
        self.unsupported
    }
}

impl From<wasmparser::BinaryReaderError> for ParseError {
    fn from(error: wasmparser::BinaryReaderError) -> ParseError {
        ParseError {
            message: error.message().to_owned(),
            offset: error.offset(),
            unsupported: false,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.unsupported {
            write!(
                formatter,
                "unsupported: {} (at offset {:#x})",
                self.message, self.offset
            )
        } else {
            write!(formatter, "{} (at offset {:#x})", self.message, self.offset)
        }
    }
}

impl std::error::Error for ParseError {}

/// Re-exported so the tiers decode function bodies with the same `wasmparser` this crate
/// validated them with.
pub use wasmparser;
