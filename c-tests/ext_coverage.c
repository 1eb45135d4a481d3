/* Line coverage of Cython-style code in PY_MONITORING_OPT_LASTING_DISABLE
 * (docs/EXTENSIONS.md, "DISABLE that lasts"): a coverage tool that answers
 * DISABLE to every LINE and PY_START sees every line of every function
 * exactly once, although each activation has one LINE slot for all its
 * lines (cython_like.h: per-call zeroed states, version 0, generator lines
 * all at offset 0).
 *
 *   10  def fib(n):               (offsets: 0 = def, 1, 2, 3 = lines 11-13)
 *   11      if n < 2:
 *   12          return n
 *   13      return fib(n - 1) + fib(n - 2)
 *
 *   20  def loop(n):              (offsets 1-4 = lines 21-24)
 *   21      total = 0
 *   22      for i in range(n):
 *   23          total += i
 *   24      return total
 *
 *   30  def gen(n):               (a generator: every offset 0)
 *   31      for i in range(n):
 *   32          yield i
 *   33      return "done"
 *
 * Phases: one thread runs the program, then a second thread runs it again
 * (exactly once in all: the second sees nothing); after the tool's restart
 * both threads run it at once (each line at least once and at most once
 * per thread: two threads may reach a line before either's DISABLE is
 * remembered); then again with nothing seen. A recording tool on the same
 * events sees every event every time (other tools at a site keep being
 * called). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

#include "cython_like.h"

static const CyFunction fib_fn = {"fib", 10};
static const CyFunction loop_fn = {"loop", 20};
static const CyFunction gen_fn = {"gen", 30};

#define COVERAGE 1
#define COUNTER 3
#define FIB_N 12
#define LOOP_N 1000
#define GEN_N 5

/* Hits per (function, line): lines 0-9 of each function (0: PY_START). */
static _Atomic long hits[3][10];
static _Atomic long counted;

static int function_index(PyObject *code) {
    if (code == CY_CODE(&fib_fn)) return 0;
    if (code == CY_CODE(&loop_fn)) return 1;
    if (code == CY_CODE(&gen_fn)) return 2;
    return -1;
}

static int coverage(void *data, const PyMonitoringEvent *ev) {
    (void)data;
    int f = function_index(ev->codelike);
    static const int first[3] = {10, 20, 30};
    int line = ev->event == PY_MONITORING_EVENT_LINE ? ev->lineno - first[f < 0 ? 0 : f] : 0;
    if (f < 0 || ev->tool_id != COVERAGE || line < 0 || line > 9) {
        fprintf(stderr, "coverage: unexpected event %d tool %d line %d\n", ev->event, ev->tool_id,
                ev->lineno);
        harness_failures++;
        return 0;
    }
    hits[f][line]++;
    return PY_MONITORING_DISABLE;
}

static int counter(void *data, const PyMonitoringEvent *ev) {
    (void)data;
    (void)ev;
    counted++;
    return 0;
}

/* fib(n), or -1 on error. */
static long fib(int n) {
    CyFrame f;
    long result = -1;
    if (cy_trace_start(&f, &fib_fn, 0, 0) < 0) goto error;
    if (cy_trace_line(&f, 1, 11) < 0) goto error;
    if (n < 2) {
        if (cy_trace_line(&f, 2, 12) < 0) goto error;
        result = n;
    } else {
        if (cy_trace_line(&f, 3, 13) < 0) goto error;
        long a = fib(n - 1), b = fib(n - 2);
        if (a < 0 || b < 0) goto error;
        result = a + b;
    }
    if (cy_trace_return(&f, n < 2 ? 2 : 3, OBJ(1)) < 0) goto error;
    goto done;
error:
    result = -1;
    cy_error_label(&f, 13);
done:
    cy_exit(&f);
    return result;
}

static long loop(int n) {
    CyFrame f;
    long total = -1;
    if (cy_trace_start(&f, &loop_fn, 0, 0) < 0) goto error;
    if (cy_trace_line(&f, 1, 21) < 0) goto error;
    total = 0;
    for (int i = 0;; i++) {
        if (cy_trace_line(&f, 2, 22) < 0) goto error;
        if (i >= n) break;
        if (cy_trace_line(&f, 3, 23) < 0) goto error;
        total += i;
    }
    if (cy_trace_line(&f, 4, 24) < 0) goto error;
    if (cy_trace_return(&f, 4, OBJ(1)) < 0) goto error;
    goto done;
error:
    total = -1;
    cy_error_label(&f, 24);
done:
    cy_exit(&f);
    return total;
}

/* One step of gen(n): the yielded value, OBJ(99) at exhaustion, NULL on
 * error. */
static PyObject *gen_next(CyGenerator *g, int *i, int n) {
    int first = !g->started;
    int lineno = 30;
    if (cy_gen_enter(g) < 0) goto error;
    if (!first) (*i)++;
    lineno = 31;
    if (cy_gen_line(g, 31) < 0) goto error;
    if (*i < n) {
        lineno = 32;
        if (cy_gen_line(g, 32) < 0) goto error;
        if (cy_gen_yield(g, OBJ(*i)) < 0) goto error;
        return OBJ(*i);
    }
    lineno = 33;
    if (cy_gen_line(g, 33) < 0) goto error;
    if (cy_gen_return(g, OBJ(99)) < 0) return NULL;
    return OBJ(99);
error:
    cy_gen_error(g, lineno);
    return NULL;
}

/* The program: fib, the loop, a generator drained. */
static void *program(void *arg) {
    (void)arg;
    CHECK_EQ_INT(fib(FIB_N), 144);
    CHECK_EQ_INT(loop(LOOP_N), (long)LOOP_N * (LOOP_N - 1) / 2);
    CyGenerator g;
    int i = 0, yielded = 0;
    cy_gen_init(&g, &gen_fn);
    for (;;) {
        PyObject *v = gen_next(&g, &i, GEN_N);
        CHECK(v != NULL);
        if (v == NULL || v == OBJ(99)) break;
        CHECK(v == OBJ(yielded));
        yielded++;
    }
    CHECK_EQ_INT(yielded, GEN_N);
    return NULL;
}

static void run_in_thread(void) {
    pthread_t t;
    CHECK(pthread_create(&t, NULL, program, NULL) == 0);
    pthread_join(t, NULL);
}

/* The lines each function runs (index 0: PY_START). */
static const int covered_lines[3][5] = {{0, 1, 2, 3, -1}, {0, 1, 2, 3, 4}, {0, 1, 2, 3, -1}};

static int is_covered(int f, int line) {
    for (int k = 0; k < 5; k++)
        if (covered_lines[f][k] == line) return 1;
    return 0;
}

/* Every covered line seen between `lo` and `hi` times, the others never;
 * then the counts start again. */
static void check_hits(const char *phase, long lo, long hi) {
    for (int f = 0; f < 3; f++) {
        for (int line = 0; line < 10; line++) {
            long n = hits[f][line];
            long want_lo = is_covered(f, line) ? lo : 0, want_hi = is_covered(f, line) ? hi : 0;
            if (n < want_lo || n > want_hi) {
                fprintf(stderr, "%s: function %d line %d seen %ld times (expected %ld..%ld)\n",
                        phase, f, line, n, want_lo, want_hi);
                harness_failures++;
            }
            hits[f][line] = 0;
        }
    }
}

int main(void) {
    (void)record_event; /* harness.h helper this program does not use */
    CHECK_OK(PyMonitoring_SetOptions(PY_MONITORING_OPT_LASTING_DISABLE), 0);
    CHECK_OK(PyMonitoring_UseToolId(COVERAGE, "coverage"), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(COVERAGE, PY_MONITORING_EVENT_LINE, coverage, NULL), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(COVERAGE, PY_MONITORING_EVENT_PY_START, coverage, NULL), 0);
    CHECK_OK(PyMonitoring_SetEvents(COVERAGE, EV(LINE) | EV(PY_START)), 0);

    /* Alone: every line once, in one activation or over several. */
    run_in_thread();
    check_hits("first thread", 1, 1);
    run_in_thread();
    check_hits("second thread", 0, 0);

    /* A recording tool on the same events keeps every call. */
    CHECK_OK(PyMonitoring_UseToolId(COUNTER, "counter"), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(COUNTER, PY_MONITORING_EVENT_LINE, counter, NULL), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(COUNTER, PY_MONITORING_EVENT_PY_START, counter, NULL), 0);
    CHECK_OK(PyMonitoring_SetEvents(COUNTER, EV(LINE) | EV(PY_START)), 0);
    counted = 0;
    run_in_thread();
    check_hits("with a counter", 0, 0);
    /* fib(12): 465 calls, 2 lines each; the loop: 2n + 3 lines; gen: 2 per
     * item and 2 at the end; one PY_START per call (the generator's
     * resumptions are PY_RESUME). */
    const long fib_calls = 465;
    CHECK_EQ_INT(counted, fib_calls * 3 + (2 * LOOP_N + 3 + 1) + (2 * GEN_N + 2 + 1));
    CHECK_OK(PyMonitoring_FreeToolId(COUNTER), 0);

    /* After the tool's restart, two threads at once. */
    CHECK_OK(PyMonitoring_RestartToolEvents(COVERAGE), 0);
    pthread_t t[2];
    for (int k = 0; k < 2; k++) CHECK(pthread_create(&t[k], NULL, program, NULL) == 0);
    for (int k = 0; k < 2; k++) pthread_join(t[k], NULL);
    check_hits("two threads", 1, 2);
    run_in_thread();
    check_hits("after the two threads", 0, 0);

    CHECK_OK(PyMonitoring_FreeToolId(COVERAGE), 0);
    CHECK_OK(PyMonitoring_SetOptions(0), 0);
    return harness_finish("ext_coverage");
}
