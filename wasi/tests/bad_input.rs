//! A guest passing garbage gets an errno, never a host panic: pointers and lengths past the
//! end of memory are `fault`, misaligned structure pointers `inval`, unknown descriptors
//! `badf`, non-UTF-8 paths `ilseq`, unknown flags `inval`. A call with a bad output pointer
//! does nothing.

mod common;

use common::{FUNCTIONS, Guest, INPUT, INPUT2, MEMORY_SIZE, OUTPUT, errno, scratch};
use kestrel::Val;
use kestrel_wasi::WasiCtxBuilder;

const ROOT: u32 = 3;
const OFLAGS_CREAT: i32 = 1;

fn guest_with_sandbox(name: &str) -> (Guest, common::Scratch) {
    let root = scratch(name);
    let guest = Guest::new(
        WasiCtxBuilder::new()
            .arg("program")
            .env("NAME", "value")
            .preopened_dir(root.join("sandbox"), "/")
            .unwrap(),
    );
    (guest, root)
}

#[test]
fn every_function_is_defined_with_its_abi_signature() {
    // `Guest::new` instantiates a module importing all of them with their signatures.
    let (mut guest, _) = guest_with_sandbox("signatures");
    assert_eq!(FUNCTIONS.len(), 46);
    let mut names: Vec<&str> = kestrel_wasi::FUNCTIONS_WITH_MEMORY.to_vec();
    names.extend(["proc_exit", "proc_raise", "sched_yield"]);
    names.sort_unstable();
    let mut expected: Vec<&str> = FUNCTIONS.iter().map(|(name, _)| *name).collect();
    expected.sort_unstable();
    assert_eq!(names, expected);
    assert_eq!(guest.call("sched_yield", &[]), errno::SUCCESS);
}

#[test]
fn pointers_past_the_end_of_memory_fault() {
    let (mut guest, _) = guest_with_sandbox("fault");
    let end = MEMORY_SIZE as i32;
    let cases: Vec<(&str, Vec<Val>)> = vec![
        ("args_sizes_get", vec![Val::I32(end), Val::I32(0)]),
        ("args_get", vec![Val::I32(end), Val::I32(0)]),
        ("args_get", vec![Val::I32(0), Val::I32(end - 2)]),
        ("environ_get", vec![Val::I32(0), Val::I32(-1)]),
        (
            "clock_time_get",
            vec![Val::I32(1), Val::I64(0), Val::I32(end)],
        ),
        ("random_get", vec![Val::I32(end - 8), Val::I32(9)]),
        ("random_get", vec![Val::I32(-1), Val::I32(2)]),
        ("fd_fdstat_get", vec![Val::I32(1), Val::I32(end - 16)]),
        ("fd_filestat_get", vec![Val::I32(3), Val::I32(-8)]),
        (
            "fd_prestat_dir_name",
            vec![Val::I32(3), Val::I32(end), Val::I32(1)],
        ),
        // The iovec array, then one buffer of it, past the end.
        (
            "fd_write",
            vec![Val::I32(1), Val::I32(end - 4), Val::I32(1), Val::I32(0)],
        ),
        (
            "fd_write",
            vec![Val::I32(1), Val::I32(0), Val::I32(-1), Val::I32(16)],
        ),
        (
            "path_open",
            vec![
                Val::I32(3),
                Val::I32(0),
                Val::I32(end - 2),
                Val::I32(100),
                Val::I32(0),
                Val::I64(0),
                Val::I64(0),
                Val::I32(0),
                Val::I32(OUTPUT as i32),
            ],
        ),
        (
            "path_create_directory",
            vec![Val::I32(3), Val::I32(0), Val::I32(-1)],
        ),
        (
            "poll_oneoff",
            vec![Val::I32(end - 48), Val::I32(0), Val::I32(2), Val::I32(8)],
        ),
        (
            "poll_oneoff",
            vec![Val::I32(0), Val::I32(0), Val::I32(i32::MAX), Val::I32(8)],
        ),
    ];
    // An iovec whose buffer runs past the end.
    guest.write_u32(0, MEMORY_SIZE - 4);
    guest.write_u32(4, 8);
    let mut cases = cases;
    cases.push((
        "fd_write",
        vec![Val::I32(1), Val::I32(0), Val::I32(1), Val::I32(16)],
    ));
    cases.push((
        "fd_read",
        vec![Val::I32(0), Val::I32(0), Val::I32(1), Val::I32(16)],
    ));
    for (name, args) in cases {
        assert_eq!(guest.call(name, &args), errno::FAULT, "{name}{args:?}");
    }
}

#[test]
fn misaligned_structures_are_invalid() {
    let (mut guest, _) = guest_with_sandbox("misaligned");
    assert_eq!(
        guest.call("fd_fdstat_get", &[Val::I32(1), Val::I32(OUTPUT as i32 + 4)]),
        errno::INVAL
    );
    assert_eq!(
        guest.call("clock_time_get", &[Val::I32(0), Val::I64(0), Val::I32(2)]),
        errno::INVAL
    );
    assert_eq!(
        guest.call("args_sizes_get", &[Val::I32(1), Val::I32(8)]),
        errno::INVAL
    );
}

#[test]
fn bad_output_pointers_leave_no_trace() {
    let (mut guest, root) = guest_with_sandbox("no-trace");
    let (path, len) = guest.bytes_at(INPUT, b"created.txt");
    let errno = guest.call(
        "path_open",
        &[
            Val::I32(ROOT as i32),
            Val::I32(0),
            path,
            len,
            Val::I32(OFLAGS_CREAT),
            Val::I64(0),
            Val::I64(0),
            Val::I32(0),
            Val::I32(MEMORY_SIZE as i32),
        ],
    );
    assert_eq!(errno, errno::FAULT);
    assert!(!root.join("sandbox/created.txt").exists());
    // Nothing was written to stdout either (it is discarded here, but the call must fail
    // before writing: checked through a file).
    let (errno, fd) = guest.open(ROOT, 0, b"out.txt", OFLAGS_CREAT, 1 << 6, 0);
    assert_eq!(errno, errno::SUCCESS);
    guest.write_u32(INPUT, INPUT2);
    guest.write_u32(INPUT + 4, 3);
    guest.write(INPUT2, b"abc");
    let errno = guest.call(
        "fd_write",
        &[
            Val::I32(fd as i32),
            Val::I32(INPUT as i32),
            Val::I32(1),
            Val::I32(MEMORY_SIZE as i32),
        ],
    );
    assert_eq!(errno, errno::FAULT);
    assert_eq!(std::fs::read(root.join("sandbox/out.txt")).unwrap(), b"");
}

#[test]
fn unknown_descriptors_are_badf() {
    let (mut guest, _) = guest_with_sandbox("badf");
    for fd in [4, 100, -1] {
        let fd = Val::I32(fd);
        let out = Val::I32(OUTPUT as i32);
        assert_eq!(guest.call("fd_close", &[fd]), errno::BADF);
        assert_eq!(guest.call("fd_fdstat_get", &[fd, out]), errno::BADF);
        assert_eq!(guest.call("fd_filestat_get", &[fd, out]), errno::BADF);
        assert_eq!(guest.call("fd_prestat_get", &[fd, out]), errno::BADF);
        assert_eq!(guest.call("fd_sync", &[fd]), errno::BADF);
        assert_eq!(guest.call("fd_tell", &[fd, out]), errno::BADF);
        assert_eq!(guest.call("fd_renumber", &[fd, Val::I32(1)]), errno::BADF);
        assert_eq!(guest.call("fd_renumber", &[Val::I32(1), fd]), errno::BADF);
        assert_eq!(guest.call("sock_shutdown", &[fd, Val::I32(3)]), errno::BADF);
        let Val::I32(raw) = fd else { unreachable!() };
        assert_eq!(guest.write_fd(raw as u32, b"x").0, errno::BADF);
        assert_eq!(guest.read_fd(raw as u32, 4).0, errno::BADF);
        assert_eq!(
            guest.path_call("path_unlink_file", raw as u32, b"x"),
            errno::BADF
        );
    }
    // Closed descriptors are gone for good.
    assert_eq!(guest.call("fd_close", &[Val::I32(0)]), errno::SUCCESS);
    assert_eq!(guest.read_fd(0, 4).0, errno::BADF);
}

#[test]
fn invalid_utf8_paths_are_ilseq() {
    let (mut guest, root) = guest_with_sandbox("ilseq");
    for path in [&b"\xff"[..], b"file\xc3", b"\xed\xa0\x80"] {
        let (errno, _) = guest.open(ROOT, 0, path, OFLAGS_CREAT, 0, 0);
        assert_eq!(errno, errno::ILSEQ);
        assert_eq!(
            guest.path_call("path_create_directory", ROOT, path),
            errno::ILSEQ
        );
    }
    assert_eq!(std::fs::read_dir(root.join("sandbox")).unwrap().count(), 0);
    // An embedded NUL cannot name a host file.
    let (errno, _) = guest.open(ROOT, 0, b"a\0b", OFLAGS_CREAT, 0, 0);
    assert_eq!(errno, errno::INVAL);
}

#[test]
fn unknown_flags_and_values_are_inval() {
    let (mut guest, _) = guest_with_sandbox("inval");
    let (errno, _) = guest.open(ROOT, 0, b"x", 1 << 4, 0, 0);
    assert_eq!(errno, errno::INVAL, "unknown oflags");
    let (errno, _) = guest.open(ROOT, 1 << 3, b"x", 0, 0, 0);
    assert_eq!(errno, errno::INVAL, "unknown lookupflags");
    let (errno, _) = guest.open(ROOT, 0, b"x", OFLAGS_CREAT, 0, 1 << 7);
    assert_eq!(errno, errno::INVAL, "unknown fdflags");
    assert_eq!(
        guest.call(
            "clock_time_get",
            &[Val::I32(9), Val::I64(0), Val::I32(OUTPUT as i32)]
        ),
        errno::INVAL
    );
    assert_eq!(
        guest.call(
            "fd_seek",
            &[
                Val::I32(3),
                Val::I64(0),
                Val::I32(7),
                Val::I32(OUTPUT as i32)
            ]
        ),
        errno::NOTCAPABLE,
        "a directory cannot seek at all"
    );
    assert_eq!(
        guest.call(
            "poll_oneoff",
            &[Val::I32(0), Val::I32(64), Val::I32(0), Val::I32(8)]
        ),
        errno::INVAL,
        "no subscriptions"
    );
    // An unknown subscription tag.
    guest.write(INPUT, &[0; 48]);
    guest.write(INPUT + 8, &[9]);
    assert_eq!(
        guest.call(
            "poll_oneoff",
            &[
                Val::I32(INPUT as i32),
                Val::I32(OUTPUT as i32),
                Val::I32(1),
                Val::I32(8)
            ]
        ),
        errno::INVAL
    );
    assert_eq!(guest.call("proc_raise", &[Val::I32(99)]), errno::INVAL);
    assert_eq!(
        guest.call("sock_shutdown", &[Val::I32(1), Val::I32(3)]),
        errno::NOTSOCK
    );
}

#[test]
fn exit_and_signals_end_the_program() {
    let (mut guest, _) = guest_with_sandbox("exit");
    let error = guest.try_call("proc_exit", &[Val::I32(7)]).unwrap_err();
    assert_eq!(
        error.downcast_ref::<kestrel_wasi::I32Exit>(),
        Some(&kestrel_wasi::I32Exit(7))
    );
    // Statuses from 126 on are refused, as Wasmtime refuses them.
    let error = guest.try_call("proc_exit", &[Val::I32(200)]).unwrap_err();
    assert!(error.downcast_ref::<kestrel_wasi::I32Exit>().is_none());
    assert!(error.to_string().contains("exit status"), "{error}");
    // Signals ignored by default do nothing; terminating ones end the program.
    assert_eq!(guest.call("proc_raise", &[Val::I32(27)]), errno::SUCCESS);
    let error = guest.try_call("proc_raise", &[Val::I32(15)]).unwrap_err();
    assert_eq!(
        error.downcast_ref::<kestrel_wasi::Raised>(),
        Some(&kestrel_wasi::Raised(15))
    );
}
