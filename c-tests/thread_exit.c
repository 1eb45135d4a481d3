/* Threads that end (docs/CONCURRENCY.md, "Threads that exit"):
 *  - PyMonitoring_WaitForCallbacks called from a thread-exit destructor (a
 *    pthread key's and a C11 tss one's) on a thread that used the library
 *    waits for a callback still running on another thread, as anywhere;
 *  - a thread whose first library call (a fire, an error, a wait) is made
 *    in a thread-exit destructor leaves nothing behind: many such threads
 *    keep the resident set flat (measured from /proc/self/statm).
 * Usage: thread_exit [THREADS [no-rss]] (THREADS default 20000; with no-rss,
 * under valgrind, whose own memory is in the resident set, the growth is
 * printed and not bounded). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

#include "api_util.h"

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

#define CODE OBJ(1)

/* --- a wait from a destructor waits --- */

static atomic_int slow_entered, slow_finished;

static int slow_callback(void *data, const PyMonitoringEvent *ev) {
    (void)data;
    if (ev->event != PY_MONITORING_EVENT_PY_START) {
        return 0;
    }
    atomic_store(&slow_entered, 1);
    sleep_ms(200);
    atomic_store(&slow_finished, 1);
    return 0;
}

static PyMonitoringState slow_state;

static void *slow_thread(void *arg) {
    (void)arg;
    PyMonitoring_FirePyStartEvent(&slow_state, CODE, 0);
    return NULL;
}

/* What a destructor's wait saw. */
typedef struct {
    int rc;
    int finished; /* the slow callback had finished when the wait returned */
    int kind;
} Seen;

static Seen key_seen = {-99, -1, -1}, tss_seen = {-99, -1, -1};

static void wait_in_destructor(Seen *seen) {
    seen->rc = PyMonitoring_WaitForCallbacks();
    seen->finished = atomic_load(&slow_finished);
    seen->kind = PyMonitoring_ErrKind();
}

static pthread_key_t wait_key;

static void wait_key_destructor(void *value) {
    wait_in_destructor((Seen *)value);
}

static tss_t wait_tss;

static void wait_tss_destructor(void *value) {
    wait_in_destructor((Seen *)value);
}

static PyMonitoringState user_state;

/* Uses the library (a fire that reaches a callback), then ends; its
 * destructor waits. */
static void *user_thread(void *arg) {
    Seen *seen = (Seen *)arg;
    PyMonitoring_FirePyReturnEvent(&user_state, CODE, 0, OBJ(2));
    if (seen == &key_seen) {
        pthread_setspecific(wait_key, seen);
    } else {
        tss_set(wait_tss, seen);
    }
    return NULL;
}

static int quiet_callback(void *data, const PyMonitoringEvent *ev) {
    (void)data;
    (void)ev;
    return 0;
}

static void wait_from_destructor(Seen *seen) {
    atomic_store(&slow_entered, 0);
    atomic_store(&slow_finished, 0);
    pthread_t slow, user;
    CHECK_EQ_INT(pthread_create(&slow, NULL, slow_thread, NULL), 0);
    while (!atomic_load(&slow_entered)) {
        sleep_ms(1);
    }
    CHECK_EQ_INT(pthread_create(&user, NULL, user_thread, seen), 0);
    CHECK_EQ_INT(pthread_join(user, NULL), 0);
    CHECK_EQ_INT(seen->rc, 0);
    CHECK_EQ_INT(seen->kind, PY_MONITORING_ERR_NONE);
    CHECK_EQ_INT(seen->finished, 1);
    CHECK_EQ_INT(pthread_join(slow, NULL), 0);
}

static void waits_from_destructors(void) {
    free_all_tools();
    CHECK_OK(PyMonitoring_UseToolId(0, "slow"), 0);
    CHECK_OK(PyMonitoring_SetEvents(0, (1u << PY_MONITORING_EVENT_PY_START) |
                                           (1u << PY_MONITORING_EVENT_PY_RETURN)),
             0);
    CHECK_OK(PyMonitoring_RegisterCallback(0, PY_MONITORING_EVENT_PY_START, slow_callback, NULL),
             0);
    CHECK_OK(PyMonitoring_RegisterCallback(0, PY_MONITORING_EVENT_PY_RETURN, quiet_callback,
                                           NULL),
             0);
    CHECK_OK(enter_one(&slow_state, PY_MONITORING_EVENT_PY_START), 0);
    CHECK_OK(enter_one(&user_state, PY_MONITORING_EVENT_PY_RETURN), 0);
    CHECK_EQ_INT(pthread_key_create(&wait_key, wait_key_destructor), 0);
    CHECK_EQ_INT(tss_create(&wait_tss, wait_tss_destructor), thrd_success);
    wait_from_destructor(&key_seen);
    wait_from_destructor(&tss_seen);
    free_all_tools();
}

/* --- first calls from destructors leave nothing behind --- */

static pthread_key_t first_key;
static atomic_long first_calls;
static atomic_int first_bad;
static PyMonitoringState first_state;

static int first_callback(void *data, const PyMonitoringEvent *ev) {
    (void)data;
    (void)ev;
    atomic_fetch_add(&first_calls, 1);
    return 0;
}

/* The thread's first library calls: a fire that reaches a callback (a
 * reader record and a copy of the callback table), an error, a wait. */
static void first_key_destructor(void *value) {
    (void)value;
    if (PyMonitoring_FirePyStartEvent(&first_state, CODE, 0) != 0) {
        atomic_store(&first_bad, 1);
    }
    if (PyMonitoring_SetEvents(7, 0) != -1 || PyMonitoring_ErrKind() != PY_MONITORING_ERR_VALUE) {
        atomic_store(&first_bad, 1);
    }
    if (PyMonitoring_WaitForCallbacks() != 0) {
        atomic_store(&first_bad, 1);
    }
}

static void *first_thread(void *arg) {
    (void)arg;
    pthread_setspecific(first_key, (void *)1);
    return NULL;
}

static long resident_kb(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = 0;
    if (f == NULL) {
        return -1;
    }
    if (fscanf(f, "%ld %ld", &size, &resident) != 2) {
        resident = -1;
    }
    fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void run_first_threads(long n) {
    for (long i = 0; i < n; i++) {
        pthread_t th;
        if (pthread_create(&th, NULL, first_thread, NULL) != 0) {
            atomic_store(&first_bad, 1);
            return;
        }
        pthread_join(th, NULL);
    }
}

static void first_calls_from_destructors(long threads, int bound_rss) {
    free_all_tools();
    CHECK_OK(PyMonitoring_UseToolId(2, "first"), 0);
    CHECK_OK(PyMonitoring_SetEvents(2, 1u << PY_MONITORING_EVENT_PY_START), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(2, PY_MONITORING_EVENT_PY_START, first_callback, NULL),
             0);
    CHECK_OK(enter_one(&first_state, PY_MONITORING_EVENT_PY_START), 0);
    CHECK_EQ_INT(pthread_key_create(&first_key, first_key_destructor), 0);
    /* Warm up (the allocator's arenas, the thread stack cache), then
     * measure the growth over the bulk of the threads. */
    run_first_threads(threads / 10);
    long before = resident_kb();
    run_first_threads(threads);
    long after = resident_kb();
    CHECK_EQ_INT(atomic_load(&first_bad), 0);
    CHECK_EQ_INT(atomic_load(&first_calls), threads + threads / 10);
    printf("thread_exit: %ld threads, resident %ld kB -> %ld kB (%+ld kB)\n", threads, before,
           after, after - before);
    /* A record kept per thread (about 350 bytes) would grow it by ~7 MB
     * for 20,000 threads; allow well under a tenth of that. */
    CHECK(before > 0);
    if (bound_rss) {
        CHECK(after - before < 512);
    }
    free_all_tools();
}

int main(int argc, char **argv) {
    long threads = argc > 1 ? atol(argv[1]) : 20000;
    alarm(60);
    waits_from_destructors();
    first_calls_from_destructors(threads, !(argc > 2 && strcmp(argv[2], "no-rss") == 0));
    return harness_finish("thread_exit");
}
