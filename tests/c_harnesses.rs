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

/// A plain and a `PYMONITORING_INLINE` test for one `c-tests/api_*.c`.
macro_rules! api_harness {
    ($plain:ident, $inline:ident, $file:literal) => {
        #[test]
        fn $plain() {
            harness($file);
        }

        #[test]
        fn $inline() {
            harness_inline($file);
        }
    };
}

api_harness!(api_errors, api_errors_inline, "api_errors.c");
api_harness!(api_registry, api_registry_inline, "api_registry.c");
api_harness!(api_scope, api_scope_inline, "api_scope.c");
api_harness!(api_fire, api_fire_inline, "api_fire.c");
api_harness!(api_fire_rules, api_fire_rules_inline, "api_fire_rules.c");
api_harness!(api_threads, api_threads_inline, "api_threads.c");
