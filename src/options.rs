//! Opt-in behaviour beyond CPython's (`docs/EXTENSIONS.md`).
//!
//! Every option is off by default, and with all of them off the library
//! behaves exactly as CPython's C API. Options are process-wide, like the
//! registry they change; setting them is a registry change (it moves the
//! global version, so every scope refreshes under the new rules).

use crate::error::Error;

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

/// The options in force (a relaxed read: a scope refreshed concurrently
/// with a change sees the old or the new word, and the version bump that
/// follows the change makes it refresh again).
#[inline(always)]
pub fn get() -> u32 {
    crate::registry::global().options()
}

/// Replace the options. Changing them moves the global version.
pub fn set(options: u32) -> Result<(), Error> {
    crate::registry::global().set_options(check(options)?)
}

/// Apply `PYMONITORING_OPTIONS` (see [`parse`]) when it is set: what the
/// library does when it is loaded, so a whole program (or a test suite)
/// runs under chosen options without code changes. An invalid value is
/// returned as an error and changes nothing. When no tool is in use yet
/// (the usual case at load) the version does not move: no scope can see a
/// difference, so a program run under options starts from the same
/// version as without them.
pub fn set_from_env() -> Result<(), Error> {
    match std::env::var("PYMONITORING_OPTIONS") {
        Ok(text) => crate::registry::global().set_options_at_load(check(parse(&text)?)?),
        Err(std::env::VarError::NotPresent) => Ok(()),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(Error::value("PYMONITORING_OPTIONS is not valid UTF-8"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry;
    use crate::test_support::registry_lock;

    #[test]
    fn parse_names() {
        assert_eq!(parse("").unwrap(), 0);
        assert_eq!(parse(" lasting-disable ").unwrap(), LASTING_DISABLE);
        assert_eq!(
            parse("active-needs-callback,lasting-disable,cpython-313-event-ids").unwrap(),
            ALL
        );
        assert_eq!(
            parse("lasting").unwrap_err().message(),
            "unknown option 'lasting' (known options: lasting-disable, active-needs-callback, \
             cpython-313-event-ids)"
        );
    }

    #[test]
    fn unknown_bits_are_rejected_and_change_nothing() {
        let _g = registry_lock();
        let before = registry::version();
        let err = set(1 << 7).unwrap_err();
        assert_eq!(
            err.message(),
            "invalid options 0x80 (known options are 0x7)"
        );
        assert_eq!(get(), 0);
        assert_eq!(registry::version(), before);
    }

    #[test]
    fn a_change_moves_the_version_and_the_same_word_does_not() {
        let _g = registry_lock();
        let before = registry::version();
        set(LASTING_DISABLE).unwrap();
        assert_eq!(get(), LASTING_DISABLE);
        assert_eq!(registry::version(), before + 1);
        set(LASTING_DISABLE).unwrap();
        assert_eq!(registry::version(), before + 1);
        set(0).unwrap();
        assert_eq!(get(), 0);
        assert_eq!(registry::version(), before + 2);
    }
}
