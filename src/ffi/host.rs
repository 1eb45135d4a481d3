//! `PyMonitoring_SetHost`: a host runtime's exception state (`docs/HOSTS.md`).

use std::ffi::{c_char, c_int};

use super::guard::{guard, require, status};
use super::object;
use super::types::PyObject;
use crate::error::{Error, ErrorKind};
use crate::host::{self, Host};
use crate::object::ObjectRef;

/// The `PyMonitoringHost` layout this library knows: `version` 1.
pub const PY_MONITORING_HOST_VERSION: u32 = 1;

/// What a host runtime gives the library (`PyMonitoring_SetHost`): its
/// exception state, so that code compiled against CPython's header (which
/// sets exceptions with the host's `PyErr_*`) fires exception events with
/// the host's current exception, and errors the library raises become host
/// exceptions. CPython's own functions fit every field (`docs/HOSTS.md`).
///
/// Later versions append fields; the library reads only the fields of the
/// `version` given.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct PyMonitoringHost {
    /// `PY_MONITORING_HOST_VERSION`.
    pub version: u32,
    /// Required. Return the calling thread's current exception (a new
    /// reference) and clear it; NULL when none is set. CPython:
    /// `PyErr_GetRaisedException`.
    pub get_raised_exception: Option<unsafe extern "C" fn() -> *mut PyObject>,
    /// Required. Make `exc` the current exception, taking over the reference
    /// and releasing the exception it replaces; NULL clears. CPython:
    /// `PyErr_SetRaisedException`.
    pub set_raised_exception: Option<unsafe extern "C" fn(exc: *mut PyObject)>,
    /// Required. Raise a new exception of class `type` with the UTF-8
    /// `message`, replacing the current one. CPython: `PyErr_SetString`.
    pub set_string: Option<unsafe extern "C" fn(type_: *mut PyObject, message: *const c_char)>,
    /// Required: the class raised for bad arguments (`PyExc_ValueError`).
    pub value_error: *mut PyObject,
    /// Required: the class raised for other failures (`PyExc_RuntimeError`).
    pub runtime_error: *mut PyObject,
    /// Optional: the object delivered for absent object arguments and
    /// returned by `PyMonitoring_GetMissing` (the host's
    /// `sys.monitoring.MISSING`); NULL keeps the library's sentinel.
    pub missing: *mut PyObject,
}

/// The installed hooks, as the core's [`Host`]. Objects are kept as
/// identities (the classes and MISSING must live as long as the process).
struct CHost {
    get: unsafe extern "C" fn() -> *mut PyObject,
    set: unsafe extern "C" fn(*mut PyObject),
    set_string: unsafe extern "C" fn(*mut PyObject, *const c_char),
    value_error: ObjectRef,
    runtime_error: ObjectRef,
    missing: Option<ObjectRef>,
}

impl Host for CHost {
    fn take_exception(&self) -> Option<ObjectRef> {
        // SAFETY: the host's function, valid for the process by the
        // contract of `PyMonitoring_SetHost`.
        object(unsafe { (self.get)() })
    }

    fn restore_exception(&self, exc: Option<ObjectRef>) {
        let ptr = exc.map_or(std::ptr::null_mut(), |o| o.addr() as *mut PyObject);
        // SAFETY: as in `take_exception`; `exc` came from the host.
        unsafe { (self.set)(ptr) }
    }

    fn raise(&self, error: &Error) {
        let class = match error.kind() {
            ErrorKind::Value => self.value_error,
            ErrorKind::Runtime | ErrorKind::Host => self.runtime_error,
        };
        let message = error.message_with_nul().as_ptr() as *const c_char;
        // SAFETY: as in `take_exception`; `message` is NUL-terminated and
        // outlives the call.
        unsafe { (self.set_string)(class.addr() as *mut PyObject, message) }
    }

    fn missing(&self) -> Option<ObjectRef> {
        self.missing
    }
}

/// Install the host's exception state (`docs/HOSTS.md`). Call it once,
/// before anything is fired on any thread (before the first `Fire` call;
/// registering tools and entering scopes before it is fine). The struct is
/// copied; the functions and objects it names must stay valid for the rest
/// of the process.
///
/// From then on, on every thread: exception events take the host's current
/// exception (`get_raised_exception`), deliver it as `arg0`, and give it
/// back (`set_raised_exception`) when every callback succeeded; other
/// events take what is pending before the callbacks and give it back the
/// same way; every error the library reports (-1 from any function) is
/// raised in the host with `set_string` (ValueError or RuntimeError), and
/// a callback reports its failure by raising a host exception and returning
/// -1. `PyMonitoring_ErrOccurred`, `ErrClear`, `ErrKind` (always
/// `PY_MONITORING_ERR_HOST` when set), `ErrMessage`, `ErrSetString`,
/// `GetRaisedException` and `SetRaisedException` read and write the host's
/// indicator, with the host's reference rules. The hooks are called with
/// the host's own lock (the GIL) held by whoever calls the library, and
/// must not call the library.
///
/// Returns 0, or -1 with the error set (in the library's indicator, or the
/// host's when one is installed): a ValueError when `host` is NULL, its
/// `version` is not `PY_MONITORING_HOST_VERSION`, or a required field is
/// NULL; a RuntimeError when a host is already installed or an event was
/// already fired. Nothing changes on failure.
///
/// # Safety
/// `host` must be NULL or point to a readable `PyMonitoringHost` whose
/// functions and objects stay valid for the rest of the process.
#[no_mangle]
pub unsafe extern "C" fn PyMonitoring_SetHost(host: *const PyMonitoringHost) -> c_int {
    guard!("PyMonitoring_SetHost", -1, {
        require!(!host.is_null(), "host must not be NULL");
        // SAFETY: non-NULL; readable by the caller's contract. The version
        // is read first: later versions are longer, never shorter.
        let version = unsafe { (*host).version };
        require!(
            version == PY_MONITORING_HOST_VERSION,
            "unsupported PyMonitoringHost version {version} (this library knows version {PY_MONITORING_HOST_VERSION})"
        );
        // SAFETY: as above, a version-1 struct.
        let h = unsafe { *host };
        let Some(get) = h.get_raised_exception else {
            require!(false, "host->get_raised_exception must not be NULL");
            unreachable!()
        };
        let Some(set) = h.set_raised_exception else {
            require!(false, "host->set_raised_exception must not be NULL");
            unreachable!()
        };
        let Some(set_string) = h.set_string else {
            require!(false, "host->set_string must not be NULL");
            unreachable!()
        };
        let Some(value_error) = object(h.value_error) else {
            require!(false, "host->value_error must not be NULL");
            unreachable!()
        };
        let Some(runtime_error) = object(h.runtime_error) else {
            require!(false, "host->runtime_error must not be NULL");
            unreachable!()
        };
        status(host::install(Box::new(CHost {
            get,
            set,
            set_string,
            value_error,
            runtime_error,
            missing: object(h.missing),
        })))
    })
}
