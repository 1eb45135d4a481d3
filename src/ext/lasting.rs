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
//!   line, tool)` — in [`crate::ext::sites`]; a fire on a marked slot skips
//!   (without a callback, and writing nothing) the tools remembered for its
//!   site. Other sites of the slot keep firing; the site stays silent for
//!   the tool until the table forgets it (the tool's restart, clear or free,
//!   `RestartEvents`, a switch of the mode).

use std::cell::Cell;

use crate::dispatch::{self, FireRecord, Firing};
use crate::event::Event;
use crate::ext::options::{self, LASTING_DISABLE};
use crate::ext::sites;
pub use crate::ext::SLOT_MARK;
use crate::failure::{Error, ErrorSet};
use crate::object::ObjectRef;
use crate::registry;
use crate::slot::SlotState;

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
/// remembered for the site, or a non-local event.
#[inline(always)]
pub fn skipped_fast(
    slot: &SlotState,
    event: Event,
    codelike: ObjectRef,
    offset: i32,
    line: u64,
) -> Skip {
    skipped_fast_at(slot, event, codelike.addr(), offset, line)
}

/// [`skipped_fast`] for a code-like's address, which may be 0 (no
/// code-like: never [`Skip::Done`]), so the C entry points check it only
/// off the skip.
#[inline(always)]
pub fn skipped_fast_at(
    slot: &SlotState,
    event: Event,
    codelike: usize,
    offset: i32,
    line: u64,
) -> Skip {
    if !event.is_local() {
        return Skip::Fire;
    }
    // No tool active: no key matches (a key holds a tool's bit), and the
    // scan finds none.
    match sites::table().home_at(codelike as u64, offset, event, line, &slot.active) {
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

#[cfg(all(test, not(loom)))]
mod tests;
