//! Finds the external test and benchmark corpora Kestrel reads but never copies.
//!
//! Each [`Corpus`] is looked up in this order:
//!
//! 1. its environment variable (for example `KESTREL_SPEC_2_0=/path/to/testsuite`), which
//!    must name an existing directory when it is set;
//! 2. its git submodule inside the project (`tests/testsuite`, `tests/testsuite-2.0`,
//!    `tests/wasi-testsuite`), when it is checked out (an uninitialised submodule is an empty
//!    directory and is passed over);
//! 3. `../shared/<folder>` next to the workspace root.
//!
//! When none exists, [`Corpus::locate`] returns an error that says how to get the corpus.
//! Callers fail with it: a missing corpus is never a silent skip.

use std::fmt;
use std::path::{Path, PathBuf};

/// An external corpus of test or benchmark data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Corpus {
    /// The Wasm 2.0 core spec suite (WebAssembly/testsuite pinned at the 2.0 release; only
    /// the root `.wast` files belong to 2.0).
    Spec2_0,
    /// The current core spec suite: Wasm 3.0 at the root, plus `proposals/`.
    Spec3_0,
    /// The WASI preview1 conformance tests (WebAssembly/wasi-testsuite, `prod/testsuite-base`).
    WasiTestsuite,
    /// Sightglass benchmark programs compiled to WASI.
    Sightglass,
    /// The modules of the wasmi benchmark suite (`wasm/`, `wat/`).
    WasmiBenchmarks,
}

impl Corpus {
    /// Every corpus, in declaration order.
    pub const ALL: &'static [Corpus] = &[
        Corpus::Spec2_0,
        Corpus::Spec3_0,
        Corpus::WasiTestsuite,
        Corpus::Sightglass,
        Corpus::WasmiBenchmarks,
    ];

    /// The environment variable that overrides every other location.
    pub fn env_var(self) -> &'static str {
        match self {
            Corpus::Spec2_0 => "KESTREL_SPEC_2_0",
            Corpus::Spec3_0 => "KESTREL_SPEC_3_0",
            Corpus::WasiTestsuite => "KESTREL_WASI_TESTSUITE",
            Corpus::Sightglass => "KESTREL_SIGHTGLASS",
            Corpus::WasmiBenchmarks => "KESTREL_WASMI_BENCHMARKS",
        }
    }

    /// The git submodule holding the corpus, relative to the workspace root, if the project
    /// declares one in `.gitmodules`.
    pub fn submodule(self) -> Option<&'static str> {
        match self {
            Corpus::Spec2_0 => Some("tests/testsuite-2.0"),
            Corpus::Spec3_0 => Some("tests/testsuite"),
            // Upstream's `prod/testsuite-base` branch, which holds the built tests.
            Corpus::WasiTestsuite => Some("tests/wasi-testsuite"),
            // The benchmark corpora are subsets of their upstream repositories: they come
            // from the variable or `../shared`.
            Corpus::Sightglass | Corpus::WasmiBenchmarks => None,
        }
    }

    /// The folder under `../shared/` (relative to the workspace root).
    pub fn shared_folder(self) -> &'static str {
        match self {
            Corpus::Spec2_0 => "testsuite-2.0",
            Corpus::Spec3_0 => "testsuite",
            Corpus::WasiTestsuite => "wasi-testsuite",
            Corpus::Sightglass => "bench/sightglass",
            Corpus::WasmiBenchmarks => "bench/wasmi-benchmarks",
        }
    }

    /// A short human-readable name, for messages.
    pub fn description(self) -> &'static str {
        match self {
            Corpus::Spec2_0 => "the Wasm 2.0 spec test suite",
            Corpus::Spec3_0 => "the Wasm 3.0 spec test suite",
            Corpus::WasiTestsuite => "the WASI test suite",
            Corpus::Sightglass => "the Sightglass benchmarks",
            Corpus::WasmiBenchmarks => "the wasmi benchmarks",
        }
    }

    /// Finds the corpus directory (see the module documentation for the order).
    pub fn locate(self) -> Result<PathBuf, CorpusNotFound> {
        self.locate_with(
            std::env::var_os(self.env_var()).map(PathBuf::from),
            &workspace_root(),
        )
    }

    /// [`Corpus::locate`] with the variable's value and the workspace root given explicitly.
    pub fn locate_with(
        self,
        env_value: Option<PathBuf>,
        workspace_root: &Path,
    ) -> Result<PathBuf, CorpusNotFound> {
        let mut tried = Vec::new();
        if let Some(path) = env_value.filter(|path| !path.as_os_str().is_empty()) {
            if path.is_dir() {
                return Ok(path);
            }
            // The user asked for this location explicitly: falling back to another copy
            // would test something other than what they meant.
            return Err(CorpusNotFound {
                corpus: self,
                env_points_to: Some(path),
                tried,
            });
        }
        if let Some(submodule) = self.submodule() {
            let path = workspace_root.join(submodule);
            if is_non_empty_dir(&path) {
                return Ok(path);
            }
            tried.push(path);
        }
        let path = workspace_root
            .join("..")
            .join("shared")
            .join(self.shared_folder());
        if path.is_dir() {
            // `/work/shared/x` reads better in messages than `/work/main/../shared/x`.
            return Ok(path.canonicalize().unwrap_or(path));
        }
        tried.push(path);
        Err(CorpusNotFound {
            corpus: self,
            env_points_to: None,
            tried,
        })
    }
}

impl fmt::Display for Corpus {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.description())
    }
}

/// The workspace root: the parent of this crate's manifest directory.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .expect("spec-tests lives one level below the workspace root")
        .to_path_buf()
}

fn is_non_empty_dir(path: &Path) -> bool {
    std::fs::read_dir(path).is_ok_and(|mut entries| entries.next().is_some())
}

/// A corpus could not be found; the `Display` text says how to get it.
#[derive(Debug, Clone)]
pub struct CorpusNotFound {
    corpus: Corpus,
    /// Set when the environment variable names a missing directory.
    env_points_to: Option<PathBuf>,
    /// The locations looked at, in order.
    tried: Vec<PathBuf>,
}

impl fmt::Display for CorpusNotFound {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let corpus = self.corpus;
        let var = corpus.env_var();
        if let Some(path) = &self.env_points_to {
            return write!(
                formatter,
                "{corpus} not found: {var} is set to `{}`, which is not a directory",
                path.display()
            );
        }
        write!(formatter, "{corpus} not found (looked in")?;
        for (index, path) in self.tried.iter().enumerate() {
            let separator = if index == 0 { " " } else { ", " };
            write!(formatter, "{separator}`{}`", path.display())?;
        }
        write!(formatter, "); set {var} to its directory")?;
        if let Some(submodule) = corpus.submodule() {
            write!(
                formatter,
                ", or run `git submodule update --init {submodule}`"
            )?;
        }
        write!(
            formatter,
            ", or put it at `../shared/{}` next to the project",
            corpus.shared_folder()
        )
    }
}

impl std::error::Error for CorpusNotFound {}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("kestrel-corpus-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn env_var_wins_and_must_exist() {
        let root = scratch("env");
        let corpus_dir = root.join("elsewhere");
        std::fs::create_dir_all(&corpus_dir).unwrap();
        let found = Corpus::Spec2_0
            .locate_with(Some(corpus_dir.clone()), &root.join("ws"))
            .unwrap();
        assert_eq!(found, corpus_dir);

        let missing = Corpus::Spec2_0
            .locate_with(Some(root.join("nope")), &root.join("ws"))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("KESTREL_SPEC_2_0 is set to"), "{missing}");
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn empty_submodule_falls_back_to_shared() {
        let root = scratch("fallback");
        let workspace = root.join("main");
        std::fs::create_dir_all(workspace.join("tests/testsuite")).unwrap();
        let shared = root.join("shared/testsuite");
        std::fs::create_dir_all(&shared).unwrap();
        let found = Corpus::Spec3_0.locate_with(None, &workspace).unwrap();
        assert_eq!(found, shared.canonicalize().unwrap());

        std::fs::write(workspace.join("tests/testsuite/i32.wast"), "").unwrap();
        let found = Corpus::Spec3_0.locate_with(None, &workspace).unwrap();
        assert_eq!(found, workspace.join("tests/testsuite"));
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn missing_corpus_says_how_to_get_it() {
        let root = scratch("missing");
        let message = Corpus::Spec3_0
            .locate_with(None, &root.join("main"))
            .unwrap_err()
            .to_string();
        assert!(message.contains("KESTREL_SPEC_3_0"), "{message}");
        assert!(
            message.contains("git submodule update --init tests/testsuite"),
            "{message}"
        );
        let message = Corpus::Sightglass
            .locate_with(None, &root.join("main"))
            .unwrap_err()
            .to_string();
        assert!(message.contains("KESTREL_SIGHTGLASS"), "{message}");
        assert!(!message.contains("submodule"), "{message}");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
