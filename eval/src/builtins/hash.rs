//! Builtins on hashes: `hashString`, `hashFile`, `convertHash`.

use super::strings::{ctx, string_no_ctx};
use crate::error::{ErrorExt, EvalError, Result};
use crate::eval::Eval;
use crate::hash_format::{Hash, HashAlgo, HashFormat};
use crate::source::Span;
use crate::value::{Attrs, PrimOp, Value};

/// The primops of this topic.
pub(super) static OPS: &[PrimOp] = &[
    PrimOp {
        name: "hashString",
        arity: 2,
        func: hash_string,
    },
    PrimOp {
        name: "hashFile",
        arity: 2,
        func: hash_file,
    },
    PrimOp {
        name: "convertHash",
        arity: 1,
        func: convert_hash,
    },
];

/// Forces and parses a hash algorithm name.
fn algo_arg(ev: &mut Eval, v: &Value, what: &str) -> Result<HashAlgo> {
    let name = string_no_ctx(ev, v, what)?;
    HashAlgo::parse(&name).map_err(EvalError::new)
}

/// `hashString algo s`: the base-16 digest of `s` (its context is dropped).
fn hash_string(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let algo = algo_arg(
        ev,
        &args[0],
        "while evaluating the first argument passed to builtins.hashString",
    )?;
    let s = ctx(
        ev.force_string(&args[1]),
        "while evaluating the second argument passed to builtins.hashString",
    )?;
    Ok(Value::string(
        algo.digest(&s.s).to_string(HashFormat::Base16),
    ))
}

/// `hashFile algo path`: the base-16 digest of a file's contents.
fn hash_file(ev: &mut Eval, args: &[Value], span: Span) -> Result<Value> {
    let algo = algo_arg(
        ev,
        &args[0],
        "while evaluating the first argument passed to builtins.hashFile",
    )?;
    let path = ev.real_path_of(&args[1], span)?;
    let data = ev
        .read_bytes_mapped(&crate::bytestr::to_path(&path))
        .at(span)?
        .map_err(|e| {
            EvalError::new(format!(
                "reading file '{path}': {}",
                kith_store::fs::io_reason(&e)
            ))
        })?;
    Ok(Value::string(
        algo.digest(&data).to_string(HashFormat::Base16),
    ))
}

/// A required attribute of `convertHash`'s argument, as a string without context.
fn required_str(ev: &mut Eval, attrs: &Attrs, name: &str) -> Result<String> {
    let Some(v) = attrs.get_str(name) else {
        return ctx(
            Err(EvalError::new(format!("attribute '{name}' missing"))),
            &format!("while locating the attribute '{name}'"),
        );
    };
    let v = v.clone();
    string_no_ctx(ev, &v, &format!("while evaluating the attribute '{name}'"))
}

/// `convertHash { hash; hashAlgo ? null; toHashFormat; }`: re-encodes a hash given in any
/// format (`base16`, `nix32`/`base32`, `base64`, `sri`).
fn convert_hash(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let attrs = ctx(
        ev.force_attrs(&args[0]),
        "while evaluating the first argument passed to builtins.convertHash",
    )?;
    let hash = required_str(ev, &attrs, "hash")?;
    let algo = match attrs.get_str("hashAlgo").cloned() {
        Some(v) => Some(algo_arg(
            ev,
            &v,
            "while evaluating the attribute 'hashAlgo'",
        )?),
        None => None,
    };
    let format = required_str(ev, &attrs, "toHashFormat")?;
    let format = HashFormat::parse(&format).map_err(EvalError::new)?;
    let parsed = Hash::parse_any(&hash, algo).map_err(EvalError::new)?;
    Ok(Value::string(parsed.to_string(format)))
}
