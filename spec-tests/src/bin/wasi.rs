//! `wasi`: runs the WASI preview1 conformance tests (WebAssembly/wasi-testsuite, every
//! `tests/{rust,c,assemblyscript}/testsuite/wasm32-wasip1/*.wasm`) through the embedding API
//! and `kestrel-wasi`, and prints one line per test and `wasi: N passed, M failed` last.
//! Exits 1 when a test failed.
//!
//! Each test runs as upstream's runner runs it: its `NAME.json` (when present) gives the
//! arguments after the program name, the exact environment, the directory preopened as the
//! guest's `/` (`root`), and the expected exit code, stdout and stderr (compared exactly
//! when given; the exit code defaults to 0). The root directory is copied to a scratch
//! place first (tests create and delete files in it), without `*.cleanup` files. Stdin is
//! empty; stdout and stderr are captured.
//!
//! A test whose module does not compile (a Wasm feature Kestrel lacks, such as SIMD)
//! counts as failed, with the reason; so does a trap (reported with exit code 134, as
//! `kestrel run` exits) and a panic in the engine.

use clap::Parser;
use kestrel::{Config, Engine, Linker, Module, Store};
use kestrel_spec_tests::EngineKind;
use kestrel_spec_tests::corpus::Corpus;
use kestrel_wasi::{I32Exit, MemoryInputPipe, MemoryOutputPipe, WasiCtx, WasiCtxBuilder};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The languages whose tests are run, each in `tests/<language>/testsuite/wasm32-wasip1/`.
const LANGUAGES: &[&str] = &["rust", "c", "assemblyscript"];

/// The exit status `kestrel run` reports for a trap (an abort's, as Wasmtime).
const TRAP_EXIT_CODE: i32 = 134;

/// Runs the WASI preview1 test suite on Kestrel.
///
/// The suite is found through KESTREL_WASI_TESTSUITE, then ../shared/wasi-testsuite.
#[derive(Debug, Parser)]
#[command(name = "wasi", version)]
struct Args {
    /// The engine to run the tests on.
    #[arg(long, value_enum, default_value_t = EngineKind::Interp)]
    engine: EngineKind,
    /// Threads to run tests on (default: 2, or 1 on a single core).
    #[arg(short, long)]
    jobs: Option<usize>,
    /// Keep each test's scratch directory (printed for failing tests) instead of removing it.
    #[arg(long)]
    keep: bool,
    /// Run only these tests: a name (`fd_readdir`), a language and name
    /// (`rust/fd_readdir`), or the path of a test's `.wasm` file.
    #[arg(value_name = "TEST")]
    tests: Vec<String>,
}

/// One test: a module and what its JSON spec says.
#[derive(Debug)]
struct Test {
    /// `<language>/<name>`.
    name: String,
    wasm: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    /// The folder preopened as `/`, relative to the module's folder.
    root: Option<String>,
    exit_code: i32,
    stdout: Option<String>,
    stderr: Option<String>,
}

struct Report {
    name: String,
    passed: bool,
    elapsed: Duration,
    /// Why it failed, one problem per line.
    details: String,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let root = match Corpus::WasiTestsuite.locate() {
        Ok(root) => root,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut tests = match collect(&root) {
        Ok(tests) => tests,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::FAILURE;
        }
    };
    if !args.tests.is_empty() {
        for filter in &args.tests {
            if !tests.iter().any(|test| test.matches(filter)) {
                eprintln!("error: no WASI test matches `{filter}`");
                return ExitCode::FAILURE;
            }
        }
        tests.retain(|test| args.tests.iter().any(|filter| test.matches(filter)));
    }

    let mut config = Config::new();
    args.engine.configure(&mut config);
    let engine = match Engine::new(&config) {
        Ok(engine) => engine,
        Err(error) => {
            eprintln!("error: cannot create the engine: {error}");
            return ExitCode::FAILURE;
        }
    };
    let scratch = std::env::temp_dir().join(format!("kestrel-wasi-tests-{}", std::process::id()));
    let jobs = args
        .jobs
        .unwrap_or_else(kestrel_spec_tests::default_jobs)
        .max(1);

    let next = AtomicUsize::new(0);
    let (sender, receiver) = mpsc::channel::<(usize, Report)>();
    let (mut passed, mut failed) = (0usize, 0usize);
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(tests.len()) {
            let sender = sender.clone();
            let (tests, next, engine, scratch) = (&tests, &next, &engine, &scratch);
            let keep = args.keep;
            scope.spawn(move || {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(test) = tests.get(index) else { break };
                    let report = run_test(test, engine, &scratch.join(index.to_string()), keep);
                    if sender.send((index, report)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        // Print in the tests' order, as results arrive.
        let mut pending = BTreeMap::new();
        let mut next_to_print = 0;
        let stdout = std::io::stdout();
        for (index, report) in receiver {
            pending.insert(index, report);
            while let Some(report) = pending.remove(&next_to_print) {
                next_to_print += 1;
                if report.passed {
                    passed += 1;
                } else {
                    failed += 1;
                }
                let mut out = stdout.lock();
                // A closed pipe (`| head`) is not worth a panic.
                let _ = writeln!(
                    out,
                    "{} {} ({:.2}s)",
                    if report.passed { "PASS" } else { "FAIL" },
                    report.name,
                    report.elapsed.as_secs_f64()
                );
                for line in report.details.lines() {
                    let _ = writeln!(out, "    {line}");
                }
                let _ = out.flush();
            }
        }
    });
    let _ = std::fs::remove_dir(&scratch);
    println!("wasi: {passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Every test of the suite at `root`, sorted by name.
fn collect(root: &Path) -> Result<Vec<Test>, String> {
    let mut tests = Vec::new();
    for language in LANGUAGES {
        let folder = root
            .join("tests")
            .join(language)
            .join("testsuite")
            .join("wasm32-wasip1");
        let entries = std::fs::read_dir(&folder)
            .map_err(|error| format!("cannot read `{}`: {error}", folder.display()))?;
        for entry in entries {
            let path = entry
                .map_err(|error| format!("cannot read `{}`: {error}", folder.display()))?
                .path();
            if path
                .extension()
                .is_some_and(|extension| extension == "wasm")
            {
                tests.push(Test::load(language, path)?);
            }
        }
    }
    if tests.is_empty() {
        return Err(format!("no tests in `{}`", root.display()));
    }
    tests.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(tests)
}

impl Test {
    /// Reads the test's spec, `NAME.json` next to `NAME.wasm`, if there is one.
    fn load(language: &str, wasm: PathBuf) -> Result<Test, String> {
        let stem = wasm
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut test = Test {
            name: format!("{language}/{stem}"),
            wasm,
            args: Vec::new(),
            env: Vec::new(),
            root: None,
            exit_code: 0,
            stdout: None,
            stderr: None,
        };
        let spec_path = test.wasm.with_extension("json");
        let text = match std::fs::read_to_string(&spec_path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(test),
            Err(error) => return Err(format!("cannot read `{}`: {error}", spec_path.display())),
        };
        let invalid = |what: &str| format!("`{}`: {what}", spec_path.display());
        let spec: serde_json::Value = serde_json::from_str(&text)
            .map_err(|error| invalid(&format!("invalid JSON: {error}")))?;
        let spec = spec.as_object().ok_or_else(|| invalid("not an object"))?;
        let string = |value: &serde_json::Value, what: &str| {
            value
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| invalid(&format!("`{what}` must be a string")))
        };
        for (key, value) in spec {
            match key.as_str() {
                "args" => {
                    let args = value
                        .as_array()
                        .ok_or_else(|| invalid("`args` must be an array"))?;
                    test.args = args
                        .iter()
                        .map(|arg| string(arg, "args"))
                        .collect::<Result<_, _>>()?;
                }
                "env" => {
                    let env = value
                        .as_object()
                        .ok_or_else(|| invalid("`env` must be an object"))?;
                    test.env = env
                        .iter()
                        .map(|(name, value)| Ok((name.clone(), string(value, "env")?)))
                        .collect::<Result<_, String>>()?;
                }
                "root" => {
                    test.root = if value.is_null() {
                        None
                    } else {
                        Some(string(value, "root")?)
                    };
                }
                "exit_code" => {
                    test.exit_code = value
                        .as_i64()
                        .and_then(|code| i32::try_from(code).ok())
                        .ok_or_else(|| invalid("`exit_code` must be an integer"))?;
                }
                "stdout" => test.stdout = Some(string(value, "stdout")?),
                "stderr" => test.stderr = Some(string(value, "stderr")?),
                // A field this runner does not know could change what passing means.
                other => return Err(invalid(&format!("unknown field `{other}`"))),
            }
        }
        Ok(test)
    }

    fn matches(&self, filter: &str) -> bool {
        let stem = self.name.rsplit('/').next().unwrap_or(&self.name);
        filter == self.name
            || filter == stem
            || Path::new(filter)
                .canonicalize()
                .is_ok_and(|path| Some(path) == self.wasm.canonicalize().ok())
    }
}

/// How a run ended.
struct Outcome {
    exit_code: i32,
    /// Why the program did not exit normally (a trap, an error).
    error: Option<String>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

fn run_test(test: &Test, engine: &Engine, scratch: &Path, keep: bool) -> Report {
    let start = Instant::now();
    let result = panic::catch_unwind(AssertUnwindSafe(|| run_module(test, engine, scratch)));
    let details = match result {
        Ok(Ok(outcome)) => check(test, &outcome),
        Ok(Err(message)) => message,
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|message| (*message).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(no message)".to_owned());
            format!("panicked: {message}")
        }
    };
    let mut details = details;
    if keep {
        let _ = writeln!(details, "scratch directory: {}", scratch.display());
    } else {
        let _ = std::fs::remove_dir_all(scratch);
    }
    Report {
        name: test.name.clone(),
        passed: details.is_empty(),
        elapsed: start.elapsed(),
        details: details.trim_end().to_owned(),
    }
}

/// Compiles and runs the test's module; `Err` when it could not be run at all.
fn run_module(test: &Test, engine: &Engine, scratch: &Path) -> Result<Outcome, String> {
    let bytes = std::fs::read(&test.wasm)
        .map_err(|error| format!("cannot read `{}`: {error}", test.wasm.display()))?;
    let module = Module::new(engine, &bytes).map_err(|error| format!("cannot compile: {error}"))?;

    let program = test
        .wasm
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stdout = MemoryOutputPipe::new();
    let stderr = MemoryOutputPipe::new();
    let mut builder = WasiCtxBuilder::new();
    builder
        .arg(program)
        .args(&test.args)
        .envs(&test.env)
        .stdin(MemoryInputPipe::new(Vec::new()))
        .stdout(stdout.clone())
        .stderr(stderr.clone());
    if let Some(root) = &test.root {
        let source = test.wasm.parent().unwrap_or(Path::new(".")).join(root);
        let copy = scratch.join(root);
        copy_tree(&source, &copy).map_err(|error| {
            format!(
                "cannot copy `{}` to `{}`: {error}",
                source.display(),
                copy.display()
            )
        })?;
        builder
            .preopened_dir(&copy, "/")
            .map_err(|error| error.to_string())?;
    }

    let mut linker: Linker<WasiCtx> = Linker::new(engine);
    kestrel_wasi::add_to_linker(&mut linker, |ctx| ctx).map_err(|error| error.to_string())?;
    let mut store = Store::new(engine, builder.build());
    let result = linker
        .instantiate(&mut store, &module)
        .and_then(|instance| instance.get_typed_func::<(), ()>(&mut store, "_start"))
        .and_then(|start| start.call(&mut store, ()));
    let (exit_code, error) = match result {
        Ok(()) => (0, None),
        Err(error) => match error.downcast_ref::<I32Exit>() {
            Some(exit) => (exit.0, None),
            None if error.trap_code().is_some() || error.kind() == kestrel::ErrorKind::Trap => {
                (TRAP_EXIT_CODE, Some(format!("{error:#}")))
            }
            None => (1, Some(format!("{error:#}"))),
        },
    };
    Ok(Outcome {
        exit_code,
        error,
        stdout: stdout.contents(),
        stderr: stderr.contents(),
    })
}

/// What differs from the spec's expectations (empty when the test passed).
fn check(test: &Test, outcome: &Outcome) -> String {
    let mut problems = String::new();
    let stdout = String::from_utf8_lossy(&outcome.stdout);
    let stderr = String::from_utf8_lossy(&outcome.stderr);
    if outcome.exit_code != test.exit_code {
        let _ = writeln!(
            problems,
            "exit code {}, expected {}",
            outcome.exit_code, test.exit_code
        );
    }
    if let Some(expected) = &test.stdout
        && *expected != stdout
    {
        let _ = writeln!(problems, "stdout {stdout:?}, expected {expected:?}");
    }
    if let Some(expected) = &test.stderr
        && *expected != stderr
    {
        let _ = writeln!(problems, "stderr {stderr:?}, expected {expected:?}");
    }
    if !problems.is_empty() {
        if let Some(error) = &outcome.error {
            let _ = writeln!(problems, "error: {error}");
        }
        // The guest's own account of what went wrong (a Rust test's panic message).
        if test.stderr.is_none() && !stderr.is_empty() {
            let _ = writeln!(problems, "stderr: {}", stderr.trim_end());
        }
    }
    problems
}

/// Copies the directory `from` to `to`: contents, and symlinks as symlinks. Copies are
/// writable whatever the originals' modes (the corpus may be read-only).
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        // Left over by upstream's runner; never part of a test's starting state.
        if name.to_string_lossy().ends_with(".cleanup") {
            continue;
        }
        let (source, target) = (entry.path(), to.join(&name));
        let file_type = entry.file_type()?;
        if file_type.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&source)?, &target)?;
        } else if file_type.is_dir() {
            copy_tree(&source, &target)?;
        } else {
            std::fs::copy(&source, &target)?;
            let mut permissions = std::fs::metadata(&target)?.permissions();
            permissions.set_mode(permissions.mode() | 0o200);
            std::fs::set_permissions(&target, permissions)?;
        }
    }
    Ok(())
}
