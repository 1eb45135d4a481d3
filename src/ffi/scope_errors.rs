//! `PyMonitoring_EnterScope`'s cold answers to bad input, shared by the
//! scalar refresh (`ffi::scope`) and the SIMD kernels (`ffi::simd`), which
//! tail-call them.

use std::ffi::c_int;

use super::guard::{guard, status};
use super::types::Py_ssize_t;
use crate::error::Error;
use crate::scope;

/// `extern "C"` (cannot unwind: guarded) so callers need no landing pad
/// and can tail-call it.
#[cold]
#[inline(never)]
pub(super) extern "C" fn enter_scope_too_large(length: Py_ssize_t) -> c_int {
    guard!("PyMonitoring_EnterScope", -1, {
        status(Err(Error::value(format!("length {length} is too large"))))
    })
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
    if !HOST {
        return enter_scope_bad_event(events);
    }
    guard!("PyMonitoring_EnterScope", -1, {
        status(Err(scope::invalid_event_313(events)))
    })
}

#[cold]
#[inline(never)]
pub(super) fn enter_scope_bad_event(events: &[u8]) -> c_int {
    guard!("PyMonitoring_EnterScope", -1, {
        status(Err(scope::invalid_event(events)))
    })
}
