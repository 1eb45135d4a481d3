/* Line coverage that pays once per line: a DISABLE silences that line for
 * good, and the activation's other lines keep reporting. */
#include <stdio.h>
#include <string.h>
#include "pymonitoring.h"

static int covered[100];
static long calls;
static int on_line(void *data, const PyMonitoringEvent *ev) {
    (void)data;
    calls++;
    covered[ev->lineno] = 1;      /* record the line as covered... */
    return PY_MONITORING_DISABLE; /* ...and never hear of it again */
}

/*   10  def body(n):
 *   11      total = 0
 *   12      for i in range(n):
 *   13          total += i
 * Cython-style: fresh states every call, one LINE slot for all the lines. */
static void body(PyObject *code, int n) {
    PyMonitoringState states[1];
    uint64_t version = 0;
    const uint8_t events[1] = {PY_MONITORING_EVENT_LINE};
    memset(states, 0, sizeof states);
    PyMonitoring_EnterScope(states, &version, events, 1);
    PyMonitoring_FireLineEvent(&states[0], code, 1, 11);
    for (int i = 0; i <= n; i++) {
        PyMonitoring_FireLineEvent(&states[0], code, 2, 12);
        if (i < n)
            PyMonitoring_FireLineEvent(&states[0], code, 3, 13);
    }
    PyMonitoring_ExitScope();
}

int main(void) {
    static char code_object;
    PyObject *code = (PyObject *)(void *)&code_object;
    PyMonitoring_SetOptions(PY_MONITORING_OPT_LASTING_DISABLE);
    PyMonitoring_UseToolId(PY_MONITORING_COVERAGE_ID, "cov");
    PyMonitoring_RegisterCallback(PY_MONITORING_COVERAGE_ID, PY_MONITORING_EVENT_LINE, on_line, NULL);
    PyMonitoring_SetEvents(PY_MONITORING_COVERAGE_ID, 1u << PY_MONITORING_EVENT_LINE);
    for (int i = 0; i < 1000; i++)
        body(code, 10);
    int lines = 0;
    for (int l = 0; l < 100; l++)
        lines += covered[l];
    /* 3 lines, 3 callbacks (CPython's rules: line 11 only, 1000 callbacks) */
    printf("lines covered: %d, callbacks: %ld\n", lines, calls);
    PyMonitoring_RestartToolEvents(PY_MONITORING_COVERAGE_ID); /* only this tool */
    body(code, 10);
    printf("after restart: %ld\n", calls); /* 6: each line once more */
    return lines == 3 && calls == 6 ? 0 : 1;
}
