//! Hints to the CPU and the kernel about memory, for the per-packet path. None changes what
//! the program computes.
//!
//! - Software prefetch: asking the CPU for a cache line before it is needed, where the access
//!   pattern is known ahead but the hardware cannot guess it: the capture bytes ahead of the
//!   reader (file pages are scattered in physical memory, and the hardware prefetchers stop at
//!   page boundaries) and the flow table's entries (random by nature).
//! - Huge pages for the flow table: one random look-up per packet in tens of MB misses the
//!   TLB on 4 KiB pages; 2 MiB pages make that rare.

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

/// Bytes per cache line (x86-64 and most others).
pub(crate) const LINE: usize = 64;

/// Prefetches a byte stream read front to back: [`Ahead::advance`] asks for every line up to
/// `DISTANCE` bytes past the reader's position that was not asked for yet.
#[derive(Debug, Default)]
pub(crate) struct Ahead {
    /// Offset up to which lines were asked for.
    done: usize,
}

/// How far ahead of the reader the lines are asked for.
pub(crate) const DISTANCE: usize = 4096;

impl Ahead {
    /// The reader of `data` is at `pos`.
    #[inline(always)]
    pub(crate) fn advance(&mut self, data: &[u8], pos: usize) {
        let target = pos.saturating_add(DISTANCE).min(data.len());
        while self.done < target {
            if let Some(byte) = data.get(self.done) {
                prefetch(byte);
            }
            self.done += LINE;
        }
    }
}

/// Asks the kernel to back the pages of `v`'s buffer (all of its capacity) with huge pages
/// (transparent huge pages, `madvise` mode). A hint: a kernel without them changes nothing.
pub(crate) fn huge_pages<T>(v: &Vec<T>) {
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        let start = v.as_ptr() as usize;
        let end = start + v.capacity() * std::mem::size_of::<T>();
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
