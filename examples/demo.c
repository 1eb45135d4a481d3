/* pymonitoring demo: C code that emulates Cython-generated functions and
 * reports what it does through the monitoring C API, and a tool, written
 * against the same API, that prints the event stream and a summary. The
 * library's built-in tools record the same run into OUTDIR (argv[1]):
 * events.jsonl, trace.json (open in https://ui.perfetto.dev) and
 * coverage.info (genhtml coverage.info -o html).
 *
 * The emulated "module" has four functions:
 *   fact(n)        recursive
 *   countdown(n)   a generator
 *   safe_div(a, b) catches ZeroDivisionError
 *   check(x)       raises ValueError, uncaught
 * Each keeps its PyMonitoringState array on the stack (generators: in the
 * generator object) and calls PyMonitoring_EnterScope with a version of 0 on
 * every call, exactly as Cython 3.1+ does. */
#include <stdio.h>
#include <string.h>

#include "pymonitoring.h"

/* ---- the emulated module ------------------------------------------------ */

/* Code-like objects: opaque to the library, so any stable address works. */
typedef struct {
    const char *name;
    int firstlineno;
} CodeLike;

static CodeLike fact_code = {"fact", 1};
static CodeLike countdown_code = {"countdown", 6};
static CodeLike safe_div_code = {"safe_div", 12};
static CodeLike check_code = {"check", 19};

#define AS_OBJ(p) ((PyObject *)(void *)(p))

/* Exceptions and values are host objects too. */
static int zero_division_error, value_error;
static long values[64];
static PyObject *boxed(long v) {
    values[v & 63] = v;
    return AS_OBJ(&values[v & 63]);
}

/* Cython's event order; plain functions use the first 7. */
static const uint8_t event_types[10] = {
    PY_MONITORING_EVENT_PY_START,   PY_MONITORING_EVENT_PY_RETURN,
    PY_MONITORING_EVENT_PY_UNWIND,  PY_MONITORING_EVENT_LINE,
    PY_MONITORING_EVENT_RAISE,      PY_MONITORING_EVENT_RERAISE,
    PY_MONITORING_EVENT_EXCEPTION_HANDLED, PY_MONITORING_EVENT_PY_RESUME,
    PY_MONITORING_EVENT_PY_YIELD,   PY_MONITORING_EVENT_STOP_ITERATION,
};
enum { START, RETURN, UNWIND, LINE, RAISE, RERAISE, HANDLED, RESUME, YIELD };

#define ENTER(st, n)                                                    \
    uint64_t version_ = 0;                                              \
    if (PyMonitoring_EnterScope((st), &version_, event_types, (n)) < 0) \
        return -1

/* def fact(n):            line 1
 *     if n <= 1:          line 2
 *         return 1        line 3
 *     return n * fact(n-1) line 4 */
static long fact(long n) {
    PyMonitoringState st[7];
    memset(st, 0, sizeof st);
    ENTER(st, 7);
    PyObject *code = AS_OBJ(&fact_code);
    PyMonitoring_FirePyStartEvent(&st[START], code, 0);
    PyMonitoring_FireLineEvent(&st[LINE], code, 1, 2);
    long result;
    if (n <= 1) {
        PyMonitoring_FireLineEvent(&st[LINE], code, 2, 3);
        result = 1;
    } else {
        PyMonitoring_FireLineEvent(&st[LINE], code, 3, 4);
        result = n * fact(n - 1);
    }
    PyMonitoring_FirePyReturnEvent(&st[RETURN], code, 0, boxed(result));
    PyMonitoring_ExitScope();
    return result;
}

/* def countdown(n):        line 6
 *     while n > 0:         line 7
 *         yield n          line 8
 *         n -= 1           line 9 */
typedef struct {
    PyMonitoringState st[10];
    uint64_t version; /* stays 0, as in Cython */
    long n;
    int started;
} Countdown;

/* One resumption: returns 1 and sets *out for a yield, 0 when exhausted. */
static int countdown_next(Countdown *g, long *out) {
    uint64_t version = g->version;
    PyObject *code = AS_OBJ(&countdown_code);
    if (PyMonitoring_EnterScope(g->st, &version, event_types, 10) < 0)
        return -1;
    if (!g->started) {
        g->started = 1;
        PyMonitoring_FirePyStartEvent(&g->st[START], code, 0);
    } else {
        PyMonitoring_FirePyResumeEvent(&g->st[RESUME], code, 0);
        PyMonitoring_FireLineEvent(&g->st[LINE], code, 0, 9);
        g->n -= 1;
    }
    PyMonitoring_FireLineEvent(&g->st[LINE], code, 0, 7);
    if (g->n > 0) {
        PyMonitoring_FireLineEvent(&g->st[LINE], code, 0, 8);
        *out = g->n;
        /* Cython fires the yield on the PY_RETURN slot, gated on PY_YIELD. */
        if (g->st[YIELD].active) {
            PyMonitoring_FirePyYieldEvent(&g->st[RETURN], code, 0, boxed(g->n));
            PyMonitoring_ExitScope();
        }
        return 1;
    }
    PyMonitoring_FirePyReturnEvent(&g->st[RETURN], code, 0, boxed(0));
    PyMonitoring_ExitScope();
    return 0;
}

/* def safe_div(a, b):        line 12
 *     try:                   line 13
 *         return a // b      line 14
 *     except ZeroDivisionError:  line 15
 *         return 0           line 16 */
static long safe_div(long a, long b) {
    PyMonitoringState st[7];
    memset(st, 0, sizeof st);
    ENTER(st, 7);
    PyObject *code = AS_OBJ(&safe_div_code);
    long result;
    PyMonitoring_FirePyStartEvent(&st[START], code, 0);
    PyMonitoring_FireLineEvent(&st[LINE], code, 1, 13);
    PyMonitoring_FireLineEvent(&st[LINE], code, 2, 14);
    if (b == 0) {
        PyMonitoring_SetRaisedException(AS_OBJ(&zero_division_error));
        PyMonitoring_FireRaiseEvent(&st[RAISE], code, 14); /* lineno as offset */
        PyMonitoring_FireLineEvent(&st[LINE], code, 3, 15);
        PyMonitoring_FireExceptionHandledEvent(&st[HANDLED], code, 3);
        PyMonitoring_GetRaisedException(); /* the except clause takes it */
        PyMonitoring_FireLineEvent(&st[LINE], code, 4, 16);
        result = 0;
    } else {
        result = a / b;
    }
    PyMonitoring_FirePyReturnEvent(&st[RETURN], code, 0, boxed(result));
    PyMonitoring_ExitScope();
    return result;
}

/* def check(x):              line 19
 *     if x < 0:              line 20
 *         raise ValueError   line 21
 *     return x               line 22 */
static int check(long x) {
    PyMonitoringState st[7];
    memset(st, 0, sizeof st);
    ENTER(st, 7);
    PyObject *code = AS_OBJ(&check_code);
    PyMonitoring_FirePyStartEvent(&st[START], code, 0);
    PyMonitoring_FireLineEvent(&st[LINE], code, 1, 20);
    if (x < 0) {
        PyMonitoring_FireLineEvent(&st[LINE], code, 2, 21);
        PyMonitoring_SetRaisedException(AS_OBJ(&value_error));
        PyMonitoring_FireRaiseEvent(&st[RAISE], code, 21);
        PyMonitoring_FirePyUnwindEvent(&st[UNWIND], code, 0);
        PyMonitoring_ExitScope();
        return -1; /* the exception stays set for the caller */
    }
    PyMonitoring_FireLineEvent(&st[LINE], code, 3, 22);
    PyMonitoring_FirePyReturnEvent(&st[RETURN], code, 0, boxed(x));
    PyMonitoring_ExitScope();
    return 0;
}

/* ---- the tool ----------------------------------------------------------- */

typedef struct {
    const CodeLike *code;
    int calls, lines, exceptions, yields;
} Summary;

static Summary summaries[4];
static int depth;

static Summary *summary_for(PyObject *codelike) {
    const CodeLike *code = (const CodeLike *)(void *)codelike;
    for (int i = 0; i < 4; i++) {
        if (summaries[i].code == code || summaries[i].code == NULL) {
            summaries[i].code = code;
            return &summaries[i];
        }
    }
    return &summaries[3];
}

static const char *event_name(int event) {
    static const char *names[] = {
        "PY_START", "PY_RESUME", "PY_RETURN", "PY_YIELD", "CALL", "LINE",
        "INSTRUCTION", "JUMP", "BRANCH_LEFT", "BRANCH_RIGHT", "STOP_ITERATION",
        "RAISE", "EXCEPTION_HANDLED", "PY_UNWIND", "PY_THROW", "RERAISE",
        "C_RETURN", "C_RAISE", "BRANCH"};
    return event >= 0 && event < PY_MONITORING_EVENTS ? names[event] : "?";
}

static const char *object_text(PyObject *obj, char *buf, size_t len) {
    if (obj == PyMonitoring_MISSING) return "-";
    if (obj == AS_OBJ(&zero_division_error)) return "ZeroDivisionError";
    if (obj == AS_OBJ(&value_error)) return "ValueError";
    if ((char *)obj >= (char *)values && (char *)obj < (char *)(values + 64)) {
        snprintf(buf, len, "%ld", *(long *)(void *)obj);
        return buf;
    }
    return "?";
}

static int print_event(void *data, const PyMonitoringEvent *ev) {
    (void)data;
    Summary *s = summary_for(ev->codelike);
    char buf[32];
    if (ev->event == PY_MONITORING_EVENT_PY_RETURN ||
        ev->event == PY_MONITORING_EVENT_PY_UNWIND ||
        ev->event == PY_MONITORING_EVENT_PY_YIELD) {
        depth--;
    }
    printf("%*s%-17s %-9s offset=%-2d", 2 * depth, "", event_name(ev->event),
           s->code->name, ev->offset);
    if (ev->event == PY_MONITORING_EVENT_LINE) printf(" line=%d", ev->lineno);
    if (ev->arg0 != PyMonitoring_MISSING)
        printf(" arg=%s", object_text(ev->arg0, buf, sizeof buf));
    printf("\n");
    switch (ev->event) {
    case PY_MONITORING_EVENT_PY_START: s->calls++; depth++; break;
    case PY_MONITORING_EVENT_PY_RESUME: depth++; break;
    case PY_MONITORING_EVENT_LINE: s->lines++; break;
    case PY_MONITORING_EVENT_RAISE: s->exceptions++; break;
    case PY_MONITORING_EVENT_PY_YIELD: s->yields++; break;
    default: break;
    }
    return 0;
}

/* The source the emulated module was "compiled" from, so the code-likes can
 * be named and coverage can be rendered against real lines. */
static const char *module_source =
    "def fact(n):\n"
    "    if n <= 1:\n"
    "        return 1\n"
    "    return n * fact(n - 1)\n"
    "\n"
    "def countdown(n):\n"
    "    while n > 0:\n"
    "        yield n\n"
    "        n -= 1\n"
    "\n"
    "\n"
    "def safe_div(a, b):\n"
    "    try:\n"
    "        return a // b\n"
    "    except ZeroDivisionError:\n"
    "        return 0\n"
    "\n"
    "\n"
    "def check(x):\n"
    "    if x < 0:\n"
    "        raise ValueError\n"
    "    return x\n";

static int start_builtin_tools(const char *outdir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/module.pyx", outdir);
    FILE *f = fopen(path, "w");
    if (!f || fputs(module_source, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "demo: cannot write %s\n", path);
        return -1;
    }
    const CodeLike *codes[] = {&fact_code, &countdown_code, &safe_div_code, &check_code};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        if (PyMonitoring_RegisterCodeName(AS_OBJ(codes[i]), codes[i]->name, path,
                                          codes[i]->firstlineno) < 0)
            return -1;
    }
    snprintf(path, sizeof path, "%s/events.jsonl", outdir);
    if (PyMonitoring_StartRecorder(3, path) < 0) return -1;
    snprintf(path, sizeof path, "%s/trace.json", outdir);
    if (PyMonitoring_StartProfiler(4, path) < 0) return -1;
    /* COUNT: Cython-style code has one LINE slot per activation, so a
     * DISABLE after the first line would hide the others. */
    snprintf(path, sizeof path, "%s/coverage.info", outdir);
    if (PyMonitoring_StartCoverage(PY_MONITORING_COVERAGE_ID, path,
                                   PY_MONITORING_COVERAGE_COUNT) < 0)
        return -1;
    return 0;
}

int main(int argc, char **argv) {
    const int tool = PY_MONITORING_PROFILER_ID;
    const char *outdir = argc > 1 ? argv[1] : NULL;
    const int events[] = {
        PY_MONITORING_EVENT_PY_START, PY_MONITORING_EVENT_PY_RESUME,
        PY_MONITORING_EVENT_PY_RETURN, PY_MONITORING_EVENT_PY_YIELD,
        PY_MONITORING_EVENT_LINE, PY_MONITORING_EVENT_RAISE,
        PY_MONITORING_EVENT_EXCEPTION_HANDLED, PY_MONITORING_EVENT_PY_UNWIND};
    uint32_t set = 0;

    /* Nothing is monitored yet: the module runs at full speed, and the
     * version-0 scopes cost one comparison each. */
    printf("unmonitored: fact(5) = %ld\n\n", fact(5));

    if (PyMonitoring_UseToolId(tool, "demo-printer") < 0) goto fail;
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
        if (PyMonitoring_RegisterCallback(tool, events[i], print_event, NULL) < 0) goto fail;
        set |= 1u << events[i];
    }
    if (PyMonitoring_SetEvents(tool, set) < 0) goto fail;
    if (outdir && start_builtin_tools(outdir) < 0) goto fail;

    printf("fact(3) = %ld\n\n", fact(3));

    Countdown gen;
    memset(&gen, 0, sizeof gen);
    gen.n = 2;
    long v;
    while (countdown_next(&gen, &v) == 1) printf("  -> got %ld\n", v);
    printf("\nsafe_div(1, 0) = %ld\n\n", safe_div(1, 0));

    if (check(-1) < 0) {
        PyObject *exc = PyMonitoring_GetRaisedException();
        printf("check(-1) raised %s\n\n",
               exc == AS_OBJ(&value_error) ? "ValueError" : "something else");
    }

    printf("%-10s %6s %6s %10s %7s\n", "function", "calls", "lines", "exceptions", "yields");
    for (int i = 0; i < 4 && summaries[i].code; i++) {
        printf("%-10s %6d %6d %10d %7d\n", summaries[i].code->name, summaries[i].calls,
               summaries[i].lines, summaries[i].exceptions, summaries[i].yields);
    }
    PyMonitoring_FreeToolId(tool);
    if (outdir) {
        if (PyMonitoring_StopBuiltinTools() < 0) goto fail;
        printf("\nwrote %s/events.jsonl, %s/trace.json and %s/coverage.info\n", outdir,
               outdir, outdir);
    }
    PyMonitoring_WaitForCallbacks();
    return 0;

fail:
    fprintf(stderr, "demo: %s\n", PyMonitoring_ErrMessage());
    return 1;
}
