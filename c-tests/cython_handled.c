/* Cython-style handled exception:
 *
 *   20  def raiser(x):
 *   21      try:
 *   22          y = x
 *   23          raise ValueError(y)
 *   24      except ValueError:
 *   25          y = 2
 *   26      return y
 *
 * Offsets: 0 def, 1 line 21, 2 line 22, 3 line 23, 4 line 24, 5 line 25,
 * 6 line 26. The try's error label fires RAISE with the line number (23) as
 * the offset, the except line fires LINE with the exception still pending
 * (kept aside around the event), EXCEPTION_HANDLED fires with it pending,
 * then the exception is fetched and cleared. */
#include "cython_like.h"

static const CyFunction raiser_fn = {"raiser", 20};
#define CODE CY_CODE(&raiser_fn)
#define EXC OBJ(30)

static Recording rec;
static ExpectList want;
static int indicator_seen_set;

static int record_checked(void *data, const PyMonitoringEvent *ev) {
    if (PyMonitoring_ErrOccurred()) {
        indicator_seen_set++;
    }
    return record_event(data, ev);
}

static PyObject *raiser(PyObject *x) {
    CyFrame f;
    PyObject *result = NULL;
    int lineno = 20;
    if (cy_trace_start(&f, &raiser_fn, 0, 0) < 0) goto error;
    lineno = 21;
    if (cy_trace_line(&f, 1, 21) < 0) goto error;
    /* try: */
    lineno = 22;
    if (cy_trace_line(&f, 2, 22) < 0) goto try_error;
    lineno = 23;
    if (cy_trace_line(&f, 3, 23) < 0) goto try_error;
    PyMonitoring_SetRaisedException(x);
    goto try_error;
try_error:
    cy_raise(&f, lineno);
    lineno = 24;
    if (cy_trace_line(&f, 4, 24) < 0) goto error;
    /* the exception still pending at the except line */
    CHECK(PyMonitoring_ErrOccurred());
    cy_exception_handled(&f, 4);
    {
        PyObject *caught = PyMonitoring_GetRaisedException();
        CHECK(caught == x);
    }
    lineno = 25;
    if (cy_trace_line(&f, 5, 25) < 0) goto error;
    lineno = 26;
    if (cy_trace_line(&f, 6, 26) < 0) goto error;
    result = OBJ(2);
    if (cy_trace_return(&f, 6, result) < 0) goto error;
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
    cy_register_all(2, CY_FUNCTION_EVENTS, record_checked, &rec);
    CHECK_OK(PyMonitoring_SetEvents(2, CY_FUNCTION_EVENTS), 0);
    /* A second tool on the exception events only, to check the order. */
    CHECK_OK(PyMonitoring_UseToolId(4, "exceptions"), 0);
    cy_register_all(4, EV(RAISE) | EV(EXCEPTION_HANDLED), record_checked, &rec);
    CHECK_OK(PyMonitoring_SetEvents(4, EV(RAISE) | EV(EXCEPTION_HANDLED)), 0);

    for (int i = 0; i < 3; i++) {
        CHECK(raiser(EXC) == OBJ(2));
        CHECK(!PyMonitoring_ErrOccurred());
        expect(&want, PY_MONITORING_EVENT_PY_START, 2, CODE, 0, -1, CY_MISSING);
        expect(&want, PY_MONITORING_EVENT_LINE, 2, CODE, 1, 21, CY_MISSING);
        expect(&want, PY_MONITORING_EVENT_LINE, 2, CODE, 2, 22, CY_MISSING);
        expect(&want, PY_MONITORING_EVENT_LINE, 2, CODE, 3, 23, CY_MISSING);
        expect(&want, PY_MONITORING_EVENT_RAISE, 4, CODE, 23, -1, EXC);
        expect(&want, PY_MONITORING_EVENT_RAISE, 2, CODE, 23, -1, EXC);
        expect(&want, PY_MONITORING_EVENT_LINE, 2, CODE, 4, 24, CY_MISSING);
        expect(&want, PY_MONITORING_EVENT_EXCEPTION_HANDLED, 4, CODE, 4, -1, EXC);
        expect(&want, PY_MONITORING_EVENT_EXCEPTION_HANDLED, 2, CODE, 4, -1, EXC);
        expect(&want, PY_MONITORING_EVENT_LINE, 2, CODE, 5, 25, CY_MISSING);
        expect(&want, PY_MONITORING_EVENT_LINE, 2, CODE, 6, 26, CY_MISSING);
        expect(&want, PY_MONITORING_EVENT_PY_RETURN, 2, CODE, 6, -1, OBJ(2));
    }
    CHECK_SEQUENCE(&rec, &want);
    CHECK_EQ_INT(indicator_seen_set, 0);
    CHECK_EQ_INT(cy_enter_calls, 3);
    CHECK_EQ_INT(cy_exit_calls, 3);

    CHECK_OK(PyMonitoring_FreeToolId(4), 0);
    CHECK_OK(PyMonitoring_FreeToolId(2), 0);
    return harness_finish("cython_handled");
}
