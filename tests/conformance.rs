//! The conformance harnesses of `c-tests/`: the Cython-style code-likes
//! (`cython_*.c`) and the C ports of CPython's C-API scenarios plus their
//! additions (`cpython_*.c`, mapped in docs/CONFORMANCE.md). Each program is
//! built against the generated header and run as its own process, once with
//! the exported `PyMonitoring_Fire*Event` functions and once with the header's
//! inline fast path (`-DPYMONITORING_INLINE`, what CPython-compiled code does).
//!
//! The memory checkers are `#[ignore]`d here to keep `cargo test` short; CI
//! runs them with `cargo test --test conformance --test differential -- --ignored`:
//! * `memcheck_all`: every harness under valgrind's memcheck
//!   (`--leak-check=full`, any error fails);
//! * `sanitizers_all`: every harness built with
//!   `-fsanitize=address,undefined -fno-omit-frame-pointer` (checking that
//!   ASan really linked: `nm` finds `__asan_init`).
//!
//! The builds, runs and checks are the table's and the runner's in
//! `tests/c_programs/harnesses.rs`.

mod c_programs;

use c_programs::harnesses::{harness, harnesses_starting, Build, Checker, Harness, Run};

/// Every conformance harness: the table's `cython_*` and `cpython_*` rows.
fn harnesses() -> Vec<&'static Harness> {
    let mut all = harnesses_starting("cython_");
    all.extend(harnesses_starting("cpython_"));
    all
}

macro_rules! harness_tests {
    ($($name:ident,)*) => {
        $(
            #[test]
            fn $name() {
                harness(stringify!($name)).check();
            }
        )*

        #[test]
        fn every_harness_has_a_test() {
            let listed: &[&str] = &[$(stringify!($name)),*];
            let names: Vec<&str> = harnesses().iter().map(|h| h.name).collect();
            assert_eq!(listed, names, "the tests above vs the table's conformance rows");
        }
    };
}

harness_tests! {
    cython_plain,
    cython_recursive,
    cython_generator,
    cython_handled,
    cython_unhandled,
    cython_finally,
    cython_return_fails,
    cython_reentry,
    cython_threads,
    cpython_fire_event,
    cpython_missing_exception,
    cpython_failing_callback,
    cpython_disable_event,
    cpython_two_events,
    cpython_more_events,
    cpython_tool_order,
    cpython_exceptions,
    cpython_registry_changes,
}

/// The harnesses that do not apply with
/// `PY_MONITORING_OPT_LASTING_DISABLE`, and why. Every other harness runs
/// again under the mode (`PYMONITORING_OPTIONS=lasting-disable`); those whose
/// expectation differs read the options and check the mode's
/// (`cython_plain.c`, `cpython_disable_event.c`, `cpython_registry_changes.c`).
const NOT_UNDER_LASTING: &[(&str, &str)] = &[
    (
        "cpython_two_events.c",
        "checks that a fresh code-like gets a tool back at a site it DISABLEd (CPython's rule, \
         which the mode replaces by design); c-tests/ext_lasting.c checks the mode's sequence",
    ),
    (
        "cpython_tool_order.c",
        "checks that every kind of version change re-enables a DISABLE at the next EnterScope \
         (CPython's rule, which the mode replaces by design); c-tests/ext_lasting.c and \
         src/ext/lasting.rs check which changes end a lasting DISABLE",
    ),
];

/// Every applicable harness with the lasting-DISABLE mode set at load.
#[test]
fn every_harness_under_lasting_disable() {
    every_harness_under("lasting-disable", NOT_UNDER_LASTING);
}

/// Every harness not in `not_applying` (each listed one must be a
/// harness), exported and inline, with `PYMONITORING_OPTIONS=options` set
/// at load; every failure is reported.
fn every_harness_under(options: &str, not_applying: &[(&str, &str)]) {
    for (file, _why) in not_applying {
        assert!(
            harnesses().iter().any(|h| h.file() == *file),
            "{file} is not a harness"
        );
    }
    let mut failed = Vec::new();
    for h in harnesses() {
        let file = h.file();
        if not_applying.iter().any(|(f, _)| *f == file) {
            continue;
        }
        for build in [Build::Exported, Build::Inline] {
            let out = h.output(build, &Run::plain().options(options));
            if !out.status.success() {
                failed.push(format!(
                    "{file} under {options}: {}\n{}{}",
                    out.status,
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

/// Every harness under valgrind's memcheck: no invalid access, no
/// uninitialised read, no leak.
#[test]
#[ignore = "slow: run by .ci/run with --ignored"]
fn memcheck_all() {
    for h in harnesses() {
        h.check_build(
            Build::Exported,
            &Run::plain().under(Checker::Memcheck("definite,possible")),
        );
        eprintln!("memcheck {}: ok", h.file());
    }
}

/// Every harness built with AddressSanitizer and UBSan (the runner checks
/// that ASan really linked).
#[test]
#[ignore = "slow: run by .ci/run with --ignored"]
fn sanitizers_all() {
    for h in harnesses() {
        h.check_build(Build::Sanitized, &Run::plain());
        eprintln!("sanitizers {}: ok", h.file());
    }
}

// ---- Code-likes (docs/EXTENSIONS.md): the suite under `active-needs-callback`. ----

/// Harnesses whose CPython-exact expectation does not hold under
/// `PYMONITORING_OPTIONS=active-needs-callback`, with the reason.
const NOT_UNDER_ACTIVE_NEEDS_CALLBACK: &[(&str, &str)] = &[];

/// Every conformance harness (exported and inline) with
/// `PYMONITORING_OPTIONS=active-needs-callback`: the same callbacks run in
/// the same order (the mode only leaves out of `active` the tools that have
/// no callback, which were skipped anyway); harnesses that check `active`
/// read the options and check the mode's expectation.
#[test]
fn every_harness_under_active_needs_callback() {
    every_harness_under("active-needs-callback", NOT_UNDER_ACTIVE_NEEDS_CALLBACK);
}
