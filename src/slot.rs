//! One scope slot, the record EnterScope fills and a fire reads: a leaf
//! the refresh, the dispatch and the extensions all name.

use std::cell::Cell;

/// One slot of a scope, laid out as C's `PyMonitoringState`: 2 bytes,
/// `active` first. `opaque` belongs to the caller, except in the opt-in
/// lasting-DISABLE mode (`crate::ext::lasting`), whose refresh marks the slot
/// there.
#[repr(C)]
#[derive(Debug, Default)]
pub struct SlotState {
    /// Bit t set: tool t gets this slot's event.
    pub active: Cell<u8>,
    /// The caller's byte (the lasting mode's in that mode).
    pub opaque: Cell<u8>,
}

const _: () = assert!(std::mem::size_of::<SlotState>() == 2);
const _: () = assert!(std::mem::align_of::<SlotState>() == 1);

/// The longest state array a slice can cover (2-byte slots).
pub const MAX_SCOPE_LEN: usize = isize::MAX as usize / 2;
