"""libpymonitoring's C types for ctypes, and CPython as the library's host.

The scripts that drive the library from CPython 3.13 share it
(tests/ctypes/fire_every_event.py, tests/cython_host/driver.py,
bench/cython/driver.py): the event ids and structs of include/pymonitoring.h
as ctypes types, and, for a Cython module run against the library preloaded,
the check that its PyMonitoring_* symbols bind to the library and the host
hooks of docs/HOSTS.md made of CPython's own exception functions.
"""

import ctypes
import os
import sys


# The library's event ids (CPython 3.14's numbering).
EVENTS = {
    "PY_START": 0, "PY_RESUME": 1, "PY_RETURN": 2, "PY_YIELD": 3, "CALL": 4,
    "LINE": 5, "JUMP": 7, "BRANCH_LEFT": 8, "BRANCH_RIGHT": 9,
    "STOP_ITERATION": 10, "RAISE": 11, "EXCEPTION_HANDLED": 12, "PY_UNWIND": 13,
    "PY_THROW": 14, "RERAISE": 15, "C_RETURN": 16, "C_RAISE": 17,
}


class State(ctypes.Structure):  # PyMonitoringState
    _fields_ = [("active", ctypes.c_uint8), ("opaque", ctypes.c_uint8)]


class Host(ctypes.Structure):  # PyMonitoringHost
    _fields_ = [
        ("version", ctypes.c_uint32),
        ("get_raised_exception", ctypes.c_void_p),
        ("set_raised_exception", ctypes.c_void_p),
        ("set_string", ctypes.c_void_p),
        ("value_error", ctypes.py_object),
        ("runtime_error", ctypes.py_object),
        ("missing", ctypes.py_object),
    ]


class Event(ctypes.Structure):  # PyMonitoringEvent
    _fields_ = [
        ("event", ctypes.c_int32),
        ("tool_id", ctypes.c_int32),
        ("codelike", ctypes.c_void_p),
        ("offset", ctypes.c_int32),
        ("lineno", ctypes.c_int32),
        ("arg0", ctypes.c_void_p),
        ("arg1", ctypes.c_void_p),
    ]


# PyMonitoringCallback
CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(Event))

# PY_MONITORING_HOST_VERSION, PY_MONITORING_OPT_LASTING_DISABLE,
# PY_MONITORING_OPT_CPYTHON_313_EVENT_IDS, PY_MONITORING_DISABLE.
HOST_VERSION = 1
OPT_LASTING_DISABLE = 1
OPT_CPYTHON_313_EVENT_IDS = 4
DISABLE = 1

# Kept for the rest of the process: the library copies the struct, but the
# functions and objects it names must stay valid (docs/HOSTS.md).
_host = None


def preloaded_library():
    """The library PYMONITORING_LIB names, after checking that the global
    scope binds the PyMonitoring_* symbols to it (LD_PRELOAD puts it before
    libpython)."""
    lib = ctypes.PyDLL(os.environ["PYMONITORING_LIB"])
    glob = ctypes.PyDLL(None)
    libpython = ctypes.PyDLL("libpython3.13.so.1.0")
    for sym in ("PyMonitoring_EnterScope", "_PyMonitoring_FireRaiseEvent"):
        bound = ctypes.cast(getattr(glob, sym), ctypes.c_void_p).value
        ours = ctypes.cast(getattr(lib, sym), ctypes.c_void_p).value
        theirs = ctypes.cast(getattr(libpython, sym), ctypes.c_void_p).value
        assert bound == ours != theirs, \
            f"{sym} binds to {bound:#x}, not the preloaded library ({ours:#x}): LD_PRELOAD it"
    return lib


def set_cpython_host(lib):
    """PyMonitoring_SetHost with CPython's exception functions and objects."""
    global _host

    def fn(name):
        return ctypes.cast(getattr(ctypes.pythonapi, name), ctypes.c_void_p).value

    _host = Host(HOST_VERSION, fn("PyErr_GetRaisedException"), fn("PyErr_SetRaisedException"),
                 fn("PyErr_SetString"), ValueError, RuntimeError, sys.monitoring.MISSING)
    assert lib.PyMonitoring_SetHost(ctypes.byref(_host)) == 0


def object_at(address):
    """The Python object at an address a callback received (a code-like,
    an argument)."""
    return ctypes.cast(ctypes.c_void_p(address), ctypes.py_object).value
