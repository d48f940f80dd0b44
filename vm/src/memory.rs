//! Linear memories.
//!
//! A memory reserves its address space once with `mmap(PROT_NONE)` and makes pages
//! accessible with `mprotect` as it grows, so growing never moves the bytes while the
//! reservation lasts. The reservation covers the declared maximum, capped at
//! [`MemoryConfig::reservation_bytes`]; a memory that outgrows it moves to a larger mapping,
//! which is why every tier reloads [`VMMemoryDefinition::base`] after anything that can grow
//! memory (a `memory.grow`, any call).
//!
//! Address space is a host resource like any other: AArch64 and RISC-V hosts often have
//! only 39 bits of it (256 GiB for user space, 64 reservations of 4 GiB), and `ulimit -v`
//! can cap it anywhere. When the kernel refuses a reservation, it is retried at half the
//! size, down to what the memory needs now ([`reservation_sizes`]); a memory is refused only
//! when even its current size cannot be mapped. A smaller reservation costs nothing but an
//! earlier move when the memory grows: both tiers check every access against
//! `current_length` explicitly and never rely on the reservation's guard.
//!
//! Invariants: `definition.base .. base + definition.current_length` is readable and
//! writable and belongs to this memory alone; bytes past `current_length` within the
//! reservation are inaccessible; `current_length` never exceeds the maximum.

use crate::offsets::VMMemoryDefinition;
use crate::trap::TrapCode;
use kestrel_parser::MemoryType;
use rustix::mm::{MapFlags, MprotectFlags, ProtFlags};
use std::ffi::c_void;
use std::ptr::NonNull;

/// Tunables for memory reservation.
#[derive(Debug, Clone, Copy)]
pub struct MemoryConfig {
    /// Address space reserved up front per memory (rounded up to the host page size).
    pub reservation_bytes: u64,
}

impl Default for MemoryConfig {
    fn default() -> MemoryConfig {
        // 4 GiB covers every 32-bit memory, so they never move.
        MemoryConfig {
            reservation_bytes: 1 << 32,
        }
    }
}

/// Why a memory could not be created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryError(pub String);

/// One linear memory.
pub struct LinearMemory {
    definition: Box<VMMemoryDefinition>,
    /// Bytes reserved at `definition.base`; 0 when nothing is mapped.
    reserved_bytes: usize,
    ty: MemoryType,
    maximum_pages: u64,
}

// SAFETY: the mapping is owned exclusively by this value (nothing else unmaps or aliases it
// mutably), so moving it to another thread is sound.
unsafe impl Send for LinearMemory {}
// SAFETY: shared references only read `definition`; all writes to the bytes go through
// `&mut self` or the tiers' accesses made while they hold the store exclusively.
unsafe impl Sync for LinearMemory {}

fn host_page_size() -> usize {
    rustix::param::page_size()
}

fn round_up_to_host_page(bytes: u64) -> Option<u64> {
    let page = host_page_size() as u64;
    bytes.checked_add(page - 1).map(|sum| sum & !(page - 1))
}

impl LinearMemory {
    /// Creates a memory of `ty.limits.minimum` pages.
    pub fn new(ty: MemoryType, config: &MemoryConfig) -> Result<LinearMemory, MemoryError> {
        let maximum_pages = ty
            .limits
            .maximum
            .unwrap_or(u64::MAX)
            .min(ty.absolute_maximum_pages());
        let minimum_pages = ty.limits.minimum;
        if minimum_pages > maximum_pages {
            return Err(MemoryError(format!(
                "minimum of {minimum_pages} pages exceeds the maximum"
            )));
        }
        let minimum_bytes = minimum_pages
            .checked_mul(ty.page_size())
            .filter(|bytes| *bytes <= isize::MAX as u64)
            .ok_or_else(|| MemoryError(format!("cannot allocate {minimum_pages} pages")))?;
        let maximum_bytes = maximum_pages.saturating_mul(ty.page_size());
        let reserve = maximum_bytes.min(config.reservation_bytes.max(minimum_bytes));
        let mut memory = LinearMemory {
            definition: Box::new(VMMemoryDefinition {
                base: NonNull::dangling().as_ptr(),
                current_length: 0,
            }),
            reserved_bytes: 0,
            ty,
            maximum_pages,
        };
        memory.reserve_at_least(reserve, minimum_bytes)?;
        memory.make_accessible(minimum_bytes as usize)?;
        Ok(memory)
    }

    /// The memory's type as declared (its minimum is the initial size).
    pub fn ty(&self) -> MemoryType {
        self.ty
    }

    /// The current size in pages.
    pub fn size_in_pages(&self) -> u64 {
        self.definition.current_length as u64 >> self.ty.page_size_log2
    }

    /// The current size in bytes.
    pub fn size_in_bytes(&self) -> usize {
        self.definition.current_length
    }

    /// The largest size in pages this memory may reach.
    pub fn maximum_pages(&self) -> u64 {
        self.maximum_pages
    }

    /// The state compiled code and the interpreter read: base and length.
    pub fn definition(&self) -> &VMMemoryDefinition {
        &self.definition
    }

    /// A stable pointer to the definition, valid as long as this memory lives.
    pub fn definition_ptr(&mut self) -> *mut VMMemoryDefinition {
        &mut *self.definition
    }

    /// Grows by `delta` pages; returns the old size in pages, or `None` when the maximum or
    /// the host refuses (Wasm's `memory.grow` then returns -1).
    pub fn grow(&mut self, delta: u64) -> Option<u64> {
        let old_pages = self.size_in_pages();
        let new_pages = old_pages
            .checked_add(delta)
            .filter(|pages| *pages <= self.maximum_pages)?;
        if delta == 0 {
            return Some(old_pages);
        }
        let new_bytes = new_pages
            .checked_mul(self.ty.page_size())
            .filter(|bytes| *bytes <= isize::MAX as u64)? as usize;
        if new_bytes > self.reserved_bytes {
            // Outgrew the reservation: move to a mapping twice as large (or just large enough).
            let maximum_bytes = self.maximum_pages.saturating_mul(self.ty.page_size());
            let target = (new_bytes as u64)
                .max((self.reserved_bytes as u64).saturating_mul(2))
                .min(maximum_bytes);
            self.reserve_at_least(target, new_bytes as u64).ok()?;
        }
        self.make_accessible(new_bytes).ok()?;
        Some(old_pages)
    }

    /// The accessible bytes.
    pub fn data(&self) -> &[u8] {
        // SAFETY: by the type's invariant `base..base+current_length` is mapped readable and
        // owned by `self`; the shared borrow of `self` keeps it from growing or moving.
        unsafe { std::slice::from_raw_parts(self.definition.base, self.definition.current_length) }
    }

    /// The accessible bytes, mutably.
    pub fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `data`, and the exclusive borrow of `self` rules out other access.
        unsafe {
            std::slice::from_raw_parts_mut(self.definition.base, self.definition.current_length)
        }
    }

    /// Copies `bytes` to `offset`, trapping when any of it falls outside the memory.
    pub fn write(&mut self, offset: u64, bytes: &[u8]) -> Result<(), TrapCode> {
        let range = checked_range(offset, bytes.len() as u64, self.size_in_bytes())?;
        self.data_mut()[range].copy_from_slice(bytes);
        Ok(())
    }

    /// Copies bytes at `offset` into `buffer`, trapping when any lie outside the memory.
    pub fn read(&self, offset: u64, buffer: &mut [u8]) -> Result<(), TrapCode> {
        let range = checked_range(offset, buffer.len() as u64, self.size_in_bytes())?;
        buffer.copy_from_slice(&self.data()[range]);
        Ok(())
    }

    /// Replaces the reservation with one of `preferred` bytes or, when the host refuses that
    /// much address space, the largest of [`reservation_sizes`] it grants (at least
    /// `needed`), keeping the current contents.
    fn reserve_at_least(&mut self, preferred: u64, needed: u64) -> Result<(), MemoryError> {
        let mut refusal = None;
        for bytes in reservation_sizes(preferred, needed) {
            match self.remap(bytes) {
                Ok(()) => return Ok(()),
                Err(error) => refusal = Some(error),
            }
        }
        Err(refusal.unwrap_or_else(|| MemoryError("nothing to reserve".into())))
    }

    /// Replaces the reservation with one of `bytes` bytes, keeping the current contents.
    fn remap(&mut self, bytes: u64) -> Result<(), MemoryError> {
        let bytes = round_up_to_host_page(bytes)
            .filter(|bytes| *bytes <= isize::MAX as u64)
            .ok_or_else(|| MemoryError("reservation too large".into()))?
            as usize;
        if bytes == 0 {
            return Ok(());
        }
        #[cfg(test)]
        if bytes as u64 > SIMULATED_ADDRESS_SPACE.get() {
            return Err(MemoryError("simulated: no address space left".into()));
        }
        // SAFETY: an anonymous mapping at an address the kernel picks cannot alias anything.
        let base = unsafe {
            rustix::mm::mmap_anonymous(
                std::ptr::null_mut(),
                bytes,
                ProtFlags::empty(),
                MapFlags::PRIVATE | MapFlags::NORESERVE,
            )
        }
        .map_err(|error| {
            MemoryError(format!(
                "cannot reserve {bytes} bytes of address space: {error}"
            ))
        })? as *mut u8;
        let current = self.definition.current_length;
        if current > 0 {
            // SAFETY: `base..base+current` lies in the fresh mapping (current <= bytes) and
            // is made writable first; the old range is readable by the type's invariant; the
            // two mappings are distinct so the ranges cannot overlap.
            unsafe {
                rustix::mm::mprotect(
                    base.cast(),
                    round_up_to_host_page(current as u64).unwrap_or(0) as usize,
                    MprotectFlags::READ | MprotectFlags::WRITE,
                )
                .map_err(|error| MemoryError(format!("mprotect failed: {error}")))?;
                std::ptr::copy_nonoverlapping(self.definition.base, base, current);
            }
        }
        self.unmap();
        self.definition.base = base;
        self.reserved_bytes = bytes;
        Ok(())
    }

    /// Makes the first `bytes` bytes accessible and records the new length.
    fn make_accessible(&mut self, bytes: usize) -> Result<(), MemoryError> {
        debug_assert!(bytes <= self.reserved_bytes);
        let old =
            round_up_to_host_page(self.definition.current_length as u64).unwrap_or(0) as usize;
        let new = round_up_to_host_page(bytes as u64).unwrap_or(u64::MAX) as usize;
        if new > old {
            // SAFETY: `old..new` lies inside the reservation (`bytes <= reserved_bytes`, and
            // the reservation is a whole number of host pages), which this memory owns.
            unsafe {
                rustix::mm::mprotect(
                    self.definition.base.add(old).cast::<c_void>(),
                    new - old,
                    MprotectFlags::READ | MprotectFlags::WRITE,
                )
            }
            .map_err(|error| MemoryError(format!("cannot commit memory: {error}")))?;
        }
        self.definition.current_length = bytes;
        Ok(())
    }

    fn unmap(&mut self) {
        if self.reserved_bytes > 0 {
            // SAFETY: `base..base+reserved_bytes` is exactly the mapping this memory created
            // and nothing else refers to it once the memory is being remapped or dropped.
            let _ = unsafe { rustix::mm::munmap(self.definition.base.cast(), self.reserved_bytes) };
            self.reserved_bytes = 0;
        }
    }
}

impl Drop for LinearMemory {
    fn drop(&mut self) {
        self.unmap();
    }
}

impl std::fmt::Debug for LinearMemory {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("LinearMemory")
            .field("pages", &self.size_in_pages())
            .field("maximum_pages", &self.maximum_pages)
            .finish()
    }
}

// The largest mapping the host grants, for tests of the fallback (real hosts are not asked
// for more than they have: under qemu-user that costs the emulator memory per page).
#[cfg(test)]
thread_local! {
    static SIMULATED_ADDRESS_SPACE: std::cell::Cell<u64> = const { std::cell::Cell::new(u64::MAX) };
}

/// The reservation sizes to try, largest first: `preferred`, then halves of it while they
/// exceed `needed`, then `needed` itself (never below it, never more than 64 tries).
pub fn reservation_sizes(preferred: u64, needed: u64) -> impl Iterator<Item = u64> {
    let preferred = preferred.max(needed);
    let halves = std::iter::successors(Some(preferred), |bytes| Some(bytes / 2))
        .take_while(move |bytes| *bytes > needed)
        .take(63);
    halves.chain(std::iter::once(needed))
}

/// `offset..offset+len` as a range of a memory of `size` bytes, or the out-of-bounds trap.
#[inline]
pub fn checked_range(
    offset: u64,
    len: u64,
    size: usize,
) -> Result<std::ops::Range<usize>, TrapCode> {
    match offset.checked_add(len) {
        Some(end) if end <= size as u64 => Ok(offset as usize..end as usize),
        _ => Err(TrapCode::MemoryOutOfBounds),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kestrel_parser::Limits;

    fn memory_type(minimum: u64, maximum: Option<u64>) -> MemoryType {
        MemoryType {
            limits: Limits { minimum, maximum },
            memory64: false,
            shared: false,
            page_size_log2: 16,
        }
    }

    #[test]
    fn grows_up_to_the_maximum_and_keeps_contents() {
        let mut memory =
            LinearMemory::new(memory_type(1, Some(3)), &MemoryConfig::default()).unwrap();
        memory.write(65535, &[7]).unwrap();
        assert_eq!(memory.write(65536, &[1]), Err(TrapCode::MemoryOutOfBounds));
        assert_eq!(memory.grow(2), Some(1));
        assert_eq!(memory.grow(1), None);
        memory.write(3 * 65536 - 1, &[9]).unwrap();
        assert_eq!(memory.data()[65535], 7);
        assert!(
            memory.data()[65536..3 * 65536 - 1]
                .iter()
                .all(|byte| *byte == 0)
        );
    }

    #[test]
    fn moving_past_the_reservation_keeps_contents() {
        let config = MemoryConfig {
            reservation_bytes: 65536,
        };
        let mut memory = LinearMemory::new(memory_type(1, None), &config).unwrap();
        memory.write(100, &[1, 2, 3]).unwrap();
        assert_eq!(memory.grow(4), Some(1));
        assert_eq!(memory.size_in_pages(), 5);
        let mut buffer = [0; 3];
        memory.read(100, &mut buffer).unwrap();
        assert_eq!(buffer, [1, 2, 3]);
        memory.write(5 * 65536 - 1, &[1]).unwrap();
    }

    #[test]
    fn reservations_shrink_by_halves_down_to_what_is_needed() {
        let sizes: Vec<u64> = reservation_sizes(1 << 32, 3 << 16).collect();
        assert_eq!(sizes[0], 1 << 32);
        assert_eq!(sizes[1], 1 << 31);
        assert_eq!(*sizes.last().unwrap(), 3 << 16);
        assert!(sizes.windows(2).all(|pair| pair[0] > pair[1]));
        assert_eq!(sizes.len(), (32 - 18 + 1) + 1);
        assert_eq!(
            reservation_sizes(1 << 16, 1 << 20).collect::<Vec<_>>(),
            [1 << 20]
        );
        assert_eq!(reservation_sizes(0, 0).collect::<Vec<_>>(), [0]);
        assert_eq!(reservation_sizes(u64::MAX, 1).count(), 64);
    }

    #[test]
    fn a_host_short_of_address_space_gets_smaller_reservations() {
        // As if the host granted at most 1 MiB of address space per mapping: the default
        // 4 GiB reservation is refused, halves are tried, and 1 MiB is granted.
        SIMULATED_ADDRESS_SPACE.set(1 << 20);
        let mut memory = LinearMemory::new(memory_type(2, None), &MemoryConfig::default()).unwrap();
        assert_eq!(memory.reserved_bytes, 1 << 20);
        memory.write(2 * 65536 - 1, &[5]).unwrap();
        // Growing within what the host grants works; past it, `memory.grow` fails (-1)
        // and the memory stays as it was.
        assert_eq!(memory.grow(14), Some(2));
        assert_eq!(memory.grow(1), None);
        assert_eq!(memory.size_in_pages(), 16);
        assert_eq!(memory.data()[2 * 65536 - 1], 5);
        // A memory whose initial size does not fit is refused, not half made.
        assert!(LinearMemory::new(memory_type(17, None), &MemoryConfig::default()).is_err());
        SIMULATED_ADDRESS_SPACE.set(u64::MAX);
    }

    #[test]
    fn zero_sized_memory_rejects_every_access() {
        let mut memory =
            LinearMemory::new(memory_type(0, Some(0)), &MemoryConfig::default()).unwrap();
        assert_eq!(memory.write(0, &[1]), Err(TrapCode::MemoryOutOfBounds));
        memory.write(0, &[]).unwrap();
        assert_eq!(memory.grow(1), None);
        assert_eq!(memory.grow(0), Some(0));
    }

    #[test]
    fn out_of_range_offsets_trap_without_overflow() {
        assert_eq!(
            checked_range(u64::MAX, 1, 10),
            Err(TrapCode::MemoryOutOfBounds)
        );
        assert_eq!(checked_range(9, 1, 10), Ok(9..10));
        assert_eq!(checked_range(10, 0, 10), Ok(10..10));
        assert_eq!(checked_range(11, 0, 10), Err(TrapCode::MemoryOutOfBounds));
    }
}
