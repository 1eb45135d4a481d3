//! The library inside a CPython 3.13 process, loaded with ctypes the way a
//! Python user does, in all four loader combinations (`ctypes.CDLL` /
//! `ctypes.PyDLL` × `RTLD_LOCAL` / `RTLD_GLOBAL`), each in its own process.
//! CPython exports its own `PyMonitoring_EnterScope` and
//! `_PyMonitoring_Fire*Event`: every call from one part of the library to
//! another must bind inside the library (README, "Processes that also load
//! CPython"). `tests/ctypes/fire_every_event.py` fires every event through
//! the plain and the underscore functions and checks what its ctypes
//! callback receives; the relocation test checks the built `.so` itself.
//! `tests/ctypes/by_name.c` checks the README's account of objects that
//! call these names without a handle: inside CPython, and in a program
//! linked with both libraries.
//!
//! CPython 3.13.0 is found as CI finds it, through `pyenv prefix 3.13.0`; the
//! test fails when it is missing.

mod c_programs;

use std::path::PathBuf;
use std::process::Command;

use c_programs::{
    lib_dir, manifest_dir, python313, python313_include, python313_prefix, run_ok, succeeded,
    CProgram,
};

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

/// `tests/ctypes/by_name.c` as a shared object linked with `-lpymonitoring`.
fn by_name_object() -> PathBuf {
    CProgram {
        sources: vec![manifest_dir().join("tests/ctypes/by_name.c")],
        flags: vec!["-shared".into(), "-fPIC".into()],
        libs: vec!["-ldl".into()],
        ..CProgram::from_c_tests("smoke.c")
    }
    .named("libby_name.so")
    .build()
}

/// What `tests/ctypes/by_name.py` prints for the object loaded with `mode`.
fn by_name_in_python(mode: &[&str]) -> String {
    let out = Command::new(python313())
        .arg(manifest_dir().join("tests/ctypes/by_name.py"))
        .arg(by_name_object())
        .args(mode)
        .output()
        .expect("run python3");
    succeeded(&format!("by_name.py {mode:?}"), &out)
}

/// The README's account of an extension module that calls the library by
/// name inside CPython: CPython's definitions come first, so its
/// `PyMonitoring_EnterScope` is CPython's (which knows none of this
/// library's tools: no callback), also when this library was loaded with
/// `RTLD_GLOBAL` before it; loaded with `RTLD_DEEPBIND` it reaches this
/// library.
#[test]
fn an_object_calling_by_name_inside_cpython_reaches_this_library_only_with_deepbind() {
    assert_eq!(by_name_in_python(&[]), "libpython3.13.so.1.0 0\n");
    let library = lib_dir().join("libpymonitoring.so");
    assert_eq!(
        by_name_in_python(&[library.to_str().unwrap()]),
        "libpython3.13.so.1.0 0\n"
    );
    assert_eq!(
        by_name_in_python(&["RTLD_DEEPBIND"]),
        "libpymonitoring.so 1\n"
    );
}

/// The README's account of a program that embeds CPython: linked with
/// `-lpymonitoring` before `-lpython3.13`, its calls by name reach this
/// library; linked the other way round, CPython's.
#[test]
fn link_order_decides_for_a_program_linked_with_both() {
    let libpython = python313_prefix().join("lib");
    let search = [
        "-Wl,--no-as-needed".to_owned(),
        format!("-L{}", libpython.display()),
        format!("-Wl,-rpath,{}", libpython.display()),
    ];
    let program = |name: &str, python_first: bool| {
        let mut p = CProgram {
            sources: vec![manifest_dir().join("tests/ctypes/by_name.c")],
            ..CProgram::from_c_tests("smoke.c")
        }
        .named(name)
        .define("BY_NAME_MAIN", None);
        // Flags come before the sources and `-lpymonitoring`, libs after.
        p.flags.extend(search.iter().cloned());
        if python_first {
            p.flags.push("-lpython3.13".into());
        } else {
            p.libs.push("-lpython3.13".into());
        }
        p.libs.push("-ldl".into());
        p.build()
    };
    assert_eq!(
        run_ok(&program("by_name_pymonitoring_first", false)),
        "libpymonitoring.so 1\n"
    );
    assert_eq!(
        run_ok(&program("by_name_python_first", true)),
        "libpython3.13.so.1.0\n"
    );
}

/// The README's account of an object compiled against CPython 3.13's header
/// (the ABI is 3.14's): its RAISE slot (3.13's id 10, STOP_ITERATION here)
/// gets the tools that set STOP_ITERATION, and its fire by name delivers
/// RAISE to them; the tool that set RAISE misses it.
#[test]
fn an_object_built_against_the_313_header_gets_another_events_tools() {
    let include = python313_include();
    let mut program = CProgram {
        sources: vec![
            manifest_dir().join("tests/ctypes/abi_313.c"),
            manifest_dir().join("tests/ctypes/object_313.c"),
        ],
        ..CProgram::from_c_tests("smoke.c")
    }
    .named("abi_313");
    program.flags.push(format!("-I{}", include.display()));
    let stdout = run_ok(&program.build());
    assert_eq!(
        stdout,
        "3.13 object: rc 0, active 4, RAISE to tool 1: 0, to tool 2: 1\n\
         3.14 object: rc 0, active 2, RAISE to tool 1: 1, to tool 2: 0\n"
    );
}
