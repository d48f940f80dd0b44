//! Replays every input under `fuzzing/regressions/`: crashes and divergences the fuzzers
//! found, minimised. `validate-*` files go through the validate oracle; every other `.wasm`
//! or `.wat` file through the execute and differential oracles.

use kestrel_fuzzing::{differential, execute, validate};
use std::path::Path;

#[test]
fn regressions_replay() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("fuzzing/regressions exists")
        .map(|e| e.expect("readable directory entry").path())
        .collect();
    entries.sort();
    let mut replayed = 0;
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).expect("readable regression input");
        if name.starts_with("validate-") {
            validate(&bytes);
        } else if name.ends_with(".wasm") || name.ends_with(".wat") {
            let bytes = if name.ends_with(".wat") {
                wat::parse_bytes(&bytes).expect("valid text").into_owned()
            } else {
                bytes
            };
            let steps = execute(&bytes).unwrap_or_else(|| panic!("{name}: does not compile"));
            assert!(steps.len() > 1, "{name}: no function was called");
            if let Err(divergence) = differential(&bytes) {
                panic!("{name}: {divergence}");
            }
        } else {
            continue;
        }
        replayed += 1;
    }
    eprintln!("replayed {replayed} regression inputs");
}
