/* Scopes (docs/BEHAVIOUR.md, "Scopes"): PyMonitoring_EnterScope and PyMonitoring_ExitScope.
 * Valid input (fast path, refresh, every event id, C_RETURN/C_RAISE get
 * CALL's tools, BRANCH gets BRANCH_RIGHT's, opaque untouched) and every
 * kind of bad input (NULL version/states/event_types, negative and huge
 * length, event ids 19 and 255), with nothing written on failure. */
#include <stddef.h>
#include <stdint.h>

#include "api_util.h"

#define N_ALL PY_MONITORING_EVENTS

static PyMonitoringState states[N_ALL];
static uint8_t all_ids[N_ALL];

static void fill(PyMonitoringState *s, int n, uint8_t active) {
    for (int i = 0; i < n; i++) {
        s[i].active = active;
        s[i].opaque = (uint8_t)(0x80 + i);
    }
}

/* Every slot still holds (active, 0x80 + i). */
static int untouched(const PyMonitoringState *s, int n, uint8_t active) {
    for (int i = 0; i < n; i++) {
        if (s[i].active != active || s[i].opaque != (uint8_t)(0x80 + i)) {
            fprintf(stderr, "slot %d is {%d, %d}, expected {%d, %d}\n", i, s[i].active,
                    s[i].opaque, active, 0x80 + i);
            return 0;
        }
    }
    return 1;
}

static void fresh_process_costs_nothing(void) {
    /* Version 0 everywhere: Cython's zeroed scopes stay as they are, and
     * the event ids are not even looked at. */
    CHECK_EQ_INT(PyMonitoring_GetVersion(), 0);
    uint64_t version = 0;
    uint8_t ids[3] = {0, 200, 255};
    fill(states, 3, 0xAB);
    CHECK_OK(PyMonitoring_EnterScope(states, &version, ids, 3), 0);
    CHECK(untouched(states, 3, 0xAB));
    CHECK_EQ_INT(version, 0);
    CHECK_OK(PyMonitoring_ExitScope(), 0);
}

static void refresh_writes_every_slot(void) {
    /* tool 0: PY_START, CALL (+C_RETURN, C_RAISE)
     * tool 2: LINE, BRANCH_RIGHT
     * tool 4: INSTRUCTION, BRANCH_LEFT, RAISE
     * tool 5: BRANCH (= BRANCH_LEFT | BRANCH_RIGHT) */
    CLAIM(0, "a");
    CLAIM(2, "b");
    CLAIM(4, "c");
    CLAIM(5, "d");
    CHECK_OK(PyMonitoring_SetEvents(0, (1u << PY_MONITORING_EVENT_PY_START) |
                                           set_for_slot(PY_MONITORING_EVENT_C_RETURN)),
             0);
    CHECK_OK(PyMonitoring_SetEvents(2, (1u << PY_MONITORING_EVENT_LINE) |
                                           (1u << PY_MONITORING_EVENT_BRANCH_RIGHT)),
             0);
    CHECK_OK(PyMonitoring_SetEvents(4, (1u << PY_MONITORING_EVENT_INSTRUCTION) |
                                           (1u << PY_MONITORING_EVENT_BRANCH_LEFT) |
                                           (1u << PY_MONITORING_EVENT_RAISE)),
             0);
    CHECK_OK(PyMonitoring_SetEvents(5, 1u << PY_MONITORING_EVENT_BRANCH), 0);
    CHECK(PyMonitoring_GetVersion() != 0);

    static const uint8_t want[N_ALL] = {
        [PY_MONITORING_EVENT_PY_START] = 0x01,
        [PY_MONITORING_EVENT_CALL] = 0x01,
        [PY_MONITORING_EVENT_LINE] = 0x04,
        [PY_MONITORING_EVENT_INSTRUCTION] = 0x10,
        [PY_MONITORING_EVENT_BRANCH_LEFT] = 0x30,
        [PY_MONITORING_EVENT_BRANCH_RIGHT] = 0x24,
        [PY_MONITORING_EVENT_RAISE] = 0x10,
        [PY_MONITORING_EVENT_C_RETURN] = 0x01, /* CALL's tools */
        [PY_MONITORING_EVENT_C_RAISE] = 0x01,  /* CALL's tools */
        [PY_MONITORING_EVENT_BRANCH] = 0x24,   /* BRANCH_RIGHT's tools */
    };
    uint64_t version = 0;
    fill(states, N_ALL, 0xEE);
    CHECK_OK(PyMonitoring_EnterScope(states, &version, all_ids, N_ALL), 0);
    CHECK_EQ_INT(version, PyMonitoring_GetVersion());
    for (int i = 0; i < N_ALL; i++) {
        if (states[i].active != want[i]) {
            fprintf(stderr, "slot for event %d: active 0x%x, expected 0x%x\n", i,
                    states[i].active, want[i]);
            harness_failures++;
        }
        CHECK_EQ_INT(states[i].opaque, 0x80 + i);
    }

    /* Same version: nothing read or written, even with garbage slots. */
    fill(states, N_ALL, 0x5A);
    uint64_t same = version;
    CHECK_OK(PyMonitoring_EnterScope(states, &version, all_ids, N_ALL), 0);
    CHECK(untouched(states, N_ALL, 0x5A));
    CHECK_EQ_INT(version, same);
    /* ... and event ids are not validated on that path. */
    uint8_t bad[2] = {19, 255};
    CHECK_OK(PyMonitoring_EnterScope(states, &version, bad, 2), 0);
    CHECK(untouched(states, N_ALL, 0x5A));

    /* A registry change makes the scope stale; the next entry refreshes. */
    CHECK_OK(PyMonitoring_SetEvents(2, 1u << PY_MONITORING_EVENT_LINE), 0);
    CHECK(version != PyMonitoring_GetVersion());
    CHECK_OK(PyMonitoring_EnterScope(states, &version, all_ids, N_ALL), 0);
    CHECK_EQ_INT(version, PyMonitoring_GetVersion());
    CHECK_EQ_INT(states[PY_MONITORING_EVENT_BRANCH_RIGHT].active, 0x20);
    CHECK_EQ_INT(states[PY_MONITORING_EVENT_BRANCH].active, 0x20);
    CHECK_EQ_INT(states[PY_MONITORING_EVENT_LINE].active, 0x04);
    CHECK_EQ_INT(states[PY_MONITORING_EVENT_PY_RESUME].active, 0);

    /* A subset of slots, in any order and with repeats. */
    PyMonitoringState few[4];
    uint8_t few_ids[4] = {PY_MONITORING_EVENT_C_RAISE, PY_MONITORING_EVENT_LINE,
                          PY_MONITORING_EVENT_LINE, PY_MONITORING_EVENT_PY_YIELD};
    fill(few, 4, 0xFF);
    uint64_t v2 = UINT64_MAX; /* any value but the current one refreshes */
    CHECK_OK(PyMonitoring_EnterScope(few, &v2, few_ids, 4), 0);
    CHECK_EQ_INT(v2, PyMonitoring_GetVersion());
    CHECK_EQ_INT(few[0].active, 0x01);
    CHECK_EQ_INT(few[1].active, 0x04);
    CHECK_EQ_INT(few[2].active, 0x04);
    CHECK_EQ_INT(few[3].active, 0x00);
    CHECK_EQ_INT(few[3].opaque, 0x83);

    /* Clear and Free make tools' bits disappear on the next refresh. */
    CHECK_OK(PyMonitoring_ClearToolId(0), 0);
    CHECK_OK(PyMonitoring_FreeToolId(4), 0);
    CHECK_OK(PyMonitoring_EnterScope(states, &version, all_ids, N_ALL), 0);
    CHECK_EQ_INT(states[PY_MONITORING_EVENT_PY_START].active, 0);
    CHECK_EQ_INT(states[PY_MONITORING_EVENT_C_RETURN].active, 0);
    CHECK_EQ_INT(states[PY_MONITORING_EVENT_RAISE].active, 0);
    CHECK_EQ_INT(states[PY_MONITORING_EVENT_BRANCH_LEFT].active, 0x20);

    /* RestartEvents also makes every scope refresh. */
    uint64_t before = version;
    CHECK_OK(PyMonitoring_RestartEvents(), 0);
    fill(states, N_ALL, 0x77);
    CHECK_OK(PyMonitoring_EnterScope(states, &version, all_ids, N_ALL), 0);
    CHECK_EQ_INT(version, before + 1);
    CHECK_EQ_INT(states[PY_MONITORING_EVENT_BRANCH_LEFT].active, 0x20);
    CHECK_EQ_INT(states[PY_MONITORING_EVENT_PY_START].active, 0);
    free_all_tools();
}

static void length_zero(void) {
    /* length 0: the arrays may be NULL; a refresh still stores the version. */
    uint64_t version = 12345;
    CHECK_OK(PyMonitoring_EnterScope(NULL, &version, NULL, 0), 0);
    CHECK_EQ_INT(version, PyMonitoring_GetVersion());
    CHECK_OK(PyMonitoring_EnterScope(NULL, &version, NULL, 0), 0);
    CHECK_EQ_INT(version, PyMonitoring_GetVersion());
    version = 1;
    CHECK_OK(PyMonitoring_EnterScope(states, &version, all_ids, 0), 0);
    CHECK_EQ_INT(version, PyMonitoring_GetVersion());
}

/* Expect 0, and that neither `s` nor `*version` changed. */
#define CHECK_SCOPE_NOTHING(s_, ver_, ids_, len_)                              \
    do {                                                                       \
        uint64_t vb_ = *(ver_);                                                \
        fill(states, N_ALL, 0x3C);                                             \
        CHECK_OK(PyMonitoring_EnterScope((s_), (ver_), (ids_), (len_)), 0);    \
        CHECK(untouched(states, N_ALL, 0x3C));                                 \
        CHECK_EQ_INT(*(ver_), vb_);                                            \
    } while (0)

/* Expect the error, and that neither `s` nor `*version` changed. */
#define CHECK_SCOPE_ERROR(s_, ver_, ids_, len_, msg)                           \
    do {                                                                       \
        uint64_t *vp_ = (ver_);                                                \
        uint64_t vb_ = vp_ ? *vp_ : 0;                                         \
        fill(states, N_ALL, 0x3C);                                             \
        CHECK_ERROR(PyMonitoring_EnterScope((s_), vp_, (ids_), (len_)),        \
                    PY_MONITORING_ERR_VALUE, (msg));                           \
        CHECK(untouched(states, N_ALL, 0x3C));                                 \
        if (vp_) {                                                             \
            CHECK_EQ_INT(*vp_, vb_);                                           \
        }                                                                      \
    } while (0)

static void bad_input(void) {
    uint64_t *const NO_VERSION = NULL;
    CLAIM(1, "x");
    CHECK_OK(PyMonitoring_SetEvents(1, 1u << PY_MONITORING_EVENT_PY_START), 0);
    uint64_t current = PyMonitoring_GetVersion();
    uint64_t stale = current - 1;

    /* `version` is checked on every call; with a current version nothing
     * else is read (as CPython): a bad length or a NULL array returns 0 and
     * writes nothing. */
    CHECK_SCOPE_ERROR(states, NO_VERSION, all_ids, 2, "version must not be NULL");
    CHECK_SCOPE_ERROR(states, NO_VERSION, all_ids, 0, "version must not be NULL");
    CHECK_SCOPE_ERROR(NULL, NO_VERSION, NULL, -1, "version must not be NULL");
    CHECK_SCOPE_NOTHING(states, &current, all_ids, -1);
    CHECK_SCOPE_NOTHING(states, &current, all_ids, PTRDIFF_MIN);
    CHECK_SCOPE_NOTHING(NULL, &current, NULL, -1);
    CHECK_SCOPE_NOTHING(NULL, &current, all_ids, 2);
    CHECK_SCOPE_NOTHING(NULL, &current, NULL, 2);
    CHECK_SCOPE_NOTHING(states, &current, NULL, 2);
    /* A stale version: the arguments are checked before anything is read. */
    {
        uint64_t *v = &stale;
        CHECK_SCOPE_ERROR(states, v, all_ids, -1, "length must be non-negative (got -1)");
        CHECK_SCOPE_ERROR(states, v, all_ids, -19, "length must be non-negative (got -19)");
        CHECK_SCOPE_ERROR(states, v, all_ids, PTRDIFF_MIN,
                          "length must be non-negative (got -9223372036854775808)");
        CHECK_SCOPE_ERROR(NULL, v, NULL, -1, "length must be non-negative (got -1)");
        CHECK_SCOPE_ERROR(NULL, v, all_ids, 2, "states must not be NULL when length > 0");
        CHECK_SCOPE_ERROR(NULL, v, NULL, 2, "states must not be NULL when length > 0");
        CHECK_SCOPE_ERROR(states, v, NULL, 2, "event_types must not be NULL when length > 0");
        CHECK_SCOPE_ERROR(states, v, NULL, 1, "event_types must not be NULL when length > 0");
    }
    /* Checked on refresh: a length too large to be an array of states. */
    CHECK_SCOPE_ERROR(states, &stale, all_ids, PTRDIFF_MAX,
                      "length 9223372036854775807 is too large");
    CHECK_SCOPE_ERROR(states, &stale, all_ids, PTRDIFF_MAX / 2 + 1,
                      "length 4611686018427387904 is too large");
    /* Checked on refresh: event ids, all of them before anything is written. */
    uint8_t ids[4] = {PY_MONITORING_EVENT_PY_START, PY_MONITORING_EVENT_LINE, 19, 0};
    CHECK_SCOPE_ERROR(states, &stale, ids, 4,
                      "invalid event 19 in event_types[2] (must be between 0 and 18)");
    ids[2] = 255;
    CHECK_SCOPE_ERROR(states, &stale, ids, 4,
                      "invalid event 255 in event_types[2] (must be between 0 and 18)");
    ids[0] = 20;
    CHECK_SCOPE_ERROR(states, &stale, ids, 4,
                      "invalid event 20 in event_types[0] (must be between 0 and 18)");
    ids[0] = 0;
    ids[2] = 0;
    ids[3] = 128;
    CHECK_SCOPE_ERROR(states, &stale, ids, 4,
                      "invalid event 128 in event_types[3] (must be between 0 and 18)");
    /* A bad id beyond `length` is not read. */
    fill(states, N_ALL, 0x3C);
    uint64_t v = stale;
    CHECK_OK(PyMonitoring_EnterScope(states, &v, ids, 3), 0);
    CHECK_EQ_INT(v, PyMonitoring_GetVersion());
    CHECK_EQ_INT(states[0].active, 0x02);
    CHECK_EQ_INT(states[3].active, 0x3C);
    free_all_tools();
}

static void indicator_is_left_alone(void) {
    /* A successful EnterScope/ExitScope leaves a pending error pending. */
    CHECK_EQ_INT(PyMonitoring_ErrSetString(PY_MONITORING_ERR_RUNTIME, "pending"), 0);
    uint64_t version = UINT64_MAX;
    CHECK_EQ_INT(PyMonitoring_EnterScope(states, &version, all_ids, N_ALL), 0);
    CHECK_EQ_INT(PyMonitoring_EnterScope(states, &version, all_ids, N_ALL), 0);
    CHECK_EQ_INT(PyMonitoring_ExitScope(), 0);
    CHECK_ERROR(-1, PY_MONITORING_ERR_RUNTIME, "pending");
    PyMonitoring_SetRaisedException(OBJ(1));
    version = UINT64_MAX;
    CHECK_EQ_INT(PyMonitoring_EnterScope(states, &version, all_ids, N_ALL), 0);
    CHECK(PyMonitoring_GetRaisedException() == OBJ(1));
}

static void exit_scope(void) {
    /* No stack: Exit without Enter, many Exits, many Enters. */
    CHECK_OK(PyMonitoring_ExitScope(), 0);
    CHECK_OK(PyMonitoring_ExitScope(), 0);
    uint64_t version = 0;
    for (int i = 0; i < 100; i++) {
        CHECK_OK(PyMonitoring_EnterScope(states, &version, all_ids, N_ALL), 0);
    }
    for (int i = 0; i < 150; i++) {
        CHECK_OK(PyMonitoring_ExitScope(), 0);
    }
}

int main(void) {
    for (int i = 0; i < N_ALL; i++) {
        all_ids[i] = (uint8_t)i;
    }
    fresh_process_costs_nothing();
    refresh_writes_every_slot();
    length_zero();
    bad_input();
    indicator_is_left_alone();
    exit_scope();
    return harness_finish("api_scope");
}
