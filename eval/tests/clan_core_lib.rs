//! Conformance: clan-core's own library tests (nix-unit test sets), run in-process.
//!
//! clan-core tests its Nix library with nix-unit: attribute sets whose `test*` attributes
//! are `{ expr; expected; }` (or `{ expr; expectedError = { type; msg?; }; }`), nested in
//! plain attribute sets. This test builds the same test sets clan-core's flake exposes
//! (`evalTests-exports`, `evalTests-types`, `evalTests-distributedServices`), with
//! clan-core's library built as `/work/shared/tools/clan-oracle.nix` builds it from nixpkgs'
//! `lib`, and checks every test as nix-unit does, in one evaluator:
//!
//! - `expected`: `expr` and `expected` are forced deeply and compared with Nix's `==`;
//! - `expectedError`: forcing `expr` deeply fails with an error of that `type` (nix-unit's
//!   C++ exception class, approximated from kith's error kind and message) whose message
//!   matches `msg` when given (nix-unit reads `msg`; other keys are ignored).
//!
//! Tests are named by their attribute path. Known failures are listed in
//! `clan_core_lib_expected_failures.txt` (`path  # reason`); the test fails when an
//! unlisted test fails or a listed one passes. `KITH_CLAN_LIB_BLESS=1` rewrites the list.
//!
//! The corpus lives outside the repository at `../shared/corpus` (`KITH_CORPUS_DIR`
//! overrides it); when it is absent the test says so and passes, or fails with
//! `KITH_REQUIRE_CORPUS=1`.

mod common;

use kith_eval::Symbol;
use kith_eval::Value;
use kith_eval::{ErrorKind, EvalError};
use kith_eval::{Eval, EvalOptions};
use regex::Regex;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

const EXPECTED_FAILURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/clan_core_lib_expected_failures.txt"
);
/// The evaluation runs on a thread with this stack, as deep Nix code needs it.
const STACK: usize = 512 << 20;
/// The whole run must finish within this long.
const TIMEOUT: Duration = Duration::from_secs(60);

/// The test sets, as clan-core's flake modules build them. `CORPUS` is replaced by the
/// corpus directory.
const TEST_SETS: &str = r#"
let
  corpus = CORPUS;
  lib = import (corpus + "/nixpkgs-lib/lib");
  core = corpus + "/clan-core";
  coreModules = lib.mapAttrs (name: _: core + "/clanServices/${name}/default.nix") (
    lib.filterAttrs (
      name: type:
      type == "directory"
      && !(builtins.elem name [ "installer" "kde" ])
      && builtins.pathExists (core + "/clanServices/${name}/default.nix")
    ) (builtins.readDir (core + "/clanServices"))
  );
  clanLibBase = import (core + "/lib") { inherit lib; };
  clanLib = lib.fix (
    lib.extends (_final: _prev: {
      clan = import (core + "/lib/clan") { inherit lib clan-core; };
    }) clanLibBase.__unfix__
  );
  clan-core = {
    inherit clanLib;
    lib = clanLib;
    modules.clan.default = lib.modules.importApply (core + "/modules/clan") { inherit clan-core; };
    clan.modules = coreModules;
    clan.deprecatedModules = [ ];
    clan.templates = { };
    inputs.nixpkgs.lib = lib;
  };
in
{
  # lib/flake-module.nix: legacyPackages.evalTests-exports
  exports = import (core + "/lib/exports/tests.nix") { inherit lib clan-core; };
  # lib/types/flake-module.nix via clanLib.test.flakeModules.makeEvalChecks
  types = import (core + "/lib/types/tests.nix") {
    inherit lib clanLib;
    module = throw "";
  };
  # lib/inventory/distributed-service/flake-module.nix
  distributedServices = import (core + "/lib/inventory/distributed-service/tests") {
    inherit lib clanLib;
  };
}
"#;

/// One test's result: `None` passed, else why it failed.
struct Outcome {
    path: String,
    failure: Option<String>,
}

#[test]
fn clan_core_lib() {
    let Some(corpus) = common::corpus("", "clan-core lib") else {
        return;
    };
    if common::present(&corpus.join("clan-core/lib"), "clan-core lib").is_none() {
        return;
    }
    let outcomes = match common::run_isolated("clan-core-lib".into(), STACK, TIMEOUT, move || {
        run_tests(&corpus)
    }) {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => panic!("clan-core lib: the test sets do not evaluate: {e}"),
        Err(e) => panic!("clan-core lib: evaluation did not finish: {e}"),
    };
    let expected = read_expected_failures();
    if common::env_flag("KITH_CLAN_LIB_BLESS") {
        bless(&outcomes, &expected);
    }
    let unexpected = summarize(&outcomes, &expected);
    assert!(
        unexpected == 0,
        "clan-core lib: {unexpected} unexpected results (see above)"
    );
}

/// Evaluates the test sets and runs every test in one evaluator, as nix-unit does.
fn run_tests(corpus: &Path) -> Result<Vec<Outcome>, String> {
    std::env::set_var("NO_COLOR", "1");
    // Warnings (clan-core has deprecation notices) are kept, not printed.
    let options = EvalOptions {
        capture_diagnostics: true,
        ..EvalOptions::default()
    };
    let mut ev = Eval::new(options);
    let text = TEST_SETS.replace("CORPUS", &corpus.to_string_lossy());
    let root = ev
        .eval_expr(&text, corpus)
        .map_err(|e| e.render(&ev.sources))?;
    let mut outcomes = Vec::new();
    walk(&mut ev, &root, "", &mut outcomes);
    Ok(outcomes)
}

/// Collects the tests of a test set: `test*` attributes are tests, other attribute sets
/// are searched recursively, anything else is ignored.
fn walk(ev: &mut Eval, set: &Value, path: &str, out: &mut Vec<Outcome>) {
    let attrs = match ev.force_attrs(set) {
        Ok(a) => a,
        Err(e) => {
            let failure = Some(format!("the test set fails: {}", one_line(&e)));
            out.push(Outcome {
                path: path.to_string(),
                failure,
            });
            return;
        }
    };
    for attr in attrs.sorted_by_name() {
        let name = attr.name.as_str();
        let sub = if path.is_empty() {
            name.to_string()
        } else {
            format!("{path}.{name}")
        };
        if name.starts_with("test") {
            let failure = run_test(ev, &attr.value);
            out.push(Outcome { path: sub, failure });
        } else if matches!(ev.force(&attr.value), Ok(Value::Attrs(_))) {
            walk(ev, &attr.value, &sub, out);
        }
    }
}

/// Runs one test; `None` if it passed.
fn run_test(ev: &mut Eval, test: &Value) -> Option<String> {
    let attrs = match ev.force_attrs(test) {
        Ok(a) => a,
        Err(e) => return Some(format!("the test fails: {}", one_line(&e))),
    };
    let Some(expr) = attrs.get(Symbol::new("expr")).cloned() else {
        return Some("no `expr`".into());
    };
    if let Some(want) = attrs.get(Symbol::new("expectedError")) {
        return check_error(ev, &expr, want);
    }
    let Some(expected) = attrs.get(Symbol::new("expected")).cloned() else {
        return Some("neither `expected` nor `expectedError`".into());
    };
    let got = match ev.force_deep(&expr) {
        Ok(v) => v,
        Err(e) => return Some(format!("expr fails: {}", one_line(&e))),
    };
    let want = match ev.force_deep(&expected) {
        Ok(v) => v,
        Err(e) => return Some(format!("expected fails: {}", one_line(&e))),
    };
    match ev.equal(&got, &want) {
        Ok(true) => None,
        Ok(false) => Some(format!(
            "got {}, expected {}",
            show(ev, &got),
            show(ev, &want)
        )),
        Err(e) => Some(format!("comparison fails: {}", one_line(&e))),
    }
}

/// An `expectedError` test: forcing `expr` fails with the right type and message.
fn check_error(ev: &mut Eval, expr: &Value, want: &Value) -> Option<String> {
    let spec = match ev.force_attrs(want) {
        Ok(a) => a,
        Err(e) => return Some(format!("expectedError fails: {}", one_line(&e))),
    };
    let text = |ev: &mut Eval, name: &str| -> Option<String> {
        let v = spec.get(Symbol::new(name))?.clone();
        ev.force_string(&v).ok().map(|s| s.encoded().into_owned())
    };
    let want_type = text(ev, "type");
    let want_msg = text(ev, "msg");
    let err = match ev.force_deep(expr) {
        Ok(v) => return Some(format!("no error; got {}", show(ev, &v))),
        Err(e) => e,
    };
    let got_type = error_type(&err);
    if let Some(t) = want_type.filter(|t| *t != got_type) {
        return Some(format!(
            "error type {got_type}, expected {t}: {}",
            one_line(&err)
        ));
    }
    // No `msg`: the type alone decides.
    want_msg.and_then(|msg| match Regex::new(&msg) {
        Ok(re) if re.is_match(&err.message) => None,
        Ok(_) => Some(format!("message `{}` does not match `{msg}`", err.message)),
        Err(e) => Some(format!("bad msg regex `{msg}`: {e}")),
    })
}

/// The name of the C++ Nix exception class an error would be, as nix-unit reports it.
/// kith's errors carry a kind, not a class, so type errors are told apart by message.
fn error_type(e: &EvalError) -> &'static str {
    const TYPE_ERRORS: &[&str] = &[
        "expected a",
        "cannot convert",
        "cannot coerce",
        "value is",
        "cannot compare",
        "cannot add",
    ];
    match e.kind {
        ErrorKind::Throw => "ThrownError",
        ErrorKind::Assert => "AssertionError",
        ErrorKind::Abort => "Abort",
        ErrorKind::InfiniteRecursion => "InfiniteRecursionError",
        ErrorKind::StackOverflow => "StackOverflowError",
        ErrorKind::Parse => "ParseError",
        ErrorKind::Eval if TYPE_ERRORS.iter().any(|p| e.message.starts_with(p)) => "TypeError",
        ErrorKind::Eval => "EvalError",
    }
}

/// A value as Nix shows it in error messages.
fn show(ev: &Eval, v: &Value) -> String {
    clip(&kith_eval::show_for_error(ev, v))
}

/// An error's message on one line.
fn one_line(e: &EvalError) -> String {
    clip(&e.message)
}

/// Shortens `s` for one-line hints.
fn clip(s: &str) -> String {
    common::clip(s, 200)
}

/// The expected-failure list.
fn read_expected_failures() -> BTreeMap<String, String> {
    common::read_expected_failures(EXPECTED_FAILURES)
}

/// Prints counts per test file and every unexpected result; returns how many there were.
fn summarize(outcomes: &[Outcome], expected: &BTreeMap<String, String>) -> usize {
    let mut text = String::new();
    let mut unexpected = 0;
    // Per test set (the first two path components): (passed, failed).
    let mut per_set: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for o in outcomes {
        let set: Vec<&str> = o.path.splitn(3, '.').take(2).collect();
        let counts = per_set.entry(set.join(".")).or_default();
        let listed = expected.contains_key(&o.path);
        match (&o.failure, listed) {
            (None, listed) => {
                counts.0 += 1;
                if listed {
                    unexpected += 1;
                    let _ = writeln!(text, "  now passes (remove from the list): {}", o.path);
                }
            }
            (Some(why), listed) => {
                counts.1 += 1;
                if !listed {
                    unexpected += 1;
                    let _ = writeln!(text, "  FAIL {}: {why}", o.path);
                }
            }
        }
    }
    for name in expected.keys() {
        if !outcomes.iter().any(|o| &o.path == name) {
            let _ = writeln!(text, "  listed but not a test: {name}");
        }
    }
    for (set, (p, f)) in &per_set {
        let _ = writeln!(text, "  {set}: {p} passed, {f} failed");
    }
    let passed = outcomes.iter().filter(|o| o.failure.is_none()).count();
    let _ = writeln!(
        text,
        "clan-core lib: {passed} passed, {} failed",
        outcomes.len() - passed
    );
    report(&text);
    unexpected
}

/// Rewrites the expected-failure list from the current failures, keeping known reasons.
fn bless(outcomes: &[Outcome], expected: &BTreeMap<String, String>) {
    let mut text = String::from(
        "# clan-core library tests kith does not pass yet: `path  # reason`.\n\
         # The test fails when a test listed here passes (remove it) or an unlisted one fails.\n\
         # Regenerate with `KITH_CLAN_LIB_BLESS=1 cargo test --release -p kith-eval --test clan_core_lib`.\n",
    );
    for o in outcomes {
        let Some(why) = &o.failure else { continue };
        let reason = expected
            .get(&o.path)
            .filter(|r| !r.is_empty())
            .cloned()
            .unwrap_or_else(|| why.replace('#', "♯"));
        let _ = writeln!(text, "{}  # {}", o.path, reason);
    }
    if let Err(e) = std::fs::write(EXPECTED_FAILURES, text) {
        report(&format!(
            "clan-core lib: cannot write {EXPECTED_FAILURES}: {e}\n"
        ));
    }
}

/// Prints to stderr (shown by `cargo test` for failing tests and with `--nocapture`).
fn report(text: &str) {
    let _ = std::io::stderr().write_all(text.as_bytes());
}
