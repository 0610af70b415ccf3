//! Operators: arithmetic, `+` on strings and paths, equality and ordering.

use super::{CoerceOpts, Eval};
use crate::error::{fail, ErrorExt, EvalError, Result};
use crate::ir::BinOp;
use crate::print::show_for_error as show;
use crate::source::Span;
use crate::symbol::known;
use crate::value::Shared;
use crate::value::{List, NixString, Value};
use std::cmp::Ordering;

/// `a + b` on forced operands, as Nix's string concatenation places errors: a number's
/// at the operand added (`spans`: the operands'), a coercion's in a "while evaluating a
/// path segment" frame there.
pub(crate) fn add(ev: &mut Eval, a: &Value, b: &Value, spans: (Span, Span)) -> Result<Value> {
    let segment = |span: Span| {
        move |e: Box<EvalError>| e.context(span, || "while evaluating a path segment".into())
    };
    match (a, b) {
        (Value::Int(_) | Value::Float(_), _) => arith(ev, BinOp::Add, a, b).at(spans.1),
        (Value::Path(p), _) => {
            let s = ev
                .coerce_to_string(
                    b,
                    CoerceOpts {
                        coerce_more: false,
                        copy_to_store: false,
                    },
                )
                .map_err(segment(spans.1))?;
            if !s.ctx.is_empty() {
                return fail("a string that refers to a store path cannot be appended to a path");
            }
            // Bytes: a path ending in half a character followed by its other half.
            let mut joined = crate::bytestr::decode(p).into_owned();
            joined.extend_from_slice(&s.s);
            let joined = crate::bytestr::encode_owned(joined);
            Ok(Value::path(super::canon_path(&joined)))
        }
        _ => {
            let opts = CoerceOpts {
                coerce_more: false,
                copy_to_store: true,
            };
            let l = ev.coerce_to_string(a, opts).map_err(segment(spans.0))?;
            let r = ev.coerce_to_string(b, opts).map_err(segment(spans.1))?;
            let mut out = NixString::new(Vec::with_capacity(l.s.len() + r.s.len()), l.ctx);
            out.s.extend_from_slice(&l.s);
            out.s.extend_from_slice(&r.s);
            out.ctx.extend(r.ctx);
            Ok(Value::String(Shared::new(out)))
        }
    }
}

/// Arithmetic `+ - * /` on numbers, with Nix's overflow and division rules. Operands
/// of the wrong type fail as Nix's `sub`, `mul` and `div` builtins check them: both as
/// floats when either is one, else as integers, a divisor first, in a frame naming the
/// operand.
pub(crate) fn arith(ev: &mut Eval, op: BinOp, a: &Value, b: &Value) -> Result<Value> {
    let a = ev.force(a)?;
    let b = ev.force(b)?;
    if op != BinOp::Add {
        check_operands(ev, op, &a, &b)?;
    }
    match (&a, &b) {
        (Value::Int(x), Value::Int(y)) => {
            let (x, y) = (*x, *y);
            let (r, verb, sym) = match op {
                BinOp::Add => (x.checked_add(y), "adding", "+"),
                BinOp::Sub => (x.checked_sub(y), "subtracting", "-"),
                BinOp::Mul => (x.checked_mul(y), "multiplying", "*"),
                _ => {
                    if y == 0 {
                        return fail("division by zero");
                    }
                    (x.checked_div(y), "dividing", "/")
                }
            };
            match r {
                Some(r) => Ok(Value::Int(r)),
                None => fail(format!("integer overflow in {verb} {x} {sym} {y}")),
            }
        }
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
            let x = as_f64(&a);
            let y = as_f64(&b);
            Ok(Value::Float(match op {
                BinOp::Add => x + y,
                BinOp::Sub => x - y,
                BinOp::Mul => x * y,
                _ => {
                    if y == 0.0 {
                        return fail("division by zero");
                    }
                    x / y
                }
            }))
        }
        // Only `+` comes here with an operand that is no number (`check_operands` took the
        // others), and only with a number first (`add` concatenates the rest as strings).
        (_, other) => fail(format!(
            "cannot add {} to {}",
            other.type_desc(),
            a.type_desc()
        )),
    }
}

/// The type errors of the `sub`, `mul` and `div` builtins, in their order.
fn check_operands(ev: &mut Eval, op: BinOp, a: &Value, b: &Value) -> Result<()> {
    let number = |v: &Value| matches!(v, Value::Int(_) | Value::Float(_));
    if number(a) && number(b) {
        return Ok(());
    }
    let (what, name) = match op {
        BinOp::Sub => ("argument", "subtraction"),
        BinOp::Mul => ("argument", "multiplication"),
        _ => ("operand", "division"),
    };
    let frame = |e: Box<EvalError>, which: &'static str| {
        e.context(Span::NONE, || {
            format!("while evaluating the {which} {what} of the {name}")
        })
    };
    let floats = matches!(a, Value::Float(_)) || matches!(b, Value::Float(_));
    let expect = |ev: &mut Eval, v: &Value, float: bool| -> Result<()> {
        match v {
            Value::Int(_) => Ok(()),
            Value::Float(_) if float => Ok(()),
            other => Err(ev.type_error(if float { "a float" } else { "an integer" }, other)),
        }
    };
    if op == BinOp::Div {
        // Nix reads the divisor as a float before anything else.
        expect(ev, b, true).map_err(|e| frame(e, "second"))?;
    }
    expect(ev, a, floats).map_err(|e| frame(e, "first"))?;
    expect(ev, b, floats).map_err(|e| frame(e, "second"))
}

fn as_f64(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        _ => 0.0,
    }
}

/// Nix's `==`.
pub(crate) fn equal(ev: &mut Eval, a: &Value, b: &Value) -> Result<bool> {
    let a = ev.force(a)?;
    let b = ev.force(b)?;
    // The common scalar cases, without `diff`'s explanation machinery.
    match (&a, &b) {
        (Value::Null, Value::Null) => return Ok(true),
        (Value::Null, _) | (_, Value::Null) => return Ok(false),
        (Value::Int(x), Value::Int(y)) => return Ok(x == y),
        (Value::Bool(x), Value::Bool(y)) => return Ok(x == y),
        (Value::String(x), Value::String(y)) => return Ok(x.s == y.s),
        _ => {}
    }
    Ok(diff(ev, &a, &b, false)?.is_none())
}

/// Why `a == b` is false, worded as Nix's assertion messages, or `None` when equal.
pub(crate) fn explain_inequality(ev: &mut Eval, a: &Value, b: &Value) -> Result<Option<String>> {
    diff(ev, a, b, true)
}

fn same_object(a: &Value, b: &Value) -> bool {
    match (a.ptr_id(), b.ptr_id()) {
        (Some(x), Some(y)) => x == y && std::mem::discriminant(a) == std::mem::discriminant(b),
        _ => false,
    }
}

fn described(ev: &Eval, v: &Value) -> String {
    let t = v.type_desc();
    format!("{t} of value '{}'", show(ev, v))
}

/// `None` when equal; otherwise `Some(reason)` (the reason is empty unless `explain`).
fn diff(ev: &mut Eval, a: &Value, b: &Value, explain: bool) -> Result<Option<String>> {
    let a = ev.force(a)?;
    let b = ev.force(b)?;
    // The reason is only formatted when asked for: `==` on unequal values must not print them.
    macro_rules! why {
        ($($fmt:tt)*) => {
            Ok(Some(if explain { format!($($fmt)*) } else { String::new() }))
        };
    }
    match (&a, &b) {
        (Value::Int(x), Value::Int(y)) => {
            if x == y {
                Ok(None)
            } else {
                why!("an integer with value '{x}' is not equal to an integer with value '{y}'")
            }
        }
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
            if as_f64(&a) == as_f64(&b) {
                Ok(None)
            } else {
                why!(
                    "{} with value '{}' is not equal to {} with value '{}'",
                    a.type_desc(),
                    show(ev, &a),
                    b.type_desc(),
                    show(ev, &b)
                )
            }
        }
        (Value::String(x), Value::String(y)) => {
            if x.s == y.s {
                Ok(None)
            } else {
                why!(
                    "string '{}' is not equal to string '{}'",
                    show(ev, &a),
                    show(ev, &b)
                )
            }
        }
        (Value::Path(x), Value::Path(y)) => {
            if x == y {
                Ok(None)
            } else {
                why!("path '{x}' is not equal to path '{y}'")
            }
        }
        (Value::Null, Value::Null) => Ok(None),
        (Value::Bool(x), Value::Bool(y)) => {
            if x == y {
                Ok(None)
            } else {
                why!("boolean '{x}' is not equal to boolean '{y}'")
            }
        }
        (Value::List(x), Value::List(y)) => {
            if Shared::ptr_eq(x, y) {
                return Ok(None);
            }
            if x.len() != y.len() {
                return why!(
                    "list of size '{}' is not equal to list of size '{}', left hand side is '{}', right hand side is '{}'",
                    x.len(),
                    y.len(),
                    show(ev, &a),
                    show(ev, &b)
                );
            }
            for (p, q) in x.iter().zip(y.iter()) {
                if same_object(p, q) {
                    continue;
                }
                if let Some(r) = ev.descend(|ev| diff(ev, p, q, explain))? {
                    return Ok(Some(r));
                }
            }
            Ok(None)
        }
        (Value::Attrs(x), Value::Attrs(y)) => {
            if Shared::ptr_eq(x, y) {
                return Ok(None);
            }
            if is_derivation(ev, x)? && is_derivation(ev, y)? {
                if let (Some(p), Some(q)) = (x.get(known::out_path()), y.get(known::out_path())) {
                    let (p, q) = (p.clone(), q.clone());
                    return ev.descend(|ev| diff(ev, &p, &q, explain));
                }
            }
            if x.len() != y.len() || x.iter().zip(y.iter()).any(|(p, q)| p.name != q.name) {
                return why!(
                    "attribute names of attribute set '{}' differs from attribute set '{}'",
                    show(ev, &a),
                    show(ev, &b)
                );
            }
            for (p, q) in x.sorted_by_name().into_iter().zip(y.sorted_by_name()) {
                if same_object(&p.value, &q.value) {
                    continue;
                }
                if let Some(r) = ev.descend(|ev| diff(ev, &p.value, &q.value, explain))? {
                    return Ok(Some(r));
                }
            }
            Ok(None)
        }
        (Value::Lambda(_) | Value::PrimOp(_), Value::Lambda(_) | Value::PrimOp(_)) => {
            why!("distinct functions and immediate comparisons of identical functions compare as unequal")
        }
        _ => why!(
            "{} is not equal to {}",
            described(ev, &a),
            described(ev, &b)
        ),
    }
}

fn is_derivation(ev: &mut Eval, a: &crate::value::Attrs) -> Result<bool> {
    match a.get(known::type_()) {
        Some(t) => {
            let t = t.clone();
            Ok(matches!(ev.force(&t)?, Value::String(s) if s.s == b"derivation"))
        }
        None => Ok(false),
    }
}

/// Ordering for `<` and `builtins.lessThan`: numbers, strings, paths, lists (lexicographic).
pub(crate) fn compare(ev: &mut Eval, a: &Value, b: &Value) -> Result<Ordering> {
    let a = ev.force(a)?;
    let b = ev.force(b)?;
    match (&a, &b) {
        (Value::List(x), Value::List(y)) => match compare_lists(ev, x, y)? {
            ListOrder::Equal => Ok(Ordering::Equal),
            ListOrder::Decided(o) => Ok(o),
        },
        _ => compare_forced(ev, &a, &b),
    }
}

/// How two lists compare: equal (`==`), or ordered by their first unequal element.
enum ListOrder {
    Equal,
    /// By the first unequal elements, whose order may still be `Equal` (`NaN`s).
    Decided(Ordering),
}

/// Compares two lists as Nix does (for each element, `==` first, then the order of the
/// first unequal pair), in one pass: Nix compares the elements that are lists again after
/// comparing them for equality, which takes quadratic time on nested lists. Here two lists
/// are compared by this same function, which tells equal from ordered at once.
fn compare_lists(ev: &mut Eval, x: &List, y: &List) -> Result<ListOrder> {
    for (p, q) in x.iter().zip(y.iter()) {
        let p = ev.force(p)?;
        let q = ev.force(q)?;
        if let (Value::List(p), Value::List(q)) = (&p, &q) {
            if Shared::ptr_eq(p, q) {
                continue;
            }
            match ev
                .descend(|ev| compare_lists(ev, p, q))
                .map_err(comparing_elements)?
            {
                ListOrder::Equal => continue,
                decided => return Ok(decided),
            }
        }
        // Nix checks equality first, then orders the first differing element.
        if !ev.descend(|ev| equal(ev, &p, &q))? {
            let order = compare_forced(ev, &p, &q).map_err(comparing_elements)?;
            return Ok(ListOrder::Decided(order));
        }
    }
    Ok(match x.len().cmp(&y.len()) {
        Ordering::Equal => ListOrder::Equal,
        o => ListOrder::Decided(o),
    })
}

/// The frame Nix gives an error ordering two elements of lists.
fn comparing_elements(e: Box<EvalError>) -> Box<EvalError> {
    e.context(Span::NONE, || "while comparing two list elements".into())
}

/// [`compare`] of two values already forced.
fn compare_forced(ev: &mut Eval, a: &Value, b: &Value) -> Result<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(x.cmp(y)),
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
            Ok(as_f64(a).partial_cmp(&as_f64(b)).unwrap_or(Ordering::Equal))
        }
        (Value::String(x), Value::String(y)) => Ok(x.s.cmp(&y.s)),
        (Value::Path(x), Value::Path(y)) => Ok(crate::bytestr::cmp(x, y)),
        (Value::List(_), Value::List(_)) => compare(ev, a, b),
        _ => {
            if std::mem::discriminant(a) == std::mem::discriminant(b) {
                Err(EvalError::new(format!(
                    "cannot compare {} with {}; values of that type are incomparable (values are {} and {})",
                    a.type_desc(),
                    b.type_desc(),
                    show(ev, a),
                    show(ev, b)
                )))
            } else {
                Err(EvalError::new(format!(
                    "cannot compare {} with {}; values are {} and {}",
                    a.type_desc(),
                    b.type_desc(),
                    show(ev, a),
                    show(ev, b)
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Operators' errors render as Nix 2.26 renders them (its stderr for `-E EXPR`):
    /// `- * / <` in their builtin's frame without a position of their own, a type error
    /// naming the operand, `+` at the operand added.
    #[test]
    fn operator_errors_render_like_nix() {
        let cases: &[(&str, &str)] = &[
            (
                r#"1 - "a""#,
                r#"error:
       … while calling the 'sub' builtin
         at «string»:1:3:
            1| 1 - "a"
             |   ^

       … while evaluating the second argument of the subtraction

       error: expected an integer but found a string: "a"
"#,
            ),
            (
                r#"1 / 0"#,
                r#"error:
       … while calling the 'div' builtin
         at «string»:1:3:
            1| 1 / 0
             |   ^

       error: division by zero
"#,
            ),
            (
                r#""a" / 1"#,
                r#"error:
       … while calling the 'div' builtin
         at «string»:1:5:
            1| "a" / 1
             |     ^

       … while evaluating the first operand of the division

       error: expected an integer but found a string: "a"
"#,
            ),
            (
                r#"let x = "a"; in x + 1"#,
                r#"error:
       … while evaluating a path segment
         at «string»:1:21:
            1| let x = "a"; in x + 1
             |                     ^

       error: cannot coerce an integer to a string: 1
"#,
            ),
            (
                r#"1.5 + "a""#,
                r#"error: cannot add a string to a float
       at «string»:1:7:
            1| 1.5 + "a"
             |       ^
"#,
            ),
            (
                r#"9223372036854775807 * 2"#,
                r#"error:
       … while calling the 'mul' builtin
         at «string»:1:21:
            1| 9223372036854775807 * 2
             |                     ^

       error: integer overflow in multiplying 9223372036854775807 * 2
"#,
            ),
        ];
        for (expr, want) in cases {
            let mut ev = Eval::new(crate::eval::EvalOptions::default());
            let e = ev.eval_expr(expr, std::path::Path::new("/")).unwrap_err();
            assert_eq!(e.render(&ev.sources), *want, "{expr}");
        }
    }
}
