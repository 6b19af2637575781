# SPDX-License-Identifier: GPL-3.0-or-later
"""End-to-end checks with the real embedded model (SmolLM2-135M): few and short,
since it codes ~18 tokens/s on one core."""

import json

from testutil import run_app

SENTENCE = ("The European Parliament adjourned its session on Friday, and the President "
            "wished members a happy new year.")


def test_default_model_compresses_prose(default_lm):
    from gnuradio.lmsscc.source import LMCodec

    codec = LMCodec(default_lm)
    r = codec.encode(SENTENCE)
    assert codec.decode(r.message).text == SENTENCE
    # The model is a real compressor: well under 2 bits/char on prose even with
    # the 72-bit header (xz needs > 7 on a sentence this short).
    assert r.payload_bits / len(SENTENCE) < 1.6
    assert r.coded_bits / len(SENTENCE) < 2.2


def test_encode_in_one_process_decode_in_another(tmp_path):
    src, packed, out = tmp_path / "s.txt", tmp_path / "s.lmz", tmp_path / "o.txt"
    src.write_text(SENTENCE + "\nÇa marche aussi en français — 🚀\n", encoding="utf-8")
    r = run_app("lm_zip.py", "compress", src, packed, "--stats", "--quiet")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["model"] == "smollm2-135m-instruct-q4_1"
    r = run_app("lm_zip.py", "decompress", packed, out, "--quiet")
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == src.read_bytes()


def test_demo_runs():
    r = run_app("demo.py", "--text", "Short demo message.")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Round trip exact." in r.stdout
