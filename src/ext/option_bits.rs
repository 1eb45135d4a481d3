//! The option word's bits, names and checks (`docs/EXTENSIONS.md`,
//! "Options"): a leaf the registry reads; getting and setting the word is
//! `crate::ext::options`.

use crate::failure::Error;

/// A DISABLE from a local event silences its site (not the slot) until that
/// tool restarts (`PyMonitoring_RestartToolEvents`, `PyMonitoring_RestartEvents`,
/// or the tool is cleared), instead of the slot until its next refresh.
pub const LASTING_DISABLE: u32 = 1 << 0;
/// A scope slot's `active` holds only the tools that have a callback for
/// the slot's event (not every tool that set the event).
pub const ACTIVE_NEEDS_CALLBACK: u32 = 1 << 1;
/// The C entry points `EnterScope` and `EnterCodeScope` read `event_types`
/// in CPython 3.13's numbering (the host's ABI, `docs/HOSTS.md`): ids 0-16,
/// 3.13's BRANCH (8) getting BRANCH_RIGHT's tools.
pub const CPYTHON_313_EVENT_IDS: u32 = 1 << 2;
/// Every option this version knows.
pub const ALL: u32 = LASTING_DISABLE | ACTIVE_NEEDS_CALLBACK | CPYTHON_313_EVENT_IDS;

/// The names used by `PYMONITORING_OPTIONS`, with their bits.
pub const NAMES: [(&str, u32); 3] = [
    ("lasting-disable", LASTING_DISABLE),
    ("active-needs-callback", ACTIVE_NEEDS_CALLBACK),
    ("cpython-313-event-ids", CPYTHON_313_EVENT_IDS),
];

/// Check an option word: unknown bits are a ValueError.
pub fn check(options: u32) -> Result<u32, Error> {
    if options & !ALL != 0 {
        return Err(Error::value(format!(
            "invalid options {options:#x} (known options are {ALL:#x})"
        )));
    }
    Ok(options)
}

/// Parse `PYMONITORING_OPTIONS`: option names separated by commas (spaces
/// around them are ignored; an empty string is no option).
pub fn parse(text: &str) -> Result<u32, Error> {
    let mut options = 0;
    for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        match NAMES.iter().find(|(name, _)| *name == word) {
            Some((_, bit)) => options |= bit,
            None => {
                let known: Vec<&str> = NAMES.iter().map(|(n, _)| *n).collect();
                return Err(Error::value(format!(
                    "unknown option '{word}' (known options: {})",
                    known.join(", ")
                )));
            }
        }
    }
    Ok(options)
}
