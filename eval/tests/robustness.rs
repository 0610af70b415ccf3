//! Robustness: deep, long and malformed input gives a value or a clean error, never a
//! panic, a hang or a stack overflow.
//!
//! Every case runs through [`kith_eval::instantiate::run`] on the test harness's ordinary
//! thread (2 MiB of stack): kith must not need a large stack from its caller. Expected
//! errors are C++ Nix's where Nix has one; where Nix's parser gives up (its parser stack
//! holds 10 000 entries, `error: memory exhausted`), kith reports
//! `expression nested too deeply`.

use kith_eval::instantiate::{run, Input, Outcome, Request};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Nesting far beyond any limit.
const DEEP: usize = 100_000;

/// Evaluates `text` strictly, as `nix-instantiate --eval --strict --expr`.
fn eval(text: &str) -> Outcome {
    let mut req = Request::new(Input::Expr(text.into()), PathBuf::from("/"));
    req.strict = true;
    run(&req)
}

/// Evaluates the file at `path` strictly.
fn eval_file(path: &Path) -> Outcome {
    let mut req = Request::new(Input::File(path.to_path_buf()), PathBuf::from("/"));
    req.strict = true;
    run(&req)
}

/// The value printed by a successful evaluation.
fn value(out: &Outcome) -> &str {
    assert_eq!(out.exit_code, 0, "expected a value, got:\n{}", out.stderr);
    out.stdout.trim_end()
}

/// The last `error: …` line of a failed evaluation, without leading spaces.
fn error(out: &Outcome) -> String {
    assert_ne!(out.exit_code, 0, "expected an error, got {}", out.stdout);
    out.stderr
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("error: "))
        .next_back()
        .unwrap_or_else(|| panic!("no error line in:\n{}", out.stderr))
        .to_string()
}

/// Runs `f` and checks it took at most `limit` (generous: debug builds are slow).
fn timed<T>(what: &str, limit: Duration, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let r = f();
    let took = start.elapsed();
    eprintln!("{what}: {took:?}");
    assert!(took <= limit, "{what} took {took:?}, more than {limit:?}");
    r
}

/// `open` × n, `inner`, `close` × n.
fn nest(open: &str, inner: &str, close: &str, n: usize) -> String {
    let mut s = String::with_capacity((open.len() + close.len()) * n + inner.len());
    s.push_str(&open.repeat(n));
    s.push_str(inner);
    s.push_str(&close.repeat(n));
    s
}

/// Input kith refuses to parse, with one of its two errors: too deep (C++ Nix has a
/// similar limit) or too costly for rnix (see `kith_eval::parse`).
fn too_deep(text: &str) {
    let out = timed("too deep", Duration::from_secs(5), || eval(text));
    let msg = error(&out);
    assert!(
        msg == "expression nested too deeply (limit 10000)"
            || msg == "expression too complex to parse",
        "{msg}"
    );
}

#[test]
fn nested_lists() {
    too_deep(&nest("[", "", "]", DEEP));
    // C++ Nix parses up to about 5 000 levels.
    let out = timed("4000 nested lists", Duration::from_secs(10), || {
        eval(&nest("[", "", "]", 4000))
    });
    assert!(value(&out).starts_with("[ [ [ [ ] ] ]") || value(&out).starts_with("[ [ [ ["));
    assert!(value(&out).ends_with("] ] ]"));
}

#[test]
fn nested_attrsets() {
    let out = timed("100k attrsets", Duration::from_secs(5), || {
        eval(&nest("{a=", "1", ";}", DEEP))
    });
    assert!(error(&out).contains("nested too deeply"), "{}", out.stderr);
    // rnix parses at most 512 nested expressions (C++ Nix about 2 000 attribute sets).
    let out = eval(&format!(
        "({}){}",
        nest("{a=", "1", ";}", 400),
        ".a".repeat(400)
    ));
    assert_eq!(value(&out), "1");
}

#[test]
fn nested_parentheses() {
    let out = timed("100k parentheses", Duration::from_secs(5), || {
        eval(&nest("(", "1", ")", DEEP))
    });
    assert!(error(&out).contains("nested too deeply"), "{}", out.stderr);
    // rnix 0.15.1 stops at 512; Nix, and kith's vendored rnix, go on.
    assert_eq!(value(&eval(&nest("(", "1", ")", 600))), "1");
    assert_eq!(value(&eval(&nest("(", "1", ")", 3000))), "1");
}

#[test]
fn deep_recursion_hits_max_call_depth() {
    let f = "let f = n: if n == 0 then 0 else 1 + f (n - 1); in f";
    let out = timed("f 100000", Duration::from_secs(10), || {
        eval(&format!("{f} 100000"))
    });
    assert_eq!(error(&out), "stack overflow; max-call-depth exceeded");
    // Within Nix's default max-call-depth (10 000).
    assert_eq!(value(&eval(&format!("{f} 5000"))), "5000");
}

#[test]
fn long_strict_fold() {
    let text = "builtins.foldl' (acc: x: acc + x) 0 (builtins.genList (x: x) 100000)";
    assert_eq!(value(&eval(text)), "4999950000");
}

#[test]
fn long_lazy_chain() {
    // A chain of 100 000 unevaluated additions, forced at the end: C++ Nix overflows its
    // stack here ("stack overflow (possible infinite recursion)"); kith computes it.
    let text = "(builtins.foldl' (acc: x: { v = acc.v + x; }) { v = 0; } \
                (builtins.genList (x: x) 100000)).v";
    let out = timed("lazy chain", Duration::from_secs(10), || eval(text));
    assert_eq!(value(&out), "4999950000");
    // foldr-style: each step calls the next; Nix stops at max-call-depth.
    let text = "let foldr = op: nul: list: let len = builtins.length list; \
                go = n: if n == len then nul else op (builtins.elemAt list n) (go (n + 1)); \
                in go 0; in foldr (x: acc: x + acc) 0 (builtins.genList (x: x) 100000)";
    let out = timed("foldr chain", Duration::from_secs(10), || eval(text));
    assert_eq!(error(&out), "stack overflow; max-call-depth exceeded");
}

#[test]
fn update_chains() {
    let chain = |n: usize| {
        (0..n)
            .map(|i| format!("{{a{i}={i};}}"))
            .collect::<Vec<_>>()
            .join(" // ")
    };
    too_deep(&chain(DEEP));
    let text = format!("builtins.length (builtins.attrNames ({}))", chain(5000));
    let out = timed("5000 //", Duration::from_secs(10), || eval(&text));
    assert_eq!(value(&out), "5000");
}

#[test]
fn operator_chains() {
    too_deep(&vec!["1"; DEEP].join(" + "));
    too_deep(&format!("{}true", "!".repeat(DEEP)));
    // Without spaces (rnix's tokenizer used to be quadratic here).
    too_deep(&format!("{}1", "-".repeat(DEEP)));
    let out = eval(&vec!["1"; 5000].join(" + "));
    assert_eq!(value(&out), "5000");
}

#[test]
fn nested_lets() {
    let text: String = (0..DEEP).map(|i| format!("let a{i} = {i}; in ")).collect();
    let out = timed("100k lets", Duration::from_secs(5), || {
        eval(&format!("{text}a0"))
    });
    assert!(error(&out).contains("nested too deeply"), "{}", out.stderr);
    let text: String = (0..400).map(|i| format!("let a{i} = {i}; in ")).collect();
    assert_eq!(value(&eval(&format!("{text}a0 + a399"))), "399");
}

#[test]
fn nested_interpolation() {
    let out = timed("100k interpolations", Duration::from_secs(5), || {
        eval(&format!("\"{}\"", nest("${\"", "x", "\"}", DEEP)))
    });
    assert!(error(&out).contains("nested too deeply"), "{}", out.stderr);
    let out = eval(&format!("\"{}\"", nest("${\"", "x", "\"}", 400)));
    assert_eq!(value(&out), "\"x\"");
}

#[test]
fn long_flat_list() {
    let text = format!("builtins.length [ {} ]", vec!["1"; DEEP].join(" "));
    assert_eq!(value(&eval(&text)), "100000");
    let text = format!("builtins.length [ {} ]", vec!["a.b"; DEEP].join(" "));
    let out = eval(&format!("let a = {{ b = 1; }}; in {text}"));
    assert_eq!(value(&out), "100000");
}

/// A generated "fleet": `n` machine records in a let-bound list, mapped and summarised.
fn fleet(n: usize) -> String {
    let mut s = String::from("let\n  machines = [\n");
    for i in 0..n {
        s.push_str(&format!(
            "    {{ name = \"host-{i:06}\"; ip = \"10.{}.{}.{}\"; cores = {}; \
             tags = [ \"rack-{}\" \"zone-{}\" ]; services.ssh.enable = {}; \
             services.web = {{ port = {}; root = \"/srv/www/host-{i:06}\"; }}; }}\n",
            i / 65536 % 256,
            i / 256 % 256,
            i % 256,
            1 + i % 64,
            i % 40,
            i % 3,
            i % 2 == 0,
            8000 + i % 1000,
        ));
    }
    s.push_str("  ];\n  sum = builtins.foldl' (a: m: a + m.cores) 0 machines;\n");
    s.push_str("  ssh = builtins.length (builtins.filter (m: m.services.ssh.enable) machines);\n");
    s.push_str("in { inherit sum ssh; count = builtins.length machines; }\n");
    s
}

#[test]
fn large_generated_file() {
    // 10 MB in release builds; a tenth of that in (much slower) debug builds.
    let n = if cfg!(debug_assertions) {
        5_000
    } else {
        50_000
    };
    let text = fleet(n);
    let dir = std::env::temp_dir().join(format!("kith-robustness-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("fleet.nix");
    std::fs::write(&path, &text).unwrap();
    let out = timed(
        &format!("{} MB file", text.len() / 1_000_000),
        Duration::from_secs(30),
        || eval_file(&path),
    );
    let sum: usize = (0..n).map(|i| 1 + i % 64).sum();
    let ssh = n.div_ceil(2);
    assert_eq!(
        value(&out),
        format!("{{ count = {n}; ssh = {ssh}; sum = {sum}; }}")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn invalid_utf8_import() {
    // Source is bytes, as in Nix: a string literal keeps the bytes that are not UTF-8.
    let dir = std::env::temp_dir().join(format!("kith-utf8-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.nix");
    std::fs::write(&path, b"\"a\xff\xfeb\"").unwrap();
    let out = eval(&format!("import {}", path.display()));
    assert_eq!(out.stdout_bytes().as_ref(), b"\"a\xff\xfeb\"\n");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cyclic_imports() {
    let dir = std::env::temp_dir().join(format!("kith-cycle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.nix"), "import ./b.nix").unwrap();
    std::fs::write(dir.join("b.nix"), "import ./a.nix").unwrap();
    let out = eval_file(&dir.join("a.nix"));
    // C++ Nix 2.26 re-imports until "stack overflow; max-call-depth exceeded"; kith
    // notices the cycle.
    assert_eq!(error(&out), "infinite recursion encountered");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn infinite_recursion() {
    let out = eval("let x = x; in x");
    assert_eq!(error(&out), "infinite recursion encountered");
    let out = eval("rec { a = b; b = a; }.a");
    assert_eq!(error(&out), "infinite recursion encountered");
}

/// `n` lists nested in each other, built by evaluation (no deep syntax).
fn deep_list(n: usize, inner: &str) -> String {
    format!("builtins.foldl' (acc: x: [acc]) {inner} (builtins.genList (x: x) {n})")
}

/// `n` sets nested in each other under `a`.
fn deep_set(n: usize) -> String {
    format!("builtins.foldl' (acc: x: {{ a = acc; }}) {{ }} (builtins.genList (x: x) {n})")
}

#[test]
fn deep_values_are_freed() {
    // Nix: 1 and [ "a" ]. Freeing the value must not recurse once per level.
    let out = timed("drop 200k lists", Duration::from_secs(10), || {
        eval(&format!("builtins.length ({})", deep_list(200_000, "[]")))
    });
    assert_eq!(value(&out), "1");
    let out = eval(&format!("builtins.attrNames ({})", deep_set(200_000)));
    assert_eq!(value(&out), "[ \"a\" ]");
}

#[test]
fn deep_values_compare_coerce_and_print() {
    // C++ Nix 2.26 gives these values (its recursion runs on a 64 MiB stack).
    let (a, b) = (deep_list(100_000, "[]"), deep_list(100_000, "[]"));
    assert_eq!(value(&eval(&format!("({a}) == ({b})"))), "true");
    let (a, b) = (deep_set(100_000), deep_set(100_000));
    assert_eq!(value(&eval(&format!("({a}) == ({b})"))), "true");
    // `<` compares nested lists in one pass (Nix takes quadratic time, `true` at 5 000).
    let (a, b) = (deep_list(100_000, "[]"), deep_list(100_000, "[1]"));
    let out = timed("100k <", Duration::from_secs(10), || {
        eval(&format!("({a}) < ({b})"))
    });
    assert_eq!(value(&out), "true");
    let text = format!(
        "builtins.stringLength (toString ({}))",
        deep_list(100_000, "[]")
    );
    assert_eq!(value(&eval(&text)), "0");
    // Nix's lang tests (eval-fail-deepseq-/toJSON-stack-overflow): max-call-depth.
    let text = format!("builtins.deepSeq ({}) 1", deep_list(100_000, "[]"));
    assert_eq!(
        error(&eval(&text)),
        "stack overflow; max-call-depth exceeded"
    );
    let text = format!(
        "builtins.stringLength (builtins.toJSON ({}))",
        deep_list(100_000, "[]")
    );
    assert_eq!(
        error(&eval(&text)),
        "stack overflow; max-call-depth exceeded"
    );
    // `--strict` forces deeply first, counting levels against max-call-depth as deepSeq
    // does (the same error as Nix).
    let text = format!(
        "let d = {}; in builtins.seq (d == d) d",
        deep_list(20_000, "[]")
    );
    let out = eval(&text);
    assert_eq!(error(&out), "stack overflow; max-call-depth exceeded");
}

#[test]
fn cyclic_values_end_with_nix_error() {
    // Each as C++ Nix 2.26 ends it.
    for (text, msg) in [
        (
            "let x = { a = x; }; y = { a = y; }; in x == y",
            "stack overflow (possible infinite recursion)",
        ),
        (
            "let x = [ x ]; y = [ y ]; in x < y",
            "stack overflow (possible infinite recursion)",
        ),
        (
            "let x = { outPath = x; }; in \"${x}\"",
            "stack overflow (possible infinite recursion)",
        ),
        (
            "let x = { __toString = self: x; }; in \"${x}\"",
            "stack overflow (possible infinite recursion)",
        ),
        (
            "let x = { __toString = self: self; }; in toString x",
            "stack overflow (possible infinite recursion)",
        ),
        // Nix's lang tests: toJSON and deepSeq count call depth.
        (
            "let x = [ x ]; in builtins.toJSON x",
            "stack overflow; max-call-depth exceeded",
        ),
        (
            "let x = { __functor = self: x; }; in x 1",
            "stack overflow; max-call-depth exceeded",
        ),
        (
            "let x = { __functor = x; }; in x 1",
            "stack overflow; max-call-depth exceeded",
        ),
    ] {
        let out = timed(text, Duration::from_secs(10), || eval(text));
        assert_eq!(error(&out), msg, "{text}");
    }
    // Nix: true, and { a = «repeated»; }.
    assert_eq!(value(&eval("let x = [ x ]; in x == [ x ]")), "true");
    assert_eq!(
        value(&eval("let x = { a = x; }; in x")),
        "{ a = «repeated»; }"
    );
}

#[test]
fn regex_limits() {
    // Nix: false (the match succeeds); glibc's recursion runs on a grown stack.
    let n = 15_000;
    let text = format!(
        "builtins.match \"{}a{}\" \"a\" == null",
        "(".repeat(n),
        ")".repeat(n)
    );
    assert_eq!(value(&eval(&text)), "false");
    // Nix refuses at once what libstdc++ would build with more than 100 000 states.
    let out = timed("a{1000}{1000}{1000}", Duration::from_secs(5), || {
        eval("builtins.match \"a{1000}{1000}{1000}\" \"a\"")
    });
    assert_eq!(
        error(&out),
        "memory limit exceeded by regular expression 'a{1000}{1000}{1000}'"
    );
}

#[test]
fn long_else_if_chains_and_select_chains() {
    // C++ Nix 2.26 accepts both (rnix 0.15.1 refused the first at 512 levels, kith's
    // tokenizing check the second).
    let mut text = String::new();
    for i in 0..1000 {
        text.push_str(&format!("if x == {i} then {i} else "));
    }
    let out = timed("else if x 1000", Duration::from_secs(10), || {
        eval(&format!("let x = 999; in {text}null"))
    });
    assert_eq!(value(&out), "999");
    let text = format!(
        "let x = {{ b = x; }}; in (x{}).b.b == x",
        ".b".repeat(20_000)
    );
    let out = timed("20k select chain", Duration::from_secs(10), || eval(&text));
    assert_eq!(value(&out), "true");
}
