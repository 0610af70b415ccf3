//! Attribute sets: entries sorted by interned name (small sets are scanned, larger ones
//! binary-searched).

use super::block::{Builder, Head, Inline};
use super::{Shared, Value};
use crate::source::Span;
use crate::symbol::Symbol;

/// One attribute: name, (possibly unforced) value and the position of its definition.
#[derive(Clone)]
pub struct Attr {
    pub name: Symbol,
    pub value: Value,
    pub span: Span,
}

/// An attribute set. Entries are sorted by [`Symbol`] (interning order) and unique; use
/// [`Attrs::sorted_by_name`] for Nix's lexicographic order.
///
/// A set lives only behind a [`Shared<Attrs>`], its entries inline in the same allocation
/// (see `value/block.rs`); constructors therefore return `Shared<Attrs>`.
#[repr(transparent)]
pub struct Attrs(Head<Attr>);

// SAFETY: `Attrs` is `repr(transparent)` over `Head<Attr>`.
unsafe impl Inline for Attrs {
    type Item = Attr;
}

/// A set being built in place, entries pushed in symbol order (see `value/block.rs`).
pub type AttrsBuilder = Builder<Attrs>;

impl Attrs {
    /// The empty set.
    pub fn new() -> Shared<Attrs> {
        AttrsBuilder::with_capacity(0).finish()
    }
    /// Builds a set from entries in any order; for duplicate names the last one wins.
    pub fn from_entries(mut entries: Vec<Attr>) -> Shared<Attrs> {
        // Bindings often come in interning order already: then there is nothing to do.
        if !entries.windows(2).all(|w| w[0].name < w[1].name) {
            entries.sort_by_key(|a| a.name);
            // Keep the last of each run of equal names (the sort is stable): the retained
            // earlier slot takes the later entry's contents.
            entries.dedup_by(|later, kept| {
                let same = later.name == kept.name;
                if same {
                    std::mem::swap(later, kept);
                }
                same
            });
        }
        Attrs::from_sorted(entries)
    }
    /// Builds a set from entries already sorted by symbol and unique.
    pub(crate) fn from_sorted(entries: Vec<Attr>) -> Shared<Attrs> {
        debug_assert!(entries.windows(2).all(|w| w[0].name < w[1].name));
        AttrsBuilder::from_vec(entries)
    }
    /// The entries, in symbol order.
    #[inline]
    fn entries(&self) -> &[Attr] {
        self.0.items()
    }
    /// Number of attributes.
    pub fn len(&self) -> usize {
        self.entries().len()
    }
    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.entries().is_empty()
    }
    /// The attribute named `name`.
    #[inline]
    pub fn get_attr(&self, name: Symbol) -> Option<&Attr> {
        self.position(name).map(|i| &self.entries()[i])
    }
    /// The index in [`Attrs::iter`] of the attribute named `name`.
    #[inline]
    pub fn position(&self, name: Symbol) -> Option<usize> {
        let entries = self.entries();
        // Small sets (most of them) are scanned: a run of predictable comparisons over a
        // few cache lines beats a binary search's unpredictable branches.
        if entries.len() <= 8 {
            return entries.iter().position(|a| a.name == name);
        }
        entries.binary_search_by_key(&name, |a| a.name).ok()
    }
    /// The value of the attribute named `name`.
    #[inline]
    pub fn get(&self, name: Symbol) -> Option<&Value> {
        self.get_attr(name).map(|a| &a.value)
    }
    /// The value of the attribute named `name` (by text).
    pub fn get_str(&self, name: &str) -> Option<&Value> {
        // A name never interned is no attribute's.
        self.get(Symbol::existing(name)?)
    }
    /// Whether the set has `name`.
    pub fn contains(&self, name: Symbol) -> bool {
        self.get_attr(name).is_some()
    }
    /// Entries in symbol order (cheap; not Nix's display order).
    pub fn iter(&self) -> std::slice::Iter<'_, Attr> {
        self.entries().iter()
    }
    /// Entries in Nix's order: lexicographic by name.
    pub fn sorted_by_name(&self) -> Vec<&Attr> {
        let mut v: Vec<&Attr> = self.entries().iter().collect();
        v.sort_by(|a, b| a.name.cmp_str(b.name));
        v
    }
    /// `self // other`: attributes of `other` win. The caller returns an operand itself
    /// when the other is empty (as Nix does); this copies.
    pub fn update(&self, other: &Attrs) -> Shared<Attrs> {
        let (a, b) = (self.entries(), other.entries());
        let mut out = AttrsBuilder::with_capacity(a.len() + b.len());
        if b.len() * 8 < a.len() {
            overlay_few(&mut out, a, b, true);
        } else if a.len() * 8 < b.len() {
            overlay_few(&mut out, b, a, false);
        } else {
            merge(&mut out, a, b);
        }
        out.finish()
    }
}

/// Merges sorted `a` and `b` into `out`; on equal names `b`'s entry wins.
fn merge(out: &mut AttrsBuilder, a: &[Attr], b: &[Attr]) {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].name.cmp(&b[j].name) {
            std::cmp::Ordering::Less => {
                out.push(a[i].clone());
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j].clone());
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(b[j].clone());
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
}

/// Merges a few sorted entries `few` into the many sorted entries `many`, copying the runs
/// of `many` between them in bulk (the common `big // { x = …; }`). On equal names the
/// entry of `few` wins when `few_wins`, else the one of `many`.
fn overlay_few(out: &mut AttrsBuilder, many: &[Attr], few: &[Attr], few_wins: bool) {
    let mut i = 0;
    for attr in few {
        let rest = &many[i..];
        let k = rest.partition_point(|x| x.name < attr.name);
        out.extend_from_slice(&rest[..k]);
        i += k;
        match many.get(i) {
            Some(same) if same.name == attr.name => {
                out.push(if few_wins { attr } else { same }.clone());
                i += 1;
            }
            _ => out.push(attr.clone()),
        }
    }
    out.extend_from_slice(&many[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(pairs: &[(&str, i64)]) -> Shared<Attrs> {
        Attrs::from_entries(
            pairs
                .iter()
                .map(|(n, v)| Attr {
                    name: Symbol::new(n),
                    value: Value::Int(*v),
                    span: crate::source::Span::NONE,
                })
                .collect(),
        )
    }

    fn pairs(a: &Attrs) -> Vec<(String, i64)> {
        a.sorted_by_name()
            .into_iter()
            .map(|x| match x.value {
                Value::Int(i) => (x.name.to_string(), i),
                _ => unreachable!(),
            })
            .collect()
    }

    /// Lookups find every name and nothing else, in small (scanned) and large (searched)
    /// sets.
    #[test]
    fn lookup_small_and_large() {
        for n in [0usize, 1, 7, 8, 9, 30] {
            let names: Vec<String> = (0..n).map(|i| format!("l{i}")).collect();
            let a = set(&names.iter().map(|s| (s.as_str(), 1)).collect::<Vec<_>>());
            for (i, name) in names.iter().enumerate() {
                assert!(a.get(Symbol::new(name)).is_some());
                assert_eq!(
                    a.position(Symbol::new(name))
                        .map(|p| a.iter().nth(p).unwrap().name),
                    Some(Symbol::new(name)),
                    "{i}"
                );
            }
            assert!(a.get(Symbol::new("absent-name")).is_none());
        }
    }

    /// Every shape of `//` (few into many, many into few, similar sizes) gives the merge.
    #[test]
    fn update_all_shapes() {
        let names: Vec<String> = (0..40).map(|i| format!("u{i}")).collect();
        let big: Vec<(&str, i64)> = names.iter().map(|n| (n.as_str(), 1)).collect();
        let small = [("u3", 2), ("u39", 2), ("new", 2)];
        let want = |l: &[(&str, i64)], r: &[(&str, i64)]| {
            let mut m = std::collections::BTreeMap::new();
            for (n, v) in l.iter().chain(r) {
                m.insert(n.to_string(), *v);
            }
            m.into_iter().collect::<Vec<_>>()
        };
        for (l, r) in [
            (&big[..], &small[..]),
            (&small[..], &big[..]),
            (&big[..20], &big[10..]),
        ] {
            assert_eq!(pairs(&set(l).update(&set(r))), want(l, r));
        }
    }
}
