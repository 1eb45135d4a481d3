/* PyMonitoring_SetHost (docs/HOSTS.md) with a fake host: exceptions are
 * reference-counted objects and the host's indicator owns one, as CPython's
 * does. Every exception event takes the host's exception and gives it back;
 * every error path of the API raises in the host; nested fires; MISSING; bad
 * input to the installer. argv[1] == "late": installing after a fire fails. */
#include <pthread.h>

#include "harness.h"

/* ---- the fake host ---- */
typedef struct {
    int refs;
    const char *cls;
    char message[160];
} Exc;

static Exc pool[256];
static int pool_used;
static Exc value_error, runtime_error, missing; /* classes and MISSING: only addresses matter */
static _Thread_local Exc *current;             /* the host's indicator, per thread (owns a reference) */
static _Thread_local int host_calls;

static Exc *new_exc(const char *cls, const char *message) {
    Exc *e = &pool[pool_used++];
    e->refs = 1;
    e->cls = cls;
    snprintf(e->message, sizeof e->message, "%s", message);
    return e;
}

static void decref(Exc *e) {
    if (e) e->refs--;
}

static PyObject *host_get(void) {
    host_calls++;
    Exc *e = current;
    current = NULL;
    return (PyObject *)(void *)e;
}

static void host_set(PyObject *exc) {
    host_calls++;
    Exc *old = current;
    current = (Exc *)(void *)exc;
    decref(old);
}

static void host_set_string(PyObject *type, const char *message) {
    host_calls++;
    const char *cls = type == (PyObject *)(void *)&value_error     ? "ValueError"
                      : type == (PyObject *)(void *)&runtime_error ? "RuntimeError"
                                                                   : "?";
    Exc *old = current;
    current = new_exc(cls, message);
    decref(old);
}

/* The host's indicator holds a `cls` exception with `msg`; it is cleared. */
#define CHECK_HOST_ERROR(rc, cls_, msg)                                              \
    do {                                                                             \
        CHECK_EQ_INT((rc), -1);                                                      \
        if (current == NULL || strcmp(current->cls, (cls_)) != 0 ||                  \
            strcmp(current->message, (msg)) != 0) {                                  \
            fprintf(stderr, "%s:%d: host holds %s \"%s\", expected %s \"%s\"\n",     \
                    __FILE__, __LINE__, current ? current->cls : "nothing",          \
                    current ? current->message : "", (cls_), (msg));                 \
            harness_failures++;                                                      \
        }                                                                            \
        host_set(NULL);                                                              \
    } while (0)

static PyMonitoringHost good_host(void) {
    PyMonitoringHost h;
    memset(&h, 0, sizeof h);
    h.version = PY_MONITORING_HOST_VERSION;
    h.get_raised_exception = host_get;
    h.set_raised_exception = host_set;
    h.set_string = host_set_string;
    h.value_error = (PyObject *)(void *)&value_error;
    h.runtime_error = (PyObject *)(void *)&runtime_error;
    h.missing = (PyObject *)(void *)&missing;
    return h;
}

/* ---- the tool ---- */
static Recording rec;
static int clear_during_callback = 1; /* every callback started with nothing pending */
static int callback_mode;             /* what tool 2's callback does */
enum { PLAIN, RAISE_HOST, FAIL_SILENT, ANSWER_DISABLE, SUCCEED_WITH_ERROR, NEST };
static PyMonitoringState nested_state;
static int nested_rc = -2, nested_host_calls = -1;

static int tool(void *data, const PyMonitoringEvent *ev) {
    if (current != NULL) clear_during_callback = 0;
    record_event(data, ev);
    switch (callback_mode) {
    case RAISE_HOST:
        host_set((PyObject *)(void *)new_exc("OSError", "from the callback"));
        return -1;
    case FAIL_SILENT:
        return -1;
    case ANSWER_DISABLE:
        return PY_MONITORING_DISABLE;
    case SUCCEED_WITH_ERROR:
        host_set((PyObject *)(void *)new_exc("OSError", "left behind"));
        return 0;
    case NEST: {
        int before = host_calls;
        Exc *e = new_exc("KeyError", "nested");
        current = e;
        nested_rc = PyMonitoring_FireRaiseEvent(&nested_state, OBJ(9), 0);
        nested_host_calls = host_calls - before;
        CHECK(current == e);
        current = NULL;
        decref(e);
        return 0;
    }
    default:
        return 0;
    }
}

static Recording low;

/* Each wrapper is called at a call site of its own (not through a pointer,
 * which would make the inline build emit an out-of-line copy). */
static int fire_exception_event(int event, PyMonitoringState *st, PyObject *code, int32_t offset) {
    switch (event) {
    case PY_MONITORING_EVENT_RAISE: return PyMonitoring_FireRaiseEvent(st, code, offset);
    case PY_MONITORING_EVENT_RERAISE: return PyMonitoring_FireReraiseEvent(st, code, offset);
    case PY_MONITORING_EVENT_EXCEPTION_HANDLED:
        return PyMonitoring_FireExceptionHandledEvent(st, code, offset);
    case PY_MONITORING_EVENT_PY_UNWIND: return PyMonitoring_FirePyUnwindEvent(st, code, offset);
    case PY_MONITORING_EVENT_PY_THROW: return PyMonitoring_FirePyThrowEvent(st, code, offset);
    case PY_MONITORING_EVENT_C_RAISE: return PyMonitoring_FireCRaiseEvent(st, code, offset);
    default: return -2;
    }
}

static const struct {
    int event;
    const char *name;
} exception_events[] = {
    {PY_MONITORING_EVENT_RAISE, "RAISE"},
    {PY_MONITORING_EVENT_RERAISE, "RERAISE"},
    {PY_MONITORING_EVENT_EXCEPTION_HANDLED, "EXCEPTION_HANDLED"},
    {PY_MONITORING_EVENT_PY_UNWIND, "PY_UNWIND"},
    {PY_MONITORING_EVENT_PY_THROW, "PY_THROW"},
    {PY_MONITORING_EVENT_C_RAISE, "C_RAISE"},
};
#define N_EXC (int)(sizeof exception_events / sizeof exception_events[0])

static void enter(PyMonitoringState *st, int event) {
    uint64_t version = 0;
    uint8_t ev = (uint8_t)event;
    CHECK_EQ_INT(PyMonitoring_EnterScope(st, &version, &ev, 1), 0);
}

/* Another thread: its own host indicator, its first fire after SetHost. */
static Exc other_exc;
static int other_thread_ok;

static void *other_thread(void *arg) {
    (void)arg;
    PyMonitoringState s = {0, 0};
    enter(&s, PY_MONITORING_EVENT_RAISE);
    other_exc.refs = 1;
    other_exc.cls = "ValueError";
    host_set((PyObject *)(void *)&other_exc);
    int rc = PyMonitoring_FireRaiseEvent(&s, OBJ(6), 2);
    other_thread_ok = rc == 0 && current == &other_exc && other_exc.refs == 1 && host_calls > 1;
    host_set(NULL);
    other_thread_ok = other_thread_ok && other_exc.refs == 0;
    return NULL;
}

static int late(void) {
    /* A fire before the host: installing is too late, the error is the
     * library's own. */
    static Recording r;
    PyMonitoringHost h = good_host();
    PyMonitoringState st = {0, 0};
    CHECK_OK(PyMonitoring_UseToolId(2, "t"), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(2, PY_MONITORING_EVENT_PY_START, record_event, &r), 0);
    CHECK_OK(PyMonitoring_SetEvents(2, 1u << PY_MONITORING_EVENT_PY_START), 0);
    enter(&st, PY_MONITORING_EVENT_PY_START);
    CHECK_OK(PyMonitoring_FirePyStartEvent(&st, OBJ(1), 0), 0);
    CHECK_ERROR(PyMonitoring_SetHost(&h), PY_MONITORING_ERR_RUNTIME,
                "PyMonitoring_SetHost must be called before the first event is fired");
    CHECK(current == NULL);
    CHECK_EQ_INT(host_calls, 0);
    CHECK_EQ_INT(r.count, 1);
    return harness_finish("host_hooks late");
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "late") == 0) return late();

    /* ---- bad input to the installer (no host yet: the library's errors) ---- */
    PyMonitoringHost h = good_host();
    CHECK_ERROR(PyMonitoring_SetHost(NULL), PY_MONITORING_ERR_VALUE, "host must not be NULL");
    h.version = 0;
    CHECK_ERROR(PyMonitoring_SetHost(&h), PY_MONITORING_ERR_VALUE,
                "unsupported PyMonitoringHost version 0 (this library knows version 1)");
    h.version = 2;
    CHECK_ERROR(PyMonitoring_SetHost(&h), PY_MONITORING_ERR_VALUE,
                "unsupported PyMonitoringHost version 2 (this library knows version 1)");
    h = good_host();
    h.get_raised_exception = NULL;
    CHECK_ERROR(PyMonitoring_SetHost(&h), PY_MONITORING_ERR_VALUE,
                "host->get_raised_exception must not be NULL");
    h = good_host();
    h.set_raised_exception = NULL;
    CHECK_ERROR(PyMonitoring_SetHost(&h), PY_MONITORING_ERR_VALUE,
                "host->set_raised_exception must not be NULL");
    h = good_host();
    h.set_string = NULL;
    CHECK_ERROR(PyMonitoring_SetHost(&h), PY_MONITORING_ERR_VALUE,
                "host->set_string must not be NULL");
    h = good_host();
    h.value_error = NULL;
    CHECK_ERROR(PyMonitoring_SetHost(&h), PY_MONITORING_ERR_VALUE,
                "host->value_error must not be NULL");
    h = good_host();
    h.runtime_error = NULL;
    CHECK_ERROR(PyMonitoring_SetHost(&h), PY_MONITORING_ERR_VALUE,
                "host->runtime_error must not be NULL");
    CHECK_EQ_INT(host_calls, 0);
    CHECK(PyMonitoring_GetMissing() != (PyObject *)(void *)&missing);

    /* Registering before the host is fine; the struct is copied. */
    CHECK_OK(PyMonitoring_UseToolId(2, "tool"), 0);
    CHECK_OK(PyMonitoring_UseToolId(1, "low"), 0);
    h = good_host();
    CHECK_OK(PyMonitoring_SetHost(&h), 0);
    memset(&h, 0, sizeof h);
    CHECK(PyMonitoring_GetMissing() == (PyObject *)(void *)&missing);

    /* Twice: a RuntimeError, now raised in the host. */
    PyMonitoringHost again = good_host();
    CHECK_HOST_ERROR(PyMonitoring_SetHost(&again), "RuntimeError",
                     "a host is already installed (PyMonitoring_SetHost may be called once)");

    /* ---- the error functions read through to the host ---- */
    CHECK_EQ_INT(PyMonitoring_ErrOccurred(), 0);
    CHECK_EQ_INT(PyMonitoring_ErrKind(), PY_MONITORING_ERR_NONE);
    CHECK(PyMonitoring_ErrMessage() == NULL);
    Exc *e = new_exc("KeyError", "k");
    host_set((PyObject *)(void *)e);
    CHECK_EQ_INT(PyMonitoring_ErrOccurred(), 1);
    CHECK_EQ_INT(PyMonitoring_ErrKind(), PY_MONITORING_ERR_HOST);
    CHECK(PyMonitoring_ErrMessage() != NULL &&
          strcmp(PyMonitoring_ErrMessage(), "exception object set by the host") == 0);
    CHECK(current == e);
    PyMonitoring_ErrClear();
    CHECK(current == NULL);
    CHECK_EQ_INT(e->refs, 0);
    CHECK_EQ_INT(PyMonitoring_ErrSetString(PY_MONITORING_ERR_VALUE, "from C"), 0);
    CHECK_HOST_ERROR(-1, "ValueError", "from C");
    CHECK_EQ_INT(PyMonitoring_ErrSetString(PY_MONITORING_ERR_RUNTIME, "also"), 0);
    CHECK_HOST_ERROR(-1, "RuntimeError", "also");
    e = new_exc("KeyError", "k2");
    PyMonitoring_SetRaisedException((PyObject *)(void *)e); /* steals, as the host's */
    CHECK(current == e);
    CHECK(PyMonitoring_GetRaisedException() == (PyObject *)(void *)e);
    CHECK(current == NULL);
    decref(e);

    /* ---- every error path of the API raises in the host ---- */
    uint64_t version = 12345; /* stale: EnterScope refreshes and checks the ids */
    uint8_t bad_event = 19;
    PyMonitoringState st[2] = {{0, 0}, {0, 0}};
    CHECK_HOST_ERROR(PyMonitoring_UseToolId(9, "x"), "ValueError",
                     "invalid tool 9 (must be between 0 and 5)");
    CHECK_HOST_ERROR(PyMonitoring_SetEvents(4, 1), "ValueError", "tool 4 is not in use");
    CHECK_HOST_ERROR(PyMonitoring_RegisterCallback(2, 99, tool, NULL), "ValueError",
                     "invalid event 99");
    CHECK_HOST_ERROR(PyMonitoring_EnterScope(st, NULL, &bad_event, 1), "ValueError",
                     "version must not be NULL");
    CHECK_HOST_ERROR(PyMonitoring_EnterScope(st, &version, &bad_event, 1), "ValueError",
                     "invalid event 19 in event_types[0] (must be between 0 and 18)");
    CHECK_HOST_ERROR(PyMonitoring_FirePyStartEvent(NULL, OBJ(1), 0), "ValueError",
                     "state must not be NULL");
    CHECK_HOST_ERROR(PyMonitoring_SetOptions(0x80), "ValueError",
                     "invalid options 0x80 (known options are 0x7)");
    CHECK_HOST_ERROR(PyMonitoring_ErrSetString(7, "x"), "ValueError",
                     "invalid error kind 7 (use PY_MONITORING_ERR_VALUE or PY_MONITORING_ERR_RUNTIME)");
    CHECK(current == NULL);

    /* ---- every exception event: the host's exception in, and back ---- */
    uint32_t all = 0;
    for (int i = 0; i < N_EXC; i++) {
        int ev = exception_events[i].event;
        CHECK_OK(PyMonitoring_RegisterCallback(2, ev, tool, &rec), 0);
        CHECK_OK(PyMonitoring_RegisterCallback(1, ev, record_event, &low), 0);
        all |= ev == PY_MONITORING_EVENT_C_RAISE ? 1u << PY_MONITORING_EVENT_CALL : 1u << ev;
    }
    CHECK_OK(PyMonitoring_SetEvents(2, all), 0);
    CHECK_OK(PyMonitoring_SetEvents(1, all), 0);
    for (int i = 0; i < N_EXC; i++) {
        PyMonitoringState s = {0, 0};
        enter(&s, exception_events[i].event);
        CHECK_EQ_INT(s.active, (1 << 2) | (1 << 1));

        /* Success: both tools see the exception, which is pending again. */
        rec.count = low.count = 0;
        callback_mode = PLAIN;
        e = new_exc("ValueError", exception_events[i].name);
        host_set((PyObject *)(void *)e);
        CHECK_EQ_INT(fire_exception_event(exception_events[i].event, &s, OBJ(3), 40 + i), 0); /* pending again */
        CHECK(current == e);
        CHECK_EQ_INT(e->refs, 1);
        CHECK_EQ_INT(rec.count, 1);
        CHECK_EQ_INT(low.count, 1);
        CHECK_EVENT(&rec, 0, exception_events[i].event, 2, OBJ(3), 40 + i, -1,
                    (PyObject *)(void *)e, (PyObject *)(void *)&missing);
        host_set(NULL);
        CHECK_EQ_INT(e->refs, 0);

        /* No exception: ValueError with the event's id, no callback. */
        rec.count = 0;
        char msg[80];
        snprintf(msg, sizeof msg, "Firing event %d with no exception set",
                 exception_events[i].event);
        CHECK_HOST_ERROR(fire_exception_event(exception_events[i].event, &s, OBJ(3), 0), "ValueError", msg);
        CHECK_EQ_INT(rec.count, 0);

        /* A negative offset: ValueError, the exception released. */
        e = new_exc("ValueError", "x");
        host_set((PyObject *)(void *)e);
        CHECK_HOST_ERROR(fire_exception_event(exception_events[i].event, &s, OBJ(3), -1), "ValueError",
                         "offset must be non-negative");
        CHECK_EQ_INT(e->refs, 0);
        CHECK_EQ_INT(rec.count, 0);

        /* The callback raises in the host: its exception replaces the
         * original, which is released; the lower tool is not called. */
        rec.count = low.count = 0;
        callback_mode = RAISE_HOST;
        e = new_exc("ValueError", "x");
        host_set((PyObject *)(void *)e);
        CHECK_HOST_ERROR(fire_exception_event(exception_events[i].event, &s, OBJ(3), 1), "OSError", "from the callback");
        CHECK_EQ_INT(e->refs, 0);
        CHECK_EQ_INT(low.count, 0);

        /* -1 with nothing raised: RuntimeError naming tool and event. */
        callback_mode = FAIL_SILENT;
        e = new_exc("ValueError", "x");
        host_set((PyObject *)(void *)e);
        snprintf(msg, sizeof msg, "callback of tool 2 for %s returned -1 without setting an error",
                 exception_events[i].name);
        CHECK_HOST_ERROR(fire_exception_event(exception_events[i].event, &s, OBJ(3), 1), "RuntimeError", msg);
        CHECK_EQ_INT(e->refs, 0);

        /* Success with an exception left behind: a failure, that exception kept. */
        callback_mode = SUCCEED_WITH_ERROR;
        e = new_exc("ValueError", "x");
        host_set((PyObject *)(void *)e);
        CHECK_HOST_ERROR(fire_exception_event(exception_events[i].event, &s, OBJ(3), 1), "OSError", "left behind");
        CHECK_EQ_INT(e->refs, 0);

        /* DISABLE from an exception event: ValueError, callback removed. */
        callback_mode = ANSWER_DISABLE;
        e = new_exc("ValueError", "x");
        host_set((PyObject *)(void *)e);
        snprintf(msg, sizeof msg, "Cannot disable %s events. Callback removed.",
                 exception_events[i].name);
        CHECK_HOST_ERROR(fire_exception_event(exception_events[i].event, &s, OBJ(3), 1), "ValueError", msg);
        CHECK_EQ_INT(e->refs, 0);
        PyMonitoringCallback cb = tool;
        void *data = &rec;
        CHECK_OK(PyMonitoring_GetCallback(2, exception_events[i].event, &cb, &data), 0);
        CHECK(cb == NULL);
        CHECK_OK(PyMonitoring_RegisterCallback(2, exception_events[i].event, tool, &rec), 0);
    }
    CHECK(clear_during_callback);

    /* ---- nesting: a fire from a callback is not delivered and leaves the
     * host alone ---- */
    PyMonitoringState outer = {0, 0};
    enter(&outer, PY_MONITORING_EVENT_RAISE);
    enter(&nested_state, PY_MONITORING_EVENT_RAISE);
    rec.count = low.count = 0;
    callback_mode = NEST;
    e = new_exc("ValueError", "outer");
    host_set((PyObject *)(void *)e);
    CHECK_EQ_INT(PyMonitoring_FireRaiseEvent(&outer, OBJ(3), 5), 0);
    CHECK_EQ_INT(nested_rc, 0);
    CHECK_EQ_INT(nested_host_calls, 0);
    CHECK_EQ_INT(rec.count, 1);
    CHECK_EQ_INT(low.count, 1);
    CHECK(current == e);
    host_set(NULL);
    callback_mode = PLAIN;

    /* ---- other events: what is pending (Cython's PY_RESUME after a throw)
     * is taken around the callbacks; absent objects are the host's MISSING ---- */
    CHECK_OK(PyMonitoring_RegisterCallback(2, PY_MONITORING_EVENT_PY_RESUME, tool, &rec), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(2, PY_MONITORING_EVENT_PY_RETURN, tool, &rec), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(2, PY_MONITORING_EVENT_CALL, tool, &rec), 0);
    CHECK_OK(PyMonitoring_SetEvents(2, all | 1u << PY_MONITORING_EVENT_PY_RESUME |
                                           1u << PY_MONITORING_EVENT_PY_RETURN),
             0);
    const uint8_t evs[3] = {PY_MONITORING_EVENT_PY_RESUME, PY_MONITORING_EVENT_PY_RETURN,
                            PY_MONITORING_EVENT_CALL};
    PyMonitoringState three[3] = {{0, 0}, {0, 0}, {0, 0}};
    version = 0;
    CHECK_OK(PyMonitoring_EnterScope(three, &version, evs, 3), 0);
    rec.count = 0;
    clear_during_callback = 1;
    e = new_exc("GeneratorExit", "");
    host_set((PyObject *)(void *)e);
    CHECK_EQ_INT(PyMonitoring_FirePyResumeEvent(&three[0], OBJ(4), 0), 0);
    CHECK(current == e);
    CHECK(clear_during_callback);
    host_set(NULL);
    CHECK_OK(PyMonitoring_FirePyReturnEvent(&three[1], OBJ(4), 2, NULL), 0);
    CHECK_OK(PyMonitoring_FireCallEvent(&three[2], OBJ(4), 6, OBJ(5), NULL), 0);
    CHECK_EQ_INT(rec.count, 3);
    CHECK_EVENT(&rec, 0, PY_MONITORING_EVENT_PY_RESUME, 2, OBJ(4), 0, -1,
                (PyObject *)(void *)&missing, (PyObject *)(void *)&missing);
    CHECK_EVENT(&rec, 1, PY_MONITORING_EVENT_PY_RETURN, 2, OBJ(4), 2, -1,
                (PyObject *)(void *)&missing, (PyObject *)(void *)&missing);
    CHECK_EVENT(&rec, 2, PY_MONITORING_EVENT_CALL, 2, OBJ(4), 6, -1, OBJ(5),
                (PyObject *)(void *)&missing);
    CHECK(current == NULL);

    /* A thread started after the host was installed uses it too. */
    pthread_t th;
    rec.count = 0;
    callback_mode = PLAIN;
    CHECK_EQ_INT(pthread_create(&th, NULL, other_thread, NULL), 0);
    CHECK_EQ_INT(pthread_join(th, NULL), 0);
    CHECK_EQ_INT(other_thread_ok, 1);
    CHECK_EQ_INT(rec.count, 1);
    CHECK_EVENT(&rec, 0, PY_MONITORING_EVENT_RAISE, 2, OBJ(6), 2, -1, (PyObject *)(void *)&other_exc,
                (PyObject *)(void *)&missing);
    CHECK(current == NULL);

    /* Every exception object made was released. */
    for (int i = 0; i < pool_used; i++) {
        if (pool[i].refs != 0) {
            fprintf(stderr, "exception %d (%s \"%s\") has %d references left\n", i, pool[i].cls,
                    pool[i].message, pool[i].refs);
            harness_failures++;
        }
    }
    (void)harness_objects;
    return harness_finish("host_hooks");
}
