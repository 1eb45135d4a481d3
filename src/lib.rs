//! # pymonitoring
//!
//! CPython's PEP 669 *event-firing* C API (`PyMonitoring_EnterScope`,
//! `PyMonitoring_ExitScope` and the `PyMonitoring_Fire*Event` family) as a
//! standalone library with its own tool registry and plain C callbacks.
//!
//! The crate is built in layers:
//!
//! * a safe-Rust core — `event` (event ids and sets), `object` (opaque
//!   host object identities), `error` (the thread's error indicator),
//!   `registry` (tools, masks, callbacks, the global version), `host`
//!   (a host runtime's exception state), `scope`
//!   (`EnterScope`), `dispatch` (firing) and `quiesce` (waiting for
//!   running callbacks) — with no `unsafe`, no `extern` and no C types;
//! * [`ffi`], the C ABI: the only module allowed to use `unsafe`;
//! * [`api`], the safe Rust API over the same core (tools that free their
//!   id on drop, closure callbacks, typed scopes and fire calls);
//! * [`builtin`], tools that need no code: a JSON-lines recorder, a Chrome
//!   trace profiler and lcov coverage, switched on with one call or an
//!   environment variable.
//!
//! The Rust surface is [`api`] and [`builtin`] (with [`VERSION`]); [`ffi`]
//! is the C ABI as Rust declares it, for Rust code that calls the C
//! functions. The core modules are public only for the crate's own tests
//! and benchmarks: they are hidden from these docs, unstable, and outside
//! the semver promise. Use their items through [`api`], which re-exports
//! what a user needs.
//!
//! The C library starts the built-in tools named by environment variables
//! when it is loaded (`docs/TOOLS.md`); a Rust program linking the `rlib`
//! gets the same load-time constructor whenever the linker keeps the
//! library's `ffi` object, which is not guaranteed: call
//! [`builtin::start_from_env`] to be sure (after the constructor ran, a
//! second call starts nothing: it reports each file as already written).
//!
//! The rules are written down in `docs/BEHAVIOUR.md`; the C entry points are
//! listed in the README and documented in `include/pymonitoring.h`.
#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod api;
pub mod builtin;
#[doc(hidden)]
pub mod dispatch;
#[doc(hidden)]
pub mod error;
#[doc(hidden)]
pub mod event;
mod ext;
mod failure;
#[cfg(not(loom))]
mod fork;
#[doc(hidden)]
pub mod host;
#[doc(hidden)]
pub mod object;
#[doc(hidden)]
pub mod quiesce;
mod readers;
mod record;
#[doc(hidden)]
pub mod registry;
#[doc(hidden)]
pub mod scope;
// The extensions' modules keep their public paths (docs/ARCHITECTURE.md,
// "Layers").
#[doc(hidden)]
pub use ext::{codelike, lasting, options, sites};
mod slot;
mod sync;
mod thread;
mod tool;

/// The crate's version, which is also the C library's
/// (`PyMonitoring_LibraryVersion()`, `PYMONITORING_VERSION`).
///
/// ```
/// assert_eq!(pymonitoring::VERSION, env!("CARGO_PKG_VERSION"));
/// ```
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[allow(unsafe_code)]
pub mod ffi;

#[cfg(test)]
mod behaviour_tests;
#[cfg(test)]
pub(crate) mod test_support;

#[cfg(all(test, loom))]
mod loom_tests;

/// README.md's Rust blocks, run as doctests by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
