/* Shared pieces of the cpython_*.c harnesses: C ports of CPython's
 * Lib/test/test_monitoring.py TestCApiEventGeneration (3.14 case table) and
 * the additions listed in docs/CONFORMANCE.md.
 *
 * CPython's _testcapi CodeLike is modelled by CodeLike below: a zeroed state
 * array and a version stored with it. Fire helpers call the plain
 * PyMonitoring_Fire*Event functions (the static inline wrappers when built
 * with -DPYMONITORING_INLINE, as CPython's _testcapi does). */
#ifndef PYMONITORING_CPYTHON_CASES_H
#define PYMONITORING_CPYTHON_CASES_H

#include <stdint.h>
#include <string.h>

#include "harness.h"

/* harness.h's recorder, for the harnesses that record whole sequences. */
static inline PyMonitoringCallback recorder(void) { return record_event; }

/* The fire returned 0; an exception event leaves its exception pending, so
 * the indicator is not checked here. */
#define CHECK_FIRED(rc) CHECK_EQ_INT((rc), 0)

#define TEST_TOOL 2
#define EVBIT(ev) (1u << (ev))

/* _testcapi's CodeLike(n): zeroed states and a version stored with them. */
typedef struct CodeLike {
    PyMonitoringState states[8];
    uint64_t version;
    int n;
} CodeLike;

static inline void codelike_init(CodeLike *cl, int n) {
    memset(cl, 0, sizeof *cl);
    cl->n = n;
}

/* monitoring_enter_scope(codelike, ev1[, ev2]) */
static inline int codelike_enter(CodeLike *cl, int n, const uint8_t *events) {
    return PyMonitoring_EnterScope(cl->states, &cl->version, events, n);
}

#define CODE OBJ(50)

static inline int is_exception_event(int ev) {
    switch (ev) {
    case PY_MONITORING_EVENT_PY_THROW:
    case PY_MONITORING_EVENT_RAISE:
    case PY_MONITORING_EVENT_EXCEPTION_HANDLED:
    case PY_MONITORING_EVENT_PY_UNWIND:
    case PY_MONITORING_EVENT_RERAISE:
    case PY_MONITORING_EVENT_C_RAISE:
        return 1;
    default:
        return 0;
    }
}

/* CPython's CANNOT_DISABLE plus C_RETURN / C_RAISE (ids 11-17). */
static inline int cannot_disable(int ev) { return ev >= PY_MONITORING_EVENT_RAISE && ev <= 17; }

static inline const char *event_name(int ev) {
    static const char *names[] = {
        "PY_START", "PY_RESUME", "PY_RETURN", "PY_YIELD", "CALL", "LINE", "INSTRUCTION",
        "JUMP", "BRANCH_LEFT", "BRANCH_RIGHT", "STOP_ITERATION", "RAISE", "EXCEPTION_HANDLED",
        "PY_UNWIND", "PY_THROW", "RERAISE", "C_RETURN", "C_RAISE", "BRANCH"};
    return (ev >= 0 && ev < 19) ? names[ev] : "?";
}

/* Fire `ev` through the plain entry points. For exception events the caller
 * sets the pending exception; a0/a1 are the extra arguments (LINE: a0 is
 * ignored and `lineno` is used). */
static inline int fire(int ev, PyMonitoringState *st, PyObject *code, int32_t off, PyObject *a0,
                       PyObject *a1, int lineno) {
    switch (ev) {
    case PY_MONITORING_EVENT_PY_START: return PyMonitoring_FirePyStartEvent(st, code, off);
    case PY_MONITORING_EVENT_PY_RESUME: return PyMonitoring_FirePyResumeEvent(st, code, off);
    case PY_MONITORING_EVENT_PY_RETURN: return PyMonitoring_FirePyReturnEvent(st, code, off, a0);
    case PY_MONITORING_EVENT_PY_YIELD: return PyMonitoring_FirePyYieldEvent(st, code, off, a0);
    case PY_MONITORING_EVENT_CALL: return PyMonitoring_FireCallEvent(st, code, off, a0, a1);
    case PY_MONITORING_EVENT_LINE: return PyMonitoring_FireLineEvent(st, code, off, lineno);
    case PY_MONITORING_EVENT_JUMP: return PyMonitoring_FireJumpEvent(st, code, off, a0);
    case PY_MONITORING_EVENT_BRANCH_LEFT: return PyMonitoring_FireBranchLeftEvent(st, code, off, a0);
    case PY_MONITORING_EVENT_BRANCH_RIGHT:
        return PyMonitoring_FireBranchRightEvent(st, code, off, a0);
    case PY_MONITORING_EVENT_STOP_ITERATION:
        return PyMonitoring_FireStopIterationEvent(st, code, off, a0);
    case PY_MONITORING_EVENT_RAISE: return PyMonitoring_FireRaiseEvent(st, code, off);
    case PY_MONITORING_EVENT_EXCEPTION_HANDLED:
        return PyMonitoring_FireExceptionHandledEvent(st, code, off);
    case PY_MONITORING_EVENT_PY_UNWIND: return PyMonitoring_FirePyUnwindEvent(st, code, off);
    case PY_MONITORING_EVENT_PY_THROW: return PyMonitoring_FirePyThrowEvent(st, code, off);
    case PY_MONITORING_EVENT_RERAISE: return PyMonitoring_FireReraiseEvent(st, code, off);
    case PY_MONITORING_EVENT_C_RETURN: return PyMonitoring_FireCReturnEvent(st, code, off, a0);
    case PY_MONITORING_EVENT_C_RAISE: return PyMonitoring_FireCRaiseEvent(st, code, off);
    default:
        fprintf(stderr, "fire: no fire function for event %d\n", ev);
        abort();
    }
}

/* The same through the underscore entry points (what CPython-compiled
 * objects link to). */
static inline int fire_underscore(int ev, PyMonitoringState *st, PyObject *code, int32_t off,
                                  PyObject *a0, PyObject *a1, int lineno) {
    switch (ev) {
    case PY_MONITORING_EVENT_PY_START: return _PyMonitoring_FirePyStartEvent(st, code, off);
    case PY_MONITORING_EVENT_PY_RESUME: return _PyMonitoring_FirePyResumeEvent(st, code, off);
    case PY_MONITORING_EVENT_PY_RETURN: return _PyMonitoring_FirePyReturnEvent(st, code, off, a0);
    case PY_MONITORING_EVENT_PY_YIELD: return _PyMonitoring_FirePyYieldEvent(st, code, off, a0);
    case PY_MONITORING_EVENT_CALL: return _PyMonitoring_FireCallEvent(st, code, off, a0, a1);
    case PY_MONITORING_EVENT_LINE: return _PyMonitoring_FireLineEvent(st, code, off, lineno);
    case PY_MONITORING_EVENT_JUMP: return _PyMonitoring_FireJumpEvent(st, code, off, a0);
    case PY_MONITORING_EVENT_BRANCH_LEFT:
        return _PyMonitoring_FireBranchLeftEvent(st, code, off, a0);
    case PY_MONITORING_EVENT_BRANCH_RIGHT:
        return _PyMonitoring_FireBranchRightEvent(st, code, off, a0);
    case PY_MONITORING_EVENT_STOP_ITERATION:
        return _PyMonitoring_FireStopIterationEvent(st, code, off, a0);
    case PY_MONITORING_EVENT_RAISE: return _PyMonitoring_FireRaiseEvent(st, code, off);
    case PY_MONITORING_EVENT_EXCEPTION_HANDLED:
        return _PyMonitoring_FireExceptionHandledEvent(st, code, off);
    case PY_MONITORING_EVENT_PY_UNWIND: return _PyMonitoring_FirePyUnwindEvent(st, code, off);
    case PY_MONITORING_EVENT_PY_THROW: return _PyMonitoring_FirePyThrowEvent(st, code, off);
    case PY_MONITORING_EVENT_RERAISE: return _PyMonitoring_FireReraiseEvent(st, code, off);
    case PY_MONITORING_EVENT_C_RETURN: return _PyMonitoring_FireCReturnEvent(st, code, off, a0);
    case PY_MONITORING_EVENT_C_RAISE: return _PyMonitoring_FireCRaiseEvent(st, code, off);
    default:
        fprintf(stderr, "fire_underscore: no fire function for event %d\n", ev);
        abort();
    }
}

/* CPython 3.14's case table: (expected count, event, extra arguments).
 * `exc` is the exception set before firing for the exception events.
 * CALL counts 1 here where CPython's test counts 2: its tool's events are
 * set globally, so the interpreter's own CALL event for the Python-level
 * `func(*args)` in the test method reaches the same callback; a C-only
 * implementation has no interpreter firing events. */
typedef struct Case {
    int expected;
    int event;
    PyObject *arg0; /* retval / callable / target / value; exception for exc events */
    PyObject *arg1; /* CALL's arg0 */
} Case;

#define N_CASES 14
static inline void cases_init(Case *c) {
    Case table[N_CASES] = {
        {1, PY_MONITORING_EVENT_PY_START, NULL, NULL},
        {1, PY_MONITORING_EVENT_PY_RESUME, NULL, NULL},
        {1, PY_MONITORING_EVENT_PY_YIELD, OBJ(10), NULL},
        {1, PY_MONITORING_EVENT_PY_RETURN, OBJ(20), NULL},
        {1, PY_MONITORING_EVENT_CALL, OBJ(30), OBJ(40)},
        {1, PY_MONITORING_EVENT_JUMP, OBJ(60), NULL},
        {1, PY_MONITORING_EVENT_BRANCH_RIGHT, OBJ(61), NULL},
        {1, PY_MONITORING_EVENT_BRANCH_LEFT, OBJ(62), NULL},
        {1, PY_MONITORING_EVENT_PY_THROW, OBJ(1), NULL},
        {1, PY_MONITORING_EVENT_RAISE, OBJ(2), NULL},
        {1, PY_MONITORING_EVENT_EXCEPTION_HANDLED, OBJ(5), NULL},
        {1, PY_MONITORING_EVENT_PY_UNWIND, OBJ(6), NULL},
        {1, PY_MONITORING_EVENT_STOP_ITERATION, OBJ(7), NULL},
        {1, PY_MONITORING_EVENT_STOP_ITERATION, OBJ(8), NULL},
    };
    memcpy(c, table, sizeof table);
}

/* Fire one case at slot `slot` of `cl` (offset = slot, as _testcapi does),
 * setting the case's exception first for exception events. */
static inline int fire_case(const Case *c, CodeLike *cl, int slot) {
    if (is_exception_event(c->event)) {
        PyMonitoring_SetRaisedException(c->arg0);
        return fire(c->event, &cl->states[slot], CODE, slot, NULL, NULL, 0);
    }
    return fire(c->event, &cl->states[slot], CODE, slot, c->arg0, c->arg1, 0);
}

/* A counting callback: counts, then answers `answer`; with `error_once` set
 * it fails (setting a host exception) on its first call. */
typedef struct Counter {
    int count;
    int answer;
    int fail_next;
    PyObject *fail_with;
    PyMonitoringEvent last;
} Counter;

static inline int count_event(void *data, const PyMonitoringEvent *ev) {
    Counter *c = (Counter *)data;
    c->count++;
    c->last = *ev;
    if (PyMonitoring_ErrOccurred()) {
        fprintf(stderr, "callback ran with an error pending\n");
        harness_failures++;
    }
    if (c->fail_next) {
        c->fail_next = 0;
        PyMonitoring_SetRaisedException(c->fail_with);
        return -1;
    }
    return c->answer;
}

/* The global events a case needs (C_RETURN / C_RAISE ride on CALL). */
static inline uint32_t events_for(int ev) {
    if (ev == PY_MONITORING_EVENT_C_RETURN || ev == PY_MONITORING_EVENT_C_RAISE) {
        return EVBIT(PY_MONITORING_EVENT_CALL) | EVBIT(PY_MONITORING_EVENT_C_RETURN) |
               EVBIT(PY_MONITORING_EVENT_C_RAISE);
    }
    return EVBIT(ev);
}

/* MonitoringTestBase.setUp/tearDown: tool 2 is claimed; no tool has events
 * set before or after each test. */
static inline void no_events_set(void) {
    for (int t = 0; t < 6; t++) {
        uint32_t set = 0xffffffffu;
        CHECK_OK(PyMonitoring_GetEvents(t, &set), 0);
        CHECK_EQ_INT(set, 0);
    }
}

#endif
