"""The workload of bench/workload.c in pure Python, for CPython 3.13 and its
sys.monitoring: the same fib(FIB_N) and loop over LOOP_N items.

Usage: python3.13 bench/workload.py CONFIG FIB_N LOOP_N [--check]
  CONFIG: none | line_disable (a LINE tool returning DISABLE) | line_never
          (a LINE tool that never disables) | profiler (PY_START/PY_RETURN
          counters) | settrace (sys.settrace, a tracer that counts lines)
Prints "NAME NS 1" and a "counts" line (distinct lines seen, callbacks) as
the C program does; --check exits 1 when a count is wrong.
"""

import sys
import time


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def loop(n):
    total = 0
    for i in range(n):
        total += i
    return total


CODES = (fib.__code__, loop.__code__)


def main():
    config, fib_n, loop_n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    check = sys.argv[4:] == ["--check"]
    mon = sys.monitoring
    lines = {}
    counts = {"start": 0, "return": 0}
    tool = mon.COVERAGE_ID

    if config in ("line_disable", "line_never"):
        disable = config == "line_disable"

        def on_line(code, line):
            if code in CODES:
                key = (code.co_name, line)
                lines[key] = lines.get(key, 0) + 1
            return mon.DISABLE if disable else None

        mon.use_tool_id(tool, "coverage")
        mon.register_callback(tool, mon.events.LINE, on_line)
        mon.set_events(tool, mon.events.LINE)
    elif config == "profiler":
        tool = mon.PROFILER_ID

        def on_start(code, offset):
            counts["start"] += 1

        def on_return(code, offset, value):
            counts["return"] += 1

        mon.use_tool_id(tool, "profiler")
        mon.register_callback(tool, mon.events.PY_START, on_start)
        mon.register_callback(tool, mon.events.PY_RETURN, on_return)
        mon.set_events(tool, mon.events.PY_START | mon.events.PY_RETURN)
    elif config == "settrace":

        def tracer(frame, event, arg):
            if event == "line" and frame.f_code in CODES:
                key = (frame.f_code.co_name, frame.f_lineno)
                lines[key] = lines.get(key, 0) + 1
            return tracer

        sys.settrace(tracer)
    elif config != "none":
        sys.exit(f"workload.py: unknown configuration {config}")

    t0 = time.perf_counter_ns()
    f = fib(fib_n)
    total = loop(loop_n)
    t1 = time.perf_counter_ns()
    sys.settrace(None)
    if config in ("line_disable", "line_never", "profiler"):
        mon.set_events(tool, 0)
        mon.free_tool_id(tool)

    name = f"py_{config}-tight"
    print(f"{name} {t1 - t0} 1")
    print(
        f"counts {name} variant=cpython lines={len(lines)}/7 callbacks={sum(lines.values())} "
        f"starts={counts['start']} returns={counts['return']}"
    )
    if check:
        a, b = 0, 1
        for _ in range(fib_n + 1):
            a, b = b, a + b
        calls, leaves = 2 * a - 1, a  # fib(n+1) leaves (n >= 1)
        want = {
            ("fib", fib.__code__.co_firstlineno + 1): calls,
            ("fib", fib.__code__.co_firstlineno + 2): leaves,
            ("fib", fib.__code__.co_firstlineno + 3): calls - leaves,
            ("loop", loop.__code__.co_firstlineno + 1): 1,
            ("loop", loop.__code__.co_firstlineno + 2): loop_n + 1,
            ("loop", loop.__code__.co_firstlineno + 3): loop_n,
            ("loop", loop.__code__.co_firstlineno + 4): 1,
        }
        bad = []
        if total != loop_n * (loop_n - 1) // 2:
            bad.append("loop result")
        if config in ("line_never", "settrace") and lines != want:
            bad.append(f"lines {lines} != {want}")
        # DISABLE silences one instruction: a line of several (the `for`
        # header) calls back once per instruction.
        if config == "line_disable" and (set(lines) != set(want) or max(lines.values()) > 2):
            bad.append(f"lines {lines}: every line, at most twice, expected")
        if config == "profiler" and counts != {"start": calls + 1, "return": calls + 1}:
            bad.append(f"counts {counts}")
        if bad:
            sys.exit("workload.py: check failed: " + "; ".join(bad))
    del f


if __name__ == "__main__":
    main()
