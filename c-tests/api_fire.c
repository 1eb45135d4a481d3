/* Every fire function: the 17 PyMonitoring_Fire*Event (exported functions,
 * or the header's static inline wrappers with PYMONITORING_INLINE) and the
 * 18 _PyMonitoring_Fire*Event (with the legacy _PyMonitoring_FireBranchEvent,
 * which delivers BRANCH_RIGHT). For each: the exact record every tool
 * receives (event, tool_id, codelike, offset, lineno, arg0, arg1; NULL
 * object arguments arrive as PyMonitoring_MISSING; exception events deliver
 * the current exception and leave it current again), and every kind of bad
 * input (NULL state, NULL codelike, negative offset, missing exception,
 * inactive state). */
#include <limits.h>

#include "api_util.h"

/* Tools 5 and 0 record; tool 3 has the events but no callback, so its bit
 * must survive every fire. */
static Tool t5, t0;
#define ACTIVE_ALL ((1 << 5) | (1 << 3) | (1 << 0))
#define CODE OBJ(1)
#define EXC OBJ(20)

static int log_count(void) { return api_log.count; }

static void setup(const FireCase *c, PyMonitoringState *state) {
    free_all_tools();
    tool_reset(&t5);
    tool_reset(&t0);
    log_reset();
    CLAIM(5, "five");
    CLAIM(3, "three");
    CLAIM(0, "zero");
    /* The legacy case registers through BRANCH (fills both directions). */
    int reg = c->slot_event == PY_MONITORING_EVENT_BRANCH ? PY_MONITORING_EVENT_BRANCH : c->event;
    CCHECK_OK(c, PyMonitoring_RegisterCallback(5, reg, tool_callback, &t5), 0);
    CCHECK_OK(c, PyMonitoring_RegisterCallback(0, reg, tool_callback, &t0), 0);
    static const int tools[3] = {5, 3, 0};
    for (int i = 0; i < 3; i++) {
        CCHECK_OK(c, PyMonitoring_SetEvents(tools[i], set_for_slot(c->slot_event)), 0);
    }
    state->active = 0;
    state->opaque = 0x42;
    CCHECK_OK(c, enter_one(state, c->slot_event), 0);
    CCHECK_EQ(c, state->active, ACTIVE_ALL);
    CCHECK_EQ(c, state->opaque, 0x42);
}

/* Fire through `fn` and check the two records, the return value and what is
 * pending afterwards. `pending_kind` is what is set before the fire:
 * 0 nothing, PY_MONITORING_ERR_HOST the exception EXC, or
 * PY_MONITORING_ERR_RUNTIME a library error "pending". */
static void fire_and_check(const FireCase *c, FireFn fn, PyMonitoringState *state, int32_t off,
                           PyObject *a0, PyObject *a1, int lineno, int pending_kind) {
    log_reset();
    t5.saw_pending = t0.saw_pending = 0;
    if (pending_kind == PY_MONITORING_ERR_HOST) {
        PyMonitoring_SetRaisedException(EXC);
    } else if (pending_kind == PY_MONITORING_ERR_RUNTIME) {
        CCHECK_EQ(c, PyMonitoring_ErrSetString(PY_MONITORING_ERR_RUNTIME, "pending"), 0);
    }
    int rc = fn(state, CODE, off, a0, a1, lineno);
    CCHECK_EQ(c, rc, 0);
    /* What was pending is pending again, and nothing else. */
    CCHECK_EQ(c, PyMonitoring_ErrKind(), pending_kind);
    if (pending_kind == PY_MONITORING_ERR_HOST) {
        CCHECK(c, PyMonitoring_GetRaisedException() == EXC);
    } else if (pending_kind == PY_MONITORING_ERR_RUNTIME) {
        CCHECK_ERROR(c, -1, PY_MONITORING_ERR_RUNTIME, "pending");
    }
    CCHECK_EQ(c, PyMonitoring_ErrOccurred(), 0);
    /* Callbacks ran with a clear indicator. */
    CCHECK_EQ(c, t5.saw_pending + t0.saw_pending, 0);
    /* Tool 5 first, then tool 0; tool 3 (no callback) skipped, bit kept. */
    CCHECK_EQ(c, log_count(), 2);
    CCHECK_EQ(c, log_tools(), 50);
    CCHECK_EQ(c, state->active, ACTIVE_ALL);
    CCHECK_EQ(c, state->opaque, 0x42);
    PyObject *w0, *w1;
    PyObject *exc = pending_kind == PY_MONITORING_ERR_HOST ? EXC : NULL;
    expected_args(c, a0, a1, exc, &w0, &w1);
    int line = c->shape == ARGS_LINE ? lineno : -1;
    for (int i = 0; i < 2 && i < log_count(); i++) {
        CCHECK_EVENT(c, i, c->event, i == 0 ? 5 : 0, CODE, off, line, w0, w1);
    }
}

static void valid_input(const FireCase *c, FireFn fn, PyMonitoringState *state) {
    int exc = c->shape == ARGS_EXC;
    int normal = exc ? PY_MONITORING_ERR_HOST : 0;
    /* Objects as given. */
    fire_and_check(c, fn, state, 7, OBJ(10), OBJ(11), 42, normal);
    /* NULL objects arrive as MISSING. */
    fire_and_check(c, fn, state, 7, NULL, NULL, 42, normal);
    fire_and_check(c, fn, state, 7, OBJ(12), NULL, 1, normal);
    fire_and_check(c, fn, state, 7, NULL, OBJ(13), 1, normal);
    /* MISSING itself passes through. */
    fire_and_check(c, fn, state, 7, PyMonitoring_MISSING, PyMonitoring_MISSING, 1, normal);
    /* Offsets are never checked against anything: 0 and INT32_MAX. */
    fire_and_check(c, fn, state, 0, OBJ(10), OBJ(11), 0, normal);
    fire_and_check(c, fn, state, INT32_MAX, OBJ(10), OBJ(11), INT_MAX, normal);
    /* LINE delivers its lineno as given, negative too. */
    fire_and_check(c, fn, state, 3, OBJ(10), OBJ(11), -7, normal);
    /* A pending library error: taken before the callbacks, restored after;
     * exception events deliver it as MISSING. */
    fire_and_check(c, fn, state, 5, OBJ(10), OBJ(11), 9, PY_MONITORING_ERR_RUNTIME);
    if (!exc) {
        /* A pending host exception is restored after non-exception events
         * too (e.g. STOP_ITERATION leaves nothing else pending). */
        fire_and_check(c, fn, state, 5, OBJ(10), OBJ(11), 9, PY_MONITORING_ERR_HOST);
    }
}

static void bad_input(const FireCase *c, FireFn fn, PyMonitoringState *state, int underscore) {
    int exc = c->shape == ARGS_EXC;
    char msg[64];
    snprintf(msg, sizeof msg, "Firing event %d with no exception set", c->event);

    /* Negative offsets: no callback, slot unchanged (LINE too, although
     * CPython does not deliver LINE's offset). */
    int32_t negs[3] = {-1, -1000, INT32_MIN};
    for (int i = 0; i < 3; i++) {
        log_reset();
        if (exc) {
            PyMonitoring_SetRaisedException(EXC);
        }
        CCHECK_ERROR(c, fn(state, CODE, negs[i], OBJ(10), OBJ(11), 1), PY_MONITORING_ERR_VALUE,
                     "offset must be non-negative");
        CCHECK_EQ(c, log_count(), 0);
        CCHECK_EQ(c, state->active, ACTIVE_ALL);
    }
    /* A pending error is replaced by the offset error. */
    CCHECK_EQ(c, PyMonitoring_ErrSetString(PY_MONITORING_ERR_RUNTIME, "pending"), 0);
    CCHECK_ERROR(c, fn(state, CODE, -1, OBJ(10), OBJ(11), 1), PY_MONITORING_ERR_VALUE,
                 "offset must be non-negative");

    /* Missing exception: checked before the offset. */
    if (exc) {
        log_reset();
        CCHECK_ERROR(c, fn(state, CODE, 7, NULL, NULL, 1), PY_MONITORING_ERR_VALUE, msg);
        CCHECK_ERROR(c, fn(state, CODE, -1, NULL, NULL, 1), PY_MONITORING_ERR_VALUE, msg);
        CCHECK_EQ(c, log_count(), 0);
        CCHECK_EQ(c, state->active, ACTIVE_ALL);
    }

    /* NULL codelike (checked before the exception). */
    log_reset();
    if (exc) {
        PyMonitoring_SetRaisedException(EXC);
    }
    CCHECK_ERROR(c, fn(state, NULL, 7, OBJ(10), OBJ(11), 1), PY_MONITORING_ERR_VALUE,
                 "codelike must not be NULL");
    CCHECK_ERROR(c, fn(state, NULL, -1, OBJ(10), OBJ(11), 1), PY_MONITORING_ERR_VALUE,
                 "codelike must not be NULL");
    CCHECK_EQ(c, log_count(), 0);
    CCHECK_EQ(c, state->active, ACTIVE_ALL);

    /* NULL state (checked first). The inline wrappers read state->active
     * before calling into the library, exactly as CPython's do, so a NULL
     * state is only testable through the exported functions: the plain
     * adapters are skipped in the PYMONITORING_INLINE build. */
#ifdef PYMONITORING_INLINE
    int null_state_ok = underscore;
#else
    int null_state_ok = 1;
#endif
    if (null_state_ok) {
        log_reset();
        CCHECK_ERROR(c, fn(NULL, CODE, 7, OBJ(10), OBJ(11), 1), PY_MONITORING_ERR_VALUE,
                     "state must not be NULL");
        CCHECK_ERROR(c, fn(NULL, NULL, -1, NULL, NULL, 1), PY_MONITORING_ERR_VALUE,
                     "state must not be NULL");
        CCHECK_EQ(c, log_count(), 0);
    }

    /* An inactive slot. */
    PyMonitoringState idle = {0, 0x42};
    log_reset();
    if (underscore) {
        /* The underscore entry point validates, then calls nobody. */
        if (exc) {
            PyMonitoring_SetRaisedException(EXC);
        }
        CCHECK_EQ(c, fn(&idle, CODE, 7, OBJ(10), OBJ(11), 1), 0);
        if (exc) {
            CCHECK(c, PyMonitoring_GetRaisedException() == EXC);
            CCHECK_ERROR(c, fn(&idle, CODE, 7, NULL, NULL, 1), PY_MONITORING_ERR_VALUE, msg);
        }
        CCHECK_EQ(c, PyMonitoring_ErrOccurred(), 0);
        CCHECK_ERROR(c, fn(&idle, CODE, -1, NULL, NULL, 1), PY_MONITORING_ERR_VALUE,
                     exc ? msg : "offset must be non-negative");
        CCHECK_ERROR(c, fn(&idle, NULL, 7, NULL, NULL, 1), PY_MONITORING_ERR_VALUE,
                     "codelike must not be NULL");
    } else {
        /* The plain function returns 0 at once: nothing is validated,
         * nothing consumed, nothing called. */
        CCHECK_OK(c, fn(&idle, CODE, 7, OBJ(10), OBJ(11), 1), 0);
        CCHECK_OK(c, fn(&idle, NULL, -1, NULL, NULL, 1), 0);
        CCHECK_OK(c, fn(&idle, CODE, INT32_MIN, NULL, NULL, 1), 0);
        PyMonitoring_SetRaisedException(EXC);
        CCHECK_EQ(c, fn(&idle, CODE, -1, NULL, NULL, 1), 0);
        CCHECK(c, PyMonitoring_GetRaisedException() == EXC);
        CCHECK_EQ(c, PyMonitoring_ErrSetString(PY_MONITORING_ERR_VALUE, "kept"), 0);
        CCHECK_EQ(c, fn(&idle, NULL, -1, NULL, NULL, 1), 0);
        CCHECK_ERROR(c, -1, PY_MONITORING_ERR_VALUE, "kept");
    }
    CCHECK_EQ(c, log_count(), 0);
    CCHECK_EQ(c, idle.active, 0);
    CCHECK_EQ(c, idle.opaque, 0x42);
}

static void after_unregister(const FireCase *c, FireFn fn, PyMonitoringState *state) {
    /* With the callbacks removed, the bits stay set and nobody is called. */
    int reg = c->slot_event == PY_MONITORING_EVENT_BRANCH ? PY_MONITORING_EVENT_BRANCH : c->event;
    CCHECK_OK(c, PyMonitoring_RegisterCallback(5, reg, NULL, NULL), 0);
    CCHECK_OK(c, PyMonitoring_RegisterCallback(0, reg, NULL, NULL), 0);
    log_reset();
    if (c->shape == ARGS_EXC) {
        PyMonitoring_SetRaisedException(EXC);
    }
    CCHECK_EQ(c, fn(state, CODE, 7, OBJ(10), OBJ(11), 1), 0);
    if (c->shape == ARGS_EXC) {
        CCHECK(c, PyMonitoring_GetRaisedException() == EXC);
    }
    CCHECK_EQ(c, PyMonitoring_ErrOccurred(), 0);
    CCHECK_EQ(c, log_count(), 0);
    CCHECK_EQ(c, state->active, ACTIVE_ALL);
}

static void other_events_are_not_delivered(const FireCase *c, PyMonitoringState *state) {
    /* Firing a different event on this slot reaches the tools' callbacks
     * for that event only (none are registered): the record's event id is
     * the function's, never the slot's. */
    const FireCase *other = &FIRE_CASES[(c - FIRE_CASES + 1) % N_FIRE_CASES];
    if (other->event == c->event) {
        return;
    }
    log_reset();
    if (other->shape == ARGS_EXC) {
        PyMonitoring_SetRaisedException(EXC);
    }
    CCHECK_EQ(c, other->under(state, CODE, 7, OBJ(10), OBJ(11), 1), 0);
    if (other->shape == ARGS_EXC) {
        CCHECK(c, PyMonitoring_GetRaisedException() == EXC);
    }
    CCHECK_EQ(c, log_count(), 0);
}

int main(void) {
    CHECK_EQ_INT(N_FIRE_CASES, 18);
    int plain = 0, under = 0;
    for (int i = 0; i < N_FIRE_CASES; i++) {
        const FireCase *c = &FIRE_CASES[i];
        PyMonitoringState state;
        FireFn fns[2] = {c->plain, c->under};
        for (int k = 0; k < 2; k++) {
            if (fns[k] == NULL) {
                continue;
            }
            setup(c, &state);
            valid_input(c, fns[k], &state);
            bad_input(c, fns[k], &state, k == 1);
            other_events_are_not_delivered(c, &state);
            after_unregister(c, fns[k], &state);
            if (k == 0) {
                plain++;
            } else {
                under++;
            }
        }
    }
    /* All 17 plain and all 18 underscore functions were exercised. */
    CHECK_EQ_INT(plain, 17);
    CHECK_EQ_INT(under, 18);
    free_all_tools();
    return harness_finish("api_fire");
}
