//! `kestrel run` with WASI programs: the flags (`--dir`, `--env`, `--argv0`, `--preload`)
//! mean what Wasmtime's do, `proc_exit`'s status becomes the process's, stdio is inherited,
//! a trap keeps the output written before it, and the program cannot leave its directories.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn kestrel(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kestrel"));
    command.args(args).env_clear().stdin(Stdio::null());
    command
}

fn run(args: &[&str]) -> Output {
    kestrel(args)
        .output()
        .expect("failed to start the kestrel binary")
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("wasi-cli-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_program(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const IMPORTS: &str = r#"
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func $fd_prestat_dir_name (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "proc_raise" (func $proc_raise (param i32) (result i32)))
  (memory (export "memory") 1)
  ;; Writes `len` bytes at `pointer` to stdout.
  (func $print (param $pointer i32) (param $len i32)
    (i32.store (i32.const 16) (local.get $pointer))
    (i32.store (i32.const 20) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24))))
  ;; Exits with `errno` if it is not 0.
  (func $check (param $errno i32)
    (if (local.get $errno) (then (call $proc_exit (local.get $errno)))))
  ;; Prints `count` NUL-terminated strings whose pointers are at 1024, one per line.
  (func $print_strings (param $count i32)
    (local $index i32) (local $pointer i32) (local $len i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $index) (local.get $count)))
      (local.set $pointer
        (i32.load (i32.add (i32.const 1024) (i32.shl (local.get $index) (i32.const 2)))))
      (local.set $len (i32.const 0))
      (block $end (loop $scan
        (br_if $end (i32.eqz (i32.load8_u (i32.add (local.get $pointer) (local.get $len)))))
        (local.set $len (i32.add (local.get $len) (i32.const 1)))
        (br $scan)))
      (i32.store8 (i32.add (local.get $pointer) (local.get $len)) (i32.const 10))
      (call $print (local.get $pointer) (i32.add (local.get $len) (i32.const 1)))
      (local.set $index (i32.add (local.get $index) (i32.const 1)))
      (br $next))))
"#;

/// A program whose `_start` is `body`, with the helpers above.
fn program(body: &str, data: &str) -> String {
    format!("(module {IMPORTS}\n  (func (export \"_start\") {body})\n  {data})")
}

fn print_args() -> String {
    program(
        r#"(call $check (call $args_sizes_get (i32.const 0) (i32.const 4)))
           (call $check (call $args_get (i32.const 1024) (i32.const 8192)))
           (call $print_strings (i32.load (i32.const 0)))"#,
        "",
    )
}

/// Opens `path` (in the data) relative to descriptor 3 with `oflags`, copies what it
/// reads to stdout; exits with the errno of a failed call.
fn cat(path: &str, oflags: u32) -> String {
    program(
        &format!(
            r#"(call $check (call $path_open (i32.const 3) (i32.const 1) (i32.const 256)
                 (i32.const {len}) (i32.const {oflags}) (i64.const 0x2000042) (i64.const 0)
                 (i32.const 0) (i32.const 0)))
               (i32.store (i32.const 32) (i32.const 4096))
               (i32.store (i32.const 36) (i32.const 4096))
               (call $check (call $fd_read (i32.load (i32.const 0)) (i32.const 32) (i32.const 1)
                 (i32.const 40)))
               (call $print (i32.const 4096) (i32.load (i32.const 40)))"#,
            len = path.len()
        ),
        &format!(r#"(data (i32.const 256) "{path}")"#),
    )
}

#[test]
fn arguments_follow_the_program_name() {
    let dir = scratch("args");
    let path = write_program(&dir, "args.wat", &print_args());
    let output = run(&["run", &path, "one", "--two", "-3", "four five"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "args.wat\none\n--two\n-3\nfour five\n");
    let output = run(&["run", "--argv0", "renamed", &path, "x"]);
    assert_eq!(stdout(&output), "renamed\nx\n");
}

#[test]
fn environment_is_only_what_is_granted() {
    let dir = scratch("env");
    let path = write_program(
        &dir,
        "env.wat",
        &program(
            r#"(call $check (call $environ_sizes_get (i32.const 0) (i32.const 4)))
               (call $check (call $environ_get (i32.const 1024) (i32.const 8192)))
               (call $print_strings (i32.load (i32.const 0)))"#,
            "",
        ),
    );
    let output = kestrel(&[
        "run",
        "--env",
        "A=1",
        "--env",
        "EMPTY=",
        "--env",
        "FROM_HOST",
        "--env",
        "NOT_SET",
        &path,
    ])
    .env("FROM_HOST", "host value")
    .env("SECRET", "not passed")
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "A=1\nEMPTY=\nFROM_HOST=host value\n");
}

#[test]
fn exit_status_is_the_programs() {
    let dir = scratch("exit");
    let path = write_program(
        &dir,
        "exit.wat",
        &program("(call $proc_exit (i32.const 42))", ""),
    );
    let output = run(&["run", &path]);
    assert_eq!(output.status.code(), Some(42));
    assert_eq!(stderr(&output), "");
    let path = write_program(
        &dir,
        "zero.wat",
        &program("(call $proc_exit (i32.const 0))", ""),
    );
    assert_eq!(run(&["run", &path]).status.code(), Some(0));
    // Statuses from 126 on are refused (they mean "could not run" or a signal to a shell).
    let path = write_program(
        &dir,
        "big.wat",
        &program("(call $proc_exit (i32.const 300))", ""),
    );
    let output = run(&["run", &path]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("exit status"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn raising_a_terminating_signal_exits_as_killed() {
    let dir = scratch("raise");
    let path = write_program(
        &dir,
        "raise.wat",
        &program(
            r#"(drop (call $proc_raise (i32.const 27)))
               (call $print (i32.const 256) (i32.const 6))
               (drop (call $proc_raise (i32.const 15)))
               (call $print (i32.const 256) (i32.const 6))"#,
            r#"(data (i32.const 256) "alive\n")"#,
        ),
    );
    let output = run(&["run", &path]);
    assert_eq!(output.status.code(), Some(128 + 15));
    assert_eq!(stdout(&output), "alive\n");
    assert!(stderr(&output).contains("SIGTERM"), "{}", stderr(&output));
}

#[test]
fn a_trap_keeps_earlier_output() {
    let dir = scratch("trap");
    let path = write_program(
        &dir,
        "trap.wat",
        &program(
            r#"(call $print (i32.const 256) (i32.const 14)) unreachable"#,
            r#"(data (i32.const 256) "partial output")"#,
        ),
    );
    let output = run(&["run", &path]);
    assert_eq!(output.status.code(), Some(134));
    assert_eq!(stdout(&output), "partial output");
    let stderr = stderr(&output);
    assert!(stderr.contains("unreachable"), "{stderr}");
    assert!(stderr.contains("wasm backtrace"), "{stderr}");
}

#[test]
fn stdin_is_inherited() {
    let dir = scratch("stdin");
    let path = write_program(
        &dir,
        "echo.wat",
        &program(
            r#"(i32.store (i32.const 32) (i32.const 4096))
               (i32.store (i32.const 36) (i32.const 100))
               (call $check (call $fd_read (i32.const 0) (i32.const 32) (i32.const 1) (i32.const 40)))
               (call $print (i32.const 4096) (i32.load (i32.const 40)))"#,
            "",
        ),
    );
    let mut child = kestrel(&["run", &path])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"echoed").unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout(&output), "echoed");
}

#[test]
fn dir_grants_one_directory_under_a_guest_name() {
    let dir = scratch("dir");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("data/input.txt"), "file contents").unwrap();
    let data = dir.join("data");
    let data = data.to_str().unwrap();
    let path = write_program(&dir, "cat.wat", &cat("input.txt", 0));
    let output = run(&["run", "--dir", &format!("{data}::/sandbox"), &path]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "file contents");

    let name = write_program(
        &dir,
        "prestat.wat",
        &program(
            r#"(call $check (call $fd_prestat_get (i32.const 3) (i32.const 0)))
               (call $check (call $fd_prestat_dir_name (i32.const 3) (i32.const 4096)
                 (i32.load (i32.const 4))))
               (call $print (i32.const 4096) (i32.load (i32.const 4)))"#,
            "",
        ),
    );
    let output = run(&["run", "--dir", &format!("{data}::/sandbox"), &name]);
    assert_eq!(stdout(&output), "/sandbox");
    // Without `::GUEST`, the guest sees the path as written.
    let output = kestrel(&["run", "--dir", "data", &name])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(stdout(&output), "data");
    // No --dir: nothing is preopened.
    let output = run(&["run", &name]);
    assert_eq!(output.status.code(), Some(8), "badf");

    let output = run(&["run", "--dir", "/does/not/exist", &path]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).starts_with("error: --dir `/does/not/exist`"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_program_cannot_leave_its_directory() {
    let dir = scratch("escape");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("secret.txt"), "host secret").unwrap();
    std::os::unix::fs::symlink("../secret.txt", dir.join("data/link")).unwrap();
    let data = dir.join("data");
    let data = data.to_str().unwrap();
    const NOTCAPABLE: i32 = 76;
    const CREAT_TRUNC: u32 = 1 | 8;
    let secret = dir.join("secret.txt");
    for (name, target, oflags) in [
        ("up.wat", "../secret.txt", 0),
        ("up-write.wat", "../secret.txt", CREAT_TRUNC),
        ("absolute.wat", secret.to_str().unwrap(), CREAT_TRUNC),
        ("link.wat", "link", 0),
        ("link-write.wat", "link", CREAT_TRUNC),
    ] {
        let path = write_program(&dir, name, &cat(target, oflags));
        let output = run(&["run", "--dir", &format!("{data}::/"), &path]);
        assert_eq!(
            output.status.code(),
            Some(NOTCAPABLE),
            "{name}: {}",
            stderr(&output)
        );
        assert_eq!(stdout(&output), "", "{name}");
        assert_eq!(
            std::fs::read_to_string(&secret).unwrap(),
            "host secret",
            "{name}"
        );
    }
}

#[test]
fn preload_provides_imports() {
    let dir = scratch("preload");
    let helper = write_program(
        &dir,
        "helper.wat",
        r#"(module (func (export "answer") (result i32) (i32.const 42)))"#,
    );
    let main = write_program(
        &dir,
        "main.wat",
        r#"(module
  (import "helper" "answer" (func $answer (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (call $proc_exit (call $answer))))"#,
    );
    let output = run(&["run", "--preload", &format!("helper={helper}"), &main]);
    assert_eq!(output.status.code(), Some(42), "{}", stderr(&output));
    let output = run(&["run", &main]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("cannot link"),
        "{}",
        stderr(&output)
    );
    let output = run(&["run", "--preload", "helper", &main]);
    assert!(stderr(&output).contains("NAME=FILE"), "{}", stderr(&output));
}
