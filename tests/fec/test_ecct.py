# SPDX-License-Identifier: GPL-3.0-or-later
"""ECCT model: structure, training step, codeword symmetry, shipped weights."""
import json

import numpy as np
import pytest
import torch

from gnuradio.lmsscc.fec import hard_decision, load_code, simulate_llrs
from gnuradio.lmsscc.fec.decoders import ECCTDecoder, HybridBPECCT
from gnuradio.lmsscc.fec.ecct import ECCT, ECCTConfig, attention_mask, flip_targets, llr_to_reliability
from gnuradio.lmsscc.fec.weights import WEIGHTS_DIR, shipped_weights

from testutil import script_path


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
    from gnuradio.lmsscc.fec import BPDecoder
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


# --- the paper variant (Choukroun & Wolf 2022) beside the legacy model -------------------------------

HAMMING74_H = np.array([[1, 1, 0, 1, 1, 0, 0],
                        [1, 0, 1, 1, 0, 1, 0],
                        [0, 1, 1, 1, 0, 0, 1]], dtype=np.uint8)

# Positions 0-6 are the variables, 7-9 the checks. Written out by hand from H above: a variable sees
# the variables it shares a check with and its own checks; a check sees its variables and itself.
HAMMING74_PAPER_MASK = """
1111110110
1111101101
1111011011
1111111111
1101100100
1011010010
0111001001
1101100100
1011010010
0111001001
"""


def _mask_from_text(text):
    return np.array([[c == "1" for c in row] for row in text.split()], dtype=bool)


def test_paper_mask_pinned_on_hamming74():
    expected = _mask_from_text(HAMMING74_PAPER_MASK)
    np.testing.assert_array_equal(attention_mask(HAMMING74_H, "paper").numpy(), expected)
    # Legacy also lets checks that share a variable attend to each other; all three checks of this
    # code share variable 3, so its check-check block is full. Nothing else differs.
    legacy = attention_mask(HAMMING74_H, "legacy").numpy()
    assert legacy[7:, 7:].all()
    legacy[7:, 7:] = np.eye(3, dtype=bool)
    np.testing.assert_array_equal(legacy, expected)


def test_unknown_variant_is_a_clear_error():
    with pytest.raises(ValueError, match="variant"):
        ECCTConfig(n=7, m=3, variant="papr")
    with pytest.raises(ValueError, match="variant"):
        attention_mask(HAMMING74_H, "papr")


def _paper_model(code, layers=2, d_model=32, heads=8):
    torch.manual_seed(0)
    return ECCT(ECCTConfig(n=code.n, m=code.H.shape[0], layers=layers, d_model=d_model, heads=heads,
                           variant="paper"), code.H)


def test_paper_variant_uses_glorot_uniform_initialisation():
    code = load_code("POLAR_N64_K32")
    model = _paper_model(code)
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert len(linears) == 2 * 4 + 2                      # qkv, out, 2 ffn per layer; head, to_bits
    for weight in [m.weight.detach() for m in linears if m.weight.numel() >= 1000] + [model.embedding.detach()]:
        fan_out, fan_in = weight.shape
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        assert float(weight.abs().max()) <= bound
        assert abs(float(weight.std()) - bound / np.sqrt(3.0)) < 0.1 * bound / np.sqrt(3.0)
    assert all(float(m.bias.detach().abs().max()) == 0.0 for m in linears)
    legacy = tiny(code)                                   # N(0, 1) embedding: far outside the bound
    assert float(legacy.embedding.detach().std()) > 0.5


def test_paper_variant_has_one_mid_stack_layernorm():
    code = load_code("LDPC_N49_K24")
    assert _paper_model(code, layers=1, d_model=8, heads=2).mid_index is None
    model = _paper_model(code, layers=4, d_model=16, heads=8)
    assert model.mid_index == 1                           # after the first half: layers 0 and 1
    calls = []
    model.layers[1].register_forward_hook(lambda *a: calls.append("layer1"))
    model.mid_norm.register_forward_hook(lambda *a: calls.append("mid_norm"))
    model.layers[2].register_forward_hook(lambda *a: calls.append("layer2"))
    model(torch.randn(3, code.n))
    assert calls == ["layer1", "mid_norm", "layer2"]
    assert not any(k.startswith("mid_norm") for k in tiny(code).state_dict())   # legacy unchanged


def test_paper_variant_keeps_codeword_symmetry_and_trains():
    code = load_code("LDPC_N49_K24")
    model = _paper_model(code, layers=2, d_model=16, heads=8)
    rng = np.random.default_rng(5)
    noise = 0.7 * rng.standard_normal((16, code.n))
    cw = code.encode(rng.integers(0, 2, (16, code.k)))
    llr_zero = 2.0 * (-1.0 + noise)
    with torch.no_grad():
        a = model(llr_to_reliability(torch.from_numpy(llr_zero).float()))
        b = model(llr_to_reliability(torch.from_numpy((1.0 - 2.0 * cw) * llr_zero).float()))
    torch.testing.assert_close(a, b)


def _load_train_app():
    import importlib.util
    path = script_path("train_ecct")
    spec = importlib.util.spec_from_file_location("train_ecct", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("clip", [1.0, 0.0])
def test_gradient_clipping_reaches_the_optimizer(clip):
    train = _load_train_app()
    code = load_code("LDPC_N49_K24")
    model = _paper_model(code, layers=1, d_model=16, heads=8)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    seen = []
    real_step = opt.step

    def recording_step(*args, **kwargs):
        grads = [p.grad.flatten() for p in model.parameters() if p.grad is not None]
        seen.append(float(torch.cat(grads).norm()))
        return real_step(*args, **kwargs)

    opt.step = recording_step
    gen = torch.Generator().manual_seed(0)
    reliab, target = train.sample_batch(64, code.n, code.rate, 2.0, 7.0, "none", gen, "cpu")
    train.train_step(model, opt, reliab, target, clip, torch.autocast("cpu", enabled=False),
                     loss_scale=1e6)
    if clip > 0:
        assert seen[0] <= clip * (1 + 1e-4)
    else:
        assert seen[0] > 100.0                             # the huge loss scale does reach Adam


# Reference outputs of the first shipped weights, taken before the paper variant existed: SHA-256
# (first 16 hex digits) of the decoded bits of 256 frames at 5 dB (numpy seed 77) and mean |logit|.
# (The first Polar(64,32) weights, reference 6def1c1bcf2fe832 / 8.9106, were replaced by their
# fine-tuned successor, whose card records variant "legacy" explicitly.)
LEGACY_REFERENCE = {
    "ecct_LDPC_N49_K24_awgn": ("5b49fe63141222d1", 11.73294734954834),
    "ecct_LDPC_N49_K24_rayleigh": ("921fbdbf63bbd3f7", 14.39027214050293),
}


@pytest.mark.parametrize("name", sorted(LEGACY_REFERENCE))
def test_old_cards_load_as_legacy_and_decode_as_before(name):
    import hashlib
    card = json.loads((WEIGHTS_DIR / f"{name}.json").read_text())
    assert "variant" not in card["config"]                # written before the field existed
    dec = ECCTDecoder(name)
    assert dec.model.cfg.variant == "legacy"
    _, _, llr = simulate_llrs(dec.code, 5.0, 256, rng=np.random.default_rng(77))
    bits, logits = dec.decode_with_logits(llr)
    digest, mean_abs = LEGACY_REFERENCE[name]
    assert hashlib.sha256(bits.tobytes()).hexdigest()[:16] == digest
    assert abs(float(np.abs(logits).mean()) - mean_abs) < 1e-4 * mean_abs


def test_new_cards_record_the_variant_and_reload_it(tmp_path):
    train = _load_train_app()
    stem = tmp_path / "paper_tiny"
    train.main(["--code", "BCH_N31_K16", "--variant", "paper", "--layers", "2", "--d-model", "16",
                "--steps", "4", "--batch", "16", "--eval-ebn0", "5", "--eval-frames", "64", "--bf16",
                "--out", str(stem)])
    card = json.loads(stem.with_suffix(".json").read_text())
    assert card["config"]["variant"] == "paper" and card["config"]["heads"] == 8
    assert card["training"]["grad_clip_norm"] == 1.0 and card["training"]["bf16_autocast"] is True
    dec = ECCTDecoder(str(stem))
    assert dec.model.cfg.variant == "paper" and dec.model.mid_index == 0
    assert dec.decode(np.ones((2, 31), np.float32)).shape == (2, 31)


def test_gpu_training_script_runs_on_cpu_with_a_tiny_budget(tmp_path):
    """bench/gpu_train_ecct.sh end to end on the CPU: checkpoint, weights + card, run record."""
    import os
    import subprocess
    from pathlib import Path
    script = Path(__file__).resolve().parents[2] / "bench" / "gpu_train_ecct.sh"
    env = dict(os.environ, OUT=str(tmp_path), DEVICE="cpu", MINUTES="0.03", LAYERS="1", D_MODEL="8",
               HEADS="2", BATCH="64", EVAL_FRAMES="3000", BP_FRAMES="200", THREADS="1", LIMIT_S="300")
    run = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    stem = tmp_path / "ecct_LDPC_N49_K24_awgn_gpu"
    for suffix in (".safetensors", ".json", ".ckpt.safetensors"):
        assert Path(f"{stem}{suffix}").stat().st_size > 0
    assert (tmp_path / "train.log").stat().st_size > 0
    record = json.loads((tmp_path / "ecct_gpu_record.json").read_text())
    assert {"command", "weights", "card", "code", "config", "parameters", "training", "final_metrics",
            "device_name", "torch"} <= set(record)
    assert record["config"]["variant"] == "paper" and record["training"]["bf16_autocast"] is True
    assert record["training"]["samples_seen"] > 0 and record["training"]["samples_per_s"] > 0
    points = record["final_metrics"]["points"]
    assert sorted({(p["decoder"], p["ebn0_db"]) for p in points}) == \
        [(d, e) for d in ("bp50", "ecct") for e in (4.0, 5.0, 6.0)]
    for p in points:
        assert {"frames", "bit_errors", "neg_ln_ber"} <= set(p)
        assert p["frames"] == (3000 if p["decoder"] == "ecct" else 200)
    ecct = [p for p in points if p["decoder"] == "ecct"]
    assert all({"frame_errors", "ber", "codewords_per_s"} <= set(p) for p in ecct)
    card = json.loads(Path(f"{stem}.json").read_text())
    assert card["config"] == record["config"]


def test_training_can_start_from_shipped_weights(tmp_path):
    """--init-from keeps the card's architecture (here a legacy card) and records where it started."""
    train = _load_train_app()
    stem = tmp_path / "warm"
    train.main(["--code", "LDPC_N49_K24", "--init-from", "ecct_LDPC_N49_K24_awgn", "--layers", "6",
                "--steps", "2", "--batch", "16", "--clip-grad", "1.0", "--eval-ebn0", "6",
                "--eval-frames", "64", "--eval-decoders", "ecct", "--out", str(stem)])
    card = json.loads(stem.with_suffix(".json").read_text())
    shipped = json.loads((WEIGHTS_DIR / "ecct_LDPC_N49_K24_awgn.json").read_text())
    assert card["config"] == {**shipped["config"], "variant": "legacy"}     # not the --layers given
    assert card["training"]["init_from"]["samples_seen"] == shipped["training"]["samples_seen"]
    assert [p["decoder"] for p in card["final_metrics"]["points"]] == ["ecct"]
    with pytest.raises(SystemExit, match="trained for"):
        train.main(["--code", "POLAR_N64_K32", "--init-from", "ecct_LDPC_N49_K24_awgn", "--steps", "1",
                    "--out", str(tmp_path / "bad")])
