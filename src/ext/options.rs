//! Opt-in behaviour beyond CPython's (`docs/EXTENSIONS.md`).
//!
//! Every option is off by default, and with all of them off the library
//! behaves exactly as CPython's C API. Options are process-wide, like the
//! registry they change; setting them is a registry change (it moves the
//! global version, so every scope refreshes under the new rules).

use crate::failure::Error;

pub use crate::ext::option_bits::{
    check, parse, ACTIVE_NEEDS_CALLBACK, ALL, CPYTHON_313_EVENT_IDS, LASTING_DISABLE, NAMES,
};

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
/// returned as an error and changes nothing. When nothing was published
/// yet (the usual case at load) the version does not move (as for
/// [`set`]): no scope can see a difference, so a program run under options
/// starts from the same version as without them.
pub fn set_from_env() -> Result<(), Error> {
    match std::env::var("PYMONITORING_OPTIONS") {
        Ok(text) => crate::registry::global().set_options(check(parse(&text)?)?),
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
