//! `kith select` on a Clan conformance case: the printed JSON equals the case's expected
//! views (`expected.json`, paths written as `@CASE@`/`@CORPUS@`).

mod common;
#[path = "../../eval/tests/common/corpus.rs"]
mod corpus;

use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The case directory and the corpus, or `None` (skipped) when absent.
fn case() -> Option<(PathBuf, PathBuf)> {
    let what = "kith select on conformance case 04";
    let case = corpus::present(
        &corpus::shared_path("conformance/cases/04-service-args-exports"),
        what,
    )?;
    let corpus = corpus::present(&corpus::corpus_path(""), what)?;
    Some((case, corpus))
}

/// `kith select SEL` on the case: stdout, stderr, exit code.
fn select(case: &Path, corpus: &Path, sel: &str, extra: &[&str]) -> (String, String, Option<i32>) {
    let cache = std::env::temp_dir().join(format!("kith-select-test-{}", std::process::id()));
    let clan_core = corpus.join("clan-core");
    let nixpkgs = corpus.join("nixpkgs-lib");
    let mut args = vec![
        "select",
        sel,
        "--flake",
        case.to_str().unwrap(),
        "--override-input",
        "clan-core",
        clan_core.to_str().unwrap(),
        "--override-input",
        "nixpkgs",
        nixpkgs.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    common::run_kith(None, &cache, &args)
}

/// The selector's JSON, with the sources' store paths replaced by the placeholders.
fn select_json(case: &Path, corpus: &Path, sel: &str) -> Value {
    let path = |s: &str| -> String {
        let (out, err, code) = select(case, corpus, s, &[]);
        assert_eq!(code, Some(0), "{s}: {err}");
        serde_json::from_str(&out).unwrap()
    };
    let reps = [
        (path("inputs.clan-core.outPath"), "@CORPUS@/clan-core"),
        (path("inputs.nixpkgs.outPath"), "@CORPUS@/nixpkgs-lib"),
        (path("outPath"), "@CASE@"),
    ];
    let (mut out, err, code) = select(case, corpus, sel, &[]);
    assert_eq!(code, Some(0), "{sel}: {err}");
    assert!(out.ends_with("}\n"), "{sel}: {out}");
    for (from, to) in &reps {
        out = out.replace(from.as_str(), to);
    }
    serde_json::from_str(&out).unwrap()
}

fn expected(case: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(case.join("expected.json")).unwrap()).unwrap()
}

#[test]
fn exports_equal_expected() {
    let Some((case, corpus)) = case() else { return };
    let want = expected(&case);
    assert_eq!(select_json(&case, &corpus, "clan.exports"), want["exports"]);
}

#[test]
fn inventory_selectors() {
    let Some((case, corpus)) = case() else { return };
    let inv = &expected(&case)["inventory"];
    let base = "clanInternals.inventoryClass.inventorySerialization";
    assert_eq!(&select_json(&case, &corpus, &format!("{base}.*")), inv);
    assert_eq!(
        select_json(&case, &corpus, &format!("{base}.{{meta,?nope}}")),
        json!({"meta": inv["meta"]})
    );
    assert_eq!(
        select_json(&case, &corpus, &format!("{base}.?machines")),
        json!({"machines": inv["machines"]})
    );
    assert_eq!(
        select_json(&case, &corpus, &format!("{base}.?nope")),
        json!({})
    );
    assert_eq!(
        select_json(&case, &corpus, &format!("{base}.machines.*.?nope")),
        Value::Object(
            inv["machines"]
                .as_object()
                .unwrap()
                .keys()
                .map(|k| (k.clone(), json!({})))
                .collect()
        )
    );
}

#[test]
fn errors_and_explain() {
    let Some((case, corpus)) = case() else { return };
    let (out, err, code) = select(&case, &corpus, "clan.nope", &["--explain", "--no-cache"]);
    assert_eq!((out.as_str(), code), ("", Some(1)));
    assert!(
        err.starts_with("kith: answered from the reference path"),
        "{err}"
    );
    assert!(err.contains("kith: input clan-core: "), "{err}");
    assert!(
        err.ends_with(
            "Error on: $ clan select 'clan.nope'\n  Reason: Attribute 'nope' not found in flake. \
             Use flag '--debug' to see full nix trace.\n"
        ),
        "{err}"
    );
    let (_, err, code) = select(&case, &corpus, "a.*b", &[]);
    assert_eq!(
        (err.as_str(), code),
        ("ValueError: expected ., but got {c}\n", Some(1))
    );
}

#[test]
fn missing_or_invalid_flake() {
    let cache = std::env::temp_dir().join(format!("kith-select-test-{}", std::process::id()));
    let dir = std::env::temp_dir().join(format!("kith-select-noflake-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.to_str().unwrap();
    let (_, err, code) = common::run_kith(None, &cache, &["select", "x", "--flake", d]);
    assert_eq!(code, Some(1));
    assert_eq!(
        err,
        format!("{d}: \nFlake is invalid. Could not find a flake.nix file in '{d}'.\n")
    );
    let gone = format!("{d}/gone");
    let (_, err, code) = common::run_kith(None, &cache, &["select", "x", "--flake", &gone]);
    assert_eq!(code, Some(1));
    assert_eq!(
        err,
        format!("{gone}: \nFlake '{gone}' does not exist or is not a valid flake.\n")
    );
    std::fs::write(
        dir.join("flake.nix"),
        "{ outputs = _: { a = { b = 1; }; }; }",
    )
    .unwrap();
    let (out, err, code) =
        common::run_kith(Some(&dir), &cache, &["select", "a.?b", "--flake", "."]);
    assert_eq!(
        (out.as_str(), err.as_str(), code),
        ("{\n    \"b\": 1\n}\n", "", Some(0))
    );
    let (_, err, code) = common::run_kith(
        Some(&dir),
        &cache,
        &["select", "clan.exports", "--flake", "."],
    );
    assert_eq!(code, Some(1));
    assert!(
        err.contains("Reason: This flake does not export the 'clan' attribute. \n"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
