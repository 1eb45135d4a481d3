# cython: profile=True, linetrace=True, language_level=3
# The Cython module of tests/cython_host.rs: built against CPython 3.13's
# headers with CYTHON_TRACE=1, so every function reports through the PEP 669
# C API (PyMonitoring_EnterScope and the _PyMonitoring_Fire*Event entry points).


def plain(a, b):
    c = a + b
    return c


def caught(x):
    try:
        if x:
            raise ValueError(x)
    except ValueError:
        x = 0
    return x + 2


def propagates(x):
    y = x + 1
    raise KeyError(y)


def reraises(x):
    try:
        propagates(x)
    except KeyError:
        raise


def with_finally(x):
    try:
        propagates(x)
    finally:
        x = 0


def counter(n):
    i = 0
    while i < n:
        yield i
        i += 1
    return "done"


def catcher():
    try:
        yield 1
    except ValueError:
        yield 2
    yield 3


def loop(n):
    total = 0
    for i in range(n):
        total += i
    return total
