//! The committed header is exactly what cbindgen generates from the sources.

use std::path::PathBuf;

fn generated() -> PathBuf {
    PathBuf::from(env!("OUT_DIR")).join("pymonitoring.h")
}

fn committed() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("include/pymonitoring.h")
}

#[test]
fn committed_header_matches_generated() {
    let fresh = std::fs::read_to_string(generated()).expect("generated header");
    let kept = std::fs::read_to_string(committed()).unwrap_or_default();
    assert!(
        fresh == kept,
        "include/pymonitoring.h differs from what cbindgen generates.\n\
         Regenerate it with: cargo test --test header -- --ignored regenerate"
    );
}

/// Writes the generated header over `include/pymonitoring.h`.
#[test]
#[ignore = "writes include/pymonitoring.h; run on purpose to regenerate"]
fn regenerate() {
    std::fs::copy(generated(), committed()).expect("copy the generated header");
}
