/* The hand-written end of include/pymonitoring.h: tests/header.rs splices
 * this file (without this comment) after the declarations cbindgen writes
 * from src/ffi/, inside the include guard. It is C: the header tests compile
 * it as C99, C11 and C++17 with warnings as errors. The _PYMONITORING_SITE_*
 * and _PYMONITORING_SLOT_MARK constants come from src/ffi/types.rs. */

/* The MISSING sentinel, delivered for absent object arguments. */
#define PyMonitoring_MISSING (PyMonitoring_GetMissing())

#ifdef __cplusplus
extern "C" {
#endif

/* The global version word, for the inline EnterScope fast path below: read
 * only; [0] equals PyMonitoring_GetVersion(); [1] equals [0] while no tool
 * has an event and no option is set (a refresh then only zeroes `active`),
 * else UINT64_MAX. */
extern const volatile uint64_t *const _PyMonitoring_GlobalVersion;

/* The lasting-DISABLE mode's remembered sites (docs/EXTENSIONS.md), for the
 * inline fire functions below: read only. */
typedef struct {
    uint64_t seq;      /* even: stable; odd: being written */
    uint64_t object;   /* the code-like's address */
    uint64_t key;      /* offset | (event + 1) << _PYMONITORING_SITE_EVENT_SHIFT
                        * | (1 << tool) << _PYMONITORING_SITE_TOOL_SHIFT; 0: empty */
    uint64_t reserved;
} _PyMonitoringDisabledSite;
extern const _PyMonitoringDisabledSite *const _PyMonitoring_DisabledSites;

#ifdef __cplusplus
}
#endif

#if defined(PYMONITORING_INLINE)
#include <string.h>

/* The wrappers below are forced inline where the compiler can be told so:
 * compilers otherwise keep one out-of-line copy for the call sites they
 * predict rarely run (a cold function, an error path), and an inactive fire
 * there costs a call instead of one compare and branch. The remembered-site
 * check they contain is left to the compiler (it is off the inactive path). */
#if defined(__GNUC__) || defined(__clang__)
#define _PYMONITORING_WRAPPER static inline __attribute__((always_inline))
#else
#define _PYMONITORING_WRAPPER static inline
#endif

/* CPython's inline fast path: test `active` in the caller, then call the
 * underscore entry point. Source-compatible with cpython/monitoring.h. */
#define _PYMONITORING_IF_ACTIVE(STATE, X) \
    if ((STATE)->active) { return (X); } else { return 0; }

/* A slot refreshed in the lasting-DISABLE mode (_PYMONITORING_SLOT_MARK in
 * `opaque`) whose one active tool is remembered as having DISABLEd this
 * site: the tool moves from `active` to `opaque` and 1 is returned, with no
 * call (the library's own check, done here in the caller). 0: let the
 * library decide. A read racing a write of the entry reads as 0 (seqlock),
 * never as a match. */
#if defined(__cplusplus)
#define _PYMONITORING_ADDRESS(P) reinterpret_cast<uintptr_t>(P)
#define _PYMONITORING_CAST(T, X) static_cast<T>(X)
#define _PYMONITORING_PLAIN(P) const_cast<const uint64_t *>(P)
#else
#define _PYMONITORING_ADDRESS(P) ((uintptr_t)(P))
#define _PYMONITORING_CAST(T, X) ((T)(X))
#define _PYMONITORING_PLAIN(P) ((const uint64_t *)(P))
#endif

static inline int
_PyMonitoring_SkipRemembered(PyMonitoringState *state, int event, PyObject *codelike,
                             int32_t offset)
{
    uint32_t offset_bits = _PYMONITORING_CAST(uint32_t, offset);
    uint64_t event_plus_one = _PYMONITORING_CAST(uint64_t, event + 1);
    uint64_t site = offset_bits | event_plus_one << _PYMONITORING_SITE_EVENT_SHIFT;
    uint64_t object_address = _PYMONITORING_ADDRESS(codelike);
    /* Read apart from the caller's `active` test, so that test stays one
     * compare with memory on the inactive path. */
    uint64_t tools = __atomic_load_n(&state->active, __ATOMIC_RELAXED);
    uint64_t home = ((object_address ^ site) * _PYMONITORING_SITE_HASH) >> _PYMONITORING_SITE_HASH_SHIFT;
    const _PyMonitoringDisabledSite *e = &_PyMonitoring_DisabledSites[home];
    uint64_t seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
    uint64_t object = __atomic_load_n(&e->object, __ATOMIC_RELAXED);
    uint64_t key = __atomic_load_n(&e->key, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (object != object_address || key != (site | tools << _PYMONITORING_SITE_TOOL_SHIFT)
        || __atomic_load_n(&e->seq, __ATOMIC_RELAXED) != (seq & ~UINT64_C(1))) {
        return 0;
    }
    state->opaque = _PYMONITORING_CAST(uint8_t, state->opaque | state->active);
    state->active = 0;
    return 1;
}

/* _PYMONITORING_IF_ACTIVE for the local events: a marked slot at a
 * remembered site returns 0 without a call. */
#define _PYMONITORING_IF_ACTIVE_LOCAL(STATE, EVENT, CODE, OFFSET, X) \
    if ((STATE)->active) { \
        if (((STATE)->opaque & _PYMONITORING_SLOT_MARK) \
            && _PyMonitoring_SkipRemembered((STATE), (EVENT), (CODE), (OFFSET))) { \
            return 0; \
        } \
        return (X); \
    } else { return 0; }

_PYMONITORING_WRAPPER int
PyMonitoring_FirePyStartEvent(PyMonitoringState *state, PyObject *codelike, int32_t offset)
{ _PYMONITORING_IF_ACTIVE_LOCAL(state, PY_MONITORING_EVENT_PY_START, codelike, offset, _PyMonitoring_FirePyStartEvent(state, codelike, offset)); }

_PYMONITORING_WRAPPER int
PyMonitoring_FirePyResumeEvent(PyMonitoringState *state, PyObject *codelike, int32_t offset)
{ _PYMONITORING_IF_ACTIVE_LOCAL(state, PY_MONITORING_EVENT_PY_RESUME, codelike, offset, _PyMonitoring_FirePyResumeEvent(state, codelike, offset)); }

_PYMONITORING_WRAPPER int
PyMonitoring_FirePyReturnEvent(PyMonitoringState *state, PyObject *codelike, int32_t offset,
                               PyObject *retval)
{ _PYMONITORING_IF_ACTIVE_LOCAL(state, PY_MONITORING_EVENT_PY_RETURN, codelike, offset, _PyMonitoring_FirePyReturnEvent(state, codelike, offset, retval)); }

_PYMONITORING_WRAPPER int
PyMonitoring_FirePyYieldEvent(PyMonitoringState *state, PyObject *codelike, int32_t offset,
                              PyObject *retval)
{ _PYMONITORING_IF_ACTIVE_LOCAL(state, PY_MONITORING_EVENT_PY_YIELD, codelike, offset, _PyMonitoring_FirePyYieldEvent(state, codelike, offset, retval)); }

_PYMONITORING_WRAPPER int
PyMonitoring_FireCallEvent(PyMonitoringState *state, PyObject *codelike, int32_t offset,
                           PyObject *callable, PyObject *arg0)
{ _PYMONITORING_IF_ACTIVE_LOCAL(state, PY_MONITORING_EVENT_CALL, codelike, offset, _PyMonitoring_FireCallEvent(state, codelike, offset, callable, arg0)); }

_PYMONITORING_WRAPPER int
PyMonitoring_FireLineEvent(PyMonitoringState *state, PyObject *codelike, int32_t offset,
                           int lineno)
{ _PYMONITORING_IF_ACTIVE_LOCAL(state, PY_MONITORING_EVENT_LINE, codelike, offset, _PyMonitoring_FireLineEvent(state, codelike, offset, lineno)); }

_PYMONITORING_WRAPPER int
PyMonitoring_FireJumpEvent(PyMonitoringState *state, PyObject *codelike, int32_t offset,
                           PyObject *target_offset)
{ _PYMONITORING_IF_ACTIVE_LOCAL(state, PY_MONITORING_EVENT_JUMP, codelike, offset, _PyMonitoring_FireJumpEvent(state, codelike, offset, target_offset)); }

_PYMONITORING_WRAPPER int
PyMonitoring_FireBranchLeftEvent(PyMonitoringState *state, PyObject *codelike, int32_t offset,
                                 PyObject *target_offset)
{ _PYMONITORING_IF_ACTIVE_LOCAL(state, PY_MONITORING_EVENT_BRANCH_LEFT, codelike, offset, _PyMonitoring_FireBranchLeftEvent(state, codelike, offset, target_offset)); }

_PYMONITORING_WRAPPER int
PyMonitoring_FireBranchRightEvent(PyMonitoringState *state, PyObject *codelike, int32_t offset,
                                  PyObject *target_offset)
{ _PYMONITORING_IF_ACTIVE_LOCAL(state, PY_MONITORING_EVENT_BRANCH_RIGHT, codelike, offset, _PyMonitoring_FireBranchRightEvent(state, codelike, offset, target_offset)); }

_PYMONITORING_WRAPPER int
PyMonitoring_FireCReturnEvent(PyMonitoringState *state, PyObject *codelike, int32_t offset,
                              PyObject *retval)
{ _PYMONITORING_IF_ACTIVE(state, _PyMonitoring_FireCReturnEvent(state, codelike, offset, retval)); }

_PYMONITORING_WRAPPER int
PyMonitoring_FirePyThrowEvent(PyMonitoringState *state, PyObject *codelike, int32_t offset)
{ _PYMONITORING_IF_ACTIVE(state, _PyMonitoring_FirePyThrowEvent(state, codelike, offset)); }

_PYMONITORING_WRAPPER int
PyMonitoring_FireRaiseEvent(PyMonitoringState *state, PyObject *codelike, int32_t offset)
{ _PYMONITORING_IF_ACTIVE(state, _PyMonitoring_FireRaiseEvent(state, codelike, offset)); }

_PYMONITORING_WRAPPER int
PyMonitoring_FireReraiseEvent(PyMonitoringState *state, PyObject *codelike, int32_t offset)
{ _PYMONITORING_IF_ACTIVE(state, _PyMonitoring_FireReraiseEvent(state, codelike, offset)); }

_PYMONITORING_WRAPPER int
PyMonitoring_FireExceptionHandledEvent(PyMonitoringState *state, PyObject *codelike, int32_t offset)
{ _PYMONITORING_IF_ACTIVE(state, _PyMonitoring_FireExceptionHandledEvent(state, codelike, offset)); }

_PYMONITORING_WRAPPER int
PyMonitoring_FireCRaiseEvent(PyMonitoringState *state, PyObject *codelike, int32_t offset)
{ _PYMONITORING_IF_ACTIVE(state, _PyMonitoring_FireCRaiseEvent(state, codelike, offset)); }

_PYMONITORING_WRAPPER int
PyMonitoring_FirePyUnwindEvent(PyMonitoringState *state, PyObject *codelike, int32_t offset)
{ _PYMONITORING_IF_ACTIVE(state, _PyMonitoring_FirePyUnwindEvent(state, codelike, offset)); }

_PYMONITORING_WRAPPER int
PyMonitoring_FireStopIterationEvent(PyMonitoringState *state, PyObject *codelike, int32_t offset,
                                    PyObject *value)
{ _PYMONITORING_IF_ACTIVE_LOCAL(state, PY_MONITORING_EVENT_STOP_ITERATION, codelike, offset, _PyMonitoring_FireStopIterationEvent(state, codelike, offset, value)); }

/* The library's refresh while no tool has an event and no option is set,
 * for 4-8 slots (a Cython function has 7): when every id is valid (below
 * PY_MONITORING_EVENTS), each `active` is zeroed (`opaque` kept) and 1
 * returned; else 0 and nothing is written. Two overlapping words of ids
 * and of states; for a constant array of ids the compiler folds the check. */
static inline int
_PyMonitoring_RefreshIdle(PyMonitoringState *state_array, const uint8_t *event_types,
                          Py_ssize_t length)
{
    const uint32_t add = _PYMONITORING_CAST(uint32_t, 128 - PY_MONITORING_EVENTS) * 0x01010101u;
    const unsigned char keep_bytes[8] = {0, 0xff, 0, 0xff, 0, 0xff, 0, 0xff};
    uint32_t first, last;
    uint64_t keep, word;
    memcpy(&first, event_types, 4);
    memcpy(&last, event_types + length - 4, 4);
    if (((first + add) | first | (last + add) | last) & 0x80808080u) {
        return 0;
    }
    memcpy(&keep, keep_bytes, 8);
    memcpy(&word, state_array, 8);
    word &= keep;
    memcpy(state_array, &word, 8);
    memcpy(&word, state_array + length - 4, 8);
    word &= keep;
    memcpy(state_array + length - 4, &word, 8);
    return 1;
}

/* EnterScope's fast path in the caller: the same validation, then one
 * compare with the global version, and for 4-8 slots while the registry is
 * idle the library's idle refresh (above). Anything else goes to the
 * library. */
_PYMONITORING_WRAPPER int
PyMonitoring_EnterScope(PyMonitoringState *state_array, uint64_t *version,
                        const uint8_t *event_types, Py_ssize_t length)
{
    if (version != NULL && length >= 0
        && (length == 0 || (state_array != NULL && event_types != NULL))) {
        uint64_t current = _PyMonitoring_GlobalVersion[0];
        if (*version == current) {
            return 0;
        }
        /* A plain read, folded into the compare: the word only ever names
         * a version at which the registry was idle, so even a stale value
         * that equals `current` is right. */
        if (length >= 4 && length <= 8
            && _PYMONITORING_PLAIN(_PyMonitoring_GlobalVersion)[1] == current
            && _PyMonitoring_RefreshIdle(state_array, event_types, length)) {
            *version = current;
            return 0;
        }
    }
    return _PyMonitoring_EnterScope(state_array, version, event_types, length);
}

/* Scopes keep no stack: exiting one does nothing. */
_PYMONITORING_WRAPPER int
PyMonitoring_ExitScope(void)
{
    return 0;
}

#undef _PYMONITORING_WRAPPER
#undef _PYMONITORING_IF_ACTIVE
#undef _PYMONITORING_IF_ACTIVE_LOCAL
#undef _PYMONITORING_ADDRESS
#undef _PYMONITORING_CAST
#undef _PYMONITORING_PLAIN
#endif /* PYMONITORING_INLINE */
