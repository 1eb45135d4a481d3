//! The registry: the C twin of `sys.monitoring`.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::Arc;

use super::guard::{guard, require, status};
use super::handler::CCallback;
use super::types::{PyMonitoringCallback, PyObject};
use crate::registry::{self, Handler};

/// Claim tool id `tool` (0–5) under `name` (copied).
///
/// Returns 0, or -1 with a ValueError when `tool` is out of range
/// (`invalid tool %d (must be between 0 and 5)`), `name` is NULL or not UTF-8,
/// or the tool is in use (`tool %d is already in use`). Thread-safe.
///
/// # Safety
/// `name` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn PyMonitoring_UseToolId(tool: c_int, name: *const c_char) -> c_int {
    guard!("PyMonitoring_UseToolId", -1, {
        require!(!name.is_null(), "tool name must not be NULL");
        // SAFETY: non-NULL and NUL-terminated by the caller's contract.
        let name = unsafe { CStr::from_ptr(name) };
        let Ok(name) = name.to_str() else {
            require!(false, "tool name must be valid UTF-8");
            unreachable!()
        };
        status(registry::use_tool_id(tool.into(), name))
    })
}

/// Drop tool `tool`'s events and callbacks, keeping the claim (CPython 3.14's
/// `clear_tool_id`). For a tool in use this changes the global version.
///
/// Returns 0 (also for a tool not in use, which is left alone), or -1 with a
/// ValueError for an out-of-range id. After it returns no new invocation of
/// the tool's callbacks starts; see `PyMonitoring_WaitForCallbacks`.
/// Thread-safe.
#[no_mangle]
pub extern "C" fn PyMonitoring_ClearToolId(tool: c_int) -> c_int {
    guard!("PyMonitoring_ClearToolId", -1, {
        status(registry::clear_tool_id(tool.into()))
    })
}

/// Clear tool `tool` (as `PyMonitoring_ClearToolId`), then release its claim.
///
/// Returns 0 (also for a tool not in use), or -1 with a ValueError for an
/// out-of-range id. Thread-safe.
#[no_mangle]
pub extern "C" fn PyMonitoring_FreeToolId(tool: c_int) -> c_int {
    guard!("PyMonitoring_FreeToolId", -1, {
        status(registry::free_tool_id(tool.into()))
    })
}

/// Read tool `tool`'s name.
///
/// Returns 1 when the tool is in use: the name is copied into `buf`,
/// truncated to `len - 1` bytes and NUL-terminated (nothing is copied when
/// `len` is 0), and `*needed` (when not NULL) gets the name's full length in
/// bytes, so `*needed >= len` reports a truncation. Returns 0 when the tool is
/// free: `buf[0]` becomes NUL when `len > 0` and `*needed` gets 0. Returns -1
/// with a ValueError, writing nothing, for an out-of-range id or a NULL `buf`
/// with `len > 0`. Thread-safe.
///
/// # Safety
/// `buf` must be NULL or writable for `len` bytes; `needed` NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn PyMonitoring_GetTool(
    tool: c_int,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> c_int {
    guard!("PyMonitoring_GetTool", -1, {
        require!(
            len == 0 || !buf.is_null(),
            "buf must not be NULL when len > 0"
        );
        let name = match registry::tool_name(tool.into()) {
            Ok(name) => name,
            Err(e) => return status(Err(e)),
        };
        let bytes = name.as_deref().unwrap_or("").as_bytes();
        if len > 0 {
            let n = bytes.len().min(len - 1);
            // SAFETY: `buf` is writable for `len > n` bytes.
            unsafe {
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf as *mut u8, n);
                *buf.add(n) = 0;
            }
        }
        if !needed.is_null() {
            // SAFETY: non-NULL, valid by the caller's contract.
            unsafe { *needed = bytes.len() };
        }
        c_int::from(name.is_some())
    })
}

/// Set tool `tool`'s global events to `set` (bits `1 << event`).
///
/// BRANCH stands for BRANCH_LEFT|BRANCH_RIGHT; C_RETURN and C_RAISE are
/// allowed only together with CALL and ride on it. A change of the set
/// changes the global version. Returns 0, or -1 with a ValueError for an
/// out-of-range id, `invalid event set 0x%x` (bits above 18),
/// `cannot set C_RETURN or C_RAISE events independently`, or
/// `tool %d is not in use`. Thread-safe.
#[no_mangle]
pub extern "C" fn PyMonitoring_SetEvents(tool: c_int, set: u32) -> c_int {
    guard!("PyMonitoring_SetEvents", -1, {
        status(registry::set_events(tool.into(), set))
    })
}

/// Read tool `tool`'s global events into `*set` (0 for a free tool).
///
/// Returns 0, or -1 with a ValueError, writing nothing, for an out-of-range
/// id or a NULL `set`. Thread-safe.
///
/// # Safety
/// `set` must be NULL or valid for writing.
#[no_mangle]
pub unsafe extern "C" fn PyMonitoring_GetEvents(tool: c_int, set: *mut u32) -> c_int {
    guard!("PyMonitoring_GetEvents", -1, {
        require!(!set.is_null(), "set must not be NULL");
        match registry::get_events(tool.into()) {
            Ok(events) => {
                // SAFETY: non-NULL, valid by the caller's contract.
                unsafe { *set = events.bits() };
                0
            }
            Err(e) => status(Err(e)),
        }
    })
}

/// Install `fn` with `data` as tool `tool`'s callback for event `event`, or
/// remove the callback when `fn` is NULL. BRANCH installs it for both
/// BRANCH_LEFT and BRANCH_RIGHT.
///
/// Returns 0, or -1 with a ValueError for an out-of-range tool id,
/// `invalid event %d` (not 0–18), or `tool %d is not in use`. The global
/// version does not change. After it returns, no new invocation of the old
/// callback starts; invocations already running on other threads may still be
/// running: call `PyMonitoring_WaitForCallbacks` before freeing the old
/// `data`. Thread-safe; may be called from inside a callback.
///
/// # Safety
/// `fn`, when not NULL, must be callable with `data` from any thread that
/// fires events until it is removed and the wait has returned, and must
/// return normally (see `PyMonitoringCallback`: no `pthread_exit`,
/// cancellation, `longjmp` or exception out of it).
#[no_mangle]
pub unsafe extern "C" fn PyMonitoring_RegisterCallback(
    tool: c_int,
    event: c_int,
    r#fn: PyMonitoringCallback,
    data: *mut c_void,
) -> c_int {
    guard!("PyMonitoring_RegisterCallback", -1, {
        let handler = r#fn.map(|func| Arc::new(CCallback { func, data }) as Arc<dyn Handler>);
        status(registry::register_callback(tool.into(), event.into(), handler).map(drop))
    })
}

/// Read tool `tool`'s callback for `event` (BRANCH reads BRANCH_RIGHT's):
/// `*fn` gets the function (NULL when none) and `*data`, when `data` is not
/// NULL, its data.
///
/// Returns 0, or -1 with a ValueError, writing nothing, for an out-of-range
/// tool id, an invalid event, or a NULL `fn`. A callback installed through
/// the Rust API reads back as NULL. Thread-safe.
///
/// # Safety
/// `fn` must be valid for writing; `data` NULL or valid for writing.
#[no_mangle]
pub unsafe extern "C" fn PyMonitoring_GetCallback(
    tool: c_int,
    event: c_int,
    r#fn: *mut PyMonitoringCallback,
    data: *mut *mut c_void,
) -> c_int {
    guard!("PyMonitoring_GetCallback", -1, {
        require!(!r#fn.is_null(), "fn must not be NULL");
        let handler = match registry::get_callback(tool.into(), event.into()) {
            Ok(h) => h,
            Err(e) => return status(Err(e)),
        };
        let c = handler
            .as_deref()
            .and_then(|h| h.as_any().downcast_ref::<CCallback>());
        // SAFETY: checked non-NULL / valid by the caller's contract.
        unsafe {
            *r#fn = c.map(|c| c.func);
            if !data.is_null() {
                *data = c.map_or(std::ptr::null_mut(), |c| c.data);
            }
        }
        0
    })
}

/// Re-enable every DISABLEd slot: changes the global version, so every scope
/// refreshes on its next `PyMonitoring_EnterScope`. Returns 0. Thread-safe.
#[no_mangle]
pub extern "C" fn PyMonitoring_RestartEvents() -> c_int {
    guard!("PyMonitoring_RestartEvents", -1, {
        registry::restart_events();
        0
    })
}

/// The current global version (starts at 0; changes on every registry change
/// that can alter what a scope sees). For introspection; never fails.
#[no_mangle]
pub extern "C" fn PyMonitoring_GetVersion() -> u64 {
    registry::version()
}

/// Wait until every dispatch that was running on another thread when this
/// was called has finished, so that the `data` of callbacks removed before
/// the call can be freed.
///
/// Returns 0. From inside a callback the calling thread's own dispatch is not
/// waited for; if another thread's callback is at the same time waiting for
/// this thread, returns -1 with a RuntimeError instead of deadlocking. Any
/// thread may wait, also from a thread-exit destructor (`pthread_key_create`,
/// `tss_create`, C++ or Rust `thread_local`), and in a child of `fork()`,
/// where the parent's other threads' dispatches do not exist.
#[no_mangle]
pub extern "C" fn PyMonitoring_WaitForCallbacks() -> c_int {
    guard!("PyMonitoring_WaitForCallbacks", -1, {
        status(crate::quiesce::wait_for_callbacks())
    })
}

/// The MISSING sentinel: a stable, non-NULL object identity delivered for
/// absent object arguments. Never dereference it. The header's
/// `PyMonitoring_MISSING` macro calls this. With a host whose
/// `PyMonitoringHost.missing` is set (`PyMonitoring_SetHost`), that object.
#[no_mangle]
pub extern "C" fn PyMonitoring_GetMissing() -> *mut PyObject {
    match crate::host::get().and_then(|h| h.missing()) {
        Some(missing) => super::pointer(Some(missing)),
        None => super::missing(),
    }
}
