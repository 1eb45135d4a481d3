//! Criterion benchmarks of the hot paths, Rust calling the exported
//! `extern "C"` functions (`pymonitoring::ffi::*`). The same cases as
//! `bench/cbench.c` (which measures them through the real C ABI and the PLT,
//! with callgrind, side by side with CPython: `bench/run.sh`), plus the floors
//! (a relaxed byte load, an empty exported call) and the scaling series: fires
//! against 1-6 tools, EnterScope against length 1/7/17/64, fires from 1 and 2
//! threads at once; and the time to fill the code-like table to its limit.

use std::ffi::{c_int, c_void};
use std::hint::black_box;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pymonitoring::ffi::*;

static OBJ: [u64; 2] = [0; 2];

fn code() -> *mut PyObject {
    OBJ.as_ptr() as *mut PyObject
}

fn exc() -> *mut PyObject {
    OBJ[1..].as_ptr() as *mut PyObject
}

unsafe extern "C" fn cb_none(data: *mut c_void, _ev: *const PyMonitoringEvent) -> c_int {
    black_box(data);
    0
}

unsafe extern "C" fn cb_disable(_data: *mut c_void, _ev: *const PyMonitoringEvent) -> c_int {
    PY_MONITORING_DISABLE
}

type Callback = unsafe extern "C" fn(*mut c_void, *const PyMonitoringEvent) -> c_int;

fn tools_clear() {
    for t in 0..6 {
        assert_eq!(PyMonitoring_FreeToolId(t), 0);
    }
}

fn tool_on(tool: c_int, event: c_int, cb: Callback) {
    // SAFETY: a NUL-terminated name and a callback of the declared type.
    unsafe {
        assert_eq!(PyMonitoring_UseToolId(tool, c"bench".as_ptr()), 0);
        assert_eq!(
            PyMonitoring_RegisterCallback(tool, event, Some(cb), std::ptr::null_mut()),
            0
        );
    }
    assert_eq!(PyMonitoring_SetEvents(tool, 1 << event), 0);
}

fn enter(states: &mut [PyMonitoringState], version: &mut u64, events: &[u8]) -> c_int {
    // SAFETY: both slices have `states.len()` elements.
    unsafe {
        PyMonitoring_EnterScope(
            states.as_mut_ptr(),
            version,
            events.as_ptr(),
            states.len() as Py_ssize_t,
        )
    }
}

/// A Cython-style function body: fresh states, EnterScope, START, RETURN, Exit.
#[inline(never)]
fn cython_call() -> c_int {
    const EVENTS: [u8; 7] = [
        PY_MONITORING_EVENT_PY_START as u8,
        PY_MONITORING_EVENT_PY_RETURN as u8,
        PY_MONITORING_EVENT_PY_YIELD as u8,
        PY_MONITORING_EVENT_PY_RESUME as u8,
        PY_MONITORING_EVENT_PY_UNWIND as u8,
        PY_MONITORING_EVENT_CALL as u8,
        PY_MONITORING_EVENT_RAISE as u8,
    ];
    let mut states = [PyMonitoringState::default(); 7];
    let mut version = 0;
    if enter(&mut states, &mut version, &EVENTS) < 0 {
        return -1;
    }
    // SAFETY: valid states; `code()` is a live object identity.
    unsafe {
        if states[0].active != 0 && _PyMonitoring_FirePyStartEvent(&mut states[0], code(), 0) < 0 {
            return -1;
        }
        if states[1].active != 0
            && _PyMonitoring_FirePyReturnEvent(&mut states[1], code(), 2, code()) < 0
        {
            return -1;
        }
    }
    PyMonitoring_ExitScope()
}

fn floors_and_inactive(c: &mut Criterion) {
    let mut g = c.benchmark_group("floor");
    // Before any tool sets events (the global version is still 0).
    g.bench_function("cython_call_no_tool_ever", |b| {
        b.iter(|| black_box(cython_call()))
    });
    let byte = AtomicU8::new(0);
    g.bench_function("relaxed_u8_load", |b| {
        b.iter(|| black_box(black_box(&byte).load(Ordering::Relaxed)))
    });
    g.bench_function("empty_extern_call", |b| {
        b.iter(|| black_box(PyMonitoring_ExitScope()))
    });
    let mut state = PyMonitoringState::default();
    g.bench_function("fire_inactive_exported", |b| {
        // SAFETY: a valid state.
        b.iter(|| unsafe {
            black_box(PyMonitoring_FirePyStartEvent(
                black_box(&mut state),
                code(),
                0,
            ))
        })
    });
    g.finish();
}

fn enter_scope(c: &mut Criterion) {
    tools_clear();
    tool_on(4, PY_MONITORING_EVENT_LINE, cb_none);
    let events: Vec<u8> = (0..64).map(|i| (i % 17) as u8).collect();
    let mut states = [PyMonitoringState::default(); 64];
    let mut g = c.benchmark_group("enter_scope");
    for len in [1usize, 7, 17, 64] {
        let mut version = u64::MAX;
        assert_eq!(enter(&mut states[..len], &mut version, &events[..len]), 0);
        g.bench_with_input(BenchmarkId::new("unchanged", len), &len, |b, &len| {
            b.iter(|| {
                black_box(enter(
                    &mut states[..len],
                    black_box(&mut version),
                    &events[..len],
                ))
            })
        });
        g.bench_with_input(BenchmarkId::new("refresh", len), &len, |b, &len| {
            b.iter(|| {
                let mut stale = u64::MAX;
                black_box(enter(
                    &mut states[..len],
                    black_box(&mut stale),
                    &events[..len],
                ))
            })
        });
    }
    g.bench_function("cython_call_refreshing_7", |b| {
        b.iter(|| black_box(cython_call()))
    });
    g.finish();
    tools_clear();
}

fn fire_active(c: &mut Criterion) {
    let mut g = c.benchmark_group("fire_active");
    for tools in 1..=6 {
        tools_clear();
        for t in 0..tools {
            tool_on(5 - t, PY_MONITORING_EVENT_PY_START, cb_none);
        }
        let mut st = [PyMonitoringState::default()];
        let mut v = u64::MAX;
        assert_eq!(
            enter(&mut st, &mut v, &[PY_MONITORING_EVENT_PY_START as u8]),
            0
        );
        g.bench_with_input(BenchmarkId::new("py_start_tools", tools), &tools, |b, _| {
            // SAFETY: a valid state.
            b.iter(|| unsafe { black_box(PyMonitoring_FirePyStartEvent(&mut st[0], code(), 0)) })
        });
    }
    tools_clear();
    tool_on(2, PY_MONITORING_EVENT_LINE, cb_none);
    let mut st = [PyMonitoringState::default()];
    let mut v = u64::MAX;
    assert_eq!(enter(&mut st, &mut v, &[PY_MONITORING_EVENT_LINE as u8]), 0);
    g.bench_function("line_1000", |b| {
        // SAFETY: a valid state.
        b.iter(|| unsafe { black_box(PyMonitoring_FireLineEvent(&mut st[0], code(), 4, 1000)) })
    });
    tools_clear();
    tool_on(2, PY_MONITORING_EVENT_RAISE, cb_none);
    let mut v = u64::MAX;
    assert_eq!(
        enter(&mut st, &mut v, &[PY_MONITORING_EVENT_RAISE as u8]),
        0
    );
    PyMonitoring_SetRaisedException(exc());
    g.bench_function("raise_exception_set", |b| {
        // SAFETY: a valid state.
        b.iter(|| unsafe { black_box(PyMonitoring_FireRaiseEvent(&mut st[0], code(), 6)) })
    });
    assert_eq!(PyMonitoring_GetRaisedException(), exc());
    tools_clear();
    tool_on(2, PY_MONITORING_EVENT_PY_START, cb_disable);
    g.bench_function("refresh_1_then_disable", |b| {
        b.iter(|| {
            let mut stale = u64::MAX;
            enter(&mut st, &mut stale, &[PY_MONITORING_EVENT_PY_START as u8]);
            // SAFETY: a valid state.
            black_box(unsafe { PyMonitoring_FirePyStartEvent(&mut st[0], code(), 0) })
        })
    });
    g.finish();
    tools_clear();
}

/// Aggregate time for `iters` fires split over `threads` threads.
fn fire_threads(threads: usize, iters: u64) -> Duration {
    let per = iters.div_ceil(threads as u64);
    let start = Arc::new(Barrier::new(threads + 1));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let start = start.clone();
            std::thread::spawn(move || {
                let mut st = [PyMonitoringState::default()];
                let mut v = u64::MAX;
                assert_eq!(
                    enter(&mut st, &mut v, &[PY_MONITORING_EVENT_PY_START as u8]),
                    0
                );
                // SAFETY: a valid state.
                unsafe { PyMonitoring_FirePyStartEvent(&mut st[0], code(), 0) };
                start.wait();
                for _ in 0..per {
                    // SAFETY: a valid state.
                    black_box(unsafe { PyMonitoring_FirePyStartEvent(&mut st[0], code(), 0) });
                }
            })
        })
        .collect();
    start.wait();
    let t0 = Instant::now();
    for h in handles {
        h.join().unwrap();
    }
    t0.elapsed()
}

fn threads(c: &mut Criterion) {
    tools_clear();
    tool_on(2, PY_MONITORING_EVENT_PY_START, cb_none);
    let mut g = c.benchmark_group("fire_threads");
    g.throughput(Throughput::Elements(1));
    for n in [1usize, 2] {
        g.bench_with_input(BenchmarkId::new("py_start_1tool", n), &n, |b, &n| {
            b.iter_custom(|iters| fire_threads(n, iters))
        });
    }
    g.finish();
    tools_clear();
}

fn registry_writes(c: &mut Criterion) {
    tools_clear();
    assert_eq!(
        // SAFETY: a NUL-terminated name.
        unsafe { PyMonitoring_UseToolId(3, c"bench".as_ptr()) },
        0
    );
    let mut g = c.benchmark_group("registry");
    let mut flip = false;
    g.bench_function("set_events", |b| {
        b.iter(|| {
            flip = !flip;
            black_box(PyMonitoring_SetEvents(3, if flip { 1 } else { 2 }))
        })
    });
    g.bench_function("register_callback", |b| {
        b.iter(|| {
            flip = !flip;
            let cb: Callback = if flip { cb_none } else { cb_disable };
            // SAFETY: a callback of the declared type.
            black_box(unsafe {
                PyMonitoring_RegisterCallback(3, 0, Some(cb), std::ptr::null_mut())
            })
        })
    });
    g.finish();
    tools_clear();
}

/// A fabricated code-like identity (never dereferenced).
fn codelike(i: usize) -> *mut PyObject {
    (0x10_0000 + 16 * i) as *mut PyObject
}

/// Fill the code-like table to its limit (65,536 code-likes with local
/// events, or armed), timing the registrations only; freeing the tool
/// empties it again between iterations.
fn fill_codelikes(iters: u64, arm: bool) -> Duration {
    const N: usize = 65_536;
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        tools_clear();
        // SAFETY: a NUL-terminated name.
        assert_eq!(unsafe { PyMonitoring_UseToolId(3, c"bench".as_ptr()) }, 0);
        let start = Instant::now();
        for i in 0..N {
            let rc = if arm {
                let site = i as i32;
                // SAFETY: one site, read from a live local.
                unsafe {
                    PyMonitoring_ArmSites(3, codelike(i), PY_MONITORING_ARM_OFFSETS, &site, 1)
                }
            } else {
                PyMonitoring_SetLocalEvents(3, codelike(i), 1 << PY_MONITORING_EVENT_LINE)
            };
            assert_eq!(rc, 0);
        }
        total += start.elapsed();
    }
    tools_clear();
    total
}

fn codelike_table(c: &mut Criterion) {
    let mut g = c.benchmark_group("codelikes");
    g.sample_size(10);
    g.throughput(Throughput::Elements(65_536));
    g.bench_function("set_local_events_65536", |b| {
        b.iter_custom(|iters| fill_codelikes(iters, false))
    });
    g.bench_function("arm_sites_65536", |b| {
        b.iter_custom(|iters| fill_codelikes(iters, true))
    });
    g.finish();
}

criterion_group!(
    benches,
    floors_and_inactive,
    enter_scope,
    fire_active,
    threads,
    registry_writes,
    codelike_table
);
criterion_main!(benches);
