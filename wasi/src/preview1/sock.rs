//! The `sock_*` functions, on the TCP sockets the embedder preopened
//! (`WasiCtxBuilder::preopened_socket`) and the connections accepted on them. Preview1 has
//! no way to create, bind or connect a socket, so any other descriptor is `notsock`.

use crate::WasiCtx;
use crate::abi::{Errno, Result, fdflags, rights, sockflags};
use crate::memory::GuestMemory;
use crate::table::{Entry, Kind};
use std::io::{IoSlice, Write};
use std::net::Shutdown;

impl WasiCtx {
    pub(super) fn sock_accept(
        &mut self,
        memory: &mut GuestMemory<'_>,
        fd: u32,
        flags: u32,
        accepted: u32,
    ) -> Result<()> {
        memory.check(accepted, 4, 4)?;
        let entry = self.table.get(fd)?;
        let Kind::Listener(listener) = &entry.kind else {
            return Err(socket_kind_error(&entry.kind));
        };
        entry.require(rights::SOCK_ACCEPT)?;
        // Only `nonblock` makes sense for a new connection.
        let flags = u16::try_from(flags).map_err(|_| Errno::Inval)?;
        if flags & !fdflags::NONBLOCK != 0 {
            return Err(Errno::Inval);
        }
        let inheriting = entry.inheriting;
        let (stream, _) = loop {
            match listener.accept() {
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                other => break other.map_err(Errno::from)?,
            }
        };
        stream
            .set_nonblocking(flags & fdflags::NONBLOCK != 0)
            .map_err(Errno::from)?;
        let new_fd = self.table.push(Entry {
            kind: Kind::Stream(stream),
            base: rights::STREAM & (inheriting | rights::STREAM),
            inheriting: 0,
            flags,
        })?;
        memory.write_u32(accepted, new_fd)
    }

    #[expect(clippy::too_many_arguments, reason = "preview1's signature")]
    pub(super) fn sock_recv(
        &mut self,
        memory: &mut GuestMemory<'_>,
        fd: u32,
        ri_data: u32,
        ri_data_len: u32,
        ri_flags: u32,
        ro_datalen: u32,
        ro_flags: u32,
    ) -> Result<()> {
        memory.check(ro_datalen, 4, 4)?;
        memory.check(ro_flags, 2, 2)?;
        let iovecs = memory.iovecs(ri_data, ri_data_len)?;
        let stream = self.stream(fd, rights::FD_READ)?;
        let flags = u16::try_from(ri_flags).map_err(|_| Errno::Inval)?;
        if flags & !sockflags::RI_ALL != 0 {
            return Err(Errno::Inval);
        }
        let mut host_flags = rustix::net::RecvFlags::empty();
        if flags & sockflags::RECV_PEEK != 0 {
            host_flags |= rustix::net::RecvFlags::PEEK;
        }
        if flags & sockflags::RECV_WAITALL != 0 {
            host_flags |= rustix::net::RecvFlags::WAITALL;
        }
        // One buffer per call, like `fd_read` on a stream.
        let received = match iovecs.iter().find(|iovec| iovec.len() > 0) {
            Some(iovec) => {
                let buffer = memory.slice_mut(iovec.range.clone());
                loop {
                    match rustix::net::recv(stream, &mut *buffer, host_flags) {
                        Ok((_, count)) => break count.min(iovec.len()),
                        Err(rustix::io::Errno::INTR) => continue,
                        Err(error) => return Err(error.into()),
                    }
                }
            }
            None => 0,
        };
        memory.write_u32(ro_datalen, received as u32)?;
        memory.write_u16(ro_flags, 0)
    }

    pub(super) fn sock_send(
        &mut self,
        memory: &mut GuestMemory<'_>,
        fd: u32,
        si_data: u32,
        si_data_len: u32,
        si_flags: u32,
        so_datalen: u32,
    ) -> Result<()> {
        memory.check(so_datalen, 4, 4)?;
        let iovecs = memory.iovecs(si_data, si_data_len)?;
        let stream = self.stream(fd, rights::FD_WRITE)?;
        // Preview1 defines no send flags.
        if si_flags != 0 {
            return Err(Errno::Inval);
        }
        let slices: Vec<IoSlice<'_>> = iovecs
            .iter()
            .map(|iovec| IoSlice::new(memory.slice(iovec.range.clone())))
            .collect();
        let mut stream: &std::net::TcpStream = stream;
        let sent = loop {
            match stream.write_vectored(&slices) {
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                other => break other.map_err(Errno::from)?,
            }
        };
        memory.write_u32(so_datalen, sent as u32)
    }

    pub(super) fn sock_shutdown(
        &mut self,
        _memory: &mut GuestMemory<'_>,
        fd: u32,
        how: u32,
    ) -> Result<()> {
        let entry = self.table.get(fd)?;
        let how = match u8::try_from(how).map_err(|_| Errno::Inval)? {
            sockflags::SHUT_RD => Shutdown::Read,
            sockflags::SHUT_WR => Shutdown::Write,
            sockflags::SD_ALL => Shutdown::Both,
            _ => return Err(Errno::Inval),
        };
        match &entry.kind {
            Kind::Stream(stream) => {
                entry.require(rights::SOCK_SHUTDOWN)?;
                stream.shutdown(how).map_err(Errno::from)
            }
            // A listening socket has no connection to shut down.
            Kind::Listener(_) => Err(Errno::Notconn),
            other => Err(socket_kind_error(other)),
        }
    }

    /// The connected socket `fd`, after checking the rights in `needed`.
    fn stream(&self, fd: u32, needed: u64) -> Result<&std::net::TcpStream> {
        let entry = self.table.get(fd)?;
        match &entry.kind {
            Kind::Stream(stream) => {
                entry.require(needed)?;
                Ok(stream)
            }
            Kind::Listener(_) => Err(Errno::Notconn),
            other => Err(socket_kind_error(other)),
        }
    }
}

/// The error for a socket call on a descriptor that is not the right kind of socket.
fn socket_kind_error(kind: &Kind) -> Errno {
    match kind {
        Kind::Listener(_) | Kind::Stream(_) => Errno::Inval,
        _ => Errno::Notsock,
    }
}
