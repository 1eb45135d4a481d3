/* Threads (docs/BEHAVIOUR.md, "Threads"; docs/CONCURRENCY.md) through the C API: the error indicator is per
 * thread; PyMonitoring_WaitForCallbacks waits for a callback running on
 * another thread, after which a removed callback is never called again;
 * two callbacks waiting for each other get a RuntimeError, not a deadlock. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#include "api_util.h"

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

#define CODE OBJ(1)

/* --- the indicator is per thread --- */

static void *indicator_thread(void *arg) {
    int *ok = (int *)arg;
    *ok = PyMonitoring_ErrOccurred() == 0 && PyMonitoring_ErrMessage() == NULL;
    PyMonitoring_ErrSetString(PY_MONITORING_ERR_VALUE, "thread");
    *ok = *ok && strcmp(PyMonitoring_ErrMessage(), "thread") == 0;
    PyMonitoring_SetRaisedException(OBJ(7));
    *ok = *ok && PyMonitoring_GetRaisedException() == OBJ(7);
    /* Failures on this thread land on this thread's indicator. */
    *ok = *ok && PyMonitoring_SetEvents(6, 0) == -1 &&
          strcmp(PyMonitoring_ErrMessage(), "invalid tool 6 (must be between 0 and 5)") == 0;
    return NULL;
}

static void indicator_is_per_thread(void) {
    CHECK_EQ_INT(PyMonitoring_ErrSetString(PY_MONITORING_ERR_RUNTIME, "main"), 0);
    int ok = 0;
    pthread_t th;
    CHECK_EQ_INT(pthread_create(&th, NULL, indicator_thread, &ok), 0);
    CHECK_EQ_INT(pthread_join(th, NULL), 0);
    CHECK(ok);
    CHECK_ERROR(-1, PY_MONITORING_ERR_RUNTIME, "main");
}

/* --- WaitForCallbacks --- */

static atomic_int entered, removed, finished, calls;

static int slow_callback(void *data, const PyMonitoringEvent *ev) {
    (void)data;
    (void)ev;
    atomic_fetch_add(&calls, 1);
    atomic_store(&entered, 1);
    while (!atomic_load(&removed)) {
        sleep_ms(1);
    }
    /* Still running well after the main thread removed us. */
    sleep_ms(100);
    atomic_store(&finished, 1);
    return 0;
}

static PyMonitoringState worker_state;

static void *fire_thread(void *arg) {
    int *rc = (int *)arg;
    *rc = PyMonitoring_FirePyStartEvent(&worker_state, CODE, 0);
    return NULL;
}

static void wait_for_callbacks(void) {
    free_all_tools();
    CHECK_OK(PyMonitoring_UseToolId(3, "slow"), 0);
    CHECK_OK(PyMonitoring_SetEvents(3, 1u << PY_MONITORING_EVENT_PY_START), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(3, PY_MONITORING_EVENT_PY_START, slow_callback, NULL), 0);
    CHECK_OK(enter_one(&worker_state, PY_MONITORING_EVENT_PY_START), 0);
    CHECK_EQ_INT(worker_state.active, 1 << 3);

    int rc = -99;
    pthread_t th;
    CHECK_EQ_INT(pthread_create(&th, NULL, fire_thread, &rc), 0);
    while (!atomic_load(&entered)) {
        sleep_ms(1);
    }
    /* Remove the callback while it runs, then wait for it. */
    CHECK_OK(PyMonitoring_RegisterCallback(3, PY_MONITORING_EVENT_PY_START, NULL, NULL), 0);
    atomic_store(&removed, 1);
    CHECK_OK(PyMonitoring_WaitForCallbacks(), 0);
    CHECK_EQ_INT(atomic_load(&finished), 1);
    CHECK_EQ_INT(pthread_join(th, NULL), 0);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(atomic_load(&calls), 1);
    /* A removed callback is never called again, from any thread. */
    rc = -99;
    CHECK_EQ_INT(pthread_create(&th, NULL, fire_thread, &rc), 0);
    CHECK_EQ_INT(pthread_join(th, NULL), 0);
    CHECK_EQ_INT(rc, 0);
    CHECK_OK(PyMonitoring_FirePyStartEvent(&worker_state, CODE, 0), 0);
    CHECK_EQ_INT(atomic_load(&calls), 1);
    /* Nothing running: returns at once. */
    CHECK_OK(PyMonitoring_WaitForCallbacks(), 0);
}

/* --- two callbacks waiting for each other --- */

static atomic_int in_callback;

typedef struct {
    PyMonitoringState state;
    int fire_rc;
    int wait_rc;
    int kind;
    char msg[128];
} Waiter;

/* Each thread's callback data: which Waiter it belongs to is found through
 * a thread-local pointer, since both threads share one registration. */
static _Thread_local Waiter *current_waiter;

static int mutual_wait_callback(void *data, const PyMonitoringEvent *ev) {
    (void)data;
    (void)ev;
    Waiter *w = current_waiter;
    atomic_fetch_add(&in_callback, 1);
    while (atomic_load(&in_callback) < 2) {
        sleep_ms(1);
    }
    w->wait_rc = PyMonitoring_WaitForCallbacks();
    w->kind = PyMonitoring_ErrKind();
    const char *m = PyMonitoring_ErrMessage();
    snprintf(w->msg, sizeof w->msg, "%s", m ? m : "");
    /* Report success to the fire either way. */
    PyMonitoring_ErrClear();
    return 0;
}

static void *mutual_thread(void *arg) {
    Waiter *w = (Waiter *)arg;
    current_waiter = w;
    w->fire_rc = PyMonitoring_FirePyStartEvent(&w->state, CODE, 0);
    return NULL;
}

static void mutual_waits_do_not_deadlock(void) {
    free_all_tools();
    CHECK_OK(PyMonitoring_UseToolId(1, "mutual"), 0);
    CHECK_OK(PyMonitoring_SetEvents(1, 1u << PY_MONITORING_EVENT_PY_START), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(1, PY_MONITORING_EVENT_PY_START, mutual_wait_callback,
                                           NULL),
             0);
    static Waiter w[2];
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        w[i].fire_rc = w[i].wait_rc = -99;
        CHECK_OK(enter_one(&w[i].state, PY_MONITORING_EVENT_PY_START), 0);
        CHECK_EQ_INT(pthread_create(&th[i], NULL, mutual_thread, &w[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(pthread_join(th[i], NULL), 0);
        CHECK_EQ_INT(w[i].fire_rc, 0);
    }
    /* At least one wait was refused with the RuntimeError; a wait that
     * succeeded reported no error. */
    int refused = 0;
    for (int i = 0; i < 2; i++) {
        if (w[i].wait_rc == -1) {
            refused++;
            CHECK_EQ_INT(w[i].kind, PY_MONITORING_ERR_RUNTIME);
            CHECK(strcmp(w[i].msg, "cannot wait for callbacks: another thread's callback is "
                                   "waiting for this one") == 0);
        } else {
            CHECK_EQ_INT(w[i].wait_rc, 0);
            CHECK_EQ_INT(w[i].kind, PY_MONITORING_ERR_NONE);
            CHECK(w[i].msg[0] == 0);
        }
    }
    CHECK(refused >= 1);
    free_all_tools();
}

/* --- "on the same thread" is exact: another thread's fire is delivered --- */

static PyMonitoringState other_thread_state;
static atomic_int other_calls;

static int count_other(void *data, const PyMonitoringEvent *ev) {
    (void)data;
    if (ev->event == PY_MONITORING_EVENT_PY_RETURN) {
        atomic_fetch_add(&other_calls, 1);
    }
    return 0;
}

static void *fire_return_thread(void *arg) {
    int *rc = (int *)arg;
    *rc = PyMonitoring_FirePyReturnEvent(&other_thread_state, CODE, 0, OBJ(2));
    return NULL;
}

static int spawn_and_fire(void *data, const PyMonitoringEvent *ev) {
    int *rc = (int *)data;
    (void)ev;
    /* A fire on this thread is not delivered ... */
    rc[0] = PyMonitoring_FirePyReturnEvent(&other_thread_state, CODE, 0, OBJ(2));
    /* ... one on another thread, while this callback runs, is. */
    pthread_t th;
    if (pthread_create(&th, NULL, fire_return_thread, &rc[1]) != 0 ||
        pthread_join(th, NULL) != 0) {
        rc[1] = -2;
    }
    return 0;
}

static void other_threads_fire_from_inside_a_callback(void) {
    free_all_tools();
    CHECK_OK(PyMonitoring_UseToolId(2, "nest"), 0);
    CHECK_OK(PyMonitoring_SetEvents(2, (1u << PY_MONITORING_EVENT_PY_START) |
                                           (1u << PY_MONITORING_EVENT_PY_RETURN)),
             0);
    int rc[2] = {-99, -99};
    CHECK_OK(PyMonitoring_RegisterCallback(2, PY_MONITORING_EVENT_PY_START, spawn_and_fire, rc), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(2, PY_MONITORING_EVENT_PY_RETURN, count_other, NULL), 0);
    PyMonitoringState outer;
    CHECK_OK(enter_one(&outer, PY_MONITORING_EVENT_PY_START), 0);
    CHECK_OK(enter_one(&other_thread_state, PY_MONITORING_EVENT_PY_RETURN), 0);
    CHECK_OK(PyMonitoring_FirePyStartEvent(&outer, CODE, 0), 0);
    CHECK_EQ_INT(rc[0], 0);
    CHECK_EQ_INT(rc[1], 0);
    CHECK_EQ_INT(atomic_load(&other_calls), 1);
    free_all_tools();
}

/* --- removal while other threads fire: after Register(NULL) + Wait, the
 * old callback never runs again, so its data can be freed --- */

typedef struct {
    atomic_int freed; /* set once the main thread "freed" it */
    atomic_int calls;
} Payload;

#define N_PAYLOADS 60
static Payload payloads[N_PAYLOADS];
static atomic_int violations, stop_firing, fires;

static int payload_callback(void *data, const PyMonitoringEvent *ev) {
    Payload *p = (Payload *)data;
    (void)ev;
    if (atomic_load(&p->freed)) {
        atomic_fetch_add(&violations, 1);
    }
    atomic_fetch_add(&p->calls, 1);
    return 0;
}

static void *firing_loop(void *arg) {
    (void)arg;
    PyMonitoringState s = {0, 0};
    uint64_t version = 0;
    uint8_t id = PY_MONITORING_EVENT_LINE;
    while (!atomic_load(&stop_firing)) {
        if (PyMonitoring_EnterScope(&s, &version, &id, 1) != 0 ||
            PyMonitoring_FireLineEvent(&s, CODE, 0, 1) != 0) {
            atomic_fetch_add(&violations, 1000);
            PyMonitoring_ErrClear();
        }
        atomic_fetch_add(&fires, 1);
    }
    return NULL;
}

static void removal_while_firing(void) {
    free_all_tools();
    CHECK_OK(PyMonitoring_UseToolId(4, "stress"), 0);
    CHECK_OK(PyMonitoring_SetEvents(4, 1u << PY_MONITORING_EVENT_LINE), 0);
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(pthread_create(&th[i], NULL, firing_loop, NULL), 0);
    }
    int delivered = 0;
    for (int i = 0; i < N_PAYLOADS; i++) {
        Payload *p = &payloads[i];
        CHECK_OK(PyMonitoring_RegisterCallback(4, PY_MONITORING_EVENT_LINE, payload_callback, p), 0);
        /* Let the firing threads see it for a moment. */
        int start = atomic_load(&fires);
        while (atomic_load(&fires) - start < 50) {
            sched_yield();
        }
        if (i % 2) {
            CHECK_OK(PyMonitoring_RegisterCallback(4, PY_MONITORING_EVENT_LINE, NULL, NULL), 0);
        } else if (i % 4 == 0) {
            CHECK_OK(PyMonitoring_ClearToolId(4), 0);
            CHECK_OK(PyMonitoring_SetEvents(4, 1u << PY_MONITORING_EVENT_LINE), 0);
        } else {
            CHECK_OK(PyMonitoring_FreeToolId(4), 0);
            CHECK_OK(PyMonitoring_UseToolId(4, "stress"), 0);
            CHECK_OK(PyMonitoring_SetEvents(4, 1u << PY_MONITORING_EVENT_LINE), 0);
        }
        CHECK_OK(PyMonitoring_WaitForCallbacks(), 0);
        atomic_store(&p->freed, 1);
        delivered += atomic_load(&p->calls) > 0;
    }
    atomic_store(&stop_firing, 1);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(pthread_join(th[i], NULL), 0);
    }
    CHECK_EQ_INT(atomic_load(&violations), 0);
    /* The callbacks really were being called while they were installed. */
    CHECK(delivered > N_PAYLOADS / 2);
    free_all_tools();
}

int main(void) {
    indicator_is_per_thread();
    wait_for_callbacks();
    mutual_waits_do_not_deadlock();
    other_threads_fire_from_inside_a_callback();
    removal_while_firing();
    return harness_finish("api_threads");
}
