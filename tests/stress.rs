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

use c_programs::harnesses::{harness, skip_valgrind, Build, Checker, Run};

fn env_ms(var: &str, default: u64) -> String {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(default)
        .to_string()
}

#[test]
fn stress_native() {
    let ms = env_ms("STRESS_MS", 2000);
    harness("stress").check();
    // And with the requested duration and more threads.
    let out = harness("stress").check_build(Build::Exported, &Run::plain().args(&[&ms, "4", "3"]));
    println!("{out}");
}

/// The same in `PY_MONITORING_OPT_LASTING_DISABLE`: per-tool restarts and
/// mode switches join the churn, a coverage tool DISABLEs LINE sites while
/// they race, and the site table is exact again afterwards (the harness's
/// final passes).
#[test]
fn stress_native_lasting() {
    lasting_run(Build::Exported);
}

/// The lasting run of `build`: 4 firers, 3 mutators, a callback required.
fn lasting_run(build: Build) {
    let ms = env_ms("STRESS_MS", 2000);
    let run = Run::plain().args(&[&ms, "4", "3", "1", "lasting"]);
    let out = harness("stress").check_build(build, &run);
    println!("{out}");
}

/// The run under `checker`: shorter, 2 firers and 2 mutators, no
/// requirement that a callback ran (valgrind serialises the threads).
fn under(checker: Checker) {
    if skip_valgrind() {
        return;
    }
    let ms = env_ms("STRESS_VALGRIND_MS", 1000);
    let run = Run::plain().args(&[&ms, "2", "2", "0"]).under(checker);
    harness("stress").check_build(Build::Exported, &run);
}

/// The lasting run with `PYMONITORING_INLINE`: the header's inline check
/// of remembered sites reads the table while DISABLEs and forgets race.
#[test]
fn stress_native_lasting_inline() {
    lasting_run(Build::Inline);
}

#[test]
fn stress_under_memcheck() {
    under(Checker::Memcheck("definite"));
}

#[test]
fn stress_under_helgrind() {
    under(Checker::Helgrind);
}

#[test]
fn helgrind_reports_a_planted_race_despite_the_suppressions() {
    if skip_valgrind() {
        return;
    }
    let run = Run::plain().args(&["300", "2", "1"]);
    let text = harness("stress_planted_race").check_caught(Checker::Helgrind, &run);
    assert!(text.contains("Possible data race"), "{text}");
    assert!(text.contains("stress.c"), "{text}");
}

#[test]
fn memcheck_reports_a_planted_use_after_free() {
    if skip_valgrind() {
        return;
    }
    let run = Run::plain().args(&["300", "1", "1"]);
    let text =
        harness("stress_planted_uaf").check_caught(Checker::Memcheck("definite,possible"), &run);
    assert!(text.contains("Invalid read"), "{text}");
}
