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

/// `kith eval --strict FILE` with the cache in `cache`, killed (and failing the test) if it
/// takes longer than 30 s: a cache read that blocks must not hang the test.
fn kith_eval_bounded(cache: &Path, file: &Path) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kith"))
        .env("KITH_CACHE_DIR", cache)
        .arg("eval")
        .arg("--strict")
        .arg(file)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("kith hung reading its cache");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_fifo_entry_does_not_hang_and_a_moved_entry_is_not_used() {
    let dir = std::env::temp_dir().join(format!("kith-cli-ir-fifo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let cache = dir.join("cache");
    let (a, b) = (dir.join("a.nix"), dir.join("b.nix"));
    std::fs::write(&a, "{ x = 1; }").unwrap();
    std::fs::write(&b, "{ y = 2; }").unwrap();
    assert_eq!(kith_eval_bounded(&cache, &a), "{ x = 1; }\n");
    let entry_a = std::fs::read_dir(cache.join("ir"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert_eq!(kith_eval_bounded(&cache, &b), "{ y = 2; }\n");
    let entry_b = std::fs::read_dir(cache.join("ir"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| *p != entry_a)
        .unwrap();

    // a's entry under b's key.
    std::fs::copy(&entry_a, &entry_b).unwrap();
    assert_eq!(kith_eval_bounded(&cache, &b), "{ y = 2; }\n");

    // A FIFO where a's entry should be: nothing opens it for writing, so a blocking read
    // would wait forever.
    std::fs::remove_file(&entry_a).unwrap();
    let status = Command::new("mkfifo").arg(&entry_a).status();
    if !status.is_ok_and(|s| s.success()) {
        eprintln!("no mkfifo: FIFO case skipped");
    } else {
        assert_eq!(kith_eval_bounded(&cache, &a), "{ x = 1; }\n");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
