# SPDX-License-Identifier: GPL-3.0-or-later
"""PHY header version 2: how rarely a corrupted header is accepted (Monte
Carlo over a million corrupted headers), and what one accepted false header
costs the stream receiver (forged headers in front of real bursts)."""

import numpy as np
import pmt
import pytest
from gnuradio import blocks, gr

from gnuradio.lmsscc.phy import burst, channels, frame
from gnuradio.lmsscc.phy.link import LinkConfig, Receiver, Transmitter
from gnuradio.lmsscc.phy.modulation import modulate
from gnuradio.lmsscc.source import make_codec

HEADERS = 1_000_000
LIMIT = HEADERS / 2 ** 16  # a false accept rarer than 2^-16: fewer than ~15 in a million


def _accepts(rows) -> int:
    verdict, _, _ = frame.check_phy_headers(rows)
    return int(np.sum(verdict == frame.HEADER_OK))


def _crc8_accepts(rows) -> int:
    """How many rows version 1's check (CRC-8 of the first 16 bits) would accept."""
    return sum(frame.crc8(r[:16]) == int("".join(map(str, r[16:24])), 2) for r in rows)


def test_random_header_words_are_accepted_less_than_once_in_2_to_16():
    """What BP hands the parser when it converges to a wrong codeword: any
    32 information bits. k = 32 (no padding bits to check) is the worst case."""
    rows = np.random.default_rng(1).integers(0, 2, (HEADERS, frame.PHY_HEADER_BITS), dtype=np.uint8)
    accepted = _accepts(rows)
    print(f"random 32-bit header words: {accepted} of {HEADERS:,} accepted")
    assert accepted < LIMIT
    # The same rows under version 1's CRC-8: about 1 in 256 (the test can tell them apart).
    v1 = _crc8_accepts(rows[:10_000])
    print(f"the first 10,000 of them under version 1's CRC-8: {v1} accepted")
    assert 20 < v1 < 60
    # With the 16 zero padding bits of a k = 24 code, 48 bits must check out.
    padded = np.random.default_rng(2).integers(0, 2, (HEADERS, 48), dtype=np.uint8)
    accepted_padded = _accepts(padded)
    print(f"random 48-bit header words (k = 24): {accepted_padded} of {HEADERS:,} accepted")
    assert accepted_padded <= 2


def test_valid_headers_with_random_bit_errors_are_accepted_less_than_once_in_2_to_16():
    """A real header hit by 1-8 bit errors: the CRC-16's polynomial makes a
    (32, 16) code of Hamming distance 7, so every error of 1-6 bits is caught."""
    rng = np.random.default_rng(3)
    good = np.stack([frame.phy_header_bits(m, c) for m, c in
                     zip(rng.choice(list(frame.MODULATION_IDS), 4096), rng.integers(1, 4096, 4096))])
    rows = good[rng.integers(0, len(good), HEADERS)]
    weights = rng.integers(1, 9, HEADERS)
    flips = rng.random((HEADERS, frame.PHY_HEADER_BITS)).argsort(axis=1) < weights[:, None]
    corrupted = rows ^ flips.astype(np.uint8)
    accepted = _accepts(corrupted)
    print(f"valid headers with 1-8 bit errors: {accepted} of {HEADERS:,} accepted")
    assert accepted < LIMIT
    assert _accepts(corrupted[weights <= 6]) == 0  # Hamming distance 7


def test_parser_agrees_with_the_batch_check():
    rows = np.random.default_rng(4).integers(0, 2, (2000, 48), dtype=np.uint8)
    rows[:500] = np.concatenate([frame.phy_header_bits("qpsk", 99), np.zeros(16, np.uint8)])
    rows[500:600, 40] = 1  # valid header, padding bit set
    rows[500:600, :32] = frame.phy_header_bits("bpsk", 5)
    verdict, _, _ = frame.check_phy_headers(rows)
    for row, v in zip(rows, verdict):
        if v == frame.HEADER_OK:
            assert frame.parse_phy_header(row) == ("qpsk", 99)
        else:
            with pytest.raises(frame.FrameError):
                frame.parse_phy_header(row)
    assert np.all(verdict[500:600] == frame.HEADER_PADDING)


def test_version_1_header_is_named():
    fields = [0, 0, 0, 1] + [0] * 11 + [1]  # version 1: modulation nibble (QPSK), 12-bit count (1)
    v1 = fields + [int(c) for c in f"{frame.crc8(fields):08b}"] + [0] * 8
    with pytest.raises(frame.FrameError, match="version 1"):
        frame.parse_phy_header(v1)


# -- what an accepted false header costs the stream receiver --------------------------------------
@pytest.fixture
def link(tiny_lm):
    """(transmitter, codec), coding as link_tx does by default (what link_rx_stream expects)."""
    from gnuradio.lmsscc.phy import blocks as phy_blocks

    codec = make_codec(tiny_lm, 24, 1, phy_blocks.LINK_MAX_TOKENS, "none", phy_blocks.DEFAULT_HEADER_FORMAT)
    return Transmitter(codec), codec


def _burst(tx, text, announced=None, garbage=False):
    """A burst for `text`; with `announced` its PHY header claims that many
    codewords (a valid CRC-16: the false accept that got through)."""
    frame_bytes = frame.build_frame(tx.codec.encode(text).message, tx.seq)
    tx.seq += 1
    bits = frame.bytes_to_bits(frame_bytes)
    if garbage:
        bits = np.random.default_rng(9).integers(0, 2, len(bits), dtype=np.uint8)
    payload = tx.encode_bits(bits)
    n_cw = announced or len(payload) // tx.code.n
    header = tx.encode_bits(frame.phy_header_bits("bpsk", n_cw))
    return burst.make_burst(modulate(header, "bpsk"), modulate(payload, "bpsk"))


def _noisy(parts, seed=0):
    x = np.concatenate(parts)
    return channels.awgn(x, channels.noise_var_for_esn0(12), np.random.default_rng(seed)).astype(np.complex64)


def _run_stream(tiny_lm, samples):
    from gnuradio.lmsscc.phy import blocks as phy_blocks

    tb = gr.top_block()
    rx = phy_blocks.link_rx_stream(model=tiny_lm, chunk=4096)
    sink = blocks.message_debug()
    tb.connect(blocks.vector_source_c(samples.tolist()), rx)
    tb.msg_connect(rx, "pdus", sink, "store")
    tb.run()
    out = [sink.get_message(i) for i in range(sink.num_messages())]
    texts = [bytes(pmt.u8vector_elements(pmt.cdr(m))).decode() for m in out]
    return [t for t in texts if t], rx


def test_stream_false_header_before_silence_costs_no_following_burst(link, tiny_lm):
    """A header that announces 4,000 codewords (784,000 samples) in front of a
    short burst and silence: the receiver sees the signal stop, refuses the
    header at once, and decodes the bursts that follow (before version 2 it
    waited for 784,000 samples that never came: every later burst was lost)."""
    tx, _ = link
    gap = np.zeros(4096)
    stream = _noisy([_burst(tx, "first, forged header", announced=4000), gap,
                     _burst(tx, "second burst"), gap, _burst(tx, "third burst"), gap, gap])
    texts, rx = _run_stream(tiny_lm, stream)
    assert texts == ["second burst", "third burst"]


@pytest.mark.parametrize("garbage", [False, True])
def test_false_header_over_following_bursts_costs_only_its_own(link, tiny_lm, garbage):
    """Bursts back to back (no silence for the check to see) behind a header
    whose announced span covers the next two bursts: its frame fails (garbage)
    or fills fewer codewords than announced, and detection resumes right after
    the header or the frame: both following bursts arrive."""
    tx, codec = link
    second, third = _burst(tx, "second burst"), _burst(tx, "third burst")
    span_cw = (len(second) + len(third)) // (burst.SPS * tx.code.n)  # ends inside the third burst
    first = _burst(tx, "first, forged header", announced=span_cw, garbage=garbage)
    stream = _noisy([first, second, third, np.zeros(8192)], seed=1)
    following = ["second burst", "third burst"]
    # The forged burst itself may fail even with a good payload: its phase is
    # tracked on "pilots" the announced span puts inside the next bursts.
    own = [] if garbage else ["first, forged header"]
    texts, _ = _run_stream(tiny_lm, stream)
    assert texts in (following, own + following)
    # The one-shot receiver (link_rx) resumes the same way.
    found = Receiver(codec, LinkConfig()).receive(stream)
    assert [r.text for r in found if r.ok] in (following, own + following)


def test_announced_length_over_the_configured_maximum_is_refused(link):
    tx, codec = link
    stream = _noisy([_burst(tx, "claims 300 codewords", announced=300), np.zeros(4096)])
    found = Receiver(codec, LinkConfig(max_codewords=200)).receive(stream, keep_header_failures=True)
    assert [r.error for r in found if "announces" in (r.error or "")] == [
        "PHY header announces 300 codewords, outside 1-200"]
