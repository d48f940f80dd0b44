//! Runs every Sightglass benchmark program (`../shared/bench/sightglass`, or
//! `KESTREL_SIGHTGLASS`) as the benchmark harness would: `kestrel run --dir . FILE` from the
//! program's own folder, with the `bench.start`/`bench.end` imports provided by a preloaded
//! module (`--preload bench=...`). Each must exit 0 and print exactly its
//! `NAME.stdout.expected` / `NAME.stderr.expected` (`default.*.expected` in `libsodium/`),
//! where those files exist.
//!
//! The comparison is byte for byte, with one allowance: an expected file that does not end
//! in a newline also matches output that adds one (`libsodium/default.stdout.expected` is
//! `0` while its programs print `0\n`, under Wasmtime too). The list of programs and the
//! comparison are `kestrel_spec_tests::sightglass`'s, shared with the `execute` benchmarks.
//!
//! Every program runs, on the default engine (tiered): the slowest, `shootout-ed25519`,
//! takes about 10 s (51 s on the interpreter alone).
//!
//! The last line is `sightglass: N passed, M failed`. Its own `main` (no libtest) so each
//! program's verdict and time are visible in `cargo test`'s output.

use kestrel_spec_tests::corpus::Corpus;
use kestrel_spec_tests::sightglass::{self, Program};
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
    let programs = match sightglass::programs(&root) {
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
                    let Some(program) = programs.get(index) else {
                        break;
                    };
                    let name = &program.name;
                    let program_start = Instant::now();
                    let verdict = judge(program, &bench);
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

fn kestrel() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kestrel"))
}

fn judge(program: &Program, bench: &Path) -> Verdict {
    let file = program.path.file_name().unwrap_or_default();
    let output = kestrel()
        .current_dir(&program.folder)
        .args(["run", "--dir", ".", "--preload"])
        .arg(format!("bench={}", bench.display()))
        .arg(file)
        .stdin(Stdio::null())
        .output();
    let output = match output {
        Ok(output) => output,
        Err(error) => return Verdict::Failed(format!("cannot start kestrel: {error}")),
    };
    if !output.status.success() {
        return Verdict::Failed(format!(
            "exit status {:?}; stderr: {}",
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).trim_end()
        ));
    }
    match program.check_output(&output.stdout, &output.stderr) {
        Ok(()) => Verdict::Passed,
        Err(problems) => Verdict::Failed(problems),
    }
}
