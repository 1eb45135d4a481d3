//! `PyMonitoring_SetHost` and `PY_MONITORING_OPT_CPYTHON_313_EVENT_IDS`
//! through the C ABI (docs/HOSTS.md), each run its own process: a fake host
//! (`c-tests/host_hooks.c`) and the host's numbering (`c-tests/host_numbering.c`,
//! with the exported functions and with the header's inline ones). The real
//! host, CPython 3.13 with a Cython module, is `tests/cython_host.rs`.

mod c_programs;

use c_programs::harnesses::{harness, skip_valgrind, Build, Checker, Run};

#[test]
fn hooks_exception_events_errors_nesting_and_bad_input() {
    harness("host_hooks").check();
    let late = Run::plain()
        .args(&["late"])
        .options("")
        .prints("host_hooks late: ok");
    harness("host_hooks").check_build(Build::Exported, &late);
}

#[test]
fn hooks_under_valgrind() {
    if skip_valgrind() {
        return;
    }
    let run = Run::plain().under(Checker::Memcheck("definite,possible"));
    harness("host_hooks").check_build(Build::Exported, &run);
}

#[test]
fn cpython_313_numbering_exported_and_inline() {
    harness("host_numbering").check();
}
