//! Errors and the thread's error indicator (the library's `PyErr`).
//!
//! Each thread has one indicator. It is empty, holds a library error (a kind
//! and a message), or holds a host exception object set by the host. Exception
//! events take whatever it holds and put it back when every callback succeeded.
//! With a host installed (`crate::host`) the indicator is the host's: these
//! functions read and write it through the host.

use crate::object::ObjectRef;
use crate::thread;

/// What kind of error the indicator holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum ErrorKind {
    /// A bad argument value (CPython's `ValueError`).
    Value = 1,
    /// A failure that is not the caller's argument (CPython's `RuntimeError`).
    Runtime = 2,
    /// An exception object of the host, set with `SetRaisedException`.
    Host = 3,
}

/// A library error: a kind and a message.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    /// The message followed by one NUL, so C can borrow it without a copy.
    text: String,
}

impl Error {
    /// An error of `kind` with `message`. Interior NULs are replaced so the
    /// message stays one C string.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        let mut text = message.into().replace('\0', "\u{fffd}");
        text.push('\0');
        Error { kind, text }
    }

    /// A `ValueError`.
    pub fn value(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Value, message)
    }

    /// A `RuntimeError`.
    pub fn runtime(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Runtime, message)
    }

    /// The kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.text[..self.text.len() - 1]
    }

    /// The message's bytes including the terminating NUL.
    pub fn message_with_nul(&self) -> &[u8] {
        self.text.as_bytes()
    }

    /// The same error with `context: ` in front of its message.
    pub(crate) fn with_context(&self, context: &str) -> Error {
        Error::new(self.kind, format!("{context}: {}", self.message()))
    }

    /// The same error with `suffix` after its message.
    pub(crate) fn with_suffix(&self, suffix: &str) -> Error {
        Error::new(self.kind, format!("{}{suffix}", self.message()))
    }
}

/// Shows the kind and the message, without the C terminator.
///
/// ```
/// let e = pymonitoring::api::Error::value("tool 2 is already in use");
/// assert_eq!(
///     format!("{e:?}"),
///     r#"Error { kind: Value, message: "tool 2 is already in use" }"#
/// );
/// ```
impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &self.message())
            .finish()
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Error {}

/// What a thread's indicator can hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pending {
    /// A library error.
    Error(Error),
    /// A host exception object.
    Host(ObjectRef),
}

impl Pending {
    /// The kind of what is pending.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Pending::Error(e) => e.kind(),
            Pending::Host(_) => ErrorKind::Host,
        }
    }

    /// The object callbacks receive for this exception: the host object, or
    /// `None` (delivered as MISSING) for a library error.
    pub fn object(&self) -> Option<ObjectRef> {
        match self {
            Pending::Error(_) => None,
            Pending::Host(obj) => Some(*obj),
        }
    }
}

impl std::fmt::Display for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pending::Error(e) => e.fmt(f),
            Pending::Host(obj) => write!(f, "{HOST_EXCEPTION_MESSAGE} ({:#x})", obj.addr()),
        }
    }
}

impl std::error::Error for Pending {}

/// Message of a host exception, which has no text of its own.
pub const HOST_EXCEPTION_MESSAGE: &str = "exception object set by the host";

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

/// A failure whose error is on the thread's indicator (as CPython's -1 with
/// an exception set).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorSet;

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
