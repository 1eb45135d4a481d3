/* The scenario tests/api_parity.rs also runs through the safe Rust API: it
 * prints every record a C callback receives, one line each, so the Rust test
 * can check that a closure callback receives exactly the same records.
 * Objects print as their OBJ() index, the sentinel as MISSING. */
#include "harness.h"

static Recording rec;

static void print_object(PyObject *obj) {
    if (obj == PyMonitoring_MISSING) {
        printf(" MISSING");
    } else {
        printf(" %d", (int)((char *)(void *)obj - harness_objects));
    }
}

/* Records like record_event; DISABLE for line 11. */
static int on_event(void *data, const PyMonitoringEvent *ev) {
    record_event(data, ev);
    return ev->event == PY_MONITORING_EVENT_LINE && ev->lineno == 11 ? PY_MONITORING_DISABLE : 0;
}

enum { S_START, S_LINE, S_CALL, S_C_RETURN, S_BRANCH_LEFT, S_BRANCH_RIGHT, S_STOP,
       S_RAISE, S_HANDLED, S_UNWIND, S_RETURN, S_JUMP, S_COUNT };

int main(void) {
    const int tool = 2;
    const int events[] = {PY_MONITORING_EVENT_PY_START, PY_MONITORING_EVENT_LINE,
                          PY_MONITORING_EVENT_CALL, PY_MONITORING_EVENT_C_RETURN,
                          PY_MONITORING_EVENT_BRANCH, PY_MONITORING_EVENT_STOP_ITERATION,
                          PY_MONITORING_EVENT_RAISE, PY_MONITORING_EVENT_EXCEPTION_HANDLED,
                          PY_MONITORING_EVENT_PY_UNWIND, PY_MONITORING_EVENT_PY_RETURN};
    const uint8_t slots[S_COUNT] = {
        PY_MONITORING_EVENT_PY_START, PY_MONITORING_EVENT_LINE,
        PY_MONITORING_EVENT_CALL, PY_MONITORING_EVENT_C_RETURN,
        PY_MONITORING_EVENT_BRANCH_LEFT, PY_MONITORING_EVENT_BRANCH_RIGHT,
        PY_MONITORING_EVENT_STOP_ITERATION, PY_MONITORING_EVENT_RAISE,
        PY_MONITORING_EVENT_EXCEPTION_HANDLED, PY_MONITORING_EVENT_PY_UNWIND,
        PY_MONITORING_EVENT_PY_RETURN, PY_MONITORING_EVENT_JUMP};
    PyMonitoringState st[S_COUNT];
    uint64_t version = 0;
    uint32_t set = 0;
    PyObject *code = OBJ(1);
    size_t i;

    memset(st, 0, sizeof st);
    CHECK_OK(PyMonitoring_UseToolId(tool, "parity"), 0);
    for (i = 0; i < sizeof events / sizeof events[0]; i++) {
        CHECK_OK(PyMonitoring_RegisterCallback(tool, events[i], on_event, &rec), 0);
        set |= 1u << events[i];
    }
    /* C_RETURN needs CALL and C_RAISE with it; JUMP is set but has no
     * callback, so its fire delivers nothing. */
    set |= (1u << PY_MONITORING_EVENT_C_RAISE) | (1u << PY_MONITORING_EVENT_JUMP);
    CHECK_OK(PyMonitoring_SetEvents(tool, set), 0);
    CHECK_OK(PyMonitoring_EnterScope(st, &version, slots, S_COUNT), 0);

    CHECK_OK(PyMonitoring_FirePyStartEvent(&st[S_START], code, 7), 0);
    CHECK_OK(PyMonitoring_FireLineEvent(&st[S_LINE], code, 1, 10), 0);
    CHECK_OK(PyMonitoring_FireCallEvent(&st[S_CALL], code, 2, OBJ(3), OBJ(4)), 0);
    CHECK_OK(PyMonitoring_FireCallEvent(&st[S_CALL], code, 2, OBJ(3), NULL), 0);
    CHECK_OK(PyMonitoring_FireCReturnEvent(&st[S_C_RETURN], code, 2, OBJ(5)), 0);
    CHECK_OK(PyMonitoring_FireJumpEvent(&st[S_JUMP], code, 2, OBJ(6)), 0);
    CHECK_OK(PyMonitoring_FireBranchLeftEvent(&st[S_BRANCH_LEFT], code, 3, OBJ(6)), 0);
    CHECK_OK(PyMonitoring_FireBranchRightEvent(&st[S_BRANCH_RIGHT], code, 3, OBJ(7)), 0);
    CHECK_OK(PyMonitoring_FireStopIterationEvent(&st[S_STOP], code, 4, OBJ(8)), 0);
    PyMonitoring_SetRaisedException(OBJ(9));
    /* On success the exception stays current (so not CHECK_OK). */
    CHECK_EQ_INT(PyMonitoring_FireRaiseEvent(&st[S_RAISE], code, 5), 0);
    CHECK_EQ_INT(PyMonitoring_FireExceptionHandledEvent(&st[S_HANDLED], code, 6), 0);
    CHECK_EQ_INT(PyMonitoring_FirePyUnwindEvent(&st[S_UNWIND], code, 7), 0);
    CHECK(PyMonitoring_GetRaisedException() == OBJ(9));
    CHECK_OK(PyMonitoring_FireLineEvent(&st[S_LINE], code, 8, 11), 0); /* DISABLE */
    CHECK_OK(PyMonitoring_FireLineEvent(&st[S_LINE], code, 9, 12), 0); /* not delivered */
    CHECK_OK(PyMonitoring_FirePyReturnEvent(&st[S_RETURN], code, 10, OBJ(10)), 0);
    CHECK_OK(PyMonitoring_FirePyReturnEvent(&st[S_RETURN], OBJ(2), 11, NULL), 0);
    CHECK_OK(PyMonitoring_ExitScope(), 0);

    for (i = 0; i < (size_t)rec.count; i++) {
        const PyMonitoringEvent *ev = &rec.events[i];
        printf("%d %d", ev->event, ev->tool_id);
        print_object(ev->codelike);
        printf(" %d %d", ev->offset, ev->lineno);
        print_object(ev->arg0);
        print_object(ev->arg1);
        printf("\n");
    }
    CHECK_OK(PyMonitoring_FreeToolId(tool), 0);
    return harness_finish("rust_api_parity") ? 1 : 0;
}
