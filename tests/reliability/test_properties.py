# SPDX-License-Identifier: GPL-3.0-or-later
"""Property tests (hypothesis) of everything that turns bits into structure:
range coder, LM message header, link frame, PHY header, channel codes.
tests/test_range_coder.py already checks the round trip through
probs_to_cdf at precision 8-31; here: any integer CDF at any precision 1-31,
the bulk and low-level interfaces, and how far the decoder reads."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gnuradio import lmsscc
from gnuradio.lmsscc.fec import BPDecoder, list_codes, load_code
from gnuradio.lmsscc.phy import frame
from gnuradio.lmsscc.source import message as message_format

# Example counts, seeds and health checks come from the profile in tests/conftest.py.


@st.composite
def integer_cdfs(draw):
    """(precision, CDF) with arbitrary strictly increasing cut points."""
    precision = draw(st.integers(1, 31))
    total = 1 << precision
    nsym = draw(st.integers(1, min(total, 64)))
    cuts = draw(st.lists(st.integers(1, total - 1), min_size=nsym - 1, max_size=nsym - 1,
                         unique=True)) if nsym > 1 else []
    cdf = np.array([0, *sorted(cuts), total], dtype=np.uint32)
    return precision, cdf


@given(pc=integer_cdfs(), data=st.data())
def test_any_integer_cdf_round_trips(pc, data):
    precision, cdf = pc
    nsym = len(cdf) - 1
    symbols = data.draw(st.lists(st.integers(0, nsym - 1), max_size=300))
    enc = lmsscc.RangeEncoder(precision)
    for s in symbols:
        enc.encode_symbol(cdf, s)
    blob = enc.finish()
    assert blob[-1:] != b"\x00"  # trailing zeros are stripped
    dec = lmsscc.RangeDecoder(blob, precision)
    assert [dec.decode_symbol(cdf) for _ in symbols] == symbols
    assert dec.bytes_read == len(blob)  # every byte sent is needed
    # The decoder reads no further than the information requires: the 7-byte
    # window plus one byte per 8 bits of -log2 p (+1 for rounding). Zero bytes
    # past the end stand in for what the encoder stripped, which can be many
    # (a run of improbable first symbols encodes as zeros).
    freqs = np.diff(cdf.astype(np.int64))
    info_bits = sum(precision - np.log2(float(freqs[s])) for s in symbols)
    assert dec.bytes_read + dec.bytes_past_end <= 7 + int(info_bits // 8) + 2


@given(pc=integer_cdfs(), data=st.data())
def test_low_level_interface_matches_decode_symbol(pc, data):
    precision, cdf = pc
    nsym = len(cdf) - 1
    symbols = data.draw(st.lists(st.integers(0, nsym - 1), min_size=1, max_size=100))
    enc = lmsscc.RangeEncoder(precision)
    for s in symbols:
        enc.encode(int(cdf[s]), int(cdf[s + 1] - cdf[s]))
    blob = enc.finish()
    dec = lmsscc.RangeDecoder(blob, precision)
    for s in symbols:
        target = dec.target()
        assert cdf[s] <= target < cdf[s + 1]
        dec.consume(int(cdf[s]), int(cdf[s + 1] - cdf[s]))


@given(blob=st.binary(max_size=200), pc=integer_cdfs())
def test_any_bytes_decode_within_alphabet(blob, pc):
    precision, cdf = pc
    dec = lmsscc.RangeDecoder(blob, precision)
    symbols = [dec.decode_symbol(cdf) for _ in range(2 * len(blob) + 8)]
    nsym = len(cdf) - 1
    assert all(0 <= s < nsym for s in symbols)
    assert dec.bytes_read <= len(blob)


@given(
    version=st.sampled_from([message_format.VERSION, message_format.COMPACT_VERSION]),
    flags=st.integers(0, 7), tokens=st.integers(0, message_format.MAX_TOKENS),
    crc=st.integers(0, 0xFFFFFFFF), seq=st.integers(0, message_format.SEQ_MODULO - 1),
    depth=st.integers(0, message_format.MAX_DEPTH), fp=st.binary(min_size=3, max_size=3),
    payload=st.binary(max_size=64),
)
def test_message_pack_unpack_round_trip(version, flags, tokens, crc, seq, depth, fp, payload):
    flags &= message_format.KNOWN_FLAGS[version]
    crc &= 0xFFFF if flags & message_format.FLAG_CRC16 else 0xFFFFFFFF
    history = bool(flags & message_format.FLAG_HISTORY)
    fingerprint = fp[: 3 if version == message_format.VERSION else 1]
    header = message_format.Header(fingerprint, tokens, crc, version, flags,
                                   seq if history else 0, depth if history else 0)
    data = message_format.pack(header, payload)
    assert message_format.unpack(data) == (header, payload)
    assert message_format.header_bytes(header) == len(data) - len(payload)
    for cut in range(message_format.header_bytes(header)):  # every truncation of the header is refused
        with pytest.raises(message_format.MessageFormatError):
            message_format.unpack(data[:cut])


@given(message=st.binary(max_size=600), seq=st.integers(0, 1 << 20), data=st.data())
def test_frame_round_trip_and_single_bit_errors(message, seq, data):
    f = frame.build_frame(message, seq)
    assert frame.parse_frame(f) == (seq & 0xFFFF, message)
    assert frame.parse_frame(f + b"\x00\xff") == (seq & 0xFFFF, message)  # trailing padding
    bit = data.draw(st.integers(0, 8 * len(f) - 1))
    bad = bytearray(f)
    bad[bit // 8] ^= 0x80 >> (bit % 8)
    with pytest.raises(frame.FrameError):
        frame.parse_frame(bytes(bad))


@pytest.mark.parametrize("modulation", sorted(frame.MODULATION_IDS))
def test_phy_header_every_value_round_trips_and_every_bit_error_is_caught(modulation):
    for n_cw in range(frame.MAX_CODEWORDS + 1):
        bits = frame.phy_header_bits(modulation, n_cw)
        assert frame.parse_phy_header(bits) == (modulation, n_cw)
    bits = frame.phy_header_bits(modulation, 1234)
    for i in range(frame.PHY_HEADER_BITS):
        bad = bits.copy()
        bad[i] ^= 1
        with pytest.raises(frame.FrameError):
            frame.parse_phy_header(bad)


@pytest.mark.parametrize("bits", [[], [1] * 23, [2] * 24, np.full(24, 7, np.uint8)])
def test_phy_header_short_or_non_binary_input_is_a_frame_error(bits):
    with pytest.raises(frame.FrameError):
        frame.parse_phy_header(bits)


# PNB2_512_23C1 (n = 4440, from gr-fec) needs about a minute to build its
# generator on this CPU: bench, not a unit test; every other code is here.
CODES = [c for c in list_codes() if c != "PNB2_512_23C1"]


@pytest.fixture(scope="module")
def loaded_codes():
    return {name: load_code(name) for name in CODES}


@pytest.mark.parametrize("name", CODES)
def test_every_code_encodes_to_codewords_and_decodes_back(name, loaded_codes):
    code = loaded_codes[name]

    @settings(max_examples=10, deadline=None)
    @given(seed=st.integers(0, 2**32 - 1))
    def check(seed):
        rng = np.random.default_rng(seed)
        info = rng.integers(0, 2, (3, code.k), dtype=np.uint8)
        cw = code.encode(info)
        assert code.is_codeword(cw).all() and not code.syndrome(cw).any()
        np.testing.assert_array_equal(code.extract_info(cw), info)
        flipped = cw.copy()
        flipped[:, rng.integers(0, code.n)] ^= 1
        assert not code.is_codeword(flipped).any()
        decoded, _ = BPDecoder(code.H, max_iter=5).decode(np.where(cw == 1, 8.0, -8.0))
        np.testing.assert_array_equal(decoded, cw)

    check()
