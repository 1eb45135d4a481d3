/* A program with tools of its own, run with the built-in tools switched on
 * by PYMONITORING_RECORD / _TRACE / _COVERAGE (tests/builtin_env.rs checks
 * the files they leave).
 *
 *   builtin_env claim K      claim tool K, fire ROUNDS rounds, check its own events
 *   builtin_env claim-all    claim tools 0 to 5 one after another, each checked
 *   builtin_env fork         fire, fork children that fire and exit normally
 *                            while a thread fires, fire again
 *   builtin_env failed DIR   failed PyMonitoring_Start* calls change nothing
 *   builtin_env names        code-likes named with newlines, commas, bad UTF-8
 *   builtin_env fsize        fire, then make every file write fail (RLIMIT_FSIZE)
 *   builtin_env unnamed      claim tool 0 and fire, naming no code-like
 *
 * One round, in a Cython-like layout (a state array per activation, one LINE
 * slot per line): outer starts, line 2, inner starts, lines 6 and 7, inner
 * returns, line 3, outer raises, outer returns: 9 events. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pymonitoring.h"

#define ROUNDS 5
#define EVENTS_PER_ROUND 9

static char objects[16];
#define OBJ(i) ((PyObject *)(void *)&objects[(i)])
enum { OUTER = 1, INNER, VALUE, EXC };

static void die(const char *what) {
    fprintf(stderr, "builtin_env: %s failed: %s\n", what,
            PyMonitoring_ErrOccurred() ? PyMonitoring_ErrMessage() : "(no error)");
    exit(1);
}
#define OK(call) do { if ((call) != 0) die(#call); } while (0)
#define CHECK(cond) do { if (!(cond)) { fprintf(stderr, "builtin_env: line %d: %s\n", __LINE__, #cond); exit(1); } } while (0)

/* What the program's own tools saw. */
#define MAX_SEEN 4096
typedef struct { int tool, event, lineno; PyObject *code; } Seen;
static Seen seen[MAX_SEEN];
static int nseen;
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static int main_only = 1; /* only the main thread's events are kept */
static pthread_t main_thread;

static int on_event(void *data, const PyMonitoringEvent *ev) {
    (void)data;
    if (main_only && !pthread_equal(pthread_self(), main_thread)) return 0;
    pthread_mutex_lock(&seen_lock);
    if (nseen < MAX_SEEN) {
        seen[nseen].tool = ev->tool_id;
        seen[nseen].event = ev->event;
        seen[nseen].lineno = ev->lineno;
        seen[nseen].code = ev->codelike;
        nseen++;
    }
    pthread_mutex_unlock(&seen_lock);
    return 0;
}

static const uint8_t FUNC_EVENTS[3] = {PY_MONITORING_EVENT_PY_START,
                                       PY_MONITORING_EVENT_PY_RETURN,
                                       PY_MONITORING_EVENT_RAISE};
#define LINES 8
static uint8_t LINE_TYPES[LINES];
static _Thread_local PyMonitoringState line_states[LINES];
static _Thread_local uint64_t line_version;

static void enter(PyMonitoringState *st, uint64_t *version) {
    OK(PyMonitoring_EnterScope(st, version, FUNC_EVENTS, 3));
    OK(PyMonitoring_EnterScope(line_states, &line_version, LINE_TYPES, LINES));
}

static void line(PyObject *code, int lineno) {
    OK(PyMonitoring_FireLineEvent(&line_states[lineno], code, lineno, lineno));
}

static void inner(void) {
    PyMonitoringState st[3] = {0};
    uint64_t version = 0;
    enter(st, &version);
    OK(PyMonitoring_FirePyStartEvent(&st[0], OBJ(INNER), 0));
    line(OBJ(INNER), 6);
    line(OBJ(INNER), 7);
    OK(PyMonitoring_FirePyReturnEvent(&st[1], OBJ(INNER), 7, OBJ(VALUE)));
    PyMonitoring_ExitScope();
}

static void round_(void) {
    PyMonitoringState st[3] = {0};
    uint64_t version = 0;
    enter(st, &version);
    OK(PyMonitoring_FirePyStartEvent(&st[0], OBJ(OUTER), 0));
    line(OBJ(OUTER), 2);
    inner();
    enter(st, &version);
    line(OBJ(OUTER), 3);
    PyMonitoring_SetRaisedException(OBJ(EXC));
    OK(PyMonitoring_FireRaiseEvent(&st[2], OBJ(OUTER), 3));
    (void)PyMonitoring_GetRaisedException();
    OK(PyMonitoring_FirePyReturnEvent(&st[1], OBJ(OUTER), 3, OBJ(VALUE)));
    PyMonitoring_ExitScope();
}

static void name_code(void) {
    OK(PyMonitoring_RegisterCodeName(OBJ(OUTER), "outer", "builtin_env.pyx", 1));
    OK(PyMonitoring_RegisterCodeName(OBJ(INNER), "inner", "builtin_env.pyx", 5));
}

/* Claim `tool` as a program does: name, callbacks, events. */
static void claim(int tool) {
    OK(PyMonitoring_UseToolId(tool, "program"));
    int events[4] = {PY_MONITORING_EVENT_PY_START, PY_MONITORING_EVENT_PY_RETURN,
                     PY_MONITORING_EVENT_LINE, PY_MONITORING_EVENT_RAISE};
    for (int i = 0; i < 4; i++)
        OK(PyMonitoring_RegisterCallback(tool, events[i], on_event, NULL));
    OK(PyMonitoring_SetEvents(tool, (1u << PY_MONITORING_EVENT_PY_START) |
                                        (1u << PY_MONITORING_EVENT_PY_RETURN) |
                                        (1u << PY_MONITORING_EVENT_LINE) |
                                        (1u << PY_MONITORING_EVENT_RAISE)));
}

/* Every tool in `tools` saw exactly `rounds` rounds, in order. */
static void check_seen(const int *tools, int ntools, int rounds) {
    static const struct { int event, lineno; int code; } ROUND[EVENTS_PER_ROUND] = {
        {PY_MONITORING_EVENT_PY_START, -1, OUTER}, {PY_MONITORING_EVENT_LINE, 2, OUTER},
        {PY_MONITORING_EVENT_PY_START, -1, INNER}, {PY_MONITORING_EVENT_LINE, 6, INNER},
        {PY_MONITORING_EVENT_LINE, 7, INNER},      {PY_MONITORING_EVENT_PY_RETURN, -1, INNER},
        {PY_MONITORING_EVENT_LINE, 3, OUTER},      {PY_MONITORING_EVENT_RAISE, -1, OUTER},
        {PY_MONITORING_EVENT_PY_RETURN, -1, OUTER}};
    for (int t = 0; t < ntools; t++) {
        int k = 0;
        for (int i = 0; i < nseen; i++) {
            if (seen[i].tool != tools[t]) continue;
            const int r = k % EVENTS_PER_ROUND;
            if (seen[i].event != ROUND[r].event || seen[i].lineno != ROUND[r].lineno ||
                seen[i].code != OBJ(ROUND[r].code)) {
                fprintf(stderr, "builtin_env: tool %d, event %d: got %d line %d\n", tools[t], k,
                        seen[i].event, seen[i].lineno);
                exit(1);
            }
            k++;
        }
        if (k != rounds * EVENTS_PER_ROUND) {
            fprintf(stderr, "builtin_env: tool %d saw %d events, not %d\n", tools[t], k,
                    rounds * EVENTS_PER_ROUND);
            exit(1);
        }
    }
}

static volatile int stop_thread;
static void *firing_thread(void *arg) {
    long *rounds = arg;
    while (!stop_thread) {
        round_();
        (*rounds)++;
    }
    return NULL;
}

static int run_fork(void) {
    int tool = 0;
    claim(tool);
    for (int i = 0; i < ROUNDS; i++) round_();
    /* Another thread fires (inside the built-in tools' callbacks, holding
     * their locks) while children are forked. */
    long thread_rounds = 0;
    pthread_t th;
    CHECK(pthread_create(&th, NULL, firing_thread, &thread_rounds) == 0);
    for (int c = 0; c < 20; c++) {
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            alarm(20);
            nseen = 0;
            for (int i = 0; i < ROUNDS; i++) round_();
            check_seen(&tool, 1, ROUNDS); /* the program's own tool works */
            OK(PyMonitoring_FlushBuiltinTools());
            exit(0); /* normally: exit handlers and the library's fini run */
        }
        int status = 0;
        CHECK(waitpid(pid, &status, 0) == pid);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "builtin_env: child %d ended with status %d\n", c, status);
            return 1;
        }
    }
    stop_thread = 1;
    CHECK(pthread_join(th, NULL) == 0);
    for (int i = 0; i < ROUNDS; i++) round_();
    check_seen(&tool, 1, 2 * ROUNDS);
    printf("thread_rounds %ld\n", thread_rounds);
    return 0;
}

/* A callback that DISABLEs LINE where it fires. */
static int line_calls;
static int disable_line(void *data, const PyMonitoringEvent *ev) {
    (void)data;
    (void)ev;
    line_calls++;
    return PY_MONITORING_DISABLE;
}

static int run_failed(const char *dir) {
    OK(PyMonitoring_UseToolId(0, "program"));
    OK(PyMonitoring_RegisterCallback(0, PY_MONITORING_EVENT_LINE, disable_line, NULL));
    OK(PyMonitoring_SetEvents(0, 1u << PY_MONITORING_EVENT_LINE));
    OK(PyMonitoring_EnterScope(line_states, &line_version, LINE_TYPES, LINES));
    line(OBJ(OUTER), 2);
    line(OBJ(OUTER), 2);
    CHECK(line_calls == 1); /* DISABLEd after the first */
    const uint64_t version = PyMonitoring_GetVersion();

    char bad[512], good[512];
    snprintf(bad, sizeof bad, "%s/no-such-dir/x", dir);
    snprintf(good, sizeof good, "%s/never-created", dir);
    CHECK(PyMonitoring_StartRecorder(1, bad) == -1);
    CHECK(PyMonitoring_ErrKind() == PY_MONITORING_ERR_RUNTIME);
    PyMonitoring_ErrClear();
    CHECK(PyMonitoring_StartProfiler(0, good) == -1); /* the program's id */
    PyMonitoring_ErrClear();
    CHECK(PyMonitoring_StartCoverage(2, bad, PY_MONITORING_COVERAGE_COUNT) == -1);
    PyMonitoring_ErrClear();
    CHECK(PyMonitoring_StartCoverage(2, good, 7) == -1);
    PyMonitoring_ErrClear();
    CHECK(PyMonitoring_StartRecorder(6, good) == -1);
    PyMonitoring_ErrClear();
    CHECK(access(good, F_OK) != 0);

    CHECK(PyMonitoring_GetVersion() == version);
    OK(PyMonitoring_EnterScope(line_states, &line_version, LINE_TYPES, LINES));
    line(OBJ(OUTER), 2);
    CHECK(line_calls == 1); /* still DISABLEd */
    for (int t = 1; t <= 5; t++) OK(PyMonitoring_UseToolId(t, "free")); /* none was kept */
    return 0;
}

static int run_names(void) {
    OK(PyMonitoring_RegisterCodeName(OBJ(OUTER), "out\ner,\"x\"\xff", "dir\n/we,ird\xfe.pyx", 1));
    OK(PyMonitoring_RegisterCodeName(OBJ(INNER), "1,2\r\t", "plain.pyx", 5));
    for (int i = 0; i < ROUNDS; i++) round_();
    return 0;
}

int main(int argc, char **argv) {
    main_thread = pthread_self();
    for (int i = 0; i < LINES; i++) LINE_TYPES[i] = PY_MONITORING_EVENT_LINE;
    if (argc < 2) return 2;
    const char *mode = argv[1];
    if (strcmp(mode, "claim") == 0 && argc == 3) {
        int tool = atoi(argv[2]);
        name_code();
        claim(tool);
        for (int i = 0; i < ROUNDS; i++) round_();
        check_seen(&tool, 1, ROUNDS);
        return 0;
    }
    if (strcmp(mode, "claim-all") == 0) {
        int tools[6] = {0, 1, 2, 3, 4, 5};
        name_code();
        for (int t = 0; t < 6; t++) claim(t);
        for (int i = 0; i < ROUNDS; i++) round_();
        check_seen(tools, 6, ROUNDS);
        return 0;
    }
    if (strcmp(mode, "fork") == 0) {
        name_code();
        return run_fork();
    }
    if (strcmp(mode, "failed") == 0 && argc == 3) return run_failed(argv[2]);
    if (strcmp(mode, "names") == 0) return run_names();
    if (strcmp(mode, "unnamed") == 0) {
        int tool = 0;
        claim(tool);
        for (int i = 0; i < ROUNDS; i++) round_();
        check_seen(&tool, 1, ROUNDS);
        return 0;
    }
    if (strcmp(mode, "fsize") == 0) {
        name_code();
        for (int i = 0; i < ROUNDS; i++) round_();
        struct rlimit limit = {1, 1};
        signal(SIGXFSZ, SIG_IGN);
        CHECK(setrlimit(RLIMIT_FSIZE, &limit) == 0);
        return 0;
    }
    return 2;
}
