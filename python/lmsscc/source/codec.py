# SPDX-License-Identifier: GPL-3.0-or-later
"""LM arithmetic codec: text <-> self-contained messages (see message.py).

Usable without GNU Radio; the blocks in blocks.py, the link (phy/) and
apps/lm_zip.py wrap it, all through one ``header_format`` argument:
"standard" (version 1, stand-alone messages; a priming context needs version
2, so with a context it means "compact"), "compact" (version 2) or "lean"
(version 3: header fields inside the range-coded stream, texts ended by a
model-coded line break). conversation.py builds history on top of versions 2
and 3. The codec runs on any CodingModel (models/).
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from dataclasses import dataclass


from .. import lmsscc_python as kernels
from . import message
from .context import PrimingContext, builtin_contexts, load_context
from .models import CodingModel, NumericSettings, fingerprint_as, is_default, resolve_engine, shared_model

DEFAULT_PRECISION = 24
# Per-message work bound of the decoder: a header claiming more tokens is
# refused before any model step is taken (corrupt headers must not stall a
# receiver). lm_zip chunks and link messages stay far below it.
DEFAULT_MAX_TOKENS = 16384
LN2 = math.log(2.0)
# Between messages of a conversation the model sees a line break; the lean
# format also ends each text with it (its own token, coded by the model).
SEPARATOR = "\n"
# Lean (terminated) decoding stops once the tokens decoded cost more bits than
# the message holds plus this margin: a valid message never does (it would
# need 8 bytes of coded zeros the encoder stripped), garbage does within a
# few tokens of running off the end, so corruption cannot stall a receiver.
LEAN_BIT_MARGIN = 64


class PayloadError(Exception):
    """The coded tokens cannot be a valid message (reported as a failed CRC)."""


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


def coding_fingerprint(model_fingerprint: bytes, precision: int, version: int,
                       context: PrimingContext | None) -> bytes:
    """The fingerprint a message header carries. The precision changes the
    bits, so it is part of what must match; versions 2 and 3 mix in the
    priming context too."""
    if version == message.VERSION:
        material = model_fingerprint + bytes([precision])
        return hashlib.blake2b(material, digest_size=message.FINGERPRINT_BYTES).digest()
    material = model_fingerprint + bytes([precision]) + (context.digest if context else b"")
    return hashlib.blake2b(material, digest_size=message.FINGERPRINT_BYTES_V2).digest()


def matching_settings(lm: CodingModel, version: int, fingerprint: bytes, precisions=(DEFAULT_PRECISION,),
                      threads=(1, 2)) -> list[tuple]:
    """Settings of this model that give a message header's fingerprint:
    (engine, threads, context or None, precision) for each engine, hf thread
    count, priming context (none and the built-in ones) and precision tried.
    Fingerprints of versions 2 and 3 are 8 bits, so a match is a strong hint,
    not a proof (the CRC still guards the text)."""
    found = []
    cache = lm.__dict__.setdefault("_fingerprints_as", {})  # the tokenizer digest is slow
    for engine, n in [("native", 1)] + [("hf", t) for t in threads]:
        if (engine, n) not in cache:
            try:
                cache[engine, n] = fingerprint_as(lm, engine, n)
            except Exception:  # e.g. a model the native engine cannot describe
                cache[engine, n] = None
        model_fp = cache[engine, n]
        if model_fp is None:
            continue
        for ctx in [None, *builtin_contexts()] if version != message.VERSION else [None]:
            for precision in precisions:
                if coding_fingerprint(model_fp, precision, version, ctx) == fingerprint:
                    found.append((engine, n, ctx, precision))
    return found


def describe_match(engine: str, threads: int, ctx, precision: int) -> str:
    words = f"engine {engine}" + (f", {threads} thread{'s' * (threads > 1)}" if engine == "hf" else "")
    return words + f", context {ctx.name if ctx else 'none'}, precision {precision}"


class LMCodec:
    """Encode and decode messages with one language model.

    lm: any CodingModel (a backend's model or a batching proxy).
    context: a PrimingContext fed to the model before every message (its KV
    cache is computed once). header_format: "standard" (version 1; with a
    context: compact), "compact" (version 2 even without a context) or "lean"
    (version 3, the smallest messages: header fields range-coded, CRC-16).
    crc_bits: 32, or 16 in version 2 (where a link-layer CRC also protects).
    """

    def __init__(self, lm: CodingModel, precision: int = DEFAULT_PRECISION,
                 max_tokens: int = DEFAULT_MAX_TOKENS, context: PrimingContext | None = None,
                 header_format: str = "standard", crc_bits: int | None = None):
        if not isinstance(lm, CodingModel):
            raise TypeError(f"LMCodec needs a model that codes (models.CodingModel), not "
                            f"{type(lm).__name__}: load one with load_model / shared_model")
        if not kernels.RC_MIN_PRECISION <= precision <= kernels.RC_MAX_PRECISION:
            raise ValueError(f"precision must be in [{kernels.RC_MIN_PRECISION}, {kernels.RC_MAX_PRECISION}]")
        if lm.vocab_size > (1 << precision):
            raise ValueError(f"precision 2^{precision} is too small for a vocabulary of {lm.vocab_size}")
        if not 0 < max_tokens <= message.MAX_TOKENS:
            raise ValueError(f"max_tokens must be in [1, {message.MAX_TOKENS}]")
        self.lm = lm
        self.precision = precision
        self.max_tokens = max_tokens
        self.context = context
        self.version = message.header_format_version(header_format)
        if self.version == message.VERSION and context is not None:
            self.version = message.COMPACT_VERSION  # version 1 has no room for a context
        if crc_bits is None:
            crc_bits = 32 if self.version == message.VERSION else 16
        if self.version == message.LEAN_VERSION and crc_bits != message.LEAN_CRC_BITS:
            raise ValueError("the lean (version 3) format has a CRC-16")
        if crc_bits not in (16, 32) or (crc_bits == 16 and self.version == message.VERSION):
            raise ValueError("crc_bits must be 32, or 16 with the compact (version 2) format")
        self.crc_bits = crc_bits
        self.fingerprint = self._fingerprint_for(context)
        self._context_tokens = lm.tokenize(context.text) if context is not None else []
        self._separator_tokens = lm.tokenize(SEPARATOR)
        # Lean messages end with this token unless their text contains it.
        self.terminator = self._separator_tokens[0] if len(self._separator_tokens) == 1 else None
        self._primed = None  # stream after the start token and the context, made on first use

    # -- fingerprints ---------------------------------------------------------
    def _fingerprint_for(self, context: PrimingContext | None) -> bytes:
        return coding_fingerprint(self.lm.fingerprint, self.precision, self.version, context)

    def _mismatch(self, header) -> message.FingerprintMismatch:
        ours = f"{self.lm.name}, precision {self.precision}, {self.lm.settings.describe()}"
        have = self.context.describe() if self.context else "no priming context"
        def generic():
            return self._settings_hint(header, have, ours) or message.FingerprintMismatch(
                f"message was coded with fingerprint {header.fingerprint.hex()}, this decoder has "
                f"{self.fingerprint.hex()} ({ours}): use the sender's model and settings")
        if header.version == message.VERSION:
            return generic()
        if header.version == message.COMPACT_VERSION:
            if not header.primed:  # the flag says so: no fingerprint search needed
                return self._context_hint(None, have) if self.context is not None else generic()
            candidates = builtin_contexts()
        else:  # lean headers carry no PRIMED flag: try no context and the built-in ones
            candidates = [None, *builtin_contexts()]
        for ctx in candidates:
            if self._fingerprint_for(ctx) == header.fingerprint:
                return self._context_hint(ctx, have)
        return self._settings_hint(header, have, ours) or message.FingerprintMismatch(
            f"message was primed with a priming context this receiver does not have (or coded "
            f"with another model or settings); this decoder has {have} and {ours}")

    def _settings_hint(self, header, have, ours) -> message.FingerprintMismatch | None:
        """Names the engine/context/precision of this model that would match."""
        matches = matching_settings(self.lm, header.version, header.fingerprint,
                                    sorted({self.precision, DEFAULT_PRECISION}))
        if not matches:
            return None
        return message.FingerprintMismatch(
            f"message was coded with other settings of this model ({ours}, {have}); these "
            f"would match: {'; '.join(describe_match(*m) for m in matches)} (use the sender's "
            f"model and settings)")

    @staticmethod
    def _context_hint(ctx, have) -> message.FingerprintMismatch:
        if ctx is None:
            return message.FingerprintMismatch(
                f"message was coded without a priming context, this decoder has {have}")
        return message.FingerprintMismatch(
            f"message was primed with the built-in context '{ctx.name}', but this decoder has "
            f"{have}: configure the receiver with context '{ctx.name}'")

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
        if self.lm.can_fork:
            return self._primed.fork()
        stream, self._primed = self._primed, None
        return stream

    def message_stream(self):
        """The stream a stand-alone message (or a keyframe) starts from."""
        return self.primed_stream() if self.context is not None else self.lm.stream()

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

    def code_tokens(self, stream, tokens, push_last=False, progress=None,
                    encoder=None) -> tuple[bytes, float]:
        """Range-code tokens after whatever `stream` has seen; (payload, model bits).
        ``encoder``: one that already holds a lean header."""
        encoder = encoder or kernels.RangeEncoder(self.precision)
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

    def decode_tokens(self, stream, decoder, count, push_last=False, progress=None,
                      bit_budget=None):
        """Decode ``count`` tokens, or (count None, lean) tokens up to the
        terminator, which is pushed but not returned. Raises PayloadError when
        a terminated message runs past max_tokens or its bit budget."""
        tokens, model_bits, spent = [], 0.0, 0.0
        limit = count if count is not None else self.max_tokens + 1
        for i in range(limit):
            logits = stream.logits()
            cdf, lse = kernels.logits_to_cdf_lse(logits, self.precision)
            token = int(decoder.decode_symbol(cdf))
            model_bits += (lse - float(logits[token])) / LN2
            final = i + 1 == count if count is not None else token == self.terminator
            if push_last or not final:
                stream.push(token)
            if progress is not None:
                progress(1)
            if count is None:
                if final:
                    return tokens, model_bits
                spent += self.precision - math.log2(int(cdf[token + 1]) - int(cdf[token]))
                if spent > bit_budget:
                    raise PayloadError(
                        f"tokens decoded so far need {spent:.0f} bits, more than the message "
                        f"holds: payload corrupted", tokens, model_bits)
            tokens.append(token)
        if count is None:
            raise PayloadError(f"no end of text within {self.max_tokens} tokens: payload corrupted",
                               tokens, model_bits)
        return tokens, model_bits

    def make_header(self, raw: bytes, tokens: int, seq=None, depth=0) -> message.Header:
        """Version 1/2 header."""
        flags = 0
        if self.version == message.COMPACT_VERSION:
            flags |= message.FLAG_PRIMED if self.context is not None else 0
            flags |= message.FLAG_CRC16 if self.crc_bits == 16 else 0
            flags |= message.FLAG_HISTORY if seq is not None else 0
        return message.Header(self.fingerprint, tokens, message.text_crc(raw, self.crc_bits), self.version,
                          flags, seq or 0, depth)

    def lean_header(self, raw: bytes, tokens, kind: int, seq: int = 0) -> message.LeanHeader:
        counted = self.terminator is None or self.terminator in tokens
        return message.LeanHeader(
            kind, message.text_crc(raw, message.LEAN_CRC_BITS),
            self.fingerprint if kind != message.KIND_CONTINUATION else b"",
            seq % message.LEAN_SEQ_MODULO if kind != message.KIND_SINGLE else 0,
            len(tokens) if counted else None)

    def code_message(self, stream, raw: bytes, tokens, seq=None, depth=0, keep=False,
                     progress=None) -> tuple[bytes, float, int]:
        """One message after whatever ``stream`` has seen: (message, model bits,
        header bits). seq/depth: conversation position (None: stand-alone).
        keep: leave the stream after the text and a separator, for the next
        message of a conversation."""
        if self.version != message.LEAN_VERSION:
            payload, model_bits = self.code_tokens(stream, tokens, push_last=keep, progress=progress)
            if keep:
                self.push_separator(stream)
            header = self.make_header(raw, len(tokens), seq=seq, depth=depth)
            return message.pack(header, payload), model_bits, 8 * message.header_bytes(header)
        if seq is None:
            kind = message.KIND_SINGLE
        else:
            kind = message.KIND_KEYFRAME if depth == 0 else message.KIND_CONTINUATION
        header = self.lean_header(raw, tokens, kind, seq or 0)
        encoder = kernels.RangeEncoder(self.precision)
        message.write_lean_header(encoder, self.precision, header)
        symbols = list(tokens) if header.counted else [*tokens, self.terminator]
        coded, model_bits = self.code_tokens(stream, symbols, push_last=keep, progress=progress,
                                             encoder=encoder)
        if keep and header.counted:
            self.push_separator(stream)
        return coded, model_bits, header.bits

    def encode(self, data, progress=None) -> EncodeResult:
        """Code text (str, or bytes that are UTF-8) into one stand-alone message."""
        start = time.perf_counter()
        text, raw, tokens = self.tokenize_checked(data)
        stream = self.message_stream()
        coded, model_bits, header_bits = self.code_message(stream, raw, tokens, progress=progress)
        return EncodeResult(coded, len(raw), len(tokens), model_bits,
                            time.perf_counter() - start, header_bits)

    @property
    def header_format(self) -> str:
        """The header format this codec writes and reads, by name."""
        return message.HEADER_FORMAT_NAMES[self.version]

    def _version_error(self, version: int) -> message.MessageFormatError:
        return message.MessageFormatError(
            f"message uses format version {version}, this decoder is set up for version "
            f"{self.version} ({self.header_format})")

    def check_header(self, coded: bytes):
        """Parse and validate the header of a coded message: (header, range
        decoder positioned at the first token). Raises MessageFormatError /
        FingerprintMismatch."""
        coded = bytes(coded)
        if coded and message.peek_version(coded) == message.LEAN_VERSION:
            if self.version != message.LEAN_VERSION:
                raise self._version_error(message.LEAN_VERSION)
            decoder = kernels.RangeDecoder(coded, self.precision)
            header = message.read_lean_header(decoder, self.precision)
            if header.kind != message.KIND_CONTINUATION and header.fingerprint != self.fingerprint:
                raise self._mismatch(header)
        else:
            header, payload = message.unpack(coded)
            if header.version != self.version:
                raise self._version_error(header.version)
            if header.fingerprint != self.fingerprint or header.primed != (self.context is not None):
                raise self._mismatch(header)
            decoder = kernels.RangeDecoder(payload, self.precision)
        if header.tokens is not None and header.tokens > self.max_tokens:
            raise message.MessageFormatError(
                f"header claims {header.tokens} tokens, above this decoder's limit of {self.max_tokens}")
        return header, decoder

    def finish_decode(self, header, tokens, model_bits, start) -> DecodeResult:
        elapsed = time.perf_counter() - start
        seq = header.seq if header.history else None
        try:
            text = self.lm.detokenize(tokens)
            raw = text.encode("utf-8")
        except Exception as e:  # corrupt ids the tokenizer cannot map
            return DecodeResult(None, False, len(tokens), elapsed, model_bits,
                                f"undecodable tokens: {e}", seq=seq)
        if message.text_crc(raw, header.crc_bits) != header.crc:
            return DecodeResult(None, False, len(tokens), elapsed, model_bits,
                                f"CRC-{header.crc_bits} mismatch: payload corrupted", seq=seq)
        return DecodeResult(text, True, len(tokens), elapsed, model_bits, seq=seq)

    def decode_message(self, stream, header, decoder, message_bytes: int, keep=False,
                       progress=None, start=None) -> DecodeResult:
        """The tokens of a checked message after whatever ``stream`` has seen.
        keep: on success, leave the stream after the text and a separator."""
        start = time.perf_counter() if start is None else start
        try:
            tokens, model_bits = self.decode_tokens(
                stream, decoder, header.tokens, push_last=keep, progress=progress,
                bit_budget=8 * message_bytes + LEAN_BIT_MARGIN)
        except PayloadError as e:
            error, tokens, model_bits = e.args
            return DecodeResult(None, False, len(tokens), time.perf_counter() - start, model_bits,
                                error, seq=header.seq if header.history else None)
        result = self.finish_decode(header, tokens, model_bits, start)
        # A terminated lean message already pushed its terminator, the separator.
        if result.crc_ok and keep and header.tokens is not None:
            self.push_separator(stream)
        return result

    def decode(self, coded: bytes, progress=None) -> DecodeResult:
        """Decode one stand-alone message. Header problems raise MessageFormatError;
        a payload that does not reproduce the CRC gives crc_ok=False and no text."""
        start = time.perf_counter()
        header, decoder = self.check_header(coded)
        if header.history:
            raise message.MessageFormatError(
                "message was coded after earlier messages of a conversation: decode it with a "
                "ConversationDecoder")
        stream = self.message_stream()
        return self.decode_message(stream, header, decoder, len(coded), progress=progress,
                                   start=start)


def make_codec(model, precision: int = DEFAULT_PRECISION, threads: int = 1,
               max_tokens: int = DEFAULT_MAX_TOKENS, context="none",
               header_format: str = "standard", conversation: bool = False,
               engine: str = "auto") -> LMCodec:
    """The codec the blocks and the link build from their parameters.

    ``model``: a model object (any CodingModel: hf, native, a batching proxy,
    the tiny test model), used as it is; or a name for load_model ("default",
    a GGUF file, a local Hugging Face folder), loaded once per process by
    ``engine`` ("hf", "native", or "auto": native for Llama-family GGUF files,
    the default model included, hf otherwise; docs/engine.md) with
    ``threads``. ``context``: "none", a built-in name or a text file.
    Conversation history needs a compact or lean header: "standard" then
    means compact (as it does with a priming context)."""
    version = message.header_format_version(header_format)
    if conversation and version == message.VERSION:
        header_format = "compact"
    if not isinstance(model, CodingModel):
        name = _model_name(model)
        model = shared_model(name, NumericSettings(threads=threads, engine=resolve_engine(engine, name)))
    return LMCodec(model, precision=precision, max_tokens=max_tokens, context=load_context(context),
                   header_format=header_format)


def _model_name(spec) -> str | None:
    """A model name for load_model (None: the default), or a clear error for
    something that is neither a name nor a model."""
    if is_default(spec):
        return None
    if isinstance(spec, (str, os.PathLike)):
        return str(spec)
    raise TypeError(f"model must be a name, a path or a model that codes (models.CodingModel), "
                    f"not {type(spec).__name__}")
