//! The options and the extensions' state the registry holds: where the
//! registry calls the extensions' façade (`crate::ext`, docs/ARCHITECTURE.md,
//! "The seam") on a clear, a restart, an options change and a code-likes'
//! edit.

use std::sync::Arc;

use super::{check_tool, require_in_use, Master, Registry};
use crate::failure::Error;
use crate::sync::Ordering;

impl Registry {
    /// The extensions' point for a tool cleared, freed or moved away
    /// (`ext::State::tool_cleared`); returns whether the code-likes'
    /// tables changed.
    pub(super) fn tool_cleared(&self, m: &mut Master, tool: u8) -> bool {
        let current = self.version.load(Ordering::Relaxed);
        self.ext
            .tool_cleared(&mut m.ext, tool, current, || self.before_forget())
    }

    /// Before the lasting mode's remembered sites are forgotten, the
    /// callback table's version moves: a DISABLE whose callback was called
    /// before then is not remembered after the forget
    /// (`ext::remember_disable`).
    pub(super) fn before_forget(&self) {
        self.bump_callbacks_version();
    }

    /// The options in force.
    #[inline(always)]
    pub(crate) fn options(&self) -> u32 {
        self.ext.options()
    }

    /// The extensions' state (`crate::ext`): the readers' side.
    #[inline(always)]
    pub(crate) fn ext(&self) -> &crate::ext::State {
        &self.ext
    }

    /// See `ext::State::refresh_limit`: a relaxed load, after the version.
    #[inline(always)]
    pub(crate) fn refresh_limit(&self) -> usize {
        self.ext.refresh_limit()
    }

    /// Replace the options (already checked); a change republishes the
    /// scope masks, which moves the version. While nothing was ever
    /// published (version 0, no tool in use: every scope mask is 0 under
    /// any options, and no site can be remembered) the word is stored and
    /// the masks recomputed without moving it, so Cython's version-0
    /// `EnterScope` still returns at once, as without the option (a host
    /// that sets its options before any tool pays nothing for them).
    pub(crate) fn set_options(&self, options: u32) -> Result<(), Error> {
        let m = self.master();
        if self.ext.options() == options {
            return Ok(());
        }
        let current = self.version.load(Ordering::Relaxed);
        if current == 0 && !m.names.iter().any(Option::is_some) {
            self.ext.options_set_unpublished(options);
            self.store_masks(&m);
            self.publish_idle(&m);
            return Ok(());
        }
        // Switching the lasting mode restarts every tool.
        self.ext
            .options_set(options, current, || self.before_forget());
        self.publish_masks(&m);
        Ok(())
    }

    pub(crate) fn restart_events(&self) {
        let m = self.master();
        // Every tool restarts (its lasting DISABLEs end).
        let current = self.version.load(Ordering::Relaxed);
        self.ext.events_restarted(current, || self.before_forget());
        self.bump(&m);
    }

    /// `PyMonitoring_RestartToolEvents` (see `crate::ext::lasting`).
    pub(crate) fn restart_tool_events(&self, tool: i64) -> Result<(), Error> {
        let tool = check_tool(tool)?;
        self.with_way_made(tool, |m| {
            require_in_use(m, tool)?;
            let current = self.version.load(Ordering::Relaxed);
            self.ext
                .tool_restarted(tool, current, || self.before_forget());
            self.bump(m);
            Ok(())
        })
    }

    /// Code-likes (docs/EXTENSIONS.md): run `edit` on the code-likes' tables for a
    /// `tool` in use (else `tool %d is not in use`); when it reports a
    /// change, publish the new snapshot and, if `moves_version`, bump the
    /// global version.
    pub(crate) fn edit_codelikes(
        &self,
        tool: u8,
        moves_version: bool,
        edit: impl FnOnce(&mut crate::ext::Writers) -> Result<bool, Error>,
    ) -> Result<(), Error> {
        self.with_way_made(tool, |m| {
            require_in_use(m, tool)?;
            if edit(&mut m.ext)? {
                self.publish_codelikes(m);
                if moves_version {
                    self.bump(m);
                }
            }
            Ok(())
        })
    }

    /// Code-likes (docs/EXTENSIONS.md): publish the code-likes' snapshot to its readers
    /// and, when what is armed changed, a callback table carrying it (which
    /// moves the callback table's version, so every dispatch takes it).
    pub(super) fn publish_codelikes(&self, m: &mut Master) {
        let armed = self.ext.publish(&m.ext);
        let held = m.callbacks.as_ref().and_then(|t| t.armed());
        let same = match (&armed, held) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        if !same {
            self.edit_callbacks(m, |t| t.set_armed(armed));
        }
    }

    /// Code-likes (docs/EXTENSIONS.md): the current snapshot and its version, read
    /// under the lock so they belong together.
    pub(crate) fn codelikes_snapshot(&self) -> (u64, Option<Arc<crate::ext::Snapshot>>) {
        let m = self.master();
        self.ext.snapshot(&m.ext)
    }
}
