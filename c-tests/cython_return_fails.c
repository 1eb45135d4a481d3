/* A failing callback sends a Cython-style function to its error path:
 *
 *   10  def plain(a, b):
 *   11      c = a + b
 *   12      return c * 2
 *
 * The PY_RETURN callback fails (with a host exception, then with -1 and no
 * error set, which becomes a RuntimeError): RETURN → RAISE(12, the callback's
 * exception) → PY_UNWIND(0), and the function returns NULL with that error
 * pending. A failing PY_START callback likewise gives START → RAISE(10) →
 * PY_UNWIND. */
#include "cython_like.h"

static const CyFunction plain_fn = {"plain", 10};
#define CODE CY_CODE(&plain_fn)
#define CB_EXC OBJ(40)

static Recording rec;
static ExpectList want;
static int fail_event = -1; /* the event whose callback fails */
static int fail_with_exception = 1;

static int recorder(void *data, const PyMonitoringEvent *ev) {
    (void)record_event(data, ev);
    if (ev->event == fail_event) {
        if (fail_with_exception) {
            PyMonitoring_SetRaisedException(CB_EXC);
        }
        return -1;
    }
    return 0;
}

static PyObject *plain(void) {
    CyFrame f;
    PyObject *result = NULL;
    int lineno = 10;
    if (cy_trace_start(&f, &plain_fn, 0, 0) < 0) goto error;
    lineno = 11;
    if (cy_trace_line(&f, 1, 11) < 0) goto error;
    lineno = 12;
    if (cy_trace_line(&f, 2, 12) < 0) goto error;
    result = OBJ(20);
    if (cy_trace_return(&f, 2, result) < 0) goto error;
    goto done;
error:
    result = NULL;
    cy_error_label(&f, lineno);
done:
    cy_exit(&f);
    return result;
}

int main(void) {
    CHECK_OK(PyMonitoring_UseToolId(2, "recorder"), 0);
    cy_register_all(2, CY_FUNCTION_EVENTS, recorder, &rec);
    CHECK_OK(PyMonitoring_SetEvents(2, CY_FUNCTION_EVENTS), 0);

    /* RETURN fails with an exception object. */
    fail_event = PY_MONITORING_EVENT_PY_RETURN;
    CHECK(plain() == NULL);
    expect(&want, PY_MONITORING_EVENT_PY_START, 2, CODE, 0, -1, CY_MISSING);
    expect(&want, PY_MONITORING_EVENT_LINE, 2, CODE, 1, 11, CY_MISSING);
    expect(&want, PY_MONITORING_EVENT_LINE, 2, CODE, 2, 12, CY_MISSING);
    expect(&want, PY_MONITORING_EVENT_PY_RETURN, 2, CODE, 2, -1, OBJ(20));
    expect(&want, PY_MONITORING_EVENT_RAISE, 2, CODE, 12, -1, CB_EXC);
    expect(&want, PY_MONITORING_EVENT_PY_UNWIND, 2, CODE, 0, -1, CB_EXC);
    CHECK_SEQUENCE(&rec, &want);
    CHECK(PyMonitoring_GetRaisedException() == CB_EXC);
    CHECK(!PyMonitoring_ErrOccurred());

    /* RETURN returns -1 without setting an error: a RuntimeError naming the
     * tool and event; the exception events receive it as MISSING. */
    fail_with_exception = 0;
    CHECK(plain() == NULL);
    expect(&want, PY_MONITORING_EVENT_PY_START, 2, CODE, 0, -1, CY_MISSING);
    expect(&want, PY_MONITORING_EVENT_LINE, 2, CODE, 1, 11, CY_MISSING);
    expect(&want, PY_MONITORING_EVENT_LINE, 2, CODE, 2, 12, CY_MISSING);
    expect(&want, PY_MONITORING_EVENT_PY_RETURN, 2, CODE, 2, -1, OBJ(20));
    expect(&want, PY_MONITORING_EVENT_RAISE, 2, CODE, 12, -1, CY_MISSING);
    expect(&want, PY_MONITORING_EVENT_PY_UNWIND, 2, CODE, 0, -1, CY_MISSING);
    CHECK_SEQUENCE(&rec, &want);
    CHECK_ERROR(-1, PY_MONITORING_ERR_RUNTIME,
                "callback of tool 2 for PY_RETURN returned -1 without setting an error");

    /* START fails: the error label reports the def line. */
    fail_with_exception = 1;
    fail_event = PY_MONITORING_EVENT_PY_START;
    CHECK(plain() == NULL);
    expect(&want, PY_MONITORING_EVENT_PY_START, 2, CODE, 0, -1, CY_MISSING);
    expect(&want, PY_MONITORING_EVENT_RAISE, 2, CODE, 10, -1, CB_EXC);
    expect(&want, PY_MONITORING_EVENT_PY_UNWIND, 2, CODE, 0, -1, CB_EXC);
    CHECK_SEQUENCE(&rec, &want);
    CHECK(PyMonitoring_GetRaisedException() == CB_EXC);

    /* Back to normal. */
    fail_event = -1;
    CHECK(plain() == OBJ(20));
    expect(&want, PY_MONITORING_EVENT_PY_START, 2, CODE, 0, -1, CY_MISSING);
    expect(&want, PY_MONITORING_EVENT_LINE, 2, CODE, 1, 11, CY_MISSING);
    expect(&want, PY_MONITORING_EVENT_LINE, 2, CODE, 2, 12, CY_MISSING);
    expect(&want, PY_MONITORING_EVENT_PY_RETURN, 2, CODE, 2, -1, OBJ(20));
    CHECK_SEQUENCE(&rec, &want);
    CHECK(!PyMonitoring_ErrOccurred());
    CHECK_EQ_INT(cy_enter_calls, 4);
    CHECK_EQ_INT(cy_exit_calls, 4);

    CHECK_OK(PyMonitoring_FreeToolId(2), 0);
    return harness_finish("cython_return_fails");
}
