/* PY_MONITORING_OPT_CPYTHON_313_EVENT_IDS (docs/HOSTS.md): EnterScope and
 * EnterCodeScope read event_types in CPython 3.13's numbering. Built twice:
 * with the exported functions and with PYMONITORING_INLINE (the header's
 * EnterScope, whose refresh goes to the library). */
#include "harness.h"

/* One tool per event, so a slot's `active` names the event it was given. */
static const struct {
    int tool;
    int event; /* this header's (3.14) id */
} tools[] = {
    {0, PY_MONITORING_EVENT_STOP_ITERATION}, {1, PY_MONITORING_EVENT_RAISE},
    {2, PY_MONITORING_EVENT_PY_UNWIND},      {3, PY_MONITORING_EVENT_BRANCH_RIGHT},
    {4, PY_MONITORING_EVENT_RERAISE},        {5, PY_MONITORING_EVENT_CALL},
};

/* CPython 3.13's ids (cpython/monitoring.h of 3.13.0) and the tools their
 * slots must get. */
static const uint8_t ids313[] = {
    0 /* PY_START */,     5 /* LINE */,         8 /* BRANCH */,       9 /* STOP_ITERATION */,
    10 /* RAISE */,       11 /* EXC_HANDLED */, 12 /* PY_UNWIND */,   13 /* PY_THROW */,
    14 /* RERAISE */,     15 /* C_RETURN */,    16 /* C_RAISE */,
};
static const uint8_t want313[] = {0, 0, 1 << 3, 1 << 0, 1 << 1, 0, 1 << 2, 0, 1 << 4, 1 << 5, 1 << 5};
/* The same bytes in this header's numbering. */
static const uint8_t want314[] = {0, 0, 0, 1 << 3, 1 << 0, 1 << 1, 0, 1 << 2, 0, 1 << 4, 1 << 5};
#define N (int)(sizeof ids313)

static Recording rec;

/* Cython's way: zeroed states, version 0, on every call. */
static void cython_scope(PyMonitoringState *st, const uint8_t *ids, int n) {
    uint64_t version = 0;
    memset(st, 0, (size_t)n * sizeof *st);
    CHECK_OK(PyMonitoring_EnterScope(st, &version, ids, n), 0);
    CHECK_EQ_INT(version, PyMonitoring_GetVersion());
}

int main(void) {
    PyMonitoringState st[N];
    for (size_t i = 0; i < sizeof tools / sizeof tools[0]; i++) {
        CHECK_OK(PyMonitoring_UseToolId(tools[i].tool, "t"), 0);
        CHECK_OK(PyMonitoring_SetEvents(tools[i].tool, 1u << tools[i].event), 0);
        CHECK_OK(PyMonitoring_RegisterCallback(tools[i].tool, tools[i].event, record_event, &rec), 0);
    }

    /* Default: this header's numbering. */
    cython_scope(st, ids313, N);
    for (int i = 0; i < N; i++) CHECK_EQ_INT(st[i].active, want314[i]);

    /* The option moves the version; every scope refreshes in 3.13's numbering. */
    uint64_t before = PyMonitoring_GetVersion();
    CHECK_OK(PyMonitoring_SetOptions(PY_MONITORING_OPT_CPYTHON_313_EVENT_IDS), 0);
    CHECK(PyMonitoring_GetVersion() != before);
    cython_scope(st, ids313, N);
    for (int i = 0; i < N; i++) CHECK_EQ_INT(st[i].active, want313[i]);

    /* A scope kept across calls: current version, nothing read. */
    uint64_t version = PyMonitoring_GetVersion();
    st[0].active = 0x77;
    CHECK_OK(PyMonitoring_EnterScope(st, &version, ids313, N), 0);
    CHECK_EQ_INT(st[0].active, 0x77);
    st[0].active = 0;

    /* Firing is by name: the RAISE slot (3.13's 10) delivers RAISE. */
    static char exc;
    PyMonitoring_SetRaisedException((PyObject *)(void *)&exc);
    CHECK_EQ_INT(PyMonitoring_FireRaiseEvent(&st[4], OBJ(1), 3), 0); /* pending again */
    CHECK(PyMonitoring_GetRaisedException() == (PyObject *)(void *)&exc);
    CHECK_EQ_INT(rec.count, 1);
    CHECK_EVENT(&rec, 0, PY_MONITORING_EVENT_RAISE, 1, OBJ(1), 3, -1, (PyObject *)(void *)&exc,
                PyMonitoring_MISSING);
    CHECK_OK(_PyMonitoring_FireBranchEvent(&st[2], OBJ(1), 4, OBJ(2)), 0);
    CHECK_EQ_INT(rec.count, 2);
    CHECK_EVENT(&rec, 1, PY_MONITORING_EVENT_BRANCH_RIGHT, 3, OBJ(1), 4, -1, OBJ(2),
                PyMonitoring_MISSING);

    /* 17 and more are not 3.13 ids: ValueError naming the first, nothing written. */
    const uint8_t bad[3] = {10, 17, 200};
    PyMonitoringState untouched[3] = {{9, 9}, {9, 9}, {9, 9}};
    version = 0;
    CHECK_ERROR(PyMonitoring_EnterScope(untouched, &version, bad, 3), PY_MONITORING_ERR_VALUE,
                "invalid event 17 in event_types[1] (must be between 0 and 16 in CPython 3.13's "
                "numbering)");
    CHECK_EQ_INT(version, 0);
    for (int i = 0; i < 3; i++) CHECK_EQ_INT(untouched[i].active, 9);

    /* Longer scopes (translated off the stack) and the empty one. */
    uint8_t many[100];
    PyMonitoringState many_st[100];
    for (int i = 0; i < 100; i++) many[i] = ids313[i % N];
    cython_scope(many_st, many, 100);
    for (int i = 0; i < 100; i++) CHECK_EQ_INT(many_st[i].active, want313[i % N]);
    version = 0;
    CHECK_OK(PyMonitoring_EnterScope(NULL, &version, NULL, 0), 0);
    CHECK_EQ_INT(version, PyMonitoring_GetVersion());

    /* EnterCodeScope: the same numbering, with the code-like's local tools. */
    CHECK_OK(PyMonitoring_SetLocalEvents(1, OBJ(7), 1u << PY_MONITORING_EVENT_LINE), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(1, PY_MONITORING_EVENT_LINE, record_event, &rec), 0);
    memset(st, 0, sizeof st);
    version = 0;
    CHECK_OK(PyMonitoring_EnterCodeScope(st, &version, ids313, N, OBJ(7)), 0);
    for (int i = 0; i < N; i++) CHECK_EQ_INT(st[i].active, want313[i] | (i == 1 ? 1 << 1 : 0));
    version = 0;
    CHECK_ERROR(PyMonitoring_EnterCodeScope(untouched, &version, bad, 3, OBJ(7)),
                PY_MONITORING_ERR_VALUE,
                "invalid event 17 in event_types[1] (must be between 0 and 16 in CPython 3.13's "
                "numbering)");

    /* Off again: this header's numbering. */
    CHECK_OK(PyMonitoring_SetOptions(0), 0);
    cython_scope(st, ids313, N);
    for (int i = 0; i < N; i++) CHECK_EQ_INT(st[i].active, want314[i]);
    return harness_finish("host_numbering");
}
