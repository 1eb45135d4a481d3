/* Cython-style unhandled exception:
 *
 *   28  def propagates(x):
 *   29      y = x
 *   30      raise KeyError(y)
 *
 * Offsets: 0 def, 1 line 29, 2 line 30. The error label fires RAISE with the
 * line number (30) as the offset and PY_UNWIND(0); the function returns NULL
 * with the exception pending. Then what a failing RAISE callback does: its
 * error replaces the exception (PY_UNWIND sees the new one); and a DISABLE
 * from RAISE: "Cannot disable RAISE events. Callback removed." replaces it
 * (a library error, delivered to PY_UNWIND as MISSING) and the callback is
 * gone from then on. */
#include "cython_like.h"

static const CyFunction prop_fn = {"propagates", 28};
#define CODE CY_CODE(&prop_fn)
#define EXC OBJ(31)
#define EXC2 OBJ(32)

static Recording rec;
static ExpectList want;
static int raise_mode; /* 0 record, 1 fail with EXC2, 2 DISABLE */

static int on_raise(void *data, const PyMonitoringEvent *ev) {
    (void)record_event(data, ev);
    if (raise_mode == 1) {
        PyMonitoring_SetRaisedException(EXC2);
        return -1;
    }
    return raise_mode == 2 ? PY_MONITORING_DISABLE : 0;
}

static PyObject *propagates(PyObject *x) {
    CyFrame f;
    PyObject *result = NULL;
    int lineno = 28;
    if (cy_trace_start(&f, &prop_fn, 0, 0) < 0) goto error;
    lineno = 29;
    if (cy_trace_line(&f, 1, 29) < 0) goto error;
    lineno = 30;
    if (cy_trace_line(&f, 2, 30) < 0) goto error;
    PyMonitoring_SetRaisedException(x);
    goto error;
error:
    result = NULL;
    cy_error_label(&f, lineno);
    cy_exit(&f);
    return result;
}

static void expect_call(int raise_seen, PyObject *unwind_arg) {
    expect(&want, PY_MONITORING_EVENT_PY_START, 2, CODE, 0, -1, CY_MISSING);
    expect(&want, PY_MONITORING_EVENT_LINE, 2, CODE, 1, 29, CY_MISSING);
    expect(&want, PY_MONITORING_EVENT_LINE, 2, CODE, 2, 30, CY_MISSING);
    if (raise_seen) {
        expect(&want, PY_MONITORING_EVENT_RAISE, 2, CODE, 30, -1, EXC);
    }
    expect(&want, PY_MONITORING_EVENT_PY_UNWIND, 2, CODE, 0, -1, unwind_arg);
}

int main(void) {
    CHECK_OK(PyMonitoring_UseToolId(2, "recorder"), 0);
    cy_register_all(2, CY_FUNCTION_EVENTS, record_event, &rec);
    CHECK_OK(PyMonitoring_RegisterCallback(2, PY_MONITORING_EVENT_RAISE, on_raise, &rec), 0);
    CHECK_OK(PyMonitoring_SetEvents(2, CY_FUNCTION_EVENTS), 0);

    CHECK(propagates(EXC) == NULL);
    expect_call(1, EXC);
    CHECK_SEQUENCE(&rec, &want);
    CHECK_EQ_INT(PyMonitoring_ErrKind(), PY_MONITORING_ERR_HOST);
    CHECK(PyMonitoring_GetRaisedException() == EXC);

    /* The RAISE callback fails: its exception replaces the original. */
    raise_mode = 1;
    CHECK(propagates(EXC) == NULL);
    expect_call(1, EXC2);
    CHECK_SEQUENCE(&rec, &want);
    CHECK(PyMonitoring_GetRaisedException() == EXC2);

    /* DISABLE from RAISE: a ValueError replaces the exception; PY_UNWIND
     * receives MISSING (a library error has no object); the callback is
     * removed, so the next call has no RAISE event. */
    raise_mode = 2;
    CHECK(propagates(EXC) == NULL);
    expect_call(1, CY_MISSING);
    CHECK_SEQUENCE(&rec, &want);
    CHECK_ERROR(-1, PY_MONITORING_ERR_VALUE, "Cannot disable RAISE events. Callback removed.");
    {
        PyMonitoringCallback fn = on_raise;
        void *data = &rec;
        CHECK_OK(PyMonitoring_GetCallback(2, PY_MONITORING_EVENT_RAISE, &fn, &data), 0);
        CHECK(fn == NULL);
    }
    CHECK(propagates(EXC) == NULL);
    expect_call(0, EXC);
    CHECK_SEQUENCE(&rec, &want);
    CHECK(PyMonitoring_GetRaisedException() == EXC);
    CHECK(!PyMonitoring_ErrOccurred());
    CHECK_EQ_INT(cy_enter_calls, 4);
    CHECK_EQ_INT(cy_exit_calls, 4);

    CHECK_OK(PyMonitoring_FreeToolId(2), 0);
    return harness_finish("cython_unhandled");
}
