//! Firing an event to the tools of one scope slot (SPEC §7).

use std::cell::Cell;
use std::sync::Arc;

use crate::error::{self, Error, ErrorSet};
use crate::event::Event;
use crate::object::ObjectRef;
use crate::quiesce;
use crate::registry::{self, CallbackTable, Handler, Outcome};
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
    let mut record = EventRecord {
        event: firing.event,
        tool: 0,
        codelike: firing.codelike,
        offset: firing.offset,
        lineno: firing.lineno,
        arg0: firing.arg0,
        arg1: firing.arg1,
    };
    fire_record(active, &mut record)
}

/// [`fire`] for an event already laid out as the record callbacks receive
/// (`record.tool` is scratch): what the C entry points use, so the active
/// path copies nothing. The same rules as [`fire`].
#[inline]
pub fn fire_record(active: &Cell<u8>, record: &mut EventRecord) -> Result<(), ErrorSet> {
    thread::with(|t| fire_in(t, active, record))
}

#[inline(never)]
fn fire_in(t: &ThreadState, active: &Cell<u8>, record: &mut EventRecord) -> Result<(), ErrorSet> {
    if t.flags.get() != 0 || record.event.takes_exception() || record.offset < 0 {
        return fire_slow(t, active, record);
    }
    walk(t, active, record)
}

/// Nested, with something pending, an exception event or a bad offset.
#[cold]
#[inline(never)]
fn fire_slow(t: &ThreadState, active: &Cell<u8>, record: &mut EventRecord) -> Result<(), ErrorSet> {
    let flags = t.flags.get();
    if flags & thread::IN_CALLBACK != 0 {
        return Ok(());
    }
    let saved = t.take_pending();
    if record.event.takes_exception() {
        match &saved {
            Some(p) => record.arg0 = p.object(),
            None => return no_exception(record.event),
        }
    }
    if record.offset < 0 {
        return error::fail(Error::value("offset must be non-negative"));
    }
    let result = walk(t, active, record);
    if result.is_ok() && saved.is_some() {
        t.set_pending(saved);
    }
    result
}

#[cold]
#[inline(never)]
fn no_exception(event: Event) -> Result<(), ErrorSet> {
    error::fail(Error::value(format!(
        "Firing event {} with no exception set",
        event.id()
    )))
}

/// Ends the dispatch even if a Rust callback unwinds through it, and puts
/// the thread's copy of the callback table back.
struct DispatchGuard<'a> {
    t: &'a ThreadState,
    reader: &'a quiesce::ReaderRecord,
    table: Option<Arc<CallbackTable>>,
}

impl Drop for DispatchGuard<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        self.t.flags.set(self.t.flags.get() & !thread::IN_CALLBACK);
        // The cell is empty (taken when the walk began; nested fires never
        // fill it), so this swap leaves nothing to drop.
        let table = self.t.callbacks.replace(self.table.take());
        debug_assert!(table.is_none());
        std::mem::forget(table);
        self.reader.exit();
    }
}

#[inline(always)]
fn walk(t: &ThreadState, active: &Cell<u8>, record: &mut EventRecord) -> Result<(), ErrorSet> {
    let mut tools = active.get();
    if tools == 0 {
        return Ok(());
    }
    // Issue 7 hook (armed sites, src/codelike.rs): one relaxed load while
    // nothing is armed anywhere; skipped tools get no callback and keep
    // their bit.
    if crate::codelike::any_armed() {
        tools = crate::codelike::armed_filter(tools, record);
        if tools == 0 {
            return Ok(());
        }
    }
    let reader = quiesce::current_record(t);
    reader.enter();
    t.flags.set(t.flags.get() | thread::IN_CALLBACK);
    // No Arc clone: the table is moved out of the thread's cell for the
    // walk (nested fires stop at the IN_CALLBACK check and never look at it)
    // and moved back by the guard.
    let mut guard = DispatchGuard {
        t,
        reader,
        table: t.callbacks.take(),
    };
    while tools != 0 {
        let tool = 7 - tools.leading_zeros() as u8;
        tools &= !(1 << tool);
        refresh_callbacks(t, &mut guard.table);
        let Some(handler) = guard
            .table
            .as_deref()
            .and_then(|tb| tb.get(tool, record.event))
        else {
            continue;
        };
        record.tool = tool;
        let outcome = handler.call(record);
        if outcome != Outcome::Continue || t.has_pending() {
            after_callback(t, active, record, handler, outcome)?;
        }
    }
    Ok(())
}

/// A callback failed, left an error set, or asked to be disabled.
#[cold]
#[inline(never)]
fn after_callback(
    t: &ThreadState,
    active: &Cell<u8>,
    record: &EventRecord,
    handler: &Arc<dyn Handler>,
    outcome: Outcome,
) -> Result<(), ErrorSet> {
    let tool = record.tool;
    let stray_error = t.has_pending();
    match outcome {
        Outcome::Error => {
            if !stray_error {
                error::set(Error::runtime(format!(
                    "callback of tool {tool} for {} returned -1 without setting an error",
                    record.event.name()
                )));
            }
            Err(ErrorSet)
        }
        // A callback that reports success with an error set has failed.
        _ if stray_error => Err(ErrorSet),
        Outcome::Continue => Ok(()),
        Outcome::Disable if record.event.is_local() => {
            active.set(active.get() & !(1 << tool));
            Ok(())
        }
        Outcome::Disable => {
            registry::remove_callback_if_same(tool, record.event, handler);
            error::fail(Error::value(format!(
                "Cannot disable {} events. Callback removed.",
                record.event.name()
            )))
        }
    }
}

/// Bring the dispatch's copy of the callback table up to date. Called after
/// the dispatch announced itself, before each callback, so a callback removed
/// before this point is never called.
#[inline(always)]
fn refresh_callbacks(t: &ThreadState, table: &mut Option<Arc<CallbackTable>>) {
    if t.callbacks_version.get() != registry::callbacks_version() {
        refresh_callbacks_slow(t, table);
    }
}

#[cold]
#[inline(never)]
fn refresh_callbacks_slow(t: &ThreadState, table: &mut Option<Arc<CallbackTable>>) {
    let (version, snapshot) = registry::callbacks_snapshot();
    t.callbacks_version.set(version);
    *table = snapshot;
}
