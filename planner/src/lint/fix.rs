//! `kith lint --fix`: the diagnostics' fixes applied to the clan's files, every fix that
//! overlaps no other in one pass, pass after pass until nothing is left to fix.

use super::{Config, Fix, LintError, Report};
use crate::edit::{diff, file};
use kith_flake::FlakeOptions;
use std::collections::BTreeMap;
use std::path::{Component, Path};

/// At most this many passes: a fix that brings back what another removed stops here.
const MAX_PASSES: usize = 8;

/// One file's text before and after the fixes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileChange {
    /// The file, relative to the clan's directory.
    pub file: String,
    /// Its text before.
    pub before: String,
    /// Its text after.
    pub after: String,
}

impl FileChange {
    /// The change as a unified diff (`--- a/FILE`, `+++ b/FILE`).
    pub fn diff(&self) -> String {
        diff::unified(&self.file, &self.before, &self.after)
    }
}

/// What `--fix` did (or, for a dry run, would do).
#[derive(Debug)]
pub struct FixOutcome {
    /// Each changed file, from its text before the first pass to after the last.
    pub changes: Vec<FileChange>,
    /// How many fixes were applied.
    pub applied: usize,
    /// How many passes ran (the last one finds nothing to fix, or hits the limit).
    pub passes: usize,
    /// The diagnostics left after the fixes (for a dry run, of the fixed copy).
    pub report: Report,
}

/// One pass's edits: the texts of the files it changes, and how many fixes it applied.
struct Pass {
    changes: Vec<FileChange>,
    applied: usize,
}

/// Applies every fix of `report` that overlaps no other (the first fix of each diagnostic;
/// of two that overlap, the earlier in the report) to the texts of their files as they are
/// now. A fix of a file outside the clan, or whose edits fall outside the file or inside a
/// character, is left out.
fn pass(report: &Report) -> Pass {
    let mut by_file: BTreeMap<&str, Vec<(usize, usize, &str)>> = BTreeMap::new();
    let mut texts: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut applied = 0;
    for fix in report.diagnostics.iter().filter_map(|d| d.fixes.first()) {
        if !fits(fix, report, &mut texts) {
            continue;
        }
        let overlaps = fix.edits.iter().any(|e| {
            let (s, t) = (e.location.range.start.byte, e.location.range.end.byte);
            by_file
                .get(e.location.file.as_str())
                .is_some_and(|es| es.iter().any(|&(a, b, _)| s < b && a < t || s == a))
        });
        if overlaps {
            continue;
        }
        for e in &fix.edits {
            let r = &e.location.range;
            by_file.entry(&e.location.file).or_default().push((
                r.start.byte,
                r.end.byte,
                &e.new_text,
            ));
        }
        applied += 1;
    }
    let changes = by_file
        .into_iter()
        .filter_map(|(name, mut edits)| {
            let before = texts.get(name)?.clone()?;
            edits.sort_by_key(|&(s, ..)| std::cmp::Reverse(s));
            let mut after = before.clone();
            for (s, t, new) in edits {
                after.replace_range(s..t, new);
            }
            (after != before).then(|| FileChange {
                file: name.to_string(),
                before,
                after,
            })
        })
        .collect();
    Pass { changes, applied }
}

/// Whether every edit of `fix` is in a file of the clan, within its text and on character
/// boundaries (the texts read into `texts`).
fn fits(fix: &Fix, report: &Report, texts: &mut BTreeMap<String, Option<String>>) -> bool {
    !fix.edits.is_empty()
        && fix.edits.iter().all(|e| {
            let name = &e.location.file;
            let inside = Path::new(name)
                .components()
                .all(|c| matches!(c, Component::Normal(_)));
            let text = texts
                .entry(name.clone())
                .or_insert_with(|| {
                    inside
                        .then(|| std::fs::read_to_string(report.root.join(name)).ok())
                        .flatten()
                })
                .as_deref();
            let r = &e.location.range;
            text.is_some_and(|t| {
                r.start.byte <= r.end.byte
                    && t.is_char_boundary(r.start.byte)
                    && t.is_char_boundary(r.end.byte)
                    && r.end.byte <= t.len()
            })
        })
}

/// Lints the clan in `dir` and applies the fixes, pass after pass, until a pass finds
/// nothing to fix (at most eight passes). Each file is written atomically. With
/// `dry_run` nothing of the clan is written: a pass that leaves out overlapping fixes goes
/// on in a temporary copy of the clan, so the outcome is what `--fix` would do.
pub fn fix(
    dir: &Path,
    opts: &FlakeOptions,
    config: &Config,
    dry_run: bool,
) -> Result<FixOutcome, LintError> {
    let report = super::lint_with(dir, opts, config, None)?;
    let first = pass(&report);
    if dry_run {
        if first.changes.is_empty() {
            return Ok(FixOutcome {
                changes: Vec::new(),
                applied: 0,
                passes: 1,
                report,
            });
        }
        let copy = TempCopy::of(dir)?;
        let mut outcome = passes(copy.path(), opts, config, Some(first))?;
        outcome.report.root = dir.to_path_buf();
        return Ok(outcome);
    }
    passes(dir, opts, config, Some(first))
}

/// Writes `first` and further passes in `dir` until one changes nothing.
fn passes(
    dir: &Path,
    opts: &FlakeOptions,
    config: &Config,
    mut next: Option<Pass>,
) -> Result<FixOutcome, LintError> {
    let mut originals: BTreeMap<String, String> = BTreeMap::new();
    let mut finals: BTreeMap<String, String> = BTreeMap::new();
    let mut applied = 0;
    let mut count = 0;
    loop {
        let (this, report) = match next.take() {
            Some(p) => (p, None),
            None => {
                let report = super::lint_with(dir, opts, config, None)?;
                (pass(&report), Some(report))
            }
        };
        count += 1;
        if this.changes.is_empty() || count > MAX_PASSES {
            let report = match report {
                Some(r) => r,
                None => super::lint_with(dir, opts, config, None)?,
            };
            let changes = finals
                .into_iter()
                .filter_map(|(file, after)| {
                    let before = originals.remove(&file)?;
                    (before != after).then_some(FileChange {
                        file,
                        before,
                        after,
                    })
                })
                .collect();
            return Ok(FixOutcome {
                changes,
                applied,
                passes: count,
                report,
            });
        }
        for c in this.changes {
            file::write_atomic(&dir.join(&c.file), c.after.as_bytes()).map_err(LintError)?;
            originals.entry(c.file.clone()).or_insert(c.before);
            finals.insert(c.file, c.after);
        }
        applied += this.applied;
    }
}

/// A copy of a clan's directory in a fresh temporary directory, removed when dropped.
struct TempCopy(std::path::PathBuf);

impl TempCopy {
    fn of(dir: &Path) -> Result<TempCopy, LintError> {
        let base = std::env::temp_dir().join(format!(
            "kith-fix-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(&base)
            .map_err(|e| LintError(format!("cannot create {}: {e}", base.display())))?;
        let copy = TempCopy(base.join("clan"));
        copy_tree(dir, &copy.0)
            .map_err(|e| LintError(format!("cannot copy {} for a dry run: {e}", dir.display())))?;
        Ok(copy)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempCopy {
    fn drop(&mut self) {
        if let Some(base) = self.0.parent() {
            let _ = std::fs::remove_dir_all(base);
        }
    }
}

/// Copies the tree `from` to `to` (files, directories and symlinks as links).
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src)?, &dst)?;
        } else if kind.is_dir() {
            copy_tree(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{Diagnostic, Edit, Location, Position, Range, Severity};
    use super::*;

    fn at(file: &str, s: usize, t: usize) -> Location {
        let p = |b| Position {
            line: 1,
            column: b + 1,
            byte: b,
        };
        Location {
            file: file.into(),
            range: Range {
                start: p(s),
                end: p(t),
            },
        }
    }

    fn diag(file: &str, s: usize, t: usize, new: &str) -> Diagnostic {
        Diagnostic {
            code: "unknown-machine",
            severity: Severity::Error,
            message: String::new(),
            location: at(file, s, t),
            notes: Vec::new(),
            fixes: vec![Fix {
                message: String::new(),
                edits: vec![Edit {
                    location: at(file, s, t),
                    new_text: new.into(),
                }],
            }],
        }
    }

    #[test]
    fn applies_non_overlapping_fixes_and_leaves_out_the_rest() {
        let dir = std::env::temp_dir().join(format!("kith-fix-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.nix"), "alpha betta gamma é").unwrap();
        let report = Report {
            root: dir.clone(),
            diagnostics: vec![
                diag("a.nix", 6, 11, "beta"),
                diag("a.nix", 8, 10, "x"),    // overlaps the first
                diag("a.nix", 0, 5, "ALPHA"), // applied, edits sorted
                diag("a.nix", 19, 20, "e"),   // inside the two-byte é
                diag("../b.nix", 0, 1, "x"),  // outside the clan
                diag("a.nix", 100, 101, "x"), // past the end
            ],
            suppressed: 0,
        };
        let p = pass(&report);
        assert_eq!(p.applied, 2);
        assert_eq!(p.changes.len(), 1);
        assert_eq!(p.changes[0].after, "ALPHA beta gamma é");
        assert!(p.changes[0].diff().contains("+ALPHA beta gamma é"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
