//! Per-tool restart (`docs/EXTENSIONS.md`, "Per-tool restart" and
//! "DISABLE that lasts").

use std::ffi::c_int;

use crate::ext::lasting;
use crate::ffi::guard::{guard, status};

/// Re-enable only `tool`'s DISABLEd slots and sites; other tools' DISABLEs
/// stay. Moves the global version.
///
/// In the default mode, a scope refreshed after nothing but per-tool
/// restarts gets back only the restarted tools' bits; after any other change
/// it is refreshed as CPython does (every DISABLE ends). With
/// `PY_MONITORING_OPT_LASTING_DISABLE`, its remembered sites are forgotten
/// at once.
///
/// Returns 0, or -1 with a ValueError (nothing changes) when `tool` is not
/// between 0 and 5 (`invalid tool %d (must be between 0 and 5)`) or is not
/// in use (`tool %d is not in use`, as `PyMonitoring_SetEvents`).
/// Thread-safe; a fire running on another thread at the same time may still
/// skip the tool at a site it DISABLEd.
#[no_mangle]
pub extern "C" fn PyMonitoring_RestartToolEvents(tool: c_int) -> c_int {
    guard!("PyMonitoring_RestartToolEvents", -1, {
        status(lasting::restart_tool_events(tool.into()))
    })
}
