//! Built-in tools started by environment variables, read once at load.

use std::path::PathBuf;

use super::file::{escape_controls, expand, file_id, shown, FileId};
use super::{start_kind, CoverageMode, Kind};
use crate::error::Error;
use crate::registry;

/// Start the built-in tools that environment variables ask for. The C
/// library calls this once when it is loaded; a Rust program linking the
/// `rlib` gets the same call when the linker keeps the library's load-time
/// constructor (`docs/TOOLS.md`, "The Rust API"), and may call it itself
/// otherwise. Returns one `(variable, error)` pair per tool that could not
/// start; each error names the tool and its file.
///
/// | variable | meaning |
/// |---|---|
/// | `PYMONITORING_RECORD=path` | start the recorder |
/// | `PYMONITORING_TRACE=path` | start the profiler |
/// | `PYMONITORING_COVERAGE=path` | start coverage |
/// | `PYMONITORING_RECORD_TOOL`, `PYMONITORING_TRACE_TOOL`, `PYMONITORING_COVERAGE_TOOL` | pin a tool id |
/// | `PYMONITORING_COVERAGE_MODE=once\|count` | [`CoverageMode`] (default `once`) |
///
/// Without a pinned id, a tool takes the highest free id and steps aside
/// when the program claims, changes or frees that id: it moves to another
/// free id, or stops when none is left (`docs/TOOLS.md`, "Tool ids"). Two
/// variables naming the same file start neither tool. Empty values count
/// as unset.
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

fn tool_from(var: &'static str, value: Option<PathBuf>) -> Result<Option<u8>, Error> {
    let Some(value) = value else {
        return Ok(None);
    };
    let text = value.to_string_lossy();
    match text.trim().parse::<u8>() {
        Ok(t) if t <= registry::MAX_USER_TOOL => Ok(Some(t)),
        _ => Err(Error::value(format!(
            "{var}={} is not a tool id from 0 to 5",
            escape_controls(&text)
        ))),
    }
}

pub(super) fn start_from(get: impl Fn(&str) -> Option<PathBuf>) -> Vec<(&'static str, Error)> {
    let specs: [(&'static str, &'static str, Kind); 3] = [
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
    let wanted: Vec<(&'static str, &'static str, Kind, PathBuf)> = specs
        .into_iter()
        .filter_map(|(var, tool_var, kind)| Some((var, tool_var, kind, get(var)?)))
        .collect();
    let ids: Vec<Option<FileId>> = wanted.iter().map(|w| file_id(&expand(&w.3))).collect();
    let mut errors = Vec::new();
    for (i, (var, tool_var, kind, path)) in wanted.iter().enumerate() {
        let what = format!("{} ({})", kind.word(), shown(&expand(path)));
        let twins: Vec<&str> = (0..wanted.len())
            .filter(|&j| j != i && ids[i].is_some() && ids[j] == ids[i])
            .map(|j| wanted[j].0)
            .collect();
        if !twins.is_empty() {
            errors.push((
                *var,
                Error::value(format!(
                    "{what}: not started: {} names the same file",
                    twins.join(" and ")
                )),
            ));
            continue;
        }
        let mode = match (kind, get("PYMONITORING_COVERAGE_MODE")) {
            (Kind::Coverage, Some(m)) => {
                CoverageMode::parse(&escape_controls(&m.to_string_lossy()))
            }
            _ => Ok(CoverageMode::Once),
        };
        let result = tool_from(tool_var, get(tool_var))
            .and_then(|tool| mode.map(|mode| (tool, mode)))
            .and_then(|(tool, mode)| start_kind(*kind, tool, Some(var), path, mode));
        if let Err(e) = result {
            errors.push((*var, e.with_context(&what)));
        }
    }
    errors
}
