//! Checked access to the guest's linear memory.
//!
//! Every pointer and length a guest passes is untrusted. [`GuestMemory`] turns each into a
//! byte range only after checking it: a range that does not fit in memory (including one
//! whose end overflows) is `fault`, a misaligned pointer to a multi-byte value is `inval`
//! (both as Wasmtime's preview1 reports them), and a path that is not UTF-8 is `ilseq`.
//! Nothing here panics on guest input.
//!
//! Functions check their output pointers before acting ([`GuestMemory::check`]), so a call
//! with a bad result pointer fails without having done anything.

use crate::abi::{Errno, Result};
use std::ops::Range;

/// The guest's memory for the duration of one call.
pub(crate) struct GuestMemory<'a> {
    bytes: &'a mut [u8],
}

/// One `iovec` / `ciovec`: a checked range of guest memory.
#[derive(Debug, Clone)]
pub(crate) struct IoVec {
    pub(crate) range: Range<usize>,
}

impl IoVec {
    pub(crate) fn len(&self) -> usize {
        self.range.len()
    }
}

impl<'a> GuestMemory<'a> {
    pub(crate) fn new(bytes: &'a mut [u8]) -> GuestMemory<'a> {
        GuestMemory { bytes }
    }

    /// The range `[pointer, pointer + len)`, if it lies in memory.
    pub(crate) fn range(&self, pointer: u32, len: u32) -> Result<Range<usize>> {
        let start = pointer as usize;
        let end = start.checked_add(len as usize).ok_or(Errno::Fault)?;
        if end > self.bytes.len() {
            return Err(Errno::Fault);
        }
        Ok(start..end)
    }

    /// Checks that `len` bytes at `pointer`, aligned to `align`, lie in memory.
    pub(crate) fn check(&self, pointer: u32, len: u32, align: u32) -> Result<()> {
        if !pointer.is_multiple_of(align) {
            return Err(Errno::Inval);
        }
        self.range(pointer, len).map(|_| ())
    }

    pub(crate) fn slice(&self, range: Range<usize>) -> &[u8] {
        &self.bytes[range]
    }

    pub(crate) fn slice_mut(&mut self, range: Range<usize>) -> &mut [u8] {
        &mut self.bytes[range]
    }

    pub(crate) fn bytes(&self, pointer: u32, len: u32) -> Result<&[u8]> {
        let range = self.range(pointer, len)?;
        Ok(&self.bytes[range])
    }

    pub(crate) fn bytes_mut(&mut self, pointer: u32, len: u32) -> Result<&mut [u8]> {
        let range = self.range(pointer, len)?;
        Ok(&mut self.bytes[range])
    }

    /// A UTF-8 string: a path or a name.
    pub(crate) fn str(&self, pointer: u32, len: u32) -> Result<&str> {
        std::str::from_utf8(self.bytes(pointer, len)?).map_err(|_| Errno::Ilseq)
    }

    fn array<const N: usize>(&self, pointer: u32) -> Result<[u8; N]> {
        self.check(pointer, N as u32, N as u32)?;
        let start = pointer as usize;
        let mut value = [0u8; N];
        value.copy_from_slice(&self.bytes[start..start + N]);
        Ok(value)
    }

    fn put<const N: usize>(&mut self, pointer: u32, value: [u8; N]) -> Result<()> {
        self.check(pointer, N as u32, N as u32)?;
        let start = pointer as usize;
        self.bytes[start..start + N].copy_from_slice(&value);
        Ok(())
    }

    pub(crate) fn read_u8(&self, pointer: u32) -> Result<u8> {
        Ok(self.array::<1>(pointer)?[0])
    }

    pub(crate) fn read_u16(&self, pointer: u32) -> Result<u16> {
        self.array(pointer).map(u16::from_le_bytes)
    }

    pub(crate) fn read_u32(&self, pointer: u32) -> Result<u32> {
        self.array(pointer).map(u32::from_le_bytes)
    }

    pub(crate) fn read_u64(&self, pointer: u32) -> Result<u64> {
        self.array(pointer).map(u64::from_le_bytes)
    }

    pub(crate) fn write_u8(&mut self, pointer: u32, value: u8) -> Result<()> {
        self.put(pointer, [value])
    }

    pub(crate) fn write_u16(&mut self, pointer: u32, value: u16) -> Result<()> {
        self.put(pointer, value.to_le_bytes())
    }

    pub(crate) fn write_u32(&mut self, pointer: u32, value: u32) -> Result<()> {
        self.put(pointer, value.to_le_bytes())
    }

    pub(crate) fn write_u64(&mut self, pointer: u32, value: u64) -> Result<()> {
        self.put(pointer, value.to_le_bytes())
    }

    /// Reads an array of `count` iovecs at `pointer` and checks that every buffer lies in
    /// memory. A guest may pass any number, so the array itself is bounds-checked before
    /// anything is allocated for it.
    pub(crate) fn iovecs(&self, pointer: u32, count: u32) -> Result<Vec<IoVec>> {
        let size = count
            .checked_mul(crate::abi::layout::IOVEC_SIZE)
            .ok_or(Errno::Fault)?;
        self.check(pointer, size, crate::abi::layout::IOVEC_ALIGN)?;
        let mut iovecs = Vec::with_capacity(count as usize);
        for index in 0..count {
            let entry = pointer + index * crate::abi::layout::IOVEC_SIZE;
            let buffer = self.read_u32(entry)?;
            let len = self.read_u32(entry + 4)?;
            iovecs.push(IoVec {
                range: self.range(buffer, len)?,
            });
        }
        Ok(iovecs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_checked() {
        let mut bytes = vec![0u8; 64];
        let memory = GuestMemory::new(&mut bytes);
        assert!(memory.range(0, 64).is_ok());
        assert_eq!(memory.range(1, 64), Err(Errno::Fault));
        assert_eq!(memory.range(u32::MAX, 2), Err(Errno::Fault));
        assert_eq!(memory.range(64, 0), Ok(64..64));
        assert_eq!(memory.range(65, 0), Err(Errno::Fault));
    }

    #[test]
    fn alignment_and_bounds_of_values() {
        let mut bytes = vec![0u8; 16];
        let mut memory = GuestMemory::new(&mut bytes);
        assert_eq!(memory.write_u32(2, 1), Err(Errno::Inval));
        assert_eq!(memory.write_u64(16, 1), Err(Errno::Fault));
        memory.write_u64(8, 0x0102_0304_0506_0708).unwrap();
        assert_eq!(memory.read_u32(8), Ok(0x0506_0708));
        assert_eq!(memory.read_u8(15), Ok(0x01));
    }

    #[test]
    fn iovecs_and_strings() {
        let mut bytes = vec![0u8; 32];
        bytes[0..4].copy_from_slice(&16u32.to_le_bytes());
        bytes[4..8].copy_from_slice(&4u32.to_le_bytes());
        bytes[8..12].copy_from_slice(&30u32.to_le_bytes());
        bytes[12..16].copy_from_slice(&4u32.to_le_bytes());
        bytes[16..20].copy_from_slice(b"ab\xffc");
        let memory = GuestMemory::new(&mut bytes);
        assert_eq!(memory.iovecs(0, 1).unwrap()[0].range, 16..20);
        assert_eq!(memory.iovecs(0, 2).unwrap_err(), Errno::Fault);
        assert_eq!(memory.iovecs(0, u32::MAX).unwrap_err(), Errno::Fault);
        assert_eq!(memory.str(16, 2), Ok("ab"));
        assert_eq!(memory.str(16, 4), Err(Errno::Ilseq));
    }
}
