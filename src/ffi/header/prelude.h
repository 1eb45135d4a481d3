/* The hand-written top of include/pymonitoring.h: tests/header.rs splices
 * this file (without this comment) after the header's #includes and the
 * version macros it writes from Cargo.toml. */

/* Host objects are opaque; `struct _object` is CPython's PyObject, so this
 * header and Python.h agree on the type. */
typedef struct _object PyObject;
#ifndef Py_PYPORT_H
typedef intptr_t Py_ssize_t;
#endif
