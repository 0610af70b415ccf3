//! The native engine against clan-core's own answers: every case of
//! `../shared/conformance/cases`, each view the native engine computes equal to
//! `expected.json` (or `expected-partial.json`), or failing with the expected error.

#[path = "../../eval/tests/common/mod.rs"]
mod common;

use kith_eval::{EvalOptions, Value};
use kith_flake::FlakeOptions;
use kith_inventory::clan::Clan;
use kith_inventory::Error;
use std::path::{Path, PathBuf};

fn overrides() -> FlakeOptions {
    FlakeOptions {
        overrides: vec![
            ("clan-core".into(), common::corpus_path("clan-core")),
            ("nixpkgs".into(), common::corpus_path("nixpkgs-lib")),
        ],
        ..FlakeOptions::default()
    }
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

/// Checks one view of `case` computed by `view`.
fn check_view(
    case: &Path,
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
    let clan = match kith_inventory::clan::load(&mut ev, case, &overrides()) {
        Ok(c) => c,
        Err(e) => return failures.push(format!("{name}: load: {e}")),
    };
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
            if !e.message.contains(want) {
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
            "cliChecks",
            kith_inventory::services::cli_checks,
            &mut failures,
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
