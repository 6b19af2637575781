# SPDX-License-Identifier: GPL-3.0-or-later
"""Belief propagation: sanity on LDPC and dense codes, agreement with gr-fec's C++ ldpc_decoder."""
import numpy as np

from gnuradio.lmsscc.fec import BPDecoder, hard_decision, load_code, simulate_llrs
from gnuradio.lmsscc.fec.bp import grfec_ldpc_decode
from gnuradio.lmsscc.fec.codes import resolve_code_path


def _bers(code, ebn0, frames, seed, max_iter=50):
    info, cw, llr = simulate_llrs(code, ebn0, frames, rng=np.random.default_rng(seed))
    bits, post, iters = BPDecoder(code.H, max_iter=max_iter).decode(llr, return_iterations=True)
    ber_bp = np.mean(code.extract_info(bits) != info)
    ber_hard = np.mean(code.extract_info(hard_decision(llr)) != info)
    return ber_bp, ber_hard, bits, post, iters, info


def test_noiseless_codewords_stop_immediately():
    code = load_code("LDPC_N49_K24")
    cw = code.encode(np.random.default_rng(0).integers(0, 2, (50, code.k)))
    bits, post, iters = BPDecoder(code.H).decode(6.0 * (2.0 * cw - 1.0), return_iterations=True)
    np.testing.assert_array_equal(bits, cw)
    assert (iters == 0).all()
    assert np.all((post > 0) == (cw == 1))     # output LLRs keep the package convention


def test_bp_ldpc_49_matches_reference_level():
    # Reference (shared NOTES.md, gr-fec, millions of frames): -ln(BER) = 6.07 at 4 dB.
    code = load_code("LDPC_N49_K24")
    ber_bp, ber_hard, *_ = _bers(code, 4.0, 20000, seed=1)
    assert 5.6 < -np.log(ber_bp) < 6.6
    assert ber_bp < ber_hard / 10


def test_bp_on_dense_bch():
    code = load_code("BCH_N63_K45")
    ber_bp, ber_hard, bits, _, iters, _ = _bers(code, 5.0, 2000, seed=2)
    assert ber_bp < ber_hard / 2               # BP on a dense H helps, if less than on LDPC
    assert iters.max() <= 50


def test_agrees_with_grfec_ldpc_decoder():
    code = load_code("LDPC_N49_K24")
    info, _, llr = simulate_llrs(code, 3.0, 1000, rng=np.random.default_rng(3))
    ours = code.extract_info(BPDecoder(code.H).decode(llr)[0])
    theirs = grfec_ldpc_decode(str(resolve_code_path("LDPC_N49_K24")), llr)
    assert np.mean((ours == theirs).all(axis=1)) > 0.98   # same frames decoded the same way
    e_ours, e_theirs = np.mean(ours != info), np.mean(theirs != info)
    assert abs(e_ours - e_theirs) < 0.25 * max(e_ours, e_theirs)
