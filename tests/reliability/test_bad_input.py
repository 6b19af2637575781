# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad input at every block: each bad PDU is dropped, counted in stats(),
logged once per kind; the flowgraph keeps running and the next good message
(with unknown metadata, which must ride along) still gets through."""

import time

import numpy as np
import pmt
import pytest
from gnuradio import blocks, gr

from gnuradio.lmsscc.fec import blocks as fec_blocks
from gnuradio.lmsscc.pdu_util import PDU_PORT, make_pdu
from gnuradio.lmsscc.phy import blocks as phy_blocks
from gnuradio.lmsscc.source import blocks as source_blocks
from gnuradio.lmsscc.source import make_codec

UNKNOWN_META = {"zz_unknown_key": "kept", "nested_unknown": 17}


class LogRecorder:
    """Stands in for a block's logger: records every line."""

    def __init__(self):
        self.lines = []

    def _record(self, message):
        self.lines.append(str(message))

    warn = error = info = debug = _record


def u8(data, meta=None):
    return make_pdu(meta or {}, bytearray(data), "u8")


def raw_pdu(vector, meta=None):
    return pmt.cons(pmt.make_dict() if meta is None else meta, vector)


def common_bad(limit, kind_ok):
    """Bad PDUs every PDU block must refuse; `kind_ok` the payload type it wants."""
    wrong = pmt.init_f32vector(3, [1, 2, 3]) if kind_ok != "f32" else pmt.init_u8vector(3, [1, 0, 1])
    make = {"u8": pmt.make_u8vector, "f32": pmt.make_f32vector, "c32": pmt.make_c32vector}[kind_ok]
    return {
        "not a pdu": pmt.intern("just a symbol"),
        "wrong vector type": raw_pdu(wrong),
        "metadata not a dict": pmt.cons(pmt.from_long(7), pmt.init_u8vector(1, [1])),
        "payload not a vector": raw_pdu(pmt.intern("text")),
        "oversized": raw_pdu(make(limit + 1, 0)),
    }


def run_block(block, bad, good, expect_out=1, timeout=60.0):
    """Post every bad PDU twice, then the good one; return the outputs."""
    tb = gr.top_block()
    sink = blocks.message_debug()
    tb.msg_connect(block, "pdus", sink, "store")
    tb.start()
    try:
        for msg in [*bad.values(), *bad.values(), good]:
            block._post(PDU_PORT, msg)
        deadline = time.monotonic() + timeout
        while sink.num_messages() < expect_out and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)  # anything unexpected has time to arrive too
    finally:
        tb.stop()
        tb.wait()
    return [sink.get_message(i) for i in range(sink.num_messages())]


def check_drops(block, recorder, bad):
    stats = block.stats()
    assert stats["dropped"] == 2 * len(bad), stats
    assert sum(stats["drop_reasons"].values()) == 2 * len(bad)
    assert len(recorder.lines) == len(stats["drop_reasons"]), recorder.lines  # once per kind


def quiet(block):
    recorder = LogRecorder()
    block.drops.logger = recorder
    return recorder


def meta_of(msg):
    return pmt.to_python(pmt.car(msg))


# ---------------------------------------------------------------- LM blocks

def test_lm_arith_encoder(tiny_lm):
    enc = source_blocks.lm_arith_encoder(model=tiny_lm, max_tokens=64)
    rec = quiet(enc)
    bad = common_bad(source_blocks.MAX_PDU_BYTES, "u8")
    bad["not utf-8"] = u8(b"\xff\xfe\xfd")
    bad["too many tokens"] = u8(("word " * 200).encode())
    out = run_block(enc, bad, u8(b"good message", UNKNOWN_META))
    assert len(out) == 1 and meta_of(out[0])["zz_unknown_key"] == "kept"
    check_drops(enc, rec, bad)


def test_lm_arith_decoder(tiny_lm):
    codec = make_codec(tiny_lm, 24, 1, 64)
    good = codec.encode("the good one").message
    other = make_codec(tiny_lm, 20, 1, 64).encode("other precision").message
    dec = source_blocks.lm_arith_decoder(model=tiny_lm, max_tokens=64)
    rec = quiet(dec)
    bad = common_bad(source_blocks.MAX_PDU_BYTES, "u8")
    header_100_tokens = bytearray(good)
    header_100_tokens[4] = 100  # varint token count of a version-1 header, above max_tokens
    bad.update({
        "empty": u8(b""),
        "short header": u8(good[:5]),
        "unknown version": u8(bytes([0xF0]) + good[1:]),
        "token count over the limit": u8(header_100_tokens),
        "other fingerprint": u8(other),
    })
    out = run_block(dec, bad, u8(good, UNKNOWN_META))
    assert len(out) == 1
    assert bytes(pmt.u8vector_elements(pmt.cdr(out[0]))) == b"the good one"
    assert meta_of(out[0])["crc_ok"] is True and meta_of(out[0])["zz_unknown_key"] == "kept"
    check_drops(dec, rec, bad)


# ---------------------------------------------------------------- link blocks

@pytest.fixture(scope="module")
def good_burst(tiny_lm):
    tx = phy_blocks.link_tx(model=tiny_lm)
    samples = tx.tx.send("burst for the receiver").samples
    return np.concatenate([np.zeros(300), samples, np.zeros(300)]).astype(np.complex64)


def c32(samples, meta=None):
    return make_pdu(meta or {}, np.asarray(samples, dtype=np.complex64), "c32")


def non_finite_bursts(good_burst):
    nan, inf = good_burst.copy(), good_burst.copy()
    nan[500] = np.nan
    inf[700] = complex(np.inf, 0)
    return {"NaN sample": c32(nan), "Inf sample": c32(inf)}


def test_link_tx(tiny_lm):
    tx = phy_blocks.link_tx(model=tiny_lm)
    rec = quiet(tx)
    bad = common_bad(phy_blocks.MAX_TEXT_BYTES, "u8")
    bad["not utf-8"] = u8(b"\xc3\x28 broken")
    out = run_block(tx, bad, u8(b"good text", UNKNOWN_META))
    assert len(out) == 1 and pmt.is_c32vector(pmt.cdr(out[0]))
    assert meta_of(out[0])["zz_unknown_key"] == "kept"
    check_drops(tx, rec, bad)


def test_link_rx(tiny_lm, good_burst):
    rx = phy_blocks.link_rx(model=tiny_lm)
    rec = quiet(rx)
    bad = common_bad(phy_blocks.MAX_BURST_SAMPLES, "c32")
    bad.update(non_finite_bursts(good_burst))
    bad["empty"] = c32([])
    out = run_block(rx, bad, c32(good_burst, UNKNOWN_META))
    assert len(out) == 1
    assert bytes(pmt.u8vector_elements(pmt.cdr(out[0]))) == b"burst for the receiver"
    check_drops(rx, rec, bad)
    assert rx.stats()["pdus_out"] == 1 and rx.stats()["failed"] == 0


def test_link_rx_reports_noise_captures_without_text(tiny_lm):
    """Captures with no burst are not malformed: one crc_ok=False report each, no text."""
    rx = phy_blocks.link_rx(model=tiny_lm)
    noise = np.random.default_rng(0).normal(size=(2, 4000)).astype(np.float32)
    msgs = {"noise": c32(noise[0] + 1j * noise[1]), "silence": c32(np.zeros(5000))}
    tb = gr.top_block()
    sink = blocks.message_debug()
    tb.msg_connect(rx, "pdus", sink, "store")
    tb.start()
    for msg in msgs.values():
        rx._post(PDU_PORT, msg)
    deadline = time.monotonic() + 30
    while sink.num_messages() < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    tb.stop()
    tb.wait()
    outs = [sink.get_message(i) for i in range(sink.num_messages())]
    assert len(outs) == 2
    for m in outs:
        assert meta_of(m)["crc_ok"] is False and pmt.length(pmt.cdr(m)) == 0


def test_burst_channel(good_burst):
    chan = phy_blocks.burst_channel(esn0_db=20, seed=1)
    rec = quiet(chan)
    bad = common_bad(phy_blocks.MAX_BURST_SAMPLES, "c32")
    bad.update(non_finite_bursts(good_burst))
    out = run_block(chan, bad, c32(good_burst, dict(UNKNOWN_META, seq=5)))
    assert len(out) == 1 and pmt.length(pmt.cdr(out[0])) == len(good_burst)
    assert meta_of(out[0])["seq_sent"] == 5 and meta_of(out[0])["zz_unknown_key"] == "kept"
    assert np.all(np.isfinite(pmt.c32vector_elements(pmt.cdr(out[0]))))
    check_drops(chan, rec, bad)


def test_link_rx_stream_survives_nan_noise_and_resumes(tiny_lm, good_burst):
    """A stream of noise, a NaN, an Inf, more noise, then a burst: the bad
    samples cost the buffer they were in, the burst after them decodes."""
    rx = phy_blocks.link_rx_stream(model=tiny_lm, chunk=4096)
    rec = quiet(rx)
    rng = np.random.default_rng(3)
    noise = lambda n: (0.05 * (rng.normal(size=n) + 1j * rng.normal(size=n))).astype(np.complex64)
    poison_nan, poison_inf = noise(1000), noise(1000)
    poison_nan[10] = np.nan
    poison_inf[20] = np.inf
    stream = np.concatenate([noise(5000), poison_nan, noise(9000), poison_inf, noise(9000),
                             good_burst + noise(len(good_burst)), noise(20000)])
    tb = gr.top_block()
    sink = blocks.message_debug()
    tb.connect(blocks.vector_source_c(stream.tolist(), False), rx)
    tb.msg_connect(rx, "pdus", sink, "store")
    tb.run(4096)  # at most 4096 items per work call: each poison lands in its own scan
    texts = [bytes(pmt.u8vector_elements(pmt.cdr(sink.get_message(i))))
             for i in range(sink.num_messages())]
    assert texts == [b"burst for the receiver"]
    stats = rx.stats()
    assert stats["dropped"] == 2 and stats["pdus_out"] == 1 and stats["failed"] == 0, stats
    assert len(rec.lines) == 1  # both drops are of one kind: logged once


# ---------------------------------------------------------------- channel-coding blocks

def bits_pdu(bits, meta=None):
    return make_pdu(meta or {}, np.asarray(bits, dtype=np.uint8), "u8")


def test_fec_encoder():
    enc = fec_blocks.fec_encoder("LDPC_N49_K24")
    rec = quiet(enc)
    bad = common_bad(fec_blocks.MAX_PDU_ITEMS, "u8")
    bad["values other than bits"] = bits_pdu([0, 1, 2, 1])
    out = run_block(enc, bad, bits_pdu(np.ones(24), UNKNOWN_META))
    assert len(out) == 1 and pmt.length(pmt.cdr(out[0])) == 49
    check_drops(enc, rec, bad)


@pytest.fixture(scope="module")
def good_llrs():
    code = fec_blocks.load_code("LDPC_N49_K24")
    cw = code.encode(np.ones((1, 24), dtype=np.uint8)).reshape(-1)
    return np.where(cw == 1, 6.0, -6.0).astype(np.float32)


@pytest.mark.parametrize("make", [lambda: fec_blocks.bp_decoder("LDPC_N49_K24"),
                                  lambda: fec_blocks.ecct_decoder("ecct_LDPC_N49_K24_awgn"),
                                  lambda: fec_blocks.osd_decoder("LDPC_N49_K24")],
                         ids=["bp_decoder", "ecct_decoder", "osd_decoder"])
def test_channel_decoders(make, good_llrs):
    dec = make()
    rec = quiet(dec)
    bad = common_bad(fec_blocks.MAX_PDU_ITEMS, "f32")
    nan, inf = good_llrs.copy(), good_llrs.copy()
    nan[3], inf[4] = np.nan, -np.inf
    bad.update({
        "NaN LLR": make_pdu({}, nan, "f32"),
        "Inf LLR": make_pdu({}, inf, "f32"),
        "wrong length": make_pdu({}, good_llrs[:-1], "f32"),
        "empty": make_pdu({}, np.zeros(0, np.float32), "f32"),
    })
    out = run_block(dec, bad, make_pdu(UNKNOWN_META, good_llrs, "f32"))
    assert len(out) == 1
    np.testing.assert_array_equal(pmt.u8vector_elements(pmt.cdr(out[0])), np.ones(24))
    assert meta_of(out[0])["zz_unknown_key"] == "kept"
    stats = dec.stats()
    assert stats["dropped"] == 2 * len(bad) and len(rec.lines) == len(stats["drop_reasons"])


def test_drops_that_differ_only_in_numbers_are_logged_once(tiny_lm):
    """Headers off the air claiming 100, 110, 120 ... tokens: one kind, one log line."""
    codec = make_codec(tiny_lm, 24, 1, 64)
    good = codec.encode("still fine").message
    dec = source_blocks.lm_arith_decoder(model=tiny_lm, max_tokens=64)
    rec = quiet(dec)
    bad = {}
    for tokens in range(100, 128, 10):
        msg = bytearray(good)
        msg[4] = tokens  # one-byte varint token count of a version-1 header
        bad[f"{tokens} tokens"] = u8(msg)
    out = run_block(dec, bad, u8(good))
    assert len(out) == 1 and dec.stats()["dropped"] == 2 * len(bad)
    assert len(dec.stats()["drop_reasons"]) == 1 and len(rec.lines) == 1, rec.lines
