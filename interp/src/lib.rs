//! The interpreter tier: runs Wasm at once, without compiling to machine code.
//!
//! Each function is translated on its first call ([`translate`]) into the register-machine
//! code of [`ir`], cached per module (shared by every instance and store), and run by the
//! dispatch loop in [`executor`]. See [`ir`] for the machine model.
//!
//! Architecture invariant: this crate depends on the runtime core (`kestrel-vm`) and the
//! parser only; it knows nothing of the JIT or the embedding API.

pub mod executor;
pub mod ir;
pub mod translate;

pub use executor::{call, translate_all};

#[cfg(test)]
mod simd_tests;
