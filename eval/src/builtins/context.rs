//! Builtins on string contexts: `hasContext`, `getContext`, `appendContext`,
//! `unsafeDiscardStringContext`, `unsafeDiscardOutputDependency`,
//! `addDrvOutputDependencies`.
//!
//! Context elements are encoded as in [`crate::value::Context`]: `/nix/store/…` (a plain
//! path), `=/nix/store/….drv` (a derivation with all its outputs) and
//! `!out!/nix/store/….drv` (one output of a derivation).

use super::strings::{ctx, string_no_ctx, COERCE};
use crate::error::{ErrorExt, EvalError, Result};
use crate::eval::{canon_path, Eval};
use crate::hash_format::NIX32_CHARS;
use crate::source::Span;
use crate::symbol::Symbol;
use crate::value::{Attr, Attrs, Context, PrimOp, Value};
use std::collections::BTreeMap;

/// The primops of this topic.
pub(super) static OPS: &[PrimOp] = &[
    PrimOp {
        name: "hasContext",
        arity: 1,
        func: has_context,
    },
    PrimOp {
        name: "getContext",
        arity: 1,
        func: get_context,
    },
    PrimOp {
        name: "appendContext",
        arity: 2,
        func: append_context,
    },
    PrimOp {
        name: "unsafeDiscardStringContext",
        arity: 1,
        func: unsafe_discard_string_context,
    },
    PrimOp {
        name: "unsafeDiscardOutputDependency",
        arity: 1,
        func: unsafe_discard_output_dependency,
    },
    PrimOp {
        name: "addDrvOutputDependencies",
        arity: 1,
        func: add_drv_output_dependencies,
    },
];

/// One decoded context element.
#[derive(Debug, PartialEq, Eq)]
pub enum ContextElem<'a> {
    /// A store path (`/nix/store/…`).
    Opaque(&'a str),
    /// A derivation and all its outputs (`=/nix/store/….drv`).
    DrvDeep(&'a str),
    /// One output of a derivation (`!out!/nix/store/….drv`): (derivation, output).
    Built(&'a str, &'a str),
}

/// Decodes a context element.
pub fn decode_elem(e: &str) -> ContextElem<'_> {
    if let Some(drv) = e.strip_prefix('=') {
        return ContextElem::DrvDeep(drv);
    }
    if let Some(rest) = e.strip_prefix('!') {
        if let Some((output, drv)) = rest.split_once('!') {
            return ContextElem::Built(drv, output);
        }
    }
    ContextElem::Opaque(e)
}

/// Whether `path` names a store object directly under `store_dir` with a valid name
/// (32 nix32 characters, a dash, then a name of allowed characters), as Nix's
/// `isStorePath`. Returns the canonical path.
pub fn parse_store_path(path: &str, store_dir: &str) -> Option<String> {
    if !path.starts_with('/') {
        return None;
    }
    let p = canon_path(path);
    let (dir, base) = p.rsplit_once('/')?;
    let dir = if dir.is_empty() { "/" } else { dir };
    if dir != store_dir || base.len() < 33 || !valid_hash_part(&base[..32]) {
        return None;
    }
    valid_name(base.get(33..)?).then_some(p)
}

fn valid_hash_part(h: &str) -> bool {
    h.bytes().all(|c| NIX32_CHARS.contains(&c))
}

fn valid_name(name: &str) -> bool {
    let ok_char = |c: u8| c.is_ascii_alphanumeric() || b"+-._?=".contains(&c);
    let bad_dots = name == "." || name == ".." || name.starts_with(".-") || name.starts_with("..-");
    !name.is_empty() && name.len() <= 211 && !bad_dots && name.bytes().all(ok_char)
}

/// `hasContext s`.
fn has_context(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let s = ctx(
        ev.force_string(&args[0]),
        "while evaluating the argument passed to builtins.hasContext",
    )?;
    Ok(Value::Bool(!s.ctx.is_empty()))
}

/// What `getContext` reports for one store path.
#[derive(Default)]
struct Info {
    path: bool,
    all_outputs: bool,
    outputs: Vec<String>,
}

/// `getContext s`: `{ "<store path>" = { path = true; allOutputs = true; outputs = [ … ]; }; }`
/// with only the attributes that apply.
fn get_context(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let s = ctx(
        ev.force_string(&args[0]),
        "while evaluating the argument passed to builtins.getContext",
    )?;
    let mut infos: BTreeMap<&str, Info> = BTreeMap::new();
    for e in &s.ctx {
        match decode_elem(e) {
            ContextElem::Opaque(p) => infos.entry(p).or_default().path = true,
            ContextElem::DrvDeep(p) => infos.entry(p).or_default().all_outputs = true,
            ContextElem::Built(p, out) => infos.entry(p).or_default().outputs.push(out.to_string()),
        }
    }
    let attr = |name: &str, value: Value| Attr {
        name: Symbol::new(name),
        value,
        span: Span::NONE,
    };
    let entries = infos
        .into_iter()
        .map(|(path, info)| {
            let mut fields = Vec::new();
            if info.path {
                fields.push(attr("path", Value::Bool(true)));
            }
            if info.all_outputs {
                fields.push(attr("allOutputs", Value::Bool(true)));
            }
            if !info.outputs.is_empty() {
                let outs = info.outputs.into_iter().map(Value::string).collect();
                fields.push(attr("outputs", Value::list(outs)));
            }
            attr(path, Value::Attrs(Attrs::from_entries(fields)))
        })
        .collect();
    Ok(Value::Attrs(Attrs::from_entries(entries)))
}

/// `appendContext s ctx`: `s` with the context described in `getContext`'s format added.
fn append_context(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let s = ctx(
        ev.force_string(&args[0]),
        "while evaluating the first argument passed to builtins.appendContext",
    )?;
    let spec = ctx(
        ev.force_attrs(&args[1]),
        "while evaluating the second argument passed to builtins.appendContext",
    )?;
    let mut context = s.ctx.clone();
    for entry in spec.iter() {
        add_context_entry(ev, entry, &mut context)?;
    }
    Ok(Value::string_ctx(s.s.clone(), context))
}

/// Adds the context one `appendContext` attribute describes.
fn add_context_entry(ev: &mut Eval, entry: &Attr, context: &mut Context) -> Result<()> {
    let name = entry.name.as_str();
    let Some(path) = parse_store_path(name, &ev.options.store_dir) else {
        return Err(
            EvalError::new(format!("context key '{name}' is not a store path")).at(entry.span),
        );
    };
    let is_drv = name.ends_with(".drv");
    let info = ctx(
        ev.force_attrs(&entry.value),
        "while evaluating the value of a string context",
    )?;
    if let Some(v) = info.get_str("path") {
        if ctx(
            ev.force_bool(v),
            "while evaluating the `path` attribute of a string context",
        )? {
            context.insert(path.clone());
        }
    }
    if let Some(v) = info.get_str("allOutputs") {
        if ctx(
            ev.force_bool(v),
            "while evaluating the `allOutputs` attribute of a string context",
        )? {
            if !is_drv {
                return Err(EvalError::new(format!(
                    "tried to add all-outputs context of {name}, which is not a derivation, to a string"
                ))
                .at(entry.span));
            }
            context.insert(format!("={path}"));
        }
    }
    if let Some(v) = info.get_str("outputs") {
        let outputs = ctx(
            ev.force_list(v),
            "while evaluating the `outputs` attribute of a string context",
        )?;
        if !outputs.is_empty() && !is_drv {
            return Err(EvalError::new(format!(
                "tried to add derivation output context of {name}, which is not a derivation, to a string"
            ))
            .at(entry.span));
        }
        for o in outputs.iter() {
            let out = string_no_ctx(
                ev,
                o,
                "while evaluating an output name within a string context",
            )?;
            context.insert(format!("!{out}!{path}"));
        }
    }
    Ok(())
}

/// `unsafeDiscardStringContext s`.
fn unsafe_discard_string_context(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let s = ctx(
        ev.coerce_to_string(&args[0], COERCE),
        "while evaluating the argument passed to builtins.unsafeDiscardStringContext",
    )?;
    Ok(Value::string(s.s))
}

/// `unsafeDiscardOutputDependency s`: whole-derivation elements become plain paths to
/// the `.drv` file.
fn unsafe_discard_output_dependency(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let s = ctx(
        ev.coerce_to_string(&args[0], COERCE),
        "while evaluating the argument passed to builtins.unsafeDiscardOutputDependency",
    )?;
    let context = s
        .ctx
        .into_iter()
        .map(|e| match e.strip_prefix('=') {
            Some(drv) => drv.to_string(),
            None => e,
        })
        .collect();
    Ok(Value::string_ctx(s.s, context))
}

/// `addDrvOutputDependencies s`: turns the single plain `.drv` path in `s`'s context into
/// a whole-derivation element (the inverse of `unsafeDiscardOutputDependency`).
fn add_drv_output_dependencies(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let s = ctx(
        ev.coerce_to_string(&args[0], COERCE),
        "while evaluating the argument passed to builtins.addDrvOutputDependencies",
    )?;
    let only = match s.ctx.first() {
        Some(e) if s.ctx.len() == 1 => e.clone(),
        _ => {
            return Err(EvalError::new(format!(
                "context of string '{}' must have exactly one element, but has {}",
                s.encoded(),
                s.ctx.len()
            )))
        }
    };
    let elem = match decode_elem(&only) {
        ContextElem::Opaque(p) if p.ends_with(".drv") => format!("={p}"),
        ContextElem::Opaque(p) => return Err(EvalError::new(format!("path '{p}' is not a derivation"))),
        ContextElem::Built(_, out) => {
            return Err(EvalError::new(format!(
                "`addDrvOutputDependencies` can only act on derivations, not on a derivation output such as '{out}'"
            )))
        }
        ContextElem::DrvDeep(_) => only.clone(),
    };
    Ok(Value::string_ctx(s.s, Context::from([elem])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode() {
        assert_eq!(
            decode_elem("/nix/store/x"),
            ContextElem::Opaque("/nix/store/x")
        );
        assert_eq!(
            decode_elem("=/nix/store/x.drv"),
            ContextElem::DrvDeep("/nix/store/x.drv")
        );
        assert_eq!(
            decode_elem("!out!/nix/store/x.drv"),
            ContextElem::Built("/nix/store/x.drv", "out")
        );
    }

    #[test]
    fn store_paths() {
        let hash = "00000000000000000000000000000000";
        let ok = format!("/nix/store/{hash}-x");
        assert_eq!(parse_store_path(&ok, "/nix/store"), Some(ok.clone()));
        assert_eq!(
            parse_store_path(&format!("/nix//store/{hash}-x/"), "/nix/store"),
            Some(ok)
        );
        assert_eq!(
            parse_store_path(&format!("/nix/store/{hash}-"), "/nix/store"),
            None
        );
        assert_eq!(
            parse_store_path(
                "/nix/store/0000000000000000000000000000000e-x",
                "/nix/store"
            ),
            None
        );
        assert_eq!(
            parse_store_path(&format!("/nix/store/{hash}-a b"), "/nix/store"),
            None
        );
        assert_eq!(
            parse_store_path(&format!("/tmp/{hash}-x"), "/nix/store"),
            None
        );
    }
}
