#!/usr/bin/python3
"""Reference data for the training tests (tests/test_train_*.c).

Run with Debian's Python (it has torch 1.13):  /usr/bin/python3 scripts/gen_train_reference.py
Writes tests/data/train/*.ref in the refdata format (scripts/refdata.py).

1. cross_entropy.ref: torch.nn.functional.cross_entropy (mean) and its
   gradient d(loss)/d(logits) on small cases: -inf positions, a batch of 1,
   huge logits (log-sum-exp stability).

2. traj_<paradigm>_<optimizer>[_frozen].ref: the seed's heads
   (scripts/seed_heads.py) trained with torch.optim for 10-13 steps on fixed
   data, starting from clheads' initial weights (scripts/clheads_init.py), with
   a task added part-way. Each file is a small program the C test replays:
     ops            int64 [n, 4]  (opcode, a, b, c), executed in order:
                    1 SETUP   a=task id, b=classes   (TIL/CIL setup_task; DIL/STL setup_single)
                    2 SETUP_TASKS a=k (MTL: arrays setup<k>.ids, setup<k>.classes)
                    3 FREEZE  a=task id, b=1 freeze / 0 unfreeze
                    4 STEP    a=k, b=task id (CLH_NO_TASK = INT64_MIN), c=1 for an MTL mixed
                              batch (step<k>.task_ids)
     config         int64 [3]     paradigm enum, in_features, seed
     optim.kind     int64 [3]     clh_optim_kind, nesterov, amsgrad
     optim.f64      int64 [7]     IEEE-754 bit patterns of the doubles lr, weight_decay,
                                  momentum, dampening, beta1, beta2, eps (exact, as torch uses them)
     step<k>.x [B, in] f32, step<k>.labels [B] i64, step<k>.task_ids [B] i64 (mixed only),
     step<k>.loss [1] f32 (the loss before the step), step<k>.params f32 (all parameters
     after the step, in clheads' flat layout: every head's weight rows in set-up
     order, then every head's bias)
     final.params   f32           = the last step's params

3. flat_<optimizer>.ref (listed in flat.txt): clh_optim_step on a plain
   vector (a backbone's parameters), against torch.optim on one tensor whose
   .grad is set by hand: init [n], grads [steps, n], params [steps, n].

Semantics matched on the torch side (documented choices):
- One step is zero_grad(set_to_none=False); loss = cross_entropy(logits, labels);
  loss.backward(); optimizer.step(), all optimizers with foreach=False.
- A head added part-way joins through optimizer.add_param_group, so old heads
  keep their state and the new head starts at step 0, as clheads does.
- .grad is None for a head until the first backward that reaches it (a TIL head
  whose task has not been trained yet, an MTL head absent from every batch so
  far): torch skips it; clheads' clh_heads_task_has_grad() is 0 for it and its
  optimizer skips it too. After that, zero_grad(set_to_none=False) leaves a zero
  tensor, so torch keeps stepping the head on every step (weight decay,
  momentum, Adam's moments move it even when its task is not in the batch);
  clheads' has_grad flag stays 1 and it does the same.
- Freezing: requires_grad False and .grad set to None, so torch.optim skips the
  head entirely (a frozen head would otherwise still move by weight decay and
  leftover momentum through its zero .grad). Unfreezing: requires_grad True and,
  for a head that had a gradient before, .grad back to a zero tensor: clheads'
  has_grad flag survives freezing, so its optimizer steps an unfrozen head
  again at once, with the state it had before freezing.
- MTL mixed batches: the seed's forward pads with zeros to the last task's
  width (a seed bug); here each task's head runs on its own samples and the
  logits are padded with -inf to the widest head, which is clheads' forward.
"""

import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import seed_heads  # noqa: E402
from clheads_init import init_linear_  # noqa: E402
from refdata import write_refdata  # noqa: E402

OUT_DIR = os.path.join(HERE, "..", "tests", "data", "train")
NO_TASK = -(2 ** 63)
PARADIGMS = {"til": 0, "cil": 1, "dil": 2, "mtl": 3, "stl": 4}
KINDS = {"sgd": 0, "adam": 1, "adamw": 2}
OP_SETUP, OP_SETUP_TASKS, OP_FREEZE, OP_STEP = 1, 2, 3, 4

# Optimizer configurations (torch keyword arguments).
OPTIMIZERS = {
    "sgd": ("sgd", dict(lr=0.1, momentum=0.9, dampening=0.0, nesterov=True, weight_decay=0.01)),
    "sgddamp": ("sgd", dict(lr=0.05, momentum=0.8, dampening=0.3, nesterov=False,
                            weight_decay=0.001)),
    "adam": ("adam", dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01,
                          amsgrad=False)),
    "adamams": ("adam", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.0,
                             amsgrad=True)),
    "adamw": ("adamw", dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05,
                            amsgrad=False)),
    "adamwams": ("adamw", dict(lr=0.01, betas=(0.85, 0.995), eps=1e-8, weight_decay=0.1,
                               amsgrad=True)),
}


def f64_bits(x):
    return struct.unpack("<q", struct.pack("<d", float(x)))[0]


def make_optimizer(kind, kwargs, params):
    if kind == "sgd":
        return torch.optim.SGD(params, foreach=False, **kwargs)
    if kind == "adam":
        return torch.optim.Adam(params, foreach=False, **kwargs)
    return torch.optim.AdamW(params, foreach=False, **kwargs)


def optim_arrays(kind, kw):
    betas = kw.get("betas", (0.9, 0.999))
    doubles = [kw["lr"], kw.get("weight_decay", 0.0), kw.get("momentum", 0.0),
               kw.get("dampening", 0.0), betas[0], betas[1], kw.get("eps", 1e-8)]
    return {
        "optim.kind": np.array([KINDS[kind], int(kw.get("nesterov", False)),
                                int(kw.get("amsgrad", False))], dtype=np.int64),
        "optim.f64": np.array([f64_bits(d) for d in doubles], dtype=np.int64),
    }


class Run:
    """Drives one seed heads module and its optimizer, recording the ops."""

    def __init__(self, paradigm, in_features, seed, opt_name):
        self.paradigm, self.in_features, self.seed = paradigm, in_features, seed
        self.kind, self.kwargs = OPTIMIZERS[opt_name]
        cls = {"til": seed_heads.HeadsTIL, "cil": seed_heads.HeadsCIL,
               "mtl": seed_heads.HeadsMTL, "dil": seed_heads.HeadDIL,
               "stl": seed_heads.HeadSTL}[paradigm]
        self.module = cls(in_features)
        self.order = []  # (task id, nn.Linear) in set-up order
        self.optimizer = None
        self.ops = []
        self.arrays = {"config": np.array([PARADIGMS[paradigm], in_features, seed], dtype=np.int64)}
        self.arrays.update(optim_arrays(self.kind, self.kwargs))
        self.rng = np.random.RandomState(seed)
        self.steps = 0
        self.setups = 0
        self.had_grad = set()

    def _register(self, task_id, linear):
        init_linear_(linear, self.seed, task_id)
        self.order.append((task_id, linear))
        params = [linear.weight, linear.bias]
        if self.optimizer is None:
            self.optimizer = make_optimizer(self.kind, self.kwargs, params)
        else:
            self.optimizer.add_param_group({"params": params})

    def setup(self, task_id, classes):
        if self.paradigm in ("dil", "stl"):
            self.module.setup_task(classes)
            self._register(0, self.module.head)
        else:
            self.module.setup_task_id(task_id, classes)
            self._register(task_id, self.module.heads[f"{task_id}"])
        self.ops.append([OP_SETUP, task_id, classes, 0])

    def setup_tasks(self, ids, classes):
        self.module.setup_tasks(ids, dict(zip(ids, classes)))
        for t in ids:
            self._register(t, self.module.heads[f"{t}"])
        k = self.setups
        self.setups += 1
        self.arrays[f"setup{k}.ids"] = np.array(ids, dtype=np.int64)
        self.arrays[f"setup{k}.classes"] = np.array(classes, dtype=np.int64)
        self.ops.append([OP_SETUP_TASKS, k, 0, 0])

    def _linear(self, task_id):
        for t, linear in self.order:
            if t == task_id:
                return linear
        raise KeyError(task_id)

    def freeze(self, task_id, frozen):
        linear = self._linear(task_id)
        for p in (linear.weight, linear.bias):
            p.requires_grad_(not frozen)
            if frozen:
                p.grad = None  # skipped entirely by torch.optim
            elif task_id in self.had_grad:
                p.grad = torch.zeros_like(p)  # clheads' has_grad survives freezing
        self.ops.append([OP_FREEZE, task_id, int(frozen), 0])

    def flat_params(self):
        weights = [linear.weight.detach().reshape(-1) for _, linear in self.order]
        biases = [linear.bias.detach().reshape(-1) for _, linear in self.order]
        return torch.cat(weights + biases).numpy().astype(np.float32).copy()

    def _logits_mixed(self, x, task_ids):
        widest = max(linear.out_features for _, linear in self.order)
        logits = torch.full((x.shape[0], widest), float("-inf"))
        for t in torch.unique(task_ids):
            idx = (task_ids == t).nonzero(as_tuple=True)[0]
            out = self._linear(int(t))(x[idx])
            logits[idx, : out.shape[1]] = out
        return logits

    def step(self, batch, task_id=None, task_ids=None):
        """One training step; task_id for TIL/MTL single-task batches, task_ids
        (a list) for an MTL mixed batch, neither for CIL/DIL/STL."""
        k = self.steps
        self.steps += 1
        x_np = self.rng.standard_normal((batch, self.in_features)).astype(np.float32)
        x = torch.from_numpy(x_np)
        if task_ids is not None:
            tid = torch.tensor(task_ids, dtype=torch.int64)
            classes = [self._linear(t).out_features for t in task_ids]
            labels = [int(self.rng.randint(c)) for c in classes]
            logits = self._logits_mixed(x, tid)
            used = set(task_ids)
        else:
            if self.paradigm == "cil":
                width = sum(linear.out_features for _, linear in self.order)
                used = {t for t, _ in self.order}
            elif self.paradigm in ("dil", "stl"):
                width = self.order[0][1].out_features
                used = {0}
            else:
                width = self._linear(task_id).out_features
                used = {task_id}
            labels = [int(self.rng.randint(width)) for _ in range(batch)]
            if self.paradigm in ("til", "mtl"):
                logits = self.module(x, task_id)
            elif self.paradigm == "stl":
                logits = self.module(x)
            else:
                logits = self.module(x)
        y = torch.tensor(labels, dtype=torch.int64)
        self.optimizer.zero_grad(set_to_none=False)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        self.optimizer.step()
        for t in used:
            if self._linear(t).weight.requires_grad:
                self.had_grad.add(t)

        self.arrays[f"step{k}.x"] = x_np
        self.arrays[f"step{k}.labels"] = np.array(labels, dtype=np.int64)
        if task_ids is not None:
            self.arrays[f"step{k}.task_ids"] = np.array(task_ids, dtype=np.int64)
        self.arrays[f"step{k}.loss"] = np.array([loss.item()], dtype=np.float32)
        self.arrays[f"step{k}.params"] = self.flat_params()
        self.ops.append([OP_STEP, k, NO_TASK if task_id is None else task_id,
                         int(task_ids is not None)])

    def write(self, name):
        self.arrays["ops"] = np.array(self.ops, dtype=np.int64).reshape(-1, 4)
        self.arrays["final.params"] = self.flat_params()
        write_refdata(os.path.join(OUT_DIR, name), self.arrays)
        return name


def run_til(opt, seed, frozen=False):
    r = Run("til", 6, seed, opt)
    r.setup(3, 3)  # task ids out of order: 3 first, then 1
    for _ in range(5):
        r.step(5, task_id=3)
    r.setup(1, 4)
    if frozen:
        r.freeze(3, True)
        for _ in range(4):
            r.step(5, task_id=1)
        r.freeze(3, False)
        for t in (3, 1, 1, 3):
            r.step(5, task_id=t)
    else:
        # Head 1 first waits two steps with .grad None (torch skips it, and so
        # must clheads: its weight decay would otherwise move it).
        for t in (3, 3, 1, 1, 3, 1, 1):
            r.step(5, task_id=t)
    return r


def run_cil(opt, seed, frozen=False):
    r = Run("cil", 6, seed, opt)
    r.setup(3, 3)
    for _ in range(5):
        r.step(6)
    r.setup(1, 2)
    if frozen:
        r.freeze(3, True)
        for _ in range(4):
            r.step(6)
        r.freeze(3, False)
        for _ in range(4):
            r.step(6)
    else:
        for _ in range(7):
            r.step(6)
    return r


def run_mtl(opt, seed):
    r = Run("mtl", 5, seed, opt)
    r.setup_tasks([4, 0], [3, 2])
    r.step(6, task_ids=[4, 0, 0, 4, 0, 4])
    r.step(4, task_id=4)
    r.step(5, task_ids=[0, 0, 4, 0, 4])
    r.step(1, task_ids=[4])  # a mixed batch of one sample: head 0 untouched (zero grad)
    r.step(4, task_id=0)
    r.setup_tasks([7], [4])  # a task added part-way
    r.step(3, task_id=4)  # head 7 has no gradient yet: skipped
    r.step(7, task_ids=[7, 4, 0, 7, 7, 0, 4])
    r.step(5, task_ids=[7, 0, 0, 7, 0])  # head 4 absent: stepped on its zero grad
    r.step(4, task_id=7)
    r.step(6, task_ids=[4, 7, 4, 0, 7, 7])
    r.step(3, task_id=0)
    r.step(6, task_ids=[0, 4, 7, 4, 0, 7])
    return r


def run_single(paradigm, opt, seed):
    r = Run(paradigm, 4, seed, opt)
    r.setup(0, 5)
    for _ in range(10):
        r.step(6)
    return r


def run_flat(opt, seed, n=37, steps=10):
    """clh_optim_step on one plain vector (a backbone's parameters): torch.optim
    on one tensor whose .grad is set by hand each step (flat_<opt>.ref:
    config/optim.* as above, init [n], grads [steps, n], params [steps, n])."""
    kind, kwargs = OPTIMIZERS[opt]
    rng = np.random.RandomState(seed)
    init = rng.standard_normal(n).astype(np.float32)
    grads = (rng.standard_normal((steps, n)) * 0.1).astype(np.float32)
    grads[3] = 0.0  # a zero gradient: weight decay and momentum alone move it
    p = torch.nn.Parameter(torch.from_numpy(init.copy()))
    optimizer = make_optimizer(kind, kwargs, [p])
    params = []
    for k in range(steps):
        p.grad = torch.from_numpy(grads[k].copy())
        optimizer.step()
        params.append(p.detach().numpy().copy())
    arrays = {"init": init, "grads": grads, "params": np.stack(params).astype(np.float32)}
    arrays.update(optim_arrays(kind, kwargs))
    name = f"flat_{opt}.ref"
    write_refdata(os.path.join(OUT_DIR, name), arrays)
    return name


def cross_entropy_cases():
    """Small torch cross-entropy cases: case<k>.logits, .labels, .loss, .grad."""
    ninf = float("-inf")
    rng = np.random.RandomState(11)
    cases = [
        rng.standard_normal((4, 5)).astype(np.float32),
        rng.standard_normal((1, 3)).astype(np.float32),  # a batch of 1
        np.array([[0.5, ninf, 1.5, ninf], [ninf, -2.0, 0.25, 3.0], [1.0, 2.0, ninf, ninf]],
                 dtype=np.float32),  # -inf positions (padding, masks)
        np.array([[1000.0, 999.0, -1000.0], [-5000.0, -5001.0, -4999.5]], dtype=np.float32),
        np.array([[2.0]], dtype=np.float32),  # one class: loss 0
    ]
    labels = [[0, 4, 2, 1], [2], [2, 3, 0], [1, 2], [0]]
    arrays = {"count": np.array([len(cases)], dtype=np.int64)}
    for k, (logits_np, lab) in enumerate(zip(cases, labels)):
        logits = torch.from_numpy(logits_np).clone().requires_grad_(True)
        loss = F.cross_entropy(logits, torch.tensor(lab, dtype=torch.int64))
        loss.backward()
        arrays[f"case{k}.logits"] = logits_np
        arrays[f"case{k}.labels"] = np.array(lab, dtype=np.int64)
        arrays[f"case{k}.loss"] = np.array([loss.item()], dtype=np.float32)
        arrays[f"case{k}.grad"] = logits.grad.numpy().astype(np.float32)
    write_refdata(os.path.join(OUT_DIR, "cross_entropy.ref"), arrays)


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT_DIR, exist_ok=True)
    cross_entropy_cases()
    written = []
    seed = 100
    for opt in ("sgd", "adam", "adamw"):
        written.append(run_til(opt, seed).write(f"traj_til_{opt}.ref"))
        written.append(run_cil(opt, seed + 1).write(f"traj_cil_{opt}.ref"))
        written.append(run_mtl(opt, seed + 2).write(f"traj_mtl_{opt}.ref"))
        seed += 10
    written.append(run_cil("adamams", 7).write("traj_cil_adamams.ref"))
    written.append(run_mtl("adamwams", 8).write("traj_mtl_adamwams.ref"))
    written.append(run_til("sgddamp", 9).write("traj_til_sgddamp.ref"))
    written.append(run_til("sgd", 10, frozen=True).write("traj_til_sgd_frozen.ref"))
    written.append(run_cil("adamw", 11, frozen=True).write("traj_cil_adamw_frozen.ref"))
    written.append(run_cil("adam", 12, frozen=True).write("traj_cil_adam_frozen.ref"))
    written.append(run_single("dil", "adamw", 13).write("traj_dil_adamw.ref"))
    written.append(run_single("stl", "sgd", 14).write("traj_stl_sgd.ref"))
    with open(os.path.join(OUT_DIR, "trajectories.txt"), "w") as f:
        f.write("".join(name + "\n" for name in written))
    flats = [run_flat(opt, 30 + i) for i, opt in enumerate(OPTIMIZERS)]
    with open(os.path.join(OUT_DIR, "flat.txt"), "w") as f:
        f.write("".join(name + "\n" for name in flats))
    print(f"wrote cross_entropy.ref and {len(written)} trajectories to {os.path.normpath(OUT_DIR)}")


if __name__ == "__main__":
    main()
