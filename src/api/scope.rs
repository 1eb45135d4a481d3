//! Scopes and their slots: the state arrays of the safe API.

use std::cell::Cell;

use super::{Error, Event, ObjectRef, Pending};
use crate::dispatch::Firing;
use crate::error::{self, ErrorSet};
use crate::scope::{self, SlotState};

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
///
/// The exception events take the exception, which callbacks get as `arg0`:
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
#[derive(Clone, Copy, Debug)]
pub struct Slot<'a> {
    state: &'a SlotState,
    event: Event,
}

pub(super) fn fits(what: &str, value: u32) -> Result<i32, Pending> {
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

    pub(super) fn fire(
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

    pub(super) fn simple(&self, event: Event, code: ObjectRef, offset: u32) -> Result<(), Pending> {
        self.fire(Firing::new(event, code, 0), offset, None)
    }

    pub(super) fn with_arg(
        &self,
        event: Event,
        code: ObjectRef,
        offset: u32,
        arg: Option<ObjectRef>,
    ) -> Result<(), Pending> {
        self.fire(Firing::new(event, code, 0).with_arg(arg), offset, None)
    }

    pub(super) fn exception(
        &self,
        event: Event,
        code: ObjectRef,
        offset: u32,
        exception: ObjectRef,
    ) -> Result<(), Pending> {
        self.fire(Firing::new(event, code, 0), offset, Some(exception))
    }
}
