//! Checking decoded IR before it is used. A cache entry is bytes on disk that anyone (or
//! any disk error the checksum misses, or an entry written under another file's key) may
//! have changed; the evaluator, on its hot path, trusts what lowering guarantees. So a
//! decoded tree is walked once, mirroring the scope frames the evaluator will build, and
//! rejected unless it keeps every one of those guarantees:
//!
//! - every variable `(depth, slot)` names a slot of a frame that exists when it is
//!   evaluated (`let`: one slot per binding; `rec { }`: one per static binding; a lambda:
//!   one for `x:`, one per formal plus `@name` for a pattern; `with`: one; the file's root:
//!   none, or one for a `scopedImport` scope) — `lookup_ref` and `Env::get_ref` index
//!   without recovering;
//! - every `inherit (src)` names one of its scope's sources;
//! - calls have arguments, selections and `?` tests a non-empty attribute path;
//! - path constants are absolute.
//!
//! Spans and symbol numbers are checked while decoding (`decode.rs`). A rejected entry is
//! a cache miss: the file is lowered again and the entry rewritten.

use crate::ir::{AttrName, AttrsDef, Binding, BindingValue, Expr, Lambda, Param};
use crate::value::Value;

/// Whether `e`, the IR of a whole file evaluated in a root frame of `root_slots` slots, keeps
/// the evaluator's invariants.
pub fn valid(e: &Expr, root_slots: u32) -> bool {
    let mut frames = vec![root_slots];
    Checker {
        frames: &mut frames,
    }
    .expr(e)
}

struct Checker<'a> {
    /// Slot counts of the frames in scope, innermost last.
    frames: &'a mut Vec<u32>,
}

impl Checker<'_> {
    /// Checks `f` with a frame of `slots` slots pushed.
    fn within(&mut self, slots: usize, f: impl FnOnce(&mut Self) -> bool) -> bool {
        let Ok(slots) = u32::try_from(slots) else {
            return false;
        };
        self.frames.push(slots);
        let ok = f(self);
        self.frames.pop();
        ok
    }

    fn all(&mut self, es: &[crate::ir::ExprRef]) -> bool {
        es.iter().all(|e| self.expr(e))
    }

    fn path(&mut self, path: &[AttrName]) -> bool {
        !path.is_empty()
            && path.iter().all(|a| match a {
                AttrName::Static(_) => true,
                AttrName::Dynamic(e) => self.expr(e),
            })
    }

    fn expr(&mut self, e: &Expr) -> bool {
        // Decoding bounds the depth; the walk may still be deeper than a small stack.
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.expr_inner(e))
    }

    fn expr_inner(&mut self, e: &Expr) -> bool {
        match e {
            Expr::Const(v, _) => match v {
                Value::Path(p) => p.starts_with('/'),
                _ => true,
            },
            Expr::Var { depth, slot, .. } => {
                let depth = *depth as usize;
                depth < self.frames.len() && *slot < self.frames[self.frames.len() - 1 - depth]
            }
            Expr::Global(..) | Expr::WithVar(..) | Expr::SearchPath(..) | Expr::CurPos(_) => true,
            Expr::Attrs(def) => self.attrs(def),
            Expr::List(items, _) => self.all(items),
            Expr::Lambda(l) => self.lambda(l),
            Expr::Call { func, args, .. } => !args.is_empty() && self.expr(func) && self.all(args),
            Expr::Select {
                expr,
                path,
                default,
                ..
            } => {
                self.expr(expr) && self.path(path) && default.as_ref().is_none_or(|d| self.expr(d))
            }
            Expr::HasAttr { expr, path, .. } => self.expr(expr) && self.path(path),
            Expr::Let(l) => {
                // The bindings' values, the `inherit (…)` sources and the body are in the
                // `let` frame; plain `inherit x;` looks outside it.
                self.inherits(&l.bindings, l.inherit_sources.len())
                    && l.bindings
                        .iter()
                        .all(|b| !matches!(&b.value, BindingValue::Inherit(e) if !self.expr(e)))
                    && self.within(l.bindings.len(), |c| {
                        c.binding_exprs(&l.bindings) && c.all(&l.inherit_sources) && c.expr(&l.body)
                    })
            }
            Expr::With { attrs, body, .. } => self.expr(attrs) && self.within(1, |c| c.expr(body)),
            Expr::If {
                cond, then, else_, ..
            } => self.expr(cond) && self.expr(then) && self.expr(else_),
            Expr::Assert { cond, body, .. } => self.expr(cond) && self.expr(body),
            Expr::Not(e, _) | Expr::Neg(e, _) => self.expr(e),
            Expr::Binary { lhs, rhs, .. } => self.expr(lhs) && self.expr(rhs),
            Expr::Interpolate { parts, .. } | Expr::PathInterpolate { parts, .. } => {
                self.all(parts)
            }
        }
    }

    /// Every `inherit (src)` names one of `sources` sources.
    fn inherits(&self, bindings: &[Binding], sources: usize) -> bool {
        bindings.iter().all(|b| match b.value {
            BindingValue::InheritFrom { source } => source < sources,
            _ => true,
        })
    }

    /// The bindings' own expressions (not plain `inherit`s), in the current frame.
    fn binding_exprs(&mut self, bindings: &[Binding]) -> bool {
        bindings.iter().all(|b| match &b.value {
            BindingValue::Expr(e) => self.expr(e),
            BindingValue::Inherit(_) | BindingValue::InheritFrom { .. } => true,
        })
    }

    fn attrs(&mut self, def: &AttrsDef) -> bool {
        if !self.inherits(&def.bindings, def.inherit_sources.len()) {
            return false;
        }
        // Plain `inherit x;` is evaluated outside the set's own frame.
        let plain = def
            .bindings
            .iter()
            .all(|b| !matches!(&b.value, BindingValue::Inherit(e) if !self.expr(e)));
        if !plain {
            return false;
        }
        let inner = |c: &mut Self| {
            c.binding_exprs(&def.bindings)
                && c.all(&def.inherit_sources)
                && def
                    .dynamic
                    .iter()
                    .all(|(name, value, _)| c.expr(name) && c.expr(value))
        };
        if def.recursive {
            self.within(def.bindings.len(), inner)
        } else {
            inner(self)
        }
    }

    fn lambda(&mut self, l: &Lambda) -> bool {
        match &l.param {
            Param::Ident(_) => self.within(1, |c| c.expr(&l.body)),
            Param::Pattern { formals, at, .. } => {
                let slots = formals.len() + usize::from(at.is_some());
                self.within(slots, |c| {
                    formals
                        .iter()
                        .all(|f| f.default.as_ref().is_none_or(|d| c.expr(d)))
                        && c.expr(&l.body)
                })
            }
        }
    }
}
