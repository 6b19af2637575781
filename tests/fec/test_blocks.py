# SPDX-License-Identifier: GPL-3.0-or-later
"""Flowgraph tests of the PDU blocks: encoder -> BPSK/AWGN (gr-digital) -> decoders, and bad input."""
import time

import numpy as np
import pmt
import pytest
from gnuradio import analog, blocks, digital, gr, pdu

from gnuradio.lmsscc.fec import blocks as fec_blocks
from gnuradio.lmsscc.fec import ebn0_to_sigma, load_code

PORT = pmt.intern("pdus")


def wait_for(predicate, timeout=20.0):
    """Message-only flowgraphs never finish by themselves: poll for the expected output."""
    t_end = time.time() + timeout
    while time.time() < t_end:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def bits_pdu(bits, **meta):
    d = pmt.make_dict()
    for k, v in meta.items():
        d = pmt.dict_add(d, pmt.intern(k), pmt.from_long(v))
    return pmt.cons(d, pmt.init_u8vector(len(bits), [int(b) for b in bits]))


def llr_pdu(llr, meta=None):
    return pmt.cons(meta if meta is not None else pmt.make_dict(),
                    pmt.init_f32vector(len(llr), [float(x) for x in llr]))


def payload(msg):
    return np.asarray(pmt.to_python(pmt.cdr(msg)))


def meta_get(msg, key):
    return pmt.to_python(pmt.dict_ref(pmt.car(msg), pmt.intern(key), pmt.PMT_NIL))


def run_pdus(block, msgs, expected_out, timeout=20.0):
    """Post msgs into block's input, collect `expected_out` output PDUs; returns (sink, block)."""
    tb = gr.top_block()
    sink = blocks.message_debug()
    tb.msg_connect(block, "pdus", sink, "store")
    tb.start()
    try:
        for m in msgs:
            block._post(PORT, m)
        ok = wait_for(lambda: sink.num_messages() >= expected_out and
                      block.stats()["dropped"] + block.stats()["pdus_out"] >= len(msgs), timeout)
    finally:
        tb.stop()
        tb.wait()
    assert ok, f"timeout: {sink.num_messages()} outputs, {block.stats()['dropped']} dropped"
    return [sink.get_message(i) for i in range(sink.num_messages())]


def test_encoder_pads_and_records_metadata():
    code = load_code("LDPC_N49_K24")
    enc = fec_blocks.fec_encoder("LDPC_N49_K24")
    bits = np.random.default_rng(0).integers(0, 2, 50)
    (out,) = run_pdus(enc, [bits_pdu(bits)], 1)
    cw = payload(out).reshape(-1, code.n)
    assert cw.shape[0] == 3                      # 50 bits -> 3 codewords of k = 24
    assert code.is_codeword(cw).all()
    assert meta_get(out, "fec_pad_bits") == 3 * 24 - 50
    assert meta_get(out, "fec_info_bits") == 50
    np.testing.assert_array_equal(code.extract_info(cw).reshape(-1)[:50], bits)


def _channel_chain(tb, sigma, seed):
    """u8 bit PDU -> BPSK (gr-digital constellation_bpsk) + AWGN -> soft decoder -> f32 PDU."""
    const = digital.constellation_bpsk().base()
    to_stream = pdu.pdu_to_tagged_stream(gr.types.byte_t, "packet_len")
    mod = digital.chunks_to_symbols_bc(const.points())
    noise = analog.noise_source_c(analog.GR_GAUSSIAN, sigma * np.sqrt(2.0), seed)  # complex: sigma per dim
    add = blocks.add_cc()
    soft = digital.constellation_soft_decoder_cf(const)
    to_pdu = pdu.tagged_stream_to_pdu(gr.types.float_t, "packet_len")
    tb.connect(to_stream, mod, (add, 0))
    tb.connect(noise, (add, 1))
    tb.connect(add, soft, to_pdu)
    return to_stream, to_pdu


@pytest.mark.parametrize("decoder", ["bp", "ecct_hybrid"])
def test_encoder_noise_decoder_flowgraph(decoder):
    code = load_code("LDPC_N49_K24")
    sigma = float(ebn0_to_sigma(6.0, code.rate))
    tb = gr.top_block()
    enc = fec_blocks.fec_encoder("LDPC_N49_K24")
    to_stream, to_pdu = _channel_chain(tb, sigma, seed=7)
    # gr-digital's soft decoder outputs 2 y (npwr = 1); the true LLR is 2 y / sigma^2.
    if decoder == "bp":
        dec = fec_blocks.bp_decoder("LDPC_N49_K24", 50, True, 1.0 / sigma ** 2)
    else:
        dec = fec_blocks.ecct_decoder("ecct_LDPC_N49_K24_awgn", True, True, 1.0 / sigma ** 2)
    sink = blocks.message_debug()
    tb.msg_connect(enc, "pdus", to_stream, "pdus")
    tb.msg_connect(to_pdu, "pdus", dec, "pdus")
    tb.msg_connect(dec, "pdus", sink, "store")
    bits = np.random.default_rng(1).integers(0, 2, 24 * 40 - 5)
    tb.start()
    try:
        enc._post(PORT, bits_pdu(bits))
        ok = wait_for(lambda: sink.num_messages() >= 1)
    finally:
        tb.stop()
        tb.wait()
    assert ok, "no decoded PDU came out"
    out = sink.get_message(0)
    decoded = payload(out)
    assert decoded.size == bits.size             # padding stripped via metadata carried by tags
    assert meta_get(out, "fec_frames") == 40
    # At 6 dB BP-50 has BER ~1e-5: all 955 bits must come back (hard decisions alone: ~3% wrong).
    assert np.mean(decoded != bits) < 0.005


def test_bad_inputs_are_dropped_and_flowgraph_keeps_running():
    code = load_code("LDPC_N49_K24")
    dec = fec_blocks.bp_decoder("LDPC_N49_K24")
    good = -4.0 * np.ones(code.n)                # all-zero codeword, strongly reliable
    bad = [
        pmt.intern("not a pdu"),
        pmt.cons(pmt.make_dict(), pmt.init_u8vector(code.n, [0] * code.n)),  # wrong vector type
        llr_pdu(good[:-1]),                                                    # wrong length
        llr_pdu(np.where(np.arange(code.n) == 3, np.nan, good)),               # NaN
        llr_pdu(np.where(np.arange(code.n) == 5, np.inf, good)),               # Inf
        pmt.cons(pmt.intern("meta"), pmt.init_f32vector(code.n, list(good))),  # meta not a dict
    ]
    outs = run_pdus(dec, bad + [llr_pdu(good)], 1)
    assert dec.stats()["dropped"] == len(bad)
    assert len(outs) == 1
    np.testing.assert_array_equal(payload(outs[0]), np.zeros(code.k))
    assert "NaN/Inf" in dec.stats()["last_drop"] or "dict" in dec.stats()["last_drop"]


def test_encoder_rejects_non_bits():
    enc = fec_blocks.fec_encoder("LDPC_N49_K24")
    outs = run_pdus(enc, [bits_pdu([0, 1, 2, 1]), bits_pdu([1, 0, 1])], 1)
    assert enc.stats()["dropped"] == 1 and "bits" in enc.stats()["last_drop"]
    assert len(outs) == 1


def test_ecct_decoder_batches_many_codewords():
    code = load_code("LDPC_N49_K24")
    dec = fec_blocks.ecct_decoder("ecct_LDPC_N49_K24_awgn")
    rng = np.random.default_rng(3)
    info = rng.integers(0, 2, (100, code.k))
    cw = code.encode(info)
    llr = 8.0 * (2.0 * cw - 1.0)                 # noiseless, any scale: ECCT normalises per frame
    (out,) = run_pdus(dec, [llr_pdu(llr.reshape(-1))], 1)
    assert meta_get(out, "fec_frames") == 100
    np.testing.assert_array_equal(payload(out).reshape(100, code.k), info)
