//! Helpers shared by the corpus-driven tests (language suite, module system, clan-core
//! library, nixpkgs lib, flakes): finding the shared corpus (`corpus.rs`), running a case
//! on a big-stack thread, expected-failure lists, short hints.

#![allow(dead_code)]

mod corpus;
pub mod fixtures;

#[allow(unused_imports)]
pub use corpus::*;

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::time::Duration;

/// Runs `run` on a fresh thread named `name` with `stack` bytes of stack (deep Nix code
/// needs big stacks) and returns its result; `Err("panicked")` if it panicked,
/// `Err("timeout")` if it was still running after `timeout`. A timed-out thread is left
/// running (it cannot be stopped) and ends with the process.
pub fn run_isolated<T, F>(
    name: String,
    stack: usize,
    timeout: Duration,
    run: F,
) -> Result<T, String>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name(name)
        .stack_size(stack)
        .spawn(move || {
            let _ = tx.send(run());
        });
    if let Err(e) = spawned {
        return Err(format!("could not start a thread: {e}"));
    }
    rx.recv_timeout(timeout).map_err(|e| match e {
        mpsc::RecvTimeoutError::Timeout => "timeout".into(),
        mpsc::RecvTimeoutError::Disconnected => "panicked".into(),
    })
}

/// A case's verdict against its suite's expected-failure list: a failure passes when the
/// case is listed, and a listed case that passes fails (so the list only shrinks).
pub fn verdict(failure: Option<&str>, listed: bool) -> Result<(), libtest_mimic::Failed> {
    match (failure, listed) {
        (Some(why), false) => Err(why.into()),
        (None, true) => Err("now passes: remove it from the expected-failure list".into()),
        _ => Ok(()),
    }
}

/// Parses an expected-failure list: `name  # reason` per line; `#` lines are comments.
pub fn read_expected_failures(path: &str) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (name, reason) = l.split_once('#').unwrap_or((l, ""));
            (name.trim().to_string(), reason.trim().to_string())
        })
        .collect()
}

/// Shortens `s` to `max` characters for one-line hints, control characters escaped.
pub fn clip(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n == max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Makes `dir` a git repository whose one commit (fixed author and time) holds `files`;
/// returns the commit.
pub fn git_commit(dir: &std::path::Path, files: &[&str], message: &str) -> git2::Oid {
    let repo = git2::Repository::init(dir).unwrap();
    let mut index = repo.index().unwrap();
    for f in files {
        index.add_path(std::path::Path::new(f)).unwrap();
    }
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::new(
        "kith",
        "kith@example.org",
        &git2::Time::new(1_700_000_000, 0),
    )
    .unwrap();
    repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &[])
        .unwrap()
}
