/* The shortest complete use: claim, register, set events, enter, fire. */
#include "harness.h"

int main(void) {
    static Recording rec;
    PyMonitoringState states[2] = {{0, 0}, {0, 0}};
    uint64_t version = 0;
    const uint8_t events[2] = {PY_MONITORING_EVENT_PY_START, PY_MONITORING_EVENT_RAISE};

    CHECK_OK(PyMonitoring_UseToolId(PY_MONITORING_PROFILER_ID, "smoke"), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(2, PY_MONITORING_EVENT_PY_START, record_event, &rec), 0);
    CHECK_OK(PyMonitoring_SetEvents(2, 1u << PY_MONITORING_EVENT_PY_START), 0);
    CHECK_OK(PyMonitoring_EnterScope(states, &version, events, 2), 0);
    CHECK_EQ_INT(states[0].active, 1 << 2);
    CHECK_EQ_INT(states[1].active, 0);
    CHECK_OK(PyMonitoring_FirePyStartEvent(&states[0], OBJ(1), 7), 0);
    CHECK_EQ_INT(rec.count, 1);
    CHECK_EVENT(&rec, 0, PY_MONITORING_EVENT_PY_START, 2, OBJ(1), 7, -1,
                PyMonitoring_MISSING, PyMonitoring_MISSING);
    /* Inactive slot: the plain function returns 0 at once; the underscore
     * entry point still checks for the exception, as CPython's does. */
    CHECK_OK(PyMonitoring_FireRaiseEvent(&states[1], OBJ(1), 0), 0);
    CHECK_ERROR(_PyMonitoring_FireRaiseEvent(&states[1], OBJ(1), 0),
                PY_MONITORING_ERR_VALUE, "Firing event 11 with no exception set");
    CHECK_OK(PyMonitoring_ExitScope(), 0);
    return harness_finish("smoke");
}
