//! `clan.exports` planned group by group: each service group's keys are computed on their
//! own and cached by the group's inputs, so that a change to one instance recomputes only
//! its group. With two threads, a second worker (its own evaluator, as the threading
//! decision says) loads the clan at once, alongside the main thread; the groups to compute,
//! large ones dealt into parts by their `perInstance`/`perMachine` calls, are then shared
//! from one queue, heaviest first.
//!
//! This is sound because the keys of distinct services never overlap (a service may only
//! write keys starting with its own name; overlaps are checked and, like any error, make
//! the caller compute the view in one piece, which gives clan-core's exact error), and a
//! group's result depends only on its instances, the inventory data it reads (in its
//! fingerprint), the files it reads (observed), the files loading the clan read other
//! than for inventory data (a service module written in `clan.nix` is read there, not by
//! the group: they are observed with each group) and, if it reads `exports`, every other
//! group (such a group is never cached on its own). A key written by two parts of a group
//! shows up twice, like an overlap, and the view is then computed in one piece.

use crate::cache;
use crate::recording_fs::{Digested, DigestingFs, Observation, RecordingFs};
use kith_eval::Eval;
use kith_inventory::clan::{self, Clan};
use kith_inventory::services::{self, GroupInfo, KnownClasses};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::{Arc, Mutex};

/// The flake, the overrides and `--offline`: what a worker needs to load the clan itself.
#[derive(Clone)]
struct Source {
    dir: PathBuf,
    overrides: Vec<(String, PathBuf)>,
    offline: bool,
    /// The flake's and the overrides' directories, hashed once for all workers.
    memo: kith_flake::SourceMemo,
    /// Whether the answer is cached: only then are the files each group read observed.
    observe: bool,
    /// Untracked files of a git flake its source includes (see `FlakeOptions`).
    also_tracked: Vec<String>,
    /// Where the files are read instead of the disk (an editor's buffers over it); then
    /// nothing is observed.
    reading: Option<crate::lint::SharedFs>,
    /// Groups kept from earlier plans through `reading` (only with it).
    groups: Option<GroupMemo>,
    /// Whether each computed part also checks its instances' settings (for the linter,
    /// whose checking thread then checks only the instances no part checked).
    check_settings: bool,
}

/// Groups computed through an editor's buffers, kept by a caller that plans again after
/// each edit (the language server): a group whose key (its instances, members and the
/// inventory data they are computed from) is unchanged, and whose reads read the same
/// again, is not computed again. The threads of one plan share it.
#[derive(Clone, Default)]
pub(crate) struct GroupMemo(Arc<Mutex<HashMap<String, Memoized>>>);

/// A group kept: its keys, what it read, and its members' classes once told.
struct Memoized {
    keys: Vec<(String, serde_json::Value)>,
    reads: Vec<Digested>,
    classes: Option<KnownClasses>,
}

/// The memo's part in one plan: the groups it gave, and those computed and kept in it,
/// whose members' classes are still to be told.
pub(crate) struct MemoUse {
    memo: GroupMemo,
    /// The key of each group it gave.
    hits: Vec<String>,
    /// The key and the instances of each group computed and kept.
    stored: Vec<(String, Vec<String>)>,
}

impl MemoUse {
    /// The classes of the members of the groups the memo gave.
    pub(crate) fn hit_classes(&self) -> KnownClasses {
        let memo = self.memo.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = KnownClasses::new();
        for key in &self.hits {
            if let Some(c) = memo.get(key).and_then(|m| m.classes.as_ref()) {
                out.extend(c.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
        out
    }

    /// Keeps the classes of the groups computed and kept, from `known` (what the evaluator
    /// that computed them told); a group whose instances are not all there is dropped.
    pub(crate) fn keep_classes(&self, known: &KnownClasses) {
        let mut memo = self.memo.0.lock().unwrap_or_else(|e| e.into_inner());
        for (key, instances) in &self.stored {
            let classes: Option<KnownClasses> = instances
                .iter()
                .map(|i| Some((i.clone(), known.get(i)?.clone())))
                .collect();
            match (classes, memo.get_mut(key)) {
                (Some(c), Some(m)) => m.classes = Some(c),
                _ => {
                    memo.remove(key);
                }
            }
        }
    }
}

/// A clan loaded in one evaluator, with its groups.
struct Loaded {
    ev: Eval,
    fs: Rc<RecordingFs>,
    /// What the evaluator read through `Source::reading`, when groups are kept.
    digests: Option<Rc<DigestingFs>>,
    /// The marks of `fs` and `digests` when the clan was loaded: what was read before
    /// them was read by loading it.
    loaded: (usize, usize),
    clan: Clan,
    infos: Vec<GroupInfo>,
    flake_path: String,
    /// See [`Source::check_settings`].
    check_settings: bool,
}

/// One group's keys, what it read, and whether it read other groups' exports.
struct GroupResult {
    index: usize,
    keys: Vec<(String, serde_json::Value)>,
    read_exports: bool,
    observations: Vec<Observation>,
    /// Whether the group may be cached on its own: not if a helper computed it without
    /// observing what its evaluator read before (see [`help`]), which the group's reads
    /// may lack.
    cacheable: bool,
    /// What it read through the editor's buffers, when groups are kept.
    digested: Vec<Digested>,
    /// The instances whose settings it checked, each with whether they passed.
    checked: Vec<(String, bool)>,
}

/// What the second worker computed, or why it could not.
type WorkerOutcome = Result<(Vec<GroupResult>, Vec<Observation>), String>;

/// The plan's answer: the view, the observations of every group computed here (others
/// came from the cache) and of the loading, and what answered.
pub struct Planned {
    /// `clan.exports` as JSON.
    pub json: serde_json::Value,
    /// Observations made by the workers and those of the groups from the cache (the main
    /// evaluator's are in `fs`).
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
    /// The memo's part, when groups are kept.
    pub(crate) memo: Option<MemoUse>,
    /// The instances whose settings the computed parts checked (when asked to), each with
    /// whether they passed.
    pub(crate) checked: Vec<(String, bool)>,
}

fn load(src: &Source, fingerprints: bool) -> Result<Loaded, kith_inventory::Error> {
    let (mut ev, fs) = crate::recording_evaluator(src.offline);
    let mut digests = None;
    if let Some(reading) = &src.reading {
        // The recording file system then sees no read (and `observe` is off).
        if src.groups.is_some() {
            let d = Rc::new(DigestingFs::new(reading.clone()));
            ev.set_file_system(d.clone());
            digests = Some(d);
        } else {
            ev.set_file_system(Rc::new(reading.clone()));
        }
    }
    let opts = kith_flake::FlakeOptions {
        overrides: src.overrides.clone(),
        offline: src.offline,
        source_memo: Some(src.memo.clone()),
        also_tracked: src.also_tracked.clone(),
        ..Default::default()
    };
    let clan = clan::load(&mut ev, &src.dir, &opts)?;
    let infos = services::group_infos(&mut ev, &clan, fingerprints)?;
    let flake_path = clan.flake_path(&mut ev)?;
    let loaded = (fs.mark(), digests.as_ref().map_or(0, |d| d.mark()));
    Ok(Loaded {
        ev,
        fs,
        digests,
        loaded,
        clan,
        infos,
        flake_path,
        check_settings: src.check_settings,
    })
}

/// Whether a file of the flake in `dir` is read by loading the clan only for inventory
/// data (`inventory.json`, the `machines` directory's listing), which the groups'
/// fingerprints hold; a group does not depend on such a file otherwise.
fn inventory_data(dir: &Path, path: &Path) -> bool {
    path.parent() == Some(dir)
        && matches!(
            path.file_name().and_then(|n| n.to_str()),
            Some("inventory.json" | "machines")
        )
}

/// What `fs` recorded before `mark` that a group computed afterwards in its evaluator may
/// depend on: every read outside the store (`store_dir`) but those of inventory data of
/// the flake in `dir`. A service module defined in `clan.nix`, say, was read when the clan
/// was loaded and never again by the group that evaluates it.
fn earlier_dependencies(
    fs: &RecordingFs,
    mark: usize,
    store_dir: &str,
    dir: &Path,
) -> Vec<Observation> {
    let store = format!("{store_dir}/");
    fs.observations_between(0..mark, |p| p.starts_with(&store) || inventory_data(dir, p))
}

/// What loading the clan read that any group may depend on (see [`earlier_dependencies`]).
fn loading_observations(src: &Source, main: &Loaded) -> Vec<Observation> {
    earlier_dependencies(
        &main.fs,
        main.loaded.0,
        &main.ev.options.store_dir,
        &src.dir,
    )
}

/// Whether computed group `r` may be stored on its own (in the plan cache or the memo):
/// it read no other group's exports, its evaluator's earlier reads are known, and its keys
/// hold neither of `paths` (the flake's and clan-core's store paths: any edit changes the
/// flake's path, and what else the group derived from it, a hash or a substring, cannot
/// be told apart).
fn storable(r: &GroupResult, paths: &[&str]) -> bool {
    !r.read_exports
        && r.cacheable
        && !r
            .keys
            .iter()
            .any(|(k, v)| mentions_str(k, paths) || mentions(v, paths))
}

/// [`loading_observations`] through the editor's buffers.
fn loading_digests(src: &Source, main: &Loaded) -> Vec<Digested> {
    let Some(d) = &main.digests else {
        return Vec::new();
    };
    let mut out = d.between(0..main.loaded.1);
    out.retain(|r| !inventory_data(&src.dir, r.path()));
    out
}

/// What `--explain` adds when the clan's modules got kith's built-in lib.
pub(crate) fn builtin_lib_note(clan: &kith_inventory::clan::Clan) -> String {
    if clan.builtin_lib {
        format!("; {}", kith_inventory::builtin_lib::EXPLAIN)
    } else {
        String::new()
    }
}

/// A piece of work: a group, or one part of a large group's sources (`(k, n)`).
type Unit = (usize, (usize, usize));

fn compute(
    l: &mut Loaded,
    units: &[Unit],
    observe: bool,
) -> Result<Vec<GroupResult>, kith_inventory::Error> {
    compute_in(
        &mut l.ev,
        &l.fs,
        l.digests.as_deref(),
        &l.clan,
        units,
        observe,
        l.check_settings,
    )
}

/// [`compute`] with an evaluator that loaded `clan`, reading through `fs`.
fn compute_in(
    ev: &mut Eval,
    fs: &RecordingFs,
    digests: Option<&DigestingFs>,
    clan: &Clan,
    units: &[Unit],
    observe: bool,
    check_settings: bool,
) -> Result<Vec<GroupResult>, kith_inventory::Error> {
    let store_prefix = format!("{}/", ev.options.store_dir);
    let mut out = Vec::new();
    for &(index, part) in units {
        let mark = fs.mark();
        let digest_mark = digests.map(DigestingFs::mark);
        let (keys, read_exports) = services::group_exports_json(ev, clan, index, part)?;
        // The settings were merged for the exports just now, in this evaluator.
        let checked = if check_settings {
            services::check_group(ev, clan, index, part).unwrap_or_default()
        } else {
            Vec::new()
        };
        let digested = match (digests, digest_mark) {
            (Some(d), Some(m)) => d.since(m),
            _ => Vec::new(),
        };
        let observations = if observe {
            fs.observations_since(mark, |p| p.starts_with(&store_prefix))
        } else {
            Vec::new()
        };
        out.push(GroupResult {
            index,
            keys,
            read_exports,
            observations,
            cacheable: true,
            digested,
            checked,
        });
    }
    Ok(out)
}

/// Where the main thread hands the work units to the second worker, which loads the clan
/// meanwhile: `None` until published, then the units (or `None`: no work for it).
/// The worker hands its outcome back the same way.
#[derive(Default)]
pub(crate) struct Board {
    units: std::sync::Mutex<Option<Option<Vec<Unit>>>>,
    published: std::sync::Condvar,
    next: std::sync::atomic::AtomicUsize,
    outcome: std::sync::Mutex<Option<WorkerOutcome>>,
    finished: std::sync::Condvar,
}

impl Board {
    /// Publishes the units, unless they already are.
    fn publish(&self, units: Option<Vec<Unit>>) {
        if let Ok(mut u) = self.units.lock() {
            if u.is_none() {
                *u = Some(units);
                self.published.notify_all();
            }
        }
    }

    /// Waits for the units to be published; `false` if there are none for this worker.
    fn wait(&self) -> bool {
        let Ok(mut u) = self.units.lock() else {
            return false;
        };
        while u.is_none() {
            match self.published.wait(u) {
                Ok(g) => u = g,
                Err(_) => return false,
            }
        }
        matches!(&*u, Some(Some(_)))
    }

    /// Hands the worker's outcome back.
    fn finish(&self, outcome: WorkerOutcome) {
        if let Ok(mut o) = self.outcome.lock() {
            *o = Some(outcome);
            self.finished.notify_all();
        }
    }

    /// Tells the main thread that no help comes from this worker (it computed nothing).
    pub(crate) fn decline(&self) {
        self.finish(Ok((Vec::new(), Vec::new())));
    }

    /// Waits for the worker's outcome.
    fn outcome(&self) -> WorkerOutcome {
        let mut o = self.outcome.lock().map_err(|e| e.to_string())?;
        loop {
            if let Some(r) = o.take() {
                return r;
            }
            o = self.finished.wait(o).map_err(|e| e.to_string())?;
        }
    }

    /// The next unit not yet taken by either worker.
    fn take(&self) -> Option<Unit> {
        let i = self.next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let u = self.units.lock().ok()?;
        u.as_ref()?.as_ref()?.get(i).copied()
    }
}

/// The second worker: loads the clan in its own evaluator while the main thread does the
/// same, then takes units until none are left, and hands back what it computed (even if
/// it panics, so that the main thread never waits in vain).
fn second_worker(src: &Source, board: &Board) {
    let mut handback = Handback(board, None);
    handback.1 = Some(second_worker_units(src, board));
}

/// Hands a worker's outcome back when dropped, also if the worker panicked or stopped
/// early (then as an error), so that the main thread never waits in vain.
struct Handback<'a>(&'a Board, Option<WorkerOutcome>);

impl Drop for Handback<'_> {
    fn drop(&mut self) {
        let outcome = self
            .1
            .take()
            .unwrap_or_else(|| Err("the second worker stopped".into()));
        self.0.finish(outcome);
    }
}

/// Publishes "no units" when dropped, unless units were published: a worker waiting on
/// the board is released whatever way the planning thread ends.
struct PublishOnDrop<'a>(Option<&'a Board>);

impl Drop for PublishOnDrop<'_> {
    fn drop(&mut self) {
        if let Some(board) = self.0 {
            board.publish(None);
        }
    }
}

/// Helps [`plan_alone`] on another thread, whose `board` it was given: takes units until
/// none are left and computes them with `ev`, which loaded the same clan (the flake in
/// `dir`, `clan`) reading through `fs`, and may have evaluated more since (the linter's
/// checks). With `observe`, each group it computes depends on what the unit read and on
/// everything `ev` read before it helped (but for inventory data): a value its checks
/// computed from a file may serve the unit without the file being read again. Without,
/// its groups are not cached on their own. What it read before is not handed back: its
/// caller gathers every read of its evaluator with the rest. With `check_settings`, each
/// unit also checks its instances' settings (see [`Planned::checked`]). Hands its outcome
/// back in any case (also when the other thread had no units for it).
pub(crate) fn help(
    board: &Board,
    ev: &mut Eval,
    fs: Option<&RecordingFs>,
    dir: &Path,
    clan: &Clan,
    observe: bool,
    check_settings: bool,
) {
    let mut handback = Handback(board, None);
    if !board.wait() {
        handback.1 = Some(Ok((Vec::new(), Vec::new())));
        return;
    }
    // Without a recording file system (files read from elsewhere), nothing is observed.
    let unrecorded = RecordingFs::default();
    let (fs, observe) = match fs {
        Some(fs) => (fs, observe),
        None => (&unrecorded, false),
    };
    let earlier = if observe {
        earlier_dependencies(fs, fs.mark(), &ev.options.store_dir, dir)
    } else {
        Vec::new()
    };
    let mut results = Vec::new();
    while let Some(u) = board.take() {
        match compute_in(ev, fs, None, clan, &[u], observe, check_settings) {
            Ok(r) => results.extend(r),
            Err(e) => {
                handback.1 = Some(Err(e.to_string()));
                return;
            }
        }
    }
    for r in &mut results {
        r.cacheable = observe;
        r.observations.extend(earlier.iter().cloned());
    }
    handback.1 = Some(Ok((results, Vec::new())));
}

fn second_worker_units(src: &Source, board: &Board) -> WorkerOutcome {
    let loaded = load(src, false);
    if !board.wait() {
        return Ok((Vec::new(), Vec::new()));
    }
    let mut l = loaded.map_err(|e| e.to_string())?;
    let loaded_mark = l.fs.mark();
    let mut r = Vec::new();
    while let Some(u) = board.take() {
        r.extend(compute(&mut l, &[u], src.observe).map_err(|e| e.to_string())?);
    }
    // What loading read (each unit's reads are in its result).
    let store = format!("{}/", l.ev.options.store_dir);
    let loading = if src.observe {
        l.fs.observations_between(0..loaded_mark, |p| p.starts_with(&store))
    } else {
        Vec::new()
    };
    Ok((r, loading))
}

/// The work units of `indices`, heaviest first. For two workers, a group heavier than an
/// eighth of all is dealt into parts of about that weight, so that they finish close
/// together; one worker takes each group whole.
fn units_of(infos: &[GroupInfo], indices: &[usize], workers: usize) -> Vec<Unit> {
    if workers < 2 {
        return indices.iter().map(|&i| (i, (0, 1))).collect();
    }
    let total: usize = indices.iter().map(|&i| infos[i].weight + 1).sum();
    let target = (total / 8).max(1);
    let mut weighted: Vec<(usize, Unit)> = Vec::new();
    for &i in indices {
        let w = infos[i].weight + 1;
        let n = w.div_ceil(target).clamp(1, 16);
        for k in 0..n {
            weighted.push((w / n, (i, (k, n))));
        }
    }
    weighted.sort_by_key(|(w, _)| std::cmp::Reverse(*w));
    weighted.into_iter().map(|(_, u)| u).collect()
}

/// The placeholders a group's cache key holds instead of the flake's and clan-core's
/// store paths (which change with any edit of the flake); a group whose keys hold either
/// path is not cached (see [`plan_loaded`]).
const FLAKE: &str = "\u{1}kith-flake\u{1}";
const CORE: &str = "\u{1}kith-clan-core\u{1}";

/// Whether any of `needles` occurs in `s`.
fn mentions_str(s: &str, needles: &[&str]) -> bool {
    needles.iter().any(|n| s.contains(n))
}

/// Whether any of `needles` occurs in a string or key of `v`.
fn mentions(v: &serde_json::Value, needles: &[&str]) -> bool {
    use serde_json::Value;
    match v {
        Value::String(s) => mentions_str(s, needles),
        Value::Array(items) => items.iter().any(|x| mentions(x, needles)),
        Value::Object(m) => m
            .iter()
            .any(|(k, x)| mentions_str(k, needles) || mentions(x, needles)),
        _ => false,
    }
}

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
        memo: kith_flake::SourceMemo::with_threads(rayon::current_num_threads()),
        observe: !no_cache && cache_dir.is_some(),
        also_tracked: opts.also_tracked.clone(),
        reading: None,
        groups: None,
        check_settings: false,
    };
    if rayon::current_num_threads() < 2 {
        return plan_with(&src, no_cache, cache_dir, None);
    }
    // The second worker starts loading at once, alongside the main thread.
    let board = Board::default();
    rayon::in_place_scope(|s| {
        s.spawn(|_| second_worker(&src, &board));
        let planned = plan_with(&src, no_cache, cache_dir, Some(&board));
        board.publish(None);
        planned
    })
}

/// [`plan`] on the main thread, with the second worker's [`Board`] if there is one.
fn plan_with(
    src: &Source,
    no_cache: bool,
    cache_dir: Option<&Path>,
    second: Option<&Board>,
) -> Option<Planned> {
    let use_cache = !no_cache && cache_dir.is_some();
    let mut main = load(src, use_cache).ok()?;
    plan_loaded(
        src,
        &mut main,
        use_cache.then_some(cache_dir).flatten(),
        second,
    )
}

/// The evaluator of [`plan_alone`], with the clan it loaded.
pub(crate) struct Alone {
    /// The evaluator.
    pub ev: Eval,
    /// What it read.
    pub fs: Rc<RecordingFs>,
    /// The clan.
    pub clan: Clan,
}

/// [`plan`] on this thread alone, for a caller that goes on with the same evaluator (the
/// linter's second thread, which also needs the members' classes): the plan, if the view
/// could be planned group by group (`None`: compute it in one piece), and the evaluator,
/// if the clan loaded. With `cache_dir`, groups come from and go to the plan cache, as
/// for `kith select`; read through `reading` with `groups`, they come from and go to
/// that memo. With `check_settings`, each computed part also checks its instances'
/// settings ([`Planned::checked`]).
pub(crate) fn plan_alone(
    dir: &Path,
    opts: &kith_flake::FlakeOptions,
    cache_dir: Option<&Path>,
    helper: Option<&Board>,
    reading: Option<crate::lint::SharedFs>,
    groups: Option<GroupMemo>,
    check_settings: bool,
) -> (Option<Planned>, Option<Alone>) {
    let _release = PublishOnDrop(helper);
    // Groups read through other files than the disk's are neither cached nor observed.
    let cache_dir = cache_dir.filter(|_| reading.is_none());
    let groups = groups.filter(|_| reading.is_some());
    let src = Source {
        dir: dir.to_path_buf(),
        overrides: opts.overrides.clone(),
        offline: opts.offline,
        memo: opts.source_memo.clone().unwrap_or_default(),
        observe: cache_dir.is_some(),
        also_tracked: opts.also_tracked.clone(),
        reading,
        groups,
        check_settings,
    };
    let fingerprints = cache_dir.is_some() || src.groups.is_some();
    let Ok(mut main) = load(&src, fingerprints) else {
        return (None, None);
    };
    let planned = plan_loaded(&src, &mut main, cache_dir, helper);
    let alone = Alone {
        ev: main.ev,
        fs: main.fs,
        clan: main.clan,
    };
    (planned, Some(alone))
}

/// [`plan_with`] once the main thread loaded the clan (`cache_dir`: where groups are
/// looked up and stored, if they are).
fn plan_loaded(
    src: &Source,
    main: &mut Loaded,
    cache_dir: Option<&Path>,
    second: Option<&Board>,
) -> Option<Planned> {
    let use_cache = cache_dir.is_some();
    let n = main.infos.len();
    // Each group's key, where groups are cached or kept (a fingerprint can be large).
    let keys: Vec<String> = if use_cache || src.groups.is_some() {
        main.infos
            .iter()
            .map(|info| group_key(src, info, &main.flake_path, &main.clan.core))
            .collect()
    } else {
        Vec::new()
    };
    // Groups from the cache.
    let mut cached: Vec<Option<Vec<(String, serde_json::Value)>>> = vec![None; n];
    // What the cached groups read (checked unchanged): the view read it too.
    let mut cached_observations: Vec<Observation> = Vec::new();
    if use_cache {
        let d = cache_dir.expect("checked");
        for (i, key) in keys.iter().enumerate() {
            if let Some(hit) = cache::lookup(d, key) {
                if let Some(serde_json::Value::Object(m)) = hit.value() {
                    cached[i] = Some(m.into_iter().collect());
                    cached_observations.extend(hit.observations());
                }
            }
        }
    }
    let mut memo_use = None;
    if let (Some(memo), Some(reading)) = (&src.groups, &src.reading) {
        let mut hits = Vec::new();
        let kept = memo.0.lock().unwrap_or_else(|e| e.into_inner());
        for (i, key) in keys.iter().enumerate() {
            let Some(m) = kept.get(key) else { continue };
            if m.classes.is_some() && m.reads.iter().all(|r| r.holds(&**reading)) {
                cached[i] = Some(m.keys.clone());
                hits.push(key.clone());
            }
        }
        drop(kept);
        memo_use = Some(MemoUse {
            memo: memo.clone(),
            hits,
            stored: Vec::new(),
        });
    }
    let missing: Vec<usize> = (0..n).filter(|&i| cached[i].is_none()).collect();
    let mut results: Vec<GroupResult> = Vec::new();
    let mut worker_observations = cached_observations;
    let units = units_of(&main.infos, &missing, if second.is_some() { 2 } else { 1 });
    let parallel = second.is_some() && units.len() >= 2;
    match second {
        Some(board) if parallel => {
            board.publish(Some(units));
            let mut own_ok = true;
            while let Some(u) = board.take() {
                match compute(main, &[u], src.observe) {
                    Ok(r) => results.extend(r),
                    Err(_) => {
                        own_ok = false;
                        break;
                    }
                }
            }
            let (r, obs) = board.outcome().ok()?;
            if !own_ok {
                return None;
            }
            results.extend(r);
            worker_observations.extend(obs);
        }
        _ => {
            if let Some(board) = second {
                board.publish(None);
            }
            results = compute(main, &units, src.observe).ok()?;
        }
    }
    // The parts of a split group, together again.
    results.sort_by_key(|r| r.index);
    let mut joined: Vec<GroupResult> = Vec::new();
    for r in results {
        match joined.last_mut() {
            Some(last) if last.index == r.index => {
                last.keys.extend(r.keys);
                last.read_exports |= r.read_exports;
                last.cacheable &= r.cacheable;
                last.observations.extend(r.observations);
                last.digested.extend(r.digested);
                last.checked.extend(r.checked);
            }
            _ => joined.push(r),
        }
    }
    let results = joined;
    let computed = results.len();
    // Every key once (else the view is computed in one piece).
    let mut names: Vec<&str> = results
        .iter()
        .flat_map(|r| r.keys.iter())
        .chain(cached.iter().flatten().flat_map(|c| c.iter()))
        .map(|(k, _)| k.as_str())
        .collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return None;
    }
    // Cache each computed group that may be stored, with what loading read.
    let paths = [main.flake_path.as_str(), &main.clan.core];
    if use_cache {
        let d = cache_dir.expect("checked");
        let loading = loading_observations(src, main);
        for r in results.iter().filter(|r| storable(r, &paths)) {
            let map: serde_json::Map<String, serde_json::Value> = r.keys.iter().cloned().collect();
            let v = serde_json::Value::Object(map);
            let mut observations = r.observations.clone();
            observations.extend(loading.iter().cloned());
            cache::store(d, &keys[r.index], observations, None, &v, "");
        }
    }
    // Keep each computed group that may be kept, and only the groups of this plan.
    if let Some(u) = memo_use.as_mut() {
        let loading = loading_digests(src, main);
        let mut kept = u.memo.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut current = std::collections::HashSet::new();
        for r in &results {
            let info = &main.infos[r.index];
            let key = keys[r.index].clone();
            if storable(r, &paths) {
                kept.insert(
                    key.clone(),
                    Memoized {
                        keys: r.keys.clone(),
                        reads: r.digested.iter().chain(&loading).cloned().collect(),
                        classes: None,
                    },
                );
                u.stored.push((key.clone(), info.instances.clone()));
            }
            current.insert(key);
        }
        current.extend(u.hits.iter().cloned());
        kept.retain(|k, _| current.contains(k));
    }
    // The view: the keys moved out of the groups, in order.
    let mut all: Vec<(String, serde_json::Value)> = Vec::with_capacity(names.len());
    let mut checked = Vec::new();
    for r in results {
        checked.extend(r.checked);
        all.extend(r.keys);
        worker_observations.extend(r.observations);
    }
    for c in cached.into_iter().flatten() {
        all.extend(c);
    }
    all.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut map = serde_json::Map::with_capacity(all.len());
    map.extend(all);
    let json = serde_json::Value::Object(map);
    Some(Planned {
        json,
        worker_observations,
        fs: main.fs.clone(),
        flake_path: main.flake_path.clone(),
        core: main.clan.core.clone(),
        store_dir: main.ev.options.store_dir.clone(),
        how: format!(
            "{n} service groups: {computed} computed, {} from the cache{}{}",
            n - computed,
            if parallel { ", by two workers" } else { "" },
            builtin_lib_note(&main.clan)
        ),
        memo: memo_use,
        checked,
    })
}

#[cfg(test)]
#[path = "../../eval/tests/common/corpus.rs"]
mod corpus;

#[cfg(test)]
#[path = "../tests/support/fleet_edit.rs"]
mod fleet_edit;

#[cfg(test)]
mod tests {
    use super::*;

    /// A generated fleet of `n` machines (`benches/gen-fleet.py`) with the corpus' clan-core
    /// and nixpkgs lib, if python3 and the corpus are here (else the test is skipped).
    fn fleet(n: usize, tag: &str) -> Option<(PathBuf, Source)> {
        let core = corpus::corpus("clan-core", tag)?;
        let lib = corpus::corpus("nixpkgs-lib", tag)?;
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let dir = std::env::temp_dir().join(format!("kith-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let status = std::process::Command::new("python3")
            .arg(root.join("benches/gen-fleet.py"))
            .args([&n.to_string(), dir.to_str()?, "--seed", "3"])
            .stdout(std::process::Stdio::null())
            .status();
        match status {
            Ok(s) => assert!(s.success(), "gen-fleet.py failed: {s}"),
            Err(e) => {
                eprintln!("{tag}: skipped, python3 not runnable: {e}");
                return None;
            }
        }
        let src = Source {
            dir: dir.clone(),
            overrides: vec![("clan-core".into(), core), ("nixpkgs".into(), lib)],
            offline: true,
            memo: kith_flake::SourceMemo::default(),
            observe: true,
            also_tracked: Vec::new(),
            reading: None,
            groups: None,
            check_settings: false,
        };
        Some((dir, src))
    }

    fn keys(results: &[GroupResult]) -> Vec<(usize, Vec<(String, serde_json::Value)>)> {
        results.iter().map(|r| (r.index, r.keys.clone())).collect()
    }

    /// [`help`] on `board` by the evaluator of `l` (the flake in `dir`), observing its
    /// reads if `observe`; what it handed back.
    fn helped(
        board: &Board,
        l: &mut Loaded,
        dir: &Path,
        observe: bool,
    ) -> (Vec<GroupResult>, Vec<Observation>) {
        let fs = l.fs.clone();
        let fs = observe.then_some(&*fs);
        help(board, &mut l.ev, fs, dir, &l.clan, observe, false);
        board.outcome().unwrap()
    }

    /// Groups kept through an editor's buffers give what computing them gives: again
    /// unchanged (every group that may be kept from the memo), after an edit of one
    /// machine's settings (its group computed again, the others kept), after an edit of a
    /// file a group read (a public var), and after an edit of `clan.nix` (none kept).
    #[test]
    fn kept_groups_equal_computed_ones() {
        use crate::lsp::overlay::OverlayFs;
        let Some((dir, src)) = fleet(30, "exports-plan-kept") else {
            return;
        };
        let opts = kith_flake::FlakeOptions {
            overrides: src.overrides.clone(),
            offline: true,
            ..Default::default()
        };
        let memo = GroupMemo::default();
        let overlay = |buffers: &[(PathBuf, String)]| -> crate::lint::SharedFs {
            std::sync::Arc::new(OverlayFs::new(
                buffers.iter().map(|(p, t)| (p.as_path(), t.as_str())),
            ))
        };
        // A plan through `fs`, with the memo (its classes kept as the linter keeps them),
        // and one computed from scratch: the same view; how many groups the memo gave.
        let plan = |fs: crate::lint::SharedFs| {
            let (p, alone) = plan_alone(
                &dir,
                &opts,
                None,
                None,
                Some(fs.clone()),
                Some(memo.clone()),
                false,
            );
            let (mut p, mut a) = (p.unwrap(), alone.unwrap());
            let used = p.memo.take().unwrap();
            let known = services::computed_member_classes(&mut a.ev, &a.clan).unwrap();
            used.keep_classes(&known);
            let (fresh, _) = plan_alone(&dir, &opts, None, None, Some(fs), None, false);
            assert_eq!(p.json, fresh.unwrap().json);
            used.hits.len()
        };
        assert_eq!(plan(overlay(&[])), 0);
        // Every group that may be kept (not one reading other groups' exports or holding
        // the flake's path).
        let groups = memo.0.lock().unwrap().len();
        assert!(groups >= 3, "{groups} groups kept");
        assert_eq!(plan(overlay(&[])), groups, "every group kept");

        // One machine's port, in a buffer of `inventory.json`.
        let edited = vec![(
            dir.join("inventory.json"),
            fleet_edit::inventory_with_a_port_raised(&dir),
        )];
        let kept = plan(overlay(&edited));
        assert!(kept > 0 && kept < groups, "{kept} of {groups} kept");
        assert_eq!(plan(overlay(&edited)), groups);

        // A public var a group reads.
        let var = walk_files(&dir.join("vars/per-machine"))
            .into_iter()
            .find(|p| p.ends_with("value"))
            .expect("a public var in the generated fleet");
        let mut buffers = edited.clone();
        buffers.push((var, "10.99.99.99".into()));
        let kept = plan(overlay(&buffers));
        assert!(kept < groups, "{kept} of {groups} kept");

        // `clan.nix`, read when the clan is loaded, may define any service's code.
        let nix = dir.join("clan.nix");
        let text = std::fs::read_to_string(&nix).unwrap();
        buffers.push((nix, format!("{text}\n")));
        assert_eq!(plan(overlay(&buffers)), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A file two services import, computed one after the other by one evaluator (which
    /// imports the file once): each group's observations hold it.
    #[test]
    fn a_shared_import_is_observed_by_each_group() {
        let Some((dir, src)) = fleet(30, "exports-plan-shared-import") else {
            return;
        };
        std::fs::write(dir.join("modules/common.nix"), "{ prio = 1500; }").unwrap();
        for (module, from, to) in [
            (
                "beacon.nix",
                "priority = 1500;",
                "priority = (import ./common.nix).prio;",
            ),
            (
                "catalog.nix",
                "?every=${toString settings.interval}",
                "?every=${toString settings.interval}&p=${toString (import ./common.nix).prio}",
            ),
        ] {
            let path = dir.join("modules").join(module);
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(text.contains(from), "{module}");
            std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
        }
        let mut l = load(&src, true).unwrap();
        let units: Vec<Unit> = (0..l.infos.len()).map(|i| (i, (0, 1))).collect();
        let mut importing = 0;
        for u in units {
            let r = compute(&mut l, &[u], true).unwrap().remove(0);
            let id = &l.infos[r.index].id;
            if id.ends_with("beacon") || id.ends_with("catalog") {
                importing += 1;
                assert!(
                    r.observations
                        .iter()
                        .any(|o| o.op == "read" && o.path.ends_with("modules/common.nix")),
                    "{id}: {:?}",
                    r.observations.iter().map(|o| &o.path).collect::<Vec<_>>()
                );
            }
        }
        assert_eq!(importing, 2);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The files below `dir`, sorted.
    fn walk_files(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.push(p);
                }
            }
        }
        out.sort();
        out
    }

    /// A helper that takes every unit computes what the planning thread would. Without
    /// observing, it says that its groups are not to be cached on their own; observing, its
    /// groups may be, and each depends on what the helper read before (but for inventory
    /// data). With no units for it, it hands back nothing at once.
    #[test]
    fn a_helper_computes_the_units_it_takes() {
        let Some((dir, src)) = fleet(30, "exports-plan-helper") else {
            return;
        };
        let mut planner = load(&src, false).unwrap();
        let mut helper = load(&src, false).unwrap();
        let all: Vec<usize> = (0..planner.infos.len()).collect();
        let units = units_of(&planner.infos, &all, 2);
        assert!(units.len() >= 2, "{} units", units.len());

        let board = Board::default();
        board.publish(Some(units.clone()));
        let (theirs, earlier) = helped(&board, &mut helper, &dir, false);
        assert_eq!(theirs.len(), units.len());
        assert!(theirs
            .iter()
            .all(|r| !r.cacheable && r.observations.is_empty()));
        assert!(
            earlier.is_empty(),
            "the caller gathers what the helper read"
        );
        let mine = compute(&mut planner, &units, false).unwrap();
        assert!(mine.iter().all(|r| r.cacheable));
        assert_eq!(keys(&theirs), keys(&mine));

        let mut observing = load(&src, false).unwrap();
        let board = Board::default();
        board.publish(Some(units.clone()));
        let (theirs, _) = helped(&board, &mut observing, &dir, true);
        assert_eq!(keys(&theirs), keys(&mine));
        for r in &theirs {
            assert!(r.cacheable);
            let read = |name: &str| r.observations.iter().any(|o| o.path == dir.join(name));
            assert!(read("clan.nix"), "what loading read: {:?}", r.observations);
            assert!(
                !read("inventory.json"),
                "inventory data: in the fingerprint"
            );
        }

        let board = Board::default();
        board.publish(None);
        let (theirs, earlier) = helped(&board, &mut helper, &dir, false);
        assert!(theirs.is_empty() && earlier.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
