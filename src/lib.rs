//! # pymonitoring
//!
//! CPython's PEP 669 *event-firing* C API (`PyMonitoring_EnterScope`,
//! `PyMonitoring_ExitScope` and the `PyMonitoring_Fire*Event` family) as a
//! standalone library with its own tool registry and plain C callbacks.
//!
//! The crate is built in two layers:
//!
//! * a safe-Rust core — [`event`] (event ids and sets), [`object`] (opaque
//!   host object identities), [`error`] (the thread's error indicator),
//!   [`registry`] (tools, masks, callbacks, the global version), [`host`]
//!   (a host runtime's exception state), [`scope`]
//!   (`EnterScope`), [`dispatch`] (firing) and [`quiesce`] (waiting for
//!   running callbacks) — with no `unsafe`, no `extern` and no C types;
//! * [`ffi`], the C ABI: the only module allowed to use `unsafe`;
//! * [`api`], the safe Rust API over the same core (tools that free their
//!   id on drop, closure callbacks, typed scopes and fire calls);
//! * [`builtin`], tools that need no code: a JSON-lines recorder, a Chrome
//!   trace profiler and lcov coverage, switched on with one call or an
//!   environment variable.
//!
//! The rules are written down in `docs/BEHAVIOUR.md`; the C entry points are
//! listed in the README and documented in `include/pymonitoring.h`.
#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod api;
pub mod builtin;
pub mod codelike;
pub mod dispatch;
pub mod error;
pub mod event;
#[cfg(not(loom))]
mod fork;
pub mod host;
pub mod lasting;
pub mod object;
pub mod options;
pub mod quiesce;
pub mod registry;
pub mod scope;
pub mod sites;
mod sync;
mod thread;

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
mod spec_tests;
#[cfg(test)]
pub(crate) mod test_support;

#[cfg(all(test, loom))]
mod loom_tests;

/// README.md's Rust blocks, run as doctests by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
