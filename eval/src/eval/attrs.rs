//! Building attribute sets and `let` frames from their definitions.

use super::Eval;
use crate::error::{ErrorExt, EvalError, Result};
use crate::ir::{AttrsDef, Binding, BindingValue, ExprRef};
use crate::symbol::{known, Symbol};
use crate::value::{Attr, Attrs, AttrsBuilder, Env, Thunk, Value};

impl Eval {
    /// Evaluates an attribute-set literal.
    #[inline(never)]
    pub(crate) fn build_attrs(&mut self, def: &AttrsDef, env: &Env) -> Result<Value> {
        crate::stats::bump(crate::stats::Counter::SetLiterals);
        // Static names only (nearly every set): the entries go straight into the set.
        if def.dynamic.is_empty() && !(def.recursive && has_overrides(def)) {
            let mut set = AttrsBuilder::with_capacity(def.bindings.len());
            self.static_entries(def, env, |attr| set.push(attr));
            return Ok(Value::Attrs(set.finish()));
        }
        let mut entries: Vec<Attr> = Vec::with_capacity(def.bindings.len() + def.dynamic.len());
        let inner = self.static_entries(def, env, |attr| entries.push(attr));
        let overridden = def.recursive && self.apply_overrides(def, &inner, &mut entries)?;
        if def.dynamic.is_empty() && !overridden {
            return Ok(Value::Attrs(Attrs::from_sorted(entries)));
        }
        for (name_expr, value_expr, span) in &def.dynamic {
            let name = self.eval(name_expr, &inner)?;
            let name = match name {
                Value::Null => continue,
                Value::String(s) => Symbol::from_bytes(&s.s),
                other => {
                    return Err(self
                        .type_error("a string", &other)
                        .at(name_expr.span())
                        .context(name_expr.span(), || {
                            "while evaluating the name of a dynamic attribute".into()
                        }))
                }
            };
            if let Some(prev) = entries.iter().find(|a| a.name == name) {
                let at = self
                    .sources
                    .describe(prev.span)
                    .map(|(f, l, c)| format!(" at {f}:{l}:{c}"))
                    .unwrap_or_default();
                return Err(EvalError::new(format!(
                    "dynamic attribute '{name}' already defined{at}"
                ))
                .at(*span));
            }
            let value = self.thunk(value_expr, &inner);
            entries.push(Attr {
                name,
                value,
                span: *span,
            });
        }
        Ok(Value::Attrs(Attrs::from_entries(entries)))
    }

    /// Makes the static attributes of `def` in symbol order, passing each to `push`; returns
    /// the environment the set's values are evaluated in (the `rec` frame, or `env`).
    #[inline(always)]
    fn static_entries(&mut self, def: &AttrsDef, env: &Env, mut push: impl FnMut(Attr)) -> Env {
        // The static entries are made in symbol order, so that the set needs no sorting.
        let order = def.symbol_order();
        let nth = |k: usize| order.map_or(k, |o| o[k] as usize);
        if def.recursive {
            let frame = Env::new(Some(env.clone()), def.bindings.len());
            let sources = self.source_values(&def.inherit_sources, &frame, true);
            for k in 0..def.bindings.len() {
                let i = nth(k);
                let b = &def.bindings[i];
                let value = self.binding_value(b, &sources, env, &frame, true);
                frame.set(i, value.clone());
                push(Attr {
                    name: b.name,
                    value,
                    span: b.span,
                });
            }
            frame
        } else {
            let sources = self.source_values(&def.inherit_sources, env, false);
            for k in 0..def.bindings.len() {
                let b = &def.bindings[nth(k)];
                let value = self.binding_value(b, &sources, env, env, false);
                push(Attr {
                    name: b.name,
                    value,
                    span: b.span,
                });
            }
            env.clone()
        }
    }

    /// The legacy `__overrides` attribute of a `rec` set: its attributes replace the set's
    /// own, both in the result and for references inside the set. Whether there was one
    /// (then `entries` is no longer sorted and unique).
    fn apply_overrides(
        &mut self,
        def: &AttrsDef,
        frame: &Env,
        entries: &mut Vec<Attr>,
    ) -> Result<bool> {
        let name = known::overrides();
        let Some(pos) = def.bindings.iter().position(|b| b.name == name) else {
            return Ok(false);
        };
        let overrides = frame.get(pos);
        let overrides = self.force_attrs(&overrides).at(def.bindings[pos].span)?;
        for attr in overrides.iter() {
            if let Some(i) = def.bindings.iter().position(|b| b.name == attr.name) {
                frame.set(i, attr.value.clone());
            }
            entries.push(attr.clone());
        }
        Ok(true)
    }

    /// Builds the frame of a `let`.
    pub(crate) fn build_let_frame(
        &mut self,
        bindings: &[Binding],
        sources: &[ExprRef],
        env: &Env,
    ) -> Env {
        let frame = Env::new(Some(env.clone()), bindings.len());
        let source_values = self.source_values(sources, &frame, true);
        for (i, b) in bindings.iter().enumerate() {
            let v = self.binding_value(b, &source_values, env, &frame, true);
            frame.set(i, v);
        }
        frame
    }

    /// The (lazy) values of `inherit (source)` sources, in `inner`. Most sets and `let`s have
    /// none: that case is a test, not a call.
    #[inline(always)]
    fn source_values(&mut self, sources: &[ExprRef], inner: &Env, recursive: bool) -> Vec<Value> {
        if sources.is_empty() {
            return Vec::new();
        }
        self.some_source_values(sources, inner, recursive)
    }

    #[inline(never)]
    fn some_source_values(
        &mut self,
        sources: &[ExprRef],
        inner: &Env,
        recursive: bool,
    ) -> Vec<Value> {
        sources
            .iter()
            .map(|s| {
                if recursive {
                    self.thunk_rec(s, inner)
                } else {
                    self.thunk(s, inner)
                }
            })
            .collect()
    }

    /// The (lazy) value of one binding: an `Expr` or inherit source in `inner`, a plain
    /// `inherit` in `outer`.
    #[inline]
    fn binding_value(
        &mut self,
        b: &Binding,
        source_values: &[Value],
        outer: &Env,
        inner: &Env,
        recursive: bool,
    ) -> Value {
        match &b.value {
            BindingValue::Expr(e) => {
                if recursive {
                    self.thunk_rec(e, inner)
                } else {
                    self.thunk(e, inner)
                }
            }
            BindingValue::Inherit(e) => self.thunk(e, outer),
            BindingValue::InheritFrom { source } => {
                let src = source_values[*source].clone();
                let name = b.name;
                let span = b.span;
                Thunk::native(move |ev: &mut Eval| {
                    let a = ev.force_attrs(&src).at(span)?;
                    match a.get(name) {
                        Some(v) => ev.force(v),
                        None => Err(super::expr::missing_attr(name, &a).at(span)),
                    }
                })
            }
        }
    }
}

/// Whether a `rec` set defines the legacy `__overrides` attribute (see
/// [`Eval::apply_overrides`]).
fn has_overrides(def: &AttrsDef) -> bool {
    let name = known::overrides();
    def.bindings.iter().any(|b| b.name == name)
}

#[cfg(test)]
mod tests {
    use crate::builtins::testing::eval;

    #[test]
    fn set_literals_in_any_name_order_with_overrides_and_dynamic_names() {
        // Names written out of interning order come out sorted, in every kind of literal.
        assert_eq!(
            eval("[ { zz = 1; aa = 2; mm = 3; } (rec { zz = aa; aa = 2; }) ]"),
            "[ { aa = 2; mm = 3; zz = 1; } { aa = 2; zz = 2; } ]"
        );
        // A dynamic name joins the static ones.
        assert_eq!(
            eval("{ zz = 1; ${\"bb\"} = 2; aa = 3; }"),
            "{ aa = 3; bb = 2; zz = 1; }"
        );
        // `__overrides` together with a dynamic name keeps both.
        assert_eq!(
            eval(
                "rec { zz = bar; ${\"foo\"} = \"bar\"; __overrides = { bar = \"qux\"; }; bar = 1; }"
            ),
            "{ __overrides = { bar = \"qux\"; }; bar = \"qux\"; foo = \"bar\"; zz = \"qux\"; }"
        );
    }
}
