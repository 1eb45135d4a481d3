//! One version number: the crate's version is the header's macros and what
//! `PyMonitoring_LibraryVersion()` returns.

mod c_programs;

use std::ffi::CStr;

use c_programs::harnesses::harness;

#[test]
fn library_version_is_the_crate_version() {
    let ptr = pymonitoring::ffi::PyMonitoring_LibraryVersion();
    assert!(!ptr.is_null());
    // SAFETY: a static NUL-terminated string.
    let text = unsafe { CStr::from_ptr(ptr) }.to_str().unwrap();
    assert_eq!(text, env!("CARGO_PKG_VERSION"));
    assert_eq!(pymonitoring::VERSION, env!("CARGO_PKG_VERSION"));
}

#[test]
fn header_macros_match_the_library_from_c() {
    for out in harness("version").check() {
        assert!(out.starts_with(env!("CARGO_PKG_VERSION")), "{out}");
    }
}

#[test]
fn committed_header_carries_the_crate_version() {
    let header = include_str!("../include/pymonitoring.h");
    let want = format!(
        "#define PYMONITORING_VERSION \"{}\"",
        env!("CARGO_PKG_VERSION")
    );
    assert!(header.contains(&want), "missing: {want}");
    for (part, value) in [
        ("MAJOR", env!("CARGO_PKG_VERSION_MAJOR")),
        ("MINOR", env!("CARGO_PKG_VERSION_MINOR")),
        ("PATCH", env!("CARGO_PKG_VERSION_PATCH")),
    ] {
        let line = format!("#define PYMONITORING_VERSION_{part} {value}\n");
        assert!(header.contains(&line), "missing: {line}");
    }
}
