//! Keeping the library usable in a child of `fork()` (`docs/CONCURRENCY.md`,
//! "fork").
//!
//! Only the forking thread exists in the child. A lock another thread held
//! at the fork would stay held forever, and a dispatch another thread was
//! inside would never end. So [`prepare`] (run by `pthread_atfork` in the
//! forking thread just before the fork) takes every lock of the core in the
//! order the library nests them — the registry, then the site table, then
//! the reader records — and [`parent`] and [`child`] release them after it.
//! The child, before releasing, gives back the reader records of every
//! other thread, ending the dispatches it copied: none of them runs there.
//!
//! The C layer registers the three handlers at load; the built-in tools
//! keep their own locks and handle them the same way.

use std::cell::RefCell;

use crate::ext::sites;
use crate::readers;
use crate::registry;
use crate::sync::MutexGuard;
use crate::thread;

type Readers = MutexGuard<'static, Vec<(&'static readers::ReaderRecord, bool)>>;

/// What [`prepare`] holds until [`parent`] or [`child`].
struct Held {
    _registry: registry::ForkHold,
    _sites: sites::ForkHold,
    readers: Readers,
}

thread_local! {
    static HELD: RefCell<Option<Held>> = const { RefCell::new(None) };
}

/// Before `fork()`: wait for every registry change, site-table write and
/// record hand-out in progress on other threads, and block new ones.
pub fn prepare() {
    let held = Held {
        _registry: registry::fork_hold(),
        _sites: sites::fork_hold(),
        readers: readers::fork_hold(),
    };
    let _ = HELD.try_with(|h| *h.borrow_mut() = Some(held));
}

/// In the parent after `fork()`: release what [`prepare`] took.
pub fn parent() {
    let _ = HELD.try_with(|h| drop(h.borrow_mut().take()));
}

/// In the child after `fork()`: the other threads' records are given back
/// and their copied dispatches ended, then the locks are released. The
/// calling thread keeps its own state (it may be inside a callback, which
/// returns normally in the child).
pub fn child() {
    let _ = HELD.try_with(|h| {
        if let Some(mut held) = h.borrow_mut().take() {
            readers::fork_child(&mut held.readers, thread::with(|t| t.reader()));
        }
    });
}
