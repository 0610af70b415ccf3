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

/// A flake-parts option declared without a type is of `types.unspecified`, as nixpkgs
/// declares it: its definitions merge (lists concatenated) and the clan loads natively.
#[test]
fn untyped_option_at_the_top_level() {
    let Some(dir) = flake(
        "untyped",
        &format!(
            "flake-parts.lib.mkFlake {{ inherit inputs; }} ({{ lib, config, ... }}: {{ imports = [ {MODULE} {{ hosts = [ \"b\" ]; }} ]; options.hosts = lib.mkOption {{ }}; config.hosts = [ \"a\" ]; config.clan.meta.name = \"t\"; config.clan.inventory.machines = lib.genAttrs config.hosts (_: {{ }}); }})"
        ),
        &[],
    ) else {
        return;
    };
    let (entry, v) = inventory(&dir).unwrap();
    assert_eq!(entry, "flake-parts");
    assert_eq!(machines(&v), ["a", "b"]);
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
            "reads-clan",
            format!("flake-parts.lib.mkFlake {{ inherit inputs; }} ({{ config, ... }}: {{ imports = [ {MODULE} ]; clan.meta.name = \"t\"; clan.inventory.machines = if config.flake.clan ? inventory then {{ a = {{ }}; }} else {{ }}; }})"),
            "reading option `flake.clan'",
        ),
        (
            "options",
            format!("flake-parts.lib.mkFlake {{ inherit inputs; }} ({{ lib, ... }}: {{ imports = [ {MODULE} ]; options.foo = lib.mkOption {{ type = lib.types.either lib.types.str lib.types.int // {{ check = _: true; }}; }}; }})"),
            "v2 merge coherence",
        ),
    ];
    for (name, body, what) in cases {
        let Some(dir) = flake(name, &body, &[]) else {
            return;
        };
        unsupported(inventory(&dir), what);
    }
}

/// Overrides for the reference path: flake-parts and clan-core (with its own inputs) from
/// the corpus, so that both are evaluated as flakes.
fn reference_options() -> FlakeOptions {
    let pairs = [
        ("clan-core", "clan-core"),
        ("nixpkgs", "nixpkgs-lib"),
        ("flake-parts", "flake-parts"),
        ("flake-parts/nixpkgs-lib", "nixpkgs-lib"),
        ("clan-core/flake-parts", "flake-parts"),
        ("clan-core/systems", "nix-systems"),
        ("clan-core/nix-select", "nix-select"),
        ("clan-core/nixpkgs", "nixpkgs-lib"),
    ];
    FlakeOptions {
        overrides: pairs
            .iter()
            .map(|(i, d)| (i.to_string(), common::corpus_path(d)))
            .collect(),
        ..FlakeOptions::default()
    }
}

/// The inventory view by the reference path, flake-parts and clan-core evaluated as flakes
/// from the corpus (store paths of the flake and clan-core written as `@CASE@`/`@CORE@`).
fn reference(dir: &Path) -> serde_json::Value {
    let opts = reference_options();
    let mut ev = kith_flake::evaluator(EvalOptions::default(), false);
    let f = kith_flake::load(&mut ev, dir, &opts).unwrap();
    let mut text = |sel: &str| {
        let v = kith_flake::select_output(&mut ev, &f, "case", sel).unwrap();
        kith_eval::to_json_string(&mut ev, &v).unwrap_or_else(|e| panic!("{}", e.message))
    };
    let core: String = serde_json::from_str(&text(".inputs.clan-core.outPath")).unwrap();
    let out: String = serde_json::from_str(&text(".outPath")).unwrap();
    let json = text("clanInternals.inventoryClass.inventorySerialization");
    serde_json::from_str(&json.replace(&core, "@CORE@").replace(&out, "@CASE@")).unwrap()
}

/// Definitions written inline in `clan` (renamed to `flake.clan`: their file is clan-core's
/// flake module) or in `flake.clan` (their file is the flake's): settings name the file, and
/// the native answer equals the one of flake-parts and clan-core's own code.
#[test]
fn inline_definitions_as_flake_parts_gives_them() {
    let settings = "meta.name = \"t\"; modules.roster = ./roster.nix; inventory.machines.m.tags = [ \"x\" ]; inventory.instances.i = { module.name = \"roster\"; module.input = \"self\"; roles.primary.machines.m.settings.zone = \"z\"; roles.replica.tags.x = { }; };";
    let roster = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/cases/07-inventory-function/modules/roster.nix"),
    )
    .unwrap();
    let imported = format!("{{ {settings} }}");
    let variants = [
        (
            "inline-clan",
            "clan",
            settings,
            "@CORE@/flakeModules/clan.nix",
        ),
        (
            "inline-flake-clan",
            "flake.clan",
            settings,
            "@CASE@/flake.nix",
        ),
        ("imported", "clan", "imports = [ ./c.nix ];", "@CASE@/c.nix"),
    ];
    for (name, option, body, from) in variants {
        let Some(dir) = flake(
            name,
            &format!("flake-parts.lib.mkFlake {{ inherit inputs; }} {{ imports = [ {MODULE} ]; systems = [ \"x86_64-linux\" ]; {option} = {{ {body} }}; }}"),
            &[
                ("roster.nix", &roster),
                // Tags from inventory.json and Nix: their order is the modules' order.
                ("inventory.json", r#"{ "machines": { "m": { "tags": [ "json" ] } } }"#),
                ("c.nix", &imported),
            ],
        ) else {
            return;
        };
        let opts = FlakeOptions {
            overrides: vec![
                ("clan-core".into(), common::corpus_path("clan-core")),
                ("nixpkgs".into(), common::corpus_path("nixpkgs-lib")),
            ],
            ..FlakeOptions::default()
        };
        let mut ev = kith_flake::evaluator(EvalOptions::default(), false);
        let clan = kith_inventory::clan::load(&mut ev, &dir, &opts).unwrap();
        let v = kith_inventory::serialize::inventory_serialization(&mut ev, &clan).unwrap();
        let json = ev.to_json(&v).unwrap().to_string();
        let flake = ev.force_attrs(&clan.flake).unwrap();
        let out = ev
            .force_string(flake.get_str("outPath").unwrap())
            .unwrap()
            .encoded()
            .into_owned();
        let native: serde_json::Value =
            serde_json::from_str(&json.replace(&clan.core, "@CORE@").replace(&out, "@CASE@"))
                .unwrap();
        let want = reference(&dir);
        assert_eq!(native, want, "{name}");
        let file = &want["instances"]["i"]["roles"]["primary"]["machines"]["m"]["settings"]
            ["imports"][0]["_file"];
        let via = "via option flake.clan.inventory.instances.i.roles.primary.machines.m.settings";
        assert_eq!(file, &serde_json::json!(format!("{from}, {via}")), "{name}");
    }
}

/// The native answer equals flake-parts' and clan-core's where it depends on the depth of
/// the user's modules beside clan-core's own: builtin `mkDefault` tags beside the user's in
/// imported files (`clan` and `flake.clan`, imports one and two deep), and a clan whose
/// meta is only in its inventory (top-level `meta` defaults to `{ }`).
#[test]
fn module_depth_as_flake_parts_gives_it() {
    let tags = "{ lib, ... }: { inventory.tags.all = lib.mkDefault [ \"z\" ]; inventory.tags.nixos = lib.mkDefault [ \"n\" ]; inventory.machines.a.tags = [ \"p\" ]; }";
    let variants = [
        (
            "depth-clan",
            "clan",
            "meta.name = \"t\"; imports = [ ./p.nix ];",
        ),
        (
            "depth-clan-nested",
            "clan",
            "meta.name = \"t\"; imports = [ ./c.nix ];",
        ),
        (
            "depth-flake-clan",
            "flake.clan",
            "meta.name = \"t\"; imports = [ ./c.nix ];",
        ),
        (
            "depth-meta",
            "clan",
            "inventory.meta.name = \"t\"; imports = [ ./c.nix ];",
        ),
    ];
    for (name, option, body) in variants {
        let Some(dir) = flake(
            name,
            &format!("flake-parts.lib.mkFlake {{ inherit inputs; }} {{ imports = [ {MODULE} ]; systems = [ \"x86_64-linux\" ]; {option} = {{ {body} inventory.machines.a.tags = [ \"top\" ]; }}; }}"),
            &[("p.nix", tags), ("c.nix", "{ imports = [ ./p.nix ]; }")],
        ) else {
            return;
        };
        // No instances: the view holds no store path.
        let (entry, native) = inventory(&dir).unwrap();
        assert_eq!(entry, "flake-parts");
        assert_eq!(native, reference(&dir), "{name}");
    }
}

/// A conflict inside the clan names the option under `flake.clan`, as flake-parts does.
#[test]
fn conflict_names_the_flake_clan_option() {
    let Some(dir) = flake(
        "conflict",
        &format!("flake-parts.lib.mkFlake {{ inherit inputs; }} {{ imports = [ {MODULE} ./other.nix ]; clan = {{ meta.name = \"t\"; inventory.machines.m.description = \"a\"; }}; }}"),
        &[("other.nix", "{ flake.clan.inventory.machines.m.description = \"b\"; }")],
    ) else {
        return;
    };
    // `clan` and `flake.clan` both defined: not modelled.
    unsupported(inventory(&dir), "both `clan` and `flake.clan`");
    std::fs::write(
        dir.join("other.nix"),
        "{ clan.inventory.machines.m.description = \"b\"; }",
    )
    .unwrap();
    let want = "The option `flake.clan.inventory.machines.m.description' has conflicting definition values:";
    match inventory(&dir) {
        Err(Error::Eval(e)) => assert!(e.message.starts_with(want), "{}", e.message),
        _ => panic!("expected the conflict"),
    }
    let opts = reference_options();
    let mut ev = kith_flake::evaluator(EvalOptions::default(), false);
    let f = kith_flake::load(&mut ev, &dir, &opts).unwrap();
    let sel = "clanInternals.inventoryClass.inventorySerialization";
    let e = kith_flake::select_output(&mut ev, &f, "case", sel)
        .and_then(|v| kith_eval::to_json_string(&mut ev, &v))
        .unwrap_err();
    assert!(e.message.starts_with(want), "{}", e.message);
}
