//! The C types and constants of `pymonitoring.h`.

use std::ffi::{c_int, c_void};

/// A host object. Opaque: declared as `struct _object` so that the header
/// coexists with `Python.h`; the library never dereferences one.
#[repr(C)]
pub struct PyObject {
    _private: [u8; 0],
}

/// CPython's `Py_ssize_t`.
#[allow(non_camel_case_types)]
pub type Py_ssize_t = isize;

/// One scope slot: `active` has bit t set when tool t gets the slot's event;
/// `opaque` belongs to the caller and the library leaves its value alone,
/// except in the opt-in `PY_MONITORING_OPT_LASTING_DISABLE` mode, where a
/// refresh marks the slot there (0x80; states must then start zeroed).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PyMonitoringState {
    /// Bit t: tool t is called for this slot's event.
    pub active: u8,
    /// The caller's byte (the library's in the lasting-DISABLE mode).
    pub opaque: u8,
}

/// The record a callback receives.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct PyMonitoringEvent {
    /// The event id delivered (BRANCH_RIGHT for the legacy BRANCH).
    pub event: i32,
    /// The tool being called.
    pub tool_id: i32,
    /// As given by the firer.
    pub codelike: *mut PyObject,
    /// As given by the firer (also for LINE).
    pub offset: i32,
    /// The line number for LINE; -1 for every other event.
    pub lineno: i32,
    /// retval | callable | target | exception | stop-iteration value;
    /// `PyMonitoring_MISSING` when absent.
    pub arg0: *mut PyObject,
    /// CALL's arg0; otherwise `PyMonitoring_MISSING`.
    pub arg1: *mut PyObject,
}

/// A tool's callback: return 0, `PY_MONITORING_DISABLE`, or -1 after setting
/// the thread's error (`PyMonitoring_ErrSetString` or
/// `PyMonitoring_SetRaisedException`). Other values are ignored.
///
/// A callback must return to its caller. It must not leave by
/// `pthread_exit`, by being cancelled (`pthread_cancel` acts at a
/// cancellation point inside the callback: disable cancellation there with
/// `pthread_setcancelstate` if the thread can be cancelled), by `longjmp` or
/// `siglongjmp`, or by a C++ exception: the library's frames below it cannot
/// be unwound (the process aborts) or, jumped over, stay marked as a
/// dispatch in progress (the thread's later fires are not delivered and
/// `PyMonitoring_WaitForCallbacks` on other threads waits for it forever).
/// It may call any library function, and `fork()`.
pub type PyMonitoringCallback =
    Option<unsafe extern "C" fn(data: *mut c_void, ev: *const PyMonitoringEvent) -> c_int>;

/// PY_START: a function starts.
pub const PY_MONITORING_EVENT_PY_START: c_int = 0;
/// PY_RESUME: a generator or coroutine resumes.
pub const PY_MONITORING_EVENT_PY_RESUME: c_int = 1;
/// PY_RETURN: a function returns.
pub const PY_MONITORING_EVENT_PY_RETURN: c_int = 2;
/// PY_YIELD: a generator yields.
pub const PY_MONITORING_EVENT_PY_YIELD: c_int = 3;
/// CALL: a call is about to be made.
pub const PY_MONITORING_EVENT_CALL: c_int = 4;
/// LINE: a new line is reached.
pub const PY_MONITORING_EVENT_LINE: c_int = 5;
/// INSTRUCTION: no fire function; valid in sets, scopes and registrations.
pub const PY_MONITORING_EVENT_INSTRUCTION: c_int = 6;
/// JUMP: an unconditional jump.
pub const PY_MONITORING_EVENT_JUMP: c_int = 7;
/// BRANCH_LEFT: a branch goes left.
pub const PY_MONITORING_EVENT_BRANCH_LEFT: c_int = 8;
/// BRANCH_RIGHT: a branch goes right.
pub const PY_MONITORING_EVENT_BRANCH_RIGHT: c_int = 9;
/// STOP_ITERATION: an artificial StopIteration.
pub const PY_MONITORING_EVENT_STOP_ITERATION: c_int = 10;
/// RAISE: an exception is raised.
pub const PY_MONITORING_EVENT_RAISE: c_int = 11;
/// EXCEPTION_HANDLED: an exception is handled.
pub const PY_MONITORING_EVENT_EXCEPTION_HANDLED: c_int = 12;
/// PY_UNWIND: a function exits with an exception.
pub const PY_MONITORING_EVENT_PY_UNWIND: c_int = 13;
/// PY_THROW: an exception is thrown into a generator.
pub const PY_MONITORING_EVENT_PY_THROW: c_int = 14;
/// RERAISE: an exception is re-raised.
pub const PY_MONITORING_EVENT_RERAISE: c_int = 15;
/// C_RETURN: a C function returns (its scope slot gets CALL's tools).
pub const PY_MONITORING_EVENT_C_RETURN: c_int = 16;
/// C_RAISE: a C function raises (its scope slot gets CALL's tools).
pub const PY_MONITORING_EVENT_C_RAISE: c_int = 17;
/// BRANCH (legacy): BRANCH_LEFT | BRANCH_RIGHT in sets; BRANCH_RIGHT's tools in scopes.
pub const PY_MONITORING_EVENT_BRANCH: c_int = 18;
/// Number of event ids.
pub const PY_MONITORING_EVENTS: c_int = 19;

/// Number of tool ids (bits of `active`).
pub const PY_MONITORING_TOOL_IDS: c_int = 8;
/// Tool id conventionally used by debuggers.
pub const PY_MONITORING_DEBUGGER_ID: c_int = 0;
/// Tool id conventionally used by coverage tools.
pub const PY_MONITORING_COVERAGE_ID: c_int = 1;
/// Tool id conventionally used by profilers.
pub const PY_MONITORING_PROFILER_ID: c_int = 2;
/// Tool id conventionally used by optimizers.
pub const PY_MONITORING_OPTIMIZER_ID: c_int = 5;

/// A callback's answer: stop delivering this event at this slot (local
/// events) until the scope is refreshed.
pub const PY_MONITORING_DISABLE: c_int = 1;

/// `PyMonitoring_SetOptions`: a DISABLE from a local event silences that
/// site (code-like, offset, event, LINE's line number, tool), not the slot,
/// until that tool restarts (`PyMonitoring_RestartToolEvents`,
/// `PyMonitoring_RestartEvents`, or the tool is cleared or freed) or the
/// option is switched off; the slot's other sites keep firing.
pub const PY_MONITORING_OPT_LASTING_DISABLE: u32 = 1;
/// The number of DISABLEd sites (code-like, offset, event, line, tool) the
/// library remembers with `PY_MONITORING_OPT_LASTING_DISABLE` (16 bytes
/// each); a DISABLE that finds no room (the table, or the few entries a site
/// may use, are full), or a LINE site at an offset of 2^25 or more or a line
/// below -1 or of 2^25 - 1 or more, is not remembered, and that site's callback
/// is called again.
pub const PY_MONITORING_DISABLED_SITES: c_int = 8192;
/// `PyMonitoring_SetOptions`: a slot's `active` holds only the tools that
/// have a callback for the slot's event.
pub const PY_MONITORING_OPT_ACTIVE_NEEDS_CALLBACK: u32 = 2;
/// `PyMonitoring_SetOptions`: `PyMonitoring_EnterScope` (also the inline
/// one's refresh) and `PyMonitoring_EnterCodeScope` read `event_types` in
/// CPython 3.13's numbering, for objects compiled against 3.13's header:
/// ids 0-16, STOP_ITERATION to C_RAISE one lower than here, and 3.13's
/// BRANCH (8) getting BRANCH_RIGHT's tools; 17 or more is a ValueError.
/// Everything else (fire functions, tool events, callbacks' `ev->event`)
/// keeps this header's ids.
pub const PY_MONITORING_OPT_CPYTHON_313_EVENT_IDS: u32 = 4;

/// `PyMonitoring_ArmSites`: the sites are instruction offsets; every local
/// event fired with the code-like is filtered by its `offset`.
pub const PY_MONITORING_ARM_OFFSETS: c_int = 0;
/// `PyMonitoring_ArmSites`: the sites are line numbers; LINE events fired
/// with the code-like are filtered by their `lineno` (the other local
/// events pass).
pub const PY_MONITORING_ARM_LINES: c_int = 1;

/// `PyMonitoring_ErrKind`: no error is set.
pub const PY_MONITORING_ERR_NONE: c_int = 0;
/// `PyMonitoring_ErrKind`: a bad argument value (CPython's ValueError).
pub const PY_MONITORING_ERR_VALUE: c_int = 1;
/// `PyMonitoring_ErrKind`: any other failure (CPython's RuntimeError).
pub const PY_MONITORING_ERR_RUNTIME: c_int = 2;
/// `PyMonitoring_ErrKind`: a host exception object is set.
pub const PY_MONITORING_ERR_HOST: c_int = 3;

const _: () = assert!(PY_MONITORING_DISABLED_SITES as usize == crate::ext::sites::SITES);

// The layout of the lasting-DISABLE mode's state that the header's inline
// fire functions read (src/ffi/header/inline.h): cbindgen writes these as
// `#define`s, and each is held equal to the core's value at compile time.

/// `opaque` bit of a slot refreshed in the lasting-DISABLE mode.
pub const _PYMONITORING_SLOT_MARK: u8 = 0x80;
const _: () = assert!(_PYMONITORING_SLOT_MARK == crate::ext::lasting::SLOT_MARK);
/// A remembered site's key: `1 << tool | event << _PYMONITORING_SITE_EVENT_SHIFT
/// | offset << _PYMONITORING_SITE_OFFSET_SHIFT | (line + 1) << _PYMONITORING_SITE_LINE_SHIFT`
/// for LINE, where `line + 1` is LINE's `lineno` plus one as 32 bits (a LINE site whose
/// offset or line does not fit below the next field is never remembered); for the other
/// events `1 << tool | event << _PYMONITORING_SITE_EVENT_SHIFT | offset <<
/// _PYMONITORING_SITE_OFFSET_SHIFT` with the offset's 32 bits (every offset fits).
pub const _PYMONITORING_SITE_EVENT_SHIFT: u32 = 8;
const _: () = assert!(_PYMONITORING_SITE_EVENT_SHIFT == crate::ext::sites::EVENT_SHIFT);
/// See `_PYMONITORING_SITE_EVENT_SHIFT`.
pub const _PYMONITORING_SITE_OFFSET_SHIFT: u32 = 14;
const _: () = assert!(_PYMONITORING_SITE_OFFSET_SHIFT == crate::ext::sites::OFFSET_SHIFT);
/// See `_PYMONITORING_SITE_EVENT_SHIFT`.
pub const _PYMONITORING_SITE_LINE_SHIFT: u32 = 39;
const _: () = assert!(_PYMONITORING_SITE_LINE_SHIFT == crate::ext::sites::LINE_SHIFT);
/// A per-call-site cache's claim (the header's inline fire macros): `active
/// | offset << _PYMONITORING_CACHE_OFFSET_SHIFT ^ (line + 1) <<
/// _PYMONITORING_CACHE_LINE_SHIFT ^ (offset >> _PYMONITORING_CACHE_OFFSET_LOW_BITS)
/// << _PYMONITORING_CACHE_OFFSET_HIGH_SHIFT | stamp` (one-to-one; an offset
/// below 512 and `line + 1` below 16384 give a site part below 2^31), with
/// the offset and `line + 1` below `1 << _PYMONITORING_CACHE_FIELD_BITS`
/// (other sites are not cached) and the stamp
/// `_PyMonitoring_DisabledSites->stamp`.
pub const _PYMONITORING_CACHE_OFFSET_SHIFT: u32 = 8;
const _: () = assert!(_PYMONITORING_CACHE_OFFSET_SHIFT == crate::ext::sites::CACHE_OFFSET_SHIFT);
/// See `_PYMONITORING_CACHE_OFFSET_SHIFT`.
pub const _PYMONITORING_CACHE_OFFSET_LOW_BITS: u32 = 9;
const _: () =
    assert!(_PYMONITORING_CACHE_OFFSET_LOW_BITS == crate::ext::sites::CACHE_OFFSET_LOW_BITS);
/// See `_PYMONITORING_CACHE_OFFSET_SHIFT`.
pub const _PYMONITORING_CACHE_LINE_SHIFT: u32 = 17;
const _: () = assert!(_PYMONITORING_CACHE_LINE_SHIFT == crate::ext::sites::CACHE_LINE_SHIFT);
/// See `_PYMONITORING_CACHE_OFFSET_SHIFT`.
pub const _PYMONITORING_CACHE_OFFSET_HIGH_SHIFT: u32 = 39;
const _: () =
    assert!(_PYMONITORING_CACHE_OFFSET_HIGH_SHIFT == crate::ext::sites::CACHE_OFFSET_HIGH_SHIFT);
/// See `_PYMONITORING_CACHE_OFFSET_SHIFT`.
pub const _PYMONITORING_CACHE_FIELD_BITS: u32 = 22;
const _: () = assert!(1 << _PYMONITORING_CACHE_FIELD_BITS == crate::ext::sites::CACHE_FIELD_LIMIT);
/// The stamp's shift: `_PyMonitoring_DisabledSites->stamp` is the number of
/// table rewrites shifted by it, saturated at all ones.
pub const _PYMONITORING_CACHE_STAMP_SHIFT: u32 = 52;
const _: () = assert!(_PYMONITORING_CACHE_STAMP_SHIFT == crate::ext::sites::STAMP_SHIFT);
/// A site's home entry in `_PyMonitoring_DisabledSites`:
/// `((code-like address + key without the tool) * _PYMONITORING_SITE_HASH)
/// >> _PYMONITORING_SITE_HASH_SHIFT`.
pub const _PYMONITORING_SITE_HASH: u64 = 0x9E37_79B9_7F4A_7C15;
const _: () = assert!(_PYMONITORING_SITE_HASH == crate::ext::sites::HASH_MULTIPLIER);
/// See `_PYMONITORING_SITE_HASH`: 64 minus log2 of `PY_MONITORING_DISABLED_SITES`.
pub const _PYMONITORING_SITE_HASH_SHIFT: u32 = 51;
const _: () = assert!(_PYMONITORING_SITE_HASH_SHIFT == crate::ext::sites::HASH_SHIFT);
