/* Port of TestCApiEventGeneration.test_fire_event_failing_callback: for each
 * case the callback fails on its first invocation (CPython: raises
 * OSError(42); here: sets a host exception object and returns -1). The fire
 * returns -1 and that exception is pending; for exception events it has
 * replaced the original. C-ABI addition: a lower tool registered for the same
 * event is not called, and the slot is unchanged. */
#include "cpython_cases.h"

#define OSERROR OBJ(42)

int main(void) {
    Case cases[N_CASES];
    cases_init(cases);
    CHECK_OK(PyMonitoring_UseToolId(TEST_TOOL, "test"), 0);
    CHECK_OK(PyMonitoring_UseToolId(1, "lower"), 0);
    for (int i = 0; i < N_CASES; i++) {
        const Case *c = &cases[i];
        Counter counter = {0, 0, 1, OSERROR, {0}};
        Counter lower = {0};
        CodeLike cl;
        uint8_t ev = (uint8_t)c->event;
        codelike_init(&cl, 1);
        CHECK_OK(PyMonitoring_RegisterCallback(TEST_TOOL, c->event, count_event, &counter), 0);
        CHECK_OK(PyMonitoring_RegisterCallback(1, c->event, count_event, &lower), 0);
        CHECK_OK(PyMonitoring_SetEvents(TEST_TOOL, events_for(c->event)), 0);
        CHECK_OK(PyMonitoring_SetEvents(1, events_for(c->event)), 0);
        CHECK_OK(codelike_enter(&cl, 1, &ev), 0);
        CHECK_EQ_INT(cl.states[0].active, (1 << TEST_TOOL) | (1 << 1));

        CHECK_EQ_INT(fire_case(c, &cl, 0), -1);
        CHECK_EQ_INT(PyMonitoring_ErrKind(), PY_MONITORING_ERR_HOST);
        CHECK(PyMonitoring_GetRaisedException() == OSERROR);
        CHECK(!PyMonitoring_ErrOccurred());
        CHECK_EQ_INT(counter.count, 1);
        CHECK_EQ_INT(lower.count, 0);
        CHECK_EQ_INT(cl.states[0].active, (1 << TEST_TOOL) | (1 << 1));

        /* the next firing succeeds and reaches both */
        CHECK_FIRED(fire_case(c, &cl, 0));
        CHECK_EQ_INT(counter.count, 2);
        CHECK_EQ_INT(lower.count, 1);
        if (is_exception_event(c->event)) {
            CHECK(PyMonitoring_GetRaisedException() == c->arg0);
        }
        CHECK(!PyMonitoring_ErrOccurred());
        CHECK_OK(PyMonitoring_ExitScope(), 0);
        CHECK_OK(PyMonitoring_RegisterCallback(TEST_TOOL, c->event, NULL, NULL), 0);
        CHECK_OK(PyMonitoring_RegisterCallback(1, c->event, NULL, NULL), 0);
        CHECK_OK(PyMonitoring_SetEvents(TEST_TOOL, 0), 0);
        CHECK_OK(PyMonitoring_SetEvents(1, 0), 0);
    }
    no_events_set();
    CHECK_OK(PyMonitoring_FreeToolId(1), 0);
    CHECK_OK(PyMonitoring_FreeToolId(TEST_TOOL), 0);
    return harness_finish("cpython_failing_callback");
}
