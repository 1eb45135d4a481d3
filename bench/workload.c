/* workload: an end-to-end program driving pymonitoring the way a Cython 3.1+
 * module compiled with profile=True, linetrace=True and -DCYTHON_TRACE=1
 * does (the calls of Cython's Cython/Utility/Profile.c):
 * per call a PyMonitoringState[7] on the stack, zeroed, a local version of 0,
 * the code object's reference taken, EnterScope, PY_START, a LINE per source
 * line reached (the pending exception set aside and restored around it),
 * PY_RETURN, ExitScope, the reference dropped.
 *
 * The emulated module (workload.pyx; bench/workload.py is the same code for
 * CPython):
 *
 *     1  def fib(n):
 *     2      if n < 2:
 *     3          return n
 *     4      return fib(n - 1) + fib(n - 2)
 *     5
 *     6  def loop(n):
 *     7      total = 0
 *     8      for i in range(n):
 *     9          total += i
 *    10      return total
 *
 * Two bodies: `tight` (the algorithm only) and `work` (each line also does
 * object-like work: a reference taken and dropped around a call).
 *
 * Built by bench/workload.sh four ways: -DWL_NOMON (every monitoring call
 * compiled away, as with CYTHON_PROFILE=0 and CYTHON_TRACE=0), as is (the
 * exported EnterScope/ExitScope; the fires are CPython's header's inline
 * `active` tests calling the exported `_PyMonitoring_Fire*Event`, as a Cython
 * module built against CPython's headers does), -DPYMONITORING_INLINE
 * (this library's header: inline EnterScope fast path and fire wrappers,
 * each LINE's fire at its line) and -DPYMONITORING_INLINE -DWL_LINE_HELPER
 * (every LINE through one static helper, as Cython's __Pyx__TraceLine).
 *
 * Usage: workload CONFIG BODY FIB_N LOOP_N [--check]
 *   CONFIG: none | freed | cov_disable | cov_lasting | cov_never | profiler
 *           | recorder   (the no-monitoring build takes `none` only)
 *   BODY:   tight | work
 * Prints "NAME NS 1" (NAME = CONFIG-BODY; bench/cgcount.sh pairs it with the
 * callgrind dump of the measured run) and a "counts" line: distinct lines
 * seen by the tool, callbacks, and callbacks per site. --check exits 1 when
 * a count differs from what the configuration must give.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "timed_loop.h"

#define NOINLINE __attribute__((noinline))

/* Object-like values: a reference count and a payload. */
typedef struct {
    long refcnt;
    long value;
} Obj;

static Obj g_code_fib = {1, 0}, g_code_loop = {1, 0};
static Obj g_values[16];
static long g_dealloc;

static inline void incref(Obj *o) { o->refcnt++; }
static inline void decref(Obj *o)
{
    if (--o->refcnt == 0)
        g_dealloc++;
}

/* A line's work in the `work` body: a value's reference taken, a call, the
 * reference dropped. */
static NOINLINE long call_op(Obj *o, long x)
{
    __asm__ __volatile__("" ::: "memory");
    return o->value + x;
}

static inline long line_work(long x)
{
    Obj *o = &g_values[x & 15];
    incref(o);
    long r = call_op(o, x);
    decref(o);
    return r;
}

#ifdef WL_NOMON
#define VARIANT "nomon"
#define TRACE_DECLS
#define TRACE_START(CODE, ERR)
#define TRACE_LINE(OFF, LINE, ERR)
#define TRACE_RETURN(OFF, VAL, ERR)
#define TRACE_EXIT()
#else
#include "pymonitoring.h"
#ifdef PYMONITORING_INLINE
#ifdef WL_LINE_HELPER
#define VARIANT "inline_helper"
#else
#define VARIANT "inline"
#endif
#define FIRE_START(S, C, O) PyMonitoring_FirePyStartEvent(S, C, O)
#define FIRE_LINE(S, C, O, L) PyMonitoring_FireLineEvent(S, C, O, L)
#define FIRE_RETURN(S, C, O, V) PyMonitoring_FirePyReturnEvent(S, C, O, V)
#else
/* CPython's header: the `active` test inline, the underscore entry point. */
#define VARIANT "exported"
#define FIRE_START(S, C, O) ((S)->active ? _PyMonitoring_FirePyStartEvent(S, C, O) : 0)
#define FIRE_LINE(S, C, O, L) ((S)->active ? _PyMonitoring_FireLineEvent(S, C, O, L) : 0)
#define FIRE_RETURN(S, C, O, V) ((S)->active ? _PyMonitoring_FirePyReturnEvent(S, C, O, V) : 0)
#endif

/* Cython's __Pyx_MonitoringEventTypes with 3.14 numbering, first 7 (plain
 * functions): START, RETURN, UNWIND, LINE, RAISE, RERAISE, EXC_HANDLED. */
static const ODD_ARRAY(uint8_t, ids, 7) k_event_types = {0, {
    PY_MONITORING_EVENT_PY_START, PY_MONITORING_EVENT_PY_RETURN,
    PY_MONITORING_EVENT_PY_UNWIND, PY_MONITORING_EVENT_LINE,
    PY_MONITORING_EVENT_RAISE, PY_MONITORING_EVENT_RERAISE,
    PY_MONITORING_EVENT_EXCEPTION_HANDLED,
}};

/* tstate->tracing: set while a callback runs (none of ours call back in). */
static int g_tracing;

#define TRACE_DECLS                           \
    ODD_ARRAY(PyMonitoringState, s, 7) frame_; \
    PyMonitoringState *st_ = frame_.s;        \
    uint64_t ver_ = 0;                        \
    Obj *code_ = NULL;
/* __Pyx_TraceStartFunc: zero the states, take the code object, enter,
 * fire PY_START. */
#define TRACE_START(CODE, ERR)                                                        \
    do {                                                                              \
        memset(st_, 0, sizeof frame_.s);                                              \
        if (!g_tracing) {                                                             \
            code_ = (CODE);                                                           \
            incref(code_);                                                            \
            if (PyMonitoring_EnterScope(st_, &ver_, k_event_types.ids, 7) < 0)        \
                goto ERR;                                                             \
            if (FIRE_START(&st_[0], (PyObject *)code_, 0) < 0)                        \
                goto ERR;                                                             \
        }                                                                             \
    } while (0)
#ifdef WL_LINE_HELPER
/* Cython 3.1's own shape (Profile.c): __Pyx_TraceLine tests the LINE slot
 * and calls one static function of the module, __Pyx__TraceLine, which sets
 * the pending exception aside, fires and restores it; every LINE of the
 * module fires through the one expansion of the fire macro in it. */
static int trace_line(PyMonitoringState *state, PyObject *code, int line, int offset)
{
    PyObject *exc = PyMonitoring_GetRaisedException();
    int ret = FIRE_LINE(state, code, offset, line);
    if (exc)
        PyMonitoring_SetRaisedException(exc);
    return ret;
}
#define TRACE_LINE(OFF, LINE, ERR)                                                    \
    do {                                                                              \
        if (st_[3].active) {                                                          \
            if (trace_line(&st_[3], (PyObject *)code_, (LINE), (OFF)) == -1)         \
                goto ERR;                                                             \
        }                                                                             \
    } while (0)
#else
/* __Pyx_TraceLine: when the LINE slot is active, the pending exception is
 * set aside, the event fired, the exception restored if there was one (the
 * fire at each line: a generator that expands it there; Cython's own
 * shape is WL_LINE_HELPER's). */
#define TRACE_LINE(OFF, LINE, ERR)                                                    \
    do {                                                                              \
        if (st_[3].active) {                                                          \
            PyObject *exc_ = PyMonitoring_GetRaisedException();                       \
            int r_ = FIRE_LINE(&st_[3], (PyObject *)code_, (OFF), (LINE));            \
            if (exc_)                                                                 \
                PyMonitoring_SetRaisedException(exc_);                                \
            if (r_ < 0)                                                               \
                goto ERR;                                                             \
        }                                                                             \
    } while (0)
#endif
/* __Pyx_TraceReturnCValue: the C result boxed only when the slot is active. */
#define TRACE_RETURN(OFF, VAL, ERR)                                                   \
    do {                                                                              \
        if (st_[1].active                                                             \
            && FIRE_RETURN(&st_[1], (PyObject *)code_, (OFF),                         \
                           (PyObject *)&g_values[(VAL) & 15]) < 0)                    \
            goto ERR;                                                                 \
    } while (0)
#define TRACE_EXIT()                                                                  \
    do {                                                                              \
        PyMonitoring_ExitScope();                                                     \
        if (code_)                                                                    \
            decref(code_);                                                            \
    } while (0)
#endif

/* fib and loop for one body; WORK(x) is the per-line work. Errors (a
 * callback's -1) propagate as a result of -1, as Cython's error labels do. */
#define DEFINE_BODY(SUFFIX, WORK)                                                     \
    static NOINLINE long fib_##SUFFIX(long n)                                         \
    {                                                                                 \
        TRACE_DECLS                                                                   \
        long r, a, b;                                                                 \
        TRACE_START(&g_code_fib, error);                                              \
        TRACE_LINE(1, 2, error);                                                      \
        (void)WORK(n);                                                                \
        if (n < 2) {                                                                  \
            TRACE_LINE(2, 3, error);                                                  \
            (void)WORK(n);                                                            \
            r = n;                                                                    \
            TRACE_RETURN(2, r, error);                                                \
            goto done;                                                                \
        }                                                                             \
        TRACE_LINE(3, 4, error);                                                      \
        (void)WORK(n);                                                                \
        a = fib_##SUFFIX(n - 1);                                                      \
        if (a < 0)                                                                    \
            goto error;                                                               \
        b = fib_##SUFFIX(n - 2);                                                      \
        if (b < 0)                                                                    \
            goto error;                                                               \
        r = a + b;                                                                    \
        TRACE_RETURN(3, r, error);                                                    \
    done:                                                                             \
        TRACE_EXIT();                                                                 \
        return r;                                                                     \
    error:                                                                            \
        TRACE_EXIT();                                                                 \
        return -1;                                                                    \
    }                                                                                 \
    static NOINLINE long loop_##SUFFIX(long n)                                        \
    {                                                                                 \
        TRACE_DECLS                                                                   \
        long total;                                                                   \
        TRACE_START(&g_code_loop, error);                                             \
        TRACE_LINE(1, 7, error);                                                      \
        (void)WORK(n);                                                                \
        total = 0;                                                                    \
        for (long i = 0;; i++) {                                                      \
            TRACE_LINE(2, 8, error);                                                  \
            (void)WORK(i);                                                            \
            if (i >= n)                                                               \
                break;                                                                \
            TRACE_LINE(3, 9, error);                                                  \
            total += WORK(i) & 0;                                                     \
            total += i;                                                               \
        }                                                                             \
        TRACE_LINE(4, 10, error);                                                     \
        (void)WORK(total);                                                            \
        TRACE_RETURN(4, total, error);                                                \
        TRACE_EXIT();                                                                 \
        return total;                                                                 \
    error: __attribute__((unused));                                                                            \
        TRACE_EXIT();                                                                 \
        return -1;                                                                    \
    }

#define NO_WORK(x) 0L
#define WITH_WORK(x) line_work(x)
DEFINE_BODY(tight, NO_WORK)
DEFINE_BODY(work, WITH_WORK)

static long fib_value(long n)
{
    long a = 0, b = 1;
    for (long i = 0; i < n; i++) {
        long t = a + b;
        a = b;
        b = t;
    }
    return a;
}

static int g_failed;
static void expect(int ok, const char *what, long got, long want)
{
    if (!ok) {
        fprintf(stderr, "workload: check failed: %s: got %ld, want %ld\n", what, got, want);
        g_failed = 1;
    }
}

#ifndef WL_NOMON
/* What the tools saw: callbacks per site (0: fib, 1: loop; by offset), LINE
 * callbacks per source line, PY_START and PY_RETURN callbacks. */
static long g_site[2][8];
static long g_line_calls[16];
static long g_starts, g_returns;

static int cb_line(void *data, const PyMonitoringEvent *ev)
{
    int f = ev->codelike == (PyObject *)&g_code_loop;
    g_site[f][ev->offset & 7]++;
    g_line_calls[ev->lineno & 15]++;
    return (int)(intptr_t)data;
}

static int cb_start(void *data, const PyMonitoringEvent *ev)
{
    (void)data;
    (void)ev;
    g_starts++;
    return 0;
}

static int cb_return(void *data, const PyMonitoringEvent *ev)
{
    (void)data;
    (void)ev;
    g_returns++;
    return 0;
}

static void ok(int status, const char *what)
{
    if (status != 0) {
        fprintf(stderr, "workload: %s failed: %s\n", what,
                PyMonitoring_ErrOccurred() ? PyMonitoring_ErrMessage() : "?");
        exit(2);
    }
}

static void line_tool(int disable)
{
    ok(PyMonitoring_UseToolId(PY_MONITORING_COVERAGE_ID, "coverage"), "UseToolId");
    ok(PyMonitoring_RegisterCallback(PY_MONITORING_COVERAGE_ID, PY_MONITORING_EVENT_LINE, cb_line,
                                     (void *)(intptr_t)(disable ? PY_MONITORING_DISABLE : 0)),
       "RegisterCallback");
    ok(PyMonitoring_SetEvents(PY_MONITORING_COVERAGE_ID, 1u << PY_MONITORING_EVENT_LINE), "SetEvents");
}

static char g_record_path[64];
#endif

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: workload CONFIG tight|work FIB_N LOOP_N [--check]\n");
        return 2;
    }
    const char *config = argv[1], *body = argv[2];
    long fib_n = atol(argv[3]), loop_n = atol(argv[4]);
    int check = argc > 5 && strcmp(argv[5], "--check") == 0;
    int work = strcmp(body, "work") == 0;
    if ((!work && strcmp(body, "tight") != 0) || fib_n < 0 || loop_n < 0) {
        fprintf(stderr, "workload: bad arguments\n");
        return 2;
    }
    for (int i = 0; i < 16; i++)
        g_values[i] = (Obj){1, i};

#ifdef WL_NOMON
    if (strcmp(config, "none") != 0) {
        fprintf(stderr, "workload: the no-monitoring build runs `none` only\n");
        return 2;
    }
#else
    int coverage = 0, disable = 0;
    if (strcmp(config, "none") == 0) {
    }
    else if (strcmp(config, "freed") == 0) {
        /* A tool set events and was freed: every version-0 entry refreshes. */
        ok(PyMonitoring_UseToolId(4, "gone"), "UseToolId");
        ok(PyMonitoring_SetEvents(4, 1u << PY_MONITORING_EVENT_LINE), "SetEvents");
        ok(PyMonitoring_FreeToolId(4), "FreeToolId");
    }
    else if (strcmp(config, "cov_disable") == 0) {
        coverage = disable = 1;
        line_tool(1);
    }
    else if (strcmp(config, "cov_lasting") == 0) {
        coverage = disable = 1;
        ok(PyMonitoring_SetOptions(PY_MONITORING_OPT_LASTING_DISABLE), "SetOptions");
        line_tool(1);
    }
    else if (strcmp(config, "cov_never") == 0) {
        coverage = 1;
        line_tool(0);
    }
    else if (strcmp(config, "profiler") == 0) {
        int t = PY_MONITORING_PROFILER_ID;
        ok(PyMonitoring_UseToolId(t, "profiler"), "UseToolId");
        ok(PyMonitoring_RegisterCallback(t, PY_MONITORING_EVENT_PY_START, cb_start, NULL), "Register");
        ok(PyMonitoring_RegisterCallback(t, PY_MONITORING_EVENT_PY_RETURN, cb_return, NULL), "Register");
        ok(PyMonitoring_SetEvents(t, (1u << PY_MONITORING_EVENT_PY_START) |
                                         (1u << PY_MONITORING_EVENT_PY_RETURN)),
           "SetEvents");
    }
    else if (strcmp(config, "recorder") == 0) {
        snprintf(g_record_path, sizeof g_record_path, "/tmp/pymonitoring-workload-%d.jsonl",
                 (int)getpid());
        ok(PyMonitoring_RegisterCodeName((PyObject *)&g_code_fib, "fib", "workload.pyx", 1), "Name");
        ok(PyMonitoring_RegisterCodeName((PyObject *)&g_code_loop, "loop", "workload.pyx", 6), "Name");
        ok(PyMonitoring_StartRecorder(3, g_record_path), "StartRecorder");
    }
    else {
        fprintf(stderr, "workload: unknown configuration %s\n", config);
        return 2;
    }
#endif

    long (*fib)(long) = work ? fib_work : fib_tight;
    long (*loop)(long) = work ? loop_work : loop_tight;
    double t0 = now_ns();
    CALLGRIND_TOGGLE_COLLECT;
    long f = fib(fib_n);
    long l = loop(loop_n);
#ifndef WL_NOMON
    if (strcmp(config, "recorder") == 0)
        ok(PyMonitoring_StopBuiltinTool(3), "StopBuiltinTool");
#endif
    CALLGRIND_TOGGLE_COLLECT;
    double t1 = now_ns();
    char name[64];
    snprintf(name, sizeof name, "%s-%s", config, body);
    CALLGRIND_DUMP_STATS_AT(name);
    printf("%s %.0f 1\n", name, t1 - t0);

    /* Results, and the counts every configuration must give. */
    long calls = 0, leaves = 0;
    {
        /* fib(n) makes fib(n+1)*2-1 calls, fib(n+1) of them leaves (n >= 1). */
        calls = fib_n == 0 ? 1 : 2 * fib_value(fib_n + 1) - 1;
        leaves = fib_n == 0 ? 1 : fib_value(fib_n + 1);
    }
    expect(f == fib_value(fib_n), "fib", f, fib_value(fib_n));
    expect(l == loop_n * (loop_n - 1) / 2, "loop", l, loop_n * (loop_n - 1) / 2);
    expect(g_code_fib.refcnt == 1 && g_code_loop.refcnt == 1, "code refcounts",
           g_code_fib.refcnt + g_code_loop.refcnt, 2);
#ifdef WL_NOMON
    (void)check;
    (void)leaves;
    (void)calls;
    printf("counts %s variant=%s lines=0/7 callbacks=0\n", name, VARIANT);
#else
    long want_line[16] = {0};
    want_line[2] = calls;
    want_line[3] = leaves;
    want_line[4] = calls - leaves;
    want_line[7] = 1;
    want_line[8] = loop_n + 1;
    want_line[9] = loop_n;
    want_line[10] = 1;
    int lines = 0;
    long line_callbacks = 0;
    for (int i = 0; i < 16; i++) {
        lines += g_line_calls[i] > 0;
        line_callbacks += g_line_calls[i];
    }
    printf("counts %s variant=%s lines=%d/7 callbacks=%ld starts=%ld returns=%ld sites=", name,
           VARIANT, lines, line_callbacks, g_starts, g_returns);
    static const int lineno[2][5] = {{1, 2, 3, 4, 0}, {6, 7, 8, 9, 10}};
    for (int s = 0; s < 2; s++)
        for (int o = 1; o < 5; o++)
            if (lineno[s][o])
                printf("%s%s:%d=%ld", s || o > 1 ? "," : "", s ? "loop" : "fib", lineno[s][o],
                       g_site[s][o]);
    printf("\n");
    if (check) {
        if (strcmp(config, "cov_never") == 0) {
            for (int i = 0; i < 16; i++)
                expect(g_line_calls[i] == want_line[i], "LINE callbacks at a line", g_line_calls[i],
                       want_line[i]);
        }
        else if (strcmp(config, "cov_disable") == 0) {
            /* CPython's rule: DISABLE clears the activation's LINE slot, so
             * each activation reports its first line only. */
            expect(g_line_calls[2] == calls, "line 2", g_line_calls[2], calls);
            expect(g_line_calls[7] == 1, "line 7", g_line_calls[7], 1);
            expect(line_callbacks == calls + 1, "LINE callbacks", line_callbacks, calls + 1);
        }
        else if (strcmp(config, "cov_lasting") == 0) {
            /* At most one callback per site, and at least each function's
             * first line (docs/EXTENSIONS.md: how far the mode silences). */
            for (int i = 0; i < 16; i++)
                expect(g_line_calls[i] <= 1, "callbacks at a line", g_line_calls[i], 1);
            expect(g_line_calls[2] == 1 && g_line_calls[7] == 1, "first lines seen",
                   g_line_calls[2] + g_line_calls[7], 2);
        }
        else if (coverage == 0) {
            expect(line_callbacks == 0, "LINE callbacks", line_callbacks, 0);
        }
        if (strcmp(config, "profiler") == 0) {
            expect(g_starts == calls + 1, "PY_START callbacks", g_starts, calls + 1);
            expect(g_returns == calls + 1, "PY_RETURN callbacks", g_returns, calls + 1);
        }
        else {
            expect(g_starts == 0 && g_returns == 0, "PY_START/RETURN callbacks", g_starts + g_returns, 0);
        }
        if (strcmp(config, "recorder") == 0) {
            /* One JSON line per event: START, the LINEs and RETURN of every call. */
            long events = 2 * (calls + 1);
            for (int i = 0; i < 16; i++)
                events += want_line[i];
            FILE *fp = fopen(g_record_path, "r");
            long n = 0;
            int c;
            if (fp) {
                while ((c = fgetc(fp)) != EOF)
                    n += c == '\n';
                fclose(fp);
            }
            expect(n == events, "recorded events", n, events);
        }
    }
    (void)disable;
    if (g_record_path[0])
        unlink(g_record_path);
#endif
    return g_failed;
}
