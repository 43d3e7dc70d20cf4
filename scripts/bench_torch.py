#!/usr/bin/python3
"""The PyTorch side of the clheads benchmark (scripts/bench.sh runs both).

Times the seed's heads (scripts/seed_heads.py, CLArena's clarena.heads as
documented, bugs included) over the same grid as bench/bench_heads.c, and,
for CIL, a single nn.Linear as wide as all CIL heads together (what a careful
PyTorch user would write instead). Same definitions as the C side:

  fwd     forward under torch.no_grad() (inference; the fastest PyTorch path)
  fwdbwd  zero_grad(set_to_none=True) + forward + F.cross_entropy + backward,
          with the feature requiring grad (it comes from a backbone)
  adam    torch.optim.Adam step over all CIL heads' parameters

The thread count is applied to PyTorch (torch.set_num_threads) and to the
OpenBLAS that PyTorch calls (its own thread pool, which torch does not set).
Each time is the median of repeated calls after a warm-up; repetitions adapt
to the time per call (--budget-ms). Prints tab-separated rows:

  meta   key value
  torch  paradigm op batch in tasks threads seed_us reps wide_us
"""

import argparse
import ctypes
import os
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seed_heads  # noqa: E402  (the seed's classes, reconstructed)


def find_openblas():
    """The OpenBLAS library PyTorch loaded, for its thread knob (or None)."""
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.split()[-1]
                if "openblas" in os.path.basename(path) and ".so" in path:
                    lib = ctypes.CDLL(path)
                    lib.openblas_set_num_threads.argtypes = [ctypes.c_int]
                    return lib
    except (OSError, AttributeError):
        pass
    return None


OPENBLAS = None


def set_threads(n):
    torch.set_num_threads(n)
    if OPENBLAS is not None:
        OPENBLAS.openblas_set_num_threads(n)


def measure(fn, budget_s, min_reps, max_reps):
    """Median seconds per call after a warm-up (>= 1 call and 10% of budget)."""
    start = time.perf_counter()
    calls = 0
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if (calls >= 2 or elapsed > budget_s) and elapsed >= 0.1 * budget_s:
            break
    per_call = elapsed / calls
    reps = int(budget_s / max(per_call, 1e-9))
    reps = max(min_reps, min(max_reps, reps))
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    mid = len(times) // 2
    median = times[mid] if len(times) % 2 else 0.5 * (times[mid - 1] + times[mid])
    return median, reps


def make_seed(paradigm, in_features, tasks):
    """Task ids 1..tasks, 10 classes each, set up as the seed expects."""
    if paradigm == "TIL":
        heads = seed_heads.HeadsTIL(in_features)
        for t in range(1, tasks + 1):
            heads.setup_task_id(t, 10)
    elif paradigm == "CIL":
        heads = seed_heads.HeadsCIL(in_features)
        for t in range(1, tasks + 1):
            heads.setup_task_id(t, 10)
    elif paradigm == "MTL":
        heads = seed_heads.HeadsMTL(in_features)
        ids = list(range(1, tasks + 1))
        heads.setup_tasks(ids, {t: 10 for t in ids})
    elif paradigm == "DIL":
        heads = seed_heads.HeadDIL(in_features)
        heads.setup_task(10)
    else:
        heads = seed_heads.HeadSTL(in_features)
        heads.setup_task(10)
    return heads


def seed_call(paradigm, heads, tasks, task_ids):
    """The forward call each paradigm makes (TIL: the newest head; MTL: mixed batch)."""
    if paradigm == "TIL":
        return lambda x: heads(x, tasks)
    if paradigm == "MTL":
        return lambda x: heads(x, task_ids)
    return lambda x: heads(x)


def forward_fn(call, x):
    def run():
        with torch.no_grad():
            call(x)
    return run


def train_fn(module, call, x, labels):
    def run():
        module.zero_grad(set_to_none=True)
        x.grad = None
        loss = F.cross_entropy(call(x), labels)
        loss.backward()
    return run


def bench_case(args, paradigm, batch, in_features, tasks, gen):
    heads = make_seed(paradigm, in_features, tasks)
    width = tasks * 10 if paradigm == "CIL" else 10
    x = torch.rand(batch, in_features, generator=gen) * 2 - 1
    x_train = x.clone().requires_grad_(True)
    labels = torch.randint(0, width, (batch,), generator=gen)
    task_ids = torch.randint(1, tasks + 1, (batch,), generator=gen) if paradigm == "MTL" else None
    call = seed_call(paradigm, heads, tasks, task_ids)
    wide = nn.Linear(in_features, width) if paradigm == "CIL" else None
    shown_tasks = 1 if paradigm in ("DIL", "STL") else tasks
    for threads in args.threads:
        set_threads(threads)
        for op in ("fwd", "fwdbwd"):
            if op == "fwd":
                seed_run, wide_run = forward_fn(call, x), wide and forward_fn(wide, x)
            else:
                seed_run = train_fn(heads, call, x_train, labels)
                wide_run = wide and train_fn(wide, wide, x_train, labels)
            seed_s, reps = measure(seed_run, args.budget, args.min_reps, args.max_reps)
            wide_us = "nan"
            if wide_run:
                wide_us = "%.3f" % (measure(wide_run, args.budget, args.min_reps, args.max_reps)[0] * 1e6)
            print("torch\t%s\t%s\t%d\t%d\t%d\t%d\t%.3f\t%d\t%s" % (
                paradigm, op, batch, in_features, shown_tasks, threads, seed_s * 1e6, reps, wide_us),
                flush=True)


def bench_adam(args, in_features, tasks, gen):
    heads = make_seed("CIL", in_features, tasks)
    wide = nn.Linear(in_features, tasks * 10)
    x = torch.rand(1, in_features, generator=gen)
    labels = torch.randint(0, tasks * 10, (1,), generator=gen)
    for module in (heads, wide):  # every parameter gets a gradient
        F.cross_entropy(module(x), labels).backward()
    seed_opt = torch.optim.Adam(heads.parameters(), lr=1e-3)
    wide_opt = torch.optim.Adam(wide.parameters(), lr=1e-3)
    for threads in args.threads:
        set_threads(threads)
        seed_s, reps = measure(seed_opt.step, args.budget, args.min_reps, args.max_reps)
        wide_s, _ = measure(wide_opt.step, args.budget, args.min_reps, args.max_reps)
        print("torch\tCIL\tadam\t0\t%d\t%d\t%d\t%.3f\t%d\t%.3f" % (
            in_features, tasks, threads, seed_s * 1e6, reps, wide_s * 1e6), flush=True)


def int_list(text):
    return [int(v) for v in text.split(",")]


def main():
    global OPENBLAS
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="CI: a few shapes, few repetitions")
    parser.add_argument("--batch", type=int_list, default=[1, 32, 256, 1024])
    parser.add_argument("--in", dest="ins", type=int_list, default=[512, 2048])
    parser.add_argument("--tasks", type=int_list, default=[10, 100])
    parser.add_argument("--threads", type=int_list, default=[1, 2])
    parser.add_argument("--paradigms", default="CIL,TIL,MTL,DIL,STL")
    parser.add_argument("--budget-ms", type=float, default=250.0)
    parser.add_argument("--no-optim", action="store_true")
    args = parser.parse_args()
    args.budget = args.budget_ms * 1e-3
    args.min_reps, args.max_reps = 3, 2000
    if args.quick:
        args.batch, args.ins, args.tasks, args.threads = [1, 256], [512], [100], [1]
        args.budget = 0.01
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    OPENBLAS = find_openblas()
    print("meta\ttorch\t%s" % torch.__version__)
    print("meta\ttorch_openblas\t%s" % ("threads set" if OPENBLAS else "not found"))
    paradigms = [p.strip().upper() for p in args.paradigms.split(",")]
    for paradigm in ("CIL", "TIL", "MTL", "DIL", "STL"):
        if paradigm not in paradigms:
            continue
        task_variants = [1] if paradigm in ("DIL", "STL") else args.tasks
        for in_features in args.ins:
            for tasks in task_variants:
                for batch in args.batch:
                    bench_case(args, paradigm, batch, in_features, tasks, gen)
    if not args.no_optim and "CIL" in paradigms:
        for in_features in args.ins:
            for tasks in args.tasks:
                bench_adam(args, in_features, tasks, gen)


if __name__ == "__main__":
    main()
