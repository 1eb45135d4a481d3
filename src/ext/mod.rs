//! The opt-in extensions (`docs/EXTENSIONS.md`): lasting DISABLE, per-tool
//! restart, local events and armed sites for code-likes, and the options.

pub mod codelike;
pub(crate) mod codelike_tables;
pub mod lasting;
pub(crate) mod option_bits;
pub mod options;
pub(crate) mod remember;
pub(crate) mod restarts;
pub mod sites;
pub(crate) mod trie;

use std::cell::Cell;

use crate::registry;
use crate::slot::SlotState;

/// `opaque` bit marking a slot refreshed in the lasting mode: fires on it
/// take the mode's path (which falls back to the default one when the mode
/// is off). The default mode never writes `opaque`.
pub const SLOT_MARK: u8 = 0x80;

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
    if lasting::lasting_mode() {
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
