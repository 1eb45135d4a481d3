//! The stress harness `c-tests/stress.c`: firing threads against threads
//! that change the registry, with every callback's data freed right after
//! remove + `PyMonitoring_WaitForCallbacks`.
//!
//! * natively for `STRESS_MS` milliseconds (default 2000);
//! * under valgrind's memcheck and helgrind for `STRESS_VALGRIND_MS`
//!   (default 1000), with zero errors (helgrind with the documented
//!   suppressions in `c-tests/helgrind.supp`);
//! * and two self-tests showing those runs do catch what they are for: a
//!   planted race is reported by helgrind despite the suppressions, a
//!   planted use-after-free by memcheck.
//!
//! Valgrind is part of the project's machines; set
//! `PYMONITORING_SKIP_VALGRIND=1` to skip the valgrind runs elsewhere.

mod c_programs;

use std::path::PathBuf;

use c_programs::{have, manifest_dir, run_ok, CProgram};

fn env_ms(var: &str, default: u64) -> String {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(default)
        .to_string()
}

fn build(name: &str, define: Option<&str>) -> PathBuf {
    let mut p = CProgram::from_c_tests("stress.c").named(name);
    if let Some(d) = define {
        p = p.define(d, None);
    }
    p.build()
}

/// Run `exe args` under `tool` (with `extra` options) and return (exit
/// code, valgrind's output).
fn valgrind(tool: &str, extra: &[&str], exe: &PathBuf, args: &[&str]) -> Option<(i32, String)> {
    if std::env::var_os("PYMONITORING_SKIP_VALGRIND").is_some() {
        eprintln!("PYMONITORING_SKIP_VALGRIND is set: skipping the {tool} run");
        return None;
    }
    assert!(
        have("valgrind"),
        "valgrind is not installed (apt-get install valgrind), or set PYMONITORING_SKIP_VALGRIND=1"
    );
    let mut wrapper = vec!["valgrind", "--error-exitcode=99"];
    let tool_opt = format!("--tool={tool}");
    wrapper.push(&tool_opt);
    wrapper.extend_from_slice(extra);
    let out = run_args(exe, &wrapper, args);
    Some(out)
}

fn run_args(exe: &PathBuf, wrapper: &[&str], args: &[&str]) -> (i32, String) {
    let mut cmd = std::process::Command::new(wrapper[0]);
    cmd.args(&wrapper[1..]).arg(exe).args(args);
    let out = cmd.output().expect("run valgrind");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

fn suppressions() -> String {
    format!(
        "--suppressions={}",
        manifest_dir().join("c-tests/helgrind.supp").display()
    )
}

#[test]
fn stress_native() {
    let exe = build("stress_native", None);
    let ms = env_ms("STRESS_MS", 2000);
    let out = run_ok(&exe, &[]);
    assert!(out.contains("stress: ok"), "{out}");
    // And with the requested duration and more threads.
    let out = std::process::Command::new(&exe)
        .args([ms.as_str(), "4", "3"])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    println!("{text}");
    assert!(out.status.success(), "{text}");
}

/// The same in `PY_MONITORING_OPT_LASTING_DISABLE`: per-tool restarts and
/// mode switches join the churn, a coverage tool DISABLEs LINE sites while
/// they race, and the site table is exact again afterwards (the harness's
/// final passes).
#[test]
fn stress_native_lasting() {
    let exe = build("stress_native", None);
    let ms = env_ms("STRESS_MS", 2000);
    let out = std::process::Command::new(&exe)
        .args([ms.as_str(), "4", "3", "1", "lasting"])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    println!("{text}");
    assert!(
        out.status.success() && text.contains("stress: ok"),
        "{text}"
    );
}

/// The lasting run with `PYMONITORING_INLINE`: the header's inline check
/// of remembered sites reads the table while DISABLEs and forgets race.
#[test]
fn stress_native_lasting_inline() {
    let exe = build("stress_native_inline", Some("PYMONITORING_INLINE"));
    let ms = env_ms("STRESS_MS", 2000);
    let out = std::process::Command::new(&exe)
        .args([ms.as_str(), "4", "3", "1", "lasting"])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    println!("{text}");
    assert!(
        out.status.success() && text.contains("stress: ok"),
        "{text}"
    );
}

#[test]
fn stress_under_memcheck() {
    let exe = build("stress_memcheck", None);
    let ms = env_ms("STRESS_VALGRIND_MS", 1000);
    let opts = ["--leak-check=full", "--errors-for-leak-kinds=definite"];
    if let Some((code, text)) = valgrind("memcheck", &opts, &exe, &[&ms, "2", "2", "0"]) {
        println!("{text}");
        assert_eq!(code, 0, "memcheck reported errors:\n{text}");
        assert!(text.contains("ERROR SUMMARY: 0 errors"), "{text}");
        assert!(text.contains("stress: ok"), "{text}");
    }
}

#[test]
fn stress_under_helgrind() {
    let exe = build("stress_helgrind", None);
    let ms = env_ms("STRESS_VALGRIND_MS", 1000);
    let supp = suppressions();
    if let Some((code, text)) = valgrind("helgrind", &[&supp], &exe, &[&ms, "2", "2", "0"]) {
        println!("{text}");
        assert_eq!(code, 0, "helgrind reported errors:\n{text}");
        assert!(text.contains("ERROR SUMMARY: 0 errors"), "{text}");
        assert!(text.contains("stress: ok"), "{text}");
    }
}

#[test]
fn helgrind_reports_a_planted_race_despite_the_suppressions() {
    let exe = build("stress_planted_race", Some("STRESS_PLANTED_RACE"));
    let supp = suppressions();
    if let Some((code, text)) = valgrind("helgrind", &[&supp], &exe, &["300", "2", "1"]) {
        assert_eq!(code, 99, "helgrind missed the planted race:\n{text}");
        assert!(text.contains("Possible data race"), "{text}");
        assert!(text.contains("stress.c"), "{text}");
    }
}

#[test]
fn memcheck_reports_a_planted_use_after_free() {
    let exe = build("stress_planted_uaf", Some("STRESS_PLANTED_UAF"));
    if let Some((code, text)) = valgrind("memcheck", &[], &exe, &["300", "1", "1"]) {
        assert_eq!(
            code, 99,
            "memcheck missed the planted use-after-free:\n{text}"
        );
        assert!(text.contains("Invalid read"), "{text}");
    }
}
