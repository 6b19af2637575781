# SPDX-License-Identifier: GPL-3.0-or-later
"""make_decoder("auto"): the decoder measured best for each kind of code (docs/channel_coding.md)."""
import numpy as np
import pytest

from gnuradio.lmsscc.fec import load_code, simulate_llrs
from gnuradio.lmsscc.fec.decoders import best_decoder, make_decoder


@pytest.mark.parametrize("name, expected", [
    ("LDPC_N49_K24", "osd2"),      # short LDPC: OSD-2 ~ ML, +2 nats over BP-50
    ("BCH_N63_K45", "osd2"),       # dense BCH: BP is weak
    ("CCSDS_N128_K64", "osd2"),    # k = 64: OSD-2 still ahead of BP-50
    ("POLAR_N64_K32", "scl8"),     # Polar: the list decoder (L = 8 is ML at n = 64)
    ("POLAR_N128_K64", "scl32"),
    ("LDPC_N121_K70", "bp"),       # k = 70 > OSD_DEFAULT_MAX_K
])
def test_best_decoder_per_code(name, expected):
    assert best_decoder(load_code(name)) == expected


def test_long_ldpc_codes_get_bp():
    short_code = load_code("n_0100_k_0042_gap_02")  # gr-fec alists: k = 42 <= 64, still OSD
    assert best_decoder(short_code) == "osd2"
    long_code = load_code("n_0300_k_0152_gap_03")
    assert best_decoder(long_code) == "bp"


def test_auto_decodes_like_the_chosen_kind():
    code = load_code("LDPC_N49_K24")
    _, _, llr = simulate_llrs(code, 3.0, 200, rng=np.random.default_rng(5))
    auto, osd2 = make_decoder("auto", code), make_decoder("osd2", code)
    assert auto.name == osd2.name
    np.testing.assert_array_equal(auto.decode(llr), osd2.decode(llr))
