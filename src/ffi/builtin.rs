//! The built-in tools from C, the library version, and the load-time
//! constructor that starts tools named by environment variables.

use std::ffi::{c_char, c_int, CStr, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::guard::{guard, require, status};
use super::object;
use super::types::PyObject;
use crate::builtin::{self, CoverageMode};
use crate::error::Error;

/// Coverage mode for `PyMonitoring_StartCoverage`: record a line, then
/// return `PY_MONITORING_DISABLE`, so each LINE slot costs one callback
/// until the next restart. Use it when every line has its own LINE slot.
pub const PY_MONITORING_COVERAGE_ONCE: c_int = 0;
/// Coverage mode for `PyMonitoring_StartCoverage`: record every LINE event
/// and never disable: exact counts, whatever the slot layout (one LINE slot
/// per activation, as Cython has, needs this mode).
pub const PY_MONITORING_COVERAGE_COUNT: c_int = 1;

/// The library's version, `"MAJOR.MINOR.PATCH"`: the same string as the
/// header's `PYMONITORING_VERSION` when header and library match. Static
/// storage; never NULL; callable from any thread at any time.
#[no_mangle]
pub extern "C" fn PyMonitoring_LibraryVersion() -> *const c_char {
    const VERSION: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(v) => v,
            Err(_) => panic!("the crate version has no NUL"),
        };
    VERSION.as_ptr()
}

/// A C path as a `Path` (bytes, as Unix takes them).
///
/// # Safety
/// `path` is a non-NULL NUL-terminated string.
unsafe fn path<'a>(path: *const c_char) -> &'a Path {
    // SAFETY: by the caller's contract.
    Path::new(OsStr::from_bytes(
        unsafe { CStr::from_ptr(path) }.to_bytes(),
    ))
}

/// Name code-like `codelike` for the built-in tools: function `name` in
/// `file`, starting at line `firstlineno`. The profiler shows the name (an
/// unnamed code-like appears as its address); coverage needs the file.
/// Registering a code-like again replaces its entry (for hosts that reuse
/// an address for a new code-like).
///
/// Returns 0, or -1 with a ValueError when `codelike` or `name` is NULL.
/// `file` may be NULL (shown as `"<unknown>"`). Both strings are copied;
/// invalid UTF-8 is replaced. Thread-safe.
///
/// # Safety
/// `name` and `file` must be NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn PyMonitoring_RegisterCodeName(
    codelike: *mut PyObject,
    name: *const c_char,
    file: *const c_char,
    firstlineno: c_int,
) -> c_int {
    guard!("PyMonitoring_RegisterCodeName", -1, {
        let Some(code) = object(codelike) else {
            require!(false, "codelike must not be NULL");
            unreachable!()
        };
        require!(!name.is_null(), "name must not be NULL");
        // SAFETY: non-NULL and NUL-terminated by the caller's contract.
        let name = unsafe { CStr::from_ptr(name) }.to_string_lossy();
        let file = if file.is_null() {
            "<unknown>".into()
        } else {
            // SAFETY: as above.
            unsafe { CStr::from_ptr(file) }.to_string_lossy()
        };
        builtin::names::register_code_name(code, &name, &file, firstlineno);
        0
    })
}

/// Start the JSON-lines recorder on tool id `tool` (0–5), writing every
/// event it receives to `path` (a `%p` in it becomes the process id). The
/// file is complete after `PyMonitoring_StopBuiltinTool(tool)`, or at
/// process exit.
///
/// Returns 0, or -1 with the error set: ValueError for a NULL `path`, a bad
/// tool id or one in use (unless a tool started by an environment variable
/// holds it: that one steps aside, see docs/TOOLS.md), or a `path` another
/// built-in tool writes; RuntimeError when `path` cannot be created. A
/// failure changes nothing: no version change, DISABLEd slots stay so.
/// Thread-safe.
///
/// # Safety
/// `path` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn PyMonitoring_StartRecorder(tool: c_int, path: *const c_char) -> c_int {
    guard!("PyMonitoring_StartRecorder", -1, {
        require!(!path.is_null(), "path must not be NULL");
        // SAFETY: non-NULL and NUL-terminated by the caller's contract.
        let path = unsafe { self::path(path) };
        status(tool_id(tool).and_then(|t| builtin::start_recorder(t, path)))
    })
}

/// Start the profiler on tool id `tool` (0–5), writing a Chrome trace-event
/// JSON file to `path` (a `%p` becomes the process id) for Perfetto or
/// chrome://tracing: one slice per activation (PY_START/PY_RESUME/PY_THROW
/// to PY_RETURN/PY_YIELD/PY_UNWIND) per thread, RAISE/RERAISE/
/// EXCEPTION_HANDLED as instants. Name code-likes with
/// `PyMonitoring_RegisterCodeName`.
///
/// Returns 0, or -1 with the error set, as `PyMonitoring_StartRecorder`.
///
/// # Safety
/// `path` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn PyMonitoring_StartProfiler(tool: c_int, path: *const c_char) -> c_int {
    guard!("PyMonitoring_StartProfiler", -1, {
        require!(!path.is_null(), "path must not be NULL");
        // SAFETY: non-NULL and NUL-terminated by the caller's contract.
        let path = unsafe { self::path(path) };
        status(tool_id(tool).and_then(|t| builtin::start_profiler(t, path)))
    })
}

/// Start line coverage on tool id `tool` (0–5), writing an lcov tracefile to
/// `path` (a `%p` becomes the process id) on every
/// `PyMonitoring_FlushBuiltinTools` and when stopped. `mode` is
/// `PY_MONITORING_COVERAGE_ONCE` (DISABLE after recording, one callback per
/// LINE slot) or `PY_MONITORING_COVERAGE_COUNT` (every line execution).
/// Files and function names come from `PyMonitoring_RegisterCodeName`;
/// unregistered code-likes are left out.
///
/// Returns 0, or -1 with the error set, as `PyMonitoring_StartRecorder`, and
/// a ValueError for an unknown `mode`.
///
/// # Safety
/// `path` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn PyMonitoring_StartCoverage(
    tool: c_int,
    path: *const c_char,
    mode: c_int,
) -> c_int {
    guard!("PyMonitoring_StartCoverage", -1, {
        require!(!path.is_null(), "path must not be NULL");
        let mode = match mode {
            PY_MONITORING_COVERAGE_ONCE => CoverageMode::Once,
            PY_MONITORING_COVERAGE_COUNT => CoverageMode::Count,
            other => {
                require!(false, "invalid coverage mode {other} (use PY_MONITORING_COVERAGE_ONCE or PY_MONITORING_COVERAGE_COUNT)");
                unreachable!()
            }
        };
        // SAFETY: non-NULL and NUL-terminated by the caller's contract.
        let path = unsafe { self::path(path) };
        status(tool_id(tool).and_then(|t| builtin::start_coverage(t, path, mode)))
    })
}

/// Stop the built-in tool running on `tool`: its tool id is freed (no more
/// callbacks) and its file completed and closed.
///
/// Returns 0, or -1 with a ValueError when no built-in tool runs on `tool`,
/// or a RuntimeError naming the tool and its file when the file could not
/// be written (the tool is stopped anyway). In a child made by `fork`, a
/// tool inherited from the parent is stopped without writing anything.
/// Thread-safe.
#[no_mangle]
pub extern "C" fn PyMonitoring_StopBuiltinTool(tool: c_int) -> c_int {
    guard!("PyMonitoring_StopBuiltinTool", -1, {
        status(tool_id(tool).and_then(builtin::stop))
    })
}

/// Stop every running built-in tool (as `PyMonitoring_StopBuiltinTool`).
/// The library does this itself when the process exits. Returns 0, or -1
/// after trying them all, with one error naming every tool that failed (its
/// variable, if one started it, and its file).
#[no_mangle]
pub extern "C" fn PyMonitoring_StopBuiltinTools() -> c_int {
    guard!("PyMonitoring_StopBuiltinTools", -1, {
        status(builtin::stop_all())
    })
}

/// Write out what the running built-in tools have buffered, without
/// stopping them (recorder lines, profiler events, a coverage snapshot).
/// Returns 0, or -1 with a RuntimeError naming every tool whose file could
/// not be written. In a forked child, the parent's tools write nothing.
#[no_mangle]
pub extern "C" fn PyMonitoring_FlushBuiltinTools() -> c_int {
    guard!("PyMonitoring_FlushBuiltinTools", -1, {
        status(builtin::flush_all())
    })
}

fn tool_id(tool: c_int) -> Result<u8, Error> {
    crate::registry::check_tool(tool.into())
}

/// Report a built-in tool failure where no caller can see it.
fn report(what: &str, e: &Error) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "pymonitoring: {what}: {e}");
}

/// Runs when the library is loaded (the ELF `.init_array`, before `main`
/// for a program linked with the library, at `dlopen` otherwise): sets up
/// the fork handlers and the thread-exit hook (`ffi/process.rs`), applies
/// `PYMONITORING_OPTIONS` (see `crate::ext::options::set_from_env`), then starts
/// the built-in tools that `PYMONITORING_RECORD`, `PYMONITORING_TRACE` and
/// `PYMONITORING_COVERAGE` name (see `crate::builtin::start_from_env`),
/// printing a line on stderr for each that cannot start. Nothing else is
/// done at load time, and nothing at all when none of them is set. A Rust
/// program linking the rlib runs this too when the linker keeps this
/// object (docs/TOOLS.md, "The Rust API").
extern "C" fn on_load() {
    let _ = std::panic::catch_unwind(|| {
        #[cfg(not(loom))]
        super::process::install();
        if let Err(e) = crate::ext::options::set_from_env() {
            report("PYMONITORING_OPTIONS", &e);
        }
        for (var, e) in builtin::start_from_env() {
            report(var, &e);
        }
    });
}

/// Runs when the library is unloaded or the process exits (`.fini_array`):
/// deletes the thread-exit key and stops every running built-in tool so
/// that its file is complete, printing one line on stderr for each that
/// fails (naming its tool, variable and file). In a forked child the
/// parent's tools write nothing.
extern "C" fn on_unload() {
    let _ = std::panic::catch_unwind(|| {
        #[cfg(not(loom))]
        super::process::uninstall();
        for line in builtin::stop_all_at_exit() {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "pymonitoring: {line}");
        }
    });
}

#[used]
#[link_section = ".init_array"]
static ON_LOAD: extern "C" fn() = on_load;

#[used]
#[link_section = ".fini_array"]
static ON_UNLOAD: extern "C" fn() = on_unload;
