# SPDX-License-Identifier: GPL-3.0-or-later
"""LM codec and message format with the tiny random model."""

import zlib

import pytest

from gnuradio.lmsscc.source import FingerprintMismatch, LMCodec, MessageFormatError, NumericSettings
from gnuradio.lmsscc.source import message
from gnuradio.lmsscc.source.tiny import tiny_model

TEXTS = [
    "",
    "a",
    "Hello, world.",
    "Ça va? Üben, naïve façade, 你好世界, こんにちは, 🚀🎉👩‍🚀",
    "tabs\tand\nnewlines\r\n  trailing spaces   ",
    "<|endoftext|> is a special token string",
    "x" * 500,
]


@pytest.fixture(scope="module")
def codec(tiny_lm):
    return LMCodec(tiny_lm)


@pytest.mark.parametrize("text", TEXTS)
def test_round_trip(codec, text):
    r = codec.encode(text)
    d = codec.decode(r.message)
    assert d.crc_ok and d.text == text
    assert d.tokens == r.tokens
    assert abs(d.model_bits - r.model_bits) < 1e-6


def test_bytes_input_and_non_utf8_refused(codec):
    assert codec.decode(codec.encode("héllo".encode()).message).text == "héllo"
    with pytest.raises(ValueError, match="not valid UTF-8"):
        codec.encode(b"\xff\xfe bad bytes")


def test_coding_overhead_is_small(codec):
    r = codec.encode("The quick brown fox jumps over the lazy dog. " * 20)
    # payload vs ideal code length: at most 0.1 % + 64 bits (range coder flush
    # plus quantisation); the header is counted separately.
    assert r.payload_bits - r.model_bits <= 0.001 * r.model_bits + 64
    assert r.header_bits == 8 * (1 + 3 + 2 + 4)


def test_header_fields(codec):
    text = "header check"
    r = codec.encode(text)
    header, payload = message.unpack(r.message)
    assert header.version == message.VERSION
    assert header.tokens == r.tokens
    assert header.crc == zlib.crc32(text.encode())
    assert header.fingerprint == codec.fingerprint


def test_fingerprint_refuses_other_model_precision_and_threads(codec, tiny_lm):
    coded = codec.encode("fingerprint test").message
    other_weights = LMCodec(tiny_model(seed=1))
    other_precision = LMCodec(tiny_lm, precision=20)
    other_threads = LMCodec(tiny_model(seed=0, settings=NumericSettings(threads=2)))
    for other in (other_weights, other_precision, other_threads):
        with pytest.raises(FingerprintMismatch, match="use the sender's model"):
            other.decode(coded)
    # Same weights rebuilt from scratch: accepted.
    assert LMCodec(tiny_model(seed=0)).decode(coded).text == "fingerprint test"


def test_corrupted_payload_is_flagged_never_returned(codec):
    r = codec.encode("A message that will be damaged on the way to the receiver.")
    header_len = message.header_bytes(message.unpack(r.message)[0])
    flagged = 0
    for pos in range(header_len, len(r.message)):
        damaged = bytearray(r.message)
        damaged[pos] ^= 0x10
        d = codec.decode(bytes(damaged))
        assert d.text is None or d.text == "A message that will be damaged on the way to the receiver."
        flagged += not d.crc_ok
    assert flagged >= (len(r.message) - header_len) - 1


def test_bad_headers(codec):
    good = codec.encode("abc").message
    with pytest.raises(MessageFormatError, match="shorter"):
        codec.decode(good[:3])
    with pytest.raises(MessageFormatError, match="version"):
        codec.decode(bytes([0x30]) + good[1:])
    with pytest.raises(MessageFormatError, match="flags"):
        codec.decode(bytes([0x11]) + good[1:])
    huge = message.pack(message.Header(codec.fingerprint, codec.max_tokens + 1, 0), b"")
    with pytest.raises(MessageFormatError, match="limit"):
        codec.decode(huge)


def test_too_many_tokens_refused_at_encode(tiny_lm):
    small = LMCodec(tiny_lm, max_tokens=5)
    with pytest.raises(ValueError, match="exceeds"):
        small.encode("this text has more than five tokens for sure, many more")


def test_encode_and_decode_repeatable(codec):
    text = "Repeatable runs give identical bits."
    assert codec.encode(text).message == codec.encode(text).message
