//! The registry's versions and scope masks: the global version, the idle
//! word, the per-event masks a refresh reads (bytes, and packed 8 to a word
//! for the SIMD kernels) and their recomputation after a change.

use super::{Master, Registry, MASK_WORDS, NOT_IDLE, TOOL_IDS};
use crate::event::Event;
use crate::sync::Ordering;

impl Registry {
    /// The global version (Acquire: the scope masks written before it are
    /// visible).
    pub(crate) fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// The global version for a scope's fast-path comparison (Relaxed: a
    /// stale read only delays a refresh, see `docs/CONCURRENCY.md`).
    #[inline(always)]
    pub(crate) fn version_relaxed(&self) -> u64 {
        self.version.load(Ordering::Relaxed)
    }

    /// The idle version word (Relaxed): equal to a version `v` read from
    /// [`Registry::version`] only when at `v` no tool had an event, no
    /// option was set and the restart gate was closed, so that storing `v`
    /// and zeroing `active` is exactly the refresh at `v` (the word is
    /// written after the version it names and never names another: an
    /// equal pair is its own proof, whatever the order of the two reads).
    /// The C entry on x86-64 loads the word itself (`ffi::scope`).
    #[cfg_attr(all(target_arch = "x86_64", not(loom), not(test)), allow(dead_code))]
    #[inline(always)]
    pub(crate) fn idle_version(&self) -> u64 {
        self.idle.load(Ordering::Relaxed)
    }

    /// Writer (under `master`, after any change): name the current version
    /// in `idle` when the registry is idle at it, else [`NOT_IDLE`]. With
    /// no option every mask comes from the tools' events, so no event set
    /// means every mask 0 (read from `m`, not the masks: no extra atomic
    /// operations for the loom models to interleave).
    pub(super) fn publish_idle(&self, m: &Master) {
        let idle = !self.ext.shapes_refresh() && m.events.iter().all(|e| e.is_empty());
        let v = self.version.load(Ordering::Relaxed);
        self.idle
            .store(if idle { v } else { NOT_IDLE }, Ordering::Release);
    }

    /// The tools a scope slot for `event` gets right now.
    pub(crate) fn scope_mask(&self, event: Event) -> u8 {
        self.scope_masks[event as usize].load(Ordering::Relaxed)
    }

    /// The tools a scope slot for event id `id` gets right now; ids of 19
    /// and more read 0 (callers check them first).
    #[inline(always)]
    pub(crate) fn scope_mask_by_id(&self, id: u8) -> u8 {
        self.scope_masks[usize::from(id)].load(Ordering::Relaxed)
    }

    /// Word `i` of the packed scope masks (see `scope_mask_words`; 0 past
    /// the last), read as [`Registry::scope_mask_by_id`] reads a byte:
    /// `Relaxed`, after the version was read with `Acquire`.
    #[cfg(not(loom))]
    #[inline(always)]
    pub(crate) fn scope_mask_word(&self, i: usize) -> u64 {
        self.scope_mask_words
            .get(i)
            .map_or(0, |w| w.load(Ordering::Relaxed))
    }

    /// Recompute the scope masks from the tools' events, then bump the
    /// version (Release, so a scope that reads the new version with Acquire
    /// sees these masks).
    pub(super) fn publish_masks(&self, m: &Master) {
        self.store_masks(m);
        self.bump(m);
    }

    /// Move the global version (Release) and republish the idle word:
    /// every change ends here or in [`Registry::publish_idle`].
    pub(super) fn bump(&self, m: &Master) {
        self.version.fetch_add(1, Ordering::Release);
        self.publish_idle(m);
    }

    /// Recompute the scope masks (and the code-likes' local-events filter)
    /// from the tools' events and, with `ACTIVE_NEEDS_CALLBACK`, their
    /// callbacks. Returns whether any mask changed.
    pub(super) fn store_masks(&self, m: &Master) -> bool {
        let needs_callback = self.ext.needs_callback();
        let mut changed = false;
        let mut packed = [0u8; 8 * MASK_WORDS];
        for event in Event::ALL {
            let source = event.scope_source();
            let delivered = crate::ext::delivered(event);
            let callbacks = if needs_callback {
                (0..TOOL_IDS)
                    .filter(|&t| {
                        m.callbacks
                            .as_ref()
                            .is_some_and(|c| c.get(t as u8, delivered).is_some())
                    })
                    .fold(0u8, |acc, t| acc | (1 << t))
            } else {
                0xff
            };
            let mask = (0..TOOL_IDS)
                .filter(|&t| m.events[t].has(source))
                .fold(0u8, |acc, t| acc | (1 << t))
                & callbacks;
            let cell = &self.scope_masks[event as usize];
            changed |= cell.load(Ordering::Relaxed) != mask;
            cell.store(mask, Ordering::Relaxed);
            packed[event as usize] = mask;
            // The filter matters only for slots fed by local events, and
            // only while some code-like has local events.
            changed |= self.ext.local_filter_stored(event, callbacks);
        }
        #[cfg(not(loom))]
        for (word, bytes) in self.scope_mask_words.iter().zip(packed.chunks_exact(8)) {
            let bytes: [u8; 8] = bytes.try_into().unwrap_or_default();
            word.store(u64::from_le_bytes(bytes), Ordering::Relaxed);
        }
        #[cfg(loom)]
        let _ = packed;
        changed
    }

    /// With `ACTIVE_NEEDS_CALLBACK`, a callback change that changes a mask
    /// moves the version (docs/EXTENSIONS.md).
    pub(super) fn callbacks_changed(&self, m: &Master) {
        if self.ext.needs_callback() && self.store_masks(m) {
            self.bump(m);
        }
    }
}
