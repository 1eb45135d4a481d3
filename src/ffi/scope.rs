//! `PyMonitoring_EnterScope` and `PyMonitoring_ExitScope`.

use std::cell::Cell;
use std::ffi::c_int;

use super::guard::{guard, require, status};
use super::scope_errors::{bad_event, enter_scope_bad_event, enter_scope_too_large};
use super::slice_or_empty;
use super::types::{PyMonitoringState, Py_ssize_t};
use crate::event::Event;
use crate::registry;
use crate::scope::{self, SlotState};

/// Enter a scope: make each `states[i].active` hold the tools that get event
/// `event_types[i]`.
///
/// When `*version` equals the global version (see
/// `PyMonitoring_GetVersion`) this returns 0 at once and reads and writes
/// nothing else, as CPython's: the other arguments are checked when the
/// scope refreshes, where they are used. Otherwise each `states[i].active` is set to the tools of
/// `event_types[i]` (C_RETURN and C_RAISE slots get CALL's tools, BRANCH
/// slots get BRANCH_RIGHT's), `opaque` keeps its value (it may be stored
/// back unchanged along with `active`; in the opt-in
/// `PY_MONITORING_OPT_LASTING_DISABLE` mode the library marks the slot there
/// with 0x80, and its DISABLEs live in the site table), and `*version` is
/// updated. The global version starts at 0, so zeroed states with a version of
/// 0 cost nothing until a tool sets events. While no tool has an event and
/// no option is set (for instance after the last tool was freed) a refresh
/// takes a shorter path to the same result: the ids checked, each `active`
/// zeroed.
///
/// Returns 0, or -1 with a ValueError and nothing written when `version` is
/// NULL (on every call), or on refresh when `length` is negative or too
/// large, `states` or `event_types` is NULL while `length > 0`, or an event
/// id is 19 or more.
///
/// # Safety
/// `states` and `event_types` must point to `length` elements each. Any
/// thread may call this; a state array must not be used by two threads at
/// once.
#[no_mangle]
#[cfg(not(pymonitoring_inline))]
pub unsafe extern "C" fn PyMonitoring_EnterScope(
    states: *mut PyMonitoringState,
    version: *mut u64,
    event_types: *const u8,
    length: Py_ssize_t,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe { enter_scope::<true>(states, version, event_types, length) }
}

/// The same as `PyMonitoring_EnterScope`: the entry point the header's
/// `static inline` `PyMonitoring_EnterScope` (with `PYMONITORING_INLINE`)
/// calls when the version differs or an argument is invalid.
///
/// # Safety
/// As `PyMonitoring_EnterScope`.
#[no_mangle]
pub unsafe extern "C" fn _PyMonitoring_EnterScope(
    states: *mut PyMonitoringState,
    version: *mut u64,
    event_types: *const u8,
    length: Py_ssize_t,
) -> c_int {
    // SAFETY: forwarded caller contract. The header takes the idle
    // refresh itself before calling (see `enter_scope`).
    unsafe { enter_scope::<false>(states, version, event_types, length) }
}

/// The lasting-DISABLE mode's table of remembered sites, for the header's
/// inline fire functions (`PYMONITORING_INLINE`), which check a marked
/// slot's site there before calling the library: a constant pointer to the
/// two forget counters and `PY_MONITORING_DISABLED_SITES` entries of two
/// 64-bit words (code-like, key), read with the protocol of
/// `docs/CONCURRENCY.md`, "Site table". Read it, never write it.
#[no_mangle]
#[cfg(not(loom))]
pub static _PyMonitoring_DisabledSites: &crate::ext::sites::Shared<{ crate::ext::sites::SITES }> =
    crate::ext::sites::SHARED;

/// The global version word, for the header's inline `EnterScope` fast path
/// (`PYMONITORING_INLINE`): a constant pointer, so a copy relocation in the
/// executable copies only the pointer. The word after it is the idle
/// version: equal to the version while no tool has an event and no option
/// is set (a refresh then only zeroes `active`), else `UINT64_MAX`. Read
/// them, never write them.
#[no_mangle]
#[cfg(not(loom))]
pub static _PyMonitoring_GlobalVersion: &std::sync::atomic::AtomicU64 = registry::VERSION;

/// The refresh route byte, for the header's inline refresh
/// (`PYMONITORING_INLINE`), read after the version as the library reads it:
/// while its `_PYMONITORING_ROUTE_GATE` bit is clear a refresh gives each
/// slot the mask of its id (`opaque` kept); with `_PYMONITORING_ROUTE_MARKED`
/// too, the mask and `_PYMONITORING_SLOT_MARK` as `opaque` (the
/// lasting-DISABLE mode); with the gate alone, the library decides. A
/// constant pointer, as `_PyMonitoring_GlobalVersion`. Read it, never write
/// it.
#[no_mangle]
#[cfg(not(loom))]
pub static _PyMonitoring_RefreshRoute: &std::sync::atomic::AtomicU8 = registry::ROUTE;

/// The route byte's bit that sends a refresh past the inline one (see
/// `_PyMonitoring_RefreshRoute`).
pub const _PYMONITORING_ROUTE_GATE: u8 = 0x80;
const _: () = assert!(_PYMONITORING_ROUTE_GATE == crate::ext::restarts::GATE);
/// The route byte's bit for the lasting mode's refresh (with the gate).
pub const _PYMONITORING_ROUTE_MARKED: u8 = 0x40;
const _: () = assert!(_PYMONITORING_ROUTE_MARKED == crate::ext::restarts::MARKED);
/// Where the scope masks are from `_PyMonitoring_GlobalVersion`, in bytes:
/// the mask of event id `i` (any byte; 0 past the last event) is the byte
/// at this offset plus `i`, read after the version.
pub const _PYMONITORING_SCOPE_MASKS: usize = 16;
const _: () = assert!(_PYMONITORING_SCOPE_MASKS == registry::SCOPE_MASKS);

/// Check `version`, compare it, then validate the rest for the refresh;
/// everything else is out of line.
///
/// A current version reads nothing but `*version` (docs/BAD_INPUT.md), so
/// the arguments the refresh uses are validated only there, by one filter
/// that valid arguments with `length > 0` pass: the two arrays ANDed
/// together non-zero (so neither is NULL) and `length > 0`. Anything else
/// — an invalid argument, `length` 0, or valid pointers whose AND happens
/// to be 0 — goes to [`enter_scope_checked`], which makes the exact checks
/// in their documented order and goes on as here. Pointers into one
/// address space share their high bits (on x86-64 Linux the addresses of a
/// position-independent executable, of the libraries and of the stack all
/// have bit 46 set), so the filter rarely sends valid arguments there; when
/// it does, they cost the exact checks, not a wrong answer. (Under valgrind
/// a position-independent executable sits at 0x108000 and the stack at
/// 0x1fff000000, with no high bit in common: the C benchmarks keep their
/// scopes' arrays at odd addresses, so that their counts do not depend on
/// where the stack lands.)
///
/// With `IDLE`, a stale version while the registry is idle at it is
/// tested first: 4-8 slots (a Cython function's 7) take
/// [`enter_scope_idle`] here, the length's range standing for the filter's
/// `length > 0`; other lengths go through [`enter_scope_idle_checked`].
///
/// # Safety
/// As `PyMonitoring_EnterScope`.
#[inline(always)]
unsafe fn enter_scope<const IDLE: bool>(
    states: *mut PyMonitoringState,
    version: *mut u64,
    event_types: *const u8,
    length: Py_ssize_t,
) -> c_int {
    if version.is_null() {
        return enter_scope_checked::<IDLE>(states, version, event_types, length);
    }
    // Acquire: a refresh reads the masks after it and stores this version.
    let current = global_version();
    // SAFETY: `version` is non-NULL; the caller owns the word.
    if unsafe { *version } == current {
        return 0;
    }
    if IDLE && idle_at(current) {
        // A Cython function's 4-8 slots: the length's range test stands for
        // the filter's `length > 0`.
        if (states as usize) & (event_types as usize) != 0 {
            if (length as usize).wrapping_sub(4) <= 4 {
                // SAFETY: both arrays non-NULL, 4 <= length <= 8;
                // forwarded caller contract.
                return unsafe {
                    enter_scope_idle(states, version, event_types, length as usize, current)
                };
            }
            crate::dispatch::cold_path();
        }
        // SAFETY: forwarded caller contract.
        return unsafe { enter_scope_idle_checked(states, version, event_types, length, current) };
    }
    if length <= 0 {
        crate::dispatch::cold_path();
        return enter_scope_checked::<IDLE>(states, version, event_types, length);
    }
    if (states as usize) & (event_types as usize) == 0 {
        crate::dispatch::cold_path();
        return enter_scope_checked::<IDLE>(states, version, event_types, length);
    }
    // SAFETY: both arrays non-NULL and `length > 0` (above); forwarded
    // caller contract.
    unsafe { enter_scope_refresh(states, version, event_types, length, current) }
}

/// [`enter_scope`] for the arguments its filter leaves out: the exact
/// checks (the ValueError naming the first bad argument), then the same
/// path as valid arguments take there.
///
/// # Safety
/// As `PyMonitoring_EnterScope`.
#[cold]
#[inline(never)]
unsafe extern "C" fn enter_scope_checked<const IDLE: bool>(
    states: *mut PyMonitoringState,
    version: *mut u64,
    event_types: *const u8,
    length: Py_ssize_t,
) -> c_int {
    if !scope_args_valid(states, version, event_types, length) {
        return enter_scope_invalid(states, version, event_types, length);
    }
    // SAFETY: validated above; forwarded caller contract.
    unsafe { enter_scope_valid::<IDLE>(states, version, event_types, length) }
}

/// The idle refresh ([`enter_scope_idle`]) for the arguments the entry
/// does not take there itself: [`enter_scope`]'s filter first.
///
/// # Safety
/// As `PyMonitoring_EnterScope`, with `version` non-NULL and stale, the
/// registry idle at `current`.
#[cold]
#[inline(never)]
unsafe extern "C" fn enter_scope_idle_checked(
    states: *mut PyMonitoringState,
    version: *mut u64,
    event_types: *const u8,
    length: Py_ssize_t,
    current: u64,
) -> c_int {
    if (states as usize) & (event_types as usize) == 0 || length <= 0 {
        return enter_scope_checked::<true>(states, version, event_types, length);
    }
    // SAFETY: both arrays non-NULL and `length > 0` (above); forwarded
    // caller contract.
    unsafe { enter_scope_idle(states, version, event_types, length as usize, current) }
}

/// Compare the version; on a stale one refresh (the idle refresh inline,
/// everything else in tail position out of line, so the entry stays
/// frameless). With `IDLE`, a stale version while the registry is idle at
/// the version just read takes [`enter_scope_idle`] (the header's inline
/// path makes the same test itself, so `_PyMonitoring_EnterScope` leaves
/// it out).
///
/// # Safety
/// As `PyMonitoring_EnterScope`, with the arguments valid: `version`
/// non-NULL, `length >= 0`, both arrays non-NULL when `length > 0`.
#[inline(always)]
unsafe fn enter_scope_valid<const IDLE: bool>(
    states: *mut PyMonitoringState,
    version: *mut u64,
    event_types: *const u8,
    length: Py_ssize_t,
) -> c_int {
    // Acquire: a refresh reads the masks after it and stores this version.
    let current = global_version();
    // SAFETY: `version` is non-NULL; the caller owns the word.
    if unsafe { *version } == current {
        return 0;
    }
    // SAFETY: forwarded.
    unsafe { enter_scope_stale::<IDLE>(states, version, event_types, length, current) }
}

/// The refresh of a stale version `current` (the idle refresh inline,
/// everything else in tail position out of line, so the entry stays
/// frameless).
///
/// # Safety
/// As [`enter_scope_valid`].
#[inline(always)]
unsafe fn enter_scope_stale<const IDLE: bool>(
    states: *mut PyMonitoringState,
    version: *mut u64,
    event_types: *const u8,
    length: Py_ssize_t,
    current: u64,
) -> c_int {
    if IDLE && idle_at(current) {
        // SAFETY: arguments validated; forwarded caller contract.
        return unsafe { enter_scope_idle(states, version, event_types, length as usize, current) };
    }
    // SAFETY: arguments validated; forwarded caller contract.
    unsafe { enter_scope_refresh(states, version, event_types, length, current) }
}

/// The global version (Acquire), for the entry's compare: one load by the
/// registry's address (`load_by_address!`). The `asm!` block is not
/// `readonly`: free to read and write memory as far as the compiler knows,
/// it keeps later accesses after it.
#[inline(always)]
pub(super) fn global_version() -> u64 {
    #[cfg(all(target_arch = "x86_64", not(loom)))]
    {
        // SAFETY: an aligned 8-byte load of `GLOBAL.version` (offset 0,
        // asserted below), which lives for the whole process.
        unsafe { load_by_address!(u64, registry::GLOBAL, 0, nostack, preserves_flags) }
    }
    #[cfg(not(all(target_arch = "x86_64", not(loom))))]
    registry::global().version()
}

/// Whether the registry is idle at `current`: the idle word
/// (`Registry::idle_version`, Relaxed, the word after the version) equals
/// it, compared in memory (`differs_by_address!`): no load into a register
/// first.
#[inline(always)]
pub(super) fn idle_at(current: u64) -> bool {
    #[cfg(all(target_arch = "x86_64", not(loom)))]
    {
        // SAFETY: an aligned 8-byte read of `GLOBAL.idle` (the word after
        // the version, asserted in `registry`), read only.
        !unsafe { differs_by_address!(registry::GLOBAL, 8, current) }
    }
    #[cfg(not(all(target_arch = "x86_64", not(loom))))]
    {
        registry::global().idle_version() == current
    }
}

#[cfg(all(target_arch = "x86_64", not(loom)))]
const _: () = assert!(std::mem::offset_of!(registry::Registry, version) == 0);

/// Invalid arguments: the ValueError naming the first bad one.
#[cold]
#[inline(never)]
pub(super) extern "C" fn enter_scope_invalid(
    states: *mut PyMonitoringState,
    version: *mut u64,
    event_types: *const u8,
    length: Py_ssize_t,
) -> c_int {
    guard!("PyMonitoring_EnterScope", -1, {
        require!(!version.is_null(), "version must not be NULL");
        require!(length >= 0, "length must be non-negative (got {length})");
        require!(!states.is_null(), "states must not be NULL when length > 0");
        require!(
            !event_types.is_null(),
            "event_types must not be NULL when length > 0"
        );
        unreachable!("enter_scope_invalid called with valid arguments")
    })
}

/// A stale version with arguments `enter_scope` already checked (`version`
/// non-NULL, `length >= 0`, arrays non-NULL when `length > 0`; `current`
/// the global version it read with Acquire): check the
/// length fits a slice, then refresh with the SIMD kernel (`super::simd`,
/// x86-64 with SSSE3, 4 slots or more) or the core's scalar code. Frameless
/// and calling each in tail position. `extern "C"` (which cannot unwind:
/// everything that can panic is guarded) so the exported function needs no
/// unwind landing pad and can tail-call it.
///
/// # Safety
/// As `PyMonitoring_EnterScope`, with the arguments checked as above.
#[cold]
#[inline(never)]
unsafe extern "C" fn enter_scope_refresh(
    states: *mut PyMonitoringState,
    version: *mut u64,
    event_types: *const u8,
    length: Py_ssize_t,
    current: u64,
) -> c_int {
    let len = length as usize;
    // One test for both `MIN_LEN <= len` and a length well below MAX (the
    // kernels' case); everything else takes `enter_scope_refresh_other`.
    #[cfg(all(target_arch = "x86_64", not(loom)))]
    if len.wrapping_sub(super::simd::MIN_LEN) < 1 << 61 {
        use super::simd::{self, Kernel};
        // The AVX2 kernel's routes first (the default mode's, the lasting
        // mode's, then the default mode's gated one), everything else out
        // of line.
        let route = simd::route();
        if route == Kernel::Avx2 as u8 {
            // SAFETY: AVX2 checked; arguments checked as above, forwarded
            // caller contract.
            return unsafe {
                simd::refresh_avx2::<false, false>(
                    states.cast(),
                    version,
                    event_types,
                    len,
                    current,
                )
            };
        }
        if route == Kernel::Avx2Marked as u8 {
            // SAFETY: as above; the route byte names a marked kernel only
            // while the lasting mode's refresh is the kernels' with the
            // mark (`ext::restarts::MARKED`).
            return unsafe {
                simd::refresh_avx2::<true, false>(states.cast(), version, event_types, len, current)
            };
        }
        if route == crate::ext::restarts::GATE | Kernel::Avx2 as u8 {
            // SAFETY: as above (the default mode's gated refresh).
            return unsafe {
                gated_refresh(
                    states,
                    version,
                    event_types,
                    len,
                    current,
                    Kernel::Avx2 as u8,
                )
            };
        }
        // SAFETY: as above, `route` the byte just read.
        return unsafe { detect_and_refresh(states, version, event_types, len, current, route) };
    }
    // Only the kernels take the version read by the caller.
    #[cfg(any(not(target_arch = "x86_64"), loom))]
    let _ = current;
    // Once a per-tool restart or the lasting mode was used,
    // refreshes take the core's restart-aware path (the kernels learn it
    // from their route byte, see `simd::route`).
    if len.wrapping_sub(1) < 3 && !registry::global().ext().refresh_gate_open() {
        // SAFETY: as above, 1 <= len <= 3.
        return unsafe { refresh_1_to_3(states, version, event_types, len) };
    }
    // SAFETY: as above.
    unsafe { enter_scope_refresh_other(states, version, event_types, len) }
}

/// [`enter_scope_refresh`] for the lengths neither the SIMD kernels nor
/// [`refresh_1_to_3`] take: a length too large for a slice rejected, the
/// others refreshed with the scalar code.
///
/// # Safety
/// As [`enter_scope_refresh`].
#[cold]
#[inline(never)]
unsafe extern "C" fn enter_scope_refresh_other(
    states: *mut PyMonitoringState,
    version: *mut u64,
    event_types: *const u8,
    len: usize,
) -> c_int {
    // SAFETY: forwarded caller contract.
    unsafe { refresh_validated(states, version, event_types, len, || None) }
}

/// Whether the arguments pass `PyMonitoring_EnterScope`'s checks
/// (`version` non-NULL, `length` non-negative, both arrays non-NULL when
/// `length > 0`); [`enter_scope_invalid`] names the first that does not.
/// `enter_scope_checked` and `PyMonitoring_EnterCodeScope` validate with these two.
#[inline(always)]
pub(super) fn scope_args_valid(
    states: *mut PyMonitoringState,
    version: *mut u64,
    event_types: *const u8,
    length: Py_ssize_t,
) -> bool {
    !(version.is_null()
        || length < 0
        || (length > 0 && (states.is_null() || event_types.is_null())))
}

/// The core's reference refresh for arguments that passed
/// [`scope_args_valid`], with `locals` (see `scope::try_refresh_with`):
/// a length over the refresh limit is rejected, or in the host's numbering
/// translated first. `PyMonitoring_EnterScope` takes it where no kernel
/// does, `PyMonitoring_EnterCodeScope` always.
///
/// # Safety
/// As [`enter_scope_refresh`]; `len` is the checked `length`.
#[inline(always)]
pub(super) unsafe fn refresh_validated(
    states: *mut PyMonitoringState,
    version: *mut u64,
    event_types: *const u8,
    len: usize,
    locals: impl FnOnce() -> Option<[u8; Event::COUNT]>,
) -> c_int {
    // The limit is MAX_LEN, or 0 while the host's numbering is on
    // (`docs/HOSTS.md`; the option also opened the refresh gate, so every
    // exported refresh comes here).
    if len > registry::global().refresh_limit() {
        // SAFETY: forwarded caller contract.
        return unsafe { refresh_over_limit(states, version, event_types, len, locals) };
    }
    // SAFETY: forwarded caller contract, `len` checked.
    unsafe { scalar_refresh(states, version, event_types, len, locals) }
}

/// A length over the refresh limit: too large, or a scope in the host's
/// numbering.
///
/// # Safety
/// As [`enter_scope_refresh`].
#[cold]
#[inline(never)]
unsafe fn refresh_over_limit(
    states: *mut PyMonitoringState,
    version: *mut u64,
    event_types: *const u8,
    len: usize,
    locals: impl FnOnce() -> Option<[u8; Event::COUNT]>,
) -> c_int {
    if len > MAX_LEN {
        return enter_scope_too_large(len as Py_ssize_t);
    }
    // SAFETY: forwarded caller contract, `len` checked.
    unsafe { refresh_313(states, version, event_types, len, locals) }
}

/// A refresh with `event_types` in CPython 3.13's numbering
/// (`PY_MONITORING_OPT_CPYTHON_313_EVENT_IDS`): translated, then the
/// scalar refresh.
///
/// # Safety
/// As [`enter_scope_refresh`], `len` checked.
#[cold]
#[inline(never)]
unsafe fn refresh_313(
    states: *mut PyMonitoringState,
    version: *mut u64,
    event_types: *const u8,
    len: usize,
    locals: impl FnOnce() -> Option<[u8; Event::COUNT]>,
) -> c_int {
    guard!("PyMonitoring_EnterScope", -1, {
        // SAFETY: non-NULL when `len > 0`, and `len` readable bytes, by the
        // caller's contract.
        let ids = unsafe { slice_or_empty(event_types, len) };
        match scope::with_ids_from_313(ids, |ids| {
            // SAFETY: forwarded caller contract; `ids` has `len` entries.
            unsafe { scalar_refresh(states, version, ids.as_ptr(), len, locals) }
        }) {
            Ok(rc) => rc,
            Err(e) => status(Err(e)),
        }
    })
}

/// A refresh of 1-3 slots as the core's (same checks, same order, same
/// masks) without its size dispatch and loop set-up: slots 0, `len / 2`
/// and `len - 1` cover them (a slot refreshed twice gets the same mask).
///
/// # Safety
/// As [`enter_scope_refresh`], with `1 <= len <= 3`.
#[inline(never)]
pub(super) unsafe extern "C" fn refresh_1_to_3(
    states: *mut PyMonitoringState,
    version: *mut u64,
    event_types: *const u8,
    len: usize,
) -> c_int {
    let at = [0, len / 2, len - 1];
    // SAFETY: the three indices are below `len`.
    let ids = at.map(|i| unsafe { *event_types.add(i) });
    if usize::from(ids[0].max(ids[1]).max(ids[2])) >= Event::COUNT {
        // SAFETY: `len` ids, by the caller's contract.
        return unsafe { bad_event::<false>(event_types, len) };
    }
    // SAFETY: the caller's word, checked non-NULL; slots below `len`.
    unsafe {
        *version = registry::version();
        for (i, id) in at.into_iter().zip(ids) {
            (*states.add(i)).active = registry::scope_mask_by_id(id);
        }
    }
    0
}

/// The refresh while the registry is idle at `current` (see
/// `Registry::idle_version`: no tool has an event, no option is set, no
/// restart gate): the core's result (`scope::try_refresh_idle`, the
/// reference) — every id checked first, then each `active` zeroed,
/// `opaque` kept, `*version = current`. Inlined into the entry for 4-8
/// slots (a Cython function's 7) whose ids are all below 16 (Cython's
/// always are: it never passes C_RETURN, C_RAISE or BRANCH): the first and
/// the last 4 ids ORed, one test that no byte of the OR reaches 16 (a byte
/// of the OR is no smaller than either id it came from), then each of two
/// overlapping 8-byte state words ANDed with a mask that keeps the `opaque`
/// bytes.
/// Everything else — other lengths, an id of 16 or more, valid or not —
/// takes [`enter_scope_idle_long`] (9-16 slots the same way) or
/// [`enter_scope_idle_other`], which checks every id exactly.
/// Rewriting `opaque` with the value just read is safe for the reason the
/// SIMD kernels give (`super::simd`, module docs).
///
/// # Safety
/// As [`enter_scope_refresh`], with the arguments checked as there.
#[inline(always)]
pub(super) unsafe extern "C" fn enter_scope_idle(
    states: *mut PyMonitoringState,
    version: *mut u64,
    event_types: *const u8,
    len: usize,
    current: u64,
) -> c_int {
    if len.wrapping_sub(4) <= 4 {
        const HIGH: u32 = u32::from_ne_bytes([0xf0; 4]);
        // SAFETY: 4 <= len <= 8 ids and slots (the caller's contract); the
        // words are read and written unaligned, each inside the arrays.
        unsafe {
            let first = event_types.cast::<u32>().read_unaligned();
            let last = event_types.add(len - 4).cast::<u32>().read_unaligned();
            if (first | last) & HIGH == 0 {
                let (low, high) = (states.cast::<u64>(), states.add(len - 4).cast::<u64>());
                low.write_unaligned(low.read_unaligned() & KEEP_OPAQUE);
                high.write_unaligned(high.read_unaligned() & KEEP_OPAQUE);
                *version = current;
                return 0;
            }
        }
    }
    // SAFETY: forwarded; a tail call keeps this path frameless.
    unsafe { enter_scope_idle_long(states, version, event_types, len, current) }
}

/// A state word (4 slots) ANDed with this keeps the `opaque` bytes and
/// zeroes the `active` ones.
const KEEP_OPAQUE: u64 = u64::from_ne_bytes([0, 0xff, 0, 0xff, 0, 0xff, 0, 0xff]);

/// [`enter_scope_idle`] for what it does not take itself: 9-16 slots (a
/// Cython generator's 10) with ids below 16 as it takes 4-8, with 8 ids a
/// word and four state words; everything else in tail position to
/// [`enter_scope_idle_other`]. Frameless.
///
/// # Safety
/// As [`enter_scope_idle`].
#[inline(never)]
unsafe extern "C" fn enter_scope_idle_long(
    states: *mut PyMonitoringState,
    version: *mut u64,
    event_types: *const u8,
    len: usize,
    current: u64,
) -> c_int {
    if len.wrapping_sub(9) <= 7 {
        const HIGH: u64 = u64::from_ne_bytes([0xf0; 8]);
        // SAFETY: 9 <= len <= 16 ids and slots (the caller's contract); the
        // words are read and written unaligned, each inside the arrays.
        unsafe {
            let first = event_types.cast::<u64>().read_unaligned();
            let last = event_types.add(len - 8).cast::<u64>().read_unaligned();
            if (first | last) & HIGH == 0 {
                for at in [0, 4, len - 8, len - 4] {
                    let word = states.add(at).cast::<u64>();
                    word.write_unaligned(word.read_unaligned() & KEEP_OPAQUE);
                }
                *version = current;
                return 0;
            }
        }
    }
    // SAFETY: forwarded.
    unsafe { enter_scope_idle_other(states, version, event_types, len, current) }
}

/// [`enter_scope_idle`] for what neither it nor [`enter_scope_idle_long`]
/// takes: a length too large for a slice rejected, the others refreshed by
/// the core (every id checked, a bad one the ValueError naming it).
///
/// # Safety
/// As [`enter_scope_idle`].
#[cold]
#[inline(never)]
unsafe extern "C" fn enter_scope_idle_other(
    states: *mut PyMonitoringState,
    version: *mut u64,
    event_types: *const u8,
    len: usize,
    current: u64,
) -> c_int {
    if len > MAX_LEN {
        return enter_scope_too_large(len as Py_ssize_t);
    }
    // SAFETY: non-NULL (or `len` 0: dangling is fine for an empty slice)
    // and `len` elements by the caller's contract, as in `scalar_refresh`.
    let (states, version, events) = unsafe {
        (
            slice_or_empty(states as *const SlotState, len),
            &*(version as *const Cell<u64>),
            slice_or_empty(event_types, len),
        )
    };
    match scope::try_refresh_idle(states, version, events, current) {
        Ok(()) => 0,
        Err(scope::InvalidEvent) => enter_scope_bad_event(events),
    }
}

/// The longest state array a slice can cover.
const MAX_LEN: usize = Py_ssize_t::MAX as usize / std::mem::size_of::<PyMonitoringState>();
const _: () = assert!(MAX_LEN == registry::MAX_SCOPE_LEN);
#[cfg(all(target_arch = "x86_64", not(loom)))]
const _: () = assert!(super::simd::MIN_LEN + (1 << 61) <= MAX_LEN);

/// A refresh of [`MIN_LEN`](super::simd::MIN_LEN) slots or more whose
/// route byte `route` (read once by the caller) is none of the AVX2
/// kernel's three values [`enter_scope_refresh`] takes itself: the SSSE3
/// kernel's, the scalar code's, the first refresh (the kernel not known
/// yet) and the gated refreshes with no AVX2 kernel. With the gate open
/// (the byte's top bit), the lasting-DISABLE mode's refresh (CPython's
/// masks, `opaque` = the mark: `ext::State::refresh_marked`) is the
/// kernel's with the mark unless the host's numbering is on: the byte's
/// `MARKED` bit says which; any other gated refresh takes
/// [`gated_refresh`]. Read in the core's order: the version (by the caller, `Acquire`), the gate and the
/// mode (the one byte), then the masks (by the kernel). Frameless: each
/// path is a tail call, detection out of line.
///
/// # Safety
/// As [`enter_scope_refresh`], `len` checked and at least `MIN_LEN`.
#[cfg(all(target_arch = "x86_64", not(loom)))]
#[cold]
#[inline(never)]
pub(super) unsafe extern "C" fn detect_and_refresh(
    states: *mut PyMonitoringState,
    version: *mut u64,
    event_types: *const u8,
    len: usize,
    current: u64,
    route: u8,
) -> c_int {
    use super::simd::{self, Kernel};
    use crate::ext::restarts::{GATE, KERNEL, MARKED};
    // SAFETY (each arm): the kernel's features were detected (its number
    // is in the route byte only then); forwarded caller contract.
    match route {
        r if r == Kernel::Ssse3 as u8 => unsafe {
            simd::refresh_ssse3::<false, false>(states.cast(), version, event_types, len, current)
        },
        r if r == Kernel::Ssse3Marked as u8 => unsafe {
            simd::refresh_ssse3::<true, false>(states.cast(), version, event_types, len, current)
        },
        r if r & GATE == 0 && r & KERNEL == Kernel::Unknown as u8 => unsafe {
            detect_then_refresh::<false>(states, version, event_types, len, current)
        },
        r if r & (GATE | MARKED | KERNEL) == GATE | MARKED => unsafe {
            detect_then_refresh::<true>(states, version, event_types, len, current)
        },
        r if r & (GATE | MARKED) == GATE => unsafe {
            gated_refresh(states, version, event_types, len, current, r & KERNEL)
        },
        // The scalar code, or a gated refresh the kernels do not make.
        _ => unsafe { enter_scope_refresh_other(states, version, event_types, len) },
    }
}

/// The gated refresh with the byte's `MARKED` bit clear (the default mode,
/// or any mode under the host's numbering), `kernel` the kernel bits of
/// the route byte. With no translation (the refresh limit), when the
/// refresh is CPython's (`ext::State::refresh_is_cpythons`: not only
/// per-tool restarts since the scope's version), the unmarked kernel's.
/// Under the host's numbering (limit 0), the kernels' with `HOST` (the
/// kernel detected first if it is not known yet): marked in the lasting
/// mode, else unmarked when the refresh is CPython's. Otherwise (the
/// restarted tools' bits only, no kernel) the core's. Read in the core's
/// order: the version (by the caller, `Acquire`), the gate (the byte), the
/// limit, the mode, the restarts, then the masks (by the kernel).
/// Frameless, each path a tail call.
///
/// # Safety
/// As [`detect_and_refresh`].
#[cfg(all(target_arch = "x86_64", not(loom)))]
#[cold]
#[inline(never)]
pub(super) unsafe extern "C" fn gated_refresh(
    states: *mut PyMonitoringState,
    version: *mut u64,
    event_types: *const u8,
    len: usize,
    current: u64,
    kernel: u8,
) -> c_int {
    use super::simd;
    let ext = registry::global().ext();
    // SAFETY: `version` is non-NULL; the caller owns the word.
    let v = unsafe { *version };
    let limit = ext.refresh_limit();
    if len > limit {
        if limit == 0 {
            // SAFETY: forwarded caller contract.
            return unsafe { host_refresh(states, version, event_types, len, current, kernel) };
        }
    } else if ext.refresh_is_cpythons(v, current) {
        // SAFETY: the kernel is the route byte's; forwarded caller contract.
        let s = states.cast();
        if let Some(rc) = unsafe {
            simd::by_kernel::<false, false>(kernel, s, version, event_types, len, current)
        } {
            return rc;
        }
    }
    // SAFETY: forwarded caller contract.
    unsafe { enter_scope_refresh_other(states, version, event_types, len) }
}

/// [`gated_refresh`] under the host's numbering: the kernels with `HOST`
/// (see there).
///
/// # Safety
/// As [`detect_and_refresh`].
#[cfg(all(target_arch = "x86_64", not(loom)))]
#[cold]
#[inline(never)]
unsafe extern "C" fn host_refresh(
    states: *mut PyMonitoringState,
    version: *mut u64,
    event_types: *const u8,
    len: usize,
    current: u64,
    kernel: u8,
) -> c_int {
    use super::simd::{self, Kernel};
    if kernel == Kernel::Unknown as u8 {
        // SAFETY: forwarded caller contract.
        return unsafe { detect_then_host_refresh(states, version, event_types, len, current) };
    }
    let ext = registry::global().ext();
    // SAFETY: `version` is non-NULL; the caller owns the word.
    let v = unsafe { *version };
    let (s, e) = (states.cast(), event_types);
    // SAFETY: the kernel is the route byte's (or just detected);
    // forwarded caller contract.
    let done = unsafe {
        if ext.lasting_mode() {
            simd::by_kernel::<true, true>(kernel, s, version, e, len, current)
        } else if ext.refresh_is_cpythons(v, current) {
            simd::by_kernel::<false, true>(kernel, s, version, e, len, current)
        } else {
            None
        }
    };
    // SAFETY: forwarded caller contract.
    done.unwrap_or_else(|| unsafe { enter_scope_refresh_other(states, version, event_types, len) })
}

/// [`host_refresh`] before the kernel is known: detect it, then refresh
/// (out of line: the refresh stays frameless).
///
/// # Safety
/// As [`detect_and_refresh`].
#[cfg(all(target_arch = "x86_64", not(loom)))]
#[cold]
#[inline(never)]
unsafe extern "C" fn detect_then_host_refresh(
    states: *mut PyMonitoringState,
    version: *mut u64,
    event_types: *const u8,
    len: usize,
    current: u64,
) -> c_int {
    let kernel = super::simd::detect() as u8;
    // SAFETY: forwarded caller contract; `kernel` is known now.
    unsafe { host_refresh(states, version, event_types, len, current, kernel) }
}

/// [`detect_and_refresh`] before the kernel is known: detect it, then
/// refresh with it (`MARKED`: as the lasting mode does) or with the scalar
/// code.
///
/// # Safety
/// As [`enter_scope_refresh`], `len` checked; `MARKED` only when
/// [`detect_and_refresh`] chose the kernels' lasting-mode refresh.
#[cfg(all(target_arch = "x86_64", not(loom)))]
#[cold]
#[inline(never)]
unsafe extern "C" fn detect_then_refresh<const MARKED: bool>(
    states: *mut PyMonitoringState,
    version: *mut u64,
    event_types: *const u8,
    len: usize,
    current: u64,
) -> c_int {
    let kernel = super::simd::detect() as u8;
    // SAFETY: the kernel was just detected; forwarded caller contract.
    let done = unsafe {
        super::simd::by_kernel::<MARKED, false>(
            kernel,
            states.cast(),
            version,
            event_types,
            len,
            current,
        )
    };
    // SAFETY: forwarded caller contract.
    done.unwrap_or_else(|| unsafe { enter_scope_refresh_other(states, version, event_types, len) })
}

/// The core's refresh (`scope::try_refresh_with`), for `len` (<= the
/// slice limit) slots.
///
/// # Safety
/// As [`enter_scope_refresh`], `len` checked.
#[inline(always)]
unsafe fn scalar_refresh(
    states: *mut PyMonitoringState,
    version: *mut u64,
    event_types: *const u8,
    len: usize,
    locals: impl FnOnce() -> Option<[u8; Event::COUNT]>,
) -> c_int {
    if len == 0 {
        // SAFETY: checked non-NULL; the caller owns the word.
        unsafe { *version = registry::version() };
        return 0;
    }
    // SAFETY: non-NULL and `len` (<= MAX) elements by the caller's
    // contract; `SlotState` has `PyMonitoringState`'s layout (two bytes,
    // align 1) and `Cell` allows writes the caller may also make.
    let (states, version, events) = unsafe {
        (
            std::slice::from_raw_parts(states as *const SlotState, len),
            &*(version as *const Cell<u64>),
            std::slice::from_raw_parts(event_types, len),
        )
    };
    // No guard here: validating and filling make no call and index nothing,
    // so they cannot panic; the error path that can is guarded, and so is
    // `PyMonitoring_EnterCodeScope`, whose `locals` reads a snapshot.
    match scope::try_refresh_with(states, version, events, locals) {
        Ok(()) => 0,
        Err(scope::InvalidEvent) => enter_scope_bad_event(events),
    }
}

/// Exit the last scope entered. Scopes keep no stack: Enter and Exit need
/// not balance (Cython does not balance them). Always returns 0.
///
/// # Safety
/// None: takes no arguments. Callable from any thread.
#[no_mangle]
#[cfg(not(pymonitoring_inline))]
pub extern "C" fn PyMonitoring_ExitScope() -> c_int {
    scope::exit_scope();
    0
}
