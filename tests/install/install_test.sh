#!/usr/bin/env bash
# Install test: `cmake --install` of a build tree into a temporary prefix, then
# the consumer program built against what was installed, three ways:
#   1. pkg-config --cflags --libs clheads (shared library)
#   2. pkg-config --static --libs clheads, with libclheads.a (checks Libs.private)
#   3. a CMake project using find_package(clheads) (shared and static targets)
# Each consumer must run and exit 0.
# Usage: install_test.sh BUILD_DIR [C_COMPILER] [EXTRA_CFLAGS]
set -euo pipefail
build=$(cd "$1" && pwd)
cc=${2:-cc}
extra=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

step() { echo "install_test: $*"; }
fail() { echo "install_test: FAILED: $*" >&2; exit 1; }

step "cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log" >&2; fail "cmake --install"; }
[ -f "$prefix/include/clheads.h" ] || fail "include/clheads.h not installed"
for h in status heads linear; do
  [ -f "$prefix/include/clheads/$h.h" ] || fail "include/clheads/$h.h not installed"
done
pc=$(find "$prefix" -name clheads.pc -print -quit)
[ -n "$pc" ] || fail "no clheads.pc installed"
ls "$(dirname "$(dirname "$pc")")"/libclheads.a >/dev/null || fail "libclheads.a not next to pkgconfig/"
export PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_LIBDIR=$(dirname "$pc"):/usr/lib/x86_64-linux-gnu/pkgconfig:/usr/lib/pkgconfig:/usr/share/pkgconfig

# The .pc must point into the temporary prefix by itself (no --define-prefix).
cflags=$(pkg-config --cflags clheads)
libs=$(pkg-config --libs clheads)
libdir=$(pkg-config --variable=libdir clheads)
case "$(cd "$libdir" && pwd)" in "$prefix"*) ;; *) fail "clheads.pc libdir $libdir is outside $prefix";; esac
step "pkg-config: cflags '$cflags' libs '$libs'"

# -I and -L only from pkg-config: nothing from the source or build tree.
# shellcheck disable=SC2086
$cc -std=c11 -Wall -Wextra -Werror $extra "$here/consumer.c" -o "$tmp/consumer_pc" $cflags $libs -lm
# grep reads all of ldd's output (no -q): with pipefail, a grep that exits at
# its first match can kill ldd with SIGPIPE and fail the pipeline under load.
ldd "$tmp/consumer_pc" | grep -F "$libdir/libclheads.so" >/dev/null || LD_LIBRARY_PATH=$libdir ldd "$tmp/consumer_pc" | grep -F "$libdir/libclheads.so" >/dev/null || fail "consumer not linked to the installed libclheads.so"
step "run (shared, pkg-config)"
LD_LIBRARY_PATH=$libdir "$tmp/consumer_pc" || fail "pkg-config consumer (shared)"

static_libs=$(pkg-config --static --libs clheads | sed 's/-lclheads\b/-l:libclheads.a/')
step "pkg-config --static: libs '$static_libs'"
# shellcheck disable=SC2086
$cc -std=c11 -Wall -Wextra -Werror $extra "$here/consumer.c" -o "$tmp/consumer_pc_static" $cflags $static_libs -lm
if ldd "$tmp/consumer_pc_static" | grep libclheads >/dev/null; then fail "static consumer still needs libclheads.so"; fi
step "run (static, pkg-config)"
"$tmp/consumer_pc_static" || fail "pkg-config consumer (static)"

step "find_package(clheads)"
cmake -S "$here" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
  -DCMAKE_C_FLAGS="$extra" -DCMAKE_EXE_LINKER_FLAGS="$extra" -DCMAKE_BUILD_TYPE=Release \
  >"$tmp/cmake.log" 2>&1 || { cat "$tmp/cmake.log" >&2; fail "configuring the find_package consumer"; }
cmake --build "$tmp/cmake-build" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log" >&2; fail "building the find_package consumer"; }
step "run (shared, find_package)"
"$tmp/cmake-build/consumer" || fail "find_package consumer (clheads::clheads)"
step "run (static, find_package)"
"$tmp/cmake-build/consumer_static" || fail "find_package consumer (clheads::clheads_static)"
step "passed"
