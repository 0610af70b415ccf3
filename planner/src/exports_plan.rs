//! `clan.exports` planned group by group: each service group's keys are computed on their
//! own (in parallel with rayon across groups, one evaluator per worker) and cached by the
//! group's inputs, so that a change to one instance recomputes only its group.
//!
//! This is sound because the keys of distinct services never overlap (a service may only
//! write keys starting with its own name; overlaps are checked and, like any error, make
//! the caller compute the view in one piece, which gives clan-core's exact error), and a
//! group's result depends only on its instances, the inventory data it reads (in its
//! fingerprint), the files it reads (observed) and, if it reads `exports`, every other
//! group (such a group is never cached on its own).

use crate::cache;
use crate::recording_fs::{Observation, RecordingFs};
use kith_eval::Eval;
use kith_inventory::clan::{self, Clan};
use kith_inventory::services::{self, GroupInfo};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// The flake, the overrides and `--offline`: what a worker needs to load the clan itself.
#[derive(Clone)]
struct Source {
    dir: PathBuf,
    overrides: Vec<(String, PathBuf)>,
    offline: bool,
    /// The flake's and the overrides' directories, hashed once for all workers.
    memo: kith_flake::SourceMemo,
}

/// A clan loaded in one evaluator, with its groups.
struct Loaded {
    ev: Eval,
    fs: Rc<RecordingFs>,
    clan: Clan,
    infos: Vec<GroupInfo>,
    flake_path: String,
}

/// One group's keys, what it read, and whether it read other groups' exports.
struct GroupResult {
    index: usize,
    keys: Vec<(String, serde_json::Value)>,
    read_exports: bool,
    observations: Vec<Observation>,
}

/// What the second worker computed, or why it could not.
type WorkerOutcome = Result<(Vec<GroupResult>, Vec<Observation>), String>;

/// The plan's answer: the view, the observations of every group computed here (others
/// came from the cache) and of the loading, and what answered.
pub struct Planned {
    /// `clan.exports` as JSON.
    pub json: serde_json::Value,
    /// Observations made by the workers (the main evaluator's are in `fs`).
    pub worker_observations: Vec<Observation>,
    /// The main evaluator's file system.
    pub fs: Rc<RecordingFs>,
    /// The flake's store path and clan-core's source path.
    pub flake_path: String,
    /// clan-core's source directory.
    pub core: String,
    /// The store directory.
    pub store_dir: String,
    /// For `--explain`.
    pub how: String,
}

fn load(src: &Source, fingerprints: bool) -> Result<Loaded, kith_inventory::Error> {
    let (mut ev, fs) = crate::recording_evaluator(src.offline);
    let opts = kith_flake::FlakeOptions {
        overrides: src.overrides.clone(),
        offline: src.offline,
        source_memo: Some(src.memo.clone()),
        ..Default::default()
    };
    let clan = clan::load(&mut ev, &src.dir, &opts)?;
    let infos = services::group_infos(&mut ev, &clan, fingerprints)?;
    let flake_path = clan.flake_path(&mut ev)?;
    Ok(Loaded {
        ev,
        fs,
        clan,
        infos,
        flake_path,
    })
}

/// What `--explain` adds when the clan's modules got kith's built-in lib.
pub(crate) fn builtin_lib_note(clan: &kith_inventory::clan::Clan) -> String {
    if clan.builtin_lib {
        format!("; {}", kith_inventory::builtin_lib::EXPLAIN)
    } else {
        String::new()
    }
}

/// A piece of work: a group, or one part of a large group's keys (`(k, n)`).
type Unit = (usize, (usize, usize));

fn compute(l: &mut Loaded, units: &[Unit]) -> Result<Vec<GroupResult>, kith_inventory::Error> {
    let store_prefix = format!("{}/", l.ev.options.store_dir);
    let mut out = Vec::new();
    for &(index, part) in units {
        let mark = l.fs.mark();
        let (keys, read_exports) = services::group_exports_json(&mut l.ev, &l.clan, index, part)?;
        let observations =
            l.fs.observations_since(mark, |p| p.starts_with(&store_prefix));
        out.push(GroupResult {
            index,
            keys,
            read_exports,
            observations,
        });
    }
    Ok(out)
}

/// The placeholders the cached result of a group holds instead of the flake's and
/// clan-core's store paths (which change with any edit of the flake).
const FLAKE: &str = "\u{1}kith-flake\u{1}";
const CORE: &str = "\u{1}kith-clan-core\u{1}";

/// The cache key of a group: its fingerprint with the store paths that change with every
/// edit (the flake's, in `_file` names) written as placeholders.
fn group_key(src: &Source, info: &GroupInfo, flake_path: &str, core: &str) -> String {
    let fingerprint = info
        .fingerprint
        .replace(flake_path, FLAKE)
        .replace(core, CORE);
    let overrides: Vec<String> = src
        .overrides
        .iter()
        .map(|(n, p)| format!("{n}={}", p.display()))
        .collect();
    cache::key(&[
        &src.dir.to_string_lossy(),
        &overrides.join("\0"),
        "group",
        &info.id,
        &fingerprint,
    ])
}

/// The work units of `indices`, heaviest first; a group heavier than a third of all is
/// split in two halves of its keys.
fn units_of(infos: &[GroupInfo], indices: &[usize]) -> Vec<Unit> {
    let total: usize = indices.iter().map(|&i| infos[i].weight + 1).sum();
    let mut weighted: Vec<(usize, Unit)> = Vec::new();
    for &i in indices {
        let w = infos[i].weight + 1;
        if 3 * w > total {
            weighted.push((w / 2, (i, (0, 2))));
            weighted.push((w / 2, (i, (1, 2))));
        } else {
            weighted.push((w, (i, (0, 1))));
        }
    }
    weighted.sort_by_key(|(w, _)| std::cmp::Reverse(*w));
    weighted.into_iter().map(|(_, u)| u).collect()
}

/// Plans `clan.exports` group by group (see the module documentation); `None` when the
/// view has to be computed in one piece (an error, an unmodelled construct, overlapping
/// keys), which the caller then does.
pub fn plan(
    dir: &Path,
    opts: &kith_flake::FlakeOptions,
    no_cache: bool,
    cache_dir: Option<&Path>,
) -> Option<Planned> {
    let src = Source {
        dir: dir.to_path_buf(),
        overrides: opts.overrides.clone(),
        offline: opts.offline,
        memo: kith_flake::SourceMemo::default(),
    };
    let use_cache = !no_cache && cache_dir.is_some();
    let mut main = load(&src, use_cache).ok()?;
    let n = main.infos.len();
    // Groups from the cache.
    let mut cached: Vec<Option<Vec<(String, serde_json::Value)>>> = vec![None; n];
    if use_cache {
        let d = cache_dir.expect("checked");
        for (i, info) in main.infos.iter().enumerate() {
            if let Some(hit) =
                cache::lookup(d, &group_key(&src, info, &main.flake_path, &main.clan.core))
            {
                if let Some(v) = hit.value() {
                    let text = v
                        .to_string()
                        .replace(FLAKE, &main.flake_path)
                        .replace(CORE, &main.clan.core);
                    if let Ok(serde_json::Value::Object(m)) = serde_json::from_str(&text) {
                        cached[i] = Some(m.into_iter().collect());
                    }
                }
            }
        }
    }
    let missing: Vec<usize> = (0..n).filter(|&i| cached[i].is_none()).collect();
    let threads = rayon::current_num_threads();
    let mut results: Vec<GroupResult> = Vec::new();
    let mut worker_observations = Vec::new();
    if missing.len() >= 2 && threads >= 2 {
        // Work units, heaviest first, taken from a shared queue: the second worker joins
        // once it has loaded the clan itself, so the work balances whatever it costs.
        let units = units_of(&main.infos, &missing);
        let next = std::sync::atomic::AtomicUsize::new(0);
        let take = || {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            units.get(i).copied()
        };
        let src2 = src.clone();
        let mut other: Option<WorkerOutcome> = None;
        let mut own: Vec<GroupResult> = Vec::new();
        let mut own_ok = true;
        rayon::in_place_scope(|s| {
            s.spawn(|_| {
                let r = (|| {
                    let mut l = load(&src2, false).map_err(|e| e.to_string())?;
                    let mut r = Vec::new();
                    while let Some(u) = take() {
                        r.extend(compute(&mut l, &[u]).map_err(|e| e.to_string())?);
                    }
                    let store = format!("{}/", l.ev.options.store_dir);
                    Ok((r, l.fs.observations(|p| p.starts_with(&store))))
                })();
                other = Some(r);
            });
            while let Some(u) = take() {
                match compute(&mut main, &[u]) {
                    Ok(r) => own.extend(r),
                    Err(_) => {
                        own_ok = false;
                        break;
                    }
                }
            }
        });
        if !own_ok {
            return None;
        }
        results.extend(own);
        let (r, obs) = other?.ok()?;
        results.extend(r);
        worker_observations = obs;
    } else {
        let units: Vec<Unit> = missing.iter().map(|&i| (i, (0, 1))).collect();
        results = compute(&mut main, &units).ok()?;
    }
    // The parts of a split group, together again.
    results.sort_by_key(|r| r.index);
    let mut joined: Vec<GroupResult> = Vec::new();
    for r in results {
        match joined.last_mut() {
            Some(last) if last.index == r.index => {
                last.keys.extend(r.keys);
                last.read_exports |= r.read_exports;
                last.observations.extend(r.observations);
            }
            _ => joined.push(r),
        }
    }
    let results = joined;
    let computed = results.len();
    // Merge: every key once.
    let mut all: Vec<(String, serde_json::Value)> = Vec::new();
    for r in &results {
        all.extend(r.keys.iter().cloned());
    }
    for c in cached.iter().flatten() {
        all.extend(c.iter().cloned());
    }
    all.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    if all.windows(2).any(|w| w[0].0 == w[1].0) {
        return None;
    }
    // Cache each computed group that read no other group's exports.
    if use_cache {
        let d = cache_dir.expect("checked");
        for r in &results {
            if r.read_exports {
                continue;
            }
            let map: serde_json::Map<String, serde_json::Value> = r.keys.iter().cloned().collect();
            let text = serde_json::Value::Object(map)
                .to_string()
                .replace(&main.flake_path, FLAKE)
                .replace(&main.clan.core, CORE);
            if let Ok(v) = serde_json::from_str(&text) {
                cache::store(
                    d,
                    &group_key(
                        &src,
                        &main.infos[r.index],
                        &main.flake_path,
                        &main.clan.core,
                    ),
                    r.observations.clone(),
                    &v,
                    "",
                );
            }
        }
    }
    for r in results {
        worker_observations.extend(r.observations);
    }
    let json = serde_json::Value::Object(all.into_iter().collect());
    Some(Planned {
        json,
        worker_observations,
        fs: main.fs.clone(),
        flake_path: main.flake_path.clone(),
        core: main.clan.core.clone(),
        store_dir: main.ev.options.store_dir.clone(),
        how: format!(
            "{n} service groups: {computed} computed{}, {} from the cache{}",
            if threads >= 2 && computed >= 2 {
                " in parallel"
            } else {
                ""
            },
            n - computed,
            builtin_lib_note(&main.clan)
        ),
    })
}
