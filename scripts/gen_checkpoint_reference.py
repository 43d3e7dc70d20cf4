#!/usr/bin/python3
"""Writes tests/data/checkpoint/: safetensors files written from PyTorch (the
seed's heads modules' state dicts, with no clheads metadata) and the logits
PyTorch computes with them, so the C tests check "a file written by PyTorch
loads in clheads and gives the same logits" without needing torch.

  torch_til_f32.safetensors    HeadsTIL, tasks set up 3, 1, 2; the state dict as
                               PyTorch has it, with the head_t alias
  torch_cil_f16.safetensors    HeadsCIL, tasks 2, 0, 1, stored as F16
  torch_mtl_bf16.safetensors   HeadsMTL, tasks 5, 1, stored as BF16
  torch_dil_f64.safetensors    HeadDIL, stored as F64
  torch_stl_f32.safetensors    HeadSTL
  torch_model_prefix.safetensors  a whole model (backbone + TIL heads as the
                               attribute `heads`): load with prefix "heads."
  reference.bin                (tests/refdata.h format) x [4, 6]; logits_<file>[_<task>]
                               (CIL logits in ascending task id, the order clheads
                               uses for files without metadata); half_in, f16_bits,
                               bf16_bits: PyTorch's float32 -> F16/BF16 roundings.

Run: /usr/bin/python3 scripts/gen_checkpoint_reference.py
"""
import os
import sys

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from refdata import write_refdata  # noqa: E402
from safetensors_lite import torch_to_numpy, write_safetensors  # noqa: E402
from seed_heads import HeadDIL, HeadsCIL, HeadsMTL, HeadSTL, HeadsTIL  # noqa: E402

OUT = os.path.join(HERE, "..", "tests", "data", "checkpoint")
IN = 6
BATCH = 4


class Model(nn.Module):
    """A CLArena-like model: a backbone and the heads as attribute `heads`."""

    def __init__(self):
        super().__init__()
        self.backbone = nn.Linear(3, IN)
        self.heads = HeadsTIL(IN)


def save(name, module, dtype=torch.float32):
    tensors = {k: torch_to_numpy(v.to(dtype)) for k, v in module.state_dict().items()}
    write_safetensors(os.path.join(OUT, name), tensors)
    # The weights clheads will see: rounded to the file's dtype, back to float32.
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(p.to(dtype).to(torch.float32))


def half_references():
    g = torch.Generator().manual_seed(7)
    values = [0.0, -0.0, 1.0, -2.5, 65504.0, 65519.99, 65520.0, 1e6, -1e6, 6.1e-5, 6.0e-8, 2.9e-8,
              3.0e-8, 1e-10, 1.0009765625 + 2 ** -11, 1.0 + 2 ** -11, 1.0 + 3 * 2 ** -11,
              float("inf"), float("-inf"), 3.3895313892515355e38, 1.00390625, 1.005859375]
    rand = torch.randn(200, generator=g) * torch.exp(torch.randn(200, generator=g) * 6)
    x = torch.cat([torch.tensor(values, dtype=torch.float32), rand.float()])
    f16 = x.half().view(torch.int16).numpy().astype(np.int64) & 0xFFFF
    bf16 = x.bfloat16().view(torch.int16).numpy().astype(np.int64) & 0xFFFF
    return {"half_in": x.numpy(), "f16_bits": f16, "bf16_bits": bf16}


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(20261127)
    x = torch.randn(BATCH, IN)
    ref = {"x": x.numpy()}

    til = HeadsTIL(IN)
    for t, c in [(3, 2), (1, 3), (2, 4)]:
        til.setup_task_id(t, c)
    save("torch_til_f32.safetensors", til)
    for t in (1, 2, 3):
        ref[f"logits_til_f32_{t}"] = til(x, t).detach().numpy()

    cil = HeadsCIL(IN)
    for t, c in [(2, 2), (0, 3), (1, 2)]:
        cil.setup_task_id(t, c)
    save("torch_cil_f16.safetensors", cil, torch.float16)
    cil.processed_task_ids = sorted(cil.processed_task_ids)
    ref["logits_cil_f16"] = cil(x).detach().numpy()

    mtl = HeadsMTL(IN)
    mtl.setup_tasks([5, 1], {5: 3, 1: 2})
    save("torch_mtl_bf16.safetensors", mtl, torch.bfloat16)
    for t in (5, 1):
        ref[f"logits_mtl_bf16_{t}"] = mtl(x, t).detach().numpy()

    dil = HeadDIL(IN)
    dil.setup_task(5)
    save("torch_dil_f64.safetensors", dil, torch.float64)
    ref["logits_dil_f64"] = dil(x).detach().numpy()

    stl = HeadSTL(IN)
    stl.setup_task(3)
    save("torch_stl_f32.safetensors", stl)
    ref["logits_stl_f32"] = stl(x).detach().numpy()

    model = Model()
    for t, c in [(4, 2), (7, 3)]:
        model.heads.setup_task_id(t, c)
    save("torch_model_prefix.safetensors", model)
    for t in (4, 7):
        ref[f"logits_model_prefix_{t}"] = model.heads(x, t).detach().numpy()

    ref.update(half_references())
    write_refdata(os.path.join(OUT, "reference.bin"), ref)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
