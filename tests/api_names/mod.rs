//! The names of every function of the C API, written down here by hand from
//! docs/BEHAVIOUR.md, "Scopes", "Registry" and "Firing" (not read from the
//! header or the sources), so tests can check
//! the header and the built library against them.
#![allow(dead_code)]

/// CPython 3.14's event names, indexed by event id (docs/BEHAVIOUR.md, "Events and sets").
pub const EVENT_NAMES: [&str; 19] = [
    "PY_START",
    "PY_RESUME",
    "PY_RETURN",
    "PY_YIELD",
    "CALL",
    "LINE",
    "INSTRUCTION",
    "JUMP",
    "BRANCH_LEFT",
    "BRANCH_RIGHT",
    "STOP_ITERATION",
    "RAISE",
    "EXCEPTION_HANDLED",
    "PY_UNWIND",
    "PY_THROW",
    "RERAISE",
    "C_RETURN",
    "C_RAISE",
    "BRANCH",
];

/// The 17 events with a `PyMonitoring_Fire<Name>Event` function (CPython 3.14).
pub const FIRE_EVENTS: [&str; 17] = [
    "PyStart",
    "PyResume",
    "PyReturn",
    "PyYield",
    "Call",
    "Line",
    "Jump",
    "BranchLeft",
    "BranchRight",
    "CReturn",
    "PyThrow",
    "Raise",
    "Reraise",
    "ExceptionHandled",
    "CRaise",
    "PyUnwind",
    "StopIteration",
];

/// The 17 exported `PyMonitoring_Fire*Event` functions.
pub fn plain_fire_functions() -> Vec<String> {
    FIRE_EVENTS
        .iter()
        .map(|e| format!("PyMonitoring_Fire{e}Event"))
        .collect()
}

/// The 18 `_PyMonitoring_Fire*Event` entry points, with the legacy BRANCH one.
pub fn underscore_fire_functions() -> Vec<String> {
    FIRE_EVENTS
        .iter()
        .copied()
        .chain(["Branch"])
        .map(|e| format!("_PyMonitoring_Fire{e}Event"))
        .collect()
}

/// The 10 local events with a fire function (docs/BEHAVIOUR.md, "Events and sets").
pub const LOCAL_FIRE_EVENTS: [&str; 10] = [
    "PyStart",
    "PyResume",
    "PyReturn",
    "PyYield",
    "Call",
    "Line",
    "Jump",
    "BranchLeft",
    "BranchRight",
    "StopIteration",
];

/// The 10 `_PyMonitoring_Fire*EventUnmarked` entry points the header's
/// inline wrappers of the local events call when their own check of a
/// lasting-DISABLE slot's site found nothing remembered (docs/EXTENSIONS.md,
/// "DISABLE that lasts").
pub fn unmarked_fire_functions() -> Vec<String> {
    LOCAL_FIRE_EVENTS
        .iter()
        .map(|e| format!("_PyMonitoring_Fire{e}EventUnmarked"))
        .collect()
}

/// Scope functions (docs/BEHAVIOUR.md, "Scopes").
pub const SCOPE_FUNCTIONS: [&str; 2] = ["PyMonitoring_EnterScope", "PyMonitoring_ExitScope"];

/// The out-of-line entry points the header's inline `PyMonitoring_EnterScope`
/// calls when the version is stale and its inline
/// `PyMonitoring_GetRaisedException` when the raised-exception count is not
/// 0 (`PYMONITORING_INLINE`).
pub const INLINE_SUPPORT_FUNCTIONS: [&str; 2] = [
    "_PyMonitoring_EnterScope",
    "_PyMonitoring_GetRaisedException",
];

/// Registry functions (docs/BEHAVIOUR.md, "Registry", and the wait of
/// docs/CONCURRENCY.md).
pub const REGISTRY_FUNCTIONS: [&str; 11] = [
    "PyMonitoring_UseToolId",
    "PyMonitoring_ClearToolId",
    "PyMonitoring_FreeToolId",
    "PyMonitoring_GetTool",
    "PyMonitoring_SetEvents",
    "PyMonitoring_GetEvents",
    "PyMonitoring_RegisterCallback",
    "PyMonitoring_GetCallback",
    "PyMonitoring_RestartEvents",
    "PyMonitoring_GetVersion",
    "PyMonitoring_WaitForCallbacks",
];

/// Error-indicator functions and the MISSING sentinel (docs/BEHAVIOUR.md,
/// "Firing").
pub const ERROR_FUNCTIONS: [&str; 8] = [
    "PyMonitoring_ErrOccurred",
    "PyMonitoring_ErrClear",
    "PyMonitoring_ErrKind",
    "PyMonitoring_ErrMessage",
    "PyMonitoring_ErrSetString",
    "PyMonitoring_SetRaisedException",
    "PyMonitoring_GetRaisedException",
    "PyMonitoring_GetMissing",
];

/// The library version, code-like names and the built-in tools
/// (docs/TOOLS.md).
pub const TOOLS_FUNCTIONS: [&str; 8] = [
    "PyMonitoring_LibraryVersion",
    "PyMonitoring_RegisterCodeName",
    "PyMonitoring_StartRecorder",
    "PyMonitoring_StartProfiler",
    "PyMonitoring_StartCoverage",
    "PyMonitoring_StopBuiltinTool",
    "PyMonitoring_StopBuiltinTools",
    "PyMonitoring_FlushBuiltinTools",
];

/// The opt-in features beyond CPython (docs/EXTENSIONS.md).
pub const EXTENSION_FUNCTIONS: &[&str] = &[
    "PyMonitoring_SetOptions",
    "PyMonitoring_GetOptions",
    // codelikes: local events, code scopes, armed sites
    "PyMonitoring_SetLocalEvents",
    "PyMonitoring_GetLocalEvents",
    "PyMonitoring_EnterCodeScope",
    "PyMonitoring_ArmSites",
    "PyMonitoring_DisarmSites",
    // lasting: per-tool restart
    "PyMonitoring_RestartToolEvents",
];

/// The host runtime's hooks (docs/HOSTS.md).
pub const HOST_FUNCTIONS: [&str; 1] = ["PyMonitoring_SetHost"];

/// Every function the library exports.
pub fn all_functions() -> Vec<String> {
    let mut v = plain_fire_functions();
    v.extend(underscore_fire_functions());
    v.extend(unmarked_fire_functions());
    v.extend(
        SCOPE_FUNCTIONS
            .iter()
            .chain(&REGISTRY_FUNCTIONS)
            .chain(&ERROR_FUNCTIONS)
            .chain(&TOOLS_FUNCTIONS)
            .chain(&INLINE_SUPPORT_FUNCTIONS)
            .chain(EXTENSION_FUNCTIONS)
            .chain(&HOST_FUNCTIONS)
            .map(|s| s.to_string()),
    );
    v
}
