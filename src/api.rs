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
use std::cell::Cell;
use std::sync::Arc;

use crate::dispatch::Firing;
use crate::error::{self, ErrorSet};
use crate::registry::{self, Handler, Outcome};
use crate::scope::{self, SlotState};

pub use crate::builtin::names::register_code_name;
pub use crate::dispatch::EventRecord;
pub use crate::error::{Error, ErrorKind, Pending};
pub use crate::event::{Event, EventSet};
pub use crate::object::ObjectRef;

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

/// A claimed tool id. Dropping it frees the id (its events and callbacks
/// go with it), unless the id was already freed and claimed again by
/// someone else, through C for example, which is then left alone.
///
/// ```
/// use pymonitoring::api::Tool;
///
/// let tool = Tool::claim(3, "example")?;
/// assert!(Tool::claim(3, "another").is_err());
/// drop(tool);
/// let again = Tool::claim(3, "another")?;
/// assert_eq!(again.name().as_deref(), Some("another"));
/// # Ok::<(), pymonitoring::api::Error>(())
/// ```
#[derive(Debug)]
pub struct Tool {
    id: u8,
    token: u64,
}

impl Tool {
    /// Claim tool id `id` (0–5) under `name`.
    ///
    /// Fails with a ValueError for an id above 5 (`invalid tool %d (must be
    /// between 0 and 5)`) or one already in use (`tool %d is already in
    /// use`).
    ///
    /// ```
    /// use pymonitoring::api::Tool;
    ///
    /// let tool = Tool::claim(1, "coverage")?;
    /// assert_eq!(tool.id(), 1);
    /// assert_eq!(
    ///     Tool::claim(6, "reserved").unwrap_err().to_string(),
    ///     "invalid tool 6 (must be between 0 and 5)"
    /// );
    /// # Ok::<(), pymonitoring::api::Error>(())
    /// ```
    pub fn claim(id: u8, name: &str) -> Result<Tool, Error> {
        let token = registry::claim_tool_id(id.into(), name)?;
        Ok(Tool { id, token })
    }

    /// Claim the lowest free tool id.
    ///
    /// ```
    /// use pymonitoring::api::Tool;
    ///
    /// let a = Tool::claim_any("a")?;
    /// let b = Tool::claim_any("b")?;
    /// assert_ne!(a.id(), b.id());
    /// # Ok::<(), pymonitoring::api::Error>(())
    /// ```
    pub fn claim_any(name: &str) -> Result<Tool, Error> {
        for id in 0..=registry::MAX_USER_TOOL {
            if let Ok(tool) = Tool::claim(id, name) {
                return Ok(tool);
            }
        }
        Err(Error::value("every tool id is in use"))
    }

    /// The tool id.
    ///
    /// ```
    /// let tool = pymonitoring::api::Tool::claim(4, "t")?;
    /// assert_eq!(tool.id(), 4);
    /// # Ok::<(), pymonitoring::api::Error>(())
    /// ```
    pub fn id(&self) -> u8 {
        self.id
    }

    /// The name the id is claimed under, or `None` once it is no longer
    /// this handle's claim.
    ///
    /// ```
    /// let tool = pymonitoring::api::Tool::claim(0, "debugger")?;
    /// assert_eq!(tool.name().as_deref(), Some("debugger"));
    /// # Ok::<(), pymonitoring::api::Error>(())
    /// ```
    pub fn name(&self) -> Option<String> {
        if !self.holds() {
            return None;
        }
        registry::tool_name(self.id.into()).ok().flatten()
    }

    fn holds(&self) -> bool {
        registry::holds_claim(self.id, self.token)
    }

    fn check(&self) -> Result<(), Error> {
        if self.holds() {
            Ok(())
        } else {
            Err(Error::value(format!(
                "tool {} is no longer held by this handle",
                self.id
            )))
        }
    }

    /// Set the events this tool receives everywhere (`sys.monitoring.set_events`).
    ///
    /// Fails with a ValueError for C_RETURN or C_RAISE without CALL
    /// (`cannot set C_RETURN or C_RAISE events independently`).
    ///
    /// ```
    /// use pymonitoring::api::{EventSet, Tool};
    ///
    /// let tool = Tool::claim(2, "profiler")?;
    /// tool.set_events(EventSet::PY_START | EventSet::PY_RETURN)?;
    /// assert_eq!(tool.events(), EventSet::PY_START | EventSet::PY_RETURN);
    /// assert!(tool.set_events(EventSet::C_RETURN).is_err());
    /// # Ok::<(), pymonitoring::api::Error>(())
    /// ```
    pub fn set_events(&self, events: EventSet) -> Result<(), Error> {
        self.check()?;
        registry::set_events(self.id.into(), events.bits())
    }

    /// The events this tool receives (BRANCH shows as BRANCH_LEFT |
    /// BRANCH_RIGHT; C_RETURN and C_RAISE ride on CALL and are not shown).
    ///
    /// ```
    /// use pymonitoring::api::{EventSet, Tool};
    ///
    /// let tool = Tool::claim(5, "optimizer")?;
    /// assert_eq!(tool.events(), EventSet::empty());
    /// tool.set_events(EventSet::BRANCH)?;
    /// assert_eq!(tool.events(), EventSet::BRANCH_LEFT | EventSet::BRANCH_RIGHT);
    /// # Ok::<(), pymonitoring::api::Error>(())
    /// ```
    pub fn events(&self) -> EventSet {
        if !self.holds() {
            return EventSet::empty();
        }
        registry::get_events(self.id.into()).unwrap_or_default()
    }

    /// Install `callback` for `event`, replacing the previous one. BRANCH
    /// installs it for BRANCH_LEFT and BRANCH_RIGHT. The closure may be
    /// called from any thread that fires; it runs with the thread's error
    /// indicator clear, and events fired from inside it are not delivered.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use pymonitoring::api::{Action, Event, EventSet, ObjectRef, Scope, Tool};
    ///
    /// let calls = Arc::new(AtomicUsize::new(0));
    /// let tool = Tool::claim(3, "counter")?;
    /// let c = calls.clone();
    /// tool.on(Event::Call, move |ev| {
    ///     assert_eq!(ev.arg1, ObjectRef::from_addr(0x30));
    ///     c.fetch_add(1, Ordering::Relaxed);
    ///     Action::Continue
    /// })?;
    /// tool.set_events(EventSet::CALL)?;
    /// let scope = Scope::new(&[Event::Call]);
    /// scope.enter();
    /// let code = ObjectRef::from_addr(0x10).unwrap();
    /// scope.slot(0).fire_call(code, 2, ObjectRef::from_addr(0x20), ObjectRef::from_addr(0x30))?;
    /// assert_eq!(calls.load(Ordering::Relaxed), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on<F>(&self, event: Event, callback: F) -> Result<(), Error>
    where
        F: Fn(&EventRecord) -> Action + Send + Sync + 'static,
    {
        self.check()?;
        let handler: Arc<dyn Handler> = Arc::new(Closure(callback));
        registry::register_callback(self.id.into(), event.id().into(), Some(handler)).map(drop)
    }

    /// Remove this tool's callback for `event`. It is not called by fires
    /// that start after this returns; to wait for calls already running on
    /// other threads, call [`wait_for_callbacks`].
    ///
    /// ```
    /// use pymonitoring::api::{Action, Event, Tool};
    ///
    /// let tool = Tool::claim(1, "t")?;
    /// tool.on(Event::Line, |_| Action::Continue)?;
    /// tool.remove(Event::Line)?;
    /// # Ok::<(), pymonitoring::api::Error>(())
    /// ```
    pub fn remove(&self, event: Event) -> Result<(), Error> {
        self.check()?;
        registry::register_callback(self.id.into(), event.id().into(), None).map(drop)
    }

    /// Drop this tool's events and callbacks, keeping the id
    /// (`sys.monitoring.clear_tool_id`).
    ///
    /// ```
    /// use pymonitoring::api::{EventSet, Tool};
    ///
    /// let tool = Tool::claim(0, "t")?;
    /// tool.set_events(EventSet::LINE)?;
    /// tool.clear()?;
    /// assert_eq!(tool.events(), EventSet::empty());
    /// assert_eq!(tool.name().as_deref(), Some("t"));
    /// # Ok::<(), pymonitoring::api::Error>(())
    /// ```
    pub fn clear(&self) -> Result<(), Error> {
        self.check()?;
        registry::clear_tool_id(self.id.into())
    }
}

impl Drop for Tool {
    fn drop(&mut self) {
        registry::free_claim(self.id, self.token);
    }
}

/// The name tool `id` is claimed under (by C or Rust), or `None` when it is
/// free. Fails for an id above 5.
///
/// ```
/// use pymonitoring::api::{tool_name, Tool};
///
/// assert_eq!(tool_name(4)?, None);
/// let _t = Tool::claim(4, "named")?;
/// assert_eq!(tool_name(4)?.as_deref(), Some("named"));
/// # Ok::<(), pymonitoring::api::Error>(())
/// ```
pub fn tool_name(id: u8) -> Result<Option<String>, Error> {
    registry::tool_name(id.into())
}

/// Re-enable everything DISABLEd: every scope refreshes on its next entry
/// (`sys.monitoring.restart_events`).
///
/// ```
/// let before = pymonitoring::api::version();
/// pymonitoring::api::restart_events();
/// assert_eq!(pymonitoring::api::version(), before + 1);
/// ```
pub fn restart_events() {
    registry::restart_events()
}

/// Re-enable only `tool`'s DISABLEd slots and sites
/// (`PyMonitoring_RestartToolEvents`): other tools' DISABLEs stay.
///
/// ```
/// use pymonitoring::api::{restart_tool_events, Tool};
///
/// assert_eq!(
///     restart_tool_events(3).unwrap_err().message(),
///     "tool 3 is not in use"
/// );
/// let _t = Tool::claim(3, "cov")?;
/// let before = pymonitoring::api::version();
/// restart_tool_events(3)?;
/// assert_eq!(pymonitoring::api::version(), before + 1);
/// # Ok::<(), pymonitoring::api::Error>(())
/// ```
pub fn restart_tool_events(tool: u8) -> Result<(), Error> {
    crate::ext::lasting::restart_tool_events(tool.into())
}

/// The global version: it changes whenever what a scope should see changes.
///
/// ```
/// use pymonitoring::api::{version, EventSet, Tool};
///
/// let v = version();
/// let tool = Tool::claim(2, "t")?;
/// assert_eq!(version(), v, "claiming does not change it");
/// tool.set_events(EventSet::PY_START)?;
/// assert_eq!(version(), v + 1);
/// # Ok::<(), pymonitoring::api::Error>(())
/// ```
pub fn version() -> u64 {
    registry::version()
}

/// Wait until every callback running on another thread when this was called
/// has returned (`PyMonitoring_WaitForCallbacks`).
///
/// ```
/// pymonitoring::api::wait_for_callbacks()?;
/// # Ok::<(), pymonitoring::api::Error>(())
/// ```
pub fn wait_for_callbacks() -> Result<(), Error> {
    crate::quiesce::wait_for_callbacks()
}

/// A scope: one slot per event, and the version they were computed at.
///
/// Slots start inactive at version 0 (like Cython's zeroed states), and
/// [`Scope::enter`] refreshes them when the global version has moved.
///
/// ```
/// use pymonitoring::api::{Event, Scope};
///
/// let scope = Scope::new(&[Event::PyStart, Event::Line]);
/// scope.enter();
/// assert_eq!(scope.len(), 2);
/// assert_eq!(scope.slot(1).event(), Event::Line);
/// ```
///
/// A scope may move to another thread but is not shared between threads
/// (`Send`, not `Sync`), so two threads can never fire on one slot at once:
///
/// ```compile_fail
/// fn shared<T: Sync>(_: &T) {}
/// shared(&pymonitoring::api::Scope::new(&[]));
/// ```
#[derive(Debug)]
pub struct Scope {
    states: Box<[SlotState]>,
    events: Box<[Event]>,
    ids: Box<[u8]>,
    version: Cell<u64>,
}

impl Scope {
    /// A scope with one slot for each of `events`, in order.
    ///
    /// ```
    /// use pymonitoring::api::{Event, Scope};
    ///
    /// let scope = Scope::new(&[Event::PyStart, Event::PyReturn, Event::PyUnwind]);
    /// assert_eq!(scope.len(), 3);
    /// assert!(!scope.slot(0).is_active());
    /// ```
    pub fn new(events: &[Event]) -> Scope {
        Scope {
            states: events.iter().map(|_| SlotState::default()).collect(),
            events: events.into(),
            ids: events.iter().map(|e| e.id()).collect(),
            version: Cell::new(0),
        }
    }

    /// Enter the scope (`PyMonitoring_EnterScope`): when the global version
    /// moved since the last entry, every slot gets the tools of its event
    /// (C_RETURN and C_RAISE get CALL's, BRANCH gets BRANCH_RIGHT's) and
    /// DISABLEd slots come back.
    ///
    /// ```
    /// use pymonitoring::api::{Event, EventSet, Scope, Tool};
    ///
    /// let tool = Tool::claim(2, "t")?;
    /// tool.set_events(EventSet::CALL)?;
    /// let scope = Scope::new(&[Event::Call, Event::CReturn, Event::Line]);
    /// scope.enter();
    /// assert_eq!(scope.slot(0).active_tools(), 1 << 2);
    /// assert_eq!(scope.slot(1).active_tools(), 1 << 2);
    /// assert_eq!(scope.slot(2).active_tools(), 0);
    /// # Ok::<(), pymonitoring::api::Error>(())
    /// ```
    pub fn enter(&self) {
        // Event ids come from `Event`, so they are all valid: the only error
        // `enter_scope` reports cannot happen here.
        let result = scope::enter_scope(&self.states, &self.version, &self.ids);
        debug_assert!(result.is_ok(), "{result:?}");
    }

    /// Exit the scope (`PyMonitoring_ExitScope`). Scopes keep no stack;
    /// this exists for symmetry with the C API.
    ///
    /// ```
    /// let scope = pymonitoring::api::Scope::new(&[]);
    /// scope.enter();
    /// scope.exit();
    /// ```
    pub fn exit(&self) {
        scope::exit_scope()
    }

    /// The number of slots.
    ///
    /// ```
    /// assert_eq!(pymonitoring::api::Scope::new(&[]).len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.states.len()
    }

    /// Whether the scope has no slot.
    ///
    /// ```
    /// assert!(pymonitoring::api::Scope::new(&[]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// The version the slots were last computed at.
    ///
    /// ```
    /// use pymonitoring::api::{version, Scope};
    ///
    /// let scope = Scope::new(&[]);
    /// scope.enter();
    /// assert_eq!(scope.version(), version());
    /// ```
    pub fn version(&self) -> u64 {
        self.version.get()
    }

    /// Slot `index`.
    ///
    /// # Panics
    /// When `index >= self.len()`, like slice indexing; [`Scope::get`]
    /// returns an `Option` instead.
    ///
    /// ```
    /// use pymonitoring::api::{Event, Scope};
    ///
    /// let scope = Scope::new(&[Event::PyYield]);
    /// assert_eq!(scope.slot(0).event(), Event::PyYield);
    /// ```
    pub fn slot(&self, index: usize) -> Slot<'_> {
        match self.get(index) {
            Some(slot) => slot,
            None => panic!(
                "slot index {index} out of range for a scope of {}",
                self.len()
            ),
        }
    }

    /// Slot `index`, or `None` when out of range.
    ///
    /// ```
    /// use pymonitoring::api::{Event, Scope};
    ///
    /// let scope = Scope::new(&[Event::Line]);
    /// assert!(scope.get(0).is_some());
    /// assert!(scope.get(1).is_none());
    /// ```
    pub fn get(&self, index: usize) -> Option<Slot<'_>> {
        Some(Slot {
            state: self.states.get(index)?,
            event: self.events[index],
        })
    }

    /// The first slot made for `event`, if any.
    ///
    /// ```
    /// use pymonitoring::api::{Event, Scope};
    ///
    /// let scope = Scope::new(&[Event::PyStart, Event::Line]);
    /// assert_eq!(scope.slot_for(Event::Line).map(|s| s.event()), Some(Event::Line));
    /// assert!(scope.slot_for(Event::Raise).is_none());
    /// ```
    pub fn slot_for(&self, event: Event) -> Option<Slot<'_>> {
        let index = self.events.iter().position(|&e| e == event)?;
        self.get(index)
    }
}

/// One slot of a [`Scope`]: fires the event it was made for.
///
/// Each `fire_*` method returns `Ok(())` at once when no tool is active on
/// the slot. Otherwise it calls the active tools' callbacks (highest id
/// first) and returns the first failure as `Err`, leaving the thread's error
/// indicator as it was before the call. Firing an event other than the
/// slot's (BRANCH slots take BRANCH_RIGHT) is a ValueError, as are offsets
/// and line numbers above `i32::MAX`.
///
/// ```
/// use pymonitoring::api::{Event, ObjectRef, Scope};
///
/// let scope = Scope::new(&[Event::PyStart]);
/// scope.enter();
/// let code = ObjectRef::from_addr(0x10).unwrap();
/// scope.slot(0).fire_py_start(code, 0)?;
/// assert!(scope.slot(0).fire_py_resume(code, 0).is_err(), "not this slot's event");
/// # Ok::<(), pymonitoring::api::Pending>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Slot<'a> {
    state: &'a SlotState,
    event: Event,
}

fn fits(what: &str, value: u32) -> Result<i32, Pending> {
    i32::try_from(value).map_err(|_| {
        Pending::Error(Error::value(format!(
            "{what} {value} is too large (must be at most {})",
            i32::MAX
        )))
    })
}

impl Slot<'_> {
    /// The event this slot was made for.
    ///
    /// ```
    /// use pymonitoring::api::{Event, Scope};
    /// assert_eq!(Scope::new(&[Event::Jump]).slot(0).event(), Event::Jump);
    /// ```
    pub fn event(&self) -> Event {
        self.event
    }

    /// The tools active on this slot: bit `t` for tool `t`.
    ///
    /// ```
    /// use pymonitoring::api::{Event, Scope};
    /// assert_eq!(Scope::new(&[Event::Jump]).slot(0).active_tools(), 0);
    /// ```
    pub fn active_tools(&self) -> u8 {
        self.state.active.get()
    }

    /// Whether any tool is active on this slot.
    ///
    /// ```
    /// use pymonitoring::api::{Event, EventSet, Scope, Tool};
    ///
    /// let scope = Scope::new(&[Event::Jump]);
    /// let tool = Tool::claim(4, "t")?;
    /// tool.set_events(EventSet::JUMP)?;
    /// scope.enter();
    /// assert!(scope.slot(0).is_active());
    /// # Ok::<(), pymonitoring::api::Error>(())
    /// ```
    pub fn is_active(&self) -> bool {
        self.active_tools() != 0
    }

    fn fire(
        &self,
        mut firing: Firing,
        offset: u32,
        exception: Option<ObjectRef>,
    ) -> Result<(), Pending> {
        let event = firing.event;
        let accepts =
            self.event == event || (self.event == Event::Branch && event == Event::BranchRight);
        if !accepts {
            return Err(Pending::Error(Error::value(format!(
                "this slot is for {}, not {event}",
                self.event
            ))));
        }
        if !self.is_active() {
            return Ok(());
        }
        firing.offset = fits("offset", offset)?;
        let saved = error::take();
        if exception.is_some() {
            error::set_raised(exception);
        }
        // The slot (not only `active`), for the lasting mode.
        let result = match crate::ext::lasting::fire(self.state, firing) {
            Ok(()) => Ok(()),
            Err(ErrorSet) => Err(error::take().unwrap_or_else(|| {
                Pending::Error(Error::runtime(format!("firing {event} failed")))
            })),
        };
        error::restore(saved);
        result
    }

    fn simple(&self, event: Event, code: ObjectRef, offset: u32) -> Result<(), Pending> {
        self.fire(Firing::new(event, code, 0), offset, None)
    }

    fn with_arg(
        &self,
        event: Event,
        code: ObjectRef,
        offset: u32,
        arg: Option<ObjectRef>,
    ) -> Result<(), Pending> {
        self.fire(Firing::new(event, code, 0).with_arg(arg), offset, None)
    }

    fn exception(
        &self,
        event: Event,
        code: ObjectRef,
        offset: u32,
        exception: ObjectRef,
    ) -> Result<(), Pending> {
        self.fire(Firing::new(event, code, 0), offset, Some(exception))
    }

    /// Fire PY_START: `code` starts.
    ///
    /// ```
    /// use pymonitoring::api::{Event, ObjectRef, Scope};
    /// let scope = Scope::new(&[Event::PyStart]);
    /// scope.enter();
    /// scope.slot(0).fire_py_start(ObjectRef::from_addr(8).unwrap(), 0)?;
    /// # Ok::<(), pymonitoring::api::Pending>(())
    /// ```
    pub fn fire_py_start(&self, code: ObjectRef, offset: u32) -> Result<(), Pending> {
        self.simple(Event::PyStart, code, offset)
    }

    /// Fire PY_RESUME: a generator or coroutine resumes.
    ///
    /// ```
    /// use pymonitoring::api::{Event, ObjectRef, Scope};
    /// let scope = Scope::new(&[Event::PyResume]);
    /// scope.enter();
    /// scope.slot(0).fire_py_resume(ObjectRef::from_addr(8).unwrap(), 0)?;
    /// # Ok::<(), pymonitoring::api::Pending>(())
    /// ```
    pub fn fire_py_resume(&self, code: ObjectRef, offset: u32) -> Result<(), Pending> {
        self.simple(Event::PyResume, code, offset)
    }

    /// Fire PY_RETURN: `code` returns `retval` (`None`: MISSING).
    ///
    /// ```
    /// use pymonitoring::api::{Event, ObjectRef, Scope};
    /// let scope = Scope::new(&[Event::PyReturn]);
    /// scope.enter();
    /// scope.slot(0).fire_py_return(ObjectRef::from_addr(8).unwrap(), 4, ObjectRef::from_addr(9))?;
    /// # Ok::<(), pymonitoring::api::Pending>(())
    /// ```
    pub fn fire_py_return(
        &self,
        code: ObjectRef,
        offset: u32,
        retval: Option<ObjectRef>,
    ) -> Result<(), Pending> {
        self.with_arg(Event::PyReturn, code, offset, retval)
    }

    /// Fire PY_YIELD: a generator yields `value`.
    ///
    /// ```
    /// use pymonitoring::api::{Event, ObjectRef, Scope};
    /// let scope = Scope::new(&[Event::PyYield]);
    /// scope.enter();
    /// scope.slot(0).fire_py_yield(ObjectRef::from_addr(8).unwrap(), 2, None)?;
    /// # Ok::<(), pymonitoring::api::Pending>(())
    /// ```
    pub fn fire_py_yield(
        &self,
        code: ObjectRef,
        offset: u32,
        value: Option<ObjectRef>,
    ) -> Result<(), Pending> {
        self.with_arg(Event::PyYield, code, offset, value)
    }

    /// Fire CALL: `callable` is about to be called with first argument
    /// `arg0` (either `None`: MISSING).
    ///
    /// ```
    /// use pymonitoring::api::{Event, ObjectRef, Scope};
    /// let scope = Scope::new(&[Event::Call]);
    /// scope.enter();
    /// scope.slot(0).fire_call(ObjectRef::from_addr(8).unwrap(), 2, ObjectRef::from_addr(16), None)?;
    /// # Ok::<(), pymonitoring::api::Pending>(())
    /// ```
    pub fn fire_call(
        &self,
        code: ObjectRef,
        offset: u32,
        callable: Option<ObjectRef>,
        arg0: Option<ObjectRef>,
    ) -> Result<(), Pending> {
        let firing = Firing {
            arg1: arg0,
            ..Firing::new(Event::Call, code, 0).with_arg(callable)
        };
        self.fire(firing, offset, None)
    }

    /// Fire LINE: line `lineno` of `code` is reached.
    ///
    /// ```
    /// use pymonitoring::api::{Event, ObjectRef, Scope};
    /// let scope = Scope::new(&[Event::Line]);
    /// scope.enter();
    /// scope.slot(0).fire_line(ObjectRef::from_addr(8).unwrap(), 3, 12)?;
    /// # Ok::<(), pymonitoring::api::Pending>(())
    /// ```
    pub fn fire_line(&self, code: ObjectRef, offset: u32, lineno: u32) -> Result<(), Pending> {
        let lineno = fits("lineno", lineno)?;
        let firing = Firing {
            lineno,
            ..Firing::new(Event::Line, code, 0)
        };
        self.fire(firing, offset, None)
    }

    /// Fire JUMP to `target` (an object standing for the target offset).
    ///
    /// ```
    /// use pymonitoring::api::{Event, ObjectRef, Scope};
    /// let scope = Scope::new(&[Event::Jump]);
    /// scope.enter();
    /// scope.slot(0).fire_jump(ObjectRef::from_addr(8).unwrap(), 6, ObjectRef::from_addr(2))?;
    /// # Ok::<(), pymonitoring::api::Pending>(())
    /// ```
    pub fn fire_jump(
        &self,
        code: ObjectRef,
        offset: u32,
        target: Option<ObjectRef>,
    ) -> Result<(), Pending> {
        self.with_arg(Event::Jump, code, offset, target)
    }

    /// Fire BRANCH_LEFT to `target`.
    ///
    /// ```
    /// use pymonitoring::api::{Event, ObjectRef, Scope};
    /// let scope = Scope::new(&[Event::BranchLeft]);
    /// scope.enter();
    /// scope.slot(0).fire_branch_left(ObjectRef::from_addr(8).unwrap(), 6, None)?;
    /// # Ok::<(), pymonitoring::api::Pending>(())
    /// ```
    pub fn fire_branch_left(
        &self,
        code: ObjectRef,
        offset: u32,
        target: Option<ObjectRef>,
    ) -> Result<(), Pending> {
        self.with_arg(Event::BranchLeft, code, offset, target)
    }

    /// Fire BRANCH_RIGHT to `target` (also on a legacy BRANCH slot).
    ///
    /// ```
    /// use pymonitoring::api::{Event, ObjectRef, Scope};
    /// let scope = Scope::new(&[Event::Branch]);
    /// scope.enter();
    /// scope.slot(0).fire_branch_right(ObjectRef::from_addr(8).unwrap(), 6, None)?;
    /// # Ok::<(), pymonitoring::api::Pending>(())
    /// ```
    pub fn fire_branch_right(
        &self,
        code: ObjectRef,
        offset: u32,
        target: Option<ObjectRef>,
    ) -> Result<(), Pending> {
        self.with_arg(Event::BranchRight, code, offset, target)
    }

    /// Fire C_RETURN: a C function called at `offset` returned `retval`.
    ///
    /// ```
    /// use pymonitoring::api::{Event, ObjectRef, Scope};
    /// let scope = Scope::new(&[Event::CReturn]);
    /// scope.enter();
    /// scope.slot(0).fire_c_return(ObjectRef::from_addr(8).unwrap(), 6, None)?;
    /// # Ok::<(), pymonitoring::api::Pending>(())
    /// ```
    pub fn fire_c_return(
        &self,
        code: ObjectRef,
        offset: u32,
        retval: Option<ObjectRef>,
    ) -> Result<(), Pending> {
        self.with_arg(Event::CReturn, code, offset, retval)
    }

    /// Fire STOP_ITERATION with `value`.
    ///
    /// ```
    /// use pymonitoring::api::{Event, ObjectRef, Scope};
    /// let scope = Scope::new(&[Event::StopIteration]);
    /// scope.enter();
    /// scope.slot(0).fire_stop_iteration(ObjectRef::from_addr(8).unwrap(), 6, None)?;
    /// # Ok::<(), pymonitoring::api::Pending>(())
    /// ```
    pub fn fire_stop_iteration(
        &self,
        code: ObjectRef,
        offset: u32,
        value: Option<ObjectRef>,
    ) -> Result<(), Pending> {
        self.with_arg(Event::StopIteration, code, offset, value)
    }

    /// Fire PY_THROW: `exception` is thrown into a generator. Callbacks get
    /// it as `arg0`.
    ///
    /// ```
    /// use pymonitoring::api::{Event, ObjectRef, Scope};
    /// let scope = Scope::new(&[Event::PyThrow]);
    /// scope.enter();
    /// let exc = ObjectRef::from_addr(0x99).unwrap();
    /// scope.slot(0).fire_py_throw(ObjectRef::from_addr(8).unwrap(), 0, exc)?;
    /// # Ok::<(), pymonitoring::api::Pending>(())
    /// ```
    pub fn fire_py_throw(
        &self,
        code: ObjectRef,
        offset: u32,
        exception: ObjectRef,
    ) -> Result<(), Pending> {
        self.exception(Event::PyThrow, code, offset, exception)
    }

    /// Fire RAISE: `exception` is raised at `offset`.
    ///
    /// ```
    /// use pymonitoring::api::{Action, Event, EventSet, ObjectRef, Scope, Tool};
    ///
    /// let exc = ObjectRef::from_addr(0x99).unwrap();
    /// let tool = Tool::claim(0, "debugger")?;
    /// tool.on(Event::Raise, move |ev| {
    ///     assert_eq!(ev.arg0, Some(exc));
    ///     Action::Continue
    /// })?;
    /// tool.set_events(EventSet::RAISE)?;
    /// let scope = Scope::new(&[Event::Raise]);
    /// scope.enter();
    /// scope.slot(0).fire_raise(ObjectRef::from_addr(8).unwrap(), 3, exc)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fire_raise(
        &self,
        code: ObjectRef,
        offset: u32,
        exception: ObjectRef,
    ) -> Result<(), Pending> {
        self.exception(Event::Raise, code, offset, exception)
    }

    /// Fire RERAISE: `exception` is re-raised.
    ///
    /// ```
    /// use pymonitoring::api::{Event, ObjectRef, Scope};
    /// let scope = Scope::new(&[Event::Reraise]);
    /// scope.enter();
    /// scope.slot(0).fire_reraise(ObjectRef::from_addr(8).unwrap(), 0, ObjectRef::from_addr(9).unwrap())?;
    /// # Ok::<(), pymonitoring::api::Pending>(())
    /// ```
    pub fn fire_reraise(
        &self,
        code: ObjectRef,
        offset: u32,
        exception: ObjectRef,
    ) -> Result<(), Pending> {
        self.exception(Event::Reraise, code, offset, exception)
    }

    /// Fire EXCEPTION_HANDLED: `exception` is caught.
    ///
    /// ```
    /// use pymonitoring::api::{Event, ObjectRef, Scope};
    /// let scope = Scope::new(&[Event::ExceptionHandled]);
    /// scope.enter();
    /// scope.slot(0).fire_exception_handled(ObjectRef::from_addr(8).unwrap(), 0, ObjectRef::from_addr(9).unwrap())?;
    /// # Ok::<(), pymonitoring::api::Pending>(())
    /// ```
    pub fn fire_exception_handled(
        &self,
        code: ObjectRef,
        offset: u32,
        exception: ObjectRef,
    ) -> Result<(), Pending> {
        self.exception(Event::ExceptionHandled, code, offset, exception)
    }

    /// Fire C_RAISE: a C function called at `offset` raised `exception`.
    ///
    /// ```
    /// use pymonitoring::api::{Event, ObjectRef, Scope};
    /// let scope = Scope::new(&[Event::CRaise]);
    /// scope.enter();
    /// scope.slot(0).fire_c_raise(ObjectRef::from_addr(8).unwrap(), 0, ObjectRef::from_addr(9).unwrap())?;
    /// # Ok::<(), pymonitoring::api::Pending>(())
    /// ```
    pub fn fire_c_raise(
        &self,
        code: ObjectRef,
        offset: u32,
        exception: ObjectRef,
    ) -> Result<(), Pending> {
        self.exception(Event::CRaise, code, offset, exception)
    }

    /// Fire PY_UNWIND: `code` exits because of `exception`.
    ///
    /// ```
    /// use pymonitoring::api::{Event, ObjectRef, Scope};
    /// let scope = Scope::new(&[Event::PyUnwind]);
    /// scope.enter();
    /// scope.slot(0).fire_py_unwind(ObjectRef::from_addr(8).unwrap(), 0, ObjectRef::from_addr(9).unwrap())?;
    /// # Ok::<(), pymonitoring::api::Pending>(())
    /// ```
    pub fn fire_py_unwind(
        &self,
        code: ObjectRef,
        offset: u32,
        exception: ObjectRef,
    ) -> Result<(), Pending> {
        self.exception(Event::PyUnwind, code, offset, exception)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::registry_lock;
    use std::sync::Mutex;

    fn obj(i: usize) -> ObjectRef {
        ObjectRef::from_addr(0x1000 + i).unwrap()
    }

    #[test]
    fn dropping_a_tool_releases_its_id_events_and_callbacks() {
        let _g = registry_lock();
        let tool = Tool::claim(3, "t").unwrap();
        tool.set_events(EventSet::LINE).unwrap();
        tool.on(Event::Line, |_| Action::Continue).unwrap();
        assert_eq!(tool_name(3).unwrap().as_deref(), Some("t"));
        let v = version();
        drop(tool);
        assert_eq!(tool_name(3).unwrap(), None);
        assert_eq!(registry::get_events(3).unwrap(), EventSet::empty());
        assert!(registry::get_callback(3, Event::Line.id().into())
            .unwrap()
            .is_none());
        assert!(version() > v, "freeing a tool in use bumps the version");
        // The id can be claimed again at once.
        let again = Tool::claim(3, "u").unwrap();
        assert_eq!(again.id(), 3);
    }

    #[test]
    fn a_stale_handle_leaves_a_new_claim_alone() {
        let _g = registry_lock();
        let stale = Tool::claim(4, "old").unwrap();
        registry::free_tool_id(4).unwrap(); // as C's PyMonitoring_FreeToolId
        registry::use_tool_id(4, "new").unwrap();
        assert!(stale.set_events(EventSet::LINE).is_err());
        assert_eq!(stale.name(), None);
        drop(stale);
        assert_eq!(tool_name(4).unwrap().as_deref(), Some("new"));
    }

    #[test]
    fn fire_reports_callback_failures_and_keeps_the_indicator() {
        let _g = registry_lock();
        let tool = Tool::claim(2, "t").unwrap();
        tool.on(Event::PyStart, |_| Action::Fail(Error::runtime("boom")))
            .unwrap();
        tool.on(Event::Raise, |_| Action::Raise(obj(7))).unwrap();
        tool.set_events(EventSet::PY_START | EventSet::RAISE)
            .unwrap();
        let scope = Scope::new(&[Event::PyStart, Event::Raise]);
        scope.enter();
        error::set(Error::value("host's own"));
        let err = scope.slot(0).fire_py_start(obj(1), 0).unwrap_err();
        assert_eq!(err, Pending::Error(Error::runtime("boom")));
        let err = scope.slot(1).fire_raise(obj(1), 0, obj(2)).unwrap_err();
        assert_eq!(err, Pending::Host(obj(7)));
        assert_eq!(
            error::take(),
            Some(Pending::Error(Error::value("host's own")))
        );
    }

    #[test]
    fn disable_clears_the_slot_until_the_next_refresh() {
        let _g = registry_lock();
        let hits = Arc::new(Mutex::new(0));
        let tool = Tool::claim(1, "cov").unwrap();
        let h = hits.clone();
        tool.on(Event::Line, move |_| {
            *h.lock().unwrap() += 1;
            Action::Disable
        })
        .unwrap();
        tool.set_events(EventSet::LINE).unwrap();
        let scope = Scope::new(&[Event::Line]);
        scope.enter();
        for line in 1..5 {
            scope.slot(0).fire_line(obj(1), line, line).unwrap();
        }
        assert_eq!(*hits.lock().unwrap(), 1);
        assert!(!scope.slot(0).is_active());
        scope.enter();
        assert!(!scope.slot(0).is_active(), "same version: no refresh");
        restart_events();
        scope.enter();
        scope.slot(0).fire_line(obj(1), 1, 1).unwrap();
        assert_eq!(*hits.lock().unwrap(), 2);
    }

    #[test]
    fn misuse_is_an_error_not_a_delivery() {
        let _g = registry_lock();
        let tool = Tool::claim(0, "t").unwrap();
        let seen = Arc::new(Mutex::new(0));
        let s = seen.clone();
        tool.on(Event::PyStart, move |_| {
            *s.lock().unwrap() += 1;
            Action::Continue
        })
        .unwrap();
        tool.set_events(EventSet::PY_START | EventSet::LINE)
            .unwrap();
        let scope = Scope::new(&[Event::PyStart, Event::Line]);
        scope.enter();
        let e = scope.slot(1).fire_py_start(obj(1), 0).unwrap_err();
        assert_eq!(
            e,
            Pending::Error(Error::value("this slot is for LINE, not PY_START"))
        );
        let e = scope.slot(0).fire_py_start(obj(1), u32::MAX).unwrap_err();
        assert_eq!(
            e,
            Pending::Error(Error::value(
                "offset 4294967295 is too large (must be at most 2147483647)"
            ))
        );
        assert_eq!(*seen.lock().unwrap(), 0);
        assert!(!error::occurred());
    }
}
