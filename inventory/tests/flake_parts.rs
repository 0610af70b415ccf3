//! The flake-parts entry form: what the native engine answers, and what it leaves to the
//! reference path (`Error::Unsupported`). Flakes are written to temporary directories and
//! loaded with clan-core and nixpkgs overridden to the corpus; flake-parts is never
//! available (the input is replaced).

#[path = "../../eval/tests/common/mod.rs"]
mod common;

use kith_eval::EvalOptions;
use kith_flake::FlakeOptions;
use kith_inventory::Error;
use std::path::{Path, PathBuf};

/// A flake whose `outputs` is `body` (with `inputs` and `flake-parts` in scope), with
/// `files` beside it; `None` without the corpus.
fn flake(name: &str, body: &str, files: &[(&str, &str)]) -> Option<PathBuf> {
    common::corpus("", "flake-parts entry form")?;
    let dir = std::env::temp_dir().join(format!(
        "kith-inventory-flake-parts-{}/{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let text = format!(
        r#"{{
  inputs.clan-core.url = "https://git.clan.lol/clan/clan-core/archive/main.tar.gz";
  inputs.nixpkgs.follows = "clan-core/nixpkgs";
  inputs.flake-parts.url = "github:hercules-ci/flake-parts";
  outputs = inputs@{{ flake-parts, ... }}: {body};
}}
"#
    );
    std::fs::write(dir.join("flake.nix"), text).unwrap();
    for (f, t) in files {
        std::fs::write(dir.join(f), t).unwrap();
    }
    Some(dir)
}

/// The entry point and the inventory view (as JSON) of the flake in `dir`.
fn inventory(dir: &Path) -> Result<(String, serde_json::Value), Error> {
    let opts = FlakeOptions {
        overrides: vec![
            ("clan-core".into(), common::corpus_path("clan-core")),
            ("nixpkgs".into(), common::corpus_path("nixpkgs-lib")),
        ],
        ..FlakeOptions::default()
    };
    let mut ev = kith_flake::evaluator(EvalOptions::default(), false);
    let clan = kith_inventory::clan::load(&mut ev, dir, &opts)?;
    let v = kith_inventory::serialize::inventory_serialization(&mut ev, &clan)?;
    let json = ev.to_json(&v)?;
    Ok((clan.entry, serde_json::from_str(&json.to_string()).unwrap()))
}

fn machines(v: &serde_json::Value) -> Vec<String> {
    v["machines"].as_object().unwrap().keys().cloned().collect()
}

fn unsupported(r: Result<(String, serde_json::Value), Error>, what: &str) {
    match r {
        Err(Error::Unsupported(reason)) => assert!(reason.contains(what), "{reason}"),
        Err(Error::Eval(e)) => panic!("expected unsupported ({what}), got error {}", e.message),
        Ok((_, v)) => panic!("expected unsupported ({what}), got {v}"),
    }
}

const MODULE: &str = "inputs.clan-core.flakeModules.default";

#[test]
fn clan_module_and_import_apply() {
    let Some(dir) = flake(
        "import-apply",
        &format!(
            "flake-parts.lib.mkFlake {{ inherit inputs; }} {{ imports = [ {MODULE} (flake-parts.lib.importApply ./m.nix {{ host = \"b\"; }}) ]; clan.meta.name = \"t\"; clan.inventory.machines.a = {{ }}; }}"
        ),
        &[("m.nix", "{ host }: { lib, ... }: { clan.inventory.machines.${host}.tags = [ \"x\" ]; }")],
    ) else {
        return;
    };
    let (entry, v) = inventory(&dir).unwrap();
    assert_eq!(entry, "flake-parts");
    assert_eq!(machines(&v), ["a", "b"]);
    assert_eq!(v["tags"]["all"], serde_json::json!(["a", "b"]));
}

/// Without clan-core's flake module, `flake.clan` is a freeform output: a `lib.clan`
/// config there is the flake's clan.
#[test]
fn lib_clan_in_flake_output() {
    let Some(dir) = flake(
        "freeform",
        "flake-parts.lib.mkFlake { inherit inputs; } ({ self, ... }: let clan = inputs.clan-core.lib.clan { inherit self; meta.name = \"t\"; inventory.machines.m = { }; }; in { systems = [ ]; flake.clan = clan.config; flake.clanInternals = clan.config.clanInternals; })",
        &[],
    ) else {
        return;
    };
    let (entry, v) = inventory(&dir).unwrap();
    assert_eq!(entry, "clan");
    assert_eq!(machines(&v), ["m"]);
}

#[test]
fn no_clan_is_the_cli_error() {
    let Some(dir) = flake(
        "none",
        "flake-parts.lib.mkFlake { inherit inputs; } { systems = [ ]; }",
        &[],
    ) else {
        return;
    };
    match inventory(&dir) {
        Err(Error::Eval(e)) => assert_eq!(e.message, kith_inventory::clan::NO_CLAN_OUTPUT),
        _ => panic!("expected the missing-clan error"),
    }
}

#[test]
fn not_modelled() {
    let cases = [
        (
            "both",
            format!("flake-parts.lib.mkFlake {{ inherit inputs; }} {{ imports = [ {MODULE} ]; clan.meta.name = \"a\"; flake.clan.meta.name = \"a\"; }}"),
            "both `clan` and `flake.clan`",
        ),
        (
            "undeclared",
            format!("flake-parts.lib.mkFlake {{ inherit inputs; }} {{ imports = [ {MODULE} ]; nosuch = 1; }}"),
            "The option `nosuch' does not exist",
        ),
        (
            "reads-systems",
            format!("flake-parts.lib.mkFlake {{ inherit inputs; }} ({{ config, lib, ... }}: {{ imports = [ {MODULE} ]; systems = [ \"x86_64-linux\" ]; clan.inventory.machines = lib.genAttrs config.systems (_: {{ }}); }})"),
            "reading option `systems'",
        ),
        (
            "with-system",
            format!("flake-parts.lib.mkFlake {{ inherit inputs; }} ({{ withSystem, ... }}: {{ imports = [ {MODULE} ]; clan.meta.name = withSystem \"x\" (_: \"n\"); }})"),
            "module argument `withSystem'",
        ),
        (
            "lib-function",
            format!("flake-parts.lib.mkFlake {{ inherit inputs; }} {{ imports = [ {MODULE} (flake-parts.lib.mkTransposedPerSystemModule {{ }}) ]; }}"),
            "flake-parts.lib.mkTransposedPerSystemModule",
        ),
        (
            "options",
            format!("flake-parts.lib.mkFlake {{ inherit inputs; }} ({{ lib, ... }}: {{ imports = [ {MODULE} ]; options.foo = lib.mkOption {{ }}; }})"),
            "`options'",
        ),
    ];
    for (name, body, what) in cases {
        let Some(dir) = flake(name, &body, &[]) else {
            return;
        };
        unsupported(inventory(&dir), what);
    }
}
