//! A closure callback of the safe Rust API receives exactly the records a C
//! callback receives: c-tests/rust_api_parity.c runs a scenario through the C API
//! and prints its records; this test runs the same scenario through
//! `pymonitoring::api` and compares.

mod c_programs;

use std::sync::{Arc, Mutex};

use c_programs::harnesses::{harness, Build, Run};
use pymonitoring::api::{Action, Event, EventRecord, EventSet, ObjectRef, Scope, Tool};

/// Stand-ins for the C harness's OBJ(i).
const BASE: usize = 0x10_0000;
fn obj(i: usize) -> ObjectRef {
    ObjectRef::from_addr(BASE + i).unwrap()
}

fn show(o: Option<ObjectRef>) -> String {
    match o {
        Some(o) => (o.addr() - BASE).to_string(),
        None => "MISSING".into(),
    }
}

fn format(ev: &EventRecord) -> String {
    format!(
        "{} {} {} {} {} {} {}",
        ev.event.id(),
        ev.tool,
        show(Some(ev.codelike)),
        ev.offset,
        ev.lineno,
        show(ev.arg0),
        show(ev.arg1)
    )
}

fn rust_records() -> Vec<String> {
    let records = Arc::new(Mutex::new(Vec::new()));
    let tool = Tool::claim(2, "parity").unwrap();
    let events = [
        Event::PyStart,
        Event::Line,
        Event::Call,
        Event::CReturn,
        Event::Branch,
        Event::StopIteration,
        Event::Raise,
        Event::ExceptionHandled,
        Event::PyUnwind,
        Event::PyReturn,
    ];
    let mut set = EventSet::C_RAISE | EventSet::JUMP;
    for event in events {
        let r = records.clone();
        tool.on(event, move |ev| {
            r.lock().unwrap().push(format(ev));
            if ev.event == Event::Line && ev.lineno == 11 {
                Action::Disable
            } else {
                Action::Continue
            }
        })
        .unwrap();
        set |= event.bit();
    }
    tool.set_events(set).unwrap();
    let scope = Scope::new(&[
        Event::PyStart,
        Event::Line,
        Event::Call,
        Event::CReturn,
        Event::BranchLeft,
        Event::BranchRight,
        Event::StopIteration,
        Event::Raise,
        Event::ExceptionHandled,
        Event::PyUnwind,
        Event::PyReturn,
        Event::Jump,
    ]);
    scope.enter();
    let code = obj(1);
    let s = |i| scope.slot(i);
    s(0).fire_py_start(code, 7).unwrap();
    s(1).fire_line(code, 1, 10).unwrap();
    s(2).fire_call(code, 2, Some(obj(3)), Some(obj(4))).unwrap();
    s(2).fire_call(code, 2, Some(obj(3)), None).unwrap();
    s(3).fire_c_return(code, 2, Some(obj(5))).unwrap();
    s(11).fire_jump(code, 2, Some(obj(6))).unwrap();
    s(4).fire_branch_left(code, 3, Some(obj(6))).unwrap();
    s(5).fire_branch_right(code, 3, Some(obj(7))).unwrap();
    s(6).fire_stop_iteration(code, 4, Some(obj(8))).unwrap();
    s(7).fire_raise(code, 5, obj(9)).unwrap();
    s(8).fire_exception_handled(code, 6, obj(9)).unwrap();
    s(9).fire_py_unwind(code, 7, obj(9)).unwrap();
    s(1).fire_line(code, 8, 11).unwrap();
    s(1).fire_line(code, 9, 12).unwrap();
    s(10).fire_py_return(code, 10, Some(obj(10))).unwrap();
    s(10).fire_py_return(obj(2), 11, None).unwrap();
    scope.exit();
    drop(tool);
    let out = records.lock().unwrap().clone();
    out
}

#[test]
fn closure_callbacks_see_what_c_callbacks_see() {
    let c_out = harness("rust_api_parity").check_build(Build::Exported, &Run::plain());
    let c_records: Vec<&str> = c_out
        .lines()
        .filter(|l| !l.starts_with("rust_api_parity"))
        .collect();
    let rust = rust_records();
    assert_eq!(c_records.len(), 14, "the C scenario changed:\n{c_out}");
    assert_eq!(rust, c_records);
}
