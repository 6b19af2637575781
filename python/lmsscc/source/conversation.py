"""Conversation context: message n is coded after earlier messages of the same
session, which both ends have (the encoder sent them, the decoder decoded them).

Policy (docs/context_coding.md): messages are numbered; every
`keyframe_period`-th message (seq % period == 0) is coded without history
(only the priming context); message n otherwise sees every message since the
last keyframe, depth = n % period. The header carries seq and depth, so the
receiver knows exactly which messages it needs. If one is missing or failed,
the receiver reports "context missing" for n (never garbage) and, since n is
then missing too, for the rest of that group: a loss costs at most
period - 1 further messages. Growing the history up to the keyframe (rather
than a sliding window) lets both ends keep the model state after each message
instead of recomputing the history: one extra step per message.
"""

from __future__ import annotations

import time

from . import message as fmt
from .codec import DecodeResult, EncodeResult, LMCodec

DEFAULT_KEYFRAME_PERIOD = 8


def _check_period(period: int) -> int:
    if not 1 <= period <= fmt.MAX_DEPTH + 1:
        raise ValueError(f"keyframe_period must be in [1, {fmt.MAX_DEPTH + 1}]")
    if fmt.SEQ_MODULO % period:
        raise ValueError(f"keyframe_period must divide {fmt.SEQ_MODULO} (sequence numbers wrap)")
    return period


class ConversationEncoder:
    def __init__(self, codec: LMCodec, keyframe_period: int = DEFAULT_KEYFRAME_PERIOD, first_seq: int = 0):
        if codec.version != fmt.COMPACT_VERSION:
            raise ValueError("conversation coding needs the compact format: LMCodec(..., compact=True) "
                             "or a priming context")
        self.codec = codec
        self.period = _check_period(keyframe_period)
        self.seq = first_seq % fmt.SEQ_MODULO
        self._state = None  # stream after the previous message and a separator

    def encode(self, data, progress=None) -> EncodeResult:
        start = time.perf_counter()
        codec = self.codec
        text, raw, tokens = codec.tokenize_checked(data)
        depth = self.seq % self.period
        stream = codec.primed_stream() if depth == 0 else self._state
        keep = (self.seq + 1) % self.period != 0  # the next message builds on this one
        payload, model_bits = codec.code_tokens(stream, tokens, push_last=keep, progress=progress)
        if keep:
            codec.push_separator(stream)
        self._state = stream if keep else None
        header = codec.make_header(raw, len(tokens), seq=self.seq, depth=depth)
        result = EncodeResult(fmt.pack(header, payload), len(raw), len(tokens), model_bits,
                              time.perf_counter() - start, 8 * fmt.header_bytes(header),
                              seq=self.seq, depth=depth)
        self.seq = (self.seq + 1) % fmt.SEQ_MODULO
        return result


class ConversationDecoder:
    def __init__(self, codec: LMCodec):
        if codec.version != fmt.COMPACT_VERSION:
            raise ValueError("conversation decoding needs the compact format (as the encoder)")
        self.codec = codec
        self._last = None  # (seq, depth) of the last message decoded with a kept state
        self._state = None
        self._decoded = set()  # seqs decoded correctly since the last keyframe (for reports)

    def _have_history(self, seq: int, depth: int) -> bool:
        if depth == 0:
            return True
        return self._state is not None and self._last == ((seq - 1) % fmt.SEQ_MODULO, depth - 1)

    def decode(self, message: bytes, progress=None) -> DecodeResult:
        """Decode the next message of the conversation. Header problems raise
        MessageFormatError; missing history gives context_missing=True, no text."""
        start = time.perf_counter()
        codec = self.codec
        header, payload = codec.check_header(message)
        if not header.history:
            self._state = None
            return codec.decode(message, progress)
        seq, depth = header.seq, header.depth
        if depth == 0:
            self._decoded = set()
        if not self._have_history(seq, depth):
            self._state, self._last = None, None
            needed = [(seq - k) % fmt.SEQ_MODULO for k in range(depth, 0, -1)]
            missing = [s for s in needed if s not in self._decoded] or needed
            return DecodeResult(None, False, 0, time.perf_counter() - start, error=(
                f"context missing: message {seq} was coded after messages {needed}; this "
                f"receiver lacks {missing}"), context_missing=True, seq=seq)
        stream = codec.primed_stream() if depth == 0 else self._state
        self._state = None
        tokens, model_bits = codec.decode_tokens(stream, payload, header.tokens, push_last=True,
                                                 progress=progress)
        result = codec.finish_decode(header, tokens, model_bits, start)
        if result.crc_ok:
            codec.push_separator(stream)
            self._state, self._last = stream, (seq, depth)
            self._decoded.add(seq)
        else:
            self._last = None
        return result
