//! The per-site memory of lasting DISABLEs (`PY_MONITORING_OPT_LASTING_DISABLE`,
//! `docs/EXTENSIONS.md`; the protocol is in `docs/CONCURRENCY.md`, "Site table").
//!
//! A bounded open-addressing table of [`SITES`] entries of two words (at
//! the same index of two arrays): the code-like's address and a key packing the tool's bit, the event, the
//! offset and the line (LINE's `lineno`, 0 for the other events: Cython fires
//! every line of a generator body at offset 0). Linear probing, limited to
//! [`PROBES`] entries from a site's home; all the tools of one site hash to
//! the same home, so one scan answers "which of these tools DISABLEd this
//! site". A site whose offset or line does not fit its field is never
//! remembered (its callback is called again).
//!
//! Readers never lock and never write. Between forgets the table only grows:
//! an insert fills an empty entry, code-like first, then the key (Release),
//! so a reader that Acquire-loads a key then the code-like sees the pair the
//! insert wrote. A forget (a removal) rewrites entries inside a window
//! bracketed by two counters, `begun` (bumped first) and `done` (bumped
//! last): a reader loads `done` first and `begun` last and trusts what it
//! read only when they are equal, so an entry rewritten while it read (a mix
//! of two sites) is a miss, and a miss only means the callback is called.
//! Writers (inserts from a fire whose callback returned DISABLE, removals
//! from registry writers) hold `writer`.
//!
//! After each rewrite, `stamp` takes [`stamp_of`] the new `done`: the
//! header's per-call-site caches (`docs/EXTENSIONS.md`, "DISABLE that
//! lasts") hold a claim "remembered for these tools at stamp S", written
//! with the `done` of a consistent table read, so a claim made before a
//! forget never matches the stamp a fire reads after it.

use std::cell::Cell;

use crate::event::Event;
use crate::object::ObjectRef;
use crate::sync::{fence, AtomicU64, Mutex, MutexGuard, Ordering};
use crate::tool::TOOL_IDS;

/// Number of entries of the process's table (documented in
/// `docs/EXTENSIONS.md`; `PY_MONITORING_DISABLED_SITES` in the header).
pub const SITES: usize = 8192;
/// A site's entries lie within this many entries of its home; an insert
/// that finds no empty entry there is dropped (the callback is called at
/// that site again).
#[cfg(not(loom))]
pub const PROBES: usize = 8;
/// The models' tables are 2 entries (a forget's pass over the table is
/// what their run time grows with).
#[cfg(loom)]
pub const PROBES: usize = 2;

/// Where a key holds its event (6 bits); the tool's bit (`1 << tool`) is in
/// the low byte, so with one tool active a key compares with `site |
/// active`.
pub(crate) const EVENT_SHIFT: u32 = 8;
/// Where a key holds its offset (25 bits).
pub(crate) const OFFSET_SHIFT: u32 = 14;
/// Where a key holds its line word plus one (the 25 bits left).
pub(crate) const LINE_SHIFT: u32 = 39;
/// LINE's offsets below this are remembered (the other events' all).
pub const OFFSET_LIMIT: u64 = 1 << (LINE_SHIFT - OFFSET_SHIFT);
/// Line words plus one below this are remembered (the same limit, so one
/// test checks both).
pub const LINE_LIMIT: u64 = 1 << (64 - LINE_SHIFT);
const _: () = assert!(OFFSET_LIMIT == LINE_LIMIT);
/// The multiplier of a site's hash (Fibonacci hashing).
pub(crate) const HASH_MULTIPLIER: u64 = 0x9E37_79B9_7F4A_7C15;
/// The shift taking a hash to an entry of the process's table.
pub(crate) const HASH_SHIFT: u32 = SiteTable::<SITES>::SHIFT;
/// A key without its tool: what identifies the site.
const SITE_BITS: u64 = !0xff;

/// Where a site cache's claim holds the stamp (the 12 bits left); the
/// header's `_PYMONITORING_CACHE_STAMP_SHIFT`.
pub const STAMP_SHIFT: u32 = 52;
/// The stamp's count at which it saturates: from there on it is
/// [`STAMP_SATURATED`], which no claim holds (claims are written only
/// below it), so the caches stop matching for good and every fire at a
/// remembered site asks the table.
pub const STAMP_LIMIT: u64 = (1 << (64 - STAMP_SHIFT)) - 1;
/// [`stamp_of`] from [`STAMP_LIMIT`] rewrites on.
pub const STAMP_SATURATED: u64 = STAMP_LIMIT << STAMP_SHIFT;

/// Where a site cache's claim holds the offset and the line word plus one
/// (22 bits each, above the tools' byte): the offset's low
/// [`CACHE_OFFSET_LOW_BITS`] at [`CACHE_OFFSET_SHIFT`], the line word plus
/// one at [`CACHE_LINE_SHIFT`] xor-ed with the offset's high bits, which are
/// also at [`CACHE_OFFSET_HIGH_SHIFT`] (so one-to-one): a site at an offset
/// below 512 and a line word below 16383 is a constant below 2^31 (an
/// `imm32` in the header's `or`). The header's `_PYMONITORING_CACHE_*`.
pub const CACHE_OFFSET_SHIFT: u32 = 8;
/// See [`CACHE_OFFSET_SHIFT`].
pub const CACHE_OFFSET_LOW_BITS: u32 = 9;
/// See [`CACHE_OFFSET_SHIFT`].
pub const CACHE_LINE_SHIFT: u32 = CACHE_OFFSET_SHIFT + CACHE_OFFSET_LOW_BITS;
/// See [`CACHE_OFFSET_SHIFT`].
pub const CACHE_OFFSET_HIGH_SHIFT: u32 = CACHE_LINE_SHIFT + CACHE_FIELD_BITS;
const CACHE_FIELD_BITS: u32 = 22;
/// Offsets and line words plus one below this are cached (others are
/// checked in the table at every fire).
pub const CACHE_FIELD_LIMIT: u64 = 1 << CACHE_FIELD_BITS;
const _: () =
    assert!(CACHE_OFFSET_HIGH_SHIFT + (CACHE_FIELD_BITS - CACHE_OFFSET_LOW_BITS) == STAMP_SHIFT);

/// The site's part of a claim (see [`CACHE_OFFSET_SHIFT`]), for an offset
/// and `line + 1` below [`CACHE_FIELD_LIMIT`].
#[inline]
pub const fn cache_site(offset: u64, line: u64) -> u64 {
    offset << CACHE_OFFSET_SHIFT
        ^ line << CACHE_LINE_SHIFT
        ^ (offset >> CACHE_OFFSET_LOW_BITS) << CACHE_OFFSET_HIGH_SHIFT
}

/// A site cache's claim: `active | cache_site(offset, line + 1) | stamp`,
/// with the offset and `line + 1` (as 32 bits, as in a site's key) below
/// [`CACHE_FIELD_LIMIT`], else `None` (not cached). Below [`STAMP_SHIFT`]
/// it is one-to-one with (active, offset, line).
pub fn claim(active: u8, offset: i32, line: u64, stamp: u64) -> Option<u64> {
    let offset = u64::from(offset as u32);
    let line = u64::from((line as u32).wrapping_add(1));
    if (offset | line) >= CACHE_FIELD_LIMIT {
        return None;
    }
    Some(u64::from(active) | cache_site(offset, line) | stamp)
}

/// The stamp after `done` rewrites: `done << STAMP_SHIFT` while `done` is
/// below [`STAMP_LIMIT`], else [`STAMP_SATURATED`].
#[inline]
pub const fn stamp_of(done: u64) -> u64 {
    if done < STAMP_LIMIT {
        done << STAMP_SHIFT
    } else {
        STAMP_SATURATED
    }
}

/// The key of a site without its tool: for LINE `event << 8 | offset << 14
/// | line1 << 39`, where `line1` is the line word plus one in 32 bits (so
/// LINE's common `lineno` of -1 fits), or `None` when the offset or `line1`
/// does not fit (such a site is never remembered); for the other events
/// (line word 0) `event << 8 | offset << 14` with the offset's 32 bits, so
/// every offset fits (no range test on their fires; the event keeps the
/// two forms apart). Never 0 with a tool's bit added.
#[inline(always)]
pub(crate) fn site_key(offset: i32, event: Event, line: u64) -> Option<u64> {
    let offset = offset as u32;
    if event != Event::Line {
        if line != 0 {
            return None;
        }
        return Some(u64::from(event.id()) << EVENT_SHIFT | u64::from(offset) << OFFSET_SHIFT);
    }
    let line = (line as u32).wrapping_add(1);
    // In 32 bits: one `or` and compare.
    if u64::from(offset | line) >= LINE_LIMIT {
        return None;
    }
    Some(
        u64::from(event.id()) << EVENT_SHIFT
            | u64::from(offset) << OFFSET_SHIFT
            | u64::from(line) << LINE_SHIFT,
    )
}

/// The line word of a site: LINE's `lineno` (as its 32 bits), 0 for the
/// other events.
#[inline(always)]
pub fn line_word(event: Event, lineno: i32) -> u64 {
    if event == Event::Line {
        u64::from(lineno as u32)
    } else {
        0
    }
}

/// What readers see: the forget counters, the stamp and the entries, laid
/// out as the header's `_PyMonitoringDisabledSites` (exported as
/// `_PyMonitoring_DisabledSites`). An entry is a key and a code-like at the
/// same index of two arrays of words, so a reader addresses either from the
/// home's index scaled by 8 (no shift).
#[repr(C)]
pub struct Shared<const N: usize> {
    /// Forgets finished (bumped, Release, after a forget's writes).
    done: AtomicU64,
    /// Forgets begun (bumped before a forget's writes).
    begun: AtomicU64,
    /// [`stamp_of`] `done`, stored (Release) after `done`.
    stamp: AtomicU64,
    /// Each entry's `1 << tool |` [`site_key`], or 0 when empty.
    keys: [AtomicU64; N],
    /// Each entry's code-like's address.
    objects: [AtomicU64; N],
}

/// Each field of [`Shared`] and its offset, for the test that holds the
/// header's struct to the same layout (`tests/abi.rs`).
#[cfg(not(loom))]
pub const SHARED_FIELD_OFFSETS: [(&str, usize); 5] = [
    ("done", std::mem::offset_of!(Shared<SITES>, done)),
    ("begun", std::mem::offset_of!(Shared<SITES>, begun)),
    ("stamp", std::mem::offset_of!(Shared<SITES>, stamp)),
    ("keys", std::mem::offset_of!(Shared<SITES>, keys)),
    ("objects", std::mem::offset_of!(Shared<SITES>, objects)),
];

impl<const N: usize> Shared<N> {
    /// Entry `i`'s words as the writer (holding the lock) sees them.
    fn peek(&self, i: usize) -> Words {
        (
            self.objects[i].load(Ordering::Relaxed),
            self.keys[i].load(Ordering::Relaxed),
        )
    }

    /// Write entry `i` (under the lock, inside a rewrite).
    fn put(&self, i: usize, (o, k): Words) {
        self.keys[i].store(k, Ordering::Relaxed);
        self.objects[i].store(o, Ordering::Relaxed);
    }
}

/// An entry's code-like and key words.
type Words = (u64, u64);

/// What a site's home entry says (see [`SiteTable::home_at`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Home {
    /// The one tool asked about DISABLEd the site.
    Holds,
    /// Nothing is remembered for the site.
    Empty,
    /// Ask [`SiteTable::disabled`].
    Unknown,
}

/// What only writers touch.
pub(crate) struct Writer {
    /// Entries per tool (a tool with none is forgotten without a rebuild).
    per_tool: [usize; TOOL_IDS],
}

/// A table of `N` entries (a power of two).
pub(crate) struct SiteTable<const N: usize> {
    shared: Shared<N>,
    writer: Mutex<Writer>,
    /// Bumped (under `writer`) by every removal, also one with nothing to
    /// remove (for tests and models; the library's inserts are validated by
    /// the caller, see [`Self::remember`]).
    forgets: AtomicU64,
}

impl<const N: usize> SiteTable<N> {
    const SHIFT: u32 = 64 - N.trailing_zeros();

    /// An empty table.
    #[cfg(not(loom))]
    pub(crate) const fn new() -> SiteTable<N> {
        assert!(N.is_power_of_two() && N >= PROBES);
        SiteTable {
            shared: Shared {
                done: AtomicU64::new(0),
                begun: AtomicU64::new(0),
                stamp: AtomicU64::new(0),
                keys: [const { AtomicU64::new(0) }; N],
                objects: [const { AtomicU64::new(0) }; N],
            },
            writer: Mutex::new(Writer {
                per_tool: [0; TOOL_IDS],
            }),
            forgets: AtomicU64::new(0),
        }
    }

    /// An empty table.
    #[cfg(loom)]
    pub(crate) fn new() -> SiteTable<N> {
        assert!(N.is_power_of_two() && N >= PROBES);
        SiteTable {
            shared: Shared {
                done: AtomicU64::new(0),
                begun: AtomicU64::new(0),
                stamp: AtomicU64::new(0),
                keys: std::array::from_fn(|_| AtomicU64::new(0)),
                objects: std::array::from_fn(|_| AtomicU64::new(0)),
            },
            writer: Mutex::new(Writer {
                per_tool: [0; TOOL_IDS],
            }),
            forgets: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Writer> {
        // Every update is a plain store: the data is consistent after a panic.
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A site's first entry (`site` is [`site_key`]'s word).
    #[inline(always)]
    pub(crate) fn home_of(object: u64, site: u64) -> usize {
        let h = object.wrapping_add(site).wrapping_mul(HASH_MULTIPLIER);
        if N == 1 {
            0
        } else {
            (h >> Self::SHIFT) as usize
        }
    }

    /// [`Self::home_at`] for a code-like and a tool set, as the tests ask.
    #[cfg(test)]
    pub(crate) fn home(
        &self,
        codelike: ObjectRef,
        offset: i32,
        event: Event,
        line: u64,
        tools: u8,
    ) -> Home {
        self.home_at(
            codelike.addr() as u64,
            offset,
            event,
            line,
            &Cell::new(tools),
        )
    }

    /// What the site's home entry says about `(object, offset, event,
    /// line)` and `tools`: [`Home::Holds`] when `tools` is one tool that
    /// DISABLEd the site (the usual case of a fire at a remembered site),
    /// [`Home::Empty`] when the home is empty or the site cannot be
    /// remembered (the usual case of a site never DISABLEd; a racing write
    /// also reads so, as a miss), else [`Home::Unknown`] (ask
    /// [`Self::disabled`]). Lock-free, writes nothing, never panics.
    ///
    /// `object` is a code-like's address, which may be 0 (no code-like): a
    /// consistent read never pairs a key with object 0 (an insert writes
    /// the code-like before the key, a removal is a rewrite), so 0 is never
    /// [`Home::Holds`]. `tools` is read only once the home holds a key
    /// (fewer registers live across the hash).
    #[inline(always)]
    pub(crate) fn home_at(
        &self,
        object: u64,
        offset: i32,
        event: Event,
        line: u64,
        tools: &Cell<u8>,
    ) -> Home {
        let Some(site) = site_key(offset, event, line) else {
            return Home::Empty;
        };
        let done = self.shared.done.load(Ordering::Acquire);
        // Masked (a no-op: the home is below N): no bounds check.
        let i = Self::home_of(object, site) & (N - 1);
        let k = self.shared.keys[i].load(Ordering::Acquire);
        // After the key, as the protocol reads; loaded before the test so
        // that both loads address the entry from the hash directly.
        let o = self.shared.objects[i].load(Ordering::Acquire);
        if k == 0 {
            return Home::Empty;
        }
        // A key holds one tool bit: with several tools active (or none)
        // this never matches (the caller then scans). The code-like, and
        // no forget began since `done` was read: the pair is one site's.
        if k == site | u64::from(tools.get())
            && o == object
            && self.shared.begun.load(Ordering::Acquire) == done
        {
            Home::Holds
        } else {
            Home::Unknown
        }
    }

    /// The header's check of a site's home entry as its inline fire
    /// functions make it before they write a call site's cache
    /// (`_PyMonitoring_SiteRemembered`, `src/ffi/header/inline.h`): the
    /// `done` of the consistent read that found `tools` (one tool)
    /// remembered for the site, for the claim's stamp; `None` otherwise.
    /// The models check the cache protocol with it.
    #[cfg(test)]
    pub(crate) fn holds_at(
        &self,
        object: u64,
        offset: i32,
        event: Event,
        line: u64,
        tools: u8,
    ) -> Option<u64> {
        let site = site_key(offset, event, line)?;
        let i = Self::home_of(object, site) & (N - 1);
        if self.shared.keys[i].load(Ordering::Relaxed) == 0 {
            return None;
        }
        let done = self.shared.done.load(Ordering::Acquire);
        let k = self.shared.keys[i].load(Ordering::Acquire);
        (k == site | u64::from(tools)
            && self.shared.objects[i].load(Ordering::Acquire) == object
            && self.shared.begun.load(Ordering::Acquire) == done)
            .then_some(done)
    }

    /// Which of `tools` are remembered as having DISABLEd the site
    /// `(codelike, offset, event, line)`. Lock-free; a racing forget reads as
    /// a miss. Never panics (indices are masked, `get` is used).
    #[inline(never)]
    pub(crate) fn disabled(
        &self,
        codelike: ObjectRef,
        offset: i32,
        event: Event,
        line: u64,
        tools: u8,
    ) -> u8 {
        let Some(site) = site_key(offset, event, line) else {
            return 0;
        };
        let object = codelike.addr() as u64;
        let done = self.shared.done.load(Ordering::Acquire);
        let found = self.scan(object, site, tools);
        if found != 0 && self.shared.begun.load(Ordering::Acquire) != done {
            return 0;
        }
        found
    }

    /// Up to [`PROBES`] entries from the site's home, stopping at an empty
    /// one.
    #[inline(always)]
    fn scan(&self, object: u64, site: u64, tools: u8) -> u8 {
        let mut i = Self::home_of(object, site);
        let mut found = 0u8;
        for _ in 0..PROBES {
            let (Some(key), Some(o)) = (self.shared.keys.get(i), self.shared.objects.get(i)) else {
                break;
            };
            let k = key.load(Ordering::Acquire);
            if k == 0 {
                break;
            }
            if k & SITE_BITS == site && o.load(Ordering::Acquire) == object {
                found |= k as u8;
                if found & tools == tools {
                    break;
                }
            }
            i = (i + 1) & (N - 1);
        }
        found & tools
    }

    /// The removal count.
    #[cfg_attr(any(loom, not(test)), allow(dead_code))]
    pub(crate) fn forgets(&self) -> u64 {
        self.forgets.load(Ordering::Acquire)
    }

    /// Remember that `tool` DISABLEd the site, unless `valid` (asked under
    /// the writer lock) says a removal may have happened since the callback
    /// was called, the site cannot be remembered, or the site's probe window
    /// is full. Returns whether the site is remembered. Waits for the writer
    /// lock (held for one insert, or a removal's pass over the table): only
    /// a fire whose callback answered DISABLE gets here, and a site is then
    /// called at most once per thread until it is forgotten.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn remember(
        &self,
        codelike: ObjectRef,
        offset: i32,
        event: Event,
        line: u64,
        tool: u8,
        valid: impl FnOnce() -> bool,
    ) -> bool {
        let mut w = self.lock();
        if !valid() {
            return false;
        }
        let Some(site) = site_key(offset, event, line) else {
            return false;
        };
        let object = codelike.addr() as u64;
        let key = site | 1 << tool;
        let mut i = Self::home_of(object, site);
        for _ in 0..PROBES {
            let (o, k) = self.shared.peek(i);
            if k == 0 {
                // Release on both: a reader that sees either sees what the
                // writer did before (the last forget's `begun`), and the
                // key's store publishes the code-like.
                self.shared.objects[i].store(object, Ordering::Release);
                self.shared.keys[i].store(key, Ordering::Release);
                w.per_tool[usize::from(tool)] += 1;
                return true;
            }
            if o == object && k == key {
                return true;
            }
            i = (i + 1) & (N - 1);
        }
        false
    }

    /// Forget every site `tool` DISABLEd.
    pub(crate) fn forget_tool(&self, tool: u8) {
        let mut w = self.lock();
        self.forgets.fetch_add(1, Ordering::Relaxed);
        if w.per_tool[usize::from(tool)] == 0 {
            return;
        }
        self.rewrite(|| self.rebuild(&mut w, |k| k as u8 != 1 << tool));
    }

    /// Forget every site.
    pub(crate) fn forget_all(&self) {
        let mut w = self.lock();
        self.forgets.fetch_add(1, Ordering::Relaxed);
        if w.per_tool.iter().all(|&n| n == 0) {
            return;
        }
        w.per_tool = [0; TOOL_IDS];
        self.rewrite(|| {
            for i in 0..N {
                if self.shared.peek(i).1 != 0 {
                    self.shared.put(i, (0, 0));
                }
            }
        });
    }

    /// Run `writes` (entries rewritten in place) inside the window readers
    /// detect: `begun` moves before the writes, `done` after them, then the
    /// stamp (before the forget returns: a fire that starts after it reads
    /// the new stamp).
    fn rewrite(&self, writes: impl FnOnce()) {
        let begun = self.shared.begun.load(Ordering::Relaxed);
        self.shared.begun.store(begun + 1, Ordering::Relaxed);
        fence(Ordering::Release);
        writes();
        self.shared.done.store(begun + 1, Ordering::Release);
        self.shared
            .stamp
            .store(stamp_of(begun + 1), Ordering::Release);
    }

    /// The stamp (for tests and models).
    #[cfg_attr(any(loom, not(test)), allow(dead_code))]
    pub(crate) fn stamp(&self) -> u64 {
        self.shared.stamp.load(Ordering::Acquire)
    }

    /// Keep the entries whose key passes `keep`, placed again from their
    /// homes (starting after an empty entry, so clusters keep their order),
    /// then write only the entries that change (inside [`Self::rewrite`]).
    fn rebuild(&self, w: &mut Writer, keep: impl Fn(u64) -> bool) {
        let shared = &self.shared;
        let start = (0..N).find(|&i| shared.peek(i).1 == 0).unwrap_or(0);
        let mut next = vec![(0u64, 0u64); N];
        w.per_tool = [0; TOOL_IDS];
        for n in 1..=N {
            let (o, k) = shared.peek((start + n) & (N - 1));
            if k == 0 || !keep(k) {
                continue;
            }
            let mut i = Self::home_of(o, k & SITE_BITS);
            let placed = (0..PROBES).any(|_| {
                if next[i].1 == 0 {
                    next[i] = (o, k);
                    return true;
                }
                i = (i + 1) & (N - 1);
                false
            });
            if placed {
                w.per_tool[(k as u8).trailing_zeros() as usize & 7] += 1;
            }
        }
        for (i, &words) in next.iter().enumerate() {
            if shared.peek(i) != words {
                shared.put(i, words);
            }
        }
    }

    /// How many sites are remembered (for tests and introspection).
    pub(crate) fn len(&self) -> usize {
        self.lock().per_tool.iter().sum()
    }
}

/// The process's table. Named by the exported fire functions' check,
/// which reads it by its symbol (`crate::ffi`, with the offsets below).
#[cfg(not(loom))]
pub(crate) static TABLE: SiteTable<SITES> = SiteTable::new();

/// Where [`TABLE`]'s readers' part ([`Shared`]) starts.
#[cfg(all(target_arch = "x86_64", not(loom)))]
pub(crate) const SHARED_AT: usize = std::mem::offset_of!(SiteTable<SITES>, shared);
/// Where [`Shared`]'s `done` is.
#[cfg(all(target_arch = "x86_64", not(loom)))]
pub(crate) const DONE_AT: usize = std::mem::offset_of!(Shared<SITES>, done);
/// Where [`Shared`]'s `begun` is.
#[cfg(all(target_arch = "x86_64", not(loom)))]
pub(crate) const BEGUN_AT: usize = std::mem::offset_of!(Shared<SITES>, begun);
/// Where the entries' keys are in [`Shared`] (entry `i`'s at `8 * i` from
/// there).
#[cfg(all(target_arch = "x86_64", not(loom)))]
pub(crate) const KEYS_AT: usize = std::mem::offset_of!(Shared<SITES>, keys);
/// Where the entries' code-likes are (see [`KEYS_AT`]).
#[cfg(all(target_arch = "x86_64", not(loom)))]
pub(crate) const OBJECTS_AT: usize = std::mem::offset_of!(Shared<SITES>, objects);

/// Before `fork()`: hold the table's writer lock, so no entry is halfway
/// written when the process is copied (`crate::fork`).
#[cfg(not(loom))]
pub(crate) struct ForkHold(#[allow(dead_code)] MutexGuard<'static, Writer>);

#[cfg(not(loom))]
pub(crate) fn fork_hold() -> ForkHold {
    ForkHold(TABLE.lock())
}

/// The process's counters and entries, for the header's inline check of
/// remembered sites (exported by the FFI layer as
/// `_PyMonitoring_DisabledSites`): read only.
#[cfg(not(loom))]
pub static SHARED: &Shared<SITES> = &TABLE.shared;

#[cfg(loom)]
loom::lazy_static! {
    static ref TABLE: SiteTable<PROBES> = SiteTable::new();
}

/// The process's table.
#[cfg(not(loom))]
#[inline(always)]
pub(crate) fn table() -> &'static SiteTable<SITES> {
    &TABLE
}

/// The current model execution's table ([`PROBES`] entries).
#[cfg(loom)]
pub(crate) fn table() -> &'static SiteTable<PROBES> {
    &TABLE
}

/// How many DISABLEd sites the table remembers now.
pub fn remembered() -> usize {
    table().len()
}
#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn code(addr: usize) -> ObjectRef {
        ObjectRef::from_addr(addr).unwrap()
    }

    #[test]
    fn remember_lookup_and_forget() {
        let t: SiteTable<64> = SiteTable::new();
        let c = code(0x1000);
        assert_eq!(t.disabled(c, 4, Event::Line, 0, 0xff), 0);
        assert!(t.remember(c, 4, Event::Line, 0, 2, || true));
        assert!(t.remember(c, 4, Event::Line, 0, 5, || true));
        assert!(
            t.remember(c, 4, Event::Line, 0, 2, || true),
            "again: no new entry"
        );
        assert_eq!(t.len(), 2);
        assert_eq!(t.disabled(c, 4, Event::Line, 0, 0xff), 0b100100);
        assert_eq!(t.disabled(c, 4, Event::Line, 0, 0b100), 0b100);
        assert_eq!(t.disabled(c, 4, Event::Line, 0, 0b1), 0);
        // Other offset, event or code-like: not remembered.
        assert_eq!(t.disabled(c, 5, Event::Line, 0, 0xff), 0);
        assert_eq!(t.disabled(c, 4, Event::Jump, 0, 0xff), 0);
        assert_eq!(t.disabled(code(0x2000), 4, Event::Line, 0, 0xff), 0);
        assert_eq!(t.disabled(c, -4, Event::Line, 0, 0xff), 0);
        t.forget_tool(2);
        assert_eq!(t.disabled(c, 4, Event::Line, 0, 0xff), 0b100000);
        assert_eq!(t.len(), 1);
        t.forget_all();
        assert_eq!(t.disabled(c, 4, Event::Line, 0, 0xff), 0);
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn a_removal_during_the_fire_drops_the_insert() {
        let t: SiteTable<64> = SiteTable::new();
        let c = code(0x1000);
        let seen = t.forgets();
        t.forget_tool(3);
        assert!(!t.remember(c, 0, Event::PyStart, 0, 3, || t.forgets() == seen));
        assert_eq!(t.disabled(c, 0, Event::PyStart, 0, 0xff), 0);
    }

    #[test]
    fn a_full_window_drops_the_insert_and_lookups_stay_exact() {
        let t: SiteTable<16> = SiteTable::new();
        let c = code(0x1000);
        let mut kept = Vec::new();
        for offset in 0..64 {
            if t.remember(c, offset, Event::Line, 0, 1, || true) {
                kept.push(offset);
            }
        }
        assert!(kept.len() >= PROBES && kept.len() <= 16, "{kept:?}");
        assert_eq!(t.len(), kept.len());
        for offset in 0..64 {
            let want = if kept.contains(&offset) { 2 } else { 0 };
            assert_eq!(
                t.disabled(c, offset, Event::Line, 0, 0xff),
                want,
                "offset {offset}"
            );
        }
    }

    #[test]
    fn forgetting_one_tool_keeps_every_other_entry_reachable() {
        let t: SiteTable<32> = SiteTable::new();
        let c = code(0x7000);
        let mut kept = Vec::new();
        for offset in 0..40 {
            let tool = (offset % 3) as u8;
            if t.remember(c, offset, Event::Line, 0, tool, || true) {
                kept.push((offset, tool));
            }
        }
        t.forget_tool(1);
        for &(offset, tool) in &kept {
            let want = if tool == 1 { 0 } else { 1 << tool };
            assert_eq!(
                t.disabled(c, offset, Event::Line, 0, 0xff),
                want,
                "offset {offset}"
            );
        }
        assert_eq!(t.len(), kept.iter().filter(|k| k.1 != 1).count());
    }

    #[test]
    fn lines_are_part_of_the_site_and_spread_over_the_table() {
        let t: SiteTable<4096> = SiteTable::new();
        let c = code(0x9000);
        // A generator body: every line at offset 0.
        for line in 1..=500u64 {
            assert!(
                t.remember(c, 0, Event::Line, line, 3, || true),
                "line {line}"
            );
        }
        for line in 1..=500u64 {
            assert_eq!(t.disabled(c, 0, Event::Line, line, 0xff), 1 << 3);
        }
        assert_eq!(t.disabled(c, 0, Event::Line, 501, 0xff), 0);
        assert_eq!(t.disabled(c, 0, Event::Line, 0, 0xff), 0);
        assert_eq!(t.len(), 500);
    }

    #[test]
    fn the_stamp_moves_with_each_rewrite_and_saturates() {
        assert_eq!(stamp_of(0), 0);
        assert_eq!(stamp_of(1), 1 << STAMP_SHIFT);
        assert_eq!(stamp_of(STAMP_LIMIT - 1), (STAMP_LIMIT - 1) << STAMP_SHIFT);
        assert_eq!(stamp_of(STAMP_LIMIT), STAMP_SATURATED);
        assert_eq!(stamp_of(u64::MAX), STAMP_SATURATED);
        assert_eq!(STAMP_SATURATED, !0 << STAMP_SHIFT);
        let t: SiteTable<64> = SiteTable::new();
        let c = code(0x1000);
        assert_eq!(t.stamp(), 0);
        // Nothing to remove: the table and every claim stay as they were.
        t.forget_all();
        t.forget_tool(1);
        assert_eq!(t.stamp(), 0);
        let at = c.addr() as u64;
        assert_eq!(t.holds_at(at, 4, Event::Line, 0, 1 << 1), None);
        assert!(t.remember(c, 4, Event::Line, 0, 1, || true));
        // The header's claim is made at the `done` of its read.
        assert_eq!(t.holds_at(at, 4, Event::Line, 0, 1 << 1), Some(0));
        assert_eq!(t.holds_at(at, 4, Event::Line, 0, 0b11), None);
        assert_eq!(t.holds_at(0, 4, Event::Line, 0, 1 << 1), None);
        t.forget_tool(2);
        assert_eq!(t.stamp(), 0);
        t.forget_tool(1);
        assert_eq!(t.stamp(), stamp_of(1));
        assert_eq!(t.holds_at(at, 4, Event::Line, 0, 1 << 1), None);
        assert!(t.remember(c, 4, Event::Line, 0, 1, || true));
        assert_eq!(t.holds_at(at, 4, Event::Line, 0, 1 << 1), Some(1));
        t.forget_all();
        assert_eq!(t.stamp(), stamp_of(2));
    }

    #[test]
    fn claims_name_one_site_and_never_hold_the_saturated_stamp() {
        let line = |l: i32| line_word(Event::Line, l);
        let limit = CACHE_FIELD_LIMIT as i32;
        assert_eq!(claim(1, limit, 0, 0), None);
        assert_eq!(claim(1, 0, (limit - 1) as u64, 0), None);
        assert_eq!(claim(1, 0, line(-2), 0), None);
        let mut seen = std::collections::HashSet::new();
        let offsets = [0, 1, 4, 511, 512, 513, 1000, limit - 1];
        let lines = [
            line(-1),
            0,
            1,
            1000,
            16381,
            16382,
            16383,
            (limit - 2) as u64,
        ];
        for active in [1u8, 2, 0x21, 0xff] {
            for &offset in &offsets {
                for &l in &lines {
                    for stamp in [0, STAMP_LIMIT - 1] {
                        let word = claim(active, offset, l, stamp << STAMP_SHIFT).unwrap();
                        assert!(seen.insert(word), "{active} {offset} {l} {stamp}");
                        // What a fire reads once the stamp saturated.
                        let saturated = claim(active, offset, l, STAMP_SATURATED).unwrap();
                        assert_ne!(word, saturated);
                        assert_eq!(saturated >> STAMP_SHIFT, STAMP_LIMIT);
                    }
                }
            }
        }
    }

    #[test]
    fn small_sites_claim_an_imm32() {
        // Offsets below 512 and lines below 16383: the site's part of the
        // claim (with any `active`) fits a sign-extended 32-bit immediate.
        assert!(claim(0xff, 511, 16382, 0).unwrap() < 1 << 31);
        assert!(claim(0xff, 512, 0, 0).unwrap() >= 1 << 31);
        assert!(claim(0xff, 0, 16383, 0).unwrap() >= 1 << 31);
    }

    #[test]
    fn sites_outside_the_fields_are_never_remembered() {
        let t: SiteTable<64> = SiteTable::new();
        let c = code(0x5000);
        let big = OFFSET_LIMIT as i32;
        // LINE's offset below 2^25 (the other events take any offset, below).
        assert!(!t.remember(c, big, Event::Line, 0, 1, || true));
        assert!(t.remember(c, big - 1, Event::Line, 0, 1, || true));
        // Line words as LINE's `lineno` in 32 bits: -1 fits, -2 does not.
        let line = |l: i32| line_word(Event::Line, l);
        assert!(t.remember(c, 0, Event::Line, line(-1), 1, || true));
        assert!(!t.remember(c, 0, Event::Line, line(-2), 1, || true));
        assert!(!t.remember(c, 0, Event::Line, LINE_LIMIT - 1, 1, || true));
        assert!(t.remember(c, 0, Event::Line, LINE_LIMIT - 2, 1, || true));
        assert_eq!(t.len(), 3);
        assert_eq!(
            t.home_at(0, big - 1, Event::Line, 0, &Cell::new(2)),
            Home::Empty
        );
        assert_eq!(t.home(c, big, Event::Line, 0, 2), Home::Empty);
        assert_eq!(t.home(c, big - 1, Event::Line, 0, 2), Home::Holds);
        assert_eq!(t.home(c, 0, Event::Line, line(-1), 2), Home::Holds);
        assert_eq!(t.disabled(c, 0, Event::Line, LINE_LIMIT - 2, 0xff), 2);
        // A line that wraps onto a remembered one is not it.
        assert_eq!(t.disabled(c, 0, Event::Line, line(-2), 0xff), 0);
        assert_eq!(t.disabled(c, 0, Event::Line, LINE_LIMIT * 2 - 1, 0xff), 0);
    }

    #[test]
    fn the_other_events_take_every_offset() {
        let t: SiteTable<64> = SiteTable::new();
        let c = code(0x5000);
        let big = OFFSET_LIMIT as i32;
        for offset in [big, i32::MAX, -1, i32::MIN] {
            assert!(t.remember(c, offset, Event::PyStart, 0, 1, || true));
            assert_eq!(t.home(c, offset, Event::PyStart, 0, 2), Home::Holds);
            // Not LINE's site at the same offset, nor another event's.
            assert_eq!(t.disabled(c, offset, Event::PyReturn, 0, 0xff), 0);
        }
        assert_eq!(t.disabled(c, big, Event::Line, 0, 0xff), 0);
        assert_eq!(t.disabled(c, 0, Event::PyStart, 0, 0xff), 0);
        // A line word on another event (never made by the library) is no site.
        assert!(!t.remember(c, 0, Event::PyStart, 1, 1, || true));
        assert_eq!(t.len(), 4);
    }
}
