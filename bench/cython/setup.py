# Builds bench/cython/workload.pyx twice (run as `setup.py build_ext --inplace`
# in a scratch directory holding it and bench/workload.py, which it includes,
# with a Python that has Cython):
# `cyworkload_traced`, with `profile=True, linetrace=True` and CYTHON_TRACE=1
# (every PY_START, LINE and PY_RETURN fired through PEP 669's C API), and
# `cyworkload_plain`, without (what a module built without tracing runs).
import shutil

from Cython.Build import cythonize
from setuptools import Extension, setup

for name in ("cyworkload_traced", "cyworkload_plain"):
    shutil.copyfile("workload.pyx", f"{name}.pyx")

setup(
    name="cyworkload",
    ext_modules=cythonize(
        [Extension("cyworkload_traced", ["cyworkload_traced.pyx"], define_macros=[("CYTHON_TRACE", "1")])],
        compiler_directives={"language_level": 3, "profile": True, "linetrace": True},
        quiet=True,
    )
    + cythonize(
        [Extension("cyworkload_plain", ["cyworkload_plain.pyx"])],
        compiler_directives={"language_level": 3},
        quiet=True,
    ),
)
