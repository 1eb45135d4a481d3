//! The list of running built-in tools: who writes which file for which
//! process, and stopping, flushing and ending them.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use super::file::{shown, FileId};
use super::{Kind, Output};
use crate::error::Error;
use crate::registry;

pub(super) struct Running {
    pub(super) kind: Kind,
    /// The registry claim; its id can change (`docs/TOOLS.md`, "Tool ids").
    pub(super) token: u64,
    pub(super) output: Arc<dyn Output>,
    pub(super) path: PathBuf,
    pub(super) file: Option<FileId>,
    /// The environment variable that started it, if one did.
    pub(super) var: Option<&'static str>,
    /// The process that started it: a forked child leaves it alone.
    pub(super) pid: u32,
}

impl Running {
    /// How messages name the tool: `PYMONITORING_TRACE: profiler on tool 4
    /// (trace.json)`.
    pub(super) fn label(&self, tool: Option<u8>) -> String {
        let var = self.var.map(|v| format!("{v}: ")).unwrap_or_default();
        let on = tool.map(|t| format!(" on tool {t}")).unwrap_or_default();
        format!("{var}{}{on} ({})", self.kind.word(), shown(&self.path))
    }

    fn forked(&self) -> bool {
        self.pid != std::process::id()
    }
}

static RUNNING: Mutex<Vec<Running>> = Mutex::new(Vec::new());
/// The process that started the first tool (0 before any).
pub(super) static FIRST_PID: AtomicU32 = AtomicU32::new(0);

pub(super) fn running_list() -> MutexGuard<'static, Vec<Running>> {
    RUNNING.lock().unwrap_or_else(|e| e.into_inner())
}

/// The list, unless this is a forked child whose parent had another thread
/// inside a start or stop when it forked: that thread does not exist here,
/// so the lock would never be released.
fn running_list_at_exit() -> Option<MutexGuard<'static, Vec<Running>>> {
    let first = FIRST_PID.load(Ordering::Relaxed);
    if first == 0 || first == std::process::id() {
        return Some(running_list());
    }
    match RUNNING.try_lock() {
        Ok(g) => Some(g),
        Err(TryLockError::Poisoned(e)) => Some(e.into_inner()),
        Err(TryLockError::WouldBlock) => None,
    }
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
        .filter_map(|r| Some((registry::global().claim_id(r.token)?, r.kind)))
        .collect()
}

/// Stop the built-in tool on `tool`: its id is freed (no more callbacks)
/// and its file completed and closed.
///
/// Fails with a ValueError when no built-in tool runs on `tool`, or a
/// RuntimeError naming the tool and its file when the file cannot be
/// written (the tool is stopped anyway).
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
        let reg = registry::global();
        let Some(i) = list
            .iter()
            .position(|r| reg.claim_id(r.token) == Some(tool))
        else {
            return Err(Error::value(format!(
                "no built-in tool is running on tool {tool}"
            )));
        };
        list.remove(i)
    };
    let label = running.label(Some(tool));
    finish(running, false).map_err(|e| e.with_context(&label))
}

/// Free the tool's claim and complete its file. In a forked child the
/// output and its buffers are the parent's: they are neither written nor
/// dropped (dropping a buffered file writes it out), and at exit the claim
/// is left too (the registry goes with the process).
pub(super) fn finish(running: Running, at_exit: bool) -> Result<(), Error> {
    if running.forked() {
        if !at_exit {
            registry::global().release_claim(running.token);
        }
        std::mem::forget(running.output);
        return Ok(());
    }
    registry::global().release_claim(running.token);
    running.output.finish()
}

/// Stop every running built-in tool and return one error per tool that
/// failed, each naming the tool, its variable and its file.
fn stop_each(at_exit: bool) -> Vec<Error> {
    let Some(mut list) = running_list_at_exit() else {
        return Vec::new();
    };
    let all: Vec<Running> = std::mem::take(&mut *list);
    drop(list);
    if all.is_empty() {
        return Vec::new();
    }
    let reg = registry::global();
    all.into_iter()
        .filter_map(|r| {
            if r.forked() {
                // Nothing to write, and no registry call in a child.
                return finish(r, at_exit).err();
            }
            let label = r.label(reg.claim_id(r.token));
            finish(r, at_exit).err().map(|e| e.with_context(&label))
        })
        .collect()
}

/// Every error in one: the first's kind, all the messages.
fn combined(errors: Vec<Error>) -> Result<(), Error> {
    let mut it = errors.into_iter();
    let Some(first) = it.next() else {
        return Ok(());
    };
    Err(it.fold(first, |acc, e| {
        acc.with_suffix(&format!("; {}", e.message()))
    }))
}

/// Stop every running built-in tool. When some fail, the error names each
/// (tool, variable, file), after trying them all.
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
    combined(stop_each(false))
}

/// What the C library's exit handler does: stop every tool and return one
/// line per failure, each naming its tool, variable and file.
pub(crate) fn stop_all_at_exit() -> Vec<String> {
    stop_each(true)
        .iter()
        .map(|e| e.message().to_owned())
        .collect()
}

/// Write out what every running built-in tool has buffered, without
/// stopping it: the recorder's lines so far, the profiler's events so far
/// (Chrome's viewer accepts the unterminated array) and a coverage snapshot.
/// When some fail, the error names each.
///
/// ```
/// use pymonitoring::builtin;
/// builtin::flush_all()?;
/// # Ok::<(), pymonitoring::api::Error>(())
/// ```
pub fn flush_all() -> Result<(), Error> {
    let reg = registry::global();
    let outputs: Vec<(String, Arc<dyn Output>)> = running_list()
        .iter()
        .filter(|r| !r.forked())
        .map(|r| (r.label(reg.claim_id(r.token)), r.output.clone()))
        .collect();
    combined(
        outputs
            .into_iter()
            .filter_map(|(label, output)| output.flush().err().map(|e| e.with_context(&label)))
            .collect(),
    )
}

/// The registry ended the movable claim `token` on `tool`: the program
/// needed the id and no other was free. The tool stops, its file complete
/// up to here, with one line on stderr.
pub(crate) fn claim_ended(tool: u8, token: u64) {
    let running = {
        let mut list = running_list();
        let Some(i) = list.iter().position(|r| r.token == token) else {
            return;
        };
        list.remove(i)
    };
    let label = running.label(Some(tool));
    let mut line = format!(
        "pymonitoring: {label}: stopped: the program claimed tool {tool} and no other tool id was free; the file holds the events until now"
    );
    if let Err(e) = finish(running, false) {
        line.push_str(&format!(" ({})", e.message()));
    }
    let _ = writeln!(std::io::stderr(), "{line}");
}
