//! clan's write rules for `inventory.json` (`clan_lib/persist/write_rules.py` and
//! `patch_engine.py`): which paths are writable and deletable given the priorities of
//! their Nix definitions, and the patches that turn the file's content into one that,
//! merged with the Nix definitions, gives the requested inventory. Messages are clan's.

use super::json::Json;
use kith_inventory::modsys::prios::{Prio, Prios};
use std::collections::{HashMap, HashSet};

/// A path of attribute names below `inventory`.
pub type Path = Vec<String>;

/// Priorities below this are owned by Nix (`WRITABLE_PRIORITY_THRESHOLD`).
const THRESHOLD: i64 = 100;

/// What may be done to a path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Access {
    /// Writable.
    pub write: bool,
    /// Read-only.
    pub readonly: bool,
    /// Deletable.
    pub delete: bool,
}

/// Path → what may be done to it.
pub type AccessMap = HashMap<Path, Access>;

/// A path as clan prints it: names joined by dots.
pub fn show(path: &[String]) -> String {
    path.join(".")
}

/// A path as Python prints a tuple of strings.
fn py_tuple(path: &[String]) -> String {
    let items: Vec<String> = path
        .iter()
        .map(|p| Json::Str(p.clone()).py_repr())
        .collect();
    if items.len() == 1 {
        format!("({},)", items[0])
    } else {
        format!("({})", items.join(", "))
    }
}

/// `compute_attribute_persistence`: what may be done to every path of `all` (the
/// evaluated inventory), given the priorities and the file's content `persisted`.
pub fn attribute_persistence(
    prios: &Prios,
    all: &Json,
    persisted: &Json,
) -> Result<AccessMap, String> {
    if let Json::Obj(m) = all {
        let mut missing: Vec<&str> = m
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| !prios.contains_key(&vec![k.to_string()]))
            .collect();
        if !missing.is_empty() {
            missing.sort();
            return Err(format!("Persistence priorities are not defined for top-level keys: {}. Either remove them from the python inventory model or extend support of persistence properties in 'clanInternals.inventoryClass.introspection'.", missing.join(", ")));
        }
    }
    let mut out = AccessMap::new();
    let mut path = Vec::new();
    determine(
        prios, all, persisted, &mut path, None, false, true, &mut out,
    )?;
    Ok(out)
}

fn exclusive(p: Option<&Prio>) -> Option<bool> {
    let p = p?;
    if p.files.is_empty() {
        return None;
    }
    Some(p.files.len() == 1 && p.files[0].ends_with("inventory.json"))
}

#[allow(clippy::too_many_arguments)]
fn determine(
    prios: &Prios,
    all: &Json,
    persisted: &Json,
    path: &mut Path,
    inherited: Option<i64>,
    parent_readonly: bool,
    parent_total: bool,
    out: &mut AccessMap,
) -> Result<(), String> {
    let Json::Obj(entries) = all else {
        return Ok(());
    };
    let empty = Json::Obj(Vec::new());
    for (key, value) in entries {
        path.push(key.clone());
        let entry = prios.get(path.as_slice());
        let excl = exclusive(entry);
        if !parent_total && excl != Some(false) {
            out.entry(path.clone()).or_default().delete = true;
        }
        let effective = entry.map(|p| p.prio).or(inherited);
        let total = entry.is_some_and(|p| p.total);
        if parent_readonly || effective.is_some_and(|p| p < THRESHOLD) {
            out.insert(
                path.clone(),
                Access {
                    readonly: true,
                    ..Default::default()
                },
            );
            determine(prios, value, &empty, path, effective, true, total, out)?;
        } else {
            let Some(prio) = effective else {
                return Err(format!(
                    "Priority for path '{}' is not defined. Cannot determine writeability.",
                    show(path)
                ));
            };
            let exists = persisted.get(key).is_some();
            let mergeable = matches!(value, Json::Obj(_) | Json::Arr(_));
            let writable = prio > THRESHOLD || (prio == THRESHOLD && (mergeable || exists));
            if writable {
                out.entry(path.clone()).or_default().write = true;
            } else {
                out.insert(
                    path.clone(),
                    Access {
                        readonly: true,
                        ..Default::default()
                    },
                );
            }
            let child = persisted.get(key).filter(|c| c.is_obj()).unwrap_or(&empty);
            determine(prios, value, child, path, Some(prio), false, total, out)?;
        }
        path.pop();
    }
    Ok(())
}

/// `is_readonly_path`: the nearest path (itself, else an ancestor) with a rule decides.
pub fn is_readonly(path: &[String], access: &AccessMap) -> Result<bool, String> {
    let mut n = path.len();
    while n > 0 {
        if let Some(a) = access.get(&path[..n]) {
            if a.write {
                return Ok(false);
            }
            if a.readonly {
                return Ok(true);
            }
        }
        n -= 1;
    }
    Err(format!(
        "Cannot determine writeability for key '{}'",
        py_tuple(path)
    ))
}

/// `flatten_data_structured`: every leaf (non-object or empty object) by path, in order.
pub fn flatten(v: &Json) -> Vec<(Path, Json)> {
    let mut out = Vec::new();
    let mut path = Vec::new();
    flatten_into(v, &mut path, &mut out);
    out
}

fn flatten_into(v: &Json, path: &mut Path, out: &mut Vec<(Path, Json)>) {
    if let Json::Obj(m) = v {
        for (k, x) in m {
            path.push(k.clone());
            match x {
                Json::Obj(inner) if !inner.is_empty() => flatten_into(x, path, out),
                _ => out.push((path.clone(), x.clone())),
            }
            path.pop();
        }
    }
}

/// `find_deleted_paths_structured`: paths of `all` that `update` no longer has.
fn deleted_paths(all: &Json, update: &Json, parent: &mut Path, out: &mut Vec<Path>) {
    let Json::Obj(m) = all else { return };
    for (k, p) in m {
        parent.push(k.clone());
        match update.get(k) {
            None => out.push(parent.clone()),
            Some(u) => {
                if let (Json::Obj(pm), Json::Obj(um)) = (p, u) {
                    if !pm.is_empty() && um.is_empty() {
                        for (ck, _) in pm {
                            let mut c = parent.clone();
                            c.push(ck.clone());
                            out.push(c);
                        }
                    } else {
                        deleted_paths(p, u, parent, out);
                    }
                }
            }
        }
        parent.pop();
    }
}

fn starts_with(path: &[String], prefix: &[String]) -> bool {
    path.len() >= prefix.len() && path[..prefix.len()] == *prefix
}

/// `list_difference`: the items of `all` not in `filter`.
fn list_difference(all: &[Json], filter: &[Json]) -> Vec<Json> {
    all.iter()
        .filter(|x| !filter.contains(x))
        .cloned()
        .collect()
}

/// The changes to the file: values to set (in order) and paths to delete.
pub struct Patches {
    /// Path → the value the file gets there.
    pub set: Vec<(Path, Json)>,
    /// Paths removed from the file.
    pub delete: Vec<Path>,
}

/// `calc_patches`: what to write so that the inventory becomes `update`, checked
/// against the write rules.
pub fn calc_patches(
    persisted: &Json,
    update: &Json,
    all: &Json,
    access: &AccessMap,
) -> Result<Patches, String> {
    let persisted_flat = flatten(persisted);
    let update_flat = flatten(update);
    let all_flat = flatten(all);
    let mut delete = Vec::new();
    deleted_paths(all, update, &mut Vec::new(), &mut delete);
    for d in &delete {
        let Some(a) = access.get(d) else {
            return Err(format!("Cannot delete path '{0}' - '{0}' is not a valid path.\nThis is an internal error that should not happen.\nPlease report this issue at https://git.clan.lol/clan/clan-core/issues", show(d)));
        };
        if !a.delete {
            return Err(format!(
                "Cannot delete path '{}' - '{}' is either required; or is set stacially via .nix files.",
                show(d),
                show(&d[d.len() - 1..])
            ));
        }
    }
    let lookup = |flat: &[(Path, Json)], p: &Path| -> Option<Json> {
        flat.iter().find(|(q, _)| q == p).map(|(_, v)| v.clone())
    };
    // The update's paths first, in its order, then those only the inventory has.
    let mut paths: Vec<Path> = Vec::new();
    let mut seen: HashSet<Path> = HashSet::new();
    for (p, _) in update_flat.iter().chain(all_flat.iter()) {
        if seen.insert(p.clone()) {
            paths.push(p.clone());
        }
    }
    let mut set = Vec::new();
    for path in paths {
        let old = lookup(&all_flat, &path);
        let new = lookup(&update_flat, &path);
        if old == new {
            continue;
        }
        if delete.iter().any(|d| starts_with(&path, d)) {
            continue;
        }
        let Some(new) = new else { continue };
        if is_readonly(&path, access)? {
            return Err(format!(
                "Path '{}' is readonly. - It seems its value is statically defined in nix.",
                show(&path)
            ));
        }
        if let Some(old) = &old {
            if !matches!(old, Json::Null) && !matches!(new, Json::Null) && !old.same_type(&new) {
                return Err(format!(
                    "Type mismatch for path '{}'. Cannot update {} with {}\nPrevious value is of type '{}' this operation would change it to '{}'.\nPrev: {}\n->\nAfter: {}",
                    show(&path),
                    old.py_type(),
                    new.py_type(),
                    old.py_type(),
                    new.py_type(),
                    old.py_repr(),
                    new.py_repr()
                ));
            }
        }
        let mut value = new.clone();
        if let Json::Arr(items) = &new {
            let mut dups: Vec<Json> = Vec::new();
            for (i, x) in items.iter().enumerate() {
                if items[..i].contains(x) && !dups.contains(x) {
                    dups.push(x.clone());
                }
            }
            if !dups.is_empty() {
                return Err(format!(
                    "Path '{}' contains list duplicates: {} - List values must be unique.",
                    show(&path),
                    Json::Arr(dups).py_repr()
                ));
            }
            let old_items = match &old {
                Some(Json::Arr(a)) => a.clone(),
                _ => Vec::new(),
            };
            let persisted_items = match lookup(&persisted_flat, &path) {
                Some(Json::Arr(a)) => a,
                _ => Vec::new(),
            };
            let static_items = list_difference(&old_items, &persisted_items);
            let missing: Vec<Json> = static_items
                .iter()
                .filter(|x| !items.contains(x))
                .cloned()
                .collect();
            if !missing.is_empty() {
                return Err(format!(
                    "Path '{}' doesn't contain static items {} - They are readonly - since they are defined via a .nix file",
                    show(&path),
                    Json::Arr(missing).py_repr()
                ));
            }
            value = Json::Arr(list_difference(items, &static_items));
        }
        set.push((path, value));
    }
    let mut conflicts: Vec<&Path> = set
        .iter()
        .map(|(p, _)| p)
        .filter(|p| delete.iter().any(|d| starts_with(p, d)))
        .collect();
    if !conflicts.is_empty() {
        conflicts.sort();
        let list: Vec<String> = conflicts.iter().map(|p| show(p)).collect();
        return Err(format!("The following paths are marked for deletion but also have update values: {}. - You cannot delete and patch the same path and its subpaths.", list.join(", ")));
    }
    Ok(Patches { set, delete })
}

/// `set_value_by_path_tuple`: sets `path` in `d`, creating objects on the way.
pub fn set_path(d: &mut Json, path: &[String], value: Json) -> Result<(), String> {
    let (last, parents) = path.split_last().ok_or("Cannot set an empty path.")?;
    let mut cur = d;
    for (i, k) in parents.iter().enumerate() {
        if !cur.is_obj() {
            return Err(format!(
                "Cannot set '{}': '{}' is not an object",
                show(path),
                show(&path[..i])
            ));
        }
        if cur.get(k).is_none() {
            cur.insert(k, Json::Obj(Vec::new()));
        }
        cur = cur.get_mut(k).expect("inserted");
    }
    if !cur.is_obj() {
        return Err(format!(
            "Cannot set '{}': '{}' is not an object",
            show(path),
            show(parents)
        ));
    }
    cur.insert(last, value);
    Ok(())
}

/// `delete_by_path_tuple`: removes `path` from `d` if it is there.
pub fn delete_path(d: &mut Json, path: &[String]) -> bool {
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let mut cur = d;
    for k in parents {
        match cur.get_mut(k) {
            Some(c) if c.is_obj() => cur = c,
            _ => return false,
        }
    }
    cur.remove(last)
}
