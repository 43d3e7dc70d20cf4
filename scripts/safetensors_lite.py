"""A few lines that read and write the safetensors format, for the checkpoint
scripts (Debian has no safetensors package). numpy only.

    write_safetensors(path, {name: numpy array}, metadata=None)
    read_safetensors(path) -> ({name: (dtype, numpy array)}, metadata or None, header dict,
                                file bytes)

The writer follows the format as the safetensors package writes it: 8-byte
little-endian header length, a JSON header starting with '{' and padded with
spaces to a multiple of 8, tensors laid out in the order given. bfloat16 has
no numpy dtype: pass ("BF16", uint16 bit patterns) or use torch_to_numpy().
"""

import json
import struct

import numpy as np

NUMPY_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4",
                "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "?", "BF16": "<u2"}


def _dtype_name(array):
    for name, code in NUMPY_DTYPES.items():
        if name != "BF16" and np.dtype(code) == array.dtype.newbyteorder("<"):
            return name
    raise TypeError(f"unsupported dtype {array.dtype}")


def encode_safetensors(tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, value in tensors.items():
        if isinstance(value, tuple):  # ("BF16", uint16 bits)
            dtype, array = value
        else:
            array = np.asarray(value)
            dtype = _dtype_name(array)
        blob = np.ascontiguousarray(array, dtype=np.dtype(NUMPY_DTYPES[dtype])).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def write_safetensors(path, tensors, metadata=None):
    with open(path, "wb") as f:
        f.write(encode_safetensors(tensors, metadata))


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack_from("<Q", data, 0)
    header = json.loads(data[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", None)
    base, tensors = 8 + n, {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        array = np.frombuffer(data[base + begin: base + end], dtype=np.dtype(NUMPY_DTYPES[info["dtype"]]))
        tensors[name] = (info["dtype"], array.reshape(info["shape"]).copy())
    return tensors, metadata, header, data


def bf16_to_float32(bits):
    return (np.asarray(bits, dtype=np.uint32) << 16).view(np.float32)


def to_torch(dtype, array):
    """A tensor from read_safetensors' (dtype, array) pair."""
    import torch

    if dtype == "BF16":
        return torch.from_numpy(np.asarray(array, dtype=np.int16).copy()).view(torch.bfloat16)
    return torch.from_numpy(array.copy())


def torch_to_numpy(tensor):
    """A numpy array, or ("BF16", uint16 bits) for a bfloat16 tensor."""
    import torch

    tensor = tensor.detach().cpu().contiguous()
    if tensor.dtype == torch.bfloat16:
        return ("BF16", tensor.view(torch.int16).numpy().view(np.uint16))
    return tensor.numpy()
