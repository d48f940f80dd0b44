//! The `wasi_snapshot_preview1` functions and [`add_to_linker`], which defines them.
//!
//! Each function is a method of [`WasiCtx`] taking the guest's memory and its arguments as
//! unsigned integers, and returning `Result<(), Errno>`; the linker glue, generated from one
//! list below, fetches the calling instance's `memory` export, calls the method and turns
//! the result into the errno the guest receives. The methods live next to their kind:
//! `fd` (descriptor calls), `path` (directory-relative path calls), `poll` (`poll_oneoff`),
//! `sock` (sockets); the small ones (arguments, environment, clocks, random) are here.
//!
//! Checking order, in every function: the guest's pointers and lengths (`fault`, `inval`),
//! then the descriptor (`badf`), its kind where the call makes no sense for it (`notdir`,
//! `spipe`, `notsock`), its rights (`notcapable`), the flags and enumerations
//! (`inval`), and only then the host.

mod fd;
mod path;
mod poll;
mod sock;

use crate::WasiCtx;
use crate::abi::{Errno, Result, clockid, signal};
use crate::error::{I32Exit, Raised};
use crate::memory::GuestMemory;
use kestrel::{Caller, Extern, Linker};

/// The import module name preview1 functions live in.
pub const MODULE: &str = "wasi_snapshot_preview1";

/// The calling instance's memory and the context: what every function needs.
fn split<'a, T: 'static>(
    caller: &'a mut Caller<'_, T>,
    get_cx: impl Fn(&mut T) -> &mut WasiCtx,
) -> kestrel::Result<(GuestMemory<'a>, &'a mut WasiCtx)> {
    let Some(Extern::Memory(memory)) = caller.get_export("memory") else {
        return Err(kestrel::Error::msg(
            "a WASI function was called by a module that exports no memory named `memory`",
        ));
    };
    let (bytes, data) = memory.data_and_store_mut(caller);
    Ok((GuestMemory::new(bytes), get_cx(data)))
}

/// The errno a guest receives for `result` (0 for success).
fn errno_code(result: Result<()>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(errno) => i32::from(errno.raw()),
    }
}

/// Declares the functions that take the guest's memory. `add_functions` defines each under
/// its own name, taking the arguments as the listed unsigned types (`u32` for Wasm `i32`,
/// `u64` for `i64`).
macro_rules! preview1_functions {
    ($(fn $name:ident($($arg:ident: $ty:ty),* $(,)?);)*) => {
        /// The names of the functions defined with the guest's memory (every preview1
        /// function but `proc_exit`, `proc_raise` and `sched_yield`).
        pub const FUNCTIONS_WITH_MEMORY: &[&str] = &[$(stringify!($name)),*];

        fn add_functions<T: 'static>(
            linker: &mut Linker<T>,
            get_cx: impl Fn(&mut T) -> &mut WasiCtx + Send + Sync + Copy + 'static,
        ) -> kestrel::Result<()> {
            $(
                linker.func_wrap(
                    MODULE,
                    stringify!($name),
                    move |mut caller: Caller<'_, T>, $($arg: $ty),*| -> kestrel::Result<i32> {
                        let (mut memory, ctx) = split(&mut caller, get_cx)?;
                        Ok(errno_code(ctx.$name(&mut memory, $($arg),*)))
                    },
                )?;
            )*
            Ok(())
        }
    };
}

preview1_functions! {
    fn args_get(argv: u32, argv_buf: u32);
    fn args_sizes_get(argc: u32, argv_buf_size: u32);
    fn environ_get(environ: u32, environ_buf: u32);
    fn environ_sizes_get(environc: u32, environ_buf_size: u32);
    fn clock_res_get(id: u32, resolution: u32);
    fn clock_time_get(id: u32, precision: u64, time: u32);
    fn fd_advise(fd: u32, offset: u64, len: u64, advice: u32);
    fn fd_allocate(fd: u32, offset: u64, len: u64);
    fn fd_close(fd: u32);
    fn fd_datasync(fd: u32);
    fn fd_fdstat_get(fd: u32, stat: u32);
    fn fd_fdstat_set_flags(fd: u32, flags: u32);
    fn fd_fdstat_set_rights(fd: u32, base: u64, inheriting: u64);
    fn fd_filestat_get(fd: u32, stat: u32);
    fn fd_filestat_set_size(fd: u32, size: u64);
    fn fd_filestat_set_times(fd: u32, atim: u64, mtim: u64, fst_flags: u32);
    fn fd_pread(fd: u32, iovs: u32, iovs_len: u32, offset: u64, nread: u32);
    fn fd_prestat_get(fd: u32, prestat: u32);
    fn fd_prestat_dir_name(fd: u32, path: u32, path_len: u32);
    fn fd_pwrite(fd: u32, iovs: u32, iovs_len: u32, offset: u64, nwritten: u32);
    fn fd_read(fd: u32, iovs: u32, iovs_len: u32, nread: u32);
    fn fd_readdir(fd: u32, buf: u32, buf_len: u32, cookie: u64, bufused: u32);
    fn fd_renumber(fd: u32, to: u32);
    fn fd_seek(fd: u32, offset: u64, whence: u32, newoffset: u32);
    fn fd_sync(fd: u32);
    fn fd_tell(fd: u32, offset: u32);
    fn fd_write(fd: u32, iovs: u32, iovs_len: u32, nwritten: u32);
    fn path_create_directory(fd: u32, path: u32, path_len: u32);
    fn path_filestat_get(fd: u32, flags: u32, path: u32, path_len: u32, stat: u32);
    fn path_filestat_set_times(
        fd: u32,
        flags: u32,
        path: u32,
        path_len: u32,
        atim: u64,
        mtim: u64,
        fst_flags: u32,
    );
    fn path_link(
        old_fd: u32,
        old_flags: u32,
        old_path: u32,
        old_path_len: u32,
        new_fd: u32,
        new_path: u32,
        new_path_len: u32,
    );
    fn path_open(
        fd: u32,
        dirflags: u32,
        path: u32,
        path_len: u32,
        oflags: u32,
        rights_base: u64,
        rights_inheriting: u64,
        fdflags: u32,
        opened: u32,
    );
    fn path_readlink(fd: u32, path: u32, path_len: u32, buf: u32, buf_len: u32, bufused: u32);
    fn path_remove_directory(fd: u32, path: u32, path_len: u32);
    fn path_rename(
        fd: u32,
        old_path: u32,
        old_path_len: u32,
        new_fd: u32,
        new_path: u32,
        new_path_len: u32,
    );
    fn path_symlink(old_path: u32, old_path_len: u32, fd: u32, new_path: u32, new_path_len: u32);
    fn path_unlink_file(fd: u32, path: u32, path_len: u32);
    fn poll_oneoff(subscriptions: u32, events: u32, nsubscriptions: u32, nevents: u32);
    fn random_get(buf: u32, buf_len: u32);
    fn sock_accept(fd: u32, flags: u32, accepted: u32);
    fn sock_recv(
        fd: u32,
        ri_data: u32,
        ri_data_len: u32,
        ri_flags: u32,
        ro_datalen: u32,
        ro_flags: u32,
    );
    fn sock_send(fd: u32, si_data: u32, si_data_len: u32, si_flags: u32, so_datalen: u32);
    fn sock_shutdown(fd: u32, how: u32);
}

/// Defines every `wasi_snapshot_preview1` function in `linker`, reaching the context
/// through `get_cx` (Wasmtime's shape: `add_to_linker(&mut linker, |data| &mut data.wasi)`).
///
/// A WASI function called by a module without a `memory` export fails the call with an
/// error. `proc_exit` fails the call with [`I32Exit`], and `proc_raise` with a terminating
/// signal with [`Raised`]: the embedder decides what ending the program means.
///
/// Fails when a name is already defined and the linker does not allow shadowing.
pub fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    get_cx: impl Fn(&mut T) -> &mut WasiCtx + Send + Sync + Copy + 'static,
) -> kestrel::Result<()> {
    add_functions(linker, get_cx)?;
    linker.func_wrap(MODULE, "proc_exit", |status: u32| -> kestrel::Result<()> {
        // Like Wasmtime: statuses from 126 on mean "could not run" or "killed by a signal"
        // to a shell, so a program cannot claim them.
        if status < 126 {
            Err(kestrel::Error::new(I32Exit(status as i32)))
        } else {
            Err(kestrel::Error::msg(format!(
                "proc_exit({status}): exit status outside of [0..126)"
            )))
        }
    })?;
    linker.func_wrap(
        MODULE,
        "proc_raise",
        |number: u32| -> kestrel::Result<i32> {
            let Ok(number) = u8::try_from(number) else {
                return Ok(i32::from(Errno::Inval.raw()));
            };
            if number > signal::MAX {
                Ok(i32::from(Errno::Inval.raw()))
            } else if signal::ignored_by_default(number) {
                Ok(0)
            } else if signal::stops_by_default(number) {
                // Nothing could resume a stopped Wasm program.
                Ok(i32::from(Errno::Notsup.raw()))
            } else {
                Err(kestrel::Error::new(Raised(number)))
            }
        },
    )?;
    linker.func_wrap(MODULE, "sched_yield", || -> i32 {
        std::thread::yield_now();
        0
    })?;
    Ok(())
}

/// Writes `strings` as `args_get`/`environ_get` lay them out: an array of pointers at
/// `pointers`, and the NUL-terminated strings one after another at `buffer`.
fn write_strings(
    memory: &mut GuestMemory<'_>,
    strings: &[Vec<u8>],
    pointers: u32,
    buffer: u32,
) -> Result<()> {
    let count = u32::try_from(strings.len()).map_err(|_| Errno::Overflow)?;
    let total = strings_size(strings)?;
    memory.check(pointers, count.checked_mul(4).ok_or(Errno::Fault)?, 4)?;
    memory.range(buffer, total)?;
    let mut offset = buffer;
    for (index, string) in strings.iter().enumerate() {
        memory.write_u32(pointers + 4 * index as u32, offset)?;
        let len = string.len() as u32;
        memory.bytes_mut(offset, len)?.copy_from_slice(string);
        memory.write_u8(offset + len, 0)?;
        offset += len + 1;
    }
    Ok(())
}

/// The bytes `write_strings` needs for `strings`, terminators included.
fn strings_size(strings: &[Vec<u8>]) -> Result<u32> {
    let total: usize = strings.iter().map(|string| string.len() + 1).sum();
    u32::try_from(total).map_err(|_| Errno::Overflow)
}

fn write_sizes(
    memory: &mut GuestMemory<'_>,
    strings: &[Vec<u8>],
    count: u32,
    size: u32,
) -> Result<()> {
    memory.check(count, 4, 4)?;
    memory.check(size, 4, 4)?;
    let len = u32::try_from(strings.len()).map_err(|_| Errno::Overflow)?;
    memory.write_u32(count, len)?;
    memory.write_u32(size, strings_size(strings)?)
}

/// The host clock behind a preview1 clock id.
pub(crate) fn host_clock(id: u32) -> Result<rustix::time::ClockId> {
    use rustix::time::ClockId;
    match id {
        clockid::REALTIME => Ok(ClockId::Realtime),
        clockid::MONOTONIC => Ok(ClockId::Monotonic),
        clockid::PROCESS_CPUTIME_ID => Ok(ClockId::ProcessCPUTime),
        clockid::THREAD_CPUTIME_ID => Ok(ClockId::ThreadCPUTime),
        _ => Err(Errno::Inval),
    }
}

/// A timestamp in nanoseconds (saturating: preview1 timestamps are unsigned 64-bit).
pub(crate) fn nanoseconds(time: rustix::time::Timespec) -> u64 {
    let seconds = u64::try_from(time.tv_sec).unwrap_or(0);
    let nanos = u64::try_from(time.tv_nsec).unwrap_or(0);
    seconds.saturating_mul(1_000_000_000).saturating_add(nanos)
}

/// The current time of clock `id`, in nanoseconds.
pub(crate) fn clock_now(id: u32) -> Result<u64> {
    Ok(nanoseconds(rustix::time::clock_gettime(host_clock(id)?)))
}

impl WasiCtx {
    fn args_get(&mut self, memory: &mut GuestMemory<'_>, argv: u32, argv_buf: u32) -> Result<()> {
        write_strings(memory, &self.args, argv, argv_buf)
    }

    fn args_sizes_get(
        &mut self,
        memory: &mut GuestMemory<'_>,
        argc: u32,
        argv_buf_size: u32,
    ) -> Result<()> {
        write_sizes(memory, &self.args, argc, argv_buf_size)
    }

    fn environ_get(
        &mut self,
        memory: &mut GuestMemory<'_>,
        environ: u32,
        environ_buf: u32,
    ) -> Result<()> {
        write_strings(memory, &self.env, environ, environ_buf)
    }

    fn environ_sizes_get(
        &mut self,
        memory: &mut GuestMemory<'_>,
        environc: u32,
        environ_buf_size: u32,
    ) -> Result<()> {
        write_sizes(memory, &self.env, environc, environ_buf_size)
    }

    fn clock_res_get(&mut self, memory: &mut GuestMemory<'_>, id: u32, out: u32) -> Result<()> {
        memory.check(out, 8, 8)?;
        let resolution = nanoseconds(rustix::time::clock_getres(host_clock(id)?));
        // A resolution of 0 would tell the guest the clock never ticks.
        memory.write_u64(out, resolution.max(1))
    }

    fn clock_time_get(
        &mut self,
        memory: &mut GuestMemory<'_>,
        id: u32,
        _precision: u64,
        out: u32,
    ) -> Result<()> {
        memory.check(out, 8, 8)?;
        let now = clock_now(id)?;
        memory.write_u64(out, now)
    }

    fn random_get(&mut self, memory: &mut GuestMemory<'_>, buf: u32, len: u32) -> Result<()> {
        let bytes = memory.bytes_mut(buf, len)?;
        getrandom::fill(bytes).map_err(|_| Errno::Io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_laid_out_with_terminators() {
        let mut bytes = vec![0u8; 64];
        let mut memory = GuestMemory::new(&mut bytes);
        let strings = vec![b"ab".to_vec(), b"".to_vec(), b"xyz".to_vec()];
        write_strings(&mut memory, &strings, 0, 16).unwrap();
        assert_eq!(memory.read_u32(0), Ok(16));
        assert_eq!(memory.read_u32(4), Ok(19));
        assert_eq!(memory.read_u32(8), Ok(20));
        assert_eq!(memory.bytes(16, 8).unwrap(), b"ab\0\0xyz\0");
        assert_eq!(
            write_strings(&mut memory, &strings, 0, 60),
            Err(Errno::Fault)
        );
        assert_eq!(
            write_strings(&mut memory, &strings, 2, 16),
            Err(Errno::Inval)
        );
        write_sizes(&mut memory, &strings, 32, 36).unwrap();
        assert_eq!(memory.read_u32(32), Ok(3));
        assert_eq!(memory.read_u32(36), Ok(8));
    }

    #[test]
    fn clocks() {
        assert!(clock_now(clockid::MONOTONIC).unwrap() > 0);
        assert!(clock_now(clockid::REALTIME).unwrap() > 1_500_000_000_000_000_000);
        assert_eq!(clock_now(4), Err(Errno::Inval));
    }

    #[test]
    fn layout_sizes_match_the_spec() {
        use crate::abi::layout;
        assert_eq!(layout::FDSTAT_SIZE, 24);
        assert_eq!(layout::FILESTAT_SIZE, 64);
        assert_eq!(layout::SUBSCRIPTION_SIZE, 48);
        assert_eq!(layout::EVENT_SIZE, 32);
    }
}
