# SPDX-License-Identifier: GPL-3.0-or-later
"""Smoke tests of train/train_ecct.py (train, checkpoint, resume, export) and bench/bench_fec.py."""
import importlib.util
import json
from pathlib import Path

import numpy as np

from testutil import script_path
FIELDS = {"code", "channel", "fading", "decoder", "ebn0_db", "frames", "frame_errors", "bit_errors", "ber", "bler",
          "neg_ln_ber", "codewords_per_s", "fer", "ber_coded", "coded_bit_errors", "neg_ln_ber_coded",
          "fer_limit_normal_approx"}


def load_app(name):
    spec = importlib.util.spec_from_file_location(name, script_path(name))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_train_resume_and_load(tmp_path):
    train = load_app("train_ecct")
    stem = tmp_path / "tiny"
    common = ["--code", "BCH_N31_K16", "--layers", "1", "--d-model", "8", "--heads", "2", "--out", str(stem),
              "--eval-ebn0", "5", "--eval-frames", "200", "--batch", "32"]
    train.main(common + ["--steps", "6"])
    card = json.loads(stem.with_suffix(".json").read_text())
    assert card["training"]["steps"] == 6 and card["training"]["samples_seen"] == 6 * 32
    assert card["code"] == "BCH_N31_K16" and len(card["code_sha256"]) == 64
    train.main(common + ["--steps", "10", "--resume"])              # continues from the checkpoint
    card = json.loads(stem.with_suffix(".json").read_text())
    assert card["training"]["steps"] == 10
    from gnuradio.lmsscc.fec.decoders import ECCTDecoder
    dec = ECCTDecoder(str(stem.with_suffix(".safetensors")))
    assert dec.decode(np.ones((3, 31), np.float32)).shape == (3, 31)


def test_bench_records_have_the_documented_fields(tmp_path):
    bench = load_app("bench_fec")
    out = tmp_path / "r.json"
    bench.main(["--code", "LDPC_N49_K24", "--ebn0", "3", "--decoders", "uncoded", "hard", "bp",
                "--max-frames", "500", "--json", str(out), "--plot", str(tmp_path / "p.png")])
    recs = json.loads(out.read_text())
    assert [r["decoder"] for r in recs] == ["uncoded", "hard", "bp"]
    for r in recs:
        assert FIELDS <= set(r)
        assert r["frames"] <= 500 and abs(r["ber"] - r["bit_errors"] / (r["frames"] * 24)) < 1e-12
        assert r["fer"] == r["bler"] == r["frame_errors"] / r["frames"]
        n_bits = 24 if r["decoder"] == "uncoded" else 49          # uncoded sends the info bits only
        assert abs(r["ber_coded"] - r["coded_bit_errors"] / (r["frames"] * n_bits)) < 1e-12
        assert 0 < r["fer_limit_normal_approx"] < r["fer"]        # nobody beats the (49,24) limit
    assert recs[2]["ber"] < recs[1]["ber"]                           # BP beats hard decisions
    assert (tmp_path / "p.png").stat().st_size > 1000
    assert {(r["channel"], r["fading"]) for r in recs} == {("awgn", "none")}


def test_bench_fading_modes_are_recorded_and_cost_what_fading_costs(tmp_path):
    bench = load_app("bench_fec")
    fer = {}
    for fading in ("none", "block", "fast"):
        recs = bench.main(["--code", "LDPC_N49_K24", "--ebn0", "4", "--decoders", "bp", "--fading", fading,
                           "--max-frames", "2000", "--min-frame-errors", "2000"])
        label = "awgn" if fading == "none" else "rayleigh"
        assert [(r["channel"], r["fading"]) for r in recs] == [(label, fading)]
        fer[fading] = recs[0]["fer"]
    # At 4 dB: AWGN ~1e-2; per-symbol fading (diversity inside the codeword) in between; one gain
    # per codeword (no diversity) worst.
    assert fer["none"] < fer["fast"] < fer["block"]


def test_bench_polar_with_scl_and_tables(tmp_path, capsys):
    bench = load_app("bench_fec")
    recs = bench.main(["--code", "POLAR_N64_K32", "--ebn0", "3", "--decoders", "bp", "sc", "scl8",
                       "--max-frames", "400", "--min-frame-errors", "400", "--table"])
    fer = {r["decoder"]: r["fer"] for r in recs}
    assert fer["scl8"] <= fer["sc"] < fer["bp"]
    out = capsys.readouterr().out
    assert "| scl8 |" in out and "limit (64,32), FER" in out
