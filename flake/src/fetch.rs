//! Fetching a locked flake input that is missing from the store, by asking the real Nix:
//! `nix flake prefetch --json <locked url>` copies it to the store and reports its path.
//! kith itself still writes nothing to the store.

use kith_eval::Eval;
use kith_eval::{EvalError, Result};
use std::io::ErrorKind;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// A flake registry with no entries. Nix 2.8 downloads the global registry even for a
/// fully locked URL (and fails offline); a locked URL needs no registry, so this one is
/// passed instead.
const EMPTY_REGISTRY: &str = r#"{"flakes":[],"version":2}"#;

/// What `nix flake prefetch` reported.
#[derive(Clone, Debug)]
pub struct Prefetched {
    pub store_path: String,
    /// The NAR hash, `sha256-<base64>`.
    pub nar_hash: String,
}

/// Runs `nix flake prefetch` on the locked reference `url` of input `name` and checks that
/// it produced `expected` (the store path its `narHash` names), if given.
pub fn prefetch(
    ev: &mut Eval,
    name: &str,
    url: &str,
    expected: Option<&str>,
) -> Result<Prefetched> {
    let shown = expected.unwrap_or("?");
    let registry = EmptyRegistry::create()?;
    let child = Command::new("nix")
        .args(["--extra-experimental-features", "nix-command flakes"])
        .arg("--option")
        .arg("flake-registry")
        .arg(&registry.0)
        .args(["flake", "prefetch", "--json", url])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(EvalError::new(format!(
                "input '{name}' ({url}) is not in the store, and `nix` is not on PATH to fetch it; fetch it with `nix flake prefetch '{url}'` (expected at '{shown}')"
            )))
        }
        Err(e) => {
            return Err(EvalError::new(format!(
                "running `nix flake prefetch` for input '{name}': {e}"
            )))
        }
    };
    let line = format!("kith: fetching input '{name}' via nix flake prefetch {url}");
    ev.emit_line(line);
    let out = child.wait_with_output().map_err(|e| {
        EvalError::new(format!(
            "running `nix flake prefetch` for input '{name}': {e}"
        ))
    })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let reason = stderr
            .lines()
            .rev()
            .find(|l| l.trim_start().starts_with("error:"))
            .or_else(|| stderr.lines().rev().find(|l| !l.trim().is_empty()))
            .unwrap_or("no message")
            .trim();
        let reason = reason.strip_prefix("error: ").unwrap_or(reason);
        return Err(EvalError::new(format!(
            "fetching input '{name}' with `nix flake prefetch '{url}'` failed: {reason}"
        )));
    }
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        EvalError::new(format!(
            "`nix flake prefetch '{url}'` printed no JSON for input '{name}': {e}"
        ))
    })?;
    let got = json.get("storePath").and_then(|v| v.as_str()).unwrap_or("");
    let nar_hash = json.get("hash").and_then(|v| v.as_str()).unwrap_or("");
    let expected = expected.unwrap_or(got);
    if got != expected || got.is_empty() {
        return Err(EvalError::new(format!(
            "`nix flake prefetch '{url}'` gave '{got}' for input '{name}', but its lock entry's narHash names '{expected}'"
        )));
    }
    if std::fs::symlink_metadata(got).is_err() {
        return Err(EvalError::new(format!(
            "`nix flake prefetch '{url}'` reported '{expected}' for input '{name}', but it is not there (is the store directory '{}' the one Nix uses?)",
            ev.options.store_dir
        )));
    }
    Ok(Prefetched {
        store_path: got.to_string(),
        nar_hash: nar_hash.to_string(),
    })
}

/// [`EMPTY_REGISTRY`] in a temporary file, removed on drop.
struct EmptyRegistry(PathBuf);

impl EmptyRegistry {
    fn create() -> Result<EmptyRegistry> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "kith-empty-flake-registry-{}-{n}.json",
            std::process::id()
        ));
        std::fs::write(&path, EMPTY_REGISTRY)
            .map_err(|e| EvalError::new(format!("writing '{}': {e}", path.display())))?;
        Ok(EmptyRegistry(path))
    }
}

impl Drop for EmptyRegistry {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
