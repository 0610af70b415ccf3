//! Answers from the native engine (kith-inventory) and the plan cache, for the views it
//! models; everything else goes to the reference path.

use crate::cache;
use crate::recording_fs::{Observation, RecordingFs};
use kith_eval::{Eval, Value};
use kith_inventory::clan;
use std::path::Path;
use std::rc::Rc;

/// The selector prefix of the view the native engine computes.
pub const INVENTORY_VIEW: [&str; 3] = ["clanInternals", "inventoryClass", "inventorySerialization"];

/// A view the native engine computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// `clanInternals.inventoryClass.inventorySerialization`.
    Inventory,
    /// `clan.exports`.
    Exports,
    /// `clanInternals.cliChecks`.
    CliChecks,
}

impl View {
    /// The selector path of the view.
    pub fn path(self) -> &'static [&'static str] {
        match self {
            View::Inventory => &INVENTORY_VIEW,
            View::Exports => &["clan", "exports"],
            View::CliChecks => &["clanInternals", "cliChecks"],
        }
    }

    fn name(self) -> &'static str {
        match self {
            View::Inventory => "inventorySerialization",
            View::Exports => "exports",
            View::CliChecks => "cliChecks",
        }
    }
}

/// How a native answer was found.
pub enum Outcome {
    /// The view's value, and what answered (for `--explain`).
    Value(serde_json::Value, String),
    /// The native engine does not model this clan: why.
    Unsupported(String),
    /// The clan's own error (clan-core's message), with the evaluator that rendered it.
    Error(Box<kith_eval::EvalError>, Box<Eval>),
}

/// A view of the clan in `dir` (canonical), from the cache unless `no_cache`, else
/// computed natively (and cached).
pub fn view(dir: &Path, opts: &kith_flake::FlakeOptions, which: View, no_cache: bool) -> Outcome {
    let overrides: Vec<String> = opts
        .overrides
        .iter()
        .map(|(n, p)| format!("{n}={}", p.display()))
        .collect();
    let key = cache::key(&[&dir.to_string_lossy(), &overrides.join("\0"), which.name()]);
    let cache_dir = cache::dir();
    if !no_cache {
        if let Some(d) = &cache_dir {
            if let Some(entry) = cache::lookup(d, &key) {
                let n = entry.observations.len();
                return Outcome::Value(
                    entry.value,
                    format!("answered from the cached plan ({n} observed files and directories unchanged)"),
                );
            }
        }
    }
    let fs = Rc::new(RecordingFs::default());
    let mut options = kith_eval::EvalOptions {
        ir_cache_dir: kith_eval::default_ir_cache_dir(),
        ..Default::default()
    };
    if let Ok(d) = std::env::var("NIX_STORE_DIR") {
        options.store_dir = d;
    }
    let mut ev = kith_flake::evaluator(options, opts.offline);
    ev.set_file_system(fs.clone());
    let result = clan::load(&mut ev, dir, opts).and_then(|c| {
        let v = match which {
            View::Inventory => kith_inventory::serialize::inventory_serialization(&mut ev, &c)?,
            View::Exports => kith_inventory::services::exports(&mut ev, &c)?,
            View::CliChecks => kith_inventory::services::cli_checks(&mut ev, &c)?,
        };
        Ok(ev.to_json(&v)?)
    });
    match result {
        Ok(json) => {
            let mut obs = fs.observations();
            obs.push(Observation::observe("tree", dir));
            for p in &opts.overrides {
                obs.push(Observation::observe("tree", &p.1));
            }
            let n = obs.len();
            if let Some(d) = &cache_dir {
                cache::store(d, &key, obs, json.clone());
            }
            Outcome::Value(
                json,
                format!("answered by the native engine (plan computed from {n} observed files and directories{})", if no_cache { ", cache not used" } else { ", now cached" }),
            )
        }
        Err(kith_inventory::Error::Unsupported(r)) => Outcome::Unsupported(r),
        Err(kith_inventory::Error::Eval(e)) => Outcome::Error(e, Box::new(ev)),
    }
}

/// A JSON value as an evaluator value (to apply the rest of a selector to it).
pub fn json_value(json: &serde_json::Value) -> Value {
    Value::from_json(json)
}
