//! Build settings only: the C header is not generated here. The committed
//! `include/pymonitoring.h` is generated with cbindgen by `tests/header.rs`,
//! which fails when it drifts from the sources; regenerate it with
//! `cargo test --test header -- --ignored regenerate`.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(pymonitoring_inline)");
    println!("cargo::rustc-check-cfg=cfg(loom)");
    println!("cargo::rerun-if-changed=build.rs");
    // Calls from one part of the library to another bind inside it, even in a
    // process that defines the same names first, such as CPython's (README,
    // "Processes that also load CPython"). ELF linkers only.
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap();
    if !matches!(os.as_str(), "macos" | "ios" | "windows") {
        println!("cargo::rustc-cdylib-link-arg=-Wl,-Bsymbolic-functions");
    }
    // Tests build C programs with `cc` and need the target triple.
    println!(
        "cargo::rustc-env=TARGET_TRIPLE={}",
        std::env::var("TARGET").unwrap()
    );
}
