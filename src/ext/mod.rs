//! The opt-in extensions (`docs/EXTENSIONS.md`) behind one seam: lasting
//! DISABLE, per-tool restart, local events and armed sites for code-likes,
//! callback-aware masks and the host's event numbering (the options).
//!
//! This module is the façade: the only part of the extensions the core
//! (`registry`, `scope`, `dispatch`, `thread`) names. It imports leaves
//! only (`event`, `record`, `slot`, `sync`, `tool` and the extensions' own
//! leaves `restarts`, `codelike_tables`, `sites`, `remember`,
//! `option_bits`, `trie`), so the core may import it without a circle; what
//! it needs of the core comes in as arguments (the registry's masks, the
//! callback table's version). The extensions' operations (`lasting`,
//! `codelike`, `options`) sit above the core and call it; nothing in the
//! core imports them (docs/ARCHITECTURE.md, "The seam").
//!
//! The registry holds the extensions' state as one field, [`State`] (what
//! readers load without a lock), and keeps its writers' half, [`Writers`],
//! under its lock. The core calls the façade at named points:
//!
//! | Point | Called by | Method |
//! |---|---|---|
//! | a tool is cleared, freed or moves | `Registry::clear_claimed`, `make_way` | [`State::tool_cleared`] |
//! | an unused claim ends | `Registry::release_claim` | [`State::tool_released`] |
//! | events restarted (all tools) | `Registry::restart_events` | [`State::events_restarted`] |
//! | one tool restarted | `Registry::restart_tool_events` | [`State::tool_restarted`] |
//! | options set | `Registry::set_options` | [`State::options_set`], [`State::options_set_unpublished`] |
//! | scope masks stored | `Registry::store_masks` | [`State::local_filter_stored`] |
//! | refresh of a marked scope | `scope::try_refresh_with` | [`State::refresh_gate_open`], [`State::refresh_marked`] |
//! | DISABLE in the lasting mode | `dispatch::after_callback` | [`State::lasting_mode`], [`remember_disable`] |
//! | armed filter in dispatch | `dispatch::walk` | [`Snapshot::filter_armed`] (carried by the callback table) |
//!
//! The fire of a marked slot is the C layer's (`ffi::fire`, `marked`) and
//! the Rust API's (`lasting::fire`): the core's dispatch never sees the mark.

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
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use crate::event::Event;
use crate::ext::codelike_tables::{Shared, Tables};
use crate::ext::option_bits::{ACTIVE_NEEDS_CALLBACK, CPYTHON_313_EVENT_IDS, LASTING_DISABLE};
use crate::ext::restarts::Restarts;
use crate::slot::{SlotState, MAX_SCOPE_LEN};
use crate::sync::{AtomicU32, Ordering};

pub(crate) use crate::ext::codelike_tables::{delivered, Snapshot};
pub(crate) use crate::ext::remember::remember_disable;

/// The extensions' state the registry holds: what readers load without a
/// lock. Written by registry writers (under the registry's lock) before the
/// version bump they precede, read Relaxed after the version (Acquire), see
/// `docs/CONCURRENCY.md`.
pub(crate) struct State {
    /// The option word (`crate::ext::options`).
    options: AtomicU32,
    /// The longest scope the C layer refreshes without looking at the
    /// options: [`MAX_SCOPE_LEN`], or 0 while the host's event numbering is
    /// on (`CPYTHON_313_EVENT_IDS`), which then sends every refresh through
    /// its length check to the translation. One compare the refresh makes
    /// anyway, so the numbering costs other refreshes nothing.
    refresh_limit: AtomicUsize,
    /// Per-tool restart and the lasting mode: the refresh route byte and
    /// each tool's last restart (`crate::ext::lasting`).
    restarts: Restarts,
    /// Code-likes: what readers of the local events and armed sites see
    /// (`crate::ext::codelike`).
    codelikes: Shared,
}

/// The extensions' state only registry writers touch (under the registry's
/// lock): the code-likes' tables.
pub(crate) struct Writers {
    codelikes: Tables,
}

impl Writers {
    /// Nothing set.
    pub(crate) const fn new() -> Writers {
        Writers {
            codelikes: Tables::new(),
        }
    }
}

/// Where [`State`]'s option word is, for the FFI layer's direct load
/// (`crate::ffi::table::lasting_mode`).
#[cfg(all(target_arch = "x86_64", not(loom)))]
pub(crate) const OPTIONS: usize = std::mem::offset_of!(State, options);

impl State {
    /// No option, no restart, nothing published.
    #[cfg(not(loom))]
    pub(crate) const fn new() -> State {
        State {
            options: AtomicU32::new(0),
            refresh_limit: AtomicUsize::new(MAX_SCOPE_LEN),
            restarts: Restarts::new(),
            codelikes: Shared::new(),
        }
    }

    /// No option, no restart, nothing published.
    #[cfg(loom)]
    pub(crate) fn new() -> State {
        State {
            options: AtomicU32::new(0),
            refresh_limit: AtomicUsize::new(MAX_SCOPE_LEN),
            restarts: Restarts::new(),
            codelikes: Shared::new(),
        }
    }

    /// The options in force (a relaxed load).
    #[inline(always)]
    pub(crate) fn options(&self) -> u32 {
        self.options.load(Ordering::Relaxed)
    }

    /// Whether the lasting-DISABLE mode is on: a DISABLE from a local event
    /// is remembered for its site ([`remember_disable`]) instead of
    /// clearing the slot's bit.
    #[inline(always)]
    pub(crate) fn lasting_mode(&self) -> bool {
        self.options() & LASTING_DISABLE != 0
    }

    /// Whether scope masks hold only tools with a callback for the slot's
    /// delivered event (`ACTIVE_NEEDS_CALLBACK`).
    #[inline(always)]
    pub(crate) fn needs_callback(&self) -> bool {
        self.options() & ACTIVE_NEEDS_CALLBACK != 0
    }

    /// Whether anything of the extensions shapes a refresh: an option set,
    /// or the refresh gate open (`Registry::idle_version`).
    pub(crate) fn shapes_refresh(&self) -> bool {
        self.options() != 0 || self.restarts.gate()
    }

    /// See `refresh_limit`: a relaxed load, after the version.
    #[inline(always)]
    pub(crate) fn refresh_limit(&self) -> usize {
        self.refresh_limit
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The refresh gate: whether refreshes go through
    /// [`State::refresh_marked`] (open from the first per-tool restart,
    /// lasting-mode switch or use of the host's numbering on). One relaxed
    /// byte load and test.
    #[inline(always)]
    pub(crate) fn refresh_gate_open(&self) -> bool {
        self.restarts.gate()
    }

    /// The refresh route byte: the gate in its top bit, the lasting mode's
    /// `MARKED` bit, the C layer's kernel choice below (`ffi::simd::route`),
    /// one relaxed load.
    #[inline(always)]
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn route(&self) -> u8 {
        self.restarts.route()
    }

    /// Whether the default mode's gated refresh of a scope last refreshed
    /// at version `v` (to `current`, read with Acquire before this) is
    /// CPython's (`active = mask`, see [`State::refresh_marked`]): not only
    /// per-tool restarts happened since `v`. The C layer's kernels make it
    /// then. Relaxed loads, after the version.
    #[inline(always)]
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn refresh_is_cpythons(&self, v: u64, current: u64) -> bool {
        !self.restarts.only_restarts(v, current)
    }

    /// The route byte itself, for the header's inline refresh (read only
    /// there, Relaxed, after the version).
    #[cfg(not(loom))]
    pub(crate) const fn route_byte(&self) -> &std::sync::atomic::AtomicU8 {
        self.restarts.route_byte()
    }

    /// Record the C layer's kernel choice in the route byte.
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn set_route(&self, kernel: u8) {
        self.restarts.set_route(kernel)
    }

    /// Writer: `tool` was cleared (also freed, or moved away by a movable
    /// claim) with the bump from `current`: it counts as restarted, its
    /// remembered sites are forgotten (after `forgetting`, which moves the
    /// callback table's version) and its code-like settings dropped.
    /// Returns whether the code-likes' tables changed (publish them).
    pub(crate) fn tool_cleared(
        &self,
        w: &mut Writers,
        tool: u8,
        current: u64,
        forgetting: impl FnOnce(),
    ) -> bool {
        self.restarts.tool_restarted(tool, current);
        forgetting();
        crate::ext::sites::table().forget_tool(tool);
        w.codelikes.drop_tool(tool)
    }

    /// Writer: a claim never given events or callbacks ended: only its
    /// code-like settings go. Returns whether the tables changed.
    pub(crate) fn tool_released(&self, w: &mut Writers, tool: u8) -> bool {
        w.codelikes.drop_tool(tool)
    }

    /// Writer: every tool restarts with the bump from `current`
    /// (`RestartEvents`); every remembered site is forgotten after
    /// `forgetting`.
    pub(crate) fn events_restarted(&self, current: u64, forgetting: impl FnOnce()) {
        self.restarts.all_restarted(current);
        forgetting();
        crate::ext::sites::table().forget_all();
    }

    /// Writer: a per-tool restart of `tool`, whose own bump goes from
    /// `current`; its remembered sites are forgotten after `forgetting`.
    pub(crate) fn tool_restarted(&self, tool: u8, current: u64, forgetting: impl FnOnce()) {
        forgetting();
        crate::ext::sites::table().forget_tool(tool);
        self.restarts.per_tool_restart(tool, current);
    }

    /// Writer: the options become `options` (checked) with the bump from
    /// `current`. Switching the lasting mode restarts every tool and
    /// forgets every site (after `forgetting`).
    pub(crate) fn options_set(&self, options: u32, current: u64, forgetting: impl FnOnce()) {
        if (self.options() ^ options) & LASTING_DISABLE != 0 {
            self.restarts.mode_switched(current);
            forgetting();
            crate::ext::sites::table().forget_all();
        }
        self.store_options(options);
    }

    /// Writer: the options set before anything was published (version 0,
    /// no tool in use): no site can be remembered yet.
    pub(crate) fn options_set_unpublished(&self, options: u32) {
        if (self.options() ^ options) & LASTING_DISABLE != 0 {
            self.restarts.mode_switched(0);
        }
        self.store_options(options);
    }

    /// Store the word, after routing refreshes: they must reach the
    /// translation while the host's numbering is on (the gate sends every
    /// refresh through the C layer's length check), and the C layer's
    /// kernels with the mark while only the lasting mode shapes them.
    fn store_options(&self, options: u32) {
        let on = options & CPYTHON_313_EVENT_IDS != 0;
        if on {
            self.restarts.open_gate();
        }
        self.restarts
            .set_marked(options & LASTING_DISABLE != 0 && !on);
        self.refresh_limit.store(
            if on { 0 } else { MAX_SCOPE_LEN },
            std::sync::atomic::Ordering::Relaxed,
        );
        self.options.store(options, Ordering::Relaxed);
    }

    /// Writer, with the scope masks: store the code-likes' local-events
    /// filter of slot event `event` (`callbacks`: the tools with a
    /// callback for its delivered event, all with no option). Returns
    /// whether the change reaches a scope (a local slot, while some
    /// code-like has local events), which then moves the version.
    pub(crate) fn local_filter_stored(&self, event: Event, callbacks: u8) -> bool {
        self.codelikes.store_filter(event, callbacks)
            && event.scope_source().is_local()
            && self.codelikes.has_local()
    }

    /// Writer: publish the code-likes' snapshot to its readers; returns what
    /// the callback table must carry for the dispatch's armed filter (the
    /// snapshot while anything is armed).
    pub(crate) fn publish(&self, w: &Writers) -> Option<Arc<Snapshot>> {
        self.codelikes.publish(&w.codelikes);
        w.codelikes.current().filter(|s| s.any_armed())
    }

    /// The code-likes' current snapshot and its version (under the
    /// registry's lock, so they belong together).
    pub(crate) fn snapshot(&self, w: &Writers) -> (u64, Option<Arc<Snapshot>>) {
        (self.codelikes.version(), w.codelikes.current())
    }

    /// Test-only: back to no option (the mode switched off counts as a
    /// switch) and no code-like setting; the sites are forgotten after
    /// `forgetting`. The gate stays as it is.
    #[cfg(test)]
    pub(crate) fn reset_for_tests(&self, w: &mut Writers, current: u64, forgetting: impl FnOnce()) {
        if self.options() != 0 {
            self.restarts.mode_switched(current);
        }
        self.store_options(0);
        w.codelikes = Tables::new();
        forgetting();
        crate::ext::sites::table().forget_all();
    }
}

/// `opaque` bit marking a slot refreshed in the lasting mode: fires on it
/// take the mode's path (which falls back to the default one when the mode
/// is off). The default mode never writes `opaque`.
pub const SLOT_MARK: u8 = 0x80;

impl State {
    /// The refresh of a scope once the gate is open (`docs/EXTENSIONS.md`,
    /// "Per-tool restart" and "DISABLE that lasts"), called by the core's
    /// reference refresh (`scope::try_refresh_with`) with the ids already
    /// checked and `current` read (Acquire); `mask` gives an id's tools
    /// (the registry's scope masks), `extra` a slot event's local tools.
    /// Stores `current` in `version`.
    ///
    /// * Default mode: when nothing but per-tool restarts happened since
    ///   the stored version, only the restarted tools' bits come back
    ///   (`active |= mask & restarted`); otherwise CPython's refresh
    ///   (`active = mask`).
    /// * Lasting mode: CPython's refresh, and `opaque` = [`SLOT_MARK`].
    ///
    /// `ext` hands in the state (a function, not a reference: no argument
    /// register, so every other argument stays in one).
    #[cold]
    #[inline(never)]
    pub(crate) fn refresh_marked(
        ext: impl FnOnce() -> &'static State,
        states: &[SlotState],
        version: &Cell<u64>,
        event_types: &[u8],
        current: u64,
        mask: impl Fn(u8) -> u8,
        extra: impl Fn(u8) -> u8,
    ) {
        let ext = ext();
        let restarts = &ext.restarts;
        let v = version.get();
        if ext.lasting_mode() {
            // DISABLEs live in the site table, not in the slots.
            for (slot, &id) in states.iter().zip(event_types) {
                slot.opaque.set(SLOT_MARK);
                slot.active.set(mask(id) | extra(id));
            }
        } else if restarts.only_restarts(v, current) {
            let restarted = restarts.restarted_since(v);
            for (slot, &id) in states.iter().zip(event_types) {
                let back = (mask(id) | extra(id)) & restarted;
                slot.active.set(slot.active.get() | back);
            }
        } else {
            for (slot, &id) in states.iter().zip(event_types) {
                slot.active.set(mask(id) | extra(id));
            }
        }
        version.set(current);
    }
}
