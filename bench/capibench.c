/* capibench: the same cases as cbench.c, run on CPython's own C API
 * (Python/instrumentation.c) for the side-by-side table. Built by
 * bench/run.sh against $(pyenv prefix 3.13.0)'s headers; driven by
 * bench/capibench_driver.py, which sets tools up with sys.monitoring and
 * calls one function per case. Every function times one loop of N iterations
 * (clock_gettime around the loop only; callgrind counts only the loop,
 * bracketed by CALLGRIND_TOGGLE_COLLECT, and dumps once per case) and returns
 * (ns_per_iteration, callbacks_run_inside_the_loop).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "timed_loop.h"

#define NOINLINE __attribute__((noinline))

static PyMonitoringState g_states[64];
static uint64_t g_version;
static uint8_t g_events[64];
static long g_calls;
static PyObject *g_disable;
static PyObject *g_code;

static PyObject *result(const char *name, double ns, long calls)
{
    CALLGRIND_DUMP_STATS_AT(name);
    return Py_BuildValue("(dl)", ns, calls);
}

/* Callbacks: METH_FASTCALL builtins. */
static PyObject *cb_none(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    (void)args;
    (void)nargs;
    g_calls++;
    Py_RETURN_NONE;
}

static PyObject *cb_disable(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    (void)args;
    (void)nargs;
    g_calls++;
    return Py_NewRef(g_disable);
}

static int refresh(int length)
{
    uint64_t v = UINT64_MAX;
    return PyMonitoring_EnterScope(g_states, &v, g_events, length);
}

/* empty(name, n) */
static PyObject *b_empty(PyObject *self, PyObject *args)
{
    (void)self;
    const char *name;
    long n;
    if (!PyArg_ParseTuple(args, "sl", &name, &n))
        return NULL;
    long acc = 0;
    double ns = TIMED(n, acc += 1);
    if (acc == 0)
        return NULL;
    return result(name, ns, 0);
}

/* inactive(name, n, code) */
static PyObject *b_inactive(PyObject *self, PyObject *args)
{
    (void)self;
    const char *name;
    long n;
    PyObject *code;
    if (!PyArg_ParseTuple(args, "slO", &name, &n, &code))
        return NULL;
    memset(g_states, 0, sizeof g_states);
    long acc = 0;
    double ns = TIMED(n, acc += PyMonitoring_FirePyStartEvent(&g_states[0], code, 0));
    if (acc != 0)
        return PyErr_Format(PyExc_RuntimeError, "inactive fires returned %ld", acc);
    return result(name, ns, 0);
}

/* enter(name, n, length, refresh) */
static PyObject *b_enter(PyObject *self, PyObject *args)
{
    (void)self;
    const char *name;
    long n;
    int length, force;
    if (!PyArg_ParseTuple(args, "slip", &name, &n, &length, &force))
        return NULL;
    if (length < 0 || length > 64)
        return PyErr_Format(PyExc_ValueError, "bad length");
    for (int i = 0; i < 64; i++)
        g_events[i] = (uint8_t)(i % 17);
    if (refresh(length) < 0)
        return NULL;
    long acc = 0;
    double ns;
    if (force) {
        ns = TIMED(n, {
            g_version = UINT64_MAX;
            acc += PyMonitoring_EnterScope(g_states, &g_version, g_events, length);
        });
    }
    else {
        g_version = 0;
        if (PyMonitoring_EnterScope(g_states, &g_version, g_events, length) < 0)
            return NULL;
        ns = TIMED(n, acc += PyMonitoring_EnterScope(g_states, &g_version, g_events, length));
    }
    if (acc != 0)
        return NULL;
    return result(name, ns, 0);
}

static const uint8_t k_cython_events[7] = {
    PY_MONITORING_EVENT_PY_START,  PY_MONITORING_EVENT_PY_RETURN, PY_MONITORING_EVENT_PY_YIELD,
    PY_MONITORING_EVENT_PY_RESUME, PY_MONITORING_EVENT_PY_UNWIND, PY_MONITORING_EVENT_CALL,
    PY_MONITORING_EVENT_RAISE,
};

static NOINLINE int cython_call(void)
{
    PyMonitoringState states[7];
    uint64_t version = 0;
    memset(states, 0, sizeof states);
    if (PyMonitoring_EnterScope(states, &version, k_cython_events, 7) < 0)
        return -1;
    if (PyMonitoring_FirePyStartEvent(&states[0], g_code, 0) < 0)
        return -1;
    if (PyMonitoring_FirePyReturnEvent(&states[1], g_code, 2, g_code) < 0)
        return -1;
    return PyMonitoring_ExitScope();
}

/* cython(name, n, code) -> also reports whether version 0 was current */
static PyObject *b_cython(PyObject *self, PyObject *args)
{
    (void)self;
    const char *name;
    long n;
    if (!PyArg_ParseTuple(args, "slO", &name, &n, &g_code))
        return NULL;
    long acc = 0;
    double ns = TIMED(n, acc += cython_call());
    if (acc != 0)
        return NULL;
    return result(name, ns, 0);
}

/* Whether a scope entered with version 0 is current (no refresh needed). */
static PyObject *b_version_is_zero(PyObject *self, PyObject *noargs)
{
    (void)self;
    (void)noargs;
    PyMonitoringState st[1] = {{0, 0}};
    uint64_t v = 0;
    uint8_t ev = PY_MONITORING_EVENT_PY_START;
    if (PyMonitoring_EnterScope(st, &v, &ev, 1) < 0)
        return NULL;
    return PyBool_FromLong(v == 0);
}

/* fire(name, n, code, event) with the scope refreshed for `event`:
 * PY_START offset 0; LINE offset 4 lineno 1000; RAISE offset 6 with a
 * RuntimeError set (taken and restored by every fire). */
static PyObject *b_fire(PyObject *self, PyObject *args)
{
    (void)self;
    const char *name;
    long n;
    PyObject *code;
    int event;
    if (!PyArg_ParseTuple(args, "slOi", &name, &n, &code, &event))
        return NULL;
    g_events[0] = (uint8_t)event;
    if (refresh(1) < 0)
        return NULL;
    if (g_states[0].active == 0)
        return PyErr_Format(PyExc_RuntimeError, "%s: state not active", name);
    long acc = 0;
    double ns = 0;
    long before = g_calls, inside = 0;
    switch (event) {
    case PY_MONITORING_EVENT_PY_START:
        ns = TIMED(n, acc += PyMonitoring_FirePyStartEvent(&g_states[0], code, 0));
        break;
    case PY_MONITORING_EVENT_LINE:
        ns = TIMED(n, acc += PyMonitoring_FireLineEvent(&g_states[0], code, 4, 1000));
        break;
    case PY_MONITORING_EVENT_RAISE:
        PyErr_SetString(PyExc_RuntimeError, "bench");
        ns = TIMED(n, acc += PyMonitoring_FireRaiseEvent(&g_states[0], code, 6));
        if (!PyErr_ExceptionMatches(PyExc_RuntimeError))
            return PyErr_Format(PyExc_RuntimeError, "%s: exception lost", name);
        PyErr_Clear();
        break;
    default:
        return PyErr_Format(PyExc_ValueError, "bad event");
    }
    inside = g_calls - before;
    if (acc != 0) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_RuntimeError, "%s: fires failed", name);
        return NULL;
    }
    /* Calls in the timed loop alone: the warm-up ran n/10 + 1 fires. */
    return result(name, ns, inside * n / (n + n / 10 + 1));
}

/* disable(name, n, code): per iteration a forced refresh of a 1-event
 * PY_START scope and one fire whose callback returns DISABLE. */
static PyObject *b_disable(PyObject *self, PyObject *args)
{
    (void)self;
    const char *name;
    long n;
    PyObject *code;
    if (!PyArg_ParseTuple(args, "slO", &name, &n, &code))
        return NULL;
    g_events[0] = PY_MONITORING_EVENT_PY_START;
    long acc = 0;
    long before = g_calls;
    double ns = TIMED(n, {
        g_version = UINT64_MAX;
        acc += PyMonitoring_EnterScope(g_states, &g_version, g_events, 1);
        acc += PyMonitoring_FirePyStartEvent(&g_states[0], code, 0);
    });
    if (acc != 0)
        return NULL;
    if (g_states[0].active != 0)
        return PyErr_Format(PyExc_RuntimeError, "%s: still active after DISABLE", name);
    long inside = g_calls - before;
    return result(name, ns, inside * n / (n + n / 10 + 1));
}

/* call2(name, n, func, args_a, args_b): func(*args_a) and func(*args_b)
 * alternately (sys.monitoring.set_events / register_callback). */
static PyObject *b_call2(PyObject *self, PyObject *args)
{
    (void)self;
    const char *name;
    long n;
    PyObject *func, *a, *b;
    if (!PyArg_ParseTuple(args, "slOO!O!", &name, &n, &func, &PyTuple_Type, &a, &PyTuple_Type, &b))
        return NULL;
    long bad = 0;
    double ns = TIMED(n, {
        PyObject *r = PyObject_Call(func, (i_ & 1) ? a : b, NULL);
        if (r == NULL)
            bad++;
        Py_XDECREF(r);
    });
    if (bad)
        return NULL;
    return result(name, ns, 0);
}

static PyObject *b_calls(PyObject *self, PyObject *noargs)
{
    (void)self;
    (void)noargs;
    return PyLong_FromLong(g_calls);
}

static PyMethodDef cb_methods[] = {
    {"cb_none", (PyCFunction)(void (*)(void))cb_none, METH_FASTCALL, "count; return None"},
    {"cb_disable", (PyCFunction)(void (*)(void))cb_disable, METH_FASTCALL, "count; return DISABLE"},
    {"empty", b_empty, METH_VARARGS, NULL},
    {"inactive", b_inactive, METH_VARARGS, NULL},
    {"enter", b_enter, METH_VARARGS, NULL},
    {"cython", b_cython, METH_VARARGS, NULL},
    {"version_is_zero", b_version_is_zero, METH_NOARGS, NULL},
    {"fire", b_fire, METH_VARARGS, NULL},
    {"disable", b_disable, METH_VARARGS, NULL},
    {"call2", b_call2, METH_VARARGS, NULL},
    {"calls", b_calls, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef capibench_module = {
    PyModuleDef_HEAD_INIT, "capibench", "CPython C API monitoring benchmarks", -1, cb_methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit_capibench(void)
{
    PyObject *mon = PyImport_ImportModule("sys.monitoring");
    if (mon == NULL) {
        PyErr_Clear();
        PyObject *sys = PyImport_ImportModule("sys");
        if (sys == NULL)
            return NULL;
        mon = PyObject_GetAttrString(sys, "monitoring");
        Py_DECREF(sys);
        if (mon == NULL)
            return NULL;
    }
    g_disable = PyObject_GetAttrString(mon, "DISABLE");
    Py_DECREF(mon);
    if (g_disable == NULL)
        return NULL;
    return PyModule_Create(&capibench_module);
}
