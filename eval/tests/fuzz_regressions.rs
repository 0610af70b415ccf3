//! Inputs the fuzzer (`fuzz/`, target `parse_eval`) once crashed or hung on, minimised.
//!
//! Every file in `tests/fuzz-regressions/` is evaluated exactly as the fuzz target does
//! (`--strict`, a `max-call-depth` of 200) on the test harness's ordinary thread; each must
//! give a value or an error, without panicking, overflowing the stack or taking long.

use kith_eval::instantiate::{run, Input, Request};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fuzz-regressions");

/// How long one input may take (the fuzzer's timeout is 10 s; debug builds are slower).
const LIMIT: Duration = Duration::from_secs(20);

/// Evaluates `text` as the fuzz target does.
fn run_like_fuzzer(text: &str) -> i32 {
    let mut req = Request::new(Input::Expr(text.into()), "/nonexistent".into());
    req.strict = true;
    req.options.max_call_depth = 200;
    run(&req).exit_code
}

fn inputs() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(DIR)
        .unwrap_or_else(|e| panic!("reading {DIR}: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"))
        .collect();
    files.sort();
    files
}

fn check(path: &Path) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    // The fuzz target only evaluates valid UTF-8.
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Ok(());
    };
    let start = Instant::now();
    let outcome = std::panic::catch_unwind(|| run_like_fuzzer(text));
    let took = start.elapsed();
    match outcome {
        Err(_) => Err("panicked".into()),
        Ok(_) if took > LIMIT => Err(format!("took {took:?}")),
        Ok(_) => Ok(()),
    }
}

#[test]
fn fuzz_regressions() {
    let files = inputs();
    assert!(!files.is_empty(), "no inputs in {DIR}");
    let failures: Vec<String> = files
        .iter()
        .filter_map(|p| check(p).err().map(|e| format!("{}: {e}", p.display())))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
