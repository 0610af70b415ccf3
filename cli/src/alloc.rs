//! kith's global allocator: mimalloc, with a per-thread pool of small blocks in front.
//!
//! The evaluator allocates and frees millions of small objects of a few sizes (thunks,
//! frames, closures, small sets and lists). Rust's allocator interface passes the size to
//! `dealloc` as well as to `alloc`, so blocks of up to [`MAX_POOLED`] bytes can live on plain
//! per-thread, per-size free lists: a pop to allocate and a push to free, a few instructions
//! each, where `mi_malloc`/`mi_free` look up the page and its owner every time (a tenth of the
//! evaluator's instructions on the module-system benchmarks; history of docs/benchmarks.md).
//! The pool takes its memory from mimalloc in [`CHUNK`]-byte chunks (each populated in one
//! system call, see [`populate`]) and keeps freed blocks for reuse at the same size: it never
//! hands memory back, which suits a command-line process. Larger or over-aligned blocks go
//! to mimalloc directly.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::ptr::null_mut;

/// Size classes are multiples of this (and pooled blocks are aligned to it).
const GRANULE: usize = 16;
/// The largest block the pool serves.
const MAX_POOLED: usize = 256;
const CLASSES: usize = MAX_POOLED / GRANULE;
/// The pool carves its blocks from chunks of this many bytes.
const CHUNK: usize = 256 * 1024;
/// Alignment every `mi_malloc` block has.
const MI_MIN_ALIGN: usize = 8;

/// One thread's free lists (a freed block holds the next block's address in its first word)
/// and the unused rest of its current chunk.
struct Pool {
    free: [Cell<*mut u8>; CLASSES],
    next: Cell<*mut u8>,
    end: Cell<*mut u8>,
}

thread_local! {
    // No destructor, so access is a plain thread-local load. A thread's blocks are lost when
    // it ends (kith's threads live as long as the process).
    static POOL: Pool = const {
        Pool {
            free: [const { Cell::new(null_mut()) }; CLASSES],
            next: Cell::new(null_mut()),
            end: Cell::new(null_mut()),
        }
    };
}

/// Whether `layout` is served by the pool.
#[inline(always)]
fn pooled(layout: Layout) -> bool {
    layout.size() <= MAX_POOLED && layout.align() <= GRANULE
}

/// The size class of a pooled size: blocks of `(class + 1) * GRANULE` bytes.
#[inline(always)]
fn class(size: usize) -> usize {
    size.saturating_sub(1) / GRANULE
}

impl Pool {
    #[inline(always)]
    unsafe fn alloc(&self, class: usize) -> *mut u8 {
        let head = self.free[class].get();
        if !head.is_null() {
            // SAFETY: a block on a free list holds the next block's address.
            self.free[class].set(unsafe { *(head as *mut *mut u8) });
            return head;
        }
        unsafe { self.carve(class) }
    }

    /// A new block from the current chunk, starting a new chunk when it is used up.
    #[inline(always)]
    unsafe fn carve(&self, class: usize) -> *mut u8 {
        let size = (class + 1) * GRANULE;
        let next = self.next.get();
        if (self.end.get() as usize) - (next as usize) >= size {
            self.next.set(unsafe { next.add(size) });
            return next;
        }
        unsafe { self.refill(size) }
    }

    /// Starts a new chunk and carves a block of `size` bytes from it. The rest of the old
    /// chunk (under MAX_POOLED bytes) is left unused.
    #[cold]
    #[inline(never)]
    unsafe fn refill(&self, size: usize) -> *mut u8 {
        let next: *mut u8 = unsafe { libmimalloc_sys::mi_malloc_aligned(CHUNK, GRANULE) }.cast();
        if next.is_null() {
            return next;
        }
        populate(next, CHUNK);
        self.end.set(unsafe { next.add(CHUNK) });
        self.next.set(unsafe { next.add(size) });
        next
    }

    #[inline(always)]
    unsafe fn free(&self, ptr: *mut u8, class: usize) {
        // SAFETY: the block is at least GRANULE bytes, aligned, and no longer in use.
        unsafe { *(ptr as *mut *mut u8) = self.free[class].get() };
        self.free[class].set(ptr);
    }
}

/// Has the kernel back `len` bytes at `p` with memory now, in one call, rather than on a page
/// fault for each of its pages as they are first written (a pooled chunk is written soon and
/// whole). Cuts system time by a third on the module-system benchmarks. Where the kernel
/// lacks `MADV_POPULATE_WRITE` (before Linux 5.14) the call fails and pages fault as usual.
#[cfg(target_os = "linux")]
fn populate(p: *mut u8, len: usize) {
    // SAFETY: `p..p + len` is memory this process owns; the advice changes no contents.
    unsafe { libc::madvise(p.cast(), len, libc::MADV_POPULATE_WRITE) };
}

#[cfg(not(target_os = "linux"))]
fn populate(_: *mut u8, _: usize) {}

/// Ends the process as C++ Nix does when memory runs out: `error: out of memory` and exit
/// status 1 (Rust's default would print `memory allocation of N bytes failed` and abort
/// with SIGABRT; its hook, `set_alloc_error_hook`, is unstable). Every failed allocation
/// comes here, so kith never returns null to its callers: no allocation in kith is
/// optional, and none is large unless the input asks for it.
#[cold]
#[inline(never)]
fn out_of_memory() -> ! {
    const MSG: &[u8] = b"error: out of memory\n";
    // SAFETY: plain system calls: a write from a static buffer, then the end of the
    // process without running destructors or atexit handlers (which might allocate).
    unsafe {
        libc::write(2, MSG.as_ptr().cast(), MSG.len());
        libc::_exit(1)
    }
}

/// `p`, unless the allocation failed.
#[inline(always)]
fn allocated(p: *mut u8) -> *mut u8 {
    if p.is_null() {
        out_of_memory()
    }
    p
}

/// The global allocator (see the module documentation). For blocks outside the pool it
/// calls mimalloc's plain `mi_malloc` where its natural alignment suffices (the `mimalloc`
/// crate always takes the slower `mi_malloc_aligned` path). A failed allocation ends the
/// process ([`out_of_memory`]).
pub struct KithAlloc;

unsafe impl GlobalAlloc for KithAlloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        allocated(unsafe { self.alloc_or_null(layout) })
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !pooled(layout) && layout.align() <= MI_MIN_ALIGN {
            // mimalloc knows when fresh memory is already zero.
            return allocated(unsafe { libmimalloc_sys::mi_zalloc(layout.size()) }.cast());
        }
        let p = unsafe { self.alloc(layout) };
        unsafe { p.write_bytes(0, layout.size()) };
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if pooled(layout) {
            POOL.with(|p| unsafe { p.free(ptr, class(layout.size())) })
        } else {
            unsafe { libmimalloc_sys::mi_free(ptr.cast()) }
        }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `new_size` with `layout`'s alignment is a valid layout.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        if !pooled(layout) && !pooled(new_layout) {
            return allocated(
                unsafe {
                    libmimalloc_sys::mi_realloc_aligned(ptr.cast(), new_size, layout.align())
                }
                .cast(),
            );
        }
        if pooled(layout) && pooled(new_layout) && class(layout.size()) == class(new_size) {
            return ptr;
        }
        let new = unsafe { self.alloc(new_layout) };
        unsafe {
            std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
            self.dealloc(ptr, layout);
        }
        new
    }
}

impl KithAlloc {
    /// A block for `layout`, or null if there is no memory.
    #[inline(always)]
    unsafe fn alloc_or_null(&self, layout: Layout) -> *mut u8 {
        if pooled(layout) {
            POOL.with(|p| unsafe { p.alloc(class(layout.size())) })
        } else if layout.align() <= MI_MIN_ALIGN {
            unsafe { libmimalloc_sys::mi_malloc(layout.size()) }.cast()
        } else {
            unsafe { libmimalloc_sys::mi_malloc_aligned(layout.size(), layout.align()) }.cast()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_reused_by_size_class_and_realloc_keeps_contents() {
        let a = KithAlloc;
        unsafe {
            let l24 = Layout::from_size_align(24, 8).unwrap();
            let p = a.alloc(l24);
            assert_eq!(p as usize % GRANULE, 0);
            p.write_bytes(7, 24);
            a.dealloc(p, l24);
            // Same class (17..=32 bytes): the block just freed comes back first.
            let l32 = Layout::from_size_align(32, 8).unwrap();
            let q = a.alloc(l32);
            assert_eq!(p, q);
            q.write_bytes(1, 32);
            // Growing within the pool and then out of it keeps the bytes.
            let r = a.realloc(q, l32, 100);
            assert!((0..32).all(|i| *r.add(i) == 1));
            let s = a.realloc(r, Layout::from_size_align(100, 8).unwrap(), 4000);
            assert!((0..32).all(|i| *s.add(i) == 1));
            // And shrinking back into it.
            let t = a.realloc(s, Layout::from_size_align(4000, 8).unwrap(), 48);
            assert!((0..32).all(|i| *t.add(i) == 1));
            a.dealloc(t, Layout::from_size_align(48, 8).unwrap());
            // Over-aligned small blocks go to mimalloc, aligned as asked.
            let l64 = Layout::from_size_align(64, 64).unwrap();
            let u = a.alloc(l64);
            assert_eq!(u as usize % 64, 0);
            a.dealloc(u, l64);
        }
    }

    #[test]
    fn a_chunk_is_carved_into_distinct_blocks() {
        let a = KithAlloc;
        let l = Layout::from_size_align(MAX_POOLED, 8).unwrap();
        let n = 2 * CHUNK / MAX_POOLED + 3;
        let blocks: Vec<*mut u8> = (0..n).map(|_| unsafe { a.alloc(l) }).collect();
        let mut sorted = blocks.clone();
        sorted.sort();
        assert!(sorted
            .windows(2)
            .all(|w| w[1] as usize - w[0] as usize >= MAX_POOLED));
        for p in blocks {
            unsafe { a.dealloc(p, l) };
        }
    }
}
