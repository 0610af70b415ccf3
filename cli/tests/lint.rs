//! `kith lint` as a command: formats, colours and exit codes on the bundled example clan
//! and on a copy of it with a mistake.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/clan")
}

/// `kith SUB --flake DIR ARGS…`, without colours or `CLAN_DIR`.
fn run(sub: &str, dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kith"))
        .arg(sub)
        .arg("--flake")
        .arg(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("CLAN_DIR")
        .output()
        .unwrap()
}

fn kith(dir: &Path, args: &[&str]) -> Output {
    run("lint", dir, args)
}

/// A copy of the example clan whose `zt` instance names an unknown machine (`name` keeps
/// the copies of tests running at once apart).
fn broken(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kith-cli-lint-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let status = Command::new("cp")
        .arg("-r")
        .arg(fixture())
        .arg(&dir)
        .status()
        .unwrap();
    assert!(status.success());
    let nix = dir.join("clan.nix");
    let text = std::fs::read_to_string(&nix).unwrap().replacen(
        "roles.controller.machines.gateway",
        "roles.controller.machines.gateway-x",
        1,
    );
    std::fs::write(&nix, text).unwrap();
    dir
}

#[test]
fn clean_clan_exits_zero() {
    let out = kith(&fixture(), &["--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stdout.is_empty());
    let out = kith(&fixture(), &[]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "0 error(s), 0 warning(s), 0 note(s)\n"
    );
}

#[test]
fn errors_exit_one_in_every_format() {
    let dir = broken("formats");
    let human = kith(&dir, &[]);
    assert_eq!(human.status.code(), Some(1));
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("unknown-machine") && text.contains("clan.nix:90:"),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'), "colours with NO_COLOR: {text}");
    let json = kith(&dir, &["--format", "json"]);
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&json.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // The service's own failure for the missing machine follows, where it is raised.
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["code"], "eval-error");
    assert_eq!(lines[1]["file"], "modules/zerotier.nix");
    assert_eq!(lines[0]["code"], "unknown-machine");
    assert_eq!(lines[0]["range"]["start"]["line"], 90);
    let sarif = kith(&dir, &["--format", "sarif"]);
    let log: serde_json::Value = serde_json::from_slice(&sarif.stdout).unwrap();
    let result = &log["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "unknown-machine");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "clan.nix"
    );
    let gh = kith(&dir, &["--format", "github"]);
    assert!(String::from_utf8_lossy(&gh.stdout).starts_with("::error file=clan.nix,line=90,"));
    assert_eq!(gh.status.code(), Some(1));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn not_a_flake_exits_two() {
    let out = kith(Path::new("/nonexistent-kith-lint"), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no flake.nix"));
}

#[test]
fn fix_dry_run_prints_the_diff_and_writes_nothing_then_fix_applies_it() {
    let dir = broken("fix");
    let nix = dir.join("clan.nix");
    let before = std::fs::read(&nix).unwrap();
    let dry = kith(&dir, &["--fix", "--dry-run"]);
    assert_eq!(dry.status.code(), Some(1), "{dry:?}");
    let diff = String::from_utf8_lossy(&dry.stdout);
    assert!(
        diff.starts_with("--- a/clan.nix\n+++ b/clan.nix\n"),
        "{diff}"
    );
    assert!(
        diff.contains("\n-        roles.controller.machines.gateway-x = { };\n")
            && diff.contains("\n+        roles.controller.machines.gateway = { };\n"),
        "{diff}"
    );
    assert_eq!(
        String::from_utf8_lossy(&dry.stderr),
        "would fix 1 problem(s) in 1 file(s)\n"
    );
    assert_eq!(std::fs::read(&nix).unwrap(), before, "a dry run wrote");

    let fixed = kith(&dir, &["--fix"]);
    assert_eq!(fixed.status.code(), Some(0), "{fixed:?}");
    assert_eq!(
        String::from_utf8_lossy(&fixed.stderr),
        "fixed 1 problem(s) in 1 file(s)\n"
    );
    assert_eq!(
        String::from_utf8_lossy(&fixed.stdout),
        "0 error(s), 0 warning(s), 0 note(s)\n"
    );
    let text = std::fs::read_to_string(&nix).unwrap();
    assert!(text.contains("roles.controller.machines.gateway = { };"));
    // Converged: nothing left to fix.
    let again = kith(&dir, &["--fix", "--dry-run"]);
    assert_eq!(again.status.code(), Some(0));
    assert!(again.stdout.is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn suppressed_by_the_config_file_and_by_an_inline_comment() {
    let dir = broken("suppress");
    let json = |dir: &Path| -> Vec<String> {
        let out = kith(dir, &["--format", "json"]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["code"].to_string())
            .collect()
    };
    assert_eq!(json(&dir), ["\"unknown-machine\"", "\"eval-error\""]);
    std::fs::write(
        dir.join("kith.toml"),
        "[lint]\ndisable = [\"unknown-machine\"]\nexclude = [\"modules/**\"]\n",
    )
    .unwrap();
    assert!(json(&dir).is_empty());
    let human = kith(&dir, &[]);
    assert_eq!(
        String::from_utf8_lossy(&human.stdout),
        "0 error(s), 0 warning(s), 0 note(s), 2 suppressed\n"
    );
    assert_eq!(human.status.code(), Some(0));

    std::fs::write(
        dir.join("kith.toml"),
        "[lint]\nexclude = [\"modules/**\"]\n",
    )
    .unwrap();
    let nix = dir.join("clan.nix");
    let text = std::fs::read_to_string(&nix).unwrap().replacen(
        "        roles.controller.machines.gateway-x",
        "        # kith: ignore[unknown-machine]\n        roles.controller.machines.gateway-x",
        1,
    );
    std::fs::write(&nix, text).unwrap();
    assert!(json(&dir).is_empty());

    std::fs::write(
        dir.join("kith.toml"),
        "[lint]\ndisable = [\"no-such-rule\"]\n",
    )
    .unwrap();
    let bad = kith(&dir, &[]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("kith.toml: unknown rule `no-such-rule`"),
        "{bad:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

fn check(dir: &Path, args: &[&str]) -> Output {
    run("check", dir, args)
}

#[test]
fn check_passes_the_example_and_fails_a_mistake_with_a_summary() {
    let clean = check(&fixture(), &["--no-cache"]);
    assert_eq!(clean.status.code(), Some(0), "{clean:?}");
    assert!(clean.stdout.is_empty());
    let summary = String::from_utf8_lossy(&clean.stderr);
    assert!(
        summary.starts_with("checked 8 machines, 4 instances of 4 services in ")
            && summary.ends_with(" s: no errors\n"),
        "{summary}"
    );

    let dir = broken("check");
    for jobs in ["1", "2"] {
        let out = check(&dir, &["--format", "json", "--no-cache", "--jobs", jobs]);
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let codes: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["code"].to_string())
            .collect();
        assert_eq!(codes, ["\"unknown-machine\"", "\"eval-error\""]);
        assert!(String::from_utf8_lossy(&out.stderr).contains(": 2 errors"));
    }
    let human = check(&dir, &[]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("clan.nix:90:35"), "{text}");
    assert!(!text.contains("error(s)"), "the lint's count line: {text}");
    let sarif = check(&dir, &["--format", "sarif"]);
    let log: serde_json::Value = serde_json::from_slice(&sarif.stdout).unwrap();
    assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), 2);
    std::fs::remove_dir_all(&dir).unwrap();

    let missing = check(Path::new("/nonexistent-kith-check"), &[]);
    assert_eq!(missing.status.code(), Some(2));
}
