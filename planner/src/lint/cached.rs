//! A clan's diagnostics in the plan cache: keyed by the clan's directory and inputs, valid
//! while the directory's tree and every file read outside it (and outside the store) are
//! unchanged, so a warm `kith lint` evaluates nothing.

use super::Diagnostic;
use crate::cache;
use crate::recording_fs::Observation;
use kith_flake::FlakeOptions;
use std::path::Path;

/// The diagnostics of the clan in `dir`, from the cache in `cache_dir` or computed (and
/// stored there).
pub(super) fn diagnostics(dir: &Path, opts: &FlakeOptions, cache_dir: &Path) -> Vec<Diagnostic> {
    let key = key(dir, opts);
    if let Some(hit) = cache::lookup(cache_dir, &key) {
        if let Some(found) = hit.value().and_then(|v| serde_json::from_value(v).ok()) {
            return found;
        }
    }
    let (found, reads) = super::diagnostics(dir, opts, None);
    let Ok(value) = serde_json::to_value(&found) else {
        return found;
    };
    let mut observations: Vec<Observation> = Vec::new();
    for (fs, store_dir) in &reads {
        let store = format!("{store_dir}/");
        observations.extend(fs.observations(|p| p.starts_with(&store) || p.starts_with(dir)));
    }
    observations.sort_by(|a, b| (&a.op, &a.path).cmp(&(&b.op, &b.path)));
    observations.dedup();
    observations.push(Observation::observe_tree(dir, Some(cache_dir)));
    cache::store(cache_dir, &key, observations, &value, "");
    found
}

/// The cache key of the diagnostics of the clan in `dir` with `opts`.
fn key(dir: &Path, opts: &FlakeOptions) -> String {
    let overrides: Vec<String> = opts
        .overrides
        .iter()
        .map(|(n, p)| format!("{n}={}", p.display()))
        .collect();
    cache::key(&[
        &dir.to_string_lossy(),
        &overrides.join("\0"),
        "lint",
        if opts.offline { "offline" } else { "online" },
    ])
}
