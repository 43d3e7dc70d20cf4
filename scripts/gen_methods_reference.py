#!/usr/bin/python3
"""Reference data for the methods tests (tests/test_methods_*.c).

Run with Debian's Python (it has torch 1.13):  /usr/bin/python3 scripts/gen_methods_reference.py
Writes tests/data/methods/methods.ref in the refdata format (scripts/refdata.py).

Every estimator is computed the way Hsu et al.'s code does it
(GT-RIPL/Continual-Learning-Benchmark, agents/regularization.py; see
docs/methods.md), on a linear model (one nn.Linear: a head, whose flat layout
weight [C, in] then bias [C] is clheads' clh_heads_flat layout), so the C test
runs the same computation with the library's heads, loss and optimizer:

  penalty.*   reg_coef * sum(omega * (p - anchor)**2) and its autograd gradient
              (the library's lambda = 2 * reg_coef), with omega and with omega = 1.
  ewc.*       diagonal Fisher at the model's predicted labels (empFI off), eval
              mode: per sample (n_fisher_sample set: batch 1, scale 1/N) and per
              batch (batches of 3 in order: grad**2 * len(batch) / num_batches).
  online.*    two tasks' per-sample Fishers and the running one for gamma 1 (the
              authors' in-place sum) and gamma 0.9 (Schwarz et al.'s decay).
  mas.*       mean(logits**2) per batch of 3, importance += |grad| / num_batches.
  si.*        two tasks of 4 full-batch Adam steps (lr 0.05); from the second
              task on the loss carries the SI penalty (reg_coef 0.3); w -=
              unreg_grad * delta after each step; at each task's end omega +=
              w / (delta_theta**2 + 0.1), w = 0.
  lwf.*       van de Ven & Tolias's loss_fn_kd (soft-target cross-entropy at T,
              targets padded with zeros in CIL, times T**2) times a weight, and
              the KL variant (F.kl_div, batchmean), with autograd gradients.
  gem.*       the dual QP of project2cone2 (P = G G^T + eps I, q = -G g, v >=
              margin) solved in float64 by enumerating active sets here (no QP
              library), checked against its KKT conditions; g~ = G^T v + g.
  adagrad.*   torch.optim.Adagrad (foreach=False) on one tensor whose .grad is set
              by hand, two configurations: params after every step and the final
              state_sum.
"""

import itertools
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refdata import write_refdata  # noqa: E402

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "methods")
IN, C, N = 6, 4, 7


def f32(x):
    return np.asarray(x, dtype=np.float32)


def flat_params(lin):
    return torch.cat([lin.weight.detach().reshape(-1), lin.bias.detach().reshape(-1)])


def flat_grads(lin):
    return torch.cat([lin.weight.grad.reshape(-1), lin.bias.grad.reshape(-1)])


def make_linear(seed):
    torch.manual_seed(seed)
    return torch.nn.Linear(IN, C)


def batches(n, size):
    return [list(range(b, min(b + size, n))) for b in range(0, n, size)]


def penalty_case(out):
    g = torch.Generator().manual_seed(1)
    count = 37
    params = torch.randn(count, generator=g)
    anchor = torch.randn(count, generator=g)
    omega = torch.rand(count, generator=g) * 3
    reg_coef = 0.375
    for name, w in (("omega", omega), ("l2", torch.ones(count))):
        p = params.clone().requires_grad_(True)
        loss = reg_coef * (w * (p - anchor) ** 2).sum()
        loss.backward()
        out[f"penalty.{name}.value"] = f32([loss.item()])
        out[f"penalty.{name}.grad"] = f32(p.grad)
    out["penalty.params"] = f32(params)
    out["penalty.anchor"] = f32(anchor)
    out["penalty.omega"] = f32(omega)
    out["penalty.reg_coef"] = f32([reg_coef])


def fisher(lin, x, batch_size):
    """EWC.calculate_importance: predicted labels, grad**2 * len(input) / len(loader)."""
    importance = torch.zeros(C * IN + C)
    groups = batches(len(x), batch_size)
    for idx in groups:
        lin.zero_grad()
        pred = lin(x[idx])
        ind = pred.max(1)[1].flatten()
        loss = F.cross_entropy(pred, ind)
        loss.backward()
        importance += flat_grads(lin) ** 2 * len(idx) / len(groups)
    return importance


def ewc_case(out):
    lin = make_linear(2)
    x = torch.randn(N, IN, generator=torch.Generator().manual_seed(3))
    out["ewc.params"] = f32(flat_params(lin))
    out["ewc.x"] = f32(x)
    out["ewc.fisher_sample"] = f32(fisher(lin, x, 1))
    out["ewc.fisher_batch"] = f32(fisher(lin, x, 3))
    # online EWC: a second task's data and parameters
    lin2 = make_linear(4)
    x2 = torch.randn(N, IN, generator=torch.Generator().manual_seed(5))
    f1 = fisher(lin, x, 1)
    f2 = fisher(lin2, x2, 1)
    out["online.fisher1"] = f32(f1)
    out["online.fisher2"] = f32(f2)
    out["online.gamma1"] = f32(f1 + f2)  # the authors' in-place accumulation
    out["online.gamma09"] = f32(np.float32(0.9) * f32(f1) + f32(f2))


def mas_case(out):
    lin = make_linear(6)
    x = torch.randn(N, IN, generator=torch.Generator().manual_seed(7))
    importance = torch.zeros(C * IN + C)
    groups = batches(N, 3)
    for idx in groups:
        lin.zero_grad()
        pred = lin(x[idx])
        pred.pow_(2)
        loss = pred.mean()
        loss.backward()
        importance += flat_grads(lin).abs() / len(groups)
    out["mas.params"] = f32(flat_params(lin))
    out["mas.x"] = f32(x)
    out["mas.omega"] = f32(importance)


def si_case(out):
    lin = make_linear(8)
    gen = torch.Generator().manual_seed(9)
    tasks = [(torch.randn(N, IN, generator=gen), torch.randint(0, C, (N,), generator=gen))
             for _ in range(2)]
    reg_coef, damping, steps = 0.3, 0.1, 4
    opt = torch.optim.Adam(lin.parameters(), lr=0.05, foreach=False)
    params = [lin.weight, lin.bias]
    w = torch.zeros(C * IN + C)
    omega = torch.zeros(C * IN + C)
    prev = flat_params(lin).clone()  # initial_params for the first task
    anchor = None
    out["si.init"] = f32(prev)
    for t, (x, y) in enumerate(tasks):
        out[f"si.x{t}"] = f32(x)
        out[f"si.y{t}"] = y.numpy().astype(np.int64)
        for _ in range(steps):
            old = flat_params(lin).clone()
            logits = lin(x)
            loss = F.cross_entropy(logits, y)
            opt.zero_grad()
            loss.backward(retain_graph=True)
            unreg = flat_grads(lin).clone()
            if anchor is not None:
                flat = torch.cat([params[0].reshape(-1), params[1].reshape(-1)])
                loss = loss + reg_coef * (omega * (flat - anchor) ** 2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            delta = flat_params(lin) - old
            w -= unreg * delta
        now = flat_params(lin).clone()
        omega = omega + w / ((now - prev) ** 2 + damping)
        w.zero_()
        prev = now
        anchor = now
        out[f"si.params{t}"] = f32(now)
        out[f"si.omega{t}"] = f32(omega)
    out["si.config"] = f32([reg_coef, damping, 0.05, steps])


def kd_cross_entropy(scores, target_scores, T):
    """van de Ven & Tolias's loss_fn_kd (targets padded with zeros)."""
    log_scores_norm = F.log_softmax(scores / T, dim=1)
    targets_norm = F.softmax(target_scores / T, dim=1)
    n = scores.size(1)
    if n > target_scores.size(1):
        zeros = torch.zeros(scores.size(0), n - target_scores.size(1))
        targets_norm = torch.cat([targets_norm.detach(), zeros], dim=1)
    return (-(targets_norm * log_scores_norm)).sum(dim=1).mean() * T ** 2


def lwf_case(out):
    gen = torch.Generator().manual_seed(10)
    B, cols, old_cols = 5, 6, 4
    logits = torch.randn(B, cols, generator=gen) * 3
    old = torch.randn(B, old_cols, generator=gen) * 3
    out["lwf.logits"] = f32(logits)
    out["lwf.old"] = f32(old)
    cases = {
        # name: (student columns, T, weight, T squared, kind 0 CE / 1 KL)
        "cil_ce": (cols, 2.0, 0.7, 1, 0),
        "til_ce": (old_cols, 1.0, 1.0, 1, 0),
        "cil_ce_not2": (cols, 3.0, 1.0, 0, 0),
        "til_kl": (old_cols, 2.0, 0.5, 1, 1),
    }
    for name, (n, T, weight, t_squared, kind) in cases.items():
        z = logits[:, :n].clone().requires_grad_(True)
        if kind == 0:
            loss = kd_cross_entropy(z, old, T)
            if not t_squared:
                loss = loss / T ** 2
        else:
            loss = F.kl_div(F.log_softmax(z / T, dim=1), F.softmax(old / T, dim=1),
                            reduction="batchmean") * (T ** 2 if t_squared else 1.0)
        loss = loss * weight
        loss.backward()
        out[f"lwf.{name}.config"] = f32([n, T, weight, t_squared, kind])
        out[f"lwf.{name}.loss"] = f32([loss.item()])
        out[f"lwf.{name}.grad"] = f32(z.grad)


def brute_force_qp(P, c):
    """min 1/2 u^T P u + c^T u, u >= 0, by enumerating free sets (float64)."""
    k = len(c)
    best = None
    for r in range(k + 1):
        for free in itertools.combinations(range(k), r):
            u = np.zeros(k)
            if free:
                f = list(free)
                u[f] = np.linalg.solve(P[np.ix_(f, f)], -c[f])
            grad = P @ u + c
            tol = 1e-9 * (1 + np.abs(P).max() + np.abs(c).max())
            if (u >= -tol).all() and (grad[u <= tol] >= -tol).all() and \
                    (np.abs(grad[u > tol]) <= tol * 10).all():
                obj = 0.5 * u @ P @ u + c @ u
                if best is None or obj < best[0] - 1e-12:
                    best = (obj, np.maximum(u, 0))
    assert best is not None
    return best[1]


def gem_case(out):
    gen = np.random.default_rng(11)
    count = 50
    specs = {"k3": (3, 0.5, 1e-3), "k3_plain": (3, 0.0, 0.0), "k1": (1, 0.0, 0.0),
             "k5": (5, 0.5, 1e-3), "ok": (2, 0.5, 1e-3)}
    for name, (k, margin, eps) in specs.items():
        g = gen.standard_normal(count).astype(np.float32)
        G = gen.standard_normal((k, count)).astype(np.float32)
        if name == "ok":  # no violated constraint: g must stay as it is
            G = np.abs(G) * np.sign(g)[None, :]
        else:
            G[0] = (-0.8 * g + 0.5 * G[0]).astype(np.float32)  # at least one <g, g_k> < 0
        G64, g64 = G.astype(np.float64), g.astype(np.float64)
        P = G64 @ G64.T
        P = 0.5 * (P + P.T) + eps * np.eye(k)
        q = G64 @ g64  # the objective's linear term (quadprog's a = -q)
        c = P @ (margin * np.ones(k)) + q
        v = brute_force_qp(P, c) + margin
        violated = bool(((G * g[None, :]).sum(axis=1) < 0).any())
        new = (v @ G64 + g64) if violated else g64
        if violated and margin == 0 and eps == 0:  # the projection's defining property
            assert (G64 @ new >= -1e-9 * np.abs(G64).max()).all()
        out[f"gem.{name}.config"] = f32([k, margin, eps, 1.0 if violated else 0.0])
        out[f"gem.{name}.g"] = g
        out[f"gem.{name}.G"] = G
        out[f"gem.{name}.projected"] = f32(new)


def adagrad_case(out):
    gen = torch.Generator().manual_seed(12)
    n, steps = 23, 8
    init = torch.randn(n, generator=gen)
    grads = torch.randn(steps, n, generator=gen)
    configs = {"default": dict(lr=0.01),
               "full": dict(lr=0.1, lr_decay=0.05, weight_decay=0.02,
                            initial_accumulator_value=0.3, eps=1e-6)}
    out["adagrad.init"] = f32(init)
    out["adagrad.grads"] = f32(grads)
    for name, kw in configs.items():
        p = torch.nn.Parameter(init.clone())
        opt = torch.optim.Adagrad([p], foreach=False, **kw)
        traj = []
        for s in range(steps):
            p.grad = grads[s].clone()
            opt.step()
            traj.append(p.detach().clone())
        out[f"adagrad.{name}.params"] = f32(torch.stack(traj))
        out[f"adagrad.{name}.sum"] = f32(opt.state[p]["sum"])
        full = dict(lr=0.01, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                    eps=1e-10)
        full.update(kw)
        out[f"adagrad.{name}.config"] = np.array(
            [np.float64(full[k]).view(np.int64) for k in
             ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")],
            dtype=np.int64)


def main():
    torch.set_num_threads(1)
    out = {}
    penalty_case(out)
    ewc_case(out)
    mas_case(out)
    si_case(out)
    lwf_case(out)
    gem_case(out)
    adagrad_case(out)
    os.makedirs(OUT_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, "methods.ref")
    write_refdata(path, out)
    print(f"wrote {path} ({len(out)} arrays)")


if __name__ == "__main__":
    main()
