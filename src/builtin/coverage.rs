//! Line coverage as an lcov tracefile.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::{escape_controls, handler, lock, names, shown, Installed, Output};
use crate::api::{Action, Event, EventRecord, EventSet};
use crate::error::Error;

/// How the coverage tool answers LINE and PY_START events.
///
/// ```
/// use pymonitoring::builtin::CoverageMode;
///
/// assert_eq!(CoverageMode::parse("count")?, CoverageMode::Count);
/// assert!(CoverageMode::parse("twice").is_err());
/// # Ok::<(), pymonitoring::api::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CoverageMode {
    /// Record the event, then return DISABLE. In CPython's rules each slot
    /// then costs one callback until the scope is refreshed after a
    /// restart: right for hosts that give every line its own LINE slot (as
    /// CPython does per instruction), while a host with one LINE slot per
    /// activation (Cython's layout) gets only the first line of each
    /// activation. With `PY_MONITORING_OPT_LASTING_DISABLE` the DISABLE
    /// silences the line's site instead (`docs/EXTENSIONS.md`): every line
    /// is recorded, at one callback per line for the whole run, whatever the
    /// slot layout: the lasting mode is what makes `Once` cheap there (a
    /// line already recorded costs a check of its site, no callback). Counts are
    /// at least 1 for every line seen, not execution counts.
    #[default]
    Once,
    /// Record every event and never DISABLE: exact counts, and complete
    /// coverage whatever the host's slot layout, at one callback per line
    /// executed.
    Count,
}

impl CoverageMode {
    /// `"once"` or `"count"` (as `PYMONITORING_COVERAGE_MODE` takes them).
    ///
    /// ```
    /// use pymonitoring::builtin::CoverageMode;
    /// assert_eq!(CoverageMode::parse("once")?, CoverageMode::Once);
    /// # Ok::<(), pymonitoring::api::Error>(())
    /// ```
    pub fn parse(text: &str) -> Result<CoverageMode, Error> {
        match text.trim() {
            "once" => Ok(CoverageMode::Once),
            "count" => Ok(CoverageMode::Count),
            other => Err(Error::value(format!(
                "invalid coverage mode \"{other}\" (use once or count)"
            ))),
        }
    }

    fn answer(self) -> Action {
        match self {
            CoverageMode::Once => Action::Disable,
            CoverageMode::Count => Action::Continue,
        }
    }
}

#[derive(Clone, Default)]
struct FileCoverage {
    /// Line → hits.
    lines: BTreeMap<u32, u64>,
    /// (first line, name) → calls.
    functions: BTreeMap<(i32, String), u64>,
}

struct State {
    path: PathBuf,
    open: bool,
    files: BTreeMap<String, FileCoverage>,
}

struct Coverage {
    state: Mutex<State>,
    mode: CoverageMode,
}

impl Coverage {
    fn on_event(&self, ev: &EventRecord) -> Action {
        let Some(info) = names::lookup(ev.codelike) else {
            return self.mode.answer();
        };
        let mut st = lock(&self.state);
        if !st.open {
            return Action::Continue;
        }
        let file = st.files.entry(info.file.clone()).or_default();
        let calls = file
            .functions
            .entry((info.firstlineno, info.name.clone()))
            .or_insert(0);
        match ev.event {
            Event::PyStart => *calls += 1,
            _ => {
                if let Ok(line) = u32::try_from(ev.lineno) {
                    if line > 0 {
                        *file.lines.entry(line).or_insert(0) += 1;
                    }
                }
            }
        }
        self.mode.answer()
    }
}

impl State {
    /// The tracefile: one record per file, functions registered but never
    /// started included with 0 calls.
    fn render(&self) -> String {
        let mut files = self.files.clone();
        for (_, info) in names::all() {
            files
                .entry(info.file.clone())
                .or_default()
                .functions
                .entry((info.firstlineno, info.name.clone()))
                .or_insert(0);
        }
        let mut out = String::new();
        for (file, cov) in &files {
            out.push_str("TN:\n");
            let _ = writeln!(out, "SF:{}", escape_controls(file));
            for (first, name) in cov.functions.keys() {
                let _ = writeln!(out, "FN:{},{}", (*first).max(1), lcov_name(name));
            }
            for ((_, name), calls) in &cov.functions {
                let _ = writeln!(out, "FNDA:{calls},{}", lcov_name(name));
            }
            let hit = cov.functions.values().filter(|c| **c > 0).count();
            let _ = writeln!(out, "FNF:{}", cov.functions.len());
            let _ = writeln!(out, "FNH:{hit}");
            for (line, hits) in &cov.lines {
                let _ = writeln!(out, "DA:{line},{hits}");
            }
            let _ = writeln!(out, "LF:{}", cov.lines.len());
            let _ = writeln!(out, "LH:{}", cov.lines.values().filter(|h| **h > 0).count());
            out.push_str("end_of_record\n");
        }
        out
    }

    fn write(&self) -> Result<(), Error> {
        std::fs::write(&self.path, self.render()).map_err(|e| super::io_error(&self.path, e))
    }

    /// The final write. With no line recorded there is nothing to report,
    /// and lcov and `genhtml` reject a tracefile without lines: the file is
    /// removed and the reason returned instead.
    fn write_final(&self) -> Result<(), Error> {
        if self.files.values().any(|f| !f.lines.is_empty()) {
            return self.write();
        }
        let _ = std::fs::remove_file(&self.path);
        let why = if names::all().is_empty() {
            "no code-like was named with PyMonitoring_RegisterCodeName (Rust: register_code_name), so no line has a file"
        } else {
            "no LINE event of a named code-like was seen"
        };
        Err(Error::runtime(format!(
            "{why}; {} was not written",
            shown(&self.path)
        )))
    }
}

/// A function name as lcov can carry it: one line, no comma (`genhtml`
/// ends the name at the first comma).
fn lcov_name(name: &str) -> String {
    escape_controls(name).replace(',', ";")
}

impl Output for Coverage {
    fn flush(&self) -> Result<(), Error> {
        let st = lock(&self.state);
        if !st.open {
            return Ok(());
        }
        st.write()
    }

    fn finish(&self) -> Result<(), Error> {
        let mut st = lock(&self.state);
        if !st.open {
            return Ok(());
        }
        st.open = false;
        st.write_final()
    }
}

pub(crate) fn install(
    file: BufWriter<File>,
    path: PathBuf,
    pid: u32,
    mode: CoverageMode,
) -> Result<Installed, Error> {
    // The file was created to check the path; it is rewritten whole on
    // every flush.
    drop(file);
    let coverage = Arc::new(Coverage {
        state: Mutex::new(State {
            path,
            open: true,
            files: BTreeMap::new(),
        }),
        mode,
    });
    let handlers = [Event::Line, Event::PyStart]
        .into_iter()
        .map(|event| {
            let c = coverage.clone();
            (event, handler(pid, move |ev| c.on_event(ev)))
        })
        .collect();
    Ok(Installed {
        output: coverage,
        handlers,
        events: EventSet::LINE | EventSet::PY_START,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// In the lasting-DISABLE mode, once-mode coverage of a host with one
    /// LINE slot per activation records every line, one callback each.
    #[test]
    #[cfg(not(loom))]
    fn once_mode_records_every_line_in_the_lasting_mode() {
        use crate::api::Event;
        use crate::dispatch::Firing;
        use crate::object::ObjectRef;
        use crate::scope::{enter_scope, SlotState};
        let _g = crate::test_support::registry_lock();
        crate::ext::options::set(crate::ext::options::LASTING_DISABLE).unwrap();
        let code = ObjectRef::from_addr(0x5_1000).unwrap();
        super::names::register_code_name(code, "body", "lasting_cov.pyx", 10);
        let path = std::env::temp_dir().join(format!("pm-lasting-cov-{}.info", std::process::id()));
        super::super::start_coverage(1, &path, CoverageMode::Once).unwrap();
        for _ in 0..50 {
            // Fresh states every call (Cython): one LINE slot for every line.
            let s = [SlotState::default()];
            enter_scope(&s, &std::cell::Cell::new(0), &[Event::Line.id()]).unwrap();
            for (offset, lineno) in [(1, 11), (2, 12), (3, 13), (2, 12)] {
                let firing = Firing {
                    lineno,
                    ..Firing::new(Event::Line, code, offset)
                };
                crate::ext::lasting::fire(&s[0], firing).unwrap();
            }
        }
        super::super::stop(1).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        let record = text
            .split("end_of_record\n")
            .find(|r| r.contains("SF:lasting_cov.pyx"))
            .unwrap();
        assert!(
            record.contains("DA:11,1\nDA:12,1\nDA:13,1\nLF:3\nLH:3\n"),
            "{record}"
        );
    }

    #[test]
    fn render_writes_one_record_per_file() {
        let mut st = State {
            path: PathBuf::new(),
            open: true,
            files: BTreeMap::new(),
        };
        let mut cov = FileCoverage::default();
        cov.lines.insert(4, 2);
        cov.lines.insert(3, 1);
        cov.functions.insert((3, "f".into()), 1);
        st.files
            .insert("zz-not-registered-anywhere.pyx".into(), cov);
        let text = st.render();
        let record = text
            .split("end_of_record\n")
            .find(|r| r.contains("SF:zz-not-registered-anywhere.pyx"))
            .unwrap();
        assert_eq!(
            record,
            "TN:\nSF:zz-not-registered-anywhere.pyx\nFN:3,f\nFNDA:1,f\nFNF:1\nFNH:1\nDA:3,1\nDA:4,2\nLF:2\nLH:2\n"
        );
    }
}
