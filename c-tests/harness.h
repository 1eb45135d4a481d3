/* Shared helpers for the C harnesses: checks that report file and line, and
 * a recording tool that keeps every PyMonitoringEvent it receives. */
#ifndef PYMONITORING_HARNESS_H
#define PYMONITORING_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pymonitoring.h"

static int harness_failures = 0;

#define CHECK(cond)                                                           \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                   \
            harness_failures++;                                               \
        }                                                                     \
    } while (0)

#define CHECK_EQ_INT(got, want)                                                \
    do {                                                                       \
        long long got_ = (long long)(got), want_ = (long long)(want);          \
        if (got_ != want_) {                                                   \
            fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__,    \
                    __LINE__, #got, got_, want_);                              \
            harness_failures++;                                                \
        }                                                                      \
    } while (0)

/* The call failed with -1 and exactly this error kind and message; the
 * indicator is cleared afterwards. */
#define CHECK_ERROR(rc, kind, msg)                                             \
    do {                                                                       \
        int rc_ = (rc);                                                        \
        CHECK_EQ_INT(rc_, -1);                                                 \
        CHECK_EQ_INT(PyMonitoring_ErrKind(), (kind));                          \
        const char *m_ = PyMonitoring_ErrMessage();                            \
        if (m_ == NULL || strcmp(m_, (msg)) != 0) {                            \
            fprintf(stderr, "%s:%d: message \"%s\", expected \"%s\"\n",        \
                    __FILE__, __LINE__, m_ ? m_ : "(null)", (msg));            \
            harness_failures++;                                                \
        }                                                                      \
        PyMonitoring_ErrClear();                                               \
    } while (0)

/* The call succeeded with `want` and left no error. */
#define CHECK_OK(rc, want)                                                     \
    do {                                                                       \
        int rc_ = (rc);                                                        \
        if (rc_ != (want) || PyMonitoring_ErrOccurred()) {                     \
            const char *m_ = PyMonitoring_ErrMessage();                        \
            fprintf(stderr, "%s:%d: %s returned %d (error: %s)\n", __FILE__,   \
                    __LINE__, #rc, rc_, m_ ? m_ : "none");                     \
            harness_failures++;                                                \
            PyMonitoring_ErrClear();                                           \
        }                                                                      \
    } while (0)

/* Whether PY_MONITORING_OPT_ACTIVE_NEEDS_CALLBACK is in force (for example
 * from PYMONITORING_OPTIONS=active-needs-callback): a slot's `active` then
 * holds only tools with a callback for its event, and the harnesses that
 * check `active` for a tool without one check that mode's value. */
static inline int harness_active_needs_callback(void) {
    uint32_t options = 0;
    if (PyMonitoring_GetOptions(&options) < 0) {
        PyMonitoring_ErrClear();
        return 0;
    }
    return (options & PY_MONITORING_OPT_ACTIVE_NEEDS_CALLBACK) != 0;
}

static int harness_finish(const char *name) {
    if (harness_failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", name, harness_failures);
        return 1;
    }
    printf("%s: ok\n", name);
    return 0;
}

/* Distinct fake objects: only their addresses matter. */
static char harness_objects[64];
#define OBJ(i) ((PyObject *)(void *)&harness_objects[(i)])

/* A recording tool. */
#define RECORD_MAX 4096
typedef struct {
    PyMonitoringEvent events[RECORD_MAX];
    int count;
    int answer; /* returned by the callback */
} Recording;

static int record_event(void *data, const PyMonitoringEvent *ev) {
    Recording *r = (Recording *)data;
    if (r->count < RECORD_MAX) {
        r->events[r->count] = *ev;
    }
    r->count++;
    return r->answer;
}

/* Check one recorded event field by field. */
#define CHECK_EVENT(rec, i, ev_, tool_, code_, off_, line_, a0_, a1_)          \
    do {                                                                       \
        const PyMonitoringEvent *e_ = &(rec)->events[(i)];                     \
        CHECK_EQ_INT(e_->event, (ev_));                                        \
        CHECK_EQ_INT(e_->tool_id, (tool_));                                    \
        CHECK(e_->codelike == (code_));                                        \
        CHECK_EQ_INT(e_->offset, (off_));                                      \
        CHECK_EQ_INT(e_->lineno, (line_));                                     \
        CHECK(e_->arg0 == (a0_));                                              \
        CHECK(e_->arg1 == (a1_));                                              \
    } while (0)

#endif
