//! Validated edits of a clan's `inventory.json`, the layer clan's GUI and CLI write
//! through (`kith inventory set|delete|add-instance|add-machine`).
//!
//! An edit is applied as clan's `InventoryStore.write` applies it: the evaluated
//! inventory (with the priorities of its Nix definitions, from kith's module system) is
//! changed at one path, the write rules decide which changes the file may carry
//! ([`rules`]), and the file's new content is built from its current content, keys in
//! their order, new keys after them, printed as clan's writer prints it. The result is
//! then evaluated by the native engine with the new content served in place of the file
//! (nothing is written for that) and refused on any error, on an unknown machine or tag
//! in a changed instance, an unknown module or role, or settings that do not fit the
//! service's interface. Only then is the file replaced, atomically, under an exclusive
//! lock on the clan's directory, having been read again under that lock.

pub(crate) mod diff;
pub(crate) mod file;
pub mod json;
mod overlay;
pub mod rules;
mod validate;

use json::Json;
use kith_flake::FlakeOptions;
use rules::Path as KeyPath;
use std::fmt;
use std::path::{Path, PathBuf};

/// The file clan's CLI writes.
pub const INVENTORY_FILE: &str = "inventory.json";

/// One edit of the inventory.
#[derive(Clone, Debug)]
pub enum Edit {
    /// Set the value at a path (objects on the way are created).
    Set(KeyPath, Json),
    /// Remove the value at a path.
    Delete(KeyPath),
    /// Add a service instance: `instances.<name> = { module; roles; }`; refused if it exists.
    AddInstance {
        /// The instance's name.
        name: String,
        /// `module.name`.
        module: String,
        /// `module.input` (none: clan-core's module).
        input: Option<String>,
        /// Role → machines and tags in it.
        roles: Vec<(String, RoleMembers)>,
    },
    /// Add a machine: `machines.<name> = { … }`; refused if it exists.
    AddMachine {
        /// The machine's name.
        name: String,
        /// Its tags.
        tags: Vec<String>,
        /// Its description.
        description: Option<String>,
        /// `nixos` or `darwin`.
        machine_class: Option<String>,
    },
}

/// The members of a role given to [`Edit::AddInstance`].
#[derive(Clone, Debug, Default)]
pub struct RoleMembers {
    /// Machines, by name.
    pub machines: Vec<String>,
    /// Tags.
    pub tags: Vec<String>,
}

/// Why an edit was not made; the file is unchanged.
#[derive(Debug)]
pub enum EditError {
    /// The path or value given is malformed.
    Usage(String),
    /// The write rules forbid the change (clan's message).
    Refused(String),
    /// The edited clan does not evaluate, or refers to what does not exist.
    Invalid(String),
    /// The native engine does not model this clan, so the edit cannot be checked.
    Unsupported(String),
    /// Reading, locking or writing failed.
    Io(String),
}

impl fmt::Display for EditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EditError::Usage(m) | EditError::Refused(m) | EditError::Io(m) => f.write_str(m),
            EditError::Invalid(m) => write!(f, "the edited inventory is not valid: {m}"),
            EditError::Unsupported(r) => write!(
                f,
                "kith cannot check edits of this clan with its native engine ({r}); nothing was written"
            ),
        }
    }
}

impl std::error::Error for EditError {}

/// What an edit did.
#[derive(Debug)]
pub struct Outcome {
    /// The file edited.
    pub file: PathBuf,
    /// The unified diff of the file (empty if the edit changes nothing).
    pub diff: String,
    /// Whether the file was written (not for `dry_run`, nor for an edit changing nothing).
    pub written: bool,
    /// Whether the file was added to the git index (a git flake sees only tracked and
    /// staged files; clan's writer commits the file).
    pub staged: bool,
}

/// Parses a path as `clan` names inventory paths: names separated by dots; a name holding
/// a dot is written in double quotes (`machines."a.b".tags`).
pub fn parse_path(s: &str) -> Result<KeyPath, EditError> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut was_quoted = false;
    for c in s.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                was_quoted = true;
            }
            '.' if !quoted => {
                if cur.is_empty() && !was_quoted {
                    return Err(EditError::Usage(format!("invalid path '{s}': empty name")));
                }
                out.push(std::mem::take(&mut cur));
                was_quoted = false;
            }
            c => cur.push(c),
        }
    }
    if quoted {
        return Err(EditError::Usage(format!(
            "invalid path '{s}': unclosed quote"
        )));
    }
    if cur.is_empty() && !was_quoted {
        return Err(EditError::Usage(format!("invalid path '{s}': empty name")));
    }
    out.push(cur);
    Ok(out)
}

/// Parses a JSON value given on the command line.
pub fn parse_value(s: &str) -> Result<Json, EditError> {
    Json::parse(s).map_err(|e| EditError::Usage(format!("invalid JSON value: {e}")))
}

/// Applies `edit` to the clan in `dir` (see the module documentation): returns the diff,
/// and writes the file unless `dry_run`.
pub fn edit(
    dir: &Path,
    opts: &FlakeOptions,
    edit: &Edit,
    dry_run: bool,
) -> Result<Outcome, EditError> {
    let dir = dir.canonicalize().map_err(|e| {
        EditError::Io(format!(
            "cannot open the flake directory {}: {e}",
            dir.display()
        ))
    })?;
    let path = dir.join(INVENTORY_FILE);
    let _lock = file::Lock::acquire(&dir).map_err(EditError::Io)?;
    let old_bytes = match std::fs::read(&path) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(EditError::Io(format!(
                "cannot read {}: {e}",
                path.display()
            )))
        }
    };
    let old_text = match &old_bytes {
        Some(b) => String::from_utf8(b.clone()).map_err(|_| {
            EditError::Io(format!(
                "Error decoding inventory file: {} is not UTF-8",
                path.display()
            ))
        })?,
        None => String::new(),
    };
    let persisted = if old_bytes.is_some() {
        Json::parse(&old_text)
            .map_err(|e| EditError::Io(format!("Error decoding inventory file: {e}")))?
    } else {
        Json::Obj(Vec::new())
    };
    if !persisted.is_obj() {
        return Err(EditError::Io(format!(
            "{} does not hold a JSON object",
            path.display()
        )));
    }
    let current = validate::introspect(&dir, opts, None)?;
    let all = Json::from_serde(&current.values);
    let update = updated(&all, edit)?;
    let access = rules::attribute_persistence(&current.prios, &all, &persisted)
        .map_err(EditError::Refused)?;
    let patches =
        rules::calc_patches(&persisted, &update, &all, &access).map_err(EditError::Refused)?;
    let mut new = persisted.clone();
    for (p, v) in &patches.set {
        rules::set_path(&mut new, p, v.clone()).map_err(EditError::Refused)?;
    }
    for p in &patches.delete {
        rules::delete_path(&mut new, p);
    }
    if patches.set.is_empty() && patches.delete.is_empty() {
        return Ok(Outcome {
            file: path,
            diff: String::new(),
            written: false,
            staged: false,
        });
    }
    let mut new_text = new.dumps();
    if old_text.ends_with('\n') {
        new_text.push('\n');
    }
    let touched = touched_instances(&persisted, &new);
    validate::check(&dir, opts, new_text.as_bytes(), &touched)?;
    let diff = diff::unified(INVENTORY_FILE, &old_text, &new_text);
    let mut staged = false;
    if !dry_run && new_text != old_text {
        file::write_atomic(&path, new_text.as_bytes()).map_err(EditError::Io)?;
        staged = kith_flake::source::stage_if_untracked(&path).map_err(EditError::Io)?;
    }
    Ok(Outcome {
        file: path,
        written: !dry_run && !diff.is_empty(),
        staged,
        diff,
    })
}

/// The inventory as the edit wants it.
fn updated(all: &Json, edit: &Edit) -> Result<Json, EditError> {
    let mut update = all.clone();
    match edit {
        Edit::Set(p, v) => {
            rules::set_path(&mut update, p, v.clone()).map_err(EditError::Refused)?;
        }
        Edit::Delete(p) => {
            if !rules::delete_path(&mut update, p) {
                return Err(EditError::Refused(format!(
                    "Cannot delete path '{}' - it is not in the inventory.",
                    rules::show(p)
                )));
            }
        }
        Edit::AddInstance {
            name,
            module,
            input,
            roles,
        } => {
            if update.get("instances").and_then(|i| i.get(name)).is_some() {
                return Err(EditError::Refused(format!(
                    "Instance '{name}' already exists in the inventory"
                )));
            }
            if roles.is_empty() {
                return Err(EditError::Refused(
                    "Creating a service instance requires adding roles".into(),
                ));
            }
            let mut m = vec![("name".to_string(), Json::Str(module.clone()))];
            if let Some(i) = input {
                m.push(("input".into(), Json::Str(i.clone())));
            }
            let mut rs = Vec::new();
            for (role, members) in roles {
                let mut r = Vec::new();
                if !members.machines.is_empty() {
                    r.push((
                        "machines".to_string(),
                        Json::Obj(
                            members
                                .machines
                                .iter()
                                .map(|x| (x.clone(), Json::Obj(Vec::new())))
                                .collect(),
                        ),
                    ));
                }
                if !members.tags.is_empty() {
                    r.push((
                        "tags".to_string(),
                        Json::Obj(
                            members
                                .tags
                                .iter()
                                .map(|x| (x.clone(), Json::Obj(Vec::new())))
                                .collect(),
                        ),
                    ));
                }
                rs.push((role.clone(), Json::Obj(r)));
            }
            let value = Json::Obj(vec![
                ("module".into(), Json::Obj(m)),
                ("roles".into(), Json::Obj(rs)),
            ]);
            rules::set_path(&mut update, &["instances".into(), name.clone()], value)
                .map_err(EditError::Refused)?;
        }
        Edit::AddMachine {
            name,
            tags,
            description,
            machine_class,
        } => {
            if update.get("machines").and_then(|i| i.get(name)).is_some() {
                return Err(EditError::Refused(format!(
                    "Machine '{name}' already exists in the inventory"
                )));
            }
            let mut m = Vec::new();
            if let Some(d) = description {
                m.push(("description".to_string(), Json::Str(d.clone())));
            }
            if let Some(c) = machine_class {
                m.push(("machineClass".to_string(), Json::Str(c.clone())));
            }
            if !tags.is_empty() {
                m.push((
                    "tags".to_string(),
                    Json::Arr(tags.iter().map(|t| Json::Str(t.clone())).collect()),
                ));
            }
            rules::set_path(
                &mut update,
                &["machines".into(), name.clone()],
                Json::Obj(m),
            )
            .map_err(EditError::Refused)?;
        }
    }
    Ok(update)
}

/// The instances whose entries in the file differ between `old` and `new`.
fn touched_instances(old: &Json, new: &Json) -> Vec<String> {
    let empty = Json::Obj(Vec::new());
    let (o, n) = (
        old.get("instances").unwrap_or(&empty),
        new.get("instances").unwrap_or(&empty),
    );
    let mut out = Vec::new();
    if let Json::Obj(m) = n {
        for (k, v) in m {
            if o.get(k) != Some(v) {
                out.push(k.clone());
            }
        }
    }
    out
}
