//! The admin's read-only questions about a clan, answered as clan-cli answers them
//! (`clan machines list|show`, `clan network list`, connection candidates, `clan vars
//! list|get`, `clan show`): the semantics behind `kith machines|network|vars|show`.
//!
//! Every answer is computed from two native views, loaded once by [`load_view`] (from the
//! plan cache when warm, so a warm command evaluates nothing): the inventory
//! (`clanInternals.inventoryClass.inventorySerialization`) and the exports (`clan.exports`),
//! plus the flake's `vars/` directory for var values. One module per job:
//! [`machines`] (list, show, suggestions), [`network`] (networks, the `network list` table),
//! [`resolve`] (connection candidates), [`probe`] (the Running column, reachability checks), [`vars`] (public values; secrets never read),
//! [`show`] (the clan's meta), [`pyfmt`] (Python's text of JSON values).

pub mod machines;
pub mod network;
pub mod probe;
pub mod pyfmt;
pub mod resolve;
pub mod show;
pub mod vars;

use crate::native::{view, Outcome, View};
use crate::select::{select_reference, ApplyError, SelectError, SelectErrorKind};
use serde_json::Value;
use std::fmt;
use std::path::{Path, PathBuf};

/// Why a fleet question has no answer: the text clan prints (or kith's, where clan has none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FleetError(pub String);

impl fmt::Display for FleetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FleetError {}

impl From<SelectError> for FleetError {
    fn from(e: SelectError) -> Self {
        FleetError(e.to_string())
    }
}

/// The selector clan-cli reads a view with (for error texts and the reference path).
fn selector(which: View) -> &'static str {
    match which {
        View::Inventory => "clanInternals.inventoryClass.inventorySerialization",
        View::Exports => "clan.?exports",
        View::CliChecks => "clanInternals.cliChecks",
    }
}

/// The canonical absolute directory of the flake in `flake_dir` (relative to the current
/// directory if relative), or clan's error when it is no flake.
pub fn flake_dir(flake_dir: &Path) -> Result<PathBuf, FleetError> {
    let id = flake_dir.display();
    if std::fs::metadata(flake_dir).is_err() {
        return Err(FleetError(format!(
            "{id}: \nFlake '{id}' does not exist or is not a valid flake."
        )));
    }
    if !flake_dir.join("flake.nix").is_file() {
        return Err(FleetError(format!(
            "{id}: \nFlake is invalid. Could not find a flake.nix file in '{id}'."
        )));
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    Ok(PathBuf::from(kith_eval::canon_path(
        &cwd.join(flake_dir).to_string_lossy(),
    )))
}

/// A native view of the clan in `dir` (canonical, see [`flake_dir`]) as JSON: from the plan
/// cache unless `no_cache`, else computed by the native engine (and cached); a clan the
/// native engine does not model is answered by the reference path. For
/// [`View::Exports`], a clan without exports gives `{}` (clan-cli's `clan.?exports`).
pub fn load_view(
    dir: &Path,
    opts: &kith_flake::FlakeOptions,
    which: View,
    no_cache: bool,
) -> Result<Value, FleetError> {
    load_view_with(dir, opts, which, no_cache, None)
}

/// A named projection of a view (see [`crate::native::projection`]).
pub type Projection<'a> = (&'a str, &'a dyn Fn(&Value) -> Value);

/// [`load_view`] through a projection `project` named `name` (see
/// [`crate::native::projection`]): what a command that reads a few fields of a large
/// view loads, cached on its own.
pub fn load_view_with(
    dir: &Path,
    opts: &kith_flake::FlakeOptions,
    which: View,
    no_cache: bool,
    projection: Option<Projection>,
) -> Result<Value, FleetError> {
    let sel = selector(which);
    let fail = |kind| {
        FleetError::from(SelectError {
            selector: sel.to_string(),
            kind,
            inputs: Vec::new(),
            how: String::new(),
        })
    };
    let outcome = match projection {
        Some((name, project)) => {
            crate::native::projection(dir, opts, which, no_cache, name, |v| project(v))
        }
        None => view(dir, opts, which, no_cache, false),
    };
    match outcome {
        Outcome::Value(v, _) => Ok(v),
        Outcome::Text(t, _) => serde_json::from_str(&t).map_err(|e| {
            fail(SelectErrorKind::Clan(format!(
                "cached view unreadable: {e}"
            )))
        }),
        Outcome::Error(e, ev) => Err(fail(SelectErrorKind::Reason(
            ApplyError::Eval(e).reason(&ev),
        ))),
        Outcome::Unsupported(_) => {
            let answer = select_reference(dir, sel, opts)?;
            let v: Value = serde_json::from_str(&answer.text)
                .map_err(|e| fail(SelectErrorKind::Clan(format!("unreadable answer: {e}"))))?;
            let v = match which {
                View::Exports => v
                    .get("exports")
                    .cloned()
                    .unwrap_or_else(|| Value::Object(Default::default())),
                _ => v,
            };
            Ok(match projection {
                Some((_, project)) => project(&v),
                None => v,
            })
        }
    }
}

/// The inventory machines' names, in the inventory's order (clan's `list_machines`).
pub fn machine_names(inventory: &Value) -> Vec<String> {
    inventory
        .get("machines")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// `Ok(())` when `name` is an inventory machine, else clan's "not found" text with its
/// suggestions ([`machines::not_found`]).
pub fn require_machine(inventory: &Value, name: &str) -> Result<(), FleetError> {
    let names = machine_names(inventory);
    if names.iter().any(|n| n == name) {
        Ok(())
    } else {
        Err(FleetError(machines::not_found(name, &names)))
    }
}
