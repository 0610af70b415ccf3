//! The native engine's view of the clan before and after an edit: the inventory with its
//! priorities, and the checks an edited inventory must pass before it is written.

use super::overlay::OverlayFs;
use super::EditError;
use kith_eval::Eval;
use kith_flake::FlakeOptions;
use kith_inventory::clan::{self, Clan};
use kith_inventory::introspection::Introspection;
use kith_inventory::modsys::share;
use std::path::Path;
use std::rc::Rc;

/// How a failure of the engine is reported.
fn engine_error(e: kith_inventory::Error, ev: &Eval, edited: bool) -> EditError {
    match e {
        kith_inventory::Error::Unsupported(r) => EditError::Unsupported(r),
        kith_inventory::Error::Eval(e) if e.message == clan::NO_CLAN_OUTPUT => {
            EditError::Unsupported("the flake has no `clan` output".into())
        }
        kith_inventory::Error::Eval(e) => {
            let text = e.render(&ev.sources);
            let reason = text
                .rsplit_once("error:")
                .map_or(text.as_str(), |(_, a)| a)
                .trim()
                .to_string();
            if edited {
                EditError::Invalid(reason)
            } else {
                EditError::Refused(format!(
                    "the clan does not evaluate before the edit: {reason}"
                ))
            }
        }
    }
}

/// Runs `f` on the clan in `dir` (with `inventory.json` reading as `bytes` if given) in a
/// fresh evaluator; again with module sharing off if a shared module reads `config`.
fn with_clan<T>(
    dir: &Path,
    opts: &FlakeOptions,
    bytes: Option<&[u8]>,
    f: impl Fn(&mut Eval, &Clan) -> kith_inventory::Result<T>,
) -> Result<T, EditError> {
    // inventory.json counts as tracked in a git flake even if it is not yet: the edit
    // stages it, as clan's writer commits it.
    let mut opts = opts.clone();
    opts.also_tracked.push(super::INVENTORY_FILE.to_string());
    let opts = &opts;
    let run = || {
        let mut ev = crate::evaluator(opts.offline);
        if let Some(b) = bytes {
            ev.set_file_system(Rc::new(OverlayFs::new(
                dir.join(super::INVENTORY_FILE),
                b.to_vec(),
            )));
        }
        let r = clan::load(&mut ev, dir, opts).and_then(|c| f(&mut ev, &c));
        (ev, r)
    };
    let (mut ev, mut r) = run();
    if r.as_ref().is_err_and(kith_inventory::Error::reads_config) {
        share::set_sharing(false);
        (ev, r) = run();
        share::set_sharing(true);
    }
    r.map_err(|e| engine_error(e, &ev, bytes.is_some()))
}

/// The inventory and its priorities (with `inventory.json` reading as `bytes` if given).
pub fn introspect(
    dir: &Path,
    opts: &FlakeOptions,
    bytes: Option<&[u8]>,
) -> Result<Introspection, EditError> {
    with_clan(dir, opts, bytes, kith_inventory::introspection::introspect)
}

/// Checks the clan with `inventory.json` reading as `bytes`: it evaluates, the changed
/// instances (`touched`) name existing machines and tags, their modules and roles exist
/// and their settings fit the roles' interfaces, and `clan.exports` evaluates (unless it
/// failed before the edit too).
pub fn check(
    dir: &Path,
    opts: &FlakeOptions,
    bytes: &[u8],
    touched: &[String],
) -> Result<(), EditError> {
    let edited = with_clan(dir, opts, Some(bytes), |ev, c| {
        let intro = kith_inventory::introspection::introspect(ev, c)?;
        if let Some(msg) = unknown_references(&intro.values, touched) {
            return Ok(Err(msg));
        }
        for i in touched {
            kith_inventory::services::check_instance(ev, c, i)?;
        }
        let exports = kith_inventory::services::exports(ev, c)
            .and_then(|v| Ok(ev.to_json(&v)?))
            .map(|_| ())
            .map_err(|e| engine_error(e, ev, true).to_string());
        Ok(Ok(exports))
    })?;
    match edited {
        Err(msg) => Err(EditError::Invalid(msg)),
        Ok(Ok(())) => Ok(()),
        Ok(Err(after)) => {
            let before = with_clan(dir, opts, None, |ev, c| {
                let v = kith_inventory::services::exports(ev, c)?;
                Ok(ev.to_json(&v)?)
            });
            match before {
                Ok(_) => Err(EditError::Invalid(
                    after
                        .trim_start_matches("the edited inventory is not valid: ")
                        .to_string(),
                )),
                Err(_) => Ok(()),
            }
        }
    }
}

/// The machines and tags the roles of `touched` instances name that the inventory does
/// not have (clan's messages: `create_service_instance` and the tag warning of
/// clan-core's role resolution).
fn unknown_references(values: &serde_json::Value, touched: &[String]) -> Option<String> {
    let machines = values.get("machines").and_then(|m| m.as_object());
    let names: Vec<&str> = machines
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let mut all_tags: Vec<&str> = Vec::new();
    for m in machines.into_iter().flat_map(|m| m.values()) {
        for t in m
            .get("tags")
            .and_then(|t| t.as_array())
            .into_iter()
            .flatten()
        {
            if let Some(t) = t.as_str() {
                if !all_tags.contains(&t) {
                    all_tags.push(t);
                }
            }
        }
    }
    for i in touched {
        let Some(roles) = values
            .pointer(&format!("/instances/{}/roles", escape(i)))
            .and_then(|r| r.as_object())
        else {
            continue;
        };
        for (r, role) in roles {
            if let Some(ms) = role.get("machines").and_then(|m| m.as_object()) {
                let unknown: Vec<&str> = ms
                    .keys()
                    .map(String::as_str)
                    .filter(|m| !names.contains(m))
                    .collect();
                if !unknown.is_empty() {
                    let q = |v: &[&str]| {
                        v.iter()
                            .map(|s| format!("'{s}'"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    return Some(format!(
                        "Instance '{i}': Role: '{r}' - Unknown machine reference: [{}]. Use one of {{{}}}",
                        q(&unknown),
                        q(&names)
                    ));
                }
            }
            if let Some(ts) = role.get("tags").and_then(|m| m.as_object()) {
                for t in ts.keys() {
                    if !all_tags.contains(&t.as_str()) {
                        return Some(format!(
                            "Service instance '{i}': - {r} tags: no machine with tag '{t}' found.\nAvailable tags: {}",
                            serde_json::to_string(&all_tags).unwrap_or_default()
                        ));
                    }
                }
            }
        }
    }
    None
}

/// A name as a JSON pointer token.
fn escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}
