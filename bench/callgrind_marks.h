/* The callgrind client requests the benchmarks bracket their measured loops
 * with (CALLGRIND_TOGGLE_COLLECT, one CALLGRIND_DUMP_STATS_AT per case), or
 * no-ops where valgrind's header is not installed. */
#ifndef BENCH_CALLGRIND_MARKS_H
#define BENCH_CALLGRIND_MARKS_H

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define HAVE_CALLGRIND 1
#endif
#endif
#ifndef HAVE_CALLGRIND
#define CALLGRIND_TOGGLE_COLLECT
#define CALLGRIND_DUMP_STATS_AT(x) ((void)(x))
#define RUNNING_ON_VALGRIND 0
#endif

#endif
