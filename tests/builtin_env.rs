//! The built-in tools switched on by environment variables next to a
//! program with tools of its own (c-tests/builtin_env.c), each run its own
//! process: the program may claim any id, both its tools and the built-in
//! ones get every event, errors name their tool, variable and file, and a
//! forked child never writes the parent's data (docs/TOOLS.md).

mod c_programs;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use c_programs::harnesses::{harness, Build, Run};
use c_programs::{have, succeeded};
use serde_json::Value;

const ROUNDS: usize = 5;

/// The program, loading the library its run path names: cargo's
/// `LD_LIBRARY_PATH` may put an older copy first.
fn program() -> Command {
    let run = Run::plain().env_remove("LD_LIBRARY_PATH");
    harness("builtin_env").command(Build::Exported, &run)
}

fn scratch(name: &str) -> PathBuf {
    let dir = c_programs::out_dir("builtin-env").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Run the program with the three variables naming files in `dir`.
fn run(dir: &Path, args: &[&str], extra: &[(&str, &str)]) -> Output {
    let mut cmd = program();
    cmd.args(args)
        .env("PYMONITORING_RECORD", dir.join("events.jsonl"))
        .env("PYMONITORING_TRACE", dir.join("trace.json"))
        .env("PYMONITORING_COVERAGE", dir.join("coverage.info"))
        .env_remove("PYMONITORING_RECORD_TOOL")
        .env_remove("PYMONITORING_TRACE_TOOL")
        .env_remove("PYMONITORING_COVERAGE_TOOL")
        .env_remove("PYMONITORING_COVERAGE_MODE")
        .env_remove("PYMONITORING_OPTIONS");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn check_ok(out: &Output) {
    succeeded("builtin_env", out);
}

/// The recording: every line one JSON object; returns the events by name
/// and the tool ids seen.
fn recording(path: &Path) -> (BTreeMap<String, usize>, Vec<u64>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut counts = BTreeMap::new();
    let mut tools = Vec::new();
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        *counts
            .entry(v["event"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
        let tool = v["tool"].as_u64().unwrap();
        if !tools.contains(&tool) {
            tools.push(tool);
        }
    }
    (counts, tools)
}

fn round_counts(rounds: usize) -> BTreeMap<String, usize> {
    BTreeMap::from([
        ("PY_START".to_owned(), 2 * rounds),
        ("LINE".to_owned(), 4 * rounds),
        ("PY_RETURN".to_owned(), 2 * rounds),
        ("RAISE".to_owned(), rounds),
    ])
}

/// The trace: one JSON array whose B/E slices balance per thread; returns
/// the number of slices (B events).
fn trace_slices(path: &Path) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    let events: Vec<Value> =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: the trace is\n{text}"));
    let mut depth: BTreeMap<u64, i64> = BTreeMap::new();
    let mut slices = 0;
    for e in &events {
        let d = depth.entry(e["tid"].as_u64().unwrap()).or_insert(0);
        match e["ph"].as_str().unwrap() {
            "B" => {
                *d += 1;
                slices += 1;
            }
            "E" => {
                *d -= 1;
                assert!(*d >= 0, "E without B: {e}");
            }
            _ => {}
        }
    }
    assert!(depth.values().all(|d| *d == 0), "{depth:?}");
    slices
}

/// The tracefile: lcov's own parser and genhtml accept it.
fn check_lcov(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    for line in text.lines() {
        let key = line.split(':').next().unwrap();
        assert!(
            [
                "TN",
                "SF",
                "FN",
                "FNDA",
                "FNF",
                "FNH",
                "DA",
                "LF",
                "LH",
                "end_of_record"
            ]
            .contains(&key),
            "not an lcov line: {line:?}"
        );
    }
    assert!(
        have("lcov") && have("genhtml"),
        "lcov and genhtml are needed (Debian package lcov; .ci/run installs it)"
    );
    let out = Command::new("lcov")
        .arg("--summary")
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "lcov --summary: {}", stderr(&out));
    let html = path.with_extension("html");
    let out = Command::new("genhtml")
        .args(["--quiet", "--ignore-errors", "source", "--output-directory"])
        .arg(&html)
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "genhtml: {}", stderr(&out));
    text
}

#[test]
fn a_program_may_claim_any_id_and_every_tool_sees_everything() {
    for tool in 0..=5 {
        let dir = scratch(&format!("claim-{tool}"));
        let out = run(&dir, &["claim", &tool.to_string()], &[]);
        check_ok(&out);
        assert_eq!(stderr(&out), "", "claim {tool}");
        let (counts, tools) = recording(&dir.join("events.jsonl"));
        assert_eq!(counts, round_counts(ROUNDS), "claim {tool}");
        assert_eq!(tools.len(), 1, "one id for the recorder: {tools:?}");
        assert_ne!(tools[0], tool as u64, "the recorder stepped aside");
        assert_eq!(trace_slices(&dir.join("trace.json")), 2 * ROUNDS);
        let lcov = check_lcov(&dir.join("coverage.info"));
        for da in ["DA:2,", "DA:3,", "DA:6,", "DA:7,"] {
            assert!(lcov.contains(da), "{da} in\n{lcov}");
        }
        assert!(lcov.contains("FNH:2\n"), "{lcov}");
    }
}

#[test]
fn a_program_claiming_every_id_stops_the_tools_with_one_line_each() {
    let dir = scratch("claim-all");
    let out = run(&dir, &["claim-all"], &[]);
    check_ok(&out);
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    let path = |f: &str| dir.join(f).display().to_string();
    assert_eq!(
        lines,
        [
            format!("pymonitoring: PYMONITORING_COVERAGE: coverage on tool 3 ({}): stopped: the program claimed tool 3 and no other tool id was free; the file holds the events until now (no LINE event of a named code-like was seen; {} was not written)", path("coverage.info"), path("coverage.info")),
            format!("pymonitoring: PYMONITORING_TRACE: profiler on tool 4 ({}): stopped: the program claimed tool 4 and no other tool id was free; the file holds the events until now", path("trace.json")),
            format!("pymonitoring: PYMONITORING_RECORD: recorder on tool 5 ({}): stopped: the program claimed tool 5 and no other tool id was free; the file holds the events until now", path("events.jsonl")),
        ]
    );
    // Complete, valid, and empty: they stopped before the first event;
    // coverage, with no line to report, wrote no file.
    assert!(recording(&dir.join("events.jsonl")).0.is_empty());
    assert_eq!(trace_slices(&dir.join("trace.json")), 0);
    assert!(!dir.join("coverage.info").exists());
}

#[test]
fn pinned_ids_still_pin() {
    let dir = scratch("pinned");
    let out = run(
        &dir,
        &["claim", "0"],
        &[
            ("PYMONITORING_RECORD_TOOL", "1"),
            ("PYMONITORING_TRACE_TOOL", "2"),
        ],
    );
    check_ok(&out);
    assert_eq!(stderr(&out), "");
    assert_eq!(recording(&dir.join("events.jsonl")).1, [1]);
    // A pinned id is not given up: the program's claim of it fails as for
    // any id in use.
    let out = run(&dir, &["claim", "2"], &[("PYMONITORING_TRACE_TOOL", "2")]);
    assert!(!out.status.success());
    assert!(
        stderr(&out)
            .contains("PyMonitoring_UseToolId(tool, \"program\") failed: tool 2 is already in use"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_forked_child_leaves_the_parents_files_alone() {
    let dir = scratch("fork");
    let out = run(&dir, &["fork"], &[]);
    check_ok(&out);
    assert_eq!(stderr(&out), "");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let thread_rounds: usize = stdout
        .trim()
        .strip_prefix("thread_rounds ")
        .unwrap()
        .parse()
        .unwrap();
    // The parent's main thread fired 2 * ROUNDS rounds, its other thread
    // `thread_rounds`; twenty children fired ROUNDS each, none recorded.
    let rounds = 2 * ROUNDS + thread_rounds;
    let (counts, _) = recording(&dir.join("events.jsonl"));
    assert_eq!(counts, round_counts(rounds));
    assert_eq!(trace_slices(&dir.join("trace.json")), 2 * rounds);
    check_lcov(&dir.join("coverage.info"));
    let files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".html"))
        .collect();
    assert_eq!(files.len(), 3, "no file from a child: {files:?}");
}

#[test]
fn a_failed_start_changes_nothing() {
    let dir = scratch("failed");
    let out = program()
        .args(["failed", dir.to_str().unwrap()])
        .env_remove("PYMONITORING_RECORD")
        .env_remove("PYMONITORING_TRACE")
        .env_remove("PYMONITORING_COVERAGE")
        .output()
        .unwrap();
    check_ok(&out);
}

#[test]
fn newlines_commas_and_bad_utf8_in_names_keep_the_files_valid() {
    let dir = scratch("names");
    let out = run(&dir, &["names"], &[]);
    check_ok(&out);
    assert_eq!(stderr(&out), "");
    let text = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    let names: Vec<String> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["event"] == "PY_START")
        .map(|v| v["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names[0], "out\ner,\"x\"\u{fffd}");
    assert_eq!(names[1], "1,2\r\t");
    trace_slices(&dir.join("trace.json"));
    let lcov = check_lcov(&dir.join("coverage.info"));
    assert!(lcov.contains("SF:dir\\n/we,ird\u{fffd}.pyx\n"), "{lcov}");
    assert!(lcov.contains("FN:1,out\\ner;\"x\"\u{fffd}\n"), "{lcov}");
    assert!(lcov.contains("FN:5,1;2\\r\\t\n"), "{lcov}");
}

#[test]
fn output_paths_with_newlines_and_bad_utf8_work_and_are_reported_on_one_line() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dir = scratch("paths");
    let odd = dir.join(OsStr::from_bytes(b"ev\nents\xff.jsonl"));
    let out = program()
        .args(["names"])
        .env("PYMONITORING_RECORD", &odd)
        .env(
            "PYMONITORING_TRACE",
            dir.join(OsStr::from_bytes(b"no\ndir/t.json")),
        )
        .env_remove("PYMONITORING_COVERAGE")
        .output()
        .unwrap();
    check_ok(&out);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "pymonitoring: PYMONITORING_TRACE: profiler ({}/no\\ndir/t.json): cannot create {}/no\\ndir/t.json: ",
            dir.display(),
            dir.display()
        )),
        "{err}"
    );
    assert_eq!(recording(&odd).0, round_counts(ROUNDS));
}

#[test]
fn every_failing_tool_is_reported_with_its_variable_and_file() {
    let dir = scratch("fsize");
    let out = run(&dir, &["fsize"], &[]);
    check_ok(&out);
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 3, "{err}");
    for (var, what, tool, file) in [
        ("PYMONITORING_RECORD", "recorder", 5, "events.jsonl"),
        ("PYMONITORING_TRACE", "profiler", 4, "trace.json"),
        ("PYMONITORING_COVERAGE", "coverage", 3, "coverage.info"),
    ] {
        let path = dir.join(file).display().to_string();
        let want =
            format!("pymonitoring: {var}: {what} on tool {tool} ({path}): cannot write {path}: ");
        assert!(
            lines.iter().any(|l| l.starts_with(&want)),
            "{want}\nnot in\n{err}"
        );
    }
}

#[test]
fn one_file_for_two_variables_is_an_error_at_start() {
    let dir = scratch("same");
    let out = program()
        .args(["claim", "0"])
        .env("PYMONITORING_RECORD", dir.join("out"))
        .env("PYMONITORING_TRACE", dir.join("out"))
        .env("PYMONITORING_COVERAGE", dir.join("coverage.info"))
        .output()
        .unwrap();
    check_ok(&out);
    let out_path = dir.join("out").display().to_string();
    assert_eq!(
        stderr(&out),
        format!(
            "pymonitoring: PYMONITORING_RECORD: recorder ({out_path}): not started: PYMONITORING_TRACE names the same file\n\
             pymonitoring: PYMONITORING_TRACE: profiler ({out_path}): not started: PYMONITORING_RECORD names the same file\n"
        )
    );
    assert!(!dir.join("out").exists());
    check_lcov(&dir.join("coverage.info"));
}

#[test]
fn coverage_with_nothing_named_says_why_and_leaves_no_empty_file() {
    let dir = scratch("empty-coverage");
    let out = program()
        .args(["unnamed"])
        .env("PYMONITORING_COVERAGE", dir.join("coverage.info"))
        .env_remove("PYMONITORING_RECORD")
        .env_remove("PYMONITORING_TRACE")
        .output()
        .unwrap();
    check_ok(&out);
    let path = dir.join("coverage.info").display().to_string();
    assert_eq!(
        stderr(&out),
        format!(
            "pymonitoring: PYMONITORING_COVERAGE: coverage on tool 5 ({path}): no code-like was named with PyMonitoring_RegisterCodeName (Rust: register_code_name), so no line has a file; {path} was not written\n"
        )
    );
    assert!(!dir.join("coverage.info").exists());
}
