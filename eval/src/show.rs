//! Nix's expression printer (`Expr::show`): an expression as Nix's messages write it
//! ("assertion '…' failed"). Every compound expression is parenthesised, and operators
//! appear as Nix's parser desugars them: `a - b` is `(__sub a b)`, `a > b` is
//! `(__lessThan b a)`, `-x` is `(__sub 0 x)`, `a + b` and interpolations are joined with
//! ` + `; sets list their bindings sorted by name, inherited ones first.

use crate::ir::{AttrName, AttrsDef, BinOp, Binding, BindingValue, Expr, Lambda, Param};
use crate::print::{escape_string, write_scalar};
use crate::value::Value;

/// `e` as Nix's `show` writes it.
pub(crate) fn show(e: &Expr) -> String {
    let mut out = String::new();
    write(&mut out, e);
    out
}

fn write(out: &mut String, e: &Expr) {
    match e {
        Expr::Const(v, _) => constant(out, v),
        Expr::Var { name, .. } | Expr::Global(name, _) | Expr::WithVar(name, _) => {
            out.push_str(name.as_str())
        }
        Expr::Attrs(a) => {
            if a.recursive {
                out.push_str("rec ");
            }
            out.push_str("{ ");
            bindings(out, &a.bindings, &a.inherit_sources);
            dynamic(out, a);
            out.push('}');
        }
        Expr::List(items, _) => {
            out.push_str("[ ");
            for item in items {
                out.push('(');
                write(out, item);
                out.push_str(") ");
            }
            out.push(']');
        }
        Expr::Lambda(l) => lambda(out, l),
        Expr::Call { func, args, .. } => {
            out.push('(');
            write(out, func);
            for a in args {
                out.push(' ');
                write(out, a);
            }
            out.push(')');
        }
        Expr::Select {
            expr,
            path,
            default,
            ..
        } => {
            out.push('(');
            write(out, expr);
            out.push_str(").");
            attr_path(out, path);
            if let Some(d) = default {
                out.push_str(" or (");
                write(out, d);
                out.push(')');
            }
        }
        Expr::HasAttr { expr, path, .. } => {
            out.push_str("((");
            write(out, expr);
            out.push_str(") ? ");
            attr_path(out, path);
            out.push(')');
        }
        Expr::Let(l) => {
            out.push_str("(let ");
            bindings(out, &l.bindings, &l.inherit_sources);
            out.push_str("in ");
            write(out, &l.body);
            out.push(')');
        }
        Expr::With { attrs, body, .. } => {
            out.push_str("(with ");
            write(out, attrs);
            out.push_str("; ");
            write(out, body);
            out.push(')');
        }
        Expr::If {
            cond, then, else_, ..
        } => {
            out.push_str("(if ");
            write(out, cond);
            out.push_str(" then ");
            write(out, then);
            out.push_str(" else ");
            write(out, else_);
            out.push(')');
        }
        Expr::Assert { cond, body, .. } => {
            out.push_str("assert ");
            write(out, cond);
            out.push_str("; ");
            write(out, body);
        }
        Expr::Not(e, _) => {
            out.push_str("(! ");
            write(out, e);
            out.push(')');
        }
        Expr::Neg(e, _) => call(
            out,
            "__sub",
            &[&Expr::Const(Value::Int(0), crate::Span::NONE), e],
        ),
        Expr::Binary { op, lhs, rhs, .. } => binary(out, *op, lhs, rhs),
        Expr::Interpolate { parts, .. } | Expr::PathInterpolate { parts, .. } => {
            out.push('(');
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    out.push_str(" + ");
                }
                write(out, p);
            }
            out.push(')');
        }
        Expr::SearchPath(p, _) => {
            out.push_str("(__findFile __nixPath ");
            escape_string(out, p);
            out.push(')');
        }
        Expr::CurPos(_) => out.push_str("__curPos"),
    }
}

fn constant(out: &mut String, v: &Value) {
    if write_scalar(out, v) {
        return;
    }
    match v {
        Value::List(l) if l.is_empty() => out.push_str("[ ]"),
        Value::Attrs(a) if a.is_empty() => out.push_str("{ }"),
        // Lowering makes no other constant (scalars and `[ ]` only).
        _ => {
            debug_assert!(false, "a constant lowering does not make");
            out.push_str("«constant»");
        }
    }
}

/// `(f a b)` with `f` a builtin's name, as Nix's parser writes operators.
fn call(out: &mut String, f: &str, args: &[&Expr]) {
    out.push('(');
    out.push_str(f);
    for a in args {
        out.push(' ');
        write(out, a);
    }
    out.push(')');
}

fn binary(out: &mut String, op: BinOp, lhs: &Expr, rhs: &Expr) {
    let infix = match op {
        BinOp::Sub => return call(out, "__sub", &[lhs, rhs]),
        BinOp::Mul => return call(out, "__mul", &[lhs, rhs]),
        BinOp::Div => return call(out, "__div", &[lhs, rhs]),
        BinOp::Lt => return call(out, "__lessThan", &[lhs, rhs]),
        BinOp::Gt => return call(out, "__lessThan", &[rhs, lhs]),
        BinOp::Le | BinOp::Ge => {
            let (a, b) = if op == BinOp::Le {
                (rhs, lhs)
            } else {
                (lhs, rhs)
            };
            out.push_str("(! ");
            call(out, "__lessThan", &[a, b]);
            out.push(')');
            return;
        }
        // `a |> f` and `f <| a` are calls of `f`.
        BinOp::PipeRight => return call_expr(out, rhs, lhs),
        BinOp::PipeLeft => return call_expr(out, lhs, rhs),
        BinOp::Add => "+",
        BinOp::Eq => "==",
        BinOp::NotEq => "!=",
        BinOp::And => "&&",
        BinOp::Or => "||",
        BinOp::Implies => "->",
        BinOp::Update => "//",
        BinOp::Concat => "++",
    };
    out.push('(');
    write(out, lhs);
    out.push(' ');
    out.push_str(infix);
    out.push(' ');
    write(out, rhs);
    out.push(')');
}

fn call_expr(out: &mut String, f: &Expr, arg: &Expr) {
    out.push('(');
    write(out, f);
    out.push(' ');
    write(out, arg);
    out.push(')');
}

fn attr_path(out: &mut String, path: &[AttrName]) {
    for (i, name) in path.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        match name {
            AttrName::Static(s) => out.push_str(s.as_str()),
            AttrName::Dynamic(e) => {
                out.push_str("\"${");
                write(out, e);
                out.push_str("}\"");
            }
        }
    }
}

/// The static bindings of a set or `let`: `inherit a b; `, then `inherit (e) c; ` per
/// source, then `name = value; `, each group in name order.
fn bindings(out: &mut String, bindings: &[Binding], sources: &[crate::ir::ExprRef]) {
    let mut sorted: Vec<&Binding> = bindings.iter().collect();
    sorted.sort_by(|a, b| a.name.as_str().cmp(b.name.as_str()));
    let inherited: Vec<&str> = sorted
        .iter()
        .filter(|b| matches!(b.value, BindingValue::Inherit(_)))
        .map(|b| b.name.as_str())
        .collect();
    if !inherited.is_empty() {
        out.push_str("inherit");
        for name in inherited {
            out.push(' ');
            out.push_str(name);
        }
        out.push_str("; ");
    }
    for (i, source) in sources.iter().enumerate() {
        let names: Vec<&str> = sorted
            .iter()
            .filter(|b| matches!(b.value, BindingValue::InheritFrom { source } if source == i))
            .map(|b| b.name.as_str())
            .collect();
        if names.is_empty() {
            continue;
        }
        out.push_str("inherit (");
        write(out, source);
        out.push(')');
        for name in names {
            out.push(' ');
            out.push_str(name);
        }
        out.push_str("; ");
    }
    for b in sorted {
        if let BindingValue::Expr(e) = &b.value {
            out.push_str(b.name.as_str());
            out.push_str(" = ");
            write(out, e);
            out.push_str("; ");
        }
    }
}

fn dynamic(out: &mut String, a: &AttrsDef) {
    for (name, value, _) in &a.dynamic {
        out.push_str("\"${");
        write(out, name);
        out.push_str("}\" = ");
        write(out, value);
        out.push_str("; ");
    }
}

fn lambda(out: &mut String, l: &Lambda) {
    out.push('(');
    match &l.param {
        Param::Ident(x) => out.push_str(x.as_str()),
        Param::Pattern {
            formals,
            ellipsis,
            at,
        } => {
            out.push_str("{ ");
            let mut sorted: Vec<_> = formals.iter().collect();
            sorted.sort_by(|a, b| a.name.as_str().cmp(b.name.as_str()));
            for (i, f) in sorted.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(f.name.as_str());
                if let Some(d) = &f.default {
                    out.push_str(" ? ");
                    write(out, d);
                }
            }
            if *ellipsis {
                if !formals.is_empty() {
                    out.push_str(", ");
                }
                out.push_str("...");
            }
            out.push_str(" }");
            if let Some(at) = at {
                out.push_str(" @ ");
                out.push_str(at.as_str());
            }
        }
    }
    out.push_str(": ");
    write(out, &l.body);
    out.push(')');
}

#[cfg(test)]
mod tests {
    use crate::eval::{Eval, EvalOptions};

    /// The message of a failing assertion over most kinds of expression, as Nix 2.26 writes it.
    #[test]
    fn assertion_messages_like_nix() {
        let src = r#"let x = 1; lib = { isString = builtins.isString; }; in
assert (x != 1 -> true) && lib.isString "a" && !(x > 0) && { a = 1; b = "s${toString x}"; }.a == x - 1 && [ 1.5 ./as.nix null ] != [] && (y: y) 1 == 1 && (let z = 1; inherit (lib) isString; in z) == 1 && (with lib; isString) "a" && (if true then 1 else 2) == 1 && ({ a, b ? 2, ... }@c: a) { a = 1; } == 1 && ({} ? a.b) == false && ({}.a or 1) == 1 && -x == -1 && rec { p = 1; inherit x; }.p == 1 && x >= 1 && x <= 1 && x < 2 && x * 1 / 1 == 1 && [1] ++ [2] == [1 2] && {} // {} == {} && builtins.true_ or true && __curPos != null && 1.0e-7 < 1 && 123456789.0 > 1 && x == 0;
1"#;
        let mut ev = Eval::new(EvalOptions::default());
        let e = ev.eval_expr(src, std::path::Path::new("/")).unwrap_err();
        assert_eq!(
            e.message,
            r#"assertion '((((((((((((((((((((((((((x != 1) -> true) && ((lib).isString "a")) && (! (__lessThan 0 x))) && (({ a = 1; b = ("s" + (toString x)); }).a == (__sub x 1))) && ([ (1.5) (/as.nix) (null) ] != [ ])) && (((y: y) 1) == 1)) && ((let inherit (lib) isString; z = 1; in z) == 1)) && ((with lib; isString) "a")) && ((if true then 1 else 2) == 1)) && ((({ a, b ? 2, ... } @ c: a) { a = 1; }) == 1)) && ((({ }) ? a.b) == false)) && (({ }).a or (1) == 1)) && ((__sub 0 x) == (__sub 0 1))) && ((rec { inherit x; p = 1; }).p == 1)) && (! (__lessThan x 1))) && (! (__lessThan 1 x))) && (__lessThan x 2)) && ((__div (__mul x 1) 1) == 1)) && (([ (1) ] ++ [ (2) ]) == [ (1) (2) ])) && (({ } // { }) == { })) && (builtins).true_ or (true)) && (__curPos != null)) && (__lessThan 1e-07 1)) && (__lessThan 1 1.23457e+08)) && (x == 0))' failed"#
        );
    }
}
