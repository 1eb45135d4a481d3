//! Tools: claiming an id, callbacks, events, and the registry-wide calls.

use std::sync::Arc;

use super::{Action, Closure, Error, Event, EventRecord, EventSet};
use crate::registry::{self, Handler};

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
