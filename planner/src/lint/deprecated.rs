//! `deprecated-inventory-services`: clan-core's removed `inventory.services`, located at
//! its definitions through the engine (the definitions' own attributes).

use super::locate::Files;
use super::{Diagnostic, Location, Note, Severity};
use kith_eval::{Eval, Value};
use kith_inventory::clan::Clan;

/// The text of clan-core's `mkRemovedOptionModule [ "services" ]` message.
pub(crate) const REMOVED_SERVICES: &str = "The `inventory.services` option has been removed";

/// The error of a clan that defines `inventory.services` (clan-core's message `msg`), at
/// the first attribute of each definition of it in the clan's files (the others as notes).
pub(crate) fn removed_services(
    ev: &mut Eval,
    clan: &Clan,
    files: &mut Files,
    msg: &str,
) -> Option<Diagnostic> {
    let mut sites = definition_sites(ev, clan, files).into_iter();
    let location = sites.next()?;
    let mut notes: Vec<Note> = sites
        .map(|l| Note {
            message: "also defined here".into(),
            location: Some(l),
        })
        .collect();
    notes.push(Note {
        message: "move each service to `inventory.instances` (see https://clan.lol/docs/guides/migrations/migrate-inventory-services)".into(),
        location: None,
    });
    Some(Diagnostic {
        code: "deprecated-inventory-services",
        severity: Severity::Error,
        message: files.shorten(msg.trim()),
        location,
        notes,
        fixes: Vec::new(),
    })
}

/// The place of the first attribute of each definition of `inventory.services` (the
/// option keeps its definitions as `{ imports = [ { _file; imports = [ value ]; } … ]; }`).
fn definition_sites(ev: &mut Eval, clan: &Clan, files: &mut Files) -> Vec<Location> {
    let mut out = Vec::new();
    let get = |ev: &mut Eval, v: &Value, n: &str| -> Option<Value> {
        ev.force_attrs(v).ok()?.get_str(n).cloned()
    };
    let Ok(inv) = kith_inventory::serialize::inventory(ev, clan) else {
        return out;
    };
    let Some(defs) = get(ev, &inv, "services").and_then(|s| get(ev, &s, "imports")) else {
        return out;
    };
    let Ok(defs) = ev.force_list(&defs) else {
        return out;
    };
    for d in defs.iter() {
        let Some(inner) = get(ev, d, "imports") else {
            continue;
        };
        let Ok(inner) = ev.force_list(&inner) else {
            continue;
        };
        for v in inner.iter() {
            let Ok(a) = ev.force_attrs(v) else {
                continue;
            };
            let first = a
                .iter()
                .filter_map(|x| ev.sources.describe(x.span))
                .filter_map(|(f, l, c)| Some((files.relative(&f)?, l, c)))
                .min_by_key(|(_, l, c)| (*l, *c));
            if let Some((rel, l, c)) = first {
                let loc = files.at(&rel, Some(l), Some(c));
                if !out.contains(&loc) {
                    out.push(loc);
                }
            }
        }
    }
    out
}
