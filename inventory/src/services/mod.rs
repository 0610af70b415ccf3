//! clan services natively (clan-inventory.md §2.8, §3): instances grouped by resolved
//! module, role membership, each group's service module evaluated with a native schema,
//! settings per (instance, role, machine), `perInstance`/`perMachine` called with
//! clan-core's arguments, exports checked and merged, and constraints to `cliChecks`.
//! The service modules themselves (user code) run in the evaluator.

mod classes;
mod exports;
mod group;
mod interfaces;
mod options;
mod resolve;
mod roles;
mod schema;

pub use classes::{
    all_member_classes, computed_member_classes, member_classes, member_classes_with, KnownClasses,
    MemberClasses,
};
pub use exports::{
    cli_checks, constraint_violations, exports, group_exports_json, group_infos, Constraint,
    ConstraintViolation, GroupInfo,
};

pub use options::{service_roles, settings_options, SettingsOption};

use crate::clan::Clan;
use crate::error::Result;
use crate::modsys::merge::Ctx;
use crate::modsys::Loc;
use kith_eval::{Eval, Value};
use std::cell::RefCell;
use std::rc::Rc;

/// The services of a clan: every group, evaluated lazily, and the global exports.
pub struct Services {
    /// Groups in group-id order.
    pub(crate) groups: Vec<Rc<group::Group>>,
    /// `clan.exports` (lazy; the services read it too).
    pub exports: Value,
    pub(crate) cc: Rc<ClanCtx>,
}

impl Services {
    /// The inventory `config` (lazy).
    pub fn inventory(&self) -> Value {
        self.cc.inventory.clone()
    }
}

/// What services need from the clan.
pub(crate) struct ClanCtx {
    pub config: Value,
    pub inventory: Value,
    pub lib: Value,
    pub core: String,
    pub clan_core: Value,
    /// `clan.exports`, set once built (services read it lazily).
    pub exports: RefCell<Value>,
    /// `extendSettings`' Nix function, compiled once.
    pub extend_fn: RefCell<Option<Value>>,
    /// Whether a service has read `exports` (other services' results).
    pub exports_read: std::cell::Cell<bool>,
    /// Small Nix helpers, compiled once: `key: v: { ${key} = v; }` and `msg: _: throw msg`.
    pub helpers: RefCell<Option<(Value, Value)>>,
}

impl ClanCtx {
    pub(crate) fn ctx(&self, loc: Vec<String>) -> Ctx {
        Ctx {
            loc: Loc::new(&loc),
            name: None,
            parent: Value::Null,
            lib: self.lib.clone(),
        }
    }
}

/// The services of `clan` (built once; nothing of a group is evaluated until read).
pub fn services(ev: &mut Eval, clan: &Clan) -> Result<Rc<Services>> {
    if let Some(s) = clan.services.borrow().as_ref() {
        return Ok(s.clone());
    }
    let cfg = ev.force_attrs(&clan.config)?;
    let inventory = cfg
        .get(kith_eval::sym!("inventory"))
        .cloned()
        .expect("declared option");
    let cc = Rc::new(ClanCtx {
        config: clan.config.clone(),
        inventory,
        lib: clan.lib.clone(),
        core: clan.core.clone(),
        clan_core: clan.clan_core.clone(),
        exports: RefCell::new(Value::Null),
        helpers: RefCell::new(None),
        exports_read: std::cell::Cell::new(false),
        extend_fn: RefCell::new(None),
    });
    let groups = group::groups(ev, &cc)?;
    let exports = exports::global_exports(&cc, &groups);
    *cc.exports.borrow_mut() = exports.clone();
    let s = Rc::new(Services {
        groups,
        exports,
        cc: cc.clone(),
    });
    *clan.services.borrow_mut() = Some(s.clone());
    Ok(s)
}

/// Checks instance `name` of `clan` as far as the native engine can before clan's CLI
/// writes it: its module resolves, its roles are roles of that module, and the settings of
/// each role and each member machine fit the role's interface (clan-core's errors).
/// The error is the first of [`check_instance_all`]'s.
pub fn check_instance(ev: &mut Eval, clan: &Clan, name: &str) -> Result<()> {
    match check_instance_all(ev, clan, name)?.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// As [`check_instance`], but with the settings of every role and every member checked on
/// their own: the errors of each (the module and role checks still end it at their first,
/// and a role whose own settings fail has its members left unchecked).
pub fn check_instance_all(ev: &mut Eval, clan: &Clan, name: &str) -> Result<Vec<crate::Error>> {
    let services = services(ev, clan)?;
    let mut errors = Vec::new();
    for g in &services.groups {
        let Some((_, roles)) = g.instances.iter().find(|(n, _)| n == name) else {
            continue;
        };
        g.role_names(ev)?;
        g.check_roles(ev, name)?;
        for r in roles {
            // A member's settings include the role's: members are checked only when the
            // role's own settings pass (else each would repeat the role's error).
            let members = std::iter::once(None).chain(r.members.iter().map(|m| Some(m.as_str())));
            for m in members {
                let mut found = Vec::new();
                match g.settings(ev, name, &r.name, m) {
                    Ok(v) => force_each(ev, &v, &mut found),
                    Err(e) => found.push(crate::Error::from(e)),
                }
                // An option read without a value is only an error if a service reads it.
                let failed = found.iter().any(|e| !e.is_unset_option());
                errors.extend(found);
                if m.is_none() && failed {
                    break;
                }
            }
        }
    }
    Ok(errors)
}

/// Forces `v` deeply, as `builtins.deepSeq` does, but records each error and goes on
/// with the other attributes and elements (in name order): an option that fails, or is
/// read without a value, hides none of the others.
fn force_each(ev: &mut Eval, v: &Value, errors: &mut Vec<crate::Error>) {
    use kith_eval::ErrorExt;
    // Every value visited is kept, so that no address seen is reused by another value.
    let mut seen: Vec<Value> = Vec::new();
    let mut ids = std::collections::HashSet::new();
    let mut todo: Vec<(Value, Option<(kith_eval::Span, kith_eval::Symbol)>)> =
        vec![(v.clone(), None)];
    while let Some((v, at)) = todo.pop() {
        let v = match ev.force(&v) {
            Ok(v) => v,
            Err(e) => {
                let e = match at {
                    Some((span, name)) => e.context(span, || {
                        format!("while evaluating the attribute '{}'", name.as_str())
                    }),
                    None => e,
                };
                errors.push(crate::Error::from(e));
                continue;
            }
        };
        let Some(id) = v.ptr_id() else {
            continue;
        };
        if !ids.insert(id) {
            continue;
        }
        match &v {
            Value::Attrs(a) => {
                for attr in a.sorted_by_name().into_iter().rev() {
                    todo.push((attr.value.clone(), Some((attr.span, attr.name))));
                }
            }
            Value::List(l) => {
                for x in l.iter().rev() {
                    todo.push((x.clone(), None));
                }
            }
            _ => {}
        }
        seen.push(v);
    }
}

/// [`check_instance_all`] of the instances of group `index` (in group-id order) that part
/// `(k, n)` of it checks (every `n`-th from the `k`-th): each with whether its checks found
/// nothing but options read without a value (see [`crate::Error::is_unset_option`]).
pub fn check_group(
    ev: &mut Eval,
    clan: &Clan,
    index: usize,
    (k, n): (usize, usize),
) -> Result<Vec<(String, bool)>> {
    let services = services(ev, clan)?;
    let Some(g) = services.groups.get(index) else {
        return Ok(Vec::new());
    };
    let names: Vec<String> = g
        .instances
        .iter()
        .enumerate()
        .filter(|(j, _)| j % n.max(1) == k)
        .map(|(_, (name, _))| name.clone())
        .collect();
    Ok(names
        .into_iter()
        .map(|name| {
            let clean = check_instance_all(ev, clan, &name)
                .is_ok_and(|errors| errors.iter().all(crate::Error::is_unset_option));
            (name, clean)
        })
        .collect())
}
