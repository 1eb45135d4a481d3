//! The callback table's rows, each published through a pointer of its own
//! and read by a dispatch without a reference count (`docs/CONCURRENCY.md`,
//! "The table pointers", H1 and H7).
//!
//! A writer (under the registry's lock) stores the new table's part
//! addresses, then keeps the old table until every dispatch that was
//! announced when the pointers moved has ended ([`crate::readers::busy`]);
//! a dispatch reads a pointer only after its announcement ([`Announced`])
//! and its references live no longer than the announcement. The pointers'
//! one dereference is here, the only place with `unsafe`; the core sees a
//! safe type.

use std::sync::Arc;

use crate::readers::{self, Announced, ReaderRecord};
use crate::sync::{AtomicPtr, Mutex, Ordering};

/// A value with `N` parts that dispatches read, each through its own
/// pointer ([`Published`]): for the callback table, its rows (one per
/// event), so that a fire reaches its row with one load.
pub(crate) trait Parts: 'static {
    /// What one pointer points to.
    type Part: 'static;
    /// Part `i` (below the [`Published`]'s `N`); it lives in (or as long
    /// as) `self`.
    fn part(&self, i: usize) -> &Self::Part;
}

/// A `T` published to dispatches part by part: each part read under an
/// announcement through its own pointer, `T` replaced whole by writers and
/// freed after a grace period. Never empty: before the first publication
/// every pointer holds a `'static` part (the empty row), so a read needs no
/// test. `repr(C)`: the pointers are the first words ([`PARTS`]), which
/// `ffi::table` loads by address.
#[repr(C)]
pub(crate) struct Published<T: Parts, const N: usize> {
    /// Part `i` of `writer.current`'s value, or the `'static` part given
    /// to [`Published::new`] before the first publication: never NULL.
    parts: [AtomicPtr<T::Part>; N],
    /// Writers, one at a time.
    writer: Mutex<Writer<T>>,
}

/// The offset of a [`Published`]'s first pointer word (part `i`'s is
/// `8 * i` after it).
#[cfg(all(target_arch = "x86_64", not(loom)))]
pub(crate) const PARTS: usize = std::mem::offset_of!(Published<Unit, 1>, parts);

/// A value of one part, itself: what [`PARTS`] is measured with.
#[cfg(all(target_arch = "x86_64", not(loom)))]
pub(crate) struct Unit;

#[cfg(all(target_arch = "x86_64", not(loom)))]
impl Parts for Unit {
    type Part = Unit;
    fn part(&self, _i: usize) -> &Unit {
        self
    }
}

/// Dispatches running when a pointer moved: each record with the odd `seq`
/// it had ([`readers::busy`]).
type Busy = Vec<(&'static ReaderRecord, u64)>;

struct Writer<T> {
    /// What `ptr` points to (it owns one count of it); `None` while it
    /// points to the `'static` value.
    current: Option<Arc<T>>,
    /// Replaced values, each with the dispatches that were announced when
    /// the pointers moved away from it (a record and the odd `seq` it had):
    /// kept until every one of them has ended.
    retired: Vec<(Arc<T>, Busy)>,
}

// SAFETY: the pointers are parts of `writer.current`'s value, shared as
// `&T::Part` with dispatches on other threads, and the value is dropped by
// any writer: `T: Send + Sync` and `T::Part: Sync` for that.
unsafe impl<T: Parts + Send + Sync, const N: usize> Sync for Published<T, N> where T::Part: Sync {}
// SAFETY: as above.
unsafe impl<T: Parts + Send + Sync, const N: usize> Send for Published<T, N> where T::Part: Sync {}

impl<T: Parts, const N: usize> Published<T, N> {
    /// Nothing published yet: every part reads `empty`.
    #[cfg(not(loom))]
    pub(crate) const fn new(empty: &'static T::Part) -> Published<T, N> {
        let empty = std::ptr::from_ref(empty).cast_mut();
        let mut parts = [const { AtomicPtr::new(std::ptr::null_mut()) }; N];
        let mut i = 0;
        while i < N {
            parts[i] = AtomicPtr::new(empty);
            i += 1;
        }
        Published {
            parts,
            writer: Mutex::new(Writer {
                current: None,
                retired: Vec::new(),
            }),
        }
    }

    /// Nothing published yet: every part reads `empty`.
    #[cfg(loom)]
    pub(crate) fn new(empty: &'static T::Part) -> Published<T, N> {
        let empty = std::ptr::from_ref(empty).cast_mut();
        Published {
            parts: std::array::from_fn(|_| AtomicPtr::new(empty)),
            writer: Mutex::new(Writer {
                current: None,
                retired: Vec::new(),
            }),
        }
    }

    /// Part `i` (below `N`) of the value published, for a dispatch
    /// announced by `announced`. Acquire: the value's contents, written
    /// before its publication, are seen.
    #[cfg_attr(all(target_arch = "x86_64", not(loom)), allow(dead_code))]
    #[inline(always)]
    pub(crate) fn read<'a>(&'a self, i: usize, _announced: &'a Announced<'_>) -> &'a T::Part {
        let ptr = self.parts[i].load(Ordering::Acquire);
        // SAFETY: `ptr` is the `'static` part given to `new`, or part `i`
        // of the value of an `Arc` that `publish` made current (never
        // NULL), which lives as long as that value. That `Arc` is kept (as
        // `current`, then in `retired`) until every dispatch announced when
        // the pointers moved away from it has ended. This thread announced
        // (`Announced::begin`: `seq` odd, then a SeqCst fence) before this
        // load, and the token stays alive for `'a`: either the writer's
        // fence after its stores came after that fence, and the writer saw
        // this record's odd `seq` and keeps the value until it moves on,
        // which the token's drop does after the last use of the reference;
        // or it came before, and this load sees the new pointer (or a later
        // one), not the retired value (docs/CONCURRENCY.md, H7).
        unsafe { &*ptr }
    }

    /// Whether pointer `i` no longer points to `held` (what a [`read`] of
    /// it answered earlier in the same dispatch). Compares addresses only;
    /// `held` is still alive (the dispatch is announced), so the address
    /// cannot have been reused.
    ///
    /// [`read`]: Published::read
    #[cfg_attr(all(target_arch = "x86_64", not(loom)), allow(dead_code))]
    #[inline(always)]
    pub(crate) fn moved_from(&self, i: usize, held: &T::Part) -> bool {
        self.parts[i].load(Ordering::Relaxed) != std::ptr::from_ref(held).cast_mut()
    }

    fn writer(&self) -> crate::sync::MutexGuard<'_, Writer<T>> {
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The value published (a writer's view: a counted reference); `None`
    /// before the first publication.
    pub(crate) fn current(&self) -> Option<Arc<T>> {
        self.writer().current.clone()
    }

    /// Publish `value` in place of the current one, which is kept until
    /// every dispatch announced now has ended; values retired earlier whose
    /// dispatches have all ended are dropped here.
    pub(crate) fn publish(&self, value: Arc<T>) {
        let mut w = self.writer();
        // Release: the value's contents before its parts' addresses. The
        // fence in `busy` orders these stores before the reads of `seq`
        // (H7).
        for (i, ptr) in self.parts.iter().enumerate() {
            ptr.store(
                std::ptr::from_ref(value.part(i)).cast_mut(),
                Ordering::Release,
            );
        }
        let old = w.current.replace(value);
        w.retired
            .retain(|(_, waiting)| waiting.iter().any(|(r, seen)| !r.moved_on(*seen)));
        if let Some(old) = old {
            let announced = readers::busy();
            if !announced.is_empty() {
                w.retired.push((old, announced));
            }
        }
    }

    /// Values retired and not yet dropped (tests).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn retired(&self) -> usize {
        self.writer().retired.len()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    /// Two parts, and a counter of its drops (when it has one).
    struct Tracked {
        marks: [u32; 2],
        count: Option<Arc<AtomicUsize>>,
    }

    impl Parts for Tracked {
        type Part = u32;
        fn part(&self, i: usize) -> &u32 {
            &self.marks[i]
        }
    }

    impl Drop for Tracked {
        fn drop(&mut self) {
            if let Some(count) = &self.count {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
    }

    fn tracked(marks: [u32; 2], count: Option<&Arc<AtomicUsize>>) -> Arc<Tracked> {
        Arc::new(Tracked {
            marks,
            count: count.cloned(),
        })
    }

    static NOTHING: u32 = 0;

    #[test]
    fn a_value_read_under_an_announcement_outlives_its_replacement() {
        let drops = Arc::new(AtomicUsize::new(0));
        let dropped = || drops.load(std::sync::atomic::Ordering::SeqCst);
        let cell: Published<Tracked, 2> = Published::new(&NOTHING);
        let home = readers::Seat::new(0);
        home.seat(readers::register);
        let announced = Announced::begin(&home).unwrap();
        assert!(std::ptr::eq(cell.read(0, &announced), &NOTHING));
        assert!(std::ptr::eq(cell.read(1, &announced), &NOTHING));
        assert!(cell.current().is_none());
        drop(announced);
        cell.publish(tracked([1, 2], Some(&drops)));
        let announced = Announced::begin(&home).unwrap();
        let held = cell.read(1, &announced);
        assert_eq!(*held, 2, "each pointer reaches its own part");
        assert!(!cell.moved_from(1, held));
        // Replaced from inside the dispatch (a callback's registration): kept.
        cell.publish(tracked([3, 4], None));
        assert!(cell.moved_from(1, held));
        assert_eq!(
            dropped(),
            0,
            "retired, not dropped, while the dispatch runs"
        );
        assert_eq!(*held, 2, "and still readable");
        assert_eq!(*cell.read(0, &announced), 3);
        assert_eq!(*cell.read(1, &announced), 4);
        assert!(cell.retired() >= 1);
        drop(announced);
        // A later publication drops it (other tests' dispatches on other
        // threads may hold it, and the values after it, back for a moment).
        for _ in 0..1000 {
            cell.publish(tracked([5, 6], None));
            if dropped() == 1 && cell.retired() == 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert_eq!(dropped(), 1);
        assert_eq!(cell.retired(), 0);
        assert!(cell.current().is_some_and(|c| c.count.is_none()));
        readers::unregister(home.unseat().unwrap());
    }
}
