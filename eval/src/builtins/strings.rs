//! Builtins on strings: `toString`, `stringLength`, `substring`, `replaceStrings`,
//! `concatStringsSep`, `baseNameOf`, `dirOf`, `placeholder`.

use crate::error::{ErrorExt, EvalError, Result};
use crate::eval::{CoerceOpts, Eval};
use crate::hash_format::{nix32_encode, HashAlgo};
use crate::source::Span;
use crate::value::Shared;
use crate::value::{NixString, PrimOp, Value};

/// The primops of this topic.
pub(super) static OPS: &[PrimOp] = &[
    PrimOp {
        name: "toString",
        arity: 1,
        func: to_string,
    },
    PrimOp {
        name: "stringLength",
        arity: 1,
        func: string_length,
    },
    PrimOp {
        name: "substring",
        arity: 3,
        func: substring,
    },
    PrimOp {
        name: "replaceStrings",
        arity: 3,
        func: replace_strings,
    },
    PrimOp {
        name: "concatStringsSep",
        arity: 2,
        func: concat_strings_sep,
    },
    PrimOp {
        name: "baseNameOf",
        arity: 1,
        func: base_name_of,
    },
    PrimOp {
        name: "dirOf",
        arity: 1,
        func: dir_of,
    },
    PrimOp {
        name: "placeholder",
        arity: 1,
        func: placeholder,
    },
];

/// Adds a position-less `… <msg>` frame, as Nix's `errorCtx` arguments do.
pub(super) fn ctx<T>(r: Result<T>, msg: &str) -> Result<T> {
    r.context(Span::NONE, || msg.to_string())
}

/// Plain coercion (`"${x}"`): strings, paths (copied to the store), `outPath` sets.
pub(super) const COERCE: CoerceOpts = CoerceOpts {
    coerce_more: false,
    copy_to_store: true,
};

/// Coercion that keeps paths as their text.
const COERCE_NO_COPY: CoerceOpts = CoerceOpts {
    coerce_more: false,
    copy_to_store: false,
};

/// Forces a string argument whose context must be empty, failing as Nix's
/// `forceStringNoCtx` does. The text is [`crate::bytestr`]-encoded: bytes that are not
/// UTF-8 are kept.
pub(super) fn string_no_ctx(ev: &mut Eval, v: &Value, what: &str) -> Result<String> {
    let s = ctx(ev.force_string(v), what)?;
    match first_in_nix_order(&s.ctx) {
        None => Ok(s.encoded().into_owned()),
        Some(elem) => ctx(
            Err(EvalError::new(format!(
                "the string '{}' is not allowed to refer to a store path (such as '{}')",
                s.encoded(),
                elem
            ))),
            what,
        ),
    }
}

pub(super) use crate::value::first_context_element as first_in_nix_order;

/// `toString x`: coercion with `toString`'s extra cases (null, Booleans, numbers, lists).
fn to_string(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let opts = CoerceOpts {
        coerce_more: true,
        copy_to_store: false,
    };
    let s = ctx(
        ev.coerce_to_string(&args[0], opts),
        "while evaluating the first argument passed to builtins.toString",
    )?;
    Ok(Value::String(s.into()))
}

/// `stringLength s`: length in bytes.
fn string_length(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let s = ctx(
        ev.coerce_to_string(&args[0], COERCE),
        "while evaluating the argument passed to builtins.stringLength",
    )?;
    Ok(Value::Int(s.s.len() as i64))
}

/// `substring start len s`: bytes `start..start+len`, clamped; a negative `len` means
/// "to the end". The context of `s` is kept.
fn substring(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let start = ctx(
        ev.force_int(&args[0]),
        "while evaluating the first argument (the start offset) passed to builtins.substring",
    )?;
    if start < 0 {
        return Err(EvalError::new("negative start position in 'substring'"));
    }
    let len = ctx(
        ev.force_int(&args[1]),
        "while evaluating the second argument (the substring length) passed to builtins.substring",
    )?;
    if len == 0 {
        // Cheap special case that keeps the context of a string argument.
        if let Value::String(s) = ev.force(&args[2])? {
            return Ok(Value::string_ctx("", s.ctx.clone()));
        }
    }
    let s = ctx(
        ev.coerce_to_string(&args[2], COERCE),
        "while evaluating the third argument (the string) passed to builtins.substring",
    )?;
    let bytes = &s.s[..];
    let start = usize::try_from(start)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    let end = match usize::try_from(len) {
        Ok(len) => start.saturating_add(len).min(bytes.len()),
        Err(_) => bytes.len(),
    };
    Ok(Value::string_ctx(&bytes[start..end], s.ctx))
}

/// `replaceStrings from to s`: at each position, the first matching `from` is replaced
/// by its `to` (forced only when used); an empty `from` matches everywhere.
fn replace_strings(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let from = ctx(
        ev.force_list(&args[0]),
        "while evaluating the first argument passed to builtins.replaceStrings",
    )?;
    let to = ctx(
        ev.force_list(&args[1]),
        "while evaluating the second argument passed to builtins.replaceStrings",
    )?;
    if from.len() != to.len() {
        return Err(EvalError::new(
            "'from' and 'to' arguments passed to builtins.replaceStrings have different lengths",
        ));
    }
    let mut patterns = Vec::with_capacity(from.len());
    for f in from.iter() {
        let s = ctx(
            ev.force_string(f),
            "while evaluating one of the strings to replace passed to builtins.replaceStrings",
        )?;
        patterns.push(s);
    }
    let s = ctx(
        ev.force_string(&args[2]),
        "while evaluating the third argument passed to builtins.replaceStrings",
    )?;
    let mut context = s.ctx.clone();
    // Replacements are forced only when first used.
    let mut replacements: Vec<Option<Shared<NixString>>> = vec![None; to.len()];
    let input = &s.s[..];
    let mut out: Vec<u8> = Vec::with_capacity(input.len());
    let mut p = 0;
    while p <= input.len() {
        let hit = patterns
            .iter()
            .position(|pat| input[p..].starts_with(&pat.s));
        let Some(k) = hit else {
            out.extend(input.get(p));
            p += 1;
            continue;
        };
        let replacement = match &replacements[k] {
            Some(r) => r.clone(),
            None => {
                let r = ctx(
                    ev.force_string(&to[k]),
                    "while evaluating one of the replacement strings passed to builtins.replaceStrings",
                )?;
                context.extend(r.ctx.iter().cloned());
                replacements[k] = Some(r.clone());
                r
            }
        };
        out.extend_from_slice(&replacement.s);
        let pat_len = patterns[k].s.len();
        if pat_len == 0 {
            out.extend(input.get(p));
            p += 1;
        } else {
            p += pat_len;
        }
    }
    Ok(Value::string_ctx(out, context))
}

/// `concatStringsSep sep list`: the elements (coerced like `"${x}"`) joined by `sep`.
fn concat_strings_sep(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let sep = ctx(
        ev.force_string(&args[0]),
        "while evaluating the first argument (the separator string) passed to builtins.concatStringsSep",
    )?;
    let list = ctx(
        ev.force_list(&args[1]),
        "while evaluating the second argument (the list of strings to concat) passed to builtins.concatStringsSep",
    )?;
    let mut out = NixString::new(Vec::new(), sep.ctx.clone());
    for (i, item) in list.iter().enumerate() {
        if i > 0 {
            out.s.extend_from_slice(&sep.s);
        }
        let s = ctx(
            ev.coerce_to_string(item, COERCE),
            "while evaluating one element of the list of strings to concat passed to builtins.concatStringsSep",
        )?;
        out.s.extend_from_slice(&s.s);
        out.ctx.extend(s.ctx);
    }
    Ok(Value::String(out.into()))
}

/// The last component of `path`, ignoring one trailing slash (Nix's `baseNameOf`:
/// `"a/"` gives `"a"` but `"a//"` gives `""`).
pub fn base_name(b: &[u8]) -> &[u8] {
    if b.is_empty() {
        return b"";
    }
    let mut last = b.len() - 1;
    if last > 0 && b[last] == b'/' {
        last -= 1;
    }
    let start = b[..=last]
        .iter()
        .rposition(|&c| c == b'/')
        .map_or(0, |i| i + 1);
    &b[start..=last]
}

/// Everything before the last slash: `"."` without one, `"/"` for a root-level name
/// (Nix's `dirOf` on strings).
pub fn dir_name(path: &[u8]) -> &[u8] {
    match path.iter().rposition(|&b| b == b'/') {
        None => b".",
        Some(0) => b"/",
        Some(i) => &path[..i],
    }
}

/// `baseNameOf p`: the last component of a path or string, as a string.
fn base_name_of(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let s = ctx(
        ev.coerce_to_string(&args[0], COERCE_NO_COPY),
        "while evaluating the first argument passed to builtins.baseNameOf",
    )?;
    Ok(Value::string_ctx(base_name(&s.s), s.ctx))
}

/// `dirOf p`: the parent of a path (a path), or the text before the last slash.
fn dir_of(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let v = ev.force(&args[0])?;
    if let Value::Path(p) = &v {
        let parent = match p.rfind('/') {
            Some(0) | None => "/",
            Some(i) => &p[..i],
        };
        return Ok(Value::path(parent));
    }
    let s = ctx(
        ev.coerce_to_string(&v, COERCE_NO_COPY),
        "while evaluating the first argument passed to 'builtins.dirOf'",
    )?;
    Ok(Value::string_ctx(dir_name(&s.s), s.ctx))
}

/// The placeholder Nix substitutes with output `name`'s path:
/// `/` + nix32(sha256("nix-output:<name>")).
pub fn hash_placeholder(name: &str) -> String {
    let h = HashAlgo::Sha256.digest(format!("nix-output:{name}").as_bytes());
    format!("/{}", nix32_encode(&h.bytes))
}

/// `placeholder "out"`.
fn placeholder(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let name = string_no_ctx(
        ev,
        &args[0],
        "while evaluating the first argument passed to builtins.placeholder",
    )?;
    Ok(Value::string(hash_placeholder(&name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_names() {
        // From Nix's eval-okay-baseNameOf.nix.
        for (input, want) in [
            ("", ""),
            (".", "."),
            ("a/", "a"),
            ("a/.", "."),
            ("a/b/c..", "c.."),
            ("a\\b", "a\\b"),
            ("a//b", "b"),
            ("a//", ""),
            ("/", ""),
        ] {
            assert_eq!(base_name(input.as_bytes()), want.as_bytes(), "{input:?}");
        }
    }

    #[test]
    fn dir_names() {
        // From Nix's eval-okay-builtins-dirOf.exp.
        for (input, want) in [
            ("", "."),
            ("filename", "."),
            ("a/b", "a"),
            ("a///b", "a//"),
            ("/", "/"),
            ("//", "/"),
            ("///", "//"),
            ("/a", "/"),
            ("a/b/c/.//d", "a/b/c/./"),
        ] {
            assert_eq!(dir_name(input.as_bytes()), want.as_bytes(), "{input:?}");
        }
    }

    #[test]
    fn placeholder_out() {
        // `builtins.placeholder "out"` in Nix.
        assert_eq!(
            hash_placeholder("out"),
            "/1rz4g4znpzjwh1xymhjpm42vipw92pr73vdgl6xs1hycac8kf2n9"
        );
    }
}
