//! The `#[repr(C)]` structures that execution tiers read and write directly, and the one
//! table of their field offsets.
//!
//! The JIT emits loads and stores at these offsets, so they are computed here once, with
//! `offset_of!`, and the tests pin them: changing a layout is a deliberate act that shows up
//! as a failing test, never a silent miscompilation.

use std::mem::offset_of;

/// A linear memory's base address and current length in bytes.
#[repr(C)]
#[derive(Debug)]
pub struct VMMemoryDefinition {
    pub base: *mut u8,
    pub current_length: usize,
}

/// A global's value: 16 bytes so that `v128` fits. Scalars live in the low bytes in the
/// encoding of [`crate::value`].
#[repr(C, align(16))]
#[derive(Debug, Clone, Copy, Default)]
pub struct VMGlobal {
    pub bits: u128,
}

impl VMGlobal {
    pub fn get_u64(&self) -> u64 {
        self.bits as u64
    }

    pub fn set_u64(&mut self, value: u64) {
        self.bits = value as u128;
    }
}

/// Offsets of the fields above, for code generators.
pub mod offset {
    use super::*;

    pub const MEMORY_BASE: usize = offset_of!(VMMemoryDefinition, base);
    pub const MEMORY_CURRENT_LENGTH: usize = offset_of!(VMMemoryDefinition, current_length);
    pub const GLOBAL_BITS: usize = offset_of!(VMGlobal, bits);
}

#[cfg(all(test, target_pointer_width = "64"))]
mod tests {
    use super::*;

    #[test]
    fn layouts_are_pinned() {
        assert_eq!(offset::MEMORY_BASE, 0);
        assert_eq!(offset::MEMORY_CURRENT_LENGTH, 8);
        assert_eq!(std::mem::size_of::<VMMemoryDefinition>(), 16);
        assert_eq!(offset::GLOBAL_BITS, 0);
        assert_eq!(std::mem::size_of::<VMGlobal>(), 16);
        assert_eq!(std::mem::align_of::<VMGlobal>(), 16);
    }
}
