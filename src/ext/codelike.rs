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

use crate::event::{Event, EventSet};
use crate::failure::Error;
use crate::object::ObjectRef;
use crate::registry::{self, check_tool};
use crate::scope::{self, SlotState};
use crate::sync::Ordering;

pub use crate::ext::codelike_tables::{
    delivered, ArmKind, Arming, Entry, Snapshot, MAX_CODELIKES, MAX_SITES,
};

/// Whether any (tool, code-like) is armed (for tests; the dispatch learns
/// it from the callback table it holds).
#[cfg(test)]
pub(crate) fn any_armed() -> bool {
    registry::global()
        .ext()
        .codelikes
        .armed
        .load(Ordering::Relaxed)
}

/// Run `f` on the current snapshot through this thread's copy (kept in
/// the thread's state, given back at thread exit): no lock unless the copy
/// is stale. `f` must not call back into user code.
#[inline]
fn with_snapshot<R>(f: impl FnOnce(Option<&Snapshot>) -> R) -> R {
    let reg = registry::global();
    let current = reg.ext().codelikes.version();
    crate::thread::with(|t| t.with_codelikes(current, || reg.codelikes_snapshot(), f))
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
    registry::global().edit_codelikes(tool, true, |w| {
        w.codelikes.edit(codelike, |e| {
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
    registry::global().edit_codelikes(tool, false, |w| {
        w.codelikes.edit(codelike, |e| {
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
    registry::global().edit_codelikes(tool, false, |w| {
        w.codelikes.edit(codelike, |e| {
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

/// The refresh half of [`enter_code_scope`]: the core's reference refresh
/// (`scope::try_refresh_with`) with `codelike`'s local tools ORed in.
#[cold]
#[inline(never)]
pub fn refresh_code_scope(
    states: &[SlotState],
    version: &Cell<u64>,
    event_types: &[u8],
    codelike: ObjectRef,
) -> Result<(), Error> {
    scope::try_refresh_with(states, version, event_types, || local_masks(codelike))
        .map_err(|scope::InvalidEvent| scope::invalid_event(event_types))
}

/// For each slot event id, `codelike`'s local tools that may enter a slot
/// (its local events, through the callback filter of
/// `ACTIVE_NEEDS_CALLBACK`); `None` when no code-like has local events or
/// this one has none. Read after the version the refresh stores, so a
/// change published later leaves that version stale and the next entry
/// refreshes again.
pub(crate) fn local_masks(codelike: ObjectRef) -> Option<[u8; Event::COUNT]> {
    let shared = &registry::global().ext().codelikes;
    if !shared.local.load(Ordering::Relaxed) {
        return None;
    }
    with_snapshot(|snap| {
        let entry = snap.and_then(|s| s.get(codelike))?;
        Some(std::array::from_fn(|id| {
            entry.masks[id] & shared.filter[id].load(Ordering::Relaxed)
        }))
    })
}

#[cfg(test)]
mod tests;
