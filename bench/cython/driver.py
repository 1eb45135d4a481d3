"""Runs the Cython-compiled workload (bench/cython/workload.pyx, built by
bench/cython/setup.py) under one monitoring configuration, as bench/workload.sh
does with the C program and bench/workload.py.

Usage: python3.13 driver.py CONFIG FIB_N LOOP_N [--check]   (the modules on PYTHONPATH)
  plain                  the module built without tracing
  cpython_none           the traced module, CPython's own C API, no tool
  cpython_line_disable   ... a sys.monitoring LINE tool returning DISABLE
  library_none           the traced module with libpymonitoring preloaded
                         (LD_PRELOAD; PYMONITORING_LIB names it) as its host's
                         implementation (docs/HOSTS.md: CPython's exception
                         functions as hooks, CPython 3.13's event numbering), no tool
  library_line_disable   ... a LINE tool (the library's C API through ctypes)
                         returning DISABLE
  library_line_lasting   ... the same in PY_MONITORING_OPT_LASTING_DISABLE
Both LINE tools are Python callables that count (code, offset, line) sites.
Prints "NAME NS 1" (the measured calls' time) and a "counts" line; --check
exits 1 when a result or a count is wrong.
"""

import ctypes
import os
import sys
import time

config, fib_n, loop_n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
check = sys.argv[4:] == ["--check"]
CONFIGS = ("plain", "cpython_none", "cpython_line_disable", "library_none",
           "library_line_disable", "library_line_lasting")
if config not in CONFIGS:
    sys.exit(f"driver.py: unknown configuration {config}")

if config == "plain":
    import cyworkload_plain as m
else:
    import cyworkload_traced as m

FILE = m.__file__
sites = {}  # (function, offset, line) -> callbacks


def count(code, offset, line):
    # The module's functions only (CPython's interpreter also reports the
    # driver's own lines).
    if code.co_filename == m.fib.__code__.co_filename:
        key = (code.co_name, offset, line)
        sites[key] = sites.get(key, 0) + 1


TOOL = 1
if config == "cpython_line_disable":
    mon = sys.monitoring

    def on_line(code, line):
        count(code, None, line)
        return mon.DISABLE

    mon.use_tool_id(TOOL, "coverage")
    mon.register_callback(TOOL, mon.events.LINE, on_line)
    mon.set_events(TOOL, mon.events.LINE)
elif config.startswith("library_"):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                    "..", "..", "tests", "ctypes"))
    import pymonitoring_ctypes

    lib = pymonitoring_ctypes.preloaded_library()
    pymonitoring_ctypes.set_cpython_host(lib)
    # CPython 3.13's numbering (the module was compiled against CPython
    # 3.13's header), and the lasting mode; set before any tool is in use,
    # they move no version.
    options = pymonitoring_ctypes.OPT_CPYTHON_313_EVENT_IDS
    if config == "library_line_lasting":
        options |= pymonitoring_ctypes.OPT_LASTING_DISABLE
    assert lib.PyMonitoring_SetOptions(ctypes.c_uint32(options)) == 0
    lib.PyMonitoring_GetVersion.restype = ctypes.c_uint64
    assert lib.PyMonitoring_GetVersion() == 0
    if config != "library_none":
        @pymonitoring_ctypes.CALLBACK
        def on_line(data, ev):
            ev = ev.contents
            count(pymonitoring_ctypes.object_at(ev.codelike), ev.offset, ev.lineno)
            return pymonitoring_ctypes.DISABLE

        LINE = pymonitoring_ctypes.EVENTS["LINE"]
        assert lib.PyMonitoring_UseToolId(TOOL, b"coverage") == 0
        assert lib.PyMonitoring_RegisterCallback(TOOL, LINE, on_line, None) == 0
        assert lib.PyMonitoring_SetEvents(TOOL, ctypes.c_uint32(1 << LINE)) == 0

name = f"cy_{config}-tight"
t0 = time.perf_counter_ns()
f, total = m.run(fib_n, loop_n, name.encode())
t1 = time.perf_counter_ns()
lines = {(fn_name, line) for fn_name, _, line in sites}
print(f"{name} {t1 - t0} 1")
print(f"counts {name} variant=cython lines={len(lines)}/7 sites={len(sites)} "
      f"callbacks={sum(sites.values())}")

if check:
    a, b = 0, 1
    for _ in range(fib_n):
        a, b = b, a + b
    fib_result = a
    a, b = 0, 1
    for _ in range(fib_n + 1):
        a, b = b, a + b
    calls = 2 * a - 1  # fib's activations (n >= 1)
    fib_first = m.fib.__code__.co_firstlineno
    loop_first = m.loop.__code__.co_firstlineno
    every_line = {("fib", fib_first + i) for i in (1, 2, 3)} | {
        ("loop", loop_first + i) for i in (1, 2, 3, 4)}
    bad = []
    if (f, total) != (fib_result, loop_n * (loop_n - 1) // 2):
        bad.append(f"results {(f, total)}")
    if config.endswith("line_disable"):
        # DISABLE ends LINE for the rest of the activation (the C API's rule):
        # each function's first line, once per call.
        want = {("fib", fib_first + 1), ("loop", loop_first + 1)}
        if lines != want or sum(sites.values()) != calls + 1:
            bad.append(f"sites {sites}: each function's first line once per call expected")
    elif config == "library_line_lasting":
        # Every line, each of its sites (code, offset, line) called back once.
        if lines != every_line or set(sites.values()) != {1}:
            bad.append(f"sites {sites}: every line, one callback per site expected")
    elif sites:
        bad.append(f"sites {sites}: no callback expected")
    if bad:
        sys.exit("driver.py: check failed: " + "; ".join(bad))
