/* The timed loop every benchmark program measures with: TIMED(N, BODY)
 * warms up (PLT binding, caches), then runs N >= 1 iterations of BODY with
 * only the loop counted by callgrind (callgrind_marks.h) and evaluates to
 * the nanoseconds per iteration. The loop is written bottom-tested, so it
 * has the empty loop's shape also in a function compiled for size, where the
 * compiler would not rotate a `for` loop; BARRIER keeps the compiler from
 * moving work across iterations. */
#ifndef BENCH_TIMED_LOOP_H
#define BENCH_TIMED_LOOP_H

#include <time.h>

#include "callgrind_marks.h"

#define BARRIER() __asm__ __volatile__("" ::: "memory")

static inline double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

#define TIMED(N, BODY)                                                   \
    ({                                                                   \
        long n_ = (N);                                                   \
        long w_ = n_ / 10 + 1;                                           \
        for (long i_ = 0; i_ < w_; i_++) {                               \
            BARRIER();                                                   \
            BODY;                                                        \
        }                                                                \
        double t0_ = now_ns();                                           \
        CALLGRIND_TOGGLE_COLLECT;                                        \
        long i_ = 0;                                                     \
        do {                                                             \
            BARRIER();                                                   \
            BODY;                                                        \
        } while (++i_ < n_);                                             \
        CALLGRIND_TOGGLE_COLLECT;                                        \
        double t1_ = now_ns();                                           \
        (t1_ - t0_) / (double)n_;                                        \
    })

#endif
