//! The safe Rust API: tools, closure callbacks, scopes and fire calls.
//!
//! This is the same core the C API uses (the registry, scopes and dispatch of
//! this crate); neither API goes through the other's `extern "C"` functions,
//! so a tool installed here sees events fired from C and the reverse.
//!
//! * [`Tool`] claims a tool id (0–5) and releases it when dropped.
//! * [`Tool::on`] installs a closure `Fn(&EventRecord) -> Action`.
//! * [`Scope`] owns its slots and version; [`Scope::enter`] refreshes them,
//!   and each [`Slot`] fires only the event it was made for, with typed
//!   arguments. A scope is `Send` but not `Sync`: one thread fires on it at a
//!   time, as the C API requires of a state array.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use pymonitoring::api::{Action, Event, EventSet, ObjectRef, Scope, Tool};
//!
//! let seen = Arc::new(Mutex::new(Vec::new()));
//! let tool = Tool::claim(2, "example-profiler")?;
//! let log = seen.clone();
//! tool.on(Event::PyStart, move |ev| {
//!     log.lock().unwrap().push((ev.event, ev.offset));
//!     Action::Continue
//! })?;
//! tool.set_events(EventSet::PY_START)?;
//!
//! let code = ObjectRef::from_addr(0x1000).unwrap();
//! let scope = Scope::new(&[Event::PyStart, Event::PyReturn]);
//! scope.enter();
//! scope.slot(0).fire_py_start(code, 0)?;
//! scope.slot(1).fire_py_return(code, 4, None)?; // no tool wants PY_RETURN
//! assert_eq!(*seen.lock().unwrap(), [(Event::PyStart, 0)]);
//! drop(tool); // releases id 2
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::any::Any;
use std::sync::Arc;

use crate::error;
use crate::registry::{Handler, Outcome};

pub use crate::builtin::names::register_code_name;
pub use crate::dispatch::EventRecord;
pub use crate::error::{Error, ErrorKind, Pending};
pub use crate::event::{Event, EventSet};
pub use crate::object::ObjectRef;
pub use scope::{Scope, Slot};
pub use tool::{restart_events, restart_tool_events, tool_name, version, wait_for_callbacks, Tool};

mod fire;
mod scope;
#[cfg(test)]
mod tests;
mod tool;

/// What a callback answers after an event.
///
/// ```
/// use pymonitoring::api::{Action, Error, Event, EventRecord};
///
/// // Count once per slot: the first LINE switches LINE off for that slot.
/// fn on_line(ev: &EventRecord) -> Action {
///     if ev.lineno < 0 {
///         return Action::Fail(Error::value("LINE without a line number"));
///     }
///     Action::Disable
/// }
/// # let _ = on_line;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Go on (the C callback's 0).
    Continue,
    /// Stop this event at this slot until the scope refreshes
    /// (`PY_MONITORING_DISABLE`). For events that are not local this is an
    /// error and the callback is removed, as in CPython.
    Disable,
    /// The callback failed with this error: the fire returns it and lower
    /// tools are not called.
    Fail(Error),
    /// The callback failed by raising this host exception object.
    Raise(ObjectRef),
}

/// A Rust closure as a registry handler.
struct Closure<F>(F);

impl<F> Handler for Closure<F>
where
    F: Fn(&EventRecord) -> Action + Send + Sync + 'static,
{
    fn call(&self, event: &EventRecord) -> Outcome {
        match (self.0)(event) {
            Action::Continue => Outcome::Continue,
            Action::Disable => Outcome::Disable,
            Action::Fail(e) => {
                error::set(e);
                Outcome::Error
            }
            Action::Raise(obj) => {
                error::set_raised(Some(obj));
                Outcome::Error
            }
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `callback` as a registry handler (for the built-in tools, which
/// install their callbacks in one registry change).
pub(crate) fn handler<F>(callback: F) -> Arc<dyn Handler>
where
    F: Fn(&EventRecord) -> Action + Send + Sync + 'static,
{
    Arc::new(Closure(callback))
}
