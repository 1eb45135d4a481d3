//! C callbacks as registry handlers.

use std::any::Any;
use std::ffi::{c_int, c_void};

use super::types::{PyMonitoringEvent, PY_MONITORING_DISABLE};
use super::{pointer, PyObject};
use crate::dispatch::EventRecord;
use crate::registry::{Handler, Outcome};

type CallbackFn = unsafe extern "C" fn(*mut c_void, *const PyMonitoringEvent) -> c_int;

/// A C function and the data it was registered with.
pub(crate) struct CCallback {
    pub func: CallbackFn,
    pub data: *mut c_void,
}

// SAFETY: registering a callback is the host's promise that the function may
// be called from any thread that fires, with its data.
unsafe impl Send for CCallback {}
// SAFETY: as above; the library only copies the two pointers.
unsafe impl Sync for CCallback {}

impl Handler for CCallback {
    fn call(&self, ev: &EventRecord) -> Outcome {
        let record = PyMonitoringEvent {
            event: i32::from(ev.event.id()),
            tool_id: i32::from(ev.tool),
            codelike: ev.codelike.addr() as *mut PyObject,
            offset: ev.offset,
            lineno: ev.lineno,
            arg0: pointer(ev.arg0),
            arg1: pointer(ev.arg1),
        };
        // SAFETY: the host registered `func` to be called with `data`; the
        // record lives for the call.
        match unsafe { (self.func)(self.data, &record) } {
            PY_MONITORING_DISABLE => Outcome::Disable,
            -1 => Outcome::Error,
            _ => Outcome::Continue,
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
