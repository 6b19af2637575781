# SPDX-License-Identifier: GPL-3.0-or-later
"""The trained pixel model: its integer tables (shipped as safetensors with a
JSON card), its fingerprint, and the C++ coder built from them.

The fingerprint names the model in every file (container.py): the first 8
bytes of SHA-256 over the kernel's format version and the tables' bytes. A
file is decoded only by the model that wrote it; change the C++ model's
arithmetic and KERNEL_VERSION must change with it (the known-answer test in
tests/images pins both).
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import lmsscc_python as kernels
from . import training

KERNEL_VERSION = 2
FINGERPRINT_BYTES = 8
WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
DEFAULT_NAME = "pixel_v2"
TABLES = ("lin", "shape", "scale_prior")


@dataclass(frozen=True)
class PixelTables:
    lin: np.ndarray  # (SETS, LIN_TAPS) int32, Q12
    shape: np.ndarray  # (SHAPE_POINTS,) int32, Q20
    scale_prior: np.ndarray  # (SETS, BUCKETS) int32, Q4

    def arrays(self) -> dict:
        return {name: np.ascontiguousarray(getattr(self, name), dtype="<i4") for name in TABLES}


def fingerprint(tables: PixelTables) -> bytes:
    h = hashlib.sha256(b"lmsscc-pixel-model")
    h.update(KERNEL_VERSION.to_bytes(2, "little"))
    for name, array in tables.arrays().items():
        h.update(name.encode() + b"\0" + array.tobytes())
    return h.digest()[:FINGERPRINT_BYTES]


class PixelModel:
    """A pixel model ready to code: the tables, their fingerprint, the C++ coder."""

    def __init__(self, tables: PixelTables, name: str = "custom"):
        self.tables = tables
        self.name = name
        self.fingerprint = fingerprint(tables)
        self._coder = kernels.PixelCoder(tables.lin.ravel(), tables.shape.ravel(),
                                         tables.scale_prior.ravel())

    def encode(self, pixels: np.ndarray) -> bytes:
        return self._coder.encode(np.ascontiguousarray(pixels, dtype=np.uint8))

    def decode(self, payload: bytes, height: int, width: int, channels: int) -> np.ndarray:
        return self._coder.decode(payload, height, width, channels)

    def analyse(self, pixels: np.ndarray) -> dict:
        return self._coder.analyse(np.ascontiguousarray(pixels, dtype=np.uint8))


def untrained_tables() -> PixelTables:
    """Tables before any training: predict W, logistic shape, guessed scales."""
    lin = np.zeros((training.SETS, training.LIN_TAPS), dtype=np.int32)
    lin[:, 0] = 1 << training.LIN_SHIFT
    return PixelTables(lin, training.logistic_shape(), training.default_scale_prior())


def save(tables: PixelTables, path_stem, card: dict) -> None:
    from safetensors.numpy import save_file

    stem = Path(path_stem)
    save_file(tables.arrays(), str(stem.with_suffix(".safetensors")))
    card = {**card, "fingerprint": fingerprint(tables).hex(), "kernel_version": KERNEL_VERSION}
    stem.with_suffix(".json").write_text(json.dumps(card, indent=1) + "\n")


def load_tables(path) -> PixelTables:
    from safetensors.numpy import load_file

    arrays = load_file(str(path))
    missing = [t for t in TABLES if t not in arrays]
    if missing:
        raise ValueError(f"{path}: not a pixel model (missing {', '.join(missing)})")
    return PixelTables(*(arrays[t].astype(np.int32) for t in TABLES))


@functools.lru_cache(maxsize=4)
def load(name: str = DEFAULT_NAME) -> PixelModel:
    """A shipped model by name (python/lmsscc/weights/NAME.safetensors) or a .safetensors path."""
    path = Path(name) if name.endswith(".safetensors") else WEIGHTS_DIR / f"{name}.safetensors"
    if not path.is_file():
        raise FileNotFoundError(f"no pixel model {path}")
    return PixelModel(load_tables(path), name=path.stem)
