#!/usr/bin/env bash
# The one benchmark command: builds the release cdylib, the C benchmark (both
# header variants) and, when a CPython >= 3.13 with headers is present, the
# CPython C-API extension; runs R interleaved timing rounds of all three
# (each round runs every case once in each program), the 1- vs 2-thread
# throughput case, and the callgrind instruction counts; writes BENCHMARKS.md
# (keeping its end-to-end workload section, which bench/workload.sh writes).
#
#   bench/run.sh                 # N=2000000 R=11 CG_N=100000 TR=31
#   N=200000 R=3 bench/run.sh    # quick
set -euo pipefail
cd "$(dirname "$0")/.."
# The target directory, as cargo picks it: CARGO_TARGET_DIR, or target.
target_dir=${CARGO_TARGET_DIR:-target}
N=${N:-2000000}
R=${R:-11}
CG_N=${CG_N:-100000}
TR=${TR:-31}
OUT=${OUT:-BENCHMARKS.md}

bench/build.sh
raw="$target_dir/bench/raw"
rm -rf "$raw"
mkdir -p "$raw"
PY=""
[ -f "$target_dir/bench/python" ] && PY=$(cat "$target_dir/bench/python")
pin=()
command -v taskset >/dev/null && pin=(taskset -c 1)

cut -d' ' -f1-3 /proc/loadavg >"$raw/loadavg.txt"
echo "timing: $R rounds of N=$N" >&2
for r in $(seq 1 "$R"); do
    "${pin[@]}" "$target_dir/bench/cbench-exported" "$N" | grep -v '^#' | grep -v '^threads' >>"$raw/time-exported.txt"
    "${pin[@]}" "$target_dir/bench/cbench-inline" "$N" | grep -v '^#' | grep -v '^threads' >>"$raw/time-inline.txt"
    if [ -n "$PY" ]; then
        PYTHONPATH="$target_dir/bench/py" "${pin[@]}" "$PY" bench/capibench_driver.py "$N" >>"$raw/time-cpython.txt"
    fi
    echo "  round $r done" >&2
done

cut -d' ' -f1-3 /proc/loadavg >>"$raw/loadavg.txt"
# Threads: both CPUs (unpinned), 1 thread then 2 threads firing active
# events, with the no-library control loop; more rounds than the timing
# because on a shared VM the second CPU is only sometimes free.
echo "threads: $TR rounds" >&2
for r in $(seq 1 "$TR"); do
    "$target_dir/bench/cbench-inline" "$N" threads >>"$raw/threads.txt"
done
if command -v valgrind >/dev/null; then
    echo "callgrind: N=$CG_N" >&2
    bash /tmp/cgcount_keep.sh "$target_dir/bench/cbench-exported" "$CG_N" >"$raw/cg-exported.txt"
    bench/cgcount.sh "$target_dir/bench/cbench-inline" "$CG_N" >"$raw/cg-inline.txt"
    if [ -n "$PY" ]; then
        PYTHONPATH="$target_dir/bench/py" bench/cgcount.sh "$PY" bench/capibench_driver.py "$CG_N" >"$raw/cg-cpython.txt"
    fi
    # Where the instructions of the active path go (for the floor notes).
    valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$raw/annotate.out" \
        "$target_dir/bench/cbench-inline" 20000 pystart_1tool_c >/dev/null 2>&1
    callgrind_annotate --inclusive=no "$raw/annotate.out.1" 2>/dev/null |
        sed -n '/file:function/,$p' | head -30 >"$raw/annotate-pystart.txt" || true
    # Allocation count over a loop of active fires and EnterScope refreshes.
    valgrind --tool=memcheck "$target_dir/bench/cbench-inline" 20000 pystart_1tool_c raise_1tool_c enter_refresh_17 \
        >/dev/null 2>"$raw/memcheck-20000.txt" || true
    valgrind --tool=memcheck "$target_dir/bench/cbench-inline" 40000 pystart_1tool_c raise_1tool_c enter_refresh_17 \
        >/dev/null 2>"$raw/memcheck-40000.txt" || true
fi
objdump -d --no-show-raw-insn "$target_dir/release/libpymonitoring.so" >"$raw/lib.dis"
objdump -d --no-show-raw-insn "$target_dir/bench/cbench-inline" >"$raw/cbench-inline.dis"
objdump -d --no-show-raw-insn "$target_dir/bench/cbench-exported" >"$raw/cbench-exported.dis"

# The end-to-end workload's section (bench/workload.sh) is kept from $OUT.
python3 bench/report.py --raw "$raw" --n "$N" --r "$R" --cg-n "$CG_N" --tr "$TR" --python "${PY:-}" \
    --keep "$OUT" >"$OUT.new"
mv "$OUT.new" "$OUT"
echo "wrote $OUT" >&2
