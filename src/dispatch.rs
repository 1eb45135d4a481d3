//! Firing an event to the tools of one scope slot (SPEC §7).

use std::cell::Cell;

use crate::error::{self, Error, ErrorSet};
use crate::event::Event;
use crate::object::ObjectRef;
use crate::quiesce;
use crate::registry::{self, Outcome};
use crate::thread::{self, ThreadState};

/// What a tool's callback receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventRecord {
    /// The event delivered (BRANCH_RIGHT for the legacy BRANCH).
    pub event: Event,
    /// The tool being called.
    pub tool: u8,
    /// The code-like object given by the firer.
    pub codelike: ObjectRef,
    /// The offset given by the firer (also for LINE).
    pub offset: i32,
    /// The line number for LINE; -1 for every other event.
    pub lineno: i32,
    /// retval | callable | target | exception | stop-iteration value;
    /// `None` is delivered as MISSING.
    pub arg0: Option<ObjectRef>,
    /// CALL's first argument; `None` (MISSING) for other events.
    pub arg1: Option<ObjectRef>,
}

/// An event about to be fired. Exception events get their `arg0` from the
/// thread's current exception.
#[derive(Clone, Copy, Debug)]
pub struct Firing {
    /// The event.
    pub event: Event,
    /// The code-like object.
    pub codelike: ObjectRef,
    /// The offset; negative is an error.
    pub offset: i32,
    /// LINE's line number; -1 otherwise.
    pub lineno: i32,
    /// The first object argument (ignored for exception events).
    pub arg0: Option<ObjectRef>,
    /// CALL's argument.
    pub arg1: Option<ObjectRef>,
}

impl Firing {
    /// An event with no object arguments.
    pub fn new(event: Event, codelike: ObjectRef, offset: i32) -> Firing {
        Firing {
            event,
            codelike,
            offset,
            lineno: -1,
            arg0: None,
            arg1: None,
        }
    }

    /// With `arg0` set.
    pub fn with_arg(mut self, arg0: Option<ObjectRef>) -> Firing {
        self.arg0 = arg0;
        self
    }
}

/// Fire `firing` to the tools set in `active` (a scope slot's `active` byte).
///
/// Returns `Err(ErrorSet)` with the thread's error set on failure. The rules, in
/// order: nested fires from a callback are not delivered; exception events
/// take the current exception (none is an error); a negative offset is an
/// error; tools are called from the highest id down, skipping empty slots; a
/// failing callback stops the walk; DISABLE clears the tool's bit for local
/// events and is an error (and removes the callback) for the others. On
/// success what was pending before the fire is pending again.
pub fn fire(active: &Cell<u8>, firing: Firing) -> Result<(), ErrorSet> {
    thread::with(|t| {
        if t.depth.get() != 0 {
            return Ok(());
        }
        let saved = t.pending.borrow_mut().take();
        let mut record = EventRecord {
            event: firing.event,
            tool: 0,
            codelike: firing.codelike,
            offset: firing.offset,
            lineno: firing.lineno,
            arg0: firing.arg0,
            arg1: firing.arg1,
        };
        if firing.event.takes_exception() {
            match &saved {
                Some(p) => record.arg0 = p.object(),
                None => {
                    return error::fail(Error::value(format!(
                        "Firing event {} with no exception set",
                        firing.event.id()
                    )))
                }
            }
        }
        if firing.offset < 0 {
            return error::fail(Error::value("offset must be non-negative"));
        }
        let result = walk(t, active, &mut record);
        if result.is_ok() {
            *t.pending.borrow_mut() = saved;
        }
        result
    })
}

/// Ends the dispatch even if a Rust callback unwinds through it.
struct DispatchGuard<'a> {
    t: &'a ThreadState,
    reader: &'a quiesce::ReaderRecord,
}

impl Drop for DispatchGuard<'_> {
    fn drop(&mut self) {
        self.t.depth.set(0);
        self.reader.exit();
    }
}

fn walk(t: &ThreadState, active: &Cell<u8>, record: &mut EventRecord) -> Result<(), ErrorSet> {
    let mut tools = active.get();
    if tools == 0 {
        return Ok(());
    }
    let reader = quiesce::current_record(t);
    reader.enter();
    t.depth.set(1);
    let _guard = DispatchGuard { t, reader };
    while tools != 0 {
        let tool = 7 - tools.leading_zeros() as u8;
        tools &= !(1 << tool);
        refresh_callbacks(t);
        // The borrow is held across the call: nested fires stop at the depth
        // check and never refresh this thread's table, and not cloning the
        // Arc keeps shared reference counts off the active path.
        let cache = t.callbacks.borrow();
        let Some(handler) = cache
            .table
            .as_deref()
            .and_then(|tb| tb.get(tool, record.event))
        else {
            continue;
        };
        record.tool = tool;
        let outcome = handler.call(record);
        let stray_error = t.pending.borrow().is_some();
        match outcome {
            Outcome::Error => {
                if !stray_error {
                    error::set(Error::runtime(format!(
                        "callback of tool {tool} for {} returned -1 without setting an error",
                        record.event.name()
                    )));
                }
                return Err(ErrorSet);
            }
            // A callback that reports success with an error set has failed.
            _ if stray_error => return Err(ErrorSet),
            Outcome::Continue => {}
            Outcome::Disable if record.event.is_local() => {
                active.set(active.get() & !(1 << tool));
            }
            Outcome::Disable => {
                registry::remove_callback_if_same(tool, record.event, handler);
                return error::fail(Error::value(format!(
                    "Cannot disable {} events. Callback removed.",
                    record.event.name()
                )));
            }
        }
    }
    Ok(())
}

/// Bring this thread's copy of the callback table up to date. Called after
/// the dispatch announced itself, before each callback, so a callback removed
/// before this point is never called.
#[inline]
fn refresh_callbacks(t: &ThreadState) {
    let current = registry::callbacks_version();
    if t.callbacks.borrow().version != current {
        let (version, table) = registry::callbacks_snapshot();
        let mut cache = t.callbacks.borrow_mut();
        cache.version = version;
        cache.table = table;
    }
}
