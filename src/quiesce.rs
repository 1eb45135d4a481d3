//! Knowing when removed callbacks can no longer run.
//!
//! Each thread that dispatches owns a [`ReaderRecord`]: its `seq` is odd while
//! the thread is inside a dispatch and even otherwise, and only the owner
//! writes it, so firing threads never write a shared cache line.
//! [`wait_for_callbacks`] waits until every dispatch that was running on
//! another thread when it was called has ended. Together with the SeqCst
//! handshake in [`crate::dispatch`] this gives: once a callback is removed and
//! the wait has returned, that callback is not running and will not run.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::error::Error;
use crate::thread;

/// One thread's dispatch announcements. Padded so two threads never share
/// the line.
#[repr(align(128))]
#[derive(Default)]
pub struct ReaderRecord {
    seq: AtomicU64,
    waiting: AtomicBool,
}

static READERS: Mutex<Vec<Arc<ReaderRecord>>> = Mutex::new(Vec::new());

fn readers() -> std::sync::MutexGuard<'static, Vec<Arc<ReaderRecord>>> {
    READERS.lock().unwrap_or_else(|e| e.into_inner())
}

fn register() -> Arc<ReaderRecord> {
    let rec = Arc::new(ReaderRecord::default());
    readers().push(rec.clone());
    rec
}

/// Forget a thread's record when the thread ends.
pub(crate) fn unregister(rec: &Arc<ReaderRecord>) {
    readers().retain(|r| !Arc::ptr_eq(r, rec));
}

impl ReaderRecord {
    /// Announce a dispatch. The SeqCst store orders it before the dispatch's
    /// SeqCst read of the callback table's version.
    #[inline]
    pub(crate) fn enter(&self) {
        let s = self.seq.load(Ordering::Relaxed);
        self.seq.store(s + 1, Ordering::SeqCst);
    }

    /// End a dispatch.
    #[inline]
    pub(crate) fn exit(&self) {
        let s = self.seq.load(Ordering::Relaxed);
        self.seq.store(s + 1, Ordering::Release);
    }

    fn in_dispatch(&self) -> bool {
        self.seq.load(Ordering::Relaxed) & 1 == 1
    }
}

/// This thread's record, registering it on first use.
pub(crate) fn current_record(t: &thread::ThreadState) -> &Arc<ReaderRecord> {
    t.reader.get_or_init(register)
}

/// Wait until every dispatch running on another thread when this was called
/// has finished.
///
/// Called from inside a callback, the calling thread's own dispatch is not
/// waited for (it is below the caller on the stack). Two callbacks on two
/// threads waiting for each other would deadlock; the later one gets a
/// RuntimeError instead.
pub fn wait_for_callbacks() -> Result<(), Error> {
    let me = thread::with(|t| current_record(t).clone());
    let inside = me.in_dispatch();
    if inside {
        me.waiting.store(true, Ordering::SeqCst);
    }
    let result = wait_others(&me, inside);
    if inside {
        me.waiting.store(false, Ordering::SeqCst);
    }
    result
}

fn wait_others(me: &Arc<ReaderRecord>, inside: bool) -> Result<(), Error> {
    let snapshot: Vec<Arc<ReaderRecord>> = readers().clone();
    for rec in snapshot.iter().filter(|r| !Arc::ptr_eq(r, me)) {
        let seen = rec.seq.load(Ordering::SeqCst);
        if seen & 1 == 0 {
            continue;
        }
        let mut spins = 0u32;
        while rec.seq.load(Ordering::Acquire) == seen {
            if inside && rec.waiting.load(Ordering::SeqCst) {
                return Err(Error::runtime(
                    "cannot wait for callbacks: another thread's callback is waiting for this one",
                ));
            }
            spins += 1;
            if spins < 64 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }
    Ok(())
}
