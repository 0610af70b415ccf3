//! Function application: lambdas, builtins and `__functor` sets.

use super::Eval;
use crate::error::{ErrorExt, EvalError, Result};
use crate::ir::{Expr, Lambda, Param};
use crate::source::Span;
use crate::symbol::known;
use crate::value::Shared;
use crate::value::{Closure, Env, PrimOp, PrimOpApp, Slots, Value};
use smallvec::SmallVec;
use std::rc::Rc;

impl Eval {
    /// Applies the function `f` to `arg` (which may be unforced).
    pub fn call(&mut self, f: &Value, arg: Value, span: Span) -> Result<Value> {
        match f {
            Value::Thunk(_) => {
                let f = self.force(f)?;
                self.call_forced(&f, arg, span)
            }
            _ => self.call_forced(f, arg, span),
        }
    }

    /// [`Eval::call`] on a function that is not a thunk.
    fn call_forced(&mut self, f: &Value, arg: Value, span: Span) -> Result<Value> {
        match f {
            Value::Lambda(c) => {
                crate::stats::bump(crate::stats::Counter::FunctionCalls);
                c.mark_forced();
                self.nested(|ev| ev.call_lambda(c, arg, span))
            }
            Value::PrimOp(p) => self.call_builtin(p, arg, span),
            _ => self.call_functor(f, arg, span),
        }
    }

    /// Applies a builtin (maybe partially applied) to one more argument.
    #[inline(never)]
    fn call_builtin(&mut self, p: &PrimOpApp, arg: Value, span: Span) -> Result<Value> {
        if p.args.is_empty() && p.op.arity == 1 {
            self.call_primop(p.op, std::slice::from_ref(&arg), span)
        } else if p.args.len() + 1 == p.op.arity {
            let mut args = collected_args(p);
            args.push(arg);
            self.call_primop(p.op, &args, span)
        } else {
            // Sized for the arguments so far and this one: one allocation, where a clone
            // and a push would allocate twice.
            let mut args = Vec::with_capacity(p.args.len() + 1);
            args.extend(p.args.iter().cloned());
            args.push(arg);
            Ok(Value::PrimOp(Shared::new(PrimOpApp { op: p.op, args })))
        }
    }

    /// Applies a set with `__functor`, or reports that `f` is not a function.
    #[inline(never)]
    fn call_functor(&mut self, f: &Value, arg: Value, span: Span) -> Result<Value> {
        match f {
            Value::Attrs(a) => match a.get(known::functor()) {
                Some(functor) => {
                    // One call level, as in Nix: a functor returning itself
                    // (`__functor = self: self`) ends at `max-call-depth`.
                    let functor = functor.clone();
                    self.nested(|ev| {
                        let g = ev.call(&functor, f.clone(), span)?;
                        ev.call(&g, arg, span)
                    })
                }
                None => Err(not_a_function(self, f).at(span)),
            },
            _ => Err(not_a_function(self, f).at(span)),
        }
    }

    /// Runs a builtin on all its arguments.
    fn call_primop(&mut self, op: &'static PrimOp, args: &[Value], span: Span) -> Result<Value> {
        crate::stats::bump(crate::stats::Counter::PrimOpCalls);
        self.nested(|ev| (op.func)(ev, args, span)).map_err(|e| {
            if op.name == "addErrorContext" {
                e
            } else {
                e.context(span, || format!("while calling the '{}' builtin", op.name))
            }
        })
    }

    /// Applies `f` to several arguments in turn. A curried lambda (`x: y: …`) takes them
    /// together: its inner lambdas are entered directly, without making a closure for each
    /// partial application (the result and error traces are the same).
    pub fn call_n(&mut self, f: &Value, args: &[Value], span: Span) -> Result<Value> {
        self.call_with(f, args.len(), |_, i| args[i].clone(), span)
    }

    /// Applies `f` to `n` arguments, the `i`th made by `arg(self, i)` when it is needed
    /// (see [`Eval::call_n`]).
    #[inline]
    pub(crate) fn call_with(
        &mut self,
        f: &Value,
        n: usize,
        arg: impl Fn(&Self, usize) -> Value,
        span: Span,
    ) -> Result<Value> {
        let mut v = self.force(f)?;
        let mut i = 0;
        while i < n {
            match &v {
                Value::Lambda(c) => {
                    let (r, next) =
                        self.nested(|ev| ev.call_lambda_curried(c, i, n, &arg, span))?;
                    v = r;
                    i = next;
                }
                // A builtin given all its remaining arguments at once: no partial application.
                Value::PrimOp(p)
                    if p.op.arity - p.args.len() > 1 && p.op.arity - p.args.len() <= n - i =>
                {
                    let p = p.clone();
                    v = self.call_builtin_saturated(&p, &mut i, &arg, span)?;
                }
                _ => {
                    let a = arg(self, i);
                    v = self.call_forced(&v, a, span)?;
                    i += 1;
                }
            }
            if i < n {
                v = self.force(&v)?;
            }
        }
        Ok(v)
    }

    /// Calls builtin `p` on its remaining arguments, from argument `*i` on (advancing `*i`).
    #[inline(never)]
    fn call_builtin_saturated(
        &mut self,
        p: &PrimOpApp,
        i: &mut usize,
        arg: &impl Fn(&Self, usize) -> Value,
        span: Span,
    ) -> Result<Value> {
        // A builtin called with all its arguments at once, the common case: the arguments in
        // an array, without a buffer's length and spill checks.
        if p.args.is_empty() && p.op.arity == 2 {
            let args = [arg(self, *i), arg(self, *i + 1)];
            *i += 2;
            return self.call_primop(p.op, &args, span);
        }
        if p.args.is_empty() && p.op.arity == 3 {
            let args = [arg(self, *i), arg(self, *i + 1), arg(self, *i + 2)];
            *i += 3;
            return self.call_primop(p.op, &args, span);
        }
        let mut args = collected_args(p);
        while args.len() < p.op.arity {
            args.push(arg(self, *i));
            *i += 1;
        }
        self.call_primop(p.op, &args, span)
    }

    /// Calls `c` on argument `i`, then its body's inner lambdas on the following arguments
    /// (up to `n`) as long as the body is a lambda; returns the result and the index of the
    /// first argument not used.
    fn call_lambda_curried(
        &mut self,
        c: &Shared<Closure>,
        mut i: usize,
        n: usize,
        arg: &impl Fn(&Self, usize) -> Value,
        span: Span,
    ) -> Result<(Value, usize)> {
        crate::stats::bump(crate::stats::Counter::FunctionCalls);
        let mut lambda = &c.lambda;
        let mut frame = self.bind_args(lambda, &c.env, arg(self, i), span)?;
        i += 1;
        while i < n {
            let Expr::Lambda(inner) = &*lambda.body else {
                break;
            };
            crate::stats::bump(crate::stats::Counter::FunctionCalls);
            frame = self.bind_args(inner, &frame, arg(self, i), span)?;
            lambda = inner;
            i += 1;
        }
        Ok((self.eval_body(lambda, &frame, span)?, i))
    }

    fn call_lambda(&mut self, c: &Shared<Closure>, arg: Value, span: Span) -> Result<Value> {
        let frame = self.bind_args(&c.lambda, &c.env, arg, span)?;
        self.eval_body(&c.lambda, &frame, span)
    }

    /// The frame of a call of `lambda` (closing over `env`) on `arg`: the argument, or for a
    /// pattern the matched attributes and defaults.
    #[inline]
    fn bind_args(&mut self, lambda: &Rc<Lambda>, env: &Env, arg: Value, span: Span) -> Result<Env> {
        match &lambda.param {
            Param::Ident(_) => Ok(Env::one(Some(env.clone()), arg)),
            Param::Pattern { .. } => self.bind_pattern(lambda, env, arg, span),
        }
    }

    /// [`Eval::bind_args`] for a pattern lambda (kept out of line: the common `x:` case
    /// then needs no large stack frame).
    #[inline(never)]
    fn bind_pattern(
        &mut self,
        lambda: &Rc<Lambda>,
        env: &Env,
        arg: Value,
        span: Span,
    ) -> Result<Env> {
        Ok(match &lambda.param {
            Param::Ident(_) => Env::one(Some(env.clone()), arg),
            Param::Pattern {
                formals,
                ellipsis,
                at,
            } => {
                let attrs = match self.force(&arg)? {
                    Value::Attrs(a) => a,
                    other => {
                        return Err(self
                            .type_error("a set", &other)
                            .at(span)
                            .context(lambda.span, || {
                                format!("while calling {}", lambda_desc(lambda))
                            }))
                    }
                };
                let n = formals.len() + usize::from(at.is_some());
                let mut slots = Slots::with_capacity(n);
                let mut used = 0;
                let mut defaulted = false;
                for formal in formals.iter() {
                    match attrs.get(formal.name) {
                        Some(v) => {
                            used += 1;
                            slots.push(v.clone());
                        }
                        None if formal.default.is_some() => {
                            defaulted = true;
                            slots.push(Value::Null);
                        }
                        None => {
                            return Err(EvalError::new(format!(
                                "function '{}' called without required argument '{}'",
                                lambda_name(lambda),
                                formal.name
                            ))
                            .at(lambda.span)
                            .context(span, || "from call site".into()))
                        }
                    }
                }
                if at.is_some() {
                    slots.push(Value::Attrs(attrs.clone()));
                }
                let frame = Env::from_values(Some(env.clone()), slots);
                if defaulted {
                    // Defaults see the whole frame, so they are made once it exists.
                    for (i, formal) in formals.iter().enumerate() {
                        if let Some(d) = &formal.default {
                            if !attrs.contains(formal.name) {
                                frame.set(i, self.thunk_rec(d, &frame));
                            }
                        }
                    }
                }
                if !ellipsis && used < attrs.len() {
                    for a in attrs.sorted_by_name() {
                        if !formals.iter().any(|f| f.name == a.name) {
                            return Err(EvalError::new(format!(
                                "function '{}' called with unexpected argument '{}'",
                                lambda_name(lambda),
                                a.name
                            ))
                            .at(lambda.span)
                            .context(span, || "from call site".into()));
                        }
                    }
                }
                frame
            }
        })
    }

    /// Evaluates `lambda`'s body in its call frame, adding the call to error traces.
    fn eval_body(&mut self, lambda: &Lambda, frame: &Env, span: Span) -> Result<Value> {
        self.eval(&lambda.body, frame).map_err(|e| {
            if e.trace.len() < 32 {
                let e = e.context(lambda.span, || {
                    format!("while calling {}", lambda_desc(lambda))
                });
                if span.is_some() {
                    e.context(span, || "from call site".into())
                } else {
                    e
                }
            } else {
                e
            }
        })
    }
}

/// The arguments a partially applied builtin has so far, in a buffer for the rest (pushed
/// one by one: `SmallVec::extend` with a cloning iterator cost far more per call).
#[inline(always)]
fn collected_args(p: &PrimOpApp) -> SmallVec<[Value; 4]> {
    let mut args = SmallVec::new();
    for a in &p.args {
        args.push(a.clone());
    }
    args
}

fn lambda_name(lambda: &Lambda) -> String {
    match lambda.name {
        Some(n) => n.to_string(),
        None => "anonymous lambda".into(),
    }
}

fn lambda_desc(lambda: &Lambda) -> String {
    match lambda.name {
        Some(n) => format!("'{n}'"),
        None => "anonymous lambda".into(),
    }
}

/// `attempt to call something which is not a function but …`.
#[cold]
#[inline(never)]
fn not_a_function(ev: &Eval, v: &Value) -> Box<EvalError> {
    EvalError::new(format!(
        "attempt to call something which is not a function but {}: {}",
        v.type_desc(),
        crate::print::show_for_error(ev, v)
    ))
}
