//! The allocator: the system's, counting the bytes it holds for the program, so that
//! `--max-memory` can be kept (see `tomskype::analyze::Budget`). One relaxed atomic add per
//! allocation and per free; `bench/compare.sh --before` measured no slowdown (bench/RESULTS.md,
//! "Memory that does not grow with the network").
//!
//! What is counted for an allocation is what the system allocator takes for it ([`footprint`]),
//! not only the bytes asked for: the reader's many small allocations (names, one-entry maps)
//! cost glibc's malloc an eighth more than their size (valgrind massif at the peak of
//! `bench/make_stream.py --hosts 200000 --rate 1000 --machines 2000 --dns` read whole: 12.6 MB
//! of "extra heap" for 96.8 MB asked), which a budget of requested bytes would not see.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator, counting.
pub struct Counting;

static HELD: AtomicUsize = AtomicUsize::new(0);

/// Bytes allocated and not freed, by the whole program, as the allocator holds them.
pub fn held() -> usize {
    HELD.load(Ordering::Relaxed)
}

/// What glibc's malloc takes for `size` bytes on a 64-bit system: a chunk of the size and its
/// 8-byte header, in steps of 16, at least 32 (large allocations are mapped whole pages, which
/// this rounds down by less than a page). Other systems' allocators differ in the detail, not
/// in the order of the cost.
fn footprint(size: usize) -> usize {
    size.saturating_add(8 + 15).max(32) & !15
}

// SAFETY: every call is passed on to `System` with the caller's arguments, so `System`'s
// guarantees are this allocator's; the counter only observes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` needs.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            HELD.fetch_add(footprint(layout.size()), Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            HELD.fetch_add(footprint(layout.size()), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator (hence by `System`) with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        HELD.fetch_sub(footprint(layout.size()), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` was allocated by this allocator (hence by `System`) with `layout`, and
        // the caller upholds `realloc`'s contract for `new_size`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            let (old, new) = (footprint(layout.size()), footprint(new_size));
            if new >= old {
                HELD.fetch_add(new - old, Ordering::Relaxed);
            } else {
                HELD.fetch_sub(old - new, Ordering::Relaxed);
            }
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_allocation_counts_what_malloc_takes_for_it() {
        assert_eq!(footprint(0), 32);
        assert_eq!(footprint(24), 32);
        assert_eq!(footprint(25), 48);
        assert_eq!(footprint(100), 112);
        assert_eq!(footprint(64 << 20), (64 << 20) + 16);
        assert_eq!(footprint(usize::MAX), usize::MAX & !15);
    }

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
