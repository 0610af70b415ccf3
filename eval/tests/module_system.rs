//! Conformance: nixpkgs' module-system tests (`lib/tests/modules.sh`), run in-process.
//!
//! `modules.sh` is a bash script of lines like
//! `checkConfigOutput '^"42"$' config.value ./declare-int.nix ./define-value.nix`. This test
//! reads the script, interprets the small subset of shell those lines use (quoting, `\`
//! escapes, `set -- …` / `"$@"`, brace expansion, `VAR=1 check…` prefixes, `\` line
//! continuations), and performs each check as the script's helper functions do:
//!
//! - every evaluation is `nix-instantiate --eval-only --show-trace --json
//!   [--strict] -E 'import ./default.nix { modules = [ FILES ];}' -A ATTR` from
//!   `lib/tests/modules` (`--strict` when `STRICT_EVAL=1`), here through
//!   [`kith_eval::instantiate::run`];
//! - `checkConfigOutput RE …` passes when evaluation succeeds and a line of stdout matches
//!   the extended regex `RE` (`grep -E`);
//! - `checkConfigError RE …` passes when evaluation fails, the error mentions the
//!   "if you get an infinite recursion here" hint exactly when
//!   `REQUIRE_INFINITE_RECURSION_HINT` is set, and the whole error text matches the Perl
//!   regex `RE` (`grep -zP`);
//! - `checkExpression FILE` passes when `--strict` evaluation of `FILE` succeeds.
//!
//! Each check is a test of its own (a custom harness, `libtest-mimic`, reads the script at
//! run time), named `line-N` after the line of `modules.sh` it starts on, with its kind:
//! `cargo test --release -p kith-eval --test module_system -- --exact line-123` runs one,
//! `-- --list` lists them (`[checkConfigOutput] line-123`). Lines the interpreter cannot
//! handle are ignored tests, with the reason. Checks known to fail are listed in
//! `module_system_expected_failures.txt` (`LINE description  # reason`); a check fails when
//! it fails unlisted or passes listed. `KITH_MODULE_SYSTEM_BLESS=1` rewrites the list from
//! the current failures, keeping existing reasons and the entries of checks not run.
//!
//! The corpus lives outside the repository at `../shared/corpus` (`KITH_CORPUS_DIR`
//! overrides it); when it is absent the checks are skipped with a message, or fail with
//! `KITH_REQUIRE_CORPUS=1`. The shell interpreter's own tests (`shell::…`) always run.

mod common;

use kith_eval::instantiate::{run, Input, OutputFormat, Request};
use libtest_mimic::{Arguments, Trial};
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const EXPECTED_FAILURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/module_system_expected_failures.txt"
);
/// Each check runs on its own thread with this stack, as deep Nix code needs it.
const CHECK_STACK: usize = 256 << 20;
/// A check still running after this long counts as a failure ("timeout").
const CHECK_TIMEOUT: Duration = Duration::from_secs(30);
/// The trace line `lib/modules.nix` adds around `imports`; `checkConfigError` requires it
/// exactly when `REQUIRE_INFINITE_RECURSION_HINT` is set.
const RECURSION_HINT: &str = "if you get an infinite recursion here";

/// What a check asserts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// `checkConfigOutput`: stdout matches a `grep -E` pattern.
    Output,
    /// `checkConfigError`: evaluation fails and stderr matches a `grep -zP` pattern.
    Error,
    /// `checkExpression`: `--strict` evaluation of a file succeeds.
    Expression,
}

/// One check of `modules.sh`, with its arguments after shell expansion.
#[derive(Clone, Debug)]
struct Check {
    /// The line of `modules.sh` it starts on; its name in reports and the failure list.
    line: usize,
    kind: Kind,
    /// The regex (`Output`, `Error`) or the file (`Expression`).
    pattern: String,
    /// The `-A` attribute path (empty for `Expression`).
    attr: String,
    /// The module files, as written (`./a.nix`).
    files: Vec<String>,
    /// `STRICT_EVAL=1`.
    strict: bool,
    /// `ABORT_ON_WARN=1`.
    abort_on_warn: bool,
    /// `REQUIRE_INFINITE_RECURSION_HINT=1`.
    require_hint: bool,
}

impl Check {
    /// The `modules.sh` function the check calls.
    fn kind_name(&self) -> &'static str {
        match self.kind {
            Kind::Output => "checkConfigOutput",
            Kind::Error => "checkConfigError",
            Kind::Expression => "checkExpression",
        }
    }

    /// A one-line description: `checkConfigOutput config.value ./a.nix ./b.nix`.
    fn describe(&self) -> String {
        let mut s = String::from(self.kind_name());
        for w in std::iter::once(&self.attr).chain(&self.files) {
            if !w.is_empty() {
                s.push(' ');
                s.push_str(w);
            }
        }
        if self.kind == Kind::Expression {
            s.push(' ');
            s.push_str(&self.pattern);
        }
        s
    }
}

/// A check line the interpreter could not handle.
#[derive(Clone, Debug)]
struct Skipped {
    line: usize,
    reason: String,
}

/// The result of running one check: `None` passed, else a one-line hint.
#[derive(Clone, Debug)]
struct Outcome {
    check: Check,
    failure: Option<String>,
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = shell_tests::trials();
    let mut outcomes = None;
    if let Some(tests) = common::corpus("nixpkgs-lib/lib/tests", "module-system") {
        let script = match std::fs::read_to_string(tests.join("modules.sh")) {
            Ok(s) => s,
            Err(e) => panic!("module-system: cannot read modules.sh: {e}"),
        };
        let modules = Arc::new(tests.join("modules"));
        set_environment(&modules);
        let (checks, skipped) = parse_script(&script);
        let expected = read_expected_failures();
        let record = Arc::new(Mutex::new(Vec::new()));
        trials.extend(
            checks
                .iter()
                .map(|check| trial(&modules, check.clone(), &expected, &record)),
        );
        trials.extend(skipped.iter().map(|s| {
            let reason = s.reason.clone();
            Trial::test(format!("line-{}", s.line), move || {
                Err(format!("modules.sh cannot be interpreted here: {reason}").into())
            })
            .with_ignored_flag(true)
        }));
        outcomes = Some((checks, skipped, expected, record));
    }
    let conclusion = libtest_mimic::run(&args, trials);
    if let (false, Some((checks, skipped, expected, record))) = (args.list, outcomes) {
        let mut outcomes = std::mem::take(&mut *record.lock().unwrap());
        outcomes.sort_by_key(|o| o.check.line);
        if common::env_flag("KITH_MODULE_SYSTEM_BLESS") {
            bless(&checks, &outcomes, &expected);
        }
        summarize(&checks, &outcomes, &skipped, &expected);
    }
    conclusion.exit();
}

/// The test of one check: runs it on a big-stack thread, records the outcome for the
/// summary, and judges it against the expected-failure list.
fn trial(
    modules: &Arc<PathBuf>,
    check: Check,
    expected: &BTreeMap<usize, String>,
    record: &Arc<Mutex<Vec<Outcome>>>,
) -> Trial {
    let (modules, record) = (Arc::clone(modules), Arc::clone(record));
    let listed = expected.contains_key(&check.line);
    let kind = check.kind_name();
    Trial::test(format!("line-{}", check.line), move || {
        let thread_check = check.clone();
        let failure = common::run_isolated(
            format!("modules.sh:{}", check.line),
            CHECK_STACK,
            CHECK_TIMEOUT,
            move || perform(&modules, &thread_check),
        )
        .unwrap_or_else(Some);
        let verdict = common::verdict(failure.as_deref(), listed)
            .map_err(|e| format!("{}: {}", check.describe(), e.message().unwrap_or("")).into());
        record.lock().unwrap().push(Outcome { check, failure });
        verdict
    })
    .with_kind(kind)
}

/// The process environment for evaluation, set before any evaluation.
fn set_environment(modules: &Path) {
    std::env::set_var("NO_COLOR", "1");
    std::env::set_var("NIX_STORE_DIR", "/nix/store");
    std::env::remove_var("NIX_ABORT_ON_WARN");
    let _ = std::env::set_current_dir(modules);
}

// ---------------------------------------------------------------------------------------
// The shell subset.
// ---------------------------------------------------------------------------------------

/// The script's lines with `\`-newline continuations joined, each with its first line number.
fn logical_lines(script: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, raw) in script.lines().enumerate() {
        let (start, mut text) = current.take().unwrap_or((i + 1, String::new()));
        match raw.strip_suffix('\\') {
            Some(head) if !head.ends_with('\\') => {
                text.push_str(head);
                text.push(' ');
                current = Some((start, text));
            }
            _ => {
                text.push_str(raw);
                out.push((start, text));
            }
        }
    }
    out.extend(current);
    out
}

/// The command name of a line: its first word after `NAME=value` assignments.
fn command_name(line: &str) -> Option<&str> {
    line.split_whitespace().find(|w| !is_assignment(w))
}

fn is_assignment(word: &str) -> bool {
    match word.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit())
        }
        None => false,
    }
}

/// Interprets the script's `check…` and `set -- …` lines.
fn parse_script(script: &str) -> (Vec<Check>, Vec<Skipped>) {
    let mut checks = Vec::new();
    let mut skipped = Vec::new();
    // `None` once a `set --` could not be interpreted: `"$@"` is then unknown.
    let mut positional: Option<Vec<String>> = Some(Vec::new());
    for (line, text) in logical_lines(script) {
        let Some(cmd) = command_name(&text) else {
            continue;
        };
        let is_check = matches!(
            cmd,
            "checkConfigOutput" | "checkConfigError" | "checkExpression"
        );
        let is_set = cmd == "set" && text.split_whitespace().nth(1) == Some("--");
        if !is_check && !is_set {
            continue;
        }
        let words = positional
            .as_deref()
            .ok_or_else(|| "\"$@\" after an uninterpretable `set --`".to_string())
            .and_then(|p| split_words(&text, p));
        match (is_set, words) {
            (true, Ok(w)) => positional = Some(w.into_iter().skip(2).collect()),
            (true, Err(_)) => positional = None,
            (false, Ok(w)) => match to_check(line, &w) {
                Ok(c) => checks.push(c),
                Err(reason) => skipped.push(Skipped { line, reason }),
            },
            (false, Err(reason)) => skipped.push(Skipped { line, reason }),
        }
    }
    (checks, skipped)
}

/// Builds a check from a line's words (`[VAR=1…] checkX PATTERN ATTR FILES…`).
fn to_check(line: usize, words: &[String]) -> Result<Check, String> {
    let mut env = BTreeMap::new();
    let mut rest = words.iter();
    let cmd = loop {
        let Some(w) = rest.next() else {
            return Err("no command".into());
        };
        match w.split_once('=') {
            Some((k, v)) if is_assignment(w) => {
                env.insert(k.to_string(), v.to_string());
            }
            _ => break w.as_str(),
        }
    };
    let args: Vec<String> = rest.cloned().collect();
    let kind = match cmd {
        "checkConfigOutput" => Kind::Output,
        "checkConfigError" => Kind::Error,
        _ => Kind::Expression,
    };
    let set = |name: &str| env.get(name).is_some_and(|v| !v.is_empty());
    let (pattern, attr, files) = match (kind, args.as_slice()) {
        (Kind::Expression, [file]) => (file.clone(), String::new(), Vec::new()),
        (Kind::Expression, _) => return Err("checkExpression takes one file".into()),
        (_, [pattern, attr, files @ ..]) => (pattern.clone(), attr.clone(), files.to_vec()),
        _ => return Err("too few arguments".into()),
    };
    Ok(Check {
        line,
        kind,
        pattern,
        attr,
        files,
        strict: env.get("STRICT_EVAL").map(String::as_str) == Some("1"),
        abort_on_warn: env.get("ABORT_ON_WARN").map(String::as_str) == Some("1"),
        require_hint: set("REQUIRE_INFINITE_RECURSION_HINT"),
    })
}

/// Splits a command line into words as bash would: quotes, `\` escapes, `"$@"` (the
/// positional parameters), brace expansion; anything else with `$`, backquotes or
/// operators is refused with a reason.
fn split_words(line: &str, positional: &[String]) -> Result<Vec<String>, String> {
    let mut words: Vec<String> = Vec::new();
    // The current word: characters and whether each was quoted.
    let mut word: Vec<(char, bool)> = Vec::new();
    let mut started = false;
    let mut chars = line.chars().peekable();
    let finish = |word: &mut Vec<(char, bool)>, words: &mut Vec<String>| {
        words.extend(brace_expand(word));
        word.clear();
    };
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if started {
                    finish(&mut word, &mut words);
                    started = false;
                }
            }
            '#' if !started => break,
            '\'' => {
                started = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push((c, true)),
                        None => return Err("unterminated single quote".into()),
                    }
                }
            }
            '"' => {
                if !started && take_str(&mut chars, "$@\"") {
                    words.extend(positional.iter().cloned());
                    expect_word_end(&mut chars)?;
                    continue;
                }
                started = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.peek() {
                            Some(&e @ ('$' | '`' | '"' | '\\')) => {
                                chars.next();
                                word.push((e, true));
                            }
                            _ => word.push(('\\', true)),
                        },
                        // `$` before a quote or a blank is a literal dollar sign.
                        Some('$') if matches!(chars.peek(), Some('"' | ' ' | '\t')) => {
                            word.push(('$', true))
                        }
                        Some('$') => return Err("uses a shell variable".into()),
                        Some('`') => return Err("uses command substitution".into()),
                        Some(c) => word.push((c, true)),
                        None => return Err("unterminated double quote".into()),
                    }
                }
            }
            '\\' => {
                started = true;
                if let Some(e) = chars.next() {
                    word.push((e, true));
                }
            }
            '$' => {
                if !started && take_str(&mut chars, "@") {
                    words.extend(positional.iter().cloned());
                    expect_word_end(&mut chars)?;
                    continue;
                }
                return Err("uses a shell variable".into());
            }
            '`' => return Err("uses command substitution".into()),
            ';' | '|' | '&' | '<' | '>' | '(' | ')' => {
                return Err(format!("uses shell operator `{c}`"))
            }
            c => {
                started = true;
                word.push((c, false));
            }
        }
    }
    if started {
        finish(&mut word, &mut words);
    }
    Ok(words)
}

/// Consumes `s` from `chars` if they start with it.
fn take_str(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, s: &str) -> bool {
    let ahead: String = chars.clone().take(s.chars().count()).collect();
    if ahead == s {
        for _ in s.chars() {
            chars.next();
        }
        true
    } else {
        false
    }
}

/// After `"$@"`, the word must end.
fn expect_word_end(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<(), String> {
    match chars.peek() {
        None => Ok(()),
        Some(c) if c.is_whitespace() => Ok(()),
        Some(_) => Err("\"$@\" joined with other text".into()),
    }
}

/// Bash brace expansion (`a/{b,c}` → `a/b a/c`) over unquoted braces.
fn brace_expand(word: &[(char, bool)]) -> Vec<String> {
    let Some((open, close, commas)) = find_brace(word) else {
        return vec![word.iter().map(|&(c, _)| c).collect()];
    };
    let mut bounds = vec![open];
    bounds.extend(commas);
    bounds.push(close);
    let mut out = Vec::new();
    for pair in bounds.windows(2) {
        let mut w: Vec<(char, bool)> = word[..open].to_vec();
        w.extend_from_slice(&word[pair[0] + 1..pair[1]]);
        w.extend_from_slice(&word[close + 1..]);
        out.extend(brace_expand(&w));
    }
    out
}

/// The first unquoted `{…,…}`: its brace positions and top-level comma positions.
fn find_brace(word: &[(char, bool)]) -> Option<(usize, usize, Vec<usize>)> {
    for (open, &(c, quoted)) in word.iter().enumerate() {
        if c != '{' || quoted {
            continue;
        }
        let mut depth = 0;
        let mut commas = Vec::new();
        for (i, &(c, quoted)) in word.iter().enumerate().skip(open + 1) {
            match (c, quoted) {
                ('{', false) => depth += 1,
                ('}', false) if depth > 0 => depth -= 1,
                ('}', false) if !commas.is_empty() => return Some((open, i, commas)),
                ('}', false) => break,
                (',', false) if depth == 0 => commas.push(i),
                _ => {}
            }
        }
    }
    None
}

// ---------------------------------------------------------------------------------------
// Running checks.
// ---------------------------------------------------------------------------------------

/// The request `evalConfig` (or `checkExpression`) makes.
fn request(modules: &Path, check: &Check) -> Request {
    let input = match check.kind {
        Kind::Expression => Input::File(check.pattern.clone().into()),
        _ => Input::Expr(
            format!(
                "import ./default.nix {{ modules = [ {} ];}}",
                check.files.join(" ")
            )
            .into(),
        ),
    };
    let mut req = Request::new(input, modules.to_path_buf());
    if !check.attr.is_empty() {
        req.attr_paths.push(check.attr.clone());
    }
    req.format = OutputFormat::Json;
    req.strict = check.strict || check.kind == Kind::Expression;
    req.options.store_dir = "/nix/store".into();
    req.options.pure = false;
    // `ABORT_ON_WARN=1`: `--option abort-on-warn true`.
    req.options.abort_on_warn = check.abort_on_warn;
    // Warnings are part of the stderr `checkConfigError` searches.
    req.options.capture_diagnostics = true;
    req
}

/// Performs a check; `None` if it passed, else a one-line hint of what went wrong.
fn perform(modules: &Path, check: &Check) -> Option<String> {
    let out = match std::env::var("KITH_MODULE_SYSTEM_ORACLE") {
        Ok(nix) if !nix.is_empty() => run_oracle(&nix, modules, check),
        _ => run(&request(modules, check)),
    };
    if let Ok(nix) = std::env::var("KITH_MODULE_SYSTEM_COMPARE") {
        if let Some(diff) = compare_with(&nix, modules, check, &out) {
            return Some(diff);
        }
    }
    match check.kind {
        Kind::Expression => {
            (out.exit_code != 0).then(|| format!("failed: {}", last_error_line(&out.stderr)))
        }
        Kind::Output => check_output(check, &out),
        Kind::Error => check_error(check, &out),
    }
}

/// Runs the check's evaluation with an external `nix-instantiate` (the command `nix` is
/// given `nix-instantiate` and its flags) from the workspace root, with the module files'
/// paths made absolute: a maintainer's cross-check that the checks pass under C++ Nix
/// (`KITH_MODULE_SYSTEM_ORACLE=/work/shared/tools/nix-current`), never run by CI.
fn run_oracle(nix: &str, modules: &Path, check: &Check) -> kith_eval::instantiate::Outcome {
    let abs = |f: &str| {
        modules
            .join(f.trim_start_matches("./"))
            .display()
            .to_string()
    };
    let mut cmd = std::process::Command::new(nix);
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd.args([
        "nix-instantiate",
        "--eval-only",
        "--show-trace",
        "--read-write-mode",
        "--json",
    ]);
    if check.strict || check.kind == Kind::Expression {
        cmd.arg("--strict");
    }
    if check.abort_on_warn {
        cmd.args(["--option", "abort-on-warn", "true"]);
    }
    if check.kind == Kind::Expression {
        cmd.arg(abs(&check.pattern));
    } else {
        let files: Vec<String> = check.files.iter().map(|f| abs(f)).collect();
        let script = format!(
            "import {} {{ modules = [ {} ];}}",
            abs("default.nix"),
            files.join(" ")
        );
        cmd.args(["-E", &script, "-A", &check.attr]);
    }
    match cmd.output() {
        Ok(o) => kith_eval::instantiate::Outcome {
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            exit_code: o.status.code().unwrap_or(1),
        },
        Err(e) => kith_eval::instantiate::Outcome {
            stdout: String::new(),
            stderr: format!("error: cannot run {nix}: {e}"),
            exit_code: 1,
        },
    }
}

/// Compares kith's stdout and final error message with an external `nix-instantiate`'s
/// (`KITH_MODULE_SYSTEM_COMPARE=/work/shared/tools/nix-current`): a maintainer's helper
/// for exact error messages, never run by CI.
fn compare_with(
    nix: &str,
    modules: &Path,
    check: &Check,
    ours: &kith_eval::instantiate::Outcome,
) -> Option<String> {
    let theirs = run_oracle(nix, modules, check);
    if theirs.stdout != ours.stdout {
        return Some(format!(
            "stdout differs: nix `{}`, kith `{}`",
            clip(&theirs.stdout),
            clip(&ours.stdout)
        ));
    }
    let (a, b) = (
        final_message(&strip_ansi(&theirs.stderr)),
        final_message(&strip_ansi(&ours.stderr)),
    );
    (a != b).then(|| format!("error differs:\n--- nix\n{a}\n--- kith\n{b}"))
}

/// The final `error: …` message of rendered error text, up to its position line.
fn final_message(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().collect();
    let Some(start) = lines
        .iter()
        .rposition(|l| l.trim_start().starts_with("error:") && l.trim() != "error:")
    else {
        return String::new();
    };
    lines[start..]
        .iter()
        .take_while(|l| !l.trim_start().starts_with("at "))
        .copied()
        .collect::<Vec<_>>()
        .join("\n")
}

fn check_output(check: &Check, out: &kith_eval::instantiate::Outcome) -> Option<String> {
    if out.exit_code != 0 {
        return Some(format!("failed: {}", last_error_line(&out.stderr)));
    }
    let re = match Regex::new(&format!("(?m){}", ere_to_rust(&check.pattern))) {
        Ok(re) => re,
        Err(e) => return Some(format!("bad regex: {e}")),
    };
    let matched = out.stdout.lines().any(|l| re.is_match(l));
    (!matched).then(|| format!("output `{}`", clip(out.stdout.trim_end())))
}

fn check_error(check: &Check, out: &kith_eval::instantiate::Outcome) -> Option<String> {
    if out.exit_code == 0 {
        return Some(format!("succeeded: `{}`", clip(out.stdout.trim_end())));
    }
    let err = &strip_ansi(&out.stderr);
    let has_hint = err.to_lowercase().contains(RECURSION_HINT);
    if has_hint != check.require_hint {
        return Some(if check.require_hint {
            "expected infinite recursion hint, but none found".into()
        } else {
            format!(
                "unexpected infinite recursion hint: {}",
                last_error_line(err)
            )
        });
    }
    let re = match Regex::new(&ere_to_rust(&check.pattern)) {
        Ok(re) => re,
        Err(e) => return Some(format!("bad regex: {e}")),
    };
    (!re.is_match(err)).then(|| format!("error `{}`", last_error_line(err)))
}

/// Removes ANSI escape sequences, as Nix does when stderr is not a terminal (`modules.sh`
/// captures it): lib's messages colour words with them.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            // `ESC [`: parameters and intermediates, then one final byte in `@`..=`~`.
            // Any other escape drops the character after `ESC`.
            '\u{1b}' => {
                if chars.next() == Some('[') {
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
            }
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Makes a grep pattern acceptable to the `regex` crate: braces that do not form a
/// counted repetition (`^{}$`) are literal in grep but must be escaped here.
fn ere_to_rust(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            out.push(c);
            out.push(chars[i + 1]);
            i += 2;
            continue;
        }
        if c == '{' {
            if let Some(len) = repetition_len(&chars[i..]) {
                out.extend(&chars[i..i + len]);
                i += len;
                continue;
            }
        }
        if c == '{' || c == '}' {
            out.push('\\');
        }
        out.push(c);
        i += 1;
    }
    out
}

/// The length of a `{n}`, `{n,}` or `{n,m}` at the start of `s`, if there is one.
fn repetition_len(s: &[char]) -> Option<usize> {
    let close = s.iter().position(|&c| c == '}')?;
    let inner: String = s[1..close].iter().collect();
    let (lo, hi) = inner.split_once(',').unwrap_or((&inner, "0"));
    let digits = |x: &str| x.chars().all(|c| c.is_ascii_digit());
    (!lo.is_empty() && digits(lo) && digits(hi)).then_some(close + 1)
}

/// The last `error: …` line of rendered error text, trimmed.
fn last_error_line(stderr: &str) -> String {
    let line = stderr
        .lines()
        .map(str::trim)
        .rev()
        .find(|l| l.starts_with("error:") && *l != "error:")
        .unwrap_or("(no error: line)");
    clip(line)
}

/// Shortens `s` for one-line hints.
fn clip(s: &str) -> String {
    common::clip(s, 200)
}

// ---------------------------------------------------------------------------------------
// Expected failures and the summary.
// ---------------------------------------------------------------------------------------

/// Parses the expected-failure list: `LINE description  # reason`; `#` lines are comments.
fn read_expected_failures() -> BTreeMap<usize, String> {
    let text = std::fs::read_to_string(EXPECTED_FAILURES).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (head, reason) = l.split_once('#').unwrap_or((l, ""));
            let line = head.split_whitespace().next()?.parse().ok()?;
            Some((line, reason.trim().to_string()))
        })
        .collect()
}

/// Prints the counts of the checks that ran, the lines that could not be interpreted and
/// the list's entries that are not checks (the unexpected results are the failed tests).
fn summarize(
    checks: &[Check],
    outcomes: &[Outcome],
    skipped: &[Skipped],
    expected: &BTreeMap<usize, String>,
) {
    let mut text = String::new();
    for s in skipped {
        let _ = writeln!(text, "  skipped {}: {}", s.line, s.reason);
    }
    let lines: BTreeSet<usize> = checks.iter().map(|c| c.line).collect();
    for line in expected.keys().filter(|l| !lines.contains(l)) {
        let _ = writeln!(text, "  listed but not a check: {line}");
    }
    let passed = outcomes.iter().filter(|o| o.failure.is_none()).count();
    let _ = writeln!(
        text,
        "module-system: {passed} passed, {} failed, {} skipped",
        outcomes.len() - passed,
        skipped.len()
    );
    report(&text);
}

/// Rewrites the expected-failure list from the current failures, keeping known reasons
/// and the entries of checks filtered out of this run.
fn bless(checks: &[Check], outcomes: &[Outcome], expected: &BTreeMap<usize, String>) {
    let mut text = String::from(
        "# modules.sh checks kith does not pass yet: `LINE description  # reason`.\n\
         # The test fails when a check listed here passes (remove it) or an unlisted one fails.\n\
         # Regenerate with `KITH_MODULE_SYSTEM_BLESS=1 cargo test --release -p kith-eval --test module_system`.\n",
    );
    let ran: BTreeMap<usize, &Option<String>> = outcomes
        .iter()
        .map(|o| (o.check.line, &o.failure))
        .collect();
    for check in checks {
        let listed = expected.get(&check.line);
        let reason = match ran.get(&check.line) {
            Some(None) => continue,
            Some(Some(why)) => listed.filter(|r| !r.is_empty()).unwrap_or(why),
            // Filtered out of this run: the entry stays as it is.
            None => match listed {
                Some(r) => r,
                None => continue,
            },
        };
        let _ = writeln!(
            text,
            "{} {}  # {}",
            check.line,
            check.describe(),
            reason.replace('\n', " ")
        );
    }
    if let Err(e) = std::fs::write(EXPECTED_FAILURES, text) {
        report(&format!(
            "module-system: cannot write {EXPECTED_FAILURES}: {e}\n"
        ));
    }
}

/// Prints to stderr (shown by `cargo test` for failing tests and with `--nocapture`).
fn report(text: &str) {
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// The shell interpreter's own tests.
mod shell_tests {
    use super::*;

    /// The tests as trials, named `shell::…`.
    pub fn trials() -> Vec<Trial> {
        let tests: [(&str, fn()); 3] = [
            ("words_quotes_and_positional", words_quotes_and_positional),
            ("braces_expand_unless_quoted", braces_expand_unless_quoted),
            ("ere_braces", ere_braces),
        ];
        tests
            .into_iter()
            .map(|(name, test)| {
                Trial::test(format!("shell::{name}"), move || {
                    test();
                    Ok(())
                })
            })
            .collect()
    }

    fn words_quotes_and_positional() {
        let pos = vec!["config.x".to_string(), "./a.nix".to_string()];
        let w = split_words(r#"checkConfigOutput '^"42"$' "$@" ./b.nix"#, &pos).unwrap();
        assert_eq!(
            w,
            [
                "checkConfigOutput",
                "^\"42\"$",
                "config.x",
                "./a.nix",
                "./b.nix"
            ]
        );
        let w = split_words(r#"c 'a'\''b' "\[\]" x.\"y.z\""#, &[]).unwrap();
        assert_eq!(w, ["c", "a'b", "\\[\\]", "x.\"y.z\""]);
        assert!(split_words("c $x", &[]).is_err());
        let w = split_words(r#"c "^42$" "a\'b""#, &[]).unwrap();
        assert_eq!(w, ["c", "^42$", "a\\'b"]);
    }

    fn braces_expand_unless_quoted() {
        let w = split_words("c ./d/{a.nix,b.nix} '{x,y}'", &[]).unwrap();
        assert_eq!(w, ["c", "./d/a.nix", "./d/b.nix", "{x,y}"]);
    }

    fn ere_braces() {
        assert_eq!(ere_to_rust("^{}$"), "^\\{\\}$");
        assert_eq!(ere_to_rust("a{2,3}"), "a{2,3}");
        assert_eq!(ere_to_rust("\\{x\\}"), "\\{x\\}");
    }
}
