//! `c-tests/enter_scope_paths.c`: EnterScope through the exported function
//! and through the header's inline fast path (`PYMONITORING_INLINE`).

mod c_programs;

use c_programs::harnesses::{harness, Build, Run};

#[test]
fn enter_scope_exported() {
    harness("enter_scope_paths").check_build(Build::Exported, &Run::plain());
}

#[test]
fn enter_scope_inline() {
    harness("enter_scope_paths").check_build(Build::Inline, &Run::plain());
}

/// `c-tests/enter_scope_idle.c`: the refresh while no tool has an event
/// (the library's idle path) gives the general refresh's result.
#[test]
fn enter_scope_idle_exported() {
    harness("enter_scope_idle").check_build(Build::Exported, &Run::plain());
}

#[test]
fn enter_scope_idle_inline() {
    harness("enter_scope_idle").check_build(Build::Inline, &Run::plain());
}
