//! The process-wide tool registry: the twin of `sys.monitoring`.
//!
//! Writers are serialised by one mutex. Readers on hot paths never lock:
//! scopes read `VERSION` and the per-event tool masks, dispatch reads the
//! callback table through a per-thread copy validated by `CALLBACKS_VERSION`.
//! `docs/CONCURRENCY.md` explains the orderings.

use std::any::Any;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::dispatch::EventRecord;
use crate::error::Error;
use crate::event::{Event, EventSet};

/// Number of tool ids (bits of `PyMonitoringState::active`).
pub const TOOL_IDS: usize = 8;
/// Highest tool id users may claim; 6 and 7 are reserved as in CPython.
pub const MAX_USER_TOOL: u8 = 5;

/// What a callback asks for after an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Go on.
    Continue,
    /// Stop delivering this event here (`PY_MONITORING_DISABLE`).
    Disable,
    /// The callback failed; it should have set the thread's error.
    Error,
}

/// A callback as the registry keeps it: a C function with its data, or a
/// Rust closure.
pub trait Handler: Send + Sync + 'static {
    /// Deliver one event.
    fn call(&self, event: &EventRecord) -> Outcome;
    /// For reading a handler back as its concrete type.
    fn as_any(&self) -> &dyn Any;
}

impl std::fmt::Debug for dyn Handler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Handler")
    }
}

type Slot = Option<Arc<dyn Handler>>;

/// An immutable snapshot of every tool's callbacks. Writers replace it whole.
#[derive(Clone)]
pub struct CallbackTable {
    /// One shared row per user tool 0–5 (6 and 7 never get callbacks): a
    /// registration copies the six row pointers and the one row it edits.
    rows: [Option<Arc<Row>>; MAX_USER_TOOL as usize + 1],
}

type Row = [Slot; Event::COUNT];

impl CallbackTable {
    fn empty() -> CallbackTable {
        CallbackTable {
            rows: std::array::from_fn(|_| None),
        }
    }

    /// The callback of `tool` for `event`.
    pub fn get(&self, tool: u8, event: Event) -> Option<&Arc<dyn Handler>> {
        self.rows.get(tool as usize)?.as_deref()?[event as usize].as_ref()
    }

    /// `tool`'s row, made unique for editing (`tool` is a checked user tool).
    fn row_mut(&mut self, tool: u8) -> &mut Row {
        let row =
            self.rows[tool as usize].get_or_insert_with(|| Arc::new(std::array::from_fn(|_| None)));
        Arc::make_mut(row)
    }
}

struct Master {
    names: [Option<String>; TOOL_IDS],
    events: [EventSet; TOOL_IDS],
    callbacks: Option<Arc<CallbackTable>>,
}

static MASTER: Mutex<Master> = Mutex::new(Master {
    names: [const { None }; TOOL_IDS],
    events: [EventSet::empty(); TOOL_IDS],
    callbacks: None,
});

/// The global version: scopes refresh when their stored copy differs.
pub(crate) static VERSION: AtomicU64 = AtomicU64::new(0);
/// For each event id, the tools a scope slot of that event gets. Padded to
/// 256 entries (the extra ones stay 0) so any `u8` indexes it without a
/// bounds check or a mask.
static SCOPE_MASKS: [AtomicU8; 256] = [const { AtomicU8::new(0) }; 256];
/// Bumped (SeqCst) whenever the callback table is replaced.
static CALLBACKS_VERSION: AtomicU64 = AtomicU64::new(0);

fn master() -> MutexGuard<'static, Master> {
    // A panic while holding the lock leaves consistent data (every update is
    // a plain store), so poisoning is ignored.
    MASTER.lock().unwrap_or_else(|e| e.into_inner())
}

/// Check a tool id: 0–5, as `sys.monitoring` allows users.
pub fn check_tool(tool: i64) -> Result<u8, Error> {
    match u8::try_from(tool) {
        Ok(t) if t <= MAX_USER_TOOL => Ok(t),
        _ => Err(Error::value(format!(
            "invalid tool {tool} (must be between 0 and {MAX_USER_TOOL})"
        ))),
    }
}

fn require_in_use(m: &Master, tool: u8) -> Result<(), Error> {
    match m.names[tool as usize] {
        Some(_) => Ok(()),
        None => Err(Error::value(format!("tool {tool} is not in use"))),
    }
}

/// The current global version.
pub fn version() -> u64 {
    VERSION.load(Ordering::Acquire)
}

/// The global version, read for a scope's fast-path comparison.
#[inline(always)]
pub fn version_relaxed() -> u64 {
    VERSION.load(Ordering::Relaxed)
}

/// The tools a scope slot for `event` gets right now.
#[inline]
pub fn scope_mask(event: Event) -> u8 {
    SCOPE_MASKS[event as usize].load(Ordering::Relaxed)
}

/// The tools a scope slot for event id `id` gets right now; `id` must be a
/// valid event id (checked by the caller; other ids read 0).
#[inline(always)]
pub fn scope_mask_by_id(id: u8) -> u8 {
    SCOPE_MASKS[usize::from(id)].load(Ordering::Relaxed)
}

/// Recompute the scope masks from the tools' events and bump the version.
fn publish_masks(m: &Master) {
    for event in Event::ALL {
        let source = event.scope_source();
        let mask = (0..TOOL_IDS)
            .filter(|&t| m.events[t].has(source))
            .fold(0u8, |acc, t| acc | (1 << t));
        SCOPE_MASKS[event as usize].store(mask, Ordering::Relaxed);
    }
    VERSION.fetch_add(1, Ordering::Release);
}

/// Replace one tool's callbacks through `edit` and publish the new table.
fn edit_callbacks(m: &mut Master, edit: impl FnOnce(&mut CallbackTable)) {
    let mut table = match &m.callbacks {
        Some(t) => CallbackTable::clone(t),
        None => CallbackTable::empty(),
    };
    edit(&mut table);
    m.callbacks = Some(Arc::new(table));
    CALLBACKS_VERSION.fetch_add(1, Ordering::SeqCst);
}

/// Claim `tool` under `name`.
pub fn use_tool_id(tool: i64, name: &str) -> Result<(), Error> {
    let tool = check_tool(tool)?;
    let mut m = master();
    let slot = &mut m.names[tool as usize];
    if slot.is_some() {
        return Err(Error::value(format!("tool {tool} is already in use")));
    }
    *slot = Some(name.to_owned());
    Ok(())
}

fn clear_claimed(m: &mut Master, tool: u8) {
    m.events[tool as usize] = EventSet::empty();
    edit_callbacks(m, |t| {
        t.rows[tool as usize] = None;
    });
    publish_masks(m);
}

/// Drop `tool`'s events and callbacks, keeping the claim. A tool not in use
/// is left alone, as in CPython.
pub fn clear_tool_id(tool: i64) -> Result<(), Error> {
    let tool = check_tool(tool)?;
    let mut m = master();
    if m.names[tool as usize].is_some() {
        clear_claimed(&mut m, tool);
    }
    Ok(())
}

/// Clear `tool`, then release its claim.
pub fn free_tool_id(tool: i64) -> Result<(), Error> {
    let tool = check_tool(tool)?;
    let mut m = master();
    if m.names[tool as usize].is_some() {
        clear_claimed(&mut m, tool);
        m.names[tool as usize] = None;
    }
    Ok(())
}

/// The name `tool` was claimed under, or `None` when it is free.
pub fn tool_name(tool: i64) -> Result<Option<String>, Error> {
    let tool = check_tool(tool)?;
    Ok(master().names[tool as usize].clone())
}

/// Set `tool`'s global events (validated as [`EventSet::normalize`]).
pub fn set_events(tool: i64, raw: u32) -> Result<(), Error> {
    let tool = check_tool(tool)?;
    let set = EventSet::normalize(raw)?;
    let mut m = master();
    require_in_use(&m, tool)?;
    if m.events[tool as usize] != set {
        m.events[tool as usize] = set;
        publish_masks(&m);
    }
    Ok(())
}

/// `tool`'s global events (empty for a free tool).
pub fn get_events(tool: i64) -> Result<EventSet, Error> {
    let tool = check_tool(tool)?;
    Ok(master().events[tool as usize])
}

/// Install (or with `None` remove) `tool`'s callback for `event`; BRANCH
/// fills BRANCH_LEFT and BRANCH_RIGHT. Returns the callback it replaced.
pub fn register_callback(
    tool: i64,
    event: i64,
    handler: Option<Arc<dyn Handler>>,
) -> Result<Option<Arc<dyn Handler>>, Error> {
    let tool = check_tool(tool)?;
    let event = Event::try_from_id(event)?;
    let mut m = master();
    require_in_use(&m, tool)?;
    let mut previous = None;
    edit_callbacks(&mut m, |t| {
        for slot in event.callback_slots() {
            let cell = &mut t.row_mut(tool)[*slot as usize];
            previous = std::mem::replace(cell, handler.clone());
        }
    });
    Ok(previous)
}

/// `tool`'s callback for `event` (BRANCH reads BRANCH_RIGHT's).
pub fn get_callback(tool: i64, event: i64) -> Result<Option<Arc<dyn Handler>>, Error> {
    let tool = check_tool(tool)?;
    let event = Event::try_from_id(event)?;
    let slot = event.callback_slots().last().copied().unwrap_or(event);
    let m = master();
    Ok(m.callbacks
        .as_ref()
        .and_then(|t| t.get(tool, slot).cloned()))
}

/// Remove `tool`'s callback for `event` if it is still `handler` (a DISABLE
/// from a non-local event).
pub(crate) fn remove_callback_if_same(tool: u8, event: Event, handler: &Arc<dyn Handler>) {
    let mut m = master();
    let same = m
        .callbacks
        .as_ref()
        .and_then(|t| t.get(tool, event))
        .is_some_and(|h| Arc::ptr_eq(h, handler));
    if same {
        edit_callbacks(&mut m, |t| t.row_mut(tool)[event as usize] = None);
    }
}

/// Re-enable everything DISABLEd: every scope refreshes on its next entry.
pub fn restart_events() {
    let _m = master();
    VERSION.fetch_add(1, Ordering::Release);
}

/// The callback table's version, read after a dispatch announced itself.
#[inline(always)]
pub(crate) fn callbacks_version() -> u64 {
    CALLBACKS_VERSION.load(Ordering::SeqCst)
}

/// The current callback table and its version, read consistently.
pub(crate) fn callbacks_snapshot() -> (u64, Option<Arc<CallbackTable>>) {
    let m = master();
    (
        CALLBACKS_VERSION.load(Ordering::SeqCst),
        m.callbacks.clone(),
    )
}

/// Test-only: put the registry back to its initial state (version aside).
#[cfg(test)]
pub(crate) fn reset_for_tests() {
    let mut m = master();
    for tool in 0..TOOL_IDS as u8 {
        m.names[tool as usize] = None;
        m.events[tool as usize] = EventSet::empty();
    }
    edit_callbacks(&mut m, |t| *t = CallbackTable::empty());
    publish_masks(&m);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{registry_lock, Recorder};

    #[test]
    fn tool_ids_are_checked_like_cpython() {
        let _g = registry_lock();
        for bad in [-1, 6, 7, 8, 255, i64::from(i32::MIN)] {
            let e = use_tool_id(bad, "x").unwrap_err();
            assert_eq!(
                e.message(),
                format!("invalid tool {bad} (must be between 0 and 5)")
            );
        }
    }

    #[test]
    fn claim_clear_free_cycle() {
        let _g = registry_lock();
        use_tool_id(3, "prof").unwrap();
        assert_eq!(tool_name(3).unwrap().as_deref(), Some("prof"));
        assert_eq!(
            use_tool_id(3, "again").unwrap_err().message(),
            "tool 3 is already in use"
        );
        set_events(3, EventSet::PY_START.bits()).unwrap();
        let rec = Recorder::new();
        register_callback(3, 0, Some(rec.clone())).unwrap();
        let v = version();
        clear_tool_id(3).unwrap();
        assert!(version() > v, "clear of a tool in use bumps the version");
        assert_eq!(tool_name(3).unwrap().as_deref(), Some("prof"));
        assert_eq!(get_events(3).unwrap(), EventSet::empty());
        assert!(get_callback(3, 0).unwrap().is_none());
        let v = version();
        free_tool_id(3).unwrap();
        assert!(version() > v, "free of a tool in use bumps the version");
        assert_eq!(tool_name(3).unwrap(), None);
        let v = version();
        free_tool_id(3).unwrap();
        clear_tool_id(3).unwrap();
        assert_eq!(version(), v, "a free tool is left alone");
    }

    #[test]
    fn set_events_needs_a_claim_and_bumps_only_on_change() {
        let _g = registry_lock();
        assert_eq!(
            set_events(2, 1).unwrap_err().message(),
            "tool 2 is not in use"
        );
        use_tool_id(2, "t").unwrap();
        let v = version();
        set_events(2, EventSet::LINE.bits()).unwrap();
        assert_eq!(version(), v + 1);
        set_events(2, EventSet::LINE.bits()).unwrap();
        assert_eq!(version(), v + 1, "same mask: no bump");
        assert_eq!(scope_mask(Event::Line), 1 << 2);
        set_events(
            2,
            (EventSet::CALL | EventSet::C_RETURN | EventSet::C_RAISE).bits(),
        )
        .unwrap();
        assert_eq!(get_events(2).unwrap(), EventSet::CALL);
        assert_eq!(scope_mask(Event::CReturn), 1 << 2);
        assert_eq!(scope_mask(Event::CRaise), 1 << 2);
        assert_eq!(scope_mask(Event::Line), 0);
        set_events(2, EventSet::BRANCH.bits()).unwrap();
        assert_eq!(
            get_events(2).unwrap(),
            EventSet::BRANCH_LEFT | EventSet::BRANCH_RIGHT
        );
        assert_eq!(scope_mask(Event::Branch), 1 << 2);
        assert_eq!(
            set_events(2, 1 << 19).unwrap_err().message(),
            "invalid event set 0x80000"
        );
    }

    #[test]
    fn registering_does_not_bump_the_version() {
        let _g = registry_lock();
        use_tool_id(1, "cov").unwrap();
        let v = version();
        let rec = Recorder::new();
        assert!(register_callback(1, 5, Some(rec.clone()))
            .unwrap()
            .is_none());
        assert_eq!(version(), v);
        let got = get_callback(1, 5).unwrap().unwrap();
        assert!(Arc::ptr_eq(&got, &(rec.clone() as Arc<dyn Handler>)));
        let prev = register_callback(1, 5, None).unwrap().unwrap();
        assert!(Arc::ptr_eq(&prev, &(rec as Arc<dyn Handler>)));
        assert_eq!(
            register_callback(1, 19, None).unwrap_err().message(),
            "invalid event 19"
        );
        assert_eq!(
            register_callback(4, 0, None).unwrap_err().message(),
            "tool 4 is not in use"
        );
    }

    #[test]
    fn branch_registers_both_directions() {
        let _g = registry_lock();
        use_tool_id(0, "dbg").unwrap();
        let rec = Recorder::new();
        register_callback(0, Event::Branch as i64, Some(rec)).unwrap();
        assert!(get_callback(0, Event::BranchLeft as i64).unwrap().is_some());
        assert!(get_callback(0, Event::BranchRight as i64)
            .unwrap()
            .is_some());
        assert!(get_callback(0, Event::Branch as i64).unwrap().is_some());
        register_callback(0, Event::Branch as i64, None).unwrap();
        assert!(get_callback(0, Event::BranchLeft as i64).unwrap().is_none());
        assert!(get_callback(0, Event::BranchRight as i64)
            .unwrap()
            .is_none());
    }

    #[test]
    fn restart_bumps() {
        let _g = registry_lock();
        let v = version();
        restart_events();
        assert_eq!(version(), v + 1);
    }
}
