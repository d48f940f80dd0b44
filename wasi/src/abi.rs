//! The `wasi_snapshot_preview1` ABI: error numbers, flag bits, enumerations and the byte
//! layouts of the structures guests pass by pointer, as the preview1 witx files define them.
//!
//! Everything here is plain data with the values the specification fixes; nothing here
//! touches the host. Flags are `u16`/`u64` bit sets rather than a flags type: guests hand
//! them over as raw integers, and every function must first reject unknown bits, which is
//! one `bits & !ALL != 0` test.

use std::fmt;

macro_rules! errnos {
    ($($(#[doc = $doc:literal])* $name:ident = $value:literal,)*) => {
        /// A preview1 error number, as a failed call returns it to the guest.
        ///
        /// Success (0) is not an `Errno`: the functions return `Result<_, Errno>` and the
        /// linker glue turns `Ok` into 0.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u16)]
        #[non_exhaustive]
        pub enum Errno {
            $($(#[doc = $doc])* $name = $value,)*
        }

        impl Errno {
            /// The variant's name in lower case, which is the witx name for all but `2big`.
            fn lowercase_name(self) -> &'static str {
                match self {
                    $(Errno::$name => {
                        const BYTES: [u8; stringify!($name).len()] =
                            ascii_lowercase(stringify!($name));
                        const NAME: &str = match std::str::from_utf8(&BYTES) {
                            Ok(name) => name,
                            Err(_) => panic!("identifiers are ASCII"),
                        };
                        NAME
                    })*
                }
            }

            /// The error with this number, if it is one (0, success, is not).
            pub fn from_raw(raw: u16) -> Option<Errno> {
                match raw {
                    $($value => Some(Errno::$name),)*
                    _ => None,
                }
            }
        }
    };
}

errnos! {
    /// Argument list too long.
    TooBig = 1,
    /// Permission denied.
    Acces = 2,
    /// Address in use.
    Addrinuse = 3,
    /// Address not available.
    Addrnotavail = 4,
    /// Address family not supported.
    Afnosupport = 5,
    /// Resource unavailable, or operation would block.
    Again = 6,
    /// Connection already in progress.
    Already = 7,
    /// Bad file descriptor.
    Badf = 8,
    /// Bad message.
    Badmsg = 9,
    /// Device or resource busy.
    Busy = 10,
    /// Operation canceled.
    Canceled = 11,
    /// No child processes.
    Child = 12,
    /// Connection aborted.
    Connaborted = 13,
    /// Connection refused.
    Connrefused = 14,
    /// Connection reset.
    Connreset = 15,
    /// Resource deadlock would occur.
    Deadlk = 16,
    /// Destination address required.
    Destaddrreq = 17,
    /// Mathematics argument out of domain of function.
    Dom = 18,
    /// Reserved.
    Dquot = 19,
    /// File exists.
    Exist = 20,
    /// Bad address.
    Fault = 21,
    /// File too large.
    Fbig = 22,
    /// Host is unreachable.
    Hostunreach = 23,
    /// Identifier removed.
    Idrm = 24,
    /// Illegal byte sequence.
    Ilseq = 25,
    /// Operation in progress.
    Inprogress = 26,
    /// Interrupted function.
    Intr = 27,
    /// Invalid argument.
    Inval = 28,
    /// I/O error.
    Io = 29,
    /// Socket is connected.
    Isconn = 30,
    /// Is a directory.
    Isdir = 31,
    /// Too many levels of symbolic links.
    Loop = 32,
    /// File descriptor value too large.
    Mfile = 33,
    /// Too many links.
    Mlink = 34,
    /// Message too large.
    Msgsize = 35,
    /// Reserved.
    Multihop = 36,
    /// Filename too long.
    Nametoolong = 37,
    /// Network is down.
    Netdown = 38,
    /// Connection aborted by network.
    Netreset = 39,
    /// Network unreachable.
    Netunreach = 40,
    /// Too many files open in system.
    Nfile = 41,
    /// No buffer space available.
    Nobufs = 42,
    /// No such device.
    Nodev = 43,
    /// No such file or directory.
    Noent = 44,
    /// Executable file format error.
    Noexec = 45,
    /// No locks available.
    Nolck = 46,
    /// Reserved.
    Nolink = 47,
    /// Not enough space.
    Nomem = 48,
    /// No message of the desired type.
    Nomsg = 49,
    /// Protocol not available.
    Noprotoopt = 50,
    /// No space left on device.
    Nospc = 51,
    /// Function not supported.
    Nosys = 52,
    /// The socket is not connected.
    Notconn = 53,
    /// Not a directory or a symbolic link to a directory.
    Notdir = 54,
    /// Directory not empty.
    Notempty = 55,
    /// State not recoverable.
    Notrecoverable = 56,
    /// Not a socket.
    Notsock = 57,
    /// Not supported, or operation not supported on socket.
    Notsup = 58,
    /// Inappropriate I/O control operation.
    Notty = 59,
    /// No such device or address.
    Nxio = 60,
    /// Value too large to be stored in data type.
    Overflow = 61,
    /// Previous owner died.
    Ownerdead = 62,
    /// Operation not permitted.
    Perm = 63,
    /// Broken pipe.
    Pipe = 64,
    /// Protocol error.
    Proto = 65,
    /// Protocol not supported.
    Protonosupport = 66,
    /// Protocol wrong type for socket.
    Prototype = 67,
    /// Result too large.
    Range = 68,
    /// Read-only file system.
    Rofs = 69,
    /// Invalid seek.
    Spipe = 70,
    /// No such process.
    Srch = 71,
    /// Reserved.
    Stale = 72,
    /// Connection timed out.
    Timedout = 73,
    /// Text file busy.
    Txtbsy = 74,
    /// Cross-device link.
    Xdev = 75,
    /// Capabilities insufficient: what preview1 returns when a call needs a right the
    /// descriptor lacks or a path would leave its preopened directory.
    Notcapable = 76,
}

/// `name` in ASCII lower case, at compile time.
const fn ascii_lowercase<const N: usize>(name: &str) -> [u8; N] {
    let bytes = name.as_bytes();
    let mut lower = [0u8; N];
    let mut index = 0;
    while index < N {
        lower[index] = bytes[index].to_ascii_lowercase();
        index += 1;
    }
    lower
}

impl Errno {
    /// The name preview1 gives the error (`"badf"`, `"noent"`, `"2big"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            // Not an identifier, so the variant is spelled differently.
            Errno::TooBig => "2big",
            other => other.lowercase_name(),
        }
    }

    /// The number the guest receives.
    pub fn raw(self) -> u16 {
        self as u16
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "errno {} ({})", self.raw(), self.name())
    }
}

impl std::error::Error for Errno {}

/// What a preview1 function returns on failure.
pub type Result<T, E = Errno> = std::result::Result<T, E>;

/// `filetype`.
pub mod filetype {
    pub const UNKNOWN: u8 = 0;
    pub const BLOCK_DEVICE: u8 = 1;
    pub const CHARACTER_DEVICE: u8 = 2;
    pub const DIRECTORY: u8 = 3;
    pub const REGULAR_FILE: u8 = 4;
    pub const SOCKET_STREAM: u8 = 6;
    pub const SYMBOLIC_LINK: u8 = 7;
}

/// `fdflags`.
pub mod fdflags {
    pub const APPEND: u16 = 1 << 0;
    pub const DSYNC: u16 = 1 << 1;
    pub const NONBLOCK: u16 = 1 << 2;
    pub const RSYNC: u16 = 1 << 3;
    pub const SYNC: u16 = 1 << 4;
    pub const ALL: u16 = APPEND | DSYNC | NONBLOCK | RSYNC | SYNC;
}

/// `oflags`.
pub mod oflags {
    pub const CREAT: u16 = 1 << 0;
    pub const DIRECTORY: u16 = 1 << 1;
    pub const EXCL: u16 = 1 << 2;
    pub const TRUNC: u16 = 1 << 3;
    pub const ALL: u16 = CREAT | DIRECTORY | EXCL | TRUNC;
}

/// `lookupflags`.
pub mod lookupflags {
    pub const SYMLINK_FOLLOW: u32 = 1 << 0;
    pub const ALL: u32 = SYMLINK_FOLLOW;
}

/// `fstflags`.
pub mod fstflags {
    pub const ATIM: u16 = 1 << 0;
    pub const ATIM_NOW: u16 = 1 << 1;
    pub const MTIM: u16 = 1 << 2;
    pub const MTIM_NOW: u16 = 1 << 3;
    pub const ALL: u16 = ATIM | ATIM_NOW | MTIM | MTIM_NOW;
}

/// `whence`.
pub mod whence {
    pub const SET: u8 = 0;
    pub const CUR: u8 = 1;
    pub const END: u8 = 2;
}

/// `advice`: the largest valid value (they are 0 to 5: normal, sequential, random, willneed,
/// dontneed, noreuse).
pub mod advice {
    pub const NORMAL: u8 = 0;
    pub const SEQUENTIAL: u8 = 1;
    pub const RANDOM: u8 = 2;
    pub const WILLNEED: u8 = 3;
    pub const DONTNEED: u8 = 4;
    pub const NOREUSE: u8 = 5;
}

/// `clockid`.
pub mod clockid {
    pub const REALTIME: u32 = 0;
    pub const MONOTONIC: u32 = 1;
    pub const PROCESS_CPUTIME_ID: u32 = 2;
    pub const THREAD_CPUTIME_ID: u32 = 3;
}

/// `eventtype`, the tag of a subscription and of an event.
pub mod eventtype {
    pub const CLOCK: u8 = 0;
    pub const FD_READ: u8 = 1;
    pub const FD_WRITE: u8 = 2;
}

/// `eventrwflags`.
pub mod eventrwflags {
    pub const FD_READWRITE_HANGUP: u16 = 1 << 0;
}

/// `subclockflags`.
pub mod subclockflags {
    pub const SUBSCRIPTION_CLOCK_ABSTIME: u16 = 1 << 0;
    pub const ALL: u16 = SUBSCRIPTION_CLOCK_ABSTIME;
}

/// `riflags`, `roflags`, `sdflags` (sockets).
pub mod sockflags {
    pub const RECV_PEEK: u16 = 1 << 0;
    pub const RECV_WAITALL: u16 = 1 << 1;
    pub const RI_ALL: u16 = RECV_PEEK | RECV_WAITALL;
    pub const SHUT_RD: u8 = 1 << 0;
    pub const SHUT_WR: u8 = 1 << 1;
    pub const SD_ALL: u8 = SHUT_RD | SHUT_WR;
}

/// `rights`, and the sets Kestrel grants each kind of descriptor.
pub mod rights {
    pub const FD_DATASYNC: u64 = 1 << 0;
    pub const FD_READ: u64 = 1 << 1;
    pub const FD_SEEK: u64 = 1 << 2;
    pub const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
    pub const FD_SYNC: u64 = 1 << 4;
    pub const FD_TELL: u64 = 1 << 5;
    pub const FD_WRITE: u64 = 1 << 6;
    pub const FD_ADVISE: u64 = 1 << 7;
    pub const FD_ALLOCATE: u64 = 1 << 8;
    pub const PATH_CREATE_DIRECTORY: u64 = 1 << 9;
    pub const PATH_CREATE_FILE: u64 = 1 << 10;
    pub const PATH_LINK_SOURCE: u64 = 1 << 11;
    pub const PATH_LINK_TARGET: u64 = 1 << 12;
    pub const PATH_OPEN: u64 = 1 << 13;
    pub const FD_READDIR: u64 = 1 << 14;
    pub const PATH_READLINK: u64 = 1 << 15;
    pub const PATH_RENAME_SOURCE: u64 = 1 << 16;
    pub const PATH_RENAME_TARGET: u64 = 1 << 17;
    pub const PATH_FILESTAT_GET: u64 = 1 << 18;
    pub const PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
    pub const PATH_FILESTAT_SET_TIMES: u64 = 1 << 20;
    pub const FD_FILESTAT_GET: u64 = 1 << 21;
    pub const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    pub const FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
    pub const PATH_SYMLINK: u64 = 1 << 24;
    pub const PATH_REMOVE_DIRECTORY: u64 = 1 << 25;
    pub const PATH_UNLINK_FILE: u64 = 1 << 26;
    pub const POLL_FD_READWRITE: u64 = 1 << 27;
    pub const SOCK_SHUTDOWN: u64 = 1 << 28;
    pub const SOCK_ACCEPT: u64 = 1 << 29;

    /// Every right a regular file can use.
    pub const FILE: u64 = FD_DATASYNC
        | FD_READ
        | FD_SEEK
        | FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_TELL
        | FD_WRITE
        | FD_ADVISE
        | FD_ALLOCATE
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_SIZE
        | FD_FILESTAT_SET_TIMES
        | POLL_FD_READWRITE;

    /// Every right a directory can use. Reading, writing and seeking are not among them,
    /// so those calls fail on a directory with `notcapable` before reaching the host.
    pub const DIRECTORY: u64 = FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_DATASYNC
        | PATH_CREATE_DIRECTORY
        | PATH_CREATE_FILE
        | PATH_LINK_SOURCE
        | PATH_LINK_TARGET
        | PATH_OPEN
        | FD_READDIR
        | PATH_READLINK
        | PATH_RENAME_SOURCE
        | PATH_RENAME_TARGET
        | PATH_FILESTAT_GET
        | PATH_FILESTAT_SET_SIZE
        | PATH_FILESTAT_SET_TIMES
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_TIMES
        | PATH_SYMLINK
        | PATH_REMOVE_DIRECTORY
        | PATH_UNLINK_FILE;

    /// Standard input. No seek or tell: wasi-libc's `isatty` looks for exactly that.
    pub const STDIN: u64 = FD_READ | FD_FDSTAT_SET_FLAGS | FD_FILESTAT_GET | POLL_FD_READWRITE;

    /// Standard output and error.
    pub const STDOUT: u64 = FD_WRITE
        | FD_FDSTAT_SET_FLAGS
        | FD_FILESTAT_GET
        | POLL_FD_READWRITE
        | FD_DATASYNC
        | FD_SYNC;

    /// A listening socket.
    pub const LISTENER: u64 =
        SOCK_ACCEPT | FD_FDSTAT_SET_FLAGS | FD_FILESTAT_GET | POLL_FD_READWRITE | SOCK_SHUTDOWN;

    /// A connected socket.
    pub const STREAM: u64 = FD_READ
        | FD_WRITE
        | FD_FDSTAT_SET_FLAGS
        | FD_FILESTAT_GET
        | POLL_FD_READWRITE
        | SOCK_SHUTDOWN;
}

/// `signal`: the signals `proc_raise` accepts, and what each does by default.
pub mod signal {
    /// The largest signal number preview1 defines (`sys`).
    pub const MAX: u8 = 30;

    /// The preview1 name of signal `number` (1 to [`MAX`]).
    pub fn name(number: u8) -> &'static str {
        const NAMES: [&str; 31] = [
            "none", "hup", "int", "quit", "ill", "trap", "abrt", "bus", "fpe", "kill", "usr1",
            "segv", "usr2", "pipe", "alrm", "term", "chld", "cont", "stop", "tstp", "ttin", "ttou",
            "urg", "xcpu", "xfsz", "vtalrm", "prof", "winch", "poll", "pwr", "sys",
        ];
        NAMES.get(usize::from(number)).copied().unwrap_or("unknown")
    }

    /// Whether the default action of signal `number` is to do nothing: `none`, `chld`,
    /// `cont`, `urg` and `winch` (POSIX's "ignore" and "continue" defaults; a process that
    /// is not stopped continues by doing nothing).
    pub fn ignored_by_default(number: u8) -> bool {
        matches!(number, 0 | 16 | 17 | 22 | 27)
    }

    /// Whether the default action of signal `number` is to stop the process: `stop`,
    /// `tstp`, `ttin`, `ttou`. A Wasm program cannot be stopped and resumed.
    pub fn stops_by_default(number: u8) -> bool {
        matches!(number, 18..=21)
    }
}

/// Byte sizes, alignments and field offsets of the structures preview1 passes in memory.
pub mod layout {
    /// `iovec` / `ciovec`: `buf: u32`, `buf_len: u32`.
    pub const IOVEC_SIZE: u32 = 8;
    pub const IOVEC_ALIGN: u32 = 4;

    /// `fdstat`: `fs_filetype: u8 @0`, `fs_flags: u16 @2`, `fs_rights_base: u64 @8`,
    /// `fs_rights_inheriting: u64 @16`.
    pub const FDSTAT_SIZE: u32 = 24;
    pub const FDSTAT_ALIGN: u32 = 8;

    /// `filestat`: `dev @0`, `ino @8`, `filetype: u8 @16`, `nlink @24`, `size @32`,
    /// `atim @40`, `mtim @48`, `ctim @56` (all `u64` but the file type).
    pub const FILESTAT_SIZE: u32 = 64;
    pub const FILESTAT_ALIGN: u32 = 8;

    /// `dirent`: `d_next: u64 @0`, `d_ino: u64 @8`, `d_namlen: u32 @16`, `d_type: u8 @20`;
    /// the name follows the 24-byte header.
    pub const DIRENT_SIZE: usize = 24;

    /// `prestat`: `tag: u8 @0`, `pr_name_len: u32 @4`.
    pub const PRESTAT_SIZE: u32 = 8;
    pub const PRESTAT_ALIGN: u32 = 4;

    /// `subscription`: `userdata: u64 @0`, `tag: u8 @8`, then at 16 either a clock
    /// (`id: u32 @16`, `timeout: u64 @24`, `precision: u64 @32`, `flags: u16 @40`) or an
    /// fd (`file_descriptor: u32 @16`).
    pub const SUBSCRIPTION_SIZE: u32 = 48;
    pub const SUBSCRIPTION_ALIGN: u32 = 8;

    /// `event`: `userdata: u64 @0`, `error: u16 @8`, `type: u8 @10`, then
    /// `fd_readwrite` at 16: `nbytes: u64 @16`, `flags: u16 @24`.
    pub const EVENT_SIZE: u32 = 32;
    pub const EVENT_ALIGN: u32 = 8;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_numbers_round_trip() {
        for raw in 1..=76 {
            let errno = Errno::from_raw(raw).expect("preview1 defines errnos 1 to 76");
            assert_eq!(errno.raw(), raw);
        }
        assert_eq!(Errno::from_raw(0), None);
        assert_eq!(Errno::from_raw(77), None);
        assert_eq!(Errno::Notcapable.raw(), 76);
        assert_eq!(Errno::Badf.to_string(), "errno 8 (badf)");
        assert_eq!(Errno::TooBig.to_string(), "errno 1 (2big)");
        assert_eq!(Errno::Notcapable.name(), "notcapable");
    }

    #[test]
    fn right_sets_are_within_all() {
        for set in [
            rights::FILE,
            rights::DIRECTORY,
            rights::STDIN,
            rights::STDOUT,
            rights::LISTENER,
            rights::STREAM,
        ] {
            assert_eq!(set & !((rights::SOCK_ACCEPT << 1) - 1), 0);
        }
    }

    #[test]
    fn signal_names() {
        assert_eq!(signal::name(6), "abrt");
        assert_eq!(signal::name(signal::MAX), "sys");
        assert!(signal::ignored_by_default(27));
        assert!(!signal::ignored_by_default(15));
    }
}
