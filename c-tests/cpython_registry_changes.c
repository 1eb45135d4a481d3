/* Registry changes and what scopes see (docs/BEHAVIOUR.md, "Scopes", one change at a time):
 * - a fresh process: version 0, EnterScope with version 0 touches nothing
 *   (hand-written active/opaque stay);
 * - which operations change the version (+1 each here; CPython moves in
 *   steps of 256) and which do not; a refresh writes every slot's `active`
 *   and leaves `opaque` alone;
 * - a callback that removes a later tool's callback during a dispatch: that
 *   tool is not called (its bit stays);
 * - ClearToolId / FreeToolId of a tool with events and callbacks. */
#include "cpython_cases.h"

static Recording rec;
static int remove_tool2;

static int remover(void *data, const PyMonitoringEvent *ev) {
    (void)record_event(data, ev);
    if (remove_tool2) {
        CHECK_OK(PyMonitoring_RegisterCallback(2, ev->event, NULL, NULL), 0);
    }
    return 0;
}

#define VERSION_AFTER(op, delta)                                         \
    do {                                                                 \
        uint64_t before_ = PyMonitoring_GetVersion();                    \
        op;                                                              \
        CHECK_EQ_INT(PyMonitoring_GetVersion() - before_, (delta));      \
    } while (0)

int main(void) {
    const uint8_t evs[3] = {PY_MONITORING_EVENT_PY_START, PY_MONITORING_EVENT_RAISE,
                            PY_MONITORING_EVENT_LINE};
    PyMonitoringState st[3] = {{0x55, 0xaa}, {0x0f, 0xbb}, {0x00, 0xcc}};
    uint64_t v = 0;
    uint32_t set = 0;

    /* fresh process */
    CHECK_EQ_INT(PyMonitoring_GetVersion(), 0);
    CHECK_OK(PyMonitoring_EnterScope(st, &v, evs, 3), 0);
    CHECK_EQ_INT(st[0].active, 0x55);
    CHECK_EQ_INT(st[1].active, 0x0f);
    CHECK_EQ_INT(st[0].opaque, 0xaa);
    CHECK_EQ_INT(v, 0);

    /* no version change */
    VERSION_AFTER(CHECK_OK(PyMonitoring_UseToolId(2, "two"), 0), 0);
    VERSION_AFTER(CHECK_OK(PyMonitoring_UseToolId(3, "three"), 0), 0);
    VERSION_AFTER(CHECK_OK(PyMonitoring_RegisterCallback(2, PY_MONITORING_EVENT_PY_START, record_event, &rec), 0), 0);
    VERSION_AFTER(CHECK_OK(PyMonitoring_RegisterCallback(2, PY_MONITORING_EVENT_PY_START, NULL, NULL), 0), 0);
    VERSION_AFTER(CHECK_OK(PyMonitoring_GetEvents(2, &set), 0), 0);
    VERSION_AFTER(CHECK_OK(PyMonitoring_SetEvents(2, 0), 0), 0);
    VERSION_AFTER(CHECK_ERROR(PyMonitoring_SetEvents(4, EVBIT(0)), PY_MONITORING_ERR_VALUE, "tool 4 is not in use"), 0);
    VERSION_AFTER(CHECK_ERROR(PyMonitoring_SetEvents(2, 1u << 19), PY_MONITORING_ERR_VALUE, "invalid event set 0x80000"), 0);
    VERSION_AFTER(CHECK_OK(PyMonitoring_ClearToolId(4), 0), 0);
    VERSION_AFTER(CHECK_OK(PyMonitoring_FreeToolId(4), 0), 0);
    CHECK_OK(PyMonitoring_EnterScope(st, &v, evs, 3), 0);
    CHECK_EQ_INT(st[0].active, 0x55);

    /* SetEvents that changes a mask: +1; the next EnterScope refreshes every
     * slot (opaque untouched; with PY_MONITORING_OPT_LASTING_DISABLE the
     * library owns opaque, docs/EXTENSIONS.md: a refresh sets it to the
     * mode's mark 0x80) */
    uint32_t options = 0;
    CHECK_OK(PyMonitoring_GetOptions(&options), 0);
    int lasting = (options & PY_MONITORING_OPT_LASTING_DISABLE) != 0;
    VERSION_AFTER(CHECK_OK(PyMonitoring_SetEvents(2, EVBIT(PY_MONITORING_EVENT_PY_START)), 0), 1);
    CHECK_OK(PyMonitoring_EnterScope(st, &v, evs, 3), 0);
    CHECK_EQ_INT(v, PyMonitoring_GetVersion());
    /* active-needs-callback: tool 2 has no PY_START callback (removed above) */
    CHECK_EQ_INT(st[0].active, harness_active_needs_callback() ? 0 : 4);
    CHECK_EQ_INT(st[1].active, 0);
    CHECK_EQ_INT(st[2].active, 0);
    CHECK_EQ_INT(st[0].opaque, lasting ? 0x80 : 0xaa);
    CHECK_EQ_INT(st[1].opaque, lasting ? 0x80 : 0xbb);
    CHECK_EQ_INT(st[2].opaque, lasting ? 0x80 : 0xcc);
    /* same version: nothing touched */
    st[1].active = 0x80;
    CHECK_OK(PyMonitoring_EnterScope(st, &v, evs, 3), 0);
    CHECK_EQ_INT(st[1].active, 0x80);
    /* the same mask again, also after normalisation: no change */
    VERSION_AFTER(CHECK_OK(PyMonitoring_SetEvents(2, EVBIT(PY_MONITORING_EVENT_PY_START)), 0), 0);
    VERSION_AFTER(CHECK_OK(PyMonitoring_SetEvents(3, EVBIT(PY_MONITORING_EVENT_CALL)), 0), 1);
    VERSION_AFTER(CHECK_OK(PyMonitoring_SetEvents(3, EVBIT(PY_MONITORING_EVENT_CALL) |
                                                         EVBIT(PY_MONITORING_EVENT_C_RETURN) |
                                                         EVBIT(PY_MONITORING_EVENT_C_RAISE)), 0), 0);
    VERSION_AFTER(CHECK_OK(PyMonitoring_SetEvents(3, EVBIT(PY_MONITORING_EVENT_BRANCH_LEFT) |
                                                         EVBIT(PY_MONITORING_EVENT_BRANCH_RIGHT)), 0), 1);
    VERSION_AFTER(CHECK_OK(PyMonitoring_SetEvents(3, EVBIT(PY_MONITORING_EVENT_BRANCH)), 0), 0);
    /* RestartEvents: +1 */
    VERSION_AFTER(CHECK_OK(PyMonitoring_RestartEvents(), 0), 1);
    CHECK_OK(PyMonitoring_EnterScope(st, &v, evs, 3), 0);
    CHECK_EQ_INT(st[1].active, 0);
    /* Clear / Free of a tool in use: +1, with or without events */
    VERSION_AFTER(CHECK_OK(PyMonitoring_ClearToolId(3), 0), 1);
    VERSION_AFTER(CHECK_OK(PyMonitoring_ClearToolId(3), 0), 1);
    VERSION_AFTER(CHECK_OK(PyMonitoring_FreeToolId(3), 0), 1);
    VERSION_AFTER(CHECK_OK(PyMonitoring_FreeToolId(3), 0), 0);

    /* a callback removing a later tool's callback during the dispatch */
    {
        PyMonitoringState s[1] = {{0, 0}};
        uint64_t sv = 0;
        CHECK_OK(PyMonitoring_UseToolId(4, "four"), 0);
        CHECK_OK(PyMonitoring_RegisterCallback(4, PY_MONITORING_EVENT_PY_START, remover, &rec), 0);
        CHECK_OK(PyMonitoring_RegisterCallback(2, PY_MONITORING_EVENT_PY_START, record_event, &rec), 0);
        CHECK_OK(PyMonitoring_SetEvents(4, EVBIT(PY_MONITORING_EVENT_PY_START)), 0);
        CHECK_OK(PyMonitoring_EnterScope(s, &sv, evs, 1), 0);
        CHECK_EQ_INT(s[0].active, 0x14);
        rec.count = 0;
        CHECK_OK(PyMonitoring_FirePyStartEvent(&s[0], CODE, 0), 0);
        CHECK_EQ_INT(rec.count, 2);
        CHECK_EVENT(&rec, 0, PY_MONITORING_EVENT_PY_START, 4, CODE, 0, -1, PyMonitoring_MISSING, PyMonitoring_MISSING);
        CHECK_EVENT(&rec, 1, PY_MONITORING_EVENT_PY_START, 2, CODE, 0, -1, PyMonitoring_MISSING, PyMonitoring_MISSING);
        rec.count = 0;
        remove_tool2 = 1;
        CHECK_OK(PyMonitoring_FirePyStartEvent(&s[0], CODE, 0), 0);
        CHECK_EQ_INT(rec.count, 1);
        CHECK_EQ_INT(rec.events[0].tool_id, 4);
        CHECK_EQ_INT(s[0].active, 0x14);
        remove_tool2 = 0;
        CHECK_OK(PyMonitoring_FreeToolId(4), 0);
    }

    /* ClearToolId / FreeToolId of a tool with events and callbacks */
    {
        PyMonitoringState s[2] = {{0, 0}, {0, 0}};
        const uint8_t e2[2] = {PY_MONITORING_EVENT_PY_START, PY_MONITORING_EVENT_LINE};
        uint64_t sv = 0;
        char name[16];
        size_t needed = 0;
        PyMonitoringCallback fn = NULL;
        void *data = NULL;
        CHECK_OK(PyMonitoring_UseToolId(1, "one"), 0);
        CHECK_OK(PyMonitoring_RegisterCallback(1, PY_MONITORING_EVENT_PY_START, record_event, &rec), 0);
        CHECK_OK(PyMonitoring_RegisterCallback(1, PY_MONITORING_EVENT_LINE, record_event, &rec), 0);
        CHECK_OK(PyMonitoring_SetEvents(1, EVBIT(PY_MONITORING_EVENT_PY_START) | EVBIT(PY_MONITORING_EVENT_LINE)), 0);
        CHECK_OK(PyMonitoring_EnterScope(s, &sv, e2, 2), 0);
        /* active-needs-callback: tool 2's PY_START callback was removed above */
        CHECK_EQ_INT(s[0].active, harness_active_needs_callback() ? 0x02 : 0x06);
        CHECK_EQ_INT(s[1].active, 0x02);
        VERSION_AFTER(CHECK_OK(PyMonitoring_ClearToolId(1), 0), 1);
        CHECK_OK(PyMonitoring_GetEvents(1, &set), 0);
        CHECK_EQ_INT(set, 0);
        CHECK_OK(PyMonitoring_GetCallback(1, PY_MONITORING_EVENT_PY_START, &fn, &data), 0);
        CHECK(fn == NULL && data == NULL);
        CHECK_OK(PyMonitoring_GetCallback(1, PY_MONITORING_EVENT_LINE, &fn, &data), 0);
        CHECK(fn == NULL);
        CHECK_OK(PyMonitoring_GetTool(1, name, sizeof name, &needed), 1);
        CHECK(strcmp(name, "one") == 0);
        /* a state entered before the clear still has the bit: the callback
         * is gone, so nothing is called and the bit stays */
        rec.count = 0;
        CHECK_OK(PyMonitoring_FireLineEvent(&s[1], CODE, 0, 1), 0);
        CHECK_EQ_INT(rec.count, 0);
        CHECK_EQ_INT(s[1].active, 0x02);
        CHECK_OK(PyMonitoring_EnterScope(s, &sv, e2, 2), 0);
        CHECK_EQ_INT(s[0].active, harness_active_needs_callback() ? 0x00 : 0x04);
        CHECK_EQ_INT(s[1].active, 0x00);
        /* still claimed: usable again */
        CHECK_OK(PyMonitoring_RegisterCallback(1, PY_MONITORING_EVENT_LINE, record_event, &rec), 0);
        CHECK_OK(PyMonitoring_SetEvents(1, EVBIT(PY_MONITORING_EVENT_LINE)), 0);
        VERSION_AFTER(CHECK_OK(PyMonitoring_FreeToolId(1), 0), 1);
        CHECK_OK(PyMonitoring_GetTool(1, name, sizeof name, &needed), 0);
        CHECK_OK(PyMonitoring_GetEvents(1, &set), 0);
        CHECK_EQ_INT(set, 0);
        CHECK_OK(PyMonitoring_GetCallback(1, PY_MONITORING_EVENT_LINE, &fn, &data), 0);
        CHECK(fn == NULL);
        CHECK_ERROR(PyMonitoring_SetEvents(1, EVBIT(PY_MONITORING_EVENT_LINE)), PY_MONITORING_ERR_VALUE,
                    "tool 1 is not in use");
        CHECK_ERROR(PyMonitoring_RegisterCallback(1, PY_MONITORING_EVENT_LINE, record_event, &rec),
                    PY_MONITORING_ERR_VALUE, "tool 1 is not in use");
        CHECK_OK(PyMonitoring_EnterScope(s, &sv, e2, 2), 0);
        CHECK_EQ_INT(s[1].active, 0x00);
    }

    CHECK_OK(PyMonitoring_FreeToolId(2), 0);
    no_events_set();
    return harness_finish("cpython_registry_changes");
}
