//! Runs every Sightglass benchmark program (`../shared/bench/sightglass`, or
//! `KESTREL_SIGHTGLASS`) as the benchmark harness would: `kestrel run --dir . FILE` from the
//! program's own folder, with the `bench.start`/`bench.end` imports provided by a preloaded
//! module (`--preload bench=...`). Each must exit 0 and print exactly its
//! `NAME.stdout.expected` / `NAME.stderr.expected` (`default.*.expected` in `libsodium/`),
//! where those files exist.
//!
//! The comparison is byte for byte, with one allowance: an expected file that does not end
//! in a newline also matches output that adds one (`libsodium/default.stdout.expected` is
//! `0` while its programs print `0\n`, under Wasmtime too).
//!
//! Every program runs, on the default engine (tiered): the slowest, `shootout-ed25519`,
//! takes about 10 s (51 s on the interpreter alone).
//!
//! The last line is `sightglass: N passed, M failed`. Its own `main` (no libtest) so each
//! program's verdict and time are visible in `cargo test`'s output.

use kestrel_spec_tests::corpus::Corpus;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// The benchmark harness's imports, which do nothing here: the test checks output, not time.
const BENCH_MODULE: &str = r#"(module (func (export "start")) (func (export "end")))"#;

enum Verdict {
    Passed,
    Failed(String),
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Behave like a libtest binary with one test named `sightglass`.
    if args.iter().any(|arg| arg == "--list") {
        println!("sightglass: test");
        return ExitCode::SUCCESS;
    }
    let filters: Vec<&String> = args.iter().filter(|arg| !arg.starts_with('-')).collect();
    if !filters.is_empty()
        && !filters
            .iter()
            .any(|filter| "sightglass".contains(filter.as_str()))
    {
        return ExitCode::SUCCESS;
    }

    let root = match Corpus::Sightglass.locate() {
        Ok(root) => root,
        Err(error) => {
            println!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let programs = match programs(&root) {
        Ok(programs) => programs,
        Err(error) => {
            println!("error: cannot list `{}`: {error}", root.display());
            return ExitCode::FAILURE;
        }
    };
    let bench = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sightglass-bench.wat");
    if let Err(error) = std::fs::write(&bench, BENCH_MODULE) {
        println!("error: cannot write `{}`: {error}", bench.display());
        return ExitCode::FAILURE;
    }

    let start = Instant::now();
    let next = AtomicUsize::new(0);
    let verdicts: Mutex<Vec<Option<Verdict>>> = Mutex::new(programs.iter().map(|_| None).collect());
    let jobs = kestrel_spec_tests::default_jobs()
        .min(programs.len())
        .max(1);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(name) = programs.get(index) else {
                        break;
                    };
                    let program_start = Instant::now();
                    let verdict = judge(&root, name, &bench);
                    let mut out = std::io::stdout().lock();
                    use std::io::Write;
                    let _ = match &verdict {
                        Verdict::Passed => writeln!(
                            out,
                            "PASS {name} ({:.1}s)",
                            program_start.elapsed().as_secs_f64()
                        ),
                        Verdict::Failed(why) => writeln!(out, "FAIL {name}: {why}"),
                    };
                    verdicts.lock().unwrap_or_else(|poison| poison.into_inner())[index] =
                        Some(verdict);
                }
            });
        }
    });
    let verdicts = verdicts
        .into_inner()
        .unwrap_or_else(|poison| poison.into_inner());
    let count =
        |wanted: fn(&Verdict) -> bool| verdicts.iter().flatten().filter(|v| wanted(v)).count();
    let passed = count(|verdict| matches!(verdict, Verdict::Passed));
    let failed = count(|verdict| matches!(verdict, Verdict::Failed(_)));
    println!("sightglass took {:.1}s", start.elapsed().as_secs_f64());
    println!("sightglass: {passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Every `.wasm` in the corpus's folders, as `folder/file.wasm`, sorted.
fn programs(root: &Path) -> std::io::Result<Vec<String>> {
    let mut programs = Vec::new();
    for folder in std::fs::read_dir(root)? {
        let folder = folder?.path();
        if !folder.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&folder)? {
            let file = file?.path();
            if file
                .extension()
                .is_some_and(|extension| extension == "wasm")
            {
                let relative = file.strip_prefix(root).unwrap_or(&file);
                programs.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    programs.sort();
    Ok(programs)
}

fn kestrel() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kestrel"))
}

fn judge(root: &Path, name: &str, bench: &Path) -> Verdict {
    let path = root.join(name);
    let folder = path.parent().unwrap_or(root);
    let file = path.file_name().unwrap_or_default();
    let output = kestrel()
        .current_dir(folder)
        .args(["run", "--dir", ".", "--preload"])
        .arg(format!("bench={}", bench.display()))
        .arg(file)
        .stdin(Stdio::null())
        .output();
    let output = match output {
        Ok(output) => output,
        Err(error) => return Verdict::Failed(format!("cannot start kestrel: {error}")),
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Verdict::Failed(format!(
            "exit status {:?}; stderr: {}",
            output.status.code(),
            stderr.trim_end()
        ));
    }
    let stem = Path::new(file)
        .file_stem()
        .unwrap_or_default()
        .to_string_lossy();
    let mut problems = Vec::new();
    for (stream, actual) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        let expected = [stem.as_ref(), "default"]
            .iter()
            .map(|prefix| folder.join(format!("{prefix}.{stream}.expected")))
            .find(|candidate| candidate.is_file());
        let Some(expected) = expected else { continue };
        match std::fs::read(&expected) {
            Ok(expected_bytes) if output_matches(&expected_bytes, actual) => {}
            Ok(expected_bytes) => problems.push(format!(
                "{stream} differs from `{}`:\n--- expected\n{}\n--- actual\n{}",
                expected.display(),
                String::from_utf8_lossy(&expected_bytes).trim_end(),
                String::from_utf8_lossy(actual).trim_end()
            )),
            Err(error) => problems.push(format!("cannot read `{}`: {error}", expected.display())),
        }
    }
    if problems.is_empty() {
        Verdict::Passed
    } else {
        Verdict::Failed(problems.join("\n"))
    }
}

/// Whether `actual` is `expected`, or `expected` plus the final newline it lacks.
fn output_matches(expected: &[u8], actual: &[u8]) -> bool {
    expected == actual
        || (!expected.ends_with(b"\n") && actual.strip_suffix(b"\n") == Some(expected))
}
