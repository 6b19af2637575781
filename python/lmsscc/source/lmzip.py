"""The lm_zip container: a text file as independent LM-coded chunks.

    bytes 0-3   b"LMZ1"
    then, per chunk: varint byte length, one message (message.py format)

Each chunk is a complete message with its own fingerprint, token count and
CRC-32, so chunks can be coded and decoded independently (and in parallel by
a batched engine later). Chunks end at line breaks where possible.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .codec import EncodeResult, LMCodec
from .message import MessageFormatError, decode_varint

MAGIC = b"LMZ1"
DEFAULT_CHUNK_CHARS = 4096


def split_text(text: str, chunk_chars: int = DEFAULT_CHUNK_CHARS) -> list[str]:
    """Cut text into pieces of at most chunk_chars, preferably after a newline,
    else after a space; concatenating the pieces gives the text back."""
    if chunk_chars < 1:
        raise ValueError("chunk_chars must be positive")
    pieces, start = [], 0
    while start < len(text):
        end = min(start + chunk_chars, len(text))
        if end < len(text):
            for sep in ("\n", " "):
                cut = text.rfind(sep, start + chunk_chars // 2, end)
                if cut != -1:
                    end = cut + 1
                    break
        pieces.append(text[start:end])
        start = end
    return pieces


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        if n < 0x80:
            out.append(n)
            return bytes(out)
        out.append((n & 0x7F) | 0x80)
        n >>= 7


@dataclass
class ZipStats:
    input_bytes: int = 0
    coded_bits: int = 0
    model_bits: float = 0.0
    header_bits: int = 0
    tokens: int = 0
    chunks: int = 0
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        d = {
            "input_bytes": self.input_bytes,
            "coded_bits": self.coded_bits,
            "model_bits": round(self.model_bits, 3),
            "header_bits": self.header_bits,
            "tokens": self.tokens,
            "chunks": self.chunks,
            "seconds": round(self.seconds, 3),
        }
        if self.input_bytes:
            d["bits_per_byte"] = round(self.coded_bits / self.input_bytes, 4)
        if self.seconds > 0:
            d["tokens_per_s"] = round(self.tokens / self.seconds, 2)
        d.update(self.extra)
        return d


def compress(codec: LMCodec, text: str, chunk_chars: int = DEFAULT_CHUNK_CHARS,
             progress=None) -> tuple[bytes, ZipStats]:
    pieces = split_text(text, chunk_chars)
    out = bytearray(MAGIC)
    stats = ZipStats(input_bytes=len(text.encode("utf-8")), chunks=len(pieces))
    for piece in pieces:
        r: EncodeResult = codec.encode(piece, progress=progress)
        out += _varint(len(r.message)) + r.message
        stats.model_bits += r.model_bits
        stats.header_bits += r.header_bits
        stats.tokens += r.tokens
        stats.seconds += r.seconds
    stats.coded_bits = 8 * len(out)
    return bytes(out), stats


def split_container(data: bytes) -> list[bytes]:
    if data[:4] != MAGIC:
        raise MessageFormatError("not an lm_zip file (bad magic)")
    messages, pos = [], 4
    while pos < len(data):
        try:
            length, pos = decode_varint(data, pos)
        except MessageFormatError:
            raise MessageFormatError(f"lm_zip file truncated or corrupt at byte {pos}") from None
        if pos + length > len(data):
            raise MessageFormatError(f"lm_zip file truncated: chunk at byte {pos} needs {length} bytes")
        messages.append(data[pos : pos + length])
        pos += length
    return messages


def chunk_tokens(codec: LMCodec, messages: list[bytes]) -> int:
    return sum(codec.check_header(m)[0].tokens for m in messages)


def decompress(codec: LMCodec, data: bytes, progress=None) -> tuple[str, ZipStats]:
    """Text of an lm_zip file; raises MessageFormatError on a bad container or
    a chunk whose CRC fails (never returns partly wrong text)."""
    messages = split_container(data)
    stats = ZipStats(coded_bits=8 * len(data), chunks=len(messages))
    parts = []
    for i, message in enumerate(messages):
        r = codec.decode(message, progress=progress)
        if not r.crc_ok:
            raise MessageFormatError(f"chunk {i} of {len(messages)} is corrupt: {r.error}")
        parts.append(r.text)
        stats.model_bits += r.model_bits
        stats.tokens += r.tokens
        stats.seconds += r.seconds
    text = "".join(parts)
    stats.input_bytes = len(text.encode("utf-8"))
    return text, stats
