//! `EnterScope`'s refresh with SSSE3 (x86-64, detected at run time): 16
//! slots a step instead of the core's 3 instructions a slot.
//!
//! The safe core (`scope::try_refresh`) stays the reference and the only
//! path elsewhere (other architectures, no SSSE3, under loom, fewer than
//! [`MIN_LEN`] slots). This kernel must give exactly its result: the ids are
//! all checked first (an id of 19 or more writes nothing), the version is
//! read (`Acquire`) before the masks and stored before the fill, and each
//! slot's `active` gets the mask of its id; `opaque` keeps its value.
//!
//! The masks come from `registry::scope_mask_words` (3 words of 8 masks,
//! read `Relaxed` as the core reads the byte table, never a non-atomic
//! vector read of atomics) and live in two registers: `lo` = ids 0-15 and
//! `hi` = (ids 16-18) XOR (ids 0-2). `pshufb(lo, id)` gives `lo[id & 15]`,
//! `pshufb(hi, id - 16)` gives 0 for ids below 16 (the index's top bit is
//! set) and `hi[id - 16]` for 16-18, and their XOR is the mask.
//!
//! **`opaque` is rewritten with the value just read.** A vector store covers
//! both bytes of each slot, so the fill loads the slots, keeps their `opaque`
//! bytes and stores them back with the new `active` bytes. This is the same
//! as not touching `opaque` because a state array is never used by two
//! threads at once (SPEC §8, the contract in `PyMonitoring_EnterScope`'s
//! docs) and nothing else runs on this thread during the refresh (no
//! callback, no call out of the library): no write to `opaque` can fall
//! between the load and the store. See `docs/CONCURRENCY.md`.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;
use std::ffi::c_int;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::registry;

/// The fewest slots the kernel takes; shorter scopes take the core's path
/// (1-3 byte stores cost less than setting up the vectors).
pub(super) const MIN_LEN: usize = 4;

/// Whether this CPU runs [`refresh`]: [`Kernel::Unknown`] until the first
/// refresh of [`MIN_LEN`] slots or more calls [`detect`] (a relaxed byte:
/// every thread that writes it writes the same answer).
static KERNEL: AtomicU8 = AtomicU8::new(Kernel::Unknown as u8);

/// Which refresh runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub(super) enum Kernel {
    /// Not detected yet: call [`detect`].
    Unknown = 0,
    /// [`refresh`].
    Simd = 1,
    /// The core's scalar code.
    Scalar = 2,
}

/// The refresh to run, as far as known: one load, so the caller stays
/// frameless.
#[inline(always)]
pub(super) fn kernel() -> Kernel {
    match KERNEL.load(Ordering::Relaxed) {
        1 => Kernel::Simd,
        2 => Kernel::Scalar,
        _ => Kernel::Unknown,
    }
}

/// Whether [`refresh`] runs on this CPU (SSSE3), remembered for [`kernel`].
#[cold]
pub(super) fn detect() -> bool {
    let yes = std::is_x86_feature_detected!("ssse3");
    let k = if yes { Kernel::Simd } else { Kernel::Scalar };
    KERNEL.store(k as u8, Ordering::Relaxed);
    yes
}

/// `ids + 109` saturating: the top bit of a byte is set iff its id is 19 or
/// more (ids up to 18 reach 127 at most, 19 reaches 128, 255 stays 255).
// Value intrinsics are safe to call here since Rust 1.87, unsafe for the
// MSRV (1.81).
#[allow(unused_unsafe)]
#[target_feature(enable = "ssse3")]
#[inline]
unsafe fn flag_bad(ids: __m128i) -> __m128i {
    const ADD: i8 = (128 - crate::event::Event::COUNT) as i8;
    unsafe { _mm_adds_epu8(ids, _mm_set1_epi8(ADD)) }
}

/// The two lookup registers (see the module docs), from the packed words.
/// Read after the version.
// Value intrinsics are safe to call here since Rust 1.87, unsafe for the
// MSRV (1.81).
#[allow(unused_unsafe)]
#[target_feature(enable = "ssse3")]
#[inline]
unsafe fn tables() -> (__m128i, __m128i) {
    let [w0, w1, w2] = registry::scope_mask_words();
    unsafe {
        let lo = _mm_set_epi64x(w1 as i64, w0 as i64);
        let hi = _mm_xor_si128(_mm_cvtsi64_si128(w2 as i64), lo);
        (lo, hi)
    }
}

/// The masks of 16 valid ids.
// Value intrinsics are safe to call here since Rust 1.87, unsafe for the
// MSRV (1.81).
#[allow(unused_unsafe)]
#[target_feature(enable = "ssse3")]
#[inline]
unsafe fn lookup((lo, hi): (__m128i, __m128i), ids: __m128i) -> __m128i {
    unsafe {
        let low = _mm_shuffle_epi8(lo, ids);
        let high = _mm_shuffle_epi8(hi, _mm_sub_epi8(ids, _mm_set1_epi8(16)));
        _mm_xor_si128(low, high)
    }
}

/// 8 slots (16 bytes) with their `opaque` bytes (odd bytes) from `slots` and
/// the masks `masks` (words with a zero high byte) as `active`.
// Value intrinsics are safe to call here since Rust 1.87, unsafe for the
// MSRV (1.81).
#[allow(unused_unsafe)]
#[target_feature(enable = "ssse3")]
#[inline]
unsafe fn merge(slots: __m128i, masks: __m128i) -> __m128i {
    unsafe {
        let opaque = _mm_and_si128(slots, _mm_set1_epi16(0xff00u16 as i16));
        _mm_or_si128(opaque, masks)
    }
}

/// Refresh `len` (>= [`MIN_LEN`]) slots. Returns what
/// `PyMonitoring_EnterScope` returns.
///
/// # Safety
/// SSSE3 is available; `states` points to `len` two-byte slots and
/// `event_types` to `len` bytes, `version` to the caller's word, all
/// valid for reads and writes (`event_types` reads) by this thread, as
/// `PyMonitoring_EnterScope` requires.
#[target_feature(enable = "ssse3")]
pub(super) unsafe extern "C" fn refresh(
    states: *mut u8,
    version: *mut u64,
    event_types: *const u8,
    len: usize,
) -> c_int {
    debug_assert!(len >= MIN_LEN);
    // SAFETY: every access below is inside the caller's arrays: offsets
    // `0..len` of `event_types` and `0..2 * len` of `states`, shown at each
    // step; unaligned loads and stores (the arrays have alignment 1).
    unsafe {
        let zero = _mm_setzero_si128();
        if len < 8 {
            // 4-7: ids 0..4 and len-4..len (overlapping), slots likewise as
            // two 8-byte halves.
            let a = std::ptr::read_unaligned(event_types as *const i32);
            let b = std::ptr::read_unaligned(event_types.add(len - 4) as *const i32);
            let ids = _mm_set_epi32(0, 0, b, a);
            if _mm_movemask_epi8(flag_bad(ids)) != 0 {
                return super::scope::bad_event(event_types, len);
            }
            *version = registry::version();
            let masks = _mm_unpacklo_epi8(lookup(tables(), ids), zero);
            let first = states as *mut f64;
            let last = states.add(2 * (len - 4)) as *mut f64;
            let slots = _mm_castpd_si128(_mm_loadh_pd(
                _mm_castsi128_pd(_mm_loadl_epi64(first as *const __m128i)),
                last,
            ));
            let out = _mm_castsi128_pd(merge(slots, masks));
            _mm_storel_pd(first, out);
            _mm_storeh_pd(last, out);
            return 0;
        }
        if len < 16 {
            // 8-15: ids 0..8 and len-8..len, slots as two 16-byte blocks.
            let first = _mm_loadl_epi64(event_types as *const __m128i);
            let last = event_types.add(len - 8) as *const f64;
            let ids = _mm_castpd_si128(_mm_loadh_pd(_mm_castsi128_pd(first), last));
            if _mm_movemask_epi8(flag_bad(ids)) != 0 {
                return super::scope::bad_event(event_types, len);
            }
            *version = registry::version();
            let masks = lookup(tables(), ids);
            let p = states as *mut __m128i;
            let q = states.add(2 * (len - 8)) as *mut __m128i;
            let (s, t) = (_mm_loadu_si128(p), _mm_loadu_si128(q));
            _mm_storeu_si128(p, merge(s, _mm_unpacklo_epi8(masks, zero)));
            _mm_storeu_si128(q, merge(t, _mm_unpackhi_epi8(masks, zero)));
            return 0;
        }
        // 16 and more: blocks of 16 at 0, 16, ... and the last one at
        // len-16 (overlapping the one before unless len is a multiple of
        // 16). Check every block before writing anything.
        let last = len - 16;
        let (a, z) = (ids_at(event_types, 0), ids_at(event_types, last));
        let mut bad = _mm_or_si128(flag_bad(a), flag_bad(z));
        let mut i = 16;
        while i < last {
            bad = _mm_or_si128(bad, flag_bad(ids_at(event_types, i)));
            i += 16;
        }
        if _mm_movemask_epi8(bad) != 0 {
            return super::scope::bad_event(event_types, len);
        }
        *version = registry::version();
        let tables = tables();
        let mut i = 0;
        while i < last {
            fill16(tables, states, event_types, i);
            i += 16;
        }
        fill16(tables, states, event_types, last);
        0
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

/// Slots `i..i + 16` get the masks of ids `i..i + 16` (all valid).
///
/// # Safety
/// SSSE3; the ids and the 32 bytes of slots readable and writable.
#[target_feature(enable = "ssse3")]
#[inline]
unsafe fn fill16(tables: (__m128i, __m128i), states: *mut u8, event_types: *const u8, i: usize) {
    // SAFETY: forwarded.
    unsafe {
        let zero = _mm_setzero_si128();
        let masks = lookup(tables, ids_at(event_types, i));
        let p = states.add(2 * i) as *mut __m128i;
        let (s, t) = (_mm_loadu_si128(p), _mm_loadu_si128(p.add(1)));
        _mm_storeu_si128(p, merge(s, _mm_unpacklo_epi8(masks, zero)));
        _mm_storeu_si128(p.add(1), merge(t, _mm_unpackhi_epi8(masks, zero)));
    }
}
