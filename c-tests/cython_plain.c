/* Cython-style plain function, called many times:
 *
 *   10  def plain(a, b):
 *   11      c = a + b
 *   12      return c * 2
 *
 * Offsets are indices into the function's position list: 0 = def, 1 = line
 * 11, 2 = line 12. Every call: states[7] on the stack, memset, EnterScope with
 * a fresh version 0, START → LINE → LINE → RETURN, ExitScope. */
#include "cython_like.h"

static const CyFunction plain_fn = {"plain", 10};
#define CODE CY_CODE(&plain_fn)

static Recording rec;
static ExpectList want;

static PyObject *plain(PyObject *a, PyObject *b) {
    CyFrame f;
    PyObject *result = NULL;
    int lineno = 10;
    (void)a;
    (void)b;
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

/* Tool 0 answers DISABLE to LINE: silenced for the rest of that activation
 * (CPython's rule), or at that line only (the lasting mode). */
static int record_disable(void *data, const PyMonitoringEvent *ev) {
    (void)record_event(data, ev);
    return PY_MONITORING_DISABLE;
}

/* line_tool0: the LINEs tool 0 sees in the call (0, the first, or both). */
static void expect_call(int line_tool0) {
    expect(&want, PY_MONITORING_EVENT_PY_START, 2, CODE, 0, -1, CY_MISSING);
    expect(&want, PY_MONITORING_EVENT_LINE, 2, CODE, 1, 11, CY_MISSING);
    if (line_tool0 >= 1) {
        expect(&want, PY_MONITORING_EVENT_LINE, 0, CODE, 1, 11, CY_MISSING);
    }
    expect(&want, PY_MONITORING_EVENT_LINE, 2, CODE, 2, 12, CY_MISSING);
    if (line_tool0 >= 2) {
        expect(&want, PY_MONITORING_EVENT_LINE, 0, CODE, 2, 12, CY_MISSING);
    }
    expect(&want, PY_MONITORING_EVENT_PY_RETURN, 2, CODE, 2, -1, OBJ(20));
}

int main(void) {
    /* Before any tool is set up the global version is 0: Cython's version-0
     * EnterScope touches nothing and nothing fires. */
    CHECK_EQ_INT(PyMonitoring_GetVersion(), 0);
    CHECK(plain(OBJ(1), OBJ(2)) == OBJ(20));
    CHECK_EQ_INT(cy_enter_calls, 1);
    CHECK_EQ_INT(cy_exit_calls, 1);
    CHECK_EQ_INT(rec.count, 0);

    /* A recording tool claimed and registered, but no events set yet: the
     * version is still 0, still nothing. */
    CHECK_OK(PyMonitoring_UseToolId(2, "recorder"), 0);
    cy_register_all(2, CY_FUNCTION_EVENTS, record_event, &rec);
    CHECK(plain(OBJ(1), OBJ(2)) == OBJ(20));
    CHECK_EQ_INT(rec.count, 0);

    CHECK_OK(PyMonitoring_SetEvents(2, CY_FUNCTION_EVENTS), 0);
    CHECK(PyMonitoring_GetVersion() != 0);
    for (int i = 0; i < 50; i++) {
        CHECK(plain(OBJ(1), OBJ(2)) == OBJ(20));
        expect_call(0);
    }
    CHECK_SEQUENCE(&rec, &want);
    CHECK(!PyMonitoring_ErrOccurred());

    /* A second tool on LINE answering DISABLE: it sees the first LINE of each
     * activation only (tool 2 before tool 0), and again on the next call
     * because the fresh EnterScope re-enables it. With
     * PY_MONITORING_OPT_LASTING_DISABLE (docs/EXTENSIONS.md) a DISABLE
     * silences its site only, in this call and every later one: tool 0 sees
     * each line once, in the first call. */
    uint32_t options = 0;
    CHECK_OK(PyMonitoring_GetOptions(&options), 0);
    int lasting = (options & PY_MONITORING_OPT_LASTING_DISABLE) != 0;
    rec.count = 0;
    want.count = 0;
    CHECK_OK(PyMonitoring_UseToolId(0, "debugger"), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(0, PY_MONITORING_EVENT_LINE, record_disable, &rec), 0);
    CHECK_OK(PyMonitoring_SetEvents(0, EV(LINE)), 0);
    for (int i = 0; i < 5; i++) {
        CHECK(plain(OBJ(1), OBJ(2)) == OBJ(20));
        expect_call(lasting ? (i == 0 ? 2 : 0) : 1);
    }
    CHECK_SEQUENCE(&rec, &want);

    /* Tools off again: a refresh with empty masks, nothing fires. */
    rec.count = 0;
    CHECK_OK(PyMonitoring_SetEvents(0, 0), 0);
    CHECK_OK(PyMonitoring_SetEvents(2, 0), 0);
    CHECK(plain(OBJ(1), OBJ(2)) == OBJ(20));
    CHECK_EQ_INT(rec.count, 0);
    CHECK_EQ_INT(cy_enter_calls, cy_exit_calls);
    CHECK_OK(PyMonitoring_FreeToolId(0), 0);
    CHECK_OK(PyMonitoring_FreeToolId(2), 0);
    return harness_finish("cython_plain");
}
