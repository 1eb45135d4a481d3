//! The registry's rules, one test each (the process-wide ones under
//! `test_support::registry_lock`).

use super::*;
use crate::test_support::{registry_lock, Recorder};

/// The idle word names the version exactly while no tool has an event,
/// no option is set and the restart gate is closed (a registry of its
/// own: the process's gate may have been opened by other tests).
#[test]
#[cfg(not(loom))]
fn idle_version_follows_events_options_and_restarts() {
    let _g = registry_lock();
    let r = Registry::new();
    assert_eq!((r.version(), r.idle_version()), (0, 0));
    r.use_tool_id(2, "t").unwrap();
    r.set_events(2, EventSet::LINE.bits()).unwrap();
    assert_eq!(r.idle_version(), NOT_IDLE);
    r.set_events(2, 0).unwrap();
    assert_eq!(r.idle_version(), r.version());
    // A tool set events and was freed: idle again, at a newer version.
    r.set_events(2, EventSet::PY_START.bits()).unwrap();
    let before = r.version();
    r.free_tool_id(2).unwrap();
    assert!(r.version() > before);
    assert_eq!(r.idle_version(), r.version());
    r.restart_events();
    assert_eq!(r.idle_version(), r.version());
    // Any option: not idle (an option may shape a refresh).
    r.set_options(crate::ext::options::ACTIVE_NEEDS_CALLBACK)
        .unwrap();
    assert_eq!(r.idle_version(), NOT_IDLE);
    r.set_options(0).unwrap();
    assert_eq!(r.idle_version(), r.version());
    // A per-tool restart opens the restart gate for good.
    r.use_tool_id(3, "u").unwrap();
    r.restart_tool_events(3).unwrap();
    assert_eq!(r.idle_version(), NOT_IDLE);
    r.free_tool_id(3).unwrap();
    assert_eq!(r.idle_version(), NOT_IDLE);
}

/// Options set while nothing was published (version 0, no tool in use)
/// end the idle state without moving the version; once a tool is in use,
/// a change moves it.
#[test]
#[cfg(not(loom))]
fn options_move_the_version_once_a_tool_is_in_use() {
    use crate::ext::options::{CPYTHON_313_EVENT_IDS, LASTING_DISABLE};
    let _g = registry_lock();
    let r = Registry::new();
    r.set_options(LASTING_DISABLE).unwrap();
    assert_eq!((r.version(), r.idle_version()), (0, NOT_IDLE));
    r.set_options(LASTING_DISABLE | CPYTHON_313_EVENT_IDS)
        .unwrap();
    assert_eq!(r.version(), 0);
    r.use_tool_id(2, "t").unwrap();
    r.set_options(CPYTHON_313_EVENT_IDS).unwrap();
    assert_eq!(r.version(), 1);
    r.set_options(CPYTHON_313_EVENT_IDS).unwrap();
    assert_eq!(r.version(), 1);
}

#[test]
fn tool_ids_are_checked_like_cpython() {
    let _g = registry_lock();
    for bad in [-1, 6, 7, 8, 255, i64::from(i32::MIN)] {
        let e = use_tool_id(bad, "x").unwrap_err();
        assert_eq!(
            e.message(),
            format!("invalid tool {bad} (must be between 0 and 5)")
        );
    }
}

#[test]
fn claim_clear_free_cycle() {
    let _g = registry_lock();
    use_tool_id(3, "prof").unwrap();
    assert_eq!(tool_name(3).unwrap().as_deref(), Some("prof"));
    assert_eq!(
        use_tool_id(3, "again").unwrap_err().message(),
        "tool 3 is already in use"
    );
    set_events(3, EventSet::PY_START.bits()).unwrap();
    let rec = Recorder::new();
    register_callback(3, 0, Some(rec.clone())).unwrap();
    let v = version();
    clear_tool_id(3).unwrap();
    assert!(version() > v, "clear of a tool in use bumps the version");
    assert_eq!(tool_name(3).unwrap().as_deref(), Some("prof"));
    assert_eq!(get_events(3).unwrap(), EventSet::empty());
    assert!(get_callback(3, 0).unwrap().is_none());
    let v = version();
    free_tool_id(3).unwrap();
    assert!(version() > v, "free of a tool in use bumps the version");
    assert_eq!(tool_name(3).unwrap(), None);
    let v = version();
    free_tool_id(3).unwrap();
    clear_tool_id(3).unwrap();
    assert_eq!(version(), v, "a free tool is left alone");
}

#[test]
fn set_events_needs_a_claim_and_bumps_only_on_change() {
    let _g = registry_lock();
    assert_eq!(
        set_events(2, 1).unwrap_err().message(),
        "tool 2 is not in use"
    );
    use_tool_id(2, "t").unwrap();
    let v = version();
    set_events(2, EventSet::LINE.bits()).unwrap();
    assert_eq!(version(), v + 1);
    set_events(2, EventSet::LINE.bits()).unwrap();
    assert_eq!(version(), v + 1, "same mask: no bump");
    assert_eq!(scope_mask(Event::Line), 1 << 2);
    set_events(
        2,
        (EventSet::CALL | EventSet::C_RETURN | EventSet::C_RAISE).bits(),
    )
    .unwrap();
    assert_eq!(get_events(2).unwrap(), EventSet::CALL);
    assert_eq!(scope_mask(Event::CReturn), 1 << 2);
    assert_eq!(scope_mask(Event::CRaise), 1 << 2);
    assert_eq!(scope_mask(Event::Line), 0);
    set_events(2, EventSet::BRANCH.bits()).unwrap();
    assert_eq!(
        get_events(2).unwrap(),
        EventSet::BRANCH_LEFT | EventSet::BRANCH_RIGHT
    );
    assert_eq!(scope_mask(Event::Branch), 1 << 2);
    assert_eq!(
        set_events(2, 1 << 19).unwrap_err().message(),
        "invalid event set 0x80000"
    );
}

/// The packed words hold the byte table after every change, including
/// a free and the reset (both publish).
#[test]
#[cfg(not(loom))]
fn packed_scope_mask_words_follow_the_bytes() {
    let _g = registry_lock();
    let check = || {
        let bytes: Vec<u8> = (0..MASK_WORDS)
            .flat_map(|i| scope_mask_word(i).to_le_bytes())
            .collect();
        for id in 0..=255u8 {
            let want = scope_mask_by_id(id);
            let got = bytes.get(usize::from(id)).copied().unwrap_or(0);
            assert_eq!(got, want, "id {id}");
        }
        assert_eq!(scope_mask_word(MASK_WORDS), 0);
    };
    check();
    for t in 0..6i64 {
        use_tool_id(t, "t").unwrap();
        set_events(t, (0x5a5a5u32 >> t) & (EventSet::all().bits() & !0x30000)).unwrap();
        check();
    }
    set_events(3, EventSet::CALL.bits() | EventSet::BRANCH_RIGHT.bits()).unwrap();
    check();
    assert_ne!(scope_mask(Event::CReturn), 0);
    free_tool_id(1).unwrap();
    check();
    reset_for_tests();
    check();
}

#[test]
fn registering_does_not_bump_the_version() {
    let _g = registry_lock();
    use_tool_id(1, "cov").unwrap();
    let v = version();
    let rec = Recorder::new();
    assert!(register_callback(1, 5, Some(rec.clone()))
        .unwrap()
        .is_none());
    assert_eq!(version(), v);
    let got = get_callback(1, 5).unwrap().unwrap();
    assert!(Arc::ptr_eq(&got, &(rec.clone() as Arc<dyn Handler>)));
    let prev = register_callback(1, 5, None).unwrap().unwrap();
    assert!(Arc::ptr_eq(&prev, &(rec as Arc<dyn Handler>)));
    assert_eq!(
        register_callback(1, 19, None).unwrap_err().message(),
        "invalid event 19"
    );
    assert_eq!(
        register_callback(4, 0, None).unwrap_err().message(),
        "tool 4 is not in use"
    );
}

#[test]
fn branch_registers_both_directions() {
    let _g = registry_lock();
    use_tool_id(0, "dbg").unwrap();
    let rec = Recorder::new();
    register_callback(0, Event::Branch as i64, Some(rec)).unwrap();
    assert!(get_callback(0, Event::BranchLeft as i64).unwrap().is_some());
    assert!(get_callback(0, Event::BranchRight as i64)
        .unwrap()
        .is_some());
    assert!(get_callback(0, Event::Branch as i64).unwrap().is_some());
    register_callback(0, Event::Branch as i64, None).unwrap();
    assert!(get_callback(0, Event::BranchLeft as i64).unwrap().is_none());
    assert!(get_callback(0, Event::BranchRight as i64)
        .unwrap()
        .is_none());
}

#[test]
fn restart_bumps() {
    let _g = registry_lock();
    let v = version();
    restart_events();
    assert_eq!(version(), v + 1);
}
