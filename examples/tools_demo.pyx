# The Python that tools_demo.c runs by hand, the way Cython-generated C does.

def fact(n):
    if n <= 1:
        return 1
    return n * fact(n - 1)


def countdown(n):
    while n > 0:
        yield n
        n -= 1
    return "done"


def safe_div(a, b):
    try:
        return a // b
    except ZeroDivisionError:
        return 0


def must_be_positive(x):
    if x < 0:
        raise ValueError(x)
    return x


def main():
    fact(4)
    list(countdown(3))
    safe_div(1, 0)
    try:
        must_be_positive(-1)
    except ValueError:
        pass
    return 0
