//! The option word (`PyMonitoring_SetOptions`, `PYMONITORING_OPTIONS`),
//! through the C ABI, each run its own process.

mod c_programs;

use c_programs::harnesses::{harness, Build, Run};

#[test]
fn defaults_bad_input_and_version_moves() {
    harness("ext_options").check();
}

#[test]
fn environment_sets_the_options_at_load() {
    for (value, word) in [
        ("lasting-disable", "1"),
        ("active-needs-callback", "2"),
        (" active-needs-callback , lasting-disable ", "3"),
        ("cpython-313-event-ids", "4"),
        ("", "0"),
    ] {
        harness("ext_options").check_with(&Run::plain().args(&[word]).options(value));
    }
}

#[test]
fn a_bad_environment_value_is_reported_and_ignored() {
    let run = Run::plain().args(&["0"]).options("lasting-disable,fast");
    let out = harness("ext_options").output(Build::Exported, &run);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "pymonitoring: PYMONITORING_OPTIONS: unknown option 'fast' (known options: lasting-disable, active-needs-callback, cpython-313-event-ids)"
        ),
        "{stderr}"
    );
}
