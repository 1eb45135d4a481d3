//! Errors and the thread's error indicator (the library's `PyErr`).
//!
//! Each thread has one indicator. It is empty, holds a library error (a kind
//! and a message), or holds a host exception object set by the host. Exception
//! events take whatever it holds and put it back when every callback succeeded.
//! With a host installed (`crate::host`) the indicator is the host's: these
//! functions read and write it through the host.

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
        None => t.set_pending(pending),
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
        None => t.take_pending(),
        Some(host) => host.take_exception().map(Pending::Host),
    })
}

/// Take the host exception object; a library error is left in place and
/// `None` is returned.
pub fn take_raised() -> Option<ObjectRef> {
    thread::with(|t| match t.host() {
        None => t.take_raised(),
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

    #[test]
    fn messages_stay_one_c_string() {
        let e = Error::value("a\0b");
        assert_eq!(e.message(), "a\u{fffd}b");
        assert_eq!(e.message_with_nul().iter().filter(|b| **b == 0).count(), 1);
    }
}
