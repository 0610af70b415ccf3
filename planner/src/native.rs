//! Answers from the native engine (kith-inventory) and the plan cache, for the views it
//! models; everything else goes to the reference path.

use crate::cache::{self, Reads};
use crate::recording_fs::{Observation, RecordingFs};
use kith_eval::Eval;
use kith_inventory::clan;
use std::path::Path;
use std::rc::Rc;

/// The selector prefix of the view the native engine computes.
pub const INVENTORY_VIEW: [&str; 3] = ["clanInternals", "inventoryClass", "inventorySerialization"];

/// A view the native engine computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// `clanInternals.inventoryClass.inventorySerialization`.
    Inventory,
    /// `clan.exports`.
    Exports,
    /// `clanInternals.cliChecks`.
    CliChecks,
}

impl View {
    /// The selector path of the view.
    pub fn path(self) -> &'static [&'static str] {
        match self {
            View::Inventory => &INVENTORY_VIEW,
            View::Exports => &["clan", "exports"],
            View::CliChecks => &["clanInternals", "cliChecks"],
        }
    }

    fn name(self) -> &'static str {
        match self {
            View::Inventory => "inventorySerialization",
            View::Exports => "exports",
            View::CliChecks => "cliChecks",
        }
    }
}

/// How a native answer was found.
pub enum Outcome {
    /// The view's value, and what answered (for `--explain`).
    Value(serde_json::Value, String),
    /// The view as `clan select` prints it (from the cache, when no selector follows the
    /// view), and what answered.
    Text(String, String),
    /// The native engine does not model this clan: why.
    Unsupported(String),
    /// The clan's own error (clan-core's message), with the evaluator that rendered it.
    Error(Box<kith_eval::EvalError>, Box<Eval>),
}

/// The cache key of a view of the clan in `dir` with `opts`.
fn view_key(dir: &Path, opts: &kith_flake::FlakeOptions, which: View) -> String {
    let overrides: Vec<String> = opts
        .overrides
        .iter()
        .map(|(n, p)| format!("{n}={}", p.display()))
        .collect();
    cache::key(&[&dir.to_string_lossy(), &overrides.join("\0"), which.name()])
}

/// The cache key of the projection `name` of the view whose key is `view_key`.
fn projection_key(view_key: &str, name: &str) -> String {
    cache::key(&[view_key, "projection", name])
}

/// `project` (named `name`) applied to a view, as [`view`] gives it: the projection is
/// cached as an answer of its own, observing only what it depends on (a command that
/// needs a few fields of a large view, such as the machines' tags or the network
/// exports, then never parses the whole view). The view's answer may hold the flake's
/// store path, and its entry then observes the whole tree, since any edit changes that
/// path; a projection without it depends on the files the view read, one by one, as a
/// service group's cached keys do (see [`crate::exports_plan`]).
pub fn projection(
    dir: &Path,
    opts: &kith_flake::FlakeOptions,
    which: View,
    no_cache: bool,
    name: &str,
    project: impl FnOnce(&serde_json::Value) -> serde_json::Value,
) -> Outcome {
    let since = crate::recording_fs::fs_clock_now();
    let key = view_key(dir, opts, which);
    let pkey = projection_key(&key, name);
    let cache_dir = if no_cache { None } else { cache::dir() };
    let how_cached = |n: usize| {
        format!("answered from the cached plan ({n} observed files and directories unchanged)")
    };
    if let Some(d) = &cache_dir {
        if let Some(hit) = cache::lookup(d, &pkey) {
            if let Some(p) = hit.value() {
                return Outcome::Value(p, how_cached(hit.observed()));
            }
        }
    }
    let (outcome, observed) = view_read(dir, opts, which, no_cache, false, true);
    let (v, how) = match outcome {
        Outcome::Value(v, how) => (v, how),
        Outcome::Text(t, how) => match serde_json::from_str(&t) {
            Ok(v) => (v, how),
            Err(e) => return Outcome::Unsupported(format!("the cached view is unreadable: {e}")),
        },
        other => return other,
    };
    let p = project(&v);
    if let (Some(d), Some((reads, view_obs))) = (&cache_dir, observed) {
        if let Some(own) = reads.with_trees(&p.to_string(), d, since) {
            // The fewer checks: its own reads, or the view's observations (which may
            // cover most of them by one tree's index).
            let obs = if cache::checks(&own, d) <= cache::checks(&view_obs, d) {
                own
            } else {
                view_obs
            };
            cache::store(d, &pkey, obs, None, &p, "");
        }
    }
    Outcome::Value(p, how)
}

/// A view of the clan in `dir` (canonical), from the cache unless `no_cache`, else
/// computed natively (and cached).
///
/// `whole`: the caller prints the whole view (the cached text can then be used as it is).
pub fn view(
    dir: &Path,
    opts: &kith_flake::FlakeOptions,
    which: View,
    no_cache: bool,
    whole: bool,
) -> Outcome {
    view_read(dir, opts, which, no_cache, whole, false).0
}

/// [`view`], with every file its answer read, one by one, and the observations its cache
/// entry holds, where they are known (the answer was computed, or found in the cache with
/// them and `want_reads`).
fn view_read(
    dir: &Path,
    opts: &kith_flake::FlakeOptions,
    which: View,
    no_cache: bool,
    whole: bool,
    want_reads: bool,
) -> (Outcome, Option<(Reads, Vec<Observation>)>) {
    let since = crate::recording_fs::fs_clock_now();
    let key = view_key(dir, opts, which);
    let cache_dir = cache::dir();
    if !no_cache {
        if let Some(d) = &cache_dir {
            if let Some(hit) = cache::lookup(d, &key) {
                let how = format!(
                    "answered from the cached plan ({} observed files and directories unchanged)",
                    hit.observed()
                );
                let reads = || {
                    want_reads
                        .then(|| hit.reads().map(|r| (r, hit.observations())))
                        .flatten()
                };
                if whole {
                    if let Some(text) = hit.text() {
                        return (Outcome::Text(text, how), reads());
                    }
                } else if let Some(value) = hit.value() {
                    return (Outcome::Value(value, how), reads());
                }
            }
        }
    }
    if which == View::Exports {
        if let Some(p) = crate::exports_plan::plan(dir, opts, no_cache, cache_dir.as_deref()) {
            let mut text = None;
            let mut observed = None;
            let how = match (&cache_dir, no_cache) {
                (Some(d), false) => {
                    let reads = Reads::new(
                        &p.fs,
                        p.worker_observations,
                        dir,
                        &opts.overrides,
                        &p.store_dir,
                        &p.flake_path,
                        &p.core,
                    );
                    let t = crate::select::dumps(&p.json);
                    let stored = store_view(d, &key, &reads, &p.json, &t, since);
                    text = Some(t);
                    match stored {
                        Some(obs) => {
                            let n = obs.len();
                            observed = Some((reads, obs));
                            format!("answered by the native engine ({}; plan from {n} observed files and directories, now cached)", p.how)
                        }
                        None => format!("answered by the native engine ({}; {NOT_CACHED})", p.how),
                    }
                }
                _ => format!("answered by the native engine ({}; cache not used)", p.how),
            };
            let outcome = match text {
                Some(t) if whole => Outcome::Text(t, how),
                _ => Outcome::Value(p.json, how),
            };
            return (outcome, observed);
        }
    }
    let (mut ev, mut fs, mut result) = compute_view(dir, opts, which);
    if result
        .as_ref()
        .is_err_and(kith_inventory::Error::reads_config)
    {
        kith_inventory::modsys::share::set_sharing(false);
        (ev, fs, result) = compute_view(dir, opts, which);
        kith_inventory::modsys::share::set_sharing(true);
    }
    match result {
        Ok((json, flake_path, core_path, note)) => {
            let mut n = 0;
            let mut observed = None;
            let mut changed = false;
            if let (Some(d), false) = (&cache_dir, no_cache) {
                let reads = Reads::new(
                    &fs,
                    Vec::new(),
                    dir,
                    &opts.overrides,
                    &ev.options.store_dir,
                    &flake_path,
                    &core_path,
                );
                let text = crate::select::dumps(&json);
                match store_view(d, &key, &reads, &json, &text, since) {
                    Some(obs) => {
                        n = obs.len();
                        observed = Some((reads, obs));
                    }
                    None => changed = true,
                }
            }
            let how = if changed {
                format!("answered by the native engine (plan computed, {NOT_CACHED}{note})")
            } else if observed.is_some() {
                format!("answered by the native engine (plan computed from {n} observed files and directories, now cached{note})")
            } else {
                format!("answered by the native engine (plan computed, cache not used{note})")
            };
            (Outcome::Value(json, how), observed)
        }
        Err(kith_inventory::Error::Unsupported(r)) => (Outcome::Unsupported(r), None),
        Err(kith_inventory::Error::Eval(e)) if e.message == clan::NO_CLAN_OUTPUT => (
            Outcome::Unsupported("the flake has no `clan` output".into()),
            None,
        ),
        Err(kith_inventory::Error::Eval(e)) => (Outcome::Error(e, Box::new(ev)), None),
    }
}

/// What `--explain` says when an answer is not cached because its files changed while it
/// was computed.
const NOT_CACHED: &str = "not cached: the flake changed while it was computed";

/// Stores a computed view under `key`, observing the trees its text holds the store
/// paths of and the other files one by one; those observations, or `None` (nothing
/// stored) if such a tree changed since `since`, before the view was computed.
fn store_view(
    cache_dir: &Path,
    key: &str,
    reads: &Reads,
    json: &serde_json::Value,
    text: &str,
    since: std::time::SystemTime,
) -> Option<Vec<Observation>> {
    let obs = reads.with_trees(text, cache_dir, since)?;
    let whole_trees = obs.iter().any(|o| o.op == "tree");
    cache::store(
        cache_dir,
        key,
        obs.clone(),
        whole_trees.then_some(reads),
        json,
        text,
    );
    Some(obs)
}

/// The view computed in one piece, in a fresh evaluator reading through a recording file
/// system: its JSON, the flake's store path, clan-core's path and what `--explain` adds
/// about the clan's `lib`.
#[allow(clippy::type_complexity)]
fn compute_view(
    dir: &Path,
    opts: &kith_flake::FlakeOptions,
    which: View,
) -> (
    kith_eval::Eval,
    Rc<RecordingFs>,
    Result<(serde_json::Value, String, String, String), kith_inventory::Error>,
) {
    let (mut ev, fs) = crate::recording_evaluator(opts.offline);
    let result = clan::load(&mut ev, dir, opts).and_then(|c| {
        let v = match which {
            View::Inventory => kith_inventory::serialize::inventory_serialization(&mut ev, &c)?,
            View::Exports => kith_inventory::services::exports(&mut ev, &c)?,
            View::CliChecks => kith_inventory::services::cli_checks(&mut ev, &c)?,
        };
        let json = ev.to_json(&v)?;
        let note = crate::exports_plan::builtin_lib_note(&c);
        Ok((json, c.flake_path(&mut ev)?, c.core.clone(), note))
    });
    (ev, fs, result)
}
