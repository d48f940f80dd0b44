//! Hostile files given to `kestrel run`, `validate` and `wast`: empty, truncated, random,
//! and huge (64 MiB of zeros behind a valid header, made in a temp dir at test time, never
//! committed). `run` and `validate` must give a clean failure: a non-zero status and one
//! `error:` line, never a panic or a Rust backtrace. `wast` reports a script that cannot be
//! read or parsed as one failed directive of its usual report (stdout, status 1), so its
//! check is that report instead of an `error:` line.

use std::path::PathBuf;
use std::process::{Command, Output};

fn kestrel(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kestrel"))
        .args(args)
        // A panic would print a backtrace with this set; make sure none does.
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("failed to start the kestrel binary")
}

/// Writes `contents` to a scratch file named `name` and returns its path.
fn scratch_file(name: &str, contents: &[u8]) -> String {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("robustness-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path.to_str().unwrap().to_owned()
}

/// The command failed cleanly: non-zero status (not a signal), a first line starting
/// `error:`, exactly one `error:` line, and no sign of a panic or backtrace.
#[track_caller]
fn assert_clean_failure(output: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let context = format!("{what}: status {:?}, stderr:\n{stderr}", output.status);
    let code = output.status.code();
    assert!(code.is_some(), "killed by a signal: {context}");
    assert_ne!(code, Some(0), "{context}");
    assert_ne!(code, Some(101), "the status of a Rust panic: {context}");
    for bad in ["panicked", "stack backtrace", "RUST_BACKTRACE"] {
        assert!(!stderr.contains(bad), "`{bad}` in {context}");
    }
    assert!(stderr.starts_with("error: "), "{context}");
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("error:")).count(),
        1,
        "{context}"
    );
}

/// Runs `file` through every subcommand and engine that reads a module or script.
#[track_caller]
fn assert_rejected_everywhere(name: &str, contents: &[u8]) {
    let path = scratch_file(name, contents);
    for engine in ["interp", "jit"] {
        let output = kestrel(&["run", "--engine", engine, &path]);
        assert_clean_failure(&output, &format!("run --engine {engine} {name}"));
        let output = kestrel(&["run", "--engine", engine, "--invoke", "f", &path]);
        assert_clean_failure(&output, &format!("run --invoke f {name}"));
    }
    assert_clean_failure(&kestrel(&["validate", &path]), &format!("validate {name}"));
    assert_script_failure(&kestrel(&["wast", &path]), &format!("wast {name}"));
}

/// `kestrel wast` failed cleanly: status 1, no panic or backtrace, and the report's
/// `FAIL` line and one failed directive.
#[track_caller]
fn assert_script_failure(output: &Output, what: &str) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let context = format!(
        "{what}: status {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    assert_eq!(output.status.code(), Some(1), "{context}");
    for bad in ["panicked", "stack backtrace", "RUST_BACKTRACE"] {
        assert!(
            !stderr.contains(bad) && !stdout.contains(bad),
            "`{bad}` in {context}"
        );
    }
    assert!(stdout.starts_with("FAIL "), "{context}");
    assert!(stdout.contains("spec: 0 passed, 1 failed"), "{context}");
}

/// A splitmix64 step, for reproducible random files.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed;
    (0..len).map(|_| next(&mut state) as u8).collect()
}

/// A valid module with a function, memory, data and an export, to truncate.
const MODULE: &str = r#"(module
  (memory (export "memory") 1 2)
  (data (i32.const 8) "hello")
  (global $g (mut i32) (i32.const 7))
  (func (export "f") (param i32) (result i32)
    (i32.add (local.get 0) (global.get $g)))
  (func (export "_start")))"#;

/// The offsets where the sections of a module binary end.
fn section_boundaries(binary: &[u8]) -> Vec<usize> {
    let mut at = 8;
    let mut ends = Vec::new();
    while at < binary.len() {
        at += 1; // section id
        let (mut size, mut shift) = (0usize, 0);
        loop {
            let byte = binary[at];
            at += 1;
            size |= ((byte & 0x7f) as usize) << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                break;
            }
        }
        at += size;
        ends.push(at);
    }
    ends
}

#[test]
fn empty_file() {
    assert_rejected_everywhere("empty.wasm", b"");
    assert_rejected_everywhere("empty.wat", b"");
}

#[test]
fn header_only_and_bad_headers() {
    // A header alone is a valid empty module: `validate` accepts it, and `run` (like
    // Wasmtime's) instantiates it and, finding no `_start`, does nothing; `--invoke` of a
    // missing export is an error.
    let path = scratch_file("header.wasm", b"\0asm\x01\0\0\0");
    assert!(kestrel(&["validate", &path]).status.success());
    assert!(kestrel(&["run", &path]).status.success());
    assert_clean_failure(
        &kestrel(&["run", "--invoke", "f", &path]),
        "run --invoke f header.wasm",
    );
    assert_rejected_everywhere("bad-version.wasm", b"\0asm\x02\0\0\0");
    assert_rejected_everywhere("short-magic.wasm", b"\0as");
    assert_rejected_everywhere("component.wasm", b"\0asm\x0d\0\x01\0");
}

#[test]
fn truncated_modules() {
    let binary = wat::parse_str(MODULE).unwrap();
    // Every prefix cut inside a section is malformed. (A cut at a section boundary can
    // be a valid module, so those are left out.)
    let boundaries = section_boundaries(&binary);
    for len in 9..binary.len() {
        if boundaries.contains(&len) {
            continue;
        }
        assert_rejected_everywhere(&format!("truncated-{len}.wasm"), &binary[..len]);
    }
    // And the text, cut mid-way.
    for len in [1, 10, MODULE.len() / 2, MODULE.len() - 1] {
        let text = &MODULE.as_bytes()[..len];
        assert_rejected_everywhere(&format!("truncated-{len}.wat"), text);
    }
}

#[test]
fn random_files() {
    for seed in 0..8u64 {
        let len = 1 + (seed as usize * 997) % 5000;
        let mut bytes = random_bytes(seed, len);
        assert_rejected_everywhere(&format!("random-{seed}.bin"), &bytes);
        // Behind a valid header, so the section parser sees it.
        bytes.splice(0..0, *b"\0asm\x01\0\0\0");
        assert_rejected_everywhere(&format!("random-header-{seed}.wasm"), &bytes);
    }
    // Invalid UTF-8 to the text parsers.
    assert_rejected_everywhere("latin1.wat", b"(module \xff\xfe)");
}

#[test]
fn huge_file() {
    // 64 MiB of zeros behind a header: made here, not committed. The first zero is a custom
    // section of size 0, which has no room for its name, so it is malformed right away;
    // what matters is that reading a file this size neither panics nor hangs.
    let mut bytes = b"\0asm\x01\0\0\0".to_vec();
    bytes.resize(64 << 20, 0);
    let path = scratch_file("zeros-64MiB.wasm", &bytes);
    for args in [
        vec!["validate", path.as_str()],
        vec!["run", path.as_str()],
        vec!["run", "--engine", "jit", path.as_str()],
    ] {
        assert_clean_failure(&kestrel(&args), &format!("{args:?}"));
    }
    assert_script_failure(&kestrel(&["wast", &path]), "wast zeros-64MiB.wasm");
    std::fs::remove_file(&path).ok();
    // A section that claims 4 GiB of contents in a small file.
    let mut bytes = b"\0asm\x01\0\0\0\x01\xff\xff\xff\xff\x0f".to_vec();
    bytes.extend([0; 100]);
    assert_rejected_everywhere("huge-section-size.wasm", &bytes);
    // A function section declaring 2^32 - 1 functions in five bytes.
    let mut bytes = b"\0asm\x01\0\0\0".to_vec();
    bytes.extend([0x03, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    assert_rejected_everywhere("huge-func-count.wasm", &bytes);
}

#[test]
fn wast_scripts_with_garbage() {
    for (name, text) in [
        ("unclosed.wast", &b"(module (func"[..]),
        ("bad-directive.wast", b"(assert_return (invoke \"nope\"))"),
        ("bad-module.wast", b"(module binary \"\\00asm\\01\")"),
        ("random.wast", &random_bytes(42, 300)),
    ] {
        let path = scratch_file(name, text);
        assert_script_failure(&kestrel(&["wast", &path]), name);
    }
}
