//! The option word (`PyMonitoring_SetOptions`, `PYMONITORING_OPTIONS`),
//! through the C ABI, each run its own process.

mod common;

use common::{run_ok, run_ok_with_options, run_with_options, CProgram};

fn program() -> std::path::PathBuf {
    CProgram::from_c_tests("ext_options.c").build()
}

#[test]
fn defaults_bad_input_and_version_moves() {
    run_ok(&program(), &[]);
}

#[test]
fn environment_sets_the_options_at_load() {
    let exe = program();
    for (value, word) in [
        ("lasting-disable", "1"),
        ("active-needs-callback", "2"),
        (" active-needs-callback , lasting-disable ", "3"),
        ("cpython-313-event-ids", "4"),
        ("", "0"),
    ] {
        run_ok_with_options(&exe, &[word], value);
    }
}

#[test]
fn a_bad_environment_value_is_reported_and_ignored() {
    let out = run_with_options(&program(), &["0"], "lasting-disable,fast");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "pymonitoring: PYMONITORING_OPTIONS: unknown option 'fast' (known options: lasting-disable, active-needs-callback, cpython-313-event-ids)"
        ),
        "{stderr}"
    );
}
