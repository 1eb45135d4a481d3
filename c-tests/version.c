/* The header's version macros and the library's PyMonitoring_LibraryVersion()
 * carry the same version (the crate's; tests/version.rs passes it in as
 * EXPECTED_VERSION). */
#include <stdio.h>
#include <string.h>

#include "pymonitoring.h"

static int failures = 0;
#define CHECK(cond)                                                                     \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);    \
            failures++;                                                                 \
        }                                                                               \
    } while (0)
#define CHECK_EQ_INT(a, b) CHECK((long)(a) == (long)(b))

static int finish(void) {
    if (failures) {
        fprintf(stderr, "version: %d check(s) failed\n", failures);
        return 1;
    }
    return 0;
}

int main(void) {
    char composed[64];
    const char *lib = PyMonitoring_LibraryVersion();

    CHECK(lib != NULL);
    if (lib == NULL) {
        return finish();
    }
    CHECK(strcmp(lib, PYMONITORING_VERSION) == 0);
    CHECK(strcmp(PYMONITORING_VERSION, EXPECTED_VERSION) == 0);
    snprintf(composed, sizeof composed, "%d.%d.%d", PYMONITORING_VERSION_MAJOR,
             PYMONITORING_VERSION_MINOR, PYMONITORING_VERSION_PATCH);
    CHECK(strcmp(composed, PYMONITORING_VERSION) == 0);
    CHECK_EQ_INT(PYMONITORING_VERSION_NUMBER,
                 (PYMONITORING_VERSION_MAJOR << 16) | (PYMONITORING_VERSION_MINOR << 8) |
                     PYMONITORING_VERSION_PATCH);
    /* Usable in #if. */
#if PYMONITORING_VERSION_NUMBER < 0x000100
#error "PYMONITORING_VERSION_NUMBER is not a preprocessor number of at least 0.1.0"
#endif
    {
        unsigned major = 0, minor = 0, patch = 0;
        CHECK(sscanf(lib, "%u.%u.%u", &major, &minor, &patch) == 3);
        CHECK_EQ_INT(((long)major << 16) | ((long)minor << 8) | (long)patch,
                     PYMONITORING_VERSION_NUMBER);
    }
    printf("%s\n", lib);
    return finish();
}
