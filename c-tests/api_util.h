/* Helpers for the api_*.c harnesses (on top of harness.h):
 *  - a configurable tool callback that logs every event it receives into
 *    one shared log (so the order across tools is visible) and can answer
 *    0, DISABLE, -1, or leave an error behind;
 *  - one uniform adapter per fire function, plain and underscore, so a
 *    harness can walk all of them from a table.
 * With PYMONITORING_INLINE defined, the plain adapters call the header's
 * static inline wrappers instead of the exported functions. */
#ifndef PYMONITORING_API_UTIL_H
#define PYMONITORING_API_UTIL_H

#include <stdint.h>

#include "harness.h"

/* ------------------------------------------------------------------------
 * A configurable tool. */

/* The log every Tool writes to, in call order. */
static Recording api_log;

typedef struct Tool Tool;
struct Tool {
    int answer;             /* returned by the callback */
    int err_kind;           /* when non-zero, ErrSetString(err_kind, err_msg) first */
    const char *err_msg;
    PyObject *raise;        /* when non-NULL, SetRaisedException(raise) first */
    int calls;              /* how many times this tool was called */
    int saw_pending;        /* calls that found the indicator set on entry */
    /* Run inside the callback after logging (re-entrancy tests). */
    void (*hook)(Tool *self, const PyMonitoringEvent *ev);
    void *hook_data;
    int hook_rc;            /* free for the hook's use */
};

static inline int tool_callback(void *data, const PyMonitoringEvent *ev) {
    Tool *t = (Tool *)data;
    t->calls++;
    if (PyMonitoring_ErrOccurred()) {
        t->saw_pending++;
    }
    record_event(&api_log, ev);
    if (t->hook) {
        t->hook(t, ev);
    }
    if (t->err_kind) {
        if (PyMonitoring_ErrSetString(t->err_kind, t->err_msg) != 0) {
            fprintf(stderr, "tool_callback: ErrSetString failed\n");
            harness_failures++;
        }
    }
    if (t->raise) {
        PyMonitoring_SetRaisedException(t->raise);
    }
    return t->answer;
}

/* Fake object `i` (harness.h's OBJ), also so that every harness uses
 * harness_objects. */
static inline PyObject *obj(int i) { return OBJ(i); }

static inline void tool_reset(Tool *t) {
    memset(t, 0, sizeof *t);
}

static inline void log_reset(void) {
    api_log.count = 0;
    api_log.answer = 0;
}

/* The tool ids in the log, most recent last, as a number in base 10
 * (e.g. tools 5, 3, 0 -> 530); -1 when more than 9 calls were logged. */
static inline long log_tools(void) {
    long v = 0;
    if (api_log.count > 9) {
        return -1;
    }
    for (int i = 0; i < api_log.count; i++) {
        v = v * 10 + api_log.events[i].tool_id;
    }
    return v;
}

/* Claim `tool` (freeing it first) under `name`. */
#define CLAIM(tool, name)                                                      \
    do {                                                                       \
        CHECK_OK(PyMonitoring_FreeToolId(tool), 0);                            \
        CHECK_OK(PyMonitoring_UseToolId((tool), (name)), 0);                   \
    } while (0)

/* Free every user tool. */
static inline void free_all_tools(void) {
    for (int t = 0; t <= 5; t++) {
        if (PyMonitoring_FreeToolId(t) != 0) {
            fprintf(stderr, "free_all_tools: FreeToolId(%d) failed\n", t);
            harness_failures++;
        }
    }
}

/* The event set that makes a scope slot of `event` active for a tool:
 * C_RETURN/C_RAISE ride on CALL, BRANCH on BRANCH_RIGHT. */
static inline uint32_t set_for_slot(int event) {
    switch (event) {
    case PY_MONITORING_EVENT_C_RETURN:
    case PY_MONITORING_EVENT_C_RAISE:
        return (1u << PY_MONITORING_EVENT_CALL) | (1u << PY_MONITORING_EVENT_C_RETURN) |
               (1u << PY_MONITORING_EVENT_C_RAISE);
    default:
        return 1u << event;
    }
}

/* Enter a one-slot scope for `event` with a forced refresh. */
static inline int enter_one(PyMonitoringState *state, int event) {
    uint64_t version = UINT64_MAX;
    uint8_t ev = (uint8_t)event;
    return PyMonitoring_EnterScope(state, &version, &ev, 1);
}

/* ------------------------------------------------------------------------
 * Fire adapters. */

typedef enum {
    ARGS_NONE, /* (state, code, offset) */
    ARGS_OBJ,  /* (state, code, offset, obj) -> arg0 */
    ARGS_CALL, /* (state, code, offset, callable, arg0) -> arg0, arg1 */
    ARGS_LINE, /* (state, code, offset, lineno) */
    ARGS_EXC   /* (state, code, offset); arg0 is the current exception */
} ArgShape;

typedef int (*FireFn)(PyMonitoringState *s, PyObject *code, int32_t off, PyObject *a0,
                      PyObject *a1, int lineno);

#define ADAPT(KIND, NAME, FN, ARGS)                                            \
    static inline int KIND##_##NAME(PyMonitoringState *s, PyObject *c,        \
                                    int32_t o, PyObject *a0, PyObject *a1,     \
                                    int l) {                                   \
        (void)s; (void)c; (void)o; (void)a0; (void)a1; (void)l;                \
        return FN ARGS;                                                        \
    }

#define ADAPT_BOTH(NAME, ARGS)                                                 \
    ADAPT(plain, NAME, PyMonitoring_Fire##NAME##Event, ARGS)                   \
    ADAPT(under, NAME, _PyMonitoring_Fire##NAME##Event, ARGS)

ADAPT_BOTH(PyStart, (s, c, o))
ADAPT_BOTH(PyResume, (s, c, o))
ADAPT_BOTH(PyReturn, (s, c, o, a0))
ADAPT_BOTH(PyYield, (s, c, o, a0))
ADAPT_BOTH(Call, (s, c, o, a0, a1))
ADAPT_BOTH(Line, (s, c, o, l))
ADAPT_BOTH(Jump, (s, c, o, a0))
ADAPT_BOTH(BranchLeft, (s, c, o, a0))
ADAPT_BOTH(BranchRight, (s, c, o, a0))
ADAPT_BOTH(CReturn, (s, c, o, a0))
ADAPT_BOTH(PyThrow, (s, c, o))
ADAPT_BOTH(Raise, (s, c, o))
ADAPT_BOTH(Reraise, (s, c, o))
ADAPT_BOTH(ExceptionHandled, (s, c, o))
ADAPT_BOTH(CRaise, (s, c, o))
ADAPT_BOTH(PyUnwind, (s, c, o))
ADAPT_BOTH(StopIteration, (s, c, o, a0))
ADAPT(under, Branch, _PyMonitoring_FireBranchEvent, (s, c, o, a0))

typedef struct {
    const char *name;     /* the function's name, for messages */
    int event;            /* the event id delivered */
    int slot_event;       /* the event id a scope slot for it lists */
    const char *ev_name;  /* CPython's name of the delivered event */
    ArgShape shape;
    FireFn plain;         /* NULL: no exported plain function */
    FireFn under;
} FireCase;

#define CASE(NAME, EV, SHAPE)                                                  \
    {#NAME, PY_MONITORING_EVENT_##EV, PY_MONITORING_EVENT_##EV, #EV, SHAPE,    \
     plain_##NAME, under_##NAME}

/* The 17 events with a fire function, then the legacy BRANCH entry point
 * (delivers BRANCH_RIGHT; its scope slot lists BRANCH). */
static const FireCase FIRE_CASES[] = {
    CASE(PyStart, PY_START, ARGS_NONE),
    CASE(PyResume, PY_RESUME, ARGS_NONE),
    CASE(PyReturn, PY_RETURN, ARGS_OBJ),
    CASE(PyYield, PY_YIELD, ARGS_OBJ),
    CASE(Call, CALL, ARGS_CALL),
    CASE(Line, LINE, ARGS_LINE),
    CASE(Jump, JUMP, ARGS_OBJ),
    CASE(BranchLeft, BRANCH_LEFT, ARGS_OBJ),
    CASE(BranchRight, BRANCH_RIGHT, ARGS_OBJ),
    CASE(StopIteration, STOP_ITERATION, ARGS_OBJ),
    CASE(Raise, RAISE, ARGS_EXC),
    CASE(ExceptionHandled, EXCEPTION_HANDLED, ARGS_EXC),
    CASE(PyUnwind, PY_UNWIND, ARGS_EXC),
    CASE(PyThrow, PY_THROW, ARGS_EXC),
    CASE(Reraise, RERAISE, ARGS_EXC),
    CASE(CReturn, C_RETURN, ARGS_OBJ),
    CASE(CRaise, C_RAISE, ARGS_EXC),
    {"Branch (legacy)", PY_MONITORING_EVENT_BRANCH_RIGHT, PY_MONITORING_EVENT_BRANCH,
     "BRANCH_RIGHT", ARGS_OBJ, NULL, under_Branch},
};
#define N_FIRE_CASES ((int)(sizeof FIRE_CASES / sizeof FIRE_CASES[0]))
#define N_PLAIN_FIRE_CASES 17

/* Local events (ids 0-10): DISABLE clears the slot's bit. */
static inline int is_local(int event) { return event >= 0 && event <= 10; }

/* The record a tool should receive from `c` fired with (a0, a1, lineno)
 * while `exc` is the current exception (NULL: none / a library error). */
static inline void expected_args(const FireCase *c, PyObject *a0, PyObject *a1, PyObject *exc,
                          PyObject **want0, PyObject **want1) {
    PyObject *missing = PyMonitoring_MISSING;
    *want0 = missing;
    *want1 = missing;
    switch (c->shape) {
    case ARGS_NONE:
    case ARGS_LINE:
        break;
    case ARGS_OBJ:
        *want0 = a0 ? a0 : missing;
        break;
    case ARGS_CALL:
        *want0 = a0 ? a0 : missing;
        *want1 = a1 ? a1 : missing;
        break;
    case ARGS_EXC:
        *want0 = exc ? exc : missing;
        break;
    }
}

/* Like CHECK/CHECK_EQ_INT, with the case's name in the message. */
#define CCHECK_EQ(c, got, want)                                                \
    do {                                                                       \
        long long got_ = (long long)(got), want_ = (long long)(want);          \
        if (got_ != want_) {                                                   \
            fprintf(stderr, "%s:%d: [%s] %s == %lld, expected %lld\n",         \
                    __FILE__, __LINE__, (c)->name, #got, got_, want_);         \
            harness_failures++;                                                \
        }                                                                      \
    } while (0)

#define CCHECK(c, cond)                                                        \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: [%s] check failed: %s\n", __FILE__,        \
                    __LINE__, (c)->name, #cond);                               \
            harness_failures++;                                                \
        }                                                                      \
    } while (0)

/* The call failed with exactly this kind and message (then cleared). */
#define CCHECK_ERROR(c, rc, kind, msg)                                         \
    do {                                                                       \
        int crc_ = (rc);                                                       \
        CCHECK_EQ(c, crc_, -1);                                                \
        CCHECK_EQ(c, PyMonitoring_ErrKind(), (kind));                          \
        const char *cm_ = PyMonitoring_ErrMessage();                           \
        if (cm_ == NULL || strcmp(cm_, (msg)) != 0) {                          \
            fprintf(stderr, "%s:%d: [%s] message \"%s\", expected \"%s\"\n",   \
                    __FILE__, __LINE__, (c)->name, cm_ ? cm_ : "(null)",       \
                    (msg));                                                    \
            harness_failures++;                                                \
        }                                                                      \
        PyMonitoring_ErrClear();                                               \
    } while (0)

/* The call returned `want` and left the indicator empty. */
#define CCHECK_OK(c, rc, want)                                                 \
    do {                                                                       \
        int crc_ = (rc);                                                       \
        if (crc_ != (want) || PyMonitoring_ErrOccurred()) {                    \
            const char *cm_ = PyMonitoring_ErrMessage();                       \
            fprintf(stderr, "%s:%d: [%s] %s returned %d (error: %s)\n",        \
                    __FILE__, __LINE__, (c)->name, #rc, crc_,                  \
                    cm_ ? cm_ : "none");                                       \
            harness_failures++;                                                \
            PyMonitoring_ErrClear();                                           \
        }                                                                      \
    } while (0)

/* One logged event, field by field. */
#define CCHECK_EVENT(c, i, ev_, tool_, code_, off_, line_, a0_, a1_)           \
    do {                                                                       \
        const PyMonitoringEvent *ce_ = &api_log.events[(i)];                   \
        CCHECK_EQ(c, ce_->event, (ev_));                                       \
        CCHECK_EQ(c, ce_->tool_id, (tool_));                                   \
        CCHECK(c, ce_->codelike == (code_));                                   \
        CCHECK_EQ(c, ce_->offset, (off_));                                     \
        CCHECK_EQ(c, ce_->lineno, (line_));                                    \
        CCHECK(c, ce_->arg0 == (a0_));                                         \
        CCHECK(c, ce_->arg1 == (a1_));                                         \
    } while (0)

#endif
