#!/usr/bin/env python3
"""Writes the committed seed corpus of the resume fuzz target
(fuzz/corpus_resume/): checkpoints of short `clheads run` runs in every
paradigm (synthetic data, frozen backbone so the backbone's optimizer holds
no state), with the backbone's weights removed (fuzz_resume.c adds zeros in
their place), and a few hand-made rejections (+inf accuracy, an edited
phases_done, a missing loss). The found_<sha1> files beside them are small
inputs (< 8 KiB) a fuzzing run added for coverage (libFuzzer -merge=1), kept
as they are. Standard library only:
    python3 fuzz/make_resume_corpus.py build/cli/clheads"""
import json
import os
import struct
import subprocess
import sys
import tempfile

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus_resume")


def read(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack_from("<Q", data, 0)
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    tensors = {k: (v["dtype"], v["shape"], data[base + v["data_offsets"][0]:base + v["data_offsets"][1]])
               for k, v in header.items()}
    return tensors, meta


def write(path, tensors, meta):
    header, blob = {"__metadata__": meta}, b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + blob)


def main():
    clheads = sys.argv[1] if len(sys.argv) > 1 else "build/cli/clheads"
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        for paradigm in ["til", "cil", "dil", "mtl", "stl"]:
            out = os.path.join(work, paradigm)
            subprocess.run([clheads, "run", "--paradigm", paradigm, "--dataset", "synthetic",
                            "--tasks", "3", "--epochs", "1", "--batch-size", "256",
                            "--freeze-backbone", "--stop-after", "2", "--out", out, "--quiet"],
                           check=True, stdout=subprocess.DEVNULL)
            tensors, meta = read(os.path.join(out, "checkpoint.safetensors"))
            tensors = {k: v for k, v in tensors.items() if not k.startswith("backbone.")}
            write(os.path.join(OUT, f"seed_{paradigm}"), tensors, meta)
            if paradigm == "til":
                dtype, shape, raw = tensors["run.accuracy"]
                bad = dict(tensors)
                bad["run.accuracy"] = (dtype, shape, struct.pack("<d", float("inf")) + raw[8:])
                write(os.path.join(OUT, "reject_inf_accuracy"), bad, meta)
                write(os.path.join(OUT, "reject_phases_done"), tensors, dict(meta, **{"run.phases_done": "3"}))
                write(os.path.join(OUT, "reject_missing_loss"),
                      {k: v for k, v in tensors.items() if k != "run.loss"}, meta)
            if paradigm == "dil":
                write(os.path.join(OUT, "reject_dil_phases_done"), tensors,
                      dict(meta, **{"run.phases_done": "3"}))


if __name__ == "__main__":
    main()
