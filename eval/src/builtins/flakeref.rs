//! The flake-reference builtins: `parseFlakeRef`, `flakeRefToString`, `getFlake`, and the
//! argument checks `fetchTree` makes before fetching. The formats themselves are
//! `kith_store::flakeref`'s; `getFlake` asks the embedder's flake loader
//! ([`crate::FlakeLoader`]).

use super::strings::string_no_ctx;
use crate::error::{ErrorExt, EvalError, Result};
use crate::eval::Eval;
use crate::source::Span;
use crate::symbol::Symbol;
use crate::value::{Attr, Attrs, PrimOp, Value};
use kith_store::flakeref::{self, FAttr, FAttrs};

/// The primops of this topic.
pub(super) static OPS: &[PrimOp] = &[
    PrimOp {
        name: "parseFlakeRef",
        arity: 1,
        func: parse_flake_ref_op,
    },
    PrimOp {
        name: "flakeRefToString",
        arity: 1,
        func: flake_ref_to_string_op,
    },
    PrimOp {
        name: "getFlake",
        arity: 1,
        func: get_flake_op,
    },
];

// ---------------------------------------------------------------------------------------
// Primops

fn parse_flake_ref_op(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let s = string_no_ctx(
        ev,
        &args[0],
        "while evaluating the argument passed to builtins.parseFlakeRef",
    )?;
    let attrs = flakeref::parse(&s)?;
    let entries = attrs
        .into_iter()
        .map(|(k, v)| Attr {
            name: Symbol::new(&k),
            value: match v {
                FAttr::Str(s) => Value::string_encoded(&s),
                FAttr::Int(n) => Value::Int(n as i64),
                FAttr::Bool(b) => Value::Bool(b),
            },
            span: Span::NONE,
        })
        .collect();
    Ok(Value::Attrs(Attrs::from_entries(entries)))
}

fn flake_ref_to_string_op(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let set = ev.force_attrs(&args[0]).context(Span::NONE, || {
        "while evaluating the argument passed to builtins.flakeRefToString".into()
    })?;
    let mut attrs = FAttrs::new();
    for attr in set.iter() {
        let name = attr.name.as_str().to_string();
        let v = ev.force(&attr.value)?;
        let a = match &v {
            Value::Int(n) if *n < 0 => {
                return Err(EvalError::new(format!(
                    "negative value given for flake ref attr {name}: {n}"
                )))
            }
            Value::Int(n) => FAttr::Int(*n as u64),
            Value::Bool(b) => FAttr::Bool(*b),
            Value::String(s) => FAttr::Str(s.encoded().into_owned()),
            _ => {
                return Err(EvalError::new(format!(
                    "flake reference attribute sets may only contain integers, Booleans, \
                     and strings, but attribute '{name}' is {}",
                    v.type_desc()
                )))
            }
        };
        attrs.insert(name, a);
    }
    let s = flakeref::to_url(attrs)?;
    Ok(Value::string_encoded(&s))
}

/// `builtins.getFlake ref`: the flake, as the embedder's flake loader gives it.
fn get_flake_op(ev: &mut Eval, args: &[Value], span: Span) -> Result<Value> {
    let s = string_no_ctx(
        ev,
        &args[0],
        "while evaluating the argument passed to builtins.getFlake",
    )?;
    let Some(loader) = ev.flake_loader.clone() else {
        return Err(EvalError::new(format!(
            "cannot get flake '{s}': this evaluator has no flake loader"
        ))
        .at(span));
    };
    loader.get_flake(ev, &s, span)
}

// ---------------------------------------------------------------------------------------
// fetchTree argument validation

/// The checks `fetchTree` makes on its argument before fetching anything: attribute
/// values must be strings, paths, Booleans or non-negative integers, and a `file:` tarball
/// must be an absolute path (outside pure mode, where unlocked inputs fail earlier).
// Until `fetchTree` calls it (derivation.rs), only the tests use it.
pub(super) fn validate_fetch_tree_args(ev: &mut Eval, arg: &Value, _span: Span) -> Result<()> {
    let v = ev.force(arg)?;
    let (type_name, url) = match &v {
        Value::Attrs(set) => fetch_tree_attrs(ev, set)?,
        Value::String(s) => (None, s.encoded().into_owned()),
        _ => return Ok(()),
    };
    if ev.options.pure {
        return Ok(());
    }
    check_tarball_path(type_name.as_deref(), &url)
}

/// Checks the attribute values of a `fetchTree` set; returns its `type` and `url`.
fn fetch_tree_attrs(ev: &mut Eval, set: &Attrs) -> Result<(Option<String>, String)> {
    let mut type_name = None;
    let mut url = String::new();
    for attr in set.iter() {
        let name = attr.name.as_str();
        let v = ev.force(&attr.value)?;
        match &v {
            Value::String(s) if name == "type" => type_name = Some(s.encoded().into_owned()),
            Value::String(s) if name == "url" => url = s.encoded().into_owned(),
            _ if name == "type" || name == "publicKeys" => {}
            Value::Int(n) if *n < 0 => {
                return Err(EvalError::new(format!(
                    "negative value given for 'fetchTree' argument '{name}': {n}"
                )))
            }
            Value::Int(_) | Value::Bool(_) | Value::String(_) | Value::Path(_) => {}
            _ => {
                return Err(EvalError::new(format!(
                "fetchTree argument '{name}' is {} while a string, Boolean or integer is expected",
                v.type_desc()
            )))
            }
        }
    }
    // Without a `type`, Nix rejects the set; the caller reports that.
    Ok((Some(type_name.unwrap_or_default()), url))
}

/// [`flakeref::check_tarball_path`] as an evaluation error.
fn check_tarball_path(type_name: Option<&str>, url: &str) -> Result<()> {
    flakeref::check_tarball_path(type_name, url).or_else(|e| {
        Err(EvalError::new(e.message)).context(Span::NONE, || {
            format!("while fetching the input '{}'", e.input)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(src: &str) -> std::result::Result<String, String> {
        let mut ev = Eval::new(crate::eval::EvalOptions::default());
        let v = ev
            .eval_expr(src, std::path::Path::new("/"))
            .map_err(|e| e.message.clone())?;
        crate::print::print_value(&mut ev, &v, true).map_err(|e| e.message.clone())
    }

    fn fetch_tree_check(src: &str) -> std::result::Result<(), String> {
        let mut ev = Eval::new(crate::eval::EvalOptions::default());
        let v = ev
            .eval_expr(src, std::path::Path::new("/"))
            .map_err(|e| e.message.clone())?;
        validate_fetch_tree_args(&mut ev, &v, Span::NONE).map_err(|e| e.message.clone())
    }

    #[test]
    fn corpus_cases() {
        // eval-okay-parse-flake-ref, eval-okay-flake-ref-to-string and
        // eval-fail-flake-ref-to-string-negative-integer.
        assert_eq!(
            eval(r#"builtins.parseFlakeRef "github:NixOS/nixpkgs/23.05?dir=lib""#).unwrap(),
            r#"{ dir = "lib"; owner = "NixOS"; ref = "23.05"; repo = "nixpkgs"; type = "github"; }"#
        );
        assert_eq!(
            eval(
                r#"builtins.flakeRefToString { type = "github"; owner = "NixOS";
                   repo = "nixpkgs"; ref = "23.05"; dir = "lib"; }"#
            )
            .unwrap(),
            r#""github:NixOS/nixpkgs/23.05?dir=lib""#
        );
        assert_eq!(
            eval(
                r#"let n = -1; in builtins.seq n (builtins.flakeRefToString {
                   type = "github"; owner = "NixOS"; repo = n; ref = "23.05"; dir = "lib"; })"#
            )
            .unwrap_err(),
            "negative value given for flake ref attr repo: -1"
        );
    }

    #[test]
    fn fetch_tree_validation() {
        // eval-fail-fetchTree-negative and eval-fail-fetchTree-relative-path.
        assert_eq!(
            fetch_tree_check(
                r#"{ type = "file"; url = "file://eval-fail-fetchTree-negative.nix"; owner = -1; }"#
            )
            .unwrap_err(),
            "negative value given for 'fetchTree' argument 'owner': -1"
        );
        assert_eq!(
            fetch_tree_check(r#""file:./relative-path.tar.gz""#).unwrap_err(),
            "tarball 'file:./relative-path.tar.gz' must use an absolute path. \
             The 'file' scheme does not support relative paths."
        );
        assert!(fetch_tree_check(r#"{ type = "github"; owner = "a"; repo = "b"; }"#).is_ok());
    }
}
