//! The built-in tools, switched on without code.
//!
//! Builds `examples/tools_demo.c` (a host running `examples/tools_demo.pyx`
//! by hand, as Cython-generated C would, on three threads) against the
//! library and runs it with
//!
//! ```text
//! PYMONITORING_RECORD=OUT/events.jsonl
//! PYMONITORING_TRACE=OUT/trace.json
//! PYMONITORING_COVERAGE=OUT/coverage.info
//! ```
//!
//! so that the library starts its recorder, profiler and coverage tool when
//! it is loaded, and completes the three files when the program exits.
//!
//! ```text
//! cargo run --example tools_demo [-- OUT]       # OUT defaults to target/tools-demo
//! ```
//!
//! (`target` is the target directory: `CARGO_TARGET_DIR` when set.)

mod support;

use std::path::PathBuf;
use std::process::{exit, Command};

fn main() {
    let manifest = support::manifest();
    let out = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let profile = support::profile_dir();
            profile.parent().unwrap_or(&profile).join("tools-demo")
        });
    std::fs::create_dir_all(&out).expect("create the output directory");
    let out = out.canonicalize().expect("output directory path");

    let program =
        support::build_c_example("tools_demo", "tools_demo.c", "tools-demo-c", &["-lpthread"]);

    let events = out.join("events.jsonl");
    let trace = out.join("trace.json");
    let coverage = out.join("coverage.info");
    // The run path names the library this build made; cargo's
    // LD_LIBRARY_PATH would put the uplifted copy, maybe stale, first.
    let status = Command::new(&program)
        .env_remove("LD_LIBRARY_PATH")
        .arg(manifest.join("examples/tools_demo.pyx"))
        .env("PYMONITORING_RECORD", &events)
        .env("PYMONITORING_TRACE", &trace)
        .env("PYMONITORING_COVERAGE", &coverage)
        .status()
        .expect("run tools_demo");
    if !status.success() {
        exit(status.code().unwrap_or(1));
    }

    let lines = std::fs::read_to_string(&events)
        .expect("events.jsonl")
        .lines()
        .count();
    println!("wrote:");
    println!(
        "  {}  ({lines} events, one JSON object per line)",
        events.display()
    );
    println!(
        "  {}  (open it in https://ui.perfetto.dev)",
        trace.display()
    );
    println!(
        "  {}  (genhtml {} -o {})",
        coverage.display(),
        coverage.display(),
        out.join("html").display()
    );
}
