//! Applies a parsed selector to a lazily evaluated value, forcing only what the selector
//! and the final JSON need.
//!
//! [`Semantics::Clan`] is what `clan select` shows the user on a fresh evaluation:
//! nix-select's `applySelectors` and `builtins.toJSON`, as re-read through clan's Python
//! cache (`FlakeCacheEntry.select`): `?k`, `{}` and all-`?` sets give `{}` on values that
//! are not attribute sets; a pure store-path string behaves as `{ outPath = <it>; }`; `?N`
//! on a list is an error; sets keep the selector's order; a missing key is reported as
//! `Attribute '<key>' not found in flake`. [`Semantics::NixSelect`] is nix-select's own
//! `applySelectors` (its `tests.nix`).

use super::parse::{Selector, SetItem};
use kith_eval::{Attr, Attrs, Eval, EvalError, Span, Symbol, Value};
use serde_json::{Map, Value as Json};

/// Which layer's rules apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Semantics {
    /// What `clan select` prints (nix-select plus clan's cache).
    #[default]
    Clan,
    /// nix-select's `applySelectors` alone.
    NixSelect,
}

/// Why a selector could not be applied.
#[derive(Debug)]
pub enum ApplyError {
    /// A key (attribute, list index, `*`, or `{a,b}`) is not there: clan's `KeyError`.
    Missing(String),
    /// The attribute `clan` is missing (clan says the flake does not export it).
    NoClan,
    /// An evaluation error (a `throw`, a missing attribute in nix-select, `toJSON` of a
    /// function, …).
    Eval(Box<EvalError>),
    /// Another error of the selection (a `throw` of nix-select), with its message.
    Other(String),
    /// An error clan's cache raises while storing Nix's answer (`?N` on a list): clan
    /// prints it as it is, not as a failed select.
    Cache(String),
}

impl From<Box<EvalError>> for ApplyError {
    fn from(e: Box<EvalError>) -> Self {
        ApplyError::Eval(e)
    }
}

impl ApplyError {
    /// The reason clan prints after `Reason: ` (for an evaluation error: what follows the
    /// last `error:` of Nix's message, trimmed).
    pub fn reason(&self, ev: &Eval) -> String {
        match self {
            ApplyError::Missing(k) => format!("Attribute '{k}' not found in flake"),
            ApplyError::NoClan => "This flake does not export the 'clan' attribute. \n\
                 Please write 'clan = clan.config;' into the outputs of your flake.nix."
                .to_string(),
            ApplyError::Eval(e) => {
                let text = e.render(&ev.sources);
                let after = text.rsplit_once("error:").map_or(text.as_str(), |(_, a)| a);
                after.trim().to_string()
            }
            ApplyError::Other(m) | ApplyError::Cache(m) => m.clone(),
        }
    }
}

/// `selectors` applied to `value` under `semantics`, as JSON (object keys in Nix's order,
/// but a set's in the selector's order under [`Semantics::Clan`]).
pub fn apply(
    ev: &mut Eval,
    value: &Value,
    selectors: &[Selector],
    semantics: Semantics,
) -> Result<Json, ApplyError> {
    Walker { ev, semantics }.walk(value, selectors)
}

/// Whether `s` is a store path with nothing after its name (`<store>/<hash>-<name>`), as
/// clan's `is_pure_store_path`.
pub fn is_pure_store_path(store_dir: &str, s: &str) -> bool {
    let Some(rest) = s.strip_prefix(store_dir).and_then(|r| r.strip_prefix('/')) else {
        return false;
    };
    let Some((hash, name)) = rest.split_once('-') else {
        return false;
    };
    !hash.is_empty()
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-._?=".contains(&b))
}

struct Walker<'a> {
    ev: &'a mut Eval,
    semantics: Semantics,
}

impl Walker<'_> {
    fn clan(&self) -> bool {
        self.semantics == Semantics::Clan
    }

    fn walk(&mut self, value: &Value, sels: &[Selector]) -> Result<Json, ApplyError> {
        let Some((sel, rest)) = sels.split_first() else {
            return Ok(self.ev.to_json(value)?);
        };
        let v = self.ev.force(value)?;
        match &v {
            Value::Attrs(a) => self.on_attrs(a, sel, rest),
            Value::List(l) => self.on_list(l, sel, rest),
            Value::String(s) if self.clan() => {
                let store_dir = self.ev.options.store_dir.clone();
                match s.to_str() {
                    Some(text) if is_pure_store_path(&store_dir, text) => {
                        let wrapped = Attrs::from_entries(vec![Attr {
                            name: Symbol::new("outPath"),
                            value: v.clone(),
                            span: Span::NONE,
                        }]);
                        self.on_attrs(&wrapped, sel, rest)
                    }
                    _ => self.on_scalar(&v, sel),
                }
            }
            _ => self.on_scalar(&v, sel),
        }
    }

    fn missing(&self, key: &str) -> ApplyError {
        match self.semantics {
            Semantics::Clan if key == "clan" => ApplyError::NoClan,
            Semantics::Clan => ApplyError::Missing(key.to_string()),
            Semantics::NixSelect => ApplyError::Other(format!("attribute '{key}' missing")),
        }
    }

    fn on_attrs(
        &mut self,
        a: &Attrs,
        sel: &Selector,
        rest: &[Selector],
    ) -> Result<Json, ApplyError> {
        match sel {
            Selector::All => {
                let mut out = Map::new();
                for attr in a.sorted_by_name() {
                    let r = self.walk(&attr.value, rest)?;
                    out.insert(attr.name.as_str().to_string(), r);
                }
                Ok(Json::Object(out))
            }
            Selector::Str(k) => match a.get_str(k) {
                Some(child) => self.walk(&child.clone(), rest),
                None => Err(self.missing(k)),
            },
            Selector::Maybe(k) => {
                let mut out = Map::new();
                if let Some(child) = a.get_str(k) {
                    let r = self.walk(&child.clone(), rest)?;
                    out.insert(k.clone(), r);
                }
                Ok(Json::Object(out))
            }
            Selector::Set(items) => {
                let mut picked: Vec<(&str, Value)> = Vec::new();
                for item in items {
                    match (item, a.get_str(item.name())) {
                        (_, Some(child)) => picked.push((item.name(), child.clone())),
                        (SetItem::Str(k), None) => return Err(self.missing(k)),
                        (SetItem::Maybe(_), None) => {}
                    }
                }
                if !self.clan() {
                    // `listToAttrs`: sorted, the first of equal names kept.
                    picked.sort_by(|x, y| x.0.cmp(y.0));
                    picked.dedup_by(|later, first| later.0 == first.0);
                }
                let mut out = Map::new();
                for (k, child) in picked {
                    if out.contains_key(k) {
                        continue;
                    }
                    let r = self.walk(&child, rest)?;
                    out.insert(k.to_string(), r);
                }
                Ok(Json::Object(out))
            }
        }
    }

    /// The list index `text` names: a JSON integer (nix-select's `fromJSON`) within bounds.
    fn index(&self, text: &str, len: usize) -> Result<usize, ApplyError> {
        let t = text.trim_matches([' ', '\t', '\n', '\r']);
        let digits = t.strip_prefix('-').unwrap_or(t);
        let is_int = !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'));
        let fail = |msg: String| match self.semantics {
            Semantics::Clan => ApplyError::Missing(text.to_string()),
            Semantics::NixSelect => ApplyError::Other(msg),
        };
        if !is_int {
            return Err(fail(format!("cannot convert {text} to int")));
        }
        match t.parse::<i64>().map(usize::try_from) {
            Ok(Ok(i)) if i < len => Ok(i),
            _ => Err(fail(format!("list index {t} is out of bounds"))),
        }
    }

    fn on_list(
        &mut self,
        l: &[Value],
        sel: &Selector,
        rest: &[Selector],
    ) -> Result<Json, ApplyError> {
        match sel {
            Selector::All => {
                let mut out = Vec::with_capacity(l.len());
                for item in l {
                    out.push(self.walk(item, rest)?);
                }
                Ok(Json::Array(out))
            }
            Selector::Str(k) => {
                let i = self.index(k, l.len())?;
                self.walk(&l[i], rest)
            }
            Selector::Set(items) => {
                let mut indices = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        SetItem::Str(k) => indices.push(self.index(k, l.len())?),
                        SetItem::Maybe(_) => {
                            return Err(ApplyError::Other(
                                "maybe type not supported for lists in set".into(),
                            ))
                        }
                    }
                }
                let mut out = Vec::with_capacity(indices.len());
                for i in indices {
                    out.push(self.walk(&l[i], rest)?);
                }
                Ok(Json::Array(out))
            }
            Selector::Maybe(k) => {
                if self.clan() {
                    return Err(ApplyError::Cache(
                        "Expected dict for value in MAYBE, got <class 'list'>".into(),
                    ));
                }
                match self.index(k, usize::MAX) {
                    Ok(i) if i < l.len() => Ok(Json::Array(vec![self.walk(&l[i], rest)?])),
                    Ok(_) => Ok(Json::Array(Vec::new())),
                    Err(e) => Err(e),
                }
            }
        }
    }

    fn on_scalar(&mut self, v: &Value, sel: &Selector) -> Result<Json, ApplyError> {
        if !self.clan() {
            return Err(ApplyError::Other(format!(
                "unexpected type {}",
                v.type_of()
            )));
        }
        match sel {
            Selector::Maybe(_) => Ok(Json::Object(Map::new())),
            Selector::Set(items) if items.iter().all(|i| matches!(i, SetItem::Maybe(_))) => {
                Ok(Json::Object(Map::new()))
            }
            Selector::Set(items) => {
                let names: Vec<&str> = items.iter().map(SetItem::name).collect();
                Err(ApplyError::Missing(format!("{{{}}}", names.join(","))))
            }
            Selector::All => Err(ApplyError::Missing("*".into())),
            Selector::Str(k) => Err(ApplyError::Missing(k.clone())),
        }
    }
}
