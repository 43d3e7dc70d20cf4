#!/usr/bin/env bash
# The README's run command: from a fresh clone to the Split MNIST table.
# Installs what is missing, builds the `clheads` tool, fetches full MNIST once
# (60,000 training and 10,000 test images; data/, cached and checksummed), then
# runs, on the images padded to 32x32 as Hsu et al. 2018 do (--pad32: an MLP
# 1024-400-400), fine-tuning in the three continual settings (TIL, CIL, DIL)
# and the two joint references (MTL: the task-incremental upper bound; STL over
# ten digits: the class-incremental upper bound), and prints one table. Outputs (results.json, acc.csv, SVGs,
# checkpoints) go to runs/split-mnist/<paradigm>/ (gitignored).
# Extra arguments are passed to every `clheads run` (e.g. --seed 2 --threads 1).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh --with-npm
build=${CLH_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target clheads >/dev/null
bash scripts/fetch_mnist_full.sh
out=${CLH_RUNS_DIR:-runs/split-mnist}
mkdir -p "$out"

start=$(date +%s.%N)
for p in til cil dil mtl stl; do
  echo "== clheads run --paradigm $p --dataset split-mnist --pad32 $*" >&2
  "$build/cli/clheads" run --paradigm "$p" --dataset split-mnist --pad32 --out "$out/$p" --force --quiet "$@" \
    | tee "$out/$p.txt"
  echo
done
elapsed=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')

printf 'Split MNIST (60,000 / 10,000 images, padded to 32x32), %s, %s (accuracy in %%, averaged over the 5 tasks after the last one)\n' \
  "$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["options"]["backbone"])' "$out/til/results.json")" \
  "$(sed -n 's/^clheads run: [A-Z]* on split-mnist[^,]*, 5 tasks, \(.*\)$/\1/p' "$out/til.txt")"
# The rows, read from each run's results.json (the task-aware numbers of CIL
# from its "task_aware" block).
/usr/bin/python3 - "$out" <<'PY'
import json
import sys

out = sys.argv[1]
rows = [  # setting, run, block, with BWT and forgetting, Hsu et al. 2018
    ("TIL fine-tuning (one head per task)", "til", None, True, "93.46 +- 2.01 (incremental task)"),
    ("CIL fine-tuning, task-agnostic", "cil", None, True, "19.71 +- 0.08 (incremental class)"),
    ("CIL fine-tuning, task-aware", "cil", "task_aware", True, "-"),
    ("DIL fine-tuning (one head, digit mod 2)", "dil", None, True, "55.16 +- 1.38 (incremental domain)"),
    ("MTL joint (TIL upper bound)", "mtl", None, False, "99.52 +- 0.16 (offline, task)"),
    ("STL joint, 10 digits (CIL upper bound)", "stl", None, False, "97.53 +- 0.30 (offline, class)"),
]


def cell(value, fmt):
    return "-" if value is None else format(100 * value, fmt)


line = "| {:<40} | {:>8} | {:>8} | {:>10} | {:<34} |"
print(line.format("setting", "accuracy", "BWT", "forgetting", "Hsu et al. 2018, Table 2 (Adam)"))
print("|" + "|".join("-" * w for w in (42, 10, 10, 12, 36)) + "|")
for setting, run, block, transfer, paper in rows:
    with open(f"{out}/{run}/results.json") as f:
        results = json.load(f)
    r = results[block] if block else results
    bwt = cell(r["backward_transfer"], "+.2f") if transfer else "-"
    forgetting = cell(r["forgetting"], ".2f") if transfer else "-"
    print(line.format(setting, cell(r["final_average_accuracy"], ".2f"), bwt, forgetting, paper))
PY
echo "5 runs in ${elapsed} s; results, acc.csv and SVGs under $out/<paradigm>/"
