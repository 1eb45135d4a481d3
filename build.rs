//! Generates `pymonitoring.h` into `OUT_DIR` with cbindgen. The committed
//! copy in `include/` is checked against it by `tests/header.rs`; regenerate
//! it with `cargo run --example regenerate_header` (or copy the file the
//! failing test names).

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(pymonitoring_inline)");
    println!("cargo::rustc-check-cfg=cfg(loom)");
    println!("cargo::rerun-if-changed=src");
    println!("cargo::rerun-if-changed=cbindgen.toml");
    // Calls from one part of the library to another bind inside it, even in a
    // process that defines the same names first, such as CPython's (README,
    // "Processes that also load CPython"). ELF linkers only.
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap();
    if !matches!(os.as_str(), "macos" | "ios" | "windows") {
        println!("cargo::rustc-cdylib-link-arg=-Wl,-Bsymbolic-functions");
    }
    // Tests build C programs with `cc` and need the target triple.
    println!(
        "cargo::rustc-env=TARGET_TRIPLE={}",
        env::var("TARGET").unwrap()
    );
    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("pymonitoring.h");
    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is readable");
    // One version number: the crate's, into the header's macros (and, through
    // CARGO_PKG_VERSION, into PyMonitoring_LibraryVersion()).
    let version = env::var("CARGO_PKG_VERSION").unwrap();
    let part = |name: &str| {
        let value = env::var(format!("CARGO_PKG_VERSION_{name}")).unwrap();
        let n: u32 = value.parse().expect("numeric version part");
        assert!(n < 256, "PYMONITORING_VERSION_NUMBER needs each part < 256");
        value
    };
    let (major, minor, patch) = (part("MAJOR"), part("MINOR"), part("PATCH"));
    config.after_includes = config.after_includes.map(|s| {
        s.replace("@VERSION@", &version)
            .replace("@VERSION_MAJOR@", &major)
            .replace("@VERSION_MINOR@", &minor)
            .replace("@VERSION_PATCH@", &patch)
    });
    cbindgen::Builder::new()
        .with_config(config)
        .with_src(crate_dir.join("src/ffi/mod.rs"))
        .generate()
        .expect("cbindgen generates the header")
        .write_to_file(&out);
}
