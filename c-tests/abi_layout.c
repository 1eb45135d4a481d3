/* Prints what the C compiler makes of pymonitoring.h: the layout of the
 * structs and the value of every constant, one "name value" per line, for
 * tests/abi.rs to compare with bindgen's reading and the Rust types. */
#include <stddef.h>
#include <stdio.h>

#include "pymonitoring.h"

#define LAYOUT(T) printf("sizeof %s %zu\nalignof %s %zu\n", #T, sizeof(T), #T, _Alignof(T))
#define FIELD(T, F) printf("offsetof %s.%s %zu\n", #T, #F, offsetof(T, F))
#define CONST(N) printf("const %s %lld\n", #N, (long long)(N))

int main(void) {
    LAYOUT(PyMonitoringState);
    FIELD(PyMonitoringState, active);
    FIELD(PyMonitoringState, opaque);
    LAYOUT(PyMonitoringEvent);
    FIELD(PyMonitoringEvent, event);
    FIELD(PyMonitoringEvent, tool_id);
    FIELD(PyMonitoringEvent, codelike);
    FIELD(PyMonitoringEvent, offset);
    FIELD(PyMonitoringEvent, lineno);
    FIELD(PyMonitoringEvent, arg0);
    FIELD(PyMonitoringEvent, arg1);
    LAYOUT(PyMonitoringHost);
    FIELD(PyMonitoringHost, version);
    FIELD(PyMonitoringHost, get_raised_exception);
    FIELD(PyMonitoringHost, set_raised_exception);
    FIELD(PyMonitoringHost, set_string);
    FIELD(PyMonitoringHost, value_error);
    FIELD(PyMonitoringHost, runtime_error);
    FIELD(PyMonitoringHost, missing);
    LAYOUT(Py_ssize_t);
    LAYOUT(PyMonitoringCallback);
    CONST(PY_MONITORING_EVENT_PY_START);
    CONST(PY_MONITORING_EVENT_PY_RESUME);
    CONST(PY_MONITORING_EVENT_PY_RETURN);
    CONST(PY_MONITORING_EVENT_PY_YIELD);
    CONST(PY_MONITORING_EVENT_CALL);
    CONST(PY_MONITORING_EVENT_LINE);
    CONST(PY_MONITORING_EVENT_INSTRUCTION);
    CONST(PY_MONITORING_EVENT_JUMP);
    CONST(PY_MONITORING_EVENT_BRANCH_LEFT);
    CONST(PY_MONITORING_EVENT_BRANCH_RIGHT);
    CONST(PY_MONITORING_EVENT_STOP_ITERATION);
    CONST(PY_MONITORING_EVENT_RAISE);
    CONST(PY_MONITORING_EVENT_EXCEPTION_HANDLED);
    CONST(PY_MONITORING_EVENT_PY_UNWIND);
    CONST(PY_MONITORING_EVENT_PY_THROW);
    CONST(PY_MONITORING_EVENT_RERAISE);
    CONST(PY_MONITORING_EVENT_C_RETURN);
    CONST(PY_MONITORING_EVENT_C_RAISE);
    CONST(PY_MONITORING_EVENT_BRANCH);
    CONST(PY_MONITORING_EVENTS);
    CONST(PY_MONITORING_TOOL_IDS);
    CONST(PY_MONITORING_DEBUGGER_ID);
    CONST(PY_MONITORING_COVERAGE_ID);
    CONST(PY_MONITORING_PROFILER_ID);
    CONST(PY_MONITORING_OPTIMIZER_ID);
    CONST(PY_MONITORING_DISABLE);
    CONST(PY_MONITORING_ERR_NONE);
    CONST(PY_MONITORING_ERR_VALUE);
    CONST(PY_MONITORING_ERR_RUNTIME);
    CONST(PY_MONITORING_ERR_HOST);
    CONST(PY_MONITORING_COVERAGE_ONCE);
    CONST(PY_MONITORING_COVERAGE_COUNT);
    CONST(PY_MONITORING_OPT_LASTING_DISABLE);
    CONST(PY_MONITORING_OPT_ACTIVE_NEEDS_CALLBACK);
    CONST(PY_MONITORING_OPT_CPYTHON_313_EVENT_IDS);
    CONST(PY_MONITORING_HOST_VERSION);
    CONST(PY_MONITORING_ARM_OFFSETS);
    CONST(PY_MONITORING_ARM_LINES);
    CONST(PY_MONITORING_DISABLED_SITES);
    return 0;
}
