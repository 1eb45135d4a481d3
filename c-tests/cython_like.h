/* A model of how Cython (3.1 and later) generated C drives the monitoring C
 * API, for the cython_*.c harnesses. It reproduces the calling protocol, not
 * Cython's code: see Cython's Cython/Utility/Profile.c (the __Pyx_Trace*
 * macros); tests/cython_host/ checks a module compiled by Cython itself.
 *
 * - One opaque code-like per emulated function, created once ("module init")
 *   and shared by every call and thread (CyFunction; its address is the
 *   codelike).
 * - Plain functions keep PyMonitoringState states[7] on the C stack, memset
 *   at every call, and call EnterScope with a fresh local version 0 every
 *   call; event types in Cython's order PY_START, PY_RETURN, PY_UNWIND, LINE,
 *   RAISE, RERAISE, EXCEPTION_HANDLED (+ PY_RESUME, PY_YIELD, STOP_ITERATION
 *   for generators, length 10).
 * - Generators keep states[10] and a version inside the generator object; the
 *   version is copied to a local at every body entry and never written back,
 *   so it stays 0.
 * - A yield is fired on the PY_RETURN slot, gated on the PY_YIELD slot, and
 *   followed by ExitScope; with PY_YIELD off a suspension calls no ExitScope.
 * - RAISE on the error path passes the source line number as the offset and
 *   is suppressed by the "already reported" flag; generator offsets are 0.
 * - ExitScope at the single exit of every activation, also when no
 *   EnterScope was made because the call came from inside a callback
 *   (cy_tracing, the model of CPython's tstate->tracing).
 * - Host exceptions are PyMonitoring_SetRaisedException objects.
 */
#ifndef PYMONITORING_CYTHON_LIKE_H
#define PYMONITORING_CYTHON_LIKE_H

#include <stdint.h>
#include <string.h>

#include "harness.h"

/* Index of each event in Cython's per-module event_types array. */
enum {
    CY_START = 0,
    CY_RETURN = 1,
    CY_UNWIND = 2,
    CY_LINE = 3,
    CY_RAISE = 4,
    CY_RERAISE = 5,
    CY_EXC_HANDLED = 6,
    CY_RESUME = 7,
    CY_YIELD = 8,
    CY_STOP_ITERATION = 9
};

static const uint8_t cy_event_types[10] = {
    PY_MONITORING_EVENT_PY_START,          PY_MONITORING_EVENT_PY_RETURN,
    PY_MONITORING_EVENT_PY_UNWIND,         PY_MONITORING_EVENT_LINE,
    PY_MONITORING_EVENT_RAISE,             PY_MONITORING_EVENT_RERAISE,
    PY_MONITORING_EVENT_EXCEPTION_HANDLED, PY_MONITORING_EVENT_PY_RESUME,
    PY_MONITORING_EVENT_PY_YIELD,          PY_MONITORING_EVENT_STOP_ITERATION};

/* The host's "a monitoring callback is running on this thread" flag. A host
 * that runs the callbacks (the harness) raises it around each callback body,
 * as CPython raises tstate->tracing; generated code called then makes no
 * EnterScope and fires nothing, but still calls ExitScope. */
static _Thread_local int cy_tracing;

/* Counters of the scope calls made by the model (per thread). */
static _Thread_local long cy_enter_calls;
static _Thread_local long cy_exit_calls;

/* An emulated function: its address is the opaque code-like. */
typedef struct CyFunction {
    const char *name;
    int firstlineno;
} CyFunction;

#define CY_CODE(fn) ((PyObject *)(void *)(fn))

/* The monitoring part of one plain-function activation (on the C stack). */
typedef struct CyFrame {
    PyMonitoringState states[7];
    PyObject *code; /* NULL when started from inside a callback */
    int already_reported;
} CyFrame;

/* __Pyx_TraceStartFunc: returns 0, or -1 with the error set. */
static inline int cy_trace_start(CyFrame *f, const CyFunction *fn, int32_t offset, int skip_event) {
    uint64_t version = 0; /* fresh every call */
    memset(f->states, 0, sizeof f->states);
    f->already_reported = 0;
    f->code = NULL;
    if (cy_tracing) {
        return 0;
    }
    f->code = CY_CODE(fn);
    cy_enter_calls++;
    if (PyMonitoring_EnterScope(f->states, &version, cy_event_types, 7) < 0) {
        return -1;
    }
    if (!skip_event && f->states[CY_START].active) {
        return PyMonitoring_FirePyStartEvent(&f->states[CY_START], f->code, offset);
    }
    return 0;
}

/* __Pyx_TraceLine: a pending exception is kept aside around the event. */
static inline int cy_trace_line(CyFrame *f, int32_t offset, int line) {
    if (!f->states[CY_LINE].active) {
        return 0;
    }
    PyObject *exc = PyMonitoring_GetRaisedException();
    int rc = PyMonitoring_FireLineEvent(&f->states[CY_LINE], f->code, offset, line);
    if (rc == 0 && exc != NULL) {
        PyMonitoring_SetRaisedException(exc);
    }
    return rc;
}

/* __Pyx_TraceReturnValue. */
static inline int cy_trace_return(CyFrame *f, int32_t offset, PyObject *retval) {
    if (!f->states[CY_RETURN].active) {
        return 0;
    }
    return PyMonitoring_FirePyReturnEvent(&f->states[CY_RETURN], f->code, offset, retval);
}

/* __Pyx_TraceException(offset, reraised): return value ignored, as Cython. */
static inline void cy_trace_exception(CyFrame *f, PyMonitoringState *states, PyObject *code,
                               int32_t offset, int reraised) {
    if (reraised) {
        if (states[CY_RERAISE].active) {
            (void)PyMonitoring_FireReraiseEvent(&states[CY_RERAISE], code, offset);
        }
        f->already_reported = 1;
    } else if (!f->already_reported) {
        if (states[CY_RAISE].active) {
            (void)PyMonitoring_FireRaiseEvent(&states[CY_RAISE], code, offset);
        }
        f->already_reported = 1;
    }
}

static inline void cy_raise(CyFrame *f, int32_t lineno) {
    cy_trace_exception(f, f->states, f->code, lineno, 0);
}

static inline void cy_reraise(CyFrame *f, int32_t offset) {
    cy_trace_exception(f, f->states, f->code, offset, 1);
}

/* __Pyx_TraceExceptionHandled. */
static inline void cy_exception_handled(CyFrame *f, int32_t offset) {
    if (f->states[CY_EXC_HANDLED].active) {
        (void)PyMonitoring_FireExceptionHandledEvent(&f->states[CY_EXC_HANDLED], f->code, offset);
    }
    f->already_reported = 0;
}

/* __Pyx_TraceExceptionUnwind at the function's error label. */
static inline void cy_unwind(CyFrame *f, int32_t offset) {
    if (f->states[CY_UNWIND].active) {
        (void)PyMonitoring_FirePyUnwindEvent(&f->states[CY_UNWIND], f->code, offset);
    }
}

/* The error label: RAISE (line number as offset) unless already reported,
 * then PY_UNWIND(0). */
static inline void cy_error_label(CyFrame *f, int32_t lineno) {
    cy_raise(f, lineno);
    cy_unwind(f, 0);
}

/* __Pyx_PyMonitoring_ExitScope at the single exit: unconditional. */
static inline void cy_exit(CyFrame *f) {
    (void)f;
    cy_exit_calls++;
    (void)PyMonitoring_ExitScope();
}

/* A generator object: the states and the version live here. */
typedef struct CyGenerator {
    const CyFunction *fn;
    PyMonitoringState states[10];
    uint64_t version; /* never written back: stays 0 */
    int started;
    int already_reported;
} CyGenerator;

static inline void cy_gen_init(CyGenerator *g, const CyFunction *fn) {
    memset(g, 0, sizeof *g);
    g->fn = fn;
}

/* Body entry (__Pyx_TraceStartGen / __Pyx_TraceResumeGen); no tracing check,
 * as in Cython. */
static inline int cy_gen_enter(CyGenerator *g) {
    uint64_t version = g->version;
    cy_enter_calls++;
    if (PyMonitoring_EnterScope(g->states, &version, cy_event_types, 10) < 0) {
        return -1;
    }
    if (!g->started) {
        g->started = 1;
        if (g->states[CY_START].active) {
            return PyMonitoring_FirePyStartEvent(&g->states[CY_START], CY_CODE(g->fn), 0);
        }
        return 0;
    }
    if (g->states[CY_RESUME].active) {
        return PyMonitoring_FirePyResumeEvent(&g->states[CY_RESUME], CY_CODE(g->fn), 0);
    }
    return 0;
}

static inline int cy_gen_line(CyGenerator *g, int line) {
    if (!g->states[CY_LINE].active) {
        return 0;
    }
    return PyMonitoring_FireLineEvent(&g->states[CY_LINE], CY_CODE(g->fn), 0, line);
}

/* __Pyx_TraceYield: fired on the PY_RETURN slot when PY_YIELD is active,
 * then ExitScope; nothing at all (no ExitScope) when PY_YIELD is off. */
static inline int cy_gen_yield(CyGenerator *g, PyObject *value) {
    if (!g->states[CY_YIELD].active) {
        return 0;
    }
    int rc = PyMonitoring_FirePyYieldEvent(&g->states[CY_RETURN], CY_CODE(g->fn), 0, value);
    cy_exit_calls++;
    (void)PyMonitoring_ExitScope();
    return rc;
}

/* Exhaustion: PY_RETURN (no STOP_ITERATION) and ExitScope. */
static inline int cy_gen_return(CyGenerator *g, PyObject *value) {
    int rc = 0;
    if (g->states[CY_RETURN].active) {
        rc = PyMonitoring_FirePyReturnEvent(&g->states[CY_RETURN], CY_CODE(g->fn), 0, value);
    }
    cy_exit_calls++;
    (void)PyMonitoring_ExitScope();
    return rc;
}

/* Generator error path, guarded by "an error is set": RAISE(lineno) unless
 * reported, UNWIND(0), ExitScope. */
static inline void cy_gen_error(CyGenerator *g, int32_t lineno) {
    if (PyMonitoring_ErrOccurred()) {
        CyFrame shim = {{{0, 0}}, CY_CODE(g->fn), g->already_reported};
        cy_trace_exception(&shim, g->states, CY_CODE(g->fn), lineno, 0);
        g->already_reported = shim.already_reported;
        if (g->states[CY_UNWIND].active) {
            (void)PyMonitoring_FirePyUnwindEvent(&g->states[CY_UNWIND], CY_CODE(g->fn), 0);
        }
    }
    cy_exit_calls++;
    (void)PyMonitoring_ExitScope();
}

/* ---- expected sequences ---- */

typedef struct Expect {
    int event;
    int tool;
    PyObject *code;
    int offset;
    int lineno;
    PyObject *arg0;
    PyObject *arg1;
} Expect;

#define CY_MISSING PyMonitoring_MISSING

static inline const char *cy_event_name(int ev) {
    static const char *names[] = {
        "PY_START",     "PY_RESUME",         "PY_RETURN", "PY_YIELD",     "CALL",
        "LINE",         "INSTRUCTION",       "JUMP",      "BRANCH_LEFT",  "BRANCH_RIGHT",
        "STOP_ITERATION", "RAISE",           "EXCEPTION_HANDLED", "PY_UNWIND", "PY_THROW",
        "RERAISE",      "C_RETURN",          "C_RAISE",   "BRANCH"};
    return (ev >= 0 && ev < 19) ? names[ev] : "?";
}

/* An expectation builder: append events to a growing array. */
typedef struct ExpectList {
    Expect items[RECORD_MAX];
    int count;
} ExpectList;

static inline void expect(ExpectList *l, int event, int tool, PyObject *code, int offset, int lineno,
                   PyObject *arg0) {
    if (l->count < RECORD_MAX) {
        Expect e = {event, tool, code, offset, lineno, arg0, CY_MISSING};
        l->items[l->count] = e;
    }
    l->count++;
}

/* The recording equals the expected list exactly (count and every field).
 * Reports the first mismatching event with both sides. */
#define CHECK_SEQUENCE(rec, list) check_sequence_at(__FILE__, __LINE__, (rec), (list))

static inline void check_sequence_at(const char *file, int line, const Recording *rec,
                              const ExpectList *l) {
    if (rec->count != l->count) {
        fprintf(stderr, "%s:%d: recorded %d events, expected %d\n", file, line, rec->count,
                l->count);
        harness_failures++;
    }
    int n = rec->count < l->count ? rec->count : l->count;
    for (int i = 0; i < n && i < RECORD_MAX; i++) {
        const PyMonitoringEvent *g = &rec->events[i];
        const Expect *w = &l->items[i];
        if (g->event != w->event || g->tool_id != w->tool || g->codelike != w->code ||
            g->offset != w->offset || g->lineno != w->lineno || g->arg0 != w->arg0 ||
            g->arg1 != w->arg1) {
            fprintf(stderr,
                    "%s:%d: event %d: got %s tool %d code %p off %d line %d a0 %p a1 %p;"
                    " expected %s tool %d code %p off %d line %d a0 %p a1 %p\n",
                    file, line, i, cy_event_name(g->event), g->tool_id, (void *)g->codelike,
                    g->offset, g->lineno, (void *)g->arg0, (void *)g->arg1,
                    cy_event_name(w->event), w->tool, (void *)w->code, w->offset, w->lineno,
                    (void *)w->arg0, (void *)w->arg1);
            harness_failures++;
            return;
        }
    }
}

/* Register `fn` for every event of `mask` on `tool`. */
static inline void cy_register_all(int tool, uint32_t mask, PyMonitoringCallback fn, void *data) {
    for (int ev = 0; ev < PY_MONITORING_EVENTS - 1; ev++) {
        if (mask & (1u << ev)) {
            CHECK_OK(PyMonitoring_RegisterCallback(tool, ev, fn, data), 0);
        }
    }
}

#define EV(name) (1u << PY_MONITORING_EVENT_##name)
#define CY_FUNCTION_EVENTS                                                               \
    (EV(PY_START) | EV(PY_RETURN) | EV(PY_UNWIND) | EV(LINE) | EV(RAISE) | EV(RERAISE) | \
     EV(EXCEPTION_HANDLED))
#define CY_GENERATOR_EVENTS \
    (CY_FUNCTION_EVENTS | EV(PY_RESUME) | EV(PY_YIELD) | EV(STOP_ITERATION))

#endif
