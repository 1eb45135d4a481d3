/* The thread's error indicator (docs/BEHAVIOUR.md, "Firing", steps 2 and 8): PyMonitoring_ErrOccurred,
 * ErrClear, ErrKind, ErrMessage, ErrSetString, SetRaisedException,
 * GetRaisedException, and the MISSING sentinel (GetMissing and the
 * PyMonitoring_MISSING macro). Valid input and every kind of bad input. */
#include <limits.h>

#include "api_util.h"

#define BAD_KIND(k)                                                            \
    "invalid error kind " #k                                                   \
    " (use PY_MONITORING_ERR_VALUE or PY_MONITORING_ERR_RUNTIME)"

static void empty_indicator(void) {
    CHECK_EQ_INT(PyMonitoring_ErrOccurred(), 0);
    CHECK_EQ_INT(PyMonitoring_ErrKind(), PY_MONITORING_ERR_NONE);
    CHECK(PyMonitoring_ErrMessage() == NULL);
    CHECK(PyMonitoring_GetRaisedException() == NULL);
    /* Clearing an empty indicator is harmless. */
    PyMonitoring_ErrClear();
    CHECK_EQ_INT(PyMonitoring_ErrOccurred(), 0);
}

static void set_string(void) {
    /* Each valid kind, read back exactly. */
    CHECK_EQ_INT(PyMonitoring_ErrSetString(PY_MONITORING_ERR_VALUE, "bad value"), 0);
    CHECK_EQ_INT(PyMonitoring_ErrOccurred(), 1);
    CHECK_ERROR(-1, PY_MONITORING_ERR_VALUE, "bad value");
    CHECK_EQ_INT(PyMonitoring_ErrOccurred(), 0);

    CHECK_EQ_INT(PyMonitoring_ErrSetString(PY_MONITORING_ERR_RUNTIME, "it broke"), 0);
    CHECK_EQ_INT(PyMonitoring_ErrKind(), PY_MONITORING_ERR_RUNTIME);
    /* The message stays the same while the indicator does not change. */
    const char *m1 = PyMonitoring_ErrMessage();
    const char *m2 = PyMonitoring_ErrMessage();
    CHECK(m1 != NULL && m2 != NULL && strcmp(m1, "it broke") == 0 && strcmp(m1, m2) == 0);
    /* A library error is not a host exception: GetRaisedException leaves it. */
    CHECK(PyMonitoring_GetRaisedException() == NULL);
    CHECK_ERROR(-1, PY_MONITORING_ERR_RUNTIME, "it broke");

    /* A second error replaces the first. */
    CHECK_EQ_INT(PyMonitoring_ErrSetString(PY_MONITORING_ERR_VALUE, "first"), 0);
    CHECK_EQ_INT(PyMonitoring_ErrSetString(PY_MONITORING_ERR_RUNTIME, "second"), 0);
    CHECK_ERROR(-1, PY_MONITORING_ERR_RUNTIME, "second");

    /* The message is copied: changing the caller's buffer changes nothing. */
    char buf[16];
    strcpy(buf, "copied");
    CHECK_EQ_INT(PyMonitoring_ErrSetString(PY_MONITORING_ERR_VALUE, buf), 0);
    strcpy(buf, "changed");
    CHECK_ERROR(-1, PY_MONITORING_ERR_VALUE, "copied");

    /* Empty message, and invalid UTF-8 replaced by U+FFFD. */
    CHECK_EQ_INT(PyMonitoring_ErrSetString(PY_MONITORING_ERR_VALUE, ""), 0);
    CHECK_ERROR(-1, PY_MONITORING_ERR_VALUE, "");
    CHECK_EQ_INT(PyMonitoring_ErrSetString(PY_MONITORING_ERR_VALUE, "a\xff" "b"), 0);
    CHECK_ERROR(-1, PY_MONITORING_ERR_VALUE, "a\xef\xbf\xbd" "b");
}

static void set_string_bad_input(void) {
    /* Bad kinds: NONE, HOST (only SetRaisedException sets that), others. */
    CHECK_ERROR(PyMonitoring_ErrSetString(PY_MONITORING_ERR_NONE, "x"), PY_MONITORING_ERR_VALUE,
                BAD_KIND(0));
    CHECK_ERROR(PyMonitoring_ErrSetString(PY_MONITORING_ERR_HOST, "x"), PY_MONITORING_ERR_VALUE,
                BAD_KIND(3));
    CHECK_ERROR(PyMonitoring_ErrSetString(-1, "x"), PY_MONITORING_ERR_VALUE, BAD_KIND(-1));
    CHECK_ERROR(PyMonitoring_ErrSetString(4, "x"), PY_MONITORING_ERR_VALUE, BAD_KIND(4));
    CHECK_ERROR(PyMonitoring_ErrSetString(INT_MAX, "x"), PY_MONITORING_ERR_VALUE,
                BAD_KIND(2147483647));
    CHECK_ERROR(PyMonitoring_ErrSetString(INT_MIN, "x"), PY_MONITORING_ERR_VALUE,
                BAD_KIND(-2147483648));
    /* NULL message, with a good kind; the kind is checked first. */
    CHECK_ERROR(PyMonitoring_ErrSetString(PY_MONITORING_ERR_VALUE, NULL), PY_MONITORING_ERR_VALUE,
                "msg must not be NULL");
    CHECK_ERROR(PyMonitoring_ErrSetString(PY_MONITORING_ERR_RUNTIME, NULL),
                PY_MONITORING_ERR_VALUE, "msg must not be NULL");
    CHECK_ERROR(PyMonitoring_ErrSetString(9, NULL), PY_MONITORING_ERR_VALUE, BAD_KIND(9));
    /* A failed call replaces what was pending with its own error. */
    CHECK_EQ_INT(PyMonitoring_ErrSetString(PY_MONITORING_ERR_RUNTIME, "pending"), 0);
    CHECK_ERROR(PyMonitoring_ErrSetString(PY_MONITORING_ERR_RUNTIME, NULL),
                PY_MONITORING_ERR_VALUE, "msg must not be NULL");
    PyMonitoring_SetRaisedException(OBJ(3));
    CHECK_ERROR(PyMonitoring_ErrSetString(0, "x"), PY_MONITORING_ERR_VALUE, BAD_KIND(0));
    CHECK(PyMonitoring_GetRaisedException() == NULL);
}

static void raised_exception(void) {
    /* Set and take: the same pointer, and the indicator is empty after. */
    PyMonitoring_SetRaisedException(OBJ(1));
    CHECK_EQ_INT(PyMonitoring_ErrOccurred(), 1);
    CHECK_EQ_INT(PyMonitoring_ErrKind(), PY_MONITORING_ERR_HOST);
    const char *m = PyMonitoring_ErrMessage();
    CHECK(m != NULL && strcmp(m, "exception object set by the host") == 0);
    CHECK(PyMonitoring_GetRaisedException() == OBJ(1));
    empty_indicator();

    /* A second exception replaces the first; ErrClear drops it. */
    PyMonitoring_SetRaisedException(OBJ(1));
    PyMonitoring_SetRaisedException(OBJ(2));
    CHECK(PyMonitoring_GetRaisedException() == OBJ(2));
    PyMonitoring_SetRaisedException(OBJ(4));
    CHECK_ERROR(-1, PY_MONITORING_ERR_HOST, "exception object set by the host");
    empty_indicator();

    /* NULL clears: a host exception and a library error alike. */
    PyMonitoring_SetRaisedException(OBJ(5));
    PyMonitoring_SetRaisedException(NULL);
    empty_indicator();
    CHECK_EQ_INT(PyMonitoring_ErrSetString(PY_MONITORING_ERR_VALUE, "gone"), 0);
    PyMonitoring_SetRaisedException(NULL);
    empty_indicator();

    /* A host exception replaces a library error, and the other way round. */
    CHECK_EQ_INT(PyMonitoring_ErrSetString(PY_MONITORING_ERR_VALUE, "lib"), 0);
    PyMonitoring_SetRaisedException(OBJ(6));
    CHECK(PyMonitoring_GetRaisedException() == OBJ(6));
    empty_indicator();
    PyMonitoring_SetRaisedException(OBJ(6));
    CHECK_EQ_INT(PyMonitoring_ErrSetString(PY_MONITORING_ERR_RUNTIME, "lib2"), 0);
    CHECK(PyMonitoring_GetRaisedException() == NULL);
    CHECK_ERROR(-1, PY_MONITORING_ERR_RUNTIME, "lib2");

    /* The MISSING sentinel can be set like any object (it is one). */
    PyMonitoring_SetRaisedException(PyMonitoring_MISSING);
    CHECK(PyMonitoring_GetRaisedException() == PyMonitoring_GetMissing());
    empty_indicator();
}

static void missing(void) {
    PyObject *a = PyMonitoring_GetMissing();
    CHECK(a != NULL);
    CHECK(a == PyMonitoring_GetMissing());
    CHECK(a == PyMonitoring_MISSING);
    /* Not one of the caller's objects. */
    for (int i = 0; i < (int)sizeof harness_objects; i++) {
        CHECK(a != OBJ(i));
    }
    /* GetMissing neither sets nor clears the indicator. */
    CHECK_EQ_INT(PyMonitoring_ErrSetString(PY_MONITORING_ERR_VALUE, "kept"), 0);
    CHECK(PyMonitoring_GetMissing() == a);
    CHECK_ERROR(-1, PY_MONITORING_ERR_VALUE, "kept");
    CHECK_EQ_INT(PyMonitoring_ErrOccurred(), 0);
    CHECK(PyMonitoring_GetMissing() == a);
}

static void library_errors_land_on_the_indicator(void) {
    /* Functions of the API report through the same indicator, which the
     * next failure replaces and ErrClear empties. */
    CHECK_EQ_INT(PyMonitoring_SetEvents(9, 0), -1);
    CHECK_EQ_INT(PyMonitoring_ErrKind(), PY_MONITORING_ERR_VALUE);
    CHECK_EQ_INT(PyMonitoring_SetEvents(-3, 0), -1);
    CHECK_ERROR(-1, PY_MONITORING_ERR_VALUE, "invalid tool -3 (must be between 0 and 5)");
    /* Successful calls leave a pending error alone. */
    CHECK_EQ_INT(PyMonitoring_ErrSetString(PY_MONITORING_ERR_RUNTIME, "sticky"), 0);
    CHECK_EQ_INT(PyMonitoring_UseToolId(1, "x"), 0);
    CHECK_EQ_INT(PyMonitoring_FreeToolId(1), 0);
    CHECK_ERROR(-1, PY_MONITORING_ERR_RUNTIME, "sticky");
}

int main(void) {
    empty_indicator();
    set_string();
    set_string_bad_input();
    raised_exception();
    missing();
    library_errors_land_on_the_indicator();
    empty_indicator();
    return harness_finish("api_errors");
}
