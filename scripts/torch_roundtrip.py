#!/usr/bin/python3
"""Round trip 1 of the checkpoint tests: files saved by clheads load with
load_state_dict into the seed's PyTorch heads and give the same logits.

Runs the C exporter (tests/checkpoint_export.c), which writes one checkpoint
per paradigm plus the features and the logits clheads computed; for each,
checks the file is a well-formed safetensors file (header starts with '{',
padded to 8, tensor names exactly the seed module's state_dict keys, F32,
PyTorch's shapes), rebuilds the seed's module from the metadata (task order,
class counts), load_state_dict(strict) and compares the logits (1e-5
relative). TIL's head_t alias is the one key a clheads file leaves out.

Usage: torch_roundtrip.py --exporter PATH --workdir DIR   (exit 0 = pass)
"""
import argparse
import json
import os
import struct
import subprocess
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from safetensors_lite import read_safetensors  # noqa: E402
from seed_heads import HeadDIL, HeadsCIL, HeadsMTL, HeadSTL, HeadsTIL  # noqa: E402

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def build_seed(meta):
    paradigm, in_features = meta["paradigm"], int(meta["in_features"])
    ids = [int(t) for t in meta["task_ids"].split(",")] if meta["task_ids"] else []
    classes = [int(c) for c in meta["num_classes"].split(",")]
    if paradigm == "TIL":
        m = HeadsTIL(in_features)
        for t, c in zip(ids, classes):
            m.setup_task_id(t, c)
    elif paradigm == "CIL":
        m = HeadsCIL(in_features)
        for t, c in zip(ids, classes):
            m.setup_task_id(t, c)
    elif paradigm == "MTL":
        m = HeadsMTL(in_features)
        m.setup_tasks(ids, dict(zip(ids, classes)))
    elif paradigm == "DIL":
        m = HeadDIL(in_features)
        m.setup_task(classes[0])
    else:
        m = HeadSTL(in_features)
        m.setup_task(classes[0])
    return m, ids


def check_file_layout(path, module, name):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack_from("<Q", data, 0)
    check(data[8:9] == b"{" and n % 8 == 0, f"{name}: header starts with '{{' and is padded to 8")
    header = json.loads(data[8:8 + n])
    keys = [k for k in header if k != "__metadata__"]
    expected = [k for k in module.state_dict().keys() if not k.startswith("head_t.")]
    check(keys == expected, f"{name}: tensor names {keys} == state_dict keys {expected}")
    for k in keys:
        check(header[k]["dtype"] == "F32", f"{name}: {k} is F32")
        check(header[k]["shape"] == list(module.state_dict()[k].shape), f"{name}: {k} shape")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    subprocess.run([args.exporter, args.workdir], check=True)

    for paradigm in ["TIL", "CIL", "DIL", "MTL", "STL"]:
        path = os.path.join(args.workdir, paradigm + ".safetensors")
        tensors, meta, _, _ = read_safetensors(path)
        check(meta is not None and meta.get("clheads_format") == "1", f"{paradigm}: metadata")
        check(meta.get("paradigm") == paradigm, f"{paradigm}: metadata paradigm")
        module, ids = build_seed(meta)
        check_file_layout(path, module, paradigm)
        state = {k: torch.from_numpy(v.copy()) for k, (_, v) in tensors.items()}
        if paradigm == "TIL":
            # The seed's alias of the last set-up head: clheads writes no alias.
            result = module.load_state_dict(state, strict=False)
            check(sorted(result.missing_keys) == ["head_t.bias", "head_t.weight"]
                  and not result.unexpected_keys, f"TIL: only the head_t alias is missing: {result}")
        else:
            module.load_state_dict(state, strict=True)

        io, _, _, _ = read_safetensors(os.path.join(args.workdir, paradigm + "_io.safetensors"))
        x = torch.from_numpy(io["x"][1].copy())
        with torch.no_grad():
            if paradigm in ("TIL", "MTL"):
                outputs = {f"logits.{t}": module(x, t) for t in ids}
            else:
                outputs = {"logits": module(x)}
        for key, torch_logits in outputs.items():
            c_logits = io[key][1]
            scale = max(1.0, float(np.abs(c_logits).max()))
            err = float(np.abs(torch_logits.numpy() - c_logits).max())
            check(err <= 1e-5 * scale, f"{paradigm} {key}: max |torch - clheads| = {err:.3g}")
            print(f"{paradigm} {key}: max |torch - clheads| = {err:.3g}")

    if failures:
        print(f"torch_roundtrip: {len(failures)} failures", file=sys.stderr)
        return 1
    print("torch_roundtrip: all 5 paradigms load into the seed's heads with the same logits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
