//! The header's one generator, and the check that the committed
//! `include/pymonitoring.h` is exactly what it generates.
//!
//! The header is cbindgen's declarations from `src/ffi/` (configured by
//! `cbindgen.toml`) with three hand-written parts spliced in: the version
//! macros (from Cargo.toml's version, below), `src/ffi/header/prelude.h`
//! after the `#include`s, and `src/ffi/header/inline.h` at the end, inside
//! the include guard. C programs, examples, benches and `make install` all
//! use the committed copy; regenerate it after a change with
//! `cargo test --test header -- --ignored regenerate`.

use std::path::{Path, PathBuf};

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn committed() -> PathBuf {
    manifest_dir().join("include/pymonitoring.h")
}

/// A file of `src/ffi/header/` without its leading comment (which speaks
/// to the file's maintainers, not to the header's readers).
fn fragment(name: &str) -> String {
    let path = manifest_dir().join("src/ffi/header").join(name);
    let text = std::fs::read_to_string(&path).expect("read a header fragment");
    let rest = text
        .strip_prefix("/*")
        .and_then(|t| t.split_once("*/\n"))
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("{} starts with a comment", path.display()));
    rest.trim_start_matches('\n').to_string()
}

/// The line of `inline.h` that stands for `fire.h`.
const FIRE_PLACE: &str = "/* The fire wrappers, generated from the table of events: src/ffi/header/fire.h\n * (tests/header.rs splices it here). */\n";

/// `inline.h` with the generated fire wrappers in their place.
fn inline_with_fire() -> String {
    let inline = fragment("inline.h");
    assert_eq!(
        inline.matches(FIRE_PLACE).count(),
        1,
        "src/ffi/header/inline.h keeps one place for fire.h"
    );
    inline.replace(FIRE_PLACE, &fragment("fire.h"))
}

/// One version number: the crate's, into the header's macros (and, through
/// `CARGO_PKG_VERSION`, into `PyMonitoring_LibraryVersion()`).
fn version_macros() -> String {
    let part = |value: &str| {
        let n: u32 = value.parse().expect("numeric version part");
        assert!(n < 256, "PYMONITORING_VERSION_NUMBER needs each part < 256");
        n
    };
    let major = part(env!("CARGO_PKG_VERSION_MAJOR"));
    let minor = part(env!("CARGO_PKG_VERSION_MINOR"));
    let patch = part(env!("CARGO_PKG_VERSION_PATCH"));
    let version = env!("CARGO_PKG_VERSION");
    format!(
        "/* The library's version: the crate version (Cargo.toml).
 * PyMonitoring_LibraryVersion() returns PYMONITORING_VERSION at run time. */
#define PYMONITORING_VERSION_MAJOR {major}
#define PYMONITORING_VERSION_MINOR {minor}
#define PYMONITORING_VERSION_PATCH {patch}
#define PYMONITORING_VERSION \"{version}\"
/* One number for #if tests: 0x00MMmmpp (major, minor, patch; each < 256). */
#define PYMONITORING_VERSION_NUMBER \\
    ((PYMONITORING_VERSION_MAJOR << 16) | (PYMONITORING_VERSION_MINOR << 8) | PYMONITORING_VERSION_PATCH)
"
    )
}

/// The header, as it should be committed.
fn generate() -> String {
    let dir = manifest_dir();
    let mut config =
        cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml is readable");
    config.after_includes = Some(format!("\n{}\n{}", version_macros(), fragment("prelude.h")));
    let mut out = Vec::new();
    cbindgen::Builder::new()
        .with_config(config)
        .with_src(dir.join("src/ffi/mod.rs"))
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut out);
    let text = String::from_utf8(out).expect("cbindgen writes UTF-8");
    // cbindgen's `trailer` would land after the guard's #endif; the end of
    // the header goes before it instead.
    let guard_end = "#endif  /* PYMONITORING_H */\n";
    let body = text
        .strip_suffix(guard_end)
        .unwrap_or_else(|| panic!("cbindgen's output ends with {guard_end:?}"));
    format!("{body}\n{}\n{guard_end}", inline_with_fire())
}

#[test]
fn committed_header_matches_generated() {
    let fresh = generate();
    let kept = std::fs::read_to_string(committed()).unwrap_or_default();
    assert!(
        fresh == kept,
        "include/pymonitoring.h differs from what tests/header.rs generates.\n\
         Regenerate it with: cargo test --test header -- --ignored regenerate"
    );
}

/// Writes the generated header over `include/pymonitoring.h`.
#[test]
#[ignore = "writes include/pymonitoring.h; run on purpose to regenerate"]
fn regenerate() {
    std::fs::write(committed(), generate()).expect("write include/pymonitoring.h");
}
