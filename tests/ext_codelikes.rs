//! c-tests/ext_codelikes.c (docs/EXTENSIONS.md), each run its own process: with
//! the exported fire functions, with the header's inline fast path, and
//! under every `PYMONITORING_OPTIONS` value (the harness's expectations
//! do not depend on the options in force).

mod c_programs;

option_independent_tests!("ext_codelikes");
