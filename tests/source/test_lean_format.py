# SPDX-License-Identifier: GPL-3.0-or-later
"""Format version 3 (lean): header fields inside the range-coded stream, texts
ended by a model-coded line break; stand-alone and in conversations (tiny model)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gnuradio import lmsscc
from gnuradio.lmsscc.source import (ConversationDecoder, ConversationEncoder, FingerprintMismatch,
                                    LMCodec, MessageFormatError, load_context)
from gnuradio.lmsscc.source import message

from testutil import SENTENCES

MULTILINE = "first line\nsecond line"


@pytest.fixture(scope="module")
def lean(tiny_lm):
    return LMCodec(tiny_lm, context=load_context("europarl"), header_format="lean")


def fields(codec, coded):
    return message.read_lean_header(lmsscc.RangeDecoder(coded, codec.precision), codec.precision)


@pytest.mark.parametrize("context", [None, "europarl"])
def test_single_messages_round_trip(tiny_lm, context):
    codec = LMCodec(tiny_lm, context=load_context(context or "none"), header_format="lean")
    for text in [*SENTENCES, MULTILINE]:
        r = codec.encode(text)
        assert r.message[0] >> 4 == message.LEAN_VERSION  # same place as versions 1 and 2
        h = fields(codec, r.message)
        assert h.kind == message.KIND_SINGLE and h.fingerprint == codec.fingerprint
        # Terminated: version 4 + kind 2 + fingerprint 8 + CRC 16 bits.
        assert r.header_bits == h.bits == (30 if h.tokens is None else 30 + 2 + 5 + (h.tokens + 1).bit_length() - 1)
        assert (h.tokens is not None) == ("\n" in text)  # the line break is the terminator
        d = codec.decode(r.message)
        assert d.crc_ok and d.text == text and d.tokens == r.tokens


def test_header_is_cheaper_than_compact(tiny_lm, lean):
    compact = LMCodec(tiny_lm, context=load_context("europarl"))
    assert lean.encode(SENTENCES[0]).header_bits < compact.encode(SENTENCES[0]).header_bits - 8


@given(kind=st.sampled_from([message.KIND_SINGLE, message.KIND_KEYFRAME, message.KIND_CONTINUATION]),
       fp=st.integers(0, 255), seq=st.integers(0, 15), crc=st.integers(0, 0xFFFF),
       tokens=st.one_of(st.none(), st.integers(0, message.MAX_TOKENS)), precision=st.integers(1, 31))
def test_lean_header_fields_round_trip_at_exact_cost(kind, fp, seq, crc, tokens, precision):
    header = message.LeanHeader(kind, crc, bytes([fp]) if kind != message.KIND_CONTINUATION else b"",
                            seq if kind != message.KIND_SINGLE else 0, tokens)
    enc = lmsscc.RangeEncoder(precision)
    message.write_lean_header(enc, precision, header)
    blob = enc.finish()
    assert blob[0] >> 4 == message.LEAN_VERSION
    assert len(blob) <= (header.bits + 7) // 8 + 1  # uniform fields cost their bits, no more
    assert message.read_lean_header(lmsscc.RangeDecoder(blob, precision), precision) == header


def test_formats_are_told_apart(tiny_lm, lean):
    compact = LMCodec(tiny_lm, context=load_context("europarl"))
    with pytest.raises(MessageFormatError, match="version 3.*set up for version 2"):
        compact.decode(lean.encode("x").message)
    with pytest.raises(MessageFormatError, match="version 2.*set up for version 3"):
        lean.decode(compact.encode("x").message)
    with pytest.raises(ValueError, match="CRC-16"):
        LMCodec(tiny_lm, header_format="lean", crc_bits=32)


def test_wrong_context_refused_by_name(tiny_lm, lean):
    news = LMCodec(tiny_lm, context=load_context("news"), header_format="lean")
    with pytest.raises(FingerprintMismatch, match="built-in context 'europarl'"):
        news.decode(lean.encode("primed").message)
    with pytest.raises(FingerprintMismatch, match="without a priming context"):
        lean.decode(LMCodec(tiny_lm, header_format="lean").encode("plain").message)


def conversation(codec, texts, period):
    enc = ConversationEncoder(codec, keyframe_period=period)
    return [enc.encode(t) for t in texts]


def test_conversation_round_trip_kinds_and_wrap(lean):
    texts = [*SENTENCES, MULTILINE] * 3  # 24 messages: sequence numbers wrap at 16
    results = conversation(lean, texts, period=4)
    dec = ConversationDecoder(lean)
    for i, (r, text) in enumerate(zip(results, texts)):
        h = fields(lean, r.message)
        assert h.seq == i % 16 == r.seq
        assert h.kind == (message.KIND_KEYFRAME if i % 4 == 0 else message.KIND_CONTINUATION)
        assert (h.fingerprint == lean.fingerprint) == (i % 4 == 0)
        d = dec.decode(r.message)
        assert d.crc_ok and d.text == text and d.seq == i % 16
    # A continuation carries no fingerprint: 4 + 2 + 4 + 16 bits when terminated.
    assert min(r.header_bits for r in results) == 26


def test_lost_message_reported_and_recovery_at_keyframe(lean):
    results = conversation(lean, SENTENCES, period=4)
    dec = ConversationDecoder(lean)
    outcomes = {i: dec.decode(r.message) for i, r in enumerate(results) if i != 1}
    for i in (2, 3):  # coded after message 1, which was lost
        d = outcomes[i]
        assert d.context_missing and d.text is None
        assert f"coded after message {i - 1}" in d.error and f"did not decode {i - 1}" in d.error
    for i in (0, 4, 5, 6):
        assert outcomes[i].crc_ok and outcomes[i].text == SENTENCES[i]


def test_sequence_aliasing_is_caught_by_the_crc(lean):
    """16 lost messages make a continuation look like the next one of an old
    chain: it is decoded against the wrong history and the CRC refuses it."""
    texts = [f"Message number {i} of the session." for i in range(20)]
    results = conversation(lean, texts, period=16)
    dec = ConversationDecoder(lean)
    for r in results[:3]:
        assert dec.decode(r.message).crc_ok
    d = dec.decode(results[19].message)  # seq 3 again, after messages 3..18 were lost
    assert not d.crc_ok and d.text is None and not d.context_missing


@pytest.mark.parametrize("header_format", ["compact", "lean"])
def test_conversation_decoder_takes_stand_alone_messages(tiny_lm, header_format):
    codec = LMCodec(tiny_lm, context=load_context("europarl"), header_format=header_format)
    dec = ConversationDecoder(codec)
    d = dec.decode(codec.encode(SENTENCES[0]).message)
    assert d.crc_ok and d.text == SENTENCES[0] and d.seq is None


def test_lean_period_must_divide_sixteen(lean):
    for period in (3, 12, 32):
        with pytest.raises(ValueError, match="keyframe_period"):
            ConversationEncoder(lean, keyframe_period=period)


def test_every_bit_flip_is_refused_flagged_or_absorbed(tiny_lm):
    """Single-bit errors anywhere (the header is inside the coded stream):
    refused, or decoded within bounds and flagged; never wrong text."""
    codec = LMCodec(tiny_lm, header_format="lean")
    text = SENTENCES[0]
    msg = codec.encode(text).message
    outcomes = []
    for bit in range(8 * len(msg)):
        damaged = bytearray(msg)
        damaged[bit // 8] ^= 0x80 >> (bit % 8)
        try:
            d = codec.decode(bytes(damaged))
        except MessageFormatError:
            outcomes.append("refused")
            continue
        assert d.text in (None, text)
        outcomes.append("absorbed" if d.crc_ok else "flagged")
    assert outcomes.count("refused") >= 4 + 2 + 8 - 1  # version, kind, fingerprint bits
    assert outcomes.count("flagged") > len(outcomes) // 2


def test_garbage_stops_within_the_bit_budget(tiny_lm):
    """Random bytes behind a valid lean prefix cannot make the decoder run to
    max_tokens: the tokens' cost passes the message's bits first."""
    codec = LMCodec(tiny_lm, header_format="lean", max_tokens=16384)
    prefix = codec.encode("").message[:3]
    rng = np.random.default_rng(5)
    budget_stops = 0
    for _ in range(20):
        garbage = prefix + rng.integers(0, 256, 12, dtype=np.uint8).tobytes()
        try:
            d = codec.decode(garbage)
        except MessageFormatError:
            continue
        assert d.text in (None, "")
        # >= 1 bit a token for this model: the budget is 8 * 15 + 64 bits.
        assert d.tokens <= 8 * len(garbage) + 64
        budget_stops += "more than the message holds" in (d.error or "")
    assert budget_stops >= 10  # without the budget these would run on towards max_tokens
