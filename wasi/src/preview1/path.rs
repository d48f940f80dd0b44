//! The `path_*` functions: every path is relative to an open directory descriptor and is
//! resolved by cap-std inside that directory.
//!
//! cap-std resolves each component itself (`openat2(RESOLVE_BENEATH)` where the kernel has
//! it, component by component otherwise) and refuses absolute paths, `..` that would climb
//! above the directory, and symlinks whose target lies outside it; those refusals become
//! `notcapable` (see `error.rs`). Nothing here inspects path strings for safety: a
//! hand-written check would be one more place to get it wrong.

use super::fd::{Filestat, times_to_set};
use crate::WasiCtx;
use crate::abi::{Errno, Result, fdflags, layout, lookupflags, oflags, rights};
use crate::memory::GuestMemory;
use crate::table::{Dir, Entry, Kind};
use cap_fs_ext::{
    DirExt, FollowSymlinks, OpenOptionsFollowExt, OpenOptionsMaybeDirExt, OpenOptionsSyncExt,
};
use std::os::unix::ffi::OsStrExt;

/// Checks `lookupflags` and returns whether to follow a final symlink.
fn follow(flags: u32) -> Result<bool> {
    if flags & !lookupflags::ALL != 0 {
        return Err(Errno::Inval);
    }
    Ok(flags & lookupflags::SYMLINK_FOLLOW != 0)
}

impl WasiCtx {
    pub(super) fn path_create_directory(
        &mut self,
        memory: &mut GuestMemory<'_>,
        fd: u32,
        path: u32,
        path_len: u32,
    ) -> Result<()> {
        let path = memory.str(path, path_len)?;
        let dir = self.table.dir(fd, rights::PATH_CREATE_DIRECTORY)?;
        dir.dir.create_dir(path).map_err(Errno::from)
    }

    pub(super) fn path_filestat_get(
        &mut self,
        memory: &mut GuestMemory<'_>,
        fd: u32,
        flags: u32,
        path: u32,
        path_len: u32,
        out: u32,
    ) -> Result<()> {
        memory.check(out, layout::FILESTAT_SIZE, layout::FILESTAT_ALIGN)?;
        let path = memory.str(path, path_len)?;
        let dir = self.table.dir(fd, rights::PATH_FILESTAT_GET)?;
        let metadata = if follow(flags)? {
            dir.dir.metadata(path)
        } else {
            dir.dir.symlink_metadata(path)
        }
        .map_err(Errno::from)?;
        Filestat::from_metadata(&metadata).write(memory, out)
    }

    #[expect(clippy::too_many_arguments, reason = "preview1's signature")]
    pub(super) fn path_filestat_set_times(
        &mut self,
        memory: &mut GuestMemory<'_>,
        fd: u32,
        flags: u32,
        path: u32,
        path_len: u32,
        atim: u64,
        mtim: u64,
        fst_flags: u32,
    ) -> Result<()> {
        let path = memory.str(path, path_len)?;
        let dir = self.table.dir(fd, rights::PATH_FILESTAT_SET_TIMES)?;
        let follow = follow(flags)?;
        let (atime, mtime) = times_to_set(atim, mtim, fst_flags)?;
        if follow {
            dir.dir.set_times(path, atime, mtime)
        } else {
            dir.dir.set_symlink_times(path, atime, mtime)
        }
        .map_err(Errno::from)
    }

    #[expect(clippy::too_many_arguments, reason = "preview1's signature")]
    pub(super) fn path_link(
        &mut self,
        memory: &mut GuestMemory<'_>,
        old_fd: u32,
        old_flags: u32,
        old_path: u32,
        old_path_len: u32,
        new_fd: u32,
        new_path: u32,
        new_path_len: u32,
    ) -> Result<()> {
        let old_path = memory.str(old_path, old_path_len)?;
        let new_path = memory.str(new_path, new_path_len)?;
        let old_dir = self.table.dir(old_fd, rights::PATH_LINK_SOURCE)?;
        let new_dir = self.table.dir(new_fd, rights::PATH_LINK_TARGET)?;
        // A hard link to a symlink's target would need resolving it outside cap-std's
        // checked paths; as in Wasmtime, following is refused.
        if follow(old_flags)? {
            return Err(Errno::Inval);
        }
        old_dir
            .dir
            .hard_link(old_path, &new_dir.dir, new_path)
            .map_err(Errno::from)
    }

    #[expect(clippy::too_many_arguments, reason = "preview1's signature")]
    pub(super) fn path_open(
        &mut self,
        memory: &mut GuestMemory<'_>,
        fd: u32,
        dirflags: u32,
        path: u32,
        path_len: u32,
        oflags: u32,
        rights_base: u64,
        rights_inheriting: u64,
        fdflags: u32,
        opened: u32,
    ) -> Result<()> {
        memory.check(opened, 4, 4)?;
        let path = memory.str(path, path_len)?;
        let entry = self.table.get(fd)?;
        let Kind::Dir(dir) = &entry.kind else {
            return Err(Errno::Notdir);
        };
        let follow = follow(dirflags)?;
        let oflags = u16::try_from(oflags).map_err(|_| Errno::Inval)?;
        let fdflags = u16::try_from(fdflags).map_err(|_| Errno::Inval)?;
        if oflags & !oflags::ALL != 0 || fdflags & !fdflags::ALL != 0 {
            return Err(Errno::Inval);
        }
        let mut needed = rights::PATH_OPEN;
        if oflags & oflags::CREAT != 0 {
            needed |= rights::PATH_CREATE_FILE;
        }
        if oflags & oflags::TRUNC != 0 {
            needed |= rights::PATH_FILESTAT_SET_SIZE;
        }
        entry.require(needed)?;
        // The new descriptor gets what was asked for, within what this directory passes on.
        let base = rights_base & entry.inheriting;
        let inheriting = rights_inheriting & entry.inheriting;

        let new_entry = if oflags & oflags::DIRECTORY != 0 {
            if oflags & (oflags::CREAT | oflags::EXCL | oflags::TRUNC) != 0 {
                return Err(Errno::Inval);
            }
            // As `open(O_DIRECTORY | O_RDWR)` fails.
            if wants_write(base) {
                return Err(Errno::Isdir);
            }
            let opened = if follow {
                dir.dir.open_dir(path)
            } else {
                dir.dir.open_dir_nofollow(path)
            }
            .map_err(Errno::from)?;
            directory_entry(opened, base, inheriting)
        } else {
            open_file(dir, path, oflags, fdflags, follow, base, inheriting)?
        };
        let new_fd = self.table.push(new_entry)?;
        memory.write_u32(opened, new_fd)
    }

    #[expect(clippy::too_many_arguments, reason = "preview1's signature")]
    pub(super) fn path_readlink(
        &mut self,
        memory: &mut GuestMemory<'_>,
        fd: u32,
        path: u32,
        path_len: u32,
        buf: u32,
        buf_len: u32,
        bufused: u32,
    ) -> Result<()> {
        memory.check(bufused, 4, 4)?;
        memory.range(buf, buf_len)?;
        let path = memory.str(path, path_len)?;
        let dir = self.table.dir(fd, rights::PATH_READLINK)?;
        // cap-std refuses to reveal an absolute target (it would name a host path).
        let target = dir.dir.read_link(path).map_err(Errno::from)?;
        let bytes = target.as_os_str().as_bytes();
        // As with readlink(2), a target longer than the buffer is cut short.
        let count = bytes.len().min(buf_len as usize);
        memory
            .bytes_mut(buf, count as u32)?
            .copy_from_slice(&bytes[..count]);
        memory.write_u32(bufused, count as u32)
    }

    pub(super) fn path_remove_directory(
        &mut self,
        memory: &mut GuestMemory<'_>,
        fd: u32,
        path: u32,
        path_len: u32,
    ) -> Result<()> {
        let path = memory.str(path, path_len)?;
        let dir = self.table.dir(fd, rights::PATH_REMOVE_DIRECTORY)?;
        dir.dir.remove_dir(path).map_err(Errno::from)
    }

    #[expect(clippy::too_many_arguments, reason = "preview1's signature")]
    pub(super) fn path_rename(
        &mut self,
        memory: &mut GuestMemory<'_>,
        fd: u32,
        old_path: u32,
        old_path_len: u32,
        new_fd: u32,
        new_path: u32,
        new_path_len: u32,
    ) -> Result<()> {
        let old_path = memory.str(old_path, old_path_len)?;
        let new_path = memory.str(new_path, new_path_len)?;
        let old_dir = self.table.dir(fd, rights::PATH_RENAME_SOURCE)?;
        let new_dir = self.table.dir(new_fd, rights::PATH_RENAME_TARGET)?;
        old_dir
            .dir
            .rename(old_path, &new_dir.dir, new_path)
            .map_err(Errno::from)
    }

    pub(super) fn path_symlink(
        &mut self,
        memory: &mut GuestMemory<'_>,
        old_path: u32,
        old_path_len: u32,
        fd: u32,
        new_path: u32,
        new_path_len: u32,
    ) -> Result<()> {
        let old_path = memory.str(old_path, old_path_len)?;
        let new_path = memory.str(new_path, new_path_len)?;
        let dir = self.table.dir(fd, rights::PATH_SYMLINK)?;
        // cap-std refuses absolute targets: such a link could never be followed inside
        // the sandbox, and another program on the host would follow it.
        dir.dir.symlink(old_path, new_path).map_err(Errno::from)
    }

    pub(super) fn path_unlink_file(
        &mut self,
        memory: &mut GuestMemory<'_>,
        fd: u32,
        path: u32,
        path_len: u32,
    ) -> Result<()> {
        let path = memory.str(path, path_len)?;
        let dir = self.table.dir(fd, rights::PATH_UNLINK_FILE)?;
        dir.dir.remove_file(path).map_err(Errno::from)
    }
}

/// Whether rights `base` need a host descriptor open for writing. (`fd_datasync` works on
/// a read-only descriptor, and directories carry that right.)
fn wants_write(base: u64) -> bool {
    base & (rights::FD_WRITE | rights::FD_ALLOCATE | rights::FD_FILESTAT_SET_SIZE) != 0
}

fn directory_entry(dir: cap_std::fs::Dir, base: u64, inheriting: u64) -> Entry {
    Entry {
        kind: Kind::Dir(Dir {
            dir,
            preopen: None,
            listing: None,
        }),
        base: base & rights::DIRECTORY,
        inheriting,
        flags: 0,
    }
}

/// Opens `path` without `oflags::DIRECTORY`: a file, or a directory if that is what the
/// path names (POSIX `open` allows that, and wasi-libc relies on it).
fn open_file(
    dir: &Dir,
    path: &str,
    oflags: u16,
    fdflags: u16,
    follow: bool,
    base: u64,
    inheriting: u64,
) -> Result<Entry> {
    let read = base & (rights::FD_READ | rights::FD_READDIR) != 0;
    let append = fdflags & fdflags::APPEND != 0;
    // Creating or truncating needs a writable host descriptor even when the guest asked
    // for no right to write: the descriptor's rights, not the host's access mode, decide
    // what the guest may do with it.
    let write = wants_write(base) || append || oflags & (oflags::CREAT | oflags::TRUNC) != 0;
    let mut options = cap_std::fs::OpenOptions::new();
    // The host needs some access mode; a guest that asked for neither gets a read-only
    // descriptor it has no right to read.
    options.read(read || !write);
    options.write(write);
    if oflags & oflags::CREAT != 0 {
        if oflags & oflags::EXCL != 0 {
            options.create_new(true);
        } else {
            options.create(true);
        }
    }
    options.truncate(oflags & oflags::TRUNC != 0);
    options.follow(if follow {
        FollowSymlinks::Yes
    } else {
        FollowSymlinks::No
    });
    options.maybe_dir(true);
    options.nonblock(fdflags & fdflags::NONBLOCK != 0);
    options.sync(fdflags & fdflags::SYNC != 0);
    options.dsync(fdflags & fdflags::DSYNC != 0);
    options.rsync(fdflags & fdflags::RSYNC != 0);
    let file = dir.dir.open_with(path, &options).map_err(Errno::from)?;
    let file = file.into_std();
    if file.metadata().map_err(Errno::from)?.is_dir() {
        let dir = cap_std::fs::Dir::from_std_file(file);
        return Ok(directory_entry(dir, base, inheriting));
    }
    // Set after opening: `OpenOptions` (like std's) refuses append with truncate, which
    // POSIX `open` allows (`O_APPEND | O_TRUNC`).
    if append {
        let mut host = rustix::fs::fcntl_getfl(&file).map_err(Errno::from)?;
        host |= rustix::fs::OFlags::APPEND;
        rustix::fs::fcntl_setfl(&file, host).map_err(Errno::from)?;
    }
    Ok(Entry {
        kind: Kind::File(file),
        base: base & rights::FILE,
        inheriting,
        flags: fdflags,
    })
}
