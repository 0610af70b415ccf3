//! The CLI's cache of lowered files: the bundled example prints the same with a cold cache, a
//! warm one and none, and `--no-ir-cache` leaves the cache directory alone.

use std::path::{Path, PathBuf};
use std::process::Command;

fn example() -> (PathBuf, String) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/example");
    let expected = std::fs::read_to_string(dir.join("default.exp")).unwrap();
    (dir.join("default.nix"), expected)
}

fn kith_eval(cache: &Path, extra: &[&str], file: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_kith"))
        .env("KITH_CACHE_DIR", cache)
        .arg("eval")
        .arg("--strict")
        .args(extra)
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn entries(cache: &Path) -> usize {
    std::fs::read_dir(cache.join("ir")).map_or(0, |rd| rd.count())
}

#[test]
fn cold_warm_and_disabled_cache_print_the_same() {
    let (file, expected) = example();
    let cache = std::env::temp_dir().join(format!("kith-cli-ir-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);

    assert_eq!(kith_eval(&cache, &["--no-ir-cache"], &file), expected);
    assert_eq!(entries(&cache), 0, "--no-ir-cache wrote to the cache");

    assert_eq!(kith_eval(&cache, &[], &file), expected);
    let written = entries(&cache);
    assert!(written > 0, "a cold run wrote no entries");

    assert_eq!(kith_eval(&cache, &[], &file), expected);
    assert_eq!(entries(&cache), written, "a warm run wrote new entries");
    let _ = std::fs::remove_dir_all(&cache);
}
