/* Tools registered through this library's header next to a raise site
 * compiled against CPython 3.13's (object_313.c): the site's slot gets the
 * tools of the event that has 3.13's RAISE id here (STOP_ITERATION), and its
 * fire, by name, delivers RAISE to those of them with a RAISE callback. */
#include <stdio.h>

#include "pymonitoring.h"

int raise_site_313(PyObject *code, int *active);

static int raise_calls[PY_MONITORING_TOOL_IDS];

static int on_raise(void *data, const PyMonitoringEvent *ev) {
    (void)data;
    if (ev->event == PY_MONITORING_EVENT_RAISE)
        raise_calls[ev->tool_id]++;
    return 0;
}

int main(void) {
    static char code_object, exception;
    PyObject *code = (PyObject *)(void *)&code_object;
    /* Tool 1 wants RAISE; tool 2 wants STOP_ITERATION and has a RAISE callback too. */
    PyMonitoring_UseToolId(1, "raise");
    PyMonitoring_RegisterCallback(1, PY_MONITORING_EVENT_RAISE, on_raise, NULL);
    PyMonitoring_SetEvents(1, 1u << PY_MONITORING_EVENT_RAISE);
    PyMonitoring_UseToolId(2, "stop-iteration");
    PyMonitoring_RegisterCallback(2, PY_MONITORING_EVENT_RAISE, on_raise, NULL);
    PyMonitoring_SetEvents(2, 1u << PY_MONITORING_EVENT_STOP_ITERATION);

    int active = -1;
    PyMonitoring_SetRaisedException((PyObject *)(void *)&exception);
    int rc = raise_site_313(code, &active);
    printf("3.13 object: rc %d, active %d, RAISE to tool 1: %d, to tool 2: %d\n", rc, active,
           raise_calls[1], raise_calls[2]);

    /* The same site compiled against this library's header. */
    PyMonitoringState state = {0, 0};
    uint64_t version = 0;
    const uint8_t events[1] = {PY_MONITORING_EVENT_RAISE};
    raise_calls[1] = raise_calls[2] = 0;
    PyMonitoring_EnterScope(&state, &version, events, 1);
    rc = PyMonitoring_FireRaiseEvent(&state, code, 8);
    printf("3.14 object: rc %d, active %d, RAISE to tool 1: %d, to tool 2: %d\n", rc, state.active,
           raise_calls[1], raise_calls[2]);
    return 0;
}
