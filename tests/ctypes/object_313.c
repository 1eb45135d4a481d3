/* A raise site compiled against CPython 3.13's own header, as a module
 * built for 3.13 has it (README, "Using it from C": the ABI is 3.14's).
 * Linked with the library, not with libpython. */
#include <Python.h>

/* Enter a one-slot scope for 3.13's RAISE and fire it by 3.13's inline
 * function; stores the slot's `active` and returns the fire's result. */
int raise_site_313(PyObject *code, int *active) {
    PyMonitoringState state = {0, 0};
    uint64_t version = 0;
    const uint8_t events[1] = {PY_MONITORING_EVENT_RAISE};
    if (PyMonitoring_EnterScope(&state, &version, events, 1) < 0)
        return -1;
    *active = state.active;
    return PyMonitoring_FireRaiseEvent(&state, code, 8);
}
