//! `PyMonitoring_RestartToolEvents` and `PY_MONITORING_OPT_LASTING_DISABLE`
//! through the C ABI (`c-tests/ext_lasting.c`), each run its own process,
//! with the exported fire functions and with the header's inline ones.

mod c_programs;

use c_programs::harnesses::harness;
use c_programs::{run_ok, CProgram};

#[test]
fn exact_sequences_cython_states_table_and_bad_input() {
    harness("ext_lasting").check();
}

/// The README's example (`examples/lasting.c`, quoted there verbatim)
/// builds and prints what its comments say.
#[test]
fn readme_example() {
    let source =
        std::fs::read_to_string(c_programs::manifest_dir().join("examples/lasting.c")).unwrap();
    let readme = std::fs::read_to_string(c_programs::manifest_dir().join("README.md")).unwrap();
    assert!(
        readme.contains(source.trim_end()),
        "README.md does not quote examples/lasting.c"
    );
    let exe = CProgram {
        sources: vec![c_programs::manifest_dir().join("examples/lasting.c")],
        ..CProgram::from_c_tests("ext_lasting.c")
    }
    .named("example_lasting")
    .build();
    let out = run_ok(&exe);
    assert_eq!(out, "lines covered: 3, callbacks: 3\nafter restart: 6\n");
}

/// Line coverage of Cython-style code in the lasting mode
/// (`c-tests/ext_coverage.c`: recursion, a loop, a generator, two
/// threads): a DISABLE-ing coverage tool sees every line exactly once, with
/// the exported fire functions and with the header's inline ones.
#[test]
fn ext_coverage_sees_every_line_once() {
    harness("ext_coverage").check();
}
