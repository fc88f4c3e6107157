//! Software prefetch: asking the CPU for a cache line before it is needed. Used where the
//! access pattern is known ahead but the hardware cannot guess it: the capture bytes ahead of
//! the reader (file pages are scattered in physical memory, and the hardware prefetchers stop
//! at page boundaries) and the flow table's entries (random by nature).

/// Asks the CPU to bring `*at`'s cache line into all cache levels. Never faults, changes
/// nothing observable; a no-op on targets other than x86-64.
#[inline(always)]
pub(crate) fn line<T>(at: &T) {
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
                line(byte);
            }
            self.done += LINE;
        }
    }
}
