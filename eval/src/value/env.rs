//! Scope frames: the variables one scope binds, in slots, and the enclosing scope.
//!
//! A frame is one allocation: a 16-byte head (count, length and `with` flag, parent)
//! followed by exactly as many value slots as the scope binds. A one-argument call's frame
//! is 32 bytes
//! and reading a slot is one bounds check and one load (a small-vector frame needed a second
//! allocation past its inline capacity and a branch on every access).

use super::shared::{count_down, count_up};
use super::Value;
use smallvec::SmallVec;
use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::cell::Cell;
use std::ops::Deref;
use std::ptr::NonNull;

/// Values gathered for a new frame (see [`Env::from_values`]).
pub type Slots = SmallVec<[Value; 4]>;

/// The head of a frame; its slots follow it in the same allocation.
///
/// Slots are written while the frame is built and read by cloning; no reference into them
/// outlives an [`Env::set`], so they need no borrow flag.
#[repr(C)]
pub struct EnvFrame {
    strong: Cell<u32>,
    /// The number of slots, with [`WITH_SCOPE`] set for a `with` scope.
    len: u32,
    parent: Option<Env>,
}

/// The bit of [`EnvFrame::len`] that marks a `with` scope.
const WITH_SCOPE: u32 = 1 << 31;

/// Where the slots start: right after the head (whose size is a multiple of a value's
/// alignment, checked below).
const SLOTS_OFFSET: usize = std::mem::size_of::<EnvFrame>();
const _: () = assert!(SLOTS_OFFSET.is_multiple_of(std::mem::align_of::<Value>()));
const _: () = assert!(std::mem::align_of::<Value>() <= std::mem::align_of::<EnvFrame>());

/// A shared scope: a counted pointer to an [`EnvFrame`].
pub struct Env {
    ptr: NonNull<EnvFrame>,
}

impl EnvFrame {
    /// The allocation of a frame with `n` slots.
    fn layout(n: usize) -> Layout {
        let bytes = n
            .checked_mul(std::mem::size_of::<Value>())
            .and_then(|s| s.checked_add(SLOTS_OFFSET))
            .expect("frame size overflows");
        Layout::from_size_align(bytes, std::mem::align_of::<EnvFrame>())
            .expect("frame size overflows")
    }

    /// A frame of `n` slots under `parent`, slot `i` holding `fill(i)`.
    #[inline]
    fn make(
        parent: Option<Env>,
        n: usize,
        is_with: bool,
        mut fill: impl FnMut(usize) -> Value,
    ) -> Env {
        crate::stats::bump(crate::stats::Counter::Envs);
        crate::stats::add(crate::stats::Counter::EnvSlots, n as u64);
        let len = u32::try_from(n)
            .ok()
            .filter(|&n| n < WITH_SCOPE)
            .expect("a scope binds fewer than 2^31 names");
        let layout = EnvFrame::layout(n);
        // SAFETY: the layout is non-zero-sized (the head) and aligned for the head and the
        // slots; the head is written first, then every slot, before the frame is shared.
        unsafe {
            let p = alloc(layout) as *mut EnvFrame;
            let Some(ptr) = NonNull::new(p) else {
                handle_alloc_error(layout)
            };
            p.write(EnvFrame {
                strong: Cell::new(1),
                len: if is_with { len | WITH_SCOPE } else { len },
                parent,
            });
            let slots = (p as *mut u8).add(SLOTS_OFFSET) as *mut Value;
            for i in 0..n {
                slots.add(i).write(fill(i));
            }
            Env { ptr }
        }
    }

    /// The enclosing scope.
    #[inline]
    pub fn parent(&self) -> Option<&Env> {
        self.parent.as_ref()
    }
    /// Whether this is a `with` scope (slot 0 holds the attribute set, maybe unforced).
    #[inline]
    pub fn is_with(&self) -> bool {
        self.len & WITH_SCOPE != 0
    }
    /// Number of slots.
    #[inline]
    pub fn len(&self) -> usize {
        (self.len & !WITH_SCOPE) as usize
    }
    /// Whether the frame has no slots.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Env {
    /// A new scope with `n` slots (all `null` until set) under `parent`.
    pub(crate) fn new(parent: Option<Env>, n: usize) -> Env {
        EnvFrame::make(parent, n, false, |_| Value::Null)
    }
    /// A new scope holding `values` under `parent`.
    pub(crate) fn from_values(parent: Option<Env>, values: Slots) -> Env {
        let n = values.len();
        let mut values = values.into_iter();
        EnvFrame::make(parent, n, false, |_| values.next().unwrap_or(Value::Null))
    }
    /// A new scope with one slot holding `v`.
    #[inline]
    pub(crate) fn one(parent: Option<Env>, v: Value) -> Env {
        let mut v = Some(v);
        EnvFrame::make(parent, 1, false, |_| v.take().unwrap_or(Value::Null))
    }
    /// A `with` scope whose attribute set is `attrs`.
    pub(crate) fn with(parent: Option<Env>, attrs: Value) -> Env {
        let mut v = Some(attrs);
        EnvFrame::make(parent, 1, true, |_| v.take().unwrap_or(Value::Null))
    }

    /// The address of slot `i`, which must exist.
    #[inline(always)]
    fn slot(&self, i: usize) -> *mut Value {
        assert!(i < self.len(), "slot {i} of a {}-slot frame", self.len());
        // SAFETY: the frame was allocated with `len` slots right after the head. The
        // address comes from the allocation's own pointer (not from a reference to the
        // head), so it may reach past the head.
        unsafe {
            self.ptr
                .as_ptr()
                .cast::<u8>()
                .add(SLOTS_OFFSET)
                .cast::<Value>()
                .add(i)
        }
    }
    /// The value in slot `i`.
    #[inline]
    pub fn get(&self, i: usize) -> Value {
        self.get_ref(i).clone()
    }
    /// A reference to the value in slot `i`.
    ///
    /// Valid while the frame lives: slots are only replaced (by `Env::set`, private to the
    /// crate) while a frame is being built, never while a reference from here is held.
    /// Safe code outside the crate cannot replace a slot, so this does not compile:
    ///
    /// ```compile_fail,E0624
    /// use kith_eval::{Eval, EvalOptions, Value};
    /// let mut ev = Eval::new(EvalOptions::default());
    /// let f = ev.eval_expr("let x = 1; in y: x", "/".as_ref()).unwrap();
    /// let Value::Lambda(c) = &f else { unreachable!() };
    /// let v = c.env.get_ref(0);
    /// c.env.set(0, Value::Null);
    /// println!("{v:?}");
    /// ```
    ///
    /// while the same reads do:
    ///
    /// ```
    /// use kith_eval::{Eval, EvalOptions, Value};
    /// let mut ev = Eval::new(EvalOptions::default());
    /// let f = ev.eval_expr("let x = 1; in y: x", "/".as_ref()).unwrap();
    /// let Value::Lambda(c) = &f else { unreachable!() };
    /// let v = c.env.get_ref(0);
    /// println!("{v:?}");
    /// ```
    #[inline]
    pub fn get_ref(&self, i: usize) -> &Value {
        // SAFETY: an initialised slot of a live frame (kept alive by `self`, which the
        // result borrows); see above for mutation.
        unsafe { &*self.slot(i) }
    }
    /// Sets slot `i` (used while building recursive scopes). No reference from
    /// [`Env::get_ref`] into the slot may be live.
    pub(crate) fn set(&self, i: usize, v: Value) {
        // SAFETY: single-threaded, no reference into the slot is live (the caller's
        // contract); the old value is dropped after the slot holds the new one.
        let old = unsafe { std::ptr::replace(self.slot(i), v) };
        drop(old);
    }
}

impl Deref for Env {
    type Target = EnvFrame;
    #[inline(always)]
    fn deref(&self) -> &EnvFrame {
        // SAFETY: the frame lives while a counted pointer to it exists.
        unsafe { self.ptr.as_ref() }
    }
}

impl Clone for Env {
    #[inline(always)]
    fn clone(&self) -> Env {
        count_up(&self.strong);
        Env { ptr: self.ptr }
    }
}

impl Drop for Env {
    #[inline(always)]
    fn drop(&mut self) {
        if count_down(&self.strong) {
            // SAFETY: that was the last reference.
            unsafe { free_frames(self.ptr) }
        }
    }
}

/// Frees a frame whose last reference went away, then its parent if that was the parent's
/// last reference, and so on: a loop, so that a long chain of scopes cannot overflow the
/// stack.
///
/// # Safety
/// `frame` must have no references left.
#[inline(never)]
unsafe fn free_frames(mut frame: NonNull<EnvFrame>) {
    loop {
        let p = frame.as_ptr();
        // SAFETY: `frame` is a live frame (made by `EnvFrame::make`) with no references
        // left: its `len` slots after the head are initialised and dropped once here, the
        // parent is moved out once, then the allocation is freed with the layout it was
        // made with; nothing reads the frame afterwards.
        let parent = unsafe {
            let len = (*p).len();
            let slots = (p as *mut u8).add(SLOTS_OFFSET) as *mut Value;
            for i in 0..len {
                std::ptr::drop_in_place(slots.add(i));
            }
            let parent = std::ptr::read(&(*p).parent);
            dealloc(p as *mut u8, EnvFrame::layout(len));
            parent
        };
        let Some(parent) = parent else { return };
        let parent = std::mem::ManuallyDrop::new(parent);
        if !count_down(&parent.strong) {
            return;
        }
        frame = parent.ptr;
    }
}

#[cfg(test)]
mod tests {
    use super::{Env, Slots};
    use crate::value::Value;

    #[test]
    fn slots_hold_what_was_put() {
        let root = Env::new(None, 0);
        let f = Env::one(Some(root.clone()), Value::Int(7));
        let g = Env::from_values(
            Some(f.clone()),
            Slots::from_vec(vec![Value::Int(1), Value::Bool(true)]),
        );
        assert_eq!(g.len(), 2);
        assert!(matches!(g.get(0), Value::Int(1)));
        assert!(matches!(g.get_ref(1), Value::Bool(true)));
        g.set(0, Value::Int(5));
        assert!(matches!(g.get(0), Value::Int(5)));
        assert!(matches!(g.parent().unwrap().get(0), Value::Int(7)));
        assert!(!g.is_with());
        assert!(Env::with(None, Value::Null).is_with());
    }

    #[test]
    fn the_head_is_two_words() {
        assert_eq!(super::SLOTS_OFFSET, 16);
    }

    #[test]
    fn a_long_chain_of_frames_is_freed_without_recursion() {
        let mut env = Env::new(None, 0);
        for i in 0..1_000_000 {
            env = Env::one(Some(env), Value::Int(i));
        }
        // Dropping the innermost frame frees the whole chain (freeing it recursively would
        // overflow a test thread's stack).
        drop(env);
    }
}
