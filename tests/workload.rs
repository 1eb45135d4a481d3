//! `bench/workload.c` and `bench/workload.py` (the end-to-end workload of
//! BENCHMARKS.md, `bench/workload.sh`) at a tiny size: every build and
//! configuration runs with `--check`, which fails on a wrong result or a
//! wrong count of what the tools saw, and the counts are checked here too.

mod c_programs;

use std::path::PathBuf;
use std::process::Command;

use c_programs::{manifest_dir, succeeded, CProgram};

const FIB: &str = "12";
const LOOP: &str = "2000";
/// fib(12): 2 * fib(13) - 1 calls.
const CALLS: u64 = 465;

fn workload(variant: &str) -> PathBuf {
    let mut program = CProgram {
        name: format!("workload_{variant}"),
        sources: vec![manifest_dir().join("bench/workload.c")],
        defines: vec![],
        flags: vec!["-O2".into()],
        libs: vec![],
        cpp: false,
    };
    match variant {
        "nomon" => program = program.define("WL_NOMON", None),
        "inline" => program = program.define("PYMONITORING_INLINE", None),
        "inline_helper" => {
            program = program
                .define("PYMONITORING_INLINE", None)
                .define("WL_LINE_HELPER", None)
        }
        _ => {}
    }
    program.build()
}

/// The `counts` line's `key=value` fields.
fn counts(stdout: &str) -> Vec<(String, String)> {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("counts "))
        .unwrap_or_else(|| panic!("no counts line in {stdout}"));
    line.split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn field<'a>(c: &'a [(String, String)], key: &str) -> &'a str {
    &c.iter().find(|(k, _)| k == key).expect(key).1
}

fn run(exe: &PathBuf, config: &str, body: &str) -> Vec<(String, String)> {
    let out = Command::new(exe)
        .args([config, body, FIB, LOOP, "--check"])
        .output()
        .expect("run the workload");
    counts(&succeeded(
        &format!("{} {config} {body}", exe.display()),
        &out,
    ))
}

#[test]
fn workload_every_configuration_counts_right() {
    let nomon = workload("nomon");
    for body in ["tight", "work"] {
        let c = run(&nomon, "none", body);
        assert_eq!(field(&c, "lines"), "0/7");
    }
    for variant in ["exported", "inline", "inline_helper"] {
        let exe = workload(variant);
        for body in ["tight", "work"] {
            for config in ["none", "freed"] {
                let c = run(&exe, config, body);
                assert_eq!(field(&c, "callbacks"), "0", "{variant} {config}");
            }
            // CPython's rule for the C API: DISABLE ends the activation's
            // LINE events, so each function's first line only.
            let c = run(&exe, "cov_disable", body);
            assert_eq!(field(&c, "lines"), "2/7");
            assert_eq!(field(&c, "callbacks"), (CALLS + 1).to_string());
            // The lasting mode: at most one callback per site (checked by
            // the program), every first line.
            let c = run(&exe, "cov_lasting", body);
            let seen: u32 = field(&c, "lines")
                .split('/')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            assert!((2..=7).contains(&seen), "{variant}: {seen}");
            let c = run(&exe, "cov_never", body);
            assert_eq!(field(&c, "lines"), "7/7");
            let c = run(&exe, "profiler", body);
            assert_eq!(field(&c, "starts"), (CALLS + 1).to_string());
            assert_eq!(field(&c, "returns"), (CALLS + 1).to_string());
            run(&exe, "recorder", body);
        }
    }
}

/// The same module on CPython 3.13.0 (found with `pyenv prefix 3.13.0`, as
/// `bench/workload.sh` finds it).
#[test]
fn workload_py_every_configuration_counts_right() {
    let out = Command::new("pyenv")
        .args(["prefix", "3.13.0"])
        .output()
        .expect("pyenv (CPython 3.13.0 is needed for the workload's CPython side)");
    assert!(out.status.success(), "pyenv prefix 3.13.0 failed");
    let python = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
        .join("bin")
        .join("python3.13");
    assert!(python.exists(), "{} not found", python.display());
    for config in ["none", "line_disable", "line_never", "profiler", "settrace"] {
        let out = Command::new(&python)
            .arg(manifest_dir().join("bench/workload.py"))
            .args([config, FIB, LOOP, "--check"])
            .output()
            .expect("run python");
        let c = counts(&succeeded(&format!("workload.py {config}"), &out));
        let want = if config.starts_with("line") || config == "settrace" {
            "7/7"
        } else {
            "0/7"
        };
        assert_eq!(field(&c, "lines"), want, "{config}");
    }
}
