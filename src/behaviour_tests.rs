//! docs/BEHAVIOUR.md, "Scopes" and "Firing", one rule per test, through the safe core.

use std::cell::Cell;
use std::sync::Arc;

use crate::dispatch::{fire, EventRecord, Firing};
use crate::error::{self, Error, ErrorKind, Pending};
use crate::event::{Event, EventSet};
use crate::object::ObjectRef;
use crate::registry::{self, Handler, Outcome};
use crate::scope::{enter_scope, SlotState};
use crate::test_support::{registry_lock, Recorder};

fn obj(n: usize) -> ObjectRef {
    ObjectRef::from_addr(0x1000 + n * 16).unwrap()
}

fn code() -> ObjectRef {
    obj(0)
}

/// Claim `tool`, enable `events`, and record `event` with a fresh recorder.
fn tool_with(tool: i64, events: EventSet, event: Event, outcome: Outcome) -> Arc<Recorder> {
    if registry::tool_name(tool).unwrap().is_none() {
        registry::use_tool_id(tool, "t").unwrap();
    }
    let cur = registry::get_events(tool).unwrap();
    registry::set_events(tool, (cur | events).bits()).unwrap();
    let rec = Recorder::answering(outcome);
    registry::register_callback(tool, event as i64, Some(rec.clone())).unwrap();
    rec
}

fn message() -> String {
    error::inspect(|p| match p {
        Some(Pending::Error(e)) => e.message().to_owned(),
        other => panic!("expected a library error, got {other:?}"),
    })
}

fn slot(active: u8) -> Cell<u8> {
    Cell::new(active)
}

fn states(n: usize) -> Vec<SlotState> {
    (0..n).map(|_| SlotState::default()).collect()
}

// Scopes

#[test]
fn scope_version_starts_at_zero_semantics() {
    let _g = registry_lock();
    // Whatever the version is now, a scope holding it is not touched.
    let st = states(1);
    st[0].active.set(0x80);
    let v = Cell::new(registry::version());
    enter_scope(&st, &v, &[0]).unwrap();
    assert_eq!(st[0].active.get(), 0x80);
}

#[test]
fn scope_refresh_gets_each_events_tools() {
    let _g = registry_lock();
    tool_with(1, EventSet::LINE, Event::Line, Outcome::Continue);
    tool_with(
        3,
        EventSet::LINE | EventSet::RAISE,
        Event::Raise,
        Outcome::Continue,
    );
    let st = states(3);
    let v = Cell::new(0);
    enter_scope(
        &st,
        &v,
        &[Event::Line.id(), Event::Raise.id(), Event::PyStart.id()],
    )
    .unwrap();
    assert_eq!(st[0].active.get(), 0b1010);
    assert_eq!(st[1].active.get(), 0b1000);
    assert_eq!(st[2].active.get(), 0);
    assert_eq!(v.get(), registry::version());
}

#[test]
fn scope_c_return_c_raise_get_calls_tools_branch_gets_rights() {
    let _g = registry_lock();
    tool_with(2, EventSet::CALL, Event::Call, Outcome::Continue);
    tool_with(
        4,
        EventSet::BRANCH_RIGHT,
        Event::BranchRight,
        Outcome::Continue,
    );
    tool_with(
        5,
        EventSet::BRANCH_LEFT,
        Event::BranchLeft,
        Outcome::Continue,
    );
    let st = states(4);
    let v = Cell::new(u64::MAX);
    let ids = [
        Event::CReturn,
        Event::CRaise,
        Event::Branch,
        Event::BranchLeft,
    ]
    .map(Event::id);
    enter_scope(&st, &v, &ids).unwrap();
    let got: Vec<u8> = st.iter().map(|s| s.active.get()).collect();
    assert_eq!(got, [1 << 2, 1 << 2, 1 << 4, 1 << 5]);
}

#[test]
fn scope_versions_change_on_each_documented_operation() {
    let _g = registry_lock();
    let bumps = |f: &dyn Fn()| {
        let v = registry::version();
        f();
        registry::version() != v
    };
    assert!(!bumps(&|| registry::use_tool_id(0, "a").unwrap()));
    assert!(bumps(
        &|| registry::set_events(0, EventSet::LINE.bits()).unwrap()
    ));
    assert!(!bumps(
        &|| registry::set_events(0, EventSet::LINE.bits()).unwrap()
    ));
    assert!(!bumps(&|| {
        registry::register_callback(0, 5, Some(Recorder::new())).unwrap();
    }));
    assert!(bumps(&registry::restart_events));
    assert!(bumps(&|| registry::clear_tool_id(0).unwrap()));
    assert!(bumps(&|| registry::free_tool_id(0).unwrap()));
    assert!(!bumps(&|| registry::free_tool_id(0).unwrap()));
}

// Firing

#[test]
fn fire_delivers_the_record() {
    let _g = registry_lock();
    let rec = tool_with(2, EventSet::CALL, Event::Call, Outcome::Continue);
    let active = slot(1 << 2);
    let f = Firing {
        arg0: Some(obj(1)),
        arg1: Some(obj(2)),
        ..Firing::new(Event::Call, code(), 12)
    };
    fire(&active, f).unwrap();
    assert_eq!(
        rec.events(),
        [EventRecord {
            event: Event::Call,
            tool: 2,
            codelike: code(),
            offset: 12,
            lineno: -1,
            arg0: Some(obj(1)),
            arg1: Some(obj(2)),
        }]
    );
}

#[test]
fn line_delivers_lineno_and_offset() {
    let _g = registry_lock();
    let rec = tool_with(0, EventSet::LINE, Event::Line, Outcome::Continue);
    let f = Firing {
        lineno: 1000,
        ..Firing::new(Event::Line, code(), 4)
    };
    fire(&slot(1), f).unwrap();
    let e = rec.events()[0];
    assert_eq!((e.offset, e.lineno, e.arg0), (4, 1000, None));
}

#[test]
fn rule1_exception_events_take_and_restore_the_current_exception() {
    let _g = registry_lock();
    let rec = tool_with(1, EventSet::RAISE, Event::Raise, Outcome::Continue);
    error::set_raised(Some(obj(9)));
    // Callbacks run with the indicator clear.
    fire(&slot(1 << 1), Firing::new(Event::Raise, code(), 3)).unwrap();
    assert_eq!(rec.events()[0].arg0, Some(obj(9)));
    assert_eq!(
        error::take_raised(),
        Some(obj(9)),
        "same exception current again"
    );
}

#[test]
fn rule1_no_exception_is_an_error_checked_before_the_offset() {
    let _g = registry_lock();
    let rec = tool_with(1, EventSet::PY_UNWIND, Event::PyUnwind, Outcome::Continue);
    for event in Event::ALL.iter().filter(|e| e.takes_exception()) {
        error::clear();
        assert!(fire(&slot(1 << 1), Firing::new(*event, code(), -5)).is_err());
        assert_eq!(
            message(),
            format!("Firing event {} with no exception set", event.id())
        );
    }
    assert_eq!(rec.count(), 0);
    error::clear();
}

#[test]
fn rule1_a_library_error_counts_as_the_exception() {
    let _g = registry_lock();
    let rec = tool_with(1, EventSet::RAISE, Event::Raise, Outcome::Continue);
    error::set(Error::runtime("boom"));
    fire(&slot(1 << 1), Firing::new(Event::Raise, code(), 0)).unwrap();
    assert_eq!(rec.events()[0].arg0, None, "delivered as MISSING");
    assert_eq!(message(), "boom");
    error::clear();
}

#[test]
fn rule2_negative_offset_calls_nothing() {
    let _g = registry_lock();
    let rec = tool_with(1, EventSet::PY_START, Event::PyStart, Outcome::Continue);
    assert!(fire(&slot(1 << 1), Firing::new(Event::PyStart, code(), -1)).is_err());
    assert_eq!(message(), "offset must be non-negative");
    assert_eq!(rec.count(), 0);
    // Offsets are not checked against anything else.
    error::clear();
    fire(&slot(1 << 1), Firing::new(Event::PyStart, code(), i32::MAX)).unwrap();
    assert_eq!(rec.count(), 1);
}

/// A handler that appends its tool to a shared log.
struct Tagged {
    log: Arc<std::sync::Mutex<Vec<u8>>>,
    outcome: Outcome,
}

impl Handler for Tagged {
    fn call(&self, ev: &EventRecord) -> Outcome {
        self.log.lock().unwrap().push(ev.tool);
        if self.outcome == Outcome::Error {
            error::set(Error::value(format!("tool {} failed", ev.tool)));
        }
        self.outcome
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

fn tagged_tools(tools: &[(i64, Outcome)], event: Event) -> Arc<std::sync::Mutex<Vec<u8>>> {
    let log = Arc::new(std::sync::Mutex::new(Vec::new()));
    for &(tool, outcome) in tools {
        registry::use_tool_id(tool, "t").unwrap();
        let set = match event {
            Event::CReturn | Event::CRaise => {
                EventSet::CALL | EventSet::C_RETURN | EventSet::C_RAISE
            }
            _ => event.bit(),
        };
        registry::set_events(tool, set.bits()).unwrap();
        let h = Arc::new(Tagged {
            log: log.clone(),
            outcome,
        });
        registry::register_callback(tool, event as i64, Some(h)).unwrap();
    }
    log
}

#[test]
fn rule3_tools_are_called_from_the_highest_id_down() {
    let _g = registry_lock();
    let all: Vec<_> = (0..6).map(|t| (t, Outcome::Continue)).collect();
    let log = tagged_tools(&all, Event::PyStart);
    fire(&slot(0b111111), Firing::new(Event::PyStart, code(), 0)).unwrap();
    assert_eq!(*log.lock().unwrap(), [5, 4, 3, 2, 1, 0]);
}

#[test]
fn rule3_empty_slot_is_skipped_and_keeps_its_bit() {
    let _g = registry_lock();
    let active = slot(0xFF);
    fire(&active, Firing::new(Event::PyStart, code(), 0)).unwrap();
    assert_eq!(active.get(), 0xFF);
}

#[test]
fn rule4_an_error_stops_the_walk() {
    let _g = registry_lock();
    let log = tagged_tools(
        &[
            (4, Outcome::Continue),
            (3, Outcome::Error),
            (2, Outcome::Continue),
        ],
        Event::Jump,
    );
    let active = slot(0b11100);
    assert!(fire(&active, Firing::new(Event::Jump, code(), 0)).is_err());
    assert_eq!(*log.lock().unwrap(), [4, 3]);
    assert_eq!(message(), "tool 3 failed");
    assert_eq!(active.get(), 0b11100, "slot unchanged");
    error::clear();
}

#[test]
fn rule4_minus_one_without_error_becomes_runtime_error() {
    let _g = registry_lock();
    tool_with(2, EventSet::PY_START, Event::PyStart, Outcome::Error);
    assert!(fire(&slot(1 << 2), Firing::new(Event::PyStart, code(), 0)).is_err());
    assert_eq!(error::kind(), Some(ErrorKind::Runtime));
    assert_eq!(
        message(),
        "callback of tool 2 for PY_START returned -1 without setting an error"
    );
    error::clear();
}

#[test]
fn rule4_an_error_replaces_the_exception() {
    let _g = registry_lock();
    tagged_tools(&[(1, Outcome::Error)], Event::Reraise);
    error::set_raised(Some(obj(3)));
    assert!(fire(&slot(1 << 1), Firing::new(Event::Reraise, code(), 0)).is_err());
    assert_eq!(message(), "tool 1 failed");
    error::clear();
}

#[test]
fn rule5_disable_from_local_events_clears_only_that_bit() {
    let _g = registry_lock();
    for event in Event::ALL.iter().filter(|e| e.is_local()) {
        registry::reset_for_tests();
        let log = tagged_tools(
            &[
                (3, Outcome::Continue),
                (2, Outcome::Disable),
                (1, Outcome::Continue),
            ],
            *event,
        );
        let active = slot(0b1110);
        fire(&active, Firing::new(*event, code(), 0)).unwrap();
        assert_eq!(*log.lock().unwrap(), [3, 2, 1], "{event}: walk goes on");
        assert_eq!(active.get(), 0b1010, "{event}");
        fire(&active, Firing::new(*event, code(), 0)).unwrap();
        assert_eq!(*log.lock().unwrap(), [3, 2, 1, 3, 1], "{event}");
    }
}

#[test]
fn rule5_disable_from_other_events_is_an_error_and_removes_the_callback() {
    let _g = registry_lock();
    for event in Event::ALL
        .iter()
        .filter(|e| !e.is_local() && **e != Event::Branch)
    {
        registry::reset_for_tests();
        let log = tagged_tools(&[(3, Outcome::Disable), (1, Outcome::Continue)], *event);
        error::set_raised(Some(obj(5)));
        let active = slot(0b1010);
        assert!(fire(&active, Firing::new(*event, code(), 0)).is_err());
        assert_eq!(
            message(),
            format!("Cannot disable {} events. Callback removed.", event.name())
        );
        assert_eq!(*log.lock().unwrap(), [3], "{event}: lower tools skipped");
        assert_eq!(active.get(), 0b1010, "{event}: slot unchanged");
        assert!(registry::get_callback(3, *event as i64).unwrap().is_none());
        assert!(registry::get_callback(1, *event as i64).unwrap().is_some());
    }
    error::clear();
}

#[test]
fn rule6_stop_iteration_delivers_the_value_and_leaves_nothing() {
    let _g = registry_lock();
    let rec = tool_with(
        2,
        EventSet::STOP_ITERATION,
        Event::StopIteration,
        Outcome::Continue,
    );
    let f = Firing::new(Event::StopIteration, code(), 0).with_arg(Some(obj(7)));
    fire(&slot(1 << 2), f).unwrap();
    assert_eq!(rec.events()[0].arg0, Some(obj(7)));
    assert!(!error::occurred());
}

#[test]
fn rule6_other_events_keep_a_pending_error() {
    let _g = registry_lock();
    let rec = tool_with(2, EventSet::LINE, Event::Line, Outcome::Continue);
    error::set_raised(Some(obj(4)));
    fire(&slot(1 << 2), Firing::new(Event::Line, code(), 0)).unwrap();
    assert_eq!(rec.count(), 1);
    assert_eq!(error::take_raised(), Some(obj(4)));
}

/// Fires PY_START again from inside its own callback.
struct Nested {
    inner: std::sync::Mutex<Vec<Result<(), crate::error::ErrorSet>>>,
    calls: std::sync::atomic::AtomicUsize,
}

impl Handler for Nested {
    fn call(&self, _ev: &EventRecord) -> Outcome {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let r = fire(&slot(0xFF), Firing::new(Event::PyStart, code(), -1));
        self.inner.lock().unwrap().push(r);
        Outcome::Continue
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

#[test]
fn rule7_nested_fires_are_not_delivered() {
    let _g = registry_lock();
    registry::use_tool_id(0, "n").unwrap();
    registry::set_events(0, EventSet::PY_START.bits()).unwrap();
    let h = Arc::new(Nested {
        inner: Default::default(),
        calls: Default::default(),
    });
    registry::register_callback(0, 0, Some(h.clone())).unwrap();
    fire(&slot(1), Firing::new(Event::PyStart, code(), 0)).unwrap();
    assert_eq!(h.calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    // Not delivered, not even validated (offset -1 would be an error).
    assert_eq!(*h.inner.lock().unwrap(), [Ok(())]);
}

#[test]
fn rule8_disable_lasts_until_the_next_refresh() {
    let _g = registry_lock();
    let rec = tool_with(2, EventSet::PY_START, Event::PyStart, Outcome::Disable);
    tool_with(5, EventSet::empty(), Event::Raise, Outcome::Continue);
    let st = states(1);
    let v = Cell::new(u64::MAX);
    enter_scope(&st, &v, &[0]).unwrap();
    fire(&st[0].active, Firing::new(Event::PyStart, code(), 0)).unwrap();
    assert_eq!(st[0].active.get(), 0);
    enter_scope(&st, &v, &[0]).unwrap();
    assert_eq!(st[0].active.get(), 0, "same version: still disabled");
    // An unrelated tool's change re-enables it, as in CPython.
    registry::set_events(5, EventSet::RAISE.bits()).unwrap();
    enter_scope(&st, &v, &[0]).unwrap();
    assert_eq!(st[0].active.get(), 1 << 2);
    fire(&st[0].active, Firing::new(Event::PyStart, code(), 0)).unwrap();
    registry::restart_events();
    enter_scope(&st, &v, &[0]).unwrap();
    assert_eq!(st[0].active.get(), 1 << 2, "restart re-enables");
    assert_eq!(rec.count(), 2);
}

#[test]
fn removed_callback_is_not_called_by_a_later_fire() {
    let _g = registry_lock();
    let rec = tool_with(2, EventSet::PY_START, Event::PyStart, Outcome::Continue);
    fire(&slot(1 << 2), Firing::new(Event::PyStart, code(), 0)).unwrap();
    registry::register_callback(2, 0, None).unwrap();
    fire(&slot(1 << 2), Firing::new(Event::PyStart, code(), 0)).unwrap();
    assert_eq!(rec.count(), 1);
    crate::quiesce::wait_for_callbacks().unwrap();
}

#[test]
fn inactive_slot_fires_nothing_but_still_checks() {
    let _g = registry_lock();
    let rec = tool_with(2, EventSet::PY_START, Event::PyStart, Outcome::Continue);
    fire(&slot(0), Firing::new(Event::PyStart, code(), 0)).unwrap();
    assert_eq!(rec.count(), 0);
    assert!(fire(&slot(0), Firing::new(Event::PyStart, code(), -1)).is_err());
    error::clear();
}
