#!/usr/bin/env bash
# Instructions per iteration of each measured loop of a benchmark program, from
# callgrind: `cgcount.sh PROGRAM [ARGS...]` runs PROGRAM under
# `valgrind --tool=callgrind --collect-atstart=no`. The program toggles
# collection around each measured loop only (CALLGRIND_TOGGLE_COLLECT), dumps
# once per case (CALLGRIND_DUMP_STATS_AT(case)) and prints "case ns iterations"
# lines. Prints "case instructions_per_iteration" (loop overhead included;
# subtract empty_loop for the per-operation cost). Deterministic. CG_PRELOAD:
# a library to preload into PROGRAM (set as LD_PRELOAD for valgrind, which
# passes it on to the program it runs).
set -euo pipefail
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
env ${CG_PRELOAD:+LD_PRELOAD="$CG_PRELOAD"} valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$dir/cg.out" \
    "$@" >"$dir/stdout" 2>"$dir/stderr" || {
    cat "$dir/stderr" "$dir/stdout" >&2
    exit 1
}
# One file per dump (cg.out.1, cg.out.2, ...); iterations from the program.
for f in "$dir"/cg.out.*; do
    awk '
        /^desc: Trigger: Client Request: / { sub(/^desc: Trigger: Client Request: /, ""); name = $0 }
        /^(summary|totals): / { total = $2 }
        END { if (name != "") print name, total }
    ' "$f"
done | awk 'NR == FNR { iters[$1] = $3; next }
            ($1 in iters) && iters[$1] > 0 { printf "%s %.2f\n", $1, $2 / iters[$1] }' \
    "$dir/stdout" - | sort
