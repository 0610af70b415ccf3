//! [`Shared<T>`]: the reference-counted pointer behind every heap [`Value`](super::Value).
//!
//! It is `std::rc::Rc` without weak references, with one difference that matters for speed:
//! every allocation starts with the same header, a count and the function that frees the
//! object. Cloning or dropping a `Shared<T>` is therefore the same machine code whatever `T`
//! is, so cloning or dropping a [`Value`](super::Value) is one test of the tag and one
//! count update instead of a jump on the variant (a jump the processor often mispredicts:
//! it was a fifth of the evaluator's branch mispredictions).

use std::cell::Cell;
use std::marker::PhantomData;
use std::ops::Deref;
use std::ptr::NonNull;

/// The part of every allocation that does not depend on the value's type.
#[repr(C)]
pub(super) struct Header {
    strong: Cell<usize>,
    /// Drops the value and frees the allocation; set by [`Shared::new`] for its `T`.
    free: unsafe fn(NonNull<Header>),
}

#[repr(C)]
struct SharedBox<T> {
    header: Header,
    value: T,
}

/// A single-threaded reference-counted pointer to a `T` (see the module documentation).
#[repr(transparent)]
pub struct Shared<T> {
    ptr: NonNull<SharedBox<T>>,
    _owns: PhantomData<SharedBox<T>>,
}

impl<T> Shared<T> {
    /// Moves `value` to the heap with a count of one.
    pub fn new(value: T) -> Shared<T> {
        let boxed = Box::new(SharedBox {
            header: Header {
                strong: Cell::new(1),
                free: free::<T>,
            },
            value,
        });
        Shared {
            ptr: NonNull::from(Box::leak(boxed)),
            _owns: PhantomData,
        }
    }
    /// Whether `a` and `b` point to the same allocation.
    #[inline]
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        a.ptr == b.ptr
    }
    /// The address of the value (an identity, as `Rc::as_ptr`).
    #[inline]
    pub fn as_ptr(this: &Self) -> *const T {
        // SAFETY: `ptr` points to a live `SharedBox<T>` while `this` exists.
        unsafe { &raw const (*this.ptr.as_ptr()).value }
    }
    /// The value if this is its only reference, else `None`.
    pub fn get_mut(this: &mut Self) -> Option<&mut T> {
        if this.header().strong.get() == 1 {
            // SAFETY: the only reference, borrowed mutably for the result's lifetime.
            Some(unsafe { &mut (*this.ptr.as_ptr()).value })
        } else {
            None
        }
    }
    #[inline(always)]
    fn header(&self) -> &Header {
        // SAFETY: `SharedBox` is `repr(C)` with the header first; the box is live.
        unsafe { &*(self.ptr.as_ptr() as *const Header) }
    }
    /// The header of the allocation (for [`super::Value`]'s uniform clone).
    #[inline(always)]
    pub(super) fn header_ptr(&self) -> NonNull<Header> {
        self.ptr.cast()
    }
}

/// Adds one to a reference count (shared with [`super::Env`]'s frames).
#[inline(always)]
pub(super) fn count_up(count: &Cell<usize>) {
    let n = count.get().wrapping_add(1);
    count.set(n);
    if n == 0 {
        // As `Rc`: a count that wraps means memory is corrupt or leaked without bound.
        std::process::abort();
    }
}

/// Takes one from a reference count; true when that was the last reference.
#[inline(always)]
pub(super) fn count_down(count: &Cell<usize>) -> bool {
    let n = count.get() - 1;
    count.set(n);
    n == 0
}

/// Adds a reference to the allocation at `h`.
///
/// # Safety
/// `h` must be the header of a live allocation made by [`Shared::new`].
#[inline(always)]
pub(super) unsafe fn retain(h: NonNull<Header>) {
    count_up(&h.as_ref().strong);
}

/// Drops a reference to the allocation at `h`, freeing it with the last one.
///
/// # Safety
/// `h` must be the header of a live allocation made by [`Shared::new`], and the caller
/// must own the reference it gives up.
#[inline(always)]
unsafe fn release(h: NonNull<Header>) {
    if count_down(&h.as_ref().strong) {
        free_last(h);
    }
}

/// Frees an allocation whose last reference went away (the type's own `free`).
#[cold]
#[inline(never)]
unsafe fn free_last(h: NonNull<Header>) {
    (h.as_ref().free)(h)
}

/// Drops the value at `h` (a `SharedBox<T>`) and frees its memory.
unsafe fn free<T>(h: NonNull<Header>) {
    drop(Box::from_raw(h.as_ptr() as *mut SharedBox<T>));
}

impl<T> Clone for Shared<T> {
    #[inline(always)]
    fn clone(&self) -> Self {
        // SAFETY: `self` keeps the allocation alive.
        unsafe { retain(self.header_ptr()) };
        Shared {
            ptr: self.ptr,
            _owns: PhantomData,
        }
    }
}

impl<T> Drop for Shared<T> {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: `self` owns one reference to a live allocation.
        unsafe { release(self.header_ptr()) }
    }
}

impl<T> Deref for Shared<T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: the allocation lives as long as `self`.
        unsafe { &(*self.ptr.as_ptr()).value }
    }
}

impl<T> AsRef<T> for Shared<T> {
    fn as_ref(&self) -> &T {
        self
    }
}

impl<T: PartialEq> PartialEq for Shared<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T> From<T> for Shared<T> {
    fn from(value: T) -> Self {
        Shared::new(value)
    }
}

impl<T: std::fmt::Display> std::fmt::Display for Shared<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::Shared;
    use std::cell::Cell;
    use std::rc::Rc;

    /// Counts its drops.
    struct Probe(Rc<Cell<u32>>);
    impl Drop for Probe {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }

    #[test]
    fn the_value_is_dropped_once_with_the_last_reference() {
        let drops = Rc::new(Cell::new(0));
        let a = Shared::new(Probe(drops.clone()));
        let b = a.clone();
        let c = b.clone();
        assert!(Shared::ptr_eq(&a, &c));
        drop(a);
        drop(c);
        assert_eq!(drops.get(), 0);
        drop(b);
        assert_eq!(drops.get(), 1);
    }

    #[test]
    fn get_mut_only_for_the_sole_reference() {
        let mut a = Shared::new(vec![1, 2]);
        Shared::get_mut(&mut a).unwrap().push(3);
        let b = a.clone();
        assert!(Shared::get_mut(&mut a).is_none());
        drop(b);
        assert_eq!(*a, vec![1, 2, 3]);
    }
}
