/* Differential driver for the real CPython: a small extension module,
 * `pymon_diff`, whose run(script, log) executes a scenario script
 * (script.h) against CPython's own monitoring: sys.monitoring for the
 * registry side, PyMonitoring_EnterScope / the inline PyMonitoring_Fire*Event
 * functions for scopes and firing. Code-likes and arguments are plain
 * objects from a fixed table. Built against CPython 3.13's headers; event
 * ids are mapped from 3.14 names (3.13 has BRANCH where 3.14 has
 * BRANCH_RIGHT, and no BRANCH_LEFT). 3.14 registry semantics that 3.13 lacks
 * (ClearToolId; FreeToolId clearing events and callbacks and changing the
 * version) are emulated with sys.monitoring calls. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "script.h"

/* 3.14 name index -> 3.13 event id (-1: not in 3.13). */
static const int id313[N_CANON] = {0, 1, 2, 3, 4, 5, 6, 7, -1, 8, 9, 10, 11, 12, 13, 14, 15, 16, -1};

static PyObject *mon;      /* sys.monitoring */
static PyObject *disable;  /* sys.monitoring.DISABLE */
static PyObject *missing;  /* sys.monitoring.MISSING */
static PyObject *objects[N_OBJECTS];

static int map_id(int canon) {
    int id = (canon >= 0 && canon < N_CANON) ? id313[canon] : -1;
    if (id < 0) {
        fprintf(stderr, "event %s cannot be used with CPython 3.13\n", canon_names[canon]);
        exit(2);
    }
    return id;
}

static int canon_of_313(int id) {
    for (int c = 0; c < N_CANON; c++) {
        if (id313[c] == id) return c;
    }
    return -1;
}

static void describe_obj(PyObject *o, char *buf, size_t len) {
    if (o == missing) {
        snprintf(buf, len, "MISSING");
        return;
    }
    for (int k = 0; k < N_OBJECTS; k++) {
        if (o == objects[k]) {
            snprintf(buf, len, "obj#%d", k);
            return;
        }
    }
    if (PyObject_TypeCheck(o, (PyTypeObject *)PyExc_StopIteration)) {
        char inner[64];
        PyObject *value = ((PyStopIterationObject *)o)->value;
        describe_obj(value, inner, sizeof inner);
        snprintf(buf, len, "StopIteration(%s)", inner);
        return;
    }
    snprintf(buf, len, "unknown:%s", Py_TYPE(o)->tp_name);
}

/* ---- the recording callable ---- */
typedef struct {
    PyObject_HEAD
    int tool;
    int canon;
    int mode;
    int k;
} Recorder;

static PyObject *recorder_call(PyObject *self, PyObject *args, PyObject *kw) {
    Recorder *r = (Recorder *)self;
    Py_ssize_t n = PyTuple_GET_SIZE(args);
    char code[64], a0[64], a1[64];
    (void)kw;
    describe_obj(PyTuple_GET_ITEM(args, 0), code, sizeof code);
    long off = PyLong_AsLong(PyTuple_GET_ITEM(args, 1));
    if (n > 2) describe_obj(PyTuple_GET_ITEM(args, 2), a0, sizeof a0);
    if (n > 3) describe_obj(PyTuple_GET_ITEM(args, 3), a1, sizeof a1);
    log_callback(r->tool, r->canon, code, r->canon == 5 /* LINE */, off, n > 2 ? a0 : NULL,
                 n > 3 ? a1 : NULL);
    switch (r->mode) {
    case MODE_DISABLE: return Py_NewRef(disable);
    case MODE_ERROR:
        PyErr_Format(PyExc_RuntimeError, "tool %d %s failed", r->tool, canon_names[r->canon]);
        return NULL;
    case MODE_EXC: PyErr_SetRaisedException(Py_NewRef(objects[r->k])); return NULL;
    case MODE_OTHER: return PyLong_FromLong(7);
    default: Py_RETURN_NONE;
    }
}

static PyTypeObject RecorderType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "pymon_diff.Recorder",
    .tp_basicsize = sizeof(Recorder),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_call = recorder_call,
    .tp_new = PyType_GenericNew,
};

/* ---- backend ---- */
static int call_rc(PyObject *result) {
    if (result == NULL) return -1;
    Py_DECREF(result);
    return 0;
}

static int be_use(int tool, const char *name) {
    return call_rc(PyObject_CallMethod(mon, "use_tool_id", "is", tool, name));
}

static long get_events_raw(int tool) {
    PyObject *r = PyObject_CallMethod(mon, "get_events", "i", tool);
    if (r == NULL) return -1;
    long v = PyLong_AsLong(r);
    Py_DECREF(r);
    return v;
}

/* 3.14's clear_tool_id on 3.13: drop every callback and the events, and
 * change the version even when no events were set. */
static int be_clear(int tool) {
    PyObject *name = PyObject_CallMethod(mon, "get_tool", "i", tool);
    if (name == NULL) return -1;
    int in_use = name != Py_None;
    Py_DECREF(name);
    if (!in_use) return 0;
    for (int e = 0; e < 17; e++) {
        if (call_rc(PyObject_CallMethod(mon, "register_callback", "iiO", tool, 1 << e, Py_None)) < 0)
            return -1;
    }
    long ev = get_events_raw(tool);
    if (ev < 0) return -1;
    if (ev == 0 && call_rc(PyObject_CallMethod(mon, "set_events", "ii", tool, 1)) < 0) return -1;
    return call_rc(PyObject_CallMethod(mon, "set_events", "ii", tool, 0));
}

/* 3.14's free_tool_id: clear, then release the claim. */
static int be_free(int tool) {
    if (be_clear(tool) < 0) return -1;
    return call_rc(PyObject_CallMethod(mon, "free_tool_id", "i", tool));
}

static int be_set_events(int tool, uint32_t canon_mask) {
    uint32_t mask = 0;
    for (int c = 0; c < N_CANON; c++) {
        if (canon_mask & (1u << c)) mask |= 1u << map_id(c);
    }
    return call_rc(PyObject_CallMethod(mon, "set_events", "iI", tool, mask));
}

static int be_get_events(int tool, uint32_t *canon_mask) {
    long v = get_events_raw(tool);
    if (v < 0) return -1;
    *canon_mask = 0;
    for (int id = 0; id < 17; id++) {
        if (v & (1L << id)) *canon_mask |= 1u << canon_of_313(id);
    }
    return 0;
}

static int be_register(int tool, int canon_ev, int mode, int k) {
    PyObject *fn;
    if (mode == MODE_NONE) {
        fn = Py_NewRef(Py_None);
    } else {
        Recorder *r = PyObject_New(Recorder, &RecorderType);
        if (r == NULL) return -1;
        r->tool = tool;
        r->canon = canon_ev;
        r->mode = mode;
        r->k = k;
        fn = (PyObject *)r;
    }
    int rc = call_rc(PyObject_CallMethod(mon, "register_callback", "iiO", tool,
                                         1 << map_id(canon_ev), fn));
    Py_DECREF(fn);
    return rc;
}

static int be_enter(PyMonitoringState *states, uint64_t *version, const int *evs, int n) {
    uint8_t ids[N_SLOTS];
    for (int i = 0; i < n; i++) ids[i] = (uint8_t)map_id(evs[i]);
    return PyMonitoring_EnterScope(states, version, ids, n);
}

static int be_exit(void) { return PyMonitoring_ExitScope(); }

static int be_restart(void) { return call_rc(PyObject_CallMethod(mon, "restart_events", NULL)); }

static int be_fire(PyMonitoringState *st, int ev, int code, int32_t off, int a0, int a1, int line) {
    PyObject *c = objects[code], *x = objects[a0], *y = objects[a1];
    switch (ev) {
    case 0: return PyMonitoring_FirePyStartEvent(st, c, off);
    case 1: return PyMonitoring_FirePyResumeEvent(st, c, off);
    case 2: return PyMonitoring_FirePyReturnEvent(st, c, off, x);
    case 3: return PyMonitoring_FirePyYieldEvent(st, c, off, x);
    case 4: return PyMonitoring_FireCallEvent(st, c, off, x, y);
    case 5: return PyMonitoring_FireLineEvent(st, c, off, line);
    case 7: return PyMonitoring_FireJumpEvent(st, c, off, x);
    case 9: return PyMonitoring_FireBranchEvent(st, c, off, x);
    case 10: return PyMonitoring_FireStopIterationEvent(st, c, off, x);
    case 11: return PyMonitoring_FireRaiseEvent(st, c, off);
    case 12: return PyMonitoring_FireExceptionHandledEvent(st, c, off);
    case 13: return PyMonitoring_FirePyUnwindEvent(st, c, off);
    case 14: return PyMonitoring_FirePyThrowEvent(st, c, off);
    case 15: return PyMonitoring_FireReraiseEvent(st, c, off);
    case 16: return PyMonitoring_FireCReturnEvent(st, c, off, x);
    case 17: return PyMonitoring_FireCRaiseEvent(st, c, off);
    default: fprintf(stderr, "cannot fire %s on 3.13\n", canon_names[ev]); exit(2);
    }
}

static void be_set_pending(int k) { PyErr_SetRaisedException(Py_NewRef(objects[k])); }

static void describe_pending(char *buf, size_t len) {
    PyObject *exc = PyErr_GetRaisedException();
    if (exc == NULL) {
        snprintf(buf, len, "none");
        return;
    }
    for (int k = 0; k < N_OBJECTS; k++) {
        if (exc == objects[k]) {
            snprintf(buf, len, "obj#%d", k);
            Py_DECREF(exc);
            return;
        }
    }
    PyObject *s = PyObject_Str(exc);
    const char *msg = s ? PyUnicode_AsUTF8(s) : "?";
    snprintf(buf, len, "%s: %s", Py_TYPE(exc)->tp_name, msg ? msg : "?");
    Py_XDECREF(s);
    Py_DECREF(exc);
    PyErr_Clear();
}

static void be_reset(void) {
    for (int t = 0; t < 6; t++) {
        for (int e = 0; e < 17; e++) {
            Py_XDECREF(PyObject_CallMethod(mon, "register_callback", "iiO", t, 1 << e, Py_None));
        }
        if (be_free(t) < 0) PyErr_Clear();
    }
    PyErr_Clear();
}

static PyObject *run(PyObject *self, PyObject *args) {
    const char *script, *log;
    (void)self;
    if (!PyArg_ParseTuple(args, "ss", &script, &log)) return NULL;
    FILE *in = fopen(script, "r");
    FILE *out = fopen(log, "w");
    if (!in || !out) {
        if (in) fclose(in);
        if (out) fclose(out);
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    long fires = run_script(in, out);
    fclose(in);
    fclose(out);
    return PyLong_FromLong(fires);
}

static PyMethodDef methods[] = {
    {"run", run, METH_VARARGS, "run(script, log): execute a scenario script, write the log"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef moddef = {PyModuleDef_HEAD_INIT, "pymon_diff", NULL, -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit_pymon_diff(void) {
    if (PyType_Ready(&RecorderType) < 0) return NULL;
    PyObject *sys = PyImport_ImportModule("sys");
    if (sys == NULL) return NULL;
    mon = PyObject_GetAttrString(sys, "monitoring");
    Py_DECREF(sys);
    if (mon == NULL) return NULL;
    disable = PyObject_GetAttrString(mon, "DISABLE");
    missing = PyObject_GetAttrString(mon, "MISSING");
    if (disable == NULL || missing == NULL) return NULL;
    for (int k = 0; k < N_OBJECTS; k++) {
        if (k < 4) {
            objects[k] = PyObject_CallNoArgs((PyObject *)&PyBaseObject_Type);
        } else if (k < 12) {
            objects[k] = PyObject_CallFunction(PyExc_ValueError, "i", k);
        } else if (k < 14) {
            objects[k] = PyObject_CallFunction(PyExc_StopIteration, "i", k);
        } else {
            objects[k] = PyLong_FromLong(1000 + k);
        }
        if (objects[k] == NULL) return NULL;
    }
    return PyModule_Create(&moddef);
}
