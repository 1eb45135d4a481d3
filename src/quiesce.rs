//! Knowing when removed callbacks can no longer run.
//!
//! Each thread that dispatches owns a [`ReaderRecord`]: its `seq` is odd while
//! the thread is inside a dispatch and even otherwise, and only the owner
//! writes it, so firing threads never write a shared cache line.
//! [`wait_for_callbacks`] waits until every dispatch that was running on
//! another thread when it was called has ended. Together with the SeqCst
//! handshake in [`crate::dispatch`] this gives: once a callback is removed and
//! the wait has returned, that callback is not running and will not run.
//! `docs/CONCURRENCY.md` has the argument; `src/loom_tests.rs` checks it.

use std::sync::Arc;

use crate::error::Error;
use crate::sync::{self, AtomicBool, AtomicU64, Mutex, MutexGuard, Ordering};
use crate::thread;

/// One thread's dispatch announcements. Padded so two threads never share
/// the line.
#[repr(align(128))]
pub struct ReaderRecord {
    seq: AtomicU64,
    waiting: AtomicBool,
}

impl ReaderRecord {
    fn new() -> ReaderRecord {
        ReaderRecord {
            seq: AtomicU64::new(0),
            waiting: AtomicBool::new(false),
        }
    }

    /// Announce a dispatch: make `seq` odd, then a SeqCst fence, so the
    /// dispatch's later read of the callback table's version and a waiter's
    /// read of `seq` (after its own SeqCst fence, in [`Readers::wait`])
    /// cannot both miss the other side's write (`docs/CONCURRENCY.md`, H1).
    #[inline]
    pub(crate) fn enter(&self) {
        let s = self.seq.load(Ordering::Relaxed);
        self.seq.store(s + 1, Ordering::Relaxed);
        sync::fence(Ordering::SeqCst);
    }

    /// End a dispatch. Release: whatever the dispatch did (its last use of
    /// a callback's data) happens before a waiter's Acquire load that sees
    /// the new value (H2). Only the owner writes `seq`.
    #[inline]
    pub(crate) fn exit(&self) {
        let s = self.seq.load(Ordering::Relaxed);
        self.seq.store(s + 1, Ordering::Release);
    }

    /// Whether the owner is inside a dispatch (read by the owner only).
    pub(crate) fn in_dispatch(&self) -> bool {
        self.seq.load(Ordering::Relaxed) & 1 == 1
    }
}

/// The records of every thread that has dispatched and not yet ended.
pub(crate) struct Readers {
    list: Mutex<Vec<Arc<ReaderRecord>>>,
}

impl Readers {
    /// No records.
    #[cfg(not(loom))]
    pub(crate) const fn new() -> Readers {
        Readers {
            list: Mutex::new(Vec::new()),
        }
    }

    /// No records.
    #[cfg(loom)]
    pub(crate) fn new() -> Readers {
        Readers {
            list: Mutex::new(Vec::new()),
        }
    }

    fn list(&self) -> MutexGuard<'_, Vec<Arc<ReaderRecord>>> {
        self.list.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new record, listed before its owner's first dispatch.
    pub(crate) fn register(&self) -> Arc<ReaderRecord> {
        let rec = Arc::new(ReaderRecord::new());
        self.list().push(rec.clone());
        rec
    }

    /// Forget a record (its thread is ending, so it is not in a dispatch).
    pub(crate) fn unregister(&self, rec: &Arc<ReaderRecord>) {
        self.list().retain(|r| !Arc::ptr_eq(r, rec));
    }

    /// Wait until every dispatch running on a thread other than `me`'s
    /// when this was called has ended.
    ///
    /// When `me` is itself inside a dispatch (a callback is waiting), it
    /// marks itself waiting, and a wait for a thread that is marked waiting
    /// too fails with a RuntimeError instead of deadlocking.
    pub(crate) fn wait(&self, me: &Arc<ReaderRecord>) -> Result<(), Error> {
        let inside = me.in_dispatch();
        if inside {
            me.waiting.swap(true, Ordering::AcqRel);
        }
        let result = self.wait_others(me, inside);
        if inside {
            me.waiting.store(false, Ordering::Release);
        }
        result
    }

    fn wait_others(&self, me: &Arc<ReaderRecord>, inside: bool) -> Result<(), Error> {
        // A snapshot: a record listed later belongs to a thread whose first
        // dispatch starts after this point, so it already sees the removal.
        let snapshot: Vec<Arc<ReaderRecord>> = self.list().clone();
        // Pairs with the fence in `enter`: either this thread's reads of
        // `seq` below see a dispatch's `enter`, or that dispatch's read of
        // the callback table's version sees the removals made before (H1).
        sync::fence(Ordering::SeqCst);
        for rec in snapshot.iter().filter(|r| !Arc::ptr_eq(r, me)) {
            let seen = rec.seq.load(Ordering::Acquire);
            if seen & 1 == 0 {
                continue;
            }
            let mut round = 0u32;
            while rec.seq.load(Ordering::Acquire) == seen {
                // Read-modify-write for the same reason: of two callbacks
                // waiting for each other, at least one sees the other's flag
                // (H3).
                if inside && rec.waiting.fetch_or(false, Ordering::AcqRel) {
                    return Err(Error::runtime(
                        "cannot wait for callbacks: another thread's callback is waiting for this one",
                    ));
                }
                sync::spin(round);
                round = round.saturating_add(1);
            }
        }
        Ok(())
    }
}

#[cfg(not(loom))]
static READERS: Readers = Readers::new();

#[cfg(loom)]
loom::lazy_static! {
    static ref READERS: Readers = Readers::new();
}

/// Forget a thread's record when the thread ends.
pub(crate) fn unregister(rec: &Arc<ReaderRecord>) {
    READERS.unregister(rec);
}

/// This thread's record, registering it on first use.
pub(crate) fn current_record(t: &thread::ThreadState) -> &Arc<ReaderRecord> {
    t.reader.get_or_init(|| READERS.register())
}

/// Wait until every dispatch running on another thread when this was called
/// has finished.
///
/// Called from inside a callback, the calling thread's own dispatch is not
/// waited for (it is below the caller on the stack). Two callbacks on two
/// threads waiting for each other would deadlock; instead at least one of
/// them gets a RuntimeError.
pub fn wait_for_callbacks() -> Result<(), Error> {
    let me = thread::with(|t| current_record(t).clone());
    READERS.wait(&me)
}
