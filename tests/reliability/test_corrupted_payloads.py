# SPDX-License-Identifier: GPL-3.0-or-later
"""Corrupted LM messages: random bits into the LM decoder. Decoding ends after
exactly the header's token count (never above the decoder's max_tokens), the
CRC flags the damage, and no partial text is passed on."""

import numpy as np
import pmt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gnuradio.lmsscc.pdu_util import make_pdu
from gnuradio.lmsscc.source import LMCodec, MessageFormatError
from gnuradio.lmsscc.source import message as message_format
from gnuradio.lmsscc.source.blocks import lm_arith_decoder

from flowgraph_util import pdu_meta, run_message_chain

MAX_TOKENS = 48
TEXTS = ["A short one.", "Numbers 12345 and ünïcødé, mixed.",
         "the quick brown fox jumps over the lazy dog"]


@pytest.fixture(scope="module")
def codec(tiny_lm):
    return LMCodec(tiny_lm, max_tokens=MAX_TOKENS)


@pytest.fixture(scope="module")
def messages(codec):
    return {t: codec.encode(t).message for t in TEXTS}


def check_outcome(codec, damaged, original_text):
    """Either the header is refused, or decoding stops at the header's token
    count and gives the original text with crc_ok or no text at all."""
    try:
        header, _ = codec.check_header(damaged)
    except MessageFormatError:
        return "refused"
    result = codec.decode(damaged)
    assert result.tokens == header.tokens <= MAX_TOKENS
    if result.crc_ok:
        assert result.text == original_text  # a flip the range coder absorbs
        return "absorbed"
    assert result.text is None and result.data == b"" and result.error
    return "flagged"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(which=st.integers(0, len(TEXTS) - 1), data=st.data())
def test_payload_bit_flips_are_flagged(codec, messages, which, data):
    text = TEXTS[which]
    msg = bytearray(messages[text])
    header_len = message_format.header_bytes(message_format.unpack(bytes(msg))[0])
    positions = data.draw(st.lists(st.integers(header_len * 8, len(msg) * 8 - 1), min_size=1,
                                   max_size=8, unique=True))
    for bit in positions:
        msg[bit // 8] ^= 0x80 >> (bit % 8)
    assert check_outcome(codec, bytes(msg), text) in ("absorbed", "flagged")


def test_random_payloads_under_valid_headers_all_flagged(codec):
    """120 random payloads behind headers with random token counts: the CRC-32
    must flag every one (a false accept has probability ~2^-32 per message)."""
    rng = np.random.default_rng(7)
    outcomes = []
    for _ in range(120):
        tokens = int(rng.integers(0, MAX_TOKENS + 1))
        header = message_format.Header(codec.fingerprint, tokens, int(rng.integers(0, 2**32)))
        payload = rng.integers(0, 256, int(rng.integers(0, 40)), dtype=np.uint8).tobytes()
        outcomes.append(check_outcome(codec, message_format.pack(header, payload), None))
    empty_ok = outcomes.count("absorbed")  # tokens == 0 and crc == crc32(b"") only
    assert empty_ok == 0 and outcomes.count("flagged") == 120


def test_header_bit_flips_refused_or_bounded(codec, messages):
    """Every single-bit error in the header: refused (version, flags,
    fingerprint, token count above max_tokens) or decoded within the bound
    and flagged by the CRC."""
    text = TEXTS[1]
    msg = messages[text]
    header_len = message_format.header_bytes(message_format.unpack(msg)[0])
    outcomes = []
    for bit in range(header_len * 8):
        damaged = bytearray(msg)
        damaged[bit // 8] ^= 0x80 >> (bit % 8)
        outcomes.append(check_outcome(codec, bytes(damaged), text))
    assert "absorbed" not in outcomes  # the CRC field or token count changed: never valid
    # version/flags/fingerprint
    assert outcomes.count("refused") >= 8 * (1 + message_format.FINGERPRINT_BYTES)


def test_token_count_above_limit_refused_before_any_model_step(tiny_lm, codec):
    calls = []
    original = tiny_lm.stream

    class CountingLM:
        def __getattr__(self, name):
            return getattr(tiny_lm, name)

        def stream(self):
            calls.append(1)
            return original()

    guarded = LMCodec(CountingLM(), max_tokens=MAX_TOKENS)
    header = message_format.Header(guarded.fingerprint, message_format.MAX_TOKENS, 0)
    with pytest.raises(MessageFormatError, match="above this decoder's limit"):
        guarded.decode(message_format.pack(header, b"\x12\x34"))
    assert calls == []


def test_decoder_block_passes_no_partial_text(tiny_lm, messages):
    """Through lm_arith_decoder in a flowgraph: every damaged message comes out
    crc_ok=False with an empty payload, the good one after them intact."""
    rng = np.random.default_rng(3)
    damaged = []
    for text, msg in messages.items():
        m = bytearray(msg)
        header_len = message_format.header_bytes(message_format.unpack(msg)[0])
        m[header_len:] = rng.integers(0, 256, len(m) - header_len, dtype=np.uint8).tobytes()
        damaged.append(make_pdu({"i": len(damaged)}, m, "u8"))
    good = make_pdu({"i": 99}, bytearray(messages[TEXTS[0]]), "u8")
    dec = lm_arith_decoder(model=tiny_lm, max_tokens=MAX_TOKENS)
    out = run_message_chain([dec], [*damaged, good], len(damaged) + 1)
    assert len(out) == len(damaged) + 1
    for msg in out[:-1]:
        assert pdu_meta(msg)["crc_ok"] is False and pmt.length(pmt.cdr(msg)) == 0
    assert bytes(pmt.u8vector_elements(pmt.cdr(out[-1]))) == TEXTS[0].encode()
    assert dec.stats()["failure_reasons"] == {"CRC failed": len(damaged)}
