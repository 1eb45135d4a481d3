//! The library's error values: what the thread's error indicator
//! (`crate::error`) holds and what fallible calls return, and the count of
//! threads whose indicator holds a host exception ([`RAISED`]). A leaf: the
//! per-thread state stores these without importing the indicator.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::object::ObjectRef;

/// The threads whose indicator holds a host exception (each counts once,
/// from the change through `crate::error` that set one to the one that
/// left none, or the thread's exit: `ThreadState::count_raised`), plus
/// [`HOST_INSTALLED`] for good once a host is installed (its indicator is
/// not the library's). Exception
/// events take the exception for their walk and put it back without
/// touching it. Too high only costs speed; it is never too low for the
/// calling thread: its own changes are visible to itself, so 0 means it
/// holds none. `Relaxed` throughout. Exported read-only to the header as
/// `_PyMonitoring_RaisedExceptions`.
pub static RAISED: AtomicU64 = AtomicU64::new(0);

/// The bit of [`RAISED`] set when a host is installed.
pub const HOST_INSTALLED: u64 = 1 << 63;

/// A host is installed: [`RAISED`] is not 0 from now on.
pub(crate) fn host_installed() {
    RAISED.fetch_or(HOST_INSTALLED, Ordering::Relaxed);
}

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
    #[inline]
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message.
    #[inline]
    pub fn message(&self) -> &str {
        &self.text[..self.text.len() - 1]
    }

    /// The message's bytes including the terminating NUL.
    #[inline]
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
    #[inline]
    pub fn kind(&self) -> ErrorKind {
        match self {
            Pending::Error(e) => e.kind(),
            Pending::Host(_) => ErrorKind::Host,
        }
    }

    /// The object callbacks receive for this exception: the host object, or
    /// `None` (delivered as MISSING) for a library error.
    #[inline]
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

/// A failure whose error is on the thread's indicator (as CPython's -1 with
/// an exception set).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorSet;
