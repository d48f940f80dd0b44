//! `kestrel-spec-tests`: runs a spec suite and prints one line per file, the failing
//! directives, and `spec: N passed, M failed, K skipped` last. Exits 1 when anything failed.

use clap::Parser;
use kestrel_spec_tests::{EngineKind, RunOptions, ScriptFile, Suite, Totals, run_files};
use std::io::Write;
use std::process::ExitCode;

/// Runs the WebAssembly spec test suites on Kestrel.
///
/// The suites are found through KESTREL_SPEC_2_0 / KESTREL_SPEC_3_0, then the submodules
/// tests/testsuite-2.0 / tests/testsuite, then ../shared/testsuite-2.0 / ../shared/testsuite.
#[derive(Debug, Parser)]
#[command(name = "kestrel-spec-tests", version)]
struct Args {
    /// Which suite: 2.0 (the root .wast files of the 2.0 corpus) or 3.0 (every .wast under
    /// the 3.0 corpus, proposals/ included).
    #[arg(long, value_enum)]
    suite: Suite,
    /// The engine to run the scripts on.
    #[arg(long, value_enum, default_value_t = EngineKind::Interp)]
    engine: EngineKind,
    /// Threads to run files on (default: 2, or 1 on a single core).
    #[arg(short, long)]
    jobs: Option<usize>,
    /// Print at most this many failing directives per file (default: all).
    #[arg(long)]
    max_details: Option<usize>,
    /// Run only these files: a name (`i32.wast`, `i32`), a path inside the suite
    /// (`proposals/threads/atomic.wast`), or a path to one of the suite's files.
    #[arg(value_name = "FILE")]
    files: Vec<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut files = match args.suite.files() {
        Ok(files) => files,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    if !args.files.is_empty() {
        for filter in &args.files {
            if !files.iter().any(|file| file.matches_filter(filter)) {
                eprintln!(
                    "error: no file of the {} suite matches `{filter}`",
                    args.suite
                );
                return ExitCode::FAILURE;
            }
        }
        files.retain(|file: &ScriptFile| args.files.iter().any(|f| file.matches_filter(f)));
    }

    let options = RunOptions::new(args.engine);
    let jobs = args.jobs.unwrap_or_else(kestrel_spec_tests::default_jobs);
    let stdout = std::io::stdout();
    let reports = run_files(&files, &options, jobs, |report| {
        let mut out = stdout.lock();
        // A closed pipe (`| head`) is not worth a panic.
        let _ = report.write(&mut out, args.max_details);
        let _ = out.flush();
    });
    let totals = Totals::of(&reports);
    println!("{totals}");
    if totals.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
