//! Evaluation of lowered expressions to weak head normal form.

use super::{lookup_ref, CoerceOpts, Eval};
use crate::error::{ErrorExt, ErrorKind, EvalError, Result};
use crate::ir::{AttrName, BinOp, Expr, ExprRef};
use crate::source::Span;
use crate::symbol::{known, Symbol};
use crate::value::Shared;
use crate::value::{Attr, Attrs, Closure, Env, List, NixString, Value};

/// Binds the fields of the node an `eval_*` arm was dispatched for (see
/// [`Eval::eval_node`]): `node!(node, Expr::Not(e, span));`.
macro_rules! node {
    ($node:expr, $pat:pat) => {
        let $pat = $node else {
            unreachable!("dispatched on another kind of node")
        };
    };
}

impl Eval {
    /// Evaluates `expr` in `env` to weak head normal form.
    #[inline]
    pub(crate) fn eval(&mut self, expr: &ExprRef, env: &Env) -> Result<Value> {
        match &**expr {
            Expr::Const(v, _) => Ok(v.clone()),
            Expr::Var { depth, slot, .. } => {
                let v = lookup_ref(env, *depth, *slot);
                self.force(v)
            }
            _ => self.guarded(|ev| ev.eval_node(expr, env)),
        }
    }

    /// One evaluation step. Every arm that needs more than a few locals is a function of
    /// its own, kept out of line: this function is on the stack once per nested evaluation,
    /// and a small frame keeps deep evaluations within the data cache.
    fn eval_node(&mut self, expr: &ExprRef, env: &Env) -> Result<Value> {
        // Every arm but the leaves is a call with the node and the environment only: four
        // arguments in registers, so each is a tail call and this function needs no frame.
        let node: &Expr = expr;
        match node {
            Expr::Const(v, _) => Ok(v.clone()),
            Expr::Var { depth, slot, .. } => {
                let v = lookup_ref(env, *depth, *slot);
                self.force(v)
            }
            Expr::Global(..) => self.eval_global(node),
            Expr::WithVar(..) => self.eval_with_var(node, env),
            Expr::Attrs(def) => self.build_attrs(def, env),
            Expr::List(..) => self.eval_list(node, env),
            Expr::Lambda(..) => self.eval_lambda(node, env),
            Expr::Call { .. } => self.eval_call(node, env),
            Expr::Select { .. } => self.eval_select(node, env),
            Expr::HasAttr { .. } => self.eval_has_attr(node, env),
            Expr::Let(..) => self.eval_let(node, env),
            Expr::With { .. } => self.eval_with(node, env),
            Expr::If { .. } => self.eval_if(node, env),
            Expr::Assert { .. } => self.eval_assert(node, env),
            Expr::Not(..) => self.eval_not(node, env),
            Expr::Neg(..) => self.eval_neg(node, env),
            Expr::Binary { .. } => self.eval_binary(node, env),
            Expr::Interpolate { .. } => self.eval_interpolate(node, env),
            Expr::PathInterpolate { .. } => self.eval_path_interpolate(node, env),
            Expr::SearchPath(..) => self.eval_search_path(node),
            Expr::CurPos(span) => self.eval_cur_pos(*span),
        }
    }

    #[inline(never)]
    fn eval_global(&mut self, node: &Expr) -> Result<Value> {
        node!(node, Expr::Global(name, span));
        let (name, span) = (*name, *span);
        match self.globals.get(&name) {
            Some(v) => {
                let v = v.clone();
                self.force(&v)
            }
            None => Err(EvalError::new(format!("undefined variable '{name}'")).at(span)),
        }
    }

    #[inline(never)]
    fn eval_list(&mut self, node: &Expr, env: &Env) -> Result<Value> {
        node!(node, Expr::List(items, _));
        Ok(self.list_literal(items, env))
    }

    #[inline(never)]
    fn eval_lambda(&mut self, node: &Expr, env: &Env) -> Result<Value> {
        node!(node, Expr::Lambda(l));
        Ok(Value::Lambda(Closure::new(l, env)))
    }

    #[inline(never)]
    fn eval_cur_pos(&mut self, span: Span) -> Result<Value> {
        Ok(self.pos_attrs(span))
    }

    /// A list literal's value: its elements, each as a thunk (building it evaluates nothing).
    #[inline(never)]
    fn list_literal(&self, items: &[ExprRef], env: &Env) -> Value {
        crate::stats::bump(crate::stats::Counter::ListLiterals);
        Value::List(List::from_exact(items.iter().map(|e| self.thunk(e, env))))
    }

    #[inline(never)]
    fn eval_call(&mut self, node: &Expr, env: &Env) -> Result<Value> {
        node!(node, Expr::Call { func, args, span });
        let span = *span;
        let f = self.eval(func, env)?;
        if let [a] = &args[..] {
            let arg = self.call_arg(a, env);
            return self.call(&f, arg, span);
        }
        self.call_with(&f, args.len(), |ev, i| ev.thunk(&args[i], env), span)
    }

    /// The value passed for the argument expression `a`: a thunk, except for a literal
    /// whose construction evaluates nothing and so cannot fail or diverge (a non-recursive
    /// set with static names, a list). That is built at once, which is unobservable and
    /// saves the thunk: the callee nearly always forces it (`mkOption { … }`, `f { inherit
    /// x; }`).
    #[inline]
    fn call_arg(&mut self, a: &ExprRef, env: &Env) -> Value {
        match &**a {
            Expr::Attrs(def) if !def.recursive && def.dynamic.is_empty() => self
                .build_attrs(def, env)
                .unwrap_or_else(|_| self.thunk(a, env)),
            Expr::List(items, _) => self.list_literal(items, env),
            _ => self.thunk(a, env),
        }
    }

    #[inline(never)]
    fn eval_let(&mut self, node: &Expr, env: &Env) -> Result<Value> {
        node!(node, Expr::Let(l));
        let frame = self.build_let_frame(&l.bindings, &l.inherit_sources, env);
        self.eval(&l.body, &frame)
    }

    #[inline(never)]
    fn eval_with(&mut self, node: &Expr, env: &Env) -> Result<Value> {
        node!(node, Expr::With { attrs, body, .. });
        let a = self.thunk(attrs, env);
        let frame = Env::with(Some(env.clone()), a);
        self.eval(body, &frame)
    }

    #[inline(never)]
    fn eval_if(&mut self, node: &Expr, env: &Env) -> Result<Value> {
        node!(
            node,
            Expr::If {
                cond,
                then,
                else_,
                ..
            }
        );
        match self.eval(cond, env)? {
            Value::Bool(b) => self.eval(if b { then } else { else_ }, env),
            other => Err(self.not_a_condition(cond, &other)),
        }
    }

    #[cold]
    #[inline(never)]
    fn not_a_condition(&self, cond: &ExprRef, v: &Value) -> Box<EvalError> {
        self.type_error("a Boolean", v)
            .at(cond.span())
            .context(cond.span(), || "while evaluating a branch condition".into())
    }

    #[inline(never)]
    fn eval_not(&mut self, node: &Expr, env: &Env) -> Result<Value> {
        node!(node, Expr::Not(e, _span));
        // As current Nix: every error in the operand's frame, at the operand.
        let frame = |err: Box<EvalError>| err.context(e.span(), || "in the argument of '!'".into());
        match self.eval(e, env).map_err(frame)? {
            Value::Bool(b) => Ok(Value::Bool(!b)),
            other => Err(frame(self.type_error("a Boolean", &other).at(e.span()))),
        }
    }

    #[inline(never)]
    fn eval_neg(&mut self, node: &Expr, env: &Env) -> Result<Value> {
        node!(node, Expr::Neg(e, span));
        // `-e` is Nix's `__sub 0 e`.
        let v = self.eval(e, env);
        v.and_then(|v| super::ops::arith(self, BinOp::Sub, &Value::Int(0), &v))
            .map_err(|e| builtin_frame(e, *span, "sub"))
    }

    #[inline(never)]
    fn eval_search_path(&mut self, node: &Expr) -> Result<Value> {
        node!(node, Expr::SearchPath(p, span));
        self.find_in_search_path(p).at(*span)
    }

    #[inline(never)]
    fn eval_assert(&mut self, node: &Expr, env: &Env) -> Result<Value> {
        node!(node, Expr::Assert { cond, body, span });
        let span = *span;
        // Nix writes the condition with its expression printer, only when it fails.
        let text = || crate::show::show(cond);
        let c = self.eval(cond, env).map_err(|e| {
            e.context(span, || {
                format!(
                    "while evaluating the condition of the assertion '{}'",
                    text()
                )
            })
        })?;
        match c {
            Value::Bool(true) => self.eval(body, env),
            Value::Bool(false) => {
                if let Expr::Binary {
                    op: BinOp::Eq,
                    lhs,
                    rhs,
                    ..
                } = &**cond
                {
                    let l = self.eval(lhs, env)?;
                    let r = self.eval(rhs, env)?;
                    if let Some(why) = super::ops::explain_inequality(self, &l, &r)? {
                        // Nix gives the explanation no position of its own.
                        return Err(EvalError::of_kind(ErrorKind::Assert, why).context(
                            span,
                            || {
                                format!(
                                    "while evaluating the condition of the assertion '{}'",
                                    text()
                                )
                            },
                        ));
                    }
                }
                Err(
                    EvalError::of_kind(ErrorKind::Assert, format!("assertion '{}' failed", text()))
                        .at(span),
                )
            }
            other => Err(self.type_error("a Boolean", &other).at(cond.span())),
        }
    }

    #[inline(never)]
    fn eval_path_interpolate(&mut self, node: &Expr, env: &Env) -> Result<Value> {
        node!(node, Expr::PathInterpolate { parts, span });
        let span = *span;
        let mut s = Vec::new();
        for p in parts {
            let v = self.eval(p, env)?;
            let part = self
                .coerce_to_string(
                    &v,
                    CoerceOpts {
                        coerce_more: false,
                        copy_to_store: false,
                    },
                )
                .at(span)?;
            s.extend_from_slice(&part.s);
        }
        Ok(Value::path(super::canon_path(
            &crate::bytestr::encode_owned(s),
        )))
    }

    /// `{ file, line, column }` for a position, or null without one.
    pub fn pos_attrs(&self, span: Span) -> Value {
        match self.sources.describe(span) {
            Some((file, line, column)) => Value::Attrs(Attrs::from_entries(vec![
                Attr {
                    name: known::file(),
                    value: Value::string_encoded(&file),
                    span: Span::NONE,
                },
                Attr {
                    name: known::line(),
                    value: Value::Int(line as i64),
                    span: Span::NONE,
                },
                Attr {
                    name: known::column(),
                    value: Value::Int(column as i64),
                    span: Span::NONE,
                },
            ])),
            None => Value::Null,
        }
    }

    #[inline(never)]
    fn eval_with_var(&mut self, node: &Expr, env: &Env) -> Result<Value> {
        node!(node, Expr::WithVar(name, span));
        let (name, span) = (*name, *span);
        let mut frame: Option<&Env> = Some(env);
        while let Some(f) = frame {
            if f.is_with() {
                let attrs = self.force_attrs(f.get_ref(0)).at(span)?;
                if let Some(v) = attrs.get(name) {
                    return self.force(v);
                }
            }
            frame = f.parent();
        }
        Err(EvalError::new(format!("undefined variable '{name}'")).at(span))
    }

    /// The name of one attribute-path component.
    #[inline(always)]
    pub(crate) fn attr_name(&mut self, name: &AttrName, env: &Env) -> Result<Option<Symbol>> {
        match name {
            AttrName::Static(s) => Ok(Some(*s)),
            AttrName::Dynamic(e) => self.dynamic_attr_name(e, env),
        }
    }

    /// The name a `${e}` path component evaluates to (`None` for `null`).
    #[inline(never)]
    fn dynamic_attr_name(&mut self, e: &ExprRef, env: &Env) -> Result<Option<Symbol>> {
        match self.eval(e, env)? {
            Value::String(s) => Ok(Some(Symbol::from_bytes(&s.s))),
            Value::Null => Ok(None),
            other => Err(self.type_error("a string", &other).at(e.span())),
        }
    }

    #[inline(never)]
    fn eval_select(&mut self, node: &Expr, env: &Env) -> Result<Value> {
        node!(
            node,
            Expr::Select {
                expr: e,
                path,
                default,
                span,
            }
        );
        let (default, span) = (default.as_ref(), *span);
        let mut v = self.eval(e, env)?;
        for name in path {
            let sym = match self.attr_name(name, env)? {
                Some(s) => s,
                None => return Err(self.type_error("a string", &Value::Null).at(span)),
            };
            let next = match &v {
                Value::Attrs(a) => match a.get(sym) {
                    // Forced in place: `v` keeps the set (and so `x`) alive meanwhile.
                    Some(x) => self.force(x).map_err(|err| {
                        err.context(span, || format!("while evaluating the attribute '{sym}'"))
                    })?,
                    None => {
                        if let Some(d) = default {
                            return self.eval(d, env);
                        }
                        return Err(missing_attr(sym, a).at(span));
                    }
                },
                _ => {
                    if let Some(d) = default {
                        return self.eval(d, env);
                    }
                    return Err(self
                        .type_error("a set", &v)
                        .at(span)
                        .context(span, || "while selecting an attribute".to_string()));
                }
            };
            v = next;
        }
        Ok(v)
    }

    #[inline(never)]
    fn eval_has_attr(&mut self, node: &Expr, env: &Env) -> Result<Value> {
        node!(node, Expr::HasAttr { expr: e, path, .. });
        let mut v = self.eval(e, env)?;
        for (i, name) in path.iter().enumerate() {
            let Some(sym) = self.attr_name(name, env)? else {
                return Ok(Value::Bool(false));
            };
            match &v {
                Value::Attrs(a) => match a.get(sym) {
                    // Only intermediate attributes are forced: `s ? a` never forces `s.a`.
                    Some(x) if i + 1 < path.len() => {
                        let x = x.clone();
                        v = self.force(&x)?;
                    }
                    Some(_) => {}
                    None => return Ok(Value::Bool(false)),
                },
                _ => return Ok(Value::Bool(false)),
            }
        }
        Ok(Value::Bool(true))
    }

    /// `lhs op rhs`: one function per kind of operator, so the common ones (`==`, `&&`)
    /// get small frames of their own.
    #[inline(always)]
    fn eval_binary(&mut self, node: &Expr, env: &Env) -> Result<Value> {
        node!(node, Expr::Binary { op, .. });
        match op {
            BinOp::And | BinOp::Or | BinOp::Implies => self.eval_logic(node, env),
            BinOp::Eq | BinOp::NotEq => self.eval_equality(node, env),
            BinOp::Update => self.eval_update(node, env),
            BinOp::Concat => self.eval_concat(node, env),
            BinOp::PipeRight | BinOp::PipeLeft => self.eval_pipe(node, env),
            _ => self.eval_arith(node, env),
        }
    }

    /// `&&`, `||`, `->`.
    #[inline(never)]
    fn eval_logic(&mut self, node: &Expr, env: &Env) -> Result<Value> {
        node!(node, Expr::Binary { op, lhs, rhs, span });
        let l = match self.eval(lhs, env)? {
            Value::Bool(b) => b,
            other => return Err(self.bool_operand_error(*op, "left", &other, *span)),
        };
        let short = match op {
            BinOp::And => (!l).then_some(false),
            BinOp::Or => l.then_some(true),
            _ => (!l).then_some(true),
        };
        if let Some(r) = short {
            return Ok(Value::Bool(r));
        }
        match self.eval(rhs, env)? {
            Value::Bool(b) => Ok(Value::Bool(b)),
            other => Err(self.bool_operand_error(*op, "right", &other, *span)),
        }
    }

    #[cold]
    #[inline(never)]
    fn bool_operand_error(&self, op: BinOp, side: &str, v: &Value, span: Span) -> Box<EvalError> {
        self.type_error("a Boolean", v).at(span).context(span, || {
            format!("in the {side} operand of the {} operator", bool_op_name(op))
        })
    }

    /// `==`, `!=`.
    #[inline(never)]
    fn eval_equality(&mut self, node: &Expr, env: &Env) -> Result<Value> {
        node!(node, Expr::Binary { op, lhs, rhs, span });
        let l = self.eval(lhs, env)?;
        let r = self.eval(rhs, env)?;
        let eq = match (&l, &r) {
            (Value::Int(x), Value::Int(y)) => x == y,
            _ => super::ops::equal(self, &l, &r).at(*span)?,
        };
        Ok(Value::Bool(eq == (*op == BinOp::Eq)))
    }

    /// `//`.
    #[inline(never)]
    fn eval_update(&mut self, node: &Expr, env: &Env) -> Result<Value> {
        let (a, b) = self.forced_operands(node, env, "update (//)", Eval::force_attrs)?;
        crate::stats::bump(crate::stats::Counter::Updates);
        // Nix returns an operand itself when the other one is empty.
        if b.is_empty() {
            return Ok(Value::Attrs(a));
        }
        if a.is_empty() {
            return Ok(Value::Attrs(b));
        }
        Ok(Value::Attrs(a.update(&b)))
    }

    /// `++`.
    #[inline(never)]
    fn eval_concat(&mut self, node: &Expr, env: &Env) -> Result<Value> {
        let (a, b) =
            self.forced_operands(node, env, "list concatenation (++)", Eval::force_list)?;
        if b.is_empty() {
            return Ok(Value::List(a));
        }
        if a.is_empty() {
            return Ok(Value::List(b));
        }
        Ok(Value::List(List::concat(&[&a, &b])))
    }

    /// The operands of the binary operator `node`, both evaluated (left first) and then
    /// made into `T` by `force`, with Nix's context on failure ("in the left operand of
    /// the update (//) operator").
    #[inline(always)]
    fn forced_operands<T>(
        &mut self,
        node: &Expr,
        env: &Env,
        operator: &str,
        force: impl Fn(&mut Eval, &Value) -> Result<T>,
    ) -> Result<(T, T)> {
        node!(node, Expr::Binary { lhs, rhs, span, .. });
        let span = *span;
        let l = self.eval(lhs, env)?;
        let r = self.eval(rhs, env)?;
        let operand = |ev: &mut Eval, v: &Value, side: &str| {
            force(ev, v).at(span).map_err(|e| {
                e.context(span, || {
                    format!("in the {side} operand of the {operator} operator")
                })
            })
        };
        Ok((operand(self, &l, "left")?, operand(self, &r, "right")?))
    }

    /// `|>`, `<|` (experimental).
    #[inline(never)]
    fn eval_pipe(&mut self, node: &Expr, env: &Env) -> Result<Value> {
        node!(node, Expr::Binary { op, lhs, rhs, span });
        if !self.options.pipe_operators {
            return Err(EvalError::new(
                "experimental Nix feature 'pipe-operators' is disabled; add '--extra-experimental-features pipe-operators' to enable it",
            )
            .at(*span));
        }
        let (func, arg) = match op {
            BinOp::PipeRight => (rhs, lhs),
            _ => (lhs, rhs),
        };
        let f = self.eval(func, env)?;
        let a = self.thunk(arg, env);
        self.call(&f, a, *span)
    }

    /// Arithmetic and ordering: `+ - * / < <= > >=`.
    #[inline(never)]
    fn eval_arith(&mut self, node: &Expr, env: &Env) -> Result<Value> {
        use super::ops;
        node!(node, Expr::Binary { op, lhs, rhs, span });
        let (op, span) = (*op, *span);
        // Nix's parser makes every operator but `+` a call of a builtin (`a - b` is
        // `__sub a b`): its errors, the operands' own included, come in that call's frame.
        let in_frame = |e: Box<EvalError>| match op {
            BinOp::Add => e,
            BinOp::Sub => builtin_frame(e, span, "sub"),
            BinOp::Mul => builtin_frame(e, span, "mul"),
            BinOp::Div => builtin_frame(e, span, "div"),
            _ => builtin_frame(e, span, "lessThan"),
        };
        let l = self.eval(lhs, env).map_err(in_frame)?;
        let r = self.eval(rhs, env).map_err(in_frame)?;
        if let (Value::Int(x), Value::Int(y)) = (&l, &r) {
            if let Some(v) = int_op(op, *x, *y) {
                return Ok(v);
            }
        }
        match op {
            BinOp::Lt => ops::compare(self, &l, &r).map(|o| Value::Bool(o.is_lt())),
            BinOp::Le => ops::compare(self, &r, &l).map(|o| Value::Bool(!o.is_lt())),
            BinOp::Gt => ops::compare(self, &r, &l).map(|o| Value::Bool(o.is_lt())),
            BinOp::Ge => ops::compare(self, &l, &r).map(|o| Value::Bool(!o.is_lt())),
            BinOp::Add => return ops::add(self, &l, &r, (lhs.span(), rhs.span())),
            _ => ops::arith(self, op, &l, &r),
        }
        .map_err(in_frame)
    }

    #[inline(never)]
    fn eval_interpolate(&mut self, node: &Expr, env: &Env) -> Result<Value> {
        node!(node, Expr::Interpolate { parts, span });
        let span = *span;
        let mut out = NixString::default();
        let opts = CoerceOpts {
            coerce_more: false,
            copy_to_store: true,
        };
        for p in parts {
            let v = self.eval(p, env)?;
            let s = self.coerce_to_string(&v, opts).map_err(|e| {
                e.at(p.span())
                    .context(span, || "while evaluating a path segment".into())
            })?;
            out.s.extend_from_slice(&s.s);
            out.ctx.extend(s.ctx);
        }
        Ok(Value::String(Shared::new(out)))
    }
}

/// `x op y` on integers when it cannot fail (`None`: overflow, division, or not an
/// arithmetic or comparison operator; the general path then reports or handles it).
#[inline]
fn int_op(op: BinOp, x: i64, y: i64) -> Option<Value> {
    Some(match op {
        BinOp::Add => Value::Int(x.checked_add(y)?),
        BinOp::Sub => Value::Int(x.checked_sub(y)?),
        BinOp::Mul => Value::Int(x.checked_mul(y)?),
        BinOp::Eq => Value::Bool(x == y),
        BinOp::NotEq => Value::Bool(x != y),
        BinOp::Lt => Value::Bool(x < y),
        BinOp::Le => Value::Bool(x <= y),
        BinOp::Gt => Value::Bool(x > y),
        BinOp::Ge => Value::Bool(x >= y),
        _ => return None,
    })
}

fn bool_op_name(op: BinOp) -> &'static str {
    match op {
        BinOp::And => "AND (&&)",
        BinOp::Or => "OR (||)",
        _ => "implication (->)",
    }
}

/// `attribute 'x' missing`, with Nix's "Did you mean" suggestions.
#[cold]
#[inline(never)]
pub(crate) fn missing_attr(name: Symbol, attrs: &Attrs) -> Box<EvalError> {
    let want = name.as_str();
    let mut close: Vec<&str> = attrs
        .iter()
        .map(|a| a.name.as_str())
        .filter(|n| levenshtein(n, want) <= 2)
        .collect();
    close.sort();
    let mut err = EvalError::new(format!("attribute '{want}' missing"));
    err.hint = match close.len() {
        0 => None,
        1 => Some(format!("Did you mean {}?", close[0])),
        _ => {
            let last = close.pop().unwrap_or_default();
            Some(format!(
                "Did you mean one of {} or {}?",
                close.join(", "),
                last
            ))
        }
    };
    err
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// An error of the builtin Nix's parser calls for an operator at `span`: the call's frame,
/// the error itself without a position (the builtin gives none).
#[cold]
fn builtin_frame(e: Box<EvalError>, span: Span, name: &str) -> Box<EvalError> {
    e.context(span, || format!("while calling the '{name}' builtin"))
}
