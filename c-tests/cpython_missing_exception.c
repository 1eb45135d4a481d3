/* Port of TestCApiEventGeneration.test_missing_exception: the four
 * EXPECT_RAISED_EXCEPTION events (PY_THROW, RAISE, EXCEPTION_HANDLED,
 * PY_UNWIND) fired with no exception set fail with ValueError "Firing event
 * <id> with no exception set" (3.14 ids 14, 11, 12, 13); the callback is not
 * called and nothing else is left pending. Also through the underscore entry
 * points, and for RERAISE (15) and C_RAISE (17), which CPython does not test. */
#include "cpython_cases.h"

int main(void) {
    const int events[] = {PY_MONITORING_EVENT_PY_THROW, PY_MONITORING_EVENT_RAISE,
                          PY_MONITORING_EVENT_EXCEPTION_HANDLED, PY_MONITORING_EVENT_PY_UNWIND,
                          PY_MONITORING_EVENT_RERAISE, PY_MONITORING_EVENT_C_RAISE};
    CHECK_OK(PyMonitoring_UseToolId(TEST_TOOL, "test"), 0);
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
        int ev = events[i];
        Counter counter = {0};
        CodeLike cl;
        char msg[64];
        /* C_RAISE fired on a CALL slot (it gets CALL's tools), except under
         * active-needs-callback, where a CALL slot holds only tools with a
         * CALL callback: there the C_RAISE slot is used. */
        uint8_t slot_ev = (uint8_t)(ev == PY_MONITORING_EVENT_C_RAISE && !harness_active_needs_callback()
                                        ? PY_MONITORING_EVENT_CALL
                                        : ev);
        codelike_init(&cl, 1);
        CHECK_OK(PyMonitoring_RegisterCallback(TEST_TOOL, ev, count_event, &counter), 0);
        CHECK_OK(PyMonitoring_SetEvents(TEST_TOOL, events_for(ev)), 0);
        CHECK_OK(codelike_enter(&cl, 1, &slot_ev), 0);
        CHECK_EQ_INT(cl.states[0].active, 1 << TEST_TOOL);
        snprintf(msg, sizeof msg, "Firing event %d with no exception set", ev);
        CHECK_ERROR(fire(ev, &cl.states[0], CODE, 0, NULL, NULL, 0), PY_MONITORING_ERR_VALUE, msg);
        CHECK_ERROR(fire_underscore(ev, &cl.states[0], CODE, 0, NULL, NULL, 0),
                    PY_MONITORING_ERR_VALUE, msg);
        /* checked before the offset */
        CHECK_ERROR(fire(ev, &cl.states[0], CODE, -3, NULL, NULL, 0), PY_MONITORING_ERR_VALUE, msg);
        CHECK_EQ_INT(counter.count, 0);
        CHECK(!PyMonitoring_ErrOccurred());
        CHECK_EQ_INT(cl.states[0].active, 1 << TEST_TOOL);
        CHECK_OK(PyMonitoring_ExitScope(), 0);
        CHECK_OK(PyMonitoring_RegisterCallback(TEST_TOOL, ev, NULL, NULL), 0);
        CHECK_OK(PyMonitoring_SetEvents(TEST_TOOL, 0), 0);
    }
    no_events_set();
    CHECK_OK(PyMonitoring_FreeToolId(TEST_TOOL), 0);
    return harness_finish("cpython_missing_exception");
}
