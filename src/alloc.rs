//! The allocator: the system's, counting the bytes it holds for the program, so that
//! `--max-memory` can be kept (see `tomskype::analyze::Budget`). One relaxed atomic add per
//! allocation and per free; `bench/compare.sh --before` measured no slowdown (bench/RESULTS.md,
//! "Memory that does not grow with the network").

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator, counting.
pub struct Counting;

static HELD: AtomicUsize = AtomicUsize::new(0);

/// Bytes allocated and not freed, by the whole program.
pub fn held() -> usize {
    HELD.load(Ordering::Relaxed)
}

// SAFETY: every call is passed on to `System` with the caller's arguments, so `System`'s
// guarantees are this allocator's; the counter only observes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` needs.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            HELD.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            HELD.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator (hence by `System`) with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        HELD.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` was allocated by this allocator (hence by `System`) with `layout`, and
        // the caller upholds `realloc`'s contract for `new_size`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                HELD.fetch_add(new_size - layout.size(), Ordering::Relaxed);
            } else {
                HELD.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_what_is_held() {
        // The test harness runs tests on several threads: compare with a margin, on a size far
        // above what other tests allocate at once.
        let before = held();
        let big = vec![1u8; 64 << 20];
        assert!(held() >= before + (60 << 20), "{} -> {}", before, held());
        drop(big);
        assert!(held() < before + (60 << 20));
    }
}
