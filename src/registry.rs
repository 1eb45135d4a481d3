//! The process-wide tool registry: the twin of `sys.monitoring`.
//!
//! Writers are serialised by one mutex. Readers on hot paths never lock:
//! scopes read the global version and the per-event tool masks, dispatch
//! reads its event's row of the callback table through that row's pointer
//! under its announcement (`crate::ffi::rcu`). `docs/CONCURRENCY.md`
//! explains the orderings.
//!
//! All shared state is one `Registry`; the process has one instance, and
//! the free functions below work on it. The loom models
//! (`src/loom_tests.rs`) build their own instances to run the same code.

use std::any::Any;
use std::sync::Arc;

use crate::event::{Event, EventSet};
use crate::failure::Error;
use crate::ffi::rcu::{Parts, Published};
use crate::readers::Announced;
use crate::record::{EventRecord, FireRecord};
use crate::sync::{AtomicU64, AtomicU8, Mutex, MutexGuard, Ordering};

mod claims;
mod ext_state;
mod masks;

pub use crate::slot::MAX_SCOPE_LEN;
pub use crate::tool::{MAX_USER_TOOL, TOOL_IDS};
/// Words of [`scope_mask_word`]: 8 event ids a word.
pub const MASK_WORDS: usize = Event::COUNT.div_ceil(8);
const _: () = assert!(MASK_WORDS == 3);

/// What a callback asks for after an event. The discriminants are the
/// answer codes of [`Direct`] calls (and of C callbacks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum Outcome {
    /// Go on.
    Continue = 0,
    /// Stop delivering this event here (`PY_MONITORING_DISABLE`).
    Disable = 1,
    /// The callback failed; it should have set the thread's error.
    Error = -1,
}

impl Outcome {
    /// The outcome of an answer code: 1 is DISABLE, -1 an error, anything
    /// else goes on.
    #[inline(always)]
    pub const fn from_answer(answer: i32) -> Outcome {
        match answer {
            1 => Outcome::Disable,
            -1 => Outcome::Error,
            _ => Outcome::Continue,
        }
    }
}

/// A callback as the dispatch calls it directly: a safe Rust function
/// supplied by the layer that registered the callback, and two words that
/// layer owns and only that function interprets (for a C callback, the C
/// function and its data: `src/ffi/handler.rs`). It answers with an
/// [`Outcome`] code. The core never looks inside the words; a `Direct` is
/// only built by the handler that owns them ([`Handler::direct`]) and never
/// changed after.
#[derive(Clone, Copy)]
pub struct Direct {
    call: DirectFn,
    words: [usize; 2],
}

/// The function of a [`Direct`] call: `(words[0], record, words[1])`. The
/// record second, so a function that hands the first word and the record
/// on to another function (a C callback's `(data, event)`) moves nothing.
pub type DirectFn = fn(usize, &FireRecord, usize) -> i32;

impl Direct {
    /// `call` called with `words` and each record.
    pub const fn new(call: DirectFn, words: [usize; 2]) -> Direct {
        Direct { call, words }
    }

    /// Deliver `record`; returns an [`Outcome`] code.
    #[inline(always)]
    pub fn call(&self, record: &FireRecord) -> i32 {
        (self.call)(self.words[0], record, self.words[1])
    }
}

/// A callback as the registry keeps it: a C function with its data, or a
/// Rust closure.
pub trait Handler: Send + Sync + 'static {
    /// Deliver one event.
    fn call(&self, event: &EventRecord) -> Outcome;
    /// Deliver one event as the dispatch carries it (what the dispatch
    /// calls when the handler has no [`Handler::direct`] form). The default
    /// hands [`Handler::call`] the [`FireRecord::to_event_record`] view.
    #[inline]
    fn call_fire(&self, record: &FireRecord) -> Outcome {
        self.call(&record.to_event_record())
    }
    /// The same delivery as a [`Direct`] call, which the dispatch makes
    /// without going through `dyn Handler` (C callbacks have one; Rust
    /// closures do not). Asked once, when the handler is registered.
    fn direct(&self) -> Option<Direct> {
        None
    }
    /// For reading a handler back as its concrete type.
    fn as_any(&self) -> &dyn Any;
}

impl std::fmt::Debug for dyn Handler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Handler")
    }
}

/// One callback slot of a table: the handler (its identity, for
/// `get_callback` and DISABLE's removal-if-same) and, when it has one, its
/// [`Direct`] form, which the dispatch tests first and calls instead.
#[derive(Clone, Default)]
struct Slot {
    direct: Option<Direct>,
    handler: Option<Arc<dyn Handler>>,
}

/// Every tool's callback for one event, indexed by tool id, with what a
/// dispatch of the event reads beside them: the callback table's version
/// (`Registry::callbacks_version` when the table was published: what the
/// lasting mode's DISABLE is validated against) and the table's arming.
/// Each row is published through a pointer of its own
/// (`Registry::row`), so a dispatch holds its row alone.
#[derive(Clone)]
pub(crate) struct Row {
    slots: [Slot; TOOL_IDS],
    version: u64,
    /// Armed sites: the code-likes' snapshot while anything is armed, so
    /// the dispatch sees arming with the row it already holds (no second
    /// thread-local, no extra global load while nothing is). The same in
    /// every row of a table; set with [`CallbackTable::set_armed`] only.
    armed: Option<Arc<crate::ext::Snapshot>>,
    /// Whether `armed` is set: the dispatch's gate, a compare with memory
    /// (the pointer's own test loads it into a register first).
    is_armed: bool,
}

impl Row {
    const EMPTY: Row = {
        const EMPTY_SLOT: Slot = Slot {
            direct: None,
            handler: None,
        };
        Row {
            slots: [EMPTY_SLOT; TOOL_IDS],
            version: 0,
            armed: None,
            is_armed: false,
        }
    };

    /// The [`Direct`] form of tool `tool & 7`'s callback, when it has one:
    /// what the dispatch calls.
    #[inline(always)]
    pub(crate) fn direct_masked(&self, tool: u8) -> Option<&Direct> {
        self.slots[usize::from(tool & 7)].direct.as_ref()
    }

    /// The callback of tool `tool & 7`: what the dispatch calls when there
    /// is no [`Direct`] form.
    #[inline(always)]
    pub(crate) fn handler_masked(&self, tool: u8) -> Option<&Arc<dyn Handler>> {
        self.slots[usize::from(tool & 7)].handler.as_ref()
    }

    /// The version of the table this row belongs to.
    #[inline(always)]
    pub(crate) fn version(&self) -> u64 {
        self.version
    }

    /// Whether anything is armed (the same as `armed().is_some()`).
    #[inline(always)]
    pub(crate) fn is_armed(&self) -> bool {
        self.is_armed
    }

    /// The arming in force, when anything is armed.
    #[inline(always)]
    pub(crate) fn armed(&self) -> Option<&crate::ext::Snapshot> {
        self.armed.as_deref()
    }
}

/// An immutable snapshot of every tool's callbacks. Writers replace it whole.
#[derive(Clone)]
pub struct CallbackTable {
    /// One row a event, one slot a tool in each: the dispatch reaches a
    /// slot with one index and no row test. Tools 6 and 7 never get
    /// callbacks; their slots stay empty so that any tool bit indexes
    /// without a bounds check.
    rows: [Row; Event::COUNT],
    /// Bit t: tool t was given a callback slot (set, even to none) since it
    /// was last cleared — what a claim's release asks.
    used: u8,
}

/// What a registry's dispatches read before its first callback table is
/// published, for every event: no callbacks (so a dispatch never meets "no
/// table").
static EMPTY_ROW: Row = Row::EMPTY;

/// The table's rows are what a dispatch reads, each through its own
/// pointer ([`Published`]).
impl Parts for CallbackTable {
    type Part = Row;
    #[inline(always)]
    fn part(&self, i: usize) -> &Row {
        &self.rows[i]
    }
}

impl CallbackTable {
    const fn empty() -> CallbackTable {
        CallbackTable {
            rows: [Row::EMPTY; Event::COUNT],
            used: 0,
        }
    }

    /// Carry `armed` in every row (see `Row::armed`).
    pub(super) fn set_armed(&mut self, armed: Option<Arc<crate::ext::Snapshot>>) {
        for row in &mut self.rows {
            row.is_armed = armed.is_some();
            row.armed.clone_from(&armed);
        }
    }

    /// The arming the rows carry (the same in every row).
    pub(super) fn armed(&self) -> Option<&Arc<crate::ext::Snapshot>> {
        self.rows[0].armed.as_ref()
    }

    /// The callback of `tool` for `event`.
    pub fn get(&self, tool: u8, event: Event) -> Option<&Arc<dyn Handler>> {
        self.rows[event as usize]
            .slots
            .get(tool as usize)?
            .handler
            .as_ref()
    }

    /// Make `handler` `tool`'s callback for `event` (`tool` is a checked
    /// user tool; the tool counts as used); returns the previous one.
    fn set(
        &mut self,
        tool: u8,
        event: Event,
        handler: Option<Arc<dyn Handler>>,
    ) -> Option<Arc<dyn Handler>> {
        self.used |= 1 << tool;
        let slot = Slot {
            direct: handler.as_ref().and_then(|h| h.direct()),
            handler,
        };
        std::mem::replace(
            &mut self.rows[event as usize].slots[usize::from(tool)],
            slot,
        )
        .handler
    }

    /// Stamp the table with the version it is published at.
    fn set_version(&mut self, version: u64) {
        for row in &mut self.rows {
            row.version = version;
        }
    }

    /// Whether `tool` was given a callback slot since it was last cleared.
    fn tool_used(&self, tool: usize) -> bool {
        self.used & (1 << tool) != 0
    }

    /// Every slot of `tool` emptied.
    fn clear_tool(&mut self, tool: usize) {
        for row in &mut self.rows {
            row.slots[tool] = Slot::default();
        }
        self.used &= !(1 << tool);
    }

    /// `from`'s slots moved to `to` (whose own are dropped).
    fn move_tool(&mut self, from: usize, to: usize) {
        for row in &mut self.rows {
            row.slots[to] = std::mem::take(&mut row.slots[from]);
        }
        let was_used = self.tool_used(from);
        self.used &= !(1 << from) & !(1 << to);
        if was_used {
            self.used |= 1 << to;
        }
    }
}

/// What only writers (under [`Registry::master`]) touch.
struct Master {
    names: [Option<String>; TOOL_IDS],
    /// The token of each tool's current claim (see [`claim_tool_id`]).
    claims: [u64; TOOL_IDS],
    events: [EventSet; TOOL_IDS],
    callbacks: Option<Arc<CallbackTable>>,
    /// The extensions' writers' half (`crate::ext`, the seam).
    ext: crate::ext::Writers,
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
    /// For each event id, the tools a scope slot of that event gets. Padded
    /// to 256 entries (the extra ones stay 0) so any `u8` indexes it without
    /// a bounds check or a mask. Right after `idle` ([`SCOPE_MASKS`]): the
    /// header's inline refresh reads it through `_PyMonitoring_GlobalVersion`.
    scope_masks: [AtomicU8; 256],
    /// Names, events and the current callback table; every change holds it.
    master: Mutex<Master>,
    /// The same masks packed for vector code, 8 ids a word (byte `i % 8`
    /// of word `i / 8` is id `i`'s mask; ids 19-23 read 0), written with
    /// them. Not under loom: the FFI's SIMD refresh, their only reader, is
    /// compiled out there.
    #[cfg(not(loom))]
    scope_mask_words: [std::sync::atomic::AtomicU64; MASK_WORDS],
    /// The callback table dispatches read: a pointer to each event's row,
    /// read after the dispatch's announcement, old tables kept until the
    /// dispatches that may hold them have ended (`crate::ffi::rcu`,
    /// docs/CONCURRENCY.md, H1 and H7).
    pub(crate) table: Published<CallbackTable, { Event::COUNT }>,
    /// Bumped (SeqCst, under `master`) whenever the callback table is
    /// replaced, and before the lasting mode forgets sites (the table is
    /// then published again with the new version): what the lasting mode's
    /// DISABLE is validated against (`Row::version`).
    pub(crate) callbacks_version: AtomicU64,
    /// Source of claim tokens; 0 is never handed out.
    next_claim: AtomicU64,
    /// The extensions' state (`crate::ext`, the seam): the options, the
    /// refresh gate and route byte, restarts, the code-likes' readers' side.
    ext: crate::ext::State,
}

const NO_TOOLS: Master = Master {
    names: [const { None }; TOOL_IDS],
    claims: [0; TOOL_IDS],
    events: [EventSet::empty(); TOOL_IDS],
    callbacks: None,
    ext: crate::ext::Writers::new(),
    movable: [false; TOOL_IDS],
};

impl Registry {
    /// An empty registry: no tool in use, version 0.
    #[cfg(not(loom))]
    pub(crate) const fn new() -> Registry {
        Registry {
            version: AtomicU64::new(0),
            idle: AtomicU64::new(0),
            scope_masks: [const { AtomicU8::new(0) }; 256],
            master: Mutex::new(NO_TOOLS),
            scope_mask_words: [const { std::sync::atomic::AtomicU64::new(0) }; MASK_WORDS],
            table: Published::new(&EMPTY_ROW),
            callbacks_version: AtomicU64::new(0),
            next_claim: AtomicU64::new(1),
            ext: crate::ext::State::new(),
        }
    }

    /// An empty registry: no tool in use, version 0.
    #[cfg(loom)]
    pub(crate) fn new() -> Registry {
        Registry {
            version: AtomicU64::new(0),
            idle: AtomicU64::new(0),
            scope_masks: std::array::from_fn(|_| AtomicU8::new(0)),
            master: Mutex::new(NO_TOOLS),
            table: Published::new(&EMPTY_ROW),
            callbacks_version: AtomicU64::new(0),
            next_claim: AtomicU64::new(1),
            ext: crate::ext::State::new(),
        }
    }

    fn master(&self) -> MutexGuard<'_, Master> {
        // A panic while holding the lock leaves consistent data (every update
        // is a plain store), so poisoning is ignored.
        self.master.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Publish a copy of the callback table edited by `edit`, stamped with
    /// the next version: the new table replaces the old one under the lock
    /// and in the pointer dispatches read, then `callbacks_version` moves
    /// (SeqCst) to the table's version.
    fn edit_callbacks(&self, m: &mut Master, edit: impl FnOnce(&mut CallbackTable)) {
        let mut table = match &m.callbacks {
            Some(t) => CallbackTable::clone(t),
            None => CallbackTable::empty(),
        };
        edit(&mut table);
        table.set_version(self.callbacks_version.load(Ordering::Relaxed) + 1);
        let table = Arc::new(table);
        m.callbacks = Some(table.clone());
        self.table.publish(table);
        self.callbacks_version.fetch_add(1, Ordering::SeqCst);
    }

    /// Move `callbacks_version` on and publish the current table again,
    /// stamped with it (under `master`): what `before_forget` does.
    pub(super) fn bump_callbacks_version(&self) {
        let version = self.callbacks_version.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(current) = self.table.current() {
            let mut table = CallbackTable::clone(&current);
            table.set_version(version);
            self.table.publish(Arc::new(table));
        }
    }

    /// The row of `event` in the callback table a dispatch announced by
    /// `announced` reads (an empty one before any tool had a callback). The
    /// walk reads the process's registry through `ffi::table`, which loads
    /// the same pointer by address on x86-64.
    #[cfg_attr(all(target_arch = "x86_64", not(loom)), allow(dead_code))]
    #[inline(always)]
    pub(crate) fn row<'a>(&'a self, event: Event, announced: &'a Announced<'_>) -> &'a Row {
        self.table.read(event as usize, announced)
    }

    /// Whether the table of the row a dispatch holds (`held`, `event`'s,
    /// read earlier in the same dispatch) was replaced since.
    #[cfg_attr(all(target_arch = "x86_64", not(loom)), allow(dead_code))]
    #[inline(always)]
    pub(crate) fn row_replaced(&self, event: Event, held: &Row) -> bool {
        self.table.moved_from(event as usize, held)
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
                    previous = t.set(tool, *slot, handler.clone());
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
            self.edit_callbacks(&mut m, |t| {
                t.set(tool, event, None);
            });
            self.callbacks_changed(&m);
        }
    }

    /// The callback table's version (SeqCst): what the lasting mode's
    /// DISABLE is validated against.
    #[inline(always)]
    pub(crate) fn callbacks_version(&self) -> u64 {
        self.callbacks_version.load(Ordering::SeqCst)
    }

    /// The current callback table and its version, read under the lock so
    /// they belong together (the loom models).
    #[cfg(all(test, loom))]
    pub(crate) fn callbacks_snapshot(&self) -> (u64, Option<Arc<CallbackTable>>) {
        let m = self.master();
        (
            self.callbacks_version.load(Ordering::SeqCst),
            m.callbacks.clone(),
        )
    }

    #[cfg(test)]
    pub(crate) fn reset_for_tests(&self) {
        let mut m = self.master();
        let current = self.version.load(Ordering::Relaxed);
        self.ext
            .reset_for_tests(&mut m.ext, current, || self.before_forget());
        self.publish_codelikes(&mut m);
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

/// Where the scope masks' byte table is in the registry: the header's inline
/// refresh reads id `i`'s mask at this offset plus `i` from the version's
/// address (`_PyMonitoring_GlobalVersion`).
pub(crate) const SCOPE_MASKS: usize = 16;
#[cfg(not(loom))]
const _: () = assert!(std::mem::offset_of!(Registry, scope_masks) == SCOPE_MASKS);

/// The refresh route byte (`ext::State::route`), for the header's inline
/// refresh (exported by the FFI layer as `_PyMonitoring_RefreshRoute`).
#[cfg(not(loom))]
pub(crate) static ROUTE: &std::sync::atomic::AtomicU8 = GLOBAL.ext.route_byte();

/// Where the option word is in the registry (`ffi::table::lasting_mode`).
#[cfg(all(target_arch = "x86_64", not(loom)))]
pub(crate) const OPTIONS: usize = std::mem::offset_of!(Registry, ext) + crate::ext::OPTIONS;

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

/// The callback table's version (see [`Registry::callbacks_version`]).
#[inline(always)]
pub(crate) fn callbacks_version() -> u64 {
    global().callbacks_version()
}

/// Test-only: put the registry back to its initial state (version aside).
#[cfg(test)]
pub(crate) fn reset_for_tests() {
    global().reset_for_tests()
}

#[cfg(test)]
mod tests;
