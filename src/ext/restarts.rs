//! What scopes need to know about restarts (`docs/EXTENSIONS.md`,
//! "Per-tool restart"): the refresh route byte and the version of each
//! tool's last restart. A leaf the registry holds; `crate::ext::lasting` reads
//! it when it refreshes.

use crate::sync::{AtomicU64, AtomicU8, Ordering};
use crate::tool::TOOL_IDS;

/// The bit of [`Restarts::route`] that sends refreshes to the marked refresh (`crate::ext::State::refresh_marked`).
pub(crate) const GATE: u8 = 0x80;

/// The bit of [`Restarts::route`] set while that refresh is the lasting
/// mode's with no translation (the mode on, the host's numbering off): the
/// C layer's kernels then refresh with the mark, sent there by the byte's
/// value alone.
pub(crate) const MARKED: u8 = 0x40;

/// The bits of [`Restarts::route`] below [`MARKED`]: the C layer's kernel.
pub(crate) const KERNEL: u8 = MARKED - 1;

/// What scopes need to know about restarts. Written by registry writers
/// (under the registry lock) before the version bump they precede (Release),
/// read Relaxed after the version (Acquire), see `docs/CONCURRENCY.md`.
pub(crate) struct Restarts {
    /// [`GATE`] is set from the first per-tool restart or lasting-mode
    /// switch on, [`MARKED`] while the lasting mode's refresh needs no
    /// translation. The low bits ([`KERNEL`]) are the C layer's cached
    /// choice of refresh kernel ([`Restarts::route`]): sharing the byte lets
    /// the exported refresh learn all three with one load.
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

    /// Whether a refresh must take the marked refresh (a relaxed load).
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

    /// The route byte itself (see [`crate::ext::State::route_byte`]).
    #[cfg(not(loom))]
    pub(crate) const fn route_byte(&self) -> &AtomicU8 {
        &self.gate
    }

    /// Record the C layer's kernel choice (the [`KERNEL`] bits; set once,
    /// the same value by every thread that detects it).
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn set_route(&self, kernel: u8) {
        self.gate.fetch_or(kernel & KERNEL, Ordering::Relaxed);
    }

    /// Writer: set or clear [`MARKED`] (the gate is open whenever it is set:
    /// the lasting mode opened it).
    pub(crate) fn set_marked(&self, marked: bool) {
        if marked {
            self.gate.fetch_or(MARKED, Ordering::Relaxed);
        } else {
            self.gate.fetch_and(!MARKED, Ordering::Relaxed);
        }
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
