//! c-tests/ext_codelikes.c (docs/EXTENSIONS.md), each run its own process: with
//! the exported fire functions, with the header's inline fast path, and
//! under every `PYMONITORING_OPTIONS` value (the harness's expectations
//! do not depend on the options in force).

mod common;

use common::{run_ok, CProgram};

/// Built once: the tests run in parallel, and rebuilding a program while
/// another test runs it fails with "text file busy".
fn programs() -> [std::path::PathBuf; 2] {
    static EXES: std::sync::OnceLock<[std::path::PathBuf; 2]> = std::sync::OnceLock::new();
    EXES.get_or_init(|| {
        let p = CProgram::from_c_tests("ext_codelikes.c");
        [
            p.clone().named("ext_codelikes").build(),
            p.named("ext_codelikes_inline")
                .define("PYMONITORING_INLINE", None)
                .build(),
        ]
    })
    .clone()
}

#[test]
fn sequences_and_bad_input() {
    for exe in programs() {
        let out = run_ok(&exe, &[]);
        assert!(out.contains("ext_codelikes: ok"), "{out}");
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
            let env = format!("PYMONITORING_OPTIONS={value}");
            let out = std::process::Command::new("env")
                .args([env.as_str(), exe.to_str().unwrap()])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{env}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}
