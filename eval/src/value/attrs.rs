//! Attribute sets: entries sorted by interned name for binary-search lookup.

use super::shared::Header;
use super::{Shared, Value};
use crate::source::Span;
use crate::symbol::Symbol;
use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::ptr::NonNull;

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
/// A set lives only behind a [`Shared<Attrs>`], in one allocation: the shared header, this
/// head (length and capacity), then the entries. Looking an attribute up reads one block,
/// and a set costs one allocation, not a header and a separate buffer (sets are most of
/// what the module system allocates and keeps). Constructors therefore return
/// `Shared<Attrs>`.
#[repr(C)]
pub struct Attrs {
    len: u32,
    cap: u32,
    /// Where the entries start (they follow the head).
    entries: [Attr; 0],
}

/// Bytes from the start of a set's allocation to its head.
const HEAD: usize = super::shared::value_offset::<Attrs>();

/// The allocation of a set with room for `cap` entries.
fn layout(cap: usize) -> Layout {
    std::mem::size_of::<Attr>()
        .checked_mul(cap)
        .and_then(|n| n.checked_add(HEAD + std::mem::size_of::<Attrs>()))
        .and_then(|n| Layout::from_size_align(n, std::mem::align_of::<Attrs>()).ok())
        .expect("attribute set too large")
}

/// A set being built in place: its allocation, with room for a fixed number of entries,
/// filled in symbol order ([`AttrsBuilder::finish`] makes it the set).
pub struct AttrsBuilder {
    ptr: NonNull<Header>,
}

impl AttrsBuilder {
    /// A builder with room for `cap` entries.
    pub fn with_capacity(cap: usize) -> AttrsBuilder {
        let cap32 = u32::try_from(cap).expect("attribute set too large");
        let layout = layout(cap);
        // SAFETY: the layout has a non-zero size (the header and head); the header and
        // head are written before anything reads them.
        unsafe {
            let p = alloc(layout);
            let Some(ptr) = NonNull::new(p.cast::<Header>()) else {
                handle_alloc_error(layout)
            };
            ptr.as_ptr().write(Header::new::<Attrs>());
            p.add(HEAD).cast::<Attrs>().write(Attrs {
                len: 0,
                cap: cap32,
                entries: [],
            });
            AttrsBuilder { ptr }
        }
    }
    fn head(&mut self) -> &mut Attrs {
        // SAFETY: the head was written by `with_capacity`; the block is not shared yet.
        unsafe { &mut *self.ptr.as_ptr().cast::<u8>().add(HEAD).cast::<Attrs>() }
    }
    /// Appends `attr`, which must sort after the entries so far; there must be room.
    #[inline]
    pub fn push(&mut self, attr: Attr) {
        let head = self.head();
        assert!(head.len < head.cap, "attribute set block overfilled");
        // SAFETY: slot `len` is within the allocation (`len < cap`) and unwritten.
        unsafe { head.slot(head.len as usize).write(attr) };
        head.len += 1;
    }
    fn extend_from_slice(&mut self, attrs: &[Attr]) {
        for a in attrs {
            self.push(a.clone());
        }
    }
    /// Moves every entry of `entries` in (there must be room).
    fn take_all(&mut self, mut entries: Vec<Attr>) {
        let head = self.head();
        let n = entries.len();
        assert!(
            n <= (head.cap - head.len) as usize,
            "attribute set block overfilled"
        );
        // SAFETY: there is room for `n` more entries; they are moved (the vector forgets
        // them before it is dropped).
        unsafe {
            std::ptr::copy_nonoverlapping(entries.as_ptr(), head.slot(head.len as usize), n);
            entries.set_len(0);
        }
        head.len += n as u32;
    }
    /// The set of the entries pushed.
    pub fn finish(mut self) -> Shared<Attrs> {
        debug_assert!(self
            .head()
            .entries()
            .windows(2)
            .all(|w| w[0].name < w[1].name));
        let ptr = self.ptr;
        std::mem::forget(self);
        // SAFETY: the block holds a header for `Attrs`, an initialised head and `len`
        // initialised entries; `free` releases it.
        unsafe { Shared::from_header(ptr) }
    }
}

impl Drop for AttrsBuilder {
    fn drop(&mut self) {
        // SAFETY: an unfinished block is freed as a finished one would be.
        unsafe { free(self.ptr) }
    }
}

/// Drops a set's entries and frees its allocation (its entry in the table of destructors).
///
/// # Safety
/// `h` must be a set's allocation (made by [`AttrsBuilder`]) that nothing uses any more.
pub(super) unsafe fn free(h: NonNull<Header>) {
    unsafe {
        let head = h.as_ptr().cast::<u8>().add(HEAD).cast::<Attrs>();
        let (len, cap) = ((*head).len as usize, (*head).cap as usize);
        std::ptr::drop_in_place(std::ptr::slice_from_raw_parts_mut((*head).slot(0), len));
        dealloc(h.as_ptr().cast(), layout(cap));
    }
}

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
    pub fn from_sorted(entries: Vec<Attr>) -> Shared<Attrs> {
        debug_assert!(entries.windows(2).all(|w| w[0].name < w[1].name));
        let mut block = AttrsBuilder::with_capacity(entries.len());
        block.take_all(entries);
        block.finish()
    }
    /// A pointer to entry slot `i` (which may be past the initialised ones).
    ///
    /// # Safety
    /// `self` must be the head of a set's allocation and `i <= cap`.
    unsafe fn slot(&self, i: usize) -> *mut Attr {
        // SAFETY: the entries follow the head in the same allocation (see `AttrsBuilder`).
        unsafe {
            (self as *const Attrs)
                .add(1)
                .cast::<Attr>()
                .cast_mut()
                .add(i)
        }
    }
    /// The entries, in symbol order.
    #[inline]
    fn entries(&self) -> &[Attr] {
        // SAFETY: a set is only reached through its allocation, whose first `len` entries
        // are initialised and not mutated while it is shared.
        unsafe { std::slice::from_raw_parts(self.slot(0), self.len as usize) }
    }
    /// Number of attributes.
    pub fn len(&self) -> usize {
        self.len as usize
    }
    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// The attribute named `name`.
    #[inline]
    pub fn get_attr(&self, name: Symbol) -> Option<&Attr> {
        let entries = self.entries();
        entries
            .binary_search_by_key(&name, |a| a.name)
            .ok()
            .map(|i| &entries[i])
    }
    /// The index in [`Attrs::iter`] of the attribute named `name`.
    pub fn position(&self, name: Symbol) -> Option<usize> {
        self.entries().binary_search_by_key(&name, |a| a.name).ok()
    }
    /// The value of the attribute named `name`.
    #[inline]
    pub fn get(&self, name: Symbol) -> Option<&Value> {
        self.get_attr(name).map(|a| &a.value)
    }
    /// The value of the attribute named `name` (by text).
    pub fn get_str(&self, name: &str) -> Option<&Value> {
        self.get(Symbol::new(name))
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
