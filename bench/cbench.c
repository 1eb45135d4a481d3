/* cbench: the C-ABI cost of pymonitoring's hot paths, as a C user sees it.
 *
 * Built by bench/run.sh (and bench/budget.sh) against the release cdylib:
 *   cc -O2 -std=gnu11 -Iinclude bench/cbench.c -Ltarget/release -lpymonitoring
 * once as is (the exported PyMonitoring_Fire*Event functions, through the PLT)
 * and once with -DPYMONITORING_INLINE (the header's static inline wrappers).
 *
 * Usage: cbench N [CASE...]   runs every case (or the named ones) once with N
 * iterations and prints "case ns_per_iteration" lines. Under
 * `valgrind --tool=callgrind --collect-atstart=no` only the measured loops are
 * counted (CALLGRIND_TOGGLE_COLLECT around each loop) and one dump is written
 * per case (CALLGRIND_DUMP_STATS_AT(case)); bench/cgcount.sh turns the dumps
 * into instructions per iteration.
 *
 * Every loop runs a compiler barrier each iteration and the states live in a
 * file-scope array whose address escapes, so `state->active` is re-read every
 * iteration (checked with objdump, see BENCHMARKS.md). Results are summed and
 * checked after each loop; a failed check exits with status 1.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pymonitoring.h"

#include "timed_loop.h"

#define NOINLINE __attribute__((noinline))
#define COLD __attribute__((cold))

#ifdef PYMONITORING_INLINE
#define VARIANT "inline"
#else
#define VARIANT "exported"
#endif

/* Host objects: only their addresses matter. */
static long g_objs[8];
#define CODE ((PyObject *)&g_objs[0])
#define EXC ((PyObject *)&g_objs[1])

static PyMonitoringState g_states[64];
static uint64_t g_version;
static uint8_t g_events[64];
static volatile long g_sink;
static long g_calls;
static __thread long t_calls;

static const char **g_only;
static int g_only_n;

static int cb_none(void *data, const PyMonitoringEvent *ev)
{
    (void)data;
    (void)ev;
    g_calls++;
    return 0;
}

static int cb_thread(void *data, const PyMonitoringEvent *ev)
{
    (void)data;
    (void)ev;
    t_calls++;
    return 0;
}

static int cb_disable(void *data, const PyMonitoringEvent *ev)
{
    (void)data;
    (void)ev;
    g_calls++;
    return PY_MONITORING_DISABLE;
}

static void fail(const char *what)
{
    fprintf(stderr, "cbench: check failed: %s\n", what);
    if (PyMonitoring_ErrOccurred())
        fprintf(stderr, "cbench: pending error: %s\n", PyMonitoring_ErrMessage());
    exit(1);
}

#define CHECK(c)          \
    do {                  \
        if (!(c))         \
            fail(#c);     \
    } while (0)

static int wanted(const char *name)
{
    if (g_only_n == 0)
        return 1;
    for (int i = 0; i < g_only_n; i++)
        if (strcmp(g_only[i], name) == 0)
            return 1;
    return 0;
}

/* One line per case: name, ns per iteration, iterations of the timed loop. */
static void report(const char *name, double ns, long iters)
{
    CALLGRIND_DUMP_STATS_AT(name);
    printf("%s %.3f %ld\n", name, ns, iters);
    fflush(stdout);
}

/* ---- registry set-up ---- */

static void tools_clear(void)
{
    for (int t = 0; t <= 5; t++)
        CHECK(PyMonitoring_FreeToolId(t) == 0);
}

static void tool_on(int tool, int event, PyMonitoringCallback cb, uint32_t events)
{
    char name[32];
    snprintf(name, sizeof name, "bench%d", tool);
    CHECK(PyMonitoring_UseToolId(tool, name) == 0);
    CHECK(PyMonitoring_RegisterCallback(tool, event, cb, NULL) == 0);
    CHECK(PyMonitoring_SetEvents(tool, events) == 0);
}

/* Out of line: the header's inline EnterScope expanded into a case's
 * function would change the register allocation of its measured loop. */
static NOINLINE void refresh(int length)
{
    uint64_t v = UINT64_MAX;
    CHECK(PyMonitoring_EnterScope(g_states, &v, g_events, length) == 0);
}

/* ---- cases ----
 * Each case is its own function (NOINLINE): inlined into main, a case's
 * measured loop would share main's registers and its count would move with
 * unrelated code elsewhere in main. */

/* The two sub-ns loops live in their own functions so their code can be
 * read with `objdump -d --disassemble=loop_fire_inactive`. */
static NOINLINE double loop_empty(long n, long *out)
{
    long acc = 0;
    double ns = TIMED(n, acc += 1);
    *out = acc;
    return ns;
}

static NOINLINE double loop_fire_inactive(long n, long *out)
{
    long acc = 0;
    double ns = TIMED(n, acc += PyMonitoring_FirePyStartEvent(&g_states[0], CODE, 0));
    *out = acc;
    return ns;
}

/* Fires at call sites the compiler predicts rarely run: a function marked
 * cold and called once, with several fire sites, as one-time set-up code and
 * error paths are. Compilers keep one out-of-line copy of an inline function
 * for such sites unless it is forced inline (the header does that), so this
 * case shows whether the inactive fire there is still one compare and
 * branch. The results are tested as Cython tests them (`< 0` is an error). */
static NOINLINE COLD double loop_fire_inactive_cold(long n, long *out)
{
    long errors = 0;
    if (PyMonitoring_FireLineEvent(&g_states[1], CODE, 2, 1) < 0)
        errors++;
    if (PyMonitoring_FirePyReturnEvent(&g_states[2], CODE, 4, CODE) < 0)
        errors++;
    if (PyMonitoring_FireRaiseEvent(&g_states[3], CODE, 6) < 0)
        errors++;
    double ns = TIMED(n, {
        if (PyMonitoring_FirePyStartEvent(&g_states[0], CODE, 0) < 0)
            errors++;
    });
    *out = errors;
    return ns;
}

static NOINLINE void case_empty(long n)
{
    long acc = 0;
    double ns = loop_empty(n, &acc);
    g_sink = acc;
    report("empty_loop", ns, n);
}

static NOINLINE void case_fire_inactive(long n)
{
    memset(g_states, 0, sizeof g_states);
    long acc = 0;
    double ns = loop_fire_inactive(n, &acc);
    CHECK(acc == 0);
    g_sink = acc;
    report("fire_inactive", ns, n);
}

static NOINLINE void case_fire_inactive_cold(long n)
{
    memset(g_states, 0, sizeof g_states);
    long errors = 0;
    double ns = loop_fire_inactive_cold(n, &errors);
    CHECK(errors == 0);
    report("fire_inactive_cold", ns, n);
}

/* Cython's __Pyx_TraceLine takes the pending exception around every LINE
 * fire: with none pending anywhere this is the raised-exception count's
 * test (docs/CONCURRENCY.md), in the caller with the inline header. */
static NOINLINE void case_get_raised_none(long n)
{
    long acc = 0;
    double ns = TIMED(n, acc += PyMonitoring_GetRaisedException() != NULL);
    CHECK(acc == 0);
    report("get_raised_none", ns, n);
}

static NOINLINE void enter_unchanged(long n, int length, const char *name)
{
    refresh(length);
    g_version = PyMonitoring_GetVersion();
    long acc = 0;
    double ns = TIMED(n, acc += PyMonitoring_EnterScope(g_states, &g_version, g_events, length));
    CHECK(acc == 0);
    report(name, ns, n);
}

static NOINLINE void enter_refresh(long n, int length, const char *name)
{
    long acc = 0;
    double ns = TIMED(n, {
        g_version = UINT64_MAX;
        acc += PyMonitoring_EnterScope(g_states, &g_version, g_events, length);
    });
    CHECK(acc == 0);
    CHECK(g_version == PyMonitoring_GetVersion());
    report(name, ns, n);
}

/* A Cython-style function body: fresh states, EnterScope, START, RETURN, Exit. */
static const ODD_ARRAY(uint8_t, ids, 7) k_cython_events = {0, {
    PY_MONITORING_EVENT_PY_START,  PY_MONITORING_EVENT_PY_RETURN, PY_MONITORING_EVENT_PY_YIELD,
    PY_MONITORING_EVENT_PY_RESUME, PY_MONITORING_EVENT_PY_UNWIND, PY_MONITORING_EVENT_CALL,
    PY_MONITORING_EVENT_RAISE,
}};

/* The same events in CPython 3.13's numbering (the host's numbering,
 * PY_MONITORING_OPT_CPYTHON_313_EVENT_IDS): PY_UNWIND 12, CALL 4, RAISE 10. */
static const ODD_ARRAY(uint8_t, ids, 7) k_cython_events_313 = {0, {0, 2, 3, 1, 12, 4, 10}};

/* A Cython-style call with scope events EVENTS. */
#define DEFINE_CYTHON_CALL(NAME, EVENTS)                                                   \
    static NOINLINE int NAME(void)                                                          \
    {                                                                                       \
        ODD_ARRAY(PyMonitoringState, s, 7) frame;                                           \
        PyMonitoringState *states = frame.s;                                                \
        uint64_t version = 0;                                                               \
        memset(states, 0, sizeof frame.s);                                                  \
        if (PyMonitoring_EnterScope(states, &version, EVENTS, 7) < 0)                       \
            return -1;                                                                      \
        /* The fires are CPython's inline tests in both variants (Cython uses              \
         * CPython's header): only EnterScope/ExitScope differ between them. */            \
        if (states[0].active && _PyMonitoring_FirePyStartEvent(&states[0], CODE, 0) < 0)    \
            return -1;                                                                      \
        if (states[1].active && _PyMonitoring_FirePyReturnEvent(&states[1], CODE, 2, CODE) < 0) \
            return -1;                                                                      \
        return PyMonitoring_ExitScope();                                                    \
    }
DEFINE_CYTHON_CALL(cython_call, k_cython_events.ids)
DEFINE_CYTHON_CALL(cython_call_313, k_cython_events_313.ids)

static NOINLINE void case_cython(long n, const char *name)
{
    long acc = 0;
    double ns = TIMED(n, acc += cython_call());
    CHECK(acc == 0);
    report(name, ns, n);
}

static NOINLINE void fire_active(long n, int tools, const char *name)
{
    tools_clear();
    for (int t = 0; t < tools; t++)
        tool_on(5 - t, PY_MONITORING_EVENT_PY_START, cb_none, 1u << PY_MONITORING_EVENT_PY_START);
    g_events[0] = PY_MONITORING_EVENT_PY_START;
    refresh(1);
    CHECK(__builtin_popcount(g_states[0].active) == tools);
    long acc = 0;
    g_calls = 0;
    double ns = TIMED(n, acc += PyMonitoring_FirePyStartEvent(&g_states[0], CODE, 0));
    CHECK(acc == 0);
    CHECK(g_calls == (long)tools * (n + n / 10 + 1));
    tools_clear();
    report(name, ns, n);
}

static NOINLINE void case_line(long n)
{
    tools_clear();
    tool_on(2, PY_MONITORING_EVENT_LINE, cb_none, 1u << PY_MONITORING_EVENT_LINE);
    g_events[0] = PY_MONITORING_EVENT_LINE;
    refresh(1);
    long acc = 0;
    g_calls = 0;
    double ns = TIMED(n, acc += PyMonitoring_FireLineEvent(&g_states[0], CODE, 4, 1000));
    CHECK(acc == 0);
    CHECK(g_calls == n + n / 10 + 1);
    tools_clear();
    report("line_1tool_c", ns, n);
}

static NOINLINE void case_raise(long n)
{
    tools_clear();
    tool_on(2, PY_MONITORING_EVENT_RAISE, cb_none, 1u << PY_MONITORING_EVENT_RAISE);
    g_events[0] = PY_MONITORING_EVENT_RAISE;
    refresh(1);
    PyMonitoring_SetRaisedException(EXC);
    long acc = 0;
    g_calls = 0;
    double ns = TIMED(n, acc += PyMonitoring_FireRaiseEvent(&g_states[0], CODE, 6));
    CHECK(acc == 0);
    CHECK(g_calls == n + n / 10 + 1);
    CHECK(PyMonitoring_GetRaisedException() == EXC);
    tools_clear();
    report("raise_1tool_c", ns, n);
}

static NOINLINE void case_disable(long n)
{
    tools_clear();
    tool_on(2, PY_MONITORING_EVENT_PY_START, cb_disable, 1u << PY_MONITORING_EVENT_PY_START);
    g_events[0] = PY_MONITORING_EVENT_PY_START;
    long acc = 0;
    g_calls = 0;
    double ns = TIMED(n, {
        g_version = UINT64_MAX;
        acc += PyMonitoring_EnterScope(g_states, &g_version, g_events, 1);
        acc += PyMonitoring_FirePyStartEvent(&g_states[0], CODE, 0);
    });
    CHECK(acc == 0);
    CHECK(g_calls == n + n / 10 + 1);
    CHECK(g_states[0].active == 0);
    tools_clear();
    report("disable_refresh_1", ns, n);
}

static NOINLINE void case_set_events(long n)
{
    tools_clear();
    CHECK(PyMonitoring_UseToolId(3, "bench") == 0);
    long acc = 0;
    double ns = TIMED(n, acc += PyMonitoring_SetEvents(3, (i_ & 1) ? 1u : 2u));
    CHECK(acc == 0);
    tools_clear();
    report("set_events", ns, n);
}

static NOINLINE void case_register(long n)
{
    tools_clear();
    CHECK(PyMonitoring_UseToolId(3, "bench") == 0);
    long acc = 0;
    double ns = TIMED(n, acc += PyMonitoring_RegisterCallback(3, PY_MONITORING_EVENT_PY_START,
                                                              (i_ & 1) ? cb_none : cb_disable, NULL));
    CHECK(acc == 0);
    tools_clear();
    report("register_callback", ns, n);
}

/* ---- code-likes (docs/EXTENSIONS.md): code scopes, armed sites, active-needs-callback ---- */

#define CODE2 ((PyObject *)&g_objs[2])

/* EnterCodeScope with an unchanged version: the same work as EnterScope's. */
static NOINLINE void enter_code_unchanged(long n, int length, const char *name)
{
    uint64_t v = UINT64_MAX;
    CHECK(PyMonitoring_EnterCodeScope(g_states, &v, g_events, length, CODE) == 0);
    g_version = PyMonitoring_GetVersion();
    long acc = 0;
    double ns = TIMED(n, acc += PyMonitoring_EnterCodeScope(g_states, &g_version, g_events, length, CODE));
    CHECK(acc == 0);
    report(name, ns, n);
}

/* EnterCodeScope refresh of a code-like with local events (tool 3: LINE and
 * CALL locally), next to enter_refresh_17. */
static NOINLINE void enter_code_refresh(long n, int length, const char *name)
{
    CHECK(PyMonitoring_UseToolId(3, "local") == 0);
    CHECK(PyMonitoring_SetLocalEvents(3, CODE, (1u << PY_MONITORING_EVENT_LINE) |
                                                   (1u << PY_MONITORING_EVENT_CALL)) == 0);
    long acc = 0;
    double ns = TIMED(n, {
        g_version = UINT64_MAX;
        acc += PyMonitoring_EnterCodeScope(g_states, &g_version, g_events, length, CODE);
    });
    CHECK(acc == 0);
    CHECK(g_version == PyMonitoring_GetVersion());
    CHECK(g_states[PY_MONITORING_EVENT_LINE].active & (1 << 3));
    CHECK(PyMonitoring_FreeToolId(3) == 0);
    report(name, ns, n);
}

/* A fire with tool 2 armed at CODE: `hit` fires at an armed site (the
 * callback runs), otherwise at a skipped one (no callback). PY_START is armed
 * by offset (0 or not), LINE by line (1000 or not). */
static NOINLINE void fire_armed(long n, int event, int hit, const char *name)
{
    tools_clear();
    tool_on(2, event, cb_none, 1u << event);
    g_events[0] = (uint8_t)event;
    refresh(1);
    int32_t site = hit ? (event == PY_MONITORING_EVENT_LINE ? 1000 : 0) : 77;
    int kind = event == PY_MONITORING_EVENT_LINE ? PY_MONITORING_ARM_LINES : PY_MONITORING_ARM_OFFSETS;
    CHECK(PyMonitoring_ArmSites(2, CODE, kind, &site, 1) == 0);
    long acc = 0;
    g_calls = 0;
    double ns;
    if (event == PY_MONITORING_EVENT_LINE)
        ns = TIMED(n, acc += PyMonitoring_FireLineEvent(&g_states[0], CODE, 4, 1000));
    else
        ns = TIMED(n, acc += PyMonitoring_FirePyStartEvent(&g_states[0], CODE, 0));
    CHECK(acc == 0);
    CHECK(g_calls == (hit ? n + n / 10 + 1 : 0));
    CHECK(g_states[0].active == 1 << 2);
    tools_clear();
    report(name, ns, n);
}

/* PY_START fires with one tool that set PY_START but registered no callback
 * (it has one for LINE only), in the default mode (the slot is active: the
 * fire enters the dispatch and finds no callback) and with
 * PY_MONITORING_OPT_ACTIVE_NEEDS_CALLBACK (the slot is inactive). */
static NOINLINE void events_no_callback(long n, uint32_t options, const char *name)
{
    tools_clear();
    CHECK(PyMonitoring_SetOptions(options) == 0);
    tool_on(2, PY_MONITORING_EVENT_LINE, cb_none, 1u << PY_MONITORING_EVENT_PY_START);
    g_events[0] = PY_MONITORING_EVENT_PY_START;
    refresh(1);
    CHECK(g_states[0].active == (options ? 0 : 1 << 2));
    long acc = 0;
    g_calls = 0;
    double ns = TIMED(n, acc += PyMonitoring_FirePyStartEvent(&g_states[0], CODE, 0));
    CHECK(acc == 0);
    CHECK(g_calls == 0);
    tools_clear();
    CHECK(PyMonitoring_SetOptions(0) == 0);
    report(name, ns, n);
}

static NOINLINE void codelike_cases(long n)
{
    /* Scopes: tool 4 sets LINE globally, as for enter_*_17. */
    CHECK(PyMonitoring_UseToolId(4, "other") == 0);
    CHECK(PyMonitoring_SetEvents(4, 1u << PY_MONITORING_EVENT_LINE) == 0);
    if (wanted("enter_code_unchanged_17"))
        enter_code_unchanged(n, 17, "enter_code_unchanged_17");
    if (wanted("enter_code_refresh_17"))
        enter_code_refresh(n, 17, "enter_code_refresh_17");
    tools_clear();
    if (wanted("pystart_armed_hit"))
        fire_armed(n, PY_MONITORING_EVENT_PY_START, 1, "pystart_armed_hit");
    if (wanted("pystart_armed_skip"))
        fire_armed(n, PY_MONITORING_EVENT_PY_START, 0, "pystart_armed_skip");
    if (wanted("line_armed_hit"))
        fire_armed(n, PY_MONITORING_EVENT_LINE, 1, "line_armed_hit");
    if (wanted("line_armed_skip"))
        fire_armed(n, PY_MONITORING_EVENT_LINE, 0, "line_armed_skip");
    /* Something armed at another code-like: PY_START at CODE pays the gate
     * and the out-of-line lookup, finds nothing armed and calls. */
    if (wanted("pystart_armed_elsewhere")) {
        tools_clear();
        tool_on(2, PY_MONITORING_EVENT_PY_START, cb_none, 1u << PY_MONITORING_EVENT_PY_START);
        g_events[0] = PY_MONITORING_EVENT_PY_START;
        refresh(1);
        int32_t site = 0;
        CHECK(PyMonitoring_ArmSites(2, CODE2, PY_MONITORING_ARM_OFFSETS, &site, 1) == 0);
        long acc = 0;
        g_calls = 0;
        double ns = TIMED(n, acc += PyMonitoring_FirePyStartEvent(&g_states[0], CODE, 0));
        CHECK(acc == 0);
        CHECK(g_calls == n + n / 10 + 1);
        tools_clear();
        report("pystart_armed_elsewhere", ns, n);
    }
    if (wanted("pystart_events_no_cb"))
        events_no_callback(n, 0, "pystart_events_no_cb");
    if (wanted("pystart_events_no_cb_anc"))
        events_no_callback(n, PY_MONITORING_OPT_ACTIVE_NEEDS_CALLBACK, "pystart_events_no_cb_anc");
}

/* ---- per-tool restart and PY_MONITORING_OPT_LASTING_DISABLE ----
 * These run last: the first per-tool restart or lasting-mode switch opens the
 * gate that sends refreshes through the restart-aware path for good. */

/* Mode on, a site not DISABLEd while another site of the same code-like is
 * (the coverage case: a line met for the first time): the cost of the mode
 * on the active path, next to pystart_1tool_c / line_1tool_c. */
static inline __attribute__((always_inline)) void lasting_active(long n, int event,
                                                              const char *name)
{
    tools_clear();
    CHECK(PyMonitoring_SetOptions(PY_MONITORING_OPT_LASTING_DISABLE) == 0);
    tool_on(5, event, cb_disable, 1u << event);
    g_events[0] = (uint8_t)event;
    memset(g_states, 0, sizeof g_states);
    refresh(1);
    /* DISABLE another site (offset 9) of the code-like. */
    g_calls = 0;
    if (event == PY_MONITORING_EVENT_LINE)
        CHECK(PyMonitoring_FireLineEvent(&g_states[0], CODE, 9, 1009) == 0);
    else
        CHECK(PyMonitoring_FirePyStartEvent(&g_states[0], CODE, 9) == 0);
    CHECK(g_calls == 1);
    CHECK(PyMonitoring_RegisterCallback(5, event, cb_none, NULL) == 0);
    refresh(1);
    CHECK(g_states[0].active == 1 << 5 && g_states[0].opaque == 0x80);
    long acc = 0;
    g_calls = 0;
    double ns;
    if (event == PY_MONITORING_EVENT_LINE)
        ns = TIMED(n, acc += PyMonitoring_FireLineEvent(&g_states[0], CODE, 4, 1000));
    else
        ns = TIMED(n, acc += PyMonitoring_FirePyStartEvent(&g_states[0], CODE, 0));
    CHECK(acc == 0);
    CHECK(g_calls == n + n / 10 + 1);
    tools_clear();
    CHECK(PyMonitoring_SetOptions(0) == 0);
    report(name, ns, n);
}

/* Mode on, a fire at a DISABLEd site: no callback, nothing written (the
 * slot stays active for the activation's other sites). */
static inline __attribute__((always_inline)) void lasting_disabled_site(long n, int event,
                                                                     const char *name)
{
    tools_clear();
    CHECK(PyMonitoring_SetOptions(PY_MONITORING_OPT_LASTING_DISABLE) == 0);
    tool_on(5, event, cb_disable, 1u << event);
    g_events[0] = (uint8_t)event;
    memset(g_states, 0, sizeof g_states);
    uint64_t v = 0;
    CHECK(PyMonitoring_EnterScope(g_states, &v, g_events, 1) == 0);
    g_calls = 0;
    if (event == PY_MONITORING_EVENT_LINE)
        CHECK(PyMonitoring_FireLineEvent(&g_states[0], CODE, 4, 1000) == 0);
    else
        CHECK(PyMonitoring_FirePyStartEvent(&g_states[0], CODE, 0) == 0);
    /* The site is silenced, not the slot: active and opaque as refreshed. */
    CHECK(g_calls == 1 && g_states[0].active == 1 << 5 && g_states[0].opaque == 0x80);
    /* The result tested as Cython tests it (`< 0`: the error path), not
     * summed: a skip's constant 0 then goes straight on, where a sum merges
     * it with the calls' results (3 instructions a fire that no caller of
     * the fire macros pays: see bench/workload.c's TRACE_LINE). */
    long errors = 0;
    double ns;
    if (event == PY_MONITORING_EVENT_LINE)
        ns = TIMED(n, if (__builtin_expect(PyMonitoring_FireLineEvent(&g_states[0], CODE, 4, 1000) < 0, 0)) errors++);
    else
        ns = TIMED(n, if (__builtin_expect(PyMonitoring_FirePyStartEvent(&g_states[0], CODE, 0) < 0, 0)) errors++);
    CHECK(errors == 0);
    CHECK(g_calls == 1);
    CHECK(g_states[0].active == 1 << 5 && g_states[0].opaque == 0x80);
    tools_clear();
    CHECK(PyMonitoring_SetOptions(0) == 0);
    report(name, ns, n);
}

/* One function per case, each with its event a constant, not inlined into
 * main, whose register pressure would otherwise decide the loop's figure. */
static NOINLINE void case_lasting_pystart(long n)
{
    lasting_active(n, PY_MONITORING_EVENT_PY_START, "lasting_pystart_1tool_c");
}

static NOINLINE void case_lasting_line(long n)
{
    lasting_active(n, PY_MONITORING_EVENT_LINE, "lasting_line_1tool_c");
}

static NOINLINE void case_lasting_disabled_site(long n)
{
    lasting_disabled_site(n, PY_MONITORING_EVENT_PY_START, "lasting_disabled_site");
}

static NOINLINE void case_lasting_disabled_line(long n)
{
    lasting_disabled_site(n, PY_MONITORING_EVENT_LINE, "lasting_disabled_line");
}

/* EnterScope refresh of 17 slots after the gate opened: default mode after a
 * per-tool restart (restart_refresh_17), and lasting mode (lasting_refresh_17),
 * next to enter_refresh_17. */
static NOINLINE void case_gated_refresh(long n, int lasting, const char *name)
{
    tools_clear();
    CHECK(PyMonitoring_SetOptions(lasting ? PY_MONITORING_OPT_LASTING_DISABLE : 0) == 0);
    CHECK(PyMonitoring_UseToolId(4, "other") == 0);
    CHECK(PyMonitoring_SetEvents(4, 1u << PY_MONITORING_EVENT_LINE) == 0);
    CHECK(PyMonitoring_RestartToolEvents(4) == 0);
    for (int i = 0; i < 17; i++)
        g_events[i] = (uint8_t)i;
    memset(g_states, 0, sizeof g_states);
    long acc = 0;
    double ns = TIMED(n, {
        g_version = 0;
        acc += PyMonitoring_EnterScope(g_states, &g_version, g_events, 17);
    });
    CHECK(acc == 0);
    CHECK(g_version == PyMonitoring_GetVersion());
    CHECK(g_states[PY_MONITORING_EVENT_LINE].active == 1 << 4);
    tools_clear();
    CHECK(PyMonitoring_SetOptions(0) == 0);
    report(name, ns, n);
}

/* cython_other in the lasting-DISABLE mode: every call's EnterScope
 * refreshes its 7 slots, each getting the mode's mark in `opaque`. */
static NOINLINE void case_cython_lasting(long n)
{
    tools_clear();
    CHECK(PyMonitoring_SetOptions(PY_MONITORING_OPT_LASTING_DISABLE) == 0);
    CHECK(PyMonitoring_UseToolId(4, "other") == 0);
    CHECK(PyMonitoring_SetEvents(4, 1u << PY_MONITORING_EVENT_LINE) == 0);
    case_cython(n, "cython_lasting");
    tools_clear();
    CHECK(PyMonitoring_SetOptions(0) == 0);
}

/* cython_other in the host's numbering (a module built against CPython
 * 3.13's header, the library as its host's implementation): every call's
 * EnterScope translates and refreshes its 7 slots. */
static NOINLINE void case_cython_host(long n)
{
    tools_clear();
    CHECK(PyMonitoring_SetOptions(PY_MONITORING_OPT_CPYTHON_313_EVENT_IDS) == 0);
    CHECK(PyMonitoring_UseToolId(4, "other") == 0);
    CHECK(PyMonitoring_SetEvents(4, 1u << PY_MONITORING_EVENT_CALL) == 0);
    PyMonitoringState states[7];
    uint64_t version = 0;
    CHECK(PyMonitoring_EnterScope(states, &version, k_cython_events_313.ids, 7) == 0);
    CHECK(states[5].active == 1 << 4 && states[0].active == 0);
    long acc = 0;
    double ns = TIMED(n, acc += cython_call_313());
    CHECK(acc == 0);
    report("cython_host", ns, n);
    tools_clear();
    CHECK(PyMonitoring_SetOptions(0) == 0);
}

/* ---- threads: aggregate throughput of active fires ---- */

struct worker {
    pthread_t th;
    long n;
    int control; /* 1: the same loop without the library (machine control) */
    long calls;
    double t0, t1;
    pthread_barrier_t *start;
    char pad[64];
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    PyMonitoringState st[1];
    uint64_t v = UINT64_MAX;
    uint8_t ev = PY_MONITORING_EVENT_PY_START;
    memset(st, 0, sizeof st);
    if (PyMonitoring_EnterScope(st, &v, &ev, 1) != 0 || st[0].active == 0)
        fail("worker scope");
    for (long i = 0; i < w->n / 10; i++)
        PyMonitoring_FirePyStartEvent(&st[0], CODE, 0);
    pthread_barrier_wait(w->start);
    long acc = 0;
    w->t0 = now_ns();
    if (w->control) {
        for (long i = 0; i < 20 * w->n; i++) {
            BARRIER();
            acc += i & 1;
        }
        acc = 0;
    }
    else {
        for (long i = 0; i < w->n; i++) {
            BARRIER();
            acc += PyMonitoring_FirePyStartEvent(&st[0], CODE, 0);
        }
    }
    w->t1 = now_ns();
    if (acc != 0)
        fail("worker fires");
    w->calls = w->control ? w->n + w->n / 10 : t_calls;
    return NULL;
}

/* ns per fire of aggregate throughput with `threads` threads firing at once. */
static double threads_run(long n, int threads, int control)
{
    struct worker w[2];
    pthread_barrier_t b;
    pthread_barrier_init(&b, NULL, (unsigned)threads);
    for (int i = 0; i < threads; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].n = n;
        w[i].control = control;
        w[i].start = &b;
        pthread_create(&w[i].th, NULL, worker_main, &w[i]);
    }
    double t0 = 1e300, t1 = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(w[i].th, NULL);
        CHECK(w[i].calls == n + n / 10);
        if (w[i].t0 < t0)
            t0 = w[i].t0;
        if (w[i].t1 > t1)
            t1 = w[i].t1;
    }
    pthread_barrier_destroy(&b);
    return (t1 - t0) / ((double)n * threads);
}

static void case_threads(long n)
{
    tools_clear();
    tool_on(2, PY_MONITORING_EVENT_PY_START, cb_thread, 1u << PY_MONITORING_EVENT_PY_START);
    double one = threads_run(n, 1, 0);
    double two = threads_run(n, 2, 0);
    double cone = threads_run(n, 1, 1);
    double ctwo = threads_run(n, 2, 1);
    tools_clear();
    printf("threads_1 %.3f %ld\n", one, n);
    printf("threads_2 %.3f %ld\n", two, 2 * n);
    printf("control_1 %.3f %ld\n", cone, n);
    printf("control_2 %.3f %ld\n", ctwo, 2 * n);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: cbench N [CASE...]\n");
        return 2;
    }
    long n = atol(argv[1]);
    if (n <= 0)
        return 2;
    g_only = (const char **)argv + 2;
    g_only_n = argc - 2;
    printf("# variant %s\n", VARIANT);
    for (int i = 0; i < 64; i++)
        g_events[i] = (uint8_t)(i % 17);

    /* First, while no tool has ever set events (global version 0). */
    CHECK(PyMonitoring_GetVersion() == 0);
    if (wanted("cython_never"))
        case_cython(n, "cython_never");
    if (wanted("empty_loop"))
        case_empty(n);
    if (wanted("fire_inactive"))
        case_fire_inactive(n);
    if (wanted("fire_inactive_cold"))
        case_fire_inactive_cold(n);
    if (wanted("get_raised_none"))
        case_get_raised_none(n);

    /* A tool sets events none of the scopes here use: every version-0 entry refreshes. */
    CHECK(PyMonitoring_UseToolId(4, "other") == 0);
    CHECK(PyMonitoring_SetEvents(4, 1u << PY_MONITORING_EVENT_LINE) == 0);
    if (wanted("cython_other"))
        case_cython(n, "cython_other");
    static const int lengths[] = {1, 7, 17, 64};
    for (int i = 0; i < 4; i++) {
        char name[32];
        snprintf(name, sizeof name, "enter_unchanged_%d", lengths[i]);
        if (wanted(name))
            enter_unchanged(n, lengths[i], name);
        snprintf(name, sizeof name, "enter_refresh_%d", lengths[i]);
        if (wanted(name))
            enter_refresh(n, lengths[i], name);
    }
    tools_clear();
    /* Tool 4 is freed: no tool has an event, the version has moved, so every
     * version-0 entry refreshes (to all-zero masks). */
    if (wanted("cython_freed"))
        case_cython(n, "cython_freed");

    for (int t = 1; t <= 6; t++) {
        char name[32];
        snprintf(name, sizeof name, "pystart_%dtool_c", t);
        if (wanted(name))
            fire_active(n, t, name);
    }
    if (wanted("line_1tool_c"))
        case_line(n);
    if (wanted("raise_1tool_c"))
        case_raise(n);
    if (wanted("disable_refresh_1"))
        case_disable(n);
    codelike_cases(n);
    if (wanted("set_events"))
        case_set_events(n / 100 + 1);
    if (wanted("register_callback"))
        case_register(n / 100 + 1);
    /* Opt-in feature cases last (they open the restart gate for good). */
    if (wanted("restart_refresh_17"))
        case_gated_refresh(n, 0, "restart_refresh_17");
    if (wanted("lasting_refresh_17"))
        case_gated_refresh(n, 1, "lasting_refresh_17");
    if (wanted("cython_lasting"))
        case_cython_lasting(n);
    if (wanted("lasting_pystart_1tool_c"))
        case_lasting_pystart(n);
    if (wanted("lasting_line_1tool_c"))
        case_lasting_line(n);
    if (wanted("lasting_disabled_site"))
        case_lasting_disabled_site(n);
    if (wanted("lasting_disabled_line"))
        case_lasting_disabled_line(n);
    if (wanted("cython_host"))
        case_cython_host(n);
    /* Threads only when named (it needs both CPUs; run.sh runs it unpinned). */
    if (!RUNNING_ON_VALGRIND && g_only_n > 0 && wanted("threads"))
        case_threads(n);
    return 0;
}
