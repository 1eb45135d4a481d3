//! The entry points' check of a marked slot's site ([`site_skip`]) against
//! the core's table: a skip only where every active tool is remembered for
//! the site, a fire without the scan only where none is.

use super::*;
use crate::ext::sites;
use crate::object::ObjectRef;
use crate::test_support::registry_lock;

const CODES: [usize; 3] = [0x7f00_1000, 0x7f00_2040, 0x5555_0000_0010];
const BIG: i32 = 1 << 25;

/// LINE's (offset, lineno) and the other events' offsets remembered and
/// asked about: inside the key, at its limits, outside it, and the
/// outside ones that pack onto a remembered site ((2^25, 5) onto (0, 6);
/// a line 2^25 above another onto it).
fn line_sites() -> Vec<(i32, i32)> {
    let mut out = Vec::new();
    for offset in [
        0,
        1,
        2,
        511,
        512,
        BIG - 1,
        BIG,
        BIG + 2,
        -1,
        i32::MAX,
        i32::MIN,
    ] {
        for line in [
            -2,
            -1,
            0,
            3,
            5,
            6,
            16382,
            BIG - 2,
            BIG - 1,
            3 + BIG,
            i32::MAX,
            i32::MIN,
        ] {
            out.push((offset, line));
        }
    }
    out
}

fn offsets() -> Vec<i32> {
    vec![0, 1, 7, 511, BIG - 1, BIG, BIG + 7, -1, i32::MAX, i32::MIN]
}

/// `site_skip` of `EVENT` at the site, on a marked slot with `active`.
fn check<const EVENT: u8>(active: u8, code: usize, offset: i32, lineno: i32) -> lasting::Skip {
    let mut state = PyMonitoringState {
        active,
        opaque: lasting::SLOT_MARK,
    };
    // SAFETY: a valid state; the code-like is never dereferenced.
    unsafe { site_skip::<EVENT>(&mut state, code as *mut PyObject, offset, lineno as usize) }
}

/// The property for one site: `Done` only when every tool of `active` is
/// remembered (one, in the table's home: exactly where the core's check
/// skips); `Fire` only when none is.
fn agrees(event: Event, skip: lasting::Skip, active: u8, code: usize, offset: i32, lineno: i32) {
    let line = sites::line_word(event, lineno);
    let remembered = match ObjectRef::from_addr(code) {
        Some(c) if active != 0 => sites::table().disabled(c, offset, event, line, active),
        _ => 0,
    };
    let what = format!("{event:?} active {active:#x} code {code:#x} offset {offset} line {lineno}");
    match skip {
        lasting::Skip::Done => assert_eq!(remembered, active, "a wrong skip: {what}"),
        lasting::Skip::Fire => assert_eq!(remembered, 0, "a remembered tool fired: {what}"),
        lasting::Skip::Scan => {}
    }
    // The same skips as the core's check of the home (which tests LINE's
    // range before the hash, where the entry points test it on a match).
    let core = lasting::skipped_fast_at(&slot(active), event, code, offset, line);
    assert_eq!(
        skip == lasting::Skip::Done,
        core == lasting::Skip::Done,
        "the core's check differs: {what}"
    );
}

fn slot(active: u8) -> SlotState {
    let slot = SlotState::default();
    slot.active.set(active);
    slot.opaque.set(lasting::SLOT_MARK);
    slot
}

#[test]
fn the_entry_points_check_agrees_with_the_table() {
    let _g = registry_lock();
    let table = sites::table();
    table.forget_all();
    // Remember every other site for tool 1, and some for tool 3 as well.
    for (i, &(offset, lineno)) in line_sites().iter().enumerate() {
        let line = sites::line_word(Event::Line, lineno);
        let c = ObjectRef::from_addr(CODES[i % 2]).unwrap();
        if i % 2 == 0 {
            table.remember(c, offset, Event::Line, line, 1, || true);
        }
        if i % 3 == 0 {
            table.remember(c, offset, Event::Line, line, 3, || true);
        }
    }
    for (i, &offset) in offsets().iter().enumerate() {
        let c = ObjectRef::from_addr(CODES[i % 2]).unwrap();
        table.remember(c, offset, Event::PyStart, 0, 1, || true);
        table.remember(c, offset, Event::PyReturn, 0, 1 + (i % 2) as u8, || true);
    }
    let mut done = 0;
    for code in CODES.into_iter().chain([0]) {
        for active in [0u8, 1 << 1, 1 << 3, 1 << 2, 0b1010, 0xff] {
            for &(offset, lineno) in &line_sites() {
                let skip = check::<{ Event::Line as u8 }>(active, code, offset, lineno);
                done += usize::from(skip == lasting::Skip::Done);
                agrees(Event::Line, skip, active, code, offset, lineno);
            }
            for offset in offsets() {
                let skip = check::<{ Event::PyStart as u8 }>(active, code, offset, 0);
                done += usize::from(skip == lasting::Skip::Done);
                agrees(Event::PyStart, skip, active, code, offset, 0);
                let skip = check::<{ Event::PyReturn as u8 }>(active, code, offset, 0);
                done += usize::from(skip == lasting::Skip::Done);
                agrees(Event::PyReturn, skip, active, code, offset, 0);
            }
        }
    }
    assert!(done > 0, "the check never skipped");
    // The sites that pack onto remembered ones are remembered neither.
    let c = ObjectRef::from_addr(CODES[0]).unwrap();
    assert!(table.remember(c, 0, Event::Line, 6, 5, || true));
    assert!(table.remember(c, 2, Event::Line, 3, 5, || true));
    let skip = check::<{ Event::Line as u8 }>(1 << 5, CODES[0], 0, 6);
    assert_eq!(skip, lasting::Skip::Done);
    for (offset, lineno) in [(BIG, 5), (2, 3 + BIG)] {
        let skip = check::<{ Event::Line as u8 }>(1 << 5, CODES[0], offset, lineno);
        assert_eq!(skip, lasting::Skip::Scan, "({offset}, {lineno})");
    }
    table.forget_all();
    for &(offset, lineno) in &line_sites() {
        let skip = check::<{ Event::Line as u8 }>(1 << 1, CODES[0], offset, lineno);
        assert_eq!(
            skip,
            lasting::Skip::Fire,
            "after the forget: ({offset}, {lineno})"
        );
    }
    // The other events test the home for 0 after a mismatch of the key.
    for offset in offsets() {
        for skip in [
            check::<{ Event::PyStart as u8 }>(1 << 1, CODES[0], offset, 0),
            check::<{ Event::PyReturn as u8 }>(1 << 1, CODES[1], offset, 0),
        ] {
            assert_eq!(skip, lasting::Skip::Fire, "after the forget: {offset}");
        }
    }
}

#[test]
fn an_inactive_marked_slot_never_skips() {
    let _g = registry_lock();
    sites::table().forget_all();
    let mut state = PyMonitoringState {
        active: 0,
        opaque: lasting::SLOT_MARK,
    };
    // PY_START at offset 0 with no tool bit: a key of 0, which an empty
    // entry holds.
    // SAFETY: a valid state; a NULL code-like is rejected.
    let rc = unsafe { _PyMonitoring_FirePyStartEvent(&mut state, std::ptr::null_mut(), 0) };
    assert_eq!(rc, -1, "a NULL code-like is a ValueError");
    crate::error::clear();
    // SAFETY: as above; the code-like is never dereferenced.
    let rc = unsafe { _PyMonitoring_FirePyStartEvent(&mut state, CODES[0] as *mut PyObject, 0) };
    assert_eq!(rc, 0);
}
