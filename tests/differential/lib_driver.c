/* Differential driver for this library: runs a scenario script (script.h)
 * against libpymonitoring and writes the common log.
 * Usage: lib_driver SCRIPT LOG */
#include "pymonitoring.h"

#include "script.h"

static char objects[N_OBJECTS];
#define OBJ(k) ((PyObject *)(void *)&objects[(k)])

typedef struct {
    int mode;
    int k;
} CbData;
static CbData cbdata[8][N_CANON];

static void describe_obj(PyObject *o, char *buf, size_t len) {
    if (o == PyMonitoring_MISSING) {
        snprintf(buf, len, "MISSING");
    } else {
        snprintf(buf, len, "unknown");
        for (int k = 0; k < N_OBJECTS; k++) {
            if (o == OBJ(k)) snprintf(buf, len, "obj#%d", k);
        }
    }
}

static int callback(void *data, const PyMonitoringEvent *ev) {
    CbData *d = (CbData *)data;
    char code[32], a0[32], a1[32];
    int is_line = ev->event == PY_MONITORING_EVENT_LINE;
    describe_obj(ev->codelike, code, sizeof code);
    describe_obj(ev->arg0, a0, sizeof a0);
    describe_obj(ev->arg1, a1, sizeof a1);
    /* Fields CPython does not deliver must hold their fixed values. */
    if (ev->event != PY_MONITORING_EVENT_CALL && ev->arg1 != PyMonitoring_MISSING) {
        snprintf(a1, sizeof a1, "BAD-arg1");
    }
    if (!is_line && ev->lineno != -1) snprintf(code, sizeof code, "BAD-lineno");
    log_callback(ev->tool_id, ev->event, code, is_line, is_line ? ev->lineno : ev->offset,
                 (ev->event == PY_MONITORING_EVENT_PY_START ||
                  ev->event == PY_MONITORING_EVENT_PY_RESUME || is_line)
                     ? NULL
                     : a0,
                 ev->event == PY_MONITORING_EVENT_CALL ? a1 : NULL);
    switch (d->mode) {
    case MODE_DISABLE: return PY_MONITORING_DISABLE;
    case MODE_ERROR: {
        char msg[64];
        snprintf(msg, sizeof msg, "tool %d %s failed", ev->tool_id, canon_names[ev->event]);
        PyMonitoring_ErrSetString(PY_MONITORING_ERR_RUNTIME, msg);
        return -1;
    }
    case MODE_EXC: PyMonitoring_SetRaisedException(OBJ(d->k)); return -1;
    case MODE_OTHER: return 7;
    default: return 0;
    }
}

static int be_use(int tool, const char *name) { return PyMonitoring_UseToolId(tool, name); }
static int be_clear(int tool) { return PyMonitoring_ClearToolId(tool); }
static int be_free(int tool) { return PyMonitoring_FreeToolId(tool); }
static int be_set_events(int tool, uint32_t m) { return PyMonitoring_SetEvents(tool, m); }
static int be_get_events(int tool, uint32_t *m) { return PyMonitoring_GetEvents(tool, m); }

static int be_register(int tool, int ev, int mode, int k) {
    if (mode == MODE_NONE) return PyMonitoring_RegisterCallback(tool, ev, NULL, NULL);
    CbData *d = (tool >= 0 && tool < 8) ? &cbdata[tool][ev] : &cbdata[0][0];
    CbData saved = *d;
    d->mode = mode;
    d->k = k;
    int rc = PyMonitoring_RegisterCallback(tool, ev, callback, d);
    if (rc != 0) *d = saved;
    return rc;
}

static int be_enter(PyMonitoringState *states, uint64_t *version, const int *evs, int n) {
    uint8_t ids[N_SLOTS];
    for (int i = 0; i < n; i++) ids[i] = (uint8_t)evs[i];
    return PyMonitoring_EnterScope(states, version, ids, n);
}

static int be_exit(void) { return PyMonitoring_ExitScope(); }
static int be_restart(void) { return PyMonitoring_RestartEvents(); }

static int be_fire(PyMonitoringState *st, int ev, int code, int32_t off, int a0, int a1, int line) {
    PyObject *c = OBJ(code), *x = OBJ(a0), *y = OBJ(a1);
    switch (ev) {
    case PY_MONITORING_EVENT_PY_START: return PyMonitoring_FirePyStartEvent(st, c, off);
    case PY_MONITORING_EVENT_PY_RESUME: return PyMonitoring_FirePyResumeEvent(st, c, off);
    case PY_MONITORING_EVENT_PY_RETURN: return PyMonitoring_FirePyReturnEvent(st, c, off, x);
    case PY_MONITORING_EVENT_PY_YIELD: return PyMonitoring_FirePyYieldEvent(st, c, off, x);
    case PY_MONITORING_EVENT_CALL: return PyMonitoring_FireCallEvent(st, c, off, x, y);
    case PY_MONITORING_EVENT_LINE: return PyMonitoring_FireLineEvent(st, c, off, line);
    case PY_MONITORING_EVENT_JUMP: return PyMonitoring_FireJumpEvent(st, c, off, x);
    case PY_MONITORING_EVENT_BRANCH_LEFT: return PyMonitoring_FireBranchLeftEvent(st, c, off, x);
    case PY_MONITORING_EVENT_BRANCH_RIGHT: return PyMonitoring_FireBranchRightEvent(st, c, off, x);
    case PY_MONITORING_EVENT_STOP_ITERATION:
        return PyMonitoring_FireStopIterationEvent(st, c, off, x);
    case PY_MONITORING_EVENT_RAISE: return PyMonitoring_FireRaiseEvent(st, c, off);
    case PY_MONITORING_EVENT_EXCEPTION_HANDLED:
        return PyMonitoring_FireExceptionHandledEvent(st, c, off);
    case PY_MONITORING_EVENT_PY_UNWIND: return PyMonitoring_FirePyUnwindEvent(st, c, off);
    case PY_MONITORING_EVENT_PY_THROW: return PyMonitoring_FirePyThrowEvent(st, c, off);
    case PY_MONITORING_EVENT_RERAISE: return PyMonitoring_FireReraiseEvent(st, c, off);
    case PY_MONITORING_EVENT_C_RETURN: return PyMonitoring_FireCReturnEvent(st, c, off, x);
    case PY_MONITORING_EVENT_C_RAISE: return PyMonitoring_FireCRaiseEvent(st, c, off);
    default: fprintf(stderr, "cannot fire %d\n", ev); exit(2);
    }
}

static void be_set_pending(int k) { PyMonitoring_SetRaisedException(OBJ(k)); }

static void describe_pending(char *buf, size_t len) {
    int kind = PyMonitoring_ErrKind();
    if (kind == PY_MONITORING_ERR_NONE) {
        snprintf(buf, len, "none");
    } else if (kind == PY_MONITORING_ERR_HOST) {
        describe_obj(PyMonitoring_GetRaisedException(), buf, len);
    } else {
        snprintf(buf, len, "%s: %s", kind == PY_MONITORING_ERR_VALUE ? "ValueError" : "RuntimeError",
                 PyMonitoring_ErrMessage());
    }
    PyMonitoring_ErrClear();
}

static void be_reset(void) {
    for (int t = 0; t < 6; t++) {
        (void)PyMonitoring_FreeToolId(t);
    }
    PyMonitoring_ErrClear();
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s SCRIPT LOG\n", argv[0]);
        return 2;
    }
    FILE *in = fopen(argv[1], "r");
    FILE *out = fopen(argv[2], "w");
    if (!in || !out) {
        perror("open");
        return 2;
    }
    long fires = run_script(in, out);
    fclose(in);
    fclose(out);
    printf("fires=%ld\n", fires);
    return 0;
}
