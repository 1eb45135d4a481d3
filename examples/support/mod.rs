//! What the C examples share: build `examples/<source>` against
//! `include/pymonitoring.h` and the cdylib of this very build, as a C user
//! would.

use std::path::{Path, PathBuf};
use std::process::exit;

/// The examples' output directory (`target/<profile>/examples`) and the
/// directory holding this build's `libpymonitoring.so`.
fn dirs(example: &str) -> (PathBuf, PathBuf) {
    let exe_dir = std::env::current_exe()
        .expect("own path")
        .parent()
        .expect("examples dir")
        .to_path_buf();
    // target/<profile>/examples/NAME -> target/<profile>. deps/ holds the
    // cdylib this very build made; the uplifted copy beside it is only
    // refreshed by `cargo build` and may be stale.
    let profile = exe_dir.parent().expect("profile dir").to_path_buf();
    let Some(lib_dir) = [profile.join("deps"), profile.clone()]
        .into_iter()
        .find(|d| d.join("libpymonitoring.so").exists())
    else {
        eprintln!(
            "{example}: libpymonitoring.so not found under {}",
            profile.display()
        );
        exit(1);
    };
    (exe_dir, lib_dir)
}

/// The profile directory (`target/<profile>`), for default output paths.
#[allow(dead_code)] // each example compiles this module; not all use it
pub fn profile_dir() -> PathBuf {
    let (exe_dir, _) = dirs("example");
    exe_dir.parent().expect("profile dir").to_path_buf()
}

pub fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Compile `examples/<source>` into `<examples dir>/<program>` with `-std=c11
/// -Wall -Wextra -Werror`, linked with `-lpymonitoring` (and `extra` flags);
/// exits with the compiler's status on failure.
pub fn build_c_example(example: &str, source: &str, program: &str, extra: &[&str]) -> PathBuf {
    let (exe_dir, lib_dir) = dirs(example);
    let target = env!("TARGET_TRIPLE");
    let compiler = cc::Build::new()
        .target(target)
        .host(target)
        .opt_level(2)
        .cargo_metadata(false)
        .get_compiler();
    let output = exe_dir.join(program);
    let status = compiler
        .to_command()
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror"])
        .arg("-I")
        .arg(manifest().join("include"))
        .arg(manifest().join("examples").join(source))
        .arg("-o")
        .arg(&output)
        .arg(format!("-L{}", lib_dir.display()))
        .arg("-lpymonitoring")
        .arg(format!("-Wl,-rpath,{}", lib_dir.display()))
        .args(extra)
        .status()
        .expect("run the C compiler");
    if !status.success() {
        exit(status.code().unwrap_or(1));
    }
    output
}
