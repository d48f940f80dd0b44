//! What the preview1 functions do, call by call: arguments and environment, stdio capture,
//! directory listings with cookies, clocks and `poll_oneoff`, and sockets.

mod common;

use common::{Guest, INPUT, INPUT2, OUTPUT, errno, scratch};
use kestrel::Val;
use kestrel_wasi::{MemoryInputPipe, MemoryOutputPipe, WasiCtxBuilder};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

const ROOT: u32 = 3;
const OFLAGS_CREAT: i32 = 1;
const OFLAGS_DIRECTORY: i32 = 2;
const FD_READ: u64 = 1 << 1;
const FD_WRITE: u64 = 1 << 6;
const FD_READDIR: u64 = 1 << 14;
const FD_SEEK: u64 = 1 << 2;
const FD_TELL: u64 = 1 << 5;
const FD_FILESTAT_GET: u64 = 1 << 21;

#[test]
fn arguments_and_environment() {
    let mut guest = Guest::new(
        WasiCtxBuilder::new()
            .arg("prog.wasm")
            .args(&["a b", ""])
            .env("X", "1")
            .env("Y", "two=2")
            .env("X", "3"),
    );
    let sizes = [Val::I32(OUTPUT as i32), Val::I32(OUTPUT as i32 + 4)];
    assert_eq!(guest.call("args_sizes_get", &sizes), errno::SUCCESS);
    assert_eq!(
        (guest.read_u32(OUTPUT), guest.read_u32(OUTPUT + 4)),
        (3, 15)
    );
    let get = [Val::I32(INPUT as i32), Val::I32(INPUT2 as i32)];
    assert_eq!(guest.call("args_get", &get), errno::SUCCESS);
    assert_eq!(guest.read(INPUT2, 15), b"prog.wasm\0a b\0\0");
    assert_eq!(guest.read_u32(INPUT + 4), INPUT2 + 10);
    assert_eq!(guest.read_u32(INPUT + 8), INPUT2 + 14);

    assert_eq!(guest.call("environ_sizes_get", &sizes), errno::SUCCESS);
    assert_eq!(
        (guest.read_u32(OUTPUT), guest.read_u32(OUTPUT + 4)),
        (2, 12)
    );
    assert_eq!(guest.call("environ_get", &get), errno::SUCCESS);
    // A variable set again keeps its last value and moves to the end.
    assert_eq!(guest.read(INPUT2, 12), b"Y=two=2\0X=3\0");
}

#[test]
fn stdio_is_captured_or_discarded() {
    let stdout = MemoryOutputPipe::new();
    let stderr = MemoryOutputPipe::new();
    let mut guest = Guest::new(
        WasiCtxBuilder::new()
            .stdin(MemoryInputPipe::new("input"))
            .stdout(stdout.clone())
            .stderr(stderr.clone()),
    );
    assert_eq!(guest.write_fd(1, b"out"), (errno::SUCCESS, 3));
    assert_eq!(guest.write_fd(2, b"err"), (errno::SUCCESS, 3));
    assert_eq!(guest.read_fd(0, 3), (errno::SUCCESS, b"inp".to_vec()));
    assert_eq!(guest.read_fd(0, 10), (errno::SUCCESS, b"ut".to_vec()));
    assert_eq!(guest.read_fd(0, 10), (errno::SUCCESS, Vec::new()));
    assert_eq!(stdout.contents(), b"out");
    assert_eq!(stderr.contents(), b"err");
    // Streams have no position.
    assert_eq!(
        guest.call(
            "fd_seek",
            &[
                Val::I32(1),
                Val::I64(0),
                Val::I32(0),
                Val::I32(OUTPUT as i32)
            ]
        ),
        70
    );
    // Nothing configured: stdin is empty, stdout and stderr swallow everything.
    let mut quiet = Guest::new(&mut WasiCtxBuilder::new());
    assert_eq!(quiet.read_fd(0, 4), (errno::SUCCESS, Vec::new()));
    assert_eq!(quiet.write_fd(1, b"gone"), (errno::SUCCESS, 4));
}

#[test]
fn files_read_write_seek_and_stat() {
    let root = scratch("files");
    let mut guest = Guest::new(
        WasiCtxBuilder::new()
            .preopened_dir(root.join("sandbox"), ".")
            .unwrap(),
    );
    let (errno, fd) = guest.open(
        ROOT,
        0,
        b"f.txt",
        OFLAGS_CREAT,
        FD_READ | FD_WRITE | FD_SEEK | FD_TELL | FD_FILESTAT_GET,
        0,
    );
    assert_eq!(errno, errno::SUCCESS);
    assert_eq!(guest.write_fd(fd, b"hello world"), (errno::SUCCESS, 11));
    assert_eq!(
        guest.call(
            "fd_seek",
            &[
                Val::I32(fd as i32),
                Val::I64(6),
                Val::I32(0),
                Val::I32(OUTPUT as i32)
            ]
        ),
        errno::SUCCESS
    );
    assert_eq!(guest.read_u64(OUTPUT), 6);
    assert_eq!(guest.read_fd(fd, 64), (errno::SUCCESS, b"world".to_vec()));
    assert_eq!(
        guest.call(
            "fd_filestat_get",
            &[Val::I32(fd as i32), Val::I32(OUTPUT as i32)]
        ),
        errno::SUCCESS
    );
    assert_eq!(guest.read(OUTPUT + 16, 1), [4], "a regular file");
    assert_eq!(guest.read_u64(OUTPUT + 32), 11, "its size");
    assert_eq!(
        std::fs::read(root.join("sandbox/f.txt")).unwrap(),
        b"hello world"
    );
    // Renumbering moves the file over another descriptor.
    let (_, other) = guest.open(ROOT, 0, b".", OFLAGS_DIRECTORY, FD_READDIR, 0);
    assert_eq!(
        guest.call(
            "fd_renumber",
            &[Val::I32(fd as i32), Val::I32(other as i32)]
        ),
        0
    );
    assert_eq!(guest.call("fd_close", &[Val::I32(fd as i32)]), errno::BADF);
    assert_eq!(guest.write_fd(other, b"!"), (errno::SUCCESS, 1));
    assert_eq!(
        std::fs::read(root.join("sandbox/f.txt")).unwrap(),
        b"hello world!"
    );

    // Directories can be synced and have their times set, though cap-std may hold them
    // as `O_PATH` descriptors.
    assert_eq!(
        guest.call("fd_sync", &[Val::I32(ROOT as i32)]),
        errno::SUCCESS
    );
    assert_eq!(
        guest.call("fd_datasync", &[Val::I32(ROOT as i32)]),
        errno::SUCCESS
    );
    const ATIM: i32 = 1;
    const MTIM: i32 = 4;
    let set_times = [
        Val::I32(ROOT as i32),
        Val::I64(1_000_000_000),
        Val::I64(2_000_000_000),
        Val::I32(ATIM | MTIM),
    ];
    assert_eq!(
        guest.call("fd_filestat_set_times", &set_times),
        errno::SUCCESS
    );
    let modified = std::fs::metadata(root.join("sandbox"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(
        modified.duration_since(std::time::UNIX_EPOCH).unwrap(),
        Duration::from_secs(2)
    );
    let (path, len) = guest.bytes_at(INPUT, b"f.txt");
    let set_path_times = [
        Val::I32(ROOT as i32),
        Val::I32(0),
        path,
        len,
        Val::I64(0),
        Val::I64(5_000_000_000),
        Val::I32(MTIM),
    ];
    assert_eq!(
        guest.call("path_filestat_set_times", &set_path_times),
        errno::SUCCESS
    );
    let modified = std::fs::metadata(root.join("sandbox/f.txt"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(
        modified.duration_since(std::time::UNIX_EPOCH).unwrap(),
        Duration::from_secs(5)
    );
}

/// Parses `fd_readdir` output: (next cookie, name) for each whole entry.
fn dirents(bytes: &[u8]) -> Vec<(u64, String)> {
    let mut entries = Vec::new();
    let mut offset = 0;
    while offset + 24 <= bytes.len() {
        let next = u64::from_le_bytes(bytes[offset..offset + 8].try_into().unwrap());
        let len = u32::from_le_bytes(bytes[offset + 16..offset + 20].try_into().unwrap()) as usize;
        if offset + 24 + len > bytes.len() {
            break;
        }
        let name = String::from_utf8_lossy(&bytes[offset + 24..offset + 24 + len]).into_owned();
        entries.push((next, name));
        offset += 24 + len;
    }
    entries
}

#[test]
fn readdir_continues_from_cookies() {
    let root = scratch("readdir");
    for index in 0..20 {
        std::fs::write(root.join(format!("sandbox/file-{index:02}")), "").unwrap();
    }
    let mut guest = Guest::new(
        WasiCtxBuilder::new()
            .preopened_dir(root.join("sandbox"), "/")
            .unwrap(),
    );
    let mut names = Vec::new();
    let mut cookie = 0u64;
    // A buffer that holds two or three entries at a time: every call but the last fills it
    // and cuts an entry short.
    loop {
        let errno = guest.call(
            "fd_readdir",
            &[
                Val::I32(ROOT as i32),
                Val::I32(INPUT as i32),
                Val::I32(80),
                Val::I64(cookie as i64),
                Val::I32(OUTPUT as i32),
            ],
        );
        assert_eq!(errno, errno::SUCCESS);
        let used = guest.read_u32(OUTPUT);
        let entries = dirents(&guest.read(INPUT, used));
        for (next, name) in &entries {
            names.push(name.clone());
            cookie = *next;
        }
        if used < 80 {
            break;
        }
    }
    names.sort();
    let mut expected: Vec<String> = (0..20).map(|index| format!("file-{index:02}")).collect();
    expected.extend([".".to_owned(), "..".to_owned()]);
    expected.sort();
    assert_eq!(names, expected);
    // A file is not a directory.
    let (_, file) = guest.open(ROOT, 0, b"file-00", 0, FD_READ | FD_READDIR, 0);
    assert_eq!(
        guest.call(
            "fd_readdir",
            &[
                Val::I32(file as i32),
                Val::I32(INPUT as i32),
                Val::I32(80),
                Val::I64(0),
                Val::I32(OUTPUT as i32)
            ],
        ),
        errno::NOTDIR
    );
}

#[test]
fn clocks_and_poll_oneoff() {
    let mut guest = Guest::new(&mut WasiCtxBuilder::new());
    let out = Val::I32(OUTPUT as i32);
    assert_eq!(
        guest.call("clock_time_get", &[Val::I32(1), Val::I64(1), out]),
        0
    );
    let before = guest.read_u64(OUTPUT);
    assert_eq!(guest.call("clock_res_get", &[Val::I32(1), out]), 0);
    assert!(guest.read_u64(OUTPUT) > 0);
    for clock in [2, 3] {
        assert_eq!(
            guest.call("clock_time_get", &[Val::I32(clock), Val::I64(1), out]),
            0
        );
    }

    // One relative clock subscription of 20 ms, and stdout, which is ready at once.
    let mut subscriptions = [0u8; 96];
    subscriptions[0..8].copy_from_slice(&7u64.to_le_bytes());
    subscriptions[8] = 0; // clock
    subscriptions[16..20].copy_from_slice(&1u32.to_le_bytes()); // monotonic
    subscriptions[24..32].copy_from_slice(&20_000_000u64.to_le_bytes());
    guest.write(INPUT, &subscriptions[..48]);
    let start = Instant::now();
    let args = [
        Val::I32(INPUT as i32),
        Val::I32(OUTPUT as i32),
        Val::I32(1),
        Val::I32(INPUT2 as i32),
    ];
    assert_eq!(guest.call("poll_oneoff", &args), errno::SUCCESS);
    assert!(start.elapsed() >= Duration::from_millis(20));
    assert_eq!(guest.read_u32(INPUT2), 1);
    assert_eq!(guest.read_u64(OUTPUT), 7, "userdata");
    assert_eq!(
        guest.read(OUTPUT + 8, 3),
        [0, 0, 0],
        "no error, a clock event"
    );

    subscriptions[48..56].copy_from_slice(&9u64.to_le_bytes());
    subscriptions[56] = 2; // fd_write
    subscriptions[64..68].copy_from_slice(&1u32.to_le_bytes());
    guest.write(INPUT, &subscriptions);
    let args = [
        Val::I32(INPUT as i32),
        Val::I32(OUTPUT as i32),
        Val::I32(2),
        Val::I32(INPUT2 as i32),
    ];
    assert_eq!(guest.call("poll_oneoff", &args), errno::SUCCESS);
    assert_eq!(guest.read_u32(INPUT2), 1, "only stdout is ready");
    assert_eq!(guest.read_u64(OUTPUT), 9);
    assert_eq!(guest.read(OUTPUT + 10, 1), [2]);

    assert_eq!(
        guest.call("clock_time_get", &[Val::I32(1), Val::I64(1), out]),
        0
    );
    assert!(guest.read_u64(OUTPUT) > before);
}

#[test]
fn random_bytes() {
    let mut guest = Guest::new(&mut WasiCtxBuilder::new());
    assert_eq!(
        guest.call("random_get", &[Val::I32(INPUT as i32), Val::I32(64)]),
        0
    );
    assert_ne!(guest.read(INPUT, 64), vec![0; 64]);
    assert_eq!(
        guest.call("random_get", &[Val::I32(INPUT as i32), Val::I32(0)]),
        0
    );
}

#[test]
fn preopened_sockets_accept_receive_send_and_shut_down() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let mut guest = Guest::new(WasiCtxBuilder::new().preopened_socket(listener));
    // A socket is not a preopened directory.
    assert_eq!(
        guest.call("fd_prestat_get", &[Val::I32(3), Val::I32(OUTPUT as i32)]),
        errno::BADF
    );
    assert_eq!(
        guest.call("fd_fdstat_get", &[Val::I32(3), Val::I32(OUTPUT as i32)]),
        errno::SUCCESS
    );
    assert_eq!(guest.read(OUTPUT, 1), [6], "a stream socket");

    let mut client = std::net::TcpStream::connect(address).unwrap();
    client.write_all(b"ping").unwrap();
    assert_eq!(
        guest.call(
            "sock_accept",
            &[Val::I32(3), Val::I32(0), Val::I32(OUTPUT as i32)]
        ),
        errno::SUCCESS
    );
    let connection = guest.read_u32(OUTPUT);
    guest.write_u32(INPUT, INPUT2);
    guest.write_u32(INPUT + 4, 4);
    let recv = [
        Val::I32(connection as i32),
        Val::I32(INPUT as i32),
        Val::I32(1),
        Val::I32(2), // waitall
        Val::I32(OUTPUT as i32),
        Val::I32(OUTPUT as i32 + 4),
    ];
    assert_eq!(guest.call("sock_recv", &recv), errno::SUCCESS);
    assert_eq!(guest.read_u32(OUTPUT), 4);
    assert_eq!(guest.read(INPUT2, 4), b"ping");

    guest.write(INPUT2, b"pong");
    let send = [
        Val::I32(connection as i32),
        Val::I32(INPUT as i32),
        Val::I32(1),
        Val::I32(0),
        Val::I32(OUTPUT as i32),
    ];
    assert_eq!(guest.call("sock_send", &send), errno::SUCCESS);
    assert_eq!(guest.read_u32(OUTPUT), 4);
    assert_eq!(
        guest.call("sock_shutdown", &[Val::I32(connection as i32), Val::I32(3)]),
        errno::SUCCESS
    );
    let mut reply = Vec::new();
    client.read_to_end(&mut reply).unwrap();
    assert_eq!(reply, b"pong");

    // Socket calls on what is not a socket.
    assert_eq!(
        guest.call("sock_shutdown", &[Val::I32(1), Val::I32(3)]),
        errno::NOTSOCK
    );
    assert_eq!(
        guest.call(
            "sock_accept",
            &[Val::I32(0), Val::I32(0), Val::I32(OUTPUT as i32)]
        ),
        errno::NOTSOCK
    );
}
