//! Lists: their values stored inline, in the list's own allocation (see [`super::block`]).

use super::block::{Builder, Head, Inline};
use super::{Shared, Value};
use std::ops::Deref;

/// A list. It lives only behind a [`Shared<List>`] and reads as a slice of values.
#[repr(transparent)]
pub struct List(Head<Value>);

// SAFETY: `List` is `repr(transparent)` over `Head<Value>`.
unsafe impl Inline for List {
    type Item = Value;
}

/// A list being built in place (see `value/block.rs`).
pub type ListBuilder = Builder<List>;

impl List {
    /// The list of the items of `items`, made in place.
    pub fn from_exact(items: impl ExactSizeIterator<Item = Value>) -> Shared<List> {
        let mut list = ListBuilder::with_capacity(items.len());
        for item in items {
            list.push(item);
        }
        list.finish()
    }
    /// The list of the lists `parts` joined.
    pub fn concat(parts: &[&[Value]]) -> Shared<List> {
        let mut list = ListBuilder::with_capacity(parts.iter().map(|p| p.len()).sum());
        for part in parts {
            list.extend_from_slice(part);
        }
        list.finish()
    }
    /// The list of `items`.
    pub fn from_vec(items: Vec<Value>) -> Shared<List> {
        ListBuilder::from_vec(items)
    }
}

impl Deref for List {
    type Target = [Value];
    #[inline(always)]
    fn deref(&self) -> &[Value] {
        self.0.items()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Thunk;
    use std::rc::Rc;

    fn ints(l: &List) -> Vec<i64> {
        l.iter()
            .map(|v| match v {
                Value::Int(i) => *i,
                _ => unreachable!(),
            })
            .collect()
    }

    #[test]
    fn built_in_place_joined_and_copied() {
        let a = List::from_exact((1..4i32).map(|i| Value::Int(i.into())));
        let b = List::from_vec(vec![Value::Int(4)]);
        assert_eq!(ints(&List::concat(&[&a, &[], &b])), [1, 2, 3, 4]);
        assert_eq!(ints(&List::concat(&[])), Vec::<i64>::new());
        assert!(ListBuilder::try_with_capacity(usize::MAX).is_err());
    }

    /// A builder dropped before it is finished drops the items pushed so far, and a
    /// finished list drops its items with the last reference.
    #[test]
    fn items_are_dropped_once() {
        let probe = Rc::new(());
        let item = || {
            let p = probe.clone();
            Thunk::native(move |_| {
                let _ = &p;
                Ok(Value::Null)
            })
        };
        let mut unfinished = ListBuilder::with_capacity(3);
        unfinished.push(item());
        assert_eq!(Rc::strong_count(&probe), 2);
        drop(unfinished);
        assert_eq!(Rc::strong_count(&probe), 1);
        let list = List::from_exact([item(), item()].into_iter());
        let copy = List::concat(&[&list]);
        drop(list);
        assert_eq!(Rc::strong_count(&probe), 3);
        drop(copy);
        assert_eq!(Rc::strong_count(&probe), 1);
    }
}
