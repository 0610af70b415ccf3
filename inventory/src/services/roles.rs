//! Role membership (`clanLib.inventory.resolveTags`) and the resolved roles a service
//! instance receives.

use super::ClanCtx;
use crate::modsys::{attr, attr_sym, attrs};
use kith_eval::{Attr, Attrs, Eval, Result, Value};
use rustc_hash::FxHashMap;

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
    let machines = ev.force_attrs(
        inv.get(kith_eval::sym!("machines"))
            .expect("declared option"),
    )?;
    let mut out = Vec::new();
    for m in machines.sorted_by_name() {
        let cfg = ev.force_attrs(&m.value)?;
        let tags = string_list(
            ev,
            cfg.get(kith_eval::sym!("tags")).expect("declared option"),
        )?;
        out.push((m.name.as_str().to_string(), tags));
    }
    Ok(out)
}

/// The machines' tags indexed both ways.
pub(crate) struct TagIndex {
    /// Machines in name order with their tags.
    pub machines: Vec<(String, Vec<String>)>,
    /// Tag → the machines that carry it (places in `machines`, in order).
    by_tag: FxHashMap<String, Vec<usize>>,
}

impl TagIndex {
    /// Indexes `machines`.
    pub fn new(machines: Vec<(String, Vec<String>)>) -> TagIndex {
        let mut by_tag: FxHashMap<String, Vec<usize>> = FxHashMap::default();
        for (k, (_, tags)) in machines.iter().enumerate() {
            for t in tags {
                let list = by_tag.entry(t.clone()).or_default();
                if list.last() != Some(&k) {
                    list.push(k);
                }
            }
        }
        TagIndex { machines, by_tag }
    }

    /// The machines carrying `tag`, in name order.
    fn carrying(&self, tag: &str) -> impl Iterator<Item = &String> {
        self.by_tag
            .get(tag)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(|&k| &self.machines[k].0)
    }
}

/// The [`TagIndex`] of a clan, made when a role first names a tag: as in clan-core,
/// machines' tags (and so their classes, for the builtin `nixos` and `darwin` tags) are
/// evaluated only if some role selects machines by tag.
pub(crate) struct LazyTags<'c> {
    cc: &'c ClanCtx,
    index: Option<TagIndex>,
}

impl<'c> LazyTags<'c> {
    /// Nothing evaluated yet.
    pub fn new(cc: &'c ClanCtx) -> LazyTags<'c> {
        LazyTags { cc, index: None }
    }

    /// The index, made on first use.
    fn get(&mut self, ev: &mut Eval) -> Result<&TagIndex> {
        if self.index.is_none() {
            self.index = Some(TagIndex::new(machine_tags(ev, self.cc)?));
        }
        Ok(self.index.as_ref().expect("made above"))
    }
}

/// The roles of instance `instance_name` (its inventory config `instance`), resolved.
pub(crate) fn resolve(
    ev: &mut Eval,
    tags: &mut LazyTags,
    instance_name: &str,
    instance: &Value,
) -> Result<Vec<Role>> {
    let inst = ev.force_attrs(instance)?;
    let roles = ev.force_attrs(inst.get(kith_eval::sym!("roles")).expect("declared option"))?;
    let mut out = Vec::new();
    for r in roles.sorted_by_name() {
        let role = ev.force_attrs(&r.value)?;
        let explicit = ev.force_attrs(
            role.get(kith_eval::sym!("machines"))
                .expect("declared option"),
        )?;
        let role_tags =
            ev.force_attrs(role.get(kith_eval::sym!("tags")).expect("declared option"))?;
        let mut members: Vec<String> = explicit
            .iter()
            .map(|a| a.name.as_str().to_string())
            .collect();
        let role_tags_sorted = role_tags.sorted_by_name();
        // Each member's role tags, as positions in `role_tags_sorted` (ascending).
        let mut tags_of_member: FxHashMap<&str, Vec<usize>> = FxHashMap::default();
        let index = match role_tags_sorted.is_empty() {
            true => None,
            false => Some(tags.get(ev)?),
        };
        for (k, t) in role_tags_sorted.iter().enumerate() {
            let tag = t.name.as_str();
            let index = index.expect("made for a role with tags");
            let hits: Vec<&String> = index.carrying(tag).collect();
            if hits.is_empty() {
                let mut available: Vec<&str> = Vec::new();
                for (_, ts) in index.machines.iter().rev() {
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
            for &m in &hits {
                tags_of_member.entry(m.as_str()).or_default().push(k);
            }
            members.extend(hits.iter().map(|m| (*m).clone()));
        }
        members.sort();
        members.dedup();
        let mut machine_entries = Vec::new();
        for m in &members {
            let own = match explicit.get_str(m) {
                Some(e) => {
                    let e = ev.force_attrs(e)?;
                    e.get(kith_eval::sym!("settings"))
                        .cloned()
                        .unwrap_or_else(|| attrs(Vec::new()))
                }
                None => attrs(Vec::new()),
            };
            let mut imports = vec![own];
            for &k in tags_of_member
                .get(m.as_str())
                .map_or(&[][..], Vec::as_slice)
            {
                let tcfg = ev.force_attrs(&role_tags_sorted[k].value)?;
                imports.push(
                    tcfg.get(kith_eval::sym!("settings"))
                        .cloned()
                        .expect("declared option"),
                );
            }
            machine_entries.push(attr(
                m,
                attrs(vec![attr(
                    "settings",
                    attrs(vec![attr_sym(
                        kith_eval::sym!("imports"),
                        Value::list(imports),
                    )]),
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
