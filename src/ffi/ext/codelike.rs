//! Local events and armed sites for code-likes (`docs/EXTENSIONS.md`).

use std::ffi::c_int;

use crate::ext::codelike::{self, ArmKind};
use crate::ffi::guard::{guard, require, status};
use crate::ffi::scope::{enter_scope_invalid, refresh_validated, scope_args_valid};
use crate::ffi::types::{
    PyMonitoringState, PyObject, Py_ssize_t, PY_MONITORING_ARM_LINES, PY_MONITORING_ARM_OFFSETS,
};
use crate::ffi::{object, slice_or_empty};
use crate::object::ObjectRef;
use crate::registry;

/// Set tool `tool`'s local events for the code-like `codelike` to `events`
/// (bits `1 << event`), as `sys.monitoring.set_local_events` does for a
/// code object: a scope entered with `PyMonitoring_EnterCodeScope` for that
/// code-like gives each slot the tools of its event globally OR the
/// code-like's local tools.
///
/// Local events are ids 0–10 (PY_START … STOP_ITERATION); the legacy
/// BRANCH stands for BRANCH_LEFT|BRANCH_RIGHT; C_RETURN and C_RAISE are
/// allowed only together with CALL and ride on it. `events == 0` removes
/// the tool's local events for the code-like. A change moves the global
/// version; the same set again does not. `ClearToolId`/`FreeToolId` drop
/// the tool's local events. `codelike` is an identity only: never
/// dereferenced, retained or freed (an entry outlives the object unless
/// removed). At most 65536 code-likes hold local events or armed sites at
/// once.
///
/// Returns 0, or -1 with a ValueError and nothing changed when `codelike`
/// is NULL (`codelike must not be NULL`), `tool` is out of range
/// (`invalid tool %d (must be between 0 and 5)`), C_RETURN/C_RAISE come
/// without CALL (`cannot set C_RETURN or C_RAISE events independently`),
/// a non-local event is in the set (`invalid local event set 0x%x`),
/// the tool is not in use (`tool %d is not in use`) or the table is full.
/// Thread-safe.
#[no_mangle]
pub extern "C" fn PyMonitoring_SetLocalEvents(
    tool: c_int,
    codelike: *mut PyObject,
    events: u32,
) -> c_int {
    guard!("PyMonitoring_SetLocalEvents", -1, {
        let Some(code) = object(codelike) else {
            require!(false, "codelike must not be NULL");
            unreachable!()
        };
        status(codelike::set_local_events(tool.into(), code, events))
    })
}

/// Read tool `tool`'s local events for `codelike` into `*events` (0 when
/// it has none, also for a tool not in use; BRANCH reads back as
/// BRANCH_LEFT|BRANCH_RIGHT, C_RETURN/C_RAISE as CALL).
///
/// Returns 0, or -1 with a ValueError, writing nothing, when `codelike` or
/// `events` is NULL or `tool` is out of range. Thread-safe.
///
/// # Safety
/// `events` must be NULL or valid for writing.
#[no_mangle]
pub unsafe extern "C" fn PyMonitoring_GetLocalEvents(
    tool: c_int,
    codelike: *mut PyObject,
    events: *mut u32,
) -> c_int {
    guard!("PyMonitoring_GetLocalEvents", -1, {
        require!(!codelike.is_null(), "codelike must not be NULL");
        require!(!events.is_null(), "events must not be NULL");
        let code = ObjectRef::from_addr(codelike as usize).expect("non-NULL");
        match codelike::get_local_events(tool.into(), code) {
            Ok(set) => {
                // SAFETY: checked non-NULL; writable by the caller's contract.
                unsafe { *events = set.bits() };
                0
            }
            Err(e) => status(Err(e)),
        }
    })
}

/// `PyMonitoring_EnterScope` for a scope of one code-like: when `*version`
/// equals the global version this returns 0 at once and reads and writes
/// nothing else (the same cost as `PyMonitoring_EnterScope`). Otherwise
/// each `states[i].active` gets the tools of `event_types[i]` globally OR
/// `codelike`'s local tools for it (see `PyMonitoring_SetLocalEvents`;
/// C_RETURN and C_RAISE slots get CALL's tools, BRANCH slots
/// BRANCH_RIGHT's; with `PY_MONITORING_OPT_ACTIVE_NEEDS_CALLBACK`, only
/// tools with a callback for the slot's event), `opaque` is left alone
/// (except in the `PY_MONITORING_OPT_LASTING_DISABLE` mode, as for
/// `PyMonitoring_EnterScope`) and `*version` is updated. Enter a state array (with its version word)
/// always with the same code-like: the version says nothing about which
/// code-like the slots were filled for.
///
/// Returns 0, or -1 with a ValueError and nothing written when `codelike`
/// or `version` is NULL, `length` is negative or too large, `states` or
/// `event_types` is NULL while `length > 0`, or (on refresh) an event id
/// is 19 or more. No lock is taken: the code-like's settings are read
/// through this thread's copy of an immutable snapshot (the first refresh
/// on a thread after a change fetches the new snapshot under the
/// registry's mutex).
///
/// # Safety
/// `states` and `event_types` must point to `length` elements each. Any
/// thread may call this; a state array must not be used by two threads at
/// once.
#[no_mangle]
pub unsafe extern "C" fn PyMonitoring_EnterCodeScope(
    states: *mut PyMonitoringState,
    version: *mut u64,
    event_types: *const u8,
    length: Py_ssize_t,
    codelike: *mut PyObject,
) -> c_int {
    let valid = !codelike.is_null() && scope_args_valid(states, version, event_types, length);
    // SAFETY: `version` is dereferenced only when valid (non-NULL).
    if valid && unsafe { *version } == registry::version_relaxed() {
        return 0;
    }
    // SAFETY: forwarded caller contract.
    unsafe { enter_code_scope_slow(states, version, event_types, length, codelike) }
}

/// Invalid arguments or a stale version: `PyMonitoring_EnterScope`'s
/// checks and answers (after the code-like's), then the core's reference
/// refresh with the code-like's local tools.
///
/// # Safety
/// As `PyMonitoring_EnterCodeScope`.
#[cold]
#[inline(never)]
unsafe extern "C" fn enter_code_scope_slow(
    states: *mut PyMonitoringState,
    version: *mut u64,
    event_types: *const u8,
    length: Py_ssize_t,
    codelike: *mut PyObject,
) -> c_int {
    guard!("PyMonitoring_EnterCodeScope", -1, {
        let Some(code) = object(codelike) else {
            require!(false, "codelike must not be NULL");
            unreachable!()
        };
        if !scope_args_valid(states, version, event_types, length) {
            return enter_scope_invalid(states, version, event_types, length);
        }
        // SAFETY: checked as `PyMonitoring_EnterScope` checks; forwarded
        // caller contract.
        unsafe {
            refresh_validated(states, version, event_types, length as usize, || {
                codelike::local_masks(code)
            })
        }
    })
}

/// Arm tool `tool` at `codelike` for the `n` sites in `sites`, replacing
/// any arming of that (tool, code-like): while armed, the tool's LOCAL
/// events (ids 0–10) fired with `codelike` reach its callback only at the
/// armed sites. `kind` is `PY_MONITORING_ARM_OFFSETS` (every local event
/// is filtered by its `offset`) or `PY_MONITORING_ARM_LINES` (LINE events
/// are filtered by their `lineno`; the other local events pass). A skipped
/// site calls no callback and leaves the state's `active` bit set (a slot
/// serves many sites). Non-local events are never filtered. `n == 0` arms
/// an empty set (every local event of that pair is skipped). The sites are
/// copied (duplicates are ignored); at most 1048576 per arming. The global
/// version does not move. `ClearToolId`/`FreeToolId` drop the tool's
/// arming; `PyMonitoring_DisarmSites` removes one.
///
/// Returns 0, or -1 with a ValueError and nothing changed when `codelike`
/// is NULL, `tool` is out of range, `kind` is neither kind
/// (`invalid kind %d (must be PY_MONITORING_ARM_OFFSETS or PY_MONITORING_ARM_LINES)`),
/// `n` is negative (`n must be non-negative (got %zd)`), `sites` is NULL
/// while `n > 0`, `n` is over the limit (`too many sites (%zd; the limit is 1048576)`),
/// a site is negative (`invalid site %d at sites[%zd] (must be non-negative)`),
/// the tool is not in use, or the code-like table is full. Thread-safe;
/// fires running meanwhile on other threads see the old or the new arming,
/// and read it without a lock.
///
/// # Safety
/// `sites` must be NULL or point to `n` readable `int32_t`.
#[no_mangle]
pub unsafe extern "C" fn PyMonitoring_ArmSites(
    tool: c_int,
    codelike: *mut PyObject,
    kind: c_int,
    sites: *const i32,
    n: Py_ssize_t,
) -> c_int {
    guard!("PyMonitoring_ArmSites", -1, {
        require!(!codelike.is_null(), "codelike must not be NULL");
        if let Err(e) = registry::check_tool(tool.into()) {
            return status(Err(e));
        }
        let kind = match kind {
            PY_MONITORING_ARM_OFFSETS => ArmKind::Offsets,
            PY_MONITORING_ARM_LINES => ArmKind::Lines,
            _ => {
                require!(
                    false,
                    "invalid kind {kind} (must be PY_MONITORING_ARM_OFFSETS or PY_MONITORING_ARM_LINES)"
                );
                unreachable!()
            }
        };
        require!(n >= 0, "n must be non-negative (got {n})");
        require!(
            n == 0 || !sites.is_null(),
            "sites must not be NULL when n > 0"
        );
        require!(
            n as usize <= codelike::MAX_SITES,
            "too many sites ({n}; the limit is {})",
            codelike::MAX_SITES
        );
        let code = ObjectRef::from_addr(codelike as usize).expect("non-NULL");
        // SAFETY: non-NULL when `n > 0` (checked), and `n` readable elements
        // by the caller's contract; `n` is bounded above.
        let sites = unsafe { slice_or_empty(sites, n as usize) };
        status(codelike::arm_sites(tool.into(), code, kind, sites))
    })
}

/// Remove tool `tool`'s arming at `codelike`: its local events fired with
/// `codelike` reach it at every site again. Nothing armed is no error.
///
/// Returns 0, or -1 with a ValueError when `codelike` is NULL, `tool` is
/// out of range or not in use. Thread-safe.
#[no_mangle]
pub extern "C" fn PyMonitoring_DisarmSites(tool: c_int, codelike: *mut PyObject) -> c_int {
    guard!("PyMonitoring_DisarmSites", -1, {
        let Some(code) = object(codelike) else {
            require!(false, "codelike must not be NULL");
            unreachable!()
        };
        status(codelike::disarm_sites(tool.into(), code))
    })
}
