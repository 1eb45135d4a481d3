//! `cargo run --example demo`: builds `examples/demo.c` against
//! `include/pymonitoring.h` and the freshly built `libpymonitoring.so`, as a
//! C user would, and runs it. The built-in tools write `events.jsonl`,
//! `trace.json` and `coverage.info` into the directory given as the first
//! argument (default `target/<profile>/demo-output`).

mod support;

use std::process::{exit, Command};

fn main() {
    let program = support::build_c_example("demo", "demo.c", "demo-c", &[]);
    // The built-in tools write next to the library unless told otherwise.
    let outdir = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| support::profile_dir().join("demo-output"));
    std::fs::create_dir_all(&outdir).expect("create the output directory");
    // The run path names the library this build made; cargo's
    // LD_LIBRARY_PATH would put the uplifted copy, maybe stale, first.
    let status = Command::new(&program)
        .env_remove("LD_LIBRARY_PATH")
        .arg(&outdir)
        .status()
        .expect("run the demo");
    exit(status.code().unwrap_or(1));
}
