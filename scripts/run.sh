#!/usr/bin/env bash
# The README's run command: from a fresh clone to the Split MNIST table.
# Installs what is missing, builds the `clheads` tool, fetches and converts the
# digits once (data/, cached), then runs fine-tuning in the three continual
# settings (TIL, CIL, DIL) and the two joint references (MTL: the
# task-incremental upper bound; STL over ten digits: the class-incremental upper
# bound), and prints one table. Outputs (results.json, acc.csv, SVGs,
# checkpoints) go to runs/split-mnist/<paradigm>/ (gitignored).
# Extra arguments are passed to every `clheads run` (e.g. --seed 2 --threads 1).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
build=${CLH_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target clheads >/dev/null
bash scripts/fetch_mnist.sh
out=${CLH_RUNS_DIR:-runs/split-mnist}
mkdir -p "$out"

# A top-level number from results.json (two-space indent = top level).
field() { sed -n "s/^  \"$2\": \(.*\),\{0,1\}$/\1/p" "$1" | tr -d ','; }
# A number of the task-aware block of a CIL run.
aware() { sed -n "/^  \"task_aware\"/,/^  }/s/^    \"$2\": \(.*\),\{0,1\}$/\1/p" "$1" | tr -d ','; }
pct() { awk -v v="$1" 'BEGIN { if (v == "null" || v == "") print "-"; else printf "%.2f", 100 * v }'; }
pp() { awk -v v="$1" 'BEGIN { if (v == "null" || v == "") print "-"; else printf "%+.2f", 100 * v }'; }

start=$(date +%s.%N)
for p in til cil dil mtl stl; do
  echo "== clheads run --paradigm $p --dataset split-mnist $*" >&2
  "$build/cli/clheads" run --paradigm "$p" --dataset split-mnist --out "$out/$p" --quiet "$@" \
    | tee "$out/$p.txt"
  echo
done
elapsed=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')

printf 'Split MNIST, MLP 784-400-400, %s (accuracy in %%, averaged over the 5 tasks after the last one)\n' \
  "$(sed -n 's/^clheads run: [A-Z]* on split-mnist, 5 tasks, \(.*\)$/\1/p' "$out/til.txt")"
printf '| %-40s | %8s | %8s | %10s | %-34s |\n' "setting" "accuracy" "BWT" "forgetting" "Hsu et al. 2018, Table 2 (Adam)"
printf '|%s|%s|%s|%s|%s|\n' "------------------------------------------" "----------" "----------" "------------" "------------------------------------"
row() { printf '| %-40s | %8s | %8s | %10s | %-34s |\n' "$1" "$2" "$3" "$4" "$5"; }
j="$out/til/results.json"
row "TIL fine-tuning (one head per task)" "$(pct "$(field "$j" final_average_accuracy)")" \
  "$(pp "$(field "$j" backward_transfer)")" "$(pct "$(field "$j" forgetting)")" "93.46 +- 2.01 (incremental task)"
j="$out/cil/results.json"
row "CIL fine-tuning, task-agnostic" "$(pct "$(field "$j" final_average_accuracy)")" \
  "$(pp "$(field "$j" backward_transfer)")" "$(pct "$(field "$j" forgetting)")" "19.71 +- 0.08 (incremental class)"
row "CIL fine-tuning, task-aware" "$(pct "$(aware "$j" final_average_accuracy)")" \
  "$(pp "$(aware "$j" backward_transfer)")" "$(pct "$(aware "$j" forgetting)")" "-"
j="$out/dil/results.json"
row "DIL fine-tuning (one head, digit mod 2)" "$(pct "$(field "$j" final_average_accuracy)")" \
  "$(pp "$(field "$j" backward_transfer)")" "$(pct "$(field "$j" forgetting)")" "55.16 +- 1.38 (incremental domain)"
j="$out/mtl/results.json"
row "MTL joint (TIL upper bound)" "$(pct "$(field "$j" final_average_accuracy)")" "-" "-" "99.52 +- 0.16 (offline, task)"
j="$out/stl/results.json"
row "STL joint, 10 digits (CIL upper bound)" "$(pct "$(field "$j" final_average_accuracy)")" "-" "-" "97.53 +- 0.30 (offline, class)"
echo "5 runs in ${elapsed} s; results, acc.csv and SVGs under $out/<paradigm>/"
