//! Per-tool restart (`PyMonitoring_RestartToolEvents`) and DISABLE that
//! lasts (`PY_MONITORING_OPT_LASTING_DISABLE`); `docs/EXTENSIONS.md`.
//!
//! The registry keeps, for each tool, the version of its last restart (a
//! per-tool restart, `RestartEvents`, a clear or free of the tool, or a
//! switch of the lasting mode), and for the default mode the bounds of the
//! current run of per-tool restarts. Scopes look at them only once the gate
//! is open (the first per-tool restart or lasting-mode switch): until then a
//! refresh pays one relaxed load more than before.
//!
//! * Default mode: a refresh of a scope whose stored version `v` is older
//!   than the current one, when nothing but per-tool restarts happened since
//!   `v`, gives back only the restarted tools' bits (`active |= mask &
//!   restarted`); otherwise it is CPython's refresh (`active = mask`).
//! * Lasting mode: a refresh sets `active = mask` (CPython's refresh) and
//!   `opaque` to [`SLOT_MARK`], which marks a slot refreshed in this mode.
//!   A DISABLE returned for a local event leaves `active` alone and is
//!   remembered for its site — `(code-like, offset, event,
//!   line, tool)` — in [`crate::sites`]; a fire on a marked slot skips
//!   (without a callback, and writing nothing) the tools remembered for its
//!   site. Other sites of the slot keep firing; the site stays silent for
//!   the tool until the table forgets it (the tool's restart, clear or free,
//!   `RestartEvents`, a switch of the mode).

use std::cell::Cell;

use crate::dispatch::{self, FireRecord, Firing};
use crate::error::{Error, ErrorSet};
use crate::event::Event;
use crate::object::ObjectRef;
use crate::options::{self, LASTING_DISABLE};
use crate::registry::{self, TOOL_IDS};
use crate::scope::SlotState;
use crate::sites;
use crate::sync::{AtomicU64, AtomicU8, Ordering};

/// The bit of [`Restarts::route`] that sends refreshes to [`refresh`].
pub(crate) const GATE: u8 = 0x80;

/// What scopes need to know about restarts. Written by registry writers
/// (under the registry lock) before the version bump they precede (Release),
/// read Relaxed after the version (Acquire), see `docs/CONCURRENCY.md`.
pub(crate) struct Restarts {
    /// [`GATE`] is set from the first per-tool restart or lasting-mode
    /// switch on. The low bits are the C layer's cached choice of refresh
    /// kernel ([`Restarts::route`]): sharing the byte lets the exported
    /// refresh learn both with one load.
    gate: AtomicU8,
    /// The version each tool's last restart made.
    tools: [AtomicU64; TOOL_IDS],
    /// The version made by the last change that was not a per-tool restart,
    /// as seen by the per-tool restarts.
    last_other: AtomicU64,
    /// The version made by the last per-tool restart.
    run_end: AtomicU64,
}

impl Restarts {
    /// No restart yet.
    #[cfg(not(loom))]
    pub(crate) const fn new() -> Restarts {
        Restarts {
            gate: AtomicU8::new(0),
            tools: [const { AtomicU64::new(0) }; TOOL_IDS],
            last_other: AtomicU64::new(0),
            run_end: AtomicU64::new(u64::MAX),
        }
    }

    /// No restart yet.
    #[cfg(loom)]
    pub(crate) fn new() -> Restarts {
        Restarts {
            gate: AtomicU8::new(0),
            tools: std::array::from_fn(|_| AtomicU64::new(0)),
            last_other: AtomicU64::new(0),
            run_end: AtomicU64::new(u64::MAX),
        }
    }

    /// Whether a refresh must take [`refresh`] (a relaxed load).
    #[inline(always)]
    pub(crate) fn gate(&self) -> bool {
        self.gate.load(Ordering::Relaxed) & GATE != 0
    }

    /// The refresh route byte: [`GATE`] and the C layer's kernel bits
    /// (a relaxed load).
    #[inline(always)]
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn route(&self) -> u8 {
        self.gate.load(Ordering::Relaxed)
    }

    /// Record the C layer's kernel choice (bits below [`GATE`]; set once,
    /// the same value by every thread that detects it).
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn set_route(&self, kernel: u8) {
        self.gate.fetch_or(kernel & !GATE, Ordering::Relaxed);
    }

    /// Send every later refresh to the restart-aware path (also what the
    /// host's event numbering needs: the C entry points translate ids there).
    pub(crate) fn open_gate(&self) {
        self.gate.fetch_or(GATE, Ordering::Relaxed);
    }

    /// Writer: the lasting mode is switched (on or off) by the bump from
    /// `current`: every tool counts as restarted.
    pub(crate) fn mode_switched(&self, current: u64) {
        self.open_gate();
        self.all_restarted(current);
    }

    /// Writer: every tool restarts with the bump from `current`.
    pub(crate) fn all_restarted(&self, current: u64) {
        for t in &self.tools {
            t.store(current + 1, Ordering::Relaxed);
        }
    }

    /// Writer: `tool` restarts (is cleared) with the bump from `current`.
    pub(crate) fn tool_restarted(&self, tool: u8, current: u64) {
        self.tools[usize::from(tool)].store(current + 1, Ordering::Relaxed);
    }

    /// Writer: a per-tool restart of `tool`, whose own bump goes from
    /// `current`.
    pub(crate) fn per_tool_restart(&self, tool: u8, current: u64) {
        if self.run_end.load(Ordering::Relaxed) != current {
            // Something else moved the version since the last per-tool
            // restart (or there was none): the run starts here.
            self.last_other.store(current, Ordering::Relaxed);
        }
        self.run_end.store(current + 1, Ordering::Relaxed);
        self.tool_restarted(tool, current);
        self.open_gate();
    }

    /// The tools restarted after version `v` (read after the version).
    #[inline]
    pub(crate) fn restarted_since(&self, v: u64) -> u8 {
        self.tools
            .iter()
            .enumerate()
            .filter(|(_, t)| t.load(Ordering::Relaxed) > v)
            .fold(0, |acc, (i, _)| acc | 1 << i)
    }

    /// Whether every change from `v` to `current` was a per-tool restart.
    /// A writer racing the read can only make this false (the refresh is
    /// then CPython's full one).
    pub(crate) fn only_restarts(&self, v: u64, current: u64) -> bool {
        v < current
            && self.run_end.load(Ordering::Relaxed) == current
            && v >= self.last_other.load(Ordering::Relaxed)
    }
}

/// `opaque` bit marking a slot refreshed in the lasting mode: fires on it
/// take the mode's path (which falls back to the default one when the mode
/// is off). The default mode never writes `opaque`.
pub const SLOT_MARK: u8 = 0x80;

/// Whether the lasting mode is on (one relaxed load).
#[inline(always)]
pub fn lasting_mode() -> bool {
    options::get() & LASTING_DISABLE != 0
}

/// Re-enable only `tool`'s DISABLEd slots and sites (and forget its
/// remembered sites); other tools' DISABLEs stay. Moves the global version.
///
/// Errors: a tool outside 0-5 (`invalid tool %d (must be between 0 and 5)`)
/// or not in use (`tool %d is not in use`), both ValueErrors; nothing
/// changes then.
pub fn restart_tool_events(tool: i64) -> Result<(), Error> {
    registry::global().restart_tool_events(tool)
}

/// The refresh of a scope once the gate is open (see the module doc):
/// called by `scope::refresh` (and `codelike::refresh_code_scope`, whose
/// `extra` gives a slot event's local tools) with the ids already checked
/// and `current` read (Acquire). Stores `current` in `version`.
#[cold]
#[inline(never)]
pub(crate) fn refresh(
    states: &[SlotState],
    version: &Cell<u64>,
    event_types: &[u8],
    current: u64,
    extra: impl Fn(u8) -> u8,
) {
    let restarts = &registry::global().restarts;
    let v = version.get();
    if lasting_mode() {
        // DISABLEs live in the site table, not in the slots.
        for (slot, &id) in states.iter().zip(event_types) {
            slot.opaque.set(SLOT_MARK);
            slot.active.set(registry::scope_mask_by_id(id) | extra(id));
        }
    } else if restarts.only_restarts(v, current) {
        let restarted = restarts.restarted_since(v);
        for (slot, &id) in states.iter().zip(event_types) {
            let back = (registry::scope_mask_by_id(id) | extra(id)) & restarted;
            slot.active.set(slot.active.get() | back);
        }
    } else {
        for (slot, &id) in states.iter().zip(event_types) {
            slot.active.set(registry::scope_mask_by_id(id) | extra(id));
        }
    }
    version.set(current);
}

/// Fire `firing` on `slot`: on a slot refreshed in the lasting mode (marked
/// with [`SLOT_MARK`]), the tools remembered for the site are skipped
/// ([`skipped`]) and the others fired by [`fire_marked`]; else as
/// [`dispatch::fire`] on the slot's `active` (the Rust API's entry; the C
/// entry points make the same calls).
pub fn fire(slot: &SlotState, firing: Firing) -> Result<(), ErrorSet> {
    let mut record = FireRecord::new(firing, None);
    if slot.opaque.get() & SLOT_MARK == 0 {
        return dispatch::fire_record(&slot.active, &mut record);
    }
    let line = sites::line_word(firing.event, firing.lineno);
    let skip = skipped(slot, firing.event, firing.codelike, firing.offset, line);
    fire_marked(slot, &mut record, skip)
}

/// What [`skipped_fast`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skip {
    /// Every active tool is remembered for the site: the fire is over.
    Done,
    /// No active tool is remembered for the site: fire `active`.
    Fire,
    /// Ask [`skipped_slow`].
    Scan,
}

/// The tools of a marked slot's `active` remembered as having DISABLEd the
/// site (a local event only; none for the others). Lock-free, writes
/// nothing, never panics.
#[inline(always)]
pub fn skipped(slot: &SlotState, event: Event, codelike: ObjectRef, offset: i32, line: u64) -> u8 {
    match skipped_fast(slot, event, codelike, offset, line) {
        Skip::Done => slot.active.get(),
        Skip::Fire => 0,
        Skip::Scan => skipped_slow(slot, event, codelike, offset, line),
    }
}

/// The part of [`skipped`] that answers the usual cases from the site's
/// home entry without a call: one tool active and remembered, nothing
/// remembered for the site, no tool active, or a non-local event.
#[inline(always)]
pub fn skipped_fast(
    slot: &SlotState,
    event: Event,
    codelike: ObjectRef,
    offset: i32,
    line: u64,
) -> Skip {
    let active = slot.active.get();
    if active == 0 || !event.is_local() {
        return Skip::Fire;
    }
    match sites::table().home(codelike, offset, event, line, active) {
        sites::Home::Holds => Skip::Done,
        sites::Home::Empty => Skip::Fire,
        sites::Home::Unknown => Skip::Scan,
    }
}

/// [`skipped`] in full: every active tool against every entry of the site.
#[cold]
#[inline(never)]
pub fn skipped_slow(
    slot: &SlotState,
    event: Event,
    codelike: ObjectRef,
    offset: i32,
    line: u64,
) -> u8 {
    let active = slot.active.get();
    if active == 0 || !event.is_local() {
        return 0;
    }
    sites::table().disabled(codelike, offset, event, line, active)
}

/// The fire on a marked slot once [`skipped`] is known: the tools of
/// `active` but `skipped` are fired by the ordinary dispatch (in the mode, a
/// DISABLE is remembered for the site and `active` stays). Every tool
/// skipped: over, with no thread-local or dispatch work.
#[inline(always)]
pub fn fire_marked(slot: &SlotState, record: &mut FireRecord, skipped: u8) -> Result<(), ErrorSet> {
    if skipped == 0 {
        return dispatch::fire_record(&slot.active, record);
    }
    fire_some(slot, record, skipped)
}

#[cold]
#[inline(never)]
fn fire_some(slot: &SlotState, record: &mut FireRecord, skipped: u8) -> Result<(), ErrorSet> {
    let rest = slot.active.get() & !skipped;
    if rest == 0 {
        return Ok(());
    }
    let walk = Cell::new(rest);
    let result = dispatch::fire_record(&walk, record);
    // Cleared only by CPython's rule (the mode switched off meanwhile).
    let cleared = rest & !walk.get();
    if cleared != 0 {
        slot.active.set(slot.active.get() & !cleared);
    }
    result
}

/// A callback of `tool` answered DISABLE for `record`'s local event in the
/// mode: remember its site, unless the callback table's version moved since
/// the walk that called the callback took it (the thread's
/// `callbacks_version`, read before the callback: every forget moves it
/// first, so a DISABLE racing a restart of its tool never outlives the
/// restart). A site not remembered (that, or a full probe window) calls the
/// callback again next time.
#[cold]
#[inline(never)]
pub(crate) fn remember_disable(record: &FireRecord, tool: u8) -> bool {
    let seen = crate::thread::with(|t| t.callbacks_version.get());
    remember_disable_seen(record, tool, seen)
}

/// [`remember_disable`] with the callback table's version the walk took.
fn remember_disable_seen(record: &FireRecord, tool: u8, seen: u64) -> bool {
    sites::table().remember(
        record.codelike,
        record.offset,
        record.event,
        sites::line_word(record.event, record.lineno),
        tool,
        || registry::callbacks_version() == seen,
    )
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::event::EventSet;
    use crate::registry::Outcome;
    use crate::scope::enter_scope;
    use crate::test_support::{registry_lock, Recorder};
    use std::sync::Arc;

    fn code(addr: usize) -> ObjectRef {
        ObjectRef::from_addr(addr).unwrap()
    }

    /// A fresh (zeroed) scope with one slot per event id.
    fn states(n: usize) -> Vec<SlotState> {
        (0..n).map(|_| SlotState::default()).collect()
    }

    /// Claim `tool` with `events` and a recorder for each of `events`.
    fn tool(t: i64, events: EventSet, answer: Outcome) -> Arc<Recorder> {
        let rec = Recorder::answering(answer);
        registry::use_tool_id(t, "t").unwrap();
        for e in Event::ALL {
            if events.has(e) {
                registry::register_callback(t, e as i64, Some(rec.clone())).unwrap();
            }
        }
        registry::set_events(t, events.bits()).unwrap();
        rec
    }

    fn fire_at(slot: &SlotState, event: Event, c: ObjectRef, offset: i32) {
        fire(slot, Firing::new(event, c, offset)).unwrap();
    }

    fn set_lasting(on: bool) {
        options::set(if on { LASTING_DISABLE } else { 0 }).unwrap();
    }

    #[test]
    fn bad_tools_are_value_errors_and_change_nothing() {
        let _g = registry_lock();
        let v = registry::version();
        for bad in [-1, 6, 7, 8, 1000] {
            assert_eq!(
                restart_tool_events(bad).unwrap_err().message(),
                format!("invalid tool {bad} (must be between 0 and 5)")
            );
        }
        assert_eq!(
            restart_tool_events(4).unwrap_err().message(),
            "tool 4 is not in use"
        );
        assert_eq!(registry::version(), v);
        registry::use_tool_id(4, "t").unwrap();
        restart_tool_events(4).unwrap();
        assert_eq!(
            registry::version(),
            v + 1,
            "moves the version, even with nothing DISABLEd"
        );
    }

    /// Default mode: only the restarted tool comes back; the others'
    /// DISABLEs stay (and come back on any other change, as in CPython).
    #[test]
    fn default_mode_restarts_only_that_tool() {
        let _g = registry_lock();
        let a = tool(1, EventSet::LINE, Outcome::Disable);
        let b = tool(3, EventSet::LINE, Outcome::Disable);
        let s = states(1);
        let version = Cell::new(0);
        let c = code(0x100);
        enter_scope(&s, &version, &[Event::Line.id()]).unwrap();
        assert_eq!(s[0].active.get(), 0b1010);
        fire_at(&s[0], Event::Line, c, 2);
        assert_eq!(s[0].active.get(), 0);
        assert_eq!((a.count(), b.count()), (1, 1));

        restart_tool_events(3).unwrap();
        enter_scope(&s, &version, &[Event::Line.id()]).unwrap();
        assert_eq!(s[0].active.get(), 0b1000, "only tool 3 is back");
        assert_eq!(s[0].opaque.get(), 0, "opaque untouched in the default mode");
        fire_at(&s[0], Event::Line, c, 2);
        assert_eq!((a.count(), b.count()), (1, 2));

        // Two restarts in a row, one refresh: both come back.
        restart_tool_events(1).unwrap();
        restart_tool_events(3).unwrap();
        enter_scope(&s, &version, &[Event::Line.id()]).unwrap();
        assert_eq!(s[0].active.get(), 0b1010);
        fire_at(&s[0], Event::Line, c, 2);

        // A per-tool restart then an unrelated change: CPython's refresh.
        restart_tool_events(1).unwrap();
        registry::use_tool_id(5, "other").unwrap();
        registry::set_events(5, EventSet::JUMP.bits()).unwrap();
        enter_scope(&s, &version, &[Event::Line.id()]).unwrap();
        assert_eq!(
            s[0].active.get(),
            0b1010,
            "an unrelated change re-enables everyone"
        );

        // An unrelated change then a per-tool restart: also a full refresh
        // for a scope older than the change.
        fire_at(&s[0], Event::Line, c, 2);
        let stale = Cell::new(version.get());
        registry::set_events(5, EventSet::BRANCH.bits()).unwrap();
        restart_tool_events(1).unwrap();
        enter_scope(&s, &stale, &[Event::Line.id()]).unwrap();
        assert_eq!(s[0].active.get(), 0b1010);
        // ... and a restore for a scope refreshed after the change.
        fire_at(&s[0], Event::Line, c, 2);
        restart_tool_events(3).unwrap();
        enter_scope(&s, &stale, &[Event::Line.id()]).unwrap();
        assert_eq!(s[0].active.get(), 0b1000);
    }

    #[test]
    fn restart_events_and_clear_end_every_disable_in_the_default_mode() {
        let _g = registry_lock();
        tool(1, EventSet::PY_START, Outcome::Disable);
        tool(2, EventSet::PY_START, Outcome::Disable);
        restart_tool_events(2).unwrap();
        let s = states(1);
        let version = Cell::new(0);
        enter_scope(&s, &version, &[0]).unwrap();
        fire_at(&s[0], Event::PyStart, code(8), 0);
        assert_eq!(s[0].active.get(), 0);
        registry::restart_events();
        enter_scope(&s, &version, &[0]).unwrap();
        assert_eq!(s[0].active.get(), 0b110);
    }

    /// Lasting mode: a DISABLE silences its site for that tool, survives
    /// unrelated changes and other tools' restarts, and ends with the tool's
    /// own restart.
    #[test]
    fn lasting_mode_keeps_disable_until_that_tool_restarts() {
        let _g = registry_lock();
        set_lasting(true);
        let a = tool(1, EventSet::LINE, Outcome::Disable);
        let b = tool(3, EventSet::LINE, Outcome::Continue);
        let s = states(1);
        let version = Cell::new(0);
        let c = code(0x100);
        enter_scope(&s, &version, &[Event::Line.id()]).unwrap();
        fire_at(&s[0], Event::Line, c, 2);
        assert_eq!((s[0].active.get(), s[0].opaque.get()), (0b1010, SLOT_MARK));
        fire_at(&s[0], Event::Line, c, 2);
        assert_eq!(
            (a.count(), b.count()),
            (1, 2),
            "the site is silent for tool 1"
        );
        // Unrelated changes do not bring tool 1 back.
        registry::use_tool_id(5, "other").unwrap();
        registry::set_events(5, EventSet::JUMP.bits()).unwrap();
        restart_tool_events(3).unwrap();
        enter_scope(&s, &version, &[Event::Line.id()]).unwrap();
        assert_eq!(s[0].active.get(), 0b1010);
        fire_at(&s[0], Event::Line, c, 2);
        assert_eq!((a.count(), b.count()), (1, 3));
        // Its restart does.
        restart_tool_events(1).unwrap();
        enter_scope(&s, &version, &[Event::Line.id()]).unwrap();
        assert_eq!((s[0].active.get(), s[0].opaque.get()), (0b1010, SLOT_MARK));
        fire_at(&s[0], Event::Line, c, 2);
        assert_eq!((a.count(), b.count()), (2, 4));
    }

    /// The rule the mode exists for: one LINE slot serves every line of an
    /// activation, and a DISABLE at one line leaves the slot's other lines
    /// firing, in this activation and the next.
    #[test]
    fn other_sites_of_the_slot_keep_firing() {
        let _g = registry_lock();
        set_lasting(true);
        let a = tool(2, EventSet::LINE, Outcome::Disable);
        let c = code(0x1100);
        let activation = |lines: &[i32]| {
            let s = states(1);
            enter_scope(&s, &Cell::new(0), &[Event::Line.id()]).unwrap();
            for &l in lines {
                let firing = Firing {
                    lineno: l + 100,
                    ..Firing::new(Event::Line, c, l)
                };
                fire(&s[0], firing).unwrap();
                assert_eq!(s[0].active.get(), 0b100, "the slot stays active");
            }
        };
        activation(&[1, 2, 3, 2, 1, 3]);
        assert_eq!(a.count(), 3, "each line once");
        activation(&[1, 2, 3, 4]);
        assert_eq!(a.count(), 4, "a new line once, the others never again");
        assert_eq!(sites::remembered(), 4);
    }

    /// LINE's site includes the line number: Cython fires every line of a
    /// generator body at offset 0.
    #[test]
    fn lines_at_one_offset_are_distinct_sites() {
        let _g = registry_lock();
        set_lasting(true);
        let a = tool(0, EventSet::LINE, Outcome::Disable);
        let c = code(0x1200);
        let s = states(1);
        enter_scope(&s, &Cell::new(0), &[Event::Line.id()]).unwrap();
        for pass in 0..2 {
            for l in 1..=40 {
                let firing = Firing {
                    lineno: l,
                    ..Firing::new(Event::Line, c, 0)
                };
                fire(&s[0], firing).unwrap();
            }
            assert_eq!(a.count(), 40, "pass {pass}");
        }
    }

    /// Fresh per-call states (Cython) skip remembered sites without a
    /// callback; other sites of the same code-like still call it.
    #[test]
    fn fresh_states_skip_remembered_sites() {
        let _g = registry_lock();
        set_lasting(true);
        let a = tool(2, EventSet::LINE | EventSet::PY_START, Outcome::Disable);
        let c = code(0x200);
        let call = |offset: i32| {
            let s = states(2);
            let version = Cell::new(0);
            enter_scope(&s, &version, &[Event::PyStart.id(), Event::Line.id()]).unwrap();
            assert_eq!(s[1].active.get(), 0b100);
            fire_at(&s[0], Event::PyStart, c, 0);
            fire_at(&s[1], Event::Line, c, offset);
            (
                s[0].active.get(),
                s[0].opaque.get(),
                s[1].active.get(),
                s[1].opaque.get(),
            )
        };
        const M: u8 = SLOT_MARK;
        assert_eq!(call(4), (0b100, M, 0b100, M));
        assert_eq!(a.count(), 2);
        assert_eq!(sites::remembered(), 2);
        assert_eq!(call(4), (0b100, M, 0b100, M), "skipped, nothing written");
        assert_eq!(a.count(), 2, "no callback at remembered sites");
        call(6);
        assert_eq!(a.count(), 3, "another offset is another site");
        let other = code(0x300);
        let s = states(1);
        enter_scope(&s, &Cell::new(0), &[Event::Line.id()]).unwrap();
        fire_at(&s[0], Event::Line, other, 4);
        assert_eq!(a.count(), 4, "another code-like is another site");
    }

    #[test]
    fn restart_clear_and_free_forget_sites() {
        let _g = registry_lock();
        set_lasting(true);
        let a = tool(2, EventSet::LINE, Outcome::Disable);
        let b = tool(4, EventSet::LINE, Outcome::Disable);
        let c = code(0x400);
        let call = || {
            let s = states(1);
            enter_scope(&s, &Cell::new(0), &[Event::Line.id()]).unwrap();
            fire_at(&s[0], Event::Line, c, 1);
            (a.count(), b.count())
        };
        assert_eq!(call(), (1, 1));
        assert_eq!(call(), (1, 1));
        restart_tool_events(2).unwrap();
        assert_eq!(call(), (2, 1), "only tool 2 is called again");
        registry::restart_events();
        assert_eq!(call(), (3, 2), "RestartEvents forgets every tool");
        assert_eq!(call(), (3, 2));
        registry::clear_tool_id(4).unwrap();
        registry::set_events(4, EventSet::LINE.bits()).unwrap();
        registry::register_callback(4, Event::Line as i64, Some(b.clone())).unwrap();
        assert_eq!(call(), (3, 3), "a clear forgets the tool");
        registry::free_tool_id(2).unwrap();
        assert_eq!(sites::remembered(), 1);
        let a2 = tool(2, EventSet::LINE, Outcome::Continue);
        call();
        assert_eq!(a2.count(), 1, "a freed tool's sites are forgotten");
    }

    #[test]
    fn a_full_table_calls_the_callback() {
        let _g = registry_lock();
        set_lasting(true);
        let a = tool(0, EventSet::LINE, Outcome::Disable);
        let c = code(0x500);
        let n = 2 * sites::SITES as i32;
        let pass = || {
            let before = a.count();
            for offset in 0..n {
                let s = states(1);
                enter_scope(&s, &Cell::new(0), &[Event::Line.id()]).unwrap();
                fire_at(&s[0], Event::Line, c, offset);
                assert_eq!(s[0].active.get(), 1, "the slot is never silenced");
            }
            a.count() - before
        };
        assert_eq!(pass(), n as usize);
        let kept = sites::remembered();
        assert!(kept <= sites::SITES && kept > sites::SITES / 2, "{kept}");
        assert_eq!(
            pass(),
            n as usize - kept,
            "the sites not remembered call the callback"
        );
        assert_eq!(pass(), n as usize - kept);
    }

    #[test]
    fn non_local_disable_keeps_cpythons_rule() {
        let _g = registry_lock();
        set_lasting(true);
        let a = tool(1, EventSet::RAISE, Outcome::Disable);
        let s = states(1);
        enter_scope(&s, &Cell::new(0), &[Event::Raise.id()]).unwrap();
        crate::error::set_raised(Some(code(0x99)));
        let err = fire(&s[0], Firing::new(Event::Raise, code(0x600), 3));
        assert!(err.is_err());
        let Some(crate::error::Pending::Error(e)) = crate::error::take() else {
            panic!("a ValueError is pending")
        };
        assert_eq!(
            e.message(),
            "Cannot disable RAISE events. Callback removed."
        );
        assert_eq!(a.count(), 1);
        assert!(registry::get_callback(1, Event::Raise as i64)
            .unwrap()
            .is_none());
        assert_eq!((s[0].active.get(), s[0].opaque.get()), (0b10, SLOT_MARK));
        assert_eq!(sites::remembered(), 0);
    }

    #[test]
    fn switching_the_mode_off_brings_cpythons_rules_back() {
        let _g = registry_lock();
        set_lasting(true);
        let a = tool(1, EventSet::PY_START, Outcome::Disable);
        let s = states(1);
        let version = Cell::new(0);
        enter_scope(&s, &version, &[0]).unwrap();
        fire_at(&s[0], Event::PyStart, code(0x700), 0);
        assert_eq!(sites::remembered(), 1);
        set_lasting(false);
        assert_eq!(sites::remembered(), 0, "switching off forgets every site");
        enter_scope(&s, &version, &[0]).unwrap();
        assert_eq!(s[0].active.get(), 0b10);
        fire_at(&s[0], Event::PyStart, code(0x700), 0);
        assert_eq!(a.count(), 2);
        assert_eq!(s[0].active.get(), 0, "CPython's DISABLE: the slot");
        assert_eq!(
            s[0].opaque.get(),
            SLOT_MARK,
            "the default mode leaves opaque as it was"
        );
        registry::use_tool_id(4, "other").unwrap();
        registry::set_events(4, EventSet::JUMP.bits()).unwrap();
        enter_scope(&s, &version, &[0]).unwrap();
        assert_eq!(s[0].active.get(), 0b10, "any change re-enables, as CPython");
        // Switching on again restarts everyone: stale opaque bits are dropped.
        set_lasting(true);
        enter_scope(&s, &version, &[0]).unwrap();
        assert_eq!((s[0].active.get(), s[0].opaque.get()), (0b10, SLOT_MARK));
    }

    /// A marked slot with no tool active takes CPython's checks, in the mode
    /// and with the mode switched off: `_PyMonitoring_Fire*` still check the
    /// exception and the offset.
    #[test]
    fn an_inactive_marked_slot_takes_cpythons_checks() {
        let _g = registry_lock();
        set_lasting(true);
        registry::use_tool_id(1, "t").unwrap();
        let s = states(1);
        enter_scope(&s, &Cell::new(0), &[0]).unwrap();
        assert_eq!((s[0].active.get(), s[0].opaque.get()), (0, SLOT_MARK));
        let raise = || fire(&s[0], Firing::new(Event::Raise, code(0x900), 0));
        let negative = || fire(&s[0], Firing::new(Event::PyStart, code(0x900), -1));
        let message = || match crate::error::take() {
            Some(crate::error::Pending::Error(e)) => e.message().to_owned(),
            other => panic!("expected a library error, got {other:?}"),
        };
        for on in [true, false] {
            set_lasting(on);
            assert!(raise().is_err());
            assert_eq!(message(), "Firing event 11 with no exception set");
            assert!(negative().is_err());
            assert_eq!(message(), "offset must be non-negative");
        }
        assert_eq!(s[0].opaque.get(), SLOT_MARK, "opaque as it was");
    }

    #[test]
    fn a_version_from_elsewhere_counts_as_everything_restarted() {
        let _g = registry_lock();
        set_lasting(true);
        tool(1, EventSet::PY_START, Outcome::Disable);
        let s = states(1);
        s[0].opaque.set(0b10);
        enter_scope(&s, &Cell::new(u64::MAX), &[0]).unwrap();
        assert_eq!((s[0].active.get(), s[0].opaque.get()), (0b10, SLOT_MARK));
    }

    #[test]
    fn a_tool_without_a_disable_is_called_at_a_site_others_disabled() {
        let _g = registry_lock();
        set_lasting(true);
        let a = tool(1, EventSet::CALL, Outcome::Disable);
        let b = tool(2, EventSet::CALL, Outcome::Continue);
        for _ in 0..3 {
            let s = states(1);
            enter_scope(&s, &Cell::new(0), &[Event::Call.id()]).unwrap();
            fire_at(&s[0], Event::Call, code(0x800), 10);
            assert_eq!((s[0].active.get(), s[0].opaque.get()), (0b110, SLOT_MARK));
        }
        assert_eq!((a.count(), b.count()), (1, 3));
    }

    /// Threads fire at shared sites on fresh states while another restarts
    /// and a callback DISABLEs: no crash, every delivery is the site fired
    /// and a tool with events, and once the threads stop the memory is exact
    /// again (a pass calls each site once, the next pass none).
    #[test]
    fn threads_fire_while_another_restarts() {
        use std::sync::atomic::{AtomicBool, Ordering as O};
        struct Check(std::sync::atomic::AtomicUsize);
        impl crate::registry::Handler for Check {
            fn call(&self, e: &crate::dispatch::EventRecord) -> Outcome {
                assert_eq!(e.event, Event::Line);
                assert_eq!(e.tool, 3);
                assert_eq!(e.codelike.addr() % 0x1000, 0);
                assert_eq!(e.lineno, e.offset + 1000);
                self.0.fetch_add(1, O::Relaxed);
                Outcome::Disable
            }
            fn as_any(&self) -> &dyn std::any::Any {
                self
            }
        }
        let _g = registry_lock();
        set_lasting(true);
        let check = Arc::new(Check(std::sync::atomic::AtomicUsize::new(0)));
        registry::use_tool_id(3, "cov").unwrap();
        registry::register_callback(3, Event::Line as i64, Some(check.clone())).unwrap();
        registry::set_events(3, EventSet::LINE.bits()).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let pass = |code: usize| {
            for offset in 0..64 {
                let s = states(1);
                enter_scope(&s, &Cell::new(0), &[Event::Line.id()]).unwrap();
                let firing = Firing {
                    lineno: offset + 1000,
                    ..Firing::new(Event::Line, ObjectRef::from_addr(code).unwrap(), offset)
                };
                fire(&s[0], firing).unwrap();
                assert_eq!(s[0].active.get(), 0b1000, "the slot stays active");
            }
        };
        std::thread::scope(|scope| {
            for t in 0..3 {
                let stop = stop.clone();
                scope.spawn(move || {
                    while !stop.load(O::Relaxed) {
                        pass(0x1000 * (1 + t % 2));
                    }
                });
            }
            for _ in 0..200 {
                restart_tool_events(3).unwrap();
                std::thread::yield_now();
            }
            stop.store(true, O::Relaxed);
        });
        restart_tool_events(3).unwrap();
        let before = check.0.load(O::Relaxed);
        pass(0x1000);
        assert_eq!(check.0.load(O::Relaxed) - before, 64);
        pass(0x1000);
        assert_eq!(
            check.0.load(O::Relaxed) - before,
            64,
            "every site remembered"
        );
    }
}
