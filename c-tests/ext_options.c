/* PyMonitoring_SetOptions / PyMonitoring_GetOptions (docs/EXTENSIONS.md):
 * defaults, bad input, version moves, and PYMONITORING_OPTIONS at load.
 * argv[1], when given, is the option word the environment should have set. */
#include "harness.h"

int main(int argc, char **argv) {
    uint32_t want = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 0;
    uint32_t options = 0xdead;

    CHECK_ERROR(PyMonitoring_GetOptions(NULL), PY_MONITORING_ERR_VALUE,
                "options must not be NULL");
    CHECK_OK(PyMonitoring_GetOptions(&options), 0);
    CHECK_EQ_INT(options, want);

    /* Options set at load move no version while nothing was published
     * (docs/EXTENSIONS.md): a Cython-style version-0 EnterScope returns at
     * once, reading no id (200 and 255 are no events) and writing nothing. */
    CHECK_EQ_INT(PyMonitoring_GetVersion(), 0);
    PyMonitoringState states[2] = {{7, 9}, {7, 9}};
    uint64_t version = 0;
    static const uint8_t not_ids[2] = {200, 255};
    CHECK_OK(PyMonitoring_EnterScope(states, &version, not_ids, 2), 0);
    CHECK(states[0].active == 7 && states[1].opaque == 9 && version == 0);

    /* Unknown bits: ValueError, nothing changes. */
    uint64_t v0 = PyMonitoring_GetVersion();
    CHECK_ERROR(PyMonitoring_SetOptions(0x80), PY_MONITORING_ERR_VALUE,
                "invalid options 0x80 (known options are 0x7)");
    CHECK_ERROR(PyMonitoring_SetOptions(0xffffffffu), PY_MONITORING_ERR_VALUE,
                "invalid options 0xffffffff (known options are 0x7)");
    CHECK_OK(PyMonitoring_GetOptions(&options), 0);
    CHECK_EQ_INT(options, want);
    CHECK_EQ_INT(PyMonitoring_GetVersion(), v0);

    /* Setting the same word is no change. While nothing was ever published
     * (version 0, no tool in use) a different word moves no version either:
     * every scope's masks are 0 under any options, and a version-0
     * EnterScope still returns at once. */
    CHECK_OK(PyMonitoring_SetOptions(want), 0);
    CHECK_EQ_INT(PyMonitoring_GetVersion(), v0);
    CHECK_OK(PyMonitoring_SetOptions(want ^ PY_MONITORING_OPT_ACTIVE_NEEDS_CALLBACK), 0);
    CHECK_EQ_INT(PyMonitoring_GetVersion(), 0);
    CHECK_OK(PyMonitoring_EnterScope(states, &version, not_ids, 2), 0);
    CHECK(states[0].active == 7 && states[1].opaque == 9 && version == 0);

    /* Once a tool is in use, a different word moves the version. */
    CHECK_OK(PyMonitoring_UseToolId(2, "t"), 0);
    uint64_t v1 = PyMonitoring_GetVersion();
    uint32_t other = want ^ PY_MONITORING_OPT_LASTING_DISABLE;
    CHECK_OK(PyMonitoring_SetOptions(other), 0);
    CHECK_EQ_INT(PyMonitoring_GetVersion(), v1 + 1);
    CHECK_OK(PyMonitoring_GetOptions(&options), 0);
    CHECK_EQ_INT(options, other);
    CHECK_OK(PyMonitoring_SetOptions(PY_MONITORING_OPT_LASTING_DISABLE |
                                     PY_MONITORING_OPT_ACTIVE_NEEDS_CALLBACK),
             0);
    CHECK_OK(PyMonitoring_GetOptions(&options), 0);
    CHECK_EQ_INT(options, 3);
    CHECK_OK(PyMonitoring_SetOptions(0), 0);
    CHECK_OK(PyMonitoring_GetOptions(&options), 0);
    CHECK_EQ_INT(options, 0);

    (void)harness_objects;
    (void)record_event;
    return harness_finish("ext_options");
}
