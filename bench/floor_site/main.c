/* Drives the floor model of site.c as bench/cbench.c drives the library's
 * `lasting_disabled_site` and `lasting_disabled_line` cases: a marked slot
 * with one tool whose site is remembered, fired in a loop through the
 * shared library's exported function, the result tested as Cython tests it
 * (`< 0`); then LINE through the tightest layout found, a table of LINE's
 * sites only, with and without the forget counters. Prints "case ns
 * iterations" lines for bench/cgcount.sh. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../timed_loop.h"

typedef struct {
    uint8_t active;
    uint8_t opaque;
} State;

int FloorFireLine(State *state, void *code, int32_t offset, int line);
int FloorFireLineOwnTable(State *state, void *code, int32_t offset, int line);
int FloorFireLineOwnTableUnguarded(State *state, void *code, int32_t offset, int line);
void floor_remember_line(const void *code, int32_t offset, int line, uint8_t active);
int FloorFirePyStart(State *state, void *code, int32_t offset);
void floor_remember(const void *code, int32_t offset, int event, int line, uint8_t active);
long floor_slow_calls(void);

#define NOINLINE __attribute__((noinline))

static State g_states[2];
static long g_objs[2];
#define CODE ((void *)&g_objs[0])

static void report(const char *name, double ns, long n, long errors)
{
    /* Every fire answered by the check itself: the site is remembered. */
    if (errors != 0 || floor_slow_calls() != 0) {
        fprintf(stderr, "%s: %ld errors, %ld fires missed the check\n", name, errors,
                floor_slow_calls());
        exit(1);
    }
    CALLGRIND_DUMP_STATS_AT(name);
    printf("%s %.3f %ld\n", name, ns, n);
}

static NOINLINE void case_empty(long n)
{
    long errors = 0;
    report("empty_loop", TIMED(n, {}), n, errors);
}

static NOINLINE void case_site(long n)
{
    long errors = 0;
    double ns = TIMED(n, if (__builtin_expect(FloorFirePyStart(&g_states[0], CODE, 0) < 0, 0)) errors++);
    report("floor_disabled_site", ns, n, errors);
}

static NOINLINE void case_line(long n)
{
    long errors = 0;
    double ns =
        TIMED(n, if (__builtin_expect(FloorFireLine(&g_states[1], CODE, 4, 1000) < 0, 0)) errors++);
    report("floor_disabled_line", ns, n, errors);
}

static NOINLINE void case_line_own_table(long n)
{
    long errors = 0;
    double ns = TIMED(
        n, if (__builtin_expect(FloorFireLineOwnTable(&g_states[1], CODE, 4, 1000) < 0, 0)) errors++);
    report("floor_line_own_table", ns, n, errors);
}

static NOINLINE void case_line_own_table_unguarded(long n)
{
    long errors = 0;
    double ns = TIMED(
        n, if (__builtin_expect(FloorFireLineOwnTableUnguarded(&g_states[1], CODE, 4, 1000) < 0, 0))
               errors++);
    report("floor_line_unguarded", ns, n, errors);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    /* One tool (5), the slots marked by the lasting mode, both sites
     * remembered as DISABLEd by it. */
    g_states[0] = (State){1u << 5, 0x80};
    g_states[1] = (State){1u << 5, 0x80};
    floor_remember(CODE, 0, 0, -1, 1u << 5);
    floor_remember(CODE, 4, 5, 1000, 1u << 5);
    case_empty(n);
    case_site(n);
    case_line(n);
    floor_remember_line(CODE, 4, 1000, 1u << 5);
    case_line_own_table(n);
    case_line_own_table_unguarded(n);
    return 0;
}
