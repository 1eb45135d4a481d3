//! `c-tests/enter_scope_paths.c`: EnterScope through the exported function
//! and through the header's inline fast path (`PYMONITORING_INLINE`); and
//! `c-tests/enter_scope_idle.c`: the refresh while no tool has an event (the
//! library's idle path) gives the general refresh's result; and
//! `c-tests/enter_scope_refresh.c`: the header's inline refresh by the masks
//! gives the library's, slot by slot.

mod c_programs;

build_tests! {
    enter_scope_exported => "enter_scope_paths" Exported,
    enter_scope_inline => "enter_scope_paths" Inline,
    enter_scope_idle_exported => "enter_scope_idle" Exported,
    enter_scope_idle_inline => "enter_scope_idle" Inline,
    enter_scope_refresh_exported => "enter_scope_refresh" Exported,
    enter_scope_refresh_inline => "enter_scope_refresh" Inline,
}

/// `c-tests/enter_scope_refresh.c` with the header's inline EnterScope built
/// the other ways its route test can be compiled: portable C (what other
/// targets get; `_PYMONITORING_ROUTE_PORTABLE` selects it on x86-64), its
/// x86-64 asm in Intel syntax (`-masm=intel`), at -O2 (the constant arrays
/// folded as a release build folds them), and by clang at -O2.
#[test]
fn enter_scope_refresh_inline_variants() {
    use c_programs::{run_ok, CProgram};
    let variants: [(&str, Option<&str>, Option<&str>); 3] = [
        ("portable", Some("_PYMONITORING_ROUTE_PORTABLE"), None),
        ("intel", None, Some("-masm=intel")),
        ("o2", None, Some("-O2")),
    ];
    for (name, define, flag) in variants {
        let mut program = CProgram::from_c_tests("enter_scope_refresh.c")
            .named(&format!("enter_scope_refresh_{name}"))
            .define("PYMONITORING_INLINE", None);
        if let Some(define) = define {
            program = program.define(define, None);
        }
        if let Some(flag) = flag {
            program = program.flag(flag);
        }
        let exe = program.build();
        assert_eq!(run_ok(&exe), "enter_scope_refresh: ok\n", "{name}");
    }
    let exe = c_programs::out_dir("enter-scope-refresh-clang").join("inline");
    let built = std::process::Command::new("clang")
        .args([
            "-std=c11",
            "-O2",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-DPYMONITORING_INLINE",
        ])
        .arg("-I")
        .arg(c_programs::include_dir())
        .arg("-I")
        .arg(c_programs::manifest_dir().join("c-tests"))
        .arg(c_programs::manifest_dir().join("c-tests/enter_scope_refresh.c"))
        .arg("-o")
        .arg(&exe)
        .args(c_programs::library_link_args())
        .output()
        .expect("run clang (is it installed?)");
    assert!(
        built.status.success(),
        "clang:\n{}",
        String::from_utf8_lossy(&built.stderr)
    );
    assert_eq!(run_ok(&exe), "enter_scope_refresh: ok\n", "clang");
}
