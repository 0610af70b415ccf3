//! String coercion: interpolation, `toString`, `__toString` and `outPath`.

use super::{CoerceOpts, Eval};
use crate::error::{ErrorExt, EvalError, Result};
use crate::print::show_for_error;
use crate::source::Span;
use crate::symbol::known;
use crate::value::{NixString, Value};

impl Eval {
    /// Coerces `v` to a string as Nix's `coerceToString` does.
    pub fn coerce_to_string(&mut self, v: &Value, opts: CoerceOpts) -> Result<NixString> {
        let v = self.force(v)?;
        match &v {
            Value::String(s) => Ok((**s).clone()),
            Value::Path(p) => {
                if opts.copy_to_store {
                    let store_path = self.copy_path_to_store(p)?;
                    let mut ctx = crate::value::Context::new();
                    ctx.insert(store_path.clone());
                    Ok(NixString::new(store_path, ctx))
                } else {
                    Ok(NixString::plain(crate::bytestr::decode(p).into_owned()))
                }
            }
            Value::Attrs(a) => {
                if let Some(f) = a.get(known::to_string()) {
                    let f = f.clone();
                    let r = self.call(&f, v.clone(), Span::NONE)?;
                    return self
                        .descend(|ev| ev.coerce_to_string(&r, opts))
                        .map_err(|e| {
                            e.context(Span::NONE, || {
                                "while evaluating the result of the `__toString` attribute".into()
                            })
                        });
                }
                if let Some(p) = a.get(known::out_path()) {
                    let p = p.clone();
                    return self.descend(|ev| ev.coerce_to_string(&p, opts));
                }
                Err(cannot_coerce(self, &v))
            }
            Value::Null if opts.coerce_more => Ok(NixString::default()),
            Value::Bool(b) if opts.coerce_more => Ok(NixString::plain(if *b { "1" } else { "" })),
            Value::Int(i) if opts.coerce_more => Ok(NixString::plain(i.to_string())),
            Value::Float(f) if opts.coerce_more => {
                Ok(NixString::plain(crate::print::float_to_string(*f)))
            }
            Value::List(items) if opts.coerce_more => {
                let mut out = NixString::default();
                for (i, item) in items.iter().enumerate() {
                    let item = self.force(item)?;
                    let s = self.descend(|ev| ev.coerce_to_string(&item, opts))?;
                    out.s.extend_from_slice(&s.s);
                    out.ctx.extend(s.ctx);
                    // Nix separates with a space, except after an empty list.
                    let empty_list = matches!(&item, Value::List(l) if l.is_empty());
                    if i + 1 < items.len() && !empty_list {
                        out.s.push(b' ');
                    }
                }
                Ok(out)
            }
            _ => Err(cannot_coerce(self, &v)),
        }
    }
}

fn cannot_coerce(ev: &Eval, v: &Value) -> Box<EvalError> {
    EvalError::new(format!(
        "cannot coerce {} to a string: {}",
        v.type_desc(),
        show_for_error(ev, v)
    ))
}
