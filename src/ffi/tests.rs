//! Unit tests of the boundary, calling the extern functions directly.

use std::ffi::{c_int, c_void, CStr};
use std::sync::Arc;

use super::guard::arm_fault;
use super::*;
use crate::dispatch::EventRecord;
use crate::registry::{self, Handler, Outcome};
use crate::test_support::registry_lock;

fn message() -> String {
    let p = PyMonitoring_ErrMessage();
    assert!(!p.is_null(), "an error is set");
    // SAFETY: non-NULL, NUL-terminated, valid until the indicator changes.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

fn code() -> *mut PyObject {
    0x5000 as *mut PyObject
}

#[test]
fn a_panic_inside_a_guarded_call_is_a_runtime_error() {
    let _g = registry_lock();
    arm_fault("PyMonitoring_SetEvents");
    assert_eq!(PyMonitoring_SetEvents(0, 1), -1);
    assert_eq!(PyMonitoring_ErrKind(), PY_MONITORING_ERR_RUNTIME);
    assert_eq!(
        message(),
        "internal error in PyMonitoring_SetEvents: injected fault"
    );
    PyMonitoring_ErrClear();
    // The next call works normally.
    assert_eq!(PyMonitoring_SetEvents(0, 1), -1);
    assert_eq!(message(), "tool 0 is not in use");
    PyMonitoring_ErrClear();
}

#[test]
fn a_panic_while_firing_is_a_runtime_error_and_leaves_the_thread_usable() {
    let _g = registry_lock();
    let mut state = PyMonitoringState {
        active: 1,
        opaque: 0,
    };
    // The walk cannot panic; the slow path (here, a bad offset) is guarded.
    arm_fault("_PyMonitoring_FirePyStartEvent");
    // SAFETY: valid state and a fake (never dereferenced) code-like.
    let rc = unsafe { PyMonitoring_FirePyStartEvent(&mut state, code(), -1) };
    assert_eq!(rc, -1);
    assert_eq!(PyMonitoring_ErrKind(), PY_MONITORING_ERR_RUNTIME);
    assert_eq!(
        message(),
        "internal error in _PyMonitoring_FirePyStartEvent: injected fault"
    );
    PyMonitoring_ErrClear();
    // The thread fires again (not left inside a callback).
    // SAFETY: as above.
    let rc = unsafe { PyMonitoring_FirePyStartEvent(&mut state, code(), -1) };
    assert_eq!(rc, -1);
    assert_eq!(message(), "offset must be non-negative");
    PyMonitoring_ErrClear();
}

/// A Rust handler that panics: the dispatch must unwind cleanly to the guard.
struct Panicker;

impl Handler for Panicker {
    fn call(&self, _ev: &EventRecord) -> Outcome {
        panic!("handler panicked")
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

unsafe extern "C" fn count(data: *mut c_void, _ev: *const PyMonitoringEvent) -> c_int {
    // SAFETY: registered with a pointer to a live counter.
    unsafe { *(data as *mut u32) += 1 };
    0
}

#[test]
fn a_panicking_handler_comes_back_as_minus_one_and_dispatch_recovers() {
    let _g = registry_lock();
    registry::use_tool_id(1, "p").unwrap();
    registry::set_events(1, 1).unwrap();
    registry::register_callback(1, 0, Some(Arc::new(Panicker))).unwrap();
    let mut state = PyMonitoringState {
        active: 1 << 1,
        opaque: 0,
    };
    // SAFETY: valid state.
    let rc = unsafe { _PyMonitoring_FirePyStartEvent(&mut state, code(), 0) };
    assert_eq!(rc, -1);
    assert_eq!(
        message(),
        "internal error in _PyMonitoring_FirePyStartEvent: handler panicked"
    );
    PyMonitoring_ErrClear();
    // The thread is not stuck "inside a callback": events are delivered again.
    let mut calls = 0u32;
    // SAFETY: `calls` outlives the registration (removed below).
    unsafe {
        assert_eq!(
            PyMonitoring_RegisterCallback(1, 0, Some(count), &mut calls as *mut u32 as *mut c_void),
            0
        );
        assert_eq!(_PyMonitoring_FirePyStartEvent(&mut state, code(), 0), 0);
        assert_eq!(
            PyMonitoring_RegisterCallback(1, 0, None, std::ptr::null_mut()),
            0
        );
    }
    assert_eq!(calls, 1);
    assert_eq!(PyMonitoring_WaitForCallbacks(), 0);
}

#[test]
fn missing_is_stable_and_non_null() {
    let a = PyMonitoring_GetMissing();
    assert!(!a.is_null());
    assert_eq!(a, PyMonitoring_GetMissing());
}

#[test]
fn exported_inactive_fire_returns_at_once_and_rejects_null() {
    let _g = registry_lock();
    let mut state = PyMonitoringState::default();
    // SAFETY: valid or NULL state; codelike never dereferenced.
    unsafe {
        assert_eq!(
            PyMonitoring_FireLineEvent(&mut state, std::ptr::null_mut(), -1, 3),
            0
        );
        assert_eq!(PyMonitoring_ErrOccurred(), 0);
        assert_eq!(
            PyMonitoring_FireLineEvent(std::ptr::null_mut(), code(), 0, 3),
            -1
        );
    }
    assert_eq!(message(), "state must not be NULL");
    PyMonitoring_ErrClear();
}

#[test]
fn enter_scope_checks_before_writing() {
    let _g = registry_lock();
    let mut states = [PyMonitoringState {
        active: 7,
        opaque: 9,
    }; 2];
    let mut version = u64::MAX;
    let ids = [0u8, 1];
    // SAFETY: pointers valid for the lengths given, or NULL on purpose.
    unsafe {
        assert_eq!(
            PyMonitoring_EnterScope(states.as_mut_ptr(), &mut version, ids.as_ptr(), -1),
            -1
        );
        assert_eq!(message(), "length must be non-negative (got -1)");
        assert_eq!(
            PyMonitoring_EnterScope(states.as_mut_ptr(), &mut version, ids.as_ptr(), isize::MAX),
            -1
        );
        assert_eq!(message(), format!("length {} is too large", isize::MAX));
        assert_eq!(
            PyMonitoring_EnterScope(std::ptr::null_mut(), &mut version, ids.as_ptr(), 2),
            -1
        );
        assert_eq!(message(), "states must not be NULL when length > 0");
        assert_eq!(
            PyMonitoring_EnterScope(states.as_mut_ptr(), &mut version, std::ptr::null(), 2),
            -1
        );
        assert_eq!(message(), "event_types must not be NULL when length > 0");
        assert_eq!(
            PyMonitoring_EnterScope(std::ptr::null_mut(), &mut version, std::ptr::null(), 0),
            0
        );
    }
    assert_eq!(version, registry::version());
    assert_eq!(
        states[0],
        PyMonitoringState {
            active: 7,
            opaque: 9
        }
    );
    PyMonitoring_ErrClear();
}

/// A callback installed through the Rust API is fired through the C API and
/// reads back as a NULL function (docs/BAD_INPUT.md, "GetCallback" row).
#[test]
fn rust_handlers_fire_through_the_c_api_and_read_back_as_null() {
    let _g = registry_lock();
    registry::use_tool_id(4, "rust").unwrap();
    let rec = crate::test_support::Recorder::new();
    registry::register_callback(4, 5, Some(rec.clone() as Arc<dyn Handler>)).unwrap();
    let mut state = PyMonitoringState {
        active: 1 << 4,
        opaque: 0,
    };
    // SAFETY: a valid state; the code object is never dereferenced.
    assert_eq!(
        unsafe { PyMonitoring_FireLineEvent(&mut state, code(), 3, 17) },
        0
    );
    assert_eq!(rec.count(), 1);
    let ev = rec.events()[0];
    assert_eq!((ev.tool, ev.offset, ev.lineno), (4, 3, 17));
    let mut f: PyMonitoringCallback = None;
    let mut data = std::ptr::dangling_mut::<c_void>();
    // SAFETY: valid outputs.
    assert_eq!(
        unsafe { PyMonitoring_GetCallback(4, 5, &mut f, &mut data) },
        0
    );
    assert!(f.is_none() && data.is_null());
}

/// A C callback fired through the Rust API (absent arguments stored as 0 in
/// the dispatch's record) and through the C API (stored as MISSING) gets
/// the same `PyMonitoringEvent`; a Rust handler on the same fire sees the
/// absent argument as `None`.
#[test]
fn c_and_rust_callbacks_see_the_same_records_whoever_fires() {
    use std::sync::Mutex;
    /// event, tool_id, codelike, offset, lineno, arg0, arg1.
    type Seen = (i32, i32, usize, i32, i32, usize, usize);
    static SEEN: Mutex<Vec<Seen>> = Mutex::new(Vec::new());
    unsafe extern "C" fn record(_data: *mut c_void, ev: *const PyMonitoringEvent) -> c_int {
        // SAFETY: the library passes a valid record for the call.
        let ev = unsafe { &*ev };
        SEEN.lock().unwrap().push((
            ev.event,
            ev.tool_id,
            ev.codelike as usize,
            ev.offset,
            ev.lineno,
            ev.arg0 as usize,
            ev.arg1 as usize,
        ));
        0
    }
    let _g = registry_lock();
    SEEN.lock().unwrap().clear();
    registry::use_tool_id(3, "c").unwrap();
    registry::use_tool_id(1, "rust").unwrap();
    // SAFETY: a callback valid from any thread, with no data.
    assert_eq!(
        unsafe {
            PyMonitoring_RegisterCallback(
                3,
                PY_MONITORING_EVENT_CALL,
                Some(record),
                std::ptr::null_mut(),
            )
        },
        0
    );
    let rust = crate::test_support::Recorder::new();
    registry::register_callback(1, 4, Some(rust.clone() as Arc<dyn Handler>)).unwrap();
    let callable = ObjectRef::from_addr(0x7000).unwrap();
    let active = std::cell::Cell::new((1 << 3) | (1 << 1));
    let firing = crate::dispatch::Firing {
        arg0: Some(callable),
        ..crate::dispatch::Firing::new(crate::event::Event::Call, object(code()).unwrap(), 8)
    };
    crate::dispatch::fire(&active, firing).unwrap();
    let mut state = PyMonitoringState {
        active: (1 << 3) | (1 << 1),
        opaque: 0,
    };
    // SAFETY: a valid state; the objects are never dereferenced.
    let rc = unsafe {
        PyMonitoring_FireCallEvent(
            &mut state,
            code(),
            8,
            0x7000 as *mut PyObject,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(rc, 0);
    let missing = PyMonitoring_GetMissing() as usize;
    let expected = (4, 3, code() as usize, 8, -1, 0x7000, missing);
    assert_eq!(*SEEN.lock().unwrap(), [expected, expected]);
    let events = rust.events();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0], events[1]);
    assert_eq!(
        (events[0].tool, events[0].arg0, events[0].arg1),
        (1, Some(callable), None)
    );
}

/// The refresh paths of `PyMonitoring_EnterScope` (the SIMD kernels of
/// `super::simd`, the 1-3 slot path, the scalar rest) against the core's
/// `scope::refresh`, the reference.
mod refresh_paths {
    use std::cell::Cell;

    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    use super::*;
    use crate::event::{Event, EventSet};
    use crate::scope::{self, SlotState};

    type Refresh = unsafe extern "C" fn(*mut u8, *mut u64, *const u8, usize) -> c_int;

    /// Each way to refresh `len` slots, by name, in the lasting-DISABLE
    /// mode (`lasting`) or not, with ids in the host's numbering (`host`)
    /// or not; a path that does not take that length (or the mode, or
    /// whose features this CPU lacks) is left out.
    fn paths(len: usize, lasting: bool, host: bool) -> Vec<(&'static str, Refresh)> {
        unsafe extern "C" fn exported(s: *mut u8, v: *mut u64, e: *const u8, n: usize) -> c_int {
            // SAFETY: forwarded.
            unsafe { _PyMonitoring_EnterScope(s.cast(), v, e, n as Py_ssize_t) }
        }
        let mut out: Vec<(&'static str, Refresh)> = vec![("exported", exported)];
        #[cfg(all(target_arch = "x86_64", not(loom)))]
        if len >= super::super::simd::MIN_LEN {
            unsafe extern "C" fn avx2<const MARKED: bool, const HOST: bool>(
                s: *mut u8,
                v: *mut u64,
                e: *const u8,
                n: usize,
            ) -> c_int {
                // SAFETY: forwarded; AVX2 checked before it is listed.
                unsafe {
                    super::super::simd::refresh_avx2::<MARKED, HOST>(
                        s,
                        v,
                        e,
                        n,
                        registry::version(),
                    )
                }
            }
            unsafe extern "C" fn ssse3<const MARKED: bool, const HOST: bool>(
                s: *mut u8,
                v: *mut u64,
                e: *const u8,
                n: usize,
            ) -> c_int {
                // SAFETY: forwarded; SSSE3 checked before it is listed.
                unsafe {
                    super::super::simd::refresh_ssse3::<MARKED, HOST>(
                        s,
                        v,
                        e,
                        n,
                        registry::version(),
                    )
                }
            }
            if std::is_x86_feature_detected!("avx2") {
                out.push(match (lasting, host) {
                    (false, false) => ("avx2", avx2::<false, false>),
                    (true, false) => ("avx2 marked", avx2::<true, false>),
                    (false, true) => ("avx2 host", avx2::<false, true>),
                    (true, true) => ("avx2 marked host", avx2::<true, true>),
                });
            }
            // The out-of-line dispatch as the route byte sends the SSSE3
            // kernel's routes there (under the host's numbering the
            // `MARKED` bit is clear in both modes).
            unsafe extern "C" fn routed_ssse3<const MARKED: bool>(
                s: *mut u8,
                v: *mut u64,
                e: *const u8,
                n: usize,
            ) -> c_int {
                use super::super::simd::Kernel;
                use crate::ext::restarts::GATE;
                let route = if MARKED {
                    Kernel::Ssse3Marked as u8
                } else if registry::global().ext().refresh_gate_open() {
                    GATE | Kernel::Ssse3 as u8
                } else {
                    Kernel::Ssse3 as u8
                };
                // SAFETY: forwarded; SSSE3 checked before it is listed,
                // `n` >= MIN_LEN.
                unsafe {
                    super::super::scope::detect_and_refresh(
                        s.cast(),
                        v,
                        e,
                        n,
                        registry::version(),
                        route,
                    )
                }
            }
            if std::is_x86_feature_detected!("ssse3") {
                out.push(match (lasting, host) {
                    (false, false) => ("ssse3", ssse3::<false, false>),
                    (true, false) => ("ssse3 marked", ssse3::<true, false>),
                    (false, true) => ("ssse3 host", ssse3::<false, true>),
                    (true, true) => ("ssse3 marked host", ssse3::<true, true>),
                });
                out.push(if lasting && !host {
                    ("routed ssse3 marked", routed_ssse3::<true>)
                } else {
                    ("routed ssse3", routed_ssse3::<false>)
                });
            }
        }
        // Only while the gate is closed (the lasting mode and the host's
        // numbering open it).
        if (1..=3).contains(&len) && !lasting && !host {
            unsafe extern "C" fn small(s: *mut u8, v: *mut u64, e: *const u8, n: usize) -> c_int {
                // SAFETY: forwarded.
                unsafe { super::super::scope::refresh_1_to_3(s.cast(), v, e, n) }
            }
            out.push(("1-3", small));
        }
        out
    }

    /// Tools 0-5 take `sets[t]` (C_RETURN and C_RAISE dropped: they follow
    /// CALL); the lasting-DISABLE mode on with `lasting`.
    fn set_tools(sets: &[u32; 6], lasting: bool) {
        set_tools_in(sets, lasting, false);
    }

    /// [`set_tools`], and with `host` the host's numbering on.
    fn set_tools_in(sets: &[u32; 6], lasting: bool, host: bool) {
        use crate::ext::options::{self, CPYTHON_313_EVENT_IDS, LASTING_DISABLE};
        registry::reset_for_tests();
        let allowed = (EventSet::all() - EventSet::C_RETURN - EventSet::C_RAISE).bits();
        for (t, &set) in sets.iter().enumerate() {
            registry::use_tool_id(t as i64, "t").unwrap();
            registry::set_events(t as i64, set & allowed).unwrap();
        }
        let mode = if lasting { LASTING_DISABLE } else { 0 };
        let numbering = if host { CPYTHON_313_EVENT_IDS } else { 0 };
        if mode | numbering != 0 {
            options::set(mode | numbering).unwrap();
        }
    }

    /// What the core writes: `active` bytes, `opaque` (kept, or the mark in
    /// the lasting mode) and the version.
    fn reference(bytes: &[u8], ids: &[u8]) -> (Vec<u8>, u64) {
        let slots: Vec<SlotState> = bytes
            .chunks_exact(2)
            .map(|b| SlotState {
                active: Cell::new(b[0]),
                opaque: Cell::new(b[1]),
            })
            .collect();
        let version = Cell::new(u64::MAX);
        scope::refresh(&slots, &version, ids).unwrap();
        let out = slots
            .iter()
            .flat_map(|s| [s.active.get(), s.opaque.get()])
            .collect();
        (out, version.get())
    }

    /// A refresh of `len = want.len() / 2` slots at offset `shift` of `buf`
    /// (a copy of `bytes`) by path `name` succeeded, wrote what the core
    /// writes (`want`, and the version) and nothing outside the array.
    fn matches_core(
        name: &str,
        rc: c_int,
        buf: &[u8],
        bytes: &[u8],
        shift: usize,
        want: &[u8],
        (version, want_version): (u64, u64),
    ) -> Result<(), TestCaseError> {
        let len = want.len() / 2;
        prop_assert_eq!(rc, 0, "{} len {}", name, len);
        prop_assert_eq!(&buf[shift..shift + 2 * len], want, "{} len {}", name, len);
        prop_assert_eq!(&buf[..shift], &bytes[..shift], "{} before", name);
        prop_assert_eq!(
            &buf[shift + 2 * len..],
            &bytes[shift + 2 * len..],
            "{} after",
            name
        );
        prop_assert_eq!(version, want_version, "{} len {}", name, len);
        Ok(())
    }

    /// Every length 0-70 at 4 alignments, random masks, ids (sometimes all
    /// below 16, the one-table case), `active` and `opaque` bytes: each path
    /// writes exactly what the core writes and only inside the array.
    #[test]
    fn every_path_matches_the_core_for_every_length() {
        every_path_matches_the_core(false);
    }

    /// The same in the lasting-DISABLE mode, whose refresh also sets each
    /// `opaque` to the mark (`ext::State::refresh_marked`, the reference).
    #[test]
    fn every_path_matches_the_core_in_the_lasting_mode() {
        every_path_matches_the_core(true);
    }

    /// The same with ids in the host's numbering (CPython 3.13's), in both
    /// modes: what the core writes for the translated ids.
    #[test]
    fn every_path_matches_the_core_in_the_host_numbering() {
        every_path_matches_the_core_in(false, true);
        every_path_matches_the_core_in(true, true);
    }

    fn every_path_matches_the_core(lasting: bool) {
        every_path_matches_the_core_in(lasting, false);
    }

    fn every_path_matches_the_core_in(lasting: bool, host: bool) {
        let _g = registry_lock();
        let count = if host {
            scope::EVENTS_313
        } else {
            Event::COUNT
        };
        let strategy = (
            any::<[u32; 6]>(),
            proptest::collection::vec(0..count as u8, 70),
            proptest::collection::vec(any::<u8>(), 2 * 70 + 64),
            any::<bool>(),
            0..4usize,
        );
        let mut runner = TestRunner::new(Config {
            cases: 48,
            ..Config::default()
        });
        runner
            .run(&strategy, |(sets, ids, bytes, low, shift)| {
                set_tools_in(&sets, lasting, host);
                let ids: Vec<u8> = ids.iter().map(|&i| if low { i % 16 } else { i }).collect();
                for len in 0..=70usize {
                    let ids_at = &ids[..len];
                    // The array at offset `shift`, with guard bytes around it.
                    let slots = &bytes[shift..shift + 2 * len];
                    let (want, want_version) = if host {
                        scope::with_ids_from_313(ids_at, |ids| reference(slots, ids)).unwrap()
                    } else {
                        reference(slots, ids_at)
                    };
                    for (name, path) in paths(len, lasting, host) {
                        let mut buf = bytes.clone();
                        let mut idbuf = vec![0xEEu8; 16 + len + 16];
                        idbuf[16..16 + len].copy_from_slice(ids_at);
                        let mut version = u64::MAX;
                        // SAFETY: `len` slots and ids in live buffers.
                        let rc = unsafe {
                            path(
                                buf.as_mut_ptr().add(shift),
                                &mut version,
                                idbuf.as_ptr().add(16),
                                len,
                            )
                        };
                        matches_core(
                            name,
                            rc,
                            &buf,
                            &bytes,
                            shift,
                            &want,
                            (version, want_version),
                        )?;
                    }
                }
                Ok(())
            })
            .unwrap();
    }

    /// After a run of per-tool restarts, from scope versions before the
    /// run (CPython's refresh), inside it (the restarted tools' bits come
    /// back) and the never-refreshed ones: the exported refresh and the
    /// default mode's gated dispatch with each kernel write what the core
    /// writes, every length 0-70.
    #[test]
    fn the_gated_paths_match_the_core_after_restarts() {
        let _g = registry_lock();
        let strategy = (
            any::<[u32; 6]>(),
            proptest::collection::vec(0..Event::COUNT as u8, 70),
            proptest::collection::vec(any::<u8>(), 2 * 70),
            proptest::collection::vec(0..6i64, 1..4),
        );
        let mut runner = TestRunner::new(Config {
            cases: 24,
            ..Config::default()
        });
        runner
            .run(&strategy, |(sets, ids, bytes, restarts)| {
                set_tools(&sets, false);
                let before = registry::version();
                for &t in &restarts {
                    crate::ext::lasting::restart_tool_events(t).unwrap();
                }
                let current = registry::version();
                prop_assert!(registry::global().ext().refresh_gate_open());
                let mut starts = vec![0, u64::MAX];
                starts.extend(before.saturating_sub(1)..current);
                for len in 0..=70usize {
                    let ids = &ids[..len];
                    for &start in &starts {
                        let slots: Vec<SlotState> = bytes[..2 * len]
                            .chunks_exact(2)
                            .map(|b| SlotState {
                                active: Cell::new(b[0]),
                                opaque: Cell::new(b[1]),
                            })
                            .collect();
                        let version = Cell::new(start);
                        scope::refresh(&slots, &version, ids).unwrap();
                        let want: Vec<u8> = slots
                            .iter()
                            .flat_map(|s| [s.active.get(), s.opaque.get()])
                            .collect();
                        for (name, path) in gated_paths(len) {
                            let mut buf = bytes.clone();
                            let mut v = start;
                            // SAFETY: `len` slots and ids in live buffers.
                            let rc = unsafe { path(buf.as_mut_ptr(), &mut v, ids.as_ptr(), len) };
                            matches_core(name, rc, &buf, &bytes, 0, &want, (v, version.get()))?;
                        }
                    }
                }
                Ok(())
            })
            .unwrap();
    }

    /// The refreshes that take the default mode's gated refresh: the
    /// exported function, and for 4 slots or more the gated dispatch with
    /// each kernel this CPU has.
    fn gated_paths(len: usize) -> Vec<(&'static str, Refresh)> {
        unsafe extern "C" fn exported(s: *mut u8, v: *mut u64, e: *const u8, n: usize) -> c_int {
            // SAFETY: forwarded.
            unsafe { _PyMonitoring_EnterScope(s.cast(), v, e, n as Py_ssize_t) }
        }
        #[cfg_attr(any(not(target_arch = "x86_64"), loom), allow(unused_mut))]
        let mut out: Vec<(&'static str, Refresh)> = vec![("exported", exported)];
        // Only the kernels' paths depend on the length.
        #[cfg(any(not(target_arch = "x86_64"), loom))]
        let _ = len;
        #[cfg(all(target_arch = "x86_64", not(loom)))]
        if len >= super::super::simd::MIN_LEN {
            use super::super::simd::Kernel;
            unsafe extern "C" fn gated<const K: u8>(
                s: *mut u8,
                v: *mut u64,
                e: *const u8,
                n: usize,
            ) -> c_int {
                // SAFETY: forwarded; the kernel's features checked before
                // it is listed, `n` >= MIN_LEN.
                unsafe {
                    super::super::scope::gated_refresh(s.cast(), v, e, n, registry::version(), K)
                }
            }
            if std::is_x86_feature_detected!("avx2") {
                out.push(("gated avx2", gated::<{ Kernel::Avx2 as u8 }>));
            }
            if std::is_x86_feature_detected!("ssse3") {
                out.push(("gated ssse3", gated::<{ Kernel::Ssse3 as u8 }>));
            }
            out.push(("gated scalar", gated::<{ Kernel::Scalar as u8 }>));
        }
        out
    }

    /// A bad id at every position of every length 1-70 (values at both
    /// thresholds the kernels test, 16 and 19, and around their saturating
    /// adds), among valid ids below 16 or up to 18: -1, the core's
    /// message naming the first bad id, nothing written.
    #[test]
    fn every_path_rejects_a_bad_id_anywhere() {
        every_path_rejects_a_bad_id(false);
    }

    /// The same in the lasting-DISABLE mode.
    #[test]
    fn every_path_rejects_a_bad_id_in_the_lasting_mode() {
        every_path_rejects_a_bad_id(true);
    }

    /// The same with ids in the host's numbering, where 17 and 18 are bad
    /// too (and the error counts in that numbering), in both modes.
    #[test]
    fn every_path_rejects_a_bad_id_in_the_host_numbering() {
        every_path_rejects_a_bad_id_in(false, true);
        every_path_rejects_a_bad_id_in(true, true);
    }

    fn every_path_rejects_a_bad_id(lasting: bool) {
        every_path_rejects_a_bad_id_in(lasting, false);
    }

    fn every_path_rejects_a_bad_id_in(lasting: bool, host: bool) {
        let _g = registry_lock();
        set_tools_in(
            &[0x7ffff, 0x5555, 0x2aaaa, 0x1234, 0x4321, 0xffff],
            lasting,
            host,
        );
        let (bad_ids, fills): (&[u8], [u8; 2]) = if host {
            (
                &[17, 18, 19, 110, 111, 112, 127, 128, 143, 144, 145, 200, 255],
                [15, 16],
            )
        } else {
            (
                &[
                    19, 20, 109, 111, 112, 127, 128, 143, 144, 146, 147, 200, 255,
                ],
                [15, 18],
            )
        };
        for len in 1..=70usize {
            for at in 0..len {
                for &bad in bad_ids {
                    for fill in fills {
                        let mut ids: Vec<u8> = (0..len)
                            .map(|i| (i * 5 % (usize::from(fill) + 1)) as u8)
                            .collect();
                        ids[at] = bad;
                        let want = if host {
                            scope::invalid_event_313(&ids)
                        } else {
                            scope::refresh(
                                &(0..len).map(|_| SlotState::default()).collect::<Vec<_>>(),
                                &Cell::new(0),
                                &ids,
                            )
                            .unwrap_err()
                        };
                        for (name, path) in paths(len, lasting, host) {
                            let mut buf = vec![0xA5u8; 2 * len];
                            let mut version = 7u64;
                            // SAFETY: `len` slots and ids.
                            let rc =
                                unsafe { path(buf.as_mut_ptr(), &mut version, ids.as_ptr(), len) };
                            assert_eq!(rc, -1, "{name} len {len} at {at} bad {bad}");
                            assert_eq!(message(), want.message(), "{name}");
                            PyMonitoring_ErrClear();
                            assert!(buf.iter().all(|&b| b == 0xA5), "{name} len {len} at {at}");
                            assert_eq!(version, 7, "{name}");
                        }
                    }
                }
            }
        }
    }

    /// The idle refresh (`scope::enter_scope_idle`, which
    /// `PyMonitoring_EnterScope` takes while no tool has an event and no
    /// option is set) against the core, with a tool set and freed: every
    /// length 0-70 at 4 alignments, random `active`/`opaque` bytes and
    /// ids (sometimes all below 16, the case it takes inline); a bad id
    /// anywhere is -1 with the core's message and nothing written.
    #[test]
    fn the_idle_refresh_matches_the_core() {
        let _g = registry_lock();
        registry::use_tool_id(4, "gone").unwrap();
        registry::set_events(4, EventSet::LINE.bits()).unwrap();
        registry::free_tool_id(4).unwrap();
        unsafe extern "C" fn idle(s: *mut u8, v: *mut u64, e: *const u8, n: usize) -> c_int {
            // SAFETY: forwarded; the registry holds no event (above).
            unsafe { super::super::scope::enter_scope_idle(s.cast(), v, e, n, registry::version()) }
        }
        unsafe extern "C" fn exported(s: *mut u8, v: *mut u64, e: *const u8, n: usize) -> c_int {
            // SAFETY: forwarded.
            unsafe { PyMonitoring_EnterScope(s.cast(), v, e, n as Py_ssize_t) }
        }
        let paths: [(&str, Refresh); 2] = [("idle", idle), ("exported", exported)];
        let strategy = (
            proptest::collection::vec(0..Event::COUNT as u8, 70),
            proptest::collection::vec(any::<u8>(), 2 * 70 + 64),
            any::<bool>(),
            0..4usize,
        );
        let mut runner = TestRunner::new(Config {
            cases: 24,
            ..Config::default()
        });
        runner
            .run(&strategy, |(ids, bytes, low, shift)| {
                let ids: Vec<u8> = ids.iter().map(|&i| if low { i % 16 } else { i }).collect();
                for len in 0..=70usize {
                    let (want, want_version) =
                        reference(&bytes[shift..shift + 2 * len], &ids[..len]);
                    for (name, path) in paths {
                        let mut buf = bytes.clone();
                        let mut version = u64::MAX;
                        // SAFETY: `len` slots and ids in live buffers.
                        let rc = unsafe {
                            path(buf.as_mut_ptr().add(shift), &mut version, ids.as_ptr(), len)
                        };
                        matches_core(
                            name,
                            rc,
                            &buf,
                            &bytes,
                            shift,
                            &want,
                            (version, want_version),
                        )?;
                    }
                }
                Ok(())
            })
            .unwrap();
        for len in 1..=70usize {
            for at in 0..len {
                for bad in [19u8, 20, 109, 127, 128, 146, 147, 200, 255] {
                    let mut ids: Vec<u8> = (0..len).map(|i| (i % Event::COUNT) as u8).collect();
                    ids[at] = bad;
                    let want = scope::refresh(
                        &(0..len).map(|_| SlotState::default()).collect::<Vec<_>>(),
                        &Cell::new(0),
                        &ids,
                    )
                    .unwrap_err();
                    for (name, path) in paths {
                        let mut buf = vec![0xA5u8; 2 * len];
                        let mut version = 7u64;
                        // SAFETY: `len` slots and ids.
                        let rc = unsafe { path(buf.as_mut_ptr(), &mut version, ids.as_ptr(), len) };
                        assert_eq!(rc, -1, "{name} len {len} at {at} bad {bad}");
                        assert_eq!(message(), want.message(), "{name}");
                        PyMonitoring_ErrClear();
                        assert!(buf.iter().all(|&b| b == 0xA5), "{name} len {len} at {at}");
                        assert_eq!(version, 7, "{name}");
                    }
                }
            }
        }
    }

    /// The kernel choice: detected once, then remembered in the route
    /// byte's low bits; a CPU with AVX2 runs the AVX2 kernel. With the
    /// restart gate closed the byte is the kernel's value; with it open
    /// (other tests of this process may have opened it) the byte names the
    /// marked kernel exactly while the lasting mode's refresh needs no
    /// translation, and no kernel otherwise.
    #[test]
    #[cfg(all(target_arch = "x86_64", not(loom)))]
    fn kernel_detection_is_remembered() {
        use super::super::simd::{self, Kernel};
        use crate::ext::restarts::{GATE, KERNEL, MARKED};
        let _g = registry_lock();
        let k = simd::detect();
        let route = simd::route();
        assert_eq!(route & KERNEL, k as u8);
        let ext = registry::global().ext();
        let marked = ext.lasting_mode() && ext.refresh_limit() > 0;
        assert_eq!(route & MARKED != 0, marked);
        if route & GATE == 0 {
            assert_eq!(route, k as u8);
        } else if marked {
            assert_eq!(route, GATE | MARKED | k as u8);
        }
        let want = if std::is_x86_feature_detected!("avx2") {
            Kernel::Avx2
        } else if std::is_x86_feature_detected!("ssse3") {
            Kernel::Ssse3
        } else {
            Kernel::Scalar
        };
        assert_eq!(k, want);
        if k != Kernel::Scalar {
            assert_eq!(
                (GATE | MARKED | k as u8),
                if k == Kernel::Avx2 {
                    Kernel::Avx2Marked
                } else {
                    Kernel::Ssse3Marked
                } as u8
            );
        }
    }

    /// The route byte's `MARKED` bit follows the options: set while the
    /// lasting mode is on and the host's numbering off, whatever the order
    /// of the switches; the gate stays open once opened.
    #[test]
    fn the_route_byte_marks_the_lasting_mode_without_translation() {
        use crate::ext::options::{self, CPYTHON_313_EVENT_IDS, LASTING_DISABLE};
        use crate::ext::restarts::{GATE, MARKED};
        let _g = registry_lock();
        registry::reset_for_tests();
        let route = || registry::global().ext().route();
        for (set, marked) in [
            (LASTING_DISABLE, true),
            (LASTING_DISABLE | CPYTHON_313_EVENT_IDS, false),
            (LASTING_DISABLE, true),
            (CPYTHON_313_EVENT_IDS, false),
            (0, false),
            (LASTING_DISABLE, true),
            (0, false),
        ] {
            options::set(set).unwrap();
            assert_eq!(route() & MARKED != 0, marked, "options {set:#x}");
            assert_ne!(route() & GATE, 0, "options {set:#x}");
        }
        registry::reset_for_tests();
        assert_eq!(route() & MARKED, 0);
    }

    /// The entry's own load of the version and compare of the idle word
    /// read what the registry's accessors read, across changes of both.
    #[test]
    fn the_entry_reads_the_registrys_words() {
        let _g = registry_lock();
        let same = || {
            assert_eq!(super::super::scope::global_version(), registry::version());
            let idle = registry::global().idle_version();
            assert!(super::super::scope::idle_at(idle));
            assert!(!super::super::scope::idle_at(idle ^ 1));
        };
        same();
        registry::use_tool_id(3, "t").unwrap();
        registry::set_events(3, EventSet::LINE.bits()).unwrap();
        same();
        registry::free_tool_id(3).unwrap();
        same();
    }

    /// Valid arguments whose pointers AND to 0 (three mappings at
    /// addresses with no bit in common), which `PyMonitoring_EnterScope`'s
    /// filter sends to its exact checks: the same answers, writes and
    /// errors as the same arguments elsewhere, through both entry points,
    /// current or stale, idle or not, every length 0-20.
    #[test]
    #[cfg(target_os = "linux")]
    fn arguments_the_entry_filter_leaves_out_get_the_same_answers() {
        let _g = registry_lock();
        let page = 4096;
        // Three pages at 1 << k, 1 << (k + 1), 1 << (k + 2), for the first
        // k where all three are free.
        let maps = (32..44)
            .find_map(|k| {
                let mut got = Vec::new();
                for i in 0..3 {
                    let at = 1usize << (k + i);
                    // SAFETY: a fresh anonymous mapping where nothing is
                    // mapped (NOREPLACE), unmapped below.
                    let p = unsafe {
                        libc::mmap(
                            at as *mut c_void,
                            page,
                            libc::PROT_READ | libc::PROT_WRITE,
                            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
                            -1,
                            0,
                        )
                    };
                    if p as usize != at {
                        for &q in &got {
                            // SAFETY: mapped above.
                            unsafe { libc::munmap(q, page) };
                        }
                        return None;
                    }
                    got.push(p);
                }
                Some(got)
            })
            .expect("three free pages at single-bit addresses");
        let (states, version, events) = (
            maps[0].cast::<PyMonitoringState>(),
            maps[1].cast::<u64>(),
            maps[2].cast::<u8>(),
        );
        assert_eq!(states as usize & version as usize & events as usize, 0);
        type Entry =
            unsafe extern "C" fn(*mut PyMonitoringState, *mut u64, *const u8, Py_ssize_t) -> c_int;
        let entries: [(&str, Entry); 2] = [
            ("PyMonitoring_EnterScope", PyMonitoring_EnterScope),
            ("_PyMonitoring_EnterScope", _PyMonitoring_EnterScope),
        ];
        let idle = [false, true];
        for idle in idle {
            registry::reset_for_tests();
            registry::use_tool_id(2, "t").unwrap();
            registry::set_events(2, (EventSet::PY_START | EventSet::LINE).bits()).unwrap();
            if idle {
                registry::free_tool_id(2).unwrap();
            }
            for len in 0..=20usize {
                for stored in [registry::version(), u64::MAX] {
                    for bad in [None, Some(len.saturating_sub(1))] {
                        let mut ids: Vec<u8> = (0..len).map(|i| (i * 5 % 16) as u8).collect();
                        if let (Some(at), true) = (bad, len > 0) {
                            ids[at] = 19;
                        }
                        let bytes: Vec<u8> = (0..2 * len).map(|i| (i * 37 + 11) as u8).collect();
                        for (name, entry) in entries {
                            // The same call on ordinary buffers, then on the
                            // mappings.
                            let mut buf = bytes.clone();
                            let mut v = stored;
                            // SAFETY: `len` slots and ids in live buffers.
                            let want = unsafe {
                                entry(buf.as_mut_ptr().cast(), &mut v, ids.as_ptr(), len as _)
                            };
                            let want_error = (want != 0).then(message);
                            PyMonitoring_ErrClear();
                            // SAFETY: the pages hold `len` (<= 20) slots and
                            // ids and a version word.
                            let got = unsafe {
                                std::ptr::copy_nonoverlapping(
                                    bytes.as_ptr(),
                                    states.cast(),
                                    2 * len,
                                );
                                std::ptr::copy_nonoverlapping(ids.as_ptr(), events, len);
                                *version = stored;
                                entry(states, version, events, len as _)
                            };
                            let got_error = (got != 0).then(message);
                            PyMonitoring_ErrClear();
                            let at =
                                format!("{name} idle {idle} len {len} stored {stored} bad {bad:?}");
                            assert_eq!(got, want, "{at}");
                            assert_eq!(got_error, want_error, "{at}");
                            // SAFETY: as above.
                            let (written, v_got) = unsafe {
                                (
                                    std::slice::from_raw_parts(states.cast::<u8>(), 2 * len),
                                    *version,
                                )
                            };
                            assert_eq!(written, &buf[..], "{at}");
                            assert_eq!(v_got, v, "{at}");
                        }
                    }
                }
            }
        }
        for p in maps {
            // SAFETY: mapped above, nothing refers to it any more.
            unsafe { libc::munmap(p, page) };
        }
    }
}
