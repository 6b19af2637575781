# SPDX-License-Identifier: GPL-3.0-or-later
"""Priming contexts, the compact format and conversation history (tiny model)."""

import pytest

from gnuradio.lmsscc.source import (ConversationDecoder, ConversationEncoder, FingerprintMismatch,
                                    LMCodec, MessageFormatError, PrimingContext, load_context)
from gnuradio.lmsscc.source import message
from testutil import SENTENCES



@pytest.fixture(scope="module")
def primed(tiny_lm):
    return LMCodec(tiny_lm, context=load_context("europarl"))


def test_builtin_and_file_contexts(tmp_path):
    ctx = load_context("europarl")
    assert "Parliament" in ctx.text and len(ctx.digest) == 16
    f = tmp_path / "mine.txt"
    f.write_text("A context of my own.\n", encoding="utf-8")
    assert load_context(str(f)).text == "A context of my own.\n"
    assert load_context("none") is None
    with pytest.raises(ValueError, match="unknown priming context"):
        load_context("no-such-context")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe")
    with pytest.raises(ValueError, match="not UTF-8"):
        load_context(str(bad))


def test_primed_round_trip_and_compact_header(primed):
    for text in SENTENCES:
        r = primed.encode(text)
        header, _ = message.unpack(r.message)
        assert header.version == message.COMPACT_VERSION and header.primed and header.crc_bits == 16
        assert r.header_bits == 8 * (1 + 1 + 1 + 2)
        assert primed.decode(r.message).text == text


def test_priming_changes_the_bits(tiny_lm, primed):
    plain = LMCodec(tiny_lm, header_format="compact")
    text = SENTENCES[0]
    assert plain.encode(text).message != primed.encode(text).message
    assert plain.decode(plain.encode(text).message).text == text


def test_wrong_or_missing_context_refused_clearly(tiny_lm, primed):
    coded = primed.encode("primed message").message
    news = LMCodec(tiny_lm, context=load_context("news"))
    with pytest.raises(FingerprintMismatch, match="built-in context 'europarl'"):
        news.decode(coded)
    with pytest.raises(FingerprintMismatch, match="built-in context 'europarl'"):
        LMCodec(tiny_lm, header_format="compact").decode(coded)
    private = LMCodec(tiny_lm, context=PrimingContext("private", "Secret shared text."))
    with pytest.raises(FingerprintMismatch, match="does not have"):
        news.decode(private.encode("x").message)
    with pytest.raises(MessageFormatError, match="version"):
        LMCodec(tiny_lm).decode(coded)  # a stand-alone (version 1) decoder


def conversation_messages(codec, period=4):
    enc = ConversationEncoder(codec, keyframe_period=period)
    return [enc.encode(t) for t in SENTENCES]


def test_conversation_round_trip_and_header(primed):
    results = conversation_messages(primed)
    assert [r.seq for r in results] == list(range(len(SENTENCES)))
    assert [r.depth for r in results] == [0, 1, 2, 3, 0, 1, 2]
    dec = ConversationDecoder(primed)
    for r, text in zip(results, SENTENCES):
        header, _ = message.unpack(r.message)
        assert header.history and header.seq == r.seq and header.depth == r.depth
        d = dec.decode(r.message)
        assert d.crc_ok and d.text == text and d.seq == r.seq


def test_history_changes_the_coding(primed):
    alone = primed.encode(SENTENCES[1]).message
    in_conversation = conversation_messages(primed)[1].message
    assert message.unpack(alone)[1] != message.unpack(in_conversation)[1]


def test_lost_message_reported_and_recovery_at_keyframe(primed):
    results = conversation_messages(primed, period=4)
    dec = ConversationDecoder(primed)
    outcomes = []
    for i, r in enumerate(results):
        if i == 1:
            continue  # lost on the air
        outcomes.append((i, dec.decode(r.message)))
    for i, d in outcomes:
        if i in (2, 3):  # depended on message 1
            assert d.context_missing and d.text is None and "context missing" in d.error
            assert d.error.endswith("lacks [1]" if i == 2 else "lacks [1, 2]")
        else:
            assert d.crc_ok and d.text == SENTENCES[i]


def test_corrupted_message_breaks_chain_until_keyframe(primed):
    results = conversation_messages(primed, period=4)
    dec = ConversationDecoder(primed)
    damaged = bytearray(results[2].message)
    damaged[-1] ^= 0x0F
    assert dec.decode(results[0].message).crc_ok
    assert dec.decode(results[1].message).crc_ok
    d2 = dec.decode(bytes(damaged))
    assert not d2.crc_ok and d2.text is None
    assert dec.decode(results[3].message).context_missing
    assert dec.decode(results[4].message).text == SENTENCES[4]


def test_conversation_needs_its_decoder(primed):
    r = conversation_messages(primed)[1]
    with pytest.raises(MessageFormatError, match="ConversationDecoder"):
        primed.decode(r.message)
    with pytest.raises(ValueError, match="compact"):
        ConversationEncoder(LMCodec(primed.lm))
    with pytest.raises(ValueError, match="keyframe_period"):
        ConversationEncoder(primed, keyframe_period=17)
