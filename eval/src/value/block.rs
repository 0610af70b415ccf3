//! Shared objects that are a run of items stored inline: attribute sets and lists.
//!
//! Such an object lives in one allocation: the shared [`Header`], a [`Head`] (length and
//! capacity), then the items. Reading an item reads one block, and the object costs one
//! allocation, not a header plus a separate buffer. Sets and lists are most of what the
//! module system allocates and keeps. The object types ([`super::Attrs`],
//! [`super::List`]) wrap a `Head` and exist only inside such an allocation, so they have
//! no by-value constructors: a [`Builder`] fills the allocation and hands out the
//! [`Shared`] pointer.

use super::shared::{value_offset, Header, HeapObject};
use super::Shared;
use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::marker::PhantomData;
use std::ptr::NonNull;

/// The start of an inline run of `T`: how many there are and how many fit.
#[repr(C)]
pub struct Head<T> {
    len: u32,
    cap: u32,
    /// Where the items start (they follow the head).
    items: [T; 0],
}

impl<T> Head<T> {
    /// A pointer to item slot `i` (which may be past the initialised ones).
    ///
    /// # Safety
    /// `self` must be the head of a block's allocation and `i <= cap`.
    #[inline(always)]
    unsafe fn slot(&self, i: usize) -> *mut T {
        // SAFETY: the items follow the head in the same allocation (see `Builder`).
        unsafe {
            (self as *const Head<T>)
                .add(1)
                .cast::<T>()
                .cast_mut()
                .add(i)
        }
    }
    /// The items.
    #[inline(always)]
    pub fn items(&self) -> &[T] {
        // SAFETY: a head is only reached through its block, whose first `len` items are
        // initialised and not mutated while the block is shared.
        unsafe { std::slice::from_raw_parts(self.slot(0), self.len as usize) }
    }
}

/// An object type stored as a block: a `repr(transparent)` wrapper of a [`Head`].
///
/// # Safety
/// `Self` must be `repr(transparent)` over `Head<Self::Item>`.
pub unsafe trait Inline: HeapObject {
    /// The type of the items.
    type Item;
}

/// The allocation of a block of `B` with room for `cap` items (`None`: too large).
fn layout<B: Inline>(cap: usize) -> Option<Layout> {
    std::mem::size_of::<B::Item>()
        .checked_mul(cap)
        .and_then(|n| n.checked_add(value_offset::<B>() + std::mem::size_of::<B>()))
        .and_then(|n| Layout::from_size_align(n, std::mem::align_of::<B>()).ok())
}

/// A block of `B` being filled: its allocation, with room for a fixed number of items
/// ([`Builder::finish`] makes it the object).
pub struct Builder<B: Inline> {
    ptr: NonNull<Header>,
    _block: PhantomData<B>,
}

impl<B: Inline> Builder<B> {
    /// A builder with room for `cap` items.
    pub fn with_capacity(cap: usize) -> Builder<B> {
        match Builder::try_with_capacity(cap) {
            Ok(b) => b,
            Err(Some(layout)) => handle_alloc_error(layout),
            Err(None) => panic!("object too large"),
        }
    }
    /// A builder with room for `cap` items, or why there is none: the layout the
    /// allocator refused, or `None` when `cap` is beyond any layout.
    pub fn try_with_capacity(cap: usize) -> Result<Builder<B>, Option<Layout>> {
        let cap32 = u32::try_from(cap).map_err(|_| None)?;
        let layout = layout::<B>(cap).ok_or(None)?;
        // SAFETY: the layout has a non-zero size (the header and head); both are written
        // before anything reads them.
        unsafe {
            let p = alloc(layout);
            let Some(ptr) = NonNull::new(p.cast::<Header>()) else {
                return Err(Some(layout));
            };
            ptr.as_ptr().write(Header::new::<B>());
            p.add(value_offset::<B>())
                .cast::<Head<B::Item>>()
                .write(Head {
                    len: 0,
                    cap: cap32,
                    items: [],
                });
            Ok(Builder {
                ptr,
                _block: PhantomData,
            })
        }
    }
    #[inline(always)]
    fn head(&mut self) -> &mut Head<B::Item> {
        // SAFETY: the head was written by `with_capacity`; the block is not shared yet.
        unsafe {
            &mut *self
                .ptr
                .as_ptr()
                .cast::<u8>()
                .add(value_offset::<B>())
                .cast::<Head<B::Item>>()
        }
    }
    /// Appends `item`; there must be room.
    #[inline]
    pub fn push(&mut self, item: B::Item) {
        let head = self.head();
        assert!(head.len < head.cap, "block overfilled");
        // SAFETY: slot `len` is within the allocation (`len < cap`) and unwritten.
        unsafe { head.slot(head.len as usize).write(item) };
        head.len += 1;
    }
    /// The object of `items`, moved into a block of their size.
    pub fn from_vec(items: Vec<B::Item>) -> Shared<B> {
        let mut block = Builder::with_capacity(items.len());
        block.take_all(items);
        block.finish()
    }
    /// Moves every item of `items` in; there must be room.
    fn take_all(&mut self, mut items: Vec<B::Item>) {
        let head = self.head();
        let n = items.len();
        assert!(n <= (head.cap - head.len) as usize, "block overfilled");
        // SAFETY: there is room for `n` more items; they are moved (the vector forgets
        // them before it is dropped).
        unsafe {
            std::ptr::copy_nonoverlapping(items.as_ptr(), head.slot(head.len as usize), n);
            items.set_len(0);
        }
        head.len += n as u32;
    }
    /// Appends a copy of each of `items`; there must be room.
    pub fn extend_from_slice(&mut self, items: &[B::Item])
    where
        B::Item: Clone,
    {
        for item in items {
            self.push(item.clone());
        }
    }
    /// The object of the items pushed.
    pub fn finish(self) -> Shared<B> {
        let ptr = self.ptr;
        std::mem::forget(self);
        // SAFETY: the block holds a header for `B`, an initialised head and `len`
        // initialised items; `free::<B>` releases it.
        unsafe { Shared::from_header(ptr) }
    }
}

impl<B: Inline> Drop for Builder<B> {
    fn drop(&mut self) {
        // SAFETY: an unfinished block is freed as a finished one would be.
        unsafe { free::<B>(self.ptr) }
    }
}

/// Drops a block's items and frees its allocation (`B`'s entry in the table of
/// destructors).
///
/// # Safety
/// `h` must be a block of `B` (made by [`Builder`]) that nothing uses any more.
pub(super) unsafe fn free<B: Inline>(h: NonNull<Header>) {
    // SAFETY: `h` starts a block of `B` (the caller's contract): a head at the value
    // offset whose first `len` items are initialised, allocated with `layout::<B>(cap)`.
    // The items are dropped once and the memory freed; nothing uses the block afterwards.
    unsafe {
        let head = h
            .as_ptr()
            .cast::<u8>()
            .add(value_offset::<B>())
            .cast::<Head<B::Item>>();
        let (len, cap) = ((*head).len as usize, (*head).cap as usize);
        std::ptr::drop_in_place(std::ptr::slice_from_raw_parts_mut((*head).slot(0), len));
        let layout = layout::<B>(cap).expect("the block was allocated with this layout");
        dealloc(h.as_ptr().cast(), layout);
    }
}
