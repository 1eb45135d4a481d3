# The end-to-end workload's module, bench/workload.py (included: its `fib`
# and `loop`, and its `main`, which runs only as a script), compiled by
# Cython: bench/cython/setup.py builds it twice, traced (`profile=True,
# linetrace=True`, CYTHON_TRACE=1: PEP 669's C API) and untraced, and
# bench/cython/driver.py runs it. `run` is never traced; it brackets the
# measured calls for callgrind (bench/cgcount.sh).
cimport cython

cdef extern from *:
    """
    #if defined(__has_include)
    #if __has_include(<valgrind/callgrind.h>)
    #include <valgrind/callgrind.h>
    #endif
    #endif
    #ifndef CALLGRIND_TOGGLE_COLLECT
    #define CALLGRIND_TOGGLE_COLLECT
    #define CALLGRIND_DUMP_STATS_AT(x) ((void)(x))
    #endif
    static void workload_measure_start(void) { CALLGRIND_TOGGLE_COLLECT; }
    static void workload_measure_stop(const char *name)
    {
        CALLGRIND_TOGGLE_COLLECT;
        CALLGRIND_DUMP_STATS_AT(name);
    }
    """
    void workload_measure_start()
    void workload_measure_stop(const char *name)


include "workload.py"


@cython.profile(False)
@cython.linetrace(False)
def run(fib_n, loop_n, bytes name):
    """fib(fib_n) and loop(loop_n), measured as `name`."""
    workload_measure_start()
    f = fib(fib_n)
    t = loop(loop_n)
    workload_measure_stop(name)
    return f, t
