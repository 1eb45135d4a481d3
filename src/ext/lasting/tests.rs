//! Per-tool restart and the lasting-DISABLE mode through the core.

use super::*;
use crate::event::EventSet;
use crate::registry::Outcome;
use crate::scope::enter_scope;
use crate::test_support::{registry_lock, Recorder};
use std::sync::Arc;

fn code(addr: usize) -> ObjectRef {
    ObjectRef::from_addr(addr).unwrap()
}

/// A fresh (zeroed) scope with one slot per event id.
fn states(n: usize) -> Vec<SlotState> {
    (0..n).map(|_| SlotState::default()).collect()
}

/// Claim `tool` with `events` and a recorder for each of `events`.
fn tool(t: i64, events: EventSet, answer: Outcome) -> Arc<Recorder> {
    let rec = Recorder::answering(answer);
    registry::use_tool_id(t, "t").unwrap();
    for e in Event::ALL {
        if events.has(e) {
            registry::register_callback(t, e as i64, Some(rec.clone())).unwrap();
        }
    }
    registry::set_events(t, events.bits()).unwrap();
    rec
}

fn fire_at(slot: &SlotState, event: Event, c: ObjectRef, offset: i32) {
    fire(slot, Firing::new(event, c, offset)).unwrap();
}

fn set_lasting(on: bool) {
    options::set(if on { LASTING_DISABLE } else { 0 }).unwrap();
}

#[test]
fn bad_tools_are_value_errors_and_change_nothing() {
    let _g = registry_lock();
    let v = registry::version();
    for bad in [-1, 6, 7, 8, 1000] {
        assert_eq!(
            restart_tool_events(bad).unwrap_err().message(),
            format!("invalid tool {bad} (must be between 0 and 5)")
        );
    }
    assert_eq!(
        restart_tool_events(4).unwrap_err().message(),
        "tool 4 is not in use"
    );
    assert_eq!(registry::version(), v);
    registry::use_tool_id(4, "t").unwrap();
    restart_tool_events(4).unwrap();
    assert_eq!(
        registry::version(),
        v + 1,
        "moves the version, even with nothing DISABLEd"
    );
}

/// Default mode: only the restarted tool comes back; the others'
/// DISABLEs stay (and come back on any other change, as in CPython).
#[test]
fn default_mode_restarts_only_that_tool() {
    let _g = registry_lock();
    let a = tool(1, EventSet::LINE, Outcome::Disable);
    let b = tool(3, EventSet::LINE, Outcome::Disable);
    let s = states(1);
    let version = Cell::new(0);
    let c = code(0x100);
    enter_scope(&s, &version, &[Event::Line.id()]).unwrap();
    assert_eq!(s[0].active.get(), 0b1010);
    fire_at(&s[0], Event::Line, c, 2);
    assert_eq!(s[0].active.get(), 0);
    assert_eq!((a.count(), b.count()), (1, 1));

    restart_tool_events(3).unwrap();
    enter_scope(&s, &version, &[Event::Line.id()]).unwrap();
    assert_eq!(s[0].active.get(), 0b1000, "only tool 3 is back");
    assert_eq!(s[0].opaque.get(), 0, "opaque untouched in the default mode");
    fire_at(&s[0], Event::Line, c, 2);
    assert_eq!((a.count(), b.count()), (1, 2));

    // Two restarts in a row, one refresh: both come back.
    restart_tool_events(1).unwrap();
    restart_tool_events(3).unwrap();
    enter_scope(&s, &version, &[Event::Line.id()]).unwrap();
    assert_eq!(s[0].active.get(), 0b1010);
    fire_at(&s[0], Event::Line, c, 2);

    // A per-tool restart then an unrelated change: CPython's refresh.
    restart_tool_events(1).unwrap();
    registry::use_tool_id(5, "other").unwrap();
    registry::set_events(5, EventSet::JUMP.bits()).unwrap();
    enter_scope(&s, &version, &[Event::Line.id()]).unwrap();
    assert_eq!(
        s[0].active.get(),
        0b1010,
        "an unrelated change re-enables everyone"
    );

    // An unrelated change then a per-tool restart: also a full refresh
    // for a scope older than the change.
    fire_at(&s[0], Event::Line, c, 2);
    let stale = Cell::new(version.get());
    registry::set_events(5, EventSet::BRANCH.bits()).unwrap();
    restart_tool_events(1).unwrap();
    enter_scope(&s, &stale, &[Event::Line.id()]).unwrap();
    assert_eq!(s[0].active.get(), 0b1010);
    // ... and a restore for a scope refreshed after the change.
    fire_at(&s[0], Event::Line, c, 2);
    restart_tool_events(3).unwrap();
    enter_scope(&s, &stale, &[Event::Line.id()]).unwrap();
    assert_eq!(s[0].active.get(), 0b1000);
}

#[test]
fn restart_events_and_clear_end_every_disable_in_the_default_mode() {
    let _g = registry_lock();
    tool(1, EventSet::PY_START, Outcome::Disable);
    tool(2, EventSet::PY_START, Outcome::Disable);
    restart_tool_events(2).unwrap();
    let s = states(1);
    let version = Cell::new(0);
    enter_scope(&s, &version, &[0]).unwrap();
    fire_at(&s[0], Event::PyStart, code(8), 0);
    assert_eq!(s[0].active.get(), 0);
    registry::restart_events();
    enter_scope(&s, &version, &[0]).unwrap();
    assert_eq!(s[0].active.get(), 0b110);
}

/// Lasting mode: a DISABLE silences its site for that tool, survives
/// unrelated changes and other tools' restarts, and ends with the tool's
/// own restart.
#[test]
fn lasting_mode_keeps_disable_until_that_tool_restarts() {
    let _g = registry_lock();
    set_lasting(true);
    let a = tool(1, EventSet::LINE, Outcome::Disable);
    let b = tool(3, EventSet::LINE, Outcome::Continue);
    let s = states(1);
    let version = Cell::new(0);
    let c = code(0x100);
    enter_scope(&s, &version, &[Event::Line.id()]).unwrap();
    fire_at(&s[0], Event::Line, c, 2);
    assert_eq!((s[0].active.get(), s[0].opaque.get()), (0b1010, SLOT_MARK));
    fire_at(&s[0], Event::Line, c, 2);
    assert_eq!(
        (a.count(), b.count()),
        (1, 2),
        "the site is silent for tool 1"
    );
    // Unrelated changes do not bring tool 1 back.
    registry::use_tool_id(5, "other").unwrap();
    registry::set_events(5, EventSet::JUMP.bits()).unwrap();
    restart_tool_events(3).unwrap();
    enter_scope(&s, &version, &[Event::Line.id()]).unwrap();
    assert_eq!(s[0].active.get(), 0b1010);
    fire_at(&s[0], Event::Line, c, 2);
    assert_eq!((a.count(), b.count()), (1, 3));
    // Its restart does.
    restart_tool_events(1).unwrap();
    enter_scope(&s, &version, &[Event::Line.id()]).unwrap();
    assert_eq!((s[0].active.get(), s[0].opaque.get()), (0b1010, SLOT_MARK));
    fire_at(&s[0], Event::Line, c, 2);
    assert_eq!((a.count(), b.count()), (2, 4));
}

/// The rule the mode exists for: one LINE slot serves every line of an
/// activation, and a DISABLE at one line leaves the slot's other lines
/// firing, in this activation and the next.
#[test]
fn other_sites_of_the_slot_keep_firing() {
    let _g = registry_lock();
    set_lasting(true);
    let a = tool(2, EventSet::LINE, Outcome::Disable);
    let c = code(0x1100);
    let activation = |lines: &[i32]| {
        let s = states(1);
        enter_scope(&s, &Cell::new(0), &[Event::Line.id()]).unwrap();
        for &l in lines {
            let firing = Firing {
                lineno: l + 100,
                ..Firing::new(Event::Line, c, l)
            };
            fire(&s[0], firing).unwrap();
            assert_eq!(s[0].active.get(), 0b100, "the slot stays active");
        }
    };
    activation(&[1, 2, 3, 2, 1, 3]);
    assert_eq!(a.count(), 3, "each line once");
    activation(&[1, 2, 3, 4]);
    assert_eq!(a.count(), 4, "a new line once, the others never again");
    assert_eq!(sites::remembered(), 4);
}

/// LINE's site includes the line number: Cython fires every line of a
/// generator body at offset 0.
#[test]
fn lines_at_one_offset_are_distinct_sites() {
    let _g = registry_lock();
    set_lasting(true);
    let a = tool(0, EventSet::LINE, Outcome::Disable);
    let c = code(0x1200);
    let s = states(1);
    enter_scope(&s, &Cell::new(0), &[Event::Line.id()]).unwrap();
    for pass in 0..2 {
        for l in 1..=40 {
            let firing = Firing {
                lineno: l,
                ..Firing::new(Event::Line, c, 0)
            };
            fire(&s[0], firing).unwrap();
        }
        assert_eq!(a.count(), 40, "pass {pass}");
    }
}

/// Fresh per-call states (Cython) skip remembered sites without a
/// callback; other sites of the same code-like still call it.
#[test]
fn fresh_states_skip_remembered_sites() {
    let _g = registry_lock();
    set_lasting(true);
    let a = tool(2, EventSet::LINE | EventSet::PY_START, Outcome::Disable);
    let c = code(0x200);
    let call = |offset: i32| {
        let s = states(2);
        let version = Cell::new(0);
        enter_scope(&s, &version, &[Event::PyStart.id(), Event::Line.id()]).unwrap();
        assert_eq!(s[1].active.get(), 0b100);
        fire_at(&s[0], Event::PyStart, c, 0);
        fire_at(&s[1], Event::Line, c, offset);
        (
            s[0].active.get(),
            s[0].opaque.get(),
            s[1].active.get(),
            s[1].opaque.get(),
        )
    };
    const M: u8 = SLOT_MARK;
    assert_eq!(call(4), (0b100, M, 0b100, M));
    assert_eq!(a.count(), 2);
    assert_eq!(sites::remembered(), 2);
    assert_eq!(call(4), (0b100, M, 0b100, M), "skipped, nothing written");
    assert_eq!(a.count(), 2, "no callback at remembered sites");
    call(6);
    assert_eq!(a.count(), 3, "another offset is another site");
    let other = code(0x300);
    let s = states(1);
    enter_scope(&s, &Cell::new(0), &[Event::Line.id()]).unwrap();
    fire_at(&s[0], Event::Line, other, 4);
    assert_eq!(a.count(), 4, "another code-like is another site");
}

#[test]
fn restart_clear_and_free_forget_sites() {
    let _g = registry_lock();
    set_lasting(true);
    let a = tool(2, EventSet::LINE, Outcome::Disable);
    let b = tool(4, EventSet::LINE, Outcome::Disable);
    let c = code(0x400);
    let call = || {
        let s = states(1);
        enter_scope(&s, &Cell::new(0), &[Event::Line.id()]).unwrap();
        fire_at(&s[0], Event::Line, c, 1);
        (a.count(), b.count())
    };
    assert_eq!(call(), (1, 1));
    assert_eq!(call(), (1, 1));
    restart_tool_events(2).unwrap();
    assert_eq!(call(), (2, 1), "only tool 2 is called again");
    registry::restart_events();
    assert_eq!(call(), (3, 2), "RestartEvents forgets every tool");
    assert_eq!(call(), (3, 2));
    registry::clear_tool_id(4).unwrap();
    registry::set_events(4, EventSet::LINE.bits()).unwrap();
    registry::register_callback(4, Event::Line as i64, Some(b.clone())).unwrap();
    assert_eq!(call(), (3, 3), "a clear forgets the tool");
    registry::free_tool_id(2).unwrap();
    assert_eq!(sites::remembered(), 1);
    let a2 = tool(2, EventSet::LINE, Outcome::Continue);
    call();
    assert_eq!(a2.count(), 1, "a freed tool's sites are forgotten");
}

#[test]
fn a_full_table_calls_the_callback() {
    let _g = registry_lock();
    set_lasting(true);
    let a = tool(0, EventSet::LINE, Outcome::Disable);
    let c = code(0x500);
    let n = 2 * sites::SITES as i32;
    let pass = || {
        let before = a.count();
        for offset in 0..n {
            let s = states(1);
            enter_scope(&s, &Cell::new(0), &[Event::Line.id()]).unwrap();
            fire_at(&s[0], Event::Line, c, offset);
            assert_eq!(s[0].active.get(), 1, "the slot is never silenced");
        }
        a.count() - before
    };
    assert_eq!(pass(), n as usize);
    let kept = sites::remembered();
    assert!(kept <= sites::SITES && kept > sites::SITES / 2, "{kept}");
    assert_eq!(
        pass(),
        n as usize - kept,
        "the sites not remembered call the callback"
    );
    assert_eq!(pass(), n as usize - kept);
}

#[test]
fn non_local_disable_keeps_cpythons_rule() {
    let _g = registry_lock();
    set_lasting(true);
    let a = tool(1, EventSet::RAISE, Outcome::Disable);
    let s = states(1);
    enter_scope(&s, &Cell::new(0), &[Event::Raise.id()]).unwrap();
    crate::error::set_raised(Some(code(0x99)));
    let err = fire(&s[0], Firing::new(Event::Raise, code(0x600), 3));
    assert!(err.is_err());
    let Some(crate::error::Pending::Error(e)) = crate::error::take() else {
        panic!("a ValueError is pending")
    };
    assert_eq!(
        e.message(),
        "Cannot disable RAISE events. Callback removed."
    );
    assert_eq!(a.count(), 1);
    assert!(registry::get_callback(1, Event::Raise as i64)
        .unwrap()
        .is_none());
    assert_eq!((s[0].active.get(), s[0].opaque.get()), (0b10, SLOT_MARK));
    assert_eq!(sites::remembered(), 0);
}

#[test]
fn switching_the_mode_off_brings_cpythons_rules_back() {
    let _g = registry_lock();
    set_lasting(true);
    let a = tool(1, EventSet::PY_START, Outcome::Disable);
    let s = states(1);
    let version = Cell::new(0);
    enter_scope(&s, &version, &[0]).unwrap();
    fire_at(&s[0], Event::PyStart, code(0x700), 0);
    assert_eq!(sites::remembered(), 1);
    set_lasting(false);
    assert_eq!(sites::remembered(), 0, "switching off forgets every site");
    enter_scope(&s, &version, &[0]).unwrap();
    assert_eq!(s[0].active.get(), 0b10);
    fire_at(&s[0], Event::PyStart, code(0x700), 0);
    assert_eq!(a.count(), 2);
    assert_eq!(s[0].active.get(), 0, "CPython's DISABLE: the slot");
    assert_eq!(
        s[0].opaque.get(),
        SLOT_MARK,
        "the default mode leaves opaque as it was"
    );
    registry::use_tool_id(4, "other").unwrap();
    registry::set_events(4, EventSet::JUMP.bits()).unwrap();
    enter_scope(&s, &version, &[0]).unwrap();
    assert_eq!(s[0].active.get(), 0b10, "any change re-enables, as CPython");
    // Switching on again restarts everyone: stale opaque bits are dropped.
    set_lasting(true);
    enter_scope(&s, &version, &[0]).unwrap();
    assert_eq!((s[0].active.get(), s[0].opaque.get()), (0b10, SLOT_MARK));
}

/// A marked slot with no tool active takes CPython's checks, in the mode
/// and with the mode switched off: `_PyMonitoring_Fire*` still check the
/// exception and the offset.
#[test]
fn an_inactive_marked_slot_takes_cpythons_checks() {
    let _g = registry_lock();
    set_lasting(true);
    registry::use_tool_id(1, "t").unwrap();
    let s = states(1);
    enter_scope(&s, &Cell::new(0), &[0]).unwrap();
    assert_eq!((s[0].active.get(), s[0].opaque.get()), (0, SLOT_MARK));
    let raise = || fire(&s[0], Firing::new(Event::Raise, code(0x900), 0));
    let negative = || fire(&s[0], Firing::new(Event::PyStart, code(0x900), -1));
    let message = || match crate::error::take() {
        Some(crate::error::Pending::Error(e)) => e.message().to_owned(),
        other => panic!("expected a library error, got {other:?}"),
    };
    for on in [true, false] {
        set_lasting(on);
        assert!(raise().is_err());
        assert_eq!(message(), "Firing event 11 with no exception set");
        assert!(negative().is_err());
        assert_eq!(message(), "offset must be non-negative");
    }
    assert_eq!(s[0].opaque.get(), SLOT_MARK, "opaque as it was");
}

#[test]
fn a_version_from_elsewhere_counts_as_everything_restarted() {
    let _g = registry_lock();
    set_lasting(true);
    tool(1, EventSet::PY_START, Outcome::Disable);
    let s = states(1);
    s[0].opaque.set(0b10);
    enter_scope(&s, &Cell::new(u64::MAX), &[0]).unwrap();
    assert_eq!((s[0].active.get(), s[0].opaque.get()), (0b10, SLOT_MARK));
}

#[test]
fn a_tool_without_a_disable_is_called_at_a_site_others_disabled() {
    let _g = registry_lock();
    set_lasting(true);
    let a = tool(1, EventSet::CALL, Outcome::Disable);
    let b = tool(2, EventSet::CALL, Outcome::Continue);
    for _ in 0..3 {
        let s = states(1);
        enter_scope(&s, &Cell::new(0), &[Event::Call.id()]).unwrap();
        fire_at(&s[0], Event::Call, code(0x800), 10);
        assert_eq!((s[0].active.get(), s[0].opaque.get()), (0b110, SLOT_MARK));
    }
    assert_eq!((a.count(), b.count()), (1, 3));
}

/// Threads fire at shared sites on fresh states while another restarts
/// and a callback DISABLEs: no crash, every delivery is the site fired
/// and a tool with events, and once the threads stop the memory is exact
/// again (a pass calls each site once, the next pass none).
#[test]
fn threads_fire_while_another_restarts() {
    use std::sync::atomic::{AtomicBool, Ordering as O};
    struct Check(std::sync::atomic::AtomicUsize);
    impl crate::registry::Handler for Check {
        fn call(&self, e: &crate::dispatch::EventRecord) -> Outcome {
            assert_eq!(e.event, Event::Line);
            assert_eq!(e.tool, 3);
            assert_eq!(e.codelike.addr() % 0x1000, 0);
            assert_eq!(e.lineno, e.offset + 1000);
            self.0.fetch_add(1, O::Relaxed);
            Outcome::Disable
        }
        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
    }
    let _g = registry_lock();
    set_lasting(true);
    let check = Arc::new(Check(std::sync::atomic::AtomicUsize::new(0)));
    registry::use_tool_id(3, "cov").unwrap();
    registry::register_callback(3, Event::Line as i64, Some(check.clone())).unwrap();
    registry::set_events(3, EventSet::LINE.bits()).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let pass = |code: usize| {
        for offset in 0..64 {
            let s = states(1);
            enter_scope(&s, &Cell::new(0), &[Event::Line.id()]).unwrap();
            let firing = Firing {
                lineno: offset + 1000,
                ..Firing::new(Event::Line, ObjectRef::from_addr(code).unwrap(), offset)
            };
            fire(&s[0], firing).unwrap();
            assert_eq!(s[0].active.get(), 0b1000, "the slot stays active");
        }
    };
    std::thread::scope(|scope| {
        for t in 0..3 {
            let stop = stop.clone();
            scope.spawn(move || {
                while !stop.load(O::Relaxed) {
                    pass(0x1000 * (1 + t % 2));
                }
            });
        }
        for _ in 0..200 {
            restart_tool_events(3).unwrap();
            std::thread::yield_now();
        }
        stop.store(true, O::Relaxed);
    });
    restart_tool_events(3).unwrap();
    let before = check.0.load(O::Relaxed);
    pass(0x1000);
    assert_eq!(check.0.load(O::Relaxed) - before, 64);
    pass(0x1000);
    assert_eq!(
        check.0.load(O::Relaxed) - before,
        64,
        "every site remembered"
    );
}
