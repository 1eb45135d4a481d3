//! c-tests/ext_armed.c (docs/EXTENSIONS.md), each run its own process: with
//! the exported fire functions, with the header's inline fast path, and
//! under every `PYMONITORING_OPTIONS` value (the harness's expectations
//! do not depend on the options in force).

mod c_programs;

use c_programs::{run_ok, run_ok_with_options, CProgram};

/// The harness with the exported fire functions and with the header's
/// inline fast path.
fn programs() -> [std::path::PathBuf; 2] {
    let p = CProgram::from_c_tests("ext_armed.c");
    [
        p.clone().named("ext_armed").build(),
        p.named("ext_armed_inline")
            .define("PYMONITORING_INLINE", None)
            .build(),
    ]
}

#[test]
fn sequences_and_bad_input() {
    for exe in programs() {
        let out = run_ok(&exe, &[]);
        assert!(out.contains("ext_armed: ok"), "{out}");
    }
}

#[test]
fn under_every_option() {
    for exe in programs() {
        for value in [
            "lasting-disable",
            "active-needs-callback",
            "lasting-disable,active-needs-callback",
        ] {
            let out = run_ok_with_options(&exe, &[], value);
            assert!(out.contains("ext_armed: ok"), "{out}");
        }
    }
}
