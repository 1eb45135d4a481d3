/* A host that runs examples/tools_demo.pyx by hand, firing the events
 * Cython-generated C fires, on three threads, for the built-in tools.
 *
 *   tools_demo SOURCE.pyx            tools from PYMONITORING_* variables
 *   tools_demo SOURCE.pyx OUTDIR     starts them with C calls: OUTDIR/events.jsonl,
 *                                    OUTDIR/trace.json, OUTDIR/coverage.info
 *
 * Function events use Cython's layout: a state array per activation, entered
 * with a version of 0. LINE events use one slot per source line, kept per
 * thread for the life of the thread (as CPython keeps one per instruction),
 * so the coverage tool's DISABLE makes each line cost one callback. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pymonitoring.h"

/* Cython's event order for a function's state array. */
enum { I_START, I_RETURN, I_UNWIND, I_LINE, I_RAISE, I_RERAISE, I_HANDLED,
       I_RESUME, I_YIELD, I_STOP, I_COUNT };
static const uint8_t EVENT_TYPES[I_COUNT] = {
    PY_MONITORING_EVENT_PY_START, PY_MONITORING_EVENT_PY_RETURN,
    PY_MONITORING_EVENT_PY_UNWIND, PY_MONITORING_EVENT_LINE,
    PY_MONITORING_EVENT_RAISE, PY_MONITORING_EVENT_RERAISE,
    PY_MONITORING_EVENT_EXCEPTION_HANDLED, PY_MONITORING_EVENT_PY_RESUME,
    PY_MONITORING_EVENT_PY_YIELD, PY_MONITORING_EVENT_STOP_ITERATION};

/* Fake host objects: only their addresses matter. */
static char objects[64];
#define OBJ(i) ((PyObject *)(void *)&objects[(i)])
enum { C_FACT = 1, C_COUNTDOWN, C_SAFE_DIV, C_MUST, C_MAIN, V_INT, V_DONE,
       E_ZERO_DIV, E_VALUE, V_LIST };

/* One LINE slot per source line, per thread. */
#define MAX_LINE 64
static uint8_t LINE_TYPES[MAX_LINE];
static _Thread_local PyMonitoringState line_states[MAX_LINE];
static _Thread_local uint64_t line_version;

static void die(const char *what) {
    fprintf(stderr, "tools_demo: %s failed: %s\n", what, PyMonitoring_ErrMessage());
    exit(1);
}
#define OK(call) do { if ((call) != 0) die(#call); } while (0)

typedef struct {
    PyMonitoringState st[I_COUNT];
    uint64_t version;
    PyObject *code;
} Frame;

static void enter(Frame *f, PyObject *code, Py_ssize_t length) {
    memset(f->st, 0, sizeof f->st);
    f->version = 0;
    f->code = code;
    OK(PyMonitoring_EnterScope(f->st, &f->version, EVENT_TYPES, length));
    OK(PyMonitoring_EnterScope(line_states, &line_version, LINE_TYPES, MAX_LINE));
}

static void line(Frame *f, int lineno) {
    OK(PyMonitoring_FireLineEvent(&line_states[lineno], f->code, lineno, lineno));
}

static void start(Frame *f, PyObject *code) {
    enter(f, code, 7);
    OK(PyMonitoring_FirePyStartEvent(&f->st[I_START], code, 0));
}

static void ret(Frame *f, int offset, PyObject *value) {
    OK(PyMonitoring_FirePyReturnEvent(&f->st[I_RETURN], f->code, offset, value));
    PyMonitoring_ExitScope();
}

/* Raise `exc` at `lineno`: it becomes the current exception. */
static void raise_at(Frame *f, int lineno, PyObject *exc) {
    PyMonitoring_SetRaisedException(exc);
    if (PyMonitoring_FireRaiseEvent(&f->st[I_RAISE], f->code, lineno) != 0) die("RAISE");
}

static void handled(Frame *f, int offset) {
    if (PyMonitoring_FireExceptionHandledEvent(&f->st[I_HANDLED], f->code, offset) != 0)
        die("EXCEPTION_HANDLED");
    PyMonitoring_GetRaisedException(); /* the except clause takes it */
}

static int fact(int n) {
    Frame f;
    int result;
    start(&f, OBJ(C_FACT));
    line(&f, 4);
    if (n <= 1) {
        line(&f, 5);
        ret(&f, 5, OBJ(V_INT));
        return 1;
    }
    line(&f, 6);
    result = n * fact(n - 1);
    ret(&f, 6, OBJ(V_INT));
    return result;
}

/* The generator object: its states live as long as it does. */
typedef struct {
    Frame f;
    int n, started, resume_line;
} Countdown;

/* One next(): returns 1 with a value, 0 when exhausted. */
static int countdown_next(Countdown *g, int *out) {
    uint64_t version = 0; /* Cython enters generator scopes with a local 0 */
    g->f.code = OBJ(C_COUNTDOWN);
    OK(PyMonitoring_EnterScope(g->f.st, &version, EVENT_TYPES, I_COUNT));
    OK(PyMonitoring_EnterScope(line_states, &line_version, LINE_TYPES, MAX_LINE));
    if (!g->started) {
        g->started = 1;
        OK(PyMonitoring_FirePyStartEvent(&g->f.st[I_START], g->f.code, 0));
    } else {
        OK(PyMonitoring_FirePyResumeEvent(&g->f.st[I_RESUME], g->f.code, 0));
        line(&g->f, 12);
        g->n -= 1;
    }
    line(&g->f, 10);
    if (g->n > 0) {
        line(&g->f, 11);
        *out = g->n;
        OK(PyMonitoring_FirePyYieldEvent(&g->f.st[I_YIELD], g->f.code, 11, OBJ(V_INT)));
        PyMonitoring_ExitScope();
        return 1;
    }
    line(&g->f, 13);
    OK(PyMonitoring_FirePyReturnEvent(&g->f.st[I_RETURN], g->f.code, 13, OBJ(V_DONE)));
    PyMonitoring_ExitScope();
    return 0;
}

static int safe_div(int a, int b) {
    Frame f;
    start(&f, OBJ(C_SAFE_DIV));
    line(&f, 17);
    line(&f, 18);
    if (b == 0) {
        raise_at(&f, 18, OBJ(E_ZERO_DIV)); /* ZeroDivisionError from `//` */
        line(&f, 19);
        handled(&f, 19);
        line(&f, 20);
        ret(&f, 20, OBJ(V_INT));
        return 0;
    }
    ret(&f, 18, OBJ(V_INT));
    return a / b;
}

/* Returns -1 with ValueError current when x < 0 (the exception escapes). */
static int must_be_positive(int x) {
    Frame f;
    start(&f, OBJ(C_MUST));
    line(&f, 24);
    if (x < 0) {
        line(&f, 25);
        raise_at(&f, 25, OBJ(E_VALUE));
        if (PyMonitoring_FirePyUnwindEvent(&f.st[I_UNWIND], f.code, 25) != 0) die("PY_UNWIND");
        PyMonitoring_ExitScope();
        return -1;
    }
    line(&f, 26);
    ret(&f, 26, OBJ(V_INT));
    return x;
}

static void *run_main(void *arg) {
    Frame f;
    Countdown g;
    int value, sum = 0;
    (void)arg;
    start(&f, OBJ(C_MAIN));
    line(&f, 30);
    sum += fact(4);
    line(&f, 31);
    memset(&g, 0, sizeof g);
    g.n = 3;
    while (countdown_next(&g, &value)) {
        sum += value;
    }
    line(&f, 32);
    sum += safe_div(1, 0);
    line(&f, 33);
    line(&f, 34);
    if (must_be_positive(-1) < 0) {
        /* The exception arrives in main at line 34 and is handled there. */
        raise_at(&f, 34, OBJ(E_VALUE));
        line(&f, 35);
        handled(&f, 35);
        line(&f, 36);
    }
    line(&f, 37);
    ret(&f, 37, OBJ(V_INT));
    return sum == 24 + 6 ? NULL : (void *)1;
}

int main(int argc, char **argv) {
    const char *source;
    pthread_t threads[2];
    int i;

    if (argc < 2) {
        fprintf(stderr, "usage: %s SOURCE.pyx [OUTDIR]\n", argv[0]);
        return 2;
    }
    source = argv[1];
    memset(LINE_TYPES, PY_MONITORING_EVENT_LINE, sizeof LINE_TYPES);

    OK(PyMonitoring_RegisterCodeName(OBJ(C_FACT), "fact", source, 3));
    OK(PyMonitoring_RegisterCodeName(OBJ(C_COUNTDOWN), "countdown", source, 9));
    OK(PyMonitoring_RegisterCodeName(OBJ(C_SAFE_DIV), "safe_div", source, 16));
    OK(PyMonitoring_RegisterCodeName(OBJ(C_MUST), "must_be_positive", source, 23));
    OK(PyMonitoring_RegisterCodeName(OBJ(C_MAIN), "main", source, 29));

    if (argc > 2) {
        char path[4096];
        snprintf(path, sizeof path, "%s/events.jsonl", argv[2]);
        OK(PyMonitoring_StartRecorder(3, path));
        snprintf(path, sizeof path, "%s/trace.json", argv[2]);
        OK(PyMonitoring_StartProfiler(PY_MONITORING_PROFILER_ID, path));
        snprintf(path, sizeof path, "%s/coverage.info", argv[2]);
        OK(PyMonitoring_StartCoverage(PY_MONITORING_COVERAGE_ID, path, PY_MONITORING_COVERAGE_ONCE));
    }

    for (i = 0; i < 2; i++) {
        if (pthread_create(&threads[i], NULL, run_main, NULL) != 0) {
            perror("pthread_create");
            return 1;
        }
    }
    if (run_main(NULL) != NULL) {
        fprintf(stderr, "tools_demo: wrong result\n");
        return 1;
    }
    for (i = 0; i < 2; i++) {
        void *r;
        pthread_join(threads[i], &r);
        if (r != NULL) {
            fprintf(stderr, "tools_demo: wrong result on a thread\n");
            return 1;
        }
    }
    if (argc > 2) {
        OK(PyMonitoring_StopBuiltinTools());
    }
    /* Without OUTDIR, the tools started from the environment are stopped,
     * and their files completed, when the process exits. */
    printf("tools_demo: ok\n");
    return 0;
}
