//! Conformance: the Nix language test suite (`tests/functional/lang` of Nix), run in-process
//! through [`kith_eval::instantiate::run`] exactly as Nix's `lang.sh` runs `nix-instantiate`.
//!
//! Categories and what passing means:
//! - `eval-okay-X`: `--strict` evaluation (plus `X.flags`) succeeds and prints `X.exp`
//!   (`X.exp.xml` with `--xml`), with the suite directory's absolute path written `/pwd`;
//! - `eval-fail-X`: evaluation fails, and the last `error: …` line of stderr equals the one
//!   in `X.err.exp`;
//! - `parse-okay-X` / `parse-fail-X`: `--parse` succeeds / fails.
//!
//! Cases known to fail are listed in `lang_suite_expected_failures.txt` (`name  # reason`).
//! The test fails when an unlisted case fails or a listed case passes, so the list only
//! shrinks. `KITH_LANG_SUITE_BLESS=1` rewrites the list from the current failures (keeping
//! existing reasons); it is a maintainer's helper, never run by CI.
//!
//! The corpus lives outside the repository at `../shared/corpus` (relative to the workspace
//! root); when it is absent the test says so and passes. The suite runs from a temporary
//! copy with the corpus' lost symlinks restored (`lang_suite/workdir.rs`).

mod common;
#[path = "lang_suite/workdir.rs"]
mod workdir;

use kith_eval::instantiate::{run, Input, OutputFormat, Request};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

const LANG_DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/corpus/nix-lang-tests/tests/functional/lang"
);
const EXPECTED_FAILURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/lang_suite_expected_failures.txt"
);
/// Cases run in parallel on this many workers (CI machines have 2 cores).
const WORKERS: usize = 2;
/// Each case runs on its own thread with this stack, as deep Nix code needs it.
const CASE_STACK: usize = 256 << 20;
/// A case still running after this long counts as a failure ("timeout").
const CASE_TIMEOUT: Duration = Duration::from_secs(30);

/// The four kinds of case, in the order they are reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    EvalOkay,
    EvalFail,
    ParseOkay,
    ParseFail,
}

impl Kind {
    const ALL: [Kind; 4] = [
        Kind::EvalOkay,
        Kind::EvalFail,
        Kind::ParseOkay,
        Kind::ParseFail,
    ];

    fn prefix(self) -> &'static str {
        match self {
            Kind::EvalOkay => "eval-okay",
            Kind::EvalFail => "eval-fail",
            Kind::ParseOkay => "parse-okay",
            Kind::ParseFail => "parse-fail",
        }
    }
}

/// One test case: `lang/<name>.nix` and its companion files.
#[derive(Clone, Debug)]
struct Case {
    name: String,
    kind: Kind,
}

/// Why a case failed; `None` in [`Outcome::failure`] means it passed.
#[derive(Clone, Debug)]
struct Outcome {
    case: Case,
    failure: Option<String>,
}

/// The suite's directories: `functional/` is the working directory, `lang/` holds the cases.
struct Dirs {
    functional: PathBuf,
    lang: PathBuf,
}

impl Dirs {
    fn path(&self, name: &str, ext: &str) -> PathBuf {
        self.lang.join(format!("{name}{ext}"))
    }
}

#[test]
fn lang_suite() {
    let Ok(lang) = std::fs::canonicalize(LANG_DIR) else {
        report(&format!(
            "lang suite: corpus not found at {LANG_DIR}; skipped\n"
        ));
        return;
    };
    let work = match workdir::WorkDir::create(&lang) {
        Ok(w) => w,
        Err(e) => panic!(
            "lang suite: cannot copy {} to a temporary directory: {e}",
            lang.display()
        ),
    };
    let functional = work.functional.clone();
    let lang = functional.join("lang");
    let dirs = Arc::new(Dirs { functional, lang });
    set_environment(&dirs);

    let cases = discover(&dirs.lang);
    let outcomes = run_all(&dirs, cases);
    let expected = read_expected_failures();

    if std::env::var_os("KITH_LANG_SUITE_BLESS").is_some_and(|v| v == "1") {
        bless(&dirs, &outcomes, &expected);
    }
    let unexpected = summarize(&outcomes, &expected);
    assert!(
        unexpected == 0,
        "lang suite: {unexpected} unexpected results (see above)"
    );
}

/// The process environment `lang.sh` gives `nix-instantiate`, set before any evaluation.
fn set_environment(dirs: &Dirs) {
    std::env::set_var("HOME", "/fake-home");
    std::env::set_var("TEST_VAR", "foo");
    std::env::set_var("NIX_STORE_DIR", "/nix/store");
    std::env::set_var("NIX_PATH", "lang/dir3:lang/dir4");
    std::env::set_var("NO_COLOR", "1");
    // Requests carry their own cwd; the process cwd matches it for anything that asks.
    let _ = std::env::set_current_dir(&dirs.functional);
}

/// All cases in the suite, sorted by kind and name.
fn discover(lang: &Path) -> Vec<Case> {
    let mut cases = Vec::new();
    let Ok(entries) = std::fs::read_dir(lang) else {
        return cases;
    };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(name) = file.strip_suffix(".nix") else {
            continue;
        };
        let Some(kind) = Kind::ALL
            .into_iter()
            .find(|k| name.starts_with(&format!("{}-", k.prefix())))
        else {
            continue;
        };
        let case = Case {
            name: name.to_string(),
            kind,
        };
        if kind == Kind::EvalOkay && !has_expectation(lang, name) {
            continue;
        }
        cases.push(case);
    }
    cases.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    cases
}

/// `lang.sh` checks an `eval-okay` case only against a `.exp` or `.exp.xml` file; a case
/// with neither (e.g. only `.exp-disabled`) is not run.
fn has_expectation(lang: &Path, name: &str) -> bool {
    lang.join(format!("{name}.exp")).exists() || lang.join(format!("{name}.exp.xml")).exists()
}

fn run_all(dirs: &Arc<Dirs>, cases: Vec<Case>) -> Vec<Outcome> {
    let dirs = Arc::clone(dirs);
    common::run_parallel(cases, WORKERS, move |case| run_isolated(&dirs, case))
}

/// Runs one case on a fresh thread; a panic or a timeout is a failure. A timed-out thread
/// is left running (it cannot be stopped) and ends with the process.
fn run_isolated(dirs: &Arc<Dirs>, case: Case) -> Outcome {
    let (tx, rx) = mpsc::channel();
    let thread_dirs = Arc::clone(dirs);
    let thread_case = case.clone();
    let spawned = std::thread::Builder::new()
        .name(case.name.clone())
        .stack_size(CASE_STACK)
        .spawn(move || {
            let failure = check(&thread_dirs, &thread_case);
            let _ = tx.send(failure);
        });
    let failure = match spawned {
        Err(e) => Some(format!("could not start a thread: {e}")),
        Ok(_) => match rx.recv_timeout(CASE_TIMEOUT) {
            Ok(failure) => failure,
            Err(mpsc::RecvTimeoutError::Timeout) => Some("timeout".into()),
            Err(mpsc::RecvTimeoutError::Disconnected) => Some("panicked".into()),
        },
    };
    Outcome { case, failure }
}

/// Runs a case; `None` if it passed, else a one-line hint of what went wrong.
fn check(dirs: &Dirs, case: &Case) -> Option<String> {
    match case.kind {
        Kind::EvalOkay => check_eval_okay(dirs, &case.name),
        Kind::EvalFail => check_eval_fail(dirs, &case.name),
        Kind::ParseOkay => check_parse(dirs, &case.name, true),
        Kind::ParseFail => check_parse(dirs, &case.name, false),
    }
}

/// A request as `lang.sh` makes it: `lang/<name>.nix` from the `functional/` directory.
fn request(dirs: &Dirs, name: &str) -> Request {
    let mut req = Request::new(
        Input::File(format!("lang/{name}.nix").into()),
        dirs.functional.clone(),
    );
    req.nix_path = Some("lang/dir3:lang/dir4".into());
    req.options.store_dir = "/nix/store".into();
    req
}

/// The words of `<name>.flags`, without `#` comments; empty when there is no such file.
fn flags(dirs: &Dirs, name: &str) -> Vec<String> {
    let text = std::fs::read_to_string(dirs.path(name, ".flags")).unwrap_or_default();
    text.lines()
        .flat_map(|l| l.split('#').next().unwrap_or("").split_whitespace())
        .map(str::to_string)
        .collect()
}

fn check_eval_okay(dirs: &Dirs, name: &str) -> Option<String> {
    let mut req = request(dirs, name);
    let xml = dirs.path(name, ".exp.xml");
    let expected_file = if xml.exists() {
        // lang.sh: `nix-instantiate --eval --xml --no-location --strict`.
        req.format = OutputFormat::Xml;
        req.xml_location = false;
        xml
    } else {
        if let Err(e) = req.apply_flags(&flags(dirs, name)) {
            return Some(format!("flags: {e}"));
        }
        dirs.path(name, ".exp")
    };
    req.strict = true;
    let out = run(&req);
    if out.exit_code != 0 {
        return Some(format!(
            "failed: {}",
            error_line(&out.stderr, dirs).unwrap_or_default()
        ));
    }
    let expected = read_lossy(&expected_file);
    let got = to_pwd(&out.stdout, dirs);
    (got != expected).then(|| first_difference(&expected, &got))
}

fn check_eval_fail(dirs: &Dirs, name: &str) -> Option<String> {
    let mut req = request(dirs, name);
    if let Err(e) = req.apply_flags(&flags(dirs, name)) {
        return Some(format!("flags: {e}"));
    }
    req.strict = true;
    let out = run(&req);
    if out.exit_code == 0 {
        return Some(format!(
            "succeeded: {}",
            first_line(&to_pwd(&out.stdout, dirs))
        ));
    }
    let err_exp = dirs.path(name, ".err.exp");
    if !err_exp.exists() {
        return None;
    }
    let want = error_line(&read_lossy(&err_exp), dirs);
    let got = error_line(&out.stderr, dirs);
    if want.is_none() || want == got {
        return None;
    }
    Some(format!(
        "want `{}`, got `{}`",
        clip(want.as_deref().unwrap_or("")),
        clip(got.as_deref().unwrap_or("(no error: line)"))
    ))
}

fn check_parse(dirs: &Dirs, name: &str, should_parse: bool) -> Option<String> {
    let mut req = request(dirs, name);
    req.parse_only = true;
    let out = run(&req);
    match (should_parse, out.exit_code == 0) {
        (true, true) | (false, false) => None,
        (true, false) => Some(format!(
            "parse failed: {}",
            error_line(&out.stderr, dirs).unwrap_or_default()
        )),
        (false, true) => Some("parsed, but should have been rejected".into()),
    }
}

/// The last `error: …` line (trimmed), Nix's message once the trace is peeled off.
fn error_line(text: &str, dirs: &Dirs) -> Option<String> {
    text.lines()
        .map(str::trim_start)
        .rev()
        .find(|l| l.starts_with("error:") && l.trim_end() != "error:")
        .map(|l| to_pwd(l.trim_end(), dirs))
}

/// Writes the suite directory as `/pwd`, as `lang.sh` does with `sed`.
fn to_pwd(text: &str, dirs: &Dirs) -> String {
    text.replace(&*dirs.functional.to_string_lossy(), "/pwd")
}

fn read_lossy(path: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned()
}

/// A one-line hint: the first line where `got` differs from `expected`.
fn first_difference(expected: &str, got: &str) -> String {
    let mut want_lines = expected.lines();
    let mut got_lines = got.lines();
    for line in 1.. {
        match (want_lines.next(), got_lines.next()) {
            (Some(w), Some(g)) if w == g => continue,
            (None, None) => break,
            (w, g) => {
                return format!(
                    "line {line}: want `{}`, got `{}`",
                    clip(w.unwrap_or("(end)")),
                    clip(g.unwrap_or("(end)"))
                )
            }
        }
    }
    "output differs in whitespace at the end".into()
}

fn first_line(text: &str) -> String {
    clip(text.lines().next().unwrap_or(""))
}

/// Shortens `s` for one-line hints.
fn clip(s: &str) -> String {
    common::clip(s, 100)
}

/// The expected-failure list.
fn read_expected_failures() -> BTreeMap<String, String> {
    common::read_expected_failures(EXPECTED_FAILURES)
}

/// Prints the per-category counts and every unexpected result; returns how many there were.
fn summarize(outcomes: &[Outcome], expected: &BTreeMap<String, String>) -> usize {
    let mut out = String::new();
    for kind in Kind::ALL {
        let of_kind: Vec<_> = outcomes.iter().filter(|o| o.case.kind == kind).collect();
        let passed = of_kind.iter().filter(|o| o.failure.is_none()).count();
        let _ = writeln!(
            out,
            "{}: {} passed, {} failed",
            kind.prefix(),
            passed,
            of_kind.len() - passed
        );
    }
    let mut unexpected = 0;
    for o in outcomes {
        let listed = expected.contains_key(&o.case.name);
        match (&o.failure, listed) {
            (Some(why), false) => {
                unexpected += 1;
                let _ = writeln!(out, "UNEXPECTED FAILURE {}: {}", o.case.name, why);
            }
            (None, true) => {
                unexpected += 1;
                let _ = writeln!(
                    out,
                    "UNEXPECTED PASS {}: now passes, remove it from the list",
                    o.case.name
                );
            }
            _ => {}
        }
    }
    let known: BTreeSet<&str> = outcomes.iter().map(|o| o.case.name.as_str()).collect();
    for name in expected.keys().filter(|n| !known.contains(n.as_str())) {
        unexpected += 1;
        let _ = writeln!(
            out,
            "STALE ENTRY {name}: not a case of the suite, remove it from the list"
        );
    }
    for kind in ["timeout", "panicked"] {
        let names: Vec<&str> = outcomes
            .iter()
            .filter(|o| o.failure.as_deref() == Some(kind))
            .map(|o| o.case.name.as_str())
            .collect();
        if !names.is_empty() {
            let _ = writeln!(out, "{kind} ({}): {}", names.len(), names.join(" "));
        }
    }
    let passed = outcomes.iter().filter(|o| o.failure.is_none()).count();
    let listed_failing = outcomes
        .iter()
        .filter(|o| o.failure.is_some() && expected.contains_key(&o.case.name))
        .count();
    let _ = writeln!(
        out,
        "{} cases: {} pass, {} fail as listed in the expected-failure list, {} unexpected",
        outcomes.len(),
        passed,
        listed_failing,
        unexpected
    );
    let _ = writeln!(out, "lang-suite: {passed} passed, {unexpected} failed");
    report(&out);
    unexpected
}

/// Writes to the real stderr, past the test harness's output capture, so the counts show
/// in CI logs even when the test passes.
fn report(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}

/// Rewrites the expected-failure list from the current failures, keeping known reasons.
fn bless(dirs: &Dirs, outcomes: &[Outcome], expected: &BTreeMap<String, String>) {
    let mut text = String::from(
        "# Language-suite cases kith does not pass yet: `name  # reason`, one per line.\n\
         # The test fails when a case listed here passes (remove it) or an unlisted case fails.\n\
         # Regenerate with `KITH_LANG_SUITE_BLESS=1 cargo test --release -p kith-eval --test lang_suite`\n\
         # (keeps existing reasons; new entries get a guessed reason or `TODO: triage`).\n",
    );
    for o in outcomes {
        let Some(why) = &o.failure else { continue };
        let reason = match expected.get(&o.case.name) {
            Some(r) if !r.is_empty() => r.clone(),
            _ => guess_reason(dirs, &o.case.name, why),
        };
        let _ = writeln!(text, "{}  # {}", o.case.name, reason);
    }
    match std::fs::write(EXPECTED_FAILURES, text) {
        Ok(()) => report(&format!("lang suite: blessed {EXPECTED_FAILURES}\n")),
        Err(e) => report(&format!(
            "lang suite: could not write {EXPECTED_FAILURES}: {e}\n"
        )),
    }
}

/// A first guess at why a case fails, from the failure, its flags and its source; only
/// causes that can be told apart mechanically, else `TODO: triage (<the failure>)`.
fn guess_reason(dirs: &Dirs, name: &str, failure: &str) -> String {
    if failure == "timeout" || failure == "panicked" {
        return failure.to_string();
    }
    let flags = flags(dirs, name).join(" ");
    if flags.contains("--lint-") {
        "lint flags unsupported".into()
    } else if flags.contains("--extra-experimental-features") {
        "experimental feature unsupported".into()
    } else if name.contains("derivation") || failure.contains("derivation") {
        "needs derivations".into()
    } else if failure.contains("fetch") {
        "fetchers".into()
    } else if failure.contains("/nix/store/") {
        "needs store paths".into()
    } else {
        format!("TODO: triage ({})", clip(failure))
    }
}
