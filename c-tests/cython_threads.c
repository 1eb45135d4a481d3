/* Cython-style scopes entered on several threads at once.
 *
 * 8 threads start together (a barrier) and each runs 300 calls of a plain
 * function and of a recursive one; every activation has its own stack states
 * and version-0 EnterScope, so each thread sees exactly its own events. The
 * recording callback writes to a per-thread recording. Then one generator
 * object is handed between threads, one resume per thread, each thread
 * seeing exactly the events of its own resume. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

#include "cython_like.h"

#define THREADS 8
#define CALLS 300

static const CyFunction plain_fn = {"plain", 10};
static const CyFunction fact_fn = {"fact", 40};
static const CyFunction gen_fn = {"gen", 50};

static Recording recs[THREADS + 1];
static _Thread_local Recording *my_rec;
static pthread_barrier_t barrier;
static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;

static int record_tls(void *data, const PyMonitoringEvent *ev) {
    (void)data;
    return record_event(my_rec, ev);
}

static PyObject *plain(void) {
    CyFrame f;
    PyObject *result = NULL;
    int lineno = 10;
    if (cy_trace_start(&f, &plain_fn, 0, 0) < 0) goto error;
    lineno = 11;
    if (cy_trace_line(&f, 1, 11) < 0) goto error;
    result = OBJ(20);
    if (cy_trace_return(&f, 1, result) < 0) goto error;
    goto done;
error:
    result = NULL;
    cy_error_label(&f, lineno);
done:
    cy_exit(&f);
    return result;
}

static PyObject *fact(int n) {
    CyFrame f;
    PyObject *result = NULL;
    int lineno = 40;
    if (cy_trace_start(&f, &fact_fn, 0, 0) < 0) goto error;
    lineno = 41;
    if (cy_trace_line(&f, 1, 41) < 0) goto error;
    if (n > 1 && fact(n - 1) == NULL) goto error;
    result = OBJ(n);
    if (cy_trace_return(&f, 1, result) < 0) goto error;
    goto done;
error:
    result = NULL;
    cy_error_label(&f, lineno);
done:
    cy_exit(&f);
    return result;
}

typedef struct {
    int index;
    int failures;
    ExpectList want;
} Worker;

static Worker workers[THREADS];

static void expect_fact(ExpectList *w, int n) {
    PyObject *code = CY_CODE(&fact_fn);
    for (int k = n; k >= 1; k--) {
        expect(w, PY_MONITORING_EVENT_PY_START, 4, code, 0, -1, CY_MISSING);
        expect(w, PY_MONITORING_EVENT_LINE, 4, code, 1, 41, CY_MISSING);
    }
    for (int k = 1; k <= n; k++) {
        expect(w, PY_MONITORING_EVENT_PY_RETURN, 4, code, 1, -1, OBJ(k));
    }
}

static void *work(void *arg) {
    Worker *wk = (Worker *)arg;
    my_rec = &recs[wk->index];
    pthread_barrier_wait(&barrier);
    for (int i = 0; i < CALLS; i++) {
        my_rec->count = 0;
        wk->want.count = 0;
        if (plain() != OBJ(20)) wk->failures++;
        expect(&wk->want, PY_MONITORING_EVENT_PY_START, 4, CY_CODE(&plain_fn), 0, -1, CY_MISSING);
        expect(&wk->want, PY_MONITORING_EVENT_LINE, 4, CY_CODE(&plain_fn), 1, 11, CY_MISSING);
        expect(&wk->want, PY_MONITORING_EVENT_PY_RETURN, 4, CY_CODE(&plain_fn), 1, -1, OBJ(20));
        int n = 1 + (i + wk->index) % 6;
        if (fact(n) != OBJ(n)) wk->failures++;
        expect_fact(&wk->want, n);
        pthread_mutex_lock(&report_lock);
        int before = harness_failures;
        CHECK_SEQUENCE(my_rec, &wk->want);
        int failed = harness_failures != before;
        pthread_mutex_unlock(&report_lock);
        if (failed) break;
    }
    if (cy_enter_calls != cy_exit_calls || PyMonitoring_ErrOccurred()) wk->failures++;
    return NULL;
}

/* The generator: yields 0..3 then returns; each step runs on a new thread. */
typedef struct {
    CyGenerator *g;
    int *i;
    int rec_index;
    PyObject *got;
} Step;

static void *gen_step(void *arg) {
    Step *s = (Step *)arg;
    my_rec = &recs[s->rec_index];
    my_rec->count = 0;
    CyGenerator *g = s->g;
    int first = !g->started;
    s->got = NULL;
    if (cy_gen_enter(g) < 0) return NULL;
    if (!first) (*s->i)++;
    if (*s->i < 4) {
        if (cy_gen_yield(g, OBJ(*s->i)) < 0) return NULL;
        s->got = OBJ(*s->i);
    } else {
        if (cy_gen_return(g, OBJ(63)) < 0) return NULL;
        s->got = OBJ(63);
    }
    return NULL;
}

int main(void) {
    CHECK_OK(PyMonitoring_UseToolId(4, "threads"), 0);
    cy_register_all(4, CY_GENERATOR_EVENTS, record_tls, NULL);
    CHECK_OK(PyMonitoring_SetEvents(4, CY_GENERATOR_EVENTS), 0);

    pthread_t th[THREADS];
    pthread_barrier_init(&barrier, NULL, THREADS);
    for (int t = 0; t < THREADS; t++) {
        workers[t].index = t;
        CHECK(pthread_create(&th[t], NULL, work, &workers[t]) == 0);
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(th[t], NULL);
        CHECK_EQ_INT(workers[t].failures, 0);
    }
    pthread_barrier_destroy(&barrier);

    CyGenerator g;
    int i = 0;
    static ExpectList want;
    cy_gen_init(&g, &gen_fn);
    for (int step = 0; step <= 4; step++) {
        Step s = {&g, &i, THREADS, NULL};
        pthread_t t;
        CHECK(pthread_create(&t, NULL, gen_step, &s) == 0);
        pthread_join(t, NULL);
        want.count = 0;
        expect(&want, step == 0 ? PY_MONITORING_EVENT_PY_START : PY_MONITORING_EVENT_PY_RESUME, 4,
               CY_CODE(&gen_fn), 0, -1, CY_MISSING);
        if (step < 4) {
            CHECK(s.got == OBJ(step));
            expect(&want, PY_MONITORING_EVENT_PY_YIELD, 4, CY_CODE(&gen_fn), 0, -1, OBJ(step));
        } else {
            CHECK(s.got == OBJ(63));
            expect(&want, PY_MONITORING_EVENT_PY_RETURN, 4, CY_CODE(&gen_fn), 0, -1, OBJ(63));
        }
        CHECK_SEQUENCE(&recs[THREADS], &want);
    }
    CHECK_EQ_INT(g.version, 0);

    CHECK_OK(PyMonitoring_FreeToolId(4), 0);
    return harness_finish("cython_threads");
}
