//! Kestrel's own `.wast` scripts (`spec-tests/misc/`), for behaviour the official suites do
//! not reach — on-stack replacement, for one: run on every engine, each must pass fully.
//! On the `tiered` engine (thresholds of 1, synchronous compilation) every loop switches
//! to compiled code at its first backward branch.

use kestrel_spec_tests::{EngineKind, RunOptions, ScriptFile, run_file};
use std::path::Path;

#[test]
fn own_scripts_pass_on_every_engine() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("misc");
    let mut scripts: Vec<_> = std::fs::read_dir(&folder)
        .unwrap_or_else(|error| panic!("cannot read `{}`: {error}", folder.display()))
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "wast")
        })
        .collect();
    scripts.sort();
    assert!(!scripts.is_empty(), "no scripts in `{}`", folder.display());
    for engine in EngineKind::ALL
        .iter()
        .filter(|engine| engine.is_available())
    {
        for script in &scripts {
            let report = run_file(&ScriptFile::standalone(script), &RunOptions::new(*engine));
            let mut details = Vec::new();
            report
                .write(&mut details, None)
                .expect("writing to a vector");
            assert!(
                report.passed_fully() && report.passed > 0,
                "{engine}: {}",
                String::from_utf8_lossy(&details)
            );
        }
    }
}
