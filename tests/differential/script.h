/* The differential scenario interpreter, shared by the two drivers:
 * lib_driver.c (this library) and cpython_ext.c (CPython's own C API and
 * sys.monitoring). Each driver defines the backend functions declared below
 * and includes this file once. Both write the same log format, so the Rust
 * test (tests/differential.rs) can compare them line by line.
 *
 * Script: one operation per line (tokens separated by single spaces).
 *   scenario N                     reset everything; log "== scenario N"
 *   use T | clear T | free T       claim / clear (3.14) / free (3.14: clears too)
 *   events T MASK                  MASK: NAME|NAME... or 0
 *   get T                          log the tool's events
 *   cb T EVENT MODE K              MODE: ok disable error exc other none
 *                                  (exc: raise object K; none: unregister)
 *   scope S EVLIST                 EnterScope on scope S's states with S's
 *                                  stored version (CPython's CodeLike)
 *   fresh S EVLIST                 the same with a fresh version 0 (Cython)
 *   exit                           ExitScope
 *   restart                        RestartEvents
 *   fire S SLOT EVENT OFF A0 A1 LINE EXC
 *                                  set object EXC pending (-1: none), fire
 *                                  EVENT at slot SLOT of scope S
 * Events are named with CPython 3.14's names; each backend maps them to its
 * own numbering. Objects are indices into a table of 16 objects (0-3 plain,
 * 4-11 ValueError instances, 12-13 StopIteration instances, 14-15 ints). */
#ifndef DIFFERENTIAL_SCRIPT_H
#define DIFFERENTIAL_SCRIPT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_CANON 19
#define N_OBJECTS 16
#define N_SCOPES 4
#define N_SLOTS 8

enum { MODE_OK, MODE_DISABLE, MODE_ERROR, MODE_EXC, MODE_OTHER, MODE_NONE };

static const char *const canon_names[N_CANON] = {
    "PY_START", "PY_RESUME", "PY_RETURN", "PY_YIELD", "CALL", "LINE", "INSTRUCTION",
    "JUMP", "BRANCH_LEFT", "BRANCH_RIGHT", "STOP_ITERATION", "RAISE", "EXCEPTION_HANDLED",
    "PY_UNWIND", "PY_THROW", "RERAISE", "C_RETURN", "C_RAISE", "BRANCH"};

/* ---- backend interface (defined by each driver) ---- */
/* Each returns 0 / -1 with the backend's error indicator set, except where
 * noted. `describe_pending` writes "none", "obj#K" or "Type: message" and
 * clears the indicator. */
static int be_use(int tool, const char *name);
static int be_clear(int tool);
static int be_free(int tool);
static int be_set_events(int tool, uint32_t canon_mask);
static int be_get_events(int tool, uint32_t *canon_mask);
static int be_register(int tool, int canon_ev, int mode, int k);
static int be_enter(PyMonitoringState *states, uint64_t *version, const int *canon_evs, int n);
static int be_exit(void);
static int be_restart(void);
static int be_fire(PyMonitoringState *st, int canon_ev, int code, int32_t off, int a0, int a1,
                   int lineno);
static void be_set_pending(int k);
static void describe_pending(char *buf, size_t len);
static void be_reset(void);

static FILE *script_out;

/* What a callback received, in the common format. `a1` is NULL when the
 * event has no second object argument. */
static void log_callback(int tool, int canon_ev, const char *code, int is_line, long off_or_line,
                         const char *a0, const char *a1) {
    fprintf(script_out, "  cb tool=%d ev=%s code=%s %s=%ld", tool, canon_names[canon_ev], code,
            is_line ? "line" : "off", off_or_line);
    if (a0 != NULL) fprintf(script_out, " a0=%s", a0);
    if (a1 != NULL) fprintf(script_out, " a1=%s", a1);
    fputc('\n', script_out);
}

static int canon_from_name(const char *name) {
    for (int i = 0; i < N_CANON; i++) {
        if (strcmp(canon_names[i], name) == 0) return i;
    }
    fprintf(stderr, "unknown event name %s\n", name);
    exit(2);
}

static uint32_t parse_mask(char *s) {
    uint32_t mask = 0;
    if (strcmp(s, "0") == 0) return 0;
    for (char *tok = strtok(s, "|"); tok; tok = strtok(NULL, "|")) {
        mask |= 1u << canon_from_name(tok);
    }
    return mask;
}

static int parse_list(char *s, int *out) {
    int n = 0;
    for (char *tok = strtok(s, ","); tok && n < N_SLOTS; tok = strtok(NULL, ",")) {
        out[n++] = canon_from_name(tok);
    }
    return n;
}

static void format_mask(uint32_t mask, char *buf, size_t len) {
    buf[0] = 0;
    if (mask == 0) {
        snprintf(buf, len, "0");
        return;
    }
    for (int i = 0; i < N_CANON; i++) {
        if (mask & (1u << i)) {
            if (buf[0]) strncat(buf, "|", len - strlen(buf) - 1);
            strncat(buf, canon_names[i], len - strlen(buf) - 1);
        }
    }
}

static int mode_from_name(const char *m) {
    static const char *const modes[] = {"ok", "disable", "error", "exc", "other", "none"};
    for (int i = 0; i < 6; i++) {
        if (strcmp(m, modes[i]) == 0) return i;
    }
    fprintf(stderr, "unknown mode %s\n", m);
    exit(2);
}

typedef struct Scope {
    PyMonitoringState states[N_SLOTS];
    uint64_t version;
    int n;
} Scope;

static Scope scopes[N_SCOPES];

static void log_result(const char *what, int rc) {
    char err[256];
    describe_pending(err, sizeof err);
    fprintf(script_out, "%s: rc=%d err=%s\n", what, rc, err);
}

/* Run one script; returns the number of fire operations. */
static long run_script(FILE *in, FILE *out) {
    char line[512];
    long fires = 0;
    script_out = out;
    while (fgets(line, sizeof line, in)) {
        char op[32], a[64], b[256], c[64], d[64];
        int t, s, slot, off, a0, a1, lineno, exc, k;
        line[strcspn(line, "\r\n")] = 0;
        if (line[0] == 0 || line[0] == '#') continue;
        if (sscanf(line, "%31s", op) != 1) continue;
        if (strcmp(op, "scenario") == 0) {
            be_reset();
            memset(scopes, 0, sizeof scopes);
            fprintf(out, "== %s\n", line);
        } else if (strcmp(op, "use") == 0 && sscanf(line, "use %d", &t) == 1) {
            char name[16];
            snprintf(name, sizeof name, "tool%d", t);
            log_result(line, be_use(t, name));
        } else if (strcmp(op, "clear") == 0 && sscanf(line, "clear %d", &t) == 1) {
            log_result(line, be_clear(t));
        } else if (strcmp(op, "free") == 0 && sscanf(line, "free %d", &t) == 1) {
            log_result(line, be_free(t));
        } else if (strcmp(op, "events") == 0 && sscanf(line, "events %d %255s", &t, b) == 2) {
            log_result(line, be_set_events(t, parse_mask(b)));
        } else if (strcmp(op, "get") == 0 && sscanf(line, "get %d", &t) == 1) {
            uint32_t mask = 0;
            char names[256], err[256];
            int rc = be_get_events(t, &mask);
            format_mask(rc == 0 ? mask : 0, names, sizeof names);
            describe_pending(err, sizeof err);
            fprintf(out, "%s: rc=%d events=%s err=%s\n", line, rc, names, err);
        } else if (strcmp(op, "cb") == 0 &&
                   sscanf(line, "cb %d %63s %63s %d", &t, a, c, &k) == 4) {
            log_result(line, be_register(t, canon_from_name(a), mode_from_name(c), k));
        } else if ((strcmp(op, "scope") == 0 || strcmp(op, "fresh") == 0) &&
                   sscanf(line, "%*s %d %255s", &s, b) == 2) {
            int evs[N_SLOTS];
            Scope *sc = &scopes[s];
            uint64_t fresh_version = 0;
            int n = parse_list(b, evs);
            int rc;
            char err[256];
            sc->n = n;
            rc = be_enter(sc->states, op[0] == 'f' ? &fresh_version : &sc->version, evs, n);
            describe_pending(err, sizeof err);
            fprintf(out, "%s: rc=%d err=%s active=", line, rc, err);
            for (int i = 0; i < n; i++) fprintf(out, "%s%d", i ? "," : "", sc->states[i].active);
            fputc('\n', out);
        } else if (strcmp(op, "exit") == 0) {
            log_result(line, be_exit());
        } else if (strcmp(op, "restart") == 0) {
            log_result(line, be_restart());
        } else if (strcmp(op, "fire") == 0 &&
                   sscanf(line, "fire %d %d %63s %d %d %d %d %d", &s, &slot, d, &off, &a0, &a1,
                          &lineno, &exc) == 8) {
            PyMonitoringState *st = &scopes[s].states[slot];
            char err[256];
            int rc;
            if (exc >= 0) be_set_pending(exc);
            rc = be_fire(st, canon_from_name(d), s, off, a0, a1, lineno);
            describe_pending(err, sizeof err);
            fprintf(out, "%s: rc=%d pending=%s active=%d\n", line, rc, err, st->active);
            fires++;
        } else {
            fprintf(stderr, "bad script line: %s\n", line);
            exit(2);
        }
        fflush(out);
    }
    be_reset();
    return fires;
}

#endif
