//! The opt-in options (`docs/EXTENSIONS.md`).

use std::ffi::c_int;

use crate::ext::options;
use crate::ffi::guard::{guard, require, status};

/// Replace the process-wide options: a bitwise OR of
/// `PY_MONITORING_OPT_*` (0, the default, is CPython-exact behaviour).
///
/// A change moves the global version, so every scope refreshes under the
/// new rules at its next `PyMonitoring_EnterScope`; while nothing was ever
/// published (version 0, no tool in use) it moves none, as every scope's
/// masks are 0 under any options. Returns 0, or -1 with a
/// ValueError when `options` has a bit this version does not know (nothing
/// changes then). Thread-safe; fires running on other threads see the old
/// or the new options.
#[no_mangle]
pub extern "C" fn PyMonitoring_SetOptions(options: u32) -> c_int {
    guard!("PyMonitoring_SetOptions", -1, {
        status(options::set(options))
    })
}

/// Read the process-wide options into `*options`.
///
/// Returns 0, or -1 with a ValueError when `options` is NULL. Thread-safe.
///
/// # Safety
/// `options` must be NULL or point to a writable `uint32_t`.
#[no_mangle]
pub unsafe extern "C" fn PyMonitoring_GetOptions(options: *mut u32) -> c_int {
    guard!("PyMonitoring_GetOptions", -1, {
        require!(!options.is_null(), "options must not be NULL");
        // SAFETY: checked non-NULL; writable by the caller's contract.
        unsafe { *options = options::get() };
        0
    })
}

const _: () =
    assert!(crate::ffi::types::PY_MONITORING_OPT_LASTING_DISABLE == options::LASTING_DISABLE);
const _: () = assert!(
    crate::ffi::types::PY_MONITORING_OPT_ACTIVE_NEEDS_CALLBACK == options::ACTIVE_NEEDS_CALLBACK
);
const _: () = assert!(
    crate::ffi::types::PY_MONITORING_OPT_CPYTHON_313_EVENT_IDS == options::CPYTHON_313_EVENT_IDS
);
