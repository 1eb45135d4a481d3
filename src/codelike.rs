//! Local events and armed sites for code-likes (`docs/EXTENSIONS.md`).
//!
//! Two per-code-like settings that CPython's C API cannot express:
//!
//! * **local events**: `set_local_events(tool, codelike, set)`, as
//!   `sys.monitoring.set_local_events` for code objects. A scope entered
//!   with [`enter_code_scope`] gives each slot the tools of its event
//!   globally OR the code-like's local tools for it.
//! * **armed sites**: [`arm_sites`] restricts a tool's LOCAL events fired
//!   with one code-like to chosen offsets (or LINE events to chosen line
//!   numbers); other sites are skipped for that tool without a callback.
//!
//! A code-like is an opaque identity ([`ObjectRef`]), never dereferenced.
//! Both settings live in one immutable [`Snapshot`] (a map from code-like
//! to [`Entry`]) that writers replace under the registry's mutex. The map
//! is a persistent trie, so a changed copy shares all but one path with the
//! old one: a change costs O(log entries). Readers (scope refreshes and
//! fires at armed code-likes) use a per-thread copy validated by the
//! snapshot's version, like the callback table in `dispatch`: no lock
//! unless the thread's copy is stale (the first read on a thread after a
//! change takes the mutex once to fetch the new snapshot).
//!
//! Bounds: at most [`MAX_CODELIKES`] code-likes hold local events or
//! arming at once, and an arming holds at most [`MAX_SITES`] sites; going
//! over is a ValueError that changes nothing.

use std::cell::Cell;
use std::sync::Arc;

use crate::dispatch::FireRecord;
use crate::error::Error;
use crate::event::{Event, EventSet};
use crate::object::ObjectRef;
use crate::registry::{self, check_tool, MAX_USER_TOOL};
use crate::scope::{self, SlotState};
use crate::sync::{AtomicBool, AtomicU64, AtomicU8, Ordering};

/// The most code-likes that may hold local events or arming at once.
pub const MAX_CODELIKES: usize = 1 << 16;
/// The most sites one (tool, code-like) arming may hold.
pub const MAX_SITES: usize = 1 << 20;

const USER_TOOLS: usize = MAX_USER_TOOL as usize + 1;

/// What the sites of an arming are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArmKind {
    /// Instruction offsets: every local event is filtered by its offset.
    Offsets,
    /// Line numbers: LINE events are filtered by their line number; the
    /// other local events pass.
    Lines,
}

/// One (tool, code-like)'s armed sites: sorted, without duplicates.
#[derive(Debug, PartialEq, Eq)]
pub struct Arming {
    kind: ArmKind,
    sites: Box<[i32]>,
}

impl Arming {
    /// Whether an event fired at this site reaches the armed tool.
    #[inline]
    fn allows(&self, record: &FireRecord) -> bool {
        match self.kind {
            ArmKind::Offsets => self.sites.binary_search(&record.offset).is_ok(),
            ArmKind::Lines => {
                record.event != Event::Line || self.sites.binary_search(&record.lineno).is_ok()
            }
        }
    }

    /// The kind of sites.
    pub fn kind(&self) -> ArmKind {
        self.kind
    }

    /// The armed sites, sorted and without duplicates.
    pub fn sites(&self) -> &[i32] {
        &self.sites
    }
}

/// One code-like's settings.
#[derive(Clone, Debug, Default)]
pub struct Entry {
    /// Each user tool's local events (normalised: no C_RETURN/C_RAISE, no
    /// legacy BRANCH bit).
    events: [EventSet; USER_TOOLS],
    /// For each slot event id, the tools whose local events include the
    /// slot's source event (C_RETURN/C_RAISE: CALL; BRANCH: BRANCH_RIGHT).
    masks: [u8; Event::COUNT],
    /// Each user tool's arming.
    armed: [Option<Arc<Arming>>; USER_TOOLS],
    /// Bit t: `armed[t]` is set.
    armed_tools: u8,
}

impl Entry {
    fn is_empty(&self) -> bool {
        !self.has_local() && self.armed.iter().all(Option::is_none)
    }

    fn has_local(&self) -> bool {
        self.events.iter().any(|e| !e.is_empty())
    }

    fn recompute_armed_tools(&mut self) {
        self.armed_tools = (0..USER_TOOLS)
            .filter(|&t| self.armed[t].is_some())
            .fold(0u8, |acc, t| acc | (1 << t));
    }

    fn recompute_masks(&mut self) {
        for event in Event::ALL {
            let source = event.scope_source();
            self.masks[event as usize] = (0..USER_TOOLS)
                .filter(|&t| self.events[t].has(source))
                .fold(0u8, |acc, t| acc | (1 << t));
        }
    }
}

type Map = trie::Trie<Arc<Entry>>;

/// Up to this many armed code-likes the fire path finds an arming by a
/// binary search of a sorted array (cheaper than a trie walk for a few);
/// above, in the trie of armed entries.
const SMALL_ARMED: usize = 64;

/// Every code-like's settings, immutable once published.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    map: Map,
    /// The entries with some arming.
    armed_map: Map,
    /// The entries of `armed_map` sorted by code-like while there are at
    /// most [`SMALL_ARMED`] of them, else empty: what the fire path
    /// searches first.
    armed: Vec<(ObjectRef, Arc<Entry>)>,
    /// How many entries have local events.
    local: usize,
}

impl Snapshot {
    fn get(&self, codelike: ObjectRef) -> Option<&Entry> {
        self.map.get(codelike).map(|e| &**e)
    }

    #[inline]
    fn get_armed(&self, codelike: ObjectRef) -> Option<&Entry> {
        match self.armed.binary_search_by(|(c, _)| c.cmp(&codelike)) {
            Ok(i) => Some(&self.armed[i].1),
            Err(_) if self.armed.is_empty() => self.get_armed_large(codelike),
            Err(_) => None,
        }
    }

    /// [`Snapshot::get_armed`] with more than [`SMALL_ARMED`] armed.
    #[cold]
    #[inline(never)]
    fn get_armed_large(&self, codelike: ObjectRef) -> Option<&Entry> {
        self.armed_map.get(codelike).map(|e| &**e)
    }

    /// Put `codelike`'s new entry (`None`: it has nothing left) in place of
    /// `old`, keeping the counts and the armed index: O(log entries), plus
    /// O([`SMALL_ARMED`]) when the arming changed.
    fn replace(&mut self, codelike: ObjectRef, old: Option<&Entry>, new: Option<Arc<Entry>>) {
        let was_armed = old.is_some_and(|e| e.armed_tools != 0);
        let now_armed = new.as_ref().is_some_and(|e| e.armed_tools != 0);
        self.local -= usize::from(old.is_some_and(Entry::has_local));
        self.local += usize::from(new.as_ref().is_some_and(|e| e.has_local()));
        if now_armed {
            self.armed_map
                .insert(codelike, Arc::clone(new.as_ref().expect("armed")));
        } else if was_armed {
            self.armed_map.remove(codelike);
        }
        match new {
            Some(e) => self.map.insert(codelike, e),
            None => self.map.remove(codelike),
        };
        if was_armed || now_armed {
            self.index_armed();
        }
    }

    /// Rebuild [`Snapshot::armed`] after `armed_map` changed.
    fn index_armed(&mut self) {
        self.armed.clear();
        if self.armed_map.len() <= SMALL_ARMED {
            let armed = &mut self.armed;
            self.armed_map
                .for_each(|c, e| armed.push((c, Arc::clone(e))));
            self.armed.sort_unstable_by_key(|(c, _)| *c);
        }
    }

    fn any_local(&self) -> bool {
        self.local > 0
    }

    pub(crate) fn any_armed(&self) -> bool {
        !self.armed_map.is_empty()
    }
}

/// The writers' side, kept in the registry's locked state.
#[derive(Default)]
pub(crate) struct Tables {
    current: Option<Arc<Snapshot>>,
}

impl Tables {
    /// No code-like has anything.
    pub(crate) const fn new() -> Tables {
        Tables { current: None }
    }

    pub(crate) fn current(&self) -> Option<Arc<Snapshot>> {
        self.current.clone()
    }

    /// Edit `codelike`'s entry on a copy of the snapshot; returns whether
    /// anything changed (the copy replaces the current snapshot only then).
    fn edit(
        &mut self,
        codelike: ObjectRef,
        edit: impl FnOnce(&mut Entry) -> Result<bool, Error>,
    ) -> Result<bool, Error> {
        let old = self.current.as_deref().and_then(|s| s.get(codelike));
        let mut entry = old.cloned().unwrap_or_default();
        if !edit(&mut entry)? {
            return Ok(false);
        }
        entry.recompute_armed_tools();
        let count = self.current.as_ref().map_or(0, |s| s.map.len());
        if old.is_none() && count >= MAX_CODELIKES {
            return Err(Error::value(format!(
                "too many code-likes with local events or armed sites (the limit is {MAX_CODELIKES})"
            )));
        }
        let mut snap = self.current.as_deref().cloned().unwrap_or_default();
        let old = old.cloned();
        let new = (!entry.is_empty()).then(|| Arc::new(entry));
        snap.replace(codelike, old.as_ref(), new);
        self.current = Some(Arc::new(snap));
        Ok(true)
    }

    /// Drop everything of `tool` (it is cleared or freed). Returns whether
    /// anything changed.
    pub(crate) fn drop_tool(&mut self, tool: u8) -> bool {
        let t = usize::from(tool);
        let Some(cur) = self.current.as_deref() else {
            return false;
        };
        let mut uses = false;
        cur.map
            .for_each(|_, e| uses |= !e.events[t].is_empty() || e.armed[t].is_some());
        if !uses {
            return false;
        }
        let mut snap = cur.clone();
        let mut changed = Vec::new();
        cur.map.for_each(|code, e| {
            if !e.events[t].is_empty() || e.armed[t].is_some() {
                changed.push((code, Arc::clone(e)));
            }
        });
        for (code, e) in changed {
            let mut new = Entry::clone(&e);
            new.events[t] = EventSet::empty();
            new.armed[t] = None;
            new.recompute_masks();
            new.recompute_armed_tools();
            let new = (!new.is_empty()).then(|| Arc::new(new));
            snap.replace(code, Some(&e), new);
        }
        self.current = Some(Arc::new(snap));
        true
    }
}

/// What readers see without the lock; part of the registry.
pub(crate) struct Shared {
    /// Bumped (Release, under the registry's mutex) when the snapshot is
    /// replaced.
    version: AtomicU64,
    /// Whether any (tool, code-like) is armed: the fire path's gate.
    armed: AtomicBool,
    /// Whether any code-like has local events: the scope refresh's gate.
    local: AtomicBool,
    /// For each slot event id, the tools whose local events may enter a
    /// slot: all of them normally; with `ACTIVE_NEEDS_CALLBACK`, those with
    /// a callback for the slot's delivered event. Written by the registry
    /// with its scope masks.
    filter: [AtomicU8; Event::COUNT],
}

impl Shared {
    /// Nothing published yet.
    #[cfg(not(loom))]
    pub(crate) const fn new() -> Shared {
        Shared {
            version: AtomicU64::new(0),
            armed: AtomicBool::new(false),
            local: AtomicBool::new(false),
            filter: [const { AtomicU8::new(0xff) }; Event::COUNT],
        }
    }

    /// Nothing published yet.
    #[cfg(loom)]
    pub(crate) fn new() -> Shared {
        Shared {
            version: AtomicU64::new(0),
            armed: AtomicBool::new(false),
            local: AtomicBool::new(false),
            filter: std::array::from_fn(|_| AtomicU8::new(0xff)),
        }
    }

    /// Publish the writers' current snapshot (called under the registry's
    /// mutex after a change).
    pub(crate) fn publish(&self, tables: &Tables) {
        let snap = tables.current.as_deref();
        self.armed
            .store(snap.is_some_and(Snapshot::any_armed), Ordering::Relaxed);
        self.local
            .store(snap.is_some_and(Snapshot::any_local), Ordering::Relaxed);
        self.version.fetch_add(1, Ordering::Release);
    }

    /// Store the local-events filter of slot event `event`; returns whether
    /// it changed.
    pub(crate) fn store_filter(&self, event: Event, mask: u8) -> bool {
        let cell = &self.filter[event as usize];
        let changed = cell.load(Ordering::Relaxed) != mask;
        cell.store(mask, Ordering::Relaxed);
        changed
    }

    /// Whether any code-like has local events (read under the registry's
    /// mutex by writers).
    pub(crate) fn has_local(&self) -> bool {
        self.local.load(Ordering::Relaxed)
    }

    /// The snapshot's version (Acquire: the gates stored before it are
    /// visible).
    pub(crate) fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }
}

/// Whether any (tool, code-like) is armed (for tests; the dispatch learns
/// it from the callback table it holds).
#[cfg(test)]
pub(crate) fn any_armed() -> bool {
    registry::global().codelikes().armed.load(Ordering::Relaxed)
}

/// Run `f` on the current snapshot through this thread's copy (kept in
/// the thread's state, given back at thread exit): no lock unless the copy
/// is stale. `f` must not call back into user code.
#[inline]
fn with_snapshot<R>(f: impl FnOnce(Option<&Snapshot>) -> R) -> R {
    let reg = registry::global();
    let current = reg.codelikes().version();
    crate::thread::with(|t| t.with_codelikes(current, || reg.codelikes_snapshot(), f))
}

impl Snapshot {
    /// The tools of `tools` that get the event of `record`: an armed
    /// (tool, code-like) passes local events only at its armed sites.
    /// Called by the dispatch (after it announced itself) with the arming
    /// its thread's callback table carries while anything is armed.
    #[inline(never)]
    pub(crate) fn filter_armed(&self, tools: u8, record: &FireRecord) -> u8 {
        if !record.event.is_local() {
            return tools;
        }
        let Some(entry) = self.get_armed(record.codelike) else {
            return tools;
        };
        let mut keep = tools;
        let mut armed = tools & entry.armed_tools;
        while armed != 0 {
            let t = armed.trailing_zeros() as usize;
            armed &= armed - 1;
            if entry.armed[t].as_deref().is_some_and(|a| !a.allows(record)) {
                keep &= !(1 << t);
            }
        }
        keep
    }
}

/// Validate a raw local event set as CPython 3.14's
/// `sys.monitoring.set_local_events` does: C_RETURN/C_RAISE only together
/// with CALL (then dropped: they ride on CALL), the legacy BRANCH becomes
/// BRANCH_LEFT|BRANCH_RIGHT, and what is left must be local events (ids
/// 0–10), else `invalid local event set 0x%x` (of what is left).
pub fn normalize_local(raw: u32) -> Result<EventSet, Error> {
    let c_events = (EventSet::C_RETURN | EventSet::C_RAISE).bits();
    if raw & c_events != 0
        && raw & (c_events | EventSet::CALL.bits()) != c_events | EventSet::CALL.bits()
    {
        return Err(Error::value(
            "cannot set C_RETURN or C_RAISE events independently",
        ));
    }
    let mut set = raw & !c_events;
    if set & EventSet::BRANCH.bits() != 0 {
        set &= !EventSet::BRANCH.bits();
        set |= (EventSet::BRANCH_LEFT | EventSet::BRANCH_RIGHT).bits();
    }
    if set >= 1 << Event::LOCAL_COUNT {
        return Err(Error::value(format!("invalid local event set 0x{set:x}")));
    }
    Ok(EventSet::from_bits_retain(set))
}

/// Set `tool`'s local events for `codelike` (validated as
/// [`normalize_local`]; an empty set removes them). A change moves the
/// global version, so scopes entered with [`enter_code_scope`] refresh; the
/// same set again changes nothing.
pub fn set_local_events(tool: i64, codelike: ObjectRef, raw: u32) -> Result<(), Error> {
    let tool = check_tool(tool)?;
    let set = normalize_local(raw)?;
    registry::global().edit_codelikes(tool, true, |tables| {
        tables.edit(codelike, |e| {
            if e.events[usize::from(tool)] == set {
                return Ok(false);
            }
            e.events[usize::from(tool)] = set;
            e.recompute_masks();
            Ok(true)
        })
    })
}

/// `tool`'s local events for `codelike` (empty when none, also for a free
/// tool).
pub fn get_local_events(tool: i64, codelike: ObjectRef) -> Result<EventSet, Error> {
    let tool = check_tool(tool)?;
    let snap = registry::global().codelikes_snapshot().1;
    Ok(snap
        .as_deref()
        .and_then(|s| s.get(codelike))
        .map_or(EventSet::empty(), |e| e.events[usize::from(tool)]))
}

/// Arm `tool` at `codelike` for `sites` (replacing any arming of that
/// pair): from now on `tool`'s local events fired with `codelike` reach it
/// only at those sites (see [`ArmKind`]). An empty `sites` skips every
/// local event of that pair. Sites must be non-negative; at most
/// [`MAX_SITES`]. The global version does not move (arming changes no
/// scope mask).
pub fn arm_sites(
    tool: i64,
    codelike: ObjectRef,
    kind: ArmKind,
    sites: &[i32],
) -> Result<(), Error> {
    let tool = check_tool(tool)?;
    if sites.len() > MAX_SITES {
        return Err(Error::value(format!(
            "too many sites ({}; the limit is {MAX_SITES})",
            sites.len()
        )));
    }
    if let Some(i) = sites.iter().position(|&s| s < 0) {
        return Err(Error::value(format!(
            "invalid site {} at sites[{i}] (must be non-negative)",
            sites[i]
        )));
    }
    let mut sorted = sites.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let arming = Arming {
        kind,
        sites: sorted.into_boxed_slice(),
    };
    registry::global().edit_codelikes(tool, false, |tables| {
        tables.edit(codelike, |e| {
            let slot = &mut e.armed[usize::from(tool)];
            if slot.as_deref() == Some(&arming) {
                return Ok(false);
            }
            *slot = Some(Arc::new(arming));
            Ok(true)
        })
    })
}

/// Remove `tool`'s arming at `codelike` (nothing to remove is no error).
pub fn disarm_sites(tool: i64, codelike: ObjectRef) -> Result<(), Error> {
    let tool = check_tool(tool)?;
    registry::global().edit_codelikes(tool, false, |tables| {
        tables.edit(codelike, |e| {
            Ok(e.armed[usize::from(tool)].take().is_some())
        })
    })
}

/// `tool`'s arming at `codelike`, if any.
pub fn armed_sites(tool: i64, codelike: ObjectRef) -> Result<Option<Arc<Arming>>, Error> {
    let tool = check_tool(tool)?;
    let snap = registry::global().codelikes_snapshot().1;
    Ok(snap
        .as_deref()
        .and_then(|s| s.get(codelike))
        .and_then(|e| e.armed[usize::from(tool)].clone()))
}

/// [`scope::enter_scope`] for a scope of one code-like: when `version` is
/// current nothing is read or written; otherwise each slot gets the tools
/// of its event globally OR `codelike`'s local tools for it (with
/// `ACTIVE_NEEDS_CALLBACK`, only tools with a callback for the slot's
/// delivered event), and `version` is updated. A state array (with its
/// version word) must always be entered with the same code-like.
#[inline]
pub fn enter_code_scope(
    states: &[SlotState],
    version: &Cell<u64>,
    event_types: &[u8],
    codelike: ObjectRef,
) -> Result<(), Error> {
    if version.get() == registry::version_relaxed() {
        return Ok(());
    }
    refresh_code_scope(states, version, event_types, codelike)
}

/// The refresh half of [`enter_code_scope`].
#[cold]
#[inline(never)]
pub fn refresh_code_scope(
    states: &[SlotState],
    version: &Cell<u64>,
    event_types: &[u8],
    codelike: ObjectRef,
) -> Result<(), Error> {
    // Validates every id (nothing written on error), reads the global
    // version (Acquire) before the masks, fills the global masks and stores
    // the version. The local settings are read after that version, so a
    // change published later leaves the stored version stale and the next
    // entry refreshes again.
    let shared = registry::global().codelikes();
    // Issue 7 (per-tool restart, lasting DISABLE): once that gate is open the
    // refresh keeps DISABLEs the same way for the merged masks.
    if registry::global().restarts.gate() {
        scope::check_ids(event_types)?;
        let current = registry::version();
        let mut local = [0u8; Event::COUNT];
        if shared.local.load(Ordering::Relaxed) {
            with_snapshot(|snap| {
                if let Some(entry) = snap.and_then(|s| s.get(codelike)) {
                    for (id, l) in local.iter_mut().enumerate() {
                        *l = entry.masks[id] & shared.filter[id].load(Ordering::Relaxed);
                    }
                }
            });
        }
        crate::lasting::refresh(states, version, event_types, current, |id| {
            local.get(usize::from(id)).copied().unwrap_or(0)
        });
        return Ok(());
    }
    scope::refresh(states, version, event_types)?;
    if !shared.local.load(Ordering::Relaxed) {
        return Ok(());
    }
    with_snapshot(|snap| {
        let Some(entry) = snap.and_then(|s| s.get(codelike)) else {
            return;
        };
        for (slot, &id) in states.iter().zip(event_types) {
            let id = usize::from(id);
            let extra = entry.masks[id] & shared.filter[id].load(Ordering::Relaxed);
            slot.active.set(slot.active.get() | extra);
        }
    });
    Ok(())
}

/// The event a slot of `event` delivers, whose callback
/// `ACTIVE_NEEDS_CALLBACK` asks for: the legacy BRANCH delivers
/// BRANCH_RIGHT; every other slot its own event.
pub const fn delivered(event: Event) -> Event {
    match event {
        Event::Branch => Event::BranchRight,
        other => other,
    }
}

#[cfg(test)]
mod tests;
mod trie;
