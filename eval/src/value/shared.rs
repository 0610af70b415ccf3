//! [`Shared<T>`]: the reference-counted pointer behind every heap [`Value`](super::Value).
//!
//! It is `std::rc::Rc` without weak references, with one difference that matters for speed:
//! every allocation starts with the same 8-byte header, a 32-bit count and the number of the
//! object's type (see [`HeapObject`]). Cloning or dropping a `Shared<T>` is therefore the
//! same machine code whatever `T` is, so cloning or dropping a [`Value`](super::Value) is
//! one test of the tag and one count update instead of a jump on the variant (a jump the
//! processor often mispredicts: it was a fifth of the evaluator's branch mispredictions).
//! Only freeing the last reference looks at the type.

use super::{Attrs, Closure, List, NixString, PrimOpApp, Thunk};
use std::cell::Cell;
use std::marker::PhantomData;
use std::ops::Deref;
use std::ptr::NonNull;

/// The part of every allocation that does not depend on the value's type.
#[repr(C)]
pub(super) struct Header {
    strong: Cell<u32>,
    /// The index of the object's type in [`FREE`].
    kind: u32,
}

impl Header {
    /// The header of a new allocation of a `T`, with a count of one.
    pub(super) fn new<T: HeapObject>() -> Header {
        Header {
            strong: Cell::new(1),
            kind: T::KIND,
        }
    }
}

/// Bytes from the start of an allocation to its value (the header, padded to the value's
/// alignment).
pub(super) const fn value_offset<T: HeapObject>() -> usize {
    std::mem::offset_of!(SharedBox<T>, value)
}

#[repr(C)]
struct SharedBox<T> {
    header: Header,
    value: T,
}

/// A type that lives behind a [`Shared`]: its number in the table of destructors.
pub trait HeapObject: Sized {
    /// This type's index in [`FREE`].
    const KIND: u32;
}

macro_rules! heap_objects {
    ($($t:ty = $k:expr => $free:expr;)*) => {
        $(impl HeapObject for $t { const KIND: u32 = $k; })*
        /// Drops the value and frees the allocation, by [`HeapObject::KIND`].
        static FREE: &[unsafe fn(NonNull<Header>)] = &[$($free),*];
    };
}

heap_objects! {
    NixString = 0 => free::<NixString>;
    Box<str> = 1 => free::<Box<str>>;
    // Sets' and lists' items follow them in the same allocation (see `block.rs`).
    Attrs = 2 => super::block::free::<Attrs>;
    List = 3 => super::block::free::<List>;
    Closure = 4 => free::<Closure>;
    PrimOpApp = 5 => free::<PrimOpApp>;
    Thunk = 6 => free::<Thunk>;
}

/// A single-threaded reference-counted pointer to a `T` (see the module documentation).
#[repr(transparent)]
pub struct Shared<T: HeapObject> {
    ptr: NonNull<SharedBox<T>>,
    _owns: PhantomData<SharedBox<T>>,
}

impl<T: HeapObject> Shared<T> {
    /// Moves `value` to the heap with a count of one.
    pub fn new(value: T) -> Shared<T> {
        let boxed = Box::new(SharedBox {
            header: Header::new::<T>(),
            value,
        });
        Shared {
            ptr: NonNull::from(Box::leak(boxed)),
            _owns: PhantomData,
        }
    }
    /// Takes over the allocation at `h`, whose value a type-specific constructor has
    /// initialised (as [`Shared::new`] would, with a count of one).
    ///
    /// # Safety
    /// `h` must start an allocation holding a [`Header::new::<T>`] and an initialised `T`
    /// at [`value_offset::<T>`], which `T`'s entry in [`FREE`] can free.
    pub(super) unsafe fn from_header(h: NonNull<Header>) -> Shared<T> {
        Shared {
            ptr: h.cast(),
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
pub(super) fn count_up<N: Count>(count: &Cell<N>) {
    let n = count.get().plus_one();
    count.set(n);
    if n.is_zero() {
        // As `Rc`: a count that wraps means memory is corrupt or leaked without bound.
        std::process::abort();
    }
}

/// Takes one from a reference count; true when that was the last reference.
#[inline(always)]
pub(super) fn count_down<N: Count>(count: &Cell<N>) -> bool {
    let n = count.get().minus_one();
    count.set(n);
    n.is_zero()
}

/// The integer types reference counts are kept in.
pub(super) trait Count: Copy {
    fn plus_one(self) -> Self;
    fn minus_one(self) -> Self;
    fn is_zero(self) -> bool;
}

macro_rules! counts {
    ($($t:ty),*) => {$(
        impl Count for $t {
            #[inline(always)]
            fn plus_one(self) -> Self { self.wrapping_add(1) }
            #[inline(always)]
            fn minus_one(self) -> Self { self - 1 }
            #[inline(always)]
            fn is_zero(self) -> bool { self == 0 }
        }
    )*};
}
counts!(u32, usize);

/// Adds a reference to the allocation at `h`.
///
/// # Safety
/// `h` must be the header of a live allocation made by [`Shared::new`].
#[inline(always)]
pub(super) unsafe fn retain(h: NonNull<Header>) {
    // SAFETY: the header of a live allocation (the caller's contract).
    count_up(unsafe { &h.as_ref().strong });
}

/// Drops a reference to the allocation at `h`, freeing it with the last one.
///
/// # Safety
/// `h` must be the header of a live allocation made by [`Shared::new`], and the caller
/// must own the reference it gives up.
#[inline(always)]
unsafe fn release(h: NonNull<Header>) {
    // SAFETY: the header of a live allocation (the caller's contract).
    if count_down(unsafe { &h.as_ref().strong }) {
        // SAFETY: that was the last reference, which the caller owned.
        unsafe { free_last(h) };
    }
}

/// Frees an allocation whose last reference went away (its type's entry in [`FREE`]).
///
/// Freeing a value drops what it holds, which may free further values: a list nested
/// 200 000 deep would free itself 200 000 calls deep and overflow the stack. Frees
/// therefore nest directly only [`MAX_NESTED_FREES`] deep; below that, an allocation whose
/// count reaches zero is put on [`PENDING`] and freed by the outermost free once the
/// current one is done (a work list instead of recursion). The common case (a count that
/// does not reach zero) never gets here, and a free within the first levels costs one
/// thread-local counter update.
///
/// # Safety
/// `h` must be the header of a live allocation made by [`Shared::new`] (or a type's own
/// constructor, see [`Shared::from_header`]) whose last reference went away.
#[inline(never)]
unsafe fn free_last(h: NonNull<Header>) {
    let depth = FREE_DEPTH.get();
    if depth >= MAX_NESTED_FREES {
        defer_free(h);
        return;
    }
    FREE_DEPTH.set(depth + 1);
    // SAFETY: `h` is live and unreferenced (the caller's contract), so its type's entry in
    // `FREE` (chosen by the kind its constructor wrote) may free it.
    unsafe { FREE[h.as_ref().kind as usize](h) };
    if depth == 0 && ANY_PENDING.get() {
        // The outermost free: free what deeper ones put aside, each again with
        // `MAX_NESTED_FREES` levels of room (they may put more aside: the loop drains it).
        while let Some(next) = pop_pending() {
            // SAFETY: `defer_free` put aside a live allocation whose last reference went
            // away, and it is taken off the list once.
            unsafe { FREE[next.as_ref().kind as usize](next) };
        }
        ANY_PENDING.set(false);
    }
    FREE_DEPTH.set(depth);
}

/// How deep frees nest on the stack before further ones are put on [`PENDING`].
const MAX_NESTED_FREES: u32 = 64;

thread_local! {
    /// How many [`free_last`] calls are running on this thread.
    static FREE_DEPTH: Cell<u32> = const { Cell::new(0) };
    /// Whether [`PENDING`] may hold anything: the outermost free looks at the work list
    /// (a thread-local with a destructor, dearer to reach) only then.
    static ANY_PENDING: Cell<bool> = const { Cell::new(false) };
    /// Allocations whose last reference went away below [`MAX_NESTED_FREES`] nested
    /// frees, waiting for the outermost free.
    static PENDING: std::cell::RefCell<Vec<NonNull<Header>>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Puts `h` aside for the outermost [`free_last`] (or leaks it if the thread is ending and
/// its work list is gone).
#[cold]
fn defer_free(h: NonNull<Header>) {
    ANY_PENDING.set(true);
    let _ = PENDING.try_with(|p| p.borrow_mut().push(h));
}

/// The next allocation put aside by [`defer_free`].
fn pop_pending() -> Option<NonNull<Header>> {
    PENDING.try_with(|p| p.borrow_mut().pop()).ok().flatten()
}

/// Drops the value at `h` (a `SharedBox<T>`) and frees its memory.
///
/// # Safety
/// `h` must be an allocation made by [`Shared::new::<T>`] that nothing references any more.
unsafe fn free<T>(h: NonNull<Header>) {
    // SAFETY: `Shared::new` made the allocation from a `Box<SharedBox<T>>`, and this is
    // its only owner now.
    drop(unsafe { Box::from_raw(h.as_ptr() as *mut SharedBox<T>) });
}

impl<T: HeapObject> Clone for Shared<T> {
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

impl<T: HeapObject> Drop for Shared<T> {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: `self` owns one reference to a live allocation.
        unsafe { release(self.header_ptr()) }
    }
}

impl<T: HeapObject> Deref for Shared<T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: the allocation lives as long as `self`.
        unsafe { &(*self.ptr.as_ptr()).value }
    }
}

impl<T: HeapObject> AsRef<T> for Shared<T> {
    fn as_ref(&self) -> &T {
        self
    }
}

impl<T: HeapObject + PartialEq> PartialEq for Shared<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: HeapObject> From<T> for Shared<T> {
    fn from(value: T) -> Self {
        Shared::new(value)
    }
}

impl<T: HeapObject + std::fmt::Display> std::fmt::Display for Shared<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: HeapObject + std::fmt::Debug> std::fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::Shared;
    use crate::value::{List, NixString, Thunk, Value};
    use std::rc::Rc;

    /// A list holding a thunk whose computation owns `probe`: freeing the list frees the
    /// probe's clone.
    fn list_owning(probe: &Rc<()>) -> Shared<List> {
        let p = probe.clone();
        List::from_vec(vec![Thunk::native(move |_| {
            let _ = &p;
            Ok(Value::Null)
        })])
    }

    #[test]
    fn the_value_is_dropped_once_with_the_last_reference() {
        let probe = Rc::new(());
        let a = list_owning(&probe);
        let b = a.clone();
        let c = b.clone();
        assert!(Shared::ptr_eq(&a, &c));
        drop(a);
        drop(c);
        assert_eq!(Rc::strong_count(&probe), 2);
        drop(b);
        assert_eq!(Rc::strong_count(&probe), 1);
    }

    #[test]
    fn get_mut_only_for_the_sole_reference() {
        let mut a = Shared::new(NixString::plain("a".to_string()));
        Shared::get_mut(&mut a).unwrap().s.push(b'b');
        let b = a.clone();
        assert!(Shared::get_mut(&mut a).is_none());
        drop(b);
        assert_eq!(a.s, b"ab");
    }

    #[test]
    fn deep_values_are_freed_without_recursion() {
        use crate::value::{Attr, Attrs, Closure, Env};
        // A list in a list … 1 000 000 deep, a set in a set, and thunks and closures
        // holding each other: freeing them recursively would overflow the test thread's
        // stack.
        let mut v = Value::Null;
        for _ in 0..1_000_000 {
            v = Value::list(vec![v]);
        }
        drop(v);
        let mut v = Value::Null;
        for _ in 0..1_000_000 {
            v = Value::Attrs(Attrs::from_sorted(vec![Attr {
                name: crate::symbol::Symbol::new("a"),
                value: v,
                span: crate::source::Span::NONE,
            }]));
        }
        drop(v);
        let lambda = std::rc::Rc::new(crate::ir::Lambda {
            name: None,
            param: crate::ir::Param::Ident(crate::symbol::Symbol::new("x")),
            body: std::rc::Rc::new(crate::ir::Expr::Const(
                Value::Null,
                crate::source::Span::NONE,
            )),
            span: crate::source::Span::NONE,
        });
        let mut v = Value::Null;
        for i in 0..1_000_000 {
            v = if i % 2 == 0 {
                Thunk::of(crate::value::ThunkState::Done(v))
            } else {
                Value::Lambda(Closure::new(&lambda, &Env::one(None, v)))
            };
        }
        drop(v);
    }

    #[test]
    fn the_header_is_one_word() {
        assert_eq!(std::mem::size_of::<super::Header>(), 8);
    }
}
