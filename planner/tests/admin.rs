//! kith's admin commands on every clan conformance case (`../shared/conformance/cases`
//! and `inventory/tests/cases`): `machines list` (with and without `--tags`), `network
//! list`, `network resolve` for every machine and `show` equal what clan-cli's algorithms
//! give on clan-core's own views. The expected outputs (`tests/admin/<group>/<case>/
//! expected.json`) are written by `tests/admin/regenerate.sh` with the independent model
//! `tests/clan_cli_model.py`, never by hand. The Running column is compared as on a
//! machine without Tor or ZeroTier running (as the model has it).

#[path = "../../eval/tests/common/mod.rs"]
mod common;

use kith_flake::FlakeOptions;
use kith_planner::fleet::network::{self, Network, Running};
use kith_planner::fleet::{load_view, machines, resolve, show, FleetError};
use kith_planner::native::View;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The Running column as the model computes it.
fn running(n: &Network) -> Running {
    match n.module.as_str() {
        "clan_lib.network.direct" | "clan_lib.network.p2p_ssh_iroh" => Running::Yes,
        "clan_lib.network.tor" | "clan_lib.network.zerotier" => Running::No,
        _ => Running::Error,
    }
}

/// Overrides as the conformance tests give them: clan-core and nixpkgs from the corpus,
/// only nixpkgs where the case locks clan-core itself.
fn overrides(case: &Path) -> FlakeOptions {
    let mut pairs = vec![("nixpkgs", "nixpkgs-lib")];
    if !case.join("flake.lock").exists() {
        pairs.push(("clan-core", "clan-core"));
    }
    FlakeOptions {
        overrides: pairs
            .into_iter()
            .map(|(n, d)| (n.to_string(), common::corpus_path(d)))
            .collect(),
        ..Default::default()
    }
}

/// An expected value that is an error (`{"error": true}`, or a text).
fn expected_error(v: &Value) -> Option<Option<&str>> {
    match v.get("error") {
        Some(Value::Bool(true)) => Some(None),
        Some(Value::String(s)) => Some(Some(s.as_str())),
        _ => None,
    }
}

/// Compares one command's outcome with the expectation; a mismatch is pushed on `fails`.
fn compare(fails: &mut Vec<String>, what: &str, got: Result<Value, FleetError>, want: &Value) {
    match (expected_error(want), got) {
        (None, Ok(g)) if &g == want => {}
        (Some(None), Err(_)) => {}
        (Some(Some(text)), Err(e)) if e.0 == text => {}
        (_, got) => fails.push(format!("{what}:\n  kith:  {got:?}\n  model: {want}")),
    }
}

fn lines(names: Vec<String>) -> Value {
    Value::from(names.iter().map(|n| format!("{n}\n")).collect::<String>())
}

/// Checks one case; mismatches are pushed on `fails`.
fn check_case(case: &Path, expected: &Value, fails: &mut Vec<String>) {
    let name = case.file_name().unwrap().to_string_lossy().to_string();
    let opts = overrides(case);
    let inventory = load_view(case, &opts, View::Inventory, false);
    let exports = load_view(case, &opts, View::Exports, false);
    let with_inv = |f: &dyn Fn(&Value) -> Value| inventory.clone().map(|i| f(&i));
    compare(
        fails,
        &format!("{name}: machines list"),
        with_inv(&|i| lines(machines::list(i, &[]))),
        &expected["machines list"],
    );
    if let Some(queries) = expected["machines list --tags"].as_object() {
        for (q, want) in queries {
            let tags: Vec<String> = q.split(' ').map(str::to_string).collect();
            compare(
                fails,
                &format!("{name}: machines list --tags {q}"),
                with_inv(&|i| lines(machines::list(i, &tags))),
                want,
            );
        }
    }
    compare(
        fails,
        &format!("{name}: show"),
        with_inv(&|i| Value::from(show::render(&show::meta(i)))),
        &expected["show"],
    );
    let nets = exports.clone().and_then(|e| network::networks(&e));
    compare(
        fails,
        &format!("{name}: network list"),
        nets.clone()
            .map(|n| Value::from(network::list_table(&n, &mut running))),
        &expected["network list"],
    );
    let Some(resolved) = expected["network resolve"].as_object() else {
        fails.push(format!("{name}: no `network resolve` expectations"));
        return;
    };
    let machines_expected: Vec<&String> = resolved.keys().collect();
    if let Ok(inv) = &inventory {
        let mut have = kith_planner::fleet::machine_names(inv);
        have.sort();
        let mut want: Vec<String> = machines_expected.iter().map(|s| s.to_string()).collect();
        want.sort();
        if have != want {
            fails.push(format!("{name}: machines {have:?}, model has {want:?}"));
        }
    }
    for (m, want) in resolved {
        let got = match (&inventory, &nets) {
            (Ok(inv), Ok(n)) => resolve::resolve(case, inv, n, m, None).map(|r| r.to_json()),
            (Err(e), _) | (_, Err(e)) => Err(e.clone()),
        };
        compare(fails, &format!("{name}: network resolve {m}"), got, want);
    }
}

#[test]
fn admin_commands_equal_the_model() {
    let what = "admin commands on the conformance cases";
    if common::corpus("", what).is_none() {
        return;
    }
    let tmp = std::env::temp_dir().join(format!("kith-admin-test-{}", std::process::id()));
    std::env::set_var("KITH_CACHE_DIR", tmp.join("cache"));
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let groups: [(&str, PathBuf); 3] = [
        ("shared", common::shared_path("conformance/cases")),
        ("inventory", here.join("../inventory/tests/cases")),
        ("fixtures", here.join("../fixtures")),
    ];
    let mut fails = Vec::new();
    let mut checked = 0;
    for (group, src) in groups {
        let Some(src) = common::present(&src, what) else {
            continue;
        };
        let mut cases: Vec<PathBuf> = std::fs::read_dir(here.join("tests/admin").join(group))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        cases.sort();
        for dir in cases {
            let expected: Value =
                serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap())
                    .unwrap();
            let case = src.join(dir.file_name().unwrap());
            assert!(case.is_dir(), "{}: no such case", case.display());
            check_case(&case, &expected, &mut fails);
            checked += 1;
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(
        fails.is_empty(),
        "{} mismatches:\n{}",
        fails.len(),
        fails.join("\n")
    );
    eprintln!("{checked} cases equal the model");
}

/// The checked-in expectations are the model's output, byte for byte (so they are never
/// edited by hand, and the model and the data cannot drift apart). Needs `python3`.
#[test]
fn expectations_are_the_models_output() {
    let what = "admin expectations regenerated by the model";
    if std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            !common::env_flag("KITH_REQUIRE_CORPUS"),
            "{what}: python3 missing, and KITH_REQUIRE_CORPUS=1 makes that a failure"
        );
        eprintln!("{what}: python3 not found; SKIPPED");
        return;
    }
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let groups: [(&str, PathBuf); 3] = [
        ("shared", common::shared_path("conformance/cases")),
        ("inventory", here.join("../inventory/tests/cases")),
        ("fixtures", here.join("../fixtures")),
    ];
    for (group, src) in groups {
        let Some(src) = common::present(&src, what) else {
            continue;
        };
        let mut cases: Vec<PathBuf> = std::fs::read_dir(&src)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.join("expected.json").exists() || p.join("expected-partial.json").exists()
            })
            .collect();
        cases.sort();
        assert!(!cases.is_empty(), "{}: no cases", src.display());
        for case in cases {
            let out = std::process::Command::new("python3")
                .arg(here.join("tests/clan_cli_model.py"))
                .arg(&case)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}: {}",
                case.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            let file = here
                .join("tests/admin")
                .join(group)
                .join(case.file_name().unwrap())
                .join("expected.json");
            let saved = std::fs::read(&file).unwrap_or_else(|_| {
                panic!("{} missing: run tests/admin/regenerate.sh", file.display())
            });
            assert!(
                saved == out.stdout,
                "{} differs from the model's output: run tests/admin/regenerate.sh",
                file.display()
            );
        }
    }
}
