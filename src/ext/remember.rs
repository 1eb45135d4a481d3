//! Remembering a lasting DISABLE at its site (`docs/EXTENSIONS.md`, "DISABLE
//! that lasts"): what the dispatch does when a callback answers DISABLE in
//! the lasting mode, checked against the callback table's version the walk
//! took. A leaf: the dispatch reaches it through the façade (`crate::ext`).

use crate::ext::sites;
use crate::record::FireRecord;

/// A callback of `tool` answered DISABLE for `record`'s local event in the
/// mode: remember its site, unless the callback table's version moved since
/// the walk that called the callback took it (`seen` reads it: the thread's
/// `callbacks_version`, taken before the callback; `now` reads the current
/// one: every forget moves it first, so a DISABLE racing a restart of its
/// tool never outlives the restart). A site not remembered (that, or a full
/// probe window) calls the callback again next time.
#[cold]
#[inline(never)]
pub(crate) fn remember_disable(
    record: &FireRecord,
    tool: u8,
    seen: impl FnOnce() -> u64,
    now: impl Fn() -> u64,
) -> bool {
    let seen = seen();
    sites::table().remember(
        record.codelike,
        record.offset,
        record.event,
        sites::line_word(record.event, record.lineno),
        tool,
        || now() == seen,
    )
}
