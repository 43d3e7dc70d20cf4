#!/usr/bin/python3
"""Writes tests/data/core/core_reference.bin: PyTorch reference values for the core tests.

For every case it builds the seed's head object (scripts/seed_heads.py), gives
it clheads' exact initial weights (scripts/clheads_init.py), and for each call
records the input x, a fixed upstream gradient G, and what autograd gives for
loss = sum(logits * G): the logits, d(feature) and every head's dW and db
(zeros for heads the call does not use). Gradients start from zero for every
call. The C test (tests/test_core_reference.c) replays the same set-up and
calls on a clh_heads handle and compares.

Array names (see tests/refdata.h for the file format):
  <case>/meta       int64 [paradigm (clh_paradigm), in_features, seed (uint64 bits), ncalls]
  <case>/task_ids   int64 [tasks] in set-up order (DIL/STL: [0]); <case>/classes likewise
  <case>/W/<t>, <case>/b/<t>        initial weight [C_t, in] and bias [C_t]
  <case>/<k>/x      [B, in];  <case>/<k>/task int64 [1] (CLH_NO_TASK = INT64_MIN when the
                    call takes none) or <case>/<k>/tasks int64 [B] (MTL mixed batch)
  <case>/<k>/G, <case>/<k>/logits  [B, width];  <case>/<k>/dx [B, in]
  <case>/<k>/dW/<t>, <case>/<k>/db/<t>  for every task t

"mtl_unequal" has class counts the seed cannot batch; its reference is computed
per task with the same nn.Linear modules: padding logits are -inf and the
padding positions of G are NaN (the C backward must never read them).
Cases with ncalls = 0 only pin initial weights (large seed, big task ids, MNIST size).

Run: /usr/bin/python3 scripts/gen_core_reference.py  (deterministic; rewrites the file)
"""

import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seed_heads  # noqa: E402
from refdata import read_refdata, write_refdata  # noqa: E402

TIL, CIL, DIL, MTL, STL = range(5)
NO_TASK = -(2 ** 63)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "core",
                   "core_reference.bin")

gen = torch.Generator().manual_seed(20261127)


def randn(*shape):
    return torch.randn(*shape, generator=gen, dtype=torch.float32)


def as_int64_bits(seed):
    return seed - 2 ** 64 if seed >= 2 ** 63 else seed


def build(paradigm, in_features, seed, task_ids, classes):
    """The seed object set up as the C handle will be, with clheads' initial weights."""
    if paradigm == TIL:
        heads = seed_heads.HeadsTIL(in_features)
        for t, c in zip(task_ids, classes):
            heads.setup_task_id(t, c)
    elif paradigm == CIL:
        heads = seed_heads.HeadsCIL(in_features)
        for t, c in zip(task_ids, classes):
            heads.setup_task_id(t, c)
    elif paradigm == MTL:
        heads = seed_heads.HeadsMTL(in_features)
        heads.setup_tasks(list(task_ids), dict(zip(task_ids, classes)))
    elif paradigm == DIL:
        heads = seed_heads.HeadDIL(in_features)
        heads.setup_task(classes[0])
    else:
        heads = seed_heads.HeadSTL(in_features)
        heads.setup_task(classes[0])
    return seed_heads.init_like_clheads(heads, seed)


def linear_of(heads, paradigm, task_id):
    if paradigm in (DIL, STL):
        return heads.head
    return heads.heads[f"{task_id}"]


def seed_forward(heads, paradigm, x, call):
    if paradigm == TIL:
        return heads(x, call["task"])
    if paradigm == MTL:
        if "tasks" in call:
            return heads(x, torch.tensor(call["tasks"], dtype=torch.int64))
        return heads(x, call["task"])
    if paradigm == STL:
        return heads(x)
    return heads(x)  # CIL, DIL: no task id


def per_task_mixed_forward(heads, x, tasks, classes_of):
    """Mixed MTL forward for any class counts: each sample through its own head, as wide
    as the widest head set up (not only those in the batch), -inf padding."""
    width = max(classes_of.values())
    rows = []
    for i, t in enumerate(tasks):
        out = heads.get_head(t)(x[i: i + 1])
        pad = torch.full((1, width - classes_of[t]), float("-inf"))
        rows.append(torch.cat([out, pad], dim=1))
    return torch.cat(rows, dim=0)


def run_case(arrays, name, paradigm, in_features, seed, task_ids, classes, calls):
    task_ids, classes = list(task_ids), list(classes)
    classes_of = dict(zip(task_ids, classes))
    heads = build(paradigm, in_features, seed, task_ids, classes)
    arrays[f"{name}/meta"] = np.array([paradigm, in_features, as_int64_bits(seed), len(calls)],
                                      dtype=np.int64)
    arrays[f"{name}/task_ids"] = np.array(task_ids, dtype=np.int64)
    arrays[f"{name}/classes"] = np.array(classes, dtype=np.int64)
    for t in task_ids:
        linear = linear_of(heads, paradigm, t)
        arrays[f"{name}/W/{t}"] = linear.weight.detach().numpy().copy()
        arrays[f"{name}/b/{t}"] = linear.bias.detach().numpy().copy()

    unequal = len(set(classes)) > 1
    for k, call in enumerate(calls):
        batch = call["batch"]
        heads.zero_grad(set_to_none=False)
        for t in task_ids:  # zero_grad only touches existing .grad; make every grad exist
            linear = linear_of(heads, paradigm, t)
            linear.weight.grad = torch.zeros_like(linear.weight)
            linear.bias.grad = torch.zeros_like(linear.bias)
        x = randn(batch, in_features).requires_grad_(True)
        if paradigm == MTL and "tasks" in call and unequal:
            logits = per_task_mixed_forward(heads, x, call["tasks"], classes_of)
        else:
            logits = seed_forward(heads, paradigm, x, call)
        G = randn(*logits.shape)
        valid = torch.isfinite(logits)
        G = torch.where(valid, G, torch.full_like(G, float("nan")))
        loss = (logits[valid] * G[valid]).sum()
        loss.backward()

        prefix = f"{name}/{k}"
        arrays[f"{prefix}/x"] = x.detach().numpy().copy()
        if "tasks" in call:
            arrays[f"{prefix}/tasks"] = np.array(call["tasks"], dtype=np.int64)
        else:
            arrays[f"{prefix}/task"] = np.array([call.get("task", NO_TASK)], dtype=np.int64)
        arrays[f"{prefix}/G"] = G.numpy().copy()
        arrays[f"{prefix}/logits"] = logits.detach().numpy().copy()
        arrays[f"{prefix}/dx"] = x.grad.numpy().copy()
        for t in task_ids:
            linear = linear_of(heads, paradigm, t)
            arrays[f"{prefix}/dW/{t}"] = linear.weight.grad.numpy().copy()
            arrays[f"{prefix}/db/{t}"] = linear.bias.grad.numpy().copy()


def check_seed_bugs():
    """The reconstruction reproduces the seed's documented bugs (see BRIEF.md)."""
    til = seed_heads.HeadsTIL(4)
    til.setup_task_id(1, 2)
    first = til.get_head(1).weight.detach().clone()
    til.setup_task_id(1, 2)
    assert not torch.equal(first, til.get_head(1).weight), "TIL repeated set-up keeps weights?"
    assert "head_t.weight" in til.state_dict(), "TIL alias missing"
    cil = seed_heads.HeadsCIL(4)
    cil.setup_task_id(1, 2)
    cil.setup_task_id(1, 2)
    assert cil(torch.zeros(1, 4)).shape == (1, 4), "CIL repeated set-up does not duplicate?"
    mtl = seed_heads.HeadsMTL(4)
    mtl.setup_tasks([1, 2], {1: 2, 2: 3})
    try:
        mtl(torch.zeros(2, 4), torch.tensor([1, 2]))
        raise AssertionError("MTL unequal class counts did not fail")
    except RuntimeError:
        pass
    for bad in (torch.tensor([], dtype=torch.int64), torch.tensor([7])):
        try:
            mtl(torch.zeros(len(bad), 4), bad)
            raise AssertionError("MTL empty/unknown batch did not fail")
        except (UnboundLocalError, NameError, KeyError):
            pass


def main():
    check_seed_bugs()
    torch.set_num_threads(1)
    arrays = {}
    # TIL: tasks arrive 3, 1, 2; batch sizes 5, 1, 6; in 13 and 37.
    run_case(arrays, "til13", TIL, 13, 7, [3, 1, 2], [4, 2, 5],
             [{"batch": 5, "task": 1}, {"batch": 1, "task": 3}, {"batch": 6, "task": 2}])
    run_case(arrays, "til37", TIL, 37, 1234, [5, 2], [3, 7],
             [{"batch": 4, "task": 2}, {"batch": 3, "task": 5}])
    # CIL: one forward over all heads, concatenated in processed order (3, 1, 2).
    run_case(arrays, "cil13", CIL, 13, 7, [3, 1, 2], [4, 2, 5],
             [{"batch": 5}, {"batch": 1}])
    run_case(arrays, "cil37", CIL, 37, 99, [2, 0, 1], [3, 6, 2], [{"batch": 9}])
    # DIL and STL: the one head.
    run_case(arrays, "dil13", DIL, 13, 5, [0], [4], [{"batch": 1}, {"batch": 6}])
    run_case(arrays, "dil37", DIL, 37, 6, [0], [3], [{"batch": 5}])
    run_case(arrays, "stl13", STL, 13, 8, [0], [5], [{"batch": 1}, {"batch": 4}])
    run_case(arrays, "stl37", STL, 37, 9, [0], [10], [{"batch": 33}])
    # MTL with equal class counts (what the seed supports): one task per batch, and mixed.
    run_case(arrays, "mtl13", MTL, 13, 11, [3, 1, 2], [4, 4, 4],
             [{"batch": 4, "task": 1}, {"batch": 1, "task": 3},
              {"batch": 9, "tasks": [2, 3, 1, 1, 2, 3, 3, 1, 2]},
              {"batch": 1, "tasks": [2]},
              {"batch": 5, "tasks": [1, 1, 3, 1, 3]}])
    run_case(arrays, "mtl37", MTL, 37, 12, [4, 0, 9], [3, 3, 3],
             [{"batch": 7, "tasks": [9, 0, 0, 4, 9, 4, 0]}, {"batch": 2, "task": 0}])
    # MTL with unequal class counts (ours only): reference per task, -inf padding.
    run_case(arrays, "mtl_unequal", MTL, 13, 13, [3, 1, 2], [4, 2, 5],
             [{"batch": 8, "tasks": [1, 3, 2, 1, 1, 2, 3, 2]},
              {"batch": 3, "tasks": [1, 1, 1]},
              {"batch": 1, "tasks": [2]}])
    # Initial weights only: a seed with the top bit set, large task ids, an MNIST-sized head.
    run_case(arrays, "init_bigseed", TIL, 37, 0xDEADBEEFCAFEF00D, [7, 0, 2 ** 40], [3, 1, 2], [])
    run_case(arrays, "init_mnist", CIL, 784, 1, [0, 1, 2, 3, 4], [2, 2, 2, 2, 2], [])
    run_case(arrays, "init_in1", STL, 1, 0, [0], [3], [])

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    write_refdata(OUT, arrays)
    back = read_refdata(OUT)
    assert all(np.array_equal(back[k], v, equal_nan=True) for k, v in arrays.items())
    print(f"wrote {os.path.normpath(OUT)}: {len(arrays)} arrays, {os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()
