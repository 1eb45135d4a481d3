#!/usr/bin/env bash
# The floor model of the exported fire at a DISABLEd site (site.c, driven by
# main.c as bench/cbench.c drives the library): builds it with gcc -O2 as a
# shared library and its driver, and prints the callgrind instructions per
# fire, loop overhead subtracted, beside the library's own cases
# (bench/floors.md, "The lasting mode's per-site rule").
set -euo pipefail
cd "$(dirname "$0")"
out="${CARGO_TARGET_DIR:-../../target}/bench/floor_site"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
cc=${CC:-cc}
"$cc" -O2 -std=gnu11 -Wall -Wextra -Werror -fPIC -shared site.c -o "$out/libfloorsite.so"
"$cc" -O2 -std=gnu11 -Wall -Wextra -Werror main.c -L"$out" -lfloorsite -Wl,-rpath,"$out" -o "$out/floorsite"
"$out/floorsite" 1000 >/dev/null # fails unless every fire was answered by the check
../cgcount.sh "$out/floorsite" "${N:-100000}" | awk '
    { per[$1] = $2 }
    END {
        for (c in per) if (c != "empty_loop") printf "%-20s %6.2f\n", c, per[c] - per["empty_loop"]
    }' | sort
