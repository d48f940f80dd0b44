//! Kestrel's WebAssembly spec test harness, built only on the public `kestrel` API.
//!
//! - [`corpus`] finds the external test data (spec suites, WASI tests, benchmarks).
//! - [`spectest`] is the host module the scripts import.
//! - [`sightglass`] lists the Sightglass programs and checks their output (for the CLI's
//!   test and the `execute` benchmarks).
//! - [`run_file`] runs one `.wast` script in a fresh store and reports every directive;
//!   [`run_files`] runs many over a few threads. A panic in the engine fails its file and the
//!   run goes on.
//!
//! Counting rule: every directive counts once, as passed, failed or skipped. A directive
//! the engine cannot run is failed (or skipped with a reason, for proposals Kestrel does
//! not implement at all: threads, exceptions, components), never passed.
//!
//! The `kestrel-spec-tests` binary (`--suite 2.0|3.0`), `kestrel wast` and the
//! expected-failure test (`tests/spec.rs`) are thin layers over this library.

pub mod corpus;
mod script;
pub mod sightglass;
pub mod spectest;

pub use script::{Outcome, messages_match};

use corpus::{Corpus, CorpusNotFound};
use kestrel::{Config, Features, Strategy};
use std::cell::{Cell, RefCell};
use std::fmt;
use std::io::{self, Write};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Once, mpsc};

/// An execution engine configuration the suites run under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum EngineKind {
    /// The interpreter.
    Interp,
    /// The Cranelift JIT: every function compiled before it runs.
    Jit,
    /// Tiered: the interpreter first, hot functions and loops compiled by the JIT (spec
    /// scripts use thresholds of 1 and synchronous compilation, so they switch midway).
    Tiered,
}

impl EngineKind {
    /// Every engine; the expected-failure test runs the suites on each.
    pub const ALL: &'static [EngineKind] =
        &[EngineKind::Interp, EngineKind::Jit, EngineKind::Tiered];

    /// The name used on the command line and in expected-failure list names.
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Interp => "interp",
            EngineKind::Jit => "jit",
            EngineKind::Tiered => "tiered",
        }
    }

    /// Kestrel's default for programs: `tiered` where it runs, else `interp`.
    pub fn default_for_programs() -> EngineKind {
        if EngineKind::Tiered.is_available() {
            EngineKind::Tiered
        } else {
            EngineKind::Interp
        }
    }

    /// Whether this engine runs on this host (the JIT supports Linux on x86-64, AArch64 and
    /// RISC-V 64).
    pub fn is_available(self) -> bool {
        let mut config = Config::new();
        self.configure(&mut config);
        kestrel::Engine::new(&config).is_ok()
    }

    /// Sets the execution strategy of `config` to this engine.
    pub fn configure(self, config: &mut Config) {
        match self {
            EngineKind::Interp => {
                config.strategy(Strategy::Interpreter);
            }
            EngineKind::Jit => {
                config.strategy(Strategy::Jit);
            }
            EngineKind::Tiered => {
                config
                    .strategy(Strategy::Tiered)
                    .tiering_thresholds(1, 1)
                    .tiering_in_background(false);
            }
        }
    }
}

impl fmt::Display for EngineKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// A spec test suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Suite {
    /// The Wasm 2.0 core suite: the root `.wast` files of its corpus.
    #[value(name = "2.0")]
    Spec2_0,
    /// The Wasm 3.0 core suite and the proposals: every `.wast` under its corpus.
    #[value(name = "3.0")]
    Spec3_0,
}

impl Suite {
    /// Both suites.
    pub const ALL: &'static [Suite] = &[Suite::Spec2_0, Suite::Spec3_0];

    /// "2.0" or "3.0".
    pub fn name(self) -> &'static str {
        match self {
            Suite::Spec2_0 => "2.0",
            Suite::Spec3_0 => "3.0",
        }
    }

    /// Where the suite's scripts come from.
    pub fn corpus(self) -> Corpus {
        match self {
            Suite::Spec2_0 => Corpus::Spec2_0,
            Suite::Spec3_0 => Corpus::Spec3_0,
        }
    }

    /// Every script of the suite, sorted by name.
    pub fn files(self) -> Result<Vec<ScriptFile>, SuiteError> {
        let root = self.corpus().locate().map_err(SuiteError::NotFound)?;
        let recursive = match self {
            Suite::Spec2_0 => false,
            Suite::Spec3_0 => true,
        };
        let mut files = Vec::new();
        collect_wast_files(&root, &root, recursive, &mut files)
            .map_err(|error| SuiteError::Io(root.clone(), error))?;
        if files.is_empty() {
            return Err(SuiteError::Empty(root));
        }
        files.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(files
            .into_iter()
            .map(|file| ScriptFile {
                suite: Some(self),
                ..file
            })
            .collect())
    }

    /// The Wasm features a script of this suite is run with. Wasmtime does the same: the
    /// core suites get their spec version's features, each proposal folder its own.
    pub fn features_for(self, name: &str) -> Features {
        match self {
            Suite::Spec2_0 => Features::wasm2(),
            // The threads proposal's tests were written against Wasm 1.0 plus threads:
            // they assert that a second memory or table is invalid.
            Suite::Spec3_0 if name.starts_with("proposals/threads/") => {
                let mut features = Features::wasm2();
                features
                    .threads(true)
                    .reference_types(false)
                    .multi_memory(false);
                features
            }
            Suite::Spec3_0 => {
                let mut features = Features::wasm3();
                if name.starts_with("proposals/custom-page-sizes/") {
                    features.custom_page_sizes(true);
                }
                features
            }
        }
    }
}

impl fmt::Display for Suite {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

fn collect_wast_files(
    root: &Path,
    dir: &Path,
    recursive: bool,
    files: &mut Vec<ScriptFile>,
) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            if recursive {
                collect_wast_files(root, &path, recursive, files)?;
            }
        } else if path
            .extension()
            .is_some_and(|extension| extension == "wast")
        {
            let relative = path.strip_prefix(root).unwrap_or(&path);
            let name = relative
                .components()
                .map(|component| component.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            files.push(ScriptFile {
                name,
                path,
                suite: None,
            });
        }
    }
    Ok(())
}

/// Why a suite's files could not be listed.
#[derive(Debug)]
pub enum SuiteError {
    NotFound(CorpusNotFound),
    Io(PathBuf, io::Error),
    Empty(PathBuf),
}

impl fmt::Display for SuiteError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SuiteError::NotFound(error) => write!(formatter, "{error}"),
            SuiteError::Io(path, error) => {
                write!(formatter, "cannot read `{}`: {error}", path.display())
            }
            SuiteError::Empty(path) => {
                write!(formatter, "no .wast files in `{}`", path.display())
            }
        }
    }
}

impl std::error::Error for SuiteError {}

/// A script to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptFile {
    /// The name reports and expected-failure lists use: the path relative to the suite's
    /// root with `/` separators (`i32.wast`, `proposals/threads/atomic.wast`), or the path as
    /// given for a script outside any suite.
    pub name: String,
    pub path: PathBuf,
    /// The suite the script belongs to, which decides its Wasm features.
    pub suite: Option<Suite>,
}

impl ScriptFile {
    /// A script outside the suites (`kestrel wast FILE`).
    pub fn standalone(path: impl Into<PathBuf>) -> ScriptFile {
        let path = path.into();
        ScriptFile {
            name: path.display().to_string(),
            path,
            suite: None,
        }
    }

    /// Whether the command-line `filter` selects this script: its name or a suffix of it
    /// made of whole path components (`.wast` optional), or a path naming the same file.
    pub fn matches_filter(&self, filter: &str) -> bool {
        let mut wanted = filter.replace('\\', "/");
        if !wanted.ends_with(".wast") {
            wanted.push_str(".wast");
        }
        if self.name == wanted || self.name.ends_with(&format!("/{wanted}")) {
            return true;
        }
        let filter_path = Path::new(filter);
        match (filter_path.canonicalize(), self.path.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
    }
}

/// How scripts are run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub engine: EngineKind,
    /// The features of scripts outside a suite (those in a suite use the suite's).
    pub features: Features,
    /// The suite of the script being run; set per script by [`run_file`].
    suite_features: Option<Features>,
}

impl RunOptions {
    /// Options for `engine` with the Wasm 2.0 features for standalone scripts.
    pub fn new(engine: EngineKind) -> RunOptions {
        RunOptions {
            engine,
            features: Features::wasm2(),
            suite_features: None,
        }
    }

    /// The engine configuration of one script.
    pub fn config(&self) -> Config {
        let mut config = Config::new();
        let features = self.suite_features.as_ref().unwrap_or(&self.features);
        config.wasm_features(features.clone());
        self.engine.configure(&mut config);
        config
    }
}

/// What running one script produced.
#[derive(Debug, Clone, Default)]
pub struct FileReport {
    /// The script's [`ScriptFile::name`].
    pub name: String,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    /// One line per failed directive: `path:line: directive: what happened`.
    pub failures: Vec<String>,
    /// Why directives were skipped, with how many.
    pub skip_reasons: Vec<(String, usize)>,
    /// How many directives the script has, once it parsed.
    pub(crate) directives_total: Option<usize>,
}

impl FileReport {
    fn new(name: &str) -> FileReport {
        FileReport {
            name: name.to_owned(),
            ..FileReport::default()
        }
    }

    /// No directive failed (skips allowed).
    pub fn passed_fully(&self) -> bool {
        self.failed == 0
    }

    fn directives_done(&self) -> usize {
        self.passed + self.failed + self.skipped
    }

    pub(crate) fn record(&mut self, path: &str, line: usize, directive: &str, outcome: Outcome) {
        match outcome {
            Outcome::Pass => self.passed += 1,
            Outcome::Fail(message) => {
                self.failed += 1;
                self.failures
                    .push(format!("{path}:{line}: {directive}: {message}"));
            }
            Outcome::Skip(reason) => {
                self.skipped += 1;
                self.add_skip_reason(reason, 1);
            }
        }
    }

    fn add_skip_reason(&mut self, reason: String, count: usize) {
        match self.skip_reasons.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, n)) => *n += count,
            None => self.skip_reasons.push((reason, count)),
        }
    }

    pub(crate) fn record_script_error(&mut self, path: &str, text: &str, error: &wast::Error) {
        let line = script::line_of(text, error.span());
        self.failed += 1;
        self.failures.push(format!(
            "{path}:{line}: script: the .wast file does not parse: {}",
            error.message()
        ));
    }

    /// A panic ended the script: the directive that panicked fails, the rest are skipped
    /// so the file's directive count stays the same.
    fn record_panic(&mut self, path: &str, message: &str) {
        let done = self.directives_done();
        self.failed += 1;
        self.failures.push(format!(
            "{path}: directive {} panicked: {message}",
            done + 1
        ));
        if let Some(total) = self.directives_total {
            let rest = total.saturating_sub(done + 1);
            if rest > 0 {
                self.skipped += rest;
                self.add_skip_reason("not run: an earlier directive panicked".to_owned(), rest);
            }
        }
    }

    /// `PASS|FAIL name: P passed, F failed, S skipped`.
    pub fn summary_line(&self) -> String {
        format!(
            "{} {}: {} passed, {} failed, {} skipped",
            if self.passed_fully() { "PASS" } else { "FAIL" },
            self.name,
            self.passed,
            self.failed,
            self.skipped
        )
    }

    /// Writes the summary line, then up to `max_details` failure lines (`None`: all).
    pub fn write(&self, out: &mut impl Write, max_details: Option<usize>) -> io::Result<()> {
        writeln!(out, "{}", self.summary_line())?;
        let shown = max_details.unwrap_or(usize::MAX).min(self.failures.len());
        for failure in &self.failures[..shown] {
            writeln!(out, "{failure}")?;
        }
        if shown < self.failures.len() {
            writeln!(
                out,
                "... and {} more failures in {}",
                self.failures.len() - shown,
                self.name
            )?;
        }
        Ok(())
    }
}

/// Directive counts over many files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl Totals {
    pub fn add(&mut self, report: &FileReport) {
        self.passed += report.passed;
        self.failed += report.failed;
        self.skipped += report.skipped;
    }

    pub fn of(reports: &[FileReport]) -> Totals {
        let mut totals = Totals::default();
        for report in reports {
            totals.add(report);
        }
        totals
    }
}

impl std::ops::AddAssign for Totals {
    fn add_assign(&mut self, other: Totals) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.skipped += other.skipped;
    }
}

impl fmt::Display for Totals {
    /// `spec: N passed, M failed, K skipped`, the last line of every run.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "spec: {} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
}

/// Runs one script in a fresh engine and store. Never panics: reading errors and panics
/// inside the engine become failures of the file.
pub fn run_file(file: &ScriptFile, options: &RunOptions) -> FileReport {
    let mut report = FileReport::new(&file.name);
    let display_path = file.path.display().to_string();
    let text = match std::fs::read_to_string(&file.path) {
        Ok(text) => text,
        Err(error) => {
            report.failed += 1;
            report
                .failures
                .push(format!("{display_path}: cannot read the script: {error}"));
            return report;
        }
    };
    let mut options = options.clone();
    options.suite_features = file.suite.map(|suite| suite.features_for(&file.name));

    run_catching_panics(&mut report, &display_path, |report| {
        script::run_script(&text, &file.path, &options, report);
    });
    report
}

/// Runs `run`, turning a panic into a failure of the directive that was running (see
/// [`FileReport::record_panic`]).
fn run_catching_panics(
    report: &mut FileReport,
    display_path: &str,
    run: impl FnOnce(&mut FileReport),
) {
    install_panic_hook();
    CAPTURING_PANICS.set(true);
    let result = panic::catch_unwind(AssertUnwindSafe(|| run(&mut *report)));
    CAPTURING_PANICS.set(false);
    if let Err(payload) = result {
        let message = LAST_PANIC
            .take()
            .unwrap_or_else(|| panic_payload_message(payload.as_ref()));
        report.record_panic(display_path, &message);
    }
}

/// Stack size of the threads scripts run on: deep (but bounded) recursion in the engine
/// or in `skip-stack-guard-page.wast` must trap, not overflow the host stack first.
const SCRIPT_THREAD_STACK: usize = 64 << 20;

/// Runs `files` on `jobs` threads; `on_report` sees each report in `files` order as soon
/// as it and all earlier ones are done. Returns the reports in `files` order.
pub fn run_files(
    files: &[ScriptFile],
    options: &RunOptions,
    jobs: usize,
    mut on_report: impl FnMut(&FileReport),
) -> Vec<FileReport> {
    let jobs = jobs.clamp(1, files.len().max(1));
    let next = AtomicUsize::new(0);
    let mut reports: Vec<Option<FileReport>> = vec![None; files.len()];
    let mut reported = 0;
    std::thread::scope(|scope| {
        let (sender, receiver) = mpsc::channel::<(usize, FileReport)>();
        for worker in 0..jobs {
            let sender = sender.clone();
            let next = &next;
            std::thread::Builder::new()
                .name(format!("spec-{worker}"))
                .stack_size(SCRIPT_THREAD_STACK)
                .spawn_scoped(scope, move || {
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(file) = files.get(index) else { break };
                        let report = run_file(file, options);
                        if sender.send((index, report)).is_err() {
                            break;
                        }
                    }
                })
                .expect("failed to spawn a spec test thread");
        }
        drop(sender);
        for (index, report) in receiver {
            reports[index] = Some(report);
            while let Some(Some(report)) = reports.get(reported) {
                on_report(report);
                reported += 1;
            }
        }
    });
    reports
        .into_iter()
        .map(|report| report.expect("every file was run"))
        .collect()
}

/// The default number of threads: two, or one on a single-core machine.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(2))
}

thread_local! {
    static CAPTURING_PANICS: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Keeps panics inside scripts from printing through the default hook (they are reported
/// as failures, with their location); panics elsewhere print as usual.
fn install_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CAPTURING_PANICS.get() {
                let location = info
                    .location()
                    .map(|location| format!(" at {location}"))
                    .unwrap_or_default();
                let message = panic_payload_message(info.payload());
                LAST_PANIC.set(Some(format!("{message}{location}")));
            } else {
                previous(info);
            }
        }));
    });
}

fn panic_payload_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "(non-string panic payload)".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_fails_its_directive_and_skips_the_rest() {
        let mut report = FileReport::new("panics.wast");
        run_catching_panics(&mut report, "panics.wast", |report| {
            report.directives_total = Some(5);
            report.record("panics.wast", 1, "module", Outcome::Pass);
            report.record("panics.wast", 2, "invoke", Outcome::Skip("why".into()));
            panic!("engine bug");
        });
        assert_eq!((report.passed, report.failed, report.skipped), (1, 1, 3));
        assert!(!report.passed_fully());
        assert_eq!(report.failures.len(), 1);
        assert!(
            report.failures[0].contains("directive 3 panicked: engine bug at "),
            "{}",
            report.failures[0]
        );
        assert_eq!(
            report.summary_line(),
            "FAIL panics.wast: 1 passed, 1 failed, 3 skipped"
        );
    }

    #[test]
    fn totals_line() {
        let totals = Totals {
            passed: 3,
            failed: 2,
            skipped: 1,
        };
        assert_eq!(totals.to_string(), "spec: 3 passed, 2 failed, 1 skipped");
    }

    #[test]
    fn filters() {
        let file = ScriptFile {
            name: "proposals/threads/atomic.wast".to_owned(),
            path: PathBuf::from("/nonexistent/proposals/threads/atomic.wast"),
            suite: Some(Suite::Spec3_0),
        };
        assert!(file.matches_filter("proposals/threads/atomic.wast"));
        assert!(file.matches_filter("threads/atomic.wast"));
        assert!(file.matches_filter("atomic.wast"));
        assert!(file.matches_filter("atomic"));
        assert!(!file.matches_filter("tomic.wast"));
        assert!(!file.matches_filter("memory.wast"));
    }
}
