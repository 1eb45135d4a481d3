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

/* The refresh route byte, for the inline EnterScope below: read only, after
 * the version. Its _PYMONITORING_ROUTE_GATE bit clear: a refresh gives every
 * slot the mask of its id (the masks are bytes from _PYMONITORING_SCOPE_MASKS
 * on, counted from _PyMonitoring_GlobalVersion's address); with
 * _PYMONITORING_ROUTE_MARKED too, `opaque` becomes _PYMONITORING_SLOT_MARK;
 * the gate alone: the library's refresh. */
extern const volatile uint8_t *const _PyMonitoring_RefreshRoute;

/* The count of threads whose error indicator holds a host exception (forced
 * non-zero for good once a host is installed), for the inline
 * PyMonitoring_GetRaisedException below: read only; while it reads 0 the
 * calling thread holds none (docs/CONCURRENCY.md). The pointer is declared
 * volatile so that it is loaded at each test, not kept in a register across
 * the caller (measured: two instructions more per call of a Cython-style
 * function that kept it). */
extern const volatile uint64_t *const volatile _PyMonitoring_RaisedExceptions;

/* The lasting-DISABLE mode's remembered sites (docs/EXTENSIONS.md), for the
 * inline fire functions below: read only. Entry i is keys[i] and objects[i]
 * (two arrays of words: an index addresses either, scaled by 8). */
typedef struct {
    uint64_t done;     /* forgets finished */
    uint64_t begun;    /* forgets begun */
    uint64_t stamp;    /* done << _PYMONITORING_CACHE_STAMP_SHIFT, saturated at
                        * all ones (stored after done) */
    /* 1 << tool | event << _PYMONITORING_SITE_EVENT_SHIFT
     * | offset << _PYMONITORING_SITE_OFFSET_SHIFT
     * | (line + 1) << _PYMONITORING_SITE_LINE_SHIFT (LINE; the other events
     * without the line, the offset's 32 bits); 0: empty */
    uint64_t keys[PY_MONITORING_DISABLED_SITES];
    uint64_t objects[PY_MONITORING_DISABLED_SITES]; /* the code-likes' addresses */
} _PyMonitoringDisabledSites;
extern const _PyMonitoringDisabledSites *const _PyMonitoring_DisabledSites;

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

#if defined(__cplusplus)
#define _PYMONITORING_ADDRESS(P) reinterpret_cast<uintptr_t>(P)
#define _PYMONITORING_CAST(T, X) static_cast<T>(X)
#define _PYMONITORING_PLAIN(P) const_cast<const uint64_t *>(P)
#define _PYMONITORING_BYTES(P) reinterpret_cast<const volatile uint8_t *>(P)
#define _PYMONITORING_PLAIN_BYTES(P) reinterpret_cast<const uint8_t *>(const_cast<const uint64_t *>(P))
#else
#define _PYMONITORING_ADDRESS(P) ((uintptr_t)(P))
#define _PYMONITORING_CAST(T, X) ((T)(X))
#define _PYMONITORING_PLAIN(P) ((const uint64_t *)(P))
#define _PYMONITORING_BYTES(P) ((const volatile uint8_t *)(P))
#define _PYMONITORING_PLAIN_BYTES(P) ((const uint8_t *)(P))
#endif

/* A call site's cache (the fire macros below give each expansion its own):
 * [0] is 0 or the code-like it was claimed for (once, by a CAS; changed
 * only to mark the cache shared, below), [1] a claim "the site is remembered as DISABLEd for exactly the
 * tools `active`, at stamp S": active | _PYMONITORING_CACHE_SITE(offset,
 * line + 1) | S. S is the `done` of the
 * table read that found the site (consistent: `begun` equal to it), and a
 * forget that rewrites the table moves the table's `stamp` before it
 * returns, so a claim made before a forget never matches the stamp a fire
 * reads after it. The stamp saturates at a value no claim holds (claims are
 * written only below it): from there on every fire asks the table. A
 * cache found shared (the macro expanded in a helper inlined at several
 * sites with constants: a claim for another code-like, or for another
 * site at the same stamp) takes _PYMONITORING_CACHE_SHARED
 * and its own address as owner for good, and its fires ask the table
 * without claiming. Written after
 * the table found the site, out of line (reached with a tail call, so a
 * function that only fires needs no frame): at most once per cache and
 * forget (and thread racing the first claim). Returns 0, the fire's
 * result. */
/* A claim's site part: one-to-one for offsets and lines plus one below
 * 1 << _PYMONITORING_CACHE_FIELD_BITS, and below 2^31 (an `or` with a
 * 32-bit immediate) for a constant offset below 512 and line below 16383. */
#define _PYMONITORING_CACHE_SITE(OFFSET_BITS, LINE_BITS) \
    ((OFFSET_BITS) << _PYMONITORING_CACHE_OFFSET_SHIFT ^ (LINE_BITS) << _PYMONITORING_CACHE_LINE_SHIFT \
     ^ ((OFFSET_BITS) >> _PYMONITORING_CACHE_OFFSET_LOW_BITS) << _PYMONITORING_CACHE_OFFSET_HIGH_SHIFT)
/* A shared cache's claim word: no `active` (a fire's word always has one),
 * and a saturated stamp (no claim replaces it). */
#define _PYMONITORING_CACHE_SHARED (UINT64_MAX << _PYMONITORING_CACHE_STAMP_SHIFT)
/* A claim's site part (between `active` and the stamp). */
#define _PYMONITORING_CACHE_SITE_BITS \
    ((UINT64_C(1) << _PYMONITORING_CACHE_STAMP_SHIFT) - (UINT64_C(1) << _PYMONITORING_CACHE_OFFSET_SHIFT))
#if defined(__GNUC__) || defined(__clang__)
#define _PYMONITORING_COLD static __attribute__((noinline, cold, unused))
/* A cache's claim, once its owner matched, usually holds (the site is
 * DISABLEd): the skip falls through (measured: one jump less). */
#define _PYMONITORING_LIKELY(X) __builtin_expect(!!(X), 1)
#else
#define _PYMONITORING_COLD static
#define _PYMONITORING_LIKELY(X) (X)
#endif
_PYMONITORING_COLD int
_PyMonitoring_SiteClaim(uint64_t *cache, PyObject *codelike, uint64_t claim)
{
    uint64_t object_address = _PYMONITORING_ADDRESS(codelike);
    uint64_t owner = __atomic_load_n(&cache[0], __ATOMIC_RELAXED);
    uint64_t word;
    if (owner == 0
        && __atomic_compare_exchange_n(&cache[0], &owner, object_address, 0, __ATOMIC_RELAXED,
                                       __ATOMIC_RELAXED)) {
        owner = object_address;
    }
    word = __atomic_load_n(&cache[1], __ATOMIC_RELAXED);
    /* A claim already made at this `done` or later stays, unless it is
     * another site's. */
    if (owner == object_address
        && (word == 0
            || (word >> _PYMONITORING_CACHE_STAMP_SHIFT) < (claim >> _PYMONITORING_CACHE_STAMP_SHIFT))) {
        __atomic_store_n(&cache[1], claim, __ATOMIC_RELAXED);
    } else if (owner != object_address || ((word ^ claim) & _PYMONITORING_CACHE_SITE_BITS)) {
        /* Shared: the claim word first (it matches no fire), then the owner
         * (the cache's own address, which no caller can name: every
         * fire's owner compare fails at once). */
        __atomic_store_n(&cache[1], _PYMONITORING_CACHE_SHARED, __ATOMIC_RELAXED);
        __atomic_store_n(&cache[0], _PYMONITORING_ADDRESS(cache), __ATOMIC_RELEASE);
    }
    /* 0 (the table never holds a NULL code-like), in a form compilers do
     * not fold into the callers, which then keep their tail call here. */
    return object_address == 0;
}

/* On x86-64 with gcc and clang (and a site cache), the words the check
 * compares with a value (the cache's two words, the home entry's key) are
 * read by the compare itself: `cmp` with a memory operand, in inline asm
 * (`asm goto`), one aligned 8-byte read, as a relaxed atomic load is (a
 * relaxed or volatile load is never folded into a compare by gcc or
 * clang: measured, one `mov` each). The asm is volatile (never hoisted
 * out of a loop or merged: every fire reads the words anew). Elsewhere the
 * portable __atomic loads below (also with _PYMONITORING_SITE_PORTABLE
 * defined: the tests run them so on x86-64). */
#if !defined(PYMONITORING_NO_SITE_CACHE) && !defined(_PYMONITORING_SITE_PORTABLE) && defined(__x86_64__)
#if defined(__clang__)
#if __clang_major__ >= 9
#define _PYMONITORING_SITE_ASM 1
#endif
#elif defined(__GNUC__)
#if __GNUC__ >= 5
#define _PYMONITORING_SITE_ASM 1
#endif
#endif
#endif
#if defined(_PYMONITORING_SITE_ASM)
/* Jumps to LABEL unless the word at P equals V. */
#define _PYMONITORING_JUMP_UNLESS_EQUAL(P, V, LABEL) \
    __asm__ goto("cmp{q %0, %1| %1, %0}\n\tjne %l2" : : "r"(V), "m"(*(P)) : "cc" : LABEL)
/* The same for a word of a call site's cache, addressed from its symbol
 * when C is optimized: the cache is then a static's address after inlining
 * (the fire macros; callers of the `_PyMonitoring_Fire*EventAt` functions
 * pass a static array), given as an immediate, so that the compiler does
 * not keep it in a register (gcc hoists a memory operand's address out of
 * a loop, then forms it again with a `lea` at each fire when no register
 * is left). A C static is local to its object, so `%rip`-relative reaches
 * it from a shared object too; C++'s statics in inline functions and
 * templates are global symbols (reached through the GOT there), so C++
 * keeps the memory operand. No memory operand: a read that misses a claim
 * only sends the fire to the table. */
#if defined(__OPTIMIZE__) && defined(__code_model_small__) && !defined(__cplusplus)
#define _PYMONITORING_JUMP_UNLESS_CACHED(P, V, LABEL) \
    __asm__ goto("cmp{q %0, %c1(%%rip)| qword ptr [rip + %c1], %0}\n\tjne %l2" \
                 : : "r"(V), "i"(P) : "cc" : LABEL)
#else
#define _PYMONITORING_JUMP_UNLESS_CACHED(P, V, LABEL) _PYMONITORING_JUMP_UNLESS_EQUAL(P, V, LABEL)
#endif
/* Jump to LABEL when entry HOME's key in TABLE is 0 / unless entry HOME's
 * word at FIELD (keys or objects) equals V: each entry word addressed from
 * TABLE and HOME (scaled by 8), so that the compiler keeps one value for
 * the home (no address of its own per word). The table is a memory input:
 * the reads stay after the acquire load of `done` before them. */
#define _PYMONITORING_JUMP_IF_EMPTY(TABLE, HOME, LABEL) \
    __asm__ goto("cmp{q $0, %c2(%0,%1,8)| qword ptr [%0+%1*8+%c2], 0}\n\tje %l4" \
                 : : "r"(TABLE), "r"(HOME), \
                   "i"(offsetof(_PyMonitoringDisabledSites, keys)), "m"(*(TABLE)) \
                 : "cc" : LABEL)
#define _PYMONITORING_JUMP_UNLESS_ENTRY(TABLE, HOME, FIELD, V, LABEL) \
    __asm__ goto("cmp{q %3, %c2(%0,%1,8)| qword ptr [%0+%1*8+%c2], %3}\n\tjne %l5" \
                 : : "r"(TABLE), "r"(HOME), \
                   "i"(offsetof(_PyMonitoringDisabledSites, FIELD)), "r"(V), "m"(*(TABLE)) \
                 : "cc" : LABEL)
/* X = the byte at P, read after the asm before this one (the owner's
 * compare; a relaxed load is moved above it). A memory operand, so a state
 * on the stack is addressed from the stack pointer (no `lea`). In Intel
 * syntax gcc prints the operand's size, clang leaves it to the template. */
#if defined(__clang__)
#define _PYMONITORING_LOAD_BYTE(X, P) \
    __asm__ __volatile__("{movzbl %1, %k0|movzx %k0, byte ptr %1}" : "=r"(X) : "m"(*(P)))
#else
#define _PYMONITORING_LOAD_BYTE(X, P) \
    __asm__ __volatile__("{movzbl %1, %k0|movzx %k0, %1}" : "=r"(X) : "m"(*(P)))
#endif
/* X |= the word at P. */
#define _PYMONITORING_OR_LOAD(X, P) \
    __asm__ __volatile__("or{q %1, %0| %0, %1}" : "+r"(X) : "m"(*(P)) : "cc")
#endif

/* The library's check of a remembered site, done in the caller for a slot
 * refreshed in the lasting-DISABLE mode (_PYMONITORING_SLOT_MARK in
 * `opaque`): 1 when the slot's one active tool is remembered as having
 * DISABLEd this site (the fire is over: no call, nothing written); 0 when
 * nothing is remembered for the site (its home entry is empty, or the site
 * cannot be remembered); -1 otherwise (the library decides). The table only
 * grows between forgets, and a forget moves `begun` before it rewrites
 * entries and `done` after: a read that a forget may have mixed (`begun`
 * read last differs from `done` read first) never reads as 1. For a
 * constant offset and line the range tests fold away. */
#define _PYMONITORING_SITE_LIBRARY UINT64_MAX
#define _PYMONITORING_SITE_SKIP (UINT64_MAX - 1)
/* The check itself, in one word (no claim holds a saturated stamp, so the
 * codes are not claims): 0, nothing remembered; _PYMONITORING_SITE_LIBRARY,
 * the library decides; remembered, _PYMONITORING_SITE_SKIP, or with a
 * `cache` (not NULL, not shared), the claim it may take when the site fits
 * one and the stamp is not saturated. */
static inline uint64_t
_PyMonitoring_SiteLookup(const uint64_t *cache, const PyMonitoringState *state, int event,
                         PyObject *codelike, int32_t offset, uint64_t line)
{
    uint64_t offset_bits = _PYMONITORING_CAST(uint32_t, offset);
    uint64_t line_bits = _PYMONITORING_CAST(uint32_t, line + 1);
    uint64_t site, object_address, home, done, tools;
    /* One load of the pointer (a plain read is reloaded after the acquire
     * loads below). */
    const _PyMonitoringDisabledSites *table =
        __atomic_load_n(&_PyMonitoring_DisabledSites, __ATOMIC_RELAXED);
    /* LINE's key holds the line; the other events' (line 0) the offset's
     * 32 bits in its place (the event is a constant: this folds). */
    site = _PYMONITORING_CAST(uint64_t, event) << _PYMONITORING_SITE_EVENT_SHIFT
           | offset_bits << _PYMONITORING_SITE_OFFSET_SHIFT;
    if (event == PY_MONITORING_EVENT_LINE) {
        if ((offset_bits | line_bits) >> (64 - _PYMONITORING_SITE_LINE_SHIFT)) {
            return 0;
        }
        site |= line_bits << _PYMONITORING_SITE_LINE_SHIFT;
    } else if (line != 0) {
        return 0;
    }
    object_address = _PYMONITORING_ADDRESS(codelike);
    home = ((object_address + site) * _PYMONITORING_SITE_HASH) >> _PYMONITORING_SITE_HASH_SHIFT;
    /* An empty home: nothing remembered (a racing insert reads as a miss).
     * Else the key is read again after `done`, for the consistent read. */
#if defined(_PYMONITORING_SITE_ASM)
    _PYMONITORING_JUMP_IF_EMPTY(table, home, empty);
    done = __atomic_load_n(&table->done, __ATOMIC_ACQUIRE);
    /* Read apart from the caller's `active` test, so that test stays one
     * compare with memory on the inactive path. */
    tools = __atomic_load_n(&state->active, __ATOMIC_RELAXED);
    _PYMONITORING_JUMP_UNLESS_ENTRY(table, home, keys, site | tools, library);
    _PYMONITORING_JUMP_UNLESS_ENTRY(table, home, objects, object_address, library);
    if (__atomic_load_n(&table->begun, __ATOMIC_ACQUIRE) != done) {
        return _PYMONITORING_SITE_LIBRARY;
    }
#else
    if (__atomic_load_n(&table->keys[home], __ATOMIC_RELAXED) == 0) {
        return 0;
    }
    done = __atomic_load_n(&table->done, __ATOMIC_ACQUIRE);
    tools = __atomic_load_n(&state->active, __ATOMIC_RELAXED);
    if (__atomic_load_n(&table->keys[home], __ATOMIC_ACQUIRE) != (site | tools)) {
        return _PYMONITORING_SITE_LIBRARY;
    }
    if (__atomic_load_n(&table->objects[home], __ATOMIC_ACQUIRE) != object_address
        || __atomic_load_n(&table->begun, __ATOMIC_ACQUIRE) != done) {
        return _PYMONITORING_SITE_LIBRARY;
    }
#endif
    if (cache != NULL && ((offset_bits | line_bits) >> _PYMONITORING_CACHE_FIELD_BITS) == 0
        && done < (UINT64_MAX >> _PYMONITORING_CACHE_STAMP_SHIFT)
        && __atomic_load_n(&cache[1], __ATOMIC_RELAXED) != _PYMONITORING_CACHE_SHARED) {
        return tools | _PYMONITORING_CACHE_SITE(offset_bits, line_bits)
               | done << _PYMONITORING_CACHE_STAMP_SHIFT;
    }
    return _PYMONITORING_SITE_SKIP;
#if defined(_PYMONITORING_SITE_ASM)
empty:
    return 0;
library:
    return _PYMONITORING_SITE_LIBRARY;
#endif
}

/* The check as 1 (remembered), 0 (nothing remembered) or -1 (the library
 * decides), without a cache. */
static inline int
_PyMonitoring_SiteRemembered(const PyMonitoringState *state, int event, PyObject *codelike,
                             int32_t offset, uint64_t line)
{
    uint64_t r = _PyMonitoring_SiteLookup(NULL, state, event, codelike, offset, line);
    return r == 0 ? 0 : r == _PYMONITORING_SITE_LIBRARY ? -1 : 1;
}

/* The check of a marked slot's site: `cache`'s claim first (when not NULL;
 * _PYMONITORING_SITE_SKIP when it holds for this code-like, site, `active`
 * and the current stamp), then the table (_PyMonitoring_SiteLookup, which
 * returns a claim for `cache` when it may take one). */
_PYMONITORING_WRAPPER uint64_t
_PyMonitoring_SiteSkipped(uint64_t *cache, const PyMonitoringState *state, int event,
                          PyObject *codelike, int32_t offset, uint64_t line)
{
    uint64_t offset_bits = _PYMONITORING_CAST(uint32_t, offset);
    uint64_t line_bits = _PYMONITORING_CAST(uint32_t, line + 1);
#if defined(__GNUC__) || defined(__clang__)
    /* A site the compiler does not know is a helper's, reached from many
     * sites (Cython's `__Pyx__TraceLine`), whose one cache could serve one
     * of them: the library checks it, for fewer instructions than this
     * code's table check at a run-time site (measured, bench/workload.sh's
     * `inline_helper`). */
    if (!__builtin_constant_p(offset) || !__builtin_constant_p(line)) {
        return _PYMONITORING_SITE_LIBRARY;
    }
#endif
#if defined(_PYMONITORING_SITE_ASM)
    if (cache != NULL && ((offset_bits | line_bits) >> _PYMONITORING_CACHE_FIELD_BITS) == 0) {
        uint64_t expected;
        _PYMONITORING_JUMP_UNLESS_CACHED(&cache[0], _PYMONITORING_ADDRESS(codelike), miss);
        /* `active` read apart from the caller's test (see
         * _PyMonitoring_SiteLookup), once the owner matched. */
        _PYMONITORING_LOAD_BYTE(expected, &state->active);
        expected |= _PYMONITORING_CACHE_SITE(offset_bits, line_bits);
        _PYMONITORING_OR_LOAD(expected, &_PyMonitoring_DisabledSites->stamp);
        _PYMONITORING_JUMP_UNLESS_CACHED(&cache[1], expected, miss);
        return _PYMONITORING_SITE_SKIP;
    }
miss:
    return _PyMonitoring_SiteLookup(cache, state, event, codelike, offset, line);
#else
    if (cache != NULL && ((offset_bits | line_bits) >> _PYMONITORING_CACHE_FIELD_BITS) == 0
        && __atomic_load_n(&cache[0], __ATOMIC_RELAXED) == _PYMONITORING_ADDRESS(codelike)
        && _PYMONITORING_LIKELY(__atomic_load_n(&cache[1], __ATOMIC_RELAXED)
               == (_PYMONITORING_CAST(uint64_t, __atomic_load_n(&state->active, __ATOMIC_RELAXED))
                   | _PYMONITORING_CACHE_SITE(offset_bits, line_bits)
                   | __atomic_load_n(&_PyMonitoring_DisabledSites->stamp, __ATOMIC_RELAXED)))) {
        return _PYMONITORING_SITE_SKIP;
    }
    return _PyMonitoring_SiteLookup(cache, state, event, codelike, offset, line);
#endif
}

/* The whole check of a constant site against its call site's cache, in one
 * `asm goto` (gcc 9 or later, C optimized, x86-64; the cache's words by the
 * static's symbol, as _PYMONITORING_JUMP_UNLESS_CACHED): the mark (none:
 * UNMARKED_LABEL), the owner, and the claim against `active`, the site and
 * the stamp (either differs: MISS_LABEL); all hold: 0 with no call. One
 * statement of size 1 for gcc (`asm inline`), small enough for its jump
 * threading to copy the skip's path into the caller's branches: Cython's
 * code keeps the exception it set aside across the fire in a variable and
 * tests it after, which the copy answers at compile time (bench/floors.md,
 * "Line coverage in the lasting mode, end to end"). clang gains nothing
 * from it and keeps the checks below. */
#if defined(_PYMONITORING_SITE_ASM) && defined(__OPTIMIZE__) && defined(__code_model_small__) \
    && !defined(__cplusplus) && !defined(__clang__) && __GNUC__ >= 9
#define _PYMONITORING_SITE_CACHED(CACHE, STATE, EVENT, CODE, OFFSET, LINE, UNMARKED_LABEL, MISS_LABEL) \
    if ((EVENT) == PY_MONITORING_EVENT_LINE && __builtin_constant_p(OFFSET) \
        && __builtin_constant_p(LINE) && (CACHE) != NULL) { \
        uint64_t _pymonitoring_offset_bits = _PYMONITORING_CAST(uint32_t, OFFSET); \
        uint64_t _pymonitoring_line_bits = _PYMONITORING_CAST(uint32_t, (LINE) + 1); \
        if (((_pymonitoring_offset_bits | _pymonitoring_line_bits) >> _PYMONITORING_CACHE_FIELD_BITS) \
            == 0) { \
            __asm__ __inline__ goto( \
                "{testb $0x80, %[opaque]|test %[opaque], 0x80}\n\t" \
                "jz %l[" #UNMARKED_LABEL "]\n\t" \
                "{cmp %[code], %c[owner](%%rip)|cmp qword ptr [rip + %c[owner]], %[code]}\n\t" \
                "jne %l[" #MISS_LABEL "]\n\t" \
                "{mov %[sites], %%r11|mov r11, %[sites]}\n\t" \
                "{mov %c[stamp](%%r11), %%r11|mov r11, qword ptr [r11 + %c[stamp]]}\n\t" \
                "{or %[site], %%r11|or r11, %[site]}\n\t" \
                "{or %[active], %%r11b|or r11b, %[active]}\n\t" \
                "{cmp %%r11, %c[claim](%%rip)|cmp qword ptr [rip + %c[claim]], r11}\n\t" \
                "jne %l[" #MISS_LABEL "]" \
                : : [opaque] "m"((STATE)->opaque), [code] "r"(CODE), [owner] "i"(&(CACHE)[0]), \
                    [sites] "m"(_PyMonitoring_DisabledSites), \
                    [stamp] "i"(offsetof(_PyMonitoringDisabledSites, stamp)), \
                    [site] "er"(_PYMONITORING_CACHE_SITE(_pymonitoring_offset_bits, \
                                                         _pymonitoring_line_bits)), \
                    [active] "m"((STATE)->active), [claim] "i"(&(CACHE)[1]) \
                : "cc", "r11" : UNMARKED_LABEL, MISS_LABEL); \
            return 0; \
        } \
    }
#else
#define _PYMONITORING_SITE_CACHED(CACHE, STATE, EVENT, CODE, OFFSET, LINE, UNMARKED_LABEL, MISS_LABEL)
#endif

/* _PYMONITORING_IF_ACTIVE for the local events. A slot without the mark
 * fires through UNMARKED (the event's _PyMonitoring_Fire*EventUnmarked,
 * which fires as on a slot without the mark: the library does not test it
 * again). On a marked slot the site is checked here (CACHE: the call
 * site's cache, or NULL): remembered, 0 with no call (found in the table,
 * the cache claimed, with a tail call to _PyMonitoring_SiteClaim); nothing
 * remembered for it, UNMARKED; anything else, X (the library on the slot,
 * which checks the site in full). LINE is LINE's line number (0 for the
 * other events). The labels are the wrapper's own (one expansion a
 * function). */
#define _PYMONITORING_IF_ACTIVE_LOCAL_AT(CACHE, STATE, EVENT, CODE, OFFSET, LINE, UNMARKED, X) \
    uint64_t _pymonitoring_known; \
    if (!(STATE)->active) { \
        return 0; \
    } \
    _PYMONITORING_SITE_CACHED(CACHE, STATE, EVENT, CODE, OFFSET, LINE, _pymonitoring_unmarked, \
                              _pymonitoring_miss) \
    if (!((STATE)->opaque & _PYMONITORING_SLOT_MARK)) { \
        goto _pymonitoring_unmarked; \
    } \
    _pymonitoring_known = \
        _PyMonitoring_SiteSkipped((CACHE), (STATE), (EVENT), (CODE), (OFFSET), (LINE)); \
    goto _pymonitoring_known_at; \
_pymonitoring_miss: __attribute__((unused)); \
    _pymonitoring_known = \
        _PyMonitoring_SiteLookup((CACHE), (STATE), (EVENT), (CODE), (OFFSET), (LINE)); \
_pymonitoring_known_at: \
    if (_pymonitoring_known == _PYMONITORING_SITE_SKIP) { \
        return 0; \
    } \
    if (_pymonitoring_known != 0) { \
        if (_pymonitoring_known != _PYMONITORING_SITE_LIBRARY) { \
            return _PyMonitoring_SiteClaim((CACHE), (CODE), _pymonitoring_known); \
        } \
        return (X); \
    } \
_pymonitoring_unmarked: \
    return (UNMARKED);
#define _PYMONITORING_IF_ACTIVE_LOCAL(CACHE, STATE, EVENT, CODE, OFFSET, UNMARKED, X) \
    _PYMONITORING_IF_ACTIVE_LOCAL_AT(CACHE, STATE, EVENT, CODE, OFFSET, 0, UNMARKED, X)

/* Each expansion of a local event's fire macro (generated with the
 * wrappers below) gets its own cache: a `static` in a GNU statement
 * expression (gcc and clang, C and C++). PYMONITORING_NO_SITE_CACHE keeps
 * the plain functions (a C99 `inline` function with external linkage may
 * not hold a `static`); `(PyMonitoring_FireLineEvent)(...)` calls one
 * without the cache, and the functions' addresses are taken as before. */
#if !defined(PYMONITORING_NO_SITE_CACHE) && (defined(__GNUC__) || defined(__clang__))
#define _PYMONITORING_SITE_CACHE 1
#define _PYMONITORING_AT_SITE(F, ...) \
    __extension__({ \
        static uint64_t _pymonitoring_site[2]; \
        F(_pymonitoring_site, __VA_ARGS__); \
    })
#endif

/* The fire wrappers, generated from the table of events: src/ffi/header/fire.h
 * (tests/header.rs splices it here). */

/* The ids of 1-3 slots, read before anything is written, each tested on
 * its own (for a constant array of ids the tests fold away): 1 when every
 * id is below PY_MONITORING_EVENTS, else 0. Ids past `length` read as 0.
 * Widened before the test: gcc then indexes the masks with the id itself
 * (a byte's range known from the test makes it add the masks' offset in 8
 * bits and widen again: 3 instructions more a slot). */
static inline int
_PyMonitoring_SmallIds(uint64_t ids[3], const uint8_t *event_types, Py_ssize_t length)
{
    ids[0] = event_types[0];
    ids[1] = length > 1 ? event_types[1] : 0;
    ids[2] = length > 2 ? event_types[2] : 0;
    return ids[0] < PY_MONITORING_EVENTS && ids[1] < PY_MONITORING_EVENTS
           && ids[2] < PY_MONITORING_EVENTS;
}

/* The library's refresh while no tool has an event and no option is set,
 * for 1-8 slots (a Cython function has 7): when every id is valid (below
 * PY_MONITORING_EVENTS), each `active` is zeroed (`opaque` kept) and 1
 * returned; else 0 and nothing is written. 1-3 slots one by one; 4-8 as
 * two overlapping words of ids and of states. For a constant array of ids
 * the compiler folds the check. */
static inline int
_PyMonitoring_RefreshIdle(PyMonitoringState *state_array, const uint8_t *event_types,
                          Py_ssize_t length)
{
    const uint32_t add = _PYMONITORING_CAST(uint32_t, 128 - PY_MONITORING_EVENTS) * 0x01010101u;
    const unsigned char keep_bytes[8] = {0, 0xff, 0, 0xff, 0, 0xff, 0, 0xff};
    uint32_t first, last;
    uint64_t keep, word;
    if (length < 4) {
        uint64_t ids[3];
        if (!_PyMonitoring_SmallIds(ids, event_types, length)) {
            return 0;
        }
        state_array[0].active = 0;
        if (length > 1) {
            state_array[1].active = 0;
        }
        if (length > 2) {
            state_array[2].active = 0;
        }
        return 1;
    }
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

#if defined(__GNUC__) || defined(__clang__)
/* The library's refresh when the route byte leaves it to the masks, for 1-8
 * slots, with `current` the version just compared: every id checked first
 * (none of PY_MONITORING_EVENTS or more: 0 returned, nothing written), then
 * each `active` the mask of its id and, when `marked`, each `opaque` the
 * mark (1-3 slots one by one, 4-8 as two overlapping words); 1 returned.
 * The caller stores `current`. For a constant array of ids the check folds
 * away and each mask is one load at a constant offset. */
static inline int
_PyMonitoring_RefreshMasks(PyMonitoringState *state_array, const uint8_t *event_types,
                           Py_ssize_t length, int marked)
{
    const uint32_t add = _PYMONITORING_CAST(uint32_t, 128 - PY_MONITORING_EVENTS) * 0x01010101u;
    const volatile uint8_t *masks =
        _PYMONITORING_BYTES(_PyMonitoring_GlobalVersion) + _PYMONITORING_SCOPE_MASKS;
    uint32_t first, last;
    if (length < 4) {
        /* Relaxed atomic reads of the masks: gcc (12) folds a run-time id's
         * address into those, not into a volatile read (3 instructions more
         * a slot); for 4-8 slots with constant ids both are the same. */
        const uint8_t *small_masks =
            _PYMONITORING_PLAIN_BYTES(_PyMonitoring_GlobalVersion) + _PYMONITORING_SCOPE_MASKS;
        uint64_t ids[3];
        if (!_PyMonitoring_SmallIds(ids, event_types, length)) {
            return 0;
        }
        if (marked) {
            state_array[0].opaque = _PYMONITORING_SLOT_MARK;
            if (length > 1) {
                state_array[1].opaque = _PYMONITORING_SLOT_MARK;
            }
            if (length > 2) {
                state_array[2].opaque = _PYMONITORING_SLOT_MARK;
            }
        }
        state_array[0].active = __atomic_load_n(&small_masks[ids[0]], __ATOMIC_RELAXED);
        if (length > 1) {
            state_array[1].active = __atomic_load_n(&small_masks[ids[1]], __ATOMIC_RELAXED);
        }
        if (length > 2) {
            state_array[2].active = __atomic_load_n(&small_masks[ids[2]], __ATOMIC_RELAXED);
        }
        return 1;
    }
    memcpy(&first, event_types, 4);
    memcpy(&last, event_types + length - 4, 4);
    if (((first + add) | first | (last + add) | last) & 0x80808080u) {
        return 0;
    }
    if (marked) {
        const unsigned char mark_bytes[8] = {
            0, _PYMONITORING_SLOT_MARK, 0, _PYMONITORING_SLOT_MARK,
            0, _PYMONITORING_SLOT_MARK, 0, _PYMONITORING_SLOT_MARK};
        memcpy(state_array, mark_bytes, 8);
        memcpy(state_array + length - 4, mark_bytes, 8);
    }
    /* Unrolled (the reads are volatile): a constant length keeps its own. */
    state_array[0].active = masks[event_types[0]];
    state_array[1].active = masks[event_types[1]];
    state_array[2].active = masks[event_types[2]];
    state_array[3].active = masks[event_types[3]];
    if (length > 4) {
        state_array[4].active = masks[event_types[4]];
    }
    if (length > 5) {
        state_array[5].active = masks[event_types[5]];
    }
    if (length > 6) {
        state_array[6].active = masks[event_types[6]];
    }
    if (length > 7) {
        state_array[7].active = masks[event_types[7]];
    }
    return 1;
}
#endif

/* On x86-64 with gcc and clang, for a constant length (a Cython scope's),
 * the route byte is tested where it lies: `test` of its gate and MARKED
 * bits, then `jns` (gate clear) and `jp` (the two bits' parity even with
 * the gate set: MARKED too), in inline asm (`asm goto`; a volatile or
 * atomic byte is never folded into a `test` by gcc or clang, and C has no
 * test of the parity): 1 instruction less on the default path, 2 on the
 * lasting mode's. A run-time length keeps the C test (measured: with the
 * asm, gcc reloads the version's pointer in a caller's loop). Elsewhere,
 * and with _PYMONITORING_ROUTE_PORTABLE defined, the byte read and tested
 * in C. */
#if !defined(_PYMONITORING_ROUTE_PORTABLE) && defined(__x86_64__)
#if defined(__clang__)
#if __clang_major__ >= 9
#define _PYMONITORING_ROUTE_ASM 1
#endif
#elif defined(__GNUC__)
#if __GNUC__ >= 5
#define _PYMONITORING_ROUTE_ASM 1
#endif
#endif
#endif
#if defined(_PYMONITORING_ROUTE_ASM)
/* Jumps to MASKS when the byte at P has its gate clear, to MARKED when it
 * has the gate and MARKED; else falls through (one aligned byte read). */
#define _PYMONITORING_ROUTE_JUMPS(P, MASKS, MARKED) \
    __asm__ goto("test{b %1, %0| %0, %1}\n\tjns %l2\n\tjp %l3" \
                 : : "m"(*(P)), "i"(_PYMONITORING_ROUTE_GATE | _PYMONITORING_ROUTE_MARKED) \
                 : "cc" : MASKS, MARKED)
#endif

/* EnterScope's fast path in the caller: `version`'s test and one compare
 * with the global version (a current version reads nothing else, as the
 * library's), and for 1-8 slots with both arrays the library's idle
 * refresh (above) while the registry is idle, or (gcc and clang) its
 * refresh by the masks while the route byte allows it. Anything else goes
 * to the library, which checks the arguments. */
_PYMONITORING_WRAPPER int
PyMonitoring_EnterScope(PyMonitoringState *state_array, uint64_t *version,
                        const uint8_t *event_types, Py_ssize_t length)
{
    if (version != NULL) {
        uint64_t current = _PyMonitoring_GlobalVersion[0];
        if (*version == current) {
            return 0;
        }
        if (length >= 1 && length <= 8 && state_array != NULL && event_types != NULL) {
            /* A plain read, folded into the compare: the word only ever
             * names a version at which the registry was idle, so even a
             * stale value that equals `current` is right. */
            if (_PYMONITORING_PLAIN(_PyMonitoring_GlobalVersion)[1] == current) {
                if (_PyMonitoring_RefreshIdle(state_array, event_types, length)) {
                    *version = current;
                    return 0;
                }
            }
#if defined(__GNUC__) || defined(__clang__)
            else {
                unsigned route;
                /* The version's load made an Acquire one (no instruction on
                 * x86-64): the route byte and the masks are read after it,
                 * so they are at least as new as `current`
                 * (docs/CONCURRENCY.md, H4). */
                __atomic_thread_fence(__ATOMIC_ACQUIRE);
#if defined(_PYMONITORING_ROUTE_ASM)
                if (__builtin_constant_p(length)) {
                    _PYMONITORING_ROUTE_JUMPS(_PyMonitoring_RefreshRoute, by_masks, by_marked_masks);
                    goto library;
                by_masks:
                    if (_PyMonitoring_RefreshMasks(state_array, event_types, length, 0)) {
                        *version = current;
                        return 0;
                    }
                    goto library;
                by_marked_masks:
                    if (_PyMonitoring_RefreshMasks(state_array, event_types, length, 1)) {
                        *version = current;
                        return 0;
                    }
                    goto library;
                }
#endif
                route = _PyMonitoring_RefreshRoute[0];
                if ((route & _PYMONITORING_ROUTE_GATE) == 0) {
                    if (_PyMonitoring_RefreshMasks(state_array, event_types, length, 0)) {
                        *version = current;
                        return 0;
                    }
                } else if ((route & _PYMONITORING_ROUTE_MARKED) != 0) {
                    if (_PyMonitoring_RefreshMasks(state_array, event_types, length, 1)) {
                        *version = current;
                        return 0;
                    }
                }
            }
#endif
        }
    }
#if defined(_PYMONITORING_ROUTE_ASM)
library:
#endif
    return _PyMonitoring_EnterScope(state_array, version, event_types, length);
}

/* GetRaisedException's fast path in the caller: NULL while no thread holds
 * a host exception (the count above is 0; the calling thread's own changes
 * are visible to it), else the library (marked cold where the compiler has
 * it, so the call stays off the caller's hot layout). */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((cold)) PyObject *_PyMonitoring_GetRaisedException(void);
#endif
_PYMONITORING_WRAPPER PyObject *
PyMonitoring_GetRaisedException(void)
{
    if (_PyMonitoring_RaisedExceptions[0] == 0) {
        return NULL;
    }
    return _PyMonitoring_GetRaisedException();
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
#undef _PYMONITORING_IF_ACTIVE_LOCAL_AT
#undef _PYMONITORING_COLD
#undef _PYMONITORING_CACHE_SITE
#undef _PYMONITORING_CACHE_SITE_BITS
#undef _PYMONITORING_SITE_LIBRARY
#undef _PYMONITORING_SITE_SKIP
#undef _PYMONITORING_SITE_ASM
#undef _PYMONITORING_JUMP_UNLESS_EQUAL
#undef _PYMONITORING_JUMP_UNLESS_CACHED
#undef _PYMONITORING_SITE_CACHED
#undef _PYMONITORING_JUMP_IF_EMPTY
#undef _PYMONITORING_JUMP_UNLESS_ENTRY
#undef _PYMONITORING_LOAD_BYTE
#undef _PYMONITORING_OR_LOAD
#undef _PYMONITORING_ADDRESS
#undef _PYMONITORING_CAST
#undef _PYMONITORING_PLAIN
#undef _PYMONITORING_BYTES
#undef _PYMONITORING_PLAIN_BYTES
#undef _PYMONITORING_ROUTE_ASM
#undef _PYMONITORING_ROUTE_JUMPS
#endif /* PYMONITORING_INLINE */
