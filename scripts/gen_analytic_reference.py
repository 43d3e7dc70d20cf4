#!/usr/bin/python3
"""Reference values for the analytic heads (tests/test_analytic_*.c), in numpy float64.

From one small data set (5 tasks of 2 classes, raw inputs of width 10), this
script reproduces clheads' random-feature expansion exactly (see
include/clheads/analytic.h: Box-Muller over splitmix64), expands the inputs to
width 24, and solves every method on the expanded features in one shot:

  ridge  W = (G + lam I)^-1 Q, G = H^T H, Q = H^T onehot(y)           (lam = 0.5)
         with fit_bias: [H, 1] augmented, lam not on the constant's entry
  ncm    W_c = mean_c, b_c = -1/2 |mean_c|^2; normalised: F.normalize'd features,
         W_c = normalised mean, b_c = 0
  lda    Sigma = within-class scatter / N, Lam = ((1-eps) Sigma + eps I)^-1,
         W_c = Lam mean_c, b_c = -1/2 mean_c . W_c                     (eps = 0.01)

for CIL (after every task: classes 0..2t+1), TIL (each task on its own data,
labels local) and DIL (label = class mod 2, one head). The C tests stream the
same float32 features batch by batch and sample by sample and compare.

Writes tests/data/analytic/reference.bin (scripts/refdata.py format). Run:
    /usr/bin/python3 scripts/gen_analytic_reference.py
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refdata import write_refdata  # noqa: E402

MASK64 = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB
STREAM_CONSTANT = 0x6A09E667F3BCC909

TASKS, CLASSES_PER_TASK, PER_TASK, RAW, WIDTH, SEED = 5, 2, 30, 10, 24, 7
LAMBDA, SHRINKAGE = 0.5, 0.01


def splitmix64(state, count):
    """count outputs of splitmix64 from state, vectorised in uint64 (wrapping) arithmetic."""
    steps = np.arange(1, count + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(state) + steps * np.uint64(GAMMA)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(MIX1)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(MIX2)
    return z ^ (z >> np.uint64(31))


def random_projection(seed, d_in, width):
    """clheads' expansion weight P [width, d_in], float32, bit for bit."""
    count = width * d_in
    pairs = (count + 1) // 2
    raw = splitmix64((seed ^ STREAM_CONSTANT) & MASK64, 2 * pairs)
    u1 = ((raw[0::2] >> np.uint64(11)).astype(np.float64) + 1.0) * 2.0**-53
    u2 = (raw[1::2] >> np.uint64(11)).astype(np.float64) * 2.0**-53
    r = np.sqrt(-2.0 * np.log(u1))
    std = 1.0 / np.sqrt(float(d_in))
    z = np.empty(2 * pairs)
    z[0::2] = r * np.cos(6.283185307179586 * u2) * std
    z[1::2] = r * np.sin(6.283185307179586 * u2) * std
    return z[:count].astype(np.float32).reshape(width, d_in)


def ridge(h, y, classes, fit_bias):
    n, d = h.shape
    a = np.hstack([h, np.ones((n, 1))]) if fit_bias else h
    onehot = np.zeros((n, classes))
    onehot[np.arange(n), y] = 1.0
    reg = LAMBDA * np.eye(a.shape[1])
    if fit_bias:
        reg[d, d] = 0.0
    sol = np.linalg.solve(a.T @ a + reg, a.T @ onehot)  # [d(+1), classes]
    w = sol[:d].T
    b = sol[d] if fit_bias else np.zeros(classes)
    return w, b


def ncm(h, y, classes, normalize):
    if normalize:
        h = h / np.maximum(np.linalg.norm(h, axis=1, keepdims=True), 1e-12)
    mu = np.stack([h[y == c].mean(axis=0) for c in range(classes)])
    if normalize:
        mu = mu / np.maximum(np.linalg.norm(mu, axis=1, keepdims=True), 1e-12)
        return mu, np.zeros(classes)
    return mu, -0.5 * (mu * mu).sum(axis=1)


def lda(h, y, classes):
    mu = np.stack([h[y == c].mean(axis=0) for c in range(classes)])
    centred = h - mu[y]
    sigma = centred.T @ centred / h.shape[0]
    a = (1.0 - SHRINKAGE) * sigma + SHRINKAGE * np.eye(h.shape[1])
    w = np.linalg.solve(a, mu.T).T
    return w, -0.5 * (mu * w).sum(axis=1)


def main():
    rng = np.random.default_rng(11)
    classes = TASKS * CLASSES_PER_TASK
    centres = rng.normal(0.0, 1.5, size=(classes, RAW))
    x, y, task = [], [], []
    for t in range(TASKS):
        for i in range(PER_TASK):
            c = t * CLASSES_PER_TASK + (i % CLASSES_PER_TASK)
            x.append(centres[c] + rng.normal(0.0, 1.0, size=RAW))
            y.append(c)
            task.append(t)
    x = np.array(x, dtype=np.float32)
    y = np.array(y, dtype=np.int64)
    task = np.array(task, dtype=np.int64)

    p = random_projection(SEED, RAW, WIDTH)
    h64 = np.maximum(x.astype(np.float64) @ p.astype(np.float64).T, 0.0)
    h = h64.astype(np.float32)  # what the C tests stream
    hd = h.astype(np.float64)

    out = {
        "raw": x, "labels": y, "tasks": task, "projection": p,
        "features": h,
        "config": np.array([TASKS, CLASSES_PER_TASK, PER_TASK, RAW, WIDTH, SEED], dtype=np.int64),
        "params": np.array([LAMBDA, SHRINKAGE], dtype=np.float32),
    }
    for t in range(TASKS):
        seen = task <= t
        k = (t + 1) * CLASSES_PER_TASK
        for fb in (0, 1):
            w, b = ridge(hd[seen], y[seen], k, fb)
            out[f"cil_ridge_bias{fb}_w_{t}"] = w.astype(np.float32)
            out[f"cil_ridge_bias{fb}_b_{t}"] = b.astype(np.float32)
        mine = task == t
        local = y[mine] - t * CLASSES_PER_TASK
        w, b = ridge(hd[mine], local, CLASSES_PER_TASK, 0)
        out[f"til_ridge_w_{t}"] = w.astype(np.float32)
        w, b = ridge(hd[mine], local, CLASSES_PER_TASK, 1)
        out[f"til_ridge_bias1_w_{t}"] = w.astype(np.float32)
        out[f"til_ridge_bias1_b_{t}"] = b.astype(np.float32)
    for norm in (0, 1):
        w, b = ncm(hd, y, classes, norm)
        out[f"ncm_norm{norm}_w"] = w.astype(np.float32)
        out[f"ncm_norm{norm}_b"] = b.astype(np.float32)
    w, b = lda(hd, y, classes)  # CIL, and TIL with the shared (pooled) covariance
    out["lda_w"] = w.astype(np.float32)
    out["lda_b"] = b.astype(np.float32)
    for t in range(TASKS):  # TIL with a per-task covariance
        mine = task == t
        w, b = lda(hd[mine], y[mine] - t * CLASSES_PER_TASK, CLASSES_PER_TASK)
        out[f"til_lda_task_w_{t}"] = w.astype(np.float32)
        out[f"til_lda_task_b_{t}"] = b.astype(np.float32)
    dil_y = y % CLASSES_PER_TASK
    w, b = ridge(hd, dil_y, CLASSES_PER_TASK, 1)
    out["dil_ridge_bias1_w"] = w.astype(np.float32)
    out["dil_ridge_bias1_b"] = b.astype(np.float32)
    w, b = ncm(hd, dil_y, CLASSES_PER_TASK, 0)
    out["dil_ncm_w"] = w.astype(np.float32)
    out["dil_ncm_b"] = b.astype(np.float32)
    w, b = lda(hd, dil_y, CLASSES_PER_TASK)
    out["dil_lda_w"] = w.astype(np.float32)
    out["dil_lda_b"] = b.astype(np.float32)

    # A small SPD system for the Cholesky test: A = M Mᵀ + n I, B [3, n].
    n = 70
    m = rng.normal(size=(n, n))
    a = m @ m.T + n * np.eye(n)
    bvec = rng.normal(size=(3, n))
    out["chol_a"] = a.astype(np.float32)
    out["chol_b"] = bvec.astype(np.float32)
    a32 = a.astype(np.float32).astype(np.float64)
    out["chol_x"] = np.linalg.solve(a32, bvec.astype(np.float32).astype(np.float64).T).T.astype(np.float32)

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "analytic")
    os.makedirs(path, exist_ok=True)
    write_refdata(os.path.join(path, "reference.bin"), out)
    print(f"wrote {len(out)} arrays to {os.path.normpath(path)}/reference.bin")


if __name__ == "__main__":
    main()
