//! The per-site memory of lasting DISABLEs (`PY_MONITORING_OPT_LASTING_DISABLE`,
//! `docs/EXTENSIONS.md`; the protocol is in `docs/CONCURRENCY.md`, "Site table").
//!
//! A bounded open-addressing table of `(codelike, offset, event, line,
//! tool)` entries (`line` is LINE's line number, 0 for the other events:
//! Cython fires every line of a generator body at offset 0): [`SITES`]
//! entries, linear probing limited to [`PROBES`] entries from a site's home.
//! All the tools of one site hash to the same home, so one scan answers
//! "which of these tools DISABLEd this site".
//!
//! Readers never lock and never write: each entry is a seqlock over three
//! words (the code-like's address, a key word packing offset, event and
//! tool, and the line). A torn or racing read is treated as "not there" (a
//! miss), so a reader never sees an entry that was not stored, and a miss
//! only means the callback is called. Writers (inserts from a fire whose
//! callback returned DISABLE, removals from registry writers) hold `writer`.
//! Removals rebuild the surviving entries so every entry stays reachable
//! from its home without crossing an empty entry (the invariant lookups stop
//! on).

use crate::event::Event;
use crate::object::ObjectRef;
use crate::sync::{fence, AtomicU64, Mutex, MutexGuard, Ordering};
use crate::tool::TOOL_IDS;

/// Number of entries of the process's table (documented in
/// `docs/EXTENSIONS.md`; `PY_MONITORING_DISABLED_SITES` in the header).
pub const SITES: usize = 4096;
/// A site's entries lie within this many entries of its home; an insert
/// that finds no empty entry there is dropped (the callback is called at
/// that site again).
pub const PROBES: usize = 8;

/// Where a key holds its tool, as a bit (`1 << tool`), so a key compares
/// with `site | active << TOOL_SHIFT` when one tool is active.
pub(crate) const TOOL_SHIFT: u32 = 40;
/// Where a key holds its event, as `event + 1` (so a key is never 0).
pub(crate) const EVENT_SHIFT: u32 = 32;
/// The multiplier of a site's hash (Fibonacci hashing).
pub(crate) const HASH_MULTIPLIER: u64 = 0x9E37_79B9_7F4A_7C15;
/// The shift taking a hash to an entry of the process's table.
pub(crate) const HASH_SHIFT: u32 = SiteTable::<SITES>::SHIFT;
/// A key without its tool: what identifies the site.
const SITE_BITS: u64 = !(0xff << TOOL_SHIFT);

/// The key of a site without its tool: `offset | (event + 1) << 32`, never
/// 0 (an all-zero key is an empty entry).
#[inline(always)]
pub(crate) fn site_key(offset: i32, event: Event) -> u64 {
    (u64::from(offset as u32) | u64::from(event.id()) << EVENT_SHIFT) + (1 << EVENT_SHIFT)
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

/// Where the line word enters a site's hash (above the site key's bits).
pub(crate) const LINE_SHIFT: u32 = 37;

/// One entry of the table: half a cache line, so an entry's address is one
/// shift of its index. Laid out as the header's `_PyMonitoringDisabledSite`
/// (four 64-bit words), because the header's inline fire functions read the
/// table (`_PyMonitoring_DisabledSites`) with the same seqlock protocol.
#[repr(C, align(32))]
pub struct Entry {
    /// Even: stable; odd: being written.
    seq: AtomicU64,
    /// The code-like's address.
    object: AtomicU64,
    /// `offset | (event + 1) << 32 | (1 << tool) << 40`, or 0 when empty.
    key: AtomicU64,
    /// The site's line word ([`line_word`]).
    line: AtomicU64,
}

#[cfg(not(loom))]
const _: () = assert!(std::mem::size_of::<Entry>() == 32);

/// Each field of [`Entry`] and its offset, for the test that holds the
/// header's `_PyMonitoringDisabledSite` to the same layout (`tests/abi.rs`).
#[cfg(not(loom))]
pub const ENTRY_FIELD_OFFSETS: [(&str, usize); 4] = [
    ("seq", std::mem::offset_of!(Entry, seq)),
    ("object", std::mem::offset_of!(Entry, object)),
    ("key", std::mem::offset_of!(Entry, key)),
    ("line", std::mem::offset_of!(Entry, line)),
];

impl Entry {
    #[cfg(not(loom))]
    const fn new() -> Entry {
        Entry {
            seq: AtomicU64::new(0),
            object: AtomicU64::new(0),
            key: AtomicU64::new(0),
            line: AtomicU64::new(0),
        }
    }

    #[cfg(loom)]
    fn new() -> Entry {
        Entry {
            seq: AtomicU64::new(0),
            object: AtomicU64::new(0),
            key: AtomicU64::new(0),
            line: AtomicU64::new(0),
        }
    }

    /// The entry's three words, or `None` when a write raced the read.
    #[inline(always)]
    fn read(&self) -> Option<Words> {
        let s1 = self.seq.load(Ordering::Acquire);
        let object = self.object.load(Ordering::Relaxed);
        let key = self.key.load(Ordering::Relaxed);
        let line = self.line.load(Ordering::Relaxed);
        fence(Ordering::Acquire);
        let s2 = self.seq.load(Ordering::Relaxed);
        (s1 == s2 && s1 & 1 == 0).then_some((object, key, line))
    }

    /// Store the words (the caller holds the writer lock).
    fn write(&self, (object, key, line): Words) {
        let s = self.seq.load(Ordering::Relaxed);
        self.seq.store(s.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        self.object.store(object, Ordering::Relaxed);
        self.key.store(key, Ordering::Relaxed);
        self.line.store(line, Ordering::Relaxed);
        self.seq.store(s.wrapping_add(2), Ordering::Release);
    }

    /// The words as the writer (holding the lock) sees them.
    fn peek(&self) -> Words {
        (
            self.object.load(Ordering::Relaxed),
            self.key.load(Ordering::Relaxed),
            self.line.load(Ordering::Relaxed),
        )
    }
}

/// An entry's code-like, key and line words.
type Words = (u64, u64, u64);

/// What a site's home entry says (see [`SiteTable::home`]).
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
struct Writer {
    /// Entries per tool (a tool with none is forgotten without a rebuild).
    per_tool: [usize; TOOL_IDS],
}

/// A table of `N` entries (a power of two).
pub(crate) struct SiteTable<const N: usize> {
    entries: [Entry; N],
    writer: Mutex<Writer>,
    /// Bumped (under `writer`) by every removal (for tests and models; the
    /// library's inserts are validated by the caller, see [`Self::remember`]).
    forgets: AtomicU64,
}

impl<const N: usize> SiteTable<N> {
    const SHIFT: u32 = 64 - N.trailing_zeros();

    /// An empty table.
    #[cfg(not(loom))]
    pub(crate) const fn new() -> SiteTable<N> {
        assert!(N.is_power_of_two() && N >= PROBES);
        SiteTable {
            entries: [const { Entry::new() }; N],
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
            entries: std::array::from_fn(|_| Entry::new()),
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

    /// A site's first entry.
    #[inline(always)]
    pub(crate) fn home_of(object: u64, site: u64, line: u64) -> usize {
        let h = (object ^ site ^ line << LINE_SHIFT).wrapping_mul(HASH_MULTIPLIER);
        if N == 1 {
            0
        } else {
            (h >> Self::SHIFT) as usize
        }
    }

    /// What the site's home entry says about `(codelike, offset, event,
    /// line)` and `tools`: [`Home::Holds`] when `tools` is one tool that
    /// DISABLEd the site (the usual case of a fire at a remembered site),
    /// [`Home::Empty`] when the home is empty (nothing is remembered for the
    /// site: the usual case of a site never DISABLEd; a racing write also
    /// reads so, as a miss), else [`Home::Unknown`] (ask [`Self::disabled`]).
    /// Lock-free, writes nothing, never panics.
    #[inline(always)]
    pub(crate) fn home(
        &self,
        codelike: ObjectRef,
        offset: i32,
        event: Event,
        line: u64,
        tools: u8,
    ) -> Home {
        let object = codelike.addr() as u64;
        let site = site_key(offset, event);
        let Some(entry) = self.entries.get(Self::home_of(object, site, line)) else {
            return Home::Unknown;
        };
        let s1 = entry.seq.load(Ordering::Acquire);
        let k = entry.key.load(Ordering::Relaxed);
        if k == 0 {
            return Home::Empty;
        }
        // A key holds one tool bit: with several tools active this never
        // matches (the caller then scans).
        if k != site | u64::from(tools) << TOOL_SHIFT {
            return Home::Unknown;
        }
        let o = entry.object.load(Ordering::Relaxed);
        let l = entry.line.load(Ordering::Relaxed);
        if o != object || l != line {
            return Home::Unknown;
        }
        fence(Ordering::Acquire);
        // Even and unchanged (an odd `s1` never equals the later, larger `s2`).
        if entry.seq.load(Ordering::Relaxed) == s1 & !1 {
            Home::Holds
        } else {
            Home::Unknown
        }
    }

    /// Which of `tools` are remembered as having DISABLEd the site
    /// `(codelike, offset, event, line)`. Lock-free; a racing write reads as
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
        let object = codelike.addr() as u64;
        let site = site_key(offset, event);
        self.scan(object, site, line, tools)
    }

    /// Up to [`PROBES`] entries from the site's home, stopping at an empty
    /// one.
    #[inline(always)]
    fn scan(&self, object: u64, site: u64, line: u64, tools: u8) -> u8 {
        let mut i = Self::home_of(object, site, line);
        let mut found = 0u8;
        for _ in 0..PROBES {
            let Some(entry) = self.entries.get(i) else {
                break;
            };
            if let Some((o, k, l)) = entry.read() {
                if k == 0 {
                    break;
                }
                if o == object && k & SITE_BITS == site && l == line {
                    found |= (k >> TOOL_SHIFT) as u8;
                    if found & tools == tools {
                        break;
                    }
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
    /// was called, or the site's probe window is full. Returns whether the
    /// site is remembered. Waits for the writer lock (held for one insert,
    /// or a removal's pass over the table): only a fire whose callback
    /// answered DISABLE gets here, and a site is then called at most once
    /// per thread until it is forgotten.
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
        let object = codelike.addr() as u64;
        let site = site_key(offset, event);
        let key = site | 1 << (TOOL_SHIFT + u32::from(tool));
        let mut i = Self::home_of(object, site, line);
        for _ in 0..PROBES {
            let (o, k, l) = self.entries[i].peek();
            if k == 0 {
                self.entries[i].write((object, key, line));
                w.per_tool[usize::from(tool)] += 1;
                return true;
            }
            if o == object && k == key && l == line {
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
        self.rebuild(&mut w, |k| (k >> TOOL_SHIFT) as u8 != 1 << tool);
    }

    /// Forget every site.
    pub(crate) fn forget_all(&self) {
        let mut w = self.lock();
        self.forgets.fetch_add(1, Ordering::Relaxed);
        if w.per_tool.iter().all(|&n| n == 0) {
            return;
        }
        w.per_tool = [0; TOOL_IDS];
        for e in &self.entries {
            if e.peek().1 != 0 {
                e.write((0, 0, 0));
            }
        }
    }

    /// Keep the entries whose key passes `keep`, placed again from their
    /// homes (starting after an empty entry, so clusters keep their order),
    /// then write only the entries that change. Readers racing this see
    /// misses, never a wrong entry.
    fn rebuild(&self, w: &mut Writer, keep: impl Fn(u64) -> bool) {
        let start = (0..N).find(|&i| self.entries[i].peek().1 == 0).unwrap_or(0);
        let mut next = vec![(0u64, 0u64, 0u64); N];
        w.per_tool = [0; TOOL_IDS];
        for n in 1..=N {
            let (o, k, l) = self.entries[(start + n) & (N - 1)].peek();
            if k == 0 || !keep(k) {
                continue;
            }
            let mut i = Self::home_of(o, k & SITE_BITS, l);
            let placed = (0..PROBES).any(|_| {
                if next[i].1 == 0 {
                    next[i] = (o, k, l);
                    return true;
                }
                i = (i + 1) & (N - 1);
                false
            });
            if placed {
                w.per_tool[((k >> TOOL_SHIFT) as u8).trailing_zeros() as usize & 7] += 1;
            }
        }
        for (e, &words) in self.entries.iter().zip(&next) {
            if e.peek() != words {
                e.write(words);
            }
        }
    }

    /// How many sites are remembered (for tests and introspection).
    pub(crate) fn len(&self) -> usize {
        self.lock().per_tool.iter().sum()
    }
}

#[cfg(not(loom))]
static TABLE: SiteTable<SITES> = SiteTable::new();

/// Before `fork()`: hold the table's writer lock, so no entry is halfway
/// written when the process is copied (`crate::fork`).
#[cfg(not(loom))]
pub(crate) struct ForkHold(#[allow(dead_code)] MutexGuard<'static, Writer>);

#[cfg(not(loom))]
pub(crate) fn fork_hold() -> ForkHold {
    ForkHold(TABLE.lock())
}

/// The process's entries, for the header's inline check of remembered sites
/// (exported by the FFI layer as `_PyMonitoring_DisabledSites`): read only.
#[cfg(not(loom))]
pub static ENTRIES: &[Entry; SITES] = &TABLE.entries;

#[cfg(loom)]
loom::lazy_static! {
    static ref TABLE: SiteTable<8> = SiteTable::new();
}

/// The process's table.
#[cfg(not(loom))]
#[inline(always)]
pub(crate) fn table() -> &'static SiteTable<SITES> {
    &TABLE
}

/// The current model execution's table (8 entries).
#[cfg(loom)]
pub(crate) fn table() -> &'static SiteTable<8> {
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
}
