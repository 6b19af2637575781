# SPDX-License-Identifier: GPL-3.0-or-later
"""Images in and out through Pillow (PNG, PPM, PGM and whatever else Pillow
reads) as uint8 arrays: H x W for grey, H x W x 3 for RGB.

Reading refuses, with one ImageInputError line, what is not an image, a
truncated file, and pictures too large to hold: the size check happens on
the header before any pixel is decoded, so a file claiming 100000 x 100000
costs no memory.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image

# 64 Mpixel: far above any photograph here, far below what would exhaust memory.
MAX_PIXELS = 1 << 26


class ImageInputError(ValueError):
    """The input is not an image this coder takes (message fit for one line)."""


def check_dimensions(height: int, width: int, channels: int) -> None:
    if channels not in (1, 3):
        raise ImageInputError(f"{channels} channels: only grey (1) and RGB (3) images are coded")
    if height < 1 or width < 1:
        raise ImageInputError(f"empty image ({width} x {height})")
    if height * width > MAX_PIXELS:
        raise ImageInputError(f"image of {width} x {height} pixels is larger than the "
                              f"{MAX_PIXELS:,}-pixel limit")


def from_pil(im: Image.Image, channels: int | None = None) -> np.ndarray:
    """uint8 pixels of a Pillow image: grey modes -> H x W, colour -> H x W x 3
    (alpha and palette resolved to RGB); `channels` forces 1 or 3."""
    grey = im.mode in ("1", "L", "LA", "I", "I;16", "F") if channels is None else channels == 1
    if grey:
        if im.mode in ("I", "I;16", "F"):
            raise ImageInputError(f"{im.mode} images are more than 8 bits per sample; "
                                  "only 8-bit grey and RGB are coded")
        return np.asarray(im.convert("L"))
    return np.asarray(im.convert("RGB"))


def to_pil(pixels: np.ndarray) -> Image.Image:
    if pixels.dtype != np.uint8 or pixels.ndim not in (2, 3) or (pixels.ndim == 3 and pixels.shape[2] != 3):
        raise ValueError(f"expected uint8 H x W or H x W x 3 pixels, got {pixels.dtype} {pixels.shape}")
    return Image.fromarray(pixels, mode="L" if pixels.ndim == 2 else "RGB")


def read_image(path) -> np.ndarray:
    path = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                width, height = im.size
                check_dimensions(height, width, 1)
                im.load()
                return from_pil(im)
    except ImageInputError:
        raise
    except FileNotFoundError:
        raise ImageInputError(f"{path}: no such file") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        # Pillow's own size check ran first, on the header (no pixel decoded)
        raise ImageInputError(f"{path}: image larger than the {MAX_PIXELS:,}-pixel limit ({e})") from None
    except Image.UnidentifiedImageError as e:
        raise ImageInputError(f"{path}: not an image Pillow can read ({e.__class__.__name__})") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise ImageInputError(f"{path}: unreadable image ({e})") from None


def write_image(pixels: np.ndarray, path) -> None:
    """Write PNG, PPM or PGM (chosen by the suffix; PNG when it names none Pillow knows)."""
    path = Path(path)
    fmt = {".ppm": "PPM", ".pgm": "PPM", ".pnm": "PPM"}.get(path.suffix.lower(), "PNG")
    to_pil(pixels).save(path, format=fmt)
