/* Local events for code-likes (docs/EXTENSIONS.md): PyMonitoring_SetLocalEvents,
 * PyMonitoring_GetLocalEvents, PyMonitoring_EnterCodeScope, and the
 * PY_MONITORING_OPT_ACTIVE_NEEDS_CALLBACK mode; exact sequences and every bad
 * input. Runs under any PYMONITORING_OPTIONS: it sets the options itself. */
#include "harness.h"

#define EV(e) (1u << PY_MONITORING_EVENT_##e)

static Recording rec;

static void bad_input(void) {
    PyObject *code = OBJ(1);
    uint32_t got = 0xdead;
    PyMonitoringState st[2] = {{0, 0}, {0, 0}};
    uint64_t version = 0;
    const uint8_t events[2] = {PY_MONITORING_EVENT_PY_START, PY_MONITORING_EVENT_LINE};

    CHECK_ERROR(PyMonitoring_SetLocalEvents(0, NULL, EV(LINE)), PY_MONITORING_ERR_VALUE,
                "codelike must not be NULL");
    CHECK_ERROR(PyMonitoring_SetLocalEvents(-1, code, EV(LINE)), PY_MONITORING_ERR_VALUE,
                "invalid tool -1 (must be between 0 and 5)");
    CHECK_ERROR(PyMonitoring_SetLocalEvents(6, code, EV(LINE)), PY_MONITORING_ERR_VALUE,
                "invalid tool 6 (must be between 0 and 5)");
    CHECK_ERROR(PyMonitoring_SetLocalEvents(0, code, EV(LINE)), PY_MONITORING_ERR_VALUE,
                "tool 0 is not in use");
    CHECK_OK(PyMonitoring_UseToolId(0, "dbg"), 0);
    /* Non-local events, one at a time (3.14 numbering: 11-15 are not local). */
    for (int e = 11; e <= 15; e++) {
        char msg[64];
        snprintf(msg, sizeof msg, "invalid local event set 0x%x", 1u << e);
        CHECK_ERROR(PyMonitoring_SetLocalEvents(0, code, 1u << e), PY_MONITORING_ERR_VALUE, msg);
    }
    CHECK_ERROR(PyMonitoring_SetLocalEvents(0, code, EV(C_RETURN)), PY_MONITORING_ERR_VALUE,
                "cannot set C_RETURN or C_RAISE events independently");
    CHECK_ERROR(PyMonitoring_SetLocalEvents(0, code, EV(CALL) | EV(C_RAISE)),
                PY_MONITORING_ERR_VALUE, "cannot set C_RETURN or C_RAISE events independently");
    CHECK_ERROR(PyMonitoring_SetLocalEvents(0, code, 1u << 19), PY_MONITORING_ERR_VALUE,
                "invalid local event set 0x80000");
    CHECK_ERROR(PyMonitoring_SetLocalEvents(0, code, 0xffffffffu), PY_MONITORING_ERR_VALUE,
                "invalid local event set 0xfff8ffff");
    CHECK_OK(PyMonitoring_GetLocalEvents(0, code, &got), 0);
    CHECK_EQ_INT(got, 0);

    got = 0xdead;
    CHECK_ERROR(PyMonitoring_GetLocalEvents(0, NULL, &got), PY_MONITORING_ERR_VALUE,
                "codelike must not be NULL");
    CHECK_ERROR(PyMonitoring_GetLocalEvents(0, code, NULL), PY_MONITORING_ERR_VALUE,
                "events must not be NULL");
    CHECK_ERROR(PyMonitoring_GetLocalEvents(7, code, &got), PY_MONITORING_ERR_VALUE,
                "invalid tool 7 (must be between 0 and 5)");
    CHECK_EQ_INT(got, 0xdead);

    CHECK_ERROR(PyMonitoring_EnterCodeScope(st, &version, events, 2, NULL),
                PY_MONITORING_ERR_VALUE, "codelike must not be NULL");
    CHECK_ERROR(PyMonitoring_EnterCodeScope(st, NULL, events, 2, code),
                PY_MONITORING_ERR_VALUE, "version must not be NULL");
    CHECK_ERROR(PyMonitoring_EnterCodeScope(st, &version, events, -1, code),
                PY_MONITORING_ERR_VALUE, "length must be non-negative (got -1)");
    CHECK_ERROR(PyMonitoring_EnterCodeScope(NULL, &version, events, 2, code),
                PY_MONITORING_ERR_VALUE, "states must not be NULL when length > 0");
    CHECK_ERROR(PyMonitoring_EnterCodeScope(st, &version, NULL, 2, code),
                PY_MONITORING_ERR_VALUE, "event_types must not be NULL when length > 0");
    const uint8_t bad[2] = {PY_MONITORING_EVENT_LINE, 19};
    version = 12345;
    st[0].active = 0x55;
    CHECK_ERROR(PyMonitoring_EnterCodeScope(st, &version, bad, 2, code),
                PY_MONITORING_ERR_VALUE,
                "invalid event 19 in event_types[1] (must be between 0 and 18)");
    CHECK_EQ_INT(version, 12345);
    CHECK_EQ_INT(st[0].active, 0x55);
    /* length 0 with NULL arrays: only the version is stored. */
    CHECK_OK(PyMonitoring_EnterCodeScope(NULL, &version, NULL, 0, code), 0);
    CHECK_EQ_INT(version, PyMonitoring_GetVersion());
    CHECK_OK(PyMonitoring_FreeToolId(0), 0);
}

/* The classic debugger: PY_START globally, LINE only in the function that
 * holds a breakpoint. */
static void debugger(void) {
    PyObject *with_bp = OBJ(2), *other = OBJ(3);
    const uint8_t events[3] = {PY_MONITORING_EVENT_PY_START, PY_MONITORING_EVENT_LINE,
                               PY_MONITORING_EVENT_C_RETURN};
    PyMonitoringState a[3] = {{0, 0}}, b[3] = {{0, 0}};
    uint64_t va = 0, vb = 0;
    uint32_t got = 0;

    memset(&rec, 0, sizeof rec);
    CHECK_OK(PyMonitoring_UseToolId(PY_MONITORING_DEBUGGER_ID, "dbg"), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(0, PY_MONITORING_EVENT_PY_START, record_event, &rec), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(0, PY_MONITORING_EVENT_LINE, record_event, &rec), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(0, PY_MONITORING_EVENT_C_RETURN, record_event, &rec), 0);
    CHECK_OK(PyMonitoring_SetEvents(0, EV(PY_START)), 0);
    uint64_t v0 = PyMonitoring_GetVersion();
    CHECK_OK(PyMonitoring_SetLocalEvents(0, with_bp, EV(LINE) | EV(CALL) | EV(C_RETURN) | EV(C_RAISE)), 0);
    CHECK_EQ_INT(PyMonitoring_GetVersion(), v0 + 1);
    CHECK_OK(PyMonitoring_SetLocalEvents(0, with_bp, EV(LINE) | EV(CALL) | EV(C_RETURN) | EV(C_RAISE)), 0);
    CHECK_EQ_INT(PyMonitoring_GetVersion(), v0 + 1); /* same set: no move */
    CHECK_OK(PyMonitoring_GetLocalEvents(0, with_bp, &got), 0);
    CHECK_EQ_INT(got, EV(LINE) | EV(CALL));

    CHECK_OK(PyMonitoring_EnterCodeScope(a, &va, events, 3, with_bp), 0);
    CHECK_OK(PyMonitoring_EnterCodeScope(b, &vb, events, 3, other), 0);
    CHECK_EQ_INT(va, PyMonitoring_GetVersion());
    CHECK_EQ_INT(a[0].active, 1);
    CHECK_EQ_INT(a[1].active, 1);
    CHECK_EQ_INT(a[2].active, 1); /* C_RETURN slot: CALL's tools */
    CHECK_EQ_INT(b[0].active, 1);
    CHECK_EQ_INT(b[1].active, 0);
    CHECK_EQ_INT(b[2].active, 0);
    /* A plain scope is the global view. */
    PyMonitoringState c[3] = {{0, 0}};
    uint64_t vc = 0;
    CHECK_OK(PyMonitoring_EnterScope(c, &vc, events, 3), 0);
    CHECK_EQ_INT(c[1].active, 0);

    CHECK_OK(PyMonitoring_FirePyStartEvent(&a[0], with_bp, 0), 0);
    CHECK_OK(PyMonitoring_FireLineEvent(&a[1], with_bp, 2, 10), 0);
    CHECK_OK(PyMonitoring_FirePyStartEvent(&b[0], other, 0), 0);
    CHECK_OK(PyMonitoring_FireLineEvent(&b[1], other, 2, 20), 0);
    CHECK_EQ_INT(rec.count, 3);
    CHECK_EVENT(&rec, 0, PY_MONITORING_EVENT_PY_START, 0, with_bp, 0, -1, PyMonitoring_MISSING, PyMonitoring_MISSING);
    CHECK_EVENT(&rec, 1, PY_MONITORING_EVENT_LINE, 0, with_bp, 2, 10, PyMonitoring_MISSING, PyMonitoring_MISSING);
    CHECK_EVENT(&rec, 2, PY_MONITORING_EVENT_PY_START, 0, other, 0, -1, PyMonitoring_MISSING, PyMonitoring_MISSING);

    /* An unchanged version reads and writes nothing. */
    a[1].active = 0x80;
    CHECK_OK(PyMonitoring_EnterCodeScope(a, &va, events, 3, with_bp), 0);
    CHECK_EQ_INT(a[1].active, 0x80);

    /* Removing the breakpoint function's LINE: the version moves and the
     * next entry drops the bit. */
    CHECK_OK(PyMonitoring_SetLocalEvents(0, with_bp, 0), 0);
    CHECK_EQ_INT(PyMonitoring_GetVersion(), v0 + 2);
    CHECK_OK(PyMonitoring_EnterCodeScope(a, &va, events, 3, with_bp), 0);
    CHECK_EQ_INT(a[1].active, 0);
    CHECK_EQ_INT(a[2].active, 0);

    /* Clear drops the local events (CPython's gh-111963). */
    CHECK_OK(PyMonitoring_SetLocalEvents(0, with_bp, EV(LINE)), 0);
    CHECK_OK(PyMonitoring_ClearToolId(0), 0);
    CHECK_OK(PyMonitoring_GetLocalEvents(0, with_bp, &got), 0);
    CHECK_EQ_INT(got, 0);
    CHECK_OK(PyMonitoring_EnterCodeScope(a, &va, events, 3, with_bp), 0);
    CHECK_EQ_INT(a[0].active, 0);
    CHECK_EQ_INT(a[1].active, 0);
    /* And so does Free. */
    CHECK_OK(PyMonitoring_SetLocalEvents(0, with_bp, EV(LINE)), 0);
    CHECK_OK(PyMonitoring_FreeToolId(0), 0);
    CHECK_OK(PyMonitoring_UseToolId(0, "dbg again"), 0);
    CHECK_OK(PyMonitoring_GetLocalEvents(0, with_bp, &got), 0);
    CHECK_EQ_INT(got, 0);
    CHECK_OK(PyMonitoring_FreeToolId(0), 0);
}

/* The legacy BRANCH expands; the BRANCH slot gets BRANCH_RIGHT's tools. */
static void branch(void) {
    PyObject *code = OBJ(4);
    uint32_t got = 0;
    const uint8_t events[3] = {PY_MONITORING_EVENT_BRANCH, PY_MONITORING_EVENT_BRANCH_LEFT,
                               PY_MONITORING_EVENT_BRANCH_RIGHT};
    PyMonitoringState st[3] = {{0, 0}};
    uint64_t v = 0;
    CHECK_OK(PyMonitoring_UseToolId(3, "cov"), 0);
    CHECK_OK(PyMonitoring_UseToolId(4, "cov2"), 0);
    CHECK_OK(PyMonitoring_SetLocalEvents(3, code, EV(BRANCH)), 0);
    CHECK_OK(PyMonitoring_GetLocalEvents(3, code, &got), 0);
    CHECK_EQ_INT(got, EV(BRANCH_LEFT) | EV(BRANCH_RIGHT));
    CHECK_OK(PyMonitoring_SetLocalEvents(4, code, EV(BRANCH_LEFT)), 0);
    CHECK_OK(PyMonitoring_EnterCodeScope(st, &v, events, 3, code), 0);
    CHECK_EQ_INT(st[0].active, 1 << 3);
    CHECK_EQ_INT(st[1].active, (1 << 3) | (1 << 4));
    CHECK_EQ_INT(st[2].active, 1 << 3);
    CHECK_OK(PyMonitoring_FreeToolId(3), 0);
    CHECK_OK(PyMonitoring_FreeToolId(4), 0);
}

/* PY_MONITORING_OPT_ACTIVE_NEEDS_CALLBACK: only tools with a callback for
 * the slot's event enter it; a registration that changes a mask moves the
 * version. */
static void active_needs_callback(void) {
    PyObject *code = OBJ(5);
    const uint8_t events[4] = {PY_MONITORING_EVENT_PY_START, PY_MONITORING_EVENT_LINE,
                               PY_MONITORING_EVENT_C_RETURN, PY_MONITORING_EVENT_BRANCH};
    PyMonitoringState st[4] = {{0, 0}};
    uint64_t v = 0;
    memset(&rec, 0, sizeof rec);
    CHECK_OK(PyMonitoring_SetOptions(PY_MONITORING_OPT_ACTIVE_NEEDS_CALLBACK), 0);
    CHECK_OK(PyMonitoring_UseToolId(1, "cov"), 0);
    CHECK_OK(PyMonitoring_SetEvents(1, EV(PY_START) | EV(CALL) | EV(C_RETURN) | EV(C_RAISE) | EV(BRANCH)), 0);
    CHECK_OK(PyMonitoring_SetLocalEvents(1, code, EV(LINE)), 0);
    CHECK_OK(PyMonitoring_EnterCodeScope(st, &v, events, 4, code), 0);
    for (int i = 0; i < 4; i++) CHECK_EQ_INT(st[i].active, 0);
    /* Firing on the (inactive) slot calls nothing. */
    CHECK_OK(PyMonitoring_FirePyStartEvent(&st[0], code, 0), 0);
    CHECK_EQ_INT(rec.count, 0);

    uint64_t v0 = PyMonitoring_GetVersion();
    CHECK_OK(PyMonitoring_RegisterCallback(1, PY_MONITORING_EVENT_PY_START, record_event, &rec), 0);
    CHECK_EQ_INT(PyMonitoring_GetVersion(), v0 + 1);
    /* Same mask again (another function for the same slot): no move. */
    CHECK_OK(PyMonitoring_RegisterCallback(1, PY_MONITORING_EVENT_PY_START, record_event, &rec), 0);
    CHECK_EQ_INT(PyMonitoring_GetVersion(), v0 + 1);
    CHECK_OK(PyMonitoring_RegisterCallback(1, PY_MONITORING_EVENT_LINE, record_event, &rec), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(1, PY_MONITORING_EVENT_CALL, record_event, &rec), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(1, PY_MONITORING_EVENT_BRANCH_LEFT, record_event, &rec), 0);
    CHECK_OK(PyMonitoring_EnterCodeScope(st, &v, events, 4, code), 0);
    CHECK_EQ_INT(st[0].active, 2);
    CHECK_EQ_INT(st[1].active, 2); /* local LINE with a LINE callback */
    CHECK_EQ_INT(st[2].active, 0); /* CALL's callback is not C_RETURN's */
    CHECK_EQ_INT(st[3].active, 0); /* BRANCH slot: BRANCH_RIGHT's callback */
    CHECK_OK(PyMonitoring_RegisterCallback(1, PY_MONITORING_EVENT_C_RETURN, record_event, &rec), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(1, PY_MONITORING_EVENT_BRANCH_RIGHT, record_event, &rec), 0);
    CHECK_OK(PyMonitoring_EnterCodeScope(st, &v, events, 4, code), 0);
    CHECK_EQ_INT(st[2].active, 2);
    CHECK_EQ_INT(st[3].active, 2);
    CHECK_OK(PyMonitoring_FirePyStartEvent(&st[0], code, 0), 0);
    CHECK_EQ_INT(rec.count, 1);
    /* Removing a callback takes the tool out at the next entry. */
    v0 = PyMonitoring_GetVersion();
    CHECK_OK(PyMonitoring_RegisterCallback(1, PY_MONITORING_EVENT_LINE, NULL, NULL), 0);
    CHECK_EQ_INT(PyMonitoring_GetVersion(), v0 + 1);
    CHECK_OK(PyMonitoring_EnterCodeScope(st, &v, events, 4, code), 0);
    CHECK_EQ_INT(st[1].active, 0);
    /* Back to the default: every tool that set the event. */
    CHECK_OK(PyMonitoring_SetOptions(0), 0);
    CHECK_OK(PyMonitoring_EnterCodeScope(st, &v, events, 4, code), 0);
    CHECK_EQ_INT(st[1].active, 2);
    v0 = PyMonitoring_GetVersion();
    CHECK_OK(PyMonitoring_RegisterCallback(1, PY_MONITORING_EVENT_LINE, record_event, &rec), 0);
    CHECK_EQ_INT(PyMonitoring_GetVersion(), v0); /* default: no move */
    CHECK_OK(PyMonitoring_FreeToolId(1), 0);
}

int main(void) {
    uint32_t options = 0;
    CHECK_OK(PyMonitoring_GetOptions(&options), 0);
    CHECK_OK(PyMonitoring_SetOptions(0), 0);
    bad_input();
    debugger();
    branch();
    active_needs_callback();
    CHECK_OK(PyMonitoring_SetOptions(options), 0);
    return harness_finish("ext_codelikes");
}
