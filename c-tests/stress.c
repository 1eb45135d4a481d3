/* Stress: N firing threads (EnterScope + every fire function, DISABLE
 * returns, failing callbacks, nested fires and waits from callbacks) against
 * M threads that claim and free tools, set events, register, replace and
 * remove callbacks, and restart events, for a bounded time.
 *
 * Every callback's `data` is a heap block that is freed right after the
 * callback was removed (or replaced, or its tool cleared or freed) and
 * PyMonitoring_WaitForCallbacks() returned. A callback checks its data is
 * live: natively through a magic word that is set to DEAD just before the
 * free, under valgrind also through memcheck's use-after-free detection.
 *
 * With "lasting" as the fifth argument the run is in
 * PY_MONITORING_OPT_LASTING_DISABLE (docs/EXTENSIONS.md): the mutators also
 * restart single tools and switch the mode off and on, the firers' LINE
 * slots also go to a coverage tool (tool 5, kept out of the mutators' hands)
 * that answers DISABLE, and at the end, with everything else quiet, a
 * single-threaded pass over every LINE site fired must call the coverage
 * tool exactly once per site, and a second pass never (the site table is
 * exact again after the races).
 *
 * Arguments: [milliseconds [firers [mutators [require_calls [lasting]]]]]
 * (default 2000 3 2 1). Exit status 0 and "stress: ok" when no check
 * failed. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "harness.h"

#if defined(__has_include)
#if __has_include(<valgrind/helgrind.h>)
#include <valgrind/helgrind.h>
#endif
#endif
#ifndef ANNOTATE_HAPPENS_BEFORE
#define ANNOTATE_HAPPENS_BEFORE(obj) ((void)(obj))
#define ANNOTATE_HAPPENS_AFTER(obj) ((void)(obj))
#endif

#define MAGIC 0x5AFEC0DEu
#define DEAD 0xDEADDEADu
#define TOOLS 6
#define MAX_MUTATORS 6

/* How a callback behaves. */
enum Mode {
    MODE_OK,
    MODE_DISABLE,      /* local: clears the bit; others: removed + error */
    MODE_FAIL,         /* sets a ValueError, returns -1 */
    MODE_FAIL_BARE,    /* returns -1 without an error */
    MODE_NESTED,       /* fires and enters a scope from inside: not delivered */
    MODE_WAIT,         /* waits for callbacks from inside */
    MODE_COUNT
};

typedef struct {
    uint32_t magic; /* plain: written only before registration and after the wait */
    int tool;
    int event;
    int mode;
} CbData;

static atomic_int violations;
/* The lasting run: tool 5 is the coverage tool, the mutators churn 0-4. */
static int lasting;
#define COVERAGE_TOOL 5
#define OFFSETS 100
static atomic_long coverage_calls[OFFSETS];
static atomic_long calls, fires, fire_errors, registrations, frees, waits, inner_waits_refused;
static atomic_int stop;

#ifdef STRESS_PLANTED_RACE
/* Self-test of the helgrind run: an unsynchronised counter written by every
 * firing thread. Helgrind must report it despite the suppressions. */
static long planted_counter;
#endif

static void violation(const char *what, const PyMonitoringEvent *ev) {
    atomic_fetch_add(&violations, 1);
    fprintf(stderr, "stress: VIOLATION: %s (event %d tool %d)\n", what,
            ev ? ev->event : -1, ev ? ev->tool_id : -1);
}

static int callback(void *data, const PyMonitoringEvent *ev) {
    CbData *d = (CbData *)data;
    int rc = 0;
    /* Registration published `d` (helgrind cannot see the library's
     * std::sync::Mutex, so the edge is stated; see c-tests/helgrind.supp). */
    ANNOTATE_HAPPENS_AFTER(d);
    if (d == NULL || d->magic != MAGIC) {
        violation("callback ran with dead data", ev);
        return 0;
    }
    if (ev->tool_id != d->tool || ev->event != d->event) {
        violation("callback got another callback's event", ev);
    }
    if (PyMonitoring_ErrOccurred()) {
        violation("callback started with an error set", ev);
    }
    atomic_fetch_add(&calls, 1);
    switch (d->mode) {
    case MODE_DISABLE:
        rc = PY_MONITORING_DISABLE;
        break;
    case MODE_FAIL:
        PyMonitoring_ErrSetString(PY_MONITORING_ERR_VALUE, "stress failure");
        rc = -1;
        break;
    case MODE_FAIL_BARE:
        rc = -1;
        break;
    case MODE_NESTED: {
        PyMonitoringState st[2] = {{0xFF, 0}, {0xFF, 0}};
        uint64_t v = 0;
        const uint8_t evs[2] = {PY_MONITORING_EVENT_PY_START, PY_MONITORING_EVENT_LINE};
        if (PyMonitoring_EnterScope(st, &v, evs, 2) != 0) violation("nested EnterScope failed", ev);
        if (_PyMonitoring_FirePyStartEvent(&st[0], OBJ(1), 0) != 0 ||
            PyMonitoring_FireLineEvent(&st[1], OBJ(1), 0, 1) != 0) {
            violation("nested fire was not a silent 0", ev);
        }
        break;
    }
    case MODE_WAIT:
        if (PyMonitoring_WaitForCallbacks() != 0) {
            /* Two callbacks waiting for each other: refused, not deadlocked. */
            if (PyMonitoring_ErrKind() != PY_MONITORING_ERR_RUNTIME) violation("bad wait error", ev);
            PyMonitoring_ErrClear();
            atomic_fetch_add(&inner_waits_refused, 1);
        }
        break;
    default:
        break;
    }
    if (d->magic != MAGIC) violation("data freed while the callback ran", ev);
    ANNOTATE_HAPPENS_BEFORE(d);
    return rc;
}

/* The coverage tool (lasting run): LINE at lineno 3, offsets 0..99. */
static int coverage(void *data, const PyMonitoringEvent *ev) {
    (void)data;
    if (ev->tool_id != COVERAGE_TOOL || ev->event != PY_MONITORING_EVENT_LINE || ev->lineno != 3 ||
        ev->offset < 0 || ev->offset >= OFFSETS) {
        violation("coverage got another event", ev);
        return 0;
    }
    atomic_fetch_add(&coverage_calls[ev->offset], 1);
    return PY_MONITORING_DISABLE;
}

/* ------------------------------------------------------------- firers */

static const uint8_t scope_events[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18};
#define SLOTS ((int)(sizeof scope_events / sizeof scope_events[0]))

static int fire_slot(PyMonitoringState *s, int event, int plain, int offset) {
    PyObject *c = OBJ(1), *a = OBJ(2);
    switch (event) {
    case 0: return plain ? PyMonitoring_FirePyStartEvent(s, c, offset) : _PyMonitoring_FirePyStartEvent(s, c, offset);
    case 1: return plain ? PyMonitoring_FirePyResumeEvent(s, c, offset) : _PyMonitoring_FirePyResumeEvent(s, c, offset);
    case 2: return plain ? PyMonitoring_FirePyReturnEvent(s, c, offset, a) : _PyMonitoring_FirePyReturnEvent(s, c, offset, a);
    case 3: return plain ? PyMonitoring_FirePyYieldEvent(s, c, offset, a) : _PyMonitoring_FirePyYieldEvent(s, c, offset, a);
    case 4: return plain ? PyMonitoring_FireCallEvent(s, c, offset, a, NULL) : _PyMonitoring_FireCallEvent(s, c, offset, a, a);
    case 5: return plain ? PyMonitoring_FireLineEvent(s, c, offset, 3) : _PyMonitoring_FireLineEvent(s, c, offset, 3);
    case 7: return plain ? PyMonitoring_FireJumpEvent(s, c, offset, a) : _PyMonitoring_FireJumpEvent(s, c, offset, a);
    case 8: return plain ? PyMonitoring_FireBranchLeftEvent(s, c, offset, a) : _PyMonitoring_FireBranchLeftEvent(s, c, offset, a);
    case 9: return plain ? PyMonitoring_FireBranchRightEvent(s, c, offset, a) : _PyMonitoring_FireBranchRightEvent(s, c, offset, a);
    case 10: return plain ? PyMonitoring_FireStopIterationEvent(s, c, offset, a) : _PyMonitoring_FireStopIterationEvent(s, c, offset, a);
    case 11: return plain ? PyMonitoring_FireRaiseEvent(s, c, offset) : _PyMonitoring_FireRaiseEvent(s, c, offset);
    case 12: return plain ? PyMonitoring_FireExceptionHandledEvent(s, c, offset) : _PyMonitoring_FireExceptionHandledEvent(s, c, offset);
    case 13: return plain ? PyMonitoring_FirePyUnwindEvent(s, c, offset) : _PyMonitoring_FirePyUnwindEvent(s, c, offset);
    case 14: return plain ? PyMonitoring_FirePyThrowEvent(s, c, offset) : _PyMonitoring_FirePyThrowEvent(s, c, offset);
    case 15: return plain ? PyMonitoring_FireReraiseEvent(s, c, offset) : _PyMonitoring_FireReraiseEvent(s, c, offset);
    case 16: return plain ? PyMonitoring_FireCReturnEvent(s, c, offset, a) : _PyMonitoring_FireCReturnEvent(s, c, offset, a);
    case 17: return plain ? PyMonitoring_FireCRaiseEvent(s, c, offset) : _PyMonitoring_FireCRaiseEvent(s, c, offset);
    case 18: return _PyMonitoring_FireBranchEvent(s, c, offset, a);
    }
    return 0;
}

static int is_exception_event(int e) {
    return e == 11 || e == 12 || e == 13 || e == 14 || e == 15 || e == 17;
}

static unsigned next_rand(unsigned *seed) {
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 8;
}

static void *firer(void *arg) {
    unsigned seed = (unsigned)(uintptr_t)arg * 7919u + 1;
    PyMonitoringState states[SLOTS];
    uint64_t version = 0;
    unsigned rounds = 0;
    memset(states, 0, sizeof states);
    while (!atomic_load(&stop)) {
        /* Let the mutators run now and then: valgrind runs one thread at a
         * time and would otherwise give the firers long slices. */
        if (++rounds % 64 == 0) sched_yield();
        if (PyMonitoring_EnterScope(states, &version, scope_events, SLOTS) != 0) {
            violation("EnterScope failed", NULL);
            PyMonitoring_ErrClear();
        }
        for (int i = 0; i < SLOTS; i++) {
            int e = scope_events[i];
            int with_exc = is_exception_event(e) && next_rand(&seed) % 8 != 0;
            if (with_exc) PyMonitoring_SetRaisedException(OBJ(9));
            int offset = next_rand(&seed) % 32 == 0 ? -1 : (int)(next_rand(&seed) % 100);
            int rc = fire_slot(&states[i], e, next_rand(&seed) & 1, offset);
            atomic_fetch_add(&fires, 1);
#ifdef STRESS_PLANTED_RACE
            planted_counter++;
#endif
            if (rc == -1) {
                if (!PyMonitoring_ErrOccurred()) violation("-1 without an error", NULL);
                atomic_fetch_add(&fire_errors, 1);
            } else if (rc != 0) {
                violation("fire returned neither 0 nor -1", NULL);
            } else if (with_exc) {
                /* On success the exception is pending again. */
                if (PyMonitoring_GetRaisedException() != OBJ(9)) violation("exception not restored", NULL);
            } else if (PyMonitoring_ErrOccurred()) {
                violation("0 with an error set", NULL);
            }
            PyMonitoring_ErrClear();
        }
        PyMonitoring_ExitScope();
    }
    return NULL;
}

/* ------------------------------------------------------------ mutators */

typedef struct {
    int index, count;
    unsigned seed;
    CbData *owned[TOOLS][PY_MONITORING_EVENTS]; /* data this mutator must free */
    int in_use[TOOLS];
} Mutator;

static int owns(const Mutator *m, int tool) {
    return tool % m->count == m->index;
}

static void wait_callbacks(void) {
    if (PyMonitoring_WaitForCallbacks() != 0) {
        violation("WaitForCallbacks failed outside a callback", NULL);
        PyMonitoring_ErrClear();
    }
    atomic_fetch_add(&waits, 1);
}

static void release(CbData *d) {
    ANNOTATE_HAPPENS_AFTER(d);
#ifdef STRESS_PLANTED_UAF
    /* Self-test of the memcheck run: a read after the free (through a
     * volatile copy so the compiler does not refuse it). */
    CbData *volatile stale = d;
#endif
    d->magic = DEAD;
    free(d);
#ifdef STRESS_PLANTED_UAF
    if (stale->magic == MAGIC) violation("planted", NULL);
#endif
    atomic_fetch_add(&frees, 1);
}

/* Free every block of `tool` after a wait (they were all removed). */
static void release_tool(Mutator *m, int tool) {
    wait_callbacks();
    for (int e = 0; e < PY_MONITORING_EVENTS; e++) {
        if (m->owned[tool][e]) {
            release(m->owned[tool][e]);
            m->owned[tool][e] = NULL;
        }
    }
}

static void mutate_once(Mutator *m) {
    int tool = (int)(next_rand(&m->seed) % (lasting ? TOOLS - 1 : TOOLS));
    if (!owns(m, tool)) {
        /* Other mutators' tools: read only. */
        char buf[3];
        size_t needed = 0;
        int rc = PyMonitoring_GetTool(tool, buf, sizeof buf, &needed);
        if (rc == 1 ? (strncmp(buf, "st", 2) != 0 || needed != 9) : rc == 0 ? (buf[0] != 0 || needed != 0) : 1) {
            violation("GetTool returned an inconsistent name", NULL);
        }
        return;
    }
    unsigned op = next_rand(&m->seed) % 100;
    if (!m->in_use[tool]) {
        char name[16];
        snprintf(name, sizeof name, "stress-t%d", tool);
        CHECK_OK(PyMonitoring_UseToolId(tool, name), 0);
        m->in_use[tool] = 1;
    } else if (op < 40) {
        /* Register or replace a callback; free the old data after a wait. */
        int e = (int)(next_rand(&m->seed) % 18);
        CbData *d = malloc(sizeof *d);
        d->magic = MAGIC;
        d->tool = tool;
        d->event = e;
        d->mode = (int)(next_rand(&m->seed) % MODE_COUNT);
        if (next_rand(&m->seed) % 3) d->mode = MODE_OK;
        ANNOTATE_HAPPENS_BEFORE(d);
        CHECK_OK(PyMonitoring_RegisterCallback(tool, e, callback, d), 0);
        atomic_fetch_add(&registrations, 1);
        CbData *old = m->owned[tool][e];
        m->owned[tool][e] = d;
        if (old) {
            wait_callbacks();
            release(old);
        }
    } else if (op < 55) {
        /* Remove a callback, wait, free its data. */
        int e = (int)(next_rand(&m->seed) % 18);
        CHECK_OK(PyMonitoring_RegisterCallback(tool, e, NULL, NULL), 0);
        if (m->owned[tool][e]) {
            wait_callbacks();
            release(m->owned[tool][e]);
            m->owned[tool][e] = NULL;
        }
    } else if (op < 80) {
        uint32_t set = next_rand(&m->seed) & 0xFFFF;
        if (set & (1u << 4)) set |= (1u << 16) | (1u << 17);
        if (next_rand(&m->seed) % 4 == 0) set |= 1u << 18;
        CHECK_OK(PyMonitoring_SetEvents(tool, set), 0);
    } else if (op < 86) {
        if (lasting && op < 83) {
            CHECK_OK(PyMonitoring_RestartToolEvents(tool), 0);
        } else if (lasting && op == 83) {
            /* Off and on again: every remembered site is forgotten. */
            CHECK_OK(PyMonitoring_SetOptions(0), 0);
            CHECK_OK(PyMonitoring_SetOptions(PY_MONITORING_OPT_LASTING_DISABLE), 0);
        } else {
            CHECK_OK(PyMonitoring_RestartEvents(), 0);
        }
    } else if (op < 93) {
        CHECK_OK(PyMonitoring_ClearToolId(tool), 0);
        release_tool(m, tool);
    } else {
        CHECK_OK(PyMonitoring_FreeToolId(tool), 0);
        m->in_use[tool] = 0;
        release_tool(m, tool);
    }
}

static void *mutator(void *arg) {
    Mutator *m = (Mutator *)arg;
    while (!atomic_load(&stop)) {
        mutate_once(m);
    }
    return NULL;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
    (void)record_event; /* harness.h helper this program does not use */
    long ms = argc > 1 ? atol(argv[1]) : 2000;
    int nf = argc > 2 ? atoi(argv[2]) : 3;
    int nm = argc > 3 ? atoi(argv[3]) : 2;
    if (nf < 1) nf = 1;
    if (nm < 1) nm = 1;
    if (nm > MAX_MUTATORS) nm = MAX_MUTATORS;
    pthread_t ft[64], mt[MAX_MUTATORS];
    static Mutator ms_[MAX_MUTATORS];
    if (nf > 64) nf = 64;
    lasting = argc > 5 && strcmp(argv[5], "lasting") == 0;
    if (lasting) {
        CHECK_OK(PyMonitoring_SetOptions(PY_MONITORING_OPT_LASTING_DISABLE), 0);
        CHECK_OK(PyMonitoring_UseToolId(COVERAGE_TOOL, "coverage"), 0);
        CHECK_OK(PyMonitoring_RegisterCallback(COVERAGE_TOOL, PY_MONITORING_EVENT_LINE, coverage, NULL), 0);
        CHECK_OK(PyMonitoring_SetEvents(COVERAGE_TOOL, 1u << PY_MONITORING_EVENT_LINE), 0);
    }
    for (int i = 0; i < nm; i++) {
        ms_[i].index = i;
        ms_[i].count = nm;
        ms_[i].seed = 1234u + (unsigned)i;
        pthread_create(&mt[i], NULL, mutator, &ms_[i]);
    }
    for (int i = 0; i < nf; i++) pthread_create(&ft[i], NULL, firer, (void *)(uintptr_t)i);
    /* Run for `ms`, and on until the mutators made some progress (a slow
     * run under valgrind), but never past a hard limit. Under valgrind, which
     * runs one thread at a time, a firer's slices may all fall where the
     * churned tools have no callback, so those runs (argv[4] = 0) check
     * memory and races over whatever interleaving happened; the native runs
     * require callbacks to have run. */
    int require_calls = argc > 4 ? atoi(argv[4]) : 1;
    double start = now_ms(), end = start + (double)ms, hard_end = start + 120000.0;
    while (now_ms() < end || (atomic_load(&registrations) < 40 && now_ms() < hard_end)) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < nf; i++) pthread_join(ft[i], NULL);
    for (int i = 0; i < nm; i++) pthread_join(mt[i], NULL);
    /* Tear down: free every tool, wait, free what is left. */
    for (int i = 0; i < nm; i++) {
        for (int t = 0; t < (lasting ? TOOLS - 1 : TOOLS); t++) {
            if (owns(&ms_[i], t)) {
                CHECK_OK(PyMonitoring_FreeToolId(t), 0);
                release_tool(&ms_[i], t);
            }
        }
    }
    if (lasting) {
        /* Quiet now: each LINE site once, then never. */
        long fired = 0;
        for (int o = 0; o < OFFSETS; o++) fired += atomic_load(&coverage_calls[o]);
        if (fired == 0 && require_calls) violation("the coverage tool was never called", NULL);
        CHECK_OK(PyMonitoring_SetOptions(PY_MONITORING_OPT_LASTING_DISABLE), 0);
        CHECK_OK(PyMonitoring_RestartToolEvents(COVERAGE_TOOL), 0);
        for (int pass = 0; pass < 2; pass++) {
            for (int o = 0; o < OFFSETS; o++) atomic_store(&coverage_calls[o], 0);
            for (int o = 0; o < OFFSETS; o++) {
                PyMonitoringState st[1];
                uint64_t v = 0;
                const uint8_t ev = PY_MONITORING_EVENT_LINE;
                memset(st, 0, sizeof st);
                CHECK_OK(PyMonitoring_EnterScope(st, &v, &ev, 1), 0);
                CHECK_OK(fire_slot(&st[0], PY_MONITORING_EVENT_LINE, o & 1, o), 0);
                CHECK_OK(fire_slot(&st[0], PY_MONITORING_EVENT_LINE, 0, o), 0);
            }
            for (int o = 0; o < OFFSETS; o++) {
                if (atomic_load(&coverage_calls[o]) != (pass == 0 ? 1 : 0))
                    violation(pass == 0 ? "a site not called exactly once" : "a remembered site called again", NULL);
            }
        }
        CHECK_OK(PyMonitoring_FreeToolId(COVERAGE_TOOL), 0);
        CHECK_OK(PyMonitoring_SetOptions(0), 0);
    }
    printf("stress: %ld ms, %d firers, %d mutators: %ld fires (%ld errors), %ld callback calls, "
           "%ld registrations, %ld frees, %ld waits, %ld inner waits refused\n",
           ms, nf, nm, atomic_load(&fires), atomic_load(&fire_errors), atomic_load(&calls),
           atomic_load(&registrations), atomic_load(&frees), atomic_load(&waits),
           atomic_load(&inner_waits_refused));
    if (atomic_load(&violations)) {
        fprintf(stderr, "stress: %d violation(s)\n", atomic_load(&violations));
        return 1;
    }
    if (atomic_load(&calls) == 0 && require_calls) {
        fprintf(stderr, "stress: no callback ran: the harness tested nothing\n");
        return 1;
    }
    if (atomic_load(&fires) == 0 || atomic_load(&registrations) == 0) {
        fprintf(stderr, "stress: no fire or no registration: the harness tested nothing\n");
        return 1;
    }
    return harness_finish("stress");
}
