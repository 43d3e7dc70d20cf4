#!/usr/bin/python3
"""A PyTorch-exported features data set and the analytic methods' reference predictions on it
(tests/test_cli_features.c), the references in float64 numpy.

A small backbone (torch: Linear(10, 16), ReLU, Linear(16, 8), Tanh, seeded) turns synthetic
inputs (class prototypes plus noise) of 3 tasks of 2 classes into features of width 8,
exported with torch/numpy as the files `clheads run --dataset features` reads:

    tests/data/features/train.safetensors   feature [180, 8] F32, label [180] I64, task [180] I64
    tests/data/features/test.safetensors    feature [90, 8] F32, ...

Labels are local to the task (0, 1); the CIL label is 2 * task + label. From the same float32
features the script computes, in float64, what `clheads run` computes after each task t (the
statistics of tasks 0..t, one shared Gram / scatter matrix, every head solved again):

    ridge  W = (G + lam I)^-1 Q over all classes seen, b = 0                       (lam = 1)
    ncm    W_c = mean_c, b_c = -1/2 |mean_c|^2
    slda   Sigma = pooled within-class scatter / N, Lam = ((1-eps) Sigma + eps I)^-1,
           W_c = Lam mean_c, b_c = -1/2 mean_c . W_c                               (eps = 0.01)

CIL: argmax over the classes seen; TIL: the CIL logits of the sample's task's classes (the
heads of a shared matrix are the CIL solution's rows); DIL: one head over the local labels.
It also reproduces the random-feature expansion (scripts/gen_analytic_reference.py) for ridge
on ReLU(x P^T) of width 32, and writes the logits `clheads predict` must give for the test
features. Writes tests/data/features/reference.bin (scripts/refdata.py) with, per method and
paradigm, the predictions after each task [tasks, test] (-1 where not evaluated) and the
accuracy matrix [tasks, tasks]; and it checks that no prediction is a near tie (margin below
1e-3), so float32 heads cannot flip one. Run:

    /usr/bin/python3 scripts/gen_features_reference.py
"""

import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_analytic_reference import random_projection  # noqa: E402
from refdata import write_refdata  # noqa: E402
from safetensors_lite import write_safetensors  # noqa: E402

TASKS, CLASSES, RAW, WIDTH = 3, 2, 10, 8
TRAIN_PER_CLASS, TEST_PER_CLASS = 30, 15
LAMBDA, SHRINKAGE = 1.0, 0.01
EXPANSION, SEED = 32, 1
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "features")


def make_split(gen, prototypes, per_class):
    xs, labels, tasks = [], [], []
    for t in range(TASKS):
        for c in range(CLASSES):
            g = t * CLASSES + c
            xs.append(prototypes[g] + 0.6 * torch.randn(per_class, RAW, generator=gen))
            labels += [c] * per_class
            tasks += [t] * per_class
    return torch.cat(xs), np.array(labels, np.int64), np.array(tasks, np.int64)


def ridge(h, y, classes):
    onehot = np.eye(classes)[y]
    return np.linalg.solve(h.T @ h + LAMBDA * np.eye(h.shape[1]), h.T @ onehot).T, np.zeros(classes)


def ncm(h, y, classes):
    mu = np.stack([h[y == c].mean(0) for c in range(classes)])
    return mu, -0.5 * (mu * mu).sum(1)


def slda(h, y, classes):
    mu = np.stack([h[y == c].mean(0) for c in range(classes)])
    centred = h - mu[y]
    sigma = centred.T @ centred / h.shape[0]
    lam = np.linalg.inv((1 - SHRINKAGE) * sigma + SHRINKAGE * np.eye(h.shape[1]))
    w = mu @ lam
    return w, -0.5 * (w * mu).sum(1)


METHODS = {"ridge": ridge, "ncm": ncm, "slda": slda}


def predictions(method, paradigm, h_tr, y_tr, t_tr, h_te, y_te, t_te):
    """[TASKS, test] predictions (local class for TIL/DIL, global for CIL) after each task,
    the accuracy matrix, and the smallest margin between the best and second logit."""
    preds = -np.ones((TASKS, len(y_te)), np.int64)
    acc = np.full((TASKS, TASKS), np.nan)
    margin = np.inf
    for row in range(TASKS):
        seen = t_tr <= row
        if paradigm == "dil":
            w, b = METHODS[method](h_tr[seen], y_tr[seen], CLASSES)
        else:
            w, b = METHODS[method](h_tr[seen], t_tr[seen] * CLASSES + y_tr[seen],
                                   (row + 1) * CLASSES)
        logits = h_te @ w.T + b
        for tau in range(row + 1):
            m = t_te == tau
            z = logits[m]
            if paradigm == "til":
                z = z[:, tau * CLASSES:(tau + 1) * CLASSES]
            order = np.sort(z, 1)
            margin = min(margin, float((order[:, -1] - order[:, -2]).min()))
            p = z.argmax(1)
            truth = y_te[m] if paradigm != "cil" else tau * CLASSES + y_te[m]
            preds[row, m] = p
            acc[row, tau] = (p == truth).mean()
    return preds, acc, margin


def main():
    gen = torch.Generator().manual_seed(20261201)
    prototypes = 1.5 * torch.randn(TASKS * CLASSES, RAW, generator=gen)
    x_tr, y_tr, t_tr = make_split(gen, prototypes, TRAIN_PER_CLASS)
    x_te, y_te, t_te = make_split(gen, prototypes, TEST_PER_CLASS)
    torch.manual_seed(3)
    backbone = torch.nn.Sequential(torch.nn.Linear(RAW, 16), torch.nn.ReLU(),
                                   torch.nn.Linear(16, WIDTH), torch.nn.Tanh())
    with torch.no_grad():
        f_tr = backbone(x_tr).numpy().astype(np.float32)
        f_te = backbone(x_te).numpy().astype(np.float32)
    os.makedirs(OUT, exist_ok=True)
    write_safetensors(os.path.join(OUT, "train.safetensors"),
                      {"feature": f_tr, "label": y_tr, "task": t_tr})
    write_safetensors(os.path.join(OUT, "test.safetensors"),
                      {"feature": f_te, "label": y_te, "task": t_te})
    h_tr, h_te = f_tr.astype(np.float64), f_te.astype(np.float64)
    arrays = {}
    worst = np.inf
    for method in METHODS:
        for paradigm in ("cil", "til", "dil"):
            preds, acc, margin = predictions(method, paradigm, h_tr, y_tr, t_tr, h_te, y_te, t_te)
            arrays[f"{method}.{paradigm}.pred"] = preds
            arrays[f"{method}.{paradigm}.acc"] = acc.astype(np.float32)
            worst = min(worst, margin)
            print(f"{method:5s} {paradigm}: final accuracies {np.round(acc[-1], 4)}, "
                  f"smallest margin {margin:.2e}")
    # Ridge on the expansion ReLU(x P^T) of width 32, P from (seed 1, in 8, width 32), CIL:
    # the logits `clheads predict` gives for the test features.
    p = random_projection(SEED, WIDTH, EXPANSION).astype(np.float64)
    e_tr = np.maximum(f_tr.astype(np.float32) @ p.astype(np.float32).T, 0).astype(np.float64)
    e_te = np.maximum(f_te.astype(np.float32) @ p.astype(np.float32).T, 0).astype(np.float64)
    w, b = ridge(e_tr, t_tr * CLASSES + y_tr, TASKS * CLASSES)
    logits = e_te @ w.T + b
    order = np.sort(logits, 1)
    worst = min(worst, float((order[:, -1] - order[:, -2]).min()))
    arrays["ridge.cil.expansion.logits"] = logits.astype(np.float32)
    arrays["ridge.cil.expansion.pred"] = logits.argmax(1).astype(np.int64)
    print(f"ridge CIL on the expansion: accuracy "
          f"{(logits.argmax(1) == t_te * CLASSES + y_te).mean():.4f}")
    if worst < 1e-3:
        raise SystemExit(f"a near tie (margin {worst:.2e}): choose another seed")
    write_refdata(os.path.join(OUT, "reference.bin"), arrays)
    print(f"wrote {OUT}/{{train,test}}.safetensors and reference.bin (smallest margin "
          f"{worst:.2e})")


if __name__ == "__main__":
    main()
