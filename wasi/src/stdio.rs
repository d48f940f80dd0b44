//! Standard input, output and error: inherited from the host process, captured in memory,
//! or closed (an empty input, a discarding output), the default.
//!
//! Inherited streams are used unbuffered: what the guest writes reaches the host's stdout
//! before the call returns, so output written before a trap or a `proc_exit` is never lost,
//! and stdout and stderr interleave as the guest wrote them. Inherited stdin is read with
//! `read(2)` on descriptor 0 rather than through `std::io::Stdin`'s buffer, so `poll_oneoff`
//! (which asks the OS whether descriptor 0 is readable) never misses data sitting in a
//! buffer.

use crate::abi::{Errno, Result, filetype};
use std::io::{IsTerminal, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Bytes a guest reads as its standard input (`WasiCtxBuilder::stdin`).
#[derive(Debug, Clone)]
pub struct MemoryInputPipe {
    state: Arc<Mutex<std::io::Cursor<Vec<u8>>>>,
}

impl MemoryInputPipe {
    /// A pipe that yields `bytes`, then end of file.
    pub fn new(bytes: impl Into<Vec<u8>>) -> MemoryInputPipe {
        MemoryInputPipe {
            state: Arc::new(Mutex::new(std::io::Cursor::new(bytes.into()))),
        }
    }

    fn lock(&self) -> MutexGuard<'_, std::io::Cursor<Vec<u8>>> {
        // The data stays consistent even if a reader panicked mid-call.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn remaining(&self) -> u64 {
        let cursor = self.lock();
        (cursor.get_ref().len() as u64).saturating_sub(cursor.position())
    }
}

/// Collects what a guest writes to its standard output or error
/// (`WasiCtxBuilder::stdout`, `stderr`). Clones share the buffer: keep one to read
/// [`contents`](MemoryOutputPipe::contents) after the run.
#[derive(Debug, Clone, Default)]
pub struct MemoryOutputPipe {
    buffer: Arc<Mutex<Vec<u8>>>,
}

impl MemoryOutputPipe {
    /// An empty pipe.
    pub fn new() -> MemoryOutputPipe {
        MemoryOutputPipe::default()
    }

    /// Everything written so far.
    pub fn contents(&self) -> Vec<u8> {
        self.lock().clone()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<u8>> {
        self.buffer.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Where a guest's standard input comes from.
#[derive(Debug, Clone)]
pub(crate) enum Input {
    /// Reads end of file at once.
    Empty,
    /// The host process's standard input.
    Inherit,
    Memory(MemoryInputPipe),
}

/// Where a guest's standard output or error goes.
#[derive(Debug, Clone)]
pub(crate) enum Output {
    /// Discards everything.
    Sink,
    InheritStdout,
    InheritStderr,
    Memory(MemoryOutputPipe),
}

impl Input {
    /// Reads into `buffer`, returning the count (0 at end of input).
    pub(crate) fn read(&self, buffer: &mut [u8]) -> Result<usize> {
        match self {
            Input::Empty => Ok(0),
            Input::Inherit => loop {
                match rustix::io::read(std::io::stdin().as_fd(), &mut *buffer) {
                    Ok(count) => return Ok(count),
                    Err(rustix::io::Errno::INTR) => continue,
                    Err(error) => return Err(error.into()),
                }
            },
            Input::Memory(pipe) => Ok(pipe.lock().read(buffer).unwrap_or(0)),
        }
    }

    /// The host descriptor to poll, for an inherited stream.
    pub(crate) fn host_fd(&self) -> Option<BorrowedFd<'static>> {
        match self {
            Input::Inherit => Some(rustix::stdio::stdin()),
            Input::Empty | Input::Memory(_) => None,
        }
    }

    /// Bytes known to be available without blocking, for an in-memory stream.
    pub(crate) fn available(&self) -> u64 {
        match self {
            Input::Memory(pipe) => pipe.remaining(),
            Input::Empty | Input::Inherit => 0,
        }
    }

    pub(crate) fn filetype(&self) -> u8 {
        match self {
            Input::Inherit if std::io::stdin().is_terminal() => filetype::CHARACTER_DEVICE,
            _ => filetype::UNKNOWN,
        }
    }
}

impl Output {
    /// Writes all of `buffers` (unbuffered for inherited streams), returning the count.
    pub(crate) fn write(&self, buffers: &[&[u8]]) -> Result<usize> {
        let total = buffers.iter().map(|buffer| buffer.len()).sum();
        match self {
            Output::Sink => {}
            Output::InheritStdout => write_all(&mut std::io::stdout().lock(), buffers)?,
            Output::InheritStderr => write_all(&mut std::io::stderr().lock(), buffers)?,
            Output::Memory(pipe) => {
                let mut buffer = pipe.lock();
                for bytes in buffers {
                    buffer.extend_from_slice(bytes);
                }
            }
        }
        Ok(total)
    }

    /// The host descriptor behind an inherited stream.
    pub(crate) fn host_fd(&self) -> Option<BorrowedFd<'static>> {
        match self {
            Output::InheritStdout => Some(rustix::stdio::stdout()),
            Output::InheritStderr => Some(rustix::stdio::stderr()),
            Output::Sink | Output::Memory(_) => None,
        }
    }

    pub(crate) fn filetype(&self) -> u8 {
        let terminal = match self {
            Output::InheritStdout => std::io::stdout().is_terminal(),
            Output::InheritStderr => std::io::stderr().is_terminal(),
            Output::Sink | Output::Memory(_) => false,
        };
        if terminal {
            filetype::CHARACTER_DEVICE
        } else {
            filetype::UNKNOWN
        }
    }
}

fn write_all(out: &mut impl Write, buffers: &[&[u8]]) -> Result<()> {
    for bytes in buffers {
        out.write_all(bytes).map_err(Errno::from)?;
    }
    // `Stdout` is line-buffered: flush so nothing waits for a newline that may never come.
    out.flush().map_err(Errno::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_pipes() {
        let input = Input::Memory(MemoryInputPipe::new("abc"));
        let mut buffer = [0u8; 2];
        assert_eq!(input.available(), 3);
        assert_eq!(input.read(&mut buffer), Ok(2));
        assert_eq!(&buffer, b"ab");
        assert_eq!(input.read(&mut buffer), Ok(1));
        assert_eq!(input.read(&mut buffer), Ok(0));

        let pipe = MemoryOutputPipe::new();
        let output = Output::Memory(pipe.clone());
        assert_eq!(output.write(&[b"he", b"llo"]), Ok(5));
        assert_eq!(pipe.contents(), b"hello");
        assert_eq!(Output::Sink.write(&[b"gone"]), Ok(4));
    }
}
