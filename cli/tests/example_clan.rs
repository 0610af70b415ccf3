//! The bundled example clan (`fixtures/clan`) as a fresh clone sees it: the `kith` binary
//! run in a temporary copy of the fixture, with no `--override-input`, no `../shared`, a
//! `HOME` and caches of its own and no `nix` on `PATH` (so anything that would be fetched
//! fails instead of reaching the network). Its answers equal the fixture's
//! `expected.json`, which is clan-oracle's output (`regenerate.sh`), paths written as the
//! oracle writes them: the flake's store path as `@CASE@`, clan-core's (the store path
//! its locked `narHash` names) as `@CORPUS@/clan-core`. All three views are answered so
//! (the exports with kith's built-in lib, see `kith_inventory::builtin_lib`). Where
//! `../shared` is present, the exports with clan-core and nixpkgs overridden to the corpus
//! are checked too, and `expected.json` is checked to be what clan-oracle prints now.

mod common;
#[path = "../../eval/tests/common/corpus.rs"]
mod corpus;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const INVENTORY: &str = "clanInternals.inventoryClass.inventorySerialization";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/clan")
}

/// A fresh copy of the fixture, with an empty home, cache and `PATH` beside it; removed
/// on drop.
struct Clone {
    root: PathBuf,
}

impl Clone {
    fn new(tag: &str) -> Clone {
        let root =
            std::env::temp_dir().join(format!("kith-example-clan-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        common::fixtures::copy_dir(&fixture(), &root.join("clan"));
        for d in ["home", "xdg-cache", "kith-cache", "bin"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        Clone { root }
    }

    fn dir(&self) -> PathBuf {
        self.root.join("clan")
    }

    /// `kith ARGS` run in the clan's directory (the flake found from there, as a user
    /// types it): stdout, stderr, exit code.
    fn kith(&self, args: &[&str]) -> (String, String, Option<i32>) {
        let out = Command::new(env!("CARGO_BIN_EXE_kith"))
            .current_dir(self.dir())
            .env_clear()
            .env("HOME", self.root.join("home"))
            .env("XDG_CACHE_HOME", self.root.join("xdg-cache"))
            .env("KITH_CACHE_DIR", self.root.join("kith-cache"))
            .env("PATH", self.root.join("bin"))
            .args(args)
            .output()
            .unwrap();
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            out.status.code(),
        )
    }

    /// `kith select SEL` (plus `extra`), which must succeed and fetch nothing: its JSON.
    fn select(&self, sel: &str, extra: &[&str]) -> String {
        let mut args = vec!["select", sel];
        args.extend_from_slice(extra);
        let (out, err, code) = self.kith(&args);
        assert_eq!(code, Some(0), "kith select {sel}: {err}");
        assert!(!err.contains("fetch"), "kith select {sel} fetched: {err}");
        out
    }

    /// The view `sel` with the flake's and clan-core's store paths written as the oracle
    /// writes them.
    fn view(&self, sel: &str, extra: &[&str]) -> Value {
        let self_path: String = serde_json::from_str(&self.select("outPath", extra)).unwrap();
        let mut text = self.select(sel, extra);
        for (from, to) in [
            (clan_core_path(), "@CORPUS@/clan-core"),
            (self_path, "@CASE@"),
        ] {
            text = text.replace(&from, to);
        }
        serde_json::from_str(&text).unwrap()
    }
}

impl Drop for Clone {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// The store path the fixture's `flake.lock` gives clan-core (its `narHash`'s), where
/// kith names clan-core's files without having them.
fn clan_core_path() -> String {
    let lock: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture().join("flake.lock")).unwrap())
            .unwrap();
    let locked = lock["nodes"]["clan-core"]["locked"].as_object().unwrap();
    kith_flake::source::locked_source_path("/nix/store", "clan-core", locked).unwrap()
}

fn expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture().join("expected.json")).unwrap())
        .unwrap()
}

#[test]
fn inventory_view_on_a_fresh_clone() {
    let clone = Clone::new("inventory");
    assert_eq!(clone.view(INVENTORY, &[]), expected()["inventory"]);
}

#[test]
fn cli_checks_view_on_a_fresh_clone() {
    let clone = Clone::new("cli-checks");
    assert_eq!(
        clone.view("clanInternals.cliChecks", &[]),
        expected()["cliChecks"]
    );
}

/// From a directory inside the clan, kith finds it by its `.clan-flake` (as clan does).
#[test]
fn found_from_a_subdirectory() {
    let clone = Clone::new("subdir");
    let out = Command::new(env!("CARGO_BIN_EXE_kith"))
        .current_dir(clone.dir().join("machines/nas"))
        .env_clear()
        .env("HOME", clone.root.join("home"))
        .env("KITH_CACHE_DIR", clone.root.join("kith-cache"))
        .env("PATH", clone.root.join("bin"))
        .args(["select", &format!("{INVENTORY}.meta.name")])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "\"meadow\"\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The output is `clan select`'s: `json.dumps(indent=4)` and a newline.
#[test]
fn output_is_clan_selects() {
    let clone = Clone::new("text");
    let out = clone.select(&format!("{INVENTORY}.meta"), &[]);
    assert_eq!(
        out,
        "{\n    \"description\": \"A small home-and-office fleet: kith's bundled example\",\n    \
         \"domain\": \"clan\",\n    \"icon\": null,\n    \"name\": \"meadow\",\n    \"tld\": null\n}\n"
    );
}

/// `clan.exports` on a fresh clone: nixpkgs and clan-core are locked but in no store, so
/// the services get kith's built-in `lib` and `clanLib` and the core export interfaces
/// are declared natively; the answer is clan-core's, and `--explain` says how.
#[test]
fn exports_on_a_fresh_clone() {
    let clone = Clone::new("exports");
    let (_, err, code) = clone.kith(&["select", "clan.exports", "--no-cache", "--explain"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("the clan's nixpkgs is not in the store: its modules got kith's built-in lib"),
        "{err}"
    );
    assert_eq!(clone.view("clan.exports", &[]), expected()["exports"]);
}

/// A function the built-in lib does not provide fails, naming it and saying why, and is
/// not caught by `tryEval` (nixpkgs' lib would not have failed there).
#[test]
fn missing_builtin_lib_function_is_named() {
    let clone = Clone::new("missing-lib");
    let module = clone.dir().join("modules/internet.nix");
    let text = std::fs::read_to_string(&module).unwrap();
    let edited = text.replacen(
        "value.networking.priority = 2000;",
        "value.networking.priority = (builtins.tryEval (lib.fixedWidthNumber 4 7)).value;",
        1,
    );
    assert_ne!(text, edited);
    std::fs::write(&module, edited).unwrap();
    let (out, err, code) = clone.kith(&["select", "clan.exports"]);
    assert_eq!((out.as_str(), code), ("", Some(1)), "{err}");
    assert!(
        err.contains(
            "lib.fixedWidthNumber is not available: the clan's nixpkgs is not in the store"
        ),
        "{err}"
    );
}

/// The exports, clan-core and nixpkgs overridden to the corpus (when `../shared` is here).
#[test]
fn exports_with_the_corpus() {
    let Some(corpus) = corpus::corpus("", "the example clan's exports") else {
        return;
    };
    let clan_core = corpus.join("clan-core");
    let nixpkgs = corpus.join("nixpkgs-lib");
    let clone = Clone::new("exports-corpus");
    let extra = [
        "--override-input",
        "clan-core",
        clan_core.to_str().unwrap(),
        "--override-input",
        "nixpkgs",
        nixpkgs.to_str().unwrap(),
    ];
    let self_path: String = serde_json::from_str(&clone.select("outPath", &extra)).unwrap();
    let text = clone
        .select("clan.exports", &extra)
        .replace(&self_path, "@CASE@");
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        expected()["exports"]
    );
}

/// `expected.json` is what clan-oracle prints for the fixture now (it is written only by
/// `inventory/tests/cases/regenerate.sh`): needs `../shared` and `nix-instantiate`.
#[test]
fn expected_is_the_oracles() {
    let Some(oracle) = corpus::present(
        &corpus::shared_path("tools/clan-oracle"),
        "the example clan against clan-oracle",
    ) else {
        return;
    };
    let has_nix = Command::new("nix-instantiate")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_nix {
        assert!(
            !corpus::env_flag("KITH_REQUIRE_CORPUS"),
            "nix-instantiate is missing, and KITH_REQUIRE_CORPUS=1 makes that a failure"
        );
        eprintln!("the example clan against clan-oracle: no nix-instantiate; SKIPPED");
        return;
    }
    let clone = Clone::new("oracle");
    let out = Command::new("bash")
        .arg(oracle)
        .arg(clone.dir())
        .arg("all")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "clan-oracle: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        got,
        expected(),
        "fixtures/clan/expected.json is stale: run inventory/tests/cases/regenerate.sh"
    );
}

/// The README's first command on a fresh clone prints the saved `network-list.txt` (which
/// CI also compares with the binary's output), and that saved copy is what clan-cli's
/// algorithm gives from clan-oracle's answers (the model's expectation for the example,
/// `planner/tests/admin/fixtures/clan/expected.json`, regenerated from `expected.json`).
#[test]
fn network_list_on_a_fresh_clone_is_the_saved_copy() {
    let clone = Clone::new("network-list");
    let (out, err, code) = clone.kith(&["network", "list"]);
    assert_eq!(code, Some(0), "{err}");
    let saved = std::fs::read_to_string(fixture().join("network-list.txt")).unwrap();
    assert_eq!(out, saved);
    let model: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../planner/tests/admin/fixtures/clan/expected.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(model["network list"].as_str(), Some(saved.as_str()));
}
