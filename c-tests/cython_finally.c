/* Cython-style try/finally with an exception raised by a callee:
 *
 *   32  def with_finally(x):          40  def callee(x):
 *   33      try:                      41      raise ValueError(x)
 *   34          callee(x)
 *   35      finally:
 *   36          y = 1
 *
 * with_finally offsets: 0 def, 1 line 33, 2 line 34, 3 line 35, 4 line 36;
 * callee offsets: 0 def, 1 line 41. Sequence: callee START…RAISE(41)…UNWIND;
 * then the caller's RAISE(34 = line number), EXCEPTION_HANDLED(1 = the try),
 * the finally body's LINE, RERAISE(1), and at the error label no second
 * RAISE ("already reported"), PY_UNWIND(0). */
#include "cython_like.h"

static const CyFunction outer_fn = {"with_finally", 32};
static const CyFunction callee_fn = {"callee", 40};
#define CODE CY_CODE(&outer_fn)
#define CCODE CY_CODE(&callee_fn)
#define EXC OBJ(33)

static Recording rec;
static ExpectList want;

static PyObject *callee(PyObject *x) {
    CyFrame f;
    int lineno = 40;
    if (cy_trace_start(&f, &callee_fn, 0, 0) < 0) goto error;
    lineno = 41;
    if (cy_trace_line(&f, 1, 41) < 0) goto error;
    PyMonitoring_SetRaisedException(x);
error:
    cy_error_label(&f, lineno);
    cy_exit(&f);
    return NULL;
}

static PyObject *with_finally(PyObject *x) {
    CyFrame f;
    PyObject *result = NULL;
    int lineno = 32;
    if (cy_trace_start(&f, &outer_fn, 0, 0) < 0) goto error;
    lineno = 33;
    if (cy_trace_line(&f, 1, 33) < 0) goto error;
    lineno = 34;
    if (cy_trace_line(&f, 2, 34) < 0) goto finally_error;
    if (callee(x) == NULL) goto finally_error;
    result = OBJ(0);
    goto done;
finally_error : {
    /* the try's error label: report, then run the finally body with the
     * exception kept aside, then re-raise it */
    PyObject *saved;
    cy_raise(&f, lineno);
    cy_exception_handled(&f, 1);
    saved = PyMonitoring_GetRaisedException();
    lineno = 36;
    if (cy_trace_line(&f, 4, 36) < 0) goto error;
    PyMonitoring_SetRaisedException(saved);
    cy_reraise(&f, 1);
    goto error;
}
error:
    result = NULL;
    cy_error_label(&f, lineno);
done:
    cy_exit(&f);
    return result;
}

int main(void) {
    CHECK_OK(PyMonitoring_UseToolId(5, "optimizer"), 0);
    cy_register_all(5, CY_FUNCTION_EVENTS, record_event, &rec);
    CHECK_OK(PyMonitoring_SetEvents(5, CY_FUNCTION_EVENTS), 0);

    for (int i = 0; i < 2; i++) {
        CHECK(with_finally(EXC) == NULL);
        CHECK(PyMonitoring_GetRaisedException() == EXC);
        CHECK(!PyMonitoring_ErrOccurred());
        expect(&want, PY_MONITORING_EVENT_PY_START, 5, CODE, 0, -1, CY_MISSING);
        expect(&want, PY_MONITORING_EVENT_LINE, 5, CODE, 1, 33, CY_MISSING);
        expect(&want, PY_MONITORING_EVENT_LINE, 5, CODE, 2, 34, CY_MISSING);
        expect(&want, PY_MONITORING_EVENT_PY_START, 5, CCODE, 0, -1, CY_MISSING);
        expect(&want, PY_MONITORING_EVENT_LINE, 5, CCODE, 1, 41, CY_MISSING);
        expect(&want, PY_MONITORING_EVENT_RAISE, 5, CCODE, 41, -1, EXC);
        expect(&want, PY_MONITORING_EVENT_PY_UNWIND, 5, CCODE, 0, -1, EXC);
        expect(&want, PY_MONITORING_EVENT_RAISE, 5, CODE, 34, -1, EXC);
        expect(&want, PY_MONITORING_EVENT_EXCEPTION_HANDLED, 5, CODE, 1, -1, EXC);
        expect(&want, PY_MONITORING_EVENT_LINE, 5, CODE, 4, 36, CY_MISSING);
        expect(&want, PY_MONITORING_EVENT_RERAISE, 5, CODE, 1, -1, EXC);
        expect(&want, PY_MONITORING_EVENT_PY_UNWIND, 5, CODE, 0, -1, EXC);
    }
    CHECK_SEQUENCE(&rec, &want);
    CHECK_EQ_INT(cy_enter_calls, 4);
    CHECK_EQ_INT(cy_exit_calls, 4);

    CHECK_OK(PyMonitoring_FreeToolId(5), 0);
    return harness_finish("cython_finally");
}
