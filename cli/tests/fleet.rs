//! `kith machines|network|vars|show|completions|man` as a user runs them: output as
//! clan-cli's (the planner's `tests/admin.rs` checks every case against the model; here the
//! command line), `--json`, no colours off a terminal or with `NO_COLOR`, secret vars never
//! read, `--check` against a local listener, completions and the man page.

mod common;
#[path = "../../eval/tests/common/corpus.rs"]
mod corpus;

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A conformance case and the corpus, or `None` (skipped) when absent.
fn case(name: &str) -> Option<(PathBuf, PathBuf)> {
    let what = format!("kith admin commands on conformance case {name}");
    let case = corpus::present(
        &corpus::shared_path(&format!("conformance/cases/{name}")),
        &what,
    )?;
    let corpus = corpus::present(&corpus::corpus_path(""), &what)?;
    Some((case, corpus))
}

/// A temporary directory of this test process.
fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kith-fleet-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `kith ARGS --flake CASE --override-input …` with `env`: stdout, stderr, exit code.
fn kith(
    case: &Path,
    corpus: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> (String, String, Option<i32>) {
    let cache = std::env::temp_dir().join(format!("kith-fleet-cli-cache-{}", std::process::id()));
    let clan_core = corpus.join("clan-core");
    let nixpkgs = corpus.join("nixpkgs-lib");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kith"));
    cmd.args(args)
        .args(["--flake", case.to_str().unwrap()])
        .args(["--override-input", "clan-core", clan_core.to_str().unwrap()])
        .args(["--override-input", "nixpkgs", nixpkgs.to_str().unwrap()])
        .env("KITH_CACHE_DIR", &cache)
        .env_remove("NIX_PATH");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

/// Copies a case directory (../shared is read-only).
fn copy_case(case: &Path, name: &str) -> PathBuf {
    let dst = tmp(name).join("case");
    let st = Command::new("cp")
        .args(["-r", case.to_str().unwrap(), dst.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(st.success());
    Command::new("chmod")
        .args(["-R", "u+w", dst.to_str().unwrap()])
        .status()
        .unwrap();
    dst
}

#[test]
fn machines_list_and_tags_and_json() {
    let Some((c, corpus)) = case("01-machine-sources") else {
        return;
    };
    let (out, err, code) = kith(&c, &corpus, &["machines", "list"], &[]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "auto1\nauto2\njon\nmac\nmbp\nsara\nviaClanMachines\n");
    let (out, _, _) = kith(&c, &corpus, &["machines", "list", "--tags", "darwin"], &[]);
    assert_eq!(out, "mac\nmbp\n");
    let (out, _, _) = kith(
        &c,
        &corpus,
        &["machines", "list", "--tags", "all", "laptop"],
        &[],
    );
    assert_eq!(out, "mac\n");
    let (out, _, code) = kith(
        &c,
        &corpus,
        &["machines", "list", "--tags", "nosuchtag"],
        &[],
    );
    assert_eq!((out.as_str(), code), ("", Some(0)));
    let (out, _, _) = kith(
        &c,
        &corpus,
        &["machines", "list", "--tags", "darwin", "--json"],
        &[],
    );
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap(),
        json!(["mac", "mbp"])
    );
}

#[test]
fn machines_show_and_suggestions() {
    let Some((c, corpus)) = case("01-machine-sources") else {
        return;
    };
    let (out, err, code) = kith(&c, &corpus, &["machines", "show", "jon", "--json"], &[]);
    assert_eq!(code, Some(0), "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["name"], "jon");
    assert_eq!(v["machine"]["deploy"]["targetHost"], "root@jon.example.com");
    assert_eq!(
        v["instances"],
        json!([{"instance": "internet", "role": "default", "byName": true, "byTags": []}])
    );
    assert!(v["exports"]
        .as_object()
        .unwrap()
        .keys()
        .any(|k| k.ends_with(":internet:default:jon")));
    let (out, _, code) = kith(&c, &corpus, &["machines", "show", "jon"], &[]);
    assert_eq!(code, Some(0));
    assert!(out.starts_with("Machine: jon\nClass: nixos\n"), "{out}");
    assert!(out.contains("  internet/default: by name\n"), "{out}");
    let (out, err, code) = kith(&c, &corpus, &["machines", "show", "jn"], &[]);
    assert_eq!((out.as_str(), code), ("", Some(1)));
    assert_eq!(
        err,
        "Machine 'jn' not found. Did you mean: jon, mac, mbp?\n"
    );
}

#[test]
fn network_list_show_and_no_colour() {
    let Some((c, corpus)) = case("01-machine-sources") else {
        return;
    };
    let want = "Network       Priority  Module      Running   Peers\n\
                ---------------------------------------------------\n\
                internet      2000      direct      Yes       jon, sara\n";
    for env in [&[][..], &[("NO_COLOR", "1")][..]] {
        let (out, err, code) = kith(&c, &corpus, &["network", "list"], env);
        assert_eq!(code, Some(0), "{err}");
        assert_eq!(out, want);
        assert!(!out.contains('\x1b') && !err.contains('\x1b'));
        let (out, _, _) = kith(&c, &corpus, &["machines", "show", "jon"], env);
        assert!(!out.contains('\x1b'));
    }
    let (out, _, _) = kith(&c, &corpus, &["network", "list", "--json"], &[]);
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap(),
        json!([{"name": "internet", "priority": 2000, "module": "clan_lib.network.direct", "running": "Yes", "peers": ["jon", "sara"]}])
    );
    let (out, _, _) = kith(&c, &corpus, &["show"], &[]);
    assert_eq!(
        out,
        "Name: sources\nDescription: meta description written by the CLI\nDomain: clan\n"
    );
    let (out, _, _) = kith(&c, &corpus, &["show", "--json"], &[]);
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["name"],
        "sources"
    );
}

#[test]
fn resolve_target_host_first_and_check() {
    let Some((c, corpus)) = case("01-machine-sources") else {
        return;
    };
    let (out, err, code) = kith(&c, &corpus, &["network", "resolve", "jon", "--json"], &[]);
    assert_eq!(code, Some(0), "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["network"], Value::Null);
    assert_eq!(v[0]["host"], "jon.example.com");
    assert_eq!(v[1]["network"], "internet");
    let (out, _, _) = kith(&c, &corpus, &["network", "resolve", "jon"], &[]);
    assert!(
        out.contains("clan connects to it without trying anything else"),
        "{out}"
    );
    let (_, err, code) = kith(&c, &corpus, &["network", "resolve", "auto1"], &[]);
    assert_eq!(code, Some(1));
    assert_eq!(err, "Could not find any way to connect to machine 'auto1'. No targetHost configured and machine not reachable via any network.\n");

    // --check: the targetHost pointed at a local listener answers first.
    let copy = copy_case(&c, "check");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let inv = copy.join("inventory.json");
    let text = std::fs::read_to_string(&inv).unwrap();
    std::fs::write(
        &inv,
        text.replace("root@jon.example.com", &format!("root@127.0.0.1:{port}")),
    )
    .unwrap();
    let (out, err, code) = kith(
        &copy,
        &corpus,
        &["network", "resolve", "jon", "--check", "--timeout", "5"],
        &[],
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains(&format!("targetHost 127.0.0.1:{port}: reachable")),
        "{out}"
    );
    assert!(
        out.ends_with("First reachable: root@127.0.0.1 via deploy.targetHost\n"),
        "{out}"
    );
    // Nothing listens any more: the targetHost is refused, the network's host is tried next.
    drop(listener);
    let (out, _, _) = kith(
        &copy,
        &corpus,
        &[
            "network",
            "resolve",
            "jon",
            "--check",
            "--timeout",
            "1",
            "--json",
        ],
        &[],
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["check"], "unreachable", "{out}");
    assert_eq!(v[1]["network"], "internet");
    let _ = std::fs::remove_dir_all(copy.parent().unwrap());
}

#[test]
fn secret_var_hosts_are_never_read() {
    let Some((c, corpus)) = case("05-networking-services") else {
        return;
    };
    let copy = copy_case(&c, "secret");
    // jon's tor hostname as a secret (sops' layout), with a decoy `value` beside it. (A FIFO,
    // as in the planner's unit tests, cannot be used here: the flake itself cannot hold one,
    // for kith as for Nix.) Neither text may show up anywhere.
    let dir = copy.join("vars/per-machine/jon/tor_tor/hostname");
    std::fs::create_dir_all(dir.join("machines")).unwrap();
    std::fs::write(dir.join("secret"), "ENC[AES256_GCM,data:SECRETDATA]").unwrap();
    std::fs::write(dir.join("value"), "DECOY.onion").unwrap();
    let (out, err, code) = kith(
        &copy,
        &corpus,
        &["network", "resolve", "jon", "--network", "tor", "--json"],
        &[],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap(),
        json!([{"network": "tor", "priority": 10, "module": "clan_lib.network.tor", "host": null,
                "var": "jon/tor_tor/hostname", "var_state": "secret", "port": 22, "user": "root",
                "ssh_options": []}])
    );
    let (out, _, _) = kith(
        &copy,
        &corpus,
        &["network", "resolve", "jon", "--network", "tor"],
        &[],
    );
    assert!(out.contains("<secret var jon/tor_tor/hostname>"), "{out}");
    let (out, _, code) = kith(
        &copy,
        &corpus,
        &["network", "resolve", "jon", "--network", "tor", "--check"],
        &[],
    );
    assert_eq!(code, Some(1));
    assert!(out.contains("skipped: secret var"), "{out}");
    let (out, _, _) = kith(&copy, &corpus, &["vars", "list", "jon"], &[]);
    assert!(out.contains("tor_tor/hostname: ********\n"), "{out}");
    assert!(
        out.starts_with("mycelium/ip: 4a1:1b2c:3d4e:5f60::1\n"),
        "{out}"
    );
    let (_, err, code) = kith(
        &copy,
        &corpus,
        &["vars", "get", "jon", "tor_tor/hostname"],
        &[],
    );
    assert_eq!(code, Some(1));
    assert!(err.contains("is secret"), "{err}");
    let (out, _, code) = kith(&copy, &corpus, &["vars", "get", "jon", "mycelium/ip"], &[]);
    assert_eq!((out.as_str(), code), ("4a1:1b2c:3d4e:5f60::1", Some(0)));
    let (_, err, _) = kith(&copy, &corpus, &["vars", "get", "jon", "mycelium/i"], &[]);
    assert_eq!(err, "Did you mean: mycelium/ip\n");
    let (out, _, _) = kith(
        &copy,
        &corpus,
        &["vars", "get", "jon", "mycelium/ip", "--json"],
        &[],
    );
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap(),
        json!({"id": "mycelium/ip", "shared": false, "state": "public", "value": "4a1:1b2c:3d4e:5f60::1"})
    );
    let (_, err, code) = kith(&copy, &corpus, &["vars", "list", "jn"], &[]);
    assert_eq!(code, Some(1));
    assert!(
        err.starts_with("Machine 'jn' not found. Did you mean: jon"),
        "{err}"
    );
    for args in [
        &["network", "resolve", "jon", "--json"][..],
        &["vars", "list", "jon", "--json"][..],
        &["machines", "show", "jon"][..],
    ] {
        let (out, err, _) = kith(&copy, &corpus, args, &[]);
        assert!(
            !out.contains("SECRETDATA") && !out.contains("DECOY"),
            "{args:?}: {out}"
        );
        assert!(
            !err.contains("SECRETDATA") && !err.contains("DECOY"),
            "{args:?}: {err}"
        );
    }
    let _ = std::fs::remove_dir_all(copy.parent().unwrap());
}

#[test]
fn no_flake_found() {
    let dir = tmp("noflake");
    let cache = dir.join("cache");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kith"));
    let out = cmd
        .args(["machines", "list"])
        .current_dir(&dir)
        .env("KITH_CACHE_DIR", &cache)
        .env_remove("CLAN_DIR")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "No clan flake found in the current directory or its parents\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn completions_and_man() {
    let cache = std::env::temp_dir();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let (out, err, code) = common::run_kith(None, &cache, &["completions", shell]);
        assert_eq!(code, Some(0), "{shell}: {err}");
        for word in ["machines", "network", "resolve", "vars", "override-input"] {
            assert!(out.contains(word), "{shell} completions lack {word}");
        }
    }
    let (_, _, code) = common::run_kith(None, &cache, &["completions", "tcsh"]);
    assert_eq!(code, Some(2));
    let (out, err, code) = common::run_kith(None, &cache, &["man"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains(".TH kith 1"), "{out}");
    for section in [
        "KITH MACHINES LIST",
        "KITH NETWORK RESOLVE",
        "KITH VARS GET",
        "KITH SHOW",
    ] {
        assert!(
            out.contains(&format!(".SH \"{section}\"")),
            "man lacks {section}"
        );
    }
    assert!(out.contains("\\-\\-check"));
}
