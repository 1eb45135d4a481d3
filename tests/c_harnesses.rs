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
