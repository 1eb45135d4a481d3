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
