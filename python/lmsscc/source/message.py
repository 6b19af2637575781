# SPDX-License-Identifier: GPL-3.0-or-later
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

Version 3 (lean; short messages and conversations): no byte-aligned header.
The range coder itself codes the header fields as uniform symbols before the
tokens, so each field costs exactly its bits and the message is rounded to
whole bytes once. The first field, coded into a fresh coder, is the version
nibble, so byte 0's high nibble is 3 as in the other versions:

    4 bits   version 3
    2 bits   kind: 0 single message, 1 conversation keyframe, 2 continuation;
             3 = a counted message (texts that contain the terminator
             token), its kind (0-2) follows in 2 more bits
    8 bits   fingerprint (single and keyframe; a continuation is checked
             through the keyframe its history starts from)
    4 bits   sequence number mod 16 (keyframe and continuation): a
             continuation was coded after message seq-1 and, through it,
             every message back to their keyframe
    [5 + n]  counted only: the token count, Elias-gamma style (5 bits give
             n, the bit length of count+1, then its n-1 low bits); other
             texts end with the terminator token (a line break, coded by the
             model like any other token)
    16 bits  CRC-16/CCITT of the UTF-8 text
    ...      the tokens [, the terminator]
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


LEAN_VERSION = 3
LEAN_FP_BITS = 8
LEAN_SEQ_BITS = 4
LEAN_SEQ_MODULO = 1 << LEAN_SEQ_BITS
LEAN_CRC_BITS = 16
LEAN_COUNT_LENGTH_BITS = 5
KIND_SINGLE, KIND_KEYFRAME, KIND_CONTINUATION = 0, 1, 2
KIND_COUNTED_ESCAPE = 3
KIND_NAMES = {KIND_SINGLE: "single", KIND_KEYFRAME: "keyframe", KIND_CONTINUATION: "continuation"}

# The header formats by name, as LMCodec, the blocks, the link, the apps and
# lm_zip take them (header_format=...): "standard" version 1, "compact"
# version 2, "lean" version 3.
HEADER_FORMAT_VERSIONS = {"standard": VERSION, "compact": COMPACT_VERSION, "lean": LEAN_VERSION}
HEADER_FORMATS = tuple(HEADER_FORMAT_VERSIONS)
HEADER_FORMAT_NAMES = {version: name for name, version in HEADER_FORMAT_VERSIONS.items()}


def header_format_version(header_format: str) -> int:
    """The format version of a header format name; a clear error for others."""
    if header_format not in HEADER_FORMAT_VERSIONS:
        raise ValueError(f"header_format must be one of {HEADER_FORMATS}, not {header_format!r}")
    return HEADER_FORMAT_VERSIONS[header_format]


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


def peek_version(data: bytes) -> int:
    """The format version of a message (the high nibble of byte 0 in all versions)."""
    if not len(data):
        raise MessageFormatError("empty message")
    return data[0] >> 4


# -- version 3: header fields coded by the range coder ------------------------

@dataclass(frozen=True)
class LeanHeader:
    kind: int
    crc: int
    fingerprint: bytes = b""  # single and keyframe only
    seq: int = 0  # keyframe and continuation only (mod LEAN_SEQ_MODULO)
    tokens: int | None = None  # counted messages only; None: ended by the terminator

    version = LEAN_VERSION
    crc_bits = LEAN_CRC_BITS

    @property
    def history(self) -> bool:
        return self.kind != KIND_SINGLE

    @property
    def counted(self) -> bool:
        return self.tokens is not None

    @property
    def bits(self) -> int:
        """Header bits: what the fields cost inside the coded stream."""
        n = 4 + 2 + LEAN_CRC_BITS
        n += LEAN_FP_BITS if self.kind != KIND_CONTINUATION else 0
        n += LEAN_SEQ_BITS if self.kind != KIND_SINGLE else 0
        if self.counted:
            n += 2 + LEAN_COUNT_LENGTH_BITS + (self.tokens + 1).bit_length() - 1
        return n


def _chunks(nbits: int, precision: int):
    """Split an nbits field into uniform symbols the coder can take (most
    significant first): (shift of the chunk in the value, chunk bits)."""
    step = min(8, precision)
    while nbits:
        k = min(step, nbits)
        nbits -= k
        yield nbits, k


def put_bits(encoder, precision: int, value: int, nbits: int) -> None:
    """Code an nbits unsigned integer as uniform symbols: costs exactly nbits."""
    for shift, k in _chunks(nbits, precision):
        scale = precision - k
        encoder.encode(((value >> shift) & ((1 << k) - 1)) << scale, 1 << scale)


def get_bits(decoder, precision: int, nbits: int) -> int:
    value = 0
    for _, k in _chunks(nbits, precision):
        scale = precision - k
        chunk = decoder.target() >> scale
        decoder.consume(chunk << scale, 1 << scale)
        value = (value << k) | chunk
    return value


def write_lean_header(encoder, precision: int, header: LeanHeader) -> None:
    """Must be the first thing coded into a fresh encoder (byte 0's nibble)."""
    if header.kind not in KIND_NAMES:
        raise ValueError(f"unknown lean message kind {header.kind}")
    put_bits(encoder, precision, LEAN_VERSION, 4)
    if header.counted:
        put_bits(encoder, precision, KIND_COUNTED_ESCAPE, 2)
    put_bits(encoder, precision, header.kind, 2)
    if header.kind != KIND_CONTINUATION:
        if len(header.fingerprint) != LEAN_FP_BITS // 8:
            raise ValueError("lean fingerprint must be 1 byte")
        put_bits(encoder, precision, header.fingerprint[0], LEAN_FP_BITS)
    if header.kind != KIND_SINGLE:
        put_bits(encoder, precision, header.seq % LEAN_SEQ_MODULO, LEAN_SEQ_BITS)
    if header.counted:
        if not 0 <= header.tokens <= MAX_TOKENS:
            raise ValueError(f"token count {header.tokens} outside [0, {MAX_TOKENS}]")
        n = (header.tokens + 1).bit_length()
        put_bits(encoder, precision, n, LEAN_COUNT_LENGTH_BITS)
        put_bits(encoder, precision, header.tokens + 1 - (1 << (n - 1)), n - 1)
    put_bits(encoder, precision, header.crc, LEAN_CRC_BITS)


def read_lean_header(decoder, precision: int) -> LeanHeader:
    """Read the fields from a fresh decoder over the whole message; raises
    MessageFormatError for values no encoder writes."""
    version = get_bits(decoder, precision, 4)
    if version != LEAN_VERSION:
        raise MessageFormatError(f"not a version-3 message (version {version})")
    kind = get_bits(decoder, precision, 2)
    counted = kind == KIND_COUNTED_ESCAPE
    if counted:
        kind = get_bits(decoder, precision, 2)
    if kind not in KIND_NAMES:
        raise MessageFormatError(f"unknown message kind {kind} in a version-3 message")
    fingerprint = b""
    if kind != KIND_CONTINUATION:
        fingerprint = bytes([get_bits(decoder, precision, LEAN_FP_BITS)])
    seq = get_bits(decoder, precision, LEAN_SEQ_BITS) if kind != KIND_SINGLE else 0
    tokens = None
    if counted:
        n = get_bits(decoder, precision, LEAN_COUNT_LENGTH_BITS)
        if not 1 <= n <= (MAX_TOKENS + 1).bit_length():
            raise MessageFormatError(f"token count field of {n} bits is out of range")
        tokens = (1 << (n - 1)) + get_bits(decoder, precision, n - 1) - 1
        if tokens > MAX_TOKENS:
            raise MessageFormatError(f"token count {tokens} above the format limit")
    crc = get_bits(decoder, precision, LEAN_CRC_BITS)
    return LeanHeader(kind, crc, fingerprint, seq, tokens)
