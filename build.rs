//! Build settings only: the C header is not generated here. The committed
//! `include/pymonitoring.h` is generated with cbindgen by `tests/header.rs`,
//! which fails when it drifts from the sources; regenerate it with
//! `cargo test --test header -- --ignored regenerate`.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(pymonitoring_inline)");
    println!("cargo::rustc-check-cfg=cfg(loom)");
    println!("cargo::rustc-check-cfg=cfg(pymonitoring_cold_path)");
    println!("cargo::rustc-check-cfg=cfg(pymonitoring_tls_descriptor)");
    println!("cargo::rerun-if-changed=build.rs");
    // `std::hint::cold_path` (Rust 1.95) where the compiler has it: the
    // fire walk marks its rare paths with it (`dispatch::cold_path`).
    if rustc_minor().is_some_and(|minor| minor >= 95) {
        println!("cargo::rustc-cfg=pymonitoring_cold_path");
    }
    // The fire walk reaches the thread's state through a TLS descriptor
    // (`src/ffi/tls.rs`) on x86-64 glibc; not in the loom build, whose
    // models use the plain thread-local.
    let cfg = |name: &str| std::env::var(format!("CARGO_CFG_{name}")).unwrap_or_default();
    if cfg("TARGET_ARCH") == "x86_64"
        && cfg("TARGET_OS") == "linux"
        && cfg("TARGET_ENV") == "gnu"
        && std::env::var_os("CARGO_CFG_LOOM").is_none()
    {
        println!("cargo::rustc-cfg=pymonitoring_tls_descriptor");
    }
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

/// The compiler's minor version (`rustc 1.MINOR.PATCH ...`).
fn rustc_minor() -> Option<u32> {
    let rustc = std::env::var_os("RUSTC")?;
    let out = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    text.split_whitespace()
        .nth(1)?
        .split('.')
        .nth(1)?
        .parse()
        .ok()
}
