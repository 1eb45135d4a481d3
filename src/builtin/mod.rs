//! Built-in tools that need no code: a JSON-lines event recorder, a Chrome
//! trace-event profiler and an lcov line-coverage tool.
//!
//! Each claims a tool id and installs its callbacks through the safe
//! [`api`](crate::api), so it sees exactly what any other tool would. Start
//! one with a call:
//!
//! | tool | Rust | C | environment (read once at load) |
//! |---|---|---|---|
//! | recorder | [`start_recorder`] | `PyMonitoring_StartRecorder(tool, path)` | `PYMONITORING_RECORD=path` |
//! | profiler | [`start_profiler`] | `PyMonitoring_StartProfiler(tool, path)` | `PYMONITORING_TRACE=path` |
//! | coverage | [`start_coverage`] | `PyMonitoring_StartCoverage(tool, path, mode)` | `PYMONITORING_COVERAGE=path` |
//!
//! Files are complete after [`stop`] / [`stop_all`]
//! (`PyMonitoring_StopBuiltinTool`, `PyMonitoring_StopBuiltinTools`), and
//! the C library also stops every running built-in tool when the process
//! exits. [`flush_all`] (`PyMonitoring_FlushBuiltinTools`) writes out what
//! is buffered without stopping. A `%p` in a path is replaced by the process
//! id. Tools belong to the process that started them: in a child made by
//! `fork` they record and write nothing. See `docs/TOOLS.md` for the file
//! formats, the environment variables and how the tools started by them
//! find a tool id.
//!
//! ```
//! use pymonitoring::api::{register_code_name, Event, ObjectRef, Scope};
//! use pymonitoring::builtin;
//!
//! let dir = std::env::temp_dir().join(format!("pm-builtin-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! builtin::start_recorder(3, dir.join("events.jsonl"))?;
//!
//! let code = ObjectRef::from_addr(0x1000).unwrap();
//! register_code_name(code, "main", "main.pyx", 1);
//! let scope = Scope::new(&[Event::PyStart]);
//! scope.enter();
//! scope.slot(0).fire_py_start(code, 0)?;
//!
//! builtin::stop(3)?;
//! let log = std::fs::read_to_string(dir.join("events.jsonl"))?;
//! assert!(log.contains(r#""event":"PY_START""#) && log.contains(r#""name":"main""#));
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::cell::Cell;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use crate::api::{Action, Event, EventRecord, EventSet};
use crate::error::Error;
use crate::registry::{self, Handler};

mod coverage;
mod env;
mod file;
mod json;
pub mod names;
mod profiler;
mod recorder;
mod running;

pub use coverage::CoverageMode;
pub use env::start_from_env;
use file::{create, escape_controls, expand, file_id, io_error, shown, Sink};
pub(crate) use running::{claim_ended, stop_all_at_exit};
use running::{finish, running_list, Running, FIRST_PID};
pub use running::{flush_all, running, stop, stop_all};

/// Which built-in tool runs on an id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The JSON-lines event recorder.
    Recorder,
    /// The Chrome trace-event profiler.
    Profiler,
    /// The lcov line-coverage tool.
    Coverage,
}

impl Kind {
    /// The name the tool id is claimed under.
    ///
    /// ```
    /// use pymonitoring::builtin::Kind;
    /// assert_eq!(Kind::Profiler.tool_name(), "pymonitoring profiler");
    /// ```
    pub fn tool_name(self) -> &'static str {
        match self {
            Kind::Recorder => "pymonitoring recorder",
            Kind::Profiler => "pymonitoring profiler",
            Kind::Coverage => "pymonitoring coverage",
        }
    }

    fn word(self) -> &'static str {
        match self {
            Kind::Recorder => "recorder",
            Kind::Profiler => "profiler",
            Kind::Coverage => "coverage",
        }
    }
}

/// A tool's output: written out by `flush`, completed by `finish`.
pub(crate) trait Output: Send + Sync {
    /// Write what is buffered; the file stays open.
    fn flush(&self) -> Result<(), Error>;
    /// Complete and close the file. Events after this are ignored.
    fn finish(&self) -> Result<(), Error>;
}

/// What a tool's `install` hands back: its output, its callbacks and the
/// events it asks for, installed in one registry change.
pub(crate) struct Installed {
    pub output: Arc<dyn Output>,
    pub handlers: Vec<(Event, Arc<dyn Handler>)>,
    pub events: EventSet,
}

/// This process's id as the tools' callbacks compare it, cached because
/// `getpid` is a system call and a callback runs per event. The C layer
/// sets it when it registers its fork handlers and again in every forked
/// child; while it is unset (0: no handlers, as for a Rust program whose
/// linker dropped the load-time constructor) each check asks the system.
static PROCESS_ID: AtomicU32 = AtomicU32::new(0);

/// Cache this process's id for [`process_id`]: at load, after the fork
/// handlers are registered, and in a forked child (from its fork handler).
#[cfg_attr(loom, allow(dead_code))]
pub(crate) fn remember_process_id() {
    PROCESS_ID.store(std::process::id(), Ordering::Relaxed);
}

fn process_id() -> u32 {
    match PROCESS_ID.load(Ordering::Relaxed) {
        0 => std::process::id(),
        pid => pid,
    }
}

/// `callback`, silent in a forked child: there it returns at once, before
/// touching the tool's lock (which a parent thread may have held at the
/// fork) or its file (shared with the parent).
pub(crate) fn handler<F>(pid: u32, callback: F) -> Arc<dyn Handler>
where
    F: Fn(&EventRecord) -> Action + Send + Sync + 'static,
{
    crate::api::handler(move |ev| {
        if process_id() != pid {
            return Action::Continue;
        }
        callback(ev)
    })
}

type Install = dyn FnOnce(BufWriter<File>, PathBuf, u32) -> Result<Installed, Error>;

/// Claim a tool id for `kind` (`tool`, or the highest free one), create
/// its file, and install its callbacks; on success the tool is listed as
/// running. A failure changes nothing: no version change, no file when
/// the id is taken.
fn start(
    kind: Kind,
    tool: Option<u8>,
    var: Option<&'static str>,
    path: &Path,
    install: Box<Install>,
) -> Result<u8, Error> {
    let path = expand(path);
    let reg = registry::global();
    let (id, token) = reg.claim_builtin(
        tool,
        kind.tool_name(),
        var.is_some() && tool.is_none(),
        claim_ended,
    )?;
    if let Some(file) = file_id(&path) {
        let list = running_list();
        if let Some(other) = list.iter().find(|r| r.file.as_ref() == Some(&file)) {
            let message = format!(
                "{} is already written by the {}",
                shown(&path),
                other.label(reg.claim_id(other.token))
            );
            drop(list);
            reg.release_claim(token);
            return Err(Error::value(message));
        }
    }
    let pid = std::process::id();
    let installed = create(&path).and_then(|w| install(w, path.clone(), pid));
    let installed = match installed {
        Ok(i) => i,
        Err(e) => {
            reg.release_claim(token);
            return Err(e);
        }
    };
    let _ = FIRST_PID.compare_exchange(0, pid, Ordering::Relaxed, Ordering::Relaxed);
    running_list().push(Running {
        kind,
        token,
        output: installed.output.clone(),
        path: path.clone(),
        file: file_id(&path),
        var,
        pid,
    });
    if let Err(e) = reg.install_claim(token, installed.handlers, installed.events) {
        let mut list = running_list();
        if let Some(i) = list.iter().position(|r| r.token == token) {
            let r = list.remove(i);
            drop(list);
            let _ = finish(r, false);
        }
        return Err(e);
    }
    Ok(reg.claim_id(token).unwrap_or(id))
}

/// Start the recorder on `tool`: every event it receives (all of them)
/// becomes one JSON object on its own line of `path`:
/// `{"time":…,"thread":…,"tool":…,"event":"LINE","codelike":"0x…","name":…,"file":…,"offset":…,"lineno":…,"args":{…}}`.
///
/// `time` is in nanoseconds since the library's clock started, `thread` a
/// small number per thread (the profiler's `tid`); `name` and `file` appear
/// for registered code-likes; `args` names the event's object arguments
/// (`retval`, `callable`/`arg0`, `destination`, `value`, `exception`) as
/// addresses, or `"MISSING"`.
///
/// Fails when `tool` is not a free id from 0 to 5, `path` is a file another
/// built-in tool writes, or `path` cannot be created; a failed start
/// changes nothing (no version change, no file when the id is taken).
///
/// ```
/// use pymonitoring::builtin;
///
/// let path = std::env::temp_dir().join(format!("pm-rec-{}.jsonl", std::process::id()));
/// builtin::start_recorder(3, &path)?;
/// assert!(builtin::start_recorder(3, &path).is_err(), "id 3 is taken");
/// builtin::stop(3)?;
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn start_recorder(tool: u8, path: impl AsRef<Path>) -> Result<(), Error> {
    start_kind(
        Kind::Recorder,
        Some(tool),
        None,
        path.as_ref(),
        CoverageMode::Once,
    )
    .map(drop)
}

/// Start the profiler on `tool`: a Chrome trace-event JSON file at `path`
/// (open it in <https://ui.perfetto.dev> or `chrome://tracing`).
///
/// Each activation of a code-like is a slice on its thread, from PY_START,
/// PY_RESUME or PY_THROW to PY_RETURN, PY_YIELD or PY_UNWIND; RAISE,
/// RERAISE and EXCEPTION_HANDLED are instant events. Slices still
/// open when the profiler stops are closed then, so every thread's slices
/// balance. Fails as [`start_recorder`].
///
/// ```
/// use pymonitoring::builtin;
///
/// let path = std::env::temp_dir().join(format!("pm-prof-{}.json", std::process::id()));
/// builtin::start_profiler(2, &path)?;
/// builtin::stop(2)?;
/// assert!(std::fs::read_to_string(&path)?.trim_end().ends_with(']'));
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn start_profiler(tool: u8, path: impl AsRef<Path>) -> Result<(), Error> {
    start_kind(
        Kind::Profiler,
        Some(tool),
        None,
        path.as_ref(),
        CoverageMode::Once,
    )
    .map(drop)
}

/// Start line coverage on `tool`: an lcov tracefile at `path` (for
/// `genhtml`), written on [`flush_all`] and [`stop`]. Lines come from LINE
/// events, function call counts from PY_START; file and function names
/// from [`register_code_name`](names::register_code_name). Code-likes
/// never registered have no file and are left out; when no line at all
/// was recorded, stopping fails with the reason and removes the empty file
/// (lcov and `genhtml` reject one). Fails to start as [`start_recorder`].
///
/// With [`CoverageMode::Once`] the callbacks return DISABLE, so each slot
/// costs one callback until the next restart (see [`CoverageMode`]).
///
/// ```
/// use pymonitoring::api::{register_code_name, Event, ObjectRef, Scope};
/// use pymonitoring::builtin::{self, CoverageMode};
///
/// let path = std::env::temp_dir().join(format!("pm-cov-{}.info", std::process::id()));
/// builtin::start_coverage(1, &path, CoverageMode::Count)?;
/// let code = ObjectRef::from_addr(0x4000).unwrap();
/// register_code_name(code, "f", "f.pyx", 1);
/// let scope = Scope::new(&[Event::Line]);
/// scope.enter();
/// scope.slot(0).fire_line(code, 0, 2)?;
/// builtin::stop(1)?;
/// let lcov = std::fs::read_to_string(&path)?;
/// assert!(lcov.contains("SF:f.pyx\n") && lcov.contains("DA:2,1\n"));
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn start_coverage(tool: u8, path: impl AsRef<Path>, mode: CoverageMode) -> Result<(), Error> {
    start_kind(Kind::Coverage, Some(tool), None, path.as_ref(), mode).map(drop)
}

fn start_kind(
    kind: Kind,
    tool: Option<u8>,
    var: Option<&'static str>,
    path: &Path,
    mode: CoverageMode,
) -> Result<u8, Error> {
    let install: Box<Install> = match kind {
        Kind::Recorder => Box::new(recorder::install),
        Kind::Profiler => Box::new(profiler::install),
        Kind::Coverage => Box::new(move |w, p, pid| coverage::install(w, p, pid, mode)),
    };
    start(kind, tool, var, path, install)
}

/// Nanoseconds since the tools' clock started (at the first use).
pub(crate) fn now_ns() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// A small number for the calling thread, stable for its life: 1 for the
/// first thread seen, then 2, … (the profiler's `tid`).
pub(crate) fn thread_number() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        static NUMBER: Cell<u64> = const { Cell::new(0) };
    }
    NUMBER
        .try_with(|n| {
            if n.get() == 0 {
                n.set(NEXT.fetch_add(1, Ordering::Relaxed));
            }
            n.get()
        })
        .unwrap_or(0)
}

/// Lock `m`, ignoring poisoning (every update leaves consistent data).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A code-like's address as tools print it.
pub(crate) fn addr(obj: crate::object::ObjectRef) -> String {
    format!("{:#x}", obj.addr())
}

#[cfg(test)]
mod tests {
    use std::os::unix::ffi::OsStrExt;

    use super::env::start_from;
    use super::*;
    use crate::api::{Scope, Tool};
    use crate::object::ObjectRef;
    use crate::test_support::registry_lock;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("pm-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn env_of(vars: &[(&str, PathBuf)]) -> Vec<(&'static str, Error)> {
        start_from(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        })
    }

    fn messages(errors: &[(&str, Error)]) -> Vec<String> {
        errors
            .iter()
            .map(|(var, e)| format!("{var}: {e}"))
            .collect()
    }

    #[test]
    fn env_starts_the_tools_it_names_and_reports_bad_values() {
        let _g = registry_lock();
        let dir = scratch("env-unit");
        let rec = dir.join("r-%p.jsonl");
        let trace = dir.join("t.json");
        let cov = dir.join("c.info");
        let errors = env_of(&[
            ("PYMONITORING_RECORD", rec.clone()),
            ("PYMONITORING_RECORD_TOOL", PathBuf::from("4")),
            ("PYMONITORING_TRACE", trace.clone()),
            ("PYMONITORING_TRACE_TOOL", PathBuf::from("9")),
            ("PYMONITORING_COVERAGE", cov.clone()),
            ("PYMONITORING_COVERAGE_MODE", PathBuf::from("sometimes")),
        ]);
        assert_eq!(running(), [(4, Kind::Recorder)]);
        assert_eq!(
            messages(&errors),
            [
                format!(
                    "PYMONITORING_TRACE: profiler ({}): PYMONITORING_TRACE_TOOL=9 is not a tool id from 0 to 5",
                    trace.display()
                ),
                format!(
                    "PYMONITORING_COVERAGE: coverage ({}): invalid coverage mode \"sometimes\" (use once or count)",
                    cov.display()
                ),
            ]
        );
        stop_all().unwrap();
        let expanded = dir.join(format!("r-{}.jsonl", std::process::id()));
        assert!(expanded.exists(), "%p is the process id");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn env_tools_take_the_highest_free_ids_and_step_aside() {
        let _g = registry_lock();
        let dir = scratch("env-ids");
        let errors = env_of(&[
            ("PYMONITORING_RECORD", dir.join("r.jsonl")),
            ("PYMONITORING_TRACE", dir.join("t.json")),
            ("PYMONITORING_COVERAGE", dir.join("c.info")),
        ]);
        assert!(errors.is_empty(), "{:?}", messages(&errors));
        assert_eq!(
            running(),
            [
                (5, Kind::Recorder),
                (4, Kind::Profiler),
                (3, Kind::Coverage)
            ]
        );
        // The program claims the recorder's id: the recorder moves to the
        // highest free id, with its events.
        let program = Tool::claim(5, "program").unwrap();
        assert_eq!(
            running(),
            [
                (2, Kind::Recorder),
                (4, Kind::Profiler),
                (3, Kind::Coverage)
            ]
        );
        assert_eq!(program.name().as_deref(), Some("program"));
        assert_eq!(program.events(), EventSet::empty());
        assert_eq!(
            crate::registry::get_events(2).unwrap(),
            EventSet::normalize((EventSet::all() - EventSet::BRANCH).bits()).unwrap()
        );
        // Changing or freeing an id the program never claimed finds it free,
        // as without the variables.
        assert_eq!(
            crate::registry::set_events(4, EventSet::LINE.bits())
                .unwrap_err()
                .message(),
            "tool 4 is not in use"
        );
        assert_eq!(
            running(),
            [
                (2, Kind::Recorder),
                (1, Kind::Profiler),
                (3, Kind::Coverage)
            ]
        );
        // Events reach the moved tools.
        let code = ObjectRef::from_addr(0x6100).unwrap();
        crate::api::register_code_name(code, "moved", "moved.pyx", 1);
        let scope = Scope::new(&[Event::PyStart, Event::Line, Event::PyReturn]);
        scope.enter();
        scope.slot(0).fire_py_start(code, 0).unwrap();
        scope.slot(1).fire_line(code, 1, 2).unwrap();
        scope.slot(2).fire_py_return(code, 2, None).unwrap();
        stop_all().unwrap();
        let log = std::fs::read_to_string(dir.join("r.jsonl")).unwrap();
        assert_eq!(log.lines().count(), 3, "{log}");
        let lcov = std::fs::read_to_string(dir.join("c.info")).unwrap();
        assert!(
            lcov.contains("SF:moved.pyx\n") && lcov.contains("DA:2,1\n"),
            "{lcov}"
        );
        assert!(log.contains(r#""tool":2,"event":"PY_START""#), "{log}");
        let trace = std::fs::read_to_string(dir.join("t.json")).unwrap();
        assert!(trace.contains(r#""end":"PY_RETURN""#), "{trace}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_pinned_id_stays_and_a_full_registry_stops_a_movable_tool() {
        let _g = registry_lock();
        let dir = scratch("env-pinned");
        let errors = env_of(&[
            ("PYMONITORING_RECORD", dir.join("r.jsonl")),
            ("PYMONITORING_TRACE", dir.join("t.json")),
            ("PYMONITORING_TRACE_TOOL", PathBuf::from("5")),
        ]);
        assert!(errors.is_empty(), "{:?}", messages(&errors));
        // The recorder went to 5 first, then moved for the pinned profiler.
        assert_eq!(running(), [(4, Kind::Recorder), (5, Kind::Profiler)]);
        assert_eq!(
            Tool::claim(5, "program").unwrap_err().message(),
            "tool 5 is already in use"
        );
        let held: Vec<Tool> = (0..4).map(|t| Tool::claim(t, "program").unwrap()).collect();
        assert_eq!(running(), [(4, Kind::Recorder), (5, Kind::Profiler)]);
        let last = Tool::claim(4, "program").unwrap();
        assert_eq!(running(), [(5, Kind::Profiler)]);
        let log = dir.join("r.jsonl");
        assert!(log.exists(), "the stopped recorder's file is complete");
        drop((held, last));
        stop_all().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn two_variables_naming_one_file_start_neither() {
        let _g = registry_lock();
        let dir = scratch("env-same");
        let same = dir.join("out");
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        let errors = env_of(&[
            ("PYMONITORING_RECORD", same.clone()),
            ("PYMONITORING_TRACE", dir.join("sub/../out")),
            ("PYMONITORING_COVERAGE", dir.join("c.info")),
        ]);
        assert_eq!(running(), [(5, Kind::Coverage)]);
        assert_eq!(
            messages(&errors),
            [
                format!(
                    "PYMONITORING_RECORD: recorder ({}): not started: PYMONITORING_TRACE names the same file",
                    same.display()
                ),
                format!(
                    "PYMONITORING_TRACE: profiler ({}): not started: PYMONITORING_RECORD names the same file",
                    dir.join("sub/../out").display()
                ),
            ]
        );
        // A started tool's file is refused to any other start.
        let e = start_recorder(0, dir.join("c.info")).unwrap_err();
        assert_eq!(
            e.message(),
            format!(
                "{} is already written by the PYMONITORING_COVERAGE: coverage on tool 5 ({})",
                dir.join("c.info").display(),
                dir.join("c.info").display()
            )
        );
        let _ = stop_all();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_tool_id_in_use_is_reported_and_nothing_is_created() {
        let _g = registry_lock();
        let _taken = Tool::claim(2, "host's own profiler").unwrap();
        let path = std::env::temp_dir().join(format!("pm-taken-{}.json", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let version = crate::registry::version();
        let e = start_profiler(2, &path).unwrap_err();
        assert_eq!(e.message(), "tool 2 is already in use");
        assert!(!path.exists());
        assert_eq!(crate::registry::version(), version);
    }

    #[test]
    fn an_uncreatable_file_is_a_runtime_error_and_changes_nothing() {
        let _g = registry_lock();
        let version = crate::registry::version();
        let e = start_recorder(3, "/nonexistent-dir/x.jsonl").unwrap_err();
        assert!(e
            .message()
            .starts_with("cannot create /nonexistent-dir/x.jsonl"));
        assert_eq!(crate::registry::tool_name(3).unwrap(), None);
        assert_eq!(crate::registry::version(), version);
    }

    #[test]
    fn paths_are_bytes_and_messages_one_line() {
        use std::ffi::OsStr;
        let raw = OsStr::from_bytes(b"/tmp/a\xff-%p\nb");
        let expanded = expand(Path::new(raw));
        assert_eq!(
            expanded.as_os_str().as_bytes(),
            format!("/tmp/a\u{fffd}-{}\nb", std::process::id())
                .replace('\u{fffd}', "\u{1}")
                .as_bytes()
                .iter()
                .map(|b| if *b == 1 { 0xff } else { *b })
                .collect::<Vec<u8>>()
        );
        assert_eq!(shown(Path::new(raw)), "/tmp/a\u{fffd}-%p\\nb");
    }
}
