//! The profiler: Chrome trace-event JSON, one slice per activation.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::{addr, handler, json, lock, names, now_ns, thread_number, Installed, Output, Sink};
use crate::api::{Action, Event, EventRecord, EventSet};
use crate::error::Error;
use crate::object::ObjectRef;

struct State {
    sink: Sink,
    /// Whether an event was written (commas go between events).
    any: bool,
    /// Open activations per thread, innermost last.
    stacks: HashMap<u64, Vec<ObjectRef>>,
}

struct Profiler {
    state: Mutex<State>,
    pid: u32,
}

/// `ts` in microseconds, as the format wants, with nanosecond digits.
fn ts(ns: u64) -> String {
    format!("{}.{:03}", ns / 1000, ns % 1000)
}

impl State {
    fn emit(&mut self, event: &str) {
        if self.any {
            self.sink.write(",\n");
        }
        self.any = true;
        self.sink.write(event);
    }
}

impl Profiler {
    fn thread_name(&self, tid: u64) -> String {
        let current = std::thread::current();
        let name = match current.name() {
            Some(n) => format!("{n} (thread {tid})"),
            None => format!("thread {tid}"),
        };
        let mut s = format!(
            r#"{{"name":"thread_name","ph":"M","pid":{},"tid":{tid},"args":{{"name":"#,
            self.pid
        );
        json::string(&mut s, &name);
        s.push_str("}}");
        s
    }

    fn begin(&self, st: &mut State, tid: u64, ev: &EventRecord) {
        let info = names::lookup(ev.codelike);
        let mut s = String::with_capacity(200);
        s.push_str(r#"{"name":"#);
        json::string(&mut s, &names::display_name(ev.codelike));
        let _ = write!(
            s,
            r#","cat":"python","ph":"B","ts":{},"pid":{},"tid":{tid},"args":{{"event":"{}","codelike":"{}","offset":{}"#,
            ts(now_ns()),
            self.pid,
            ev.event.name(),
            addr(ev.codelike),
            ev.offset
        );
        if let Some(info) = info {
            s.push_str(r#","file":"#);
            json::string(&mut s, &info.file);
            let _ = write!(s, r#","firstlineno":{}"#, info.firstlineno);
        }
        if ev.event == Event::PyThrow {
            let _ = write!(s, r#","exception":"{}""#, optional(ev.arg0));
        }
        s.push_str("}}");
        st.emit(&s);
        st.stacks.entry(tid).or_default().push(ev.codelike);
    }

    fn end(&self, st: &mut State, tid: u64, code: ObjectRef, why: &str, ts_ns: u64) {
        let mut s = String::with_capacity(120);
        s.push_str(r#"{"name":"#);
        json::string(&mut s, &names::display_name(code));
        let _ = write!(
            s,
            r#","cat":"python","ph":"E","ts":{},"pid":{},"tid":{tid},"args":{{"end":"{why}"}}}}"#,
            ts(ts_ns),
            self.pid
        );
        st.emit(&s);
    }

    /// Close the activation of `ev.codelike` on this thread, and any opened
    /// inside it that never ended. An end with no matching start (the
    /// profiler started in the middle of it) is ignored.
    fn close(&self, st: &mut State, tid: u64, ev: &EventRecord) {
        let Some(depth) = st
            .stacks
            .get(&tid)
            .and_then(|stack| stack.iter().rposition(|c| *c == ev.codelike))
        else {
            return;
        };
        let now = now_ns();
        let mut stack = st.stacks.remove(&tid).unwrap_or_default();
        while stack.len() > depth + 1 {
            if let Some(inner) = stack.pop() {
                self.end(st, tid, inner, "never ended", now);
            }
        }
        if let Some(code) = stack.pop() {
            self.end(st, tid, code, ev.event.name(), now);
        }
        st.stacks.insert(tid, stack);
    }

    fn instant(&self, st: &mut State, tid: u64, ev: &EventRecord) {
        let mut s = String::with_capacity(200);
        let _ = write!(
            s,
            r#"{{"name":"{}","cat":"exception","ph":"i","s":"t","ts":{},"pid":{},"tid":{tid},"args":{{"code":"#,
            ev.event.name(),
            ts(now_ns()),
            self.pid
        );
        json::string(&mut s, &names::display_name(ev.codelike));
        let _ = write!(
            s,
            r#","offset":{},"exception":"{}"}}}}"#,
            ev.offset,
            optional(ev.arg0)
        );
        st.emit(&s);
    }

    fn on_event(&self, ev: &EventRecord) {
        let tid = thread_number();
        let mut st = lock(&self.state);
        if !st.sink.is_open() {
            return;
        }
        if !st.stacks.contains_key(&tid) {
            let meta = self.thread_name(tid);
            st.emit(&meta);
            st.stacks.insert(tid, Vec::new());
        }
        match ev.event {
            Event::PyStart | Event::PyResume | Event::PyThrow => self.begin(&mut st, tid, ev),
            Event::PyReturn | Event::PyYield | Event::PyUnwind => self.close(&mut st, tid, ev),
            _ => self.instant(&mut st, tid, ev),
        }
    }
}

fn optional(obj: Option<ObjectRef>) -> String {
    obj.map_or_else(|| "MISSING".to_owned(), addr)
}

impl Output for Profiler {
    fn flush(&self) -> Result<(), Error> {
        lock(&self.state).sink.flush()
    }

    fn finish(&self) -> Result<(), Error> {
        let mut st = lock(&self.state);
        if !st.sink.is_open() {
            return st.sink.close();
        }
        let now = now_ns();
        let mut stacks: Vec<(u64, Vec<ObjectRef>)> = st.stacks.drain().collect();
        stacks.sort_by_key(|(tid, _)| *tid);
        for (tid, mut stack) in stacks {
            while let Some(code) = stack.pop() {
                self.end(&mut st, tid, code, "profiler stopped", now);
            }
        }
        st.sink.write("\n]\n");
        st.sink.close()
    }
}

/// Events that begin or end slices, and the exception instants.
const SLICE_EVENTS: [Event; 6] = [
    Event::PyStart,
    Event::PyResume,
    Event::PyThrow,
    Event::PyReturn,
    Event::PyYield,
    Event::PyUnwind,
];
/// C_RAISE is left out: it rides on CALL, and asking for CALL without a
/// CALL callback would make every call site dispatch for nothing.
const INSTANT_EVENTS: [Event; 3] = [Event::Raise, Event::Reraise, Event::ExceptionHandled];

pub(crate) fn install(file: BufWriter<File>, path: PathBuf, pid: u32) -> Result<Installed, Error> {
    let mut state = State {
        sink: Sink::new(file, path),
        any: false,
        stacks: HashMap::new(),
    };
    state.sink.write("[\n");
    let mut meta =
        format!(r#"{{"name":"process_name","ph":"M","pid":{pid},"tid":0,"args":{{"name":"#);
    json::string(&mut meta, "pymonitoring");
    meta.push_str("}}");
    state.emit(&meta);
    let profiler = Arc::new(Profiler {
        state: Mutex::new(state),
        pid,
    });
    let mut events = EventSet::empty();
    let mut handlers = Vec::new();
    for event in SLICE_EVENTS.into_iter().chain(INSTANT_EVENTS) {
        let p = profiler.clone();
        handlers.push((
            event,
            handler(pid, move |ev| {
                p.on_event(ev);
                Action::Continue
            }),
        ));
        events |= event.bit();
    }
    Ok(Installed {
        output: profiler,
        handlers,
        events,
    })
}

#[cfg(test)]
mod tests {
    use crate::api::{Event, ObjectRef, Scope};
    use crate::builtin::{start_profiler, stop};
    use crate::test_support::registry_lock;

    fn obj(i: usize) -> ObjectRef {
        ObjectRef::from_addr(0x5000 + i).unwrap()
    }

    /// (ph, name, end) of each B/E/i event, in order.
    fn phases(text: &str) -> Vec<String> {
        text.lines()
            .filter(|l| {
                l.contains(r#""ph":"B""#) || l.contains(r#""ph":"E""#) || l.contains(r#""ph":"i""#)
            })
            .map(|l| {
                let field = |key: &str| {
                    l.split(&format!(r#""{key}":""#))
                        .nth(1)
                        .and_then(|r| r.split('"').next())
                        .unwrap_or("")
                        .to_owned()
                };
                format!("{} {} {}", field("ph"), field("name"), field("end"))
                    .trim_end()
                    .to_owned()
            })
            .collect()
    }

    #[test]
    fn unmatched_ends_are_ignored_and_unended_slices_are_closed() {
        let _g = registry_lock();
        let path = std::env::temp_dir().join(format!("pm-prof-unit-{}.json", std::process::id()));
        start_profiler(2, &path).unwrap();
        crate::api::register_code_name(obj(1), "outer", "x.pyx", 1);
        let scope = Scope::new(&[Event::PyStart, Event::PyReturn, Event::Raise]);
        scope.enter();
        let (start, ret, raise) = (scope.slot(0), scope.slot(1), scope.slot(2));
        ret.fire_py_return(obj(9), 0, None).unwrap(); // began before the profiler
        start.fire_py_start(obj(1), 0).unwrap();
        start.fire_py_start(obj(2), 0).unwrap();
        raise.fire_raise(obj(2), 3, obj(7)).unwrap();
        ret.fire_py_return(obj(1), 0, None).unwrap(); // obj(2) never ended
        start.fire_py_start(obj(3), 0).unwrap(); // still open at stop
        stop(2).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            phases(&text),
            [
                "B outer",
                "B 0x5002",
                "i RAISE",
                "E 0x5002 never ended",
                "E outer PY_RETURN",
                "B 0x5003",
                "E 0x5003 profiler stopped",
            ]
        );
        assert!(text.starts_with("[\n") && text.ends_with("\n]\n"));
    }
}
