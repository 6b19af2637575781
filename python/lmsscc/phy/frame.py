# SPDX-License-Identifier: GPL-3.0-or-later
"""Link frames and the PHY header.

Frame (bytes, inside the coded payload of a burst):

    byte 0      frame version (1)
    bytes 1-2   sequence number (big-endian, wraps at 65536)
    bytes 3-4   length of the LM message in bytes
    ...         the LM message (its own header names the model fingerprint)
    4 bytes     CRC-32 (zlib) of everything before it

PHY header, version 2: 32 bits sent first, in their own codeword(s) of the
same code and always BPSK, so the receiver learns how much follows before it
decodes it:

    bits 0-1    header version: 01 = version 2 (version 1 had 00 here: its
                first nibble was the modulation id 0-2)
    bits 2-3    modulation id (0 BPSK, 1 QPSK, 2 16QAM; 3 reserved)
    bits 4-15   number of payload codewords
    bits 16-31  CRC-16 (poly 0x2F15, init 0xFFFF, MSB first) of bits 0-15

The information bits of the header codeword(s) past bit 31 (16 of the 48 for
a k = 24 code) must be zero: a free extra check. Version 1 (24 bits with a
CRC-8) let about 1 in 256 corrupted headers through; version 2 lets through
fewer than 1 in 2^16 (measured in tests/test_phy_header.py, docs/link.md).
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

FRAME_VERSION = 1
FRAME_OVERHEAD = 5 + 4
MAX_MESSAGE_BYTES = 0xFFFF
PHY_HEADER_VERSION = 2
PHY_HEADER_BITS = 32
MAX_CODEWORDS = (1 << 12) - 1
_VERSION_FIELD = 0b01  # the 2-bit field that says "version 2"
# Polynomial chosen by bench/phy_header_crc.py: over the 32-bit header it has Hamming
# distance 7 (every error of 1-6 bits is caught); CRC-16/CCITT (0x1021) has 4.
_CRC16_POLY, _CRC16_INIT = 0x2F15, 0xFFFF
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
    """CRC-8 (poly 0x07) of PHY header version 1: kept to measure what version 2 replaced."""
    reg = 0
    for b in bits:
        top = ((reg >> 7) & 1) ^ int(b)
        reg = ((reg << 1) & 0xFF) ^ (0x07 if top else 0)
    return reg


def crc16_rows(bits: np.ndarray) -> np.ndarray:
    """The header CRC-16 (poly 0x2F15, init 0xFFFF) of each row of a (B, m)
    bit array, MSB first: (B,) ints.
    Vectorised over rows so a million headers check in a second."""
    reg = np.full(bits.shape[0], _CRC16_INIT, dtype=np.int64)
    for column in bits.T.astype(np.int64):
        top = ((reg >> 15) & 1) ^ column
        reg = ((reg << 1) & 0xFFFF) ^ (top * _CRC16_POLY)
    return reg


def _int_bits(value: int, width: int) -> list[int]:
    return [(value >> (width - 1 - i)) & 1 for i in range(width)]


def _bits_int(bits: np.ndarray) -> np.ndarray:
    """(B, w) bits -> (B,) integers, MSB first."""
    weights = 1 << np.arange(bits.shape[1] - 1, -1, -1, dtype=np.int64)
    return bits.astype(np.int64) @ weights


def phy_header_bits(modulation: str, codewords: int) -> np.ndarray:
    if not 0 <= codewords <= MAX_CODEWORDS:
        raise ValueError(f"{codewords} codewords exceed the PHY header's limit {MAX_CODEWORDS}")
    fields = np.array(_int_bits(_VERSION_FIELD, 2) + _int_bits(MODULATION_IDS[modulation], 2)
                      + _int_bits(codewords, 12), dtype=np.uint8)
    check = _int_bits(int(crc16_rows(fields[None, :])[0]), 16)
    return np.concatenate([fields, np.array(check, dtype=np.uint8)])


# Verdicts of check_phy_headers, in the order they are tested.
HEADER_OK, HEADER_CRC, HEADER_VERSION, HEADER_MODULATION, HEADER_PADDING = range(5)


def check_phy_headers(bits: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(verdict, modulation id, codewords) for each row of (B, m >= 32) 0/1
    bits: the information bits of a burst's header codeword(s). A row is
    accepted (HEADER_OK) only if its CRC-16 matches, its version field says 2,
    its modulation id is known and every bit past bit 31 is zero."""
    bits = np.asarray(bits, dtype=np.uint8)
    fields, check = bits[:, :16], bits[:, 16:PHY_HEADER_BITS]
    verdict = np.full(bits.shape[0], HEADER_OK, dtype=np.int8)
    padding_set = bits[:, PHY_HEADER_BITS:].any(axis=1)
    mod_id = _bits_int(fields[:, 2:4])
    verdict[padding_set] = HEADER_PADDING
    verdict[mod_id >= len(MODULATION_IDS)] = HEADER_MODULATION
    verdict[_bits_int(fields[:, :2]) != _VERSION_FIELD] = HEADER_VERSION
    verdict[crc16_rows(fields) != _bits_int(check)] = HEADER_CRC
    return verdict, mod_id, _bits_int(fields[:, 4:16])


def _is_version_1(bits) -> bool:
    """A version-1 header: modulation nibble 0-2 (so 00 where version 2 has 01), its CRC-8 right."""
    v1 = [int(b) for b in bits[:24]]
    return v1[:2] == [0, 0] and crc8(v1[:16]) == int("".join(map(str, v1[16:])), 2)


def parse_phy_header(bits) -> tuple[str, int]:
    """(modulation, payload codewords) from the header codeword(s)' information
    bits (32 header bits, then zero padding), or FrameError saying why not."""
    bits = np.asarray(bits).reshape(-1)
    if len(bits) < PHY_HEADER_BITS:
        raise FrameError(f"PHY header needs {PHY_HEADER_BITS} bits, got {len(bits)}")
    if not np.all((bits == 0) | (bits == 1)):
        raise FrameError("PHY header bits must be 0 or 1")
    verdict, mod_id, codewords = (int(v[0]) for v in check_phy_headers(bits[None, :]))
    if verdict in (HEADER_CRC, HEADER_VERSION) and _is_version_1(bits):
        raise FrameError(f"PHY header version 1 (CRC-8, from an older sender); this receiver reads "
                         f"version {PHY_HEADER_VERSION}")
    if verdict == HEADER_CRC:
        raise FrameError("PHY header CRC-16 mismatch")
    if verdict == HEADER_VERSION:
        raise FrameError(f"unknown PHY header version field {bits[0]}{bits[1]}")
    if verdict == HEADER_MODULATION:
        raise FrameError(f"unknown modulation id {mod_id}")
    if verdict == HEADER_PADDING:
        raise FrameError("PHY header padding bits are not zero")
    names = {v: k for k, v in MODULATION_IDS.items()}
    return names[mod_id], codewords


def bytes_to_bits(data: bytes) -> np.ndarray:
    return np.unpackbits(np.frombuffer(bytes(data), dtype=np.uint8))


def bits_to_bytes(bits) -> bytes:
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes()
