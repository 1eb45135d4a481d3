#!/usr/bin/env bash
# The end-to-end workload beside CPython: builds bench/workload.c four ways
# (no monitoring calls; exported EnterScope/fires; -DPYMONITORING_INLINE;
# the same with Cython's own LINE helper, -DWL_LINE_HELPER, callgrind only)
# against the release cdylib, runs every configuration of it,
# bench/workload.py on CPython 3.13, and the same module compiled by Cython
# (bench/cython: in CPython 3.13, and with the library preloaded as its
# host's implementation), and writes the "End-to-end workload" section of
# BENCHMARKS.md (between its markers; bench/run.sh keeps it). Cython comes
# from PyPI into the virtual environment tests/cython_host.rs keeps under
# target/cython-host/ (made here the same way when missing).
#
#   bench/workload.sh                         # FIB=25 LOOP=1000000 R=5, callgrind on
#   FIB=12 LOOP=2000 R=1 OUT=/tmp/w.md bench/workload.sh   # quick (CI)
#
# Every run passes --check: a wrong count (lines seen, callbacks per site,
# results) fails the script. Instruction counts: callgrind over the measured
# run only (CG=0 skips them). Times: R rounds; in each round every build and
# configuration runs once, each body's no-monitoring run first, and a ratio
# is taken within the round (paired), the median over rounds reported.
set -euo pipefail
cd "$(dirname "$0")/.."
FIB=${FIB:-25}
LOOP=${LOOP:-1000000}
R=${R:-5}
CG=${CG:-1}
OUT=${OUT:-BENCHMARKS.md}
CC=${CC:-cc}

cargo build --release --quiet
# The target directory, as cargo picks it: CARGO_TARGET_DIR, or target.
target_dir=${CARGO_TARGET_DIR:-target}
out="$target_dir/bench"
mkdir -p "$out"
lib="$(cd "$target_dir/release" && pwd)"
for variant in nomon exported inline inline_helper; do
    defs=()
    [ "$variant" = nomon ] && defs=(-DWL_NOMON)
    [ "$variant" = inline ] && defs=(-DPYMONITORING_INLINE)
    [ "$variant" = inline_helper ] && defs=(-DPYMONITORING_INLINE -DWL_LINE_HELPER)
    "$CC" -O2 -std=gnu11 -Wall -Wextra -Werror "${defs[@]}" -Iinclude bench/workload.c \
        -o "$out/workload-$variant" -L"$lib" -lpymonitoring -Wl,-rpath,"$lib"
done
PY=${PYTHON:-}
if [ -z "$PY" ] && command -v pyenv >/dev/null && pyenv prefix 3.13.0 >/dev/null 2>&1; then
    PY="$(pyenv prefix 3.13.0)/bin/python3.13"
fi
[ -n "$PY" ] && [ -x "$PY" ] || { echo "workload: CPython 3.13 not found (pyenv prefix 3.13.0)" >&2; exit 1; }

# The Cython-compiled module, traced and untraced (bench/cython/setup.py).
venv="$(cd "$target_dir" && pwd)/cython-host/venv"
if ! "$venv/bin/python" -c "import Cython, setuptools" 2>/dev/null; then
    rm -rf "$venv"
    "$PY" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "Cython>=3.1" setuptools
fi
cy="$out/cython"
rm -rf "$cy"
mkdir -p "$cy"
cp bench/cython/workload.pyx bench/cython/setup.py bench/workload.py "$cy/"
(cd "$cy" && "$venv/bin/python" setup.py build_ext --inplace --quiet >/dev/null)
cyconfigs="plain cpython_none cpython_line_disable library_none library_line_lasting"
cypreload() { # the library to preload for configuration $1 (none: empty)
    case $1 in library_*) echo "$lib/libpymonitoring.so" ;; esac
}
export PYMONITORING_LIB="$lib/libpymonitoring.so" PYTHONHASHSEED=0
# The module's runs use the system allocator: with CPython's small-object
# allocator how often a pool of boxed integers empties and is replaced
# depends on the heap the process started with (the size of its
# environment), and a run's count by up to 8% with it.
cyalloc=malloc

configs="none freed cov_disable cov_lasting cov_never profiler recorder"
pyconfigs="none line_disable line_never profiler settrace"
raw=$out/workload-raw
rm -rf "$raw"
mkdir -p "$raw"
pin=()
command -v taskset >/dev/null && pin=(taskset -c 1)

run() { # label program args... : one checked run, its lines tagged with the label
    local label=$1
    shift
    "$@" --check | sed "s/^/$label /" >>"$raw/runs.txt"
}

echo "workload: FIB=$FIB LOOP=$LOOP, $R timing rounds" >&2
for r in $(seq 1 "$R"); do
    for body in tight work; do
        run "$r nomon" "${pin[@]}" "$out/workload-nomon" none "$body" "$FIB" "$LOOP"
        for variant in exported inline; do
            for c in $configs; do
                run "$r $variant" "${pin[@]}" "$out/workload-$variant" "$c" "$body" "$FIB" "$LOOP"
            done
        done
    done
    for c in $pyconfigs; do
        run "$r cpython" "${pin[@]}" "$PY" bench/workload.py "$c" "$FIB" "$LOOP"
    done
    for c in $cyconfigs; do
        run "$r cython" env PYTHONPATH="$cy" PYTHONMALLOC="$cyalloc" LD_PRELOAD="$(cypreload "$c")" "${pin[@]}" \
            "$PY" bench/cython/driver.py "$c" "$FIB" "$LOOP"
    done
    echo "  round $r done" >&2
done

if [ "$CG" = 1 ]; then
    command -v valgrind >/dev/null || { echo "workload: valgrind not found (CG=0 skips callgrind)" >&2; exit 1; }
    echo "workload: callgrind" >&2
    for body in tight work; do
        bench/cgcount.sh "$out/workload-nomon" none "$body" "$FIB" "$LOOP" --check |
            sed "s/^/nomon /" >>"$raw/cg.txt"
        for variant in exported inline; do
            for c in $configs; do
                bench/cgcount.sh "$out/workload-$variant" "$c" "$body" "$FIB" "$LOOP" --check |
                    sed "s/^/$variant /" >>"$raw/cg.txt"
            done
        done
        # Cython's own line helper: instructions of the line-coverage configurations.
        for c in none cov_disable cov_lasting cov_never; do
            bench/cgcount.sh "$out/workload-inline_helper" "$c" "$body" "$FIB" "$LOOP" --check |
                sed "s/^/inline_helper /" >>"$raw/cg.txt"
        done
    done
    for c in $cyconfigs; do
        PYTHONPATH="$cy" PYTHONMALLOC="$cyalloc" CG_PRELOAD="$(cypreload "$c")" bench/cgcount.sh \
            "$PY" bench/cython/driver.py "$c" "$FIB" "$LOOP" --check | sed "s/^/cython /" >>"$raw/cg.txt"
    done
fi

python3 bench/workload_report.py --raw "$raw" --fib "$FIB" --loop "$LOOP" --r "$R" \
    --python "$PY" --out "$OUT"
echo "workload: wrote the section of $OUT" >&2
