#!/usr/bin/env bash
# Instructions per iteration of each measured loop of a benchmark program, from
# callgrind: `cgcount.sh N PROGRAM [ARGS...]` runs PROGRAM under
# `valgrind --tool=callgrind --collect-atstart=no`; the program toggles
# collection around each measured loop and dumps once per case
# (CALLGRIND_DUMP_STATS_AT(case)). Prints "case instructions_per_iteration"
# (loop overhead included; subtract empty_loop for the per-operation cost).
# N must be the iteration count the program uses for its loops.
set -euo pipefail
n=$1
shift
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$dir/cg.out" \
    "$@" >"$dir/stdout" 2>"$dir/stderr" || {
    cat "$dir/stderr" "$dir/stdout" >&2
    exit 1
}
# One file per dump: cg.out.1, cg.out.2, ... (plus the final cg.out).
for f in $(ls "$dir"/cg.out.* 2>/dev/null | sort -t. -k3 -n); do
    awk -v n="$n" '
        /^desc: Trigger: Client Request: / { sub(/^desc: Trigger: Client Request: /, ""); name = $0 }
        /^(summary|totals): / { total = $2 }
        END { if (name != "") printf "%s %.2f\n", name, total / n }
    ' "$f"
done
