"""The LM-coded message format (version 1); docs/message_format.md describes it.

    byte 0      version (high nibble) | flags (low nibble, 0 in version 1)
    bytes 1-3   model fingerprint: first 3 bytes of LanguageModel.fingerprint
    varint      number of tokens (LEB128, 1-3 bytes)
    bytes 4     CRC-32 (zlib polynomial, big-endian) of the UTF-8 text
    rest        range-coded payload (trailing zero bytes stripped)

The token count bounds the decoder's work and ends the message, so no
end-of-text symbol is coded.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

VERSION = 1
FINGERPRINT_BYTES = 3
CRC_BYTES = 4
MAX_VARINT_BYTES = 3
# Hard limit of the format (3 varint bytes); decoders enforce their own, lower one.
MAX_TOKENS = (1 << (7 * MAX_VARINT_BYTES)) - 1
MIN_HEADER_BYTES = 1 + FINGERPRINT_BYTES + 1 + CRC_BYTES


class MessageFormatError(ValueError):
    """The bytes are not a message this decoder can read."""


class FingerprintMismatch(MessageFormatError):
    """The message was coded with another model or other numeric settings."""


@dataclass(frozen=True)
class Header:
    fingerprint: bytes
    tokens: int
    crc32: int
    version: int = VERSION
    flags: int = 0


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


def pack(header: Header, payload: bytes) -> bytes:
    if len(header.fingerprint) != FINGERPRINT_BYTES:
        raise ValueError(f"fingerprint must be {FINGERPRINT_BYTES} bytes")
    first = ((header.version & 0xF) << 4) | (header.flags & 0xF)
    return (
        bytes([first])
        + header.fingerprint
        + encode_varint(header.tokens)
        + struct.pack(">I", header.crc32 & 0xFFFFFFFF)
        + payload
    )


def unpack(data: bytes) -> tuple[Header, bytes]:
    """Split a message into header and payload; raises MessageFormatError."""
    data = bytes(data)
    if len(data) < MIN_HEADER_BYTES:
        raise MessageFormatError(
            f"message of {len(data)} bytes is shorter than the smallest header ({MIN_HEADER_BYTES})"
        )
    version, flags = data[0] >> 4, data[0] & 0xF
    if version != VERSION:
        raise MessageFormatError(f"unsupported message version {version} (this decoder reads {VERSION})")
    if flags:
        raise MessageFormatError(f"unknown flags 0x{flags:x} in a version-{VERSION} message")
    fingerprint = data[1 : 1 + FINGERPRINT_BYTES]
    tokens, pos = decode_varint(data, 1 + FINGERPRINT_BYTES)
    if pos + CRC_BYTES > len(data):
        raise MessageFormatError("message truncated inside the CRC")
    (crc,) = struct.unpack(">I", data[pos : pos + CRC_BYTES])
    return Header(fingerprint, tokens, crc, version, flags), data[pos + CRC_BYTES :]


def header_bytes(header: Header) -> int:
    return 1 + FINGERPRINT_BYTES + len(encode_varint(header.tokens)) + CRC_BYTES
