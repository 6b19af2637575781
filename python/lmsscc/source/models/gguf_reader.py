# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading GGUF files: the architecture from the metadata (fast, without
parsing the vocabulary), metadata values, and tensors converted into the
native engine's matrices and vectors."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from ... import lmsscc_python as kernels

Q4_1, Q8_0, F32 = "Q4_1", "Q8_0", "F32"
# GGUF metadata value types (gguf spec): fixed sizes of the scalar ones; 8 = string, 9 = array.
_SCALAR_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_STRING, _ARRAY = 8, 9


def architecture(path, max_keys: int = 64) -> str | None:
    """``general.architecture`` of a GGUF file, reading only the metadata keys
    before it (gguf.GGUFReader would parse the whole vocabulary: seconds).
    None for a file that is not GGUF (version 2 or later) or lacks the key."""
    with open(Path(path), "rb") as f:
        magic, version = f.read(4), struct.unpack("<I", f.read(4))[0]
        if magic != b"GGUF" or version < 2:
            return None
        _tensors, n_kv = struct.unpack("<QQ", f.read(16))

        def string():
            (n,) = struct.unpack("<Q", f.read(8))
            return f.read(n)

        def skip(value_type):
            if value_type == _STRING:
                string()
            elif value_type == _ARRAY:
                item_type, count = struct.unpack("<IQ", f.read(12))
                if item_type in _SCALAR_SIZES:
                    f.seek(count * _SCALAR_SIZES[item_type], 1)
                else:
                    for _ in range(count):
                        skip(item_type)
            else:
                f.seek(_SCALAR_SIZES[value_type], 1)

        for _ in range(min(n_kv, max_keys)):
            key = string()
            (value_type,) = struct.unpack("<I", f.read(4))
            if key == b"general.architecture" and value_type == _STRING:
                return string().decode("utf-8", "replace")
            skip(value_type)
    return None


def open_reader(path):
    """A gguf.GGUFReader (metadata and memory-mapped tensors) of the file."""
    import gguf

    return gguf.GGUFReader(str(path))


def metadata(reader, key, default=None):
    """A metadata value; ``default`` where the key is missing (None: required)."""
    entry = reader.fields.get(key)
    if entry is None:
        if default is None:
            raise ValueError(f"GGUF metadata key {key!r} is missing")
        return default
    return entry.contents()


def quantized_matrix(tensors):
    """QMatrix from one or more GGUF tensors stacked by rows (same type, same width)."""
    import gguf

    types = {t.tensor_type.name for t in tensors}
    cols = int(tensors[0].shape[0])
    rows = sum(int(t.shape[1]) if len(t.shape) > 1 else 1 for t in tensors)
    if len(types) == 1 and types <= {Q4_1, Q8_0}:
        raw = np.ascontiguousarray(np.concatenate([np.asarray(t.data).reshape(int(t.shape[1]), -1)
                                                   for t in tensors], axis=0))
        if Q4_1 in types:
            return kernels.QMatrix.from_q4_1(raw, rows, cols)
        return kernels.QMatrix.from_q8_0(raw, rows, cols)
    # Any other format: dequantize with gguf and re-quantize to 8-bit blocks.
    parts = []
    for t in tensors:
        w = gguf.quants.dequantize(np.asarray(t.data), t.tensor_type)
        parts.append(np.asarray(w, dtype=np.float32).reshape(int(t.shape[1]), cols))
    return kernels.QMatrix.from_float(np.ascontiguousarray(np.concatenate(parts, axis=0)), 8)


def float_vector(tensor) -> np.ndarray:
    """A GGUF tensor as a contiguous float32 vector (dequantized if needed)."""
    import gguf

    if tensor.tensor_type.name == F32:
        return np.ascontiguousarray(np.asarray(tensor.data, dtype=np.float32).reshape(-1))
    return np.ascontiguousarray(
        np.asarray(gguf.quants.dequantize(np.asarray(tensor.data), tensor.tensor_type),
                   dtype=np.float32).reshape(-1))
