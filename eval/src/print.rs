//! Rendering values as Nix does: `nix-instantiate --eval` output and values in error
//! messages.

use crate::bytestr::quoted_escape;
use crate::error::Result;
use crate::eval::Eval;
use crate::value::Shared;
use crate::value::Value;
use std::collections::HashSet;
use std::fmt::Write;

/// Formats a float as C++'s `ostream << double` does (Nix's value printer): `%g` with six
/// significant digits.
pub fn float_to_string_g(f: f64) -> String {
    if f.is_nan() {
        return if f.is_sign_negative() {
            "-nan".into()
        } else {
            "nan".into()
        };
    }
    if f.is_infinite() {
        return if f < 0.0 { "-inf".into() } else { "inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let precision = 6i32;
    let exp = format!("{:.*e}", (precision - 1) as usize, f);
    let (mantissa, e) = exp.split_once('e').unwrap_or((&exp, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    if e < -4 || e >= precision {
        let m = trim_zeros(mantissa);
        format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
    } else {
        let decimals = (precision - 1 - e).max(0) as usize;
        trim_zeros(&format!("{:.*}", decimals, f)).to_string()
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Formats a float as `toString` does (`std::to_string`: six decimals).
pub fn float_to_string(f: f64) -> String {
    if f.is_nan() {
        return if f.is_sign_negative() {
            "-nan".into()
        } else {
            "nan".into()
        };
    }
    if f.is_infinite() {
        return if f < 0.0 { "-inf".into() } else { "inf".into() };
    }
    format!("{f:.6}")
}

/// Writes `s` as a Nix string literal: quoted, with `"`, `\`, `${`, newlines and tabs escaped.
pub fn escape_string(out: &mut String, s: &str) {
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted_escape(c), c) {
            (Some(e), _) => out.push_str(e),
            (None, '$') if chars.peek() == Some(&'{') => out.push_str("\\$"),
            (None, c) => out.push(c),
        }
    }
    out.push('"');
}

/// Whether `s` can be printed as a bare attribute name.
pub fn is_plain_identifier(s: &str) -> bool {
    let mut cs = s.chars();
    match cs.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    if matches!(
        s,
        "if" | "then" | "else" | "assert" | "with" | "let" | "in" | "rec" | "inherit" | "or"
    ) {
        return false;
    }
    cs.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '\''))
}

pub(crate) fn write_attr_name(out: &mut String, s: &str) {
    if is_plain_identifier(s) {
        out.push_str(s);
    } else {
        escape_string(out, s);
    }
}

/// Writes a scalar (null, Boolean, number, string or path) as Nix prints it; returns false,
/// writing nothing, for other values. All of kith's value printers share it.
pub(crate) fn write_scalar(out: &mut String, v: &Value) -> bool {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => out.push_str(&float_to_string_g(*f)),
        Value::String(s) => escape_string(out, &s.encoded()),
        Value::Path(p) => out.push_str(p),
        _ => return false,
    }
    true
}

/// Prints `v` as `nix-instantiate --eval` does. With `strict`, everything is forced first
/// (as `--strict`); otherwise unevaluated parts print as `<CODE>`.
pub fn print_value(ev: &mut Eval, v: &Value, strict: bool) -> Result<String> {
    let v = if strict {
        ev.force_deep(v)?
    } else {
        ev.force(v)?
    };
    let mut p = Printer {
        out: String::new(),
        seen: HashSet::new(),
        strict,
    };
    p.print(ev, &v, None)?;
    Ok(p.out)
}

struct Printer {
    out: String,
    seen: HashSet<usize>,
    strict: bool,
}

impl Printer {
    /// `slot` identifies the place the value was stored (a thunk), for Nix's repeated-value
    /// detection of small lists, which Nix stores inline in the slot.
    fn print(&mut self, ev: &mut Eval, v: &Value, slot: Option<usize>) -> Result<()> {
        // Not behind a thunk: a lambda here may stand for a thunk Nix has not forced.
        let stored_directly = !matches!(v, Value::Thunk(_));
        let v = match v {
            Value::Thunk(_) => match v.peek() {
                Some(x) => x,
                None if self.strict => ev.force(v)?,
                None => {
                    self.out.push_str("<CODE>");
                    return Ok(());
                }
            },
            v => v.clone(),
        };
        if write_scalar(&mut self.out, &v) {
            return Ok(());
        }
        match &v {
            Value::Attrs(a) => {
                if !self.seen.insert(Shared::as_ptr(a) as usize) {
                    self.out.push_str("«repeated»");
                    return Ok(());
                }
                if a.is_empty() {
                    self.out.push_str("{ }");
                    return Ok(());
                }
                self.out.push_str("{ ");
                for attr in a.sorted_by_name() {
                    write_attr_name(&mut self.out, attr.name.as_str());
                    self.out.push_str(" = ");
                    let slot = thunk_slot(&attr.value);
                    ev.descend(|ev| self.print(ev, &attr.value, slot))?;
                    self.out.push_str("; ");
                }
                self.out.push('}');
            }
            Value::List(l) => {
                let key = if l.len() <= 2 {
                    slot.unwrap_or(usize::MAX - self.seen.len())
                } else {
                    Shared::as_ptr(l) as usize
                };
                if !self.seen.insert(key) {
                    self.out.push_str("«repeated»");
                    return Ok(());
                }
                if l.is_empty() {
                    self.out.push_str("[ ]");
                    return Ok(());
                }
                self.out.push_str("[ ");
                for item in l.iter() {
                    let slot = thunk_slot(item);
                    ev.descend(|ev| self.print(ev, item, slot))?;
                    self.out.push(' ');
                }
                self.out.push(']');
            }
            // A lambda stored where Nix keeps a thunk, and not forced yet: Nix's `<CODE>`.
            Value::Lambda(c) if !c.is_forced() && !self.strict && stored_directly => {
                self.out.push_str("<CODE>")
            }
            Value::Lambda(_) => self.out.push_str("<LAMBDA>"),
            Value::PrimOp(p) if p.args.is_empty() => self.out.push_str("<PRIMOP>"),
            Value::PrimOp(_) => self.out.push_str("<PRIMOP-APP>"),
            _ => self.out.push_str("<CODE>"),
        }
        Ok(())
    }
}

fn thunk_slot(v: &Value) -> Option<usize> {
    match v {
        Value::Thunk(t) => Some(Shared::as_ptr(t) as *const u8 as usize),
        _ => None,
    }
}

/// Limits of values shown in error messages (Nix's `errorPrintOptions`).
const MAX_DEPTH: usize = 10;
const MAX_ATTRS: usize = 10;
const MAX_ITEMS: usize = 10;
const MAX_STRING: usize = 1024;

/// A value as Nix shows it inside an error message: nothing is forced, unevaluated parts
/// show as `«thunk»`, and long values are elided.
pub fn show_for_error(ev: &Eval, v: &Value) -> String {
    let mut s = ErrorPrinter {
        ev,
        out: String::new(),
        attrs: 0,
        items: 0,
    };
    s.show(v, 0);
    s.out
}

struct ErrorPrinter<'a> {
    ev: &'a Eval,
    out: String,
    attrs: usize,
    items: usize,
}

impl ErrorPrinter<'_> {
    fn show(&mut self, v: &Value, depth: usize) {
        let v = match v.peek() {
            Some(v) => v,
            None => {
                self.out.push_str("«thunk»");
                return;
            }
        };
        match &v {
            Value::String(s) => {
                if s.s.len() > MAX_STRING {
                    // Cut at a byte count, as Nix does (even inside a character).
                    let head = crate::bytestr::encode(&s.s[..MAX_STRING]);
                    escape_string(&mut self.out, &head);
                    let _ = write!(self.out, "«{} bytes elided»", s.s.len() - MAX_STRING);
                } else {
                    escape_string(&mut self.out, &s.encoded());
                }
            }
            Value::Attrs(a) => {
                if a.is_empty() {
                    self.out.push_str("{ }");
                    return;
                }
                if depth >= MAX_DEPTH {
                    self.out.push_str("{ … }");
                    return;
                }
                self.out.push_str("{ ");
                let sorted = a.sorted_by_name();
                for (i, attr) in sorted.iter().enumerate() {
                    if self.attrs >= MAX_ATTRS {
                        let n = sorted.len() - i;
                        let _ = write!(
                            self.out,
                            "«{n} attribute{} elided» ",
                            if n == 1 { "" } else { "s" }
                        );
                        break;
                    }
                    write_attr_name(&mut self.out, attr.name.as_str());
                    self.out.push_str(" = ");
                    self.show(&attr.value, depth + 1);
                    self.out.push_str("; ");
                    self.attrs += 1;
                }
                self.out.push('}');
            }
            Value::List(l) => {
                if l.is_empty() {
                    self.out.push_str("[ ]");
                    return;
                }
                if depth >= MAX_DEPTH {
                    self.out.push_str("[ … ]");
                    return;
                }
                self.out.push_str("[ ");
                for (i, item) in l.iter().enumerate() {
                    if self.items >= MAX_ITEMS {
                        let n = l.len() - i;
                        let _ = write!(
                            self.out,
                            "«{n} item{} elided» ",
                            if n == 1 { "" } else { "s" }
                        );
                        break;
                    }
                    self.show(item, depth + 1);
                    self.out.push(' ');
                    self.items += 1;
                }
                self.out.push(']');
            }
            Value::Lambda(c) => {
                let pos = self
                    .ev
                    .sources
                    .describe(c.lambda.span)
                    .map(|(f, l, col)| format!(" @ {f}:{l}:{col}"))
                    .unwrap_or_default();
                match c.lambda.name {
                    Some(n) => {
                        let _ = write!(self.out, "«lambda {n}{pos}»");
                    }
                    None => {
                        let _ = write!(self.out, "«lambda{pos}»");
                    }
                }
            }
            Value::PrimOp(p) if p.args.is_empty() => {
                let _ = write!(self.out, "«primop {}»", p.op.name);
            }
            Value::PrimOp(p) => {
                let _ = write!(self.out, "«partially applied primop {}»", p.op.name);
            }
            other => {
                if !write_scalar(&mut self.out, other) {
                    self.out.push_str("«thunk»");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Eval, EvalOptions};

    /// Non-strict printing, as `nix-instantiate --eval -E EXPR`.
    fn lazy_print(expr: &str) -> String {
        let mut ev = Eval::new(EvalOptions::default());
        let v = ev.eval_expr(expr, std::path::Path::new("/")).unwrap();
        super::print_value(&mut ev, &v, false).unwrap()
    }

    /// A lambda where Nix keeps a thunk prints as `<CODE>` until forced or called, and `[ ]`
    /// is never a thunk (outputs of Nix 2.26).
    #[test]
    fn lambdas_print_as_unevaluated_until_forced() {
        let cases = [
            ("{ f = x: x; }", "{ f = <CODE>; }"),
            ("[ (x: x) 1 ]", "[ <CODE> 1 ]"),
            ("x: x", "<LAMBDA>"),
            (
                "let s = { f = x: x; }; in builtins.seq s.f s",
                "{ f = <LAMBDA>; }",
            ),
            (
                "let g = x: x; in { f = g; h = if true then g else 1; }",
                "{ f = <CODE>; h = <CODE>; }",
            ),
            (
                "let g = x: x; s = { f = g; h = if true then g else 1; }; in builtins.seq s.h s",
                "{ f = <LAMBDA>; h = <LAMBDA>; }",
            ),
            (
                "let f = x: x; in builtins.seq (f 1) { inherit f; }",
                "{ f = <LAMBDA>; }",
            ),
            (
                "builtins.listToAttrs [ { name = \"f\"; value = x: x; } ]",
                "{ f = <CODE>; }",
            ),
            ("map (x: y: y) [ 1 ]", "[ <CODE> ]"),
            // `[ ]` is a constant (Nix 2.26), `{ }` a thunk.
            ("[ [ ] { } ]", "[ [ ] <CODE> ]"),
        ];
        for (expr, nix) in cases {
            assert_eq!(lazy_print(expr), nix, "{expr}");
        }
    }
}
