/* PyMonitoring_RestartToolEvents and PY_MONITORING_OPT_LASTING_DISABLE
 * (docs/EXTENSIONS.md): exact sequences, a Cython-style per-call zeroed state
 * scenario (cython_like.h), the bounded site table, and every bad input. */
#include <limits.h>
#include <pthread.h>

#include "cython_like.h"

static const CyFunction covered_fn = {"covered", 10};
static const CyFunction other_fn = {"other", 20};
#define CODE CY_CODE(&covered_fn)
#define OTHER CY_CODE(&other_fn)

static Recording rec;
static ExpectList want;

static int record_disable(void *data, const PyMonitoringEvent *ev) {
    (void)record_event(data, ev);
    return PY_MONITORING_DISABLE;
}

static long counted;
static int count_disable(void *data, const PyMonitoringEvent *ev) {
    (void)data;
    (void)ev;
    counted++;
    return PY_MONITORING_DISABLE;
}

/*   10  def covered():
 *   11      a = 1
 *   12      return a        (offsets: 0 = def, 1 = line 11, 2 = line 12) */
static PyObject *covered(const CyFunction *fn) {
    CyFrame f;
    PyObject *result = NULL;
    int lineno = fn->firstlineno;
    if (cy_trace_start(&f, fn, 0, 0) < 0) goto error;
    lineno = fn->firstlineno + 1;
    if (cy_trace_line(&f, 1, lineno) < 0) goto error;
    lineno = fn->firstlineno + 2;
    if (cy_trace_line(&f, 2, lineno) < 0) goto error;
    result = OBJ(20);
    if (cy_trace_return(&f, 2, result) < 0) goto error;
    goto done;
error:
    result = NULL;
    cy_error_label(&f, lineno);
done:
    cy_exit(&f);
    return result;
}

/* What tool 0 (answering DISABLE at every LINE) sees of one call. */
enum {
    TOOL0_NONE = 0,       /* every site remembered: nothing */
    TOOL0_FIRST_LINE = 1, /* CPython's rule: its DISABLE silences the slot */
    TOOL0_EVERY_LINE = 2  /* the lasting mode: each line once */
};

/* One call of covered() as seen by tool 2 (recording everything) and tool 0
 * (see above). */
static void expect_call(PyObject *code, int first, int tool0) {
    expect(&want, PY_MONITORING_EVENT_PY_START, 2, code, 0, -1, CY_MISSING);
    expect(&want, PY_MONITORING_EVENT_LINE, 2, code, 1, first + 1, CY_MISSING);
    if (tool0 != TOOL0_NONE)
        expect(&want, PY_MONITORING_EVENT_LINE, 0, code, 1, first + 1, CY_MISSING);
    expect(&want, PY_MONITORING_EVENT_LINE, 2, code, 2, first + 2, CY_MISSING);
    if (tool0 == TOOL0_EVERY_LINE)
        expect(&want, PY_MONITORING_EVENT_LINE, 0, code, 2, first + 2, CY_MISSING);
    expect(&want, PY_MONITORING_EVENT_PY_RETURN, 2, code, 2, -1, OBJ(20));
}

static void reset(void) {
    rec.count = 0;
    want.count = 0;
}

static void bad_input(void) {
    uint64_t v = PyMonitoring_GetVersion();
    const int bad[] = {-1, 6, 7, 8, 100, INT_MIN, INT_MAX};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char msg[80];
        snprintf(msg, sizeof msg, "invalid tool %d (must be between 0 and 5)", bad[i]);
        CHECK_ERROR(PyMonitoring_RestartToolEvents(bad[i]), PY_MONITORING_ERR_VALUE, msg);
    }
    CHECK_ERROR(PyMonitoring_RestartToolEvents(3), PY_MONITORING_ERR_VALUE, "tool 3 is not in use");
    CHECK_EQ_INT(PyMonitoring_GetVersion(), v);
    CHECK_OK(PyMonitoring_UseToolId(3, "t"), 0);
    CHECK_OK(PyMonitoring_RestartToolEvents(3), 0);
    CHECK_EQ_INT(PyMonitoring_GetVersion(), v + 1);
    CHECK_OK(PyMonitoring_FreeToolId(3), 0);
    CHECK_ERROR(PyMonitoring_RestartToolEvents(3), PY_MONITORING_ERR_VALUE, "tool 3 is not in use");
}

/* Default mode, a state array that persists (CPython's own use): only the
 * restarted tool comes back; any other change brings everyone back. */
static void default_mode_restart(void) {
    PyMonitoringState st[1];
    uint64_t v = 0;
    const uint8_t ev = PY_MONITORING_EVENT_LINE;
    memset(st, 0, sizeof st);
    reset();
    CHECK_OK(PyMonitoring_UseToolId(1, "a"), 0);
    CHECK_OK(PyMonitoring_UseToolId(3, "b"), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(1, PY_MONITORING_EVENT_LINE, record_disable, &rec), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(3, PY_MONITORING_EVENT_LINE, record_disable, &rec), 0);
    CHECK_OK(PyMonitoring_SetEvents(1, EV(LINE)), 0);
    CHECK_OK(PyMonitoring_SetEvents(3, EV(LINE)), 0);
    CHECK_OK(PyMonitoring_EnterScope(st, &v, &ev, 1), 0);
    CHECK_EQ_INT(st[0].active, 0x0a);
    CHECK_OK(PyMonitoring_FireLineEvent(&st[0], CODE, 4, 14), 0);
    CHECK_EQ_INT(st[0].active, 0);
    expect(&want, PY_MONITORING_EVENT_LINE, 3, CODE, 4, 14, CY_MISSING);
    expect(&want, PY_MONITORING_EVENT_LINE, 1, CODE, 4, 14, CY_MISSING);

    CHECK_OK(PyMonitoring_RestartToolEvents(3), 0);
    CHECK_OK(PyMonitoring_EnterScope(st, &v, &ev, 1), 0);
    CHECK_EQ_INT(st[0].active, 0x08);
    CHECK_EQ_INT(st[0].opaque, 0);
    CHECK_OK(PyMonitoring_FireLineEvent(&st[0], CODE, 4, 14), 0);
    expect(&want, PY_MONITORING_EVENT_LINE, 3, CODE, 4, 14, CY_MISSING);

    /* An unrelated SetEvents: CPython's refresh, every DISABLE ends. */
    CHECK_OK(PyMonitoring_UseToolId(5, "other"), 0);
    CHECK_OK(PyMonitoring_SetEvents(5, EV(JUMP)), 0);
    CHECK_OK(PyMonitoring_EnterScope(st, &v, &ev, 1), 0);
    CHECK_EQ_INT(st[0].active, 0x0a);
    CHECK_OK(PyMonitoring_FireLineEvent(&st[0], CODE, 4, 14), 0);
    expect(&want, PY_MONITORING_EVENT_LINE, 3, CODE, 4, 14, CY_MISSING);
    expect(&want, PY_MONITORING_EVENT_LINE, 1, CODE, 4, 14, CY_MISSING);
    CHECK_SEQUENCE(&rec, &want);
}

/* Lasting mode, the same persistent state: a DISABLE silences its site, not
 * the slot (`active` and `opaque` stay as the refresh left them), and
 * survives unrelated changes and the other tool's restart. */
static void lasting_persistent_state(void) {
    PyMonitoringState st[1];
    uint64_t v = 0;
    const uint8_t ev = PY_MONITORING_EVENT_LINE;
    memset(st, 0, sizeof st);
    reset();
    CHECK_OK(PyMonitoring_SetOptions(PY_MONITORING_OPT_LASTING_DISABLE), 0);
    CHECK_OK(PyMonitoring_EnterScope(st, &v, &ev, 1), 0);
    CHECK_EQ_INT(st[0].active, 0x0a);
    CHECK_EQ_INT(st[0].opaque, 0x80);
    CHECK_OK(PyMonitoring_FireLineEvent(&st[0], CODE, 5, 15), 0);
    expect(&want, PY_MONITORING_EVENT_LINE, 3, CODE, 5, 15, CY_MISSING);
    expect(&want, PY_MONITORING_EVENT_LINE, 1, CODE, 5, 15, CY_MISSING);
    CHECK_EQ_INT(st[0].active, 0x0a);
    CHECK_EQ_INT(st[0].opaque, 0x80);
    /* The same site again: silent; another line of the slot: delivered. */
    CHECK_OK(PyMonitoring_FireLineEvent(&st[0], CODE, 5, 15), 0);
    CHECK_OK(PyMonitoring_FireLineEvent(&st[0], CODE, 6, 16), 0);
    expect(&want, PY_MONITORING_EVENT_LINE, 3, CODE, 6, 16, CY_MISSING);
    expect(&want, PY_MONITORING_EVENT_LINE, 1, CODE, 6, 16, CY_MISSING);
    CHECK_OK(PyMonitoring_FireLineEvent(&st[0], CODE, 6, 16), 0);
    CHECK_SEQUENCE(&rec, &want);

    CHECK_OK(PyMonitoring_SetEvents(5, EV(BRANCH_LEFT)), 0);
    CHECK_OK(PyMonitoring_EnterScope(st, &v, &ev, 1), 0);
    CHECK_EQ_INT(st[0].active, 0x0a);
    CHECK_OK(PyMonitoring_FireLineEvent(&st[0], CODE, 5, 15), 0);
    CHECK_OK(PyMonitoring_RestartToolEvents(1), 0);
    CHECK_OK(PyMonitoring_EnterScope(st, &v, &ev, 1), 0);
    CHECK_EQ_INT(st[0].active, 0x0a);
    CHECK_EQ_INT(st[0].opaque, 0x80);
    CHECK_OK(PyMonitoring_FireLineEvent(&st[0], CODE, 5, 15), 0);
    expect(&want, PY_MONITORING_EVENT_LINE, 1, CODE, 5, 15, CY_MISSING);
    CHECK_SEQUENCE(&rec, &want);

    /* A fresh state at the same site: both tools are skipped without a call,
     * and nothing is written. */
    PyMonitoringState fresh[1];
    uint64_t fv = 0;
    memset(fresh, 0, sizeof fresh);
    CHECK_OK(PyMonitoring_EnterScope(fresh, &fv, &ev, 1), 0);
    CHECK_EQ_INT(fresh[0].active, 0x0a);
    CHECK_OK(PyMonitoring_FireLineEvent(&fresh[0], CODE, 5, 15), 0);
    CHECK_EQ_INT(fresh[0].active, 0x0a);
    CHECK_EQ_INT(fresh[0].opaque, 0x80);
    CHECK_SEQUENCE(&rec, &want);

    CHECK_OK(PyMonitoring_FreeToolId(1), 0);
    CHECK_OK(PyMonitoring_FreeToolId(3), 0);
    CHECK_OK(PyMonitoring_FreeToolId(5), 0);
}

/* Lasting mode with Cython's per-call zeroed states: tool 0's DISABLE of
 * each LINE is remembered for that site, so the first call shows tool 0
 * every line once and later calls skip it there without calling it. */
static void lasting_cython(void) {
    reset();
    CHECK_OK(PyMonitoring_UseToolId(2, "recorder"), 0);
    cy_register_all(2, CY_FUNCTION_EVENTS, record_event, &rec);
    CHECK_OK(PyMonitoring_SetEvents(2, CY_FUNCTION_EVENTS), 0);
    CHECK_OK(PyMonitoring_UseToolId(0, "coverage"), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(0, PY_MONITORING_EVENT_LINE, record_disable, &rec), 0);
    CHECK_OK(PyMonitoring_SetEvents(0, EV(LINE)), 0);
    for (int i = 0; i < 5; i++) {
        CHECK(covered(&covered_fn) == OBJ(20));
        expect_call(CODE, 10, i == 0 ? TOOL0_EVERY_LINE : TOOL0_NONE);
    }
    /* Another code-like is another site. */
    CHECK(covered(&other_fn) == OBJ(20));
    expect_call(OTHER, 20, TOOL0_EVERY_LINE);
    CHECK(covered(&other_fn) == OBJ(20));
    expect_call(OTHER, 20, TOOL0_NONE);
    /* Unrelated changes do not bring tool 0 back. */
    CHECK_OK(PyMonitoring_UseToolId(4, "other"), 0);
    CHECK_OK(PyMonitoring_SetEvents(4, EV(JUMP)), 0);
    CHECK(covered(&covered_fn) == OBJ(20));
    expect_call(CODE, 10, TOOL0_NONE);
    CHECK_SEQUENCE(&rec, &want);

    /* Its restart does, at every site; tool 2 was never disabled. */
    CHECK_OK(PyMonitoring_RestartToolEvents(0), 0);
    CHECK(covered(&covered_fn) == OBJ(20));
    expect_call(CODE, 10, TOOL0_EVERY_LINE);
    CHECK(covered(&other_fn) == OBJ(20));
    expect_call(OTHER, 20, TOOL0_EVERY_LINE);
    CHECK(covered(&covered_fn) == OBJ(20));
    expect_call(CODE, 10, TOOL0_NONE);
    /* RestartEvents forgets every tool's sites. */
    CHECK_OK(PyMonitoring_RestartEvents(), 0);
    CHECK(covered(&covered_fn) == OBJ(20));
    expect_call(CODE, 10, TOOL0_EVERY_LINE);
    /* A clear forgets the tool's sites (set it up again after). */
    CHECK_OK(PyMonitoring_ClearToolId(0), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(0, PY_MONITORING_EVENT_LINE, record_disable, &rec), 0);
    CHECK_OK(PyMonitoring_SetEvents(0, EV(LINE)), 0);
    CHECK(covered(&covered_fn) == OBJ(20));
    expect_call(CODE, 10, TOOL0_EVERY_LINE);
    /* So does a free, and a new owner of the id is not affected. */
    CHECK_OK(PyMonitoring_FreeToolId(0), 0);
    CHECK_OK(PyMonitoring_UseToolId(0, "new owner"), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(0, PY_MONITORING_EVENT_LINE, record_disable, &rec), 0);
    CHECK_OK(PyMonitoring_SetEvents(0, EV(LINE)), 0);
    CHECK(covered(&covered_fn) == OBJ(20));
    expect_call(CODE, 10, TOOL0_EVERY_LINE);
    CHECK(covered(&covered_fn) == OBJ(20));
    expect_call(CODE, 10, TOOL0_NONE);
    CHECK_SEQUENCE(&rec, &want);

    /* Switching the mode off: CPython's rules (a DISABLE lasts one call). */
    CHECK_OK(PyMonitoring_SetOptions(0), 0);
    for (int i = 0; i < 2; i++) {
        CHECK(covered(&covered_fn) == OBJ(20));
        expect_call(CODE, 10, TOOL0_FIRST_LINE);
    }
    CHECK_SEQUENCE(&rec, &want);
    CHECK_OK(PyMonitoring_SetOptions(PY_MONITORING_OPT_LASTING_DISABLE), 0);
    CHECK_OK(PyMonitoring_FreeToolId(0), 0);
    CHECK_OK(PyMonitoring_FreeToolId(2), 0);
    CHECK_OK(PyMonitoring_FreeToolId(4), 0);
    CHECK_EQ_INT(cy_enter_calls, cy_exit_calls);
}

/* More DISABLEd sites than the table holds: the ones it could not keep call
 * the callback again (and again), never a wrong skip. */
static void table_full(void) {
    const int n = 2 * PY_MONITORING_DISABLED_SITES;
    const uint8_t ev = PY_MONITORING_EVENT_LINE;
    long passes[3];
    CHECK_OK(PyMonitoring_UseToolId(1, "cov"), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(1, PY_MONITORING_EVENT_LINE, count_disable, NULL), 0);
    CHECK_OK(PyMonitoring_SetEvents(1, EV(LINE)), 0);
    for (int p = 0; p < 3; p++) {
        counted = 0;
        for (int off = 0; off < n; off++) {
            PyMonitoringState st[1];
            uint64_t v = 0;
            memset(st, 0, sizeof st);
            CHECK_OK(PyMonitoring_EnterScope(st, &v, &ev, 1), 0);
            CHECK_OK(PyMonitoring_FireLineEvent(&st[0], CODE, off, off), 0);
            if (st[0].active != 0x02 || st[0].opaque != 0x80)
                CHECK(!"the slot is never silenced");
        }
        passes[p] = counted;
    }
    CHECK_EQ_INT(passes[0], n);
    CHECK(passes[1] >= n - PY_MONITORING_DISABLED_SITES);
    CHECK(passes[1] < n);
    CHECK_EQ_INT(passes[2], passes[1]);
    CHECK_OK(PyMonitoring_FreeToolId(1), 0);
}

/* LINE sites whose offset is 2^25 or more, or whose line is below -1 or
 * 2^25 - 1 or more, are never remembered (docs/EXTENSIONS.md, "Site
 * memory"): their callback is called on every fire, and a site they would
 * alias (the same low bits, or the offset's bit 25 carried into the line:
 * (2^25, 5) after (0, 6)) stays itself. The other events' sites are
 * remembered at every offset. */
static void sites_outside_the_key(void) {
    const uint8_t ev = PY_MONITORING_EVENT_LINE;
    const int32_t big = 1 << 25;
    const struct { int32_t offset; int line; int remembered; } sites[] = {
        {big - 1, 5, 1}, {0, 6, 1}, {big, 5, 0}, {0, -1, 1}, {0, -2, 0},
        {1, big - 2, 1}, {1, big - 1, 0}, {2, 3, 1}, {2, 3 + (1 << 25), 0},
    };
    const int n = (int)(sizeof sites / sizeof sites[0]);
    CHECK_OK(PyMonitoring_UseToolId(1, "cov"), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(1, PY_MONITORING_EVENT_LINE, count_disable, NULL), 0);
    CHECK_OK(PyMonitoring_SetEvents(1, EV(LINE)), 0);
    for (int i = 0; i < n; i++) {
        counted = 0;
        for (int call = 0; call < 3; call++) {
            PyMonitoringState st[1];
            uint64_t v = 0;
            memset(st, 0, sizeof st);
            CHECK_OK(PyMonitoring_EnterScope(st, &v, &ev, 1), 0);
            CHECK_OK(PyMonitoring_FireLineEvent(&st[0], CODE, sites[i].offset, sites[i].line), 0);
        }
        if (counted != (sites[i].remembered ? 1 : 3)) {
            fprintf(stderr, "site %d (offset %ld, line %d): %ld callbacks\n", i,
                    (long)sites[i].offset, sites[i].line, counted);
            CHECK(!"a site outside the key is called every time, the others once");
        }
    }
    CHECK_OK(PyMonitoring_FreeToolId(1), 0);
    /* The other events have no line: every (valid) offset is remembered. */
    {
        const uint8_t start = PY_MONITORING_EVENT_PY_START;
        const int32_t offsets[] = {big, INT32_MAX, big + 7, 7};
        CHECK_OK(PyMonitoring_UseToolId(1, "cov"), 0);
        CHECK_OK(PyMonitoring_RegisterCallback(1, PY_MONITORING_EVENT_PY_START, count_disable, NULL), 0);
        CHECK_OK(PyMonitoring_SetEvents(1, EV(PY_START)), 0);
        for (int i = 0; i < (int)(sizeof offsets / sizeof offsets[0]); i++) {
            counted = 0;
            for (int call = 0; call < 3; call++) {
                PyMonitoringState st[1];
                uint64_t v = 0;
                memset(st, 0, sizeof st);
                CHECK_OK(PyMonitoring_EnterScope(st, &v, &start, 1), 0);
                CHECK_OK(PyMonitoring_FirePyStartEvent(&st[0], CODE, offsets[i]), 0);
            }
            if (counted != 1) {
                fprintf(stderr, "PY_START at offset %ld: %ld callbacks\n", (long)offsets[i], counted);
                CHECK(!"a PY_START site at any offset is called once");
            }
        }
        CHECK_OK(PyMonitoring_FreeToolId(1), 0);
    }
}

/* DISABLE from a non-local event keeps CPython's rule; bad fires are still
 * rejected on marked states. */
static void cpython_rules_kept(void) {
    PyMonitoringState st[2];
    uint64_t v = 0;
    const uint8_t evs[2] = {PY_MONITORING_EVENT_RAISE, PY_MONITORING_EVENT_LINE};
    memset(st, 0, sizeof st);
    reset();
    CHECK_OK(PyMonitoring_UseToolId(4, "t"), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(4, PY_MONITORING_EVENT_RAISE, record_disable, &rec), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(4, PY_MONITORING_EVENT_LINE, record_event, &rec), 0);
    CHECK_OK(PyMonitoring_SetEvents(4, EV(RAISE) | EV(LINE)), 0);
    CHECK_OK(PyMonitoring_EnterScope(st, &v, evs, 2), 0);
    CHECK_EQ_INT(st[0].opaque, 0x80);
    PyMonitoring_SetRaisedException(OBJ(30));
    CHECK_ERROR(PyMonitoring_FireRaiseEvent(&st[0], CODE, 3), PY_MONITORING_ERR_VALUE,
                "Cannot disable RAISE events. Callback removed.");
    CHECK_EQ_INT(st[0].active, 0x10);
    CHECK_EQ_INT(st[0].opaque, 0x80);
    PyMonitoringCallback fn = record_event;
    CHECK_OK(PyMonitoring_GetCallback(4, PY_MONITORING_EVENT_RAISE, &fn, NULL), 0);
    CHECK(fn == NULL);
    expect(&want, PY_MONITORING_EVENT_RAISE, 4, CODE, 3, -1, OBJ(30));
    CHECK_SEQUENCE(&rec, &want);

    /* The underscore function: the header's inline wrapper reads `active`
     * first, as CPython's does. */
    CHECK_ERROR(_PyMonitoring_FireLineEvent(NULL, CODE, 1, 1), PY_MONITORING_ERR_VALUE,
                "state must not be NULL");
    CHECK_ERROR(PyMonitoring_FireLineEvent(&st[1], NULL, 1, 1), PY_MONITORING_ERR_VALUE,
                "codelike must not be NULL");
    CHECK_ERROR(PyMonitoring_FireLineEvent(&st[1], CODE, -1, 1), PY_MONITORING_ERR_VALUE,
                "offset must be non-negative");
    CHECK_EQ_INT(rec.count, 1);
    CHECK_OK(PyMonitoring_FreeToolId(4), 0);
}

/* A slot refreshed in the mode, fired after the mode was switched off:
 * CPython's DISABLE clears the tool's bit in the slot (with the header's
 * inline functions too, which find nothing remembered and call the
 * library's entry without the mark test). */
static void mode_off_on_a_marked_slot(void) {
    reset();
    const uint8_t line = PY_MONITORING_EVENT_LINE;
    PyMonitoringState st;
    uint64_t v = 0;
    CHECK_OK(PyMonitoring_SetOptions(PY_MONITORING_OPT_LASTING_DISABLE), 0);
    CHECK_OK(PyMonitoring_UseToolId(3, "cov"), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(3, PY_MONITORING_EVENT_LINE, record_disable, &rec), 0);
    CHECK_OK(PyMonitoring_SetEvents(3, EV(LINE)), 0);
    memset(&st, 0, sizeof st);
    CHECK_OK(PyMonitoring_EnterScope(&st, &v, &line, 1), 0);
    CHECK_EQ_INT(st.opaque, 0x80);
    CHECK_OK(PyMonitoring_SetOptions(0), 0);
    CHECK_OK(PyMonitoring_FireLineEvent(&st, CODE, 9, 19), 0);
    CHECK_EQ_INT(st.active, 0);
    CHECK_EQ_INT(st.opaque, 0x80);
    CHECK_EQ_INT(rec.count, 1);
    CHECK_OK(PyMonitoring_FreeToolId(3), 0);
    CHECK_OK(PyMonitoring_SetOptions(PY_MONITORING_OPT_LASTING_DISABLE), 0);
}

/* Each local event's _PyMonitoring_Fire*EventUnmarked (what the header's
 * inline functions call once their own check found nothing remembered for a
 * marked slot's site): it fires as the underscore function does on a slot
 * without the mark (a DISABLE in the mode is remembered, the bit stays),
 * does not check the site itself (a remembered site fires again, where the
 * underscore function skips it), and rejects bad input as it does. */
#define UNMARKED_CASE(NAME, EVENT, LINENO, ARG0, ARGS) \
    do { \
        CHECK_OK(_PyMonitoring_Fire##NAME##EventUnmarked ARGS, 0); \
        CHECK_OK(_PyMonitoring_Fire##NAME##Event ARGS, 0); \
        CHECK_OK(_PyMonitoring_Fire##NAME##EventUnmarked ARGS, 0); \
        expect(&want, (EVENT), 3, CODE, 5, (LINENO), (ARG0)); \
        expect(&want, (EVENT), 3, CODE, 5, (LINENO), (ARG0)); \
        CHECK_EQ_INT(st.active, 1 << 3); \
        CHECK_EQ_INT(st.opaque, 0x80); \
    } while (0)

static void unmarked_entry_points(void) {
    const int local[10] = {
        PY_MONITORING_EVENT_PY_START,    PY_MONITORING_EVENT_PY_RESUME,
        PY_MONITORING_EVENT_PY_RETURN,   PY_MONITORING_EVENT_PY_YIELD,
        PY_MONITORING_EVENT_CALL,        PY_MONITORING_EVENT_LINE,
        PY_MONITORING_EVENT_JUMP,        PY_MONITORING_EVENT_BRANCH_LEFT,
        PY_MONITORING_EVENT_BRANCH_RIGHT, PY_MONITORING_EVENT_STOP_ITERATION,
    };
    const uint8_t line = PY_MONITORING_EVENT_LINE;
    uint32_t events = 0;
    PyMonitoringState st;
    uint64_t v = 0;
    reset();
    CHECK_OK(PyMonitoring_UseToolId(3, "cov"), 0);
    for (int i = 0; i < 10; i++) {
        CHECK_OK(PyMonitoring_RegisterCallback(3, local[i], record_disable, &rec), 0);
        events |= 1u << local[i];
    }
    CHECK_OK(PyMonitoring_SetEvents(3, events), 0);
    memset(&st, 0, sizeof st);
    CHECK_OK(PyMonitoring_EnterScope(&st, &v, &line, 1), 0);
    CHECK_EQ_INT(st.active, 1 << 3);
    CHECK_EQ_INT(st.opaque, 0x80);
    UNMARKED_CASE(PyStart, PY_MONITORING_EVENT_PY_START, -1, CY_MISSING, (&st, CODE, 5));
    UNMARKED_CASE(PyResume, PY_MONITORING_EVENT_PY_RESUME, -1, CY_MISSING, (&st, CODE, 5));
    UNMARKED_CASE(PyReturn, PY_MONITORING_EVENT_PY_RETURN, -1, OBJ(21), (&st, CODE, 5, OBJ(21)));
    UNMARKED_CASE(PyYield, PY_MONITORING_EVENT_PY_YIELD, -1, OBJ(22), (&st, CODE, 5, OBJ(22)));
    UNMARKED_CASE(Call, PY_MONITORING_EVENT_CALL, -1, OBJ(23), (&st, CODE, 5, OBJ(23), NULL));
    UNMARKED_CASE(Line, PY_MONITORING_EVENT_LINE, 15, CY_MISSING, (&st, CODE, 5, 15));
    UNMARKED_CASE(Jump, PY_MONITORING_EVENT_JUMP, -1, OBJ(24), (&st, CODE, 5, OBJ(24)));
    UNMARKED_CASE(BranchLeft, PY_MONITORING_EVENT_BRANCH_LEFT, -1, OBJ(25),
                  (&st, CODE, 5, OBJ(25)));
    UNMARKED_CASE(BranchRight, PY_MONITORING_EVENT_BRANCH_RIGHT, -1, OBJ(26),
                  (&st, CODE, 5, OBJ(26)));
    UNMARKED_CASE(StopIteration, PY_MONITORING_EVENT_STOP_ITERATION, -1, OBJ(27),
                  (&st, CODE, 5, OBJ(27)));
    CHECK_SEQUENCE(&rec, &want);
    CHECK_ERROR(_PyMonitoring_FireLineEventUnmarked(NULL, CODE, 1, 1), PY_MONITORING_ERR_VALUE,
                "state must not be NULL");
    CHECK_ERROR(_PyMonitoring_FirePyStartEventUnmarked(&st, NULL, 1), PY_MONITORING_ERR_VALUE,
                "codelike must not be NULL");
    CHECK_ERROR(_PyMonitoring_FireCallEventUnmarked(&st, CODE, -1, OBJ(23), NULL),
                PY_MONITORING_ERR_VALUE, "offset must be non-negative");
    CHECK_EQ_INT(rec.count, 20);
    CHECK_OK(PyMonitoring_FreeToolId(3), 0);
}
#undef UNMARKED_CASE

#if defined(PYMONITORING_INLINE)
/* The header's inline check of remembered sites (what the inline fire
 * functions do for a marked slot before calling the library) agrees with
 * the library: it reports exactly the remembered (code-like, offset, event,
 * line, tool) as remembered (1), writing nothing; an empty home as nothing
 * remembered (0); anything else is the library's (-1). */
static void inline_check(void) {
    reset();
    const uint8_t line = PY_MONITORING_EVENT_LINE;
    PyMonitoringState st;
    uint64_t v;
    CHECK_OK(PyMonitoring_UseToolId(3, "cov"), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(3, PY_MONITORING_EVENT_LINE, record_disable, &rec), 0);
    CHECK_OK(PyMonitoring_SetEvents(3, EV(LINE)), 0);
    memset(&st, 0, sizeof st);
    v = 0;
    CHECK_OK(PyMonitoring_EnterScope(&st, &v, &line, 1), 0);
    CHECK_EQ_INT(st.active, 1 << 3);
    CHECK_EQ_INT(st.opaque, 0x80);
    /* Not remembered yet (the table is empty): nothing at the site's home. */
    CHECK_EQ_INT(_PyMonitoring_SiteRemembered(&st, PY_MONITORING_EVENT_LINE, CODE, 7, 17), 0);
    CHECK_OK(PyMonitoring_FireLineEvent(&st, CODE, 7, 17), 0);
    CHECK_EQ_INT(rec.count, 1);
    CHECK_EQ_INT(st.active, 1 << 3);
    CHECK_EQ_INT(_PyMonitoring_SiteRemembered(&st, PY_MONITORING_EVENT_LINE, CODE, 7, 17), 1);
    CHECK_EQ_INT(st.active, 1 << 3);
    CHECK_EQ_INT(st.opaque, 0x80);
    /* A fresh state: the site is remembered. */
    memset(&st, 0, sizeof st);
    v = 0;
    CHECK_OK(PyMonitoring_EnterScope(&st, &v, &line, 1), 0);
    CHECK_EQ_INT(_PyMonitoring_SiteRemembered(&st, PY_MONITORING_EVENT_LINE, CODE, 7, 17), 1);
    /* Another offset, line, event or code-like is another site. */
    CHECK(_PyMonitoring_SiteRemembered(&st, PY_MONITORING_EVENT_LINE, CODE, 8, 17) != 1);
    CHECK(_PyMonitoring_SiteRemembered(&st, PY_MONITORING_EVENT_LINE, CODE, 7, 18) != 1);
    CHECK(_PyMonitoring_SiteRemembered(&st, PY_MONITORING_EVENT_JUMP, CODE, 7, 0) != 1);
    CHECK(_PyMonitoring_SiteRemembered(&st, PY_MONITORING_EVENT_LINE, OTHER, 7, 17) != 1);
    CHECK_EQ_INT(st.active, 1 << 3);
    CHECK_EQ_INT(st.opaque, 0x80);
    /* The inline fire skips without a callback; the slot's other lines fire. */
    CHECK_OK(PyMonitoring_FireLineEvent(&st, CODE, 7, 17), 0);
    CHECK_EQ_INT(rec.count, 1);
    CHECK_OK(PyMonitoring_FireLineEvent(&st, CODE, 7, 18), 0);
    CHECK_EQ_INT(rec.count, 2);
    CHECK_EQ_INT(st.active, 1 << 3);
    /* Two tools active: the library decides (tool 4 is called, 3 skipped). */
    CHECK_OK(PyMonitoring_UseToolId(4, "other"), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(4, PY_MONITORING_EVENT_LINE, record_event, &rec), 0);
    CHECK_OK(PyMonitoring_SetEvents(4, EV(LINE)), 0);
    memset(&st, 0, sizeof st);
    v = 0;
    CHECK_OK(PyMonitoring_EnterScope(&st, &v, &line, 1), 0);
    CHECK_EQ_INT(st.active, (1 << 3) | (1 << 4));
    CHECK_EQ_INT(_PyMonitoring_SiteRemembered(&st, PY_MONITORING_EVENT_LINE, CODE, 7, 17), -1);
    CHECK_OK(PyMonitoring_FireLineEvent(&st, CODE, 7, 17), 0);
    CHECK_EQ_INT(rec.count, 3);
    CHECK_EQ_INT(rec.events[2].tool_id, 4);
    CHECK_EQ_INT(st.active, (1 << 3) | (1 << 4));
    /* After the tool's restart the site is forgotten. */
    CHECK_OK(PyMonitoring_RestartToolEvents(3), 0);
    memset(&st, 0, sizeof st);
    v = 0;
    CHECK_OK(PyMonitoring_SetEvents(4, 0), 0);
    CHECK_OK(PyMonitoring_EnterScope(&st, &v, &line, 1), 0);
    CHECK(_PyMonitoring_SiteRemembered(&st, PY_MONITORING_EVENT_LINE, CODE, 7, 17) != 1);
    CHECK_OK(PyMonitoring_FreeToolId(3), 0);
    CHECK_OK(PyMonitoring_FreeToolId(4), 0);
}
#endif

/* ---- the header's per-call-site cache (docs/EXTENSIONS.md, "DISABLE that
 * lasts"): with PYMONITORING_INLINE each expansion of a local event's fire
 * macro keeps a claim that its site is DISABLEd. The exported build runs
 * the same sequences: what a tool sees is the same. ---- */

/* One fire site in a helper reached from many places: with the fire macros,
 * one cache for every (code-like, offset, line) it is reached with. */
static int shared_line(PyMonitoringState *st, PyObject *code, int32_t offset, int line) {
    return PyMonitoring_FireLineEvent(st, code, offset, line);
}

/* Tool `tool` with LINE and a callback that counts and answers DISABLE;
 * `st` entered as a 1-slot LINE scope in the lasting mode. */
static void cache_setup(int tool, PyMonitoringState *st) {
    const uint8_t ev = PY_MONITORING_EVENT_LINE;
    uint64_t v = 0;
    CHECK_OK(PyMonitoring_SetOptions(PY_MONITORING_OPT_LASTING_DISABLE), 0);
    CHECK_OK(PyMonitoring_UseToolId(tool, "cov"), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(tool, PY_MONITORING_EVENT_LINE, count_disable, NULL), 0);
    CHECK_OK(PyMonitoring_SetEvents(tool, EV(LINE)), 0);
    memset(st, 0, sizeof *st);
    CHECK_OK(PyMonitoring_EnterScope(st, &v, &ev, 1), 0);
    CHECK_EQ_INT(st->active, 1 << tool);
    CHECK_EQ_INT(st->opaque, 0x80);
}

/* A shared site reached with two offsets and two code-likes: each
 * (code-like, offset, line) is called once, and a claim for one never
 * skips another. */
static void cache_shared_site(void) {
    PyMonitoringState st;
    cache_setup(3, &st);
    counted = 0;
    for (int round = 0; round < 4; round++) {
        CHECK_OK(shared_line(&st, CODE, 1, 11), 0);
        CHECK_OK(shared_line(&st, CODE, 2, 12), 0);
        CHECK_EQ_INT(counted, 2);
    }
    /* The cache keeps its first claim, (CODE, 1, 11) (the table answers
     * (CODE, 2, 12)): the same site of another code-like is not it. */
    CHECK_OK(shared_line(&st, CODE, 1, 11), 0);
    CHECK_OK(shared_line(&st, OTHER, 1, 11), 0);
    CHECK_EQ_INT(counted, 3);
    CHECK_OK(shared_line(&st, OTHER, 2, 11), 0);
    CHECK_OK(shared_line(&st, CODE, 1, 12), 0);
    CHECK_EQ_INT(counted, 5);
    for (int round = 0; round < 4; round++) {
        CHECK_OK(shared_line(&st, CODE, 1, 11), 0);
        CHECK_OK(shared_line(&st, OTHER, 1, 11), 0);
        CHECK_OK(shared_line(&st, OTHER, 2, 11), 0);
        CHECK_OK(shared_line(&st, CODE, 2, 12), 0);
        CHECK_OK(shared_line(&st, CODE, 1, 12), 0);
    }
    CHECK_EQ_INT(counted, 5);
    CHECK_EQ_INT(st.active, 1 << 3);
    CHECK_EQ_INT(st.opaque, 0x80);
    CHECK_OK(PyMonitoring_FreeToolId(3), 0);
}

/* Each forget takes effect for the next fire at a site whose claim is in
 * its cache, on the same state (no EnterScope in between): RestartEvents,
 * the tool's restart, the tool freed (and its id used again), the mode
 * switched off. */
static void cache_forgets(void) {
    PyMonitoringState st;
    cache_setup(3, &st);
    counted = 0;
    for (int i = 0; i < 3; i++)
        CHECK_OK(shared_line(&st, CODE, 4, 14), 0);
    CHECK_EQ_INT(counted, 1);
    CHECK_OK(PyMonitoring_RestartEvents(), 0);
    for (int i = 0; i < 3; i++)
        CHECK_OK(shared_line(&st, CODE, 4, 14), 0);
    CHECK_EQ_INT(counted, 2);
    CHECK_OK(PyMonitoring_RestartToolEvents(3), 0);
    for (int i = 0; i < 3; i++)
        CHECK_OK(shared_line(&st, CODE, 4, 14), 0);
    CHECK_EQ_INT(counted, 3);
    CHECK_OK(PyMonitoring_FreeToolId(3), 0);
    CHECK_OK(PyMonitoring_UseToolId(3, "again"), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(3, PY_MONITORING_EVENT_LINE, count_disable, NULL), 0);
    CHECK_OK(PyMonitoring_SetEvents(3, EV(LINE)), 0);
    for (int i = 0; i < 3; i++)
        CHECK_OK(shared_line(&st, CODE, 4, 14), 0);
    CHECK_EQ_INT(counted, 4);
    /* Another tool's restart forgets nothing of tool 3. */
    CHECK_OK(PyMonitoring_UseToolId(5, "other"), 0);
    CHECK_OK(PyMonitoring_RestartToolEvents(5), 0);
    CHECK_OK(PyMonitoring_FreeToolId(5), 0);
    CHECK_OK(shared_line(&st, CODE, 4, 14), 0);
    CHECK_EQ_INT(counted, 4);
    /* The mode off: the marked state is fired by CPython's rule (the
     * callback again, and its DISABLE clears the slot's bit). */
    CHECK_OK(PyMonitoring_SetOptions(0), 0);
    CHECK_OK(shared_line(&st, CODE, 4, 14), 0);
    CHECK_EQ_INT(counted, 5);
    CHECK_EQ_INT(st.active, 0);
    CHECK_OK(PyMonitoring_FreeToolId(3), 0);
}

#define RACE_LINES 64
#define RACE_ROUNDS 50
static long race_calls[RACE_LINES];

static int race_disable(void *data, const PyMonitoringEvent *ev) {
    (void)data;
    __atomic_fetch_add(&race_calls[ev->lineno % RACE_LINES], 1, __ATOMIC_RELAXED);
    return PY_MONITORING_DISABLE;
}

/* Every line of RACE_LINES through the one shared site, RACE_ROUNDS times,
 * each thread on its own state. */
static void *race_lines(void *arg) {
    const uint8_t ev = PY_MONITORING_EVENT_LINE;
    PyMonitoringState st;
    uint64_t v = 0;
    (void)arg;
    memset(&st, 0, sizeof st);
    CHECK_OK(PyMonitoring_EnterScope(&st, &v, &ev, 1), 0);
    for (int round = 0; round < RACE_ROUNDS; round++)
        for (int line = 0; line < RACE_LINES; line++)
            CHECK_OK(shared_line(&st, CODE, 6, line), 0);
    return NULL;
}

/* Two threads DISABLEing the same sites at once through one shared fire
 * site: each site's callback is called at most once per thread (the first
 * fires may race), and afterwards never. */
static void cache_two_threads(void) {
    pthread_t t[2];
    CHECK_OK(PyMonitoring_SetOptions(PY_MONITORING_OPT_LASTING_DISABLE), 0);
    CHECK_OK(PyMonitoring_UseToolId(2, "race"), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(2, PY_MONITORING_EVENT_LINE, race_disable, NULL), 0);
    CHECK_OK(PyMonitoring_SetEvents(2, EV(LINE)), 0);
    for (int i = 0; i < 2; i++)
        CHECK(pthread_create(&t[i], NULL, race_lines, NULL) == 0);
    for (int i = 0; i < 2; i++)
        CHECK(pthread_join(t[i], NULL) == 0);
    for (int line = 0; line < RACE_LINES; line++)
        if (race_calls[line] < 1 || race_calls[line] > 2)
            CHECK(!"each site is called once per thread at most, and at least once");
    long before[RACE_LINES];
    memcpy(before, race_calls, sizeof before);
    race_lines(NULL);
    CHECK(memcmp(before, race_calls, sizeof before) == 0);
    CHECK_OK(PyMonitoring_FreeToolId(2), 0);
}

#if defined(PYMONITORING_INLINE) && defined(_PYMONITORING_SITE_CACHE)
/* A cache's words (what the fire macros keep): written after the table
 * found the site, for the code-like that claimed it first. */
static void cache_words(void) {
    PyMonitoringState st;
    /* Statics, as the fire macros' caches are (the header's check reads a
     * cache by its symbol's address). */
    static uint64_t cache[2];
    cache_setup(3, &st);
    counted = 0;
    CHECK_OK(_PyMonitoring_FireLineEventAt(cache, &st, CODE, 7, 17), 0);
    CHECK_EQ_INT(counted, 1);
    CHECK(cache[0] == 0 && cache[1] == 0);
    CHECK_OK(_PyMonitoring_FireLineEventAt(cache, &st, CODE, 7, 17), 0);
    CHECK_EQ_INT(counted, 1);
    const uint64_t stamp = _PyMonitoring_DisabledSites->stamp;
    CHECK(cache[0] == (uint64_t)(uintptr_t)CODE);
    CHECK(cache[1] == (8u | 7u << _PYMONITORING_CACHE_OFFSET_SHIFT
                       | (uint64_t)18 << _PYMONITORING_CACHE_LINE_SHIFT | stamp));
    /* Sites whose offset or line does not fit the claim are not cached. */
    static uint64_t wide[2];
    for (int i = 0; i < 3; i++)
        CHECK_OK(_PyMonitoring_FireLineEventAt(wide, &st, CODE, 1 << 22, 17), 0);
    CHECK_EQ_INT(counted, 2);
    CHECK(wide[0] == 0 && wide[1] == 0);
    /* After a forget, the stamp has moved: the claim no longer holds, and
     * the next site found in the table takes the cache. */
    CHECK_OK(PyMonitoring_RestartToolEvents(3), 0);
    const uint64_t moved = _PyMonitoring_DisabledSites->stamp;
    CHECK(moved != stamp);
    CHECK_OK(_PyMonitoring_FireLineEventAt(cache, &st, CODE, 7, 17), 0);
    CHECK_EQ_INT(counted, 3);
    CHECK_OK(_PyMonitoring_FireLineEventAt(cache, &st, CODE, 8, 17), 0);
    CHECK_EQ_INT(counted, 4);
    CHECK_OK(_PyMonitoring_FireLineEventAt(cache, &st, CODE, 8, 17), 0);
    CHECK(cache[1] == (8u | 8u << _PYMONITORING_CACHE_OFFSET_SHIFT
                       | (uint64_t)18 << _PYMONITORING_CACHE_LINE_SHIFT | moved));
    CHECK_OK(_PyMonitoring_FireLineEventAt(cache, &st, CODE, 8, 17), 0);
    CHECK_EQ_INT(counted, 4);
    /* Another site of the same code-like through the same cache, found in
     * the table at the claim's stamp: the cache is shared from then on (its
     * owner its own address, its claim word _PYMONITORING_CACHE_SHARED),
     * and every site through it is the table's. */
    CHECK_OK(_PyMonitoring_FireLineEventAt(cache, &st, CODE, 7, 17), 0);
    CHECK_EQ_INT(counted, 4);
    CHECK(cache[0] == (uint64_t)(uintptr_t)cache && cache[1] == _PYMONITORING_CACHE_SHARED);
    for (int i = 0; i < 3; i++) {
        CHECK_OK(_PyMonitoring_FireLineEventAt(cache, &st, CODE, 7, 17), 0);
        CHECK_OK(_PyMonitoring_FireLineEventAt(cache, &st, CODE, 8, 17), 0);
    }
    CHECK_EQ_INT(counted, 4);
    /* Another code-like through a claimed cache shares it too. */
    static uint64_t other[2];
    CHECK_OK(_PyMonitoring_FireLineEventAt(other, &st, CODE, 7, 17), 0);
    CHECK(other[0] == (uint64_t)(uintptr_t)CODE);
    CHECK_OK(_PyMonitoring_FireLineEventAt(other, &st, OTHER, 7, 17), 0);
    CHECK_EQ_INT(counted, 5);
    CHECK_OK(_PyMonitoring_FireLineEventAt(other, &st, OTHER, 7, 17), 0);
    CHECK_EQ_INT(counted, 5);
    CHECK(other[0] == (uint64_t)(uintptr_t)other && other[1] == _PYMONITORING_CACHE_SHARED);
    /* A shared cache stays shared across forgets; its sites are exact. */
    CHECK_OK(PyMonitoring_RestartToolEvents(3), 0);
    CHECK_OK(_PyMonitoring_FireLineEventAt(cache, &st, CODE, 7, 17), 0);
    CHECK_OK(_PyMonitoring_FireLineEventAt(cache, &st, CODE, 7, 17), 0);
    CHECK_EQ_INT(counted, 6);
    CHECK(cache[0] == (uint64_t)(uintptr_t)cache && cache[1] == _PYMONITORING_CACHE_SHARED);
    CHECK_OK(PyMonitoring_FreeToolId(3), 0);
}
#endif

/* The stamp saturates after (1 << 12) - 1 forgets that removed a site:
 * from then on no claim matches (none is written), and every fire at a
 * remembered site is answered by the table: still skipped, exactly.
 * Last: the stamp never comes back. */
static void cache_saturated(void) {
    PyMonitoringState st;
    const long forgets = (1L << 12) + 8;
    cache_setup(3, &st);
    counted = 0;
    for (long i = 0; i < forgets; i++) {
        CHECK_OK(shared_line(&st, CODE, 9, 19), 0);
        CHECK_OK(PyMonitoring_RestartEvents(), 0);
    }
    CHECK_EQ_INT(counted, forgets);
#if defined(PYMONITORING_INLINE) && defined(_PYMONITORING_SITE_CACHE)
    CHECK(_PyMonitoring_DisabledSites->stamp == UINT64_MAX << _PYMONITORING_CACHE_STAMP_SHIFT);
    static uint64_t cache[2];
    for (int i = 0; i < 3; i++)
        CHECK_OK(_PyMonitoring_FireLineEventAt(cache, &st, CODE, 9, 19), 0);
    CHECK(cache[0] == 0 && cache[1] == 0);
    CHECK_EQ_INT(counted, forgets + 1);
#else
    CHECK_OK(shared_line(&st, CODE, 9, 19), 0);
    CHECK_EQ_INT(counted, forgets + 1);
#endif
    for (int i = 0; i < 3; i++) {
        CHECK_OK(shared_line(&st, CODE, 9, 19), 0);
        CHECK_OK(shared_line(&st, CODE, 9, 20), 0);
    }
    CHECK_EQ_INT(counted, forgets + 2);
    CHECK_OK(PyMonitoring_RestartEvents(), 0);
    CHECK_OK(shared_line(&st, CODE, 9, 19), 0);
    CHECK_EQ_INT(counted, forgets + 3);
    CHECK_OK(PyMonitoring_FreeToolId(3), 0);
}

int main(void) {
    bad_input();
    default_mode_restart();
    lasting_persistent_state();
    lasting_cython();
    table_full();
    sites_outside_the_key();
    cpython_rules_kept();
    mode_off_on_a_marked_slot();
    unmarked_entry_points();
#if defined(PYMONITORING_INLINE)
    inline_check();
#endif
    cache_shared_site();
    cache_forgets();
    cache_two_threads();
#if defined(PYMONITORING_INLINE) && defined(_PYMONITORING_SITE_CACHE)
    cache_words();
#endif
    cache_saturated();
    CHECK_OK(PyMonitoring_SetOptions(0), 0);
    return harness_finish("ext_lasting");
}
