//! `cargo run --example demo`: builds `examples/demo.c` against
//! `include/pymonitoring.h` and the freshly built `libpymonitoring.so`, as a
//! C user would, and runs it. The built-in tools write `events.jsonl`,
//! `trace.json` and `coverage.info` into the directory given as the first
//! argument (default `target/<profile>/demo-output`).

use std::path::Path;
use std::process::{exit, Command};

fn main() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let exe_dir = std::env::current_exe()
        .expect("own path")
        .parent()
        .expect("examples dir")
        .to_path_buf();
    // target/<profile>/examples/NAME -> target/<profile>. deps/ holds the
    // cdylib this very build made; the uplifted copy beside it is only
    // refreshed by `cargo build` and may be stale.
    let profile = exe_dir.parent().expect("profile dir");
    let Some(lib_dir) = [profile.join("deps"), profile.to_path_buf()]
        .into_iter()
        .find(|d| d.join("libpymonitoring.so").exists())
    else {
        eprintln!(
            "demo: libpymonitoring.so not found under {}",
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
    let program = exe_dir.join("demo-c");
    let status = compiler
        .to_command()
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror"])
        .arg("-I")
        .arg(manifest.join("include"))
        .arg(manifest.join("examples/demo.c"))
        .arg("-o")
        .arg(&program)
        .arg(format!("-L{}", lib_dir.display()))
        .arg("-lpymonitoring")
        .arg(format!("-Wl,-rpath,{}", lib_dir.display()))
        .status()
        .expect("run the C compiler");
    if !status.success() {
        exit(status.code().unwrap_or(1));
    }
    // The built-in tools write next to the library unless told otherwise.
    let outdir = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| profile.join("demo-output"));
    std::fs::create_dir_all(&outdir).expect("create the output directory");
    let status = Command::new(&program)
        .arg(&outdir)
        .status()
        .expect("run the demo");
    exit(status.code().unwrap_or(1));
}
