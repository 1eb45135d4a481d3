//! Errors and the thread's error indicator (the library's `PyErr`).
//!
//! Each thread has one indicator. It is empty, holds a library error (a kind
//! and a message), or holds a host exception object set by the host. Exception
//! events take whatever it holds and put it back when every callback succeeded.
//! With a host installed (`crate::host`) the indicator is the host's: these
//! functions read and write it through the host.
//!
//! `RAISED` counts the threads whose indicator holds a host exception, so
//! that taking one with none pending anywhere needs no thread-local (`docs/CONCURRENCY.md`, "The raised-exception count").

pub(crate) use crate::failure::RAISED;
pub use crate::failure::{Error, ErrorKind, ErrorSet, Pending, HOST_EXCEPTION_MESSAGE};
use crate::object::ObjectRef;
use crate::thread;

/// Set the indicator to `err` (replacing what it held). With a host
/// (`crate::host`), the host raises it as its own exception.
pub fn set(err: Error) {
    restore(Some(Pending::Error(err)));
}

/// Set the indicator to a host exception; `None` clears it.
pub fn set_raised(exc: Option<ObjectRef>) {
    restore(exc.map(Pending::Host));
}

/// Put `pending` back as the indicator's content (`None` clears it).
pub fn restore(pending: Option<Pending>) {
    thread::with(|t| match t.host() {
        None => {
            t.set_pending(pending);
            t.count_raised();
        }
        Some(host) => match pending {
            None => host.restore_exception(None),
            Some(Pending::Host(obj)) => host.restore_exception(Some(obj)),
            Some(Pending::Error(e)) => host.raise(&e),
        },
    })
}

/// Take what the indicator holds, leaving it empty.
pub fn take() -> Option<Pending> {
    thread::with(|t| match t.host() {
        None => {
            let pending = t.take_pending();
            t.count_raised();
            pending
        }
        Some(host) => host.take_exception().map(Pending::Host),
    })
}

/// Take the host exception object; a library error is left in place and
/// `None` is returned.
pub fn take_raised() -> Option<ObjectRef> {
    thread::with(|t| match t.host() {
        None => {
            let obj = t.take_raised();
            t.count_raised();
            obj
        }
        Some(host) => host.take_exception(),
    })
}

/// Clear the indicator.
pub fn clear() {
    restore(None);
}

/// Whether the indicator holds anything.
pub fn occurred() -> bool {
    thread::with(|t| match t.host() {
        None => t.has_pending(),
        Some(host) => crate::host::occurred(host),
    })
}

/// The kind of what is pending.
pub fn kind() -> Option<ErrorKind> {
    thread::with(|t| match t.host() {
        None => t.inspect_pending(|p| p.map(Pending::kind)),
        Some(host) => crate::host::occurred(host).then_some(ErrorKind::Host),
    })
}

/// Run `f` on what is pending (for reading its message without a copy).
/// With a host, what is pending is always a host exception.
pub fn inspect<R>(f: impl FnOnce(Option<&Pending>) -> R) -> R {
    thread::with(|t| match t.host() {
        None => t.inspect_pending(f),
        Some(host) => {
            let exc = host.take_exception();
            let result = f(exc.map(Pending::Host).as_ref());
            if exc.is_some() {
                host.restore_exception(exc);
            }
            result
        }
    })
}

/// Set `err` on the indicator and return `Err(ErrorSet)`.
pub fn fail<T>(err: Error) -> Result<T, ErrorSet> {
    set(err);
    Err(ErrorSet)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indicator_holds_one_thing_per_thread() {
        clear();
        assert!(!occurred());
        set(Error::value("bad"));
        assert_eq!(kind(), Some(ErrorKind::Value));
        inspect(|p| match p {
            Some(Pending::Error(e)) => assert_eq!(e.message_with_nul(), b"bad\0"),
            other => panic!("unexpected {other:?}"),
        });
        std::thread::spawn(|| assert!(!occurred())).join().unwrap();
        let obj = ObjectRef::from_addr(0x40);
        set_raised(obj);
        assert_eq!(kind(), Some(ErrorKind::Host));
        assert_eq!(take_raised(), obj);
        assert!(!occurred());
    }

    #[test]
    fn take_raised_leaves_library_errors() {
        set(Error::runtime("x"));
        assert_eq!(take_raised(), None);
        assert_eq!(kind(), Some(ErrorKind::Runtime));
        clear();
    }

    /// Whether the calling thread adds 1 to [`RAISED`].
    fn counted() -> bool {
        thread::with(|t| t.raised_counted())
    }

    /// Each change through this module leaves the thread counted exactly
    /// while it holds a host exception, and the count at least that.
    /// On a new thread, so the thread's state starts empty.
    #[test]
    fn a_thread_is_counted_while_it_holds_a_host_exception() {
        std::thread::spawn(|| {
            let (a, b) = (ObjectRef::from_addr(0x40), ObjectRef::from_addr(0x80));
            assert!(!counted());
            set_raised(a);
            assert!(counted());
            assert!(RAISED.load(std::sync::atomic::Ordering::Relaxed) >= 1);
            assert_ne!(RAISED.load(std::sync::atomic::Ordering::Relaxed), 0);
            set_raised(b); // replaced: still one
            assert!(counted());
            assert_eq!(take_raised(), b);
            assert!(!counted());
            assert_eq!(take_raised(), None);
            assert!(!counted());
            set_raised(a);
            clear();
            assert!(!counted());
            set_raised(a);
            set(Error::value("x")); // a library error replaces it
            assert!(!counted());
            assert_eq!(take_raised(), None);
            assert_eq!(kind(), Some(ErrorKind::Value));
            restore(a.map(Pending::Host));
            assert!(counted());
            let taken = take();
            assert!(!counted());
            restore(taken);
            assert!(counted());
            set_raised(None);
            assert!(!counted());
        })
        .join()
        .unwrap();
    }

    /// The thread's exit gives back its share (and the exception, which
    /// goes with the thread).
    #[test]
    fn a_thread_exit_uncounts_it() {
        std::thread::spawn(|| {
            set_raised(ObjectRef::from_addr(0x40));
            assert!(counted());
            thread::thread_exit();
            assert!(!counted());
            assert!(!occurred());
            // A later call starts afresh and is counted again.
            set_raised(ObjectRef::from_addr(0x80));
            assert!(counted());
            assert_eq!(take_raised(), ObjectRef::from_addr(0x80));
            assert!(!counted());
        })
        .join()
        .unwrap();
    }

    /// Takes the indicator from inside a RAISE callback: the walk holds the
    /// exception, so the thread stays counted.
    struct TakesInside {
        seen: std::sync::Mutex<Vec<(Option<ObjectRef>, bool)>>,
    }

    impl crate::registry::Handler for TakesInside {
        fn call(&self, _: &crate::dispatch::EventRecord) -> crate::registry::Outcome {
            let got = take_raised();
            clear();
            self.seen.lock().unwrap().push((got, counted()));
            crate::registry::Outcome::Continue
        }

        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
    }

    /// An exception event takes the exception for its walk and puts it
    /// back without changing the count, even when a callback takes or
    /// clears the (then empty) indicator.
    #[test]
    fn an_exception_event_keeps_the_exception_counted() {
        use crate::dispatch::{fire, Firing};
        use crate::event::{Event, EventSet};
        use crate::registry;
        let _g = crate::test_support::registry_lock();
        let handler = std::sync::Arc::new(TakesInside {
            seen: std::sync::Mutex::new(Vec::new()),
        });
        registry::use_tool_id(1, "t").unwrap();
        registry::set_events(1, EventSet::RAISE.bits()).unwrap();
        registry::register_callback(1, Event::Raise as i64, Some(handler.clone())).unwrap();
        let handler2 = handler.clone();
        std::thread::spawn(move || {
            let exc = ObjectRef::from_addr(0x40);
            let code = ObjectRef::from_addr(0x100).unwrap();
            set_raised(exc);
            let active = std::cell::Cell::new(1 << 1);
            // Twice: the first fire sets the thread up (the slow path), the
            // second takes the fast one.
            for _ in 0..2 {
                fire(&active, Firing::new(Event::Raise, code, 3)).unwrap();
                assert!(counted());
                assert_eq!(kind(), Some(ErrorKind::Host));
            }
            assert_eq!(take_raised(), exc);
            assert!(!counted());
            drop(handler2);
        })
        .join()
        .unwrap();
        assert_eq!(
            *handler.seen.lock().unwrap(),
            vec![(None, true), (None, true)]
        );
        registry::free_tool_id(1).unwrap();
    }

    #[test]
    fn messages_stay_one_c_string() {
        let e = Error::value("a\0b");
        assert_eq!(e.message(), "a\u{fffd}b");
        assert_eq!(e.message_with_nul().iter().filter(|b| **b == 0).count(), 1);
    }
}
