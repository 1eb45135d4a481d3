"""Drive capibench (CPython's own PEP 669 C API) through the cases of cbench.c.

Usage: python3.13 capibench_driver.py N [CASE...]
Prints "case ns_per_iteration" per case, in cbench's order; cases whose
callback is a Python function instead of the C METH_FASTCALL builtin are named
"<case>:py". Checks that every loop ran exactly the expected callbacks.
"""

import sys

import capibench

M = sys.monitoring
E = M.events
N = int(sys.argv[1])
ONLY = set(sys.argv[2:])


def code():
    return None


CODE = code.__code__


def eid(flag):
    """sys.monitoring.events are bit flags; the C API takes the bit index."""
    return flag.bit_length() - 1


def wanted(name):
    return not ONLY or name in ONLY


def emit(name, res, expect_calls=None, n=None):
    ns, calls = res
    if expect_calls is not None and calls != expect_calls:
        raise SystemExit(f"{name}: {calls} callbacks in the loop, expected {expect_calls}")
    print(f"{name} {ns:.3f} {n or N}", flush=True)


def clear():
    # 3.13's free_tool_id leaves the tool's events and callbacks in place:
    # remove them first.
    for t in range(6):
        if M.get_tool(t) is not None:
            M.set_events(t, 0)
            for ev in (E.PY_START, E.LINE, E.RAISE):
                M.register_callback(t, ev, None)
            M.free_tool_id(t)
    M.restart_events()


def tool(t, event, cb):
    M.use_tool_id(t, f"bench{t}")
    M.register_callback(t, event, cb)
    M.set_events(t, event)


def main():
    # First, before any tool sets events.
    if wanted("cython_never"):
        hit = capibench.version_is_zero()
        name = "cython_never" if hit else "cython_never(refreshing)"
        emit(name, capibench.cython("cython_never", N, CODE))
    if wanted("empty_loop"):
        emit("empty_loop", capibench.empty("empty_loop", N))
    if wanted("fire_inactive"):
        emit("fire_inactive", capibench.inactive("fire_inactive", N, CODE))

    M.use_tool_id(4, "other")
    M.set_events(4, E.LINE)
    if wanted("cython_other"):
        emit("cython_other", capibench.cython("cython_other", N, CODE))
    for length in (1, 7, 17, 64):
        for force, kind in ((False, "unchanged"), (True, "refresh")):
            name = f"enter_{kind}_{length}"
            if wanted(name):
                emit(name, capibench.enter(name, N, length, force))
    clear()

    for tools in range(1, 7):
        for kind, cb in (("c", capibench.cb_none), ("py", lambda code, off: None)):
            name = f"pystart_{tools}tool_c"
            label = name if kind == "c" else name + ":py"
            if not wanted(name) or (kind == "py" and tools not in (1, 6)):
                continue
            clear()
            for t in range(tools):
                tool(5 - t, E.PY_START, cb)
            expect = tools * N if kind == "c" else None
            emit(label, capibench.fire(label, N, CODE, eid(E.PY_START)), expect)
            clear()

    for name, event, pycb in (
        ("line_1tool_c", E.LINE, lambda code, line: None),
        ("raise_1tool_c", E.RAISE, lambda code, off, exc: None),
    ):
        if not wanted(name):
            continue
        for kind, cb in (("c", capibench.cb_none), ("py", pycb)):
            clear()
            tool(2, event, cb)
            label = name if kind == "c" else name + ":py"
            res = capibench.fire(label, N, CODE, eid(event))
            clear()
            emit(label, res, N if kind == "c" else None)

    if wanted("disable_refresh_1"):

        def py_disable(code, off):
            return DISABLE

        for kind, cb in (("c", capibench.cb_disable), ("py", py_disable)):
            clear()
            tool(2, E.PY_START, cb)
            label = "disable_refresh_1" if kind == "c" else "disable_refresh_1:py"
            res = capibench.disable(label, N, CODE)
            clear()
            emit(label, res, N if kind == "c" else None)

    if wanted("set_events"):
        clear()
        M.use_tool_id(3, "bench")
        emit("set_events", capibench.call2("set_events", N // 100 + 1, M.set_events,
                                           (3, E.PY_START), (3, E.PY_RETURN)), n=N // 100 + 1)
        clear()
    if wanted("register_callback"):
        clear()
        M.use_tool_id(3, "bench")
        emit("register_callback",
             capibench.call2("register_callback", N // 100 + 1, M.register_callback,
                             (3, E.PY_START, capibench.cb_none),
                             (3, E.PY_START, capibench.cb_disable)), n=N // 100 + 1)
        clear()


DISABLE = M.DISABLE
main()
