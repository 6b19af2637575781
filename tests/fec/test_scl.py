# SPDX-License-Identifier: GPL-3.0-or-later
"""SC / SC-list decoding of the library's Polar codes (fec/polar.py, C++ lib/scl_decoder.cc)."""
import itertools

import numpy as np
import pytest

from gnuradio.lmsscc.fec import code_from_matrix, list_codes, load_code, simulate_llrs
from gnuradio.lmsscc.fec.codes import gf2_rref
from gnuradio.lmsscc.fec.decoders import make_decoder
from gnuradio.lmsscc.fec.polar import SCLDecoder, polar_kernel, polar_structure

POLAR_CODES = [name for name in list_codes() if name.startswith("POLAR_")]
# 5G NR reliability sequence (3GPP TS 38.212, table 5.3.1.2-1) restricted to indices < 16,
# least reliable first: the 8 least reliable positions of Polar(16, 8) are frozen.
NR_ORDER_16 = [0, 1, 2, 4, 8, 3, 5, 9, 6, 10, 12, 7, 11, 13, 14, 15]


def polar16_8():
    """Polar(16, 8) in natural order built from F: since F^2 = I over GF(2), x = u F has
    u = x F, so the checks are the frozen columns of F."""
    frozen = sorted(NR_ORDER_16[:8])
    H = polar_kernel(16)[:, frozen].T.copy()
    return code_from_matrix(H, name="POLAR_N16_K8_test")


# --- independent pure-Python SC reference --------------------------------------------------
# Arikan's recursion on the bit index with the interleaved split F = F' (x) K (x_even = v F',
# x_odd = w F', v_i = u_2i ^ u_2i+1, w_i = u_2i+1), in the package sign (L = ln P1/P0):
# the C++ decoder walks a tree that splits codeword halves instead, in the opposite sign.

def xor_llr(a, b):        # min-sum, package sign: P(a ^ b = 1) side
    return -np.sign(a) * np.sign(b) * min(abs(a), abs(b))


def bit_llr(i, y, u_prev):
    """LLR of u_i given y and the decided u_0..u_{i-1} (min-sum f, exact g)."""
    if len(y) == 1:
        return y[0]
    j = i // 2
    pairs = np.asarray(u_prev[:2 * j], dtype=np.uint8)
    v_prev, w_prev = pairs[0::2] ^ pairs[1::2], pairs[1::2]
    a = bit_llr(j, y[0::2], v_prev)
    b = bit_llr(j, y[1::2], w_prev)
    if i % 2 == 0:
        return xor_llr(a, b)
    return b + (a if u_prev[2 * j] == 0 else -a)


def sc_reference(llr, frozen):
    """(u, metric): hard decisions on information bits, 0 on frozen ones; the metric adds |L|
    for every frozen bit whose LLR favours 1 (the LLR-based path metric of one SC path)."""
    u, metric = [], 0.0
    for i in range(len(llr)):
        L = bit_llr(i, llr, u)
        if frozen[i]:
            u.append(0)
            metric += abs(L) if L > 0 else 0.0
        else:
            u.append(1 if L > 0 else 0)
    return np.array(u, dtype=np.uint8), metric


def to_decoder_order(structure, llr):
    return llr[:, structure.perm]


@pytest.mark.parametrize("name", ["POLAR_N16_K8_test", "POLAR_N64_K32"])
def test_list_size_one_is_plain_sc(name):
    code = polar16_8() if name.endswith("_test") else load_code(name)
    dec = SCLDecoder(code, list_size=1)
    assert dec.name == "sc"
    st = dec.structure
    rng = np.random.default_rng(5)
    frames = 150 if code.n == 16 else 40
    llr = rng.normal(0.0, 2.0, (frames, code.n)).astype(np.float32)
    bits, metrics = dec.decode_with_metrics(llr)
    F = polar_kernel(code.n).astype(np.int64)
    for b in range(frames):
        u, metric = sc_reference(to_decoder_order(st, llr)[b].astype(np.float64), st.frozen)
        expect = np.empty(code.n, dtype=np.uint8)
        expect[st.perm] = (u @ F) & 1
        assert np.array_equal(bits[b], expect), f"frame {b}"
        assert metric == pytest.approx(float(metrics[b]), rel=1e-5, abs=1e-5)


def test_large_list_equals_exhaustive_ml_on_polar16_8():
    code = polar16_8()
    words = code.encode(np.array(list(itertools.product([0, 1], repeat=code.k)), dtype=np.uint8))
    _, _, llr = simulate_llrs(code, 1.0, 3000, rng=np.random.default_rng(7))
    # ML for BPSK: maximise the correlation sum_j L_j (2 x_j - 1) over all 256 codewords.
    scores = llr @ (2.0 * words.T - 1.0)
    ml = words[np.argmax(scores, axis=1)]
    best = scores.max(axis=1)
    for list_size in (256, 1024):
        out = SCLDecoder(code, list_size=list_size).decode(llr)
        assert code.is_codeword(out).all()
        got = (llr * (2.0 * out - 1.0)).sum(axis=1)
        np.testing.assert_allclose(got, best, rtol=1e-5, atol=1e-4)   # always an ML codeword
        assert (out == ml).all(axis=1).mean() >= 0.998                # float near-ties aside
    sc = SCLDecoder(code, list_size=1).decode(llr)
    assert (sc != ml).any(axis=1).mean() > 0.01                        # SC alone is not ML here


def test_scl8_beats_bp50_on_polar64_at_4db():
    code = load_code("POLAR_N64_K32")
    info, cw, llr = simulate_llrs(code, 4.0, 2000, rng=np.random.default_rng(11))
    fer = {kind: (make_decoder(kind, code).decode(llr) != cw).any(axis=1).mean()
           for kind in ("bp", "sc", "scl8")}
    # measured on this batch: BP-50 ~0.14, SC ~0.005, SCL-8 ~0.003; a decoder with a wrong
    # information set or sign decodes almost nothing.
    assert fer["bp"] > 0.05
    assert fer["scl8"] < 0.2 * fer["bp"]
    assert fer["scl8"] <= fer["sc"] < 0.3 * fer["bp"]


def test_chosen_bit_order_decodes_better_than_the_other():
    code = load_code("POLAR_N64_K32")
    chosen = polar_structure(code)
    other = polar_structure(code, bit_order="natural" if chosen.bit_order != "natural"
                            else "bit_reversed")
    _, cw, llr = simulate_llrs(code, 3.0, 3000, rng=np.random.default_rng(13))
    fer = [(SCLDecoder(code, 1, structure=s).decode(llr) != cw).any(axis=1).mean()
           for s in (chosen, other)]
    assert fer[0] < 0.5 * fer[1]


@pytest.mark.parametrize("name", POLAR_CODES)
def test_structure_reproduces_every_shipped_polar_code(name):
    code = load_code(name)
    st = polar_structure(code)
    assert st.k == code.k == st.info_set.size and st.frozen.sum() == code.n - code.k
    assert st.bit_order == "bit_reversed"       # the finding for the shipped files
    u = np.zeros((code.k, code.n), dtype=np.uint8)
    u[np.arange(code.k), st.info_set] = 1
    rows = st.encode_u(u)                       # the k generating rows, in the file's bit order
    assert code.is_codeword(rows).all()
    assert len(gf2_rref(rows)[1]) == code.k                         # independent
    assert len(gf2_rref(np.vstack([rows, code.G]))[1]) == code.k    # same space as the library's
    # noiseless decoding in both list sizes
    _, cw, _ = simulate_llrs(code, 5.0, 64, rng=np.random.default_rng(3))
    for kind in ("sc", "scl8"):
        assert np.array_equal(make_decoder(kind, code).decode(8.0 * cw - 4.0), cw)


def test_not_a_polar_code_is_refused():
    with pytest.raises(ValueError, match="not a polar code"):
        polar_structure(load_code("LDPC_N49_K24"))           # n = 49: not a power of two
    rng = np.random.default_rng(0)
    H = np.hstack([np.eye(8, dtype=np.uint8), rng.integers(0, 2, (8, 8), dtype=np.uint8)])
    with pytest.raises(ValueError, match="not a polar code"):
        SCLDecoder(code_from_matrix(H, "random16"), list_size=8)
    with pytest.raises(ValueError, match="not a polar code"):
        make_decoder("scl8", load_code("BCH_N63_K45"))


def test_bad_inputs_raise_value_error():
    code = load_code("POLAR_N64_K32")
    dec = make_decoder("scl32", code)
    assert dec.name == "scl32" and make_decoder("sc", code).name == "sc"
    good = np.zeros((2, 64), np.float32)
    for bad_value in (np.nan, np.inf, -np.inf):
        llr = good.copy()
        llr[1, 5] = bad_value
        with pytest.raises(ValueError, match="finite"):
            dec.decode(llr)
    for shape in ((2, 63), (2, 128), (2, 2, 64)):
        with pytest.raises(ValueError, match="shape"):
            dec.decode(np.zeros(shape, np.float32))
    with pytest.raises(ValueError):
        SCLDecoder(code, list_size=0)
    for kind in ("sclx", "scl0", "scl-4"):
        with pytest.raises(ValueError):
            make_decoder(kind, code)
    with pytest.raises(ValueError):                       # the kernel's own check
        from gnuradio.lmsscc import lmsscc_python as kernels
        kernels.SCLDecoderKernel([1, 0, 0], 4)
    assert dec.decode(np.full(64, 1e300)).shape == (1, 64)  # huge finite LLRs are fine
