//! The clan-core source-tree substitute: when clan-core's own flake inputs are missing
//! from the store (and not overridden), its `flake.nix` cannot run offline, so the outputs
//! a clan uses (`lib`, `clanLib`, `modules.clan.default`, `clan.modules`, …) are built
//! from its source tree instead (`clan_core.nix`). Only clan-core gets this treatment; it
//! is recognised by its files, not by its name.

use super::{
    attr, finish_flake, flake_path, node_value, resolve_path, source, source_info, Edge, Graph,
    NodeSource, Substitute,
};
use kith_eval::Eval;
use kith_eval::Result;
use kith_eval::Span;
use kith_eval::{Attrs, Value};
use std::collections::HashMap;
use std::path::Path;
use std::rc::Rc;

/// The Nix function building the substitute outputs.
pub const SUBSTITUTE_NIX: &str = include_str!("clan_core.nix");

/// clan-core's inputs its flake outputs need to evaluate `lib` and `clan.modules`
/// (`flake-parts.lib.mkFlake`, `nixpkgs.lib`, `systems`, `nix-select`). If one of these
/// cannot be had, the substitute is used.
pub const REQUIRED_INPUTS: &[&str] = &["flake-parts", "nixpkgs", "systems", "nix-select"];

/// Service directories left out of `clan.modules`: they need clan-core's packages,
/// which a source tree alone does not provide.
pub const SKIPPED_SERVICES: &[&str] = &["installer", "kde"];

/// Files that identify a clan-core source tree.
const MARKERS: &[&str] = &[
    "flake.nix",
    "lib/default.nix",
    "lib/clan/default.nix",
    "modules/clan/default.nix",
];

/// Whether `dir` holds clan-core: its marker files, a `clanServices/` directory and a
/// `flake.nix` that names clan.
pub fn is_clan_core_tree(dir: &Path) -> bool {
    MARKERS.iter().all(|m| dir.join(m).is_file())
        && dir.join("clanServices").is_dir()
        && std::fs::read_to_string(dir.join("flake.nix")).is_ok_and(|t| t.contains("clan"))
}

/// Whether node `j`'s source can be had: its store path, or why not.
pub(super) fn availability(
    g: &Graph,
    store_dir: &str,
    j: usize,
) -> std::result::Result<String, String> {
    let node = &g.nodes[j];
    match &node.source {
        NodeSource::Ready(s) => Ok(s.store_path.clone()),
        NodeSource::Unavailable(m) => Err(m.clone()),
        // Only the store counts: planning never fetches.
        NodeSource::Locked(l) => source::locked_store_path(store_dir, &node.name, l)
            .ok()
            .map(|(p, _)| p)
            .filter(|p| std::fs::symlink_metadata(p).is_ok())
            .ok_or_else(|| "not in the store, not overridden".to_string()),
    }
}

/// The node an input edge of node `from` leads to.
fn target(g: &Graph, from: usize, name: &str) -> Option<std::result::Result<usize, String>> {
    Some(match g.nodes[from].inputs.get(name)? {
        Edge::Node(j) => Ok(*j),
        Edge::Follows(p) => resolve_path(g, p, 0).map_err(|e| e.message),
    })
}

/// The available node an input edge of `from` leads to, if any.
fn available_input(g: &Graph, store_dir: &str, from: usize, name: &str) -> Option<usize> {
    let j = target(g, from, name)?.ok()?;
    availability(g, store_dir, j).ok().map(|_| j)
}

/// Why clan-core node `i` cannot be evaluated as a flake (its missing required inputs),
/// or `None` if it can.
fn missing_inputs(g: &Graph, store_dir: &str, i: usize) -> Option<String> {
    let mut missing = Vec::new();
    for name in REQUIRED_INPUTS {
        let why = match target(g, i, name) {
            None => continue,
            Some(Err(e)) => e,
            Some(Ok(j)) => match availability(g, store_dir, j) {
                Ok(_) => continue,
                Err(e) => e,
            },
        };
        missing.push(format!("'{name}': {why}"));
    }
    (!missing.is_empty()).then(|| missing.join("; "))
}

/// Decides which nodes are built by the substitute: clan-core trees (other than the
/// root) whose required inputs are missing, provided some nixpkgs (clan-core's own, else
/// the root flake's `nixpkgs` input) is available for its `lib/`.
pub(super) fn plan_substitutes(g: &Graph, store_dir: &str) -> HashMap<usize, Substitute> {
    let mut out = HashMap::new();
    for (i, node) in g.nodes.iter().enumerate().skip(1) {
        let NodeSource::Ready(src) = &node.source else {
            continue;
        };
        if !node.flake || !is_clan_core_tree(&src.real.join(&src.subdir)) {
            continue;
        }
        let Some(reason) = missing_inputs(g, store_dir, i) else {
            continue;
        };
        let nixpkgs = available_input(g, store_dir, i, "nixpkgs")
            .or_else(|| available_input(g, store_dir, 0, "nixpkgs"));
        if let Some(nixpkgs) = nixpkgs {
            out.insert(i, Substitute { nixpkgs, reason });
        }
    }
    out
}

/// Builds clan-core node `i` from its source tree with [`SUBSTITUTE_NIX`].
pub(super) fn build_substitute(
    ev: &mut Eval,
    g: &Rc<Graph>,
    i: usize,
    src: &source::SourceTree,
    sub: &Substitute,
) -> Result<Value> {
    let root = flake_path(src);
    let f = ev.eval_expr(SUBSTITUTE_NIX, Path::new(&root))?;
    let nixpkgs = node_value(g, sub.nixpkgs);
    let mut inputs = Vec::new();
    for (name, edge) in &g.nodes[i].inputs {
        let v = if name == "nixpkgs" {
            nixpkgs.clone()
        } else {
            super::edge_value(g, i, name, edge)
        };
        inputs.push(attr(name, v));
    }
    let inputs = Value::Attrs(Attrs::from_entries(inputs));
    let skip = SKIPPED_SERVICES.iter().map(|s| Value::string(*s)).collect();
    let args = Value::Attrs(Attrs::from_entries(vec![
        attr("src", Value::path(&root)),
        attr("nixpkgs", nixpkgs),
        attr("self", node_value(g, i)),
        attr("skip", Value::list(skip)),
    ]));
    let outputs = ev.call(&f, args, Span::NONE)?;
    finish_flake(ev, src, source_info(src), inputs, outputs)
}

/// One line per input of the lock graph: how it was resolved (`--explain`).
pub(super) fn explain(g: &Graph, store_dir: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut seen = vec![false; g.nodes.len()];
    let mut stack = vec![0usize];
    seen[0] = true;
    while let Some(i) = stack.pop() {
        for (name, edge) in g.nodes[i].inputs.iter().rev() {
            let path = if g.nodes[i].name.is_empty() {
                name.clone()
            } else {
                format!("{}/{name}", g.nodes[i].name)
            };
            match edge {
                Edge::Follows(p) => lines.push(format!("{path}: follows '{}'", p.join("/"))),
                Edge::Node(j) if !seen[*j] => {
                    seen[*j] = true;
                    stack.push(*j);
                    lines.push(describe_node(g, store_dir, *j));
                }
                Edge::Node(j) => lines.push(format!("{path}: same as '{}'", g.nodes[*j].name)),
            }
        }
    }
    lines.sort();
    lines
}

/// The `--explain` line of node `j`.
fn describe_node(g: &Graph, store_dir: &str, j: usize) -> String {
    let node = &g.nodes[j];
    let state = match availability(g, store_dir, j) {
        Ok(p) => format!("-> {p}"),
        Err(e) if matches!(node.source, NodeSource::Locked(_)) => {
            format!("-> unavailable: {e} (fetched through Nix if used, unless --offline)")
        }
        Err(e) => format!("-> unavailable: {e} (an error only if used)"),
    };
    let mut line = format!("{}: {} {state}", node.name, node.how);
    if let Some(sub) = g.substitutes.get(&j) {
        line.push_str(&format!(
            "; evaluated by the clan-core source-tree substitute (lib, clan.modules from its files, nixpkgs lib from '{}') because it cannot be evaluated as a flake: {}",
            g.nodes[sub.nixpkgs].name, sub.reason
        ));
    } else if node.flake && matches!(node.source, NodeSource::Ready(_)) {
        line.push_str("; evaluated as a flake");
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_only_clan_core() {
        assert!(!is_clan_core_tree(Path::new("/")));
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
        if corpus.is_dir() {
            assert!(is_clan_core_tree(&corpus.join("clan-core")));
            assert!(!is_clan_core_tree(&corpus.join("nixpkgs-lib")));
        }
    }
}
