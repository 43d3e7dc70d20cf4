#!/usr/bin/env python3
"""Writes the committed seed corpus of the safetensors fuzz target
(fuzz/corpus/): small valid files (every dtype, metadata, zero-size and
scalar tensors, clheads-style checkpoints of each paradigm) and one file per
rejection rule of the strict reader. Standard library only; run from
anywhere: python3 fuzz/make_corpus.py

The found_<sha1> files beside the seeds are inputs that fuzzing runs found to
add coverage (libFuzzer -merge=1 of a run's corpus into the seeds); they are
kept as they are and replayed in CI with the seeds."""
import json
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
SIZES = {"F32": 4, "F16": 2, "BF16": 2, "F64": 8, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
         "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1}


def raw(header_bytes, data=b"", length=None, pad=True):
    """8-byte length + header (padded with spaces to 8) + data."""
    if pad:
        header_bytes += b" " * (-len(header_bytes) % 8)
    n = len(header_bytes) if length is None else length
    return struct.pack("<Q", n) + header_bytes + data


def st(tensors, meta=None):
    """tensors: list of (name, dtype, shape, bytes) laid out in order."""
    header, data = {}, b""
    if meta is not None:
        header["__metadata__"] = meta
    for name, dtype, shape, blob in tensors:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(blob)]}
        data += blob
    return raw(json.dumps(header, separators=(",", ":")).encode(), data)


def f32(*values):
    return struct.pack("<%df" % len(values), *values)


def head(prefix, classes, inputs):
    w = f32(*[0.01 * (i + 1) for i in range(classes * inputs)])
    b = f32(*[-0.1 * (i + 1) for i in range(classes)])
    return [(prefix + ".weight", "F32", [classes, inputs], w), (prefix + ".bias", "F32", [classes], b)]


def seeds():
    out = {}
    out["valid_empty"] = raw(b"{}")
    out["valid_one_f32"] = st([("x", "F32", [2, 2], f32(1, 2, 3, 4))])
    out["valid_all_dtypes"] = st([("t_" + d, d, [3], bytes(range(3 * s))) for d, s in SIZES.items()])
    out["valid_metadata"] = st([("x", "F16", [2], b"\x00\x3c\x00\xc0")], {"a": "1", "b": "é"})
    out["valid_zero_size_and_scalar"] = st([("empty", "F32", [0, 5], b""), ("scalar", "F64", [], struct.pack("<d", 2.5))])
    out["valid_unpadded_header"] = raw(b'{"x":{"dtype":"U8","shape":[3],"data_offsets":[0,3]}}', b"abc", pad=False)
    out["valid_til"] = st(head("heads.3", 2, 3) + head("heads.1", 3, 3),
                          {"clheads_format": "1", "paradigm": "TIL", "in_features": "3",
                           "task_ids": "3,1", "num_classes": "2,3", "frozen_task_ids": "1"})
    out["valid_cil"] = st(head("heads.0", 2, 2) + head("heads.1", 2, 2),
                          {"clheads_format": "1", "paradigm": "CIL", "in_features": "2",
                           "task_ids": "0,1", "num_classes": "2,2", "masked_task_ids": "0"})
    out["valid_dil"] = st(head("head", 4, 2), {"clheads_format": "1", "paradigm": "DIL", "in_features": "2",
                                              "task_ids": "", "num_classes": "4"})
    out["valid_torch_til_alias"] = st(head("heads.0", 2, 2) + head("heads.5", 1, 2) + head("head_t", 1, 2))
    out["valid_torch_prefix"] = st([("backbone.w", "F32", [1], f32(1))] + head("heads.heads.2", 2, 2))
    # One per rejection rule.
    out["reject_short"] = b"\x10\x00\x00"
    out["reject_truncated"] = st([("x", "F32", [4], f32(1, 2, 3, 4))])[:-5]
    out["reject_length_past_end"] = raw(b"{}", length=1 << 20)
    out["reject_length_over_limit"] = raw(b"{}", length=100_000_001)
    out["reject_length_huge"] = raw(b"{}", length=(1 << 64) - 1)
    out["reject_not_object"] = raw(b"[1,2,3]")
    out["reject_invalid_json"] = raw(b'{"x": {"dtype": "F32",')
    out["reject_invalid_utf8"] = raw(b'{"\xff\xfe":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}')
    out["reject_duplicate"] = raw(b'{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},'
                                  b'"x":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', b"ab")
    out["reject_unknown_dtype"] = raw(b'{"x":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}', bytes(16))
    out["reject_shape_offsets_disagree"] = raw(b'{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', bytes(4))
    out["reject_overlap"] = raw(b'{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},'
                                b'"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}', bytes(6))
    out["reject_hole"] = raw(b'{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},'
                             b'"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}', bytes(6))
    out["reject_trailing"] = raw(b'{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}', bytes(5))
    out["reject_int_overflow_json"] = raw(b'{"a":{"dtype":"U8","shape":[99999999999999999999],"data_offsets":[0,2]}}', bytes(2))
    out["reject_shape_product_overflow"] = raw(b'{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,0]}}')
    out["reject_negative_shape"] = raw(b'{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}')
    out["reject_extra_key"] = raw(b'{"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0],"x":1}}')
    out["reject_metadata_not_string"] = raw(b'{"__metadata__":{"k":1}}')
    out["reject_nul_key"] = raw(b'{"a\\u0000b":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}')
    out["reject_not_brace"] = raw(b' {}')
    out["reject_til_bad_shape"] = st([("heads.0.weight", "F32", [2], f32(1, 2)), ("heads.0.bias", "F32", [2], f32(1, 2))])
    out["reject_til_in_disagree"] = st(head("heads.0", 2, 3) + head("heads.1", 2, 4))
    out["reject_til_no_bias"] = st(head("heads.0", 2, 3)[:1])
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, blob in seeds().items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(blob)
    print("wrote", len(seeds()), "seeds to", OUT)


if __name__ == "__main__":
    main()
