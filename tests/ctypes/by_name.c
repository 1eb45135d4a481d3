/* An object that calls the library by name, as an extension module or a
 * host program linked with -lpymonitoring does (README, "Processes that
 * also load CPython"). Built as a shared object for the ctypes test, and
 * with BY_NAME_MAIN as a program linked against libpython too. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "pymonitoring.h"

static int calls;

static int on_start(void *data, const PyMonitoringEvent *ev) {
    (void)data, (void)ev;
    calls++;
    return 0;
}

/* The file name of the library that this object's calls to
 * PyMonitoring_EnterScope reach. */
const char *enter_scope_library(void) {
    Dl_info info;
    int (*enter)(PyMonitoringState *, uint64_t *, const uint8_t *, Py_ssize_t) =
        PyMonitoring_EnterScope;
    if (!dladdr((void *)enter, &info) || !info.dli_fname)
        return "?";
    const char *slash = strrchr(info.dli_fname, '/');
    return slash ? slash + 1 : info.dli_fname;
}

/* Claim tool 4 for PY_START, enter a scope and fire once, all by name:
 * the number of callbacks, or -1. */
int fire_by_name(void) {
    static char code_object;
    PyMonitoringState state = {0, 0};
    uint64_t version = 0;
    const uint8_t events[1] = {PY_MONITORING_EVENT_PY_START};
    calls = 0;
    if (PyMonitoring_UseToolId(4, "by-name") < 0
        || PyMonitoring_RegisterCallback(4, PY_MONITORING_EVENT_PY_START, on_start, NULL) < 0
        || PyMonitoring_SetEvents(4, 1u << PY_MONITORING_EVENT_PY_START) < 0)
        return -1;
    int rc = PyMonitoring_EnterScope(&state, &version, events, 1);
    if (rc == 0)
        rc = _PyMonitoring_FirePyStartEvent(&state, (PyObject *)(void *)&code_object, 0);
    PyMonitoring_FreeToolId(4);
    return rc < 0 ? -1 : calls;
}

#ifdef BY_NAME_MAIN
/* Prints the library PyMonitoring_EnterScope binds to, and when it is this
 * one, the callbacks of a fire by name (CPython's functions need a running
 * interpreter, so they are not called). */
int main(void) {
    const char *library = enter_scope_library();
    if (strncmp(library, "libpymonitoring", 15) == 0)
        printf("%s %d\n", library, fire_by_name());
    else
        printf("%s\n", library);
    return 0;
}
#endif
