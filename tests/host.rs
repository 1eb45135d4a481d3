//! `PyMonitoring_SetHost` and `PY_MONITORING_OPT_CPYTHON_313_EVENT_IDS`
//! through the C ABI (docs/HOSTS.md), each run its own process: a fake host
//! (`c-tests/host_hooks.c`) and the host's numbering (`c-tests/host_numbering.c`,
//! with the exported functions and with the header's inline ones). The real
//! host, CPython 3.13 with a Cython module, is `tests/cython_host.rs`.

mod common;

use common::{run_ok, run_ok_with_options, CProgram};

#[test]
fn hooks_exception_events_errors_nesting_and_bad_input() {
    let exe = CProgram::from_c_tests("host_hooks.c").build();
    let out = run_ok(&exe, &[]);
    assert!(out.contains("host_hooks: ok"), "{out}");
    let out = run_ok_with_options(&exe, &["late"], "");
    assert!(out.contains("host_hooks late: ok"), "{out}");
}

#[test]
fn hooks_under_valgrind() {
    let exe = CProgram::from_c_tests("host_hooks.c").build();
    let out = run_ok(
        &exe,
        &[
            "valgrind",
            "--quiet",
            "--error-exitcode=1",
            "--leak-check=full",
        ],
    );
    assert!(out.contains("host_hooks: ok"), "{out}");
}

#[test]
fn cpython_313_numbering_exported_and_inline() {
    let exported = CProgram::from_c_tests("host_numbering.c").build();
    let inline = CProgram::from_c_tests("host_numbering.c")
        .named("host_numbering_inline")
        .define("PYMONITORING_INLINE", None)
        .build();
    for exe in [exported, inline] {
        let out = run_ok(&exe, &[]);
        assert!(out.contains("host_numbering: ok"), "{out}");
    }
}
