//! The typed inventory: equal to the serialised view, with the definition sites of
//! machines, instances and roles across Nix files, `inventory.json` and `machines/`.

#[path = "../../eval/tests/common/mod.rs"]
mod common;

use kith_eval::EvalOptions;
use kith_flake::FlakeOptions;
use kith_inventory::model::{self, MachineClass};

#[test]
fn typed_inventory_with_sites() {
    let what = "typed inventory";
    let Some(case) = common::present(
        &common::shared_path("conformance/cases/01-machine-sources"),
        what,
    ) else {
        return;
    };
    if common::corpus("", what).is_none() {
        return;
    }
    let opts = FlakeOptions {
        overrides: vec![
            ("clan-core".into(), common::corpus_path("clan-core")),
            ("nixpkgs".into(), common::corpus_path("nixpkgs-lib")),
        ],
        ..FlakeOptions::default()
    };
    let mut ev = kith_flake::evaluator(EvalOptions::default(), false);
    let clan = kith_inventory::clan::load(&mut ev, &case, &opts).unwrap();
    let inv = model::load(&mut ev, &clan).unwrap();
    // The typed model serialises back to clan-core's view.
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(case.join("expected.json")).unwrap())
            .unwrap();
    let mut ours = serde_json::to_value(&inv).unwrap();
    let text = ours.to_string();
    let flake = ev.force_attrs(&clan.flake).unwrap();
    let out = ev
        .force_string(flake.get_str("outPath").unwrap())
        .unwrap()
        .encoded()
        .into_owned();
    ours = serde_json::from_str(
        &text
            .replace(&out, "@CASE@")
            .replace(&clan.core, "@CORPUS@/clan-core"),
    )
    .unwrap();
    assert_eq!(ours, expected["inventory"]);
    assert_eq!(inv.machines["mac"].machine_class, MachineClass::Darwin);
    assert_eq!(inv.meta.name, "sources");
    // jon: in clan.nix (with a line), inventory.json, machines/jon and clan.machines.
    let jon = &inv.sites.machines["jon"];
    let files: Vec<&str> = jon.iter().map(|s| s.file.as_str()).collect();
    assert!(files.iter().any(|f| f.ends_with("/clan.nix")), "{jon:?}");
    assert!(
        files.iter().any(|f| f.ends_with("/inventory.json")),
        "{jon:?}"
    );
    assert!(
        files.iter().any(|f| f.ends_with("/machines/jon")),
        "{jon:?}"
    );
    let in_nix = jon.iter().find(|s| s.file.ends_with("/clan.nix")).unwrap();
    assert_eq!((in_nix.line, in_nix.column), (Some(12), Some(5)), "{jon:?}");
    let in_dir = jon
        .iter()
        .find(|s| s.file.ends_with("/machines/jon"))
        .unwrap();
    assert_eq!(in_dir.line, None, "{jon:?}");
    let sara = &inv.sites.machines["sara"];
    assert!(
        sara.iter()
            .any(|s| s.file.ends_with("/clan.nix") && s.line == Some(16)),
        "{sara:?}"
    );
    // The internet instance: inventory.json and clan.nix.
    let internet = &inv.sites.instances["internet"];
    assert!(
        internet.iter().any(|s| s.file.ends_with("/inventory.json")),
        "{internet:?}"
    );
    assert!(
        internet.iter().any(|s| s.file.ends_with("/clan.nix")),
        "{internet:?}"
    );
    assert!(inv
        .sites
        .roles
        .contains_key(&("internet".into(), "default".into())));
}
