//! Validated edits of `inventory.json` (`kith_planner::edit`): clan's write rules, the
//! engine's refusals (the file byte-identical afterwards), the file's format, `--dry-run`,
//! and round trips through `select` with the plan cache invalidated precisely.
//!
//! Most tests use `tests/edit-clan`, which needs no `../shared`; the rest copy conformance
//! cases and skip without the corpus.

#[path = "../../eval/tests/common/mod.rs"]
mod common;

use kith_flake::FlakeOptions;
use kith_planner::edit::{self, Edit, EditError, RoleMembers};
use kith_planner::select::select;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Tests that use the plan cache set `KITH_CACHE_DIR` (process-wide): one at a time.
static CACHE_ENV: Mutex<()> = Mutex::new(());

/// A copy of `from` in a fresh temporary directory.
fn copy(from: &Path, name: &str) -> PathBuf {
    let tmp = std::env::temp_dir().join(format!("kith-edit-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    common::fixtures::copy_dir(from, &tmp);
    // An answer is not cached if its flake changed while it was computed (or in the
    // clock tick before): the copy must be older than that.
    std::thread::sleep(std::time::Duration::from_millis(20));
    tmp
}

/// A copy of `tests/edit-clan`.
fn own_clan(name: &str) -> PathBuf {
    copy(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/edit-clan"),
        name,
    )
}

fn offline() -> FlakeOptions {
    FlakeOptions {
        offline: true,
        ..Default::default()
    }
}

fn set(path: &str, json: &str) -> Edit {
    Edit::Set(
        edit::parse_path(path).unwrap(),
        edit::parse_value(json).unwrap(),
    )
}

fn delete(path: &str) -> Edit {
    Edit::Delete(edit::parse_path(path).unwrap())
}

fn file(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("inventory.json")).unwrap()
}

/// Runs `e`, which must be refused with a message containing `expected`; the file must
/// be byte-identical afterwards (or still absent).
fn refused(dir: &Path, opts: &FlakeOptions, e: &Edit, expected: &str) -> EditError {
    let before = std::fs::read(dir.join("inventory.json")).ok();
    let err = edit::edit(dir, opts, e, false).expect_err(expected);
    assert!(err.to_string().contains(expected), "{e:?}: {err}");
    assert_eq!(
        std::fs::read(dir.join("inventory.json")).ok(),
        before,
        "{e:?} changed the file"
    );
    err
}

/// The value `select` gives for `selector`.
fn selected(dir: &Path, opts: &FlakeOptions, selector: &str) -> String {
    select(dir, selector, opts, true).unwrap().text
}

#[test]
fn write_rules() {
    let dir = own_clan("rules");
    let o = offline();
    // Priority 100 in Nix, absent from the file: read-only.
    refused(
        &dir,
        &o,
        &set("meta.name", "\"x\""),
        "Path 'meta.name' is readonly. - It seems its value is statically defined in nix.",
    );
    // Priority < 100: read-only, and so is everything below it.
    refused(
        &dir,
        &o,
        &set("machines.gamma.description", "\"y\""),
        "Path 'machines.gamma.description' is readonly.",
    );
    // A module's name defined in Nix.
    refused(
        &dir,
        &o,
        &set("instances.greet.module.name", "\"other\""),
        "Path 'instances.greet.module.name' is readonly.",
    );
    // Priority > 100 (mkDefault): writable although the file does not have it.
    let out = edit::edit(
        &dir,
        &o,
        &set("machines.gamma.machineClass", "\"darwin\""),
        false,
    )
    .unwrap();
    assert!(out.written);
    assert!(selected(
        &dir,
        &o,
        "clanInternals.inventoryClass.inventorySerialization.machines.gamma.machineClass"
    )
    .contains("darwin"));
    // Priority 100 and already in the file: writable.
    edit::edit(
        &dir,
        &o,
        &set("machines.alpha.description", "\"changed\""),
        false,
    )
    .unwrap();
    // Only a default (1500): writable.
    edit::edit(
        &dir,
        &o,
        &set("machines.beta.description", "\"from the file\""),
        false,
    )
    .unwrap();
    // A list at 100 is mergeable: the file holds only what Nix does not.
    refused(&dir, &o, &set("machines.beta.tags", "[\"extra\"]"), "Path 'machines.beta.tags' doesn't contain static items ['web', 'all', 'nixos'] - They are readonly - since they are defined via a .nix file");
    edit::edit(
        &dir,
        &o,
        &set(
            "machines.beta.tags",
            "[\"all\", \"nixos\", \"web\", \"extra\"]",
        ),
        false,
    )
    .unwrap();
    refused(
        &dir,
        &o,
        &set("machines.alpha.tags", "[\"a\", \"a\"]"),
        "Path 'machines.alpha.tags' contains list duplicates: ['a'] - List values must be unique.",
    );
    // A value of another type.
    refused(&dir, &o, &set("machines.alpha.description", "1"), "Type mismatch for path 'machines.alpha.description'. Cannot update <class 'str'> with <class 'int'>");
    assert_eq!(
        file(&dir),
        "{\n  \"machines\": {\n    \"alpha\": {\n      \"description\": \"changed\",\n      \"tags\": [\n        \"db\"\n      ]\n    },\n    \"gamma\": {\n      \"machineClass\": \"darwin\"\n    },\n    \"beta\": {\n      \"description\": \"from the file\",\n      \"tags\": [\n        \"extra\"\n      ]\n    }\n  }\n}\n"
    );
    let tags = selected(
        &dir,
        &o,
        "clanInternals.inventoryClass.inventorySerialization.machines.beta.tags",
    );
    assert!(tags.contains("extra") && tags.contains("web"), "{tags}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn deletion_rules() {
    let dir = own_clan("delete");
    let o = offline();
    // Defined in Nix: not deletable.
    refused(&dir, &o, &delete("machines.beta"), "Cannot delete path 'machines.beta' - 'beta' is either required; or is set stacially via .nix files.");
    // The children of a submodule are fixed.
    refused(
        &dir,
        &o,
        &delete("machines.alpha.description"),
        "Cannot delete path 'machines.alpha.description' - 'description' is either required;",
    );
    refused(
        &dir,
        &o,
        &delete("machines.nobody"),
        "Cannot delete path 'machines.nobody' - it is not in the inventory.",
    );
    // Defined in inventory.json only (alpha's directory defines it too: refused) …
    refused(
        &dir,
        &o,
        &delete("machines.alpha"),
        "Cannot delete path 'machines.alpha'",
    );
    // … but a machine only the file defines can go.
    edit::edit(
        &dir,
        &o,
        &Edit::AddMachine {
            name: "delta".into(),
            tags: vec![],
            description: Some("temp".into()),
            machine_class: None,
        },
        false,
    )
    .unwrap();
    assert!(file(&dir).contains("delta"));
    edit::edit(&dir, &o, &delete("machines.delta"), false).unwrap();
    assert_eq!(
        file(&dir),
        std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/edit-clan/inventory.json")
        )
        .unwrap()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn engine_refusals_leave_the_file_untouched() {
    let dir = own_clan("refusals");
    let o = offline();
    refused(&dir, &o, &set("instances.greet.roles.server.machines.ghost", "{}"), "Instance 'greet': Role: 'server' - Unknown machine reference: ['ghost']. Use one of {'alpha', 'beta', 'gamma'}");
    refused(&dir, &o, &set("instances.greet.roles.client.tags.nosuch", "{}"), "Service instance 'greet': - client tags: no machine with tag 'nosuch' found.\nAvailable tags: [\"db\",\"all\",\"nixos\",\"web\"]");
    let e = refused(
        &dir,
        &o,
        &set("instances.greet.roles.boss", "{}"),
        "Instance: 'instances.greet' uses the following roles:",
    );
    assert!(
        e.to_string()
            .contains("But the clan-service module 'hello' only defines roles:"),
        "{e}"
    );
    let server_alpha = || {
        vec![(
            "server".to_string(),
            RoleMembers {
                machines: vec!["alpha".into()],
                tags: vec![],
            },
        )]
    };
    let add =
        |module: &str, input: Option<&str>, roles: Vec<(String, RoleMembers)>| Edit::AddInstance {
            name: "second".into(),
            module: module.into(),
            input: input.map(str::to_string),
            roles,
        };
    refused(
        &dir,
        &o,
        &add("nosuch", Some("self"), server_alpha()),
        "flake input 'self' doesn't provide clan-module with name 'nosuch'.",
    );
    refused(
        &dir,
        &o,
        &add("hello", Some("nosuchinput"), server_alpha()),
        "Flake doesn't provide input with name 'nosuchinput'",
    );
    // The role's interface declares no options.
    refused(
        &dir,
        &o,
        &set("instances.greet.roles.server.settings", "{\"port\": 1}"),
        "The option `self-hello.instances.greet.roles.server.settings.port' does not exist.",
    );
    refused(&dir, &o, &set("machines.alpha.machineClass", "\"windows\""), "A definition for option `inventory.machines.alpha.machineClass' is not of type `one of \"nixos\", \"darwin\"'.");
    refused(
        &dir,
        &o,
        &Edit::AddMachine {
            name: "beta".into(),
            tags: vec![],
            description: None,
            machine_class: None,
        },
        "Machine 'beta' already exists in the inventory",
    );
    refused(
        &dir,
        &o,
        &add("hello", Some("self"), vec![]),
        "Creating a service instance requires adding roles",
    );
    // And a valid instance goes through.
    let roles = vec![
        (
            "server".into(),
            RoleMembers {
                machines: vec!["alpha".into()],
                tags: vec![],
            },
        ),
        (
            "client".into(),
            RoleMembers {
                machines: vec![],
                tags: vec!["web".into()],
            },
        ),
    ];
    let out = edit::edit(&dir, &o, &add("hello", Some("self"), roles), false).unwrap();
    assert!(out.written);
    let exports = selected(
        &dir,
        &o,
        "clanInternals.inventoryClass.inventorySerialization.instances.second.roles",
    );
    assert!(
        exports.contains("\"web\"") && exports.contains("\"alpha\""),
        "{exports}"
    );
    refused(
        &dir,
        &o,
        &add("hello", Some("self"), server_alpha()),
        "Instance 'second' already exists in the inventory",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dry_run_prints_the_diff_and_writes_nothing() {
    let dir = own_clan("dry-run");
    let o = offline();
    let before = std::fs::read(dir.join("inventory.json")).unwrap();
    let e = Edit::AddMachine {
        name: "delta".into(),
        tags: vec!["web".into()],
        description: Some("Ünïcode".into()),
        machine_class: Some("darwin".into()),
    };
    let out = edit::edit(&dir, &o, &e, true).unwrap();
    assert!(!out.written);
    assert_eq!(std::fs::read(dir.join("inventory.json")).unwrap(), before);
    assert_eq!(
        out.diff,
        "--- a/inventory.json\n+++ b/inventory.json\n@@ -5,6 +5,13 @@\n       \"tags\": [\n         \"db\"\n       ]\n+    },\n+    \"delta\": {\n+      \"description\": \"\\u00dcn\\u00efcode\",\n+      \"machineClass\": \"darwin\",\n+      \"tags\": [\n+        \"web\"\n+      ]\n     }\n   }\n }\n"
    );
    // The same edit for real gives the file the diff describes.
    let real = edit::edit(&dir, &o, &e, false).unwrap();
    assert_eq!(real.diff, out.diff);
    // Setting what is already there changes nothing.
    let same = edit::edit(
        &dir,
        &o,
        &set("machines.alpha.description", "\"first\""),
        false,
    )
    .unwrap();
    assert!(same.diff.is_empty() && !same.written);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_clan_without_inventory_json() {
    let dir = own_clan("no-file");
    std::fs::remove_file(dir.join("inventory.json")).unwrap();
    let o = offline();
    let out = edit::edit(
        &dir,
        &o,
        &set("machines.beta.description", "\"new\""),
        false,
    )
    .unwrap();
    assert!(out.written);
    // clan's writer: json.dump(indent=2), no newline at the end.
    assert_eq!(
        file(&dir),
        "{\n  \"machines\": {\n    \"beta\": {\n      \"description\": \"new\"\n    }\n  }\n}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn malformed_input_is_refused() {
    assert!(edit::parse_path("a..b").is_err());
    assert!(edit::parse_path("a.\"b").is_err());
    assert_eq!(
        edit::parse_path("machines.\"a.b\".tags").unwrap(),
        vec!["machines", "a.b", "tags"]
    );
    assert!(edit::parse_value("[1,").is_err());
    let dir = own_clan("malformed");
    std::fs::write(dir.join("inventory.json"), "{ \"machines\": ").unwrap();
    refused(
        &dir,
        &offline(),
        &set("machines.beta.description", "\"x\""),
        "Error decoding inventory file",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `text` without its lines naming the flake's store path (which any edit changes).
fn without_flake_path(text: &str) -> String {
    text.lines()
        .filter(|l| !l.contains("\"flake\": "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// An edit is seen by the next `select`: the cached inventory view is recomputed, and
/// of `clan.exports` only the edited instance's group is computed again.
#[test]
fn round_trip_invalidates_the_cache_precisely() {
    let _guard = CACHE_ENV.lock().unwrap_or_else(|e| e.into_inner());
    let what = "edit round trip";
    let Some(case) = common::present(
        &common::shared_path("conformance/cases/05-networking-services"),
        what,
    ) else {
        return;
    };
    if common::corpus("", what).is_none() {
        return;
    }
    let dir = copy(&case, "round-trip");
    let cache = dir.with_extension("cache");
    let _ = std::fs::remove_dir_all(&cache);
    std::env::set_var("KITH_CACHE_DIR", &cache);
    let opts = FlakeOptions {
        overrides: vec![
            ("clan-core".into(), common::corpus_path("clan-core")),
            ("nixpkgs".into(), common::corpus_path("nixpkgs-lib")),
        ],
        ..Default::default()
    };
    const DESC: &str = "clanInternals.inventoryClass.inventorySerialization.machines.*.description";
    let first = select(&dir, DESC, &opts, false).unwrap();
    let exports = select(&dir, "clan.exports", &opts, false).unwrap();
    assert!(exports.how.contains("0 from the cache"), "{}", exports.how);
    let warm = select(&dir, DESC, &opts, false).unwrap();
    assert!(warm.how.contains("cached plan"), "{}", warm.how);
    // A machine's description: the inventory view changes, no service group reads it.
    let m = first.text.split('"').nth(1).unwrap().to_string();
    edit::edit(
        &dir,
        &opts,
        &set(&format!("machines.{m}.description"), "\"edited by kith\""),
        false,
    )
    .unwrap();
    let after = select(&dir, DESC, &opts, false).unwrap();
    assert!(after.how.contains("native engine"), "{}", after.how);
    assert!(after.text.contains("edited by kith"), "{}", after.text);
    // Untouched groups come from the cache.
    let again = select(&dir, "clan.exports", &opts, false).unwrap();
    assert_eq!(
        without_flake_path(&again.text),
        without_flake_path(&exports.text)
    );
    assert!(
        again.how.contains("1 computed, 6 from the cache"),
        "{}",
        again.how
    );
    // A member added to one instance: that group is computed again, the others reused.
    edit::edit(
        &dir,
        &opts,
        &set("instances.tor.roles.server.machines.sara", "{}"),
        false,
    )
    .unwrap();
    let tor = select(&dir, "clan.exports", &opts, false).unwrap();
    assert!(
        tor.how.contains("1 computed, 6 from the cache"),
        "{}",
        tor.how
    );
    assert!(tor.text.contains("tor:tor:server:sara"), "{}", tor.text);
    assert_eq!(
        tor.text,
        select(&dir, "clan.exports", &opts, true).unwrap().text
    );
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&cache);
}

/// Settings are checked against the service's interface (types, enums, unknown options),
/// on a case whose service declares typed options; a good edit shows in the exports.
#[test]
fn settings_must_fit_the_interface() {
    let _guard = CACHE_ENV.lock().unwrap_or_else(|e| e.into_inner());
    let what = "edit settings";
    let Some(case) = common::present(
        &common::shared_path("conformance/cases/03-settings-merge"),
        what,
    ) else {
        return;
    };
    if common::corpus("", what).is_none() {
        return;
    }
    let dir = copy(&case, "settings");
    let opts = FlakeOptions {
        overrides: vec![
            ("clan-core".into(), common::corpus_path("clan-core")),
            ("nixpkgs".into(), common::corpus_path("nixpkgs-lib")),
        ],
        ..Default::default()
    };
    const M4: &str = "instances.tuning.roles.worker.machines.m4.settings";
    refused(
        &dir,
        &opts,
        &set(&format!("{M4}.mode"), "\"turbo\""),
        "A definition for option `self-knobs.instances.tuning.roles.worker.machines.m4.settings.mode' is not of type `one of \"fast\", \"safe\", \"off\"'.",
    );
    refused(
        &dir,
        &opts,
        &set(&format!("{M4}.port"), "70000"),
        "settings.port' is not of type `16 bit unsigned integer; between 0 and 65535 (both inclusive)'.",
    );
    refused(
        &dir,
        &opts,
        &set(&format!("{M4}.limits.stack"), "\"big\""),
        "Type mismatch for path 'instances.tuning.roles.worker.machines.m4.settings.limits.stack'. Cannot update <class 'int'> with <class 'str'>",
    );
    refused(
        &dir,
        &opts,
        &set(&format!("{M4}.colour"), "\"red\""),
        "The option `self-knobs.instances.tuning.roles.worker.machines.m4.settings.colour' does not exist.",
    );
    // Machine settings Nix defines: read-only there, unique-definition error if added to.
    refused(
        &dir,
        &opts,
        &set(
            "instances.tuning.roles.worker.machines.m1.settings.mode",
            "\"off\"",
        ),
        "is defined multiple times while it's expected to be unique.",
    );
    edit::edit(&dir, &opts, &set(&format!("{M4}.mode"), "\"off\""), false).unwrap();
    let exports = selected(&dir, &opts, "clan.exports");
    assert!(exports.contains("mode=off"), "{exports}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// In a git flake, Nix sees only tracked and staged files: a new `inventory.json` is
/// checked as if staged, and staged once written (clan's writer commits it).
#[test]
fn git_flake_new_inventory_json_is_staged() {
    let dir = own_clan("git");
    std::fs::remove_file(dir.join("inventory.json")).unwrap();
    let repo = git2::Repository::init(&dir).unwrap();
    common::git_commit(
        &dir,
        &[
            "flake.nix",
            "flake.lock",
            "clan.nix",
            "modules/hello.nix",
            "machines/alpha/.keep",
        ],
        "init",
    );
    let o = offline();
    refused(
        &dir,
        &o,
        &set("instances.greet.roles.server.machines.ghost", "{}"),
        "Unknown machine reference: ['ghost']",
    );
    let e = Edit::AddMachine {
        name: "delta".into(),
        tags: vec!["web".into()],
        description: None,
        machine_class: None,
    };
    let out = edit::edit(&dir, &o, &e, false).unwrap();
    assert!(out.written && out.staged, "{out:?}");
    assert!(repo
        .index()
        .unwrap()
        .get_path(Path::new("inventory.json"), 0)
        .is_some());
    let tags = selected(
        &dir,
        &o,
        "clanInternals.inventoryClass.inventorySerialization.machines.delta.tags",
    );
    assert!(tags.contains("\"web\""), "{tags}");
    // Staged already: the next edit only writes.
    let out = edit::edit(&dir, &o, &set("machines.delta.description", "\"d\""), false).unwrap();
    assert!(out.written && !out.staged, "{out:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
