//! The synchronisation primitives of the shared registry and of the reader
//! records, from `std` normally and from `loom` under `--cfg loom`, so the
//! real protocol code in [`crate::registry`] and [`crate::quiesce`] runs
//! under the model checker (see `src/loom_tests.rs` and
//! `docs/CONCURRENCY.md`).
//!
//! Only the atomics and the mutex are swapped. `Arc`s of immutable data (the
//! callback tables and handlers) stay `std`: they are published through the
//! mutex, which loom does model.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{
    fence, AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicU8, Ordering,
};
#[cfg(loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{
    fence, AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicU8, Ordering,
};
#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};

/// One round of a spin-wait: a CPU hint for the first rounds, then a yield
/// to the scheduler. Under loom every round yields, so the model checker can
/// run the thread being waited for.
#[inline]
pub(crate) fn spin(round: u32) {
    #[cfg(loom)]
    {
        let _ = round;
        loom::thread::yield_now();
    }
    #[cfg(not(loom))]
    {
        if round < 64 {
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
}
