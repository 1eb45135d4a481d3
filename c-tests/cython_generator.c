/* Cython-style generator resumed many times:
 *
 *   50  def gen(n):
 *   51      for i in range(n):
 *   52          yield i
 *   53      return "done"
 *
 * states[10] and the version live in the generator object (the version stays
 * 0); all offsets are 0; a yield is fired on the PY_RETURN slot and only when
 * the PY_YIELD slot is active, then ExitScope; with PY_YIELD off a suspension
 * makes no ExitScope. A resume with an exception pending (gen.throw) fires
 * PY_RESUME with it pending, then the error path RAISE(lineno) + PY_UNWIND. */
#include "cython_like.h"

static const CyFunction gen_fn = {"gen", 50};
#define CODE CY_CODE(&gen_fn)
#define N 40
#define DONE OBJ(63)

static Recording rec;
static ExpectList want;
static int indicator_seen_set; /* a callback ran with an error pending */

static int record_checked(void *data, const PyMonitoringEvent *ev) {
    if (PyMonitoring_ErrOccurred()) {
        indicator_seen_set++;
    }
    return record_event(data, ev);
}

/* One step of the generator body: returns the yielded value, DONE at
 * exhaustion, NULL on error. `i` is the generator's local. */
static PyObject *gen_next(CyGenerator *g, int *i, int n) {
    int first = !g->started;
    int lineno = 50;
    if (cy_gen_enter(g) < 0) goto error;
    if (PyMonitoring_ErrOccurred()) {
        lineno = 52; /* thrown in at the yield */
        goto error;
    }
    if (!first) {
        (*i)++;
    }
    lineno = 51;
    if (cy_gen_line(g, 51) < 0) goto error;
    if (*i < n) {
        lineno = 52;
        if (cy_gen_line(g, 52) < 0) goto error;
        if (cy_gen_yield(g, OBJ(*i)) < 0) goto error;
        return OBJ(*i);
    }
    lineno = 53;
    if (cy_gen_line(g, 53) < 0) goto error;
    if (cy_gen_return(g, DONE) < 0) return NULL;
    return DONE;
error:
    cy_gen_error(g, lineno);
    return NULL;
}

static void expect_run(int n, int yields_delivered, PyObject *code) {
    for (int k = 0; k <= n; k++) {
        int ev = k == 0 ? PY_MONITORING_EVENT_PY_START : PY_MONITORING_EVENT_PY_RESUME;
        expect(&want, ev, 3, code, 0, -1, CY_MISSING);
        expect(&want, PY_MONITORING_EVENT_LINE, 3, code, 0, 51, CY_MISSING);
        if (k < n) {
            expect(&want, PY_MONITORING_EVENT_LINE, 3, code, 0, 52, CY_MISSING);
            if (yields_delivered) {
                expect(&want, PY_MONITORING_EVENT_PY_YIELD, 3, code, 0, -1, OBJ(k));
            }
        } else {
            expect(&want, PY_MONITORING_EVENT_LINE, 3, code, 0, 53, CY_MISSING);
        }
    }
}

static void run(uint32_t events, int yields_delivered, int returns_delivered, long exits) {
    CyGenerator g;
    int i = 0;
    rec.count = 0;
    want.count = 0;
    cy_enter_calls = cy_exit_calls = 0;
    CHECK_OK(PyMonitoring_SetEvents(3, events), 0);
    cy_gen_init(&g, &gen_fn);
    for (int k = 0; k < N; k++) {
        CHECK(gen_next(&g, &i, N) == OBJ(k));
    }
    CHECK(gen_next(&g, &i, N) == DONE);
    expect_run(N, yields_delivered, CODE);
    if (returns_delivered) {
        expect(&want, PY_MONITORING_EVENT_PY_RETURN, 3, CODE, 0, -1, DONE);
    }
    CHECK_SEQUENCE(&rec, &want);
    CHECK_EQ_INT(g.version, 0);
    CHECK_EQ_INT(cy_enter_calls, N + 1);
    CHECK_EQ_INT(cy_exit_calls, exits);
    CHECK(!PyMonitoring_ErrOccurred());
}

int main(void) {
    CHECK_OK(PyMonitoring_UseToolId(3, "gen-recorder"), 0);
    cy_register_all(3, CY_GENERATOR_EVENTS, record_checked, &rec);

    /* Everything on: START, (LINE 51, LINE 52, YIELD) ×N with a RESUME
     * before each but the first, then RESUME, LINE 51, LINE 53, RETURN.
     * One ExitScope per suspension and one at the end. */
    run(CY_GENERATOR_EVENTS, 1, 1, N + 1);
    /* PY_YIELD without PY_RETURN: the yield's slot (PY_RETURN's) is
     * inactive, so no yield is delivered, but ExitScope is still called. */
    run(CY_GENERATOR_EVENTS & ~EV(PY_RETURN), 0, 0, N + 1);
    /* PY_RETURN without PY_YIELD: no yield, and no ExitScope on suspension:
     * N+1 EnterScope calls, one ExitScope. */
    run(CY_GENERATOR_EVENTS & ~EV(PY_YIELD), 0, 1, 1);

    /* gen.throw() after two items: PY_RESUME fires with the thrown exception
     * pending (the callback runs with a clear indicator, the exception is
     * pending again afterwards), then RAISE(52) and PY_UNWIND(0). */
    {
        CyGenerator g;
        int i = 0;
        rec.count = 0;
        want.count = 0;
        CHECK_OK(PyMonitoring_SetEvents(3, CY_GENERATOR_EVENTS), 0);
        cy_gen_init(&g, &gen_fn);
        CHECK(gen_next(&g, &i, N) == OBJ(0));
        CHECK(gen_next(&g, &i, N) == OBJ(1));
        PyMonitoring_SetRaisedException(OBJ(61));
        CHECK(gen_next(&g, &i, N) == NULL);
        expect_run(2, 1, CODE);
        want.count -= 3; /* the last step's RESUME, LINE 51, LINE 53 */
        expect(&want, PY_MONITORING_EVENT_PY_RESUME, 3, CODE, 0, -1, CY_MISSING);
        expect(&want, PY_MONITORING_EVENT_RAISE, 3, CODE, 52, -1, OBJ(61));
        expect(&want, PY_MONITORING_EVENT_PY_UNWIND, 3, CODE, 0, -1, OBJ(61));
        CHECK_SEQUENCE(&rec, &want);
        CHECK(PyMonitoring_GetRaisedException() == OBJ(61));
        CHECK(!PyMonitoring_ErrOccurred());
    }
    CHECK_EQ_INT(indicator_seen_set, 0);

    CHECK_OK(PyMonitoring_FreeToolId(3), 0);
    return harness_finish("cython_generator");
}
