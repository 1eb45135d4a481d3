/* Exception state around firing (verified on 3.13 where CPython defines it):
 * - the six exception events deliver the pending exception and leave the
 *   same object pending on success; a failing callback's error replaces it
 *   (a host object, a library error, or the RuntimeError of a bare -1);
 * - callbacks run with a clear indicator;
 * - STOP_ITERATION delivers its value as given and leaves nothing pending;
 * - a negative offset with an inactive state: the plain/inline path returns
 *   0 with no error; the underscore entry point fails (the "no exception"
 *   check first, then the offset), and with an active state no callback is
 *   called.
 * - the library's own rule for other events: what was pending is kept aside
 *   and pending again afterwards (docs/DIVERGENCES.md). */
#include "cpython_cases.h"

#define EXC OBJ(21)
#define OTHER OBJ(22)

static int mode; /* 0 ok, 1 host error, 2 library error, 3 bare -1 */

static int cb(void *data, const PyMonitoringEvent *ev) {
    Counter *c = (Counter *)data;
    int rc = count_event(data, ev);
    (void)c;
    switch (mode) {
    case 1: PyMonitoring_SetRaisedException(OTHER); return -1;
    case 2: PyMonitoring_ErrSetString(PY_MONITORING_ERR_VALUE, "callback says no"); return -1;
    case 3: return -1;
    default: return rc;
    }
}

int main(void) {
    const int exc_events[] = {PY_MONITORING_EVENT_PY_THROW, PY_MONITORING_EVENT_RAISE,
                              PY_MONITORING_EVENT_EXCEPTION_HANDLED, PY_MONITORING_EVENT_PY_UNWIND,
                              PY_MONITORING_EVENT_RERAISE, PY_MONITORING_EVENT_C_RAISE};
    Counter c = {0};
    uint8_t all[18];
    for (int i = 0; i < 18; i++) all[i] = (uint8_t)i;
    CHECK_OK(PyMonitoring_UseToolId(TEST_TOOL, "test"), 0);
    for (int ev = 0; ev < 18; ev++) {
        if (ev != PY_MONITORING_EVENT_INSTRUCTION) {
            CHECK_OK(PyMonitoring_RegisterCallback(TEST_TOOL, ev, cb, &c), 0);
        }
    }
    CHECK_OK(PyMonitoring_SetEvents(TEST_TOOL, 0x3ffffu & ~EVBIT(PY_MONITORING_EVENT_INSTRUCTION)), 0);
    {
        PyMonitoringState st[18];
        uint64_t v = 0;
        memset(st, 0, sizeof st);
        CHECK_OK(PyMonitoring_EnterScope(st, &v, all, 18), 0);
        for (size_t i = 0; i < sizeof exc_events / sizeof exc_events[0]; i++) {
            int ev = exc_events[i];
            char msg[96];
            c.count = 0;
            mode = 0;
            PyMonitoring_SetRaisedException(EXC);
            CHECK_FIRED(fire(ev, &st[ev], CODE, 1, NULL, NULL, 0));
            CHECK(PyMonitoring_GetRaisedException() == EXC);
            CHECK(c.last.arg0 == EXC);
            mode = 1;
            PyMonitoring_SetRaisedException(EXC);
            CHECK_EQ_INT(fire(ev, &st[ev], CODE, 1, NULL, NULL, 0), -1);
            CHECK(PyMonitoring_GetRaisedException() == OTHER);
            mode = 2;
            PyMonitoring_SetRaisedException(EXC);
            CHECK_ERROR(fire(ev, &st[ev], CODE, 1, NULL, NULL, 0), PY_MONITORING_ERR_VALUE,
                        "callback says no");
            CHECK(PyMonitoring_GetRaisedException() == NULL);
            mode = 3;
            PyMonitoring_SetRaisedException(EXC);
            snprintf(msg, sizeof msg, "callback of tool 2 for %s returned -1 without setting an error",
                     event_name(ev));
            CHECK_ERROR(fire(ev, &st[ev], CODE, 1, NULL, NULL, 0), PY_MONITORING_ERR_RUNTIME, msg);
            /* a library error pending: delivered as MISSING, pending again */
            mode = 0;
            PyMonitoring_ErrSetString(PY_MONITORING_ERR_RUNTIME, "library error");
            CHECK_FIRED(fire(ev, &st[ev], CODE, 1, NULL, NULL, 0));
            CHECK(c.last.arg0 == PyMonitoring_MISSING);
            CHECK_ERROR(-1, PY_MONITORING_ERR_RUNTIME, "library error");
            CHECK_EQ_INT(c.count, 5);
            /* negative offset with the exception set: the offset error
             * replaces the exception; no callback */
            PyMonitoring_SetRaisedException(EXC);
            CHECK_ERROR(fire(ev, &st[ev], CODE, -1, NULL, NULL, 0), PY_MONITORING_ERR_VALUE,
                        "offset must be non-negative");
            CHECK_EQ_INT(c.count, 5);
        }

        /* STOP_ITERATION: value as given, nothing pending afterwards */
        mode = 0;
        c.count = 0;
        CHECK_OK(PyMonitoring_FireStopIterationEvent(&st[PY_MONITORING_EVENT_STOP_ITERATION], CODE, 0, OBJ(7)), 0);
        CHECK(c.last.arg0 == OBJ(7));
        CHECK(!PyMonitoring_ErrOccurred());
        CHECK_OK(PyMonitoring_FireStopIterationEvent(&st[PY_MONITORING_EVENT_STOP_ITERATION], CODE, 0, NULL), 0);
        CHECK(c.last.arg0 == PyMonitoring_MISSING);
        CHECK(!PyMonitoring_ErrOccurred());
        CHECK_EQ_INT(c.count, 2);
        mode = 1;
        CHECK_EQ_INT(PyMonitoring_FireStopIterationEvent(&st[PY_MONITORING_EVENT_STOP_ITERATION], CODE, 0, OBJ(7)), -1);
        CHECK(PyMonitoring_GetRaisedException() == OTHER);
        mode = 0;

        /* non-exception events with an exception pending: the callback sees
         * a clear indicator, the exception is pending again afterwards */
        for (int ev = 0; ev <= PY_MONITORING_EVENT_STOP_ITERATION; ev++) {
            if (ev == PY_MONITORING_EVENT_INSTRUCTION) continue;
            c.count = 0;
            PyMonitoring_SetRaisedException(EXC);
            CHECK_FIRED(fire(ev, &st[ev], CODE, 0, OBJ(1), OBJ(2), 3));
            CHECK_EQ_INT(c.count, 1);
            CHECK(PyMonitoring_GetRaisedException() == EXC);
        }
        CHECK_EQ_INT(PyMonitoring_FireCReturnEvent(&st[PY_MONITORING_EVENT_C_RETURN], CODE, 0, OBJ(1)), 0);

        /* negative offset, active state: no callback, error */
        for (int ev = 0; ev <= 17; ev++) {
            if (ev == PY_MONITORING_EVENT_INSTRUCTION || is_exception_event(ev)) continue;
            c.count = 0;
            CHECK_ERROR(fire(ev, &st[ev], CODE, -5, OBJ(1), OBJ(2), 3), PY_MONITORING_ERR_VALUE,
                        "offset must be non-negative");
            CHECK_ERROR(fire_underscore(ev, &st[ev], CODE, -5, OBJ(1), OBJ(2), 3),
                        PY_MONITORING_ERR_VALUE, "offset must be non-negative");
            CHECK_EQ_INT(c.count, 0);
        }
    }

    /* negative offset, inactive state */
    {
        PyMonitoringState off = {0, 0};
        for (int ev = 0; ev <= 17; ev++) {
            char msg[64];
            if (ev == PY_MONITORING_EVENT_INSTRUCTION) continue;
            CHECK_OK(fire(ev, &off, CODE, -1, OBJ(1), OBJ(2), 3), 0);
            if (is_exception_event(ev)) {
                snprintf(msg, sizeof msg, "Firing event %d with no exception set", ev);
                CHECK_ERROR(fire_underscore(ev, &off, CODE, -1, NULL, NULL, 0), PY_MONITORING_ERR_VALUE, msg);
                PyMonitoring_SetRaisedException(EXC);
            }
            CHECK_ERROR(fire_underscore(ev, &off, CODE, -1, OBJ(1), OBJ(2), 3), PY_MONITORING_ERR_VALUE,
                        "offset must be non-negative");
        }
        CHECK_EQ_INT(off.active, 0);
    }

    for (int ev = 0; ev < 18; ev++) {
        CHECK_OK(PyMonitoring_RegisterCallback(TEST_TOOL, ev, NULL, NULL), 0);
    }
    CHECK_OK(PyMonitoring_FreeToolId(TEST_TOOL), 0);
    no_events_set();
    return harness_finish("cpython_exceptions");
}
