use super::*;
use crate::error;
use crate::registry;
use crate::test_support::registry_lock;
use std::sync::Mutex;

fn obj(i: usize) -> ObjectRef {
    ObjectRef::from_addr(0x1000 + i).unwrap()
}

#[test]
fn dropping_a_tool_releases_its_id_events_and_callbacks() {
    let _g = registry_lock();
    let tool = Tool::claim(3, "t").unwrap();
    tool.set_events(EventSet::LINE).unwrap();
    tool.on(Event::Line, |_| Action::Continue).unwrap();
    assert_eq!(tool_name(3).unwrap().as_deref(), Some("t"));
    let v = version();
    drop(tool);
    assert_eq!(tool_name(3).unwrap(), None);
    assert_eq!(registry::get_events(3).unwrap(), EventSet::empty());
    assert!(registry::get_callback(3, Event::Line.id().into())
        .unwrap()
        .is_none());
    assert!(version() > v, "freeing a tool in use bumps the version");
    // The id can be claimed again at once.
    let again = Tool::claim(3, "u").unwrap();
    assert_eq!(again.id(), 3);
}

#[test]
fn a_stale_handle_leaves_a_new_claim_alone() {
    let _g = registry_lock();
    let stale = Tool::claim(4, "old").unwrap();
    registry::free_tool_id(4).unwrap(); // as C's PyMonitoring_FreeToolId
    registry::use_tool_id(4, "new").unwrap();
    assert!(stale.set_events(EventSet::LINE).is_err());
    assert_eq!(stale.name(), None);
    drop(stale);
    assert_eq!(tool_name(4).unwrap().as_deref(), Some("new"));
}

#[test]
fn fire_reports_callback_failures_and_keeps_the_indicator() {
    let _g = registry_lock();
    let tool = Tool::claim(2, "t").unwrap();
    tool.on(Event::PyStart, |_| Action::Fail(Error::runtime("boom")))
        .unwrap();
    tool.on(Event::Raise, |_| Action::Raise(obj(7))).unwrap();
    tool.set_events(EventSet::PY_START | EventSet::RAISE)
        .unwrap();
    let scope = Scope::new(&[Event::PyStart, Event::Raise]);
    scope.enter();
    error::set(Error::value("host's own"));
    let err = scope.slot(0).fire_py_start(obj(1), 0).unwrap_err();
    assert_eq!(err, Pending::Error(Error::runtime("boom")));
    let err = scope.slot(1).fire_raise(obj(1), 0, obj(2)).unwrap_err();
    assert_eq!(err, Pending::Host(obj(7)));
    assert_eq!(
        error::take(),
        Some(Pending::Error(Error::value("host's own")))
    );
}

#[test]
fn disable_clears_the_slot_until_the_next_refresh() {
    let _g = registry_lock();
    let hits = Arc::new(Mutex::new(0));
    let tool = Tool::claim(1, "cov").unwrap();
    let h = hits.clone();
    tool.on(Event::Line, move |_| {
        *h.lock().unwrap() += 1;
        Action::Disable
    })
    .unwrap();
    tool.set_events(EventSet::LINE).unwrap();
    let scope = Scope::new(&[Event::Line]);
    scope.enter();
    for line in 1..5 {
        scope.slot(0).fire_line(obj(1), line, line).unwrap();
    }
    assert_eq!(*hits.lock().unwrap(), 1);
    assert!(!scope.slot(0).is_active());
    scope.enter();
    assert!(!scope.slot(0).is_active(), "same version: no refresh");
    restart_events();
    scope.enter();
    scope.slot(0).fire_line(obj(1), 1, 1).unwrap();
    assert_eq!(*hits.lock().unwrap(), 2);
}

#[test]
fn misuse_is_an_error_not_a_delivery() {
    let _g = registry_lock();
    let tool = Tool::claim(0, "t").unwrap();
    let seen = Arc::new(Mutex::new(0));
    let s = seen.clone();
    tool.on(Event::PyStart, move |_| {
        *s.lock().unwrap() += 1;
        Action::Continue
    })
    .unwrap();
    tool.set_events(EventSet::PY_START | EventSet::LINE)
        .unwrap();
    let scope = Scope::new(&[Event::PyStart, Event::Line]);
    scope.enter();
    let e = scope.slot(1).fire_py_start(obj(1), 0).unwrap_err();
    assert_eq!(
        e,
        Pending::Error(Error::value("this slot is for LINE, not PY_START"))
    );
    let e = scope.slot(0).fire_py_start(obj(1), u32::MAX).unwrap_err();
    assert_eq!(
        e,
        Pending::Error(Error::value(
            "offset 4294967295 is too large (must be at most 2147483647)"
        ))
    );
    assert_eq!(*seen.lock().unwrap(), 0);
    assert!(!error::occurred());
}
