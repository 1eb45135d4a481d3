//! Reentrancy: callbacks that call back into the library — fire, enter
//! scopes (the very scope being fired included), change events, register,
//! replace and remove callbacks (their own included), free and claim tools,
//! restart events and wait for callbacks. The library stays consistent, and
//! what each call sees is what `docs/CONCURRENCY.md` ("Reentrancy") says.

mod exported;

use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};

use exported::*;
use pymonitoring::ffi::*;

static A: AtomicUsize = AtomicUsize::new(0);
static B: AtomicUsize = AtomicUsize::new(0);
static ZERO: AtomicUsize = AtomicUsize::new(0);
static CHAOS: AtomicUsize = AtomicUsize::new(0);
static ONE: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn count(data: *mut c_void, _ev: *const PyMonitoringEvent) -> c_int {
    unsafe { &*(data as *const AtomicUsize) }.fetch_add(1, Ordering::SeqCst);
    0
}

fn data(c: &'static AtomicUsize) -> *mut c_void {
    c as *const AtomicUsize as *mut c_void
}

/// The scope being fired, shared with the callback (single-threaded test).
struct Scope {
    states: [PyMonitoringState; 2],
    version: u64,
}

const SCOPE_EVENTS: [u8; 2] = [0, 5]; // PY_START, LINE

static mut SCOPE: Scope = Scope {
    states: [PyMonitoringState {
        active: 0,
        opaque: 0,
    }; 2],
    version: u64::MAX,
};

fn scope() -> *mut Scope {
    std::ptr::addr_of_mut!(SCOPE)
}

fn enter() -> c_int {
    unsafe {
        let s = scope();
        PyMonitoring_EnterScope(
            (*s).states.as_mut_ptr(),
            &mut (*s).version,
            SCOPE_EVENTS.as_ptr(),
            2,
        )
    }
}

fn active() -> u8 {
    unsafe { (*scope()).states[0].active }
}

/// Tool 2's callback: everything at once, from inside the dispatch.
unsafe extern "C" fn chaos(_data: *mut c_void, ev: *const PyMonitoringEvent) -> c_int {
    CHAOS.fetch_add(1, Ordering::SeqCst);
    assert_eq!(unsafe { (*ev).tool_id }, 2);
    // Nested fires of every kind: not delivered, 0, nothing left pending
    // (except an exception set here for exception events, which stays).
    let mut other = PyMonitoringState {
        active: 0xFF,
        opaque: 0,
    };
    for f in all_fires() {
        if f.exception {
            PyMonitoring_SetRaisedException(exc());
        }
        assert_eq!((f.call)(&mut other, obj(1), 0), 0, "{}", f.name);
        PyMonitoring_ErrClear();
    }
    assert_eq!(
        (A.load(Ordering::SeqCst), ZERO.load(Ordering::SeqCst)),
        (0, 0)
    );
    // Entering the scope being fired, with its current version: no change.
    assert_eq!(enter(), 0);
    assert_eq!(active(), 0b111);
    // Change events, then enter again: the slot being fired is rewritten.
    assert_eq!(PyMonitoring_SetEvents(2, 1 << 5), 0);
    assert_eq!(enter(), 0);
    assert_eq!(active(), 0b011);
    // Replace tool 1's callback (the walk calls it next), remove this one.
    unsafe {
        assert_eq!(
            PyMonitoring_RegisterCallback(1, 0, Some(count), data(&B)),
            0
        );
        assert_eq!(
            PyMonitoring_RegisterCallback(2, 0, None, std::ptr::null_mut()),
            0
        );
    }
    // Free tool 0 (its callback is cleared), claim it again, restart.
    assert_eq!(PyMonitoring_FreeToolId(0), 0);
    assert_eq!(unsafe { PyMonitoring_UseToolId(0, c"again".as_ptr()) }, 0);
    assert_eq!(PyMonitoring_RestartEvents(), 0);
    // Waiting from inside a callback skips this thread's own dispatch.
    assert_eq!(PyMonitoring_WaitForCallbacks(), 0);
    assert_eq!(PyMonitoring_ErrOccurred(), 0);
    0
}

#[test]
fn a_callback_that_changes_everything() {
    let _g = serial();
    unsafe {
        for t in 0..3 {
            ok(PyMonitoring_UseToolId(t, c"t".as_ptr()), 0);
            ok(PyMonitoring_SetEvents(t, 1), 0);
        }
        ok(
            PyMonitoring_RegisterCallback(2, 0, Some(chaos), std::ptr::null_mut()),
            0,
        );
        ok(
            PyMonitoring_RegisterCallback(1, 0, Some(count), data(&A)),
            0,
        );
        ok(
            PyMonitoring_RegisterCallback(0, 0, Some(count), data(&ZERO)),
            0,
        );
    }
    ok(enter(), 0);
    assert_eq!(active(), 0b111);
    let v0 = PyMonitoring_GetVersion();
    let st = unsafe { std::ptr::addr_of_mut!((*scope()).states[0]) };
    ok(unsafe { PyMonitoring_FirePyStartEvent(st, obj(1), 0) }, 0);
    // The walk re-reads the callback table before each tool: tool 1 got the
    // replacement B, tool 0 (freed inside) got nothing.
    assert_eq!(CHAOS.load(Ordering::SeqCst), 1);
    assert_eq!(A.load(Ordering::SeqCst), 0);
    assert_eq!(B.load(Ordering::SeqCst), 1);
    assert_eq!(ZERO.load(Ordering::SeqCst), 0);
    // SetEvents, FreeToolId and RestartEvents each changed the version.
    assert_eq!(PyMonitoring_GetVersion(), v0 + 3);
    // The slot keeps what the inner EnterScope wrote until the next entry.
    assert_eq!(active(), 0b011);
    ok(enter(), 0);
    assert_eq!(active(), 0b010, "tool 0 was re-claimed without events");
    ok(unsafe { PyMonitoring_FirePyStartEvent(st, obj(1), 0) }, 0);
    assert_eq!(
        (CHAOS.load(Ordering::SeqCst), B.load(Ordering::SeqCst)),
        (1, 2)
    );
    // The registry reads back consistently.
    let snap = snapshot();
    assert_eq!(snap.tools[0].0, 1);
    assert_eq!(snap.tools[0].1, b"again");
    assert_eq!(snap.tools[0].2, 0);
    assert!(snap.tools[0].3.iter().all(|&c| c == (0, 0)));
    assert_eq!(snap.tools[2].2, 1 << 5);
    assert_eq!(snap.tools[2].3[0], (0, 0));
    assert_eq!(
        snap.tools[1].3[0],
        (count as *const () as usize, data(&B) as usize)
    );
}

static REPLACEMENT: AtomicUsize = AtomicUsize::new(0);

/// A RAISE callback that replaces itself, then answers DISABLE.
unsafe extern "C" fn replace_then_disable(_d: *mut c_void, _ev: *const PyMonitoringEvent) -> c_int {
    unsafe { PyMonitoring_RegisterCallback(4, 11, Some(count), data(&REPLACEMENT)) };
    PY_MONITORING_DISABLE
}

/// DISABLE from a non-local event removes the callback that answered it —
/// not a replacement it installed meanwhile.
#[test]
fn disable_after_replacing_itself_keeps_the_replacement() {
    let _g = serial();
    unsafe {
        ok(PyMonitoring_UseToolId(4, c"t".as_ptr()), 0);
        ok(
            PyMonitoring_RegisterCallback(4, 11, Some(replace_then_disable), std::ptr::null_mut()),
            0,
        );
    }
    let mut state = PyMonitoringState {
        active: 1 << 4,
        opaque: 0,
    };
    PyMonitoring_SetRaisedException(exc());
    value_error(
        unsafe { PyMonitoring_FireRaiseEvent(&mut state, obj(1), 0) },
        "Cannot disable RAISE events. Callback removed.",
    );
    let mut f: PyMonitoringCallback = None;
    let mut d = std::ptr::null_mut();
    ok(
        unsafe { PyMonitoring_GetCallback(4, 11, &mut f, &mut d) },
        0,
    );
    assert_eq!(
        f.map(|f| f as *const () as usize),
        Some(count as *const () as usize)
    );
    assert_eq!(d, data(&REPLACEMENT));
    PyMonitoring_SetRaisedException(exc());
    assert_eq!(
        unsafe { PyMonitoring_FireRaiseEvent(&mut state, obj(1), 0) },
        0
    );
    assert_eq!(REPLACEMENT.load(Ordering::SeqCst), 1);
    // On success the exception is current again.
    assert_eq!(PyMonitoring_GetRaisedException(), exc());
    assert_eq!(take_error(), None);
}

/// A local-event callback that re-enters the scope being fired and then
/// answers DISABLE clears its bit in what the re-entry wrote.
unsafe extern "C" fn reenter_then_disable(_d: *mut c_void, _ev: *const PyMonitoringEvent) -> c_int {
    assert_eq!(PyMonitoring_RestartEvents(), 0);
    assert_eq!(enter(), 0);
    PY_MONITORING_DISABLE
}

#[test]
fn disable_after_reentering_the_scope() {
    let _g = serial();
    unsafe {
        for t in [1, 3] {
            ok(PyMonitoring_UseToolId(t, c"t".as_ptr()), 0);
            ok(PyMonitoring_SetEvents(t, 1), 0);
        }
        ok(
            PyMonitoring_RegisterCallback(3, 0, Some(reenter_then_disable), std::ptr::null_mut()),
            0,
        );
        ok(
            PyMonitoring_RegisterCallback(1, 0, Some(count), data(&ONE)),
            0,
        );
    }
    ok(enter(), 0);
    assert_eq!(active(), 0b1010);
    let before = ONE.load(Ordering::SeqCst);
    let st = unsafe { std::ptr::addr_of_mut!((*scope()).states[0]) };
    ok(unsafe { PyMonitoring_FirePyStartEvent(st, obj(1), 0) }, 0);
    assert_eq!(active(), 0b0010, "tool 3 disabled in the re-entered slot");
    assert_eq!(
        ONE.load(Ordering::SeqCst),
        before + 1,
        "the walk went on to tool 1"
    );
}

static BARRIER: std::sync::Barrier = std::sync::Barrier::new(2);
type WaitResult = (c_int, Option<(c_int, String)>);
static WAIT_RESULTS: std::sync::Mutex<Vec<WaitResult>> = std::sync::Mutex::new(Vec::new());

/// Both threads are inside this callback before either waits.
unsafe extern "C" fn wait_inside(_d: *mut c_void, _ev: *const PyMonitoringEvent) -> c_int {
    BARRIER.wait();
    let rc = PyMonitoring_WaitForCallbacks();
    WAIT_RESULTS.lock().unwrap().push((rc, take_error()));
    0
}

/// Two callbacks on two threads wait for each other's thread: no deadlock;
/// at least one of the waits is refused with a RuntimeError.
#[test]
fn two_callbacks_waiting_for_each_other() {
    let _g = serial();
    unsafe {
        ok(PyMonitoring_UseToolId(5, c"t".as_ptr()), 0);
        ok(
            PyMonitoring_RegisterCallback(5, 7, Some(wait_inside), std::ptr::null_mut()),
            0,
        );
    }
    let fire = || {
        let mut state = PyMonitoringState {
            active: 1 << 5,
            opaque: 0,
        };
        unsafe { PyMonitoring_FireJumpEvent(&mut state, obj(1), 0, obj(2)) }
    };
    let other = std::thread::spawn(fire);
    assert_eq!(fire(), 0);
    assert_eq!(other.join().unwrap(), 0);
    let results = std::mem::take(&mut *WAIT_RESULTS.lock().unwrap());
    assert_eq!(results.len(), 2);
    let refused = (
        -1,
        Some((
            PY_MONITORING_ERR_RUNTIME,
            "cannot wait for callbacks: another thread's callback is waiting for this one"
                .to_owned(),
        )),
    );
    assert!(
        results.iter().all(|r| *r == refused || *r == (0, None)),
        "{results:?}"
    );
    assert!(results.contains(&refused), "{results:?}");
}
