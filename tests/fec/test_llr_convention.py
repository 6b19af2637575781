"""Pin the package's LLR sign convention to gr-digital's BPSK constellation and soft decoder."""
import numpy as np
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
    llr = transmit(cw, 1e-3, "awgn", rng)                       # nearly noiseless
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


def test_rayleigh_unit_power_and_csi_llr():
    rng = np.random.default_rng(3)
    cw = np.zeros((4000, 49), np.uint8)
    from gnuradio.lmsscc.fec.channel import fading_gains
    h = fading_gains(cw.shape, "rayleigh", rng)
    assert abs(np.mean(h ** 2) - 1.0) < 0.02
    hb = fading_gains(cw.shape, "rayleigh_block", rng)
    assert np.all(hb == hb[:, :1])                               # one gain per codeword
    llr = transmit(cw, 0.5, "rayleigh", rng)
    assert np.mean(llr < 0) > 0.8                                # all-zero word: mostly negative
