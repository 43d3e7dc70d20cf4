#!/usr/bin/python3
"""Merges the outputs of one scripts/bench.sh run into one Markdown table.

Inputs (tab-separated, see bench/bench_heads.c and scripts/bench_torch.py):
  --blas FILE      clheads built with CBLAS (OpenBLAS): times + sgemm reference
  --portable FILE  clheads built without BLAS (portable kernels), optional
  --torch FILE     the seed's PyTorch heads and the wide nn.Linear

Prints the grid table, the optimizer and memory tables, and the issue-5
figures with the measured value and whether it is reached. Needs no torch.
"""

import argparse
import math
import sys


def read_rows(path):
    meta, rows = {}, []
    if not path:
        return meta, rows
    with open(path) as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if fields[0] == "meta" and len(fields) >= 3:
                meta[fields[1]] = fields[2]
            elif fields[0] in ("time", "torch", "mem", "phase"):
                rows.append(fields)
    return meta, rows


def num(text):
    try:
        v = float(text)
    except ValueError:
        return math.nan
    return v


def key_of(fields):
    # paradigm, op, batch, in, tasks, threads
    return (fields[1], fields[2], int(fields[3]), int(fields[4]), int(fields[5]), int(fields[6]))


def fmt_us(v):
    if math.isnan(v):
        return "–"
    if v >= 10000:
        return "%.0f" % v
    if v >= 100:
        return "%.1f" % v
    return "%.2f" % v


def fmt_ratio(v):
    return "–" if math.isnan(v) else ("%.1f×" % v if v < 100 else "%.0f×" % v)


def fmt_pct(v):
    return "–" if math.isnan(v) else "%.0f%%" % (100 * v)


def flops(paradigm, op, batch, in_features, tasks):
    """Multiply flops of one call: fwd 2·B·width·in; fwdbwd three times that."""
    width = tasks * 10 if paradigm == "CIL" else 10
    f = 2.0 * batch * width * in_features
    return 3 * f if op == "fwdbwd" else f


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--blas", required=True)
    ap.add_argument("--portable")
    ap.add_argument("--torch", required=True)
    args = ap.parse_args()

    blas_meta, blas_rows = read_rows(args.blas)
    port_meta, port_rows = read_rows(args.portable)
    torch_meta, torch_rows = read_rows(args.torch)

    clh = {key_of(r): r for r in blas_rows if r[0] == "time"}
    port = {key_of(r): r for r in port_rows if r[0] == "time"}
    seed = {key_of(r): r for r in torch_rows if r[0] == "torch"}

    out = []
    out.append("clheads backend: %s; %s; OPENBLAS_CORETYPE=%s; PyTorch %s (seed heads run as documented)."
               % (blas_meta.get("backend", "?"), blas_meta.get("openblas", "?"),
                  blas_meta.get("OPENBLAS_CORETYPE", "?"), torch_meta.get("torch", "?")))
    out.append("")
    out.append("Times are medians in µs. seed/clh and wide/clh: PyTorch time ÷ clheads time (higher is "
               "better for clheads). %sgemm: cblas_sgemm time on the same multiply shape(s) ÷ clheads time, "
               "same process. portable: clheads built without BLAS; blas/port = OpenBLAS-build time ÷ "
               "portable time. allocs: allocations during all timed calls (steady state).")
    out.append("")
    head = ("| paradigm | op | B | in | tasks | thr | clheads | seed | seed/clh | wide Linear | wide/clh "
            "| clh GFLOP/s | %sgemm | portable | blas/port | allocs |")
    out.append(head)
    out.append("|" + "---|" * 16)
    for k, r in clh.items():
        paradigm, op, batch, in_f, tasks, thr = k
        if op == "adam":
            continue
        t_clh = num(r[7])
        s = seed.get(k)
        t_seed = num(s[7]) if s else math.nan
        t_wide = num(s[9]) if s else math.nan
        t_sgemm = num(r[10])
        p = port.get(k)
        t_port = num(p[7]) if p else math.nan
        gf = flops(paradigm, op, batch, in_f, tasks) / (t_clh * 1e-6) / 1e9 if t_clh > 0 else math.nan
        allocs = r[9]
        out.append("| %s | %s | %d | %d | %d | %d | %s | %s | %s | %s | %s | %.1f | %s | %s | %s | %s |" % (
            paradigm, op, batch, in_f, tasks, thr, fmt_us(t_clh), fmt_us(t_seed), fmt_ratio(t_seed / t_clh),
            fmt_us(t_wide), fmt_ratio(t_wide / t_clh), gf, fmt_pct(t_sgemm / t_clh), fmt_us(t_port),
            fmt_pct(t_clh / t_port) if p else "–", allocs + (" / %s" % p[9] if p else "")))

    adam = [(k, r) for k, r in clh.items() if k[1] == "adam"]
    if adam:
        out.append("")
        out.append("Adam step over the whole CIL bank (µs):")
        out.append("")
        out.append("| in | tasks | thr | clheads | seed (per-head tensors) | seed/clh | wide Linear | wide/clh | allocs |")
        out.append("|---|---|---|---|---|---|---|---|---|")
        for k, r in adam:
            s = seed.get(k)
            t_clh = num(r[7])
            t_seed = num(s[7]) if s else math.nan
            t_wide = num(s[9]) if s else math.nan
            out.append("| %d | %d | %d | %s | %s | %s | %s | %s | %s |" % (
                k[3], k[4], k[5], fmt_us(t_clh), fmt_us(t_seed), fmt_ratio(t_seed / t_clh),
                fmt_us(t_wide), fmt_ratio(t_wide / t_clh), r[9]))

    phases = [("OpenBLAS", r, clh) for r in blas_rows if r[0] == "phase"]
    phases += [("portable", r, port) for r in port_rows if r[0] == "phase"]
    if phases:
        out.append("")
        out.append("Where a training step's time goes (each phase timed on its own, µs; sgemm ×3 = forward, "
                   "dW and dx multiplies through cblas_sgemm):")
        out.append("")
        out.append("| build | paradigm | B | in | tasks | thr | zero_grad | forward | loss (cross-entropy) "
                   "| backward | sum | fwdbwd measured | sgemm ×3 |")
        out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for build, r, times in phases:
            k = (r[1], "fwdbwd", int(r[2]), int(r[3]), int(r[4]), int(r[5]))
            parts = [num(v) for v in r[6:10]]
            whole = times.get(k)
            ref = clh.get(k)
            out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                build, r[1], r[2], r[3], r[4], r[5], *[fmt_us(v) for v in parts], fmt_us(sum(parts)),
                fmt_us(num(whole[7])) if whole else "–", fmt_us(num(ref[10])) if ref else "–"))

    mem = [r for r in blas_rows if r[0] == "mem"]
    if mem:
        out.append("")
        out.append("Memory of a CIL handle grown task by task (heap bytes measured with mallinfo2; per "
                   "parameter in use, parameters = rows × (in + 1)):")
        out.append("")
        out.append("| in | tasks | rows in use | capacity rows | max capacity/rows during growth "
                   "| heads bytes/param (weights + grads) | Adam bytes/param |")
        out.append("|---|---|---|---|---|---|---|")
        for r in mem:
            out.append("| %s | %s | %s | %s | %.2f | %.2f | %.2f |" % (
                r[1], r[2], r[3], r[4], num(r[5]), num(r[6]), num(r[7])))

    out.extend(figures(clh, port, seed, mem))
    print("\n".join(out))


def figures(clh, port, seed, mem):
    """The issue-5 targets, each with its measured value, for the default
    (OpenBLAS) build and for the portable build."""
    lines = ["", "Figures (issue 5), both builds, same run:", ""]
    lines.append("| figure | target | OpenBLAS build | reached | portable build | reached |")
    lines.append("|---|---|---|---|---|---|")
    thr = sorted({k[5] for k in clh})

    def verdict(values, ok):
        if not values:
            return "not measured", "–"
        return ", ".join(values), ("yes" if ok else "NO")

    def ratio_cells(build, keys, which, target):
        vals, ok = [], True
        for k in keys:
            r, s = build.get(k), seed.get(k)
            if not r or not s:
                continue
            v = num(s[7 if which == "seed" else 9]) / num(r[7])
            if math.isnan(v):
                continue
            vals.append("%s (%d thr)" % (fmt_ratio(v), k[5]))
            ok = ok and v >= target
        return verdict(vals, ok)

    def ratio_figure(name, paradigm, op, batch, in_f, tasks, which, target):
        keys = [(paradigm, op, batch, in_f, tasks, t) for t in thr]
        a = ratio_cells(clh, keys, which, target)
        b = ratio_cells(port, keys, which, target)
        lines.append("| %s | ≥ %g× | %s | %s | %s | %s |" % (name, target, *a, *b))

    ratio_figure("CIL fwd, B=256, in=512, 100×10, vs seed", "CIL", "fwd", 256, 512, 100, "seed", 2)
    ratio_figure("CIL fwd+bwd, B=256, in=512, 100×10, vs seed", "CIL", "fwdbwd", 256, 512, 100, "seed", 2.5)
    ratio_figure("CIL fwd, B=256, in=512, 100×10, vs wide nn.Linear", "CIL", "fwd", 256, 512, 100, "wide", 1.5)
    ratio_figure("CIL fwd+bwd, B=256, in=512, 100×10, vs wide nn.Linear", "CIL", "fwdbwd", 256, 512, 100, "wide", 1.5)
    ratio_figure("CIL fwd, B=1, in=512, 100×10, vs seed", "CIL", "fwd", 1, 512, 100, "seed", 20)
    ratio_figure("MTL mixed fwd+bwd, B=1024, in=2048, 100×10, vs seed", "MTL", "fwdbwd", 1024, 2048, 100, "seed", 50)
    ratio_figure("TIL fwd, B=32, in=512, 10 classes, vs seed", "TIL", "fwd", 32, 512, 10, "seed", 2)

    # One large multiply: forward rows (one multiply plus the bias) of at least
    # 50 MFLOP, against cblas_sgemm on the same shape in the OpenBLAS build.
    worst, ok = None, True
    for k, r in clh.items():
        paradigm, op, batch, in_f, tasks, t = k
        if op != "fwd" or paradigm == "MTL" or flops(paradigm, op, batch, in_f, tasks) < 50e6:
            continue
        frac = num(r[10]) / num(r[7])
        if math.isnan(frac):
            continue
        if worst is None or frac < worst[0]:
            worst = (frac, k)
        ok = ok and frac >= 0.85
    vals = []
    if worst:
        k = worst[1]
        vals.append("worst %s (%s %s B=%d in=%d tasks=%d, %d thr)" % (fmt_pct(worst[0]), *k))
    lines.append("| clheads vs cblas_sgemm where the work is one large multiply (fwd, ≥ 50 MFLOP) | ≥ 85%% "
                 "| %s | %s | (see blas/port column) | – |" % verdict(vals, ok))

    vals, ok = [], True
    for op in ("fwd", "fwdbwd"):
        for t in thr:
            k = ("CIL", op, 256, 512, 100, t)
            if k in clh and k in port:
                v = num(clh[k][7]) / num(port[k][7])
                vals.append("%s %s (%d thr)" % (op, fmt_pct(v), t))
                ok = ok and v >= 0.25
    a = verdict(vals, ok)
    lines.append("| portable build's speed vs OpenBLAS build, CIL B=256, in=512, 100×10 | ≥ 25%% | – | – | %s | %s |" % a)

    # Threads: 2 vs 1 on the same shape. Small calls (< 2 MFLOP) must not get
    # slower; large forward multiplies (>= 100 MFLOP) should use both cores.
    def thread_cells(build, small):
        ratios = []
        for k, r in build.items():
            paradigm, op, batch, in_f, tasks, t = k
            if t != 1 or op not in ("fwd", "fwdbwd"):
                continue
            two = build.get((paradigm, op, batch, in_f, tasks, 2))
            if not two:
                continue
            f = flops(paradigm, op, batch, in_f, tasks)
            if small and f < 2e6:
                ratios.append((num(two[7]) / num(r[7]), k))
            elif not small and op == "fwd" and f >= 100e6:
                ratios.append((num(r[7]) / num(two[7]), k))
        if not ratios:
            return "not measured", "–"
        ratios.sort()
        if small:
            worst = ratios[-1]
            return ("worst 2-thread/1-thread time %.2f (%s %s B=%d in=%d tasks=%d), median %.2f over %d shapes"
                    % (worst[0], *worst[1][:5], ratios[len(ratios) // 2][0], len(ratios)),
                    "yes" if worst[0] <= 1.1 else "NO")
        return ("speed-up min %.2f×, median %.2f× over %d shapes"
                % (ratios[0][0], ratios[len(ratios) // 2][0], len(ratios)),
                "yes" if ratios[len(ratios) // 2][0] >= 1.3 else "NO")

    lines.append("| small calls (< 2 MFLOP) not slowed by a second thread | ≤ 1.1 | %s | %s | %s | %s |"
                 % (*thread_cells(clh, True), *thread_cells(port, True)))
    lines.append("| large forwards (≥ 100 MFLOP) use both cores | median ≥ 1.3× | %s | %s | %s | %s |"
                 % (*thread_cells(clh, False), *thread_cells(port, False)))

    blas_allocs = sum(int(r[9]) for r in clh.values())
    port_allocs = sum(int(r[9]) for r in port.values())
    lines.append("| allocations in steady-state forward/backward (all timed calls) | 0 | %d | %s | %s | %s |" % (
        blas_allocs, "yes" if blas_allocs == 0 else "NO", port_allocs if port else "–",
        ("yes" if port_allocs == 0 else "NO") if port else "–"))
    if mem:
        worst_ratio = max(num(r[5]) for r in mem)
        lines.append("| reserved capacity ÷ rows in use (max during growth) | ≤ 2 | %.2f | %s | – | – |" % (
            worst_ratio, "yes" if worst_ratio <= 2 else "NO"))
    return lines


if __name__ == "__main__":
    sys.exit(main())
