//! Remembering a lasting DISABLE at its site (`docs/EXTENSIONS.md`, "DISABLE
//! that lasts"): what the dispatch does when a callback answers DISABLE in
//! the lasting mode, checked against the callback table's version the walk
//! took. Below both the dispatch and `crate::ext::lasting`, which call it.

use crate::ext::sites;
use crate::record::FireRecord;
use crate::registry;

/// A callback of `tool` answered DISABLE for `record`'s local event in the
/// mode: remember its site, unless the callback table's version moved since
/// the walk that called the callback took it (the thread's
/// `callbacks_version`, read before the callback: every forget moves it
/// first, so a DISABLE racing a restart of its tool never outlives the
/// restart). A site not remembered (that, or a full probe window) calls the
/// callback again next time.
#[cold]
#[inline(never)]
pub(crate) fn remember_disable(record: &FireRecord, tool: u8) -> bool {
    let seen = crate::thread::with(|t| t.callbacks_version.get());
    remember_disable_seen(record, tool, seen)
}

/// [`remember_disable`] with the callback table's version the walk took.
pub(crate) fn remember_disable_seen(record: &FireRecord, tool: u8, seen: u64) -> bool {
    sites::table().remember(
        record.codelike,
        record.offset,
        record.event,
        sites::line_word(record.event, record.lineno),
        tool,
        || registry::callbacks_version() == seen,
    )
}
