//! The `PyMonitoring_Fire*Event` functions.
//!
//! The underscore functions are what objects compiled against CPython's
//! header link to. The plain ones are real exported functions for FFI
//! callers; with `PYMONITORING_INLINE` defined, the header replaces them with
//! `static inline` wrappers, as CPython's header does.

use std::cell::Cell;
use std::ffi::c_int;

use super::guard::{guard, require};
use super::object;
use super::types::{PyMonitoringState, PyObject};
use crate::dispatch::{self, FireRecord, Firing};
use crate::event::Event;
use crate::ext::lasting;
use crate::object::ObjectRef;
use crate::scope::SlotState;

/// Fire through the core after checking the pointers.
///
/// # Safety
/// `state`, when not NULL, points to a valid `PyMonitoringState`.
#[inline(always)]
unsafe fn fire(name: &'static str, state: *mut PyMonitoringState, firing: Option<Firing>) -> c_int {
    let Some(firing) = firing else {
        return fire_invalid(name, state);
    };
    if state.is_null() {
        return fire_invalid(name, state);
    }
    // SAFETY: non-NULL, valid by the caller's contract; `SlotState` has
    // `PyMonitoringState`'s layout and is made of `Cell`s because callbacks
    // may re-enter a scope on the same array.
    let slot = unsafe { &*(state as *const SlotState) };
    // Built once per fire, as C callbacks receive it (absent arguments hold
    // PyMonitoring_MISSING). A slot marked by the lasting-DISABLE mode needs
    // nothing else here: local events took `fire_marked` at their entry, and
    // the mode leaves the other events CPython's rules.
    let mut record = FireRecord::new(firing, super::object(super::missing()));
    fire_checked(name, &slot.active, &mut record)
}

/// The guarded dispatch, inlined into every fire function: the entry's
/// frame then holds the record, the thread-local lookup needs no saved
/// arguments (everything but `active` is in the record) and the panic
/// guard's landing pad knows `name` as a constant (out of line, a shared
/// guard cost 12 instructions a fire in saved registers and argument moves).
#[inline(always)]
fn fire_checked(name: &'static str, active: &Cell<u8>, record: &mut FireRecord) -> c_int {
    guard!(name, -1, {
        match dispatch::fire_record(active, record) {
            Ok(()) => 0,
            Err(_) => -1,
        }
    })
}

/// Whether `state` is a slot refreshed in the lasting-DISABLE mode (marked
/// in `opaque`, the byte next to `active`; `crate::ext::lasting`). Tested first
/// by the local events' entry points, so that a fire at a remembered
/// DISABLEd site is settled before any record is built.
///
/// # Safety
/// `state`, when not NULL, points to a valid `PyMonitoringState`.
#[inline(always)]
unsafe fn marked(state: *const PyMonitoringState) -> bool {
    // SAFETY: dereferenced only when non-NULL.
    !state.is_null() && unsafe { (*state).opaque } & lasting::SLOT_MARK != 0
}

/// The firing of a local event from an entry point's raw arguments: `a`
/// and `b` are the event's extra arguments (LINE's `lineno`; the object
/// arguments otherwise).
#[inline(always)]
fn local_firing(event: Event, code: ObjectRef, offset: i32, a: usize, b: usize) -> Firing {
    let firing = Firing::new(event, code, offset);
    match event {
        Event::Line => Firing {
            lineno: a as c_int,
            ..firing
        },
        Event::Call => Firing {
            arg0: object(a as *mut PyObject),
            arg1: object(b as *mut PyObject),
            ..firing
        },
        Event::PyStart | Event::PyResume => firing,
        _ => Firing {
            arg0: object(a as *mut PyObject),
            ..firing
        },
    }
}

/// A local event fired on a marked slot (see [`marked`]), taken as a tail
/// call with the raw arguments (see [`local_firing`]). A site remembered for
/// every active tool returns 0 at once, writing nothing; nothing remembered
/// for it fires as the default mode does (in the lasting mode the dispatch
/// remembers a DISABLE); anything else takes [`fire_marked_slow`].
///
/// # Safety
/// `state` is non-NULL and valid; the objects are never dereferenced.
#[inline(never)]
unsafe fn fire_marked<const EVENT: u8>(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
    a: usize,
    b: usize,
) -> c_int {
    // One copy per event, so the event is a constant in the site key.
    let event = Event::ALL[EVENT as usize];
    let Some(code) = object(codelike) else {
        return fire_invalid(fire_name(event), state);
    };
    // SAFETY: non-NULL and valid by the caller's contract (as in `fire`).
    let slot = unsafe { &*(state as *const SlotState) };
    let line = crate::ext::sites::line_word(event, a as c_int);
    match lasting::skipped_fast(slot, event, code, offset, line) {
        lasting::Skip::Done => 0,
        // SAFETY: forwarded.
        lasting::Skip::Fire => unsafe { fire_default::<EVENT>(state, code, offset, a, b) },
        // SAFETY: forwarded.
        lasting::Skip::Scan => unsafe { fire_marked_slow(state, event, code, offset, a, b) },
    }
}

/// [`fire_marked`] when nothing is remembered for the site: the default
/// path (in the lasting mode the dispatch remembers a DISABLE). Apart, so
/// that the check before it needs no frame.
///
/// # Safety
/// As [`fire_marked`].
#[inline(never)]
unsafe fn fire_default<const EVENT: u8>(
    state: *mut PyMonitoringState,
    code: ObjectRef,
    offset: i32,
    a: usize,
    b: usize,
) -> c_int {
    let event = Event::ALL[EVENT as usize];
    // SAFETY: forwarded.
    unsafe {
        fire(
            fire_name(event),
            state,
            Some(local_firing(event, code, offset, a, b)),
        )
    }
}

/// The rest of [`fire_marked`] when the site's home entry does not settle
/// it: the remembered tools of the site found, then the record, and the
/// other tools fired.
///
/// # Safety
/// As [`fire_marked`].
#[cold]
#[inline(never)]
unsafe fn fire_marked_slow(
    state: *mut PyMonitoringState,
    event: Event,
    code: ObjectRef,
    offset: i32,
    a: usize,
    b: usize,
) -> c_int {
    // SAFETY: non-NULL and valid by the caller's contract (as in `fire`).
    let slot = unsafe { &*(state as *const SlotState) };
    let firing = local_firing(event, code, offset, a, b);
    let line = crate::ext::sites::line_word(event, firing.lineno);
    let skipped = lasting::skipped_slow(slot, event, code, offset, line);
    let mut record = FireRecord::new(firing, super::object(super::missing()));
    guard!(fire_name(event), -1, {
        match lasting::fire_marked(slot, &mut record, skipped) {
            Ok(()) => 0,
            Err(_) => -1,
        }
    })
}

/// The fire function of `event`, for the guard of [`fire_marked_slow`].
fn fire_name(event: Event) -> &'static str {
    match event {
        Event::PyStart => "_PyMonitoring_FirePyStartEvent",
        Event::PyResume => "_PyMonitoring_FirePyResumeEvent",
        Event::PyReturn => "_PyMonitoring_FirePyReturnEvent",
        Event::PyYield => "_PyMonitoring_FirePyYieldEvent",
        Event::Call => "_PyMonitoring_FireCallEvent",
        Event::Line => "_PyMonitoring_FireLineEvent",
        Event::Jump => "_PyMonitoring_FireJumpEvent",
        Event::BranchLeft => "_PyMonitoring_FireBranchLeftEvent",
        Event::BranchRight | Event::Branch => "_PyMonitoring_FireBranchRightEvent",
        Event::StopIteration => "_PyMonitoring_FireStopIterationEvent",
        Event::Raise => "_PyMonitoring_FireRaiseEvent",
        Event::ExceptionHandled => "_PyMonitoring_FireExceptionHandledEvent",
        Event::PyUnwind => "_PyMonitoring_FirePyUnwindEvent",
        Event::PyThrow => "_PyMonitoring_FirePyThrowEvent",
        Event::Reraise => "_PyMonitoring_FireReraiseEvent",
        Event::CReturn => "_PyMonitoring_FireCReturnEvent",
        Event::CRaise => "_PyMonitoring_FireCRaiseEvent",
        Event::Instruction => "_PyMonitoring_FireInstructionEvent",
    }
}

/// A NULL `state` or `codelike`: the ValueError, off the hot path.
#[cold]
#[inline(never)]
#[allow(improper_ctypes_definitions)]
extern "C" fn fire_invalid(name: &'static str, state: *mut PyMonitoringState) -> c_int {
    guard!(name, -1, {
        require!(!state.is_null(), "state must not be NULL");
        crate::error::set(crate::error::Error::value("codelike must not be NULL"));
        -1
    })
}

/// True when `state` is valid and inactive: the exported wrappers return 0
/// at once, before any other work.
///
/// # Safety
/// `state`, when not NULL, points to a valid `PyMonitoringState`.
#[inline(always)]
unsafe fn inactive(state: *const PyMonitoringState) -> bool {
    // SAFETY: dereferenced only when non-NULL.
    !state.is_null() && unsafe { (*state).active } == 0
}

/// Fire PY_START: a function starts.
///
/// Calls, from tool 5 down to tool 0, the callback of every tool whose bit is
/// set in `state->active` (a tool with no callback is skipped and keeps its
/// bit). Returns 0, or -1 with the thread's error set when: `state` or
/// `codelike` is NULL (ValueError); `offset` is negative (ValueError
/// `offset must be non-negative`, no callback called); a callback returned -1
/// (its error; lower tools are not called). A callback returning `PY_MONITORING_DISABLE` clears its tool's bit in `state->active` until the scope is refreshed (with `PY_MONITORING_OPT_LASTING_DISABLE` it silences this site instead, and the bit stays). Object arguments that are
/// NULL are delivered as `PyMonitoring_MISSING`. Fired from inside a callback
/// on the same thread, the event is not delivered and 0 is returned.
///
/// # Safety
/// `state` must be NULL or point to a valid `PyMonitoringState`. Thread-safe;
/// a state must not be fired on by two threads at once.
#[no_mangle]
#[inline(never)]
pub unsafe extern "C" fn _PyMonitoring_FirePyStartEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
) -> c_int {
    // SAFETY: forwarded caller contract.
    if unsafe { marked(state) } {
        return unsafe { fire_marked::<{ Event::PyStart as u8 }>(state, codelike, offset, 0, 0) };
    }
    let firing = object(codelike).map(|codelike| Firing::new(Event::PyStart, codelike, offset));
    // SAFETY: forwarded caller contract.
    unsafe { fire("_PyMonitoring_FirePyStartEvent", state, firing) }
}

/// Fire PY_START: a function starts.
///
/// Returns 0 at once when `state->active` is 0; otherwise the same as
/// `_PyMonitoring_FirePyStartEvent`. A NULL `state` is a ValueError (-1).
///
/// # Safety
/// As `_PyMonitoring_FirePyStartEvent`.
#[no_mangle]
#[cfg(not(pymonitoring_inline))]
pub unsafe extern "C" fn PyMonitoring_FirePyStartEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe {
        if inactive(state) {
            return 0;
        }
        _PyMonitoring_FirePyStartEvent(state, codelike, offset)
    }
}

/// Fire PY_RESUME: a generator or coroutine resumes.
///
/// Calls, from tool 5 down to tool 0, the callback of every tool whose bit is
/// set in `state->active` (a tool with no callback is skipped and keeps its
/// bit). Returns 0, or -1 with the thread's error set when: `state` or
/// `codelike` is NULL (ValueError); `offset` is negative (ValueError
/// `offset must be non-negative`, no callback called); a callback returned -1
/// (its error; lower tools are not called). A callback returning `PY_MONITORING_DISABLE` clears its tool's bit in `state->active` until the scope is refreshed (with `PY_MONITORING_OPT_LASTING_DISABLE` it silences this site instead, and the bit stays). Object arguments that are
/// NULL are delivered as `PyMonitoring_MISSING`. Fired from inside a callback
/// on the same thread, the event is not delivered and 0 is returned.
///
/// # Safety
/// `state` must be NULL or point to a valid `PyMonitoringState`. Thread-safe;
/// a state must not be fired on by two threads at once.
#[no_mangle]
#[inline(never)]
pub unsafe extern "C" fn _PyMonitoring_FirePyResumeEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
) -> c_int {
    // SAFETY: forwarded caller contract.
    if unsafe { marked(state) } {
        return unsafe { fire_marked::<{ Event::PyResume as u8 }>(state, codelike, offset, 0, 0) };
    }
    let firing = object(codelike).map(|codelike| Firing::new(Event::PyResume, codelike, offset));
    // SAFETY: forwarded caller contract.
    unsafe { fire("_PyMonitoring_FirePyResumeEvent", state, firing) }
}

/// Fire PY_RESUME: a generator or coroutine resumes.
///
/// Returns 0 at once when `state->active` is 0; otherwise the same as
/// `_PyMonitoring_FirePyResumeEvent`. A NULL `state` is a ValueError (-1).
///
/// # Safety
/// As `_PyMonitoring_FirePyResumeEvent`.
#[no_mangle]
#[cfg(not(pymonitoring_inline))]
pub unsafe extern "C" fn PyMonitoring_FirePyResumeEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe {
        if inactive(state) {
            return 0;
        }
        _PyMonitoring_FirePyResumeEvent(state, codelike, offset)
    }
}

/// Fire PY_RETURN: a function returns `retval` (delivered as `arg0`).
///
/// Calls, from tool 5 down to tool 0, the callback of every tool whose bit is
/// set in `state->active` (a tool with no callback is skipped and keeps its
/// bit). Returns 0, or -1 with the thread's error set when: `state` or
/// `codelike` is NULL (ValueError); `offset` is negative (ValueError
/// `offset must be non-negative`, no callback called); a callback returned -1
/// (its error; lower tools are not called). A callback returning `PY_MONITORING_DISABLE` clears its tool's bit in `state->active` until the scope is refreshed (with `PY_MONITORING_OPT_LASTING_DISABLE` it silences this site instead, and the bit stays). Object arguments that are
/// NULL are delivered as `PyMonitoring_MISSING`. Fired from inside a callback
/// on the same thread, the event is not delivered and 0 is returned.
///
/// # Safety
/// `state` must be NULL or point to a valid `PyMonitoringState`. Thread-safe;
/// a state must not be fired on by two threads at once.
#[no_mangle]
#[inline(never)]
pub unsafe extern "C" fn _PyMonitoring_FirePyReturnEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
    retval: *mut PyObject,
) -> c_int {
    // SAFETY: forwarded caller contract.
    if unsafe { marked(state) } {
        return unsafe {
            fire_marked::<{ Event::PyReturn as u8 }>(state, codelike, offset, retval as usize, 0)
        };
    }
    let firing = object(codelike).map(|codelike| Firing {
        arg0: object(retval),
        ..Firing::new(Event::PyReturn, codelike, offset)
    });
    // SAFETY: forwarded caller contract.
    unsafe { fire("_PyMonitoring_FirePyReturnEvent", state, firing) }
}

/// Fire PY_RETURN: a function returns `retval` (delivered as `arg0`).
///
/// Returns 0 at once when `state->active` is 0; otherwise the same as
/// `_PyMonitoring_FirePyReturnEvent`. A NULL `state` is a ValueError (-1).
///
/// # Safety
/// As `_PyMonitoring_FirePyReturnEvent`.
#[no_mangle]
#[cfg(not(pymonitoring_inline))]
pub unsafe extern "C" fn PyMonitoring_FirePyReturnEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
    retval: *mut PyObject,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe {
        if inactive(state) {
            return 0;
        }
        _PyMonitoring_FirePyReturnEvent(state, codelike, offset, retval)
    }
}

/// Fire PY_YIELD: a generator yields `retval` (delivered as `arg0`).
///
/// Calls, from tool 5 down to tool 0, the callback of every tool whose bit is
/// set in `state->active` (a tool with no callback is skipped and keeps its
/// bit). Returns 0, or -1 with the thread's error set when: `state` or
/// `codelike` is NULL (ValueError); `offset` is negative (ValueError
/// `offset must be non-negative`, no callback called); a callback returned -1
/// (its error; lower tools are not called). A callback returning `PY_MONITORING_DISABLE` clears its tool's bit in `state->active` until the scope is refreshed (with `PY_MONITORING_OPT_LASTING_DISABLE` it silences this site instead, and the bit stays). Object arguments that are
/// NULL are delivered as `PyMonitoring_MISSING`. Fired from inside a callback
/// on the same thread, the event is not delivered and 0 is returned.
///
/// # Safety
/// `state` must be NULL or point to a valid `PyMonitoringState`. Thread-safe;
/// a state must not be fired on by two threads at once.
#[no_mangle]
#[inline(never)]
pub unsafe extern "C" fn _PyMonitoring_FirePyYieldEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
    retval: *mut PyObject,
) -> c_int {
    // SAFETY: forwarded caller contract.
    if unsafe { marked(state) } {
        return unsafe {
            fire_marked::<{ Event::PyYield as u8 }>(state, codelike, offset, retval as usize, 0)
        };
    }
    let firing = object(codelike).map(|codelike| Firing {
        arg0: object(retval),
        ..Firing::new(Event::PyYield, codelike, offset)
    });
    // SAFETY: forwarded caller contract.
    unsafe { fire("_PyMonitoring_FirePyYieldEvent", state, firing) }
}

/// Fire PY_YIELD: a generator yields `retval` (delivered as `arg0`).
///
/// Returns 0 at once when `state->active` is 0; otherwise the same as
/// `_PyMonitoring_FirePyYieldEvent`. A NULL `state` is a ValueError (-1).
///
/// # Safety
/// As `_PyMonitoring_FirePyYieldEvent`.
#[no_mangle]
#[cfg(not(pymonitoring_inline))]
pub unsafe extern "C" fn PyMonitoring_FirePyYieldEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
    retval: *mut PyObject,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe {
        if inactive(state) {
            return 0;
        }
        _PyMonitoring_FirePyYieldEvent(state, codelike, offset, retval)
    }
}

/// Fire CALL: `callable` is about to be called with first argument `arg0` (delivered as `arg0` and `arg1`).
///
/// Calls, from tool 5 down to tool 0, the callback of every tool whose bit is
/// set in `state->active` (a tool with no callback is skipped and keeps its
/// bit). Returns 0, or -1 with the thread's error set when: `state` or
/// `codelike` is NULL (ValueError); `offset` is negative (ValueError
/// `offset must be non-negative`, no callback called); a callback returned -1
/// (its error; lower tools are not called). A callback returning `PY_MONITORING_DISABLE` clears its tool's bit in `state->active` until the scope is refreshed (with `PY_MONITORING_OPT_LASTING_DISABLE` it silences this site instead, and the bit stays). Object arguments that are
/// NULL are delivered as `PyMonitoring_MISSING`. Fired from inside a callback
/// on the same thread, the event is not delivered and 0 is returned.
///
/// # Safety
/// `state` must be NULL or point to a valid `PyMonitoringState`. Thread-safe;
/// a state must not be fired on by two threads at once.
#[no_mangle]
#[inline(never)]
pub unsafe extern "C" fn _PyMonitoring_FireCallEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
    callable: *mut PyObject,
    arg0: *mut PyObject,
) -> c_int {
    // SAFETY: forwarded caller contract.
    if unsafe { marked(state) } {
        return unsafe {
            fire_marked::<{ Event::Call as u8 }>(
                state,
                codelike,
                offset,
                callable as usize,
                arg0 as usize,
            )
        };
    }
    let firing = object(codelike).map(|codelike| Firing {
        arg0: object(callable),
        arg1: object(arg0),
        ..Firing::new(Event::Call, codelike, offset)
    });
    // SAFETY: forwarded caller contract.
    unsafe { fire("_PyMonitoring_FireCallEvent", state, firing) }
}

/// Fire CALL: `callable` is about to be called with first argument `arg0` (delivered as `arg0` and `arg1`).
///
/// Returns 0 at once when `state->active` is 0; otherwise the same as
/// `_PyMonitoring_FireCallEvent`. A NULL `state` is a ValueError (-1).
///
/// # Safety
/// As `_PyMonitoring_FireCallEvent`.
#[no_mangle]
#[cfg(not(pymonitoring_inline))]
pub unsafe extern "C" fn PyMonitoring_FireCallEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
    callable: *mut PyObject,
    arg0: *mut PyObject,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe {
        if inactive(state) {
            return 0;
        }
        _PyMonitoring_FireCallEvent(state, codelike, offset, callable, arg0)
    }
}

/// Fire LINE: line `lineno` is reached (delivered as `lineno`; `offset` is delivered too).
///
/// Calls, from tool 5 down to tool 0, the callback of every tool whose bit is
/// set in `state->active` (a tool with no callback is skipped and keeps its
/// bit). Returns 0, or -1 with the thread's error set when: `state` or
/// `codelike` is NULL (ValueError); `offset` is negative (ValueError
/// `offset must be non-negative`, no callback called); a callback returned -1
/// (its error; lower tools are not called). A callback returning `PY_MONITORING_DISABLE` clears its tool's bit in `state->active` until the scope is refreshed (with `PY_MONITORING_OPT_LASTING_DISABLE` it silences this site instead, and the bit stays). Object arguments that are
/// NULL are delivered as `PyMonitoring_MISSING`. Fired from inside a callback
/// on the same thread, the event is not delivered and 0 is returned.
///
/// # Safety
/// `state` must be NULL or point to a valid `PyMonitoringState`. Thread-safe;
/// a state must not be fired on by two threads at once.
#[no_mangle]
#[inline(never)]
pub unsafe extern "C" fn _PyMonitoring_FireLineEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
    lineno: c_int,
) -> c_int {
    // SAFETY: forwarded caller contract.
    if unsafe { marked(state) } {
        return unsafe {
            fire_marked::<{ Event::Line as u8 }>(state, codelike, offset, lineno as usize, 0)
        };
    }
    let firing = object(codelike).map(|codelike| Firing {
        lineno,
        ..Firing::new(Event::Line, codelike, offset)
    });
    // SAFETY: forwarded caller contract.
    unsafe { fire("_PyMonitoring_FireLineEvent", state, firing) }
}

/// Fire LINE: line `lineno` is reached (delivered as `lineno`; `offset` is delivered too).
///
/// Returns 0 at once when `state->active` is 0; otherwise the same as
/// `_PyMonitoring_FireLineEvent`. A NULL `state` is a ValueError (-1).
///
/// # Safety
/// As `_PyMonitoring_FireLineEvent`.
#[no_mangle]
#[cfg(not(pymonitoring_inline))]
pub unsafe extern "C" fn PyMonitoring_FireLineEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
    lineno: c_int,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe {
        if inactive(state) {
            return 0;
        }
        _PyMonitoring_FireLineEvent(state, codelike, offset, lineno)
    }
}

/// Fire JUMP: a jump to `target_offset` (delivered as `arg0`).
///
/// Calls, from tool 5 down to tool 0, the callback of every tool whose bit is
/// set in `state->active` (a tool with no callback is skipped and keeps its
/// bit). Returns 0, or -1 with the thread's error set when: `state` or
/// `codelike` is NULL (ValueError); `offset` is negative (ValueError
/// `offset must be non-negative`, no callback called); a callback returned -1
/// (its error; lower tools are not called). A callback returning `PY_MONITORING_DISABLE` clears its tool's bit in `state->active` until the scope is refreshed (with `PY_MONITORING_OPT_LASTING_DISABLE` it silences this site instead, and the bit stays). Object arguments that are
/// NULL are delivered as `PyMonitoring_MISSING`. Fired from inside a callback
/// on the same thread, the event is not delivered and 0 is returned.
///
/// # Safety
/// `state` must be NULL or point to a valid `PyMonitoringState`. Thread-safe;
/// a state must not be fired on by two threads at once.
#[no_mangle]
#[inline(never)]
pub unsafe extern "C" fn _PyMonitoring_FireJumpEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
    target_offset: *mut PyObject,
) -> c_int {
    // SAFETY: forwarded caller contract.
    if unsafe { marked(state) } {
        return unsafe {
            fire_marked::<{ Event::Jump as u8 }>(state, codelike, offset, target_offset as usize, 0)
        };
    }
    let firing = object(codelike).map(|codelike| Firing {
        arg0: object(target_offset),
        ..Firing::new(Event::Jump, codelike, offset)
    });
    // SAFETY: forwarded caller contract.
    unsafe { fire("_PyMonitoring_FireJumpEvent", state, firing) }
}

/// Fire JUMP: a jump to `target_offset` (delivered as `arg0`).
///
/// Returns 0 at once when `state->active` is 0; otherwise the same as
/// `_PyMonitoring_FireJumpEvent`. A NULL `state` is a ValueError (-1).
///
/// # Safety
/// As `_PyMonitoring_FireJumpEvent`.
#[no_mangle]
#[cfg(not(pymonitoring_inline))]
pub unsafe extern "C" fn PyMonitoring_FireJumpEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
    target_offset: *mut PyObject,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe {
        if inactive(state) {
            return 0;
        }
        _PyMonitoring_FireJumpEvent(state, codelike, offset, target_offset)
    }
}

/// Fire BRANCH_LEFT: a branch goes left to `target_offset` (delivered as `arg0`).
///
/// Calls, from tool 5 down to tool 0, the callback of every tool whose bit is
/// set in `state->active` (a tool with no callback is skipped and keeps its
/// bit). Returns 0, or -1 with the thread's error set when: `state` or
/// `codelike` is NULL (ValueError); `offset` is negative (ValueError
/// `offset must be non-negative`, no callback called); a callback returned -1
/// (its error; lower tools are not called). A callback returning `PY_MONITORING_DISABLE` clears its tool's bit in `state->active` until the scope is refreshed (with `PY_MONITORING_OPT_LASTING_DISABLE` it silences this site instead, and the bit stays). Object arguments that are
/// NULL are delivered as `PyMonitoring_MISSING`. Fired from inside a callback
/// on the same thread, the event is not delivered and 0 is returned.
///
/// # Safety
/// `state` must be NULL or point to a valid `PyMonitoringState`. Thread-safe;
/// a state must not be fired on by two threads at once.
#[no_mangle]
#[inline(never)]
pub unsafe extern "C" fn _PyMonitoring_FireBranchLeftEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
    target_offset: *mut PyObject,
) -> c_int {
    // SAFETY: forwarded caller contract.
    if unsafe { marked(state) } {
        return unsafe {
            fire_marked::<{ Event::BranchLeft as u8 }>(
                state,
                codelike,
                offset,
                target_offset as usize,
                0,
            )
        };
    }
    let firing = object(codelike).map(|codelike| Firing {
        arg0: object(target_offset),
        ..Firing::new(Event::BranchLeft, codelike, offset)
    });
    // SAFETY: forwarded caller contract.
    unsafe { fire("_PyMonitoring_FireBranchLeftEvent", state, firing) }
}

/// Fire BRANCH_LEFT: a branch goes left to `target_offset` (delivered as `arg0`).
///
/// Returns 0 at once when `state->active` is 0; otherwise the same as
/// `_PyMonitoring_FireBranchLeftEvent`. A NULL `state` is a ValueError (-1).
///
/// # Safety
/// As `_PyMonitoring_FireBranchLeftEvent`.
#[no_mangle]
#[cfg(not(pymonitoring_inline))]
pub unsafe extern "C" fn PyMonitoring_FireBranchLeftEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
    target_offset: *mut PyObject,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe {
        if inactive(state) {
            return 0;
        }
        _PyMonitoring_FireBranchLeftEvent(state, codelike, offset, target_offset)
    }
}

/// Fire BRANCH_RIGHT: a branch goes right to `target_offset` (delivered as `arg0`).
///
/// Calls, from tool 5 down to tool 0, the callback of every tool whose bit is
/// set in `state->active` (a tool with no callback is skipped and keeps its
/// bit). Returns 0, or -1 with the thread's error set when: `state` or
/// `codelike` is NULL (ValueError); `offset` is negative (ValueError
/// `offset must be non-negative`, no callback called); a callback returned -1
/// (its error; lower tools are not called). A callback returning `PY_MONITORING_DISABLE` clears its tool's bit in `state->active` until the scope is refreshed (with `PY_MONITORING_OPT_LASTING_DISABLE` it silences this site instead, and the bit stays). Object arguments that are
/// NULL are delivered as `PyMonitoring_MISSING`. Fired from inside a callback
/// on the same thread, the event is not delivered and 0 is returned.
///
/// # Safety
/// `state` must be NULL or point to a valid `PyMonitoringState`. Thread-safe;
/// a state must not be fired on by two threads at once.
#[no_mangle]
#[inline(never)]
pub unsafe extern "C" fn _PyMonitoring_FireBranchRightEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
    target_offset: *mut PyObject,
) -> c_int {
    // SAFETY: forwarded caller contract.
    if unsafe { marked(state) } {
        return unsafe {
            fire_marked::<{ Event::BranchRight as u8 }>(
                state,
                codelike,
                offset,
                target_offset as usize,
                0,
            )
        };
    }
    let firing = object(codelike).map(|codelike| Firing {
        arg0: object(target_offset),
        ..Firing::new(Event::BranchRight, codelike, offset)
    });
    // SAFETY: forwarded caller contract.
    unsafe { fire("_PyMonitoring_FireBranchRightEvent", state, firing) }
}

/// Fire BRANCH_RIGHT: a branch goes right to `target_offset` (delivered as `arg0`).
///
/// Returns 0 at once when `state->active` is 0; otherwise the same as
/// `_PyMonitoring_FireBranchRightEvent`. A NULL `state` is a ValueError (-1).
///
/// # Safety
/// As `_PyMonitoring_FireBranchRightEvent`.
#[no_mangle]
#[cfg(not(pymonitoring_inline))]
pub unsafe extern "C" fn PyMonitoring_FireBranchRightEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
    target_offset: *mut PyObject,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe {
        if inactive(state) {
            return 0;
        }
        _PyMonitoring_FireBranchRightEvent(state, codelike, offset, target_offset)
    }
}

/// Fire C_RETURN: a C function returns `retval` (delivered as `arg0`).
///
/// Calls, from tool 5 down to tool 0, the callback of every tool whose bit is
/// set in `state->active` (a tool with no callback is skipped and keeps its
/// bit). Returns 0, or -1 with the thread's error set when: `state` or
/// `codelike` is NULL (ValueError); `offset` is negative (ValueError
/// `offset must be non-negative`, no callback called); a callback returned -1
/// (its error; lower tools are not called); a callback returning `PY_MONITORING_DISABLE` (ValueError `Cannot disable %s events. Callback removed.`, and the callback is removed). Object arguments that are
/// NULL are delivered as `PyMonitoring_MISSING`. Fired from inside a callback
/// on the same thread, the event is not delivered and 0 is returned.
///
/// # Safety
/// `state` must be NULL or point to a valid `PyMonitoringState`. Thread-safe;
/// a state must not be fired on by two threads at once.
#[no_mangle]
#[inline(never)]
pub unsafe extern "C" fn _PyMonitoring_FireCReturnEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
    retval: *mut PyObject,
) -> c_int {
    let firing = object(codelike).map(|codelike| Firing {
        arg0: object(retval),
        ..Firing::new(Event::CReturn, codelike, offset)
    });
    // SAFETY: forwarded caller contract.
    unsafe { fire("_PyMonitoring_FireCReturnEvent", state, firing) }
}

/// Fire C_RETURN: a C function returns `retval` (delivered as `arg0`).
///
/// Returns 0 at once when `state->active` is 0; otherwise the same as
/// `_PyMonitoring_FireCReturnEvent`. A NULL `state` is a ValueError (-1).
///
/// # Safety
/// As `_PyMonitoring_FireCReturnEvent`.
#[no_mangle]
#[cfg(not(pymonitoring_inline))]
pub unsafe extern "C" fn PyMonitoring_FireCReturnEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
    retval: *mut PyObject,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe {
        if inactive(state) {
            return 0;
        }
        _PyMonitoring_FireCReturnEvent(state, codelike, offset, retval)
    }
}

/// Fire PY_THROW: the current exception is thrown into a generator.
///
/// Calls, from tool 5 down to tool 0, the callback of every tool whose bit is
/// set in `state->active` (a tool with no callback is skipped and keeps its
/// bit). Returns 0, or -1 with the thread's error set when: `state` or
/// `codelike` is NULL (ValueError); there is no current exception (ValueError `Firing event N with no exception set`, checked first); `offset` is negative (ValueError
/// `offset must be non-negative`, no callback called); a callback returned -1
/// (its error; lower tools are not called); on success the current exception is current again, on error the callback's error replaces it; a callback returning `PY_MONITORING_DISABLE` (ValueError `Cannot disable %s events. Callback removed.`, and the callback is removed). Object arguments that are
/// NULL are delivered as `PyMonitoring_MISSING`. Fired from inside a callback
/// on the same thread, the event is not delivered and 0 is returned.
///
/// # Safety
/// `state` must be NULL or point to a valid `PyMonitoringState`. Thread-safe;
/// a state must not be fired on by two threads at once.
#[no_mangle]
#[inline(never)]
pub unsafe extern "C" fn _PyMonitoring_FirePyThrowEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
) -> c_int {
    let firing = object(codelike).map(|codelike| Firing::new(Event::PyThrow, codelike, offset));
    // SAFETY: forwarded caller contract.
    unsafe { fire("_PyMonitoring_FirePyThrowEvent", state, firing) }
}

/// Fire PY_THROW: the current exception is thrown into a generator.
///
/// Returns 0 at once when `state->active` is 0; otherwise the same as
/// `_PyMonitoring_FirePyThrowEvent`. A NULL `state` is a ValueError (-1).
///
/// # Safety
/// As `_PyMonitoring_FirePyThrowEvent`.
#[no_mangle]
#[cfg(not(pymonitoring_inline))]
pub unsafe extern "C" fn PyMonitoring_FirePyThrowEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe {
        if inactive(state) {
            return 0;
        }
        _PyMonitoring_FirePyThrowEvent(state, codelike, offset)
    }
}

/// Fire RAISE: the current exception is raised.
///
/// Calls, from tool 5 down to tool 0, the callback of every tool whose bit is
/// set in `state->active` (a tool with no callback is skipped and keeps its
/// bit). Returns 0, or -1 with the thread's error set when: `state` or
/// `codelike` is NULL (ValueError); there is no current exception (ValueError `Firing event N with no exception set`, checked first); `offset` is negative (ValueError
/// `offset must be non-negative`, no callback called); a callback returned -1
/// (its error; lower tools are not called); on success the current exception is current again, on error the callback's error replaces it; a callback returning `PY_MONITORING_DISABLE` (ValueError `Cannot disable %s events. Callback removed.`, and the callback is removed). Object arguments that are
/// NULL are delivered as `PyMonitoring_MISSING`. Fired from inside a callback
/// on the same thread, the event is not delivered and 0 is returned.
///
/// # Safety
/// `state` must be NULL or point to a valid `PyMonitoringState`. Thread-safe;
/// a state must not be fired on by two threads at once.
#[no_mangle]
#[inline(never)]
pub unsafe extern "C" fn _PyMonitoring_FireRaiseEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
) -> c_int {
    let firing = object(codelike).map(|codelike| Firing::new(Event::Raise, codelike, offset));
    // SAFETY: forwarded caller contract.
    unsafe { fire("_PyMonitoring_FireRaiseEvent", state, firing) }
}

/// Fire RAISE: the current exception is raised.
///
/// Returns 0 at once when `state->active` is 0; otherwise the same as
/// `_PyMonitoring_FireRaiseEvent`. A NULL `state` is a ValueError (-1).
///
/// # Safety
/// As `_PyMonitoring_FireRaiseEvent`.
#[no_mangle]
#[cfg(not(pymonitoring_inline))]
pub unsafe extern "C" fn PyMonitoring_FireRaiseEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe {
        if inactive(state) {
            return 0;
        }
        _PyMonitoring_FireRaiseEvent(state, codelike, offset)
    }
}

/// Fire RERAISE: the current exception is re-raised.
///
/// Calls, from tool 5 down to tool 0, the callback of every tool whose bit is
/// set in `state->active` (a tool with no callback is skipped and keeps its
/// bit). Returns 0, or -1 with the thread's error set when: `state` or
/// `codelike` is NULL (ValueError); there is no current exception (ValueError `Firing event N with no exception set`, checked first); `offset` is negative (ValueError
/// `offset must be non-negative`, no callback called); a callback returned -1
/// (its error; lower tools are not called); on success the current exception is current again, on error the callback's error replaces it; a callback returning `PY_MONITORING_DISABLE` (ValueError `Cannot disable %s events. Callback removed.`, and the callback is removed). Object arguments that are
/// NULL are delivered as `PyMonitoring_MISSING`. Fired from inside a callback
/// on the same thread, the event is not delivered and 0 is returned.
///
/// # Safety
/// `state` must be NULL or point to a valid `PyMonitoringState`. Thread-safe;
/// a state must not be fired on by two threads at once.
#[no_mangle]
#[inline(never)]
pub unsafe extern "C" fn _PyMonitoring_FireReraiseEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
) -> c_int {
    let firing = object(codelike).map(|codelike| Firing::new(Event::Reraise, codelike, offset));
    // SAFETY: forwarded caller contract.
    unsafe { fire("_PyMonitoring_FireReraiseEvent", state, firing) }
}

/// Fire RERAISE: the current exception is re-raised.
///
/// Returns 0 at once when `state->active` is 0; otherwise the same as
/// `_PyMonitoring_FireReraiseEvent`. A NULL `state` is a ValueError (-1).
///
/// # Safety
/// As `_PyMonitoring_FireReraiseEvent`.
#[no_mangle]
#[cfg(not(pymonitoring_inline))]
pub unsafe extern "C" fn PyMonitoring_FireReraiseEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe {
        if inactive(state) {
            return 0;
        }
        _PyMonitoring_FireReraiseEvent(state, codelike, offset)
    }
}

/// Fire EXCEPTION_HANDLED: the current exception is handled.
///
/// Calls, from tool 5 down to tool 0, the callback of every tool whose bit is
/// set in `state->active` (a tool with no callback is skipped and keeps its
/// bit). Returns 0, or -1 with the thread's error set when: `state` or
/// `codelike` is NULL (ValueError); there is no current exception (ValueError `Firing event N with no exception set`, checked first); `offset` is negative (ValueError
/// `offset must be non-negative`, no callback called); a callback returned -1
/// (its error; lower tools are not called); on success the current exception is current again, on error the callback's error replaces it; a callback returning `PY_MONITORING_DISABLE` (ValueError `Cannot disable %s events. Callback removed.`, and the callback is removed). Object arguments that are
/// NULL are delivered as `PyMonitoring_MISSING`. Fired from inside a callback
/// on the same thread, the event is not delivered and 0 is returned.
///
/// # Safety
/// `state` must be NULL or point to a valid `PyMonitoringState`. Thread-safe;
/// a state must not be fired on by two threads at once.
#[no_mangle]
#[inline(never)]
pub unsafe extern "C" fn _PyMonitoring_FireExceptionHandledEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
) -> c_int {
    let firing =
        object(codelike).map(|codelike| Firing::new(Event::ExceptionHandled, codelike, offset));
    // SAFETY: forwarded caller contract.
    unsafe { fire("_PyMonitoring_FireExceptionHandledEvent", state, firing) }
}

/// Fire EXCEPTION_HANDLED: the current exception is handled.
///
/// Returns 0 at once when `state->active` is 0; otherwise the same as
/// `_PyMonitoring_FireExceptionHandledEvent`. A NULL `state` is a ValueError (-1).
///
/// # Safety
/// As `_PyMonitoring_FireExceptionHandledEvent`.
#[no_mangle]
#[cfg(not(pymonitoring_inline))]
pub unsafe extern "C" fn PyMonitoring_FireExceptionHandledEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe {
        if inactive(state) {
            return 0;
        }
        _PyMonitoring_FireExceptionHandledEvent(state, codelike, offset)
    }
}

/// Fire C_RAISE: a C function raised the current exception.
///
/// Calls, from tool 5 down to tool 0, the callback of every tool whose bit is
/// set in `state->active` (a tool with no callback is skipped and keeps its
/// bit). Returns 0, or -1 with the thread's error set when: `state` or
/// `codelike` is NULL (ValueError); there is no current exception (ValueError `Firing event N with no exception set`, checked first); `offset` is negative (ValueError
/// `offset must be non-negative`, no callback called); a callback returned -1
/// (its error; lower tools are not called); on success the current exception is current again, on error the callback's error replaces it; a callback returning `PY_MONITORING_DISABLE` (ValueError `Cannot disable %s events. Callback removed.`, and the callback is removed). Object arguments that are
/// NULL are delivered as `PyMonitoring_MISSING`. Fired from inside a callback
/// on the same thread, the event is not delivered and 0 is returned.
///
/// # Safety
/// `state` must be NULL or point to a valid `PyMonitoringState`. Thread-safe;
/// a state must not be fired on by two threads at once.
#[no_mangle]
#[inline(never)]
pub unsafe extern "C" fn _PyMonitoring_FireCRaiseEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
) -> c_int {
    let firing = object(codelike).map(|codelike| Firing::new(Event::CRaise, codelike, offset));
    // SAFETY: forwarded caller contract.
    unsafe { fire("_PyMonitoring_FireCRaiseEvent", state, firing) }
}

/// Fire C_RAISE: a C function raised the current exception.
///
/// Returns 0 at once when `state->active` is 0; otherwise the same as
/// `_PyMonitoring_FireCRaiseEvent`. A NULL `state` is a ValueError (-1).
///
/// # Safety
/// As `_PyMonitoring_FireCRaiseEvent`.
#[no_mangle]
#[cfg(not(pymonitoring_inline))]
pub unsafe extern "C" fn PyMonitoring_FireCRaiseEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe {
        if inactive(state) {
            return 0;
        }
        _PyMonitoring_FireCRaiseEvent(state, codelike, offset)
    }
}

/// Fire PY_UNWIND: a function exits with the current exception.
///
/// Calls, from tool 5 down to tool 0, the callback of every tool whose bit is
/// set in `state->active` (a tool with no callback is skipped and keeps its
/// bit). Returns 0, or -1 with the thread's error set when: `state` or
/// `codelike` is NULL (ValueError); there is no current exception (ValueError `Firing event N with no exception set`, checked first); `offset` is negative (ValueError
/// `offset must be non-negative`, no callback called); a callback returned -1
/// (its error; lower tools are not called); on success the current exception is current again, on error the callback's error replaces it; a callback returning `PY_MONITORING_DISABLE` (ValueError `Cannot disable %s events. Callback removed.`, and the callback is removed). Object arguments that are
/// NULL are delivered as `PyMonitoring_MISSING`. Fired from inside a callback
/// on the same thread, the event is not delivered and 0 is returned.
///
/// # Safety
/// `state` must be NULL or point to a valid `PyMonitoringState`. Thread-safe;
/// a state must not be fired on by two threads at once.
#[no_mangle]
#[inline(never)]
pub unsafe extern "C" fn _PyMonitoring_FirePyUnwindEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
) -> c_int {
    let firing = object(codelike).map(|codelike| Firing::new(Event::PyUnwind, codelike, offset));
    // SAFETY: forwarded caller contract.
    unsafe { fire("_PyMonitoring_FirePyUnwindEvent", state, firing) }
}

/// Fire PY_UNWIND: a function exits with the current exception.
///
/// Returns 0 at once when `state->active` is 0; otherwise the same as
/// `_PyMonitoring_FirePyUnwindEvent`. A NULL `state` is a ValueError (-1).
///
/// # Safety
/// As `_PyMonitoring_FirePyUnwindEvent`.
#[no_mangle]
#[cfg(not(pymonitoring_inline))]
pub unsafe extern "C" fn PyMonitoring_FirePyUnwindEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe {
        if inactive(state) {
            return 0;
        }
        _PyMonitoring_FirePyUnwindEvent(state, codelike, offset)
    }
}

/// Fire STOP_ITERATION: an artificial StopIteration with `value` (delivered as `arg0`, as given; nothing is left pending).
///
/// Calls, from tool 5 down to tool 0, the callback of every tool whose bit is
/// set in `state->active` (a tool with no callback is skipped and keeps its
/// bit). Returns 0, or -1 with the thread's error set when: `state` or
/// `codelike` is NULL (ValueError); `offset` is negative (ValueError
/// `offset must be non-negative`, no callback called); a callback returned -1
/// (its error; lower tools are not called). A callback returning `PY_MONITORING_DISABLE` clears its tool's bit in `state->active` until the scope is refreshed (with `PY_MONITORING_OPT_LASTING_DISABLE` it silences this site instead, and the bit stays). Object arguments that are
/// NULL are delivered as `PyMonitoring_MISSING`. Fired from inside a callback
/// on the same thread, the event is not delivered and 0 is returned.
///
/// # Safety
/// `state` must be NULL or point to a valid `PyMonitoringState`. Thread-safe;
/// a state must not be fired on by two threads at once.
#[no_mangle]
#[inline(never)]
pub unsafe extern "C" fn _PyMonitoring_FireStopIterationEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
    value: *mut PyObject,
) -> c_int {
    // SAFETY: forwarded caller contract.
    if unsafe { marked(state) } {
        return unsafe {
            fire_marked::<{ Event::StopIteration as u8 }>(
                state,
                codelike,
                offset,
                value as usize,
                0,
            )
        };
    }
    let firing = object(codelike).map(|codelike| Firing {
        arg0: object(value),
        ..Firing::new(Event::StopIteration, codelike, offset)
    });
    // SAFETY: forwarded caller contract.
    unsafe { fire("_PyMonitoring_FireStopIterationEvent", state, firing) }
}

/// Fire STOP_ITERATION: an artificial StopIteration with `value` (delivered as `arg0`, as given; nothing is left pending).
///
/// Returns 0 at once when `state->active` is 0; otherwise the same as
/// `_PyMonitoring_FireStopIterationEvent`. A NULL `state` is a ValueError (-1).
///
/// # Safety
/// As `_PyMonitoring_FireStopIterationEvent`.
#[no_mangle]
#[cfg(not(pymonitoring_inline))]
pub unsafe extern "C" fn PyMonitoring_FireStopIterationEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
    value: *mut PyObject,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe {
        if inactive(state) {
            return 0;
        }
        _PyMonitoring_FireStopIterationEvent(state, codelike, offset, value)
    }
}

/// Fire BRANCH_RIGHT (deprecated CPython 3.14 entry point for the legacy
/// BRANCH event): the same as `_PyMonitoring_FireBranchRightEvent`.
///
/// # Safety
/// As `_PyMonitoring_FireBranchRightEvent`.
#[no_mangle]
#[inline(never)]
pub unsafe extern "C" fn _PyMonitoring_FireBranchEvent(
    state: *mut PyMonitoringState,
    codelike: *mut PyObject,
    offset: i32,
    target_offset: *mut PyObject,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe { _PyMonitoring_FireBranchRightEvent(state, codelike, offset, target_offset) }
}
