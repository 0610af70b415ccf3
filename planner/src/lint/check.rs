//! The checks: the typed inventory's rules, then the engine's own checks (each instance's
//! module, roles and settings, then the exports), each error located at its definition site.

use super::locate::Files;
use super::{Counts, Diagnostic, Edit, Fix, Location, Note, Run, Severity};
use crate::exports_plan;
use crate::fleet::machines::{levenshtein, suggest};
use crate::recording_fs::{Observation, RecordingFs};
use kith_eval::{Eval, EvalError, FileSystem, Value};
use kith_flake::FlakeOptions;
use kith_inventory::clan::Clan;
use kith_inventory::model::{self, Inventory, Site};
use kith_inventory::modsys::share;
use kith_inventory::services::{KnownClasses, MemberClasses};
use kith_inventory::UNSET;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::rc::Rc;

const INVENTORY_JSON: &str = "inventory.json";

/// What a lint found: its diagnostics, the clan's size and what the evaluation read.
pub(crate) struct Found {
    pub diagnostics: Vec<Diagnostic>,
    pub counts: Counts,
    /// Every file read outside the store (none when read through a given file system).
    pub observations: Vec<Observation>,
}

/// What the linter reads files through.
pub(crate) enum Through<'a> {
    /// The host's file system, every read observed (for the cache).
    Disk,
    /// A file system of this thread: nothing is observed, nor evaluated on another thread
    /// (which could not read it).
    Local(&'a Rc<dyn FileSystem>),
    /// A file system any thread can read: nothing is observed; the exports may be
    /// evaluated on a second thread, reading through it too, and their groups kept in the
    /// memo (if one is given) for the next lint.
    Shared(&'a SharedFs, Option<&'a exports_plan::GroupMemo>),
}

/// A file system threads share, as the linter reads it.
pub type SharedFs = std::sync::Arc<dyn FileSystem + Send + Sync>;

/// Every diagnostic of the clan in `dir`, reading its files `through` the host's file
/// system or another.
pub(crate) fn run(dir: &Path, opts: &FlakeOptions, through: Through, run: &Run) -> Found {
    let local: Option<Rc<dyn FileSystem>> = match through {
        Through::Disk => None,
        Through::Local(fs) => Some(fs.clone()),
        Through::Shared(fs, _) => Some(Rc::new(fs.clone())),
    };
    let (shared, groups) = match through {
        Through::Shared(fs, groups) => (Some(fs), groups),
        _ => (None, None),
    };
    let fs = local.as_ref();
    let mut files = Files::new(dir, None);
    if let Some(fs) = fs {
        files = files.reading(fs.clone());
    }
    let mut found = Found {
        diagnostics: Vec::new(),
        counts: Counts::default(),
        observations: Vec::new(),
    };
    if let Some(d) = json_syntax(&mut files) {
        found.diagnostics.push(d);
        return found;
    }
    // The two threads share the hashing of the flake's source.
    let opts = &FlakeOptions {
        source_memo: Some(
            opts.source_memo
                .clone()
                .unwrap_or_else(|| kith_flake::SourceMemo::with_threads(run.threads())),
        ),
        ..opts.clone()
    };
    let parallel =
        (fs.is_none() || shared.is_some()) && opts.input_wrappers.is_empty() && run.parallel();
    let mut sharing = true;
    loop {
        share::set_sharing(sharing);
        // The exports are planned group by group on the other thread (from the disk, or
        // through an editor's buffers), and this one helps with the groups left once its
        // inventory rules are done. With the cache, the groups this thread computes are
        // stored with everything its evaluator read before it helped (see
        // `exports_plan::help`), and the report with everything both threads read.
        let board = exports_plan::Board::default();
        let helper =
            (parallel && matches!(through, Through::Disk | Through::Shared(..))).then_some(&board);
        let outcome = std::thread::scope(|scope| {
            let alongside = parallel.then(|| {
                std::thread::Builder::new()
                    .name("kith-lint-exports".into())
                    .stack_size(WORKER_STACK)
                    .spawn_scoped(scope, {
                        let opts = Sendable {
                            overrides: opts.overrides.clone(),
                            offline: opts.offline,
                            source_memo: opts.source_memo.clone(),
                            also_tracked: opts.also_tracked.clone(),
                        };
                        let shared = shared.cloned();
                        let groups = groups.cloned();
                        // Groups of the exports go to and come from the plan cache when
                        // the files are read from the disk (and observed).
                        let cache_dir = match through {
                            Through::Disk => run.cache_dir.map(Path::to_path_buf),
                            _ => None,
                        };
                        move || {
                            exports_alongside(dir, opts, sharing, shared, cache_dir, helper, groups)
                        }
                    })
                    .ok()
            });
            let alongside = alongside.flatten();
            let mut p = Pass {
                dir,
                opts,
                fs,
                files: &mut files,
                run,
                // Only with the other thread there to plan the exports.
                helper: Unhelped(alongside.as_ref().and(helper)),
                alongside,
                found: &mut found,
            };
            p.pass()
        });
        share::set_sharing(true);
        match outcome {
            Some(diagnostics) => {
                found.diagnostics = diagnostics;
                return found;
            }
            // A shared service module reads `config`: again without sharing, as the
            // engine's other callers do.
            None if sharing => sharing = false,
            None => return found,
        }
    }
}

/// The stack of the thread evaluating the exports (the evaluator grows its stack in
/// segments as it needs; this is its start).
const WORKER_STACK: usize = 16 << 20;

/// What the other thread found: whether the exports evaluate (a failure is left to the
/// main thread to locate), the classes of each instance's members (for `class-mismatch`),
/// and what it read.
struct Alongside {
    exports: bool,
    classes: Option<BTreeMap<String, Vec<MemberClasses>>>,
    /// With a helper, only the classes cheap on that thread (see [`Pass::checks`]).
    known: KnownClasses,
    observations: Vec<Observation>,
    /// With a helper, the instances whose settings the exports' parts checked (on either
    /// thread), each with whether they passed.
    checked: Vec<(String, bool)>,
}

/// The clan's exports and its members' classes, evaluated in a fresh evaluator on this
/// thread.
fn exports_alongside(
    dir: &Path,
    opts: Sendable,
    sharing: bool,
    shared: Option<SharedFs>,
    cache_dir: Option<std::path::PathBuf>,
    helper: Option<&exports_plan::Board>,
    groups: Option<exports_plan::GroupMemo>,
) -> Alongside {
    share::set_sharing(sharing);
    let opts = &FlakeOptions {
        overrides: opts.overrides,
        offline: opts.offline,
        source_memo: opts.source_memo,
        also_tracked: opts.also_tracked,
        ..FlakeOptions::default()
    };
    exports_planned(dir, opts, cache_dir.as_deref(), helper, shared, groups)
}

/// [`exports_alongside`]: the exports planned group by group as `kith select` plans them
/// (from the disk, groups from and to the plan cache in `cache_dir`; else read through
/// `reading`, an editor's buffers, and never cached, but kept in `groups` if given), with
/// the `helper`'s board if the other thread helps, else evaluated in one piece; then the
/// members' classes in the same evaluator.
fn exports_planned(
    dir: &Path,
    opts: &FlakeOptions,
    cache_dir: Option<&Path>,
    helper: Option<&exports_plan::Board>,
    reading: Option<SharedFs>,
    groups: Option<exports_plan::GroupMemo>,
) -> Alongside {
    // Groups are kept only where this thread tells their classes (with a helper).
    let groups = groups.filter(|_| helper.is_some());
    // With a helper, each part of the exports also checks its instances' settings, in
    // the evaluator that just merged them for the exports.
    let check_settings = helper.is_some();
    let (mut planned, alone) = exports_plan::plan_alone(
        dir,
        opts,
        cache_dir,
        helper,
        reading,
        groups,
        check_settings,
    );
    let Some(mut a) = alone else {
        return Alongside {
            exports: false,
            classes: None,
            known: KnownClasses::new(),
            observations: Vec::new(),
            checked: Vec::new(),
        };
    };
    let mut observations = Vec::new();
    let memo = planned.as_mut().and_then(|p| p.memo.take());
    let checked = planned
        .as_mut()
        .map(|p| std::mem::take(&mut p.checked))
        .unwrap_or_default();
    let exports = match planned {
        Some(p) => {
            observations = p.worker_observations;
            true
        }
        None => kith_inventory::services::exports(&mut a.ev, &a.clan)
            .and_then(|v| Ok(a.ev.to_json(&v).map(|_| ())?))
            .is_ok(),
    };
    // With a helper, each thread tells the classes of the members whose results it
    // computed for the exports; without, this one all (it computed them all, or they
    // came from the cache while the other thread was busy with its checks).
    let (classes, known) = if helper.is_some() {
        let mut known = kith_inventory::services::computed_member_classes(&mut a.ev, &a.clan)
            .unwrap_or_default();
        // The groups kept from an earlier lint were not computed here: their classes are
        // kept too.
        if let Some(memo) = memo {
            memo.keep_classes(&known);
            known.extend(memo.hit_classes());
        }
        (None, known)
    } else {
        let all = kith_inventory::services::all_member_classes(&mut a.ev, &a.clan);
        (all.ok(), KnownClasses::new())
    };
    if cache_dir.is_some() {
        let store = format!("{}/", a.ev.options.store_dir);
        observations.extend(a.fs.observations(|p| p.starts_with(&store)));
    }
    Alongside {
        exports,
        classes,
        known,
        observations,
        checked,
    }
}

/// The [`FlakeOptions`] a thread can be given (all but the input wrappers, which are
/// the caller's thread's values: with any, nothing runs on another thread).
struct Sendable {
    overrides: Vec<(String, std::path::PathBuf)>,
    offline: bool,
    source_memo: Option<kith_flake::SourceMemo>,
    also_tracked: Vec<String>,
}

/// One pass with a fresh evaluator.
struct Pass<'s, 'a> {
    dir: &'a Path,
    opts: &'a FlakeOptions,
    fs: Option<&'a Rc<dyn FileSystem>>,
    files: &'a mut Files,
    run: &'a Run<'a>,
    /// The exports evaluated on another thread, if they are.
    alongside: Option<std::thread::ScopedJoinHandle<'s, Alongside>>,
    /// Where this thread helps the other plan the exports, until it has.
    helper: Unhelped<'a>,
    found: &'a mut Found,
}

/// The board of the thread planning the exports while this one has not helped it yet:
/// dropped unused (the pass ended early), it tells that thread no help comes, so that it
/// never waits in vain.
struct Unhelped<'a>(Option<&'a exports_plan::Board>);

impl Drop for Unhelped<'_> {
    fn drop(&mut self) {
        if let Some(board) = self.0.take() {
            board.decline();
        }
    }
}

/// `inventory.json`'s syntax (nothing else is said about a clan whose file does not parse).
fn json_syntax(files: &mut Files) -> Option<Diagnostic> {
    let text = files.text(INVENTORY_JSON)?;
    let e = serde_json::from_str::<serde_json::Value>(text).err()?;
    let (line, column) = (e.line().max(1), e.column().max(1));
    let start = files.offset(INVENTORY_JSON, line, column);
    let location = files.location(INVENTORY_JSON, start, start + 1);
    Some(Diagnostic {
        code: "parse-error",
        severity: Severity::Error,
        message: format!("inventory.json is not valid JSON: {e}"),
        location,
        notes: Vec::new(),
        fixes: Vec::new(),
    })
}

impl Pass<'_, '_> {
    /// The diagnostics; `None` if the pass must run again without module sharing.
    fn pass(&mut self) -> Option<Vec<Diagnostic>> {
        let opts = self.opts;
        let mut recording = None;
        let mut ev = match self.fs {
            Some(fs) => {
                let mut ev = crate::evaluator(opts.offline);
                ev.set_file_system(fs.clone());
                ev
            }
            None => {
                let (ev, fs) = crate::recording_evaluator(opts.offline);
                recording = Some(fs);
                ev
            }
        };
        self.run.tell("loading the clan", 0, 0);
        // The inventory's fields no rule reads that failed (see `model::load_tolerant`),
        // reported unless a check reported the same error (located where it was read).
        let mut tolerated = Vec::new();
        let out = self
            .checks(&mut ev, recording.as_deref(), &mut tolerated)
            .map(|mut out| {
                for d in tolerated {
                    if !out.iter().any(|o| o.message == d.message) {
                        out.push(d);
                    }
                }
                out
            });
        // What was read matters only to the cache.
        if let Some(fs) = recording.filter(|_| self.run.cache_dir.is_some()) {
            let store = format!("{}/", ev.options.store_dir);
            let seen = fs.observations(|p| p.starts_with(&store));
            self.found.observations.extend(seen);
        }
        out
    }

    fn checks(
        &mut self,
        ev: &mut Eval,
        recording: Option<&RecordingFs>,
        tolerated: &mut Vec<Diagnostic>,
    ) -> Option<Vec<Diagnostic>> {
        let (dir, opts, files) = (self.dir, self.opts, &mut *self.files);
        let clan = match kith_inventory::clan::load(ev, dir, opts) {
            Ok(c) => c,
            Err(e) => return Some(vec![engine_error(ev, files, &e, None)]),
        };
        if let Ok(p) = clan.flake_path(ev) {
            files.add_prefix(p);
        }
        let (inv, errors) = match model::load_tolerant(ev, &clan) {
            Ok(loaded) => loaded,
            Err(e) if e.reads_config() => return None,
            Err(e) => return Some(vec![engine_error(ev, files, &e, None)]),
        };
        self.found.counts = counts(&inv);
        for e in &errors {
            let removed = match e {
                kith_inventory::Error::Eval(x)
                    if x.message.contains(super::deprecated::REMOVED_SERVICES) =>
                {
                    super::deprecated::removed_services(ev, &clan, files, &x.message)
                }
                _ => None,
            };
            tolerated.push(removed.unwrap_or_else(|| engine_error(ev, files, e, None)));
        }
        let mut out = model_rules(&inv, files);
        out.extend(super::deprecated::meta_tld(&inv, files));
        out.extend(super::duplicate::definitions(ev, files));
        out.extend(super::deprecated::string_extra_modules(
            ev, &clan, &inv, files,
        ));
        out.extend(super::vars::orphans(dir, &inv));
        // With the other thread planning the exports and this one helping, each part of
        // the exports checks its instances' settings (where they were just merged), and
        // this thread checks here only those no part checked or that failed.
        let parts_check = self.helper.0.is_some() && self.alongside.is_some();
        if !parts_check {
            let names: Vec<&String> = inv.instances.keys().collect();
            match check_instances(ev, &clan, &inv, files, self.run, &mut out, &names) {
                None => return None,
                Some(true) => return constraints_after_failure(ev, &clan, &inv, files, out),
                Some(false) => {}
            }
        }
        self.run.tell("evaluating exports", 0, 0);
        let mut known = KnownClasses::new();
        if let Some(board) = self.helper.0.take() {
            // With the cache, the groups it computes are stored with what this evaluator
            // read before; what it reads is also gathered with the rest of its reads.
            let observe = self.run.cache_dir.is_some();
            exports_plan::help(board, ev, recording, dir, &clan, observe, parts_check);
            // The classes of the members whose results this thread computed, while the
            // other tells those of its own.
            known =
                kith_inventory::services::computed_member_classes(ev, &clan).unwrap_or_default();
        }
        // Evaluated on the other thread, if they were and they evaluate; else here, where
        // a failure is located.
        let (evaluated, mut classes, checked) = match self.alongside.take().map(|h| h.join()) {
            Some(Ok(other)) => {
                self.found.observations.extend(other.observations);
                for (name, theirs) in other.known {
                    known.entry(name).or_default().extend(theirs);
                }
                (other.exports, other.classes, other.checked)
            }
            _ => (false, None, Vec::new()),
        };
        if parts_check {
            let passed: BTreeSet<&str> = checked
                .iter()
                .filter(|(_, ok)| *ok)
                .map(|(name, _)| name.as_str())
                .collect();
            let names: Vec<&String> = inv
                .instances
                .keys()
                .filter(|name| !passed.contains(name.as_str()))
                .collect();
            match check_instances(ev, &clan, &inv, files, self.run, &mut out, &names) {
                None => return None,
                Some(true) => return constraints_after_failure(ev, &clan, &inv, files, out),
                Some(false) => {}
            }
        }
        if !evaluated {
            let exports = kith_inventory::services::exports(ev, &clan)
                .and_then(|v| Ok(ev.to_json(&v).map(|_| ())?));
            match exports {
                Ok(()) => {}
                Err(e) if e.reads_config() => return None,
                Err(e) => out.push(
                    unmodelled_by_reference(self.run, dir, opts, files, &e, "clan.exports", &inv)
                        .unwrap_or_else(|| engine_error(ev, files, &e, Some((&inv, "")))),
                ),
            }
        }
        self.run.tell("checking constraints", 0, 0);
        for name in inv.instances.keys() {
            let members = match classes.as_mut() {
                Some(c) => c.remove(name).unwrap_or_default(),
                None => {
                    let known = known.remove(name).unwrap_or_default();
                    kith_inventory::services::member_classes_with(ev, &clan, name, &known)
                        .unwrap_or_default()
                }
            };
            out.extend(class_mismatches(members, &inv, files, name));
        }
        match constraints(ev, &clan, &inv, files) {
            Ok(broken) => out.extend(broken),
            Err(e) if e.reads_config() => return None,
            Err(e) => {
                let by_reference = unmodelled_by_reference(
                    self.run,
                    dir,
                    opts,
                    files,
                    &e,
                    "clanInternals.cliChecks",
                    &inv,
                );
                out.push(
                    by_reference.unwrap_or_else(|| engine_error(ev, files, &e, Some((&inv, "")))),
                );
            }
        }
        Some(out)
    }
}

/// With [`Run::reference`], the error of `selector` evaluated by the reference path
/// where the native engine met what it does not model (`e`), located as the engine's
/// errors are; `None` if `e` is another error, or the reference path evaluates it (or is
/// not asked).
fn unmodelled_by_reference(
    run: &Run,
    dir: &Path,
    opts: &FlakeOptions,
    files: &mut Files,
    e: &kith_inventory::Error,
    selector: &str,
    inv: &Inventory,
) -> Option<Diagnostic> {
    if !run.reference || !matches!(e, kith_inventory::Error::Unsupported(_)) {
        return None;
    }
    let (ev, error) = crate::select::reference_error(dir, selector, opts)?;
    let e = kith_inventory::Error::Eval(error);
    Some(engine_error(&ev, files, &e, Some((inv, ""))))
}

/// `out` (the diagnostics of a clan whose instances' settings failed) with the broken
/// constraints: clan evaluates them without any settings (its `cliChecks`), so they are
/// reported whatever the settings; the exports are not evaluated (they would fail on the
/// same settings). An error counting the roles' members was already reported by the
/// instances' checks.
fn constraints_after_failure(
    ev: &mut Eval,
    clan: &Clan,
    inv: &Inventory,
    files: &mut Files,
    mut out: Vec<Diagnostic>,
) -> Option<Vec<Diagnostic>> {
    match constraints(ev, clan, inv, files) {
        Ok(broken) => out.extend(broken),
        Err(e) if e.reads_config() => return None,
        Err(_) => {}
    }
    Some(out)
}

/// The diagnostics of the clan's broken service constraints (its `cliChecks`).
fn constraints(
    ev: &mut Eval,
    clan: &Clan,
    inv: &Inventory,
    files: &mut Files,
) -> kith_inventory::Result<Vec<Diagnostic>> {
    let violations = kith_inventory::services::constraint_violations(ev, clan)?;
    Ok(violations
        .iter()
        .map(|v| constraint_diagnostic(inv, files, v))
        .collect())
}

/// Checks the settings of instances `names` (each role's, then each member's, every error
/// found), adding their diagnostics to `out`: whether any failed, or `None` if a shared
/// service module reads `config` (the pass runs again without sharing).
fn check_instances(
    ev: &mut Eval,
    clan: &Clan,
    inv: &Inventory,
    files: &mut Files,
    run: &Run,
    out: &mut Vec<Diagnostic>,
    names: &[&String],
) -> Option<bool> {
    let mut failed = false;
    let total = names.len();
    for (done, name) in names.iter().enumerate() {
        run.tell("checking instances", done, total);
        let errors = match kith_inventory::services::check_instance_all(ev, clan, name) {
            Ok(errors) => errors,
            Err(e) => vec![e],
        };
        for e in errors {
            if e.reads_config() {
                return None;
            }
            // The check forces every setting; clan only reads those a service uses, so an
            // unset option without a default is no error of the clan.
            if e.is_unset_option() {
                continue;
            }
            // What the engine does not model is said (as information), but the exports
            // and constraints are still evaluated: they may fail where clan fails.
            failed |= !matches!(e, kith_inventory::Error::Unsupported(_));
            let mut d = engine_error(ev, files, &e, Some((inv, name)));
            if d.code == "unknown-service" {
                service_fix(ev, clan, inv, files, &mut d);
            }
            if !out.contains(&d) {
                out.push(d);
            }
        }
    }
    run.tell("checking instances", total, total);
    Some(failed)
}

/// The size of the clan whose inventory is `inv`.
fn counts(inv: &Inventory) -> Counts {
    let services: BTreeSet<(&str, Option<&str>)> = inv
        .instances
        .values()
        .map(|i| (i.module.name.as_str(), i.module.input.as_deref()))
        .collect();
    Counts {
        machines: inv.machines.len(),
        instances: inv.instances.len(),
        services: services.len(),
    }
}

/// `class-mismatch`: the members of instance `i` that the service configures for the
/// other machine class only (a darwin machine given only a `nixosModule` by its role, or the
/// reverse), where the engine can tell for sure.
fn class_mismatches(
    members: Vec<MemberClasses>,
    inv: &Inventory,
    files: &mut Files,
    i: &str,
) -> Vec<Diagnostic> {
    use model::MachineClass::{Darwin, Nixos};
    let Some(inst) = inv.instances.get(i) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for c in members {
        let Some(machine) = inv.machines.get(&c.machine) else {
            continue;
        };
        let (class, has, other) = match machine.machine_class {
            Darwin if c.role_nixos && !c.darwin => ("darwin", "nixosModule", "darwinModule"),
            Nixos if c.role_darwin && !c.nixos => ("nixos", "darwinModule", "nixosModule"),
            _ => continue,
        };
        let (m, r) = (c.machine.as_str(), c.role.as_str());
        let named = inst
            .roles
            .get(r)
            .is_some_and(|role| role.machines.contains_key(m));
        let (location, mut notes) = if named {
            locate_path(inv, files, &["instances", i, "roles", r, "machines", m])
        } else {
            let (loc, mut notes) = locate_path(inv, files, &["instances", i, "roles", r]);
            notes.insert(
                0,
                Note {
                    message: format!("machine '{m}' is a member through the role's tags"),
                    location: None,
                },
            );
            (loc, notes)
        };
        if let Some(site) = machine_site(inv, files, m) {
            notes.push(Note {
                message: format!("machine '{m}' is a {class} machine (machineClass)"),
                location: Some(site),
            });
        }
        out.push(Diagnostic {
            code: "class-mismatch",
            severity: Severity::Warning,
            message: format!(
                "instance '{i}': {class} machine '{m}' is in role '{r}', whose service gives it a `{has}` but no `{other}`: the role does not configure it"
            ),
            location,
            notes,
            fixes: Vec::new(),
        });
    }
    out
}

/// A broken service constraint (what clan's `cliChecks` reports), at the role of the
/// instance it counts (or the instance, where the inventory does not name the role), or
/// for `maxInstances` at the service's first instance with the others as notes.
fn constraint_diagnostic(
    inv: &Inventory,
    files: &mut Files,
    v: &kith_inventory::services::ConstraintViolation,
) -> Diagnostic {
    use kith_inventory::services::Constraint;
    let code = match v.constraint {
        Constraint::MaxInstances => "constraint-max-instances",
        Constraint::MinMachines => "constraint-min-machines",
        Constraint::MaxMachines => "constraint-max-machines",
    };
    let first = v.instances.first().map(String::as_str).unwrap_or_default();
    let role_named = v.role.as_ref().is_some_and(|r| {
        inv.sites
            .roles
            .contains_key(&(first.to_string(), r.clone()))
    });
    let (location, mut notes) = match &v.role {
        Some(r) if role_named => locate_path(inv, files, &["instances", first, "roles", r]),
        _ => locate_path(inv, files, &["instances", first]),
    };
    for other in v.instances.iter().skip(1) {
        let (loc, _) = locate_path(inv, files, &["instances", other]);
        notes.push(Note {
            message: format!("instance '{other}' of the same service"),
            location: Some(loc),
        });
    }
    notes.push(Note {
        message: format!(
            "the limit is the service's `manifest.constraints` (clan's check `{}`)",
            v.id
        ),
        location: None,
    });
    Diagnostic {
        code,
        severity: Severity::Error,
        message: v.message.clone(),
        location,
        notes,
        fixes: Vec::new(),
    }
}

/// The rules read off the typed inventory.
fn model_rules(inv: &Inventory, files: &mut Files) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let machines: Vec<String> = inv.machines.keys().cloned().collect();
    // A role's tag selects the machines whose `tags` hold it (clan-core's `resolveTags`):
    // a tag that `inventory.tags` lists machines for, but no machine carries, selects none.
    let mut carried: BTreeSet<&str> = BTreeSet::new();
    for m in inv.machines.values() {
        carried.extend(m.tags.iter().map(String::as_str));
    }
    let tags: Vec<String> = carried.iter().map(|t| t.to_string()).collect();
    // The machines carrying each tag, once (not a scan of every machine per role tag).
    let mut carriers: std::collections::HashMap<&str, Vec<&str>> = Default::default();
    for (n, mc) in &inv.machines {
        for t in &mc.tags {
            let list = carriers.entry(t.as_str()).or_default();
            if list.last() != Some(&n.as_str()) {
                list.push(n);
            }
        }
    }
    let mut used: BTreeSet<&str> = BTreeSet::new();
    for (i, inst) in &inv.instances {
        let mut members = 0;
        for (r, role) in &inst.roles {
            for m in role.machines.keys() {
                if inv.machines.contains_key(m) {
                    used.insert(m);
                    members += 1;
                    continue;
                }
                let path = ["instances", i, "roles", r, "machines", m];
                let (location, notes) = locate_path(inv, files, &path);
                let fixes = name_fix(&location, m, &machines, "machine");
                let mut notes = notes;
                notes.push(Note {
                    message: names_help(m, &machines, "machines"),
                    location: None,
                });
                out.push(Diagnostic {
                    code: "unknown-machine",
                    severity: Severity::Error,
                    message: format!(
                        "instance '{i}': role '{r}' names machine '{m}', which is not a machine of this clan"
                    ),
                    location,
                    notes,
                    fixes,
                });
            }
            for t in role.tags.keys() {
                let hits = carriers.get(t.as_str()).map_or(&[][..], Vec::as_slice);
                if !hits.is_empty() {
                    members += hits.len();
                    used.extend(hits.iter().copied());
                    continue;
                }
                let path = ["instances", i, "roles", r, "tags", t];
                let (location, mut notes) = locate_path(inv, files, &path);
                let fixes = name_fix(&location, t, &tags, "tag");
                notes.push(Note {
                    message: names_help(t, &tags, "tags"),
                    location: None,
                });
                out.push(Diagnostic {
                    code: "unknown-tag",
                    severity: Severity::Warning,
                    message: format!(
                        "instance '{i}': role '{r}' names tag '{t}', which no machine carries"
                    ),
                    location,
                    notes,
                    fixes,
                });
            }
        }
        if members == 0 {
            let (location, notes) = locate_path(inv, files, &["instances", i]);
            // clan-core accepts both (the instance configures nothing): a warning.
            let message = if inst.roles.is_empty() {
                format!("instance '{i}' has no roles: it configures no machine")
            } else {
                format!("instance '{i}' has roles but no machine is a member of any")
            };
            out.push(Diagnostic {
                code: "empty-instance",
                severity: Severity::Warning,
                message,
                location,
                notes,
                fixes: Vec::new(),
            });
        }
    }
    for m in &machines {
        if used.contains(m.as_str()) {
            continue;
        }
        let Some(location) = machine_site(inv, files, m) else {
            continue;
        };
        out.push(Diagnostic {
            code: "unused-machine",
            severity: Severity::Hint,
            message: format!("machine '{m}' is a member of no instance"),
            location,
            notes: Vec::new(),
            fixes: Vec::new(),
        });
    }
    out
}

/// Where machine `m` is defined (its first site in a file of the clan).
fn machine_site(inv: &Inventory, files: &mut Files, m: &str) -> Option<Location> {
    for site in inv.sites.machines.get(m).into_iter().flatten() {
        let Some(rel) = files.relative(&site.file) else {
            continue;
        };
        if rel.ends_with(".json") {
            files.text(&rel)?;
            if let Some(((s, e), _)) = files.json_key(&rel, &["machines", m]) {
                return Some(files.location(&rel, s, e));
            }
        } else if files.text(&rel).is_some() {
            let from = site
                .line
                .map_or(0, |l| files.offset(&rel, l, site.column.unwrap_or(1)));
            if let Some((s, e)) = files.find_name(&rel, from, m) {
                return Some(files.location(&rel, s, e));
            }
            return Some(files.at(&rel, site.line, site.column));
        } else {
            // A directory under `machines/`: its configuration, if any.
            let conf = format!("{rel}/configuration.nix");
            if files.text(&conf).is_some() {
                return Some(files.location(&conf, 0, 0));
            }
        }
    }
    None
}

/// The sites of an inventory path below `inventory` (`instances.<i>[.roles.<r>…]`): the
/// one that gets furthest down `path` first, the others as notes.
fn locate_path(inv: &Inventory, files: &mut Files, path: &[&str]) -> (Location, Vec<Note>) {
    let (sites, level): (&[Site], usize) = match path {
        ["instances", i, "roles", r, ..] => (
            inv.sites
                .roles
                .get(&(i.to_string(), r.to_string()))
                .map_or(&[][..], |v| v),
            4,
        ),
        ["instances", i, ..] => (inv.sites.instances.get(*i).map_or(&[][..], |v| v), 2),
        _ => (&[][..], 0),
    };
    let mut found: Vec<(usize, Location, bool)> = Vec::new();
    for site in sites {
        let Some(rel) = files.relative(&site.file) else {
            continue;
        };
        if files.text(&rel).is_none() {
            continue;
        }
        if rel.ends_with(".json") {
            if let Some(((s, e), depth)) = files.json_key(&rel, path) {
                let loc = files.location(&rel, s, e);
                found.push((depth, loc, true));
            }
            continue;
        }
        let exact = site.line.is_some();
        let mut pos = site
            .line
            .map_or(0, |l| files.offset(&rel, l, site.column.unwrap_or(1)));
        let mut loc = files.at(&rel, site.line, site.column);
        // From the site (which may be an attribute path above the named thing) to the
        // named thing itself, then down the rest of `path`.
        let mut depth = level.saturating_sub(1);
        for seg in &path[depth..] {
            match files.find_name(&rel, pos, seg) {
                Some((s, e)) => {
                    pos = e;
                    loc = files.location(&rel, s, e);
                    depth += 1;
                }
                None => break,
            }
        }
        found.push((depth, loc, exact));
    }
    found.sort_by_key(|(d, _, exact)| (std::cmp::Reverse(*d), !*exact));
    let mut it = found.into_iter();
    match it.next() {
        Some((depth, loc, exact)) => {
            // Other definitions of the same thing (not merely of a parent of it).
            let mut notes: Vec<Note> = it
                .filter(|(d, _, _)| *d == depth)
                .map(|(_, l, _)| Note {
                    message: "also defined here".into(),
                    location: Some(l),
                })
                .collect();
            if !exact {
                notes.push(Note {
                    message: "this definition is computed: its exact place could not be resolved statically".into(),
                    location: None,
                });
            }
            (loc, notes)
        }
        None => (
            files.location("flake.nix", 0, 0),
            vec![Note {
                message: format!(
                    "the definition of `{}` is computed: its place could not be resolved statically",
                    path.join(".")
                ),
                location: None,
            }],
        ),
    }
}

/// "did you mean" text: the nearest of `names` (clan's suggestion rule), or all of them.
fn names_help(name: &str, names: &[String], what: &str) -> String {
    let near = suggest(name, names, 3);
    if near.is_empty() {
        format!("this clan has no {what}")
    } else {
        format!(
            "did you mean: {}? (valid {what}: {})",
            near.join(", "),
            names.join(", ")
        )
    }
}

/// For an `unknown-service` diagnostic: the span moved from `module.name` (or `input`) to
/// its value, and a rename of the value to the nearest service of the input (or the
/// nearest input).
fn service_fix(ev: &mut Eval, clan: &Clan, inv: &Inventory, files: &mut Files, d: &mut Diagnostic) {
    let Some(i) = quoted_after(&d.message, "instance '") else {
        return;
    };
    let Some(inst) = inv.instances.get(&i) else {
        return;
    };
    let is_input = d.message.contains("input with name");
    let (bad, valid) = if is_input {
        let listed = d
            .message
            .split("following inputs:")
            .nth(1)
            .unwrap_or("")
            .lines()
            .skip_while(|l| l.trim().is_empty())
            .map_while(|l| l.strip_prefix("- ").map(str::to_string))
            .collect();
        (inst.module.input.clone().unwrap_or_default(), listed)
    } else {
        let names = module_names(ev, clan, inst.module.input.as_deref());
        (inst.module.name.clone(), names)
    };
    let file = d.location.file.clone();
    let key_end = d.location.range.end;
    if let Some((s, e)) = files.find_name(&file, key_end.byte, &bad) {
        let value = files.location(&file, s, e);
        if value.range.start.line == key_end.line {
            d.location = value;
        }
    }
    let what = if is_input { "input" } else { "service" };
    d.fixes = name_fix(&d.location, &bad, &valid, what);
    if !valid.is_empty() {
        d.notes.push(Note {
            message: format!("available {what}s: {}", valid.join(", ")),
            location: None,
        });
    }
}

/// The names of the services `input` provides (clan-core's for none, the clan's own for
/// `self`), as far as they can be read.
fn module_names(ev: &mut Eval, clan: &Clan, input: Option<&str>) -> Vec<String> {
    fn attr(ev: &mut Eval, v: &Value, name: &str) -> Option<Value> {
        match ev.force(v).ok()? {
            Value::Attrs(a) => a.get_str(name).cloned(),
            _ => None,
        }
    }
    let set = match input {
        None => attr(ev, &clan.clan_core, "clan").and_then(|c| attr(ev, &c, "modules")),
        Some("self") => attr(ev, &clan.config, "modules"),
        Some(i) => attr(ev, &clan.config, "self")
            .and_then(|s| attr(ev, &s, "inputs"))
            .and_then(|x| attr(ev, &x, i))
            .and_then(|f| attr(ev, &f, "clan"))
            .and_then(|c| attr(ev, &c, "modules")),
    };
    match set.and_then(|s| ev.force(&s).ok()) {
        Some(Value::Attrs(a)) => {
            let mut names: Vec<String> = a.iter().map(|x| x.name.as_str().to_string()).collect();
            names.sort();
            names
        }
        _ => Vec::new(),
    }
}

/// A rename of the name at `location` to the nearest of `names`, if one is near enough to
/// be a typo (distance at most a third of the name's length, and at least 1).
fn name_fix(location: &Location, name: &str, names: &[String], what: &str) -> Vec<Fix> {
    let Some(best) = suggest(name, names, 1).into_iter().next() else {
        return Vec::new();
    };
    let d = levenshtein(&name.to_lowercase(), &best.to_lowercase());
    let span = location.range.end.byte - location.range.start.byte;
    if d > (name.chars().count() / 3).max(1) || span != name.len() {
        return Vec::new();
    }
    rename_fix(location, name, best, what)
}

/// A rename of the name at `location` (if the location is exactly `name`) to `new`.
fn rename_fix(location: &Location, name: &str, new: String, what: &str) -> Vec<Fix> {
    if location.range.end.byte - location.range.start.byte != name.len() {
        return Vec::new();
    }
    vec![Fix {
        message: format!("rename the {what} to '{new}'"),
        edits: vec![Edit {
            location: location.clone(),
            new_text: new,
        }],
    }]
}

/// An error of the engine as a diagnostic, located through the inventory (`inv`, and the
/// instance being checked, if any) or the error's own position.
fn engine_error(
    ev: &Eval,
    files: &mut Files,
    e: &kith_inventory::Error,
    inv: Option<(&Inventory, &str)>,
) -> Diagnostic {
    let e = match e {
        kith_inventory::Error::Eval(e) => e,
        kith_inventory::Error::Unsupported(reason) => {
            let (location, notes) = match inv {
                Some((inv, i)) if !i.is_empty() => locate_path(inv, files, &["instances", i]),
                _ => (files.location("flake.nix", 0, 0), Vec::new()),
            };
            return Diagnostic {
                code: "not-static",
                severity: Severity::Info,
                message: format!("not checked: the native engine does not model {reason}"),
                location,
                notes,
                fixes: Vec::new(),
            };
        }
    };
    let msg = files.shorten(e.message.trim());
    let own = error_site(ev, files, e);
    let mut d = Diagnostic {
        code: "eval-error",
        severity: Severity::Error,
        message: msg.clone(),
        location: own
            .clone()
            .unwrap_or_else(|| files.location("flake.nix", 0, 0)),
        notes: Vec::new(),
        fixes: Vec::new(),
    };
    if e.kind == kith_eval::ErrorKind::Parse {
        d.code = "parse-error";
        return d;
    }
    let Some((inv, current)) = inv else {
        if let Some(path) = option_path(&msg) {
            d.notes.push(Note {
                message: format!("at inventory option `{}`", path.join(".")),
                location: None,
            });
        }
        return d;
    };
    let located = |files: &mut Files, d: &mut Diagnostic, path: &[&str]| {
        let (loc, notes) = locate_path(inv, files, path);
        d.location = loc;
        d.notes.extend(notes);
        if let Some(o) = &own {
            if *o != d.location {
                d.notes.push(Note {
                    message: "raised here".into(),
                    location: Some(o.clone()),
                });
            }
        }
    };
    if msg.contains("uses the following roles") {
        d.code = "unknown-role";
        let i = quoted_after(&msg, "'instances.").unwrap_or_else(|| current.to_string());
        let lists: Vec<Vec<String>> = msg
            .lines()
            .filter_map(|l| serde_json::from_str(l.trim()).ok())
            .collect();
        let (bad, valid) = match lists.as_slice() {
            [bad, valid, ..] => (bad.clone(), valid.clone()),
            _ => (Vec::new(), Vec::new()),
        };
        d.message = format!(
            "instance '{i}' uses role{} {} that its service does not define",
            if bad.len() == 1 { "" } else { "s" },
            bad.iter()
                .map(|r| format!("'{r}'"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let r = bad.first().cloned().unwrap_or_default();
        located(files, &mut d, &["instances", &i, "roles", &r]);
        d.fixes = name_fix(&d.location, &r, &valid, "role");
        // The other unknown roles of the instance: their sites as notes, their fixes too.
        for other in bad.iter().skip(1) {
            let (loc, _) = locate_path(inv, files, &["instances", &i, "roles", other]);
            d.fixes.extend(name_fix(&loc, other, &valid, "role"));
            d.notes.push(Note {
                message: format!("role '{other}' is not defined by the service either"),
                location: Some(loc),
            });
        }
        d.notes.push(Note {
            message: format!("the service defines roles: {}", valid.join(", ")),
            location: None,
        });
        return d;
    }
    if msg.contains("doesn't provide clan-module with name")
        || msg.contains("doesn't provide input with name")
    {
        d.code = "unknown-service";
        let name = msg
            .rsplit_once("name '")
            .and_then(|(_, r)| r.split('\'').next());
        let is_input = msg.contains("input with name");
        let i = inv
            .instances
            .iter()
            .find(|(_, inst)| match (is_input, name) {
                (true, Some(n)) => inst.module.input.as_deref() == Some(n),
                (false, Some(n)) => inst.module.name == n,
                _ => false,
            })
            .map_or(current.to_string(), |(i, _)| i.clone());
        let key = if is_input { "input" } else { "name" };
        located(files, &mut d, &["instances", &i, "module", key]);
        d.message = format!("instance '{i}': {msg}");
        return d;
    }
    if let Some(path) = option_path(&msg) {
        if let Some(at) = path.iter().position(|s| s == "instances") {
            let rel: Vec<&str> = path[at..].iter().map(String::as_str).collect();
            if msg.contains(UNSET) {
                if let Some(site) = super::settings::missing_site(inv, &rel) {
                    located(files, &mut d, &site);
                    super::settings::missing_required(&mut d, &rel);
                    return d;
                }
            }
            if msg.contains("does not exist") {
                d.code = "settings-unknown-key";
            } else if msg.contains("is not of type")
                || msg.contains("rather than an attribute set for the option")
            {
                // A value of the wrong type, or a scalar where the interface declares a
                // namespace of options (`mergeModules'`).
                d.code = "settings-type";
            }
            located(files, &mut d, &rel);
            // The module system's "Did you mean `…'": its first option, as a rename.
            let nearest = msg
                .find("Did you mean")
                .and_then(|at| option_path(&msg[at..]))
                .and_then(|p| p.last().cloned());
            if let (Some(bad), Some(near)) = (rel.last(), nearest) {
                if d.code == "settings-unknown-key" {
                    d.fixes = rename_fix(&d.location, bad, near, "option");
                }
            }
            if d.code == "settings-type" {
                let option = rel.last().copied().unwrap_or_default();
                super::settings::refine_enum(&msg, &mut d, files, option);
            }
            return d;
        }
    }
    // An export under an interface no module declares: at its definition in the service
    // module (the message names the file and the hook, not a position).
    if own.is_none() && msg.contains("does not exist") {
        if let (Some(path), Some(hook)) =
            (option_path(&msg), super::export_site::hook_of(&msg, files))
        {
            if let ["exports", _, iface, ..] =
                path.iter().map(String::as_str).collect::<Vec<_>>()[..]
            {
                if let Some(site) = super::export_site::export_site(files, &hook, iface) {
                    d.location = site;
                    return d;
                }
            }
        }
    }
    let service = quoted_after(&msg, "in service '").or_else(|| quoted_after(&msg, "Service: '"));
    if let Some(svc) = service.filter(|_| own.is_none()) {
        let using = inv
            .instances
            .iter()
            .find(|(_, inst)| inst.module.name == svc)
            .map(|(i, _)| i.clone());
        if let Some(i) = using {
            located(files, &mut d, &["instances", &i, "module", "name"]);
            d.message = format!("instance '{i}' (service '{svc}'): {msg}");
            return d;
        }
    }
    if own.is_none() && !current.is_empty() {
        located(files, &mut d, &["instances", current]);
    }
    d
}

/// The first position of `e` (or its trace) in a file of the clan.
fn error_site(ev: &Eval, files: &mut Files, e: &EvalError) -> Option<Location> {
    for span in std::iter::once(e.span).chain(e.trace.iter().map(|t| t.span)) {
        let Some((f, l, c)) = ev.sources.describe(span) else {
            continue;
        };
        let Some(rel) = files.relative(&f) else {
            continue;
        };
        let start = files.offset(&rel, l, c);
        let len = span.end.saturating_sub(span.start) as usize;
        return Some(files.location(&rel, start, start + len));
    }
    None
}

/// The text between `prefix` and the next `'`.
fn quoted_after(msg: &str, prefix: &str) -> Option<String> {
    let rest = &msg[msg.find(prefix)? + prefix.len()..];
    Some(rest.split('\'').next()?.to_string())
}

/// The option path of a module-system message (`` The option `a.b."c.d"' … ``).
fn option_path(msg: &str) -> Option<Vec<String>> {
    let start = msg.find('`')? + 1;
    let end = start + msg[start..].find('\'')?;
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in msg[start..end].chars() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn option_paths() {
        let m = "A definition for option `\"<clan-core>-internet\".instances.internet.roles.default.machines.sara.settings.port' is not of type";
        assert_eq!(
            super::option_path(m).unwrap()[1..],
            [
                "instances",
                "internet",
                "roles",
                "default",
                "machines",
                "sara",
                "settings",
                "port"
            ]
        );
    }
}
