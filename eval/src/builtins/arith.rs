//! Numeric builtins: `add`, `sub`, `mul`, `div`, the bitwise operations, `lessThan`,
//! `ceil` and `floor`.

use super::control::with_ctx;
use crate::error::{fail, Result};
use crate::eval::Eval;
use crate::print::float_to_string_g;
use crate::source::Span;
use crate::value::{PrimOp, Value};
use std::cmp::Ordering;

/// The primops of this topic.
pub(super) static OPS: &[PrimOp] = &[
    PrimOp {
        name: "add",
        arity: 2,
        func: add,
    },
    PrimOp {
        name: "sub",
        arity: 2,
        func: sub,
    },
    PrimOp {
        name: "mul",
        arity: 2,
        func: mul,
    },
    PrimOp {
        name: "div",
        arity: 2,
        func: div,
    },
    PrimOp {
        name: "bitAnd",
        arity: 2,
        func: bit_and,
    },
    PrimOp {
        name: "bitOr",
        arity: 2,
        func: bit_or,
    },
    PrimOp {
        name: "bitXor",
        arity: 2,
        func: bit_xor,
    },
    PrimOp {
        name: "lessThan",
        arity: 2,
        func: less_than,
    },
    PrimOp {
        name: "ceil",
        arity: 1,
        func: ceil,
    },
    PrimOp {
        name: "floor",
        arity: 1,
        func: floor,
    },
];

/// How one of `add`, `sub`, `mul` computes and words its errors.
struct Op {
    /// "addition": used in "while evaluating the first argument of the addition".
    noun: &'static str,
    /// "adding" and "+": used in "integer overflow in adding 1 + 2".
    verb: &'static str,
    sym: &'static str,
    int: fn(i64, i64) -> Option<i64>,
    float: fn(f64, f64) -> f64,
}

const ADD: Op = Op {
    noun: "addition",
    verb: "adding",
    sym: "+",
    int: i64::checked_add,
    float: |a, b| a + b,
};
const SUB: Op = Op {
    noun: "subtraction",
    verb: "subtracting",
    sym: "-",
    int: i64::checked_sub,
    float: |a, b| a - b,
};
const MUL: Op = Op {
    noun: "multiplication",
    verb: "multiplying",
    sym: "*",
    int: i64::checked_mul,
    float: |a, b| a * b,
};

/// `add`, `sub` and `mul`: floats if either operand is a float, else checked integers.
fn binary(ev: &mut Eval, args: &[Value], op: &Op) -> Result<Value> {
    let a = ev.force(&args[0])?;
    let b = ev.force(&args[1])?;
    let first = format!("while evaluating the first argument of the {}", op.noun);
    let second = format!("while evaluating the second argument of the {}", op.noun);
    if matches!(a, Value::Float(_)) || matches!(b, Value::Float(_)) {
        let x = with_ctx(ev.force_float(&a), &first)?;
        let y = with_ctx(ev.force_float(&b), &second)?;
        return Ok(Value::Float((op.float)(x, y)));
    }
    let x = with_ctx(ev.force_int(&a), &first)?;
    let y = with_ctx(ev.force_int(&b), &second)?;
    match (op.int)(x, y) {
        Some(r) => Ok(Value::Int(r)),
        None => fail(format!(
            "integer overflow in {} {x} {} {y}",
            op.verb, op.sym
        )),
    }
}

fn add(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    binary(ev, args, &ADD)
}

fn sub(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    binary(ev, args, &SUB)
}

fn mul(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    binary(ev, args, &MUL)
}

/// `div a b`: checks the divisor first (as a number), then divides as floats or integers.
fn div(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let a = ev.force(&args[0])?;
    let b = ev.force(&args[1])?;
    let first = "while evaluating the first operand of the division";
    let second = "while evaluating the second operand of the division";
    let divisor = with_ctx(ev.force_float(&b), second)?;
    if divisor == 0.0 {
        return fail("division by zero");
    }
    if matches!(a, Value::Float(_)) || matches!(b, Value::Float(_)) {
        let x = with_ctx(ev.force_float(&a), first)?;
        return Ok(Value::Float(x / divisor));
    }
    let x = with_ctx(ev.force_int(&a), first)?;
    let y = with_ctx(ev.force_int(&b), second)?;
    match x.checked_div(y) {
        Some(r) => Ok(Value::Int(r)),
        None => fail(format!("integer overflow in dividing {x} / {y}")),
    }
}

/// Forces both integer arguments of the bitwise builtin `name`.
fn int_pair(ev: &mut Eval, args: &[Value], name: &str) -> Result<(i64, i64)> {
    let first = format!("while evaluating the first argument passed to builtins.{name}");
    let a = with_ctx(ev.force_int(&args[0]), &first)?;
    let second = format!("while evaluating the second argument passed to builtins.{name}");
    let b = with_ctx(ev.force_int(&args[1]), &second)?;
    Ok((a, b))
}

fn bit_and(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let (a, b) = int_pair(ev, args, "bitAnd")?;
    Ok(Value::Int(a & b))
}

fn bit_or(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let (a, b) = int_pair(ev, args, "bitOr")?;
    Ok(Value::Int(a | b))
}

fn bit_xor(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let (a, b) = int_pair(ev, args, "bitXor")?;
    Ok(Value::Int(a ^ b))
}

/// `lessThan a b`: `a < b` on numbers, strings, paths and lists.
fn less_than(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let a = ev.force(&args[0])?;
    let b = ev.force(&args[1])?;
    Ok(Value::Bool(ev.compare(&a, &b)? == Ordering::Less))
}

fn ceil(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    round(ev, args, "ceil", f64::ceil)
}

fn floor(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    round(ev, args, "floor", f64::floor)
}

/// `ceil`/`floor`: the rounded value must fit an integer.
fn round(ev: &mut Eval, args: &[Value], name: &str, f: fn(f64) -> f64) -> Result<Value> {
    let v = ev.force(&args[0])?;
    let what = format!("while evaluating the first argument passed to builtins.{name}");
    let x = with_ctx(ev.force_float(&v), &what)?;
    let r = f(x);
    // -2^63 is exact as a float; the valid range is [-2^63, 2^63). Like Nix, integers go
    // through the float conversion too (large ones lose precision) unless out of range.
    let min = i64::MIN as f64;
    match v {
        _ if r >= min && r < -min => Ok(Value::Int(r as i64)),
        Value::Int(i) => Ok(Value::Int(i)),
        _ => fail(format!(
            "NixFloat argument {} is not in the range of NixInt",
            float_to_string_g(x)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::super::control::testing::{error, eval};

    #[test]
    fn arithmetic() {
        assert_eq!(eval("builtins.add 1 2.5"), "3.5");
        assert_eq!(eval("[ (builtins.sub 1 2) (builtins.mul 3 4) (builtins.div 7 2) (builtins.div (-7) 2) (builtins.div 7.0 2) ]"), "[ -1 12 3 -3 3.5 ]");
        assert_eq!(
            error("builtins.add \"foo\" 1"),
            "expected an integer but found a string: \"foo\""
        );
        assert_eq!(
            error("builtins.mul 1 \"foo\""),
            "expected an integer but found a string: \"foo\""
        );
        assert_eq!(
            error("builtins.div 1 \"foo\""),
            "expected a float but found a string: \"foo\""
        );
        assert_eq!(
            error("builtins.div \"foo\" 1"),
            "expected an integer but found a string: \"foo\""
        );
        assert_eq!(error("builtins.div \"foo\" 0"), "division by zero");
        assert_eq!(error("builtins.div 7 0.0"), "division by zero");
    }

    #[test]
    fn overflow() {
        assert_eq!(
            error("builtins.add 9223372036854775807 1"),
            "integer overflow in adding 9223372036854775807 + 1"
        );
        assert_eq!(
            error("builtins.mul 4294967297 4294967297"),
            "integer overflow in multiplying 4294967297 * 4294967297"
        );
        assert_eq!(
            error("builtins.sub (-9223372036854775807) 2"),
            "integer overflow in subtracting -9223372036854775807 - 2"
        );
        assert_eq!(
            error("builtins.div (-9223372036854775807 - 1) (-1)"),
            "integer overflow in dividing -9223372036854775808 / -1"
        );
    }

    #[test]
    fn bitwise_and_comparison() {
        assert_eq!(
            eval("with builtins; [ (bitAnd 12 10) (bitOr 12 10) (bitXor 12 10) ]"),
            "[ 8 14 6 ]"
        );
        assert_eq!(
            error("builtins.bitAnd 1 2.2"),
            "expected an integer but found a float: 2.2"
        );
        assert_eq!(eval("with builtins; [ (lessThan 1 2.5) (lessThan \"b\" \"a\") (lessThan [ 1 2 ] [ 1 3 ]) ]"), "[ true false true ]");
        assert_eq!(
            error("builtins.lessThan 1 \"foo\""),
            "cannot compare an integer with a string; values are 1 and \"foo\""
        );
    }

    #[test]
    fn rounding() {
        assert_eq!(eval("with builtins; [ (floor 23.5) (ceil 23.5) (floor 23) (ceil 23) (floor (-1.5)) (ceil (-1.5)) ]"), "[ 23 24 23 23 -2 -1 ]");
        assert_eq!(eval("builtins.ceil 9007199254740993"), "9007199254740992");
        assert_eq!(
            eval("builtins.floor 9223372036854775807"),
            "9223372036854775807"
        );
        assert_eq!(
            error("builtins.ceil \"foo\""),
            "expected a float but found a string: \"foo\""
        );
    }
}
