//! What an editor offers inside an instance: the roles of its service and the settings
//! options of a role's `interface`, each with its type and description.

use super::{group::meta_of, services};
use crate::clan::Clan;
use crate::error::Result;
use crate::modsys::{collect, Args};
use kith_eval::{Eval, Value};
use std::rc::Rc;

/// One option of a role's settings interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingsOption {
    /// Its path below `settings` (`a.b` for nested options), one name per element.
    pub path: Vec<String>,
    /// The type's description (`lib.types`' `description`, as the module system words it).
    pub ty: String,
    /// The option's `description`, if it has one.
    pub description: Option<String>,
}

/// The roles the service of instance `instance` defines (sorted); empty if the inventory
/// has no such instance.
pub fn service_roles(ev: &mut Eval, clan: &Clan, instance: &str) -> Result<Vec<String>> {
    let services = services(ev, clan)?;
    for g in &services.groups {
        if g.instances.iter().any(|(n, _)| n == instance) {
            return Ok(g.role_names(ev)?);
        }
    }
    Ok(Vec::new())
}

/// The options of role `role`'s interface in the service of instance `instance`, in
/// declaration order (nested options flattened); empty if there is no such role.
pub fn settings_options(
    ev: &mut Eval,
    clan: &Clan,
    instance: &str,
    role: &str,
) -> Result<Vec<SettingsOption>> {
    let services = services(ev, clan)?;
    let Some(g) = services
        .groups
        .iter()
        .find(|g| g.instances.iter().any(|(n, _)| n == instance))
    else {
        return Ok(Vec::new());
    };
    let Some(roles) = get(ev, &g.config, "roles")? else {
        return Ok(Vec::new());
    };
    let Some(interface) = get(ev, &roles, role)?.map(|r| get(ev, &r, "interface")) else {
        return Ok(Vec::new());
    };
    let Some(interface) = interface? else {
        return Ok(Vec::new());
    };
    let args = Args {
        lib: g.cc.lib.clone(),
        class: None,
        special: vec![("meta".to_string(), meta_of(&g.cc))],
    };
    let file: Rc<str> = Rc::from(format!("{}: roles.{role}.interface", g.id).as_str());
    let modules = collect(ev, vec![(file, interface)], &Value::Null, &args)?;
    let mut out = Vec::new();
    for m in modules.iter().rev() {
        if let Some(options) = &m.options {
            walk(ev, options, &mut Vec::new(), &mut out)?;
        }
    }
    Ok(out)
}

/// Attribute `name` of the attribute set `v`, if it has it.
fn get(ev: &mut Eval, v: &Value, name: &str) -> kith_eval::Result<Option<Value>> {
    Ok(ev.force_attrs(v)?.get_str(name).cloned())
}

/// The options below `v` (an `options` attribute set), at `path`.
fn walk(
    ev: &mut Eval,
    v: &Value,
    path: &mut Vec<String>,
    out: &mut Vec<SettingsOption>,
) -> Result<()> {
    let Value::Attrs(set) = ev.force(v)? else {
        return Ok(());
    };
    let is_option = match set.get_str("_type") {
        Some(t) => ev.force_string(t)?.encoded() == "option",
        None => false,
    };
    if is_option {
        let ty = match set.get_str("type") {
            Some(t) => describe_type(ev, t).unwrap_or_else(|| "unspecified".into()),
            None => "unspecified".into(),
        };
        let description = set.get_str("description").and_then(|d| text(ev, d));
        out.push(SettingsOption {
            path: path.clone(),
            ty,
            description,
        });
        return Ok(());
    }
    for a in set.sorted_by_name() {
        path.push(a.name.as_str().to_string());
        walk(ev, &a.value, path, out)?;
        path.pop();
    }
    Ok(())
}

/// A type's `description` (else its `name`).
fn describe_type(ev: &mut Eval, t: &Value) -> Option<String> {
    let set = ev.force_attrs(t).ok()?;
    ["description", "name"]
        .iter()
        .find_map(|k| set.get_str(k).cloned().and_then(|v| text(ev, &v)))
}

/// A string, or the `text` of a documentation value (`lib.mdDoc`, `literalMD`).
fn text(ev: &mut Eval, v: &Value) -> Option<String> {
    match ev.force(v).ok()? {
        Value::String(s) => Some(s.encoded().into_owned()),
        Value::Attrs(a) => {
            let t = a.get_str("text")?.clone();
            Some(ev.force_string(&t).ok()?.encoded().into_owned())
        }
        _ => None,
    }
}
