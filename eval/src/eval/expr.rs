//! Evaluation of lowered expressions to weak head normal form.

use super::{lookup_ref, CoerceOpts, Eval};
use crate::error::{ErrorExt, ErrorKind, EvalError, Result};
use crate::ir::{AttrName, BinOp, Expr, ExprRef};
use crate::source::Span;
use crate::symbol::{known, Symbol};
use crate::value::Shared;
use crate::value::{Attr, Attrs, Closure, Env, NixString, Value};

impl Eval {
    /// Evaluates `expr` in `env` to weak head normal form.
    #[inline]
    pub fn eval(&mut self, expr: &ExprRef, env: &Env) -> Result<Value> {
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
        match &**expr {
            Expr::Const(v, _) => Ok(v.clone()),
            Expr::Var { depth, slot, .. } => {
                let v = lookup_ref(env, *depth, *slot);
                self.force(v)
            }
            Expr::Global(name, span) => self.eval_global(*name, *span),
            Expr::WithVar(name, span) => self.eval_with_var(*name, *span, env),
            Expr::Attrs(def) => self.build_attrs(def, env),
            Expr::List(items, _) => Ok(self.list_literal(items, env)),
            Expr::Lambda(l) => Ok(Value::Lambda(Closure::new(l, env))),
            Expr::Call { func, args, span } => self.eval_call(func, args, *span, env),
            Expr::Select {
                expr: e,
                path,
                default,
                span,
            } => self.eval_select(e, path, default.as_ref(), *span, env),
            Expr::HasAttr { expr: e, path, .. } => self.eval_has_attr(e, path, env),
            Expr::Let(l) => self.eval_let(&l.bindings, &l.inherit_sources, &l.body, env),
            Expr::With { attrs, body, .. } => self.eval_with(attrs, body, env),
            Expr::If {
                cond, then, else_, ..
            } => self.eval_if(cond, then, else_, env),
            Expr::Assert {
                cond,
                body,
                text,
                span,
            } => self.eval_assert(cond, body, text, *span, env),
            Expr::Not(e, span) => self.eval_not(e, *span, env),
            Expr::Neg(e, span) => self.eval_neg(e, *span, env),
            Expr::Binary { op, lhs, rhs, span } => self.eval_binary(*op, lhs, rhs, *span, env),
            Expr::Interpolate { parts, span } => self.eval_interpolate(parts, *span, env),
            Expr::PathInterpolate { parts, span } => self.eval_path_interpolate(parts, *span, env),
            Expr::SearchPath(p, span) => self.eval_search_path(p, *span),
            Expr::CurPos(span) => Ok(self.pos_attrs(*span)),
        }
    }

    #[inline(never)]
    fn eval_global(&mut self, name: Symbol, span: Span) -> Result<Value> {
        match self.globals.get(&name) {
            Some(v) => {
                let v = v.clone();
                self.force(&v)
            }
            None => Err(EvalError::new(format!("undefined variable '{name}'")).at(span)),
        }
    }

    /// A list literal's value: its elements, each as a thunk (building it evaluates nothing).
    #[inline(never)]
    fn list_literal(&self, items: &[ExprRef], env: &Env) -> Value {
        crate::stats::bump(crate::stats::Counter::ListLiterals);
        Value::list(items.iter().map(|e| self.thunk(e, env)).collect())
    }

    #[inline(never)]
    fn eval_call(
        &mut self,
        func: &ExprRef,
        args: &[ExprRef],
        span: Span,
        env: &Env,
    ) -> Result<Value> {
        let f = self.eval(func, env)?;
        if let [a] = args {
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
    fn eval_let(
        &mut self,
        bindings: &[crate::ir::Binding],
        inherit_sources: &[ExprRef],
        body: &ExprRef,
        env: &Env,
    ) -> Result<Value> {
        let frame = self.build_let_frame(bindings, inherit_sources, env);
        self.eval(body, &frame)
    }

    #[inline(never)]
    fn eval_with(&mut self, attrs: &ExprRef, body: &ExprRef, env: &Env) -> Result<Value> {
        let a = self.thunk(attrs, env);
        let frame = Env::with(Some(env.clone()), a);
        self.eval(body, &frame)
    }

    #[inline(never)]
    fn eval_if(
        &mut self,
        cond: &ExprRef,
        then: &ExprRef,
        else_: &ExprRef,
        env: &Env,
    ) -> Result<Value> {
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
    fn eval_not(&mut self, e: &ExprRef, span: Span, env: &Env) -> Result<Value> {
        match self.eval(e, env)? {
            Value::Bool(b) => Ok(Value::Bool(!b)),
            other => Err(self.type_error("a Boolean", &other).at(span)),
        }
    }

    #[inline(never)]
    fn eval_neg(&mut self, e: &ExprRef, span: Span, env: &Env) -> Result<Value> {
        let v = self.eval(e, env)?;
        super::ops::arith(self, BinOp::Sub, &Value::Int(0), &v).at(span)
    }

    #[inline(never)]
    fn eval_search_path(&mut self, p: &str, span: Span) -> Result<Value> {
        self.find_in_search_path(p).at(span)
    }

    #[inline(never)]
    fn eval_assert(
        &mut self,
        cond: &ExprRef,
        body: &ExprRef,
        text: &str,
        span: Span,
        env: &Env,
    ) -> Result<Value> {
        let c = self.eval(cond, env).map_err(|e| {
            e.context(span, || {
                format!("while evaluating the condition of the assertion '{text}'")
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
                        return Err(EvalError::of_kind(ErrorKind::Assert, why)
                            .at(span)
                            .context(span, || {
                                format!("while evaluating the condition of the assertion '{text}'")
                            }));
                    }
                }
                Err(
                    EvalError::of_kind(ErrorKind::Assert, format!("assertion '{text}' failed"))
                        .at(span),
                )
            }
            other => Err(self.type_error("a Boolean", &other).at(cond.span())),
        }
    }

    #[inline(never)]
    fn eval_path_interpolate(&mut self, parts: &[ExprRef], span: Span, env: &Env) -> Result<Value> {
        let mut s = String::new();
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
            s.push_str(&part.s);
        }
        Ok(Value::path(super::canon_path(&s)))
    }

    /// `{ file, line, column }` for a position, or null without one.
    pub fn pos_attrs(&self, span: Span) -> Value {
        match self.sources.describe(span) {
            Some((file, line, column)) => Value::attrs(Attrs::from_entries(vec![
                Attr {
                    name: known::file(),
                    value: Value::string(file),
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
    fn eval_with_var(&mut self, name: Symbol, span: Span, env: &Env) -> Result<Value> {
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
            Value::String(s) => Ok(Some(Symbol::new(&s.s))),
            Value::Null => Ok(None),
            other => Err(self.type_error("a string", &other).at(e.span())),
        }
    }

    #[inline(never)]
    fn eval_select(
        &mut self,
        e: &ExprRef,
        path: &[AttrName],
        default: Option<&ExprRef>,
        span: Span,
        env: &Env,
    ) -> Result<Value> {
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
    fn eval_has_attr(&mut self, e: &ExprRef, path: &[AttrName], env: &Env) -> Result<Value> {
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

    #[inline(never)]
    fn eval_binary(
        &mut self,
        op: BinOp,
        lhs: &ExprRef,
        rhs: &ExprRef,
        span: Span,
        env: &Env,
    ) -> Result<Value> {
        use super::ops;
        match op {
            BinOp::And | BinOp::Or | BinOp::Implies => {
                let l = self.eval(lhs, env)?;
                let l = match l {
                    Value::Bool(b) => b,
                    other => {
                        return Err(self.type_error("a Boolean", &other).at(span).context(span, || {
                            format!("in the left operand of the {} operator", bool_op_name(op))
                        }))
                    }
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
                    other => Err(self.type_error("a Boolean", &other).at(span).context(span, || {
                        format!("in the right operand of the {} operator", bool_op_name(op))
                    })),
                }
            }
            BinOp::PipeRight | BinOp::PipeLeft if !self.options.pipe_operators => {
                Err(EvalError::new(
                    "experimental Nix feature 'pipe-operators' is disabled; add '--extra-experimental-features pipe-operators' to enable it",
                )
                .at(span))
            }
            BinOp::PipeRight => {
                let f = self.eval(rhs, env)?;
                let a = self.thunk(lhs, env);
                self.call(&f, a, span)
            }
            BinOp::PipeLeft => {
                let f = self.eval(lhs, env)?;
                let a = self.thunk(rhs, env);
                self.call(&f, a, span)
            }
            _ => {
                let l = self.eval(lhs, env)?;
                let r = self.eval(rhs, env)?;
                if let (Value::Int(x), Value::Int(y)) = (&l, &r) {
                    if let Some(v) = int_op(op, *x, *y) {
                        return Ok(v);
                    }
                }
                match op {
                    BinOp::Eq => Ok(Value::Bool(ops::equal(self, &l, &r).at(span)?)),
                    BinOp::NotEq => Ok(Value::Bool(!ops::equal(self, &l, &r).at(span)?)),
                    BinOp::Lt => Ok(Value::Bool(ops::compare(self, &l, &r).at(span)?.is_lt())),
                    BinOp::Le => Ok(Value::Bool(!ops::compare(self, &r, &l).at(span)?.is_lt())),
                    BinOp::Gt => Ok(Value::Bool(ops::compare(self, &r, &l).at(span)?.is_lt())),
                    BinOp::Ge => Ok(Value::Bool(!ops::compare(self, &l, &r).at(span)?.is_lt())),
                    BinOp::Update => {
                        crate::stats::bump(crate::stats::Counter::Updates);
                        let a = self.force_attrs(&l).at(span).map_err(|e| {
                            e.context(span, || "in the left operand of the update (//) operator".into())
                        })?;
                        let b = self.force_attrs(&r).at(span).map_err(|e| {
                            e.context(span, || "in the right operand of the update (//) operator".into())
                        })?;
                        // Nix returns an operand itself when the other one is empty.
                        if b.is_empty() {
                            return Ok(Value::Attrs(a));
                        }
                        if a.is_empty() {
                            return Ok(Value::Attrs(b));
                        }
                        Ok(Value::attrs(a.update(&b)))
                    }
                    BinOp::Concat => {
                        let a = self.force_list(&l).at(span).map_err(|e| {
                            e.context(span, || "in the left operand of the list concatenation (++) operator".into())
                        })?;
                        let b = self.force_list(&r).at(span).map_err(|e| {
                            e.context(span, || "in the right operand of the list concatenation (++) operator".into())
                        })?;
                        if b.is_empty() {
                            return Ok(Value::List(a));
                        }
                        if a.is_empty() {
                            return Ok(Value::List(b));
                        }
                        let mut v = Vec::with_capacity(a.len() + b.len());
                        v.extend(a.iter().cloned());
                        v.extend(b.iter().cloned());
                        Ok(Value::list(v))
                    }
                    BinOp::Add => ops::add(self, &l, &r).at(span),
                    _ => ops::arith(self, op, &l, &r).at(span),
                }
            }
        }
    }

    #[inline(never)]
    fn eval_interpolate(&mut self, parts: &[ExprRef], span: Span, env: &Env) -> Result<Value> {
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
            out.s.push_str(&s.s);
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
