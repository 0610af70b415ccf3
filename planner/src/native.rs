//! Answers from the native engine (kith-inventory) and the plan cache, for the views it
//! models; everything else goes to the reference path.

use crate::cache;
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

/// `project` (named `name`) applied to a view, as [`view`] gives it: the projection is
/// cached next to the view's entry and tied to the view's value, so a warm answer reads
/// only the projection (a command that needs a few fields of a large view, such as the
/// machines' tags or the network exports, then never parses the whole view).
pub fn projection(
    dir: &Path,
    opts: &kith_flake::FlakeOptions,
    which: View,
    no_cache: bool,
    name: &str,
    project: impl FnOnce(&serde_json::Value) -> serde_json::Value,
) -> Outcome {
    let key = view_key(dir, opts, which);
    let cache_dir = if no_cache { None } else { cache::dir() };
    if let Some(d) = &cache_dir {
        if let Some(hit) = cache::lookup(d, &key) {
            let how = format!(
                "answered from the cached plan ({} observed files and directories unchanged)",
                hit.observed()
            );
            if let Some(p) = hit.projection(name) {
                return Outcome::Value(p, how);
            }
            if let Some(v) = hit.value() {
                let p = project(&v);
                cache::store_projection(d, &key, name, hit.value_digest(), &p);
                return Outcome::Value(p, how);
            }
        }
    }
    let (v, how) = match view(dir, opts, which, no_cache, false) {
        Outcome::Value(v, how) => (v, how),
        Outcome::Text(t, how) => match serde_json::from_str(&t) {
            Ok(v) => (v, how),
            Err(e) => return Outcome::Unsupported(format!("the cached view is unreadable: {e}")),
        },
        other => return other,
    };
    let p = project(&v);
    if let (Some(d), Some(digest)) = (&cache_dir, cache::value_digest(&v)) {
        cache::store_projection(d, &key, name, &digest, &p);
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
    let key = view_key(dir, opts, which);
    let cache_dir = cache::dir();
    if !no_cache {
        if let Some(d) = &cache_dir {
            if let Some(hit) = cache::lookup(d, &key) {
                let how = format!(
                    "answered from the cached plan ({} observed files and directories unchanged)",
                    hit.observed()
                );
                if whole {
                    if let Some(text) = hit.text() {
                        return Outcome::Text(text, how);
                    }
                } else if let Some(value) = hit.value() {
                    return Outcome::Value(value, how);
                }
            }
        }
    }
    if which == View::Exports {
        if let Some(p) = crate::exports_plan::plan(dir, opts, no_cache, cache_dir.as_deref()) {
            let mut text = None;
            let how = match (&cache_dir, no_cache) {
                (Some(d), false) => {
                    let obs = observations(
                        &p.fs,
                        p.worker_observations,
                        &p.json,
                        dir,
                        opts,
                        &p.store_dir,
                        &p.flake_path,
                        &p.core,
                        Some(d),
                    );
                    let n = obs.len();
                    let t = crate::select::dumps(&p.json);
                    cache::store(d, &key, obs, &p.json, &t);
                    text = Some(t);
                    format!("answered by the native engine ({}; plan from {n} observed files and directories, now cached)", p.how)
                }
                _ => format!("answered by the native engine ({}; cache not used)", p.how),
            };
            return match text {
                Some(t) if whole => Outcome::Text(t, how),
                _ => Outcome::Value(p.json, how),
            };
        }
    }
    let (mut ev, mut fs, mut result) = compute_view(dir, opts, which);
    if matches!(&result, Err(kith_inventory::Error::Eval(e)) if e.message == kith_inventory::modsys::share::READS_CONFIG)
    {
        kith_inventory::modsys::share::set_sharing(false);
        (ev, fs, result) = compute_view(dir, opts, which);
        kith_inventory::modsys::share::set_sharing(true);
    }
    match result {
        Ok((json, flake_path, core_path, note)) => {
            let store_dir = ev.options.store_dir.clone();
            let obs = observations(
                &fs,
                Vec::new(),
                &json,
                dir,
                opts,
                &store_dir,
                &flake_path,
                &core_path,
                cache_dir.as_deref(),
            );
            let n = obs.len();
            if let Some(d) = &cache_dir {
                let text = crate::select::dumps(&json);
                cache::store(d, &key, obs, &json, &text);
            }
            Outcome::Value(
                json,
                format!("answered by the native engine (plan computed from {n} observed files and directories{}{note})", if no_cache { ", cache not used" } else { ", now cached" }),
            )
        }
        Err(kith_inventory::Error::Unsupported(r)) => Outcome::Unsupported(r),
        Err(kith_inventory::Error::Eval(e)) if e.message == clan::NO_CLAN_OUTPUT => {
            Outcome::Unsupported("the flake has no `clan` output".into())
        }
        Err(kith_inventory::Error::Eval(e)) => Outcome::Error(e, Box::new(ev)),
    }
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

/// What a cached answer depends on. A directory whose store path occurs in the answer
/// (the flake's, in `_file` names and var `flake` paths; an input's) is observed as a
/// whole tree, since any change in it changes that path; the other files read are
/// observed one by one, except those in the store (immutable).
#[allow(clippy::too_many_arguments)]
fn observations(
    fs: &RecordingFs,
    more: Vec<Observation>,
    json: &serde_json::Value,
    dir: &Path,
    opts: &kith_flake::FlakeOptions,
    store_dir: &str,
    flake_path: &str,
    core_path: &str,
    cache_dir: Option<&Path>,
) -> Vec<Observation> {
    let text = json.to_string();
    let mut trees: Vec<&Path> = Vec::new();
    if text.contains(flake_path) {
        trees.push(dir);
    }
    // Store paths in the answer other than the flake's and clan-core's: an input's.
    let prefix = format!("{store_dir}/");
    let others = text.match_indices(&prefix).any(|(i, _)| {
        let rest = &text[i..];
        !rest.starts_with(flake_path) && !rest.starts_with(core_path)
    });
    for (name, path) in &opts.overrides {
        if others || (name == "clan-core" && text.contains(core_path)) {
            trees.push(path);
        }
    }
    let skip = |p: &Path| p.starts_with(&prefix) || trees.iter().any(|t| p.starts_with(t));
    let mut obs: Vec<Observation> = fs.observations(skip);
    obs.extend(more.into_iter().filter(|o| !skip(&o.path)));
    obs.sort_by(|a, b| (&a.op, &a.path).cmp(&(&b.op, &b.path)));
    obs.dedup();
    for t in trees {
        obs.push(Observation::observe_tree(t, cache_dir));
    }
    // The flake's own definition, whatever was read.
    for f in ["flake.nix", "flake.lock"] {
        let p = dir.join(f);
        if !obs.iter().any(|o| o.path == p) {
            obs.push(Observation::observe("read", &p));
        }
    }
    obs
}
