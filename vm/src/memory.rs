//! Linear memories, their copy-on-write images, and the pool of memory slots.
//!
//! A memory reserves its address space once with `mmap(PROT_NONE)` and makes pages
//! accessible with `mprotect` as it grows, so growing never moves the bytes while the
//! reservation lasts. The reservation covers the declared maximum, capped at
//! [`MemoryConfig::reservation_bytes`]: a memory declaring a small maximum reserves only
//! that (no guard region is needed: both tiers check every access against
//! `current_length` explicitly). A memory that outgrows its reservation moves to a larger
//! mapping, which is why every tier reloads [`VMMemoryDefinition::base`] after anything
//! that can grow memory (a `memory.grow`, any call).
//!
//! A [`MemoryImage`] holds a memory's initial contents (its module's active data segments
//! applied in order) in a sealed memfd, built once per module. A memory created from an
//! image maps it `MAP_PRIVATE | MAP_FIXED` at the start of its reservation: the pages are
//! shared with every other instance of the module until one writes, when the kernel gives
//! that instance a private copy of the page. Growing maps anonymous zero pages past it as
//! before.
//!
//! A [`MemoryPool`] reserves `slots` regions of `slot_bytes` each in one mapping up front.
//! A memory may take a slot instead of reserving its own. When the memory is dropped, the
//! part of the slot it used is wiped with `madvise(MADV_DONTNEED)` *before* the slot is
//! returned to the free list: afterwards its anonymous pages read as zero and the pages of
//! an image mapped in it read as the image again (the private copies are discarded). The
//! free list remembers which image a slot holds and how much of it is accessible, so the
//! next memory of the same module in that slot needs no system call at all; a memory
//! wanting another image (or none) first maps fresh anonymous pages over the old image.
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
//! writable and belongs to this memory alone; bytes of the reservation past `accessible`
//! (a whole number of host pages, at least `current_length`) are inaccessible;
//! `current_length` never exceeds the maximum; `image`, when set, is mapped at its offset
//! in the reservation. A slot is in the pool's free list only while no memory uses it and
//! it holds only zeros, except the bytes of the image the free list records for it (mapped
//! privately, unmodified); its first `accessible` bytes (recorded too, covering the image)
//! are readable and writable, the rest `PROT_NONE`. A pooled memory may so start with more
//! accessible bytes than its size; they are zero, and every access is checked against
//! `current_length` anyway.

use crate::offsets::VMMemoryDefinition;
use crate::trap::TrapCode;
use kestrel_parser::MemoryType;
use rustix::fs::{MemfdFlags, SealFlags};
use rustix::mm::{MapFlags, MprotectFlags, ProtFlags};
use std::ffi::c_void;
use std::os::fd::OwnedFd;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Tunables for memory reservation and initialisation.
#[derive(Debug, Clone)]
pub struct MemoryConfig {
    /// Address space reserved up front per memory (rounded up to the host page size),
    /// unless the memory's declared maximum is smaller.
    pub reservation_bytes: u64,
    /// Initialise memories from their module's copy-on-write [`MemoryImage`] where one can
    /// be built, instead of copying the data segments.
    pub memory_init_cow: bool,
    /// Take memories from this pool instead of reserving address space for each.
    pub pool: Option<Arc<MemoryPool>>,
}

impl Default for MemoryConfig {
    fn default() -> MemoryConfig {
        // 4 GiB covers every 32-bit memory, so they never move.
        MemoryConfig {
            reservation_bytes: 1 << 32,
            memory_init_cow: true,
            pool: None,
        }
    }
}

/// Why a memory could not be created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryError(pub String);

/// The initial contents of a memory, in a sealed memfd (see the module docs): the bytes
/// from `offset` to `offset + len` of the memory (both whole numbers of host pages); the
/// memory is zero elsewhere.
#[derive(Debug)]
pub struct MemoryImage {
    fd: OwnedFd,
    offset: usize,
    len: usize,
}

impl MemoryImage {
    /// An image of a memory whose first `contents.len()` bytes are `contents` (zero-padded
    /// to a whole number of host pages). Leading zero pages are left out of the mapping,
    /// and zero pages inside it are left as holes of the memfd.
    pub fn new(contents: &[u8]) -> Result<MemoryImage, MemoryError> {
        MemoryImage::new_at(0, contents)
    }

    /// An image of a memory whose bytes from `start` on are `contents` and all others
    /// zero: what a module whose data lies high in its memory (16 MiB up, for C programs
    /// built with wasi-sdk) needs, without building and scanning the zeros below it.
    /// `start` must be a whole number of host pages.
    pub fn new_at(start: usize, contents: &[u8]) -> Result<MemoryImage, MemoryError> {
        use std::os::unix::fs::FileExt;
        let page = host_page_size();
        if !start.is_multiple_of(page) {
            return Err(MemoryError(format!(
                "memory image start {start:#x} is not a whole number of host pages"
            )));
        }
        let error = |what: &str, error: rustix::io::Errno| {
            MemoryError(format!("cannot build a memory image ({what}): {error}"))
        };
        let first = contents
            .iter()
            .position(|byte| *byte != 0)
            .unwrap_or(contents.len());
        let skipped = first / page * page;
        let end = round_up_to_host_page(contents.len() as u64)
            .ok_or_else(|| MemoryError("memory image too large".into()))?
            as usize;
        let len = end.saturating_sub(skipped);
        let offset = start
            .checked_add(skipped)
            .ok_or_else(|| MemoryError("memory image too large".into()))?;
        let fd = rustix::fs::memfd_create(
            "kestrel-memory-image",
            MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING,
        )
        .map_err(|errno| error("memfd_create", errno))?;
        rustix::fs::ftruncate(&fd, len as u64).map_err(|errno| error("ftruncate", errno))?;
        let file = std::fs::File::from(fd);
        for (index, chunk) in contents[skipped.min(contents.len())..]
            .chunks(page)
            .enumerate()
        {
            if chunk.iter().any(|byte| *byte != 0) {
                file.write_all_at(chunk, (index * page) as u64)
                    .map_err(|io| MemoryError(format!("cannot write a memory image: {io}")))?;
            }
        }
        let fd = OwnedFd::from(file);
        // Nothing may change the image from now on: every mapping of it is private.
        rustix::fs::fcntl_add_seals(
            &fd,
            SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE | SealFlags::SEAL,
        )
        .map_err(|errno| error("seals", errno))?;
        Ok(MemoryImage { fd, offset, len })
    }

    /// Where the mapped part starts in the memory, in bytes (a whole number of host pages).
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The mapped part's length in bytes (a whole number of host pages).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is mapped (the memory starts all zero).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Where the image ends in the memory, in bytes.
    pub fn end(&self) -> usize {
        self.offset + self.len
    }
}

/// Address space for `slots` memories of at most `slot_bytes` each, reserved once and
/// reused (see the module docs).
pub struct MemoryPool {
    base: NonNull<u8>,
    slot_bytes: usize,
    slots: u32,
    /// Free slots; the most recently freed slot is reused first.
    free: Mutex<Vec<FreeSlot>>,
}

/// A free slot: its index, how many of its first bytes are accessible, and the image
/// mapped in it (see the module docs).
#[derive(Debug)]
struct FreeSlot {
    index: u32,
    accessible: usize,
    image: Option<Arc<MemoryImage>>,
}

// SAFETY: the pool's mapping is owned by the pool; which slot belongs to whom is decided
// under the `free` mutex, and a slot's bytes are used only by the one memory holding it.
unsafe impl Send for MemoryPool {}
// SAFETY: as above: shared access goes through the mutex.
unsafe impl Sync for MemoryPool {}

impl MemoryPool {
    /// Reserves `slots` slots of `slot_bytes` (rounded up to the host page size) each.
    pub fn new(slots: u32, slot_bytes: u64) -> Result<MemoryPool, MemoryError> {
        let slot_bytes = round_up_to_host_page(slot_bytes.max(1))
            .ok_or_else(|| MemoryError("pool slot too large".into()))?;
        let total = slot_bytes
            .checked_mul(u64::from(slots.max(1)))
            .filter(|total| *total <= isize::MAX as u64)
            .ok_or_else(|| MemoryError("pool too large".into()))? as usize;
        // SAFETY: an anonymous mapping at an address the kernel picks cannot alias anything.
        let base = unsafe {
            rustix::mm::mmap_anonymous(
                std::ptr::null_mut(),
                total,
                ProtFlags::empty(),
                MapFlags::PRIVATE | MapFlags::NORESERVE,
            )
        }
        .map_err(|error| {
            MemoryError(format!(
                "cannot reserve {total} bytes of address space for the memory pool: {error}"
            ))
        })?;
        Ok(MemoryPool {
            base: NonNull::new(base.cast()).expect("mmap never returns null on success"),
            slot_bytes: slot_bytes as usize,
            slots,
            free: Mutex::new(
                (0..slots)
                    .rev()
                    .map(|index| FreeSlot {
                        index,
                        accessible: 0,
                        image: None,
                    })
                    .collect(),
            ),
        })
    }

    /// Bytes per slot.
    pub fn slot_bytes(&self) -> usize {
        self.slot_bytes
    }

    /// Number of slots.
    pub fn slots(&self) -> u32 {
        self.slots
    }

    /// Slots no memory holds now.
    pub fn free_slots(&self) -> usize {
        self.free
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .len()
    }

    fn allocate(&self) -> Option<FreeSlot> {
        self.free
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .pop()
    }

    fn slot_base(&self, index: u32) -> *mut u8 {
        // SAFETY: `index < slots`, so the offset stays inside the pool's mapping.
        unsafe { self.base.as_ptr().add(index as usize * self.slot_bytes) }
    }

    /// Returns slot `index`, whose first `used` bytes (a whole number of host pages,
    /// covering `image` if one is mapped in the slot) are accessible, to the free list
    /// after discarding every change made to them.
    fn release(&self, index: u32, used: usize, image: Option<Arc<MemoryImage>>) {
        debug_assert!(used <= self.slot_bytes);
        if used > 0 {
            // SAFETY: `slot_base(index)..+used` lies in slot `index`, private memory which
            // the memory releasing it owned and no longer uses; discarding its pages makes
            // anonymous ones read as zero and the image's read as the (sealed) image again.
            let wiped = unsafe {
                rustix::mm::madvise(
                    self.slot_base(index).cast(),
                    used,
                    rustix::mm::Advice::LinuxDontNeed,
                )
            };
            if wiped.is_err() {
                // The slot's old pages could not be discarded: never hand it out again.
                return;
            }
        }
        self.free
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .push(FreeSlot {
                index,
                accessible: used,
                image,
            });
    }
}

impl Drop for MemoryPool {
    fn drop(&mut self) {
        // SAFETY: the pool owns this mapping; every memory holding a slot holds an `Arc` of
        // the pool, so none is left when the pool drops.
        let _ = unsafe {
            rustix::mm::munmap(
                self.base.as_ptr().cast(),
                self.slot_bytes * self.slots.max(1) as usize,
            )
        };
    }
}

impl std::fmt::Debug for MemoryPool {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("MemoryPool")
            .field("slots", &self.slots)
            .field("slot_bytes", &self.slot_bytes)
            .finish_non_exhaustive()
    }
}

/// Where a memory's reservation comes from.
enum Reservation {
    /// Its own mapping (unmapped on drop), or nothing when `reserved_bytes` is 0.
    Owned,
    /// Slot `index` of `pool`.
    Pooled { pool: Arc<MemoryPool>, index: u32 },
}

/// One linear memory.
pub struct LinearMemory {
    definition: Box<VMMemoryDefinition>,
    /// Bytes reserved at `definition.base`; 0 when nothing is mapped.
    reserved_bytes: usize,
    /// Bytes from `definition.base` that are accessible (a whole number of host pages).
    accessible: usize,
    reservation: Reservation,
    /// The image mapped in the reservation, if any.
    image: Option<Arc<MemoryImage>>,
    /// For an image mapped outside a pool: its place in the process's budget of such
    /// mappings, given back when the image is unmapped.
    image_mapping: Option<ImageMapping>,
    ty: MemoryType,
    maximum_pages: u64,
}

/// Copy-on-write image mappings of memories outside a pool that are live in the process.
static LIVE_IMAGE_MAPPINGS: AtomicUsize = AtomicUsize::new(0);

/// A place in the budget of live image mappings: a quarter of the process's limit on
/// mappings (`vm.max_map_count`). Each image costs the process one or two mappings that
/// cannot merge with their neighbours, and the limit is shared with everything else (plain
/// reservations too), so past the budget memories copy their images' bytes instead: many
/// live instances then still fit, at the cost of the sharing.
struct ImageMapping;

impl ImageMapping {
    fn take() -> Option<ImageMapping> {
        static BUDGET: OnceLock<usize> = OnceLock::new();
        let budget = *BUDGET.get_or_init(|| {
            std::fs::read_to_string("/proc/sys/vm/max_map_count")
                .ok()
                .and_then(|text| text.trim().parse::<usize>().ok())
                .unwrap_or(65_530)
                / 4
        });
        LIVE_IMAGE_MAPPINGS
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |live| {
                (live < budget).then_some(live + 1)
            })
            .ok()
            .map(|_| ImageMapping)
    }
}

impl Drop for ImageMapping {
    fn drop(&mut self) {
        LIVE_IMAGE_MAPPINGS.fetch_sub(1, Ordering::AcqRel);
    }
}

// SAFETY: the mapping is owned exclusively by this value (nothing else unmaps or aliases it
// mutably), so moving it to another thread is sound.
unsafe impl Send for LinearMemory {}
// SAFETY: shared references only read `definition`; all writes to the bytes go through
// `&mut self` or the tiers' accesses made while they hold the store exclusively.
unsafe impl Sync for LinearMemory {}

/// What to say after an `ENOMEM` from `mmap` or `mprotect`, which usually means the
/// process has reached its limit on mappings rather than run out of memory.
fn mapping_limit_hint(error: rustix::io::Errno) -> &'static str {
    if error == rustix::io::Errno::NOMEM {
        " (the process may have reached its limit on memory mappings, vm.max_map_count; \
         copy-on-write memory images take one mapping per memory)"
    } else {
        ""
    }
}

pub(crate) fn host_page_size() -> usize {
    rustix::param::page_size()
}

fn round_up_to_host_page(bytes: u64) -> Option<u64> {
    let page = host_page_size() as u64;
    bytes.checked_add(page - 1).map(|sum| sum & !(page - 1))
}

impl LinearMemory {
    /// Creates a memory of `ty.limits.minimum` pages.
    pub fn new(ty: MemoryType, config: &MemoryConfig) -> Result<LinearMemory, MemoryError> {
        LinearMemory::with_image(ty, config, None)
    }

    /// Creates a memory of `ty.limits.minimum` pages whose first bytes are `image` (mapped
    /// copy-on-write), or zeros without an image. The image must fit in the minimum size.
    pub fn with_image(
        ty: MemoryType,
        config: &MemoryConfig,
        image: Option<&Arc<MemoryImage>>,
    ) -> Result<LinearMemory, MemoryError> {
        let image = image.filter(|image| !image.is_empty());
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
        if let Some(image) = image
            && round_up_to_host_page(minimum_bytes) < Some(image.end() as u64)
        {
            return Err(MemoryError("memory image larger than the memory".into()));
        }
        let maximum_bytes = maximum_pages.saturating_mul(ty.page_size());
        let mut memory = LinearMemory {
            definition: Box::new(VMMemoryDefinition {
                base: NonNull::dangling().as_ptr(),
                current_length: 0,
            }),
            reserved_bytes: 0,
            accessible: 0,
            reservation: Reservation::Owned,
            image: None,
            image_mapping: None,
            ty,
            maximum_pages,
        };
        if let Some(pool) = &config.pool {
            if minimum_bytes > pool.slot_bytes as u64 {
                return Err(MemoryError(format!(
                    "a memory of {minimum_bytes} bytes does not fit in a pool slot of {} bytes",
                    pool.slot_bytes
                )));
            }
            let slot = pool.allocate().ok_or_else(|| {
                MemoryError(format!(
                    "all {} memory slots of the pool are in use",
                    pool.slots
                ))
            })?;
            memory.definition.base = pool.slot_base(slot.index);
            memory.reserved_bytes = pool.slot_bytes;
            memory.accessible = slot.accessible;
            memory.image = slot.image;
            memory.reservation = Reservation::Pooled {
                pool: pool.clone(),
                index: slot.index,
            };
            let same_image = match (&memory.image, image) {
                (Some(held), Some(wanted)) => Arc::ptr_eq(held, wanted),
                (held, _) => held.is_none(),
            };
            if !same_image {
                memory.unmap_image()?;
            }
        } else {
            let reserve = maximum_bytes.min(config.reservation_bytes.max(minimum_bytes));
            memory.reserve_at_least(reserve, minimum_bytes)?;
        }
        if let Some(image) = image.filter(|_| memory.image.is_none()) {
            // A pool's slots are bounded by its configuration; other memories by the budget.
            let image_mapping = match config.pool {
                Some(_) => None,
                None => match ImageMapping::take() {
                    Some(budget) => Some(budget),
                    None => {
                        // All of it at once, before any page is touched: the new pages
                        // then merge with the neighbouring memory's into one mapping.
                        memory.make_accessible(minimum_bytes as usize)?;
                        memory.copy_image(image)?;
                        return Ok(memory);
                    }
                },
            };
            // The pages before the image must be accessible too (they stay zero).
            memory.make_accessible(image.offset)?;
            // SAFETY: `base+offset..base+end` lies in the reservation (the image fits in the
            // minimum size, which the reservation covers) and is memory this memory owns
            // and nothing refers to (inaccessible, or a pool slot's zero pages); mapping the
            // image over it privately aliases nothing (writes go to private copies; the
            // memfd is sealed against every write anyway).
            let mapped = unsafe {
                rustix::mm::mmap(
                    memory.definition.base.add(image.offset).cast(),
                    image.len,
                    ProtFlags::READ | ProtFlags::WRITE,
                    MapFlags::PRIVATE | MapFlags::FIXED,
                    &image.fd,
                    0,
                )
            };
            match mapped {
                Ok(_) => {
                    memory.image = Some(image.clone());
                    memory.image_mapping = image_mapping;
                    memory.accessible = memory.accessible.max(image.end());
                }
                // The process is out of mappings (`vm.max_map_count`): copy the image's
                // bytes into plain pages instead, which merge with their neighbours. The
                // contents are the same; only the sharing is lost.
                Err(rustix::io::Errno::NOMEM) => {
                    memory.make_accessible(image.end())?;
                    memory.copy_image(image)?;
                }
                Err(error) => {
                    return Err(MemoryError(format!(
                        "cannot map a memory image: {error}{}",
                        mapping_limit_hint(error)
                    )));
                }
            }
        }
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

    /// Bytes of address space this memory reserves now (for a pooled memory, its slot).
    pub fn reserved_bytes(&self) -> usize {
        self.reserved_bytes
    }

    /// Whether the memory lives in a slot of a [`MemoryPool`].
    pub fn is_pooled(&self) -> bool {
        matches!(self.reservation, Reservation::Pooled { .. })
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

    /// Replaces the whole accessible contents with zeros (dropping any image pages): used
    /// when instantiation fails before its data segments would have been written.
    pub fn reset_to_zero(&mut self) -> Result<(), MemoryError> {
        if self.accessible == 0 {
            return Ok(());
        }
        // SAFETY: `base..base+accessible` is accessible memory this memory owns; replacing
        // it with fresh anonymous read-write pages keeps it accessible, now zero.
        unsafe {
            rustix::mm::mmap_anonymous(
                self.definition.base.cast(),
                self.accessible,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::PRIVATE | MapFlags::FIXED | MapFlags::NORESERVE,
            )
        }
        .map_err(|error| MemoryError(format!("cannot reset memory: {error}")))?;
        self.image = None;
        self.image_mapping = None;
        Ok(())
    }

    /// Reads the image's bytes into the memory, whose image part must be accessible (for
    /// when the image cannot be mapped).
    fn copy_image(&mut self, image: &MemoryImage) -> Result<(), MemoryError> {
        use std::os::unix::fs::FileExt;
        if self.accessible < image.end() {
            return Err(MemoryError("the memory is smaller than its image".into()));
        }
        // SAFETY: `base+offset..base+end` is accessible memory of this memory (checked
        // above), which nothing else refers to during instantiation.
        let bytes = unsafe {
            std::slice::from_raw_parts_mut(self.definition.base.add(image.offset), image.len)
        };
        std::fs::File::from(
            image
                .fd
                .try_clone()
                .map_err(|error| MemoryError(format!("cannot read a memory image: {error}")))?,
        )
        .read_exact_at(bytes, 0)
        .map_err(|error| MemoryError(format!("cannot read a memory image: {error}")))
    }

    /// Replaces the pages of the mapped image, if any, with zero pages (accessible, as the
    /// image's were).
    fn unmap_image(&mut self) -> Result<(), MemoryError> {
        // Forget the image only once its pages are gone: a slot released after a failure
        // here must still be wiped as holding it.
        let Some(image) = self.image.clone() else {
            return Ok(());
        };
        // SAFETY: `base+offset..base+end` lies in the reservation, is accessible memory this
        // memory owns (an image is mapped accessible), and nothing refers to its bytes;
        // replacing it with fresh anonymous read-write pages keeps it accessible, now zero.
        unsafe {
            rustix::mm::mmap_anonymous(
                self.definition.base.add(image.offset).cast(),
                image.len,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::PRIVATE | MapFlags::FIXED | MapFlags::NORESERVE,
            )
        }
        .map_err(|error| MemoryError(format!("cannot unmap a memory image: {error}")))?;
        self.image = None;
        self.image_mapping = None;
        Ok(())
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

    /// Replaces the reservation with an owned one of `bytes` bytes, keeping the current
    /// contents.
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
        let accessible = round_up_to_host_page(current as u64).unwrap_or(0) as usize;
        if current > 0 {
            // SAFETY: `base..base+accessible` lies in the fresh mapping (current <= bytes,
            // both page multiples after rounding) and is made writable first; the old range
            // is readable by the type's invariant; the two mappings are distinct so the
            // ranges cannot overlap.
            unsafe {
                rustix::mm::mprotect(
                    base.cast(),
                    accessible,
                    MprotectFlags::READ | MprotectFlags::WRITE,
                )
                .map_err(|error| MemoryError(format!("mprotect failed: {error}")))?;
                std::ptr::copy_nonoverlapping(self.definition.base, base, current);
            }
        }
        self.unmap();
        self.definition.base = base;
        self.reserved_bytes = bytes;
        self.accessible = accessible;
        Ok(())
    }

    /// Makes the first `bytes` bytes accessible and records the new length.
    fn make_accessible(&mut self, bytes: usize) -> Result<(), MemoryError> {
        debug_assert!(bytes <= self.reserved_bytes);
        let old = self.accessible;
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
            .map_err(|error| {
                MemoryError(format!(
                    "cannot commit memory: {error}{}",
                    mapping_limit_hint(error)
                ))
            })?;
            self.accessible = new;
        }
        self.definition.current_length = bytes;
        Ok(())
    }

    /// Gives up the reservation: unmaps an owned one, returns a pool slot to its pool.
    fn unmap(&mut self) {
        match std::mem::replace(&mut self.reservation, Reservation::Owned) {
            Reservation::Pooled { pool, index } => {
                pool.release(index, self.accessible, self.image.take())
            }
            Reservation::Owned if self.reserved_bytes > 0 => {
                // SAFETY: `base..base+reserved_bytes` is exactly the mapping this memory
                // created and nothing else refers to it once the memory is being remapped or
                // dropped.
                let _ =
                    unsafe { rustix::mm::munmap(self.definition.base.cast(), self.reserved_bytes) };
            }
            Reservation::Owned => {}
        }
        self.reserved_bytes = 0;
        self.accessible = 0;
        self.image = None;
        self.image_mapping = None;
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
            ..MemoryConfig::default()
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

    fn image_of(bytes: &[u8]) -> Arc<MemoryImage> {
        Arc::new(MemoryImage::new(bytes).unwrap())
    }

    #[test]
    fn a_declared_maximum_bounds_the_reservation() {
        let memory = LinearMemory::new(memory_type(1, Some(1)), &MemoryConfig::default()).unwrap();
        assert_eq!(memory.reserved_bytes(), 65536);
        let unbounded = LinearMemory::new(memory_type(1, None), &MemoryConfig::default()).unwrap();
        assert_eq!(unbounded.reserved_bytes(), 1 << 32);
    }

    #[test]
    fn many_small_memories_fit_in_the_address_space() {
        // 20,000 memories of 4 GiB would need 80 TiB of address space; bounded ones need
        // 1.25 GiB.
        let memories: Vec<LinearMemory> = (0..20_000)
            .map(|_| LinearMemory::new(memory_type(1, Some(1)), &MemoryConfig::default()).unwrap())
            .collect();
        assert!(
            memories
                .iter()
                .all(|memory| memory.reserved_bytes() == 65536)
        );
    }

    /// The fallback for when an image may not be mapped (the process's budget of mappings
    /// is spent): the bytes are copied, with the same contents, into plain pages.
    #[test]
    fn a_copied_image_has_the_contents_of_a_mapped_one() {
        let mut contents = vec![0; 2 * 4096 + 3];
        contents[4096] = 9;
        contents[2 * 4096 + 2] = 5;
        let image = image_of(&contents);
        let config = MemoryConfig::default();
        let mut copied = LinearMemory::new(memory_type(1, Some(1)), &config).unwrap();
        copied.copy_image(&image).unwrap();
        let mapped =
            LinearMemory::with_image(memory_type(1, Some(1)), &config, Some(&image)).unwrap();
        assert_eq!(copied.data(), mapped.data());
        assert_eq!(copied.data()[2 * 4096 + 2], 5);
        copied.write(4096, &[1]).unwrap();
        assert_eq!(mapped.data()[4096], 9);
        let mut small = LinearMemory::new(memory_type(0, Some(1)), &config).unwrap();
        assert!(small.copy_image(&image).is_err(), "no room for the image");
    }

    #[test]
    fn image_contents_appear_and_writes_stay_private() {
        let mut contents = vec![0; 3 * 4096 + 10];
        contents[5000] = 42;
        contents[3 * 4096 + 9] = 7;
        let image = image_of(&contents);
        assert_eq!(image.offset(), 4096, "leading zero page left out");
        let config = MemoryConfig::default();
        let mut first =
            LinearMemory::with_image(memory_type(1, Some(4)), &config, Some(&image)).unwrap();
        let mut second =
            LinearMemory::with_image(memory_type(1, Some(4)), &config, Some(&image)).unwrap();
        assert_eq!(first.size_in_bytes(), 65536);
        assert_eq!(first.data()[..contents.len()], contents[..]);
        assert!(first.data()[contents.len()..].iter().all(|byte| *byte == 0));
        first.write(5000, &[1]).unwrap();
        first.write(100, &[2]).unwrap();
        first.write(65535, &[3]).unwrap();
        assert_eq!(
            second.data()[5000],
            42,
            "a write to one instance leaks to another"
        );
        assert_eq!(second.data()[100], 0);
        assert_eq!(second.data()[65535], 0);
        second.write(3 * 4096 + 9, &[8]).unwrap();
        assert_eq!(first.data()[3 * 4096 + 9], 7);
        // A third memory sees the pristine image.
        let third =
            LinearMemory::with_image(memory_type(1, Some(4)), &config, Some(&image)).unwrap();
        assert_eq!(third.data()[..contents.len()], contents[..]);
        assert_eq!(first.write(65536, &[1]), Err(TrapCode::MemoryOutOfBounds));
    }

    #[test]
    fn growing_past_the_image_and_moving_keep_contents() {
        let contents: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8 + 1).collect();
        let image = image_of(&contents);
        // A reservation of one page forces a move on growth.
        let config = MemoryConfig {
            reservation_bytes: 2 * 65536,
            ..MemoryConfig::default()
        };
        let mut memory =
            LinearMemory::with_image(memory_type(2, None), &config, Some(&image)).unwrap();
        assert_eq!(memory.data()[..contents.len()], contents[..]);
        memory.write(69_999, &[0xaa]).unwrap();
        assert_eq!(memory.grow(1), Some(2));
        assert_eq!(memory.data()[69_999], 0xaa);
        assert_eq!(memory.data()[..69_999], contents[..69_999]);
        assert!(memory.data()[70_000..].iter().all(|byte| *byte == 0));
        memory.write(3 * 65536 - 1, &[1]).unwrap();
        assert_eq!(
            memory.write(3 * 65536, &[1]),
            Err(TrapCode::MemoryOutOfBounds)
        );
        assert_eq!(memory.grow(5), Some(3));
        assert_eq!(memory.data()[..69_999], contents[..69_999]);
        let fresh = LinearMemory::with_image(memory_type(2, None), &config, Some(&image)).unwrap();
        assert_eq!(fresh.data()[69_999], contents[69_999]);
    }

    #[test]
    fn an_image_larger_than_the_memory_is_refused() {
        let image = image_of(&[1; 65537]);
        let error =
            LinearMemory::with_image(memory_type(1, None), &MemoryConfig::default(), Some(&image))
                .unwrap_err();
        assert!(error.0.contains("larger"), "{error:?}");
    }

    #[test]
    fn reset_to_zero_discards_image_and_writes() {
        let image = image_of(&[9; 5000]);
        let mut memory =
            LinearMemory::with_image(memory_type(1, None), &MemoryConfig::default(), Some(&image))
                .unwrap();
        memory.write(60_000, &[1]).unwrap();
        memory.reset_to_zero().unwrap();
        assert!(memory.data().iter().all(|byte| *byte == 0));
        memory.write(0, &[5]).unwrap();
        assert_eq!(memory.data()[0], 5);
    }

    fn pool_config(slots: u32, slot_bytes: u64) -> MemoryConfig {
        MemoryConfig {
            pool: Some(Arc::new(MemoryPool::new(slots, slot_bytes).unwrap())),
            ..MemoryConfig::default()
        }
    }

    #[test]
    fn a_reused_pool_slot_shows_no_previous_data() {
        let config = pool_config(2, 4 * 65536);
        let pool = config.pool.clone().unwrap();
        let mut memory = LinearMemory::new(memory_type(1, Some(4)), &config).unwrap();
        assert!(memory.is_pooled());
        let base = memory.definition().base;
        memory.grow(2).unwrap();
        memory.write(0, b"secret").unwrap();
        memory.write(3 * 65536 - 6, b"secret").unwrap();
        drop(memory);
        assert_eq!(pool.free_slots(), 2);
        let mut next = LinearMemory::new(memory_type(1, Some(4)), &config).unwrap();
        assert_eq!(next.definition().base, base, "not the same slot");
        assert!(next.data().iter().all(|byte| *byte == 0));
        // Pages the previous memory grew into are inaccessible again, then zero on growth.
        assert_eq!(next.write(65536, &[1]), Err(TrapCode::MemoryOutOfBounds));
        next.grow(2).unwrap();
        assert!(next.data().iter().all(|byte| *byte == 0));
    }

    #[test]
    fn a_reused_pool_slot_shows_its_own_image() {
        let config = pool_config(1, 65536);
        let secret_image = image_of(b"first module's data");
        let other_image = image_of(b"other");
        let mut memory =
            LinearMemory::with_image(memory_type(1, Some(1)), &config, Some(&secret_image))
                .unwrap();
        memory.write(100, b"written").unwrap();
        drop(memory);
        let next =
            LinearMemory::with_image(memory_type(1, Some(1)), &config, Some(&other_image)).unwrap();
        assert_eq!(&next.data()[..5], b"other");
        assert!(next.data()[5..].iter().all(|byte| *byte == 0));
        drop(next);
        let plain = LinearMemory::new(memory_type(1, Some(1)), &config).unwrap();
        assert!(plain.data().iter().all(|byte| *byte == 0));
    }

    #[test]
    fn a_slot_reused_with_the_same_image_shows_the_pristine_image() {
        let config = pool_config(1, 2 * 65536);
        let image = image_of(&[5; 6000]);
        let mut memory =
            LinearMemory::with_image(memory_type(1, Some(2)), &config, Some(&image)).unwrap();
        let base = memory.definition().base;
        memory.write(0, b"secret").unwrap();
        memory.write(5998, b"secret").unwrap();
        memory.write(65530, b"secret").unwrap();
        memory.grow(1).unwrap();
        memory.write(65536 + 10, b"secret").unwrap();
        drop(memory);
        let memory =
            LinearMemory::with_image(memory_type(1, Some(2)), &config, Some(&image)).unwrap();
        assert_eq!(memory.definition().base, base, "not the same slot");
        assert_eq!(memory.size_in_bytes(), 65536);
        assert!(memory.data()[..6000].iter().all(|byte| *byte == 5));
        assert!(memory.data()[6000..].iter().all(|byte| *byte == 0));
        drop(memory);
        // Then without the image: all zero, including where the image was.
        let mut memory = LinearMemory::new(memory_type(2, Some(2)), &config).unwrap();
        assert!(memory.data().iter().all(|byte| *byte == 0));
        memory.write(0, b"again").unwrap();
        drop(memory);
        let memory =
            LinearMemory::with_image(memory_type(1, Some(2)), &config, Some(&image)).unwrap();
        assert!(memory.data()[..6000].iter().all(|byte| *byte == 5));
        assert!(memory.data()[6000..].iter().all(|byte| *byte == 0));
    }

    #[test]
    fn pool_exhaustion_and_oversized_memories_are_errors() {
        let config = pool_config(1, 65536);
        let held = LinearMemory::new(memory_type(1, Some(1)), &config).unwrap();
        let error = LinearMemory::new(memory_type(1, Some(1)), &config).unwrap_err();
        assert!(error.0.contains("in use"), "{error:?}");
        drop(held);
        let error = LinearMemory::new(memory_type(2, None), &config).unwrap_err();
        assert!(error.0.contains("does not fit"), "{error:?}");
        LinearMemory::new(memory_type(1, Some(1)), &config).unwrap();
    }

    #[test]
    fn a_pooled_memory_grows_out_of_its_slot() {
        let config = pool_config(1, 65536);
        let pool = config.pool.clone().unwrap();
        let mut memory = LinearMemory::new(memory_type(1, None), &config).unwrap();
        memory.write(10, b"kept").unwrap();
        assert_eq!(pool.free_slots(), 0);
        assert_eq!(memory.grow(3), Some(1));
        assert!(!memory.is_pooled());
        assert_eq!(
            pool.free_slots(),
            1,
            "the slot is returned when the memory moves"
        );
        assert_eq!(&memory.data()[10..14], b"kept");
        memory.write(4 * 65536 - 1, &[1]).unwrap();
        // The slot is clean for the next memory.
        let next = LinearMemory::new(memory_type(1, None), &config).unwrap();
        assert!(next.data().iter().all(|byte| *byte == 0));
    }
}
