//! Executable memory for one module's machine code.
//!
//! A [`CodeMemory`] is built in two states and never goes back: [`CodeMemory::new`] maps
//! fresh read-write pages and copies the code in (the linker patches relocations while the
//! pages are still writable), and [`CodeMemory::publish`] turns them read+execute for good
//! and flushes the instruction caches of every thread ([`crate::host::flush_icache`]: a
//! no-op on x86-64, needed on AArch64 and RISC-V). At no point are the pages writable and
//! executable at once (W^X), and no code runs from them before `publish`.
//!
//! Ownership: the mapping belongs to the `CodeMemory` alone and is unmapped when it drops.
//! The compiled module owns its `CodeMemory`, and every instance of the module keeps the
//! module (and so the code) alive through its `Arc<RuntimeModule>`; code addresses handed to
//! the store (`VMFuncRef::native_call`) therefore stay valid as long as the store lives.

use region::{Allocation, Protection};

/// One module's code, readable and executable once published.
pub(crate) struct CodeMemory {
    allocation: Allocation,
    len: usize,
    published: bool,
}

// SAFETY: the mapping is owned exclusively by this value; after `publish` it is never written
// again, so sharing and sending it between threads is sound. Before `publish` it is only
// reachable through `&mut self`.
unsafe impl Send for CodeMemory {}
// SAFETY: as above: shared access only reads immutable, published code.
unsafe impl Sync for CodeMemory {}

impl CodeMemory {
    /// Maps `bytes.len()` bytes (at least one page), read-write, holding a copy of `bytes`.
    pub(crate) fn new(bytes: &[u8]) -> Result<CodeMemory, String> {
        let mut allocation = region::alloc(bytes.len().max(1), Protection::READ_WRITE)
            .map_err(|error| format!("cannot map memory for compiled code: {error}"))?;
        let base = allocation.as_mut_ptr::<u8>();
        // SAFETY: the allocation is at least `bytes.len()` bytes, freshly mapped read-write
        // and owned by us, so it cannot overlap `bytes`.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), base, bytes.len()) };
        Ok(CodeMemory {
            allocation,
            len: bytes.len(),
            published: false,
        })
    }

    /// The writable code, for patching relocations before [`CodeMemory::publish`].
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        assert!(!self.published, "published code is never written again");
        let base = self.allocation.as_mut_ptr::<u8>();
        // SAFETY: the mapping is `len` bytes (or more), read-write until published (checked
        // above), and exclusively borrowed through `&mut self`.
        unsafe { std::slice::from_raw_parts_mut(base, self.len) }
    }

    /// The address of the first byte.
    pub(crate) fn base(&self) -> *const u8 {
        self.allocation.as_ptr::<u8>()
    }

    /// The code's address range.
    pub(crate) fn range(&self) -> std::ops::Range<usize> {
        let start = self.base() as usize;
        start..start + self.len
    }

    /// Makes the code read+execute (and no longer writable) and visible to instruction
    /// fetch on every thread. Only then may it run.
    pub(crate) fn publish(&mut self) -> Result<(), String> {
        let base = self.allocation.as_mut_ptr::<u8>();
        // SAFETY: the range is exactly our own mapping; nothing else holds a reference into
        // it (`bytes_mut` borrows end before this `&mut self` call).
        unsafe { region::protect(base, self.allocation.len(), Protection::READ_EXECUTE) }
            .map_err(|error| format!("cannot make compiled code executable: {error}"))?;
        crate::host::flush_icache(self.range())?;
        self.published = true;
        Ok(())
    }

    pub(crate) fn is_published(&self) -> bool {
        self.published
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_is_never_writable_and_executable() {
        let mut code = CodeMemory::new(&[0xc3; 10]).unwrap();
        let query = |code: &CodeMemory| region::query(code.base()).unwrap().protection();
        assert_eq!(query(&code), Protection::READ_WRITE);
        code.bytes_mut()[0] = 0x90;
        code.publish().unwrap();
        assert_eq!(query(&code), Protection::READ_EXECUTE);
        assert!(code.is_published());
        assert_eq!(code.range().len(), 10);
    }

    #[test]
    #[should_panic(expected = "never written again")]
    fn published_code_refuses_writes() {
        let mut code = CodeMemory::new(&[0xc3]).unwrap();
        code.publish().unwrap();
        code.bytes_mut();
    }
}
