/* A host's sys.monitoring forwarding into libpymonitoring (docs/HOSTS.md,
 * "Worked example"). The host is CPython 3.13 itself: its extensions
 * (events_mod, built by Cython against 3.13's header) report through the
 * library, which is preloaded. The module installs the host's hooks
 * (CPython's own PyErr_* functions), sets the library to read 3.13's event
 * ids, and offers sys.monitoring's registration functions, in 3.13's
 * numbering, whose Python callables are called through one C trampoline
 * each. tests/cython_host/driver.py runs the same Python tool on it as on
 * CPython's sys.monitoring. */
#define PY_SSIZE_T_CLEAN
/* CPython's own monitoring declarations (3.13's ids) are left out: this
 * file uses the library's header, whose PY_MONITORING_EVENT_* are 3.14's. */
#define Py_MONITORING_H
#include <Python.h>

#include "pymonitoring.h"

/* This host's (CPython 3.13's) event ids -> the library's. */
static const int from313[17] = {
    PY_MONITORING_EVENT_PY_START,       PY_MONITORING_EVENT_PY_RESUME,
    PY_MONITORING_EVENT_PY_RETURN,      PY_MONITORING_EVENT_PY_YIELD,
    PY_MONITORING_EVENT_CALL,           PY_MONITORING_EVENT_LINE,
    PY_MONITORING_EVENT_INSTRUCTION,    PY_MONITORING_EVENT_JUMP,
    PY_MONITORING_EVENT_BRANCH,         PY_MONITORING_EVENT_STOP_ITERATION,
    PY_MONITORING_EVENT_RAISE,          PY_MONITORING_EVENT_EXCEPTION_HANDLED,
    PY_MONITORING_EVENT_PY_UNWIND,      PY_MONITORING_EVENT_PY_THROW,
    PY_MONITORING_EVENT_RERAISE,        PY_MONITORING_EVENT_C_RETURN,
    PY_MONITORING_EVENT_C_RAISE,
};

static PyObject *disable; /* sys.monitoring.DISABLE */
/* The registered callables (owned), by tool and library event. */
static PyObject *callables[PY_MONITORING_TOOL_IDS][PY_MONITORING_EVENTS];

/* The trampoline: the library's event record back into the call
 * sys.monitoring makes. `data` is the Python callable. */
static int trampoline(void *data, const PyMonitoringEvent *ev) {
    PyObject *func = (PyObject *)data, *res;
    switch (ev->event) {
    case PY_MONITORING_EVENT_PY_START:
    case PY_MONITORING_EVENT_PY_RESUME:
        res = PyObject_CallFunction(func, "Oi", ev->codelike, (int)ev->offset);
        break;
    case PY_MONITORING_EVENT_LINE:
        res = PyObject_CallFunction(func, "Oi", ev->codelike, (int)ev->lineno);
        break;
    case PY_MONITORING_EVENT_CALL:
        res = PyObject_CallFunction(func, "OiOO", ev->codelike, (int)ev->offset, ev->arg0,
                                    ev->arg1);
        break;
    default:
        res = PyObject_CallFunction(func, "OiO", ev->codelike, (int)ev->offset, ev->arg0);
    }
    if (res == NULL) {
        return -1; /* the callable's exception is the host's: the library reports it */
    }
    int rc = res == disable ? PY_MONITORING_DISABLE : 0;
    Py_DECREF(res);
    return rc;
}

/* Errors of the library are already host exceptions (the hooks). */
#define CALL(expr)                                                                       \
    do {                                                                                 \
        if ((expr) < 0) return NULL;                                                     \
    } while (0)

static PyObject *install(PyObject *self, PyObject *args) {
    (void)self, (void)args;
    PyObject *mon = PySys_GetObject("monitoring"); /* borrowed */
    if (mon == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "no sys.monitoring");
        return NULL;
    }
    PyObject *missing = PyObject_GetAttrString(mon, "MISSING"); /* kept for the process */
    disable = PyObject_GetAttrString(mon, "DISABLE");
    if (missing == NULL || disable == NULL) return NULL;
    PyMonitoringHost host = {
        .version = PY_MONITORING_HOST_VERSION,
        .get_raised_exception = PyErr_GetRaisedException,
        .set_raised_exception = PyErr_SetRaisedException,
        .set_string = PyErr_SetString,
        .value_error = PyExc_ValueError,
        .runtime_error = PyExc_RuntimeError,
        .missing = missing,
    };
    if (PyMonitoring_SetHost(&host) < 0) {
        /* No host yet: the error is the library's own. */
        PyErr_SetString(PyExc_RuntimeError, PyMonitoring_ErrMessage());
        PyMonitoring_ErrClear();
        return NULL;
    }
    /* Extensions of this host were compiled against 3.13's header. */
    CALL(PyMonitoring_SetOptions(PY_MONITORING_OPT_CPYTHON_313_EVENT_IDS));
    Py_RETURN_NONE;
}

static PyObject *use_tool_id(PyObject *self, PyObject *args) {
    int tool;
    const char *name;
    (void)self;
    if (!PyArg_ParseTuple(args, "is", &tool, &name)) return NULL;
    CALL(PyMonitoring_UseToolId(tool, name));
    Py_RETURN_NONE;
}

static PyObject *free_tool_id(PyObject *self, PyObject *args) {
    int tool;
    (void)self;
    if (!PyArg_ParseTuple(args, "i", &tool)) return NULL;
    CALL(PyMonitoring_FreeToolId(tool));
    Py_RETURN_NONE;
}

/* register_callback(tool, event, func) -> the previous callable or None;
 * `event` is one of sys.monitoring.events (a single bit), as in CPython. */
static PyObject *register_callback(PyObject *self, PyObject *args) {
    int tool;
    unsigned int bit;
    PyObject *func;
    (void)self;
    if (!PyArg_ParseTuple(args, "iIO", &tool, &bit, &func)) return NULL;
    int event = 0;
    while (event < 17 && bit != 1u << event) event++;
    if (event == 17 || tool < 0 || tool >= PY_MONITORING_TOOL_IDS) {
        PyErr_SetString(PyExc_ValueError, "invalid tool or event");
        return NULL;
    }
    int lib_event = from313[event];
    if (func == Py_None) {
        CALL(PyMonitoring_RegisterCallback(tool, lib_event, NULL, NULL));
    } else {
        CALL(PyMonitoring_RegisterCallback(tool, lib_event, trampoline, func));
        Py_INCREF(func);
    }
    PyObject *old = callables[tool][lib_event];
    callables[tool][lib_event] = func == Py_None ? NULL : func;
    /* The old callable may still run on a thread that released the GIL:
     * wait for those dispatches (without holding the GIL) before dropping it. */
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = PyMonitoring_WaitForCallbacks();
    Py_END_ALLOW_THREADS
    if (rc < 0) {
        Py_XDECREF(old);
        return NULL;
    }
    return old ? old : Py_NewRef(Py_None);
}

/* set_events(tool, events): `events` in this host's (3.13) bits. */
static PyObject *set_events(PyObject *self, PyObject *args) {
    int tool;
    unsigned int events;
    (void)self;
    if (!PyArg_ParseTuple(args, "iI", &tool, &events)) return NULL;
    uint32_t lib_events = 0;
    for (int e = 0; e < 17; e++) {
        if (events & (1u << e)) lib_events |= 1u << from313[e];
    }
    if (events >> 17) {
        PyErr_Format(PyExc_ValueError, "invalid event set 0x%x", events);
        return NULL;
    }
    CALL(PyMonitoring_SetEvents(tool, lib_events));
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"install", install, METH_NOARGS, "Install the hooks and 3.13's numbering."},
    {"use_tool_id", use_tool_id, METH_VARARGS, "sys.monitoring.use_tool_id"},
    {"free_tool_id", free_tool_id, METH_VARARGS, "sys.monitoring.free_tool_id"},
    {"register_callback", register_callback, METH_VARARGS, "sys.monitoring.register_callback"},
    {"set_events", set_events, METH_VARARGS, "sys.monitoring.set_events"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "hostmon", NULL, -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit_hostmon(void) {
    return PyModule_Create(&module);
}
