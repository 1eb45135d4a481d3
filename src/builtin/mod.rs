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
//! id. See `docs/TOOLS.md` for the file formats and the environment
//! variables.
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
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use crate::api::Tool;
use crate::error::Error;

mod coverage;
mod json;
pub mod names;
mod profiler;
mod recorder;

pub use coverage::CoverageMode;

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

    /// The tool id used when none is chosen: the recorder 3, the profiler
    /// `PY_MONITORING_PROFILER_ID` (2), coverage `PY_MONITORING_COVERAGE_ID`
    /// (1).
    ///
    /// ```
    /// use pymonitoring::builtin::Kind;
    /// assert_eq!(Kind::Coverage.default_tool(), 1);
    /// ```
    pub fn default_tool(self) -> u8 {
        match self {
            Kind::Recorder => 3,
            Kind::Profiler => 2,
            Kind::Coverage => 1,
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

struct Running {
    kind: Kind,
    tool: Tool,
    output: Arc<dyn Output>,
}

static RUNNING: Mutex<Vec<Running>> = Mutex::new(Vec::new());

fn running_list() -> std::sync::MutexGuard<'static, Vec<Running>> {
    RUNNING.lock().unwrap_or_else(|e| e.into_inner())
}

/// The built-in tools running now, by tool id.
///
/// ```
/// use pymonitoring::builtin::{self, Kind};
///
/// let path = std::env::temp_dir().join(format!("pm-running-{}.json", std::process::id()));
/// builtin::start_profiler(2, &path)?;
/// assert_eq!(builtin::running(), [(2, Kind::Profiler)]);
/// builtin::stop(2)?;
/// assert!(builtin::running().is_empty());
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn running() -> Vec<(u8, Kind)> {
    running_list()
        .iter()
        .map(|r| (r.tool.id(), r.kind))
        .collect()
}

/// `path` with every `%p` replaced by the process id.
fn expand(path: &Path) -> PathBuf {
    match path.to_str() {
        Some(s) if s.contains("%p") => {
            PathBuf::from(s.replace("%p", &std::process::id().to_string()))
        }
        _ => path.to_path_buf(),
    }
}

fn create(path: &Path) -> Result<BufWriter<File>, Error> {
    File::create(path)
        .map(|f| BufWriter::with_capacity(1 << 16, f))
        .map_err(|e| Error::runtime(format!("cannot create {}: {e}", path.display())))
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::runtime(format!("cannot write {}: {e}", path.display()))
}

/// Claim `tool` for `kind`, create its file and let `install` set up the
/// callbacks; on success the tool is listed as running.
fn start(
    kind: Kind,
    tool: u8,
    path: &Path,
    install: impl FnOnce(&Tool, BufWriter<File>, PathBuf) -> Result<Arc<dyn Output>, Error>,
) -> Result<(), Error> {
    let handle = Tool::claim(tool, kind.tool_name())?;
    let path = expand(path);
    let file = create(&path)?;
    let output = install(&handle, file, path)?;
    running_list().push(Running {
        kind,
        tool: handle,
        output,
    });
    Ok(())
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
/// Fails when `tool` is not a free id from 0 to 5 or `path` cannot be
/// created.
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
    start(Kind::Recorder, tool, path.as_ref(), recorder::install)
}

/// Start the profiler on `tool`: a Chrome trace-event JSON file at `path`
/// (open it in <https://ui.perfetto.dev> or `chrome://tracing`).
///
/// Each activation of a code-like is a slice on its thread, from PY_START,
/// PY_RESUME or PY_THROW to PY_RETURN, PY_YIELD or PY_UNWIND; RAISE,
/// RERAISE and EXCEPTION_HANDLED are instant events. Slices still
/// open when the profiler stops are closed then, so every thread's slices
/// balance.
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
    start(Kind::Profiler, tool, path.as_ref(), profiler::install)
}

/// Start line coverage on `tool`: an lcov tracefile at `path` (for
/// `genhtml`), written on [`flush_all`] and [`stop`]. Lines come from LINE
/// events, function call counts from PY_START; file and function names
/// from [`register_code_name`](names::register_code_name). Code-likes
/// never registered have no file and are left out.
///
/// With [`CoverageMode::Once`] the callbacks return DISABLE, so each slot
/// costs one callback until the next restart (see [`CoverageMode`]).
///
/// ```
/// use pymonitoring::builtin::{self, CoverageMode};
///
/// let path = std::env::temp_dir().join(format!("pm-cov-{}.info", std::process::id()));
/// builtin::start_coverage(1, &path, CoverageMode::Count)?;
/// builtin::stop(1)?;
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn start_coverage(tool: u8, path: impl AsRef<Path>, mode: CoverageMode) -> Result<(), Error> {
    start(Kind::Coverage, tool, path.as_ref(), |t, file, path| {
        coverage::install(t, file, path, mode)
    })
}

/// Stop the built-in tool on `tool`: its id is freed (no more callbacks)
/// and its file completed and closed.
///
/// Fails with a ValueError when no built-in tool runs on `tool`, or a
/// RuntimeError when the file cannot be written (the tool is stopped
/// anyway).
///
/// ```
/// use pymonitoring::builtin;
/// assert_eq!(
///     builtin::stop(4).unwrap_err().to_string(),
///     "no built-in tool is running on tool 4"
/// );
/// ```
pub fn stop(tool: u8) -> Result<(), Error> {
    let running = {
        let mut list = running_list();
        let Some(i) = list.iter().position(|r| r.tool.id() == tool) else {
            return Err(Error::value(format!(
                "no built-in tool is running on tool {tool}"
            )));
        };
        list.remove(i)
    };
    finish(running)
}

fn finish(running: Running) -> Result<(), Error> {
    let Running { tool, output, .. } = running;
    drop(tool);
    output.finish()
}

/// Stop every running built-in tool; returns the first error, after trying
/// them all.
///
/// ```
/// use pymonitoring::builtin;
///
/// let dir = std::env::temp_dir();
/// let pid = std::process::id();
/// builtin::start_recorder(3, dir.join(format!("pm-all-{pid}.jsonl")))?;
/// builtin::start_profiler(2, dir.join(format!("pm-all-{pid}.json")))?;
/// builtin::stop_all()?;
/// assert!(builtin::running().is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn stop_all() -> Result<(), Error> {
    let all: Vec<Running> = std::mem::take(&mut *running_list());
    let mut first = Ok(());
    for running in all {
        let result = finish(running);
        if first.is_ok() {
            first = result;
        }
    }
    first
}

/// Write out what every running built-in tool has buffered, without
/// stopping it: the recorder's lines so far, the profiler's events so far
/// (Chrome's viewer accepts the unterminated array) and a coverage snapshot.
///
/// ```
/// use pymonitoring::builtin;
/// builtin::flush_all()?;
/// # Ok::<(), pymonitoring::api::Error>(())
/// ```
pub fn flush_all() -> Result<(), Error> {
    let outputs: Vec<Arc<dyn Output>> = running_list().iter().map(|r| r.output.clone()).collect();
    let mut first = Ok(());
    for output in outputs {
        let result = output.flush();
        if first.is_ok() {
            first = result;
        }
    }
    first
}

/// Start the built-in tools that environment variables ask for. The C
/// library calls this once when it is loaded; a Rust program may call it
/// itself. Returns one `(variable, error)` pair per tool that could not
/// start.
///
/// | variable | meaning |
/// |---|---|
/// | `PYMONITORING_RECORD=path` | start the recorder |
/// | `PYMONITORING_TRACE=path` | start the profiler |
/// | `PYMONITORING_COVERAGE=path` | start coverage |
/// | `PYMONITORING_RECORD_TOOL`, `PYMONITORING_TRACE_TOOL`, `PYMONITORING_COVERAGE_TOOL` | tool id (default 3, 2, 1) |
/// | `PYMONITORING_COVERAGE_MODE=once\|count` | [`CoverageMode`] (default `once`) |
///
/// Empty values count as unset.
///
/// ```
/// // Nothing is set here, so nothing starts.
/// assert!(pymonitoring::builtin::start_from_env().is_empty());
/// ```
pub fn start_from_env() -> Vec<(&'static str, Error)> {
    start_from(|name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })
}

fn tool_from(var: &'static str, value: Option<PathBuf>, default: u8) -> Result<u8, Error> {
    let Some(value) = value else {
        return Ok(default);
    };
    let text = value.to_string_lossy();
    text.trim()
        .parse::<u8>()
        .map_err(|_| Error::value(format!("{var}={text} is not a tool id from 0 to 5")))
}

fn start_from(get: impl Fn(&str) -> Option<PathBuf>) -> Vec<(&'static str, Error)> {
    let mut errors = Vec::new();
    let specs: [(&str, &str, Kind); 3] = [
        (
            "PYMONITORING_RECORD",
            "PYMONITORING_RECORD_TOOL",
            Kind::Recorder,
        ),
        (
            "PYMONITORING_TRACE",
            "PYMONITORING_TRACE_TOOL",
            Kind::Profiler,
        ),
        (
            "PYMONITORING_COVERAGE",
            "PYMONITORING_COVERAGE_TOOL",
            Kind::Coverage,
        ),
    ];
    for (var, tool_var, kind) in specs {
        let Some(path) = get(var) else { continue };
        let result =
            tool_from(tool_var, get(tool_var), kind.default_tool()).and_then(|tool| match kind {
                Kind::Recorder => start_recorder(tool, &path),
                Kind::Profiler => start_profiler(tool, &path),
                Kind::Coverage => {
                    let mode = match get("PYMONITORING_COVERAGE_MODE") {
                        None => Ok(CoverageMode::Once),
                        Some(m) => CoverageMode::parse(&m.to_string_lossy()),
                    };
                    mode.and_then(|mode| start_coverage(tool, &path, mode))
                }
            });
        if let Err(e) = result {
            errors.push((var, e));
        }
    }
    errors
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

/// A buffered file that can be closed, shared by the streaming tools. A
/// write error closes it and is reported by the next flush or close, so a
/// full disk never makes the host's fire calls fail.
pub(crate) struct Sink {
    writer: Option<BufWriter<File>>,
    path: PathBuf,
    error: Option<Error>,
}

impl Sink {
    pub fn new(writer: BufWriter<File>, path: PathBuf) -> Sink {
        Sink {
            writer: Some(writer),
            path,
            error: None,
        }
    }

    /// Write `text` unless closed.
    pub fn write(&mut self, text: &str) {
        if let Some(w) = &mut self.writer {
            if let Err(e) = w.write_all(text.as_bytes()) {
                self.error = Some(io_error(&self.path, e));
                self.writer = None;
            }
        }
    }

    /// Flush the buffer; reports an earlier write error once.
    pub fn flush(&mut self) -> Result<(), Error> {
        if let Some(w) = &mut self.writer {
            if let Err(e) = w.flush() {
                self.error = Some(io_error(&self.path, e));
                self.writer = None;
            }
        }
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Flush and close; later writes are ignored.
    pub fn close(&mut self) -> Result<(), Error> {
        let result = self.flush();
        self.writer = None;
        result
    }

    pub fn is_open(&self) -> bool {
        self.writer.is_some()
    }
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
    use super::*;
    use crate::test_support::registry_lock;

    #[test]
    fn env_starts_the_tools_it_names_and_reports_bad_values() {
        let _g = registry_lock();
        let dir = std::env::temp_dir().join(format!("pm-env-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let rec = dir.join("r-%p.jsonl");
        let vars = [
            ("PYMONITORING_RECORD", rec.clone()),
            ("PYMONITORING_RECORD_TOOL", PathBuf::from("4")),
            ("PYMONITORING_TRACE", dir.join("t.json")),
            ("PYMONITORING_TRACE_TOOL", PathBuf::from("9")),
            ("PYMONITORING_COVERAGE", dir.join("c.info")),
            ("PYMONITORING_COVERAGE_MODE", PathBuf::from("sometimes")),
        ];
        let errors = start_from(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        });
        assert_eq!(running(), [(4, Kind::Recorder)]);
        let messages: Vec<String> = errors
            .iter()
            .map(|(var, e)| format!("{var}: {e}"))
            .collect();
        assert_eq!(
            messages,
            [
                "PYMONITORING_TRACE: invalid tool 9 (must be between 0 and 5)",
                "PYMONITORING_COVERAGE: invalid coverage mode \"sometimes\" (use once or count)",
            ]
        );
        stop_all().unwrap();
        let expanded = dir.join(format!("r-{}.jsonl", std::process::id()));
        assert!(expanded.exists(), "%p is the process id");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_tool_id_in_use_is_reported_and_nothing_is_created() {
        let _g = registry_lock();
        let _taken = Tool::claim(2, "host's own profiler").unwrap();
        let path = std::env::temp_dir().join(format!("pm-taken-{}.json", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let e = start_profiler(2, &path).unwrap_err();
        assert_eq!(e.message(), "tool 2 is already in use");
        assert!(!path.exists());
    }

    #[test]
    fn an_uncreatable_file_is_a_runtime_error_and_frees_the_id() {
        let _g = registry_lock();
        let e = start_recorder(3, "/nonexistent-dir/x.jsonl").unwrap_err();
        assert!(e
            .message()
            .starts_with("cannot create /nonexistent-dir/x.jsonl"));
        assert_eq!(crate::registry::tool_name(3).unwrap(), None);
    }
}
