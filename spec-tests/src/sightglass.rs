//! The Sightglass benchmark programs (`Corpus::Sightglass`): which programs the corpus
//! holds and what each must print. Shared by the CLI's `sightglass` test, which runs them
//! all for correctness, and the `execute` benchmarks, which time them.
//!
//! A program is a WASI command (`folder/NAME.wasm`) run from its own folder, with that
//! folder preopened as `.` (its inputs are files there) and a `bench` module providing
//! `bench.start`/`bench.end`, the two calls between which the Sightglass harness measures.
//! Its expected output is `NAME.stdout.expected` / `NAME.stderr.expected` beside it, or the
//! folder's `default.*.expected` (the `libsodium/` programs share theirs).

use std::path::{Path, PathBuf};

/// One program of the corpus.
#[derive(Debug, Clone)]
pub struct Program {
    /// `folder/file.wasm`, relative to the corpus root (`shootout/shootout-fib2.wasm`).
    pub name: String,
    /// The `.wasm` file.
    pub path: PathBuf,
    /// The folder the program runs in (preopened as `.`).
    pub folder: PathBuf,
}

/// The two output streams a program's expected output covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub const BOTH: [Stream; 2] = [Stream::Stdout, Stream::Stderr];

    pub fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

impl Program {
    /// A short name without the folder or extension (`shootout-fib2`, or the folder's name
    /// for a folder's `benchmark.wasm`: `bz2`).
    pub fn short_name(&self) -> String {
        let stem = self
            .path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if stem == "benchmark" {
            self.folder
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        } else {
            stem
        }
    }

    /// The file holding what the program must print on `stream`, if the corpus has one.
    pub fn expected_file(&self, stream: Stream) -> Option<PathBuf> {
        let stem = self.path.file_stem().unwrap_or_default().to_string_lossy();
        [stem.as_ref(), "default"]
            .iter()
            .map(|prefix| {
                self.folder
                    .join(format!("{prefix}.{}.expected", stream.name()))
            })
            .find(|candidate| candidate.is_file())
    }

    /// Compares what the program printed with its expected output; `Err` describes every
    /// difference (and any expected file that cannot be read).
    pub fn check_output(&self, stdout: &[u8], stderr: &[u8]) -> Result<(), String> {
        let mut problems = Vec::new();
        for (stream, actual) in [(Stream::Stdout, stdout), (Stream::Stderr, stderr)] {
            let Some(expected) = self.expected_file(stream) else {
                continue;
            };
            match std::fs::read(&expected) {
                Ok(expected_bytes) if output_matches(&expected_bytes, actual) => {}
                Ok(expected_bytes) => problems.push(format!(
                    "{} differs from `{}`:\n--- expected\n{}\n--- actual\n{}",
                    stream.name(),
                    expected.display(),
                    String::from_utf8_lossy(&expected_bytes).trim_end(),
                    String::from_utf8_lossy(actual).trim_end()
                )),
                Err(error) => {
                    problems.push(format!("cannot read `{}`: {error}", expected.display()))
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    }
}

/// Every `.wasm` in the corpus's folders, sorted by name.
pub fn programs(root: &Path) -> std::io::Result<Vec<Program>> {
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
                programs.push(Program {
                    name: relative.to_string_lossy().replace('\\', "/"),
                    path: file.clone(),
                    folder: folder.clone(),
                });
            }
        }
    }
    programs.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(programs)
}

/// Whether `actual` is `expected`, or `expected` plus the final newline it lacks: the
/// byte-for-byte comparison with one allowance, because `libsodium/default.stdout.expected`
/// is `0` while its programs print `0\n` (under Wasmtime too).
pub fn output_matches(expected: &[u8], actual: &[u8]) -> bool {
    expected == actual
        || (!expected.ends_with(b"\n") && actual.strip_suffix(b"\n") == Some(expected))
}

#[cfg(test)]
mod tests {
    use super::output_matches;

    #[test]
    fn a_missing_final_newline_is_the_only_allowance() {
        assert!(output_matches(b"0\n", b"0\n"));
        assert!(output_matches(b"0", b"0\n"));
        assert!(output_matches(b"0", b"0"));
        assert!(!output_matches(b"0\n", b"0"));
        assert!(!output_matches(b"0", b"0\n\n"));
        assert!(!output_matches(b"0", b"1\n"));
        assert!(!output_matches(b"a\nb", b"a\n"));
    }
}
