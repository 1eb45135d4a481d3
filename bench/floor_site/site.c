/* A floor model of the exported fire at a DISABLEd site in the lasting mode
 * (bench/floors.md, "The lasting mode's per-site rule"): a small C library
 * with the check's duties and nothing else, so that its instruction count is
 * what any implementation of the exported functions pays. Duties: NULL state
 * (an error, out of line), an inactive slot (0), a slot without the mark (the
 * default path, out of line), and for a marked slot an exact answer from a
 * table of remembered sites: the site's home found by a hash, the code-like,
 * the offset, the event, the slot's tools and LINE's line all compared, and
 * the table's forget counters (a restart or a tool's clear forgets sites
 * while readers run: `done` read first, `begun` compared last, as
 * docs/CONCURRENCY.md's "Site table" reads them). The entries are three
 * arrays of 8-byte words, so nothing needs a range test: the key holds the
 * offset's 32 bits, the event and the tools; the line has its own word.
 * Anything else (a miss, a forget running) takes the slow path, out of line. */
#include <stddef.h>
#include <stdint.h>

#define HOME_BITS 13
#define HOMES (1u << HOME_BITS)
#define MULTIPLIER 0x9E3779B97F4A7C15ull
#define MARK 0x80
#define EVENT_PY_START 0
#define EVENT_LINE 5

typedef struct {
    uint8_t active;
    uint8_t opaque;
} State;

/* Hidden: addressed from the instruction pointer, as the library's table. */
__attribute__((visibility("hidden"))) struct {
    uint64_t done, begun;
    uint64_t keys[HOMES], objects[HOMES], lines[HOMES];
} site_table;

/* LINE's sites only (FloorFireLineOwnTable): the key is the offset's and the
 * line's 32 bits each, then the code-like, and the tools as a byte. */
__attribute__((visibility("hidden"))) struct {
    uint64_t done, begun;
    uint64_t keys[HOMES], objects[HOMES];
    uint8_t tools[HOMES];
} line_table;

#define HIDDEN __attribute__((visibility("hidden")))
HIDDEN __attribute__((noinline, cold)) int floor_invalid(State *state);
HIDDEN __attribute__((noinline)) int floor_default(State *state, void *code, int32_t offset, int line);
HIDDEN __attribute__((noinline, cold)) int floor_slow(State *state, void *code, int32_t offset, int line);

int floor_invalid(State *state)
{
    __asm__ volatile("" ::"r"(state) : "memory");
    return -1;
}

int floor_default(State *state, void *code, int32_t offset, int line)
{
    __asm__ volatile("" ::"r"(state), "r"(code), "r"(offset), "r"(line) : "memory");
    return 0;
}

static long slow_calls;

int floor_slow(State *state, void *code, int32_t offset, int line)
{
    __asm__ volatile("" ::"r"(state), "r"(code), "r"(offset), "r"(line) : "memory");
    slow_calls++;
    return 0;
}

/* How many fires missed the fast check (the driver requires 0). */
long floor_slow_calls(void)
{
    return slow_calls;
}

/* The entry's tests: NULL (an error), an inactive slot (0), a slot without
 * the mark (the default path). */
#define ENTRY_TESTS(LINE)                                                                    \
    do {                                                                                     \
        if (!state)                                                                          \
            return floor_invalid(state);                                                     \
        if (!state->active)                                                                  \
            return 0;                                                                        \
        if (!(state->opaque & MARK))                                                         \
            return floor_default(state, code, offset, LINE);                                 \
    } while (0)

static inline uint64_t site_key(int32_t offset, int event, uint8_t active)
{
    return (uint64_t)(uint32_t)offset << 32 | (uint64_t)event << 8 | active;
}

/* The home of a site: its key without the tools (or-ed in after the hash,
 * from the state), the code-like and the line. */
static inline size_t home_of(const void *code, uint64_t key, uint64_t line)
{
    uint64_t site = key & ~(uint64_t)0xff;
    return (size_t)((((uint64_t)(uintptr_t)code + site + line) * MULTIPLIER) >> (64 - HOME_BITS));
}

/* A load of the protocol's order (acquire): on x86-64 a plain `mov`, or the
 * memory operand of a `cmp`, which a plain read lets gcc choose (it keeps
 * an `__atomic` load in a register). */
static inline __attribute__((unused)) uint64_t load(const uint64_t *word)
{
#if defined(__x86_64__)
    return *(const volatile uint64_t *)word;
#else
    return __atomic_load_n(word, __ATOMIC_ACQUIRE);
#endif
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(FLOOR_SITE_PLAIN_C)
/* The check as the instructions it needs, since gcc keeps every word it
 * compares in a register: the key (the offset's 32 bits, the event), the
 * hash of code-like + line + key, the table's address, `done`, the tools
 * or-ed into the key from the state, then each word compared in memory.
 * LINE_CMP is LINE's extra compare (empty for PY_START, whose home hashes a
 * line of 0). FLOOR_SITE_PLAIN_C builds the C below instead. */
__attribute__((visibility("hidden"))) const uint64_t site_multiplier = MULTIPLIER;

#define SITE_CHECK(EVENT, LINE_HASH, LINE_CMP, LINE)                                         \
    __asm__ goto("mov %k[offset], %%r8d\n\t"                                                 \
                 "shl $32, %%r8\n\t"                                                         \
                 "or %[event], %%r8\n\t" LINE_HASH                                           \
                 "add %[code], %%r9\n\t"                                                     \
                 "add %%r8, %%r9\n\t"                                                        \
                 "imul site_multiplier(%%rip), %%r9\n\t"                                     \
                 "shr %[shift], %%r9\n\t"                                                    \
                 "lea site_table(%%rip), %%r10\n\t"                                          \
                 "mov (%%r10), %%r11\n\t"                                                    \
                 "or (%[state]), %%r8b\n\t"                                                  \
                 "cmp %%r8, %c[keys](%%r10,%%r9,8)\n\t"                                      \
                 "jne %l[slow]\n\t"                                                          \
                 "cmp %[code], %c[objects](%%r10,%%r9,8)\n\t"                                \
                 "jne %l[slow]\n\t" LINE_CMP "cmp %%r11, %c[begun](%%r10)\n\t"              \
                 "jne %l[slow]"                                                              \
                 :                                                                           \
                 : [state] "r"(state), [code] "r"(code), [offset] "r"(offset), [line] "r"(LINE), \
                   [event] "i"((EVENT) << 8), [shift] "i"(64 - HOME_BITS),                   \
                   [keys] "i"(offsetof(__typeof__(site_table), keys)),                       \
                   [objects] "i"(offsetof(__typeof__(site_table), objects)),                 \
                   [lines] "i"(offsetof(__typeof__(site_table), lines)),                     \
                   [begun] "i"(offsetof(__typeof__(site_table), begun))                      \
                 : "cc", "r8", "r9", "r10", "r11"                                            \
                 : slow)

int FloorFireLine(State *state, void *code, int32_t offset, int line)
{
    ENTRY_TESTS(line);
    SITE_CHECK(EVENT_LINE, "mov %k[line], %%r9d\n\t",
               "cmp %k[line], %c[lines](%%r10,%%r9,8)\n\tjne %l[slow]\n\t", line);
    return 0;
slow:
    return floor_slow(state, code, offset, line);
}

int FloorFirePyStart(State *state, void *code, int32_t offset)
{
    ENTRY_TESTS(-1);
    SITE_CHECK(EVENT_PY_START, "xor %%r9d, %%r9d\n\t", "", 0);
    return 0;
slow:
    return floor_slow(state, code, offset, -1);
}

/* LINE with a table of its own, the tightest exact layout found: the key is
 * the offset's and the line's 32 bits each (one word, one-to-one, no range
 * test, no event: the table holds LINE's sites only), then the code-like, and
 * the tools as a byte of their own, compared with `active`. The same forget
 * counters. WITH_FORGET_CHECK 0 drops them: not exact (a read racing a forget
 * could pair one site's key with another's code-like), the measure of what
 * they cost. */
#define LINE_TABLE_CHECK(DONE, BEGUN)                                                        \
    __asm__ goto("mov %k[offset], %%r8d\n\t"                                                 \
                 "mov %k[line], %%r9d\n\t"                                                   \
                 "shl $32, %%r9\n\t"                                                         \
                 "or %%r9, %%r8\n\t"                                                         \
                 "lea (%%r8,%[code]), %%r9\n\t"                                              \
                 "imul site_multiplier(%%rip), %%r9\n\t"                                     \
                 "shr %[shift], %%r9\n\t"                                                    \
                 "lea line_table(%%rip), %%r10\n\t" DONE                                     \
                 "cmp %%r8, %c[keys](%%r10,%%r9,8)\n\t"                                      \
                 "jne %l[slow]\n\t"                                                          \
                 "cmp %[code], %c[objects](%%r10,%%r9,8)\n\t"                                \
                 "jne %l[slow]\n\t"                                                          \
                 "movzbl (%[state]), %%eax\n\t"                                              \
                 "cmp %%al, %c[tools](%%r10,%%r9,1)\n\t"                                     \
                 "jne %l[slow]" BEGUN                                                         \
                 :                                                                           \
                 : [state] "r"(state), [code] "r"(code), [offset] "r"(offset),               \
                   [line] "r"(line), [shift] "i"(64 - HOME_BITS),        \
                   [keys] "i"(offsetof(__typeof__(line_table), keys)),                       \
                   [objects] "i"(offsetof(__typeof__(line_table), objects)),                 \
                   [tools] "i"(offsetof(__typeof__(line_table), tools)),                     \
                   [begun] "i"(offsetof(__typeof__(line_table), begun))                      \
                 : "cc", "rax", "r8", "r9", "r10", "r11"                                     \
                 : slow)

#define DEFINE_LINE_OWN_TABLE(NAME, DONE, BEGUN)                                            \
    int NAME(State *state, void *code, int32_t offset, int line)                             \
    {                                                                                        \
        ENTRY_TESTS(line);                                                                   \
        LINE_TABLE_CHECK(DONE, BEGUN);                                                       \
        return 0;                                                                            \
    slow:                                                                                    \
        return floor_slow(state, code, offset, line);                                        \
    }

DEFINE_LINE_OWN_TABLE(FloorFireLineOwnTable, "mov (%%r10), %%r11\n\t",
                      "\n\tcmp %%r11, %c[begun](%%r10)\n\tjne %l[slow]")
DEFINE_LINE_OWN_TABLE(FloorFireLineOwnTableUnguarded, "", "")
#else
/* Elsewhere the same check in C (no floor there: compilers keep the words
 * they compare in registers). */
static inline __attribute__((always_inline)) int fire_at(State *state, void *code, int32_t offset,
                                                         int event, int line)
{
    ENTRY_TESTS(line);
    uint8_t active = state->active;
    uint64_t line_word = event == EVENT_LINE ? (uint32_t)line : 0;
    uint64_t done = load(&site_table.done);
    uint64_t key = site_key(offset, event, active);
    size_t home = home_of(code, key, line_word);
    if (load(&site_table.keys[home]) == key && load(&site_table.objects[home]) == (uintptr_t)code
        && load(&site_table.lines[home]) == line_word && load(&site_table.begun) == done)
        return 0;
    return floor_slow(state, code, offset, line);
}

int FloorFireLine(State *state, void *code, int32_t offset, int line)
{
    return fire_at(state, code, offset, EVENT_LINE, line);
}

int FloorFirePyStart(State *state, void *code, int32_t offset)
{
    return fire_at(state, code, offset, EVENT_PY_START, -1);
}

static inline __attribute__((always_inline)) int fire_line_own_table(State *state, void *code,
                                                                     int32_t offset, int line,
                                                                     int forget_check)
{
    ENTRY_TESTS(line);
    uint8_t active = state->active;
    uint64_t done = forget_check ? load(&line_table.done) : 0;
    uint64_t key = (uint64_t)(uint32_t)offset | (uint64_t)(uint32_t)line << 32;
    size_t home = (size_t)(((key + (uint64_t)(uintptr_t)code) * MULTIPLIER) >> (64 - HOME_BITS));
    if (load(&line_table.keys[home]) == key && load(&line_table.objects[home]) == (uintptr_t)code
        && line_table.tools[home] == active
        && (!forget_check || load(&line_table.begun) == done))
        return 0;
    return floor_slow(state, code, offset, line);
}

int FloorFireLineOwnTable(State *state, void *code, int32_t offset, int line)
{
    return fire_line_own_table(state, code, offset, line, 1);
}

int FloorFireLineOwnTableUnguarded(State *state, void *code, int32_t offset, int line)
{
    return fire_line_own_table(state, code, offset, line, 0);
}
#endif

/* The site remembered as a DISABLE of every tool in `active` leaves it. */
void floor_remember(const void *code, int32_t offset, int event, int line, uint8_t active)
{
    uint64_t key = site_key(offset, event, active);
    uint64_t line_word = event == EVENT_LINE ? (uint32_t)line : 0;
    size_t home = home_of(code, key, line_word);
    site_table.objects[home] = (uintptr_t)code;
    site_table.lines[home] = line_word;
    __atomic_store_n(&site_table.keys[home], key, __ATOMIC_RELEASE);
}

/* The same for LINE's own table (FloorFireLineOwnTable). */
void floor_remember_line(const void *code, int32_t offset, int line, uint8_t active)
{
    uint64_t key = (uint64_t)(uint32_t)offset | (uint64_t)(uint32_t)line << 32;
    size_t home = (size_t)(((key + (uint64_t)(uintptr_t)code) * MULTIPLIER) >> (64 - HOME_BITS));
    line_table.objects[home] = (uintptr_t)code;
    line_table.tools[home] = active;
    __atomic_store_n(&line_table.keys[home], key, __ATOMIC_RELEASE);
}
