# SPDX-License-Identifier: GPL-3.0-or-later
"""Conversation context: message n is coded after earlier messages of the same
session, which both ends have (the encoder sent them, the decoder decoded them).

Policy (docs/context_coding.md): messages are numbered; every
`keyframe_period`-th message (seq % period == 0) is coded without history
(only the priming context); message n otherwise sees every message since the
last keyframe, depth = n % period. The header carries seq and depth (format
version 2), or seq and whether it is a keyframe (version 3: a continuation
was coded after seq-1 and, through it, everything back to the keyframe), so
the receiver knows exactly which messages it needs. If one is missing or failed,
the receiver reports "context missing" for n (never garbage) and, since n is
then missing too, for the rest of that group: a loss costs at most
period - 1 further messages. Growing the history up to the keyframe (rather
than a sliding window) lets both ends keep the model state after each message
instead of recomputing the history: one extra step per message.
"""

from __future__ import annotations

import time

from . import message
from .codec import DecodeResult, EncodeResult, LMCodec

DEFAULT_KEYFRAME_PERIOD = 8
_HISTORY_VERSIONS = (message.COMPACT_VERSION, message.LEAN_VERSION)


def _seq_modulo(codec: LMCodec) -> int:
    if codec.version not in _HISTORY_VERSIONS:
        raise ValueError("conversation coding needs the compact or lean format: "
                         "LMCodec(..., header_format=\"compact\" or \"lean\") or a priming context")
    return message.SEQ_MODULO if codec.version == message.COMPACT_VERSION else message.LEAN_SEQ_MODULO


def _check_period(period: int, modulo: int) -> int:
    if not 1 <= period <= message.MAX_DEPTH + 1:
        raise ValueError(f"keyframe_period must be in [1, {message.MAX_DEPTH + 1}]")
    if modulo % period:
        raise ValueError(f"keyframe_period must divide {modulo} (sequence numbers wrap)")
    return period


class ConversationEncoder:
    def __init__(self, codec: LMCodec, keyframe_period: int = DEFAULT_KEYFRAME_PERIOD, first_seq: int = 0):
        self.codec = codec
        self.modulo = _seq_modulo(codec)
        self.period = _check_period(keyframe_period, self.modulo)
        self.seq = first_seq % self.modulo
        self._state = None  # stream after the previous message and a separator

    def encode(self, data, progress=None) -> EncodeResult:
        start = time.perf_counter()
        codec = self.codec
        text, raw, tokens = codec.tokenize_checked(data)
        depth = self.seq % self.period
        stream = codec.primed_stream() if depth == 0 else self._state
        keep = (self.seq + 1) % self.period != 0  # the next message builds on this one
        coded, model_bits, header_bits = codec.code_message(
            stream, raw, tokens, seq=self.seq, depth=depth, keep=keep, progress=progress)
        self._state = stream if keep else None
        result = EncodeResult(coded, len(raw), len(tokens), model_bits,
                              time.perf_counter() - start, header_bits, seq=self.seq, depth=depth)
        self.seq = (self.seq + 1) % self.modulo
        return result


class ConversationDecoder:
    def __init__(self, codec: LMCodec):
        self.codec = codec
        self.modulo = _seq_modulo(codec)
        self._last = None  # seq of the last message decoded with a kept state
        self._state = None
        self._decoded = set()  # seqs decoded correctly since the last keyframe (for reports)

    @staticmethod
    def _depth(header):
        """Messages this one was coded after: exact in version 2; in version 3 a
        continuation says only "after seq-1 and its history" (None)."""
        if header.version == message.LEAN_VERSION:
            return 0 if header.kind == message.KIND_KEYFRAME else None
        return header.depth

    def _have_history(self, seq: int, depth) -> bool:
        # State kept after message seq-1 holds exactly that message's history
        # plus the message itself: all a message coded after seq-1 needs.
        return depth == 0 or (self._state is not None and self._last == (seq - 1) % self.modulo)

    def _missing(self, seq: int, depth) -> str:
        previous = (seq - 1) % self.modulo
        if depth is None:
            return (f"context missing: message {seq} was coded after message {previous} and every "
                    f"message back to their keyframe; this receiver did not decode {previous}")
        needed = [(seq - k) % self.modulo for k in range(depth, 0, -1)]
        missing = [s for s in needed if s not in self._decoded] or needed
        return (f"context missing: message {seq} was coded after messages {needed}; this "
                f"receiver lacks {missing}")

    def decode(self, coded: bytes, progress=None) -> DecodeResult:
        """Decode the next message of the conversation. Header problems raise
        MessageFormatError; missing history gives context_missing=True, no text."""
        start = time.perf_counter()
        codec = self.codec
        header, decoder = codec.check_header(coded)
        if not header.history:  # a stand-alone message: decode it with the header just read
            self._state = None
            return codec.decode_message(codec.message_stream(), header, decoder, len(coded),
                                        progress=progress, start=start)
        seq, depth = header.seq, self._depth(header)
        if depth == 0:
            self._decoded = set()
        if not self._have_history(seq, depth):
            error = self._missing(seq, depth)
            self._state, self._last = None, None
            return DecodeResult(None, False, 0, time.perf_counter() - start, error=error,
                                context_missing=True, seq=seq)
        stream = codec.primed_stream() if depth == 0 else self._state
        self._state = None
        result = codec.decode_message(stream, header, decoder, len(coded), keep=True,
                                      progress=progress, start=start)
        if result.crc_ok:
            self._state, self._last = stream, seq
            self._decoded.add(seq)
        else:
            self._last = None
        return result
