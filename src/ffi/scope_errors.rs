//! `PyMonitoring_EnterScope`'s cold answers to bad input, shared by the
//! scalar refresh (`ffi::scope`) and the SIMD kernels (`ffi::simd`), which
//! tail-call them.

use std::ffi::c_int;

use super::guard::{guard, status};
use super::types::Py_ssize_t;
use crate::error::Error;
use crate::scope;

/// `PyMonitoring_EnterScope`'s answer to bad input: -1 with the error
/// `error` makes (made inside the guard, so a panic there is reported too).
#[inline(always)]
fn enter_scope_error(error: impl FnOnce() -> Error) -> c_int {
    guard!("PyMonitoring_EnterScope", -1, { status(Err(error())) })
}

/// `extern "C"` (cannot unwind: guarded) so callers need no landing pad
/// and can tail-call it.
#[cold]
#[inline(never)]
pub(super) extern "C" fn enter_scope_too_large(length: Py_ssize_t) -> c_int {
    enter_scope_error(|| Error::value(format!("length {length} is too large")))
}

/// [`enter_scope_bad_event`] from raw arguments (with `HOST`, for ids in
/// CPython 3.13's numbering, the host's: the SIMD kernels'; the scalar
/// refresh reports those through the translation); `extern "C"` (cannot
/// unwind) so the refreshes can tail-call it.
///
/// # Safety
/// `event_types` points to `len` readable bytes.
#[cold]
#[inline(never)]
pub(super) unsafe extern "C" fn bad_event<const HOST: bool>(
    event_types: *const u8,
    len: usize,
) -> c_int {
    // SAFETY: forwarded caller contract.
    let events = unsafe { std::slice::from_raw_parts(event_types, len) };
    enter_scope_error(|| {
        if HOST {
            scope::invalid_event_313(events)
        } else {
            scope::invalid_event(events)
        }
    })
}

#[cold]
#[inline(never)]
pub(super) fn enter_scope_bad_event(events: &[u8]) -> c_int {
    enter_scope_error(|| scope::invalid_event(events))
}
