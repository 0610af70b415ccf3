//! Which machine classes a service configures for each member of an instance: whether
//! the `nixosModule` and `darwinModule` clan-core imports into the machine (the role's
//! `perInstance` result and the service's `perMachine` result) have any content.

use super::group::Group;
use super::roles::Role;
use crate::error::Result;
use kith_eval::{Eval, Value};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

/// A member machine of a role of an instance, and the classes the service configures it for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberClasses {
    /// The role.
    pub role: String,
    /// The member machine.
    pub machine: String,
    /// The role's `perInstance` or the service's `perMachine` defines a non-empty
    /// `nixosModule` for it.
    pub nixos: bool,
    /// The same for `darwinModule`.
    pub darwin: bool,
    /// Whether the role's `perInstance` itself defines a non-empty `nixosModule`.
    pub role_nixos: bool,
    /// The same for `darwinModule`.
    pub role_darwin: bool,
}

/// For every member of every role of instance `name` whose classes can be told for sure:
/// the role has no `extraModules` (which clan-core imports for both classes), and the
/// service's results evaluate far enough to tell their modules' definitions apart from the
/// empty default. Members whose results fail to evaluate are left out (the other checks
/// report the failure, if clan would).
pub fn member_classes(
    ev: &mut Eval,
    clan: &crate::clan::Clan,
    name: &str,
) -> Result<Vec<MemberClasses>> {
    let services = super::services(ev, clan)?;
    let mut out = Vec::new();
    for g in &services.groups {
        if let Some((_, roles)) = g.instances.iter().find(|(n, _)| n == name) {
            out.extend(instance_classes(ev, g, name, roles));
        }
    }
    Ok(out)
}

/// [`member_classes`] of every instance, by instance name.
pub fn all_member_classes(
    ev: &mut Eval,
    clan: &crate::clan::Clan,
) -> Result<BTreeMap<String, Vec<MemberClasses>>> {
    let services = super::services(ev, clan)?;
    let mut out: BTreeMap<String, Vec<MemberClasses>> = BTreeMap::new();
    for g in &services.groups {
        for (name, roles) in &g.instances {
            let found = instance_classes(ev, g, name, roles);
            out.entry(name.clone()).or_default().extend(found);
        }
    }
    Ok(out)
}

/// What is known of members' classes, by instance and then by the member's place in
/// the instance's order (its roles in order, each role's members in order): the classes,
/// or `None` if they cannot be told.
pub type KnownClasses = BTreeMap<String, HashMap<usize, Option<MemberClasses>>>;

/// The classes of the members whose `perInstance` results this evaluator has computed
/// already (for the exports), by instance and place: the part of [`all_member_classes`]
/// that is cheap here. Two evaluators that computed different groups' exports can each
/// tell their part, and one of them the whole with [`member_classes_with`].
pub fn computed_member_classes(ev: &mut Eval, clan: &crate::clan::Clan) -> Result<KnownClasses> {
    let services = super::services(ev, clan)?;
    let mut out = KnownClasses::new();
    for g in &services.groups {
        for (name, roles) in &g.instances {
            let known = out.entry(name.clone()).or_default();
            for_each_member(ev, roles, |ev, place, r, m| {
                if g.has_per_instance(name, r, m) {
                    known.insert(place, member(ev, g, name, r, m));
                }
            });
        }
    }
    Ok(out)
}

/// [`member_classes`] of instance `name`, taking those in `known` as told.
pub fn member_classes_with(
    ev: &mut Eval,
    clan: &crate::clan::Clan,
    name: &str,
    known: &HashMap<usize, Option<MemberClasses>>,
) -> Result<Vec<MemberClasses>> {
    let services = super::services(ev, clan)?;
    let mut out = Vec::new();
    for g in &services.groups {
        if let Some((_, roles)) = g.instances.iter().find(|(n, _)| n == name) {
            for_each_member(ev, roles, |ev, place, r, m| {
                let c = match known.get(&place) {
                    Some(c) => c.clone(),
                    None => member(ev, g, name, r, m),
                };
                out.extend(c);
            });
        }
    }
    Ok(out)
}

/// Calls `f` with each member (its place, role and name) of the roles without
/// `extraModules` (whose classes can be told), in the instance's order.
fn for_each_member(ev: &mut Eval, roles: &[Role], mut f: impl FnMut(&mut Eval, usize, &str, &str)) {
    let mut place = 0;
    for r in roles {
        let extra =
            get(ev, &r.value, "extraModules").and_then(|v| ev.force_list(&v).ok().map(|l| l.len()));
        if extra != Some(0) {
            continue;
        }
        for m in &r.members {
            f(ev, place, &r.name, m);
            place += 1;
        }
    }
}

fn instance_classes(
    ev: &mut Eval,
    g: &Rc<Group>,
    name: &str,
    roles: &[Role],
) -> Vec<MemberClasses> {
    let mut out = Vec::new();
    for_each_member(ev, roles, |ev, _, r, m| {
        out.extend(member(ev, g, name, r, m));
    });
    out
}

fn member(ev: &mut Eval, g: &Rc<Group>, i: &str, r: &str, m: &str) -> Option<MemberClasses> {
    let per_instance = g.per_instance(ev, i, r, m).ok()?;
    let role_nixos = non_empty(ev, &per_instance, "nixosModule")?;
    let role_darwin = non_empty(ev, &per_instance, "darwinModule")?;
    // A service without `perMachine` configures nothing per machine.
    let has_per_machine = get(ev, &g.config, "perMachine").is_some();
    let (pm_nixos, pm_darwin) = if has_per_machine {
        let per_machine = g.per_machine(ev, m).ok()?;
        (
            non_empty(ev, &per_machine, "nixosModule")?,
            non_empty(ev, &per_machine, "darwinModule")?,
        )
    } else {
        (false, false)
    };
    Some(MemberClasses {
        role: r.to_string(),
        machine: m.to_string(),
        nixos: role_nixos || pm_nixos,
        darwin: role_darwin || pm_darwin,
        role_nixos,
        role_darwin,
    })
}

/// Attribute `name` of `v`, if `v` evaluates to an attribute set that has it.
fn get(ev: &mut Eval, v: &Value, name: &str) -> Option<Value> {
    let a = ev.force_attrs(v).ok()?;
    a.get_str(name).cloned()
}

/// Whether option `name` (a deferred module: the empty set by default, else
/// `{ imports = [ { _file; imports = [ definition ]; } … ]; }`) of the result `config` has a
/// definition other than `{ }`; `None` if that cannot be told.
fn non_empty(ev: &mut Eval, config: &Value, name: &str) -> Option<bool> {
    let v = get(ev, config, name)?;
    let a = ev.force_attrs(&v).ok()?;
    let Some(imports) = a.get_str("imports").cloned() else {
        return Some(!a.is_empty());
    };
    let defs = ev.force_list(&imports).ok()?;
    for d in defs.iter() {
        let inner = get(ev, d, "imports")?;
        let inner = ev.force_list(&inner).ok()?;
        for x in inner.iter() {
            match ev.force(x).ok()? {
                Value::Attrs(a) if a.is_empty() => {}
                _ => return Some(true),
            }
        }
    }
    Some(false)
}
