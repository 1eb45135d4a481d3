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

use std::path::{Path, PathBuf};
use std::process::{exit, Command};

fn main() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("target/tools-demo"));
    std::fs::create_dir_all(&out).expect("create the output directory");
    let out = out.canonicalize().expect("output directory path");

    // target/<profile>/examples/NAME -> target/<profile>. deps/ holds the
    // cdylib this very build made; the uplifted copy beside it is only
    // refreshed by `cargo build` and may be stale.
    let exe_dir = std::env::current_exe()
        .expect("own path")
        .parent()
        .expect("examples dir")
        .to_path_buf();
    let profile = exe_dir.parent().expect("profile dir");
    let Some(lib_dir) = [profile.join("deps"), profile.to_path_buf()]
        .into_iter()
        .find(|d| d.join("libpymonitoring.so").exists())
    else {
        eprintln!(
            "tools_demo: libpymonitoring.so not found under {}",
            profile.display()
        );
        exit(1);
    };
    let target = env!("TARGET_TRIPLE");
    let compiler = cc::Build::new()
        .target(target)
        .host(target)
        .opt_level(2)
        .cargo_metadata(false)
        .get_compiler();
    let program = exe_dir.join("tools-demo-c");
    let status = compiler
        .to_command()
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror"])
        .arg("-I")
        .arg(manifest.join("include"))
        .arg(manifest.join("examples/tools_demo.c"))
        .arg("-o")
        .arg(&program)
        .arg(format!("-L{}", lib_dir.display()))
        .arg("-lpymonitoring")
        .arg(format!("-Wl,-rpath,{}", lib_dir.display()))
        .arg("-lpthread")
        .status()
        .expect("run the C compiler");
    if !status.success() {
        exit(status.code().unwrap_or(1));
    }

    let events = out.join("events.jsonl");
    let trace = out.join("trace.json");
    let coverage = out.join("coverage.info");
    let status = Command::new(&program)
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
