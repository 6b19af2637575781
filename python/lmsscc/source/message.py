"""The LM-coded message formats; docs/message_format.md describes them.

Version 1 (stand-alone, the default):

    byte 0      version 1 (high nibble) | flags 0 (low nibble)
    bytes 1-3   fingerprint of model + numeric settings + coder precision
    varint      number of tokens (LEB128, 1-3 bytes)
    4 bytes     CRC-32 (zlib) of the UTF-8 text, big-endian
    rest        range-coded payload (trailing zero bytes stripped)

Version 2 (compact; priming context and conversation history):

    byte 0      version 2 | flags: PRIMED 0x1, HISTORY 0x2, CRC16 0x4
    byte 1      fingerprint of model + settings + precision + priming context
    [2 bytes]   HISTORY only: sequence number (12 bits) << 4 | depth (4 bits):
                this message was coded after messages seq-depth .. seq-1
    varint      number of tokens
    2 or 4      CRC-16/CCITT (flag CRC16) or CRC-32 of the UTF-8 text
    rest        range-coded payload

The token count bounds the decoder's work and ends the message, so no
end-of-text symbol is coded.
"""

from __future__ import annotations

import binascii
import struct
import zlib
from dataclasses import dataclass

VERSION = 1
COMPACT_VERSION = 2
FINGERPRINT_BYTES = 3
FINGERPRINT_BYTES_V2 = 1
FLAG_PRIMED = 0x1
FLAG_HISTORY = 0x2
FLAG_CRC16 = 0x4
KNOWN_FLAGS = {VERSION: 0, COMPACT_VERSION: FLAG_PRIMED | FLAG_HISTORY | FLAG_CRC16}
SEQ_MODULO = 1 << 12
MAX_DEPTH = 15
MAX_VARINT_BYTES = 3
# Hard limit of the format (3 varint bytes); decoders enforce their own, lower one.
MAX_TOKENS = (1 << (7 * MAX_VARINT_BYTES)) - 1
MIN_HEADER_BYTES = 1 + FINGERPRINT_BYTES_V2 + 1 + 2


class MessageFormatError(ValueError):
    """The bytes are not a message this decoder can read."""


class FingerprintMismatch(MessageFormatError):
    """The message was coded with another model, settings or priming context."""


@dataclass(frozen=True)
class Header:
    fingerprint: bytes
    tokens: int
    crc: int
    version: int = VERSION
    flags: int = 0
    seq: int = 0  # HISTORY only
    depth: int = 0  # HISTORY only: how many earlier messages the coding saw

    @property
    def crc_bits(self) -> int:
        return 16 if self.flags & FLAG_CRC16 else 32

    @property
    def primed(self) -> bool:
        return bool(self.flags & FLAG_PRIMED)

    @property
    def history(self) -> bool:
        return bool(self.flags & FLAG_HISTORY)


def text_crc(raw: bytes, bits: int) -> int:
    return binascii.crc_hqx(raw, 0xFFFF) if bits == 16 else zlib.crc32(raw)


def encode_varint(value: int) -> bytes:
    if not 0 <= value <= MAX_TOKENS:
        raise ValueError(f"token count {value} outside [0, {MAX_TOKENS}]")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = 0
    for i in range(MAX_VARINT_BYTES):
        if pos + i >= len(data):
            raise MessageFormatError("message truncated inside the token count")
        byte = data[pos + i]
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            return value, pos + i + 1
    raise MessageFormatError(f"token count longer than {MAX_VARINT_BYTES} bytes")


def _fingerprint_bytes(version: int) -> int:
    return FINGERPRINT_BYTES if version == VERSION else FINGERPRINT_BYTES_V2


def pack(header: Header, payload: bytes) -> bytes:
    if header.version not in KNOWN_FLAGS or header.flags & ~KNOWN_FLAGS[header.version]:
        raise ValueError(f"bad version/flags {header.version}/{header.flags:#x}")
    if len(header.fingerprint) != _fingerprint_bytes(header.version):
        raise ValueError(f"fingerprint must be {_fingerprint_bytes(header.version)} bytes")
    out = bytearray([(header.version << 4) | header.flags]) + header.fingerprint
    if header.history:
        if not 0 <= header.depth <= MAX_DEPTH:
            raise ValueError(f"history depth must be in [0, {MAX_DEPTH}]")
        out += struct.pack(">H", ((header.seq % SEQ_MODULO) << 4) | header.depth)
    out += encode_varint(header.tokens)
    out += struct.pack(">H" if header.crc_bits == 16 else ">I", header.crc)
    return bytes(out) + payload


def unpack(data: bytes) -> tuple[Header, bytes]:
    """Split a message into header and payload; raises MessageFormatError."""
    data = bytes(data)
    if len(data) < MIN_HEADER_BYTES:
        raise MessageFormatError(
            f"message of {len(data)} bytes is shorter than the smallest header ({MIN_HEADER_BYTES})"
        )
    version, flags = data[0] >> 4, data[0] & 0xF
    if version not in KNOWN_FLAGS:
        raise MessageFormatError(
            f"unsupported message version {version} (this decoder reads {sorted(KNOWN_FLAGS)})")
    if flags & ~KNOWN_FLAGS[version]:
        raise MessageFormatError(f"unknown flags 0x{flags:x} in a version-{version} message")
    pos = 1 + _fingerprint_bytes(version)
    fingerprint = data[1:pos]
    seq = depth = 0
    if flags & FLAG_HISTORY:
        if pos + 2 > len(data):
            raise MessageFormatError("message truncated inside the history field")
        (packed,) = struct.unpack(">H", data[pos : pos + 2])
        seq, depth = packed >> 4, packed & 0xF
        pos += 2
    tokens, pos = decode_varint(data, pos)
    crc_len = 2 if flags & FLAG_CRC16 else 4
    if pos + crc_len > len(data):
        raise MessageFormatError("message truncated inside the CRC")
    (crc,) = struct.unpack(">H" if crc_len == 2 else ">I", data[pos : pos + crc_len])
    return Header(fingerprint, tokens, crc, version, flags, seq, depth), data[pos + crc_len :]


def header_bytes(header: Header) -> int:
    return (1 + _fingerprint_bytes(header.version) + (2 if header.history else 0)
            + len(encode_varint(header.tokens)) + header.crc_bits // 8)
