/* The registry (docs/BEHAVIOUR.md, "Registry"): UseToolId, ClearToolId, FreeToolId, GetTool,
 * SetEvents, GetEvents, RegisterCallback, GetCallback, RestartEvents,
 * GetVersion, WaitForCallbacks. Each with valid input and each kind of bad
 * input: out-of-range tool ids, bad event ids and sets, NULL pointers, an
 * unused tool, a too-small buffer. Outputs are pre-filled with sentinels
 * and must be untouched after a failure. */
#include <limits.h>

#include "api_util.h"

static const int BAD_TOOLS[] = {-1, 6, 7, 8, 255, 256, 1000, INT_MAX, INT_MIN};
#define N_BAD_TOOLS ((int)(sizeof BAD_TOOLS / sizeof BAD_TOOLS[0]))
static const int BAD_EVENTS[] = {19, 20, 31, 32, 255, 256, -1, -19, INT_MAX, INT_MIN};
#define N_BAD_EVENTS ((int)(sizeof BAD_EVENTS / sizeof BAD_EVENTS[0]))

static char msgbuf[128];

static const char *bad_tool_msg(int tool) {
    snprintf(msgbuf, sizeof msgbuf, "invalid tool %d (must be between 0 and 5)", tool);
    return msgbuf;
}

static const char *bad_event_msg(int event) {
    snprintf(msgbuf, sizeof msgbuf, "invalid event %d", event);
    return msgbuf;
}

static int dummy_cb(void *data, const PyMonitoringEvent *ev) {
    (void)data;
    (void)ev;
    return 0;
}

static int other_cb(void *data, const PyMonitoringEvent *ev) {
    (void)data;
    (void)ev;
    return 0;
}

#define VERSION_STEP(expr, step)                                               \
    do {                                                                       \
        uint64_t before_ = PyMonitoring_GetVersion();                          \
        CHECK_OK((expr), 0);                                                   \
        CHECK_EQ_INT(PyMonitoring_GetVersion() - before_, (step));             \
    } while (0)

static void fresh_process(void) {
    /* The global version starts at 0 and every tool is free. */
    CHECK_EQ_INT(PyMonitoring_GetVersion(), 0);
    for (int t = 0; t <= 5; t++) {
        char buf[8] = "xxxxxxx";
        size_t needed = 99;
        uint32_t set = 0xdeadbeef;
        PyMonitoringCallback fn = dummy_cb;
        void *data = &set;
        CHECK_OK(PyMonitoring_GetTool(t, buf, sizeof buf, &needed), 0);
        CHECK_EQ_INT(buf[0], 0);
        CHECK_EQ_INT(buf[1], 'x');
        CHECK_EQ_INT(needed, 0);
        CHECK_OK(PyMonitoring_GetEvents(t, &set), 0);
        CHECK_EQ_INT(set, 0);
        CHECK_OK(PyMonitoring_GetCallback(t, PY_MONITORING_EVENT_PY_START, &fn, &data), 0);
        CHECK(fn == NULL);
        CHECK(data == NULL);
    }
    CHECK_EQ_INT(PyMonitoring_GetVersion(), 0);
}

static void use_tool_id(void) {
    /* Every user tool id can be claimed; the named constants are ids. */
    CHECK_OK(PyMonitoring_UseToolId(PY_MONITORING_DEBUGGER_ID, "debugger"), 0);
    CHECK_OK(PyMonitoring_UseToolId(PY_MONITORING_COVERAGE_ID, "coverage"), 0);
    CHECK_OK(PyMonitoring_UseToolId(PY_MONITORING_PROFILER_ID, "profiler"), 0);
    CHECK_OK(PyMonitoring_UseToolId(3, "three"), 0);
    CHECK_OK(PyMonitoring_UseToolId(4, ""), 0); /* an empty name is a name */
    CHECK_OK(PyMonitoring_UseToolId(PY_MONITORING_OPTIMIZER_ID, "optimizer"), 0);
    /* Claiming does not change the version. */
    CHECK_EQ_INT(PyMonitoring_GetVersion(), 0);

    /* Already in use: the name is kept. */
    for (int t = 0; t <= 5; t++) {
        snprintf(msgbuf, sizeof msgbuf, "tool %d is already in use", t);
        CHECK_ERROR(PyMonitoring_UseToolId(t, "again"), PY_MONITORING_ERR_VALUE, msgbuf);
    }
    char buf[16];
    CHECK_OK(PyMonitoring_GetTool(2, buf, sizeof buf, NULL), 1);
    CHECK(strcmp(buf, "profiler") == 0);

    /* Out-of-range ids (6 and 7 are reserved, as in CPython). */
    for (int i = 0; i < N_BAD_TOOLS; i++) {
        CHECK_ERROR(PyMonitoring_UseToolId(BAD_TOOLS[i], "bad"), PY_MONITORING_ERR_VALUE,
                    bad_tool_msg(BAD_TOOLS[i]));
    }
    /* NULL name (checked first) and a name that is not UTF-8. */
    CHECK_OK(PyMonitoring_FreeToolId(3), 0);
    CHECK_ERROR(PyMonitoring_UseToolId(3, NULL), PY_MONITORING_ERR_VALUE,
                "tool name must not be NULL");
    CHECK_ERROR(PyMonitoring_UseToolId(7, NULL), PY_MONITORING_ERR_VALUE,
                "tool name must not be NULL");
    CHECK_ERROR(PyMonitoring_UseToolId(3, "bad\xff"), PY_MONITORING_ERR_VALUE,
                "tool name must be valid UTF-8");
    /* The failed claims left tool 3 free. */
    CHECK_OK(PyMonitoring_GetTool(3, buf, sizeof buf, NULL), 0);
    /* The name is copied. */
    char name[8];
    strcpy(name, "mine");
    CHECK_OK(PyMonitoring_UseToolId(3, name), 0);
    strcpy(name, "XXXX");
    CHECK_OK(PyMonitoring_GetTool(3, buf, sizeof buf, NULL), 1);
    CHECK(strcmp(buf, "mine") == 0);
    free_all_tools();
}

static void get_tool(void) {
    CHECK_OK(PyMonitoring_UseToolId(2, "profiler"), 0); /* 8 bytes */

    /* Big enough: the name, NUL-terminated; *needed is strlen. */
    char buf[16];
    size_t needed = 12345;
    memset(buf, '#', sizeof buf);
    CHECK_OK(PyMonitoring_GetTool(2, buf, sizeof buf, &needed), 1);
    CHECK(strcmp(buf, "profiler") == 0);
    CHECK_EQ_INT(needed, 8);
    CHECK_EQ_INT(buf[9], '#'); /* nothing written past the NUL */

    /* Exactly fitting (len 9) and one short (len 8: truncated). */
    memset(buf, '#', sizeof buf);
    CHECK_OK(PyMonitoring_GetTool(2, buf, 9, &needed), 1);
    CHECK(strcmp(buf, "profiler") == 0);
    CHECK_EQ_INT(needed, 8);
    memset(buf, '#', sizeof buf);
    needed = 0;
    CHECK_OK(PyMonitoring_GetTool(2, buf, 8, &needed), 1);
    CHECK(strcmp(buf, "profile") == 0);
    CHECK_EQ_INT(needed, 8);
    CHECK_EQ_INT(buf[8], '#');

    /* Too small: truncated to len-1 and NUL-terminated; needed >= len. */
    memset(buf, '#', sizeof buf);
    needed = 0;
    CHECK_OK(PyMonitoring_GetTool(2, buf, 4, &needed), 1);
    CHECK(memcmp(buf, "pro\0##", 6) == 0);
    CHECK_EQ_INT(needed, 8);
    memset(buf, '#', sizeof buf);
    CHECK_OK(PyMonitoring_GetTool(2, buf, 1, &needed), 1);
    CHECK(memcmp(buf, "\0#", 2) == 0);

    /* len 0: nothing copied, buf may be NULL; needed still reported. */
    memset(buf, '#', sizeof buf);
    needed = 0;
    CHECK_OK(PyMonitoring_GetTool(2, buf, 0, &needed), 1);
    CHECK_EQ_INT(buf[0], '#');
    CHECK_EQ_INT(needed, 8);
    needed = 0;
    CHECK_OK(PyMonitoring_GetTool(2, NULL, 0, &needed), 1);
    CHECK_EQ_INT(needed, 8);
    /* needed may be NULL; so may both. */
    CHECK_OK(PyMonitoring_GetTool(2, buf, sizeof buf, NULL), 1);
    CHECK(strcmp(buf, "profiler") == 0);
    CHECK_OK(PyMonitoring_GetTool(2, NULL, 0, NULL), 1);

    /* A free tool: 0, buf[0] = NUL when len > 0, *needed = 0. */
    memset(buf, '#', sizeof buf);
    needed = 77;
    CHECK_OK(PyMonitoring_GetTool(4, buf, sizeof buf, &needed), 0);
    CHECK_EQ_INT(buf[0], 0);
    CHECK_EQ_INT(buf[1], '#');
    CHECK_EQ_INT(needed, 0);
    memset(buf, '#', sizeof buf);
    needed = 77;
    CHECK_OK(PyMonitoring_GetTool(4, buf, 0, &needed), 0);
    CHECK_EQ_INT(buf[0], '#');
    CHECK_EQ_INT(needed, 0);
    CHECK_OK(PyMonitoring_GetTool(4, NULL, 0, NULL), 0);

    /* Errors write nothing: bad tool ids, NULL buf with len > 0. */
    for (int i = 0; i < N_BAD_TOOLS; i++) {
        memset(buf, '#', sizeof buf);
        needed = 77;
        CHECK_ERROR(PyMonitoring_GetTool(BAD_TOOLS[i], buf, sizeof buf, &needed),
                    PY_MONITORING_ERR_VALUE, bad_tool_msg(BAD_TOOLS[i]));
        CHECK_EQ_INT(buf[0], '#');
        CHECK_EQ_INT(needed, 77);
        CHECK_ERROR(PyMonitoring_GetTool(BAD_TOOLS[i], NULL, 0, NULL), PY_MONITORING_ERR_VALUE,
                    bad_tool_msg(BAD_TOOLS[i]));
    }
    needed = 77;
    CHECK_ERROR(PyMonitoring_GetTool(2, NULL, 1, &needed), PY_MONITORING_ERR_VALUE,
                "buf must not be NULL when len > 0");
    CHECK_EQ_INT(needed, 77);
    CHECK_ERROR(PyMonitoring_GetTool(4, NULL, 16, &needed), PY_MONITORING_ERR_VALUE,
                "buf must not be NULL when len > 0");
    CHECK_EQ_INT(needed, 77);
    CHECK_ERROR(PyMonitoring_GetTool(2, NULL, SIZE_MAX, NULL), PY_MONITORING_ERR_VALUE,
                "buf must not be NULL when len > 0");
    CHECK_OK(PyMonitoring_FreeToolId(2), 0);
}

static void set_and_get_events(void) {
    uint64_t v0 = PyMonitoring_GetVersion();
    uint32_t set = 0xdeadbeef;

    /* Unused tool: SetEvents fails, GetEvents reads 0. */
    for (int t = 0; t <= 5; t++) {
        snprintf(msgbuf, sizeof msgbuf, "tool %d is not in use", t);
        CHECK_ERROR(PyMonitoring_SetEvents(t, 1u << PY_MONITORING_EVENT_LINE),
                    PY_MONITORING_ERR_VALUE, msgbuf);
        CHECK_ERROR(PyMonitoring_SetEvents(t, 0), PY_MONITORING_ERR_VALUE, msgbuf);
        set = 0xdeadbeef;
        CHECK_OK(PyMonitoring_GetEvents(t, &set), 0);
        CHECK_EQ_INT(set, 0);
    }
    CHECK_EQ_INT(PyMonitoring_GetVersion(), v0);

    CHECK_OK(PyMonitoring_UseToolId(1, "cov"), 0);
    /* Each single event (BRANCH and C_RETURN/C_RAISE apart) reads back. */
    for (int e = 0; e < PY_MONITORING_EVENTS; e++) {
        if (e == PY_MONITORING_EVENT_BRANCH || e == PY_MONITORING_EVENT_C_RETURN ||
            e == PY_MONITORING_EVENT_C_RAISE) {
            continue;
        }
        VERSION_STEP(PyMonitoring_SetEvents(1, 1u << e), 1);
        CHECK_OK(PyMonitoring_GetEvents(1, &set), 0);
        CHECK_EQ_INT(set, 1u << e);
    }
    /* The same set again: no version change. */
    VERSION_STEP(PyMonitoring_SetEvents(1, set), 0);
    /* Several events at once, then none. */
    uint32_t many = (1u << PY_MONITORING_EVENT_PY_START) | (1u << PY_MONITORING_EVENT_LINE) |
                    (1u << PY_MONITORING_EVENT_RAISE) | (1u << PY_MONITORING_EVENT_INSTRUCTION);
    VERSION_STEP(PyMonitoring_SetEvents(1, many), 1);
    CHECK_OK(PyMonitoring_GetEvents(1, &set), 0);
    CHECK_EQ_INT(set, many);
    VERSION_STEP(PyMonitoring_SetEvents(1, 0), 1);
    CHECK_OK(PyMonitoring_GetEvents(1, &set), 0);
    CHECK_EQ_INT(set, 0);

    /* BRANCH stands for BRANCH_LEFT|BRANCH_RIGHT. */
    uint32_t both = (1u << PY_MONITORING_EVENT_BRANCH_LEFT) | (1u << PY_MONITORING_EVENT_BRANCH_RIGHT);
    VERSION_STEP(PyMonitoring_SetEvents(1, 1u << PY_MONITORING_EVENT_BRANCH), 1);
    CHECK_OK(PyMonitoring_GetEvents(1, &set), 0);
    CHECK_EQ_INT(set, both);
    VERSION_STEP(PyMonitoring_SetEvents(1, both), 0); /* the same set */
    /* C_RETURN/C_RAISE only together with CALL, and they ride on it. */
    uint32_t call = 1u << PY_MONITORING_EVENT_CALL;
    uint32_t c_ev = (1u << PY_MONITORING_EVENT_C_RETURN) | (1u << PY_MONITORING_EVENT_C_RAISE);
    VERSION_STEP(PyMonitoring_SetEvents(1, call | c_ev), 1);
    CHECK_OK(PyMonitoring_GetEvents(1, &set), 0);
    CHECK_EQ_INT(set, call);
    const char *indep = "cannot set C_RETURN or C_RAISE events independently";
    uint64_t v = PyMonitoring_GetVersion();
    CHECK_ERROR(PyMonitoring_SetEvents(1, 1u << PY_MONITORING_EVENT_C_RETURN),
                PY_MONITORING_ERR_VALUE, indep);
    CHECK_ERROR(PyMonitoring_SetEvents(1, 1u << PY_MONITORING_EVENT_C_RAISE),
                PY_MONITORING_ERR_VALUE, indep);
    CHECK_ERROR(PyMonitoring_SetEvents(1, c_ev), PY_MONITORING_ERR_VALUE, indep);
    CHECK_ERROR(PyMonitoring_SetEvents(1, call | (1u << PY_MONITORING_EVENT_C_RETURN)),
                PY_MONITORING_ERR_VALUE, indep);
    /* Bits above 18. */
    CHECK_ERROR(PyMonitoring_SetEvents(1, 1u << 19), PY_MONITORING_ERR_VALUE,
                "invalid event set 0x80000");
    CHECK_ERROR(PyMonitoring_SetEvents(1, 0x80000000u), PY_MONITORING_ERR_VALUE,
                "invalid event set 0x80000000");
    CHECK_ERROR(PyMonitoring_SetEvents(1, 0xffffffffu), PY_MONITORING_ERR_VALUE,
                "invalid event set 0xffffffff");
    CHECK_ERROR(PyMonitoring_SetEvents(1, (1u << 20) | 1u), PY_MONITORING_ERR_VALUE,
                "invalid event set 0x100001");
    /* Nothing changed. */
    CHECK_EQ_INT(PyMonitoring_GetVersion(), v);
    CHECK_OK(PyMonitoring_GetEvents(1, &set), 0);
    CHECK_EQ_INT(set, call);

    /* Out-of-range tools, for both; GetEvents writes nothing. */
    for (int i = 0; i < N_BAD_TOOLS; i++) {
        CHECK_ERROR(PyMonitoring_SetEvents(BAD_TOOLS[i], 1), PY_MONITORING_ERR_VALUE,
                    bad_tool_msg(BAD_TOOLS[i]));
        set = 0xdeadbeef;
        CHECK_ERROR(PyMonitoring_GetEvents(BAD_TOOLS[i], &set), PY_MONITORING_ERR_VALUE,
                    bad_tool_msg(BAD_TOOLS[i]));
        CHECK_EQ_INT(set, 0xdeadbeef);
    }
    /* The order of the checks, as sys.monitoring.set_events: tool range,
     * then the set, then the claim. */
    CHECK_ERROR(PyMonitoring_SetEvents(6, 1u << 19), PY_MONITORING_ERR_VALUE, bad_tool_msg(6));
    CHECK_ERROR(PyMonitoring_SetEvents(3, 1u << 20), PY_MONITORING_ERR_VALUE,
                "invalid event set 0x100000");
    CHECK_ERROR(PyMonitoring_SetEvents(3, 1u << PY_MONITORING_EVENT_C_RETURN),
                PY_MONITORING_ERR_VALUE, indep);
    /* NULL output. */
    CHECK_ERROR(PyMonitoring_GetEvents(1, NULL), PY_MONITORING_ERR_VALUE, "set must not be NULL");
    CHECK_ERROR(PyMonitoring_GetEvents(7, NULL), PY_MONITORING_ERR_VALUE, "set must not be NULL");
    CHECK_EQ_INT(PyMonitoring_GetVersion(), v);
    free_all_tools();
}

static void register_and_get_callback(void) {
    int token = 0, token2 = 0;
    PyMonitoringCallback fn;
    void *data;

    /* Unused tool: RegisterCallback fails; GetCallback reads NULL. */
    snprintf(msgbuf, sizeof msgbuf, "tool %d is not in use", 4);
    CHECK_ERROR(PyMonitoring_RegisterCallback(4, PY_MONITORING_EVENT_LINE, dummy_cb, &token),
                PY_MONITORING_ERR_VALUE, msgbuf);
    CHECK_ERROR(PyMonitoring_RegisterCallback(4, PY_MONITORING_EVENT_LINE, NULL, NULL),
                PY_MONITORING_ERR_VALUE, msgbuf);
    fn = dummy_cb;
    data = &token;
    CHECK_OK(PyMonitoring_GetCallback(4, PY_MONITORING_EVENT_LINE, &fn, &data), 0);
    CHECK(fn == NULL && data == NULL);

    CHECK_OK(PyMonitoring_UseToolId(4, "four"), 0);
    uint64_t v = PyMonitoring_GetVersion();
    /* Every event id, including INSTRUCTION and the ancillary ones. */
    for (int e = 0; e < PY_MONITORING_EVENTS; e++) {
        CHECK_OK(PyMonitoring_RegisterCallback(4, e, dummy_cb, &token), 0);
        fn = NULL;
        data = NULL;
        CHECK_OK(PyMonitoring_GetCallback(4, e, &fn, &data), 0);
        CHECK(fn == dummy_cb);
        CHECK(data == &token);
    }
    /* Replace one, with other data, then read it without data. */
    CHECK_OK(PyMonitoring_RegisterCallback(4, PY_MONITORING_EVENT_LINE, other_cb, &token2), 0);
    fn = NULL;
    CHECK_OK(PyMonitoring_GetCallback(4, PY_MONITORING_EVENT_LINE, &fn, NULL), 0);
    CHECK(fn == other_cb);
    CHECK_OK(PyMonitoring_GetCallback(4, PY_MONITORING_EVENT_LINE, &fn, &data), 0);
    CHECK(data == &token2);
    /* NULL data is a valid registration too. */
    CHECK_OK(PyMonitoring_RegisterCallback(4, PY_MONITORING_EVENT_JUMP, other_cb, NULL), 0);
    data = &token;
    CHECK_OK(PyMonitoring_GetCallback(4, PY_MONITORING_EVENT_JUMP, &fn, &data), 0);
    CHECK(fn == other_cb && data == NULL);
    /* Other tools are untouched. */
    CHECK_OK(PyMonitoring_GetCallback(3, PY_MONITORING_EVENT_LINE, &fn, &data), 0);
    CHECK(fn == NULL && data == NULL);
    /* Remove with NULL. */
    CHECK_OK(PyMonitoring_RegisterCallback(4, PY_MONITORING_EVENT_LINE, NULL, &token), 0);
    fn = dummy_cb;
    data = &token;
    CHECK_OK(PyMonitoring_GetCallback(4, PY_MONITORING_EVENT_LINE, &fn, &data), 0);
    CHECK(fn == NULL && data == NULL);
    /* Registering never changes the version. */
    CHECK_EQ_INT(PyMonitoring_GetVersion(), v);

    /* BRANCH fills BRANCH_LEFT and BRANCH_RIGHT and reads BRANCH_RIGHT. */
    CHECK_OK(PyMonitoring_RegisterCallback(4, PY_MONITORING_EVENT_BRANCH_LEFT, NULL, NULL), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(4, PY_MONITORING_EVENT_BRANCH_RIGHT, NULL, NULL), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(4, PY_MONITORING_EVENT_BRANCH, other_cb, &token2), 0);
    CHECK_OK(PyMonitoring_GetCallback(4, PY_MONITORING_EVENT_BRANCH_LEFT, &fn, &data), 0);
    CHECK(fn == other_cb && data == &token2);
    CHECK_OK(PyMonitoring_GetCallback(4, PY_MONITORING_EVENT_BRANCH_RIGHT, &fn, &data), 0);
    CHECK(fn == other_cb && data == &token2);
    CHECK_OK(PyMonitoring_RegisterCallback(4, PY_MONITORING_EVENT_BRANCH_RIGHT, dummy_cb, &token), 0);
    CHECK_OK(PyMonitoring_GetCallback(4, PY_MONITORING_EVENT_BRANCH, &fn, &data), 0);
    CHECK(fn == dummy_cb && data == &token);
    CHECK_OK(PyMonitoring_RegisterCallback(4, PY_MONITORING_EVENT_BRANCH, NULL, NULL), 0);
    CHECK_OK(PyMonitoring_GetCallback(4, PY_MONITORING_EVENT_BRANCH_LEFT, &fn, &data), 0);
    CHECK(fn == NULL);
    CHECK_OK(PyMonitoring_GetCallback(4, PY_MONITORING_EVENT_BRANCH_RIGHT, &fn, &data), 0);
    CHECK(fn == NULL);

    /* Bad tool ids and event ids; outputs untouched. */
    for (int i = 0; i < N_BAD_TOOLS; i++) {
        CHECK_ERROR(PyMonitoring_RegisterCallback(BAD_TOOLS[i], 0, dummy_cb, &token),
                    PY_MONITORING_ERR_VALUE, bad_tool_msg(BAD_TOOLS[i]));
        fn = other_cb;
        data = &token2;
        CHECK_ERROR(PyMonitoring_GetCallback(BAD_TOOLS[i], 0, &fn, &data),
                    PY_MONITORING_ERR_VALUE, bad_tool_msg(BAD_TOOLS[i]));
        CHECK(fn == other_cb && data == &token2);
    }
    for (int i = 0; i < N_BAD_EVENTS; i++) {
        CHECK_ERROR(PyMonitoring_RegisterCallback(4, BAD_EVENTS[i], dummy_cb, &token),
                    PY_MONITORING_ERR_VALUE, bad_event_msg(BAD_EVENTS[i]));
        CHECK_ERROR(PyMonitoring_RegisterCallback(4, BAD_EVENTS[i], NULL, NULL),
                    PY_MONITORING_ERR_VALUE, bad_event_msg(BAD_EVENTS[i]));
        fn = other_cb;
        data = &token2;
        CHECK_ERROR(PyMonitoring_GetCallback(4, BAD_EVENTS[i], &fn, &data),
                    PY_MONITORING_ERR_VALUE, bad_event_msg(BAD_EVENTS[i]));
        CHECK(fn == other_cb && data == &token2);
        /* An unused tool's bad event: the event is checked before the claim. */
        CHECK_ERROR(PyMonitoring_RegisterCallback(3, BAD_EVENTS[i], dummy_cb, &token),
                    PY_MONITORING_ERR_VALUE, bad_event_msg(BAD_EVENTS[i]));
    }
    /* The tool is checked before the event. */
    CHECK_ERROR(PyMonitoring_RegisterCallback(6, 19, dummy_cb, &token), PY_MONITORING_ERR_VALUE,
                bad_tool_msg(6));
    CHECK_ERROR(PyMonitoring_GetCallback(-1, -1, &fn, &data), PY_MONITORING_ERR_VALUE,
                bad_tool_msg(-1));
    /* NULL fn output (checked first); data untouched. */
    data = &token2;
    CHECK_ERROR(PyMonitoring_GetCallback(4, 0, NULL, &data), PY_MONITORING_ERR_VALUE,
                "fn must not be NULL");
    CHECK(data == &token2);
    CHECK_ERROR(PyMonitoring_GetCallback(4, 0, NULL, NULL), PY_MONITORING_ERR_VALUE,
                "fn must not be NULL");
    CHECK_ERROR(PyMonitoring_GetCallback(9, 99, NULL, NULL), PY_MONITORING_ERR_VALUE,
                "fn must not be NULL");
    CHECK_EQ_INT(PyMonitoring_GetVersion(), v);
    free_all_tools();
}

static void clear_and_free(void) {
    int token = 0;
    PyMonitoringCallback fn;
    void *data;
    uint32_t set;
    char buf[16];

    /* Clear/Free of a free tool: 0, no version change. */
    for (int t = 0; t <= 5; t++) {
        VERSION_STEP(PyMonitoring_ClearToolId(t), 0);
        VERSION_STEP(PyMonitoring_FreeToolId(t), 0);
    }
    /* Clear keeps the claim, drops events and callbacks, bumps once. */
    CHECK_OK(PyMonitoring_UseToolId(5, "opt"), 0);
    CHECK_OK(PyMonitoring_SetEvents(5, 1u << PY_MONITORING_EVENT_LINE), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(5, PY_MONITORING_EVENT_LINE, dummy_cb, &token), 0);
    VERSION_STEP(PyMonitoring_ClearToolId(5), 1);
    CHECK_OK(PyMonitoring_GetTool(5, buf, sizeof buf, NULL), 1);
    CHECK(strcmp(buf, "opt") == 0);
    CHECK_OK(PyMonitoring_GetEvents(5, &set), 0);
    CHECK_EQ_INT(set, 0);
    CHECK_OK(PyMonitoring_GetCallback(5, PY_MONITORING_EVENT_LINE, &fn, &data), 0);
    CHECK(fn == NULL && data == NULL);
    /* A cleared tool is still in use: clearing it again bumps again, even
     * with nothing set; SetEvents works on it. */
    VERSION_STEP(PyMonitoring_ClearToolId(5), 1);
    CHECK_OK(PyMonitoring_SetEvents(5, 1u << PY_MONITORING_EVENT_PY_START), 0);
    VERSION_STEP(PyMonitoring_ClearToolId(5), 1);
    /* Free drops everything and the claim, bumps once. */
    CHECK_OK(PyMonitoring_SetEvents(5, 1u << PY_MONITORING_EVENT_LINE), 0);
    CHECK_OK(PyMonitoring_RegisterCallback(5, PY_MONITORING_EVENT_PY_START, dummy_cb, &token), 0);
    VERSION_STEP(PyMonitoring_FreeToolId(5), 1);
    CHECK_OK(PyMonitoring_GetTool(5, buf, sizeof buf, NULL), 0);
    CHECK_OK(PyMonitoring_GetEvents(5, &set), 0);
    CHECK_EQ_INT(set, 0);
    CHECK_OK(PyMonitoring_GetCallback(5, PY_MONITORING_EVENT_PY_START, &fn, &data), 0);
    CHECK(fn == NULL);
    /* Freed means free: it can be claimed again, under a new name. */
    CHECK_OK(PyMonitoring_UseToolId(5, "again"), 0);
    CHECK_OK(PyMonitoring_GetTool(5, buf, sizeof buf, NULL), 1);
    CHECK(strcmp(buf, "again") == 0);
    VERSION_STEP(PyMonitoring_FreeToolId(5), 1);
    /* Out-of-range ids. */
    uint64_t v = PyMonitoring_GetVersion();
    for (int i = 0; i < N_BAD_TOOLS; i++) {
        CHECK_ERROR(PyMonitoring_ClearToolId(BAD_TOOLS[i]), PY_MONITORING_ERR_VALUE,
                    bad_tool_msg(BAD_TOOLS[i]));
        CHECK_ERROR(PyMonitoring_FreeToolId(BAD_TOOLS[i]), PY_MONITORING_ERR_VALUE,
                    bad_tool_msg(BAD_TOOLS[i]));
    }
    CHECK_EQ_INT(PyMonitoring_GetVersion(), v);
}

static void restart_and_version(void) {
    /* RestartEvents: 0 and exactly one version step, tools or not. */
    VERSION_STEP(PyMonitoring_RestartEvents(), 1);
    VERSION_STEP(PyMonitoring_RestartEvents(), 1);
    CHECK_OK(PyMonitoring_UseToolId(0, "dbg"), 0);
    CHECK_OK(PyMonitoring_SetEvents(0, 1), 0);
    VERSION_STEP(PyMonitoring_RestartEvents(), 1);
    /* GetVersion never fails and leaves a pending error alone. */
    CHECK_EQ_INT(PyMonitoring_ErrSetString(PY_MONITORING_ERR_RUNTIME, "kept"), 0);
    uint64_t v = PyMonitoring_GetVersion();
    CHECK_EQ_INT(PyMonitoring_GetVersion(), v);
    CHECK_ERROR(-1, PY_MONITORING_ERR_RUNTIME, "kept");
    free_all_tools();
}

static void wait_for_callbacks_alone(void) {
    /* No dispatch running anywhere: returns 0 at once, also repeatedly. */
    CHECK_OK(PyMonitoring_WaitForCallbacks(), 0);
    CHECK_OK(PyMonitoring_WaitForCallbacks(), 0);
}

int main(void) {
    fresh_process();
    use_tool_id();
    get_tool();
    set_and_get_events();
    register_and_get_callback();
    clear_and_free();
    restart_and_version();
    wait_for_callbacks_alone();
    return harness_finish("api_registry");
}
