#!/usr/bin/env bash
# Build the benchmark programs against the RELEASE cdylib exactly as a C user
# links it (-I include -L target/release -lpymonitoring), in two variants:
# target/bench/cbench-exported (the exported Fire/EnterScope functions) and
# target/bench/cbench-inline (-DPYMONITORING_INLINE: the header's static
# inline wrappers). With a CPython >= 3.13 that has headers (PYTHON, default
# `$(pyenv prefix 3.13.0)/bin/python3`), also target/bench/py/capibench*.so.
set -euo pipefail
cd "$(dirname "$0")/.."
# The target directory, as cargo picks it: CARGO_TARGET_DIR, or target.
target_dir=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet
CC=${CC:-cc}
out="$target_dir/bench"
mkdir -p "$out/py"
lib="$(cd "$target_dir/release" && pwd)"
for variant in exported inline; do
    defs=()
    [ "$variant" = inline ] && defs=(-DPYMONITORING_INLINE)
    "$CC" -O2 -std=gnu11 -Wall -Wextra -Werror "${defs[@]}" -Iinclude bench/cbench.c \
        -o "$out/cbench-$variant" -L"$lib" -lpymonitoring -Wl,-rpath,"$lib" -lpthread
done
if [ -z "${PYTHON:-}" ] && command -v pyenv >/dev/null && pyenv prefix 3.13.0 >/dev/null 2>&1; then
    PYTHON="$(pyenv prefix 3.13.0)/bin/python3"
fi
if [ -n "${PYTHON:-}" ] && [ -x "$PYTHON" ]; then
    inc=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
    ok=$("$PYTHON" -c 'import sys; print(int(sys.version_info >= (3, 13)))')
    if [ "$ok" = 1 ] && [ -f "$inc/cpython/monitoring.h" ]; then
        suffix=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
        "$CC" -O2 -std=gnu11 -Wall -Wextra -shared -fPIC -I"$inc" bench/capibench.c \
            -o "$out/py/capibench$suffix"
        echo "$PYTHON" >"$out/python"
    fi
fi
