#!/usr/bin/env bash
# Install pymonitoring into a temporary prefix with `make install`, then build
# and run an external C program using nothing but pkg-config, against the
# shared library and against the static one. Also: the install leaves the
# in-tree build (target/release, or $CARGO_TARGET_DIR/release) alone, and the
# installed libraries carry no debug info.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir=${CARGO_TARGET_DIR:-target}
# An in-tree library from before, to see that the install leaves it alone.
intree="$target_dir/release/libpymonitoring.so"
before=none
[ -f "$intree" ] && before=$(sha256sum "$intree" | cut -d' ' -f1)

prefix=$(mktemp -d "${TMPDIR:-/tmp}/pymonitoring-prefix.XXXXXX")
work=$(mktemp -d "${TMPDIR:-/tmp}/pymonitoring-app.XXXXXX")
trap 'rm -rf "$prefix" "$work"' EXIT

make install PREFIX="$prefix"

echo "== the in-tree build is untouched"
after=none
[ -f "$intree" ] && after=$(sha256sum "$intree" | cut -d' ' -f1)
test "$before" = "$after"
if [ -f "$intree" ] && readelf -d "$intree" | grep -q SONAME; then
    echo "$intree has a soname: make install rebuilt it" >&2
    exit 1
fi

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

echo "== no debug info installed"
for lib in "$prefix/lib/libpymonitoring.so.$version" "$prefix/lib/libpymonitoring.a"; do
    if readelf -S "$lib" | grep -q '\.debug_'; then
        echo "$lib has debug sections" >&2
        exit 1
    fi
    ls -l "$lib"
done

echo "== shared: cc \$(pkg-config --cflags --libs pymonitoring)"
cp .ci/install-test.c "$work/app.c"
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
