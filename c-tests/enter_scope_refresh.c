/* EnterScope's refresh by the masks against the library's, slot by slot:
 * PyMonitoring_EnterScope (with -DPYMONITORING_INLINE the header's inline
 * path, which refreshes 1-8 slots itself while the registry is idle or the
 * route byte allows it) and _PyMonitoring_EnterScope (the library's entry)
 * must give the same result, version, return code and error for the same
 * arguments — with constant arrays of ids (whose check the compiler folds)
 * and run-time ones, ids 16-18 (past the first 16 masks) and bad ids
 * anywhere, with the registry idle, in the default mode, with
 * ACTIVE_NEEDS_CALLBACK, in the lasting-DISABLE mode (the mark in `opaque`)
 * and with every refresh left to the library (the host's numbering, a
 * per-tool restart's gate). */
#include <stdint.h>

#include "harness.h"

#define MAXLEN 10
#define GUARD 3
#define SLOTS (MAXLEN + 2 * GUARD)

/* Constant arrays of 1-8 ids, as a Cython module has (16-18 included). */
static const uint8_t ids1[1] = {PY_MONITORING_EVENT_PY_START};
static const uint8_t ids1_high[1] = {PY_MONITORING_EVENT_BRANCH};
static const uint8_t ids2[2] = {PY_MONITORING_EVENT_C_RAISE, PY_MONITORING_EVENT_LINE};
static const uint8_t ids3[3] = {PY_MONITORING_EVENT_PY_RETURN, PY_MONITORING_EVENT_C_RETURN,
                              PY_MONITORING_EVENT_BRANCH};
static const uint8_t ids4[4] = {PY_MONITORING_EVENT_C_RETURN, PY_MONITORING_EVENT_PY_START,
                              PY_MONITORING_EVENT_BRANCH, PY_MONITORING_EVENT_LINE};
static const uint8_t ids5[5] = {PY_MONITORING_EVENT_PY_START, PY_MONITORING_EVENT_PY_RETURN,
                              PY_MONITORING_EVENT_C_RAISE, PY_MONITORING_EVENT_LINE,
                              PY_MONITORING_EVENT_RAISE};
static const uint8_t ids6[6] = {PY_MONITORING_EVENT_CALL,     PY_MONITORING_EVENT_C_RETURN,
                              PY_MONITORING_EVENT_C_RAISE,  PY_MONITORING_EVENT_BRANCH,
                              PY_MONITORING_EVENT_PY_YIELD, PY_MONITORING_EVENT_JUMP};
static const uint8_t ids7[7] = {
    PY_MONITORING_EVENT_PY_START,  PY_MONITORING_EVENT_PY_RETURN, PY_MONITORING_EVENT_PY_UNWIND,
    PY_MONITORING_EVENT_LINE,      PY_MONITORING_EVENT_RAISE,     PY_MONITORING_EVENT_RERAISE,
    PY_MONITORING_EVENT_EXCEPTION_HANDLED,
};
static const uint8_t ids8[8] = {
    PY_MONITORING_EVENT_BRANCH_LEFT, PY_MONITORING_EVENT_BRANCH_RIGHT,
    PY_MONITORING_EVENT_INSTRUCTION, PY_MONITORING_EVENT_STOP_ITERATION,
    PY_MONITORING_EVENT_PY_THROW,    PY_MONITORING_EVENT_C_RETURN,
    PY_MONITORING_EVENT_PY_RESUME,   PY_MONITORING_EVENT_BRANCH,
};
/* Constant arrays with a bad id (1-3 ids: each place). */
static const uint8_t ids1_bad[1] = {19};
static const uint8_t ids2_bad[2] = {PY_MONITORING_EVENT_LINE, 0x80};
static const uint8_t ids3_bad_first[3] = {0xff, PY_MONITORING_EVENT_LINE, PY_MONITORING_EVENT_PY_START};
static const uint8_t ids3_bad_middle[3] = {PY_MONITORING_EVENT_LINE, 20, PY_MONITORING_EVENT_PY_START};
static const uint8_t ids3_bad_last[3] = {PY_MONITORING_EVENT_LINE, PY_MONITORING_EVENT_BRANCH, 0x93};
static const uint8_t ids5_bad[5] = {0, 1, 19, 3, 4};
static const uint8_t ids7_bad[7] = {0, 1, 2, 3, 4, 5, 255};

/* The calls compared: `inline_path` is 1 for PyMonitoring_EnterScope (the
 * header's inline function with -DPYMONITORING_INLINE), 0 for the library's
 * entry. Written so that each constant array reaches the inline function as
 * a constant. */
#define ENTER(inline_path, states, version, ids, len)                          \
    ((inline_path) ? PyMonitoring_EnterScope((states), (version), (ids), (len)) \
                   : _PyMonitoring_EnterScope((states), (version), (ids), (len)))

static void pattern(PyMonitoringState *buf, int seed) {
    for (int i = 0; i < SLOTS; i++) {
        buf[i].active = (uint8_t)(0x91 + 7 * i + seed);
        buf[i].opaque = (uint8_t)(0x3c + 5 * i + seed);
    }
}

typedef struct {
    int rc;
    int kind;
    char message[160];
    uint64_t version;
    PyMonitoringState slots[SLOTS];
} Outcome;

/* The outcome's error, taken and cleared. */
static void take_error(Outcome *o) {
    o->kind = PyMonitoring_ErrOccurred() ? PyMonitoring_ErrKind() : 0;
    const char *m = PyMonitoring_ErrMessage();
    snprintf(o->message, sizeof o->message, "%s", m ? m : "");
    PyMonitoring_ErrClear();
}

static int compared = 0;

static void same(const Outcome *a, const Outcome *b, const char *what, int len) {
    compared++;
    if (a->rc != b->rc || a->kind != b->kind || strcmp(a->message, b->message) != 0
        || a->version != b->version) {
        fprintf(stderr, "%s, %d slots: inline rc %d kind %d \"%s\" version %llu, library rc %d kind %d \"%s\" version %llu\n",
                what, len, a->rc, a->kind, a->message, (unsigned long long)a->version, b->rc, b->kind,
                b->message, (unsigned long long)b->version);
        harness_failures++;
    }
    for (int i = 0; i < SLOTS; i++) {
        if (a->slots[i].active != b->slots[i].active || a->slots[i].opaque != b->slots[i].opaque) {
            fprintf(stderr, "%s, %d slots: slot %d inline (%d, %d), library (%d, %d)\n", what, len,
                    i - GUARD, a->slots[i].active, a->slots[i].opaque, b->slots[i].active,
                    b->slots[i].opaque);
            harness_failures++;
        }
    }
}

/* One call each way from the same start (a stale version). */
#define COMPARE(what, ids, len, seed)                                          \
    do {                                                                       \
        Outcome o_[2];                                                         \
        for (int p_ = 0; p_ < 2; p_++) {                                       \
            pattern(o_[p_].slots, (seed));                                     \
            o_[p_].version = UINT64_MAX - 1;                                   \
            o_[p_].rc = ENTER(p_ == 0, o_[p_].slots + GUARD, &o_[p_].version, (ids), (len)); \
            take_error(&o_[p_]);                                               \
        }                                                                      \
        same(&o_[0], &o_[1], (what), (len));                                   \
    } while (0)

/* Every case of one registry state. */
static void compare_all(const char *mode) {
    char what[96];
    snprintf(what, sizeof what, "%s, constant ids", mode);
    COMPARE(what, ids1, 1, 8);
    COMPARE(what, ids1_high, 1, 9);
    COMPARE(what, ids2, 2, 10);
    COMPARE(what, ids3, 3, 11);
    COMPARE(what, ids4, 4, 1);
    COMPARE(what, ids5, 5, 2);
    COMPARE(what, ids6, 6, 3);
    COMPARE(what, ids7, 7, 4);
    COMPARE(what, ids8, 8, 5);
    snprintf(what, sizeof what, "%s, constant ids with a bad one", mode);
    COMPARE(what, ids1_bad, 1, 12);
    COMPARE(what, ids2_bad, 2, 13);
    COMPARE(what, ids3_bad_first, 3, 14);
    COMPARE(what, ids3_bad_middle, 3, 15);
    COMPARE(what, ids3_bad_last, 3, 16);
    COMPARE(what, ids5_bad, 5, 6);
    COMPARE(what, ids7_bad, 7, 7);

    snprintf(what, sizeof what, "%s, run-time ids", mode);
    uint8_t ids[MAXLEN];
    for (int len = 1; len <= MAXLEN; len++) {
        for (int seed = 0; seed < 19; seed++) {
            for (int i = 0; i < len; i++) {
                ids[i] = (uint8_t)((seed + 7 * i) % PY_MONITORING_EVENTS);
            }
            COMPARE(what, ids, len, seed);
        }
        static const uint8_t bad[] = {19, 20, 0x7f, 0x80, 0x93, 0xff};
        for (int at = 0; at < len; at++) {
            for (size_t b = 0; b < sizeof bad; b++) {
                for (int i = 0; i < len; i++) {
                    ids[i] = (uint8_t)(16 + (i % 3));
                }
                ids[at] = bad[b];
                snprintf(what, sizeof what, "%s, bad id %d at %d", mode, bad[b], at);
                COMPARE(what, ids, len, at);
            }
        }
    }
}

int main(void) {
    /* Nothing set yet: the registry is idle (a refresh zeroes `active`). */
    CHECK(_PyMonitoring_GlobalVersion[1] == _PyMonitoring_GlobalVersion[0]);
    compare_all("idle");

    /* Masks that differ from id to id, some past the first 16 (C_RETURN's
     * and C_RAISE's slots take CALL's tools, BRANCH's the branches'). */
    CHECK_OK(PyMonitoring_UseToolId(0, "zero"), 0);
    CHECK_OK(PyMonitoring_UseToolId(3, "three"), 0);
    CHECK_OK(PyMonitoring_UseToolId(5, "five"), 0);
    CHECK_OK(PyMonitoring_SetEvents(0, (1u << PY_MONITORING_EVENT_PY_START) | (1u << PY_MONITORING_EVENT_CALL)
                                           | (1u << PY_MONITORING_EVENT_BRANCH_LEFT)),
             0);
    CHECK_OK(PyMonitoring_SetEvents(3, (1u << PY_MONITORING_EVENT_LINE) | (1u << PY_MONITORING_EVENT_RAISE)
                                           | (1u << PY_MONITORING_EVENT_PY_RETURN)),
             0);
    CHECK_OK(PyMonitoring_SetEvents(5, (1u << PY_MONITORING_EVENT_CALL) | (1u << PY_MONITORING_EVENT_BRANCH_RIGHT)
                                           | (1u << PY_MONITORING_EVENT_LINE)
                                           | (1u << PY_MONITORING_EVENT_PY_UNWIND)),
             0);
    compare_all("default");

    /* The masks the checks above compare are not all 0 (C_RETURN's slot and
     * BRANCH's, 16 and 18, among them). */
    PyMonitoringState st[8];
    uint64_t version = 0;
    memset(st, 0, sizeof st);
    CHECK_OK(PyMonitoring_EnterScope(st, &version, ids4, 4), 0);
    CHECK(st[0].active != 0 && st[2].active != 0 && st[3].active != 0);
    CHECK(version == PyMonitoring_GetVersion());

    CHECK_OK(PyMonitoring_SetOptions(PY_MONITORING_OPT_ACTIVE_NEEDS_CALLBACK), 0);
    static Recording rec;
    CHECK_OK(PyMonitoring_RegisterCallback(3, PY_MONITORING_EVENT_LINE, record_event, &rec), 0);
    compare_all("ACTIVE_NEEDS_CALLBACK");
    /* The refreshed LINE slot holds tool 3 (its callback) and fires it. */
    memset(st, 0, sizeof st);
    version = 0;
    CHECK_OK(PyMonitoring_EnterScope(st, &version, ids7, 7), 0);
    CHECK_EQ_INT(st[3].active, 1 << 3);
    CHECK_OK(PyMonitoring_FireLineEvent(&st[3], OBJ(1), 3, 10), 0);
    CHECK_EQ_INT(rec.count, 1);

    /* The lasting mode: the mark in every refreshed `opaque`. */
    CHECK_OK(PyMonitoring_SetOptions(PY_MONITORING_OPT_LASTING_DISABLE), 0);
    compare_all("lasting");
    memset(st, 0, sizeof st);
    version = 0;
    CHECK_OK(PyMonitoring_EnterScope(st, &version, ids7, 7), 0);
    for (int i = 0; i < 7; i++) {
        CHECK_EQ_INT(st[i].opaque, _PYMONITORING_SLOT_MARK);
    }
    CHECK(st[1].active != 0);

    /* The host's numbering: every refresh goes to the library. */
    CHECK_OK(PyMonitoring_SetOptions(PY_MONITORING_OPT_LASTING_DISABLE | PY_MONITORING_OPT_CPYTHON_313_EVENT_IDS), 0);
    compare_all("lasting, 3.13 numbering");
    CHECK_OK(PyMonitoring_SetOptions(PY_MONITORING_OPT_CPYTHON_313_EVENT_IDS), 0);
    compare_all("3.13 numbering");

    /* No option, the gate open (the lasting mode was used), a per-tool
     * restart: the library's restart-aware refresh. */
    CHECK_OK(PyMonitoring_SetOptions(0), 0);
    CHECK_OK(PyMonitoring_RestartToolEvents(3), 0);
    compare_all("after a per-tool restart");

    CHECK(compared > 1000);
    return harness_finish("enter_scope_refresh");
}
