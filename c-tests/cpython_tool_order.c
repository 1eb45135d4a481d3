/* Several tools on one slot (beyond CPython's C-API test, verified on 3.13):
 * tools 0-5 are called from the highest id down; DISABLE from one tool
 * clears only its bit, the others are called in the same and later firings;
 * the DISABLE lasts across a same-version EnterScope and is undone by any
 * version change (another tool's SetEvents) and by RestartEvents; an empty
 * callback slot with its bit set is skipped and keeps the bit; return values
 * other than 0, 1 and -1 are ignored; a failing tool stops the walk. */
#include <limits.h>

#include "cpython_cases.h"

static Recording rec;
static int answers[6];

static int tool_cb(void *data, const PyMonitoringEvent *ev) {
    (void)record_event(data, ev);
    return answers[ev->tool_id];
}

static void check_order(const int *tools, int n) {
    CHECK_EQ_INT(rec.count, n);
    for (int i = 0; i < n && i < rec.count; i++) {
        CHECK_EVENT(&rec, i, PY_MONITORING_EVENT_PY_START, tools[i], CODE, 0, -1,
                    PyMonitoring_MISSING, PyMonitoring_MISSING);
    }
    rec.count = 0;
}

int main(void) {
    CodeLike cl;
    const uint8_t ev = PY_MONITORING_EVENT_PY_START;
    for (int t = 0; t < 6; t++) {
        char name[16];
        snprintf(name, sizeof name, "tool%d", t);
        CHECK_OK(PyMonitoring_UseToolId(t, name), 0);
        CHECK_OK(PyMonitoring_RegisterCallback(t, ev, tool_cb, &rec), 0);
        CHECK_OK(PyMonitoring_SetEvents(t, EVBIT(ev)), 0);
    }
    codelike_init(&cl, 1);
    CHECK_OK(codelike_enter(&cl, 1, &ev), 0);
    CHECK_EQ_INT(cl.states[0].active, 0x3f);

    /* order */
    CHECK_OK(PyMonitoring_FirePyStartEvent(&cl.states[0], CODE, 0), 0);
    { const int o[] = {5, 4, 3, 2, 1, 0}; check_order(o, 6); }

    /* DISABLE from tool 3: the lower tools are still called */
    answers[3] = PY_MONITORING_DISABLE;
    CHECK_OK(PyMonitoring_FirePyStartEvent(&cl.states[0], CODE, 0), 0);
    { const int o[] = {5, 4, 3, 2, 1, 0}; check_order(o, 6); }
    CHECK_EQ_INT(cl.states[0].active, 0x37);
    CHECK_OK(PyMonitoring_FirePyStartEvent(&cl.states[0], CODE, 0), 0);
    { const int o[] = {5, 4, 2, 1, 0}; check_order(o, 5); }
    /* same version: EnterScope touches nothing */
    CHECK_OK(codelike_enter(&cl, 1, &ev), 0);
    CHECK_EQ_INT(cl.states[0].active, 0x37);
    /* another tool's SetEvents changes the version: the refresh re-enables */
    CHECK_OK(PyMonitoring_SetEvents(5, EVBIT(ev) | EVBIT(PY_MONITORING_EVENT_RAISE)), 0);
    CHECK_OK(codelike_enter(&cl, 1, &ev), 0);
    CHECK_EQ_INT(cl.states[0].active, 0x3f);
    answers[3] = 0;
    /* DISABLE from tools 4 and 1, undone by RestartEvents */
    answers[4] = answers[1] = PY_MONITORING_DISABLE;
    CHECK_OK(PyMonitoring_FirePyStartEvent(&cl.states[0], CODE, 0), 0);
    rec.count = 0;
    CHECK_EQ_INT(cl.states[0].active, 0x2d);
    answers[4] = answers[1] = 0;
    CHECK_OK(PyMonitoring_RestartEvents(), 0);
    CHECK_EQ_INT(cl.states[0].active, 0x2d); /* until the next EnterScope */
    CHECK_OK(codelike_enter(&cl, 1, &ev), 0);
    CHECK_EQ_INT(cl.states[0].active, 0x3f);
    CHECK_OK(PyMonitoring_FirePyStartEvent(&cl.states[0], CODE, 0), 0);
    { const int o[] = {5, 4, 3, 2, 1, 0}; check_order(o, 6); }

    /* every kind of version change undoes a DISABLE at the next EnterScope:
     * another tool's SetEvents, RestartEvents, ClearToolId and FreeToolId of
     * another tool in use (whose own bit goes with it) */
    for (int kind = 0; kind < 4; kind++) {
        uint8_t want = 0x3f;
        answers[3] = PY_MONITORING_DISABLE;
        CHECK_OK(PyMonitoring_FirePyStartEvent(&cl.states[0], CODE, 0), 0);
        rec.count = 0;
        answers[3] = 0;
        CHECK_EQ_INT(cl.states[0].active, 0x37);
        CHECK_OK(codelike_enter(&cl, 1, &ev), 0);
        CHECK_EQ_INT(cl.states[0].active, 0x37);
        switch (kind) {
        case 0:
            CHECK_OK(PyMonitoring_SetEvents(5, EVBIT(ev)), 0);
            break;
        case 1:
            CHECK_OK(PyMonitoring_RestartEvents(), 0);
            break;
        case 2:
            CHECK_OK(PyMonitoring_ClearToolId(0), 0);
            want = 0x3e;
            break;
        default:
            CHECK_OK(PyMonitoring_FreeToolId(0), 0);
            want = 0x3e;
            break;
        }
        CHECK_OK(codelike_enter(&cl, 1, &ev), 0);
        CHECK_EQ_INT(cl.states[0].active, want);
        if (kind >= 2) {
            if (kind == 3) CHECK_OK(PyMonitoring_UseToolId(0, "tool0"), 0);
            CHECK_OK(PyMonitoring_RegisterCallback(0, ev, tool_cb, &rec), 0);
            CHECK_OK(PyMonitoring_SetEvents(0, EVBIT(ev)), 0);
            CHECK_OK(codelike_enter(&cl, 1, &ev), 0);
            CHECK_EQ_INT(cl.states[0].active, 0x3f);
        }
    }

    /* empty callback slot with its bit set: skipped, bit kept */
    CHECK_OK(PyMonitoring_RegisterCallback(2, ev, NULL, NULL), 0);
    CHECK_OK(PyMonitoring_FirePyStartEvent(&cl.states[0], CODE, 0), 0);
    { const int o[] = {5, 4, 3, 1, 0}; check_order(o, 5); }
    CHECK_EQ_INT(cl.states[0].active, 0x3f);
    CHECK_OK(PyMonitoring_RegisterCallback(2, ev, tool_cb, &rec), 0);
    /* a state with every bit set and no callback at all for tools 6, 7 */
    {
        PyMonitoringState all = {0xff, 0};
        CHECK_OK(PyMonitoring_FirePyStartEvent(&all, CODE, 0), 0);
        { const int o[] = {5, 4, 3, 2, 1, 0}; check_order(o, 6); }
        CHECK_EQ_INT(all.active, 0xff);
    }

    /* other return values are ignored */
    {
        const int others[] = {2, 42, -2, INT_MAX, INT_MIN};
        for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
            for (int t = 0; t < 6; t++) answers[t] = others[i];
            CHECK_OK(PyMonitoring_FirePyStartEvent(&cl.states[0], CODE, 0), 0);
            { const int o[] = {5, 4, 3, 2, 1, 0}; check_order(o, 6); }
            CHECK_EQ_INT(cl.states[0].active, 0x3f);
        }
        for (int t = 0; t < 6; t++) answers[t] = 0;
    }

    /* a failing tool stops the walk; the slot is unchanged */
    answers[4] = -1;
    CHECK_ERROR(PyMonitoring_FirePyStartEvent(&cl.states[0], CODE, 0), PY_MONITORING_ERR_RUNTIME,
                "callback of tool 4 for PY_START returned -1 without setting an error");
    { const int o[] = {5, 4}; check_order(o, 2); }
    CHECK_EQ_INT(cl.states[0].active, 0x3f);
    answers[4] = 0;

    for (int t = 0; t < 6; t++) {
        CHECK_OK(PyMonitoring_FreeToolId(t), 0);
    }
    no_events_set();
    return harness_finish("cpython_tool_order");
}
