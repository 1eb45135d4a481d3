/* The callgrind client requests the benchmarks bracket their measured loops
 * with (CALLGRIND_TOGGLE_COLLECT, one CALLGRIND_DUMP_STATS_AT per case), or
 * no-ops where valgrind's header is not installed; and ODD_ARRAY, which keeps
 * their counts the same wherever the stack lands. */
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

/* An array NAME of N T at an odd address (16k + 1), as the benchmarks keep
 * their scopes' states and ids: the exported EnterScope sends arrays whose
 * addresses AND to 0 to its exact checks (src/ffi/scope.rs, `enter_scope`).
 * Natively that never happens to these (the executable and the stack share
 * bit 46), but under valgrind the executable sits at 0x108000 and the stack
 * at 0x1fff000000, with no high bit in common: the AND, and the counts,
 * would depend on where the stack lands, that is on the environment's size. */
#define ODD_ARRAY(T, NAME, N)                                                         \
    struct {                                                                          \
        _Alignas(16) unsigned char pad_;                                              \
        T NAME[N];                                                                    \
    }

#endif
