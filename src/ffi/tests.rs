//! Unit tests of the boundary, calling the extern functions directly.

use std::ffi::{c_int, c_void, CStr};
use std::sync::Arc;

use super::guard::arm_fault;
use super::*;
use crate::dispatch::EventRecord;
use crate::registry::{self, Handler, Outcome};
use crate::test_support::registry_lock;

fn message() -> String {
    let p = PyMonitoring_ErrMessage();
    assert!(!p.is_null(), "an error is set");
    // SAFETY: non-NULL, NUL-terminated, valid until the indicator changes.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

fn code() -> *mut PyObject {
    0x5000 as *mut PyObject
}

#[test]
fn a_panic_inside_a_guarded_call_is_a_runtime_error() {
    let _g = registry_lock();
    arm_fault("PyMonitoring_SetEvents");
    assert_eq!(PyMonitoring_SetEvents(0, 1), -1);
    assert_eq!(PyMonitoring_ErrKind(), PY_MONITORING_ERR_RUNTIME);
    assert_eq!(
        message(),
        "internal error in PyMonitoring_SetEvents: injected fault"
    );
    PyMonitoring_ErrClear();
    // The next call works normally.
    assert_eq!(PyMonitoring_SetEvents(0, 1), -1);
    assert_eq!(message(), "tool 0 is not in use");
    PyMonitoring_ErrClear();
}

#[test]
fn a_panic_while_firing_is_a_runtime_error_and_leaves_the_thread_usable() {
    let _g = registry_lock();
    let mut state = PyMonitoringState {
        active: 1,
        opaque: 0,
    };
    arm_fault("_PyMonitoring_FirePyStartEvent");
    // SAFETY: valid state and a fake (never dereferenced) code-like.
    let rc = unsafe { PyMonitoring_FirePyStartEvent(&mut state, code(), 0) };
    assert_eq!(rc, -1);
    assert_eq!(PyMonitoring_ErrKind(), PY_MONITORING_ERR_RUNTIME);
    PyMonitoring_ErrClear();
}

/// A Rust handler that panics: the dispatch must unwind cleanly to the guard.
struct Panicker;

impl Handler for Panicker {
    fn call(&self, _ev: &EventRecord) -> Outcome {
        panic!("handler panicked")
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

unsafe extern "C" fn count(data: *mut c_void, _ev: *const PyMonitoringEvent) -> c_int {
    // SAFETY: registered with a pointer to a live counter.
    unsafe { *(data as *mut u32) += 1 };
    0
}

#[test]
fn a_panicking_handler_comes_back_as_minus_one_and_dispatch_recovers() {
    let _g = registry_lock();
    registry::use_tool_id(1, "p").unwrap();
    registry::set_events(1, 1).unwrap();
    registry::register_callback(1, 0, Some(Arc::new(Panicker))).unwrap();
    let mut state = PyMonitoringState {
        active: 1 << 1,
        opaque: 0,
    };
    // SAFETY: valid state.
    let rc = unsafe { _PyMonitoring_FirePyStartEvent(&mut state, code(), 0) };
    assert_eq!(rc, -1);
    assert_eq!(
        message(),
        "internal error in _PyMonitoring_FirePyStartEvent: handler panicked"
    );
    PyMonitoring_ErrClear();
    // The thread is not stuck "inside a callback": events are delivered again.
    let mut calls = 0u32;
    // SAFETY: `calls` outlives the registration (removed below).
    unsafe {
        assert_eq!(
            PyMonitoring_RegisterCallback(1, 0, Some(count), &mut calls as *mut u32 as *mut c_void),
            0
        );
        assert_eq!(_PyMonitoring_FirePyStartEvent(&mut state, code(), 0), 0);
        assert_eq!(
            PyMonitoring_RegisterCallback(1, 0, None, std::ptr::null_mut()),
            0
        );
    }
    assert_eq!(calls, 1);
    assert_eq!(PyMonitoring_WaitForCallbacks(), 0);
}

#[test]
fn missing_is_stable_and_non_null() {
    let a = PyMonitoring_GetMissing();
    assert!(!a.is_null());
    assert_eq!(a, PyMonitoring_GetMissing());
}

#[test]
fn exported_inactive_fire_returns_at_once_and_rejects_null() {
    let _g = registry_lock();
    let mut state = PyMonitoringState::default();
    // SAFETY: valid or NULL state; codelike never dereferenced.
    unsafe {
        assert_eq!(
            PyMonitoring_FireLineEvent(&mut state, std::ptr::null_mut(), -1, 3),
            0
        );
        assert_eq!(PyMonitoring_ErrOccurred(), 0);
        assert_eq!(
            PyMonitoring_FireLineEvent(std::ptr::null_mut(), code(), 0, 3),
            -1
        );
    }
    assert_eq!(message(), "state must not be NULL");
    PyMonitoring_ErrClear();
}

#[test]
fn enter_scope_checks_before_writing() {
    let _g = registry_lock();
    let mut states = [PyMonitoringState {
        active: 7,
        opaque: 9,
    }; 2];
    let mut version = u64::MAX;
    let ids = [0u8, 1];
    // SAFETY: pointers valid for the lengths given, or NULL on purpose.
    unsafe {
        assert_eq!(
            PyMonitoring_EnterScope(states.as_mut_ptr(), &mut version, ids.as_ptr(), -1),
            -1
        );
        assert_eq!(message(), "length must be non-negative (got -1)");
        assert_eq!(
            PyMonitoring_EnterScope(states.as_mut_ptr(), &mut version, ids.as_ptr(), isize::MAX),
            -1
        );
        assert_eq!(message(), format!("length {} is too large", isize::MAX));
        assert_eq!(
            PyMonitoring_EnterScope(std::ptr::null_mut(), &mut version, ids.as_ptr(), 2),
            -1
        );
        assert_eq!(message(), "states must not be NULL when length > 0");
        assert_eq!(
            PyMonitoring_EnterScope(states.as_mut_ptr(), &mut version, std::ptr::null(), 2),
            -1
        );
        assert_eq!(message(), "event_types must not be NULL when length > 0");
        assert_eq!(
            PyMonitoring_EnterScope(std::ptr::null_mut(), &mut version, std::ptr::null(), 0),
            0
        );
    }
    assert_eq!(version, registry::version());
    assert_eq!(
        states[0],
        PyMonitoringState {
            active: 7,
            opaque: 9
        }
    );
    PyMonitoring_ErrClear();
}

/// A callback installed through the Rust API is fired through the C API and
/// reads back as a NULL function (docs/BAD_INPUT.md, "GetCallback" row).
#[test]
fn rust_handlers_fire_through_the_c_api_and_read_back_as_null() {
    let _g = registry_lock();
    registry::use_tool_id(4, "rust").unwrap();
    let rec = crate::test_support::Recorder::new();
    registry::register_callback(4, 5, Some(rec.clone() as Arc<dyn Handler>)).unwrap();
    let mut state = PyMonitoringState {
        active: 1 << 4,
        opaque: 0,
    };
    // SAFETY: a valid state; the code object is never dereferenced.
    assert_eq!(
        unsafe { PyMonitoring_FireLineEvent(&mut state, code(), 3, 17) },
        0
    );
    assert_eq!(rec.count(), 1);
    let ev = rec.events()[0];
    assert_eq!((ev.tool, ev.offset, ev.lineno), (4, 3, 17));
    let mut f: PyMonitoringCallback = None;
    let mut data = 1 as *mut c_void;
    // SAFETY: valid outputs.
    assert_eq!(
        unsafe { PyMonitoring_GetCallback(4, 5, &mut f, &mut data) },
        0
    );
    assert!(f.is_none() && data.is_null());
}

/// A C callback fired through the Rust API (absent arguments stored as 0 in
/// the dispatch's record) and through the C API (stored as MISSING) gets
/// the same `PyMonitoringEvent`; a Rust handler on the same fire sees the
/// absent argument as `None`.
#[test]
fn c_and_rust_callbacks_see_the_same_records_whoever_fires() {
    use std::sync::Mutex;
    /// event, tool_id, codelike, offset, lineno, arg0, arg1.
    type Seen = (i32, i32, usize, i32, i32, usize, usize);
    static SEEN: Mutex<Vec<Seen>> = Mutex::new(Vec::new());
    unsafe extern "C" fn record(_data: *mut c_void, ev: *const PyMonitoringEvent) -> c_int {
        // SAFETY: the library passes a valid record for the call.
        let ev = unsafe { &*ev };
        SEEN.lock().unwrap().push((
            ev.event,
            ev.tool_id,
            ev.codelike as usize,
            ev.offset,
            ev.lineno,
            ev.arg0 as usize,
            ev.arg1 as usize,
        ));
        0
    }
    let _g = registry_lock();
    SEEN.lock().unwrap().clear();
    registry::use_tool_id(3, "c").unwrap();
    registry::use_tool_id(1, "rust").unwrap();
    // SAFETY: a callback valid from any thread, with no data.
    assert_eq!(
        unsafe {
            PyMonitoring_RegisterCallback(
                3,
                PY_MONITORING_EVENT_CALL,
                Some(record),
                std::ptr::null_mut(),
            )
        },
        0
    );
    let rust = crate::test_support::Recorder::new();
    registry::register_callback(1, 4, Some(rust.clone() as Arc<dyn Handler>)).unwrap();
    let callable = ObjectRef::from_addr(0x7000).unwrap();
    let active = std::cell::Cell::new((1 << 3) | (1 << 1));
    let firing = crate::dispatch::Firing {
        arg0: Some(callable),
        ..crate::dispatch::Firing::new(crate::event::Event::Call, object(code()).unwrap(), 8)
    };
    crate::dispatch::fire(&active, firing).unwrap();
    let mut state = PyMonitoringState {
        active: (1 << 3) | (1 << 1),
        opaque: 0,
    };
    // SAFETY: a valid state; the objects are never dereferenced.
    let rc = unsafe {
        PyMonitoring_FireCallEvent(
            &mut state,
            code(),
            8,
            0x7000 as *mut PyObject,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(rc, 0);
    let missing = PyMonitoring_GetMissing() as usize;
    let expected = (4, 3, code() as usize, 8, -1, 0x7000, missing);
    assert_eq!(*SEEN.lock().unwrap(), [expected, expected]);
    let events = rust.events();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0], events[1]);
    assert_eq!(
        (events[0].tool, events[0].arg0, events[0].arg1),
        (1, Some(callable), None)
    );
}
