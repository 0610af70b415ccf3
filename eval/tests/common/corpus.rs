//! Where the tests find the shared data outside the repository (`../shared` next to the
//! workspace: the corpus, the Clan conformance cases), and what they do when it is absent.
//!
//! - `KITH_CORPUS_DIR` overrides the corpus' location (default `../shared/corpus`).
//! - Without `KITH_REQUIRE_CORPUS=1`, a test whose data is absent says that it is skipped
//!   and passes; with it, the test fails (CI sets it, so a lost corpus cannot pass quietly).
//!
//! This file has no dependencies, so unit tests under `src/` include it too
//! (`#[path = "../../tests/common/corpus.rs"]`).

#![allow(dead_code)]

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The workspace root: the nearest directory above this crate that holds `Cargo.lock`.
fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .find(|dir| dir.join("Cargo.lock").is_file())
        .unwrap_or(manifest)
        .to_path_buf()
}

/// `../shared/<rel>` relative to the workspace root.
pub fn shared_path(rel: &str) -> PathBuf {
    let root = workspace_root();
    root.parent().unwrap_or(&root).join("shared").join(rel)
}

/// `<corpus>/<rel>`: the corpus is `$KITH_CORPUS_DIR`, else `../shared/corpus`.
pub fn corpus_path(rel: &str) -> PathBuf {
    match std::env::var_os("KITH_CORPUS_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir).join(rel),
        _ => shared_path("corpus").join(rel),
    }
}

/// Whether the environment variable `var` is `1`.
pub fn env_flag(var: &str) -> bool {
    std::env::var_os(var).is_some_and(|v| v == "1")
}

/// `path`, canonical, when it exists. When it does not, `what` (the test) is skipped: this
/// prints so past the test harness's capture and returns `None`, or panics when
/// `KITH_REQUIRE_CORPUS=1`.
pub fn present(path: &Path, what: &str) -> Option<PathBuf> {
    if let Ok(p) = std::fs::canonicalize(path) {
        return Some(p);
    }
    let msg = format!("{what}: {} not found", path.display());
    assert!(
        !env_flag("KITH_REQUIRE_CORPUS"),
        "{msg}, and KITH_REQUIRE_CORPUS=1 makes that a failure"
    );
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "{msg}; SKIPPED (set KITH_REQUIRE_CORPUS=1 to fail instead)"
    );
    None
}

/// [`present`] for `<corpus>/<rel>`.
pub fn corpus(rel: &str, what: &str) -> Option<PathBuf> {
    present(&corpus_path(rel), what)
}
