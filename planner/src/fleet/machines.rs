//! `machines list`, `machines show` and clan's "Did you mean" suggestions
//! (`clan_cli/machines/list.py`, `clan_lib/machines/suggestions.py`).

use super::pyfmt::py_str;
use super::{require_machine, FleetError};
use serde_json::{json, Map, Value};

/// The machines that have every tag in `tags` (all machines when `tags` is empty), sorted
/// as Python sorts strings: `clan machines list [--tags T…]`. Tags include the computed
/// ones (`all`, `nixos`/`darwin`, `inventory.tags`) as the inventory view has them.
pub fn list(inventory: &Value, tags: &[String]) -> Vec<String> {
    let Some(machines) = inventory.get("machines").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut names: Vec<String> = machines
        .iter()
        .filter(|(_, m)| {
            let have = machine_tags(m);
            tags.iter().all(|t| have.iter().any(|h| h == t))
        })
        .map(|(n, _)| n.clone())
        .collect();
    names.sort();
    names
}

/// The part of the inventory view [`list`] reads: every machine with only its tags (the
/// projection `machines list` caches).
pub fn machine_tags_only(inventory: &Value) -> Value {
    let machines: serde_json::Map<String, Value> = inventory
        .get("machines")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(n, e)| {
                    let tags = e.get("tags").cloned().unwrap_or(Value::Null);
                    (n.clone(), serde_json::json!({ "tags": tags }))
                })
                .collect()
        })
        .unwrap_or_default();
    serde_json::json!({ "machines": machines })
}

/// A machine entry's tags, in order.
fn machine_tags(entry: &Value) -> Vec<String> {
    entry
        .get("tags")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The Levenshtein distance of two strings, counted in characters (code points).
pub fn levenshtein(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let (long, short) = if a.len() < b.len() { (b, a) } else { (a, b) };
    if short.is_empty() {
        return long.len();
    }
    let mut prev: Vec<usize> = (0..=short.len()).collect();
    for (i, c1) in long.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, c2) in short.iter().enumerate() {
            let ins = prev[j + 1] + 1;
            let del = cur[j] + 1;
            let sub = prev[j] + usize::from(c1 != c2);
            cur.push(ins.min(del).min(sub));
        }
        prev = cur;
    }
    prev[short.len()]
}

/// Up to `max` of `candidates` nearest to `target` (case-insensitive Levenshtein
/// distance, ties by name), as clan's `_suggest_similar_names`.
pub fn suggest(target: &str, candidates: &[String], max: usize) -> Vec<String> {
    let t = target.to_lowercase();
    let mut d: Vec<(usize, &String)> = candidates
        .iter()
        .map(|c| (levenshtein(&t, &c.to_lowercase()), c))
        .collect();
    d.sort();
    d.into_iter().take(max).map(|(_, c)| c.clone()).collect()
}

/// clan's text for a machine that is not in the inventory:
/// `Machine 'x' not found. Did you mean: a, b, c?`, or with no machines at all
/// `Machine 'x' not found. Available machines: ` (`validate_machine_names`).
pub fn not_found(name: &str, available: &[String]) -> String {
    let s = suggest(name, available, 3);
    if s.is_empty() {
        let mut all = available.to_vec();
        all.sort();
        format!(
            "Machine '{name}' not found. Available machines: {}",
            all.join(", ")
        )
    } else {
        format!(
            "Machine '{name}' not found. Did you mean: {}?",
            s.join(", ")
        )
    }
}

/// Why a machine is in a role of an instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    /// The instance's name.
    pub instance: String,
    /// The role's name.
    pub role: String,
    /// Listed by name under `roles.<role>.machines`.
    pub by_name: bool,
    /// The role's tags the machine has, in the role's order.
    pub by_tags: Vec<String>,
}

/// Everything the inventory and the exports say about one machine (`kith machines show`).
#[derive(Clone, Debug)]
pub struct MachineInfo {
    /// The machine's name.
    pub name: String,
    /// Its entry in the inventory view (`inventorySerialization.machines.<name>`).
    pub entry: Value,
    /// Its tags, computed ones included.
    pub tags: Vec<String>,
    /// Every (instance, role) it is in, in the inventory's order.
    pub memberships: Vec<Membership>,
    /// Its exports (keys `<service>:<instance>:<role>:<name>`), in the exports' order.
    pub exports: Vec<(String, Value)>,
}

/// A role's tag names: the keys of the attribute-set form, the items of the list form.
fn role_tags(role: &Value) -> Vec<String> {
    match role.get("tags") {
        Some(Value::Object(m)) => m.keys().cloned().collect(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// What the clan says about `name`; clan's "not found" text for an unknown machine.
pub fn show(inventory: &Value, exports: &Value, name: &str) -> Result<MachineInfo, FleetError> {
    require_machine(inventory, name)?;
    let entry = inventory["machines"][name].clone();
    let tags = machine_tags(&entry);
    let mut memberships = Vec::new();
    if let Some(instances) = inventory.get("instances").and_then(Value::as_object) {
        for (iname, inst) in instances {
            let Some(roles) = inst.get("roles").and_then(Value::as_object) else {
                continue;
            };
            for (rname, role) in roles {
                let by_name = role
                    .get("machines")
                    .and_then(Value::as_object)
                    .is_some_and(|m| m.contains_key(name));
                let by_tags: Vec<String> = role_tags(role)
                    .into_iter()
                    .filter(|t| tags.contains(t))
                    .collect();
                if by_name || !by_tags.is_empty() {
                    memberships.push(Membership {
                        instance: iname.clone(),
                        role: rname.clone(),
                        by_name,
                        by_tags,
                    });
                }
            }
        }
    }
    let exports = exports
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| k.split(':').nth(3) == Some(name) && k.split(':').count() == 4)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    Ok(MachineInfo {
        name: name.to_string(),
        entry,
        tags,
        memberships,
        exports,
    })
}

impl MachineInfo {
    /// The JSON of `kith machines show --json`: `name`, `machine` (the inventory entry),
    /// `tags`, `instances` (`instance`, `role`, `byName`, `byTags`) and `exports`.
    pub fn to_json(&self) -> Value {
        let instances: Vec<Value> = self
            .memberships
            .iter()
            .map(|m| {
                json!({
                    "instance": m.instance,
                    "role": m.role,
                    "byName": m.by_name,
                    "byTags": m.by_tags,
                })
            })
            .collect();
        let mut exports = Map::new();
        for (k, v) in &self.exports {
            exports.insert(k.clone(), v.clone());
        }
        json!({
            "name": self.name,
            "machine": self.entry,
            "tags": self.tags,
            "instances": instances,
            "exports": exports,
        })
    }

    /// The text of `kith machines show`: the entry's fields, the tags, each
    /// `instance/role` with why, and each export's non-null slots as compact JSON.
    pub fn render(&self) -> String {
        let field = |k: &str| self.entry.get(k).map_or("-".to_string(), py_str);
        let deploy = |k: &str| {
            self.entry
                .get("deploy")
                .and_then(|d| d.get(k))
                .map_or("-".to_string(), py_str)
        };
        let mut out = String::new();
        out.push_str(&format!("Machine: {}\n", self.name));
        out.push_str(&format!("Class: {}\n", field("machineClass")));
        out.push_str(&format!("Description: {}\n", field("description")));
        out.push_str(&format!("Icon: {}\n", field("icon")));
        out.push_str(&format!("Installed at: {}\n", field("installedAt")));
        out.push_str(&format!("Tags: {}\n", self.tags.join(", ")));
        out.push_str(&format!("Target host: {}\n", deploy("targetHost")));
        out.push_str(&format!("Build host: {}\n", deploy("buildHost")));
        out.push_str(&format!("Forward agent: {}\n", deploy("forwardAgent")));
        if self.memberships.is_empty() {
            out.push_str("Instances: none\n");
        } else {
            out.push_str("Instances:\n");
            for m in &self.memberships {
                let mut why = Vec::new();
                if m.by_name {
                    why.push("by name".to_string());
                }
                for t in &m.by_tags {
                    why.push(format!("by tag '{t}'"));
                }
                out.push_str(&format!(
                    "  {}/{}: {}\n",
                    m.instance,
                    m.role,
                    why.join(", ")
                ));
            }
        }
        if self.exports.is_empty() {
            out.push_str("Exports: none\n");
        } else {
            out.push_str("Exports:\n");
            for (k, v) in &self.exports {
                out.push_str(&format!("  {k}\n"));
                if let Some(slots) = v.as_object() {
                    for (slot, sv) in slots.iter().filter(|(_, sv)| !sv.is_null()) {
                        out.push_str(&format!("    {slot}: {sv}\n"));
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn distances() {
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("jon", "jon"), 0);
        assert_eq!(levenshtein("ä", "a"), 1);
    }

    #[test]
    fn suggestions_as_clan() {
        let m = names(&["sara", "jon", "vm1", "vm2", "jonny"]);
        assert_eq!(suggest("JOn", &m, 3), names(&["jon", "jonny", "vm1"]));
        assert_eq!(
            not_found("jom", &m),
            "Machine 'jom' not found. Did you mean: jon, jonny, vm1?"
        );
        assert_eq!(
            not_found("x", &[]),
            "Machine 'x' not found. Available machines: "
        );
        // ties are broken by name
        assert_eq!(suggest("vm", &m, 2), names(&["vm1", "vm2"]));
    }

    #[test]
    fn list_with_tags() {
        let inv = json!({"machines": {
            "b": {"tags": ["all", "x"]}, "a": {"tags": ["all"]}, "c": {"tags": ["x", "all", "y"]}
        }});
        assert_eq!(list(&inv, &[]), names(&["a", "b", "c"]));
        assert_eq!(list(&inv, &names(&["x"])), names(&["b", "c"]));
        assert_eq!(list(&inv, &names(&["x", "y"])), names(&["c"]));
        assert!(list(&inv, &names(&["nope"])).is_empty());
    }

    #[test]
    fn show_memberships() {
        let inv = json!({
            "machines": {"a": {"tags": ["all", "db"]}, "b": {"tags": ["all"]}},
            "instances": {
                "i": {"roles": {
                    "r": {"machines": {"a": {}}, "tags": {"db": {}, "all": {}}},
                    "s": {"machines": {}, "tags": ["nope"]}
                }}
            }
        });
        let ex = json!({"x:i:r:a": {"peer": {"hosts": []}, "networking": null}, "x:i::": {"peer": null}});
        let info = show(&inv, &ex, "a").unwrap();
        assert_eq!(info.memberships.len(), 1);
        assert!(info.memberships[0].by_name);
        assert_eq!(info.memberships[0].by_tags, names(&["db", "all"]));
        assert_eq!(info.exports.len(), 1);
        assert!(info
            .render()
            .contains("  i/r: by name, by tag 'db', by tag 'all'\n"));
        assert_eq!(
            info.to_json()["instances"][0]["byTags"],
            json!(["db", "all"])
        );
        let e = show(&inv, &ex, "aa").unwrap_err();
        assert_eq!(e.0, "Machine 'aa' not found. Did you mean: a, b?");
    }
}
