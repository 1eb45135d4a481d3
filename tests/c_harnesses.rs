//! Every C harness in `c-tests/`, each built with `cc` against the generated
//! header and run as its own process.

mod common;

use common::{run_ok, CProgram};

fn harness(file: &str) {
    let exe = CProgram::from_c_tests(file).build();
    run_ok(&exe, &[]);
}

fn harness_inline(file: &str) {
    let name = format!("{}_inline", file.trim_end_matches(".c"));
    let exe = CProgram::from_c_tests(file)
        .named(&name)
        .define("PYMONITORING_INLINE", None)
        .build();
    run_ok(&exe, &[]);
}

#[test]
fn smoke() {
    harness("smoke.c");
}

#[test]
fn smoke_inline() {
    harness_inline("smoke.c");
}

/// The harness built with AddressSanitizer and UndefinedBehaviorSanitizer
/// on the C side; any report fails the run. Skipped (with a message) when
/// the C compiler cannot build sanitized programs.
fn harness_sanitized(file: &str) {
    static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let available = *AVAILABLE.get_or_init(|| {
        let probe = CProgram::from_c_tests("smoke.c")
            .named("smoke_asan_probe")
            .flag("-fsanitize=address,undefined");
        std::panic::catch_unwind(|| probe.build()).is_ok()
    });
    if !available {
        println!("skipped: the C compiler cannot build with -fsanitize=address,undefined");
        return;
    }
    let name = format!("{}_asan", file.trim_end_matches(".c"));
    let exe = CProgram::from_c_tests(file)
        .named(&name)
        .flag("-fsanitize=address,undefined")
        .flag("-fno-sanitize-recover=all")
        .flag("-fno-omit-frame-pointer")
        .build();
    run_ok(&exe, &[]);
}

/// For one `c-tests/api_*.c`: a plain build, a `PYMONITORING_INLINE` build
/// and a sanitized build, each run as its own process.
macro_rules! api_harness {
    ($plain:ident, $inline:ident, $sanitized:ident, $file:literal) => {
        #[test]
        fn $plain() {
            harness($file);
        }

        #[test]
        fn $inline() {
            harness_inline($file);
        }

        #[test]
        fn $sanitized() {
            harness_sanitized($file);
        }
    };
}

api_harness!(
    api_errors,
    api_errors_inline,
    api_errors_asan,
    "api_errors.c"
);
api_harness!(
    api_registry,
    api_registry_inline,
    api_registry_asan,
    "api_registry.c"
);
api_harness!(api_scope, api_scope_inline, api_scope_asan, "api_scope.c");
api_harness!(api_fire, api_fire_inline, api_fire_asan, "api_fire.c");
api_harness!(
    api_fire_rules,
    api_fire_rules_inline,
    api_fire_rules_asan,
    "api_fire_rules.c"
);
api_harness!(
    api_threads,
    api_threads_inline,
    api_threads_asan,
    "api_threads.c"
);

/// Every `c-tests/api_*.c`, as registered above.
const API_HARNESSES: [&str; 6] = [
    "api_errors.c",
    "api_registry.c",
    "api_scope.c",
    "api_fire.c",
    "api_fire_rules.c",
    "api_threads.c",
];

#[test]
fn every_api_harness_is_registered() {
    let mut found: Vec<String> = std::fs::read_dir(common::manifest_dir().join("c-tests"))
        .expect("c-tests/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("api_") && n.ends_with(".c"))
        .collect();
    found.sort();
    let mut listed: Vec<String> = API_HARNESSES.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(found, listed, "c-tests/api_*.c (left) vs API_HARNESSES");
}

/// fork() during registry calls, during a callback and inside one: every
/// child finishes its registry calls, wait and fire (`c-tests/fork.c`).
#[test]
fn fork() {
    let exe = CProgram::from_c_tests("fork.c").build();
    let out = std::process::Command::new(&exe)
        .env_remove("PYMONITORING_RECORD")
        .env_remove("PYMONITORING_TRACE")
        .env_remove("PYMONITORING_COVERAGE")
        .output()
        .expect("run fork");
    assert!(
        out.status.success(),
        "fork failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The same with the built-in tools switched on by environment variable.
#[test]
fn fork_with_builtin_tools() {
    let exe = CProgram::from_c_tests("fork.c").build();
    let dir = common::out_dir("fork_with_builtin_tools");
    let out = std::process::Command::new(&exe)
        .env("PYMONITORING_RECORD", dir.join("events.jsonl"))
        .env("PYMONITORING_TRACE", dir.join("trace.json"))
        .env("PYMONITORING_COVERAGE", dir.join("coverage.info"))
        .output()
        .expect("run fork");
    assert!(
        out.status.success(),
        "fork with the built-in tools failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A wait from a thread-exit destructor waits; threads whose first call is
/// in a destructor keep the resident set flat (`c-tests/thread_exit.c`).
#[test]
fn thread_exit() {
    let exe = CProgram::from_c_tests("thread_exit.c").build();
    let stdout = run_ok(&exe, &[]);
    println!("{stdout}");
}

/// Threads whose first call is in a destructor, under valgrind's memcheck:
/// nothing leaks (fewer threads: memcheck is slow). Skipped (with a message)
/// without valgrind.
#[test]
fn thread_exit_memcheck() {
    if !common::have("valgrind") {
        println!("skipped: valgrind not found");
        return;
    }
    let exe = CProgram::from_c_tests("thread_exit.c").build();
    let out = std::process::Command::new("valgrind")
        .args([
            "--tool=memcheck",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect",
            "--error-exitcode=99",
            "-q",
        ])
        .arg(&exe)
        .args(["200", "no-rss"])
        .output()
        .expect("run valgrind");
    assert!(
        out.status.success(),
        "thread_exit under memcheck failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
