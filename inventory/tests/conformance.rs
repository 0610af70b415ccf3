//! The native engine against clan-core's own answers: every case of
//! `../shared/conformance/cases` and of this crate's `tests/cases`, each view the native
//! engine computes equal to `expected.json` (or `expected-partial.json`), or failing with
//! the expected error; for this crate's cases the reference path (clan-core evaluated as a
//! flake) gives the same inventory view; and the bundled example clan (`fixtures/clan`).

#[path = "../../eval/tests/common/mod.rs"]
mod common;

use kith_eval::{EvalOptions, Value};
use kith_flake::FlakeOptions;
use kith_inventory::clan::Clan;
use kith_inventory::Error;
use std::path::{Path, PathBuf};

/// Input overrides to the corpus, `(input, corpus directory)`.
fn overrides_of(pairs: &[(&str, &str)]) -> FlakeOptions {
    FlakeOptions {
        overrides: pairs
            .iter()
            .map(|(i, d)| (i.to_string(), common::corpus_path(d)))
            .collect(),
        ..FlakeOptions::default()
    }
}

fn overrides() -> FlakeOptions {
    overrides_of(&[("clan-core", "clan-core"), ("nixpkgs", "nixpkgs-lib")])
}

/// The case and corpus paths as the oracle writes them.
fn normalise(text: &str, reps: &[(String, &str)]) -> String {
    let mut t = text.to_string();
    for (from, to) in reps {
        t = t.replace(from.as_str(), to);
    }
    t
}

fn cases(what: &str) -> Vec<PathBuf> {
    let Some(dir) = common::present(&common::shared_path("conformance/cases"), what) else {
        return Vec::new();
    };
    if common::corpus("", what).is_none() {
        return Vec::new();
    }
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    v.sort();
    v
}

fn string_of(ev: &mut kith_eval::Eval, v: &Value) -> String {
    ev.force_string(v).unwrap().encoded().into_owned()
}

/// Checks one view of `case` computed by `view`, and that the clan's modules got kith's
/// built-in lib if and only if `builtin_lib` (its nixpkgs locked but in no store).
fn check_view(
    case: &Path,
    opts: &FlakeOptions,
    builtin_lib: bool,
    key: &str,
    view: fn(&mut kith_eval::Eval, &Clan) -> kith_inventory::Result<Value>,
    failures: &mut Vec<String>,
) {
    let name = case.file_name().unwrap().to_string_lossy().into_owned();
    let expected = std::fs::read_to_string(case.join("expected.json"))
        .or_else(|_| std::fs::read_to_string(case.join("expected-partial.json")))
        .unwrap();
    let expected: serde_json::Value = serde_json::from_str(&expected).unwrap();
    let want_err = std::fs::read_to_string(case.join("expected-error.txt")).ok();
    let mut ev = kith_flake::evaluator(EvalOptions::default(), false);
    let clan = match kith_inventory::clan::load(&mut ev, case, opts) {
        Ok(c) => c,
        Err(e) => return failures.push(format!("{name}: load: {e}")),
    };
    if clan.builtin_lib != builtin_lib {
        failures.push(format!(
            "{name} {key}: built-in lib used: {}, expected {builtin_lib}",
            clan.builtin_lib
        ));
    }
    let flake = ev.force_attrs(&clan.flake).unwrap();
    let out = string_of(&mut ev, flake.get_str("outPath").unwrap());
    let reps = vec![(clan.core.clone(), "@CORPUS@/clan-core"), (out, "@CASE@")];
    let got = view(&mut ev, &clan).and_then(|v| Ok(ev.to_json(&v)?));
    match (got, expected.get(key)) {
        (Ok(json), Some(want)) => {
            let got: serde_json::Value =
                serde_json::from_str(&normalise(&json.to_string(), &reps)).unwrap();
            if &got != want {
                failures.push(format!(
                    "{name} {key}: differs\n got: {}\nwant: {}",
                    common::clip(&got.to_string(), 3000),
                    common::clip(&want.to_string(), 3000)
                ));
            }
        }
        (Ok(_), None) => failures.push(format!("{name} {key}: should fail")),
        (Err(Error::Unsupported(r)), _) => failures.push(format!("{name} {key}: unsupported: {r}")),
        (Err(Error::Eval(e)), Some(_)) => failures.push(format!("{name} {key}: {}", e.message)),
        (Err(Error::Eval(e)), None) => {
            let want = want_err.as_deref().unwrap_or("").trim();
            if !normalise(&e.message, &reps).contains(want) {
                failures.push(format!("{name} {key}: wrong error {}", e.message));
            }
        }
    }
}

#[test]
fn inventory_view_equals_clan_core() {
    let mut failures = Vec::new();
    for case in cases("native inventory view") {
        check_view(
            &case,
            &overrides(),
            false,
            "inventory",
            kith_inventory::serialize::inventory_serialization,
            &mut failures,
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn exports_view_equals_clan_core() {
    let mut failures = Vec::new();
    for case in cases("native exports view") {
        check_view(
            &case,
            &overrides(),
            false,
            "exports",
            kith_inventory::services::exports,
            &mut failures,
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn cli_checks_view_equals_clan_core() {
    let mut failures = Vec::new();
    for case in cases("native cliChecks view") {
        check_view(
            &case,
            &overrides(),
            false,
            "cliChecks",
            kith_inventory::services::cli_checks,
            &mut failures,
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// This crate's own cases (`tests/cases`, expected answers by `regenerate.sh`), each
/// copied to a fresh temporary directory (outside the repository's git work tree, whose
/// untracked files a flake would not see).
fn crate_cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let tmp = std::env::temp_dir().join(format!("kith-inventory-cases-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .map(|p| {
            let to = tmp.join(p.file_name().unwrap());
            common::fixtures::copy_dir(&p, &to);
            to
        })
        .collect();
    v.sort();
    v
}

/// How a crate case is loaded natively: clan-core and nixpkgs overridden to the corpus,
/// except where the case locks clan-core in its `flake.lock` (then only nixpkgs is: the
/// locked clan-core is in no store).
fn native_overrides(case: &Path) -> FlakeOptions {
    if case.join("flake.lock").exists() {
        overrides_of(&[("nixpkgs", "nixpkgs-lib")])
    } else {
        overrides()
    }
}

/// The reference path's overrides: every input clan-core's flake needs (so that it is
/// evaluated as a flake, `lib.buildClan` included), and flake-parts for the cases that use
/// it; `None` for a case the reference path cannot load (clan-core in no store).
fn reference_overrides(case: &Path) -> Option<FlakeOptions> {
    if case.join("flake.lock").exists() {
        return None;
    }
    let mut pairs = vec![
        ("clan-core", "clan-core"),
        ("nixpkgs", "nixpkgs-lib"),
        ("clan-core/flake-parts", "flake-parts"),
        ("clan-core/systems", "nix-systems"),
        ("clan-core/nix-select", "nix-select"),
        ("clan-core/nixpkgs", "nixpkgs-lib"),
    ];
    let flake = std::fs::read_to_string(case.join("flake.nix")).unwrap_or_default();
    if flake.contains("inputs.flake-parts") {
        pairs.push(("flake-parts", "flake-parts"));
    }
    Some(overrides_of(&pairs))
}

/// The inventory view by the reference path (`kith_flake::load` + `select_output`), with
/// paths written as the oracle writes them; `Err` with the rendered error.
fn reference_inventory(case: &Path, opts: &FlakeOptions) -> Result<serde_json::Value, String> {
    let mut ev = kith_flake::evaluator(EvalOptions::default(), false);
    let f = kith_flake::load(&mut ev, case, opts).map_err(|e| e.render(&ev.sources))?;
    let mut path_of = |s: &str| -> Result<String, String> {
        let v = kith_flake::select_output(&mut ev, &f, "case", s).map_err(|e| e.message)?;
        let s = kith_eval::to_json_string(&mut ev, &v).map_err(|e| e.message)?;
        serde_json::from_str::<String>(&s).map_err(|e| e.to_string())
    };
    let reps = vec![
        (path_of(".inputs.clan-core.outPath")?, "@CORPUS@/clan-core"),
        (path_of(".inputs.nixpkgs.outPath")?, "@CORPUS@/nixpkgs-lib"),
        (path_of(".outPath")?, "@CASE@"),
    ];
    let sel = "clanInternals.inventoryClass.inventorySerialization";
    let text = kith_flake::select_output(&mut ev, &f, "case", sel)
        .and_then(|v| kith_eval::to_json_string(&mut ev, &v))
        .map_err(|e| e.render(&ev.sources))?;
    serde_json::from_str(&normalise(&text, &reps)).map_err(|e| e.to_string())
}

/// The inventory view of every case in `tests/cases`, natively and by the reference path.
#[test]
fn crate_cases_inventory_view() {
    if common::corpus("", "the crate's conformance cases").is_none() {
        return;
    }
    let mut failures = Vec::new();
    let cases = crate_cases();
    for case in cases.clone() {
        check_view(
            &case,
            &native_overrides(&case),
            false,
            "inventory",
            kith_inventory::serialize::inventory_serialization,
            &mut failures,
        );
        check_view(
            &case,
            &native_overrides(&case),
            false,
            "exports",
            kith_inventory::services::exports,
            &mut failures,
        );
        check_view(
            &case,
            &native_overrides(&case),
            false,
            "cliChecks",
            kith_inventory::services::cli_checks,
            &mut failures,
        );
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let flake_nix = std::fs::read_to_string(case.join("flake.nix")).unwrap();
        let want_entry = if flake_nix.contains("lib.mkFlake") {
            "flake-parts"
        } else if flake_nix.contains("lib.buildClan") {
            "buildClan"
        } else {
            "clan"
        };
        let mut ev = kith_flake::evaluator(EvalOptions::default(), false);
        match kith_inventory::clan::load(&mut ev, &case, &native_overrides(&case)) {
            Ok(c) if c.entry == want_entry => {}
            Ok(c) => failures.push(format!("{name}: entry {} instead of {want_entry}", c.entry)),
            Err(e) => failures.push(format!("{name}: load: {e}")),
        }
        let Some(opts) = reference_overrides(&case) else {
            continue;
        };
        let expected = std::fs::read_to_string(case.join("expected.json"))
            .or_else(|_| std::fs::read_to_string(case.join("expected-partial.json")))
            .unwrap();
        let expected: serde_json::Value = serde_json::from_str(&expected).unwrap();
        let want_err = std::fs::read_to_string(case.join("expected-error.txt")).unwrap_or_default();
        match (reference_inventory(&case, &opts), expected.get("inventory")) {
            (Ok(got), Some(want)) if &got == want => {}
            (Ok(got), Some(_)) => failures.push(format!(
                "{name} reference path: differs: {}",
                common::clip(&got.to_string(), 3000)
            )),
            (Ok(_), None) => failures.push(format!("{name} reference path: should fail")),
            (Err(e), Some(_)) => failures.push(format!("{name} reference path: {e}")),
            (Err(e), None) if e.contains(want_err.trim()) => {}
            (Err(e), None) => failures.push(format!("{name} reference path: wrong error {e}")),
        }
    }
    if let Some(tmp) = cases.first().and_then(|c| c.parent()) {
        let _ = std::fs::remove_dir_all(tmp);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The bundled example clan (`fixtures/clan`, expected answers by `regenerate.sh`), copied
/// to a fresh temporary directory; the copy's parent is removed by the caller.
fn example_clan(tag: &str) -> PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/clan");
    let tmp = std::env::temp_dir().join(format!("kith-example-clan-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let to = tmp.join("clan");
    common::fixtures::copy_dir(&from, &to);
    to
}

/// The example clan's three views natively, clan-core and nixpkgs overridden to the corpus
/// (its `flake.lock` locks both, and neither is in any store): equal to `expected.json`.
#[test]
fn example_clan_views() {
    if common::corpus("", "the example clan's views").is_none() {
        return;
    }
    let case = example_clan("views");
    let mut failures = Vec::new();
    check_view(
        &case,
        &overrides_of(&[("clan-core", "clan-core"), ("nixpkgs", "nixpkgs-lib")]),
        false,
        "exports",
        kith_inventory::services::exports,
        &mut failures,
    );
    check_view(
        &case,
        &overrides_of(&[("clan-core", "clan-core"), ("nixpkgs", "nixpkgs-lib")]),
        false,
        "inventory",
        kith_inventory::serialize::inventory_serialization,
        &mut failures,
    );
    check_view(
        &case,
        &overrides_of(&[("clan-core", "clan-core"), ("nixpkgs", "nixpkgs-lib")]),
        false,
        "cliChecks",
        kith_inventory::services::cli_checks,
        &mut failures,
    );
    let _ = std::fs::remove_dir_all(case.parent().unwrap());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The example clan's three views natively with no override at all (clan-core and nixpkgs
/// locked, in no store, nothing fetched; the modules get kith's built-in lib and clanLib):
/// equal to `expected.json`, clan-core's files named by the store path the lock's
/// `narHash` gives. Needs no `../shared`.
#[test]
fn example_clan_views_without_overrides() {
    let case = example_clan("bare");
    let offline = FlakeOptions {
        offline: true,
        ..FlakeOptions::default()
    };
    let mut failures = Vec::new();
    check_view(
        &case,
        &offline,
        true,
        "inventory",
        kith_inventory::serialize::inventory_serialization,
        &mut failures,
    );
    check_view(
        &case,
        &offline,
        true,
        "cliChecks",
        kith_inventory::services::cli_checks,
        &mut failures,
    );
    check_view(
        &case,
        &offline,
        true,
        "exports",
        kith_inventory::services::exports,
        &mut failures,
    );
    let _ = std::fs::remove_dir_all(case.parent().unwrap());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
