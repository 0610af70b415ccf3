//! Conformance: the Nix language test suite (`tests/functional/lang` of Nix), run in-process
//! through [`kith_eval::instantiate::run`] exactly as Nix's `lang.sh` runs `nix-instantiate`.
//!
//! Categories and what passing means:
//! - `eval-okay-X`: `--strict` evaluation (plus `X.flags`) succeeds and prints `X.exp`
//!   (`X.exp.xml` with `--xml`), with the suite directory's absolute path written `/pwd`;
//! - `eval-fail-X`: evaluation fails, and the last `error: …` line of stderr equals the one
//!   in `X.err.exp`; so does the whole of stderr (the trace, its positions and source
//!   lines), unless the case is listed in `lang_suite_trace_differences.txt`;
//! - `parse-okay-X` / `parse-fail-X`: `--parse` succeeds / fails.
//!
//! Each case is a test of its own, named as its file without `.nix` (a custom harness,
//! `libtest-mimic`, lists the corpus at run time): `cargo test --release -p kith-eval --test
//! lang_suite -- --exact eval-okay-attrs5` runs one case (without `--exact`, every case whose
//! name contains the text), `-- --list` lists them.
//!
//! Cases known to fail are listed in `lang_suite_expected_failures.txt` (`name  # reason`).
//! A case fails when it fails unlisted or passes listed, so the list only shrinks; the test
//! `expected-failures-list` fails when the list names a case the suite does not have.
//! `KITH_LANG_SUITE_BLESS=1` rewrites the list from the current failures (keeping existing
//! reasons and the entries of cases not run); it is a maintainer's helper, never run by CI.
//!
//! Cases whose message matches but whose trace does not yet are listed in
//! `lang_suite_trace_differences.txt` (`name  # reason`); a listed case whose trace comes to
//! match fails until it is removed. `KITH_LANG_SUITE_TRACE_BLESS=1` rewrites that list from
//! the current differences.
//!
//! The corpus lives outside the repository at `../shared/corpus` (relative to the workspace
//! root, `KITH_CORPUS_DIR` overrides it); when it is absent the test says so and passes, or
//! fails with `KITH_REQUIRE_CORPUS=1`. The suite runs from a temporary copy with the corpus'
//! lost symlinks restored (`lang_suite/workdir.rs`).

mod common;
#[path = "lang_suite/workdir.rs"]
mod workdir;

use kith_eval::instantiate::{run, Input, OutputFormat, Request};
use libtest_mimic::{Arguments, Trial};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const EXPECTED_FAILURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/lang_suite_expected_failures.txt"
);
const TRACE_DIFFERENCES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/lang_suite_trace_differences.txt"
);
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

fn main() {
    let args = Arguments::from_args();
    let Some(lang) = common::corpus("nix-lang-tests/tests/functional/lang", "lang suite") else {
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
    let expected = Arc::new(read_expected_failures());
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let mut trials: Vec<Trial> = cases
        .iter()
        .map(|case| trial(&dirs, case.clone(), &expected, &outcomes))
        .collect();
    let known: BTreeSet<String> = cases.iter().map(|c| c.name.clone()).collect();
    let list = Arc::clone(&expected);
    trials.push(Trial::test("expected-failures-list", move || {
        let stale: Vec<&str> = list
            .keys()
            .filter(|n| !known.contains(n.as_str()))
            .map(String::as_str)
            .collect();
        match stale.as_slice() {
            [] => Ok(()),
            _ => Err(format!(
                "not cases of the suite, remove them from the list: {}",
                stale.join(" ")
            )
            .into()),
        }
    }));

    let conclusion = libtest_mimic::run(&args, trials);
    if !args.list {
        let mut outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
        outcomes.sort_by(|a, b| (a.case.kind, &a.case.name).cmp(&(b.case.kind, &b.case.name)));
        if common::env_flag("KITH_LANG_SUITE_BLESS") {
            bless(&dirs, &cases, &outcomes, &expected);
        }
        if common::env_flag("KITH_LANG_SUITE_TRACE_BLESS") {
            bless_traces();
        }
        summarize(&outcomes, &expected);
    }
    // `exit` skips destructors: the working copy goes first.
    drop(work);
    conclusion.exit();
}

/// The test of one case: runs it on a big-stack thread, records the outcome for the
/// summary, and judges it against the expected-failure list.
fn trial(
    dirs: &Arc<Dirs>,
    case: Case,
    expected: &BTreeMap<String, String>,
    outcomes: &Arc<Mutex<Vec<Outcome>>>,
) -> Trial {
    let (dirs, outcomes) = (Arc::clone(dirs), Arc::clone(outcomes));
    let listed = expected.contains_key(&case.name);
    Trial::test(case.name.clone(), move || {
        let thread_case = case.clone();
        let failure =
            common::run_isolated(case.name.clone(), CASE_STACK, CASE_TIMEOUT, move || {
                check(&dirs, &thread_case)
            })
            .unwrap_or_else(Some);
        let verdict = common::verdict(failure.as_deref(), listed);
        outcomes.lock().unwrap().push(Outcome { case, failure });
        verdict
    })
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
    let expected = read_lossy(&err_exp);
    let want = error_line(&expected, dirs);
    let got = error_line(&out.stderr, dirs);
    // An `.err.exp` without an `error:` line only requires the failure.
    want.as_ref()?;
    if want != got {
        return Some(format!(
            "want `{}`, got `{}`",
            clip(want.as_deref().unwrap_or("")),
            clip(got.as_deref().unwrap_or("(no error: line)"))
        ));
    }
    check_trace(name, &expected, &to_pwd(&out.stderr, dirs))
}

/// The whole of stderr against `.err.exp`, for a case whose message matched: `None` when
/// they agree, or differ and the case is listed in the trace-difference list.
fn check_trace(name: &str, expected: &str, got: &str) -> Option<String> {
    let same = expected.trim_end() == got.trim_end();
    if !same {
        let first = first_difference(expected, got);
        trace_bless_list()
            .lock()
            .unwrap()
            .insert(name.to_string(), first);
    }
    match (same, trace_differences().contains_key(name)) {
        (true, false) | (false, true) => None,
        (false, false) => Some(format!(
            "the trace differs from {name}.err.exp: {}",
            first_difference(expected, got)
        )),
        (true, true) => Some(format!(
            "the trace now matches: remove {name} from lang_suite_trace_differences.txt"
        )),
    }
}

/// The trace-difference list (read once).
fn trace_differences() -> &'static BTreeMap<String, String> {
    static LIST: std::sync::OnceLock<BTreeMap<String, String>> = std::sync::OnceLock::new();
    LIST.get_or_init(|| common::read_expected_failures(TRACE_DIFFERENCES))
}

/// The cases whose trace differed in this run, with their first difference (for
/// `KITH_LANG_SUITE_TRACE_BLESS`).
fn trace_bless_list() -> &'static Mutex<BTreeMap<String, String>> {
    static DIFFERED: Mutex<BTreeMap<String, String>> = Mutex::new(BTreeMap::new());
    &DIFFERED
}

/// Rewrites the trace-difference list from this run's differences, keeping known reasons.
fn bless_traces() {
    let mut text = String::from(
        "# Language-suite `eval-fail` cases whose message matches Nix's but whose whole stderr\n\
         # (the trace, its positions and source lines) does not yet: `name  # reason`.\n\
         # The test fails when a case listed here comes to match (remove it) or an unlisted\n\
         # case's trace differs. Regenerate with\n\
         # `KITH_LANG_SUITE_TRACE_BLESS=1 cargo test --release -p kith-eval --test lang_suite`.\n",
    );
    let known = trace_differences();
    for (name, first) in trace_bless_list().lock().unwrap().iter() {
        let reason = known.get(name).filter(|r| !r.is_empty()).unwrap_or(first);
        let _ = writeln!(text, "{name}  # {reason}");
    }
    write_blessed(TRACE_DIFFERENCES, &text);
}

/// Writes a regenerated list and says so.
fn write_blessed(path: &str, text: &str) {
    match std::fs::write(path, text) {
        Ok(()) => report(&format!("lang suite: blessed {path}\n")),
        Err(e) => report(&format!("lang suite: could not write {path}: {e}\n")),
    }
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

/// Prints the per-category counts of the cases that ran, the ones that timed out or
/// panicked, and the totals (the unexpected results are the failed tests above).
fn summarize(outcomes: &[Outcome], expected: &BTreeMap<String, String>) {
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
    let listed = |o: &&Outcome| expected.contains_key(&o.case.name);
    let passed = outcomes.iter().filter(|o| o.failure.is_none()).count();
    let listed_failing = outcomes
        .iter()
        .filter(|o| o.failure.is_some() && listed(o))
        .count();
    let unexpected = outcomes
        .iter()
        .filter(|o| o.failure.is_some() != listed(o))
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
}

/// Writes to the real stderr, past the test harness's output capture, so the counts show
/// in CI logs even when the test passes.
fn report(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}

/// Rewrites the expected-failure list from the current failures, keeping known reasons.
fn bless(dirs: &Dirs, cases: &[Case], outcomes: &[Outcome], expected: &BTreeMap<String, String>) {
    let mut text = String::from(
        "# Language-suite cases kith does not pass yet: `name  # reason`, one per line.\n\
         # The test fails when a case listed here passes (remove it) or an unlisted case fails.\n\
         # Regenerate with `KITH_LANG_SUITE_BLESS=1 cargo test --release -p kith-eval --test lang_suite`\n\
         # (keeps existing reasons; new entries get a guessed reason or `TODO: triage`).\n",
    );
    let ran: BTreeMap<&str, &Option<String>> = outcomes
        .iter()
        .map(|o| (o.case.name.as_str(), &o.failure))
        .collect();
    // In the suite's order; a case filtered out of this run keeps its entry.
    for case in cases {
        let name = case.name.as_str();
        let reason = match (ran.get(name), expected.get(name)) {
            (Some(None), _) | (None, None) => continue,
            (_, Some(r)) if !r.is_empty() => r.clone(),
            (Some(Some(why)), _) => guess_reason(dirs, name, why),
            (None, Some(r)) => r.clone(),
        };
        let _ = writeln!(text, "{name}  # {reason}");
    }
    write_blessed(EXPECTED_FAILURES, &text);
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
