//! A locked flake input missing from the store is fetched through the real Nix
//! (`nix flake prefetch`) when it is first needed, and not with `offline`.
//!
//! The test writes to the real store (`nix flake lock`, `nix-store --delete`, and the
//! prefetch itself), so it needs `nix` on `PATH` and a writable `/nix/store` (root without
//! a daemon, as in CI with Debian's nix-bin); otherwise it says so and passes.

#[path = "../../eval/tests/common/mod.rs"]
mod common;

use kith_eval::EvalOptions;
use kith_flake::{self as flake, FlakeOptions};
use std::path::{Path, PathBuf};
use std::process::Command;

const STORE: &str = "/nix/store";

/// Why the test cannot run here, if it cannot.
fn skip_reason() -> Option<String> {
    let nix = Command::new("nix").arg("--version").output();
    if !nix.is_ok_and(|o| o.status.success()) {
        return Some("`nix` is not on PATH".into());
    }
    let store = std::ffi::CString::new(STORE).unwrap();
    // SAFETY: `access` only reads the NUL-terminated path.
    if unsafe { libc::access(store.as_ptr(), libc::W_OK) } != 0 {
        return Some(format!("{STORE} is not writable"));
    }
    None
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("spawning a command");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A git repository at `dir` with a flake and a data file (content unique to this run, so
/// that its store path is new) committed.
fn make_input(dir: &Path, tag: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("flake.nix"),
        "{ outputs = _: { value = \"from the input\"; }; }\n",
    )
    .unwrap();
    std::fs::write(dir.join("data.txt"), format!("{tag}\n")).unwrap();
    common::git_commit(dir, &["flake.nix", "data.txt"], "input\n");
}

/// `nix flake lock` on `root` (offline: an empty registry); returns the store path the
/// lock entry of `dep` names.
fn lock(root: &Path, tmp: &Path) -> String {
    let registry = tmp.join("empty-registry.json");
    std::fs::write(&registry, r#"{"flakes":[],"version":2}"#).unwrap();
    run(Command::new("nix")
        .args(["--extra-experimental-features", "nix-command flakes"])
        .arg("--option")
        .arg("flake-registry")
        .arg(&registry)
        .args(["flake", "lock"])
        .current_dir(root));
    let text = std::fs::read_to_string(root.join("flake.lock")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let locked = json["nodes"]["dep"]["locked"].as_object().unwrap().clone();
    assert_eq!(locked["type"], "git", "{text}");
    let (path, _) = flake::source::locked_store_path(STORE, "dep", &locked).unwrap();
    path
}

fn delete(path: &str) {
    if Path::new(path).exists() {
        run(Command::new("nix-store").args(["--delete", path]));
    }
}

fn eval(root: &Path, offline: bool, attr: &str) -> Result<String, String> {
    let mut ev = kith_flake::evaluator(
        EvalOptions {
            pure: true,
            capture_diagnostics: true,
            ..EvalOptions::default()
        },
        offline,
    );
    let opts = FlakeOptions {
        offline,
        ..FlakeOptions::default()
    };
    let f = flake::load(&mut ev, root, &opts).map_err(|e| e.message.clone())?;
    let v = flake::select_output(&mut ev, &f, "root", attr).map_err(|e| e.message.clone())?;
    kith_eval::to_json_string(&mut ev, &v).map_err(|e| e.message.clone())
}

#[test]
fn missing_locked_input_is_fetched_through_nix() {
    if let Some(why) = skip_reason() {
        eprintln!("flake fetch test skipped: {why}");
        return;
    }
    let tag = format!(
        "kith-fetch-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let tmp = std::env::temp_dir().join(&tag);
    let input = tmp.join("input");
    let root: PathBuf = tmp.join("root");
    make_input(&input, &tag);
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(
        root.join("flake.nix"),
        format!(
            r#"{{
  inputs.dep.url = "git+file://{}";
  outputs = {{ self, dep }}: {{
    own = "no input needed";
    value = dep.value;
    path = "${{dep}}";
    data = builtins.readFile "${{dep}}/data.txt";
  }};
}}
"#,
            input.display()
        ),
    )
    .unwrap();
    let store_path = lock(&root, &tmp);
    delete(&store_path);
    assert!(!Path::new(&store_path).exists());

    // Inputs are lazy: nothing is fetched for an output that does not use the input.
    assert_eq!(eval(&root, false, "own").unwrap(), r#""no input needed""#);
    assert!(!Path::new(&store_path).exists(), "fetched without need");

    // Offline: the error names the input and the command to run.
    let err = eval(&root, true, "value").unwrap_err();
    assert!(err.contains("input 'dep'"), "{err}");
    assert!(err.contains("nix flake prefetch 'git+file://"), "{err}");
    assert!(err.contains(&store_path), "{err}");
    assert!(!Path::new(&store_path).exists());

    // Otherwise Nix fetches it, and the flake reads it from the store.
    assert_eq!(eval(&root, false, "value").unwrap(), r#""from the input""#);
    assert!(Path::new(&store_path).exists(), "{store_path} not fetched");
    assert_eq!(
        eval(&root, false, "path").unwrap(),
        format!("\"{store_path}\"")
    );
    assert_eq!(eval(&root, true, "data").unwrap(), format!("\"{tag}\\n\""));

    delete(&store_path);
    let _ = std::fs::remove_dir_all(&tmp);
}
