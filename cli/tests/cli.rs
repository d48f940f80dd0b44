//! Runs the built `kestrel` binary: errors are one clean `error:` line with a non-zero
//! status (never a panic), results print one per line, traps print a backtrace.

use std::path::PathBuf;
use std::process::{Command, Output};

fn kestrel(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kestrel"))
        .args(args)
        .output()
        .expect("failed to start the kestrel binary")
}

/// Writes `contents` to a scratch file named `name` and returns its path.
fn scratch_file(name: &str, contents: impl AsRef<[u8]>) -> String {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path.to_str().unwrap().to_owned()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The command failed with status 1 and one `error:` line mentioning `expected`.
#[track_caller]
fn assert_clean_error(output: &Output, expected: &str) {
    let stderr = stderr(output);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
    assert!(stderr.starts_with("error: "), "stderr: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "stderr: {stderr}");
    assert!(
        stderr.contains(expected),
        "expected `{expected}` in stderr: {stderr}"
    );
}

const ADD: &str = r#"(module
  (func (export "add") (param i32 i64) (result i64)
    (i64.add (i64.extend_i32_s (local.get 0)) (local.get 1)))
  (memory (export "memory") 1))"#;

fn fib_example() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/fib.wat").to_owned()
}

#[test]
fn missing_file() {
    let output = kestrel(&["run", "does-not-exist.wasm"]);
    assert_clean_error(&output, "cannot read `does-not-exist.wasm`");
    let output = kestrel(&["validate", "does-not-exist.wat"]);
    assert_clean_error(&output, "cannot read `does-not-exist.wat`");
    let output = kestrel(&["wast", "does-not-exist.wast"]);
    assert_clean_error(&output, "does-not-exist.wast");
}

#[test]
fn malformed_text() {
    let path = scratch_file("malformed.wat", "(module (func (result i32) (i32.const)))");
    let output = kestrel(&["run", &path]);
    assert_clean_error(&output, "malformed.wat:1:");
    let output = kestrel(&["validate", &path]);
    assert_clean_error(&output, "malformed.wat:1:");
}

#[test]
fn malformed_binary() {
    let path = scratch_file("malformed.wasm", b"\0asm\x01\0\0\0\x01\x05");
    let output = kestrel(&["run", &path]);
    assert_clean_error(&output, "invalid module");
    let path = scratch_file("binary-garbage.wasm", [0xff, 0xfe, 0x00, 0x80]);
    let output = kestrel(&["run", &path]);
    assert_clean_error(&output, "neither a WebAssembly binary nor UTF-8 text");
}

#[test]
fn invalid_module() {
    let path = scratch_file("invalid.wat", "(module (func (result i32) (i64.const 1)))");
    let output = kestrel(&["validate", &path]);
    assert_clean_error(&output, "invalid module");
}

#[test]
fn validate_prints_nothing_on_success() {
    let path = scratch_file("add.wat", ADD);
    let output = kestrel(&["validate", &path]);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    assert_eq!(stdout(&output), "");
    assert_eq!(stderr(&output), "");
    let output = kestrel(&["validate", &fib_example()]);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
}

#[test]
fn unknown_export() {
    let path = scratch_file("add-unknown.wat", ADD);
    let output = kestrel(&["run", "--invoke", "sub", &path]);
    assert_clean_error(&output, "no export named `sub`");
    assert!(stderr(&output).contains("`add`"), "{}", stderr(&output));
}

#[test]
fn export_is_not_a_function() {
    let path = scratch_file("add-memory.wat", ADD);
    let output = kestrel(&["run", "--invoke", "memory", &path]);
    assert_clean_error(&output, "export `memory` is not a function");
}

#[test]
fn wrong_argument_count() {
    let path = scratch_file("add-count.wat", ADD);
    let output = kestrel(&["run", "--invoke", "add", &path, "1"]);
    assert_clean_error(
        &output,
        "`add` takes 2 arguments (i32, i64), but 1 was given",
    );
}

#[test]
fn bad_number() {
    let path = scratch_file("add-number.wat", ADD);
    let output = kestrel(&["run", "--invoke", "add", &path, "1", "two"]);
    assert_clean_error(&output, "argument 2 of `add`: `two` is not a valid i64");
    let output = kestrel(&["run", "--invoke", "add", &path, "0x1_0000_0000", "2"]);
    assert_clean_error(&output, "is not a valid i32");
}

#[test]
fn arguments_without_invoke() {
    let path = scratch_file("add-args.wat", ADD);
    let output = kestrel(&["run", &path, "1"]);
    assert_clean_error(&output, "--invoke");
}

#[test]
fn wasi_imports_link() {
    let path = scratch_file(
        "wasi.wat",
        r#"(module
  (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
  (func (export "_start") (call 0 (i32.const 0))))"#,
    );
    let output = kestrel(&["run", &path]);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    assert_eq!(stderr(&output), "");
}

#[test]
fn unknown_import_fails_to_link() {
    let path = scratch_file(
        "env-import.wat",
        r#"(module (import "env" "f" (func)) (func (export "_start")))"#,
    );
    let output = kestrel(&["run", &path]);
    assert_clean_error(&output, "cannot link");
}

#[test]
fn usage_errors_exit_2() {
    let output = kestrel(&["run"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(!stderr(&output).contains("panicked"));
    let output = kestrel(&["frobnicate"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn wast_without_execution() {
    let path = scratch_file(
        "no-execution.wast",
        r#"(module (func (export "f") (result i32) (i32.const 1)))
(assert_invalid (module (func (result i32) (i64.const 1))) "type mismatch")
(assert_malformed (module quote "(func (i32.const") "unexpected end")
(assert_malformed (module binary "\00asm\02\00\00\00") "unknown binary version")"#,
    );
    let output = kestrel(&["wast", &path]);
    let stdout = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "stdout: {stdout}");
    assert!(stdout.contains("PASS "), "{stdout}");
    assert_eq!(
        stdout.trim_end().lines().last(),
        Some("spec: 4 passed, 0 failed, 0 skipped")
    );
}

#[test]
fn wast_reports_failures() {
    let path = scratch_file(
        "failing.wast",
        r#"(assert_invalid (module (func (result i32) (i32.const 1))) "type mismatch")"#,
    );
    let output = kestrel(&["wast", &path]);
    let stdout = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "stdout: {stdout}");
    assert!(stdout.contains("FAIL "), "{stdout}");
    assert!(
        stdout.contains("failing.wast:1: assert_invalid:"),
        "{stdout}"
    );
    assert_eq!(
        stdout.trim_end().lines().last(),
        Some("spec: 0 passed, 1 failed, 0 skipped")
    );
}

/// The README's first command: a WASI program, run with the default engine.
#[test]
fn the_hello_example_greets() {
    let hello = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/hello.wat");
    let output = kestrel(&["run", hello]);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    assert_eq!(stdout(&output), "Hello from Kestrel!\n");
}

#[test]
fn invoke_prints_results() {
    let output = kestrel(&["run", "--invoke", "fib", &fib_example(), "20"]);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    assert_eq!(stdout(&output), "6765\n");

    let path = scratch_file("add-run.wat", ADD);
    let output = kestrel(&["run", "--invoke", "add", &path, "-1", "0x10"]);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    assert_eq!(stdout(&output), "15\n");
}

#[test]
fn trap_prints_message_and_backtrace() {
    let path = scratch_file(
        "trap.wat",
        r#"(module
  (func $divide (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func $run (export "run") (param i32) (result i32) (call $divide (i32.const 1) (local.get 0))))"#,
    );
    let output = kestrel(&["run", "--invoke", "run", &path, "0"]);
    let stderr = stderr(&output);
    let trap_status = if cfg!(windows) { 3 } else { 134 };
    assert_eq!(output.status.code(), Some(trap_status), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
    assert!(
        stderr.starts_with("error: failed to run main module"),
        "stderr: {stderr}"
    );
    assert!(
        stderr.contains("integer divide by zero"),
        "stderr: {stderr}"
    );
    assert!(stderr.contains("wasm backtrace:"), "stderr: {stderr}");
    assert!(stderr.contains("divide"), "stderr: {stderr}");
    assert!(stderr.contains("run"), "stderr: {stderr}");
}

#[test]
fn every_engine_runs_and_traps_alike() {
    let trap = scratch_file(
        "trap-engines.wat",
        r#"(module
  (func $divide (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func $run (export "run") (param i32) (result i32) (call $divide (i32.const 7) (local.get 0))))"#,
    );
    let mut traps = Vec::new();
    for engine in ["interp", "jit"] {
        let output = kestrel(&[
            "run",
            "--engine",
            engine,
            "--invoke",
            "fib",
            &fib_example(),
            "20",
        ]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{engine}: {}",
            stderr(&output)
        );
        assert_eq!(stdout(&output), "6765\n", "{engine}");
        let output = kestrel(&["run", "--engine", engine, "--invoke", "run", &trap, "2"]);
        assert_eq!(stdout(&output), "3\n", "{engine}: {}", stderr(&output));
        let output = kestrel(&["run", "--engine", engine, "--invoke", "run", &trap, "0"]);
        assert!(
            !stderr(&output).contains("panicked"),
            "{engine}: {}",
            stderr(&output)
        );
        traps.push((output.status.code(), stderr(&output)));
    }
    assert_eq!(
        traps[0], traps[1],
        "the trap and its backtrace are the same on every engine"
    );
}

const LIMITS: &str = r#"(module
  (memory (export "memory") 1)
  (func (export "spin") (loop $forever (br $forever)))
  (func (export "count") (param $n i32) (result i32) (local $i i32)
    ;; 8 fuel per iteration, then 1 for the final `local.get`.
    (loop $again
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $i))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#;

#[test]
fn fuel_stops_the_program_at_the_same_point_on_every_engine() {
    let file = scratch_file("limits-fuel.wat", LIMITS);
    for engine in ["interp", "jit", "tiered"] {
        // 10 iterations cost 80, and the final `local.get` 1 more.
        let output = kestrel(&[
            "run", "--engine", engine, "--fuel", "81", "--invoke", "count", &file, "10",
        ]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{engine}: {}",
            stderr(&output)
        );
        assert_eq!(stdout(&output), "10\n");
        let output = kestrel(&[
            "run", "--engine", engine, "--fuel", "80", "--invoke", "count", &file, "10",
        ]);
        assert_eq!(output.status.code(), Some(134), "{engine}");
        assert!(
            stderr(&output).contains("all fuel consumed by WebAssembly"),
            "{engine}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn timeout_interrupts_an_infinite_loop() {
    let file = scratch_file("limits-timeout.wat", LIMITS);
    for engine in ["interp", "jit", "tiered"] {
        let output = kestrel(&[
            "run",
            "--engine",
            engine,
            "--timeout",
            "200ms",
            "--invoke",
            "spin",
            &file,
        ]);
        assert_eq!(output.status.code(), Some(134), "{engine}");
        let stderr = stderr(&output);
        assert!(
            stderr.contains("time limit was reached"),
            "{engine}: {stderr}"
        );
        assert!(stderr.contains("interrupt"), "{engine}: {stderr}");
    }
    let output = kestrel(&["run", "--timeout", "soon", "--invoke", "spin", &file]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn max_memory_limits_growth_and_initial_size() {
    let file = scratch_file("limits-memory.wat", LIMITS);
    let grow = |delta: &str, limit: &str| {
        kestrel(&[
            "run",
            "--max-memory",
            limit,
            "--invoke",
            "grow",
            &file,
            delta,
        ])
    };
    assert_eq!(stdout(&grow("1", "131072")), "1\n");
    assert_eq!(stdout(&grow("2", "131072")), "-1\n");
    assert_clean_error(&grow("0", "65535"), "memory minimum size");
}
