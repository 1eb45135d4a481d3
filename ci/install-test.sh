#!/usr/bin/env bash
# Install pymonitoring into a temporary prefix with `make install`, then build
# and run an external C program using nothing but pkg-config, against the
# shared library and against the static one.
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=$(mktemp -d "${TMPDIR:-/tmp}/pymonitoring-prefix.XXXXXX")
work=$(mktemp -d "${TMPDIR:-/tmp}/pymonitoring-app.XXXXXX")
trap 'rm -rf "$prefix" "$work"' EXIT

make install PREFIX="$prefix"

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
version=$(make -s print-version | cut -d' ' -f1)
soname=$(make -s print-version | cut -d' ' -f2)

echo "== pkg-config"
test "$(pkg-config --modversion pymonitoring)" = "$version"
pkg-config --cflags --libs pymonitoring

echo "== installed files"
test -f "$prefix/include/pymonitoring.h"
test -f "$prefix/lib/libpymonitoring.a"
test -f "$prefix/lib/libpymonitoring.so.$version"
test "$(readlink "$prefix/lib/$soname")" = "libpymonitoring.so.$version"
test "$(readlink "$prefix/lib/libpymonitoring.so")" = "$soname"
readelf -d "$prefix/lib/libpymonitoring.so.$version" | grep -q "Library soname: \[$soname\]"
# Its own calls bind inside it, also where CPython defines the same names
# first (README, "Processes that also load CPython"): no GOT/PLT entry for
# its own names (-Bsymbolic-functions from build.rs reaches `cargo rustc`).
if readelf -rW "$prefix/lib/libpymonitoring.so.$version" | grep -E ' _?PyMonitoring_\w+ '; then
    echo "the installed library binds its own names through the GOT/PLT" >&2
    exit 1
fi

echo "== shared: cc \$(pkg-config --cflags --libs pymonitoring)"
cp ci/install-test.c "$work/app.c"
cd "$work"
# shellcheck disable=SC2046
${CC:-cc} -std=c11 -Wall -Wextra -Werror -o app app.c $(pkg-config --cflags --libs pymonitoring)
readelf -d app | grep -q "Shared library: \[$soname\]"
LD_LIBRARY_PATH="$(pkg-config --variable=libdir pymonitoring)" ./app

echo "== static: libpymonitoring.a and Libs.private"
libdir=$(pkg-config --variable=libdir pymonitoring)
# shellcheck disable=SC2046
${CC:-cc} -std=c11 -Wall -Wextra -Werror -o app-static app.c $(pkg-config --cflags pymonitoring) \
    "$libdir/libpymonitoring.a" $(pkg-config --static --libs-only-l pymonitoring | sed 's/-lpymonitoring//')
if readelf -d app-static | grep -q libpymonitoring; then
    echo "app-static still needs the shared library" >&2
    exit 1
fi
./app-static
echo "install test: ok"
