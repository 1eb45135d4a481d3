/* fork() while other threads use the library (docs/CONCURRENCY.md, "fork"):
 * every child must finish registry calls, PyMonitoring_WaitForCallbacks and
 * a fire, whatever another thread was doing at the fork.
 *  - during registry calls: a thread claims, configures, clears and frees a
 *    tool in a loop (holding the registry's and the site table's locks
 *    often) while the main thread forks many times;
 *  - during a callback: another thread is blocked inside a callback when
 *    the main thread forks; the child's wait does not wait for it.
 * A child that hangs is killed by its alarm() and fails the run. Run with
 * and without the built-in tools switched on by environment variable; the
 * children leave with _exit, so they write no tool files. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api_util.h"

#define FORKS 40
#define CHILD_SECONDS 10

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The lowest free tool id, claimed as `name`; -1 when none is free. */
static int claim_free(const char *name) {
    for (int t = 0; t <= 5; t++) {
        if (PyMonitoring_UseToolId(t, name) == 0) {
            return t;
        }
        PyMonitoring_ErrClear();
    }
    return -1;
}

static atomic_int child_calls;
/* Lets the blocking callback below return (in a child, also at once). */
static atomic_int released;

static int count_callback(void *data, const PyMonitoringEvent *ev) {
    (void)data;
    (void)ev;
    atomic_fetch_add(&child_calls, 1);
    return 0;
}

/* What every child does: registry calls on every tool, a tool of its own
 * that gets a fired event (`calls` times: 0 when the child is inside a
 * callback, where fires call nothing), and a wait. Returns the child's exit
 * status. */
static int child_work(int calls) {
    alarm(CHILD_SECONDS);
    atomic_store(&released, 1);
    char name[64];
    for (int t = 0; t <= 5; t++) {
        CHECK(PyMonitoring_GetTool(t, name, sizeof name, NULL) >= 0);
    }
    CHECK_OK(PyMonitoring_WaitForCallbacks(), 0);
    int tool = claim_free("child");
    CHECK(tool >= 0);
    if (tool >= 0) {
        CHECK_OK(PyMonitoring_SetEvents(tool, 1u << PY_MONITORING_EVENT_PY_START), 0);
        CHECK_OK(PyMonitoring_RegisterCallback(tool, PY_MONITORING_EVENT_PY_START,
                                               count_callback, NULL),
                 0);
        PyMonitoringState state;
        CHECK_OK(enter_one(&state, PY_MONITORING_EVENT_PY_START), 0);
        CHECK(state.active & (1 << tool));
        CHECK_OK(PyMonitoring_FirePyStartEvent(&state, OBJ(1), 0), 0);
        CHECK_EQ_INT(atomic_load(&child_calls), calls);
        CHECK_OK(PyMonitoring_WaitForCallbacks(), 0);
        CHECK_OK(PyMonitoring_FreeToolId(tool), 0);
    }
    CHECK_OK(PyMonitoring_WaitForCallbacks(), 0);
    return harness_failures ? 1 : 0;
}

/* Fork once: the child runs child_work and leaves with its status; the
 * parent checks that status. */
static void fork_and_check(const char *what, int i, int calls) {
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        _exit(child_work(calls));
    }
    int status = 0;
    CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "%s: child %d %s %d\n", what, i,
                WIFSIGNALED(status) ? "killed by signal" : "exited with",
                WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        harness_failures++;
    }
}

/* --- fork during registry calls --- */

static atomic_int stop;
static atomic_long rounds;

static void *hammer(void *arg) {
    (void)arg;
    while (!atomic_load(&stop)) {
        int tool = claim_free("hammer");
        if (tool < 0) {
            continue;
        }
        PyMonitoring_SetEvents(tool, (1u << PY_MONITORING_EVENT_PY_START) |
                                         (1u << PY_MONITORING_EVENT_LINE));
        PyMonitoring_RegisterCallback(tool, PY_MONITORING_EVENT_LINE, count_callback, NULL);
        PyMonitoring_SetLocalEvents(tool, OBJ(2), 1u << PY_MONITORING_EVENT_JUMP);
        char name[16];
        PyMonitoring_GetTool(tool, name, sizeof name, NULL);
        PyMonitoring_ClearToolId(tool);
        PyMonitoring_WaitForCallbacks();
        PyMonitoring_FreeToolId(tool);
        atomic_fetch_add(&rounds, 1);
    }
    return NULL;
}

static void fork_during_registry_calls(void) {
    pthread_t th;
    CHECK_EQ_INT(pthread_create(&th, NULL, hammer, NULL), 0);
    while (atomic_load(&rounds) < 10) {
        sleep_ms(1);
    }
    for (int i = 0; i < FORKS; i++) {
        fork_and_check("fork during registry calls", i, 1);
    }
    atomic_store(&stop, 1);
    CHECK_EQ_INT(pthread_join(th, NULL), 0);
}

/* --- fork during a callback --- */

static atomic_int entered;

static int blocking_callback(void *data, const PyMonitoringEvent *ev) {
    (void)data;
    (void)ev;
    atomic_store(&entered, 1);
    while (!atomic_load(&released)) {
        sleep_ms(1);
    }
    return 0;
}

static PyMonitoringState blocked_state;

static void *blocked_thread(void *arg) {
    int *rc = (int *)arg;
    *rc = PyMonitoring_FirePyStartEvent(&blocked_state, OBJ(1), 0);
    return NULL;
}

static void fork_during_a_callback(void) {
    int tool = claim_free("blocking");
    CHECK(tool >= 0);
    if (tool < 0) {
        return;
    }
    CHECK_OK(PyMonitoring_SetEvents(tool, 1u << PY_MONITORING_EVENT_PY_START), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(tool, PY_MONITORING_EVENT_PY_START, blocking_callback,
                                           NULL),
             0);
    CHECK_OK(enter_one(&blocked_state, PY_MONITORING_EVENT_PY_START), 0);
    int rc = -99;
    pthread_t th;
    CHECK_EQ_INT(pthread_create(&th, NULL, blocked_thread, &rc), 0);
    while (!atomic_load(&entered)) {
        sleep_ms(1);
    }
    /* The callback is running (and stays so): the parent's wait would
     * block; each child's does not, and its own fires work. */
    for (int i = 0; i < 4; i++) {
        fork_and_check("fork during a callback", i, 1);
    }
    atomic_store(&released, 1);
    CHECK_EQ_INT(pthread_join(th, NULL), 0);
    CHECK_EQ_INT(rc, 0);
    CHECK_OK(PyMonitoring_WaitForCallbacks(), 0);
    CHECK_OK(PyMonitoring_FreeToolId(tool), 0);
}

/* --- fork from inside a callback --- */

static int forking_callback(void *data, const PyMonitoringEvent *ev) {
    (void)ev;
    fork_and_check("fork inside a callback", *(int *)data, 0);
    return 0;
}

static void fork_inside_a_callback(void) {
    int tool = claim_free("forking");
    CHECK(tool >= 0);
    if (tool < 0) {
        return;
    }
    static int which = 0;
    CHECK_OK(PyMonitoring_SetEvents(tool, 1u << PY_MONITORING_EVENT_PY_START), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(tool, PY_MONITORING_EVENT_PY_START, forking_callback,
                                           &which),
             0);
    PyMonitoringState state;
    CHECK_OK(enter_one(&state, PY_MONITORING_EVENT_PY_START), 0);
    CHECK_OK(PyMonitoring_FirePyStartEvent(&state, OBJ(1), 0), 0);
    CHECK_OK(PyMonitoring_FreeToolId(tool), 0);
}

int main(void) {
    alarm(60);
    fork_during_registry_calls();
    fork_during_a_callback();
    fork_inside_a_callback();
    return harness_finish("fork");
}
