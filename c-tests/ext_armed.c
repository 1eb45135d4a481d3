/* Armed sites (docs/EXTENSIONS.md): PyMonitoring_ArmSites and
 * PyMonitoring_DisarmSites; exact sequences and every bad input. */
#include "harness.h"

#define EV(e) (1u << PY_MONITORING_EVENT_##e)

static Recording dbg, cov;

static void bad_input(void) {
    PyObject *code = OBJ(1);
    const int32_t sites[3] = {4, -7, 2};

    CHECK_ERROR(PyMonitoring_ArmSites(0, NULL, PY_MONITORING_ARM_LINES, sites, 1),
                PY_MONITORING_ERR_VALUE, "codelike must not be NULL");
    CHECK_ERROR(PyMonitoring_ArmSites(-1, code, PY_MONITORING_ARM_LINES, sites, 1),
                PY_MONITORING_ERR_VALUE, "invalid tool -1 (must be between 0 and 5)");
    CHECK_ERROR(PyMonitoring_ArmSites(6, code, PY_MONITORING_ARM_LINES, sites, 1),
                PY_MONITORING_ERR_VALUE, "invalid tool 6 (must be between 0 and 5)");
    CHECK_ERROR(PyMonitoring_ArmSites(0, code, 2, sites, 1), PY_MONITORING_ERR_VALUE,
                "invalid kind 2 (must be PY_MONITORING_ARM_OFFSETS or PY_MONITORING_ARM_LINES)");
    CHECK_ERROR(PyMonitoring_ArmSites(0, code, -1, sites, 1), PY_MONITORING_ERR_VALUE,
                "invalid kind -1 (must be PY_MONITORING_ARM_OFFSETS or PY_MONITORING_ARM_LINES)");
    CHECK_ERROR(PyMonitoring_ArmSites(0, code, PY_MONITORING_ARM_LINES, sites, -1),
                PY_MONITORING_ERR_VALUE, "n must be non-negative (got -1)");
    CHECK_ERROR(PyMonitoring_ArmSites(0, code, PY_MONITORING_ARM_LINES, NULL, 1),
                PY_MONITORING_ERR_VALUE, "sites must not be NULL when n > 0");
    CHECK_ERROR(PyMonitoring_ArmSites(0, code, PY_MONITORING_ARM_OFFSETS, sites, (Py_ssize_t)1048577),
                PY_MONITORING_ERR_VALUE, "too many sites (1048577; the limit is 1048576)");
    CHECK_ERROR(PyMonitoring_ArmSites(0, code, PY_MONITORING_ARM_LINES, sites, 1),
                PY_MONITORING_ERR_VALUE, "tool 0 is not in use");
    CHECK_ERROR(PyMonitoring_DisarmSites(0, NULL), PY_MONITORING_ERR_VALUE,
                "codelike must not be NULL");
    CHECK_ERROR(PyMonitoring_DisarmSites(8, code), PY_MONITORING_ERR_VALUE,
                "invalid tool 8 (must be between 0 and 5)");
    CHECK_ERROR(PyMonitoring_DisarmSites(0, code), PY_MONITORING_ERR_VALUE,
                "tool 0 is not in use");
    CHECK_OK(PyMonitoring_UseToolId(0, "dbg"), 0);
    CHECK_ERROR(PyMonitoring_ArmSites(0, code, PY_MONITORING_ARM_LINES, sites, 3),
                PY_MONITORING_ERR_VALUE, "invalid site -7 at sites[1] (must be non-negative)");
    /* Nothing was armed by the failures: a LINE reaches the tool. */
    memset(&dbg, 0, sizeof dbg);
    CHECK_OK(PyMonitoring_RegisterCallback(0, PY_MONITORING_EVENT_LINE, record_event, &dbg), 0);
    PyMonitoringState st = {1, 0};
    CHECK_OK(PyMonitoring_FireLineEvent(&st, code, 0, 99), 0);
    CHECK_EQ_INT(dbg.count, 1);
    /* n == 0 with NULL sites is valid (an empty arming); disarming what is
     * not armed is no error. */
    CHECK_OK(PyMonitoring_ArmSites(0, code, PY_MONITORING_ARM_LINES, NULL, 0), 0);
    CHECK_OK(PyMonitoring_FireLineEvent(&st, code, 0, 99), 0);
    CHECK_EQ_INT(dbg.count, 1);
    CHECK_EQ_INT(st.active, 1);
    CHECK_OK(PyMonitoring_DisarmSites(0, code), 0);
    CHECK_OK(PyMonitoring_DisarmSites(0, code), 0);
    CHECK_OK(PyMonitoring_FireLineEvent(&st, code, 0, 99), 0);
    CHECK_EQ_INT(dbg.count, 2);
    CHECK_OK(PyMonitoring_FreeToolId(0), 0);
}

/* The debugger scenario: PY_START global, LINE local to one code-like with
 * one armed line -> exactly one LINE callback. */
static void one_breakpoint(void) {
    PyObject *fn = OBJ(2), *other = OBJ(3);
    const uint8_t events[2] = {PY_MONITORING_EVENT_PY_START, PY_MONITORING_EVENT_LINE};
    PyMonitoringState a[2] = {{0, 0}}, b[2] = {{0, 0}};
    uint64_t va = 0, vb = 0;
    const int32_t bp[1] = {12};

    memset(&dbg, 0, sizeof dbg);
    CHECK_OK(PyMonitoring_UseToolId(PY_MONITORING_DEBUGGER_ID, "dbg"), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(0, PY_MONITORING_EVENT_PY_START, record_event, &dbg), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(0, PY_MONITORING_EVENT_LINE, record_event, &dbg), 0);
    CHECK_OK(PyMonitoring_SetEvents(0, EV(PY_START)), 0);
    CHECK_OK(PyMonitoring_SetLocalEvents(0, fn, EV(LINE)), 0);
    uint64_t v0 = PyMonitoring_GetVersion();
    CHECK_OK(PyMonitoring_ArmSites(0, fn, PY_MONITORING_ARM_LINES, bp, 1), 0);
    CHECK_EQ_INT(PyMonitoring_GetVersion(), v0); /* arming moves no version */

    for (int call = 0; call < 2; call++) {
        CHECK_OK(PyMonitoring_EnterCodeScope(a, &va, events, 2, fn), 0);
        CHECK_OK(PyMonitoring_FirePyStartEvent(&a[0], fn, 0), 0);
        for (int line = 10; line < 15; line++)
            CHECK_OK(PyMonitoring_FireLineEvent(&a[1], fn, 2 * line, line), 0);
        CHECK_EQ_INT(a[1].active, 1); /* skipped sites keep the bit */
        CHECK_OK(PyMonitoring_EnterCodeScope(b, &vb, events, 2, other), 0);
        CHECK_OK(PyMonitoring_FirePyStartEvent(&b[0], other, 0), 0);
        CHECK_OK(PyMonitoring_FireLineEvent(&b[1], other, 2, 12), 0);
    }
    CHECK_EQ_INT(dbg.count, 6);
    for (int call = 0; call < 2; call++) {
        int i = 3 * call;
        CHECK_EVENT(&dbg, i, PY_MONITORING_EVENT_PY_START, 0, fn, 0, -1, PyMonitoring_MISSING, PyMonitoring_MISSING);
        CHECK_EVENT(&dbg, i + 1, PY_MONITORING_EVENT_LINE, 0, fn, 24, 12, PyMonitoring_MISSING, PyMonitoring_MISSING);
        CHECK_EVENT(&dbg, i + 2, PY_MONITORING_EVENT_PY_START, 0, other, 0, -1, PyMonitoring_MISSING, PyMonitoring_MISSING);
    }
    CHECK_OK(PyMonitoring_FreeToolId(0), 0);
}

/* OFFSETS filter every local event by offset, LINES only LINE by lineno;
 * non-local events are never filtered; each tool has its own arming. */
static void kinds_and_tools(void) {
    PyObject *code = OBJ(4);
    const int32_t offsets[3] = {8, 4, 4};
    const int32_t lines[1] = {20};
    PyObject *exc = OBJ(40);

    memset(&dbg, 0, sizeof dbg);
    memset(&cov, 0, sizeof cov);
    CHECK_OK(PyMonitoring_UseToolId(2, "offsets"), 0);
    CHECK_OK(PyMonitoring_UseToolId(3, "lines"), 0);
    const int evs[6] = {PY_MONITORING_EVENT_PY_START, PY_MONITORING_EVENT_CALL,
                        PY_MONITORING_EVENT_LINE, PY_MONITORING_EVENT_JUMP,
                        PY_MONITORING_EVENT_RAISE, PY_MONITORING_EVENT_BRANCH};
    for (int i = 0; i < 6; i++) {
        CHECK_OK(PyMonitoring_RegisterCallback(2, evs[i], record_event, &dbg), 0);
        CHECK_OK(PyMonitoring_RegisterCallback(3, evs[i], record_event, &cov), 0);
    }
    CHECK_OK(PyMonitoring_ArmSites(2, code, PY_MONITORING_ARM_OFFSETS, offsets, 3), 0);
    CHECK_OK(PyMonitoring_ArmSites(3, code, PY_MONITORING_ARM_LINES, lines, 1), 0);
    PyMonitoringState st = {(1 << 2) | (1 << 3), 0};
    CHECK_OK(PyMonitoring_FirePyStartEvent(&st, code, 0), 0);          /* cov */
    CHECK_OK(PyMonitoring_FireCallEvent(&st, code, 4, OBJ(10), OBJ(11)), 0); /* both */
    CHECK_OK(PyMonitoring_FireLineEvent(&st, code, 8, 21), 0);         /* dbg */
    CHECK_OK(PyMonitoring_FireLineEvent(&st, code, 10, 20), 0);        /* cov */
    CHECK_OK(PyMonitoring_FireJumpEvent(&st, code, 12, OBJ(12)), 0);   /* cov */
    CHECK_OK(_PyMonitoring_FireBranchEvent(&st, code, 8, OBJ(13)), 0);  /* both */
    CHECK_OK(PyMonitoring_FireJumpEvent(&st, OBJ(5), 13, OBJ(12)), 0); /* both: not armed */
    PyMonitoring_SetRaisedException(exc);
    CHECK_EQ_INT(PyMonitoring_FireRaiseEvent(&st, code, 99), 0);       /* both: non-local */
    CHECK(PyMonitoring_GetRaisedException() == exc);
    CHECK_EQ_INT(st.active, (1 << 2) | (1 << 3));
    CHECK_EQ_INT(dbg.count, 5);
    const int dbg_off[5] = {4, 8, 8, 13, 99};
    for (int i = 0; i < 5 && i < dbg.count; i++) CHECK_EQ_INT(dbg.events[i].offset, dbg_off[i]);
    CHECK_EVENT(&dbg, 2, PY_MONITORING_EVENT_BRANCH_RIGHT, 2, code, 8, -1, OBJ(13), PyMonitoring_MISSING);
    CHECK_EQ_INT(cov.count, 7);
    const int cov_off[7] = {0, 4, 10, 12, 8, 13, 99};
    for (int i = 0; i < 7 && i < cov.count; i++) CHECK_EQ_INT(cov.events[i].offset, cov_off[i]);
    CHECK_EVENT(&cov, 2, PY_MONITORING_EVENT_LINE, 3, code, 10, 20, PyMonitoring_MISSING, PyMonitoring_MISSING);

    /* Re-arming replaces the set; Clear drops the tool's arming. */
    const int32_t other_offsets[1] = {12};
    CHECK_OK(PyMonitoring_ArmSites(2, code, PY_MONITORING_ARM_OFFSETS, other_offsets, 1), 0);
    CHECK_OK(PyMonitoring_FireJumpEvent(&st, code, 4, OBJ(12)), 0);
    CHECK_OK(PyMonitoring_FireJumpEvent(&st, code, 12, OBJ(12)), 0);
    CHECK_EQ_INT(dbg.count, 6);
    CHECK_EQ_INT(dbg.events[5].offset, 12);
    CHECK_OK(PyMonitoring_ClearToolId(3), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(3, PY_MONITORING_EVENT_LINE, record_event, &cov), 0);
    int before = cov.count;
    CHECK_OK(PyMonitoring_FireLineEvent(&st, code, 0, 1), 0);
    CHECK_EQ_INT(cov.count, before + 1);
    CHECK_OK(PyMonitoring_FreeToolId(2), 0);
    CHECK_OK(PyMonitoring_UseToolId(2, "again"), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(2, PY_MONITORING_EVENT_JUMP, record_event, &dbg), 0);
    CHECK_OK(PyMonitoring_FireJumpEvent(&st, code, 4, OBJ(12)), 0);
    CHECK_EQ_INT(dbg.count, 7);
    CHECK_OK(PyMonitoring_FreeToolId(2), 0);
    CHECK_OK(PyMonitoring_FreeToolId(3), 0);
}

/* A DISABLE at an armed site clears the slot (it serves every site); a
 * skipped site neither calls nor clears. With PY_MONITORING_OPT_LASTING_DISABLE
 * (docs/EXTENSIONS.md) a DISABLE silences its site instead and the slot
 * keeps its bit. */
static void disable(void) {
    PyObject *code = OBJ(6);
    uint32_t options = 0;
    CHECK_OK(PyMonitoring_GetOptions(&options), 0);
    int lasting = (options & PY_MONITORING_OPT_LASTING_DISABLE) != 0;
    const int32_t lines[1] = {3};
    memset(&cov, 0, sizeof cov);
    cov.answer = PY_MONITORING_DISABLE;
    CHECK_OK(PyMonitoring_UseToolId(1, "cov"), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(1, PY_MONITORING_EVENT_LINE, record_event, &cov), 0);
    CHECK_OK(PyMonitoring_ArmSites(1, code, PY_MONITORING_ARM_LINES, lines, 1), 0);
    PyMonitoringState st = {2, 0};
    CHECK_OK(PyMonitoring_FireLineEvent(&st, code, 0, 2), 0);
    CHECK_EQ_INT(st.active, 2);
    CHECK_EQ_INT(cov.count, 0);
    CHECK_OK(PyMonitoring_FireLineEvent(&st, code, 2, 3), 0);
    CHECK_EQ_INT(st.active, lasting ? 2 : 0);
    CHECK_EQ_INT(cov.count, 1);
    CHECK_OK(PyMonitoring_FreeToolId(1), 0);
}

int main(void) {
    bad_input();
    one_breakpoint();
    kinds_and_tools();
    disable();
    return harness_finish("ext_armed");
}
