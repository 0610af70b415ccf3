//! `lib.generators.toPretty` (multi-line) and `showDefs`, for the module system's error
//! messages.

use super::Def;
use kith_eval::{Attrs, Eval, Value};

/// nixpkgs' `showDefs`: `\n- In `file'` for each definition, then its value as
/// `lib.generators.toPretty { }` prints it after `withRecursion { depthLimit = 10;
/// throwOnDepthLimit = false; }` (at most 5 lines; nothing when printing it throws). An
/// error `tryEval` does not catch (a type error inside the value, say) is returned: the
/// module system's message then fails with it.
pub fn show_defs(ev: &mut Eval, defs: &[Def]) -> kith_eval::Result<String> {
    let mut out = String::new();
    for d in defs {
        out.push_str(&format!("\n- In `{}'", d.file));
        let p = match pretty(ev, &d.value, Some(0), "") {
            Ok(p) => p,
            Err(e) if e.is_catchable() => continue,
            Err(e) => return Err(e),
        };
        let lines: Vec<&str> = p.split('\n').collect();
        let mut shown = lines
            .iter()
            .take(5)
            .copied()
            .collect::<Vec<_>>()
            .join("\n    ");
        if lines.len() > 5 {
            shown.push_str("\n    ...");
        }
        if lines.len() > 1 {
            out.push_str(":\n    ");
        } else {
            out.push_str(": ");
        }
        out.push_str(&shown);
    }
    Ok(out)
}

/// `withRecursion`'s depth limit in `showDefs`.
const DEPTH_LIMIT: usize = 10;

/// What `withRecursion` puts in place of a value past its depth limit, printed.
const UNEVALUATED: &str = "\"<unevaluated>\"";

/// The attributes `withRecursion` does not step into (their values are printed whole).
const SPECIAL_ATTRS: [&str; 4] = ["__functor", "__functionArgs", "__toString", "__pretty"];

/// `toPretty` at `indent` of `withRecursion`'s image of `v`, which is at nesting level
/// `depth` (`None`: no limit, inside a special attribute). A container's children past the
/// limit are `"<unevaluated>"`, unforced; a leaf is replaced one level earlier, at the
/// limit itself, as `withRecursion` checks a leaf's depth plus one.
fn pretty(
    ev: &mut Eval,
    v: &Value,
    depth: Option<usize>,
    indent: &str,
) -> kith_eval::Result<String> {
    let v = ev.force(v)?;
    let next = depth.map(|d| d + 1);
    let past = |d: Option<usize>| d.is_some_and(|d| d > DEPTH_LIMIT);
    let intro = format!("\n{indent}  ");
    let outro = format!("\n{indent}");
    let inner = format!("{indent}  ");
    let child = |ev: &mut Eval, x: &Value, d: Option<usize>| -> kith_eval::Result<String> {
        if past(d) {
            Ok(UNEVALUATED.to_string())
        } else {
            ev.descend(|ev| pretty(ev, x, d, &inner))
        }
    };
    Ok(match &v {
        Value::List(l) if l.is_empty() => "[ ]".into(),
        Value::List(l) => {
            let mut parts = Vec::new();
            for x in l.iter() {
                parts.push(child(ev, x, next)?);
            }
            format!("[{intro}{}{outro}]", parts.join(&intro))
        }
        Value::Attrs(a) if a.is_empty() => "{ }".into(),
        Value::Attrs(a) => {
            if let Some(args) = functor_args(ev, &v, a)? {
                return Ok(show_function(args));
            }
            if let Some(name) = derivation_name(ev, a, depth)? {
                return Ok(format!("<derivation {name}>"));
            }
            let mut parts = Vec::new();
            for attr in a.sorted_by_name() {
                let name = attr.name.as_str();
                let shown = if SPECIAL_ATTRS.contains(&name) {
                    ev.descend(|ev| pretty(ev, &attr.value, None, &inner))?
                } else {
                    child(ev, &attr.value, next)?
                };
                parts.push(format!("{} = {shown};", escape_identifier(name)));
            }
            format!("{{{intro}{}{outro}}}", parts.join(&intro))
        }
        _ if past(next) => UNEVALUATED.to_string(),
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(_) => kith_eval::to_json_string(ev, &v)?,
        Value::String(s) => pretty_string(&s.encoded(), indent),
        Value::Path(p) => p.to_string(),
        Value::Lambda(_) | Value::PrimOp(_) => show_function(
            v.formals()
                .into_iter()
                .map(|f| (f.name.as_str().to_string(), f.has_default))
                .collect(),
        ),
        Value::Thunk(_) => unreachable!("forced"),
    })
}

/// `toPretty` of a function whose `lib.functionArgs` are `args` (name, has a default).
fn show_function(mut args: Vec<(String, bool)>) -> String {
    if args.is_empty() {
        return "<function>".into();
    }
    args.sort();
    let args: Vec<String> = args
        .into_iter()
        .map(|(n, d)| if d { format!("{n}?") } else { n })
        .collect();
    format!("<function, args: {{{}}}>", args.join(", "))
}

/// For a set `lib.isFunction` takes for a function (its `__functor` applied to it gives a
/// function), its `lib.functionArgs`: `__functionArgs`, or the formals of that function.
fn functor_args(
    ev: &mut Eval,
    v: &Value,
    a: &Attrs,
) -> kith_eval::Result<Option<Vec<(String, bool)>>> {
    let Some(functor) = a.get_str("__functor") else {
        return Ok(None);
    };
    let f = ev.call(functor, v.clone(), kith_eval::Span::NONE)?;
    let f = ev.force(&f)?;
    if !f.is_function() {
        return Ok(None);
    }
    let Some(declared) = a.get_str("__functionArgs") else {
        return Ok(Some(
            f.formals()
                .into_iter()
                .map(|f| (f.name.as_str().to_string(), f.has_default))
                .collect(),
        ));
    };
    let declared = ev.force_attrs(declared)?;
    let mut args = Vec::new();
    for arg in declared.sorted_by_name() {
        let has_default = ev.force_bool(&arg.value)?;
        args.push((arg.name.as_str().to_string(), has_default));
    }
    Ok(Some(args))
}

/// The name `toPretty` shows for a set at level `depth` whose `type` is `"derivation"`
/// (`v.name or "???"`), as `withRecursion` leaves it: the `type` string reads
/// `"<unevaluated>"` within two levels of the limit, and the set is then printed as a set.
fn derivation_name(
    ev: &mut Eval,
    a: &Attrs,
    depth: Option<usize>,
) -> kith_eval::Result<Option<String>> {
    let Some(t) = a.get(kith_eval::sym!("type")) else {
        return Ok(None);
    };
    let readable = |levels: usize| depth.is_none_or(|d| d + levels <= DEPTH_LIMIT);
    if !readable(1) {
        return Ok(None);
    }
    let t = ev.force(t)?;
    if !matches!(&t, Value::String(s) if readable(2) && s.as_bytes() == b"derivation") {
        return Ok(None);
    }
    Ok(Some(match a.get(kith_eval::sym!("name")) {
        None => "???".into(),
        Some(n) => {
            let n = ev.coerce_to_string(n, kith_eval::CoerceOpts::default())?;
            n.encoded().into_owned()
        }
    }))
}

/// A string as `toPretty` (multi-line) prints it at `indent`: one line in double quotes
/// with `\`, `"` and `${` escaped, or several lines as an indented `''` string.
fn pretty_string(s: &str, indent: &str) -> String {
    let lines: Vec<&str> = s.split('\n').collect();
    if lines.len() == 1 {
        let escaped = replace_strings(s, &[("\\", "\\\\"), ("\"", "\\\""), ("${", "\\${")]);
        return format!("\"{escaped}\"");
    }
    let escaped: Vec<String> = lines
        .iter()
        .map(|l| replace_strings(l, &[("${", "''${"), ("''", "'''")]))
        .collect();
    let intro = format!("\n{indent}  ");
    let (last, init) = escaped.split_last().expect("two lines or more");
    let end = if last.is_empty() {
        format!("\n{indent}")
    } else {
        format!("{intro}{last}")
    };
    format!("''{intro}{}{end}''", init.join(&intro))
}

/// `builtins.replaceStrings` with non-empty patterns: at each position the first pattern
/// that matches is replaced and scanning goes on after it; otherwise one character is kept.
fn replace_strings(s: &str, pairs: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    'scan: while let Some(c) = rest.chars().next() {
        for (from, to) in pairs {
            if let Some(after) = rest.strip_prefix(from) {
                out.push_str(to);
                rest = after;
                continue 'scan;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// `lib.strings.escapeNixIdentifier`.
pub fn escape_identifier(s: &str) -> String {
    let plain = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '\'' || c == '-')
        && !matches!(
            s,
            "assert" | "else" | "if" | "in" | "inherit" | "let" | "or" | "rec" | "then" | "with"
        );
    if plain {
        s.to_string()
    } else {
        escape_string(s)
    }
}

/// `lib.strings.escapeNixString`: the string as JSON, every `$` escaped.
pub fn escape_string(s: &str) -> String {
    let mut json = String::new();
    kith_eval::escape_json(&mut json, s);
    json.replace('$', "\\$")
}
