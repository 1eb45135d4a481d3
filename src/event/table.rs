//! The table of events: one row per event, the one place its names, id,
//! arguments, locality, exception rule and fire documentation are written.
//!
//! The library reads it for the events' names and the fire functions'
//! names. `tests/surface.rs` renders the fire surface from it as committed
//! code (docs/ARCHITECTURE.md, "The fire surface"): the exported and
//! underscore `PyMonitoring_Fire*Event` functions (`src/ffi/fire/surface.rs`),
//! the safe API's fire methods (`src/api/fire.rs`) and the header's inline
//! wrappers (`src/ffi/header/fire.h`). That test also holds the table to
//! [`Event`](super::Event): ids, names, locality and the exception rule.

/// How an argument after `state`, `codelike` and `offset` travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    /// A host object: `PyObject *` in C, `*mut PyObject` at the ABI,
    /// `Option<ObjectRef>` in the safe API (NULL or `None`: MISSING). The
    /// first is the record's `arg0`, the second its `arg1`.
    Object,
    /// LINE's line number: `int` in C, `c_int` at the ABI, `u32` in the
    /// safe API (at most `i32::MAX`); the record's `lineno`.
    LineNumber,
}

/// One argument after `state`, `codelike` and `offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arg {
    /// Its name in C and at the ABI (CPython's).
    pub c_name: &'static str,
    /// Its name in the safe API.
    pub rust_name: &'static str,
    /// Its type.
    pub kind: ArgKind,
}

/// Which fire functions an event has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Surface {
    /// None (INSTRUCTION: CPython has no fire function for it).
    None,
    /// The exported and underscore functions, the header's inline wrapper
    /// and a fire method of the safe API.
    Full,
    /// Only the underscore function, the same as the one of the event with
    /// this id (the legacy BRANCH, fired as BRANCH_RIGHT).
    AliasOf(u8),
}

/// One event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    /// The id (CPython 3.14 numbering); the row's index in [`EVENTS`].
    pub id: u8,
    /// CPython's name: `PY_START`, also `PY_MONITORING_EVENT_PY_START`.
    pub name: &'static str,
    /// The `Event` variant, and the middle of the fire functions' names.
    pub stem: &'static str,
    /// The underscore fire function (empty without one).
    pub function: &'static str,
    /// Which fire functions it has.
    pub surface: Surface,
    /// Local: DISABLE clears a scope bit (or, in the lasting mode, a site).
    pub local: bool,
    /// Takes the thread's current exception (in the safe API, an argument).
    pub takes_exception: bool,
    /// The arguments after `state`, `codelike` and `offset`.
    pub args: &'static [Arg],
    /// What the C fire functions' docs say it means ("Fire NAME: …").
    pub c_doc: &'static str,
    /// What the safe API's fire method's doc says it means.
    pub rust_doc: &'static str,
}

const fn object(c_name: &'static str, rust_name: &'static str) -> Arg {
    Arg {
        c_name,
        rust_name,
        kind: ArgKind::Object,
    }
}

const NONE: &[Arg] = &[];
const RETVAL: &[Arg] = &[object("retval", "retval")];
const TARGET: &[Arg] = &[object("target_offset", "target")];

/// Every event, in id order.
pub const EVENTS: [Row; 19] = [
    Row {
        id: 0,
        name: "PY_START",
        stem: "PyStart",
        function: "_PyMonitoring_FirePyStartEvent",
        surface: Surface::Full,
        local: true,
        takes_exception: false,
        args: NONE,
        c_doc: "a function starts",
        rust_doc: "`code` starts.",
    },
    Row {
        id: 1,
        name: "PY_RESUME",
        stem: "PyResume",
        function: "_PyMonitoring_FirePyResumeEvent",
        surface: Surface::Full,
        local: true,
        takes_exception: false,
        args: NONE,
        c_doc: "a generator or coroutine resumes",
        rust_doc: "a generator or coroutine resumes.",
    },
    Row {
        id: 2,
        name: "PY_RETURN",
        stem: "PyReturn",
        function: "_PyMonitoring_FirePyReturnEvent",
        surface: Surface::Full,
        local: true,
        takes_exception: false,
        args: RETVAL,
        c_doc: "a function returns `retval` (delivered as `arg0`)",
        rust_doc: "`code` returns `retval` (`None`: MISSING).",
    },
    Row {
        id: 3,
        name: "PY_YIELD",
        stem: "PyYield",
        function: "_PyMonitoring_FirePyYieldEvent",
        surface: Surface::Full,
        local: true,
        takes_exception: false,
        args: &[object("retval", "value")],
        c_doc: "a generator yields `retval` (delivered as `arg0`)",
        rust_doc: "a generator yields `value` (`None`: MISSING).",
    },
    Row {
        id: 4,
        name: "CALL",
        stem: "Call",
        function: "_PyMonitoring_FireCallEvent",
        surface: Surface::Full,
        local: true,
        takes_exception: false,
        args: &[object("callable", "callable"), object("arg0", "arg0")],
        c_doc: "`callable` is about to be called with first argument `arg0` \
                (delivered as `arg0` and `arg1`)",
        rust_doc: "`callable` is about to be called with first argument `arg0` \
                   (either `None`: MISSING).",
    },
    Row {
        id: 5,
        name: "LINE",
        stem: "Line",
        function: "_PyMonitoring_FireLineEvent",
        surface: Surface::Full,
        local: true,
        takes_exception: false,
        args: &[Arg {
            c_name: "lineno",
            rust_name: "lineno",
            kind: ArgKind::LineNumber,
        }],
        c_doc: "line `lineno` is reached (delivered as `lineno`; `offset` is delivered too)",
        rust_doc: "line `lineno` of `code` is reached.",
    },
    Row {
        id: 6,
        name: "INSTRUCTION",
        stem: "Instruction",
        function: "",
        surface: Surface::None,
        local: true,
        takes_exception: false,
        args: NONE,
        c_doc: "",
        rust_doc: "",
    },
    Row {
        id: 7,
        name: "JUMP",
        stem: "Jump",
        function: "_PyMonitoring_FireJumpEvent",
        surface: Surface::Full,
        local: true,
        takes_exception: false,
        args: TARGET,
        c_doc: "a jump to `target_offset` (delivered as `arg0`)",
        rust_doc: "a jump to `target` (an object standing for the target offset).",
    },
    Row {
        id: 8,
        name: "BRANCH_LEFT",
        stem: "BranchLeft",
        function: "_PyMonitoring_FireBranchLeftEvent",
        surface: Surface::Full,
        local: true,
        takes_exception: false,
        args: TARGET,
        c_doc: "a branch goes left to `target_offset` (delivered as `arg0`)",
        rust_doc: "a branch goes left to `target`.",
    },
    Row {
        id: 9,
        name: "BRANCH_RIGHT",
        stem: "BranchRight",
        function: "_PyMonitoring_FireBranchRightEvent",
        surface: Surface::Full,
        local: true,
        takes_exception: false,
        args: TARGET,
        c_doc: "a branch goes right to `target_offset` (delivered as `arg0`)",
        rust_doc: "a branch goes right to `target` (also on a legacy BRANCH slot).",
    },
    Row {
        id: 10,
        name: "STOP_ITERATION",
        stem: "StopIteration",
        function: "_PyMonitoring_FireStopIterationEvent",
        surface: Surface::Full,
        local: true,
        takes_exception: false,
        args: &[object("value", "value")],
        c_doc: "an artificial StopIteration with `value` \
                (delivered as `arg0`, as given; nothing is left pending)",
        rust_doc: "an artificial StopIteration with `value`.",
    },
    Row {
        id: 11,
        name: "RAISE",
        stem: "Raise",
        function: "_PyMonitoring_FireRaiseEvent",
        surface: Surface::Full,
        local: false,
        takes_exception: true,
        args: NONE,
        c_doc: "the current exception is raised",
        rust_doc: "`exception` is raised at `offset`.",
    },
    Row {
        id: 12,
        name: "EXCEPTION_HANDLED",
        stem: "ExceptionHandled",
        function: "_PyMonitoring_FireExceptionHandledEvent",
        surface: Surface::Full,
        local: false,
        takes_exception: true,
        args: NONE,
        c_doc: "the current exception is handled",
        rust_doc: "`exception` is caught.",
    },
    Row {
        id: 13,
        name: "PY_UNWIND",
        stem: "PyUnwind",
        function: "_PyMonitoring_FirePyUnwindEvent",
        surface: Surface::Full,
        local: false,
        takes_exception: true,
        args: NONE,
        c_doc: "a function exits with the current exception",
        rust_doc: "`code` exits because of `exception`.",
    },
    Row {
        id: 14,
        name: "PY_THROW",
        stem: "PyThrow",
        function: "_PyMonitoring_FirePyThrowEvent",
        surface: Surface::Full,
        local: false,
        takes_exception: true,
        args: NONE,
        c_doc: "the current exception is thrown into a generator",
        rust_doc: "`exception` is thrown into a generator.",
    },
    Row {
        id: 15,
        name: "RERAISE",
        stem: "Reraise",
        function: "_PyMonitoring_FireReraiseEvent",
        surface: Surface::Full,
        local: false,
        takes_exception: true,
        args: NONE,
        c_doc: "the current exception is re-raised",
        rust_doc: "`exception` is re-raised.",
    },
    Row {
        id: 16,
        name: "C_RETURN",
        stem: "CReturn",
        function: "_PyMonitoring_FireCReturnEvent",
        surface: Surface::Full,
        local: false,
        takes_exception: false,
        args: RETVAL,
        c_doc: "a C function returns `retval` (delivered as `arg0`)",
        rust_doc: "a C function called at `offset` returned `retval`.",
    },
    Row {
        id: 17,
        name: "C_RAISE",
        stem: "CRaise",
        function: "_PyMonitoring_FireCRaiseEvent",
        surface: Surface::Full,
        local: false,
        takes_exception: true,
        args: NONE,
        c_doc: "a C function raised the current exception",
        rust_doc: "a C function called at `offset` raised `exception`.",
    },
    Row {
        id: 18,
        name: "BRANCH",
        stem: "Branch",
        function: "_PyMonitoring_FireBranchEvent",
        surface: Surface::AliasOf(9),
        local: false,
        takes_exception: false,
        args: TARGET,
        c_doc: "",
        rust_doc: "",
    },
];

/// The order of the fire functions in the header and the API: that of
/// CPython's `cpython/monitoring.h`, the legacy BRANCH last.
pub const FIRE_ORDER: [u8; 18] = [
    0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 14, 11, 15, 12, 17, 13, 10, 18,
];
