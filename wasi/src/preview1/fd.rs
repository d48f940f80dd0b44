//! The `fd_*` functions: reading, writing, seeking, metadata, flags, rights, directory
//! listings and preopens, on whatever a descriptor stands for.
//!
//! Regular files are `std::fs::File`s whose position the OS keeps; `fd_pread`/`fd_pwrite`
//! use positional I/O and leave it alone. Directories are cap-std `Dir`s, which on Linux
//! may be `O_PATH` descriptors: what needs a readable descriptor (sync, timestamps) goes
//! through `"."` inside the directory instead.

use super::nanoseconds;
use crate::WasiCtx;
use crate::abi::{Errno, Result, advice, fdflags, filetype, fstflags, layout, rights, whence};
use crate::memory::{GuestMemory, IoVec};
use crate::table::{DirItem, Entry, Kind};
use cap_fs_ext::{DirExt, FileTypeExt, SystemTimeSpec};
use std::io::{IoSlice, Read, Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::FileExt;

/// What `fd_filestat_get` and `path_filestat_get` report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Filestat {
    pub(crate) dev: u64,
    pub(crate) ino: u64,
    pub(crate) filetype: u8,
    pub(crate) nlink: u64,
    pub(crate) size: u64,
    pub(crate) atim: u64,
    pub(crate) mtim: u64,
    pub(crate) ctim: u64,
}

impl Filestat {
    #[expect(
        clippy::unnecessary_cast,
        reason = "the field types of `struct stat` differ between targets"
    )]
    pub(crate) fn from_stat(stat: &rustix::fs::Stat) -> Filestat {
        let time = |seconds: i64, nanos: i64| {
            nanoseconds(rustix::time::Timespec {
                tv_sec: seconds,
                tv_nsec: nanos as _,
            })
        };
        Filestat {
            dev: stat.st_dev as u64,
            ino: stat.st_ino as u64,
            filetype: filetype_of_mode(stat.st_mode as u32),
            nlink: stat.st_nlink as u64,
            size: stat.st_size as u64,
            atim: time(stat.st_atime as i64, stat.st_atime_nsec as i64),
            mtim: time(stat.st_mtime as i64, stat.st_mtime_nsec as i64),
            ctim: time(stat.st_ctime as i64, stat.st_ctime_nsec as i64),
        }
    }

    pub(crate) fn from_metadata(metadata: &cap_std::fs::Metadata) -> Filestat {
        use cap_fs_ext::OsMetadataExt;
        let time = |seconds: i64, nanos: i64| {
            nanoseconds(rustix::time::Timespec {
                tv_sec: seconds,
                tv_nsec: nanos as _,
            })
        };
        Filestat {
            dev: metadata.dev(),
            ino: metadata.ino(),
            filetype: filetype_of(metadata.file_type()),
            nlink: metadata.nlink(),
            size: metadata.len(),
            atim: time(metadata.atime(), metadata.atime_nsec()),
            mtim: time(metadata.mtime(), metadata.mtime_nsec()),
            ctim: time(metadata.ctime(), metadata.ctime_nsec()),
        }
    }

    /// Writes the 64-byte `filestat` at `pointer` (already checked).
    pub(crate) fn write(&self, memory: &mut GuestMemory<'_>, pointer: u32) -> Result<()> {
        memory.bytes_mut(pointer, layout::FILESTAT_SIZE)?.fill(0);
        memory.write_u64(pointer, self.dev)?;
        memory.write_u64(pointer + 8, self.ino)?;
        memory.write_u8(pointer + 16, self.filetype)?;
        memory.write_u64(pointer + 24, self.nlink)?;
        memory.write_u64(pointer + 32, self.size)?;
        memory.write_u64(pointer + 40, self.atim)?;
        memory.write_u64(pointer + 48, self.mtim)?;
        memory.write_u64(pointer + 56, self.ctim)
    }
}

fn filetype_of_mode(mode: u32) -> u8 {
    use rustix::fs::FileType;
    match FileType::from_raw_mode(mode as _) {
        FileType::RegularFile => filetype::REGULAR_FILE,
        FileType::Directory => filetype::DIRECTORY,
        FileType::Symlink => filetype::SYMBOLIC_LINK,
        FileType::CharacterDevice => filetype::CHARACTER_DEVICE,
        FileType::BlockDevice => filetype::BLOCK_DEVICE,
        FileType::Socket => filetype::SOCKET_STREAM,
        _ => filetype::UNKNOWN,
    }
}

/// The preview1 file type of a cap-std file type.
pub(crate) fn filetype_of(file_type: cap_std::fs::FileType) -> u8 {
    if file_type.is_dir() {
        filetype::DIRECTORY
    } else if file_type.is_symlink() {
        filetype::SYMBOLIC_LINK
    } else if file_type.is_file() {
        filetype::REGULAR_FILE
    } else if FileTypeExt::is_char_device(&file_type) {
        filetype::CHARACTER_DEVICE
    } else if FileTypeExt::is_block_device(&file_type) {
        filetype::BLOCK_DEVICE
    } else if FileTypeExt::is_socket(&file_type) {
        filetype::SOCKET_STREAM
    } else {
        filetype::UNKNOWN
    }
}

/// Checks `fst_flags` (unknown bits, or both a time and "now" for one timestamp, are
/// `inval`) and returns what to set the access and modification times to, `None` meaning
/// "leave as is".
pub(crate) fn times_to_set(
    atim: u64,
    mtim: u64,
    fst_flags: u32,
) -> Result<(Option<SystemTimeSpec>, Option<SystemTimeSpec>)> {
    let flags = u16::try_from(fst_flags).map_err(|_| Errno::Inval)?;
    if flags & !fstflags::ALL != 0 {
        return Err(Errno::Inval);
    }
    let one = |time: u64, set: u16, now: u16| -> Result<Option<SystemTimeSpec>> {
        match (flags & set != 0, flags & now != 0) {
            (true, true) => Err(Errno::Inval),
            (false, true) => Ok(Some(SystemTimeSpec::SymbolicNow)),
            (true, false) => {
                let time = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(time);
                Ok(Some(SystemTimeSpec::Absolute(
                    cap_std::time::SystemTime::from_std(time),
                )))
            }
            (false, false) => Ok(None),
        }
    };
    Ok((
        one(atim, fstflags::ATIM, fstflags::ATIM_NOW)?,
        one(mtim, fstflags::MTIM, fstflags::MTIM_NOW)?,
    ))
}

/// `utimensat`-style timestamps for `futimens`.
fn timestamps(
    (atime, mtime): (Option<SystemTimeSpec>, Option<SystemTimeSpec>),
) -> rustix::fs::Timestamps {
    let convert = |spec: Option<SystemTimeSpec>| match spec {
        None => rustix::time::Timespec {
            tv_sec: 0,
            tv_nsec: rustix::fs::UTIME_OMIT,
        },
        Some(SystemTimeSpec::SymbolicNow) => rustix::time::Timespec {
            tv_sec: 0,
            tv_nsec: rustix::fs::UTIME_NOW,
        },
        Some(SystemTimeSpec::Absolute(time)) => {
            let since_epoch = time
                .into_std()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            rustix::time::Timespec {
                tv_sec: since_epoch.as_secs() as i64,
                tv_nsec: since_epoch.subsec_nanos().into(),
            }
        }
    };
    rustix::fs::Timestamps {
        last_access: convert(atime),
        last_modification: convert(mtime),
    }
}

/// Retries an I/O operation the OS interrupted.
fn retry<T>(mut operation: impl FnMut() -> std::io::Result<T>) -> Result<T> {
    loop {
        match operation() {
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            other => return other.map_err(Errno::from),
        }
    }
}

/// The first buffer of `iovecs` that is not empty: streams fill one buffer per call, as
/// Wasmtime does, so a read never waits for more than the guest's first buffer.
fn first_nonempty(iovecs: &[IoVec]) -> Option<&IoVec> {
    iovecs.iter().find(|iovec| iovec.len() > 0)
}

impl WasiCtx {
    pub(super) fn fd_advise(
        &mut self,
        _memory: &mut GuestMemory<'_>,
        fd: u32,
        offset: u64,
        len: u64,
        advice: u32,
    ) -> Result<()> {
        let entry = self.table.with_rights(fd, rights::FD_ADVISE)?;
        use rustix::fs::Advice;
        let advice = match u8::try_from(advice).map_err(|_| Errno::Inval)? {
            advice::NORMAL => Advice::Normal,
            advice::SEQUENTIAL => Advice::Sequential,
            advice::RANDOM => Advice::Random,
            advice::WILLNEED => Advice::WillNeed,
            advice::DONTNEED => Advice::DontNeed,
            advice::NOREUSE => Advice::NoReuse,
            _ => return Err(Errno::Inval),
        };
        let Kind::File(file) = &entry.kind else {
            return Err(Errno::Badf);
        };
        rustix::fs::fadvise(file, offset, std::num::NonZeroU64::new(len), advice)
            .map_err(Errno::from)
    }

    pub(super) fn fd_allocate(
        &mut self,
        _memory: &mut GuestMemory<'_>,
        fd: u32,
        offset: u64,
        len: u64,
    ) -> Result<()> {
        let entry = self.table.with_rights(fd, rights::FD_ALLOCATE)?;
        let Kind::File(file) = &entry.kind else {
            return Err(Errno::Badf);
        };
        let end = offset.checked_add(len).ok_or(Errno::Fbig)?;
        if len == 0 {
            return Err(Errno::Inval);
        }
        match rustix::fs::fallocate(file, rustix::fs::FallocateFlags::empty(), offset, len) {
            Ok(()) => Ok(()),
            // Some file systems cannot reserve space: growing the file gives the same
            // observable result.
            Err(error)
                if error == rustix::io::Errno::NOTSUP || error == rustix::io::Errno::OPNOTSUPP =>
            {
                let size = file.metadata().map_err(Errno::from)?.len();
                if end > size {
                    file.set_len(end).map_err(Errno::from)?;
                }
                Ok(())
            }
            Err(error) => Err(error.into()),
        }
    }

    pub(super) fn fd_close(&mut self, _memory: &mut GuestMemory<'_>, fd: u32) -> Result<()> {
        self.table.remove(fd).map(drop)
    }

    pub(super) fn fd_datasync(&mut self, _memory: &mut GuestMemory<'_>, fd: u32) -> Result<()> {
        let entry = self.table.with_rights(fd, rights::FD_DATASYNC)?;
        sync(entry, true)
    }

    pub(super) fn fd_sync(&mut self, _memory: &mut GuestMemory<'_>, fd: u32) -> Result<()> {
        let entry = self.table.with_rights(fd, rights::FD_SYNC)?;
        sync(entry, false)
    }

    pub(super) fn fd_fdstat_get(
        &mut self,
        memory: &mut GuestMemory<'_>,
        fd: u32,
        out: u32,
    ) -> Result<()> {
        memory.check(out, layout::FDSTAT_SIZE, layout::FDSTAT_ALIGN)?;
        let entry = self.table.get(fd)?;
        let filetype = match &entry.kind {
            Kind::Stdin(input) => input.filetype(),
            Kind::Output(output) => output.filetype(),
            Kind::File(file) => rustix::fs::fstat(file)
                .map(|stat| Filestat::from_stat(&stat).filetype)
                .map_err(Errno::from)?,
            Kind::Dir(_) => filetype::DIRECTORY,
            Kind::Listener(_) | Kind::Stream(_) => filetype::SOCKET_STREAM,
        };
        memory.bytes_mut(out, layout::FDSTAT_SIZE)?.fill(0);
        memory.write_u8(out, filetype)?;
        memory.write_u16(out + 2, entry.flags)?;
        memory.write_u64(out + 8, entry.base)?;
        memory.write_u64(out + 16, entry.inheriting)
    }

    pub(super) fn fd_fdstat_set_flags(
        &mut self,
        _memory: &mut GuestMemory<'_>,
        fd: u32,
        flags: u32,
    ) -> Result<()> {
        let entry = self.table.get_mut(fd)?;
        entry.require(rights::FD_FDSTAT_SET_FLAGS)?;
        let flags = u16::try_from(flags).map_err(|_| Errno::Inval)?;
        if flags & !fdflags::ALL != 0 {
            return Err(Errno::Inval);
        }
        // The synchronisation flags are fixed at open on the hosts Kestrel runs on
        // (`fcntl(F_SETFL)` ignores them).
        let sync_flags = fdflags::DSYNC | fdflags::RSYNC | fdflags::SYNC;
        if (flags ^ entry.flags) & sync_flags != 0 {
            return Err(Errno::Notsup);
        }
        match &entry.kind {
            Kind::File(file) => {
                use rustix::fs::OFlags;
                let mut host = rustix::fs::fcntl_getfl(file).map_err(Errno::from)?;
                host.set(OFlags::APPEND, flags & fdflags::APPEND != 0);
                host.set(OFlags::NONBLOCK, flags & fdflags::NONBLOCK != 0);
                rustix::fs::fcntl_setfl(file, host).map_err(Errno::from)?;
            }
            Kind::Listener(listener) => {
                if flags & fdflags::APPEND != 0 {
                    return Err(Errno::Notsup);
                }
                listener
                    .set_nonblocking(flags & fdflags::NONBLOCK != 0)
                    .map_err(Errno::from)?;
            }
            Kind::Stream(stream) => {
                if flags & fdflags::APPEND != 0 {
                    return Err(Errno::Notsup);
                }
                stream
                    .set_nonblocking(flags & fdflags::NONBLOCK != 0)
                    .map_err(Errno::from)?;
            }
            // The host's own stdio descriptors are shared with the host process (and the
            // shell that started it), so their flags are not changed; the guest's view is.
            Kind::Stdin(_) | Kind::Output(_) => {}
            Kind::Dir(_) => {
                if flags & fdflags::APPEND != 0 {
                    return Err(Errno::Notsup);
                }
            }
        }
        entry.flags = flags;
        Ok(())
    }

    pub(super) fn fd_fdstat_set_rights(
        &mut self,
        _memory: &mut GuestMemory<'_>,
        fd: u32,
        base: u64,
        inheriting: u64,
    ) -> Result<()> {
        let entry = self.table.get_mut(fd)?;
        // Rights can only be dropped.
        if base & !entry.base != 0 || inheriting & !entry.inheriting != 0 {
            return Err(Errno::Notcapable);
        }
        entry.base = base;
        entry.inheriting = inheriting;
        Ok(())
    }

    pub(super) fn fd_filestat_get(
        &mut self,
        memory: &mut GuestMemory<'_>,
        fd: u32,
        out: u32,
    ) -> Result<()> {
        memory.check(out, layout::FILESTAT_SIZE, layout::FILESTAT_ALIGN)?;
        let entry = self.table.with_rights(fd, rights::FD_FILESTAT_GET)?;
        let fstat = |fd: std::os::fd::BorrowedFd<'_>| -> Result<Filestat> {
            Ok(Filestat::from_stat(
                &rustix::fs::fstat(fd).map_err(Errno::from)?,
            ))
        };
        use std::os::fd::AsFd;
        let stat = match &entry.kind {
            Kind::File(file) => fstat(file.as_fd())?,
            Kind::Dir(dir) => fstat(dir.dir.as_fd())?,
            Kind::Listener(listener) => fstat(listener.as_fd())?,
            Kind::Stream(stream) => fstat(stream.as_fd())?,
            // Standard streams report the type `fd_fdstat_get` reports (a terminal or
            // unknown); the host's own descriptor behind an inherited one fills the rest.
            Kind::Stdin(input) => Filestat {
                filetype: input.filetype(),
                ..input.host_fd().map_or(Ok(Filestat::default()), fstat)?
            },
            Kind::Output(output) => Filestat {
                filetype: output.filetype(),
                ..output.host_fd().map_or(Ok(Filestat::default()), fstat)?
            },
        };
        stat.write(memory, out)
    }

    pub(super) fn fd_filestat_set_size(
        &mut self,
        _memory: &mut GuestMemory<'_>,
        fd: u32,
        size: u64,
    ) -> Result<()> {
        let entry = self.table.with_rights(fd, rights::FD_FILESTAT_SET_SIZE)?;
        let Kind::File(file) = &entry.kind else {
            return Err(Errno::Badf);
        };
        retry(|| file.set_len(size))
    }

    pub(super) fn fd_filestat_set_times(
        &mut self,
        _memory: &mut GuestMemory<'_>,
        fd: u32,
        atim: u64,
        mtim: u64,
        fst_flags: u32,
    ) -> Result<()> {
        let entry = self.table.with_rights(fd, rights::FD_FILESTAT_SET_TIMES)?;
        let times = times_to_set(atim, mtim, fst_flags)?;
        match &entry.kind {
            Kind::File(file) => rustix::fs::futimens(file, &timestamps(times)).map_err(Errno::from),
            Kind::Dir(dir) => dir
                .dir
                .set_times(".", times.0, times.1)
                .map_err(Errno::from),
            _ => Err(Errno::Badf),
        }
    }

    pub(super) fn fd_pread(
        &mut self,
        memory: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        iovs_len: u32,
        offset: u64,
        nread: u32,
    ) -> Result<()> {
        memory.check(nread, 4, 4)?;
        let iovecs = memory.iovecs(iovs, iovs_len)?;
        let entry = self.table.get(fd)?;
        if is_stream(&entry.kind) {
            return Err(Errno::Spipe);
        }
        entry.require(rights::FD_READ | rights::FD_SEEK)?;
        let Kind::File(file) = &entry.kind else {
            return Err(Errno::Isdir);
        };
        let mut total = 0usize;
        let mut position = offset;
        for iovec in &iovecs {
            let buffer = memory.slice_mut(iovec.range.clone());
            let count = retry(|| file.read_at(buffer, position))?;
            total += count;
            position += count as u64;
            if count < iovec.len() {
                break;
            }
        }
        memory.write_u32(nread, total as u32)
    }

    pub(super) fn fd_pwrite(
        &mut self,
        memory: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        iovs_len: u32,
        offset: u64,
        nwritten: u32,
    ) -> Result<()> {
        memory.check(nwritten, 4, 4)?;
        let iovecs = memory.iovecs(iovs, iovs_len)?;
        let entry = self.table.get(fd)?;
        if is_stream(&entry.kind) {
            return Err(Errno::Spipe);
        }
        entry.require(rights::FD_WRITE | rights::FD_SEEK)?;
        let Kind::File(file) = &entry.kind else {
            return Err(Errno::Isdir);
        };
        let mut total = 0usize;
        let mut position = offset;
        for iovec in &iovecs {
            let buffer = memory.slice(iovec.range.clone());
            let count = retry(|| file.write_at(buffer, position))?;
            total += count;
            position += count as u64;
            if count < iovec.len() {
                break;
            }
        }
        memory.write_u32(nwritten, total as u32)
    }

    pub(super) fn fd_read(
        &mut self,
        memory: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        iovs_len: u32,
        nread: u32,
    ) -> Result<()> {
        memory.check(nread, 4, 4)?;
        let iovecs = memory.iovecs(iovs, iovs_len)?;
        let entry = self.table.with_rights(fd, rights::FD_READ)?;
        let total = match &entry.kind {
            Kind::File(file) => {
                let mut file: &std::fs::File = file;
                let mut total = 0usize;
                for iovec in &iovecs {
                    let buffer = memory.slice_mut(iovec.range.clone());
                    let count = retry(|| file.read(buffer))?;
                    total += count;
                    if count < iovec.len() {
                        break;
                    }
                }
                total
            }
            Kind::Stdin(input) => match first_nonempty(&iovecs) {
                Some(iovec) => input.read(memory.slice_mut(iovec.range.clone()))?,
                None => 0,
            },
            Kind::Stream(stream) => match first_nonempty(&iovecs) {
                Some(iovec) => {
                    let mut stream: &std::net::TcpStream = stream;
                    let buffer = memory.slice_mut(iovec.range.clone());
                    retry(|| stream.read(buffer))?
                }
                None => 0,
            },
            Kind::Dir(_) => return Err(Errno::Isdir),
            Kind::Output(_) | Kind::Listener(_) => return Err(Errno::Badf),
        };
        memory.write_u32(nread, total as u32)
    }

    pub(super) fn fd_write(
        &mut self,
        memory: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        iovs_len: u32,
        nwritten: u32,
    ) -> Result<()> {
        memory.check(nwritten, 4, 4)?;
        let iovecs = memory.iovecs(iovs, iovs_len)?;
        let entry = self.table.with_rights(fd, rights::FD_WRITE)?;
        let buffers: Vec<&[u8]> = iovecs
            .iter()
            .map(|iovec| memory.slice(iovec.range.clone()))
            .collect();
        let total = match &entry.kind {
            Kind::Output(output) => output.write(&buffers)?,
            Kind::File(file) => {
                let mut file: &std::fs::File = file;
                let slices: Vec<IoSlice<'_>> = buffers.iter().map(|b| IoSlice::new(b)).collect();
                retry(|| file.write_vectored(&slices))?
            }
            Kind::Stream(stream) => {
                let mut stream: &std::net::TcpStream = stream;
                let slices: Vec<IoSlice<'_>> = buffers.iter().map(|b| IoSlice::new(b)).collect();
                retry(|| stream.write_vectored(&slices))?
            }
            Kind::Dir(_) => return Err(Errno::Isdir),
            Kind::Stdin(_) | Kind::Listener(_) => return Err(Errno::Badf),
        };
        memory.write_u32(nwritten, total as u32)
    }

    pub(super) fn fd_seek(
        &mut self,
        memory: &mut GuestMemory<'_>,
        fd: u32,
        offset: u64,
        whence: u32,
        newoffset: u32,
    ) -> Result<()> {
        memory.check(newoffset, 8, 8)?;
        let entry = self.table.get(fd)?;
        if is_stream(&entry.kind) {
            return Err(Errno::Spipe);
        }
        let offset = offset as i64;
        // Asking where the position is needs only the right to tell.
        let needed = if offset == 0 && whence == u32::from(whence::CUR) {
            rights::FD_TELL
        } else {
            rights::FD_SEEK | rights::FD_TELL
        };
        entry.require(needed)?;
        let from = match u8::try_from(whence).map_err(|_| Errno::Inval)? {
            whence::SET => SeekFrom::Start(u64::try_from(offset).map_err(|_| Errno::Inval)?),
            whence::CUR => SeekFrom::Current(offset),
            whence::END => SeekFrom::End(offset),
            _ => return Err(Errno::Inval),
        };
        let Kind::File(file) = &entry.kind else {
            return Err(Errno::Badf);
        };
        let mut file: &std::fs::File = file;
        let position = retry(|| file.seek(from))?;
        memory.write_u64(newoffset, position)
    }

    pub(super) fn fd_tell(
        &mut self,
        memory: &mut GuestMemory<'_>,
        fd: u32,
        out: u32,
    ) -> Result<()> {
        memory.check(out, 8, 8)?;
        let entry = self.table.get(fd)?;
        if is_stream(&entry.kind) {
            return Err(Errno::Spipe);
        }
        entry.require(rights::FD_TELL)?;
        let Kind::File(file) = &entry.kind else {
            return Err(Errno::Badf);
        };
        let mut file: &std::fs::File = file;
        let position = retry(|| file.stream_position())?;
        memory.write_u64(out, position)
    }

    pub(super) fn fd_prestat_get(
        &mut self,
        memory: &mut GuestMemory<'_>,
        fd: u32,
        out: u32,
    ) -> Result<()> {
        memory.check(out, layout::PRESTAT_SIZE, layout::PRESTAT_ALIGN)?;
        let name = self.preopen_name(fd)?;
        let len = u32::try_from(name.len()).map_err(|_| Errno::Nametoolong)?;
        memory.bytes_mut(out, layout::PRESTAT_SIZE)?.fill(0);
        // Tag 0: a directory.
        memory.write_u8(out, 0)?;
        memory.write_u32(out + 4, len)
    }

    pub(super) fn fd_prestat_dir_name(
        &mut self,
        memory: &mut GuestMemory<'_>,
        fd: u32,
        path: u32,
        path_len: u32,
    ) -> Result<()> {
        let name = self.preopen_name(fd)?;
        if (path_len as usize) < name.len() {
            return Err(Errno::Nametoolong);
        }
        memory
            .bytes_mut(path, name.len() as u32)?
            .copy_from_slice(name.as_bytes());
        Ok(())
    }

    /// The guest path of preopened directory `fd`; any other descriptor is `badf`, which
    /// is where wasi-libc's scan of the preopens (from descriptor 3 up) stops.
    fn preopen_name(&self, fd: u32) -> Result<&str> {
        match &self.table.get(fd)?.kind {
            Kind::Dir(dir) => dir.preopen.as_deref().ok_or(Errno::Badf),
            _ => Err(Errno::Badf),
        }
    }

    pub(super) fn fd_readdir(
        &mut self,
        memory: &mut GuestMemory<'_>,
        fd: u32,
        buf: u32,
        buf_len: u32,
        cookie: u64,
        bufused: u32,
    ) -> Result<()> {
        memory.check(bufused, 4, 4)?;
        let range = memory.range(buf, buf_len)?;
        self.table.dir(fd, rights::FD_READDIR)?;
        let entry = self.table.get_mut(fd)?;
        let Kind::Dir(dir) = &mut entry.kind else {
            return Err(Errno::Notdir);
        };
        if cookie == 0 || dir.listing.is_none() {
            dir.listing = Some(list_directory(&dir.dir)?);
        }
        let listing = dir.listing.as_deref().unwrap_or_default();
        // Entries one after another, the last one cut off when the buffer is full: a
        // filled buffer tells the guest to ask again from the last whole entry's cookie.
        let out = memory.slice_mut(range);
        let mut used = 0usize;
        let start = usize::try_from(cookie).unwrap_or(usize::MAX);
        for (index, item) in listing.iter().enumerate().skip(start) {
            if used == out.len() {
                break;
            }
            let mut header = [0u8; layout::DIRENT_SIZE];
            header[0..8].copy_from_slice(&(index as u64 + 1).to_le_bytes());
            header[8..16].copy_from_slice(&item.inode.to_le_bytes());
            header[16..20].copy_from_slice(&(item.name.len() as u32).to_le_bytes());
            header[20] = item.filetype;
            for bytes in [&header[..], &item.name[..]] {
                let count = bytes.len().min(out.len() - used);
                out[used..used + count].copy_from_slice(&bytes[..count]);
                used += count;
            }
        }
        memory.write_u32(bufused, used as u32)
    }

    pub(super) fn fd_renumber(
        &mut self,
        _memory: &mut GuestMemory<'_>,
        fd: u32,
        to: u32,
    ) -> Result<()> {
        self.table.renumber(fd, to)
    }
}

/// Whether a descriptor is a stream, where positions mean nothing (`spipe`).
fn is_stream(kind: &Kind) -> bool {
    matches!(
        kind,
        Kind::Stdin(_) | Kind::Output(_) | Kind::Stream(_) | Kind::Listener(_)
    )
}

fn sync(entry: &Entry, data_only: bool) -> Result<()> {
    let sync_file = |file: &std::fs::File| {
        if data_only {
            retry(|| file.sync_data())
        } else {
            retry(|| file.sync_all())
        }
    };
    match &entry.kind {
        Kind::File(file) => sync_file(file),
        Kind::Dir(dir) => {
            let file = dir.dir.open(".").map_err(Errno::from)?.into_std();
            sync_file(&file)
        }
        // Nothing is buffered on the way to the standard streams.
        Kind::Stdin(_) | Kind::Output(_) => Ok(()),
        Kind::Listener(_) | Kind::Stream(_) => Err(Errno::Inval),
    }
}

/// A directory's entries for `fd_readdir`: `.` and `..` first (cap-std leaves them out),
/// then the rest in the order the OS gives them. `..` gets the directory's own inode: its
/// parent may lie outside the sandbox.
fn list_directory(dir: &cap_std::fs::Dir) -> Result<Vec<DirItem>> {
    use std::os::fd::AsFd;
    use std::os::unix::fs::DirEntryExt;
    let inode = rustix::fs::fstat(dir.as_fd()).map_err(Errno::from)?.st_ino as u64;
    let mut items = vec![
        DirItem {
            name: b".".to_vec(),
            inode,
            filetype: filetype::DIRECTORY,
        },
        DirItem {
            name: b"..".to_vec(),
            inode,
            filetype: filetype::DIRECTORY,
        },
    ];
    for entry in dir.entries().map_err(Errno::from)? {
        let entry = entry.map_err(Errno::from)?;
        let filetype = entry
            .file_type()
            .map(filetype_of)
            .unwrap_or(filetype::UNKNOWN);
        items.push(DirItem {
            name: entry.file_name().into_vec(),
            inode: entry.ino(),
            filetype,
        });
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fst_flags_are_validated() {
        assert!(matches!(times_to_set(0, 0, 0), Ok((None, None))));
        assert!(times_to_set(0, 0, u32::from(fstflags::ATIM | fstflags::ATIM_NOW)).is_err());
        assert!(times_to_set(0, 0, u32::from(fstflags::MTIM | fstflags::MTIM_NOW)).is_err());
        assert!(times_to_set(0, 0, 1 << 4).is_err());
        let (atime, mtime) =
            times_to_set(5, 0, u32::from(fstflags::ATIM | fstflags::MTIM_NOW)).unwrap();
        assert!(matches!(atime, Some(SystemTimeSpec::Absolute(_))));
        assert!(matches!(mtime, Some(SystemTimeSpec::SymbolicNow)));
    }
}
