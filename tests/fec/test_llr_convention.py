# SPDX-License-Identifier: GPL-3.0-or-later
"""Pin the package's LLR sign convention to gr-digital's BPSK constellation and soft decoder."""
import numpy as np
import pytest
from gnuradio import blocks, digital, gr

from gnuradio.lmsscc.fec import bpsk, ebn0_to_sigma, hard_decision, load_code, simulate_llrs, transmit


def _gr_digital_bpsk(bits, noise):
    """bits -> gr-digital BPSK symbols (+ given real noise) -> constellation_soft_decoder_cf and the
    hard constellation_decoder_cb. Returns (symbols, soft, hard)."""
    const = digital.constellation_bpsk().base()
    tb = gr.top_block()
    src = blocks.vector_source_b([int(b) for b in bits], False)
    mod = digital.chunks_to_symbols_bc(const.points())
    nsrc = blocks.vector_source_c([complex(x) for x in noise], False)
    add = blocks.add_cc()
    sym_snk, soft_snk, hard_snk = blocks.vector_sink_c(), blocks.vector_sink_f(), blocks.vector_sink_b()
    tb.connect(src, mod, (add, 0))
    tb.connect(nsrc, (add, 1))
    tb.connect(mod, sym_snk)
    tb.connect(add, digital.constellation_soft_decoder_cf(const), soft_snk)
    tb.connect(add, digital.constellation_decoder_cb(const), hard_snk)
    tb.run()
    return (np.array(sym_snk.data()), np.array(soft_snk.data()), np.array(hard_snk.data()))


def test_bpsk_mapping_matches_gr_digital():
    bits = np.array([0, 1, 1, 0, 1])
    symbols, _, _ = _gr_digital_bpsk(bits, np.zeros(bits.size))
    np.testing.assert_allclose(symbols.real, bpsk(bits))       # 0 -> -1, 1 -> +1
    np.testing.assert_allclose(symbols.imag, 0.0)


def test_llr_sign_matches_constellation_soft_decoder():
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2, 400)
    noise = 0.8 * rng.standard_normal(400)
    _, soft, hard = _gr_digital_bpsk(bits, noise)
    y = bpsk(bits) + noise
    ours = 2.0 * y / 0.8 ** 2                                    # package LLR for the same samples
    assert np.all(np.sign(soft) == np.sign(ours))                # positive means bit 1 in both
    np.testing.assert_array_equal(hard_decision(ours), hard)     # and both hard decisions agree
    assert np.mean(hard != bits) > 0.05                          # the noise did flip some bits
    # gr-digital's value (npwr = 1) is 2 * clip(y, -1, 1): our LLR times sigma^2, saturated at the
    # outer constellation points. Worth knowing before feeding it to BP (scale with 1/sigma^2).
    np.testing.assert_allclose(soft, 2.0 * np.clip(y, -1.0, 1.0), rtol=1e-5, atol=1e-5)
    inner = np.abs(y) < 1.0
    np.testing.assert_allclose(soft[inner], ours[inner] * 0.8 ** 2, rtol=1e-5, atol=1e-5)


def test_transmit_llr_sign_and_scale():
    rng = np.random.default_rng(1)
    cw = rng.integers(0, 2, (2000, 49)).astype(np.uint8)
    llr = transmit(cw, 1e-3, "none", rng)                       # nearly noiseless
    np.testing.assert_array_equal(hard_decision(llr), cw)
    np.testing.assert_allclose(np.abs(llr), 2.0 / 1e-6, rtol=0.01)


def test_ebn0_convention_per_information_bit():
    # sigma^2 = 1 / (2 R Eb/N0): R = 1/2 at 0 dB gives sigma = 1.
    assert abs(float(ebn0_to_sigma(0.0, 0.5)) - 1.0) < 1e-12
    code = load_code("LDPC_N49_K24")
    _, cw, llr = simulate_llrs(code, 3.0, 20000, rng=np.random.default_rng(2))
    ber = np.mean(hard_decision(llr) != cw)
    from math import erfc, sqrt
    sigma = float(ebn0_to_sigma(3.0, code.rate))
    expected = 0.5 * erfc(1.0 / (sigma * sqrt(2.0)))              # Q(1 / sigma)
    assert abs(ber - expected) < 0.1 * expected


def test_transmit_llr_is_the_csi_formula_on_the_channels_draws():
    """transmit's LLRs are 2 |h| y / sigma^2 with y = |h| x + in-phase noise of variance sigma^2,
    on exactly the draws of phy/channels.py (same seed, same order: gains, then noise)."""
    from gnuradio.lmsscc.phy import channels
    cw = np.random.default_rng(4).integers(0, 2, (300, 49)).astype(np.uint8)
    sigma = 0.6
    for fading in channels.FADING:
        rng = np.random.default_rng(5)
        gain = np.abs(channels.fading_gains(cw.shape, fading, rng))
        y = gain * bpsk(cw) + channels.in_phase_noise(cw.shape, 2 * sigma ** 2, rng)
        np.testing.assert_allclose(transmit(cw, sigma, fading, np.random.default_rng(5)),
                                   2.0 * gain * y / sigma ** 2, rtol=1e-12)


def test_rayleigh_csi_llr_sign_and_unit_power():
    rng = np.random.default_rng(3)
    cw = np.zeros((4000, 49), np.uint8)
    for fading in ("fast", "block"):
        llr = transmit(cw, 0.5, fading, rng)
        assert np.mean(llr < 0) > 0.8                            # all-zero word: mostly negative
    # Unit-power gains keep Eb/N0 the average SNR: with fast fading, E[L] = -2 E|h|^2 / sigma^2.
    llr = transmit(cw, 0.5, "fast", rng)
    assert abs(np.mean(llr) / (-2.0 / 0.25) - 1.0) < 0.02


def test_fading_names_of_the_old_vocabulary_are_refused():
    cw = np.zeros((2, 49), np.uint8)
    for old in ("awgn", "rayleigh", "rayleigh_block"):
        with pytest.raises(ValueError, match="fading must be one of"):
            transmit(cw, 0.5, old, np.random.default_rng(0))
