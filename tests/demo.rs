//! The README's demo builds and prints the event stream and the summary.

use std::process::Command;

#[test]
fn demo_prints_events_and_summary() {
    let out = Command::new(env!("CARGO"))
        .args(["run", "-q", "--example", "demo"])
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
}
