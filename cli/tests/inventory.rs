//! `kith inventory`: edits through the binary on `planner/tests/edit-clan` (no `../shared`
//! needed): concurrent edits by two processes lose nothing and never leave a torn file,
//! `--dry-run` prints the diff and writes nothing, `add-instance` keeps each `--machine`
//! and `--tag` with the `--role` before it, and `kith select` sees an edit.

mod common;

use common::fixtures;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A copy of the edit test clan in a fresh temporary directory, and a cache directory.
fn clan(name: &str) -> (PathBuf, PathBuf) {
    let tmp = std::env::temp_dir().join(format!("kith-inventory-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let dir = tmp.join("clan");
    fixtures::copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../planner/tests/edit-clan"),
        &dir,
    );
    (dir, tmp.join("cache"))
}

fn kith(dir: &Path, cache: &Path, args: &[&str]) -> (String, String, Option<i32>) {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--flake", dir.to_str().unwrap(), "--offline"]);
    common::run_kith(None, cache, &all)
}

fn inventory(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("inventory.json")).unwrap()).unwrap()
}

#[test]
fn concurrent_edits_lose_nothing_and_never_tear() {
    let (dir, cache) = clan("race");
    let file = dir.join("inventory.json");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // A reader that parses the file over and over while the writers run.
    let reader = {
        let (file, stop) = (file.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut reads = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let bytes = std::fs::read(&file).expect("the file is always there");
                serde_json::from_slice::<serde_json::Value>(&bytes).unwrap_or_else(|e| {
                    panic!("torn file ({e}): {}", String::from_utf8_lossy(&bytes))
                });
                reads += 1;
            }
            reads
        })
    };
    const ROUNDS: usize = 4;
    for round in 0..ROUNDS {
        let children: Vec<_> = ["a", "b"]
            .iter()
            .map(|w| {
                Command::new(env!("CARGO_BIN_EXE_kith"))
                    .env("KITH_CACHE_DIR", &cache)
                    .args([
                        "inventory",
                        "add-machine",
                        &format!("{w}{round}"),
                        "--tags",
                        w,
                    ])
                    .args(["--flake", dir.to_str().unwrap(), "--offline"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for c in children {
            let out = c.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let reads = reader.join().unwrap();
    assert!(reads > 0);
    let machines = inventory(&dir)["machines"].as_object().unwrap().clone();
    for round in 0..ROUNDS {
        for w in ["a", "b"] {
            let m = &machines[&format!("{w}{round}")];
            assert_eq!(m["tags"], serde_json::json!([w]), "{machines:?}");
        }
    }
    assert!(machines.contains_key("alpha"));
    // No temporary file is left behind.
    let stray: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
}

#[test]
fn dry_run_prints_the_diff() {
    let (dir, cache) = clan("dry-run");
    let before = std::fs::read(dir.join("inventory.json")).unwrap();
    let (out, err, code) = kith(
        &dir,
        &cache,
        &[
            "inventory",
            "set",
            "machines.alpha.description",
            "\"second\"",
            "--dry-run",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        out,
        "--- a/inventory.json\n+++ b/inventory.json\n@@ -1,7 +1,7 @@\n {\n   \"machines\": {\n     \"alpha\": {\n-      \"description\": \"first\",\n+      \"description\": \"second\",\n       \"tags\": [\n         \"db\"\n       ]\n"
    );
    assert_eq!(err, "kith: dry run, nothing written\n");
    assert_eq!(std::fs::read(dir.join("inventory.json")).unwrap(), before);
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
}

#[test]
fn refusals_exit_1_and_leave_the_file() {
    let (dir, cache) = clan("refusal");
    let before = std::fs::read(dir.join("inventory.json")).unwrap();
    for (args, expected) in [
        (vec!["inventory", "set", "meta.name", "\"x\""], "error: Path 'meta.name' is readonly. - It seems its value is statically defined in nix.\n"),
        (vec!["inventory", "delete", "machines.beta"], "error: Cannot delete path 'machines.beta' - 'beta' is either required; or is set stacially via .nix files.\n"),
        (vec!["inventory", "set", "machines.alpha.tags", "[1,"], "error: invalid JSON value: Expecting value: line 1 column 4 (char 3)\n"),
        (vec!["inventory", "add-instance", "x", "--module", "hello", "--input", "self", "--machine", "alpha", "--role", "server"], "error: --machine alpha comes before any --role\n"),
    ] {
        let (out, err, code) = kith(&dir, &cache, &args);
        assert_eq!((out.as_str(), err.as_str(), code), ("", expected, Some(1)), "{args:?}");
        assert_eq!(std::fs::read(dir.join("inventory.json")).unwrap(), before);
    }
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
}

#[test]
fn add_instance_and_select_round_trip() {
    let (dir, cache) = clan("round-trip");
    let sel = "clanInternals.inventoryClass.inventorySerialization.instances";
    let (before, err, code) = kith(&dir, &cache, &["select", sel]);
    assert_eq!(code, Some(0), "{err}");
    assert!(!before.contains("\"pair\""));
    let (_, err, code) = kith(
        &dir,
        &cache,
        &[
            "inventory",
            "add-instance",
            "pair",
            "--module",
            "hello",
            "--input",
            "self",
            "--role",
            "server",
            "--machine",
            "alpha",
            "--tag",
            "web",
            "--role",
            "client",
            "--machine",
            "gamma",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(err.starts_with("kith: wrote "), "{err}");
    let roles = &inventory(&dir)["instances"]["pair"]["roles"];
    assert_eq!(
        roles,
        &serde_json::json!({"server": {"machines": {"alpha": {}}, "tags": {"web": {}}}, "client": {"machines": {"gamma": {}}}})
    );
    let (after, err, code) = kith(
        &dir,
        &cache,
        &[
            "select",
            &format!("{sel}.pair.roles.client.machines"),
            "--explain",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("native engine"), "{err}");
    assert!(after.contains("\"gamma\""), "{after}");
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
}
