//! The builtins: every primop grouped by topic, and the `builtins` set itself.
//!
//! Each topic module exports `OPS`, a table of [`PrimOp`]s. [`install`] builds the
//! `builtins` attribute set and the top-level names (`map`, `true`, `__add`, …).

mod arith;
mod attrs;
mod context;
pub(crate) mod control;
#[cfg(test)]
pub(crate) use control::testing;
pub mod corepkgs;
mod derivation;
pub(crate) mod elem_index;
pub(crate) mod flakeref;
mod hash;
mod io;
pub(crate) mod json;
mod lists;
mod regex;
mod strings;
mod toml;
mod types;
mod versions;
mod xml;

use crate::eval::Eval;
use crate::source::Span;
use crate::symbol::Symbol;
use crate::value::Shared;
use crate::value::{Attr, Attrs, PrimOp, PrimOpApp, Thunk, Value};

/// Builtins also bound at top level without the `__` prefix, as in Nix.
const UNPREFIXED: &[&str] = &[
    "abort",
    "baseNameOf",
    "break",
    "derivation",
    "derivationStrict",
    "dirOf",
    "fetchGit",
    "fetchMercurial",
    "fetchTarball",
    "fetchTree",
    "fromTOML",
    "import",
    "isNull",
    "map",
    "placeholder",
    "removeAttrs",
    "scopedImport",
    "throw",
    "toString",
];

/// All primop tables.
fn tables() -> Vec<&'static [PrimOp]> {
    vec![
        arith::OPS,
        attrs::OPS,
        context::OPS,
        control::OPS,
        derivation::OPS,
        flakeref::OPS,
        hash::OPS,
        io::OPS,
        json::OPS,
        lists::OPS,
        regex::OPS,
        strings::OPS,
        toml::OPS,
        types::OPS,
        versions::OPS,
        xml::OPS,
    ]
}

/// Builds the `builtins` set and the global names of `ev`.
pub fn install(ev: &mut Eval) {
    let mut entries: Vec<Attr> = Vec::new();
    for table in tables() {
        for op in table {
            let v = Value::PrimOp(Shared::new(PrimOpApp {
                op,
                args: Vec::new(),
            }));
            entries.push(Attr {
                name: Symbol::new(op.name),
                value: v,
                span: Span::NONE,
            });
        }
    }
    entries.push(Attr {
        name: Symbol::new("derivation"),
        value: derivation::wrapper(),
        span: Span::NONE,
    });
    for (name, value) in constants(ev) {
        entries.push(Attr {
            name: Symbol::new(name),
            value,
            span: Span::NONE,
        });
    }
    // `builtins.builtins` refers back to the set itself.
    entries.push(Attr {
        name: Symbol::new("builtins"),
        value: Thunk::native(|ev: &mut Eval| Ok(Value::Attrs(ev.builtins.clone()))),
        span: Span::NONE,
    });
    let builtins = Attrs::from_entries(entries);
    ev.globals.clear();
    for attr in builtins.iter() {
        let name = attr.name.as_str();
        if matches!(name, "true" | "false" | "null" | "builtins") || UNPREFIXED.contains(&name) {
            ev.globals.insert(attr.name, attr.value.clone());
        }
        if !matches!(name, "true" | "false" | "null" | "builtins") {
            ev.globals
                .insert(Symbol::new(&format!("__{name}")), attr.value.clone());
        }
    }
    ev.globals
        .insert(Symbol::new("builtins"), Value::Attrs(builtins.clone()));
    ev.builtins = builtins;
}

/// Non-function builtins.
fn constants(ev: &Eval) -> Vec<(&'static str, Value)> {
    let o = &ev.options;
    // Pure evaluation (flakes) has no search path, clock or system, as in Nix.
    let nix_path: Vec<Value> = o
        .search_path
        .iter()
        .filter(|_| !o.pure)
        .map(|(prefix, path)| {
            Value::Attrs(Attrs::from_entries(vec![
                Attr {
                    name: Symbol::new("prefix"),
                    value: Value::string(prefix.clone()),
                    span: Span::NONE,
                },
                Attr {
                    name: Symbol::new("path"),
                    value: Value::string(path.clone()),
                    span: Span::NONE,
                },
            ]))
        })
        .collect();
    let mut out = vec![
        ("true", Value::Bool(true)),
        ("false", Value::Bool(false)),
        ("null", Value::Null),
        ("currentSystem", Value::string(o.current_system.clone())),
        ("nixVersion", Value::string("2.26.3")),
        ("langVersion", Value::Int(6)),
        ("storeDir", Value::string(o.store_dir.clone())),
        ("nixPath", Value::list(nix_path)),
        (
            "currentTime",
            Value::Int(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs() as i64)
                    .unwrap_or(0),
            ),
        ),
    ];
    if o.pure {
        out.retain(|(name, _)| !matches!(*name, "currentTime" | "currentSystem"));
    }
    out
}

/// `--json` output of a value.
pub use json::to_json_string;

/// `--xml` output of a value, as `nix-instantiate --eval --xml` prints it.
pub fn to_xml_string(
    ev: &mut Eval,
    v: &Value,
    strict: bool,
    location: bool,
) -> crate::error::Result<String> {
    Ok(xml::value_to_xml(ev, v, strict, location)?.0)
}
