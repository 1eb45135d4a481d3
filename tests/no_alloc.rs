//! No allocation on any fire or EnterScope path: a counting global allocator
//! around loops of active fires (one and six tools, LINE, RAISE with an
//! exception set, a DISABLE), forced EnterScope refreshes and version hits,
//! all through the exported C functions. Set-up (claiming tools, registering
//! callbacks, the first fire of the thread) may allocate; the loops may not.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};

use pymonitoring::ffi::*;

struct Counting;

thread_local! {
    /// This thread's allocations: other threads (the test harness's) may
    /// allocate while a loop runs, and do not count.
    static ALLOCS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn counted() {
    let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: forwards to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        counted();
        // SAFETY: forwarded.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        counted();
        // SAFETY: forwarded.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

static CALLS: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn count(_data: *mut c_void, _ev: *const PyMonitoringEvent) -> c_int {
    CALLS.fetch_add(1, Ordering::Relaxed);
    0
}

unsafe extern "C" fn disable(_data: *mut c_void, _ev: *const PyMonitoringEvent) -> c_int {
    CALLS.fetch_add(1, Ordering::Relaxed);
    PY_MONITORING_DISABLE
}

fn allocations_in(f: impl FnOnce()) -> usize {
    let before = ALLOCS.with(|n| n.get());
    f();
    ALLOCS.with(|n| n.get()) - before
}

const N: usize = 10_000;

#[test]
fn fire_and_enter_scope_never_allocate() {
    let mut obj = [0u64; 2];
    let code = obj.as_mut_ptr() as *mut PyObject;
    let exc = obj[1..].as_mut_ptr() as *mut PyObject;
    let events: [u8; 17] = std::array::from_fn(|i| i as u8);
    let mut states = [PyMonitoringState::default(); 17];
    let mut version = 0u64;
    // SAFETY (all blocks below): valid pointers to live locals, C callbacks
    // with the declared signature.
    unsafe {
        for tool in 0..6 {
            assert_eq!(PyMonitoring_UseToolId(tool, c"bench".as_ptr()), 0);
            for ev in [
                PY_MONITORING_EVENT_PY_START,
                PY_MONITORING_EVENT_LINE,
                PY_MONITORING_EVENT_RAISE,
            ] {
                assert_eq!(
                    PyMonitoring_RegisterCallback(tool, ev, Some(count), std::ptr::null_mut()),
                    0
                );
            }
        }
        let set = (1 << PY_MONITORING_EVENT_PY_START)
            | (1 << PY_MONITORING_EVENT_LINE)
            | (1 << PY_MONITORING_EVENT_RAISE);
        assert_eq!(PyMonitoring_SetEvents(2, set as u32), 0);
        assert_eq!(
            PyMonitoring_EnterScope(states.as_mut_ptr(), &mut version, events.as_ptr(), 17),
            0
        );
        let start = &mut states[PY_MONITORING_EVENT_PY_START as usize] as *mut PyMonitoringState;
        let line = &mut states[PY_MONITORING_EVENT_LINE as usize] as *mut PyMonitoringState;
        let raise = &mut states[PY_MONITORING_EVENT_RAISE as usize] as *mut PyMonitoringState;
        // Warm-up: the thread's first dispatch registers its reader record
        // and takes its copy of the callback table.
        assert_eq!(PyMonitoring_FirePyStartEvent(start, code, 0), 0);
        let calls = CALLS.load(Ordering::Relaxed);

        let n = allocations_in(|| {
            for i in 0..N {
                assert_eq!(PyMonitoring_FirePyStartEvent(start, code, 0), 0);
                assert_eq!(_PyMonitoring_FirePyStartEvent(start, code, 0), 0);
                assert_eq!(
                    PyMonitoring_FireLineEvent(line, code, 4, 1000 + i as c_int),
                    0
                );
                assert_eq!(
                    PyMonitoring_EnterScope(states.as_mut_ptr(), &mut version, events.as_ptr(), 17),
                    0
                );
            }
        });
        assert_eq!(n, 0, "{n} allocations in {N} active fires / version hits");
        assert_eq!(CALLS.load(Ordering::Relaxed) - calls, 3 * N);

        PyMonitoring_SetRaisedException(exc);
        let n = allocations_in(|| {
            for _ in 0..N {
                assert_eq!(PyMonitoring_FireRaiseEvent(raise, code, 6), 0);
            }
        });
        assert_eq!(n, 0, "{n} allocations in {N} RAISE fires");
        assert_eq!(PyMonitoring_GetRaisedException(), exc);

        let n = allocations_in(|| {
            for _ in 0..N {
                let mut stale = u64::MAX;
                assert_eq!(
                    PyMonitoring_EnterScope(states.as_mut_ptr(), &mut stale, events.as_ptr(), 17),
                    0
                );
            }
        });
        assert_eq!(n, 0, "{n} allocations in {N} EnterScope refreshes");

        // Six tools, and a DISABLE on a local event with a refresh each time.
        for tool in 0..6 {
            assert_eq!(
                PyMonitoring_SetEvents(tool, 1 << PY_MONITORING_EVENT_PY_START),
                0
            );
        }
        assert_eq!(
            PyMonitoring_EnterScope(states.as_mut_ptr(), &mut version, events.as_ptr(), 17),
            0
        );
        assert_eq!(PyMonitoring_FirePyStartEvent(start, code, 0), 0);
        let n = allocations_in(|| {
            for _ in 0..N {
                assert_eq!(PyMonitoring_FirePyStartEvent(start, code, 0), 0);
            }
        });
        assert_eq!(n, 0, "{n} allocations in {N} six-tool fires");
        assert_eq!(
            PyMonitoring_RegisterCallback(
                5,
                PY_MONITORING_EVENT_PY_START,
                Some(disable),
                std::ptr::null_mut()
            ),
            0
        );
        assert_eq!(PyMonitoring_FirePyStartEvent(start, code, 0), 0);
        let n = allocations_in(|| {
            for _ in 0..N {
                let mut stale = u64::MAX;
                assert_eq!(
                    PyMonitoring_EnterScope(start, &mut stale, events.as_ptr(), 1),
                    0
                );
                assert_eq!(PyMonitoring_FirePyStartEvent(start, code, 0), 0);
                assert_eq!((*start).active & (1 << 5), 0);
            }
        });
        assert_eq!(n, 0, "{n} allocations in {N} refresh + DISABLE rounds");
    }
}
