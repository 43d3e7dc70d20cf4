#!/usr/bin/env bash
# The benchmark of issue 5, in one run: builds clheads twice (with OpenBLAS,
# and without BLAS for the portable kernels), runs bench/bench_heads.c from
# both builds and scripts/bench_torch.py (the seed's PyTorch heads and a wide
# nn.Linear) one after the other, and prints ONE Markdown table with medians,
# ratios, sgemm fractions, allocations and memory (scripts/bench_table.py).
#
#   scripts/bench.sh            the full grid (a few minutes)
#   scripts/bench.sh --quick    CI: a few shapes, few repetitions, no time checks
#
# Environment: CLH_BENCH_DIR (build/output prefix, default build-bench),
# CLH_BENCH_ARGS (grid options passed to both sides, e.g. "--paradigms CIL
# --threads 2"; see clheads_bench --help), CLH_BENCH_PYTHON (default
# /usr/bin/python3). OPENBLAS_CORETYPE is left as the machine sets it.
# Results: $CLH_BENCH_DIR-results/{blas,portable,torch}.tsv and table.md.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=()
if [[ "${1:-}" == "--quick" ]]; then mode=(--quick); shift; fi
if [[ $# -gt 0 ]]; then echo "usage: scripts/bench.sh [--quick]" >&2; exit 2; fi

prefix=${CLH_BENCH_DIR:-build-bench}
jobs=$(( $(nproc) < 2 ? $(nproc) : 2 ))
python=${CLH_BENCH_PYTHON:-/usr/bin/python3}  # Debian's python3 with torch (the first python3 on PATH may lack it)
extra=(${CLH_BENCH_ARGS:-})

build() { # dir, cmake options...
  local dir=$1; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DCLH_BUILD_TESTS=OFF -DCLH_BUILD_CLI=OFF \
        -DCLH_BUILD_BENCH=ON "$@" >/dev/null
  cmake --build "$dir" -j"$jobs" --target clheads_bench >/dev/null
}

echo "building ($prefix-blas, $prefix-portable)..." >&2
build "$prefix-blas" -DCLH_USE_BLAS=ON
build "$prefix-portable" -DCLH_USE_BLAS=OFF

out="$prefix-results"
mkdir -p "$out"
echo "running clheads (OpenBLAS build)..." >&2
"$prefix-blas/bench/clheads_bench" "${mode[@]}" "${extra[@]}" > "$out/blas.tsv"
echo "running clheads (portable build)..." >&2
"$prefix-portable/bench/clheads_bench" "${mode[@]}" "${extra[@]}" --no-memory > "$out/portable.tsv"
if "$python" -c "import torch" 2>/dev/null; then
  echo "running PyTorch (seed heads, wide nn.Linear)..." >&2
  "$python" scripts/bench_torch.py "${mode[@]}" "${extra[@]}" > "$out/torch.tsv"
else
  echo "warning: $python has no torch (Debian: apt-get install python3-torch); PyTorch columns stay empty" >&2
  : > "$out/torch.tsv"
fi

# The table needs no torch: any python3 will do.
table_python=$python
[[ -x "$table_python" ]] || table_python=$(command -v python3)
"$table_python" scripts/bench_table.py --blas "$out/blas.tsv" --portable "$out/portable.tsv" \
  --torch "$out/torch.tsv" | tee "$out/table.md"
