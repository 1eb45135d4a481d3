//! The conformance harnesses of `c-tests/`: the Cython-style code-likes
//! (`cython_*.c`) and the C ports of CPython's C-API scenarios plus their
//! additions (`cpython_*.c`, mapped in docs/CONFORMANCE.md). Each program is
//! built against the generated header and run as its own process, once with
//! the exported `PyMonitoring_Fire*Event` functions and once with the header's
//! inline fast path (`-DPYMONITORING_INLINE`, what CPython-compiled code does).
//!
//! The memory checkers are `#[ignore]`d here to keep `cargo test` short; CI
//! runs them with `cargo test --test conformance --test differential -- --ignored`:
//! * `memcheck_all`: every harness under
//!   `valgrind --error-exitcode=1 --leak-check=full`;
//! * `sanitizers_all`: every harness built with
//!   `-fsanitize=address,undefined -fno-omit-frame-pointer` (checking that
//!   ASan really linked: `nm` finds `__asan_init`).

mod c_programs;

use std::path::PathBuf;
use std::process::Command;

use c_programs::{have, run, run_ok, run_with_options, CProgram};

/// Every conformance harness.
const HARNESSES: &[&str] = &[
    "cython_plain.c",
    "cython_recursive.c",
    "cython_generator.c",
    "cython_handled.c",
    "cython_unhandled.c",
    "cython_finally.c",
    "cython_return_fails.c",
    "cython_reentry.c",
    "cython_threads.c",
    "cpython_fire_event.c",
    "cpython_missing_exception.c",
    "cpython_failing_callback.c",
    "cpython_disable_event.c",
    "cpython_two_events.c",
    "cpython_more_events.c",
    "cpython_tool_order.c",
    "cpython_exceptions.c",
    "cpython_registry_changes.c",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    Exported,
    Inline,
    Sanitized,
}

fn build(file: &str, variant: Variant) -> PathBuf {
    let stem = file.trim_end_matches(".c");
    let program = CProgram::from_c_tests(file);
    let program = match variant {
        Variant::Exported => program.named(&format!("conf_{stem}")),
        Variant::Inline => program
            .named(&format!("conf_{stem}_inline"))
            .define("PYMONITORING_INLINE", None),
        Variant::Sanitized => program
            .named(&format!("conf_{stem}_asan"))
            .flag("-fsanitize=address,undefined")
            .flag("-fno-sanitize-recover=undefined")
            .flag("-fno-omit-frame-pointer"),
    };
    program.build()
}

fn run_both(file: &str) {
    for variant in [Variant::Exported, Variant::Inline] {
        let exe = build(file, variant);
        let out = run_ok(&exe, &[]);
        assert!(out.contains(": ok"), "{file}: no success line in {out:?}");
    }
}

macro_rules! harness_tests {
    ($($name:ident => $file:literal,)*) => {
        $(
            #[test]
            fn $name() {
                run_both($file);
            }
        )*

        #[test]
        fn every_harness_has_a_test() {
            let listed: &[&str] = &[$($file),*];
            assert_eq!(listed, HARNESSES);
            let mut on_disk: Vec<String> = std::fs::read_dir(c_programs::manifest_dir().join("c-tests"))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| (n.starts_with("cython_") || n.starts_with("cpython_")) && n.ends_with(".c"))
                .collect();
            on_disk.sort();
            let mut sorted: Vec<String> = listed.iter().map(|s| s.to_string()).collect();
            sorted.sort();
            assert_eq!(on_disk, sorted, "c-tests/ and HARNESSES differ");
        }
    };
}

harness_tests! {
    cython_plain => "cython_plain.c",
    cython_recursive => "cython_recursive.c",
    cython_generator => "cython_generator.c",
    cython_handled => "cython_handled.c",
    cython_unhandled => "cython_unhandled.c",
    cython_finally => "cython_finally.c",
    cython_return_fails => "cython_return_fails.c",
    cython_reentry => "cython_reentry.c",
    cython_threads => "cython_threads.c",
    cpython_fire_event => "cpython_fire_event.c",
    cpython_missing_exception => "cpython_missing_exception.c",
    cpython_failing_callback => "cpython_failing_callback.c",
    cpython_disable_event => "cpython_disable_event.c",
    cpython_two_events => "cpython_two_events.c",
    cpython_more_events => "cpython_more_events.c",
    cpython_tool_order => "cpython_tool_order.c",
    cpython_exceptions => "cpython_exceptions.c",
    cpython_registry_changes => "cpython_registry_changes.c",
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
        assert!(HARNESSES.contains(file), "{file} is not a harness");
    }
    let mut failed = Vec::new();
    for file in HARNESSES {
        if not_applying.iter().any(|(f, _)| f == file) {
            continue;
        }
        for variant in [Variant::Exported, Variant::Inline] {
            let out = run_with_options(&build(file, variant), &[], options);
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
/// uninitialised read, no leak (exit status 1 on any error).
#[test]
#[ignore = "slow: run by .ci/run with --ignored"]
fn memcheck_all() {
    assert!(have("valgrind"), "valgrind is not installed");
    for file in HARNESSES {
        let exe = build(file, Variant::Exported);
        let out = run(
            &exe,
            &[
                "valgrind",
                "--quiet",
                "--error-exitcode=1",
                "--leak-check=full",
            ],
        );
        assert!(
            out.status.success(),
            "{file} under valgrind: {}\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!("memcheck {file}: ok");
    }
}

/// Every harness built with AddressSanitizer and UBSan.
#[test]
#[ignore = "slow: run by .ci/run with --ignored"]
fn sanitizers_all() {
    for file in HARNESSES {
        let exe = build(file, Variant::Sanitized);
        let nm = Command::new("nm").arg(&exe).output().expect("run nm");
        assert!(
            String::from_utf8_lossy(&nm.stdout).contains("__asan_init"),
            "{file}: AddressSanitizer is not linked"
        );
        let out = run(&exe, &[]);
        assert!(
            out.status.success(),
            "{file} with -fsanitize=address,undefined: {}\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!("sanitizers {file}: ok");
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
