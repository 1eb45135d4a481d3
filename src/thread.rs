//! Per-thread state, in one thread-local so the active path pays one lookup.
//!
//! The inactive path never comes here: only active fires, errors and
//! registry calls do. The fire path reads one flag word to learn that no
//! callback of this thread is running, nothing is pending and the thread is
//! set up, and announces a dispatch on its reader record through the same
//! word's seat (`readers::Seat`; the callback table is one global pointer,
//! read under that announcement: `docs/CONCURRENCY.md`, H7).
//!
//! [`ThreadState`] has no drop glue (checked below), so the thread-local is
//! a plain constant-initialised one: reaching it is the address computation
//! alone, with no lazy-destructor state check. What it owns (the reader
//! record, the code-likes' snapshot, a library error) is held as `ManuallyDrop` or a plain cell and
//! released at thread exit by [`thread_exit`], armed the first time the
//! thread takes something it must give back ([`ThreadState::arm`]).
//!
//! The exit hook is installed by the C layer at load ([`install_exit_hook`]):
//! a POSIX thread-specific key whose destructor calls [`thread_exit`]. Key
//! destructors run after every thread-local destructor, and one that sets a
//! key again gets another round, so a thread whose first call comes from a
//! destructor is released too (`docs/CONCURRENCY.md`, "Threads that exit").
//! Released state is fresh: a later call from a later destructor arms the
//! key again. Without the hook (a Rust program in which the load-time
//! constructor did not run) a Rust thread-local destructor (`JANITOR`) does
//! the same once, after which fires fail with a RuntimeError.
use std::cell::{Cell, RefCell};
use std::mem::ManuallyDrop;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, OnceLock};

use crate::ext::Snapshot;
use crate::failure::{Error, Pending, RAISED};
use crate::object::ObjectRef;
use crate::readers::{self, ReaderRecord, Seat};

/// `flags` bit: one of this thread's callbacks is running (a dispatch is
/// announced on the thread's seat: `readers::IN_DISPATCH`, which only
/// `crate::readers` sets and clears).
pub(crate) const IN_CALLBACK: u8 = readers::IN_DISPATCH;
/// `flags` bit: the error indicator holds something.
pub(crate) const PENDING: u8 = 2;
/// `flags` bit: the thread has no reader record yet, or is being torn
/// down; a fire goes through [`ThreadState::set_up`] first. The seat's
/// `readers::UNSEATED`, which only `crate::readers` sets (unseating) and
/// clears (seating).
pub(crate) const NOT_SET_UP: u8 = readers::UNSEATED;
/// `flags` bit: the thread uses a host's exception state (`crate::host`);
/// every fire takes the slow path, which talks to the host.
pub(crate) const HOST: u8 = 8;

/// `janitor` values.
const UNARMED: u8 = 0;
const ARMED: u8 = 1;
const TORN_DOWN: u8 = 2;

pub(crate) struct ThreadState {
    /// The flag word (`IN_CALLBACK | PENDING | NOT_SET_UP | HOST`; 0 on the
    /// fast path) and the right to announce dispatches on the thread's
    /// reader record, registered by the first fire
    /// ([`ThreadState::set_up`]) and given back by the janitor.
    pub seat: Seat,
    /// A host exception on the indicator (kept apart so exception events
    /// take and restore it without moving a message).
    host: Cell<Option<ObjectRef>>,
    /// A library error on the indicator (always `Pending::Error`). At most
    /// one of `host`/`error` is set. Dropped by the janitor.
    error: RefCell<Option<ManuallyDrop<Pending>>>,
    /// Whether this thread adds 1 to [`RAISED`]
    /// ([`ThreadState::count_raised`]).
    raised_counted: Cell<bool>,
    /// `UNARMED`, `ARMED` (the janitor will run at thread exit) or
    /// `TORN_DOWN` (it ran).
    janitor: Cell<u8>,
    /// The code-likes' snapshot version `codelikes` is for.
    codelikes_version: Cell<u64>,
    /// This thread's copy of the code-likes' snapshot (`crate::ext::codelike`).
    /// Dropped by the janitor.
    codelikes: Cell<Option<ManuallyDrop<Arc<Snapshot>>>>,
}

// The point of the split: no drop glue, so no lazy-destructor state.
const _: () = assert!(!std::mem::needs_drop::<ThreadState>());

impl ThreadState {
    /// The host whose exception state the indicator is (`crate::host`).
    /// Error paths only: the fire path learns it from [`HOST`].
    #[inline]
    pub fn host(&self) -> Option<&'static dyn crate::host::Host> {
        crate::host::get()
    }

    /// Fire through the host from now on (set at the thread's first fire
    /// when a host is installed, which is then for good).
    pub(crate) fn use_host(&self) {
        self.seat.set(HOST);
    }

    /// Whether the indicator holds anything.
    #[inline(always)]
    pub fn has_pending(&self) -> bool {
        self.seat.flags() & PENDING != 0
    }

    /// Take what the indicator holds, leaving it empty.
    #[inline]
    pub fn take_pending(&self) -> Option<Pending> {
        if !self.has_pending() {
            return None;
        }
        self.seat.clear(PENDING);
        match self.host.take() {
            Some(obj) => Some(Pending::Host(obj)),
            None => self.take_error(),
        }
    }

    /// Take the library error, if any.
    fn take_error(&self) -> Option<Pending> {
        let error = self.error.borrow_mut().take();
        error.map(ManuallyDrop::into_inner)
    }

    /// Drop the library error, if any (after its borrow ended: dropping
    /// runs no library code, but stays out of the borrow anyway).
    #[inline(always)]
    fn clear_error(&self) {
        if self.error.borrow().is_some() {
            drop(self.take_error());
        }
    }

    /// Make `pending` the indicator's content (`None` clears it). Always
    /// inlined: on the exception events' success path it runs once per fire,
    /// and out of line it cost 19 instructions there.
    #[inline(always)]
    pub fn set_pending(&self, pending: Option<Pending>) {
        match pending {
            None => {
                self.seat.clear(PENDING);
                self.host.set(None);
                self.clear_error();
            }
            Some(Pending::Host(obj)) => {
                self.seat.set(PENDING);
                self.host.set(Some(obj));
                self.clear_error();
            }
            Some(error @ Pending::Error(_)) => self.set_error(error),
        }
    }

    /// Hold a library error. After the thread was torn down the error is
    /// still held (the caller reads it), and never dropped: at most one
    /// error per thread, replaced ones are dropped as usual.
    #[cold]
    #[inline(never)]
    fn set_error(&self, error: Pending) {
        self.arm();
        self.seat.set(PENDING);
        self.host.set(None);
        let old = self.error.replace(Some(ManuallyDrop::new(error)));
        drop(old.map(ManuallyDrop::into_inner));
    }

    /// Run `f` on what is pending.
    pub fn inspect_pending<R>(&self, f: impl FnOnce(Option<&Pending>) -> R) -> R {
        if let Some(obj) = self.host.get() {
            return f(Some(&Pending::Host(obj)));
        }
        f(self.error.borrow().as_deref())
    }

    /// Take the host exception; a library error stays and `None` is returned.
    #[inline(always)]
    pub fn take_raised(&self) -> Option<ObjectRef> {
        let obj = self.host.take()?;
        self.seat.clear(PENDING);
        Some(obj)
    }

    /// Put back a host exception taken by [`ThreadState::take_raised`] when
    /// nothing is pending (so no library error is held either).
    #[inline(always)]
    pub fn restore_raised(&self, obj: ObjectRef) {
        debug_assert!(!self.has_pending() && self.error.borrow().is_none());
        self.seat.set(PENDING);
        self.host.set(Some(obj));
    }

    /// Bring this thread's share of [`RAISED`] in line with
    /// the indicator: 1 while it holds a host exception, else 0. Called by
    /// every change of the indicator through `crate::error` (never by the
    /// fire path, whose take and put-back leave the count alone: the
    /// exception stays counted while the walk holds it). Never lowered
    /// while one of the thread's callbacks runs, so a callback that takes
    /// or clears the indicator inside an exception event's walk cannot
    /// uncount the exception the walk puts back; a share left too high
    /// costs only speed and is corrected by the next change outside a
    /// callback.
    #[inline]
    pub fn count_raised(&self) {
        if self.host.get().is_some() != self.raised_counted.get() {
            self.recount_raised();
        }
    }

    #[cold]
    #[inline(never)]
    fn recount_raised(&self) {
        if self.host.get().is_some() {
            // Counted before it can be read as not counted; the janitor
            // uncounts it at thread exit (when it cannot be armed the
            // share stays: too high, never too low).
            self.arm();
            RAISED.fetch_add(1, Relaxed);
            self.raised_counted.set(true);
        } else if self.seat.flags() & IN_CALLBACK == 0 {
            RAISED.fetch_sub(1, Relaxed);
            self.raised_counted.set(false);
        }
    }

    /// Whether this thread adds 1 to [`RAISED`] (tests).
    #[cfg(test)]
    pub fn raised_counted(&self) -> bool {
        self.raised_counted.get()
    }

    /// This thread's reader record, once [`ThreadState::set_up`] succeeded.
    #[inline(always)]
    pub fn reader(&self) -> Option<&'static ReaderRecord> {
        self.seat.record()
    }

    /// Run `f` on the code-likes' snapshot of version `current` through the
    /// thread's copy, refetched with `fetch` when stale. On a thread whose
    /// exit cannot be arranged the snapshot is fetched and not kept. `f`
    /// must not come back here (it runs no user code).
    #[inline]
    pub(crate) fn with_codelikes<R>(
        &self,
        current: u64,
        fetch: impl FnOnce() -> (u64, Option<Arc<Snapshot>>),
        f: impl FnOnce(Option<&Snapshot>) -> R,
    ) -> R {
        if !self.arm() {
            return f(fetch().1.as_deref());
        }
        let mut snap = self.codelikes.take().map(ManuallyDrop::into_inner);
        if self.codelikes_version.get() != current {
            let (version, fresh) = fetch();
            self.codelikes_version.set(version);
            snap = fresh;
        }
        let r = f(snap.as_deref());
        self.codelikes.set(snap.map(ManuallyDrop::new));
        r
    }

    /// Make sure [`thread_exit`] runs at thread exit; false when it cannot
    /// be arranged (the thread is being torn down and only the fallback
    /// janitor is available, or the exit hook failed).
    fn arm(&self) -> bool {
        match self.janitor.get() {
            ARMED => true,
            TORN_DOWN => false,
            _ => {
                let armed = match EXIT_HOOK.get() {
                    Some(hook) => hook(),
                    None => JANITOR.try_with(|_| ()).is_ok(),
                };
                self.janitor.set(if armed { ARMED } else { TORN_DOWN });
                armed
            }
        }
    }

    /// Before the thread's first dispatch (`NOT_SET_UP` is set): arm the
    /// janitor and register the thread's reader record. Fails, setting a
    /// RuntimeError, on a thread being torn down.
    #[cold]
    #[inline(never)]
    pub fn set_up(&self) -> Result<&'static ReaderRecord, Error> {
        if !self.arm() {
            return Err(Error::runtime(
                "cannot dispatch on a thread that is exiting (its thread-local state is gone)",
            ));
        }
        // Clears NOT_SET_UP.
        let reader = self.seat.seat(readers::register);
        if crate::host::slot().first_fire().is_some() {
            self.use_host();
        }
        Ok(reader)
    }

    /// The exit work: give back the reader record and drop the table and
    /// the error. Everything is taken out of its cell before being dropped,
    /// so a destructor that comes back into the library (a Rust callback's
    /// captures) finds a consistent state. With `again` (the exit hook) the
    /// state is fresh afterwards: a later call arms the hook again. Without
    /// it (the fallback janitor) later fires fail: `NOT_SET_UP` stays set
    /// and [`ThreadState::arm`] answers false.
    fn release(&self, again: bool) {
        self.janitor.set(TORN_DOWN);
        // Sets NOT_SET_UP, and gives the record back unless a dispatch of
        // this thread never ended (a callback that jumped out of it): its
        // record then stays listed, and owned.
        if let Some(announcer) = self.seat.unseat() {
            readers::unregister(announcer);
        }
        self.codelikes_version.set(u64::MAX);
        drop(self.codelikes.take().map(ManuallyDrop::into_inner));
        if let Some(error) = self.take_error() {
            // At most one of `host`/`error` is set: nothing is pending now.
            self.seat.clear(PENDING);
            drop(error);
        }
        // A host exception (a pointer the library holds no reference to)
        // goes with the thread, and so does its share of the count.
        if self.host.take().is_some() {
            self.seat.clear(PENDING);
        }
        if self.raised_counted.replace(false) {
            RAISED.fetch_sub(1, Relaxed);
        }
        if again {
            self.janitor.set(UNARMED);
        }
    }
}

/// Arranges for [`thread_exit`] to run when the calling thread ends;
/// returns false when it cannot.
pub(crate) type ExitHook = fn() -> bool;

static EXIT_HOOK: OnceLock<ExitHook> = OnceLock::new();

/// Install the exit hook (the first one installed stays).
#[cfg_attr(loom, allow(dead_code))]
pub(crate) fn install_exit_hook(hook: ExitHook) {
    let _ = EXIT_HOOK.set(hook);
}

/// The calling thread is ending: give back what its state owns (called by
/// the exit hook's destructor). Idempotent; a later call into the library on
/// this thread starts afresh.
#[cfg_attr(loom, allow(dead_code))]
pub(crate) fn thread_exit() {
    THREAD.with(|t| {
        if t.janitor.get() == ARMED {
            t.release(true);
        }
    });
}

/// Gives back what the thread's state owns when the thread ends, when no
/// exit hook is installed.
struct Janitor;

impl Drop for Janitor {
    fn drop(&mut self) {
        // `THREAD` has no destructor, so it is reachable here.
        THREAD.with(|t| t.release(false));
    }
}

impl ThreadState {
    /// A thread's state before its first call: nothing held, `NOT_SET_UP`.
    pub(crate) const fn new() -> ThreadState {
        ThreadState {
            seat: Seat::new(NOT_SET_UP),
            host: Cell::new(None),
            error: RefCell::new(None),
            raised_counted: Cell::new(false),
            janitor: Cell::new(UNARMED),
            codelikes_version: Cell::new(u64::MAX),
            codelikes: Cell::new(None),
        }
    }
}

thread_local! {
    static THREAD: ThreadState = const { ThreadState::new() };
    static JANITOR: Janitor = const { Janitor };
}

/// Run `f` with this thread's state. Never fails: the state has no
/// destructor, so it stays reachable while the thread is torn down (see
/// [`ThreadState::set_up`] for what a fire does then).
#[inline(always)]
pub(crate) fn with<R>(f: impl FnOnce(&ThreadState) -> R) -> R {
    THREAD.with(f)
}

#[cfg(all(test, not(loom)))]
mod tests;
