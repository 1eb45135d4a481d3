# Builds events_mod for tests/cython_host.rs (run as `setup.py build_ext --inplace`
# from the build directory, with the venv of CPython 3.13.0).
from setuptools import Extension, setup
from Cython.Build import cythonize

setup(
    name="events_mod",
    ext_modules=cythonize(
        [Extension("events_mod", ["events_mod.pyx"], define_macros=[("CYTHON_TRACE", "1")])],
        quiet=True,
    ),
)
