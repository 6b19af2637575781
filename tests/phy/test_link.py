# SPDX-License-Identifier: GPL-3.0-or-later
"""The radio link: frames, modulation, sync, and loopback / ZMQ flowgraphs
(tiny LM so that it is fast; the link code is the same for the real model)."""

import subprocess
import sys
import time

import numpy as np
import pmt
import pytest
from gnuradio import blocks, digital, gr

from gnuradio.lmsscc.phy import burst, channels, frame
from gnuradio.lmsscc.phy.modulation import MODULATIONS, constellation, demodulate_llr, modulate
from gnuradio.lmsscc.phy.radio import LoopbackLink

from flowgraph_util import Flowgraph, compile_example, printed_payloads, run_with_pdu_source
from testutil import APPS, run_app


def test_frame_round_trip_and_crc():
    f = frame.build_frame(b"LM message bytes", seq=513)
    assert frame.parse_frame(f) == (513, b"LM message bytes")
    bad = bytearray(f)
    bad[7] ^= 1
    with pytest.raises(frame.FrameError, match="CRC-32"):
        frame.parse_frame(bytes(bad))
    with pytest.raises(frame.FrameError, match="truncated"):
        frame.parse_frame(f[:-2])


def test_phy_header_round_trip_and_check():
    for mod in MODULATIONS:
        bits = frame.phy_header_bits(mod, 1234)
        assert frame.parse_phy_header(bits) == (mod, 1234)
    bits = frame.phy_header_bits("qpsk", 7)
    bits[5] ^= 1
    with pytest.raises(frame.FrameError, match="CRC-16"):
        frame.parse_phy_header(bits)


@pytest.mark.parametrize("name", ["bpsk", "qpsk"])
def test_llr_signs_match_gr_digital_soft_decoder(name):
    c = getattr(digital, f"constellation_{name}")()
    points = list(c.points())
    tb = gr.top_block()
    sink = blocks.vector_sink_f()
    tb.connect(blocks.vector_source_c(points), digital.constellation_soft_decoder_cf(c), sink)
    tb.run()
    theirs = np.sign(np.array(sink.data()))
    ours = np.sign(demodulate_llr(constellation(name) * 1.0, name, 0.5))
    assert np.array_equal(theirs, ours)


@pytest.mark.parametrize("name", MODULATIONS)
def test_modulation_round_trip(name):
    bits = np.random.default_rng(0).integers(0, 2, 480).astype(np.uint8)
    llr = demodulate_llr(modulate(bits, name), name, 1e-3)
    assert np.array_equal((llr > 0).astype(np.uint8), bits)
    assert abs(np.mean(np.abs(constellation(name)) ** 2) - 1) < 1e-12


def test_sync_estimates_offsets():
    rng = np.random.default_rng(5)
    data = modulate(rng.integers(0, 2, 1000), "bpsk")
    s = burst.make_burst(np.ones(49, complex), data)
    s = channels.timing_offset(np.concatenate([np.zeros(333), s]), 2.3)
    s = channels.frequency_offset(s, 0.0007, 1.1)
    s = channels.awgn(s, channels.noise_var_for_esn0(10), rng)
    z = burst.matched_filter(s)
    (start, metric), = burst.detect(z)
    det = burst.estimate(z, start, metric)
    assert abs(det.freq - 0.0007 * burst.SPS) < 5e-4
    assert abs(det.snr_db - 10) < 2.5
    assert abs(start - (333 + 64 + 2.3 + burst.FILTER_DELAY)) < 0.6


def test_noise_only_finds_nothing():
    z = burst.matched_filter(channels.awgn(np.zeros(20000), 1.0, np.random.default_rng(1)))
    assert burst.detect(z) == []


@pytest.fixture(scope="module")
def tiny_dir(tiny_model_dir):
    return str(tiny_model_dir)


def test_twenty_messages_high_snr_all_exact(tiny_lm):
    link = LoopbackLink(model=tiny_lm, esn0_db=15, modulation="qpsk")
    try:
        texts = [f"Message {i}: the quick brown fox, ünïcødé {i * 7}." for i in range(20)]
        results = [link.send(t, timeout=60) for t in texts]
    finally:
        link.close()
    assert [data.decode() for _, data in results] == texts
    assert all(meta["crc_ok"] and meta["decoded_ber"] == 0 for meta, _ in results)
    assert [meta["seq"] for meta, _ in results] == list(range(20))


def test_lean_conversation_over_the_link(tiny_lm):
    """Version-3 messages in conversation mode cross the loopback link; the
    message bits shrink against the standard header."""
    texts = [f"Line {i} of a short chat over the radio." for i in range(6)]
    sizes = {}
    for header_format, conversation in (("standard", False), ("lean", True)):
        link = LoopbackLink(model=tiny_lm, esn0_db=15, priming="radio", conversation=conversation,
                            header_format=header_format)
        try:
            results, bits = [], 0
            for t in texts:
                results.append(link.send(t, timeout=60))
                bits += link.tx.last_meta["message_bits"]
            sizes[header_format] = bits
        finally:
            link.close()
        assert [data.decode() for _, data in results] == texts
    assert sizes["lean"] < sizes["standard"]


def test_stream_hier_blocks_loopback(tiny_lm):
    """link_tx_stream (text PDU -> tagged complex stream) -> AWGN added on the
    stream -> link_rx_stream (stream -> text PDU): the hierarchical TX/RX pair
    an SDR flowgraph uses, without the SDR."""
    from gnuradio import analog

    from gnuradio.lmsscc.pdu_util import make_pdu
    from gnuradio.lmsscc.phy import blocks as phy_blocks

    texts = [f"Stream message {i}, over a noisy complex stream." for i in range(3)]
    tx = phy_blocks.link_tx_stream(model=tiny_lm, tail_zeros=4096)
    rx = phy_blocks.link_rx_stream(model=tiny_lm, chunk=4096)
    add, noise = blocks.add_cc(), analog.noise_source_c(analog.GR_GAUSSIAN, 0.2, 7)

    def wire(tb, source, sink):
        tb.msg_connect(source, "pdus", tx, "pdus")
        tb.connect(tx, (add, 0))
        tb.connect(noise, (add, 1))
        tb.connect(add, rx)
        tb.msg_connect(rx, "pdus", sink, "store")

    out = run_with_pdu_source(wire, [make_pdu({}, bytearray(t.encode()), "u8") for t in texts],
                              len(texts))
    got = [bytes(pmt.u8vector_elements(pmt.cdr(m))).decode() for m in out]
    assert got == texts
    assert tx.stats()["pdus_out"] == len(texts) and rx.stats()["failed"] == 0


def test_very_low_snr_never_returns_wrong_text(tiny_lm):
    link = LoopbackLink(model=tiny_lm, esn0_db=-3, seed=11)
    try:
        texts = [f"Low SNR message number {i}." for i in range(12)]
        results = [link.send(t, timeout=60) for t in texts]
    finally:
        link.close()
    assert len(results) == len(texts)  # every message accounted for
    failed = 0
    for text, (meta, data) in zip(texts, results):
        if meta["crc_ok"]:
            assert data.decode() == text
        else:
            failed += 1
            assert data == b"" and meta["error"]
    assert failed > 0  # at -3 dB Es/N0 the rate-1/2 code must lose some


def test_frequency_and_timing_offset_and_fading(tiny_lm):
    link = LoopbackLink(model=tiny_lm, esn0_db=12, fading="block", freq_offset=0.0015,
                        timing_offset=3.7, seed=2)
    try:
        results = [link.send(f"offset test {i}", timeout=60) for i in range(8)]
    finally:
        link.close()
    ok = [m["crc_ok"] for m, _ in results]
    assert sum(ok) >= 6  # block Rayleigh at 12 dB: a deep fade may take one or two
    for meta, data in results:
        if meta["crc_ok"]:
            assert abs(meta["freq_offset"] - 0.0015) < 2e-4
            assert data.decode().startswith("offset test")


def test_zmq_two_processes(tiny_dir, tmp_path):
    port = 5600 + (int(time.time()) % 300)
    address = f"tcp://127.0.0.1:{port}"
    rx = subprocess.Popen([sys.executable, str(APPS / "rx_text.py"), "--model", tiny_dir, "--count", "3",
                           "--timeout", "240", "--json", "--zmq-address", address],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # Wait until the receiver has loaded and started (slow on a loaded machine).
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and "listening" not in rx.stderr.readline():
            pass
        texts = ["first over zmq", "second over zmq", "third, a slightly longer message over zmq"]
        tx = run_app("tx_text.py", "--device", "zmq", "--model", tiny_dir, "--zmq-address", address,
                     *texts, timeout=300)
        assert tx.returncode == 0, tx.stderr
        out, err = rx.communicate(timeout=180)
    finally:
        rx.kill()
    import json

    received = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert [r["received"] for r in received] == texts, err[-2000:]
    assert [r["seq"] for r in received] == [0, 1, 2]


@pytest.mark.parametrize("name,esn0", [("link_loopback_awgn", 10), ("link_loopback_rayleigh", 25)])
def test_loopback_examples_run_headless(name, esn0, tiny_dir, tmp_path):
    fg = Flowgraph(compile_example(name, tmp_path), "--model", tiny_dir, "--esn0", esn0)
    # The strobe fires at start-up and every 5 s (generous waits: loaded CI machines).
    fg.wait_for("(crc_ok . #t)")
    time.sleep(3)
    out = fg.stop()
    assert "(crc_ok . #t)" in out, out[-2000:]
    assert b"this text crossed a noisy channel" in printed_payloads(out)


def test_zmq_examples_run_headless(tiny_dir, tmp_path):
    address = f"tcp://127.0.0.1:{5900 + (int(time.time()) % 90)}"
    rx = Flowgraph(compile_example("link_zmq_rx", tmp_path), "--model", tiny_dir, "--address", address)
    tx = Flowgraph(compile_example("link_zmq_tx", tmp_path), "--model", tiny_dir, "--address", address)
    try:
        rx.wait_for("(crc_ok . #t)", timeout=240)
        time.sleep(3)
    finally:
        tx.stop()
        out = rx.stop()
    assert "(crc_ok . #t)" in out, out[-2000:]
    assert b"this text crossed a noisy channel" in printed_payloads(out)
