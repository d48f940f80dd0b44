//! `poll_oneoff`: waits until a clock subscription expires or a descriptor is ready.
//!
//! Regular files and in-memory streams are always ready (reading a file never blocks), as
//! are standard output and error. The host descriptors that can block (inherited stdin,
//! sockets) are polled with `poll(2)`, with the earliest clock deadline as the timeout;
//! with nothing to poll, the call sleeps until that deadline. Every subscription that is
//! ready when the wait ends produces an event.

use super::clock_now;
use crate::WasiCtx;
use crate::abi::{Errno, Result, eventrwflags, eventtype, layout, subclockflags};
use crate::memory::GuestMemory;
use crate::table::Kind;
use rustix::event::{PollFd, PollFlags};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

struct Event {
    userdata: u64,
    error: u16,
    kind: u8,
    nbytes: u64,
    flags: u16,
}

enum Subscription {
    /// A clock that fires at `deadline`.
    Clock { userdata: u64, deadline: Instant },
    /// A descriptor the host must poll.
    Host {
        userdata: u64,
        kind: u8,
        fd: u32,
        read: bool,
    },
}

impl WasiCtx {
    pub(super) fn poll_oneoff(
        &mut self,
        memory: &mut GuestMemory<'_>,
        subscriptions: u32,
        events: u32,
        count: u32,
        nevents: u32,
    ) -> Result<()> {
        if count == 0 {
            // Waiting for nothing would never return.
            return Err(Errno::Inval);
        }
        let in_size = count
            .checked_mul(layout::SUBSCRIPTION_SIZE)
            .ok_or(Errno::Fault)?;
        let out_size = count.checked_mul(layout::EVENT_SIZE).ok_or(Errno::Fault)?;
        memory.check(subscriptions, in_size, layout::SUBSCRIPTION_ALIGN)?;
        memory.check(events, out_size, layout::EVENT_ALIGN)?;
        memory.check(nevents, 4, 4)?;

        let start = Instant::now();
        let mut ready: Vec<Event> = Vec::new();
        let mut waiting: Vec<Subscription> = Vec::new();
        for index in 0..count {
            let pointer = subscriptions + index * layout::SUBSCRIPTION_SIZE;
            let userdata = memory.read_u64(pointer)?;
            let tag = memory.read_u8(pointer + 8)?;
            match tag {
                eventtype::CLOCK => {
                    let id = memory.read_u32(pointer + 16)?;
                    let timeout = memory.read_u64(pointer + 24)?;
                    let flags = memory.read_u16(pointer + 40)?;
                    match clock_deadline(start, id, timeout, flags) {
                        Ok(deadline) => waiting.push(Subscription::Clock { userdata, deadline }),
                        Err(errno) => ready.push(Event::error(userdata, tag, errno)),
                    }
                }
                eventtype::FD_READ | eventtype::FD_WRITE => {
                    let fd = memory.read_u32(pointer + 16)?;
                    let read = tag == eventtype::FD_READ;
                    match self.fd_readiness(fd, read) {
                        Ok(Readiness::Ready(nbytes)) => ready.push(Event {
                            userdata,
                            error: 0,
                            kind: tag,
                            nbytes,
                            flags: 0,
                        }),
                        Ok(Readiness::Poll) => waiting.push(Subscription::Host {
                            userdata,
                            kind: tag,
                            fd,
                            read,
                        }),
                        Err(errno) => ready.push(Event::error(userdata, tag, errno)),
                    }
                }
                _ => return Err(Errno::Inval),
            }
        }

        self.wait(&mut ready, &waiting)?;
        // One event per subscription at most; never write past the guest's array.
        ready.truncate(count as usize);

        for (index, event) in ready.iter().enumerate() {
            let pointer = events + index as u32 * layout::EVENT_SIZE;
            memory.bytes_mut(pointer, layout::EVENT_SIZE)?.fill(0);
            memory.write_u64(pointer, event.userdata)?;
            memory.write_u16(pointer + 8, event.error)?;
            memory.write_u8(pointer + 10, event.kind)?;
            memory.write_u64(pointer + 16, event.nbytes)?;
            memory.write_u16(pointer + 24, event.flags)?;
        }
        memory.write_u32(nevents, ready.len() as u32)
    }

    /// Whether descriptor `fd` is ready for reading (`read`) or writing now, or must be
    /// polled.
    fn fd_readiness(&self, fd: u32, read: bool) -> Result<Readiness> {
        let entry = self.table.get(fd)?;
        let host_polled = match &entry.kind {
            Kind::File(file) if read => {
                let size = file.metadata().map_err(Errno::from)?.len();
                let mut handle: &std::fs::File = file;
                let position = std::io::Seek::stream_position(&mut handle).unwrap_or(size);
                return Ok(Readiness::Ready(size.saturating_sub(position)));
            }
            Kind::File(_) => return Ok(Readiness::Ready(0)),
            Kind::Stdin(input) if read => match input.host_fd() {
                Some(_) => true,
                None => return Ok(Readiness::Ready(input.available())),
            },
            Kind::Output(_) if !read => return Ok(Readiness::Ready(0)),
            Kind::Listener(_) | Kind::Stream(_) => true,
            Kind::Stdin(_) | Kind::Output(_) | Kind::Dir(_) => false,
        };
        if host_polled {
            Ok(Readiness::Poll)
        } else {
            Err(Errno::Badf)
        }
    }

    /// The host descriptor behind a polled subscription.
    fn host_fd(&self, fd: u32) -> Result<BorrowedFd<'_>> {
        match &self.table.get(fd)?.kind {
            Kind::Stdin(input) => input.host_fd().ok_or(Errno::Badf),
            Kind::Listener(listener) => Ok(listener.as_fd()),
            Kind::Stream(stream) => Ok(stream.as_fd()),
            _ => Err(Errno::Badf),
        }
    }

    /// Waits until something in `waiting` is ready (at once when `ready` has events), and
    /// adds the events of everything ready then.
    fn wait(&self, ready: &mut Vec<Event>, waiting: &[Subscription]) -> Result<()> {
        let host: Vec<(&Subscription, BorrowedFd<'_>)> = waiting
            .iter()
            .filter_map(|subscription| match subscription {
                Subscription::Host { fd, .. } => {
                    self.host_fd(*fd).ok().map(|host| (subscription, host))
                }
                Subscription::Clock { .. } => None,
            })
            .collect();
        let earliest = waiting
            .iter()
            .filter_map(|subscription| match subscription {
                Subscription::Clock { deadline, .. } => Some(*deadline),
                Subscription::Host { .. } => None,
            })
            .min();
        if ready.is_empty() && host.is_empty() && earliest.is_none() {
            // Only descriptors that vanished: nothing could ever become ready.
            return Err(Errno::Badf);
        }
        loop {
            let timeout = if ready.is_empty() {
                earliest.map(|deadline| deadline.saturating_duration_since(Instant::now()))
            } else {
                Some(Duration::ZERO)
            };
            let mut found = false;
            if host.is_empty() {
                if let Some(timeout) = timeout {
                    std::thread::sleep(timeout);
                }
            } else {
                let mut fds: Vec<PollFd<'_>> = host
                    .iter()
                    .map(|(subscription, fd)| {
                        let read = matches!(subscription, Subscription::Host { read: true, .. });
                        let flags = if read { PollFlags::IN } else { PollFlags::OUT };
                        PollFd::new(fd, flags)
                    })
                    .collect();
                let timespec = timeout.map(|timeout| rustix::time::Timespec {
                    tv_sec: timeout.as_secs() as i64,
                    tv_nsec: timeout.subsec_nanos().into(),
                });
                match rustix::event::poll(&mut fds, timespec.as_ref()) {
                    Ok(_) => {}
                    Err(rustix::io::Errno::INTR) => continue,
                    Err(error) => return Err(error.into()),
                }
                for ((subscription, _), polled) in host.iter().zip(&fds) {
                    let revents = polled.revents();
                    if revents.is_empty() {
                        continue;
                    }
                    let Subscription::Host { userdata, kind, .. } = subscription else {
                        continue;
                    };
                    found = true;
                    let mut event = Event {
                        userdata: *userdata,
                        error: 0,
                        kind: *kind,
                        nbytes: 0,
                        flags: 0,
                    };
                    if revents.contains(PollFlags::HUP) {
                        event.flags = eventrwflags::FD_READWRITE_HANGUP;
                    } else if revents.intersects(PollFlags::ERR | PollFlags::NVAL) {
                        event.error = Errno::Io.raw();
                    }
                    ready.push(event);
                }
            }
            let now = Instant::now();
            for subscription in waiting {
                if let Subscription::Clock { userdata, deadline } = subscription
                    && *deadline <= now
                {
                    found = true;
                    ready.push(Event {
                        userdata: *userdata,
                        error: 0,
                        kind: eventtype::CLOCK,
                        nbytes: 0,
                        flags: 0,
                    });
                }
            }
            if found || !ready.is_empty() {
                return Ok(());
            }
        }
    }
}

enum Readiness {
    /// Ready now, with this many bytes known to be readable.
    Ready(u64),
    /// Ask the host.
    Poll,
}

impl Event {
    fn error(userdata: u64, kind: u8, errno: Errno) -> Event {
        Event {
            userdata,
            error: errno.raw(),
            kind,
            nbytes: 0,
            flags: 0,
        }
    }
}

/// When a clock subscription fires. A relative timeout counts from the start of the call;
/// an absolute one (`subscription_clock_abstime`) is a time of clock `id`, converted to a
/// monotonic deadline. Only the real-time and monotonic clocks can be waited on.
fn clock_deadline(start: Instant, id: u32, timeout: u64, flags: u16) -> Result<Instant> {
    if flags & !subclockflags::ALL != 0 {
        return Err(Errno::Inval);
    }
    if id != crate::abi::clockid::REALTIME && id != crate::abi::clockid::MONOTONIC {
        return Err(Errno::Notsup);
    }
    let delay = if flags & subclockflags::SUBSCRIPTION_CLOCK_ABSTIME != 0 {
        timeout.saturating_sub(clock_now(id)?)
    } else {
        timeout
    };
    // Over a century is as good as never, and keeps the addition in `Instant`'s range.
    let delay = Duration::from_nanos(delay).min(Duration::from_secs(u64::from(u32::MAX)));
    Ok(start.checked_add(delay).unwrap_or(start))
}
