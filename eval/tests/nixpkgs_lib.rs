//! Conformance: nixpkgs' `lib` evaluates in kith as in C++ Nix.
//!
//! Each case runs in-process through [`kith_eval::instantiate::run`], as
//! `nix-instantiate --eval --strict` would, on its own big-stack thread:
//!
//! - nixpkgs' pure `nix-instantiate --eval --strict` suites — `lib/tests/misc.nix`,
//!   `lib/tests/systems.nix`, `lib/tests/fetchers.nix` (each `[ ]` when every test passes)
//!   and `lib/path/tests/unit.nix` (`null`);
//! - a walk over `lib` and each of its attribute-set members (`lib.types`, `lib.strings`, …)
//!   that forces every attribute to weak head normal form: none may fail, except the
//!   attributes in [`WALK_SKIP`], which need files outside `lib/` that the corpus lacks;
//! - the same walk describing every attribute (type, function arguments, size, printed
//!   scalars), compared line by line with `nixpkgs_lib_walk.exp`, which is Nix 2.26.3's
//!   output for the same expression (`lib.flakes` and its aliases are left out there:
//!   `parseFlakeRef` and `flakeRefToString` are experimental or missing in Nix 2.26).
//!
//! nixpkgs' `lib/tests/modules.sh` is covered by `module_system.rs`.
//!
//! The corpus lives outside the repository at `../shared/corpus/nixpkgs-lib` (relative to
//! the workspace root, `KITH_CORPUS_DIR` overrides it); when it is absent each test says so
//! and passes, or fails with `KITH_REQUIRE_CORPUS=1`.

mod common;

use kith_eval::instantiate::{run, Input, Outcome, Request};
use std::path::{Path, PathBuf};
use std::time::Duration;

const WALK_EXPECTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/nixpkgs_lib_walk.exp");
/// Each case runs on its own thread with this stack, as deep Nix code needs it.
const CASE_STACK: usize = 256 << 20;
/// A case still running after this long fails.
const CASE_TIMEOUT: Duration = Duration::from_secs(60);

/// `lib` attributes that import files outside `lib/` (`../maintainers/…`), absent from the
/// corpus; forcing them fails with an uncatchable "path does not exist" error.
const WALK_SKIP: &[&str] = &["maintainers", "teams"];
/// [`WALK_SKIP`] plus what Nix 2.26.3 cannot force (the oracle of `nixpkgs_lib_walk.exp`).
const WALK_SKIP_ORACLE: &[&str] = &[
    "maintainers",
    "teams",
    "flakes",
    "flakeRefToString",
    "parseFlakeRef",
];

/// The walk: `LIB` is the library's directory, `SKIP` a Nix list of names to leave out
/// (`"name"` at the top level, `"set.name"` below). `failing` lists the attributes whose
/// forcing throws; `describe` gives one line per attribute.
const WALK: &str = r#"
let
  lib = import LIB;
  skip = SKIP;
  inherit (builtins) attrNames concatMap concatStringsSep elem filter functionArgs isAttrs
    length toJSON tryEval typeOf;
  describeValue = v:
    let t = typeOf v; in
    if t == "lambda" then "lambda:" + concatStringsSep "," (attrNames (functionArgs v))
    else if t == "set" then "set:${toString (length (attrNames v))}:${if v ? __functor then "functor" else ""}"
    else if t == "list" then "list:${toString (length v)}"
    else if elem t [ "string" "int" "bool" "path" "float" "null" ] then "${t}:${toJSON v}"
    else t;
  describeSet = prefix: set:
    concatMap (n:
      let r = tryEval set.${n}; name = "${prefix}${n}"; in
      if elem name skip then [ ]
      else if r.success then [ "${name} ${describeValue r.value}" ]
      else [ "${name} FAIL" ]
    ) (attrNames set);
  subsets = filter
    (n: !elem n skip && (let r = tryEval lib.${n}; in r.success && isAttrs r.value))
    (attrNames lib);
  lines = describeSet "" lib ++ concatMap (n: describeSet "${n}." lib.${n}) subsets;
in {
  failing = filter (l: builtins.match ".* FAIL" l != null) lines;
  count = length lines;
  inherit lines;
}
"#;

/// The corpus's `lib` directory, or `None` (after saying so) when it is absent.
fn lib_dir(test: &str) -> Option<PathBuf> {
    common::corpus("nixpkgs-lib/lib", test)
}

/// `nix-instantiate --eval --strict [--json]` of `input` from `cwd`, with `args` as `--arg`s.
fn request(input: Input, cwd: &Path, json: bool, args: &[(&str, String)]) -> Request {
    let mut req = Request::new(input, cwd.to_path_buf());
    req.strict = true;
    if json {
        req.format = kith_eval::instantiate::OutputFormat::Json;
    }
    for (name, expr) in args {
        req.args.push((
            name.to_string(),
            kith_eval::instantiate::AutoArg::Expr(expr.clone().into_bytes()),
        ));
    }
    req.options.store_dir = "/nix/store".into();
    // Deprecation warnings (`lib.fold`, `lib.cli.toGNUCommandLine`, …) are expected.
    req.options.capture_diagnostics = true;
    req
}

/// Runs `req` on a big-stack thread, failing the test on a timeout or panic.
fn run_big(name: &str, req: Request) -> Outcome {
    common::run_isolated(name.into(), CASE_STACK, CASE_TIMEOUT, move || run(&req))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Evaluates `file` (relative to `lib/`) strictly and checks it prints `expected`.
fn check_suite(test: &str, file: &str, args: &[(&str, String)], expected: &str) {
    let Some(lib) = lib_dir(test) else { return };
    let req = request(Input::File(lib.join(file)), &lib, false, args);
    let out = run_big(test, req);
    assert!(
        out.exit_code == 0 && out.stdout.trim_end() == expected,
        "{file}: expected `{expected}`, got exit code {}\nstdout:\n{}\nstderr:\n{}",
        out.exit_code,
        out.stdout,
        out.stderr
    );
}

#[test]
fn misc_nix_passes() {
    check_suite("misc.nix", "tests/misc.nix", &[], "[ ]");
}

#[test]
fn systems_nix_passes() {
    check_suite("systems.nix", "tests/systems.nix", &[], "[ ]");
}

#[test]
fn fetchers_nix_passes() {
    check_suite("fetchers.nix", "tests/fetchers.nix", &[], "[ ]");
}

#[test]
fn path_unit_tests_pass() {
    let Some(lib) = lib_dir("path unit tests") else {
        return;
    };
    let args = [("libpath", lib.to_string_lossy().into_owned())];
    check_suite("path unit tests", "path/tests/unit.nix", &args, "null");
}

/// The walk's JSON result for `skip`: `(failing, count, lines)`.
fn walk(lib: &Path, skip: &[&str]) -> (Vec<String>, u64, Vec<String>) {
    let skip_list = skip
        .iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(" ");
    let expr = WALK
        .replace("LIB", &lib.to_string_lossy())
        .replace("SKIP", &format!("[ {skip_list} ]"));
    let out = run_big(
        "lib walk",
        request(Input::Expr(expr.into()), lib, true, &[]),
    );
    assert_eq!(
        out.exit_code, 0,
        "the lib walk failed to evaluate:\n{}",
        out.stderr
    );
    let json: serde_json::Value = match serde_json::from_str(&out.stdout) {
        Ok(v) => v,
        Err(e) => panic!("the lib walk printed invalid JSON ({e}): {}", out.stdout),
    };
    let strings = |key: &str| -> Vec<String> {
        json[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let count = json["count"].as_u64().unwrap_or(0);
    (strings("failing"), count, strings("lines"))
}

#[test]
fn every_lib_attribute_forces() {
    let Some(lib) = lib_dir("lib walk") else {
        return;
    };
    let (failing, count, _) = walk(&lib, WALK_SKIP);
    assert!(
        failing.is_empty(),
        "lib attributes that fail to force: {failing:?}"
    );
    // `lib` has well over a thousand attributes at these two levels.
    assert!(count > 1500, "the walk saw only {count} attributes");
}

#[test]
fn lib_walk_matches_nix() {
    let Some(lib) = lib_dir("lib walk vs Nix") else {
        return;
    };
    let expected = match std::fs::read_to_string(WALK_EXPECTED) {
        Ok(s) => s,
        Err(e) => panic!("cannot read {WALK_EXPECTED}: {e}"),
    };
    let expected: Vec<&str> = expected.lines().filter(|l| !l.is_empty()).collect();
    let (_, _, lines) = walk(&lib, WALK_SKIP_ORACLE);
    let missing: Vec<&&str> = expected
        .iter()
        .filter(|l| !lines.iter().any(|x| x == **l))
        .collect();
    let extra: Vec<&String> = lines
        .iter()
        .filter(|l| !expected.contains(&l.as_str()))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "lib walk differs from Nix 2.26.3:\n  Nix only: {missing:#?}\n  kith only: {extra:#?}"
    );
}
