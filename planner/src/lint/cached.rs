//! A clan's diagnostics in the plan cache: keyed by the clan's directory and inputs, valid
//! while the directory's tree and every file read outside it (and outside the store) are
//! unchanged, so a warm `kith lint` evaluates nothing.

use super::{Counts, Diagnostic, Run};
use crate::cache;
use crate::recording_fs::Observation;
use kith_flake::FlakeOptions;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The diagnostics of the clan in `dir` and its size, from the cache in `cache_dir` or
/// computed as `run` says (and stored there).
pub(super) fn diagnostics(
    dir: &Path,
    opts: &FlakeOptions,
    cache_dir: &Path,
    run: &Run,
) -> (Vec<Diagnostic>, Counts) {
    let since = crate::recording_fs::fs_clock_now();
    let key = key(dir, opts, run.reference);
    if let Some(hit) = cache::lookup(cache_dir, &key) {
        if let Some(stored) = hit
            .value()
            .and_then(|v| serde_json::from_value::<Stored>(v).ok())
        {
            return (stored.diagnostics, stored.counts);
        }
    }
    let found = super::diagnostics(dir, opts, super::check::Through::Disk, run);
    let stored = Stored {
        diagnostics: found.diagnostics,
        counts: found.counts,
    };
    let Ok(value) = serde_json::to_value(&stored) else {
        return (stored.diagnostics, stored.counts);
    };
    let mut observations = found.observations;
    observations.retain(|o| !o.path.starts_with(dir));
    observations.sort_by(|a, b| (&a.op, &a.path).cmp(&(&b.op, &b.path)));
    observations.dedup();
    // Not stored if the clan changed while it was linted.
    if let Some(tree) = Observation::observe_tree(dir, Some(cache_dir), since) {
        observations.push(tree);
        cache::store(cache_dir, &key, observations, None, &value, "");
    }
    (stored.diagnostics, stored.counts)
}

/// What is cached of a lint.
#[derive(Serialize, Deserialize)]
struct Stored {
    diagnostics: Vec<Diagnostic>,
    counts: Counts,
}

/// The cache key of the diagnostics of the clan in `dir` with `opts` (`reference`: with
/// [`Run::reference`], `kith check`'s).
fn key(dir: &Path, opts: &FlakeOptions, reference: bool) -> String {
    let overrides: Vec<String> = opts
        .overrides
        .iter()
        .map(|(n, p)| format!("{n}={}", p.display()))
        .collect();
    cache::key(&[
        &dir.to_string_lossy(),
        &overrides.join("\0"),
        "lint-v2",
        if reference { "reference" } else { "native" },
        if opts.offline { "offline" } else { "online" },
    ])
}
