//! The per-thread state: the indicator, the reader record, the janitor.

use std::cell::Cell;
use std::sync::Mutex;

use super::*;
use crate::dispatch::{fire, Firing};
use crate::error::{self, ErrorKind};
use crate::event::Event;
use crate::registry;
use crate::test_support::{registry_lock, Recorder};

fn code() -> ObjectRef {
    ObjectRef::from_addr(0x100).unwrap()
}

/// What a fire from a thread-local destructor saw.
#[derive(Debug, PartialEq)]
struct Late {
    fire_ok: bool,
    error: Option<ErrorKind>,
}

static LATE_SEEN: Mutex<Option<Late>> = Mutex::new(None);

/// Fires from its destructor.
struct FiresOnDrop;

impl Drop for FiresOnDrop {
    fn drop(&mut self) {
        let fire_ok = fire(&Cell::new(1 << 3), Firing::new(Event::PyStart, code(), 0)).is_ok();
        *LATE_SEEN.lock().unwrap() = Some(Late {
            fire_ok,
            error: error::kind(),
        });
    }
}

thread_local! {
    static LATE: FiresOnDrop = const { FiresOnDrop };
}

#[test]
fn the_exit_hook_is_installed_at_load() {
    assert!(EXIT_HOOK.get().is_some());
}

#[test]
fn a_fire_from_a_thread_local_destructor_works_and_its_record_is_given_back() {
    let _g = registry_lock();
    registry::use_tool_id(3, "t").unwrap();
    let rec = Recorder::new();
    registry::register_callback(3, Event::PyStart as i64, Some(rec.clone())).unwrap();
    let reader = std::thread::spawn(|| {
        LATE.with(|_| ());
        fire(&Cell::new(1 << 3), Firing::new(Event::PyStart, code(), 0)).unwrap();
        let reader = THREAD.with(|t| t.reader()).unwrap();
        assert!(readers::is_owned(reader));
        reader
    })
    .join()
    .unwrap();
    assert_eq!(rec.count(), 2, "the late fire calls the callback");
    assert_eq!(
        LATE_SEEN.lock().unwrap().take(),
        Some(Late {
            fire_ok: true,
            error: None,
        })
    );
    assert!(!readers::is_owned(reader), "the record was given back");
    registry::free_tool_id(3).unwrap();
}

/// Fires (the thread's first call) from its destructor and reports the
/// record it used.
struct FirstCallOnDrop;

static FIRST_SEEN: Mutex<Option<&'static ReaderRecord>> = Mutex::new(None);

impl Drop for FirstCallOnDrop {
    fn drop(&mut self) {
        fire(&Cell::new(1 << 3), Firing::new(Event::PyStart, code(), 0)).unwrap();
        *FIRST_SEEN.lock().unwrap() = THREAD.with(|t| t.reader());
    }
}

thread_local! {
    static FIRST: FirstCallOnDrop = const { FirstCallOnDrop };
}

#[test]
fn a_first_call_from_a_thread_local_destructor_leaves_nothing_behind() {
    let _g = registry_lock();
    registry::use_tool_id(3, "t").unwrap();
    let rec = Recorder::new();
    registry::register_callback(3, Event::PyStart as i64, Some(rec.clone())).unwrap();
    std::thread::spawn(|| FIRST.with(|_| ())).join().unwrap();
    let reader = FIRST_SEEN
        .lock()
        .unwrap()
        .take()
        .expect("a record was used");
    assert!(!readers::is_owned(reader), "the record was given back");
    assert_eq!(rec.count(), 1);
    registry::free_tool_id(3).unwrap();
}

#[test]
fn the_janitor_gives_back_the_table_and_the_error() {
    let _g = registry_lock();
    registry::use_tool_id(2, "t").unwrap();
    let rec = Recorder::new();
    registry::register_callback(2, Event::PyStart as i64, Some(rec.clone())).unwrap();
    let before = std::sync::Arc::strong_count(&rec);
    std::thread::spawn(|| {
        fire(&Cell::new(1 << 2), Firing::new(Event::PyStart, code(), 0)).unwrap();
        error::set(Error::value("left behind"));
    })
    .join()
    .unwrap();
    // The thread's table was dropped: replacing the callback leaves the
    // test's reference only.
    registry::register_callback(2, Event::PyStart as i64, None).unwrap();
    assert_eq!(std::sync::Arc::strong_count(&rec), before - 1);
    assert_eq!(rec.count(), 1);
}
