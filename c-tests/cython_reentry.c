/* A Cython-style function called from inside a monitoring callback.
 *
 * The host raises its "tracing" flag (cy_tracing, CPython's tstate->tracing)
 * around callback bodies: the generated code then makes no EnterScope, fires
 * nothing, and still calls ExitScope (Exit without Enter). A host that does
 * not raise the flag gets EnterScope and fires from inside the callback,
 * which the library does not deliver (they return 0). Either way: no nested
 * events, no crash, and the outer activation goes on unchanged. */
#include "cython_like.h"

static const CyFunction plain_fn = {"plain", 10};
static const CyFunction fact_fn = {"fact", 40};
#define CODE CY_CODE(&plain_fn)

static Recording rec;
static ExpectList want;
static int host_sets_tracing = 1;
static int nested_ok;

static PyObject *fact(int n) {
    CyFrame f;
    PyObject *result = NULL;
    int lineno = 40;
    if (cy_trace_start(&f, &fact_fn, 0, 0) < 0) goto error;
    lineno = 41;
    if (cy_trace_line(&f, 1, 41) < 0) goto error;
    if (n > 1) {
        lineno = 43;
        if (cy_trace_line(&f, 3, 43) < 0) goto error;
        if (fact(n - 1) == NULL) goto error;
    }
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

/* PY_START and LINE of `plain` run fact(6) (and a raising call) inside the
 * callback. */
static int recorder(void *data, const PyMonitoringEvent *ev) {
    (void)record_event(data, ev);
    if (ev->codelike == CODE &&
        (ev->event == PY_MONITORING_EVENT_PY_START || ev->event == PY_MONITORING_EVENT_LINE)) {
        if (host_sets_tracing) cy_tracing++;
        if (fact(6) == OBJ(6) && !PyMonitoring_ErrOccurred()) nested_ok++;
        if (host_sets_tracing) cy_tracing--;
    }
    return 0;
}

static void expect_plain(void) {
    expect(&want, PY_MONITORING_EVENT_PY_START, 2, CODE, 0, -1, CY_MISSING);
    expect(&want, PY_MONITORING_EVENT_LINE, 2, CODE, 1, 11, CY_MISSING);
    expect(&want, PY_MONITORING_EVENT_PY_RETURN, 2, CODE, 1, -1, OBJ(20));
}

int main(void) {
    CHECK_OK(PyMonitoring_UseToolId(2, "recorder"), 0);
    cy_register_all(2, CY_FUNCTION_EVENTS, recorder, &rec);
    CHECK_OK(PyMonitoring_SetEvents(2, CY_FUNCTION_EVENTS), 0);

    /* With the host's tracing flag: 1 EnterScope (plain) and 1 + 2×6
     * ExitScope (plain, and every fact activation without an Enter). */
    CHECK(plain() == OBJ(20));
    expect_plain();
    CHECK_SEQUENCE(&rec, &want);
    CHECK_EQ_INT(nested_ok, 2);
    CHECK_EQ_INT(cy_enter_calls, 1);
    CHECK_EQ_INT(cy_exit_calls, 13);
    CHECK(!PyMonitoring_ErrOccurred());

    /* Without it: the nested activations enter their scopes (states filled)
     * and fire, but nothing is delivered. */
    host_sets_tracing = 0;
    cy_enter_calls = cy_exit_calls = 0;
    CHECK(plain() == OBJ(20));
    expect_plain();
    CHECK_SEQUENCE(&rec, &want);
    CHECK_EQ_INT(nested_ok, 4);
    CHECK_EQ_INT(cy_enter_calls, 13);
    CHECK_EQ_INT(cy_exit_calls, 13);
    CHECK(!PyMonitoring_ErrOccurred());

    /* Outside a callback fact() is monitored as usual. */
    rec.count = 0;
    want.count = 0;
    CHECK(fact(2) == OBJ(2));
    expect(&want, PY_MONITORING_EVENT_PY_START, 2, CY_CODE(&fact_fn), 0, -1, CY_MISSING);
    expect(&want, PY_MONITORING_EVENT_LINE, 2, CY_CODE(&fact_fn), 1, 41, CY_MISSING);
    expect(&want, PY_MONITORING_EVENT_LINE, 2, CY_CODE(&fact_fn), 3, 43, CY_MISSING);
    expect(&want, PY_MONITORING_EVENT_PY_START, 2, CY_CODE(&fact_fn), 0, -1, CY_MISSING);
    expect(&want, PY_MONITORING_EVENT_LINE, 2, CY_CODE(&fact_fn), 1, 41, CY_MISSING);
    expect(&want, PY_MONITORING_EVENT_PY_RETURN, 2, CY_CODE(&fact_fn), 3, -1, OBJ(1));
    expect(&want, PY_MONITORING_EVENT_PY_RETURN, 2, CY_CODE(&fact_fn), 3, -1, OBJ(2));
    CHECK_SEQUENCE(&rec, &want);

    CHECK_OK(PyMonitoring_FreeToolId(2), 0);
    return harness_finish("cython_reentry");
}
