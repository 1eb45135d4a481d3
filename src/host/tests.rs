//! The host's exception state, on threads of their own: a test host is
//! used by one spawned thread only (`ThreadState::use_host`), so the
//! process's host slot stays untouched for every other test.

use std::cell::Cell;
use std::sync::{Arc, Mutex};

use super::*;
use crate::dispatch::{fire, Firing};
use crate::error::{self, ErrorKind, Pending};
use crate::event::Event;
use crate::registry::{self, Outcome};
use crate::test_support::{registry_lock, Recorder};

/// A host that keeps a current exception and logs every call.
#[derive(Default)]
pub(crate) struct TestHost {
    pub current: Mutex<Option<ObjectRef>>,
    pub log: Mutex<Vec<String>>,
    pub missing: Option<ObjectRef>,
}

pub(crate) const VALUE_ERROR: usize = 0xE1;
pub(crate) const RUNTIME_ERROR: usize = 0xE2;

impl TestHost {
    fn current(&self) -> Option<ObjectRef> {
        *self.current.lock().unwrap()
    }

    fn log(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

impl Host for TestHost {
    fn take_exception(&self) -> Option<ObjectRef> {
        let exc = self.current.lock().unwrap().take();
        self.log
            .lock()
            .unwrap()
            .push(format!("take {:x?}", exc.map(ObjectRef::addr)));
        exc
    }

    fn restore_exception(&self, exc: Option<ObjectRef>) {
        let old = std::mem::replace(&mut *self.current.lock().unwrap(), exc);
        self.log.lock().unwrap().push(format!(
            "restore {:x?} (releases {:x?})",
            exc.map(ObjectRef::addr),
            old.map(ObjectRef::addr)
        ));
    }

    fn raise(&self, error: &Error) {
        let class = match error.kind() {
            ErrorKind::Value => VALUE_ERROR,
            _ => RUNTIME_ERROR,
        };
        let old = std::mem::replace(
            &mut *self.current.lock().unwrap(),
            ObjectRef::from_addr(class),
        );
        self.log.lock().unwrap().push(format!(
            "raise {:?} {} (releases {:x?})",
            error.kind(),
            error.message(),
            old.map(ObjectRef::addr)
        ));
    }

    fn missing(&self) -> Option<ObjectRef> {
        self.missing
    }
}

fn obj(addr: usize) -> ObjectRef {
    ObjectRef::from_addr(addr).unwrap()
}

/// This thread uses `host` (as if installed before its first fire).
fn use_on_this_thread(host: &'static dyn Host) {
    // As installing does: the count forced non-zero for good.
    crate::failure::host_installed();
    super::TEST_HOST.with(|c| c.set(Some(host)));
    crate::thread::with(|t| t.use_host());
}

/// Run `f` on a new thread that uses `host`.
fn on_host_thread<R: Send + 'static>(
    host: &'static TestHost,
    f: impl FnOnce() -> R + Send + 'static,
) -> R {
    std::thread::spawn(move || {
        use_on_this_thread(host);
        f()
    })
    .join()
    .unwrap()
}

fn leak(host: TestHost) -> &'static TestHost {
    Box::leak(Box::new(host))
}

#[test]
fn install_once_and_only_before_the_first_fire() {
    let slot = HostSlot::new();
    assert!(slot.get().is_none());
    slot.install(Box::new(TestHost::default())).unwrap();
    assert!(slot.get().is_some());
    assert!(slot.first_fire().is_some());
    let err = slot.install(Box::new(TestHost::default())).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Runtime);
    assert_eq!(
        err.message(),
        "a host is already installed (PyMonitoring_SetHost may be called once)"
    );

    let late = HostSlot::new();
    assert!(late.first_fire().is_none());
    let err = late.install(Box::new(TestHost::default())).unwrap_err();
    assert_eq!(
        err.message(),
        "PyMonitoring_SetHost must be called before the first event is fired"
    );
    assert!(late.get().is_none());
}

#[test]
fn exception_events_take_and_give_back_the_hosts_exception() {
    let _g = registry_lock();
    registry::use_tool_id(3, "t").unwrap();
    let rec = Recorder::new();
    let events = [
        Event::Raise,
        Event::Reraise,
        Event::ExceptionHandled,
        Event::PyUnwind,
        Event::PyThrow,
        Event::CRaise,
    ];
    for e in events {
        registry::register_callback(3, e as i64, Some(rec.clone())).unwrap();
    }
    let host = leak(TestHost::default());
    on_host_thread(host, move || {
        for (i, e) in events.into_iter().enumerate() {
            let exc = obj(0x1000 + i);
            *host.current.lock().unwrap() = Some(exc);
            fire(&Cell::new(1 << 3), Firing::new(e, obj(0x10), 7)).unwrap();
            assert_eq!(host.current(), Some(exc), "{e}: given back");
            assert_eq!(
                host.log(),
                [
                    format!("take Some({:x})", exc.addr()),
                    // After the callback: did it leave an error?
                    "take None".to_string(),
                    format!("restore Some({:x}) (releases None)", exc.addr()),
                ],
                "{e}"
            );
        }
    });
    let seen = rec.events();
    assert_eq!(seen.len(), 6);
    for (i, (ev, e)) in seen.iter().zip(events).enumerate() {
        assert_eq!(ev.event, e);
        assert_eq!(ev.arg0, Some(obj(0x1000 + i)));
        assert_eq!(ev.offset, 7);
    }
}

#[test]
fn errors_become_host_exceptions() {
    let _g = registry_lock();
    registry::use_tool_id(2, "t").unwrap();
    let host = leak(TestHost::default());
    on_host_thread(host, move || {
        // No exception pending: ValueError, no callback.
        assert!(fire(&Cell::new(1 << 2), Firing::new(Event::Raise, obj(0x10), 0)).is_err());
        assert_eq!(host.current(), Some(obj(VALUE_ERROR)));
        assert_eq!(
            host.log(),
            [
                "take None",
                "raise Value Firing event 11 with no exception set (releases None)"
            ]
        );
        // A negative offset: the taken exception is released.
        *host.current.lock().unwrap() = Some(obj(0x77));
        assert!(fire(&Cell::new(1 << 2), Firing::new(Event::Raise, obj(0x10), -1)).is_err());
        assert_eq!(host.current(), Some(obj(VALUE_ERROR)));
        assert_eq!(
            host.log(),
            [
                "take Some(77)",
                "raise Value offset must be non-negative (releases None)",
                format!("take Some({VALUE_ERROR:x})").as_str(),
                "restore Some(77) (releases None)",
                format!("restore Some({VALUE_ERROR:x}) (releases Some(77))").as_str(),
            ]
        );
        // Any error the library sets.
        *host.current.lock().unwrap() = None;
        crate::error::set(Error::runtime("boom"));
        assert_eq!(host.current(), Some(obj(RUNTIME_ERROR)));
        // The error functions read through, and the raised-exception count
        // never answers for the host's indicator.
        assert_ne!(error::RAISED.load(std::sync::atomic::Ordering::Relaxed), 0);
        assert!(error::occurred());
        assert_eq!(error::kind(), Some(ErrorKind::Host));
        error::inspect(|p| assert_eq!(p, Some(&Pending::Host(obj(RUNTIME_ERROR)))));
        assert_eq!(error::take_raised(), Some(obj(RUNTIME_ERROR)));
        assert!(!error::occurred());
        error::set_raised(Some(obj(0x55)));
        assert_eq!(host.current(), Some(obj(0x55)));
        error::clear();
        assert_eq!(host.current(), None);
    });
}

/// A callback that raises a host exception and answers with `outcome`.
struct Raising {
    host: &'static TestHost,
    exc: Option<ObjectRef>,
    outcome: Outcome,
    calls: Mutex<u32>,
}

impl registry::Handler for Raising {
    fn call(&self, _event: &crate::dispatch::EventRecord) -> Outcome {
        *self.calls.lock().unwrap() += 1;
        assert_eq!(
            *self.host.current.lock().unwrap(),
            None,
            "callbacks start clear"
        );
        if let Some(exc) = self.exc {
            *self.host.current.lock().unwrap() = Some(exc);
        }
        self.outcome
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

#[test]
fn failing_callbacks_leave_their_host_exception_and_release_the_original() {
    let _g = registry_lock();
    registry::use_tool_id(4, "high").unwrap();
    registry::use_tool_id(1, "low").unwrap();
    let host = leak(TestHost::default());
    let low = Recorder::new();
    registry::register_callback(1, Event::Raise as i64, Some(low.clone())).unwrap();
    for (outcome, exc, expect) in [
        (Outcome::Error, Some(obj(0xC0)), obj(0xC0)),
        (Outcome::Continue, Some(obj(0xC1)), obj(0xC1)),
        (Outcome::Error, None, obj(RUNTIME_ERROR)),
        (Outcome::Disable, None, obj(VALUE_ERROR)),
    ] {
        let failing = Arc::new(Raising {
            host,
            exc,
            outcome,
            calls: Mutex::new(0),
        });
        registry::register_callback(4, Event::Raise as i64, Some(failing.clone())).unwrap();
        on_host_thread(host, move || {
            *host.current.lock().unwrap() = Some(obj(0x99));
            let active = Cell::new(1 << 4 | 1 << 1);
            assert!(fire(&active, Firing::new(Event::Raise, obj(0x10), 0)).is_err());
            assert_eq!(host.current(), Some(expect), "{outcome:?}");
            let log = host.log();
            assert_eq!(
                log.last().unwrap(),
                &format!("restore Some({:x}) (releases Some(99))", expect.addr()),
                "{outcome:?}: the original is released: {log:?}"
            );
            if outcome == Outcome::Disable {
                assert!(log
                    .iter()
                    .any(|l| l.contains("Cannot disable RAISE events. Callback removed.")));
            }
        });
        assert_eq!(*failing.calls.lock().unwrap(), 1);
    }
    assert_eq!(low.count(), 0, "the walk stops at the failing tool");
}

#[test]
fn nested_fires_and_non_exception_events_with_a_host() {
    let _g = registry_lock();
    registry::use_tool_id(2, "t").unwrap();
    let host = leak(TestHost {
        missing: Some(obj(0x3333)),
        ..TestHost::default()
    });
    let seen = Arc::new(Mutex::new(Vec::new()));
    struct Nesting(Arc<Mutex<Vec<Option<ObjectRef>>>>, &'static TestHost);
    impl registry::Handler for Nesting {
        fn call(&self, ev: &crate::dispatch::EventRecord) -> Outcome {
            self.0.lock().unwrap().push(ev.arg0);
            // Nested: not delivered, the host is not asked.
            let before = self.1.log.lock().unwrap().len();
            *self.1.current.lock().unwrap() = None;
            assert!(fire(&Cell::new(1 << 2), Firing::new(Event::Raise, obj(0x10), 0)).is_ok());
            assert_eq!(self.1.log.lock().unwrap().len(), before);
            Outcome::Continue
        }
        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
    }
    registry::register_callback(
        2,
        Event::PyReturn as i64,
        Some(Arc::new(Nesting(seen.clone(), host))),
    )
    .unwrap();
    registry::register_callback(2, Event::Raise as i64, Some(Recorder::new())).unwrap();
    on_host_thread(host, move || {
        // Something pending (Cython's PY_RESUME after a throw): taken around
        // the callbacks and given back.
        *host.current.lock().unwrap() = Some(obj(0x88));
        let active = Cell::new(1 << 2);
        fire(&active, Firing::new(Event::PyReturn, obj(0x10), 3)).unwrap();
        assert_eq!(host.current(), Some(obj(0x88)));
        // An absent argument is the host's MISSING for C callbacks (the
        // record's address); Rust callbacks see `None` as always.
        *host.current.lock().unwrap() = None;
        fire(&active, Firing::new(Event::PyReturn, obj(0x10), 3)).unwrap();
        fire(
            &active,
            Firing::new(Event::PyReturn, obj(0x10), 3).with_arg(Some(obj(0x42))),
        )
        .unwrap();
        assert_eq!(host.current(), None);
    });
    assert_eq!(*seen.lock().unwrap(), [None, None, Some(obj(0x42))]);
}
