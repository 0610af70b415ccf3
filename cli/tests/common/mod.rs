//! Helpers shared by the CLI's integration tests.

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

#[path = "../../../eval/tests/common/fixtures.rs"]
pub mod fixtures;

/// Runs the `kith` binary with `args` (in `dir` if given), its IR cache in `cache` and no
/// `NIX_PATH`: stdout, stderr, exit code.
pub fn run_kith(dir: Option<&Path>, cache: &Path, args: &[&str]) -> (String, String, Option<i32>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kith"));
    if let Some(d) = dir {
        cmd.current_dir(d);
    }
    let out = cmd
        .env("KITH_CACHE_DIR", cache)
        .env_remove("NIX_PATH")
        .args(args)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}
