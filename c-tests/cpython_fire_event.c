/* Port of TestCApiEventGeneration.test_fire_event (check_event_count) over
 * CPython 3.14's case table: for each case, a fresh code-like with one slot,
 * a counting callback on tool 2, the tool's events set to the case's event;
 * EnterScope gives the slot tool 2's bit; firing counts `expected` (CALL: 1,
 * not CPython's 2 — see cpython_cases.h); exception events leave the same
 * exception pending, the others nothing. Then the callback is unregistered
 * (GetCallback shows it was the counter), the scope entered again (same
 * version: the slot keeps its bit) and firing counts 0. */
#include "cpython_cases.h"

int main(void) {
    Case cases[N_CASES];
    cases_init(cases);
    CHECK_OK(PyMonitoring_UseToolId(TEST_TOOL, "test"), 0);
    no_events_set();
    for (int i = 0; i < N_CASES; i++) {
        const Case *c = &cases[i];
        Counter counter = {0};
        CodeLike cl;
        uint8_t ev = (uint8_t)c->event;
        codelike_init(&cl, 1);
        CHECK_OK(PyMonitoring_RegisterCallback(TEST_TOOL, c->event, count_event, &counter), 0);
        CHECK_OK(PyMonitoring_SetEvents(TEST_TOOL, events_for(c->event)), 0);

        CHECK_OK(codelike_enter(&cl, 1, &ev), 0);
        CHECK_EQ_INT(cl.states[0].active, 1 << TEST_TOOL);
        counter.count = 0;
        CHECK_FIRED(fire_case(c, &cl, 0));
        CHECK_EQ_INT(counter.count, c->expected);
        /* what the tool received */
        CHECK_EQ_INT(counter.last.event, c->event);
        CHECK_EQ_INT(counter.last.tool_id, TEST_TOOL);
        CHECK(counter.last.codelike == CODE);
        CHECK_EQ_INT(counter.last.offset, 0);
        CHECK_EQ_INT(counter.last.lineno, -1);
        CHECK(counter.last.arg0 == (c->arg0 ? c->arg0 : PyMonitoring_MISSING));
        CHECK(counter.last.arg1 ==
              (c->event == PY_MONITORING_EVENT_CALL ? c->arg1 : PyMonitoring_MISSING));
        if (is_exception_event(c->event)) {
            CHECK_EQ_INT(PyMonitoring_ErrKind(), PY_MONITORING_ERR_HOST);
            CHECK(PyMonitoring_GetRaisedException() == c->arg0);
        }
        CHECK(!PyMonitoring_ErrOccurred());
        CHECK_EQ_INT(cl.states[0].active, 1 << TEST_TOOL);
        CHECK_OK(PyMonitoring_ExitScope(), 0);

        {
            PyMonitoringCallback prev = NULL;
            void *data = NULL;
            CHECK_OK(PyMonitoring_GetCallback(TEST_TOOL, c->event, &prev, &data), 0);
            CHECK(prev == count_event && data == &counter);
        }
        CHECK_OK(PyMonitoring_RegisterCallback(TEST_TOOL, c->event, NULL, NULL), 0);
        CHECK_OK(codelike_enter(&cl, 1, &ev), 0);
        /* active-needs-callback: the removal moved the version and the tool
         * without a callback is left out of the slot. */
        CHECK_EQ_INT(cl.states[0].active,
                     harness_active_needs_callback() ? 0 : 1 << TEST_TOOL);
        counter.count = 0;
        CHECK_FIRED(fire_case(c, &cl, 0));
        CHECK_EQ_INT(counter.count, 0);
        if (is_exception_event(c->event)) {
            CHECK(PyMonitoring_GetRaisedException() == c->arg0);
        }
        CHECK(!PyMonitoring_ErrOccurred());
        CHECK_OK(PyMonitoring_ExitScope(), 0);
        CHECK_OK(PyMonitoring_SetEvents(TEST_TOOL, 0), 0);
    }
    no_events_set();
    CHECK_OK(PyMonitoring_FreeToolId(TEST_TOOL), 0);
    return harness_finish("cpython_fire_event");
}
