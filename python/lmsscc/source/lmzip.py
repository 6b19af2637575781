"""The lm_zip container: a text file as independent LM-coded chunks.

    bytes 0-3   b"LMZ1"
    then, per chunk: varint byte length, one message (message.py format)

Each chunk is a complete message with its own fingerprint, token count and
CRC-32, so chunks can be coded and decoded independently (and in parallel by
a batched engine later). Chunks end at line breaks where possible.
"""

from __future__ import annotations

import time
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


def _in_groups(items, size):
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _run(single, batched, items, progress):
    """Results of `single(item)` for every item, or of the batched runner
    (run_batch, group size) where the engine batches several streams."""
    if batched is None:
        return [single(x) for x in items]
    run_batch, size = batched
    results = []
    for group in _in_groups(items, size):
        done = run_batch(group)
        if progress is not None:
            progress(sum(r.tokens for r in done))
        results.extend(done)
    return results


def compress(codec: LMCodec, text: str, chunk_chars: int = DEFAULT_CHUNK_CHARS,
             progress=None, batched=None) -> tuple[bytes, ZipStats]:
    """batched: optional (encode_many, decode_many, group size) from a batched
    engine; chunks are independent, so they can be coded concurrently and the
    bytes are the same as coding them one by one."""
    start = time.perf_counter()
    pieces = split_text(text, chunk_chars)
    out = bytearray(MAGIC)
    stats = ZipStats(input_bytes=len(text.encode("utf-8")), chunks=len(pieces))
    encode_many = (batched[0], batched[2]) if batched else None
    for r in _run(lambda p: codec.encode(p, progress=progress), encode_many, pieces, progress):
        out += _varint(len(r.message)) + r.message
        stats.model_bits += r.model_bits
        stats.header_bits += r.header_bits
        stats.tokens += r.tokens
    stats.seconds = time.perf_counter() - start  # wall time (chunks may run concurrently)
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


def decompress(codec: LMCodec, data: bytes, progress=None, batched=None) -> tuple[str, ZipStats]:
    """Text of an lm_zip file; raises MessageFormatError on a bad container or
    a chunk whose CRC fails (never returns partly wrong text)."""
    start = time.perf_counter()
    messages = split_container(data)
    for m in messages:  # every header checked before any model step
        codec.check_header(m)
    stats = ZipStats(coded_bits=8 * len(data), chunks=len(messages))
    parts = []
    decode_many = (batched[1], batched[2]) if batched else None
    results = _run(lambda m: codec.decode(m, progress=progress), decode_many, messages, progress)
    for i, r in enumerate(results):
        if not r.crc_ok:
            raise MessageFormatError(f"chunk {i} of {len(messages)} is corrupt: {r.error}")
        parts.append(r.text)
        stats.model_bits += r.model_bits
        stats.tokens += r.tokens
    stats.seconds = time.perf_counter() - start
    text = "".join(parts)
    stats.input_bytes = len(text.encode("utf-8"))
    return text, stats
