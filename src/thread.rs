//! Per-thread state, in one thread-local so the active path pays one lookup.
//!
//! The inactive path never comes here: only active fires, errors and
//! registry calls do.

use std::cell::{Cell, OnceCell, RefCell};
use std::sync::Arc;

use crate::error::Pending;
use crate::quiesce::ReaderRecord;
use crate::registry::CallbackTable;

pub(crate) struct ThreadState {
    /// The error indicator.
    pub pending: RefCell<Option<Pending>>,
    /// Non-zero while one of this thread's callbacks runs.
    pub depth: Cell<u32>,
    /// This thread's dispatch announcements, registered on first dispatch.
    pub reader: OnceCell<Arc<ReaderRecord>>,
    /// This thread's copy of the callback table and the version it is for.
    pub callbacks: RefCell<CachedTable>,
}

pub(crate) struct CachedTable {
    pub version: u64,
    pub table: Option<Arc<CallbackTable>>,
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
            pending: RefCell::new(None),
            depth: Cell::new(0),
            reader: OnceCell::new(),
            callbacks: RefCell::new(CachedTable { version: u64::MAX, table: None }),
        }
    };
}

/// Run `f` with this thread's state.
///
/// Panics only if called while the thread is being torn down, which the FFI
/// guard turns into an error.
pub(crate) fn with<R>(f: impl FnOnce(&ThreadState) -> R) -> R {
    THREAD.with(f)
}
