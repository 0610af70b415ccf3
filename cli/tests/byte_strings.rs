//! Command-line input that is not UTF-8 — `-E` text, `--argstr` values, file names and
//! environment variables — is read as bytes and printed back byte for byte, as
//! `nix-instantiate` does (expected outputs are Nix 2.26's).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::process::Command;

fn kith(args: &[&OsStr], env: &[(&str, &OsStr)]) -> Vec<u8> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kith"));
    cmd.arg("eval").arg("--no-ir-cache").args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn os(b: &[u8]) -> &OsStr {
    OsStr::from_bytes(b)
}

/// `kith eval --argstr x VALUE -E EXPR`.
fn with_argstr(value: &[u8], expr: &str) -> Vec<u8> {
    let args = [
        os(b"--argstr"),
        os(b"x"),
        os(value),
        os(b"-E"),
        OsStr::new(expr),
    ];
    kith(&args, &[])
}

#[test]
fn expression_argument_and_argstr_keep_bytes() {
    assert_eq!(kith(&[os(b"-E"), os(b"\"\xff\"")], &[]), b"\"\xff\"\n");
    assert_eq!(with_argstr(b"a\xff", "{x}: x"), b"\"a\xff\"\n");
    assert_eq!(
        with_argstr(b"a\xff", "{x}: builtins.stringLength x"),
        b"2\n"
    );
}

#[test]
fn environment_values_keep_bytes() {
    assert_eq!(
        kith(
            &[os(b"-E"), os(b"builtins.getEnv \"KITH_TEST_BYTES\"")],
            &[("KITH_TEST_BYTES", os(b"v\xfe"))]
        ),
        b"\"v\xfe\"\n"
    );
}

#[test]
fn file_names_that_are_not_utf8() {
    let dir = std::env::temp_dir().join(format!("kith-cli-bytes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(os(b"\xe9.nix"));
    std::fs::write(&file, b"\"ok \xff\"").unwrap();
    assert_eq!(kith(&[file.as_os_str()], &[]), b"\"ok \xff\"\n");
    let _ = std::fs::remove_dir_all(&dir);
}
