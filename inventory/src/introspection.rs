//! What clan's CLI reads before it writes `inventory.json`: the evaluated inventory
//! (`inventorySerialization`'s `machines`, `instances` and `meta`, settings unwrapped as
//! `clan_lib/persist/inventory_store.py` unwraps them) and, per attribute path, the
//! priorities of its Nix definitions (`clanInternals.inventoryClass.introspection`),
//! taken from kith's own module system.

use crate::clan::Clan;
use crate::error::Result;
use crate::modsys::prios::{self, Prio, Prios};
use kith_eval::Eval;

/// The inventory as clan's CLI sees it before an edit.
pub struct Introspection {
    /// `{ machines, instances, meta }` of `inventorySerialization`, settings unwrapped.
    pub values: serde_json::Value,
    /// Attribute path below `inventory` → the priorities of its definitions.
    pub prios: Prios,
}

impl Introspection {
    /// The priorities of the option at `path` (below `inventory`), if it has any.
    pub fn prio(&self, path: &[String]) -> Option<&Prio> {
        self.prios.get(path)
    }
}

/// The paths (below `inventory`) where clan unwraps a settings module.
const UNWRAPPED: [&[&str]; 3] = [
    &["instances", "*", "roles", "*", "settings"],
    &["instances", "*", "roles", "*", "machines", "*", "settings"],
    &["instances", "*", "roles", "*", "tags", "*", "settings"],
];

/// Evaluates `clan`'s inventory in full (in `ev`, which must not have evaluated it yet)
/// and records the priorities of every definition on the way.
pub fn introspect(ev: &mut Eval, clan: &Clan) -> Result<Introspection> {
    prios::start();
    let json =
        crate::serialize::inventory_serialization(ev, clan).and_then(|v| Ok(ev.to_json(&v)?));
    let recorded = prios::stop();
    let json = json?;
    let mut prios = Prios::new();
    for (loc, p) in recorded {
        if let Some(i) = loc.iter().position(|s| s == "inventory") {
            let rel = &loc[i + 1..];
            // clan-core's introspection does not look inside a role's `tags`.
            let in_role_tags =
                rel.len() > 5 && rel[0] == "instances" && rel[2] == "roles" && rel[4] == "tags";
            if !rel.is_empty() && !in_role_tags {
                prios.insert(rel.to_vec(), p);
            }
        }
    }
    let mut values = serde_json::Map::new();
    if let serde_json::Value::Object(mut all) = json {
        for k in ["machines", "instances", "meta"] {
            if let Some(mut v) = all.remove(k) {
                unwrap_settings(&mut v, &mut vec![k.to_string()]);
                values.insert(k.to_string(), v);
            }
        }
    }
    Ok(Introspection {
        values: serde_json::Value::Object(values),
        prios,
    })
}

/// clan's `unwrap_known_unknown` applied at the [`UNWRAPPED`] paths.
fn unwrap_settings(v: &mut serde_json::Value, path: &mut Vec<String>) {
    let serde_json::Value::Object(map) = v else {
        return;
    };
    for (k, child) in map.iter_mut() {
        path.push(k.clone());
        let matches = UNWRAPPED.iter().any(|w| {
            w.len() == path.len() && w.iter().zip(path.iter()).all(|(w, p)| *w == "*" || w == p)
        });
        if matches {
            if let Some(inner) = unwrapped(child) {
                *child = inner;
            }
        } else {
            unwrap_settings(child, path);
        }
        path.pop();
    }
}

/// `{ imports = [ { _file; imports = [ x ]; } ]; }` → `x`.
fn unwrapped(v: &serde_json::Value) -> Option<serde_json::Value> {
    let imports = v.get("imports")?.as_array()?;
    let [first] = imports.as_slice() else {
        return None;
    };
    first.get("_file")?;
    let inner = first.get("imports")?.as_array()?;
    match inner.as_slice() {
        [x] => Some(x.clone()),
        _ => None,
    }
}
