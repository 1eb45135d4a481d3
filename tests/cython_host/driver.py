"""Runs events_mod (a Cython module) and records the monitoring events it reports.

    python driver.py cpython OUT     CPython's own sys.monitoring, tool callbacks in Python
    python driver.py library OUT     libpymonitoring preloaded (LD_PRELOAD, PYMONITORING_LIB
                                     names it): host hooks calling CPython's PyErr_* functions,
                                     CPython 3.13's event numbering, a tool registered through
                                     the library's C API (ctypes) that turns each event back
                                     into Python objects
    python driver.py forwarded OUT   libpymonitoring preloaded, with hostmon (hostmon.c: the host's
                                     sys.monitoring forwarding into the library, one C trampoline
                                     per Python callable) in place of sys.monitoring: the same
                                     Python tool as in `cpython`
    python driver.py unhosted OUT    as `library`, without the host hooks and the numbering
                                     (docs/HOSTS.md: SystemError, then a crash)

OUT gets one line per event (repr of a tuple). Exceptions are named by the order in which
the run first saw them (`exc#N`); the driver also records every exception it catches, so an
event's exception is checked to be the very object the program sees.

Only events whose code object belongs to events_mod are recorded. With CPython's
sys.monitoring the interpreter also reports the driver's own Python code (its functions'
PY_START/LINE/PY_RETURN, and RAISE/EXCEPTION_HANDLED where an exception from the module
arrives in the driver); those come from the interpreter, not from a C-API fire, and are
counted in a last line `('filtered', n, files)` so the test checks they all belong to
this file.
"""

import ctypes
import os
import sys

MODE, OUT = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.getcwd())
sys.path.insert(1, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ctypes"))
import pymonitoring_ctypes  # noqa: E402

TOOL = 2
NAMES = ["PY_START", "PY_RESUME", "PY_RETURN", "PY_YIELD", "LINE", "RAISE", "RERAISE",
         "EXCEPTION_HANDLED", "PY_UNWIND", "STOP_ITERATION"]
EXCEPTION_EVENTS = {"RAISE", "RERAISE", "EXCEPTION_HANDLED", "PY_UNWIND"}

log = []
filtered = []
seen = []  # exception objects in order of first appearance (kept alive: ids stay unique)


def exc_name(exc):
    for i, e in enumerate(seen):
        if e is exc:
            return f"exc#{i}"
    seen.append(exc)
    return f"exc#{len(seen) - 1}"


def record(name, code, where, arg):
    if not code.co_filename.endswith("events_mod.pyx"):
        filtered.append((name, code.co_filename))
        return
    if name in EXCEPTION_EVENTS:
        arg = (exc_name(arg), type(arg).__name__, arg.args)
    elif name == "LINE":
        arg = None
    log.append((name, code.co_name, where, repr(arg) if name in ("PY_RETURN", "PY_YIELD") else arg))


if MODE in ("cpython", "forwarded"):
    if MODE == "forwarded":
        pymonitoring_ctypes.preloaded_library()
        import hostmon

        hostmon.install()
        mon = hostmon
    else:
        mon = sys.monitoring
    E = sys.monitoring.events
    ids = {name: getattr(E, name) for name in NAMES}
    mon.use_tool_id(TOOL, "recorder")

    def make(name):
        if name == "LINE":
            return lambda code, line: record(name, code, line, None)
        if name in ("PY_START", "PY_RESUME"):
            return lambda code, offset: record(name, code, offset, None)
        return lambda code, offset, arg: record(name, code, offset, arg)

    for name in NAMES:
        assert mon.register_callback(TOOL, ids[name], make(name)) is None

    def set_events(names):
        mask = 0
        for name in names:
            mask |= ids[name]
        mon.set_events(TOOL, mask)

    def stop():
        mon.set_events(TOOL, 0)
else:
    lib = pymonitoring_ctypes.preloaded_library()
    if MODE == "library":
        pymonitoring_ctypes.set_cpython_host(lib)
        # The module was compiled against CPython 3.13's header.
        assert lib.PyMonitoring_SetOptions(
            ctypes.c_uint32(pymonitoring_ctypes.OPT_CPYTHON_313_EVENT_IDS)) == 0

    LIB_IDS = pymonitoring_ctypes.EVENTS
    BY_ID = {v: k for k, v in LIB_IDS.items()}
    obj = pymonitoring_ctypes.object_at

    lib.PyMonitoring_GetMissing.restype = ctypes.c_void_p
    library_missing = lib.PyMonitoring_GetMissing()

    @pymonitoring_ctypes.CALLBACK
    def on_event(data, ev):
        ev = ev.contents
        name = BY_ID[ev.event]
        code = obj(ev.codelike)
        if name == "LINE":
            record(name, code, ev.lineno, None)
        elif name in ("PY_START", "PY_RESUME"):
            record(name, code, ev.offset, None)
        elif ev.arg0 == library_missing:
            # Without the hooks an exception event carries no exception object.
            log.append((name, code.co_name, ev.offset, "no exception object"))
        else:
            record(name, code, ev.offset, obj(ev.arg0))
        return 0

    assert lib.PyMonitoring_UseToolId(TOOL, b"recorder") == 0
    for name in NAMES:
        assert lib.PyMonitoring_RegisterCallback(TOOL, LIB_IDS[name], on_event, None) == 0

    def set_events(names):
        mask = 0
        for name in names:
            mask |= 1 << LIB_IDS[name]
        assert lib.PyMonitoring_SetEvents(TOOL, ctypes.c_uint32(mask)) == 0

    def stop():
        assert lib.PyMonitoring_SetEvents(TOOL, ctypes.c_uint32(0)) == 0


import events_mod as m  # noqa: E402


def caught_by_driver(f, *args):
    try:
        f(*args)
    except Exception as exc:  # noqa: BLE001
        log.append(("caught", exc_name(exc), type(exc).__name__))


set_events(NAMES)
log.append(("call", "plain", m.plain(1, 2)))
log.append(("call", "caught", m.caught(1)))
log.append(("call", "caught", m.caught(0)))
caught_by_driver(m.propagates, 5)
caught_by_driver(m.reraises, 6)
caught_by_driver(m.with_finally, 7)
log.append(("call", "loop", m.loop(3)))
log.append(("call", "counter", list(m.counter(2))))
g = m.counter(3)
log.append(("next", next(g), next(g)))
try:
    for _ in range(5):
        next(g)
except StopIteration as stop_iteration:
    log.append(("finished", stop_iteration.value))

# Thrown into: CPython's C API calls a Python callback for PY_RESUME with the thrown
# exception still set (the generator resumes with it pending), which CPython turns into
# a SystemError that replaces the thrown exception. PY_RESUME is therefore off, in both
# runs, while exceptions are thrown in.
c = m.catcher()
log.append(("next", next(c)))
set_events([n for n in NAMES if n != "PY_RESUME"])
thrown = ValueError("thrown")
exc_name(thrown)
log.append(("throw", c.throw(thrown)))
try:
    c.throw(KeyError("second"))
except KeyError as exc:
    log.append(("caught", exc_name(exc), "KeyError"))
c2 = m.catcher()
next(c2)
c2.close()
set_events(NAMES)
log.append(("call", "plain", m.plain(3, 4)))
stop()

with open(OUT, "w") as f:
    for entry in log:
        f.write(repr(entry) + "\n")
    files = sorted({file for _, file in filtered})
    f.write(repr(("filtered", len(filtered), files)) + "\n")
