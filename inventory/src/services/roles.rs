//! Role membership (`clanLib.inventory.resolveTags`) and the resolved roles a service
//! instance receives.

use super::ClanCtx;
use crate::modsys::{attr, attrs};
use kith_eval::{Attr, Attrs, Eval, Result, Value};

/// One role of an instance after resolution.
pub(crate) struct Role {
    /// The role name.
    pub name: String,
    /// Members, sorted.
    pub members: Vec<String>,
    /// The role as the service receives it: the inventory role without `tags`, with
    /// `machines.<M>.settings = { imports = [ machine settings, tag settings… ]; }`.
    pub value: Value,
}

fn string_list(ev: &mut Eval, v: &Value) -> Result<Vec<String>> {
    let l = ev.force_list(v)?;
    let mut out = Vec::with_capacity(l.len());
    for x in l.iter() {
        out.push(ev.force_string(x)?.encoded().into_owned());
    }
    Ok(out)
}

/// The effective tags of every inventory machine, in name order.
pub(crate) fn machine_tags(ev: &mut Eval, cc: &ClanCtx) -> Result<Vec<(String, Vec<String>)>> {
    let inv = ev.force_attrs(&cc.inventory)?;
    let machines = ev.force_attrs(inv.get_str("machines").expect("declared option"))?;
    let mut out = Vec::new();
    for m in machines.sorted_by_name() {
        let cfg = ev.force_attrs(&m.value)?;
        let tags = string_list(ev, cfg.get_str("tags").expect("declared option"))?;
        out.push((m.name.as_str().to_string(), tags));
    }
    Ok(out)
}

/// The roles of instance `instance_name` (its inventory config `instance`), resolved.
pub(crate) fn resolve(
    ev: &mut Eval,
    tags_of: &[(String, Vec<String>)],
    instance_name: &str,
    instance: &Value,
) -> Result<Vec<Role>> {
    let inst = ev.force_attrs(instance)?;
    let roles = ev.force_attrs(inst.get_str("roles").expect("declared option"))?;
    let mut out = Vec::new();
    for r in roles.sorted_by_name() {
        let role = ev.force_attrs(&r.value)?;
        let explicit = ev.force_attrs(role.get_str("machines").expect("declared option"))?;
        let role_tags = ev.force_attrs(role.get_str("tags").expect("declared option"))?;
        let mut members: Vec<String> = explicit
            .iter()
            .map(|a| a.name.as_str().to_string())
            .collect();
        for t in role_tags.sorted_by_name() {
            let tag = t.name.as_str();
            let hits: Vec<&String> = tags_of
                .iter()
                .filter(|(_, ts)| ts.iter().any(|x| x == tag))
                .map(|(m, _)| m)
                .collect();
            if hits.is_empty() {
                let mut available: Vec<&str> = Vec::new();
                for (_, ts) in tags_of.iter().rev() {
                    for x in ts {
                        if !available.contains(&x.as_str()) {
                            available.push(x);
                        }
                    }
                }
                let json = serde_json::to_string(&available).unwrap_or_default();
                kith_eval::eprint_line(&format!(
                    "evaluation warning: Service instance '{instance_name}': - {} tags: no machine with tag '{tag}' found.\nAvailable tags: {json}",
                    r.name.as_str()
                ));
            }
            members.extend(hits.into_iter().cloned());
        }
        members.sort();
        members.dedup();
        let mut machine_entries = Vec::new();
        for m in &members {
            let own = match explicit.get_str(m) {
                Some(e) => {
                    let e = ev.force_attrs(e)?;
                    e.get_str("settings")
                        .cloned()
                        .unwrap_or_else(|| attrs(Vec::new()))
                }
                None => attrs(Vec::new()),
            };
            let mine: &[String] = tags_of
                .iter()
                .find(|(n, _)| n == m)
                .map(|(_, t)| t.as_slice())
                .unwrap_or(&[]);
            let mut imports = vec![own];
            for t in role_tags.sorted_by_name() {
                if mine.iter().any(|x| x == t.name.as_str()) {
                    let tcfg = ev.force_attrs(&t.value)?;
                    imports.push(tcfg.get_str("settings").cloned().expect("declared option"));
                }
            }
            machine_entries.push(attr(
                m,
                attrs(vec![attr(
                    "settings",
                    attrs(vec![attr("imports", Value::list(imports))]),
                )]),
            ));
        }
        let mut entries: Vec<Attr> = role
            .iter()
            .filter(|a| !matches!(a.name.as_str(), "tags" | "machines"))
            .cloned()
            .collect();
        entries.push(attr(
            "machines",
            Value::Attrs(Attrs::from_entries(machine_entries)),
        ));
        out.push(Role {
            name: r.name.as_str().to_string(),
            members,
            value: Value::Attrs(Attrs::from_entries(entries)),
        });
    }
    Ok(out)
}
