/* Coverage that pays once per line: DISABLE lasts until the tool restarts. */
#include <stdio.h>
#include <string.h>
#include "pymonitoring.h"

static long calls;
static int on_line(void *data, const PyMonitoringEvent *ev) {
    (void)data, (void)ev;
    calls++;                      /* record the line as covered... */
    return PY_MONITORING_DISABLE; /* ...and never hear of it again */
}

static void body(PyObject *code) { /* Cython-style: fresh states every call */
    PyMonitoringState states[1];
    uint64_t version = 0;
    const uint8_t events[1] = {PY_MONITORING_EVENT_LINE};
    memset(states, 0, sizeof states);
    PyMonitoring_EnterScope(states, &version, events, 1);
    PyMonitoring_FireLineEvent(&states[0], code, 1, 11);
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
        body(code);
    printf("callbacks: %ld\n", calls); /* 1 (CPython's rules: 1000) */
    PyMonitoring_RestartToolEvents(PY_MONITORING_COVERAGE_ID); /* only this tool */
    body(code);
    printf("after restart: %ld\n", calls); /* 2 */
    return calls == 2 ? 0 : 1;
}
