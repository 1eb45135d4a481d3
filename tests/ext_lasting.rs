//! `PyMonitoring_RestartToolEvents` and `PY_MONITORING_OPT_LASTING_DISABLE`
//! through the C ABI (`c-tests/ext_lasting.c`), each run its own process,
//! with the exported fire functions and with the header's inline ones.

mod c_programs;

use c_programs::harnesses::harness;
use c_programs::{run_ok, CProgram};

#[test]
fn exact_sequences_cython_states_table_and_bad_input() {
    harness("ext_lasting").check();
}

/// The README's example (`examples/lasting.c`, quoted there verbatim)
/// builds and prints what its comments say.
#[test]
fn readme_example() {
    let source =
        std::fs::read_to_string(c_programs::manifest_dir().join("examples/lasting.c")).unwrap();
    let readme = std::fs::read_to_string(c_programs::manifest_dir().join("README.md")).unwrap();
    assert!(
        readme.contains(source.trim_end()),
        "README.md does not quote examples/lasting.c"
    );
    let exe = CProgram {
        sources: vec![c_programs::manifest_dir().join("examples/lasting.c")],
        ..CProgram::from_c_tests("ext_lasting.c")
    }
    .named("example_lasting")
    .build();
    let out = run_ok(&exe);
    assert_eq!(out, "lines covered: 3, callbacks: 3\nafter restart: 6\n");
}

/// Line coverage of Cython-style code in the lasting mode
/// (`c-tests/ext_coverage.c`: recursion, a loop, a generator, two
/// threads): a DISABLE-ing coverage tool sees every line exactly once, with
/// the exported fire functions and with the header's inline ones.
#[test]
fn ext_coverage_sees_every_line_once() {
    harness("ext_coverage").check();
}

/// `c-tests/ext_lasting.c` built by clang too (the harness table builds it
/// with the default C compiler), exported and with the header's inline
/// functions and fire macros: the site caches' sequences hold there as well.
#[test]
fn ext_lasting_with_clang() {
    use std::process::Command;
    let out = c_programs::out_dir("ext-lasting-clang");
    for inline in [false, true] {
        let exe = out.join(if inline { "inline" } else { "exported" });
        let mut cmd = Command::new("clang");
        cmd.args(["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror"])
            .arg("-I")
            .arg(c_programs::include_dir())
            .arg("-I")
            .arg(c_programs::manifest_dir().join("c-tests"));
        if inline {
            cmd.arg("-DPYMONITORING_INLINE");
        }
        cmd.arg(c_programs::manifest_dir().join("c-tests/ext_lasting.c"))
            .arg("-o")
            .arg(&exe)
            .args(c_programs::library_link_args())
            .arg("-lpthread");
        let built = cmd.output().expect("run clang (is it installed?)");
        assert!(
            built.status.success(),
            "clang (inline: {inline}):\n{}",
            String::from_utf8_lossy(&built.stderr)
        );
        assert_eq!(run_ok(&exe), "ext_lasting: ok\n", "inline: {inline}");
    }
}

/// `c-tests/ext_lasting.c` with the header's inline functions built the
/// other ways the header's site check can be compiled: its portable C code
/// (what other targets and compilers get; `_PYMONITORING_SITE_PORTABLE`
/// selects it on x86-64), without the site caches
/// (`PYMONITORING_NO_SITE_CACHE`), and its x86-64 asm in Intel syntax
/// (`-masm=intel`).
#[test]
fn ext_lasting_inline_variants() {
    let variants: [(&str, Option<&str>, Option<&str>); 3] = [
        ("portable", Some("_PYMONITORING_SITE_PORTABLE"), None),
        ("no_cache", Some("PYMONITORING_NO_SITE_CACHE"), None),
        ("intel", None, Some("-masm=intel")),
    ];
    for (name, define, flag) in variants {
        let mut program = CProgram::from_c_tests("ext_lasting.c")
            .named(&format!("ext_lasting_{name}"))
            .define("PYMONITORING_INLINE", None);
        if let Some(define) = define {
            program = program.define(define, None);
        }
        if let Some(flag) = flag {
            program.flags.push(flag.into());
        }
        let exe = program.build();
        assert_eq!(run_ok(&exe), "ext_lasting: ok\n", "{name}");
    }
}
