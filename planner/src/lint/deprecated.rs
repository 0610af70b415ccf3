//! The deprecated inventory options, located at their definitions through the engine:
//! `deprecated-inventory-services` (clan-core's removed `inventory.services`, at the
//! definitions' own attributes), `deprecated-meta-tld` and
//! `deprecated-string-extra-modules` (at the sites the engine records for `meta`'s options
//! and the roles' `extraModules`), each with a mechanical rewrite where one is derivable.

use super::locate::Files;
use super::{Diagnostic, Edit, Fix, Location, Note, Severity};
use kith_eval::{Eval, Value};
use kith_inventory::clan::Clan;
use kith_inventory::model::{self, Inventory, Site};

/// clan-core's warning for a `meta.tld` that sets the domain
/// (`modules/inventoryClass/meta.nix`).
pub(crate) const TLD: &str = "`clan.meta.tld` has been deprecated in favor of `clan.meta.domain`. `clan.meta.tld` will be removed in the next release.";

/// The start of clan-core's warning for a string in a role's `extraModules`
/// (`lib/inventory/distributed-service/service-module.nix`), followed by the string.
pub(crate) const STRING_EXTRA_MODULES: &str =
    "String types for 'extraModules' will be deprecated - ";

/// `deprecated-meta-tld`: a clan that sets `meta.tld`, at the `tld` key of each definition
/// (the first as the diagnostic, the others as notes), with the rename of every such key to
/// `domain` as the fix — unless the clan also sets `meta.domain` (then `tld` has no effect,
/// and a rename would define the domain twice).
pub(crate) fn meta_tld(inv: &Inventory, files: &mut Files) -> Option<Diagnostic> {
    let tld = inv.meta.tld.as_ref()?;
    let sites = inv.sites.meta.get("tld").map_or(&[][..], Vec::as_slice);
    let mut keys: Vec<(Location, bool)> = Vec::new();
    for site in sites {
        if let Some(k) = key_at(files, site, &["meta", "tld"], "tld") {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    let domain_set = inv.sites.meta.get("domain").is_some_and(|s| !s.is_empty());
    let mut it = keys.iter();
    let (location, _) = it.next()?.clone();
    let mut notes: Vec<Note> = it
        .map(|(l, _)| Note {
            message: "also defined here".into(),
            location: Some(l.clone()),
        })
        .collect();
    let (message, fixes) = if domain_set {
        notes.push(Note {
            message: format!(
                "`meta.domain` is set too, so `meta.tld = \"{tld}\"` has no effect: remove it"
            ),
            location: None,
        });
        (
            "`clan.meta.tld` has been deprecated in favor of `clan.meta.domain`, which this clan also sets: `clan.meta.tld` has no effect and will be removed in the next release.".to_string(),
            Vec::new(),
        )
    } else {
        // Every key renamed (the values are the same, or the module system would not merge
        // them), each exactly the name `tld` in its file.
        let fixes = if keys.iter().all(|(_, exact)| *exact) {
            vec![Fix {
                message: "rename `meta.tld` to `meta.domain`".into(),
                edits: keys
                    .iter()
                    .map(|(l, _)| Edit {
                        location: l.clone(),
                        new_text: "domain".into(),
                    })
                    .collect(),
            }]
        } else {
            Vec::new()
        };
        (TLD.to_string(), fixes)
    };
    Some(Diagnostic {
        code: "deprecated-meta-tld",
        severity: Severity::Warning,
        message,
        location,
        notes,
        fixes,
    })
}

/// `deprecated-string-extra-modules`: each string in a role's `extraModules`, at the string
/// where a Nix definition of the role's `extraModules` has it literally (else at the
/// `extraModules` key), with its rewrite as a path literal (relative to the defining file,
/// to the file clan-core imports: `"<directory>/<string>"`) where that file is the clan's.
pub(crate) fn string_extra_modules(
    ev: &mut Eval,
    clan: &Clan,
    inv: &Inventory,
    files: &mut Files,
) -> Vec<Diagnostic> {
    let Ok(strings) = model::string_extra_modules(ev, clan) else {
        return Vec::new();
    };
    if strings.is_empty() {
        return Vec::new();
    }
    let directory = directory(ev, clan);
    let mut out = Vec::new();
    for m in strings {
        let (i, r, s) = (m.instance.as_str(), m.role.as_str(), m.path.as_str());
        let sites = inv
            .sites
            .extra_modules
            .get(&(i.to_string(), r.to_string()))
            .map_or(&[][..], Vec::as_slice);
        let path = ["instances", i, "roles", r, "extraModules"];
        let mut found: Option<(Location, Vec<Fix>)> = None;
        let mut fallback: Option<Location> = None;
        for site in sites {
            let Some(rel) = files.relative(&site.file) else {
                continue;
            };
            if let Some(text) = files.text(&rel).map(str::to_string) {
                if rel.ends_with(".json") {
                    if let Some(((a, b), 5)) = files.json_key(&rel, &path) {
                        fallback.get_or_insert_with(|| files.location(&rel, a, b));
                    }
                    continue;
                }
                let Some(line) = site.line else {
                    continue;
                };
                let from = files.offset(&rel, line, site.column.unwrap_or(1));
                if fallback.is_none() {
                    fallback = Some(files.at(&rel, site.line, site.column));
                }
                let literal = format!("\"{s}\"");
                if let Some(at) = text[from..].find(&literal) {
                    let start = from + at;
                    let loc = files.location(&rel, start, start + literal.len());
                    let fixes = path_fix(files, directory.as_deref(), &rel, s)
                        .map(|p| Fix {
                            message: format!("import the file as the path `{p}`"),
                            edits: vec![Edit {
                                location: loc.clone(),
                                new_text: p,
                            }],
                        })
                        .into_iter()
                        .collect();
                    found = Some((loc, fixes));
                    break;
                }
            }
        }
        let (location, fixes) = match (found, fallback) {
            (Some(f), _) => f,
            (None, Some(l)) => (l, Vec::new()),
            (None, None) => continue,
        };
        out.push(Diagnostic {
            code: "deprecated-string-extra-modules",
            severity: Severity::Warning,
            message: format!("{STRING_EXTRA_MODULES}{s}"),
            location,
            notes: vec![Note {
                message: format!(
                    "instance '{i}', role '{r}': clan-core imports the string as `<clan directory>/{s}`; give the module as a path (or a module) instead"
                ),
                location: None,
            }],
            fixes,
        });
    }
    out
}

/// The location of key `name` of the definition at `site`: in JSON the key at `path`, in
/// Nix the name at the site (or after it, on the same line); with whether it is exactly
/// the name (an edit of it is a rename).
fn key_at(files: &mut Files, site: &Site, path: &[&str], name: &str) -> Option<(Location, bool)> {
    let rel = files.relative(&site.file)?;
    files.text(&rel)?;
    if rel.ends_with(".json") {
        let ((s, e), depth) = files.json_key(&rel, path)?;
        return (depth == path.len()).then(|| (files.location(&rel, s, e), true));
    }
    let line = site.line?;
    let from = files.offset(&rel, line, site.column.unwrap_or(1));
    if let Some((s, e)) = files.find_name(&rel, from, name) {
        let loc = files.location(&rel, s, e);
        if loc.range.start.line == line {
            return Some((loc, true));
        }
    }
    Some((files.at(&rel, site.line, site.column), false))
}

/// The clan's `directory` (where clan-core resolves the strings of `extraModules`), as
/// the engine names it.
fn directory(ev: &mut Eval, clan: &Clan) -> Option<String> {
    let cfg = ev.force_attrs(&clan.config).ok()?;
    let d = cfg.get_str("directory")?.clone();
    let v = ev.force(&d).ok()?;
    match v {
        Value::Path(p) => Some(p.to_string()),
        _ => Some(ev.force_string(&v).ok()?.encoded().into_owned()),
    }
}

/// The path literal, written in the clan's file `from`, of the file clan-core imports for
/// the `extraModules` string `s` (`"<directory>/<s>"`), if that file is the clan's and a
/// path literal can name it.
fn path_fix(files: &mut Files, directory: Option<&str>, from: &str, s: &str) -> Option<String> {
    let target = files.relative(&format!("{}/{s}", directory?))?;
    let mut to: Vec<&str> = Vec::new();
    for c in target.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                to.pop()?;
            }
            c => to.push(c),
        }
    }
    let mut base: Vec<&str> = from.split('/').filter(|c| !c.is_empty()).collect();
    base.pop();
    let common = base.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let ups = base.len() - common;
    let rest = to[common..].join("/");
    if rest.is_empty() {
        return None;
    }
    let p = if ups == 0 {
        format!("./{rest}")
    } else {
        format!("{}{rest}", "../".repeat(ups))
    };
    let literal = p
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '/'));
    literal.then_some(p)
}

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

#[cfg(test)]
mod tests {
    use super::{path_fix, Files};

    #[test]
    fn string_modules_as_path_literals() {
        let dir = std::env::temp_dir().join(format!("kith-lint-paths-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("modules/a b")).unwrap();
        std::fs::create_dir_all(dir.join("clan")).unwrap();
        std::fs::write(dir.join("modules/x.nix"), "{ }").unwrap();
        std::fs::write(dir.join("modules/a b/y.nix"), "{ }").unwrap();
        let mut f = Files::new(&dir, None);
        let root = dir.to_string_lossy().into_owned();
        let fix = |f: &mut Files, from: &str, s: &str| path_fix(f, Some(&root), from, s);
        assert_eq!(
            fix(&mut f, "clan.nix", "modules/x.nix").as_deref(),
            Some("./modules/x.nix")
        );
        assert_eq!(
            fix(&mut f, "clan.nix", "./modules/x.nix").as_deref(),
            Some("./modules/x.nix")
        );
        assert_eq!(
            fix(&mut f, "clan/inventory.nix", "modules/x.nix").as_deref(),
            Some("../modules/x.nix")
        );
        assert_eq!(
            fix(&mut f, "modules/i.nix", "modules/x.nix").as_deref(),
            Some("./x.nix")
        );
        // No file, a name a path literal cannot spell, or outside the clan: no fix.
        assert_eq!(fix(&mut f, "clan.nix", "modules/z.nix"), None);
        assert_eq!(fix(&mut f, "clan.nix", "modules/a b/y.nix"), None);
        assert_eq!(fix(&mut f, "clan.nix", "../x.nix"), None);
        assert_eq!(path_fix(&mut f, None, "clan.nix", "modules/x.nix"), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
