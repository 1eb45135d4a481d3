//! The README's demo builds, prints the event stream and the summary, and
//! has the built-in tools write a JSONL log, a Chrome trace and an lcov file.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

/// Each run of the example rebuilds its C program in one place: one at a
/// time.
static DEMO: Mutex<()> = Mutex::new(());

#[test]
fn demo_prints_events_and_summary() {
    let _one = DEMO.lock().unwrap_or_else(|e| e.into_inner());
    let outdir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("demo-test-output");
    let _ = std::fs::remove_dir_all(&outdir);
    std::fs::create_dir_all(&outdir).unwrap();
    let out = Command::new(env!("CARGO"))
        .args(["run", "-q", "--example", "demo", "--"])
        .arg(&outdir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed: {}\n{}",
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    for expected in [
        "unmonitored: fact(5) = 120",
        "fact(3) = 6",
        "PY_YIELD          countdown offset=0  arg=2",
        "EXCEPTION_HANDLED safe_div  offset=3  arg=ZeroDivisionError",
        "PY_UNWIND         check     offset=0  arg=ValueError",
        "check(-1) raised ValueError",
        "fact            3      6          0       0",
        "countdown       1      7          0       2",
        "safe_div        1      4          1       0",
        "check           1      2          1       0",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }

    // The built-in tools saw the same run.
    let jsonl = std::fs::read_to_string(outdir.join("events.jsonl")).expect("events.jsonl");
    let events: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let count = |name: &str| events.iter().filter(|e| e["event"] == name).count();
    assert_eq!(count("PY_START"), 6, "fact x3, countdown, safe_div, check");
    assert_eq!(count("PY_YIELD"), 2);
    assert_eq!(count("RAISE"), 2);
    assert_eq!(count("PY_UNWIND"), 1);
    assert!(
        events.iter().all(|e| e["name"].is_string()),
        "every code-like is named"
    );

    let trace: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(outdir.join("trace.json")).expect("trace.json"),
    )
    .expect("the trace is JSON");
    let slices = trace["traceEvents"]
        .as_array()
        .or_else(|| trace.as_array())
        .expect("trace events")
        .iter()
        .filter(|e| e["ph"] == "B" || e["ph"] == "E" || e["ph"] == "X")
        .count();
    assert!(slices >= 8, "activations appear as slices ({slices})");

    let lcov = std::fs::read_to_string(outdir.join("coverage.info")).expect("coverage.info");
    for line in [
        "FN:1,fact",
        "FNDA:3,fact",
        "DA:2,3",
        "DA:21,1",
        "LH:12",
        "end_of_record",
    ] {
        assert!(
            lcov.lines().any(|l| l == line),
            "missing {line:?} in:\n{lcov}"
        );
    }
    if Command::new("genhtml").arg("--version").output().is_ok() {
        let html = outdir.join("html");
        let st = Command::new("genhtml")
            .args(["--quiet", "--output-directory"])
            .arg(&html)
            .arg(outdir.join("coverage.info"))
            .status()
            .expect("run genhtml");
        assert!(st.success(), "genhtml accepts the demo's lcov file");
        assert!(html.join("index.html").exists());
    }
}

/// The demo claims tools 1 to 4 itself; with the three variables set as
/// well, the tools they start step aside (docs/TOOLS.md, "Tool ids"): the
/// demo runs as without them, and what the variables started writes valid
/// files, or stops with one line when no id is left.
#[test]
fn demo_runs_with_the_environment_tools_on() {
    let _one = DEMO.lock().unwrap_or_else(|e| e.into_inner());
    let outdir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("demo-env-output");
    let _ = std::fs::remove_dir_all(&outdir);
    std::fs::create_dir_all(outdir.join("env")).unwrap();
    let out = Command::new(env!("CARGO"))
        .args(["run", "-q", "--example", "demo", "--"])
        .arg(&outdir)
        .env("PYMONITORING_RECORD", outdir.join("env/events.jsonl"))
        .env("PYMONITORING_TRACE", outdir.join("env/trace.json"))
        .env("PYMONITORING_COVERAGE", outdir.join("env/coverage.info"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "demo failed: {stdout}\n{stderr}");
    assert!(stdout.contains("check(-1) raised ValueError"), "{stdout}");
    // The variables' tools start on 5, 4 and 3. The demo claims 2, then
    // starts its own tools on 3, 4 and 1: coverage moves from 3 to 1, the
    // profiler from 4 to 0, and coverage, with no id left, stops.
    assert_eq!(
        stderr.trim_end(),
        format!(
            "pymonitoring: PYMONITORING_COVERAGE: coverage on tool 1 ({}): stopped: the program claimed tool 1 and no other tool id was free; the file holds the events until now (no LINE event of a named code-like was seen; {} was not written)",
            outdir.join("env/coverage.info").display(),
            outdir.join("env/coverage.info").display()
        )
    );
    // The variables' recorder, on from load, also sees the demo's
    // "unmonitored" fact(5): five more starts.
    for (dir, want) in [(outdir.clone(), 6), (outdir.join("env"), 11)] {
        let jsonl = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
        let starts = jsonl
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("each line is JSON"))
            .filter(|e| e["event"] == "PY_START")
            .count();
        assert_eq!(starts, want, "{}", dir.display());
        let trace: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("trace.json")).unwrap())
                .expect("the trace is JSON");
        let begins = trace
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["ph"] == "B")
            .count();
        assert!(begins >= 8, "{}: {begins} slices", dir.display());
    }
}
