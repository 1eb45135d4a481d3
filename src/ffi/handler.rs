//! C callbacks as registry handlers.

use std::any::Any;
use std::ffi::{c_int, c_void};
use std::mem::{offset_of, size_of};

use super::types::{PyMonitoringEvent, PY_MONITORING_DISABLE};
use super::{pointer, PyObject};
use crate::record::{EventRecord, FireRecord};
use crate::registry::{Direct, Handler, Outcome};

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

// The dispatch's record starts with a `PyMonitoringEvent`: same fields, same
// offsets (identities are address-sized, `Option<ObjectRef>` is 0 for None).
const _: () = {
    assert!(offset_of!(FireRecord, event_id) == offset_of!(PyMonitoringEvent, event));
    assert!(offset_of!(FireRecord, tool) == offset_of!(PyMonitoringEvent, tool_id));
    assert!(offset_of!(FireRecord, codelike) == offset_of!(PyMonitoringEvent, codelike));
    assert!(offset_of!(FireRecord, offset) == offset_of!(PyMonitoringEvent, offset));
    assert!(offset_of!(FireRecord, lineno) == offset_of!(PyMonitoringEvent, lineno));
    assert!(offset_of!(FireRecord, arg0) == offset_of!(PyMonitoringEvent, arg0));
    assert!(offset_of!(FireRecord, arg1) == offset_of!(PyMonitoringEvent, arg1));
    assert!(size_of::<FireRecord>() >= size_of::<PyMonitoringEvent>());
    assert!(std::mem::align_of::<FireRecord>() >= std::mem::align_of::<PyMonitoringEvent>());
    assert!(size_of::<Option<crate::object::ObjectRef>>() == size_of::<*mut PyObject>());
};

impl CCallback {
    #[inline(always)]
    fn invoke(&self, record: *const PyMonitoringEvent) -> Outcome {
        // SAFETY: the host registered `func` to be called with `data`; the
        // record lives for the call.
        let result = unsafe { (self.func)(self.data, record) };
        Outcome::from_answer(result)
    }
}

/// The [`Direct`] call of a C callback: `data` and `func` are the words of
/// the `Direct` that [`CCallback::direct`] built, and nothing else builds
/// one with this function. Answers the callback's own code
/// (`PY_MONITORING_DISABLE` is [`Outcome::Disable`]'s code). `data` and the
/// record arrive where the C function takes them: a filled record is one
/// test and a tail jump.
fn call_c(data: usize, record: &FireRecord, func: usize) -> i32 {
    // SAFETY: `func` is a `CallbackFn` turned into a word by
    // `CCallback::direct` (the only place this function is paired with
    // words), so turning it back gives the host's function.
    let func = unsafe { std::mem::transmute::<usize, CallbackFn>(func) };
    let data = data as *mut c_void;
    if !record.args_filled() {
        return call_filled(func, data, record);
    }
    // SAFETY: the host registered `func` to be called with `data`; the
    // record's first bytes are a `PyMonitoringEvent` (checked above) with
    // every field set, and it lives for the call.
    unsafe { func(data, std::ptr::from_ref(record).cast()) }
}

const _: () = assert!(PY_MONITORING_DISABLE == Outcome::Disable as c_int);

/// A record with an absent argument stored as 0 (fired through the Rust
/// API, or an exception event with no host exception): copied with
/// `PyMonitoring_MISSING` in its place.
#[cold]
#[inline(never)]
fn call_filled(func: CallbackFn, data: *mut c_void, ev: &FireRecord) -> c_int {
    let record = PyMonitoringEvent {
        event: ev.event_id,
        tool_id: ev.tool,
        codelike: ev.codelike.addr() as *mut PyObject,
        offset: ev.offset,
        lineno: ev.lineno,
        arg0: pointer(ev.arg0),
        arg1: pointer(ev.arg1),
    };
    // SAFETY: as in `call_c`; the copy lives for the call.
    unsafe { func(data, &record) }
}

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
        self.invoke(&record)
    }

    #[inline]
    fn call_fire(&self, record: &FireRecord) -> Outcome {
        Outcome::from_answer(call_c(self.data as usize, record, self.func as usize))
    }

    fn direct(&self) -> Option<Direct> {
        Some(Direct::new(
            call_c,
            [self.data as usize, self.func as usize],
        ))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
