//! Definition priorities per inventory path (`kith_inventory::introspection`), which
//! clan's write rules for `inventory.json` read: equal to clan-core's
//! `clanInternals.inventoryClass.introspection` on the priorities case.

#[path = "../../eval/tests/common/mod.rs"]
mod common;

use kith_flake::FlakeOptions;
use std::path::Path;

/// clan-core's introspection of `tests/cases/05-priorities` (C++ Nix over the corpus's
/// clan-core and nixpkgs lib): path, `prio`, the base names of `files`, `total`.
const EXPECTED: &str = "\
machines 100 clan.nix,defaults.nix,module.nix false
machines.a 100 clan.nix,defaults.nix true
machines.a.description 50 clan.nix false
machines.a.machineClass 100 defaults.nix false
machines.a.tags 100 clan.nix,clan.nix,inventory.nix false
machines.b 100 clan.nix,defaults.nix true
machines.b.description 100 clan.nix false
machines.b.machineClass 1500 inventory.nix false
machines.b.tags 100 inventory.nix false
machines.c 100 clan.nix,clan.nix,defaults.nix true
machines.c.description 1500 inventory.nix false
machines.c.machineClass 1500 inventory.nix false
machines.c.tags 100 clan.nix,clan.nix,inventory.nix,defaults.nix false
machines.d 100 clan.nix,defaults.nix true
machines.d.description 1500 inventory.nix false
machines.d.machineClass 50 clan.nix false
machines.d.tags 100 inventory.nix false
machines.e 9999  true
machines.e.description 1500 inventory.nix false
machines.e.machineClass 1500 inventory.nix false
machines.e.tags 100 inventory.nix false
meta.name 100 clan.nix, via option meta false
";

#[test]
fn priorities_as_clan_core_introspects_them() {
    let what = "inventory introspection";
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/05-priorities");
    if common::corpus("", what).is_none() {
        return;
    }
    let opts = FlakeOptions {
        overrides: vec![
            ("clan-core".into(), common::corpus_path("clan-core")),
            ("nixpkgs".into(), common::corpus_path("nixpkgs-lib")),
        ],
        ..Default::default()
    };
    let mut ev = kith_flake::evaluator(kith_eval::EvalOptions::default(), false);
    let clan = kith_inventory::clan::load(&mut ev, &case, &opts).unwrap();
    let intro = kith_inventory::introspection::introspect(&mut ev, &clan).unwrap();
    let mut got = String::new();
    for line in EXPECTED.lines() {
        let path: Vec<String> = line
            .split(' ')
            .next()
            .unwrap()
            .split('.')
            .map(str::to_string)
            .collect();
        let p = intro
            .prio(&path)
            .unwrap_or_else(|| panic!("no priorities for {}", path.join(".")));
        let files: Vec<&str> = p
            .files
            .iter()
            .map(|f| f.rsplit('/').next().unwrap())
            .collect();
        got.push_str(&format!(
            "{} {} {} {}\n",
            path.join("."),
            p.prio,
            files.join(","),
            p.total
        ));
    }
    assert_eq!(got, EXPECTED);
    // The evaluated inventory, settings unwrapped as clan's CLI unwraps them.
    assert_eq!(intro.values["machines"]["a"]["description"], "forced");
    let mut keys: Vec<&String> = intro.values.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["instances", "machines", "meta"]);
}
