//! Rules of local events, `enter_code_scope`, armed sites and
//! `ACTIVE_NEEDS_CALLBACK`.

use std::cell::Cell;
use std::sync::Arc;

use super::*;
use crate::dispatch::{fire, Firing};
use crate::ext::codelike_tables::{Tables, SMALL_ARMED, USER_TOOLS};
use crate::ext::options;
use crate::registry::{Handler, Outcome};
use crate::test_support::{registry_lock, Recorder};

fn obj(i: usize) -> ObjectRef {
    ObjectRef::from_addr(0x1000 + 16 * i).unwrap()
}

fn slots(n: usize) -> Vec<SlotState> {
    (0..n).map(|_| SlotState::default()).collect()
}

fn actives(states: &[SlotState]) -> Vec<u8> {
    states.iter().map(|s| s.active.get()).collect()
}

fn line(code: ObjectRef, offset: i32, lineno: i32) -> Firing {
    Firing {
        lineno,
        ..Firing::new(Event::Line, code, offset)
    }
}

#[test]
fn local_sets_are_validated_like_cpython() {
    // The messages of CPython's set_local_events (3.13 checked by hand,
    // 3.14 numbering: ids 0-10 are local, BRANCH (18) expands).
    for id in 0..Event::LOCAL_COUNT {
        assert_eq!(normalize_local(1 << id).unwrap().bits(), 1 << id);
    }
    for id in 11..16 {
        assert_eq!(
            normalize_local(1 << id).unwrap_err().message(),
            format!("invalid local event set 0x{:x}", 1 << id)
        );
    }
    let indep = "cannot set C_RETURN or C_RAISE events independently";
    assert_eq!(normalize_local(1 << 16).unwrap_err().message(), indep);
    assert_eq!(normalize_local(1 << 17).unwrap_err().message(), indep);
    assert_eq!(
        normalize_local((EventSet::CALL | EventSet::C_RETURN).bits())
            .unwrap_err()
            .message(),
        indep
    );
    let call = EventSet::CALL | EventSet::C_RETURN | EventSet::C_RAISE;
    assert_eq!(normalize_local(call.bits()).unwrap(), EventSet::CALL);
    assert_eq!(
        normalize_local((EventSet::BRANCH | EventSet::LINE).bits()).unwrap(),
        EventSet::BRANCH_LEFT | EventSet::BRANCH_RIGHT | EventSet::LINE
    );
    assert_eq!(
        normalize_local(1 << 30).unwrap_err().message(),
        "invalid local event set 0x40000000"
    );
    // As CPython: C_RETURN/C_RAISE are dropped and BRANCH expanded before
    // the range check.
    assert_eq!(
        normalize_local(u32::MAX).unwrap_err().message(),
        "invalid local event set 0xfff8ffff"
    );
    assert_eq!(normalize_local(0).unwrap(), EventSet::empty());
}

#[test]
fn set_get_and_the_version() {
    let _g = registry_lock();
    let code = obj(1);
    assert_eq!(
        set_local_events(3, code, 1).unwrap_err().message(),
        "tool 3 is not in use"
    );
    assert_eq!(
        set_local_events(6, code, 1).unwrap_err().message(),
        "invalid tool 6 (must be between 0 and 5)"
    );
    assert_eq!(
        get_local_events(-1, code).unwrap_err().message(),
        "invalid tool -1 (must be between 0 and 5)"
    );
    registry::use_tool_id(3, "dbg").unwrap();
    let v = registry::version();
    set_local_events(3, code, EventSet::LINE.bits()).unwrap();
    assert_eq!(registry::version(), v + 1, "a change moves the version");
    set_local_events(3, code, EventSet::LINE.bits()).unwrap();
    assert_eq!(registry::version(), v + 1, "the same set does not");
    assert_eq!(get_local_events(3, code).unwrap(), EventSet::LINE);
    assert_eq!(get_local_events(3, obj(2)).unwrap(), EventSet::empty());
    assert_eq!(get_local_events(2, code).unwrap(), EventSet::empty());
    // A failed set changes nothing.
    assert!(set_local_events(3, code, EventSet::RAISE.bits()).is_err());
    assert_eq!(get_local_events(3, code).unwrap(), EventSet::LINE);
    assert_eq!(registry::version(), v + 1);
    set_local_events(3, code, 0).unwrap();
    assert_eq!(registry::version(), v + 2);
    assert_eq!(get_local_events(3, code).unwrap(), EventSet::empty());
    let snap = registry::global().codelikes_snapshot().1.unwrap();
    assert!(snap.map.is_empty(), "0 removes the entry");
}

#[test]
fn code_scopes_merge_the_local_tools_into_their_slots() {
    let _g = registry_lock();
    let (code, other) = (obj(1), obj(2));
    registry::use_tool_id(0, "dbg").unwrap();
    registry::use_tool_id(2, "prof").unwrap();
    registry::set_events(0, EventSet::PY_START.bits()).unwrap();
    registry::set_events(2, EventSet::PY_START.bits()).unwrap();
    set_local_events(0, code, (EventSet::LINE | EventSet::CALL).bits()).unwrap();
    set_local_events(2, code, EventSet::BRANCH.bits()).unwrap();
    let events = [0u8, 5, 4, 16, 17, 18, 8, 9, 11];
    let states = slots(events.len());
    let version = Cell::new(u64::MAX);
    enter_code_scope(&states, &version, &events, code).unwrap();
    assert_eq!(
        actives(&states),
        [0b101, 0b1, 0b1, 0b1, 0b1, 0b100, 0b100, 0b100, 0]
    );
    assert_eq!(version.get(), registry::version());
    // Another code-like, or a plain scope, gets only the global tools.
    let plain = slots(events.len());
    let v2 = Cell::new(u64::MAX);
    enter_code_scope(&plain, &v2, &events, other).unwrap();
    assert_eq!(actives(&plain), [0b101, 0, 0, 0, 0, 0, 0, 0, 0]);
    crate::scope::enter_scope(&plain, &Cell::new(u64::MAX), &events).unwrap();
    assert_eq!(actives(&plain), [0b101, 0, 0, 0, 0, 0, 0, 0, 0]);
    // An unchanged version reads and writes nothing.
    states[0].active.set(0x80);
    enter_code_scope(&states, &version, &events, code).unwrap();
    assert_eq!(states[0].active.get(), 0x80);
    // Removing the local events: the next refresh drops them.
    set_local_events(0, code, 0).unwrap();
    enter_code_scope(&states, &version, &events, code).unwrap();
    assert_eq!(
        actives(&states),
        [0b101, 0, 0, 0, 0, 0b100, 0b100, 0b100, 0]
    );
    // A bad id writes nothing.
    let v = Cell::new(u64::MAX);
    let err = enter_code_scope(&states[..2], &v, &[0, 19], code).unwrap_err();
    assert_eq!(
        err.message(),
        "invalid event 19 in event_types[1] (must be between 0 and 18)"
    );
    assert_eq!(v.get(), u64::MAX);
}

#[test]
fn clear_and_free_drop_local_events_and_arming() {
    let _g = registry_lock();
    let code = obj(1);
    for clear in [true, false] {
        registry::use_tool_id(1, "cov").unwrap();
        registry::use_tool_id(4, "other").unwrap();
        set_local_events(1, code, EventSet::LINE.bits()).unwrap();
        set_local_events(4, code, EventSet::LINE.bits()).unwrap();
        arm_sites(1, code, ArmKind::Lines, &[3]).unwrap();
        assert!(any_armed());
        let v = registry::version();
        if clear {
            registry::clear_tool_id(1).unwrap();
        } else {
            registry::free_tool_id(1).unwrap();
            registry::use_tool_id(1, "cov again").unwrap();
        }
        assert!(registry::version() > v);
        assert_eq!(get_local_events(1, code).unwrap(), EventSet::empty());
        assert_eq!(armed_sites(1, code).unwrap(), None);
        assert!(!any_armed());
        assert_eq!(get_local_events(4, code).unwrap(), EventSet::LINE);
        let states = slots(1);
        enter_code_scope(&states, &Cell::new(u64::MAX), &[5], code).unwrap();
        assert_eq!(actives(&states), [1 << 4]);
        registry::free_tool_id(1).unwrap();
        registry::free_tool_id(4).unwrap();
    }
    let snap = registry::global().codelikes_snapshot().1.unwrap();
    assert!(snap.map.is_empty());
}

#[test]
fn the_debugger_scenario_one_armed_line() {
    let _g = registry_lock();
    let (code, other) = (obj(1), obj(2));
    registry::use_tool_id(0, "dbg").unwrap();
    let rec = Recorder::new();
    registry::register_callback(0, 0, Some(rec.clone())).unwrap();
    registry::register_callback(0, 5, Some(rec.clone())).unwrap();
    registry::set_events(0, EventSet::PY_START.bits()).unwrap();
    set_local_events(0, code, EventSet::LINE.bits()).unwrap();
    arm_sites(0, code, ArmKind::Lines, &[12]).unwrap();
    let events = [0u8, 5];
    let states = slots(2);
    let version = Cell::new(0);
    enter_code_scope(&states, &version, &events, code).unwrap();
    assert_eq!(actives(&states), [1, 1]);
    fire(&states[0].active, Firing::new(Event::PyStart, code, 0)).unwrap();
    for (offset, lineno) in [(2, 10), (4, 11), (6, 12), (8, 13)] {
        fire(&states[1].active, line(code, offset, lineno)).unwrap();
    }
    let got: Vec<(Event, i32)> = rec.events().iter().map(|e| (e.event, e.lineno)).collect();
    assert_eq!(got, [(Event::PyStart, -1), (Event::Line, 12)]);
    assert_eq!(actives(&states), [1, 1], "skipped sites keep the bit");
    // Another code-like has no LINE slot bit at all.
    let plain = slots(2);
    enter_code_scope(&plain, &Cell::new(0), &events, other).unwrap();
    assert_eq!(actives(&plain), [1, 0]);
}

#[test]
fn offsets_filter_every_local_event_and_lines_only_line() {
    let _g = registry_lock();
    let code = obj(7);
    registry::use_tool_id(2, "t").unwrap();
    registry::use_tool_id(3, "u").unwrap();
    let rec2 = Recorder::new();
    let rec3 = Recorder::new();
    for ev in [0i64, 4, 5, 7, 11] {
        registry::register_callback(2, ev, Some(rec2.clone())).unwrap();
        registry::register_callback(3, ev, Some(rec3.clone())).unwrap();
    }
    arm_sites(2, code, ArmKind::Offsets, &[8, 4, 4]).unwrap();
    assert_eq!(armed_sites(2, code).unwrap().unwrap().sites(), [4, 8]);
    arm_sites(3, code, ArmKind::Lines, &[20]).unwrap();
    let active = Cell::new(0b1100);
    let fires = [
        Firing::new(Event::PyStart, code, 0),
        Firing::new(Event::Call, code, 4),
        line(code, 8, 21),
        line(code, 10, 20),
        Firing::new(Event::Jump, code, 12),
        Firing::new(Event::Jump, obj(8), 13),
    ];
    for f in fires {
        fire(&active, f).unwrap();
    }
    assert_eq!(active.get(), 0b1100);
    let offs = |r: &Recorder| r.events().iter().map(|e| e.offset).collect::<Vec<_>>();
    assert_eq!(offs(&rec2), [4, 8, 13]);
    assert_eq!(offs(&rec3), [0, 4, 10, 12, 13]);
    // Non-local events are never filtered.
    crate::error::set_raised(Some(obj(99)));
    fire(&active, Firing::new(Event::Raise, code, 99)).unwrap();
    assert_eq!(offs(&rec2).last(), Some(&99));
    assert_eq!(offs(&rec3).last(), Some(&99));
    crate::error::clear();
    // An empty arming skips every local event; disarming restores them.
    arm_sites(2, code, ArmKind::Offsets, &[]).unwrap();
    let n = rec2.count();
    fire(&active, Firing::new(Event::Call, code, 4)).unwrap();
    assert_eq!(rec2.count(), n);
    disarm_sites(2, code).unwrap();
    disarm_sites(2, code).unwrap();
    fire(&active, Firing::new(Event::Call, code, 5)).unwrap();
    assert_eq!(rec2.count(), n + 1);
    disarm_sites(3, code).unwrap();
    assert!(!any_armed());
}

#[test]
fn a_disable_at_an_armed_site_clears_the_slot() {
    let _g = registry_lock();
    let code = obj(1);
    registry::use_tool_id(1, "cov").unwrap();
    let rec = Recorder::answering(Outcome::Disable);
    registry::register_callback(1, 5, Some(rec.clone())).unwrap();
    arm_sites(1, code, ArmKind::Lines, &[3]).unwrap();
    let active = Cell::new(0b10);
    fire(&active, line(code, 0, 2)).unwrap();
    assert_eq!(
        active.get(),
        0b10,
        "a skipped site neither calls nor clears"
    );
    fire(&active, line(code, 2, 3)).unwrap();
    assert_eq!(active.get(), 0, "an armed site's DISABLE clears the slot");
    assert_eq!(rec.count(), 1);
}

#[test]
fn arming_input_is_checked() {
    let _g = registry_lock();
    let code = obj(1);
    assert_eq!(
        arm_sites(0, code, ArmKind::Lines, &[1])
            .unwrap_err()
            .message(),
        "tool 0 is not in use"
    );
    assert_eq!(
        disarm_sites(0, code).unwrap_err().message(),
        "tool 0 is not in use"
    );
    assert_eq!(
        arm_sites(9, code, ArmKind::Lines, &[1])
            .unwrap_err()
            .message(),
        "invalid tool 9 (must be between 0 and 5)"
    );
    registry::use_tool_id(0, "dbg").unwrap();
    assert_eq!(
        arm_sites(0, code, ArmKind::Lines, &[1, -2])
            .unwrap_err()
            .message(),
        "invalid site -2 at sites[1] (must be non-negative)"
    );
    let many = vec![0; MAX_SITES + 1];
    assert_eq!(
        arm_sites(0, code, ArmKind::Offsets, &many)
            .unwrap_err()
            .message(),
        "too many sites (1048577; the limit is 1048576)"
    );
    assert_eq!(armed_sites(0, code).unwrap(), None);
    assert!(!any_armed());
    // Arming moves no version; the same arming again changes nothing.
    let v = registry::version();
    let cv = registry::global().ext().codelikes.version();
    arm_sites(0, code, ArmKind::Lines, &[1]).unwrap();
    assert_eq!(registry::version(), v);
    arm_sites(0, code, ArmKind::Lines, &[1, 1]).unwrap();
    assert_eq!(registry::global().ext().codelikes.version(), cv + 1);
}

#[test]
fn the_table_is_bounded() {
    let _g = registry_lock();
    registry::use_tool_id(0, "dbg").unwrap();
    let mut tables = Tables::new();
    for i in 0..MAX_CODELIKES {
        let e = Entry {
            events: [EventSet::LINE; USER_TOOLS],
            ..Entry::default()
        };
        let snap = tables.current.get_or_insert_with(Default::default);
        Arc::make_mut(snap).replace(obj(i), None, Some(Arc::new(e)));
    }
    let full = obj(MAX_CODELIKES + 1);
    let err = tables
        .edit(full, |e| {
            e.events[0] = EventSet::LINE;
            Ok(true)
        })
        .unwrap_err();
    assert_eq!(
        err.message(),
        "too many code-likes with local events or armed sites (the limit is 65536)"
    );
    // An existing entry can still change, and entries can be removed.
    assert!(tables
        .edit(obj(3), |e| {
            e.events[0] = EventSet::empty();
            Ok(true)
        })
        .unwrap());
}

struct Nothing;

impl Handler for Nothing {
    fn call(&self, _: &crate::dispatch::EventRecord) -> Outcome {
        Outcome::Continue
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

#[test]
fn active_needs_callback_masks() {
    let _g = registry_lock();
    let code = obj(1);
    registry::use_tool_id(1, "cov").unwrap();
    registry::use_tool_id(2, "prof").unwrap();
    let all = (EventSet::PY_START | EventSet::CALL | EventSet::C_RETURN | EventSet::C_RAISE).bits()
        | EventSet::BRANCH.bits();
    registry::set_events(1, all).unwrap();
    registry::set_events(2, EventSet::PY_START.bits()).unwrap();
    set_local_events(2, code, EventSet::LINE.bits()).unwrap();
    let h: Arc<dyn Handler> = Arc::new(Nothing);
    registry::register_callback(1, 0, Some(h.clone())).unwrap();
    let events = [0u8, 4, 16, 17, 18, 8, 5];
    let scope = |code| {
        let states = slots(events.len());
        enter_code_scope(&states, &Cell::new(u64::MAX), &events, code).unwrap();
        actives(&states)
    };
    assert_eq!(scope(code), [0b110, 0b10, 0b10, 0b10, 0b10, 0b10, 0b100]);
    let v = registry::version();
    options::set(options::ACTIVE_NEEDS_CALLBACK).unwrap();
    assert_eq!(registry::version(), v + 1);
    assert_eq!(scope(code), [0b10, 0, 0, 0, 0, 0, 0]);
    // A registration that changes a mask moves the version.
    let v = registry::version();
    registry::register_callback(1, 16, Some(h.clone())).unwrap();
    assert_eq!(registry::version(), v + 1);
    assert_eq!(scope(code), [0b10, 0, 0b10, 0, 0, 0, 0]);
    // The BRANCH slot follows BRANCH_RIGHT's callback, not BRANCH_LEFT's.
    registry::register_callback(1, 8, Some(h.clone())).unwrap();
    assert_eq!(scope(code), [0b10, 0, 0b10, 0, 0, 0b10, 0]);
    registry::register_callback(1, 9, Some(h.clone())).unwrap();
    assert_eq!(scope(code), [0b10, 0, 0b10, 0, 0b10, 0b10, 0]);
    // A local tool needs its callback too.
    let v = registry::version();
    registry::register_callback(2, 5, Some(h.clone())).unwrap();
    assert_eq!(registry::version(), v + 1);
    assert_eq!(scope(code), [0b10, 0, 0b10, 0, 0b10, 0b10, 0b100]);
    // A registration that changes no mask (no event set) does not move it.
    let v = registry::version();
    registry::register_callback(2, 12, Some(h.clone())).unwrap();
    registry::register_callback(1, 0, Some(h.clone())).unwrap();
    assert_eq!(registry::version(), v);
    // Removing a callback takes the tool out.
    registry::register_callback(1, 16, None).unwrap();
    assert_eq!(registry::version(), v + 1);
    assert_eq!(scope(code), [0b10, 0, 0, 0, 0b10, 0b10, 0b100]);
    // Back to the default: every tool with the event.
    options::set(0).unwrap();
    assert_eq!(scope(code), [0b110, 0b10, 0b10, 0b10, 0b10, 0b10, 0b100]);
    let v = registry::version();
    registry::register_callback(1, 17, Some(h)).unwrap();
    assert_eq!(
        registry::version(),
        v,
        "default mode: registering moves nothing"
    );
}

#[test]
fn a_removed_non_local_callback_updates_the_masks_in_that_mode() {
    let _g = registry_lock();
    let code = obj(1);
    options::set(options::ACTIVE_NEEDS_CALLBACK).unwrap();
    registry::use_tool_id(1, "t").unwrap();
    registry::set_events(1, EventSet::RAISE.bits()).unwrap();
    let rec = Recorder::answering(Outcome::Disable);
    registry::register_callback(1, 11, Some(rec)).unwrap();
    let states = slots(1);
    let version = Cell::new(u64::MAX);
    enter_code_scope(&states, &version, &[11], code).unwrap();
    assert_eq!(actives(&states), [0b10]);
    crate::error::set_raised(Some(obj(50)));
    let v = registry::version();
    assert!(fire(&states[0].active, Firing::new(Event::Raise, code, 0)).is_err());
    crate::error::clear();
    assert_eq!(registry::version(), v + 1);
    enter_code_scope(&states, &version, &[11], code).unwrap();
    assert_eq!(actives(&states), [0]);
}

#[test]
fn threads_fire_and_enter_while_another_sets_and_arms() {
    let _g = registry_lock();
    let code = obj(1);
    registry::use_tool_id(0, "dbg").unwrap();
    let rec = Recorder::new();
    registry::register_callback(0, 5, Some(rec.clone())).unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let states = slots(2);
                let version = Cell::new(0);
                let mut rounds = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) || rounds < 1000 {
                    enter_code_scope(&states, &version, &[5, 0], code).unwrap();
                    let a = states[0].active.get();
                    assert!(a == 0 || a == 1, "only tool 0 ever has LINE");
                    assert_eq!(states[1].active.get(), 0);
                    for lineno in 1..4 {
                        fire(&states[0].active, line(code, 2 * lineno, lineno)).unwrap();
                    }
                    rounds += 1;
                }
            })
        })
        .collect();
    for i in 0..300 {
        let set = if i % 2 == 0 { EventSet::LINE.bits() } else { 0 };
        set_local_events(0, code, set).unwrap();
        arm_sites(0, code, ArmKind::Lines, &[(i % 3) + 1]).unwrap();
        if i % 5 == 0 {
            disarm_sites(0, code).unwrap();
        }
    }
    // The final settings: LINE with line 2 armed.
    set_local_events(0, code, EventSet::LINE.bits()).unwrap();
    arm_sites(0, code, ArmKind::Lines, &[2]).unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let before = rec.count();
    let states = slots(1);
    enter_code_scope(&states, &Cell::new(0), &[5], code).unwrap();
    for lineno in 1..4 {
        fire(&states[0].active, line(code, 2 * lineno, lineno)).unwrap();
    }
    assert_eq!(rec.count(), before + 1);
    assert_eq!(rec.events().last().unwrap().lineno, 2);
}

#[test]
fn many_armed_code_likes_are_found_past_the_small_index() {
    let _g = registry_lock();
    registry::use_tool_id(0, "many").unwrap();
    let rec = Recorder::new();
    registry::register_callback(0, Event::Line as i64, Some(rec.clone())).unwrap();
    registry::set_events(0, EventSet::LINE.bits()).unwrap();
    let n = 3 * SMALL_ARMED;
    for i in 0..n {
        arm_sites(0, obj(i), ArmKind::Lines, &[i as i32]).unwrap();
    }
    let check = |armed: &dyn Fn(usize) -> bool| {
        rec.seen.lock().unwrap().clear();
        let active = Cell::new(1u8);
        let mut want = Vec::new();
        for i in 0..n + 3 {
            // The armed line, then one that is not.
            fire(&active, line(obj(i), 0, i as i32)).unwrap();
            fire(&active, line(obj(i), 2, i as i32 + 1)).unwrap();
            want.push(i as i32);
            if !armed(i) {
                want.push(i as i32 + 1);
            }
        }
        let got: Vec<i32> = rec.events().iter().map(|e| e.lineno).collect();
        assert_eq!(got, want);
    };
    check(&|i| i < n);
    // Disarm down through the small index's size and check both sides.
    for i in 0..n - SMALL_ARMED / 2 {
        disarm_sites(0, obj(i)).unwrap();
        if i == n - SMALL_ARMED - 1 || i == SMALL_ARMED {
            let first = i + 1;
            check(&|j| (first..n).contains(&j));
        }
    }
    let snap = registry::global().codelikes_snapshot().1.unwrap();
    assert_eq!(snap.armed.len(), SMALL_ARMED / 2);
    registry::free_tool_id(0).unwrap();
    assert!(!any_armed());
}

#[test]
fn counts_follow_every_change() {
    let _g = registry_lock();
    registry::use_tool_id(1, "counts").unwrap();
    registry::use_tool_id(2, "counts2").unwrap();
    for i in 0..500 {
        set_local_events(1, obj(i), EventSet::LINE.bits()).unwrap();
        if i % 2 == 0 {
            arm_sites(2, obj(i), ArmKind::Offsets, &[1]).unwrap();
        }
    }
    let snap = registry::global().codelikes_snapshot().1.unwrap();
    assert_eq!(
        (snap.map.len(), snap.local, snap.armed_map.len()),
        (500, 500, 250)
    );
    registry::free_tool_id(1).unwrap();
    let snap = registry::global().codelikes_snapshot().1.unwrap();
    assert_eq!(
        (snap.map.len(), snap.local, snap.armed_map.len()),
        (250, 0, 250)
    );
    assert!(!registry::global().ext().codelikes.has_local());
    registry::free_tool_id(2).unwrap();
    let snap = registry::global().codelikes_snapshot().1.unwrap();
    assert!(snap.map.is_empty() && snap.armed_map.is_empty() && snap.armed.is_empty());
}
