//! How host failures become preview1 error numbers, and the errors that end a program
//! ([`I32Exit`], [`Raised`]).
//!
//! Host errors arrive as `std::io::Error`s. Those the OS made carry its error number, which
//! maps one to one onto preview1's (preview1 copied POSIX's list). Those cap-std made itself
//! carry none: its sandbox check reports an escape from the preopened directory as
//! `PermissionDenied` without an OS number, and that becomes `notcapable`, the error
//! preview1 reserves for "capabilities insufficient".

use crate::abi::Errno;
use std::fmt;
use std::io;

/// OS error numbers and their preview1 counterparts.
const OS_ERRNOS: &[(rustix::io::Errno, Errno)] = {
    use rustix::io::Errno as Os;
    &[
        (Os::TOOBIG, Errno::TooBig),
        (Os::ACCESS, Errno::Acces),
        (Os::ADDRINUSE, Errno::Addrinuse),
        (Os::ADDRNOTAVAIL, Errno::Addrnotavail),
        (Os::AFNOSUPPORT, Errno::Afnosupport),
        (Os::AGAIN, Errno::Again),
        (Os::ALREADY, Errno::Already),
        (Os::BADF, Errno::Badf),
        (Os::BADMSG, Errno::Badmsg),
        (Os::BUSY, Errno::Busy),
        (Os::CANCELED, Errno::Canceled),
        (Os::CHILD, Errno::Child),
        (Os::CONNABORTED, Errno::Connaborted),
        (Os::CONNREFUSED, Errno::Connrefused),
        (Os::CONNRESET, Errno::Connreset),
        (Os::DEADLK, Errno::Deadlk),
        (Os::DESTADDRREQ, Errno::Destaddrreq),
        (Os::DOM, Errno::Dom),
        (Os::DQUOT, Errno::Dquot),
        (Os::EXIST, Errno::Exist),
        (Os::FAULT, Errno::Fault),
        (Os::FBIG, Errno::Fbig),
        (Os::HOSTUNREACH, Errno::Hostunreach),
        (Os::IDRM, Errno::Idrm),
        (Os::ILSEQ, Errno::Ilseq),
        (Os::INPROGRESS, Errno::Inprogress),
        (Os::INTR, Errno::Intr),
        (Os::INVAL, Errno::Inval),
        (Os::IO, Errno::Io),
        (Os::ISCONN, Errno::Isconn),
        (Os::ISDIR, Errno::Isdir),
        (Os::LOOP, Errno::Loop),
        (Os::MFILE, Errno::Mfile),
        (Os::MLINK, Errno::Mlink),
        (Os::MSGSIZE, Errno::Msgsize),
        (Os::MULTIHOP, Errno::Multihop),
        (Os::NAMETOOLONG, Errno::Nametoolong),
        (Os::NETDOWN, Errno::Netdown),
        (Os::NETRESET, Errno::Netreset),
        (Os::NETUNREACH, Errno::Netunreach),
        (Os::NFILE, Errno::Nfile),
        (Os::NOBUFS, Errno::Nobufs),
        (Os::NODEV, Errno::Nodev),
        (Os::NOENT, Errno::Noent),
        (Os::NOEXEC, Errno::Noexec),
        (Os::NOLCK, Errno::Nolck),
        (Os::NOLINK, Errno::Nolink),
        (Os::NOMEM, Errno::Nomem),
        (Os::NOMSG, Errno::Nomsg),
        (Os::NOPROTOOPT, Errno::Noprotoopt),
        (Os::NOSPC, Errno::Nospc),
        (Os::NOSYS, Errno::Nosys),
        (Os::NOTCONN, Errno::Notconn),
        (Os::NOTDIR, Errno::Notdir),
        (Os::NOTEMPTY, Errno::Notempty),
        (Os::NOTRECOVERABLE, Errno::Notrecoverable),
        (Os::NOTSOCK, Errno::Notsock),
        (Os::NOTSUP, Errno::Notsup),
        (Os::OPNOTSUPP, Errno::Notsup),
        (Os::NOTTY, Errno::Notty),
        (Os::NXIO, Errno::Nxio),
        (Os::OVERFLOW, Errno::Overflow),
        (Os::OWNERDEAD, Errno::Ownerdead),
        (Os::PERM, Errno::Perm),
        (Os::PIPE, Errno::Pipe),
        (Os::PROTO, Errno::Proto),
        (Os::PROTONOSUPPORT, Errno::Protonosupport),
        (Os::PROTOTYPE, Errno::Prototype),
        (Os::RANGE, Errno::Range),
        (Os::ROFS, Errno::Rofs),
        (Os::SPIPE, Errno::Spipe),
        (Os::SRCH, Errno::Srch),
        (Os::STALE, Errno::Stale),
        (Os::TIMEDOUT, Errno::Timedout),
        (Os::TXTBSY, Errno::Txtbsy),
        (Os::XDEV, Errno::Xdev),
    ]
};

impl From<rustix::io::Errno> for Errno {
    fn from(os: rustix::io::Errno) -> Errno {
        OS_ERRNOS
            .iter()
            .find(|(candidate, _)| *candidate == os)
            .map_or(Errno::Io, |(_, errno)| *errno)
    }
}

impl From<io::Error> for Errno {
    fn from(error: io::Error) -> Errno {
        Errno::from(&error)
    }
}

impl From<&io::Error> for Errno {
    fn from(error: &io::Error) -> Errno {
        if let Some(raw) = error.raw_os_error() {
            return Errno::from(rustix::io::Errno::from_raw_os_error(raw));
        }
        match error.kind() {
            // Every OS error has a number; a permission error without one is cap-std
            // refusing a path that leads out of the sandbox (an absolute path, `..` above
            // the preopen, or a symlink pointing outside).
            io::ErrorKind::PermissionDenied => Errno::Notcapable,
            io::ErrorKind::NotFound => Errno::Noent,
            io::ErrorKind::AlreadyExists => Errno::Exist,
            io::ErrorKind::InvalidInput => Errno::Inval,
            io::ErrorKind::InvalidFilename => Errno::Inval,
            io::ErrorKind::Unsupported => Errno::Notsup,
            io::ErrorKind::NotADirectory => Errno::Notdir,
            io::ErrorKind::IsADirectory => Errno::Isdir,
            io::ErrorKind::DirectoryNotEmpty => Errno::Notempty,
            io::ErrorKind::Interrupted => Errno::Intr,
            io::ErrorKind::WouldBlock => Errno::Again,
            io::ErrorKind::BrokenPipe => Errno::Pipe,
            io::ErrorKind::TimedOut => Errno::Timedout,
            io::ErrorKind::OutOfMemory => Errno::Nomem,
            io::ErrorKind::InvalidData => Errno::Ilseq,
            _ => Errno::Io,
        }
    }
}

/// The program called `proc_exit` with this status: the error a call into a WASI program
/// returns when it exits (get it back with `Error::downcast_ref::<I32Exit>()`). Named and
/// shaped like Wasmtime's.
///
/// Statuses are below 126: as in Wasmtime, `proc_exit` with a larger one fails the call
/// with an error instead (126 and up mean "could not run" and "killed by a signal" to a
/// POSIX shell).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct I32Exit(pub i32);

impl fmt::Display for I32Exit {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "Exited with i32 exit status {}", self.0)
    }
}

impl std::error::Error for I32Exit {}

/// The program called `proc_raise` with a signal whose default action terminates the
/// process (`term`, `abrt`, `kill`, ...): the call fails with this error, as a native
/// process would die. A command-line runner exits with status 128 + the signal number, as a
/// POSIX shell reports a process killed by that signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Raised(pub u8);

impl Raised {
    /// The signal's preview1 name (`"abrt"`, `"term"`, ...).
    pub fn name(&self) -> &'static str {
        crate::abi::signal::name(self.0)
    }
}

impl fmt::Display for Raised {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "the program raised signal {} (SIG{})",
            self.0,
            self.name().to_ascii_uppercase()
        )
    }
}

impl std::error::Error for Raised {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_errors_keep_their_meaning() {
        let error = io::Error::from_raw_os_error(rustix::io::Errno::NOENT.raw_os_error());
        assert_eq!(Errno::from(error), Errno::Noent);
        let error = io::Error::from_raw_os_error(rustix::io::Errno::ACCESS.raw_os_error());
        assert_eq!(Errno::from(error), Errno::Acces);
        let error = io::Error::from_raw_os_error(rustix::io::Errno::NOTEMPTY.raw_os_error());
        assert_eq!(Errno::from(error), Errno::Notempty);
    }

    #[test]
    fn sandbox_refusals_are_notcapable() {
        let error = io::Error::new(
            io::ErrorKind::PermissionDenied,
            "a path led outside of the filesystem",
        );
        assert_eq!(Errno::from(error), Errno::Notcapable);
    }

    #[test]
    fn exit_messages() {
        assert_eq!(I32Exit(3).to_string(), "Exited with i32 exit status 3");
        assert_eq!(
            Raised(6).to_string(),
            "the program raised signal 6 (SIGABRT)"
        );
    }
}
