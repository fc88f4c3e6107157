//! Results of numbered work items, merged in the items' order as they come in, with a window:
//! item `k` starts only when fewer than `window` items before it are still unmerged. Inputs
//! are read by several workers at once, and what each gives (hosts, names, flows) must be
//! merged in input order for the report to be the same from run to run; merged as they come,
//! not all at the end, a run of a thousand captures holds the merged result and a few inputs'
//! results, not a thousand.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, MutexGuard};

/// The merging of items `0, 1, 2, ...` into an `A`, in that order.
pub(super) struct InOrder<T, A> {
    state: Mutex<State<T, A>>,
    /// Signalled when items are merged (or a worker failed).
    merged: Condvar,
    window: usize,
}

struct State<T, A> {
    /// The first item not merged yet.
    next: usize,
    /// Results waiting for an earlier item.
    waiting: BTreeMap<usize, T>,
    merged: A,
    /// A worker panicked: its item will never come, so nobody waits for it.
    failed: bool,
}

impl<T, A> InOrder<T, A> {
    /// Merging into `into`, at most `window` items (at least one) under way or waiting.
    pub(super) fn new(window: usize, into: A) -> Self {
        InOrder {
            state: Mutex::new(State {
                next: 0,
                waiting: BTreeMap::new(),
                merged: into,
                failed: false,
            }),
            merged: Condvar::new(),
            window: window.max(1),
        }
    }

    /// Waits until item `at` may start: until fewer than the window's items before it are
    /// unmerged. False when it may not (a worker failed): stop taking items.
    ///
    /// Items must be taken in order (a counter): then the first unmerged item is always under
    /// way on some worker that does not wait, and waiting ends.
    pub(super) fn wait_turn(&self, at: usize) -> bool {
        let Some(mut state) = self.lock() else {
            return false;
        };
        while !state.failed && at >= state.next + self.window {
            match self.merged.wait(state) {
                Ok(s) => state = s,
                Err(_) => return false,
            }
        }
        !state.failed
    }

    /// Hands over item `at`'s result, then merges with `merge` every result now next in order
    /// (on this thread, holding the lock).
    pub(super) fn done(&self, at: usize, result: T, mut merge: impl FnMut(&mut A, usize, T)) {
        let Some(mut state) = self.lock() else {
            return;
        };
        state.waiting.insert(at, result);
        let state = &mut *state;
        let mut any = false;
        while let Some(result) = state.waiting.remove(&state.next) {
            merge(&mut state.merged, state.next, result);
            state.next += 1;
            any = true;
        }
        if any {
            self.merged.notify_all();
        }
    }

    /// A worker failed (its item will never be done): the others stop waiting.
    pub(super) fn fail(&self) {
        if let Some(mut state) = self.lock() {
            state.failed = true;
        }
        self.merged.notify_all();
    }

    /// What was merged, and the results still waiting for an item that never came (none
    /// unless a worker failed).
    pub(super) fn into_inner(self) -> Option<(A, usize)> {
        let state = self.state.into_inner().ok()?;
        Some((state.merged, state.waiting.len()))
    }

    /// The state; None when poisoned (a worker panicked holding it; the scope re-raises it).
    fn lock(&self) -> Option<MutexGuard<'_, State<T, A>>> {
        self.state.lock().ok()
    }
}

/// Calls [`InOrder::fail`] if dropped while its thread panics: a worker keeps one while it
/// works, so that a panic in it does not leave the others waiting for its item.
pub(super) struct FailOnPanic<'a, T, A>(pub(super) &'a InOrder<T, A>);

impl<T, A> Drop for FailOnPanic<'_, T, A> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.fail();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn merges_in_order_whatever_order_items_end_in() {
        let order = InOrder::new(8, Vec::new());
        for at in [2, 0, 3, 1, 5, 4] {
            order.done(at, at * 10, |v: &mut Vec<usize>, k, r| {
                assert_eq!(r, k * 10);
                v.push(k);
            });
        }
        let (merged, left) = order.into_inner().unwrap();
        assert_eq!(merged, [0, 1, 2, 3, 4, 5]);
        assert_eq!(left, 0);
    }

    #[test]
    fn the_window_holds_later_items_back_until_the_first_is_merged() {
        // Four workers, a window of two: item 0 is slow, items 1.. are quick. While item 0 is
        // under way, no item past 1 may start, so at most two results are ever held.
        let order = InOrder::new(2, Vec::new());
        let next = AtomicUsize::new(0);
        let held = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| loop {
                    let at = next.fetch_add(1, Ordering::SeqCst);
                    if at >= 12 || !order.wait_turn(at) {
                        break;
                    }
                    let now = held.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    if at == 0 {
                        std::thread::sleep(Duration::from_millis(200));
                    }
                    order.done(at, (), |v: &mut Vec<usize>, k, ()| {
                        held.fetch_sub(1, Ordering::SeqCst);
                        v.push(k);
                    });
                });
            }
        });
        let (merged, _) = order.into_inner().unwrap();
        assert_eq!(merged, (0..12).collect::<Vec<_>>());
        assert!(most.load(Ordering::SeqCst) <= 2, "{most:?}");
    }

    #[test]
    fn a_failed_worker_does_not_leave_the_others_waiting() {
        let order: InOrder<(), ()> = InOrder::new(1, ());
        std::thread::scope(|s| {
            let waiter = s.spawn(|| order.wait_turn(3));
            let failing = s.spawn(|| {
                let _guard = FailOnPanic(&order);
                std::thread::sleep(Duration::from_millis(50));
                panic!("a worker fails (this test's own panic, expected)");
            });
            assert!(failing.join().is_err());
            assert!(!waiter.join().unwrap());
        });
        assert!(!order.wait_turn(0));
    }
}
