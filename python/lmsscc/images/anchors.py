# SPDX-License-Identifier: GPL-3.0-or-later
"""Classic lossless image codecs at their strongest settings, measured the
same way as the pixel model: PNG (Pillow, optimize + compress_level 9), WebP
lossless (cwebp -lossless -z 9 -exact) and JPEG-XL lossless (cjxl -d 0 -e 9).

Each anchor writes the image, decodes it again and checks that the pixels
come back exactly (a lossless claim is only as good as that check); its byte
count and its encode/decode wall times on one thread are returned.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .imageio import from_pil, to_pil


@dataclass
class AnchorResult:
    codec: str
    bytes: int
    encode_s: float
    decode_s: float


class AnchorUnavailable(RuntimeError):
    """The codec's command-line tool is not installed (Debian: libjxl-tools, webp)."""


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def png(pixels: np.ndarray) -> AnchorResult:
    def encode():
        buf = io.BytesIO()
        to_pil(pixels).save(buf, format="PNG", optimize=True, compress_level=9)
        return buf.getvalue()

    data, t_enc = _timed(encode)
    back, t_dec = _timed(lambda: from_pil(Image.open(io.BytesIO(data))))
    _require_exact("png", pixels, back)
    return AnchorResult("png", len(data), t_enc, t_dec)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise AnchorUnavailable(f"{name} not found (Debian packages libjxl-tools and webp)")
    return path


def _cli_codec(codec, pixels, encoder_args, decoder_args, suffix):
    """Encode through files with the codec's own tools, decode back to PNG, compare."""
    with tempfile.TemporaryDirectory() as tmp:
        src, coded, back_png = Path(tmp, "in.png"), Path(tmp, "out" + suffix), Path(tmp, "back.png")
        to_pil(pixels).save(src, format="PNG", compress_level=1)
        _, t_enc = _timed(lambda: _run([*encoder_args, str(src), str(coded)]))
        _, t_dec = _timed(lambda: _run([*decoder_args, str(coded), str(back_png)]))
        return _checked(codec, pixels, back_png, coded, t_enc, t_dec)


def _checked(codec, pixels, back_png, coded, t_enc, t_dec):
    with Image.open(back_png) as im:
        back = from_pil(im, channels=1 if pixels.ndim == 2 else 3)
    _require_exact(codec, pixels, back)
    return AnchorResult(codec, coded.stat().st_size, t_enc, t_dec)


def _run(args):
    subprocess.run(args, check=True, capture_output=True, timeout=600)


def webp_lossless(pixels: np.ndarray) -> AnchorResult:
    with tempfile.TemporaryDirectory() as tmp:
        src, coded, back_png = Path(tmp, "in.png"), Path(tmp, "out.webp"), Path(tmp, "back.png")
        to_pil(pixels).save(src, format="PNG", compress_level=1)
        _, t_enc = _timed(lambda: _run([_tool("cwebp"), "-quiet", "-lossless", "-z", "9", "-exact",
                                         str(src), "-o", str(coded)]))
        _, t_dec = _timed(lambda: _run([_tool("dwebp"), "-quiet", str(coded), "-o", str(back_png)]))
        return _checked("webp_ll", pixels, back_png, coded, t_enc, t_dec)


def jxl_lossless(pixels: np.ndarray) -> AnchorResult:
    return _cli_codec("jxl_ll", pixels,
                      [_tool("cjxl"), "--quiet", "-d", "0", "-e", "9", "--num_threads=0"],
                      [_tool("djxl"), "--quiet", "--num_threads=0"], ".jxl")


ANCHORS = {"png": png, "webp_ll": webp_lossless, "jxl_ll": jxl_lossless}


def _require_exact(codec, pixels, back):
    if back.shape != pixels.shape or not np.array_equal(back, pixels):
        raise RuntimeError(f"{codec}: decoded pixels differ from the input (not lossless here)")
