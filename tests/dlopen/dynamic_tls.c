/* The library dlopen()ed as a Python extension module is, with its
 * thread-local block in dynamic TLS (run with
 * GLIBC_TUNABLES=glibc.rtld.optional_static_tls=0, so that glibc keeps no
 * static surplus for it): every thread's first fire reaches the thread's
 * state through a TLS descriptor whose block glibc allocates in that call
 * (src/ffi/tls.rs), and every later fire through the same descriptor.
 * Four threads and the main thread fire PY_START and LINE; the callback
 * checks each record, and the counts must be exact.
 *
 * Usage: dynamic_tls LIBRARY. Prints "dynamic TLS: N fires on 5 threads". */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "pymonitoring.h"

#define THREADS 4
#define FIRES 20000

static int (*use_tool_id)(int, const char *);
static int (*register_callback)(int, int, PyMonitoringCallback, void *);
static int (*set_events)(int, uint32_t);
static int (*enter_scope)(PyMonitoringState *, uint64_t *, const uint8_t *, uintptr_t);
static int (*fire_py_start)(PyMonitoringState *, PyObject *, int32_t);
static int (*fire_line)(PyMonitoringState *, PyObject *, int32_t, int);
static void *library;

static atomic_long calls;
static atomic_long wrong;
static char code_object;

static void fail(const char *what) {
    fprintf(stderr, "dynamic_tls: %s\n", what);
    exit(1);
}

static void *symbol(const char *name) {
    void *p = dlsym(library, name);
    if (p == NULL) {
        fail(name);
    }
    return p;
}

/* Whether this thread's block of the library exists yet (NULL: not
 * allocated, as in dynamic TLS before the thread's first access). */
static int block_allocated(void) {
    void *data = NULL;
    if (dlinfo(library, RTLD_DI_TLS_DATA, &data) != 0) {
        fail("dlinfo(RTLD_DI_TLS_DATA)");
    }
    return data != NULL;
}

static int count(void *data, const PyMonitoringEvent *ev) {
    (void)data;
    int event_ok = ev->event == PY_MONITORING_EVENT_PY_START
                   || (ev->event == PY_MONITORING_EVENT_LINE && ev->lineno == 7);
    if (!event_ok || ev->tool_id != 2 || ev->codelike != (PyObject *)&code_object
        || ev->offset != 3) {
        atomic_fetch_add(&wrong, 1);
    }
    atomic_fetch_add(&calls, 1);
    return 0;
}

/* `new_thread`: a thread that has not called the library yet. */
static void *fire_all(void *new_thread) {
    PyMonitoringState states[2] = {{0, 0}, {0, 0}};
    uint64_t version = 0;
    const uint8_t events[2] = {PY_MONITORING_EVENT_PY_START, PY_MONITORING_EVENT_LINE};
    if (new_thread != NULL && block_allocated()) {
        fail("the library's thread-local block exists before the thread's first call: not dynamic TLS");
    }
    if (enter_scope(states, &version, events, 2) != 0) {
        fail("EnterScope");
    }
    for (int i = 0; i < FIRES; i++) {
        if (fire_py_start(&states[0], (PyObject *)&code_object, 3) != 0
            || fire_line(&states[1], (PyObject *)&code_object, 3, 7) != 0) {
            fail("a fire failed");
        }
    }
    if (!block_allocated()) {
        fail("no thread-local block after the fires");
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fail("usage: dynamic_tls LIBRARY");
    }
    library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        fail(dlerror());
    }
    *(void **)&use_tool_id = symbol("PyMonitoring_UseToolId");
    *(void **)&register_callback = symbol("PyMonitoring_RegisterCallback");
    *(void **)&set_events = symbol("PyMonitoring_SetEvents");
    *(void **)&enter_scope = symbol("PyMonitoring_EnterScope");
    *(void **)&fire_py_start = symbol("_PyMonitoring_FirePyStartEvent");
    *(void **)&fire_line = symbol("_PyMonitoring_FireLineEvent");
    if (use_tool_id(2, "dynamic_tls") != 0
        || register_callback(2, PY_MONITORING_EVENT_PY_START, count, NULL) != 0
        || register_callback(2, PY_MONITORING_EVENT_LINE, count, NULL) != 0
        || set_events(2, 1u << PY_MONITORING_EVENT_PY_START | 1u << PY_MONITORING_EVENT_LINE)
               != 0) {
        fail("setting the tool up");
    }
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++) {
        if (pthread_create(&threads[i], NULL, fire_all, (void *)library) != 0) {
            fail("pthread_create");
        }
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
    }
    fire_all(NULL);
    long want = (long)(THREADS + 1) * FIRES * 2;
    if (atomic_load(&calls) != want || atomic_load(&wrong) != 0) {
        fprintf(stderr, "dynamic_tls: %ld calls (want %ld), %ld wrong records\n",
                atomic_load(&calls), want, atomic_load(&wrong));
        return 1;
    }
    printf("dynamic TLS: %ld fires on %d threads\n", want, THREADS + 1);
    return 0;
}
