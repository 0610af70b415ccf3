//! `kith lint`: the clan's inventory mistakes, all at once, each at its definition site
//! (through merges, across Nix files and `inventory.json`), from the native engine's typed
//! inventory ([`kith_inventory::model`]) and its own checks — never from a second reading of
//! the files. Rendered as human text (miette), JSON Lines, SARIF 2.1.0 or GitHub annotations
//! by [`render`].

mod cached;
mod check;
mod deprecated;
mod duplicate;
mod export_site;
pub mod fix;
mod locate;
pub mod render;
pub mod rules;
mod settings;
pub mod suppress;
mod syntax;
mod vars;

use kith_eval::FileSystem;
use kith_flake::FlakeOptions;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

pub use check::SharedFs;
pub use rules::{Rule, RULES};
pub use suppress::Config;

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The clan does not evaluate, or evaluates to something wrong.
    Error,
    /// Very likely a mistake.
    Warning,
    /// Something kith could not check statically, said so.
    Info,
    /// Worth a look (unused things).
    Hint,
}

impl Severity {
    /// `error`, `warning`, `info` or `hint`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
            Severity::Hint => "hint",
        }
    }
}

/// A place in a file: 1-based line, 1-based column (in characters) and 0-based byte offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
    /// 0-based byte offset in the file.
    pub byte: usize,
}

/// A range of a file (end exclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    /// First character.
    pub start: Position,
    /// Just after the last character.
    pub end: Position,
}

/// A range of a file of the clan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// The file, relative to the clan's directory (`/`-separated).
    pub file: String,
    /// Where in it.
    pub range: Range,
}

/// A related site or remark.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// What it says.
    pub message: String,
    /// The site it is about, if any.
    pub location: Option<Location>,
}

/// One text edit: replace `location` by `new_text`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edit {
    /// The text replaced.
    pub location: Location,
    /// The replacement.
    pub new_text: String,
}

/// A fix: edits applied together.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    /// What the fix does.
    pub message: String,
    /// Its edits.
    pub edits: Vec<Edit>,
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The rule's stable id (see [`RULES`]).
    pub code: &'static str,
    /// Its severity (the rule's default unless said otherwise in the rule's page).
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// Where.
    pub location: Location,
    /// Related sites and remarks.
    pub notes: Vec<Note>,
    /// Fixes, as text edits.
    pub fixes: Vec<Fix>,
}

/// A [`Diagnostic`] as read back, its code any string.
#[derive(Deserialize)]
struct DiagnosticData {
    code: String,
    severity: Severity,
    message: String,
    location: Location,
    notes: Vec<Note>,
    fixes: Vec<Fix>,
}

impl<'de> Deserialize<'de> for Diagnostic {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Diagnostic, D::Error> {
        let d = DiagnosticData::deserialize(de)?;
        let rule = rules::rule(&d.code)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown rule {}", d.code)))?;
        Ok(Diagnostic {
            code: rule.id,
            severity: d.severity,
            message: d.message,
            location: d.location,
            notes: d.notes,
            fixes: d.fixes,
        })
    }
}

impl Diagnostic {
    /// The rule's documentation page.
    pub fn url(&self) -> String {
        rules::url(self.code)
    }
}

/// The diagnostics of a clan.
#[derive(Clone, Debug)]
pub struct Report {
    /// The clan's directory (files are relative to it).
    pub root: PathBuf,
    /// The diagnostics, by file, then position, then rule.
    pub diagnostics: Vec<Diagnostic>,
    /// How many diagnostics the configuration or inline comments turned off.
    pub suppressed: usize,
}

impl Report {
    /// The highest severity reported, if any diagnostic was.
    pub fn worst(&self) -> Option<Severity> {
        self.diagnostics.iter().map(|d| d.severity).min()
    }
}

/// Why a clan could not be linted at all.
#[derive(Debug)]
pub struct LintError(pub String);

impl fmt::Display for LintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LintError {}

/// Lints the clan in `dir`, as its `kith.toml` configures (see [`Config`]), through the
/// plan cache ([`crate::cache::dir`]).
pub fn lint(dir: &Path, opts: &FlakeOptions) -> Result<Report, LintError> {
    lint_with(
        dir,
        opts,
        &Config::load(dir)?,
        crate::cache::dir().as_deref(),
    )
}

/// Lints the clan in `dir` with the configuration `config`. With `cache_dir`, the
/// diagnostics come from there if nothing they were computed from changed (the clan's
/// directory as a whole, and every file read outside it and outside the store), and are
/// stored there when computed.
pub fn lint_with(
    dir: &Path,
    opts: &FlakeOptions,
    config: &Config,
    cache_dir: Option<&Path>,
) -> Result<Report, LintError> {
    let run = Run {
        cache_dir,
        ..Run::default()
    };
    lint_run(dir, opts, config, &run).map(|l| l.report)
}

/// How far a lint has got, for a progress indicator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// What it is doing: `loading the clan`, `checking instances`, `evaluating exports`
    /// or `checking constraints`.
    pub phase: &'static str,
    /// Steps of the phase done (instances checked).
    pub done: usize,
    /// Steps of the phase in all (0 when not counted).
    pub total: usize,
}

/// How a lint runs.
#[derive(Clone, Copy, Default)]
pub struct Run<'a> {
    /// Where diagnostics are cached (`None`: neither read nor written).
    pub cache_dir: Option<&'a Path>,
    /// Threads to use: 0 for one per core. The exports are evaluated on a second thread,
    /// alongside the checks of the inventory and its instances, so more than two gain
    /// nothing.
    pub jobs: usize,
    /// Told each time the lint gets further (not called for an answer from the cache).
    pub progress: Option<&'a dyn Fn(Progress)>,
    /// Whether exports and constraints the native engine does not model are evaluated by
    /// the reference path (clan-core's own code), as `kith check` does: their errors are
    /// then reported. Without it (`kith lint`, the editor) they are said to be unchecked.
    pub reference: bool,
}

impl Run<'_> {
    /// The threads to use (`jobs`, or one per core).
    fn threads(&self) -> usize {
        match self.jobs {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }

    /// Whether the exports are evaluated on a thread of their own.
    fn parallel(&self) -> bool {
        self.threads() >= 2
    }

    fn tell(&self, phase: &'static str, done: usize, total: usize) {
        if let Some(p) = self.progress {
            p(Progress { phase, done, total });
        }
    }
}

/// The size of a linted clan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Its machines.
    pub machines: usize,
    /// Its service instances.
    pub instances: usize,
    /// The distinct services (module name and input) they are instances of.
    pub services: usize,
}

/// A lint's report and the size of the clan it covered.
#[derive(Clone, Debug)]
pub struct Linted {
    /// The diagnostics.
    pub report: Report,
    /// The clan's size (zero where its inventory could not be read).
    pub counts: Counts,
}

/// [`lint_with`], run as `run` says (cache, threads, progress), with the clan's size.
pub fn lint_run(
    dir: &Path,
    opts: &FlakeOptions,
    config: &Config,
    run: &Run,
) -> Result<Linted, LintError> {
    is_flake(dir)?;
    let (diagnostics, counts) = match run.cache_dir {
        Some(cache) => cached::diagnostics(dir, opts, cache, run),
        None => {
            let found = diagnostics(dir, opts, check::Through::Disk, run);
            (found.diagnostics, found.counts)
        }
    };
    Ok(Linted {
        report: suppressed(dir, config, diagnostics, &|p| std::fs::read(p).ok()),
        counts,
    })
}

/// [`lint_with`] without the cache, every file read through `fs` (an editor's unsaved
/// buffers over the disk).
pub fn lint_through(
    dir: &Path,
    opts: &FlakeOptions,
    config: &Config,
    fs: Rc<dyn FileSystem>,
) -> Result<Report, LintError> {
    is_flake(dir)?;
    let diagnostics = diagnostics(dir, opts, check::Through::Local(&fs), &Run::default());
    let diagnostics = diagnostics.diagnostics;
    Ok(suppressed(dir, config, diagnostics, &|p| fs.read(p).ok()))
}

/// [`lint_through`] a file system any thread can read: the exports are then evaluated on
/// a second thread (reading through it too) alongside the other checks, as
/// [`lint_with`] does on the disk.
pub fn lint_through_shared(
    dir: &Path,
    opts: &FlakeOptions,
    config: &Config,
    fs: SharedFs,
) -> Result<Report, LintError> {
    lint_through_kept(dir, opts, config, fs, None)
}

/// [`lint_through_shared`], the exports' groups kept in `groups` from one lint to the next
/// (those whose inputs are unchanged are not computed again).
pub(crate) fn lint_through_kept(
    dir: &Path,
    opts: &FlakeOptions,
    config: &Config,
    fs: SharedFs,
    groups: Option<&crate::exports_plan::GroupMemo>,
) -> Result<Report, LintError> {
    is_flake(dir)?;
    let through = check::Through::Shared(&fs, groups);
    let diagnostics = diagnostics(dir, opts, through, &Run::default());
    Ok(suppressed(dir, config, diagnostics.diagnostics, &|p| {
        fs.read(p).ok()
    }))
}

/// The report of `diagnostics` of the clan in `dir`, less those `config` and the inline
/// comments of its files (read by `read`) turn off.
fn suppressed(
    dir: &Path,
    config: &Config,
    mut diagnostics: Vec<Diagnostic>,
    read: &dyn Fn(&Path) -> Option<Vec<u8>>,
) -> Report {
    let suppressed = suppress::apply(dir, config, &mut diagnostics, read);
    Report {
        root: dir.to_path_buf(),
        diagnostics,
        suppressed,
    }
}

/// An error unless `dir` has a `flake.nix`.
fn is_flake(dir: &Path) -> Result<(), LintError> {
    if dir.join("flake.nix").is_file() {
        return Ok(());
    }
    Err(LintError(format!(
        "no flake.nix in {}: not a clan's flake directory",
        dir.display()
    )))
}

/// The diagnostics of the clan in `dir` (sorted, without duplicates, nothing suppressed),
/// its size and what their evaluation read.
fn diagnostics(
    dir: &Path,
    opts: &FlakeOptions,
    through: check::Through,
    run: &Run,
) -> check::Found {
    let mut found = check::run(dir, opts, through, run);
    found.diagnostics.sort_by(|a, b| {
        (&a.location.file, a.location.range.start.byte, a.code).cmp(&(
            &b.location.file,
            b.location.range.start.byte,
            b.code,
        ))
    });
    found.diagnostics.dedup();
    found
}
