//! Clan's selector language (`clan select`): parsing, application to values, and output.
//!
//! [`select_reference`] answers a selector the *reference* way: the flake is loaded and
//! evaluated by kith's evaluator, the selector applied with [`apply::Semantics::Clan`],
//! and the result printed as `clan select` prints it.
//!
//! ```
//! use kith_eval::{Eval, EvalOptions};
//! use kith_planner::select::{apply, dumps, parse, Semantics};
//! use std::path::Path;
//!
//! let mut ev = Eval::new(EvalOptions::default());
//! let v = ev.eval_expr(r#"{ m = { jon.ip = "10.0.0.1"; sara = { }; }; }"#, Path::new("/"))?;
//! let sel = parse("m.*.?ip").unwrap();
//! let json = apply(&mut ev, &v, &sel, Semantics::Clan).unwrap();
//! assert_eq!(dumps(&json), "{\n    \"jon\": {\n        \"ip\": \"10.0.0.1\"\n    },\n    \"sara\": {}\n}");
//! # Ok::<(), Box<kith_eval::EvalError>>(())
//! ```

pub mod apply;
pub mod output;
pub mod parse;

pub use apply::{apply, ApplyError, Semantics};
pub use output::dumps;
pub use parse::{parse, Selector, SelectorError, SetItem};

use std::fmt;
use std::path::{Path, PathBuf};

/// The answer to a selector.
#[derive(Clone, Debug)]
pub struct Answer {
    /// The printed result (without a trailing newline).
    pub text: String,
    /// One line per flake input saying how it was resolved (`kith_flake::load_explained`).
    pub inputs: Vec<String>,
    /// What answered and why (`--explain`).
    pub how: String,
}

/// Why a selector could not be answered.
#[derive(Clone, Debug)]
pub struct SelectError {
    /// The selector as the user wrote it.
    pub selector: String,
    /// What went wrong.
    pub kind: SelectErrorKind,
    /// How the flake's inputs were resolved, if the flake was read that far.
    pub inputs: Vec<String>,
    /// What tried to answer (`--explain`).
    pub how: String,
}

/// The kinds of [`SelectError`].
#[derive(Clone, Debug)]
pub enum SelectErrorKind {
    /// The selector does not parse (clan raises a `ValueError`).
    Parse(SelectorError),
    /// Loading, evaluating or selecting failed: the reason clan prints.
    Reason(String),
    /// Another of clan's errors, printed as it is (a missing or invalid flake directory,
    /// an answer clan's cache cannot store).
    Clan(String),
}

impl fmt::Display for SelectError {
    /// Clan's text: `Error on: $ clan select '<sel>'` and `  Reason: …` on the next line
    /// (a parse error reads as Python's `ValueError: …`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            SelectErrorKind::Parse(e) => write!(f, "ValueError: {e}"),
            SelectErrorKind::Clan(m) => f.write_str(m),
            SelectErrorKind::Reason(r) => write!(
                f,
                "Error on: $ clan select '{}'\n  Reason: {r}. Use flag '--debug' to see full nix trace.",
                self.selector
            ),
        }
    }
}

impl std::error::Error for SelectError {}

/// Answers `selector` on the flake in `flake_dir` (relative to the current directory if
/// relative) by evaluating it with kith (the reference path): the text `clan select`
/// prints.
pub fn select(
    flake_dir: &Path,
    selector: &str,
    opts: &kith_flake::FlakeOptions,
    no_cache: bool,
) -> Result<Answer, SelectError> {
    use crate::native::{view, Outcome};
    let fail = |kind| SelectError {
        selector: selector.to_string(),
        kind,
        inputs: Vec::new(),
        how: "answered by the native engine".into(),
    };
    let selectors = parse(selector).map_err(|e| fail(SelectErrorKind::Parse(e)))?;
    let Some((which, rest, wrap)) = native_view(&selectors) else {
        return select_reference(flake_dir, selector, opts);
    };
    if !flake_dir.join("flake.nix").is_file() {
        return select_reference(flake_dir, selector, opts);
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let dir = PathBuf::from(kith_eval::canon_path(
        &cwd.join(flake_dir).to_string_lossy(),
    ));
    match view(
        &dir,
        opts,
        which,
        no_cache,
        rest.is_empty() && wrap.is_none(),
    ) {
        Outcome::Text(text, how) => Ok(Answer {
            text,
            inputs: Vec::new(),
            how,
        }),
        Outcome::Value(json, how) if rest.is_empty() => {
            // The view's JSON is already what clan prints (Nix's JSON has no `outPath` sets
            // left): no selector to apply.
            let json = match wrap {
                Some(name) => {
                    let mut m = serde_json::Map::new();
                    m.insert(name.to_string(), json);
                    serde_json::Value::Object(m)
                }
                None => json,
            };
            Ok(Answer {
                text: dumps(&json),
                inputs: Vec::new(),
                how,
            })
        }
        Outcome::Value(json, how) => {
            let mut ev = kith_eval::Eval::new(kith_eval::EvalOptions::default());
            let value = kith_eval::Value::from_json(&json);
            let applied = apply(&mut ev, &value, rest, Semantics::Clan);
            let applied = match (wrap, applied) {
                (Some(name), Ok(v)) => {
                    let mut m = serde_json::Map::new();
                    m.insert(name.to_string(), v);
                    Ok(serde_json::Value::Object(m))
                }
                (_, r) => r,
            };
            match applied {
                Ok(json) => Ok(Answer {
                    text: dumps(&json),
                    inputs: Vec::new(),
                    how,
                }),
                Err(ApplyError::Cache(m)) => Err(fail(SelectErrorKind::Clan(m))),
                Err(e) => Err(fail(SelectErrorKind::Reason(e.reason(&ev)))),
            }
        }
        Outcome::Unsupported(reason) => {
            let mut answer = select_reference(flake_dir, selector, opts)?;
            answer.how = format!(
                "the native engine does not model this clan ({reason}): answered from the reference path"
            );
            Ok(answer)
        }
        // clan-core evaluates the constraints lazily: a role it never counts is never
        // resolved, so its cliChecks may evaluate where the native engine, which resolves
        // every instance's roles first, fails. Its own code then answers, if it can.
        Outcome::Error(e, ev) if which == crate::native::View::CliChecks => {
            match select_reference(flake_dir, selector, opts) {
                Ok(mut answer) => {
                    answer.how = format!(
                        "the native engine failed ({}), where clan-core evaluates the checks lazily: answered from the reference path",
                        e.message.lines().next().unwrap_or_default()
                    );
                    Ok(answer)
                }
                Err(_) => Err(fail(SelectErrorKind::Reason(
                    ApplyError::Eval(e).reason(&ev),
                ))),
            }
        }
        Outcome::Error(e, ev) => Err(fail(SelectErrorKind::Reason(
            ApplyError::Eval(e).reason(&ev),
        ))),
    }
}

/// The native view a selector starts with, the rest of the selector, and the key to wrap
/// the answer in (for `clan.?exports`, which gives `{ "exports": … }`).
fn native_view(
    selectors: &[Selector],
) -> Option<(crate::native::View, &[Selector], Option<&'static str>)> {
    use crate::native::View;
    for which in [View::Inventory, View::Exports, View::CliChecks] {
        let path = which.path();
        if selectors.len() < path.len() {
            continue;
        }
        let head = &selectors[..path.len() - 1];
        if !head
            .iter()
            .zip(path)
            .all(|(s, n)| matches!(s, Selector::Str(x) if x == n))
        {
            continue;
        }
        let last = path[path.len() - 1];
        match &selectors[path.len() - 1] {
            Selector::Str(x) if x == last => return Some((which, &selectors[path.len()..], None)),
            Selector::Maybe(x) if x == last => {
                return Some((which, &selectors[path.len()..], Some(last)))
            }
            _ => {}
        }
    }
    None
}

/// What `--explain` says of an answer from the reference path.
const REFERENCE: &str = "answered from the reference path: kith evaluated the flake with clan-core's own code (the native engine answers clan.exports, clanInternals.inventoryClass.inventorySerialization and clanInternals.cliChecks)";

/// [`select`] through the reference path only: the flake evaluated by kith's evaluator,
/// clan-core's own code computing every view.
pub fn select_reference(
    flake_dir: &Path,
    selector: &str,
    opts: &kith_flake::FlakeOptions,
) -> Result<Answer, SelectError> {
    let fail = |kind, inputs| SelectError {
        selector: selector.to_string(),
        kind,
        inputs,
        how: REFERENCE.into(),
    };
    let selectors = parse(selector).map_err(|e| fail(SelectErrorKind::Parse(e), Vec::new()))?;
    let id = flake_dir.display();
    if std::fs::metadata(flake_dir).is_err() {
        let msg = format!("{id}: \nFlake '{id}' does not exist or is not a valid flake.");
        return Err(fail(SelectErrorKind::Clan(msg), Vec::new()));
    }
    if !flake_dir.join("flake.nix").is_file() {
        let msg = format!("{id}: \nFlake is invalid. Could not find a flake.nix file in '{id}'.");
        return Err(fail(SelectErrorKind::Clan(msg), Vec::new()));
    }
    let (ev, applied) = reference_apply(flake_dir, &selectors, opts);
    match applied {
        Ok((json, inputs)) => Ok(Answer {
            text: dumps(&json),
            inputs,
            how: REFERENCE.into(),
        }),
        Err((ApplyError::Cache(m), inputs)) => Err(fail(SelectErrorKind::Clan(m), inputs)),
        Err((e, inputs)) => Err(fail(SelectErrorKind::Reason(e.reason(&ev)), inputs)),
    }
}

/// A reference-path answer, or its error, each with what `--explain` says of the inputs
/// (none if the flake did not load).
type Applied = Result<(serde_json::Value, Vec<String>), (ApplyError, Vec<String>)>;

/// `selectors` applied by the reference path to the flake in `flake_dir`, with the
/// evaluator (for the errors' sources).
fn reference_apply(
    flake_dir: &Path,
    selectors: &[Selector],
    opts: &kith_flake::FlakeOptions,
) -> (kith_eval::Eval, Applied) {
    let mut ev = crate::evaluator(opts.offline);
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let dir = PathBuf::from(kith_eval::canon_path(
        &cwd.join(flake_dir).to_string_lossy(),
    ));
    let applied = match kith_flake::load_explained(&mut ev, &dir, opts) {
        Ok((flake, inputs)) => match apply(&mut ev, &flake, selectors, Semantics::Clan) {
            Ok(json) => Ok((json, inputs)),
            Err(e) => Err((e, inputs)),
        },
        Err(e) => Err((ApplyError::Eval(e), Vec::new())),
    };
    (ev, applied)
}

/// The error of `selector` evaluated by the reference path on the flake in `flake_dir`,
/// with the evaluator that raised it (for its sources); `None` if it evaluates (or fails
/// other than by an evaluation error).
pub(crate) fn reference_error(
    flake_dir: &Path,
    selector: &str,
    opts: &kith_flake::FlakeOptions,
) -> Option<(kith_eval::Eval, Box<kith_eval::EvalError>)> {
    let selectors = parse(selector).ok()?;
    match reference_apply(flake_dir, &selectors, opts) {
        (ev, Err((ApplyError::Eval(e), _))) => Some((ev, e)),
        _ => None,
    }
}

/// The markers that make a directory a clan's top level, in the order clan searches for
/// them (`clan_lib/dirs`: each marker is looked for in every ancestor before the next).
pub const TOPLEVEL_MARKERS: [&str; 5] = [".clan-flake", ".git", ".hg", ".svn", "flake.nix"];

/// The default `--flake` of clan's commands: `clan_dir` (`$CLAN_DIR`) if set and not
/// empty, else the first ancestor of `cwd` holding `.clan-flake`, then `.git`, `.hg`,
/// `.svn`, `flake.nix` (the file-system root itself is never searched, as in clan).
pub fn default_flake_dir(clan_dir: Option<&std::ffi::OsStr>, cwd: &Path) -> Option<PathBuf> {
    if let Some(dir) = clan_dir.filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    TOPLEVEL_MARKERS.iter().find_map(|marker| {
        cwd.ancestors()
            .filter(|dir| dir.parent().is_some())
            .find(|dir| dir.join(marker).exists())
            .map(Path::to_path_buf)
    })
}
