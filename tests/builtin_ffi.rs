//! The built-in tools' C entry points called directly: argument checks,
//! errors, flush and stop. One test function, because the registry is
//! process-global.

mod exported;

use std::ffi::c_int;
use std::ptr::{null, null_mut};

use pymonitoring::ffi::*;

/// The thread's error, taken (one must be set).
#[track_caller]
fn error() -> (c_int, String) {
    exported::take_error().expect("an error is set")
}

fn value_error(msg: &str) -> (c_int, String) {
    (PY_MONITORING_ERR_VALUE, msg.to_owned())
}

#[test]
fn c_entry_points_check_arguments_flush_and_stop() {
    let dir = std::env::temp_dir().join(format!("pm-builtin-ffi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = |name: &str| {
        let mut bytes = dir.join(name).into_os_string().into_encoded_bytes();
        bytes.push(0);
        bytes
    };
    let rec = path("r.jsonl");
    let cov = path("c.info");

    // SAFETY (all calls below): NUL-terminated strings or NULL, fake
    // code-like addresses that are never dereferenced.
    unsafe {
        assert_eq!(PyMonitoring_StartRecorder(3, null()), -1);
        assert_eq!(error(), value_error("path must not be NULL"));
        assert_eq!(PyMonitoring_StartRecorder(6, rec.as_ptr().cast()), -1);
        assert_eq!(
            error(),
            value_error("invalid tool 6 (must be between 0 and 5)")
        );
        assert_eq!(PyMonitoring_StartCoverage(1, cov.as_ptr().cast(), 2), -1);
        assert_eq!(
            error(),
            value_error(
                "invalid coverage mode 2 (use PY_MONITORING_COVERAGE_ONCE or PY_MONITORING_COVERAGE_COUNT)"
            )
        );
        let bad = b"/nonexistent-dir/t.json\0";
        assert_eq!(PyMonitoring_StartProfiler(2, bad.as_ptr().cast()), -1);
        let (kind, msg) = error();
        assert_eq!(kind, PY_MONITORING_ERR_RUNTIME);
        assert!(
            msg.starts_with("cannot create /nonexistent-dir/t.json"),
            "{msg}"
        );

        assert_eq!(
            PyMonitoring_RegisterCodeName(null_mut(), c"f".as_ptr(), null(), 1),
            -1
        );
        assert_eq!(error(), value_error("codelike must not be NULL"));
        let code = 0x4000 as *mut PyObject;
        assert_eq!(PyMonitoring_RegisterCodeName(code, null(), null(), 1), -1);
        assert_eq!(error(), value_error("name must not be NULL"));
        assert_eq!(
            PyMonitoring_RegisterCodeName(code, c"f".as_ptr(), null(), 7),
            0
        );

        assert_eq!(PyMonitoring_StartRecorder(3, rec.as_ptr().cast()), 0);
        assert_eq!(
            PyMonitoring_StartCoverage(
                PY_MONITORING_COVERAGE_ID,
                cov.as_ptr().cast(),
                PY_MONITORING_COVERAGE_COUNT
            ),
            0
        );
        assert_eq!(PyMonitoring_StartRecorder(3, rec.as_ptr().cast()), -1);
        assert_eq!(error(), value_error("tool 3 is already in use"));

        let mut states = [PyMonitoringState::default(); 2];
        let mut version = 0u64;
        let events = [
            PY_MONITORING_EVENT_PY_START as u8,
            PY_MONITORING_EVENT_LINE as u8,
        ];
        assert_eq!(
            PyMonitoring_EnterScope(states.as_mut_ptr(), &mut version, events.as_ptr(), 2),
            0
        );
        assert_eq!(states[0].active, (1 << 3) | (1 << 1));
        assert_eq!(PyMonitoring_FirePyStartEvent(&mut states[0], code, 0), 0);
        for _ in 0..2 {
            assert_eq!(PyMonitoring_FireLineEvent(&mut states[1], code, 1, 8), 0);
        }

        // Flush: both files have what happened so far, and the tools run on.
        assert_eq!(PyMonitoring_FlushBuiltinTools(), 0);
        let log = std::fs::read_to_string(dir.join("r.jsonl")).unwrap();
        assert_eq!(log.lines().count(), 3);
        let info = std::fs::read_to_string(dir.join("c.info")).unwrap();
        assert!(info.contains("SF:<unknown>\nFN:7,f\nFNDA:1,f\n"), "{info}");
        assert!(info.contains("DA:8,2\n"), "count mode: {info}");

        assert_eq!(PyMonitoring_StopBuiltinTool(3), 0);
        assert_eq!(PyMonitoring_StopBuiltinTool(3), -1);
        assert_eq!(
            error(),
            value_error("no built-in tool is running on tool 3")
        );
        // Stopped: id 3 is free again and no longer gets events.
        assert_eq!(PyMonitoring_UseToolId(3, c"mine".as_ptr()), 0);
        assert_eq!(PyMonitoring_FreeToolId(3), 0);
        assert_eq!(PyMonitoring_StopBuiltinTools(), 0);
        assert_eq!(PyMonitoring_GetTool(1, null_mut(), 0, null_mut()), 0);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
