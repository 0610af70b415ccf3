//! Builtins: toml (`fromTOML`).

use crate::error::{ErrorExt, EvalError, Result};
use crate::eval::Eval;
use crate::source::Span;
use crate::symbol::Symbol;
use crate::value::{Attr, Attrs, PrimOp, Value};

/// The primops of this topic.
pub(super) static OPS: &[PrimOp] = &[PrimOp {
    name: "fromTOML",
    arity: 1,
    func: from_toml,
}];

/// `builtins.fromTOML s`: tables become sets, arrays lists; dates and times are rejected.
fn from_toml(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let s = ev.force_str_noctx(&args[0]).context(Span::NONE, || {
        "while evaluating the argument passed to builtins.fromTOML".into()
    })?;
    let table: toml::Table = s.parse().map_err(|e: toml::de::Error| {
        EvalError::new(format!("while parsing TOML: {}", parse_error(&s, &e)))
    })?;
    let v = convert_table(table, ev.options.toml_timestamps)
        .map_err(|m| EvalError::new(format!("while parsing TOML: {m}")))?;
    Ok(v)
}

/// The parse error's text; integer overflow is worded as Nix's TOML library (toml11) does.
fn parse_error(text: &str, e: &toml::de::Error) -> String {
    let overflow =
        e.message().contains("number too large") || e.message().contains("number too small");
    match e.span() {
        Some(r) if overflow && r.start <= text.len() => integer_overflow(text, r.start),
        _ => e.to_string().trim_end().to_string(),
    }
}

/// toml11's message for a decimal integer outside the 64-bit range starting at byte `start`.
fn integer_overflow(text: &str, start: usize) -> String {
    let len = text[start..]
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '+' | '-' | '_')))
        .unwrap_or(text.len() - start);
    let end = start + len;
    let line_start = text[..end].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i);
    let line_no = text[..line_start].matches('\n').count() + 1;
    let col = text[line_start..end].chars().count();
    let pad = " ".repeat(line_no.to_string().len());
    let mut m = String::from(
        "[error] toml::parse_dec_integer: too large integer: current max digits = 2^63\n",
    );
    m += &format!("{pad}--> fromTOML\n");
    m += &format!(" {pad} |\n");
    m += &format!(" {line_no} | {}\n", &text[line_start..line_end]);
    m += &format!(" {pad} | {}^-- must be < 2^63\n", " ".repeat(col));
    m
}

fn convert_table(t: toml::Table, timestamps: bool) -> std::result::Result<Value, String> {
    let mut entries = Vec::with_capacity(t.len());
    for (k, v) in t {
        let name = check_nul(k)?;
        let value = convert(v, timestamps)?;
        entries.push(Attr {
            name: Symbol::new(&name),
            value,
            span: Span::NONE,
        });
    }
    Ok(Value::Attrs(Attrs::from_entries(entries)))
}

fn convert(v: toml::Value, timestamps: bool) -> std::result::Result<Value, String> {
    stacker::maybe_grow(64 * 1024, 1024 * 1024, || match v {
        toml::Value::String(s) => Ok(Value::string_encoded(&check_nul(s)?)),
        toml::Value::Integer(i) => Ok(Value::Int(i)),
        toml::Value::Float(f) => Ok(Value::Float(f)),
        toml::Value::Boolean(b) => Ok(Value::Bool(b)),
        toml::Value::Datetime(d) if timestamps => Ok(timestamp(&d)),
        toml::Value::Datetime(_) => Err("Dates and times are not supported".into()),
        toml::Value::Array(items) => {
            let items: std::result::Result<Vec<Value>, String> =
                items.into_iter().map(|i| convert(i, timestamps)).collect();
            Ok(Value::list(items?))
        }
        toml::Value::Table(t) => convert_table(t, timestamps),
    })
}

/// A TOML date/time under `parse-toml-timestamps`: `{ _type = "timestamp"; value = …; }`,
/// with the value in toml11's normal form (`T` separator, fractions as 3, 6 or 9 digits).
fn timestamp(d: &toml::value::Datetime) -> Value {
    let mut text = String::new();
    if let Some(date) = &d.date {
        text += &format!("{:04}-{:02}-{:02}", date.year, date.month, date.day);
    }
    if let Some(time) = &d.time {
        if d.date.is_some() {
            text.push('T');
        }
        text += &format!("{:02}:{:02}:{:02}", time.hour, time.minute, time.second);
        let ns = time.nanosecond;
        if ns != 0 {
            if ns % 1_000_000 == 0 {
                text += &format!(".{:03}", ns / 1_000_000);
            } else if ns % 1_000 == 0 {
                text += &format!(".{:06}", ns / 1_000);
            } else {
                text += &format!(".{ns:09}");
            }
        }
    }
    match &d.offset {
        Some(toml::value::Offset::Z) => text.push('Z'),
        Some(toml::value::Offset::Custom { minutes }) => {
            let sign = if *minutes < 0 { '-' } else { '+' };
            let m = minutes.unsigned_abs();
            text += &format!("{sign}{:02}:{:02}", m / 60, m % 60);
        }
        None => {}
    }
    Value::Attrs(Attrs::from_entries(vec![
        Attr {
            name: Symbol::new("_type"),
            value: Value::string("timestamp"),
            span: Span::NONE,
        },
        Attr {
            name: Symbol::new("value"),
            value: Value::string(text),
            span: Span::NONE,
        },
    ]))
}

/// Nix strings cannot hold NUL bytes.
fn check_nul(s: String) -> std::result::Result<String, String> {
    if s.contains('\0') {
        return Err(format!(
            "error: input string '{}' cannot be represented as Nix string because it contains null bytes",
            s.replace('\0', "␀")
        ));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use crate::eval::{Eval, EvalOptions};
    use std::path::Path;

    fn eval(expr: &str) -> Result<String, String> {
        let mut ev = Eval::new(EvalOptions::default());
        let v = ev
            .eval_expr(expr, Path::new("/"))
            .map_err(|e| e.message.clone())?;
        crate::print::print_value(&mut ev, &v, true).map_err(|e| e.message.clone())
    }

    #[test]
    fn values() {
        let r =
            eval(r#"builtins.fromTOML "a.b = [1, 2.5, \"x\", {c = true}]\n[[t]]\nx=1\n[[t]]\n""#);
        assert_eq!(
            r.unwrap(),
            r#"{ a = { b = [ 1 2.5 "x" { c = true; } ]; }; t = [ { x = 1; } { } ]; }"#
        );
    }

    #[test]
    fn errors_like_nix() {
        // eval-fail-fromTOML-*.err.exp
        let e = eval(r#"builtins.fromTOML "a = 1979-05-27""#).unwrap_err();
        assert_eq!(e, "while parsing TOML: Dates and times are not supported");
        let e = eval(r#"builtins.fromTOML ''k = "a\u0000b"''"#).unwrap_err();
        assert_eq!(
            e,
            "while parsing TOML: error: input string 'a␀b' cannot be represented as Nix string because it contains null bytes"
        );
        let e = eval(r#"builtins.fromTOML "attr = -9223372036854775809""#).unwrap_err();
        assert_eq!(
            e,
            "while parsing TOML: [error] toml::parse_dec_integer: too large integer: current max digits = 2^63\n --> fromTOML\n   |\n 1 | attr = -9223372036854775809\n   |                            ^-- must be < 2^63\n"
        );
    }
}
