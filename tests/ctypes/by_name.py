"""Load tests/ctypes/by_name.c's shared object into CPython with ctypes and
print which library its calls by name reach, and what a fire by name
delivers: "LIBRARY CALLBACKS".

Usage: python3 by_name.py SHARED_OBJECT [RTLD_DEEPBIND | LIBRARY]
(LIBRARY: libpymonitoring.so, loaded first with RTLD_GLOBAL)
"""

import ctypes
import faulthandler
import os
import sys

faulthandler.enable()  # a crash names the Python line
mode = ctypes.RTLD_LOCAL
if sys.argv[2:] == ["RTLD_DEEPBIND"]:
    mode |= os.RTLD_DEEPBIND
elif sys.argv[2:]:
    ctypes.CDLL(sys.argv[2], mode=ctypes.RTLD_GLOBAL)
# PyDLL keeps the GIL held, which CPython's own functions need when they are
# the ones called; with RTLD_DEEPBIND they are not, and CDLL is the README's form.
loader = ctypes.CDLL if mode & os.RTLD_DEEPBIND else ctypes.PyDLL
obj = loader(sys.argv[1], mode=mode)
obj.enter_scope_library.restype = ctypes.c_char_p
print(obj.enter_scope_library().decode(), obj.fire_by_name())
