//! Runs the WASI preview1 test suite through the `wasi` runner on every engine and requires
//! every test to pass (Wasmtime passes all of them on Linux, so Kestrel must too). The
//! runner's report is printed when the test fails.

use kestrel_spec_tests::EngineKind;
use std::process::Command;

#[test]
fn every_wasi_test_passes_on_every_engine() {
    for engine in EngineKind::ALL {
        let output = Command::new(env!("CARGO_BIN_EXE_wasi"))
            .args(["--engine", engine.name()])
            .output()
            .expect("failed to start the wasi runner");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let report = format!("engine {engine}:\n{stdout}{stderr}");
        let last = stdout.trim_end().lines().last().unwrap_or_default();
        let counts = last
            .strip_prefix("wasi: ")
            .and_then(|counts| counts.split_once(" passed, "))
            .and_then(|(passed, failed)| {
                Some((
                    passed.parse::<usize>().ok()?,
                    failed.strip_suffix(" failed")?.parse::<usize>().ok()?,
                ))
            });
        let Some((passed, failed)) = counts else {
            panic!("no `wasi: N passed, M failed` line; {report}");
        };
        assert!(output.status.success(), "{report}");
        assert_eq!(failed, 0, "{report}");
        assert!(passed > 0, "no test ran; {report}");
    }
}
