/* Events CPython's C-API test does not cover: LINE, RERAISE, C_RETURN and
 * C_RAISE (slots get CALL's tools), the legacy BRANCH (BRANCH_LEFT and
 * BRANCH_RIGHT; fires BRANCH_RIGHT) and INSTRUCTION (valid, no fire
 * function). Each: what the tool receives, and what DISABLE does. */
#include "cpython_cases.h"

#define EXC OBJ(44)

static void clear_tool(void) {
    for (int ev = 0; ev < 18; ev++) {
        CHECK_OK(PyMonitoring_RegisterCallback(TEST_TOOL, ev, NULL, NULL), 0);
    }
    CHECK_OK(PyMonitoring_SetEvents(TEST_TOOL, 0), 0);
}

int main(void) {
    CodeLike cl;
    /* CPython's DISABLE clears the slot's bit; with
     * PY_MONITORING_OPT_LASTING_DISABLE (docs/EXTENSIONS.md) it silences the
     * site (no callback there again) and the slot keeps its bit. */
    uint32_t options = 0;
    CHECK_OK(PyMonitoring_GetOptions(&options), 0);
    const int disabled = (options & PY_MONITORING_OPT_LASTING_DISABLE) ? 4 : 0;
    CHECK_OK(PyMonitoring_UseToolId(TEST_TOOL, "test"), 0);

    /* LINE: offset and lineno as given (negative line numbers too), arg0
     * MISSING; DISABLE clears the bit. */
    {
        Counter c = {0};
        const uint8_t ev = PY_MONITORING_EVENT_LINE;
        codelike_init(&cl, 1);
        CHECK_OK(PyMonitoring_RegisterCallback(TEST_TOOL, ev, count_event, &c), 0);
        CHECK_OK(PyMonitoring_SetEvents(TEST_TOOL, EVBIT(ev)), 0);
        CHECK_OK(codelike_enter(&cl, 1, &ev), 0);
        CHECK_EQ_INT(cl.states[0].active, 4);
        CHECK_OK(PyMonitoring_FireLineEvent(&cl.states[0], CODE, 3, 17), 0);
        CHECK_EQ_INT(c.count, 1);
        CHECK_EQ_INT(c.last.event, PY_MONITORING_EVENT_LINE);
        CHECK_EQ_INT(c.last.offset, 3);
        CHECK_EQ_INT(c.last.lineno, 17);
        CHECK(c.last.arg0 == PyMonitoring_MISSING && c.last.arg1 == PyMonitoring_MISSING);
        CHECK_OK(PyMonitoring_FireLineEvent(&cl.states[0], CODE, 0, -7), 0);
        CHECK_EQ_INT(c.last.lineno, -7);
        CHECK_ERROR(PyMonitoring_FireLineEvent(&cl.states[0], CODE, -1, 5), PY_MONITORING_ERR_VALUE,
                    "offset must be non-negative");
        CHECK_EQ_INT(c.count, 2);
        c.answer = PY_MONITORING_DISABLE;
        CHECK_OK(PyMonitoring_FireLineEvent(&cl.states[0], CODE, 4, 18), 0);
        CHECK_EQ_INT(c.count, 3);
        CHECK_EQ_INT(cl.states[0].active, disabled);
        CHECK_OK(PyMonitoring_FireLineEvent(&cl.states[0], CODE, 4, 18), 0);
        CHECK_EQ_INT(c.count, 3);
        clear_tool();
    }

    /* RERAISE: an exception event that cannot be disabled. */
    {
        Counter c = {0};
        const uint8_t ev = PY_MONITORING_EVENT_RERAISE;
        codelike_init(&cl, 1);
        CHECK_OK(PyMonitoring_RegisterCallback(TEST_TOOL, ev, count_event, &c), 0);
        CHECK_OK(PyMonitoring_SetEvents(TEST_TOOL, EVBIT(ev)), 0);
        CHECK_OK(codelike_enter(&cl, 1, &ev), 0);
        PyMonitoring_SetRaisedException(EXC);
        CHECK_FIRED(PyMonitoring_FireReraiseEvent(&cl.states[0], CODE, 9));
        CHECK(PyMonitoring_GetRaisedException() == EXC);
        CHECK_EQ_INT(c.count, 1);
        CHECK_EQ_INT(c.last.event, PY_MONITORING_EVENT_RERAISE);
        CHECK_EQ_INT(c.last.offset, 9);
        CHECK(c.last.arg0 == EXC);
        c.answer = PY_MONITORING_DISABLE;
        PyMonitoring_SetRaisedException(EXC);
        CHECK_ERROR(PyMonitoring_FireReraiseEvent(&cl.states[0], CODE, 9), PY_MONITORING_ERR_VALUE,
                    "Cannot disable RERAISE events. Callback removed.");
        CHECK_EQ_INT(cl.states[0].active, 4);
        PyMonitoring_SetRaisedException(EXC);
        CHECK_FIRED(PyMonitoring_FireReraiseEvent(&cl.states[0], CODE, 9));
        CHECK(PyMonitoring_GetRaisedException() == EXC);
        CHECK_EQ_INT(c.count, 2);
        clear_tool();
    }

    /* C_RETURN / C_RAISE ride on CALL: they cannot be set alone; a slot
     * listing them gets CALL's tools (also when only CALL is set); their own
     * callbacks are called, not CALL's; DISABLE is an error and removes the
     * callback. */
    {
        Counter call = {0}, cret = {0}, craise = {0};
        const uint8_t evs[3] = {PY_MONITORING_EVENT_CALL, PY_MONITORING_EVENT_C_RETURN,
                                PY_MONITORING_EVENT_C_RAISE};
        uint32_t set = 0;
        codelike_init(&cl, 3);
        CHECK_ERROR(PyMonitoring_SetEvents(TEST_TOOL, EVBIT(PY_MONITORING_EVENT_C_RETURN)),
                    PY_MONITORING_ERR_VALUE, "cannot set C_RETURN or C_RAISE events independently");
        CHECK_ERROR(PyMonitoring_SetEvents(TEST_TOOL, EVBIT(PY_MONITORING_EVENT_C_RAISE) |
                                                          EVBIT(PY_MONITORING_EVENT_CALL)),
                    PY_MONITORING_ERR_VALUE, "cannot set C_RETURN or C_RAISE events independently");
        CHECK_OK(PyMonitoring_RegisterCallback(TEST_TOOL, PY_MONITORING_EVENT_CALL, count_event, &call), 0);
        CHECK_OK(PyMonitoring_RegisterCallback(TEST_TOOL, PY_MONITORING_EVENT_C_RETURN, count_event, &cret), 0);
        CHECK_OK(PyMonitoring_RegisterCallback(TEST_TOOL, PY_MONITORING_EVENT_C_RAISE, count_event, &craise), 0);
        CHECK_OK(PyMonitoring_SetEvents(TEST_TOOL, EVBIT(PY_MONITORING_EVENT_CALL)), 0);
        CHECK_OK(PyMonitoring_GetEvents(TEST_TOOL, &set), 0);
        CHECK_EQ_INT(set, EVBIT(PY_MONITORING_EVENT_CALL));
        CHECK_OK(codelike_enter(&cl, 3, evs), 0);
        CHECK_EQ_INT(cl.states[0].active, 4);
        CHECK_EQ_INT(cl.states[1].active, 4);
        CHECK_EQ_INT(cl.states[2].active, 4);
        CHECK_OK(PyMonitoring_FireCReturnEvent(&cl.states[1], CODE, 1, OBJ(7)), 0);
        CHECK_EQ_INT(cret.count, 1);
        CHECK_EQ_INT(call.count, 0);
        CHECK_EQ_INT(cret.last.event, PY_MONITORING_EVENT_C_RETURN);
        CHECK(cret.last.arg0 == OBJ(7) && cret.last.arg1 == PyMonitoring_MISSING);
        PyMonitoring_SetRaisedException(EXC);
        CHECK_FIRED(PyMonitoring_FireCRaiseEvent(&cl.states[2], CODE, 2));
        CHECK(PyMonitoring_GetRaisedException() == EXC);
        CHECK_EQ_INT(craise.count, 1);
        CHECK(craise.last.arg0 == EXC);
        CHECK_OK(PyMonitoring_FireCallEvent(&cl.states[0], CODE, 0, OBJ(8), OBJ(9)), 0);
        CHECK_EQ_INT(call.count, 1);
        CHECK(call.last.arg0 == OBJ(8) && call.last.arg1 == OBJ(9));

        cret.answer = PY_MONITORING_DISABLE;
        CHECK_ERROR(PyMonitoring_FireCReturnEvent(&cl.states[1], CODE, 1, OBJ(7)),
                    PY_MONITORING_ERR_VALUE, "Cannot disable C_RETURN events. Callback removed.");
        craise.answer = PY_MONITORING_DISABLE;
        PyMonitoring_SetRaisedException(EXC);
        CHECK_ERROR(PyMonitoring_FireCRaiseEvent(&cl.states[2], CODE, 2), PY_MONITORING_ERR_VALUE,
                    "Cannot disable C_RAISE events. Callback removed.");
        CHECK_EQ_INT(cl.states[1].active, 4);
        CHECK_EQ_INT(cl.states[2].active, 4);
        {
            PyMonitoringCallback fn = count_event;
            void *data = NULL;
            CHECK_OK(PyMonitoring_GetCallback(TEST_TOOL, PY_MONITORING_EVENT_C_RETURN, &fn, &data), 0);
            CHECK(fn == NULL);
            fn = count_event;
            CHECK_OK(PyMonitoring_GetCallback(TEST_TOOL, PY_MONITORING_EVENT_C_RAISE, &fn, &data), 0);
            CHECK(fn == NULL);
            fn = NULL;
            CHECK_OK(PyMonitoring_GetCallback(TEST_TOOL, PY_MONITORING_EVENT_CALL, &fn, &data), 0);
            CHECK(fn == count_event);
        }
        /* the full group is accepted too */
        CHECK_OK(PyMonitoring_SetEvents(TEST_TOOL, EVBIT(PY_MONITORING_EVENT_CALL) |
                                                       EVBIT(PY_MONITORING_EVENT_C_RETURN) |
                                                       EVBIT(PY_MONITORING_EVENT_C_RAISE)), 0);
        clear_tool();
    }

    /* Legacy BRANCH: set as BRANCH_LEFT|BRANCH_RIGHT; a callback registered
     * for BRANCH serves both (seeing the real id); a BRANCH slot gets
     * BRANCH_RIGHT's tools; _PyMonitoring_FireBranchEvent fires
     * BRANCH_RIGHT. */
    {
        Counter c = {0};
        const uint8_t evs[3] = {PY_MONITORING_EVENT_BRANCH_LEFT, PY_MONITORING_EVENT_BRANCH_RIGHT,
                                PY_MONITORING_EVENT_BRANCH};
        uint32_t set = 0;
        codelike_init(&cl, 3);
        CHECK_OK(PyMonitoring_RegisterCallback(TEST_TOOL, PY_MONITORING_EVENT_BRANCH, count_event, &c), 0);
        CHECK_OK(PyMonitoring_SetEvents(TEST_TOOL, EVBIT(PY_MONITORING_EVENT_BRANCH)), 0);
        CHECK_OK(PyMonitoring_GetEvents(TEST_TOOL, &set), 0);
        CHECK_EQ_INT(set, EVBIT(PY_MONITORING_EVENT_BRANCH_LEFT) | EVBIT(PY_MONITORING_EVENT_BRANCH_RIGHT));
        CHECK_OK(codelike_enter(&cl, 3, evs), 0);
        CHECK_EQ_INT(cl.states[0].active, 4);
        CHECK_EQ_INT(cl.states[1].active, 4);
        CHECK_EQ_INT(cl.states[2].active, 4);
        CHECK_OK(PyMonitoring_FireBranchLeftEvent(&cl.states[0], CODE, 0, OBJ(11)), 0);
        CHECK_EQ_INT(c.last.event, PY_MONITORING_EVENT_BRANCH_LEFT);
        CHECK_OK(PyMonitoring_FireBranchRightEvent(&cl.states[1], CODE, 1, OBJ(12)), 0);
        CHECK_EQ_INT(c.last.event, PY_MONITORING_EVENT_BRANCH_RIGHT);
        CHECK_OK(_PyMonitoring_FireBranchEvent(&cl.states[2], CODE, 2, OBJ(13)), 0);
        CHECK_EQ_INT(c.last.event, PY_MONITORING_EVENT_BRANCH_RIGHT);
        CHECK(c.last.arg0 == OBJ(13));
        CHECK_EQ_INT(c.count, 3);
        c.answer = PY_MONITORING_DISABLE;
        CHECK_OK(_PyMonitoring_FireBranchEvent(&cl.states[2], CODE, 2, OBJ(13)), 0);
        CHECK_EQ_INT(cl.states[2].active, disabled);
        CHECK_OK(_PyMonitoring_FireBranchEvent(&cl.states[2], CODE, 2, OBJ(13)), 0);
        CHECK_EQ_INT(c.count, 4);
        CHECK_EQ_INT(cl.states[1].active, 4);
        clear_tool();
    }

    /* INSTRUCTION: a valid event for sets, callbacks and scopes. */
    {
        Counter c = {0};
        const uint8_t ev = PY_MONITORING_EVENT_INSTRUCTION;
        codelike_init(&cl, 1);
        CHECK_OK(PyMonitoring_RegisterCallback(TEST_TOOL, ev, count_event, &c), 0);
        CHECK_OK(PyMonitoring_SetEvents(TEST_TOOL, EVBIT(ev)), 0);
        CHECK_OK(codelike_enter(&cl, 1, &ev), 0);
        CHECK_EQ_INT(cl.states[0].active, 4);
        clear_tool();
    }

    no_events_set();
    CHECK_OK(PyMonitoring_FreeToolId(TEST_TOOL), 0);
    return harness_finish("cpython_more_events");
}
