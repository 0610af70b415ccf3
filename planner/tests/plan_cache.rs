//! The plan cache: a warm query answers from the cache; changing a file the plan read, or
//! corrupting the cache file, makes it recompute; answers are the same either way.

#[path = "../../eval/tests/common/mod.rs"]
mod common;

#[path = "support/fleet_edit.rs"]
mod fleet_edit;

use kith_flake::FlakeOptions;
use kith_planner::select::select;
use std::path::Path;
use std::sync::Mutex;

/// Tests that use the plan cache set `KITH_CACHE_DIR` (process-wide): one at a time.
static CACHE_ENV: Mutex<()> = Mutex::new(());

/// Conformance case `name`, if it and the corpus are present (else the test says so and
/// passes).
fn case(name: &str, what: &str) -> Option<std::path::PathBuf> {
    let case = common::present(
        &common::shared_path(&format!("conformance/cases/{name}")),
        what,
    )?;
    common::corpus("", what)?;
    Some(case)
}

/// A fresh temporary directory for this test (`<tag>-<pid>`) and a copy of `case` in it
/// (`clan`).
fn copied(case: &Path, tag: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let tmp = std::env::temp_dir().join(format!("{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let clan = tmp.join("clan");
    common::fixtures::copy_dir(case, &clan);
    tick();
    (tmp, clan)
}

/// Waits for the file system clock to move on: an answer is not cached if its flake
/// changed while it was computed, or in the clock tick before.
fn tick() {
    std::thread::sleep(std::time::Duration::from_millis(20));
}

/// Conformance case `name` copied for this test (see [`copied`], `tag`) with the plan cache
/// in the copy's temporary directory, under [`CACHE_ENV`]'s lock (held by the guard).
#[allow(clippy::type_complexity)]
fn cached_copy(
    name: &str,
    what: &str,
    tag: &str,
) -> Option<(
    std::sync::MutexGuard<'static, ()>,
    std::path::PathBuf,
    std::path::PathBuf,
)> {
    let guard = CACHE_ENV.lock().unwrap_or_else(|e| e.into_inner());
    let case = case(name, what)?;
    let (tmp, clan) = copied(&case, tag);
    std::env::set_var("KITH_CACHE_DIR", tmp.join("cache"));
    Some((guard, tmp, clan))
}

const VIEW: &str = "clanInternals.inventoryClass.inventorySerialization.machines.*.description";

#[test]
fn warm_answers_from_cache_and_edits_invalidate() {
    let Some((_guard, tmp, clan)) =
        cached_copy("01-machine-sources", "plan cache", "kith-plan-cache")
    else {
        return;
    };
    let opts = corpus_opts();
    let cold = select(&clan, VIEW, &opts, false).unwrap();
    assert!(cold.how.contains("native engine"), "{}", cold.how);
    let warm = select(&clan, VIEW, &opts, false).unwrap();
    assert!(warm.how.contains("cached plan"), "{}", warm.how);
    assert_eq!(cold.text, warm.text);
    // An edit of inventory.json is seen.
    let json = clan.join("inventory.json");
    let text = std::fs::read_to_string(&json).unwrap();
    std::fs::write(
        &json,
        text.replace("jon, described in inventory.json", "edited"),
    )
    .unwrap();
    let edited = select(&clan, VIEW, &opts, false).unwrap();
    assert!(edited.how.contains("native engine"), "{}", edited.how);
    assert!(edited.text.contains("\"edited\""), "{}", edited.text);
    // A corrupt cache file is ignored and replaced.
    let dir = tmp.join("cache/plan");
    for e in std::fs::read_dir(&dir).unwrap() {
        std::fs::write(e.unwrap().path(), b"{\"format\": trunc").unwrap();
    }
    let again = select(&clan, VIEW, &opts, false).unwrap();
    assert!(again.how.contains("native engine"), "{}", again.how);
    assert_eq!(again.text, edited.text);
    let warm = select(&clan, VIEW, &opts, false).unwrap();
    assert!(warm.how.contains("cached plan"), "{}", warm.how);
    // --no-cache computes.
    let nc = select(&clan, VIEW, &opts, true).unwrap();
    assert!(nc.how.contains("cache not used"), "{}", nc.how);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A selector outside the native views goes to the reference path and says so.
#[test]
fn other_selectors_use_the_reference_path() {
    let what = "reference path";
    let Some(case) = case("02-tags-and-roles", what) else {
        return;
    };
    let opts = FlakeOptions {
        overrides: vec![
            ("clan-core".into(), common::corpus_path("clan-core")),
            ("nixpkgs".into(), common::corpus_path("nixpkgs-lib")),
        ],
        ..FlakeOptions::default()
    };
    let a = select(
        Path::new(&case),
        "clanInternals.inventoryClass.inventory.meta.name",
        &opts,
        true,
    )
    .unwrap();
    assert!(a.how.contains("reference path"), "{}", a.how);
    assert_eq!(a.text, "\"tags\"");
    let n = select(
        Path::new(&case),
        "clanInternals.inventoryClass.inventorySerialization.meta.name",
        &opts,
        true,
    )
    .unwrap();
    assert_eq!(n.text, a.text);
}

fn corpus_opts() -> FlakeOptions {
    FlakeOptions {
        overrides: vec![
            ("clan-core".into(), common::corpus_path("clan-core")),
            ("nixpkgs".into(), common::corpus_path("nixpkgs-lib")),
        ],
        ..FlakeOptions::default()
    }
}

/// `clan.exports` planned group by group is the same with one and with two workers, and
/// equal to the reference path's.
#[test]
fn exports_same_for_any_thread_count() {
    let what = "exports with one and two threads";
    let Some(case) = case("05-networking-services", what) else {
        return;
    };
    let opts = corpus_opts();
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| select(&case, "clan.exports", &corpus_opts(), true).unwrap())
    };
    let one = run(1);
    let two = run(2);
    assert!(one.how.contains("native engine"), "{}", one.how);
    assert!(two.how.contains("by two workers"), "{}", two.how);
    assert_eq!(one.text, two.text);
    let reference = kith_planner::select::select_reference(&case, "clan.exports", &opts).unwrap();
    assert_eq!(one.text, reference.text);
}

/// After an edit of `clan.nix`, which may define any service's code, every group is
/// computed again; the answer equals a plan computed from scratch.
#[test]
fn replan_after_a_clan_nix_edit() {
    let _guard = CACHE_ENV.lock().unwrap_or_else(|e| e.into_inner());
    let what = "re-plan by group";
    let Some(case) = case("05-networking-services", what) else {
        return;
    };
    let (tmp, clan) = copied(&case, "kith-replan");
    let cache = tmp.join("cache");
    let opts = corpus_opts();
    let with_cache = |f: &dyn Fn() -> kith_planner::select::Answer| {
        std::env::set_var("KITH_CACHE_DIR", &cache);
        f()
    };
    let first = with_cache(&|| select(&clan, "clan.exports", &opts, false).unwrap());
    assert!(first.how.contains("0 from the cache"), "{}", first.how);
    let nix = clan.join("clan.nix");
    let text = std::fs::read_to_string(&nix).unwrap();
    std::fs::write(&nix, text.replace("\"1.2.3.4\"", "\"4.3.2.1\"")).unwrap();
    let again = with_cache(&|| select(&clan, "clan.exports", &opts, false).unwrap());
    assert!(again.how.contains("0 from the cache"), "{}", again.how);
    assert!(again.text.contains("4.3.2.1"), "{}", again.text);
    let fresh = select(&clan, "clan.exports", &opts, true).unwrap();
    assert_eq!(again.text, fresh.text);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A service module written in `clan.nix` (read when the clan is loaded, never by the
/// group that evaluates it) edited there: the group is computed again, and the answer
/// equals a plan computed from scratch. An edit of one machine's settings in
/// `inventory.json` computes only the groups it concerns.
#[test]
fn replan_sees_modules_defined_in_clan_nix() {
    let _guard = CACHE_ENV.lock().unwrap_or_else(|e| e.into_inner());
    let what = "re-plan with a module defined in clan.nix";
    let Some(dir) = generated_fleet(20, what, "replan-inline-module") else {
        return;
    };
    // Outside the flake, whose every file its store path depends on.
    let cache = dir.with_extension("cache");
    let nix = dir.join("clan.nix");
    let module = dir.join("modules/beacon.nix");
    let inline = std::fs::read_to_string(&module).unwrap();
    let text = std::fs::read_to_string(&nix).unwrap();
    let text = text.replacen(
        "modules.beacon = ./modules/beacon.nix;",
        &format!("modules.beacon = {};", inline.trim()),
        1,
    );
    assert!(text.contains("priority = 1500;"), "{text}");
    std::fs::write(&nix, &text).unwrap();
    std::fs::remove_file(&module).unwrap();
    tick();
    let opts = corpus_opts();
    let cached = || {
        std::env::set_var("KITH_CACHE_DIR", &cache);
        let a = select(&dir, "clan.exports", &opts, false).unwrap();
        let fresh = select(&dir, "clan.exports", &opts, true).unwrap();
        assert!(
            a.text == fresh.text,
            "not the answer computed afresh: {}",
            a.how
        );
        a
    };
    let first = cached();
    assert!(first.how.contains("0 from the cache"), "{}", first.how);
    std::fs::write(&nix, text.replace("priority = 1500;", "priority = 1507;")).unwrap();
    tick();
    let again = cached();
    assert!(again.text.contains("1507"), "{}", again.how);
    // One machine's port in `inventory.json`.
    let raised = fleet_edit::inventory_with_a_port_raised(&dir);
    std::fs::write(dir.join("inventory.json"), raised).unwrap();
    tick();
    let last = cached();
    assert!(!last.how.contains(" 0 from the cache"), "{}", last.how);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&cache);
}

/// `kith lint` plans the exports group by group as `kith select` does, through the same
/// plan cache: the groups a lint computed answer the next select.
#[test]
fn lint_and_select_share_the_groups() {
    let what = "groups shared by lint and select";
    let Some((_guard, tmp, clan)) = cached_copy("05-networking-services", what, "kith-lint-groups")
    else {
        return;
    };
    let opts = corpus_opts();
    let config = kith_planner::lint::Config::default();
    let plan_dir = kith_planner::cache::dir().unwrap();
    let report = kith_planner::lint::lint_with(&clan, &opts, &config, Some(&plan_dir)).unwrap();
    assert!(
        report
            .diagnostics
            .iter()
            .all(|d| d.severity != kith_planner::lint::Severity::Error),
        "{:?}",
        report.diagnostics
    );
    let answer = select(&clan, "clan.exports", &opts, false).unwrap();
    // All but yggdrasil (it reads other services' exports, never cached on its own).
    assert!(
        answer.how.contains("1 computed, 6 from the cache"),
        "{}",
        answer.how
    );
    let fresh = select(&clan, "clan.exports", &opts, true).unwrap();
    assert_eq!(answer.text, fresh.text);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A role interface that reads `config` cannot be shared between machines: the plan is
/// computed again without sharing, and equals the reference path's answer.
#[test]
fn interface_reading_config_is_not_shared() {
    let what = "interface reading config";
    let Some(case) = case("04-service-args-exports", what) else {
        return;
    };
    let (tmp, clan) = copied(&case, "kith-iface");
    let probe = clan.join("modules/probe.nix");
    let text = std::fs::read_to_string(&probe).unwrap();
    let edited = text.replace(
        "    { lib, ... }:\n    {\n      options.greeting = lib.mkOption {\n        type = lib.types.str;\n        default = \"hello\";\n      };",
        "    { lib, config, ... }:\n    {\n      options.greeting = lib.mkOption {\n        type = lib.types.str;\n        default = \"hello-\" + config.suffix;\n      };\n      options.suffix = lib.mkOption {\n        type = lib.types.str;\n        default = \"x\";\n      };",
    );
    assert_ne!(edited, text, "the probe module changed");
    std::fs::write(&probe, edited).unwrap();
    let opts = corpus_opts();
    let native = select(&clan, "clan.exports", &opts, true).unwrap();
    assert!(native.how.contains("native engine"), "{}", native.how);
    assert!(native.text.contains("hello-x"), "{}", native.text);
    let reference = kith_planner::select::select_reference(&clan, "clan.exports", &opts).unwrap();
    assert_eq!(native.text, reference.text);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A generated fleet (`benches/gen-fleet.py`: machines from three sources, computed tags,
/// internet/tor/zerotier and two self services, settings at three levels, vars): every
/// native view equals the reference path's.
#[test]
fn generated_fleet_native_equals_reference() {
    let Some(tmp) = generated_fleet(40, "generated fleet", "fleet") else {
        return;
    };
    for view in [
        "clan.exports",
        "clanInternals.inventoryClass.inventorySerialization",
        "clanInternals.cliChecks",
    ] {
        let native = select(&tmp, view, &corpus_opts(), true).unwrap();
        assert!(
            native.how.contains("native engine"),
            "{view}: {}",
            native.how
        );
        let reference = kith_planner::select::select_reference(&tmp, view, &corpus_opts()).unwrap();
        assert!(native.text == reference.text, "{view} differs");
    }
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A fleet of `n` machines generated by `benches/gen-fleet.py` in a fresh temporary
/// directory named after `tag`, if the corpus is here and python3 runs (else the test
/// `what` says it is skipped).
fn generated_fleet(n: usize, what: &str, tag: &str) -> Option<std::path::PathBuf> {
    common::corpus("", what)?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let tmp = std::env::temp_dir().join(format!("kith-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let status = std::process::Command::new("python3")
        .arg(root.join("benches/gen-fleet.py"))
        .args([&n.to_string(), tmp.to_str().unwrap(), "--seed", "7"])
        .stdout(std::process::Stdio::null())
        .status();
    match status {
        Ok(s) if s.success() => Some(tmp),
        Ok(s) => panic!("gen-fleet.py failed: {s}"),
        Err(e) => {
            // No python3 on this machine: the generator cannot run.
            eprintln!("{what}: skipped, python3 not runnable: {e}");
            None
        }
    }
}

/// `kith lint` without the cache, where the checking thread helps plan the exports once
/// its checks are done, reports what one thread reports, and what it reports with the
/// cache; so does a lint through an editor's buffers (the exports planned too).
#[test]
fn lint_without_cache_same_for_any_thread_count() {
    let Some(tmp) = generated_fleet(120, "lint threads", "lint-threads") else {
        return;
    };
    let config = kith_planner::lint::Config::default();
    let opts = corpus_opts();
    let cache = tmp.with_extension("cache");
    let lint = |jobs: usize, cache_dir: Option<&Path>| {
        let run = kith_planner::lint::Run {
            cache_dir,
            jobs,
            progress: None,
            ..kith_planner::lint::Run::default()
        };
        let linted = kith_planner::lint::lint_run(&tmp, &opts, &config, &run).unwrap();
        (
            kith_planner::lint::render::json_lines(&linted.report),
            linted.counts,
        )
    };
    let one = lint(1, None);
    assert!(!one.0.is_empty(), "the generated fleet has notes");
    assert_eq!(lint(2, None), one);
    assert_eq!(lint(2, Some(&cache)), one);
    // Through an editor's buffers (none open: the disk's files), as `kith lsp` lints.
    let overlay = kith_planner::lsp::overlay::OverlayFs::new(std::iter::empty::<(&Path, &str)>());
    let shared =
        kith_planner::lint::lint_through_shared(&tmp, &opts, &config, std::sync::Arc::new(overlay))
            .unwrap();
    assert_eq!(kith_planner::lint::render::json_lines(&shared), one.0);
    let _ = std::fs::remove_dir_all(&tmp);
    let _ = std::fs::remove_dir_all(&cache);
}

/// `extendSettings` in `perInstance` re-evaluates the settings with the extra module, as
/// clan-core's `extendModules` does: the native answer equals the reference path's.
#[test]
fn extend_settings_as_clan_core() {
    let what = "extendSettings";
    let Some(case) = case("04-service-args-exports", what) else {
        return;
    };
    let (tmp, clan) = copied(&case, "kith-extend");
    let probe = clan.join("modules/probe.nix");
    let text = std::fs::read_to_string(&probe).unwrap();
    let edited = text
        .replace(
            "      mkExports,\n      ...\n    }:\n    {\n      exports = mkExports {",
            "      mkExports,\n      extendSettings,\n      ...\n    }:\n    {\n      exports = mkExports {",
        )
        .replace(
            "        peer.user = settings.greeting;",
            "        peer.user = settings.greeting;\n        peer.SSHOptions = [ (extendSettings { greeting = lib.mkOverride 10 \"extended-${instanceName}\"; }).greeting ];",
        );
    assert!(
        edited.contains("extendSettings,"),
        "the probe module changed"
    );
    std::fs::write(&probe, edited).unwrap();
    let opts = corpus_opts();
    let native = select(&clan, "clan.exports", &opts, true).unwrap();
    assert!(native.how.contains("native engine"), "{}", native.how);
    assert!(native.text.contains("extended-probe"), "{}", native.text);
    let reference = kith_planner::select::select_reference(&clan, "clan.exports", &opts).unwrap();
    assert_eq!(native.text, reference.text);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A flake that imitates kith's internal marker gets an answer from the reference path,
/// never a crash.
#[test]
fn imitated_marker_is_no_crash() {
    let tmp = std::env::temp_dir().join(format!("kith-marker-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::write(
        tmp.join("flake.nix"),
        "{ outputs = _: { clan = { __kithClan = { }; exports = { a = 1; }; }; }; }",
    )
    .unwrap();
    let r = select(&tmp, "clan.exports", &FlakeOptions::default(), true).unwrap();
    assert!(r.how.contains("reference path"), "{}", r.how);
    assert_eq!(r.text, "{\n    \"a\": 1\n}");
    let _ = std::fs::remove_dir_all(&tmp);
}

/// An answer holding the flake's store path depends on every file of the flake: a warm
/// lookup checks the tree by its stat index (written next to the plan), and a file the
/// evaluation never read, added or edited, still makes it recompute.
#[test]
fn tree_index_sees_files_never_read() {
    let Some((_guard, tmp, clan)) =
        cached_copy("05-networking-services", "tree index", "kith-tree-index")
    else {
        return;
    };
    let opts = corpus_opts();
    let cold = select(&clan, "clan.exports", &opts, false).unwrap();
    let indexes = std::fs::read_dir(tmp.join("cache/plan"))
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            name.to_string_lossy().ends_with(".idx")
        })
        .count();
    assert_eq!(indexes, 1, "one stat index for the flake's tree");
    let warm = select(&clan, "clan.exports", &opts, false).unwrap();
    assert!(warm.how.contains("cached plan"), "{}", warm.how);
    assert_eq!(cold.text, warm.text);
    // A new file deep in the tree, read by nothing.
    std::fs::create_dir_all(clan.join("docs/notes")).unwrap();
    std::fs::write(clan.join("docs/notes/todo.txt"), "x").unwrap();
    tick();
    let added = select(&clan, "clan.exports", &opts, false).unwrap();
    assert!(added.how.contains("native engine"), "{}", added.how);
    assert_ne!(added.text, cold.text, "the flake's store path changed");
    let warm = select(&clan, "clan.exports", &opts, false).unwrap();
    assert!(warm.how.contains("cached plan"), "{}", warm.how);
    // The same file edited in place, same size.
    std::fs::write(clan.join("docs/notes/todo.txt"), "y").unwrap();
    let edited = select(&clan, "clan.exports", &opts, false).unwrap();
    assert!(edited.how.contains("native engine"), "{}", edited.how);
    assert_ne!(edited.text, added.text);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A projection of a view is an answer of its own: the machines' tags hold no store path,
/// so they depend on the files the view read, not on the whole tree the view's own entry
/// observes. A file read by nothing leaves the projection cached (and recomputes the
/// view); an edit of a file it read is seen.
#[test]
fn projection_observes_only_what_it_read() {
    use kith_planner::native::{projection, Outcome, View};
    let Some((_guard, tmp, clan)) =
        cached_copy("01-machine-sources", "projection cache", "kith-projection")
    else {
        return;
    };
    let opts = corpus_opts();
    let tags = |expect: &str| match projection(
        &clan,
        &opts,
        View::Inventory,
        false,
        "machine-tags",
        kith_planner::fleet::machines::machine_tags_only,
    ) {
        Outcome::Value(v, how) => {
            assert!(how.contains(expect), "{how}");
            v
        }
        _ => panic!("no projection"),
    };
    let view = "clanInternals.inventoryClass.inventorySerialization";
    let cold = tags("native engine");
    assert_eq!(tags("cached plan"), cold);
    assert!(select(&clan, view, &opts, false)
        .unwrap()
        .how
        .contains("cached plan"));
    // A file read by nothing: the view (holding the flake's store path) is recomputed,
    // the projection is not.
    std::fs::write(clan.join("NOTES.txt"), "x").unwrap();
    tick();
    assert!(select(&clan, view, &opts, false)
        .unwrap()
        .how
        .contains("native engine"));
    assert_eq!(tags("cached plan"), cold);
    // A file it read, edited: a machine gets a new tag.
    let json = clan.join("inventory.json");
    let text = std::fs::read_to_string(&json).unwrap();
    let mut inv: serde_json::Value = serde_json::from_str(&text).unwrap();
    let (name, machine) = inv["machines"]
        .as_object_mut()
        .and_then(|m| m.iter_mut().next())
        .expect("a machine in inventory.json");
    let name = name.clone();
    let obj = machine.as_object_mut().unwrap();
    let tags_of = obj.entry("tags").or_insert_with(|| serde_json::json!([]));
    tags_of
        .as_array_mut()
        .unwrap()
        .push("projection-test".into());
    std::fs::write(&json, serde_json::to_string_pretty(&inv).unwrap()).unwrap();
    tick();
    let edited = tags("native engine");
    assert!(edited["machines"][&name]["tags"]
        .as_array()
        .unwrap()
        .contains(&"projection-test".into()));
    assert_eq!(tags("cached plan"), edited);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// clan-core evaluates the constraints lazily: with an instance whose role `tags` has the
/// wrong type and no service constraint, its `cliChecks` is `[ ]` while its exports fail.
/// The native engine, which resolves every role first, fails there too, and hands the
/// checks to the reference path, which answers as clan-core does.
#[test]
fn cli_checks_evaluate_where_clan_core_never_resolves_roles() {
    let Some(case) = case("01-machine-sources", "lazy cliChecks") else {
        return;
    };
    let tmp = std::env::temp_dir().join(format!("kith-lazy-checks-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::copy(case.join("flake.nix"), tmp.join("flake.nix")).unwrap();
    std::fs::write(
        tmp.join("clan.nix"),
        "{\n  meta.name = \"lazy\";\n  inventory.machines.jon = { };\n  inventory.instances.internet.roles.default.tags = \"all\";\n}\n",
    )
    .unwrap();
    let opts = corpus_opts();
    let checks = select(&tmp, "clanInternals.cliChecks", &opts, true).unwrap();
    assert_eq!(checks.text.trim(), "[]");
    assert!(checks.how.contains("reference path"), "{}", checks.how);
    let exports = select(&tmp, "clan.exports", &opts, true).unwrap_err();
    assert!(
        exports.to_string().contains("convertible to it"),
        "{exports}"
    );
    let _ = std::fs::remove_dir_all(&tmp);
}
