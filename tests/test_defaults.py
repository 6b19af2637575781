# SPDX-License-Identifier: GPL-3.0-or-later
"""The defaults are the best measured settings (issue 13): the engine chooser,
"auto" and the lean header wherever link and radio messages are made, and
the older formats still decodable when both ends ask for them."""

import inspect
import struct
from pathlib import Path

import pytest
import yaml

from gnuradio.lmsscc.phy import blocks as phy_blocks
from gnuradio.lmsscc.phy.radio import LoopbackLink
from gnuradio.lmsscc.source import blocks as source_blocks
from gnuradio.lmsscc.source.models.loader import choose_engine, default_gguf_path, resolve_engine

from testutil import installed_grc_dir, run_app

REPO = Path(__file__).resolve().parent.parent


def _fake_gguf(path, architecture, keys_before=()):
    """A GGUF header with a few metadata keys (no tensors): enough for the chooser."""
    def string(s):
        return struct.pack("<Q", len(s)) + s.encode()

    kv = b""
    for key in keys_before:  # an array of strings and a uint32 before the architecture
        kv += string(key) + struct.pack("<IIQ", 9, 8, 2) + string("a") + string("bc")
        kv += string(key + ".n") + struct.pack("<II", 4, 7)
    kv += string("general.architecture") + struct.pack("<I", 8) + string(architecture)
    n_kv = 2 * len(keys_before) + 1
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, n_kv) + kv)
    return str(path)


def test_choose_engine(tmp_path, tiny_model_dir):
    assert choose_engine(None) == choose_engine("default") == "native"
    assert choose_engine(str(default_gguf_path())) == "native"
    assert choose_engine(_fake_gguf(tmp_path / "l.gguf", "llama", ["tokenizer.x"])) == "native"
    assert choose_engine(_fake_gguf(tmp_path / "g.gguf", "gpt2")) == "hf"
    assert choose_engine(str(tiny_model_dir)) == "hf"  # a Hugging Face folder
    assert choose_engine(str(tmp_path / "missing.gguf")) == "hf"
    (tmp_path / "junk.gguf").write_bytes(b"not a gguf")
    assert choose_engine(str(tmp_path / "junk.gguf")) == "hf"
    assert resolve_engine("hf", None) == "hf" and resolve_engine("auto", None) == "native"
    with pytest.raises(ValueError, match="unknown engine"):
        resolve_engine("fast", None)


@pytest.mark.parametrize("block", [phy_blocks.link_tx, phy_blocks.link_tx_stream, phy_blocks.link_rx,
                                   phy_blocks.link_rx_stream, LoopbackLink])
def test_link_defaults_are_auto_and_lean(block):
    params = inspect.signature(block).parameters
    assert params["engine"].default == "auto"
    assert params["header_format"].default == "lean"


@pytest.mark.parametrize("block", [source_blocks.lm_arith_encoder, source_blocks.lm_arith_decoder])
def test_codec_blocks_default_to_auto(block):
    assert inspect.signature(block).parameters["engine"].default == "auto"


def test_grc_defaults():
    for path in sorted((REPO / "grc").glob("lmsscc_l[im]*_*.block.yml")):
        params = {p["id"]: p for p in yaml.safe_load(path.read_text())["parameters"]}
        if "engine" in params:
            assert params["engine"]["default"] == "'auto'", path.name
        if path.name.startswith("lmsscc_link_") and "header_format" in params:
            assert params["header_format"]["default"] == "'lean'", path.name
    assert installed_grc_dir().is_dir()


@pytest.mark.parametrize("header_format", ["standard", "compact", "lean"])
def test_every_format_still_crosses_the_link(tiny_lm, header_format):
    link = LoopbackLink(model=tiny_lm, esn0_db=15, header_format=header_format)
    try:
        meta, data = link.send("an older format, asked for at both ends", timeout=60)
    finally:
        link.close()
    assert meta["crc_ok"] and data.decode() == "an older format, asked for at both ends"
    assert link.tx.codec.version == {"standard": 1, "compact": 2, "lean": 3}[header_format]


def test_apps_say_which_engine_and_format(tiny_model_dir):
    r = run_app("tx_text.py", "--model", str(tiny_model_dir), "--snr", "12", "hi there", timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"tx_text: LM engine hf ({tiny_model_dir}), message format 3 (lean)" in r.stderr


def test_demo_runs_native_lean_and_compares_with_the_previous_defaults():
    """`make demo`: the native engine and the lean header, said so; smaller and
    faster than the recorded run of the previous defaults (hf, standard)."""
    r = run_app("demo.py", timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    out = r.stdout
    assert "LM engine native (smollm2-135m-instruct-q4_1), message format 3 (lean)" in out
    assert "Against the previous defaults (hf engine, standard header" in out
    lm_line = next(line for line in out.splitlines() if line.strip().startswith("LM message"))
    assert "(smaller" in lm_line
    code_line = next(line for line in out.splitlines() if line.strip().startswith("code + decode"))
    assert "(faster" in code_line
