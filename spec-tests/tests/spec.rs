//! Runs the spec suites on every engine and checks the results against the committed
//! lists of files not yet fully passing, `expected-failures/<engine>-<suite>.txt`.
//!
//! The lists only shrink: a listed file that now passes fails the test ("remove it from
//! the list"), and so does an unlisted file that fails. `BLESS=1 cargo test --release -p
//! kestrel-spec-tests` rewrites the lists from the current results instead of failing.
//!
//! The last line printed is the directive count over everything run:
//! `spec: N passed, M failed, K skipped`.

use kestrel_spec_tests::{
    EngineKind, FileReport, RunOptions, ScriptFile, Suite, Totals, default_jobs, run_files,
};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Failure lines shown for each file that fails unexpectedly.
const DETAILS_PER_UNEXPECTED_FAILURE: usize = 20;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let positional: Vec<&String> = args.iter().filter(|arg| !arg.starts_with('-')).collect();
    let runs: Vec<(EngineKind, Suite)> = EngineKind::ALL
        .iter()
        .filter(|engine| engine.is_available())
        .flat_map(|&engine| Suite::ALL.iter().map(move |&suite| (engine, suite)))
        .filter(|(engine, suite)| {
            // `cargo test -p kestrel-spec-tests -- interp-2.0` runs one list's check.
            let name = list_name(*engine, *suite);
            positional.is_empty() || positional.iter().any(|filter| name.contains(*filter))
        })
        .collect();
    if args.iter().any(|arg| arg == "--list") {
        for (engine, suite) in &runs {
            println!("{}: test", list_name(*engine, *suite));
        }
        return ExitCode::SUCCESS;
    }

    for engine in EngineKind::ALL
        .iter()
        .filter(|engine| !engine.is_available())
    {
        println!("skipping the {engine} engine: it does not run on this host");
    }
    let bless = std::env::var_os("BLESS").is_some_and(|value| value != "0");
    let mut all_ok = true;
    let mut totals = Totals::default();
    for (engine, suite) in runs {
        match check(engine, suite, bless) {
            Ok((ok, run_totals)) => {
                all_ok &= ok;
                totals += run_totals;
            }
            Err(message) => {
                println!("error: {message}");
                all_ok = false;
            }
        }
    }
    println!(
        "expected-failure lists: {}",
        if all_ok { "ok" } else { "MISMATCH (see above)" }
    );
    // Not the harness's `spec: N passed, M failed` line: the failures counted here are the
    // expected ones of the listed files, and a checker reading the last line must not take
    // them for a failed run. The verdict is the exit status.
    println!(
        "spec directives over all suites and engines: {} passed, {} in listed files failing as expected, {} skipped",
        totals.passed, totals.failed, totals.skipped
    );
    if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn list_name(engine: EngineKind, suite: Suite) -> String {
    format!("{engine}-{suite}")
}

fn list_path(engine: EngineKind, suite: Suite) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("expected-failures")
        .join(format!("{}.txt", list_name(engine, suite)))
}

/// Runs one suite on one engine; `Ok((whether the results match the list, counts))`.
fn check(engine: EngineKind, suite: Suite, bless: bool) -> Result<(bool, Totals), String> {
    let list = list_path(engine, suite);
    let list_text = std::fs::read_to_string(&list)
        .map_err(|error| format!("cannot read `{}`: {error}", list.display()))?;
    let expected: BTreeSet<String> = list_text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect();

    let files: Vec<ScriptFile> = suite
        .files()
        .map_err(|error| error.to_string())?
        .into_iter()
        .collect();
    println!(
        "running the {suite} suite on {engine}: {} files",
        files.len()
    );
    let started = Instant::now();
    let reports = run_files(&files, &RunOptions::new(engine), default_jobs(), |report| {
        let note = match (report.passed_fully(), expected.contains(&report.name)) {
            (true, true) => "  <- passes now: remove it from the list",
            (false, false) => "  <- unexpected failure",
            _ => "",
        };
        println!("{}{note}", report.summary_line());
    });
    let totals = Totals::of(&reports);
    println!(
        "{engine} {suite}: {} passed, {} failed, {} skipped ({} of {} files fully pass) in {:.1?}",
        totals.passed,
        totals.failed,
        totals.skipped,
        reports
            .iter()
            .filter(|report| report.passed_fully())
            .count(),
        reports.len(),
        started.elapsed()
    );

    let failing: BTreeSet<String> = reports
        .iter()
        .filter(|report| !report.passed_fully())
        .map(|report| report.name.clone())
        .collect();
    if bless {
        let header: String = list_text
            .lines()
            .take_while(|line| line.starts_with('#') || line.trim().is_empty())
            .map(|line| format!("{line}\n"))
            .collect();
        let body: String = failing.iter().map(|name| format!("{name}\n")).collect();
        std::fs::write(&list, header + &body)
            .map_err(|error| format!("cannot write `{}`: {error}", list.display()))?;
        println!(
            "BLESS: wrote {} entries to `{}`",
            failing.len(),
            list.display()
        );
        return Ok((true, totals));
    }

    let mut ok = true;
    let list_display = format!("expected-failures/{}.txt", list_name(engine, suite));
    for report in &reports {
        if !report.passed_fully() && !expected.contains(&report.name) {
            ok = false;
            print_unexpected_failure(report, &list_display);
        }
    }
    for name in expected.difference(&failing) {
        ok = false;
        if reports.iter().any(|report| &report.name == name) {
            println!(
                "error: {name} passes now: remove it from {list_display} (the list only shrinks)"
            );
        } else {
            println!(
                "error: {list_display} lists {name}, which is not a file of the {suite} suite"
            );
        }
    }
    Ok((ok, totals))
}

fn print_unexpected_failure(report: &FileReport, list_display: &str) {
    println!("error: {} fails but is not in {list_display}:", report.name);
    let mut out = std::io::stdout().lock();
    let _ = report.write(&mut out, Some(DETAILS_PER_UNEXPECTED_FAILURE));
}
