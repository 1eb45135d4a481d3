//! The thread's error indicator.

use std::ffi::{c_char, c_int, CStr};

use super::guard::{guard, require};
use super::types::{PyObject, PY_MONITORING_ERR_RUNTIME, PY_MONITORING_ERR_VALUE};
use super::{object, pointer};
use crate::error::{self, Error, ErrorKind, Pending};

/// 1 when the calling thread's error indicator holds an error or a host
/// exception, else 0.
#[no_mangle]
pub extern "C" fn PyMonitoring_ErrOccurred() -> c_int {
    guard!("PyMonitoring_ErrOccurred", 0, {
        c_int::from(error::occurred())
    })
}

/// Clear the calling thread's error indicator.
#[no_mangle]
pub extern "C" fn PyMonitoring_ErrClear() {
    guard!("PyMonitoring_ErrClear", (), { error::clear() })
}

/// The kind of what the calling thread's indicator holds:
/// `PY_MONITORING_ERR_NONE` (0), `PY_MONITORING_ERR_VALUE`,
/// `PY_MONITORING_ERR_RUNTIME` or `PY_MONITORING_ERR_HOST`.
#[no_mangle]
pub extern "C" fn PyMonitoring_ErrKind() -> c_int {
    guard!("PyMonitoring_ErrKind", 0, {
        error::kind().map_or(0, |k| k as c_int)
    })
}

/// The message of the calling thread's error, or NULL when none is set. A
/// host exception reads as "exception object set by the host". The string
/// stays valid until the indicator changes.
#[no_mangle]
pub extern "C" fn PyMonitoring_ErrMessage() -> *const c_char {
    guard!("PyMonitoring_ErrMessage", std::ptr::null(), {
        error::inspect(|p| match p {
            None => std::ptr::null(),
            Some(Pending::Error(e)) => e.message_with_nul().as_ptr() as *const c_char,
            Some(Pending::Host(_)) => c"exception object set by the host".as_ptr(),
        })
    })
}

/// Set the calling thread's error to `kind` (`PY_MONITORING_ERR_VALUE` or
/// `PY_MONITORING_ERR_RUNTIME`) with `msg` (copied; invalid UTF-8 is
/// replaced). This is how a callback reports the error behind its -1.
///
/// Returns 0 with that error set, or -1 with a ValueError when `kind` is not
/// one of the two or `msg` is NULL.
///
/// # Safety
/// `msg` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn PyMonitoring_ErrSetString(kind: c_int, msg: *const c_char) -> c_int {
    guard!("PyMonitoring_ErrSetString", -1, {
        let kind = match kind {
            PY_MONITORING_ERR_VALUE => ErrorKind::Value,
            PY_MONITORING_ERR_RUNTIME => ErrorKind::Runtime,
            other => {
                require!(false, "invalid error kind {other} (use PY_MONITORING_ERR_VALUE or PY_MONITORING_ERR_RUNTIME)");
                unreachable!()
            }
        };
        require!(!msg.is_null(), "msg must not be NULL");
        // SAFETY: non-NULL and NUL-terminated by the caller's contract.
        let text = unsafe { CStr::from_ptr(msg) }.to_string_lossy();
        error::set(Error::new(kind, text));
        0
    })
}

/// Make `exc` the calling thread's current exception (the host's
/// `PyErr_SetRaisedException`); NULL clears the indicator. The library keeps
/// only the pointer: no reference is taken.
#[no_mangle]
pub extern "C" fn PyMonitoring_SetRaisedException(exc: *mut PyObject) {
    guard!("PyMonitoring_SetRaisedException", (), {
        error::set_raised(object(exc))
    })
}

/// Take the calling thread's current host exception and clear the indicator.
/// Returns NULL when no host exception is set; a library error is then left
/// in place (read it with `PyMonitoring_ErrMessage`). Callable from any
/// thread.
///
/// While no thread holds a host exception and no host is installed (the
/// count `_PyMonitoring_RaisedExceptions` points to reads 0) it returns NULL
/// at once, without reaching the thread's state; with `PYMONITORING_INLINE`
/// the header's `static inline` version makes that test in the caller and
/// calls `_PyMonitoring_GetRaisedException` only when the count is not 0
/// (`docs/CONCURRENCY.md`, "The raised-exception count").
#[no_mangle]
#[cfg(not(pymonitoring_inline))]
pub extern "C" fn PyMonitoring_GetRaisedException() -> *mut PyObject {
    if nothing_raised() {
        return std::ptr::null_mut();
    }
    _PyMonitoring_GetRaisedException()
}

/// The same as `PyMonitoring_GetRaisedException` without its test of the
/// count: the entry point the header's `static inline`
/// `PyMonitoring_GetRaisedException` (with `PYMONITORING_INLINE`) calls
/// when the count is not 0.
#[no_mangle]
#[inline(never)]
pub extern "C" fn _PyMonitoring_GetRaisedException() -> *mut PyObject {
    guard!("PyMonitoring_GetRaisedException", std::ptr::null_mut(), {
        match error::take_raised() {
            Some(obj) => pointer(Some(obj)),
            None => std::ptr::null_mut(),
        }
    })
}

/// Whether the count of threads holding a host exception (`error::RAISED`,
/// relaxed) is 0, loaded by its address (`load_by_address!`: one load,
/// not two through the GOT).
#[inline(always)]
fn nothing_raised() -> bool {
    #[cfg(all(target_arch = "x86_64", not(loom)))]
    {
        // SAFETY: an aligned 8-byte load of `error::RAISED`, which lives
        // for the whole process.
        let v =
            unsafe { load_by_address!(u64, error::RAISED, 0, nostack, preserves_flags, readonly) };
        v == 0
    }
    #[cfg(not(all(target_arch = "x86_64", not(loom))))]
    {
        error::RAISED.load(std::sync::atomic::Ordering::Relaxed) == 0
    }
}

/// The count of threads whose indicator holds a host exception (forced
/// non-zero for good once a host is installed), for the header's inline
/// `PyMonitoring_GetRaisedException` (`PYMONITORING_INLINE`): a constant
/// pointer, as `_PyMonitoring_GlobalVersion` is. While it reads 0 the
/// calling thread holds none. Read it, never write it.
#[no_mangle]
#[cfg(not(loom))]
pub static _PyMonitoring_RaisedExceptions: &std::sync::atomic::AtomicU64 = &error::RAISED;
