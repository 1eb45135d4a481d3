//! `EnterScope`: fill a scope's slots with the tools of their events (SPEC §6).

use std::cell::Cell;

use crate::error::Error;
use crate::event::Event;
use crate::registry;

/// One slot of a scope, laid out as C's `PyMonitoringState`: 2 bytes,
/// `active` first. `opaque` belongs to the caller and is never touched.
#[repr(C)]
#[derive(Debug, Default)]
pub struct SlotState {
    /// Bit t set: tool t gets this slot's event.
    pub active: Cell<u8>,
    /// The caller's byte.
    pub opaque: Cell<u8>,
}

const _: () = assert!(std::mem::size_of::<SlotState>() == 2);
const _: () = assert!(std::mem::align_of::<SlotState>() == 1);

/// Enter a scope: when `version` is current nothing is read or written;
/// otherwise every slot's `active` gets the tools of its event (C_RETURN and
/// C_RAISE get CALL's, BRANCH gets BRANCH_RIGHT's) and `version` is updated.
///
/// An event id of 19 or more is a ValueError and nothing is written.
/// `states` and `event_types` must have the same length.
#[inline]
pub fn enter_scope(
    states: &[SlotState],
    version: &Cell<u64>,
    event_types: &[u8],
) -> Result<(), Error> {
    if version.get() == registry::version_relaxed() {
        return Ok(());
    }
    refresh(states, version, event_types)
}

/// The refresh half of [`enter_scope`], for callers that already saw a stale
/// version: validate every id (a ValueError and nothing written), then fill
/// every slot and store the version.
#[cold]
#[inline(never)]
pub fn refresh(states: &[SlotState], version: &Cell<u64>, event_types: &[u8]) -> Result<(), Error> {
    refresh_inline(states, version, event_types)
}

/// [`refresh`], inlined into the C entry point's (already out-of-line) slow
/// path so it costs no second call and frame.
#[inline(always)]
pub(crate) fn refresh_inline(
    states: &[SlotState],
    version: &Cell<u64>,
    event_types: &[u8],
) -> Result<(), Error> {
    debug_assert_eq!(states.len(), event_types.len());
    if !all_valid(event_types) {
        return Err(invalid_event(event_types));
    }
    // Version first: if a writer races, the stored copy is the older one and
    // the next entry refreshes again.
    let current = registry::version();
    // Issue 7 hook: once a per-tool restart or the lasting mode was used,
    // refreshes take `lasting::refresh` (one relaxed load until then).
    if registry::global().restarts.gate() {
        crate::lasting::refresh(states, version, event_types, current);
        return Ok(());
    }
    for (slot, &id) in states.iter().zip(event_types) {
        slot.active.set(registry::scope_mask_by_id(id));
    }
    version.set(current);
    Ok(())
}

/// Whether every id is below [`Event::COUNT`], eight at a time: a byte `b`
/// is bad when `b >= 128` or `(b & 0x7f) + (128 - COUNT)` reaches 128 (no
/// carry crosses bytes: 127 + 109 < 256). The failing index is found only on
/// the error path.
#[inline(always)]
fn all_valid(event_types: &[u8]) -> bool {
    const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const ADD: u64 = u64::from_ne_bytes([128 - Event::COUNT as u8; 8]);
    let mut chunks = event_types.chunks_exact(8);
    // Early exits keep these loops scalar: vectorised, their set-up costs
    // more than it saves for the usual 1-20 slots.
    for chunk in &mut chunks {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        let x = u64::from_ne_bytes(b);
        if (((x & LOW) + ADD) | x) & HIGH != 0 {
            return false;
        }
    }
    chunks
        .remainder()
        .iter()
        .all(|&e| usize::from(e) < Event::COUNT)
}

#[cold]
#[inline(never)]
fn invalid_event(event_types: &[u8]) -> Error {
    let i = event_types
        .iter()
        .position(|&e| usize::from(e) >= Event::COUNT)
        .unwrap_or(0);
    Error::value(format!(
        "invalid event {} in event_types[{i}] (must be between 0 and {})",
        event_types[i],
        Event::COUNT - 1
    ))
}

/// Exit a scope. Scopes keep no stack, so Enter and Exit need not balance.
pub fn exit_scope() {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventSet;
    use crate::test_support::registry_lock;

    fn slots(n: usize, active: u8, opaque: u8) -> Vec<SlotState> {
        (0..n)
            .map(|_| SlotState {
                active: Cell::new(active),
                opaque: Cell::new(opaque),
            })
            .collect()
    }

    #[test]
    fn current_version_touches_nothing() {
        let _g = registry_lock();
        let states = slots(2, 0xAA, 0x55);
        let version = Cell::new(registry::version());
        enter_scope(&states, &version, &[0, 200]).unwrap();
        assert_eq!(states[0].active.get(), 0xAA);
        assert_eq!(states[1].active.get(), 0xAA);
    }

    #[test]
    fn refresh_fills_every_slot_and_keeps_opaque() {
        let _g = registry_lock();
        registry::use_tool_id(2, "a").unwrap();
        registry::use_tool_id(4, "b").unwrap();
        registry::set_events(2, (EventSet::PY_START | EventSet::CALL).bits()).unwrap();
        registry::set_events(4, (EventSet::PY_START | EventSet::BRANCH_RIGHT).bits()).unwrap();
        let states = slots(6, 0xFF, 7);
        let version = Cell::new(u64::MAX);
        let events = [0, 16, 17, 18, 8, 5];
        enter_scope(&states, &version, &events).unwrap();
        let got: Vec<u8> = states.iter().map(|s| s.active.get()).collect();
        assert_eq!(got, [0b10100, 0b100, 0b100, 0b10000, 0, 0]);
        assert!(states.iter().all(|s| s.opaque.get() == 7));
        assert_eq!(version.get(), registry::version());
    }

    #[test]
    fn bad_event_id_writes_nothing() {
        let _g = registry_lock();
        let states = slots(3, 9, 9);
        let version = Cell::new(u64::MAX);
        let err = enter_scope(&states, &version, &[0, 1, 19]).unwrap_err();
        assert_eq!(
            err.message(),
            "invalid event 19 in event_types[2] (must be between 0 and 18)"
        );
        assert!(states.iter().all(|s| s.active.get() == 9));
        assert_eq!(version.get(), u64::MAX);
    }
}
