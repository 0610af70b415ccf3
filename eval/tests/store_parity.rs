//! Store-path parity with C++ Nix, differentially: a generated tree of files, directories
//! and symlinks, `builtins.toFile` texts and derivations (see `store_parity/generator.rs`)
//! is evaluated to a JSON set of store paths by kith (in process, through
//! `kith_eval::instantiate`) and by `nix-instantiate --store dummy:// --eval --strict
//! --json` (the dummy store computes paths without writing anything), and the outputs
//! must be identical byte for byte.
//!
//! Without `nix-instantiate` on `PATH` the differential part is skipped (with a message);
//! CI installs Debian's `nix-bin` so that it always runs.
//!
//! Each seed is a test of its own (a custom harness, `libtest-mimic`): `cargo test
//! --release -p kith-eval --test store_parity -- --exact seed-5eed` runs one.

#[path = "store_parity/generator.rs"]
mod generator;

use kith_eval::instantiate::{self, Input, OutputFormat, Request};
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Seeds of the generated fixtures (each a different tree and expression).
const SEEDS: &[u64] = &[1, 2, 3, 0x5eed, 0xdead_beef];

/// A fresh fixture directory for `seed`.
fn fixture(seed: u64) -> (PathBuf, generator::Fixture) {
    let root =
        std::env::temp_dir().join(format!("kith-store-parity-{seed:x}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let fx = generator::generate(&root, seed);
    std::fs::write(root.join("default.nix"), fx.nix_file()).expect("write default.nix");
    (root, fx)
}

/// kith's `--eval --strict --json` output for `file`, or its error text.
fn kith_json(file: &Path) -> Result<String, String> {
    let cwd = file.parent().unwrap_or(Path::new("/")).to_path_buf();
    let mut req = Request::new(Input::File(file.to_path_buf()), cwd);
    req.strict = true;
    req.format = OutputFormat::Json;
    let out = instantiate::run(&req);
    if out.exit_code == 0 {
        Ok(out.stdout)
    } else {
        Err(out.stderr)
    }
}

/// `nix-instantiate --store dummy:// --eval --strict --json file`: `None` if the binary is
/// missing, otherwise its output or error text.
fn nix_json(file: &Path) -> Option<Result<String, String>> {
    let out = Command::new("nix-instantiate")
        .args(["--store", "dummy://", "--eval", "--strict", "--json"])
        .arg(file)
        .env_remove("NIX_STORE_DIR")
        .env_remove("NIX_PATH")
        .output();
    let out = match out {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => return Some(Err(format!("running nix-instantiate: {e}"))),
    };
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    Some(if out.status.success() {
        // nix-instantiate --json prints no trailing newline.
        Ok(if stdout.ends_with('\n') {
            stdout
        } else {
            stdout + "\n"
        })
    } else {
        Err(stderr)
    })
}

/// The entries whose store paths differ, for a readable failure message.
fn differences(kith: &str, nix: &str) -> Vec<String> {
    let parse = |s: &str| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(s);
    let (Ok(k), Ok(n)) = (parse(kith), parse(nix)) else {
        return vec!["(output is not a JSON object)".into()];
    };
    let mut out = Vec::new();
    for (name, nv) in &n {
        match k.get(name) {
            Some(kv) if kv == nv => {}
            kv => out.push(format!("{name}: nix {nv}, kith {kv:?}")),
        }
    }
    out
}

fn main() {
    let args = Arguments::from_args();
    let no_nix = Arc::new(AtomicBool::new(false));
    let mut trials: Vec<Trial> = SEEDS
        .iter()
        .map(|&seed| {
            let no_nix = Arc::clone(&no_nix);
            Trial::test(format!("seed-{seed:x}"), move || {
                if !store_paths_match_nix(seed)? {
                    no_nix.store(true, Ordering::Relaxed);
                }
                Ok(())
            })
        })
        .collect();
    trials.push(Trial::test("generator_is_deterministic", || {
        generator_is_deterministic();
        Ok(())
    }));
    let conclusion = libtest_mimic::run(&args, trials);
    if no_nix.load(Ordering::Relaxed) {
        println!("nix-instantiate is not on PATH: skipped the differential comparison with Nix");
    }
    conclusion.exit();
}

/// The store paths of the fixture of `seed` are the ones Nix computes; `Ok(false)` when
/// `nix-instantiate` is missing (then only kith's side is checked).
fn store_paths_match_nix(seed: u64) -> Result<bool, Failed> {
    let (root, fx) = fixture(seed);
    let file = root.join("default.nix");
    let kith = kith_json(&file).map_err(|e| format!("kith failed: {e}"))?;
    // The evaluation itself must cover every generated entry.
    let parsed: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&kith).map_err(|e| format!("kith printed no JSON object: {e}"))?;
    if parsed.len() != fx.entries.len() {
        return Err(format!(
            "kith printed {} entries, the fixture has {}",
            parsed.len(),
            fx.entries.len()
        )
        .into());
    }
    let compared = match nix_json(&file) {
        None => false,
        Some(Err(e)) => return Err(format!("nix-instantiate failed: {e}").into()),
        Some(Ok(nix)) if kith != nix => {
            return Err(format!(
                "store paths differ from Nix's (fixture kept in {}):\n{}",
                root.display(),
                differences(&kith, &nix).join("\n")
            )
            .into());
        }
        Some(Ok(_)) => true,
    };
    // `KITH_KEEP_PARITY_FIXTURES=1` keeps the trees for inspection.
    if std::env::var_os("KITH_KEEP_PARITY_FIXTURES").is_none() {
        let _ = std::fs::remove_dir_all(&root);
    }
    Ok(compared)
}

/// The generator is deterministic: the same seed gives the same expression.
fn generator_is_deterministic() {
    let a = std::env::temp_dir().join(format!("kith-store-parity-det-a-{}", std::process::id()));
    let b = std::env::temp_dir().join(format!("kith-store-parity-det-b-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&a);
    let _ = std::fs::remove_dir_all(&b);
    let fa = generator::generate(&a, 42).nix_file();
    let fb = generator::generate(&b, 42).nix_file();
    assert_eq!(fa, fb);
    let _ = std::fs::remove_dir_all(&a);
    let _ = std::fs::remove_dir_all(&b);
}
