//! Builtins that inspect a value's type: `typeOf` and the `is*` predicates.

use crate::error::Result;
use crate::eval::Eval;
use crate::source::Span;
use crate::value::{PrimOp, Value};

/// The primops of this topic.
pub(super) static OPS: &[PrimOp] = &[
    PrimOp {
        name: "typeOf",
        arity: 1,
        func: type_of,
    },
    PrimOp {
        name: "isAttrs",
        arity: 1,
        func: is_attrs,
    },
    PrimOp {
        name: "isBool",
        arity: 1,
        func: is_bool,
    },
    PrimOp {
        name: "isFloat",
        arity: 1,
        func: is_float,
    },
    PrimOp {
        name: "isFunction",
        arity: 1,
        func: is_function,
    },
    PrimOp {
        name: "isInt",
        arity: 1,
        func: is_int,
    },
    PrimOp {
        name: "isList",
        arity: 1,
        func: is_list,
    },
    PrimOp {
        name: "isNull",
        arity: 1,
        func: is_null,
    },
    PrimOp {
        name: "isPath",
        arity: 1,
        func: is_path,
    },
    PrimOp {
        name: "isString",
        arity: 1,
        func: is_string,
    },
];

/// `typeOf v`: `"int"`, `"set"`, `"lambda"`, ….
fn type_of(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    let v = ev.force(&args[0])?;
    Ok(Value::string(v.type_of()))
}

/// Forces the argument and tests it with `pred`.
fn test(ev: &mut Eval, args: &[Value], pred: fn(&Value) -> bool) -> Result<Value> {
    let v = ev.force(&args[0])?;
    Ok(Value::Bool(pred(&v)))
}

fn is_attrs(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    test(ev, args, |v| matches!(v, Value::Attrs(_)))
}

fn is_bool(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    test(ev, args, |v| matches!(v, Value::Bool(_)))
}

fn is_float(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    test(ev, args, |v| matches!(v, Value::Float(_)))
}

/// `isFunction`: lambdas and builtins; sets with `__functor` are not functions here.
fn is_function(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    test(ev, args, Value::is_function)
}

fn is_int(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    test(ev, args, |v| matches!(v, Value::Int(_)))
}

fn is_list(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    test(ev, args, |v| matches!(v, Value::List(_)))
}

fn is_null(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    test(ev, args, |v| matches!(v, Value::Null))
}

fn is_path(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    test(ev, args, |v| matches!(v, Value::Path(_)))
}

fn is_string(ev: &mut Eval, args: &[Value], _span: Span) -> Result<Value> {
    test(ev, args, |v| matches!(v, Value::String(_)))
}

#[cfg(test)]
mod tests {
    use super::super::control::testing::eval;

    #[test]
    fn predicates() {
        // From the Nix test suite (eval-okay-types).
        assert_eq!(
            eval("with builtins; [ (isNull null) (isNull (x: x)) (isFunction (x: x)) (isFunction \"fnord\") (isString (\"foo\" + \"bar\")) (isString [ \"x\" ]) (isInt (1 + 2)) (isInt { x = 123; }) (isFloat (1 / 2.0)) (isBool (true && false)) (isBool null) (isPath /nix/store) (isAttrs { x = 123; }) (isAttrs null) ]"),
            "[ true false true false true false true false true true false true true false ]"
        );
        assert_eq!(
            eval("builtins.isFunction { __functor = s: x: x; }"),
            "false"
        );
        assert_eq!(eval("builtins.isFunction builtins.map"), "true");
    }

    #[test]
    fn type_of() {
        assert_eq!(
            eval("with builtins; [ (typeOf (3 * 4)) (typeOf true) (typeOf \"xyzzy\") (typeOf null) (typeOf { x = 456; }) (typeOf [ 1 2 3 ]) (typeOf (x: x)) (typeOf ((x: y: x) 1)) (typeOf map) (typeOf (map (x: x))) (typeOf 1.5) (typeOf ./.) ]"),
            "[ \"int\" \"bool\" \"string\" \"null\" \"set\" \"list\" \"lambda\" \"lambda\" \"lambda\" \"lambda\" \"float\" \"path\" ]"
        );
    }
}
