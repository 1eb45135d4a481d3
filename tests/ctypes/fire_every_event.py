"""Load libpymonitoring.so into CPython with ctypes and fire every event.

Usage: python3 fire_every_event.py LIBRARY CDLL|PyDLL RTLD_LOCAL|RTLD_GLOBAL

Run by tests/cpython_ctypes.rs, one process per loader combination. A ctypes
callback is registered for every event; every event is fired through the
plain PyMonitoring_Fire*Event function and through the underscore
_PyMonitoring_Fire*Event entry point (and the legacy _PyMonitoring_FireBranchEvent),
each with its own code-like, offset and arguments. The tool must receive
every fire, in order, with the fields documented for PyMonitoringEvent.
Prints one summary line and exits 0, or exits 1 naming the first mismatch.
"""

import ctypes
import faulthandler
import sys

from pymonitoring_ctypes import CALLBACK, EVENTS, State  # the header's types

faulthandler.enable()  # a crash names the Python line
path, loader_name, mode_name = sys.argv[1:4]
loader = {"CDLL": ctypes.CDLL, "PyDLL": ctypes.PyDLL}[loader_name]
mode = {"RTLD_LOCAL": ctypes.RTLD_LOCAL, "RTLD_GLOBAL": ctypes.RTLD_GLOBAL}[mode_name]
lib = loader(path, mode=mode)

TOOL = 3
P = ctypes.c_void_p
STATE = ctypes.POINTER(State)

# (event, extra arguments after state, codelike, offset; what arg0/arg1/lineno
# receive: "obj0"/"obj1" are the first/second object argument, "exc" the
# current exception, "line" the int argument).
FIRES = [
    ("PyStart", "PY_START", [], {}),
    ("PyResume", "PY_RESUME", [], {}),
    ("PyReturn", "PY_RETURN", [P], {"arg0": "obj0"}),
    ("PyYield", "PY_YIELD", [P], {"arg0": "obj0"}),
    ("Call", "CALL", [P, P], {"arg0": "obj0", "arg1": "obj1"}),
    ("Line", "LINE", [ctypes.c_int], {"lineno": "line"}),
    ("Jump", "JUMP", [P], {"arg0": "obj0"}),
    ("BranchLeft", "BRANCH_LEFT", [P], {"arg0": "obj0"}),
    ("BranchRight", "BRANCH_RIGHT", [P], {"arg0": "obj0"}),
    ("CReturn", "C_RETURN", [P], {"arg0": "obj0"}),
    ("StopIteration", "STOP_ITERATION", [P], {"arg0": "obj0"}),
    ("PyThrow", "PY_THROW", [], {"arg0": "exc"}),
    ("Raise", "RAISE", [], {"arg0": "exc"}),
    ("Reraise", "RERAISE", [], {"arg0": "exc"}),
    ("ExceptionHandled", "EXCEPTION_HANDLED", [], {"arg0": "exc"}),
    ("CRaise", "C_RAISE", [], {"arg0": "exc"}),
    ("PyUnwind", "PY_UNWIND", [], {"arg0": "exc"}),
]


def fail(message):
    print(f"{loader_name} {mode_name}: {message}")
    sys.exit(1)


def check(what, rc):
    if rc != 0:
        lib.PyMonitoring_ErrMessage.restype = ctypes.c_char_p
        fail(f"{what} returned {rc}: {lib.PyMonitoring_ErrMessage()}")


lib.PyMonitoring_GetMissing.restype = P
MISSING = lib.PyMonitoring_GetMissing()
lib.PyMonitoring_UseToolId.argtypes = [ctypes.c_int, ctypes.c_char_p]
lib.PyMonitoring_RegisterCallback.argtypes = [ctypes.c_int, ctypes.c_int, CALLBACK, P]
lib.PyMonitoring_SetEvents.argtypes = [ctypes.c_int, ctypes.c_uint32]
lib.PyMonitoring_EnterScope.argtypes = [
    STATE, ctypes.POINTER(ctypes.c_uint64), ctypes.POINTER(ctypes.c_uint8), ctypes.c_ssize_t]
lib.PyMonitoring_SetRaisedException.argtypes = [P]
lib.PyMonitoring_SetRaisedException.restype = None
lib.PyMonitoring_GetRaisedException.restype = P

received = []


@CALLBACK
def on_event(data, ev):
    e = ev.contents
    received.append((e.event, e.tool_id, e.codelike, e.offset, e.lineno, e.arg0, e.arg1, data))
    return 0


DATA = 0xDA7A
check("UseToolId", lib.PyMonitoring_UseToolId(TOOL, b"ctypes-tool"))
mask = 0
for event in EVENTS.values():
    check("RegisterCallback", lib.PyMonitoring_RegisterCallback(TOOL, event, on_event, DATA))
    mask |= 1 << event
check("SetEvents", lib.PyMonitoring_SetEvents(TOOL, mask))

# One scope: slot i for FIRES[i]'s event.
states = (State * len(FIRES))()
version = ctypes.c_uint64(0)
event_types = (ctypes.c_uint8 * len(FIRES))(*(EVENTS[name] for _, name, _, _ in FIRES))
check("EnterScope", lib.PyMonitoring_EnterScope(states, ctypes.byref(version), event_types, len(FIRES)))
for i, s in enumerate(states):
    if s.active != 1 << TOOL:
        fail(f"slot {i} ({FIRES[i][1]}) has active={s.active}, expected {1 << TOOL}")

expected = []
serial = 0


def fire(function_name, slot, event_name, extra, fields):
    """Fire once through `function_name`, with arguments unique to this fire."""
    global serial
    serial += 1
    codelike = 0x10000 + 0x100 * serial  # any stable address: never dereferenced
    offset = 2 * serial
    objects = [0x900000 + 0x10 * serial + k for k in range(2)]
    line = 1000 + serial
    exc = 0xE0000 + 0x10 * serial
    args, o = [], 0
    for t in extra:
        if t is P:
            args.append(P(objects[o]))
            o += 1
        else:
            args.append(line)
    function = getattr(lib, function_name)
    function.argtypes = [STATE, P, ctypes.c_int32] + extra
    function.restype = ctypes.c_int
    takes_exception = fields.get("arg0") == "exc"
    if takes_exception:
        lib.PyMonitoring_SetRaisedException(exc)
    check(function_name, function(ctypes.byref(states[slot]), codelike, offset, *args))
    if takes_exception and lib.PyMonitoring_GetRaisedException() != exc:
        fail(f"{function_name}: the current exception is not current again")
    value = {"obj0": objects[0], "obj1": objects[1], "exc": exc, "line": line}
    expected.append((
        EVENTS[event_name], TOOL, codelike, offset,
        value[fields["lineno"]] if "lineno" in fields else -1,
        value[fields["arg0"]] if "arg0" in fields else MISSING,
        value[fields["arg1"]] if "arg1" in fields else MISSING,
        DATA,
    ))


for prefix in ["PyMonitoring_Fire", "_PyMonitoring_Fire"]:
    for slot, (name, event_name, extra, fields) in enumerate(FIRES):
        fire(f"{prefix}{name}Event", slot, event_name, extra, fields)
# The deprecated BRANCH entry point delivers BRANCH_RIGHT.
fire("_PyMonitoring_FireBranchEvent", 8, "BRANCH_RIGHT", [P], {"arg0": "obj0"})

if len(received) != len(expected):
    fail(f"received {len(received)} events, expected {len(expected)}: {received}")
for i, (got, want) in enumerate(zip(received, expected)):
    if got != want:
        fail(f"event {i}: received {got}, expected {want}")
print(f"{loader_name} {mode_name}: {len(received)} of {len(expected)} events received in order")
