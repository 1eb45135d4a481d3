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

/// The README's example (the C block after `<!-- example: codelikes`),
/// compiled and run.
#[test]
fn the_readme_example_builds_and_runs() {
    let readme = std::fs::read_to_string(common::manifest_dir().join("README.md")).unwrap();
    let start = readme
        .find("<!-- example: codelikes")
        .expect("README example marker");
    let rest = &readme[start..];
    let code_start = rest.find("```c\n").expect("C block") + 5;
    let code_end = code_start + rest[code_start..].find("```").expect("end of block");
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("readme_codelikes");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("readme_codelikes.c");
    std::fs::write(&file, &rest[code_start..code_end]).unwrap();
    let mut program = CProgram::from_c_tests("ext_codelikes.c").named("readme_codelikes");
    program.sources = vec![file];
    let exe = program.build();
    run_ok(&exe, &[]);
}
