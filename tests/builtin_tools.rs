//! The built-in tools end to end: examples/tools_demo.c (three threads
//! running a Cython-style program) with the tools started by C calls and by
//! environment variables in a child process; the files are checked with a
//! JSON parser and with `genhtml`.

mod c_programs;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use c_programs::{have, manifest_dir, succeeded, CProgram};
use serde_json::Value;

const THREADS: usize = 3;

fn demo() -> &'static Path {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    EXE.get_or_init(|| {
        CProgram {
            name: "tools_demo".into(),
            sources: vec![manifest_dir().join("examples/tools_demo.c")],
            defines: vec![],
            flags: vec![],
            libs: vec!["-lpthread".into()],
            cpp: false,
        }
        .build()
    })
}

fn source() -> PathBuf {
    manifest_dir().join("examples/tools_demo.pyx")
}

fn scratch(name: &str) -> PathBuf {
    let dir = c_programs::out_dir("builtin-tools").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn check_ok(out: &Output) {
    succeeded("tools_demo", out);
}

/// Run the demo with its tools started from C (`PyMonitoring_Start*`).
fn run_with_calls(dir: &Path) {
    let out = Command::new(demo())
        .env_remove("LD_LIBRARY_PATH")
        .arg(source())
        .arg(dir)
        .env_remove("PYMONITORING_RECORD")
        .env_remove("PYMONITORING_TRACE")
        .env_remove("PYMONITORING_COVERAGE")
        .output()
        .unwrap();
    check_ok(&out);
}

/// Per thread, the events a run of the demo's `main()` fires.
fn expected_counts() -> BTreeMap<&'static str, usize> {
    BTreeMap::from([
        ("PY_START", 8), // main, fact x4, countdown, safe_div, must_be_positive
        ("PY_RESUME", 3),
        ("PY_YIELD", 3),
        ("PY_RETURN", 7),
        ("PY_UNWIND", 1),
        ("RAISE", 3),
        ("EXCEPTION_HANDLED", 2),
        ("LINE", 33),
    ])
}

/// `tool`: the recorder's id (3 when started from C; from the variables,
/// the highest free id, 5).
fn check_recording(path: &Path, tool: u64) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut counts: HashMap<u64, BTreeMap<String, usize>> = HashMap::new();
    let mut last_time: HashMap<u64, u64> = HashMap::new();
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        for key in [
            "time", "thread", "tool", "event", "codelike", "offset", "lineno", "args",
        ] {
            assert!(v.get(key).is_some(), "no {key} in {line}");
        }
        assert_eq!(v["tool"], tool, "{line}");
        assert!(
            v["name"].is_string(),
            "every demo code-like is named: {line}"
        );
        let event = v["event"].as_str().unwrap().to_owned();
        match event.as_str() {
            "LINE" => assert!(v["lineno"].as_i64().unwrap() > 0),
            _ => assert_eq!(v["lineno"], -1),
        }
        if ["RAISE", "EXCEPTION_HANDLED", "PY_UNWIND"].contains(&event.as_str()) {
            let exc = v["args"]["exception"].as_str().unwrap();
            assert!(exc.starts_with("0x"), "{line}");
        }
        if event == "PY_RETURN" {
            assert!(v["args"]["retval"].is_string(), "{line}");
        }
        let time = v["time"].as_u64().unwrap();
        let last = last_time.entry(v["thread"].as_u64().unwrap()).or_insert(0);
        assert!(time >= *last, "time goes forward on each thread: {line}");
        *last = time;
        *counts
            .entry(v["thread"].as_u64().unwrap())
            .or_default()
            .entry(event)
            .or_default() += 1;
    }
    assert_eq!(counts.len(), THREADS, "one thread number per thread");
    let want: BTreeMap<String, usize> = expected_counts()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    for (thread, got) in counts {
        assert_eq!(got, want, "events of thread {thread}");
    }
}

/// The trace parses, every thread's B/E slices balance and nest, and the
/// exception events are instants.
fn check_trace(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let events: Vec<Value> = serde_json::from_str(&text).expect("the trace is one JSON array");
    let mut stacks: HashMap<u64, Vec<String>> = HashMap::new();
    let mut slices: HashMap<u64, usize> = HashMap::new();
    let mut instants = BTreeMap::new();
    let mut last_ts: HashMap<u64, f64> = HashMap::new();
    for e in &events {
        let tid = e["tid"].as_u64().unwrap();
        assert!(e["pid"].is_u64());
        let ph = e["ph"].as_str().unwrap();
        if ph == "M" {
            continue;
        }
        let ts = e["ts"].as_f64().unwrap();
        let last = last_ts.entry(tid).or_insert(0.0);
        assert!(ts >= *last, "timestamps go forward on thread {tid}");
        *last = ts;
        let name = e["name"].as_str().unwrap().to_owned();
        match ph {
            "B" => {
                assert!(!name.starts_with("0x"), "named code-likes: {e}");
                stacks.entry(tid).or_default().push(name);
                *slices.entry(tid).or_default() += 1;
            }
            "E" => {
                let open = stacks.get_mut(&tid).and_then(|s| s.pop());
                assert_eq!(
                    open.as_deref(),
                    Some(name.as_str()),
                    "E closes the innermost B"
                );
            }
            "i" => *instants.entry(name).or_insert(0) += 1,
            other => panic!("unexpected phase {other}"),
        }
    }
    assert_eq!(stacks.len(), THREADS);
    for (tid, stack) in &stacks {
        assert!(stack.is_empty(), "thread {tid} left {stack:?} open");
    }
    // Per thread: 8 starts and 3 resumes, each a slice.
    for (tid, n) in &slices {
        assert_eq!(*n, 11, "slices of thread {tid}");
    }
    assert_eq!(
        instants,
        BTreeMap::from([
            ("EXCEPTION_HANDLED".to_owned(), 2 * THREADS),
            ("RAISE".to_owned(), 3 * THREADS)
        ])
    );
    let threads = events
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .count();
    assert_eq!(threads, THREADS);
}

fn check_lcov(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let record = text
        .split("end_of_record\n")
        .find(|r| r.contains(&format!("SF:{}\n", source().display())))
        .unwrap_or_else(|| panic!("no record for the demo source:\n{text}"));
    let lines: Vec<(u32, u64)> = record
        .lines()
        .filter_map(|l| l.strip_prefix("DA:"))
        .map(|l| {
            let (line, hits) = l.split_once(',').unwrap();
            (line.parse().unwrap(), hits.parse().unwrap())
        })
        .collect();
    let executed = [
        4, 5, 6, 10, 11, 12, 13, 17, 18, 19, 20, 24, 25, 30, 31, 32, 33, 34, 35, 36, 37,
    ];
    let got: Vec<u32> = lines.iter().map(|(l, _)| *l).collect();
    assert_eq!(got, executed);
    // DISABLE: one callback per line slot, and each thread has its own.
    assert!(
        lines.iter().all(|(_, hits)| *hits == THREADS as u64),
        "{lines:?}"
    );
    for f in ["fact", "countdown", "safe_div", "must_be_positive", "main"] {
        assert!(record.contains(&format!(",{f}\n")), "function {f}");
    }
    assert!(record.contains("FNDA:12,fact\n"), "4 calls per thread");
    assert!(record.contains(&format!("LF:{}\nLH:{}\n", executed.len(), executed.len())));
    genhtml_accepts(path);
}

fn genhtml_accepts(path: &Path) {
    assert!(
        have("genhtml"),
        "genhtml is needed to check the lcov file (Debian package lcov; .ci/run installs it)"
    );
    let html = path.parent().unwrap().join("html");
    let out = Command::new("genhtml")
        .arg("--quiet")
        .arg("--output-directory")
        .arg(&html)
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "genhtml rejected {}:\n{}{}",
        path.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(html.join("index.html").exists());
    let page = source()
        .parent()
        .unwrap()
        .strip_prefix("/")
        .unwrap()
        .join("tools_demo.pyx.gcov.html");
    let found = [
        html.join(&page),
        html.join("examples/tools_demo.pyx.gcov.html"),
    ]
    .iter()
    .any(|p| p.exists());
    assert!(
        found,
        "genhtml wrote no page for the source under {}",
        html.display()
    );
}

#[test]
fn tools_started_from_c_write_all_three_files() {
    let dir = scratch("calls");
    run_with_calls(&dir);
    check_recording(&dir.join("events.jsonl"), 3);
    check_trace(&dir.join("trace.json"));
    check_lcov(&dir.join("coverage.info"));
}

#[test]
fn environment_variables_start_the_tools_in_a_child_process() {
    let dir = scratch("env");
    let out = Command::new(demo())
        .env_remove("LD_LIBRARY_PATH")
        .arg(source())
        .env("PYMONITORING_RECORD", dir.join("events.jsonl"))
        .env("PYMONITORING_TRACE", dir.join("trace-%p.json"))
        .env("PYMONITORING_COVERAGE", dir.join("coverage.info"))
        .output()
        .unwrap();
    check_ok(&out);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    check_recording(&dir.join("events.jsonl"), 5);
    // Completed at exit; %p is the child's pid.
    let traces: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("trace-")
        })
        .collect();
    assert_eq!(traces.len(), 1);
    assert_ne!(
        traces[0].file_name().unwrap().to_string_lossy(),
        "trace-%p.json"
    );
    check_trace(&traces[0]);
    check_lcov(&dir.join("coverage.info"));
}

#[test]
fn environment_tool_ids_and_count_mode() {
    let dir = scratch("env-ids");
    let out = Command::new(demo())
        .env_remove("LD_LIBRARY_PATH")
        .arg(source())
        .env("PYMONITORING_COVERAGE", dir.join("coverage.info"))
        .env("PYMONITORING_COVERAGE_TOOL", "4")
        .env("PYMONITORING_COVERAGE_MODE", "count")
        .env("PYMONITORING_TRACE", dir.join("trace.json"))
        .env("PYMONITORING_TRACE_TOOL", "7")
        .env_remove("PYMONITORING_RECORD")
        .output()
        .unwrap();
    check_ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr,
        format!(
            "pymonitoring: PYMONITORING_TRACE: profiler ({}): PYMONITORING_TRACE_TOOL=7 is not a tool id from 0 to 5\n",
            dir.join("trace.json").display()
        )
    );
    assert!(!dir.join("trace.json").exists());
    let text = std::fs::read_to_string(dir.join("coverage.info")).unwrap();
    // Count mode: loop lines count every pass (line 10 runs 4 times per
    // countdown), three threads.
    assert!(text.contains("\nDA:10,12\n"), "{text}");
    assert!(text.contains("\nDA:4,12\n"), "{text}");
    genhtml_accepts(&dir.join("coverage.info"));
}
