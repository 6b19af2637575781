"""Link frames and the PHY header.

Frame (bytes, inside the coded payload of a burst):

    byte 0      frame version (1)
    bytes 1-2   sequence number (big-endian, wraps at 65536)
    bytes 3-4   length of the LM message in bytes
    ...         the LM message (its own header names the model fingerprint)
    4 bytes     CRC-32 (zlib) of everything before it

PHY header: 24 bits sent first, in their own codeword(s) of the same code
and always BPSK, so the receiver learns how much follows before it decodes
it: modulation id (4 bits), number of payload codewords (12 bits), CRC-8
(polynomial 0x07) of those 16 bits.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

FRAME_VERSION = 1
FRAME_OVERHEAD = 5 + 4
MAX_MESSAGE_BYTES = 0xFFFF
PHY_HEADER_BITS = 24
MAX_CODEWORDS = (1 << 12) - 1
MODULATION_IDS = {"bpsk": 0, "qpsk": 1, "16qam": 2}


class FrameError(ValueError):
    """A frame or PHY header that does not check out."""


def build_frame(message: bytes, seq: int) -> bytes:
    if len(message) > MAX_MESSAGE_BYTES:
        raise ValueError(f"message of {len(message)} bytes exceeds the frame limit {MAX_MESSAGE_BYTES}")
    body = struct.pack(">BHH", FRAME_VERSION, seq & 0xFFFF, len(message)) + bytes(message)
    return body + struct.pack(">I", zlib.crc32(body))


def frame_length(data: bytes) -> int:
    """Total frame bytes announced by a frame's first 5 bytes."""
    if len(data) < 5:
        raise FrameError("frame shorter than its header")
    return 5 + struct.unpack(">H", bytes(data[3:5]))[0] + 4


def parse_frame(data: bytes) -> tuple[int, bytes]:
    """(seq, message) of a frame, or FrameError if it is malformed or fails its CRC-32."""
    data = bytes(data)
    total = frame_length(data)
    if data[0] != FRAME_VERSION:
        raise FrameError(f"unknown frame version {data[0]}")
    if len(data) < total:
        raise FrameError(f"frame truncated: {len(data)} of {total} bytes")
    body, (crc,) = data[: total - 4], struct.unpack(">I", data[total - 4 : total])
    if zlib.crc32(body) != crc:
        raise FrameError("frame CRC-32 mismatch")
    _, seq, _ = struct.unpack(">BHH", body[:5])
    return seq, body[5:]


def crc8(bits) -> int:
    reg = 0
    for b in bits:
        top = ((reg >> 7) & 1) ^ int(b)
        reg = ((reg << 1) & 0xFF) ^ (0x07 if top else 0)
    return reg


def _int_bits(value: int, width: int) -> list[int]:
    return [(value >> (width - 1 - i)) & 1 for i in range(width)]


def phy_header_bits(modulation: str, codewords: int) -> np.ndarray:
    if not 0 <= codewords <= MAX_CODEWORDS:
        raise ValueError(f"{codewords} codewords exceed the PHY header's limit {MAX_CODEWORDS}")
    fields = _int_bits(MODULATION_IDS[modulation], 4) + _int_bits(codewords, 12)
    return np.array(fields + _int_bits(crc8(fields), 8), dtype=np.uint8)


def parse_phy_header(bits) -> tuple[str, int]:
    bits = [int(b) for b in np.asarray(bits).reshape(-1)[:PHY_HEADER_BITS]]
    if len(bits) < PHY_HEADER_BITS:
        raise FrameError(f"PHY header needs {PHY_HEADER_BITS} bits, got {len(bits)}")
    if any(b not in (0, 1) for b in bits):
        raise FrameError("PHY header bits must be 0 or 1")
    fields, check = bits[:16], bits[16:24]
    if crc8(fields) != int("".join(map(str, check)), 2):
        raise FrameError("PHY header CRC-8 mismatch")
    mod_id = int("".join(map(str, fields[:4])), 2)
    names = {v: k for k, v in MODULATION_IDS.items()}
    if mod_id not in names:
        raise FrameError(f"unknown modulation id {mod_id}")
    return names[mod_id], int("".join(map(str, fields[4:])), 2)


def bytes_to_bits(data: bytes) -> np.ndarray:
    return np.unpackbits(np.frombuffer(bytes(data), dtype=np.uint8))


def bits_to_bytes(bits) -> bytes:
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes()
