//! Builtins: json (`toJSON`, `fromJSON`).

mod parse;

use crate::error::{ErrorExt, EvalError, Result};
use crate::eval::{CoerceOpts, Eval};
use crate::print::show_for_error;
use crate::source::Span;
use crate::symbol::known;
use crate::value::{Attrs, Context, PrimOp, Value};
use std::fmt::Write;

/// The primops of this topic.
pub(super) static OPS: &[PrimOp] = &[
    PrimOp {
        name: "toJSON",
        arity: 1,
        func: to_json,
    },
    PrimOp {
        name: "fromJSON",
        arity: 1,
        func: from_json,
    },
];

/// `builtins.toJSON v`: the result keeps the context of every string inside `v`.
fn to_json(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let (out, ctx) = JsonWriter::write(ev, &args[0])?;
    Ok(Value::string_ctx(out, ctx))
}

/// `v` as JSON text, as `nix-instantiate --eval --json` prints it.
/// The text is [`crate::bytestr`]-encoded, like all printed output.
pub fn to_json_string(ev: &mut Eval, v: &Value) -> Result<String> {
    let text = JsonWriter::write(ev, v)?.0;
    Ok(crate::bytestr::encode_owned(text.into_bytes()))
}

/// `builtins.fromJSON s`.
fn from_json(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let s = ev.force_str_noctx(&args[0]).context(Span::NONE, || {
        "while evaluating the first argument passed to builtins.fromJSON".into()
    })?;
    parse::parse(&s).map_err(|e| match e {
        // nlohmann's errors carry no position, nor does the frame Nix adds to them.
        parse::ParseError::Syntax(m) => {
            EvalError::new(m).context(Span::NONE, || "while decoding a JSON string".into())
        }
        parse::ParseError::Value(m) => EvalError::new(m),
    })
}

struct JsonWriter {
    out: String,
    ctx: Context,
    /// The first string that is not UTF-8, as nlohmann::json reports it: Nix builds the
    /// whole JSON value (forcing everything) before serialising it, so evaluation errors
    /// come first.
    not_utf8: Option<String>,
}

impl JsonWriter {
    /// `v` as JSON text and the context of its strings.
    fn write(ev: &mut Eval, v: &Value) -> Result<(String, Context)> {
        let mut w = JsonWriter {
            out: String::new(),
            ctx: Context::new(),
            not_utf8: None,
        };
        w.value(ev, v)?;
        match w.not_utf8 {
            None => Ok((w.out, w.ctx)),
            Some(why) => Err(EvalError::new(format!(
                "JSON serialization error: [json.exception.type_error.316] {why}"
            ))),
        }
    }

    /// Writes a JSON string from a Nix string's bytes.
    fn string(&mut self, bytes: &[u8]) {
        match std::str::from_utf8(bytes) {
            Ok(s) => escape_json(&mut self.out, s),
            Err(e) => {
                self.not_utf8.get_or_insert_with(|| not_utf8(bytes, &e));
                escape_json(&mut self.out, &String::from_utf8_lossy(bytes));
            }
        }
    }
}

/// nlohmann::json's words for a string that is not UTF-8: the index of the byte at which
/// its decoder gives up (a bad lead byte, or the first bad byte after a good one), or the
/// last byte of a string that ends inside a character.
fn not_utf8(bytes: &[u8], e: &std::str::Utf8Error) -> String {
    let start = e.valid_up_to();
    match e.error_len() {
        None => format!(
            "incomplete UTF-8 string; last byte: 0x{:02X}",
            bytes.last().copied().unwrap_or(0)
        ),
        Some(n) => {
            let good_lead = (0xC2..=0xF4).contains(&bytes[start]);
            let at = if good_lead { start + n } else { start };
            let byte = bytes.get(at).copied().unwrap_or(0);
            format!("invalid UTF-8 byte at index {at}: 0x{byte:02X}")
        }
    }
}

impl JsonWriter {
    fn value(&mut self, ev: &mut Eval, v: &Value) -> Result<()> {
        // A call level per value, as in Nix (`eval-fail-toJSON-stack-overflow`).
        ev.nested(|ev| {
            let v = ev.force(v)?;
            match &v {
                Value::Null => self.out.push_str("null"),
                Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
                Value::Int(i) => {
                    let _ = write!(self.out, "{i}");
                }
                Value::Float(f) => self.out.push_str(&json_float(*f)),
                Value::String(s) => {
                    self.string(&s.s);
                    self.ctx.extend(s.ctx.iter().cloned());
                }
                Value::Path(_) => {
                    let opts = CoerceOpts {
                        coerce_more: false,
                        copy_to_store: true,
                    };
                    let s = ev.coerce_to_string(&v, opts)?;
                    self.string(&s.s);
                    self.ctx.extend(s.ctx);
                }
                Value::List(items) => self.list(ev, items)?,
                Value::Attrs(a) => self.attrs(ev, &v, a)?,
                Value::Lambda(_) => {
                    return Err(EvalError::new("cannot convert a function to JSON"))
                }
                Value::PrimOp(p) => {
                    let what = if p.args.is_empty() {
                        "the"
                    } else {
                        "the partially applied"
                    };
                    let msg = format!(
                        "cannot convert {what} built-in function '{}' to JSON",
                        p.op.name
                    );
                    return Err(EvalError::new(msg));
                }
                Value::Thunk(_) => return Err(EvalError::new("cannot convert a thunk to JSON")),
            }
            Ok(())
        })
    }

    fn list(&mut self, ev: &mut Eval, items: &[Value]) -> Result<()> {
        self.out.push('[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.value(ev, item).map_err(|e| {
                e.context(Span::NONE, || {
                    format!("while evaluating list element at index {i}")
                })
            })?;
        }
        self.out.push(']');
        Ok(())
    }

    fn attrs(&mut self, ev: &mut Eval, v: &Value, a: &Attrs) -> Result<()> {
        if let Some(attr) = a.get_attr(known::to_string()) {
            let (f, span) = (attr.value.clone(), attr.span);
            return self
                .write_to_string_result(ev, &f, v, span)
                .context(span, || {
                    "while using the result of the `__toString` attribute".into()
                });
        }
        if let Some(attr) = a.get_attr(known::out_path()) {
            let span = attr.span;
            return self
                .value(ev, &attr.value)
                .context(span, || "while using the `outPath` attribute".into());
        }
        self.out.push('{');
        for (i, attr) in a.sorted_by_name().into_iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.string(&attr.name.bytes());
            self.out.push(':');
            self.value(ev, &attr.value).context(attr.span, || {
                format!("while evaluating attribute '{}'", attr.name.as_str())
            })?;
        }
        self.out.push('}');
        Ok(())
    }

    /// Calls `__toString` and writes its result, which must be a string (or something
    /// that coerces to one without being a plain set).
    fn write_to_string_result(
        &mut self,
        ev: &mut Eval,
        f: &Value,
        v: &Value,
        span: Span,
    ) -> Result<()> {
        let r = ev.call(f, v.clone(), span)?;
        let r = ev.force(&r)?;
        let s = match &r {
            Value::String(s) => (**s).clone(),
            Value::Path(p) => crate::value::NixString::plain(crate::bytestr::decode(p)),
            Value::Attrs(inner)
                if inner.contains(known::to_string()) || inner.contains(known::out_path()) =>
            {
                ev.coerce_to_string(&r, CoerceOpts::default())?
            }
            Value::Attrs(_) => {
                let msg = format!(
                    "`__toString` must return a string, but got {}: {}",
                    r.type_desc(),
                    show_for_error(ev, &r)
                );
                return Err(EvalError::new(msg).at(span));
            }
            other => {
                let msg = format!(
                    "`__toString` should return a string, but got {}: {}",
                    other.type_desc(),
                    show_for_error(ev, other)
                );
                return Err(EvalError::new(msg).at(span));
            }
        };
        self.string(&s.s);
        self.ctx.extend(s.ctx);
        Ok(())
    }
}

/// Writes `s` as a JSON string literal as Nix does: `"`, `\` and control characters are
/// escaped (`\n`, `\r`, `\t`, otherwise `\u00XX`); everything else is kept as is.
pub fn escape_json(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match (crate::bytestr::quoted_escape(c), c) {
            (Some(e), _) => out.push_str(e),
            (None, c) if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            (None, c) => out.push(c),
        }
    }
    out.push('"');
}

/// Formats a float as nlohmann::json does: the shortest representation that reads back
/// identically, `.0` for integral values, exponent notation outside `1e-5 .. 1e15`, and
/// `null` for infinities and NaN.
pub fn json_float(f: f64) -> String {
    if !f.is_finite() {
        return "null".into();
    }
    let sign = if f.is_sign_negative() { "-" } else { "" };
    if f == 0.0 {
        return format!("{sign}0.0");
    }
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let exp: i32 = exp.parse().unwrap_or(0);
    let k = digits.len() as i32;
    let n = exp + 1;
    let body = if k <= n && n <= 15 {
        format!("{digits}{}.0", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 15 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -4 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let e = n - 1;
        let esign = if e < 0 { '-' } else { '+' };
        let m = if k == 1 {
            digits.clone()
        } else {
            format!("{}.{}", &digits[..1], &digits[1..])
        };
        format!("{m}e{esign}{:02}", e.abs())
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_like_nix() {
        // Nix 2.26: builtins.toJSON [1.0 0.1 1.0e22 1.0e15 1.0e16 123456789012345.0
        //   1234567890123456.0 0.0001 0.00001 1.0e-7 1.5e300 (1.0e308*10) 3.0e-5 100.0
        //   (0.1+0.2) 12345678901234567890.0]
        let xs = [
            1.0,
            0.1,
            1.0e22,
            1.0e15,
            1.0e16,
            123456789012345.0,
            1234567890123456.0,
            0.0001,
            0.00001,
            1.0e-7,
            1.5e300,
            f64::INFINITY,
            3.0e-5,
            100.0,
            0.1 + 0.2,
            12345678901234567890.0,
        ];
        let got: Vec<String> = xs.iter().map(|x| json_float(*x)).collect();
        assert_eq!(
            got.join(","),
            "1.0,0.1,1e+22,1e+15,1e+16,123456789012345.0,1.234567890123456e+15,0.0001,1e-05,\
             1e-07,1.5e+300,null,3e-05,100.0,0.30000000000000004,1.2345678901234567e+19"
        );
        assert_eq!(json_float(0.0), "0.0");
    }

    #[test]
    fn escapes_like_nix() {
        // Nix 2.26: toJSON of "a\u0001\u001f\u007f/é\t\b\f\r\u2028"
        let mut out = String::new();
        escape_json(&mut out, "a\u{1}\u{1f}\u{7f}/é\t\u{8}\u{c}\r\u{2028}");
        assert_eq!(
            out,
            "\"a\\u0001\\u001f\u{7f}/é\\t\\u0008\\u000c\\r\u{2028}\""
        );
    }

    /// A decoding error renders as Nix 2.26 renders it: the call's frame, a frame without
    /// a position, and nlohmann's message without one; an integer out of range has no
    /// decoding frame.
    #[test]
    fn decoding_errors_render_like_nix() {
        let render = |expr: &str| {
            let mut ev = Eval::new(crate::eval::EvalOptions::default());
            let e = ev.eval_expr(expr, std::path::Path::new("/")).unwrap_err();
            e.render(&ev.sources)
        };
        assert_eq!(
            render(r#"builtins.fromJSON "[1,]""#),
            "error:\n       … while calling the 'fromJSON' builtin\n         at «string»:1:1:\n            1| builtins.fromJSON \"[1,]\"\n             | ^\n\n       … while decoding a JSON string\n\n       error: [json.exception.parse_error.101] parse error at line 1, column 4: syntax error while parsing value - unexpected ']'; expected '[', '{', or a literal\n"
        );
        assert_eq!(
            render(r#"builtins.fromJSON "9223372036854775808""#),
            "error:\n       … while calling the 'fromJSON' builtin\n         at «string»:1:1:\n            1| builtins.fromJSON \"9223372036854775808\"\n             | ^\n\n       error: unsigned json number 9223372036854775808 outside of Nix integer range\n"
        );
    }
}
