//! The C harnesses of `c-tests/` that have no topic file of their own, each
//! build run as its own process through the runner of
//! `tests/c_programs/harnesses.rs`, and the check that its table names every
//! program of `c-tests/`.

mod c_programs;

use c_programs::harnesses::{harness, skip_valgrind, Build, Checker, Run, HARNESSES};

build_tests! {
    smoke => "smoke" Exported,
    smoke_inline => "smoke" Inline,
    api_errors => "api_errors" Exported,
    api_errors_inline => "api_errors" Inline,
    api_errors_asan => "api_errors" Sanitized,
    api_registry => "api_registry" Exported,
    api_registry_inline => "api_registry" Inline,
    api_registry_asan => "api_registry" Sanitized,
    api_scope => "api_scope" Exported,
    api_scope_inline => "api_scope" Inline,
    api_scope_asan => "api_scope" Sanitized,
    api_fire => "api_fire" Exported,
    api_fire_inline => "api_fire" Inline,
    api_fire_asan => "api_fire" Sanitized,
    api_fire_rules => "api_fire_rules" Exported,
    api_fire_rules_inline => "api_fire_rules" Inline,
    api_fire_rules_asan => "api_fire_rules" Sanitized,
    api_threads => "api_threads" Exported,
    api_threads_inline => "api_threads" Inline,
    api_threads_asan => "api_threads" Sanitized,
    raised_count => "raised_count" Exported,
    raised_count_inline => "raised_count" Inline,
}

/// Every `c-tests/*.c` has a row in the table (and every row's file
/// exists), and every `c-tests/api_*.c` has its tests above.
#[test]
fn every_c_program_has_a_row() {
    let mut on_disk: Vec<String> = std::fs::read_dir(c_programs::manifest_dir().join("c-tests"))
        .expect("c-tests/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".c"))
        .collect();
    on_disk.sort();
    let mut in_table: Vec<String> = HARNESSES.iter().map(|h| h.file()).collect();
    in_table.sort();
    in_table.dedup();
    assert_eq!(on_disk, in_table, "c-tests/*.c (left) vs the table");
    let api: Vec<&str> = HARNESSES
        .iter()
        .filter(|h| h.name.starts_with("api_"))
        .map(|h| h.name)
        .collect();
    assert_eq!(
        api,
        [
            "api_errors",
            "api_registry",
            "api_scope",
            "api_fire",
            "api_fire_rules",
            "api_threads"
        ],
        "an api_ harness without its tests in tests/c_harnesses.rs"
    );
}

/// fork() during registry calls, during a callback and inside one: every
/// child finishes its registry calls, wait and fire (`c-tests/fork.c`).
#[test]
fn fork() {
    let run = Run::plain()
        .env_remove("PYMONITORING_RECORD")
        .env_remove("PYMONITORING_TRACE")
        .env_remove("PYMONITORING_COVERAGE");
    harness("fork").check_with(&run);
}

/// The same with the built-in tools switched on by environment variable.
#[test]
fn fork_with_builtin_tools() {
    let dir = c_programs::out_dir("fork_with_builtin_tools");
    let run = Run::plain()
        .env("PYMONITORING_RECORD", dir.join("events.jsonl"))
        .env("PYMONITORING_TRACE", dir.join("trace.json"))
        .env("PYMONITORING_COVERAGE", dir.join("coverage.info"));
    harness("fork").check_with(&run);
}

/// A wait from a thread-exit destructor waits; threads whose first call is
/// in a destructor keep the resident set flat (`c-tests/thread_exit.c`).
#[test]
fn thread_exit() {
    for stdout in harness("thread_exit").check() {
        println!("{stdout}");
    }
}

/// Threads whose first call is in a destructor, under valgrind's memcheck:
/// nothing leaks (fewer threads: memcheck is slow).
#[test]
fn thread_exit_memcheck() {
    if skip_valgrind() {
        return;
    }
    let run = Run::plain()
        .args(&["200", "no-rss"])
        .under(Checker::Memcheck("definite,indirect"));
    harness("thread_exit").check_build(Build::Exported, &run);
}
