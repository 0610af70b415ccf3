//! `lib.generators.toPretty` (multi-line) and `showDefs`, for the module system's error
//! messages.

use super::Def;
use kith_eval::{Eval, Value};

/// How nixpkgs' `showDefs` lists definitions: `\n- In `file': value` each (the value
/// pretty-printed, at most 5 lines; omitted if printing it fails).
pub fn show_defs(ev: &mut Eval, defs: &[Def]) -> String {
    let mut out = String::new();
    for d in defs {
        out.push_str(&format!("\n- In `{}'", d.file));
        if let Ok(p) = to_pretty(ev, &d.value, 0) {
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
    }
    out
}

/// `lib.strings.escapeNixIdentifier`.
pub fn escape_identifier(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
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

/// A Nix string literal (`lib.strings.escapeNixString`).
pub fn escape_string(s: &str) -> String {
    let mut out = String::from("\"");
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' if chars.peek() == Some(&'{') => out.push_str("\\$"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `lib.generators.toPretty { }` (multi-line), as far as definition values go.
pub fn to_pretty(ev: &mut Eval, v: &Value, indent: usize) -> kith_eval::Result<String> {
    let v = ev.force(v)?;
    let pad = "  ".repeat(indent + 1);
    let end = "  ".repeat(indent);
    Ok(match &v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(_) => kith_eval::print_value(ev, &v, false)?,
        Value::String(s) => {
            let s = s.encoded().into_owned();
            if s.contains('\n') {
                let lines: Vec<String> = s
                    .split('\n')
                    .map(|l| l.replace("''", "'''").replace("${", "''${"))
                    .collect();
                format!("''\n{pad}{}\n{end}''", lines.join(&format!("\n{pad}")))
            } else {
                escape_string(&s)
            }
        }
        Value::Path(p) => p.to_string(),
        Value::List(l) => {
            if l.is_empty() {
                "[ ]".into()
            } else {
                let mut parts = Vec::new();
                for x in l.iter() {
                    parts.push(to_pretty(ev, x, indent + 1)?);
                }
                format!("[\n{pad}{}\n{end}]", parts.join(&format!("\n{pad}")))
            }
        }
        Value::Attrs(a) => {
            if let Some(t) = a.get(kith_eval::sym!("type")) {
                let t = ev.force(t)?;
                if matches!(&t, Value::String(s) if s.as_bytes() == b"derivation") {
                    return Ok("<derivation>".into());
                }
            }
            if a.is_empty() {
                "{ }".into()
            } else {
                let mut parts = Vec::new();
                for attr in a.sorted_by_name() {
                    let val = to_pretty(ev, &attr.value, indent + 1)?;
                    parts.push(format!(
                        "{} = {val};",
                        escape_identifier(attr.name.as_str())
                    ));
                }
                format!("{{\n{pad}{}\n{end}}}", parts.join(&format!("\n{pad}")))
            }
        }
        Value::Lambda(_) | Value::PrimOp(_) => "<function>".into(),
        Value::Thunk(_) => unreachable!("forced"),
    })
}
