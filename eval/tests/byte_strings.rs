//! Strings are bytes: pieces of characters, file contents, file names and source text that
//! are not UTF-8 keep every byte, as in C++ Nix.
//!
//! Every expected value below is what `nix-instantiate --eval --strict` (Nix 2.26) prints
//! for the same expression, byte for byte.

use kith_eval::instantiate::{run, Input, Outcome, Request};
use std::path::{Path, PathBuf};

/// A directory with a file whose contents are not UTF-8 (`bytes`) and a file whose name is
/// not (`n\xe9`), removed when dropped.
struct Fixture(PathBuf);

impl Fixture {
    fn new(tag: &str) -> Fixture {
        use std::os::unix::ffi::OsStrExt;
        let dir = std::env::temp_dir().join(format!("kith-bytes-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("d")).unwrap();
        std::fs::write(dir.join("d/bytes"), b"\xff\xfeok").unwrap();
        let name = std::ffi::OsStr::from_bytes(b"n\xe9");
        std::fs::write(dir.join("d").join(name), b"x").unwrap();
        Fixture(dir)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn eval_in(dir: &Path, text: &[u8]) -> Outcome {
    let mut req = Request::new(Input::Expr(text.to_vec()), dir.to_path_buf());
    req.strict = true;
    run(&req)
}

/// The exact bytes printed for `text`, evaluated in `dir`.
fn value_in(dir: &Path, text: &[u8]) -> Vec<u8> {
    let out = eval_in(dir, text);
    assert_eq!(
        out.exit_code,
        0,
        "{}: {}",
        String::from_utf8_lossy(text),
        out.stderr
    );
    let mut v = out.stdout_bytes().into_owned();
    assert_eq!(v.pop(), Some(b'\n'));
    v
}

const PRELUDE: &str = r#"let e = "é"; h1 = builtins.substring 0 1 e; h2 = builtins.substring 1 1 e; names = builtins.attrNames (builtins.readDir ./d); in "#;

/// Checks each `(expression, Nix's output)` pair, the expression prefixed by [`PRELUDE`].
fn check(dir: &Path, cases: &[(&str, &[u8])]) {
    for (expr, want) in cases {
        let got = value_in(dir, format!("{PRELUDE}{expr}").as_bytes());
        assert_eq!(
            got,
            *want,
            "{expr}: got {:?}",
            String::from_utf8_lossy(&got)
        );
    }
}

#[test]
fn byte_level_operations_keep_bytes() {
    let fx = Fixture::new("ops");
    let cases: &[(&str, &[u8])] = &[
        ("builtins.stringLength h1", b"1"),
        ("builtins.stringLength e", b"2"),
        ("h1 + h2", b"\"\xc3\xa9\""),
        ("(h1 + h2) == e", b"true"),
        ("h2 < h1", b"true"),
        ("builtins.substring 1 2 \"aéb\"", b"\"\xc3\xa9\""),
        (
            "builtins.concatStringsSep \"\" (builtins.genList (i: builtins.substring (1 - i) 1 e) 2)",
            b"\"\xa9\xc3\"",
        ),
        ("builtins.toFile \"x\" h1", b"\"/nix/store/vn0zsrx42g3qj73l331rhr722r6hamgh-x\""),
        (
            "builtins.hashString \"sha256\" h1",
            b"\"ae3f4619b0413d70d3004b9131c3752153074e45725be13b9a148978895e359e\"",
        ),
        ("builtins.match \"(.)(.)\" e", b"[ \"\xc3\" \"\xa9\" ]"),
        ("builtins.split h1 \"aéb\"", b"[ \"a\" [ ] \"\xa9b\" ]"),
        ("builtins.replaceStrings [ h1 ] [ \"X\" ] \"aéb\"", b"\"aX\xa9b\""),
        (
            "builtins.sort builtins.lessThan [ h2 h1 \"b\" e ]",
            b"[ \"b\" \"\xa9\" \"\xc3\" \"\xc3\xa9\" ]",
        ),
        ("builtins.unsafeDiscardStringContext h1", b"\"\xc3\""),
        (
            "builtins.toXML h1",
            b"\"<?xml version='1.0' encoding='utf-8'?>\\n<expr>\\n  <string value=\\\"\xc3\\\" />\\n</expr>\\n\"",
        ),
    ];
    check(&fx.0, cases);
}

#[test]
fn attribute_names_are_bytes() {
    let fx = Fixture::new("names");
    let cases: &[(&str, &[u8])] = &[
        (
            "builtins.attrNames { \"${h1}\" = 1; \"${h2}\" = 2; \"é\" = 3; z = 4; }",
            b"[ \"z\" \"\xa9\" \"\xc3\" \"\xc3\xa9\" ]",
        ),
        ("{ \"${h1}\" = true; }.${h1}", b"true"),
        ("{ \"${h1}\" = true; } ? ${h1}", b"true"),
        ("{ \"${h1}\" = true; } ? ${e}", b"false"),
        (
            "builtins.listToAttrs [ { name = h2; value = 1; } { name = h1; value = 2; } ]",
            b"{ \"\xa9\" = 1; \"\xc3\" = 2; }",
        ),
        ("builtins.getAttr h1 { \"${h1}\" = 7; }", b"7"),
    ];
    check(&fx.0, cases);
}

#[test]
fn files_and_names_keep_bytes() {
    let fx = Fixture::new("files");
    let cases: &[(&str, &[u8])] = &[
        ("builtins.readFile ./d/bytes", b"\"\xff\xfeok\""),
        ("builtins.stringLength (builtins.readFile ./d/bytes)", b"4"),
        ("names", b"[ \"bytes\" \"n\xe9\" ]"),
        (
            "map (n: builtins.readFile (./d + \"/${n}\")) names",
            b"[ \"\xff\xfeok\" \"x\" ]",
        ),
        (
            "builtins.readDir ./d",
            b"{ bytes = \"regular\"; \"n\xe9\" = \"regular\"; }",
        ),
        (
            "builtins.hashFile \"sha256\" (./d + \"/${builtins.elemAt names 1}\")",
            b"\"2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881\"",
        ),
    ];
    check(&fx.0, cases);
}

#[test]
fn source_that_is_not_utf8() {
    let fx = Fixture::new("source");
    // An expression with raw bytes in a string literal, and a file with them.
    assert_eq!(value_in(&fx.0, b"\"a\xff\xfeb\""), b"\"a\xff\xfeb\"");
    assert_eq!(value_in(&fx.0, b"builtins.stringLength \"\xff\""), b"1");
    std::fs::write(fx.0.join("src.nix"), b"{ s = \"a\xff\xfeb\"; }").unwrap();
    assert_eq!(value_in(&fx.0, b"(import ./src.nix).s"), b"\"a\xff\xfeb\"");
    // A file whose name is not UTF-8 is found and imported.
    let name = {
        use std::os::unix::ffi::OsStrExt;
        std::ffi::OsStr::from_bytes(b"m\xe9.nix").to_owned()
    };
    std::fs::write(fx.0.join(&name), b"43").unwrap();
    assert_eq!(
        value_in(
            &fx.0,
            b"import (./. + \"/${builtins.substring 0 2 \"m\xe9\"}.nix\")"
        ),
        b"43"
    );
}

#[test]
fn json_refuses_what_is_not_utf8() {
    let fx = Fixture::new("json");
    let err = |text: &str| {
        let out = eval_in(&fx.0, format!("{PRELUDE}{text}").as_bytes());
        assert_ne!(out.exit_code, 0, "{text}: {}", out.stdout);
        out.stderr
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix("error: "))
            .next_back()
            .unwrap_or_default()
            .to_string()
    };
    let prefix = "JSON serialization error: [json.exception.type_error.316] ";
    assert_eq!(
        err("builtins.toJSON h1"),
        format!("{prefix}incomplete UTF-8 string; last byte: 0xC3")
    );
    assert_eq!(
        err("builtins.toJSON (\"_x: \" + h2 + \"_\")"),
        format!("{prefix}invalid UTF-8 byte at index 4: 0xA9")
    );
    assert_eq!(
        err("builtins.toJSON { \"${h1}_\" = 1; }"),
        format!("{prefix}invalid UTF-8 byte at index 1: 0x5F")
    );
}
