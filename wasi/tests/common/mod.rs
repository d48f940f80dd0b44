//! A guest for driving preview1 functions one call at a time from a test.
//!
//! The module imports every preview1 function with its ABI signature (so instantiating it
//! checks `add_to_linker`'s signatures) and exports a Wasm wrapper for each under the same
//! name: calling the wrapper calls the import from Wasm, as a real program would, with the
//! instance's memory. Tests put strings and structures in memory with [`Guest::write`],
//! call, and read the results back.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the harness"
)]

use kestrel::{Engine, Instance, Linker, Memory, Module, Store, Val};
use kestrel_wasi::{WasiCtx, WasiCtxBuilder};

/// Every preview1 function: its name and its Wasm parameter types. All but `proc_exit`
/// return an `i32` errno.
pub const FUNCTIONS: &[(&str, &str)] = &[
    ("args_get", "i32 i32"),
    ("args_sizes_get", "i32 i32"),
    ("environ_get", "i32 i32"),
    ("environ_sizes_get", "i32 i32"),
    ("clock_res_get", "i32 i32"),
    ("clock_time_get", "i32 i64 i32"),
    ("fd_advise", "i32 i64 i64 i32"),
    ("fd_allocate", "i32 i64 i64"),
    ("fd_close", "i32"),
    ("fd_datasync", "i32"),
    ("fd_fdstat_get", "i32 i32"),
    ("fd_fdstat_set_flags", "i32 i32"),
    ("fd_fdstat_set_rights", "i32 i64 i64"),
    ("fd_filestat_get", "i32 i32"),
    ("fd_filestat_set_size", "i32 i64"),
    ("fd_filestat_set_times", "i32 i64 i64 i32"),
    ("fd_pread", "i32 i32 i32 i64 i32"),
    ("fd_prestat_get", "i32 i32"),
    ("fd_prestat_dir_name", "i32 i32 i32"),
    ("fd_pwrite", "i32 i32 i32 i64 i32"),
    ("fd_read", "i32 i32 i32 i32"),
    ("fd_readdir", "i32 i32 i32 i64 i32"),
    ("fd_renumber", "i32 i32"),
    ("fd_seek", "i32 i64 i32 i32"),
    ("fd_sync", "i32"),
    ("fd_tell", "i32 i32"),
    ("fd_write", "i32 i32 i32 i32"),
    ("path_create_directory", "i32 i32 i32"),
    ("path_filestat_get", "i32 i32 i32 i32 i32"),
    ("path_filestat_set_times", "i32 i32 i32 i32 i64 i64 i32"),
    ("path_link", "i32 i32 i32 i32 i32 i32 i32"),
    ("path_open", "i32 i32 i32 i32 i32 i64 i64 i32 i32"),
    ("path_readlink", "i32 i32 i32 i32 i32 i32"),
    ("path_remove_directory", "i32 i32 i32"),
    ("path_rename", "i32 i32 i32 i32 i32 i32"),
    ("path_symlink", "i32 i32 i32 i32 i32"),
    ("path_unlink_file", "i32 i32 i32"),
    ("poll_oneoff", "i32 i32 i32 i32"),
    ("proc_exit", "i32"),
    ("proc_raise", "i32"),
    ("random_get", "i32 i32"),
    ("sched_yield", ""),
    ("sock_accept", "i32 i32 i32"),
    ("sock_recv", "i32 i32 i32 i32 i32 i32"),
    ("sock_send", "i32 i32 i32 i32 i32"),
    ("sock_shutdown", "i32 i32"),
];

/// Preview1 errnos the tests look for.
pub mod errno {
    pub const SUCCESS: i32 = 0;
    pub const BADF: i32 = 8;
    pub const EXIST: i32 = 20;
    pub const FAULT: i32 = 21;
    pub const ILSEQ: i32 = 25;
    pub const INVAL: i32 = 28;
    pub const ISDIR: i32 = 31;
    pub const LOOP: i32 = 32;
    pub const NAMETOOLONG: i32 = 37;
    pub const NOENT: i32 = 44;
    pub const NOTDIR: i32 = 54;
    pub const NOTSOCK: i32 = 57;
    pub const NOTCAPABLE: i32 = 76;
}

/// Where tests put paths (and other inputs) and where results land.
pub const INPUT: u32 = 1024;
pub const INPUT2: u32 = 2048;
pub const OUTPUT: u32 = 4096;
/// The guest's memory size: one page.
pub const MEMORY_SIZE: u32 = 65536;

fn module_text() -> String {
    let mut text = String::from("(module\n");
    for (name, params) in FUNCTIONS {
        let result = if *name == "proc_exit" {
            ""
        } else {
            "(result i32)"
        };
        text += &format!(
            "  (import \"wasi_snapshot_preview1\" \"{name}\" (func ${name} (param {params}) {result}))\n"
        );
    }
    text += "  (memory (export \"memory\") 1)\n";
    for (name, params) in FUNCTIONS {
        let result = if *name == "proc_exit" {
            ""
        } else {
            "(result i32)"
        };
        let args: String = (0..params.split_whitespace().count())
            .map(|index| format!(" (local.get {index})"))
            .collect();
        text += &format!(
            "  (func (export \"{name}\") (param {params}) {result} (call ${name}{args}))\n"
        );
    }
    text += ")\n";
    text
}

pub struct Guest {
    pub store: Store<WasiCtx>,
    instance: Instance,
    memory: Memory,
}

impl Guest {
    /// A guest with the context `builder` makes.
    pub fn new(builder: &mut WasiCtxBuilder) -> Guest {
        let engine = Engine::default();
        let module = Module::new(&engine, module_text()).expect("the harness module compiles");
        let mut linker: Linker<WasiCtx> = Linker::new(&engine);
        kestrel_wasi::add_to_linker(&mut linker, |ctx| ctx).unwrap();
        let mut store = Store::new(&engine, builder.build());
        let instance = linker
            .instantiate(&mut store, &module)
            .expect("every preview1 function is defined with its ABI signature");
        let memory = instance
            .get_memory(&mut store, "memory")
            .expect("the harness exports its memory");
        Guest {
            store,
            instance,
            memory,
        }
    }

    /// Calls preview1 function `name` and returns the call's result or error.
    pub fn try_call(&mut self, name: &str, args: &[Val]) -> kestrel::Result<Option<i32>> {
        let func = self
            .instance
            .get_func(&mut self.store, name)
            .unwrap_or_else(|| panic!("no function {name}"));
        let results_len = func.ty(&self.store).results().len();
        let mut results = vec![Val::I32(0); results_len];
        func.call(&mut self.store, args, &mut results)?;
        Ok(results.first().map(|result| match result {
            Val::I32(value) => *value,
            other => panic!("{name} returned {other:?}"),
        }))
    }

    /// Calls preview1 function `name` and returns its errno.
    #[track_caller]
    pub fn call(&mut self, name: &str, args: &[Val]) -> i32 {
        match self.try_call(name, args) {
            Ok(Some(errno)) => errno,
            Ok(None) => panic!("{name} returned nothing"),
            Err(error) => panic!("{name} failed: {error:?}"),
        }
    }

    pub fn write(&mut self, offset: u32, bytes: &[u8]) {
        self.memory
            .write(&mut self.store, offset as usize, bytes)
            .unwrap();
    }

    pub fn write_u32(&mut self, offset: u32, value: u32) {
        self.write(offset, &value.to_le_bytes());
    }

    pub fn read(&self, offset: u32, len: u32) -> Vec<u8> {
        let mut bytes = vec![0u8; len as usize];
        self.memory
            .read(&self.store, offset as usize, &mut bytes)
            .unwrap();
        bytes
    }

    pub fn read_u32(&self, offset: u32) -> u32 {
        u32::from_le_bytes(self.read(offset, 4).try_into().unwrap())
    }

    pub fn read_u64(&self, offset: u32) -> u64 {
        u64::from_le_bytes(self.read(offset, 8).try_into().unwrap())
    }

    /// Puts `bytes` at `offset` and returns the pointer and length arguments for them.
    pub fn bytes_at(&mut self, offset: u32, bytes: &[u8]) -> (Val, Val) {
        self.write(offset, bytes);
        (Val::I32(offset as i32), Val::I32(bytes.len() as i32))
    }

    /// `path_open(fd, dirflags, path, oflags, rights, rights, fdflags)`: the errno and the
    /// new descriptor.
    pub fn open(
        &mut self,
        fd: u32,
        dirflags: i32,
        path: &[u8],
        oflags: i32,
        rights: u64,
        fdflags: i32,
    ) -> (i32, u32) {
        let (pointer, len) = self.bytes_at(INPUT, path);
        let errno = self.call(
            "path_open",
            &[
                Val::I32(fd as i32),
                Val::I32(dirflags),
                pointer,
                len,
                Val::I32(oflags),
                Val::I64(rights as i64),
                Val::I64(rights as i64),
                Val::I32(fdflags),
                Val::I32(OUTPUT as i32),
            ],
        );
        (errno, self.read_u32(OUTPUT))
    }

    /// Calls a function taking `(fd, path, path_len)`.
    pub fn path_call(&mut self, name: &str, fd: u32, path: &[u8]) -> i32 {
        let (pointer, len) = self.bytes_at(INPUT, path);
        self.call(name, &[Val::I32(fd as i32), pointer, len])
    }

    /// `fd_write(fd, [bytes])`: the errno and the count written.
    pub fn write_fd(&mut self, fd: u32, bytes: &[u8]) -> (i32, u32) {
        let (pointer, len) = self.bytes_at(INPUT2, bytes);
        let (Val::I32(pointer), Val::I32(len)) = (pointer, len) else {
            unreachable!()
        };
        self.write_u32(INPUT, pointer as u32);
        self.write_u32(INPUT + 4, len as u32);
        let errno = self.call(
            "fd_write",
            &[
                Val::I32(fd as i32),
                Val::I32(INPUT as i32),
                Val::I32(1),
                Val::I32(OUTPUT as i32),
            ],
        );
        (errno, self.read_u32(OUTPUT))
    }

    /// `fd_read(fd, [len bytes])`: the errno and the bytes read.
    pub fn read_fd(&mut self, fd: u32, len: u32) -> (i32, Vec<u8>) {
        self.write_u32(INPUT, INPUT2);
        self.write_u32(INPUT + 4, len);
        let errno = self.call(
            "fd_read",
            &[
                Val::I32(fd as i32),
                Val::I32(INPUT as i32),
                Val::I32(1),
                Val::I32(OUTPUT as i32),
            ],
        );
        let count = self.read_u32(OUTPUT);
        (errno, self.read(INPUT2, count.min(len)))
    }
}

/// A scratch directory, removed when dropped.
pub struct Scratch(std::path::PathBuf);

impl std::ops::Deref for Scratch {
    type Target = std::path::Path;

    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh scratch directory for one test: `<tmp>/kestrel-wasi-<name>-<pid>/`, with a
/// `sandbox/` inside to preopen and an `outside.txt` next to it that no guest may reach.
pub fn scratch(name: &str) -> Scratch {
    let root = std::env::temp_dir().join(format!("kestrel-wasi-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("sandbox")).unwrap();
    std::fs::write(root.join("outside.txt"), "host secret").unwrap();
    Scratch(root)
}
