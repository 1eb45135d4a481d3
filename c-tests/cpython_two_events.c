/* Port of TestCApiEventGeneration.test_enter_scope_two_events: counters for
 * PY_YIELD and PY_UNWIND on tool 2, both events set, a scope with the two
 * slots. CPython's test fires everything at slot 0 (its helper uses the
 * offset as the slot index); the steps are kept, then repeated with separate
 * slots, checking that DISABLE on one slot leaves the other active. */
#include "cpython_cases.h"

#define EXC OBJ(42)

int main(void) {
    Counter y = {0}, u = {0};
    CodeLike cl;
    const uint8_t evs[2] = {PY_MONITORING_EVENT_PY_YIELD, PY_MONITORING_EVENT_PY_UNWIND};
    CHECK_OK(PyMonitoring_UseToolId(TEST_TOOL, "test"), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(TEST_TOOL, PY_MONITORING_EVENT_PY_YIELD, count_event, &y), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(TEST_TOOL, PY_MONITORING_EVENT_PY_UNWIND, count_event, &u), 0);
    CHECK_OK(PyMonitoring_SetEvents(TEST_TOOL, EVBIT(PY_MONITORING_EVENT_PY_YIELD) |
                                                   EVBIT(PY_MONITORING_EVENT_PY_UNWIND)), 0);

    /* CPython's steps, all at slot 0 */
    codelike_init(&cl, 2);
    CHECK_OK(codelike_enter(&cl, 2, evs), 0);
    CHECK_EQ_INT(cl.states[0].active, 4);
    CHECK_EQ_INT(cl.states[1].active, 4);
    PyMonitoring_SetRaisedException(EXC);
    CHECK_FIRED(PyMonitoring_FirePyUnwindEvent(&cl.states[0], CODE, 0));
    CHECK(PyMonitoring_GetRaisedException() == EXC);
    CHECK_EQ_INT(y.count, 0);
    CHECK_EQ_INT(u.count, 1);
    CHECK_OK(PyMonitoring_FirePyYieldEvent(&cl.states[0], CODE, 0, EXC), 0);
    CHECK_EQ_INT(y.count, 1);
    CHECK_EQ_INT(u.count, 1);
    y.answer = PY_MONITORING_DISABLE;
    CHECK_OK(PyMonitoring_FirePyYieldEvent(&cl.states[0], CODE, 0, EXC), 0);
    CHECK_EQ_INT(y.count, 2);
    CHECK_EQ_INT(u.count, 1);
    CHECK_OK(PyMonitoring_FirePyYieldEvent(&cl.states[0], CODE, 0, EXC), 0);
    CHECK_EQ_INT(y.count, 2);
    CHECK_EQ_INT(u.count, 1);
    CHECK_OK(PyMonitoring_ExitScope(), 0);

    /* Separate slots: DISABLE on the yield slot leaves the unwind slot. */
    codelike_init(&cl, 2);
    y.count = u.count = 0;
    y.answer = PY_MONITORING_DISABLE;
    CHECK_OK(codelike_enter(&cl, 2, evs), 0);
    CHECK_OK(PyMonitoring_FirePyYieldEvent(&cl.states[0], CODE, 0, OBJ(1)), 0);
    CHECK_EQ_INT(cl.states[0].active, 0);
    CHECK_EQ_INT(cl.states[1].active, 4);
    CHECK_OK(PyMonitoring_FirePyYieldEvent(&cl.states[0], CODE, 0, OBJ(1)), 0);
    PyMonitoring_SetRaisedException(EXC);
    CHECK_FIRED(PyMonitoring_FirePyUnwindEvent(&cl.states[1], CODE, 1));
    CHECK(PyMonitoring_GetRaisedException() == EXC);
    CHECK_EQ_INT(y.count, 1);
    CHECK_EQ_INT(u.count, 1);
    CHECK_EQ_INT(u.last.offset, 1);
    CHECK_OK(PyMonitoring_ExitScope(), 0);

    CHECK_OK(PyMonitoring_SetEvents(TEST_TOOL, 0), 0);
    no_events_set();
    CHECK_OK(PyMonitoring_FreeToolId(TEST_TOOL), 0);
    return harness_finish("cpython_two_events");
}
