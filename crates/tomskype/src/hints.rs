//! Hints to the CPU, the kernel and the allocator about memory. None changes what the
//! program computes.
//!
//! - Software prefetch: asking the CPU for a cache line before it is needed, where the access
//!   pattern is known ahead but the hardware cannot guess it: the flow table's entries (random
//!   by nature).
//! - Huge pages for the flow table: one random look-up per packet in tens of MB misses the
//!   TLB on 4 KiB pages; 2 MiB pages make that rare.
//! - Free pages handed back after a memory budget's shedding: what was freed, in pieces all
//!   over the heap, otherwise stays in the process.

/// Asks the CPU to bring `*at`'s cache line into all cache levels. Never faults, changes
/// nothing observable; a no-op on targets other than x86-64.
#[inline(always)]
pub(crate) fn prefetch<T>(at: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it reads nothing the program sees and cannot fault, and
    // `at` is a valid reference anyway.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>((at as *const T).cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

/// Asks the allocator to hand the memory it holds free back to the kernel (glibc's
/// `malloc_trim`: whole free pages anywhere in its heaps, not only at their top). A hint, for
/// after a memory budget's shedding; a no-op where the allocator is not glibc's.
pub(crate) fn give_back_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases pages no allocation uses; it is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Asks the kernel to back the pages of `v`'s buffer (all of its capacity) with huge pages
/// (transparent huge pages, `madvise` mode). A hint: a kernel without them changes nothing.
pub(crate) fn huge_pages<T>(v: &Vec<T>) {
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        let start = v.as_ptr() as usize;
        let end = start + v.capacity() * size_of::<T>();
        let from = start.next_multiple_of(PAGE);
        let to = end / PAGE * PAGE;
        if to > from + (2 << 20) {
            // SAFETY: madvise with MADV_HUGEPAGE changes how the kernel backs the range, never
            // its contents; the range lies inside the vector's allocation, page-aligned.
            unsafe {
                libc::madvise(from as *mut libc::c_void, to - from, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = v;
}
