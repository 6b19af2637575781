# SPDX-License-Identifier: GPL-3.0-or-later
"""Lossless image coding with a model: pixels <-> container bytes.

compress() and decompress() are what apps/img_zip.py and the benchmarks
call. Models are looked up by name in MODELS (the pixel model today; the
container's kind byte leaves room for others, such as the text LM on pixels
of issue 12).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from . import container, pixel_model
from .container import ContainerError, Header
from .imageio import check_dimensions

# model name -> container kind
MODELS = {"pixel": container.KIND_PIXEL}


@dataclass
class CodingStats:
    """One image coded or decoded: sizes, bits per subpixel and speed."""

    width: int
    height: int
    channels: int
    file_bytes: int
    payload_bytes: int
    seconds: float
    model: str
    fingerprint: str

    @property
    def subpixels(self) -> int:
        return self.width * self.height * self.channels

    def as_dict(self) -> dict:
        return {
            "width": self.width, "height": self.height, "channels": self.channels,
            "subpixels": self.subpixels, "file_bytes": self.file_bytes,
            "payload_bytes": self.payload_bytes,
            "bits_per_subpixel": round(8.0 * self.file_bytes / self.subpixels, 4),
            "payload_bits_per_subpixel": round(8.0 * self.payload_bytes / self.subpixels, 4),
            "seconds": round(self.seconds, 4),
            "subpixels_per_second": round(self.subpixels / max(self.seconds, 1e-9)),
            "model": self.model, "fingerprint": self.fingerprint,
        }


def _model_for(kind: int, weights: str | None):
    if kind == container.KIND_PIXEL:
        return pixel_model.load(weights or pixel_model.DEFAULT_NAME)
    raise ContainerError(f"no coder for model kind {kind}")


def _shape(pixels: np.ndarray) -> tuple[int, int, int]:
    if pixels.dtype != np.uint8 or pixels.ndim not in (2, 3) or (pixels.ndim == 3 and pixels.shape[2] != 3):
        raise ValueError(f"expected uint8 H x W or H x W x 3 pixels, got {pixels.dtype} {pixels.shape}")
    height, width = pixels.shape[:2]
    channels = 1 if pixels.ndim == 2 else 3
    check_dimensions(height, width, channels)
    return height, width, channels


def compress(pixels: np.ndarray, model: str = "pixel", weights: str | None = None) -> tuple[bytes, CodingStats]:
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r} (have: {', '.join(MODELS)})")
    height, width, channels = _shape(pixels)
    kind = MODELS[model]
    coder = _model_for(kind, weights)
    t0 = time.perf_counter()
    payload = coder.encode(pixels)
    seconds = time.perf_counter() - t0
    data = container.pack(Header(kind, channels, width, height, coder.fingerprint), payload)
    return data, CodingStats(width, height, channels, len(data), len(payload), seconds, model,
                             coder.fingerprint.hex())


def decompress(data: bytes, weights: str | None = None) -> tuple[np.ndarray, CodingStats]:
    header, payload = container.unpack(data)
    coder = _model_for(header.kind, weights)
    if coder.fingerprint != header.fingerprint:
        raise ContainerError(f"file was coded by model {header.fingerprint.hex()}, "
                             f"this one is {coder.fingerprint.hex()} ({coder.name})")
    t0 = time.perf_counter()
    pixels = coder.decode(payload, header.height, header.width, header.channels)
    seconds = time.perf_counter() - t0
    return pixels, CodingStats(header.width, header.height, header.channels, len(data), len(payload),
                               seconds, container.KINDS[header.kind], header.fingerprint.hex())
