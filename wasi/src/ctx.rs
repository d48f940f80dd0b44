//! [`WasiCtx`], the state one WASI program sees (arguments, environment, descriptors), and
//! [`WasiCtxBuilder`], which makes it.
//!
//! The guest sees the host only through what the builder grants: the directories given to
//! [`preopened_dir`](WasiCtxBuilder::preopened_dir), the sockets given to
//! [`preopened_socket`](WasiCtxBuilder::preopened_socket), the stdio streams chosen, and the
//! arguments and variables set. Nothing is inherited by default: a fresh builder gives an
//! empty environment, no arguments, no directories, an empty stdin and discarding
//! stdout/stderr (as Wasmtime's builder does).

use crate::abi::{fdflags, rights};
use crate::stdio::{Input, MemoryInputPipe, MemoryOutputPipe, Output};
use crate::table::{Dir, Entry, Kind, Table};
use std::io;
use std::net::TcpListener;
use std::path::Path;

/// What a WASI program sees of the host. Put one in the store's data and hand
/// [`add_to_linker`](crate::add_to_linker) a way to reach it.
pub struct WasiCtx {
    pub(crate) args: Vec<Vec<u8>>,
    pub(crate) env: Vec<Vec<u8>>,
    pub(crate) table: Table,
}

impl std::fmt::Debug for WasiCtx {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("WasiCtx")
            .field("args", &self.args.len())
            .field("env", &self.env.len())
            .finish_non_exhaustive()
    }
}

impl WasiCtx {
    /// A builder with nothing granted.
    pub fn builder() -> WasiCtxBuilder {
        WasiCtxBuilder::new()
    }
}

/// Builds a [`WasiCtx`].
///
/// ```
/// use kestrel_wasi::{MemoryOutputPipe, WasiCtxBuilder};
///
/// let stdout = MemoryOutputPipe::new();
/// let ctx = WasiCtxBuilder::new()
///     .arg("program.wasm")
///     .arg("--verbose")
///     .env("LANG", "C")
///     .stdout(stdout.clone())
///     .inherit_stderr()
///     .build();
/// # drop(ctx);
/// ```
#[derive(Debug)]
pub struct WasiCtxBuilder {
    args: Vec<String>,
    env: Vec<(String, String)>,
    stdin: Input,
    stdout: Output,
    stderr: Output,
    preopens: Vec<Preopen>,
}

#[derive(Debug)]
enum Preopen {
    Dir(cap_std::fs::Dir, String),
    Socket(TcpListener),
}

impl Default for WasiCtxBuilder {
    fn default() -> Self {
        WasiCtxBuilder::new()
    }
}

impl WasiCtxBuilder {
    /// Nothing granted: no arguments, no variables, no directories, empty stdin, discarded
    /// stdout and stderr.
    pub fn new() -> WasiCtxBuilder {
        WasiCtxBuilder {
            args: Vec::new(),
            env: Vec::new(),
            stdin: Input::Empty,
            stdout: Output::Sink,
            stderr: Output::Sink,
            preopens: Vec::new(),
        }
    }

    /// Appends one argument. The first is the program name by convention.
    pub fn arg(&mut self, arg: impl AsRef<str>) -> &mut Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Appends arguments.
    pub fn args(&mut self, args: &[impl AsRef<str>]) -> &mut Self {
        self.args
            .extend(args.iter().map(|arg| arg.as_ref().to_owned()));
        self
    }

    /// Appends the host process's own arguments (those that are UTF-8).
    pub fn inherit_args(&mut self) -> &mut Self {
        self.args
            .extend(std::env::args_os().filter_map(|arg| arg.into_string().ok()));
        self
    }

    /// Sets an environment variable (a later value for the same name replaces an earlier
    /// one).
    pub fn env(&mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> &mut Self {
        let name = name.as_ref();
        self.env.retain(|(existing, _)| existing != name);
        self.env.push((name.to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Sets environment variables.
    pub fn envs(&mut self, variables: &[(impl AsRef<str>, impl AsRef<str>)]) -> &mut Self {
        for (name, value) in variables {
            self.env(name, value);
        }
        self
    }

    /// Sets every variable of the host process's environment (those that are UTF-8).
    pub fn inherit_env(&mut self) -> &mut Self {
        for (name, value) in std::env::vars_os() {
            if let (Ok(name), Ok(value)) = (name.into_string(), value.into_string()) {
                self.env(name, value);
            }
        }
        self
    }

    /// The guest reads `pipe` as its standard input.
    pub fn stdin(&mut self, pipe: MemoryInputPipe) -> &mut Self {
        self.stdin = Input::Memory(pipe);
        self
    }

    /// What the guest writes to standard output goes to `pipe`.
    pub fn stdout(&mut self, pipe: MemoryOutputPipe) -> &mut Self {
        self.stdout = Output::Memory(pipe);
        self
    }

    /// What the guest writes to standard error goes to `pipe`.
    pub fn stderr(&mut self, pipe: MemoryOutputPipe) -> &mut Self {
        self.stderr = Output::Memory(pipe);
        self
    }

    /// The guest reads the host process's standard input.
    pub fn inherit_stdin(&mut self) -> &mut Self {
        self.stdin = Input::Inherit;
        self
    }

    /// The guest writes to the host process's standard output, unbuffered.
    pub fn inherit_stdout(&mut self) -> &mut Self {
        self.stdout = Output::InheritStdout;
        self
    }

    /// The guest writes to the host process's standard error, unbuffered.
    pub fn inherit_stderr(&mut self) -> &mut Self {
        self.stderr = Output::InheritStderr;
        self
    }

    /// All three of the host process's standard streams.
    pub fn inherit_stdio(&mut self) -> &mut Self {
        self.inherit_stdin().inherit_stdout().inherit_stderr()
    }

    /// Grants the guest the host directory `host_path`, which it sees as `guest_path`
    /// (`fd_prestat_dir_name`; wasi-libc resolves the guest's paths against these names).
    /// Everything the guest does there is resolved inside it (see the crate docs).
    ///
    /// Fails when the directory cannot be opened.
    pub fn preopened_dir(
        &mut self,
        host_path: impl AsRef<Path>,
        guest_path: impl AsRef<str>,
    ) -> io::Result<&mut Self> {
        let host_path = host_path.as_ref();
        let dir = cap_std::fs::Dir::open_ambient_dir(host_path, cap_std::ambient_authority())
            .map_err(|error| {
                io::Error::new(
                    error.kind(),
                    format!("cannot open directory `{}`: {error}", host_path.display()),
                )
            })?;
        Ok(self.preopened_cap_dir(dir, guest_path))
    }

    /// Grants the guest an already open directory, which it sees as `guest_path`.
    pub fn preopened_cap_dir(
        &mut self,
        dir: cap_std::fs::Dir,
        guest_path: impl AsRef<str>,
    ) -> &mut Self {
        self.preopens
            .push(Preopen::Dir(dir, guest_path.as_ref().to_owned()));
        self
    }

    /// Grants the guest a listening TCP socket, on which it may `sock_accept` connections.
    ///
    /// Preopened directories get descriptors from 3 on, in the order granted, and sockets
    /// the numbers after the last directory: wasi-libc scans for preopened directories from
    /// 3 up and stops at the first descriptor that is not one.
    pub fn preopened_socket(&mut self, listener: TcpListener) -> &mut Self {
        self.preopens.push(Preopen::Socket(listener));
        self
    }

    /// The context. The builder can be used again (the preopens go to the first context).
    pub fn build(&mut self) -> WasiCtx {
        let mut table = Table::default();
        table.insert_at(
            0,
            Entry {
                kind: Kind::Stdin(self.stdin.clone()),
                base: rights::STDIN,
                inheriting: 0,
                flags: 0,
            },
        );
        for (fd, output) in [(1, self.stdout.clone()), (2, self.stderr.clone())] {
            table.insert_at(
                fd,
                Entry {
                    kind: Kind::Output(output),
                    base: rights::STDOUT,
                    inheriting: 0,
                    // Writes to standard output and error always go to the end.
                    flags: fdflags::APPEND,
                },
            );
        }
        let mut preopens = std::mem::take(&mut self.preopens);
        // Stable: directories keep their order, and so do sockets.
        preopens.sort_by_key(|preopen| matches!(preopen, Preopen::Socket(_)));
        for preopen in preopens {
            let entry = match preopen {
                Preopen::Dir(dir, guest_path) => Entry {
                    kind: Kind::Dir(Dir {
                        dir,
                        preopen: Some(guest_path),
                        listing: None,
                    }),
                    base: rights::DIRECTORY,
                    inheriting: rights::DIRECTORY | rights::FILE,
                    flags: 0,
                },
                Preopen::Socket(listener) => Entry {
                    kind: Kind::Listener(listener),
                    base: rights::LISTENER,
                    inheriting: rights::STREAM,
                    flags: 0,
                },
            };
            // Cannot fail: the table holds 3 + preopens entries.
            let _ = table.push(entry);
        }
        WasiCtx {
            args: self
                .args
                .iter()
                .map(|arg| arg.as_bytes().to_vec())
                .collect(),
            env: self
                .env
                .iter()
                .map(|(name, value)| format!("{name}={value}").into_bytes())
                .collect(),
            table,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_can_move_between_threads() {
        // A `Store<WasiCtx>` must be `Send` for embedders that run programs on threads.
        fn assert_send<T: Send>() {}
        assert_send::<WasiCtx>();
    }

    #[test]
    fn preopens_come_after_stdio_directories_before_sockets() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let dir = std::env::temp_dir();
        let ctx = WasiCtxBuilder::new()
            .preopened_socket(listener)
            .preopened_dir(&dir, "/a")
            .unwrap()
            .preopened_dir(&dir, "/b")
            .unwrap()
            .build();
        let preopen = |fd| match &ctx.table.get(fd).unwrap().kind {
            Kind::Dir(dir) => dir.preopen.clone(),
            Kind::Listener(_) => Some("socket".to_owned()),
            _ => None,
        };
        assert_eq!(preopen(3).as_deref(), Some("/a"));
        assert_eq!(preopen(4).as_deref(), Some("/b"));
        assert_eq!(preopen(5).as_deref(), Some("socket"));
        assert!(matches!(
            ctx.table.get(0).unwrap().kind,
            Kind::Stdin(Input::Empty)
        ));
    }

    #[test]
    fn missing_directories_fail_clearly() {
        let error = WasiCtxBuilder::new()
            .preopened_dir("/does/not/exist", "/")
            .unwrap_err();
        assert!(error.to_string().contains("/does/not/exist"), "{error}");
    }
}
