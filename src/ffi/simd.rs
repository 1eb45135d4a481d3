//! `EnterScope`'s refresh with SSSE3 or AVX2 (x86-64, detected at run
//! time): 16 slots a step instead of the core's 3 instructions a slot.
//!
//! The safe core (`scope::try_refresh_with`) stays the reference and the only
//! path elsewhere (other architectures, neither SSSE3 nor AVX2, under loom,
//! fewer than [`MIN_LEN`] slots). The kernels must give exactly its result:
//! the ids are all checked first (an id of 19 or more writes nothing), the
//! version is read (`Acquire`, by `EnterScope`'s version compare, which
//! passes it on) before the masks and stored before the fill,
//! and each slot's `active` gets the mask of its id; `opaque` keeps its
//! value, or with `MARKED` (the lasting-DISABLE mode's refresh,
//! `ext::State::refresh_marked`) becomes [`SLOT_MARK`]. `ffi::tests`
//! compares them with the core for every length 0-70, in both modes and
//! both numberings.
//!
//! Both kernels are one body (the `kernel!` macro) compiled for each feature set;
//! AVX2's 3-operand instructions need no register copies, `ptest` checks a
//! vector in one instruction and a 32-byte store writes 16 slots.
//!
//! With `HOST` (the host's numbering, `PY_MONITORING_OPT_CPYTHON_313_EVENT_IDS`)
//! the ids are CPython 3.13's: checked against 3.13's 17 events (an id of
//! 17 or more writes nothing, and the error names it in that numbering),
//! then translated to the library's (`scope::id_from_313`) with one
//! `pshufb` of a table made from it, before the lookup.
//!
//! The masks come from `registry::scope_mask_word` (3 words of 8 masks,
//! read `Relaxed` as the core reads the byte table, never a non-atomic
//! vector read of atomics) and live in two registers: `lo` = ids 0-15 and
//! `hi` = (ids 16-18) XOR (ids 0-2). `pshufb(lo, id)` gives `lo[id & 15]`,
//! `pshufb(hi, id - 16)` gives 0 for ids below 16 (the index's top bit is
//! set) and `hi[id - 16]` for 16-18, and their XOR is the mask. Scopes of
//! fewer than 16 slots whose ids are all below 16 (every Cython scope:
//! Cython never uses C_RETURN, C_RAISE or BRANCH) skip `hi`: one test
//! covers both that and the id check, and one `pshufb` looks them up.
//!
//! **`opaque` is rewritten with the value just read** (unless `MARKED`,
//! which stores the mark without reading the slots). A vector store covers
//! both bytes of each slot, so the fill loads the slots, keeps their `opaque`
//! bytes and stores them back with the new `active` bytes. This is the same
//! as not touching `opaque` because a state array is never used by two
//! threads at once (docs/CONCURRENCY.md, the contract in `PyMonitoring_EnterScope`'s
//! docs) and nothing else runs on this thread during the refresh (no
//! callback, no call out of the library): no write to `opaque` can fall
//! between the load and the store. See `docs/CONCURRENCY.md`.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;
use std::ffi::c_int;

use crate::ext::restarts::{GATE, MARKED};
use crate::ext::SLOT_MARK;
use crate::registry;
use crate::scope::{id_from_313, EVENTS_313};

/// The fewest slots the kernel takes; shorter scopes take the core's path
/// (1-3 byte stores cost less than setting up the vectors).
pub(super) const MIN_LEN: usize = 4;

/// Which refresh runs: each the route byte's value that runs it ([`route`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub(super) enum Kernel {
    /// Not detected yet: call [`detect`].
    Unknown = 0,
    /// [`refresh_avx2`] (tested first).
    Avx2 = 1,
    /// [`refresh_ssse3`].
    Ssse3 = 2,
    /// The core's scalar code.
    Scalar = 3,
    /// [`refresh_avx2`] with the mark (the lasting mode, no translation).
    Avx2Marked = GATE | MARKED | 1,
    /// [`refresh_ssse3`] with the mark.
    Ssse3Marked = GATE | MARKED | 2,
}

/// The refresh route byte (`ext::State::route`, one relaxed load, so the
/// caller stays frameless): the extensions' refresh gate in its top bit,
/// below it `ext::restarts::MARKED` (the gated refresh is the lasting
/// mode's with no translation), and in the low bits the kernel
/// [`detect`] chose. Each [`Kernel`] is the byte's value that runs it;
/// with the gate open and `MARKED` clear the refresh checks what the gate
/// asks (docs/ARCHITECTURE.md, "The seam").
#[inline(always)]
pub(super) fn route() -> u8 {
    registry::global().ext().route()
}

const _: () = assert!(Kernel::Avx2Marked as u8 == 0xc1 && Kernel::Ssse3Marked as u8 == 0xc2);

/// Which refresh runs on this CPU, remembered in the route byte ([`route`]).
#[cold]
pub(super) fn detect() -> Kernel {
    let k = if std::is_x86_feature_detected!("avx2") {
        Kernel::Avx2
    } else if std::is_x86_feature_detected!("ssse3") {
        Kernel::Ssse3
    } else {
        Kernel::Scalar
    };
    registry::global().ext().set_route(k as u8);
    k
}

/// `ids + 109` saturating: the top bit of a byte is set iff its id is 19 or
/// more (ids up to 18 reach 127 at most, 19 reaches 128, 255 stays 255).
// Value intrinsics are safe to call here since Rust 1.87, unsafe for the
// MSRV (1.81); hence the `unsafe` blocks and `allow`s below.
#[allow(unused_unsafe)]
#[target_feature(enable = "ssse3")]
#[inline]
unsafe fn flag_bad(ids: __m128i) -> __m128i {
    const ADD: i8 = (128 - crate::event::Event::COUNT) as i8;
    unsafe { _mm_adds_epu8(ids, _mm_set1_epi8(ADD)) }
}

/// With `HOST`, `ids + 111` saturating: the top bit of a byte is set iff its
/// id is 17 or more (not an event of CPython 3.13's numbering); else
/// [`flag_bad`].
#[allow(unused_unsafe)]
#[target_feature(enable = "ssse3")]
#[inline]
unsafe fn flag_invalid<const HOST: bool>(ids: __m128i) -> __m128i {
    if HOST {
        unsafe { _mm_adds_epu8(ids, _mm_set1_epi8((128 - EVENTS_313) as i8)) }
    } else {
        unsafe { flag_bad(ids) }
    }
}

/// The library's ids of CPython 3.13's ids 0-15 (a `pshufb` table).
const FROM_313: [u8; 16] = {
    let mut t = [0; 16];
    let mut i = 0;
    while i < 16 {
        t[i] = match id_from_313(i as u8) {
            Some(id) => id,
            None => panic!("ids 0-15 are 3.13's events"),
        };
        i += 1;
    }
    t
};

/// The library's id of CPython 3.13's id 16, the last one.
const FROM_313_LAST: u8 = match id_from_313(EVENTS_313 as u8 - 1) {
    Some(id) => id,
    None => panic!("id 16 is 3.13's last event"),
};
const _: () = assert!(EVENTS_313 == 17 && id_from_313(EVENTS_313 as u8).is_none());

/// With `HOST`, valid ids of CPython 3.13's numbering as the library's:
/// ids 0-15 from [`FROM_313`] (`pshufb` reads an index's low 4 bits, so
/// id 16 reads entry 0, which is 0), id 16 ORed in; else `ids`.
#[allow(unused_unsafe)]
#[target_feature(enable = "ssse3")]
#[inline]
unsafe fn library_ids<const HOST: bool>(ids: __m128i) -> __m128i {
    if !HOST {
        return ids;
    }
    unsafe {
        let table = _mm_loadu_si128(FROM_313.as_ptr() as *const __m128i);
        let last = _mm_cmpeq_epi8(ids, _mm_set1_epi8(EVENTS_313 as i8 - 1));
        _mm_or_si128(
            _mm_shuffle_epi8(table, ids),
            _mm_and_si128(last, _mm_set1_epi8(FROM_313_LAST as i8)),
        )
    }
}

/// `ids + 112` saturating: the top bit of a byte is set iff its id is 16 or
/// more (not in `lo`, or not valid).
#[allow(unused_unsafe)]
#[target_feature(enable = "ssse3")]
#[inline]
unsafe fn flag_high(ids: __m128i) -> __m128i {
    unsafe { _mm_adds_epu8(ids, _mm_set1_epi8(112)) }
}

/// Whether a byte of `flags` has its top bit set (SSSE3: `pmovmskb`).
#[allow(unused_unsafe)]
#[target_feature(enable = "ssse3")]
#[inline]
unsafe fn any_top_ssse3(flags: __m128i) -> bool {
    unsafe { _mm_movemask_epi8(flags) != 0 }
}

/// Whether a byte of `flags` has its top bit set (one `ptest`).
#[allow(unused_unsafe)]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn any_top_avx2(flags: __m128i) -> bool {
    unsafe { _mm_testz_si128(flags, _mm_set1_epi8(i8::MIN)) == 0 }
}

/// The masks of ids 0-15 (`lo`). Read after the version.
#[allow(unused_unsafe)]
#[target_feature(enable = "ssse3")]
#[inline]
unsafe fn table_lo() -> __m128i {
    let (w0, w1) = (registry::scope_mask_word(0), registry::scope_mask_word(1));
    unsafe { _mm_set_epi64x(w1 as i64, w0 as i64) }
}

/// `hi` (see the module docs) from `lo`. Read after the version.
#[allow(unused_unsafe)]
#[target_feature(enable = "ssse3")]
#[inline]
unsafe fn table_hi(lo: __m128i) -> __m128i {
    let w2 = registry::scope_mask_word(2);
    unsafe { _mm_xor_si128(_mm_cvtsi64_si128(w2 as i64), lo) }
}

/// The masks of 16 valid ids.
#[allow(unused_unsafe)]
#[target_feature(enable = "ssse3")]
#[inline]
unsafe fn lookup(lo: __m128i, hi: __m128i, ids: __m128i) -> __m128i {
    unsafe {
        let low = _mm_shuffle_epi8(lo, ids);
        let high = _mm_shuffle_epi8(hi, _mm_sub_epi8(ids, _mm_set1_epi8(16)));
        _mm_xor_si128(low, high)
    }
}

/// 8 slots (16 bytes) with their `opaque` bytes (odd bytes) from `slots` and
/// the first 8 masks of `masks` as `active`: the `opaque` bytes gathered
/// (`pshufb`), then interleaved with the masks. With `MARKED` every
/// `opaque` is [`SLOT_MARK`] instead (`slots` unused).
#[allow(unused_unsafe)]
#[target_feature(enable = "ssse3")]
#[inline]
unsafe fn merge_lo<const MARKED: bool>(slots: __m128i, masks: __m128i) -> __m128i {
    unsafe {
        let opaque = if MARKED {
            _mm_set1_epi8(SLOT_MARK as i8)
        } else {
            let odd = _mm_setr_epi8(1, 3, 5, 7, 9, 11, 13, 15, -1, -1, -1, -1, -1, -1, -1, -1);
            _mm_shuffle_epi8(slots, odd)
        };
        _mm_unpacklo_epi8(masks, opaque)
    }
}

/// As [`merge_lo`] with the last 8 masks of `masks`.
#[allow(unused_unsafe)]
#[target_feature(enable = "ssse3")]
#[inline]
unsafe fn merge_hi<const MARKED: bool>(slots: __m128i, masks: __m128i) -> __m128i {
    unsafe {
        let opaque = if MARKED {
            _mm_set1_epi8(SLOT_MARK as i8)
        } else {
            let odd = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, 1, 3, 5, 7, 9, 11, 13, 15);
            _mm_shuffle_epi8(slots, odd)
        };
        _mm_unpackhi_epi8(masks, opaque)
    }
}

/// 16 ids from `event_types + i`.
///
/// # Safety
/// SSSE3; `event_types + i .. + 16` readable.
#[target_feature(enable = "ssse3")]
#[inline]
unsafe fn ids_at(event_types: *const u8, i: usize) -> __m128i {
    // SAFETY: forwarded.
    unsafe { _mm_loadu_si128(event_types.add(i) as *const __m128i) }
}

/// 16 slots (32 bytes at `p`) get `masks` as `active`, keeping `opaque`
/// (with `MARKED`: [`SLOT_MARK`] as `opaque`, nothing read): two 16-byte
/// stores.
///
/// # Safety
/// SSSE3; 32 bytes at `p` readable and writable.
#[target_feature(enable = "ssse3")]
#[inline]
unsafe fn fill16_ssse3<const MARKED: bool>(p: *mut u8, masks: __m128i) {
    // SAFETY: forwarded.
    unsafe {
        let p = p as *mut __m128i;
        let (s, t) = if MARKED {
            (_mm_setzero_si128(), _mm_setzero_si128())
        } else {
            (_mm_loadu_si128(p), _mm_loadu_si128(p.add(1)))
        };
        _mm_storeu_si128(p, merge_lo::<MARKED>(s, masks));
        _mm_storeu_si128(p.add(1), merge_hi::<MARKED>(t, masks));
    }
}

/// As [`fill16_ssse3`] with one 32-byte store.
///
/// # Safety
/// AVX2; 32 bytes at `p` readable and writable.
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn fill16_avx2<const MARKED: bool>(p: *mut u8, masks: __m128i) {
    // SAFETY: forwarded.
    unsafe {
        let p = p as *mut __m256i;
        let opaque = if MARKED {
            _mm256_set1_epi16((u16::from(SLOT_MARK) << 8) as i16)
        } else {
            let keep = _mm256_set1_epi16(0xff00u16 as i16);
            _mm256_and_si256(_mm256_loadu_si256(p), keep)
        };
        _mm256_storeu_si256(p, _mm256_or_si256(opaque, _mm256_cvtepu8_epi16(masks)));
    }
}

/// The masks of the (up to 16) ids in `ids` for a scope of fewer than 16
/// slots, after storing the version; `None` (nothing written) when an id is
/// not valid (19 or more; with `HOST`, 17 or more, then translated).
/// `$any_top` is the kernel's top-bit test.
macro_rules! small_masks {
    ($any_top:ident, $host:ident, $ids:expr, $version:expr, $current:expr) => {{
        let raw = $ids;
        let ids = library_ids::<$host>(raw);
        if $host && $any_top(flag_invalid::<true>(raw)) {
            None
        } else if !$any_top(flag_high(ids)) {
            // All below 16: `lo` alone.
            *$version = $current;
            Some(_mm_shuffle_epi8(table_lo(), ids))
        } else if $any_top(flag_bad(ids)) {
            None
        } else {
            *$version = $current;
            let lo = table_lo();
            Some(lookup(lo, table_hi(lo), ids))
        }
    }};
}

/// A kernel: `$name`, compiled with `$feature`, testing top bits with
/// `$any_top` and filling 16 slots with `$fill16`.
macro_rules! kernel {
    ($(#[$doc:meta])* $name:ident, $feature:literal, $any_top:ident, $fill16:ident) => {
        $(#[$doc])*
        ///
        /// Refreshes `len` (>= [`MIN_LEN`]) slots and returns what
        /// `PyMonitoring_EnterScope` returns; with `MARKED`, as the
        /// lasting-DISABLE mode refreshes (`opaque` = [`SLOT_MARK`]); with
        /// `HOST`, for ids in CPython 3.13's numbering.
        ///
        /// # Safety
        /// The feature is available; `states` points to `len` two-byte
        /// slots and `event_types` to `len` bytes, `version` to the caller's
        /// word, all valid for reads and writes (`event_types`: reads) by
        /// this thread, as `PyMonitoring_EnterScope` requires; `current`
        /// is the global version, read (`Acquire`) before this call.
        #[target_feature(enable = $feature)]
        pub(super) unsafe extern "C" fn $name<const MARKED: bool, const HOST: bool>(
            states: *mut u8,
            version: *mut u64,
            event_types: *const u8,
            len: usize,
            current: u64,
        ) -> c_int {
            debug_assert!(len >= MIN_LEN);
            // SAFETY: every access is inside the caller's arrays: offsets
            // `0..len` of `event_types` and `0..2 * len` of `states`, as
            // each step shows; unaligned loads and stores (alignment 1).
            unsafe {
                if len < 8 {
                    // 4-7: ids 0..4 and len-4..len (overlapping), the slots
                    // likewise as two 8-byte halves of one vector.
                    let a = std::ptr::read_unaligned(event_types as *const i32);
                    let b = std::ptr::read_unaligned(event_types.add(len - 4) as *const i32);
                    let ids = _mm_unpacklo_epi32(_mm_cvtsi32_si128(a), _mm_cvtsi32_si128(b));
                    let Some(masks) = small_masks!($any_top, HOST, ids, version, current) else {
                        return super::scope_errors::bad_event::<HOST>(event_types, len);
                    };
                    let first = states as *mut i64;
                    let last = states.add(2 * (len - 4)) as *mut i64;
                    let slots = if MARKED {
                        _mm_setzero_si128()
                    } else {
                        _mm_castpd_si128(_mm_loadh_pd(
                            _mm_castsi128_pd(_mm_loadl_epi64(first as *const __m128i)),
                            last as *const f64,
                        ))
                    };
                    let out = merge_lo::<MARKED>(slots, masks);
                    std::ptr::write_unaligned(first, _mm_cvtsi128_si64(out));
                    std::ptr::write_unaligned(last, _mm_cvtsi128_si64(_mm_unpackhi_epi64(out, out)));
                    return 0;
                }
                if len < 16 {
                    // 8-15: ids 0..8 and len-8..len, the slots as two
                    // 16-byte blocks.
                    let a = std::ptr::read_unaligned(event_types as *const i64);
                    let b = std::ptr::read_unaligned(event_types.add(len - 8) as *const i64);
                    let Some(masks) = small_masks!($any_top, HOST, _mm_set_epi64x(b, a), version, current) else {
                        return super::scope_errors::bad_event::<HOST>(event_types, len);
                    };
                    let p = states as *mut __m128i;
                    let q = states.add(2 * (len - 8)) as *mut __m128i;
                    let (s, t) = if MARKED {
                        (_mm_setzero_si128(), _mm_setzero_si128())
                    } else {
                        (_mm_loadu_si128(p), _mm_loadu_si128(q))
                    };
                    _mm_storeu_si128(p, merge_lo::<MARKED>(s, masks));
                    _mm_storeu_si128(q, merge_hi::<MARKED>(t, masks));
                    return 0;
                }
                // 16 and more: blocks of 16 at 0, 16, ... and the last one
                // at len-16 (overlapping the one before unless len is a
                // multiple of 16). Every block is checked before anything is
                // written.
                let last = len - 16;
                let (a, z) = (ids_at(event_types, 0), ids_at(event_types, last));
                if len <= 32 {
                    // Two blocks, no loop (every scope of 17 events, say).
                    if $any_top(_mm_or_si128(flag_invalid::<HOST>(a), flag_invalid::<HOST>(z))) {
                        return super::scope_errors::bad_event::<HOST>(event_types, len);
                    }
                    *version = current;
                    let lo = table_lo();
                    let hi = table_hi(lo);
                    $fill16::<MARKED>(states, lookup(lo, hi, library_ids::<HOST>(a)));
                    $fill16::<MARKED>(states.add(2 * last), lookup(lo, hi, library_ids::<HOST>(z)));
                    return 0;
                }
                let mut bad = _mm_or_si128(flag_invalid::<HOST>(a), flag_invalid::<HOST>(z));
                let mut i = 16;
                while i < last {
                    bad = _mm_or_si128(bad, flag_invalid::<HOST>(ids_at(event_types, i)));
                    i += 16;
                }
                if $any_top(bad) {
                    return super::scope_errors::bad_event::<HOST>(event_types, len);
                }
                *version = current;
                let lo = table_lo();
                let hi = table_hi(lo);
                $fill16::<MARKED>(states, lookup(lo, hi, library_ids::<HOST>(a)));
                let mut i = 16;
                while i < last {
                    let ids = library_ids::<HOST>(ids_at(event_types, i));
                    $fill16::<MARKED>(states.add(2 * i), lookup(lo, hi, ids));
                    i += 16;
                }
                $fill16::<MARKED>(states.add(2 * last), lookup(lo, hi, library_ids::<HOST>(z)));
                0
            }
        }
    };
}

kernel!(
    /// The SSSE3 kernel.
    refresh_ssse3,
    "ssse3",
    any_top_ssse3,
    fill16_ssse3
);

kernel!(
    /// The AVX2 kernel.
    refresh_avx2,
    "avx2",
    any_top_avx2,
    fill16_avx2
);

/// The refresh of kernel `kernel` (a route byte's kernel bits) with
/// `MARKED` and `HOST`; `None` (nothing done) when it is neither AVX2 nor
/// SSSE3.
///
/// # Safety
/// As the kernels; `kernel` was detected (it is in the route byte only
/// then).
#[inline(always)]
pub(super) unsafe fn by_kernel<const MARKED: bool, const HOST: bool>(
    kernel: u8,
    states: *mut u8,
    version: *mut u64,
    event_types: *const u8,
    len: usize,
    current: u64,
) -> Option<c_int> {
    // SAFETY (each arm): the kernel's features were detected; forwarded.
    unsafe {
        if kernel == Kernel::Avx2 as u8 {
            return Some(refresh_avx2::<MARKED, HOST>(
                states,
                version,
                event_types,
                len,
                current,
            ));
        }
        if kernel == Kernel::Ssse3 as u8 {
            return Some(refresh_ssse3::<MARKED, HOST>(
                states,
                version,
                event_types,
                len,
                current,
            ));
        }
    }
    None
}
