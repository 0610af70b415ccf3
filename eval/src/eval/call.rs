//! Function application: lambdas, builtins and `__functor` sets.

use super::Eval;
use crate::error::{ErrorExt, EvalError, Result};
use crate::ir::Param;
use crate::source::Span;
use crate::symbol::known;
use crate::value::{Closure, EnvFrame, PrimOpApp, Slots, Value};
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
            Value::Lambda(c) => self.nested(|ev| ev.call_lambda(c, arg, span)),
            Value::PrimOp(p) => {
                if p.args.len() + 1 == p.op.arity {
                    let mut args: SmallVec<[Value; 4]> = SmallVec::with_capacity(p.op.arity);
                    args.extend(p.args.iter().cloned());
                    args.push(arg);
                    let op = p.op;
                    self.nested(|ev| (op.func)(ev, &args, span)).map_err(|e| {
                        if op.name == "addErrorContext" {
                            e
                        } else {
                            e.context(span, || format!("while calling the '{}' builtin", op.name))
                        }
                    })
                } else {
                    let mut args = p.args.clone();
                    args.push(arg);
                    Ok(Value::PrimOp(Rc::new(PrimOpApp { op: p.op, args })))
                }
            }
            Value::Attrs(a) => match a.get(known::functor()) {
                Some(functor) => {
                    let functor = functor.clone();
                    let g = self.call(&functor, f.clone(), span)?;
                    self.call(&g, arg, span)
                }
                None => Err(not_a_function(self, f).at(span)),
            },
            _ => Err(not_a_function(self, f).at(span)),
        }
    }

    /// Applies `f` to several arguments in turn.
    pub fn call_n(&mut self, f: &Value, args: &[Value], span: Span) -> Result<Value> {
        let mut v = f.clone();
        for a in args {
            v = self.call(&v, a.clone(), span)?;
        }
        Ok(v)
    }

    fn call_lambda(&mut self, c: &Rc<Closure>, arg: Value, span: Span) -> Result<Value> {
        let lambda = &c.lambda;
        let frame = match &lambda.param {
            Param::Ident(_) => EnvFrame::one(Some(c.env.clone()), arg),
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
                            .context(lambda.span, || format!("while calling {}", lambda_desc(c))))
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
                                lambda_name(c),
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
                let frame = EnvFrame::from_values(Some(c.env.clone()), slots);
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
                                lambda_name(c),
                                a.name
                            ))
                            .at(lambda.span)
                            .context(span, || "from call site".into()));
                        }
                    }
                }
                frame
            }
        };
        self.eval(&lambda.body, &frame).map_err(|e| {
            if e.trace.len() < 32 {
                let e = e.context(lambda.span, || format!("while calling {}", lambda_desc(c)));
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

fn lambda_name(c: &Closure) -> String {
    match c.lambda.name {
        Some(n) => n.to_string(),
        None => "anonymous lambda".into(),
    }
}

fn lambda_desc(c: &Closure) -> String {
    match c.lambda.name {
        Some(n) => format!("'{n}'"),
        None => "anonymous lambda".into(),
    }
}

/// `attempt to call something which is not a function but …`.
fn not_a_function(ev: &Eval, v: &Value) -> Box<EvalError> {
    EvalError::new(format!(
        "attempt to call something which is not a function but {}: {}",
        v.type_desc(),
        crate::print::show_for_error(ev, v)
    ))
}
