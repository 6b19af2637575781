"""ECCT model: structure, training step, codeword symmetry, shipped weights."""
import json

import numpy as np
import pytest
import torch

from gnuradio.lmsscc.channel import hard_decision, load_code, simulate_llrs
from gnuradio.lmsscc.channel.decoders import ECCTDecoder, HybridBPECCT
from gnuradio.lmsscc.channel.ecct import ECCT, ECCTConfig, attention_mask, flip_targets, llr_to_reliability
from gnuradio.lmsscc.channel.weights import WEIGHTS_DIR, shipped_weights


def tiny(code):
    torch.manual_seed(0)
    return ECCT(ECCTConfig(n=code.n, m=code.H.shape[0], layers=1, d_model=8, heads=2), code.H)


def test_attention_mask_follows_tanner_graph():
    code = load_code("LDPC_N49_K24")
    n, m = code.n, code.H.shape[0]
    allowed = attention_mask(code.H).numpy()
    assert allowed.shape == (n + m, n + m)
    assert (allowed == allowed.T).all() and allowed.diagonal().all()
    checks, variables = np.nonzero(code.H)
    assert allowed[variables, n + checks].all()               # every edge of H
    v0_checks = np.flatnonzero(code.H[:, 0])
    v0_neighbours = np.flatnonzero(code.H[v0_checks].any(axis=0))
    np.testing.assert_array_equal(np.flatnonzero(allowed[0, :n]), v0_neighbours)
    assert allowed.mean() < 0.6                               # a real restriction, not all-to-all


def test_tiny_untrained_forward_and_backward():
    code = load_code("LDPC_N49_K24")
    model = tiny(code)
    _, cw, llr = simulate_llrs(code, 3.0, 16, rng=np.random.default_rng(0))
    reliab = llr_to_reliability(torch.from_numpy(llr).float())
    logits = model(reliab)
    assert logits.shape == (16, code.n)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, flip_targets(reliab, torch.from_numpy(cw).float()))
    loss.backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0


def test_output_does_not_depend_on_the_sent_codeword():
    """Why all-zero training is enough: same noise, different codeword -> same flip logits."""
    code = load_code("LDPC_N49_K24")
    model = tiny(code).eval()
    rng = np.random.default_rng(1)
    noise = 0.7 * rng.standard_normal((32, code.n))
    cw = code.encode(rng.integers(0, 2, (32, code.k)))
    llr_zero = 2.0 * (-1.0 + noise)                               # all-zero word, symbols -1
    # Sign-symmetric channel: y_c = -s * y_0 with s = 2c - 1 has the law of sending c (noise -z ~ z).
    flip = 1.0 - 2.0 * cw
    llr_c = flip * llr_zero
    with torch.no_grad():
        a = model(llr_to_reliability(torch.from_numpy(llr_zero).float()))
        b = model(llr_to_reliability(torch.from_numpy(llr_c).float()))
    torch.testing.assert_close(a, b)


def test_llr_scale_invariance():
    code = load_code("LDPC_N49_K24")
    model = tiny(code).eval()
    _, _, llr = simulate_llrs(code, 4.0, 8, rng=np.random.default_rng(2))
    x = torch.from_numpy(llr).float()
    with torch.no_grad():
        torch.testing.assert_close(model(llr_to_reliability(x)), model(llr_to_reliability(3.7 * x)))


SHIPPED = shipped_weights()


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_weights_have_cards_matching_their_code(name):
    card = json.loads((WEIGHTS_DIR / f"{name}.json").read_text())
    code = load_code(card["code"])
    assert card["code_sha256"] == code.sha256
    assert (WEIGHTS_DIR / f"{name}.safetensors").stat().st_size < 5_000_000
    dec = ECCTDecoder(name)
    _, cw, llr = simulate_llrs(code, 8.0, 200, rng=np.random.default_rng(3))
    bits = dec.decode(llr)
    assert np.mean(bits != cw) < np.mean(hard_decision(llr) != cw)   # better than no decoding


def _seven_db_batch(code):
    return simulate_llrs(code, 7.0, 3000, rng=np.random.default_rng(2024))


def test_shipped_ldpc49_hybrid_decoder_at_7db():
    code = load_code("LDPC_N49_K24")
    info, _, llr = _seven_db_batch(code)
    bits = HybridBPECCT("ecct_LDPC_N49_K24_awgn").decode(llr)
    assert np.mean(code.extract_info(bits) == info) >= 0.999


def test_shipped_ldpc49_pure_ecct_at_7db():
    code = load_code("LDPC_N49_K24")
    info, _, llr = _seven_db_batch(code)
    ber = np.mean(code.extract_info(ECCTDecoder("ecct_LDPC_N49_K24_awgn").decode(llr)) != info)
    ber_hard = np.mean(code.extract_info(hard_decision(llr)) != info)
    assert ber_hard > 0.005                    # the channel did corrupt bits (~1.3 % at 7 dB)
    assert 1.0 - ber >= 0.999                  # the transformer alone corrects them


def test_hybrid_keeps_bp_successes_and_only_returns_codewords_or_bp_output():
    from gnuradio.lmsscc.channel import BPDecoder
    code = load_code("LDPC_N49_K24")
    _, _, llr = simulate_llrs(code, 3.0, 1500, rng=np.random.default_rng(11))
    bp_bits = BPDecoder(code.H).decode(llr)[0]
    hyb = HybridBPECCT("ecct_LDPC_N49_K24_awgn")
    bits = hyb.decode(llr)
    ok_bp = code.is_codeword(bp_bits)
    assert (~ok_bp).sum() > 10                                   # 3 dB: BP fails on some frames
    np.testing.assert_array_equal(bits[ok_bp], bp_bits[ok_bp])   # BP successes are untouched
    changed = (bits != bp_bits).any(axis=1)
    assert code.is_codeword(bits[changed]).all()                 # replacements are codewords
    assert hyb.last_rescued == changed.sum() > 0
