//! The code-likes' tables (`docs/EXTENSIONS.md`, "Local events for
//! code-likes" and "Armed sites"): the immutable [`Snapshot`] readers use,
//! the writers' [`Tables`] and the gates readers check ([`Shared`]). A leaf
//! the registry holds and the per-thread state caches; the operations on
//! them are `crate::ext::codelike`.

use std::sync::Arc;

use crate::event::{Event, EventSet};
use crate::ext::trie;
use crate::failure::Error;
use crate::object::ObjectRef;
use crate::record::FireRecord;
use crate::sync::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use crate::tool::MAX_USER_TOOL;

/// The most code-likes that may hold local events or arming at once.
pub const MAX_CODELIKES: usize = 1 << 16;
/// The most sites one (tool, code-like) arming may hold.
pub const MAX_SITES: usize = 1 << 20;

pub(crate) const USER_TOOLS: usize = MAX_USER_TOOL as usize + 1;

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
    pub(crate) kind: ArmKind,
    pub(crate) sites: Box<[i32]>,
}

impl Arming {
    /// Whether an event fired at this site reaches the armed tool.
    #[inline]
    pub(crate) fn allows(&self, record: &FireRecord) -> bool {
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
    pub(crate) events: [EventSet; USER_TOOLS],
    /// For each slot event id, the tools whose local events include the
    /// slot's source event (C_RETURN/C_RAISE: CALL; BRANCH: BRANCH_RIGHT).
    pub(crate) masks: [u8; Event::COUNT],
    /// Each user tool's arming.
    pub(crate) armed: [Option<Arc<Arming>>; USER_TOOLS],
    /// Bit t: `armed[t]` is set.
    pub(crate) armed_tools: u8,
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

    pub(crate) fn recompute_masks(&mut self) {
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
pub(crate) const SMALL_ARMED: usize = 64;

/// Every code-like's settings, immutable once published.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub(crate) map: Map,
    /// The entries with some arming.
    pub(crate) armed_map: Map,
    /// The entries of `armed_map` sorted by code-like while there are at
    /// most [`SMALL_ARMED`] of them, else empty: what the fire path
    /// searches first.
    pub(crate) armed: Vec<(ObjectRef, Arc<Entry>)>,
    /// How many entries have local events.
    pub(crate) local: usize,
}

impl Snapshot {
    #[inline]
    pub(crate) fn get(&self, codelike: ObjectRef) -> Option<&Entry> {
        self.map.get(codelike).map(|e| &**e)
    }

    #[inline]
    pub(crate) fn get_armed(&self, codelike: ObjectRef) -> Option<&Entry> {
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
    pub(crate) fn replace(
        &mut self,
        codelike: ObjectRef,
        old: Option<&Entry>,
        new: Option<Arc<Entry>>,
    ) {
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
    pub(crate) current: Option<Arc<Snapshot>>,
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
    pub(crate) fn edit(
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
    pub(crate) version: AtomicU64,
    /// Whether any (tool, code-like) is armed: the fire path's gate.
    pub(crate) armed: AtomicBool,
    /// Whether any code-like has local events: the scope refresh's gate.
    pub(crate) local: AtomicBool,
    /// For each slot event id, the tools whose local events may enter a
    /// slot: all of them normally; with `ACTIVE_NEEDS_CALLBACK`, those with
    /// a callback for the slot's delivered event. Written by the registry
    /// with its scope masks.
    pub(crate) filter: [AtomicU8; Event::COUNT],
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
    #[inline]
    pub(crate) fn has_local(&self) -> bool {
        self.local.load(Ordering::Relaxed)
    }

    /// The snapshot's version (Acquire: the gates stored before it are
    /// visible).
    #[inline]
    pub(crate) fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }
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

/// The event a slot of `event` delivers, whose callback
/// `ACTIVE_NEEDS_CALLBACK` asks for: the legacy BRANCH delivers
/// BRANCH_RIGHT; every other slot its own event.
pub const fn delivered(event: Event) -> Event {
    match event {
        Event::Branch => Event::BranchRight,
        other => other,
    }
}
