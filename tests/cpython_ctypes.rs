//! The library inside a CPython 3.13 process, loaded with ctypes the way a
//! Python user does, in all four loader combinations (`ctypes.CDLL` /
//! `ctypes.PyDLL` × `RTLD_LOCAL` / `RTLD_GLOBAL`), each in its own process.
//! CPython exports its own `PyMonitoring_EnterScope` and
//! `_PyMonitoring_Fire*Event`: every call from one part of the library to
//! another must bind inside the library (README, "Processes that also load
//! CPython"). `tests/ctypes/fire_every_event.py` fires every event through
//! the plain and the underscore functions and checks what its ctypes
//! callback receives; the relocation test checks the built `.so` itself.
//!
//! CPython 3.13.0 is found as CI finds it, through `pyenv prefix 3.13.0`; the
//! test fails when it is missing.

mod common;

use std::process::Command;

use common::{lib_dir, manifest_dir, python313};

fn run_combination(loader: &str, mode: &str) {
    let library = lib_dir().join("libpymonitoring.so");
    let script = manifest_dir().join("tests/ctypes/fire_every_event.py");
    let out = Command::new(python313())
        .arg(&script)
        .arg(&library)
        .args([loader, mode])
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{loader} {mode}: python exited with {}\n--- stdout\n{stdout}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    // 17 events through the plain functions, 17 through the underscore
    // ones, and the legacy _PyMonitoring_FireBranchEvent.
    assert_eq!(
        stdout.trim(),
        format!("{loader} {mode}: 35 of 35 events received in order")
    );
}

#[test]
fn ctypes_cdll_rtld_local() {
    run_combination("CDLL", "RTLD_LOCAL");
}

#[test]
fn ctypes_cdll_rtld_global() {
    run_combination("CDLL", "RTLD_GLOBAL");
}

#[test]
fn ctypes_pydll_rtld_local() {
    run_combination("PyDLL", "RTLD_LOCAL");
}

#[test]
fn ctypes_pydll_rtld_global() {
    run_combination("PyDLL", "RTLD_GLOBAL");
}

/// `readelf` with `args` on the test build's `libpymonitoring.so`.
fn readelf(args: &[&str]) -> String {
    let library = lib_dir().join("libpymonitoring.so");
    let out = Command::new("readelf")
        .args(args)
        .arg(&library)
        .output()
        .unwrap_or_else(|e| panic!("readelf (binutils) is needed to inspect the library: {e}"));
    assert!(out.status.success(), "readelf {args:?} failed");
    String::from_utf8(out.stdout).expect("readelf output is UTF-8")
}

/// No relocation of the built library names one of its own exported
/// `PyMonitoring_*` / `_PyMonitoring_*` symbols: a GOT or PLT entry for one
/// would be bound by the dynamic loader to the first definition in the
/// process (libpython's, inside CPython), not to the library's own
/// (`-Bsymbolic-functions`, build.rs).
#[test]
fn no_exported_name_is_bound_through_the_got() {
    let exported: std::collections::BTreeSet<String> = readelf(&["--dyn-syms", "-W"])
        .lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            // Num: Value Size Type Bind Vis Ndx Name
            (f.len() >= 8 && f[0].ends_with(':') && f[6] != "UND").then(|| f[7].to_owned())
        })
        .filter(|name| name.starts_with("PyMonitoring_") || name.starts_with("_PyMonitoring_"))
        .collect();
    assert!(
        exported.contains("PyMonitoring_FirePyStartEvent")
            && exported.contains("_PyMonitoring_FirePyStartEvent"),
        "the library's exported names were not found: {exported:?}"
    );
    let relocations = readelf(&["--relocs", "-W"]);
    let through_got: Vec<&str> = relocations
        .lines()
        .filter(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            // Offset Info Type Sym.Value Sym.Name [+ Addend]
            f.len() >= 5
                && f[2].starts_with("R_")
                && exported.contains(f[4].split('@').next().unwrap())
        })
        .collect();
    assert!(
        through_got.is_empty(),
        "the library binds its own exported names through the GOT/PLT (another \
         definition loaded first, such as libpython's, would get these calls):\n{}",
        through_got.join("\n")
    );
}
