/* A program outside the source tree: built only with
 * `pkg-config --cflags --libs pymonitoring` against an installed prefix. */
#include <pymonitoring.h>
#include <stdio.h>
#include <string.h>

static int calls;
static int on_start(void *data, const PyMonitoringEvent *ev) {
    (void)data;
    if (ev->event == PY_MONITORING_EVENT_PY_START && ev->offset == 3) {
        calls++;
    }
    return 0;
}

int main(void) {
    static char code;
    PyMonitoringState state = {0, 0};
    uint64_t version = 0;
    const uint8_t events[1] = {PY_MONITORING_EVENT_PY_START};

    if (strcmp(PyMonitoring_LibraryVersion(), PYMONITORING_VERSION) != 0) {
        fprintf(stderr, "header %s, library %s\n", PYMONITORING_VERSION,
                PyMonitoring_LibraryVersion());
        return 1;
    }
    if (PyMonitoring_UseToolId(PY_MONITORING_PROFILER_ID, "installed") != 0 ||
        PyMonitoring_RegisterCallback(PY_MONITORING_PROFILER_ID, PY_MONITORING_EVENT_PY_START,
                                      on_start, NULL) != 0 ||
        PyMonitoring_SetEvents(PY_MONITORING_PROFILER_ID, 1u << PY_MONITORING_EVENT_PY_START) != 0 ||
        PyMonitoring_EnterScope(&state, &version, events, 1) != 0 ||
        PyMonitoring_FirePyStartEvent(&state, (PyObject *)(void *)&code, 3) != 0) {
        fprintf(stderr, "error: %s\n", PyMonitoring_ErrMessage());
        return 1;
    }
    PyMonitoring_ExitScope();
    if (calls != 1) {
        fprintf(stderr, "callback ran %d times\n", calls);
        return 1;
    }
    printf("installed pymonitoring %s works\n", PyMonitoring_LibraryVersion());
    return 0;
}
