"""Python replica of clheads' seeded head initialisation (see include/clheads/rng.h).

clheads initialises every head like nn.Linear (W and b uniform in
[-1/sqrt(in), 1/sqrt(in)]) but from its own documented generator, so that a
script can reproduce the exact float32 values a C handle starts with:

    splitmix64:  state += 0x9E3779B97F4A7C15; z = state
                 z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
                 z = (z ^ (z >> 27)) * 0x94D049BB133111EB
                 return z ^ (z >> 31)                       (all mod 2^64)
    stream:      state = seed ^ (0xD1B54A32D192ED03 * uint64(task_id))
                 (DIL and STL use task id 0)
    value:       u = (next >> 40) * 2^-24;  float32((2u - 1) * bound) computed
                 in double, bound = 1 / sqrt(double(in_features))
    order:       weight [out, in] row-major first, then bias [out]

Only the standard library and numpy are needed; init_linear_() additionally
takes a torch nn.Linear and copies the values into it.
"""

import math

import numpy as np

MASK64 = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB
TASK_MULT = 0xD1B54A32D192ED03


def head_stream_state(seed, task_id):
    """Initial splitmix64 state of task_id's head (task_id as two's-complement uint64)."""
    return (seed & MASK64) ^ ((TASK_MULT * (task_id & MASK64)) & MASK64)


def splitmix64_sequence(state, count):
    """The first `count` outputs of splitmix64 from `state` (a plain-Python reference)."""
    out = []
    for _ in range(count):
        state = (state + GAMMA) & MASK64
        z = state
        z = ((z ^ (z >> 30)) * MIX1) & MASK64
        z = ((z ^ (z >> 27)) * MIX2) & MASK64
        out.append(z ^ (z >> 31))
    return out


def _splitmix64_numpy(state, count):
    """Vectorised splitmix64: the k-th output only depends on state + (k+1)*GAMMA."""
    k = np.arange(1, count + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(state) + k * np.uint64(GAMMA)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(MIX1)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(MIX2)
    return z ^ (z >> np.uint64(31))


def uniform_values(seed, task_id, count, in_features):
    """`count` float32 values of task_id's stream, uniform in [-bound, bound)."""
    raw = _splitmix64_numpy(head_stream_state(seed, task_id), count)
    u = (raw >> np.uint64(40)).astype(np.float64) * 2.0 ** -24  # exact: 24-bit integers
    bound = 1.0 / math.sqrt(float(in_features))
    return ((2.0 * u - 1.0) * bound).astype(np.float32)  # double arithmetic, then round once


def head_init(seed, task_id, out_features, in_features):
    """(weight [out, in], bias [out]) as float32 numpy arrays, exactly as clheads creates them."""
    if in_features <= 0 or out_features <= 0:
        raise ValueError("in_features and out_features must be positive")
    values = uniform_values(seed, task_id, out_features * (in_features + 1), in_features)
    weight = values[: out_features * in_features].reshape(out_features, in_features)
    bias = values[out_features * in_features:]
    return weight.copy(), bias.copy()


def head_init_reference(seed, task_id, out_features, in_features):
    """The same as head_init, computed one value at a time in plain Python (cross-check)."""
    bound = 1.0 / math.sqrt(float(in_features))
    raw = splitmix64_sequence(head_stream_state(seed, task_id), out_features * (in_features + 1))
    values = np.array([(2.0 * ((r >> 40) * 2.0 ** -24) - 1.0) * bound for r in raw],
                      dtype=np.float64).astype(np.float32)
    return (values[: out_features * in_features].reshape(out_features, in_features),
            values[out_features * in_features:])


def init_linear_(linear, seed, task_id):
    """Overwrites a torch nn.Linear's weight and bias with clheads' initial values."""
    import torch

    out_features, in_features = linear.weight.shape
    weight, bias = head_init(seed, task_id, out_features, in_features)
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(weight))
        if linear.bias is not None:
            linear.bias.copy_(torch.from_numpy(bias))
    return linear


if __name__ == "__main__":
    # Self-check: vectorised and plain versions agree, values lie in range.
    cases = [(0, 0, 3, 1), (42, 3, 4, 13), (2**64 - 1, 2**40, 2, 37), (7, -5, 5, 8)]
    for seed, task, out, inp in cases:
        w, b = head_init(seed, task, out, inp)
        w_ref, b_ref = head_init_reference(seed, task, out, inp)
        assert w.tobytes() == w_ref.tobytes() and b.tobytes() == b_ref.tobytes()
        bound = 1.0 / math.sqrt(inp)
        assert np.all(np.abs(w) <= bound) and np.all(np.abs(b) <= bound)
    print("clheads_init: self-check ok")
