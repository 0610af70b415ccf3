//! Module resolution (`lib/resolve-module`): `module.input` null → clan-core's
//! `clan.modules`, `"self"` → this clan's `modules`, another name → that input's
//! `clan.modules`; clan-core's error texts.

use super::ClanCtx;
use crate::modsys::throw;
use kith_eval::{Eval, Result, Value};

fn get(ev: &mut Eval, v: &Value, name: &str) -> Result<Option<Value>> {
    match ev.force(v)? {
        Value::Attrs(a) => Ok(a.get_str(name).cloned()),
        _ => Ok(None),
    }
}

/// The module a `{ input; name; }` spec names (forced to weak head normal form only as
/// far as finding it needs).
pub(crate) fn resolve(
    ev: &mut Eval,
    cc: &ClanCtx,
    input: Option<&str>,
    name: &str,
) -> Result<Value> {
    let set = match input {
        None => {
            let clan = get(ev, &cc.clan_core, "clan")?;
            match clan {
                Some(c) => get(ev, &c, "modules")?,
                None => None,
            }
            .ok_or_else(|| throw("flake input 'null' doesn't export any clan services via the `clan.modules` output attribute"))?
        }
        Some("self") => {
            let cfg = ev.force_attrs(&cc.config)?;
            cfg.get(kith_eval::sym!("modules"))
                .cloned()
                .expect("declared option")
        }
        Some(input) => {
            let cfg = ev.force_attrs(&cc.config)?;
            let self_value = cfg
                .get(kith_eval::sym!("self"))
                .cloned()
                .expect("declared option");
            let inputs = get(ev, &self_value, "inputs")?.unwrap_or(Value::Null);
            let found = get(ev, &inputs, input)?;
            let Some(flake) = found else {
                let mut names: Vec<String> = match ev.force(&inputs)? {
                    Value::Attrs(a) => a.iter().map(|x| x.name.as_str().to_string()).collect(),
                    _ => Vec::new(),
                };
                if !names.iter().any(|n| n == "self") {
                    names.push("self".into());
                }
                names.sort();
                return Err(throw(format!(
                    "Flake doesn't provide input with name '{input}'\n\nChoose one of the following inputs:\n- {}\n\nTo import any official module from '<clan-core>' remove the 'input' attribute from the module definition\nRemove the following line from the module definition:\n\n...\n- module.input = \"{input}\"\n\n",
                    names.join("\n- ")
                )));
            };
            let modules = match get(ev, &flake, "clan")? {
                Some(c) => get(ev, &c, "modules")?,
                None => None,
            };
            modules.ok_or_else(|| {
                throw(format!(
                    "flake input '{input}' doesn't export any clan services via the `clan.modules` output attribute"
                ))
            })?
        }
    };
    match get(ev, &set, name)? {
        Some(m) => Ok(m),
        None => {
            let head = match input {
                Some(i) => {
                    format!("flake input '{i}' doesn't provide clan-module with name '{name}'.")
                }
                None => format!("clan-core doesn't provide clan-module with name '{name}'."),
            };
            Err(throw(format!(
                "{head}\n\nRemove `module.input` (or set module.input = null) - to use a <clan-core> module'\n\nSet `module.input = \"self\"` if the module is defined in your own flake.\nSet `module.input = \"<flake-input>\" if the module is defined by a flake input called `<flake-input>`.\n"
            )))
        }
    }
}
