//! Build settings only: the C header is not generated here. The committed
//! `include/pymonitoring.h` is generated with cbindgen by `tests/header.rs`,
//! which fails when it drifts from the sources; regenerate it with
//! `cargo test --test header -- --ignored regenerate`.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(pymonitoring_inline)");
    println!("cargo::rustc-check-cfg=cfg(loom)");
    println!("cargo::rerun-if-changed=build.rs");
    // Tests build C programs with `cc` and need the target triple.
    println!(
        "cargo::rustc-env=TARGET_TRIPLE={}",
        std::env::var("TARGET").unwrap()
    );
}
