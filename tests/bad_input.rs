//! The bad-input matrix of `docs/BAD_INPUT.md`, row by row, through the
//! exported functions: each bad call returns the documented result with the
//! documented error, writes no output, does not crash, and leaves the
//! registry exactly as it was.

mod exported;

use std::ffi::{c_int, c_void};
use std::sync::Mutex;

use exported::*;
use pymonitoring::ffi::*;

/// An inner call's return code and the error it left.
type InnerResult = (c_int, Option<(c_int, String)>);

/// A recording C callback: `data` is a `Rec`.
struct Rec {
    seen: Mutex<Vec<PyMonitoringEvent>>,
    answer: c_int,
    /// Run inside the callback (nested calls).
    inner: Option<fn(&Rec)>,
    inner_results: Mutex<Vec<InnerResult>>,
}

impl Rec {
    fn new(answer: c_int) -> Box<Rec> {
        Box::new(Rec {
            seen: Mutex::new(Vec::new()),
            answer,
            inner: None,
            inner_results: Mutex::new(Vec::new()),
        })
    }
    fn data(&self) -> *mut c_void {
        self as *const Rec as *mut c_void
    }
    fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

unsafe extern "C" fn record(data: *mut c_void, ev: *const PyMonitoringEvent) -> c_int {
    let rec = unsafe { &*(data as *const Rec) };
    rec.seen.lock().unwrap().push(unsafe { *ev });
    if let Some(inner) = rec.inner {
        inner(rec);
    }
    rec.answer
}

/// Set up a populated registry so "unchanged" means something: tools 0 and
/// 3 in use with events and callbacks.
fn populate(rec: &Rec) {
    unsafe {
        ok(PyMonitoring_UseToolId(0, c"dbg".as_ptr()), 0);
        ok(PyMonitoring_UseToolId(3, c"prof".as_ptr()), 0);
        ok(PyMonitoring_SetEvents(0, 0b1111), 0);
        ok(PyMonitoring_SetEvents(3, 1 << 11 | 1 << 4), 0);
        ok(
            PyMonitoring_RegisterCallback(0, 0, Some(record), rec.data()),
            0,
        );
        ok(
            PyMonitoring_RegisterCallback(3, 11, Some(record), rec.data()),
            0,
        );
    }
}

/// Run `bad`, which must fail with ValueError `msg`, and check that the
/// registry did not change.
#[track_caller]
fn rejects(msg: &str, bad: impl FnOnce() -> c_int) {
    let before = snapshot();
    let rc = bad();
    value_error(rc, msg);
    assert_eq!(snapshot(), before, "the registry changed");
}

/// Run `call`, which must succeed with `want`, and check that the registry
/// did not change.
#[track_caller]
fn harmless(want: c_int, call: impl FnOnce() -> c_int) {
    let before = snapshot();
    ok(call(), want);
    assert_eq!(snapshot(), before, "the registry changed");
}

const BAD_TOOLS: [c_int; 7] = [-1, 6, 7, 8, 255, c_int::MIN, c_int::MAX];
const BAD_EVENTS: [c_int; 5] = [19, 255, -1, c_int::MIN, c_int::MAX];

fn tool_msg(t: c_int) -> String {
    format!("invalid tool {t} (must be between 0 and 5)")
}

#[test]
fn tool_ids_out_of_range_everywhere() {
    let _g = serial();
    let rec = Rec::new(0);
    populate(&rec);
    for t in BAD_TOOLS {
        let m = tool_msg(t);
        rejects(&m, || unsafe { PyMonitoring_UseToolId(t, c"x".as_ptr()) });
        rejects(&m, || PyMonitoring_ClearToolId(t));
        rejects(&m, || PyMonitoring_FreeToolId(t));
        rejects(&m, || PyMonitoring_SetEvents(t, 1));
        rejects(&m, || unsafe {
            PyMonitoring_RegisterCallback(t, 0, Some(record), rec.data())
        });
        rejects(&m, || unsafe {
            PyMonitoring_RegisterCallback(t, 0, None, std::ptr::null_mut())
        });
        let mut set = 0xdead_beef_u32;
        rejects(&m, || unsafe { PyMonitoring_GetEvents(t, &mut set) });
        assert_eq!(set, 0xdead_beef, "no output on error");
        let mut f: PyMonitoringCallback = Some(record);
        let mut data = 7usize as *mut c_void;
        rejects(&m, || unsafe {
            PyMonitoring_GetCallback(t, 0, &mut f, &mut data)
        });
        assert!(f.is_some() && data as usize == 7, "no output on error");
        let mut buf = [b'#'; 8];
        let mut needed = 99usize;
        rejects(&m, || unsafe {
            PyMonitoring_GetTool(t, buf.as_mut_ptr().cast(), buf.len(), &mut needed)
        });
        assert_eq!((buf, needed), ([b'#'; 8], 99), "no output on error");
    }
}

#[test]
fn unused_tool() {
    let _g = serial();
    let rec = Rec::new(0);
    populate(&rec);
    // Writers need the tool in use.
    rejects("tool 2 is not in use", || PyMonitoring_SetEvents(2, 1));
    rejects("tool 2 is not in use", || unsafe {
        PyMonitoring_RegisterCallback(2, 0, Some(record), rec.data())
    });
    rejects("tool 2 is not in use", || unsafe {
        PyMonitoring_RegisterCallback(2, 0, None, std::ptr::null_mut())
    });
    // Readers and Clear/Free succeed without a change (as in CPython).
    harmless(0, || PyMonitoring_ClearToolId(2));
    harmless(0, || PyMonitoring_FreeToolId(2));
    let mut set = 5u32;
    harmless(0, || unsafe { PyMonitoring_GetEvents(2, &mut set) });
    assert_eq!(set, 0);
    let (mut f, mut data): (PyMonitoringCallback, *mut c_void) =
        (Some(record), std::ptr::dangling_mut::<c_void>());
    harmless(0, || unsafe {
        PyMonitoring_GetCallback(2, 0, &mut f, &mut data)
    });
    assert!(f.is_none() && data.is_null());
    let mut buf = [b'#'; 4];
    let mut needed = 9usize;
    harmless(0, || unsafe {
        PyMonitoring_GetTool(2, buf.as_mut_ptr().cast(), buf.len(), &mut needed)
    });
    assert_eq!((buf, needed), ([0, b'#', b'#', b'#'], 0));
    // A tool in use cannot be claimed again.
    rejects("tool 0 is already in use", || unsafe {
        PyMonitoring_UseToolId(0, c"again".as_ptr())
    });
}

#[test]
fn event_ids_out_of_range() {
    let _g = serial();
    let rec = Rec::new(0);
    populate(&rec);
    for e in BAD_EVENTS {
        let m = format!("invalid event {e}");
        rejects(&m, || unsafe {
            PyMonitoring_RegisterCallback(0, e, Some(record), rec.data())
        });
        rejects(&m, || unsafe {
            PyMonitoring_RegisterCallback(0, e, None, std::ptr::null_mut())
        });
        let mut f: PyMonitoringCallback = None;
        let mut data = 3 as *mut c_void;
        rejects(&m, || unsafe {
            PyMonitoring_GetCallback(0, e, &mut f, &mut data)
        });
        assert!(f.is_none() && data as usize == 3);
    }
    // Tool first, then event.
    rejects(&tool_msg(9), || unsafe {
        PyMonitoring_RegisterCallback(9, 99, Some(record), rec.data())
    });
}

#[test]
fn event_sets_with_unknown_or_lone_bits() {
    let _g = serial();
    let rec = Rec::new(0);
    populate(&rec);
    for set in [1u32 << 19, 1 << 31, u32::MAX, 0x8_0001] {
        rejects(&format!("invalid event set 0x{set:x}"), || {
            PyMonitoring_SetEvents(0, set)
        });
    }
    for set in [1u32 << 16, 1 << 17, 1 << 16 | 1 << 17, 1 << 16 | 1 << 4] {
        rejects(
            "cannot set C_RETURN or C_RAISE events independently",
            || PyMonitoring_SetEvents(0, set),
        );
    }
    // Setting the same set again is no change: the version stays.
    let mut set = 0;
    unsafe { PyMonitoring_GetEvents(0, &mut set) };
    harmless(0, || PyMonitoring_SetEvents(0, set));
}

#[test]
fn null_pointers() {
    let _g = serial();
    let rec = Rec::new(0);
    populate(&rec);
    rejects("tool name must not be NULL", || unsafe {
        PyMonitoring_UseToolId(1, std::ptr::null())
    });
    // NULL is checked before the tool id.
    rejects("tool name must not be NULL", || unsafe {
        PyMonitoring_UseToolId(-1, std::ptr::null())
    });
    rejects("set must not be NULL", || unsafe {
        PyMonitoring_GetEvents(0, std::ptr::null_mut())
    });
    rejects("fn must not be NULL", || unsafe {
        PyMonitoring_GetCallback(0, 0, std::ptr::null_mut(), std::ptr::null_mut())
    });
    rejects("buf must not be NULL when len > 0", || unsafe {
        PyMonitoring_GetTool(0, std::ptr::null_mut(), 1, std::ptr::null_mut())
    });
    rejects("msg must not be NULL", || unsafe {
        PyMonitoring_ErrSetString(PY_MONITORING_ERR_VALUE, std::ptr::null())
    });
    // NULL outputs that are optional.
    harmless(1, || unsafe {
        PyMonitoring_GetTool(0, std::ptr::null_mut(), 0, std::ptr::null_mut())
    });
    let mut f: PyMonitoringCallback = None;
    harmless(0, || unsafe {
        PyMonitoring_GetCallback(0, 0, &mut f, std::ptr::null_mut())
    });
    assert_eq!(f.map(|f| f as usize), Some(record as *const () as usize));
    // A NULL function removes (only the named slot).
    let before = snapshot();
    ok(
        unsafe { PyMonitoring_RegisterCallback(0, 1, None, std::ptr::null_mut()) },
        0,
    );
    assert_eq!(snapshot(), before);
    // Clearing with NULL.
    PyMonitoring_SetRaisedException(obj(1));
    PyMonitoring_SetRaisedException(std::ptr::null_mut());
    assert_eq!(error(), None);
    assert!(PyMonitoring_GetRaisedException().is_null());
    assert!(PyMonitoring_ErrMessage().is_null());
    assert_eq!(PyMonitoring_ErrKind(), PY_MONITORING_ERR_NONE);
}

#[test]
fn enter_scope_bad_arguments() {
    let _g = serial();
    let rec = Rec::new(0);
    populate(&rec);
    let mut states = [PyMonitoringState {
        active: 0xAA,
        opaque: 0x55,
    }; 3];
    let events = [0u8, 11, 4];
    let stale = PyMonitoring_GetVersion().wrapping_add(1);
    let mut version = stale;
    let s = states.as_mut_ptr();
    let e = events.as_ptr();
    let v: *mut u64 = &mut version;
    let unchanged = |states: &[PyMonitoringState; 3], version: u64| {
        assert!(states.iter().all(|s| s.active == 0xAA && s.opaque == 0x55));
        assert_eq!(version, stale);
    };
    rejects("version must not be NULL", || unsafe {
        PyMonitoring_EnterScope(s, std::ptr::null_mut(), e, 3)
    });
    for len in [-1isize, isize::MIN] {
        rejects(
            &format!("length must be non-negative (got {len})"),
            || unsafe { PyMonitoring_EnterScope(s, v, e, len) },
        );
    }
    rejects("states must not be NULL when length > 0", || unsafe {
        PyMonitoring_EnterScope(std::ptr::null_mut(), v, e, 3)
    });
    rejects("event_types must not be NULL when length > 0", || unsafe {
        PyMonitoring_EnterScope(s, v, std::ptr::null(), 3)
    });
    rejects(&format!("length {} is too large", isize::MAX), || unsafe {
        PyMonitoring_EnterScope(s, v, e, isize::MAX)
    });
    unchanged(&states, version);
    for (bad, i) in [(19u8, 2usize), (255, 0), (200, 1)] {
        let mut ev = events;
        ev[i] = bad;
        rejects(
            &format!("invalid event {bad} in event_types[{i}] (must be between 0 and 18)"),
            || unsafe { PyMonitoring_EnterScope(s, v, ev.as_ptr(), 3) },
        );
        unchanged(&states, version);
    }
    // NULL arrays are fine with length 0; the version is stored.
    harmless(0, || unsafe {
        PyMonitoring_EnterScope(std::ptr::null_mut(), v, std::ptr::null(), 0)
    });
    assert_eq!(version, PyMonitoring_GetVersion());
    // With a current version nothing but the version is read (as CPython):
    // a bad id, a negative length or a NULL array is not seen.
    let mut ev = events;
    ev[0] = 19;
    let current = PyMonitoring_GetVersion();
    let mut version2 = current;
    let v2: *mut u64 = &mut version2;
    harmless(0, || unsafe {
        PyMonitoring_EnterScope(s, v2, ev.as_ptr(), 3)
    });
    harmless(0, || unsafe { PyMonitoring_EnterScope(s, v2, e, -1) });
    harmless(0, || unsafe {
        PyMonitoring_EnterScope(std::ptr::null_mut(), v2, e, 3)
    });
    harmless(0, || unsafe {
        PyMonitoring_EnterScope(s, v2, std::ptr::null(), 3)
    });
    assert_eq!(version2, current);
    assert!(states.iter().all(|s| s.active == 0xAA));
    harmless(0, || PyMonitoring_ExitScope());
    harmless(0, || PyMonitoring_ExitScope());
}

#[test]
fn fire_functions_bad_arguments() {
    let _g = serial();
    let rec = Rec::new(0);
    for tool in 0..6 {
        ok(unsafe { PyMonitoring_UseToolId(tool, c"t".as_ptr()) }, 0);
        for event in 0..19 {
            ok(
                unsafe { PyMonitoring_RegisterCallback(tool, event, Some(record), rec.data()) },
                0,
            );
        }
    }
    let fires = all_fires();
    assert_eq!(fires.len(), 35);
    for f in &fires {
        let mut state = PyMonitoringState {
            active: 0x3F,
            opaque: 0x77,
        };
        let st: *mut PyMonitoringState = &mut state;
        // NULL state: ValueError for both kinds.
        rejects("state must not be NULL", || {
            (f.call)(std::ptr::null_mut(), obj(1), 0)
        });
        // NULL codelike while active.
        rejects("codelike must not be NULL", || {
            (f.call)(st, std::ptr::null_mut(), 0)
        });
        // Negative offsets, after the exception check.
        for off in [-1, i32::MIN] {
            rejects("offset must be non-negative", || {
                if f.exception {
                    PyMonitoring_SetRaisedException(exc());
                }
                (f.call)(st, obj(1), off)
            });
        }
        // Exception events without an exception.
        if f.exception {
            rejects(
                &format!("Firing event {} with no exception set", f.event),
                || (f.call)(st, obj(1), 0),
            );
            // A negative offset too: the exception check comes first.
            rejects(
                &format!("Firing event {} with no exception set", f.event),
                || (f.call)(st, obj(1), -5),
            );
        }
        assert_eq!(rec.count(), 0, "{}: no callback ran", f.name);
        assert_eq!((state.active, state.opaque), (0x3F, 0x77), "{}", f.name);
        // Inactive: the plain functions return 0 before any check.
        unsafe { (*st).active = 0 };
        if f.plain {
            harmless(0, || (f.call)(st, std::ptr::null_mut(), -1));
        } else {
            rejects("codelike must not be NULL", || {
                (f.call)(st, std::ptr::null_mut(), 0)
            });
            rejects("offset must be non-negative", || {
                if f.exception {
                    PyMonitoring_SetRaisedException(exc());
                }
                (f.call)(st, obj(1), -1)
            });
        }
        assert_eq!(rec.count(), 0, "{}", f.name);
    }
}

#[test]
fn tool_names_null_empty_long_and_truncated() {
    let _g = serial();
    // Empty name: accepted (CPython accepts "").
    ok(unsafe { PyMonitoring_UseToolId(1, c"".as_ptr()) }, 0);
    let mut buf = [b'#'; 4];
    let mut needed = 9usize;
    ok(
        unsafe { PyMonitoring_GetTool(1, buf.as_mut_ptr().cast(), 4, &mut needed) },
        1,
    );
    assert_eq!((buf, needed), ([0, b'#', b'#', b'#'], 0));
    // Very long name (1 MiB): kept whole.
    let long = vec![b'n'; 1 << 20];
    let c = std::ffi::CString::new(long.clone()).unwrap();
    ok(unsafe { PyMonitoring_UseToolId(2, c.as_ptr()) }, 0);
    let mut needed = 0usize;
    ok(
        unsafe { PyMonitoring_GetTool(2, std::ptr::null_mut(), 0, &mut needed) },
        1,
    );
    assert_eq!(needed, 1 << 20);
    let mut big = vec![0u8; (1 << 20) + 1];
    ok(
        unsafe { PyMonitoring_GetTool(2, big.as_mut_ptr().cast(), big.len(), &mut needed) },
        1,
    );
    assert_eq!(&big[..1 << 20], &long[..]);
    assert_eq!(big[1 << 20], 0);
    // Too small buffers truncate, NUL-terminate, write nothing past `len`
    // and report the full length.
    ok(
        unsafe { PyMonitoring_UseToolId(3, c"profiler".as_ptr()) },
        0,
    );
    for len in 1..=9usize {
        let mut buf = [b'#'; 12];
        let mut needed = 0usize;
        ok(
            unsafe { PyMonitoring_GetTool(3, buf.as_mut_ptr().cast(), len, &mut needed) },
            1,
        );
        let n = (len - 1).min(8);
        assert_eq!(&buf[..n], &b"profiler"[..n]);
        assert_eq!(buf[n], 0);
        assert!(
            buf[len..].iter().all(|&b| b == b'#'),
            "wrote past len {len}"
        );
        assert_eq!(needed, 8);
    }
    // len 0 with a buffer: nothing written at all.
    let mut buf = [b'#'; 2];
    ok(
        unsafe { PyMonitoring_GetTool(3, buf.as_mut_ptr().cast(), 0, std::ptr::null_mut()) },
        1,
    );
    assert_eq!(buf, [b'#'; 2]);
    // Not UTF-8: rejected.
    rejects("tool name must be valid UTF-8", || unsafe {
        PyMonitoring_UseToolId(4, c"\xff\xfe".as_ptr())
    });
}

#[test]
fn error_indicator_bad_arguments() {
    let _g = serial();
    for kind in [0, 3, -1, 99, c_int::MIN] {
        rejects(
            &format!("invalid error kind {kind} (use PY_MONITORING_ERR_VALUE or PY_MONITORING_ERR_RUNTIME)"),
            || unsafe { PyMonitoring_ErrSetString(kind, c"m".as_ptr()) },
        );
    }
    // Invalid UTF-8 in a message is replaced, not rejected.
    let rc = unsafe { PyMonitoring_ErrSetString(PY_MONITORING_ERR_RUNTIME, c"a\xffb".as_ptr()) };
    assert_eq!(rc, 0);
    assert_eq!(
        take_error(),
        Some((PY_MONITORING_ERR_RUNTIME, "a\u{fffd}b".into()))
    );
    // GetRaisedException leaves a library error in place.
    unsafe { PyMonitoring_ErrSetString(PY_MONITORING_ERR_VALUE, c"lib".as_ptr()) };
    assert!(PyMonitoring_GetRaisedException().is_null());
    assert_eq!(take_error(), Some((PY_MONITORING_ERR_VALUE, "lib".into())));
    // Nothing pending: NULL / 0.
    assert!(PyMonitoring_GetRaisedException().is_null());
    assert_eq!(PyMonitoring_ErrOccurred(), 0);
    // Waiting outside any callback returns at once.
    harmless(0, || PyMonitoring_WaitForCallbacks());
    assert_eq!(PyMonitoring_GetMissing(), PyMonitoring_GetMissing());
    assert!(!PyMonitoring_GetMissing().is_null());
}

/// Nested fires from inside a callback are not delivered and return 0;
/// bad arguments inside a callback are still errors for the inner call and
/// do not disturb the outer fire.
#[test]
fn nested_firing_from_inside_callbacks() {
    let _g = serial();
    let mut rec = Rec::new(0);
    rec.inner = Some(|rec: &Rec| {
        let mut state = PyMonitoringState {
            active: 0xFF,
            opaque: 0,
        };
        let mut results = Vec::new();
        for f in all_fires() {
            if f.exception {
                PyMonitoring_SetRaisedException(exc());
            }
            let rc = (f.call)(&mut state, obj(5), 3);
            results.push((rc, take_error()));
        }
        // Bad arguments inside: an error for the inner call only.
        let rc = unsafe { _PyMonitoring_FirePyStartEvent(std::ptr::null_mut(), obj(5), 0) };
        results.push((rc, take_error()));
        rec.inner_results.lock().unwrap().extend(results);
    });
    populate(&rec);
    let mut state = PyMonitoringState {
        active: 1,
        opaque: 0,
    };
    ok(
        unsafe { PyMonitoring_FirePyStartEvent(&mut state, obj(1), 0) },
        0,
    );
    assert_eq!(rec.count(), 1, "only the outer event was delivered");
    let results = rec.inner_results.lock().unwrap();
    assert_eq!(results.len(), 36);
    for (f, (rc, err)) in all_fires().iter().zip(&results[..35]) {
        // Not delivered, and nothing taken: an exception set for an inner
        // exception event is still pending afterwards.
        let pending = f.exception.then(|| {
            (
                PY_MONITORING_ERR_HOST,
                "exception object set by the host".to_owned(),
            )
        });
        assert_eq!((*rc, err), (0, &pending), "{}", f.name);
    }
    assert_eq!(
        results[35],
        (
            -1,
            Some((PY_MONITORING_ERR_VALUE, "state must not be NULL".into()))
        )
    );
}

/// A callback's bad return values: -1 without an error becomes a
/// RuntimeError naming tool and event; other values are ignored.
#[test]
fn callback_return_values() {
    let _g = serial();
    let rec = Rec::new(-1);
    populate(&rec);
    let mut state = PyMonitoringState {
        active: 1,
        opaque: 0,
    };
    let rc = unsafe { PyMonitoring_FirePyStartEvent(&mut state, obj(1), 0) };
    assert_eq!(rc, -1);
    assert_eq!(
        take_error(),
        Some((
            PY_MONITORING_ERR_RUNTIME,
            "callback of tool 0 for PY_START returned -1 without setting an error".into()
        ))
    );
    for answer in [2, -2, 42, c_int::MIN, c_int::MAX] {
        let rec = Rec::new(answer);
        ok(
            unsafe { PyMonitoring_RegisterCallback(0, 0, Some(record), rec.data()) },
            0,
        );
        ok(
            unsafe { PyMonitoring_FirePyStartEvent(&mut state, obj(1), 0) },
            0,
        );
        assert_eq!(state.active, 1, "ignored return values keep the bit");
        assert_eq!(rec.count(), 1);
    }
}
