#!/usr/bin/env bash
# The tool on the public API only: `cmake --install` of a build tree into a
# temporary prefix, then cli/ configured as a project of its own against the
# installed library (find_package(clheads), cli/CMakeLists.txt's standalone
# mode: the same sources, no second copy). Checks that
#   - no compile command of that build names the source tree's include/ or
#     src/ (only the installed headers are on the include path);
#   - the tool links the installed libclheads.so;
#   - `clheads --version` reports the library's version, and a short CIL run
#     on the synthetic data succeeds and writes the same checkpoint, byte for
#     byte, as the in-tree tool (BUILD_DIR/cli/clheads) given the same options.
# Usage: cli_install_test.sh BUILD_DIR [C_COMPILER] [EXTRA_CFLAGS]
set -euo pipefail
build=$(cd "$1" && pwd)
cc=${2:-cc}
extra=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

step() { echo "cli_install_test: $*"; }
fail() { echo "cli_install_test: FAILED: $*" >&2; exit 1; }

step "cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log" >&2; fail "cmake --install"; }

step "configure cli/ against the installed library"
cmake -S "$source_dir/cli" -B "$tmp/cli-build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
  -DCMAKE_C_FLAGS="$extra" -DCMAKE_EXE_LINKER_FLAGS="$extra" -DCMAKE_BUILD_TYPE=Release \
  -DCLH_WERROR=ON -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
  >"$tmp/cmake.log" 2>&1 || { cat "$tmp/cmake.log" >&2; fail "configuring cli/ with find_package(clheads)"; }
cmake --build "$tmp/cli-build" -j2 >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log" >&2; fail "building cli/ against the installed library"; }

commands=$tmp/cli-build/compile_commands.json
[ -s "$commands" ] || fail "no compile_commands.json"
if grep -E -- "-I *$source_dir/(include|src)\b|-isystem *$source_dir/(include|src)\b" "$commands" >&2; then
  fail "the standalone CLI build has the source tree's include/ or src/ on its include path"
fi
grep -F -- "$prefix/include" "$commands" >/dev/null || fail "the installed include/ is not on the include path"

tool=$tmp/cli-build/clheads
libdir=$(dirname "$(find "$prefix" -name 'libclheads.so' -print -quit)")
ldd "$tool" | grep -F "$libdir/libclheads.so" >/dev/null || fail "the tool does not link $libdir/libclheads.so"

step "run the installed-library tool"
version=$("$tool" --version)
want=$(sed -n 's/^#define CLH_VERSION_STRING "\(.*\)"$/\1/p' "$prefix/include/clheads/version.h")
[ -n "$want" ] || fail "no CLH_VERSION_STRING in the installed clheads/version.h"
case "$version" in "clheads $want "*) ;; *) fail "--version printed '$version', expected clheads $want";; esac
run_args=(run --paradigm cil --dataset synthetic --tasks 3 --epochs 1 --seed 3 --threads 1 --quiet)
"$tool" "${run_args[@]}" --out "$tmp/run-installed" >"$tmp/run.log" 2>&1 || { cat "$tmp/run.log" >&2; fail "clheads run (installed library)"; }
for f in results.json acc.csv checkpoint.safetensors; do
  [ -s "$tmp/run-installed/$f" ] || fail "the run wrote no $f"
done
if [ -x "$build/cli/clheads" ]; then
  "$build/cli/clheads" "${run_args[@]}" --out "$tmp/run-in-tree" >"$tmp/run2.log" 2>&1 || { cat "$tmp/run2.log" >&2; fail "clheads run (in-tree)"; }
  cmp "$tmp/run-installed/checkpoint.safetensors" "$tmp/run-in-tree/checkpoint.safetensors" ||
    fail "the installed-library tool's checkpoint differs from the in-tree tool's"
  cmp "$tmp/run-installed/acc.csv" "$tmp/run-in-tree/acc.csv" || fail "acc.csv differs from the in-tree tool's"
fi
step "passed ($version)"
