//! The callback table's one global pointer, read by a dispatch without a
//! reference count (`docs/CONCURRENCY.md`, "The table pointer", H1 and H7).
//!
//! A writer (under the registry's lock) stores the new table's address, then
//! keeps the old table until every dispatch that was announced when the
//! pointer moved has ended ([`crate::readers::busy`]); a dispatch reads the
//! pointer only after its announcement ([`Announced`]) and its references
//! live no longer than the announcement. The pointer's one dereference is
//! here, the only place with `unsafe`; the core sees a safe type.

use std::sync::Arc;

use crate::readers::{self, Announced, ReaderRecord};
use crate::sync::{AtomicPtr, Mutex, Ordering};

/// A `T` published to dispatches: read under an announcement, replaced by
/// writers, freed after a grace period. Never empty: before the first
/// publication it holds a `'static` value (the empty callback table), so a
/// read needs no test. `repr(C)`: the pointer is the first word
/// ([`POINTER`]), which `ffi::table` loads by address.
#[repr(C)]
pub(crate) struct Published<T: 'static> {
    /// The address of `writer.current`'s value, or of the `'static` value
    /// given to [`Published::new`] before the first publication: never NULL.
    ptr: AtomicPtr<T>,
    /// Writers, one at a time.
    writer: Mutex<Writer<T>>,
}

/// The offset of a [`Published`]'s pointer word.
#[cfg(all(target_arch = "x86_64", not(loom)))]
pub(crate) const POINTER: usize = std::mem::offset_of!(Published<u8>, ptr);

/// Dispatches running when a pointer moved: each record with the odd `seq`
/// it had ([`readers::busy`]).
type Busy = Vec<(&'static ReaderRecord, u64)>;

struct Writer<T> {
    /// What `ptr` points to (it owns one count of it); `None` while it
    /// points to the `'static` value.
    current: Option<Arc<T>>,
    /// Replaced values, each with the dispatches that were announced when
    /// the pointer moved away from it (a record and the odd `seq` it had):
    /// kept until every one of them has ended.
    retired: Vec<(Arc<T>, Busy)>,
}

// SAFETY: the pointer is `writer.current`'s value, shared as `&T` with
// dispatches on other threads: `T: Sync` for that, `T: Send` because the
// last count may be dropped by any writer.
unsafe impl<T: Send + Sync> Sync for Published<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Send for Published<T> {}

impl<T: 'static> Published<T> {
    /// Nothing published yet: reads answer `empty`.
    #[cfg(not(loom))]
    pub(crate) const fn new(empty: &'static T) -> Published<T> {
        Published {
            ptr: AtomicPtr::new(std::ptr::from_ref(empty).cast_mut()),
            writer: Mutex::new(Writer {
                current: None,
                retired: Vec::new(),
            }),
        }
    }

    /// Nothing published yet: reads answer `empty`.
    #[cfg(loom)]
    pub(crate) fn new(empty: &'static T) -> Published<T> {
        Published {
            ptr: AtomicPtr::new(std::ptr::from_ref(empty).cast_mut()),
            writer: Mutex::new(Writer {
                current: None,
                retired: Vec::new(),
            }),
        }
    }

    /// The value published, for a dispatch announced by `announced`. Acquire:
    /// the value's contents, written before its publication, are seen.
    #[cfg_attr(all(target_arch = "x86_64", not(loom)), allow(dead_code))]
    #[inline(always)]
    pub(crate) fn read<'a>(&'a self, _announced: &'a Announced<'_>) -> &'a T {
        let ptr = self.ptr.load(Ordering::Acquire);
        // SAFETY: `ptr` is the address of the `'static` value given to
        // `new`, or of the value of an `Arc` that `publish` made current
        // (never NULL). That `Arc` is kept (as `current`,
        // then in `retired`) until every dispatch announced when the
        // pointer moved away from it has ended. This thread announced
        // (`Announced::begin`: `seq` odd, then a SeqCst fence) before this
        // load, and the token stays alive for `'a`: either the writer's
        // fence after its store came after that fence, and the writer saw
        // this record's odd `seq` and keeps the value until it moves on,
        // which the token's drop does after the last use of the reference;
        // or it came before, and this load sees the new pointer (or a later
        // one), not the retired value (docs/CONCURRENCY.md, H7).
        unsafe { &*ptr }
    }

    /// Whether the pointer no longer points to `held` (what a [`read`]
    /// answered earlier in the same dispatch). Compares addresses only;
    /// `held` is still alive (the dispatch is announced), so the address
    /// cannot have been reused.
    ///
    /// [`read`]: Published::read
    #[cfg_attr(all(target_arch = "x86_64", not(loom)), allow(dead_code))]
    #[inline(always)]
    pub(crate) fn moved_from(&self, held: &T) -> bool {
        self.ptr.load(Ordering::Relaxed) != std::ptr::from_ref(held).cast_mut()
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
        // Release: the value's contents before its address. The fence in
        // `busy` orders this store before the reads of `seq` (H7).
        self.ptr
            .store(Arc::as_ptr(&value).cast_mut(), Ordering::Release);
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

    /// Counts its drops (when it has a counter).
    struct Tracked(Option<Arc<AtomicUsize>>);

    impl Drop for Tracked {
        fn drop(&mut self) {
            if let Some(count) = &self.0 {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
    }

    static NOTHING: Tracked = Tracked(None);

    #[test]
    fn a_value_read_under_an_announcement_outlives_its_replacement() {
        let drops = Arc::new(AtomicUsize::new(0));
        let dropped = || drops.load(std::sync::atomic::Ordering::SeqCst);
        let cell: Published<Tracked> = Published::new(&NOTHING);
        let home = readers::Seat::new(0);
        home.seat(readers::register);
        let announced = Announced::begin(&home).unwrap();
        assert!(std::ptr::eq(cell.read(&announced), &NOTHING));
        assert!(cell.current().is_none());
        drop(announced);
        cell.publish(Arc::new(Tracked(Some(drops.clone()))));
        let announced = Announced::begin(&home).unwrap();
        let held = cell.read(&announced);
        // Replaced from inside the dispatch (a callback's registration): kept.
        cell.publish(Arc::new(Tracked(None)));
        assert!(cell.moved_from(held));
        assert_eq!(
            dropped(),
            0,
            "retired, not dropped, while the dispatch runs"
        );
        assert!(
            Arc::ptr_eq(held.0.as_ref().unwrap(), &drops),
            "and still readable"
        );
        assert!(cell.retired() >= 1);
        drop(announced);
        // A later publication drops it (other tests' dispatches on other
        // threads may hold it, and the values after it, back for a moment).
        for _ in 0..1000 {
            cell.publish(Arc::new(Tracked(None)));
            if dropped() == 1 && cell.retired() == 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert_eq!(dropped(), 1);
        assert_eq!(cell.retired(), 0);
        assert!(cell.current().is_some_and(|c| c.0.is_none()));
        readers::unregister(home.unseat().unwrap());
    }
}
