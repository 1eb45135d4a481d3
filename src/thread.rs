//! Per-thread state, in one thread-local so the active path pays one lookup.
//!
//! The inactive path never comes here: only active fires, errors and
//! registry calls do. The fire path reads one flag word to learn that no
//! callback of this thread is running and nothing is pending, and keeps the
//! thread's copy of the callback table without reference-count traffic.

use std::cell::{Cell, OnceCell, RefCell};
use std::sync::Arc;

use crate::error::Pending;
use crate::object::ObjectRef;
use crate::quiesce::ReaderRecord;
use crate::registry::CallbackTable;

/// `flags` bit: one of this thread's callbacks is running.
pub(crate) const IN_CALLBACK: u8 = 1;
/// `flags` bit: the error indicator holds something.
pub(crate) const PENDING: u8 = 2;

pub(crate) struct ThreadState {
    /// `IN_CALLBACK | PENDING`; 0 on the fast path.
    pub flags: Cell<u8>,
    /// A host exception on the indicator (kept apart so exception events
    /// take and restore it without moving a message).
    host: Cell<Option<ObjectRef>>,
    /// A library error on the indicator (always `Pending::Error`). At most
    /// one of `host`/`error` is set.
    error: RefCell<Option<Pending>>,
    /// This thread's dispatch announcements, registered on first dispatch.
    pub reader: OnceCell<Arc<ReaderRecord>>,
    /// The callback-table version `callbacks` is for.
    pub callbacks_version: Cell<u64>,
    /// This thread's copy of the callback table. Taken out (and put back)
    /// by a dispatch; nested fires stop before they would look at it.
    pub callbacks: Cell<Option<Arc<CallbackTable>>>,
}

impl ThreadState {
    /// Whether the indicator holds anything.
    #[inline(always)]
    pub fn has_pending(&self) -> bool {
        self.flags.get() & PENDING != 0
    }

    /// Take what the indicator holds, leaving it empty.
    #[inline]
    pub fn take_pending(&self) -> Option<Pending> {
        if !self.has_pending() {
            return None;
        }
        self.flags.set(self.flags.get() & !PENDING);
        match self.host.take() {
            Some(obj) => Some(Pending::Host(obj)),
            None => self.error.borrow_mut().take(),
        }
    }

    /// Make `pending` the indicator's content (`None` clears it). Always
    /// inlined: on the exception events' success path it runs once per fire,
    /// and out of line it cost 19 instructions there.
    #[inline(always)]
    pub fn set_pending(&self, pending: Option<Pending>) {
        let flags = self.flags.get() & !PENDING;
        match pending {
            None => {
                self.flags.set(flags);
                self.host.set(None);
                if self.error.borrow().is_some() {
                    *self.error.borrow_mut() = None;
                }
            }
            Some(Pending::Host(obj)) => {
                self.flags.set(flags | PENDING);
                self.host.set(Some(obj));
                if self.error.borrow().is_some() {
                    *self.error.borrow_mut() = None;
                }
            }
            Some(error @ Pending::Error(_)) => {
                self.flags.set(flags | PENDING);
                self.host.set(None);
                *self.error.borrow_mut() = Some(error);
            }
        }
    }

    /// Run `f` on what is pending.
    pub fn inspect_pending<R>(&self, f: impl FnOnce(Option<&Pending>) -> R) -> R {
        if let Some(obj) = self.host.get() {
            return f(Some(&Pending::Host(obj)));
        }
        f(self.error.borrow().as_ref())
    }

    /// Take the host exception; a library error stays and `None` is returned.
    pub fn take_raised(&self) -> Option<ObjectRef> {
        let obj = self.host.take()?;
        self.flags.set(self.flags.get() & !PENDING);
        Some(obj)
    }
}

impl Drop for ThreadState {
    fn drop(&mut self) {
        if let Some(rec) = self.reader.get() {
            crate::quiesce::unregister(rec);
        }
    }
}

thread_local! {
    static THREAD: ThreadState = const {
        ThreadState {
            flags: Cell::new(0),
            host: Cell::new(None),
            error: RefCell::new(None),
            reader: OnceCell::new(),
            callbacks_version: Cell::new(u64::MAX),
            callbacks: Cell::new(None),
        }
    };
}

/// Run `f` with this thread's state.
///
/// Panics only if called while the thread is being torn down, which the FFI
/// guard turns into an error.
#[inline(always)]
pub(crate) fn with<R>(f: impl FnOnce(&ThreadState) -> R) -> R {
    THREAD.with(f)
}
