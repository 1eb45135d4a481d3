//! Knowing when removed callbacks can no longer run.
//!
//! Each thread that dispatches owns a [`ReaderRecord`] (`crate::readers`): its `seq` is odd while
//! the thread is inside a dispatch and even otherwise, and only the owner
//! writes it, so firing threads never write a shared cache line.
//! [`wait_for_callbacks`] waits until every dispatch that was running on
//! another thread when it was called has ended. Together with the SeqCst
//! handshake in [`crate::dispatch`] this gives: once a callback is removed and
//! the wait has returned, that callback is not running and will not run.
//! `docs/CONCURRENCY.md` has the argument; `src/loom_tests.rs` checks it.

use crate::failure::Error;
use crate::readers;
pub use crate::readers::ReaderRecord;
use crate::thread;

/// Wait until every dispatch running on another thread when this was called
/// has finished.
///
/// Called from inside a callback, the calling thread's own dispatch is not
/// waited for (it is below the caller on the stack). Two callbacks on two
/// threads waiting for each other would deadlock; instead at least one of
/// them gets a RuntimeError. Any thread may wait, also one that never
/// dispatched or is being torn down (from a thread-exit destructor): the
/// wait takes no per-thread state.
pub fn wait_for_callbacks() -> Result<(), Error> {
    readers::wait(thread::with(|t| t.reader()))
}
