//! `c-tests/enter_scope_paths.c`: EnterScope through the exported function
//! and through the header's inline fast path (`PYMONITORING_INLINE`).

mod common;

use common::{run_ok, CProgram};

#[test]
fn enter_scope_exported() {
    let exe = CProgram::from_c_tests("enter_scope_paths.c").build();
    run_ok(&exe, &[]);
}

#[test]
fn enter_scope_inline() {
    let exe = CProgram::from_c_tests("enter_scope_paths.c")
        .named("enter_scope_paths_inline")
        .define("PYMONITORING_INLINE", None)
        .build();
    run_ok(&exe, &[]);
}

/// `c-tests/enter_scope_idle.c`: the refresh while no tool has an event
/// (the library's idle path) gives the general refresh's result.
#[test]
fn enter_scope_idle_exported() {
    let exe = CProgram::from_c_tests("enter_scope_idle.c").build();
    run_ok(&exe, &[]);
}

#[test]
fn enter_scope_idle_inline() {
    let exe = CProgram::from_c_tests("enter_scope_idle.c")
        .named("enter_scope_idle_inline")
        .define("PYMONITORING_INLINE", None)
        .build();
    run_ok(&exe, &[]);
}
