# SPDX-License-Identifier: GPL-3.0-or-later
"""The image container: one coded image with what it takes to decode it.

    bytes 0-3    b"LMSI"
    byte  4      container version (1)
    byte  5      model kind: 1 = pixel model (room for more, e.g. the text LM)
    byte  6      channels: 1 (grey) or 3 (RGB)
    bytes 7-10   width, uint32 big-endian
    bytes 11-14  height, uint32 big-endian
    bytes 15-22  model fingerprint (pixel_model.fingerprint)
    bytes 23-26  payload length, uint32 big-endian
    payload      the model coder's bytes
    last 4       CRC-32 of everything before it, big-endian

31 bytes on top of the payload. Parsing checks, before anything is decoded
or allocated: the magic, version, kind, channels, the pixel limit of
imageio.check_dimensions, the length, the CRC, and that the payload is long
enough for that many subpixels at the model's best case (MIN_BITS_PER_SUBPIXEL),
so a tiny file cannot ask for a huge decode.
"""

from __future__ import annotations

import math
import struct
import zlib
from dataclasses import dataclass

from .imageio import ImageInputError, check_dimensions

MAGIC = b"LMSI"
VERSION = 1
KIND_PIXEL = 1
KINDS = {KIND_PIXEL: "pixel"}
_HEADER = struct.Struct(">4sBBBII8sI")
HEADER_BYTES = _HEADER.size  # 27
CRC_BYTES = 4
# Most probable value of any pixel-model CDF: 1 - 255 * 2^-18 (its floor), so
# every subpixel costs at least -log2 of that.
MIN_BITS_PER_SUBPIXEL = -math.log2(1.0 - 255 * 2.0 ** -18)


class ContainerError(ValueError):
    """Not a valid image container (message fit for one line)."""


@dataclass(frozen=True)
class Header:
    kind: int
    channels: int
    width: int
    height: int
    fingerprint: bytes

    @property
    def subpixels(self) -> int:
        return self.width * self.height * self.channels


def pack(header: Header, payload: bytes) -> bytes:
    head = _HEADER.pack(MAGIC, VERSION, header.kind, header.channels, header.width, header.height,
                        header.fingerprint, len(payload))
    body = head + payload
    return body + struct.pack(">I", zlib.crc32(body))


def unpack(data: bytes) -> tuple[Header, bytes]:
    if len(data) < 4 or data[:4] != MAGIC:
        raise ContainerError("not an lmsscc image file (bad magic)")
    if len(data) < HEADER_BYTES + CRC_BYTES:
        raise ContainerError(f"truncated image file ({len(data)} bytes, header needs {HEADER_BYTES + CRC_BYTES})")
    _, version, kind, channels, width, height, fp, length = _HEADER.unpack_from(data)
    if version != VERSION:
        raise ContainerError(f"image container version {version} (this reader knows {VERSION})")
    if kind not in KINDS:
        raise ContainerError(f"unknown model kind {kind}")
    try:
        check_dimensions(height, width, channels)
    except ImageInputError as e:
        raise ContainerError(f"bad header: {e}") from None
    expected = HEADER_BYTES + length + CRC_BYTES
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "trailing bytes after"
        raise ContainerError(f"{what} image file ({len(data)} bytes, header says {expected})")
    (crc,) = struct.unpack_from(">I", data, len(data) - CRC_BYTES)
    if zlib.crc32(data[:-CRC_BYTES]) != crc:
        raise ContainerError("image file corrupted (CRC mismatch)")
    header = Header(kind, channels, width, height, fp)
    if length * 8 + 64 < header.subpixels * MIN_BITS_PER_SUBPIXEL:
        raise ContainerError(f"payload of {length} bytes is too short for {width} x {height} x {channels}")
    return header, data[HEADER_BYTES:HEADER_BYTES + length]
