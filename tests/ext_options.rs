//! The option word (`PyMonitoring_SetOptions`, `PYMONITORING_OPTIONS`),
//! through the C ABI, each run its own process.

mod common;

use common::{run_ok, CProgram};

/// Built once: the tests run in parallel, and rebuilding the program while
/// another test runs it fails with "text file busy".
fn program() -> std::path::PathBuf {
    static EXE: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    EXE.get_or_init(|| CProgram::from_c_tests("ext_options.c").build())
        .clone()
}

#[test]
fn defaults_bad_input_and_version_moves() {
    run_ok(&program(), &[]);
}

#[test]
fn environment_sets_the_options_at_load() {
    let exe = program();
    let exe = exe.to_str().unwrap();
    for (value, word) in [
        ("lasting-disable", "1"),
        ("active-needs-callback", "2"),
        (" active-needs-callback , lasting-disable ", "3"),
        ("", "0"),
    ] {
        let env = format!("PYMONITORING_OPTIONS={value}");
        let out = std::process::Command::new("env")
            .args([env.as_str(), exe, word])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{env}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn a_bad_environment_value_is_reported_and_ignored() {
    let exe = program();
    let out = std::process::Command::new("env")
        .args([
            "PYMONITORING_OPTIONS=lasting-disable,fast",
            exe.to_str().unwrap(),
            "0",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "pymonitoring: PYMONITORING_OPTIONS: unknown option 'fast' (known options: lasting-disable, active-needs-callback)"
        ),
        "{stderr}"
    );
}
