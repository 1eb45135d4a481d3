/* The firing rules of docs/BEHAVIOUR.md, "Firing" through the C API, one by one: tool order
 * (most significant bit first), empty callback slots keep their bit, an
 * error stops the walk, -1 without an error, success with an error left
 * behind, other return values ignored, DISABLE from local events clears the
 * bit (until a refresh), DISABLE from other events is an error that removes
 * the callback, exception events and errors, C_RETURN/C_RAISE/BRANCH slots,
 * nested fires not delivered, registry changes from inside a callback.
 * Fires go through PyMonitoring_Fire*Event (the exported functions, or the
 * inline wrappers with PYMONITORING_INLINE) unless a rule is about the
 * underscore entry points. */
#include <limits.h>

#include "api_util.h"

static Tool T[6];
#define CODE OBJ(1)
#define EXC OBJ(20)

/* Claim `mask`'s tools, give each a recording callback for `event` (or none
 * when its bit is in `no_cb`), set `set` as their events, and enter `n`
 * slots of `slot_event`. */
static void setup(int mask, int no_cb, int event, uint32_t set, PyMonitoringState *states,
                  int n, int slot_event) {
    free_all_tools();
    log_reset();
    for (int t = 0; t <= 5; t++) {
        tool_reset(&T[t]);
        if (!(mask & (1 << t))) {
            continue;
        }
        CHECK_OK(PyMonitoring_UseToolId(t, "tool"), 0);
        if (!(no_cb & (1 << t))) {
            CHECK_OK(PyMonitoring_RegisterCallback(t, event, tool_callback, &T[t]), 0);
        }
        CHECK_OK(PyMonitoring_SetEvents(t, set), 0);
    }
    uint64_t version = UINT64_MAX;
    uint8_t ids[8];
    for (int i = 0; i < n; i++) {
        ids[i] = (uint8_t)slot_event;
        states[i].opaque = 0;
    }
    CHECK_OK(PyMonitoring_EnterScope(states, &version, ids, n), 0);
}

static int start(PyMonitoringState *s) { return PyMonitoring_FirePyStartEvent(s, CODE, 0); }

static void tool_order(void) {
    PyMonitoringState s;
    setup(0x3F, 0, PY_MONITORING_EVENT_PY_START, 1, &s, 1, PY_MONITORING_EVENT_PY_START);
    CHECK_EQ_INT(s.active, 0x3F);
    CHECK_OK(start(&s), 0);
    CHECK_EQ_INT(log_tools(), 543210);
    /* Tools 2, 3, 4 only: 4, 3, 2. */
    setup(0x1C, 0, PY_MONITORING_EVENT_PY_START, 1, &s, 1, PY_MONITORING_EVENT_PY_START);
    CHECK_OK(start(&s), 0);
    CHECK_EQ_INT(log_tools(), 432);
    /* Any bit pattern the caller writes is walked the same way; bits 6
     * and 7 (reserved tools, never claimed) have no callbacks and stay. */
    setup(0x3F, 0, PY_MONITORING_EVENT_PY_START, 1, &s, 1, PY_MONITORING_EVENT_PY_START);
    s.active = 0xE5;
    CHECK_OK(start(&s), 0);
    CHECK_EQ_INT(log_tools(), 520);
    CHECK_EQ_INT(s.active, 0xE5);
    s.active = 0xC0;
    log_reset();
    CHECK_OK(start(&s), 0);
    CHECK_EQ_INT(api_log.count, 0);
    CHECK_EQ_INT(s.active, 0xC0);
}

static void empty_slots_keep_their_bit(void) {
    PyMonitoringState s;
    /* Tools 5, 4, 1 have the event; 4 has no callback. */
    setup(0x32, 0x10, PY_MONITORING_EVENT_PY_START, 1, &s, 1, PY_MONITORING_EVENT_PY_START);
    CHECK_EQ_INT(s.active, 0x32);
    for (int i = 0; i < 3; i++) {
        log_reset();
        CHECK_OK(start(&s), 0);
        CHECK_EQ_INT(log_tools(), 51);
        CHECK_EQ_INT(s.active, 0x32);
    }
    /* Callback removed from tool 5: its bit stays too. */
    CHECK_OK(PyMonitoring_RegisterCallback(5, PY_MONITORING_EVENT_PY_START, NULL, NULL), 0);
    log_reset();
    CHECK_OK(start(&s), 0);
    CHECK_EQ_INT(log_tools(), 1);
    CHECK_EQ_INT(s.active, 0x32);
}

static void errors_stop_the_walk(void) {
    PyMonitoringState s;
    setup(0x31, 0, PY_MONITORING_EVENT_PY_START, 1, &s, 1, PY_MONITORING_EVENT_PY_START);
    /* A library error. */
    T[4].answer = -1;
    T[4].err_kind = PY_MONITORING_ERR_RUNTIME;
    T[4].err_msg = "boom";
    CHECK_ERROR(start(&s), PY_MONITORING_ERR_RUNTIME, "boom");
    CHECK_EQ_INT(log_tools(), 54);
    CHECK_EQ_INT(T[0].calls, 0);
    CHECK_EQ_INT(s.active, 0x31);
    /* A ValueError, through the underscore entry point. */
    log_reset();
    T[4].err_kind = PY_MONITORING_ERR_VALUE;
    T[4].err_msg = "bad";
    CHECK_ERROR(_PyMonitoring_FirePyStartEvent(&s, CODE, 0), PY_MONITORING_ERR_VALUE, "bad");
    CHECK_EQ_INT(log_tools(), 54);
    /* A host exception. */
    log_reset();
    T[4].err_kind = 0;
    T[4].raise = OBJ(30);
    CHECK_EQ_INT(start(&s), -1);
    CHECK_EQ_INT(PyMonitoring_ErrKind(), PY_MONITORING_ERR_HOST);
    CHECK(PyMonitoring_GetRaisedException() == OBJ(30));
    CHECK_EQ_INT(log_tools(), 54);
    /* The callback's error replaces what was pending before the fire. */
    log_reset();
    CHECK_EQ_INT(PyMonitoring_ErrSetString(PY_MONITORING_ERR_VALUE, "pending"), 0);
    T[4].raise = NULL;
    T[4].err_kind = PY_MONITORING_ERR_RUNTIME;
    T[4].err_msg = "boom";
    CHECK_ERROR(start(&s), PY_MONITORING_ERR_RUNTIME, "boom");
    CHECK_EQ_INT(PyMonitoring_ErrOccurred(), 0);
    /* The highest tool failing: nobody else called. */
    log_reset();
    tool_reset(&T[4]);
    T[5].answer = -1;
    T[5].err_kind = PY_MONITORING_ERR_RUNTIME;
    T[5].err_msg = "first";
    CHECK_ERROR(start(&s), PY_MONITORING_ERR_RUNTIME, "first");
    CHECK_EQ_INT(log_tools(), 5);
    /* Once the callback stops failing everything is delivered again. */
    tool_reset(&T[5]);
    log_reset();
    CHECK_OK(start(&s), 0);
    CHECK_EQ_INT(log_tools(), 540);
}

static void minus_one_without_an_error(void) {
    PyMonitoringState s;
    setup(0x11, 0, PY_MONITORING_EVENT_PY_START, 1, &s, 1, PY_MONITORING_EVENT_PY_START);
    T[4].answer = -1;
    CHECK_ERROR(start(&s), PY_MONITORING_ERR_RUNTIME,
                "callback of tool 4 for PY_START returned -1 without setting an error");
    CHECK_EQ_INT(log_tools(), 4);
    /* The event's CPython name, for an ancillary and the legacy event. */
    setup(0x04, 0, PY_MONITORING_EVENT_C_RETURN, set_for_slot(PY_MONITORING_EVENT_C_RETURN), &s,
          1, PY_MONITORING_EVENT_C_RETURN);
    T[2].answer = -1;
    CHECK_ERROR(PyMonitoring_FireCReturnEvent(&s, CODE, 3, OBJ(5)), PY_MONITORING_ERR_RUNTIME,
                "callback of tool 2 for C_RETURN returned -1 without setting an error");
    setup(0x08, 0, PY_MONITORING_EVENT_BRANCH, 1u << PY_MONITORING_EVENT_BRANCH, &s, 1,
          PY_MONITORING_EVENT_BRANCH);
    T[3].answer = -1;
    CHECK_ERROR(_PyMonitoring_FireBranchEvent(&s, CODE, 3, OBJ(5)), PY_MONITORING_ERR_RUNTIME,
                "callback of tool 3 for BRANCH_RIGHT returned -1 without setting an error");
    /* An exception event: the exception is replaced by the RuntimeError. */
    setup(0x01, 0, PY_MONITORING_EVENT_RAISE, 1u << PY_MONITORING_EVENT_RAISE, &s, 1,
          PY_MONITORING_EVENT_RAISE);
    T[0].answer = -1;
    PyMonitoring_SetRaisedException(EXC);
    CHECK_ERROR(PyMonitoring_FireRaiseEvent(&s, CODE, 3), PY_MONITORING_ERR_RUNTIME,
                "callback of tool 0 for RAISE returned -1 without setting an error");
    CHECK(PyMonitoring_GetRaisedException() == NULL);
}

static void set_and_clear_hook(Tool *self, const PyMonitoringEvent *ev) {
    (void)ev;
    PyMonitoring_ErrSetString(PY_MONITORING_ERR_VALUE, "transient");
    self->hook_rc = PyMonitoring_ErrOccurred();
    PyMonitoring_ErrClear();
}

static void success_with_an_error_left_is_a_failure(void) {
    PyMonitoringState s;
    setup(0x31, 0, PY_MONITORING_EVENT_PY_START, 1, &s, 1, PY_MONITORING_EVENT_PY_START);
    T[4].answer = 0;
    T[4].err_kind = PY_MONITORING_ERR_VALUE;
    T[4].err_msg = "left behind";
    CHECK_ERROR(start(&s), PY_MONITORING_ERR_VALUE, "left behind");
    CHECK_EQ_INT(log_tools(), 54);
    /* Even with DISABLE: it failed, so the bit is not cleared. */
    log_reset();
    T[4].answer = PY_MONITORING_DISABLE;
    CHECK_ERROR(start(&s), PY_MONITORING_ERR_VALUE, "left behind");
    CHECK_EQ_INT(log_tools(), 54);
    CHECK_EQ_INT(s.active, 0x31);
    /* A host exception left behind. */
    log_reset();
    T[4].err_kind = 0;
    T[4].answer = 0;
    T[4].raise = OBJ(31);
    CHECK_EQ_INT(start(&s), -1);
    CHECK(PyMonitoring_GetRaisedException() == OBJ(31));
    CHECK_EQ_INT(log_tools(), 54);
    /* A callback that sets and clears an error itself succeeded. */
    tool_reset(&T[4]);
    T[4].hook = set_and_clear_hook;
    log_reset();
    CHECK_OK(start(&s), 0);
    CHECK_EQ_INT(log_tools(), 540);
    CHECK_EQ_INT(T[4].hook_rc, 1);
}

static void other_return_values_are_ignored(void) {
    PyMonitoringState s;
    setup(0x31, 0, PY_MONITORING_EVENT_PY_START, 1, &s, 1, PY_MONITORING_EVENT_PY_START);
    const int answers[] = {2, 42, -2, INT_MAX, INT_MIN};
    for (int i = 0; i < 5; i++) {
        log_reset();
        T[5].answer = T[4].answer = T[0].answer = answers[i];
        CHECK_OK(start(&s), 0);
        CHECK_EQ_INT(log_tools(), 540);
        CHECK_EQ_INT(s.active, 0x31);
    }
}

static void disable_local_events(void) {
    /* Every local event with a fire function, and the legacy BRANCH. */
    for (int i = 0; i < N_FIRE_CASES; i++) {
        const FireCase *c = &FIRE_CASES[i];
        if (!is_local(c->event)) {
            continue;
        }
        FireFn fn = c->plain ? c->plain : c->under;
        PyMonitoringState s[2];
        int reg = c->slot_event;
        /* Tools 5, 3 and 0; 3 has no callback. */
        setup(0x29, 0x08, reg, set_for_slot(c->slot_event), s, 2, c->slot_event);
        CCHECK_EQ(c, s[0].active, 0x29);
        T[5].answer = PY_MONITORING_DISABLE;
        log_reset();
        CCHECK_OK(c, fn(&s[0], CODE, 0, OBJ(2), OBJ(3), 1), 0);
        /* The walk went on; tool 5's bit is cleared in this slot only. */
        CCHECK_EQ(c, log_tools(), 50);
        CCHECK_EQ(c, s[0].active, 0x09);
        CCHECK_EQ(c, s[1].active, 0x29);
        /* The callback stays registered. */
        PyMonitoringCallback f = NULL;
        CCHECK_OK(c, PyMonitoring_GetCallback(5, c->event, &f, NULL), 0);
        CCHECK(c, f == tool_callback);
        /* Later fires skip tool 5 at this slot, not at the other one. */
        log_reset();
        CCHECK_OK(c, fn(&s[0], CODE, 0, OBJ(2), OBJ(3), 1), 0);
        CCHECK_EQ(c, log_tools(), 0);
        log_reset();
        CCHECK_OK(c, fn(&s[1], CODE, 0, OBJ(2), OBJ(3), 1), 0);
        CCHECK_EQ(c, log_tools(), 50);
        CCHECK_EQ(c, s[1].active, 0x09);
        /* A same-version EnterScope keeps the DISABLE. */
        uint64_t version = PyMonitoring_GetVersion();
        uint8_t ids[2] = {(uint8_t)c->slot_event, (uint8_t)c->slot_event};
        CCHECK_OK(c, PyMonitoring_EnterScope(s, &version, ids, 2), 0);
        CCHECK_EQ(c, s[0].active, 0x09);
        /* RestartEvents, then the next refresh, bring it back. */
        CCHECK_OK(c, PyMonitoring_RestartEvents(), 0);
        CCHECK_OK(c, PyMonitoring_EnterScope(s, &version, ids, 2), 0);
        CCHECK_EQ(c, s[0].active, 0x29);
        CCHECK_EQ(c, s[1].active, 0x29);
        /* So does any other version change (an unrelated tool's events). */
        log_reset();
        CCHECK_OK(c, fn(&s[0], CODE, 0, OBJ(2), OBJ(3), 1), 0);
        CCHECK_EQ(c, s[0].active, 0x09);
        CCHECK_OK(c, PyMonitoring_UseToolId(2, "unrelated"), 0);
        CCHECK_OK(c, PyMonitoring_SetEvents(2, 1u << PY_MONITORING_EVENT_INSTRUCTION), 0);
        CCHECK_OK(c, PyMonitoring_EnterScope(s, &version, ids, 2), 0);
        CCHECK_EQ(c, s[0].active, 0x29);
        /* DISABLE from every tool empties the slot. */
        T[0].answer = PY_MONITORING_DISABLE;
        log_reset();
        CCHECK_OK(c, fn(&s[0], CODE, 0, OBJ(2), OBJ(3), 1), 0);
        CCHECK_EQ(c, log_tools(), 50);
        CCHECK_EQ(c, s[0].active, 0x08); /* tool 3 never answered */
        /* DISABLE then an error from a lower tool: the bit is cleared and
         * the fire fails. */
        CCHECK_OK(c, PyMonitoring_RestartEvents(), 0);
        CCHECK_OK(c, PyMonitoring_EnterScope(s, &version, ids, 2), 0);
        T[0].answer = -1;
        T[0].err_kind = PY_MONITORING_ERR_RUNTIME;
        T[0].err_msg = "after disable";
        CCHECK_ERROR(c, fn(&s[0], CODE, 0, OBJ(2), OBJ(3), 1), PY_MONITORING_ERR_RUNTIME,
                     "after disable");
        CCHECK_EQ(c, s[0].active, 0x09);
    }
}

static void disable_other_events(void) {
    for (int i = 0; i < N_FIRE_CASES; i++) {
        const FireCase *c = &FIRE_CASES[i];
        if (is_local(c->event)) {
            continue;
        }
        PyMonitoringState s;
        setup(0x29, 0x08, c->event, set_for_slot(c->event), &s, 1, c->event);
        T[5].answer = PY_MONITORING_DISABLE;
        uint64_t version = PyMonitoring_GetVersion();
        char msg[80];
        snprintf(msg, sizeof msg, "Cannot disable %s events. Callback removed.", c->ev_name);
        /* The exception (if any) is dropped for the ValueError. */
        PyMonitoring_SetRaisedException(EXC);
        CCHECK_ERROR(c, c->plain(&s, CODE, 0, OBJ(2), NULL, 1), PY_MONITORING_ERR_VALUE, msg);
        CCHECK(c, PyMonitoring_GetRaisedException() == NULL);
        /* Lower tools were not called; slot, events and version unchanged. */
        CCHECK_EQ(c, log_tools(), 5);
        CCHECK_EQ(c, s.active, 0x29);
        CCHECK_EQ(c, PyMonitoring_GetVersion(), version);
        uint32_t set = 0;
        CCHECK_OK(c, PyMonitoring_GetEvents(5, &set), 0);
        CCHECK_EQ(c, set, set_for_slot(c->event) & ~((1u << PY_MONITORING_EVENT_C_RETURN) |
                                                      (1u << PY_MONITORING_EVENT_C_RAISE)));
        /* Tool 5's callback is removed; tool 0's is not. */
        PyMonitoringCallback f = tool_callback;
        void *d = &T[5];
        CCHECK_OK(c, PyMonitoring_GetCallback(5, c->event, &f, &d), 0);
        CCHECK(c, f == NULL && d == NULL);
        CCHECK_OK(c, PyMonitoring_GetCallback(0, c->event, &f, &d), 0);
        CCHECK(c, f == tool_callback && d == &T[0]);
        /* The next fire reaches tool 0 only, and succeeds. */
        log_reset();
        PyMonitoring_SetRaisedException(EXC);
        CCHECK_EQ(c, c->under(&s, CODE, 0, OBJ(2), NULL, 1), 0);
        CCHECK_EQ(c, PyMonitoring_ErrKind(), PY_MONITORING_ERR_HOST);
        CCHECK(c, PyMonitoring_GetRaisedException() == EXC);
        CCHECK_EQ(c, log_tools(), 0);
        CCHECK_EQ(c, api_log.count, 1);
        /* Tool 0 answering DISABLE is removed the same way. */
        T[0].answer = PY_MONITORING_DISABLE;
        log_reset();
        PyMonitoring_SetRaisedException(EXC);
        CCHECK_ERROR(c, c->under(&s, CODE, 0, OBJ(2), NULL, 1), PY_MONITORING_ERR_VALUE, msg);
        CCHECK_OK(c, PyMonitoring_GetCallback(0, c->event, &f, &d), 0);
        CCHECK(c, f == NULL);
        CCHECK_EQ(c, api_log.count, 1);
    }
}

static void exception_events(void) {
    PyMonitoringState s;
    setup(0x21, 0, PY_MONITORING_EVENT_PY_UNWIND, 1u << PY_MONITORING_EVENT_PY_UNWIND, &s, 1,
          PY_MONITORING_EVENT_PY_UNWIND);
    /* Success: the same exception is current again, whatever the callbacks
     * did with the indicator in between (they start with it clear). */
    PyMonitoring_SetRaisedException(EXC);
    CHECK_EQ_INT(PyMonitoring_FirePyUnwindEvent(&s, CODE, 9), 0);
    CHECK(PyMonitoring_GetRaisedException() == EXC);
    CHECK_EQ_INT(PyMonitoring_ErrOccurred(), 0);
    CHECK_EQ_INT(T[5].saw_pending + T[0].saw_pending, 0);
    CHECK(api_log.events[0].arg0 == EXC && api_log.events[1].arg0 == EXC);
    /* Failure: the callback's exception replaces it. */
    log_reset();
    T[5].answer = -1;
    T[5].raise = OBJ(21);
    PyMonitoring_SetRaisedException(EXC);
    CHECK_EQ_INT(PyMonitoring_FirePyUnwindEvent(&s, CODE, 9), -1);
    CHECK(PyMonitoring_GetRaisedException() == OBJ(21));
    CHECK_EQ_INT(log_tools(), 5);
    /* The "no exception" check happens before anything else but the
     * pointers, and calls nobody. */
    log_reset();
    tool_reset(&T[5]);
    CHECK_ERROR(PyMonitoring_FirePyUnwindEvent(&s, CODE, -5), PY_MONITORING_ERR_VALUE,
                "Firing event 13 with no exception set");
    CHECK_EQ_INT(api_log.count, 0);
    /* STOP_ITERATION is not an exception event: its value is delivered as
     * given and nothing is left pending. */
    setup(0x01, 0, PY_MONITORING_EVENT_STOP_ITERATION, 1u << PY_MONITORING_EVENT_STOP_ITERATION,
          &s, 1, PY_MONITORING_EVENT_STOP_ITERATION);
    CHECK_OK(PyMonitoring_FireStopIterationEvent(&s, CODE, 4, OBJ(22)), 0);
    CHECK(api_log.events[0].arg0 == OBJ(22));
    CHECK_EQ_INT(PyMonitoring_ErrOccurred(), 0);
}

static void ancillary_and_branch_slots(void) {
    /* C_RETURN and C_RAISE slots get CALL's tools; the callbacks called are
     * the tools' C_RETURN / C_RAISE callbacks. */
    PyMonitoringState s[3];
    setup(0x06, 0, PY_MONITORING_EVENT_C_RETURN, set_for_slot(PY_MONITORING_EVENT_C_RETURN), s,
          1, PY_MONITORING_EVENT_C_RETURN);
    CHECK_OK(PyMonitoring_RegisterCallback(2, PY_MONITORING_EVENT_C_RAISE, tool_callback, &T[2]),
             0);
    uint64_t version = UINT64_MAX;
    uint8_t ids[3] = {PY_MONITORING_EVENT_CALL, PY_MONITORING_EVENT_C_RETURN,
                      PY_MONITORING_EVENT_C_RAISE};
    CHECK_OK(PyMonitoring_EnterScope(s, &version, ids, 3), 0);
    CHECK_EQ_INT(s[0].active, 0x06);
    CHECK_EQ_INT(s[1].active, 0x06);
    CHECK_EQ_INT(s[2].active, 0x06);
    log_reset();
    CHECK_OK(PyMonitoring_FireCallEvent(&s[0], CODE, 1, OBJ(2), OBJ(3)), 0);
    CHECK_EQ_INT(api_log.count, 0); /* no CALL callbacks registered */
    CHECK_OK(PyMonitoring_FireCReturnEvent(&s[1], CODE, 1, OBJ(2)), 0);
    CHECK_EQ_INT(log_tools(), 21);
    CHECK_EQ_INT(api_log.events[0].event, PY_MONITORING_EVENT_C_RETURN);
    log_reset();
    PyMonitoring_SetRaisedException(EXC);
    CHECK_EQ_INT(PyMonitoring_FireCRaiseEvent(&s[2], CODE, 1), 0);
    CHECK(PyMonitoring_GetRaisedException() == EXC);
    CHECK_EQ_INT(log_tools(), 2); /* only tool 2 has a C_RAISE callback */
    CHECK_EQ_INT(api_log.events[0].event, PY_MONITORING_EVENT_C_RAISE);

    /* BRANCH slots get BRANCH_RIGHT's tools: tool 4 wants BRANCH_LEFT
     * only, tool 1 BRANCH_RIGHT only, tool 3 both. */
    free_all_tools();
    log_reset();
    int tools[3] = {4, 1, 3};
    uint32_t sets[3] = {1u << PY_MONITORING_EVENT_BRANCH_LEFT,
                        1u << PY_MONITORING_EVENT_BRANCH_RIGHT,
                        1u << PY_MONITORING_EVENT_BRANCH};
    for (int i = 0; i < 3; i++) {
        tool_reset(&T[tools[i]]);
        CHECK_OK(PyMonitoring_UseToolId(tools[i], "b"), 0);
        CHECK_OK(PyMonitoring_SetEvents(tools[i], sets[i]), 0);
        CHECK_OK(PyMonitoring_RegisterCallback(tools[i], PY_MONITORING_EVENT_BRANCH, tool_callback,
                                               &T[tools[i]]),
                 0);
    }
    uint8_t bids[3] = {PY_MONITORING_EVENT_BRANCH_LEFT, PY_MONITORING_EVENT_BRANCH_RIGHT,
                       PY_MONITORING_EVENT_BRANCH};
    version = UINT64_MAX;
    CHECK_OK(PyMonitoring_EnterScope(s, &version, bids, 3), 0);
    CHECK_EQ_INT(s[0].active, 0x18);
    CHECK_EQ_INT(s[1].active, 0x0A);
    CHECK_EQ_INT(s[2].active, 0x0A);
    CHECK_OK(_PyMonitoring_FireBranchEvent(&s[2], CODE, 6, OBJ(9)), 0);
    CHECK_EQ_INT(log_tools(), 31);
    CHECK_EQ_INT(api_log.events[0].event, PY_MONITORING_EVENT_BRANCH_RIGHT);
    CHECK_EQ_INT(api_log.events[1].event, PY_MONITORING_EVENT_BRANCH_RIGHT);
    log_reset();
    CHECK_OK(PyMonitoring_FireBranchLeftEvent(&s[0], CODE, 6, OBJ(9)), 0);
    CHECK_EQ_INT(log_tools(), 43);
    CHECK_EQ_INT(api_log.events[0].event, PY_MONITORING_EVENT_BRANCH_LEFT);
}

/* --- nested fires and registry calls from inside a callback --- */

static PyMonitoringState inner_states[2];

static void nested_fire_hook(Tool *self, const PyMonitoringEvent *ev) {
    (void)ev;
    int rc = 0;
    /* Another active slot, the slot being fired, both entry points, and
     * calls that would fail outside a callback: none is delivered, all
     * return 0 and leave no error. */
    rc |= PyMonitoring_FirePyReturnEvent(&inner_states[0], CODE, 1, OBJ(2));
    rc |= _PyMonitoring_FirePyReturnEvent(&inner_states[0], CODE, 1, OBJ(2));
    rc |= PyMonitoring_FirePyStartEvent(&inner_states[1], CODE, 1);
    rc |= _PyMonitoring_FirePyStartEvent(&inner_states[1], CODE, -1);
    rc |= _PyMonitoring_FireRaiseEvent(&inner_states[1], CODE, 1);
    rc |= PyMonitoring_ErrOccurred();
    self->hook_rc = rc;
}

static void nested_fires_are_not_delivered(void) {
    setup(0x05, 0, PY_MONITORING_EVENT_PY_START,
          (1u << PY_MONITORING_EVENT_PY_START) | (1u << PY_MONITORING_EVENT_PY_RETURN),
          inner_states, 1, PY_MONITORING_EVENT_PY_RETURN);
    CHECK_OK(PyMonitoring_RegisterCallback(2, PY_MONITORING_EVENT_PY_RETURN, tool_callback, &T[2]),
             0);
    CHECK_OK(PyMonitoring_RegisterCallback(0, PY_MONITORING_EVENT_PY_RETURN, tool_callback, &T[0]),
             0);
    CHECK_OK(PyMonitoring_RegisterCallback(0, PY_MONITORING_EVENT_RAISE, tool_callback, &T[0]), 0);
    CHECK_EQ_INT(inner_states[0].active, 0x05);
    inner_states[1].active = 0x05;
    T[2].hook = nested_fire_hook;
    T[2].hook_rc = -99;
    log_reset();
    CHECK_OK(PyMonitoring_FirePyStartEvent(&inner_states[1], CODE, 0), 0);
    CHECK_EQ_INT(T[2].hook_rc, 0);
    CHECK_EQ_INT(log_tools(), 20); /* the outer PY_START only */
    CHECK_EQ_INT(api_log.events[0].event, PY_MONITORING_EVENT_PY_START);
    CHECK_EQ_INT(api_log.events[1].event, PY_MONITORING_EVENT_PY_START);
    CHECK_EQ_INT(inner_states[0].active, 0x05);
    CHECK_EQ_INT(inner_states[1].active, 0x05);
    /* Outside the callback the same fires are delivered again. */
    T[2].hook = NULL;
    log_reset();
    CHECK_OK(PyMonitoring_FirePyReturnEvent(&inner_states[0], CODE, 1, OBJ(2)), 0);
    CHECK_EQ_INT(log_tools(), 20);
    CHECK_EQ_INT(api_log.events[0].event, PY_MONITORING_EVENT_PY_RETURN);
    /* And after a failed outer fire too. */
    T[2].answer = -1;
    T[2].hook = nested_fire_hook;
    CHECK_ERROR(PyMonitoring_FirePyStartEvent(&inner_states[1], CODE, 0),
                PY_MONITORING_ERR_RUNTIME,
                "callback of tool 2 for PY_START returned -1 without setting an error");
    T[2].hook = NULL;
    T[2].answer = 0;
    log_reset();
    CHECK_OK(PyMonitoring_FirePyReturnEvent(&inner_states[0], CODE, 1, OBJ(2)), 0);
    CHECK_EQ_INT(log_tools(), 20);
}

static void remove_tool0_hook(Tool *self, const PyMonitoringEvent *ev) {
    self->hook_rc = PyMonitoring_RegisterCallback(0, ev->event, NULL, NULL);
}

static void set_events_hook(Tool *self, const PyMonitoringEvent *ev) {
    (void)ev;
    self->hook_rc = PyMonitoring_SetEvents(0, 0) | PyMonitoring_RestartEvents();
}

static void wait_hook(Tool *self, const PyMonitoringEvent *ev) {
    (void)ev;
    self->hook_rc = PyMonitoring_WaitForCallbacks();
}

static void scope_hook(Tool *self, const PyMonitoringEvent *ev) {
    (void)ev;
    PyMonitoringState inner;
    uint64_t version = UINT64_MAX;
    uint8_t id = PY_MONITORING_EVENT_PY_START;
    self->hook_rc = PyMonitoring_EnterScope(&inner, &version, &id, 1) | PyMonitoring_ExitScope();
    self->hook_rc |= inner.active != 0x21;
}

static void free_self_hook(Tool *self, const PyMonitoringEvent *ev) {
    self->hook_rc = PyMonitoring_FreeToolId(ev->tool_id);
}

static void registry_calls_from_a_callback(void) {
    PyMonitoringState s;
    /* Removing a lower tool's callback: it is not called in this walk. */
    setup(0x21, 0, PY_MONITORING_EVENT_PY_START, 1, &s, 1, PY_MONITORING_EVENT_PY_START);
    T[5].hook = remove_tool0_hook;
    T[5].hook_rc = -99;
    CHECK_OK(start(&s), 0);
    CHECK_EQ_INT(T[5].hook_rc, 0);
    CHECK_EQ_INT(log_tools(), 5);
    CHECK_EQ_INT(s.active, 0x21);
    /* Changing events and restarting: the slot being fired is not
     * refreshed, so tool 0 is still called; the next EnterScope sees it. */
    setup(0x21, 0, PY_MONITORING_EVENT_PY_START, 1, &s, 1, PY_MONITORING_EVENT_PY_START);
    T[5].hook = set_events_hook;
    T[5].hook_rc = -99;
    CHECK_OK(start(&s), 0);
    CHECK_EQ_INT(T[5].hook_rc, 0);
    CHECK_EQ_INT(log_tools(), 50);
    CHECK_EQ_INT(s.active, 0x21);
    T[5].hook = NULL;
    CHECK_OK(enter_one(&s, PY_MONITORING_EVENT_PY_START), 0);
    CHECK_EQ_INT(s.active, 0x20);
    /* WaitForCallbacks from inside a callback does not wait for itself. */
    setup(0x21, 0, PY_MONITORING_EVENT_PY_START, 1, &s, 1, PY_MONITORING_EVENT_PY_START);
    T[0].hook = wait_hook;
    T[0].hook_rc = -99;
    CHECK_OK(start(&s), 0);
    CHECK_EQ_INT(T[0].hook_rc, 0);
    CHECK_EQ_INT(log_tools(), 50);
    /* EnterScope/ExitScope work inside a callback. */
    T[0].hook = scope_hook;
    T[0].hook_rc = -99;
    log_reset();
    CHECK_OK(start(&s), 0);
    CHECK_EQ_INT(T[0].hook_rc, 0);
    /* A tool freeing itself from its own callback: the walk goes on; the
     * slot keeps its bits until refreshed, but tool 5 has no callback. */
    setup(0x21, 0, PY_MONITORING_EVENT_PY_START, 1, &s, 1, PY_MONITORING_EVENT_PY_START);
    T[5].hook = free_self_hook;
    T[5].hook_rc = -99;
    CHECK_OK(start(&s), 0);
    CHECK_EQ_INT(T[5].hook_rc, 0);
    CHECK_EQ_INT(log_tools(), 50);
    log_reset();
    CHECK_OK(start(&s), 0);
    CHECK_EQ_INT(log_tools(), 0);
    CHECK_EQ_INT(s.active, 0x21);
    char name[8];
    CHECK_OK(PyMonitoring_GetTool(5, name, sizeof name, NULL), 0);
    CHECK_OK(enter_one(&s, PY_MONITORING_EVENT_PY_START), 0);
    CHECK_EQ_INT(s.active, 0x01);
}

int main(void) {
    tool_order();
    empty_slots_keep_their_bit();
    errors_stop_the_walk();
    minus_one_without_an_error();
    success_with_an_error_left_is_a_failure();
    other_return_values_are_ignored();
    disable_local_events();
    disable_other_events();
    exception_events();
    ancillary_and_branch_slots();
    nested_fires_are_not_delivered();
    registry_calls_from_a_callback();
    free_all_tools();
    return harness_finish("api_fire_rules");
}
