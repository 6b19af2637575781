# SPDX-License-Identifier: GPL-3.0-or-later
"""The lm_zip container: a text file as independent LM-coded chunks, with the
settings that decode it.

Version 2 (written since issue 13; `decompress IN OUT` needs no flags):

    bytes 0-1   b"LZ"
    byte 2      container version 2 (high nibble) | flags (low nibble):
                0x1 engine hf (clear: native), 0x2 a settings record follows,
                0x4 several chunks, 0x8 primed with a built-in context
    [2 bytes]   flag 0x8 only: the built-in context's digest (its first 2
                bytes, which name it among the built-in contexts)
    [record]    flag 0x2 only: the settings that differ from DEFAULTS, each a
                key byte and its value, ended by key 0 (see the KEY_* below)
    chunks      one message each (message.py); with flag 0x4 every chunk is
                preceded by its byte length (varint), else the one chunk runs
                to the end of the file. No chunk at all: the empty text.

With every default (native engine, lean messages, precision 24, no priming
context, the embedded model) the container costs 3 bytes on top of its
messages, 5 with a built-in context, so a short text costs about what it
costs as a lean radio message. A context from a file is recorded by name and
digest in the settings record.

Version 1 ("LMZ1", before issue 13; still read): b"LMZ1", then per chunk a
varint byte length and one message. It records no settings, so decoding one
takes the sender's flags (engine hf, precision 24, no context by default).

Chunks are complete messages, each with its fingerprint and CRC, so they are
coded and decoded independently (and concurrently by a batched engine).
Chunks end at line breaks where possible.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from .codec import LMCodec
from .context import builtin_contexts
from .message import HEADER_FORMAT_NAMES, HEADER_FORMAT_VERSIONS, MessageFormatError, decode_varint

MAGIC_V1 = b"LMZ1"
MAGIC = b"LZ"
CONTAINER_VERSION = 2
FLAG_ENGINE_HF = 0x1
FLAG_SETTINGS = 0x2
FLAG_CHUNKED = 0x4
FLAG_BUILTIN_CONTEXT = 0x8
KNOWN_FLAGS = FLAG_ENGINE_HF | FLAG_SETTINGS | FLAG_CHUNKED | FLAG_BUILTIN_CONTEXT
DEFAULT_CHUNK_CHARS = 4096
CONTEXT_DIGEST_BYTES = 2  # with the messages' fingerprint, enough to tell contexts apart

# Keys of the settings record (one byte each; 0 ends the record).
KEY_END, KEY_PRECISION, KEY_THREADS, KEY_FORMAT, KEY_CHUNK_CHARS, KEY_CONTEXT, KEY_MODEL = range(7)


@dataclass(frozen=True)
class ZipSettings:
    """Everything a decompressor needs besides the model file itself."""

    engine: str = "native"
    precision: int = 24
    threads: int = 1  # recorded for hf only (part of its fingerprint)
    header_format: str = "lean"
    chunk_chars: int = DEFAULT_CHUNK_CHARS
    context: str = "none"  # a built-in name or a file name; "" an unknown built-in
    context_digest: bytes = b""  # first CONTEXT_DIGEST_BYTES of PrimingContext.digest
    model: str = "default"  # "default": the embedded model; else the --model given

    def describe(self) -> str:
        parts = [f"engine {self.engine}", f"format {self.header_format}",
                 f"precision {self.precision}", f"context {self.context}"]
        if self.engine == "hf":
            parts.append(f"threads {self.threads}")
        if self.model != "default":
            parts.append(f"model {self.model}")
        return ", ".join(parts)


DEFAULTS = ZipSettings()


def settings_for(codec: LMCodec, chunk_chars: int = DEFAULT_CHUNK_CHARS,
                 model: str = "default") -> ZipSettings:
    """The settings record of files written by ``codec``."""
    engine = codec.lm.settings.engine
    ctx = codec.context
    return ZipSettings(
        engine=engine, precision=codec.precision,
        threads=codec.lm.settings.threads if engine == "hf" else 1,
        header_format=codec.header_format, chunk_chars=chunk_chars,
        context=ctx.name if ctx else "none",
        context_digest=ctx.digest[:CONTEXT_DIGEST_BYTES] if ctx else b"",
        model=model or "default")


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


def _read_varint(data: bytes, pos: int, what: str) -> tuple[int, int]:
    try:
        return decode_varint(data, pos)
    except MessageFormatError:
        raise MessageFormatError(f"lm_zip file truncated or corrupt in the {what} at byte {pos}") from None


def _string(value: str) -> bytes:
    raw = value.encode("utf-8")
    return _varint(len(raw)) + raw


def _read_string(data: bytes, pos: int, what: str) -> tuple[str, int]:
    length, pos = _read_varint(data, pos, what)
    if pos + length > len(data):
        raise MessageFormatError(f"lm_zip file truncated inside the {what}")
    try:
        return data[pos : pos + length].decode("utf-8"), pos + length
    except UnicodeDecodeError:
        raise MessageFormatError(f"lm_zip settings record: the {what} is not UTF-8") from None


# -- the header ------------------------------------------------------------

def builtin_by_digest(digest: bytes):
    """The built-in context whose digest starts with ``digest``, or None."""
    return next((c for c in builtin_contexts() if c.digest[: len(digest)] == digest), None)


def _is_builtin(s: ZipSettings) -> bool:
    ctx = builtin_by_digest(s.context_digest) if s.context != "none" else None
    return ctx is not None and ctx.name == s.context


def _record(s: ZipSettings) -> bytes:
    """The settings that differ from the defaults (engine and a built-in
    context are in the flags)."""
    out = bytearray()
    if s.precision != DEFAULTS.precision:
        out += bytes([KEY_PRECISION]) + _varint(s.precision)
    if s.engine == "hf" and s.threads != DEFAULTS.threads:
        out += bytes([KEY_THREADS]) + _varint(s.threads)
    if s.header_format != DEFAULTS.header_format:
        out += bytes([KEY_FORMAT]) + _varint(HEADER_FORMAT_VERSIONS[s.header_format])
    if s.chunk_chars != DEFAULTS.chunk_chars:
        out += bytes([KEY_CHUNK_CHARS]) + _varint(s.chunk_chars)
    if s.context != "none" and not _is_builtin(s):
        if len(s.context_digest) != CONTEXT_DIGEST_BYTES:
            raise ValueError(f"context digest must be {CONTEXT_DIGEST_BYTES} bytes")
        out += bytes([KEY_CONTEXT]) + _string(s.context) + s.context_digest
    if s.model != "default":
        out += bytes([KEY_MODEL]) + _string(s.model)
    return bytes(out + bytes([KEY_END])) if out else b""


def pack_header(s: ZipSettings, chunked: bool) -> bytes:
    record, builtin = _record(s), _is_builtin(s)
    flags = ((FLAG_ENGINE_HF if s.engine == "hf" else 0) | (FLAG_SETTINGS if record else 0)
             | (FLAG_CHUNKED if chunked else 0) | (FLAG_BUILTIN_CONTEXT if builtin else 0))
    head = MAGIC + bytes([(CONTAINER_VERSION << 4) | flags])
    return head + (s.context_digest if builtin else b"") + record


def _parse_record(data: bytes, pos: int, s: ZipSettings) -> tuple[ZipSettings, int]:
    values = {}
    while True:
        if pos >= len(data):
            raise MessageFormatError("lm_zip file truncated inside its settings record")
        key, pos = data[pos], pos + 1
        if key == KEY_END:
            return replace(s, **values), pos
        if key in (KEY_PRECISION, KEY_THREADS, KEY_CHUNK_CHARS, KEY_FORMAT):
            value, pos = _read_varint(data, pos, "settings record")
            if key == KEY_FORMAT:
                if value not in HEADER_FORMAT_NAMES:
                    raise MessageFormatError(f"lm_zip settings record: unknown header format {value}")
                values["header_format"] = HEADER_FORMAT_NAMES[value]
            else:
                name = {KEY_PRECISION: "precision", KEY_THREADS: "threads",
                        KEY_CHUNK_CHARS: "chunk_chars"}[key]
                values[name] = value
        elif key == KEY_CONTEXT:
            values["context"], pos = _read_string(data, pos, "context name")
            if pos + CONTEXT_DIGEST_BYTES > len(data):
                raise MessageFormatError("lm_zip file truncated inside the context digest")
            values["context_digest"] = data[pos : pos + CONTEXT_DIGEST_BYTES]
            pos += CONTEXT_DIGEST_BYTES
        elif key == KEY_MODEL:
            values["model"], pos = _read_string(data, pos, "model name")
        else:
            raise MessageFormatError(
                f"lm_zip settings record has unknown key {key}: written by a newer lm_zip")


@dataclass
class Container:
    version: int  # 1 or 2
    settings: ZipSettings | None  # None: version 1 records none
    messages: list = field(default_factory=list)
    size: int = 0  # bytes of the whole file


def _length_prefixed(data: bytes, pos: int) -> list[bytes]:
    messages = []
    while pos < len(data):
        length, pos = _read_varint(data, pos, "chunk length")
        if pos + length > len(data):
            raise MessageFormatError(f"lm_zip file truncated: chunk at byte {pos} needs {length} bytes")
        messages.append(data[pos : pos + length])
        pos += length
    return messages


def read_container(data: bytes) -> Container:
    """Settings and chunk messages of an lm_zip file (either version)."""
    data = bytes(data)
    if data[:4] == MAGIC_V1:
        return Container(1, None, _length_prefixed(data, 4), len(data))
    if data[:2] != MAGIC or len(data) < 3:
        raise MessageFormatError("not an lm_zip file (bad magic)")
    version, flags = data[2] >> 4, data[2] & 0xF
    if version != CONTAINER_VERSION:
        raise MessageFormatError(f"lm_zip container version {version} is not supported "
                                 f"(this lm_zip reads 1 and {CONTAINER_VERSION})")
    if flags & ~KNOWN_FLAGS:
        raise MessageFormatError(f"unknown lm_zip flags 0x{flags:x}: written by a newer lm_zip")
    settings = replace(DEFAULTS, engine="hf" if flags & FLAG_ENGINE_HF else "native")
    pos = 3
    if flags & FLAG_BUILTIN_CONTEXT:
        digest = data[pos : pos + CONTEXT_DIGEST_BYTES]
        if len(digest) < CONTEXT_DIGEST_BYTES:
            raise MessageFormatError("lm_zip file truncated inside the context digest")
        ctx = builtin_by_digest(digest)
        settings = replace(settings, context=ctx.name if ctx else "", context_digest=digest)
        pos += CONTEXT_DIGEST_BYTES
    if flags & FLAG_SETTINGS:
        settings, pos = _parse_record(data, pos, settings)
    if flags & FLAG_CHUNKED:
        return Container(2, settings, _length_prefixed(data, pos), len(data))
    return Container(2, settings, [data[pos:]] if pos < len(data) else [], len(data))


# -- stats -----------------------------------------------------------------

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
             progress=None, batched=None, model: str = "default") -> tuple[bytes, ZipStats]:
    """A version-2 file of ``text``. batched: optional (encode_many,
    decode_many, group size) from a batched engine; chunks are independent, so
    they can be coded concurrently and the bytes are the same as one by one.
    model: what the decompressor should load ("default" or the --model given)."""
    start = time.perf_counter()
    pieces = split_text(text, chunk_chars)
    chunked = len(pieces) > 1
    out = bytearray(pack_header(settings_for(codec, chunk_chars, model), chunked))
    stats = ZipStats(input_bytes=len(text.encode("utf-8")), chunks=len(pieces))
    encode_many = (batched[0], batched[2]) if batched else None
    message_bytes = 0
    for r in _run(lambda p: codec.encode(p, progress=progress), encode_many, pieces, progress):
        out += (_varint(len(r.message)) if chunked else b"") + r.message
        message_bytes += len(r.message)
        stats.model_bits += r.model_bits
        stats.header_bits += r.header_bits
        stats.tokens += r.tokens
    stats.seconds = time.perf_counter() - start  # wall time (chunks may run concurrently)
    stats.coded_bits = 8 * len(out)
    stats.extra["container_bits"] = 8 * (len(out) - message_bytes)
    return bytes(out), stats


def chunk_tokens(codec: LMCodec, messages: list[bytes]) -> int | None:
    """Tokens the chunks hold, for a progress bar; None where a lean chunk
    ends by its terminator (its count is not in the header)."""
    counts = [codec.check_header(m)[0].tokens for m in messages]
    return None if None in counts else sum(counts)


def decompress(codec: LMCodec, data, progress=None, batched=None) -> tuple[str, ZipStats]:
    """Text of an lm_zip file (bytes or a read Container); raises
    MessageFormatError on a bad container or a chunk whose CRC fails (never
    returns partly wrong text)."""
    start = time.perf_counter()
    container = data if isinstance(data, Container) else read_container(data)
    messages = container.messages
    for m in messages:  # every header checked before any model step
        codec.check_header(m)
    stats = ZipStats(coded_bits=8 * container.size, chunks=len(messages))
    parts = []
    decode_many = (batched[1], batched[2]) if batched else None
    results = _run(lambda m: codec.decode(m, progress=progress), decode_many, messages, progress)
    for i, r in enumerate(results):
        if not r.crc_ok:
            last = " (or the file is truncated)" if i + 1 == len(messages) else ""
            raise MessageFormatError(f"chunk {i} of {len(messages)} is corrupt{last}: {r.error}")
        parts.append(r.text)
        stats.model_bits += r.model_bits
        stats.tokens += r.tokens
    stats.seconds = time.perf_counter() - start
    text = "".join(parts)
    stats.input_bytes = len(text.encode("utf-8"))
    return text, stats
