//! `orphan-vars`: the vars (and sops keys) of machines that are no machine of the clan,
//! from the listing of `vars/per-machine/` and `sops/machines/` (never a file's content).

use super::{Diagnostic, Location, Note, Position, Range, Severity};
use crate::fleet::machines::{levenshtein, suggest};
use kith_inventory::model::Inventory;
use std::collections::BTreeMap;
use std::path::Path;

/// The directories whose entries are named after machines, as clan lays them out:
/// `vars/per-machine/<m>/` (in-repo vars) and `sops/machines/<m>/` (a machine's age key).
const PER_MACHINE: &[&str] = &["vars/per-machine", "sops/machines"];

/// An `orphan-vars` warning for each name of `vars/per-machine/` or `sops/machines/` that
/// is not a machine of `inv` (nor a directory under `machines/`).
pub(crate) fn orphans(dir: &Path, inv: &Inventory) -> Vec<Diagnostic> {
    let mut machines: Vec<String> = inv.machines.keys().cloned().collect();
    // The directories under `machines/` are a machine source of their own; the inventory
    // has them, but an orphan is reported only if it is in none.
    for d in subdirs(&dir.join("machines")) {
        if !machines.contains(&d) {
            machines.push(d);
        }
    }
    // Orphan name → its directories, in `PER_MACHINE` order.
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for base in PER_MACHINE {
        for m in subdirs(&dir.join(base)) {
            if !machines.contains(&m) {
                found
                    .entry(m.clone())
                    .or_default()
                    .push(format!("{base}/{m}"));
            }
        }
    }
    let mut out = Vec::new();
    for (m, dirs) in found {
        let first = &dirs[0];
        let location = anchor(dir, &dirs);
        let mut notes = vec![Note {
            message: format!("the directory {first}/ belongs to no machine"),
            location: None,
        }];
        for other in dirs.iter().skip(1) {
            notes.push(Note {
                message: format!("{other}/ belongs to no machine either"),
                location: None,
            });
        }
        // The machine's sops age key, if clan wrote one (a secret: named, never read).
        let key = format!("sops/secrets/{m}-age.key");
        if dir.join(&key).is_dir() {
            notes.push(Note {
                message: format!("{key}/ is this machine's age key"),
                location: None,
            });
        }
        notes.push(Note {
            message: advice(dir, &m, &dirs, &machines),
            location: None,
        });
        out.push(Diagnostic {
            code: "orphan-vars",
            severity: Severity::Warning,
            message: format!(
                "{first}/ holds the vars of machine '{m}', which is not a machine of this clan"
            ),
            location,
            notes,
            fixes: Vec::new(),
        });
    }
    out
}

/// What to do: delete the directories, or rename them to the nearest machine when the name
/// looks like a typo or an old name of it (and that machine has no directory of its own).
fn advice(dir: &Path, m: &str, dirs: &[String], machines: &[String]) -> String {
    let listed = dirs
        .iter()
        .map(|d| format!("{d}/"))
        .collect::<Vec<_>>()
        .join(" and ");
    let near = suggest(m, machines, 1).into_iter().next().filter(|x| {
        let d = levenshtein(&m.to_lowercase(), &x.to_lowercase());
        d <= (m.chars().count() / 3).max(1)
    });
    let Some(x) = near else {
        return format!("delete {listed} (no machine of the clan has a similar name)");
    };
    let taken: Vec<String> = PER_MACHINE
        .iter()
        .filter(|b| dir.join(b).join(&x).exists())
        .map(|b| format!("{b}/{x}/"))
        .collect();
    if taken.is_empty() {
        format!("delete {listed} or rename it to the nearest machine '{x}'")
    } else {
        format!(
            "delete {listed} or rename it to the nearest machine '{x}' (which already has {}: merge by hand)",
            taken.join(" and ")
        )
    }
}

/// The names of the directories in `dir` (sorted; none if it is not a directory).
fn subdirs(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| !n.starts_with('.'))
        .collect();
    out.sort();
    out
}

/// Where the diagnostic of directories `dirs` stands: the start of their first public file
/// (a var's `value`, a machine's public `key.json`), else the first directory itself. A
/// `secret` is never chosen: renderers show the text around a diagnostic.
fn anchor(root: &Path, dirs: &[String]) -> Location {
    let file = dirs
        .iter()
        .find_map(|d| first_public(root, d, 0))
        .unwrap_or_else(|| dirs[0].clone());
    let start = Position {
        line: 1,
        column: 1,
        byte: 0,
    };
    Location {
        file,
        range: Range { start, end: start },
    }
}

/// The first (in name order, depth first) file named `value` or `key.json` under `rel`,
/// without following symbolic links.
fn first_public(root: &Path, rel: &str, depth: usize) -> Option<String> {
    if depth > 8 {
        return None;
    }
    let mut entries: Vec<(String, bool)> = std::fs::read_dir(root.join(rel))
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let t = e.file_type().ok()?;
            let name = e.file_name().to_str()?.to_string();
            (t.is_dir() || t.is_file()).then_some((name, t.is_dir()))
        })
        .collect();
    entries.sort();
    for (name, is_dir) in entries {
        let path = format!("{rel}/{name}");
        if is_dir {
            if let Some(f) = first_public(root, &path, depth + 1) {
                return Some(f);
            }
        } else if name == "value" || name == "key.json" {
            return Some(path);
        }
    }
    None
}
