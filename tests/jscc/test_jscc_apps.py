# SPDX-License-Identifier: GPL-3.0-or-later
"""train/train_jscc.py (tiny budget, checkpoint/resume) and bench/bench_link.py --quick."""

import json
from pathlib import Path

import pytest

from testutil import run_app

CORPORA = Path(__file__).resolve().parents[2] / ".cache" / "corpora"
needs_corpora = pytest.mark.skipif(not (CORPORA / "lee_background.cor").exists(),
                                   reason="corpora missing: run `make data`")


@needs_corpora
def test_train_checkpoint_resume_and_load(tmp_path):
    from gnuradio.lmsscc.jscc import io

    stem = tmp_path / "jscc_tiny"
    common = ["--out", stem, "--checkpoint", tmp_path / "ckpt", "--d-model", 32, "--layers", 1, "--ff", 64,
              "--words", 300, "--batch", 16, "--eval-sentences", 8, "--checkpoint-minutes", 0.01]
    r = run_app("train_jscc.py", "--minutes", 0.05, *common, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    first = json.loads((tmp_path / "ckpt.ckpt.json").read_text())
    r = run_app("train_jscc.py", "--minutes", 0.1, "--resume", *common, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "resumed at step" in r.stderr
    second = json.loads((tmp_path / "ckpt.ckpt.json").read_text())
    assert second["samples"] > first["samples"]
    model, vocab, card = io.load_jscc(stem)
    assert card["training"]["samples_seen"] == second["samples"]
    assert {(m["channel"], m["fading"]) for m in card["test_metrics"]} == {("awgn", "none"), ("rayleigh", "block")}
    assert model.cfg.d_model == 32 and len(vocab) == model.cfg.vocab_size


@needs_corpora
@pytest.mark.skipif(not __import__("gnuradio.lmsscc.jscc.io", fromlist=["x"]).resolve()
                    .with_suffix(".json").exists(), reason="shipped JSCC weights missing")
def test_bench_link_quick_writes_every_scheme(tmp_path):
    out = tmp_path / "bench.json"
    # --lm tiny: the plumbing only (the 135M model takes minutes under load); see docs/results.md.
    r = run_app("bench_link.py", "--quick", "--lm", "tiny", "--sentences", 3, "--trials", 1,
                "--snrs", -4, 20, "--no-similarity", "--json", out, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    records = json.loads(out.read_text())
    keys = {"scheme", "channel", "snr_db", "energy_per_char_db", "sentences", "exact", "bleu1", "bleu4",
            "cer", "similarity", "channel_uses"}
    assert all(keys <= set(r) for r in records)
    assert {r["scheme"] for r in records} == {"lm-sscc-auto", "lm-sscc-bp", "classic-sscc-auto", "jscc"}
    # "auto" is recorded as the decoder it stands for on LDPC(49,24)
    assert {r["decoder"] for r in records if r["scheme"].endswith("-auto")} == {"osd2"}
    assert {(r["channel"], r["fading"]) for r in records} == {("awgn", "none"), ("rayleigh", "block")}
    assert len(records) == 4 * 2 * 2
    jscc = [r for r in records if r["scheme"] == "jscc"]
    assert all(r["channel_uses"] == 256 for r in jscc)
    # The charge for analog symbols: 32 bits' worth of energy per channel use.
    assert all(abs(r["energy_per_char_db"] - r["energy_per_char_uncharged_db"] - 15.05) < 0.02 for r in jscc)
    for r in records:
        if r["scheme"] == "classic-sscc-auto" and r["channel"] == "awgn":
            assert r["exact"] == (1.0 if r["snr_db"] == 20 else 0.0)  # digital cliff: all or nothing here
