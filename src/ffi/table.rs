//! The walk's direct reads: the process's callback table (the registry's
//! [`Published`](super::rcu::Published) pointer loaded by its address) and
//! the calling thread's state.

use crate::readers::Announced;
use crate::registry::{self, CallbackTable};
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

/// The callback table a dispatch announced by `announced` reads: what
/// `Registry::callbacks` answers for the process's registry, loaded on
/// x86-64 with one `mov` by the registry's address (`load_by_address!`).
#[inline(always)]
pub(crate) fn callbacks<'a>(announced: &'a Announced<'_>) -> &'a CallbackTable {
    #[cfg(all(target_arch = "x86_64", not(loom)))]
    {
        let _ = announced;
        let ptr = table_pointer();
        // SAFETY: `ptr` is the value of `GLOBAL.table`'s pointer, loaded as
        // `Published::read` loads it (a `mov` from an aligned word is an
        // Acquire load on x86-64), never NULL (a `Published` starts with a
        // `'static` value); the same argument holds (H7 of
        // docs/CONCURRENCY.md): this thread announced before the load and
        // the reference lives no longer than the announcement.
        unsafe { &*ptr }
    }
    #[cfg(not(all(target_arch = "x86_64", not(loom))))]
    registry::global().callbacks(announced)
}

/// Whether the process's callback table was replaced since the dispatch
/// read `held` (see `Registry::callbacks_replaced`).
#[inline(always)]
pub(crate) fn callbacks_replaced(held: &CallbackTable) -> bool {
    #[cfg(all(target_arch = "x86_64", not(loom)))]
    {
        let held: *const CallbackTable = held;
        // SAFETY: an aligned 8-byte read of the pointer word, as in
        // `table_pointer`, compared in memory: `cmp` and the branch, no load
        // into a register first (one instruction a tool).
        unsafe { differs_by_address!(registry::GLOBAL, TABLE, held) }
    }
    #[cfg(not(all(target_arch = "x86_64", not(loom))))]
    registry::global().callbacks_replaced(held)
}

/// Whether the process's callback table was replaced since the dispatch
/// read the table `row` belongs to: the table's version against
/// `Registry::callbacks_version`, which every replacement moves on the
/// replacing thread before it goes on (a callback's replacement is seen
/// after it returns; another thread's, as with the pointer, when it is
/// seen). What the walk asks for a row that is not the table's first, so
/// that it keeps the row and not the table in a register.
#[inline(always)]
pub(crate) fn row_replaced(row: &registry::Row) -> bool {
    #[cfg(all(target_arch = "x86_64", not(loom)))]
    {
        let version = row.version();
        // SAFETY: an aligned 8-byte read of `GLOBAL.callbacks_version`
        // (a `mov` is a SeqCst load on x86-64), compared in memory, as in
        // `callbacks_replaced`.
        unsafe { differs_by_address!(registry::GLOBAL, CALLBACKS_VERSION, version) }
    }
    #[cfg(not(all(target_arch = "x86_64", not(loom))))]
    {
        registry::global().callbacks_version() != row.version()
    }
}

/// `row` as the compiler cannot derive it from its table (an empty `asm!`
/// it passes through): the walk then keeps the row alone in a register,
/// not the table beside it (see [`row_replaced`]).
#[inline(always)]
pub(crate) fn row_apart(row: &registry::Row) -> &registry::Row {
    #[cfg(all(target_arch = "x86_64", not(loom)))]
    {
        let mut ptr: *const registry::Row = row;
        // SAFETY: the `asm!` leaves the register as it is: `ptr` is `row`.
        unsafe {
            std::arch::asm!(
                "/* {ptr} */",
                ptr = inout(reg) ptr,
                options(pure, readonly, nostack, preserves_flags),
            );
            &*ptr
        }
    }
    #[cfg(not(all(target_arch = "x86_64", not(loom))))]
    row
}

/// The offset of the callback table's version in the registry.
#[cfg(all(target_arch = "x86_64", not(loom)))]
const CALLBACKS_VERSION: usize = std::mem::offset_of!(registry::Registry, callbacks_version);

/// `GLOBAL.table`'s pointer word.
#[cfg(all(target_arch = "x86_64", not(loom)))]
#[inline(always)]
fn table_pointer() -> *const CallbackTable {
    // SAFETY: an aligned 8-byte load of the pointer word of `GLOBAL.table`
    // (at `TABLE`, the `Published`'s first field), which lives for the
    // whole process (`load_by_address!`). Not
    // `pure`: each call loads again (the walk asks after every callback).
    unsafe {
        load_by_address!(
            *const CallbackTable,
            registry::GLOBAL,
            TABLE,
            nostack,
            preserves_flags,
            readonly
        )
    }
}

/// The offset of the table pointer in the registry.
#[cfg(all(target_arch = "x86_64", not(loom)))]
const TABLE: usize = std::mem::offset_of!(registry::Registry, table) + super::rcu::POINTER;

/// Whether the lasting-DISABLE mode is on: the option word (Relaxed, as
/// `crate::ext::State` reads it) tested in memory by the registry's
/// address, on x86-64 one `test` and the branch (no GOT, no load into a
/// register; see [`callbacks`]).
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
