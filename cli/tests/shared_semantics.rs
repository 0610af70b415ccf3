//! `kith eval` and `kith build` share the library's semantics: `-A` paths are parsed and
//! selected one way (quoted names may contain dots), and `kith eval --flake` honours the
//! same output, error and evaluator flags as the file path.

mod common;

use std::path::{Path, PathBuf};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/flakes");

/// A fresh temporary directory: the fixture flakes, plus `values/`, a flake whose outputs
/// are `values/v.nix`'s value, so each output can also be evaluated through the file path.
fn fixture(tag: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("kith-cli-shared-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    common::fixtures::copy_dir(Path::new(FIXTURES), &root);
    let values = root.join("values");
    std::fs::create_dir_all(&values).unwrap();
    std::fs::write(
        values.join("flake.nix"),
        "{ outputs = _: import ./v.nix; }\n",
    )
    .unwrap();
    std::fs::write(
        values.join("v.nix"),
        r#"{
  v = { a = [ 1 { b = "s"; c = null; } ]; d.e = true; };
  bad = throw (builtins.fromJSON "\"\\u001b[31mred\\u001b[0m\"");
  found = builtins.pathExists <kithtest/v.nix>;
}
"#,
    )
    .unwrap();
    root
}

/// Runs `kith ARGS` in `dir`: stdout, stderr, exit code.
fn kith(dir: &Path, args: &[&str]) -> (String, String, Option<i32>) {
    common::run_kith(Some(dir), &dir.join(".kith-cache"), args)
}

/// `kith ARGS` that must succeed: its stdout.
fn ok(dir: &Path, args: &[&str]) -> String {
    let (out, err, code) = kith(dir, args);
    assert_eq!(code, Some(0), "kith {args:?}: {err}");
    out
}

#[test]
fn build_and_eval_select_the_same_quoted_attr_path() {
    let dir = std::env::temp_dir().join(format!("kith-cli-shared-build-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let drv = |name: &str| {
        format!(
            r#"derivation {{ name = "{name}"; system = "x86_64-linux"; builder = "/bin/sh"; }}"#
        )
    };
    std::fs::write(
        dir.join("default.nix"),
        format!(
            "{{ a.\"b.c\" = {}; a.b.c = {}; f = {{ n ? \"called\" }}: {{ d = {}; }}; }}\n",
            drv("dotted"),
            drv("nested"),
            "derivation { name = n; system = \"x86_64-linux\"; builder = \"/bin/sh\"; }"
        ),
    )
    .unwrap();
    let built = ok(&dir, &["build", "--drv-path", "-A", r#"a."b.c""#]);
    assert!(built.ends_with("-dotted.drv\n"), "{built}");
    let evaluated = ok(&dir, &["eval", "-A", r#"a."b.c".drvPath"#]);
    assert_eq!(evaluated, format!("\"{}\"\n", built.trim_end()));
    let nested = ok(&dir, &["build", "--drv-path", "-A", "a.b.c"]);
    assert!(nested.ends_with("-nested.drv\n"), "{nested}");
    assert_eq!(
        nested,
        ok(&dir, &["eval", "-A", "a.b.c.drvPath"]).replace('"', "")
    );
    // Functions on the way are auto-called, as by nix-build.
    let called = ok(&dir, &["build", "--drv-path", "-A", "f.d"]);
    assert!(called.ends_with("-called.drv\n"), "{called}");
    let (_, err, code) = kith(&dir, &["build", "--drv-path", "-A", "a"]);
    assert_eq!(
        (err.as_str(), code),
        ("error: 'a' is not a derivation\n", Some(1))
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn flake_path_honours_the_output_flags() {
    let root = fixture("output");
    let flake: &[&str] = &["eval", "--flake", "values#v"];
    let file: &[&str] = &["eval", "values/v.nix", "-A", "v"];
    let with = |base: &[&str], flags: &[&str]| {
        let args: Vec<&str> = base.iter().chain(flags).copied().collect();
        ok(&root, &args)
    };
    // `nix eval` prints strictly: with or without `--strict`, as the file path with it.
    let strict = with(file, &["--strict"]);
    assert_eq!(
        strict,
        "{ a = [ 1 { b = \"s\"; c = null; } ]; d = { e = true; }; }\n"
    );
    assert_ne!(with(file, &[]), strict);
    assert_eq!(with(flake, &[]), strict);
    assert_eq!(with(flake, &["--strict"]), strict);
    for flags in [
        &["--json"][..],
        &["--json", "--strict"],
        &["--xml", "--no-location"],
        &["--xml", "--no-location", "--strict"],
    ] {
        let mut strict_flags = flags.to_vec();
        if !strict_flags.contains(&"--strict") {
            strict_flags.push("--strict");
        }
        assert_eq!(
            with(flake, flags),
            with(file, &strict_flags),
            "flags {flags:?}"
        );
    }
    assert!(with(flake, &["--json"]).starts_with("{\"a\":[1,"));
    assert!(with(flake, &["--xml", "--no-location"]).starts_with("<?xml"));
    // With locations: the same, but for where the flake's files appear to be.
    let xml = with(&["eval", "--flake", "main#sub"], &["--xml"]);
    let at = xml.find("path=\"").expect(&xml) + "path=\"".len();
    let store_dir = &xml[at..at + xml[at..].find("/sub.nix").expect(&xml)];
    assert!(store_dir.ends_with("-source"), "{xml}");
    let real_dir = root.join("main").display().to_string();
    let from_file = ok(&root, &["eval", "main/sub.nix", "--xml", "--strict"]);
    assert_eq!(xml, from_file.replace(&real_dir, store_dir));
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn flake_path_honours_error_format_and_evaluator_flags() {
    let root = fixture("errors");
    let real_dir = root.join("values").display().to_string();
    for format in ["nix", "fancy"] {
        let (out, err, code) = kith(
            &root,
            &["eval", "--flake", "values#bad", "--error-format", format],
        );
        assert_eq!((out.as_str(), code), ("", Some(1)), "{err}");
        let (_, file_err, _) = kith(
            &root,
            &[
                "eval",
                "values/v.nix",
                "-A",
                "bad",
                "--error-format",
                format,
            ],
        );
        let at = err.find("/nix/store/").expect(&err);
        let store_dir = &err[at..at + err[at..].find("/v.nix").expect(&err)];
        assert_eq!(err, file_err.replace(&real_dir, store_dir), "{format}");
        assert!(err.contains("red"), "{err}");
        if format == "nix" {
            // Nix's format strips ANSI escapes from messages; the message is Nix's.
            assert!(!err.contains('\u{1b}'), "{err:?}");
            assert!(err.contains("error: red\n"), "{err}");
        } else {
            assert!(!err.contains("error: red\n"), "{err}");
        }
    }
    // The search path is used by impure evaluation only, as on the file path.
    let include = format!("kithtest={}", root.join("values").display());
    let args = [
        "eval",
        "--flake",
        "values#found",
        "-I",
        &include,
        "--impure",
    ];
    assert_eq!(ok(&root, &args), "true\n");
    let (_, _, code) = kith(&root, &args[..5]);
    assert_eq!(code, Some(1));
    // Experimental features and lints apply to the flake's files.
    std::fs::write(
        root.join("values/flake.nix"),
        "{ outputs = _: { piped = 1 |> (x: x + 1); short = toString a/b; }; }\n",
    )
    .unwrap();
    let (_, err, code) = kith(&root, &["eval", "--flake", "values#piped"]);
    assert_eq!(code, Some(1), "{err}");
    let features = ["--extra-experimental-features", "pipe-operators"];
    let piped = ["eval", "--flake", "values#piped", features[0], features[1]];
    assert_eq!(ok(&root, &piped), "2\n");
    let short = ["eval", "--flake", "values#short", features[0], features[1]];
    ok(&root, &short);
    let lint = ["--lint-short-path-literals", "fatal"];
    let (_, err, code) = kith(&root, &[&short[..], &lint[..]].concat());
    assert_eq!(code, Some(1), "{err}");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn flags_without_meaning_on_the_flake_path_are_rejected() {
    let dir = std::env::temp_dir();
    for flags in [
        &["--arg", "a", "1"][..],
        &["--argstr", "a", "x"],
        &["--parse"],
    ] {
        let args: Vec<&str> = ["eval", "--flake", ".#x"]
            .iter()
            .chain(flags)
            .copied()
            .collect();
        let (_, err, code) = kith(&dir, &args);
        assert_eq!(code, Some(2), "{flags:?}: {err}");
        assert!(err.contains("cannot be used with"), "{flags:?}: {err}");
    }
}
