//! The on-disk cache of plans: one file per (kith version, flake, inputs, view), holding
//! the answer and the observations of every file it was computed from. A warm query reads
//! it and re-observes those files; any difference, and any unreadable, truncated or
//! foreign file, makes it a miss. Writes go to a temporary file renamed into place, so
//! concurrent processes never see a partial entry.

use crate::recording_fs::Observation;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The format tag of cache files.
const FORMAT: &str = "kith-plan-v1";

/// A cached answer and what it depended on.
#[derive(Debug, Serialize, Deserialize)]
pub struct Entry {
    format: String,
    version: String,
    key: String,
    /// Every file observation the answer was computed from.
    pub observations: Vec<Observation>,
    /// The answer (a view's JSON value).
    pub value: serde_json::Value,
}

/// The cache directory: `$KITH_CACHE_DIR/plan`, else `$XDG_CACHE_HOME/kith/plan`, else
/// `~/.cache/kith/plan`.
pub fn dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("KITH_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("plan"));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("kith/plan"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/kith/plan"))
}

/// The key of a view of a flake: blake3 of kith's version and the request's parts.
pub fn key(parts: &[&str]) -> String {
    let mut h = blake3::Hasher::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(b"\0");
    h.update(FORMAT.as_bytes());
    for p in parts {
        h.update(b"\0");
        h.update(p.as_bytes());
    }
    h.finalize().to_hex().to_string()
}

fn path_of(dir: &Path, key: &str) -> PathBuf {
    dir.join(format!("{key}.json"))
}

/// The entry for `key` if it exists, is well-formed, is ours, and every file it depended
/// on is unchanged.
pub fn lookup(dir: &Path, key: &str) -> Option<Entry> {
    let text = std::fs::read(path_of(dir, key)).ok()?;
    let entry: Entry = serde_json::from_slice(&text).ok()?;
    if entry.format != FORMAT || entry.version != env!("CARGO_PKG_VERSION") || entry.key != key {
        return None;
    }
    entry
        .observations
        .iter()
        .all(Observation::holds)
        .then_some(entry)
}

/// Stores an entry atomically (temporary file, then rename). Failures are ignored: the
/// cache is an optimisation.
pub fn store(dir: &Path, key: &str, observations: Vec<Observation>, value: serde_json::Value) {
    let entry = Entry {
        format: FORMAT.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        key: key.into(),
        observations,
        value,
    };
    let Ok(bytes) = serde_json::to_vec(&entry) else {
        return;
    };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let tmp = dir.join(format!(".{key}.{}.tmp", std::process::id()));
    if std::fs::write(&tmp, bytes).is_ok() && std::fs::rename(&tmp, path_of(dir, key)).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}
