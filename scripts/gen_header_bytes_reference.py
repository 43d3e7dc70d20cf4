#!/usr/bin/python3
"""Writes tests/data/checkpoint/header_bytes.safetensors: the exact bytes the
clheads writer must produce for the checkpoint test_safetensors_header_bytes
builds (three TIL heads with Adam's state under "optimizer.heads", extra
tensors with odd names, a scalar and an empty tensor, metadata that needs
escaping), computed here with Python's json module from the safetensors
format's rules rather than by the C writer:

  8-byte little-endian length N, then N bytes of compact JSON (no spaces;
  "__metadata__" first, then the tensors in the order given, each as
  {"dtype", "shape", "data_offsets"}; UTF-8 written as is, only '"', '\\'
  and control characters escaped, the latter as \\b \\f \\n \\r \\t or
  \\u00XX with upper-case hex digits, as jansson writes them), padded with
  spaces to a multiple of 8; then the tensors' bytes, back to back.

Keep the content in step with test_reference_checkpoint() in
tests/io/test_safetensors_header_bytes.c.

Run: /usr/bin/python3 scripts/gen_header_bytes_reference.py
"""
import json
import os
import re
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "data", "checkpoint", "header_bytes.safetensors")

IN = 3
TASKS = [(5, 2), (2, 3), (9, 2)]  # (task id, classes) in set-up order
FROZEN = "2"
PREFIX = "optimizer.heads"


def flat_params():
    """The test sets parameter i of the flat bank (all weights, then all biases) to ((i % 13) - 6) / 4."""
    rows = sum(c for _, c in TASKS)
    values = np.array([((i % 13) - 6) * 0.25 for i in range(rows * IN + rows)], dtype=np.float32)
    return values[: rows * IN].reshape(rows, IN), values[rows * IN:]


def checkpoint():
    weights, biases = flat_params()
    ids = ",".join(str(t) for t, _ in TASKS)
    classes = ",".join(str(c) for _, c in TASKS)
    meta = {"clheads_format": "1", "paradigm": "TIL", "in_features": str(IN), "task_ids": ids,
            "num_classes": classes, "frozen_task_ids": FROZEN}
    # The optimizer export's metadata (clh_optim_export_create_prefixed), in its order.
    for key, value in [("format", "1"), ("kind", "adam"), ("lr", "0.001"), ("weight_decay", "0"),
                       ("momentum", "0"), ("dampening", "0"), ("nesterov", "0"),
                       ("beta1", "0.90000000000000002"), ("beta2", "0.999"), ("eps", "1e-08"),
                       ("amsgrad", "0"), ("lr_decay", "0"), ("initial_accumulator_value", "0"),
                       ("binding", "heads"), ("paradigm", "TIL"), ("in_features", str(IN)),
                       ("task_ids", ids), ("num_classes", classes)]:
        meta[f"{PREFIX}.{key}"] = value
    meta["note"] = "tab\there \"quoted\" back\\slash /slash \x7f ctrl\x02\x1b \u00e9 \U0001F600"
    meta["\u00fcn\u00efcode key"] = "v"

    tensors, row = [], 0
    for task, c in TASKS:
        tensors.append((f"heads.{task}.weight", weights[row:row + c]))
        tensors.append((f"heads.{task}.bias", biases[row:row + c]))
        row += c
    for task, c in TASKS:  # Adam after a step with no gradient: zero moments, step 0
        for buffer in ("exp_avg", "exp_avg_sq"):
            tensors.append((f"{PREFIX}.heads.{task}.weight.{buffer}", np.zeros((c, IN), np.float32)))
            tensors.append((f"{PREFIX}.heads.{task}.bias.{buffer}", np.zeros(c, np.float32)))
        tensors.append((f"{PREFIX}.heads.{task}.step", np.array(0, dtype=np.int64)))
    tensors.append(("odd \"name\" \\ / \x01\x1f\t\n\x7f \u00e9 \U0001F600",
                    np.array([1.5, -2.0], dtype=np.float32)))
    tensors.append(("scalar.i64", np.array(7, dtype=np.int64)))
    tensors.append(("empty", np.zeros((0, 3), np.float32)))
    return tensors, meta


DTYPES = {np.dtype(np.float32): ("F32", "<f4"), np.dtype(np.int64): ("I64", "<i8")}


def upper_hex_escapes(text):
    """json writes \\u001b; jansson (and so clheads) \\u001B. Only escapes
    that are not themselves escaped backslashes are changed."""
    return re.sub(r'(?<!\\)((?:\\\\)*)\\u([0-9a-f]{4})',
                  lambda m: m.group(1) + "\\u" + m.group(2).upper(), text)


def encode(tensors, meta):
    header, blobs, offset = {"__metadata__": meta}, [], 0
    for name, array in tensors:
        dtype, code = DTYPES[array.dtype]
        blob = np.ascontiguousarray(array, dtype=np.dtype(code)).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False)
    text = upper_hex_escapes(text).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def main():
    data = encode(*checkpoint())
    with open(OUT, "wb") as f:
        f.write(data)
    print(f"wrote {OUT} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
