/* Cython-style recursive function (depth 25, and a failure at depth 20):
 *
 *   40  def fact(n):
 *   41      if n <= 1:
 *   42          return 1
 *   43      return n * fact(n - 1)
 *
 * Offsets: 0 = def, 1 = line 41, 2 = line 42, 3 = line 43. Every activation
 * has its own stack states and its own version-0 EnterScope; START…START…
 * RETURN…RETURN with LIFO Enter/Exit. In fact_fail the innermost activation
 * raises: every level fires RAISE (its own "already reported" flag, its own
 * line number as the offset) and PY_UNWIND. */
#include "cython_like.h"

static const CyFunction fact_fn = {"fact", 40};
static const CyFunction fail_fn = {"fact_fail", 40};
#define CODE CY_CODE(&fact_fn)
#define FCODE CY_CODE(&fail_fn)
#define DEPTH 25
#define FAIL_DEPTH 20

static Recording rec;
static ExpectList want;

static PyObject *fact(int n, const CyFunction *fn, int fail) {
    CyFrame f;
    PyObject *result = NULL;
    int lineno = 40;
    if (cy_trace_start(&f, fn, 0, 0) < 0) goto error;
    lineno = 41;
    if (cy_trace_line(&f, 1, 41) < 0) goto error;
    if (n <= 1) {
        lineno = 42;
        if (cy_trace_line(&f, 2, 42) < 0) goto error;
        if (fail) {
            PyMonitoring_SetRaisedException(OBJ(60));
            goto error;
        }
        result = OBJ(1);
        if (cy_trace_return(&f, 2, result) < 0) goto error;
        goto done;
    }
    lineno = 43;
    if (cy_trace_line(&f, 3, 43) < 0) goto error;
    if (fact(n - 1, fn, fail) == NULL) goto error;
    result = OBJ(n);
    if (cy_trace_return(&f, 3, result) < 0) goto error;
    goto done;
error:
    result = NULL;
    cy_error_label(&f, lineno);
done:
    cy_exit(&f);
    return result;
}

int main(void) {
    CHECK_OK(PyMonitoring_UseToolId(1, "coverage"), 0);
    cy_register_all(1, CY_FUNCTION_EVENTS, record_event, &rec);
    CHECK_OK(PyMonitoring_SetEvents(1, CY_FUNCTION_EVENTS), 0);

    CHECK(fact(DEPTH, &fact_fn, 0) == OBJ(DEPTH));
    for (int n = DEPTH; n >= 2; n--) {
        expect(&want, PY_MONITORING_EVENT_PY_START, 1, CODE, 0, -1, CY_MISSING);
        expect(&want, PY_MONITORING_EVENT_LINE, 1, CODE, 1, 41, CY_MISSING);
        expect(&want, PY_MONITORING_EVENT_LINE, 1, CODE, 3, 43, CY_MISSING);
    }
    expect(&want, PY_MONITORING_EVENT_PY_START, 1, CODE, 0, -1, CY_MISSING);
    expect(&want, PY_MONITORING_EVENT_LINE, 1, CODE, 1, 41, CY_MISSING);
    expect(&want, PY_MONITORING_EVENT_LINE, 1, CODE, 2, 42, CY_MISSING);
    expect(&want, PY_MONITORING_EVENT_PY_RETURN, 1, CODE, 2, -1, OBJ(1));
    for (int n = 2; n <= DEPTH; n++) {
        expect(&want, PY_MONITORING_EVENT_PY_RETURN, 1, CODE, 3, -1, OBJ(n));
    }
    CHECK_SEQUENCE(&rec, &want);
    CHECK_EQ_INT(cy_enter_calls, DEPTH);
    CHECK_EQ_INT(cy_exit_calls, DEPTH);
    CHECK(!PyMonitoring_ErrOccurred());

    rec.count = 0;
    want.count = 0;
    CHECK(fact(FAIL_DEPTH, &fail_fn, 1) == NULL);
    for (int n = FAIL_DEPTH; n >= 2; n--) {
        expect(&want, PY_MONITORING_EVENT_PY_START, 1, FCODE, 0, -1, CY_MISSING);
        expect(&want, PY_MONITORING_EVENT_LINE, 1, FCODE, 1, 41, CY_MISSING);
        expect(&want, PY_MONITORING_EVENT_LINE, 1, FCODE, 3, 43, CY_MISSING);
    }
    expect(&want, PY_MONITORING_EVENT_PY_START, 1, FCODE, 0, -1, CY_MISSING);
    expect(&want, PY_MONITORING_EVENT_LINE, 1, FCODE, 1, 41, CY_MISSING);
    expect(&want, PY_MONITORING_EVENT_LINE, 1, FCODE, 2, 42, CY_MISSING);
    expect(&want, PY_MONITORING_EVENT_RAISE, 1, FCODE, 42, -1, OBJ(60));
    expect(&want, PY_MONITORING_EVENT_PY_UNWIND, 1, FCODE, 0, -1, OBJ(60));
    for (int n = 2; n <= FAIL_DEPTH; n++) {
        expect(&want, PY_MONITORING_EVENT_RAISE, 1, FCODE, 43, -1, OBJ(60));
        expect(&want, PY_MONITORING_EVENT_PY_UNWIND, 1, FCODE, 0, -1, OBJ(60));
    }
    CHECK_SEQUENCE(&rec, &want);
    /* The same exception object is pending at the end. */
    CHECK_EQ_INT(PyMonitoring_ErrKind(), PY_MONITORING_ERR_HOST);
    CHECK(PyMonitoring_GetRaisedException() == OBJ(60));
    CHECK(!PyMonitoring_ErrOccurred());
    CHECK_EQ_INT(cy_enter_calls, DEPTH + FAIL_DEPTH);
    CHECK_EQ_INT(cy_exit_calls, DEPTH + FAIL_DEPTH);

    CHECK_OK(PyMonitoring_FreeToolId(1), 0);
    return harness_finish("cython_recursive");
}
