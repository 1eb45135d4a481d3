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
fn an_ended_thread_holds_no_table_and_gives_back_the_error() {
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
    // No thread holds the table: once replaced, it is dropped by a
    // publication (at once, or a later one when another test's dispatch on
    // another thread was announced at that moment), leaving the test's
    // reference only.
    registry::register_callback(2, Event::PyStart as i64, None).unwrap();
    for _ in 0..1000 {
        if std::sync::Arc::strong_count(&rec) == before - 1 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
        registry::register_callback(2, Event::PyResume as i64, None).unwrap();
    }
    assert_eq!(std::sync::Arc::strong_count(&rec), before - 1);
    assert_eq!(rec.count(), 1);
}

/// A Rust handler that unwinds through the walk.
struct Unwinds;

impl crate::registry::Handler for Unwinds {
    fn call(&self, _ev: &crate::dispatch::EventRecord) -> crate::registry::Outcome {
        panic!("unwinds through the walk")
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

#[test]
fn a_walk_that_unwinds_leaves_the_thread_firing_to_the_current_table() {
    let _g = registry_lock();
    let rec = Recorder::new();
    registry::use_tool_id(0, "counts").unwrap();
    registry::use_tool_id(1, "unwinds").unwrap();
    registry::register_callback(0, Event::PyStart.id().into(), Some(rec.clone())).unwrap();
    registry::register_callback(
        1,
        Event::PyStart.id().into(),
        Some(std::sync::Arc::new(Unwinds)),
    )
    .unwrap();
    let active = Cell::new(0b11);
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        fire(&active, Firing::new(Event::PyStart, code(), 0))
    }));
    assert!(unwound.is_err(), "tool 1 runs first and unwinds");
    assert_eq!(rec.count(), 0);
    // No registry change since: the thread's copy of the table was lost
    // with the unwinding, and the next walk must fetch it again.
    active.set(0b01);
    assert!(fire(&active, Firing::new(Event::PyStart, code(), 0)).is_ok());
    assert_eq!(rec.count(), 1, "tool 0's callback is called");
    assert!(with(|t| t.seat.flags() & IN_CALLBACK == 0));
    assert!(with(|t| !t.reader().unwrap().in_dispatch()));
}
