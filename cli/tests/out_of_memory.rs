//! Running out of memory ends kith as it ends C++ Nix: `error: out of memory`, exit
//! status 1, no abort (the allocator's doing, see `src/alloc.rs`). The binary runs under
//! `ulimit -v` (4 GB) through `sh -c`.

use std::process::Command;

/// Runs `kith eval --strict --expr EXPR` (plus `extra` arguments) with at most 4 GB of
/// address space; returns the exit status code and stderr.
fn run_limited(expr: &str, extra: &str) -> (Option<i32>, String) {
    let script = format!("ulimit -v 4000000 && exec \"$0\" eval --strict {extra} --expr \"$1\"");
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_kith"))
        .arg(expr)
        .output()
        .expect("running sh");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn out_of_memory_is_a_clean_error() {
    for expr in [
        "builtins.genList (x: x) 1000000000",
        "builtins.stringLength (builtins.concatStringsSep \"\" \
         (builtins.genList (x: \"xxxxxxxxxxxxxxxxxxxxxxxxxx\") 200000000))",
    ] {
        let (code, stderr) = run_limited(expr, "");
        assert_eq!(code, Some(1), "{expr}: {stderr}");
        assert!(
            stderr.ends_with("error: out of memory\n"),
            "{expr}: {stderr}"
        );
    }
}

#[test]
fn huge_max_call_depth_is_a_clean_error() {
    // C++ Nix 2.26: `error: stack overflow (possible infinite recursion)`.
    let (code, stderr) = run_limited(
        "let f = n: 1 + f (n + 1); in f 0",
        "--max-call-depth 1000000000",
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("error: stack overflow (possible infinite recursion)"),
        "{stderr}"
    );
}
