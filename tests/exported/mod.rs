//! Helpers for the tests that call the exported functions directly (the
//! bad-input matrix, the model-based property test, the reentrancy test):
//! every fire function in one table, a snapshot of the whole registry as the
//! C API shows it, and error checks.
#![allow(dead_code)]

use std::ffi::{c_int, c_void, CStr};
use std::sync::{Mutex, MutexGuard};

use pymonitoring::ffi::*;

/// The registry is process-global: tests of one binary take this lock.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    let g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    reset();
    g
}

/// Free every tool and clear this thread's error indicator.
pub fn reset() {
    for tool in 0..6 {
        assert_eq!(PyMonitoring_FreeToolId(tool), 0);
    }
    PyMonitoring_ErrClear();
}

/// Distinct fake host objects: only their addresses matter.
static OBJECTS: [u8; 64] = [0; 64];

pub fn obj(i: usize) -> *mut PyObject {
    &OBJECTS[i] as *const u8 as *mut PyObject
}

pub fn missing() -> *mut PyObject {
    PyMonitoring_GetMissing()
}

/// A fire function with its extra arguments bound: (state, codelike, offset).
pub type Fire = fn(*mut PyMonitoringState, *mut PyObject, i32) -> c_int;

/// One exported fire function.
#[derive(Clone, Copy)]
pub struct FireFn {
    pub name: &'static str,
    /// The event delivered.
    pub event: i32,
    /// The plain `PyMonitoring_Fire*` (returns 0 at once when inactive).
    pub plain: bool,
    /// Takes the thread's current exception.
    pub exception: bool,
    pub call: Fire,
    /// `arg0`, `arg1` and `lineno` the callback should see (with the bound
    /// arguments below).
    pub arg0: fn() -> *mut PyObject,
    pub arg1: fn() -> *mut PyObject,
    pub lineno: i32,
}

fn m() -> *mut PyObject {
    missing()
}
fn o2() -> *mut PyObject {
    obj(2)
}
fn o3() -> *mut PyObject {
    obj(3)
}
/// The exception object the tests set before exception events.
pub fn exc() -> *mut PyObject {
    obj(9)
}

macro_rules! fires {
    ($( $ev:expr, $exc:expr, $plain:ident, $under:ident, |$s:ident, $c:ident, $o:ident| ($($extra:expr),*), $a0:expr, $a1:expr, $line:expr; )*) => {
        vec![$(
            FireFn { name: stringify!($plain), event: $ev, plain: true, exception: $exc,
                call: |$s, $c, $o| unsafe { $plain($s, $c, $o $(, $extra)*) },
                arg0: $a0, arg1: $a1, lineno: $line },
            FireFn { name: stringify!($under), event: $ev, plain: false, exception: $exc,
                call: |$s, $c, $o| unsafe { $under($s, $c, $o $(, $extra)*) },
                arg0: $a0, arg1: $a1, lineno: $line },
        )*]
    };
}

/// Every exported fire function (35): the 17 plain and 17 underscore ones
/// here, plus `_PyMonitoring_FireBranchEvent`.
pub fn all_fires() -> Vec<FireFn> {
    let mut v = fires![
        0, false, PyMonitoring_FirePyStartEvent, _PyMonitoring_FirePyStartEvent, |s, c, o| (), m, m, -1;
        1, false, PyMonitoring_FirePyResumeEvent, _PyMonitoring_FirePyResumeEvent, |s, c, o| (), m, m, -1;
        2, false, PyMonitoring_FirePyReturnEvent, _PyMonitoring_FirePyReturnEvent, |s, c, o| (obj(2)), o2, m, -1;
        3, false, PyMonitoring_FirePyYieldEvent, _PyMonitoring_FirePyYieldEvent, |s, c, o| (obj(2)), o2, m, -1;
        4, false, PyMonitoring_FireCallEvent, _PyMonitoring_FireCallEvent, |s, c, o| (obj(2), obj(3)), o2, o3, -1;
        5, false, PyMonitoring_FireLineEvent, _PyMonitoring_FireLineEvent, |s, c, o| (42), m, m, 42;
        7, false, PyMonitoring_FireJumpEvent, _PyMonitoring_FireJumpEvent, |s, c, o| (obj(2)), o2, m, -1;
        8, false, PyMonitoring_FireBranchLeftEvent, _PyMonitoring_FireBranchLeftEvent, |s, c, o| (obj(2)), o2, m, -1;
        9, false, PyMonitoring_FireBranchRightEvent, _PyMonitoring_FireBranchRightEvent, |s, c, o| (obj(2)), o2, m, -1;
        10, false, PyMonitoring_FireStopIterationEvent, _PyMonitoring_FireStopIterationEvent, |s, c, o| (obj(2)), o2, m, -1;
        11, true, PyMonitoring_FireRaiseEvent, _PyMonitoring_FireRaiseEvent, |s, c, o| (), exc, m, -1;
        12, true, PyMonitoring_FireExceptionHandledEvent, _PyMonitoring_FireExceptionHandledEvent, |s, c, o| (), exc, m, -1;
        13, true, PyMonitoring_FirePyUnwindEvent, _PyMonitoring_FirePyUnwindEvent, |s, c, o| (), exc, m, -1;
        14, true, PyMonitoring_FirePyThrowEvent, _PyMonitoring_FirePyThrowEvent, |s, c, o| (), exc, m, -1;
        15, true, PyMonitoring_FireReraiseEvent, _PyMonitoring_FireReraiseEvent, |s, c, o| (), exc, m, -1;
        16, false, PyMonitoring_FireCReturnEvent, _PyMonitoring_FireCReturnEvent, |s, c, o| (obj(2)), o2, m, -1;
        17, true, PyMonitoring_FireCRaiseEvent, _PyMonitoring_FireCRaiseEvent, |s, c, o| (), exc, m, -1;
    ];
    v.push(FireFn {
        name: "_PyMonitoring_FireBranchEvent",
        event: 9,
        plain: false,
        exception: false,
        call: |s, c, o| unsafe { _PyMonitoring_FireBranchEvent(s, c, o, obj(2)) },
        arg0: o2,
        arg1: m,
        lineno: -1,
    });
    v
}

/// The thread's error, as (kind, message), or None.
pub fn error() -> Option<(c_int, String)> {
    if PyMonitoring_ErrOccurred() == 0 {
        return None;
    }
    let msg = PyMonitoring_ErrMessage();
    let text = if msg.is_null() {
        String::new()
    } else {
        unsafe { CStr::from_ptr(msg) }
            .to_string_lossy()
            .into_owned()
    };
    Some((PyMonitoring_ErrKind(), text))
}

/// Take the thread's error.
pub fn take_error() -> Option<(c_int, String)> {
    let e = error();
    PyMonitoring_ErrClear();
    e
}

/// `rc` is -1 with exactly this ValueError; the indicator is cleared.
#[track_caller]
pub fn value_error(rc: c_int, msg: &str) {
    assert_eq!(rc, -1, "expected -1 with ValueError {msg:?}");
    assert_eq!(
        take_error(),
        Some((PY_MONITORING_ERR_VALUE, msg.to_owned())),
        "wrong error"
    );
}

/// `rc` is `want` and no error is set.
#[track_caller]
pub fn ok(rc: c_int, want: c_int) {
    let e = take_error();
    assert_eq!((rc, e), (want, None));
}

/// One tool as the C API shows it: GetTool's result and name, its events,
/// and (function address, data) for each of the 19 events.
pub type ToolView = (c_int, Vec<u8>, u32, Vec<(usize, usize)>);

/// Everything the C API shows of the registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub version: u64,
    pub tools: Vec<ToolView>,
}

/// Read the whole registry through the C API (leaves no error).
pub fn snapshot() -> Snapshot {
    let mut tools = Vec::new();
    for tool in 0..6 {
        let mut buf = [0u8; 256];
        let mut needed = 0usize;
        let used =
            unsafe { PyMonitoring_GetTool(tool, buf.as_mut_ptr().cast(), buf.len(), &mut needed) };
        let name = buf[..needed.min(255)].to_vec();
        let mut set = 0u32;
        assert_eq!(unsafe { PyMonitoring_GetEvents(tool, &mut set) }, 0);
        let mut callbacks = Vec::new();
        for event in 0..19 {
            let mut f: PyMonitoringCallback = None;
            let mut data: *mut c_void = std::ptr::null_mut();
            assert_eq!(
                unsafe { PyMonitoring_GetCallback(tool, event, &mut f, &mut data) },
                0
            );
            callbacks.push((f.map_or(0, |f| f as usize), data as usize));
        }
        tools.push((used, name, set, callbacks));
    }
    assert_eq!(take_error(), None);
    Snapshot {
        version: PyMonitoring_GetVersion(),
        tools,
    }
}
