//! Definition properties as nixpkgs' module system handles them: `mkMerge`, `mkIf`,
//! `mkOverride` (`mkDefault`, `mkForce`, option defaults) and `mkOrder` (`mkBefore`,
//! `mkAfter`).

use super::Def;
use kith_eval::{Attrs, Eval, NixString, Result, Shared, Value};

/// The priority of a plain definition.
pub const DEFAULT_PRIORITY: i64 = 100;
/// The priority of an option's `default` (`mkOptionDefault`).
pub const OPTION_DEFAULT_PRIORITY: i64 = 1500;
/// The order priority of a definition without `mkOrder`.
const DEFAULT_ORDER_PRIORITY: i64 = 1000;

/// The `_type` of a forced attribute set, if it is a string.
pub fn type_tag(ev: &mut Eval, set: &Attrs) -> Result<Option<String>> {
    Ok(type_string(ev, set)?.map(|s| s.encoded().into_owned()))
}

/// [`type_tag`] as the string value, not copied.
fn type_string(ev: &mut Eval, set: &Attrs) -> Result<Option<Shared<NixString>>> {
    match set.get(kith_eval::sym!("_type")) {
        Some(t) => Ok(match ev.force(t)? {
            Value::String(s) => Some(s),
            _ => None,
        }),
        None => Ok(None),
    }
}

/// The property a value carries (`_type` of an attribute set), with the set.
fn property(ev: &mut Eval, v: &Value) -> Result<Option<(Prop, Shared<Attrs>)>> {
    let v = ev.force(v)?;
    if let Value::Attrs(set) = &v {
        if let Some(s) = type_string(ev, set)? {
            let prop = match s.as_bytes() {
                b"merge" => Prop::Merge,
                b"if" => Prop::If,
                b"override" => Prop::Override,
                b"order" => Prop::Order,
                _ => Prop::Other,
            };
            return Ok(Some((prop, set.clone())));
        }
    }
    Ok(None)
}

/// The properties the module system acts on, by `_type`.
#[derive(PartialEq, Eq)]
enum Prop {
    Merge,
    If,
    Override,
    Order,
    /// Any other `_type` (an option declaration, a package).
    Other,
}

fn field(set: &Attrs, name: kith_eval::Symbol) -> Value {
    set.get(name).cloned().unwrap_or(Value::Null)
}

/// `dischargeProperties`: flattens `mkMerge` and evaluates `mkIf`.
pub fn discharge(ev: &mut Eval, v: &Value, out: &mut Vec<Value>) -> Result<()> {
    match property(ev, v)? {
        Some((Prop::Merge, set)) => {
            let contents = ev.force_list(&field(&set, kith_eval::sym!("contents")))?;
            for c in contents.iter() {
                discharge(ev, c, out)?;
            }
            Ok(())
        }
        Some((Prop::If, set)) => {
            let cond = ev.force(&field(&set, kith_eval::sym!("condition")))?;
            match cond {
                Value::Bool(true) => discharge(ev, &field(&set, kith_eval::sym!("content")), out),
                Value::Bool(false) => Ok(()),
                _ => Err(kith_eval::EvalError::of_kind(
                    kith_eval::ErrorKind::Throw,
                    "‘mkIf’ called with a non-Boolean condition",
                )),
            }
        }
        _ => {
            out.push(v.clone());
            Ok(())
        }
    }
}

/// A definition after discharging, with its override priority resolved.
#[derive(Clone)]
pub struct Prioritised {
    /// The definition, with any `mkOverride` stripped.
    pub def: Def,
    /// Its override priority.
    pub priority: i64,
}

/// `dischargeProperties` on every definition, then `filterOverrides'` (keeps the
/// definitions of the highest priority, stripped) and `sortProperties` (when any has an
/// order). Returns the surviving definitions and the highest priority.
pub fn normalise(ev: &mut Eval, defs: &[Def]) -> Result<(Vec<Def>, i64)> {
    normalise_with_default(ev, defs, None)
}

/// [`normalise`] with an option's `default` (`mkOptionDefault`, priority 1500) after the
/// definitions, given as it is rather than wrapped in an override.
pub fn normalise_with_default(
    ev: &mut Eval,
    defs: &[Def],
    default: Option<Def>,
) -> Result<(Vec<Def>, i64)> {
    // The option's default comes first, as the module system puts it before the
    // definitions (what the order of merged lists and of listed definitions follows).
    let mut flat: Vec<Prioritised> = Vec::new();
    if let Some(def) = default {
        flat.push(Prioritised {
            def,
            priority: OPTION_DEFAULT_PRIORITY,
        });
    }
    for d in defs {
        let mut vals = Vec::new();
        discharge(ev, &d.value, &mut vals)?;
        for v in vals {
            let (priority, value) = match property(ev, &v)? {
                Some((Prop::Override, set)) => (
                    ev.force_int(&field(&set, kith_eval::sym!("priority")))?,
                    field(&set, kith_eval::sym!("content")),
                ),
                _ => (DEFAULT_PRIORITY, v),
            };
            flat.push(Prioritised {
                def: Def {
                    file: d.file.clone(),
                    span: d.span,
                    value,
                },
                priority,
            });
        }
    }
    let highest = flat.iter().map(|p| p.priority).min().unwrap_or(9999);
    let mut kept: Vec<Def> = flat
        .into_iter()
        .filter(|p| p.priority == highest)
        .map(|p| p.def)
        .collect();
    let mut orders = Vec::with_capacity(kept.len());
    let mut any_order = false;
    for d in &mut kept {
        match property(ev, &d.value)? {
            Some((Prop::Order, set)) => {
                any_order = true;
                orders.push(ev.force_int(&field(&set, kith_eval::sym!("priority")))?);
                d.value = field(&set, kith_eval::sym!("content"));
            }
            _ => orders.push(DEFAULT_ORDER_PRIORITY),
        }
    }
    if any_order {
        let mut paired: Vec<(i64, Def)> = orders.into_iter().zip(kept).collect();
        // Nix's `sort` with a strict less-than is stable.
        paired.sort_by_key(|(p, _)| *p);
        kept = paired.into_iter().map(|(_, d)| d).collect();
    }
    Ok((kept, highest))
}

/// `pushDownProperties` on a module's `config` (or an attribute-set definition): the
/// attribute sets it stands for, with `mkIf`/`mkOverride` moved onto their attributes.
pub fn push_down(ev: &mut Eval, v: &Value, out: &mut Vec<Value>) -> Result<()> {
    match property(ev, v)? {
        Some((Prop::Merge, set)) => {
            let contents = ev.force_list(&field(&set, kith_eval::sym!("contents")))?;
            for c in contents.iter() {
                push_down(ev, c, out)?;
            }
            Ok(())
        }
        Some((Prop::If | Prop::Override, set)) => {
            let mut inner = Vec::new();
            push_down(ev, &field(&set, kith_eval::sym!("content")), &mut inner)?;
            for c in inner {
                let c = ev.force(&c)?;
                match &c {
                    Value::Attrs(a) => {
                        let wrapped = a
                            .iter()
                            .map(|attr| kith_eval::Attr {
                                name: attr.name,
                                span: attr.span,
                                value: rewrap(&set, &attr.value),
                            })
                            .collect();
                        out.push(Value::Attrs(Attrs::from_entries(wrapped)));
                    }
                    _ => out.push(c.clone()),
                }
            }
            Ok(())
        }
        _ => {
            out.push(v.clone());
            Ok(())
        }
    }
}

/// `set` (an `mkIf` or `mkOverride`) around `content` instead of its own content.
fn rewrap(set: &Attrs, content: &Value) -> Value {
    let entries = set
        .iter()
        .map(|a| {
            if a.name == kith_eval::sym!("content") {
                kith_eval::Attr {
                    name: a.name,
                    span: a.span,
                    value: content.clone(),
                }
            } else {
                a.clone()
            }
        })
        .collect();
    Value::Attrs(Attrs::from_entries(entries))
}
