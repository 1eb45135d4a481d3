//! Unit tests of the boundary, calling the extern functions directly.

use std::sync::Arc;

use super::*;
use crate::registry::{self, Handler};
use crate::test_support::{registry_lock, Recorder};

fn message() -> String {
    let p = PyMonitoring_ErrMessage();
    assert!(!p.is_null());
    // SAFETY: a non-NULL message is a NUL-terminated string.
    unsafe { std::ffi::CStr::from_ptr(p) }
        .to_string_lossy()
        .into_owned()
}

/// A panic inside an exported function becomes -1 with a RuntimeError and
/// leaves the registry as it was (bad-input matrix, "panic" row).
#[test]
fn a_panic_inside_becomes_a_runtime_error() {
    let _g = registry_lock();
    // SAFETY: a valid name.
    assert_eq!(unsafe { PyMonitoring_UseToolId(1, c"t".as_ptr()) }, 0);
    let version = PyMonitoring_GetVersion();
    super::guard::arm_fault("PyMonitoring_SetEvents");
    assert_eq!(PyMonitoring_SetEvents(1, 1), -1);
    assert_eq!(PyMonitoring_ErrKind(), PY_MONITORING_ERR_RUNTIME);
    assert_eq!(
        message(),
        "internal error in PyMonitoring_SetEvents: injected fault"
    );
    PyMonitoring_ErrClear();
    assert_eq!(PyMonitoring_GetVersion(), version);
    assert_eq!(registry::get_events(1).unwrap().bits(), 0);
}

/// A callback installed through the Rust API is fired through the C API and
/// reads back as a NULL function (bad-input matrix, "GetCallback" row).
#[test]
fn rust_handlers_fire_through_the_c_api_and_read_back_as_null() {
    let _g = registry_lock();
    registry::use_tool_id(4, "rust").unwrap();
    let rec = Recorder::new();
    registry::register_callback(4, 5, Some(rec.clone() as Arc<dyn Handler>)).unwrap();
    let mut state = PyMonitoringState {
        active: 1 << 4,
        opaque: 0,
    };
    let code = 0x100 as *mut PyObject;
    // SAFETY: a valid state; the code object is never dereferenced.
    assert_eq!(
        unsafe { PyMonitoring_FireLineEvent(&mut state, code, 3, 17) },
        0
    );
    assert_eq!(rec.count(), 1);
    let ev = rec.events()[0];
    assert_eq!((ev.tool, ev.offset, ev.lineno), (4, 3, 17));
    let mut f: PyMonitoringCallback = None;
    let mut data = 1 as *mut std::ffi::c_void;
    // SAFETY: valid outputs.
    assert_eq!(
        unsafe { PyMonitoring_GetCallback(4, 5, &mut f, &mut data) },
        0
    );
    assert!(f.is_none() && data.is_null());
}
