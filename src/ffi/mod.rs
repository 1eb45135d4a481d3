//! The C ABI: every `#[no_mangle]` function, and the only `unsafe` code.
//!
//! Conventions (also in the README, "API conventions"): functions return 0
//! on success and -1 with the thread's error set on failure; pointers and
//! ranges are checked before use; outputs are written only on success; no
//! panic crosses the boundary.
#![deny(missing_docs)]
#![allow(non_snake_case)]

/// One aligned load, by its address, of the word at byte `$offset` of a
/// static that lives for the whole process (x86-64): a `u32`, or any
/// 8-byte type (`u64`, or a pointer read as one: an integer cast to a
/// pointer afterwards cost the fire walk 4 instructions), with the `asm!`
/// options the caller asks for (`readonly` where nothing after the load
/// has to stay after it). rustc reaches a static of a crate also
/// built as an rlib through the GOT (two loads); this is one `mov`, which
/// on x86-64 is an atomic load (Acquire). `.hidden` keeps the static out of
/// the dynamic symbols of any shared library the crate is linked into (a
/// Rust `dylib` would otherwise export it, and a direct load of an exported
/// symbol does not link). Expands to the `asm!` alone: the caller's
/// `unsafe` block says why the word is there.
#[cfg(all(target_arch = "x86_64", not(loom)))]
macro_rules! load_by_address {
    (u32, $static:path, $offset:expr, $($option:ident),+) => {{
        let word: u32;
        std::arch::asm!(
            ".hidden {static}",
            "mov {word:e}, dword ptr [rip + {static} + {offset}]",
            word = out(reg) word,
            static = sym $static,
            offset = const $offset,
            options($($option),+),
        );
        word
    }};
    ($type:ty, $static:path, $offset:expr, $($option:ident),+) => {{
        let word: $type;
        std::arch::asm!(
            ".hidden {static}",
            "mov {word}, qword ptr [rip + {static} + {offset}]",
            word = out(reg) word,
            static = sym $static,
            offset = const $offset,
            options($($option),+),
        );
        word
    }};
}

/// Whether the 8-byte word at byte `$offset` of a static that lives for the
/// whole process differs from `$value` (x86-64): a `cmp` with the word in
/// memory, by its address as in [`load_by_address!`], and a branch, with
/// no load into a register first (what the walk asks after each callback:
/// one instruction a tool fewer). Expands to the `asm!` alone, as
/// [`load_by_address!`] does.
#[cfg(all(target_arch = "x86_64", not(loom)))]
macro_rules! differs_by_address {
    ($static:path, $offset:expr, $value:expr) => {
        'differs: {
            std::arch::asm!(
                ".hidden {static}",
                "cmp qword ptr [rip + {static} + {offset}], {value}",
                "je {same}",
                static = sym $static,
                offset = const $offset,
                value = in(reg) $value,
                same = label { break 'differs false },
                options(nostack, readonly),
            );
            true
        }
    };
}

mod builtin;
mod errors;
mod ext;
mod fire;
mod guard;
mod handler;
mod host;
#[cfg(not(loom))]
mod process;
pub(crate) mod rcu;
mod scope;
mod scope_errors;
#[cfg(all(target_arch = "x86_64", not(loom)))]
mod simd;
pub(crate) mod table;
#[cfg(pymonitoring_tls_descriptor)]
mod tls;
mod tools;
pub mod types;

pub use builtin::*;
pub use errors::*;
pub use ext::*;
pub use fire::*;
pub use host::*;
pub use scope::*;
pub use tools::*;
pub use types::*;

use crate::object::ObjectRef;

/// The MISSING sentinel's storage: only its address matters.
#[repr(C, align(8))]
struct Sentinel(u64);

static MISSING: Sentinel = Sentinel(0);

fn missing() -> *mut PyObject {
    std::ptr::addr_of!(MISSING) as *mut PyObject
}

/// A host object's identity; `None` for NULL.
fn object(ptr: *mut PyObject) -> Option<ObjectRef> {
    ObjectRef::from_addr(ptr as usize)
}

/// Back to a pointer; an absent object becomes `PyMonitoring_MISSING`.
fn pointer(obj: Option<ObjectRef>) -> *mut PyObject {
    match obj {
        Some(o) => o.addr() as *mut PyObject,
        None => missing(),
    }
}

/// `len` elements at `p`, or an empty slice when `len` is 0 (`p` may then
/// be NULL, as the C functions taking a pointer and a count allow).
///
/// # Safety
/// With `len > 0`, `p` points to `len` initialised elements that live
/// for `'a`.
unsafe fn slice_or_empty<'a, T>(p: *const T, len: usize) -> &'a [T] {
    if len == 0 {
        &[]
    } else {
        // SAFETY: the caller's contract.
        unsafe { std::slice::from_raw_parts(p, len) }
    }
}

#[cfg(test)]
mod tests;
