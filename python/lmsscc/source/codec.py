"""LM arithmetic codec: text <-> self-contained messages (see message.py).

Usable without GNU Radio; the blocks in blocks.py and apps/lm_zip.py wrap it.
Stand-alone messages use format version 1; a priming context or the compact
option selects version 2, and conversation.py builds history on top.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass


from .. import lmsscc_python as kernels
from . import message as fmt
from .context import PrimingContext, builtin_contexts
from .lm import LanguageModel

DEFAULT_PRECISION = 24
# Per-message work bound of the decoder: a header claiming more tokens is
# refused before any model step is taken (corrupt headers must not stall a
# receiver). lm_zip chunks and link messages stay far below it.
DEFAULT_MAX_TOKENS = 16384
LN2 = math.log(2.0)
# Between messages of a conversation the model sees a line break.
SEPARATOR = "\n"


@dataclass
class EncodeResult:
    message: bytes
    input_bytes: int
    tokens: int
    model_bits: float  # sum of -log2 p(token) under the unquantised model
    seconds: float
    header_bits: int
    seq: int | None = None  # conversation messages only
    depth: int = 0

    @property
    def coded_bits(self) -> int:
        return 8 * len(self.message)

    @property
    def payload_bits(self) -> int:
        return self.coded_bits - self.header_bits

    def stats(self) -> dict:
        d = {
            "input_bytes": self.input_bytes,
            "coded_bits": self.coded_bits,
            "header_bits": self.header_bits,
            "payload_bits": self.payload_bits,
            "model_bits": round(self.model_bits, 3),
            "tokens": self.tokens,
            "seconds": round(self.seconds, 4),
        }
        if self.seq is not None:
            d.update(seq=self.seq, history_depth=self.depth)
        return d


@dataclass
class DecodeResult:
    text: str | None  # None unless the CRC passed
    crc_ok: bool
    tokens: int
    seconds: float
    model_bits: float = 0.0
    error: str | None = None
    context_missing: bool = False
    seq: int | None = None

    @property
    def data(self) -> bytes:
        return self.text.encode("utf-8") if self.text is not None else b""


def _as_text(data) -> str:
    if isinstance(data, str):
        return data
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"input is not valid UTF-8 ({e}); only text can be LM-coded") from None


class LMCodec:
    """Encode and decode messages with one language model.

    context: a PrimingContext fed to the model before every message (its KV
    cache is computed once). compact: version-2 header even without a context.
    crc_bits: 32, or 16 in version 2 (where a link-layer CRC also protects).
    """

    def __init__(self, lm: LanguageModel, precision: int = DEFAULT_PRECISION,
                 max_tokens: int = DEFAULT_MAX_TOKENS, context: PrimingContext | None = None,
                 compact: bool = False, crc_bits: int | None = None):
        if not kernels.RC_MIN_PRECISION <= precision <= kernels.RC_MAX_PRECISION:
            raise ValueError(f"precision must be in [{kernels.RC_MIN_PRECISION}, {kernels.RC_MAX_PRECISION}]")
        if lm.vocab_size > (1 << precision):
            raise ValueError(f"precision 2^{precision} is too small for a vocabulary of {lm.vocab_size}")
        if not 0 < max_tokens <= fmt.MAX_TOKENS:
            raise ValueError(f"max_tokens must be in [1, {fmt.MAX_TOKENS}]")
        self.lm = lm
        self.precision = precision
        self.max_tokens = max_tokens
        self.context = context
        self.version = fmt.COMPACT_VERSION if (compact or context is not None) else fmt.VERSION
        if crc_bits is None:
            crc_bits = 16 if self.version == fmt.COMPACT_VERSION else 32
        if crc_bits not in (16, 32) or (crc_bits == 16 and self.version == fmt.VERSION):
            raise ValueError("crc_bits must be 32, or 16 with the compact (version 2) format")
        self.crc_bits = crc_bits
        self.fingerprint = self._fingerprint_for(context)
        self._context_tokens = lm.tokenize(context.text) if context is not None else []
        self._separator_tokens = lm.tokenize(SEPARATOR)
        self._primed = None  # stream after the start token and the context, made on first use

    # -- fingerprints ---------------------------------------------------------
    def _fingerprint_for(self, context: PrimingContext | None) -> bytes:
        # The precision changes the bits, so it is part of what must match.
        if self.version == fmt.VERSION:
            material = self.lm.fingerprint + bytes([self.precision])
            return hashlib.blake2b(material, digest_size=fmt.FINGERPRINT_BYTES).digest()
        material = self.lm.fingerprint + bytes([self.precision]) + (context.digest if context else b"")
        return hashlib.blake2b(material, digest_size=fmt.FINGERPRINT_BYTES_V2).digest()

    def _mismatch(self, header: fmt.Header) -> fmt.FingerprintMismatch:
        ours = f"{self.lm.name}, precision {self.precision}, {self.lm.settings.describe()}"
        if header.version == fmt.COMPACT_VERSION:
            have = self.context.describe() if self.context else "no priming context"
            if header.primed:
                for ctx in builtin_contexts():
                    if self._fingerprint_for(ctx) == header.fingerprint:
                        return fmt.FingerprintMismatch(
                            f"message was primed with the built-in context '{ctx.name}', but this "
                            f"decoder has {have}: configure the receiver with context '{ctx.name}'")
                return fmt.FingerprintMismatch(
                    f"message was primed with a priming context this receiver does not have (or "
                    f"with another model); this decoder has {have} and {ours}")
            if self.context is not None:
                return fmt.FingerprintMismatch(
                    f"message was coded without a priming context, this decoder has {have}")
        return fmt.FingerprintMismatch(
            f"message was coded with fingerprint {header.fingerprint.hex()}, this decoder has "
            f"{self.fingerprint.hex()} ({ours}): use the sender's model and settings")

    # -- streams --------------------------------------------------------------
    def primed_stream(self):
        """A fresh stream that has seen the start token and the priming context.
        Streams that can fork() keep the primed state and copy it; others are
        handed over and primed again next time (one stream per use)."""
        if self._primed is None:
            stream = self.lm.stream()
            for token in self._context_tokens:
                stream.push(token)
            self._primed = stream
        if hasattr(self._primed, "fork") and getattr(self.lm, "can_fork", True):
            return self._primed.fork()
        stream, self._primed = self._primed, None
        return stream

    def push_separator(self, stream) -> None:
        for token in self._separator_tokens:
            stream.push(token)

    # -- coding ---------------------------------------------------------------
    def tokenize_checked(self, data) -> tuple[str, bytes, list[int]]:
        text = _as_text(data)
        tokens = self.lm.tokenize(text)
        if len(tokens) > self.max_tokens:
            raise ValueError(
                f"text of {len(tokens)} tokens exceeds this codec's limit of {self.max_tokens}; "
                "split it (lm_zip does) or raise max_tokens")
        return text, text.encode("utf-8"), tokens

    def code_tokens(self, stream, tokens, push_last=False, progress=None) -> tuple[bytes, float]:
        """Range-code tokens after whatever `stream` has seen; (payload, model bits)."""
        encoder = kernels.RangeEncoder(self.precision)
        model_bits = 0.0
        for i, token in enumerate(tokens):
            logits = stream.logits()
            cdf, lse = kernels.logits_to_cdf_lse(logits, self.precision)
            encoder.encode_symbol(cdf, token)
            model_bits += (lse - float(logits[token])) / LN2
            if push_last or i + 1 < len(tokens):  # a last successor is only needed for history
                stream.push(token)
            if progress is not None:
                progress(1)
        return encoder.finish(), model_bits

    def decode_tokens(self, stream, payload, count, push_last=False, progress=None):
        decoder = kernels.RangeDecoder(payload, self.precision)
        tokens, model_bits = [], 0.0
        for i in range(count):
            logits = stream.logits()
            cdf, lse = kernels.logits_to_cdf_lse(logits, self.precision)
            token = int(decoder.decode_symbol(cdf))
            tokens.append(token)
            model_bits += (lse - float(logits[token])) / LN2
            if push_last or i + 1 < count:
                stream.push(token)
            if progress is not None:
                progress(1)
        return tokens, model_bits

    def make_header(self, raw: bytes, tokens: int, seq=None, depth=0) -> fmt.Header:
        flags = 0
        if self.version == fmt.COMPACT_VERSION:
            flags |= fmt.FLAG_PRIMED if self.context is not None else 0
            flags |= fmt.FLAG_CRC16 if self.crc_bits == 16 else 0
            flags |= fmt.FLAG_HISTORY if seq is not None else 0
        return fmt.Header(self.fingerprint, tokens, fmt.text_crc(raw, self.crc_bits), self.version,
                          flags, seq or 0, depth)

    def encode(self, data, progress=None) -> EncodeResult:
        """Code text (str, or bytes that are UTF-8) into one stand-alone message."""
        start = time.perf_counter()
        text, raw, tokens = self.tokenize_checked(data)
        stream = self.primed_stream() if self.context is not None else self.lm.stream()
        payload, model_bits = self.code_tokens(stream, tokens, progress=progress)
        header = self.make_header(raw, len(tokens))
        return EncodeResult(fmt.pack(header, payload), len(raw), len(tokens), model_bits,
                            time.perf_counter() - start, 8 * fmt.header_bytes(header))

    def check_header(self, message: bytes) -> tuple[fmt.Header, bytes]:
        """Parse and validate a header; raises MessageFormatError / FingerprintMismatch."""
        header, payload = fmt.unpack(message)
        if header.version != self.version:
            raise fmt.MessageFormatError(
                f"message uses format version {header.version}, this decoder is set up for "
                f"version {self.version} ({'compact/primed' if self.version == 2 else 'stand-alone'})")
        if header.fingerprint != self.fingerprint or header.primed != (self.context is not None):
            raise self._mismatch(header)
        if header.tokens > self.max_tokens:
            raise fmt.MessageFormatError(
                f"header claims {header.tokens} tokens, above this decoder's limit of {self.max_tokens}")
        return header, payload

    def finish_decode(self, header, tokens, model_bits, start) -> DecodeResult:
        elapsed = time.perf_counter() - start
        seq = header.seq if header.history else None
        try:
            text = self.lm.detokenize(tokens)
            raw = text.encode("utf-8")
        except Exception as e:  # corrupt ids the tokenizer cannot map
            return DecodeResult(None, False, len(tokens), elapsed, model_bits,
                                f"undecodable tokens: {e}", seq=seq)
        if fmt.text_crc(raw, header.crc_bits) != header.crc:
            return DecodeResult(None, False, len(tokens), elapsed, model_bits,
                                f"CRC-{header.crc_bits} mismatch: payload corrupted", seq=seq)
        return DecodeResult(text, True, len(tokens), elapsed, model_bits, seq=seq)

    def decode(self, message: bytes, progress=None) -> DecodeResult:
        """Decode one stand-alone message. Header problems raise MessageFormatError;
        a payload that does not reproduce the CRC gives crc_ok=False and no text."""
        start = time.perf_counter()
        header, payload = self.check_header(message)
        if header.history:
            raise fmt.MessageFormatError(
                "message was coded after earlier messages of a conversation: decode it with a "
                "ConversationDecoder")
        stream = self.primed_stream() if self.context is not None else self.lm.stream()
        tokens, model_bits = self.decode_tokens(stream, payload, header.tokens, progress=progress)
        return self.finish_decode(header, tokens, model_bits, start)
