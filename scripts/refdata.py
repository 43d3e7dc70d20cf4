"""Writer for the reference-data files the C tests read (tests/refdata.h).

Format (little-endian), chosen so a C test needs no library to read it:
    magic  b"CLHREF01"                 8 bytes
    count  uint32                      number of arrays
    then per array:
      name_len uint16, name (UTF-8, no NUL)
      dtype    uint8: 1 = float32, 2 = int64
      ndim     uint8 (0..4), dims uint32[ndim]
      data     prod(dims) elements
"""

import struct

import numpy as np

MAGIC = b"CLHREF01"
DTYPES = {np.dtype(np.float32): 1, np.dtype(np.int64): 2}


def write_refdata(path, arrays):
    """arrays: ordered mapping name -> numpy array (float32 or int64, up to 4 dims)."""
    parts = [MAGIC, struct.pack("<I", len(arrays))]
    for name, value in arrays.items():
        value = np.asarray(value)
        if value.dtype not in DTYPES:
            raise TypeError(f"{name}: dtype {value.dtype} is not float32 or int64")
        if value.ndim > 4:
            raise ValueError(f"{name}: more than 4 dimensions")
        encoded = name.encode("utf-8")
        parts.append(struct.pack("<H", len(encoded)) + encoded)
        parts.append(struct.pack("<BB", DTYPES[value.dtype], value.ndim))
        parts.append(struct.pack(f"<{value.ndim}I", *value.shape))
        parts.append(np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<")).tobytes())
    with open(path, "wb") as f:
        f.write(b"".join(parts))


def read_refdata(path):
    """The inverse of write_refdata (for checks and for other scripts)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != MAGIC:
        raise ValueError(f"{path}: not a reference-data file")
    (count,) = struct.unpack_from("<I", data, 8)
    pos, arrays = 12, {}
    for _ in range(count):
        (name_len,) = struct.unpack_from("<H", data, pos)
        name = data[pos + 2: pos + 2 + name_len].decode("utf-8")
        pos += 2 + name_len
        dtype_code, ndim = struct.unpack_from("<BB", data, pos)
        shape = struct.unpack_from(f"<{ndim}I", data, pos + 2)
        pos += 2 + 4 * ndim
        dtype = np.dtype("<f4") if dtype_code == 1 else np.dtype("<i8")
        n = int(np.prod(shape, dtype=np.int64))
        arrays[name] = np.frombuffer(data, dtype=dtype, count=n, offset=pos).reshape(shape).copy()
        pos += n * dtype.itemsize
    if pos != len(data):
        raise ValueError(f"{path}: {len(data) - pos} trailing bytes")
    return arrays
