//! The inventory as typed data (serde), with the file and place of every definition of its
//! machines, instances and roles (and of `meta`'s options and the roles' `extraModules`).

use crate::clan::Clan;
use crate::error::Result;
use crate::modsys::sites;
use kith_eval::Eval;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `clan.inventory`, as `inventorySerialization` gives it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Inventory {
    /// `meta`.
    pub meta: Meta,
    /// `machines`, by name.
    pub machines: BTreeMap<String, Machine>,
    /// `instances`, by name.
    pub instances: BTreeMap<String, Instance>,
    /// `tags`: tag name → machine names.
    pub tags: BTreeMap<String, Vec<String>>,
    /// Where things are defined.
    #[serde(skip)]
    pub sites: Sites,
}

/// `inventory.meta`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// `meta.name`.
    pub name: String,
    /// `meta.description`.
    pub description: Option<String>,
    /// `meta.icon`.
    pub icon: Option<String>,
    /// `meta.domain`.
    pub domain: String,
    /// `meta.tld` (deprecated).
    pub tld: Option<String>,
}

/// A machine's class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MachineClass {
    /// NixOS.
    Nixos,
    /// nix-darwin.
    Darwin,
}

/// `inventory.machines.<name>`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Machine {
    /// `name` (metadata; the key is what names the machine).
    pub name: String,
    /// `description`.
    pub description: Option<String>,
    /// `icon`.
    pub icon: Option<String>,
    /// `machineClass`.
    pub machine_class: MachineClass,
    /// `installedAt` (unix seconds).
    pub installed_at: Option<i64>,
    /// Effective tags: its own, then those of `inventory.tags` that list it.
    pub tags: Vec<String>,
    /// `deploy`.
    pub deploy: Deploy,
}

/// `inventory.machines.<name>.deploy`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deploy {
    /// `targetHost`.
    pub target_host: Option<String>,
    /// `buildHost`.
    pub build_host: Option<String>,
    /// `forwardAgent`.
    pub forward_agent: Option<bool>,
}

/// `inventory.instances.<name>`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    /// `module`.
    pub module: ModuleSpec,
    /// `roles`, by name.
    pub roles: BTreeMap<String, Role>,
}

/// `inventory.instances.<name>.module`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModuleSpec {
    /// `name` (defaults to the instance's name).
    pub name: String,
    /// `input`: none for clan-core, `self`, or a flake input's name.
    pub input: Option<String>,
}

/// `inventory.instances.<name>.roles.<role>`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Role {
    /// Machines named as members, with their settings.
    pub machines: BTreeMap<String, Member>,
    /// Role-wide settings (the deferred-module form clan-core serialises).
    pub settings: serde_json::Value,
    /// Tags whose machines are members, with their settings.
    pub tags: BTreeMap<String, Member>,
}

/// A role member (a machine or a tag) and its settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// Settings (the deferred-module form clan-core serialises).
    pub settings: serde_json::Value,
}

/// The settings value inside clan-core's deferred-module form
/// (`{ imports = [ { _file; imports = [ value ]; } ]; }`), if it has that form.
pub fn settings_value(settings: &serde_json::Value) -> Option<&serde_json::Value> {
    settings.get("imports")?.get(0)?.get("imports")?.get(0)
}

/// A place a definition comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    /// The file the module system names (`<file>` of `inventory.json` definitions too).
    pub file: String,
    /// 1-based line and column of the defining attribute, where it has one in Nix source.
    pub line: Option<usize>,
    /// See `line`.
    pub column: Option<usize>,
}

/// Definition sites of the inventory's named things.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sites {
    /// `machines.<name>` definitions.
    pub machines: BTreeMap<String, Vec<Site>>,
    /// `instances.<name>` definitions.
    pub instances: BTreeMap<String, Vec<Site>>,
    /// `instances.<name>.roles.<role>` definitions, by (instance, role).
    pub roles: BTreeMap<(String, String), Vec<Site>>,
    /// `meta.<option>` definitions, by option (`tld`, `domain`, …).
    pub meta: BTreeMap<String, Vec<Site>>,
    /// `instances.<name>.roles.<role>.extraModules` definitions, by (instance, role).
    pub extra_modules: BTreeMap<(String, String), Vec<Site>>,
}

/// An entry of `instances.<instance>.roles.<role>.extraModules` given as a string, which
/// clan-core deprecates ("String types for 'extraModules' will be deprecated") and imports
/// as `"<directory>/<path>"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StringModule {
    /// The instance.
    pub instance: String,
    /// The role.
    pub role: String,
    /// The string.
    pub path: String,
}

/// The string entries of the roles' `extraModules` (which the serialised inventory drops),
/// in instance and role order. Entries that do not evaluate are no strings here.
pub fn string_extra_modules(ev: &mut Eval, clan: &Clan) -> Result<Vec<StringModule>> {
    use kith_eval::Value;
    let get = |ev: &mut Eval, v: &Value, n: &str| -> Result<Option<Value>> {
        Ok(ev.force_attrs(v)?.get_str(n).cloned())
    };
    let inv = crate::serialize::inventory(ev, clan)?;
    let mut out = Vec::new();
    let Some(instances) = get(ev, &inv, "instances")? else {
        return Ok(out);
    };
    let instances = ev.force_attrs(&instances)?;
    for i in instances.iter() {
        let Some(roles) = get(ev, &i.value, "roles")? else {
            continue;
        };
        let roles = ev.force_attrs(&roles)?;
        for r in roles.iter() {
            let Some(list) = get(ev, &r.value, "extraModules")? else {
                continue;
            };
            let list = ev.force_list(&list)?;
            for m in list.iter() {
                if let Ok(Value::String(s)) = ev.force(m) {
                    out.push(StringModule {
                        instance: i.name.as_str().to_string(),
                        role: r.name.as_str().to_string(),
                        path: s.encoded().into_owned(),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// The typed inventory of `clan` (call it on a freshly loaded clan: definition sites are
/// noted as the inventory is computed).
pub fn load(ev: &mut Eval, clan: &Clan) -> Result<Inventory> {
    sites::start();
    let json =
        crate::serialize::inventory_serialization(ev, clan).and_then(|v| Ok(ev.to_json(&v)?));
    let noted = sites::stop();
    typed(ev, json?, noted)
}

/// [`load`], past the errors of what no rule of a whole-clan check reads: the removed
/// `inventory.services` (the serialisation's assertion), `meta`'s fields, a machine's
/// description, icon, installedAt and deploy, and the settings of the instances' roles.
/// Each error is returned (the assertion's first), and the field is taken as unset
/// (clan-core evaluates them only where they are read, so its other checks still run).
/// Any other error is returned as [`load`] returns it.
pub fn load_tolerant(ev: &mut Eval, clan: &Clan) -> Result<(Inventory, Vec<crate::Error>)> {
    let mut errors: Vec<crate::Error> = crate::serialize::removed_services(ev, clan)?
        .into_iter()
        .collect();
    sites::start();
    let json = crate::serialize::serialization_unchecked(ev, clan)
        .and_then(|v| walk(ev, &v, &TOLERATED, &mut errors));
    let noted = sites::stop();
    Ok((typed(ev, json?, noted)?, errors))
}

/// Where [`load_tolerant`] goes past errors: a part of the serialisation, by its shape.
enum Tolerance {
    /// A field taken as unset when it fails.
    Leaf,
    /// Every attribute, each as the inner shape says.
    Each(&'static Tolerance),
    /// The attributes named, each as its shape says (the others as they are).
    Fields(&'static [(&'static str, Tolerance)]),
}

use Tolerance::{Each, Fields, Leaf};

/// A member's (machine's or tag's) settings.
const MEMBER: Tolerance = Fields(&[("settings", Leaf)]);

/// The fields no whole-clan rule reads: `meta`'s but its name, a machine's but its name,
/// class and tags, and every settings of the instances' roles (their checks evaluate them
/// again, where they are merged).
const TOLERATED: Tolerance = Fields(&[
    (
        "meta",
        Fields(&[
            ("name", Leaf),
            ("description", Leaf),
            ("icon", Leaf),
            ("domain", Leaf),
            ("tld", Leaf),
        ]),
    ),
    (
        "machines",
        Each(&Fields(&[
            ("description", Leaf),
            ("icon", Leaf),
            ("installedAt", Leaf),
            ("deploy", Leaf),
        ])),
    ),
    (
        "instances",
        Each(&Fields(&[(
            "roles",
            Each(&Fields(&[
                ("settings", Leaf),
                ("machines", Each(&MEMBER)),
                ("tags", Each(&MEMBER)),
            ])),
        )])),
    ),
]);

/// `v` as JSON, the parts `shape` tolerates unset when they fail.
fn walk(
    ev: &mut Eval,
    v: &kith_eval::Value,
    shape: &Tolerance,
    errors: &mut Vec<crate::Error>,
) -> Result<serde_json::Value> {
    let set = match shape {
        Leaf => return Ok(ev.to_json(v)?),
        Each(_) | Fields(_) => ev.force_attrs(v)?,
    };
    let mut out = serde_json::Map::new();
    for a in set.iter() {
        let name = a.name.as_str();
        let inner = match shape {
            Each(inner) => Some(*inner),
            Fields(fields) => fields.iter().find(|(n, _)| *n == name).map(|(_, s)| s),
            Leaf => None,
        };
        let value = match inner {
            None => ev.to_json(&a.value)?,
            Some(Leaf) => match ev.to_json(&a.value) {
                Ok(j) => j,
                Err(mut e) if e.message != crate::modsys::share::READS_CONFIG => {
                    // Where the attribute is defined, as `toJSON`'s walk would trace it.
                    e.trace.push(kith_eval::TraceFrame {
                        span: a.span,
                        message: format!("while evaluating the attribute '{name}'"),
                    });
                    errors.push(crate::Error::Eval(e));
                    unset(name)
                }
                Err(e) => return Err(e.into()),
            },
            Some(inner) => walk(ev, &a.value, inner, errors)?,
        };
        out.insert(name.to_string(), value);
    }
    Ok(serde_json::Value::Object(out))
}

/// What a failed field of [`TOLERATED`] is taken as: an empty string where the model needs
/// a string, no deploy settings, else `null`.
fn unset(name: &str) -> serde_json::Value {
    match name {
        "name" | "domain" => serde_json::Value::String(String::new()),
        "deploy" => serde_json::json!({}),
        _ => serde_json::Value::Null,
    }
}

/// The inventory typed from its serialisation `json`, with the sites `noted` while it
/// was evaluated.
fn typed(ev: &Eval, json: serde_json::Value, noted: Vec<sites::Noted>) -> Result<Inventory> {
    let mut inv: Inventory = serde_json::from_value(json)
        .map_err(|e| crate::Error::unsupported(format!("an inventory kith cannot type: {e}")))?;
    for n in noted {
        // The file itself, without the option a deferred module was defined through
        // (`<file>, via option meta`).
        let file = n.file.split(", via option ").next().unwrap_or(&n.file);
        let site = || {
            // A place only in the file named (not in kith's own stand-in sources).
            let (line, column) = match ev.sources.describe(n.span) {
                Some((f, l, c)) if f == file => (Some(l), Some(c)),
                _ => (None, None),
            };
            Site {
                file: file.to_string(),
                line,
                column,
            }
        };
        let Some(at) = n.loc.iter().rposition(|p| p == "inventory") else {
            continue;
        };
        match &n.loc[at + 1..] {
            [kind, m] if kind == "machines" => inv
                .sites
                .machines
                .entry(m.clone())
                .or_default()
                .push(site()),
            [kind, i] if kind == "instances" => inv
                .sites
                .instances
                .entry(i.clone())
                .or_default()
                .push(site()),
            [kind, i, roles, r] if kind == "instances" && roles == "roles" => inv
                .sites
                .roles
                .entry((i.clone(), r.clone()))
                .or_default()
                .push(site()),
            [kind, o] if kind == "meta" => {
                inv.sites.meta.entry(o.clone()).or_default().push(site())
            }
            [kind, i, roles, r, x]
                if kind == "instances" && roles == "roles" && x == "extraModules" =>
            {
                inv.sites
                    .extra_modules
                    .entry((i.clone(), r.clone()))
                    .or_default()
                    .push(site())
            }
            _ => {}
        }
    }
    for list in inv
        .sites
        .machines
        .values_mut()
        .chain(inv.sites.instances.values_mut())
        .chain(inv.sites.roles.values_mut())
        .chain(inv.sites.meta.values_mut())
        .chain(inv.sites.extra_modules.values_mut())
    {
        list.dedup();
    }
    Ok(inv)
}
