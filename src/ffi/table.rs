//! The walk's direct reads: the row of the process's callback table it
//! fires (one of the registry's [`Published`](super::rcu::Published)
//! pointers, loaded by its address) and the calling thread's state.

use crate::event::Event;
use crate::readers::Announced;
use crate::registry::{self, Row};
#[cfg(not(pymonitoring_tls_descriptor))]
use crate::thread;
use crate::thread::ThreadState;

/// The calling thread's state, reached in the caller's frame (the walk's):
/// on x86-64 glibc by a TLS descriptor once the thread's first dispatch set
/// it up (`super::tls`; before, a placeholder whose flag word is not 0,
/// see [`is_placeholder`]), elsewhere with a direct thread-local access
/// (`thread::with` around a closure as large as the walk would be a call
/// through the key's accessor).
#[inline(always)]
pub(crate) fn thread_state<'a>() -> &'a ThreadState {
    #[cfg(pymonitoring_tls_descriptor)]
    {
        super::tls::thread_state()
    }
    #[cfg(not(pymonitoring_tls_descriptor))]
    {
        let state = thread::with(std::ptr::from_ref);
        // SAFETY: the thread's state is a constant-initialised thread-local
        // without drop glue (`src/thread.rs`), so its storage is the thread's
        // for as long as the thread runs, also while it is torn down; the
        // callers use the reference during their own call, on this thread.
        unsafe { &*state }
    }
}

/// Whether `state`, from [`thread_state`], is not the thread's own but the
/// placeholder it answers before the thread's first dispatch (its flag
/// word is `NOT_SET_UP`, so only a slow path asks).
#[inline]
pub(crate) fn is_placeholder(state: &ThreadState) -> bool {
    #[cfg(pymonitoring_tls_descriptor)]
    {
        super::tls::is_placeholder(state)
    }
    #[cfg(not(pymonitoring_tls_descriptor))]
    {
        let _ = state;
        false
    }
}

/// `state`, the calling thread's, was just set up for its first dispatch:
/// on x86-64 glibc [`thread_state`] finds it by a TLS descriptor from now
/// on (`super::tls`); elsewhere nothing to do.
#[inline]
pub(crate) fn thread_set_up(state: &ThreadState) {
    #[cfg(pymonitoring_tls_descriptor)]
    super::tls::remember(state);
    #[cfg(not(pymonitoring_tls_descriptor))]
    let _ = state;
}

/// How the walk reads its event's row of the callback table: the row
/// after the announcement, and whether the table was replaced since.
/// Functions, not a type parameter, so that every event's walk is one
/// instance of the same code (and of the functions it calls out of line);
/// a C entry point passes its event's own ([`rows`]; [`Rows::ANY`] reads
/// any event's), which are direct calls once the walk is inlined there.
#[derive(Clone, Copy)]
pub(crate) struct Rows {
    pub(crate) row: for<'a> fn(Event, &'a Announced<'_>) -> &'a Row,
    pub(crate) replaced: fn(Event, &Row) -> bool,
}

impl Rows {
    /// The reads for any event (the Rust API, the slow paths).
    pub(crate) const ANY: Rows = Rows {
        row,
        replaced: row_replaced,
    };
}

/// The row of `event` in the callback table a dispatch announced by
/// `announced` reads: what `Registry::row` answers for the process's
/// registry ([`Rows::ANY`]; [`rows`] has each event's own), on
/// x86-64 loaded by the registry's address and the event's index.
#[inline(always)]
pub(crate) fn row<'a>(event: Event, announced: &'a Announced<'_>) -> &'a Row {
    #[cfg(all(target_arch = "x86_64", not(loom)))]
    {
        let _ = announced;
        let ptr: *const Row;
        // SAFETY: an aligned 8-byte load of `event`'s row pointer in
        // `GLOBAL.table` (at `ROWS`, 8 a row; the event's id is below
        // `Event::COUNT`), as `row_pointer` loads it; the same argument as
        // in `row_at`.
        unsafe {
            std::arch::asm!(
                ".hidden {global}",
                "lea {ptr}, [rip + {global} + {offset}]",
                "mov {ptr}, qword ptr [{ptr} + {index} * 8]",
                ptr = out(reg) ptr,
                index = in(reg) event as usize,
                global = sym registry::GLOBAL,
                offset = const ROWS,
                options(nostack, preserves_flags, readonly),
            );
            &*ptr
        }
    }
    #[cfg(not(all(target_arch = "x86_64", not(loom))))]
    registry::global().row(event, announced)
}

/// Whether the process's callback table was replaced since the dispatch
/// read `held`, `event`'s row (see `Registry::row_replaced`).
#[inline(always)]
pub(crate) fn row_replaced(event: Event, held: &Row) -> bool {
    #[cfg(all(target_arch = "x86_64", not(loom)))]
    {
        let held: *const Row = held;
        // SAFETY: an aligned 8-byte read of `event`'s row pointer, as in
        // [`row`], compared in memory.
        unsafe {
            std::arch::asm!(
                ".hidden {global}",
                "lea {base}, [rip + {global} + {offset}]",
                "cmp qword ptr [{base} + {index} * 8], {held}",
                "jne {moved}",
                base = out(reg) _,
                index = in(reg) event as usize,
                held = in(reg) held,
                global = sym registry::GLOBAL,
                offset = const ROWS,
                moved = label { return true; },
                options(nostack, readonly),
            );
        }
        false
    }
    #[cfg(not(all(target_arch = "x86_64", not(loom))))]
    registry::global().row_replaced(event, held)
}

/// The walk's reads of the row of the event with id `EVENT`: on x86-64
/// the row's pointer loaded with one `mov` by the registry's address
/// (`load_by_address!`) and compared in memory (`differs_by_address!`),
/// elsewhere [`Rows::ANY`]'s.
#[inline(always)]
pub(crate) fn rows<const EVENT: u8>() -> Rows {
    #[cfg(all(target_arch = "x86_64", not(loom)))]
    {
        Rows {
            row: row_at::<EVENT>,
            replaced: row_replaced_at::<EVENT>,
        }
    }
    #[cfg(not(all(target_arch = "x86_64", not(loom))))]
    Rows::ANY
}

/// [`row`] for `event`, whose id is `EVENT`.
#[cfg(all(target_arch = "x86_64", not(loom)))]
#[inline(always)]
fn row_at<'a, const EVENT: u8>(event: Event, announced: &'a Announced<'_>) -> &'a Row {
    let _ = (event, announced);
    let ptr = row_pointer::<EVENT>();
    // SAFETY: `ptr` is the value of `GLOBAL.table`'s pointer to `event`'s
    // row (`EVENT` is its id), loaded as `Published::read` loads it (a
    // `mov` from an aligned word is an Acquire load on x86-64), never NULL
    // (a `Published` starts with a `'static` row); the same argument holds
    // (H7 of docs/CONCURRENCY.md): this thread announced before the load
    // and the reference lives no longer than the announcement.
    unsafe { &*ptr }
}

/// [`row_replaced`] for `event`, whose id is `EVENT`.
#[cfg(all(target_arch = "x86_64", not(loom)))]
#[inline(always)]
fn row_replaced_at<const EVENT: u8>(event: Event, held: &Row) -> bool {
    let _ = event;
    row_differs::<EVENT>(held)
}

/// `GLOBAL.table`'s pointer to the row of event id `E`.
#[cfg(all(target_arch = "x86_64", not(loom)))]
#[inline(always)]
fn row_pointer<const E: u8>() -> *const Row {
    // SAFETY: an aligned 8-byte load of the pointer word of event `E`'s
    // row in `GLOBAL.table` (at `ROWS`, the `Published`'s first field,
    // plus 8 a row), which lives for the whole process
    // (`load_by_address!`). Not `pure`: each call loads again (the walk
    // asks after a callback replaced the table).
    unsafe {
        load_by_address!(
            *const Row,
            registry::GLOBAL,
            ROWS + 8 * E as usize,
            nostack,
            preserves_flags,
            readonly
        )
    }
}

/// Whether `GLOBAL.table`'s pointer to the row of event id `E` no longer
/// points to `held`.
#[cfg(all(target_arch = "x86_64", not(loom)))]
#[inline(always)]
fn row_differs<const E: u8>(held: &Row) -> bool {
    let held: *const Row = held;
    // SAFETY: an aligned 8-byte read of the pointer word, as in
    // `row_pointer`, compared in memory: `cmp` and the branch, no load into
    // a register first (one instruction a tool).
    unsafe { differs_by_address!(registry::GLOBAL, ROWS + 8 * E as usize, held) }
}

/// The offset of the first row pointer in the registry.
#[cfg(all(target_arch = "x86_64", not(loom)))]
const ROWS: usize = std::mem::offset_of!(registry::Registry, table) + super::rcu::PARTS;

/// Whether the lasting-DISABLE mode is on: the option word (Relaxed, as
/// `crate::ext::State` reads it) tested in memory by the registry's
/// address, on x86-64 one `test` and the branch (no GOT, no load into a
/// register; see `row_pointer`).
#[inline(always)]
pub(crate) fn lasting_mode() -> bool {
    #[cfg(all(target_arch = "x86_64", not(loom)))]
    {
        // The bit is in the word's low byte (little-endian).
        const _: () = assert!(crate::ext::option_bits::LASTING_DISABLE < 0x100);
        // SAFETY: an aligned 1-byte read of the low byte of the registry's
        // option word (`registry::OPTIONS`, an `AtomicU32`), which lives for
        // the whole process; a `test` with memory is a Relaxed load on
        // x86-64.
        unsafe {
            std::arch::asm!(
                ".hidden {global}",
                "test byte ptr [rip + {global} + {offset}], {bit}",
                "jne {on}",
                global = sym registry::GLOBAL,
                offset = const registry::OPTIONS,
                bit = const crate::ext::option_bits::LASTING_DISABLE,
                on = label { return true; },
                options(nostack, readonly),
            );
        }
        false
    }
    #[cfg(not(all(target_arch = "x86_64", not(loom))))]
    registry::global().ext().lasting_mode()
}
