//! Writing a lowered file's IR as bytes (see the format in `mod.rs`).

use super::{tag, MAGIC};
use crate::ir::{AttrName, AttrsDef, BinOp, Binding, BindingValue, Expr, Lambda, Param};
use crate::source::Span;
use crate::symbol::Symbol;
use crate::value::Value;
use std::collections::HashMap;

/// Encodes `expr`, or `None` if it holds something the format does not cover (a constant
/// that is not a plain scalar); such files are simply not cached.
pub fn encode(expr: &Expr) -> Option<Vec<u8>> {
    let mut e = Encoder::default();
    e.expr(expr)?;
    let mut out = Vec::with_capacity(e.body.len() + 16 * e.symbols.len() + 16);
    out.extend_from_slice(MAGIC);
    put_uint(&mut out, e.symbols.len() as u64);
    for s in &e.symbols {
        put_bytes(&mut out, s.as_str().as_bytes());
    }
    out.extend_from_slice(&e.body);
    Some(out)
}

#[derive(Default)]
struct Encoder {
    body: Vec<u8>,
    /// Symbols in first-use order; the body refers to them by index.
    symbols: Vec<Symbol>,
    index: HashMap<Symbol, u32>,
}

impl Encoder {
    fn uint(&mut self, n: u64) {
        put_uint(&mut self.body, n);
    }
    fn byte(&mut self, b: u8) {
        self.body.push(b);
    }
    fn bool(&mut self, b: bool) {
        self.byte(u8::from(b));
    }
    fn str(&mut self, s: &str) {
        put_bytes(&mut self.body, s.as_bytes());
    }
    fn sym(&mut self, s: Symbol) {
        let next = self.symbols.len() as u32;
        let i = *self.index.entry(s).or_insert(next);
        if i == next {
            self.symbols.push(s);
        }
        self.uint(u64::from(i));
    }
    fn opt_sym(&mut self, s: Option<Symbol>) {
        match s {
            None => self.byte(0),
            Some(s) => {
                self.byte(1);
                self.sym(s);
            }
        }
    }
    fn span(&mut self, s: Span) {
        if s.is_some() {
            self.byte(1);
            self.uint(u64::from(s.start));
            self.uint(u64::from(s.end));
        } else {
            self.byte(0);
        }
    }
    fn exprs(&mut self, es: &[crate::ir::ExprRef]) -> Option<()> {
        self.uint(es.len() as u64);
        for e in es {
            self.expr(e)?;
        }
        Some(())
    }
    fn opt_expr(&mut self, e: Option<&crate::ir::ExprRef>) -> Option<()> {
        match e {
            None => self.byte(0),
            Some(e) => {
                self.byte(1);
                self.expr(e)?;
            }
        }
        Some(())
    }

    fn constant(&mut self, v: &Value) -> Option<()> {
        match v {
            Value::Null => self.byte(0),
            Value::Bool(b) => {
                self.byte(1);
                self.bool(*b);
            }
            Value::Int(i) => {
                self.byte(2);
                self.body.extend_from_slice(&i.to_le_bytes());
            }
            Value::Float(f) => {
                self.byte(3);
                self.body.extend_from_slice(&f.to_bits().to_le_bytes());
            }
            Value::String(s) if s.ctx.is_empty() => {
                self.byte(4);
                self.str(&s.encoded());
            }
            Value::Path(p) => {
                self.byte(5);
                self.str(p);
            }
            Value::List(l) if l.is_empty() => self.byte(6),
            _ => return None,
        }
        Some(())
    }

    fn expr(&mut self, e: &Expr) -> Option<()> {
        // Deep (but parseable) nesting must not overflow a small thread stack.
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.expr_node(e))
    }

    fn expr_node(&mut self, e: &Expr) -> Option<()> {
        match e {
            Expr::Const(v, span) => {
                self.byte(tag::CONST);
                self.constant(v)?;
                self.span(*span);
            }
            Expr::Var {
                depth,
                slot,
                name,
                span,
            } => {
                self.byte(tag::VAR);
                self.uint(u64::from(*depth));
                self.uint(u64::from(*slot));
                self.sym(*name);
                self.span(*span);
            }
            Expr::Global(name, span) => {
                self.byte(tag::GLOBAL);
                self.sym(*name);
                self.span(*span);
            }
            Expr::WithVar(name, span) => {
                self.byte(tag::WITH_VAR);
                self.sym(*name);
                self.span(*span);
            }
            Expr::Attrs(def) => {
                self.byte(tag::ATTRS);
                self.attrs_def(def)?;
            }
            Expr::List(items, span) => {
                self.byte(tag::LIST);
                self.exprs(items)?;
                self.span(*span);
            }
            Expr::Lambda(l) => {
                self.byte(tag::LAMBDA);
                self.lambda(l)?;
            }
            Expr::Call { func, args, span } => {
                self.byte(tag::CALL);
                self.expr(func)?;
                self.exprs(args)?;
                self.span(*span);
            }
            Expr::Select {
                expr,
                path,
                default,
                span,
            } => {
                self.byte(tag::SELECT);
                self.expr(expr)?;
                self.path(path)?;
                self.opt_expr(default.as_ref())?;
                self.span(*span);
            }
            Expr::HasAttr { expr, path, span } => {
                self.byte(tag::HAS_ATTR);
                self.expr(expr)?;
                self.path(path)?;
                self.span(*span);
            }
            Expr::Let(l) => {
                self.byte(tag::LET);
                self.bindings(&l.bindings)?;
                self.exprs(&l.inherit_sources)?;
                self.expr(&l.body)?;
                self.span(l.span);
            }
            Expr::With { attrs, body, span } => {
                self.byte(tag::WITH);
                self.expr(attrs)?;
                self.expr(body)?;
                self.span(*span);
            }
            Expr::If {
                cond,
                then,
                else_,
                span,
            } => {
                self.byte(tag::IF);
                self.expr(cond)?;
                self.expr(then)?;
                self.expr(else_)?;
                self.span(*span);
            }
            Expr::Assert { cond, body, span } => {
                self.byte(tag::ASSERT);
                self.expr(cond)?;
                self.expr(body)?;
                self.span(*span);
            }
            Expr::Not(e, span) => {
                self.byte(tag::NOT);
                self.expr(e)?;
                self.span(*span);
            }
            Expr::Neg(e, span) => {
                self.byte(tag::NEG);
                self.expr(e)?;
                self.span(*span);
            }
            Expr::Binary { op, lhs, rhs, span } => {
                self.byte(tag::BINARY);
                self.byte(binop_code(*op));
                self.expr(lhs)?;
                self.expr(rhs)?;
                self.span(*span);
            }
            Expr::Interpolate { parts, span } => {
                self.byte(tag::INTERPOLATE);
                self.exprs(parts)?;
                self.span(*span);
            }
            Expr::PathInterpolate { parts, span } => {
                self.byte(tag::PATH_INTERPOLATE);
                self.exprs(parts)?;
                self.span(*span);
            }
            Expr::SearchPath(p, span) => {
                self.byte(tag::SEARCH_PATH);
                self.str(p);
                self.span(*span);
            }
            Expr::CurPos(span) => {
                self.byte(tag::CUR_POS);
                self.span(*span);
            }
        }
        Some(())
    }

    fn path(&mut self, path: &[AttrName]) -> Option<()> {
        self.uint(path.len() as u64);
        for name in path {
            match name {
                AttrName::Static(s) => {
                    self.byte(0);
                    self.sym(*s);
                }
                AttrName::Dynamic(e) => {
                    self.byte(1);
                    self.expr(e)?;
                }
            }
        }
        Some(())
    }

    fn bindings(&mut self, bindings: &[Binding]) -> Option<()> {
        self.uint(bindings.len() as u64);
        for b in bindings {
            self.sym(b.name);
            match &b.value {
                BindingValue::Expr(e) => {
                    self.byte(0);
                    self.expr(e)?;
                }
                BindingValue::Inherit(e) => {
                    self.byte(1);
                    self.expr(e)?;
                }
                BindingValue::InheritFrom { source } => {
                    self.byte(2);
                    self.uint(*source as u64);
                }
            }
            self.span(b.span);
        }
        Some(())
    }

    fn attrs_def(&mut self, def: &AttrsDef) -> Option<()> {
        self.bool(def.recursive);
        self.bindings(&def.bindings)?;
        self.uint(def.dynamic.len() as u64);
        for (name, value, span) in &def.dynamic {
            self.expr(name)?;
            self.expr(value)?;
            self.span(*span);
        }
        self.exprs(&def.inherit_sources)?;
        self.span(def.span);
        Some(())
    }

    fn lambda(&mut self, l: &Lambda) -> Option<()> {
        self.opt_sym(l.name);
        match &l.param {
            Param::Ident(s) => {
                self.byte(0);
                self.sym(*s);
            }
            Param::Pattern {
                formals,
                ellipsis,
                at,
            } => {
                self.byte(1);
                self.uint(formals.len() as u64);
                for f in formals {
                    self.sym(f.name);
                    self.opt_expr(f.default.as_ref())?;
                    self.span(f.span);
                }
                self.bool(*ellipsis);
                self.opt_sym(*at);
            }
        }
        self.expr(&l.body)?;
        self.span(l.span);
        Some(())
    }
}

/// LEB128.
fn put_uint(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_uint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// The operators in their encoding order (see [`super::decode`]).
pub(super) const BINOPS: [BinOp; 17] = [
    BinOp::Add,
    BinOp::Sub,
    BinOp::Mul,
    BinOp::Div,
    BinOp::Eq,
    BinOp::NotEq,
    BinOp::Lt,
    BinOp::Le,
    BinOp::Gt,
    BinOp::Ge,
    BinOp::And,
    BinOp::Or,
    BinOp::Implies,
    BinOp::Update,
    BinOp::Concat,
    BinOp::PipeRight,
    BinOp::PipeLeft,
];

fn binop_code(op: BinOp) -> u8 {
    BINOPS
        .iter()
        .position(|o| *o == op)
        .expect("every operator is in BINOPS") as u8
}
