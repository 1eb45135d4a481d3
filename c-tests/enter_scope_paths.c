/* EnterScope's fast paths behave the same through the exported function and
 * through the header's static inline wrapper (-DPYMONITORING_INLINE), and
 * _PyMonitoring_EnterScope / _PyMonitoring_GlobalVersion agree with them. */
#include "harness.h"

int main(void) {
    PyMonitoringState st[3] = {{0xAA, 7}, {0xAA, 7}, {0xAA, 7}};
    uint64_t version = PyMonitoring_GetVersion();
    const uint8_t events[3] = {PY_MONITORING_EVENT_PY_START, PY_MONITORING_EVENT_LINE, 19};

    CHECK(*_PyMonitoring_GlobalVersion == PyMonitoring_GetVersion());
    /* Current version: nothing read or written but the version word (as
     * CPython), even with an invalid id, a bad length or NULL arrays; a NULL
     * `version` is an error on every call. */
    CHECK_OK(PyMonitoring_EnterScope(st, &version, events, 3), 0);
    CHECK_EQ_INT(st[0].active, 0xAA);
    CHECK_ERROR(PyMonitoring_EnterScope(st, NULL, events, 3), PY_MONITORING_ERR_VALUE,
                "version must not be NULL");
    CHECK_OK(PyMonitoring_EnterScope(st, &version, events, -1), 0);
    CHECK_OK(PyMonitoring_EnterScope(NULL, &version, events, 3), 0);
    CHECK_OK(PyMonitoring_EnterScope(st, &version, NULL, 3), 0);
    CHECK_OK(PyMonitoring_EnterScope(NULL, &version, NULL, 0), 0);
    CHECK_EQ_INT(st[0].active, 0xAA);
    CHECK(version == PyMonitoring_GetVersion());

    /* A tool sets LINE: the version moves, the header's word with it. */
    CHECK_OK(PyMonitoring_UseToolId(3, "paths"), 0);
    CHECK_OK(PyMonitoring_SetEvents(3, 1u << PY_MONITORING_EVENT_LINE), 0);
    CHECK(*_PyMonitoring_GlobalVersion == PyMonitoring_GetVersion());
    CHECK(version != PyMonitoring_GetVersion());
    /* A stale version: every argument is checked before anything is read
     * or written. */
    CHECK_ERROR(PyMonitoring_EnterScope(st, &version, events, -1), PY_MONITORING_ERR_VALUE,
                "length must be non-negative (got -1)");
    CHECK_ERROR(PyMonitoring_EnterScope(NULL, &version, events, 3), PY_MONITORING_ERR_VALUE,
                "states must not be NULL when length > 0");
    CHECK_ERROR(PyMonitoring_EnterScope(st, &version, NULL, 3), PY_MONITORING_ERR_VALUE,
                "event_types must not be NULL when length > 0");
    CHECK_EQ_INT(st[0].active, 0xAA);
    CHECK(version != PyMonitoring_GetVersion());
    /* Refresh validates ids first and writes nothing on error. */
    CHECK_ERROR(PyMonitoring_EnterScope(st, &version, events, 3), PY_MONITORING_ERR_VALUE,
                "invalid event 19 in event_types[2] (must be between 0 and 18)");
    CHECK_EQ_INT(st[1].active, 0xAA);
    CHECK_OK(PyMonitoring_EnterScope(st, &version, events, 2), 0);
    CHECK_EQ_INT(st[0].active, 0);
    CHECK_EQ_INT(st[1].active, 1 << 3);
    CHECK_EQ_INT(st[1].opaque, 7);
    CHECK(version == PyMonitoring_GetVersion());
    static Recording rec;
    CHECK_OK(PyMonitoring_RegisterCallback(3, PY_MONITORING_EVENT_LINE, record_event, &rec), 0);
    CHECK_OK(PyMonitoring_FireLineEvent(&st[1], OBJ(1), 4, 10), 0);
    CHECK_EQ_INT(rec.count, 1);
    /* The underscore entry point is the same function. */
    uint64_t stale = version + 1;
    st[1].active = 0;
    CHECK_OK(_PyMonitoring_EnterScope(st, &stale, events, 2), 0);
    CHECK_EQ_INT(st[1].active, 1 << 3);
    CHECK_ERROR(_PyMonitoring_EnterScope(st, NULL, events, 2), PY_MONITORING_ERR_VALUE,
                "version must not be NULL");
    CHECK_OK(PyMonitoring_ExitScope(), 0);
    CHECK_OK(PyMonitoring_FreeToolId(3), 0);
    return harness_finish("enter_scope_paths");
}
