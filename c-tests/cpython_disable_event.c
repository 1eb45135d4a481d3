/* Port of TestCApiEventGeneration.test_disable_event (check_disable) over the
 * 3.14 case table: a code-like with 2 slots, slot 0 entered for the event;
 * fire counts `expected`; then the callback answers DISABLE: for the events
 * CPython cannot disable (PY_THROW, RAISE, RERAISE, EXCEPTION_HANDLED,
 * PY_UNWIND) the fire fails with ValueError "Cannot disable <NAME> events.
 * Callback removed." and the callback is removed; for the others the fire
 * counts `expected` (the callback ran and answered DISABLE, clearing the
 * tool's bit in the slot) and the next fire counts expected - 1 (here 0:
 * CPython's remaining 1 for CALL is the interpreter's own event). */
#include "cpython_cases.h"

int main(void) {
    Case cases[N_CASES];
    cases_init(cases);
    /* With PY_MONITORING_OPT_LASTING_DISABLE (docs/EXTENSIONS.md) a DISABLE
     * is remembered for the site (code-like, offset, event, tool) until the
     * tool restarts: a later case of the same event (STOP_ITERATION comes
     * twice) would be skipped at offset 0, so each case ends with one. */
    uint32_t options = 0;
    CHECK_OK(PyMonitoring_GetOptions(&options), 0);
    int lasting = (options & PY_MONITORING_OPT_LASTING_DISABLE) != 0;
    CHECK_OK(PyMonitoring_UseToolId(TEST_TOOL, "test"), 0);
    for (int i = 0; i < N_CASES; i++) {
        const Case *c = &cases[i];
        Counter counter = {0};
        CodeLike cl;
        uint8_t evs[2] = {(uint8_t)c->event, (uint8_t)c->event};
        codelike_init(&cl, 2);
        CHECK_OK(PyMonitoring_RegisterCallback(TEST_TOOL, c->event, count_event, &counter), 0);
        CHECK_OK(PyMonitoring_SetEvents(TEST_TOOL, events_for(c->event)), 0);
        CHECK_OK(codelike_enter(&cl, 2, evs), 0);

        CHECK_FIRED(fire_case(c, &cl, 0));
        CHECK_EQ_INT(counter.count, c->expected);
        (void)PyMonitoring_GetRaisedException();

        counter.answer = PY_MONITORING_DISABLE;
        counter.count = 0;
        if (cannot_disable(c->event)) {
            char msg[80];
            PyMonitoringCallback fn = count_event;
            void *data = NULL;
            snprintf(msg, sizeof msg, "Cannot disable %s events. Callback removed.",
                     event_name(c->event));
            CHECK_ERROR(fire_case(c, &cl, 0), PY_MONITORING_ERR_VALUE, msg);
            CHECK_EQ_INT(counter.count, 1);
            CHECK_OK(PyMonitoring_GetCallback(TEST_TOOL, c->event, &fn, &data), 0);
            CHECK(fn == NULL);
            /* events and the slot are unchanged */
            CHECK_EQ_INT(cl.states[0].active, 1 << TEST_TOOL);
        } else {
            CHECK_FIRED(fire_case(c, &cl, 0));
            CHECK_EQ_INT(counter.count, c->expected);
            /* CPython clears the slot's bit; the lasting mode silences the
             * site instead and leaves the slot as it is. */
            CHECK_EQ_INT(cl.states[0].active, lasting ? 1 << TEST_TOOL : 0);
            CHECK_EQ_INT(cl.states[1].active, 1 << TEST_TOOL);
            counter.count = 0;
            CHECK_FIRED(fire_case(c, &cl, 0));
            CHECK_EQ_INT(counter.count, c->expected - 1);
            /* the other slot (another offset: another site) is still active */
            CHECK_FIRED(fire_case(c, &cl, 1));
            CHECK_EQ_INT(counter.count, c->expected);
            if (lasting)
                CHECK_OK(PyMonitoring_RestartToolEvents(TEST_TOOL), 0);
        }
        CHECK(!PyMonitoring_ErrOccurred());
        CHECK_OK(PyMonitoring_ExitScope(), 0);
        CHECK_OK(PyMonitoring_RegisterCallback(TEST_TOOL, c->event, NULL, NULL), 0);
        CHECK_OK(PyMonitoring_SetEvents(TEST_TOOL, 0), 0);
    }
    no_events_set();
    CHECK_OK(PyMonitoring_FreeToolId(TEST_TOOL), 0);
    return harness_finish("cpython_disable_event");
}
