#!/usr/bin/env python3
"""Writes the committed seed corpus of the optimizer-state fuzz target
(fuzz/corpus_optim/): optimizer-state files as include/clheads/optim.h
describes them (every kind, heads and flat bindings, each paradigm's tensor
names) and one file per rejection of the loader (buffers stored in another
dtype or shape, a missing tensor, a huge optim.count, a bad number).
Standard library only; run from anywhere: python3 fuzz/make_corpus_optim.py

The found_<sha1> files beside the seeds are inputs that a fuzzing run found
to add coverage (libFuzzer -merge=1 of the run's corpus into the seeds);
they are kept as they are and replayed in CI with the seeds."""
import os
import struct

from make_corpus import f32, st

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus_optim")


def config(kind, momentum="0", amsgrad="0"):
    return {"optim.format": "1", "optim.kind": kind, "optim.lr": "0.01",
            "optim.weight_decay": "0", "optim.momentum": momentum, "optim.dampening": "0",
            "optim.nesterov": "0", "optim.beta1": "0.90000000000000002",
            "optim.beta2": "0.999", "optim.eps": "1e-08", "optim.amsgrad": amsgrad}


def step(name, value=3):
    return (name, "I64", [], struct.pack("<q", value))


def heads_state(paradigm, buffers, ids, classes, inputs, dtype="F32"):
    tensors = []
    single = paradigm in ("DIL", "STL")
    for t, c in zip(ids or [0], classes):
        prefix = "optim.head" if single else "optim.heads.%d" % t
        for b in buffers:
            n = c * inputs
            w = f32(*[0.001 * (i + 1) for i in range(n)])
            bias = f32(*[0.002 * (i + 1) for i in range(c)])
            if dtype != "F32":  # same element count, other element size
                size = {"U8": 1, "F16": 2, "F64": 8}[dtype]
                w, bias = bytes(n * size), bytes(c * size)
            tensors.append(("%s.weight.%s" % (prefix, b), dtype, [c, inputs], w))
            tensors.append(("%s.bias.%s" % (prefix, b), dtype, [c], bias))
        tensors.append(step(prefix + ".step"))
    return tensors


def layout(paradigm, ids, classes, inputs):
    return {"optim.binding": "heads", "optim.paradigm": paradigm,
            "optim.in_features": str(inputs), "optim.task_ids": ",".join(map(str, ids)),
            "optim.num_classes": ",".join(map(str, classes))}


def seeds():
    out = {}
    adam = ["exp_avg", "exp_avg_sq"]
    out["valid_none"] = st([], dict(config("sgd"), **{"optim.binding": "none"}))
    out["valid_flat_sgd_momentum"] = st(
        [("optim.params.momentum_buffer", "F32", [3], f32(1, 2, 3)), step("optim.params.step")],
        dict(config("sgd", momentum="0.9"), **{"optim.binding": "flat", "optim.count": "3"}))
    out["valid_til_adam"] = st(heads_state("TIL", adam, [3, 1], [2, 3], 2),
                               dict(config("adam"), **layout("TIL", [3, 1], [2, 3], 2)))
    out["valid_cil_adamw_amsgrad"] = st(
        heads_state("CIL", adam + ["max_exp_avg_sq"], [0, 1], [2, 2], 3),
        dict(config("adamw", amsgrad="1"), **layout("CIL", [0, 1], [2, 2], 3)))
    out["valid_dil_sgd_momentum"] = st(heads_state("DIL", ["momentum_buffer"], [], [4], 2),
                                       dict(config("sgd", momentum="0.9"),
                                            **layout("DIL", [], [4], 2)))
    out["valid_mtl_adam_f64"] = st(heads_state("MTL", adam, [5], [2], 2, dtype="F64"),
                                   dict(config("adam"), **layout("MTL", [5], [2], 2)))
    out["reject_u8_buffer"] = st(heads_state("TIL", adam, [0], [2], 2, dtype="U8"),
                                 dict(config("adam"), **layout("TIL", [0], [2], 2)))
    out["reject_huge_count"] = st([], dict(config("adam"), **{"optim.binding": "flat",
                                                              "optim.count": "4000000000000"}))
    out["reject_missing_step"] = st(heads_state("TIL", adam, [0], [2], 2)[:-1],
                                    dict(config("adam"), **layout("TIL", [0], [2], 2)))
    out["reject_bad_lr"] = st([], dict(config("sgd"), **{"optim.binding": "none",
                                                         "optim.lr": "0,01"}))
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, blob in seeds().items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(blob)
    print("wrote", len(seeds()), "seeds to", OUT)


if __name__ == "__main__":
    main()
