//! `kith lint`: each rule triggered by a one-line edit of a copy of the bundled example clan
//! (which itself must be clean), located at the edited site, with its fix; the output
//! formats as snapshots; and no false positives (every `expected-error.txt` reported at its
//! line) on the shared conformance cases.

#[path = "../../eval/tests/common/corpus.rs"]
mod corpus;

use kith_flake::FlakeOptions;
use kith_planner::lint::{lint, render, Diagnostic, Report, Severity, RULES};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The engine keeps per-thread state while it loads a clan: one lint at a time.
static LOCK: Mutex<()> = Mutex::new(());

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/clan")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// A copy of the example clan with `edits` (file, text, replacement) applied.
struct Edited(PathBuf);

impl Edited {
    fn new(name: &str, edits: &[(&str, &str, &str)]) -> Edited {
        let dir = std::env::temp_dir().join(format!("kith-lint-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        copy_dir(&fixture(), &dir);
        for (file, from, to) in edits {
            let path = dir.join(file);
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(text.contains(from), "{file} has no {from:?}");
            std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
        }
        Edited(dir)
    }
}

impl Drop for Edited {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(dir: &Path, opts: &FlakeOptions) -> Report {
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    lint(dir, opts).unwrap()
}

/// The one diagnostic of `report` (anything else fails the test).
fn only(report: &Report) -> &Diagnostic {
    assert_eq!(
        report.diagnostics.len(),
        1,
        "{}",
        render::json_lines(report)
    );
    &report.diagnostics[0]
}

/// The first diagnostic of `report` that `pick` accepts; else the test fails, naming `what`
/// and showing the report as JSON Lines.
fn reported<'r>(
    report: &'r Report,
    what: &str,
    pick: impl Fn(&Diagnostic) -> bool,
) -> &'r Diagnostic {
    report
        .diagnostics
        .iter()
        .find(|d| pick(d))
        .unwrap_or_else(|| panic!("no {what}: {}", render::json_lines(report)))
}

/// The one diagnostic of `report`, which must be of rule `code` and start at `file`:`line`.
fn only_at<'r>(report: &'r Report, code: &str, file: &str, line: usize) -> &'r Diagnostic {
    let d = only(report);
    assert_eq!(
        (
            d.code,
            d.location.file.as_str(),
            d.location.range.start.line
        ),
        (code, file, line)
    );
    d
}

/// Lints the example clan with `edits`: exactly one diagnostic, of rule `code`, whose
/// span starts at `file`:`line` and covers `text`; returns it for further checks.
fn triggers(
    name: &str,
    edits: &[(&str, &str, &str)],
    code: &str,
    file: &str,
    line: usize,
    text: &str,
) -> (Report, Edited) {
    let dir = Edited::new(name, edits);
    let report = run(&dir.0, &FlakeOptions::default());
    let d = only_at(&report, code, file, line);
    let source = std::fs::read_to_string(dir.0.join(file)).unwrap();
    let r = &d.location.range;
    assert_eq!(&source[r.start.byte..r.end.byte], text);
    (report, dir)
}

/// The first fix's single edit, applied to its file: the file's new text.
fn fixed(dir: &Edited, d: &Diagnostic) -> String {
    let edit = &d.fixes[0].edits[0];
    let text = std::fs::read_to_string(dir.0.join(&edit.location.file)).unwrap();
    let r = &edit.location.range;
    format!(
        "{}{}{}",
        &text[..r.start.byte],
        edit.new_text,
        &text[r.end.byte..]
    )
}

#[test]
fn the_example_clan_is_clean() {
    let report = run(&fixture(), &FlakeOptions::default());
    // The clean side of each rule's trigger (`every_rule_triggered_and_rendered`).
    for r in RULES {
        assert!(
            report.diagnostics.iter().all(|d| d.code != r.id),
            "{} reported on the example clan:\n{}",
            r.id,
            render::json_lines(&report)
        );
    }
    assert!(
        report.diagnostics.is_empty(),
        "{}",
        render::json_lines(&report)
    );
    assert_eq!(render::json_lines(&report), "");
}

/// A copy of the example clan that triggers one rule: `edits` (file, text, replacement) as
/// for [`Edited::new`], and `add`, files (path, text) written into the copy.
struct Trigger {
    rule: &'static str,
    edits: &'static [(&'static str, &'static str, &'static str)],
    add: &'static [(&'static str, &'static str)],
}

/// The rules no edit of the example clan triggers, and why (every other rule of [`RULES`]
/// has a row in [`TRIGGERS`]). None today: even `eval-error` and `not-static` have one.
const UNTRIGGERED: &[(&str, &str)] = &[];

/// One trigger per rule: adding a rule to [`RULES`] means adding a row here (or to
/// [`UNTRIGGERED`], with the reason).
const TRIGGERS: &[Trigger] = &[
    Trigger {
        rule: "deprecated-meta-tld",
        edits: &[(
            "clan.nix",
            "    name = \"meadow\";\n",
            "    name = \"meadow\";\n    tld = \"meadow\";\n",
        )],
        add: &[],
    },
    Trigger {
        rule: "deprecated-string-extra-modules",
        edits: &[(
            "clan.nix",
            "roles.peer.tags = [ \"all\" ];",
            "roles.peer.tags = [ \"all\" ];\n        roles.peer.extraModules = [ \"modules/peer-extra.nix\" ];",
        )],
        add: &[("modules/peer-extra.nix", "{ }\n")],
    },
    Trigger {
        rule: "unknown-machine",
        edits: &[("clan.nix", "gateway.settings.host", "gatewy.settings.host")],
        add: &[],
    },
    Trigger {
        rule: "unknown-tag",
        edits: &[(
            "clan.nix",
            "roles.server.tags = [ \"server\" ]",
            "roles.server.tags = [ \"servr\" ]",
        )],
        add: &[],
    },
    Trigger {
        rule: "unknown-role",
        edits: &[(
            "clan.nix",
            "roles.client.machines",
            "roles.clients.machines",
        )],
        add: &[],
    },
    Trigger {
        rule: "duplicate-definition",
        edits: &[
            ("clan.nix", "\n{\n  meta = {", "\n{ lib, ... }:\n{\n  meta = {"),
            (
                "clan.nix",
                "  inventory = {\n    machines = {",
                "  inventory = lib.recursiveUpdate (import ./inventory-extra.nix) {\n    machines = {",
            ),
        ],
        add: &[(
            "inventory-extra.nix",
            "{\n  instances.tor.roles.server.tags = [ \"edge\" ];\n  instances.tor.roles.client.machines.studio = { };\n}\n",
        )],
    },
    Trigger {
        rule: "unknown-service",
        edits: &[("clan.nix", "name = \"tor\";", "name = \"torr\";")],
        add: &[],
    },
    Trigger {
        rule: "settings-unknown-key",
        edits: &[("clan.nix", "port = 2222;", "prot = 2222;")],
        add: &[],
    },
    Trigger {
        rule: "settings-type",
        edits: &[("clan.nix", "port = 2222;", "port = \"ssh\";")],
        add: &[],
    },
    Trigger {
        rule: "settings-missing-required",
        edits: &[(
            "clan.nix",
            "gateway.settings.host = \"gateway.example.net\";",
            "gateway = { };",
        )],
        add: &[],
    },
    Trigger {
        rule: "settings-enum",
        edits: &[
            USER_ENUM,
            ("clan.nix", "user = \"deploy\";", "user = \"depoly\";"),
        ],
        add: &[],
    },
    Trigger {
        // At most one zerotier network, and a second one.
        rule: "constraint-max-instances",
        edits: &[
            (
                "modules/zerotier.nix",
                "  manifest.constraints.roles.controller = {",
                "  manifest.constraints.maxInstances = 1;\n  manifest.constraints.roles.controller = {",
            ),
            (
                "clan.nix",
                "      zt = {\n",
                "      zt2 = {\n        module = {\n          name = \"zerotier\";\n          input = \"self\";\n        };\n        roles.controller.machines.nas = { };\n      };\n      zt = {\n",
            ),
        ],
        add: &[],
    },
    Trigger {
        // The zerotier controller role needs one machine.
        rule: "constraint-min-machines",
        edits: &[(
            "clan.nix",
            "roles.controller.machines.gateway = { };",
            "roles.controller.machines = { };",
        )],
        add: &[],
    },
    Trigger {
        // And at most one.
        rule: "constraint-max-machines",
        edits: &[(
            "clan.nix",
            "roles.controller.machines.gateway = { };",
            "roles.controller.machines = {\n          gateway = { };\n          nas = { };\n        };",
        )],
        add: &[],
    },
    Trigger {
        rule: "empty-instance",
        edits: &[(
            "clan.nix",
            "      zt = {\n",
            "      idle.module = { name = \"tor\"; input = \"self\"; };\n      zt = {\n",
        )],
        add: &[],
    },
    Trigger {
        // The zerotier peers are every machine: with only the servers, two machines are in
        // no instance.
        rule: "unused-machine",
        edits: &[(
            "clan.nix",
            "roles.peer.tags = [ \"all\" ]",
            "roles.peer.tags = [ \"server\" ]",
        )],
        add: &[],
    },
    Trigger {
        rule: "orphan-vars",
        edits: &[],
        add: &[(
            "vars/per-machine/gatewy/zerotier/zerotier-ip/value",
            "fd00::1\n",
        )],
    },
    Trigger {
        rule: "class-mismatch",
        edits: &[PEER_NIXOS_ONLY],
        add: &[],
    },
    Trigger {
        rule: "deprecated-inventory-services",
        edits: &[(
            "clan.nix",
            "    instances = {\n      internet = {",
            "    services.admin.default.roles.default.tags.all = { };\n    instances = {\n      internet = {",
        )],
        add: &[],
    },
    Trigger {
        rule: "parse-error",
        edits: &[("inventory.json", "\"web\": {", "\"web\" {")],
        add: &[],
    },
    Trigger {
        // The internet service's export reads a setting its interface does not declare.
        rule: "eval-error",
        edits: &[(
            "modules/internet.nix",
            "plain = settings.host;",
            "plain = settings.hostname;",
        )],
        add: &[],
    },
    Trigger {
        // The clan's own `clan.exports` definitions, which the engine does not model.
        rule: "not-static",
        edits: &[(
            "clan.nix",
            "  inventory = {\n",
            "  exports.\"meadow:extra::\".networking.priority = 10;\n\n  inventory = {\n",
        )],
        add: &[],
    },
];

/// The official SARIF 2.1.0 JSON schema (draft-07), as the crate `serde-sarif` ships it
/// (`src/schema.json` of its package, a never-compiled dev-dependency that cargo downloads
/// and `cargo metadata` locates), compiled once.
fn sarif_schema() -> &'static jsonschema::Validator {
    static SCHEMA: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(|| {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
        let out = std::process::Command::new(env!("CARGO"))
            .args(["metadata", "--format-version", "1", "--manifest-path"])
            .arg(&manifest)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cargo metadata: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let package = meta["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "serde-sarif")
            .expect("serde-sarif in the workspace's dev-dependencies");
        let dir = Path::new(package["manifest_path"].as_str().unwrap())
            .parent()
            .unwrap();
        let text = std::fs::read_to_string(dir.join("src/schema.json")).unwrap();
        let mut schema: serde_json::Value = serde_json::from_str(&text).unwrap();
        // The schema's `language` patterns have a stray `]`, a literal only in legacy
        // (non-Unicode) ECMAScript regexes: the validator, checking the schema against
        // draft-07 first, rejects them. Escaped, they mean what they meant (kith's SARIF
        // has no `language`).
        fn escape_language(v: &mut serde_json::Value) -> usize {
            const BAD: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";
            match v {
                serde_json::Value::Object(o) => o
                    .iter_mut()
                    .map(|(k, v)| match v {
                        serde_json::Value::String(s) if k == "pattern" && s == BAD => {
                            *s = r"^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\]?$".into();
                            1
                        }
                        v => escape_language(v),
                    })
                    .sum(),
                serde_json::Value::Array(a) => a.iter_mut().map(escape_language).sum(),
                _ => 0,
            }
        }
        assert!(escape_language(&mut schema) > 0);
        assert_eq!(
            schema["title"],
            "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
        );
        assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
        jsonschema::draft7::new(&schema).unwrap()
    })
}

/// Fails unless `sarif` is a valid SARIF 2.1.0 log.
fn assert_valid_sarif(what: &str, sarif: &str) {
    let log: serde_json::Value = serde_json::from_str(sarif).unwrap();
    let errors: Vec<String> = sarif_schema()
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: invalid SARIF:\n{}",
        errors.join("\n")
    );
}

/// Every rule, triggered by its row of [`TRIGGERS`]: its diagnostics (only them) as
/// snapshots in the human, JSON Lines and SARIF formats (`<rule>_human`, `<rule>_json`,
/// `<rule>_sarif`, the rule's `-` as `_`), the SARIF valid against the 2.1.0 schema.
#[test]
fn every_rule_triggered_and_rendered() {
    for r in RULES {
        let rows = TRIGGERS.iter().filter(|t| t.rule == r.id).count();
        let exempt = UNTRIGGERED.iter().any(|(id, _)| *id == r.id);
        assert!(
            rows + usize::from(exempt) == 1,
            "{}: needs exactly one row in TRIGGERS or UNTRIGGERED",
            r.id
        );
    }
    for t in TRIGGERS {
        assert!(
            RULES.iter().any(|r| r.id == t.rule),
            "{}: no such rule",
            t.rule
        );
        let dir = Edited::new(&format!("rule-{}", t.rule), t.edits);
        for (rel, text) in t.add {
            add_file(&dir, rel, text);
        }
        let report = run(&dir.0, &FlakeOptions::default());
        // Only the rule's own diagnostics (an edit may make another rule speak too).
        let only = Report {
            root: report.root.clone(),
            diagnostics: report
                .diagnostics
                .iter()
                .filter(|d| d.code == t.rule)
                .cloned()
                .collect(),
            suppressed: 0,
        };
        assert!(
            !only.diagnostics.is_empty(),
            "{}: not triggered:\n{}",
            t.rule,
            render::json_lines(&report)
        );
        let (human, json, sarif) = (
            render::human(&only, false),
            render::json_lines(&only),
            render::sarif(&only),
        );
        // Files relative to the clan: the copy's directory named nowhere.
        let root = dir.0.to_string_lossy();
        for out in [&human, &json, &sarif] {
            assert!(!out.contains(&*root), "{}: names {root}:\n{out}", t.rule);
        }
        assert_valid_sarif(t.rule, &sarif);
        let name = t.rule.replace('-', "_");
        insta::assert_snapshot!(format!("{name}_human"), human);
        insta::assert_snapshot!(format!("{name}_json"), json);
        insta::assert_snapshot!(format!("{name}_sarif"), sarif);
    }
}

#[test]
fn sarif_of_an_empty_report_is_valid() {
    let report = Report {
        root: fixture(),
        diagnostics: Vec::new(),
        suppressed: 0,
    };
    assert_valid_sarif("empty report", &render::sarif(&report));
}

/// The schema check can fail: a result with a level SARIF does not have is rejected.
#[test]
fn sarif_schema_rejects_a_wrong_level() {
    let dir = Edited::new(
        "sarif-level",
        &[("clan.nix", "gateway.settings.host", "gatewy.settings.host")],
    );
    let report = run(&dir.0, &FlakeOptions::default());
    let mut log: serde_json::Value = serde_json::from_str(&render::sarif(&report)).unwrap();
    assert_valid_sarif("unknown-machine", &log.to_string());
    log["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!sarif_schema().is_valid(&log));
}

#[test]
fn unknown_machine_in_nix_with_fix() {
    let (report, dir) = triggers(
        "machine",
        &[("clan.nix", "gateway.settings.host", "gatewy.settings.host")],
        "unknown-machine",
        "clan.nix",
        58,
        "gatewy",
    );
    let d = only(&report);
    assert_eq!(d.severity, Severity::Error);
    assert_eq!(d.fixes[0].edits[0].new_text, "gateway");
    assert!(fixed(&dir, d).contains("gateway.settings.host"));
    insta::assert_snapshot!("unknown_machine_github", render::github(&report));
}

#[test]
fn unknown_machine_in_inventory_json() {
    let (report, _dir) = triggers(
        "machine-json",
        &[(
            "inventory.json",
            "\"nas\": {\n              \"settings\"",
            "\"naz\": {\n              \"settings\"",
        )],
        "unknown-machine",
        "inventory.json",
        39,
        "naz",
    );
    assert_eq!(only(&report).fixes[0].edits[0].new_text, "nas");
}

#[test]
fn unknown_tag() {
    let (report, _dir) = triggers(
        "tag",
        &[(
            "clan.nix",
            "roles.server.tags = [ \"server\" ]",
            "roles.server.tags = [ \"servr\" ]",
        )],
        "unknown-tag",
        "clan.nix",
        76,
        "servr",
    );
    let d = only(&report);
    assert_eq!(d.severity, Severity::Warning);
    assert_eq!(d.fixes[0].edits[0].new_text, "server");
}

#[test]
fn unknown_tag_in_inventory_json_with_settings() {
    let (report, dir) = triggers(
        "tag-json",
        &[(
            "inventory.json",
            "\"laptop\": {\n              \"settings\"",
            "\"laptops\": {\n              \"settings\"",
        )],
        "unknown-tag",
        "inventory.json",
        71,
        "laptops",
    );
    let d = only(&report);
    assert!(fixed(&dir, d).contains("\"laptop\": {"));
}

#[test]
fn unknown_role() {
    let (report, _dir) = triggers(
        "role",
        &[(
            "clan.nix",
            "roles.client.machines",
            "roles.clients.machines",
        )],
        "unknown-role",
        "clan.nix",
        79,
        "clients",
    );
    assert_eq!(only(&report).fixes[0].edits[0].new_text, "client");
}

#[test]
fn unknown_service() {
    let (report, _dir) = triggers(
        "service",
        &[("clan.nix", "name = \"tor\";", "name = \"torr\";")],
        "unknown-service",
        "clan.nix",
        73,
        "torr",
    );
    assert_eq!(only(&report).fixes[0].edits[0].new_text, "tor");
}

#[test]
fn settings_unknown_key() {
    let (report, _dir) = triggers(
        "settings-key",
        &[("clan.nix", "port = 2222;", "prot = 2222;")],
        "settings-unknown-key",
        "clan.nix",
        61,
        "prot",
    );
    assert_eq!(only(&report).fixes[0].edits[0].new_text, "port");
}

#[test]
fn settings_unknown_key_in_inventory_json_with_fix() {
    let (report, dir) = triggers(
        "settings-key-json",
        &[(
            "inventory.json",
            "\"host\": \"nas.home.arpa\"",
            "\"hots\": \"nas.home.arpa\"",
        )],
        "settings-unknown-key",
        "inventory.json",
        41,
        "hots",
    );
    let d = only(&report);
    assert_eq!(d.fixes[0].edits[0].new_text, "host");
    assert!(fixed(&dir, d).contains("\"host\": \"nas.home.arpa\""));
}

#[test]
fn unknown_roles_all_located() {
    let (report, _dir) = triggers(
        "roles",
        &[
            (
                "clan.nix",
                "roles.client.machines",
                "roles.clients.machines",
            ),
            ("clan.nix", "roles.server.tags", "roles.servers.tags"),
        ],
        "unknown-role",
        "clan.nix",
        79,
        "clients",
    );
    let d = only(&report);
    let fixes: Vec<&str> = d
        .fixes
        .iter()
        .map(|f| f.edits[0].new_text.as_str())
        .collect();
    assert_eq!(fixes, ["client", "server"]);
    let other = d.notes.iter().find_map(|n| n.location.as_ref()).unwrap();
    assert_eq!(other.range.start.line, 76);
}

#[test]
fn settings_errors_of_one_instance_all_reported() {
    let dir = Edited::new(
        "settings-two",
        &[
            ("clan.nix", "port = 2222;", "prot = 2222;"),
            ("clan.nix", "jumphosts = [", "jmphosts = ["),
        ],
    );
    let report = run(&dir.0, &FlakeOptions::default());
    let got: Vec<_> = report
        .diagnostics
        .iter()
        .map(|d| (d.code, d.location.range.start.line))
        .collect();
    assert_eq!(
        got,
        [("settings-unknown-key", 61), ("settings-unknown-key", 66)]
    );
}

#[test]
fn role_settings_error_reported_once_at_its_key() {
    let dir = Edited::new(
        "settings-role",
        &[("inventory.json", "\"labels\": {", "\"lables\": {")],
    );
    let report = run(&dir.0, &FlakeOptions::default());
    only_at(&report, "settings-unknown-key", "inventory.json", 65);
}

#[test]
fn settings_type() {
    triggers(
        "settings-type",
        &[("clan.nix", "port = 2222;", "port = \"ssh\";")],
        "settings-type",
        "clan.nix",
        61,
        "port",
    );
}

/// The internet service's `user` as an enum (one edit of the service, valid for the
/// example clan as it is).
const USER_ENUM: (&str, &str, &str) = (
    "modules/internet.nix",
    "type = lib.types.nullOr lib.types.str;",
    "type = lib.types.nullOr (lib.types.enum [ \"root\" \"deploy\" \"admin\" ]);",
);

#[test]
fn settings_enum_with_fix() {
    let (report, dir) = triggers(
        "settings-enum",
        &[
            USER_ENUM,
            ("clan.nix", "user = \"deploy\";", "user = \"depoly\";"),
        ],
        "settings-enum",
        "clan.nix",
        62,
        "user",
    );
    let d = only(&report);
    assert_eq!(d.severity, Severity::Error);
    assert!(d
        .notes
        .iter()
        .any(|n| n.message == "allowed values: null, \"root\", \"deploy\", \"admin\""));
    assert_eq!(d.fixes[0].edits[0].new_text, "deploy");
    assert!(fixed(&dir, d).contains("user = \"deploy\";"));
}

#[test]
fn settings_enum_far_value_has_no_fix() {
    let (report, _dir) = triggers(
        "settings-enum-far",
        &[
            USER_ENUM,
            ("clan.nix", "user = \"deploy\";", "user = \"nobody\";"),
        ],
        "settings-enum",
        "clan.nix",
        62,
        "user",
    );
    assert!(only(&report).fixes.is_empty());
}

#[test]
fn settings_enum_still_clean_when_valid() {
    let dir = Edited::new("settings-enum-valid", &[USER_ENUM]);
    let report = run(&dir.0, &FlakeOptions::default());
    assert!(
        report.diagnostics.is_empty(),
        "{}",
        render::json_lines(&report)
    );
}

#[test]
fn settings_missing_required_when_the_service_reads_it() {
    // The internet service's exports read `host`, which has no default.
    let (report, _dir) = triggers(
        "settings-missing",
        &[(
            "clan.nix",
            "gateway.settings.host = \"gateway.example.net\";",
            "gateway = { };",
        )],
        "settings-missing-required",
        "clan.nix",
        58,
        "gateway",
    );
    let d = only(&report);
    assert_eq!(d.severity, Severity::Error);
    assert!(d.message.contains("'host'"), "{}", d.message);
}

#[test]
fn settings_missing_required_not_when_unread() {
    // Without a default but read by nothing: no error in clan, nothing reported.
    let dir = Edited::new(
        "settings-unread",
        &[(
            "modules/internet.nix",
            "          port = lib.mkOption {",
            "          unused = lib.mkOption { type = lib.types.str; };\n          port = lib.mkOption {",
        )],
    );
    let report = run(&dir.0, &FlakeOptions::default());
    assert!(
        report.diagnostics.is_empty(),
        "{}",
        render::json_lines(&report)
    );
}

/// The zerotier peers' role configures NixOS machines only (studio, a darwin machine, is
/// a peer through the tag `all`).
const PEER_NIXOS_ONLY: (&str, &str, &str) = (
    "modules/zerotier.nix",
    "    description = \"A member of the network\";\n",
    "    description = \"A member of the network\";\n    perInstance = _: { nixosModule.networking.firewall.enable = true; };\n",
);

#[test]
fn class_mismatch_darwin_member_of_a_nixos_only_role() {
    let (report, _dir) = triggers(
        "class-mismatch",
        &[PEER_NIXOS_ONLY],
        "class-mismatch",
        "clan.nix",
        91,
        "peer",
    );
    let d = only(&report);
    assert_eq!(d.severity, Severity::Warning);
    assert!(d.message.contains("'studio'"), "{}", d.message);
    let site = d.notes.iter().find_map(|n| n.location.as_ref()).unwrap();
    assert_eq!(
        (site.file.as_str(), site.range.start.line),
        ("clan.nix", 28)
    );
}

#[test]
fn class_mismatch_not_with_a_darwin_module_or_extra_modules() {
    let both = (
        "modules/zerotier.nix",
        "    description = \"A member of the network\";\n",
        "    description = \"A member of the network\";\n    perInstance = _: { nixosModule.a = 1; darwinModule.a = 1; };\n",
    );
    let per_machine = (
        "modules/zerotier.nix",
        "    { machine, instances, ... }:\n    {\n",
        "    { machine, instances, ... }:\n    {\n      darwinModule.a = 1;\n",
    );
    for (name, edits) in [
        ("class-both", vec![both]),
        ("class-per-machine", vec![PEER_NIXOS_ONLY, per_machine]),
    ] {
        let dir = Edited::new(name, &edits);
        let report = run(&dir.0, &FlakeOptions::default());
        assert!(
            report.diagnostics.is_empty(),
            "{name}: {}",
            render::json_lines(&report)
        );
    }
    let dir = Edited::new(
        "class-extra",
        &[
            PEER_NIXOS_ONLY,
            (
                "clan.nix",
                "roles.peer.tags = [ \"all\" ];",
                "roles.peer.tags = [ \"all\" ];\n        roles.peer.extraModules = [ { } ];",
            ),
        ],
    );
    let report = run(&dir.0, &FlakeOptions::default());
    assert!(
        report.diagnostics.is_empty(),
        "{}",
        render::json_lines(&report)
    );
}

#[test]
fn deprecated_inventory_services() {
    triggers(
        "deprecated-services",
        &[(
            "clan.nix",
            "    instances = {\n      internet = {",
            "    services.admin.default.roles.default.tags.all = { };\n    instances = {\n      internet = {",
        )],
        "deprecated-inventory-services",
        "clan.nix",
        51,
        "services",
    );
}

#[test]
fn empty_instance() {
    triggers(
        "empty",
        &[(
            "clan.nix",
            "      zt = {\n",
            "      idle.module = { name = \"tor\"; input = \"self\"; };\n      zt = {\n",
        )],
        "empty-instance",
        "clan.nix",
        85,
        "idle",
    );
}

#[test]
fn unused_machine() {
    // The zerotier peers are every machine: with only the servers, two machines are in
    // no instance (one defined in Nix, one in inventory.json).
    let dir = Edited::new(
        "unused",
        &[(
            "clan.nix",
            "roles.peer.tags = [ \"all\" ]",
            "roles.peer.tags = [ \"server\" ]",
        )],
    );
    let report = run(&dir.0, &FlakeOptions::default());
    let got: Vec<_> = report
        .diagnostics
        .iter()
        .map(|d| {
            (
                d.code,
                d.severity,
                d.location.file.as_str(),
                d.location.range.start.line,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("unused-machine", Severity::Hint, "clan.nix", 28),
            ("unused-machine", Severity::Hint, "inventory.json", 17)
        ]
    );
    insta::assert_snapshot!("unused_machine_github", render::github(&report));
}

#[test]
fn parse_error_json() {
    triggers(
        "parse-json",
        &[("inventory.json", "\"web\": {", "\"web\" {")],
        "parse-error",
        "inventory.json",
        10,
        "{",
    );
}

#[test]
fn parse_error_nix() {
    let dir = Edited::new(
        "parse-nix",
        &[(
            "clan.nix",
            "tor = ./modules/tor.nix;",
            "tor = ./modules/tor.nix",
        )],
    );
    let report = run(&dir.0, &FlakeOptions::default());
    let d = only(&report);
    assert_eq!(
        (d.code, d.location.file.as_str()),
        ("parse-error", "clan.nix")
    );
    assert!((12..=13).contains(&d.location.range.start.line), "{d:?}");
}

/// Writes `text` to `rel` in the copy `dir` (creating its directories).
fn add_file(dir: &Edited, rel: &str, text: &str) {
    let path = dir.0.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn orphan_vars_at_first_value_with_nearest_machine() {
    let dir = Edited::new("orphan-vars", &[]);
    add_file(
        &dir,
        "vars/per-machine/gatewy/zerotier/zerotier-ip/value",
        "fd00::1\n",
    );
    add_file(
        &dir,
        "vars/per-machine/gatewy/zerotier/zerotier-identity-secret/secret",
        "{ \"data\": \"ENC[...]\" }\n",
    );
    let report = run(&dir.0, &FlakeOptions::default());
    let d = only(&report);
    assert_eq!(
        (
            d.code,
            d.severity,
            d.location.file.as_str(),
            d.location.range.start.line,
            d.location.range.end.byte
        ),
        (
            "orphan-vars",
            Severity::Warning,
            "vars/per-machine/gatewy/zerotier/zerotier-ip/value",
            1,
            0
        )
    );
    assert!(d.fixes.is_empty());
    assert!(d
        .notes
        .iter()
        .any(|n| n.message.contains("vars/per-machine/gatewy/")));
    assert!(d
        .notes
        .iter()
        .any(|n| n.message.contains("nearest machine 'gateway'")));
}

#[test]
fn orphan_vars_never_at_a_secret() {
    // Only secrets under vars/: the diagnostic stands at the machine's public sops key.
    let dir = Edited::new("orphan-vars-secret", &[]);
    add_file(&dir, "vars/per-machine/retired/ssh/key/secret", "{}\n");
    add_file(&dir, "sops/machines/retired/key.json", "{}\n");
    add_file(&dir, "sops/secrets/retired-age.key/secret", "{}\n");
    let report = run(&dir.0, &FlakeOptions::default());
    let d = only(&report);
    assert_eq!(
        (d.code, d.location.file.as_str()),
        ("orphan-vars", "sops/machines/retired/key.json")
    );
    assert!(d
        .notes
        .iter()
        .any(|n| n.message.contains("sops/secrets/retired-age.key/")));
    // With no public file at all: the directory itself.
    std::fs::remove_dir_all(dir.0.join("sops")).unwrap();
    let report = run(&dir.0, &FlakeOptions::default());
    assert_eq!(only(&report).location.file, "vars/per-machine/retired");
}

/// The conformance cases with clan-core's expected errors: `(case, file, line)` where
/// the error is reported.
const ERRORS: &[(&str, &str, usize)] = &[
    ("06-error-unknown-role", "clan.nix", 15),
    ("07-error-unknown-module", "clan.nix", 13),
    ("08-error-unknown-input", "clan.nix", 9),
    ("09-error-settings-unknown-option", "clan.nix", 12),
    ("10-error-settings-wrong-type", "clan.nix", 16),
    ("11-error-settings-json-and-nix", "clan.nix", 9),
    ("12-error-export-outside-scope", "clan.nix", 14),
    ("13-error-exports-not-declared", "clan.nix", 14),
];

/// Deliberate mistakes of the valid cases that clan only warns about, reports among
/// `clanInternals.cliChecks` (its expected.json) or never reports.
const KNOWN: &[(&str, &str)] = &[
    ("02-tags-and-roles", "unknown-machine"),
    ("02-tags-and-roles", "unknown-tag"),
    ("04-service-args-exports", "constraint-max-instances"),
    ("04-service-args-exports", "constraint-min-machines"),
    ("04-service-args-exports", "constraint-max-machines"),
];

/// The conformance cases' directory, the options they are evaluated with and their names
/// (sorted), if the corpus is present (else the test says so and passes).
fn conformance(what: &str) -> Option<(PathBuf, FlakeOptions, Vec<String>)> {
    let cases = corpus::present(&corpus::shared_path("conformance/cases"), what)?;
    let opts = corpus_opts(what)?;
    let mut names: Vec<String> = std::fs::read_dir(&cases)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Some((cases, opts, names))
}

/// The options the conformance cases are evaluated with (clan-core and nixpkgs' lib from
/// the corpus), if the corpus is present (else the test says so and passes).
fn corpus_opts(what: &str) -> Option<FlakeOptions> {
    corpus::present(&corpus::corpus_path("clan-core"), what)?;
    Some(FlakeOptions {
        overrides: vec![
            ("clan-core".into(), corpus::corpus_path("clan-core")),
            ("nixpkgs".into(), corpus::corpus_path("nixpkgs-lib")),
        ],
        ..FlakeOptions::default()
    })
}

/// The constraint rules say what clan's `cliChecks` says (its expected.json), one
/// diagnostic per check, each at a definition in the clan's files.
#[test]
fn constraints_as_clan_checks_them() {
    let what = "constraint rules on case 04";
    let Some(dir) = corpus::present(
        &corpus::shared_path("conformance/cases/04-service-args-exports"),
        what,
    ) else {
        return;
    };
    let Some(opts) = corpus_opts(what) else {
        return;
    };
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let checks = expected["cliChecks"].as_array().unwrap();
    assert_eq!(checks.len(), 3);
    let report = run(&dir, &opts);
    let found: Vec<&Diagnostic> = report
        .diagnostics
        .iter()
        .filter(|d| d.code.starts_with("constraint-"))
        .collect();
    assert_eq!(found.len(), checks.len(), "{}", render::json_lines(&report));
    for check in checks {
        let id = check["id"].as_str().unwrap();
        let code = if id.ends_with("-maxInstances") {
            "constraint-max-instances"
        } else if id.ends_with("-minMachines") {
            "constraint-min-machines"
        } else {
            "constraint-max-machines"
        };
        let d = found
            .iter()
            .find(|d| d.message == check["message"].as_str().unwrap())
            .unwrap_or_else(|| panic!("{id}: not reported"));
        assert_eq!(d.code, code, "{id}");
        assert_eq!(d.severity, Severity::Error, "{id}");
        assert!(
            dir.join(&d.location.file).is_file(),
            "{id}: {:?}",
            d.location
        );
        assert!(d.location.range.start.line > 0, "{id}");
        assert!(d.notes.iter().any(|n| n.message.contains(id)), "{id}");
    }
    let only = Report {
        root: report.root.clone(),
        diagnostics: found.into_iter().cloned().collect(),
        suppressed: 0,
    };
    insta::assert_snapshot!("constraints_json", render::json_lines(&only));
}

#[test]
fn conformance_cases() {
    let what = "lint of the conformance cases";
    let Some((cases, opts, names)) = conformance(what) else {
        return;
    };
    let mut errors_seen = 0;
    for name in &names {
        let dir = cases.join(name);
        let report = run(&dir, &opts);
        let serious: Vec<&Diagnostic> = report
            .diagnostics
            .iter()
            .filter(|d| d.severity <= Severity::Warning)
            .filter(|d| !KNOWN.contains(&(name.as_str(), d.code)))
            .collect();
        match ERRORS.iter().find(|(c, _, _)| c == name) {
            Some((_, file, line)) => {
                errors_seen += 1;
                assert!(dir.join("expected-error.txt").is_file(), "{name}");
                assert!(
                    serious.iter().any(|d| d.severity == Severity::Error
                        && d.location.file == *file
                        && d.location.range.start.line == *line),
                    "{name}: no error at {file}:{line}:\n{}",
                    render::json_lines(&report)
                );
            }
            None => {
                assert!(
                    !dir.join("expected-error.txt").exists(),
                    "{name}: add it to ERRORS"
                );
                assert!(
                    serious.is_empty(),
                    "{name}:\n{}",
                    render::json_lines(&report)
                );
            }
        }
        for (case, code) in KNOWN.iter().filter(|(c, _)| c == name) {
            assert!(
                report.diagnostics.iter().any(|d| d.code == *code),
                "{case}: {code} not reported"
            );
        }
    }
    assert_eq!(errors_seen, ERRORS.len());
}

#[test]
fn diagnostics_cached_until_the_clan_changes() {
    use kith_planner::lint::{lint_with, Config};
    let edited = Edited::new(
        "cached",
        &[(
            "clan.nix",
            "roles.controller.machines.gateway",
            "roles.controller.machines.gateway-x",
        )],
    );
    let cache = edited.0.with_extension("cache");
    let _ = std::fs::remove_dir_all(&cache);
    // Diagnostics are not cached if the clan changed while they were computed (or in
    // the clock tick before): the copy must be older than that.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let opts = FlakeOptions::default();
    let lint_cached = || {
        let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        lint_with(&edited.0, &opts, &Config::default(), Some(&cache)).unwrap()
    };
    let cold = lint_cached();
    assert!(cold.diagnostics.iter().any(|d| d.code == "unknown-machine"));
    let entries = std::fs::read_dir(&cache).unwrap().count();
    assert!(entries >= 2, "nothing stored in {}", cache.display());
    let warm = lint_cached();
    assert_eq!(warm.diagnostics, cold.diagnostics);
    // A change anywhere in the clan is seen: the mistake mended, another made.
    let nix = edited.0.join("clan.nix");
    let text = std::fs::read_to_string(&nix).unwrap();
    std::fs::write(
        &nix,
        text.replacen("machines.gateway-x", "machines.gateway", 1)
            .replacen(
                "roles.peer.tags = [ \"all\" ];",
                "roles.peer.tags = [ \"al\" ];",
                1,
            ),
    )
    .unwrap();
    let changed = lint_cached();
    let codes: Vec<&str> = changed.diagnostics.iter().map(|d| d.code).collect();
    assert!(
        codes.contains(&"unknown-tag") && !codes.contains(&"unknown-machine"),
        "{codes:?}"
    );
    assert_eq!(lint_cached().diagnostics, changed.diagnostics);
    std::fs::remove_dir_all(&cache).unwrap();
}

#[test]
fn deprecated_meta_tld_renamed_to_domain() {
    let (report, dir) = triggers(
        "deprecated-tld",
        &[(
            "clan.nix",
            "    name = \"meadow\";\n",
            "    name = \"meadow\";\n    tld = \"meadow\";\n",
        )],
        "deprecated-meta-tld",
        "clan.nix",
        6,
        "tld",
    );
    let d = only(&report);
    assert_eq!(d.severity, Severity::Warning);
    assert!(d
        .message
        .starts_with("`clan.meta.tld` has been deprecated in favor of `clan.meta.domain`."));
    insta::assert_snapshot!("deprecated_meta_tld_json", render::json_lines(&report));
    let text = fixed(&dir, d);
    assert!(text.contains("    domain = \"meadow\";\n"), "{text}");
    std::fs::write(dir.0.join("clan.nix"), text).unwrap();
    let report = run(&dir.0, &FlakeOptions::default());
    assert!(
        report.diagnostics.is_empty(),
        "{}",
        render::json_lines(&report)
    );
}

#[test]
fn deprecated_meta_tld_without_fix_when_domain_is_set() {
    let (report, _dir) = triggers(
        "deprecated-tld-domain",
        &[(
            "clan.nix",
            "    name = \"meadow\";\n",
            "    name = \"meadow\";\n    domain = \"meadow.lan\";\n    tld = \"meadow\";\n",
        )],
        "deprecated-meta-tld",
        "clan.nix",
        7,
        "tld",
    );
    let d = only(&report);
    assert!(d.fixes.is_empty());
    assert!(d.message.contains("no effect"), "{}", d.message);
}

#[test]
fn deprecated_string_extra_modules_as_a_path() {
    let edit = (
        "clan.nix",
        "roles.peer.tags = [ \"all\" ];",
        "roles.peer.tags = [ \"all\" ];\n        roles.peer.extraModules = [ \"modules/peer-extra.nix\" ];",
    );
    let dir = Edited::new("deprecated-extra-modules", &[edit]);
    add_file(&dir, "modules/peer-extra.nix", "{ }\n");
    let report = run(&dir.0, &FlakeOptions::default());
    let d = only(&report);
    assert_eq!(
        (
            d.code,
            d.severity,
            d.location.file.as_str(),
            d.location.range.start.line
        ),
        (
            "deprecated-string-extra-modules",
            Severity::Warning,
            "clan.nix",
            92
        )
    );
    assert_eq!(
        d.message,
        "String types for 'extraModules' will be deprecated - modules/peer-extra.nix"
    );
    let source = std::fs::read_to_string(dir.0.join("clan.nix")).unwrap();
    let r = &d.location.range;
    assert_eq!(
        &source[r.start.byte..r.end.byte],
        "\"modules/peer-extra.nix\""
    );
    let text = fixed(&dir, d);
    assert!(
        text.contains("roles.peer.extraModules = [ ./modules/peer-extra.nix ];"),
        "{text}"
    );
    insta::assert_snapshot!(
        "deprecated_string_extra_modules_json",
        render::json_lines(&report)
    );
    std::fs::write(dir.0.join("clan.nix"), text).unwrap();
    let report = run(&dir.0, &FlakeOptions::default());
    assert!(
        report.diagnostics.is_empty(),
        "{}",
        render::json_lines(&report)
    );
}

#[test]
fn deprecated_meta_tld_in_inventory_json() {
    let (report, dir) = triggers(
        "deprecated-tld-json",
        &[(
            "inventory.json",
            "{\n  \"machines\": {",
            "{\n  \"meta\": { \"tld\": \"meadow\" },\n  \"machines\": {",
        )],
        "deprecated-meta-tld",
        "inventory.json",
        2,
        "tld",
    );
    let text = fixed(&dir, only(&report));
    assert!(
        text.contains("\"meta\": { \"domain\": \"meadow\" }"),
        "{text}"
    );
}

#[test]
fn deprecated_string_extra_modules_in_inventory_json_at_its_key() {
    let (report, _dir) = triggers(
        "deprecated-extra-modules-json",
        &[(
            "inventory.json",
            "        \"default\": {\n          \"machines\": {",
            "        \"default\": {\n          \"extraModules\": [ \"modules/tor.nix\" ],\n          \"machines\": {",
        )],
        "deprecated-string-extra-modules",
        "inventory.json",
        38,
        "extraModules",
    );
    // JSON has no paths: no rewrite.
    assert!(only(&report).fixes.is_empty());
}

/// A scratch clan in the temporary directory, named after `name`: the conformance cases'
/// flake and `files` (path in the clan, text), with the corpus overrides; `None` (the test
/// then passes, having said why) where the corpus is absent.
fn scratch_clan(what: &str, name: &str, files: &[(&str, &str)]) -> Option<(PathBuf, FlakeOptions)> {
    let opts = corpus_opts(what)?;
    let cases = corpus::present(&corpus::shared_path("conformance/cases"), what)?;
    let dir = std::env::temp_dir().join(format!("kith-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        cases.join("01-machine-sources/flake.nix"),
        dir.join("flake.nix"),
    )
    .unwrap();
    for (rel, text) in files {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    Some((dir, opts))
}

/// `kith check` evaluates the exports of clan-core's yggdrasil (its interface declares an
/// option of type `listOf attrs`, which the native engine once did not model), whose
/// exports read a public var the clan lacks: an error of `clan.exports` that the check
/// reports.
#[test]
fn check_evaluates_exports_past_what_it_does_not_model() {
    use kith_planner::check::check;
    use kith_planner::lint::{Config, Run};
    let what = "kith check of a clan with an unmodelled interface";
    let Some((dir, opts)) = scratch_clan(
        what,
        "check-unmodelled",
        &[
            ("clan.nix", "{\n  meta.name = \"c\";\n  inventory.machines.jon = { };\n  inventory.instances.yggdrasil.roles.default.machines.jon = { };\n}\n"),
        ],
    ) else {
        return;
    };
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    for jobs in [1, 2] {
        let run = Run {
            cache_dir: None,
            jobs,
            progress: None,
            ..Run::default()
        };
        let checked = check(&dir, &opts, &Config::default(), &run).unwrap();
        assert!(!checked.passed(), "{}", render::json_lines(&checked.report));
        assert!(
            checked.report.diagnostics.iter().any(|d| d
                .message
                .contains("getPublicValue: Public value jon/yggdrasil/address not found!")),
            "{}",
            render::json_lines(&checked.report)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `kith check` asks the reference path where the native engine does not model the
/// exports (a service interface with a type whose `check` was replaced by `//`): an option the exports read without
/// a value is reported at the machine's settings, as clan-core's `clan.exports` fails.
/// `kith lint` only says the exports are unchecked (information).
#[test]
fn check_evaluates_by_reference_what_it_does_not_model() {
    use kith_planner::check::check;
    use kith_planner::lint::{Config, Run};
    let what = "kith check of a clan the native engine does not model";
    let Some((dir, opts)) = scratch_clan(
        what,
        "check-by-reference",
        &[
            (
                "modules/m.nix",
                r#"{ lib, ... }:
{
  _class = "clan.service";
  manifest.name = "m";
  manifest.exports.out = [ "endpoints" ];
  roles.default.interface = { lib, ... }: {
    options.x = lib.mkOption { type = lib.types.either lib.types.str lib.types.int; default = 1; };
    options.y = lib.mkOption { type = lib.types.either lib.types.str lib.types.int // { check = _: true; }; };
  };
  roles.default.perInstance = { settings, mkExports, ... }: {
    exports = mkExports { endpoints.hosts = [ (toString settings.x) (toString settings.y) ]; };
  };
}
"#,
            ),
            (
                "clan.nix",
                r#"{
  meta.name = "c";
  modules.m = ./modules/m.nix;
  inventory.machines.max = { };
  inventory.instances.m = {
    module = { name = "m"; input = "self"; };
    roles.default.machines.max.settings.x = "a";
  };
}
"#,
            ),
        ],
    ) else {
        return;
    };
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let unset = "settings.y' was accessed but has no value defined";
    for jobs in [1, 2] {
        let run = Run {
            jobs,
            ..Run::default()
        };
        let checked = check(&dir, &opts, &Config::default(), &run).unwrap();
        let found = reported(&checked.report, "error for the unset option", |d| {
            d.notes.iter().any(|n| n.message.contains(unset)) || d.message.contains(unset)
        });
        let json = render::json_lines(&checked.report);
        assert_eq!(found.location.file, "clan.nix", "{json}");
        assert_eq!(found.location.range.start.line, 7, "{json}");
        let linted = kith_planner::lint::lint_run(&dir, &opts, &Config::default(), &run).unwrap();
        assert!(
            linted
                .report
                .diagnostics
                .iter()
                .all(|d| d.severity != kith_planner::lint::Severity::Error),
            "{}",
            render::json_lines(&linted.report)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `kith check` reports a service's broken constraints beside its instances' settings
/// errors: clan's `cliChecks` counts the roles' members without evaluating any settings.
#[test]
fn check_reports_constraints_past_settings_errors() {
    use kith_planner::check::check;
    use kith_planner::lint::{Config, Run};
    let what = "kith check of constraints beside a settings error";
    // zerotier needs one controller; the peer's `orbitMoons` is a list of strings.
    let Some((dir, opts)) = scratch_clan(
        what,
        "check-constraints",
        &[(
            "clan.nix",
            r#"{
  meta.name = "c";
  inventory.machines.jon = { };
  inventory.instances.zerotier.roles.peer.machines.jon.settings.orbitMoons = [ 3 ];
}
"#,
        )],
    ) else {
        return;
    };
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    for jobs in [1, 2] {
        let run = Run {
            jobs,
            ..Run::default()
        };
        let checked = check(&dir, &opts, &Config::default(), &run).unwrap();
        let json = render::json_lines(&checked.report);
        let codes: Vec<&str> = checked.report.diagnostics.iter().map(|d| d.code).collect();
        assert!(codes.contains(&"settings-type"), "{json}");
        assert!(codes.contains(&"constraint-min-machines"), "{json}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// An export under an interface the service does not declare is reported at its
/// definition in the service module (the module system's message names the file and the
/// role's `perInstance`, not a position).
#[test]
fn check_locates_undeclared_export_interfaces() {
    use kith_planner::check::check;
    use kith_planner::lint::{Config, Run};
    let what = "kith check of an undeclared export interface";
    let Some((dir, opts)) = scratch_clan(
        what,
        "check-export-site",
        &[
            (
                "modules/m.nix",
                r#"{ ... }:
{
  _class = "clan.service";
  manifest.name = "m";
  manifest.exports.out = [ "endpoints" ];
  roles.default.perInstance =
    { mkExports, machine, ... }:
    {
      exports = mkExports {
        endpoints.hosts = [ machine.name ];
        peer.hosts = [ { plain = machine.name; } ];
      };
    };
}
"#,
            ),
            (
                "clan.nix",
                "{
  meta.name = \"c\";
  modules.m = ./modules/m.nix;
  inventory.machines.jon = { };
  inventory.instances.m = {
    module = { name = \"m\"; input = \"self\"; };
    roles.default.machines.jon = { };
  };
}
",
            ),
        ],
    ) else {
        return;
    };
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let checked = check(&dir, &opts, &Config::default(), &Run::default()).unwrap();
    let json = render::json_lines(&checked.report);
    let d = reported(&checked.report, "error for the undeclared interface", |d| {
        d.message.contains(".peer' does not exist")
    });
    assert_eq!(d.location.file, "modules/m.nix", "{json}");
    assert_eq!(
        (d.location.range.start.line, d.location.range.start.column),
        (11, 9),
        "{json}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// An inventory field no rule reads that fails (two icons for one machine) and the removed
/// `inventory.services` are reported at their definitions, and the other rules still run
/// (clan-core evaluates them only where they are read: its exports evaluate, with a
/// warning for the unknown tag).
#[test]
fn lint_goes_on_past_a_failing_machine_field() {
    use kith_planner::lint::{Config, Run};
    let what = "kith lint past a failing machine field";
    let Some((dir, opts)) = scratch_clan(
        what,
        "lint-tolerant",
        &[
            ("clan.nix", "{\n  meta.name = \"c\";\n  imports = [ ./icon.nix ];\n  inventory.machines.jon.icon = \"a\";\n  inventory.services.admin.default.roles.default.tags.all = { };\n  inventory.instances.internet.roles.default.tags = [ \"nosuch\" ];\n}\n"),
            ("icon.nix", "{\n  inventory.machines.jon.icon = \"b\";\n}\n"),
        ],
    ) else {
        return;
    };
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let linted =
        kith_planner::lint::lint_run(&dir, &opts, &Config::default(), &Run::default()).unwrap();
    let json = render::json_lines(&linted.report);
    let codes: Vec<&str> = linted.report.diagnostics.iter().map(|d| d.code).collect();
    assert!(codes.contains(&"unknown-tag"), "{json}");
    assert!(codes.contains(&"deprecated-inventory-services"), "{json}");
    let icon = reported(&linted.report, "error for the icons", |d| {
        d.message.contains("inventory.machines.jon.icon")
    });
    assert_eq!(icon.code, "eval-error", "{json}");
    assert!(
        ["clan.nix", "icon.nix"].contains(&icon.location.file.as_str()),
        "{json}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A role's tag selects the machines whose `tags` hold it, as clan-core's `resolveTags`
/// does: `nixos` lists every NixOS machine in `inventory.tags`, but a machine whose tags
/// are forced carries none of the builtin ones, and clan-core warns that no machine has
/// the tag. The machine settings' type error does not keep the rules from running.
#[test]
fn unknown_tag_is_a_tag_no_machine_carries() {
    use kith_planner::lint::{Config, Run};
    let what = "kith lint of a tag only inventory.tags lists";
    let Some((dir, opts)) = scratch_clan(
        what,
        "lint-carried",
        &[
            ("clan.nix", "{ lib, ... }:\n{\n  meta.name = \"c\";\n  inventory.machines.jon.tags = lib.mkForce [ \"web\" ];\n  inventory.machines.sara.tags = lib.mkForce [ ];\n  inventory.instances.internet.roles.default.tags = [ \"nixos\" ];\n  inventory.instances.tor.roles.server.machines.sara.settings = 5;\n}\n"),
        ],
    ) else {
        return;
    };
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let linted =
        kith_planner::lint::lint_run(&dir, &opts, &Config::default(), &Run::default()).unwrap();
    let json = render::json_lines(&linted.report);
    let tag = reported(&linted.report, "unknown-tag", |d| d.code == "unknown-tag");
    assert!(tag.message.contains("names tag 'nixos'"), "{json}");
    assert_eq!(tag.location.range.start.line, 6, "{json}");
    assert!(
        linted
            .report
            .diagnostics
            .iter()
            .any(|d| d.severity == kith_planner::lint::Severity::Error
                && d.message.contains("machines.sara.settings")),
        "{json}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `kith check` on the conformance cases: each `expected-error.txt` case's error at its
/// file and line, no error on the valid cases but the deliberate ones, the same answer on
/// one thread and on two, and its progress told.
#[test]
fn check_conformance_cases() {
    use kith_planner::check::check;
    use kith_planner::lint::{Config, Progress, Run};
    let what = "kith check of the conformance cases";
    let Some((cases, opts, names)) = conformance(what) else {
        return;
    };
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    for name in &names {
        let dir = cases.join(name);
        let phases = std::cell::RefCell::new(Vec::new());
        let tell = |p: Progress| phases.borrow_mut().push(p.phase);
        let on = |jobs| {
            let run = Run {
                cache_dir: None,
                jobs,
                progress: Some(&tell),
                ..Run::default()
            };
            check(&dir, &opts, &Config::default(), &run).unwrap()
        };
        let one = on(1);
        let two = on(2);
        assert_eq!(one.report.diagnostics, two.report.diagnostics, "{name}");
        assert!(
            one.report
                .diagnostics
                .iter()
                .all(|d| d.severity == Severity::Error),
            "{name}"
        );
        match ERRORS.iter().find(|(c, _, _)| c == name) {
            Some((_, file, line)) => {
                assert!(!one.passed(), "{name}");
                assert!(
                    one.report
                        .diagnostics
                        .iter()
                        .any(|d| d.location.file == *file && d.location.range.start.line == *line),
                    "{name}: no error at {file}:{line}:\n{}",
                    render::json_lines(&one.report)
                );
            }
            None => {
                let unexpected: Vec<&Diagnostic> = one
                    .report
                    .diagnostics
                    .iter()
                    .filter(|d| !KNOWN.contains(&(name.as_str(), d.code)))
                    .collect();
                assert!(unexpected.is_empty(), "{name}: {unexpected:?}");
                assert!(
                    one.counts.machines > 0 && one.counts.instances > 0,
                    "{name}"
                );
                assert!(
                    phases.borrow().contains(&"checking instances"),
                    "{name}: {:?}",
                    phases.borrow()
                );
                assert!(one.summary().starts_with("checked "), "{}", one.summary());
            }
        }
    }
}

/// The example clan's instances merged with `recursiveUpdate` (nested) over a selection of
/// a `let`-bound import of a directory, whose file defines `extra`.
fn merged_fragments(name: &str, extra: &str) -> Edited {
    let dir = Edited::new(
        name,
        &[
            (
                "clan.nix",
                "\n{\n  meta = {",
                "\n{ lib, ... }:\nlet\n  core = import ./core { inherit lib; };\nin\n{\n  meta = {",
            ),
            (
                "clan.nix",
                "    instances = {\n",
                "    instances = lib.recursiveUpdate (lib.recursiveUpdate core.instances { }) {\n",
            ),
        ],
    );
    std::fs::create_dir_all(dir.0.join("core")).unwrap();
    std::fs::write(
        dir.0.join("core/default.nix"),
        format!("{{ lib }}:\nlet\n  x = 1;\nin\n{{\n{extra}  machines = {{ }};\n}}\n"),
    )
    .unwrap();
    dir
}

#[test]
fn duplicate_definition_through_nested_merges_selections_and_imports() {
    let dir = merged_fragments(
        "duplicate-nested",
        "  instances.tor.roles.server.tags = [ \"edge\" ];\n  instances.tor.roles.client.machines.studio = { };\n",
    );
    let report = run(&dir.0, &FlakeOptions::default());
    let d = only_at(&report, "duplicate-definition", "core/default.nix", 6);
    assert!(
        d.message.contains("`instances.tor.roles.server.tags`"),
        "{}",
        d.message
    );
    let kept = d.notes[0].location.as_ref().unwrap();
    assert_eq!(kept.file, "clan.nix");
}

#[test]
fn duplicate_definition_not_for_equal_values_or_merged_sets() {
    let dir = merged_fragments(
        "duplicate-none",
        "  instances.tor.roles.server.tags = [ \"server\" ];\n  instances.tor.roles.client.machines.studio = { };\n  instances.tor.roles.client.settings = lib.mkDefault { };\n",
    );
    let report = run(&dir.0, &FlakeOptions::default());
    assert!(
        !report
            .diagnostics
            .iter()
            .any(|d| d.code == "duplicate-definition"),
        "{}",
        render::json_lines(&report)
    );
}

/// An unsaved edit, read through an overlay of the buffers: the same diagnostics from one
/// thread (`lint_through`), from two (`lint_through_shared`, the exports evaluated on the
/// second) and from the edit saved to disk.
#[test]
fn unsaved_buffers_through_one_or_two_threads() {
    use kith_planner::lsp::overlay::OverlayFs;
    let dir = Edited::new("overlay", &[]);
    let path = dir.0.join("clan.nix");
    let text = std::fs::read_to_string(&path).unwrap();
    let unsaved = text.replacen("gateway.settings.host", "gatewy.settings.host", 1);
    let config = kith_planner::lint::Config::default();
    let opts = FlakeOptions::default();
    let overlay = OverlayFs::new([(path.as_path(), unsaved.as_str())]);
    let (local, shared) = {
        let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let local = kith_planner::lint::lint_through(
            &dir.0,
            &opts,
            &config,
            std::rc::Rc::new(overlay.clone()),
        )
        .unwrap();
        let shared = kith_planner::lint::lint_through_shared(
            &dir.0,
            &opts,
            &config,
            std::sync::Arc::new(overlay),
        )
        .unwrap();
        (local, shared)
    };
    std::fs::write(&path, &unsaved).unwrap();
    let saved = run(&dir.0, &opts);
    assert_eq!(render::json_lines(&local), render::json_lines(&saved));
    assert_eq!(render::json_lines(&shared), render::json_lines(&saved));
    assert_eq!(only(&shared).code, "unknown-machine");
}

/// A scalar where a service's interface declares a namespace of options (`sub = 5` for
/// `options.sub.x`) is a `settings-type` error at the definition, as the module system's
/// "rather than an attribute set" is a type error of the settings.
#[test]
fn a_scalar_for_a_namespace_of_options_is_a_settings_type_error() {
    use kith_planner::check::check;
    use kith_planner::lint::{Config, Run};
    let what = "kith check of a scalar for a namespace of options";
    let Some((dir, opts)) = scratch_clan(
        what,
        "namespace-scalar",
        &[
            (
                "modules/m.nix",
                r#"{ lib, ... }:
{
  _class = "clan.service";
  manifest.name = "m";
  manifest.exports.out = [ "endpoints" ];
  roles.default.interface = { lib, ... }: {
    options.sub.x = lib.mkOption { type = lib.types.int; default = 1; };
  };
  roles.default.perInstance = { settings, mkExports, ... }: {
    exports = mkExports { endpoints.hosts = [ (toString settings.sub.x) ]; };
  };
}
"#,
            ),
            (
                "clan.nix",
                r#"{
  meta.name = "c";
  modules.m = ./modules/m.nix;
  inventory.machines.max = { };
  inventory.instances.m = {
    module = { name = "m"; input = "self"; };
    roles.default.machines.max.settings.sub = 5;
  };
}
"#,
            ),
        ],
    ) else {
        return;
    };
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let run = Run::default();
    let checked = check(&dir, &opts, &Config::default(), &run).unwrap();
    let json = render::json_lines(&checked.report);
    let found = reported(&checked.report, "error for the scalar", |d| {
        d.message.contains("rather than an attribute set")
    });
    assert_eq!(found.code, "settings-type", "{json}");
    assert_eq!(found.location.file, "clan.nix", "{json}");
    assert_eq!(found.location.range.start.line, 7, "{json}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// clan-core's matrix-synapse declares an option without a type (`types.unspecified`)
/// and `monitoring` one of type `either`: their instances' settings are checked, a wrong
/// type reported at its definition, where kith once only said "not checked".
#[test]
fn check_checks_core_services_with_untyped_and_either_options() {
    use kith_planner::check::check;
    use kith_planner::lint::{lint_run, Config, Run, Severity};
    let what = "kith check of matrix-synapse and monitoring settings";
    let Some((dir, opts)) = scratch_clan(
        what,
        "check-untyped",
        &[(
            "clan.nix",
            r#"{
  meta.name = "c";
  inventory.machines.max = { };
  inventory.instances.matrix = {
    module.name = "matrix-synapse";
    roles.default.machines.max.settings = {
      app_domain = "matrix.example.org";
      server_tld = "example.org";
      acmeEmail = "admin@example.org";
      users.alice.admin = "yes";
    };
  };
  inventory.instances.monitoring = {
    module.name = "monitoring";
    roles.client.machines.max.settings.monitoredSystemdServices = 5;
  };
}
"#,
        )],
    ) else {
        return;
    };
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let run = Run::default();
    let checked = check(&dir, &opts, &Config::default(), &run).unwrap();
    let json = render::json_lines(&checked.report);
    for (option, line) in [
        ("users.alice.admin'", 10),
        ("monitoredSystemdServices'", 15),
    ] {
        let found = reported(
            &checked.report,
            &format!("settings-type error for {option}"),
            |d| d.code == "settings-type" && d.message.contains(option),
        );
        assert_eq!(found.location.file, "clan.nix", "{json}");
        assert_eq!(found.location.range.start.line, line, "{json}");
    }
    let linted = lint_run(&dir, &opts, &Config::default(), &run).unwrap();
    assert!(
        linted
            .report
            .diagnostics
            .iter()
            .all(|d| d.code != "not-static" && d.severity != Severity::Info),
        "{}",
        render::json_lines(&linted.report)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
