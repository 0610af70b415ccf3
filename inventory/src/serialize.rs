//! `clanInternals.inventoryClass.inventorySerialization`: the inventory's `meta`,
//! `machines`, `instances` and `tags`, without `instances.*.roles.*.extraModules`, after
//! the inventory's assertions.

use crate::clan::Clan;
use crate::error::{Error, Result};
use crate::modsys::{attr, attrs, throw};
use kith_eval::{Attr, Attrs, Eval, Thunk, Value};

/// The inventory `config` of `clan` (lazy).
pub fn inventory(ev: &mut Eval, clan: &Clan) -> Result<Value> {
    let cfg = ev.force_attrs(&clan.config)?;
    Ok(cfg
        .get(kith_eval::sym!("inventory"))
        .cloned()
        .expect("declared option"))
}

/// The serialised inventory, as a lazy value.
pub fn inventory_serialization(ev: &mut Eval, clan: &Clan) -> Result<Value> {
    if let Some(e) = removed_services(ev, clan)? {
        return Err(e);
    }
    serialization_unchecked(ev, clan)
}

/// The error of the inventory's assertion against the removed `inventory.services` (the
/// only assertion `inventorySerialization` evaluates first), if the clan defines it.
pub fn removed_services(ev: &mut Eval, clan: &Clan) -> Result<Option<Error>> {
    let inv = inventory(ev, clan)?;
    let inv = ev.force_attrs(&inv)?;
    match inv.get(kith_eval::sym!("services")) {
        Some(services) if !matches!(ev.force(services)?, Value::Null) => Ok(Some(Error::Eval(
            throw(removed_services_message(ev, services)?),
        ))),
        _ => Ok(None),
    }
}

/// [`inventory_serialization`] without its assertion ([`removed_services`]).
pub fn serialization_unchecked(ev: &mut Eval, clan: &Clan) -> Result<Value> {
    let inv = inventory(ev, clan)?;
    let inv = ev.force_attrs(&inv)?;
    let get = |n: &str| inv.get_str(n).cloned().expect("declared option");
    let instances = get("instances");
    let instances = Thunk::native(move |ev: &mut Eval| {
        let set = ev.force_attrs(&instances)?;
        let mut out = Vec::new();
        for i in set.iter() {
            let inst = i.value.clone();
            let value = Thunk::native(move |ev: &mut Eval| without_extra_modules(ev, &inst));
            out.push(Attr { value, ..i.clone() });
        }
        Ok(Value::Attrs(Attrs::from_entries(out)))
    });
    Ok(attrs(vec![
        attr("instances", instances),
        attr("machines", get("machines")),
        attr("meta", get("meta")),
        attr("tags", get("tags")),
    ]))
}

/// An instance with `roles.*.extraModules` removed.
fn without_extra_modules(ev: &mut Eval, inst: &Value) -> kith_eval::Result<Value> {
    let inst = ev.force_attrs(inst)?;
    let mut out = Vec::new();
    for a in inst.iter() {
        if a.name.as_str() != "roles" {
            out.push(a.clone());
            continue;
        }
        let roles = ev.force_attrs(&a.value)?;
        let mut rs = Vec::new();
        for r in roles.iter() {
            let role = ev.force_attrs(&r.value)?;
            let kept: Vec<Attr> = role
                .iter()
                .filter(|x| x.name.as_str() != "extraModules")
                .cloned()
                .collect();
            rs.push(Attr {
                value: Value::Attrs(Attrs::from_entries(kept)),
                ..r.clone()
            });
        }
        out.push(Attr {
            value: Value::Attrs(Attrs::from_entries(rs)),
            ..a.clone()
        });
    }
    Ok(Value::Attrs(Attrs::from_entries(out)))
}

/// The failed assertion `mkRemovedOptionModule [ "services" ]` adds.
fn removed_services_message(ev: &mut Eval, services: &Value) -> Result<String> {
    let set = ev.force_attrs(services)?;
    let mut files = Vec::new();
    if let Some(imports) = set.get(kith_eval::sym!("imports")) {
        for m in ev.force_list(imports)?.iter() {
            let m = ev.force_attrs(m)?;
            if let Some(f) = m.get(kith_eval::sym!("_file")) {
                files.push(format!("`{}'", ev.force_string(f)?.encoded()));
            }
        }
    }
    Ok(format!(
        "The option definition `services' in {} no longer has any effect; please remove it.\nThe `inventory.services` option has been removed. Use `inventory.instances` instead.\nSee: https://clan.lol/docs/guides/migrations/migrate-inventory-services\n\n",
        files.join(" and ")
    ))
}
