//! Writing output never panics: `trace`/`warn` with a full or closed stderr still print the
//! result and succeed (as `nix-instantiate` does), and a full stdout is a clean error exit
//! (`nix eval`'s `error: writing to file: No space left on device`, exit 1).

use std::process::{Command, Output, Stdio};

/// Runs `kith eval -E EXPR` through `sh` with the shell redirection `redirect`.
fn kith_eval(expr: &str, redirect: &str) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            "exec \"$0\" eval --no-ir-cache -E \"$1\" {redirect}"
        ))
        .arg(env!("CARGO_BIN_EXE_kith"))
        .arg(expr)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn trace_and_warn_with_a_full_or_closed_stderr_print_the_result() {
    for expr in [r#"builtins.trace "x" 1"#, r#"builtins.warn "w" 1"#] {
        for redirect in ["2>/dev/full", "2>&-"] {
            let out = kith_eval(expr, redirect);
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                "1\n",
                "{expr} with {redirect}"
            );
            assert!(out.status.success(), "{expr} with {redirect}: {out:?}");
        }
    }
}

#[test]
fn a_full_stdout_is_an_error_not_a_panic() {
    let out = kith_eval(r#"builtins.trace "x" 1"#, ">/dev/full");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.ends_with("error: writing to file: No space left on device\n"),
        "{stderr}"
    );
    // Both full: still no panic.
    let out = kith_eval("1", ">/dev/full 2>/dev/full");
    assert_eq!(out.status.code(), Some(1));
}
