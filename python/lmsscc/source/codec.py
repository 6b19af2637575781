"""LM arithmetic codec: text <-> self-contained messages (see message.py).

Usable without GNU Radio; the blocks in blocks.py and apps/lm_zip.py wrap it.
"""

from __future__ import annotations

import math
import time
import zlib
from dataclasses import dataclass

import numpy as np

from .. import lmsscc_python as kernels
from . import message as fmt
from .lm import LanguageModel

DEFAULT_PRECISION = 24
# Per-message work bound of the decoder: a header claiming more tokens is
# refused before any model step is taken (corrupt headers must not stall a
# receiver). lm_zip chunks and link messages stay far below it.
DEFAULT_MAX_TOKENS = 16384
LN2 = math.log(2.0)


@dataclass
class EncodeResult:
    message: bytes
    input_bytes: int
    tokens: int
    model_bits: float  # sum of -log2 p(token) under the unquantised model
    seconds: float
    header_bits: int

    @property
    def coded_bits(self) -> int:
        return 8 * len(self.message)

    @property
    def payload_bits(self) -> int:
        return self.coded_bits - self.header_bits

    def stats(self) -> dict:
        return {
            "input_bytes": self.input_bytes,
            "coded_bits": self.coded_bits,
            "header_bits": self.header_bits,
            "payload_bits": self.payload_bits,
            "model_bits": round(self.model_bits, 3),
            "tokens": self.tokens,
            "seconds": round(self.seconds, 4),
        }


@dataclass
class DecodeResult:
    text: str | None  # None unless the CRC passed
    crc_ok: bool
    tokens: int
    seconds: float
    model_bits: float = 0.0
    error: str | None = None

    @property
    def data(self) -> bytes:
        return self.text.encode("utf-8") if self.text is not None else b""


def token_bits(logits: np.ndarray, token: int) -> float:
    """-log2 p(token) under softmax(logits), in double precision."""
    x = logits.astype(np.float64)
    m = x.max()
    return (m + math.log(np.exp(x - m).sum()) - x[token]) / LN2


def _as_text(data) -> str:
    if isinstance(data, str):
        return data
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"input is not valid UTF-8 ({e}); only text can be LM-coded") from None


class LMCodec:
    """Encode and decode messages with one language model."""

    def __init__(self, lm: LanguageModel, precision: int = DEFAULT_PRECISION,
                 max_tokens: int = DEFAULT_MAX_TOKENS):
        if not kernels.RC_MIN_PRECISION <= precision <= kernels.RC_MAX_PRECISION:
            raise ValueError(f"precision must be in [{kernels.RC_MIN_PRECISION}, {kernels.RC_MAX_PRECISION}]")
        if lm.vocab_size > (1 << precision):
            raise ValueError(f"precision 2^{precision} is too small for a vocabulary of {lm.vocab_size}")
        if not 0 < max_tokens <= fmt.MAX_TOKENS:
            raise ValueError(f"max_tokens must be in [1, {fmt.MAX_TOKENS}]")
        self.lm = lm
        self.precision = precision
        self.max_tokens = max_tokens
        # The precision changes the bits, so it is part of what must match.
        self.fingerprint = _codec_fingerprint(lm.fingerprint, precision)

    def encode(self, data, progress=None) -> EncodeResult:
        """Code text (str, or bytes that are UTF-8) into one message."""
        start = time.perf_counter()
        text = _as_text(data)
        raw = text.encode("utf-8")
        tokens = self.lm.tokenize(text)
        if len(tokens) > self.max_tokens:
            raise ValueError(
                f"text of {len(tokens)} tokens exceeds this codec's limit of {self.max_tokens}; "
                "split it (lm_zip does) or raise max_tokens"
            )
        encoder = kernels.RangeEncoder(self.precision)
        stream = self.lm.stream()
        model_bits = 0.0
        for i, token in enumerate(tokens):
            logits = stream.logits()
            encoder.encode_symbol(kernels.logits_to_cdf(logits, self.precision), token)
            model_bits += token_bits(logits, token)
            if i + 1 < len(tokens):  # the last token's successor is never needed
                stream.push(token)
            if progress is not None:
                progress(1)
        header = fmt.Header(self.fingerprint, len(tokens), zlib.crc32(raw))
        message = fmt.pack(header, encoder.finish())
        return EncodeResult(message, len(raw), len(tokens), model_bits,
                            time.perf_counter() - start, 8 * fmt.header_bytes(header))

    def check_header(self, message: bytes) -> tuple[fmt.Header, bytes]:
        """Parse and validate a header; raises MessageFormatError / FingerprintMismatch."""
        header, payload = fmt.unpack(message)
        if header.fingerprint != self.fingerprint:
            raise fmt.FingerprintMismatch(
                f"message was coded with model fingerprint {header.fingerprint.hex()}, this "
                f"decoder has {self.fingerprint.hex()} ({self.lm.name}, precision {self.precision}, "
                f"{self.lm.settings.describe()}): use the sender's model and settings"
            )
        if header.tokens > self.max_tokens:
            raise fmt.MessageFormatError(
                f"header claims {header.tokens} tokens, above this decoder's limit of {self.max_tokens}"
            )
        return header, payload

    def decode(self, message: bytes, progress=None) -> DecodeResult:
        """Decode one message. Header problems raise MessageFormatError; a payload
        that does not reproduce the CRC gives crc_ok=False and no text."""
        start = time.perf_counter()
        header, payload = self.check_header(message)
        decoder = kernels.RangeDecoder(payload, self.precision)
        stream = self.lm.stream()
        tokens = []
        model_bits = 0.0
        for i in range(header.tokens):
            logits = stream.logits()
            token = decoder.decode_symbol(kernels.logits_to_cdf(logits, self.precision))
            tokens.append(int(token))
            model_bits += token_bits(logits, token)
            if i + 1 < header.tokens:
                stream.push(token)
            if progress is not None:
                progress(1)
        elapsed = time.perf_counter() - start
        try:
            text = self.lm.detokenize(tokens)
            raw = text.encode("utf-8")
        except Exception as e:  # corrupt ids the tokenizer cannot map
            return DecodeResult(None, False, len(tokens), elapsed, model_bits,
                                f"undecodable tokens: {e}")
        if zlib.crc32(raw) != header.crc32:
            return DecodeResult(None, False, len(tokens), elapsed, model_bits,
                                "CRC-32 mismatch: payload corrupted")
        return DecodeResult(text, True, len(tokens), elapsed, model_bits)


def _codec_fingerprint(model_fingerprint: bytes, precision: int) -> bytes:
    import hashlib

    h = hashlib.blake2b(model_fingerprint + bytes([precision]), digest_size=fmt.FINGERPRINT_BYTES)
    return h.digest()
