# Builds the modules of tests/cython_host.rs (run as `setup.py build_ext --inplace`
# from the build directory, with the venv of CPython 3.13.0): events_mod, the Cython
# module under test, and hostmon, the host's sys.monitoring forwarding into the
# library (its header's directory in PYMONITORING_INCLUDE; its PyMonitoring_* symbols
# bind to the preloaded library at run time).
import os

from setuptools import Extension, setup
from Cython.Build import cythonize

setup(
    name="cython_host",
    ext_modules=cythonize(
        [Extension("events_mod", ["events_mod.pyx"], define_macros=[("CYTHON_TRACE", "1")])],
        quiet=True,
    )
    + [
        Extension(
            "hostmon",
            ["hostmon.c"],
            include_dirs=[os.environ["PYMONITORING_INCLUDE"]],
            extra_compile_args=["-std=c11", "-Wall", "-Wextra", "-Werror"],
        )
    ],
)
