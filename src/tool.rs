//! Tool ids: how many a slot's `active` byte holds and which users claim.
//! A leaf, so the tables sized by them need not import the registry.

/// Number of tool ids (bits of `PyMonitoringState::active`).
pub const TOOL_IDS: usize = 8;

/// Highest tool id users may claim; 6 and 7 are reserved as in CPython.
pub const MAX_USER_TOOL: u8 = 5;
