//! The recorder: every event as one JSON object per line.

use std::fmt::Write as _;
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::{addr, handler, json, lock, names, now_ns, thread_number, Installed, Output, Sink};
use crate::api::{Action, Event, EventRecord, EventSet};
use crate::error::Error;
use crate::object::ObjectRef;

struct Recorder {
    sink: Mutex<Sink>,
}

/// The names of the object arguments an event carries, for `args`.
pub(crate) fn arg_names(event: Event) -> &'static [&'static str] {
    match event {
        Event::PyReturn | Event::PyYield | Event::CReturn => &["retval"],
        Event::Call => &["callable", "arg0"],
        Event::Jump | Event::BranchLeft | Event::BranchRight | Event::Branch => &["destination"],
        Event::StopIteration => &["value"],
        e if e.takes_exception() => &["exception"],
        _ => &[],
    }
}

fn object(obj: Option<ObjectRef>) -> String {
    match obj {
        Some(o) => addr(o),
        None => "MISSING".to_owned(),
    }
}

/// One event as a JSON line.
fn line(ev: &EventRecord) -> String {
    let mut s = String::with_capacity(200);
    let _ = write!(
        s,
        r#"{{"time":{},"thread":{},"tool":{},"event":"{}","codelike":"{}""#,
        now_ns(),
        thread_number(),
        ev.tool,
        ev.event.name(),
        addr(ev.codelike)
    );
    if let Some(info) = names::lookup(ev.codelike) {
        s.push_str(r#","name":"#);
        json::string(&mut s, &info.name);
        s.push_str(r#","file":"#);
        json::string(&mut s, &info.file);
    }
    let _ = write!(
        s,
        r#","offset":{},"lineno":{},"args":{{"#,
        ev.offset, ev.lineno
    );
    let values = [ev.arg0, ev.arg1];
    for (i, name) in arg_names(ev.event).iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, r#""{name}":"{}""#, object(values[i]));
    }
    s.push_str("}}\n");
    s
}

impl Output for Recorder {
    fn flush(&self) -> Result<(), Error> {
        lock(&self.sink).flush()
    }

    fn finish(&self) -> Result<(), Error> {
        lock(&self.sink).close()
    }
}

pub(crate) fn install(file: BufWriter<File>, path: PathBuf, pid: u32) -> Result<Installed, Error> {
    let recorder = Arc::new(Recorder {
        sink: Mutex::new(Sink::new(file, path)),
    });
    // Every event with a callback slot of its own (BRANCH fills the two
    // directions, which are registered here themselves).
    let handlers = Event::ALL
        .into_iter()
        .filter(|e| *e != Event::Branch)
        .map(|event| {
            let r = recorder.clone();
            let h = handler(pid, move |ev| {
                let text = line(ev);
                lock(&r.sink).write(&text);
                Action::Continue
            });
            (event, h)
        })
        .collect();
    Ok(Installed {
        output: recorder,
        handlers,
        events: EventSet::all() - EventSet::BRANCH,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dispatch::EventRecord;

    #[test]
    fn a_line_names_the_arguments_of_its_event() {
        let code = ObjectRef::from_addr(0x10).unwrap();
        let ev = EventRecord {
            event: Event::Call,
            tool: 3,
            codelike: code,
            offset: 4,
            lineno: -1,
            arg0: ObjectRef::from_addr(0x20),
            arg1: None,
        };
        let text = line(&ev);
        assert!(text.ends_with(
            r#""tool":3,"event":"CALL","codelike":"0x10","offset":4,"lineno":-1,"args":{"callable":"0x20","arg0":"MISSING"}}
"#
        ), "{text}");
    }
}
