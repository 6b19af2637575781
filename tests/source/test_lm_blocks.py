# SPDX-License-Identifier: GPL-3.0-or-later
"""lm_arith_encoder / lm_arith_decoder in a running flowgraph (tiny model)."""

import pmt
import pytest

from gnuradio import lmsscc
from gnuradio.lmsscc.pdu_util import make_pdu

from flowgraph_util import pdu_meta, pdu_text, run_message_chain

TEXTS = ["First message.", "Zweite Nachricht: grüße 👋", "", "x"]


def text_pdu(text, **meta):
    return make_pdu(meta, bytearray(text.encode("utf-8")), "u8")


def test_encoder_decoder_flowgraph_round_trip(tiny_lm):
    enc = lmsscc.lm_arith_encoder(model=tiny_lm)
    dec = lmsscc.lm_arith_decoder(model=tiny_lm)
    out = run_message_chain([enc, dec], [text_pdu(t, seq=i) for i, t in enumerate(TEXTS)], len(TEXTS))
    assert [pdu_text(m) for m in out] == TEXTS
    for i, m in enumerate(out):
        meta = pdu_meta(m)
        assert meta["crc_ok"] is True
        assert meta["seq"] == i  # upstream metadata is kept
        for key in ("input_bytes", "coded_bits", "model_bits", "tokens", "seconds"):
            assert key in meta
    assert enc.stats()["pdus_out"] == len(TEXTS) and dec.stats()["dropped"] == 0


def test_encoder_metadata(tiny_lm):
    enc = lmsscc.lm_arith_encoder(model=tiny_lm)
    (out,) = run_message_chain([enc], [text_pdu("metadata please")], 1)
    meta = pdu_meta(out)
    assert meta["input_bytes"] == len("metadata please")
    assert meta["coded_bits"] == 8 * len(pmt.u8vector_elements(pmt.cdr(out)))
    assert meta["model_bits"] > 0 and meta["tokens"] > 0


def test_malformed_pdus_dropped_and_flowgraph_keeps_running(tiny_lm):
    enc = lmsscc.lm_arith_encoder(model=tiny_lm)
    dec = lmsscc.lm_arith_decoder(model=tiny_lm)
    bad_for_encoder = [
        pmt.intern("not a pdu"),
        pmt.cons(pmt.make_dict(), pmt.init_f32vector(2, [1.0, 2.0])),
        pmt.cons(pmt.intern("meta?"), pmt.init_u8vector(1, [65])),
        make_pdu({}, bytearray(b"\xff\xfe not utf-8"), "u8"),
    ]
    out = run_message_chain([enc, dec], bad_for_encoder + [text_pdu("still alive")], 1)
    assert [pdu_text(m) for m in out] == ["still alive"]
    assert enc.stats()["dropped"] == len(bad_for_encoder)


def test_decoder_drops_garbage_and_flags_corruption(tiny_lm):
    enc = lmsscc.lm_arith_encoder(model=tiny_lm)
    (coded,) = run_message_chain([enc], [text_pdu("a message to corrupt in transit")], 1)
    data = bytearray(pmt.u8vector_elements(pmt.cdr(coded)))
    corrupted = bytearray(data)
    corrupted[-2] ^= 0xFF
    dec = lmsscc.lm_arith_decoder(model=tiny_lm)
    inputs = [
        make_pdu({}, bytearray(b"\x01\x02"), "u8"),  # too short: dropped
        make_pdu({}, bytearray([0x10, 1, 2, 3]) + data[4:], "u8"),  # wrong fingerprint: dropped
        make_pdu({}, corrupted, "u8"),  # CRC failure: flagged, no text
        make_pdu({}, data, "u8"),
    ]
    out = run_message_chain([dec], inputs, 2)
    metas = [pdu_meta(m) for m in out]
    assert [m["crc_ok"] for m in metas] == [False, True]
    assert pmt.length(pmt.cdr(out[0])) == 0 and "CRC" in metas[0]["error"]
    assert pdu_text(out[1]) == "a message to corrupt in transit"
    assert dec.stats()["dropped"] == 2 and dec.stats()["failure_reasons"] == {"CRC failed": 1}


@pytest.mark.parametrize("header_format", ["standard", "lean"])
def test_conversation_mode_blocks_report_missing_context(tiny_lm, header_format):
    texts = ["one", "two", "three", "four", "five"]
    enc = lmsscc.lm_arith_encoder(model=tiny_lm, priming="radio", conversation=True, keyframe_period=4,
                                  header_format=header_format)
    coded = run_message_chain([enc], [text_pdu(t) for t in texts], len(texts))
    assert [pdu_meta(m)["seq"] for m in coded] == [0, 1, 2, 3, 4]
    assert all(pmt.u8vector_ref(pmt.cdr(m), 0) >> 4 == (3 if header_format == "lean" else 2)
               for m in coded)
    dec = lmsscc.lm_arith_decoder(model=tiny_lm, priming="radio", conversation=True,
                                  header_format=header_format)
    survivors = [m for i, m in enumerate(coded) if i != 2]  # message 2 lost
    out = run_message_chain([dec], survivors, len(survivors))
    metas = [pdu_meta(m) for m in out]
    assert [m["seq"] for m in metas] == [0, 1, 3, 4]
    assert [m.get("context_missing", False) for m in metas] == [False, False, True, False]
    assert [pdu_text(m) for m in out] == ["one", "two", "", "five"]
    assert dec.stats()["failure_reasons"] == {"context missing": 1}


def test_lean_blocks_round_trip_and_refuse_unknown_format(tiny_lm):
    enc = lmsscc.lm_arith_encoder(model=tiny_lm, header_format="lean")
    dec = lmsscc.lm_arith_decoder(model=tiny_lm, header_format="lean")
    out = run_message_chain([enc, dec], [text_pdu(t) for t in TEXTS], len(TEXTS))
    assert [pdu_text(m) for m in out] == TEXTS
    with pytest.raises(ValueError, match="header_format"):
        lmsscc.lm_arith_encoder(model=tiny_lm, header_format="tiny")
