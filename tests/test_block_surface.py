# SPDX-License-Identifier: GPL-3.0-or-later
"""The block surface a GNU Radio user sees: every block of the package is
reachable as ``from gnuradio import lmsscc`` and has one GRC YAML, written in
one style, whose parameter ids are the constructor's keywords and whose
callbacks are methods of the block; every block's stats() speaks one
vocabulary; the simulation channels' Es/N0 changes while a flowgraph runs."""

import ast
import importlib
import inspect
import json
import os
import pkgutil
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pmt
import pytest
import yaml
from gnuradio import blocks, gr

from gnuradio import lmsscc
from gnuradio.lmsscc.pdu_util import PDU_PORT, make_pdu

from flowgraph_util import compile_example

REPO = Path(__file__).resolve().parent.parent
YAMLS = sorted((REPO / "grc").glob("*.block.yml"))
CATEGORIES = ("[lmsscc]/Source coding", "[lmsscc]/Channel coding", "[lmsscc]/Link", "[lmsscc]/JSCC")
IMPORT = "from gnuradio import lmsscc"
# the one style: top-level keys and parameter keys in this order (each optional but id, label)
TOP_KEYS = ("id", "label", "category", "flags", "parameters", "inputs", "outputs", "asserts",
            "templates", "documentation", "file_format")
PARAMETER_KEYS = ("id", "label", "dtype", "default", "options", "option_labels", "hide")
TEMPLATE_KEYS = ("imports", "make", "callbacks")
# pdu_util.block_stats: the keys of every stats(), and what the block took in (one of the two)
STATS_KEYS = {"pdus_out", "failed", "failure_reasons", "dropped", "drop_reasons", "last_drop"}
INPUT_KEYS = {"pdus_in", "samples_in"}


def block_classes() -> dict:
    """name -> class of every public GNU Radio block defined in the installed package."""
    found = {}
    for info in pkgutil.walk_packages(lmsscc.__path__, lmsscc.__name__ + "."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (inspect.isclass(obj) and obj.__module__ == module.__name__ and not name.startswith("_")
                    and issubclass(obj, (gr.gateway.gateway_block, gr.hier_block2))
                    and not issubclass(obj, gr.top_block)):
                found[name] = obj
    return found


def load_yaml(path) -> dict:
    return yaml.safe_load(path.read_text())


def block_name(block_yaml: dict) -> str:
    return block_yaml["id"].removeprefix("lmsscc_")


def make_keywords(make: str) -> list[tuple[str, str]]:
    """(keyword, parameter) of each ``keyword=${parameter}`` in a make template."""
    return re.findall(r"(\w+)=\$\{\s*(\w+)\s*\}", make)


# ---------------------------------------------------------------- the package

def test_every_block_class_is_importable_from_the_package():
    classes = block_classes()
    assert set(classes) == set(lmsscc.BLOCKS), "a block missing from (or extra in) lmsscc.BLOCKS"
    for name, cls in classes.items():
        assert getattr(lmsscc, name) is cls
        assert name in dir(lmsscc)


def test_importing_the_package_stays_cheap():
    """`from gnuradio import lmsscc` (GRC runs it for every flowgraph) loads no block module,
    no torch and no transformers: they load on first use of a block."""
    code = ("import sys; from gnuradio import lmsscc; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers') "
            "or m.startswith('gnuradio.lmsscc.') and m.endswith('blocks')))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_every_block_has_a_yaml():
    assert {block_name(load_yaml(p)) for p in YAMLS} == set(lmsscc.BLOCKS)


# ---------------------------------------------------------------- one YAML per block, one style

@pytest.mark.parametrize("path", YAMLS, ids=lambda p: p.stem)
def test_yaml_imports_the_package_and_has_a_category(path):
    block = load_yaml(path)
    assert path.name == f"{block['id']}.block.yml"
    assert block["templates"]["imports"] == IMPORT
    assert block["templates"]["make"].startswith(f"lmsscc.{block_name(block)}(")
    assert block["category"] in CATEGORIES


@pytest.mark.parametrize("path", YAMLS, ids=lambda p: p.stem)
def test_yaml_has_the_one_style(path):
    block = load_yaml(path)
    assert_in_order(block, TOP_KEYS, required=("id", "label", "category", "flags", "parameters",
                                               "inputs", "outputs", "templates", "documentation",
                                               "file_format"))
    assert_in_order(block["templates"], TEMPLATE_KEYS, required=("imports", "make"))
    for parameter in block["parameters"]:
        assert_in_order(parameter, PARAMETER_KEYS, required=("id", "label", "dtype", "default"))
    assert block["flags"] == ["python"] and block["file_format"] == 1
    for port in block["outputs"]:
        assert port["domain"] == "stream" or port.get("optional") is True, "PDU outputs are optional"
    sections = path.read_text().split("\ndocumentation:")[0]
    assert "\n-   " not in sections, "lists are indented by two spaces"
    assert "\n\n\n" not in sections and not re.search(r"\n\n(- |  \w)", sections), \
        "sections are separated by one blank line, none inside a section"
    doc = block["documentation"]
    assert "Input:" in doc and "Output:" in doc, "the documentation says what goes in and comes out"


def assert_in_order(mapping: dict, order: tuple, required: tuple):
    keys = list(mapping)
    assert set(required) <= set(keys), f"missing {set(required) - set(keys)}"
    assert set(keys) <= set(order), f"unknown keys {set(keys) - set(order)}"
    assert keys == [k for k in order if k in keys], f"keys out of order: {keys}"


@pytest.mark.parametrize("path", YAMLS, ids=lambda p: p.stem)
def test_yaml_parameter_ids_are_the_constructor_keywords(path):
    block = load_yaml(path)
    constructor = inspect.signature(getattr(lmsscc, block_name(block)).__init__)
    keywords = {n for n, p in constructor.parameters.items()
                if n != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    required = {n for n in keywords if constructor.parameters[n].default is inspect.Parameter.empty}
    ids = [p["id"] for p in block["parameters"]]
    assert set(ids) <= keywords, f"YAML ids that are no constructor keyword: {set(ids) - keywords}"
    assert required <= set(ids), f"constructor keywords without default missing: {required - set(ids)}"
    passed = make_keywords(block["templates"]["make"])
    assert [k for k, _ in passed] == [v for _, v in passed], "make passes every id as its own keyword"
    assert sorted(k for k, _ in passed) == sorted(ids), "make passes every parameter, by keyword"


@pytest.mark.parametrize("path", YAMLS, ids=lambda p: p.stem)
def test_yaml_parameter_ids_are_not_reserved_by_grc_templates(path):
    """GRC renders templates with Mako, which refuses some names (`context`: why the priming
    context's keyword is `priming`); only a flowgraph using the block would show it."""
    from mako.codegen import RESERVED_NAMES

    assert not {p["id"] for p in load_yaml(path)["parameters"]} & RESERVED_NAMES


@pytest.mark.parametrize("path", YAMLS, ids=lambda p: p.stem)
def test_yaml_defaults_are_the_constructor_defaults(path):
    block = load_yaml(path)
    constructor = inspect.signature(getattr(lmsscc, block_name(block)).__init__)
    for parameter in block["parameters"]:
        default = constructor.parameters[parameter["id"]].default
        raw = parameter["default"]
        grc_value = raw if parameter["dtype"] == "string" else ast.literal_eval(str(raw))
        assert grc_value == default, f"{parameter['id']}: GRC default {raw!r}, Python {default!r}"


@pytest.mark.parametrize("path", YAMLS, ids=lambda p: p.stem)
def test_yaml_callbacks_name_methods_of_the_block(path):
    block = load_yaml(path)
    cls = getattr(lmsscc, block_name(block))
    ids = {p["id"] for p in block["parameters"]}
    for callback in block["templates"].get("callbacks", []):
        method, argument = re.fullmatch(r"(\w+)\(\$\{\s*(\w+)\s*\}\)", callback).groups()
        assert callable(getattr(cls, method, None)), f"{cls.__name__} has no method {method}"
        assert argument in ids
        assert method == f"set_{argument}", "a setter is named after its parameter"


def test_simulation_channels_have_snr_callbacks():
    for name in ("burst_channel", "jscc_channel"):
        block = load_yaml(REPO / "grc" / f"lmsscc_{name}.block.yml")
        assert "set_esn0_db(${esn0_db})" in block["templates"]["callbacks"]


# ---------------------------------------------------------------- one stats() vocabulary

@pytest.fixture(scope="module")
def every_block(tiny_lm):
    """One instance of every block, built with cheap arguments (the tiny LM)."""
    cheap = {"lm_arith_encoder": dict(model=tiny_lm), "lm_arith_decoder": dict(model=tiny_lm),
             "link_tx": dict(model=tiny_lm), "link_tx_stream": dict(model=tiny_lm),
             "link_rx": dict(model=tiny_lm), "link_rx_stream": dict(model=tiny_lm),
             "ecct_decoder": dict(threads=0)}
    return {name: getattr(lmsscc, name)(**cheap.get(name, {})) for name in lmsscc.BLOCKS}


def test_every_stats_speaks_one_vocabulary(every_block):
    for name, block in every_block.items():
        stats = block.stats()
        assert set(stats) - INPUT_KEYS == STATS_KEYS, name
        assert len(set(stats) & INPUT_KEYS) == 1, name
        assert stats["failed"] == stats["dropped"] == 0 and stats["last_drop"] == "", name


# ---------------------------------------------------------------- SNR moved while running

def noise_power(sent, received):
    """Mean power of what the channel added, after its complex gain (random carrier phase)."""
    gain = np.vdot(sent, received) / np.vdot(sent, sent)
    return float(np.mean(np.abs(received - gain * sent) ** 2))


@pytest.mark.parametrize("name", ["burst_channel", "jscc_channel"])
def test_snr_setter_changes_the_noise_of_a_running_flowgraph(name):
    channel = getattr(lmsscc, name)(esn0_db=20.0, seed=4)
    rng = np.random.default_rng(0)
    symbols = ((rng.choice([-1, 1], 20000) + 1j * rng.choice([-1, 1], 20000)) / np.sqrt(2))
    symbols = symbols.astype(np.complex64)
    tb = gr.top_block()
    sink = blocks.message_debug()
    tb.msg_connect(channel, "pdus", sink, "store")
    tb.start()
    measured = []
    try:
        for esn0_db in (20.0, 0.0, 20.0):
            channel.set_esn0_db(esn0_db)
            channel._post(PDU_PORT, make_pdu({}, symbols, "c32"))
            deadline = time.monotonic() + 30
            while sink.num_messages() <= len(measured) and time.monotonic() < deadline:
                time.sleep(0.01)
            received = np.asarray(pmt.c32vector_elements(pmt.cdr(sink.get_message(len(measured)))))
            measured.append(noise_power(symbols, received))
    finally:
        tb.stop()
        tb.wait()
    np.testing.assert_allclose(measured, [0.01, 1.0, 0.01], rtol=0.1)


@pytest.mark.parametrize("name", ["burst_channel", "jscc_channel"])
def test_snr_setter_refuses_what_is_not_a_finite_number(name):
    channel = getattr(lmsscc, name)(esn0_db=5.0)
    for bad in (float("nan"), float("inf"), "loud", None):
        with pytest.raises(ValueError, match="esn0_db"):
            channel.set_esn0_db(bad)
    assert channel.esn0_db == 5.0


SLIDER_DRIVER = textwrap.dedent("""
    import json, sys, time
    from PyQt5 import Qt
    from gnuradio.lmsscc.pdu_util import PDU_PORT, make_pdu
    sys.path.insert(0, sys.argv[1])
    from link_loopback_slider import link_loopback_slider

    app = Qt.QApplication([])
    tb = link_loopback_slider(model=sys.argv[2])
    tb.msg_disconnect(tb.strobe, "strobe", tb.tx, "pdus")  # the test sends its own messages
    tb.start()
    phases = []
    for esn0 in (12.0, -10.0, 12.0):
        tb.set_esn0(esn0)  # what the slider calls
        before = tb.rx.stats()
        for i in range(3):
            text = f"message {i} at {esn0} dB"
            tb.tx._post(PDU_PORT, make_pdu({}, bytearray(text.encode()), "u8"))
        deadline = time.monotonic() + 120
        while tb.rx.stats()["pdus_out"] < before["pdus_out"] + 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        after = tb.rx.stats()
        phases.append(dict(esn0_db=tb.channel.esn0_db, reports=after["pdus_out"] - before["pdus_out"],
                           failed=after["failed"] - before["failed"]))
    tb.stop()
    tb.wait()
    print(json.dumps(phases))
""")


def test_slider_moves_the_cliff_of_a_running_link(tmp_path, tiny_model_dir):
    """examples/link_loopback_slider.grc as GRC generates it, run headless (Qt offscreen): the
    slider's setter reaches the burst channel; messages fail far below the cliff and arrive
    again once the slider is back up."""
    pytest.importorskip("PyQt5")
    script = compile_example("link_loopback_slider", tmp_path)
    assert "self.channel.set_esn0_db(self.esn0)" in script.read_text()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path))
    r = subprocess.run([sys.executable, "-c", SLIDER_DRIVER, str(script.parent), str(tiny_model_dir)],
                       capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    phases = json.loads(r.stdout.strip().splitlines()[-1])
    assert [p["esn0_db"] for p in phases] == [12.0, -10.0, 12.0]
    assert [p["reports"] for p in phases] == [3, 3, 3], phases
    assert [p["failed"] for p in phases] == [0, 3, 0], phases
