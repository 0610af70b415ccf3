//! The lowered program: a scope-resolved expression tree with a span on every node.
//!
//! Lowering (`crate::lower`) turns rnix's syntax tree into this form once per file.
//! Variables are resolved statically to `(depth, slot)` pairs: `depth` counts scope frames
//! up from the current one (each `let`, `rec`, lambda and `with` makes one frame), `slot`
//! indexes the frame. Only names not bound statically but under a `with` become
//! [`Expr::WithVar`], looked up at run time.

use crate::source::Span;
use crate::symbol::Symbol;
use crate::value::Value;
use std::cell::OnceCell;
use std::rc::Rc;

/// A child expression, shared so that thunks can point at it.
pub type ExprRef = Rc<Expr>;

/// An expression.
#[repr(u8)]
pub enum Expr {
    /// A literal: integer, float, string without interpolation, or an already-resolved path.
    Const(Value, Span),
    /// A statically bound variable.
    Var {
        depth: u32,
        slot: u32,
        name: Symbol,
        span: Span,
    },
    /// A top-level builtin name (`true`, `map`, `builtins`, …), by name.
    Global(Symbol, Span),
    /// A variable found only in enclosing `with` scopes; looked up at run time, innermost
    /// `with` first. `undefined variable` if no `with` has it.
    WithVar(Symbol, Span),
    /// `{ … }` or `rec { … }`.
    Attrs(Rc<AttrsDef>),
    /// `[ … ]`.
    List(Vec<ExprRef>, Span),
    /// `x: …` / `{ a, b ? d, ... } @ x: …`.
    Lambda(Rc<Lambda>),
    /// `f a b …` (nested applications are flattened).
    Call {
        span: Span,
        func: ExprRef,
        args: Vec<ExprRef>,
    },
    /// `e.a.b` / `e.a.b or default`.
    Select {
        span: Span,
        expr: ExprRef,
        path: Box<[AttrName]>,
        default: Option<ExprRef>,
    },
    /// `e ? a.b`.
    HasAttr {
        span: Span,
        expr: ExprRef,
        path: Vec<AttrName>,
    },
    /// `let … in body`: binds `bindings` as a new frame (slots in order), evaluates `body`
    /// in it. Old-style `let { … body = …; }` lowers to a select of `body` from a rec set.
    Let(Box<LetDef>),
    /// `with e; body`: `body` is evaluated in a new frame whose slot 0 is `e`.
    With {
        attrs: ExprRef,
        body: ExprRef,
        span: Span,
    },
    If {
        cond: ExprRef,
        then: ExprRef,
        else_: ExprRef,
        span: Span,
    },
    /// `assert cond; body` (its messages write `cond` with [`crate::show`]).
    Assert {
        span: Span,
        cond: ExprRef,
        body: ExprRef,
    },
    Not(ExprRef, Span),
    Neg(ExprRef, Span),
    Binary {
        op: BinOp,
        lhs: ExprRef,
        rhs: ExprRef,
        span: Span,
    },
    /// A string with interpolations: `"a${b}c"`, `''…''`. Literal parts are `Const` strings.
    Interpolate {
        parts: Vec<ExprRef>,
        span: Span,
    },
    /// A path with interpolations: `./a/${b}`. The first part is the resolved literal prefix.
    PathInterpolate {
        parts: Vec<ExprRef>,
        span: Span,
    },
    /// `<nixpkgs/lib>`: looked up in the search path at run time.
    SearchPath(String, Span),
    /// `__curPos`.
    CurPos(Span),
}

/// Detaches the dynamic components of an attribute path.
fn detach_path(path: &mut [AttrName], work: &mut Vec<Expr>) {
    for p in path {
        if let AttrName::Dynamic(e) = p {
            detach(e, work);
        }
    }
}

// Expressions are the tree every evaluation step reads: keep them within 48 bytes (64 with
// the `Rc` counts), rarer large ones boxed. `repr(u8)` lays out each variant's fields in
// order after the tag, so a `span` (three `u32`s) written first fills the tag's word.
const _: () = assert!(std::mem::size_of::<Expr>() == 48);

/// The parts of a `let … in body` expression (see [`Expr::Let`]).
pub struct LetDef {
    pub bindings: Vec<Binding>,
    pub inherit_sources: Vec<ExprRef>,
    pub body: ExprRef,
    pub span: Span,
}

/// A binary operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Eq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Implies,
    Update,
    Concat,
    /// `a |> f` (experimental in Nix).
    PipeRight,
    /// `f <| a` (experimental in Nix).
    PipeLeft,
}

/// One component of an attribute path.
pub enum AttrName {
    Static(Symbol),
    /// `${e}` or `"…${e}…"`.
    Dynamic(ExprRef),
}

/// A `let` binding or a static attribute of a set.
pub struct Binding {
    pub name: Symbol,
    pub value: BindingValue,
    /// The span of the attribute name (Nix reports definitions there).
    pub span: Span,
}

/// How a binding's value is computed.
pub enum BindingValue {
    /// An expression, evaluated in the new frame for `let`/`rec`, in the outer scope for a
    /// plain set.
    Expr(ExprRef),
    /// `inherit x;`: the variable `x` resolved in the scope *outside* the `let`/`rec`
    /// (an `Expr::Var`/`Global`/`WithVar` built for that scope).
    Inherit(ExprRef),
    /// `inherit (e) x;`: select the binding's name from source expression number `source`
    /// of the enclosing `inherit_sources`. The source is evaluated once, lazily, in the same
    /// scope as `Expr` bindings (the new frame for `let`/`rec`, the outer scope otherwise).
    InheritFrom { source: usize },
}

/// An attribute-set literal.
pub struct AttrsDef {
    pub recursive: bool,
    /// Static attributes (names known at lowering time), unique. For `rec`, they occupy
    /// the new frame's slots in this order.
    pub bindings: Vec<Binding>,
    /// `${name} = value;` entries, evaluated after the static ones (in the `rec` frame when
    /// recursive).
    pub dynamic: Vec<(ExprRef, ExprRef, Span)>,
    /// Source expressions of `inherit (e) …;` (see [`BindingValue::InheritFrom`]).
    pub inherit_sources: Vec<ExprRef>,
    pub span: Span,
    /// See [`AttrsDef::symbol_order`]; computed on first use.
    pub symbol_order: OnceCell<Option<Box<[u32]>>>,
}

impl AttrsDef {
    /// The indices of `bindings` in the order of their names' symbols (the order of a built
    /// set's entries), or `None` when that is their own order. Symbols are numbered for the
    /// whole process, so the order is worked out once per set literal.
    #[inline]
    pub fn symbol_order(&self) -> Option<&[u32]> {
        self.symbol_order
            .get_or_init(|| {
                let b = &self.bindings;
                if b.windows(2).all(|w| w[0].name < w[1].name) {
                    return None;
                }
                let mut order: Vec<u32> = (0..b.len() as u32).collect();
                order.sort_by_key(|&i| b[i as usize].name);
                Some(order.into_boxed_slice())
            })
            .as_deref()
    }
}

/// A lambda.
pub struct Lambda {
    /// The name Nix shows in traces (`'f'` when bound by `f = x: …`), if known.
    pub name: Option<Symbol>,
    pub param: Param,
    pub body: ExprRef,
    pub span: Span,
}

/// A lambda's parameter. Frame layout: a plain `x:` has one slot. A pattern has one slot
/// per formal in order, then one for the `@` name if present.
pub enum Param {
    Ident(Symbol),
    Pattern {
        formals: Vec<Formal>,
        ellipsis: bool,
        at: Option<Symbol>,
    },
}

/// One formal of a pattern, with its default evaluated in the lambda's frame.
pub struct Formal {
    pub name: Symbol,
    pub default: Option<ExprRef>,
    pub span: Span,
}

/// Dropping an expression frees its subtree with a work list, not by recursion: a chain of
/// 10 000 nested expressions (`[[[…]]]`, `1 + 1 + …`) would otherwise need a deep stack to
/// free. Each child that this is the last owner of is emptied (its contents moved to the
/// list, a leaf left in place), so the drop glue that runs afterwards frees only leaves;
/// the list's expressions are emptied in turn as they are dropped.
impl Drop for Expr {
    fn drop(&mut self) {
        let mut work = Vec::new();
        self.detach_children(&mut work);
        while let Some(mut e) = work.pop() {
            e.detach_children(&mut work);
            // `e` now holds only leaves and shared children: its drop does not go deep.
        }
    }
}

/// Moves the contents of `child` onto `work`, leaving a leaf, if this is its last reference
/// and it has children (a leaf or a shared child is freed, or released, without recursion).
#[inline]
fn detach(child: &mut ExprRef, work: &mut Vec<Expr>) {
    if let Some(e) = Rc::get_mut(child) {
        if !e.is_leaf() {
            work.push(std::mem::replace(e, Expr::CurPos(Span::NONE)));
        }
    }
}

impl Expr {
    /// Whether the expression holds no other expressions.
    #[inline]
    fn is_leaf(&self) -> bool {
        matches!(
            self,
            Expr::Const(..)
                | Expr::Var { .. }
                | Expr::Global(..)
                | Expr::WithVar(..)
                | Expr::SearchPath(..)
                | Expr::CurPos(_)
        )
    }

    /// Detaches (see [`detach`]) every expression this one holds directly or through
    /// definitions only it holds (a lambda's body and defaults, a set's values).
    fn detach_children(&mut self, work: &mut Vec<Expr>) {
        let bindings = |bindings: &mut Vec<Binding>, work: &mut Vec<Expr>| {
            for b in bindings {
                match &mut b.value {
                    BindingValue::Expr(e) | BindingValue::Inherit(e) => detach(e, work),
                    BindingValue::InheritFrom { .. } => {}
                }
            }
        };
        match self {
            Expr::Const(..)
            | Expr::Var { .. }
            | Expr::Global(..)
            | Expr::WithVar(..)
            | Expr::SearchPath(..)
            | Expr::CurPos(_) => {}
            Expr::Attrs(a) => {
                if let Some(a) = Rc::get_mut(a) {
                    bindings(&mut a.bindings, work);
                    for (name, value, _) in &mut a.dynamic {
                        detach(name, work);
                        detach(value, work);
                    }
                    a.inherit_sources.iter_mut().for_each(|e| detach(e, work));
                }
            }
            Expr::List(items, _)
            | Expr::Interpolate { parts: items, .. }
            | Expr::PathInterpolate { parts: items, .. } => {
                items.iter_mut().for_each(|e| detach(e, work))
            }
            Expr::Lambda(l) => {
                if let Some(l) = Rc::get_mut(l) {
                    detach(&mut l.body, work);
                    if let Param::Pattern { formals, .. } = &mut l.param {
                        for f in formals {
                            if let Some(d) = &mut f.default {
                                detach(d, work);
                            }
                        }
                    }
                }
            }
            Expr::Call { func, args, .. } => {
                detach(func, work);
                args.iter_mut().for_each(|e| detach(e, work));
            }
            Expr::Select {
                expr,
                path,
                default,
                ..
            } => {
                detach(expr, work);
                detach_path(path, work);
                if let Some(d) = default {
                    detach(d, work);
                }
            }
            Expr::HasAttr { expr, path, .. } => {
                detach(expr, work);
                detach_path(path, work);
            }
            Expr::Let(l) => {
                bindings(&mut l.bindings, work);
                l.inherit_sources.iter_mut().for_each(|e| detach(e, work));
                detach(&mut l.body, work);
            }
            Expr::With { attrs, body, .. } => {
                detach(attrs, work);
                detach(body, work);
            }
            Expr::If {
                cond, then, else_, ..
            } => {
                detach(cond, work);
                detach(then, work);
                detach(else_, work);
            }
            Expr::Assert { cond, body, .. } => {
                detach(cond, work);
                detach(body, work);
            }
            Expr::Not(e, _) | Expr::Neg(e, _) => detach(e, work),
            Expr::Binary { lhs, rhs, .. } => {
                detach(lhs, work);
                detach(rhs, work);
            }
        }
    }

    /// The node's span.
    pub fn span(&self) -> Span {
        match self {
            Expr::Const(_, s)
            | Expr::Global(_, s)
            | Expr::WithVar(_, s)
            | Expr::List(_, s)
            | Expr::Not(_, s)
            | Expr::Neg(_, s)
            | Expr::SearchPath(_, s)
            | Expr::CurPos(s) => *s,
            Expr::Var { span, .. }
            | Expr::Call { span, .. }
            | Expr::Select { span, .. }
            | Expr::HasAttr { span, .. }
            | Expr::With { span, .. }
            | Expr::If { span, .. }
            | Expr::Assert { span, .. }
            | Expr::Binary { span, .. }
            | Expr::Interpolate { span, .. }
            | Expr::PathInterpolate { span, .. } => *span,
            Expr::Attrs(a) => a.span,
            Expr::Let(l) => l.span,
            Expr::Lambda(l) => l.span,
        }
    }
}
