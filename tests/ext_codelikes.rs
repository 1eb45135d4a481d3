//! c-tests/ext_codelikes.c (docs/EXTENSIONS.md), each run its own process: with
//! the exported fire functions, with the header's inline fast path, and
//! under every `PYMONITORING_OPTIONS` value (the harness's expectations
//! do not depend on the options in force).

mod c_programs;

use c_programs::harnesses::{harness, Run};

#[test]
fn sequences_and_bad_input() {
    harness("ext_codelikes").check();
}

#[test]
fn under_every_option() {
    for value in [
        "lasting-disable",
        "active-needs-callback",
        "lasting-disable,active-needs-callback",
    ] {
        harness("ext_codelikes").check_with(&Run::plain().options(value));
    }
}
