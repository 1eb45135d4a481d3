//! The host runtime's exception state (`docs/HOSTS.md`).
//!
//! A Python runtime that provides CPython's C API to extensions keeps the
//! current exception itself; code compiled against CPython's header sets it
//! with the host's `PyErr_*` and then fires exception events. A [`Host`],
//! installed once before anything fires, makes the library use the host's
//! indicator instead of its own thread-local one: exception events take the
//! host's exception and put it back, and every error the library raises
//! becomes a host exception. Without a host nothing changes.
//!
//! The host is process-wide and cannot be replaced: threads that already
//! fired keep the indicator they started with, so installing after the first
//! fire (or twice) is an error ([`HostSlot::install`]).

use std::sync::{Mutex, OnceLock};

use crate::failure::Error;
use crate::object::ObjectRef;

/// What a host runtime provides. Every method is called on the thread that
/// fires or fails, with the host's own locking (CPython's GIL) held by the
/// caller; none may call back into the library.
pub trait Host: Send + Sync {
    /// Take the thread's current exception and clear the indicator
    /// (CPython's `PyErr_GetRaisedException`); `None` when none is set.
    fn take_exception(&self) -> Option<ObjectRef>;
    /// Make `exc` the thread's current exception, releasing the one it
    /// replaces (CPython's `PyErr_SetRaisedException`); `None` clears the
    /// indicator.
    fn restore_exception(&self, exc: Option<ObjectRef>);
    /// Raise `error` as the host exception of its kind (ValueError,
    /// RuntimeError), replacing the current one.
    fn raise(&self, error: &Error);
    /// The object delivered for absent object arguments (the host's
    /// `sys.monitoring.MISSING`); `None` keeps the library's sentinel.
    fn missing(&self) -> Option<ObjectRef>;
}

/// Whether the host's indicator holds an exception (take it and put it
/// back).
pub fn occurred(host: &dyn Host) -> bool {
    match host.take_exception() {
        Some(exc) => {
            host.restore_exception(Some(exc));
            true
        }
        None => false,
    }
}

/// Let go of `exc`, an exception taken from the host, while the host's
/// indicator holds a newer error: `exc` is put back and at once replaced by
/// that error, so the host releases it. With nothing newer pending, `exc`
/// stays pending (a failure is never reported with nothing set).
pub fn release(host: &dyn Host, exc: Option<ObjectRef>) {
    let Some(exc) = exc else { return };
    let newer = host.take_exception();
    host.restore_exception(Some(exc));
    if newer.is_some() {
        host.restore_exception(newer);
    }
}

/// Where installing stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Nothing fired yet, no host: a host may be installed.
    Open,
    /// An event was fired without a host: too late to install one.
    FiredWithout,
    /// A host is installed.
    Installed,
}

/// The process's host and the state of installing it.
pub struct HostSlot {
    phase: Mutex<Phase>,
    host: OnceLock<Box<dyn Host>>,
}

impl Default for HostSlot {
    fn default() -> Self {
        HostSlot::new()
    }
}

impl HostSlot {
    /// No host, nothing fired.
    pub const fn new() -> HostSlot {
        HostSlot {
            phase: Mutex::new(Phase::Open),
            host: OnceLock::new(),
        }
    }

    /// Install `host`. A RuntimeError when a host is already installed or
    /// an event was already fired (a thread that fired keeps using the
    /// library's own indicator); nothing changes then.
    pub fn install(&self, host: Box<dyn Host>) -> Result<(), Error> {
        let mut phase = self.phase.lock().unwrap_or_else(|e| e.into_inner());
        match *phase {
            Phase::Installed => Err(Error::runtime(
                "a host is already installed (PyMonitoring_SetHost may be called once)",
            )),
            Phase::FiredWithout => Err(Error::runtime(
                "PyMonitoring_SetHost must be called before the first event is fired",
            )),
            Phase::Open => {
                // Before the host is published: a thread that sees the
                // host sees the count forced non-zero.
                crate::failure::host_installed();
                if self.host.set(host).is_err() {
                    return Err(Error::runtime("a host is already installed"));
                }
                *phase = Phase::Installed;
                Ok(())
            }
        }
    }

    /// The installed host, if any (one acquire load).
    #[inline]
    pub fn get(&self) -> Option<&dyn Host> {
        self.host.get().map(|h| &**h)
    }

    /// A thread's first fire: the host it must use from now on (`None`:
    /// its own indicator), closing installation when there is none.
    pub fn first_fire(&self) -> Option<&dyn Host> {
        let mut phase = self.phase.lock().unwrap_or_else(|e| e.into_inner());
        if *phase == Phase::Open {
            *phase = Phase::FiredWithout;
        }
        self.get()
    }
}

static SLOT: HostSlot = HostSlot::new();

/// The process's host slot.
pub fn slot() -> &'static HostSlot {
    &SLOT
}

/// Install the process's host (see [`HostSlot::install`]).
pub fn install(host: Box<dyn Host>) -> Result<(), Error> {
    SLOT.install(host)
}

/// The process's host, if one is installed.
#[inline]
pub fn get() -> Option<&'static dyn Host> {
    #[cfg(test)]
    if let Some(host) = TEST_HOST.with(std::cell::Cell::get) {
        return Some(host);
    }
    SLOT.get()
}

#[cfg(test)]
thread_local! {
    /// Unit tests: a host for one thread, leaving the process's slot alone.
    static TEST_HOST: std::cell::Cell<Option<&'static dyn Host>> =
        const { std::cell::Cell::new(None) };
}

#[cfg(all(test, not(loom)))]
mod tests;
