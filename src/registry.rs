//! The process-wide tool registry: the twin of `sys.monitoring`.
//!
//! Writers are serialised by one mutex. Readers on hot paths never lock:
//! scopes read the global version and the per-event tool masks, dispatch
//! reads the callback table through a per-thread copy validated by the
//! callback table's version. `docs/CONCURRENCY.md` explains the orderings.
//!
//! All shared state is one `Registry`; the process has one instance, and
//! the free functions below work on it. The loom models
//! (`src/loom_tests.rs`) build their own instances to run the same code.

use std::any::Any;
use std::sync::Arc;

use crate::event::{Event, EventSet};
use crate::failure::Error;
use crate::record::{EventRecord, FireRecord};
use crate::sync::{AtomicU32, AtomicU64, AtomicU8, Mutex, MutexGuard, Ordering};

pub use crate::tool::{MAX_USER_TOOL, TOOL_IDS};
/// Words of [`scope_mask_word`]: 8 event ids a word.
pub const MASK_WORDS: usize = Event::COUNT.div_ceil(8);
const _: () = assert!(MASK_WORDS == 3);

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
    /// Deliver one event as the dispatch carries it (what the dispatch
    /// calls). The default hands [`Handler::call`] the
    /// [`FireRecord::to_event_record`] view; C callbacks take the record as
    /// it is.
    #[inline]
    fn call_fire(&self, record: &FireRecord) -> Outcome {
        self.call(&record.to_event_record())
    }
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
    /// One shared row per tool id: a registration copies the row pointers
    /// and the one row it edits. Tools 6 and 7 never get callbacks; their
    /// rows stay empty so that any tool bit indexes without a bounds check.
    rows: [Option<Arc<Row>>; TOOL_IDS],
    /// Armed sites: the code-likes' snapshot while anything is
    /// armed, so the dispatch sees arming with the table it already holds
    /// (no second thread-local, no extra global load while nothing is).
    armed: Option<Arc<crate::codelike_tables::Snapshot>>,
}

type Row = [Slot; Event::COUNT];

impl CallbackTable {
    fn empty() -> CallbackTable {
        CallbackTable {
            rows: std::array::from_fn(|_| None),
            armed: None,
        }
    }

    /// The arming in force, when anything is armed.
    #[inline(always)]
    pub(crate) fn armed(&self) -> Option<&crate::codelike_tables::Snapshot> {
        self.armed.as_deref()
    }

    /// The callback of `tool` for `event`.
    pub fn get(&self, tool: u8, event: Event) -> Option<&Arc<dyn Handler>> {
        self.rows.get(tool as usize)?.as_deref()?[event as usize].as_ref()
    }

    /// The callback of tool `tool & 7` for `event`: the dispatch's lookup.
    #[inline(always)]
    pub(crate) fn get_masked(&self, tool: u8, event: Event) -> Option<&Arc<dyn Handler>> {
        self.rows[usize::from(tool & 7)].as_deref()?[event as usize].as_ref()
    }

    /// `tool`'s row, made unique for editing (`tool` is a checked user tool).
    fn row_mut(&mut self, tool: u8) -> &mut Row {
        let row =
            self.rows[tool as usize].get_or_insert_with(|| Arc::new(std::array::from_fn(|_| None)));
        Arc::make_mut(row)
    }
}

/// Who is told that a movable claim ended (`Registry::with_way_made`): the
/// built-in tools, which make such claims, set it with their first claim
/// (`Registry::claim_builtin`), so the registry names no module above it.
static CLAIM_ENDED: std::sync::OnceLock<fn(u8, u64)> = std::sync::OnceLock::new();

/// What only writers (under [`Registry::master`]) touch.
struct Master {
    names: [Option<String>; TOOL_IDS],
    /// The token of each tool's current claim (see [`claim_tool_id`]).
    claims: [u64; TOOL_IDS],
    events: [EventSet; TOOL_IDS],
    callbacks: Option<Arc<CallbackTable>>,
    /// Code-likes (docs/EXTENSIONS.md): local events and armed sites, writers' side.
    codelikes: crate::codelike_tables::Tables,
    /// Claims that step aside (see [`Registry::make_way`]): the built-in
    /// tools started by environment variables without a pinned id.
    movable: [bool; TOOL_IDS],
}

/// All the registry's shared state. `repr(C)` so that `idle` is the word
/// after `version` (the header reads both through one pointer).
#[repr(C)]
pub(crate) struct Registry {
    /// The global version: scopes refresh when their stored copy differs.
    pub(crate) version: AtomicU64,
    /// The version at which no tool has an event and nothing else shapes a
    /// refresh (no option set, no per-tool restart or lasting-mode switch
    /// yet), so a refresh of `EnterScope` only zeroes `active`; [`NOT_IDLE`]
    /// otherwise. Rewritten after every change under `master` (Release);
    /// a reader takes it only when it equals the version it read, see
    /// [`Registry::idle_version`].
    idle: AtomicU64,
    /// Names, events and the current callback table; every change holds it.
    master: Mutex<Master>,
    /// For each event id, the tools a scope slot of that event gets. Padded
    /// to 256 entries (the extra ones stay 0) so any `u8` indexes it without
    /// a bounds check or a mask.
    scope_masks: [AtomicU8; 256],
    /// The same masks packed for vector code, 8 ids a word (byte `i % 8`
    /// of word `i / 8` is id `i`'s mask; ids 19-23 read 0), written with
    /// them. Not under loom: the FFI's SIMD refresh, their only reader, is
    /// compiled out there.
    #[cfg(not(loom))]
    scope_mask_words: [std::sync::atomic::AtomicU64; MASK_WORDS],
    /// Bumped (SeqCst, under `master`) whenever the callback table is
    /// replaced.
    callbacks_version: AtomicU64,
    /// Source of claim tokens; 0 is never handed out.
    next_claim: AtomicU64,
    /// The opt-in options (`crate::options`), written under `master`.
    options: AtomicU32,
    /// The longest scope the C layer refreshes without looking at the
    /// options: [`MAX_SCOPE_LEN`], or 0 while the host's event numbering is
    /// on (`crate::option_bits::CPYTHON_313_EVENT_IDS`), which then sends every
    /// refresh through its length check to the translation. One compare
    /// the refresh makes anyway, so the numbering costs other refreshes
    /// nothing.
    refresh_limit: std::sync::atomic::AtomicUsize,
    /// Code-likes (docs/EXTENSIONS.md): what readers of the local events and armed
    /// sites see (`crate::codelike`).
    codelikes: crate::codelike_tables::Shared,
    /// Lasting DISABLE and per-tool restart: what scopes need to know
    /// about restarts (`crate::lasting`).
    pub(crate) restarts: crate::restarts::Restarts,
}

const NO_TOOLS: Master = Master {
    names: [const { None }; TOOL_IDS],
    claims: [0; TOOL_IDS],
    events: [EventSet::empty(); TOOL_IDS],
    callbacks: None,
    codelikes: crate::codelike_tables::Tables::new(),
    movable: [false; TOOL_IDS],
};

impl Registry {
    /// An empty registry: no tool in use, version 0.
    #[cfg(not(loom))]
    pub(crate) const fn new() -> Registry {
        Registry {
            version: AtomicU64::new(0),
            idle: AtomicU64::new(0),
            master: Mutex::new(NO_TOOLS),
            scope_masks: [const { AtomicU8::new(0) }; 256],
            scope_mask_words: [const { std::sync::atomic::AtomicU64::new(0) }; MASK_WORDS],
            callbacks_version: AtomicU64::new(0),
            next_claim: AtomicU64::new(1),
            options: AtomicU32::new(0),
            refresh_limit: std::sync::atomic::AtomicUsize::new(MAX_SCOPE_LEN),
            codelikes: crate::codelike_tables::Shared::new(),
            restarts: crate::restarts::Restarts::new(),
        }
    }

    /// An empty registry: no tool in use, version 0.
    #[cfg(loom)]
    pub(crate) fn new() -> Registry {
        Registry {
            version: AtomicU64::new(0),
            idle: AtomicU64::new(0),
            master: Mutex::new(NO_TOOLS),
            scope_masks: std::array::from_fn(|_| AtomicU8::new(0)),
            callbacks_version: AtomicU64::new(0),
            next_claim: AtomicU64::new(1),
            options: AtomicU32::new(0),
            refresh_limit: std::sync::atomic::AtomicUsize::new(MAX_SCOPE_LEN),
            codelikes: crate::codelike_tables::Shared::new(),
            restarts: crate::restarts::Restarts::new(),
        }
    }

    fn master(&self) -> MutexGuard<'_, Master> {
        // A panic while holding the lock leaves consistent data (every update
        // is a plain store), so poisoning is ignored.
        self.master.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The global version (Acquire: the scope masks written before it are
    /// visible).
    pub(crate) fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// The global version for a scope's fast-path comparison (Relaxed: a
    /// stale read only delays a refresh, see `docs/CONCURRENCY.md`).
    #[inline(always)]
    pub(crate) fn version_relaxed(&self) -> u64 {
        self.version.load(Ordering::Relaxed)
    }

    /// The idle version word (Relaxed): equal to a version `v` read from
    /// [`Registry::version`] only when at `v` no tool had an event, no
    /// option was set and the restart gate was closed, so that storing `v`
    /// and zeroing `active` is exactly the refresh at `v` (the word is
    /// written after the version it names and never names another: an
    /// equal pair is its own proof, whatever the order of the two reads).
    /// The C entry on x86-64 loads the word itself (`ffi::scope`).
    #[cfg_attr(all(target_arch = "x86_64", not(loom), not(test)), allow(dead_code))]
    #[inline(always)]
    pub(crate) fn idle_version(&self) -> u64 {
        self.idle.load(Ordering::Relaxed)
    }

    /// Writer (under `master`, after any change): name the current version
    /// in `idle` when the registry is idle at it, else [`NOT_IDLE`]. With
    /// no option every mask comes from the tools' events, so no event set
    /// means every mask 0 (read from `m`, not the masks: no extra atomic
    /// operations for the loom models to interleave).
    fn publish_idle(&self, m: &Master) {
        let idle = self.options.load(Ordering::Relaxed) == 0
            && !self.restarts.gate()
            && m.events.iter().all(|e| e.is_empty());
        let v = self.version.load(Ordering::Relaxed);
        self.idle
            .store(if idle { v } else { NOT_IDLE }, Ordering::Release);
    }

    /// The tools a scope slot for `event` gets right now.
    pub(crate) fn scope_mask(&self, event: Event) -> u8 {
        self.scope_masks[event as usize].load(Ordering::Relaxed)
    }

    /// The tools a scope slot for event id `id` gets right now; ids of 19
    /// and more read 0 (callers check them first).
    #[inline(always)]
    pub(crate) fn scope_mask_by_id(&self, id: u8) -> u8 {
        self.scope_masks[usize::from(id)].load(Ordering::Relaxed)
    }

    /// Word `i` of the packed scope masks (see `scope_mask_words`; 0 past
    /// the last), read as [`Registry::scope_mask_by_id`] reads a byte:
    /// `Relaxed`, after the version was read with `Acquire`.
    #[cfg(not(loom))]
    #[inline(always)]
    pub(crate) fn scope_mask_word(&self, i: usize) -> u64 {
        self.scope_mask_words
            .get(i)
            .map_or(0, |w| w.load(Ordering::Relaxed))
    }

    /// Recompute the scope masks from the tools' events, then bump the
    /// version (Release, so a scope that reads the new version with Acquire
    /// sees these masks).
    fn publish_masks(&self, m: &Master) {
        self.store_masks(m);
        self.bump(m);
    }

    /// Move the global version (Release) and republish the idle word:
    /// every change ends here or in [`Registry::publish_idle`].
    fn bump(&self, m: &Master) {
        self.version.fetch_add(1, Ordering::Release);
        self.publish_idle(m);
    }

    /// Recompute the scope masks (and the code-likes' local-events filter)
    /// from the tools' events and, with `ACTIVE_NEEDS_CALLBACK`, their
    /// callbacks. Returns whether any mask changed.
    fn store_masks(&self, m: &Master) -> bool {
        let needs_callback = self.options() & crate::option_bits::ACTIVE_NEEDS_CALLBACK != 0;
        let mut changed = false;
        let mut packed = [0u8; 8 * MASK_WORDS];
        for event in Event::ALL {
            let source = event.scope_source();
            let delivered = crate::codelike_tables::delivered(event);
            let callbacks = if needs_callback {
                (0..TOOL_IDS)
                    .filter(|&t| {
                        m.callbacks
                            .as_ref()
                            .is_some_and(|c| c.get(t as u8, delivered).is_some())
                    })
                    .fold(0u8, |acc, t| acc | (1 << t))
            } else {
                0xff
            };
            let mask = (0..TOOL_IDS)
                .filter(|&t| m.events[t].has(source))
                .fold(0u8, |acc, t| acc | (1 << t))
                & callbacks;
            let cell = &self.scope_masks[event as usize];
            changed |= cell.load(Ordering::Relaxed) != mask;
            cell.store(mask, Ordering::Relaxed);
            packed[event as usize] = mask;
            // The filter matters only for slots fed by local events, and
            // only while some code-like has local events.
            changed |= self.codelikes.store_filter(event, callbacks)
                && source.is_local()
                && self.codelikes.has_local();
        }
        #[cfg(not(loom))]
        for (word, bytes) in self.scope_mask_words.iter().zip(packed.chunks_exact(8)) {
            let bytes: [u8; 8] = bytes.try_into().unwrap_or_default();
            word.store(u64::from_le_bytes(bytes), Ordering::Relaxed);
        }
        #[cfg(loom)]
        let _ = packed;
        changed
    }

    /// With `ACTIVE_NEEDS_CALLBACK`, a callback change that changes a mask
    /// moves the version (docs/EXTENSIONS.md).
    fn callbacks_changed(&self, m: &Master) {
        if self.options() & crate::option_bits::ACTIVE_NEEDS_CALLBACK != 0 && self.store_masks(m) {
            self.bump(m);
        }
    }

    /// Publish a copy of the callback table edited by `edit`: the new table
    /// replaces the old one under the lock, then the SeqCst bump of
    /// `callbacks_version` tells firing threads to take it.
    fn edit_callbacks(&self, m: &mut Master, edit: impl FnOnce(&mut CallbackTable)) {
        let mut table = match &m.callbacks {
            Some(t) => CallbackTable::clone(t),
            None => CallbackTable::empty(),
        };
        edit(&mut table);
        m.callbacks = Some(Arc::new(table));
        self.callbacks_version.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn use_tool_id(&self, tool: i64, name: &str) -> Result<(), Error> {
        self.claim_tool_id(tool, name).map(drop)
    }

    pub(crate) fn claim_tool_id(&self, tool: i64, name: &str) -> Result<u64, Error> {
        let tool = check_tool(tool)?;
        self.with_way_made(tool, |m| self.claim_free(m, tool, name, false))
    }

    fn claim_free(
        &self,
        m: &mut Master,
        tool: u8,
        name: &str,
        movable: bool,
    ) -> Result<u64, Error> {
        if m.names[tool as usize].is_some() {
            return Err(Error::value(format!("tool {tool} is already in use")));
        }
        let token = self.next_claim.fetch_add(1, Ordering::Relaxed);
        m.names[tool as usize] = Some(name.to_owned());
        m.claims[tool as usize] = token;
        m.movable[tool as usize] = movable;
        Ok(token)
    }

    /// Run `op` under the lock once `tool` is free of any movable claim,
    /// then tell the built-in tools about a claim that had to end.
    fn with_way_made<R>(&self, tool: u8, op: impl FnOnce(&mut Master) -> R) -> R {
        let (result, ended) = {
            let mut m = self.master();
            let ended = self.make_way(&mut m, tool);
            (op(&mut m), ended)
        };
        if let Some(token) = ended {
            if let Some(claim_ended) = CLAIM_ENDED.get() {
                claim_ended(tool, token);
            }
        }
        result
    }

    /// A movable claim on `tool` steps aside before anyone else's claim,
    /// change or release of `tool`: it moves, with its events and
    /// callbacks, to the highest free id; when no other id is free it ends
    /// (its token is returned). `docs/TOOLS.md`, "Tool ids".
    fn make_way(&self, m: &mut Master, tool: u8) -> Option<u64> {
        let from = usize::from(tool);
        if m.movable.get(from) != Some(&true) || m.names[from].is_none() {
            return None;
        }
        let token = m.claims[from];
        let Some(to) = (0..=MAX_USER_TOOL)
            .rev()
            .map(usize::from)
            .find(|&t| t != from && m.names[t].is_none())
        else {
            self.clear_claimed(m, tool);
            m.names[from] = None;
            m.movable[from] = false;
            return Some(token);
        };
        m.names[to] = m.names[from].take();
        m.claims[to] = token;
        m.movable[to] = true;
        m.movable[from] = false;
        m.events[to] = std::mem::replace(&mut m.events[from], EventSet::empty());
        // What the old id remembered (lasting DISABLEs, local events) does
        // not follow: the moved tool starts afresh there, as after a restart.
        self.restarts
            .tool_restarted(tool, self.version.load(Ordering::Relaxed));
        self.forget_sites(Some(tool));
        if m.codelikes.drop_tool(tool) {
            self.publish_codelikes(m);
        }
        self.edit_callbacks(m, |t| {
            t.rows[to] = t.rows[from].take();
        });
        self.publish_masks(m);
        None
    }

    /// Claim for a built-in tool: `tool`, or with `None` the highest free
    /// id; `movable` claims step aside (see [`Registry::make_way`]) and
    /// `claim_ended` is told when one had to end. Returns the id and the
    /// claim's token.
    pub(crate) fn claim_builtin(
        &self,
        tool: Option<u8>,
        name: &str,
        movable: bool,
        claim_ended: fn(u8, u64),
    ) -> Result<(u8, u64), Error> {
        let _ = CLAIM_ENDED.set(claim_ended);
        match tool {
            Some(tool) => {
                let tool = check_tool(tool.into())?;
                self.with_way_made(tool, |m| self.claim_free(m, tool, name, movable))
                    .map(|token| (tool, token))
            }
            None => {
                let mut m = self.master();
                let Some(tool) = (0..=MAX_USER_TOOL)
                    .rev()
                    .find(|&t| m.names[usize::from(t)].is_none())
                else {
                    return Err(Error::value("every tool id (0 to 5) is in use"));
                };
                self.claim_free(&mut m, tool, name, movable)
                    .map(|token| (tool, token))
            }
        }
    }

    /// The id the claim `token` holds now (movable claims move).
    pub(crate) fn claim_id(&self, token: u64) -> Option<u8> {
        let m = self.master();
        Self::find_claim(&m, token)
    }

    fn find_claim(m: &Master, token: u64) -> Option<u8> {
        (0..=MAX_USER_TOOL)
            .find(|&t| m.names[usize::from(t)].is_some() && m.claims[usize::from(t)] == token)
    }

    /// Give the claim `token` its callbacks and events in one change (one
    /// version bump).
    pub(crate) fn install_claim(
        &self,
        token: u64,
        handlers: Vec<(Event, Arc<dyn Handler>)>,
        events: EventSet,
    ) -> Result<(), Error> {
        let set = EventSet::normalize(events.bits())?;
        let mut m = self.master();
        let Some(tool) = Self::find_claim(&m, token) else {
            return Err(Error::value(
                "the built-in tool's claim ended before it started",
            ));
        };
        self.edit_callbacks(&mut m, |t| {
            let row = t.row_mut(tool);
            for (event, handler) in &handlers {
                for slot in event.callback_slots() {
                    row[*slot as usize] = Some(handler.clone());
                }
            }
        });
        m.events[tool as usize] = set;
        self.publish_masks(&m);
        Ok(())
    }

    /// End the claim `token` wherever it is now. A claim never given events,
    /// callbacks or code-like settings ends without a trace (no version
    /// change), so a failed start changes nothing; otherwise as
    /// [`Registry::free_tool_id`].
    pub(crate) fn release_claim(&self, token: u64) {
        let mut m = self.master();
        let Some(tool) = Self::find_claim(&m, token) else {
            return;
        };
        let t = usize::from(tool);
        let unused =
            m.events[t].is_empty() && m.callbacks.as_ref().is_none_or(|c| c.rows[t].is_none());
        if !unused {
            self.clear_claimed(&mut m, tool);
        } else if m.codelikes.drop_tool(tool) {
            self.publish_codelikes(&mut m);
        }
        m.names[t] = None;
        m.movable[t] = false;
    }

    pub(crate) fn free_claim(&self, tool: u8, token: u64) -> bool {
        let Ok(tool) = check_tool(tool.into()) else {
            return false;
        };
        let mut m = self.master();
        if m.names[tool as usize].is_none() || m.claims[tool as usize] != token {
            return false;
        }
        self.clear_claimed(&mut m, tool);
        m.names[tool as usize] = None;
        m.movable[tool as usize] = false;
        true
    }

    pub(crate) fn holds_claim(&self, tool: u8, token: u64) -> bool {
        let m = self.master();
        usize::from(tool) < TOOL_IDS
            && m.names[tool as usize].is_some()
            && m.claims[tool as usize] == token
    }

    fn clear_claimed(&self, m: &mut Master, tool: u8) {
        // A clear restarts the tool (its lasting DISABLEs end).
        self.restarts
            .tool_restarted(tool, self.version.load(Ordering::Relaxed));
        self.forget_sites(Some(tool));
        m.events[tool as usize] = EventSet::empty();
        // The tool's local events and arming go too (gh-111963).
        if m.codelikes.drop_tool(tool) {
            self.publish_codelikes(m);
        }
        self.edit_callbacks(m, |t| {
            t.rows[tool as usize] = None;
        });
        self.publish_masks(m);
    }

    pub(crate) fn clear_tool_id(&self, tool: i64) -> Result<(), Error> {
        let tool = check_tool(tool)?;
        self.with_way_made(tool, |m| {
            if m.names[tool as usize].is_some() {
                self.clear_claimed(m, tool);
            }
        });
        Ok(())
    }

    pub(crate) fn free_tool_id(&self, tool: i64) -> Result<(), Error> {
        let tool = check_tool(tool)?;
        self.with_way_made(tool, |m| {
            if m.names[tool as usize].is_some() {
                self.clear_claimed(m, tool);
                m.names[tool as usize] = None;
                m.movable[tool as usize] = false;
            }
        });
        Ok(())
    }

    pub(crate) fn tool_name(&self, tool: i64) -> Result<Option<String>, Error> {
        let tool = check_tool(tool)?;
        Ok(self.master().names[tool as usize].clone())
    }

    pub(crate) fn set_events(&self, tool: i64, raw: u32) -> Result<(), Error> {
        let tool = check_tool(tool)?;
        let set = EventSet::normalize(raw)?;
        self.with_way_made(tool, |m| {
            require_in_use(m, tool)?;
            if m.events[tool as usize] != set {
                m.events[tool as usize] = set;
                self.publish_masks(m);
            }
            Ok(())
        })
    }

    pub(crate) fn get_events(&self, tool: i64) -> Result<EventSet, Error> {
        let tool = check_tool(tool)?;
        Ok(self.master().events[tool as usize])
    }

    pub(crate) fn register_callback(
        &self,
        tool: i64,
        event: i64,
        handler: Option<Arc<dyn Handler>>,
    ) -> Result<Option<Arc<dyn Handler>>, Error> {
        let tool = check_tool(tool)?;
        let event = Event::try_from_id(event)?;
        self.with_way_made(tool, |m| {
            require_in_use(m, tool)?;
            let mut previous = None;
            self.edit_callbacks(m, |t| {
                for slot in event.callback_slots() {
                    let cell = &mut t.row_mut(tool)[*slot as usize];
                    previous = std::mem::replace(cell, handler.clone());
                }
            });
            self.callbacks_changed(m);
            Ok(previous)
        })
    }

    pub(crate) fn get_callback(
        &self,
        tool: i64,
        event: i64,
    ) -> Result<Option<Arc<dyn Handler>>, Error> {
        let tool = check_tool(tool)?;
        let event = Event::try_from_id(event)?;
        let slot = event.callback_slots().last().copied().unwrap_or(event);
        let m = self.master();
        Ok(m.callbacks
            .as_ref()
            .and_then(|t| t.get(tool, slot).cloned()))
    }

    pub(crate) fn remove_callback_if_same(
        &self,
        tool: u8,
        event: Event,
        handler: &Arc<dyn Handler>,
    ) {
        let mut m = self.master();
        let same = m
            .callbacks
            .as_ref()
            .and_then(|t| t.get(tool, event))
            .is_some_and(|h| Arc::ptr_eq(h, handler));
        if same {
            self.edit_callbacks(&mut m, |t| t.row_mut(tool)[event as usize] = None);
            self.callbacks_changed(&m);
        }
    }

    /// Forget the lasting mode's remembered sites of `tool` (all with
    /// `None`). The callback table's version moves first: a DISABLE whose
    /// callback was called before then is not remembered after the forget
    /// (`remember::remember_disable`).
    fn forget_sites(&self, tool: Option<u8>) {
        self.callbacks_version.fetch_add(1, Ordering::SeqCst);
        match tool {
            Some(tool) => crate::sites::table().forget_tool(tool),
            None => crate::sites::table().forget_all(),
        }
    }

    /// The options in force.
    #[inline(always)]
    pub(crate) fn options(&self) -> u32 {
        self.options.load(Ordering::Relaxed)
    }

    /// See `refresh_limit`: a relaxed load, after the version.
    #[inline(always)]
    pub(crate) fn refresh_limit(&self) -> usize {
        self.refresh_limit
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Before the version bump that publishes `options`: refreshes must
    /// reach the translation when the host's numbering is on (the restart
    /// gate routes every refresh through the C layer's length check).
    fn route_numbering(&self, options: u32) {
        let on = options & crate::option_bits::CPYTHON_313_EVENT_IDS != 0;
        if on {
            self.restarts.open_gate();
        }
        self.refresh_limit.store(
            if on { 0 } else { MAX_SCOPE_LEN },
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    /// Replace the options (already checked); a change republishes the
    /// scope masks, which moves the version.
    pub(crate) fn set_options(&self, options: u32) -> Result<(), Error> {
        let m = self.master();
        let old = self.options.load(Ordering::Relaxed);
        if old != options {
            if (old ^ options) & crate::option_bits::LASTING_DISABLE != 0 {
                // Switching the lasting mode restarts every tool.
                self.restarts
                    .mode_switched(self.version.load(Ordering::Relaxed));
                self.forget_sites(None);
            }
            self.route_numbering(options);
            self.options.store(options, Ordering::Relaxed);
            self.publish_masks(&m);
        }
        Ok(())
    }

    /// The options applied when the library is loaded
    /// (`PYMONITORING_OPTIONS`). While nothing was ever published (version
    /// 0, no tool in use: every scope mask is 0 under any options), the word
    /// is stored and the masks recomputed without moving the version, so a
    /// process's first version-0 `EnterScope` (Cython's) still returns at
    /// once, as without the option.
    pub(crate) fn set_options_at_load(&self, options: u32) -> Result<(), Error> {
        let m = self.master();
        if self.version.load(Ordering::Relaxed) != 0 || m.names.iter().any(Option::is_some) {
            drop(m);
            return self.set_options(options);
        }
        if (self.options.load(Ordering::Relaxed) ^ options) & crate::option_bits::LASTING_DISABLE
            != 0
        {
            self.restarts.mode_switched(0);
        }
        self.route_numbering(options);
        self.options.store(options, Ordering::Relaxed);
        self.store_masks(&m);
        self.publish_idle(&m);
        Ok(())
    }

    pub(crate) fn restart_events(&self) {
        let m = self.master();
        // Every tool restarts (its lasting DISABLEs end).
        self.restarts
            .all_restarted(self.version.load(Ordering::Relaxed));
        self.forget_sites(None);
        self.bump(&m);
    }

    /// `PyMonitoring_RestartToolEvents` (see `crate::lasting`).
    pub(crate) fn restart_tool_events(&self, tool: i64) -> Result<(), Error> {
        let tool = check_tool(tool)?;
        self.with_way_made(tool, |m| {
            require_in_use(m, tool)?;
            self.forget_sites(Some(tool));
            self.restarts
                .per_tool_restart(tool, self.version.load(Ordering::Relaxed));
            self.bump(m);
            Ok(())
        })
    }

    /// The callback table's version, read (SeqCst) after a dispatch
    /// announced itself.
    #[inline(always)]
    pub(crate) fn callbacks_version(&self) -> u64 {
        self.callbacks_version.load(Ordering::SeqCst)
    }

    /// The current callback table and its version, read under the lock so
    /// they belong together.
    pub(crate) fn callbacks_snapshot(&self) -> (u64, Option<Arc<CallbackTable>>) {
        let m = self.master();
        (
            self.callbacks_version.load(Ordering::SeqCst),
            m.callbacks.clone(),
        )
    }

    /// Code-likes (docs/EXTENSIONS.md): run `edit` on the code-likes' tables for a
    /// `tool` in use (else `tool %d is not in use`); when it reports a
    /// change, publish the new snapshot and, if `moves_version`, bump the
    /// global version.
    pub(crate) fn edit_codelikes(
        &self,
        tool: u8,
        moves_version: bool,
        edit: impl FnOnce(&mut crate::codelike_tables::Tables) -> Result<bool, Error>,
    ) -> Result<(), Error> {
        self.with_way_made(tool, |m| {
            require_in_use(m, tool)?;
            if edit(&mut m.codelikes)? {
                self.publish_codelikes(m);
                if moves_version {
                    self.bump(m);
                }
            }
            Ok(())
        })
    }

    /// Code-likes (docs/EXTENSIONS.md): publish the code-likes' snapshot to its readers
    /// and, when what is armed changed, a callback table carrying it (which
    /// moves the callback table's version, so every dispatch takes it).
    fn publish_codelikes(&self, m: &mut Master) {
        self.codelikes.publish(&m.codelikes);
        let armed = m.codelikes.current().filter(|s| s.any_armed());
        let held = m.callbacks.as_ref().and_then(|t| t.armed.as_ref());
        let same = match (&armed, held) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        if !same {
            self.edit_callbacks(m, |t| t.armed = armed);
        }
    }

    /// Code-likes (docs/EXTENSIONS.md): the readers' side.
    #[inline(always)]
    pub(crate) fn codelikes(&self) -> &crate::codelike_tables::Shared {
        &self.codelikes
    }

    /// Code-likes (docs/EXTENSIONS.md): the current snapshot and its version, read
    /// under the lock so they belong together.
    pub(crate) fn codelikes_snapshot(
        &self,
    ) -> (u64, Option<Arc<crate::codelike_tables::Snapshot>>) {
        let m = self.master();
        (self.codelikes.version(), m.codelikes.current())
    }

    #[cfg(test)]
    pub(crate) fn reset_for_tests(&self) {
        let mut m = self.master();
        if self.options.load(Ordering::Relaxed) != 0 {
            self.restarts
                .mode_switched(self.version.load(Ordering::Relaxed));
        }
        self.options.store(0, Ordering::Relaxed);
        self.route_numbering(0);
        m.codelikes = crate::codelike_tables::Tables::new();
        self.publish_codelikes(&mut m);
        self.forget_sites(None);
        for tool in 0..TOOL_IDS as u8 {
            m.names[tool as usize] = None;
            m.events[tool as usize] = EventSet::empty();
            m.movable[tool as usize] = false;
        }
        self.edit_callbacks(&mut m, |t| *t = CallbackTable::empty());
        self.publish_masks(&m);
    }
}

/// Named by the C entry's version load on x86-64 (`ffi::scope`), which
/// reads `version` and `idle` at their offsets.
#[cfg(not(loom))]
pub(crate) static GLOBAL: Registry = Registry::new();

/// The global version word, for the header's inline `EnterScope` (exported
/// by the FFI layer as `_PyMonitoring_GlobalVersion`).
#[cfg(not(loom))]
pub(crate) static VERSION: &AtomicU64 = &GLOBAL.version;

/// [`Registry::idle_version`] when the registry is not idle: never a
/// version.
pub(crate) const NOT_IDLE: u64 = u64::MAX;

// The header reads the idle word as the version word's neighbour.
#[cfg(not(loom))]
const _: () =
    assert!(std::mem::offset_of!(Registry, idle) == std::mem::offset_of!(Registry, version) + 8);

#[cfg(loom)]
loom::lazy_static! {
    static ref GLOBAL: Registry = Registry::new();
}

/// The longest state array a slice can cover (2-byte slots: `crate::scope`
/// holds `SlotState` to that size).
pub const MAX_SCOPE_LEN: usize = isize::MAX as usize / 2;

/// Before `fork()`: hold the registry's mutex, so the child gets tables no
/// writer was halfway through (`crate::fork`).
#[cfg(not(loom))]
pub(crate) struct ForkHold(#[allow(dead_code)] MutexGuard<'static, Master>);

#[cfg(not(loom))]
pub(crate) fn fork_hold() -> ForkHold {
    ForkHold(GLOBAL.master())
}

/// The process's registry (under loom: the current model execution's).
#[inline(always)]
pub(crate) fn global() -> &'static Registry {
    &GLOBAL
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
    global().version()
}

/// The global version, read for a scope's fast-path comparison.
#[inline(always)]
pub fn version_relaxed() -> u64 {
    global().version_relaxed()
}

/// The tools a scope slot for `event` gets right now.
#[inline]
pub fn scope_mask(event: Event) -> u8 {
    global().scope_mask(event)
}

/// The tools a scope slot for event id `id` gets right now; `id` must be a
/// valid event id (checked by the caller; other ids read 0).
#[inline(always)]
pub fn scope_mask_by_id(id: u8) -> u8 {
    global().scope_mask_by_id(id)
}

/// Word `i` (below [`MASK_WORDS`]; 0 otherwise) of every event's scope
/// mask packed for vector code: byte `j` (little endian) of word `i` is
/// [`scope_mask_by_id`]`(8 * i + j)`, and bytes past id 18 are 0. Read
/// `Relaxed` like the bytes: read [`version`] first.
#[cfg(not(loom))]
#[inline(always)]
pub fn scope_mask_word(i: usize) -> u64 {
    global().scope_mask_word(i)
}

/// Claim `tool` under `name`.
pub fn use_tool_id(tool: i64, name: &str) -> Result<(), Error> {
    global().use_tool_id(tool, name)
}

/// Claim `tool` under `name` as [`use_tool_id`] does, returning a token that
/// identifies this claim, so that its owner can later release exactly this
/// claim with [`free_claim`] (and not a later claim of the same id).
pub fn claim_tool_id(tool: i64, name: &str) -> Result<u64, Error> {
    global().claim_tool_id(tool, name)
}

/// Free `tool` (as [`free_tool_id`]) if it is still held by the claim
/// `token`; returns whether it was. A tool freed and claimed again by
/// someone else in between is left alone.
pub fn free_claim(tool: u8, token: u64) -> bool {
    global().free_claim(tool, token)
}

/// Whether `tool` is still held by the claim `token`.
pub fn holds_claim(tool: u8, token: u64) -> bool {
    global().holds_claim(tool, token)
}

/// Drop `tool`'s events and callbacks, keeping the claim. A tool not in use
/// is left alone, as in CPython.
pub fn clear_tool_id(tool: i64) -> Result<(), Error> {
    global().clear_tool_id(tool)
}

/// Clear `tool`, then release its claim.
pub fn free_tool_id(tool: i64) -> Result<(), Error> {
    global().free_tool_id(tool)
}

/// The name `tool` was claimed under, or `None` when it is free.
pub fn tool_name(tool: i64) -> Result<Option<String>, Error> {
    global().tool_name(tool)
}

/// Set `tool`'s global events (validated as [`EventSet::normalize`]).
pub fn set_events(tool: i64, raw: u32) -> Result<(), Error> {
    global().set_events(tool, raw)
}

/// `tool`'s global events (empty for a free tool).
pub fn get_events(tool: i64) -> Result<EventSet, Error> {
    global().get_events(tool)
}

/// Install (or with `None` remove) `tool`'s callback for `event`; BRANCH
/// fills BRANCH_LEFT and BRANCH_RIGHT. Returns the callback it replaced.
pub fn register_callback(
    tool: i64,
    event: i64,
    handler: Option<Arc<dyn Handler>>,
) -> Result<Option<Arc<dyn Handler>>, Error> {
    global().register_callback(tool, event, handler)
}

/// `tool`'s callback for `event` (BRANCH reads BRANCH_RIGHT's).
pub fn get_callback(tool: i64, event: i64) -> Result<Option<Arc<dyn Handler>>, Error> {
    global().get_callback(tool, event)
}

/// Remove `tool`'s callback for `event` if it is still `handler` (a DISABLE
/// from a non-local event).
pub(crate) fn remove_callback_if_same(tool: u8, event: Event, handler: &Arc<dyn Handler>) {
    global().remove_callback_if_same(tool, event, handler)
}

/// Re-enable everything DISABLEd: every scope refreshes on its next entry.
pub fn restart_events() {
    global().restart_events()
}

/// The callback table's version, read after a dispatch announced itself.
#[inline(always)]
pub(crate) fn callbacks_version() -> u64 {
    global().callbacks_version()
}

/// The current callback table and its version, read consistently.
pub(crate) fn callbacks_snapshot() -> (u64, Option<Arc<CallbackTable>>) {
    global().callbacks_snapshot()
}

/// Test-only: put the registry back to its initial state (version aside).
#[cfg(test)]
pub(crate) fn reset_for_tests() {
    global().reset_for_tests()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{registry_lock, Recorder};

    /// The idle word names the version exactly while no tool has an event,
    /// no option is set and the restart gate is closed (a registry of its
    /// own: the process's gate may have been opened by other tests).
    #[test]
    #[cfg(not(loom))]
    fn idle_version_follows_events_options_and_restarts() {
        let _g = registry_lock();
        let r = Registry::new();
        assert_eq!((r.version(), r.idle_version()), (0, 0));
        r.use_tool_id(2, "t").unwrap();
        r.set_events(2, EventSet::LINE.bits()).unwrap();
        assert_eq!(r.idle_version(), NOT_IDLE);
        r.set_events(2, 0).unwrap();
        assert_eq!(r.idle_version(), r.version());
        // A tool set events and was freed: idle again, at a newer version.
        r.set_events(2, EventSet::PY_START.bits()).unwrap();
        let before = r.version();
        r.free_tool_id(2).unwrap();
        assert!(r.version() > before);
        assert_eq!(r.idle_version(), r.version());
        r.restart_events();
        assert_eq!(r.idle_version(), r.version());
        // Any option: not idle (an option may shape a refresh).
        r.set_options(crate::options::ACTIVE_NEEDS_CALLBACK)
            .unwrap();
        assert_eq!(r.idle_version(), NOT_IDLE);
        r.set_options(0).unwrap();
        assert_eq!(r.idle_version(), r.version());
        // A per-tool restart opens the restart gate for good.
        r.use_tool_id(3, "u").unwrap();
        r.restart_tool_events(3).unwrap();
        assert_eq!(r.idle_version(), NOT_IDLE);
        r.free_tool_id(3).unwrap();
        assert_eq!(r.idle_version(), NOT_IDLE);
    }

    /// Options applied at load, at version 0, end the idle state without
    /// moving the version.
    #[test]
    #[cfg(not(loom))]
    fn idle_version_ends_with_options_at_load() {
        let _g = registry_lock();
        let r = Registry::new();
        r.set_options_at_load(crate::options::LASTING_DISABLE)
            .unwrap();
        assert_eq!((r.version(), r.idle_version()), (0, NOT_IDLE));
    }

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

    /// The packed words hold the byte table after every change, including
    /// a free and the reset (both publish).
    #[test]
    #[cfg(not(loom))]
    fn packed_scope_mask_words_follow_the_bytes() {
        let _g = registry_lock();
        let check = || {
            let bytes: Vec<u8> = (0..MASK_WORDS)
                .flat_map(|i| scope_mask_word(i).to_le_bytes())
                .collect();
            for id in 0..=255u8 {
                let want = scope_mask_by_id(id);
                let got = bytes.get(usize::from(id)).copied().unwrap_or(0);
                assert_eq!(got, want, "id {id}");
            }
            assert_eq!(scope_mask_word(MASK_WORDS), 0);
        };
        check();
        for t in 0..6i64 {
            use_tool_id(t, "t").unwrap();
            set_events(t, (0x5a5a5u32 >> t) & (EventSet::all().bits() & !0x30000)).unwrap();
            check();
        }
        set_events(3, EventSet::CALL.bits() | EventSet::BRANCH_RIGHT.bits()).unwrap();
        check();
        assert_ne!(scope_mask(Event::CReturn), 0);
        free_tool_id(1).unwrap();
        check();
        reset_for_tests();
        check();
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
