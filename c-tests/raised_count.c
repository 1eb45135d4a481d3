/* The raised-exception count (docs/CONCURRENCY.md, "The raised-exception
 * count"): PyMonitoring_GetRaisedException answers NULL without the thread's
 * state while no thread holds a host exception, and is never wrong about the
 * calling thread. Two threads set, replace, take and clear exceptions (one
 * ends holding one) while a third only takes, and must get NULL every time;
 * each checks exactly what it gets. After they end the count is 0 again; an
 * exception event's walk takes the exception and puts it back without
 * moving the count. With PYMONITORING_INLINE the header's inline
 * GetRaisedException makes the test in the caller. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>

#include "harness.h"

#define ROUNDS 20000

static uint64_t count(void) {
    return _PyMonitoring_RaisedExceptions[0];
}

static atomic_int setters_left;

typedef struct {
    int base;     /* this thread's objects: OBJ(base) .. OBJ(base + 3) */
    int failures; /* checks that failed on this thread */
} Setter;

#define THREAD_CHECK(t, cond)                                                 \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                   \
            (t)->failures++;                                                  \
        }                                                                     \
    } while (0)

static void *setter(void *arg) {
    Setter *t = (Setter *)arg;
    PyObject *a = OBJ(t->base), *b = OBJ(t->base + 1);
    for (int i = 0; i < ROUNDS; i++) {
        THREAD_CHECK(t, PyMonitoring_GetRaisedException() == NULL);
        PyMonitoring_SetRaisedException(a);
        THREAD_CHECK(t, count() >= 1);
        switch (i % 4) {
        case 0: /* set, take */
            THREAD_CHECK(t, PyMonitoring_GetRaisedException() == a);
            break;
        case 1: /* replace, take */
            PyMonitoring_SetRaisedException(b);
            THREAD_CHECK(t, PyMonitoring_GetRaisedException() == b);
            break;
        case 2: /* clear */
            PyMonitoring_ErrClear();
            break;
        default: /* a library error replaces it and stays */
            PyMonitoring_ErrSetString(PY_MONITORING_ERR_VALUE, "replaced");
            THREAD_CHECK(t, PyMonitoring_GetRaisedException() == NULL);
            THREAD_CHECK(t, PyMonitoring_ErrKind() == PY_MONITORING_ERR_VALUE);
            PyMonitoring_ErrClear();
            break;
        }
        THREAD_CHECK(t, PyMonitoring_GetRaisedException() == NULL);
        THREAD_CHECK(t, PyMonitoring_ErrOccurred() == 0);
    }
    /* Ends holding one: the thread's exit gives its share back. */
    PyMonitoring_SetRaisedException(OBJ(t->base + 2));
    atomic_fetch_sub(&setters_left, 1);
    return NULL;
}

static void *taker(void *arg) {
    Setter *t = (Setter *)arg;
    long rounds = 0;
    /* At least ROUNDS, and on until both setters are done. */
    while (rounds < ROUNDS || atomic_load(&setters_left) > 0) {
        THREAD_CHECK(t, PyMonitoring_GetRaisedException() == NULL);
        rounds++;
    }
    THREAD_CHECK(t, PyMonitoring_ErrOccurred() == 0);
    return NULL;
}

static void threads_set_and_take(void) {
    Setter one = {8, 0}, two = {16, 0}, three = {24, 0};
    pthread_t a, b, c;
    atomic_store(&setters_left, 2);
    CHECK_EQ_INT(pthread_create(&c, NULL, taker, &three), 0);
    CHECK_EQ_INT(pthread_create(&a, NULL, setter, &one), 0);
    CHECK_EQ_INT(pthread_create(&b, NULL, setter, &two), 0);
    CHECK_EQ_INT(pthread_join(a, NULL), 0);
    CHECK_EQ_INT(pthread_join(b, NULL), 0);
    CHECK_EQ_INT(pthread_join(c, NULL), 0);
    CHECK_EQ_INT(one.failures + two.failures + three.failures, 0);
    CHECK_EQ_INT(count(), 0);
}

/* --- an exception event keeps the count --- */

static int inside_got_null = -1;
static uint64_t inside_count;

static int raise_callback(void *data, const PyMonitoringEvent *ev) {
    (void)data;
    (void)ev;
    /* The walk holds the exception: the indicator is empty, the count is
     * unchanged. */
    inside_got_null = PyMonitoring_GetRaisedException() == NULL;
    inside_count = count();
    return 0;
}

static Recording delivered;

static void exception_event_keeps_the_count(void) {
    /* Tool 3 records what is delivered; tool 2 (called after it) looks at
     * the indicator and the count. */
    CHECK_OK(PyMonitoring_UseToolId(2, "raised"), 0);
    CHECK_OK(PyMonitoring_SetEvents(2, 1u << PY_MONITORING_EVENT_RAISE), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(2, PY_MONITORING_EVENT_RAISE, raise_callback, NULL), 0);
    CHECK_OK(PyMonitoring_UseToolId(3, "recorder"), 0);
    CHECK_OK(PyMonitoring_SetEvents(3, 1u << PY_MONITORING_EVENT_RAISE), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(3, PY_MONITORING_EVENT_RAISE, record_event, &delivered), 0);
    uint8_t events[1] = {PY_MONITORING_EVENT_RAISE};
    PyMonitoringState state[1] = {{0, 0}};
    uint64_t version = 0;
    CHECK_OK(PyMonitoring_EnterScope(state, &version, events, 1), 0);
    CHECK(state[0].active != 0);
    for (int i = 0; i < 3; i++) {
        PyMonitoring_SetRaisedException(OBJ(40));
        CHECK_EQ_INT(count(), 1);
        /* 0, with the exception pending again. */
        CHECK_EQ_INT(PyMonitoring_FireRaiseEvent(&state[0], OBJ(1), 4), 0);
        CHECK_EQ_INT(inside_got_null, 1);
        CHECK_EQ_INT(inside_count, 1);
        CHECK_EQ_INT(count(), 1);
        CHECK(PyMonitoring_GetRaisedException() == OBJ(40));
        CHECK_EQ_INT(count(), 0);
    }
    CHECK_EQ_INT(delivered.count, 3);
    for (int i = 0; i < 3 && i < delivered.count; i++) {
        CHECK_EQ_INT(delivered.events[i].event, PY_MONITORING_EVENT_RAISE);
        CHECK_EQ_INT(delivered.events[i].tool_id, 3);
        CHECK_EQ_INT(delivered.events[i].offset, 4);
        CHECK(delivered.events[i].arg0 == OBJ(40));
    }
    CHECK_OK(PyMonitoring_FreeToolId(2), 0);
    CHECK_OK(PyMonitoring_FreeToolId(3), 0);
}

int main(void) {
    CHECK_EQ_INT(count(), 0);
    CHECK(PyMonitoring_GetRaisedException() == NULL);
    PyMonitoring_SetRaisedException(OBJ(3));
    CHECK_EQ_INT(count(), 1);
    CHECK(PyMonitoring_GetRaisedException() == OBJ(3));
    CHECK_EQ_INT(count(), 0);
    threads_set_and_take();
    exception_event_keeps_the_count();
    CHECK_EQ_INT(count(), 0);
    return harness_finish("raised_count");
}
