//! Function modules called once and shared by many evaluations (a role's interface for
//! every machine, an export interface for every key): they receive a `config` (and
//! `options`) that must not be read. If one is read, the error [`READS_CONFIG`] stops the
//! computation, and the caller computes again with sharing off ([`set_sharing`]).

use super::{attr, attr_sym, attrs};
use kith_eval::{Eval, Result, Thunk, Value};

/// The error a shared module raises when it reads `config` or `options`.
pub const READS_CONFIG: &str =
    "kith: a shared module reads `config` (its modules are evaluated per use)";

thread_local! {
    static SHARING: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

/// Whether modules are shared (the default).
pub fn sharing() -> bool {
    SHARING.with(|s| s.get())
}

/// Shares modules (`true`, the default) or evaluates them per use (`false`).
pub fn set_sharing(share: bool) {
    SHARING.with(|s| s.set(share));
}

fn refuse() -> Value {
    Thunk::native(|_| Err(kith_eval::EvalError::new(READS_CONFIG)))
}

/// `m` (a module: an attribute set with `imports`, a function, a path) with every
/// function module called once with `args` (`lib`, special arguments, `name`) and a
/// `config` that raises [`READS_CONFIG`] if read.
pub fn share_modules(
    ev: &mut Eval,
    m: &Value,
    args: &[(String, Value)],
    depth: usize,
) -> Result<Value> {
    if depth > 8 {
        return Ok(m.clone());
    }
    let v = ev.force(m)?;
    match &v {
        Value::Attrs(set) => {
            let Some(imports) = set.get(kith_eval::sym!("imports")) else {
                return Ok(v.clone());
            };
            let list = ev.force_list(imports)?;
            let mut out = Vec::with_capacity(list.len());
            for x in list.iter() {
                out.push(share_modules(ev, x, args, depth + 1)?);
            }
            let entries = set
                .iter()
                .map(|a| {
                    if a.name == kith_eval::sym!("imports") {
                        attr_sym(kith_eval::sym!("imports"), Value::list(out.clone()))
                    } else {
                        a.clone()
                    }
                })
                .collect();
            Ok(Value::Attrs(kith_eval::Attrs::from_entries(entries)))
        }
        f if f.is_function() => {
            let mut entries = vec![
                attr_sym(kith_eval::sym!("config"), refuse()),
                attr_sym(kith_eval::sym!("options"), refuse()),
                attr_sym(kith_eval::sym!("_class"), Value::Null),
            ];
            for (k, x) in args {
                entries.push(attr(k, x.clone()));
            }
            for formal in f.formals() {
                let name = formal.name.as_str();
                if !entries.iter().any(|a| a.name.as_str() == name) {
                    entries.push(attr(name, refuse()));
                }
            }
            ev.call(f, attrs(entries), kith_eval::Span::NONE)
        }
        _ => Ok(v.clone()),
    }
}
