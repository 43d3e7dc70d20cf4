#!/usr/bin/env python3
"""Writes the PyTorch references of `clheads predict` (tests/data/cli/predict_*).

For each case, the seed's heads (scripts/seed_heads.py) are built with
PyTorch's own initialisation (torch.manual_seed, not clheads' generator), their
state_dict() is written to a safetensors file exactly as PyTorch leaves it (no
clheads metadata; TIL keeps the seed's head_t alias), together with a batch of
features and the logits PyTorch computes for it. tests/test_cli_predict.c runs
`clheads predict` on these files and requires the same logits within 1e-5.

The files are written with scripts/safetensors_lite.py (Debian has no
safetensors package).

Run with Debian's interpreter: /usr/bin/python3 scripts/gen_cli_reference.py
"""

import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_lite import torch_to_numpy, write_safetensors  # noqa: E402
from seed_heads import HeadsCIL, HeadsMTL, HeadsTIL  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "cli")


def write(path, tensors):
    write_safetensors(path, {name: torch_to_numpy(t) for name, t in tensors.items()})


def case(name, state_dict, feature, task_ids, logits):
    write(os.path.join(OUT, f"predict_{name}_model.safetensors"), state_dict)
    inputs = {"feature": feature}
    if task_ids is not None:
        inputs["task_ids"] = task_ids
    write(os.path.join(OUT, f"predict_{name}_features.safetensors"), inputs)
    write(os.path.join(OUT, f"predict_{name}_expected.safetensors"), {"logits": logits})
    print(f"predict_{name}: logits {list(logits.shape)}")


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(20261127)
    in_features, batch = 12, 5
    with torch.no_grad():
        # TIL: tasks set up in the order 3, 1, 2 with different class counts;
        # the state dict keeps the seed's head_t alias (clheads skips it).
        til = HeadsTIL(in_features)
        for t, c in [(3, 3), (1, 2), (2, 4)]:
            til.setup_task_id(t, c)
        x = torch.randn(batch, in_features)
        case("til", til.state_dict(), x, torch.tensor([2], dtype=torch.int64), til(x, 2))

        # CIL: the logits of all tasks, concatenated in set-up order (ascending
        # here: a file without metadata is read in ascending task-id order).
        cil = HeadsCIL(in_features)
        for t, c in [(0, 2), (1, 3), (2, 2)]:
            cil.setup_task_id(t, c)
        x = torch.randn(batch, in_features)
        case("cil", cil.state_dict(), x, None, cil(x))

        # MTL: a mixed batch, one task id per sample (equal class counts, which
        # is what the seed supports).
        mtl = HeadsMTL(in_features)
        mtl.setup_tasks([0, 1, 2], {0: 3, 1: 3, 2: 3})
        x = torch.randn(batch, in_features)
        ids = torch.tensor([2, 0, 1, 0, 2], dtype=torch.int64)
        case("mtl", mtl.state_dict(), x, ids, mtl(x, ids))

        # A whole model's state dict (backbone + heads under "heads."), read
        # with --prefix heads.
        model = {"backbone.weight": torch.randn(in_features, 7)}
        model.update({f"heads.{k}": v for k, v in cil.state_dict().items()})
        x = torch.randn(batch, in_features)
        case("prefix", model, x, None, cil(x))


if __name__ == "__main__":
    main()
