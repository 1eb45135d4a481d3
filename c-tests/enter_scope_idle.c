/* EnterScope while no tool has an event and no option is set (here: after
 * the only tool was freed): the refresh gives what the general refresh gives
 * with no tool active — every `active` 0, `opaque` kept, the version stored —
 * and rejects a bad id the same way, through the exported function and
 * through the header's inline path (-DPYMONITORING_INLINE; it takes 1-8
 * slots itself). Options and the lasting mode keep their refresh rules. */
#include <stdint.h>

#include "harness.h"

#define MAXLEN 20
#define GUARD 4

/* A Cython function's event types (3.14 numbering), constant as in a module. */
static const uint8_t k_cython[7] = {
    PY_MONITORING_EVENT_PY_START, PY_MONITORING_EVENT_PY_RETURN,
    PY_MONITORING_EVENT_PY_UNWIND, PY_MONITORING_EVENT_LINE,
    PY_MONITORING_EVENT_RAISE, PY_MONITORING_EVENT_RERAISE,
    PY_MONITORING_EVENT_EXCEPTION_HANDLED,
};

static int idle(void) {
    return _PyMonitoring_GlobalVersion[1] == _PyMonitoring_GlobalVersion[0];
}

/* Fill `buf` (GUARD slots, then the array, then GUARD slots) with a pattern;
 * zero the rest. */
static void pattern(PyMonitoringState *buf, int len, int seed) {
    memset(buf, 0, sizeof(PyMonitoringState) * (MAXLEN + 2 * GUARD));
    for (int i = 0; i < len + 2 * GUARD; i++) {
        buf[i].active = (uint8_t)(0x91 + 7 * i + seed);
        buf[i].opaque = (uint8_t)(0x3c + 5 * i + seed);
    }
}

/* Ids valid, no CALL/C_RETURN/C_RAISE (the tool of `general` sets CALL). */
static void ids_for(uint8_t *ids, int len, int seed) {
    static const uint8_t pool[] = {0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 18};
    for (int i = 0; i < len; i++)
        ids[i] = pool[(i * 5 + seed) % (int)sizeof pool];
}

/* Refresh with a stale version; returns the result, leaves the bytes. */
static int refresh(PyMonitoringState *buf, const uint8_t *ids, int len, uint64_t *version) {
    *version = UINT64_MAX;
    return PyMonitoring_EnterScope(buf + GUARD, version, ids, len);
}

int main(void) {
    PyMonitoringState a[MAXLEN + 2 * GUARD], b[MAXLEN + 2 * GUARD];
    uint8_t ids[MAXLEN];
    uint64_t va, vb;

    /* Nothing ever set: idle at version 0. */
    CHECK(idle());
    CHECK(_PyMonitoring_GlobalVersion[0] == 0);

    /* A tool with LINE: not idle; the general refresh fills the LINE slot. */
    CHECK_OK(PyMonitoring_UseToolId(2, "line"), 0);
    CHECK_OK(PyMonitoring_SetEvents(2, 1u << PY_MONITORING_EVENT_LINE), 0);
    CHECK(!idle());
    CHECK(_PyMonitoring_GlobalVersion[1] == UINT64_MAX);
    PyMonitoringState st[7];
    uint64_t version = 0;
    memset(st, 0, sizeof st);
    CHECK_OK(PyMonitoring_EnterScope(st, &version, k_cython, 7), 0);
    CHECK_EQ_INT(st[3].active, 1 << 2);
    static Recording rec;
    CHECK_OK(PyMonitoring_RegisterCallback(2, PY_MONITORING_EVENT_LINE, record_event, &rec), 0);
    CHECK_OK(PyMonitoring_FireLineEvent(&st[3], OBJ(1), 3, 10), 0);
    CHECK_EQ_INT(rec.count, 1);

    /* Freed: idle at a newer version. The constant-array call (the inline
     * header folds its id check) zeroes `active` and keeps `opaque`. */
    CHECK_OK(PyMonitoring_FreeToolId(2), 0);
    CHECK(idle());
    CHECK(PyMonitoring_GetVersion() > 0);
    for (int i = 0; i < 7; i++) {
        st[i].active = 0xFF;
        st[i].opaque = (uint8_t)(i + 1);
    }
    version = 0;
    CHECK_OK(PyMonitoring_EnterScope(st, &version, k_cython, 7), 0);
    CHECK(version == PyMonitoring_GetVersion());
    for (int i = 0; i < 7; i++) {
        CHECK_EQ_INT(st[i].active, 0);
        CHECK_EQ_INT(st[i].opaque, i + 1);
    }
    CHECK_OK(PyMonitoring_FireLineEvent(&st[3], OBJ(1), 3, 10), 0);
    CHECK_EQ_INT(rec.count, 1);

    /* Idle results, kept per length, against the general refresh's: a tool
     * whose only event (CALL) is in none of the scopes makes the registry
     * not idle and every slot's mask 0. */
    static PyMonitoringState want[MAXLEN + 1][MAXLEN + 2 * GUARD];
    static uint64_t want_version[MAXLEN + 1];
    for (int len = 0; len <= MAXLEN; len++) {
        ids_for(ids, len, len);
        pattern(a, len, len);
        CHECK_OK(refresh(a, ids, len, &va), 0);
        memcpy(want[len], a, sizeof a);
        want_version[len] = va;
        CHECK(va == PyMonitoring_GetVersion());
        for (int i = 0; i < len + 2 * GUARD; i++) {
            pattern(b, len, len);
            int inside = i >= GUARD && i < GUARD + len;
            CHECK_EQ_INT(a[i].active, inside ? 0 : b[i].active);
            CHECK_EQ_INT(a[i].opaque, b[i].opaque);
        }
        /* A bad id anywhere: ValueError, nothing written. */
        for (int at = 0; at < len; at++) {
            uint8_t bad[MAXLEN];
            memcpy(bad, ids, (size_t)len);
            bad[at] = (uint8_t)(19 + at * 37 % 237);
            char msg[96];
            snprintf(msg, sizeof msg, "invalid event %d in event_types[%d] (must be between 0 and 18)",
                     bad[at], at);
            pattern(a, len, len);
            pattern(b, len, len);
            CHECK_ERROR(refresh(a, bad, len, &va), PY_MONITORING_ERR_VALUE, msg);
            CHECK(memcmp(a, b, sizeof a) == 0);
            CHECK(va == UINT64_MAX);
        }
    }
    CHECK_OK(PyMonitoring_UseToolId(5, "call"), 0);
    CHECK_OK(PyMonitoring_SetEvents(5, 1u << PY_MONITORING_EVENT_CALL), 0);
    CHECK(!idle());
    for (int len = 0; len <= MAXLEN; len++) {
        ids_for(ids, len, len);
        pattern(b, len, len);
        CHECK_OK(refresh(b, ids, len, &vb), 0);
        CHECK(memcmp(b, want[len], sizeof b) == 0);
        CHECK(vb == PyMonitoring_GetVersion() && vb > want_version[len]);
        for (int at = 0; at < len; at++) {
            uint8_t bad[MAXLEN];
            memcpy(bad, ids, (size_t)len);
            bad[at] = 200;
            char msg[96];
            snprintf(msg, sizeof msg, "invalid event 200 in event_types[%d] (must be between 0 and 18)", at);
            pattern(b, len, len);
            pattern(a, len, len);
            CHECK_ERROR(refresh(b, bad, len, &vb), PY_MONITORING_ERR_VALUE, msg);
            CHECK(memcmp(a, b, sizeof a) == 0);
        }
    }
    CHECK_OK(PyMonitoring_FreeToolId(5), 0);
    CHECK(idle());

    /* An option: not idle while it is set. */
    CHECK_OK(PyMonitoring_SetOptions(PY_MONITORING_OPT_ACTIVE_NEEDS_CALLBACK), 0);
    CHECK(!idle());
    CHECK_OK(PyMonitoring_SetOptions(0), 0);
    CHECK(idle());

    /* The lasting mode keeps its rule (its mark in `opaque`), and once it
     * was used the registry is never idle again (its refresh applies). */
    CHECK_OK(PyMonitoring_SetOptions(PY_MONITORING_OPT_LASTING_DISABLE), 0);
    CHECK(!idle());
    memset(st, 0, sizeof st);
    version = 0;
    CHECK_OK(PyMonitoring_EnterScope(st, &version, k_cython, 7), 0);
    CHECK_EQ_INT(st[3].active, 0);
    CHECK_EQ_INT(st[3].opaque, 0x80);
    CHECK_OK(PyMonitoring_SetOptions(0), 0);
    CHECK(!idle());
    memset(st, 0, sizeof st);
    version = 0;
    CHECK_OK(PyMonitoring_EnterScope(st, &version, k_cython, 7), 0);
    CHECK_EQ_INT(st[3].active, 0);
    CHECK(version == PyMonitoring_GetVersion());

    return harness_finish("enter_scope_idle");
}
