#!/usr/bin/env bash
# Deterministic budget check: callgrind instruction counts per operation of
# the C benchmark (release cdylib, both header variants) against
# bench/goals.txt. Fails when a case exceeds its budget. Needs valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
# The target directory, as cargo picks it: CARGO_TARGET_DIR, or target.
target_dir=${CARGO_TARGET_DIR:-target}
command -v valgrind >/dev/null || { echo "budget: valgrind not found" >&2; exit 1; }
PYTHON= bench/build.sh
n=${BUDGET_N:-5000}
status=0
for variant in exported inline; do
    cases=$(awk -v v="$variant" '!/^#/ && $2 == v { print $1 }' bench/goals.txt | sort -u)
    bench/cgcount.sh "$target_dir/bench/cbench-$variant" "$n" empty_loop $cases >"$target_dir/bench/budget-$variant.txt"
    awk -v v="$variant" '
        NR == FNR { count[$1] = $2; next }
        /^#/ || NF < 4 || $2 != v { next }
        {
            if (!("empty_loop" in count) || !($1 in count)) { printf "budget: %s/%s not measured\n", $1, v; bad = 1; next }
            per = count[$1] - count["empty_loop"]
            ok = per <= $4 + 0.5
            printf "%-20s %-9s %8.2f  budget %4d  goal %4d  %s\n", $1, v, per, $4, $3, ok ? "ok" : "OVER BUDGET"
            if (!ok) bad = 1
        }
        END { exit bad }
    ' "$target_dir/bench/budget-$variant.txt" bench/goals.txt || status=1
done
exit $status
