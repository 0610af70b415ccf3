//! `kith eval --flake DIR --attr A --attr B`: one result per line, in order, from one
//! flake load; `DIR#ATTR` still works and comes first.

mod common;

/// A flake without inputs in a fresh temporary directory.
fn flake_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("kith-cli-flake-attrs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("flake.nix"),
        r#"{ outputs = _: { a = 1; b.c = [ "x" true ]; bad = throw "no"; }; }"#,
    )
    .unwrap();
    dir
}

fn kith(args: &[&str]) -> (String, String, Option<i32>) {
    let cache = std::env::temp_dir().join("kith-cli-flake-attrs-cache");
    let args: Vec<&str> = std::iter::once("eval")
        .chain(args.iter().copied())
        .collect();
    common::run_kith(None, &cache, &args)
}

#[test]
fn several_attrs_one_per_line() {
    let dir = flake_dir();
    let d = dir.to_str().unwrap();
    let (out, _, code) = kith(&["--flake", d, "--json", "-A", "b.c", "--attr", "a"]);
    assert_eq!((out.as_str(), code), ("[\"x\",true]\n1\n", Some(0)));
    let with_own = format!("{d}#a");
    let (out, _, code) = kith(&["--flake", &with_own, "-A", "b"]);
    assert_eq!(
        (out.as_str(), code),
        ("1\n{ c = [ \"x\" true ]; }\n", Some(0))
    );
    let (out, _, code) = kith(&["--flake", &with_own]);
    assert_eq!((out.as_str(), code), ("1\n", Some(0)));
    let (out, err, code) = kith(&["--flake", d, "-A", "a", "-A", "bad", "-A", "a"]);
    assert_eq!((out.as_str(), code), ("1\n", Some(1)));
    assert!(err.contains("error: no"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
