#!/usr/bin/env bash
# Saving and loading many heads with the optimizer state, this tree beside an
# older one in the same run: builds bench/bench_save.c (public API only)
# against both, runs the two binaries in turn, one repeat each per round, and
# prints per operation the median, minimum and maximum over the rounds, in ms.
#
#   scripts/bench_save_compare.sh BASE_REF [ROUNDS [bench_save options]]
#   scripts/bench_save_compare.sh f133230 5 --heads 10000,100000
#
# BASE_REF is any commit of this repository (exported with git archive, so
# the work tree is not touched). Builds go to $CLH_BENCH_DIR (default
# build-bench-save): base/ and new/. The figures in docs/PERFORMANCE.md come
# from this script.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -lt 1 ]]; then echo "usage: $0 BASE_REF [ROUNDS [bench_save options]]" >&2; exit 2; fi
base_ref=$1; shift
rounds=${1:-5}; [[ $# -gt 0 ]] && shift
prefix=${CLH_BENCH_DIR:-build-bench-save}
jobs=$(( $(nproc) < 2 ? $(nproc) : 2 ))
root=$PWD

mkdir -p "$prefix/base-src"
git archive "$base_ref" | tar -x -C "$prefix/base-src"
cp bench/bench_save.c "$prefix/base-src/bench/"
if ! grep -q bench_save "$prefix/base-src/bench/CMakeLists.txt"; then
  cat >> "$prefix/base-src/bench/CMakeLists.txt" <<'CMAKE'
add_executable(bench_save bench_save.c)
target_link_libraries(bench_save PRIVATE clheads_static m)
CMAKE
fi

build() { # source dir, build dir
  cmake -S "$1" -B "$2" -DCMAKE_BUILD_TYPE=Release -DCLH_BUILD_TESTS=OFF -DCLH_BUILD_CLI=OFF \
        -DCLH_BUILD_BENCH=ON >/dev/null
  cmake --build "$2" -j"$jobs" --target bench_save >/dev/null
}
echo "building $base_ref and this tree in $prefix/..." >&2
build "$prefix/base-src" "$prefix/base"
build "$root" "$prefix/new"

results="$prefix/results.tsv"
: > "$results"
for ((r = 1; r <= rounds; r++)); do
  for side in base new; do
    echo "round $r/$rounds: $side" >&2
    "$prefix/$side/bench/bench_save" --reps 1 --path "$prefix/$side.safetensors" "$@" |
      awk -v side="$side" -F'\t' '$1 == "time" { print side "\t" $2 "\t" $3 "\t" $4 }' >> "$results"
  done
done

# side op heads ms -> one row per op and head count: base and new, median [min, max].
python3 - "$results" "$base_ref" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    side, op, heads, ms = line.split("\t")
    rows.setdefault((int(heads), op), {}).setdefault(side, []).append(float(ms))
print(f"| heads | operation | {sys.argv[2]} (ms) | this tree (ms) | ratio |")
print("|---:|---|---:|---:|---:|")
for (heads, op), sides in sorted(rows.items()):
    def cell(v):
        return f"{statistics.median(v):.0f} [{min(v):.0f}, {max(v):.0f}]"
    b, n = sides.get("base", []), sides.get("new", [])
    ratio = statistics.median(b) / statistics.median(n) if b and n else float("nan")
    print(f"| {heads:,} | {op} | {cell(b)} | {cell(n)} | {ratio:.1f}x |")
PY
