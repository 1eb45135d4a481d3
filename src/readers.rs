//! The readers' records: each thread that dispatches owns a [`ReaderRecord`]
//! whose `seq` is odd while the thread is inside a dispatch and even
//! otherwise; only the owner writes it, so firing threads never write a
//! shared cache line. The wait over them is `crate::quiesce`; a writer's
//! grace period over them ([`busy`]) keeps a replaced callback table until
//! the dispatches that may read it have ended (`crate::ffi::rcu`).

use std::cell::Cell;

use crate::failure::Error;
use crate::sync::{self, AtomicBool, AtomicU64, Mutex, MutexGuard, Ordering};

/// One thread's dispatch announcements. Padded so two threads never share
/// the line. Records live for the whole process (a thread's state reaches
/// its record without a reference count); a record given back when its
/// thread ends is handed to the next thread that registers.
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
    /// dispatch's later read of the callback table's pointer and a writer's
    /// or waiter's read of `seq` (after its own SeqCst fence, in
    /// [`Readers::wait`] and [`busy`]) cannot both miss the other side's
    /// write (`docs/CONCURRENCY.md`, H1). Only through [`Announced::begin`].
    #[inline(always)]
    fn enter(&self) {
        let s = self.seq.load(Ordering::Relaxed);
        self.seq.store(s + 1, Ordering::Relaxed);
        sync::fence(Ordering::SeqCst);
    }

    /// End a dispatch. Release: whatever the dispatch did (its last use of
    /// a callback's data, of the callback table) happens before a waiter's
    /// or a writer's Acquire load that sees the new value (H2). Only the
    /// owner writes `seq`.
    #[inline(always)]
    fn exit(&self) {
        let s = self.seq.load(Ordering::Relaxed);
        self.seq.store(s + 1, Ordering::Release);
    }

    /// Whether `seq` moved on from `seen` (an odd value read by [`busy`]):
    /// the dispatch that was running then has ended. Acquire, as the wait's
    /// loads (H2).
    #[inline]
    pub(crate) fn moved_on(&self, seen: u64) -> bool {
        self.seq.load(Ordering::Acquire) != seen
    }

    /// Whether the owner is inside a dispatch (read by the owner only).
    pub(crate) fn in_dispatch(&self) -> bool {
        self.seq.load(Ordering::Relaxed) & 1 == 1
    }
}

/// The one right to announce dispatches on a record: handed out by
/// [`Readers::register`] and given back by [`Readers::unregister`], never
/// copied, so a record belongs to at most one [`Seat`] at a time.
pub(crate) struct Announcer(&'static ReaderRecord);

impl Announcer {
    /// The record, for identity and the wait's questions.
    #[inline(always)]
    pub(crate) fn record(&self) -> &'static ReaderRecord {
        self.0
    }
}

/// [`Seat`]'s flag bit: a dispatch is announced on the seat's record (an
/// [`Announced`] of the seat lives). Only this module sets or clears it.
pub(crate) const IN_DISPATCH: u8 = 1;

/// [`Seat`]'s flag bit: the seat may hold no record (set before it is
/// seated and from the moment it is unseated; clear only while it holds
/// one). Only this module sets or clears it.
pub(crate) const UNSEATED: u8 = 4;

/// The bits of a [`Seat`]'s word that its owner cannot set or clear.
const OWN: u8 = IN_DISPATCH | UNSEATED;

/// What a [`Seat`] holds where it has no record: outside loom a record that
/// is never announced on (no [`Seat`] with [`UNSEATED`] clear holds it), so
/// the seat's record needs no test; under loom, whose atomics cannot be
/// made in a constant, `None`.
#[cfg(not(loom))]
type Held = &'static ReaderRecord;
#[cfg(loom)]
type Held = Option<&'static ReaderRecord>;

/// See [`Held`].
#[cfg(not(loom))]
static NO_RECORD: ReaderRecord = ReaderRecord {
    seq: AtomicU64::new(0),
    waiting: AtomicBool::new(false),
};

#[cfg(not(loom))]
const NOT_HELD: Held = &NO_RECORD;
#[cfg(loom)]
const NOT_HELD: Held = None;

/// A thread's flag word and its right to announce (the record of the
/// [`Announcer`] it was given). The word's [`IN_DISPATCH`] and
/// [`UNSEATED`] bits are this module's: [`Announced::begin`] announces only
/// with both clear and sets [`IN_DISPATCH`] until the token ends, so a seat
/// has at most one [`Announced`] at a time (its record's `seq` odd exactly
/// while that token lives) and announces only on a record it holds; the
/// other bits are its owner's ([`Seat::set`], [`Seat::clear`]). A fire that
/// found the whole word 0 has proved all that: the announcement's own test
/// folds away, and nothing is taken out of a cell and put back.
pub(crate) struct Seat {
    flags: Cell<u8>,
    /// The record while [`UNSEATED`] is clear (also while it is set, when
    /// a dispatch that never ended keeps it); [`NOT_HELD`] otherwise.
    /// Never changed while a dispatch is announced.
    record: Cell<Held>,
}

impl Seat {
    /// No record yet; the word holds `flags` and [`UNSEATED`].
    pub(crate) const fn new(flags: u8) -> Seat {
        Seat {
            flags: Cell::new((flags & !OWN) | UNSEATED),
            record: Cell::new(NOT_HELD),
        }
    }

    /// The flag word.
    #[inline(always)]
    pub(crate) fn flags(&self) -> u8 {
        self.flags.get()
    }

    /// Set the owner's `bits` (never [`IN_DISPATCH`] or [`UNSEATED`]).
    #[inline(always)]
    pub(crate) fn set(&self, bits: u8) {
        self.flags.set(self.flags.get() | (bits & !OWN));
    }

    /// Clear the owner's `bits` (never [`IN_DISPATCH`] or [`UNSEATED`]).
    #[inline(always)]
    pub(crate) fn clear(&self, bits: u8) {
        self.flags.set(self.flags.get() & !(bits & !OWN));
    }

    /// The record held (also while unseated, when a dispatch that never
    /// ended keeps it: see [`Seat::unseat`]).
    #[inline(always)]
    pub(crate) fn record(&self) -> Option<&'static ReaderRecord> {
        #[cfg(not(loom))]
        {
            let rec = self.record.get();
            (!std::ptr::eq(rec, &NO_RECORD)).then_some(rec)
        }
        #[cfg(loom)]
        self.record.get()
    }

    /// The record of a seat whose [`UNSEATED`] bit is clear (outside loom
    /// not tested: such a seat holds one).
    #[inline(always)]
    fn held(&self) -> Option<&'static ReaderRecord> {
        #[cfg(not(loom))]
        {
            Some(self.record.get())
        }
        #[cfg(loom)]
        self.record.get()
    }

    /// Seat: hold `register`'s right when the seat holds no record, then
    /// clear [`UNSEATED`]. Answers the record.
    pub(crate) fn seat(&self, register: impl FnOnce() -> Announcer) -> &'static ReaderRecord {
        let rec = match self.record() {
            Some(rec) => rec,
            None => {
                let rec = register().0;
                #[cfg(not(loom))]
                self.record.set(rec);
                #[cfg(loom)]
                self.record.set(Some(rec));
                rec
            }
        };
        self.flags.set(self.flags.get() & !UNSEATED);
        rec
    }

    /// Unseat: set [`UNSEATED`] and give the right to announce up (to
    /// [`Readers::unregister`]). `None` when the seat holds none, or while
    /// a dispatch is announced on it (a callback that jumped out of the
    /// walk never ends its dispatch: the record then stays the seat's,
    /// listed and owned).
    pub(crate) fn unseat(&self) -> Option<Announcer> {
        let flags = self.flags.get();
        self.flags.set(flags | UNSEATED);
        if flags & IN_DISPATCH != 0 {
            return None;
        }
        let rec = self.record()?;
        self.record.set(NOT_HELD);
        Some(Announcer(rec))
    }
}

/// A dispatch announced on a seat's record, listed in [`busy`]'s list:
/// while the token lives the record's `seq` is odd, so a callback table
/// retired after the announcement's fence is not freed (`crate::ffi::rcu`;
/// H1 and H7 of `docs/CONCURRENCY.md`). Every read of a global pointer
/// to a row of the callback table borrows it, so no reference to a table
/// outlives it. The seat's [`IN_DISPATCH`] bit is set while the token lives, and
/// cleared when it ends — also when a callback unwinds through the walk.
pub(crate) struct Announced<'a> {
    /// The seat, whose record does not change while the token lives: read
    /// again at the end rather than kept (no register held across the
    /// walk for it).
    seat: &'a Seat,
}

impl<'a> Announced<'a> {
    /// Announce a dispatch on `seat`'s record; `None` when the seat is
    /// unseated (the thread is not set up) or a dispatch is announced on it
    /// already (the thread is inside a callback).
    #[inline(always)]
    pub(crate) fn begin(seat: &'a Seat) -> Option<Announced<'a>> {
        let flags = seat.flags.get();
        if flags & OWN != 0 {
            return None;
        }
        let rec = seat.held()?;
        seat.flags.set(flags | IN_DISPATCH);
        rec.enter();
        Some(Announced { seat })
    }
}

impl Drop for Announced<'_> {
    /// The seat's [`IN_DISPATCH`] bit is cleared and the dispatch ends
    /// ([`ReaderRecord::exit`], on the record it began on).
    #[inline(always)]
    fn drop(&mut self) {
        // The bit first: the record's store, which may alias the word as
        // far as the compiler knows, then keeps a caller's next change of
        // the word (an exception event's put back) a change of its own
        // (merged, the two became a load, two operations and a store).
        self.seat.flags.set(self.seat.flags.get() & !IN_DISPATCH);
        if let Some(rec) = self.seat.held() {
            rec.exit();
        }
    }
}

/// The records of every thread that has dispatched, each with whether a
/// live thread owns it. Records of ended threads stay listed (their `seq`
/// is even, so waiters pass them at once) and are reused.
pub(crate) struct Readers {
    list: Mutex<Vec<(&'static ReaderRecord, bool)>>,
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

    fn list(&self) -> MutexGuard<'_, Vec<(&'static ReaderRecord, bool)>> {
        self.list.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A record for a thread, listed before its owner's first dispatch: a
    /// given-back one, or a new one. A reused record keeps its `seq` (even:
    /// its last owner was not dispatching when it ended), so a waiter that
    /// read it before the reuse only ever sees it move forward.
    pub(crate) fn register(&self) -> Announcer {
        let mut list = self.list();
        if let Some(entry) = list.iter_mut().find(|(_, owned)| !owned) {
            entry.1 = true;
            return Announcer(entry.0);
        }
        let rec: &'static ReaderRecord = Box::leak(Box::new(ReaderRecord::new()));
        // Listed for the writers' grace periods before anyone can announce
        // on it.
        every_record().push(rec);
        list.push((rec, true));
        Announcer(rec)
    }

    /// Give a record back (its thread is ending, so it is not in a
    /// dispatch: the right to announce is here).
    pub(crate) fn unregister(&self, announcer: Announcer) {
        let rec = announcer.record();
        for entry in self.list().iter_mut() {
            if std::ptr::eq(entry.0, rec) {
                entry.1 = false;
            }
        }
    }

    /// Wait until every dispatch running on a thread other than `me`'s
    /// when this was called has ended. `me` is `None` for a thread without
    /// a record (it has never dispatched, or gave its record back at thread
    /// exit): such a thread is not inside a dispatch, so it waits for all.
    ///
    /// When `me` is itself inside a dispatch (a callback is waiting), it
    /// marks itself waiting, and a wait for a thread that is marked waiting
    /// too fails with a RuntimeError instead of deadlocking.
    pub(crate) fn wait(&self, me: Option<&ReaderRecord>) -> Result<(), Error> {
        let inside = me.filter(|me| me.in_dispatch());
        if let Some(me) = inside {
            me.waiting.swap(true, Ordering::AcqRel);
        }
        let result = self.wait_others(me, inside.is_some());
        if let Some(me) = inside {
            me.waiting.store(false, Ordering::Release);
        }
        result
    }

    fn wait_others(&self, me: Option<&ReaderRecord>, inside: bool) -> Result<(), Error> {
        // A snapshot: a record listed (or reused) later belongs to a thread
        // whose first dispatch starts after this point, so it already sees
        // the removal.
        let snapshot: Vec<&'static ReaderRecord> = self.list().iter().map(|e| e.0).collect();
        // Pairs with the fence in `enter`: either this thread's reads of
        // `seq` below see a dispatch's `enter`, or that dispatch's read of
        // the callback table's version sees the removals made before (H1).
        sync::fence(Ordering::SeqCst);
        for rec in snapshot
            .into_iter()
            .filter(|r| !me.is_some_and(|me| std::ptr::eq(*r, me)))
        {
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

/// A record for this thread (see [`Readers::register`]).
pub(crate) fn register() -> Announcer {
    READERS.register()
}

/// Give a thread's record back when the thread ends.
pub(crate) fn unregister(announcer: Announcer) {
    READERS.unregister(announcer);
}

/// Every record ever made, by any [`Readers`]: what a writer's grace
/// period ([`busy`]) looks at, so that no [`Announced`] escapes it.
#[cfg(not(loom))]
static EVERY_RECORD: Mutex<Vec<&'static ReaderRecord>> = Mutex::new(Vec::new());

#[cfg(loom)]
loom::lazy_static! {
    static ref EVERY_RECORD: Mutex<Vec<&'static ReaderRecord>> = Mutex::new(Vec::new());
}

fn every_record() -> MutexGuard<'static, Vec<&'static ReaderRecord>> {
    EVERY_RECORD.lock().unwrap_or_else(|e| e.into_inner())
}

/// The records inside a dispatch now, with the odd `seq` each was read at:
/// called by a writer after it stored a new table's row pointers. The
/// SeqCst fence pairs with [`ReaderRecord::enter`]'s (H1): a dispatch not
/// listed here either had ended (its `exit` seen, Acquire) or reads the new
/// pointers. A
/// record made later belongs to a thread whose first announcement follows
/// its listing, which takes the lock after this copy released it.
pub(crate) fn busy() -> Vec<(&'static ReaderRecord, u64)> {
    let records: Vec<&'static ReaderRecord> = every_record().clone();
    sync::fence(Ordering::SeqCst);
    records
        .into_iter()
        .filter_map(|r| {
            let seen = r.seq.load(Ordering::Acquire);
            (seen & 1 == 1).then_some((r, seen))
        })
        .collect()
}

/// Test-only: whether a live thread owns `rec`.
#[cfg(all(test, not(loom)))]
pub(crate) fn is_owned(rec: &ReaderRecord) -> bool {
    READERS
        .list()
        .iter()
        .any(|(r, owned)| std::ptr::eq(*r, rec) && *owned)
}

/// Wait until every dispatch running on another thread than the one that
/// owns `me` has finished (`crate::quiesce::wait_for_callbacks`).
pub(crate) fn wait(me: Option<&ReaderRecord>) -> Result<(), Error> {
    READERS.wait(me)
}

#[cfg(not(loom))]
/// Before `fork()`: hold the records' list so no thread is registering or
/// giving one back while the process is copied (`crate::fork`).
pub(crate) fn fork_hold() -> MutexGuard<'static, Vec<(&'static ReaderRecord, bool)>> {
    READERS.list()
}

#[cfg(not(loom))]
/// In the child after `fork()` (with the list held by [`fork_hold`]): only
/// the calling thread exists, so every other record is given back, and a
/// record its vanished owner left inside a dispatch is moved on to even (no
/// waiter in the child waits for a dispatch that does not exist there).
pub(crate) fn fork_child(
    list: &mut MutexGuard<'static, Vec<(&'static ReaderRecord, bool)>>,
    me: Option<&ReaderRecord>,
) {
    for entry in list.iter_mut() {
        if me.is_some_and(|me| std::ptr::eq(entry.0, me)) {
            continue;
        }
        entry.1 = false;
        let s = entry.0.seq.load(Ordering::Relaxed);
        if s & 1 == 1 {
            entry.0.seq.store(s + 1, Ordering::Release);
        }
        entry.0.waiting.store(false, Ordering::Relaxed);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn given_back_records_are_reused() {
        let readers = Readers::new();
        let a = Seat::new(0);
        let ra = a.seat(|| readers.register());
        let b = readers.register();
        let rb = b.record();
        assert!(!std::ptr::eq(ra, rb));
        drop(Announced::begin(&a).unwrap());
        readers.unregister(a.unseat().unwrap());
        let c = readers.register().record();
        assert!(std::ptr::eq(ra, c), "the free record is handed out again");
        assert!(!c.in_dispatch(), "with its sequence moved on, not reset");
        assert_eq!(c.seq.load(Ordering::Relaxed), 2);
        let d = readers.register().record();
        assert!(!std::ptr::eq(d, ra) && !std::ptr::eq(d, rb));
        assert_eq!(readers.list().len(), 3);
    }

    #[test]
    fn a_seat_announces_once_at_a_time() {
        let readers = Readers::new();
        let seat = Seat::new(0);
        assert_eq!(seat.flags(), UNSEATED);
        assert!(Announced::begin(&seat).is_none(), "no record yet");
        assert!(seat.record().is_none());
        let rec = seat.seat(|| readers.register());
        assert_eq!(seat.flags(), 0);
        let announced = Announced::begin(&seat).unwrap();
        assert!(rec.in_dispatch());
        assert!(Announced::begin(&seat).is_none(), "nested");
        // The owner's bits leave the seat's alone.
        seat.clear(0xff);
        assert_eq!(seat.flags(), IN_DISPATCH);
        seat.set(0xff);
        assert_eq!(seat.flags(), !UNSEATED);
        seat.clear(0xff);
        // Unseated while announced: the record stays, and so does the
        // dispatch, which ends on it.
        assert!(seat.unseat().is_none(), "kept while announced");
        assert_eq!(seat.flags(), IN_DISPATCH | UNSEATED);
        assert!(std::ptr::eq(seat.record().unwrap(), rec));
        drop(announced);
        assert!(!rec.in_dispatch());
        assert_eq!(seat.flags(), UNSEATED);
        assert!(Announced::begin(&seat).is_none(), "unseated");
        assert!(std::ptr::eq(seat.seat(|| unreachable!()), rec));
        drop(Announced::begin(&seat).unwrap());
        assert_eq!(rec.seq.load(Ordering::Relaxed), 4);
        readers.unregister(seat.unseat().unwrap());
        assert!(seat.record().is_none() && Announced::begin(&seat).is_none());
        assert!(seat.unseat().is_none());
    }

    #[test]
    fn a_thread_without_a_record_waits_for_every_dispatch() {
        static READERS: Readers = Readers::new();
        static DONE: AtomicBool = AtomicBool::new(false);
        let seat = Seat::new(0);
        seat.seat(|| READERS.register());
        let announced = Announced::begin(&seat).unwrap();
        let waiter = std::thread::spawn(|| {
            READERS.wait(None).unwrap();
            DONE.load(Ordering::Acquire)
        });
        std::thread::sleep(std::time::Duration::from_millis(50));
        DONE.store(true, Ordering::Release);
        drop(announced);
        assert!(
            waiter.join().unwrap(),
            "the wait returned after the dispatch ended"
        );
    }
}
